/* What the pipeline's stages share inside dataplane/: a record's header,
 * and ring room under the full policy.  Inline: every committed record
 * goes through them. */
#ifndef WEIR_PIPELINE_PVT_H
#define WEIR_PIPELINE_PVT_H

#include <string.h>

#include "weir_disposition.h"
#include "weir_pipeline.h"

/* Of the packet in hand: the NIC's receive time and its flag, where it
 * stamped one. */
static inline void
weir_pipeline_rx_time(const struct weir_pipeline *pl, struct weir_record *r)
{
	if (pl->pkt_rx_ns) {
		r->rx_ns = pl->pkt_rx_ns;
		r->flags |= WEIR_REC_F_NIC_TIME;
	}
}

/* The tracker found a gap lost for good (or a packet had no room): the log
 * says so in a LOSS record.  The tracker's loss action; ctx is the pipeline. */
void weir_pipeline_on_loss(void *ctx, const struct weir_seq_source *src, uint64_t first, uint64_t count,
			   uint64_t now_ns);

static inline void
weir_pipeline_fill_header(struct weir_record *r, uint16_t kind, uint16_t topic, uint16_t port, uint64_t now_ns)
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

/* Whether a stopping worker gives up on room now: at once while packets
 * still come (what it refuses is not tracked), but the stop's own records
 * (the gaps' LOSS records, what a reorder window held) wait while
 * weir-control drains, up to its drain timeout. */
static inline bool
weir_pipeline_stop_gives_up(struct weir_pipeline *pl)
{
	return !pl->stop_waits_until_ns || !pl->clock_ns || pl->clock_ns(pl->clock_ctx) >= pl->stop_waits_until_ns;
}

/*
 * Room for need bytes of records, with keep bytes more left free (input
 * keeps the stop's reserve, below; the stop's records keep none).  Under
 * backpressure the worker shows the
 * consumer what is done and waits (the RX queue fills meanwhile and the NIC
 * counts what it misses); false when the policy is drop, the worker is
 * stopping (its stop's own records wait a while: above), or need could
 * never fit: the caller counts the drop.  A stop that refuses room is
 * remembered: every later packet is refused too, though a smaller one
 * might fit (sequence_and_commit).  Taken after the refused
 * one, it would leave that packet's events a hole of its source, which the
 * stop's LOSS records may have no room left to state; the restarted run then
 * filled it, flagged late (explorer seed 903079674).  Refused, they are not
 * tracked, and come in order when the feed is read again.
 */
static inline bool
weir_pipeline_room_keeping(struct weir_pipeline *pl, uint64_t need, uint64_t keep, uint64_t now_ns)
{
	if (need > pl->ring.size_bytes / 2)
		return false; /* could never fit: must not stall a backpressure wait */
	need += keep;
	if (__builtin_expect(weir_ring_free_bytes(&pl->ring, need) >= need, 1))
		return true;
	if (pl->full_policy == WEIR_FULL_DROP)
		return false;
	if (*pl->quit && weir_pipeline_stop_gives_up(pl)) {
		pl->refusing_at_stop = true;
		return false;
	}
	if (pl->waiting_gauge)
		__atomic_store_n(pl->waiting_gauge, 1, __ATOMIC_RELAXED);
	uint64_t t0 = pl->clock_ns ? pl->clock_ns(pl->clock_ctx) : 0;
	/* Wait for some slack beyond need, so the records that follow need not
	 * read the consumer's cursor line one by one as it frees space. */
	uint64_t slack = pl->ring.size_bytes / 16 < 256 * 1024 ? pl->ring.size_bytes / 16 : 256 * 1024;
	uint64_t want = need + slack > pl->ring.size_bytes / 2 ? need : need + slack;
	bool room = true;
	weir_ring_publish(&pl->ring, now_ns); /* the consumer sees everything before the wait */
	while (weir_ring_free_bytes(&pl->ring, want) < want) {
		if (*pl->quit && weir_pipeline_stop_gives_up(pl)) {
			room = false;
			pl->refusing_at_stop = true;
			break;
		}
		pl->c.backpressure_waits++;
		__builtin_ia32_pause();
	}
	if (pl->clock_ns) {
		uint64_t waited = pl->clock_ns(pl->clock_ctx) - t0;
		pl->c.backpressure_wait_ns += waited;
		pl->stalled_ns += waited; /* no gap ages meanwhile: the tick after the burst says so */
	}
	if (pl->waiting_gauge)
		__atomic_store_n(pl->waiting_gauge, 0, __ATOMIC_RELAXED);
	return room;
}

/* Room for the stop's own records and for what the window releases: they
 * take the reserve below, which they were counted in. */
static inline bool
weir_pipeline_room(struct weir_pipeline *pl, uint64_t need, uint64_t now_ns)
{
	return weir_pipeline_room_keeping(pl, need, 0, now_ns);
}

/* The most the stop's reserve keeps: a quarter of the ring, so that input
 * with its own need (at most half) still fits beside it. */
static inline uint64_t
weir_pipeline_reserve_cap(const struct weir_pipeline *pl)
{
	return pl->ring.size_bytes / 4;
}

/*
 * Ring room kept, whatever the input, for what a stop must write: a LOSS
 * record for every open gap and every event the reorder window holds (a
 * release's margin and one wrap's padding beside them).  Input waits for
 * room above it, so a stop that nobody drains (weir-control hung past
 * drain-timeout) still writes them: without it the window's events were
 * left unwritten (explorer seed 1148786317, the last run's stop).
 */
static inline uint64_t
weir_pipeline_stop_reserve(const struct weir_pipeline *pl)
{
	uint64_t r = pl->ro.held_bytes + sizeof(struct weir_record) * (uint64_t)pl->seq.n_open +
		     (pl->ro.held_bytes ? 2048 + sizeof(struct weir_record) + WEIR_REORDER_SLOT_BYTES : 0);
	return r < weir_pipeline_reserve_cap(pl) ? r : weir_pipeline_reserve_cap(pl);
}

/* Room for a packet's records (events, an end of session, a dead letter):
 * above the stop's reserve. */
static inline bool
weir_pipeline_room_for_input(struct weir_pipeline *pl, uint64_t need, uint64_t now_ns)
{
	return weir_pipeline_room_keeping(pl, need, weir_pipeline_stop_reserve(pl), now_ns);
}

/* A packet the ring had no room for: the stop's refusals apart from the
 * rest (a packet too big ever to fit, before them), so the place below is
 * the stop's own. */
static inline uint8_t
weir_pipeline_ring_full(const struct weir_pipeline *pl)
{
	return pl->refusing_at_stop ? WEIR_DISP_RING_FULL_AT_STOP : WEIR_DISP_RING_FULL;
}

/* The first packet a stop refused ring room, by its place among rx_packets
 * (from 1): every later one was refused too, never tracked, so the stopped
 * run's figures say exactly which packets it took in (the fault explorer's
 * oracle reads it).  Called before the burst's dispositions are counted. */
static inline void
weir_pipeline_note_stop_refusal(struct weir_pipeline *pl, const uint8_t *disp, unsigned n)
{
	if (__builtin_expect(!pl->refusing_at_stop, 1) || pl->c.stop_refused_at_rx)
		return;
	for (unsigned i = 0; i < n; i++)
		if (disp[i] == WEIR_DISP_RING_FULL_AT_STOP) {
			pl->c.stop_refused_at_rx = pl->c.rx_packets + i + 1;
			return;
		}
}

/* One record of len bytes, waiting under backpressure as weir_pipeline_room()
 * does; NULL when it had no room.  Twice len: a wrap may pad up to len. */
static inline struct weir_record *
weir_pipeline_reserve(struct weir_pipeline *pl, uint32_t len, uint64_t now_ns)
{
	struct weir_record *r = weir_ring_reserve(&pl->ring, len);
	if (r == NULL && weir_pipeline_room(pl, 2ull * WEIR_ALIGN8(len), now_ns))
		r = weir_ring_reserve(&pl->ring, len);
	return r;
}

/* The same for a packet's own record (a dead letter): above the stop's reserve. */
static inline struct weir_record *
weir_pipeline_reserve_input(struct weir_pipeline *pl, uint32_t len, uint64_t now_ns)
{
	if (!weir_pipeline_room_for_input(pl, 2ull * WEIR_ALIGN8(len), now_ns))
		return NULL;
	return weir_ring_reserve(&pl->ring, len);
}


#define WEIR_FEED_NOT_JOINED (-1)
#define WEIR_FEED_WRONG_SOURCE (-2)

/* Whether a source-specific group's packet came from its source. */
static inline bool
weir_feed_source_ok(const struct weir_feed_route *g, const struct weir_udp_view *v)
{
	static const uint8_t any6[16];
	if (g->family == 6)
		return memcmp(g->source6, any6, 16) == 0 || memcmp(g->source6, v->src_addr, 16) == 0;
	return g->source == 0 || memcmp(&g->source, v->src_addr, 4) == 0;
}

/* The line of a multicast packet to a feed's UDP port: its line id,
 * WEIR_FEED_NO_LINE for a feed of one line or unicast (a retransmission),
 * WEIR_FEED_NOT_JOINED for a group the feed does not join, or
 * WEIR_FEED_WRONG_SOURCE for a source-specific group's packet from another
 * sender (*route: that group's). */
static inline int
weir_feed_line(const struct weir_decoder_table *t, const struct weir_udp_view *v, uint16_t port,
	       const struct weir_feed_route **route)
{
	int verdict = WEIR_FEED_NOT_JOINED;
	const uint8_t *dst = v->src_addr + (v->ip_version == 6 ? 16 : 4); /* the destination follows the source */
	if (v->ip_version == 6 ? dst[0] != 0xff : (dst[0] >> 4) != 0xE)
		return WEIR_FEED_NO_LINE;
	uint32_t group;
	memcpy(&group, dst, 4);
	for (unsigned i = 0; i < t->n_groups; i++) {
		const struct weir_feed_route *g = &t->groups[i];
		bool same = v->ip_version == 6 ? g->family == 6 && memcmp(g->group6, dst, 16) == 0
					       : g->family != 6 && g->group == group;
		if (!same || g->port != port || g->udp_port != v->dst_port)
			continue;
		if (weir_feed_source_ok(g, v))
			return g->line;
		verdict = WEIR_FEED_WRONG_SOURCE; /* another (S,G) of the same group may still be its */
		*route = g;
	}
	return verdict;
}

/*
 * A MoldUDP64 source key, in two whole 8-byte stores: the tracker hashes it
 * as two 8-byte loads, which narrower stores could not forward to (a stall
 * on every packet).  Bytes: session 10 | sender IPv4 4 | port 2 (BE), the
 * sender only when sources are keyed by it (sender4 not NULL).
 */
static inline void
weir_mold_source_key(uint8_t key[WEIR_SOURCE_BYTES], const uint8_t *session, const uint8_t *sender4, uint16_t sport)
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

/* weir_lines.c: A and B lines */
void weir_lines_table_build(struct weir_decoder_table *t, const struct weir_config *cfg);
void weir_line_probe(struct weir_pipeline *pl, unsigned line, uint32_t si, uint64_t first, unsigned count,
		     unsigned won, unsigned arbitrated, uint64_t now_ns);
/* seq, brought by line ln, filled a gap the window had given up waiting
 * for: the line ran further behind the other than the window. */
void weir_line_late(struct weir_line_counters *lc, const struct weir_seq_source *src, const struct weir_seq_line *ln,
		    uint64_t seq);
/* A whole second copy (src may be NULL: a source not seen yet is none):
 * its line's figures counted, the packet's disposition the caller's
 * (WEIR_DISP_SECOND_COPY); false when the packet is anything else. */
bool weir_line_second_copy(struct weir_pipeline *pl, struct weir_seq_source *src, uint64_t first, unsigned count,
			   unsigned line, uint64_t now_ns);
/* The feed line (of the short way's table) a plain IPv4 frame to one of its
 * groups and ports comes on, or -1; says nothing of whether it is a copy. */
static inline int
weir_line_fast_route(const struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, uint16_t port)
{
	const struct weir_decoder_table *t = pl->decoders;
	if (len < 14 + 20 + 8 + 20 || frame[12] != 0x08 || frame[13] != 0x00 || frame[14] != 0x45 || frame[23] != 17)
		return -1;
	uint32_t group;
	uint16_t dport;
	memcpy(&group, frame + 30, 4);
	memcpy(&dport, frame + 36, 2);
	for (unsigned i = 0; i < t->n_fast; i++)
		if (t->fast[i].group == group && t->fast[i].udp_port_be == dport && t->fast[i].port == port)
			return (int)i;
	return -1;
}

/* The line of a packet worth the second copy's short way: a plain IPv4
 * packet (no VLAN, no options) to a MoldUDP64 line's group and port (i, its
 * weir_line_fast_route), on a line whose last packet was a second copy (the
 * line running ahead brings first copies: it is tried only every 16th
 * packet).  False: the parse. */
static inline bool
weir_line_candidate(struct weir_pipeline *pl, const uint8_t *frame, int i, unsigned *line)
{
	if (i < 0)
		return false;
	uint32_t sender, source = pl->decoders->fast[i].source;
	memcpy(&sender, frame + 26, 4);
	if (source && source != sender)
		return false; /* the full path filters it, counted */
	unsigned l = pl->decoders->fast[i].line;
	if (!pl->fast_hint[l] && (++pl->fast_skip[l] & 15))
		return false;
	*line = l;
	return true;
}
/* A candidate's whole second copy, counted from fixed offsets; false: the parse. */
bool weir_line_second_copy_fast(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, unsigned line,
				uint64_t now_ns);
bool weir_pipeline_deferred_csum_ok(struct weir_pipeline *pl);

/* One packet parsed into bp (the burst's first stage, or the packet's own
 * turn when that stage left it). */
void weir_pipeline_parse(const struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, enum weir_csum ip_csum,
			 enum weir_csum l4_csum, struct weir_burst_packet *bp);
/* The shapes of a configuration, each burst run by a copy of the tracking
 * stage compiled without a test of what its shape has not (VPP's
 * ip4_input_inline shape); asked once a burst, so a reload of the rules
 * changes it at the next.  Plain: no feed groups or lines, no allowlist,
 * no rules, no reorder window (compiling their tests out took 12-19% off a
 * 1-event packet in BM_pipeline_burst).  Lines: feed groups or lines, none
 * of the rest: an A/B feed's usual configuration. */
enum weir_pipeline_shape { WEIR_SHAPE_PLAIN, WEIR_SHAPE_LINES, WEIR_SHAPE_ANY };
#define WEIR_MAY_LINES(shape) ((shape) != WEIR_SHAPE_PLAIN)
#define WEIR_MAY_EXTRAS(shape) ((shape) == WEIR_SHAPE_ANY) /* an allowlist, rules, a reorder window */

static inline enum weir_pipeline_shape
weir_pipeline_shape(const struct weir_pipeline *pl)
{
	const struct weir_decoder_table *t = pl->decoders;
	if (t->n_allow || pl->rules || pl->ro.max_events)
		return WEIR_SHAPE_ANY;
	return t->n_groups || t->n_lines || t->n_fast ? WEIR_SHAPE_LINES : WEIR_SHAPE_PLAIN;
}

/* The shape a burst runs, shown in the worker's figures (tracking_plain,
 * _lines, _any): an operator, and the hot-path hygiene test, can tell which
 * copy the traffic went through. */
static inline enum weir_pipeline_shape
weir_pipeline_shape_shown(struct weir_pipeline *pl)
{
	const enum weir_pipeline_shape shape = weir_pipeline_shape(pl);
	pl->c.tracking_plain = shape == WEIR_SHAPE_PLAIN;
	pl->c.tracking_lines = shape == WEIR_SHAPE_LINES;
	pl->c.tracking_any = shape == WEIR_SHAPE_ANY;
	return shape;
}

/* The burst's tracking stage (weir_pipeline.c): each packet in order, from
 * the first stage's parse, its disposition into disp[i]. */
void weir_pipeline_track_burst(struct weir_pipeline *pl, const struct weir_burst_in *in, unsigned n, uint16_t port,
			       uint64_t now_ns, uint8_t *disp);
/* With rules, one scan of all the parsed packets' events (weir_match.c). */
void weir_pipeline_scan_parsed(struct weir_pipeline *pl);

#endif
