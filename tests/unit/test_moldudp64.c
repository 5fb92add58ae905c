#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "frames.h"
#include "weir_dead_letter.h"

static void
should_reject_every_length_shorter_than_the_header(void **state)
{
	uint8_t p[64];
	struct weir_mold_packet m;
	mold_packet(p, "SESS", 1, 1);
	for (uint32_t len = 0; len < WEIR_MOLD_HEADER_BYTES; len++)
		assert_int_equal(weir_mold_decode(p, len, &m), WEIR_DL_mold_truncated_header);
}

static void
should_reject_a_block_length_running_past_the_end(void **state)
{
	uint8_t p[128];
	struct weir_mold_packet m;
	uint32_t len = mold_packet(p, "SESS", 1, 3);
	/* Every cut inside the blocks is caught, whichever field it lands in. */
	for (uint32_t cut = WEIR_MOLD_HEADER_BYTES; cut < len; cut++)
		assert_int_equal(weir_mold_decode(p, cut, &m), WEIR_DL_mold_truncated_block);
	/* The last block lies by one byte. */
	uint32_t last = len - 4;
	weir_put_be16(p + last, 3);
	assert_int_equal(weir_mold_decode(p, len, &m), WEIR_DL_mold_truncated_block);
}

static void
should_reject_a_count_larger_than_the_blocks_present(void **state)
{
	uint8_t p[128];
	struct weir_mold_packet m;
	uint32_t len = mold_packet(p, "SESS", 1, 2);
	weir_put_be16(p + 18, 3);
	assert_int_equal(weir_mold_decode(p, len, &m), WEIR_DL_mold_truncated_block);
}

static void
should_reject_bytes_after_the_counted_blocks(void **state)
{
	uint8_t p[128];
	struct weir_mold_packet m;
	uint32_t len = mold_packet(p, "SESS", 1, 2);
	weir_put_be16(p + 18, 1);
	assert_int_equal(weir_mold_decode(p, len, &m), WEIR_DL_mold_trailing_bytes);
	len = weir_mold_put_header(p, "SESS", 9, WEIR_MOLD_HEARTBEAT);
	p[len] = 0;
	assert_int_equal(weir_mold_decode(p, len + 1, &m), WEIR_DL_mold_trailing_bytes);
}

static void
should_decode_every_message_in_order(void **state)
{
	uint8_t p[256];
	struct weir_mold_packet m;
	uint32_t len = mold_packet(p, "NASDAQ01", 1000, 12);
	assert_int_equal(weir_mold_decode(p, len, &m), 0);
	assert_memory_equal(m.session, "NASDAQ01  ", 10);
	assert_int_equal(m.seq, 1000);
	assert_int_equal(m.count, 12);
	const uint8_t *c = m.blocks;
	for (unsigned i = 0; i < 12; i++) {
		char want[16];
		uint16_t mlen;
		int wl = snprintf(want, sizeof(want), "m%u", i);
		const uint8_t *msg = weir_mold_next(&c, &mlen);
		assert_int_equal(mlen, wl);
		assert_memory_equal(msg, want, mlen);
	}
	assert_ptr_equal(c, p + len);
}

static void
should_accept_zero_length_messages(void **state)
{
	uint8_t p[64];
	struct weir_mold_packet m;
	uint32_t len = weir_mold_put_header(p, "S", 5, 2);
	len += weir_mold_put_block(p + len, "", 0);
	len += weir_mold_put_block(p + len, "", 0);
	assert_int_equal(weir_mold_decode(p, len, &m), 0);
	assert_int_equal(m.blocks_len, 4);
}

static void
should_read_heartbeat_and_end_of_session_as_control_packets(void **state)
{
	uint8_t p[32];
	struct weir_mold_packet m;
	uint32_t len = weir_mold_put_header(p, "S", 77, WEIR_MOLD_HEARTBEAT);
	assert_int_equal(weir_mold_decode(p, len, &m), 0);
	assert_int_equal(m.count, 0);
	assert_int_equal(m.seq, 77);
	len = weir_mold_put_header(p, "S", 78, WEIR_MOLD_END_OF_SESSION);
	assert_int_equal(weir_mold_decode(p, len, &m), 0);
	assert_int_equal(m.count, 0xFFFF);
	assert_int_equal(m.blocks_len, 0);
}

static void
should_carry_sequence_numbers_near_two_to_the_64(void **state)
{
	uint8_t p[64];
	struct weir_mold_packet m;
	uint32_t len = mold_packet(p, "S", UINT64_MAX - 1, 1);
	assert_int_equal(weir_mold_decode(p, len, &m), 0);
	assert_true(m.seq == UINT64_MAX - 1);
}

/* The one-message packet's inline test says what the walk says: for every
 * block length and the datagram's length about it, the same reason, and
 * for a whole packet the same view of it. */
static void
should_tell_a_one_message_packet_as_the_walk_does(void **state)
{
	static uint8_t p[WEIR_MOLD_HEADER_BYTES + 2 + 700 + 8], msg[700];
	for (unsigned count = 0; count <= 2; count++)
		for (uint32_t blen = 0; blen <= 700; blen++) {
			uint32_t whole = weir_mold_put_header(p, "ONE", 9, (uint16_t)count);
			whole += weir_mold_put_block(p + whole, msg, (uint16_t)blen);
			for (uint32_t len = whole - 3; len <= whole + 3; len++) {
				struct weir_mold_packet fast = { 0 }, walk = { 0 };
				unsigned want = weir_mold_decode_walk(p, len, &walk);
				assert_int_equal(weir_mold_decode(p, len, &fast), want);
				if (want)
					continue;
				assert_ptr_equal(fast.session, walk.session);
				assert_true(fast.seq == walk.seq);
				assert_int_equal(fast.count, walk.count);
				assert_ptr_equal(fast.blocks, walk.blocks);
				assert_int_equal(fast.blocks_len, walk.blocks_len);
			}
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_reject_every_length_shorter_than_the_header),
		cmocka_unit_test(should_reject_a_block_length_running_past_the_end),
		cmocka_unit_test(should_reject_a_count_larger_than_the_blocks_present),
		cmocka_unit_test(should_reject_bytes_after_the_counted_blocks),
		cmocka_unit_test(should_decode_every_message_in_order),
		cmocka_unit_test(should_accept_zero_length_messages),
		cmocka_unit_test(should_read_heartbeat_and_end_of_session_as_control_packets),
		cmocka_unit_test(should_carry_sequence_numbers_near_two_to_the_64),
		cmocka_unit_test(should_tell_a_one_message_packet_as_the_walk_does),
	};
	return cmocka_run_group_tests_name("moldudp64", tests, NULL, NULL);
}
