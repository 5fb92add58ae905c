#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "weir_frame.h"
#include "weir_dead_letter.h"
#include "weir_record.h"

static uint8_t known[256];

/* A frame of source 77 from seq 100 with n events "e0", "e1"... on topics 0, 1, 0, 1... */
static uint32_t
frame_with(uint8_t *p, unsigned n)
{
	uint32_t len = weir_frame_put_header(p, 0, (uint16_t)n, 77, 100);
	for (unsigned i = 0; i < n; i++) {
		char msg[8];
		int l = snprintf(msg, sizeof(msg), "e%u", i);
		len += weir_frame_put_event(p + len, (uint16_t)(i % 2), 1000 + i, msg, (uint16_t)l);
	}
	return len;
}

static int
setup(void **state)
{
	memset(known, 0, sizeof(known));
	known[1] = 1;
	return 0;
}

static void
should_reject_every_length_shorter_than_the_header(void **state)
{
	uint8_t p[128];
	struct weir_frame f;
	frame_with(p, 1);
	for (uint32_t len = 0; len < WEIR_FRAME_HEADER_BYTES; len++)
		assert_int_equal(weir_frame_decode(p, len, known, &f), WEIR_DL_frame_truncated_header);
}

static void
should_reject_a_wrong_magic_version_or_flags(void **state)
{
	uint8_t p[128];
	struct weir_frame f;
	uint32_t len = frame_with(p, 1);
	p[0] = 'X';
	assert_int_equal(weir_frame_decode(p, len, known, &f), WEIR_DL_frame_bad_magic);
	p[0] = 'W';
	p[4] = 2;
	assert_int_equal(weir_frame_decode(p, len, known, &f), WEIR_DL_frame_bad_version);
	p[4] = 1;
	p[5] = 0x80;
	assert_int_equal(weir_frame_decode(p, len, known, &f), WEIR_DL_frame_bad_flags);
	p[5] = WEIR_FRAME_F_END; /* end of source with an event */
	assert_int_equal(weir_frame_decode(p, len, known, &f), WEIR_DL_frame_bad_flags);
}

static void
should_reject_every_cut_inside_the_events(void **state)
{
	uint8_t p[256];
	struct weir_frame f;
	uint32_t len = frame_with(p, 3);
	for (uint32_t cut = WEIR_FRAME_HEADER_BYTES; cut < len; cut++)
		assert_int_equal(weir_frame_decode(p, cut, known, &f), WEIR_DL_frame_truncated_event);
	weir_put_be16(p + 6, 2);
	assert_int_equal(weir_frame_decode(p, len, known, &f), WEIR_DL_frame_trailing_bytes);
}

static void
should_reject_a_topic_no_frame_topic_line_maps(void **state)
{
	uint8_t p[128];
	struct weir_frame f;
	uint32_t len = weir_frame_put_header(p, 0, 1, 1, 1);
	len += weir_frame_put_event(p + len, 7, 0, "x", 1);
	assert_int_equal(weir_frame_decode(p, len, known, &f), WEIR_DL_frame_unknown_topic);
	weir_put_be16(p + WEIR_FRAME_HEADER_BYTES + 2, 300);
	assert_int_equal(weir_frame_decode(p, len, known, &f), WEIR_DL_frame_unknown_topic);
}

static void
should_decode_every_event_with_topic_and_time(void **state)
{
	uint8_t p[256];
	struct weir_frame f;
	uint32_t len = frame_with(p, 4);
	assert_int_equal(weir_frame_decode(p, len, known, &f), 0);
	assert_int_equal(f.source_id, 77);
	assert_int_equal(f.first_seq, 100);
	assert_int_equal(f.count, 4);
	const uint8_t *c = f.events;
	for (unsigned i = 0; i < 4; i++) {
		struct weir_frame_event e;
		weir_frame_next(&c, &e);
		char want[8];
		snprintf(want, sizeof(want), "e%u", i);
		assert_int_equal(e.len, 2);
		assert_memory_equal(e.payload, want, 2);
		assert_int_equal(e.topic, i % 2);
		assert_int_equal(e.event_time_ns, 1000 + i);
	}
	assert_ptr_equal(c, p + len);
}

static void
should_read_heartbeat_and_end_of_source(void **state)
{
	uint8_t p[32];
	struct weir_frame f;
	uint32_t len = weir_frame_put_header(p, 0, 0, 5, 42);
	assert_int_equal(weir_frame_decode(p, len, known, &f), 0);
	assert_int_equal(f.count, 0);
	assert_int_equal(f.flags, 0);
	len = weir_frame_put_header(p, WEIR_FRAME_F_END, 0, 5, 43);
	assert_int_equal(weir_frame_decode(p, len, known, &f), 0);
	assert_int_equal(f.flags, WEIR_FRAME_F_END);
}

static void
should_keep_frame_sources_apart_from_moldudp64_sessions(void **state)
{
	uint8_t key[16];
	char name[32];
	weir_frame_source_key(key, 18446744073709551615ull);
	weir_source_format(key, name, sizeof(name));
	assert_string_equal(name, "wf:18446744073709551615");
	assert_int_equal(key[0], 0xFF); /* a MoldUDP64 session is ASCII */
	uint8_t mold[16] = "ITCH01    ";
	weir_source_format(mold, name, sizeof(name));
	assert_string_equal(name, "ITCH01");
}

static void
should_reject_events_numbered_past_the_last_sequence(void **state)
{
	uint8_t p[128];
	struct weir_frame f;
	uint32_t len = frame_with(p, 2);
	weir_put_be64(p + 16, UINT64_MAX - 1); /* the last two: fine */
	assert_int_equal(weir_frame_decode(p, len, known, &f), 0);
	weir_put_be64(p + 16, UINT64_MAX); /* the second would be 0 */
	assert_int_equal(weir_frame_decode(p, len, known, &f), WEIR_DL_seq_wrap);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(should_reject_events_numbered_past_the_last_sequence, setup),
		cmocka_unit_test_setup(should_reject_every_length_shorter_than_the_header, setup),
		cmocka_unit_test_setup(should_reject_a_wrong_magic_version_or_flags, setup),
		cmocka_unit_test_setup(should_reject_every_cut_inside_the_events, setup),
		cmocka_unit_test_setup(should_reject_a_topic_no_frame_topic_line_maps, setup),
		cmocka_unit_test_setup(should_decode_every_event_with_topic_and_time, setup),
		cmocka_unit_test_setup(should_read_heartbeat_and_end_of_source, setup),
		cmocka_unit_test_setup(should_keep_frame_sources_apart_from_moldudp64_sessions, setup),
	};
	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
