#include "tmpdir.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "weir_drain.h"
#include "log_walk.h"

#define RING_BYTES (1u << 20)

static char err[512];
static const char topics[3][WEIR_TOPIC_NAME_MAX] = { "_deadletter", "alpha", "beta" };

struct fixture {
	char *root;
	struct weir_ring *ring;
	struct weir_ring_producer p;
	struct weir_config cfg;
	struct weir_drain d;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->root = make_tmpdir();
	f->ring = aligned_alloc(64, weir_ring_memsize(RING_BYTES));
	weir_ring_init(f->ring, 0, RING_BYTES);
	weir_ring_producer_attach(&f->p, f->ring);
	weir_config_defaults(&f->cfg);
	snprintf(f->cfg.log_dir, sizeof(f->cfg.log_dir), "%s", f->root);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	rm_tmpdir(f->root);
	free(f->ring);
	free(f);
	return 0;
}

/* Events seq first.., alternating topics alpha and beta. */
static void
produce(struct fixture *f, uint64_t first, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct weir_record *r = weir_ring_reserve(&f->p, sizeof(*r) + 12);
		if (r == NULL)
			fail_msg("ring full at record %u", i);
		*r = (struct weir_record){ .len_bytes = sizeof(*r) + 12, .kind = WEIR_REC_EVENT,
					   .topic = (uint16_t)(1 + (first + i) % 2), .seq = first + i };
		snprintf((char *)(r + 1), 12, "ev%09llu", (unsigned long long)(first + i));
	}
	weir_ring_publish(&f->p, 0);
}

static void
open_drain(struct fixture *f, uint64_t incarnation)
{
	struct weir_ring *rings[1] = { f->ring };
	assert_int_equal(weir_drain_open(&f->d, &f->cfg, topics, 3, rings, 1, incarnation, err, sizeof(err)), 0);
}

struct seen {
	uint8_t *seen;
	uint64_t expect_total, last;
	unsigned topic;
	bool first;
};

static void
check_entry(const struct weir_log_entry *e, void *ctx)
{
	struct seen *s = ctx;
	uint64_t seq = weir_log_entry_record(e)->seq;
	assert_true(seq < s->expect_total);
	assert_int_equal(s->seen[seq], 0);
	assert_int_equal(seq % 2 + 1, s->topic);
	assert_true(s->first || seq > s->last);
	s->seen[seq] = 1;
	s->last = seq;
	s->first = false;
}

/* Every seq in the log once, in order per topic; returns how many. */
static unsigned
count_log_exactly_once(struct fixture *f, uint64_t expect_total)
{
	struct seen s = { .seen = calloc(expect_total, 1), .expect_total = expect_total };
	long total = 0;
	for (unsigned t = 1; t < 3; t++) {
		char dir[512];
		snprintf(dir, sizeof(dir), "%s/%s", f->root, topics[t]);
		s.topic = t;
		s.first = true;
		long n = log_walk(dir, check_entry, &s);
		assert_true(n >= 0);
		total += n;
	}
	free(s.seen);
	return (unsigned)total;
}

/* More than half the ring passed before the interval is up: written and
 * released at once (a worker never waits out the interval for room), while
 * the fsync keeps to the interval and those events' durable latency is
 * taken at it. */
static void
should_release_a_half_full_ring_at_once_and_fsync_at_the_interval(void **state)
{
	struct fixture *f = *state;
	f->cfg.fsync_mode = WEIR_FSYNC_INTERVAL;
	f->cfg.fsync_interval_ns = 1000000000ull;
	open_drain(f, 1);
	produce(f, 0, 7000); /* 560 KB of a 1 MiB ring */
	int moved, total = 0;
	while ((moved = weir_drain_poll(&f->d, 1, err, sizeof(err))) > 0)
		total += moved;
	assert_int_equal(total, 7000);
	assert_true(f->d.room_commits >= 1);
	assert_true(f->ring->head >= RING_BYTES / 2); /* released without the fsync */
	assert_int_equal(f->d.fsync_latency.count, 0);
	assert_int_equal(f->d.durable_latency[0].count, 0);
	assert_int_equal(weir_drain_poll(&f->d, 1000000001ull, err, sizeof(err)), 0); /* the interval */
	assert_int_equal(f->ring->head, f->ring->tail);
	assert_true(f->d.fsync_latency.count > 0);
	assert_int_equal(f->d.durable_latency[0].count, 7000);
	weir_drain_close(&f->d);
	assert_int_equal(count_log_exactly_once(f, 7000), 7000);
}

static void
should_not_release_ring_space_before_the_interval_commit(void **state)
{
	struct fixture *f = *state;
	f->cfg.fsync_mode = WEIR_FSYNC_INTERVAL;
	f->cfg.fsync_interval_ns = 1000000000ull;
	open_drain(f, 1);
	produce(f, 0, 100);
	assert_int_equal(weir_drain_poll(&f->d, 1, err, sizeof(err)), 100);
	assert_int_equal(f->ring->head, 0);
	/* persisted counts what a commit made part of the log, not appends
	 * (a full disk rewinds those: they were counted twice) */
	assert_int_equal(f->d.records_persisted, 0);
	assert_int_equal(f->d.topics[1].records_committed, 0);
	assert_int_equal(weir_drain_poll(&f->d, 1000000001ull, err, sizeof(err)), 0);
	assert_int_equal(f->ring->head, f->ring->tail);
	assert_int_equal(f->d.records_persisted, 100);
	assert_int_equal(f->d.topics[1].records_committed + f->d.topics[2].records_committed, 100);
	weir_drain_close(&f->d);
}

static void
should_write_each_record_once_when_restarted_after_writing_but_before_releasing(void **state)
{
	struct fixture *f = *state;
	f->cfg.fsync_mode = WEIR_FSYNC_INTERVAL;
	f->cfg.fsync_interval_ns = 1000000000ull;
	open_drain(f, 42);
	produce(f, 0, 1000);
	assert_int_equal(weir_drain_poll(&f->d, 1, err, sizeof(err)), 1000);
	/* Written to the files, never released: then the process dies. */
	for (unsigned t = 0; t < 3; t++)
		assert_int_equal(weir_log_topic_flush(&f->d.topics[t]), 0);
	weir_drain_close(&f->d);
	assert_int_equal(f->ring->head, 0);

	open_drain(f, 42);
	produce(f, 1000, 500);
	assert_int_equal(weir_drain_commit(&f->d, 0, err, sizeof(err)), 0);
	assert_int_equal(weir_drain_poll(&f->d, 2, err, sizeof(err)), 1500);
	assert_int_equal(f->d.records_skipped, 1000);
	assert_int_equal(weir_drain_commit(&f->d, 3, err, sizeof(err)), 0);
	assert_int_equal(f->d.records_persisted, 500);
	weir_drain_close(&f->d);
	assert_int_equal(count_log_exactly_once(f, 1500), 1500);
}

static void
should_write_each_record_once_when_only_one_topic_was_written_before_the_crash(void **state)
{
	struct fixture *f = *state;
	f->cfg.fsync_mode = WEIR_FSYNC_INTERVAL;
	f->cfg.fsync_interval_ns = 1000000000ull;
	open_drain(f, 42);
	produce(f, 0, 300);
	assert_int_equal(weir_drain_poll(&f->d, 1, err, sizeof(err)), 300);
	assert_int_equal(weir_log_topic_flush(&f->d.topics[1]), 0); /* alpha reached the file */
	f->d.topics[2].buf_len = 0;                                  /* beta died in the buffer */
	f->d.topics[2].batch_open = false;
	weir_drain_close(&f->d);

	open_drain(f, 42);
	assert_int_equal(weir_drain_poll(&f->d, 2, err, sizeof(err)), 300);
	assert_int_equal(f->d.records_skipped, 150);
	assert_int_equal(weir_drain_commit(&f->d, 3, err, sizeof(err)), 0);
	weir_drain_close(&f->d);
	assert_int_equal(count_log_exactly_once(f, 300), 300);
}

static void
should_not_skip_records_of_a_new_dataplane_run(void **state)
{
	struct fixture *f = *state;
	f->cfg.fsync_mode = WEIR_FSYNC_BATCH;
	open_drain(f, 1);
	produce(f, 0, 50);
	assert_int_equal(weir_drain_poll(&f->d, 1, err, sizeof(err)), 50);
	weir_drain_close(&f->d);
	/* The dataplane restarts: a fresh ring whose positions start at 0 again. */
	weir_ring_init(f->ring, 0, RING_BYTES);
	weir_ring_producer_attach(&f->p, f->ring);
	open_drain(f, 2);
	produce(f, 50, 50);
	assert_int_equal(weir_drain_poll(&f->d, 2, err, sizeof(err)), 50);
	assert_int_equal(f->d.records_skipped, 0);
	weir_drain_close(&f->d);
	assert_int_equal(count_log_exactly_once(f, 100), 100);
}

static void
should_roll_segments_only_at_commits_and_keep_exactly_once(void **state)
{
	struct fixture *f = *state;
	f->cfg.fsync_mode = WEIR_FSYNC_NONE;
	f->cfg.segment_bytes = 4096;
	open_drain(f, 9);
	for (unsigned round = 0; round < 40; round++) {
		produce(f, round * 100ull, 100);
		assert_int_equal(weir_drain_poll(&f->d, round, err, sizeof(err)), 100);
	}
	assert_true(f->d.topics[1].segments_rolled > 5);
	weir_drain_close(&f->d);
	assert_int_equal(count_log_exactly_once(f, 4000), 4000);
}

/* Restarted with records on file but not released, the drain skips them a
 * poll at a time; a commit between two polls releases only what it passed,
 * so the segment that holds the rest must not roll then, or the next
 * restart (recovery scans the last segment) writes the rest again. */
static void
should_not_roll_a_segment_that_holds_records_still_in_the_ring(void **state)
{
	struct fixture *f = *state;
	f->cfg.fsync_mode = WEIR_FSYNC_BATCH;
	f->cfg.segment_bytes = 4096;
	open_drain(f, 7);
	produce(f, 0, 1000);
	f->d.segment_bytes = 1ull << 30; /* the first run wrote it all into one segment */
	assert_int_equal(weir_drain_poll(&f->d, 1, err, sizeof(err)), 1000);
	for (unsigned t = 0; t < 3; t++)
		assert_int_equal(weir_log_topic_flush(&f->d.topics[t]), 0);
	weir_drain_close(&f->d);
	f->ring->head = 0; /* killed before it released any of it */

	open_drain(f, 7);
	f->d.batch_records = 100;
	assert_int_equal(weir_drain_poll(&f->d, 2, err, sizeof(err)), 100); /* skips 100, commits */
	assert_int_equal(f->d.records_skipped, 100);
	assert_int_equal(f->d.topics[1].segments_rolled + f->d.topics[2].segments_rolled, 0);
	weir_drain_close(&f->d); /* killed again */

	open_drain(f, 7);
	int moved, total = 0;
	while ((moved = weir_drain_poll(&f->d, 3, err, sizeof(err))) > 0)
		total += moved;
	assert_int_equal(total, 900);
	assert_int_equal(f->d.records_persisted, 0);
	assert_true(f->d.topics[1].segments_rolled > 0); /* once past them, it rolls */
	weir_drain_close(&f->d);
	assert_int_equal(count_log_exactly_once(f, 1000), 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(should_not_release_ring_space_before_the_interval_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(should_release_a_half_full_ring_at_once_and_fsync_at_the_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(should_write_each_record_once_when_restarted_after_writing_but_before_releasing, setup, teardown),
		cmocka_unit_test_setup_teardown(should_write_each_record_once_when_only_one_topic_was_written_before_the_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(should_not_skip_records_of_a_new_dataplane_run, setup, teardown),
		cmocka_unit_test_setup_teardown(should_roll_segments_only_at_commits_and_keep_exactly_once, setup, teardown),
		cmocka_unit_test_setup_teardown(should_not_roll_a_segment_that_holds_records_still_in_the_ring, setup, teardown),
	};
	return cmocka_run_group_tests_name("drain", tests, NULL, NULL);
}
