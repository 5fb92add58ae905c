#define _GNU_SOURCE /* memmem */
/*
 * weir-gen: the traffic tool.  `weir-gen pcap` writes a capture of MoldUDP64
 * traffic and a ground-truth manifest (JSON) of exactly what a correct
 * appliance must count and persist.  Seeded: the same flags give the same
 * bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "weir_time.h"
#include "weir_frame.h"
#include "weir_moldudp64.h"
#include "weir_headers.h"
#include "weir_parse.h"
#include "weir_dead_letter.h"

#define MAX_FRAME 1514
#define MAX_SESSIONS 4096
#define MOLD_BUDGET 1400 /* MoldUDP64 bytes per packet, inside a 1500-byte MTU */
_Static_assert(MOLD_BUDGET + 64 <= 1464, "a pending packet holds MOLD_BUDGET bytes");

struct gen_opts {
	const char *out, *manifest;
	uint64_t seed;
	unsigned sessions;
	uint64_t messages;
	unsigned per_min, per_max;
	unsigned payload_min, payload_max;
	double malformed_rate, filtered_rate, vlan_rate, ipv6_rate;
	unsigned heartbeat_every;
	bool end_session;
	uint16_t udp_port;
	uint64_t first_seq;
	double loss_rate, duplicate_rate, reorder_rate, delay_rate, delay_ms;
	unsigned burst_loss, reorder_distance;
	/* send mode */
	bool send;
	struct sockaddr_in to, serve;
	bool serving;
	double forget_rate;          /* of lost packets, the share the server will not resend */
	bool weir_framing;           /* weir frames instead of MoldUDP64 */
	const char *dpdk_eal;        /* send over DPDK port 0 instead of a socket */
	unsigned frame_topics;       /* events carry topic ids 0..frame_topics */
	/* Content rules must find: at most one plant an event. */
	struct plant {
		char text[64];
		size_t len;
		double rate;
		bool drop;           /* the rules under test drop it: not in the expected log */
	} plants[8];
	unsigned n_plants;
	double rate_pps, linger_s;
};

struct session {
	char name[32];               /* MoldUDP64 session, or "wf:<id>" */
	uint64_t source_id;          /* weir framing */
	uint64_t first_seq, next_seq, sent;
	uint64_t data_packets;       /* generated, delivered or not */
	unsigned packets_since_heartbeat;
	unsigned burst_left;         /* packets still to lose in this burst */
	EVP_MD_CTX *digest;          /* over the delivered events, in sequence order */
	/* The receiving side as a correct appliance sees it (the ground truth). */
	uint8_t *received;           /* bit per sequence from first_seq */
	uint64_t seen_next;          /* one past the highest sequence delivered */
	bool seen_started;
	uint64_t delivered_events;
	/* send mode: what was sent, for the retransmission server */
	uint8_t *forgotten;          /* bit per sequence: lost and never to be resent */
	uint8_t *store;
	uint64_t store_len, store_cap;
	uint64_t *msg_off;           /* by sequence - first_seq */
	uint16_t *msg_len;
	uint64_t *dropped;           /* sequences a drop plant went into, delivered ones */
	uint64_t n_dropped, cap_dropped;
};

/* A data packet on its way: delivered now, held back (reordering) or
 * repeated later (duplication). */
struct pending {
	unsigned session;
	uint64_t seq;
	unsigned count;
	unsigned due_in;             /* data packets still to go out before it */
	uint32_t len;
	uint8_t mold[1464];
};

struct truth {
	uint64_t in_order, ahead, late_fills, duplicates, gaps_opened, events_missing;
	uint64_t messages;           /* in every data packet delivered, repeats included */
	uint64_t lost_packets;
	uint64_t delayed_packets;
};

/* Who a frame is from and to. */
struct endpoints {
	uint8_t src_mac[6], dst_mac[6];
	uint8_t src_ip[4], dst_ip[4];
};

struct gen {
	struct gen_opts o;
	struct endpoints feed;       /* the generated traffic's addresses */
	uint64_t rng;
	pcap_dumper_t *dump;
	uint64_t ts_us;
	uint64_t packets, data_packets, heartbeats, end_of_session, filtered, dead;
	uint64_t dead_by_reason[WEIR_DL_MAX];
	uint64_t messages;
	struct truth t;
	struct pending *pending;
	unsigned n_pending, cap_pending;
	int sock, srv;
	struct rte_mempool *mp;      /* --dpdk */
	uint64_t send_start_ns;
	uint64_t requests_served, requests_bad, resent_events, forgotten_events;
	uint64_t topic_events[256];  /* persisted events by weir frame topic id */
	uint64_t planted[8];         /* delivered events carrying each plant */
	struct session s[MAX_SESSIONS];
};

/* splitmix64: small, seeded, the same everywhere. */
static uint64_t
rnd(struct gen *g)
{
	uint64_t z = (g->rng += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static unsigned
rnd_range(struct gen *g, unsigned lo, unsigned hi)
{
	return lo + (unsigned)(rnd(g) % (uint64_t)(hi - lo + 1));
}

static bool
chance(struct gen *g, double p)
{
	return p > 0 && (double)(rnd(g) >> 11) * 0x1.0p-53 < p;
}

static void serve_requests(struct gen *g);

/* Pace to --rate, answering re-requests while waiting. */
static void
pace(struct gen *g)
{
	uint64_t due = g->send_start_ns + (uint64_t)((double)g->packets * 1e9 / g->o.rate_pps);
	for (;;) {
		serve_requests(g);
		uint64_t now = weir_monotonic_ns();
		if (now >= due)
			break;
		struct timespec ts = { 0, (long)(due - now < 200000 ? due - now : 200000) };
		nanosleep(&ts, NULL);
	}
}

/* --dpdk: the whole frame out of port 0, waiting (and serving) while the
 * TX ring is full. */
static void
send_frame_dpdk(struct gen *g, const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m;
	while ((m = rte_pktmbuf_alloc(g->mp)) == NULL)
		usleep(100);
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	memcpy(d, frame, len);
	for (unsigned tries = 0; rte_eth_tx_burst(0, 0, &m, 1) == 0; tries++) {
		if (tries == 100000) {
			fprintf(stderr, "weir-gen: DPDK port 0 takes no packets (link down?)\n");
			exit(1);
		}
		usleep(10);
	}
}

/* Send mode: the frame's UDP payload goes out of a kernel socket to the
 * frame's destination port on --to's address. */
static void
emit_udp(struct gen *g, const uint8_t *frame, uint32_t len)
{
	struct weir_udp_view v;
	unsigned reason;
	if (weir_parse_udp(frame, len, WEIR_CSUM_GOOD, WEIR_CSUM_GOOD, &v, &reason) != WEIR_PARSE_OK) {
		fprintf(stderr, "weir-gen: internal: send mode built a frame that is not UDP\n");
		exit(1);
	}
	struct sockaddr_in to = g->o.to;
	to.sin_port = htons(v.dst_port);
	while (sendto(g->sock, v.payload, v.payload_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "weir-gen: sendto: %s\n", strerror(errno));
			exit(1);
		}
		usleep(100);
	}
}

/* Brings DPDK port 0 up for --dpdk (its own EAL, its own file prefix). */
static int
dpdk_open(struct gen *g)
{
	static char buf[1024];
	char *argv[64];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", g->o.dpdk_eal);
	argv[argc++] = "weir-gen";
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && argc < 63; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "weir-gen: EAL init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "weir-gen: --dpdk: no port (give a --vdev)\n");
		return -1;
	}
	g->mp = rte_pktmbuf_pool_create("weir_gen", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (g->mp == NULL || rte_eth_dev_configure(0, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(0, 0, 1024, (unsigned)rte_eth_dev_socket_id(0), NULL, g->mp) != 0 ||
	    rte_eth_tx_queue_setup(0, 0, 1024, (unsigned)rte_eth_dev_socket_id(0), NULL) != 0 ||
	    rte_eth_dev_start(0) != 0) {
		fprintf(stderr, "weir-gen: --dpdk: cannot start port 0\n");
		return -1;
	}
	/* A memif client sends nothing until its peer has connected. */
	for (int i = 0; i < 200; i++) {
		struct rte_eth_link link;
		if (rte_eth_link_get_nowait(0, &link) == 0 && link.link_status == RTE_ETH_LINK_UP)
			return 0;
		usleep(50 * 1000);
	}
	fprintf(stderr, "weir-gen: --dpdk: port 0 link did not come up in 10 s\n");
	return -1;
}

static void
emit(struct gen *g, const uint8_t *frame, uint32_t len)
{
	if (g->o.send) {
		if (g->o.dpdk_eal)
			send_frame_dpdk(g, frame, len);
		else
			emit_udp(g, frame, len);
		g->packets++;
		pace(g);
		return;
	}
	struct pcap_pkthdr h;
	h.ts.tv_sec = (time_t)(g->ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(g->ts_us % 1000000);
	h.caplen = len;
	h.len = len;
	pcap_dump((u_char *)g->dump, &h, frame);
	g->ts_us += 1;
	g->packets++;
}

/*
 * Ethernet [+ VLAN] + IPv4/IPv6 + UDP around payload; returns the frame
 * length.  *l3 and *l4 get the headers' offsets so callers can break them.
 */
static uint32_t build_udp_frame_between(struct gen *g, const struct endpoints *ep, uint8_t *f, bool vlan, bool v6,
				       uint16_t sport, uint16_t dport, const uint8_t *payload, uint32_t plen, uint32_t *l3,
				       uint32_t *l4);

static uint32_t
build_udp_frame(struct gen *g, uint8_t *f, bool vlan, bool v6, uint16_t sport, uint16_t dport, const uint8_t *payload,
		uint32_t plen, uint32_t *l3, uint32_t *l4)
{
	return build_udp_frame_between(g, &g->feed, f, vlan, v6, sport, dport, payload, plen, l3, l4);
}

static uint32_t
build_udp_frame_between(struct gen *g, const struct endpoints *ep, uint8_t *f, bool vlan, bool v6, uint16_t sport,
			uint16_t dport, const uint8_t *payload, uint32_t plen, uint32_t *l3, uint32_t *l4)
{
	/* 2001:db8::1 -> 2001:db8::2 (documentation prefix) */
	static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	const uint16_t l3_type = v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4;
	uint32_t o = weir_put_eth_header(f, ep->dst_mac, ep->src_mac, vlan ? RTE_ETHER_TYPE_VLAN : l3_type);
	if (vlan)
		o += weir_put_vlan_tag(f + o, (uint16_t)(100 + (rnd(g) & 0xFF)), l3_type);
	*l3 = o;
	uint16_t ulen = (uint16_t)(sizeof(struct rte_udp_hdr) + plen);
	if (!v6)
		o += weir_put_ipv4_header(f + o, ep->src_ip, ep->dst_ip, (uint16_t)g->packets, ulen);
	else
		o += weir_put_ipv6_header(f + o, src6, dst6, ulen);
	*l4 = o;
	uint8_t *udp = f + o;
	weir_put_udp_header(udp, sport, dport, ulen);
	memcpy(udp + sizeof(struct rte_udp_hdr), payload, plen);
	/* mandatory for IPv6; over IPv4 it lets a corrupted payload be told */
	((struct rte_udp_hdr *)udp)->dgram_cksum = rte_cpu_to_be_16(weir_udp_csum(f + *l3, v6 ? 6 : 4, udp, ulen));
	return o + ulen;
}

static void
fill_payload(struct gen *g, uint8_t *p, unsigned len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	for (unsigned i = 0; i < len; i++)
		p[i] = (uint8_t)alphabet[rnd(g) % 62];
}

static void
digest_event(struct session *s, uint64_t seq, const uint8_t *msg, uint16_t len)
{
	uint8_t hdr[10];
	weir_put_be64(hdr, seq);
	weir_put_be16(hdr + 8, len);
	EVP_DigestUpdate(s->digest, hdr, sizeof(hdr));
	EVP_DigestUpdate(s->digest, msg, len);
}

static void
emit_mold(struct gen *g, const uint8_t *mold, uint32_t len)
{
	uint8_t frame[MAX_FRAME + 64];
	uint32_t l3, l4;
	bool vlan = chance(g, g->o.vlan_rate), v6 = chance(g, g->o.ipv6_rate);
	uint32_t flen = build_udp_frame(g, frame, vlan, v6, 40000, g->o.udp_port, mold, len, &l3, &l4);
	emit(g, frame, flen);
}

/* A packet weir must ignore: ARP, TCP, or UDP to a port with no decoder. */
static void
emit_filtered(struct gen *g)
{
	uint8_t frame[MAX_FRAME + 64], payload[64];
	uint32_t l3, l4, flen;
	fill_payload(g, payload, sizeof(payload));
	switch (g->o.send ? 1 : rnd(g) % 3) { /* a socket sends UDP only */
	case 0: /* ARP request */
		memset(frame, 0xFF, 6);
		memset(frame + 6, 0x02, 6);
		weir_put_be16(frame + 12, 0x0806);
		memset(frame + 14, 0, 28);
		weir_put_be16(frame + 14, 1);
		weir_put_be16(frame + 16, 0x0800);
		frame[18] = 6;
		frame[19] = 4;
		weir_put_be16(frame + 20, 1);
		flen = 60;
		memset(frame + 42, 0, 18);
		break;
	case 1: /* UDP to another port */
		flen = build_udp_frame(g, frame, false, false, 40000, (uint16_t)(g->o.udp_port + 1), payload, 32, &l3, &l4);
		break;
	default: /* not UDP: rewrite the protocol to TCP (6) and fix the checksum */
		flen = build_udp_frame(g, frame, false, false, 40000, g->o.udp_port, payload, 32, &l3, &l4);
		frame[l3 + 9] = 6;
		weir_put_be16(frame + l3 + 10, 0);
		weir_put_be16(frame + l3 + 10, weir_ipv4_header_csum(frame + l3, 20));
		break;
	}
	emit(g, frame, flen);
	g->filtered++;
}

/* A weir frame broken in one of the ways its decoder must name. */
static void
emit_malformed_frame(struct gen *g, struct session *s)
{
	static const unsigned kinds[] = {
		WEIR_DL_frame_truncated_header, WEIR_DL_frame_bad_magic,      WEIR_DL_frame_bad_version,
		WEIR_DL_frame_bad_flags,        WEIR_DL_frame_truncated_event, WEIR_DL_frame_trailing_bytes,
		WEIR_DL_frame_unknown_topic,
	};
	unsigned reason = kinds[rnd(g) % (sizeof(kinds) / sizeof(kinds[0]))];
	uint8_t p[256], msg[16];
	fill_payload(g, msg, sizeof(msg));
	uint32_t len = weir_frame_put_header(p, 0, 2, s->source_id, s->next_seq);
	len += weir_frame_put_event(p + len, 0, 1, msg, 8);
	len += weir_frame_put_event(p + len, 0, 1, msg + 8, 8);
	switch (reason) {
	case WEIR_DL_frame_truncated_header: len = rnd_range(g, 0, WEIR_FRAME_HEADER_BYTES - 1); break;
	case WEIR_DL_frame_bad_magic: p[rnd_range(g, 0, 3)] ^= 0x20; break;
	case WEIR_DL_frame_bad_version: p[4] = (uint8_t)rnd_range(g, 2, 255); break;
	case WEIR_DL_frame_bad_flags: p[5] = (uint8_t)(rnd(g) & 1 ? 0x80 : WEIR_FRAME_F_END); break;
	case WEIR_DL_frame_truncated_event: len -= rnd_range(g, 1, 19); break;
	case WEIR_DL_frame_trailing_bytes: weir_put_be16(p + 6, 1); break;
	case WEIR_DL_frame_unknown_topic:
		weir_put_be16(p + WEIR_FRAME_HEADER_BYTES + 2, (uint16_t)(g->o.frame_topics + rnd_range(g, 1, 50)));
		break;
	}
	emit_mold(g, p, len);
	g->dead++;
	g->dead_by_reason[reason]++;
}

/* A malformed packet of a random kind; counted under the reason weir must give. */
static void
emit_malformed(struct gen *g, struct session *s)
{
	static const unsigned kinds[] = {
		WEIR_DL_mold_truncated_header, WEIR_DL_mold_truncated_block, WEIR_DL_mold_trailing_bytes,
		WEIR_DL_ipv4_bad_checksum,     WEIR_DL_ipv4_bad_total_length, WEIR_DL_udp_bad_length,
		WEIR_DL_ipv4_fragment,         WEIR_DL_l2_truncated,          WEIR_DL_ipv6_bad_payload_length,
		WEIR_DL_ipv4_bad_header_length,
	};
	/* A socket can only get MoldUDP64-level faults past the kernel. */
	unsigned reason = kinds[rnd(g) % (g->o.send ? 3 : sizeof(kinds) / sizeof(kinds[0]))];
	if (g->o.weir_framing && (reason == WEIR_DL_mold_truncated_header || reason == WEIR_DL_mold_truncated_block ||
				  reason == WEIR_DL_mold_trailing_bytes)) {
		emit_malformed_frame(g, s);
		return;
	}
	uint8_t mold[256], frame[MAX_FRAME + 64];
	uint32_t l3, l4, flen, mlen;
	uint8_t msg[32];
	fill_payload(g, msg, sizeof(msg));
	/* A plausible packet for the session, never consuming its sequence. */
	mlen = weir_mold_put_header(mold, s->name, s->next_seq, 2);
	mlen += weir_mold_put_block(mold + mlen, msg, 16);
	mlen += weir_mold_put_block(mold + mlen, msg + 16, 16);
	bool v6 = reason == WEIR_DL_ipv6_bad_payload_length;
	switch (reason) {
	case WEIR_DL_mold_truncated_header:
		flen = build_udp_frame(g, frame, false, false, 40000, g->o.udp_port, mold, rnd_range(g, 0, 19), &l3, &l4);
		break;
	case WEIR_DL_mold_truncated_block: /* the last block claims more than is there */
		weir_put_be16(mold + 20 + 18, (uint16_t)(16 + rnd_range(g, 1, 200)));
		flen = build_udp_frame(g, frame, false, false, 40000, g->o.udp_port, mold, mlen, &l3, &l4);
		break;
	case WEIR_DL_mold_trailing_bytes: /* count says 1, two blocks follow */
		weir_put_be16(mold + 18, 1);
		flen = build_udp_frame(g, frame, false, false, 40000, g->o.udp_port, mold, mlen, &l3, &l4);
		break;
	default:
		flen = build_udp_frame(g, frame, chance(g, g->o.vlan_rate), v6, 40000, g->o.udp_port, mold, mlen, &l3,
				       &l4);
		break;
	}
	uint8_t *ip = frame + l3;
	switch (reason) {
	case WEIR_DL_ipv4_bad_checksum:
		ip[10] ^= 0x5A;
		break;
	case WEIR_DL_ipv4_bad_total_length: /* claims more than the frame holds */
		weir_put_be16(ip + 2, (uint16_t)(weir_be16(ip + 2) + rnd_range(g, 1, 400)));
		weir_put_be16(ip + 10, 0);
		weir_put_be16(ip + 10, weir_ipv4_header_csum(ip, 20));
		break;
	case WEIR_DL_ipv4_bad_header_length: /* IHL below 5 */
		ip[0] = (uint8_t)(0x40 | rnd_range(g, 0, 4));
		break;
	case WEIR_DL_udp_bad_length:
		weir_put_be16(frame + l4 + 4, (uint16_t)(weir_be16(frame + l4 + 4) + rnd_range(g, 1, 100)));
		break;
	case WEIR_DL_ipv4_fragment:
		weir_put_be16(ip + 6, 0x2000); /* MF */
		weir_put_be16(ip + 10, 0);
		weir_put_be16(ip + 10, weir_ipv4_header_csum(ip, 20));
		break;
	case WEIR_DL_l2_truncated:
		flen = rnd_range(g, 1, 13);
		break;
	case WEIR_DL_ipv6_bad_payload_length:
		weir_put_be16(ip + 4, (uint16_t)(weir_be16(ip + 4) + rnd_range(g, 1, 300)));
		break;
	default:
		break;
	}
	emit(g, frame, flen);
	g->dead++;
	g->dead_by_reason[reason]++;
}

static void
emit_control(struct gen *g, struct session *s, uint16_t count)
{
	uint8_t hdr[WEIR_FRAME_HEADER_BYTES];
	uint32_t len;
	if (g->o.weir_framing)
		len = weir_frame_put_header(hdr, count == WEIR_MOLD_END_OF_SESSION ? WEIR_FRAME_F_END : 0, 0,
					    s->source_id, s->next_seq);
	else
		len = weir_mold_put_header(hdr, s->name, s->next_seq, count);
	emit_mold(g, hdr, len);
	g->data_packets++;
}

static bool
was_received(const struct session *s, uint64_t seq)
{
	uint64_t i = seq - s->first_seq;
	return s->received[i / 8] & (1u << (i % 8));
}

/* What a correct tracker makes of a heartbeat (or end of session). */
static void
truth_next_is(struct gen *g, struct session *s, uint64_t next)
{
	if (!s->seen_started) {
		s->seen_started = true;
		s->seen_next = next;
	} else if (next > s->seen_next) {
		g->t.gaps_opened++;
		g->t.events_missing += next - s->seen_next;
		s->seen_next = next;
	}
}

/* What a correct tracker makes of each event of a delivered packet. */
static void
truth_events(struct gen *g, struct session *s, uint64_t seq, unsigned n)
{
	g->t.messages += n;
	for (unsigned i = 0; i < n; i++) {
		uint64_t q = seq + i, bit = q - s->first_seq;
		if (!s->seen_started) {
			s->seen_started = true;
			s->seen_next = q + 1;
			g->t.in_order++;
		} else if (was_received(s, q)) {
			g->t.duplicates++;
			continue;
		} else if (q == s->seen_next) {
			g->t.in_order++;
			s->seen_next++;
		} else if (q > s->seen_next) {
			g->t.ahead++;
			g->t.gaps_opened++;
			g->t.events_missing += q - s->seen_next;
			s->seen_next = q + 1;
		} else {
			g->t.late_fills++;
		}
		s->received[bit / 8] |= (uint8_t)(1u << (bit % 8));
		s->delivered_events++;
	}
}

/* Maybe writes one plant into a payload, at a random place. */
static void
plant(struct gen *g, uint8_t *msg, unsigned len)
{
	double x = (double)(rnd(g) >> 11) * 0x1.0p-53, acc = 0;
	for (unsigned i = 0; i < g->o.n_plants; i++) {
		const struct plant *pl = &g->o.plants[i];
		acc += pl->rate;
		if (x < acc) {
			if (pl->len <= len)
				memcpy(msg + rnd_range(g, 0, len - (unsigned)pl->len), pl->text, pl->len);
			return;
		}
	}
}

/* Which plant an event carries (the alphabet never makes one by chance), or -1. */
static int
planted_in(const struct gen *g, const uint8_t *msg, uint16_t len)
{
	for (unsigned i = 0; i < g->o.n_plants; i++)
		if (memmem(msg, len, g->o.plants[i].text, g->o.plants[i].len))
			return (int)i;
	return -1;
}

/* One event the appliance must persist (or drop, by the rules under test). */
static void
expect_event(struct gen *g, struct session *s, uint64_t seq, const uint8_t *msg, uint16_t len)
{
	int p = planted_in(g, msg, len);
	if (p >= 0) {
		g->planted[p]++;
		if (g->o.plants[p].drop) {
			if (s->n_dropped == s->cap_dropped) {
				s->cap_dropped = s->cap_dropped ? 2 * s->cap_dropped : 1024;
				s->dropped = realloc(s->dropped, s->cap_dropped * sizeof(*s->dropped));
				if (s->dropped == NULL)
					exit(1);
			}
			s->dropped[s->n_dropped++] = seq;
			return;
		}
	}
	digest_event(s, seq, msg, len);
}

/* The packet's events count towards the session's digest, in sequence order. */
static void
digest_packet(struct gen *g, struct session *s, const struct pending *p)
{
	if (g->o.weir_framing) {
		const uint8_t *c = p->mold + WEIR_FRAME_HEADER_BYTES;
		for (unsigned i = 0; i < p->count; i++) {
			struct weir_frame_event e;
			weir_frame_next(&c, &e);
			expect_event(g, s, p->seq + i, e.payload, e.len);
			if (planted_in(g, e.payload, e.len) < 0 || !g->o.plants[planted_in(g, e.payload, e.len)].drop)
				g->topic_events[e.topic]++;
		}
		return;
	}
	const uint8_t *c = p->mold + WEIR_MOLD_HEADER_BYTES;
	for (unsigned i = 0; i < p->count; i++) {
		uint16_t len;
		const uint8_t *msg = weir_mold_next(&c, &len);
		expect_event(g, s, p->seq + i, msg, len);
	}
}

static bool
is_forgotten(const struct session *s, uint64_t seq)
{
	uint64_t i = seq - s->first_seq;
	return s->forgotten[i / 8] & (1u << (i % 8));
}

/* Keeps what was sent so the retransmission server can send it again. */
static void
store_message(struct session *s, uint64_t seq, const uint8_t *msg, uint16_t len)
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

/* Where the answer to one re-request goes. */
struct reply_to {
	struct sockaddr_in addr;     /* socket mode */
	struct endpoints ep;         /* DPDK mode: back to whoever asked */
	uint16_t port;
};

static void send_frame_dpdk(struct gen *g, const uint8_t *frame, uint32_t len);

static void
reply(struct gen *g, const struct reply_to *to, const uint8_t *payload, uint32_t len)
{
	if (g->o.dpdk_eal) {
		uint8_t frame[MAX_FRAME + 64];
		uint32_t l3, l4;
		uint32_t fl = build_udp_frame_between(g, &to->ep, frame, false, false, ntohs(g->o.serve.sin_port), to->port,
						      payload, len, &l3, &l4);
		send_frame_dpdk(g, frame, fl);
	} else {
		sendto(g->srv, payload, len, 0, (const struct sockaddr *)&to->addr, sizeof(to->addr));
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
		while (q < end && is_forgotten(s, q))
			q++;
		if (q == end)
			break;
		uint32_t len = WEIR_MOLD_HEADER_BYTES;
		uint64_t first = q;
		unsigned c = 0;
		while (q < end && !is_forgotten(s, q)) {
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

static void
serve_requests(struct gen *g)
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
			    v.ip_version == 4 && v.dst_port == ntohs(g->o.serve.sin_port)) {
				struct reply_to to = { .port = v.src_port };
				memcpy(to.ep.dst_mac, f + 6, 6);
				memcpy(to.ep.src_mac, g->feed.src_mac, 6);
				memcpy(to.ep.dst_ip, v.src_addr, 4);
				memcpy(to.ep.src_ip, &g->o.serve.sin_addr, 4);
				answer_request(g, v.payload, v.payload_len, &to);
			}
			rte_pktmbuf_free(pkts[i]);
		}
		return;
	}
	for (;;) {
		uint8_t req[64];
		struct reply_to to;
		socklen_t fl = sizeof(to.addr);
		ssize_t n = recvfrom(g->srv, req, sizeof(req), MSG_DONTWAIT, (struct sockaddr *)&to.addr, &fl);
		if (n < 0)
			return;
		answer_request(g, req, (size_t)n, &to);
	}
}

static void
deliver(struct gen *g, const struct pending *p)
{
	emit_mold(g, p->mold, p->len);
	g->data_packets++;
	truth_events(g, &g->s[p->session], p->seq, p->count);
}

static void
hold(struct gen *g, const struct pending *p, unsigned due_in)
{
	if (g->n_pending == g->cap_pending) {
		g->cap_pending = g->cap_pending ? g->cap_pending * 2 : 64;
		g->pending = realloc(g->pending, g->cap_pending * sizeof(*g->pending));
		if (g->pending == NULL) {
			fprintf(stderr, "weir-gen: out of memory\n");
			exit(1);
		}
	}
	g->pending[g->n_pending] = *p;
	g->pending[g->n_pending++].due_in = due_in;
}

/* One more data packet went out: release what has waited long enough, in order. */
static void
release_due(struct gen *g, bool all)
{
	unsigned keep = 0;
	for (unsigned i = 0; i < g->n_pending; i++) {
		struct pending *p = &g->pending[i];
		if (all || p->due_in == 0) {
			deliver(g, p);
		} else {
			p->due_in--;
			g->pending[keep++] = *p;
		}
	}
	g->n_pending = keep;
}

/* Loss, duplication and reordering, decided per generated data packet; a
 * session's first packet always arrives first (it starts the stream). */
static void
send_data(struct gen *g, struct pending *p)
{
	struct gen_opts *o = &g->o;
	struct session *s = &g->s[p->session];
	bool first = s->data_packets++ == 0;
	if (!first && (s->burst_left || chance(g, o->loss_rate))) {
		s->burst_left = s->burst_left ? s->burst_left - 1 : o->burst_loss - 1;
		g->t.lost_packets++;
		/* Without a retransmission server every lost event is gone; with one,
		 * only those it is told to forget. */
		if (!o->serving || chance(g, o->forget_rate)) {
			for (unsigned i = 0; i < p->count; i++) {
				uint64_t bit = p->seq + i - s->first_seq;
				s->forgotten[bit / 8] |= (uint8_t)(1u << (bit % 8));
			}
			g->forgotten_events += p->count;
		} else {
			digest_packet(g, s, p);
		}
		release_due(g, false);
		return;
	}
	digest_packet(g, s, p);
	if (!first && chance(g, o->reorder_rate)) {
		hold(g, p, rnd_range(g, 1, o->reorder_distance));
	} else if (!first && chance(g, o->delay_rate)) {
		/* Held back delay_ms: behind every packet sent meanwhile (a capture
		 * carries one packet a microsecond; live sending goes at --rate). */
		double per_ms = o->send ? o->rate_pps / 1000.0 : 1000.0;
		unsigned behind = (unsigned)(o->delay_ms * per_ms);
		hold(g, p, behind ? behind : 1);
		g->t.delayed_packets++;
	} else {
		deliver(g, p);
	}
	if (chance(g, o->duplicate_rate))
		hold(g, p, rnd_range(g, 0, o->reorder_distance));
	release_due(g, false);
}

static int
generate(struct gen *g)
{
	struct gen_opts *o = &g->o;
	uint64_t per_session = o->messages / o->sessions, extra = o->messages % o->sessions;
	uint64_t quota[MAX_SESSIONS];
	for (unsigned i = 0; i < o->sessions; i++) {
		struct session *s = &g->s[i];
		s->source_id = 1000 + i;
		if (o->weir_framing)
			snprintf(s->name, sizeof(s->name), "wf:%" PRIu64, s->source_id);
		else
			snprintf(s->name, sizeof(s->name), "S%04u", i);
		s->first_seq = s->next_seq = o->first_seq;
		s->digest = EVP_MD_CTX_new();
		if (s->digest == NULL || EVP_DigestInit_ex(s->digest, EVP_sha256(), NULL) != 1)
			return -1;
		quota[i] = per_session + (i < extra);
	}
	for (unsigned i = 0; i < o->sessions; i++) {
		g->s[i].received = calloc(quota[i] / 8 + 2, 1);
		g->s[i].forgotten = calloc(quota[i] / 8 + 2, 1);
		if (g->s[i].received == NULL || g->s[i].forgotten == NULL)
			return -1;
		if (o->serving) {
			g->s[i].msg_off = calloc(quota[i] + 1, sizeof(uint64_t));
			g->s[i].msg_len = calloc(quota[i] + 1, sizeof(uint16_t));
			if (g->s[i].msg_off == NULL || g->s[i].msg_len == NULL)
				return -1;
		}
	}
	g->send_start_ns = weir_monotonic_ns();
	uint64_t left = o->messages;
	uint8_t msg[1024];
	unsigned cur = 0;
	while (left) {
		/* Random session with messages still to send. */
		unsigned i = (unsigned)(rnd(g) % o->sessions);
		while (quota[i] == 0)
			i = (i + 1) % o->sessions;
		cur = i;
		struct session *s = &g->s[cur];
		if (chance(g, o->filtered_rate))
			emit_filtered(g);
		if (chance(g, o->malformed_rate))
			emit_malformed(g, s);
		unsigned want = rnd_range(g, o->per_min, o->per_max);
		if (want > quota[cur])
			want = (unsigned)quota[cur];
		static struct pending p;
		uint8_t *mold = p.mold;
		uint32_t hdr = o->weir_framing ? WEIR_FRAME_HEADER_BYTES : WEIR_MOLD_HEADER_BYTES;
		uint32_t per_event = o->weir_framing ? WEIR_FRAME_EVENT_HEADER_BYTES : 2;
		uint32_t len = hdr;
		unsigned n = 0;
		uint64_t event_time_ns = weir_realtime_ns();
		while (n < want) {
			unsigned plen = rnd_range(g, o->payload_min, o->payload_max);
			if (len + per_event + plen > MOLD_BUDGET && n > 0)
				break;
			fill_payload(g, msg, plen);
			plant(g, msg, plen);
			if (o->weir_framing)
				len += weir_frame_put_event(mold + len, (uint16_t)rnd_range(g, 0, o->frame_topics),
							    event_time_ns, msg, (uint16_t)plen);
			else
				len += weir_mold_put_block(mold + len, msg, (uint16_t)plen);
			if (o->serving)
				store_message(s, s->next_seq + n, msg, (uint16_t)plen);
			n++;
		}
		if (o->weir_framing)
			weir_frame_put_header(mold, 0, (uint16_t)n, s->source_id, s->next_seq);
		else
			weir_mold_put_header(mold, s->name, s->next_seq, (uint16_t)n);
		p.session = cur;
		p.seq = s->next_seq;
		p.count = n;
		p.len = len;
		send_data(g, &p);
		s->next_seq += n;
		s->sent += n;
		quota[cur] -= n;
		left -= n;
		g->messages += n;
		if (o->heartbeat_every && ++s->packets_since_heartbeat >= o->heartbeat_every) {
			s->packets_since_heartbeat = 0;
			emit_control(g, s, WEIR_MOLD_HEARTBEAT);
			truth_next_is(g, s, s->next_seq);
			g->heartbeats++;
		}
	}
	release_due(g, true);
	if (o->end_session)
		for (unsigned i = 0; i < o->sessions; i++) {
			emit_control(g, &g->s[i], WEIR_MOLD_END_OF_SESSION);
			truth_next_is(g, &g->s[i], g->s[i].next_seq);
			g->end_of_session++;
		}
	return 0;
}

static void
write_manifest(struct gen *g, FILE *f)
{
	struct gen_opts *o = &g->o;
	struct truth *t = &g->t;
	uint64_t accepted = g->data_packets; /* data, heartbeat and end-of-session packets */
	uint64_t delivered = 0, rule_dropped = 0;
	for (unsigned i = 0; i < o->sessions; i++) {
		delivered += g->s[i].delivered_events;
		rule_dropped += g->s[i].n_dropped;
	}
	if (o->serving) {
		/* Live with a retransmission server: what the appliance receives depends
		 * on its re-requests, what it must persist does not. */
		for (unsigned i = 0; i < o->sessions; i++) {
			g->s[i].delivered_events = g->s[i].sent;
			g->s[i].seen_next = g->s[i].next_seq; /* the end of session reveals every tail */
		}
		delivered = g->messages - g->forgotten_events;
	}
	delivered -= rule_dropped; /* what the drop rules take is not persisted */
	fprintf(f, "{\n  \"generator\": \"weir-gen %s\",\n  \"seed\": %" PRIu64 ",\n  \"udp_port\": %u,\n", o->send ? "send" : "pcap",
		o->seed, o->udp_port);
	fprintf(f, "  \"packets\": %" PRIu64 ",\n  \"messages\": %" PRIu64 ",\n", g->packets, g->messages);
	fprintf(f, "  \"faults\": {\"lost_packets\": %" PRIu64 ", \"delayed_packets\": %" PRIu64
		", \"loss_rate\": %g, \"burst_loss\": %u, \"duplicate_rate\": %g, \"reorder_rate\": %g, "
		"\"reorder_distance\": %u, \"delay_rate\": %g, \"delay_ms\": %g},\n",
		t->lost_packets, t->delayed_packets, o->loss_rate, o->burst_loss, o->duplicate_rate, o->reorder_rate,
		o->reorder_distance, o->delay_rate, o->delay_ms);
	fprintf(f, "  \"expected\": {\n");
	if (o->serving) {
		fprintf(f, "    \"event_records\": %" PRIu64 ",\n    \"end_of_session\": %" PRIu64 ",\n", delivered,
			g->end_of_session);
		fprintf(f, "    \"gap_events_lost\": %" PRIu64 ",\n    \"dead_letter_packets\": %" PRIu64 ",\n",
			g->forgotten_events, g->dead);
	} else {
		fprintf(f, "    \"rx_packets\": %" PRIu64 ",\n    \"accepted_packets\": %" PRIu64 ",\n", g->packets, accepted);
		fprintf(f, "    \"filtered_packets\": %" PRIu64 ",\n    \"dead_letter_packets\": %" PRIu64 ",\n", g->filtered,
			g->dead);
		fprintf(f, "    \"messages\": %" PRIu64 ",\n    \"event_records\": %" PRIu64 ",\n", t->messages, delivered);
		fprintf(f, "    \"heartbeats\": %" PRIu64 ",\n    \"end_of_session\": %" PRIu64 ",\n", g->heartbeats,
			g->end_of_session);
		fprintf(f, "    \"seq_in_order\": %" PRIu64 ",\n    \"seq_ahead\": %" PRIu64 ",\n", t->in_order, t->ahead);
		fprintf(f, "    \"seq_late_fills\": %" PRIu64 ",\n    \"seq_duplicates\": %" PRIu64 ",\n", t->late_fills,
			t->duplicates);
		fprintf(f, "    \"gaps_opened\": %" PRIu64 ",\n    \"gap_events_missing\": %" PRIu64 ",\n", t->gaps_opened,
			t->events_missing);
		fprintf(f, "    \"gap_events_recovered\": %" PRIu64 ",\n    \"gap_events_lost\": %" PRIu64 ",\n", t->late_fills,
			t->events_missing - t->late_fills);
	}
	if (o->n_plants)
		fprintf(f, "    \"rule_drops\": %" PRIu64 ",\n", rule_dropped);
	fprintf(f, "    \"dead_letter\": {");
	for (unsigned r = 1; r < WEIR_DL_MAX; r++)
		fprintf(f, "%s\"%s\": %" PRIu64, r > 1 ? ", " : "", weir_dead_letter_names[r], g->dead_by_reason[r]);
	fprintf(f, "}\n  },\n  \"framing\": \"%s\",\n  \"topic_events\": {", o->weir_framing ? "weir" : "moldudp64");
	for (unsigned id = 0; id <= o->frame_topics; id++)
		fprintf(f, "%s\"%u\": %" PRIu64, id ? ", " : "", id, g->topic_events[id]);
	fprintf(f, "},\n  \"planted\": {");
	for (unsigned i = 0; i < o->n_plants; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", o->plants[i].text, g->planted[i]);
	fprintf(f, "},\n  \"sessions\": [\n");
	for (unsigned i = 0; i < o->sessions; i++) {
		struct session *s = &g->s[i];
		unsigned char md[32];
		unsigned mdlen = 0;
		EVP_DigestFinal_ex(s->digest, md, &mdlen);
		EVP_MD_CTX_free(s->digest);
		fprintf(f, "    {\"session\": \"%s\", \"first_seq\": %" PRIu64 ", \"next_seq\": %" PRIu64
			", \"messages\": %" PRIu64 ", \"received\": %" PRIu64 ", \"seen_next\": %" PRIu64
			", \"end_of_session\": %s, \"sha256\": \"",
			s->name, s->first_seq, s->next_seq, s->sent, s->delivered_events, s->seen_next,
			o->end_session ? "true" : "false");
		for (unsigned b = 0; b < mdlen; b++)
			fprintf(f, "%02x", md[b]);
		/* What never arrived below what the receiver learned exists: the LOSS records' due. */
		fprintf(f, "\", \"lost\": [");
		bool first = true;
		for (uint64_t q = s->first_seq; q < s->seen_next;) {
			if (!is_forgotten(s, q)) {
				q++;
				continue;
			}
			uint64_t a = q;
			while (q < s->seen_next && is_forgotten(s, q))
				q++;
			fprintf(f, "%s[%" PRIu64 ", %" PRIu64 "]", first ? "" : ", ", a, q - 1);
			first = false;
		}
		fprintf(f, "], \"rule_dropped\": [");
		for (uint64_t k = 0; k < s->n_dropped; k++)
			fprintf(f, "%s%" PRIu64, k ? ", " : "", s->dropped[k]);
		fprintf(f, "]}%s\n", i + 1 < o->sessions ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
}

/*
 * `weir-gen rules`: a rules file shaped like an operator's, for load tests
 * and the benchmarks: ticker literals with a class, caseless order ids with
 * an alternation, prices with bounded repeats, anchored halts.  Seeded: the
 * same count and seed give the same file.
 */
static int
gen_rules(int argc, char **argv)
{
	unsigned long count = 100, seed = 7;
	const char *out = NULL;
	for (int i = 2; i < argc; i++) {
		char *end = NULL;
		if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = strtoul(argv[++i], &end, 10);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoul(argv[++i], &end, 10);
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else {
			fprintf(stderr, "weir-gen rules: unknown argument \"%s\"; usage: weir-gen rules [--count N] "
					"[--seed N] [--out FILE]\n", argv[i]);
			return 2;
		}
		if (end && (*end || count == 0 || count > 4096)) {
			fprintf(stderr, "weir-gen rules: %s wants a number (--count: 1 to 4096)\n", argv[i - 1]);
			return 2;
		}
	}
	FILE *f = out ? fopen(out, "w") : stdout;
	if (f == NULL) {
		fprintf(stderr, "weir-gen rules: %s: %s\n", out, strerror(errno));
		return 1;
	}
	uint32_t s = (uint32_t)seed;
#define RND(k) (s = s * 1103515245u + 12345u, (s >> 16) % (k))
	for (unsigned long i = 1; i <= count; i++) {
		switch (i % 4) {
		case 0: fprintf(f, "%lu tag - /SYM%04u[A-Z]{2}/\n", i, RND(10000)); break;
		case 1: fprintf(f, "%lu tag caseless /order-%u(buy|sell)/\n", i, RND(100000)); break;
		case 2: fprintf(f, "%lu alert - /px=9{3,5}\\.[0-9]+ id%u/\n", i, RND(100000)); break;
		default: fprintf(f, "%lu tag - /^HALT%u/\n", i, RND(1000)); break;
		}
	}
#undef RND
	if (out && fclose(f) != 0) {
		fprintf(stderr, "weir-gen rules: %s: %s\n", out, strerror(errno));
		return 1;
	}
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: weir-gen pcap --out FILE.pcap --manifest FILE.json [options]\n"
		"       weir-gen send --to IPV4:PORT --manifest FILE.json [--serve IPV4:PORT [--forget R]] [options]\n"
		"       weir-gen rules [--count N] [--seed N] [--out FILE]   a rules file shaped like an operator's\n"
		"send (kernel UDP socket; the port of --to is replaced by each packet's):\n"
		"  --rate PPS             packets per second (default 20000)\n"
		"  --serve IPV4:PORT      answer MoldUDP64 re-requests there from what was sent (needs --end-session)\n"
		"  --forget R             of the lost packets, the share the server will not send again\n"
		"  --linger SEC           keep serving this long after the last packet (default 3)\n"
		"  --dpdk \"EAL ARGS\"      send whole frames out of DPDK port 0 instead (e.g. a net_memif client);\n"
		"                         re-requests are then read from that port too\n"
		"common:\n"
		"  --framing moldudp64|weir  the framing (default moldudp64; docs/weir-frame.md)\n"
		"  --frame-topics K       weir frames: events carry topic ids 0..K at random (default 0)\n"
		"  --plant TEXT:RATE[:drop] write TEXT into that share of payloads (up to 8 plants, one an event;\n"
		"                         TEXT needs one of #!%%&*+=@~); :drop: the rules under test drop them\n"
		"  --seed N               PRNG seed (default 1)\n"
		"  --sessions N           MoldUDP64 sessions (default 4, at most %d)\n"
		"  --messages N           messages in all (default 100000)\n"
		"  --per-packet MIN[-MAX] messages per packet (default 1-8)\n"
		"  --payload MIN[-MAX]    message bytes (default 8-64, at most 1024)\n"
		"  --malformed-rate R     chance of a malformed packet before each data packet (default 0)\n"
		"  --filtered-rate R      chance of a packet weir must ignore (ARP, TCP, other port; default 0)\n"
		"  --vlan-rate R          share of packets with an 802.1Q tag (default 0)\n"
		"  --ipv6-rate R          share of packets over IPv6 (default 0)\n"
		"  --heartbeat-every N    a heartbeat after every N data packets of a session (default 0: none)\n"
		"  --end-session          close every session with an end-of-session packet\n"
		"  --udp-port P           destination port (default 26400)\n"
		"  --first-seq N          first sequence number of every session (default 1)\n"
		"faults (a session's first packet is always delivered first):\n"
		"  --loss R               chance a data packet is lost (default 0)\n"
		"  --burst-loss N         packets lost in a row each time (default 1)\n"
		"  --duplicate R          chance a data packet arrives a second time, up to --reorder-distance later\n"
		"  --reorder R            chance a data packet is held back 1..--reorder-distance packets\n"
		"  --reorder-distance D   how far (default 8, at most 10000)\n"
		"  --delay R              chance a data packet is held back --delay-ms\n"
		"  --delay-ms D           how long (default 1; a capture sends one packet a microsecond)\n",
		MAX_SESSIONS);
}

static int
parse_range(const char *s, unsigned *lo, unsigned *hi)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b = a;
	if (end == s)
		return -1;
	if (*end == '-') {
		const char *t = end + 1;
		b = strtoul(t, &end, 10);
		if (end == t)
			return -1;
	}
	if (*end || a > b || b > 65535)
		return -1;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

/* "198.18.0.2:26400" */
static int
parse_addr(const char *s, struct sockaddr_in *a)
{
	char host[64];
	unsigned port;
	const char *colon = strrchr(s, ':');
	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	char *end;
	port = (unsigned)strtoul(colon + 1, &end, 10);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	if (*end || port == 0 || port > 65535 || inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return -1;
	return 0;
}

static int
parse_rate(const char *s, double *r)
{
	char *end;
	*r = strtod(s, &end);
	return (*end || *r < 0 || *r > 1) ? -1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "rules") == 0)
		return gen_rules(argc, argv);
	if (argc < 2 || (strcmp(argv[1], "pcap") != 0 && strcmp(argv[1], "send") != 0)) {
		if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return 2;
	}
	static struct gen g;
	struct gen_opts *o = &g.o;
	*o = (struct gen_opts){ .seed = 1, .sessions = 4, .messages = 100000, .per_min = 1, .per_max = 8,
				.payload_min = 8, .payload_max = 64, .udp_port = 26400, .first_seq = 1,
				.burst_loss = 1, .reorder_distance = 8, .rate_pps = 20000, .linger_s = 3,
				.delay_ms = 1 };
	o->send = strcmp(argv[1], "send") == 0;
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },          { "manifest", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },         { "sessions", required_argument, NULL, 'S' },
		{ "messages", required_argument, NULL, 'n' },     { "per-packet", required_argument, NULL, 'p' },
		{ "payload", required_argument, NULL, 'P' },      { "malformed-rate", required_argument, NULL, 'M' },
		{ "filtered-rate", required_argument, NULL, 'F' }, { "vlan-rate", required_argument, NULL, 'V' },
		{ "ipv6-rate", required_argument, NULL, '6' },    { "heartbeat-every", required_argument, NULL, 'H' },
		{ "end-session", no_argument, NULL, 'E' },        { "udp-port", required_argument, NULL, 'u' },
		{ "first-seq", required_argument, NULL, 'q' },    { "help", no_argument, NULL, 'h' },
		{ "loss", required_argument, NULL, 'L' },         { "burst-loss", required_argument, NULL, 'B' },
		{ "duplicate", required_argument, NULL, 'D' },    { "reorder", required_argument, NULL, 'R' },
		{ "reorder-distance", required_argument, NULL, 'r' },
		{ "to", required_argument, NULL, 'T' },           { "serve", required_argument, NULL, 'v' },
		{ "forget", required_argument, NULL, 'g' },       { "rate", required_argument, NULL, 'x' },
		{ "linger", required_argument, NULL, 'l' },
		{ "dpdk", required_argument, NULL, 'P' + 128 },
		{ "plant", required_argument, NULL, 'p' + 128 },
		{ "delay", required_argument, NULL, 'y' },       { "delay-ms", required_argument, NULL, 'Y' },
		{ "framing", required_argument, NULL, 'W' },      { "frame-topics", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		unsigned long v;
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'm': o->manifest = optarg; break;
		case 's': o->seed = strtoull(optarg, &end, 10); if (*end) goto bad; break;
		case 'S':
			v = strtoul(optarg, &end, 10);
			if (*end || v == 0 || v > MAX_SESSIONS) goto bad;
			o->sessions = (unsigned)v;
			break;
		case 'n': o->messages = strtoull(optarg, &end, 10); if (*end) goto bad; break;
		case 'p': if (parse_range(optarg, &o->per_min, &o->per_max) || o->per_min == 0) goto bad; break;
		case 'P': if (parse_range(optarg, &o->payload_min, &o->payload_max) || o->payload_max > 1024) goto bad; break;
		case 'M': if (parse_rate(optarg, &o->malformed_rate)) goto bad; break;
		case 'F': if (parse_rate(optarg, &o->filtered_rate)) goto bad; break;
		case 'V': if (parse_rate(optarg, &o->vlan_rate)) goto bad; break;
		case '6': if (parse_rate(optarg, &o->ipv6_rate)) goto bad; break;
		case 'H': v = strtoul(optarg, &end, 10); if (*end) goto bad; o->heartbeat_every = (unsigned)v; break;
		case 'E': o->end_session = true; break;
		case 'u':
			v = strtoul(optarg, &end, 10);
			if (*end || v == 0 || v > 65534) goto bad;
			o->udp_port = (uint16_t)v;
			break;
		case 'q': o->first_seq = strtoull(optarg, &end, 10); if (*end) goto bad; break;
		case 'L': if (parse_rate(optarg, &o->loss_rate)) goto bad; break;
		case 'D': if (parse_rate(optarg, &o->duplicate_rate)) goto bad; break;
		case 'R': if (parse_rate(optarg, &o->reorder_rate)) goto bad; break;
		case 'B':
			v = strtoul(optarg, &end, 10);
			if (*end || v == 0 || v > 10000) goto bad;
			o->burst_loss = (unsigned)v;
			break;
		case 'r':
			v = strtoul(optarg, &end, 10);
			if (*end || v == 0 || v > 10000) goto bad;
			o->reorder_distance = (unsigned)v;
			break;
		case 'T': if (parse_addr(optarg, &o->to)) goto bad; break;
		case 'v': if (parse_addr(optarg, &o->serve)) goto bad; o->serving = true; break;
		case 'g': if (parse_rate(optarg, &o->forget_rate)) goto bad; break;
		case 'x':
			o->rate_pps = strtod(optarg, &end);
			if (*end || o->rate_pps < 1 || o->rate_pps > 10e6) goto bad;
			break;
		case 'l':
			o->linger_s = strtod(optarg, &end);
			if (*end || o->linger_s < 0 || o->linger_s > 3600) goto bad;
			break;
		case 'P' + 128: o->dpdk_eal = optarg; break;
		case 'p' + 128: {
			/* TEXT:RATE[:drop] */
			char *c1 = strchr(optarg, ':');
			if (c1 == NULL || o->n_plants == 8 || c1 == optarg || (size_t)(c1 - optarg) >= 64)
				goto bad;
			struct plant *pl = &o->plants[o->n_plants];
			memcpy(pl->text, optarg, (size_t)(c1 - optarg));
			pl->text[c1 - optarg] = 0;
			pl->len = (size_t)(c1 - optarg);
			pl->rate = strtod(c1 + 1, &end);
			if (pl->rate < 0 || pl->rate > 1 || (*end && strcmp(end, ":drop") != 0))
				goto bad;
			pl->drop = *end != 0;
			if (strpbrk(pl->text, "#!%&*+=@~") != NULL) {
				o->n_plants++;
				break;
			}
			fprintf(stderr, "weir-gen: --plant \"%s\": put a character of #!%%&*+=@~ in it, so that random payloads never contain it\n", optarg);
			return 2;
		}
		case 'y': if (parse_rate(optarg, &o->delay_rate)) goto bad; break;
		case 'Y':
			o->delay_ms = strtod(optarg, &end);
			if (*end || o->delay_ms < 0 || o->delay_ms > 10000) goto bad;
			break;
		case 'W':
			if (strcmp(optarg, "weir") == 0)
				o->weir_framing = true;
			else if (strcmp(optarg, "moldudp64") != 0)
				goto bad;
			break;
		case 'K':
			v = strtoul(optarg, &end, 10);
			if (*end || v > 255) goto bad;
			o->frame_topics = (unsigned)v;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		continue;
	bad:
		fprintf(stderr, "weir-gen: option value \"%s\" is not valid (see --help)\n", optarg);
		return 2;
	}
	if (o->manifest == NULL || (!o->send && o->out == NULL) || (o->send && o->to.sin_family == 0)) {
		usage(stderr);
		return 2;
	}
	if (o->serving && o->weir_framing) {
		fprintf(stderr, "weir-gen: --serve answers MoldUDP64 re-requests; the weir frame has none\n");
		return 2;
	}
	if (o->serving && !o->end_session) {
		fprintf(stderr, "weir-gen: --serve needs --end-session (it reveals every lost tail to the receiver)\n");
		return 2;
	}
	g.rng = o->seed;
	g.ts_us = 1700000000ull * 1000000ull;
	pcap_t *dead = NULL;
	memcpy(g.feed.src_mac, (uint8_t[6]){ 0x02, 0, 0, 0, 0, 0x01 }, 6);
	memcpy(g.feed.dst_mac, (uint8_t[6]){ 0x02, 0, 0, 0, 0, 0x02 }, 6);
	memcpy(g.feed.src_ip, (uint8_t[4]){ 198, 18, 0, 1 }, 4);
	memcpy(g.feed.dst_ip, (uint8_t[4]){ 198, 18, 0, 2 }, 4);
	if (o->send) {
		memcpy(g.feed.dst_ip, &o->to.sin_addr, 4);
		if (o->serving)
			memcpy(g.feed.src_ip, &o->serve.sin_addr, 4);
	}
	if (o->send && o->dpdk_eal) {
		if (dpdk_open(&g) != 0)
			return 1;
	} else if (o->send) {
		g.sock = socket(AF_INET, SOCK_DGRAM, 0);
		int big = 8 << 20;
		setsockopt(g.sock, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		if (o->serving) {
			g.srv = socket(AF_INET, SOCK_DGRAM, 0);
			if (bind(g.srv, (struct sockaddr *)&o->serve, sizeof(o->serve)) != 0) {
				fprintf(stderr, "weir-gen: bind %s:%u: %s\n", inet_ntoa(o->serve.sin_addr),
					ntohs(o->serve.sin_port), strerror(errno));
				return 1;
			}
		}
	} else {
		dead = pcap_open_dead(DLT_EN10MB, 65535);
		g.dump = pcap_dump_open(dead, o->out);
		if (g.dump == NULL) {
			fprintf(stderr, "weir-gen: %s: %s\n", o->out, pcap_geterr(dead));
			return 1;
		}
	}
	if (generate(&g) != 0) {
		fprintf(stderr, "weir-gen: out of memory\n");
		return 1;
	}
	if (o->send) {
		/* Keep answering re-requests for a while after the last packet. */
		uint64_t until = weir_monotonic_ns() + (uint64_t)(o->linger_s * 1e9);
		while (o->serving && weir_monotonic_ns() < until) {
			serve_requests(&g);
			usleep(o->dpdk_eal ? 50 : 1000);
		}
		if (o->dpdk_eal) {
			rte_eth_dev_stop(0);
			rte_eth_dev_close(0);
			rte_eal_cleanup();
		}
	} else {
		pcap_dump_close(g.dump);
		pcap_close(dead);
	}
	FILE *f = fopen(o->manifest, "w");
	if (f == NULL) {
		fprintf(stderr, "weir-gen: %s: %s\n", o->manifest, strerror(errno));
		return 1;
	}
	write_manifest(&g, f);
	fclose(f);
	if (o->serving)
		printf("weir-gen: retransmission server: %" PRIu64 " re-requests answered (%" PRIu64
		       " not understood), %" PRIu64 " events sent again, %" PRIu64 " events forgotten\n",
		       g.requests_served, g.requests_bad, g.resent_events, g.forgotten_events);
	printf("weir-gen: %s: %" PRIu64 " packets, %" PRIu64 " messages in %u sessions, %" PRIu64
	       " malformed, %" PRIu64 " filtered, %" PRIu64 " heartbeats; faults: %" PRIu64 " packets lost, %" PRIu64
	       " events repeated, %" PRIu64 " late; manifest %s\n",
	       o->send ? "sent" : o->out, g.packets, g.messages, o->sessions, g.dead, g.filtered, g.heartbeats, g.t.lost_packets,
	       g.t.duplicates, g.t.late_fills, o->manifest);
	return 0;
}
