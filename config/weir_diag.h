/* Errors in a file the operator wrote (the pmd-config, a rules file): one
 * "FILE:LINE: what is wrong, and what would be valid" line each, gathered
 * into the caller's buffer so the whole file is judged at once. */
#ifndef WEIR_DIAG_H
#define WEIR_DIAG_H

#include <stddef.h>

struct weir_diag {
	const char *name;            /* the file, as the operator named it */
	unsigned line;               /* the line being read */
	char *err;
	size_t errlen, used;
	unsigned n_errors;
};

static inline void
weir_diag_init(struct weir_diag *d, const char *name, char *err, size_t errlen)
{
	*d = (struct weir_diag){ .name = name, .err = err, .errlen = errlen };
	if (errlen)
		err[0] = 0;
}

/* An error on the line being read ... */
void weir_diag_fail(struct weir_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ... or on another (a cross-check names where each setting was given). */
void weir_diag_fail_at(struct weir_diag *d, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The next line of [*p, end) into buf (without its newline, NUL
 * terminated), d->line counting it; *p moves past it.  1: a line; 0: the
 * end; -1: longer than buf holds, or holding a NUL, a control byte or a
 * CR before its newline (reported, and passed over). */
int weir_diag_next_line(struct weir_diag *d, const char **p, const char *end, char *buf, size_t cap);

/* The whole of path (at most max_bytes) into *text (malloc'd, NUL
 * terminated after *len bytes), read again while it changes under the read;
 * -1 with a "PATH:0:" error (a directory, unreadable, too large, never
 * still). */
int weir_diag_read_file(const char *path, size_t max_bytes, char **text, size_t *len, char *err, size_t errlen);

#endif
