/*
 * The reorder window, all of it: events held above a gap and released in
 * sequence order once the gap fills, is lost, or a bound (events per source,
 * time) is hit.  Its slots are fixed size and preallocated at start; each
 * source's held list is in an array beside them, indexed like the tracker's
 * table, so the tracker's hot line carries nothing of the window's.
 */
#ifndef WEIR_REORDER_H
#define WEIR_REORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_record.h"

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

/* One source's held events, ascending by sequence. */
struct weir_reorder_list {
	uint32_t head, tail;
	uint32_t count;
};

struct weir_reorder {
	uint32_t max_events;         /* per source; 0: the window is off */
	uint64_t max_ns;
	uint8_t *mem;                /* the slots */
	struct weir_reorder_list *held; /* by tracker index */
	uint32_t n_slots;
	uint32_t free;               /* free list through next_in_source */
	uint32_t oldest, newest;     /* every held slot, by age */
	uint64_t held_bytes;         /* the ring room what is held takes when written (the stop's reserve) */
	/* Sources whose gap was lost since the last tick: what they hold may go. */
	uint32_t n_revisit;
	bool revisit_all;
	uint32_t revisit[64];
};

/* Bytes for n_slots slots and the held lists of n_sources sources. */
static inline uint64_t
weir_reorder_memsize(uint32_t n_slots, uint32_t n_sources)
{
	return (uint64_t)n_slots * WEIR_REORDER_SLOT_BYTES + (uint64_t)n_sources * sizeof(struct weir_reorder_list);
}

void weir_reorder_init(struct weir_reorder *ro, void *mem, uint32_t n_slots, uint32_t n_sources, uint32_t max_events,
		       uint64_t max_ns);

static inline struct weir_reorder_slot *
weir_reorder_slot(const struct weir_reorder *ro, uint32_t i)
{
	return (struct weir_reorder_slot *)(ro->mem + (uint64_t)i * WEIR_REORDER_SLOT_BYTES);
}

static inline uint32_t
weir_reorder_holding(const struct weir_reorder *ro, uint32_t source)
{
	return ro->held[source].count;
}

/* The slot list, for the pipeline's stages below and the unit tests. */
uint32_t weir_reorder_take(struct weir_reorder *ro); /* a free slot, or WEIR_REORDER_NONE */
/* Files slot i (its record filled in) under the source in order. */
void weir_reorder_hold(struct weir_reorder *ro, uint32_t source, uint32_t i, uint64_t now_ns);
/* Unlinks the source's lowest held slot and returns it (the caller copies
 * it out, then weir_reorder_put()s it back). */
uint32_t weir_reorder_pop(struct weir_reorder *ro, uint32_t source);
void weir_reorder_put(struct weir_reorder *ro, uint32_t i);

/* The window as a stage of the pipeline. */
struct weir_pipeline;
struct weir_seq_source;
/* Where an event of seq (rec_len bytes) is to be built: a held slot when it
 * lies above its source's lowest gap (*slot set), else NULL, for the ring.
 * A source at its bound first releases what it holds. */
struct weir_record *weir_reorder_place(struct weir_pipeline *pl, struct weir_seq_source *src, uint64_t seq,
				       uint32_t rec_len, uint32_t *slot, uint64_t now_ns);
/* Files an event built in its slot. */
void weir_reorder_keep(struct weir_pipeline *pl, struct weir_seq_source *src, uint32_t slot, uint64_t now_ns);
/* Copies the source's held events to the ring in sequence order: those
 * below its lowest open gap, or all of them.  Stops early when the ring has
 * no room (drop policy: they go next time) or a stop refused room (never). */
void weir_reorder_release(struct weir_pipeline *pl, const struct weir_seq_source *src, bool all, uint64_t now_ns);
/* What src holds, to the ring before a record of src written at once (an
 * end of session, an event a full pool passes on).  Written above them,
 * the held events were holes of the log below it: a crash lost them, and
 * the restarted run's copies filled those holes, flagged late (explorer
 * seed 1340180430).  Nothing without a window or a source. */
void weir_reorder_write_held_first(struct weir_pipeline *pl, const struct weir_seq_source *src, uint64_t now_ns);
/* A gap of src was lost: what it holds above may go at the next tick. */
void weir_reorder_note_lost(struct weir_pipeline *pl, const struct weir_seq_source *src);
/* What lost gaps freed, then what waited longer than the time bound. */
void weir_reorder_tick(struct weir_pipeline *pl, uint64_t now_ns);
/* Stopping (every gap is gone): everything held goes, in order. */
void weir_reorder_stop(struct weir_pipeline *pl, uint64_t now_ns);

#endif
