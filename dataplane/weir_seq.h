/*
 * Sequence integrity, per source: which events arrived in order, twice, late
 * (filling a known gap) or ahead (opening a gap); which gaps to re-request,
 * and which to declare lost at their deadline.  Pure C with time passed in
 * (the worker reads the TSC once per burst), so tests drive it with
 * synthetic time.  Everything is preallocated; nothing allocates after
 * weir_seq_create().
 */
#ifndef WEIR_SEQ_H
#define WEIR_SEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "weir_config.h"
#include "weir_seq_layout.h"
#include "weir_record.h"
#include "weir_info.h"
#include "weir_restore.h"
#include "weir_source_map.h"

#define WEIR_SEQ_NONE UINT32_MAX

enum weir_seq_class {
	WEIR_SEQ_IN_ORDER,           /* the next one expected */
	WEIR_SEQ_AHEAD,              /* beyond the next expected: opened a gap below it */
	WEIR_SEQ_LATE_FILL,          /* below the next expected, inside an open gap */
	WEIR_SEQ_DUPLICATE,          /* seen before (or already declared lost): not persisted */
	WEIR_SEQ_UNTRACKED,          /* source table full, policy untracked: passed on as is */
	WEIR_SEQ_DROPPED,            /* source table full, policy drop */
	WEIR_SEQ_ARBITRATED,         /* the other line brought it first: counted, not persisted */
	WEIR_SEQ_LINE_FILL,          /* what the other line missed, inside the window: persisted, not late */
};

/* The line a packet of a feed with A and B lines came on, and how long
 * one line's miss waits for the other (NULL where a feed has one line). */
struct weir_seq_line {
	uint8_t ab;                  /* 0: a, 1: b */
	uint8_t id;                  /* feed * 2 + ab: its figures in weir_seq_table.lines */
	uint32_t window_events;      /* 0: time only */
	uint64_t window_ns;
};

struct weir_seq_gap {
	uint64_t first, last;        /* missing sequences, inclusive */
	uint64_t opened_ns;
	uint64_t next_request_ns;
	uint32_t source;             /* table index */
	uint32_t next_in_source;     /* the source's gaps, ascending */
	uint32_t prev_open, next_open; /* every open gap of this worker, oldest first */
	uint16_t requests;
	/* Pending: one line missed it and the other may still bring it; not a
	 * gap (not counted, not asked for) until both lines are past it, the
	 * feed is window_events past it or confirm_ns comes. */
	uint8_t pending;
	uint8_t pad;
	uint32_t window_events;
	uint64_t confirm_ns;
};
_Static_assert(sizeof(struct weir_seq_gap) == 64, "gap is one cache line");

/* What the tracker asks its owner to do; the owner commits the records and
 * sends the packets. */
struct weir_seq_actions {
	void *ctx;
	/* A gap is lost for good: write a LOSS record (first, count). */
	void (*loss)(void *ctx, const struct weir_seq_source *src, uint64_t first, uint64_t count, uint64_t now_ns);
	/* Ask the source's retransmission server for count events from first;
	 * false when it could not be sent (counted by the owner). */
	bool (*request)(void *ctx, const struct weir_seq_source *src, uint64_t first, uint64_t count);
};

struct weir_seq_table {
	struct weir_sequence_cfg cfg;
	struct weir_seq_region *region;        /* caller's memory: header, sources, stats, gaps */
	struct weir_seq_source *sources;       /* capacity entries */
	struct weir_seq_source_stats *stats;   /* capacity entries */
	struct weir_seq_gap *gaps;             /* cfg.max_gaps entries */
	uint32_t capacity, mask;
	uint32_t free_gap;                     /* free list through next_in_source */
	uint32_t oldest_open, newest_open;
	uint32_t n_open;
	uint32_t n_pending;                    /* of them, pending arbitration */
	struct weir_seq_actions act;
	struct weir_worker_counters *c;        /* the owner's block: the .def counters */
	struct weir_line_counters *lines;      /* the owner's per-line figures, by weir_seq_line.id (NULL: none) */
	const struct weir_restore *restore;    /* what the log says of sources seen before (NULL: none) */
	struct weir_seq_source *recent;        /* the last weir_seq_source() found (NULL: none yet) */
};
/* Source slots the table has for max_sources (a power of two above it). */
uint32_t weir_seq_capacity(uint32_t max_sources);

/* Lays the table out in region (weir_seq_memsize() bytes, cache-line
 * aligned, e.g. a shared region weir-stat can read).  Re-requests are made
 * only when act->request is set. */
int weir_seq_create(struct weir_seq_table *t, const struct weir_sequence_cfg *cfg, const struct weir_seq_actions *act,
		    struct weir_worker_counters *counters, uint32_t worker, void *region);
uint64_t weir_seq_memsize(const struct weir_sequence_cfg *cfg);

/* Brings key's slot towards the cache ahead of its lookup: with many
 * sources the table is far bigger than the cache, and each event's lookup
 * was a miss (1M sources: ~250 ns).  Its report figures too when cold:
 * a feed with A and B lines counts every second copy there; an in-order
 * packet of one line never looks at them. */
/* always_inline: as a call, GCC 12 finds it free of side effects and
 * deletes it, prefetches and all (seen: the function compiled to ret). */
static inline __attribute__((always_inline)) void
weir_seq_prefetch(const struct weir_seq_table *t, const uint8_t key[WEIR_SOURCE_BYTES], bool cold)
{
	uint32_t i = weir_source_hash(key) & t->mask;
	__builtin_prefetch(&t->sources[i], 1);
	if (cold)
		__builtin_prefetch(&t->stats[i], 1);
}

/* The source's state, created on first sight (with *origin); NULL when the
 * table is full.  origin by pointer: read only on insertion. */
struct weir_seq_source *weir_seq_source(struct weir_seq_table *t, const uint8_t key[WEIR_SOURCE_BYTES],
					const struct weir_seq_origin *origin, uint64_t now_ns);

/* The source weir_seq_source() found last, where the table holds few
 * sources and key is its; NULL otherwise (weir_seq_source() then): a
 * feed's packets come in runs of one source (a session a feed is usual),
 * and the hash and probe were 8% of a 1-event packet's time.  A source
 * never leaves its slot, so a slot holding the key is that source's.  With
 * many sources a run is rare: not asked. */
#define WEIR_SEQ_FEW_SOURCES 16
static inline struct weir_seq_source *
weir_seq_recent(const struct weir_seq_table *t, const uint8_t key[WEIR_SOURCE_BYTES])
{
	struct weir_seq_source *s = t->recent;
	if (__builtin_expect(s && t->c->sources <= WEIR_SEQ_FEW_SOURCES && weir_source_key_eq(s->key, key), 0))
		return s;
	return NULL;
}

/* The source of key if tracked; NULL otherwise (none is made). */
static inline struct weir_seq_source *
weir_seq_find(const struct weir_seq_table *t, const uint8_t key[WEIR_SOURCE_BYTES])
{
	for (uint32_t i = weir_source_hash(key) & t->mask;; i = (i + 1) & t->mask) {
		struct weir_seq_source *s = &t->sources[i];
		if (s->state == WEIR_SEQ_SRC_EMPTY)
			return NULL;
		if (weir_source_key_eq(s->key, key))
			return s;
	}
}

/* One event of src with sequence seq. src NULL: the table was full. */
enum weir_seq_class weir_seq_event(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t seq,
				   uint64_t now_ns);
/* The same for a packet of a feed with lines (ln NULL: one line): a copy
 * the other line brought first is WEIR_SEQ_ARBITRATED, and what this line
 * skips is pending until the other line had its chance. */
enum weir_seq_class weir_seq_event_line(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t seq,
					const struct weir_seq_line *ln, uint64_t now_ns);
/* An event from the source's retransmission server.  It answers for old
 * numbers: after an end of session it fills a gap or is a duplicate (two
 * answers to one gap), never the session starting again, which only the
 * feed itself can do. */
enum weir_seq_class weir_seq_event_retransmitted(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t seq,
						 uint64_t now_ns);
/* A whole packet the other line brought first (every event already in,
 * none in a gap, this line not yet past them): counted at once, true;
 * false (nothing done) otherwise.  The B copy's usual path. */
bool weir_seq_arbitrated_run(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t first, uint64_t count,
			     const struct weir_seq_line *ln);
/* After a packet of a line: pending gaps both lines are past, or the feed
 * is window_events past, become gaps. */
void weir_seq_lines_settle(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t now_ns);
/* One past the highest sequence line ab brought. */
static inline uint64_t
weir_seq_line_next(const struct weir_seq_source *src, unsigned ab)
{
	return src->next_seq - (uint32_t)((uint32_t)src->next_seq - src->line_next_lo[ab]);
}
/* A heartbeat (or end of session) saying next_seq is next: reveals a gap at the tail. */
/* count events from first on, when they continue src exactly (the next
 * expected, an active session already started): what weir_seq_event()
 * does for each of them, done at once; false (nothing done) otherwise. */
bool weir_seq_in_order_run(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t first, uint64_t count,
			   const struct weir_seq_line *ln, uint64_t now_ns);
void weir_seq_heartbeat(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t next_seq,
			const struct weir_seq_line *ln, uint64_t now_ns);
/* Whether an end of session says nothing new: its source ended at that
 * point already (the other line's copy, or the same packet again). */
static inline bool
weir_seq_end_known(const struct weir_seq_source *src, uint64_t next_seq)
{
	return src && src->state == WEIR_SEQ_SRC_CLOSED && src->next_seq == next_seq;
}
/* The other line's copy of an end already known: that line is at the end
 * too (what it passed over on the way is its own gap run). */
void weir_seq_line_at_end(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t next_seq,
			  const struct weir_seq_line *ln);
/* End of session: a heartbeat that closes the source; data after it restarts it. */
void weir_seq_end_of_session(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t next_seq,
			     const struct weir_seq_line *ln, uint64_t now_ns);
/* Re-requests due and deadlines passed; returns the gaps it acted on. */
unsigned weir_seq_tick(struct weir_seq_table *t, uint64_t now_ns);
/* The worker received nothing for ns (it waited for ring room): every open
 * gap's clock stops as long, so none expires while its copy may be queued
 * behind the wait. */
void weir_seq_pause(struct weir_seq_table *t, uint64_t ns);
/* Stopping: every gap still open is lost (LOSS records). */
void weir_seq_flush(struct weir_seq_table *t, uint64_t now_ns);

static inline uint32_t
weir_seq_index(const struct weir_seq_table *t, const struct weir_seq_source *src);

/* The first sequence of src's lowest open gap; false when none is open. */
static inline bool
weir_seq_lowest_gap(const struct weir_seq_table *t, const struct weir_seq_source *src, uint64_t *first)
{
	if (src->first_gap == WEIR_SEQ_NONE)
		return false;
	*first = t->gaps[src->first_gap].first;
	return true;
}

/* rx time - event time of one of src's events (events from the future count 0). */
static inline void
weir_seq_note_lateness(struct weir_seq_table *t, const struct weir_seq_source *src, uint64_t rx_ns,
		       uint64_t event_time_ns)
{
	if (src == NULL || event_time_ns == 0)
		return;
	struct weir_seq_source_stats *st = &t->stats[weir_seq_index(t, src)];
	uint64_t late = rx_ns > event_time_ns ? rx_ns - event_time_ns : 0;
	if (late > st->lateness_max_ns)
		st->lateness_max_ns = late;
	st->lateness_sum_ns += late;
	st->lateness_count++;
}

static inline uint32_t
weir_seq_index(const struct weir_seq_table *t, const struct weir_seq_source *src)
{
	return (uint32_t)(src - t->sources);
}

#endif
