#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "weir_prom.h"

void
weir_prom_put(struct weir_prom *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = b->oom ? 0 : vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (b->oom || n < 0)
			return;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap * 2 + (size_t)n;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

void
weir_prom_family(struct weir_prom *b, const char *name, const char *type, const char *help)
{
	weir_prom_put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
weir_prom_histogram(struct weir_prom *b, const char *name, const char *labels, const struct weir_hist *h)
{
	/* _count is the +Inf bucket's sum, read once: consistent whatever the
	 * writer does meanwhile. */
	uint64_t cum = 0;
	for (unsigned i = 0; i < WEIR_HIST_BUCKETS; i++) {
		cum += weir_sw_load(&h->bucket[i]);
		weir_prom_put(b, "%s_bucket{%s%sle=\"%.9g\"} %" PRIu64 "\n", name, labels, *labels ? "," : "",
		    (double)weir_hist_bound_ns[i] / 1e9, cum);
	}
	cum += weir_sw_load(&h->bucket[WEIR_HIST_BUCKETS]);
	weir_prom_put(b, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, *labels ? "," : "", cum);
	weir_prom_put(b, "%s_sum{%s} %.9f\n%s_count{%s} %" PRIu64 "\n", name, labels, (double)weir_sw_load(&h->sum_ns) / 1e9,
	    name, labels, cum);
}

