#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "frames.h"
#include "test_rng.h"
#include "weir_frame.h"
#include "weir_pipeline.h"
#include "weir_rules.h"

static struct weir_config cfg;
static char err[8192];
static const char *cfg_extra = ""; /* lines a test adds to the pmd-config */

static void
make_cfg(void)
{
	static char cerr[512], text[1024];
	snprintf(text, sizeof(text),
		 "set corelist 1\nlog dir /x\ndecoder moldudp64 udp-port 26400 topic itch\n"
		 "decoder weirframe udp-port 27000 topic frames\ntopic alerts\n%s",
		 cfg_extra);
	assert_int_equal(weir_config_parse(text, "t.conf", &cfg, cerr, sizeof(cerr)), 0);
}

/* Writes text to a file and loads it as a rules file. */
static struct weir_ruleset *
load(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/weir-rules-%d.txt", getpid());
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	struct weir_ruleset *rs = weir_rules_load(path, &cfg, 2, err, sizeof(err));
	unlink(path);
	return rs;
}

static void
expect_rejected(const char *text, unsigned line, const char *words)
{
	struct weir_ruleset *rs = load(text);
	char want[32];
	snprintf(want, sizeof(want), ".txt:%u: ", line);
	if (rs != NULL || strstr(err, want) == NULL || strstr(err, words) == NULL) {
		print_error("wanted line %u \"%s\", got:\n%s\n", line, words, err);
		weir_rules_free(rs);
		fail();
	}
}

static void
should_reject_each_malformed_rule_with_its_line(void **state)
{
	make_cfg();
	expect_rejected("# ok\n1 tag - /a/\n2 tagg - /b/\n", 3, "unknown action \"tagg\": valid are tag, route:TOPIC, drop, alert");
	expect_rejected("1 tag loud /a/\n", 1, "unknown flag \"loud\": valid are caseless");
	expect_rejected("0 tag - /a/\n", 1, "rule id \"0\" is not valid");
	expect_rejected("1 tag - /a/\n\n1 drop - /b/\n", 3, "rule id 1 is already used on line 1");
	expect_rejected("1 tag -\n", 1, "expected \"ID ACTION FLAGS");
	expect_rejected("1 tag - /a/ x\n", 1, "text after the closing '/'");
	expect_rejected("1 route:nowhere - /a/\n", 1, "route topic \"nowhere\" is not a topic of the pmd-config");
	expect_rejected("1 tag - decoder=sbe /a/\n", 1, "decoder=moldudp64 or decoder=weirframe");
	expect_rejected("1 tag - source=WAYTOOLONGNAME /a/\n", 1, "source \"WAYTOOLONGNAME\" is not valid");
	expect_rejected("1 tag - topic=nope /a/\n", 1, "topic \"nope\" is not a topic");
	expect_rejected("1 tag - colour=red /a/\n", 1, "unknown scope \"colour=red\"");
	expect_rejected("1 tag - //\n", 1, "empty expression");
}

static void
should_name_the_rule_hyperscan_cannot_compile_with_its_message(void **state)
{
	make_cfg();
	expect_rejected("1 tag - /fine/\n# comment\n7 alert - /(unbalanced/\n", 3, "rule 7 does not compile: ");
	assert_non_null(strstr(err, "Missing close parenthesis"));
	expect_rejected("1 tag - /a{5,3}/\n", 1, "rule 1 does not compile");
}

static void
should_load_a_good_file_with_flags_actions_and_scopes(void **state)
{
	make_cfg();
	struct weir_ruleset *rs = load("# rules\n"
				       "10 tag caseless,dotall /err(or)?/\n"
				       "20 route:alerts - topic=itch /^HALT/\n"
				       "30 drop multiline source=S0001 decoder=moldudp64 /noise$/\n"
				       "40 alert - source=wf:7 / a slash / inside /\n"
				       "50 tag - /a\\/b/\n");
	assert_non_null(rs);
	assert_int_equal(rs->n_rules, 5);
	assert_non_null(rs->db);
	assert_non_null(rs->scratch[0]);
	assert_non_null(rs->scratch[1]);
	assert_true(rs->rules[0].hs_flags & HS_FLAG_CASELESS);
	assert_true(rs->rules[0].hs_flags & HS_FLAG_DOTALL);
	assert_int_equal(rs->rules[1].action, WEIR_RULE_ROUTE);
	assert_int_equal(rs->rules[1].scope_topic, 1);
	assert_string_equal(cfg.topics[rs->rules[1].route_topic], "alerts");
	assert_int_equal(rs->rules[2].scope_decoder, WEIR_DECODER_MOLDUDP64);
	assert_memory_equal(rs->rules[2].scope_source, "S0001     \0\0\0\0\0\0", 16);
	assert_string_equal(rs->rules[3].expression, " a slash / inside ");
	assert_string_equal(rs->rules[4].expression, "a\\/b");
	weir_rules_free(rs);
}

/* A file caught mid-write (a SIGHUP while an editor truncated it) must not
 * install an empty set. */
static void
should_refuse_a_file_without_rules_unless_the_config_allows_it(void **state)
{
	make_cfg();
	assert_null(load(""));
	assert_non_null(strstr(err, "no rules: an empty rules file is refused"));
	assert_null(load("# nothing yet\n\n"));
	cfg.rules_allow_empty = true;
	struct weir_ruleset *rs = load("# nothing yet\n\n");
	assert_non_null(rs);
	assert_int_equal(rs->n_rules, 0);
	assert_null(rs->db);
	weir_rules_free(rs);
	cfg.rules_allow_empty = false;
}

static void
should_refuse_a_rules_file_with_a_nul_or_crlf_at_its_line(void **state)
{
	make_cfg();
	static const char nul[] = "1 tag - /a/\n2 tag - /b\0/\n";
	char path[64];
	snprintf(path, sizeof(path), "/tmp/weir-rules-nul-%d.txt", getpid());
	FILE *f = fopen(path, "w");
	fwrite(nul, 1, sizeof(nul) - 1, f);
	fclose(f);
	assert_null(weir_rules_load(path, &cfg, 2, err, sizeof(err)));
	unlink(path);
	assert_non_null(strstr(err, ":2: byte 0x00 at column 11"));
	expect_rejected("1 tag - /a/\r\n", 1, "carriage return");
}

/* --- through the pipeline --- */

struct fx {
	struct weir_ring *ring;
	void *region;
	struct weir_decoder_table decoders;
	struct weir_pipeline pl;
	struct weir_ring_consumer c;
	struct weir_ruleset *rs;
	struct weir_rule_counter counters[WEIR_RULE_SLOTS];
	bool quit;
};

static struct fx *
fx_make(const char *rules)
{
	make_cfg();
	struct fx *f = aligned_alloc(64, sizeof(*f));
	memset(f, 0, sizeof(*f));
	f->ring = aligned_alloc(64, weir_ring_memsize(1 << 20));
	weir_ring_init(f->ring, 0, 1 << 20);
	cfg.seq.max_sources = 16;
	cfg.seq.max_gaps = 16;
	f->region = aligned_alloc(64, (weir_pipeline_memsize(&cfg) + 63) & ~63ull);
	weir_decoder_table_build(&f->decoders, &cfg);
	assert_int_equal(weir_pipeline_init(&f->pl, &cfg, 0, f->ring, f->region, &f->decoders, NULL, &f->quit), 0);
	f->rs = load(rules);
	assert_non_null(f->rs);
	for (uint32_t i = 0; i < f->rs->n_rules; i++)
		f->rs->rules[i].counter_slot = i;
	weir_pipeline_use_rules(&f->pl, &f->rs, f->counters);
	weir_ring_consumer_attach(&f->c, f->ring);
	return f;
}

static void
fx_free(struct fx *f)
{
	weir_rules_free(f->rs);
	free(f->region);
	free(f->ring);
	free(f);
}

/* One MoldUDP64 packet of session sess, sequence seq, one message msg. */
static void
send_msg(struct fx *f, const char *sess, uint64_t seq, const char *msg)
{
	uint8_t mold[512], frame[700];
	uint32_t ml = weir_mold_put_header(mold, sess, seq, 1);
	ml += weir_mold_put_block(mold + ml, msg, (uint16_t)strlen(msg));
	uint32_t fl = frame_ipv4_udp(frame, 0, 26400, mold, ml);
	weir_pipeline_packet(&f->pl, frame, fl, WEIR_CSUM_UNKNOWN, WEIR_CSUM_UNKNOWN, 0, 0);
}

static const struct weir_record *
next_record(struct fx *f)
{
	weir_ring_publish(&f->pl.ring, 0);
	uint64_t pos;
	const struct weir_record *r = weir_ring_peek(&f->c, &pos);
	if (r)
		weir_ring_consumed(&f->c, r);
	return r;
}

static void
should_tag_route_alert_and_drop_as_the_rules_say(void **state)
{
	struct fx *f = fx_make("1 tag caseless /error/\n2 route:alerts - /HALT/\n3 alert - /PANIC/\n4 drop - /noise/\n");
	send_msg(f, "S", 1, "an ERROR here");
	send_msg(f, "S", 2, "HALT and PANIC");
	send_msg(f, "S", 3, "just noise, error too");
	send_msg(f, "S", 4, "plain");
	const struct weir_record *r = next_record(f);
	assert_int_equal(r->n_rules, 1);
	assert_int_equal(weir_record_rules(r)[0], 1);
	assert_memory_equal(weir_record_payload(r), "an ERROR here", 13);
	assert_int_equal(r->topic, 1); /* itch */
	r = next_record(f);
	assert_int_equal(r->n_rules, 2);
	assert_int_equal(r->topic, 3); /* routed to alerts */
	assert_int_equal(r->seq, 2);
	r = next_record(f);             /* seq 3 was dropped */
	assert_int_equal(r->seq, 4);
	assert_int_equal(r->n_rules, 0);
	assert_null(next_record(f));
	assert_int_equal(f->pl.c.rule_drops, 1);
	assert_int_equal(f->pl.c.rule_alerts, 1);
	assert_int_equal(f->pl.c.rule_routed, 1);
	assert_int_equal(f->pl.c.rule_matches, 5);
	assert_int_equal(f->counters[3].drops, 1);
	assert_int_equal(f->counters[0].matches, 2); /* the dropped event matched rule 1 too */
	assert_int_equal(f->counters[2].alerts, 1);
	assert_int_equal(weir_counters_message_identity_gap(&f->pl.c), 0);
	fx_free(f);
}

static void
should_apply_a_rule_only_within_its_scope(void **state)
{
	struct fx *f = fx_make("1 tag - source=A /x/\n2 tag - topic=frames /x/\n3 tag - decoder=moldudp64 /x/\n");
	send_msg(f, "A", 1, "x");
	send_msg(f, "B", 1, "x");
	const struct weir_record *r = next_record(f);
	assert_int_equal(r->n_rules, 2);
	assert_int_equal(weir_record_rules(r)[0], 1);
	assert_int_equal(weir_record_rules(r)[1], 3);
	r = next_record(f);
	assert_int_equal(r->n_rules, 1);
	assert_int_equal(weir_record_rules(r)[0], 3);
	fx_free(f);
}

/* "sequence key source+sender" qualifies each source key with the sender's
 * address; a rule's source= names the source, from whichever sender. */
static void
should_apply_a_source_scope_whatever_sender_qualifies_the_key(void **state)
{
	(void)state;
	cfg_extra = "sequence key source+sender\n";
	struct fx *f = fx_make("1 tag - source=A /x/\n2 tag - source=wf:7 /x/\n");
	cfg_extra = "";
	send_msg(f, "A", 1, "x");
	const struct weir_record *r = next_record(f);
	assert_non_null(r);
	assert_int_not_equal(r->source[10] | r->source[11] | r->source[12] | r->source[13], 0); /* qualified */
	assert_int_equal(r->n_rules, 1);
	assert_int_equal(weir_record_rules(r)[0], 1);
	/* A weir frame source keyed the way the pipeline keys it: the sender in bytes 3-6. */
	uint8_t key[WEIR_SOURCE_BYTES];
	weir_frame_source_key(key, 7);
	memcpy(key + 3, "\xc6\x12\x00\x01", 4);
	assert_true(weir_rule_in_scope(&f->rs->rules[1], WEIR_DECODER_WEIRFRAME, key, 2));
	assert_false(weir_rule_in_scope(&f->rs->rules[0], WEIR_DECODER_WEIRFRAME, key, 2));
	weir_frame_source_key(key, 8);
	memcpy(key + 3, "\xc6\x12\x00\x01", 4);
	assert_false(weir_rule_in_scope(&f->rs->rules[1], WEIR_DECODER_WEIRFRAME, key, 2));
	fx_free(f);
}

static void
should_carry_eight_rule_ids_and_count_the_rest(void **state)
{
	char rules[2048] = "";
	for (int i = 1; i <= 11; i++) {
		char line[64]; /* shapes Hyperscan reports in no particular order */
		snprintf(line, sizeof(line), "%d tag - /%s/\n", i, i % 3 == 0 ? "abc" : i % 3 == 1 ? "b[a-c]" : "xa?b");
		strcat(rules, line);
	}
	struct fx *f = fx_make(rules);
	send_msg(f, "S", 1, "xabcx");
	const struct weir_record *r = next_record(f);
	assert_int_equal(r->n_rules, WEIR_MAX_MATCHES);
	for (unsigned i = 0; i < WEIR_MAX_MATCHES; i++) /* the first 8 in file order, whatever Hyperscan's */
		assert_int_equal(weir_record_rules(r)[i], i + 1);
	assert_int_equal(f->pl.c.rule_match_overflow, 3);
	assert_int_equal(f->pl.c.rule_matches, 11);
	assert_memory_equal(weir_record_payload(r), "xabcx", 5);
	fx_free(f);
}

static void
should_not_scan_duplicates(void **state)
{
	struct fx *f = fx_make("1 alert - /x/\n");
	send_msg(f, "S", 1, "x");
	send_msg(f, "S", 1, "x");
	assert_int_equal(f->pl.c.rule_alerts, 1);
	assert_int_equal(f->pl.c.seq_duplicates, 1);
	fx_free(f);
}

/* --- the burst scan --- */

static void
should_relax_assertions_and_refuse_what_it_cannot_be_sure_of(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } cases[] = {
		{ "^HALT", "HALT" },
		{ "abc$", "abc" },
		{ "\\bword\\B", "word" },
		{ "\\Aab\\z|cd\\Z", "ab|cd" },
		{ "[^a]b", "[^a]b" },         /* negation, not an anchor */
		{ "[$^]x", "[$^]x" },         /* literals in a class */
		{ "[]^]x", "[]^]x" },
		{ "[[:alpha:]^]x", "[[:alpha:]^]x" },
		{ "a\\$b\\^", "a\\$b\\^" },   /* escaped */
		{ "\\c^x", "\\c^x" },         /* control-^ */
		{ "\\x{5e}y", "\\x{5e}y" },
		{ "[\\b]x", "[\\b]x" },       /* backspace in a class */
		{ "(?i)abc", "(?i)abc" },
		{ "(?:^|,)x", "(?:|,)x" },
		{ "(?x) a ^ b", NULL },       /* extended: whitespace and comments */
		{ "(?#^)x", NULL },
		{ "\\Qa^b\\E", NULL },
		{ "a^*b", NULL },             /* an assertion under a quantifier */
		{ "a\\b{0}c", NULL },
		{ "[ab", NULL },
		{ "ab\\", NULL },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64] = "";
		bool ok = weir_rule_relax(cases[i].in, out, sizeof(out));
		if (ok != (cases[i].out != NULL) || (ok && strcmp(out, cases[i].out) != 0)) {
			print_error("%s: wanted %s, got %s\n", cases[i].in, cases[i].out ? cases[i].out : "(refused)",
				    ok ? out : "(refused)");
			fail();
		}
	}
}

static uint64_t brng = 42;

/* A small alphabet, so that rules match often, across event edges too. */
static void
random_word(char *out, unsigned n)
{
	static const char alpha[] = "abcHALT,";
	for (unsigned i = 0; i < n; i++)
		out[i] = alpha[test_rng_below(&brng, sizeof(alpha) - 1)];
	out[n] = 0;
}

static void
random_filler(char *out, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		out[i] = (char)('d' + test_rng_below(&brng, 16));
	out[n] = 0;
}

/* with_utf8: some rules take a flag the burst scan cannot vouch for */
static void
random_rules(char *text, size_t cap, unsigned n_rules, bool with_utf8)
{
	static const char *const flags[] = { "-", "caseless", "singlematch", "dotall", "multiline", "utf8" };
	size_t o = 0;
	for (unsigned i = 1; i <= n_rules; i++) {
		char w1[8], w2[8], expr[64];
		random_word(w1, 1 + test_rng_below(&brng, 3));
		random_word(w2, 1 + test_rng_below(&brng, 2));
		switch (test_rng_below(&brng, 8)) {
		case 0: snprintf(expr, sizeof(expr), "^%s", w1); break;
		case 1: snprintf(expr, sizeof(expr), "%s$", w1); break;
		case 2: snprintf(expr, sizeof(expr), "\\b%s", w1); break;
		case 3: snprintf(expr, sizeof(expr), "%s[^a]%s", w1, w2); break;
		case 4: snprintf(expr, sizeof(expr), "(?:^|,)%s", w1); break;
		case 5: snprintf(expr, sizeof(expr), "%s.{0,3}%s", w1, w2); break;
		case 6: snprintf(expr, sizeof(expr), "(%s|%s)+", w1, w2); break;
		default: snprintf(expr, sizeof(expr), "%s", w1); break;
		}
		static const char *const actions[] = { "tag", "tag", "tag", "alert", "route:alerts", "drop" };
		o += (size_t)snprintf(text + o, cap - o, "%u %s %s /%s/\n", i, actions[test_rng_below(&brng, 6)],
				      flags[test_rng_below(&brng, with_utf8 ? 6 : 5)], expr);
	}
}

/* The records, counters and per-rule counts with the burst scan in front
 * equal those of scanning every event alone, over random rules (anchors,
 * word boundaries, classes, flags) and random bursts whose events put
 * pattern pieces on both sides of every edge. */
static void
should_match_exactly_as_scanning_each_event_alone(void **state)
{
	(void)state;
	static char rules[1 << 16];
	uint64_t skipped = 0, scans = 0, matches = 0;
	for (unsigned round = 0; round < 20; round++) {
		random_rules(rules, sizeof(rules), 5 + test_rng_below(&brng, 60), round % 4 == 3);
		struct fx *alone = fx_make(rules), *burst = fx_make(rules);
		assert_non_null(burst->rs->burst_db);
		uint64_t seq = 1;
		for (unsigned b = 0; b < 40; b++) {
			static uint8_t frames[64][1500];
			const uint8_t *fp[64];
			uint32_t fl[64];
			unsigned n = 1 + test_rng_below(&brng, 64);
			for (unsigned p = 0; p < n; p++) {
				uint8_t mold[1400];
				unsigned k = 1 + test_rng_below(&brng, 8);
				uint32_t ml = weir_mold_put_header(mold, "S", seq, (uint16_t)k);
				for (unsigned e = 0; e < k; e++) {
					char msg[32];
					if (test_rng_below(&brng, 3) == 0)
						random_word(msg, test_rng_below(&brng, 12));
					else
						random_filler(msg, test_rng_below(&brng, 12));
					ml += weir_mold_put_block(mold + ml, msg, (uint16_t)strlen(msg));
				}
				seq += k - (test_rng_below(&brng, 10) == 0 ? test_rng_below(&brng, k) + 1 : 0); /* some repeats: duplicates skip the scan */
				fl[p] = frame_ipv4_udp(frames[p], 0, 26400, mold, ml);
				fp[p] = frames[p];
				unsigned harm = test_rng_below(&brng, 32);
				if (harm == 0)
					frames[p][14 + 8] ^= 0x40; /* IPv4 TTL: the header checksum fails */
				else if (harm == 1)
					fl[p] = 14 + 20 + 8 + test_rng_below(&brng, 20); /* cut short */
			}
			static struct weir_burst_in in; /* the burst's stages, the scan among them */
			for (unsigned p = 0; p < n; p++) {
				in.frame[p] = fp[p];
				in.len[p] = in.wire_len[p] = fl[p];
				in.ip_csum[p] = in.l4_csum[p] = WEIR_CSUM_UNKNOWN;
			}
			for (unsigned p = 0; p < n; p++)
				weir_pipeline_packet(&alone->pl, fp[p], fl[p], WEIR_CSUM_UNKNOWN, WEIR_CSUM_UNKNOWN, 0, 0);
			weir_pipeline_burst(&burst->pl, &in, n, 0, 0);
			const struct weir_record *ra, *rb;
			while ((ra = next_record(alone)) != NULL) {
				rb = next_record(burst);
				assert_non_null(rb);
				assert_int_equal(rb->len_bytes, ra->len_bytes);
				assert_memory_equal(rb, ra, ra->len_bytes);
			}
			assert_null(next_record(burst));
		}
		assert_int_equal(burst->pl.c.rule_matches, alone->pl.c.rule_matches);
		assert_int_equal(burst->pl.c.rule_drops, alone->pl.c.rule_drops);
		assert_int_equal(burst->pl.c.rule_alerts, alone->pl.c.rule_alerts);
		assert_int_equal(burst->pl.c.rule_routed, alone->pl.c.rule_routed);
		assert_int_equal(burst->pl.c.event_records, alone->pl.c.event_records);
		assert_int_equal(burst->pl.c.dead_letter_records, alone->pl.c.dead_letter_records);
		assert_true(alone->pl.c.dead_letter_records > 0);
		assert_memory_equal(burst->counters, alone->counters, sizeof(alone->counters));
		skipped += burst->pl.c.rule_scans_skipped;
		scans += burst->pl.c.rule_burst_scans;
		matches += alone->pl.c.rule_matches;
		fx_free(alone);
		fx_free(burst);
	}
	fprintf(stderr, "note: %" PRIu64 " burst scans, %" PRIu64 " events left unscanned, %" PRIu64 " matches\n",
		scans, skipped, matches);
	assert_true(scans > 0 && skipped > 0 && matches > 0);
}

/* Rules it cannot vouch for are scanned per event, and only they when the
 * burst scan finds nothing: an anchored utf8 rule still matches. */
static void
should_scan_rules_it_cannot_relax_on_every_event(void **state)
{
	(void)state;
	struct fx *f = fx_make("1 tag utf8 /^HALT/\n2 tag - /^abc/\n3 alert - /\\Qzz\\E/\n");
	assert_non_null(f->rs->burst_db);
	assert_non_null(f->rs->unscannable_db);
	assert_int_equal(f->rs->n_burst_scannable, 1);
	uint8_t mold[256], frame[400];
	uint32_t ml = weir_mold_put_header(mold, "S", 1, 3);
	ml += weir_mold_put_block(mold + ml, "HALT now", 8);
	ml += weir_mold_put_block(mold + ml, "xabc", 4);     /* rule 2's relaxed form matches: scanned, no match */
	ml += weir_mold_put_block(mold + ml, "zz", 2);
	uint32_t fl = frame_ipv4_udp(frame, 0, 26400, mold, ml);
	static struct weir_burst_in in;
	in.ip_csum[0] = in.l4_csum[0] = WEIR_CSUM_UNKNOWN;
	in.frame[0] = frame;
	in.len[0] = in.wire_len[0] = fl;
	weir_pipeline_burst(&f->pl, &in, 1, 0, 0);
	const struct weir_record *r = next_record(f);
	assert_int_equal(r->n_rules, 1);
	assert_int_equal(weir_record_rules(r)[0], 1);
	r = next_record(f);
	assert_int_equal(r->n_rules, 0);
	r = next_record(f);
	assert_int_equal(r->n_rules, 1);
	assert_int_equal(weir_record_rules(r)[0], 3);
	assert_int_equal(f->pl.c.rule_burst_scans, 1);
	assert_int_equal(f->pl.c.rule_scans_skipped, 0); /* an unscannable set is left: none goes unscanned */
	fx_free(f);
}

/* A fake Hyperscan for weir_rules_breaker: the set fails once it holds
 * rule `limit` together with what came before it, or rule `alone` at all. */
struct fake_set {
	uint32_t limit, alone, calls;
};

static bool
fake_compiles(void *ctx, uint32_t first, uint32_t n)
{
	struct fake_set *f = ctx;
	f->calls++;
	if (first <= f->alone && f->alone < first + n)
		return false;
	return !(first == 0 && n > f->limit);
}

static void
should_name_the_rule_that_breaks_a_set_failing_as_a_whole(void **state)
{
	(void)state;
	struct fake_set f = { .limit = 700, .alone = UINT32_MAX };
	assert_int_equal(weir_rules_breaker(1000, fake_compiles, &f), 700);
	assert_true(f.calls < 1000 + 2 + 12); /* each alone, the whole, then ~log2(1000) prefixes */
	f = (struct fake_set){ .limit = UINT32_MAX, .alone = 42 };
	assert_int_equal(weir_rules_breaker(1000, fake_compiles, &f), 42);
	f = (struct fake_set){ .limit = 1, .alone = UINT32_MAX };
	assert_int_equal(weir_rules_breaker(1000, fake_compiles, &f), 1);
	f = (struct fake_set){ .limit = UINT32_MAX, .alone = UINT32_MAX };
	assert_int_equal(weir_rules_breaker(1000, fake_compiles, &f), 1000); /* nothing to blame */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_reject_each_malformed_rule_with_its_line),
		cmocka_unit_test(should_name_the_rule_hyperscan_cannot_compile_with_its_message),
		cmocka_unit_test(should_load_a_good_file_with_flags_actions_and_scopes),
		cmocka_unit_test(should_refuse_a_file_without_rules_unless_the_config_allows_it),
		cmocka_unit_test(should_refuse_a_rules_file_with_a_nul_or_crlf_at_its_line),
		cmocka_unit_test(should_tag_route_alert_and_drop_as_the_rules_say),
		cmocka_unit_test(should_apply_a_rule_only_within_its_scope),
		cmocka_unit_test(should_apply_a_source_scope_whatever_sender_qualifies_the_key),
		cmocka_unit_test(should_carry_eight_rule_ids_and_count_the_rest),
		cmocka_unit_test(should_not_scan_duplicates),
		cmocka_unit_test(should_relax_assertions_and_refuse_what_it_cannot_be_sure_of),
		cmocka_unit_test(should_match_exactly_as_scanning_each_event_alone),
		cmocka_unit_test(should_scan_rules_it_cannot_relax_on_every_event),
		cmocka_unit_test(should_name_the_rule_that_breaks_a_set_failing_as_a_whole),
	};
	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
