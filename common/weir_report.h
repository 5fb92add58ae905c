/* Printing the counters: one table and one JSON shape for every program,
 * both walking the .def lists. */
#ifndef WEIR_REPORT_H
#define WEIR_REPORT_H

#include <stdio.h>

#include "weir_shared.h"

void weir_report_counters(FILE *f, const struct weir_worker_counters *total);
/* {"workers":[{...},...],"total":{...,"dead_letter":{reason:n}},"identity_holds":true} */
void weir_report_counters_json(FILE *f, const struct weir_worker_counters *blocks, unsigned n);

#endif
