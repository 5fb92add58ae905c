#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "weir_frame.h"
#include "weir_moldudp64.h"
#include "weir_copy.h"
#include "weir_pipeline.h"

#define TICK_EVERY_NS 100000ull

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "source keys are composed as little-endian words (decode_mold)"
#endif

void
weir_decoder_table_build(struct weir_decoder_table *t, const struct weir_config *cfg)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < cfg->n_decoders; i++) {
		t->decoders[i] = cfg->decoders[i];
		t->by_port[cfg->decoders[i].udp_port] = (uint8_t)(i + 1);
	}
	for (unsigned id = 1; id < 256; id++)
		if (cfg->frame_topics[id]) {
			t->frame_topic_known[id] = 1;
			t->frame_topic[id] = (uint16_t)(cfg->frame_topics[id] - 1);
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

/*
 * Room for need bytes of records.  Under backpressure the worker shows the
 * consumer what is done and waits (the RX queue fills meanwhile and the NIC
 * counts what it misses); false when the policy is drop, the worker is
 * stopping, or need could never fit: the caller counts the drop.
 */
static bool
ensure_room(struct weir_pipeline *pl, uint64_t need, uint64_t now_ns)
{
	if (need > pl->ring.size_bytes / 2)
		return false; /* could never fit: must not stall a backpressure wait */
	if (__builtin_expect(weir_ring_free_bytes(&pl->ring, need) >= need, 1))
		return true;
	if (pl->full_policy == WEIR_FULL_DROP || *pl->quit)
		return false;
	uint64_t t0 = pl->clock_ns ? pl->clock_ns(pl->clock_ctx) : 0;
	/* Wait for some slack beyond need, so the records that follow need not
	 * read the consumer's cursor line one by one as it frees space. */
	uint64_t slack = pl->ring.size_bytes / 16 < 256 * 1024 ? pl->ring.size_bytes / 16 : 256 * 1024;
	uint64_t want = need + slack > pl->ring.size_bytes / 2 ? need : need + slack;
	bool room = true;
	weir_ring_publish(&pl->ring, now_ns); /* the consumer sees everything before the wait */
	while (weir_ring_free_bytes(&pl->ring, want) < want) {
		if (*pl->quit) {
			room = false;
			break;
		}
		pl->c.backpressure_waits++;
		__builtin_ia32_pause();
	}
	if (pl->clock_ns)
		pl->c.backpressure_wait_ns += pl->clock_ns(pl->clock_ctx) - t0;
	return room;
}

/* One record of len bytes, waiting under backpressure as ensure_room()
 * does; NULL when it had no room.  Twice len: a wrap may pad up to len. */
static struct weir_record *
reserve_waiting(struct weir_pipeline *pl, uint32_t len, uint64_t now_ns)
{
	struct weir_record *r = weir_ring_reserve(&pl->ring, len);
	if (r == NULL && ensure_room(pl, 2ull * WEIR_ALIGN8(len), now_ns))
		r = weir_ring_reserve(&pl->ring, len);
	return r;
}

/* What src holds above a lost gap may go once the gap is gone. */
static void
note_revisit(struct weir_pipeline *pl, const struct weir_seq_source *src)
{
	if (!pl->reorder_events || src->held_count == 0)
		return;
	if (pl->n_revisit < sizeof(pl->revisit) / sizeof(pl->revisit[0]))
		pl->revisit[pl->n_revisit++] = weir_seq_index(&pl->seq, src);
	else
		pl->revisit_all = true;
}

/*
 * Copies src's held events to the ring in sequence order: those below its
 * lowest open gap, or all of them (all: a bound was hit, or its gaps are
 * gone).  Stops early when the ring has no room (drop policy): they stay
 * held and go next time.
 */
static void
release_held(struct weir_pipeline *pl, struct weir_seq_source *src, bool all, uint64_t now_ns)
{
	uint64_t limit;
	bool gap = weir_seq_lowest_gap(&pl->seq, src, &limit);
	while (src->held_count) {
		struct weir_reorder_slot *s = weir_reorder_slot(&pl->ro, src->held_head);
		if (!all && gap && (int64_t)(s->rec.seq - limit) > 0)
			break;
		uint32_t len = s->rec.len_bytes;
		if (!ensure_room(pl, WEIR_ALIGN8(len) + 2048, now_ns))
			break;
		if (gap && (int64_t)(s->rec.seq - limit) > 0)
			pl->c.reorder_released_by_bound++; /* out of order: its gap is still open */
		struct weir_record *r = weir_ring_reserve(&pl->ring, len);
		memcpy(r, &s->rec, len);
		weir_reorder_put(&pl->ro, weir_reorder_pop(&pl->ro, src));
		pl->c.event_records++;
		pl->c.reorder_holding--;
	}
}

/* After gaps were lost: release what their sources held above them. */
static void
release_revisits(struct weir_pipeline *pl, uint64_t now_ns)
{
	for (uint32_t i = 0; i < pl->n_revisit; i++)
		release_held(pl, &pl->seq.sources[pl->revisit[i]], false, now_ns);
	pl->n_revisit = 0;
	if (!pl->revisit_all)
		return;
	/* More sources than the list holds: walk every held event, oldest first,
	 * and release whatever nothing holds back any longer.  Each release
	 * changes the list, so start again; each start releases at least one. */
	pl->revisit_all = false;
	for (uint32_t i = pl->ro.oldest; i != WEIR_REORDER_NONE;) {
		const struct weir_reorder_slot *s = weir_reorder_slot(&pl->ro, i);
		struct weir_seq_source *src = &pl->seq.sources[s->source];
		uint64_t gap_first;
		if (weir_seq_lowest_gap(&pl->seq, src, &gap_first) && (int64_t)(s->rec.seq - gap_first) > 0) {
			i = s->next_age;
			continue;
		}
		uint16_t before = src->held_count;
		release_held(pl, src, false, now_ns);
		if (src->held_count == before)
			return; /* no ring room: the next tick tries again */
		i = pl->ro.oldest;
	}
}

/* The tracker found a gap lost for good: the log says so. */
static void
on_loss(void *ctx, const struct weir_seq_source *src, uint64_t first, uint64_t count, uint64_t now_ns)
{
	struct weir_pipeline *pl = ctx;
	struct weir_record *r = reserve_waiting(pl, sizeof(*r), now_ns);
	if (r == NULL) {
		pl->c.loss_records_not_kept++;
		return;
	}
	fill_header(r, WEIR_REC_LOSS, src->origin.topic, src->origin.port, now_ns);
	memcpy(r->source, src->key, WEIR_SOURCE_BYTES);
	r->seq = first;
	r->count = count;
	pl->c.loss_records++;
	note_revisit(pl, src);
}

static bool
on_request(void *ctx, const struct weir_seq_source *src, uint64_t first, uint64_t count)
{
	struct weir_pipeline *pl = ctx;
	/* A re-request is a bare header: the session exactly as it came, the
	 * first sequence wanted and how many. */
	uint8_t req[WEIR_MOLD_HEADER_BYTES];
	memcpy(req, src->key, WEIR_MOLD_SESSION_BYTES);
	weir_put_be64(req + 10, first);
	weir_put_be16(req + 18, (uint16_t)count);
	const struct weir_port_peer *peer = &pl->peers[src->origin.port % WEIR_MAX_PORTS];
	if (!peer->known)
		return false;
	return pl->rerequest.send(pl->rerequest.ctx, src, &pl->decoders->decoders[src->origin.decoder], peer, req,
				  sizeof(req));
}

static uint64_t
seq_bytes(const struct weir_config *cfg)
{
	return (weir_seq_memsize(&cfg->seq) + 63) & ~63ull;
}

uint64_t
weir_pipeline_memsize(const struct weir_config *cfg)
{
	return seq_bytes(cfg) + (cfg->seq.reorder_events ? weir_reorder_memsize(cfg->seq.reorder_slots) : 0);
}

int
weir_pipeline_init(struct weir_pipeline *pl, const struct weir_config *cfg, unsigned worker, struct weir_ring *ring,
		   void *seq_region, const struct weir_decoder_table *decoders,
		   const struct weir_rerequest_sink *rerequest, const volatile bool *quit)
{
	memset(pl, 0, sizeof(*pl));
	weir_ring_producer_attach(&pl->ring, ring);
	pl->decoders = decoders;
	pl->dead_letter_keep_bytes = cfg->dead_letter_keep_bytes;
	pl->full_policy = cfg->full_policy;
	pl->key_by_sender = cfg->seq.key_by_sender;
	pl->worker = worker;
	pl->quit = quit;
	if (rerequest)
		pl->rerequest = *rerequest;
	pl->reorder_events = cfg->seq.reorder_events;
	pl->reorder_ns = cfg->seq.reorder_ns;
	if (pl->reorder_events)
		weir_reorder_init(&pl->ro, (uint8_t *)seq_region + seq_bytes(cfg), cfg->seq.reorder_slots);
	struct weir_seq_actions act = { .ctx = pl, .loss = on_loss, .request = rerequest ? on_request : NULL };
	return weir_seq_create(&pl->seq, &cfg->seq, &act, &pl->c, worker, seq_region);
}

void
weir_pipeline_use_rules(struct weir_pipeline *pl, struct weir_ruleset *const *current,
			struct weir_rule_counter *counters)
{
	pl->rules_current = current;
	pl->rule_counters = counters;
	weir_pipeline_sync_rules(pl);
}

#define MATCH_COLLECT 64

struct match_ctx {
	unsigned n;
	unsigned overflow;
	uint32_t idx[MATCH_COLLECT];
};

/* Hyperscan reports each rule once (single-match): collect its index. */
static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx)
{
	(void)from;
	(void)to;
	(void)flags;
	struct match_ctx *mc = ctx;
	if (mc->n < MATCH_COLLECT)
		mc->idx[mc->n++] = id;
	else
		mc->overflow++;
	return 0;
}

/* Whether the burst scan found a possible match in this event: 1 yes, 0 no,
 * -1 not known (no burst scan, or not an event it saw: scan it alone).  The
 * pipeline meets events in the order the burst scan listed them. */
static inline int
burst_verdict(struct weir_burst_scan *b, const uint8_t *payload)
{
	while (b->cursor < b->n) {
		uint32_t i = b->cursor++;
		if (b->data[i] == payload) /* a place in a frame: one event */
			return b->candidate[i];
	}
	return -1;
}

bool
weir_pipeline_match(struct weir_pipeline *pl, const uint8_t *payload, uint16_t len, uint8_t decoder_type,
		    const uint8_t *source, uint16_t *topic, uint32_t *ids, uint16_t *n_ids)
{
	const struct weir_ruleset *rs = pl->rules;
	*n_ids = 0;
	if (rs == NULL || rs->db == NULL)
		return true;
	const hs_database_t *db = rs->db;
	if (pl->burst.n && burst_verdict(&pl->burst, payload) == 0) {
		/* Only the rules the burst scan cannot speak for are left. */
		db = rs->unscannable_db;
		if (db == NULL) {
			pl->c.rule_scans_skipped++;
			return true;
		}
	}
	struct match_ctx mc;
	mc.n = 0;
	mc.overflow = 0;
	if (hs_scan(db, (const char *)payload, len, 0, pl->scratch, on_match, &mc) != HS_SUCCESS) {
		pl->c.rule_scan_errors++; /* kept, unmatched: never an exit from the packet path */
		return true;
	}
	/* File order, whichever database reported them in whatever order: the
	 * ids a record carries (and the first 8 of more) are the same every time. */
	for (unsigned i = 1; i < mc.n; i++)
		for (unsigned j = i; j > 0 && mc.idx[j - 1] > mc.idx[j]; j--) {
			uint32_t t = mc.idx[j];
			mc.idx[j] = mc.idx[j - 1];
			mc.idx[j - 1] = t;
		}
	bool keep = true;
	int route = -1;
	pl->c.rule_match_overflow += mc.overflow;
	for (unsigned i = 0; i < mc.n; i++) {
		const struct weir_rule *r = &rs->rules[mc.idx[i]];
		if (!weir_rule_in_scope(r, decoder_type, source, *topic))
			continue;
		struct weir_rule_counter *rc = &pl->rule_counters[r->counter_slot];
		rc->matches++;
		pl->c.rule_matches++;
		switch (r->action) {
		case WEIR_RULE_DROP:
			rc->drops++;
			keep = false;
			break;
		case WEIR_RULE_ALERT:
			rc->alerts++;
			pl->c.rule_alerts++;
			break;
		case WEIR_RULE_ROUTE:
			if (route < 0 || r->route_topic < route)
				route = r->route_topic; /* several: the lowest topic wins, the same every time */
			break;
		case WEIR_RULE_TAG:
			break;
		}
		if (*n_ids < WEIR_MAX_MATCHES)
			ids[(*n_ids)++] = r->id;
		else
			pl->c.rule_match_overflow++;
	}
	if (!keep) {
		pl->c.rule_drops++;
		return false;
	}
	if (route >= 0) {
		*topic = (uint16_t)route;
		pl->c.rule_routed++;
	}
	return true;
}

/* A match in the burst stream: the event it ends in may match that rule. */
static int
on_burst_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx)
{
	(void)id;
	(void)from;
	(void)flags;
	struct weir_burst_scan *b = ctx;
	uint32_t i = b->hint;
	/* the first event ending at or after to (matches mostly come in order) */
	if (!(i < b->n && b->end[i] >= to && (i == 0 || b->end[i - 1] < to))) {
		uint32_t lo = 0, hi = b->n - 1;
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;
			if (b->end[mid] >= to)
				hi = mid;
			else
				lo = mid + 1;
		}
		i = lo;
	}
	b->hint = i;
	if (!b->candidate[i]) {
		b->candidate[i] = 1;
		if (++b->n_candidates == b->n)
			return 1; /* every event is one: nothing left to learn */
	}
	return 0;
}

static inline void
burst_add(struct weir_burst_scan *b, const uint8_t *payload, uint16_t len)
{
	uint32_t at = b->n ? b->end[b->n - 1] : 0;
	if (b->n == WEIR_BURST_EVENTS_MAX || len > WEIR_BURST_BYTES - at)
		return; /* the rest are scanned alone */
	uint32_t i = b->n++;
	b->data[i] = payload;
	b->end[i] = at + len;
	b->candidate[i] = 0;
	weir_copy_small(b->bytes + at, payload, len);
}

void
weir_pipeline_burst_scan(struct weir_pipeline *pl, const uint8_t *const *frames, const uint32_t *lens,
			 const enum weir_csum *ip_csum, const enum weir_csum *l4_csum, unsigned n)
{
	struct weir_burst_scan *b = &pl->burst;
	const struct weir_ruleset *rs = pl->rules;
	b->n = b->cursor = b->hint = b->n_candidates = 0;
	b->n_pkts = b->pkt_cursor = 0;
	if (rs == NULL || rs->burst_db == NULL)
		return;
	/* The events the pipeline will meet, found the way it finds them. */
	if (n > WEIR_BURST_EVENTS_MAX)
		n = WEIR_BURST_EVENTS_MAX;
	for (unsigned p = 0; p < n; p++) {
		struct weir_burst_packet *bp = &b->pkt[b->n_pkts++];
		unsigned reason = 0;
		bp->frame = frames[p];
		bp->verdict = (uint8_t)weir_parse_udp(frames[p], lens[p], ip_csum[p], l4_csum[p], &bp->v, &reason);
		bp->reason = (uint8_t)reason;
		if (bp->verdict != WEIR_PARSE_OK)
			continue;
		unsigned di = pl->decoders->by_port[bp->v.dst_port];
		if (di == 0)
			continue;
		const uint8_t *cursor;
		uint16_t len;
		if (pl->decoders->decoders[di - 1].type == WEIR_DECODER_WEIRFRAME) {
			struct weir_frame f;
			if (weir_frame_decode(bp->v.payload, bp->v.payload_len, pl->decoders->frame_topic_known, &f))
				continue;
			cursor = f.events;
			for (unsigned e = 0; e < f.count; e++) {
				struct weir_frame_event fe;
				weir_frame_next(&cursor, &fe);
				burst_add(b, fe.payload, fe.len);
			}
		} else {
			struct weir_mold_packet m;
			if (weir_mold_decode(bp->v.payload, bp->v.payload_len, &m) || m.count == WEIR_MOLD_HEARTBEAT ||
			    m.count == WEIR_MOLD_END_OF_SESSION)
				continue;
			cursor = m.blocks;
			for (unsigned e = 0; e < m.count; e++) {
				const uint8_t *payload = weir_mold_next(&cursor, &len);
				burst_add(b, payload, len);
			}
		}
	}
	if (b->n == 0)
		return;
	pl->c.rule_burst_scans++;
	hs_error_t rc = hs_scan(rs->burst_db, (const char *)b->bytes, b->end[b->n - 1], 0, pl->scratch, on_burst_match,
				b);
	if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) {
		pl->c.rule_scan_errors++;
		b->n = 0; /* every event scanned alone */
	}
}

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
		      struct weir_seq_source *src, uint16_t topic, uint16_t port, uint64_t now_ns)
{
	uint64_t need = sizeof(struct weir_record) * (2u + (src ? src->n_gaps : 0u));
	if (!ensure_room(pl, need, now_ns))
		return false;
	struct weir_record *r = weir_ring_reserve(&pl->ring, sizeof(*r));
	fill_header(r, WEIR_REC_END_OF_SESSION, topic, port, now_ns);
	memcpy(r->source, key, WEIR_SOURCE_BYTES);
	r->seq = next_seq;
	weir_seq_end_of_session(&pl->seq, src, next_seq, now_ns);
	return true;
}

/*
 * The events of one packet.  Room for every record (and LOSS records a
 * restart may write) is made sure of before the tracker sees the packet:
 * a packet dropped for want of room was never tracked, so the tracker sees a
 * gap there and the log gets a LOSS record, not a silent hole.
 */
static bool
commit_events(struct weir_pipeline *pl, const struct event_batch *b, struct weir_seq_source *src, uint16_t topic,
	      uint16_t port, uint16_t flags, uint64_t now_ns)
{
	uint64_t need = (uint64_t)b->count * (sizeof(struct weir_record) + 8 + 4 * WEIR_MAX_MATCHES) + b->events_len +
			sizeof(struct weir_record) * (2u + (src ? src->n_gaps : 0u)) + 2048 + 64;
	if (!ensure_room(pl, need, now_ns))
		return false;
	const uint8_t *cursor = b->events;
	unsigned committed = 0;
	/* The usual packet continues its source exactly: tracked at once, not
	 * event by event (8 events a packet: 259 -> 216 ns, median of 5). */
	const bool in_order = weir_seq_in_order_run(&pl->seq, src, b->first_seq, b->count, now_ns);
	for (unsigned i = 0; i < b->count; i++) {
		const uint8_t *payload;
		uint16_t len, ev_topic = topic;
		uint64_t event_time_ns = 0;
		if (b->type == WEIR_DECODER_MOLDUDP64) {
			payload = weir_mold_next(&cursor, &len);
		} else {
			struct weir_frame_event e;
			weir_frame_next(&cursor, &e);
			payload = e.payload;
			len = e.len;
			event_time_ns = e.event_time_ns;
			if (e.topic)
				ev_topic = pl->decoders->frame_topic[e.topic];
		}
		uint64_t seq = b->first_seq + i;
		enum weir_seq_class cls = in_order ? WEIR_SEQ_IN_ORDER : weir_seq_event(&pl->seq, src, seq, now_ns);
		if (cls == WEIR_SEQ_DUPLICATE || cls == WEIR_SEQ_DROPPED)
			continue;
		weir_seq_note_lateness(&pl->seq, src, now_ns, event_time_ns);
		uint32_t ids[WEIR_MAX_MATCHES];
		uint16_t n_ids = 0;
		if (pl->rules && !weir_pipeline_match(pl, payload, len, (uint8_t)b->type, b->key, &ev_topic, ids, &n_ids))
			continue;
		uint32_t rec_len = (uint32_t)sizeof(struct weir_record) + 4u * n_ids + len;
		struct weir_record *r = NULL;
		uint32_t slot = WEIR_REORDER_NONE;
		uint64_t gap_first;
		if (pl->reorder_events && src && weir_seq_lowest_gap(&pl->seq, src, &gap_first) &&
		    (int64_t)(seq - gap_first) > 0) {
			/* Above a gap: held, once what a full window holds has gone. */
			if (src->held_count >= pl->reorder_events)
				release_held(pl, src, true, now_ns);
			if (rec_len - sizeof(*r) <= WEIR_REORDER_MAX_PAYLOAD &&
			    (slot = weir_reorder_take(&pl->ro)) != WEIR_REORDER_NONE) {
				r = &weir_reorder_slot(&pl->ro, slot)->rec;
				r->len_bytes = rec_len;
			} else {
				pl->c.reorder_pool_full++;
			}
		}
		if (r == NULL)
			r = weir_ring_reserve(&pl->ring, rec_len);
		if (r == NULL) {
			/* Drop policy, a full window's release took this packet's room and no
			 * slot was free: counted, and the log says so. */
			pl->c.ring_full_messages++;
			on_loss(pl, src, seq, 1, now_ns);
			continue;
		}
		fill_header(r, WEIR_REC_EVENT, ev_topic, port, now_ns);
		r->flags = flags | (cls == WEIR_SEQ_LATE_FILL ? WEIR_REC_F_LATE : 0);
		memcpy(r->source, b->key, WEIR_SOURCE_BYTES);
		r->seq = seq;
		r->event_time_ns = event_time_ns;
		r->n_rules = n_ids;
		memcpy(r + 1, ids, 4u * n_ids);
		weir_copy_small((uint8_t *)(r + 1) + 4u * n_ids, payload, len);
		if (slot != WEIR_REORDER_NONE) {
			weir_reorder_hold(&pl->ro, src, weir_seq_index(&pl->seq, src), slot, now_ns);
			pl->c.reorder_held++;
			pl->c.reorder_holding++;
		} else {
			committed++;
		}
	}
	pl->c.event_records += committed;
	/* Late fills may have closed what kept held events back. */
	if (src && src->held_count)
		release_held(pl, src, false, now_ns);
	return true;
}

static inline void
learn_peer(struct weir_port_peer *p, const uint8_t *frame, const struct weir_udp_view *v)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	memcpy(p->local_mac, &eth->dst_addr, RTE_ETHER_ADDR_LEN);
	memcpy(p->peer_mac, &eth->src_addr, RTE_ETHER_ADDR_LEN);
	memcpy(p->local_ip, v->src_addr + 4, 4); /* IPv4: the destination follows the source */
	p->known = 1;
}

/* Heartbeat, end of session or data: the framing-independent rest of a packet. */
static void
sequence_and_commit(struct weir_pipeline *pl, const struct event_batch *b, bool heartbeat, bool end,
		    const uint8_t *frame, const struct weir_udp_view *v, unsigned decoder, uint16_t port,
		    uint64_t now_ns)
{
	const struct weir_decoder_cfg *d = &pl->decoders->decoders[decoder];
	struct weir_seq_origin origin = { .topic = d->topic, .port = port, .decoder = (uint8_t)decoder,
					  .can_request = d->rerequest_ip != 0 };
	struct weir_seq_source *src = weir_seq_source(&pl->seq, b->key, &origin, now_ns);
	if (heartbeat) {
		weir_seq_heartbeat(&pl->seq, src, b->first_seq, now_ns);
		pl->c.heartbeats++;
		pl->c.accepted_packets++;
		return;
	}
	if (end) {
		if (!commit_end_of_session(pl, b->key, b->first_seq, src, d->topic, port, now_ns)) {
			pl->c.ring_full_packets++;
			return;
		}
		pl->c.end_of_session++;
		pl->c.accepted_packets++;
		return;
	}
	/* What the feed's retransmission server sends is flagged as such. */
	uint16_t flags = 0;
	if (d->rerequest_ip && v->ip_version == 4 && memcmp(v->src_addr, &d->rerequest_ip, 4) == 0 &&
	    v->src_port == __builtin_bswap16(d->rerequest_port))
		flags = WEIR_REC_F_RETRANSMITTED;
	else if (d->rerequest_ip && v->ip_version == 4 && port < WEIR_MAX_PORTS)
		learn_peer(&pl->peers[port], frame, v); /* only re-requests use it: not every packet's stores */
	pl->c.messages += b->count;
	if (!commit_events(pl, b, src, d->topic, port, flags, now_ns)) {
		pl->c.ring_full_packets++;
		pl->c.ring_full_messages += b->count;
		return;
	}
	pl->c.accepted_packets++;
}

/*
 * A MoldUDP64 source key, in two whole 8-byte stores: the tracker hashes it
 * as two 8-byte loads, which narrower stores could not forward to (a stall
 * on every packet).  Bytes: session 10 | sender IPv4 4 | port 2 (BE), the
 * sender only when sources are keyed by it (sender4 not NULL).
 */
static inline void
mold_source_key(uint8_t key[WEIR_SOURCE_BYTES], const uint8_t *session, const uint8_t *sender4, uint16_t sport)
{
	uint64_t k0, k1;
	uint16_t tail;
	memcpy(&k0, session, 8);
	memcpy(&tail, session + 8, 2);
	k1 = tail;
	if (sender4) {
		uint32_t ip;
		memcpy(&ip, sender4, 4);
		k1 |= (uint64_t)ip << 16 | (uint64_t)__builtin_bswap16(sport) << 48;
	}
	memcpy(key, &k0, 8);
	memcpy(key + 8, &k1, 8);
}

void
weir_pipeline_prefetch_source(const struct weir_pipeline *pl, const uint8_t *frame, uint32_t len)
{
	/* Plain Ethernet + 20-byte IPv4 + UDP only: a guess, and a wrong or
	 * missing one costs nothing but the prefetch. */
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
	if (len < sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + WEIR_MOLD_HEADER_BYTES ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || ip->version_ihl != RTE_IPV4_VHL_DEF)
		return;
	unsigned di = pl->decoders->by_port[rte_be_to_cpu_16(udp->dst_port)];
	if (di == 0 || pl->decoders->decoders[di - 1].type != WEIR_DECODER_MOLDUDP64)
		return;
	uint8_t key[WEIR_SOURCE_BYTES];
	mold_source_key(key, (const uint8_t *)(udp + 1), pl->key_by_sender ? (const uint8_t *)&ip->src_addr : NULL,
			rte_be_to_cpu_16(udp->src_port));
	weir_seq_prefetch(&pl->seq, key);
}

static void
decode_mold(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, const struct weir_udp_view *v,
	    unsigned decoder, uint16_t port, uint64_t now_ns)
{
	struct weir_mold_packet m;
	unsigned reason = weir_mold_decode(v->payload, v->payload_len, &m);
	if (reason) {
		weir_pipeline_dead_letter(pl, frame, len, reason, port, now_ns);
		return;
	}
	bool control = m.count == WEIR_MOLD_HEARTBEAT || m.count == WEIR_MOLD_END_OF_SESSION;
	struct event_batch b = { .type = WEIR_DECODER_MOLDUDP64, .first_seq = m.seq, .count = control ? 0 : m.count,
				 .events = m.blocks, .events_len = m.blocks_len };
	/* The same session name from two senders: two sources. */
	mold_source_key(b.key, m.session, pl->key_by_sender && v->ip_version == 4 ? v->src_addr : NULL,
			v->src_port);
	sequence_and_commit(pl, &b, m.count == WEIR_MOLD_HEARTBEAT, m.count == WEIR_MOLD_END_OF_SESSION, frame, v,
			    decoder, port, now_ns);
}

static void
decode_frame(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, const struct weir_udp_view *v,
	     unsigned decoder, uint16_t port, uint64_t now_ns)
{
	struct weir_frame f;
	unsigned reason = weir_frame_decode(v->payload, v->payload_len, pl->decoders->frame_topic_known, &f);
	if (reason) {
		weir_pipeline_dead_letter(pl, frame, len, reason, port, now_ns);
		return;
	}
	struct event_batch b = { .type = WEIR_DECODER_WEIRFRAME, .first_seq = f.first_seq, .count = f.count,
				 .events = f.events,
				 .events_len = v->payload_len - WEIR_FRAME_HEADER_BYTES };
	weir_frame_source_key(b.key, f.source_id);
	if (pl->key_by_sender && v->ip_version == 4)
		memcpy(b.key + 3, v->src_addr, 4);
	bool end = f.flags & WEIR_FRAME_F_END;
	sequence_and_commit(pl, &b, f.count == 0 && !end, end, frame, v, decoder, port, now_ns);
}

void
weir_pipeline_dead_letter(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, unsigned reason,
			  uint16_t port, uint64_t now_ns)
{
	pl->c.dead_letter_packets++;
	pl->c.dead_letter[reason]++;
	uint32_t keep = len < pl->dead_letter_keep_bytes ? len : pl->dead_letter_keep_bytes;
	struct weir_record *r = reserve_waiting(pl, (uint32_t)sizeof(*r) + keep, now_ns);
	if (r == NULL) {
		pl->c.dead_letter_not_kept++;
		return;
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
	enum weir_verdict verdict;
	pl->c.rx_packets++;
	pl->c.rx_bytes += len;
	/* Parsed already when a burst scan listed its events. */
	struct weir_burst_scan *b = &pl->burst;
	while (b->pkt_cursor < b->n_pkts && b->pkt[b->pkt_cursor].frame != frame)
		b->pkt_cursor++;
	if (b->pkt_cursor < b->n_pkts) {
		const struct weir_burst_packet *bp = &b->pkt[b->pkt_cursor++];
		v = bp->v;
		reason = bp->reason;
		verdict = (enum weir_verdict)bp->verdict;
	} else {
		verdict = weir_parse_udp(frame, len, ip_csum, l4_csum, &v, &reason);
	}
	switch (verdict) {
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
	if (pl->decoders->decoders[di - 1].type == WEIR_DECODER_WEIRFRAME)
		decode_frame(pl, frame, len, &v, di - 1, port, now_ns);
	else
		decode_mold(pl, frame, len, &v, di - 1, port, now_ns);
}

void
weir_pipeline_tick(struct weir_pipeline *pl, uint64_t now_ns)
{
	if (now_ns < pl->next_tick_ns)
		return;
	pl->next_tick_ns = now_ns + TICK_EVERY_NS;
	weir_seq_tick(&pl->seq, now_ns);
	if (!pl->reorder_events)
		return;
	release_revisits(pl, now_ns);
	/* The time bound: what waited longest goes first, with all its source holds. */
	while (pl->ro.oldest != WEIR_REORDER_NONE) {
		struct weir_reorder_slot *s = weir_reorder_slot(&pl->ro, pl->ro.oldest);
		if (now_ns - s->held_ns < pl->reorder_ns)
			break;
		struct weir_seq_source *src = &pl->seq.sources[s->source];
		uint16_t before = src->held_count;
		release_held(pl, src, true, now_ns);
		if (src->held_count == before)
			break; /* no ring room: next tick */
	}
}

void
weir_pipeline_stop(struct weir_pipeline *pl, uint64_t now_ns)
{
	weir_seq_flush(&pl->seq, now_ns);
	if (!pl->reorder_events)
		return;
	/* Every gap is gone: everything held goes, in order, source by source. */
	pl->n_revisit = 0;
	pl->revisit_all = false;
	while (pl->ro.oldest != WEIR_REORDER_NONE) {
		struct weir_seq_source *src = &pl->seq.sources[weir_reorder_slot(&pl->ro, pl->ro.oldest)->source];
		uint16_t before = src->held_count;
		release_held(pl, src, true, now_ns);
		if (src->held_count == before)
			break; /* no room even now: they are counted as holding */
	}
}
