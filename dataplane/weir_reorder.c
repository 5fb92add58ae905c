#include <string.h>

#include "weir_reorder.h"

void
weir_reorder_init(struct weir_reorder *ro, void *mem, uint32_t n_slots)
{
	memset(ro, 0, sizeof(*ro));
	ro->mem = mem;
	ro->n_slots = n_slots;
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
weir_reorder_hold(struct weir_reorder *ro, struct weir_seq_source *src, uint32_t si, uint32_t i, uint64_t now_ns)
{
	struct weir_reorder_slot *s = weir_reorder_slot(ro, i);
	s->source = si;
	s->held_ns = now_ns;
	/* Age list: newest at the end. */
	s->next_age = WEIR_REORDER_NONE;
	s->prev_age = ro->newest;
	if (ro->newest != WEIR_REORDER_NONE)
		weir_reorder_slot(ro, ro->newest)->next_age = i;
	else
		ro->oldest = i;
	ro->newest = i;
	ro->held++;
	/* Source list, ascending: events mostly arrive in order, so try the tail first. */
	s->next_in_source = WEIR_REORDER_NONE;
	if (src->held_count == 0) {
		src->held_head = src->held_tail = i;
	} else if ((int64_t)(s->rec.seq - weir_reorder_slot(ro, src->held_tail)->rec.seq) > 0) {
		weir_reorder_slot(ro, src->held_tail)->next_in_source = i;
		src->held_tail = i;
	} else {
		uint32_t prev = WEIR_REORDER_NONE, cur = src->held_head;
		while (cur != WEIR_REORDER_NONE && (int64_t)(weir_reorder_slot(ro, cur)->rec.seq - s->rec.seq) < 0) {
			prev = cur;
			cur = weir_reorder_slot(ro, cur)->next_in_source;
		}
		s->next_in_source = cur;
		if (prev == WEIR_REORDER_NONE)
			src->held_head = i;
		else
			weir_reorder_slot(ro, prev)->next_in_source = i;
	}
	src->held_count++;
}

uint32_t
weir_reorder_pop(struct weir_reorder *ro, struct weir_seq_source *src)
{
	uint32_t i = src->held_head;
	struct weir_reorder_slot *s = weir_reorder_slot(ro, i);
	src->held_head = s->next_in_source;
	if (--src->held_count == 0)
		src->held_head = src->held_tail = WEIR_REORDER_NONE;
	if (s->prev_age != WEIR_REORDER_NONE)
		weir_reorder_slot(ro, s->prev_age)->next_age = s->next_age;
	else
		ro->oldest = s->next_age;
	if (s->next_age != WEIR_REORDER_NONE)
		weir_reorder_slot(ro, s->next_age)->prev_age = s->prev_age;
	else
		ro->newest = s->prev_age;
	ro->held--;
	return i;
}
