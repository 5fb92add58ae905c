/* Printing the counters: one table and one JSON shape for every program,
 * both walking the .def lists. */
#ifndef WEIR_REPORT_H
#define WEIR_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "weir_info.h"

void weir_report_counters(FILE *f, const struct weir_worker_counters *total);
/* {"workers":[{...},...],"total":{...,"dead_letter":{reason:n}},"identity_holds":true}, no newline */
void weir_report_counters_json(FILE *f, const struct weir_worker_counters *blocks, unsigned n);
/* The same with ,"lines":{...} as weir_report_lines() writes it. */
void weir_report_stats_json(FILE *f, const struct weir_worker_counters *blocks, unsigned n,
			    const struct weir_info *info, const char *const *line_names);

/* The loss report: one line per source the workers track (or one JSON
 * object, no newline): gaps seen, recovered, lost, last sequence seen,
 * first and last seen. */
struct weir_seq_region;
/* With info and line_names (else NULL), each feed line's figures after the
 * sources ("lines" in JSON). */
void weir_report_loss(FILE *f, const struct weir_seq_region *const *regions, unsigned n, bool json,
		      const struct weir_info *info, const char *const *line_names);

/* Each feed line whose line_names[id] is not NULL (the name "FEED/a"):
 * {NAME:{packets,events,won,arbitrated,duplicates,behind_samples,
 * behind_p50_ns,behind_p99_ns,wrong_source,missed,gap_runs,gap_events,late,
 * late_behind}} with no newline, or one table row each. */
void weir_report_lines(FILE *f, const struct weir_info *info, const char *const *line_names, bool json);

#endif
