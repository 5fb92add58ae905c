#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

#include "weir_csum.h"
#include "weir_disposition.h"
#include "weir_headers.h"
#include "weir_mbuf_free.h"
#include "weir_worker.h"

#define IDLE_STORE_EVERY 1024
/* Counters reach the shared block at most this stale.  Storing them every
 * burst (a compare of each of the block's ~200 words) was 40% of the
 * worker loop's own samples in the appliance profile; readers poll in
 * seconds. */
#define STORE_EVERY_NS 100000ull

uint64_t
weir_worker_now_ns(const struct weir_worker *w)
{
	return weir_tsc_map_ns(&w->clock_map, rte_rdtsc());
}

#define CLOCK_EVERY_NS 100000000ull

/* The main lcore's latest calibration of the TSC, every ~100 ms: off the
 * packet path (where the counters are stored), a few loads. */
static inline void
refresh_clock(struct weir_worker *w, uint64_t now_ns)
{
	struct weir_tsc_map pub;
	if (now_ns < w->next_clock_ns || !weir_tsc_read(w->clock, &pub))
		return;
	weir_tsc_adopt(&w->clock_map, &pub, rte_rdtsc());
	w->next_clock_ns = now_ns + CLOCK_EVERY_NS;
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

/* The NIC's receive time of m, UNIX ns; 0 when it stamped none. */
static inline uint64_t
nic_rx_ns(const struct weir_worker *w, const struct weir_nic_clock *clock, const struct rte_mbuf *m)
{
	if (!(m->ol_flags & w->ts_flag))
		return 0;
	return weir_nic_clock_ns(clock, *RTE_MBUF_DYNFIELD(m, w->ts_offset, const rte_mbuf_timestamp_t *));
}

/* The burst as the pipeline takes it (weir_pipeline_burst), then freed. */
static inline void
handle_burst(struct weir_worker *w, const struct weir_rxq_ref *rq, uint16_t n, uint64_t now_ns)
{
	struct weir_burst_in *in = &w->in;
	const struct rte_mempool *pool = w->pkts[0]->pool;
	bool plain = true;
	in->stamped = rq->clock != NULL;
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_mbuf *m = w->pkts[i];
		plain &= weir_mbuf_plain(m, pool);
		in->frame[i] = rte_pktmbuf_mtod(m, const uint8_t *);
		in->len[i] = m->data_len;
		in->wire_len[i] = m->pkt_len;
		in->multi_segment[i] = m->nb_segs != 1;
		in->ip_csum[i] = ip_csum_state(m);
		in->l4_csum[i] = l4_csum_state(m);
		if (rq->clock)
			in->rx_ns[i] = nic_rx_ns(w, rq->clock, m);
	}
	weir_pipeline_burst(&w->pl, in, n, rq->port, now_ns);
	weir_mbufs_free(w->pkts, n, plain);
}

bool
weir_worker_send_rerequest(void *ctx, const struct weir_seq_source *src, const struct weir_decoder_cfg *d,
			   const struct weir_port_peer *peer, const uint8_t *payload, uint32_t len)
{
	struct weir_worker *w = ctx;
	uint16_t port = src->origin.port;
	if (port >= WEIR_MAX_PORTS || !w->can_tx[port])
		return false;
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->tx_pool);
	if (m == NULL)
		return false;
	bool v6 = d->rerequest_family == 6;
	uint16_t udp_len = (uint16_t)(sizeof(struct rte_udp_hdr) + len);
	uint16_t ip_len = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	uint16_t frame_len = (uint16_t)(sizeof(struct rte_ether_hdr) + ip_len + udp_len);
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, frame_len);
	if (f == NULL) {
		rte_pktmbuf_free(m);
		return false;
	}
	f += weir_put_eth_header(f, peer->peer_mac, peer->local_mac, v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	uint8_t *ip = f;
	if (v6)
		f += weir_put_ipv6_header(f, peer->local_ip6, d->rerequest_ip6, udp_len);
	else
		f += weir_put_ipv4_header(f, peer->local_ip, (const uint8_t *)&d->rerequest_ip, 0, udp_len);
	/* the config holds the server's port in network order */
	uint8_t *udp = f;
	f += weir_put_udp_header(f, d->udp_port, rte_be_to_cpu_16(d->rerequest_port), udp_len);
	memcpy(f, payload, len);
	if (v6) /* UDP over IPv6 must carry its checksum (RFC 8200) */
		((struct rte_udp_hdr *)udp)->dgram_cksum = rte_cpu_to_be_16(weir_udp_csum(ip, 6, udp, udp_len));
	if (rte_eth_tx_burst(port, (uint16_t)w->id, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		return false;
	}
	return true;
}

/* An IGMP frame out of the port's TX queue of this worker. */
static bool
igmp_send(void *ctx, uint16_t port, const uint8_t *frame, uint32_t len)
{
	struct weir_worker *w = ctx;
	if (port >= WEIR_MAX_PORTS || !w->can_tx[port])
		return false;
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->tx_pool);
	uint8_t *f = m ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len) : NULL;
	if (f == NULL) {
		if (m)
			rte_pktmbuf_free(m);
		return false;
	}
	memcpy(f, frame, len);
	if (rte_eth_tx_burst(port, (uint16_t)w->id, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		return false;
	}
	return true;
}

/* A filtered frame: an IGMP or MLD message goes to the port's speaker. */
static void
igmp_hook(void *ctx, const uint8_t *frame, uint32_t len, const struct weir_udp_view *v, uint16_t port,
	  uint64_t now_ns)
{
	(void)frame, (void)len;
	struct weir_worker *w = ctx;
	weir_igmp_host_input(w->igmp, w->n_igmp, port, v, now_ns);
}

static void
igmp_figures(struct weir_worker *w)
{
	uint64_t sent = 0, answered = 0, unexpected = 0;
	for (unsigned i = 0; i < w->n_igmp; i++) {
		sent += w->igmp[i].reports_sent;
		answered += w->igmp[i].queries_answered;
		unexpected += w->igmp[i].unexpected;
	}
	w->pl.c.igmp_reports_sent = sent;
	w->pl.c.igmp_queries_answered = answered;
	w->pl.c.igmp_unexpected = unexpected;
}

/* Every store of the worker's counters: the IGMP speaker's figures with the
 * pipeline's (before, they reached the shared block only on idle polls). */
static void
store_counters(struct weir_worker *w)
{
	igmp_figures(w);
	weir_pipeline_store_counters(&w->pl, w->shared);
}

/* Worker 0 speaks IGMP for every port with feed groups (queries reach
 * queue 0: with RSS over UDP only, other IPv4 goes to queue 0). */
static void
igmp_init(struct weir_worker *w, const struct weir_config *cfg, uint64_t now_ns)
{
	if (w->id != 0)
		return;
	for (unsigned i = 0; i < cfg->n_feed_groups; i++) {
		const struct weir_feed_group *f = &cfg->feed_groups[i];
		struct weir_igmp *s = NULL;
		for (unsigned k = 0; k < w->n_igmp && s == NULL; k++)
			if (w->igmp[k].port == f->port)
				s = &w->igmp[k];
		if (s == NULL) {
			if (w->n_igmp == WEIR_MAX_PORTS)
				continue;
			struct rte_ether_addr mac;
			if (rte_eth_macaddr_get(f->port, &mac) != 0)
				memset(&mac, 0, sizeof(mac));
			s = &w->igmp[w->n_igmp++];
			weir_igmp_init(s, f->port, mac.addr_bytes, NULL, 0, now_ns, now_ns ^ f->port);
			s->local_ip = cfg->port_addr[f->port]; /* 0.0.0.0 when none is configured */
		}
		if (s->n < WEIR_IGMP_MAX_GROUPS) {
			struct weir_igmp_group *g = &s->g[s->n++];
			*g = (struct weir_igmp_group){ f->group, f->source, f->family };
			memcpy(g->group6, f->group6, 16);
			memcpy(g->source6, f->source6, 16);
			s->unsolicited_left = 2;
		}
	}
	if (w->n_igmp) {
		w->pl.filtered_hook = igmp_hook;
		w->pl.filtered_ctx = w;
	}
}

int
weir_worker_init(struct weir_worker *w, const struct weir_worker_setup *s, unsigned id, struct weir_ring *ring,
		 void *seq_region, struct weir_worker_counters *shared)
{
	const struct weir_config *cfg = s->cfg;
	struct weir_rerequest_sink sink = { .ctx = w, .send = weir_worker_send_rerequest };
	if (weir_pipeline_init(&w->pl, cfg, id, ring, seq_region, s->decoders, s->rerequests ? &sink : NULL,
			       s->quit) != 0)
		return -1;
	w->shared = shared;
	w->pl.waiting_gauge = &shared->backpressure_waiting;
	if (s->rules_region)
		weir_pipeline_use_rules(&w->pl, s->rules, weir_rules_row(s->rules_region, id));
	w->id = id;
	w->lcore = cfg->worker_lcores[id];
	w->burst = (uint16_t)cfg->burst;
	w->clock = s->clock;
	while (!weir_tsc_read(w->clock, &w->clock_map))
		;
	w->next_clock_ns = 0;
	const struct weir_ports *ports = s->ports;
	for (unsigned p = 0; p < ports->n_ports; p++) {
		if (id < ports->rxq[p])
			w->rxq[w->n_rxq++] = (struct weir_rxq_ref){ ports->port_ids[p], (uint16_t)id,
								     ports->rx_timestamp[p] ? &ports->clock[p] : NULL };
		if (ports->port_ids[p] < WEIR_MAX_PORTS)
			w->can_tx[ports->port_ids[p]] = id < ports->txq[p];
	}
	w->ts_offset = ports->ts_offset;
	w->ts_flag = ports->ts_flag;
	w->tx_pool = weir_ports_pool((int)rte_lcore_to_socket_id(w->lcore));
	for (unsigned p = 0; p < ports->n_ports; p++) {
		struct rte_ether_addr mac;
		uint16_t id = ports->port_ids[p];
		if (id < WEIR_MAX_PORTS && rte_eth_macaddr_get(id, &mac) == 0) {
			memcpy(w->pl.peers[id].local_mac, mac.addr_bytes, 6);
			w->pl.peers[id].port_mac_set = 1;
		}
	}
	igmp_init(w, cfg, weir_worker_now_ns(w));
	return 0;
}

static uint64_t
worker_clock_ns(const void *ctx)
{
	return weir_worker_now_ns(ctx);
}

int
weir_worker_main(void *arg)
{
	struct weir_worker *w = arg;
	struct weir_pipeline *pl = &w->pl;
	unsigned idle_since_store = 0;
	uint64_t last_rx_ns = weir_worker_now_ns(w);
	uint64_t busy_from = 0; /* when the poll that returned packets began; 0: the last poll was idle */
	uint64_t next_store_ns = 0;

	pl->clock_ns = worker_clock_ns;
	pl->clock_ctx = w;
	while (!*pl->quit) {
		/* No scan is under way here: the quiescent point where a new rule set is taken. */
		weir_pipeline_sync_rules(pl);
		for (unsigned q = 0; q < w->n_rxq; q++) {
			uint16_t port = w->rxq[q].port;
			/* One clock read a poll: the receipt time of its burst, and
			 * the end of the busy poll before it, whose records were
			 * published before this read (their commit latency's end:
			 * a clock read of its own cost 0.3 ns a packet). */
			uint64_t now_ns = weir_worker_now_ns(w);
			if (busy_from) {
				pl->c.busy_ns += now_ns - busy_from;
				weir_pipeline_note_latency(pl, busy_from, now_ns);
				busy_from = 0;
			}
			for (unsigned i = 0; i < w->n_igmp; i++) /* a few compares: what is due, if anything */
				weir_igmp_poll(&w->igmp[i], now_ns, igmp_send, w);
			uint16_t n = rte_eth_rx_burst(port, w->rxq[q].queue, w->pkts, w->burst);
			if (n == 0) {
				pl->c.idle_polls++;
				if (++idle_since_store == IDLE_STORE_EVERY) {
					idle_since_store = 0;
					weir_pipeline_tick(pl, now_ns);
					weir_ring_publish(&pl->ring, now_ns);
					weir_pipeline_note_latency(pl, last_rx_ns, now_ns); /* held events released */
					store_counters(w);
					refresh_clock(w, now_ns);
				}
				continue;
			}
			busy_from = now_ns;
			pl->c.busy_polls++;
			pl->c.burst_size[weir_burst_bucket(n)]++;
			handle_burst(w, &w->rxq[q], n, now_ns);
			weir_pipeline_tick(pl, now_ns);
			/* One release store per burst makes the whole burst visible. */
			weir_ring_publish(&pl->ring, now_ns);
			last_rx_ns = now_ns;
			if (now_ns >= next_store_ns) {
				store_counters(w);
				refresh_clock(w, now_ns);
				next_store_ns = now_ns + STORE_EVERY_NS;
			}
		}
	}
	/* Gaps still open are declared lost: the log states every hole. */
	uint64_t now_ns = weir_worker_now_ns(w);
	for (unsigned i = 0; i < w->n_igmp; i++) /* a clean stop leaves the groups */
		weir_igmp_leave(&w->igmp[i], now_ns, igmp_send, w);
	if (busy_from) {
		pl->c.busy_ns += now_ns - busy_from;
		weir_pipeline_note_latency(pl, busy_from, now_ns);
	}
	weir_pipeline_stop(pl, now_ns);
	weir_ring_publish(&pl->ring, now_ns);
	weir_pipeline_note_latency(pl, last_rx_ns, weir_worker_now_ns(w));
	store_counters(w);
	return 0;
}
