/*
 * A paced replay's silences (replay/weir_replay_idle.c): where each source
 * stands for its heartbeats, every source of the log however many (a bound
 * of 4,096 once left the rest unheartbeated, unsaid).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "weir_replay_idle.h"

static void
key_of(uint8_t k[WEIR_SOURCE_BYTES], unsigned i)
{
	memset(k, 0, WEIR_SOURCE_BYTES);
	snprintf((char *)k, 11, "S%u", i);
}

static void
should_keep_where_every_source_stands_however_many(void **state)
{
	(void)state;
	struct weir_replay_idle h = { 0 };
	uint8_t k[WEIR_SOURCE_BYTES];
	const unsigned n = 20000;
	for (unsigned i = 0; i < n; i++) {
		key_of(k, i);
		weir_replay_idle_saw(&h, k, 100 + i, false);
	}
	assert_int_equal(h.keys.n, n);
	for (unsigned i = 0; i < n; i++) {
		key_of(k, i);
		assert_memory_equal(h.sources[i].key, k, WEIR_SOURCE_BYTES);
		assert_int_equal(h.sources[i].next, 100 + i);
	}
	weir_replay_idle_free(&h);
}

static void
should_not_move_back_for_a_late_fill_but_for_a_session_begun_again(void **state)
{
	(void)state;
	struct weir_replay_idle h = { 0 };
	uint8_t k[WEIR_SOURCE_BYTES];
	key_of(k, 1);
	weir_replay_idle_saw(&h, k, 50, false);
	weir_replay_idle_saw(&h, k, 20, false); /* a late fill */
	assert_int_equal(h.sources[0].next, 50);
	weir_replay_idle_saw(&h, k, 60, true); /* its end */
	assert_true(h.sources[0].ended);
	weir_replay_idle_saw(&h, k, 2, false); /* begun again */
	assert_int_equal(h.sources[0].next, 2);
	assert_false(h.sources[0].ended);
	assert_int_equal(h.keys.n, 1);
	weir_replay_idle_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_keep_where_every_source_stands_however_many),
		cmocka_unit_test(should_not_move_back_for_a_late_fill_but_for_a_session_begun_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
