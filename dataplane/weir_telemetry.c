#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_telemetry.h>

#include "weir_telemetry.h"

/* "/weir/counters[,WORKER]": the .def counters and dead letters by reason,
 * summed over the workers or for one, beside DPDK's own telemetry. */
static const struct weir_info *telemetry_info;

static int
telemetry_counters(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	const struct weir_info *info = telemetry_info;
	struct weir_worker_counters sum;
	if (params && *params) {
		char *end;
		unsigned long w = strtoul(params, &end, 10);
		if (*end || w >= info->n_workers)
			return -EINVAL;
		weir_counters_sum(&info->workers[w], 1, &sum);
	} else {
		weir_counters_sum(info->workers, info->n_workers, &sum);
	}
	rte_tel_data_start_dict(d);
	for (unsigned c = 0; c < WEIR_CTR_MAX; c++)
		rte_tel_data_add_dict_u64(d, weir_counter_names[c], weir_counter_get(&sum, c));
	for (unsigned r = 1; r < WEIR_DL_MAX; r++) {
		char name[RTE_TEL_MAX_STRING_LEN];
		snprintf(name, sizeof(name), "dead_letter_%s", weir_dead_letter_names[r]);
		rte_tel_data_add_dict_u64(d, name, sum.dead_letter[r]);
	}
	return 0;
}

int
weir_telemetry_register(const struct weir_info *info)
{
	telemetry_info = info;
	return rte_telemetry_register_cmd("/weir/counters", telemetry_counters,
					  "weir's counters, all workers or one. Parameters: int worker");
}
