#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "weir_frame.h"
#include "weir_moldudp64.h"
#include "weir_mold_records.h"
#include "weir_allow.h"
#include "weir_copy.h"
#include "weir_csum.h"
#include "weir_disposition.h"
#include "weir_pipeline.h"
#include "weir_pipeline_pvt.h"

#define TICK_EVERY_NS 100000ull

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "source keys are composed as little-endian words (decode_mold)"
#endif

/* One packet's events, whatever the framing: what the commit loop walks. */
struct event_batch {
	enum weir_decoder_type type;
	uint8_t key[WEIR_SOURCE_BYTES];
	uint64_t first_seq;
	unsigned count;
	const uint8_t *events;
	uint32_t events_len;
};

static bool
commit_end_of_session(struct weir_pipeline *pl, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t next_seq,
		      struct weir_seq_source *src, uint16_t topic, uint16_t port, const struct weir_seq_line *ln,
		      uint64_t now_ns)
{
	weir_reorder_write_held_first(pl, src, now_ns);
	uint64_t need = sizeof(struct weir_record) * (2u + (src ? src->n_gaps : 0u));
	if (!weir_pipeline_room_for_input(pl, need, now_ns))
		return false;
	struct weir_record *r = weir_ring_reserve(&pl->ring, sizeof(*r));
	weir_pipeline_fill_header(r, WEIR_REC_END_OF_SESSION, topic, port, now_ns);
	memcpy(r->source, key, WEIR_SOURCE_BYTES);
	r->seq = next_seq;
	weir_seq_end_of_session(&pl->seq, src, next_seq, ln, now_ns);
	return true;
}

/* The event at *cursor, whatever the framing: its payload and length; a
 * weir frame's own topic (where it names one) and event time. */
static inline const uint8_t *
next_event(const struct weir_pipeline *pl, enum weir_decoder_type type, const uint8_t **cursor, uint16_t *len,
	   uint16_t *topic, uint64_t *event_time_ns)
{
	if (type == WEIR_DECODER_MOLDUDP64)
		return weir_mold_next(cursor, len);
	struct weir_frame_event e;
	weir_frame_next(cursor, &e);
	*len = e.len;
	*event_time_ns = e.event_time_ns;
	if (e.topic)
		*topic = pl->decoders->frame_topic[e.topic];
	return e.payload;
}

/* commit_run's records from at, for one framing (a constant): a weir
 * frame's here, each event with its own topic and time. */
static inline __attribute__((always_inline)) uint8_t *
write_run(struct weir_pipeline *pl, const struct event_batch *b, struct weir_seq_source *src,
	  const struct weir_record *head, uint8_t *at, uint64_t now_ns, enum weir_decoder_type type)
{
	if (type == WEIR_DECODER_MOLDUDP64)
		return weir_mold_records(b->events, b->first_seq, b->count, head, at);
	const uint8_t *cursor = b->events;
	const uint64_t first = b->first_seq, count = b->count; /* not read again past the records' stores */
	const struct weir_record h = *head; /* kept in registers: r might alias *head, read again each record */
	for (unsigned i = 0; i < count; i++) {
		struct weir_record *r = (struct weir_record *)at;
		*r = h;
		uint16_t len;
		const uint8_t *payload = next_event(pl, type, &cursor, &len, &r->topic, &r->event_time_ns);
		const uint32_t rec_len = (uint32_t)sizeof(*r) + len;
		r->len_bytes = rec_len;
		r->seq = first + i;
		if (type == WEIR_DECODER_WEIRFRAME)
			weir_seq_note_lateness(&pl->seq, src, now_ns, r->event_time_ns);
		weir_copy_small((uint8_t *)(r + 1), payload, len);
		at += WEIR_ALIGN8(rec_len);
	}
	return at;
}

/*
 * The usual packet's events (in order, no rules, no reorder window) under
 * one ring reservation, each header a copy of one made for the packet with
 * its length, number (and a frame's topic and time) put in.  False, nothing
 * written, when the ring has not the room at once: the caller's loop then
 * takes them one by one.
 */
static inline __attribute__((always_inline)) bool
commit_run(struct weir_pipeline *pl, const struct event_batch *b, struct weir_seq_source *src, uint16_t topic,
	   uint16_t port, uint16_t flags, struct weir_line_counters *lc, uint64_t now_ns)
{
	/* A record is 64 bytes, the event's payload (no more than its bytes on
	 * the wire) and up to 7 bytes of alignment. */
	uint64_t most = (uint64_t)b->count * (sizeof(struct weir_record) + 7) + b->events_len;
	uint8_t *start = weir_ring_span(&pl->ring, most);
	if (start == NULL)
		return false;
	struct weir_record head;
	weir_pipeline_fill_header(&head, WEIR_REC_EVENT, topic, port, now_ns);
	head.flags = flags;
	weir_pipeline_rx_time(pl, &head);
	memcpy(head.source, b->key, WEIR_SOURCE_BYTES);
	uint8_t *end = b->type == WEIR_DECODER_MOLDUDP64
			       ? write_run(pl, b, src, &head, start, now_ns, WEIR_DECODER_MOLDUDP64)
			       : write_run(pl, b, src, &head, start, now_ns, WEIR_DECODER_WEIRFRAME);
	weir_ring_span_done(&pl->ring, (uint64_t)(end - start));
	pl->c.event_records += b->count;
	if (lc)
		lc->won += b->count;
	return true;
}

/*
 * The events of one packet.  Room for every record (and LOSS records a
 * restart may write) is made sure of before the tracker sees the packet:
 * a packet dropped for want of room was never tracked, so the tracker sees a
 * gap there and the log gets a LOSS record, not a silent hole.
 */
static inline __attribute__((always_inline)) bool
commit_events_as(struct weir_pipeline *pl, const struct event_batch *b, struct weir_seq_source *src, uint16_t topic,
		 uint16_t port, uint16_t flags, const struct weir_seq_line *ln, struct weir_line_counters *lc,
		 uint64_t now_ns, const bool extras)
{
	uint64_t need = (uint64_t)b->count * (sizeof(struct weir_record) + 8 + 4 * WEIR_MAX_MATCHES) + b->events_len +
			sizeof(struct weir_record) * (2u + (src ? src->n_gaps : 0u)) + 2048 + 64;
	if (!weir_pipeline_room_for_input(pl, need, now_ns))
		return false;
	const uint8_t *cursor = b->events;
	unsigned committed = 0;
	/* The usual packet continues its source exactly: tracked at once, not
	 * event by event (8 events a packet: 259 -> 216 ns, median of 5). */
	const bool in_order = weir_seq_in_order_run(&pl->seq, src, b->first_seq, b->count, ln, now_ns);
	if (in_order && (!extras || (!pl->rules && !pl->ro.max_events)) &&
	    commit_run(pl, b, src, topic, port, flags, lc, now_ns)) {
		if (ln)
			weir_seq_lines_settle(&pl->seq, src, now_ns);
		return true;
	}
	for (unsigned i = 0; i < b->count; i++) {
		uint16_t len, ev_topic = topic;
		uint64_t event_time_ns = 0;
		const uint8_t *payload = next_event(pl, b->type, &cursor, &len, &ev_topic, &event_time_ns);
		uint64_t seq = b->first_seq + i;
		enum weir_seq_class cls = WEIR_SEQ_IN_ORDER;
		if (!in_order) /* the server's answers never start an ended session again */
			cls = flags & WEIR_REC_F_RETRANSMITTED ? weir_seq_event_retransmitted(&pl->seq, src, seq, now_ns)
							       : weir_seq_event_line(&pl->seq, src, seq, ln, now_ns);
		if (cls == WEIR_SEQ_DUPLICATE || cls == WEIR_SEQ_DROPPED || cls == WEIR_SEQ_ARBITRATED) {
			if (lc) /* a line's own repeat, or the other line's event */
				*(cls == WEIR_SEQ_ARBITRATED ? &lc->arbitrated : &lc->duplicates) += 1;
			continue;
		}
		if (lc) {
			lc->won++;
			if (cls == WEIR_SEQ_LATE_FILL)
				weir_line_late(lc, src, ln, seq);
		}
		weir_seq_note_lateness(&pl->seq, src, now_ns, event_time_ns);
		uint32_t ids[WEIR_MAX_MATCHES];
		uint16_t n_ids = 0;
		if (extras && pl->rules && !weir_pipeline_match(pl, payload, len, (uint8_t)b->type, b->key, &ev_topic, ids, &n_ids))
			continue;
		uint32_t rec_len = (uint32_t)sizeof(struct weir_record) + 4u * n_ids + len;
		uint32_t slot = WEIR_REORDER_NONE;
		struct weir_record *r = extras && pl->ro.max_events && src ? weir_reorder_place(pl, src, seq, rec_len, &slot, now_ns)
								 : NULL;
		if (r == NULL)
			r = weir_ring_reserve(&pl->ring, rec_len);
		if (r == NULL) {
			/* Drop policy, a full window's release took this packet's room and no
			 * slot was free: counted, and the log says so. */
			pl->c.ring_full_messages++;
			weir_pipeline_on_loss(pl, src, seq, 1, now_ns);
			continue;
		}
		weir_pipeline_fill_header(r, WEIR_REC_EVENT, ev_topic, port, now_ns);
		r->flags = flags | (cls == WEIR_SEQ_LATE_FILL ? WEIR_REC_F_LATE : 0);
		weir_pipeline_rx_time(pl, r);
		memcpy(r->source, b->key, WEIR_SOURCE_BYTES);
		r->seq = seq;
		r->event_time_ns = event_time_ns;
		r->n_rules = n_ids;
		if (n_ids) /* a variable-length memcpy is a call: none for the usual event, matched by no rule */
			memcpy(r + 1, ids, 4u * n_ids);
		weir_copy_small((uint8_t *)(r + 1) + 4u * n_ids, payload, len);
		if (slot != WEIR_REORDER_NONE)
			weir_reorder_keep(pl, src, slot, now_ns);
		else
			committed++;
	}
	pl->c.event_records += committed;
	if (ln)
		weir_seq_lines_settle(&pl->seq, src, now_ns);
	/* Late fills may have closed what kept held events back. */
	if (extras && pl->ro.max_events && src && weir_reorder_holding(&pl->ro, weir_seq_index(&pl->seq, src)))
		weir_reorder_release(pl, src, false, now_ns);
	return true;
}

/* Two copies: one for any configuration, one compiled without the tests of
 * rules and the reorder window (the plain and lines shapes), inlined into
 * their tracking loops with commit_run: as two calls deep, GCC's choice,
 * their prologues and epilogues were 57 of a one-event packet's 697
 * instructions (callgrind, BM_pipeline_burst/1). */
static bool
commit_events(struct weir_pipeline *pl, const struct event_batch *b, struct weir_seq_source *src, uint16_t topic,
	      uint16_t port, uint16_t flags, const struct weir_seq_line *ln, struct weir_line_counters *lc,
	      uint64_t now_ns)
{
	return commit_events_as(pl, b, src, topic, port, flags, ln, lc, now_ns, true);
}

static inline __attribute__((always_inline)) bool
commit_events_lean(struct weir_pipeline *pl, const struct event_batch *b, struct weir_seq_source *src,
		   uint16_t topic, uint16_t port, uint16_t flags, const struct weir_seq_line *ln,
		   struct weir_line_counters *lc, uint64_t now_ns)
{
	return commit_events_as(pl, b, src, topic, port, flags, ln, lc, now_ns, false);
}

/* For one shape (a constant): the copy that tests what it may have. */
static inline __attribute__((always_inline)) bool
commit_events_in(struct weir_pipeline *pl, const struct event_batch *b, struct weir_seq_source *src, uint16_t topic,
		 uint16_t port, uint16_t flags, const struct weir_seq_line *ln, struct weir_line_counters *lc,
		 uint64_t now_ns, const enum weir_pipeline_shape shape)
{
	return WEIR_MAY_EXTRAS(shape) ? commit_events(pl, b, src, topic, port, flags, ln, lc, now_ns)
				 : commit_events_lean(pl, b, src, topic, port, flags, ln, lc, now_ns);
}

static inline void
learn_peer(struct weir_port_peer *p, const uint8_t *frame, const struct weir_udp_view *v)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	const uint8_t *dst = v->src_addr + (v->ip_version == 6 ? 16 : 4); /* the destination follows the source */
	bool group = v->ip_version == 6 ? dst[0] == 0xff : (dst[0] >> 4) == 0xE;
	memcpy(p->peer_mac, &eth->src_addr, RTE_ETHER_ADDR_LEN);
	if (group) { /* who sends, not who we are */
		p->known |= p->addr_set && p->port_mac_set && v->ip_version == 4;
		return;
	}
	if (!p->port_mac_set)
		memcpy(p->local_mac, &eth->dst_addr, RTE_ETHER_ADDR_LEN);
	if (v->ip_version == 6) {
		memcpy(p->local_ip6, dst, 16);
		p->known6 = 1;
	} else {
		if (!p->addr_set)
			memcpy(p->local_ip, dst, 4);
		p->known = 1;
	}
}

/* Whether the packet came from the feed's retransmission server. */
static inline bool
from_rerequest_server(const struct weir_decoder_cfg *d, const struct weir_udp_view *v)
{
	if (v->src_port != __builtin_bswap16(d->rerequest_port) || v->ip_version != d->rerequest_family)
		return false;
	return v->ip_version == 6 ? memcmp(v->src_addr, d->rerequest_ip6, 16) == 0
				  : memcmp(v->src_addr, &d->rerequest_ip, 4) == 0;
}

static uint8_t unauthorized(struct weir_pipeline *pl, const struct weir_allow *al, const uint8_t *frame,
			    uint32_t len, unsigned reason, uint16_t port, uint64_t now_ns);

/* The source of key, made on first sight.  Apart, and not inlined: the
 * usual packet's source is the one found last (weir_seq_recent), and its
 * origin built on every packet was 12 of a one-event packet's 617
 * instructions. */
static __attribute__((noinline)) struct weir_seq_source *
source_of(struct weir_pipeline *pl, const uint8_t key[WEIR_SOURCE_BYTES], unsigned decoder, uint16_t port,
	  uint64_t now_ns)
{
	const struct weir_decoder_cfg *d = &pl->decoders->decoders[decoder];
	struct weir_seq_origin origin = { .topic = d->topic, .port = port, .decoder = (uint8_t)decoder,
					  .can_request = d->rerequest_family != 0 };
	return weir_seq_source(&pl->seq, key, &origin, now_ns);
}

/* Heartbeat, end of session or data: the framing-independent rest of a packet. */
static inline __attribute__((always_inline)) uint8_t
sequence_and_commit(struct weir_pipeline *pl, const struct event_batch *b, bool heartbeat, bool end,
		    const uint8_t *frame, uint32_t len, const struct weir_udp_view *v, unsigned decoder, uint16_t port,
		    unsigned line, uint64_t now_ns, const enum weir_pipeline_shape shape)
{
	const struct weir_allow *al = WEIR_MAY_EXTRAS(shape) ? pl->decoders->allow[decoder] : NULL;
	if (al && al->sources && !weir_allow_source(al, b->key))
		return unauthorized(pl, al, frame, len, WEIR_DL_unauthorized_source, port, now_ns);
	/* The stop refused a packet room: nothing after it is tracked, not even
	 * a heartbeat, whose number would make the refused events a gap. */
	if (__builtin_expect(pl->refusing_at_stop, 0)) {
		pl->c.messages += b->count;
		goto ring_full;
	}
	/* A line's packet: the source is looked up, not made, until the
	 * packet is known not to be a whole second copy (nothing of which is
	 * kept, or checked). */
	struct weir_seq_source *src = line != WEIR_FEED_NO_LINE ? weir_seq_find(&pl->seq, b->key) : NULL;
	if (src && b->count && !heartbeat && !end &&
	    weir_line_second_copy(pl, src, b->first_seq, b->count, line, now_ns)) {
		pl->csum_view = NULL;
		return WEIR_DISP_SECOND_COPY;
	}
	if (WEIR_MAY_LINES(shape) && pl->csum_view && !weir_pipeline_deferred_csum_ok(pl))
		return weir_pipeline_dead_letter(pl, frame, len, len, WEIR_DL_l4_bad_checksum, port, now_ns);
	const struct weir_decoder_cfg *d = &pl->decoders->decoders[decoder];
	if (src == NULL)
		src = weir_seq_recent(&pl->seq, b->key);
	if (src == NULL)
		src = source_of(pl, b->key, decoder, port, now_ns);
	const struct weir_seq_line *ln = line == WEIR_FEED_NO_LINE ? NULL : &pl->decoders->lines[line];
	struct weir_line_counters *lc = ln ? &pl->lines[line] : NULL;
	if (lc)
		weir_line_heard(lc, now_ns);
	if (heartbeat) {
		weir_seq_heartbeat(&pl->seq, src, b->first_seq, ln, now_ns);
		pl->c.heartbeats++;
		return WEIR_DISP_ACCEPTED;
	}
	if (end && lc) /* the feed may be over: its silence is then no fault */
		lc->last_end_ns = now_ns;
	if (end && weir_seq_end_known(src, b->first_seq)) {
		weir_seq_line_at_end(&pl->seq, src, b->first_seq, ln);
		return WEIR_DISP_ACCEPTED; /* one end of session, one record */
	}
	if (end) {
		if (!commit_end_of_session(pl, b->key, b->first_seq, src, d->topic, port, ln, now_ns))
			return weir_pipeline_ring_full(pl);
		pl->c.end_of_session++;
		return WEIR_DISP_ACCEPTED;
	}
	/* What the feed's retransmission server sends is flagged as such. */
	uint16_t flags = 0;
	if (d->rerequest_family && from_rerequest_server(d, v))
		flags = WEIR_REC_F_RETRANSMITTED;
	else if (d->rerequest_family == v->ip_version && port < WEIR_MAX_PORTS)
		learn_peer(&pl->peers[port], frame, v); /* only re-requests use it: not every packet's stores */
	pl->c.messages += b->count;
	if (lc) {
		lc->packets++;
		lc->events += b->count;
		uint64_t won = lc->won, arbitrated = lc->arbitrated;
		if (!commit_events_in(pl, b, src, d->topic, port, flags, ln, lc, now_ns, shape))
			goto ring_full;
		if (src)
			weir_line_probe(pl, line, weir_seq_index(&pl->seq, src), b->first_seq, b->count,
				   (unsigned)(lc->won - won), (unsigned)(lc->arbitrated - arbitrated), now_ns);
		return WEIR_DISP_ACCEPTED;
	}
	if (!commit_events_in(pl, b, src, d->topic, port, flags, NULL, NULL, now_ns, shape))
		goto ring_full;
	return WEIR_DISP_ACCEPTED;
ring_full:
	pl->c.ring_full_messages += b->count;
	return weir_pipeline_ring_full(pl);
}

static inline __attribute__((always_inline)) uint8_t
decode_mold(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, const struct weir_udp_view *v,
	    unsigned decoder, uint16_t port, unsigned line, uint64_t now_ns,
	    const enum weir_pipeline_shape shape)
{
	struct weir_mold_packet m;
	unsigned reason = weir_mold_decode(v->payload, v->payload_len, &m);
	if (reason)
		return weir_pipeline_dead_letter(pl, frame, len, len, reason, port, now_ns);
	bool control = m.count == WEIR_MOLD_HEARTBEAT || m.count == WEIR_MOLD_END_OF_SESSION;
	struct event_batch b = { .type = WEIR_DECODER_MOLDUDP64, .first_seq = m.seq, .count = control ? 0 : m.count,
				 .events = m.blocks, .events_len = m.blocks_len };
	/* The same session name from two senders: two sources. */
	weir_mold_source_key(b.key, m.session, pl->key_by_sender && v->ip_version == 4 ? v->src_addr : NULL,
			v->src_port);
	return sequence_and_commit(pl, &b, m.count == WEIR_MOLD_HEARTBEAT, m.count == WEIR_MOLD_END_OF_SESSION, frame, len,
			    v, decoder, port, line, now_ns, shape);
}

static inline __attribute__((always_inline)) uint8_t
decode_frame(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, const struct weir_udp_view *v,
	     unsigned decoder, uint16_t port, unsigned line, uint64_t now_ns,
	     const enum weir_pipeline_shape shape)
{
	struct weir_frame f;
	unsigned reason = weir_frame_decode(v->payload, v->payload_len, pl->decoders->frame_topic_known, &f);
	if (reason)
		return weir_pipeline_dead_letter(pl, frame, len, len, reason, port, now_ns);
	struct event_batch b = { .type = WEIR_DECODER_WEIRFRAME, .first_seq = f.first_seq, .count = f.count,
				 .events = f.events,
				 .events_len = v->payload_len - WEIR_FRAME_HEADER_BYTES };
	weir_frame_source_key(b.key, f.source_id);
	if (pl->key_by_sender && v->ip_version == 4)
		memcpy(b.key + 3, v->src_addr, 4);
	bool end = f.flags & WEIR_FRAME_F_END;
	return sequence_and_commit(pl, &b, f.count == 0 && !end, end, frame, len, v, decoder, port, line, now_ns, shape);
}

uint8_t
weir_pipeline_dead_letter(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, uint32_t wire_len,
			  unsigned reason, uint16_t port, uint64_t now_ns)
{
	if (pl->csum_view && !weir_pipeline_deferred_csum_ok(pl))
		reason = WEIR_DL_l4_bad_checksum; /* what the parse would have said first */
	if (!weir_pipeline_keep_frame(pl, frame, len, wire_len, reason, port, now_ns))
		pl->c.dead_letter_not_kept++;
	return weir_disp_dead_letter(reason);
}

bool
weir_pipeline_keep_frame(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, uint32_t wire_len,
			 unsigned reason, uint16_t port, uint64_t now_ns)
{
	uint32_t keep = len < pl->dead_letter_keep_bytes ? len : pl->dead_letter_keep_bytes;
	struct weir_record *r = weir_pipeline_reserve_input(pl, (uint32_t)sizeof(*r) + keep, now_ns);
	if (r == NULL)
		return false;
	weir_pipeline_fill_header(r, WEIR_REC_DEAD_LETTER, WEIR_TOPIC_DEAD_LETTER, port, now_ns);
	r->reason = (uint16_t)reason;
	r->flags = keep < wire_len ? WEIR_REC_F_TRUNCATED : 0;
	weir_pipeline_rx_time(pl, r);
	r->count = wire_len; /* the frame's real length, all its segments */
	r->seq = 0;
	memset(r->source, 0, sizeof(r->source));
	memcpy(r + 1, frame, keep);
	pl->c.dead_letter_records++;
	return true;
}

/* From someone the decoder's lists do not name: filtered, by reason, kept
 * as a dead letter record where the decoder says so; never tracked. */
static uint8_t
unauthorized(struct weir_pipeline *pl, const struct weir_allow *al, const uint8_t *frame, uint32_t len,
	     unsigned reason, uint16_t port, uint64_t now_ns)
{
	pl->csum_view = NULL;
	if (al->keep && !weir_pipeline_keep_frame(pl, frame, len, len, reason, port, now_ns))
		pl->c.dead_letter_not_kept++;
	return reason == WEIR_DL_unauthorized_address ? WEIR_DISP_UNAUTHORIZED_ADDRESS : WEIR_DISP_UNAUTHORIZED_SOURCE;
}

/* A parsed packet to a feed's UDP port: filtered for its group or sender,
 * or decoded; di its decoder (by_port), 0 when none. */
static inline __attribute__((always_inline)) uint8_t
route_and_decode(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, const struct weir_udp_view *v,
		 unsigned di, uint16_t port, uint64_t now_ns, const enum weir_pipeline_shape shape)
{
	const struct weir_feed_route *wrong = NULL;
	int line = WEIR_MAY_LINES(shape) && di && pl->decoders->has_groups[di - 1]
			   ? weir_feed_line(pl->decoders, v, port, &wrong)
			   : WEIR_FEED_NO_LINE;
	if (WEIR_MAY_LINES(shape) && pl->csum_view && line == WEIR_FEED_NO_LINE && !weir_pipeline_deferred_csum_ok(pl))
		return weir_pipeline_dead_letter(pl, frame, len, len, WEIR_DL_l4_bad_checksum, port, now_ns);
	if (di == 0 || line < 0) {
		pl->csum_view = NULL;
		if (wrong && wrong->line != WEIR_FEED_NO_LINE)
			pl->lines[wrong->line].wrong_source++;
		else if (wrong)
			pl->feed_wrong_source[wrong->feed]++;
		return line == WEIR_FEED_NOT_JOINED    ? WEIR_DISP_NOT_JOINED
		       : line == WEIR_FEED_WRONG_SOURCE ? WEIR_DISP_WRONG_SOURCE
							: WEIR_DISP_FILTERED;
	}
	const struct weir_allow *al = WEIR_MAY_EXTRAS(shape) ? pl->decoders->allow[di - 1] : NULL;
	if (al && al->by_address && !weir_allow_address(al, v->ip_version, v->src_addr))
		return unauthorized(pl, al, frame, len, WEIR_DL_unauthorized_address, port, now_ns);
	if (pl->decoders->decoders[di - 1].type == WEIR_DECODER_WEIRFRAME)
		return decode_frame(pl, frame, len, v, di - 1, port, (unsigned)line, now_ns, shape);
	return decode_mold(pl, frame, len, v, di - 1, port, (unsigned)line, now_ns, shape);
}

/* A packet the burst's first stage parsed into bp (NULL, or its frame NULL:
 * parsed here): its disposition, compiled for one shape. */
static inline __attribute__((always_inline)) uint8_t
disposition_of(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, const struct weir_burst_packet *bp,
	       enum weir_csum ip_csum, enum weir_csum l4_csum, uint16_t port, uint64_t now_ns,
	       const enum weir_pipeline_shape shape)
{
	pl->c.rx_bytes += len;
	unsigned fast_line;
	if (WEIR_MAY_LINES(shape) && pl->decoders->n_fast &&
	    weir_line_candidate(pl, frame, bp ? bp->route : weir_line_fast_route(pl, frame, len, port), &fast_line) &&
	    weir_line_second_copy_fast(pl, frame, len, fast_line, now_ns))
		return WEIR_DISP_SECOND_COPY;
	struct weir_burst_packet here;
	if (bp == NULL || bp->frame == NULL) {
		weir_pipeline_parse(pl, frame, len, ip_csum, l4_csum, &here);
		bp = &here;
	}
	const struct weir_udp_view *v = &bp->v;
	if (l4_csum == WEIR_CSUM_UNKNOWN && pl->udp_checksum_trust && bp->verdict == WEIR_PARSE_OK)
		pl->c.udp_checksum_unverified++;
	if (bp->verdict == WEIR_PARSE_FILTERED) {
		if (pl->filtered_hook)
			pl->filtered_hook(pl->filtered_ctx, frame, len, v, port, now_ns);
		return WEIR_DISP_FILTERED;
	}
	if (bp->verdict == WEIR_PARSE_DEAD)
		return weir_pipeline_dead_letter(pl, frame, len, len, bp->reason, port, now_ns);
	if (WEIR_MAY_LINES(shape) && bp->owe_csum)
		pl->csum_view = v;
	uint8_t d = route_and_decode(pl, frame, len, v, bp->decoder, port, now_ns, shape);
	pl->csum_view = NULL; /* it pointed at this packet's view */
	return d;
}

uint8_t
weir_pipeline_disposition(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, enum weir_csum ip_csum,
			  enum weir_csum l4_csum, uint16_t port, uint64_t now_ns)
{
	return disposition_of(pl, frame, len, NULL, ip_csum, l4_csum, port, now_ns, WEIR_SHAPE_ANY);
}

/* The tracking stage's loop, for one shape (a constant). */
static inline __attribute__((always_inline)) void
track_burst(struct weir_pipeline *pl, const struct weir_burst_in *in, unsigned n, uint16_t port, uint64_t now_ns,
	    uint8_t *disp, const enum weir_pipeline_shape shape)
{
	for (unsigned i = 0; i < n; i++) {
		if (in->stamped) /* a many-segment packet's dead letter too */
			pl->pkt_rx_ns = in->rx_ns[i];
		if (__builtin_expect(in->multi_segment[i], 0)) {
			pl->c.rx_bytes += in->wire_len[i];
			disp[i] = weir_pipeline_dead_letter(pl, in->frame[i], in->len[i], in->wire_len[i],
							    WEIR_DL_multi_segment, port, now_ns);
			continue;
		}
		disp[i] = disposition_of(pl, in->frame[i], in->len[i], &pl->burst.pkt[i], in->ip_csum[i], in->l4_csum[i],
					 port, now_ns, shape);
	}
	pl->pkt_rx_ns = 0;
}

void
weir_pipeline_track_burst(struct weir_pipeline *pl, const struct weir_burst_in *in, unsigned n, uint16_t port,
			  uint64_t now_ns, uint8_t *disp)
{
	switch (weir_pipeline_shape_shown(pl)) {
	case WEIR_SHAPE_PLAIN:
		track_burst(pl, in, n, port, now_ns, disp, WEIR_SHAPE_PLAIN);
		break;
	case WEIR_SHAPE_LINES:
		track_burst(pl, in, n, port, now_ns, disp, WEIR_SHAPE_LINES);
		break;
	default:
		track_burst(pl, in, n, port, now_ns, disp, WEIR_SHAPE_ANY);
	}
}

void
weir_pipeline_packet(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, enum weir_csum ip_csum,
		     enum weir_csum l4_csum, uint16_t port, uint64_t now_ns)
{
	uint8_t d = weir_pipeline_disposition(pl, frame, len, ip_csum, l4_csum, port, now_ns);
	weir_pipeline_note_stop_refusal(pl, &d, 1);
	weir_disposition_count(&pl->c, d);
}

void
weir_pipeline_tick(struct weir_pipeline *pl, uint64_t now_ns)
{
	/* A burst's events all carry its receipt time, also those handled after
	 * a wait for room: every open gap (this burst's too) has its clock
	 * stopped for the wait, so none expires while its copy may be queued
	 * behind it. */
	if (pl->stalled_ns) {
		weir_seq_pause(&pl->seq, pl->stalled_ns);
		pl->stalled_ns = 0;
	}
	if (now_ns < pl->next_tick_ns)
		return;
	pl->next_tick_ns = now_ns + TICK_EVERY_NS;
	weir_seq_tick(&pl->seq, now_ns);
	if (pl->ro.max_events)
		weir_reorder_tick(pl, now_ns);
}

void
weir_pipeline_stop(struct weir_pipeline *pl, uint64_t now_ns)
{
	/* What follows writes records nothing will bring again: they wait for
	 * room (a reorder window of thousands of events overflowed a small ring
	 * at once, and what it held was never written: explorer). */
	if (pl->clock_ns && !pl->refusing_at_stop)
		pl->stop_waits_until_ns = pl->clock_ns(pl->clock_ctx) + pl->stop_wait_ns;
	weir_seq_flush(&pl->seq, now_ns);
	if (pl->ro.max_events)
		weir_reorder_stop(pl, now_ns); /* every gap is gone: everything held goes */
}
