/* The main lcore's side of the match stage: the rule set it publishes to
 * the workers, each rule's counter slot in the shared "rules" region, and
 * the SIGHUP reload. */
#ifndef WEIR_RULES_ADMIN_H
#define WEIR_RULES_ADMIN_H

#include "weir_config.h"
#include "weir_info.h"
#include "weir_rules.h"
#include "weir_rules_layout.h"

struct weir_rules_admin {
	struct weir_ruleset *current;    /* the set in force: published here, workers pick it up */
	struct weir_rules_region *region;
};

/* Compiles cfg's rules file into generation 1 (Hyperscan's memory from
 * DPDK's), its counters in region (weir_rules_region_size() bytes). */
int weir_rules_admin_start(struct weir_rules_admin *ra, const struct weir_config *cfg, void *region, char *err,
			   size_t errlen);
/* SIGHUP: compile the file again off the hot path, publish it, free the
 * old set once every worker has moved on.  A bad file leaves the old set
 * running. */
void weir_rules_admin_reload(struct weir_rules_admin *ra, const struct weir_config *cfg, const struct weir_info *info);

#endif
