#include <string.h>

#include "weir_pipeline.h"
#include "weir_pipeline_pvt.h"
#include "weir_reorder.h"

void
weir_reorder_init(struct weir_reorder *ro, void *mem, uint32_t n_slots, uint32_t n_sources, uint32_t max_events,
		  uint64_t max_ns)
{
	memset(ro, 0, sizeof(*ro));
	ro->max_events = max_events;
	ro->max_ns = max_ns;
	ro->mem = mem;
	ro->n_slots = n_slots;
	ro->held = (struct weir_reorder_list *)((uint8_t *)mem + (uint64_t)n_slots * WEIR_REORDER_SLOT_BYTES);
	for (uint32_t s = 0; s < n_sources; s++)
		ro->held[s] = (struct weir_reorder_list){ WEIR_REORDER_NONE, WEIR_REORDER_NONE, 0 };
	ro->oldest = ro->newest = WEIR_REORDER_NONE;
	for (uint32_t i = 0; i < n_slots; i++)
		weir_reorder_slot(ro, i)->next_in_source = i + 1 < n_slots ? i + 1 : WEIR_REORDER_NONE;
	ro->free = n_slots ? 0 : WEIR_REORDER_NONE;
}

uint32_t
weir_reorder_take(struct weir_reorder *ro)
{
	uint32_t i = ro->free;
	if (i != WEIR_REORDER_NONE)
		ro->free = weir_reorder_slot(ro, i)->next_in_source;
	return i;
}

void
weir_reorder_put(struct weir_reorder *ro, uint32_t i)
{
	weir_reorder_slot(ro, i)->next_in_source = ro->free;
	ro->free = i;
}

void
weir_reorder_hold(struct weir_reorder *ro, uint32_t source, uint32_t i, uint64_t now_ns)
{
	struct weir_reorder_slot *s = weir_reorder_slot(ro, i);
	struct weir_reorder_list *l = &ro->held[source];
	s->source = source;
	s->held_ns = now_ns;
	/* Age list: newest at the end. */
	s->next_age = WEIR_REORDER_NONE;
	s->prev_age = ro->newest;
	if (ro->newest != WEIR_REORDER_NONE)
		weir_reorder_slot(ro, ro->newest)->next_age = i;
	else
		ro->oldest = i;
	ro->newest = i;
	/* Source list, ascending: events mostly arrive in order, so try the tail first. */
	s->next_in_source = WEIR_REORDER_NONE;
	if (l->count == 0) {
		l->head = l->tail = i;
	} else if ((int64_t)(s->rec.seq - weir_reorder_slot(ro, l->tail)->rec.seq) > 0) {
		weir_reorder_slot(ro, l->tail)->next_in_source = i;
		l->tail = i;
	} else {
		uint32_t prev = WEIR_REORDER_NONE, cur = l->head;
		while (cur != WEIR_REORDER_NONE && (int64_t)(weir_reorder_slot(ro, cur)->rec.seq - s->rec.seq) < 0) {
			prev = cur;
			cur = weir_reorder_slot(ro, cur)->next_in_source;
		}
		s->next_in_source = cur;
		if (prev == WEIR_REORDER_NONE)
			l->head = i;
		else
			weir_reorder_slot(ro, prev)->next_in_source = i;
	}
	l->count++;
}

uint32_t
weir_reorder_pop(struct weir_reorder *ro, uint32_t source)
{
	struct weir_reorder_list *l = &ro->held[source];
	uint32_t i = l->head;
	struct weir_reorder_slot *s = weir_reorder_slot(ro, i);
	l->head = s->next_in_source;
	if (--l->count == 0)
		l->head = l->tail = WEIR_REORDER_NONE;
	if (s->prev_age != WEIR_REORDER_NONE)
		weir_reorder_slot(ro, s->prev_age)->next_age = s->next_age;
	else
		ro->oldest = s->next_age;
	if (s->next_age != WEIR_REORDER_NONE)
		weir_reorder_slot(ro, s->next_age)->prev_age = s->prev_age;
	else
		ro->newest = s->prev_age;
	return i;
}

struct weir_record *
weir_reorder_place(struct weir_pipeline *pl, struct weir_seq_source *src, uint64_t seq, uint32_t rec_len,
		   uint32_t *slot, uint64_t now_ns)
{
	struct weir_reorder *ro = &pl->ro;
	uint64_t gap_first;
	*slot = WEIR_REORDER_NONE;
	if (!weir_seq_lowest_gap(&pl->seq, src, &gap_first) || (int64_t)(seq - gap_first) <= 0)
		return NULL;
	/* Above a gap: held, once what a full window holds has gone. */
	if (weir_reorder_holding(ro, weir_seq_index(&pl->seq, src)) >= ro->max_events)
		weir_reorder_release(pl, src, true, now_ns);
	/* Past a quarter of the ring the stop's reserve could not cover what is
	 * held (weir_pipeline_stop_reserve): written at once, as a full pool's,
	 * after what its source holds. */
	if (rec_len - sizeof(struct weir_record) > WEIR_REORDER_MAX_PAYLOAD ||
	    ro->held_bytes + WEIR_ALIGN8(rec_len) > weir_pipeline_reserve_cap(pl) ||
	    (*slot = weir_reorder_take(ro)) == WEIR_REORDER_NONE) {
		pl->c.reorder_pool_full++;
		weir_reorder_write_held_first(pl, src, now_ns);
		return NULL;
	}
	struct weir_record *r = &weir_reorder_slot(ro, *slot)->rec;
	r->len_bytes = rec_len;
	return r;
}

void
weir_reorder_keep(struct weir_pipeline *pl, struct weir_seq_source *src, uint32_t slot, uint64_t now_ns)
{
	weir_reorder_hold(&pl->ro, weir_seq_index(&pl->seq, src), slot, now_ns);
	pl->ro.held_bytes += WEIR_ALIGN8(weir_reorder_slot(&pl->ro, slot)->rec.len_bytes);
	pl->c.reorder_held++;
	pl->c.reorder_holding++;
}

void
weir_reorder_release(struct weir_pipeline *pl, const struct weir_seq_source *src, bool all, uint64_t now_ns)
{
	struct weir_reorder *ro = &pl->ro;
	uint32_t si = weir_seq_index(&pl->seq, src);
	uint64_t limit = 0;
	bool gap = weir_seq_lowest_gap(&pl->seq, src, &limit);
	while (ro->held[si].count) {
		struct weir_reorder_slot *s = weir_reorder_slot(ro, ro->held[si].head);
		if (!all && gap && (int64_t)(s->rec.seq - limit) > 0)
			break;
		uint32_t len = s->rec.len_bytes;
		if (pl->refusing_at_stop || !weir_pipeline_room(pl, WEIR_ALIGN8(len) + 2048, now_ns))
			break; /* a stop refused room: not even a smaller one, above what was not written */
		if (gap && (int64_t)(s->rec.seq - limit) > 0)
			pl->c.reorder_released_by_bound++; /* out of order: its gap is still open */
		struct weir_record *r = weir_ring_reserve(&pl->ring, len);
		memcpy(r, &s->rec, len);
		weir_reorder_put(ro, weir_reorder_pop(ro, si));
		ro->held_bytes -= WEIR_ALIGN8(len);
		pl->c.event_records++;
		pl->c.reorder_holding--;
	}
}

void
weir_reorder_write_held_first(struct weir_pipeline *pl, const struct weir_seq_source *src, uint64_t now_ns)
{
	if (src && pl->ro.max_events)
		weir_reorder_release(pl, src, true, now_ns);
}

void
weir_reorder_note_lost(struct weir_pipeline *pl, const struct weir_seq_source *src)
{
	struct weir_reorder *ro = &pl->ro;
	uint32_t si = weir_seq_index(&pl->seq, src);
	if (!ro->max_events || ro->held[si].count == 0)
		return;
	if (ro->n_revisit < sizeof(ro->revisit) / sizeof(ro->revisit[0]))
		ro->revisit[ro->n_revisit++] = si;
	else
		ro->revisit_all = true;
}

/* After gaps were lost: release what their sources held above them. */
static void
release_revisits(struct weir_pipeline *pl, uint64_t now_ns)
{
	struct weir_reorder *ro = &pl->ro;
	for (uint32_t i = 0; i < ro->n_revisit; i++)
		weir_reorder_release(pl, &pl->seq.sources[ro->revisit[i]], false, now_ns);
	ro->n_revisit = 0;
	if (!ro->revisit_all)
		return;
	/* More sources than the list holds: walk every held event, oldest first,
	 * and release whatever nothing holds back any longer.  Each release
	 * changes the list, so start again; each start releases at least one. */
	ro->revisit_all = false;
	for (uint32_t i = ro->oldest; i != WEIR_REORDER_NONE;) {
		const struct weir_reorder_slot *s = weir_reorder_slot(ro, i);
		struct weir_seq_source *src = &pl->seq.sources[s->source];
		uint64_t gap_first;
		if (weir_seq_lowest_gap(&pl->seq, src, &gap_first) && (int64_t)(s->rec.seq - gap_first) > 0) {
			i = s->next_age;
			continue;
		}
		uint32_t before = ro->held[s->source].count;
		weir_reorder_release(pl, src, false, now_ns);
		if (ro->held[s->source].count == before)
			return; /* no ring room: the next tick tries again */
		i = ro->oldest;
	}
}

/* Releases whole sources, oldest held event first, while older_than_ns
 * says its oldest must go; stops when the ring has no room. */
static void
release_oldest(struct weir_pipeline *pl, uint64_t now_ns, uint64_t older_than_ns)
{
	struct weir_reorder *ro = &pl->ro;
	while (ro->oldest != WEIR_REORDER_NONE) {
		struct weir_reorder_slot *s = weir_reorder_slot(ro, ro->oldest);
		if (now_ns - s->held_ns < older_than_ns)
			break;
		uint32_t si = s->source, before = ro->held[si].count;
		weir_reorder_release(pl, &pl->seq.sources[si], true, now_ns);
		if (ro->held[si].count == before)
			break; /* no ring room: next tick (or, stopping, counted as holding) */
	}
}

void
weir_reorder_tick(struct weir_pipeline *pl, uint64_t now_ns)
{
	release_revisits(pl, now_ns);
	release_oldest(pl, now_ns, pl->ro.max_ns);
}

void
weir_reorder_stop(struct weir_pipeline *pl, uint64_t now_ns)
{
	pl->ro.n_revisit = 0;
	pl->ro.revisit_all = false;
	release_oldest(pl, now_ns, 0);
}
