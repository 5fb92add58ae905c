/*
 * The reorder window's slots: events held above a gap, per source in
 * ascending sequence order, and worker-wide oldest first (for the time
 * bound).  Fixed-size slots preallocated at start; the pipeline builds a
 * held record in its slot and copies it to the ring when it is released.
 */
#ifndef WEIR_REORDER_H
#define WEIR_REORDER_H

#include <stdint.h>

#include "weir_record.h"
#include "weir_seq_layout.h"

#define WEIR_REORDER_SLOT_BYTES 2048u
#define WEIR_REORDER_NONE UINT32_MAX

struct weir_reorder_slot {
	uint32_t next_in_source;
	uint32_t prev_age, next_age;
	uint32_t source;             /* tracker index */
	uint64_t held_ns;
	uint8_t pad[40];
	struct weir_record rec;      /* followed by its payload */
};
_Static_assert(sizeof(struct weir_reorder_slot) == 128, "slot header and record header");

#define WEIR_REORDER_MAX_PAYLOAD (WEIR_REORDER_SLOT_BYTES - sizeof(struct weir_reorder_slot))

struct weir_reorder {
	uint8_t *mem;
	uint32_t n_slots;
	uint32_t free;               /* free list through next_in_source */
	uint32_t oldest, newest;
	uint32_t held;
};

static inline uint64_t
weir_reorder_memsize(uint32_t n_slots)
{
	return (uint64_t)n_slots * WEIR_REORDER_SLOT_BYTES;
}

void weir_reorder_init(struct weir_reorder *ro, void *mem, uint32_t n_slots);

static inline struct weir_reorder_slot *
weir_reorder_slot(const struct weir_reorder *ro, uint32_t i)
{
	return (struct weir_reorder_slot *)(ro->mem + (uint64_t)i * WEIR_REORDER_SLOT_BYTES);
}

/* A free slot, or WEIR_REORDER_NONE. */
uint32_t weir_reorder_take(struct weir_reorder *ro);
/* Files slot i (its record filled in) under src (tracker index si) in order. */
void weir_reorder_hold(struct weir_reorder *ro, struct weir_seq_source *src, uint32_t si, uint32_t i,
		       uint64_t now_ns);
/* Unlinks src's lowest held slot and returns it (the caller copies it out,
 * then weir_reorder_put()s it back). */
uint32_t weir_reorder_pop(struct weir_reorder *ro, struct weir_seq_source *src);
void weir_reorder_put(struct weir_reorder *ro, uint32_t i);

#endif
