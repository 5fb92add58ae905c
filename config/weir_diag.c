#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	const char *line = *p - l - (nl != NULL);
	for (size_t i = 0; i < l; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\r' && i + 1 == l) {
			weir_diag_fail(d, "the line ends in a carriage return (CRLF line endings): convert the file to "
					  "Unix line endings, e.g. sed -i 's/\\r$//' %s", d->name);
			return -1;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			/* A NUL here once ended the file early and let the rest pass unread. */
			weir_diag_fail(d, "byte 0x%02x at column %zu: the file must be text (a file caught mid-write, or "
					  "binary data?): remove it",
				       c, i + 1);
			return -1;
		}
	}
	memcpy(buf, line, l);
	buf[l] = 0;
	return 1;
}

/* One read of the whole file; -1 when it changed while read. */
static ssize_t
read_once(int fd, char *text, size_t cap, const struct stat *before)
{
	size_t len = 0;
	ssize_t n;
	while (len < cap && (n = pread(fd, text + len, cap - len, (off_t)len)) > 0)
		len += (size_t)n;
	struct stat after;
	if (fstat(fd, &after) != 0 || after.st_size != before->st_size ||
	    after.st_mtim.tv_nsec != before->st_mtim.tv_nsec || after.st_mtim.tv_sec != before->st_mtim.tv_sec ||
	    len != (size_t)before->st_size)
		return -1;
	return (ssize_t)len;
}

int
weir_diag_read_file(const char *path, size_t max_bytes, char **text, size_t *len, char *err, size_t errlen)
{
	*text = NULL;
	/* O_NONBLOCK: a FIFO's open would wait for a writer for ever (a --check,
	 * an ExecStartPre hung); it is refused below, like any special file. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s:0: cannot open: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s:0: %s, not a file: give the path of the file itself", path,
			 S_ISDIR(st.st_mode) ? "a directory" : "a special file");
		close(fd);
		return -1;
	}
	if ((size_t)st.st_size > max_bytes) {
		snprintf(err, errlen, "%s:0: %lld bytes, more than the %zu a file of this kind may hold", path,
			 (long long)st.st_size, max_bytes);
		close(fd);
		return -1;
	}
	*text = malloc((size_t)st.st_size + 1);
	ssize_t got = -1;
	/* A writer rewriting it in place: read again once it has settled. */
	for (int tries = 0; *text && got < 0 && tries < 20; tries++) {
		if (tries)
			usleep(50 * 1000);
		if (fstat(fd, &st) != 0 || (size_t)st.st_size > max_bytes)
			break;
		char *bigger = realloc(*text, (size_t)st.st_size + 1);
		if (bigger == NULL)
			break;
		*text = bigger;
		got = read_once(fd, *text, (size_t)st.st_size, &st);
	}
	close(fd);
	if (got < 0) {
		snprintf(err, errlen, "%s:0: it kept changing while it was read: replace it whole instead (write a new "
				      "file, then mv it over this one)", path);
		free(*text);
		*text = NULL;
		return -1;
	}
	(*text)[got] = 0;
	*len = (size_t)got;
	return 0;
}
