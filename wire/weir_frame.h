/*
 * The weir frame (docs/weir-frame.md): 24-byte big-endian header, then
 * events of 12-byte header + payload.  Decoding and encoding live together
 * so weir-gen writes what the worker reads.
 */
#ifndef WEIR_FRAME_H
#define WEIR_FRAME_H

#include <stdint.h>

#include "weir_bytes.h"

#define WEIR_FRAME_HEADER_BYTES 24u
#define WEIR_FRAME_EVENT_HEADER_BYTES 12u
#define WEIR_FRAME_VERSION 1u
#define WEIR_FRAME_F_END 0x01u
#define WEIR_FRAME_MAX_TOPIC 255u

struct weir_frame {
	uint8_t flags;
	uint16_t count;
	uint64_t source_id;
	uint64_t first_seq;
	const uint8_t *events;       /* count events, every length already checked */
};

struct weir_frame_event {
	uint16_t len;
	uint16_t topic;
	uint64_t event_time_ns;
	const uint8_t *payload;
};

/* 0 when the frame is whole (and every topic id is one topic_known[]
 * marks), else the dead-letter reason. */
unsigned weir_frame_decode(const uint8_t *p, uint32_t len, const uint8_t topic_known[256], struct weir_frame *f);

/* The next event of a decoded frame; *cursor starts at f->events. */
static inline void
weir_frame_next(const uint8_t **cursor, struct weir_frame_event *e)
{
	const uint8_t *c = *cursor;
	e->len = weir_be16(c);
	e->topic = weir_be16(c + 2);
	e->event_time_ns = weir_be64(c + 4);
	e->payload = c + WEIR_FRAME_EVENT_HEADER_BYTES;
	*cursor = e->payload + e->len;
}

uint32_t weir_frame_put_header(uint8_t *p, uint8_t flags, uint16_t count, uint64_t source_id, uint64_t first_seq);
uint32_t weir_frame_put_event(uint8_t *p, uint16_t topic, uint64_t event_time_ns, const void *payload, uint16_t len);

/* A weir frame source's key in the tracker and the records. */
void weir_frame_source_key(uint8_t key[16], uint64_t source_id);

#endif
