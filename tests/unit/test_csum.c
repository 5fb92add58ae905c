/* The long-run sum's vector paths against the scalar loop: every length to
 * past a few vector widths, every starting alignment, carries forced by
 * 0xFF runs; each path this CPU runs (the others are said, not passed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "test_rng.h"
#include "weir_csum.h"

static void
check_path(enum weir_csum_path path)
{
	static uint8_t buf[2048 + 8];
	uint64_t rng = 5;
	assert_true(weir_csum_use(path));
	for (unsigned round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(buf); i++) /* round 1: all ones, the most carries */
			buf[i] = round == 1 ? 0xFF : (uint8_t)test_rng_next(&rng);
		for (uint32_t len = 0; len <= 2048; len += len < 300 ? 1 : 37)
			for (unsigned off = 0; off < 8; off++) {
				uint64_t start = round == 2 ? UINT64_C(0xFFFFFFFF) * 3 : 0;
				uint64_t want = weir_csum_partial(buf + off, len, start);
				assert_int_equal(weir_csum_long(buf + off, len, start), want);
				assert_int_equal(weir_csum_finish(weir_csum_any(buf + off, len, start)), weir_csum_finish(want));
			}
	}
}

static void
should_sum_as_the_scalar_loop_on_every_path_this_cpu_runs(void **state)
{
	(void)state;
	enum weir_csum_path widest = weir_csum_widest();
	assert_true(weir_csum_long != NULL);
	for (enum weir_csum_path p = WEIR_CSUM_SCALAR; p < WEIR_CSUM_PATHS; p++) {
		if (!weir_csum_path_runs(p)) {
			printf("test_csum: %s: this CPU does not run it (not tested here)\n", weir_csum_path_name(p));
			assert_false(weir_csum_use(p));
			continue;
		}
		check_path(p);
		printf("test_csum: %s: as the scalar loop\n", weir_csum_path_name(p));
	}
	assert_true(weir_csum_use(widest));
}

/* Before main the widest path was chosen: a program never sums with less. */
static void
should_start_on_the_widest_path(void **state)
{
	(void)state;
	weir_csum_fn chosen = weir_csum_long;
	assert_true(weir_csum_use(weir_csum_widest()));
	assert_ptr_equal(weir_csum_long, chosen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_start_on_the_widest_path),
		cmocka_unit_test(should_sum_as_the_scalar_loop_on_every_path_this_cpu_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
