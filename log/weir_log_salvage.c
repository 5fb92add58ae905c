#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "weir_log_index.h"
#include "weir_log_disk.h"

/* One run of good batches that continue each other: a segment of its own.
 * The holes are what lies between runs, and after the last one up to the
 * committed point. */
struct run {
	uint64_t base;               /* its first offset */
	uint64_t end;                /* one past its last */
	size_t from, to;             /* bytes of the damaged file: batches only */
};

struct runs {
	struct run *r;
	unsigned n, cap;
};

static bool
add_run(struct runs *rs, uint64_t base, size_t at)
{
	if (rs->n == rs->cap) {
		unsigned cap = rs->cap ? rs->cap * 2 : 16;
		struct run *bigger = realloc(rs->r, cap * sizeof(*bigger));
		if (bigger == NULL)
			return false;
		rs->r = bigger;
		rs->cap = cap;
	}
	rs->r[rs->n++] = (struct run){ base, base, at, at };
	return true;
}

static int
read_whole(const char *path, uint8_t **data, size_t *size, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*size = (size_t)st.st_size;
	*data = malloc(*size + 1);
	ssize_t got = *data ? pread(fd, *data, *size, 0) : -1;
	close(fd);
	if (got != (ssize_t)*size) {
		snprintf(err, errlen, "%s: cannot read it whole", path);
		free(*data);
		return -1;
	}
	return 0;
}

static void
note_hole(struct weir_log_salvage *out, uint64_t first, uint64_t last)
{
	if (out->n_holes < WEIR_LOG_SALVAGE_HOLES)
		out->holes[out->n_holes] = (struct weir_log_hole){ first, last };
	out->n_holes++;
	out->records_lost += last - first + 1;
}

/* Walks the damaged segment into runs of good batches; -1 when out of memory. */
static int
find_runs(const uint8_t *data, size_t size, uint64_t base, struct runs *rs, struct weir_log_salvage *out)
{
	char why[256];
	size_t longest, pos = sizeof(struct weir_log_segment_hdr);
	if (!add_run(rs, base, pos))
		return -1;
	while (pos + sizeof(struct weir_log_batch) <= size) {
		struct run *run = &rs->r[rs->n - 1];
		const struct weir_log_batch *b = (const void *)(data + pos);
		if (weir_log_batch_check(b, size - pos, run->end, pos, true, &longest, why, sizeof(why)) == 0) {
			run->end = b->base_offset + b->n_entries;
			out->batches_kept++;
			out->records_kept += b->n_entries;
			pos += WEIR_ALIGN8(b->len_bytes);
			run->to = pos < size ? pos : size;
			continue;
		}
		size_t q = weir_log_batch_resync(data, size, pos, run->end);
		out->bytes_skipped += q - pos;
		if (q == size)
			break;
		if (!add_run(rs, ((const struct weir_log_batch *)(data + q))->base_offset, q))
			return -1;
		pos = q;
	}
	return 0;
}

static int
write_segment(const char *dir, uint64_t base, const uint8_t *bytes, size_t len, size_t *size, char *err,
	      size_t errlen)
{
	char path[PATH_MAX + 32];
	weir_log_segment_path(dir, base, path, sizeof(path));
	int fd = weir_log_create(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
	struct weir_log_segment_hdr h = { .magic = WEIR_LOG_MAGIC, .base_offset = base };
	if (fd < 0 || weir_log_write_all(fd, &h, sizeof(h)) != 0 || weir_log_write_all(fd, bytes, len) != 0 ||
	    fsync(fd) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	*size = sizeof(h) + len;
	return 0;
}

/* Appends the holes between the runs, and from the last to next, to
 * DIR/holes, where weir-read finds them stated; counts them in out. */
static int
record_holes(const char *dir, const struct runs *rs, uint64_t next, struct weir_log_salvage *out, char *err,
	     size_t errlen)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", dir, WEIR_LOG_HOLES_FILE);
	int fd = weir_log_create(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (f == NULL) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < rs->n; i++) {
		uint64_t first = rs->r[i].end, end = i + 1 < rs->n ? rs->r[i + 1].base : next;
		if (first >= end)
			continue;
		note_hole(out, first, end - 1);
		fprintf(f, "%" PRIu64 " %" PRIu64 " salvaged; damaged segment kept as %s\n", first, end - 1,
			out->damaged_path);
	}
	int rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
	fclose(f);
	if (rc)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return rc;
}

/* Rewrites the runs as segments (an empty one at the committed point when
 * the committed tail is gone) and moves the committed point past them. */
/* The runs as segments, each named by its first offset; *last_base and
 * *size: the last one written. */
static int
write_run_segments(const char *dir, const uint8_t *data, const struct runs *rs, uint64_t *last_base, size_t *size,
		   char *err, size_t errlen)
{
	*last_base = rs->r[0].base;
	for (unsigned i = 0; i < rs->n; i++) {
		if (i > 0 && rs->r[i].from == rs->r[i].to)
			continue;
		if (write_segment(dir, rs->r[i].base, data + rs->r[i].from, rs->r[i].to - rs->r[i].from, size, err,
				  errlen) != 0)
			return -1;
		*last_base = rs->r[i].base;
	}
	return 0;
}

static int
write_runs(const char *dir, const uint8_t *data, const struct runs *rs, struct weir_log_checkpoint *ck,
	   struct weir_log_salvage *out, char *err, size_t errlen)
{
	size_t size = 0;
	uint64_t last_base, next = rs->r[rs->n - 1].end;
	if (write_run_segments(dir, data, rs, &last_base, &size, err, errlen) != 0)
		return -1;
	if (ck->committed_offset > next) {
		/* the next record still gets an offset above what was committed */
		next = ck->committed_offset;
		if (write_segment(dir, next, NULL, 0, &size, err, errlen) != 0)
			return -1;
		last_base = next;
	}
	if (weir_log_fsync_dir(dir) != 0 || record_holes(dir, rs, next, out, err, errlen) != 0)
		return -1;
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", dir, WEIR_LOG_CHECKPOINT_FILE);
	int fd = weir_log_create(path, O_RDWR | O_CREAT | O_CLOEXEC);
	ck->committed_offset = next;
	ck->segment_base = last_base;
	ck->segment_bytes = size;
	if (fd < 0 || weir_log_checkpoint_write(fd, ck, true) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	out->next_offset = next;
	return 0;
}

/* The segment at base read whole and walked into runs of good batches,
 * then moved aside (kept, as evidence): *data and rs for the caller. */
static int
take_apart(const char *dir, uint64_t base, uint8_t **data, struct runs *rs, struct weir_log_salvage *out, char *err,
	   size_t errlen)
{
	char path[PATH_MAX + 32];
	weir_log_segment_path(dir, base, path, sizeof(path));
	size_t size;
	if (read_whole(path, data, &size, err, errlen) != 0)
		return -1;
	if (find_runs(*data, size, base, rs, out) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(out->damaged_path, sizeof(out->damaged_path), "%s.damaged-%lld", path, (long long)time(NULL));
	if (rename(path, out->damaged_path) != 0) {
		snprintf(err, errlen, "%s: cannot move aside: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Whether [first, end) is stated lost in DIR/holes already (an earlier
 * salvage: its segments end short of the next one's base). */
static bool
stated(const char *dir, uint64_t first, uint64_t end)
{
	struct weir_log_hole *h;
	size_t n;
	bool yes = false;
	if (weir_log_holes_read(dir, &h, &n) != 0)
		return false;
	for (size_t i = 0; i < n && !yes; i++)
		yes = h[i].first <= first && h[i].last + 1 >= end;
	free(h);
	return yes;
}

/* A sealed segment whose every entry decodes and which ends where the next
 * one begins (or short of it by a stated hole). */
static bool
sealed_whole(const char *dir, uint64_t base, uint64_t next_base)
{
	char path[PATH_MAX + 32], why[256];
	struct weir_log_segment s;
	weir_log_segment_path(dir, base, path, sizeof(path));
	if (weir_log_segment_open(&s, path, why, sizeof(why)) != 0)
		return false;
	const struct weir_log_entry *e;
	int rc;
	while ((rc = weir_log_segment_next(&s, &e, why, sizeof(why))) == 1)
		;
	bool whole = rc == 0 && s.pos > 0 && s.base_offset == base &&
		     (s.next_offset == next_base || (s.next_offset < next_base && stated(dir, s.next_offset, next_base)));
	weir_log_segment_close(&s);
	return whole;
}

/* A damaged sealed segment: its good batches written back, what is lost up
 * to the next segment stated; its index (of the old bytes) goes. */
static int
salvage_sealed(const char *dir, uint64_t base, uint64_t next_base, struct weir_log_salvage *out, char *err,
	       size_t errlen)
{
	if (sealed_whole(dir, base, next_base))
		return 0;
	uint8_t *data = NULL;
	struct runs rs = { 0 };
	uint64_t last_base;
	size_t size;
	char index[PATH_MAX + 32];
	int rc = take_apart(dir, base, &data, &rs, out, err, errlen);
	if (rc == 0)
		rc = write_run_segments(dir, data, &rs, &last_base, &size, err, errlen);
	if (rc == 0) {
		weir_log_index_path(dir, base, index, sizeof(index));
		unlink(index);
		rc = weir_log_fsync_dir(dir) == 0 ? record_holes(dir, &rs, next_base, out, err, errlen) : -1;
	}
	free(rs.r);
	free(data);
	return rc;
}

/* Every damaged sealed segment, then the last one (always taken apart and
 * written back: the committed point moves past it). */
static int
salvage_locked(const char *dir, struct weir_log_salvage *out, char *err, size_t errlen)
{
	struct weir_log_checkpoint ck = { 0 };
	if (weir_log_checkpoint_read(dir, &ck, err, errlen) < 0)
		return -1;
	uint64_t *bases;
	size_t n_seg;
	if (weir_log_list_segments(dir, &bases, &n_seg) != 0 || n_seg == 0) {
		snprintf(err, errlen, "%s: no segment to salvage", dir);
		free(bases);
		return -1;
	}
	for (size_t i = 0; i + 1 < n_seg; i++)
		if (salvage_sealed(dir, bases[i], bases[i + 1], out, err, errlen) != 0) {
			free(bases);
			return -1;
		}
	uint64_t base = bases[n_seg - 1];
	free(bases);
	uint8_t *data = NULL;
	struct runs rs = { 0 };
	int rc = take_apart(dir, base, &data, &rs, out, err, errlen);
	if (rc == 0)
		rc = write_runs(dir, data, &rs, &ck, out, err, errlen);
	free(rs.r);
	free(data);
	return rc;
}

/* Under the topic's writer lock: never beside a weir-control writing it. */
int
weir_log_salvage(const char *dir, struct weir_log_salvage *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int lock = weir_log_lock_topic(dir, err, errlen);
	if (lock < 0)
		return -1;
	int rc = salvage_locked(dir, out, err, errlen);
	close(lock);
	return rc;
}

static int
cmp_hole(const void *a, const void *b)
{
	const struct weir_log_hole *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

int
weir_log_holes_read(const char *dir, struct weir_log_hole **holes, size_t *n)
{
	*holes = NULL;
	*n = 0;
	char path[PATH_MAX + 32], line[PATH_MAX + 200];
	snprintf(path, sizeof(path), "%s/%s", dir, WEIR_LOG_HOLES_FILE);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	size_t cap = 0;
	while (fgets(line, sizeof(line), f)) {
		char *end;
		struct weir_log_hole h;
		h.first = strtoull(line, &end, 10);
		h.last = strtoull(end, &end, 10);
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct weir_log_hole *bigger = realloc(*holes, cap * sizeof(h));
			if (bigger == NULL) {
				fclose(f);
				return -1;
			}
			*holes = bigger;
		}
		(*holes)[(*n)++] = h;
	}
	fclose(f);
	qsort(*holes, *n, sizeof(**holes), cmp_hole);
	return 0;
}
