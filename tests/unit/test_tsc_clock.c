/* The TSC-to-UNIX-time mapping against a made-up machine whose TSC runs at
 * 2.596126 GHz while DPDK says 2.600 (as measured on this VM), read with
 * a microsecond of jitter on the system clock: after a simulated hour the
 * mapping is within a stated bound of the true time, never goes back, and a
 * worker adopting it every 100 ms never goes back either. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "weir_tsc_clock.h"

#define REAL_HZ 2596126000.0
#define NOMINAL_HZ 2600000000ull
#define EPOCH 1796000000000000000ull
#define TSC0 123456789ull
#define BOUND_NS 5000 /* the stated bound, after the first 2 s: 5 us */

static uint64_t rng = 42;

/* +-1 us of jitter on a reading of the system clock */
static int64_t
jitter(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (int64_t)(rng >> 33) % 2001 - 1000;
}

static uint64_t
tsc_at(double s)
{
	return TSC0 + (uint64_t)(s * REAL_HZ);
}

static uint64_t
true_ns(uint64_t tsc)
{
	return EPOCH + (uint64_t)((double)(tsc - TSC0) / REAL_HZ * 1e9);
}

/* An hour of updates every 50 ms and a worker's adoption every 100 ms; the
 * worst error after 2 s, and whether anything went back. */
static void
run_hour(uint64_t *worst, bool *back, struct weir_tsc_clock *c)
{
	weir_tsc_clock_init(c, tsc_at(0), EPOCH, NOMINAL_HZ);
	struct weir_tsc_map worker = c->map;
	uint64_t last_main = 0, last_worker = 0;
	*worst = 0;
	*back = false;
	for (long i = 1; i <= 3600L * 20; i++) {
		double s = i * 0.05;
		uint64_t tsc = tsc_at(s);
		weir_tsc_clock_update(c, tsc, (uint64_t)((int64_t)true_ns(tsc) + jitter()));
		if (i % 2 == 0)
			weir_tsc_adopt(&worker, &c->map, tsc_at(s + 0.0003)); /* a little after the publication */
		for (int k = 1; k < 10; k++) { /* between updates, as the hot path reads */
			uint64_t t = tsc_at(s + k * 0.005);
			uint64_t m = weir_tsc_map_ns(&c->map, t), w = weir_tsc_map_ns(&worker, t);
			*back |= m < last_main || w < last_worker;
			last_main = m;
			last_worker = w;
			uint64_t want = true_ns(t);
			uint64_t err = m > want ? m - want : want - m;
			uint64_t werr = w > want ? w - want : want - w;
			if (s >= 2.0 && (err > *worst || werr > *worst))
				*worst = err > werr ? err : werr;
		}
	}
}

static void
should_stay_within_the_bound_for_an_hour_with_a_tick_rate_off_by_1500_ppm(void **state)
{
	(void)state;
	struct weir_tsc_clock c;
	uint64_t worst;
	bool back;
	run_hour(&worst, &back, &c);
	print_message("worst error over the hour (after 2 s): %llu ns\n", (unsigned long long)worst);
	assert_true(worst < BOUND_NS);
	assert_false(back);
	/* What the nominal rate alone would have said after the hour: seconds off. */
	struct weir_tsc_clock nominal;
	weir_tsc_clock_init(&nominal, tsc_at(0), EPOCH, NOMINAL_HZ);
	uint64_t t = tsc_at(3600), want = true_ns(t), got = weir_tsc_map_ns(&nominal.map, t);
	assert_true(want - got > 5000000000ull); /* 5.4 s */
}

static void
should_publish_and_read_the_mapping_whole(void **state)
{
	(void)state;
	struct weir_tsc_pub pub = { 0 };
	struct weir_tsc_map m = { 1, 2, 3 }, got;
	weir_tsc_publish(&pub, &m);
	assert_true(weir_tsc_read(&pub, &got));
	assert_int_equal(got.tsc0, 1);
	assert_int_equal(got.ns0, 2);
	assert_int_equal(got.q32, 3);
	pub.seq++; /* being written */
	assert_false(weir_tsc_read(&pub, &got));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_stay_within_the_bound_for_an_hour_with_a_tick_rate_off_by_1500_ppm),
		cmocka_unit_test(should_publish_and_read_the_mapping_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
