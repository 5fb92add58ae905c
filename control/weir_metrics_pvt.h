/* What weir_metrics.c takes from the files beside it. */
#ifndef WEIR_METRICS_PVT_H
#define WEIR_METRICS_PVT_H

#include <stddef.h>

#include "weir_metrics.h"
#include "weir_prom.h"

/* weir_metrics_lines.c: the feed lines' families. */
void weir_metrics_render_lines(struct weir_prom *b, const struct weir_metrics_src *s);
/* -1: a feed silent on both lines (503, reason said); 1: a line silent or
 * never heard (degraded, reason said); 0: neither. */
int weir_metrics_lines_health(const struct weir_metrics_src *s, const struct weir_info *info, char *reason,
			      size_t len);

#endif
