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
/* The same with ,"lines":{NAME:{packets,events,won,arbitrated,duplicates,
 * behind_samples}} for each line id whose line_names[id] is not NULL. */
void weir_report_stats_json(FILE *f, const struct weir_worker_counters *blocks, unsigned n,
			    const struct weir_info *info, const char *const *line_names);

/* The loss report: one line per source the workers track (or one JSON
 * object, no newline): gaps seen, recovered, lost, last sequence seen,
 * first and last seen. */
struct weir_seq_region;
void weir_report_loss(FILE *f, const struct weir_seq_region *const *regions, unsigned n, bool json);

#endif
