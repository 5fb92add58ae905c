/*
 * The map of source keys every table off the hot path uses
 * (layout/weir_source_map.c): keys found after it grew, rows as given, a
 * zeroed map empty, clear keeping nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "weir_source_map.h"

static void
key_of(uint8_t k[WEIR_SOURCE_BYTES], unsigned i)
{
	memset(k, 0, WEIR_SOURCE_BYTES);
	snprintf((char *)k, WEIR_SOURCE_BYTES, "K%u", i); /* names alike but for their digits */
}

static void
should_find_every_key_it_was_given_across_its_growth(void **state)
{
	(void)state;
	struct weir_source_map m = { 0 };
	uint8_t k[WEIR_SOURCE_BYTES];
	key_of(k, 1);
	assert_int_equal(weir_source_map_get(&m, k), WEIR_SOURCE_MAP_NONE); /* zeroed: empty */
	const unsigned n = 300000;
	bool added;
	for (unsigned i = 0; i < n; i++) {
		key_of(k, i);
		assert_int_equal(weir_source_map_put(&m, k, 7 * i, &added), 7 * i);
		assert_true(added);
	}
	assert_int_equal(m.n, n);
	assert_true(2ull * m.n <= m.mask + 1ull); /* at most half full */
	for (unsigned i = 0; i < n; i++) {
		key_of(k, i);
		assert_int_equal(weir_source_map_get(&m, k), 7 * i);
		assert_int_equal(weir_source_map_put(&m, k, 1, &added), 7 * i); /* known: its row, not the new one */
		assert_false(added);
	}
	key_of(k, n);
	assert_int_equal(weir_source_map_get(&m, k), WEIR_SOURCE_MAP_NONE);
	weir_source_map_free(&m);
	assert_null(m.slot);
}

static void
should_forget_every_key_when_cleared_and_take_them_again(void **state)
{
	(void)state;
	struct weir_source_map m = { 0 };
	uint8_t k[WEIR_SOURCE_BYTES];
	bool added;
	for (unsigned i = 0; i < 100; i++) {
		key_of(k, i);
		weir_source_map_put(&m, k, i, &added);
	}
	weir_source_map_clear(&m);
	assert_int_equal(m.n, 0);
	for (unsigned i = 0; i < 100; i++) {
		key_of(k, i);
		assert_int_equal(weir_source_map_get(&m, k), WEIR_SOURCE_MAP_NONE);
	}
	key_of(k, 5);
	assert_int_equal(weir_source_map_put(&m, k, 0, &added), 0); /* row 0 is a row */
	assert_int_equal(weir_source_map_get(&m, k), 0);
	assert_int_equal(weir_source_map_put(&m, k, WEIR_SOURCE_MAP_NONE, &added), 0);
	key_of(k, 6);
	assert_int_equal(weir_source_map_put(&m, k, WEIR_SOURCE_MAP_NONE, &added), WEIR_SOURCE_MAP_NONE);
	assert_false(added);
	weir_source_map_free(&m);
}

/* A map grown for many keys and cleared with few in it lets its room go
 * (the log index clears once a block); full, it keeps it. */
static void
should_let_its_room_go_when_cleared_nearly_empty(void **state)
{
	(void)state;
	struct weir_source_map m = { 0 };
	uint8_t k[WEIR_SOURCE_BYTES];
	bool added;
	for (unsigned i = 0; i < 10000; i++) {
		key_of(k, i);
		weir_source_map_put(&m, k, i, &added);
	}
	uint32_t grown = m.mask;
	weir_source_map_clear(&m);
	assert_int_equal(m.mask, grown); /* it was busy: kept */
	for (unsigned i = 0; i < 10; i++) {
		key_of(k, i);
		weir_source_map_put(&m, k, i, &added);
	}
	weir_source_map_clear(&m);
	assert_null(m.slot);
	key_of(k, 3);
	assert_int_equal(weir_source_map_get(&m, k), WEIR_SOURCE_MAP_NONE);
	assert_int_equal(weir_source_map_put(&m, k, 3, &added), 3);
	assert_int_equal(weir_source_map_get(&m, k), 3);
	weir_source_map_free(&m);
}

/* Keys that differ only in their second half (a sender's address). */
static void
should_tell_keys_apart_by_every_byte(void **state)
{
	(void)state;
	struct weir_source_map m = { 0 };
	bool added;
	for (unsigned b = 0; b < WEIR_SOURCE_BYTES; b++) {
		uint8_t k[WEIR_SOURCE_BYTES] = { 0 };
		k[b] = 1;
		assert_int_equal(weir_source_map_put(&m, k, b, &added), b);
		assert_true(added);
	}
	for (unsigned b = 0; b < WEIR_SOURCE_BYTES; b++) {
		uint8_t k[WEIR_SOURCE_BYTES] = { 0 };
		k[b] = 1;
		assert_int_equal(weir_source_map_get(&m, k), b);
	}
	weir_source_map_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_find_every_key_it_was_given_across_its_growth),
		cmocka_unit_test(should_forget_every_key_when_cleared_and_take_them_again),
		cmocka_unit_test(should_let_its_room_go_when_cleared_nearly_empty),
		cmocka_unit_test(should_tell_keys_apart_by_every_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
