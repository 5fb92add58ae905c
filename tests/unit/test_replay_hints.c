/*
 * serve's points into the newest segment: a point every 32 new highest
 * numbers of a source; a re-request reads from the last point at or below
 * its first number; late fills, a session begun again and sources or points
 * past the bounds make none.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "weir_replay_hints.h"

static const uint8_t A[16] = "SESSIONA  ", B[16] = "SESSIONB  ";

static void
should_point_every_32_new_highest_numbers_and_find_the_last_at_or_below(void **state)
{
	(void)state;
	struct weir_replay_hints h;
	assert_int_equal(weir_replay_hints_init(&h, 16, 1000), 0);
	uint64_t off = 100;
	for (uint64_t seq = 1; seq <= 100; seq++) { /* A and B interleaved, one offset each */
		weir_replay_hints_see(&h, A, seq, off++, false);
		weir_replay_hints_see(&h, B, seq + 1000, off++, false);
	}
	uint64_t at = 0, max = 0;
	assert_false(weir_replay_hints_find(&h, A, 0, &at)); /* below the first point: read as without */
	assert_true(weir_replay_hints_find(&h, A, 1, &at));
	assert_int_equal(at, 100);
	assert_true(weir_replay_hints_find(&h, A, 32, &at));
	assert_int_equal(at, 100);
	assert_true(weir_replay_hints_find(&h, A, 33, &at)); /* seq 33: offset 100 + 2 x 32 */
	assert_int_equal(at, 164);
	assert_true(weir_replay_hints_find(&h, A, 5000, &at)); /* above all: from the last point on */
	assert_int_equal(at, 100 + 2 * 96);
	assert_true(weir_replay_hints_find(&h, B, 1040, &at));
	assert_int_equal(at, 101 + 2 * 32);
	assert_true(weir_replay_hints_max(&h, A, &max));
	assert_int_equal(max, 100);
	assert_false(weir_replay_hints_find(&h, (const uint8_t *)"NOSUCH    \0\0\0\0\0", 5, &at));
	weir_replay_hints_free(&h);
}

/* A late fill is logged after higher numbers, and a session begun again
 * after the old one's: neither may be a point, else a read from it would
 * miss numbers logged before it. */
static void
should_make_no_point_of_a_late_fill_or_a_session_begun_again(void **state)
{
	(void)state;
	struct weir_replay_hints h;
	assert_int_equal(weir_replay_hints_init(&h, 16, 1000), 0);
	weir_replay_hints_see(&h, A, 1, 10, false);
	weir_replay_hints_see(&h, A, 200, 11, false);   /* a gap: 2-199 missing */
	weir_replay_hints_see(&h, A, 150, 12, true);    /* late fill */
	weir_replay_hints_see(&h, A, 1, 13, false);     /* a session begun again */
	weir_replay_hints_see(&h, A, 40, 14, false);
	uint64_t at = 0, max = 0;
	assert_true(weir_replay_hints_find(&h, A, 150, &at));
	assert_int_equal(at, 10); /* not 12: the fill; 200's point is above */
	assert_true(weir_replay_hints_find(&h, A, 210, &at));
	assert_int_equal(at, 11);
	assert_true(weir_replay_hints_max(&h, A, &max));
	assert_int_equal(max, 200);
	weir_replay_hints_free(&h);
}

static void
should_keep_no_more_than_its_bounds_and_say_so(void **state)
{
	(void)state;
	struct weir_replay_hints h;
	assert_int_equal(weir_replay_hints_init(&h, 1, 3), 0);
	for (uint64_t seq = 1; seq <= 32 * 5; seq++)
		weir_replay_hints_see(&h, A, seq, seq, false);
	assert_int_equal(h.n_points, 3);
	assert_true(h.full);
	uint64_t at = 0;
	assert_true(weir_replay_hints_find(&h, A, 150, &at));
	assert_int_equal(at, 65); /* the last point it kept */
	weir_replay_hints_see(&h, B, 1, 1, false); /* a second source: past max_sources */
	assert_false(weir_replay_hints_find(&h, B, 1, &at));
	weir_replay_hints_clear(&h);
	assert_false(h.full);
	assert_false(weir_replay_hints_find(&h, A, 150, &at));
	weir_replay_hints_see(&h, B, 1, 7, false);
	assert_true(weir_replay_hints_find(&h, B, 1, &at));
	assert_int_equal(at, 7);
	weir_replay_hints_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_point_every_32_new_highest_numbers_and_find_the_last_at_or_below),
		cmocka_unit_test(should_make_no_point_of_a_late_fill_or_a_session_begun_again),
		cmocka_unit_test(should_keep_no_more_than_its_bounds_and_say_so),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
