#include "tmpdir.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tmpdir.h"
#include "weir_crc32c.h"
#include "weir_log.h"
#include "weir_log_disk.h"
#include "weir_log_index.h"
#include "weir_log_pvt.h"
#include "weir_log_reader.h"
#include "log_walk.h"

static char err[512];

static const struct weir_record *
make_record(uint64_t seq, unsigned payload)
{
	static _Alignas(8) uint8_t buf[4096];
	struct weir_record *r = (struct weir_record *)buf;
	memset(r, 0, sizeof(*r));
	r->len_bytes = (uint32_t)sizeof(*r) + payload;
	r->kind = WEIR_REC_EVENT;
	r->seq = seq;
	memcpy(r->source, "SESSION01", 9);
	for (unsigned i = 0; i < payload; i++)
		buf[sizeof(*r) + i] = (uint8_t)(seq + i);
	return r;
}

static void
append_n(struct weir_log_topic *t, uint64_t first, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(weir_log_topic_append(t, 0, 7, (first + i) * 128, make_record(first + i, 5 + i % 40)), 0);
}

static void
note_last_seq(const struct weir_log_entry *e, void *ctx)
{
	*(uint64_t *)ctx = weir_log_entry_record(e)->seq;
}

/* Reads every segment of dir; returns entries, or -1 on corruption. */
static long
read_all(const char *dir, uint64_t *last_seq)
{
	uint64_t ignored;
	return log_walk(dir, note_last_seq, last_seq ? last_seq : &ignored);
}

static void
segment_file(const char *root, uint64_t base, char *path, size_t len)
{
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/t", root);
	weir_log_segment_path(dir, base, path, len);
}

static void
should_compute_standard_crc32c(void **state)
{
	assert_int_equal(weir_crc32c("123456789", 9), 0xE3069283u);
	assert_int_equal(weir_crc32c("", 0), 0);
}

/* A direct writer stopped without closing (a crash) leaves zeros to its
 * block's end: readers stop cleanly there, recovery cuts nothing and
 * continues inside the partial block, and a close ends the file exactly. */
static void
should_read_and_continue_a_segment_left_with_direct_write_padding(void **state)
{
	(void)state;
	char *root = make_tmpdir(), path[512], dir[400];
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	append_n(&t, 0, 100);
	assert_int_equal(weir_log_topic_sync(&t), 0);
	bool direct = t.direct;
	close(t.fd); /* the crash: no close, no trim (and the kernel drops the lock) */
	close(t.lock_fd);
	free(t.buf);
	close(t.index_fd);
	weir_log_index_free(t.index);
	free(t.index);
	segment_file(root, 0, path, sizeof(path));
	snprintf(dir, sizeof(dir), "%s/t", root);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	if (direct)
		assert_int_equal(st.st_size % 4096, 0);
	else
		fprintf(stderr, "note: %s takes no O_DIRECT: the buffered path was tested\n", root);
	uint64_t last = 0;
	assert_int_equal(read_all(dir, &last), 100);
	assert_int_equal(last, 99);
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	assert_int_equal(t.recovered_truncated_bytes, 0);
	append_n(&t, 100, 50);
	weir_log_topic_close(&t);
	assert_int_equal(read_all(dir, &last), 150);
	assert_int_equal(last, 149);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, t.segment_bytes);
	rm_tmpdir(root);
}

/* The inline path (small buffers) and ISA-L's (large) are one function:
 * they must agree at every length and alignment around the switch. */
static void
should_compute_the_same_crc32c_inline_and_through_isal(void **state)
{
	(void)state;
	static uint8_t buf[700];
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (unsigned off = 0; off < 8; off++)
		for (unsigned len = 0; len + off <= sizeof(buf); len++)
			assert_int_equal(weir_crc32c(buf + off, len), ~crc32_iscsi(buf + off, (int)len, 0xFFFFFFFFu));
}

/* A write the writer thread could not make (the disk full) is reported by
 * the next append or commit, with its errno: never lost silently. */
static void
should_report_a_full_disk_from_the_writer_thread(void **state)
{
	(void)state;
	char *root = make_tmpdir();
	if (mount("tmpfs", root, "tmpfs", 0, "size=256k") != 0) {
		rm_tmpdir(root);
		skip(); /* needs root, as CI has */
	}
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	int rc = 0;
	unsigned n = 0;
	for (; n < 200000 && rc == 0; n++) {
		rc = weir_log_topic_append(&t, 0, 7, n * 128, make_record(n, 40));
		if (rc == 0 && n % 1000 == 999)
			rc = weir_log_topic_flush(&t); /* a commit */
	}
	assert_int_equal(rc, -1);
	assert_int_equal(errno, ENOSPC);
	/* 256 KiB hold about 6,000 entries of 43 bytes: the next commits report it
	 * (here the one at 7,000) */
	assert_true(n < 12000);
	weir_log_topic_close(&t);
	assert_int_equal(umount(root), 0);
	rm_tmpdir(root);
}

static void
should_detect_a_flipped_byte_anywhere_in_an_entry(void **state)
{
	char *root = make_tmpdir(), path[512], dir[400];
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	append_n(&t, 0, 3);
	weir_log_topic_close(&t);
	segment_file(root, 0, path, sizeof(path));
	snprintf(dir, sizeof(dir), "%s/t", root);
	struct stat st;
	stat(path, &st);
	for (off_t at = 16; at < st.st_size; at += 7) {
		int fd = open(path, O_RDWR);
		uint8_t b;
		assert_int_equal(pread(fd, &b, 1, at), 1);
		b ^= 0x10;
		assert_int_equal(pwrite(fd, &b, 1, at), 1);
		long n = read_all(dir, NULL);
		b ^= 0x10;
		assert_int_equal(pwrite(fd, &b, 1, at), 1);
		close(fd);
		/* Flips in alignment padding change no checked byte; all others are caught. */
		if (n != -1)
			assert_int_equal(n, 3);
	}
	assert_int_equal(read_all(dir, NULL), 3);
	rm_tmpdir(root);
}

static void
should_cut_a_torn_tail_on_reopen_and_continue_the_offsets(void **state)
{
	char *root = make_tmpdir(), path[512], dir[400];
	snprintf(dir, sizeof(dir), "%s/t", root);
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	append_n(&t, 0, 9);
	assert_int_equal(weir_log_topic_flush(&t), 0); /* a commit closes the batch */
	append_n(&t, 9, 3);
	weir_log_topic_close(&t);
	segment_file(root, 0, path, sizeof(path));
	struct stat st;
	stat(path, &st);
	/* A crash in the middle of the second batch: it goes whole. */
	assert_int_equal(truncate(path, st.st_size - 20), 0);
	assert_int_equal(read_all(dir, NULL), -1);
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	assert_true(t.recovered_truncated_bytes > 0);
	assert_int_equal(t.next_offset, 9);
	/* so the drain writes its records again from the ring */
	assert_true(weir_log_topic_has(&t, 0, 7, 8 * 128));
	assert_false(weir_log_topic_has(&t, 0, 7, 9 * 128));
	append_n(&t, 100, 2);
	weir_log_topic_close(&t);
	uint64_t last;
	assert_int_equal(read_all(dir, &last), 11);
	assert_int_equal(last, 101);
	rm_tmpdir(root);
}

static void
should_cut_garbage_after_the_last_good_entry(void **state)
{
	char *root = make_tmpdir(), path[512], dir[400];
	snprintf(dir, sizeof(dir), "%s/t", root);
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	append_n(&t, 0, 4);
	weir_log_topic_close(&t);
	segment_file(root, 0, path, sizeof(path));
	FILE *f = fopen(path, "a");
	for (int i = 0; i < 300; i++)
		fputc(0x5A, f);
	fclose(f);
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	assert_int_equal(t.recovered_truncated_bytes, 300);
	assert_int_equal(t.next_offset, 4);
	weir_log_topic_close(&t);
	assert_int_equal(read_all(dir, NULL), 4);
	rm_tmpdir(root);
}

static void
should_rewrite_a_segment_whose_header_was_torn(void **state)
{
	char *root = make_tmpdir(), path[512], dir[400];
	snprintf(dir, sizeof(dir), "%s/t", root);
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	weir_log_topic_close(&t);
	segment_file(root, 0, path, sizeof(path));
	assert_int_equal(truncate(path, 5), 0);
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	append_n(&t, 0, 2);
	weir_log_topic_close(&t);
	assert_int_equal(read_all(dir, NULL), 2);
	rm_tmpdir(root);
}

static void
should_roll_segments_named_by_their_first_offset(void **state)
{
	char *root = make_tmpdir(), dir[400];
	snprintf(dir, sizeof(dir), "%s/t", root);
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	for (unsigned i = 0; i < 10; i++) {
		append_n(&t, i * 50, 50);
		assert_int_equal(weir_log_topic_sync(&t), 0);
		assert_int_equal(weir_log_topic_roll_if_full(&t, 1024), 0);
	}
	weir_log_topic_close(&t);
	uint64_t *bases;
	size_t n;
	assert_int_equal(weir_log_list_segments(dir, &bases, &n), 0);
	assert_true(n >= 5);
	assert_int_equal(bases[0], 0);
	for (size_t i = 1; i < n; i++)
		assert_int_equal(bases[i] % 50, 0);
	free(bases);
	uint64_t last;
	assert_int_equal(read_all(dir, &last), 500);
	assert_int_equal(last, 499);
	/* Reopening continues in the last segment at the right offset. */
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	assert_int_equal(t.next_offset, 500);
	weir_log_topic_close(&t);
	rm_tmpdir(root);
}

static void
should_remember_what_each_worker_last_wrote_across_a_reopen(void **state)
{
	char *root = make_tmpdir();
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	assert_int_equal(weir_log_topic_append(&t, 2, 77, 1000, make_record(1, 8)), 0);
	assert_int_equal(weir_log_topic_append(&t, 2, 77, 1200, make_record(2, 8)), 0);
	assert_int_equal(weir_log_topic_append(&t, 5, 77, 64, make_record(3, 8)), 0);
	weir_log_topic_close(&t);
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	assert_true(weir_log_topic_has(&t, 2, 77, 1000));
	assert_true(weir_log_topic_has(&t, 2, 77, 1200));
	assert_false(weir_log_topic_has(&t, 2, 77, 1208));
	assert_true(weir_log_topic_has(&t, 5, 77, 64));
	assert_false(weir_log_topic_has(&t, 3, 77, 0));
	/* Ring positions of another dataplane run mean nothing here. */
	assert_false(weir_log_topic_has(&t, 2, 78, 1000));
	weir_log_topic_close(&t);
	rm_tmpdir(root);
}

/* Every field of every record comes back exactly, whatever the encoder left
 * out: kinds, flags, sources of every length, sequence numbers that jump
 * back, counts, event times, rule ids, empty and large payloads, ring
 * positions in and out of step, three workers and two dataplane runs, with
 * commits (batch ends) and segment rolls at odd points. */
struct roundtrip {
	uint8_t *recs;               /* the records appended, back to back at 8-byte steps */
	size_t *at;
	uint64_t *ring_pos, *incarnation;
	unsigned *worker;
	size_t n, seen;
	bool ok;
};

static void
check_roundtrip(const struct weir_log_entry *e, void *ctx)
{
	struct roundtrip *rt = ctx;
	size_t i = rt->seen++;
	const struct weir_record *want = (const struct weir_record *)(rt->recs + rt->at[i]);
	const struct weir_record *got = weir_log_entry_record(e);
	if (i >= rt->n || e->offset != i || e->ring_pos != rt->ring_pos[i] || e->worker != rt->worker[i] ||
	    e->incarnation != rt->incarnation[i] || got->len_bytes != want->len_bytes ||
	    memcmp(got, want, want->len_bytes) != 0) {
		if (rt->ok)
			fprintf(stderr, "entry %zu differs\n", i);
		rt->ok = false;
	}
}

static void
should_give_back_every_record_exactly_as_appended(void **state)
{
	(void)state;
	char *root = make_tmpdir(), dir[400];
	snprintf(dir, sizeof(dir), "%s/t", root);
	enum { N = 20000 };
	struct roundtrip rt = { .recs = calloc(N, 2048), .at = calloc(N, sizeof(size_t)),
				.ring_pos = calloc(N, 8), .incarnation = calloc(N, 8),
				.worker = calloc(N, sizeof(unsigned)), .n = N, .ok = true };
	uint64_t rng = 0x9E3779B97F4A7C15ull, seq = 100, rx = 1700000000000000000ull, pos[3] = { 0, 0, 0 };
#define RND() (rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17, rng)
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	size_t off = 0;
	for (size_t i = 0; i < N; i++) {
		struct weir_record *r = (struct weir_record *)(rt.recs + off);
		uint64_t x = RND();
		unsigned nrules = x % 7 == 0 ? 1 + (unsigned)(x >> 8) % 5 : 0;
		unsigned plen = x % 11 == 0 ? (unsigned)(x >> 16) % 1500 : (unsigned)(x >> 16) % 40;
		r->len_bytes = (uint32_t)(sizeof(*r) + 4 * nrules + plen);
		r->kind = x % 13 == 0 ? (uint16_t)(1 + (x >> 20) % 5) : WEIR_REC_EVENT;
		r->flags = x % 17 == 0 ? (uint16_t)((x >> 24) & 15) : 0;
		r->topic = x % 19 == 0 ? (uint16_t)(x >> 28) : 3;
		r->reason = x % 23 == 0 ? (uint16_t)(x >> 30) : 0;
		r->port = x % 29 == 0 ? (uint16_t)(x >> 32) : 1;
		r->n_rules = (uint16_t)nrules;
		if (x % 5 == 0) {
			unsigned n = (unsigned)(x >> 36) % 17;
			for (unsigned k = 0; k < n; k++)
				r->source[k] = (uint8_t)RND();
		} else if (i > 0) {
			memcpy(r->source, ((struct weir_record *)(rt.recs + rt.at[i - 1]))->source, WEIR_SOURCE_BYTES);
		}
		seq = x % 9 == 0 ? RND() : x % 31 == 0 ? seq - 5 : seq + 1;
		r->seq = seq;
		r->count = x % 37 == 0 ? RND() : 0;
		rx += x % 4 == 0 ? (RND() % 100000) : 0;
		r->rx_ns = x % 41 == 0 ? rx - 1000 : rx;
		r->event_time_ns = x % 3 == 0 ? RND() : x % 43 == 0 ? 0 : rx - 50;
		uint32_t *rules = (uint32_t *)(r + 1);
		for (unsigned k = 0; k < nrules; k++)
			rules[k] = (uint32_t)RND();
		uint8_t *pay = (uint8_t *)(rules + nrules);
		for (unsigned k = 0; k < plen; k++)
			pay[k] = (uint8_t)RND();
		unsigned w = x % 53 == 0 ? (unsigned)(x >> 40) % 3 : 0;
		uint64_t inc = i < N / 2 ? 7 : 8;
		if (i == N / 2)
			memset(pos, 0, sizeof(pos));
		pos[w] += x % 47 == 0 ? 8 * (RND() % 1000) : 0;
		rt.at[i] = off;
		rt.ring_pos[i] = pos[w];
		rt.worker[i] = w;
		rt.incarnation[i] = inc;
		assert_int_equal(weir_log_topic_append(&t, w, inc, pos[w], r), 0);
		pos[w] += WEIR_ALIGN8(r->len_bytes);
		off += WEIR_ALIGN8(r->len_bytes);
		if (RND() % 500 == 0) {
			assert_int_equal(weir_log_topic_flush(&t), 0);
			assert_int_equal(weir_log_topic_roll_if_full(&t, 256 * 1024), 0);
		}
	}
#undef RND
	weir_log_topic_close(&t);
	assert_int_equal(log_walk(dir, check_roundtrip, &rt), N);
	assert_true(rt.ok);
	assert_true(t.segments_rolled > 0);
	free(rt.recs);
	free(rt.at);
	free(rt.ring_pos);
	free(rt.incarnation);
	free(rt.worker);
	rm_tmpdir(root);
}

/* The point of batches: a stream of small in-order events from one source
 * costs its payload and a few bytes, not a 104-byte header each. */
static void
should_store_small_in_order_events_in_a_few_bytes_over_their_payload(void **state)
{
	(void)state;
	char *root = make_tmpdir();
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	_Alignas(8) uint8_t buf[sizeof(struct weir_record) + 8] = { 0 };
	struct weir_record *r = (struct weir_record *)buf;
	r->len_bytes = sizeof(buf);
	r->kind = WEIR_REC_EVENT;
	memcpy(r->source, "SESSION01", 9);
	uint64_t before = t.bytes_appended;
	for (unsigned i = 0; i < 32000; i++) {
		r->seq = 1000 + i;
		r->rx_ns = 1700000000000000000ull + (i / 32) * 3000; /* a burst of 32 shares its rx time */
		assert_int_equal(weir_log_topic_append(&t, 0, 1, i * (uint64_t)sizeof(buf), r), 0);
		if (i % 4096 == 4095)
			assert_int_equal(weir_log_topic_flush(&t), 0);
	}
	assert_int_equal(weir_log_topic_flush(&t), 0);
	double per = (double)(t.bytes_appended - before) / 32000;
	fprintf(stderr, "note: %.2f bytes on file per 8-byte event\n", per);
	assert_true(per < 10.5); /* flags byte, length byte, payload; rx time once a burst */
	weir_log_topic_close(&t);
	rm_tmpdir(root);
}

static void
should_name_a_version_1_segment_rather_than_call_it_garbage(void **state)
{
	(void)state;
	char *root = make_tmpdir(), path[512];
	snprintf(path, sizeof(path), "%s/00000000000000000000.log", root);
	FILE *f = fopen(path, "w");
	struct weir_log_segment_hdr h = { .magic = WEIR_LOG_MAGIC_V1 };
	fwrite(&h, sizeof(h), 1, f);
	fclose(f);
	struct weir_log_segment s;
	assert_int_equal(weir_log_segment_open(&s, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "version 1"));
	rm_tmpdir(root);
}

/* A topic written and committed the way the drain does it: n records, then
 * a durable commit.  Returns the segment's path in path. */
static void
write_committed(const char *root, unsigned n, char *path, size_t len)
{
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	for (unsigned i = 0; i < n; i += 50) {
		append_n(&t, i, n - i < 50 ? n - i : 50);
		assert_int_equal(weir_log_topic_sync(&t), 0);
		assert_int_equal(weir_log_topic_commit(&t, true), 0);
	}
	weir_log_topic_close(&t);
	segment_file(root, 0, path, len);
}

static off_t
file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
flip_byte(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

/* The outside check's case: one flipped byte in the last segment of an
 * fsynced log was cut as a torn tail, and its offsets given out again. */
static void
should_refuse_a_flipped_byte_before_the_committed_point_and_cut_nothing(void **state)
{
	char *root = make_tmpdir(), path[512];
	write_committed(root, 400, path, sizeof(path));
	off_t size = file_size(path);
	flip_byte(path, size / 3);
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "before the committed point (offset 400"));
	assert_non_null(strstr(err, "weir-read --salvage"));
	weir_log_topic_close(&t);
	assert_int_equal(file_size(path), size); /* nothing cut */
	rm_tmpdir(root);
}

static void
should_refuse_a_last_segment_that_was_deleted(void **state)
{
	char *root = make_tmpdir(), path[512];
	write_committed(root, 100, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing"));
	weir_log_topic_close(&t);
	rm_tmpdir(root);
}

static void
should_refuse_a_last_segment_shortened_below_the_committed_point(void **state)
{
	char *root = make_tmpdir(), path[512];
	write_committed(root, 100, path, sizeof(path));
	assert_int_equal(truncate(path, file_size(path) - 200), 0);
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "before the committed point"));
	weir_log_topic_close(&t);
	rm_tmpdir(root);
}

/* What was written after the last commit never left the ring: a torn write
 * there is cut, and the drain writes it again. */
static void
should_cut_a_torn_tail_after_the_committed_point(void **state)
{
	char *root = make_tmpdir(), path[512], dir[400];
	snprintf(dir, sizeof(dir), "%s/t", root);
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	append_n(&t, 0, 9);
	assert_int_equal(weir_log_topic_sync(&t), 0);
	assert_int_equal(weir_log_topic_commit(&t, true), 0);
	append_n(&t, 9, 3);
	weir_log_topic_close(&t); /* flushed, never committed */
	segment_file(root, 0, path, sizeof(path));
	assert_int_equal(truncate(path, file_size(path) - 20), 0);
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	assert_int_equal(t.next_offset, 9);
	weir_log_topic_close(&t);
	rm_tmpdir(root);
}

static void
should_salvage_every_good_batch_after_the_damage_and_never_reuse_an_offset(void **state)
{
	char *root = make_tmpdir(), path[512], dir[400];
	snprintf(dir, sizeof(dir), "%s/t", root);
	write_committed(root, 400, path, sizeof(path));
	flip_byte(path, file_size(path) / 3);
	struct weir_log_salvage sv;
	assert_int_equal(weir_log_salvage(dir, &sv, err, sizeof(err)), 0);
	assert_int_equal(sv.n_holes, 1);
	assert_int_equal(sv.records_kept + sv.records_lost, 400); /* every record kept or stated lost */
	assert_true(sv.holes[0].first > 0 && sv.holes[0].last < 399); /* batches after it were kept */
	assert_int_equal(sv.next_offset, 400);
	assert_true(file_size(sv.damaged_path) > 0); /* the evidence stays */
	struct weir_log_hole *holes;
	size_t n;
	assert_int_equal(weir_log_holes_read(dir, &holes, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(holes[0].first, sv.holes[0].first);
	free(holes);
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	assert_int_equal(t.next_offset, 400);
	append_n(&t, 1000, 1);
	assert_int_equal(t.next_offset, 401);
	weir_log_topic_close(&t);
	rm_tmpdir(root);
}

static void
should_salvage_a_lost_committed_tail_by_moving_the_next_offset_past_it(void **state)
{
	char *root = make_tmpdir(), path[512], dir[400];
	snprintf(dir, sizeof(dir), "%s/t", root);
	write_committed(root, 100, path, sizeof(path));
	assert_int_equal(truncate(path, file_size(path) - 100), 0);
	struct weir_log_salvage sv;
	assert_int_equal(weir_log_salvage(dir, &sv, err, sizeof(err)), 0);
	assert_int_equal(sv.next_offset, 100);
	assert_int_equal(sv.records_kept + sv.records_lost, 100);
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	assert_int_equal(t.next_offset, 100);
	weir_log_topic_close(&t);
	rm_tmpdir(root);
}

static void
should_keep_the_other_checkpoint_slot_when_one_is_torn(void **state)
{
	char *root = make_tmpdir(), path[512], ck[512];
	write_committed(root, 100, path, sizeof(path)); /* commits at 50 and 100 */
	snprintf(ck, sizeof(ck), "%s/t/%s", root, WEIR_LOG_CHECKPOINT_FILE);
	struct weir_log_checkpoint c;
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/t", root);
	assert_int_equal(weir_log_checkpoint_read(dir, &c, err, sizeof(err)), 1);
	assert_int_equal(c.committed_offset, 100);
	flip_byte(ck, (off_t)(c.generation & 1) * 4096 + 20); /* the newer slot */
	assert_int_equal(weir_log_checkpoint_read(dir, &c, err, sizeof(err)), 1);
	assert_int_equal(c.committed_offset, 50);
	rm_tmpdir(root);
}

static void
should_close_a_batch_once_it_holds_64_kib(void **state)
{
	char *root = make_tmpdir(), path[512];
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	append_n(&t, 0, 20000); /* about 600 KiB from one worker, no commit */
	weir_log_topic_close(&t);
	segment_file(root, 0, path, sizeof(path));
	int fd = open(path, O_RDONLY);
	off_t size = file_size(path), pos = sizeof(struct weir_log_segment_hdr);
	unsigned batches = 0;
	while (pos + (off_t)sizeof(struct weir_log_batch) <= size) {
		struct weir_log_batch b;
		assert_int_equal(pread(fd, &b, sizeof(b), pos), sizeof(b));
		assert_true(b.len_bytes <= WEIR_LOG_BATCH_MAX_BYTES + 256);
		pos += (b.len_bytes + 7) & ~7u;
		batches++;
	}
	close(fd);
	assert_true(batches >= 8); /* one a 1 MiB buffer without the bound */
	rm_tmpdir(root);
}

/* Damage in many places: every hole is stated, past what the result lists
 * (64) and past any fixed count of runs. */
static void
should_salvage_and_state_every_hole_however_many(void **state)
{
	char *root = make_tmpdir(), path[512], dir[400];
	snprintf(dir, sizeof(dir), "%s/t", root);
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	for (unsigned i = 0; i < 1200; i++) { /* a batch a record: a commit closes each */
		append_n(&t, i, 1);
		assert_int_equal(weir_log_topic_sync(&t), 0);
		assert_int_equal(weir_log_topic_commit(&t, true), 0);
	}
	weir_log_topic_close(&t);
	segment_file(root, 0, path, sizeof(path));
	int fd = open(path, O_RDONLY);
	off_t size = file_size(path), pos = sizeof(struct weir_log_segment_hdr);
	unsigned batch = 0;
	while (pos + (off_t)sizeof(struct weir_log_batch) <= size) {
		struct weir_log_batch b;
		assert_int_equal(pread(fd, &b, sizeof(b), pos), sizeof(b));
		if (batch++ % 2)
			flip_byte(path, pos + 20); /* inside the CRC'd part */
		pos += (b.len_bytes + 7) & ~7u;
	}
	close(fd);
	struct weir_log_salvage sv;
	assert_int_equal(weir_log_salvage(dir, &sv, err, sizeof(err)), 0);
	assert_int_equal(sv.n_holes, 600);
	assert_int_equal(sv.records_kept, 600);
	assert_int_equal(sv.records_lost, 600);
	struct weir_log_hole *holes;
	size_t n;
	assert_int_equal(weir_log_holes_read(dir, &holes, &n), 0);
	assert_int_equal(n, 600);
	assert_int_equal(holes[599].first, 1199);
	free(holes);
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	assert_int_equal(t.next_offset, 1200);
	weir_log_topic_close(&t);
	rm_tmpdir(root);
}

/* Both slots spoiled: the committed point is unknown, so nothing may be cut. */
static void
should_refuse_a_topic_whose_checkpoint_reads_in_neither_slot(void **state)
{
	char *root = make_tmpdir(), path[512], ck[512];
	write_committed(root, 100, path, sizeof(path));
	snprintf(ck, sizeof(ck), "%s/t/%s", root, WEIR_LOG_CHECKPOINT_FILE);
	flip_byte(ck, 20);
	flip_byte(ck, 4096 + 20);
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "neither checkpoint slot is valid"));
	weir_log_topic_close(&t);
	rm_tmpdir(root);
}

/* One writer per topic: a second open (another weir-control on the same
 * log) and a salvage are refused while the first holds it, naming its pid;
 * once it closes (or dies: the kernel drops an flock) the topic opens. */
static void
should_refuse_a_second_writer_of_a_topic_naming_the_first(void **state)
{
	char *root = make_tmpdir(), dir[400], pid[32];
	struct weir_log_topic a, b;
	snprintf(pid, sizeof(pid), "(pid %ld)", (long)getpid());
	assert_int_equal(weir_log_topic_open(&a, root, "t", err, sizeof(err)), 0);
	append_n(&a, 0, 10);
	assert_int_equal(weir_log_topic_open(&b, root, "t", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writer lock is held by another process"));
	assert_non_null(strstr(err, pid));
	weir_log_topic_close(&b);
	struct weir_log_salvage sv;
	snprintf(dir, sizeof(dir), "%s/t", root);
	assert_int_equal(weir_log_salvage(dir, &sv, err, sizeof(err)), -1);
	assert_non_null(strstr(err, pid));
	weir_log_topic_close(&a);
	assert_int_equal(weir_log_topic_open(&b, root, "t", err, sizeof(err)), 0);
	assert_int_equal(b.next_offset, 10);
	weir_log_topic_close(&b);
	rm_tmpdir(root);
}

/* Damage in a sealed (middle) segment: salvage finds it, keeps every good
 * batch, and states exactly the offsets of the one that is bad; the topic
 * then reads whole but for them, and takes appends after its last offset. */
static void
should_salvage_a_damaged_sealed_segment_stating_exactly_its_bad_batch(void **state)
{
	char *root = make_tmpdir(), path[512], dir[400];
	snprintf(dir, sizeof(dir), "%s/t", root);
	struct weir_log_topic t;
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	for (unsigned i = 0; i < 600; i += 50) {
		append_n(&t, i, 50);
		assert_int_equal(weir_log_topic_sync(&t), 0);
		assert_int_equal(weir_log_topic_commit(&t, true), 0);
		assert_int_equal(weir_log_topic_roll_if_full(&t, 4096), 0);
	}
	weir_log_topic_close(&t);
	uint64_t *bases;
	size_t n;
	assert_int_equal(weir_log_list_segments(dir, &bases, &n), 0);
	assert_true(n >= 4);
	weir_log_segment_path(dir, bases[1], path, sizeof(path));
	/* the batch holding the byte to flip: its offsets are what must be stated */
	off_t at = file_size(path) / 2;
	struct weir_log_segment s;
	const struct weir_log_entry *e;
	uint64_t first = UINT64_MAX, last = 0;
	assert_int_equal(weir_log_segment_open(&s, path, err, sizeof(err)), 0);
	while (weir_log_segment_next(&s, &e, err, sizeof(err)) == 1)
		if ((off_t)s.batch_pos <= at && at < (off_t)s.pos) {
			first = e->offset < first ? e->offset : first;
			last = e->offset;
		}
	weir_log_segment_close(&s);
	assert_true(first < last);
	flip_byte(path, at);
	assert_int_equal(read_all(dir, NULL), -1);
	struct weir_log_salvage sv;
	assert_int_equal(weir_log_salvage(dir, &sv, err, sizeof(err)), 0);
	assert_int_equal(sv.n_holes, 1);
	assert_int_equal(sv.holes[0].first, first);
	assert_int_equal(sv.holes[0].last, last);
	assert_int_equal(read_all(dir, NULL), (long)(600 - (last - first + 1)));
	/* A reader says where it went over the hole, only there; from a seek into it, what it went over. */
	struct weir_log_reader *r;
	struct weir_log_item it;
	uint64_t said = 0;
	assert_int_equal(weir_log_reader_open(&r, root, "t", err, sizeof(err)), 0);
	while (weir_log_reader_next(r, &it) == WEIR_LOG_READ_ENTRY)
		if (it.lost_before) {
			assert_int_equal(it.entry->offset, last + 1);
			said += it.lost_before;
		}
	assert_int_equal(said, last - first + 1);
	assert_int_equal(weir_log_reader_seek(r, first + 1), 0);
	assert_int_equal(weir_log_reader_next(r, &it), WEIR_LOG_READ_ENTRY);
	assert_int_equal(it.entry->offset, last + 1);
	assert_int_equal(it.lost_before, last - first);
	weir_log_reader_close(r);
	assert_int_equal(weir_log_salvage(dir, &sv, err, sizeof(err)), 0); /* again: nothing more is lost */
	assert_int_equal(sv.n_holes, 0);
	assert_int_equal(weir_log_topic_open(&t, root, "t", err, sizeof(err)), 0);
	assert_int_equal(t.next_offset, 600);
	weir_log_topic_close(&t);
	free(bases);
	rm_tmpdir(root);
}

/* After a write fails, a direct topic's writer writes nothing more, even
 * once the file system has room again: a later buffer would land past the
 * failed one and leave a hole (zeros on a disk; on a full tmpfs a read of
 * it through a mapping is SIGBUS, which killed weir-control at recovery).
 * The error stays until the topic is closed.  RLIMIT_FSIZE is the full
 * disk here: a write past it fails with EFBIG. */
static void
should_write_nothing_after_a_failed_write(void **state)
{
	(void)state;
	char *dir = make_tmpdir(), path[600];
	snprintf(path, sizeof(path), "%s/segment", dir);
	struct weir_log_topic t;
	memset(&t, 0, sizeof(t));
	t.buf_cap = 4 * WEIR_LOG_BLOCK;
	assert_int_equal(posix_memalign((void **)&t.buf, WEIR_LOG_BLOCK, t.buf_cap + WEIR_LOG_BLOCK), 0);
	t.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(t.fd >= 0);
	assert_int_equal(weir_log_writer_start(&t), 0);
	void (*was_signal)(int) = signal(SIGXFSZ, SIG_IGN);
	struct rlimit was, full;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
	full = was;
	full.rlim_cur = 2 * WEIR_LOG_BLOCK;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &full), 0);
	memset(t.buf, 'a', 3 * WEIR_LOG_BLOCK);
	t.buf_len = 3 * WEIR_LOG_BLOCK;
	assert_int_equal(weir_log_writer_submit(&t), 0); /* queued; two blocks fit */
	assert_int_equal(weir_log_writer_wait_idle(t.writer), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0); /* room again */
	memset(t.buf, 'b', 2 * WEIR_LOG_BLOCK);
	t.buf_len = 2 * WEIR_LOG_BLOCK;
	assert_int_equal(weir_log_writer_submit(&t), -1); /* the error stays: not queued */
	assert_int_equal(errno, EFBIG);
	assert_int_equal(weir_log_writer_wait_idle(t.writer), -1);
	weir_log_writer_stop(&t);
	signal(SIGXFSZ, was_signal);
	struct stat st;
	assert_int_equal(fstat(t.fd, &st), 0);
	assert_int_equal(st.st_size, 2 * WEIR_LOG_BLOCK); /* nothing past the failure */
	close(t.fd);
	free(t.buf);
	rm_tmpdir(dir);
}

/* What a tool makes in a topic has the topic's mode, not the tool's umask:
 * a directory's bits, a file's without x (and, made by root, the
 * directory's owner: tests/integration/test_privilege.py). */
static void
should_make_files_and_directories_in_a_topic_with_its_mode(void **state)
{
	(void)state;
	char *root = make_tmpdir(), path[512];
	mode_t old = umask(022); /* an operator's shell */
	const mode_t dirs[] = { 0750, 0700, 0770 };
	for (unsigned i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/t%u", root, i);
		assert_int_equal(mkdir(path, 0700), 0);
		assert_int_equal(chmod(path, dirs[i]), 0);
		snprintf(path, sizeof(path), "%s/t%u/f", root, i);
		int fd = weir_log_create(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
		assert_true(fd >= 0);
		close(fd);
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, dirs[i] & 0666 & ~022u);
		snprintf(path, sizeof(path), "%s/t%u/readers", root, i);
		assert_int_equal(weir_log_mkdir_like(path), 0);
		assert_int_equal(weir_log_mkdir_like(path), 0); /* there already: fine */
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, dirs[i] & ~022u);
	}
	snprintf(path, sizeof(path), "%s/t0/missing", root); /* O_CREAT is the caller's to give */
	assert_int_equal(weir_log_create(path, O_WRONLY | O_CLOEXEC), -1);
	assert_int_equal(errno, ENOENT);
	umask(old);
	rm_tmpdir(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_compute_standard_crc32c),
		cmocka_unit_test(should_make_files_and_directories_in_a_topic_with_its_mode),
		cmocka_unit_test(should_give_back_every_record_exactly_as_appended),
		cmocka_unit_test(should_store_small_in_order_events_in_a_few_bytes_over_their_payload),
		cmocka_unit_test(should_name_a_version_1_segment_rather_than_call_it_garbage),
		cmocka_unit_test(should_compute_the_same_crc32c_inline_and_through_isal),
		cmocka_unit_test(should_detect_a_flipped_byte_anywhere_in_an_entry),
		cmocka_unit_test(should_read_and_continue_a_segment_left_with_direct_write_padding),
		cmocka_unit_test(should_report_a_full_disk_from_the_writer_thread),
		cmocka_unit_test(should_cut_a_torn_tail_on_reopen_and_continue_the_offsets),
		cmocka_unit_test(should_cut_garbage_after_the_last_good_entry),
		cmocka_unit_test(should_rewrite_a_segment_whose_header_was_torn),
		cmocka_unit_test(should_roll_segments_named_by_their_first_offset),
		cmocka_unit_test(should_remember_what_each_worker_last_wrote_across_a_reopen),
		cmocka_unit_test(should_refuse_a_flipped_byte_before_the_committed_point_and_cut_nothing),
		cmocka_unit_test(should_refuse_a_last_segment_that_was_deleted),
		cmocka_unit_test(should_refuse_a_last_segment_shortened_below_the_committed_point),
		cmocka_unit_test(should_cut_a_torn_tail_after_the_committed_point),
		cmocka_unit_test(should_salvage_every_good_batch_after_the_damage_and_never_reuse_an_offset),
		cmocka_unit_test(should_salvage_a_lost_committed_tail_by_moving_the_next_offset_past_it),
		cmocka_unit_test(should_keep_the_other_checkpoint_slot_when_one_is_torn),
		cmocka_unit_test(should_close_a_batch_once_it_holds_64_kib),
		cmocka_unit_test(should_salvage_and_state_every_hole_however_many),
		cmocka_unit_test(should_refuse_a_topic_whose_checkpoint_reads_in_neither_slot),
		cmocka_unit_test(should_refuse_a_second_writer_of_a_topic_naming_the_first),
		cmocka_unit_test(should_salvage_a_damaged_sealed_segment_stating_exactly_its_bad_batch),
		cmocka_unit_test(should_write_nothing_after_a_failed_write),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
