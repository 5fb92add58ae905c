#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_malloc.h>

#include "weir_rules_admin.h"
#include "weir_time.h"

/* Hyperscan's databases and scratch live in DPDK memory, like everything the workers touch. */
static void *
hs_dpdk_alloc(size_t bytes)
{
	return rte_malloc("weir_hs", bytes, RTE_CACHE_LINE_SIZE);
}

static void
hs_dpdk_free(void *p)
{
	rte_free(p);
}

/* Every rule keeps its counter slot across reloads, found by id. */
static int
assign_rule_slots(struct weir_rules_region *rr, struct weir_ruleset *rs)
{
	for (uint32_t i = 0; i < rs->n_rules; i++) {
		uint32_t slot;
		for (slot = 0; slot < rr->n_slots && rr->slot_id[slot] != rs->rules[i].id; slot++)
			;
		if (slot == rr->n_slots) {
			if (rr->n_slots == WEIR_RULE_SLOTS)
				return -1;
			rr->slot_id[rr->n_slots++] = rs->rules[i].id;
		}
		rs->rules[i].counter_slot = slot;
	}
	return 0;
}

int
weir_rules_admin_start(struct weir_rules_admin *ra, const struct weir_config *cfg, void *region, char *err,
		       size_t errlen)
{
	struct weir_rules_region *rr = region;
	ra->region = rr;
	hs_set_allocator(hs_dpdk_alloc, hs_dpdk_free);
	ra->current = weir_rules_load(cfg->rules_path, cfg, cfg->n_workers, err, errlen);
	if (ra->current == NULL)
		return -1;
	if (assign_rule_slots(rr, ra->current) != 0) {
		snprintf(err, errlen, "%s: more distinct rule ids than the %d counter slots", cfg->rules_path,
			 WEIR_RULE_SLOTS);
		return -1;
	}
	ra->current->generation = 1;
	rr->magic = WEIR_RULES_MAGIC;
	rr->n_workers = cfg->n_workers;
	rr->generation = 1;
	rr->n_rules = ra->current->n_rules;
	__atomic_store_n(&rr->version, WEIR_RULES_VERSION, __ATOMIC_RELEASE);
	printf("weir-dataplane: rules generation 1: %u rules from %s (Hyperscan %s)\n", ra->current->n_rules,
	       cfg->rules_path, hs_version());
	return 0;
}

/* SIGHUP: compile the file again off the hot path, publish it, free the old
 * set once every worker has moved on.  A bad file leaves the old set running. */
void
weir_rules_admin_reload(struct weir_rules_admin *ra, const struct weir_config *cfg, const struct weir_info *info)
{
	static char err[8192];
	struct weir_rules_region *rr = ra->region;
	struct weir_ruleset *old = ra->current;
	struct weir_ruleset *rs = weir_rules_load(cfg->rules_path, cfg, cfg->n_workers, err, sizeof(err));
	if (rs == NULL || assign_rule_slots(rr, rs) != 0) {
		fprintf(stderr, "weir-dataplane: rules reload rejected, generation %" PRIu64 " keeps running:\n%s\n",
			old ? old->generation : 0, rs ? "more distinct rule ids than counter slots" : err);
		weir_rules_free(rs);
		__atomic_store_n(&rr->reload_failures, rr->reload_failures + 1, __ATOMIC_RELAXED);
		return;
	}
	rs->generation = (old ? old->generation : 0) + 1;
	/* Pairs with the workers' acquire load in weir_pipeline_sync_rules(). */
	__atomic_store_n(&ra->current, rs, __ATOMIC_RELEASE);
	uint64_t deadline = weir_realtime_ns() + 5000000000ull;
	for (;;) {
		unsigned moved = 0;
		for (unsigned w = 0; w < cfg->n_workers; w++)
			moved += __atomic_load_n(&info->workers[w].rules_generation, __ATOMIC_ACQUIRE) == rs->generation;
		if (moved == cfg->n_workers)
			break;
		if (weir_realtime_ns() > deadline) {
			fprintf(stderr, "weir-dataplane: a worker has not taken rules generation %" PRIu64
					" in 5 s: generation %" PRIu64 " is kept in memory\n",
				rs->generation, old ? old->generation : 0);
			old = NULL;
			break;
		}
		usleep(1000);
	}
	weir_rules_free(old);
	rr->n_rules = rs->n_rules;
	__atomic_store_n(&rr->generation, rs->generation, __ATOMIC_RELEASE);
	__atomic_store_n(&rr->reloads, rr->reloads + 1, __ATOMIC_RELAXED);
	printf("weir-dataplane: rules generation %" PRIu64 " in force: %u rules from %s\n", rs->generation,
	       rs->n_rules, cfg->rules_path);
}
