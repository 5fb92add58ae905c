/*
 * weir-control's Prometheus endpoint: /metrics in the text exposition
 * format, /healthz with 200 or 503 and the reason.  Read-only over the
 * shared counters (summed by the reader), the tracker's and rules' regions,
 * the ports' stats and the drain's own figures.
 */
#ifndef WEIR_METRICS_H
#define WEIR_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_config.h"
#include "weir_drain.h"
#include "weir_rules_layout.h"
#include "weir_seq_layout.h"
#include "weir_info.h"

/* What the endpoint reads.  info stays NULL while weir-control waits for
 * a dataplane: set it last (weir_metrics_attached()), everything else first. */
struct weir_metrics_src {
	const struct weir_config *cfg;
	const struct weir_info *info;
	uint32_t dataplane_up;                   /* 0 once its process is gone */
	char prefix[64];                         /* the dataplane's file prefix */
	struct weir_ring *rings[WEIR_MAX_WORKERS];
	const struct weir_seq_region *seq[WEIR_MAX_WORKERS];
	const struct weir_rules_region *rules;   /* NULL: no rules */
	const struct weir_drain *drain;
	uint64_t start_ns;                       /* weir-control's */
	uint64_t heartbeat_stale_ns;             /* /healthz: a worker silent this long is unhealthy */
};

/* Publishes the attached dataplane's info (release): the endpoint reads
 * the rest of s from then on. */
static inline void
weir_metrics_attached(struct weir_metrics_src *s, const struct weir_info *info)
{
	__atomic_store_n(&s->dataplane_up, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->info, info, __ATOMIC_RELEASE);
}

/* The whole exposition, malloc'd (the caller frees); NULL when out of memory. */
char *weir_metrics_render(const struct weir_metrics_src *s, size_t *len);
/* 0 when healthy, else 503's reason in reason. */
int weir_metrics_health(const struct weir_metrics_src *s, char *reason, size_t len);

/* Bytes weir-control has allocated (jemalloc's stats.allocated). */
uint64_t weir_heap_allocated_bytes(void);

/* /metrics and /healthz over s (weir_http.h). */
struct weir_http *weir_metrics_serve(const struct weir_metrics_src *s, char *err, size_t errlen);

#endif
