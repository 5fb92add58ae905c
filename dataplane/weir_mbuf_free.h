/*
 * A received burst's mbufs given back.  What rte_pktmbuf_free_bulk does for
 * each (its refcount, whether it is direct, its next segment on the
 * mbuf's second cache line, its pool) is, for a PMD's usual packet, known
 * from the first line the worker reads anyway: such a burst goes straight
 * back to its pool in one put, as DPDK's own drivers do under
 * RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE.  Any other mbuf sends the whole burst
 * the general way.
 */
#ifndef WEIR_MBUF_FREE_H
#define WEIR_MBUF_FREE_H

#include <stdbool.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

/* Whether m may go straight back to pool: one segment (its next is then
 * NULL, as DPDK requires of a last segment), its data its own (not
 * attached to another mbuf or an external buffer), held by nobody else. */
static inline bool
weir_mbuf_plain(const struct rte_mbuf *m, const struct rte_mempool *pool)
{
	return m->pool == pool && m->nb_segs == 1 && rte_mbuf_refcnt_read(m) == 1 &&
	       !(m->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL));
}

/* n mbufs freed; plain: every one is weir_mbuf_plain() of pkts[0]'s pool. */
static inline void
weir_mbufs_free(struct rte_mbuf **pkts, unsigned n, bool plain)
{
	if (plain && n)
		rte_mempool_put_bulk(pkts[0]->pool, (void **)pkts, n);
	else
		rte_pktmbuf_free_bulk(pkts, n);
}

#endif
