#define _GNU_SOURCE /* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir_log_codec.h"
#include "weir_log_index.h"
#include "weir_crc32c.h"
#include "weir_log_pvt.h"

/*
 * O_DIRECT where the file system takes it: in a VM the page cache's fresh
 * pages cost more than the disk (buffered appends ran at ~290 MB/s here,
 * direct ones at ~1.2 GB/s).  tmpfs and others refuse it: buffered then.
 * Direct topics write through their writer thread, started here.
 */
int
weir_log_open_append(struct weir_log_topic *t, const char *path, int flags)
{
	int fd = weir_log_create(path, flags | O_DIRECT);
	t->direct = fd >= 0;
	if (fd < 0 && errno == EINVAL)
		fd = weir_log_create(path, flags);
	if (fd >= 0 && t->direct && t->writer == NULL && weir_log_writer_start(t) != 0) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	return fd;
}

/* The index is a hint: a failure to write it costs a rebuild at the next
 * open, never a record, so it only closes the index. */
static void
index_failed(struct weir_log_topic *t)
{
	if (t->index_fd >= 0)
		close(t->index_fd);
	t->index_fd = -1;
	t->index_failures++;
}

/* A new index for the segment at base: written from the start, with the
 * entries already in the builder (recovery fills it from the segment). */
int
weir_log_index_create(struct weir_log_topic *t, uint64_t base, bool keep_entries)
{
	char path[PATH_MAX + 32];
	if (t->index_fd >= 0)
		close(t->index_fd);
	if (!keep_entries)
		weir_log_index_reset(t->index, base);
	t->index->n_written = 0;
	weir_log_index_path(t->dir, base, path, sizeof(path));
	t->index_fd = weir_log_create(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
	if (t->index_fd < 0 || weir_log_index_write_header(t->index, t->index_fd) != 0 ||
	    weir_log_index_write_entries(t->index, t->index_fd) != 0) {
		index_failed(t);
		return -1;
	}
	return 0;
}

void
weir_log_index_commit(struct weir_log_topic *t)
{
	if (t->index_fd >= 0 && weir_log_index_write_entries(t->index, t->index_fd) != 0)
		index_failed(t);
}

/* A sealed segment's index missing or damaged: rebuilt from its segment. */
static void
rebuild_index(void *ctx, uint64_t base, int rc, const char *why)
{
	(void)rc;
	struct weir_log_topic *t = ctx;
	char err[512];
	if (weir_log_index_rebuild_file(t->dir, base, err, sizeof(err)) == 0) {
		t->indexes_rebuilt++;
		fprintf(stderr, "weir-log: %s/%020llu.index: %s; rebuilt from its segment\n", t->dir,
			(unsigned long long)base, why);
	} else {
		fprintf(stderr, "weir-log: %s/%020llu.index: %s; cannot rebuild: %s\n", t->dir,
			(unsigned long long)base, why, err);
	}
}

/* Writes buf (its partial last block zero padded) and waits for it. */
static int
weir_log_write_direct(struct weir_log_topic *t)
{
	return weir_log_writer_submit(t) == 0 && weir_log_writer_wait_idle(t->writer) == 0 ? 0 : -1;
}

/* A closed (or rolled) segment ends exactly at its last entry. */
static int
trim_segment(struct weir_log_topic *t)
{
	if (!t->direct)
		return 0;
	return ftruncate(t->fd, (off_t)(t->file_pos + t->buf_len));
}

int
weir_log_create_segment(struct weir_log_topic *t, uint64_t base)
{
	char path[PATH_MAX + 32];
	weir_log_segment_path(t->dir, base, path, sizeof(path));
	int fd = weir_log_open_append(t, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	t->fd = fd;
	t->file_pos = 0;
	t->buf_len = 0;
	struct weir_log_segment_hdr h = { .magic = WEIR_LOG_MAGIC, .base_offset = base };
	int rc;
	if (t->direct) {
		memcpy(t->buf, &h, sizeof(h));
		t->buf_len = sizeof(h);
		rc = weir_log_write_direct(t);
	} else {
		rc = weir_log_write_all(fd, &h, sizeof(h));
	}
	if (rc != 0 || fsync(fd) != 0 || weir_log_fsync_dir(t->dir) != 0) {
		close(fd);
		t->fd = -1;
		return -1;
	}
	t->base_offset = base;
	t->next_offset = base;
	t->segment_bytes = sizeof(h);
	weir_log_index_create(t, base, false);
	return 0;
}

int
weir_log_topic_open(struct weir_log_topic *t, const char *root, const char *name, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->lock_fd = -1;
	t->fd = -1;
	t->checkpoint_fd = -1;
	t->index_fd = -1;
	snprintf(t->name, sizeof(t->name), "%s", name);
	if ((size_t)snprintf(t->dir, sizeof(t->dir), "%s/%s", root, name) >= sizeof(t->dir)) {
		snprintf(err, errlen, "%s/%s: path too long", root, name);
		return -1;
	}
	if (weir_log_mkdir_p(t->dir) != 0) {
		snprintf(err, errlen, "%s: cannot create: %s", t->dir, strerror(errno));
		return -1;
	}
	if ((t->lock_fd = weir_log_lock_topic(t->dir, err, errlen)) < 0)
		return -1;
	t->index = calloc(1, sizeof(*t->index));
	t->buf_cap = WEIR_LOG_BUF_BYTES;
	/* a block more than it fills: the zero padding of a direct write */
	if (posix_memalign((void **)&t->buf, WEIR_LOG_BLOCK, t->buf_cap + WEIR_LOG_BLOCK) != 0)
		t->buf = NULL;
	if (t->buf == NULL || t->index == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct weir_log_checkpoint ck;
	int have = weir_log_checkpoint_read(t->dir, &ck, err, errlen);
	if (have < 0)
		return -1;
	uint64_t *bases;
	size_t n;
	if (weir_log_list_segments(t->dir, &bases, &n) != 0) {
		snprintf(err, errlen, "%s: cannot list: %s", t->dir, strerror(errno));
		return -1;
	}
	int rc = weir_log_recover_check_listing(t->dir, bases, n, have ? &ck : NULL, err, errlen);
	if (rc == 0)
		weir_log_index_check_sealed(t->dir, bases, n, rebuild_index, t);
	if (rc == 0 && n == 0) {
		rc = weir_log_create_segment(t, 0);
		if (rc)
			snprintf(err, errlen, "%s: cannot create first segment: %s", t->dir, strerror(errno));
	} else if (rc == 0) {
		rc = weir_log_recover_last_segment(t, bases[n - 1], have ? &ck : NULL, err, errlen);
	}
	free(bases);
	if (rc == 0 && weir_log_checkpoint_open(t, have ? &ck : NULL) != 0) {
		snprintf(err, errlen, "%s/%s: %s", t->dir, WEIR_LOG_CHECKPOINT_FILE, strerror(errno));
		rc = -1;
	}
	return rc;
}

int
weir_log_topic_flush(struct weir_log_topic *t)
{
	weir_log_batch_close(t);
	if (t->direct) {
		/* A commit: everything queued and this buffer on the file. */
		if (t->dirty ? weir_log_write_direct(t) != 0 : weir_log_writer_wait_idle(t->writer) != 0)
			return -1;
		if (t->dirty)
			t->unsynced = true;
		t->dirty = false;
		return 0;
	}
	if (t->buf_len == 0)
		return 0;
	if (weir_log_write_all(t->fd, t->buf, t->buf_len) != 0)
		return -1;
	t->buf_len = 0;
	t->unsynced = true;
	return 0;
}

int
weir_log_topic_append(struct weir_log_topic *t, unsigned worker, uint64_t incarnation, uint64_t ring_pos,
		      const struct weir_record *rec)
{
	/* room for the entry, a batch header and a batch's padding */
	size_t need = weir_log_entry_encoded_max(rec) + sizeof(struct weir_log_batch) + 8;
	if (need > t->buf_cap) {
		errno = EMSGSIZE;
		return -1;
	}
	if (t->buf_len + need > t->buf_cap) {
		weir_log_batch_close(t);
		if (t->direct) {
			if (weir_log_writer_submit(t) != 0)
				return -1;
			t->unsynced = true; /* a commit's flush waits for it */
		} else if (weir_log_topic_flush(t) != 0) {
			return -1;
		}
	}
	const struct weir_log_batch *b = (const struct weir_log_batch *)(t->buf + t->batch_start);
	if (!t->batch_open || b->worker != worker || b->incarnation != incarnation ||
	    t->buf_len - t->batch_start >= WEIR_LOG_BATCH_MAX_BYTES) {
		weir_log_batch_close(t);
		weir_log_batch_begin(t, worker, incarnation, ring_pos);
	}
	size_t n = weir_log_entry_encode(&t->codec, t->buf + t->buf_len, ring_pos, rec);
	weir_log_index_record(t->index, rec);
	((struct weir_log_batch *)(t->buf + t->batch_start))->n_entries++;
	t->buf_len += n;
	t->dirty = true;
	t->next_offset++;
	t->segment_bytes += n;
	weir_sw_add(&t->records_appended, 1);
	weir_sw_add(&t->bytes_appended, n);
	if (worker < WEIR_MAX_WORKERS) {
		t->last_incarnation[worker] = incarnation;
		t->last_ring_end[worker] = ring_pos + 1;
	}
	return 0;
}

int
weir_log_topic_sync(struct weir_log_topic *t)
{
	if (weir_log_topic_flush(t) != 0)
		return -1;
	if (t->unsynced && fdatasync(t->fd) != 0)
		return -1;
	t->unsynced = false;
	return 0;
}

int
weir_log_topic_roll_if_full(struct weir_log_topic *t, uint64_t max_bytes)
{
	if (t->segment_bytes < max_bytes)
		return 0;
	if (weir_log_topic_sync(t) != 0 || trim_segment(t) != 0)
		return -1;
	if (t->index_fd >= 0 && weir_log_index_seal(t->index, t->index_fd, t->next_offset, t->segment_bytes) != 0)
		index_failed(t);
	close(t->fd);
	t->fd = -1;
	t->segments_rolled++;
	if (weir_log_create_segment(t, t->next_offset) != 0)
		return -1;
	return weir_log_topic_commit(t, true); /* the committed point now ends in the new segment */
}

void
weir_log_topic_close(struct weir_log_topic *t)
{
	if (t->fd >= 0) {
		if (weir_log_topic_sync(t) == 0 && trim_segment(t) == 0)
			fdatasync(t->fd);
		close(t->fd);
	}
	weir_log_writer_stop(t);
	t->fd = -1;
	if (t->index) {
		weir_log_index_commit(t);
		if (t->index_fd >= 0)
			close(t->index_fd);
		t->index_fd = -1;
		weir_log_index_free(t->index);
		free(t->index);
		t->index = NULL;
	}
	if (t->checkpoint_fd >= 0)
		close(t->checkpoint_fd);
	t->checkpoint_fd = -1;
	free(t->buf);
	t->buf = NULL;
	if (t->lock_fd >= 0)
		close(t->lock_fd); /* last: everything above is on file */
	t->lock_fd = -1;
}

void
weir_log_batch_close(struct weir_log_topic *t)
{
	if (!t->batch_open)
		return;
	struct weir_log_batch *b = (struct weir_log_batch *)(t->buf + t->batch_start);
	size_t len = t->buf_len - t->batch_start;
	b->len_bytes = (uint32_t)len;
	b->crc32c = weir_crc32c((const uint8_t *)b + 8, len - 8);
	size_t pad = WEIR_ALIGN8(t->buf_len) - t->buf_len;
	memset(t->buf + t->buf_len, 0, pad);
	t->buf_len += pad;
	t->segment_bytes += pad;
	weir_sw_add(&t->bytes_appended, pad);
	t->batch_open = false;
}

void
weir_log_batch_begin(struct weir_log_topic *t, unsigned worker, uint64_t incarnation, uint64_t ring_pos)
{
	struct weir_log_batch *b = (struct weir_log_batch *)(t->buf + t->buf_len);
	weir_log_index_batch(t->index, t->next_offset, t->segment_bytes);
	*b = (struct weir_log_batch){
		.base_offset = t->next_offset,
		.incarnation = incarnation,
		.base_ring_pos = ring_pos,
		.worker = (uint16_t)worker,
	};
	weir_log_codec_reset(&t->codec, ring_pos);
	t->batch_start = t->buf_len;
	t->batch_open = true;
	t->buf_len += sizeof(*b);
	t->segment_bytes += sizeof(*b);
	weir_sw_add(&t->bytes_appended, sizeof(*b));
}
