#include <string.h>

#include "weir_moldudp64.h"
#include "weir_pipeline.h"

void
weir_decoder_table_build(struct weir_decoder_table *t, const struct weir_config *cfg)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < cfg->n_decoders; i++) {
		t->decoders[i] = cfg->decoders[i];
		t->by_port[cfg->decoders[i].udp_port] = (uint8_t)(i + 1);
	}
}

static inline void
fill_header(struct weir_record *r, uint16_t kind, uint16_t topic, uint16_t port, uint64_t now_ns)
{
	/* len_bytes was set by weir_ring_reserve */
	r->kind = kind;
	r->flags = 0;
	r->topic = topic;
	r->n_rules = 0;
	r->reason = 0;
	r->port = port;
	r->count = 0;
	r->rx_ns = now_ns;
	r->event_time_ns = 0;
}

static inline void
set_mold_source(struct weir_record *r, const uint8_t *session)
{
	memcpy(r->source, session, WEIR_MOLD_SESSION_BYTES);
	memset(r->source + WEIR_MOLD_SESSION_BYTES, 0, WEIR_SOURCE_BYTES - WEIR_MOLD_SESSION_BYTES);
}

/*
 * Backpressure: show the consumer what is done and wait for room; the RX
 * queue fills meanwhile and the NIC counts what it misses.  False when the
 * policy is drop or the worker is stopping: the caller counts the drop.
 */
static bool
wait_for_room(struct weir_pipeline *pl, uint64_t now_ns)
{
	if (pl->full_policy == WEIR_FULL_DROP || *pl->quit)
		return false;
	pl->c.backpressure_waits++;
	weir_ring_publish(&pl->ring, now_ns);
	__builtin_ia32_pause();
	return true;
}

/* All of a packet's records, or none: false when the ring has no room. */
static bool
commit_mold(struct weir_pipeline *pl, const struct weir_mold_packet *m, uint16_t topic, uint16_t port,
	    uint64_t now_ns)
{
	uint64_t undo = pl->ring.tail;
	if (m->count == WEIR_MOLD_END_OF_SESSION) {
		struct weir_record *r = weir_ring_reserve(&pl->ring, sizeof(*r));
		if (r == NULL)
			return false;
		fill_header(r, WEIR_REC_END_OF_SESSION, topic, port, now_ns);
		set_mold_source(r, m->session);
		r->seq = m->seq;
		return true;
	}
	const uint8_t *cursor = m->blocks;
	for (unsigned i = 0; i < m->count; i++) {
		uint16_t len;
		const uint8_t *msg = weir_mold_next(&cursor, &len);
		struct weir_record *r = weir_ring_reserve(&pl->ring, (uint32_t)sizeof(*r) + len);
		if (r == NULL) {
			pl->ring.tail = undo; /* unpublished: the consumer never saw it */
			return false;
		}
		fill_header(r, WEIR_REC_EVENT, topic, port, now_ns);
		set_mold_source(r, m->session);
		r->seq = m->seq + i;
		memcpy(r + 1, msg, len);
	}
	return true;
}

static void
decode_mold(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, const struct weir_udp_view *v,
	    const struct weir_decoder_cfg *d, uint16_t port, uint64_t now_ns)
{
	struct weir_mold_packet m;
	unsigned reason = weir_mold_decode(v->payload, v->payload_len, &m);
	if (reason) {
		weir_pipeline_dead_letter(pl, frame, len, reason, port, now_ns);
		return;
	}
	if (m.count == WEIR_MOLD_HEARTBEAT) {
		/* Carries the next expected sequence: the sequence stage's input. */
		pl->c.heartbeats++;
		pl->c.accepted_packets++;
		return;
	}
	unsigned messages = m.count == WEIR_MOLD_END_OF_SESSION ? 0 : m.count;
	/* A packet that could never fit must not stall a backpressure wait. */
	bool can_fit = (uint64_t)messages * (sizeof(struct weir_record) + 8) + m.blocks_len <=
		       pl->ring.size_bytes / 2;
	/* Sequence (issue 3) and match (issue 4) stages go here, before commit. */
	while (!commit_mold(pl, &m, d->topic, port, now_ns)) {
		if (!can_fit || !wait_for_room(pl, now_ns)) {
			pl->c.ring_full_packets++;
			pl->c.ring_full_messages += messages;
			pl->c.messages += messages;
			return;
		}
	}
	pl->c.accepted_packets++;
	pl->c.messages += messages;
	pl->c.event_records += messages;
	if (m.count == WEIR_MOLD_END_OF_SESSION)
		pl->c.end_of_session++;
}

void
weir_pipeline_dead_letter(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, unsigned reason,
			  uint16_t port, uint64_t now_ns)
{
	pl->c.dead_letter_packets++;
	pl->c.dead_letter[reason]++;
	uint32_t keep = len < pl->dead_letter_keep_bytes ? len : pl->dead_letter_keep_bytes;
	struct weir_record *r;
	while ((r = weir_ring_reserve(&pl->ring, (uint32_t)sizeof(*r) + keep)) == NULL) {
		if (!wait_for_room(pl, now_ns)) {
			pl->c.dead_letter_not_kept++;
			return;
		}
	}
	fill_header(r, WEIR_REC_DEAD_LETTER, WEIR_TOPIC_DEAD_LETTER, port, now_ns);
	r->reason = (uint16_t)reason;
	r->flags = keep < len ? WEIR_REC_F_TRUNCATED : 0;
	r->count = len; /* the frame's real length */
	r->seq = 0;
	memset(r->source, 0, sizeof(r->source));
	memcpy(r + 1, frame, keep);
	pl->c.dead_letter_records++;
}

void
weir_pipeline_packet(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, enum weir_csum ip_csum,
		     enum weir_csum l4_csum, uint16_t port, uint64_t now_ns)
{
	struct weir_udp_view v;
	unsigned reason = 0;
	pl->c.rx_packets++;
	pl->c.rx_bytes += len;
	switch (weir_parse_udp(frame, len, ip_csum, l4_csum, &v, &reason)) {
	case WEIR_PARSE_FILTERED:
		pl->c.filtered_packets++;
		return;
	case WEIR_PARSE_DEAD:
		weir_pipeline_dead_letter(pl, frame, len, reason, port, now_ns);
		return;
	case WEIR_PARSE_OK:
		break;
	}
	unsigned di = pl->decoders->by_port[v.dst_port];
	if (di == 0) {
		pl->c.filtered_packets++;
		return;
	}
	const struct weir_decoder_cfg *d = &pl->decoders->decoders[di - 1];
	decode_mold(pl, frame, len, &v, d, port, now_ns);
}
