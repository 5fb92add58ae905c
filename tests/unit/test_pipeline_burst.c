/*
 * The burst's stages (weir_pipeline_burst) against the same packets one at
 * a time (weir_pipeline_packet): the same records, byte for byte, and the
 * same counters, for seeded random bursts of every kind of packet the
 * stages treat apart (feed lines' first and second copies, bad checksums
 * the NIC did or did not find, groups not joined, weir frames, heartbeats,
 * ends of session, damaged and many-segment packets, NIC receive times),
 * with a source table small and big enough to be fetched a stage ahead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "frames.h"
#include "pipeline_fixture.h"
#include "test_rng.h"
#include "weir_disposition.h"
#include "weir_frame.h"
#include "weir_pipeline.h"
#include "weir_pipeline_pvt.h"

#define RING_BYTES (1u << 20)
#define FRAME_MAX 600

static const struct weir_record *
next_record(struct fixture *s)
{
	uint64_t pos;
	const struct weir_record *r = weir_ring_peek(&s->c, &pos);
	if (r)
		weir_ring_consumed(&s->c, r);
	return r;
}

/* A MoldUDP64 packet to group 239.1.1.last (0: unicast), n events (0: a
 * heartbeat, 0xFFFF: the end of its session). */
static uint32_t
mold_frame(uint8_t *frame, const char *session, uint64_t seq, unsigned n, uint8_t group_last)
{
	uint8_t mold[512];
	uint32_t ml = n == WEIR_MOLD_END_OF_SESSION ? weir_mold_put_header(mold, session, seq, (uint16_t)n)
						     : mold_packet(mold, session, seq, n);
	uint32_t fl = frame_ipv4_udp(frame, 0, 26400, mold, ml);
	if (group_last) {
		const uint8_t src[4] = { 198, 18, 0, 1 }, dst[4] = { 239, 1, 1, group_last };
		weir_put_ipv4_header(frame + 14, src, dst, 0, (uint16_t)(fl - 34));
	}
	set_ipv4_udp_csum(frame, 0);
	return fl;
}

static uint32_t
weir_frame_packet(uint8_t *frame, uint64_t source_id, uint64_t seq, unsigned n)
{
	uint8_t p[512];
	uint32_t pl = weir_frame_put_header(p, 0, (uint16_t)n, source_id, seq);
	for (unsigned e = 0; e < n; e++)
		pl += weir_frame_put_event(p + pl, 0, 1000 + e, "frame-ev", 8);
	return frame_ipv4_udp(frame, 0, 27000, p, pl);
}

/* One random packet of the mix into frame: its length; what the NIC said of
 * its checksums, and whether it came in many segments, in the rest. */
static uint32_t
random_packet(uint64_t *rng, uint8_t *frame, uint64_t *line_seq, uint64_t uni_seq[4],
	      enum weir_csum *ip, enum weir_csum *l4, uint8_t *multi)
{
	static const char *sessions[4] = { "S0", "S1", "S2", "S3" };
	uint32_t fl;
	unsigned kind = test_rng_below(rng, 12), s = test_rng_below(rng, 4);
	*ip = *l4 = WEIR_CSUM_UNKNOWN;
	*multi = 0;
	if (kind < 4) { /* a feed line: a, then often b with the same numbers */
		bool b = test_rng_below(rng, 2);
		unsigned n = 1 + test_rng_below(rng, 3);
		fl = mold_frame(frame, "AB", *line_seq, n, b ? 2 : 1);
		if (!b || test_rng_below(rng, 2))
			*line_seq += n;
	} else if (kind < 7) { /* unicast: in order, a gap, a repeat, a heartbeat */
		unsigned n = test_rng_below(rng, 4), step = test_rng_below(rng, 8);
		uint64_t seq = step == 0 && uni_seq[s] > 3 ? uni_seq[s] - 3 : uni_seq[s] + (step == 1 ? 2 : 0);
		fl = mold_frame(frame, sessions[s], seq, n, 0);
		if (seq + n > uni_seq[s])
			uni_seq[s] = seq + n;
	} else if (kind == 7) {
		/* its own source (id 7 + s) on the session's numbers: gaps, and a repeat now and then */
		fl = weir_frame_packet(frame, 7 + s, uni_seq[s], 1 + test_rng_below(rng, 2));
	} else if (kind == 8) {
		fl = mold_frame(frame, "AB", *line_seq, 1, 9); /* a group the feed does not join */
	} else if (kind == 9) {
		fl = mold_frame(frame, sessions[s], uni_seq[s], test_rng_below(rng, 3) ? 1 : WEIR_MOLD_END_OF_SESSION, 0);
	} else if (kind == 10) {
		fl = mold_frame(frame, sessions[s], uni_seq[s], 2, 0);
		fl = 14 + 20 + 8 + test_rng_below(rng, fl - 42); /* cut short */
	} else {
		fl = mold_frame(frame, "AB", *line_seq, 1, 1 + test_rng_below(rng, 2));
		*multi = 1;
	}
	unsigned harm = test_rng_below(rng, 16);
	if (harm == 0)
		frame[fl - 1] ^= 0x20; /* the UDP checksum fails */
	else if (harm == 1)
		*l4 = WEIR_CSUM_GOOD;
	else if (harm == 2)
		*l4 = WEIR_CSUM_BAD;
	else if (harm == 3)
		*ip = WEIR_CSUM_GOOD;
	return fl;
}

/* Both sides take the same bursts; what each wrote is compared. */
static void
run_bursts(const char *config, uint64_t seed, enum weir_pipeline_shape shape)
{
	struct fixture *one = pipeline_fixture(config, RING_BYTES), *staged = pipeline_fixture(config, RING_BYTES);
	/* which compiled copy of the tracking stage the bursts run */
	assert_int_equal(weir_pipeline_shape(&staged->pl), shape);
	uint64_t rng = seed;
	static uint8_t frames[64][FRAME_MAX];
	static struct weir_burst_in in;
	uint64_t line_seq = 1, uni_seq[4] = { 1, 1, 1, 1 }, now = 1000;
	unsigned records = 0;
	for (unsigned round = 0; round < 400; round++) {
		unsigned n = 1 + test_rng_below(&rng, 64);
		in.stamped = test_rng_below(&rng, 2);
		for (unsigned i = 0; i < n; i++) {
			in.frame[i] = frames[i];
			in.len[i] = random_packet(&rng, frames[i], &line_seq, uni_seq, &in.ip_csum[i], &in.l4_csum[i],
						  &in.multi_segment[i]);
			in.wire_len[i] = in.len[i] + (in.multi_segment[i] ? 100 : 0);
			in.rx_ns[i] = now - 50 + i;
		}
		now += 20000;
		for (unsigned i = 0; i < n; i++) {
			struct weir_pipeline *pl = &one->pl;
			pl->pkt_rx_ns = in.stamped ? in.rx_ns[i] : 0;
			if (in.multi_segment[i]) {
				pl->c.rx_bytes += in.wire_len[i];
				weir_disposition_count(&pl->c, weir_pipeline_dead_letter(pl, in.frame[i], in.len[i], in.wire_len[i],
											 WEIR_DL_multi_segment, 0, now));
			} else {
				weir_pipeline_packet(pl, in.frame[i], in.len[i], in.ip_csum[i], in.l4_csum[i], 0, now);
			}
			pl->pkt_rx_ns = 0;
		}
		weir_pipeline_burst(&staged->pl, &in, n, 0, now);
		weir_pipeline_tick(&one->pl, now);
		weir_pipeline_tick(&staged->pl, now);
		weir_ring_publish(&one->pl.ring, now);
		weir_ring_publish(&staged->pl.ring, now);
		const struct weir_record *ra, *rb;
		while ((ra = next_record(one)) != NULL) {
			rb = next_record(staged);
			assert_non_null(rb);
			assert_int_equal(rb->len_bytes, ra->len_bytes);
			assert_memory_equal(rb, ra, ra->len_bytes);
			records++;
		}
		assert_null(next_record(staged));
		weir_ring_release(&one->c, 0);
		weir_ring_release(&staged->c, 0);
	}
	/* The bursts' figures say which copy they ran; one packet at a time shows none. */
	struct weir_worker_counters *a = &one->pl.c, *b = &staged->pl.c;
	assert_int_equal(b->tracking_plain + b->tracking_lines + b->tracking_any, 1);
	assert_int_equal(shape == WEIR_SHAPE_PLAIN ? b->tracking_plain
			 : shape == WEIR_SHAPE_LINES ? b->tracking_lines
						     : b->tracking_any,
			 1);
	assert_int_equal(a->tracking_plain + a->tracking_lines + a->tracking_any, 0);
	a->tracking_plain = b->tracking_plain;
	a->tracking_lines = b->tracking_lines;
	a->tracking_any = b->tracking_any;
	assert_memory_equal(b, a, sizeof(*a));
	assert_memory_equal(staged->pl.lines, one->pl.lines, sizeof(one->pl.lines));
	assert_int_equal(weir_counters_identity_gap(b), 0);
	assert_int_equal(weir_counters_message_identity_gap(b), 0);
	/* the mix reached every kind of verdict */
	assert_true(a->seq_duplicates > 0 && a->dead_letter_packets > 0 && a->heartbeats > 0 && a->end_of_session > 0);
	assert_true(a->dead_letter[WEIR_DL_multi_segment] > 0 && a->dead_letter[WEIR_DL_l4_bad_checksum] > 0);
	assert_true(records > 1000);
	if (shape == WEIR_SHAPE_ANY)
		assert_true(a->reorder_held > 0); /* events held back, and let go the same way */
	if (shape == WEIR_SHAPE_LINES)
		assert_true(a->filtered_not_joined > 0 && one->pl.lines[0].arbitrated + one->pl.lines[1].arbitrated > 0);
	pipeline_fixture_free(one);
	pipeline_fixture_free(staged);
}

#define LINES_CONFIG(SOURCES)                                                                                   \
	"set corelist 1\nlog dir /tmp/x\nring full-policy drop\n"                                                  \
	"decoder moldudp64 udp-port 26400 topic itch\n"                                                            \
	"decoder weirframe udp-port 27000 topic frames\n"                                                          \
	"feed itch line a port 0 group 239.1.1.1 udp-port 26400\n"                                                 \
	"feed itch line b port 0 group 239.1.1.2 udp-port 26400\n"                                                 \
	"sequence sources " #SOURCES "\nsequence gaps 4096\n"

static void
should_write_what_a_packet_at_a_time_writes(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 4; seed++)
		run_bursts(LINES_CONFIG(128), seed, WEIR_SHAPE_LINES);
}

/* A table past the cache: the stage that fetches each source's slot runs. */
static void
should_write_the_same_with_a_table_fetched_a_stage_ahead(void **state)
{
	(void)state;
	run_bursts(LINES_CONFIG(16384), 11, WEIR_SHAPE_LINES);
}

/* A reorder window: the copy compiled for any configuration, in the
 * bursts too (a packet at a time always runs it). */
static void
should_write_the_same_in_the_copy_for_any_configuration(void **state)
{
	(void)state;
	run_bursts("set corelist 1\nlog dir /tmp/x\nring full-policy drop\n"
		   "decoder moldudp64 udp-port 26400 topic itch\n"
		   "decoder weirframe udp-port 27000 topic frames\n"
		   "sequence sources 128\nsequence gaps 4096\n"
		   "sequence reorder-slots 1024\nsequence reorder-window 16 1ms\n",
		   41, WEIR_SHAPE_ANY);
}

/* The plain shape (its own compiled copy of the tracking stage) against
 * the general code a packet at a time; keyed by sender too: the fetch
 * stage composes the same key. */
static void
should_write_the_same_keyed_by_sender(void **state)
{
	(void)state;
	run_bursts("set corelist 1\nlog dir /tmp/x\nring full-policy drop\n"
		   "decoder moldudp64 udp-port 26400 topic itch\n"
		   "decoder weirframe udp-port 27000 topic frames\n"
		   "sequence key source+sender\nsequence sources 16384\nsequence gaps 4096\n", 21, WEIR_SHAPE_PLAIN);
}

static void
should_write_the_same_in_the_plain_shape(void **state)
{
	(void)state;
	run_bursts("set corelist 1\nlog dir /tmp/x\nring full-policy drop\n"
		   "decoder moldudp64 udp-port 26400 topic itch\n"
		   "decoder weirframe udp-port 27000 topic frames\n"
		   "sequence sources 128\nsequence gaps 4096\n", 31, WEIR_SHAPE_PLAIN);
}

/* A stop that refuses a packet ring room says which packet, by its place
 * among rx_packets: the fault explorer's oracle then knows exactly which
 * packets the stopped run never tracked (on A and B lines a refused packet
 * may be the other line's fill of a gap opened before it).  A packet too big
 * ever to fit, refused before the stop's first in the same burst, is not
 * taken for it. */
static void
should_say_from_which_packet_a_stop_refused_room(void **state)
{
	(void)state;
	struct fixture *f = pipeline_fixture("set corelist 1\nlog dir /tmp/x\ndecoder moldudp64 udp-port 26400 topic itch\n"
					     "sequence sources 128\nsequence gaps 4096\n", 16 * 1024);
	f->pl.full_policy = WEIR_FULL_BACKPRESSURE;
	static uint8_t frames[8][FRAME_MAX];
	static struct weir_burst_in in;
	for (unsigned i = 0; i < 3; i++) { /* a first burst, taken whole */
		in.frame[i] = frames[i];
		in.len[i] = in.wire_len[i] = mold_frame(frames[i], "S", 1 + i, 1, 0);
	}
	weir_pipeline_burst(&f->pl, &in, 3, 0, 1000);
	assert_int_equal(f->pl.c.stop_refused_at_rx, 0);
	while (weir_ring_free_bytes(&f->pl.ring, UINT64_MAX) > 2800) /* room for a 1-event packet, not 8 */
		assert_non_null(weir_ring_reserve(&f->pl.ring, 64));
	f->quit = true;
	/* 60 events want more than half this ring: never room, stop or none */
	static const unsigned events[6] = { 1, 60, 1, 8, 1, 1 };
	for (unsigned i = 0, seq = 4; i < 6; seq += events[i], i++) {
		in.frame[i] = frames[i];
		in.len[i] = in.wire_len[i] = mold_frame(frames[i], "S", seq, events[i], 0);
	}
	weir_pipeline_burst(&f->pl, &in, 6, 0, 2000);
	assert_int_equal(f->pl.c.ring_full_packets, 4);
	assert_int_equal(f->pl.c.stop_refused_at_rx, 3 + 4); /* the fourth of the second burst */
	weir_pipeline_burst(&f->pl, &in, 1, 0, 3000);     /* refused too: the place stays the first's */
	assert_int_equal(f->pl.c.stop_refused_at_rx, 7);
	assert_int_equal(f->pl.c.rx_packets, 10);
	pipeline_fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_write_what_a_packet_at_a_time_writes),
		cmocka_unit_test(should_write_the_same_with_a_table_fetched_a_stage_ahead),
		cmocka_unit_test(should_write_the_same_keyed_by_sender),
		cmocka_unit_test(should_write_the_same_in_the_copy_for_any_configuration),
		cmocka_unit_test(should_write_the_same_in_the_plain_shape),
		cmocka_unit_test(should_say_from_which_packet_a_stop_refused_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
