#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "weir_log_codec.h"

static inline uint64_t
weir_log_unzigzag(uint64_t v)
{
	return (v >> 1) ^ (0 - (v & 1));
}

static inline bool
weir_log_get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned shift = 0; *pp < end; shift += 7) {
		uint8_t b = *(*pp)++;
		if (shift == 63 && b > 1)
			return false;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
		if (shift == 63)
			return false;
	}
	return false;
}

const char *
weir_log_entry_decode(struct weir_log_codec *c, struct weir_record *h, const uint8_t **pp, const uint8_t *end,
		      uint64_t *ring_pos, const uint8_t **payload)
{
	const uint8_t *p = *pp;
	if (p >= end)
		return "missing";
	unsigned f = *p++;
	/* Decoded over the entry before, where the caller reads it: a header
	 * decoded in one place and copied to another cost a store-forwarding
	 * stall (the copy's 16-byte loads over the fields' narrower stores),
	 * a quarter of the decode's time (perf annotate, AMD EPYC). */
	bool body = h != &c->prev;
	uint64_t v, pos = c->next_ring_pos;
	if (f & WEIR_LOG_ENC_RING) {
		if (!weir_log_get_varint(&p, end, &v))
			return "ring position does not decode";
		pos += weir_log_unzigzag(v);
	}
	if (f & WEIR_LOG_ENC_RX) {
		if (!weir_log_get_varint(&p, end, &v))
			return "rx time does not decode";
		h->rx_ns += weir_log_unzigzag(v);
	}
	if (f & WEIR_LOG_ENC_HDR) {
		uint64_t x[5];
		for (unsigned i = 0; i < 5; i++)
			if (!weir_log_get_varint(&p, end, &x[i]) || x[i] > UINT16_MAX)
				return "header fields do not decode";
		h->kind = (uint16_t)x[0];
		h->flags = (uint16_t)x[1];
		h->topic = (uint16_t)x[2];
		h->reason = (uint16_t)x[3];
		h->port = (uint16_t)x[4];
	}
	if (f & WEIR_LOG_ENC_SOURCE) {
		if (p >= end || *p > WEIR_SOURCE_BYTES || (size_t)(end - p - 1) < *p)
			return "source does not decode";
		unsigned n = *p++;
		memset(h->source, 0, sizeof(h->source));
		memcpy(h->source, p, n);
		p += n;
	}
	h->seq++;
	if (f & WEIR_LOG_ENC_SEQ) {
		if (!weir_log_get_varint(&p, end, &v))
			return "sequence number does not decode";
		h->seq += weir_log_unzigzag(v);
	}
	h->count = 0;
	if ((f & WEIR_LOG_ENC_COUNT) && !weir_log_get_varint(&p, end, &h->count))
		return "count does not decode";
	if (f & WEIR_LOG_ENC_EVENT_TIME) {
		if (!weir_log_get_varint(&p, end, &v))
			return "event time does not decode";
		h->event_time_ns += weir_log_unzigzag(v);
	}
	uint64_t n_rules = 0;
	if (f & WEIR_LOG_ENC_RULES) {
		if (!weir_log_get_varint(&p, end, &n_rules) || n_rules == 0 || n_rules > UINT16_MAX)
			return "rule count does not decode";
		uint32_t *rules = body ? (uint32_t *)(h + 1) : NULL;
		for (uint64_t i = 0; i < n_rules; i++) {
			if (!weir_log_get_varint(&p, end, &v) || v > UINT32_MAX)
				return "rule id does not decode";
			if (rules)
				rules[i] = (uint32_t)v;
		}
	}
	uint64_t plen;
	if (!weir_log_get_varint(&p, end, &plen) || plen > (uint64_t)(end - p))
		return "payload runs past the batch";
	h->n_rules = (uint16_t)n_rules;
	h->len_bytes = (uint32_t)(sizeof(*h) + 4 * n_rules + plen);
	if (body) {
		if (payload)
			*payload = p;
		else
			memcpy((uint8_t *)(h + 1) + 4 * n_rules, p, plen);
	}
	p += plen;
	c->next_ring_pos = pos + WEIR_ALIGN8(h->len_bytes);
	*ring_pos = pos;
	*pp = p;
	return NULL;
}
