/* Building a Prometheus text exposition (format 0.0.4) in memory. */
#ifndef WEIR_PROM_H
#define WEIR_PROM_H

#include <stdbool.h>
#include <stddef.h>

#include "weir_hist.h"

struct weir_prom {
	char *p;
	size_t len, cap;
	bool oom;                    /* an allocation failed: the text is cut, the caller says so */
};

void weir_prom_put(struct weir_prom *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The HELP and TYPE lines of a metric family. */
void weir_prom_family(struct weir_prom *b, const char *name, const char *type, const char *help);
/* A histogram in Prometheus' cumulative form, in seconds; labels "" or "k=\"v\"". */
void weir_prom_histogram(struct weir_prom *b, const char *name, const char *labels, const struct weir_hist *h);

#endif
