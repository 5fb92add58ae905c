#include "weir_moldudp64.h"
#include "weir_copy.h"
#include "weir_dead_letter.h"

unsigned
weir_mold_decode_walk(const uint8_t *p, uint32_t len, struct weir_mold_packet *m)
{
	if (len < WEIR_MOLD_HEADER_BYTES)
		return WEIR_DL_mold_truncated_header;
	m->session = p;
	m->seq = weir_be64(p + 10);
	m->count = weir_be16(p + 18);
	m->blocks = p + WEIR_MOLD_HEADER_BYTES;
	uint32_t left = len - WEIR_MOLD_HEADER_BYTES;
	if (m->count == WEIR_MOLD_HEARTBEAT || m->count == WEIR_MOLD_END_OF_SESSION) {
		m->blocks_len = 0;
		return left ? WEIR_DL_mold_trailing_bytes : 0;
	}
	/* Each block's end as an offset into the blocks, checked once known:
	 * never past left + 65,537 before the check ends the loop, so 32 bits
	 * hold it (one compare a block fewer than counting down what is left). */
	uint32_t at = 0;
	for (unsigned i = 0; i < m->count; i++) {
		if (at + 2 > left)
			return WEIR_DL_mold_truncated_block;
		at += 2 + (uint32_t)weir_be16(m->blocks + at);
		if (at > left)
			return WEIR_DL_mold_truncated_block;
	}
	if (at != left)
		return WEIR_DL_mold_trailing_bytes;
	if (m->seq + (m->count - 1u) < m->seq)
		return WEIR_DL_seq_wrap; /* the protocol's 64-bit sequence has no wrap */
	m->blocks_len = at;
	return 0;
}

uint32_t
weir_mold_put_header(uint8_t *p, const char *session, uint64_t seq, uint16_t count)
{
	size_t l = strnlen(session, WEIR_MOLD_SESSION_BYTES);
	memset(p, ' ', WEIR_MOLD_SESSION_BYTES);
	memcpy(p, session, l);
	weir_put_be64(p + 10, seq);
	weir_put_be16(p + 18, count);
	return WEIR_MOLD_HEADER_BYTES;
}

uint32_t
weir_mold_put_block(uint8_t *p, const void *msg, uint16_t len)
{
	weir_put_be16(p, len);
	weir_copy_small(p + 2, msg, len); /* no call into memcpy: weir-replay writes one an event */
	return 2u + len;
}
