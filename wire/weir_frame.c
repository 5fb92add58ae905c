#include <string.h>

#include "weir_frame.h"
#include "weir_dead_letter.h"

unsigned
weir_frame_decode(const uint8_t *p, uint32_t len, const uint8_t topic_known[256], struct weir_frame *f)
{
	if (len < WEIR_FRAME_HEADER_BYTES)
		return WEIR_DL_frame_truncated_header;
	if (memcmp(p, "WEIR", 4) != 0)
		return WEIR_DL_frame_bad_magic;
	if (p[4] != WEIR_FRAME_VERSION)
		return WEIR_DL_frame_bad_version;
	f->flags = p[5];
	f->count = weir_be16(p + 6);
	f->source_id = weir_be64(p + 8);
	f->first_seq = weir_be64(p + 16);
	f->events = p + WEIR_FRAME_HEADER_BYTES;
	if ((f->flags & ~WEIR_FRAME_F_END) || ((f->flags & WEIR_FRAME_F_END) && f->count))
		return WEIR_DL_frame_bad_flags;
	uint32_t left = len - WEIR_FRAME_HEADER_BYTES;
	const uint8_t *c = f->events;
	for (unsigned i = 0; i < f->count; i++) {
		if (left < WEIR_FRAME_EVENT_HEADER_BYTES)
			return WEIR_DL_frame_truncated_event;
		uint32_t elen = weir_be16(c);
		uint16_t topic = weir_be16(c + 2);
		if (elen > left - WEIR_FRAME_EVENT_HEADER_BYTES)
			return WEIR_DL_frame_truncated_event;
		if (topic > WEIR_FRAME_MAX_TOPIC || (topic && !topic_known[topic]))
			return WEIR_DL_frame_unknown_topic;
		c += WEIR_FRAME_EVENT_HEADER_BYTES + elen;
		left -= WEIR_FRAME_EVENT_HEADER_BYTES + elen;
	}
	if (left)
		return WEIR_DL_frame_trailing_bytes;
	if (f->count && f->first_seq + (f->count - 1u) < f->first_seq)
		return WEIR_DL_seq_wrap;
	return 0;
}

uint32_t
weir_frame_put_header(uint8_t *p, uint8_t flags, uint16_t count, uint64_t source_id, uint64_t first_seq)
{
	memcpy(p, "WEIR", 4);
	p[4] = WEIR_FRAME_VERSION;
	p[5] = flags;
	weir_put_be16(p + 6, count);
	weir_put_be64(p + 8, source_id);
	weir_put_be64(p + 16, first_seq);
	return WEIR_FRAME_HEADER_BYTES;
}

uint32_t
weir_frame_put_event(uint8_t *p, uint16_t topic, uint64_t event_time_ns, const void *payload, uint16_t len)
{
	weir_put_be16(p, len);
	weir_put_be16(p + 2, topic);
	weir_put_be64(p + 4, event_time_ns);
	memcpy(p + WEIR_FRAME_EVENT_HEADER_BYTES, payload, len);
	return WEIR_FRAME_EVENT_HEADER_BYTES + len;
}

void
weir_frame_source_key(uint8_t key[16], uint64_t source_id)
{
	/* 0xFF never starts a MoldUDP64 session (ASCII): the two key spaces are apart. */
	memset(key, 0, 16);
	key[0] = 0xFF;
	key[1] = 'W';
	key[2] = 'F';
	weir_put_be64(key + 8, source_id);
}
