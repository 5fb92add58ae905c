/* The IGMP and MLD host side (dataplane/weir_igmp.c, weir_mld.c): joins at
 * start, answers to queries within their max response time, IGMPv2 after an
 * IGMPv2 querier and MLDv1 after an MLDv1 one, leaves at a clean stop.  Time is passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "weir_csum.h"
#include "weir_igmp.h"
#include "weir_parse.h"

#define MS 1000000ull
#define S 1000000000ull

struct sent {
	unsigned n;
	uint8_t frame[16][WEIR_IGMP_FRAME_MAX];
	uint32_t len[16];
};

static bool
capture(void *ctx, uint16_t port, const uint8_t *frame, uint32_t len)
{
	(void)port;
	struct sent *s = ctx;
	if (s->n < 16) {
		memcpy(s->frame[s->n], frame, len);
		s->len[s->n++] = len;
	}
	return true;
}

static const uint8_t *
igmp_of(const struct sent *s, unsigned i)
{
	const uint8_t *f = s->frame[i];
	assert_int_equal(f[12] << 8 | f[13], 0x0800);
	assert_int_equal(f[14] & 0x0f, 6);          /* with Router Alert */
	assert_int_equal(f[14 + 8], 1);             /* TTL 1 */
	assert_int_equal(f[14 + 9], 2);             /* IGMP */
	assert_int_equal(weir_csum_finish(weir_csum_partial(f + 14, 24, 0)), 0);
	const uint8_t *m = f + 14 + 24;
	assert_int_equal(weir_csum_finish(weir_csum_partial(m, s->len[i] - 38, 0)), 0);
	return m;
}

static uint32_t
ip(const char *a)
{
	uint32_t v;
	inet_pton(AF_INET, a, &v);
	return v;
}

static void
query(struct weir_igmp *g, const char *group, uint8_t max_resp, bool v3, uint64_t now)
{
	uint8_t q[12] = { 0x11, max_resp };
	uint32_t gr = group ? ip(group) : 0;
	memcpy(q + 4, &gr, 4);
	unsigned len = v3 ? 12 : 8;
	uint16_t c = htons(weir_csum_finish(weir_csum_partial(q, len, 0)));
	memcpy(q + 2, &c, 2);
	weir_igmp_input(g, q, len, ip("224.0.0.1"), now);
}

static void
setup(struct weir_igmp *g)
{
	const struct weir_igmp_group groups[] = { { ip("239.1.1.1"), 0 }, { ip("232.1.1.1"), ip("10.0.0.9") } };
	const uint8_t mac[6] = { 2, 0, 0, 0, 0, 7 };
	weir_igmp_init(g, 0, mac, groups, 2, 1 * S, 42);
}

static void
should_report_every_group_twice_within_a_second_of_start(void **state)
{
	(void)state;
	struct weir_igmp g;
	struct sent s = { 0 };
	setup(&g);
	for (uint64_t t = 1 * S; t <= 3 * S; t += MS)
		weir_igmp_poll(&g, t, capture, &s);
	assert_int_equal(s.n, 2);
	const uint8_t *m = igmp_of(&s, 0);
	assert_int_equal(m[0], 0x22);                       /* IGMPv3 report */
	assert_int_equal(m[7], 2);                          /* two records */
	assert_int_equal(m[8], 4);                          /* CHANGE_TO_EXCLUDE {}: any-source join */
	assert_memory_equal(m + 12, ((uint8_t[]){ 239, 1, 1, 1 }), 4);
	assert_int_equal(m[16], 5);                         /* ALLOW_NEW_SOURCES {10.0.0.9}: source-specific */
	assert_int_equal(m[19], 1);
	assert_memory_equal(m + 24, ((uint8_t[]){ 10, 0, 0, 9 }), 4);
	assert_memory_equal(s.frame[0], ((uint8_t[]){ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x16 }), 6); /* to 224.0.0.22 */
	assert_int_equal(g.reports_sent, 2);
}

static void
should_answer_a_general_query_within_its_max_response_time(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed < 40; seed++) {
		struct weir_igmp g;
		struct sent s = { 0 };
		setup(&g);
		g.rng = seed;
		g.unsolicited_left = 0;
		query(&g, NULL, 20, true, 10 * S); /* 2 s */
		uint64_t answered = 0;
		for (uint64_t t = 10 * S; t <= 13 * S && !answered; t += MS) {
			weir_igmp_poll(&g, t, capture, &s);
			if (s.n)
				answered = t;
		}
		assert_true(answered > 10 * S && answered <= 12 * S);
		const uint8_t *m = igmp_of(&s, 0);
		assert_int_equal(m[8], 2);  /* MODE_IS_EXCLUDE: current state */
		assert_int_equal(m[16], 1); /* MODE_IS_INCLUDE {source} */
		assert_int_equal(g.queries_answered, 1);
	}
}

static void
should_answer_a_group_query_for_its_group_only_and_ignore_others(void **state)
{
	(void)state;
	struct weir_igmp g;
	struct sent s = { 0 };
	setup(&g);
	g.unsolicited_left = 0;
	query(&g, "239.9.9.9", 10, true, 5 * S);  /* not ours */
	query(&g, "232.1.1.1", 10, true, 5 * S);
	for (uint64_t t = 5 * S; t <= 7 * S; t += MS)
		weir_igmp_poll(&g, t, capture, &s);
	assert_int_equal(s.n, 1);
	const uint8_t *m = igmp_of(&s, 0);
	assert_int_equal(m[7], 1); /* one record: the group asked for */
	assert_memory_equal(m + 12, ((uint8_t[]){ 232, 1, 1, 1 }), 4);
	uint8_t bad[8] = { 0x11, 10, 0xde, 0xad };
	weir_igmp_input(&g, bad, 8, 0, 8 * S);
	uint8_t report[8] = { 0x16 };
	uint16_t c = htons(weir_csum_finish(weir_csum_partial(report, 8, 0)));
	memcpy(report + 2, &c, 2);
	weir_igmp_input(&g, report, 8, 0, 8 * S);
	assert_int_equal(g.unexpected, 2);
}

static void
should_speak_igmpv2_after_an_igmpv2_query_and_leave_as_v2(void **state)
{
	(void)state;
	struct weir_igmp g;
	struct sent s = { 0 };
	setup(&g);
	g.unsolicited_left = 0;
	query(&g, NULL, 10, false, 5 * S);
	for (uint64_t t = 5 * S; t <= 7 * S; t += MS)
		weir_igmp_poll(&g, t, capture, &s);
	assert_int_equal(s.n, 2); /* one v2 report a group, to the group */
	const uint8_t *m = igmp_of(&s, 0);
	assert_int_equal(m[0], 0x16);
	assert_memory_equal(s.frame[0], ((uint8_t[]){ 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01 }), 6);
	weir_igmp_leave(&g, 8 * S, capture, &s);
	assert_int_equal(s.n, 4);
	assert_int_equal(igmp_of(&s, 2)[0], 0x17); /* leave, to 224.0.0.2 */
	assert_memory_equal(s.frame[2] + 14 + 16, ((uint8_t[]){ 224, 0, 0, 2 }), 4);
	/* 260 s later the v2 querier is forgotten: IGMPv3 again */
	s.n = 0;
	weir_igmp_leave(&g, 300 * S, capture, &s);
	assert_int_equal(s.n, 1);
	const uint8_t *l = igmp_of(&s, 0);
	assert_int_equal(l[0], 0x22);
	assert_int_equal(l[8], 3);  /* CHANGE_TO_INCLUDE {}: leave */
	assert_int_equal(l[11], 0);
	assert_int_equal(l[16], 6); /* BLOCK_OLD_SOURCES {source} */
}

/* MLDv2 (RFC 3810): IPv6 groups beside IPv4 ones on one port. */
static void
setup6(struct weir_igmp *g)
{
	struct weir_igmp_group groups[3] = { { ip("239.1.1.1"), 0 } };
	groups[1].family = groups[2].family = 6;
	inet_pton(AF_INET6, "ff3e::8000:1", groups[1].group6);
	inet_pton(AF_INET6, "2001:db8::9", groups[1].source6);
	inet_pton(AF_INET6, "ff0e::1:2", groups[2].group6);
	const uint8_t mac[6] = { 2, 0, 0, 0, 0, 7 };
	weir_igmp_init(g, 0, mac, groups, 3, 1 * S, 42);
}

/* The MLDv2 report in frame i: its headers checked, the ICMPv6 message. */
static const uint8_t *
mld_of(const struct sent *s, unsigned i)
{
	const uint8_t *f = s->frame[i];
	assert_memory_equal(f, ((uint8_t[]){ 0x33, 0x33, 0, 0, 0, 0x16 }), 6); /* to ff02::16 */
	assert_int_equal(f[12] << 8 | f[13], 0x86DD);
	const uint8_t *ip6 = f + 14;
	assert_int_equal(ip6[6], 0);  /* Hop-by-Hop first */
	assert_int_equal(ip6[7], 1);  /* hop limit 1 */
	assert_memory_equal(ip6 + 8, ((uint8_t[]){ 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 7 }), 16);
	assert_memory_equal(ip6 + 40, ((uint8_t[]){ 58, 0, 5, 2, 0, 0 }), 6); /* Router Alert: MLD */
	const uint8_t *m = ip6 + 48;
	uint32_t len = s->len[i] - 62;
	/* the ICMPv6 checksum over its pseudo-header */
	uint64_t sum = weir_csum_partial(ip6 + 8, 32, 0);
	const uint8_t tail[8] = { 0, 0, (uint8_t)(len >> 8), (uint8_t)len, 0, 0, 0, 58 };
	assert_int_equal(weir_csum_finish(weir_csum_partial(m, len, weir_csum_partial(tail, 8, sum))), 0);
	assert_int_equal(m[0], 143);
	return m;
}

static void
mld_query(struct weir_igmp *g, const char *group, uint16_t max_resp_ms, uint64_t now, bool good)
{
	uint8_t ip6[40] = { 0x60 }, q[28] = { 130 };
	inet_pton(AF_INET6, "fe80::1", ip6 + 8);
	inet_pton(AF_INET6, group ? group : "ff02::1", ip6 + 24);
	q[4] = (uint8_t)(max_resp_ms >> 8), q[5] = (uint8_t)max_resp_ms;
	if (group)
		inet_pton(AF_INET6, group, q + 8);
	uint64_t sum = weir_csum_partial(ip6 + 8, 32, 0);
	const uint8_t tail[8] = { 0, 0, 0, 28, 0, 0, 0, 58 };
	uint16_t c = htons(weir_csum_finish(weir_csum_partial(q, 28, weir_csum_partial(tail, 8, sum))));
	memcpy(q + 2, &c, 2);
	q[27] ^= good ? 0 : 1;
	weir_mld_input(g, ip6, q, 28, now);
}

/* An Ethernet frame (one VLAN tag when vlan) of an IGMPv3 general query
 * to 224.0.0.1 with Router Alert: its length. */
static uint32_t
igmp_query_frame(uint8_t *f, bool vlan)
{
	uint32_t o = 12;
	memset(f, 0, 128);
	if (vlan) {
		f[o] = 0x81, f[o + 3] = 7;
		o += 4;
	}
	f[o] = 0x08, o += 2;
	uint8_t *ip4 = f + o;
	ip4[0] = 0x46, ip4[3] = 24 + 12, ip4[8] = 1, ip4[9] = 2;
	uint32_t src = ip("10.0.0.1"), dst = ip("224.0.0.1");
	memcpy(ip4 + 12, &src, 4);
	memcpy(ip4 + 16, &dst, 4);
	ip4[20] = 0x94, ip4[21] = 4; /* Router Alert */
	uint16_t c = htons(weir_ipv4_header_csum(ip4, 24));
	memcpy(ip4 + 10, &c, 2);
	uint8_t *q = ip4 + 24;
	q[0] = 0x11, q[1] = 100;
	c = htons(weir_csum_finish(weir_csum_partial(q, 12, 0)));
	memcpy(q + 2, &c, 2);
	return o + 24 + 12;
}

/* An Ethernet frame of an ICMPv6 message of type (28 bytes, checksummed)
 * from fe80::1 to ff02::1 behind hops Hop-by-Hop headers: its length. */
static uint32_t
icmp6_frame(uint8_t *f, uint8_t type, unsigned hops)
{
	memset(f, 0, 40 + 14 + 8 * hops + 28);
	f[12] = 0x86, f[13] = 0xdd;
	uint8_t *ip6 = f + 14;
	ip6[0] = 0x60, ip6[5] = (uint8_t)(8 * hops + 28), ip6[6] = hops ? 0 : 58, ip6[7] = 1;
	inet_pton(AF_INET6, "fe80::1", ip6 + 8);
	inet_pton(AF_INET6, "ff02::1", ip6 + 24);
	for (unsigned h = 0; h < hops; h++) {
		uint8_t *x = ip6 + 40 + 8 * h;
		x[0] = h + 1 < hops ? 0 : 58;
		x[2] = 5, x[3] = 2; /* Router Alert, MLD */
	}
	uint8_t *q = ip6 + 40 + 8 * hops;
	q[0] = type, q[5] = 100;
	uint64_t sum = weir_csum_partial(ip6 + 8, 32, 0);
	const uint8_t tail[8] = { 0, 0, 0, 28, 0, 0, 0, 58 };
	uint16_t c = htons(weir_csum_finish(weir_csum_partial(q, 28, weir_csum_partial(tail, 8, sum))));
	memcpy(q + 2, &c, 2);
	return 14 + 40 + 8 * hops + 28;
}

/* What the pipeline's parse hands the host side for frame f: the speaker's
 * verdict as its figures and timers show it. */
static enum weir_verdict
host_input(struct weir_igmp *g, const uint8_t *f, uint32_t len, uint16_t port)
{
	struct weir_udp_view v;
	unsigned reason = 0;
	enum weir_verdict verdict = weir_parse_udp(f, len, WEIR_CSUM_UNKNOWN, WEIR_CSUM_UNKNOWN, &v, &reason);
	if (verdict == WEIR_PARSE_FILTERED)
		weir_igmp_host_input(g, 1, port, &v, 10 * S);
	return verdict;
}

/* The host side reads the pipeline's own parse: IGMP and MLD queries reach
 * the port's speaker (MLD past its Hop-by-Hop header), neighbour discovery
 * and another port's do not, a tagged query is counted as not its to
 * answer, and extension headers beyond the parse's limit never get there. */
static void
should_take_queries_from_the_pipelines_own_parse(void **state)
{
	(void)state;
	struct weir_igmp g;
	uint8_t f[256];
	setup6(&g);
	assert_int_equal(host_input(&g, f, igmp_query_frame(f, false), 1), WEIR_PARSE_FILTERED);
	assert_int_equal(host_input(&g, f, icmp6_frame(f, 130, 1), 1), WEIR_PARSE_FILTERED);
	assert_int_equal(g.general_at_ns[0] | g.general_at_ns[1], 0); /* port 1 is not the speaker's */
	host_input(&g, f, icmp6_frame(f, 135, 1), 0); /* a neighbour solicitation */
	assert_int_equal(g.general_at_ns[1] + g.unexpected, 0);
	host_input(&g, f, igmp_query_frame(f, true), 0);
	assert_int_equal(g.unexpected, 1);
	assert_int_equal(g.general_at_ns[0], 0);
	host_input(&g, f, igmp_query_frame(f, false), 0);
	assert_true(g.general_at_ns[0] > 10 * S && g.general_at_ns[0] <= 20 * S);
	assert_int_equal(host_input(&g, f, icmp6_frame(f, 130, 9), 0), WEIR_PARSE_DEAD);
	assert_int_equal(g.general_at_ns[1], 0);
	host_input(&g, f, icmp6_frame(f, 130, 1), 0);
	assert_true(g.general_at_ns[1] > 10 * S && g.general_at_ns[1] <= 20 * S);
	assert_int_equal(g.unexpected, 1);
}

/* IPv6 groups are joined by MLDv2 reports (IPv4 ones by IGMP, as ever),
 * answered within a query's max response delay and left at a stop. */
static void
should_join_answer_and_leave_ipv6_groups_with_mldv2(void **state)
{
	(void)state;
	struct weir_igmp g;
	struct sent s = { 0 };
	setup6(&g);
	for (uint64_t t = 1 * S; t <= 3 * S; t += MS)
		weir_igmp_poll(&g, t, capture, &s);
	assert_int_equal(s.n, 4); /* twice: an IGMPv3 report and an MLDv2 one */
	unsigned mld = s.frame[0][12] == 0x86 ? 0 : 1;
	const uint8_t *m = mld_of(&s, mld);
	assert_int_equal(m[7], 2);                    /* two records */
	assert_int_equal(m[8], 5);                    /* ALLOW_NEW_SOURCES {2001:db8::9} */
	assert_int_equal(m[11], 1);
	assert_int_equal(m[12], 0xff);
	assert_int_equal(m[13], 0x3e);
	assert_int_equal(m[8 + 20 + 16], 4);          /* CHANGE_TO_EXCLUDE {}: any source */
	assert_int_equal(igmp_of(&s, 1 - mld)[7], 1); /* IGMP speaks for the IPv4 group only */
	/* a general query (1000 ms), answered within it with the current state */
	for (uint64_t seed = 1; seed < 20; seed++) {
		s.n = 0;
		g.rng = seed;
		mld_query(&g, NULL, 1000, 10 * S, true);
		uint64_t answered = 0;
		for (uint64_t t = 10 * S; t <= 12 * S && !answered; t += MS) {
			weir_igmp_poll(&g, t, capture, &s);
			if (s.n)
				answered = t;
		}
		assert_true(answered > 10 * S && answered <= 11 * S);
		assert_int_equal(s.n, 1); /* the IPv4 group is IGMP's: not in an MLD answer */
		assert_int_equal(mld_of(&s, 0)[8], 1); /* MODE_IS_INCLUDE {source} */
	}
	/* a group query: its group only; another's, none; a bad checksum, counted */
	s.n = 0;
	mld_query(&g, "ff0e::1:2", 500, 20 * S, true);
	mld_query(&g, "ff0e::9", 500, 20 * S, true);
	mld_query(&g, "ff0e::1:2", 500, 20 * S, false);
	for (uint64_t t = 20 * S; t <= 21 * S; t += MS)
		weir_igmp_poll(&g, t, capture, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(mld_of(&s, 0)[7], 1);
	assert_int_equal(mld_of(&s, 0)[8], 2); /* MODE_IS_EXCLUDE {} */
	assert_int_equal(g.unexpected, 1);
	assert_int_equal(weir_mld_max_resp_ns(0x8000 | (1 << 12) | 5), (uint64_t)((5 | 0x1000) << 4) * MS);
	s.n = 0;
	weir_igmp_leave(&g, 30 * S, capture, &s);
	assert_int_equal(s.n, 2);
	m = mld_of(&s, s.frame[0][12] == 0x86 ? 0 : 1);
	assert_int_equal(m[8], 6);                    /* BLOCK_OLD_SOURCES {source} */
	assert_int_equal(m[8 + 20 + 16], 3);          /* CHANGE_TO_INCLUDE {}: leave */
	assert_int_equal(m[8 + 20 + 16 + 3], 0);
}

/* An MLDv1 message in frame i: from the link-local address, hop limit 1,
 * Router Alert, to dst; its checksum checked, the ICMPv6 message. */
static const uint8_t *
mld_v1_of(const struct sent *s, unsigned i, const char *dst)
{
	const uint8_t *f = s->frame[i], *ip6 = f + 14;
	uint8_t want[16];
	inet_pton(AF_INET6, dst, want);
	assert_memory_equal(ip6 + 24, want, 16);
	assert_memory_equal(f, ((uint8_t[]){ 0x33, 0x33, want[12], want[13], want[14], want[15] }), 6);
	assert_int_equal(ip6[7], 1);
	assert_memory_equal(ip6 + 40, ((uint8_t[]){ 58, 0, 5, 2, 0, 0 }), 6);
	const uint8_t *m = ip6 + 48;
	assert_int_equal(s->len[i], 62 + 24);
	uint64_t sum = weir_csum_partial(ip6 + 8, 32, 0);
	const uint8_t tail[8] = { 0, 0, 0, 24, 0, 0, 0, 58 };
	assert_int_equal(weir_csum_finish(weir_csum_partial(m, 24, weir_csum_partial(tail, 8, sum))), 0);
	return m;
}

/* RFC 3810 8.2.1: after an MLDv1 query (24 bytes), reports are MLDv1
 * Reports to each group and leaves MLDv1 Dones to ff02::2, for the Older
 * Version Querier Present Timeout (260 s); then MLDv2 again. */
static void
should_speak_mldv1_after_an_mldv1_query_and_leave_as_v1(void **state)
{
	(void)state;
	struct weir_igmp g;
	struct sent s = { 0 };
	setup6(&g);
	for (uint64_t t = 1 * S; t <= 3 * S; t += MS) /* the joins, as v2 */
		weir_igmp_poll(&g, t, capture, &s);
	uint8_t ip6[40] = { 0x60 }, q[24] = { 130 };
	inet_pton(AF_INET6, "fe80::1", ip6 + 8);
	inet_pton(AF_INET6, "ff02::1", ip6 + 24);
	q[4] = 0x03, q[5] = 0xe8; /* 1000 ms */
	uint64_t sum = weir_csum_partial(ip6 + 8, 32, 0);
	const uint8_t tail[8] = { 0, 0, 0, 24, 0, 0, 0, 58 };
	uint16_t c = htons(weir_csum_finish(weir_csum_partial(q, 24, weir_csum_partial(tail, 8, sum))));
	memcpy(q + 2, &c, 2);
	weir_mld_input(&g, ip6, q, 24, 10 * S);
	s.n = 0;
	for (uint64_t t = 10 * S; t <= 12 * S; t += MS)
		weir_igmp_poll(&g, t, capture, &s);
	assert_int_equal(s.n, 2); /* one MLDv1 Report for each IPv6 group */
	const uint8_t *m = mld_v1_of(&s, 0, "ff3e::8000:1");
	assert_int_equal(m[0], 131);
	assert_int_equal(mld_v1_of(&s, 1, "ff0e::1:2")[0], 131);
	s.n = 0;
	weir_igmp_leave(&g, 100 * S, capture, &s);
	assert_int_equal(s.n, 3); /* two Dones, and the IPv4 group's IGMPv3 leave */
	unsigned done = 0;
	for (unsigned i = 0; i < s.n; i++)
		if (s.frame[i][12] == 0x86) {
			assert_int_equal(mld_v1_of(&s, i, "ff02::2")[0], 132);
			done++;
		}
	assert_int_equal(done, 2);
	s.n = 0;
	weir_igmp_leave(&g, 10 * S + 261 * S, capture, &s); /* the v1 querier gone: MLDv2 again */
	assert_int_equal(s.n, 2);
	assert_int_equal(mld_of(&s, s.frame[0][12] == 0x86 ? 0 : 1)[0], 143);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_report_every_group_twice_within_a_second_of_start),
		cmocka_unit_test(should_answer_a_general_query_within_its_max_response_time),
		cmocka_unit_test(should_answer_a_group_query_for_its_group_only_and_ignore_others),
		cmocka_unit_test(should_speak_igmpv2_after_an_igmpv2_query_and_leave_as_v2),
		cmocka_unit_test(should_join_answer_and_leave_ipv6_groups_with_mldv2),
		cmocka_unit_test(should_speak_mldv1_after_an_mldv1_query_and_leave_as_v1),
		cmocka_unit_test(should_take_queries_from_the_pipelines_own_parse),
	};
	return cmocka_run_group_tests_name("igmp", tests, NULL, NULL);
}
