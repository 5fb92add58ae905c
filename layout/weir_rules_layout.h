/*
 * Per-rule counters, shared: one region ("rules") per dataplane.  The main
 * lcore writes the header and which rule id each slot counts (a rule keeps
 * its slot across reloads); worker w writes row w only.
 */
#ifndef WEIR_RULES_LAYOUT_H
#define WEIR_RULES_LAYOUT_H

#include <stdint.h>

#define WEIR_RULES_MAGIC 0x53454c5552494557ull /* "WEIRULES" */
#define WEIR_RULES_VERSION 1u
#define WEIR_RULE_SLOTS 4096

struct weir_rule_counter {
	uint64_t matches;
	uint64_t alerts;
	uint64_t drops;
	uint64_t pad;
};

struct weir_rules_region {
	uint64_t magic;
	uint32_t version;                /* stored last */
	uint32_t n_workers;
	uint64_t generation;             /* the rule set every worker runs */
	uint64_t reloads;                /* rule sets published after the first */
	uint64_t reload_failures;        /* rules files rejected on reload */
	uint32_t n_slots;                /* slots given out so far */
	uint32_t n_rules;                /* rules in force */
	uint8_t pad[16];
	uint32_t slot_id[WEIR_RULE_SLOTS]; /* rule id of each slot */
	/* struct weir_rule_counter rows[n_workers][WEIR_RULE_SLOTS]; */
};
_Static_assert(sizeof(struct weir_rules_region) % 64 == 0, "rows start on a cache line");

static inline uint64_t
weir_rules_region_size(unsigned n_workers)
{
	return sizeof(struct weir_rules_region) +
	       (uint64_t)n_workers * WEIR_RULE_SLOTS * sizeof(struct weir_rule_counter);
}

static inline struct weir_rule_counter *
weir_rules_row(struct weir_rules_region *r, unsigned worker)
{
	return (struct weir_rule_counter *)(r + 1) + (uint64_t)worker * WEIR_RULE_SLOTS;
}

#endif
