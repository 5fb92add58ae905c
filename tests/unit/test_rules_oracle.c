/*
 * Oracle: for a few hundred generated expressions over a random corpus, the
 * (event, rule) pairs one Hyperscan database reports equal what libpcre2
 * finds expression by expression.  Only constructs both engines treat the
 * same: literals, classes, alternation, bounded and unbounded repeats,
 * anchors; never an empty match, never a newline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>

#include "test_rng.h"

#define N_RULES 300
#define N_EVENTS 400

static uint64_t rng = 20261122;

static unsigned
rnd(unsigned n)
{
	return test_rng_below(&rng, n);
}

/* An atom that always consumes at least one character. */
static void
atom(char *out, int depth)
{
	static const char *const classes[] = { "[a-c]", "[^b]", "[bd]", "[a-e]", "." };
	char buf[128] = "";
	switch (depth > 1 ? rnd(2) : rnd(4)) {
	case 0: { /* literal */
		unsigned n = 1 + rnd(3);
		for (unsigned i = 0; i < n; i++)
			buf[i] = (char)('a' + rnd(5));
		buf[n] = 0;
		break;
	}
	case 1:
		strcpy(buf, classes[rnd(5)]);
		break;
	case 2: { /* alternation of two atoms */
		char x[256] = "", y[256] = "";
		atom(x, depth + 1);
		atom(y, depth + 1);
		snprintf(buf, sizeof(buf), "(%.60s|%.60s)", x, y);
		break;
	}
	default: { /* bounded repeat of a single-character atom */
		unsigned lo = 1 + rnd(2), hi = lo + rnd(3);
		snprintf(buf, sizeof(buf), "%c{%u,%u}", 'a' + rnd(5), lo, hi);
		break;
	}
	}
	strcat(out, buf);
}

static void
expression(char *out)
{
	out[0] = 0;
	if (rnd(5) == 0)
		strcat(out, "^");
	unsigned parts = 1 + rnd(3);
	for (unsigned i = 0; i < parts; i++) {
		atom(out, 0);
		if (rnd(4) == 0)
			strcat(out, rnd(2) ? "x?" : "e*"); /* optional parts, after a mandatory one */
	}
	if (rnd(5) == 0)
		strcat(out, "$");
}

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx)
{
	((uint8_t *)ctx)[id] = 1;
	return 0;
}

static void
should_match_exactly_what_pcre2_matches(void **state)
{
	static char exprs[N_RULES][512];
	const char *ptrs[N_RULES];
	unsigned flags[N_RULES], ids[N_RULES];
	for (unsigned i = 0; i < N_RULES; i++) {
		expression(exprs[i]);
		ptrs[i] = exprs[i];
		flags[i] = HS_FLAG_SINGLEMATCH;
		ids[i] = i;
	}
	hs_database_t *db;
	hs_compile_error_t *ce;
	if (hs_compile_ext_multi(ptrs, flags, ids, NULL, N_RULES, HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS) {
		print_error("expression %d does not compile: %s (%s)\n", ce->expression, ce->message,
			    ce->expression >= 0 ? exprs[ce->expression] : "");
		fail();
	}
	hs_scratch_t *scratch = NULL;
	assert_int_equal(hs_alloc_scratch(db, &scratch), HS_SUCCESS);
	pcre2_code *re[N_RULES];
	for (unsigned i = 0; i < N_RULES; i++) {
		int ec;
		PCRE2_SIZE eo;
		re[i] = pcre2_compile((PCRE2_SPTR)exprs[i], PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
		assert_non_null(re[i]);
	}
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	unsigned pairs = 0, mismatches = 0;
	for (unsigned e = 0; e < N_EVENTS; e++) {
		char ev[64];
		unsigned len = rnd(48);
		for (unsigned i = 0; i < len; i++)
			ev[i] = (char)('a' + rnd(6));
		uint8_t hit[N_RULES] = { 0 };
		assert_int_equal(hs_scan(db, ev, len, 0, scratch, on_match, hit), HS_SUCCESS);
		for (unsigned r = 0; r < N_RULES; r++) {
			int rc = pcre2_match(re[r], (PCRE2_SPTR)ev, len, 0, 0, md, NULL);
			bool want = rc >= 0;
			pairs += want;
			if (want != (bool)hit[r] && mismatches++ < 5)
				print_error("event \"%.*s\" rule /%s/: pcre2 %s, hyperscan %s\n", (int)len, ev, exprs[r],
					    want ? "matches" : "does not", hit[r] ? "matches" : "does not");
		}
	}
	assert_int_equal(mismatches, 0);
	assert_true(pairs > 1000); /* the corpus really exercises the rules */
	pcre2_match_data_free(md);
	for (unsigned i = 0; i < N_RULES; i++)
		pcre2_code_free(re[i]);
	hs_free_scratch(scratch);
	hs_free_database(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_match_exactly_what_pcre2_matches),
	};
	return cmocka_run_group_tests_name("rules_oracle", tests, NULL, NULL);
}
