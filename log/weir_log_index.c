#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir_crc32c.h"
#include "weir_log_index.h"
#include "weir_log_disk.h"

void
weir_log_index_path(const char *dir, uint64_t base, char *path, size_t len)
{
	snprintf(path, len, "%s/%020" PRIu64 ".index", dir, base);
}

void
weir_log_index_reset(struct weir_log_index_builder *b, uint64_t base_offset)
{
	b->base_offset = base_offset;
	b->n_entries = b->n_written = 0;
	b->max_rx = b->max_event = 0;
	b->next_entry_pos = b->block_end_pos = 0;
	b->block_entry = 0;
	b->n_sources = b->block_first_row = 0;
	b->last_row = 0;
	b->sources_partial = false;
	weir_source_map_clear(&b->block_rows);
}

void
weir_log_index_free(struct weir_log_index_builder *b)
{
	free(b->entries);
	free(b->sources);
	weir_source_map_free(&b->block_rows);
	memset(b, 0, sizeof(*b));
}

static void
new_block(struct weir_log_index_builder *b, uint64_t pos)
{
	b->block_entry = (uint32_t)(b->n_entries - 1);
	b->block_end_pos = pos + WEIR_LOG_INDEX_SOURCE_BLOCK;
	b->block_first_row = b->n_sources;
	b->last_row = 0;
	weir_source_map_clear(&b->block_rows);
}

void
weir_log_index_batch(struct weir_log_index_builder *b, uint64_t offset, uint64_t pos)
{
	if (pos < b->next_entry_pos)
		return;
	if (b->n_entries == b->cap_entries) {
		size_t cap = b->cap_entries ? b->cap_entries * 2 : 1024;
		struct weir_log_index_entry *e = realloc(b->entries, cap * sizeof(*e));
		if (e == NULL)
			return; /* a sparser index: still right, scans go further */
		b->entries = e;
		b->cap_entries = cap;
	}
	struct weir_log_index_entry *e = &b->entries[b->n_entries++];
	*e = (struct weir_log_index_entry){ .offset = offset, .pos = pos, .max_rx_before = b->max_rx,
					    .max_event_before = b->max_event };
	e->crc32c = weir_crc32c(e, offsetof(struct weir_log_index_entry, crc32c));
	b->next_entry_pos = pos + WEIR_LOG_INDEX_INTERVAL;
	if (pos >= b->block_end_pos)
		new_block(b, pos);
}

/* The row of src in the current block, added when new; -1 when out of room. */
static long
source_row(struct weir_log_index_builder *b, const uint8_t *src)
{
	uint32_t in_block = weir_source_map_get(&b->block_rows, src);
	if (in_block != WEIR_SOURCE_MAP_NONE)
		return (long)(b->block_first_row + in_block);
	if (b->n_sources == WEIR_LOG_INDEX_SOURCE_ROWS_MAX)
		return -1;
	if (b->n_sources == b->cap_sources) {
		size_t cap = b->cap_sources ? b->cap_sources * 2 : 256;
		struct weir_log_index_source *r = realloc(b->sources, cap * sizeof(*r));
		if (r == NULL)
			return -1;
		b->sources = r;
		b->cap_sources = cap;
	}
	bool added;
	if (weir_source_map_put(&b->block_rows, src, (uint32_t)(b->n_sources - b->block_first_row), &added) ==
	    WEIR_SOURCE_MAP_NONE)
		return -1;
	struct weir_log_index_source *r = &b->sources[b->n_sources];
	memset(r, 0, sizeof(*r));
	memcpy(r->source, src, WEIR_SOURCE_BYTES);
	r->entry = b->block_entry;
	return (long)b->n_sources++;
}

void
weir_log_index_record(struct weir_log_index_builder *b, const struct weir_record *r)
{
	if (r->rx_ns > b->max_rx)
		b->max_rx = r->rx_ns;
	if (r->event_time_ns > b->max_event)
		b->max_event = r->event_time_ns;
	if (b->sources_partial || b->n_entries == 0)
		return;
	size_t row = b->last_row - 1;
	if (b->last_row == 0 || memcmp(b->sources[row].source, r->source, WEIR_SOURCE_BYTES) != 0) {
		long got = source_row(b, r->source);
		if (got < 0) {
			b->sources_partial = true;
			return;
		}
		row = (size_t)got; /* a new row's max_seq is 0; an old one's stays (numbers go back: late fills, restarts) */
		b->last_row = row + 1;
	}
	if (r->seq > b->sources[row].max_seq)
		b->sources[row].max_seq = r->seq;
}

static void
header_fill(const struct weir_log_index_builder *b, struct weir_log_index_hdr *h)
{
	*h = (struct weir_log_index_hdr){ .magic = WEIR_LOG_INDEX_MAGIC, .base_offset = b->base_offset,
					  .version = WEIR_LOG_INDEX_VERSION, .interval = WEIR_LOG_INDEX_INTERVAL,
					  .source_block = WEIR_LOG_INDEX_SOURCE_BLOCK };
	h->crc32c = weir_crc32c(h, offsetof(struct weir_log_index_hdr, crc32c));
}

int
weir_log_index_write_header(const struct weir_log_index_builder *b, int fd)
{
	struct weir_log_index_hdr h;
	header_fill(b, &h);
	return weir_log_write_all(fd, &h, sizeof(h));
}

int
weir_log_index_write_entries(struct weir_log_index_builder *b, int fd)
{
	if (b->n_written == b->n_entries)
		return 0;
	if (weir_log_write_all(fd, b->entries + b->n_written, (b->n_entries - b->n_written) * sizeof(*b->entries)) != 0)
		return -1;
	b->n_written = b->n_entries;
	return 0;
}

static int
cmp_source_row(const void *a, const void *b)
{
	const struct weir_log_index_source *x = a, *y = b;
	int c = memcmp(x->source, y->source, WEIR_SOURCE_BYTES);
	return c ? c : (x->entry > y->entry) - (x->entry < y->entry);
}

/* Summaries of the sorted rows; NULL when out of memory. */
static struct weir_log_index_summary *
summarize(const struct weir_log_index_source *rows, size_t n_rows, size_t *n_out)
{
	struct weir_log_index_summary *sm = malloc((n_rows ? n_rows : 1) * sizeof(*sm));
	size_t k = 0;
	for (size_t i = 0; sm && i < n_rows; i++) {
		if (k && memcmp(sm[k - 1].source, rows[i].source, WEIR_SOURCE_BYTES) == 0) {
			sm[k - 1].n_rows++;
			if (rows[i].max_seq > sm[k - 1].max_seq)
				sm[k - 1].max_seq = rows[i].max_seq;
			continue;
		}
		memcpy(sm[k].source, rows[i].source, WEIR_SOURCE_BYTES);
		sm[k].max_seq = rows[i].max_seq;
		sm[k].first_row = (uint32_t)i;
		sm[k].n_rows = 1;
		k++;
	}
	*n_out = k;
	return sm;
}

/* Sorts the rows and fills the footer (its CRCs but the file's); *sm: the
 * summaries, for the caller to free. */
static int
seal_prepare(struct weir_log_index_builder *b, uint64_t next_offset, uint64_t segment_bytes,
	     struct weir_log_index_footer *f, struct weir_log_index_summary **sm)
{
	size_t n_rows = b->sources_partial ? 0 : b->n_sources, n_summary;
	if (n_rows)
		qsort(b->sources, n_rows, sizeof(*b->sources), cmp_source_row);
	*sm = summarize(b->sources, n_rows, &n_summary);
	if (*sm == NULL)
		return -1;
	*f = (struct weir_log_index_footer){
		.magic = WEIR_LOG_INDEX_FOOTER_MAGIC, .n_entries = b->n_entries, .n_rows = n_rows,
		.n_summary = n_summary, .next_offset = next_offset, .segment_bytes = segment_bytes,
		.max_rx = b->max_rx, .max_event = b->max_event,
		.flags = b->sources_partial ? WEIR_LOG_INDEX_SOURCES_PARTIAL : 0,
	};
	f->summary_crc = weir_crc32c(*sm, n_summary * sizeof(**sm));
	f->footer_crc = weir_crc32c(f, offsetof(struct weir_log_index_footer, footer_crc));
	return 0;
}

int
weir_log_index_seal(struct weir_log_index_builder *b, int fd, uint64_t next_offset, uint64_t segment_bytes)
{
	if (weir_log_index_write_entries(b, fd) != 0)
		return -1;
	struct weir_log_index_footer f;
	struct weir_log_index_summary *sm;
	if (seal_prepare(b, next_offset, segment_bytes, &f, &sm) != 0)
		return -1;
	/* The CRC covers the file as written: the header is rebuilt, not read back. */
	struct weir_log_index_hdr h;
	header_fill(b, &h);
	uint32_t crc = weir_crc32c(&h, sizeof(h));
	crc = weir_crc32c_extend(crc, b->entries, b->n_entries * sizeof(*b->entries));
	crc = weir_crc32c_extend(crc, b->sources, f.n_rows * sizeof(*b->sources));
	crc = weir_crc32c_extend(crc, sm, f.n_summary * sizeof(*sm));
	f.file_crc = weir_crc32c_extend(crc, &f, offsetof(struct weir_log_index_footer, file_crc));
	int rc = (f.n_rows && weir_log_write_all(fd, b->sources, f.n_rows * sizeof(*b->sources)) != 0) ||
			 (f.n_summary && weir_log_write_all(fd, sm, f.n_summary * sizeof(*sm)) != 0) ||
			 weir_log_write_all(fd, &f, sizeof(f)) != 0
		 ? -1
		 : 0;
	free(sm);
	return rc;
}

void
weir_log_index_release(struct weir_log_index *ix)
{
	free(ix->entries);
	free(ix->rows);
	free(ix->summary);
	memset(ix, 0, sizeof(*ix));
}

static bool
entries_ok(const struct weir_log_index_entry *e, size_t n, size_t *good)
{
	for (size_t i = 0; i < n; i++) {
		if (e[i].crc32c != weir_crc32c(&e[i], offsetof(struct weir_log_index_entry, crc32c)) ||
		    (i && (e[i].offset <= e[i - 1].offset || e[i].pos <= e[i - 1].pos ||
			   e[i].max_rx_before < e[i - 1].max_rx_before ||
			   e[i].max_event_before < e[i - 1].max_event_before))) {
			*good = i;
			return false;
		}
	}
	*good = n;
	return true;
}

/* The footer's own checks, against a file of size bytes. */
static bool
footer_ok(const struct weir_log_index_footer *f, size_t size)
{
	return f->magic == WEIR_LOG_INDEX_FOOTER_MAGIC &&
	       f->footer_crc == weir_crc32c(f, offsetof(struct weir_log_index_footer, footer_crc)) &&
	       f->n_entries <= size && f->n_rows <= size && f->n_summary <= f->n_rows &&
	       sizeof(struct weir_log_index_hdr) + f->n_entries * sizeof(struct weir_log_index_entry) +
			       (f->n_rows + f->n_summary) * 32 + sizeof(*f) ==
		       size;
}

static void *
dup_or_one(const void *p, size_t bytes)
{
	void *d = malloc(bytes ? bytes : 1);
	if (d && bytes)
		memcpy(d, p, bytes);
	return d;
}

static void
take_footer(struct weir_log_index *ix, const struct weir_log_index_footer *f)
{
	ix->sealed = true;
	ix->n_entries_on_file = f->n_entries;
	ix->sources_partial = f->flags & WEIR_LOG_INDEX_SOURCES_PARTIAL;
	ix->next_offset = f->next_offset;
	ix->segment_bytes = f->segment_bytes;
	ix->max_rx = f->max_rx;
	ix->max_event = f->max_event;
}

bool
weir_log_index_version_ok(const struct weir_log_index_hdr *h, char *why, size_t whylen)
{
	if (h->version == WEIR_LOG_INDEX_VERSION)
		return true;
	snprintf(why, whylen, "version %u, not %u (written by another weir)", h->version, WEIR_LOG_INDEX_VERSION);
	return false;
}

/* The file's bytes parsed into ix; 1, or -1 with why. */
static int
parse(const uint8_t *buf, size_t size, uint64_t base, bool must_seal, struct weir_log_index *ix, char *why,
      size_t whylen)
{
	const struct weir_log_index_hdr *h = (const void *)buf;
	if (size < sizeof(*h) || h->magic != WEIR_LOG_INDEX_MAGIC ||
	    h->crc32c != weir_crc32c(h, offsetof(struct weir_log_index_hdr, crc32c)) || h->base_offset != base) {
		snprintf(why, whylen, "header torn or bad (%zu bytes)", size);
		return -1;
	}
	if (!weir_log_index_version_ok(h, why, whylen))
		return -1;
	struct weir_log_index_footer fbuf;
	const struct weir_log_index_footer *f = NULL;
	if (size >= sizeof(*h) + sizeof(fbuf)) {
		memcpy(&fbuf, buf + size - sizeof(fbuf), sizeof(fbuf)); /* a cut file leaves it unaligned */
		f = &fbuf;
		if (!footer_ok(f, size) || f->file_crc != weir_crc32c(buf, size - 4))
			f = NULL;
	}
	if (f == NULL && must_seal) {
		snprintf(why, whylen, "no valid footer (truncated, or a flipped byte: its CRC fails)");
		return -1;
	}
	size_t n = f ? f->n_entries : (size - sizeof(*h)) / sizeof(*ix->entries), good;
	const struct weir_log_index_entry *e = (const void *)(h + 1);
	if (!entries_ok(e, n, &good)) {
		snprintf(why, whylen, "entry %zu of %zu fails its CRC or order", good, n);
		return -1;
	}
	size_t nr = f ? f->n_rows : 0, ns = f ? f->n_summary : 0;
	const struct weir_log_index_source *rows = (const void *)(e + n);
	ix->entries = dup_or_one(e, n * sizeof(*e));
	ix->rows = dup_or_one(rows, nr * sizeof(*rows));
	ix->summary = dup_or_one(rows + nr, ns * sizeof(*ix->summary));
	if (ix->entries == NULL || ix->rows == NULL || ix->summary == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	ix->n_entries = n;
	ix->n_rows = nr;
	ix->n_summary = ns;
	for (size_t i = 0; i < nr; i++)
		if (ix->rows[i].entry >= n) {
			snprintf(why, whylen, "source row %zu names entry %u of %zu", i, ix->rows[i].entry, n);
			return -1;
		}
	for (size_t i = 0; i < ns; i++)
		if ((uint64_t)ix->summary[i].first_row + ix->summary[i].n_rows > nr) {
			snprintf(why, whylen, "source summary %zu names rows past %zu", i, nr);
			return -1;
		}
	if (f)
		take_footer(ix, f);
	return 1;
}

/* The footer and summaries alone. */
static int
load_head(int fd, size_t size, struct weir_log_index *ix, char *why, size_t whylen)
{
	struct weir_log_index_footer f;
	if (size < sizeof(struct weir_log_index_hdr) + sizeof(f) ||
	    pread(fd, &f, sizeof(f), (off_t)(size - sizeof(f))) != (ssize_t)sizeof(f) || !footer_ok(&f, size)) {
		snprintf(why, whylen, "no valid footer (truncated, or a flipped byte: its CRC fails)");
		return -1;
	}
	size_t bytes = f.n_summary * sizeof(*ix->summary);
	ix->summary = malloc(bytes ? bytes : 1);
	if (ix->summary == NULL ||
	    pread(fd, ix->summary, bytes, (off_t)(size - sizeof(f) - bytes)) != (ssize_t)bytes ||
	    weir_crc32c(ix->summary, bytes) != f.summary_crc) {
		snprintf(why, whylen, "source summaries fail their CRC");
		return -1;
	}
	ix->n_summary = f.n_summary;
	take_footer(ix, &f);
	return 1;
}

unsigned
weir_log_index_check_sealed(const char *dir, const uint64_t *bases, size_t n,
			    void (*bad)(void *ctx, uint64_t base, int rc, const char *why), void *ctx)
{
	unsigned n_bad = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		struct weir_log_index ix;
		char why[256];
		int rc = weir_log_index_load(dir, bases[i], true, false, &ix, why, sizeof(why));
		weir_log_index_release(&ix);
		if (rc == 1)
			continue;
		n_bad++;
		bad(ctx, bases[i], rc, rc == 0 ? "missing" : why);
	}
	return n_bad;
}

int
weir_log_index_load(const char *dir, uint64_t base, bool sealed, bool head, struct weir_log_index *ix, char *why,
		    size_t whylen)
{
	memset(ix, 0, sizeof(*ix));
	char path[PATH_MAX + 32];
	weir_log_index_path(dir, base, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return errno == ENOENT ? 0 : -1;
	}
	struct stat st;
	uint8_t *buf = NULL;
	int rc = -1;
	if (fstat(fd, &st) != 0) {
		snprintf(why, whylen, "%s", strerror(errno));
	} else if (head) {
		rc = load_head(fd, (size_t)st.st_size, ix, why, whylen);
	} else if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(why, whylen, "out of memory");
	} else if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		snprintf(why, whylen, "short read");
	} else {
		rc = parse(buf, (size_t)st.st_size, base, sealed, ix, why, whylen);
	}
	if (rc == 1 && ix->sealed)
		rc = weir_log_index_check_segment(dir, base, fd, ix, why, whylen);
	free(buf);
	close(fd);
	if (rc < 0)
		weir_log_index_release(ix);
	return rc;
}

/* Feeds the segment's entries up to limit into b. */
static int
scan_segment(const char *path, size_t limit, struct weir_log_index_builder *b, uint64_t *next_offset,
	     uint64_t *bytes, char *err, size_t errlen)
{
	struct weir_log_segment s;
	if (weir_log_segment_open(&s, path, err, errlen) != 0)
		return -1;
	s.view = true;
	if (limit != SIZE_MAX && weir_log_segment_extend(&s, limit, err, errlen) != 0) {
		weir_log_segment_close(&s);
		return -1;
	}
	weir_log_index_reset(b, s.base_offset);
	const struct weir_log_entry *e;
	int rc;
	size_t batch = SIZE_MAX;
	while ((rc = weir_log_segment_next(&s, &e, err, errlen)) == 1) {
		if (s.batch_pos != batch) {
			batch = s.batch_pos;
			weir_log_index_batch(b, e->offset, batch);
		}
		weir_log_index_record(b, weir_log_entry_record(e));
	}
	*next_offset = s.next_offset;
	*bytes = s.pos;
	weir_log_segment_close(&s);
	if (rc < 0) { /* the segment's own words, with its name */
		char why[512];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
	}
	return rc < 0 ? -1 : 0;
}

int
weir_log_index_build(const char *path, size_t limit, bool sealed, struct weir_log_index *ix,
		     struct weir_log_index_builder *scratch, char *err, size_t errlen)
{
	memset(ix, 0, sizeof(*ix));
	uint64_t next, bytes;
	if (scan_segment(path, limit, scratch, &next, &bytes, err, errlen) != 0)
		return -1;
	struct weir_log_index_footer f = { 0 };
	struct weir_log_index_summary *sm = NULL;
	if (sealed && seal_prepare(scratch, next, bytes, &f, &sm) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ix->entries = dup_or_one(scratch->entries, scratch->n_entries * sizeof(*ix->entries));
	ix->rows = dup_or_one(scratch->sources, f.n_rows * sizeof(*ix->rows));
	ix->summary = sm ? sm : malloc(1);
	if (ix->entries == NULL || ix->rows == NULL || ix->summary == NULL) {
		weir_log_index_release(ix);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ix->n_entries = scratch->n_entries;
	ix->n_rows = f.n_rows;
	ix->n_summary = f.n_summary;
	ix->sealed = sealed;
	ix->sources_partial = scratch->sources_partial;
	ix->next_offset = next;
	ix->segment_bytes = bytes;
	ix->max_rx = scratch->max_rx;
	ix->max_event = scratch->max_event;
	return 0;
}

int
weir_log_index_rebuild_file(const char *dir, uint64_t base, char *err, size_t errlen)
{
	char seg[PATH_MAX + 32], path[PATH_MAX + 32], tmp[PATH_MAX + 48];
	weir_log_segment_path(dir, base, seg, sizeof(seg));
	weir_log_index_path(dir, base, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	struct weir_log_index_builder b = { 0 };
	uint64_t next, bytes;
	int rc = scan_segment(seg, SIZE_MAX, &b, &next, &bytes, err, errlen);
	if (rc == 0) {
		int fd = weir_log_create(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
		if (fd < 0 || weir_log_index_write_header(&b, fd) != 0 || weir_log_index_seal(&b, fd, next, bytes) != 0 ||
		    rename(tmp, path) != 0) {
			snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
			unlink(tmp);
			rc = -1;
		}
		if (fd >= 0)
			close(fd);
	}
	weir_log_index_free(&b);
	return rc;
}

long
weir_log_index_find_offset(const struct weir_log_index *ix, uint64_t offset)
{
	long lo = 0, hi = (long)ix->n_entries - 1, got = -1;
	while (lo <= hi) {
		long mid = lo + (hi - lo) / 2;
		if (ix->entries[mid].offset <= offset) {
			got = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return got;
}

long
weir_log_index_find_time(const struct weir_log_index *ix, uint64_t ns, bool event_time)
{
	long lo = 0, hi = (long)ix->n_entries - 1, got = -1;
	while (lo <= hi) {
		long mid = lo + (hi - lo) / 2;
		const struct weir_log_index_entry *e = &ix->entries[mid];
		if ((event_time ? e->max_event_before : e->max_rx_before) < ns) {
			got = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return got;
}

long
weir_log_index_find_source(const struct weir_log_index *ix, const uint8_t source[WEIR_SOURCE_BYTES], uint64_t seq)
{
	if (!ix->sealed || ix->sources_partial)
		return -2;
	size_t lo = 0, hi = ix->n_summary;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(ix->summary[mid].source, source, WEIR_SOURCE_BYTES) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ix->n_summary || memcmp(ix->summary[lo].source, source, WEIR_SOURCE_BYTES) != 0 ||
	    ix->summary[lo].max_seq < seq)
		return -1;
	if (ix->rows == NULL)
		return -3; /* the head only */
	const struct weir_log_index_summary *sm = &ix->summary[lo];
	for (size_t i = sm->first_row; i < (size_t)sm->first_row + sm->n_rows; i++)
		if (ix->rows[i].max_seq >= seq)
			return ix->rows[i].entry;
	return -1;
}
