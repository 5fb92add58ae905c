/*
 * Rule sets: a rules file (docs/rules.md) parsed and compiled whole into one
 * Hyperscan block-mode database, a scratch per worker cloned from one
 * prototype, and what each rule does when it matches.  Built off the hot
 * path (at start, and on reload by the main lcore); workers only scan.
 *
 * Beside it, a burst database: the rules with their zero-width assertions
 * taken out, scanned once over all the events of a burst laid end to end.
 * One scan call costs 50-95 ns whatever its length up to about 100 bytes,
 * as much as the rest of the pipeline spends on a small event, so one call
 * a burst says which events can match at all; only those take the exact
 * per-event scan.  Rules the relaxation cannot be sure of are scanned per
 * event through their own database.
 */
#ifndef WEIR_RULES_H
#define WEIR_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include <hs/hs.h>

#include "weir_config.h"
#include "weir_record.h"

#define WEIR_MAX_RULES 4096
#define WEIR_MAX_MATCHES 8            /* rule ids one record carries; more are counted */

enum weir_rule_action { WEIR_RULE_TAG, WEIR_RULE_ROUTE, WEIR_RULE_DROP, WEIR_RULE_ALERT };

struct weir_rule {
	uint32_t id;
	enum weir_rule_action action;
	uint16_t route_topic;                 /* ROUTE: where the record goes */
	uint8_t scope_decoder;                /* 0: any, else enum weir_decoder_type */
	bool scope_by_source;
	int scope_topic;                      /* -1: any */
	uint8_t scope_source[WEIR_SOURCE_BYTES];
	uint32_t counter_slot;                /* its row in the shared per-rule counters */
	unsigned hs_flags;
	unsigned line;
	bool burst_scannable;                 /* in the burst database, relaxed */
	char *expression;
};

struct weir_ruleset {
	hs_database_t *db;                    /* NULL when the file has no rule */
	hs_database_t *burst_db;              /* the burst-scannable rules, relaxed, not single-match; NULL: none */
	hs_database_t *unscannable_db;        /* the others, block mode; NULL when there are none (or no burst_db) */
	uint32_t n_burst_scannable;
	hs_scratch_t *scratch[WEIR_MAX_WORKERS];
	uint32_t n_rules;
	struct weir_rule *rules;
	uint64_t generation;
};

/* Parses (not compiles) a rules file's text; route and scope topics must be
 * topics of cfg.  0, or -1 with "NAME:LINE: ..." lines in err. */
int weir_rules_parse(const char *text, const char *name, const struct weir_config *cfg, struct weir_ruleset *rs,
		     char *err, size_t errlen);
int weir_rules_parse_bytes(const char *text, size_t len, const char *name, const struct weir_config *cfg,
			   struct weir_ruleset *rs, char *err, size_t errlen);
/* Parses and compiles path, with one scratch per worker: a ruleset ready to
 * publish, or NULL with the reasons in err. */
struct weir_ruleset *weir_rules_load(const char *path, const struct weir_config *cfg, unsigned n_workers,
				     char *err, size_t errlen);
void weir_rules_free(struct weir_ruleset *rs);

/* The expression without its zero-width assertions (^ $ \b \B \A \z \Z \G):
 * it matches wherever the original does (and more), so the events a burst
 * scan of it finds include every event the original matches, whatever bytes
 * surround them.  False where this lexer cannot be sure of that: \Q
 * quoting, (? groups other than (?: and flag groups without x, an assertion
 * under a quantifier. */
bool weir_rule_relax(const char *expr, char *out, size_t outlen);

/* The rule that breaks a set that fails as a whole (Hyperscan's "Resource
 * limit exceeded" names no expression): the first that fails alone, else
 * the one whose addition to the rules before it makes the set fail
 * (bisected on prefixes).  compiles(ctx, first, n) says whether rules
 * [first, first + n) compile together.  n_rules when none is to blame. */
uint32_t weir_rules_breaker(uint32_t n_rules, bool (*compiles)(void *ctx, uint32_t first, uint32_t n), void *ctx);

/* Whether rule r applies to an event of this decoder, source and topic. */
static inline bool
weir_rule_in_scope(const struct weir_rule *r, uint8_t decoder_type, const uint8_t *source, uint16_t topic)
{
	return (r->scope_decoder == 0 || r->scope_decoder == decoder_type) &&
	       (r->scope_topic < 0 || r->scope_topic == topic) &&
	       (!r->scope_by_source || weir_source_same_identity(r->scope_source, source));
}

#endif
