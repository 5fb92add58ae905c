/* The IGMP host side (dataplane/weir_igmp.c): joins at start, answers to
 * queries within their max response time, IGMPv2 after an IGMPv2 querier,
 * leaves at a clean stop.  Time is passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "weir_csum.h"
#include "weir_igmp.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_report_every_group_twice_within_a_second_of_start),
		cmocka_unit_test(should_answer_a_general_query_within_its_max_response_time),
		cmocka_unit_test(should_answer_a_group_query_for_its_group_only_and_ignore_others),
		cmocka_unit_test(should_speak_igmpv2_after_an_igmpv2_query_and_leave_as_v2),
	};
	return cmocka_run_group_tests_name("igmp", tests, NULL, NULL);
}
