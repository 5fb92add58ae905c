/*
 * A sender's wait for its port's link (base/weir_link.c), with DPDK's link
 * query replaced (the test links with --wrap=rte_eth_link_get_nowait): a
 * driver that cannot report its link (-ENOTSUP) was once taken as a link
 * that never came up, and weir-replay refused to send at once, saying it
 * had waited 10 s.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <rte_ethdev.h>

#include "weir_link.h"
#include "weir_time.h"

/* What each query answers: -1 down, 1 up, else that error. */
static const int *answers;
static unsigned n_answers, asked;

int __wrap_rte_eth_link_get_nowait(uint16_t port_id, struct rte_eth_link *link);

/* Kept, and visible, under link-time optimisation: only the linker's --wrap
 * refers to it, which the optimiser does not see (it dropped it unused). */
__attribute__((used, externally_visible)) int
__wrap_rte_eth_link_get_nowait(uint16_t port_id, struct rte_eth_link *link)
{
	(void)port_id;
	int a = answers[asked < n_answers ? asked : n_answers - 1];
	asked++;
	if (a != 1 && a != -1)
		return a;
	link->link_status = a == 1 ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	return 0;
}

static void
script(const int *a, unsigned n)
{
	answers = a;
	n_answers = n;
	asked = 0;
}

static void
should_say_unreported_at_once_when_the_driver_cannot_say(void **state)
{
	(void)state;
	static const int a[] = { -ENOTSUP };
	script(a, 1);
	uint64_t t0 = weir_monotonic_ns();
	assert_int_equal(weir_link_wait_up(0, 10), WEIR_LINK_UNREPORTED);
	assert_int_equal(asked, 1);
	assert_true(weir_monotonic_ns() - t0 < 1000000000ull);
	assert_true(weir_link_hold("test", 0, 10)); /* nothing to hold up for: done */
}

static void
should_wait_for_a_link_that_comes_up(void **state)
{
	(void)state;
	static const int a[] = { -1, -1, 1 };
	script(a, 3);
	assert_int_equal(weir_link_wait_up(0, 10), WEIR_LINK_CAME_UP);
	assert_int_equal(asked, 3);
}

static void
should_say_stayed_down_after_the_time(void **state)
{
	(void)state;
	static const int a[] = { -1 };
	script(a, 1);
	assert_int_equal(weir_link_wait_up(0, 0.05), WEIR_LINK_STAYED_DOWN);
	assert_true(asked >= 2);
	static const int up[] = { 1 };
	script(up, 1);
	assert_false(weir_link_hold("test", 0, 0.05)); /* still up: said, and closed anyway */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_say_unreported_at_once_when_the_driver_cannot_say),
		cmocka_unit_test(should_wait_for_a_link_that_comes_up),
		cmocka_unit_test(should_say_stayed_down_after_the_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
