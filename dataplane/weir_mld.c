/* MLDv2 on the wire (RFC 3810) for the membership speaker of weir_igmp.c:
 * its reports and the queries it answers.  IPv6 from the port's link-local
 * address, hop limit 1, a Hop-by-Hop header with Router Alert (MLD), to
 * ff02::16; ICMPv6 checksums over the pseudo-header. */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "weir_bytes.h"
#include "weir_csum.h"
#include "weir_headers.h"
#include "weir_igmp.h"

#define NS 1000000000ull

enum {
	MLD_QUERY = 130,
	MLD_V1_REPORT = 131,
	MLD_V1_DONE = 132,
	MLD_V2_REPORT = 143,
	IPPROTO_HOPOPTS_ = 0,
	IPPROTO_ICMPV6_ = 58,
};

static const uint8_t MLDV2_ROUTERS[16] = { 0xff, 0x02, [15] = 0x16 }; /* ff02::16 */
static const uint8_t ALL_ROUTERS6[16] = { 0xff, 0x02, [15] = 0x02 };   /* ff02::2: MLDv1 Done */
/* robustness 2 * query interval 125 s + query response interval 10 s */
#define V1_QUERIER_TIMEOUT_NS (260 * NS)

void
weir_mld_group_mac(const uint8_t group[16], uint8_t mac[6])
{
	mac[0] = 0x33, mac[1] = 0x33;
	memcpy(mac + 2, group + 12, 4);
}

uint64_t
weir_mld_max_resp_ns(uint16_t code)
{
	uint64_t ms = code;
	if (code >= 32768)
		ms = (uint64_t)((code & 0x0fff) | 0x1000) << (((code >> 12) & 0x07) + 3);
	return ms * (NS / 1000);
}

/* The ICMPv6 checksum of len bytes at msg between src and dst: 0 when a
 * message carrying one checks. */
static uint16_t
icmp6_csum(const uint8_t *src, const uint8_t *dst, const uint8_t *msg, uint32_t len)
{
	uint64_t sum = weir_csum_partial(src, 16, 0);
	sum = weir_csum_partial(dst, 16, sum);
	const uint8_t tail[8] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len,
				  0, 0, 0, IPPROTO_ICMPV6_ };
	sum = weir_csum_partial(tail, 8, sum);
	return weir_csum_finish(weir_csum_partial(msg, len, sum));
}

/* Ethernet, IPv6 from the link-local address with hop limit 1 and a
 * Hop-by-Hop Router Alert (MLD) to dst, around an ICMPv6 message of ml
 * bytes already at f + 62: its checksum set, the frame sent. */
static void
send_mld(struct weir_igmp *s, uint8_t *f, const uint8_t dst[16], uint32_t ml, weir_igmp_send_fn send, void *ctx)
{
	uint8_t *ip = f + 14, *hbh = ip + 40, *m = hbh + 8;
	uint8_t mac[6];
	weir_mld_group_mac(dst, mac);
	weir_put_eth_header(f, mac, s->mac, RTE_ETHER_TYPE_IPV6);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	weir_put_be16(ip + 4, (uint16_t)(8 + ml));
	ip[6] = IPPROTO_HOPOPTS_;
	ip[7] = 1; /* hop limit */
	memcpy(ip + 8, s->local_ip6, 16);
	memcpy(ip + 24, dst, 16);
	/* next header ICMPv6, 8 bytes: Router Alert (MLD), PadN */
	const uint8_t opts[8] = { IPPROTO_ICMPV6_, 0, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00 };
	memcpy(hbh, opts, 8);
	m[2] = m[3] = 0;
	weir_put_be16(m + 2, icmp6_csum(ip + 8, ip + 24, m, ml));
	if (send(ctx, s->port, f, 14 + 40 + 8 + ml))
		s->reports_sent++;
}

void
weir_mld_v1(struct weir_igmp *s, bool done, unsigned i, weir_igmp_send_fn send, void *ctx)
{
	uint8_t f[WEIR_IGMP_FRAME_MAX], *m = f + 62;
	memset(m, 0, 24);
	m[0] = done ? MLD_V1_DONE : MLD_V1_REPORT;
	memcpy(m + 8, s->g[i].group6, 16); /* no sources in MLDv1: the group, from any */
	send_mld(s, f, done ? ALL_ROUTERS6 : s->g[i].group6, 24, send, ctx);
}

void
weir_mld_report(struct weir_igmp *s, uint64_t mask, const uint8_t *types, weir_igmp_send_fn send, void *ctx)
{
	static const uint8_t any6[16];
	uint8_t f[WEIR_IGMP_FRAME_MAX + 1024];
	uint8_t *m = f + 62;
	uint32_t ml = 8;
	uint16_t nrec = 0;
	for (unsigned i = 0; i < s->n; i++) {
		if (!(mask & (1ull << i)) || s->g[i].family != 6)
			continue;
		bool src = memcmp(s->g[i].source6, any6, 16) != 0;
		uint16_t nsrc = src ? 1 : 0; /* leaving any source: CHANGE_TO_INCLUDE of none */
		m[ml] = types[i], m[ml + 1] = 0;
		weir_put_be16(m + ml + 2, nsrc);
		memcpy(m + ml + 4, s->g[i].group6, 16);
		ml += 20;
		if (nsrc) {
			memcpy(m + ml, s->g[i].source6, 16);
			ml += 16;
		}
		nrec++;
	}
	if (nrec == 0)
		return;
	memset(m, 0, 8);
	m[0] = MLD_V2_REPORT;
	weir_put_be16(m + 6, nrec);
	send_mld(s, f, MLDV2_ROUTERS, ml, send, ctx);
}

void
weir_mld_input(struct weir_igmp *s, const uint8_t *ip6, const uint8_t *msg, uint32_t len, uint64_t now_ns)
{
	/* an MLDv2 query is 28 bytes and more; an MLDv1 one 24 */
	if (len < 24 || msg[0] != MLD_QUERY || icmp6_csum(ip6 + 8, ip6 + 24, msg, len) != 0) {
		s->unexpected++; /* another host's report, a bad checksum: not ours to answer */
		return;
	}
	if (len < 28) /* an MLDv1 querier: MLDv1 reports and dones until it is gone */
		s->mld_v1_until_ns = now_ns + V1_QUERIER_TIMEOUT_NS;
	uint64_t resp = weir_mld_max_resp_ns((uint16_t)(msg[4] << 8 | msg[5]));
	weir_igmp_query_for(s, 6, 0, msg + 8, resp ? resp : 1, now_ns);
}
