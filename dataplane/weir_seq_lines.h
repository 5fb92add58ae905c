/*
 * Where each line of an A/B feed stands, for the sequence tracker alone
 * (weir_seq.c): a line's next number (hot, in the source's cache line),
 * the numbers it passed over and has not brought since (64 below where it
 * stands), and the feed's floor, below which nothing was seen (cold, in
 * the source's report figures, read only when line_flags says so: a line
 * in order never touches them).  What a line brings is then exactly one
 * of: new to the feed, its own first copy of an event already in, or its
 * own repeat.
 */
#ifndef WEIR_SEQ_LINES_H
#define WEIR_SEQ_LINES_H

#include "weir_seq.h"

static inline struct weir_seq_source_stats *
lines_cold(struct weir_seq_table *t, const struct weir_seq_source *src)
{
	return &t->stats[weir_seq_index(t, src)];
}

/* The first packet of src on a line sets where both lines stand (at its
 * start: what either brings from there is new).  A fresh source also
 * opens the floor: what a line brings below it is new too (the other line
 * lost the session's first packets, or lags).  A restored source's past
 * is the log's: no floor. */
static inline void
lines_begin(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t at)
{
	if (src->lines)
		return;
	src->lines = 1;
	src->line_next_lo[0] = src->line_next_lo[1] = (uint32_t)at;
	src->line_flags = 0;
	if (!src->started) {
		src->line_flags = WEIR_SEQ_LINE_FLOOR;
		lines_cold(t, src)->lines_floor = at;
	}
}

/* The skipped bits of line ab once it stands step further on, with the
 * numbers [from, to) (indices from where it stands then) passed over. */
static inline uint64_t
lines_shift(uint64_t bits, int64_t step, uint64_t lo_index, uint64_t hi_index)
{
	bits = step >= 64 ? 0 : bits << step;
	if (hi_index >= lo_index && lo_index < 64) {
		uint64_t top = hi_index >= 63 ? ~0ull : (1ull << (hi_index + 1)) - 1;
		bits |= top & ~((1ull << lo_index) - 1);
	}
	return bits;
}

/* Line ln passed over skipped numbers (a run of its own gaps, counted):
 * a heartbeat's skip (empty) leaves the run open, so that the numbers lost
 * after the heartbeat, up to the line's next event, are the same run. */
static inline void
line_gap_run(struct weir_seq_table *t, struct weir_seq_source *src, const struct weir_seq_line *ln, int64_t skipped,
	     bool empty)
{
	uint8_t open = (uint8_t)WEIR_SEQ_LINE_RUN_OPEN(ln->ab);
	if (skipped > 0 && t->lines) {
		t->lines[ln->id].gap_runs += !(src->line_flags & open);
		t->lines[ln->id].gap_events += (uint64_t)skipped;
	}
	if (empty && (skipped > 0 || (src->line_flags & open)))
		src->line_flags |= open;
	else
		src->line_flags &= (uint8_t)~open;
}

/* Line ln brought [first, end) (a heartbeat: first == end, what it skipped
 * it never brought).  Its position moves to end; what it passed over
 * between where it stood and first is marked as not brought. */
static inline void
line_saw(struct weir_seq_table *t, struct weir_seq_source *src, const struct weir_seq_line *ln, uint64_t first,
	 uint64_t end)
{
	if (ln == NULL)
		return;
	uint64_t cur = weir_seq_line_next(src, ln->ab);
	int64_t step = (int64_t)(end - cur), skipped = (int64_t)(first - cur);
	if (step <= 0)
		return;
	src->line_next_lo[ln->ab] = (uint32_t)end;
	if (skipped > 0 || (src->line_flags & WEIR_SEQ_LINE_RUN_OPEN(ln->ab)))
		line_gap_run(t, src, ln, skipped, first == end);
	if (skipped <= 0 && !(src->line_flags & WEIR_SEQ_LINE_SKIPS(ln->ab)))
		return; /* in order, nothing marked: the usual case */
	uint64_t *bits = &lines_cold(t, src)->line_skipped[ln->ab];
	*bits = lines_shift(*bits, step, end - first, skipped > 0 ? end - 1 - cur : 0);
	src->line_flags = (uint8_t)(*bits ? src->line_flags | WEIR_SEQ_LINE_SKIPS(ln->ab)
					  : src->line_flags & ~WEIR_SEQ_LINE_SKIPS(ln->ab));
}

/* Whether seq is line ln's first copy of it: at or past where the line
 * stands, or one it passed over (then marked as brought now). */
static inline bool
line_first_copy(struct weir_seq_table *t, struct weir_seq_source *src, const struct weir_seq_line *ln, uint64_t seq)
{
	uint64_t next = weir_seq_line_next(src, ln->ab);
	if ((int64_t)(seq - next) >= 0)
		return true;
	uint64_t i = next - 1 - seq;
	if (!(src->line_flags & WEIR_SEQ_LINE_SKIPS(ln->ab)) || i >= 64)
		return false;
	uint64_t *bits = &lines_cold(t, src)->line_skipped[ln->ab];
	if (!(*bits & (1ull << i)))
		return false;
	*bits &= ~(1ull << i);
	if (*bits == 0)
		src->line_flags &= (uint8_t)~WEIR_SEQ_LINE_SKIPS(ln->ab);
	return true;
}

/* Line ab has not brought [lo, hi) (below where it stands): marked, as far
 * as its 64 numbers reach. */
static inline void
line_not_brought(struct weir_seq_table *t, struct weir_seq_source *src, unsigned ab, uint64_t lo, uint64_t hi)
{
	uint64_t at = weir_seq_line_next(src, ab);
	if (hi == lo || at - hi >= 64)
		return;
	uint64_t *bits = &lines_cold(t, src)->line_skipped[ab];
	*bits = lines_shift(*bits, 0, at - hi, at - 1 - lo);
	src->line_flags |= (uint8_t)WEIR_SEQ_LINE_SKIPS(ab);
}

/* Whether seq lies below everything either line has brought of a fresh
 * source: new to the feed. */
static inline bool
below_floor(struct weir_seq_table *t, const struct weir_seq_source *src, uint64_t seq)
{
	return (src->line_flags & WEIR_SEQ_LINE_FLOOR) && (int64_t)(seq - lines_cold(t, src)->lines_floor) < 0;
}

#endif
