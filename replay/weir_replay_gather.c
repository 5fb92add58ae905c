#include <stdlib.h>
#include <string.h>

#include "weir_replay_gather.h"

int
weir_replay_gather_init(struct weir_replay_gather *g, uint32_t cap, uint32_t max_len)
{
	memset(g, 0, sizeof(*g));
	g->cap = cap;
	g->arena_cap = cap * max_len;
	g->state = calloc(cap, 1);
	g->at = calloc(cap, sizeof(*g->at));
	g->len = calloc(cap, sizeof(*g->len));
	g->arena = malloc(g->arena_cap ? g->arena_cap : 1);
	return g->state && g->at && g->len && g->arena ? 0 : -1;
}

void
weir_replay_gather_free(struct weir_replay_gather *g)
{
	free(g->state);
	free(g->at);
	free(g->len);
	free(g->arena);
	memset(g, 0, sizeof(*g));
}

void
weir_replay_gather_start(struct weir_replay_gather *g, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t first,
			 uint32_t count)
{
	memcpy(g->key, key, WEIR_SOURCE_BYTES);
	g->first = first;
	g->count = count <= g->cap ? count : g->cap;
	g->events = g->lost = g->ended = 0;
	g->arena_used = 0;
	memset(g->state, WEIR_GATHER_UNKNOWN, g->count);
}

/* Numbers [lo, hi) of the range, clipped to it, not yet accounted, become s. */
static void
mark(struct weir_replay_gather *g, uint64_t lo, uint64_t hi, uint8_t s, uint32_t *n)
{
	uint64_t end = g->first + g->count;
	for (uint64_t q = lo < g->first ? g->first : lo; q < hi && q < end; q++)
		if (g->state[q - g->first] == WEIR_GATHER_UNKNOWN) {
			g->state[q - g->first] = s;
			(*n)++;
		}
}

bool
weir_replay_gather_add(struct weir_replay_gather *g, const struct weir_record *r, const uint8_t *payload,
		       uint32_t payload_len)
{
	if (memcmp(r->source, g->key, WEIR_SOURCE_BYTES) != 0)
		return weir_replay_gather_done(g);
	uint64_t end = g->first + g->count;
	if (r->kind == WEIR_REC_EVENT && r->seq >= g->first && r->seq < end) {
		uint32_t i = (uint32_t)(r->seq - g->first);
		if (g->state[i] == WEIR_GATHER_UNKNOWN && payload_len <= 0xFFFF &&
		    g->arena_used + payload_len <= g->arena_cap) {
			memcpy(g->arena + g->arena_used, payload, payload_len);
			g->at[i] = g->arena_used;
			g->len[i] = (uint16_t)payload_len;
			g->arena_used += payload_len;
			g->state[i] = WEIR_GATHER_EVENT;
			g->events++;
		}
	} else if (r->kind == WEIR_REC_LOSS) {
		mark(g, r->seq, r->seq + r->count, WEIR_GATHER_LOST, &g->lost);
	} else if (r->kind == WEIR_REC_END_OF_SESSION) {
		/* Nothing at or above its next number will come (a restart
		 * after it would be a new session of the same name). */
		mark(g, r->seq, end, WEIR_GATHER_ENDED, &g->ended);
	}
	return weir_replay_gather_done(g);
}

uint64_t
weir_replay_gather_first_unknown(const struct weir_replay_gather *g)
{
	uint32_t i = 0;
	while (i < g->count && g->state[i] != WEIR_GATHER_UNKNOWN)
		i++;
	return g->first + i;
}
