/* What the pipeline's stages share inside dataplane/: a record's header,
 * and ring room under the full policy.  Inline: every committed record
 * goes through them. */
#ifndef WEIR_PIPELINE_PVT_H
#define WEIR_PIPELINE_PVT_H

#include "weir_pipeline.h"

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

/*
 * Room for need bytes of records.  Under backpressure the worker shows the
 * consumer what is done and waits (the RX queue fills meanwhile and the NIC
 * counts what it misses); false when the policy is drop, the worker is
 * stopping, or need could never fit: the caller counts the drop.
 */
static inline bool
weir_pipeline_room(struct weir_pipeline *pl, uint64_t need, uint64_t now_ns)
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

#endif
