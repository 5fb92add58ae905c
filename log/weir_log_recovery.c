#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "weir_log_pvt.h"

int
weir_log_recover_last_segment(struct weir_log_topic *t, uint64_t base, char *err, size_t errlen)
{
	char path[PATH_MAX + 32], why[256];
	weir_log_segment_path(t->dir, base, path, sizeof(path));
	struct weir_log_segment s;
	if (weir_log_segment_open(&s, path, err, errlen) != 0)
		return -1;
	if (s.pos == 0) {
		/* Crashed while creating it: nothing in it was ever released. */
		weir_log_segment_close(&s);
		fprintf(stderr, "weir-log: %s: header torn (%zu bytes), rewriting it\n", path, s.size);
		t->recovered_truncated_bytes += s.size;
		return weir_log_create_segment(t, base);
	}
	if (s.base_offset != base) {
		snprintf(err, errlen, "%s: header says base offset %" PRIu64 ", file name says %" PRIu64, path,
			 s.base_offset, base);
		weir_log_segment_close(&s);
		return -1;
	}
	const struct weir_log_entry *e;
	int rc;
	size_t good_end = s.pos;
	while ((rc = weir_log_segment_next(&s, &e, why, sizeof(why))) == 1) {
		if (e->worker < WEIR_MAX_WORKERS) {
			t->last_incarnation[e->worker] = e->incarnation;
			t->last_ring_end[e->worker] = e->ring_pos + 1;
		}
		good_end = s.pos;
	}
	uint64_t next_offset = s.next_offset;
	size_t size = s.size;
	weir_log_segment_close(&s);
	if (rc < 0) {
		fprintf(stderr, "weir-log: %s: %s; truncating %zu torn bytes\n", path, why, size - good_end);
		t->recovered_truncated_bytes += size - good_end;
	}
	int fd = weir_log_open_append(t, path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)good_end) != 0 || lseek(fd, (off_t)good_end, SEEK_SET) < 0) {
		snprintf(err, errlen, "%s: cannot reopen for append: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	t->file_pos = 0;
	t->buf_len = 0;
	if (t->direct) {
		/* Appends continue in the last, partial block: read it back (a
		 * plain read: it need not be aligned). */
		t->file_pos = good_end & ~(uint64_t)(WEIR_LOG_BLOCK - 1);
		t->buf_len = good_end - t->file_pos;
		int rfd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t got = rfd < 0 ? -1 : pread(rfd, t->buf, t->buf_len, (off_t)t->file_pos);
		if (rfd >= 0)
			close(rfd);
		if (got != (ssize_t)t->buf_len) {
			snprintf(err, errlen, "%s: cannot read back its last block", path);
			close(fd);
			return -1;
		}
	}
	if (rc < 0 && fsync(fd) != 0) {
		snprintf(err, errlen, "%s: fsync after truncation: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	t->fd = fd;
	t->base_offset = base;
	t->next_offset = next_offset;
	t->segment_bytes = good_end;
	return 0;
}
