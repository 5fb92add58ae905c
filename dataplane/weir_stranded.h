/* What a stop leaves in the rings that nobody drained, where it dies with
 * the process (hugepage mode: the memzones go with the primary): each
 * record stated before it is gone, by (topic, kind, source) with its
 * sequence range, and counted. */
#ifndef WEIR_STRANDED_H
#define WEIR_STRANDED_H

#include <stdint.h>
#include <stdio.h>

#include "weir_info.h"
#include "weir_ring.h"

struct weir_stranded {
	uint64_t records, events, dead_letters, losses, ends_of_session, runs;
};

/* Walks each ring from its head to its tail (releasing nothing) and
 * writes a line per (topic, kind, source) to f, at most max_lines, with
 * its sequence range and count, then the totals (runs: the keys). */
void weir_stranded_state(struct weir_ring *const *rings, unsigned n_rings, const struct weir_info *info,
			 unsigned max_lines, FILE *f, struct weir_stranded *out);

#endif
