#include <stdlib.h>
#include <string.h>

#include "weir_replay_hints.h"

int
weir_replay_hints_init(struct weir_replay_hints *h, uint32_t max_sources, uint64_t max_points)
{
	memset(h, 0, sizeof(*h));
	h->n_slots = 16;
	while (h->n_slots < 2 * max_sources)
		h->n_slots *= 2;
	h->max_sources = max_sources;
	h->max_points = max_points;
	h->slot = calloc(h->n_slots, sizeof(*h->slot));
	return h->slot ? 0 : -1;
}

/* key's slot; an unused one where it would go when it has none. */
static struct weir_replay_hint_source *
slot_of(const struct weir_replay_hints *h, const uint8_t key[WEIR_SOURCE_BYTES])
{
	for (uint32_t i = weir_source_hash(key) & (h->n_slots - 1);; i = (i + 1) & (h->n_slots - 1))
		if (!h->slot[i].used || memcmp(h->slot[i].key, key, WEIR_SOURCE_BYTES) == 0)
			return &h->slot[i];
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
	struct weir_replay_hint_source *s = slot_of(h, key);
	if (!s->used) {
		if (h->n_sources >= h->max_sources) {
			h->full = true;
			return;
		}
		memcpy(s->key, key, WEIR_SOURCE_BYTES);
		s->used = true;
		h->n_sources++;
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
	const struct weir_replay_hint_source *s = slot_of(h, key);
	if (!s->used || s->n == 0 || s->points[0].seq > first)
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
	const struct weir_replay_hint_source *s = slot_of(h, key);
	if (!s->used)
		return false;
	*max_seq = s->max_seq;
	return true;
}

void
weir_replay_hints_clear(struct weir_replay_hints *h)
{
	for (uint32_t i = 0; i < h->n_slots; i++)
		free(h->slot[i].points);
	memset(h->slot, 0, h->n_slots * sizeof(*h->slot));
	h->n_sources = 0;
	h->n_points = 0;
	h->full = false;
}

void
weir_replay_hints_free(struct weir_replay_hints *h)
{
	if (h->slot)
		weir_replay_hints_clear(h);
	free(h->slot);
	h->slot = NULL;
}
