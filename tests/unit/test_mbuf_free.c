/*
 * Which received mbufs the worker gives straight back to their pool
 * (dataplane/weir_mbuf_free.h): only one that leaves rte_pktmbuf_free_bulk
 * nothing to undo (no other pool, segment, holder or attached data).
 * Checked on mbufs made by hand (no EAL: the test reads fields, frees
 * nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "weir_mbuf_free.h"

static struct rte_mempool *const POOL = (struct rte_mempool *)0x1000, *const OTHER = (struct rte_mempool *)0x2000;

static struct rte_mbuf
received(void)
{
	struct rte_mbuf m;
	memset(&m, 0, sizeof(m));
	m.pool = POOL;
	m.nb_segs = 1;
	rte_mbuf_refcnt_set(&m, 1);
	m.ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD; /* what a NIC sets: no tie */
	return m;
}

static void
should_give_back_a_plain_packet_of_the_burst_pool(void **state)
{
	struct rte_mbuf m = received();
	assert_true(weir_mbuf_plain(&m, POOL));
}

static void
should_not_give_back_a_packet_of_another_pool(void **state)
{
	struct rte_mbuf m = received();
	m.pool = OTHER;
	assert_false(weir_mbuf_plain(&m, POOL));
}

static void
should_not_give_back_a_packet_of_many_segments(void **state)
{
	struct rte_mbuf m = received();
	m.nb_segs = 2;
	assert_false(weir_mbuf_plain(&m, POOL));
}

static void
should_not_give_back_a_packet_someone_else_holds(void **state)
{
	struct rte_mbuf m = received();
	rte_mbuf_refcnt_set(&m, 2);
	assert_false(weir_mbuf_plain(&m, POOL));
}

static void
should_not_give_back_a_packet_attached_to_other_data(void **state)
{
	struct rte_mbuf m = received();
	m.ol_flags |= RTE_MBUF_F_INDIRECT;
	assert_false(weir_mbuf_plain(&m, POOL));
	m = received();
	m.ol_flags |= RTE_MBUF_F_EXTERNAL;
	assert_false(weir_mbuf_plain(&m, POOL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_give_back_a_plain_packet_of_the_burst_pool),
		cmocka_unit_test(should_not_give_back_a_packet_of_another_pool),
		cmocka_unit_test(should_not_give_back_a_packet_of_many_segments),
		cmocka_unit_test(should_not_give_back_a_packet_someone_else_holds),
		cmocka_unit_test(should_not_give_back_a_packet_attached_to_other_data),
	};
	return cmocka_run_group_tests_name("mbuf_free", tests, NULL, NULL);
}
