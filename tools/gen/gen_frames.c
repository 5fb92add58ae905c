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

static uint32_t
build_udp_frame(struct gen *g, uint8_t *f, bool vlan, bool v6, uint16_t sport, uint16_t dport, const uint8_t *payload,
		uint32_t plen, uint32_t *l3, uint32_t *l4)
{
	return gen_build_udp_frame_between(g, &g->feed, f, vlan, v6, sport, dport, payload, plen, l3, l4);
}

uint32_t
gen_build_udp_frame_between(struct gen *g, const struct endpoints *ep, uint8_t *f, bool vlan, bool v6, uint16_t sport,
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

void
gen_fill_payload(struct gen *g, uint8_t *p, unsigned len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	for (unsigned i = 0; i < len; i++)
		p[i] = (uint8_t)alphabet[rnd(g) % 62];
}

void
gen_emit_mold(struct gen *g, const uint8_t *mold, uint32_t len)
{
	uint8_t frame[MAX_FRAME + 64];
	uint32_t l3, l4;
	bool vlan = chance(g, g->o.vlan_rate), v6 = chance(g, g->o.ipv6_rate);
	uint32_t flen = build_udp_frame(g, frame, vlan, v6, 40000, g->o.udp_port, mold, len, &l3, &l4);
	gen_emit(g, frame, flen);
}

/* A packet weir must ignore: ARP, TCP, or UDP to a port with no decoder. */
void
gen_emit_filtered(struct gen *g)
{
	uint8_t frame[MAX_FRAME + 64], payload[64];
	uint32_t l3, l4, flen;
	gen_fill_payload(g, payload, sizeof(payload));
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
	gen_emit(g, frame, flen);
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
	gen_fill_payload(g, msg, sizeof(msg));
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
	gen_emit_mold(g, p, len);
	g->dead++;
	g->dead_by_reason[reason]++;
}

/* A malformed packet of a random kind; counted under the reason weir must give. */
void
gen_emit_malformed(struct gen *g, struct session *s)
{
	static const unsigned kinds[] = {
		WEIR_DL_mold_truncated_header, WEIR_DL_mold_truncated_block, WEIR_DL_mold_trailing_bytes,
		WEIR_DL_ipv4_bad_checksum,     WEIR_DL_ipv4_bad_total_length, WEIR_DL_udp_bad_length,
		WEIR_DL_ipv4_fragment,         WEIR_DL_l2_truncated,          WEIR_DL_ipv6_bad_payload_length,
		WEIR_DL_ipv4_bad_header_length, WEIR_DL_l4_bad_checksum,
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
	gen_fill_payload(g, msg, sizeof(msg));
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
	case WEIR_DL_l4_bad_checksum: /* one payload bit flipped on the way */
		frame[flen - 1 - rnd_range(g, 0, 15)] ^= (uint8_t)(1u << rnd_range(g, 0, 7));
		break;
	default:
		break;
	}
	gen_emit(g, frame, flen);
	g->dead++;
	g->dead_by_reason[reason]++;
}

uint32_t
gen_control_header(const struct gen *g, const struct session *s, uint16_t count, uint8_t *hdr)
{
	if (g->o.weir_framing)
		return weir_frame_put_header(hdr, count == WEIR_MOLD_END_OF_SESSION ? WEIR_FRAME_F_END : 0, 0,
					     s->source_id, s->next_seq);
	return weir_mold_put_header(hdr, s->name, s->next_seq, count);
}

void
gen_emit_control(struct gen *g, struct session *s, uint16_t count)
{
	uint8_t hdr[WEIR_FRAME_HEADER_BYTES];
	gen_emit_mold(g, hdr, gen_control_header(g, s, count, hdr));
	g->data_packets++;
}
