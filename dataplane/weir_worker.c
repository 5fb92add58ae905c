#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "weir_worker.h"

#define PREFETCH_AHEAD 3
#define IDLE_STORE_EVERY 1024

uint64_t
weir_worker_now_ns(const struct weir_worker *w)
{
	uint64_t ticks = rte_rdtsc() - w->tsc0;
	return w->epoch_ns + (uint64_t)(((unsigned __int128)ticks * w->ns_per_tick_q32) >> 32);
}

static inline enum weir_csum
ip_csum_state(const struct rte_mbuf *m)
{
	switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
	case RTE_MBUF_F_RX_IP_CKSUM_GOOD: return WEIR_CSUM_GOOD;
	case RTE_MBUF_F_RX_IP_CKSUM_BAD: return WEIR_CSUM_BAD;
	default: return WEIR_CSUM_UNKNOWN;
	}
}

static inline enum weir_csum
l4_csum_state(const struct rte_mbuf *m)
{
	switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
	case RTE_MBUF_F_RX_L4_CKSUM_GOOD: return WEIR_CSUM_GOOD;
	case RTE_MBUF_F_RX_L4_CKSUM_BAD: return WEIR_CSUM_BAD;
	default: return WEIR_CSUM_UNKNOWN;
	}
}

static inline void
handle_burst(struct weir_worker *w, uint16_t port, uint16_t n, uint64_t now_ns)
{
	struct weir_pipeline *pl = &w->pl;
	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(w->pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(w->pkts[i + PREFETCH_AHEAD], void *));
		struct rte_mbuf *m = w->pkts[i];
		const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
		if (unlikely(m->nb_segs != 1)) {
			pl->c.rx_packets++;
			pl->c.rx_bytes += m->pkt_len;
			weir_pipeline_dead_letter(pl, frame, m->data_len, WEIR_DL_multi_segment, port, now_ns);
			continue;
		}
		weir_pipeline_packet(pl, frame, m->data_len, ip_csum_state(m), l4_csum_state(m), port, now_ns);
	}
	rte_pktmbuf_free_bulk(w->pkts, n);
}

int
weir_worker_main(void *arg)
{
	struct weir_worker *w = arg;
	struct weir_pipeline *pl = &w->pl;
	unsigned idle_since_store = 0;

	while (!*pl->quit) {
		for (unsigned q = 0; q < w->n_rxq; q++) {
			uint16_t port = w->rxq[q].port;
			uint16_t n = rte_eth_rx_burst(port, w->rxq[q].queue, w->pkts, w->burst);
			if (n == 0) {
				pl->c.idle_polls++;
				if (++idle_since_store == IDLE_STORE_EVERY) {
					idle_since_store = 0;
					uint64_t now_ns = weir_worker_now_ns(w);
					weir_pipeline_tick(pl, now_ns);
					weir_ring_publish(&pl->ring, now_ns);
					weir_pipeline_store_counters(pl, w->shared);
				}
				continue;
			}
			uint64_t now_ns = weir_worker_now_ns(w); /* once per burst */
			pl->c.busy_polls++;
			handle_burst(w, port, n, now_ns);
			weir_pipeline_tick(pl, now_ns);
			/* One release store per burst makes the whole burst visible. */
			weir_ring_publish(&pl->ring, now_ns);
			weir_pipeline_store_counters(pl, w->shared);
		}
	}
	/* Gaps still open are declared lost: the log states every hole. */
	uint64_t now_ns = weir_worker_now_ns(w);
	weir_pipeline_stop(pl, now_ns);
	weir_ring_publish(&pl->ring, now_ns);
	weir_pipeline_store_counters(pl, w->shared);
	return 0;
}
