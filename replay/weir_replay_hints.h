/*
 * Where in the log a source's numbers start, for the part of the log whose
 * segment has no source index on file yet (the one weir-control writes):
 * serve's follower sees every event there in log order and keeps, per
 * source, a point every WEIR_REPLAY_HINT_EVERY new highest numbers: (seq,
 * offset) of an event whose seq was the highest of its source so far.
 * Every number at or above such a point's seq (an event, a late fill, a
 * LOSS record, an end) is logged at or after its offset, so a re-request
 * for first >= seq reads on from there instead of from the segment's start.
 * A source the tracker did not follow (beyond its table) breaks that rule:
 * the server reads again without hints when a hinted read misses a number
 * at or below the highest seen.  Bounded: past max_points it says so and
 * keeps no more.  No I/O.
 */
#ifndef WEIR_REPLAY_HINTS_H
#define WEIR_REPLAY_HINTS_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_record.h"
#include "weir_source_map.h"

#define WEIR_REPLAY_HINT_EVERY 32u

struct weir_replay_hint_point {
	uint64_t seq, offset;
};

struct weir_replay_hint_source {
	uint64_t max_seq;                  /* the highest seen, in log order */
	uint32_t n, cap;
	struct weir_replay_hint_point *points;  /* seq ascending */
};

struct weir_replay_hints {
	uint32_t max_sources;
	uint64_t n_points, max_points;
	bool full;                         /* a source or a point was not kept */
	struct weir_source_map keys;       /* key -> its index in sources (keys.n of them) */
	struct weir_replay_hint_source *sources;
};

/* 0, or -1 when memory could not be had. */
int weir_replay_hints_init(struct weir_replay_hints *h, uint32_t max_sources, uint64_t max_points);
/* An event of the log, in log order; late: flagged a late fill (or a
 * retransmission). */
void weir_replay_hints_see(struct weir_replay_hints *h, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t seq,
			   uint64_t offset, bool late);
/* Where to read from for numbers from first on of key: true with *offset,
 * false when no point is at or below first (read as without hints). */
bool weir_replay_hints_find(const struct weir_replay_hints *h, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t first,
			    uint64_t *offset);
/* The highest number of key seen (false: key not seen). */
bool weir_replay_hints_max(const struct weir_replay_hints *h, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t *max_seq);
/* Forgets every point (the follower starts over). */
void weir_replay_hints_clear(struct weir_replay_hints *h);
void weir_replay_hints_free(struct weir_replay_hints *h);

#endif
