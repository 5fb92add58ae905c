#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "weir_diag.h"

/* Appends what snprintf wrote (or would have), cut at the buffer's end. */
static void
advance(struct weir_diag *d, int n)
{
	if (n > 0)
		d->used = d->used + (size_t)n < d->errlen ? d->used + (size_t)n : d->errlen - 1;
}

static void
vfail(struct weir_diag *d, unsigned line, const char *fmt, va_list ap)
{
	d->n_errors++;
	if (d->used + 1 >= d->errlen)
		return;
	advance(d, snprintf(d->err + d->used, d->errlen - d->used, "%s%s:%u: ", d->used ? "\n" : "", d->name, line));
	advance(d, vsnprintf(d->err + d->used, d->errlen - d->used, fmt, ap));
}

void
weir_diag_fail(struct weir_diag *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(d, d->line, fmt, ap);
	va_end(ap);
}

void
weir_diag_fail_at(struct weir_diag *d, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(d, line, fmt, ap);
	va_end(ap);
}

int
weir_diag_next_line(struct weir_diag *d, const char **p, const char *end, char *buf, size_t cap)
{
	if (*p >= end)
		return 0;
	d->line++;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t l = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	*p += l + (nl != NULL);
	if (l >= cap) {
		weir_diag_fail(d, "line longer than %zu bytes", cap - 1);
		return -1;
	}
	memcpy(buf, *p - l - (nl != NULL), l);
	buf[l] = 0;
	return 1;
}
