/* weir-replay serve's pure parts: a re-request's answer gathered from log
 * records in any order (replay/weir_replay_gather.c), and the per-requester
 * rate limit (replay/weir_replay_limit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "weir_replay_gather.h"
#include "weir_replay_limit.h"

static const uint8_t A[16] = "SESSIONA  ", B[16] = "SESSIONB  ";

static struct weir_record
rec(uint16_t kind, const uint8_t *key, uint64_t seq, uint64_t count)
{
	struct weir_record r;
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	memcpy(r.source, key, 16);
	r.seq = seq;
	r.count = count;
	return r;
}

static bool
event(struct weir_replay_gather *g, const uint8_t *key, uint64_t seq)
{
	struct weir_record r = rec(WEIR_REC_EVENT, key, seq, 0);
	uint8_t payload[3] = { (uint8_t)seq, (uint8_t)seq, (uint8_t)seq };
	return weir_replay_gather_add(g, &r, payload, sizeof(payload));
}

/* Numbers 10-19: events in any order (a late fill after higher ones),
 * another source's between, a LOSS record, and the rest past an end. */
static void
should_account_every_number_of_a_range_by_event_loss_or_end(void **state)
{
	(void)state;
	struct weir_replay_gather g;
	assert_int_equal(weir_replay_gather_init(&g, 64, 1500), 0);
	weir_replay_gather_start(&g, A, 10, 10);
	assert_false(event(&g, A, 9));  /* below the range */
	assert_false(event(&g, A, 11));
	assert_false(event(&g, B, 10)); /* another source's */
	assert_false(event(&g, A, 10)); /* a late fill */
	assert_false(event(&g, A, 11)); /* twice: once */
	struct weir_record loss = rec(WEIR_REC_LOSS, A, 12, 3);
	assert_false(weir_replay_gather_add(&g, &loss, NULL, 0));
	assert_false(event(&g, A, 15));
	assert_false(event(&g, A, 16));
	assert_int_equal(g.events, 4);
	assert_int_equal(g.lost, 3);
	struct weir_record end = rec(WEIR_REC_END_OF_SESSION, A, 17, 0);
	assert_true(weir_replay_gather_add(&g, &end, NULL, 0)); /* 17-19 never come */
	assert_int_equal(g.ended, 3);
	assert_int_equal(g.state[1], WEIR_GATHER_EVENT);
	assert_int_equal(g.arena[g.at[6]], 16);
	assert_int_equal(g.len[6], 3);
	/* A range the log has not reached: not done. */
	weir_replay_gather_start(&g, A, 100, 2);
	assert_false(event(&g, A, 100));
	assert_false(weir_replay_gather_done(&g));
	assert_true(event(&g, A, 101));
	weir_replay_gather_free(&g);
}

static union weir_sockaddr
addr(const char *s)
{
	union weir_sockaddr a;
	assert_int_equal(weir_endpoint_parse(s, &a), 0);
	return a;
}

/* A flood from one requester spends its own bucket: another is served. */
static void
should_limit_each_requester_to_its_own_rate(void **state)
{
	(void)state;
	static struct weir_replay_limiter l;
	weir_replay_limit_init(&l, 10, 5); /* 10 a second, bursts of 5 */
	union weir_sockaddr flood = addr("10.0.0.1:5000"), other = addr("10.0.0.2:5000"), six = addr("[fd00::1]:5000");
	unsigned ok = 0;
	for (int i = 0; i < 100; i++)
		ok += weir_replay_limit_take(&l, &flood, 1000000000ull); /* all at once */
	assert_int_equal(ok, 5);
	assert_true(weir_replay_limit_take(&l, &other, 1000000000ull));
	assert_true(weir_replay_limit_take(&l, &six, 1000000000ull));
	assert_false(weir_replay_limit_take(&l, &flood, 1050000000ull)); /* 50 ms: half a token */
	assert_true(weir_replay_limit_take(&l, &flood, 1100000000ull));  /* 100 ms: one */
	/* A full table forgets the requester heard from longest ago. */
	char s[32];
	for (unsigned i = 0; i < WEIR_REPLAY_REQUESTERS + 10; i++) {
		snprintf(s, sizeof(s), "10.1.%u.%u:1", i / 256, i % 256);
		union weir_sockaddr a = addr(s);
		assert_true(weir_replay_limit_take(&l, &a, 2000000000ull + i));
	}
	assert_int_equal(l.n, WEIR_REPLAY_REQUESTERS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_account_every_number_of_a_range_by_event_loss_or_end),
		cmocka_unit_test(should_limit_each_requester_to_its_own_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
