#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "weir_log_index.h"
#include "weir_log_pvt.h"

/* Damage before the committed point: said whole, nothing cut. */
static int
refuse(const struct weir_log_topic *t, const char *path, const char *what, size_t at, uint64_t good_next,
       const struct weir_log_checkpoint *ck, char *err, size_t errlen)
{
	uint64_t lost = ck->committed_offset > good_next ? ck->committed_offset - good_next : 0;
	size_t bytes = ck->segment_bytes > at ? ck->segment_bytes - at : 0;
	snprintf(err, errlen,
		 "%s: %s, before the committed point (offset %" PRIu64 ", byte %" PRIu64 "): offsets %" PRIu64
		 " to %" PRIu64 " (%" PRIu64 " records, %zu bytes) were committed at or after it; nothing was cut, and "
		 "weir-control will not write to topic %s until this is dealt with. To keep every good batch after "
		 "the damage and state the rest as lost: weir-read --salvage %s",
		 path, what, ck->committed_offset, ck->segment_bytes, good_next,
		 ck->committed_offset ? ck->committed_offset - 1 : 0, lost, bytes, t->name, t->dir);
	return -1;
}

int
weir_log_recover_check_listing(const char *dir, const uint64_t *bases, size_t n,
			       const struct weir_log_checkpoint *ck, char *err, size_t errlen)
{
	if (ck == NULL || ck->committed_offset == 0)
		return 0;
	char path[PATH_MAX + 32];
	weir_log_segment_path(dir, ck->segment_base, path, sizeof(path));
	if (n == 0 || bases[n - 1] < ck->segment_base) {
		snprintf(err, errlen,
			 "%s: missing: the checkpoint says offsets up to %" PRIu64 " are committed and end in it; "
			 "nothing was cut. To go on with the loss stated: weir-read --salvage %s",
			 path, ck->committed_offset - 1, dir);
		return -1;
	}
	return 0;
}

/* The last segment opened for appends at good_end (cut there); with
 * direct writes its partial last block is read back into the buffer. */
static int
reopen_at(struct weir_log_topic *t, const char *path, size_t good_end, bool cut, char *err, size_t errlen)
{
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
	if (cut && fsync(fd) != 0) {
		snprintf(err, errlen, "%s: fsync after truncation: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
weir_log_recover_last_segment(struct weir_log_topic *t, uint64_t base, const struct weir_log_checkpoint *ck,
			      char *err, size_t errlen)
{
	char path[PATH_MAX + 32], why[256];
	weir_log_segment_path(t->dir, base, path, sizeof(path));
	struct weir_log_segment s;
	if (weir_log_segment_open(&s, path, err, errlen) != 0)
		return -1;
	/* What the checkpoint vouches for in this segment. */
	const struct weir_log_checkpoint *in_this = ck && ck->segment_base == base ? ck : NULL;
	if (s.pos == 0 && in_this && in_this->segment_bytes > sizeof(struct weir_log_segment_hdr)) {
		weir_log_segment_close(&s);
		return refuse(t, path, "segment header torn at byte 0", 0, base, in_this, err, errlen);
	}
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
	size_t good_end = s.pos, batch = SIZE_MAX;
	weir_log_index_reset(t->index, base); /* rebuilt as the segment is read: whole batches only */
	while ((rc = weir_log_segment_next(&s, &e, why, sizeof(why))) == 1) {
		if (s.batch_pos != batch) {
			batch = s.batch_pos;
			weir_log_index_batch(t->index, e->offset, batch);
		}
		weir_log_index_record(t->index, weir_log_entry_record(e));
		if (e->worker < WEIR_MAX_WORKERS) {
			t->last_incarnation[e->worker] = e->incarnation;
			t->last_ring_end[e->worker] = e->ring_pos + 1;
		}
		good_end = s.pos;
	}
	uint64_t next_offset = s.next_offset;
	size_t size = s.size;
	weir_log_segment_close(&s);
	if (rc == 0)
		snprintf(why, sizeof(why), "segment ends at byte %zu", good_end);
	if (in_this && good_end < in_this->segment_bytes)
		return refuse(t, path, why, good_end, next_offset, in_this, err, errlen);
	if (ck && next_offset < ck->committed_offset)
		return refuse(t, path, why, good_end, next_offset, ck, err, errlen);
	if (rc < 0) {
		fprintf(stderr, "weir-log: %s: %s; truncating %zu torn bytes\n", path, why, size - good_end);
		t->recovered_truncated_bytes += size - good_end;
	}
	int fd = reopen_at(t, path, good_end, rc < 0, err, errlen);
	if (fd < 0)
		return -1;
	t->fd = fd;
	t->base_offset = base;
	t->next_offset = next_offset;
	t->segment_bytes = good_end;
	weir_log_index_create(t, base, true);
	return 0;
}
