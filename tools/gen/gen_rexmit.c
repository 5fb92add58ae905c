#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "gen.h"
#include "weir_frame.h"
#include "weir_headers.h"
#include "weir_moldudp64.h"
#include "weir_parse.h"
#include "weir_time.h"

/* Where the answer to one re-request goes. */
struct reply_to {
	struct sockaddr_storage addr; /* socket mode */
	socklen_t addr_len;
	struct endpoints ep;         /* DPDK mode: back to whoever asked */
	uint16_t port;
};

bool
gen_is_forgotten(const struct session *s, uint64_t seq)
{
	uint64_t i = seq - s->first_seq;
	return s->forgotten[i / 8] & (1u << (i % 8));
}

/* Keeps what was sent so the retransmission server can send it again. */
void
gen_store_message(struct session *s, uint64_t seq, const uint8_t *msg, uint16_t len)
{
	if (s->store_len + len > s->store_cap) {
		s->store_cap = s->store_cap ? s->store_cap * 2 : 1 << 20;
		s->store = realloc(s->store, s->store_cap);
		if (s->store == NULL) {
			fprintf(stderr, "weir-gen: out of memory\n");
			exit(1);
		}
	}
	memcpy(s->store + s->store_len, msg, len);
	s->msg_off[seq - s->first_seq] = s->store_len;
	s->msg_len[seq - s->first_seq] = len;
	s->store_len += len;
}

static void
reply(struct gen *g, const struct reply_to *to, const uint8_t *payload, uint32_t len)
{
	if (g->o.dpdk_eal) {
		uint8_t frame[MAX_FRAME + 64];
		uint32_t l3, l4;
		uint32_t fl = gen_build_udp_frame_between(g, &to->ep, frame, false, false, weir_sockaddr_port(&g->o.serve), to->port,
						      payload, len, &l3, &l4);
		gen_send_frame_dpdk(g, frame, fl);
	} else {
		sendto(g->srv, payload, len, 0, (const struct sockaddr *)&to->addr, to->addr_len);
	}
}

/* A MoldUDP64 re-request: a bare 20-byte header, session, first sequence
 * wanted, count.  Answered with what was sent, less what it was told to
 * forget, in packets of at most MOLD_BUDGET bytes, to whoever asked. */
static void
answer_request(struct gen *g, const uint8_t *req, size_t n, const struct reply_to *to)
{
	if (n != WEIR_MOLD_HEADER_BYTES) {
		g->requests_bad++;
		return;
	}
	uint64_t seq = weir_be64(req + 10);
	uint16_t count = weir_be16(req + 18);
	struct session *s = NULL;
	for (unsigned i = 0; i < g->o.sessions && s == NULL; i++)
		if (memcmp(g->s[i].name, req, strnlen(g->s[i].name, 10)) == 0)
			s = &g->s[i];
	if (s == NULL || seq < s->first_seq) {
		g->requests_bad++;
		return;
	}
	g->requests_served++;
	uint64_t end = seq + count;
	if (end > s->next_seq)
		end = s->next_seq;
	uint8_t out[MOLD_BUDGET + 64];
	for (uint64_t q = seq; q < end;) {
		while (q < end && gen_is_forgotten(s, q))
			q++;
		if (q == end)
			break;
		uint32_t len = WEIR_MOLD_HEADER_BYTES;
		uint64_t first = q;
		unsigned c = 0;
		while (q < end && !gen_is_forgotten(s, q)) {
			uint16_t ml = s->msg_len[q - s->first_seq];
			if (c && len + 2 + ml > MOLD_BUDGET)
				break;
			len += weir_mold_put_block(out + len, s->store + s->msg_off[q - s->first_seq], ml);
			c++;
			q++;
		}
		weir_mold_put_header(out, s->name, first, (uint16_t)c);
		reply(g, to, out, len);
		g->resent_events += c;
	}
}

void
gen_serve_requests(struct gen *g)
{
	if (!g->o.serving)
		return;
	if (g->o.dpdk_eal) {
		struct rte_mbuf *pkts[32];
		uint16_t n = rte_eth_rx_burst(0, 0, pkts, 32);
		for (uint16_t i = 0; i < n; i++) {
			const uint8_t *f = rte_pktmbuf_mtod(pkts[i], const uint8_t *);
			struct weir_udp_view v;
			unsigned reason;
			if (weir_parse_udp(f, pkts[i]->data_len, WEIR_CSUM_UNKNOWN, WEIR_CSUM_UNKNOWN, &v, &reason) ==
				    WEIR_PARSE_OK &&
			    v.ip_version == 4 && v.dst_port == weir_sockaddr_port(&g->o.serve)) {
				struct reply_to to = { .port = v.src_port };
				memcpy(to.ep.dst_mac, f + 6, 6);
				memcpy(to.ep.src_mac, g->feed.src_mac, 6);
				memcpy(to.ep.dst_ip, v.src_addr, 4);
				memcpy(to.ep.src_ip, &g->o.serve.v4.sin_addr, 4);
				answer_request(g, v.payload, v.payload_len, &to);
			}
			rte_pktmbuf_free(pkts[i]);
		}
		return;
	}
	for (;;) {
		uint8_t req[64];
		struct reply_to to;
		to.addr_len = sizeof(to.addr);
		ssize_t n = recvfrom(g->srv, req, sizeof(req), MSG_DONTWAIT, (struct sockaddr *)&to.addr, &to.addr_len);
		if (n < 0)
			return;
		answer_request(g, req, (size_t)n, &to);
	}
}
