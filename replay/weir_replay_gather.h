/*
 * One re-request's answer, gathered from the log: every number of the range
 * [first, first + count) of a source is an event (its bytes kept), stated
 * lost by a LOSS record, or beyond the source's end of session; until all
 * are, the log has not reached the rest.  Late fills sit in the log after
 * higher numbers: gathering takes them in any order.  Pure: fed log items.
 */
#ifndef WEIR_REPLAY_GATHER_H
#define WEIR_REPLAY_GATHER_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_record.h"

enum { WEIR_GATHER_UNKNOWN, WEIR_GATHER_EVENT, WEIR_GATHER_LOST, WEIR_GATHER_ENDED };

struct weir_replay_gather {
	uint8_t key[WEIR_SOURCE_BYTES];
	uint64_t first;
	uint32_t count;
	uint32_t events, lost, ended;        /* numbers of the range accounted each way */
	uint32_t cap;                        /* numbers a range may have */
	uint8_t *state;                      /* cap of WEIR_GATHER_* */
	uint32_t *at;                        /* cap: an event's bytes in arena */
	uint16_t *len;
	uint8_t *arena;
	uint32_t arena_used, arena_cap;
};

/* Room for ranges of up to cap numbers of events of up to max_len bytes
 * each; -1 when memory could not be had (at start, not per request). */
int weir_replay_gather_init(struct weir_replay_gather *g, uint32_t cap, uint32_t max_len);
void weir_replay_gather_free(struct weir_replay_gather *g);
/* A new range (count <= cap). */
void weir_replay_gather_start(struct weir_replay_gather *g, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t first,
			      uint32_t count);
/* A log item; true once every number of the range is accounted. */
bool weir_replay_gather_add(struct weir_replay_gather *g, const struct weir_record *r, const uint8_t *payload,
			    uint32_t payload_len);
/* The lowest number of the range not yet accounted (first + count: none). */
uint64_t weir_replay_gather_first_unknown(const struct weir_replay_gather *g);
static inline bool
weir_replay_gather_done(const struct weir_replay_gather *g)
{
	return g->events + g->lost + g->ended == g->count;
}

#endif
