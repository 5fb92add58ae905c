/* weir-replay's packer (replay/weir_replay_pack.c): the events of one source
 * with consecutive numbers share a MoldUDP64 packet within its limits, which
 * the worker's own decoder reads back whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "weir_frame.h"
#include "weir_moldudp64.h"
#include "weir_replay_pack.h"

static const uint8_t A[16] = "SESSIONA  ", B[16] = "SESSIONB  ";

/* Packs (key, seq, rx) events of len bytes as weir-replay does; the packets'
 * first sequence numbers and counts, "seq+count,..." */
static const char *
pack(struct weir_replay_packer *pk, const uint8_t *const *keys, const uint64_t *seqs, const uint64_t *rx, unsigned n,
     uint16_t len)
{
	static char out[512];
	uint8_t msg[2048];
	out[0] = 0;
	for (unsigned i = 0; i <= n; i++) {
		if (i == n || !weir_replay_joins(pk, keys[i], seqs[i], rx[i], len)) {
			if (pk->pkt.len) {
				struct weir_mold_packet m;
				assert_int_equal(weir_mold_decode(pk->pkt.buf, pk->pkt.len, &m), 0);
				assert_int_equal(m.seq, pk->pkt.first_seq);
				assert_memory_equal(m.session, pk->pkt.key, 10);
				snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%llu+%u", out[0] ? "," : "",
					 (unsigned long long)m.seq, m.count);
				pk->pkt.len = 0;
			}
			if (i == n)
				break;
		}
		memset(msg, (int)seqs[i], len);
		assert_true(weir_replay_add(pk, keys[i], seqs[i], rx[i], 0, msg, len));
	}
	return out;
}

static void
should_pack_consecutive_events_of_one_source_and_start_again_at_a_hole_or_another_source(void **state)
{
	(void)state;
	struct weir_replay_packer pk;
	weir_replay_packer_init(&pk, 1472, 3, false);
	const uint8_t *keys[] = { A, A, A, A, A, B, B, A, A };
	const uint64_t seqs[] = { 1, 2, 3, 4, 6, 9, 10, 7, 8 }, rx[9] = { 0 };
	assert_string_equal(pack(&pk, keys, seqs, rx, 9, 10), "1+3,4+1,6+1,9+2,7+2");
}

static void
should_keep_within_the_payload_and_pack_by_receive_time_when_paced(void **state)
{
	(void)state;
	struct weir_replay_packer pk;
	const uint8_t *keys[] = { A, A, A, A, A };
	const uint64_t seqs[] = { 1, 2, 3, 4, 5 }, rx[] = { 5, 5, 5, 6, 6 };
	/* 20 + 2 x (2 + 100) = 224 fits, a third block does not */
	weir_replay_packer_init(&pk, 250, 64, false);
	assert_string_equal(pack(&pk, keys, seqs, rx, 5, 100), "1+2,3+2,5+1");
	weir_replay_packer_init(&pk, 1472, 64, true);
	assert_string_equal(pack(&pk, keys, seqs, rx, 5, 100), "1+3,4+2");
	uint8_t big[300] = { 0 };
	weir_replay_packer_init(&pk, 250, 64, false);
	assert_false(weir_replay_add(&pk, A, 1, 0, 0, big, sizeof(big))); /* never fits: said, not cut */
	assert_int_equal(pk.pkt.len, 0);
}

static void
should_say_an_end_of_session_and_tell_weir_frame_sources_apart(void **state)
{
	(void)state;
	struct weir_replay_packet p;
	weir_replay_control(&p, A, 42, WEIR_MOLD_END_OF_SESSION, 7);
	struct weir_mold_packet m;
	assert_int_equal(weir_mold_decode(p.buf, p.len, &m), 0);
	assert_int_equal(m.count, WEIR_MOLD_END_OF_SESSION);
	assert_int_equal(m.seq, 42);
	const uint8_t wf[16] = { 0xFF, 'W', 'F' };
	assert_false(weir_replay_mold_source(wf));
	assert_true(weir_replay_mold_source(A));
}

/* A weir frame source's events go as weir frames that the worker's own
 * decoder reads back: its id, numbers, event times and payloads; its end of
 * source and heartbeat as the format says; and within the payload size. */
static void
should_pack_a_weir_frame_source_as_weir_frames(void **state)
{
	(void)state;
	uint8_t key[16];
	weir_frame_source_key(key, 0x0102030405060708ull);
	struct weir_replay_packer pk;
	/* 24 + 2 x (12 + 40) = 128 fits, a third event does not */
	weir_replay_packer_init(&pk, 140, 64, false);
	const uint8_t msg[40] = "forty bytes of an event, more or less!!";
	assert_true(weir_replay_add(&pk, key, 9, 5, 1111, msg, sizeof(msg)));
	assert_true(weir_replay_joins(&pk, key, 10, 5, sizeof(msg)));
	assert_true(weir_replay_add(&pk, key, 10, 5, 2222, msg, sizeof(msg)));
	assert_false(weir_replay_joins(&pk, key, 11, 5, sizeof(msg)));
	uint8_t known[256] = { 1 };
	struct weir_frame f;
	assert_int_equal(weir_frame_decode(pk.pkt.buf, pk.pkt.len, known, &f), 0);
	assert_int_equal(f.source_id, 0x0102030405060708ull);
	assert_int_equal(f.first_seq, 9);
	assert_int_equal(f.count, 2);
	assert_int_equal(f.flags, 0);
	const uint8_t *c = f.events;
	struct weir_frame_event e;
	weir_frame_next(&c, &e);
	assert_int_equal(e.event_time_ns, 1111);
	assert_int_equal(e.topic, 0);
	assert_memory_equal(e.payload, msg, sizeof(msg));
	weir_frame_next(&c, &e);
	assert_int_equal(e.event_time_ns, 2222);
	struct weir_replay_packet p;
	weir_replay_control(&p, key, 11, WEIR_MOLD_END_OF_SESSION, 7);
	assert_int_equal(weir_frame_decode(p.buf, p.len, known, &f), 0);
	assert_true(f.flags & WEIR_FRAME_F_END);
	assert_int_equal(f.count, 0);
	assert_int_equal(f.first_seq, 11);
	weir_replay_control(&p, key, 11, WEIR_MOLD_HEARTBEAT, 7);
	assert_int_equal(weir_frame_decode(p.buf, p.len, known, &f), 0);
	assert_int_equal(f.flags, 0);
	assert_int_equal(f.count, 0);
	uint8_t big[120] = { 0 };
	assert_false(weir_replay_add(&pk, key, 1, 0, 0, big, sizeof(big))); /* 24 + 12 + 120 > 140 */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_pack_consecutive_events_of_one_source_and_start_again_at_a_hole_or_another_source),
		cmocka_unit_test(should_keep_within_the_payload_and_pack_by_receive_time_when_paced),
		cmocka_unit_test(should_say_an_end_of_session_and_tell_weir_frame_sources_apart),
		cmocka_unit_test(should_pack_a_weir_frame_source_as_weir_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
