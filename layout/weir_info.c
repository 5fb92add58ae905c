#include <stdio.h>
#include <string.h>

#include "weir_info.h"

const char *const weir_counter_names[WEIR_CTR_MAX] = {
#define WEIR_COUNTER(name, help) #name,
#define WEIR_GAUGE WEIR_COUNTER
#define WEIR_COUNTER_NS WEIR_COUNTER
#include "weir_counters.def"
#undef WEIR_COUNTER_NS
#undef WEIR_GAUGE
#undef WEIR_COUNTER
};
const char *const weir_counter_help[WEIR_CTR_MAX] = {
#define WEIR_COUNTER(name, help) help,
#define WEIR_GAUGE WEIR_COUNTER
#define WEIR_COUNTER_NS WEIR_COUNTER
#include "weir_counters.def"
#undef WEIR_COUNTER_NS
#undef WEIR_GAUGE
#undef WEIR_COUNTER
};
const bool weir_counter_is_gauge[WEIR_CTR_MAX] = {
#define WEIR_COUNTER(name, help) false,
#define WEIR_GAUGE(name, help) true,
#define WEIR_COUNTER_NS WEIR_COUNTER
#include "weir_counters.def"
#undef WEIR_COUNTER_NS
#undef WEIR_GAUGE
#undef WEIR_COUNTER
};
const bool weir_counter_is_ns[WEIR_CTR_MAX] = {
#define WEIR_COUNTER(name, help) false,
#define WEIR_GAUGE WEIR_COUNTER
#define WEIR_COUNTER_NS(name, help) true,
#include "weir_counters.def"
#undef WEIR_COUNTER_NS
#undef WEIR_GAUGE
#undef WEIR_COUNTER
};
/* The counter block is read as an array of u64 by index. */
_Static_assert(offsetof(struct weir_worker_counters, dead_letter) == WEIR_CTR_MAX * sizeof(uint64_t),
	       "counters.def fields are all u64, in order");

const char *
weir_state_name(unsigned state)
{
	static const char *const names[] = { "starting", "running", "draining", "stopped" };
	return state < 4 ? names[state] : "unknown";
}

void
weir_counters_sum(const struct weir_worker_counters *blocks, unsigned n, struct weir_worker_counters *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t *o = (uint64_t *)out;
	for (unsigned w = 0; w < n; w++) {
		const uint64_t *b = (const uint64_t *)&blocks[w];
		for (size_t i = 0; i < sizeof(*out) / 8; i++) /* counters, reasons, histogram buckets: all u64 sums */
			o[i] += __atomic_load_n(&b[i], __ATOMIC_RELAXED);
	}
}

void
weir_line_totals(const struct weir_info *info, unsigned line, struct weir_line_counters *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t *dst = (uint64_t *)out;
	for (unsigned w = 0; w < info->n_workers; w++) {
		const uint64_t *src = (const uint64_t *)&info->lines[w][line];
		for (size_t i = 0; i < sizeof(*out) / 8; i++) {
			uint64_t v = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
			/* times and a level: the latest or largest, not a sum */
			bool latest = &dst[i] == &out->last_rx_ns || &dst[i] == &out->last_end_ns ||
				      &dst[i] == &out->late_behind;
			if (&dst[i] == &out->first_rx_ns)
				dst[i] = v && (dst[i] == 0 || v < dst[i]) ? v : dst[i];
			else
				dst[i] = latest ? (v > dst[i] ? v : dst[i]) : dst[i] + v;
		}
	}
}

uint64_t
weir_line_missed(const struct weir_line_counters *l, const struct weir_line_counters *other)
{
	return other->won > l->arbitrated ? other->won - l->arbitrated : 0;
}

int64_t
weir_counters_identity_gap(const struct weir_worker_counters *c)
{
	return (int64_t)(c->rx_packets -
			 (c->accepted_packets + c->filtered_packets + c->dead_letter_packets + c->ring_full_packets));
}

int64_t
weir_counters_message_identity_gap(const struct weir_worker_counters *c)
{
	return (int64_t)(c->messages - (c->event_records + c->seq_duplicates + c->seq_arbitrated + c->seq_table_full_drops +
					 c->ring_full_messages + c->reorder_holding + c->rule_drops));
}
