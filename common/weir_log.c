#define _GNU_SOURCE /* O_DIRECT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir_crc32c.h"
#include "weir_log.h"

#define LOG_BUF_BYTES (1u << 20)
#define LOG_BLOCK 4096u

void
weir_log_segment_path(const char *dir, uint64_t base, char *path, size_t len)
{
	snprintf(path, len, "%s/%020" PRIu64 ".log", dir, base);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int
weir_log_list_segments(const char *dir, uint64_t **bases, size_t *n)
{
	*bases = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		if (strlen(nm) != 24 || strcmp(nm + 20, ".log") != 0)
			continue;
		char *end;
		uint64_t base = strtoull(nm, &end, 10);
		if (end != nm + 20)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			uint64_t *nb = realloc(*bases, cap * sizeof(**bases));
			if (nb == NULL) {
				closedir(d);
				return -1;
			}
			*bases = nb;
		}
		(*bases)[(*n)++] = base;
	}
	closedir(d);
	if (*n)
		qsort(*bases, *n, sizeof(**bases), cmp_u64);
	return 0;
}

int
weir_log_segment_open(struct weir_log_segment *s, const char *path, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->fd = open(path, O_RDONLY);
	if (s->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(s->fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(s->fd);
		return -1;
	}
	s->size = (size_t)st.st_size;
	if (s->size > 0) {
		s->map = mmap(NULL, s->size, PROT_READ, MAP_SHARED, s->fd, 0);
		if (s->map == MAP_FAILED) {
			snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
			close(s->fd);
			return -1;
		}
	}
	if (s->size < sizeof(struct weir_log_segment_hdr)) {
		s->pos = 0;
		return 0; /* torn before its header was whole: next() reports it */
	}
	const struct weir_log_segment_hdr *h = (const void *)s->map;
	if (h->magic != WEIR_LOG_MAGIC) {
		snprintf(err, errlen, "%s: not a weir log segment (bad magic)", path);
		weir_log_segment_close(s);
		return -1;
	}
	s->base_offset = h->base_offset;
	s->next_offset = h->base_offset;
	s->pos = sizeof(*h);
	return 0;
}

int
weir_log_segment_next(struct weir_log_segment *s, const struct weir_log_entry **out, char *err, size_t errlen)
{
	if (s->pos == 0) {
		snprintf(err, errlen, "segment header torn (%zu bytes)", s->size);
		return -1;
	}
	if (s->pos == s->size)
		return 0;
	size_t left = s->size - s->pos;
	const struct weir_log_entry *e = (const void *)(s->map + s->pos);
	if (left < LOG_BLOCK && left >= 4 && e->len_bytes == 0) {
		/* Zeros to the block's end: where a direct write stopped (the
		 * writer was not closed); the entries before it are whole. */
		size_t i = s->pos;
		while (i < s->size && s->map[i] == 0)
			i++;
		if (i == s->size)
			return 0;
	}
	if (left < sizeof(*e) + sizeof(struct weir_record)) {
		snprintf(err, errlen, "torn entry header at byte %zu (%zu bytes left)", s->pos, left);
		return -1;
	}
	if (e->len_bytes < sizeof(*e) + sizeof(struct weir_record) || e->len_bytes > left) {
		snprintf(err, errlen, "entry at byte %zu claims %u bytes, %zu present", s->pos, e->len_bytes, left);
		return -1;
	}
	uint32_t crc = weir_crc32c((const uint8_t *)e + 8, e->len_bytes - 8);
	if (crc != e->crc32c) {
		snprintf(err, errlen, "CRC mismatch at byte %zu (stored %08x, computed %08x)", s->pos, e->crc32c, crc);
		return -1;
	}
	const struct weir_record *r = weir_log_entry_record(e);
	if (r->len_bytes != e->len_bytes - sizeof(*e) || 4ull * r->n_rules > r->len_bytes - sizeof(*r)) {
		snprintf(err, errlen, "record length %u disagrees with entry length %u at byte %zu", r->len_bytes,
			 e->len_bytes, s->pos);
		return -1;
	}
	if (e->offset != s->next_offset) {
		snprintf(err, errlen, "entry at byte %zu has offset %" PRIu64 ", expected %" PRIu64, s->pos,
			 e->offset, s->next_offset);
		return -1;
	}
	size_t next = s->pos + WEIR_ALIGN8(e->len_bytes);
	if (next > s->size)
		next = s->size; /* last entry's alignment padding not written yet */
	s->pos = next;
	s->next_offset++;
	*out = e;
	return 1;
}

void
weir_log_segment_close(struct weir_log_segment *s)
{
	if (s->map && s->map != MAP_FAILED)
		munmap((void *)s->map, s->size);
	if (s->fd >= 0)
		close(s->fd);
	s->map = NULL;
	s->fd = -1;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * The writer thread of a direct topic.  A full buffer is handed to it and
 * appends go on into a spare one: the device's time (about 120 ns a record
 * here, two thirds of a synchronous append) overlaps the drain's work.
 * Writes leave in the order they were queued, so a partial block written
 * again later lands after its first version.  A commit waits for the queue
 * to empty before the ring is released: nothing released sits only in
 * memory.
 */
#define WRITER_BUFFERS 4

struct weir_log_writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct { uint8_t *buf; size_t len; uint64_t pos; int fd; } q[WRITER_BUFFERS];
	unsigned head, tail;          /* queued: [head, tail) mod WRITER_BUFFERS */
	uint8_t *spare[WRITER_BUFFERS];
	unsigned n_spare;
	int err;                      /* first write error (errno), reported by the next call */
	bool stop;
};

static void *
writer_main(void *arg)
{
	struct weir_log_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && w->head == w->tail)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->head == w->tail)
			break;
		unsigned slot = w->head % WRITER_BUFFERS;
		uint8_t *buf = w->q[slot].buf;
		size_t len = w->q[slot].len;
		uint64_t pos = w->q[slot].pos;
		int fd = w->q[slot].fd;
		pthread_mutex_unlock(&w->mu);
		int err = 0;
		for (size_t done = 0; done < len && !err;) {
			ssize_t n = pwrite(fd, buf + done, len - done, (off_t)(pos + done));
			if (n > 0)
				done += (size_t)n;
			else if (n == 0 || errno != EINTR)
				err = n == 0 ? EIO : errno;
		}
		pthread_mutex_lock(&w->mu);
		if (err && !w->err)
			w->err = err;
		w->head++;
		w->spare[w->n_spare++] = buf;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int
writer_start(struct weir_log_topic *t)
{
	struct weir_log_writer *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -1;
	for (unsigned i = 0; i < WRITER_BUFFERS - 1; i++)
		if (posix_memalign((void **)&w->spare[w->n_spare++], LOG_BLOCK, t->buf_cap + LOG_BLOCK) != 0) {
			w->n_spare--;
			goto fail;
		}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
		goto fail;
	t->writer = w;
	return 0;
fail:
	for (unsigned i = 0; i < w->n_spare; i++)
		free(w->spare[i]);
	free(w);
	return -1;
}

/* Until every queued write is done; -1 (errno set) if one failed. */
static int
writer_wait_idle(struct weir_log_writer *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->head != w->tail)
		pthread_cond_wait(&w->cv, &w->mu);
	int err = w->err;
	w->err = 0;
	pthread_mutex_unlock(&w->mu);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Queues buf (its partial last block zero padded) and carries that block on
 * into a spare buffer, which becomes t->buf. */
static int
writer_submit(struct weir_log_topic *t)
{
	struct weir_log_writer *w = t->writer;
	size_t whole = t->buf_len & ~(size_t)(LOG_BLOCK - 1);
	size_t out = (t->buf_len + LOG_BLOCK - 1) & ~(size_t)(LOG_BLOCK - 1);
	memset(t->buf + t->buf_len, 0, out - t->buf_len);
	pthread_mutex_lock(&w->mu);
	while (w->n_spare == 0)
		pthread_cond_wait(&w->cv, &w->mu);
	int err = w->err;
	w->err = 0;
	uint8_t *next = w->spare[--w->n_spare];
	unsigned slot = w->tail % WRITER_BUFFERS;
	w->q[slot].buf = t->buf;
	w->q[slot].len = out;
	w->q[slot].pos = t->file_pos;
	w->q[slot].fd = t->fd;
	w->tail++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	memcpy(next, t->buf + whole, t->buf_len - whole); /* the writer only reads buf */
	t->buf = next;
	t->file_pos += whole;
	t->buf_len -= whole;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

static void
writer_stop(struct weir_log_topic *t)
{
	struct weir_log_writer *w = t->writer;
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	for (unsigned i = 0; i < w->n_spare; i++)
		free(w->spare[i]);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	t->writer = NULL;
}

/*
 * O_DIRECT where the file system takes it: in a VM the page cache's fresh
 * pages cost more than the disk (buffered appends ran at ~290 MB/s here,
 * direct ones at ~1.2 GB/s).  tmpfs and others refuse it: buffered then.
 * Direct topics write through their writer thread, started here.
 */
static int
open_append(struct weir_log_topic *t, const char *path, int flags)
{
	int fd = open(path, flags | O_DIRECT, 0644);
	t->direct = fd >= 0;
	if (fd < 0 && errno == EINVAL)
		fd = open(path, flags, 0644);
	if (fd >= 0 && t->direct && t->writer == NULL && writer_start(t) != 0) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	return fd;
}

/* Writes buf (its partial last block zero padded) and waits for it. */
static int
write_direct(struct weir_log_topic *t)
{
	return writer_submit(t) == 0 && writer_wait_idle(t->writer) == 0 ? 0 : -1;
}

/* A closed (or rolled) segment ends exactly at its last entry. */
static int
trim_segment(struct weir_log_topic *t)
{
	if (!t->direct)
		return 0;
	return ftruncate(t->fd, (off_t)(t->file_pos + t->buf_len));
}

static int
create_segment(struct weir_log_topic *t, uint64_t base)
{
	char path[PATH_MAX + 32];
	weir_log_segment_path(t->dir, base, path, sizeof(path));
	int fd = open_append(t, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
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
		rc = write_direct(t);
	} else {
		rc = write_all(fd, &h, sizeof(h));
	}
	if (rc != 0 || fsync(fd) != 0 || fsync_dir(t->dir) != 0) {
		close(fd);
		t->fd = -1;
		return -1;
	}
	t->base_offset = base;
	t->next_offset = base;
	t->segment_bytes = sizeof(h);
	return 0;
}

/* Scans the last segment, cuts a torn or corrupt tail and learns what each
 * worker last wrote there. */
static int
recover_last_segment(struct weir_log_topic *t, uint64_t base, char *err, size_t errlen)
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
		return create_segment(t, base);
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
	int fd = open_append(t, path, O_RDWR | O_CLOEXEC);
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
		t->file_pos = good_end & ~(uint64_t)(LOG_BLOCK - 1);
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

int
weir_log_topic_open(struct weir_log_topic *t, const char *root, const char *name, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	snprintf(t->name, sizeof(t->name), "%s", name);
	if ((size_t)snprintf(t->dir, sizeof(t->dir), "%s/%s", root, name) >= sizeof(t->dir)) {
		snprintf(err, errlen, "%s/%s: path too long", root, name);
		return -1;
	}
	if (mkdir_p(t->dir) != 0) {
		snprintf(err, errlen, "%s: cannot create: %s", t->dir, strerror(errno));
		return -1;
	}
	t->buf_cap = LOG_BUF_BYTES;
	/* a block more than it fills: the zero padding of a direct write */
	if (posix_memalign((void **)&t->buf, LOG_BLOCK, t->buf_cap + LOG_BLOCK) != 0)
		t->buf = NULL;
	if (t->buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	uint64_t *bases;
	size_t n;
	if (weir_log_list_segments(t->dir, &bases, &n) != 0) {
		snprintf(err, errlen, "%s: cannot list: %s", t->dir, strerror(errno));
		return -1;
	}
	int rc;
	if (n == 0) {
		rc = create_segment(t, 0);
		if (rc)
			snprintf(err, errlen, "%s: cannot create first segment: %s", t->dir, strerror(errno));
	} else {
		rc = recover_last_segment(t, bases[n - 1], err, errlen);
	}
	free(bases);
	return rc;
}

int
weir_log_topic_flush(struct weir_log_topic *t)
{
	if (t->direct) {
		/* A commit: everything queued and this buffer on the file. */
		if (t->dirty ? write_direct(t) != 0 : writer_wait_idle(t->writer) != 0)
			return -1;
		if (t->dirty)
			t->unsynced = true;
		t->dirty = false;
		return 0;
	}
	if (t->buf_len == 0)
		return 0;
	if (write_all(t->fd, t->buf, t->buf_len) != 0)
		return -1;
	t->buf_len = 0;
	t->unsynced = true;
	return 0;
}

int
weir_log_topic_append(struct weir_log_topic *t, unsigned worker, uint64_t incarnation, uint64_t ring_pos,
		      const struct weir_record *rec)
{
	size_t len = sizeof(struct weir_log_entry) + rec->len_bytes;
	size_t padded = WEIR_ALIGN8(len);
	if (t->buf_len + padded > t->buf_cap) {
		if (t->direct) {
			if (writer_submit(t) != 0)
				return -1;
			t->unsynced = true; /* a commit's flush waits for it */
		} else if (weir_log_topic_flush(t) != 0) {
			return -1;
		}
	}
	if (padded > t->buf_cap)
		return -1;
	struct weir_log_entry *e = (struct weir_log_entry *)(t->buf + t->buf_len);
	e->len_bytes = (uint32_t)len;
	e->offset = t->next_offset;
	e->incarnation = incarnation;
	e->ring_pos = ring_pos;
	e->worker = (uint16_t)worker;
	e->pad16 = 0;
	e->pad32 = 0;
	memcpy(e + 1, rec, rec->len_bytes);
	memset((uint8_t *)e + len, 0, padded - len);
	e->crc32c = weir_crc32c((const uint8_t *)e + 8, len - 8);
	t->buf_len += padded;
	t->dirty = true;
	t->next_offset++;
	t->segment_bytes += padded;
	t->records_appended++;
	t->bytes_appended += padded;
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
	close(t->fd);
	t->fd = -1;
	t->segments_rolled++;
	return create_segment(t, t->next_offset);
}

void
weir_log_topic_close(struct weir_log_topic *t)
{
	if (t->fd >= 0) {
		if (weir_log_topic_sync(t) == 0 && trim_segment(t) == 0)
			fdatasync(t->fd);
		close(t->fd);
	}
	writer_stop(t);
	t->fd = -1;
	free(t->buf);
	t->buf = NULL;
}
