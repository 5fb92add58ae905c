/*
 * serve's follower (replay/weir_replay_follow.c) over a real log: it points
 * into the newest segment and follows the log into the segments after it;
 * retention deleting beneath it starts it over at the newest segment, with
 * no point left into what was deleted (a request would seek there).
 */
#include "tmpdir.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <string.h>
#include <cmocka.h>

#include "weir_log.h"
#include "weir_log_reader.h"
#include "weir_replay_follow.h"

#define SEGMENT (256u << 10)

static char err[768];
static const uint8_t A[16] = "SESSIONA  ", B[16] = "SESSIONB  ";

struct feed {
	struct weir_log_topic t;
	uint64_t ring_pos, next_a, next_b;
};

static void
append(struct feed *f, const uint8_t *key, uint64_t seq)
{
	static _Alignas(8) uint8_t buf[sizeof(struct weir_record) + 100];
	struct weir_record *r = (struct weir_record *)buf;
	memset(buf, (int)seq, sizeof(buf));
	memset(r, 0, sizeof(*r));
	r->kind = WEIR_REC_EVENT;
	memcpy(r->source, key, WEIR_SOURCE_BYTES);
	r->seq = seq;
	r->rx_ns = 1000 + seq;
	r->len_bytes = sizeof(buf);
	assert_int_equal(weir_log_topic_append(&f->t, 0, 1, f->ring_pos, r), 0);
	f->ring_pos += sizeof(buf);
}

/* n numbers more of each of A and B, interleaved, committed every 100. */
static void
write_more(struct feed *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		append(f, A, ++f->next_a);
		append(f, B, ++f->next_b);
		if (i % 50 == 49 || i == n - 1) {
			assert_int_equal(weir_log_topic_flush(&f->t), 0);
			assert_int_equal(weir_log_topic_commit(&f->t, false), 0);
			assert_int_equal(weir_log_topic_roll_if_full(&f->t, SEGMENT), 0);
		}
	}
}

/* The point for (key, seq), read back by a reader that seeks there: at or
 * below seq, within 32 new highest numbers of it, at or past lowest.
 * false: no point. */
static bool
check_point(struct weir_replay_follow *fl, struct weir_log_reader *r, const uint8_t *key, uint64_t seq,
	    uint64_t lowest)
{
	uint64_t at;
	if (!weir_replay_hints_find(&fl->hints, key, seq, &at))
		return false;
	assert_true(at >= lowest);
	assert_int_equal(weir_log_reader_seek(r, at), 0);
	struct weir_log_item it;
	assert_int_equal(weir_log_reader_next(r, &it), WEIR_LOG_READ_ENTRY);
	assert_int_equal(it.entry->offset, at);
	assert_memory_equal(it.record->source, key, WEIR_SOURCE_BYTES);
	assert_true(it.record->seq <= seq);
	assert_true(seq - it.record->seq < 32);
	return true;
}

static void
should_point_into_the_newest_segment_and_follow_on_into_the_next(void **state)
{
	(void)state;
	char *root = make_tmpdir();
	static struct feed f;
	memset(&f, 0, sizeof(f));
	assert_int_equal(weir_log_topic_open(&f.t, root, "t", err, sizeof(err)), 0);
	write_more(&f, 3000); /* about 4 segments */
	struct weir_replay_follow fl;
	assert_int_equal(weir_replay_follow_open(&fl, root, "t", err, sizeof(err)), 0);
	weir_replay_follow_step(&fl, UINT_MAX);
	assert_true(fl.base > 0);
	assert_int_equal(fl.base, f.t.base_offset); /* the segment being written */
	struct weir_log_reader *r;
	assert_int_equal(weir_log_reader_open(&r, root, "t", err, sizeof(err)), 0);
	assert_false(check_point(&fl, r, A, 1, 0)); /* older segments: read without a point */
	assert_true(check_point(&fl, r, A, 3000, fl.base));
	assert_true(check_point(&fl, r, B, 2990, fl.base));
	uint64_t base = fl.base;
	write_more(&f, 3000); /* on into new segments */
	assert_true(f.t.base_offset > base);
	weir_log_reader_wait(r, 0);
	weir_replay_follow_step(&fl, UINT_MAX);
	assert_int_equal(fl.base, base); /* within its bound: it goes on, not over */
	for (uint64_t seq = 3000; seq <= 6000; seq += 97) {
		assert_true(check_point(&fl, r, A, seq, base));
		assert_true(check_point(&fl, r, B, seq, base));
	}
	weir_log_reader_close(r);
	weir_replay_follow_close(&fl);
	weir_log_topic_close(&f.t);
	rm_tmpdir(root);
}

static void
should_start_over_at_the_newest_segment_when_retention_deletes_beneath_it(void **state)
{
	(void)state;
	char *root = make_tmpdir();
	static struct feed f;
	memset(&f, 0, sizeof(f));
	assert_int_equal(weir_log_topic_open(&f.t, root, "t", err, sizeof(err)), 0);
	write_more(&f, 3000);
	struct weir_replay_follow fl;
	assert_int_equal(weir_replay_follow_open(&fl, root, "t", err, sizeof(err)), 0);
	weir_replay_follow_step(&fl, UINT_MAX);
	assert_true(weir_replay_hints_find(&fl.hints, A, 2990, &(uint64_t){ 0 }));
	write_more(&f, 8000); /* unread by the follower, and many segments */
	struct weir_log_retention p = { .max_bytes = 2 * SEGMENT, .hard = true };
	struct weir_log_retention_stats st = { 0 };
	assert_int_equal(weir_log_retention_apply(f.t.dir, f.t.base_offset, &p, 0, &st, err, sizeof(err)), 0);
	assert_true(st.segments_deleted >= 4);
	struct weir_log_reader *r;
	assert_int_equal(weir_log_reader_open(&r, root, "t", err, sizeof(err)), 0);
	uint64_t oldest = weir_log_reader_first(r);
	assert_true(oldest > fl.base); /* what it had read, and points into, is gone */
	for (int i = 0; i < 4; i++) /* to its segment's end, told, over, then the newest */
		weir_replay_follow_step(&fl, UINT_MAX);
	assert_false(fl.off);
	assert_int_equal(fl.base, f.t.base_offset);
	assert_false(check_point(&fl, r, A, 2990, oldest)); /* no point left into what was deleted */
	assert_true(check_point(&fl, r, A, 11000, fl.base));
	assert_true(check_point(&fl, r, B, 10990, fl.base));
	weir_log_reader_close(r);
	weir_replay_follow_close(&fl);
	weir_log_topic_close(&f.t);
	rm_tmpdir(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_point_into_the_newest_segment_and_follow_on_into_the_next),
		cmocka_unit_test(should_start_over_at_the_newest_segment_when_retention_deletes_beneath_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
