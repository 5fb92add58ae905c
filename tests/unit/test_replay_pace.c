/*
 * A paced replay waits for each packet's recorded time, scaled by the speed,
 * and puts how late it went in the pacing histogram.  A signal that cuts a
 * wait short sends nothing early and adds no sample: the sample would be
 * now - due with now before due, 2^64 - x ns wrapped.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "weir_replay_send.h"
#include "weir_time.h"

static struct weir_replay_out out = { .fd = -1 };
static volatile int quit;

static void
paced(struct weir_replay_send *s, double speed)
{
	memset(s, 0, sizeof(*s));
	s->out = &out;
	s->speed = speed;
	s->quit = &quit;
	quit = 0;
}

static void
should_wait_for_the_recorded_spacing_and_count_each_packet_once(void **state)
{
	(void)state;
	struct weir_replay_send s;
	paced(&s, 1.0);
	const uint64_t rx0 = 5000000000ull;
	assert_true(weir_replay_pace(&s, rx0)); /* the first packet sets the clock: due at once */
	uint64_t t0 = weir_monotonic_ns();
	assert_true(weir_replay_pace(&s, rx0 + 3000000)); /* 3 ms later as recorded */
	assert_true(weir_monotonic_ns() - t0 >= 2900000);
	assert_int_equal(s.sum.pacing.count, 2);
	assert_true(s.sum.pacing.sum_ns < 1000000000ull); /* late by little, never wrapped */
}

/* The speed divides the recorded spacing: with the clock set 3 ms back, an
 * event recorded 4 ms after the first is due 1 ms ago at speed 2 (it goes at
 * once, 1 ms late and more), where speed 1 would wait 1 ms more.  No upper
 * bound on a wait: only what the clock cannot make flaky. */
static void
should_divide_the_recorded_spacing_by_the_speed(void **state)
{
	(void)state;
	struct weir_replay_send s;
	paced(&s, 2.0);
	s.rx0_ns = 1000;
	s.mono0_ns = weir_monotonic_ns() - 3000000;
	assert_true(weir_replay_pace(&s, 1000 + 4000000));
	assert_int_equal(s.sum.pacing.count, 1);
	assert_true(s.sum.pacing.sum_ns >= 1000000);
}

static void
should_send_nothing_early_nor_count_a_wait_a_signal_cut_short(void **state)
{
	(void)state;
	struct weir_replay_send s;
	paced(&s, 1.0);
	assert_true(weir_replay_pace(&s, 1000));
	struct weir_hist before = s.sum.pacing;
	quit = 1; /* the signal came: the next packet, 10 s ahead, is not due */
	uint64_t t0 = weir_monotonic_ns();
	assert_false(weir_replay_pace(&s, 1000 + 10000000000ull));
	assert_true(weir_monotonic_ns() - t0 < 1000000000ull); /* did not wait the 10 s out */
	assert_memory_equal(&s.sum.pacing, &before, sizeof(before));
}

static void
should_never_wait_flat_out_nor_into_a_pcap(void **state)
{
	(void)state;
	struct weir_replay_send s;
	paced(&s, 0.0);
	assert_true(weir_replay_pace(&s, 1000));
	assert_true(weir_replay_pace(&s, 1000 + 3600000000000ull));
	assert_int_equal(s.sum.pacing.count, 0);
	struct weir_replay_out dump = out;
	dump.dump = (pcap_dumper_t *)&dump; /* only its being there is read */
	paced(&s, 1.0);
	s.out = &dump;
	assert_true(weir_replay_pace(&s, 1000));
	assert_true(weir_replay_pace(&s, 1000 + 3600000000000ull)); /* stamped, not waited for */
	assert_int_equal(s.sum.pacing.count, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_wait_for_the_recorded_spacing_and_count_each_packet_once),
		cmocka_unit_test(should_divide_the_recorded_spacing_by_the_speed),
		cmocka_unit_test(should_send_nothing_early_nor_count_a_wait_a_signal_cut_short),
		cmocka_unit_test(should_never_wait_flat_out_nor_into_a_pcap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
