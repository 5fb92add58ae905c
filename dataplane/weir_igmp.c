#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "weir_csum.h"
#include "weir_headers.h"
#include "weir_igmp.h"
#include "weir_parse.h"

#define NS 1000000000ull
#define UNSOLICITED_INTERVAL_NS (1 * NS) /* RFC 3376 8.11 */
#define ROBUSTNESS 2                     /* RFC 3376 8.1 */
#define V2_QUERIER_TIMEOUT_NS (260 * NS) /* robustness * 125 s query interval + 10 s max resp */

enum {
	IGMP_QUERY = 0x11,
	IGMP_V2_REPORT = 0x16,
	IGMP_V2_LEAVE = 0x17,
	IGMP_V3_REPORT = 0x22,
	MODE_IS_INCLUDE = 1,
	MODE_IS_EXCLUDE = 2,
	CHANGE_TO_INCLUDE = 3,
	CHANGE_TO_EXCLUDE = 4,
	ALLOW_NEW_SOURCES = 5,
	BLOCK_OLD_SOURCES = 6,
};

static const uint32_t ALL_ROUTERS = RTE_BE32(0xE0000002);     /* 224.0.0.2: IGMPv2 leaves */
static const uint32_t IGMPV3_ROUTERS = RTE_BE32(0xE0000016);  /* 224.0.0.22: IGMPv3 reports */

void
weir_igmp_group_mac(uint32_t group, uint8_t mac[6])
{
	uint32_t h = rte_be_to_cpu_32(group);
	mac[0] = 0x01, mac[1] = 0x00, mac[2] = 0x5e;
	mac[3] = (uint8_t)((h >> 16) & 0x7f), mac[4] = (uint8_t)(h >> 8), mac[5] = (uint8_t)h;
}

static uint64_t
rand_below(struct weir_igmp *s, uint64_t n)
{
	s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
	return n ? (s->rng >> 11) % n : 0;
}

void
weir_igmp_init(struct weir_igmp *s, uint16_t port, const uint8_t mac[6], const struct weir_igmp_group *g,
	       unsigned n, uint64_t now_ns, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->port = port;
	memcpy(s->mac, mac, 6);
	s->n = n < WEIR_IGMP_MAX_GROUPS ? n : WEIR_IGMP_MAX_GROUPS;
	memcpy(s->g, g, s->n * sizeof(*g));
	s->rng = seed | 1;
	s->unsolicited_left = s->n ? ROBUSTNESS : 0;
	s->unsolicited_at_ns = now_ns;
	/* fe80::/64 with the modified EUI-64 of the MAC */
	uint8_t ll[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, (uint8_t)(mac[0] ^ 2), mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5] };
	memcpy(s->local_ip6, ll, 16);
}

static bool
is_v6(const struct weir_igmp_group *g)
{
	return g->family == 6;
}

/* Max Resp Code (RFC 3376 4.1.1; IGMPv2: tenths of a second) in ns. */
static uint64_t
max_resp_ns(uint8_t code, bool v3)
{
	uint64_t tenths = code;
	if (v3 && code >= 128)
		tenths = (uint64_t)((code & 0x0f) | 0x10) << (((code >> 4) & 0x07) + 3);
	return tenths * (NS / 10);
}

static void
schedule(uint64_t *at, uint64_t when)
{
	if (*at == 0 || when < *at)
		*at = when;
}

void
weir_igmp_input(struct weir_igmp *s, const uint8_t *msg, uint32_t len, uint32_t ip_dst, uint64_t now_ns)
{
	(void)ip_dst;
	if (len < 8 || weir_csum_finish(weir_csum_partial(msg, len, 0)) != 0 || msg[0] != IGMP_QUERY) {
		s->unexpected++; /* another host's report, a bad checksum: not ours to answer */
		return;
	}
	bool v3 = len >= 12;
	if (!v3 && msg[1] != 0) /* an IGMPv2 querier (v1 queries have code 0: answered as v2) */
		s->v2_until_ns = now_ns + V2_QUERIER_TIMEOUT_NS;
	uint64_t resp = max_resp_ns(msg[1] ? msg[1] : 100, v3); /* IGMPv1: 10 s */
	uint32_t group;
	memcpy(&group, msg + 4, 4);
	weir_igmp_query_for(s, 4, group, NULL, resp, now_ns);
}

void
weir_igmp_query_for(struct weir_igmp *s, unsigned family, uint32_t group, const uint8_t *group6, uint64_t resp,
		    uint64_t now_ns)
{
	static const uint8_t any6[16];
	bool v6 = family == 6;
	if (v6 ? memcmp(group6, any6, 16) == 0 : group == 0) {
		schedule(&s->general_at_ns[v6], now_ns + rand_below(s, resp) + 1);
		s->queries_answered++;
		return;
	}
	for (unsigned i = 0; i < s->n; i++)
		if (is_v6(&s->g[i]) == v6 && (v6 ? memcmp(s->g[i].group6, group6, 16) == 0 : s->g[i].group == group)) {
			schedule(&s->group_at_ns[i], now_ns + rand_below(s, resp) + 1);
			s->queries_answered++;
			return;
		}
	/* a group we are not in: nothing to say */
}

/* Ethernet, IPv4 with Router Alert (RFC 2113), TTL 1, protocol 2; the
 * IGMP message is written at the returned offset by the caller. */
static uint32_t
put_headers(const struct weir_igmp *s, uint8_t *f, uint32_t dst, uint16_t igmp_len)
{
	uint8_t mac[6];
	weir_igmp_group_mac(dst, mac);
	uint32_t o = weir_put_eth_header(f, mac, s->mac, RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + o);
	memset(ip, 0, sizeof(*ip) + 4);
	ip->version_ihl = (4 << 4) | 6;
	ip->type_of_service = 0xc0; /* internetwork control, as hosts send it */
	ip->total_length = rte_cpu_to_be_16((uint16_t)(24 + igmp_len));
	ip->time_to_live = 1;
	ip->next_proto_id = 2;
	memcpy(&ip->src_addr, &s->local_ip, 4);
	memcpy(&ip->dst_addr, &dst, 4);
	uint8_t *ra = f + o + sizeof(*ip);
	ra[0] = 0x94, ra[1] = 0x04, ra[2] = 0, ra[3] = 0;
	ip->hdr_checksum = rte_cpu_to_be_16(weir_ipv4_header_csum(f + o, 24));
	return o + 24;
}

static void
finish_igmp(uint8_t *m, uint32_t len)
{
	m[2] = m[3] = 0;
	uint16_t c = rte_cpu_to_be_16(weir_csum_finish(weir_csum_partial(m, len, 0)));
	memcpy(m + 2, &c, 2);
}

static void
send_v2(struct weir_igmp *s, uint8_t type, unsigned i, weir_igmp_send_fn send, void *ctx)
{
	uint8_t f[WEIR_IGMP_FRAME_MAX];
	uint32_t dst = type == IGMP_V2_LEAVE ? ALL_ROUTERS : s->g[i].group;
	uint32_t o = put_headers(s, f, dst, 8);
	uint8_t *m = f + o;
	m[0] = type, m[1] = 0;
	memcpy(m + 4, &s->g[i].group, 4);
	finish_igmp(m, 8);
	if (send(ctx, s->port, f, o + 8))
		s->reports_sent++;
}

/* One IGMPv3 report of the groups in mask, each with its record type. */
static void
send_v3(struct weir_igmp *s, uint64_t mask, const uint8_t *types, weir_igmp_send_fn send, void *ctx)
{
	uint8_t f[WEIR_IGMP_FRAME_MAX];
	uint8_t rec[WEIR_IGMP_MAX_GROUPS * 12];
	uint32_t rl = 0;
	uint16_t nrec = 0;
	for (unsigned i = 0; i < s->n; i++) {
		if (!(mask & (1ull << i)) || is_v6(&s->g[i]))
			continue;
		uint16_t nsrc = s->g[i].source ? 1 : 0;
		/* leaving a group with no sources listed (CHANGE_TO_INCLUDE {}) */
		if (types[i] == CHANGE_TO_INCLUDE && s->g[i].source == 0)
			nsrc = 0;
		rec[rl] = types[i], rec[rl + 1] = 0;
		uint16_t be = rte_cpu_to_be_16(nsrc);
		memcpy(rec + rl + 2, &be, 2);
		memcpy(rec + rl + 4, &s->g[i].group, 4);
		rl += 8;
		if (nsrc) {
			memcpy(rec + rl, &s->g[i].source, 4);
			rl += 4;
		}
		nrec++;
	}
	if (nrec == 0)
		return;
	uint16_t mlen = (uint16_t)(8 + rl);
	uint32_t o = put_headers(s, f, IGMPV3_ROUTERS, mlen);
	uint8_t *m = f + o;
	memset(m, 0, 8);
	m[0] = IGMP_V3_REPORT;
	uint16_t be = rte_cpu_to_be_16(nrec);
	memcpy(m + 6, &be, 2);
	memcpy(m + 8, rec, rl);
	finish_igmp(m, mlen);
	if (send(ctx, s->port, f, o + mlen))
		s->reports_sent++;
}

/* The groups of mask of one family. */
static uint64_t
of_family(const struct weir_igmp *s, uint64_t mask, bool v6)
{
	for (unsigned i = 0; i < s->n; i++)
		if (is_v6(&s->g[i]) != v6)
			mask &= ~(1ull << i);
	return mask;
}

static bool
has_source(const struct weir_igmp_group *g)
{
	static const uint8_t any6[16];
	return is_v6(g) ? memcmp(g->source6, any6, 16) != 0 : g->source != 0;
}

/* The IPv6 groups in mask: one MLDv2 report, or after an MLDv1 querier
 * (RFC 3810 8.2.1) an MLDv1 Report (or Done, leaving) of each. */
static void
mld_say(struct weir_igmp *s, uint64_t mask, const uint8_t *types, bool leave, uint64_t now_ns,
	weir_igmp_send_fn send, void *ctx)
{
	if (mask == 0)
		return;
	if (now_ns >= s->mld_v1_until_ns) {
		weir_mld_report(s, mask, types, send, ctx);
		return;
	}
	for (unsigned i = 0; i < s->n; i++)
		if (mask & (1ull << i))
			weir_mld_v1(s, leave, i, send, ctx);
}

/* Every group's report: unsolicited (a join), or the current state;
 * IPv4 groups by IGMP, IPv6 groups by MLDv2 (the same record types). */
static void
report_groups(struct weir_igmp *s, uint64_t mask, bool join, uint64_t now_ns, weir_igmp_send_fn send, void *ctx)
{
	uint8_t types[WEIR_IGMP_MAX_GROUPS] = { 0 };
	for (unsigned i = 0; i < s->n; i++)
		types[i] = has_source(&s->g[i]) ? (join ? ALLOW_NEW_SOURCES : MODE_IS_INCLUDE)
						: (join ? CHANGE_TO_EXCLUDE : MODE_IS_EXCLUDE);
	mld_say(s, of_family(s, mask, true), types, false, now_ns, send, ctx);
	mask = of_family(s, mask, false);
	if (mask && now_ns < s->v2_until_ns) {
		for (unsigned i = 0; i < s->n; i++)
			if (mask & (1ull << i))
				send_v2(s, IGMP_V2_REPORT, i, send, ctx);
		return;
	}
	if (mask)
		send_v3(s, mask, types, send, ctx);
}

void
weir_igmp_poll(struct weir_igmp *s, uint64_t now_ns, weir_igmp_send_fn send, void *ctx)
{
	uint64_t all = s->n >= 64 ? ~0ull : (1ull << s->n) - 1;
	if (s->unsolicited_left && now_ns >= s->unsolicited_at_ns) {
		report_groups(s, all, true, now_ns, send, ctx);
		s->unsolicited_left--;
		s->unsolicited_at_ns = now_ns + 1 + rand_below(s, UNSOLICITED_INTERVAL_NS);
	}
	for (unsigned v6 = 0; v6 < 2; v6++)
		if (s->general_at_ns[v6] && now_ns >= s->general_at_ns[v6]) {
			s->general_at_ns[v6] = 0;
			report_groups(s, of_family(s, all, v6), false, now_ns, send, ctx);
			for (unsigned i = 0; i < s->n; i++)
				if (is_v6(&s->g[i]) == v6)
					s->group_at_ns[i] = 0; /* the whole state was just said */
		}
	uint64_t due = 0;
	for (unsigned i = 0; i < s->n; i++)
		if (s->group_at_ns[i] && now_ns >= s->group_at_ns[i]) {
			s->group_at_ns[i] = 0;
			due |= 1ull << i;
		}
	if (due)
		report_groups(s, due, false, now_ns, send, ctx);
}

void
weir_igmp_leave(struct weir_igmp *s, uint64_t now_ns, weir_igmp_send_fn send, void *ctx)
{
	if (s->n == 0)
		return;
	uint64_t all = s->n >= 64 ? ~0ull : (1ull << s->n) - 1;
	uint8_t types[WEIR_IGMP_MAX_GROUPS] = { 0 };
	for (unsigned i = 0; i < s->n; i++)
		types[i] = has_source(&s->g[i]) ? BLOCK_OLD_SOURCES : CHANGE_TO_INCLUDE;
	mld_say(s, of_family(s, all, true), types, true, now_ns, send, ctx);
	if (!of_family(s, all, false))
		return;
	if (now_ns < s->v2_until_ns) {
		for (unsigned i = 0; i < s->n; i++)
			if (!is_v6(&s->g[i]))
				send_v2(s, IGMP_V2_LEAVE, i, send, ctx);
		return;
	}
	send_v3(s, of_family(s, all, false), types, send, ctx);
}

static bool
is_mld(uint8_t type)
{
	return type == 130 || type == 131 || type == 132 || type == 143; /* query, v1 report, done, v2 report */
}

void
weir_igmp_host_input(struct weir_igmp *speakers, unsigned n, uint16_t port, const struct weir_udp_view *v,
		     uint64_t now_ns)
{
	if (v->l4 == NULL)
		return;
	for (unsigned i = 0; i < n; i++) {
		if (speakers[i].port != port)
			continue;
		bool igmp = v->ip_version == 4 && v->l4_proto == IPPROTO_IGMP;
		bool mld = v->ip_version == 6 && v->l4_proto == IPPROTO_ICMPV6 && v->l4_len >= 4 && is_mld(v->l4[0]);
		if ((igmp || mld) && v->vlan_tags) {
			/* The speaker's reports go untagged: a VLAN's querier is
			 * not its to answer.  Counted, so a tagged feed shows. */
			speakers[i].unexpected++;
		} else if (igmp) {
			uint32_t dst;
			memcpy(&dst, v->src_addr + 4, 4);
			weir_igmp_input(&speakers[i], v->l4, v->l4_len, dst, now_ns);
		} else if (mld) {
			weir_mld_input(&speakers[i], v->src_addr - 8, v->l4, v->l4_len, now_ns); /* src is 8 bytes in */
		}
		return;
	}
}
