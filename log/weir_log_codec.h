/* The entry codec inside a batch (internal to log/): the writer encodes an
 * entry against the one before it, the reader fills back in what was left
 * out.  docs/formats.md has the encoding. */
#ifndef WEIR_LOG_CODEC_H
#define WEIR_LOG_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "weir_copy.h"
#include "weir_log.h"

/*
 * Entry encoding inside a batch.  The first byte says which fields follow;
 * a field left out is what the codec predicted from the entry before: the
 * ring position right after it, the same rx time, header, source and event
 * time, the next sequence number, count 0, no rules.  Integers are LEB128
 * varints, differences zigzag-encoded.  The payload length and payload end
 * every entry.
 */
enum {
	WEIR_LOG_ENC_RING = 1u << 0,
	WEIR_LOG_ENC_RX = 1u << 1,
	WEIR_LOG_ENC_HDR = 1u << 2,           /* kind, flags, topic, reason, port */
	WEIR_LOG_ENC_SOURCE = 1u << 3,        /* u8 length (trailing zeros cut), bytes */
	WEIR_LOG_ENC_SEQ = 1u << 4,
	WEIR_LOG_ENC_COUNT = 1u << 5,
	WEIR_LOG_ENC_EVENT_TIME = 1u << 6,
	WEIR_LOG_ENC_RULES = 1u << 7,         /* count, then each id */
};

/* The most an entry can take: every field present at its widest. */
static inline size_t
weir_log_entry_encoded_max(const struct weir_record *r)
{
	return 1 + 10 + 10 + 5 * 3 + 1 + WEIR_SOURCE_BYTES + 10 + 10 + 10 + 3 + 5u * r->n_rules + 5 +
	       weir_record_payload_len(r);
}

static inline uint8_t *
weir_log_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)v | 0x80;
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint64_t
weir_log_zigzag(uint64_t diff)
{
	return (diff << 1) ^ (uint64_t)((int64_t)diff >> 63);
}

static inline void
weir_log_codec_reset(struct weir_log_codec *c, uint64_t base_ring_pos)
{
	memset(&c->prev, 0, sizeof(c->prev));
	c->next_ring_pos = base_ring_pos;
}

/* Encodes r at out (weir_log_entry_encoded_max() bytes at least); the
 * bytes written.  Inline: the drain calls it once a record. */
static inline size_t
weir_log_entry_encode(struct weir_log_codec *c, uint8_t *out, uint64_t ring_pos, const struct weir_record *r)
{
	const struct weir_record *pv = &c->prev;
	uint8_t *p = out + 1;
	unsigned f = 0;
	if (ring_pos != c->next_ring_pos) {
		f |= WEIR_LOG_ENC_RING;
		p = weir_log_put_varint(p, weir_log_zigzag(ring_pos - c->next_ring_pos));
	}
	if (r->rx_ns != pv->rx_ns) {
		f |= WEIR_LOG_ENC_RX;
		p = weir_log_put_varint(p, weir_log_zigzag(r->rx_ns - pv->rx_ns));
	}
	if (r->kind != pv->kind || r->flags != pv->flags || r->topic != pv->topic || r->reason != pv->reason ||
	    r->port != pv->port) {
		f |= WEIR_LOG_ENC_HDR;
		p = weir_log_put_varint(p, r->kind);
		p = weir_log_put_varint(p, r->flags);
		p = weir_log_put_varint(p, r->topic);
		p = weir_log_put_varint(p, r->reason);
		p = weir_log_put_varint(p, r->port);
	}
	if (memcmp(r->source, pv->source, WEIR_SOURCE_BYTES) != 0) {
		unsigned n = WEIR_SOURCE_BYTES;
		while (n && r->source[n - 1] == 0)
			n--;
		f |= WEIR_LOG_ENC_SOURCE;
		*p++ = (uint8_t)n;
		memcpy(p, r->source, n);
		p += n;
	}
	if (r->seq != pv->seq + 1) {
		f |= WEIR_LOG_ENC_SEQ;
		p = weir_log_put_varint(p, weir_log_zigzag(r->seq - pv->seq - 1));
	}
	if (r->count) {
		f |= WEIR_LOG_ENC_COUNT;
		p = weir_log_put_varint(p, r->count);
	}
	if (r->event_time_ns != pv->event_time_ns) {
		f |= WEIR_LOG_ENC_EVENT_TIME;
		p = weir_log_put_varint(p, weir_log_zigzag(r->event_time_ns - pv->event_time_ns));
	}
	if (r->n_rules) {
		const uint32_t *rules = weir_record_rules(r);
		f |= WEIR_LOG_ENC_RULES;
		p = weir_log_put_varint(p, r->n_rules);
		for (unsigned i = 0; i < r->n_rules; i++)
			p = weir_log_put_varint(p, rules[i]);
	}
	uint32_t plen = weir_record_payload_len(r);
	p = weir_log_put_varint(p, plen);
	weir_copy_small(p, weir_record_payload(r), plen);
	p += plen;
	out[0] = (uint8_t)f;
	c->prev = *r;
	c->next_ring_pos = ring_pos + WEIR_ALIGN8(r->len_bytes);
	return (size_t)(p - out);
}

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

/* Decodes the entry at *pp over h, which holds the batch's entry before it
 * (zeros at its start, as weir_log_codec_reset leaves c->prev).  h is
 * &c->prev to check an entry only; else the caller's own record, which
 * must have room for the entry: its rule ids go behind it, and its payload
 * too unless payload is given (then *payload points at it where it lies,
 * uncopied).  NULL, or what is wrong (h is then part-decoded: a batch is
 * not read on past an entry that does not decode).  Inline: a reader
 * taking entries one after another makes no call for each (bench_log_reader). */
static inline const char *
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
#endif
