#include <stdlib.h>
#include <string.h>

#include "weir_replay_hints.h"

int
weir_replay_hints_init(struct weir_replay_hints *h, uint32_t max_sources, uint64_t max_points)
{
	memset(h, 0, sizeof(*h));
	h->max_sources = max_sources;
	h->max_points = max_points;
	h->sources = calloc(max_sources ? max_sources : 1, sizeof(*h->sources));
	return h->sources ? 0 : -1;
}

/* key's source; NULL when it has none. */
static struct weir_replay_hint_source *
source_of(const struct weir_replay_hints *h, const uint8_t key[WEIR_SOURCE_BYTES])
{
	uint32_t i = weir_source_map_get(&h->keys, key);
	return i == WEIR_SOURCE_MAP_NONE ? NULL : &h->sources[i];
}

static bool
add_point(struct weir_replay_hints *h, struct weir_replay_hint_source *s, uint64_t seq, uint64_t offset)
{
	if (h->n_points >= h->max_points)
		return false;
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? 2 * s->cap : 16;
		struct weir_replay_hint_point *p = realloc(s->points, cap * sizeof(*p));
		if (p == NULL)
			return false;
		s->points = p, s->cap = cap;
	}
	s->points[s->n++] = (struct weir_replay_hint_point){ seq, offset };
	h->n_points++;
	return true;
}

void
weir_replay_hints_see(struct weir_replay_hints *h, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t seq,
		      uint64_t offset, bool late)
{
	if (late)
		return; /* a fill of a gap opened before: never a point */
	struct weir_replay_hint_source *s = source_of(h, key);
	if (s == NULL) {
		bool added;
		uint32_t n = h->keys.n;
		if (n >= h->max_sources || weir_source_map_put(&h->keys, key, n, &added) == WEIR_SOURCE_MAP_NONE) {
			h->full = true;
			return;
		}
		s = &h->sources[n];
	} else if (seq <= s->max_seq) {
		return; /* a session begun again, or untracked: not the highest, no point */
	}
	s->max_seq = seq;
	if ((s->n == 0 || seq >= s->points[s->n - 1].seq + WEIR_REPLAY_HINT_EVERY) && !add_point(h, s, seq, offset))
		h->full = true;
}

bool
weir_replay_hints_find(const struct weir_replay_hints *h, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t first,
		       uint64_t *offset)
{
	const struct weir_replay_hint_source *s = source_of(h, key);
	if (s == NULL || s->n == 0 || s->points[0].seq > first)
		return false;
	uint32_t lo = 0, hi = s->n; /* the last point with seq <= first */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (s->points[mid].seq <= first)
			lo = mid;
		else
			hi = mid;
	}
	*offset = s->points[lo].offset;
	return true;
}

bool
weir_replay_hints_max(const struct weir_replay_hints *h, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t *max_seq)
{
	const struct weir_replay_hint_source *s = source_of(h, key);
	if (s == NULL)
		return false;
	*max_seq = s->max_seq;
	return true;
}

void
weir_replay_hints_clear(struct weir_replay_hints *h)
{
	for (uint32_t i = 0; i < h->keys.n; i++)
		free(h->sources[i].points);
	memset(h->sources, 0, (size_t)h->keys.n * sizeof(*h->sources));
	weir_source_map_clear(&h->keys);
	h->n_points = 0;
	h->full = false;
}

void
weir_replay_hints_free(struct weir_replay_hints *h)
{
	if (h->sources)
		weir_replay_hints_clear(h);
	free(h->sources);
	h->sources = NULL;
	weir_source_map_free(&h->keys);
}
