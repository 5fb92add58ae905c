/* The topic reader: seeks against a brute-force scan, following the
 * committed point, damaged indexes, retention with registered readers. */
#include "tmpdir.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_rng.h"
#include "weir_crc32c.h"
#include "weir_log.h"
#include "weir_log_index.h"
#include "weir_log_reader.h"

static char err[768];

/* What was written, entry by entry, for the brute force. */
struct truth {
	uint64_t rx, evt, seq;
	uint8_t src;
	uint16_t kind;
};

#define N_SOURCES 12
#define SEGMENT_BYTES (3u << 20)

static void
source_key(unsigned s, uint8_t key[WEIR_SOURCE_BYTES])
{
	memset(key, 0, WEIR_SOURCE_BYTES);
	snprintf((char *)key, 11, "S%04u     ", s);
}

struct writer {
	struct weir_log_topic t;
	uint64_t ring_pos[4], next_seq[N_SOURCES], rx;
	struct truth *truth;
	size_t n, cap;
	uint64_t rng;
};

/* One entry: workers interleave in batches, each with its own sources
 * (RSS); sequences have gaps, LOSS records and late fills (a number below
 * one already written); rx runs back a little between workers, event time
 * (where given) by its own clock. */
static void
write_one(struct writer *w, unsigned worker)
{
	static _Alignas(8) uint8_t buf[512];
	struct weir_record *r = (struct weir_record *)buf;
	memset(r, 0, sizeof(*r));
	unsigned s = worker * 3 + test_rng_below(&w->rng, 3);
	unsigned payload = 16 + test_rng_below(&w->rng, 64);
	source_key(s, r->source);
	r->kind = WEIR_REC_EVENT;
	if (test_rng_below(&w->rng, 50) == 0) {
		r->kind = WEIR_REC_LOSS;
		r->count = 1 + test_rng_below(&w->rng, 5);
		r->seq = w->next_seq[s];
		w->next_seq[s] += r->count;
		payload = 0;
	} else {
		if (test_rng_below(&w->rng, 40) == 0)
			w->next_seq[s] += 1 + test_rng_below(&w->rng, 9); /* a gap no LOSS states yet */
		if (test_rng_below(&w->rng, 30) == 0 && w->next_seq[s] > 20) /* a late fill: numbers go back */
			r->seq = w->next_seq[s] - 2 - test_rng_below(&w->rng, 18);
		else
			r->seq = w->next_seq[s]++;
		r->event_time_ns = s % 2 ? 0 : 5000000000ull + w->rx / 2 + test_rng_below(&w->rng, 1000);
	}
	w->rx += test_rng_below(&w->rng, 200);
	r->rx_ns = w->rx - worker * 3000; /* workers' clocks apart: rx is not monotonic in the log */
	r->len_bytes = (uint32_t)sizeof(*r) + payload;
	for (unsigned i = 0; i < payload; i++)
		buf[sizeof(*r) + i] = (uint8_t)(r->seq * 7 + i);
	assert_int_equal(weir_log_topic_append(&w->t, worker, 1, w->ring_pos[worker], r), 0);
	w->ring_pos[worker] += (r->len_bytes + 7) & ~7u;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 65536;
		w->truth = realloc(w->truth, w->cap * sizeof(*w->truth));
	}
	w->truth[w->n++] = (struct truth){ r->rx_ns, r->event_time_ns, r->seq, (uint8_t)s, r->kind };
}

static void
commit(struct writer *w)
{
	assert_int_equal(weir_log_topic_flush(&w->t), 0);
	assert_int_equal(weir_log_topic_commit(&w->t, false), 0);
	assert_int_equal(weir_log_topic_roll_if_full(&w->t, SEGMENT_BYTES), 0);
}

/* n entries, committed every few hundred, over several segments. */
static void
write_log_seeded(struct writer *w, const char *root, size_t n, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->rng = seed;
	w->rx = 1000000;
	assert_int_equal(weir_log_topic_open(&w->t, root, "t", err, sizeof(err)), 0);
	while (w->n < n) {
		unsigned worker = test_rng_below(&w->rng, 4), burst = 1 + test_rng_below(&w->rng, 300);
		for (unsigned i = 0; i < burst && w->n < n; i++)
			write_one(w, worker);
		if (test_rng_below(&w->rng, 3) == 0)
			commit(w);
	}
	commit(w);
}

static void
write_log(struct writer *w, const char *root, size_t n)
{
	write_log_seeded(w, root, n, 42);
}

static long
brute_time(const struct writer *w, uint64_t ns, bool event)
{
	for (size_t i = 0; i < w->n; i++)
		if ((event ? w->truth[i].evt : w->truth[i].rx) >= ns)
			return (long)i;
	return -1;
}

static long
brute_source(const struct writer *w, unsigned s, uint64_t seq)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->truth[i].src == s && w->truth[i].seq >= seq)
			return (long)i;
	return -1;
}

/* The reader's next entry must be offset want (-1: none). */
static void
expect_at(struct weir_log_reader *r, int rc, long want, const struct writer *w)
{
	if (want < 0) {
		assert_int_equal(rc, 0);
		return;
	}
	assert_int_equal(rc, 1);
	struct weir_log_item it;
	assert_int_equal(weir_log_reader_next(r, &it), WEIR_LOG_READ_ENTRY);
	assert_int_equal(it.entry->offset, (uint64_t)want);
	assert_int_equal(it.record->seq, w->truth[want].seq);
	assert_int_equal(it.record->rx_ns, w->truth[want].rx);
}

static void
check_seeks(const struct writer *w, const char *root, uint64_t seed, unsigned rounds, uint64_t *rebuilt)
{
	struct weir_log_reader *r;
	assert_int_equal(weir_log_reader_open(&r, root, "t", err, sizeof(err)), 0);
	uint64_t rng = seed;
	uint64_t max_rx = 0;
	for (size_t i = 0; i < w->n; i++)
		if (w->truth[i].rx > max_rx)
			max_rx = w->truth[i].rx;
	for (unsigned k = 0; k < rounds; k++) {
		uint64_t off = test_rng_next(&rng) % w->n;
		assert_int_equal(weir_log_reader_seek(r, off), 0);
		expect_at(r, 1, (long)off, w);

		uint64_t ns = 900000 + test_rng_next(&rng) % (max_rx - 900000 + 2000);
		expect_at(r, weir_log_reader_seek_time(r, ns, WEIR_LOG_RX_TIME), brute_time(w, ns, false), w);
		uint64_t ens = 5000000000ull + test_rng_next(&rng) % (max_rx / 2 + 2000);
		expect_at(r, weir_log_reader_seek_time(r, ens, WEIR_LOG_EVENT_TIME), brute_time(w, ens, true), w);

		unsigned s = test_rng_below(&rng, N_SOURCES);
		uint64_t seq = test_rng_next(&rng) % (w->next_seq[s] + 3);
		if (k % 2 && w->next_seq[s] > 40) /* near a source's highest: where a late fill's row understated it */
			seq = w->next_seq[s] - test_rng_below(&rng, 40);
		uint8_t key[WEIR_SOURCE_BYTES];
		source_key(s, key);
		expect_at(r, weir_log_reader_seek_source(r, key, seq), brute_source(w, s, seq), w);
	}
	/* a source never seen */
	uint8_t none[WEIR_SOURCE_BYTES];
	source_key(99, none);
	assert_int_equal(weir_log_reader_seek_source(r, none, 0), 0);
	assert_int_equal(weir_log_reader_position(r), w->n);
	struct weir_log_reader_stats st;
	weir_log_reader_stats(r, &st);
	if (rebuilt)
		*rebuilt = st.indexes_rebuilt;
	weir_log_reader_close(r);
}

/* A closed log of n entries in root/t with at least min_segments segments:
 * its directory in dir, the segments' bases returned (caller frees). */
static uint64_t *
closed_log(struct writer *w, const char *root, size_t n, size_t min_segments, char *dir, size_t dirlen,
	   size_t *n_bases)
{
	write_log(w, root, n);
	weir_log_topic_close(&w->t);
	snprintf(dir, dirlen, "%s/t", root);
	uint64_t *bases;
	assert_int_equal(weir_log_list_segments(dir, &bases, n_bases), 0);
	assert_true(*n_bases >= min_segments);
	return bases;
}

static size_t
count_segments(const char *root)
{
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/t", root);
	uint64_t *bases;
	size_t n;
	assert_int_equal(weir_log_list_segments(dir, &bases, &n), 0);
	free(bases);
	return n;
}

static void
should_seek_by_offset_time_and_source_as_a_brute_force_scan_finds(void **state)
{
	(void)state;
	char *root = make_tmpdir();
	static struct writer w;
	write_log(&w, root, 400000);
	assert_true(count_segments(root) >= 8);
	uint64_t rebuilt;
	check_seeks(&w, root, 7, 150, &rebuilt);
	assert_int_equal(rebuilt, 0); /* every index on file was used, the last segment's partial one too */
	weir_log_topic_close(&w.t);
	free(w.truth);
	rm_tmpdir(root);
}

/* Every entry once, in order, from the first: a sequential read. */
static void
should_read_every_entry_once_in_order_with_its_payload_in_place(void **state)
{
	(void)state;
	char *root = make_tmpdir();
	static struct writer w;
	write_log(&w, root, 100000);
	struct weir_log_reader *r;
	assert_int_equal(weir_log_reader_open(&r, root, "t", err, sizeof(err)), 0);
	struct weir_log_item it;
	size_t n = 0;
	while (weir_log_reader_next(r, &it) == WEIR_LOG_READ_ENTRY) {
		assert_int_equal(it.entry->offset, n);
		assert_int_equal(it.record->seq, w.truth[n].seq);
		for (uint32_t i = 0; i < it.payload_len; i++)
			assert_int_equal(it.payload[i], (uint8_t)(it.record->seq * 7 + i));
		n++;
	}
	assert_int_equal(n, w.n);
	weir_log_reader_close(r);
	weir_log_topic_close(&w.t);
	free(w.truth);
	rm_tmpdir(root);
}

static void
flip_byte(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0x10;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

/* Missing, truncated, bit-flipped (in an entry, a source row, the footer):
 * the reader builds it from the segment and answers the same; reopening
 * the topic rewrites it on file. */
static void
should_detect_and_rebuild_a_missing_truncated_or_flipped_index(void **state)
{
	(void)state;
	char *root = make_tmpdir(), dir[600], path[700];
	static struct writer w;
	size_t n;
	uint64_t *bases = closed_log(&w, root, 300000, 5, dir, sizeof(dir), &n);
	weir_log_index_path(dir, bases[0], path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	weir_log_index_path(dir, bases[1], path, sizeof(path));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 10), 0);
	weir_log_index_path(dir, bases[2], path, sizeof(path));
	flip_byte(path, sizeof(struct weir_log_index_hdr) + 40 * 3 + 5); /* an entry's offset */
	weir_log_index_path(dir, bases[3], path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	flip_byte(path, st.st_size - sizeof(struct weir_log_index_footer) + 48); /* the footer's max_rx */
	char why[256];
	for (unsigned i = 0; i < 4; i++) {
		struct weir_log_index ix;
		assert_true(weir_log_index_load(dir, bases[i], true, false, &ix, why, sizeof(why)) != 1);
	}
	uint64_t rebuilt;
	check_seeks(&w, root, 11, 60, &rebuilt);
	assert_true(rebuilt >= 4);
	/* weir-control's open puts them right on file */
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	assert_int_equal(t.indexes_rebuilt, 4);
	weir_log_topic_close(&t);
	for (unsigned i = 0; i + 1 < n; i++) {
		struct weir_log_index ix;
		assert_int_equal(weir_log_index_load(dir, bases[i], true, false, &ix, why, sizeof(why)), 1);
		weir_log_index_release(&ix);
	}
	check_seeks(&w, root, 11, 60, &rebuilt);
	assert_int_equal(rebuilt, 0);
	free(bases);
	free(w.truth);
	rm_tmpdir(root);
}

/* A rebuilt index is the writer's, byte for byte. */
static void
should_rebuild_the_very_index_the_writer_wrote(void **state)
{
	(void)state;
	char *root = make_tmpdir(), dir[600], path[700], copy[720];
	static struct writer w;
	write_log(&w, root, 120000);
	weir_log_topic_close(&w.t);
	snprintf(dir, sizeof(dir), "%s/t", root);
	weir_log_index_path(dir, 0, path, sizeof(path));
	snprintf(copy, sizeof(copy), "%s.orig", path);
	assert_int_equal(rename(path, copy), 0);
	assert_int_equal(weir_log_index_rebuild_file(dir, 0, err, sizeof(err)), 0);
	char cmd[1600];
	snprintf(cmd, sizeof(cmd), "cmp -s %s %s", path, copy);
	assert_int_equal(system(cmd), 0);
	free(w.truth);
	rm_tmpdir(root);
}

/* Nothing past the committed point is given; a commit shows it, to a wait
 * or a refresh; a roll is crossed. */
static void
should_follow_only_as_far_as_the_committed_point(void **state)
{
	(void)state;
	char *root = make_tmpdir();
	static struct writer w;
	write_log(&w, root, 1000);
	struct weir_log_reader *r;
	assert_int_equal(weir_log_reader_open(&r, root, "t", err, sizeof(err)), 0);
	struct weir_log_item it;
	size_t n = 0;
	while (weir_log_reader_next(r, &it) == WEIR_LOG_READ_ENTRY)
		n++;
	assert_int_equal(n, 1000);
	for (unsigned round = 0; round < 40; round++) {
		for (unsigned i = 0; i < 3000; i++)
			write_one(&w, round % 4);
		assert_int_equal(weir_log_topic_flush(&w.t), 0); /* on file, not committed */
		assert_int_equal(weir_log_reader_next(r, &it), WEIR_LOG_READ_END);
		assert_int_equal(weir_log_reader_wait(r, 1), 0);
		commit(&w);
		if (round % 2) { /* a refresh sees the commit, reading nothing */
			assert_int_equal(weir_log_reader_committed(r), n);
			assert_int_equal(weir_log_reader_refresh(r), 0);
			assert_int_equal(weir_log_reader_committed(r), w.n);
			assert_int_equal(weir_log_reader_position(r), n);
		} else {
			assert_int_equal(weir_log_reader_wait(r, 1000), 1);
		}
		while (weir_log_reader_next(r, &it) == WEIR_LOG_READ_ENTRY) {
			assert_int_equal(it.entry->offset, n);
			assert_int_equal(it.record->seq, w.truth[n].seq);
			n++;
		}
		assert_int_equal(n, w.n);
	}
	assert_true(w.t.segments_rolled >= 2);
	weir_log_reader_close(r);
	weir_log_topic_close(&w.t);
	free(w.truth);
	rm_tmpdir(root);
}

/* A reader open since before segments were rolled seeks into one of them,
 * the newest and one between: it lands on the offset, not at the start of
 * the segment after the last it had listed (serve seeks to points there). */
static void
should_seek_into_segments_made_since_the_reader_listed(void **state)
{
	(void)state;
	char *root = make_tmpdir();
	static struct writer w;
	write_log(&w, root, 1000);
	struct weir_log_reader *r;
	assert_int_equal(weir_log_reader_open(&r, root, "t", err, sizeof(err)), 0);
	expect_at(r, weir_log_reader_seek(r, 500) == 0, 500, &w);
	uint64_t rolled = w.t.segments_rolled;
	while (w.t.segments_rolled < rolled + 3) {
		for (unsigned i = 0; i < 3000; i++)
			write_one(&w, i % 4);
		commit(&w);
	}
	assert_true(weir_log_reader_wait(r, 0) >= 0);
	long newest = (long)w.n - 7, between = (long)w.t.base_offset - 100;
	expect_at(r, weir_log_reader_seek(r, (uint64_t)between) == 0, between, &w);
	expect_at(r, weir_log_reader_seek(r, (uint64_t)newest) == 0, newest, &w);
	weir_log_reader_close(r);
	weir_log_topic_close(&w.t);
	free(w.truth);
	rm_tmpdir(root);
}

/* A follower started on a topic weir-control is just making: its first
 * segment there before its checkpoint.  It reads on once both are. */
static void
should_follow_a_topic_from_before_its_first_checkpoint(void **state)
{
	(void)state;
	char *root = make_tmpdir(), dir[600], path[700];
	snprintf(dir, sizeof(dir), "%s/t", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	struct weir_log_reader *r;
	assert_int_equal(weir_log_reader_open(&r, root, "t", err, sizeof(err)), 0);
	struct weir_log_item it;
	assert_int_equal(weir_log_reader_next(r, &it), WEIR_LOG_READ_END); /* nothing at all yet */
	weir_log_segment_path(dir, 0, path, sizeof(path));
	FILE *f = fopen(path, "w");
	struct weir_log_segment_hdr h = { .magic = WEIR_LOG_MAGIC, .base_offset = 0 };
	fwrite(&h, sizeof(h), 1, f);
	fclose(f);
	assert_int_equal(weir_log_reader_next(r, &it), WEIR_LOG_READ_END); /* a segment, no checkpoint yet */
	static struct writer w;
	memset(&w, 0, sizeof(w));
	w.rng = 5;
	w.rx = 1000;
	assert_int_equal(weir_log_topic_open(&w.t, root, "t", err, sizeof(err)), 0);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 500; i++)
			write_one(&w, round % 4);
		commit(&w);
		assert_int_equal(weir_log_reader_wait(r, 100) >= 0, 1);
	}
	size_t n = 0;
	int rc;
	while ((rc = weir_log_reader_next(r, &it)) == WEIR_LOG_READ_ENTRY)
		assert_int_equal(it.entry->offset, n++);
	assert_int_equal(rc, WEIR_LOG_READ_END);
	assert_int_equal(n, w.n);
	weir_log_reader_close(r);
	weir_log_topic_close(&w.t);
	free(w.truth);
	rm_tmpdir(root);
}

/* Size retention deletes the oldest segments, never the one being written,
 * and holds at a registered reader's mark unless hard; then the reader is
 * told it was truncated, and where it goes on. */
static void
should_keep_what_a_registered_reader_has_not_read_unless_retention_is_hard(void **state)
{
	(void)state;
	char *root = make_tmpdir();
	static struct writer w;
	write_log(&w, root, 300000);
	size_t before = count_segments(root);
	assert_true(before >= 6);
	struct weir_log_reader *r;
	assert_int_equal(weir_log_reader_open(&r, root, "t", err, sizeof(err)), 0);
	assert_int_equal(weir_log_reader_register(r, "export"), 0);
	struct weir_log_item it;
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(weir_log_reader_next(r, &it), WEIR_LOG_READ_ENTRY);
	assert_int_equal(weir_log_reader_mark(r, weir_log_reader_position(r)), 0);
	struct weir_log_retention p = { .max_bytes = 2 * SEGMENT_BYTES };
	struct weir_log_retention_stats st = { 0 };
	assert_int_equal(weir_log_retention_apply(w.t.dir, w.t.base_offset, &p, 0, &st, err, sizeof(err)), 0);
	assert_int_equal(st.segments_deleted, 0); /* the reader is in the first */
	assert_int_equal(st.held, 1);
	/* The reader is done with two segments: those go, the third holds. */
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/t", root);
	uint64_t *bases;
	size_t n;
	assert_int_equal(weir_log_list_segments(dir, &bases, &n), 0);
	uint64_t mark = bases[2];
	assert_int_equal(weir_log_reader_mark(r, mark), 0);
	assert_int_equal(weir_log_retention_apply(w.t.dir, w.t.base_offset, &p, 0, &st, err, sizeof(err)), 0);
	assert_int_equal(st.segments_deleted, 2);
	assert_int_equal(st.oldest_offset, bases[2]);
	assert_int_equal(count_segments(root), before - 2);
	/* Hard: the rest down to the bound goes, what was unread is counted. */
	p.hard = true;
	assert_int_equal(weir_log_retention_apply(w.t.dir, w.t.base_offset, &p, 0, &st, err, sizeof(err)), 0);
	size_t after = count_segments(root);
	assert_true(after <= 3 && after >= 2);
	free(bases);
	assert_int_equal(weir_log_list_segments(dir, &bases, &n), 0);
	assert_int_equal(st.unread_deleted, bases[0] - mark);
	assert_true(st.unread_deleted > 0);
	/* the reader, still in a deleted segment it holds open, reads it to its end; then it is told */
	int rc;
	uint64_t got = 0;
	while ((rc = weir_log_reader_next(r, &it)) == WEIR_LOG_READ_ENTRY)
		got++;
	assert_int_equal(rc, WEIR_LOG_READ_TRUNCATED);
	assert_non_null(strstr(weir_log_reader_error(r), "truncated: first offset is now"));
	assert_int_equal(weir_log_reader_position(r), bases[0]);
	assert_int_equal(weir_log_reader_next(r, &it), WEIR_LOG_READ_ENTRY);
	assert_int_equal(it.entry->offset, bases[0]);
	weir_log_reader_close(r);
	free(bases);
	weir_log_topic_close(&w.t);
	free(w.truth);
	rm_tmpdir(root);
}

/* Time retention: a segment whose newest entry is older than the bound goes. */
static void
should_delete_segments_older_than_the_time_bound(void **state)
{
	(void)state;
	char *root = make_tmpdir();
	static struct writer w;
	write_log(&w, root, 300000);
	size_t before = count_segments(root);
	struct weir_log_retention p = { .max_age_ns = 1000 };
	struct weir_log_retention_stats st = { 0 };
	/* "now" just past the newest entry of the first segment + bound */
	assert_int_equal(weir_log_retention_apply(w.t.dir, w.t.base_offset, &p, w.truth[0].rx + 1500, &st, err, sizeof(err)), 0);
	assert_int_equal(st.segments_deleted, 0);
	assert_int_equal(weir_log_retention_apply(w.t.dir, w.t.base_offset, &p, UINT64_MAX / 2, &st, err, sizeof(err)), 0);
	assert_int_equal(st.segments_deleted, before - 1); /* all but the one being written */
	assert_int_equal(count_segments(root), 1);
	assert_int_equal(st.oldest_offset, w.t.base_offset);
	weir_log_topic_close(&w.t);
	free(w.truth);
	rm_tmpdir(root);
}

/* A segment whose header is not weir's (garbage, or a version 1 log) is an
 * error naming the file and what is wrong, at any point of the topic, even
 * with a stale ENOENT in errno (it used to be taken for "deleted since the
 * listing" and retried until the stack ran out). */
static void
should_refuse_a_segment_with_a_foreign_or_old_header_by_name(void **state)
{
	(void)state;
	char *root = make_tmpdir();
	static struct writer w;
	write_log(&w, root, 100000);
	weir_log_topic_close(&w.t);
	assert_true(count_segments(root) >= 2);
	const uint64_t magics[2] = { WEIR_LOG_MAGIC_V1, 0x0123456789abcdefull };
	const char *says[2] = { "a version 1 segment", "not a weir log segment" };
	for (int k = 0; k < 2; k++) {
		char path[700];
		snprintf(path, sizeof(path), "%s/t/%020d.log", root, 0);
		int fd = open(path, O_WRONLY);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, &magics[k], 8, 0), 8);
		close(fd);
		struct weir_log_reader *r;
		assert_int_equal(weir_log_reader_open(&r, root, "t", err, sizeof(err)), 0);
		struct weir_log_item it;
		errno = ENOENT;
		assert_int_equal(weir_log_reader_next(r, &it), WEIR_LOG_READ_ERROR);
		assert_non_null(strstr(weir_log_reader_error(r), path));
		assert_non_null(strstr(weir_log_reader_error(r), says[k]));
		errno = ENOENT;
		assert_true(weir_log_reader_seek(r, 5) < 0);
		assert_non_null(strstr(weir_log_reader_error(r), path));
		weir_log_reader_close(r);
	}
	free(w.truth);
	rm_tmpdir(root);
}

static void
copy_file(const char *from, const char *to)
{
	char cmd[1600];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

/* A valid index that belongs to another segment, of this topic (another
 * base) or of another log (the same base, other entries): never trusted by
 * a seek, rebuilt from the segment instead (it used to skip events). */
static void
should_not_trust_a_valid_index_of_another_segment(void **state)
{
	(void)state;
	char *root = make_tmpdir(), *other = make_tmpdir(), from[700], to[700], dir[600];
	static struct writer w, w2;
	write_log_seeded(&w2, other, 150000, 7);
	weir_log_topic_close(&w2.t);
	size_t n;
	uint64_t *bases = closed_log(&w, root, 150000, 3, dir, sizeof(dir), &n);
	weir_log_index_path(dir, bases[1], from, sizeof(from));
	weir_log_index_path(dir, bases[0], to, sizeof(to));
	copy_file(from, to); /* segment 0 gets segment 1's index */
	snprintf(dir, sizeof(dir), "%s/t", other);
	weir_log_index_path(dir, 0, from, sizeof(from));
	snprintf(dir, sizeof(dir), "%s/t", root);
	weir_log_index_path(dir, bases[1], to, sizeof(to));
	copy_file(from, to); /* segment 1 gets another log's first one */
	struct weir_log_index ix;
	char why[512];
	assert_int_equal(weir_log_index_load(dir, bases[1], true, true, &ix, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "belongs to another segment"));
	uint64_t rebuilt = 0;
	check_seeks(&w, root, 11, 60, &rebuilt);
	assert_true(rebuilt >= 2);
	free(bases);
	free(w.truth);
	free(w2.truth);
	rm_tmpdir(root);
	rm_tmpdir(other);
}

static void
append_event(struct weir_log_topic *t, uint64_t *ring_pos, unsigned s, uint64_t seq)
{
	_Alignas(8) uint8_t buf[sizeof(struct weir_record) + 8] = { 0 };
	struct weir_record *r = (struct weir_record *)buf;
	r->kind = WEIR_REC_EVENT;
	r->len_bytes = sizeof(buf);
	r->seq = seq;
	r->rx_ns = 1000 + *ring_pos;
	source_key(s, r->source);
	assert_int_equal(weir_log_topic_append(t, 0, 1, *ring_pos, r), 0);
	*ring_pos += sizeof(buf);
}

/* A source's numbers that go back after another source's record (a late
 * fill): the index still says its highest, and a seek to it lands there in
 * the segment (sealed) that holds it.  Version 1 indexes said the last
 * number, not the highest: one of them is not read, and weir-control
 * rewrites it at open. */
static void
should_find_a_sources_highest_number_after_its_numbers_went_back(void **state)
{
	(void)state;
	char *root = make_tmpdir(), dir[600], path[700], why[512];
	struct weir_log_topic t;
	uint64_t pos = 0;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	for (uint64_t seq = 1; seq <= 100; seq++)
		append_event(&t, &pos, 0, seq); /* offsets 0-99 */
	append_event(&t, &pos, 1, 1);          /* 100 */
	append_event(&t, &pos, 0, 50);         /* 101: S0's late fill, after S1's record */
	assert_int_equal(weir_log_topic_flush(&t), 0);
	assert_int_equal(weir_log_topic_commit(&t, false), 0);
	assert_int_equal(weir_log_topic_roll_if_full(&t, 1), 0); /* segment 0 sealed */
	append_event(&t, &pos, 1, 2);          /* 102, in segment 102 */
	assert_int_equal(weir_log_topic_flush(&t), 0);
	assert_int_equal(weir_log_topic_commit(&t, false), 0);
	weir_log_topic_close(&t);

	snprintf(dir, sizeof(dir), "%s/t", root);
	uint8_t s0[WEIR_SOURCE_BYTES];
	source_key(0, s0);
	struct weir_log_index ix;
	assert_int_equal(weir_log_index_load(dir, 0, true, false, &ix, why, sizeof(why)), 1);
	assert_int_not_equal(weir_log_index_find_source(&ix, s0, 100), -1);
	weir_log_index_release(&ix);
	struct weir_log_reader *r;
	assert_int_equal(weir_log_reader_open(&r, root, "t", err, sizeof(err)), 0);
	struct weir_log_item it;
	uint64_t want[][2] = { { 100, 99 }, { 99, 98 }, { 51, 50 } };
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(weir_log_reader_seek_source(r, s0, want[i][0]), 1);
		assert_int_equal(weir_log_reader_next(r, &it), WEIR_LOG_READ_ENTRY);
		assert_int_equal(it.entry->offset, want[i][1]);
	}
	assert_int_equal(weir_log_reader_seek_source(r, s0, 101), 0);
	weir_log_reader_close(r);

	/* an index of version 1: refused, head and all; rewritten at open */
	weir_log_index_path(dir, 0, path, sizeof(path));
	int fd = open(path, O_RDWR);
	struct weir_log_index_hdr h;
	assert_int_equal(pread(fd, &h, sizeof(h), 0), sizeof(h));
	h.version = 1;
	h.crc32c = weir_crc32c(&h, offsetof(struct weir_log_index_hdr, crc32c));
	assert_int_equal(pwrite(fd, &h, sizeof(h), 0), sizeof(h));
	close(fd);
	assert_int_equal(weir_log_index_load(dir, 0, true, true, &ix, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "version 1"));
	assert_int_equal(weir_log_index_load(dir, 0, true, false, &ix, why, sizeof(why)), -1);
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	assert_int_equal(t.indexes_rebuilt, 1);
	weir_log_topic_close(&t);
	assert_int_equal(weir_log_index_load(dir, 0, true, true, &ix, why, sizeof(why)), 1);
	weir_log_index_release(&ix);
	rm_tmpdir(root);
}

/* A topic whose first segment is gone: retention's (stated in TOPIC/retained
 * before it deleted) is truncation, anything else is damage, said. */
static void
should_tell_a_lost_first_segment_from_one_retention_deleted(void **state)
{
	(void)state;
	char *root = make_tmpdir(), dir[600], path[700];
	static struct writer w;
	size_t n;
	uint64_t *bases = closed_log(&w, root, 100000, 2, dir, sizeof(dir), &n);
	weir_log_segment_path(dir, 0, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	struct weir_log_reader *r;
	struct weir_log_item it;
	assert_int_equal(weir_log_reader_open(&r, root, "t", err, sizeof(err)), 0);
	assert_int_equal(weir_log_reader_next(r, &it), WEIR_LOG_READ_ERROR);
	assert_non_null(strstr(weir_log_reader_error(r), "are missing"));
	weir_log_reader_close(r);
	/* once a bounded retention states where the topic starts (a log it
	 * trimmed before it said so), reading starts there */
	struct weir_log_retention p = { .max_bytes = 1ull << 40 };
	struct weir_log_retention_stats st = { 0 };
	assert_int_equal(weir_log_retention_apply(dir, bases[n - 1], &p, 1, &st, err, sizeof(err)), 0);
	assert_int_equal(weir_log_reader_open(&r, root, "t", err, sizeof(err)), 0);
	assert_int_equal(weir_log_reader_next(r, &it), WEIR_LOG_READ_ENTRY);
	assert_int_equal(it.entry->offset, bases[1]);
	weir_log_reader_close(r);
	free(bases);
	free(w.truth);
	rm_tmpdir(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_seek_by_offset_time_and_source_as_a_brute_force_scan_finds),
		cmocka_unit_test(should_read_every_entry_once_in_order_with_its_payload_in_place),
		cmocka_unit_test(should_detect_and_rebuild_a_missing_truncated_or_flipped_index),
		cmocka_unit_test(should_rebuild_the_very_index_the_writer_wrote),
		cmocka_unit_test(should_follow_only_as_far_as_the_committed_point),
		cmocka_unit_test(should_seek_into_segments_made_since_the_reader_listed),
		cmocka_unit_test(should_follow_a_topic_from_before_its_first_checkpoint),
		cmocka_unit_test(should_keep_what_a_registered_reader_has_not_read_unless_retention_is_hard),
		cmocka_unit_test(should_delete_segments_older_than_the_time_bound),
		cmocka_unit_test(should_refuse_a_segment_with_a_foreign_or_old_header_by_name),
		cmocka_unit_test(should_not_trust_a_valid_index_of_another_segment),
		cmocka_unit_test(should_find_a_sources_highest_number_after_its_numbers_went_back),
		cmocka_unit_test(should_tell_a_lost_first_segment_from_one_retention_deleted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
