/*
 * MoldUDP64 (NASDAQ): 20-byte header, session (10 bytes ASCII), sequence of
 * the first message (u64 BE), message count (u16 BE); then count blocks of
 * u16 BE length + data.  Count 0 is a heartbeat, 0xFFFF the end of session.
 * Decoding and encoding live together so weir-gen writes what the worker reads.
 */
#ifndef WEIR_MOLDUDP64_H
#define WEIR_MOLDUDP64_H

#include <stdint.h>

#include "weir_bytes.h"

#define WEIR_MOLD_HEADER_BYTES 20u
#define WEIR_MOLD_SESSION_BYTES 10u
#define WEIR_MOLD_HEARTBEAT 0u
#define WEIR_MOLD_END_OF_SESSION 0xFFFFu

struct weir_mold_packet {
	const uint8_t *session;      /* 10 bytes, inside the packet */
	uint64_t seq;                /* of the first message; next expected for control packets */
	uint16_t count;
	const uint8_t *blocks;       /* count blocks, every length already checked */
	uint32_t blocks_len;
};

/* weir_mold_decode's walk, for any packet. */
unsigned weir_mold_decode_walk(const uint8_t *p, uint32_t len, struct weir_mold_packet *m);

/* 0 when the packet is whole, else the dead-letter reason.  Walks every
 * block so that the commit pass can trust the lengths.  A packet of one
 * message (a quiet feed's every packet) is whole when its one block ends
 * at the datagram's end: one compare, inline, not the walk's call. */
static inline unsigned
weir_mold_decode(const uint8_t *p, uint32_t len, struct weir_mold_packet *m)
{
	if (len >= WEIR_MOLD_HEADER_BYTES + 2 && weir_be16(p + 18) == 1 &&
	    WEIR_MOLD_HEADER_BYTES + 2u + weir_be16(p + WEIR_MOLD_HEADER_BYTES) == len) {
		*m = (struct weir_mold_packet){ .session = p, .seq = weir_be64(p + 10), .count = 1,
						.blocks = p + WEIR_MOLD_HEADER_BYTES,
						.blocks_len = len - WEIR_MOLD_HEADER_BYTES };
		return 0;
	}
	return weir_mold_decode_walk(p, len, m);
}

/* The next message of a decoded packet; *cursor starts at m->blocks. */
static inline const uint8_t *
weir_mold_next(const uint8_t **cursor, uint16_t *len)
{
	const uint8_t *c = *cursor;
	*len = weir_be16(c);
	*cursor = c + 2 + *len;
	return c + 2;
}

/* Writes a header; session is space padded to 10 bytes. Returns 20. */
uint32_t weir_mold_put_header(uint8_t *p, const char *session, uint64_t seq, uint16_t count);
/* Appends one message block at p; returns the bytes written (2 + len). */
uint32_t weir_mold_put_block(uint8_t *p, const void *msg, uint16_t len);

#endif
