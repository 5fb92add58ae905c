#include <stdlib.h>
#include <string.h>

#include "weir_replay_idle.h"

void
weir_replay_idle_saw(struct weir_replay_idle *h, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t next, bool ended)
{
	uint32_t n = h->keys.n;
	if (n == h->cap) {
		uint32_t cap = h->cap ? 2 * h->cap : 64;
		struct weir_replay_idle_source *s = realloc(h->sources, (size_t)cap * sizeof(*s));
		if (s == NULL)
			return;
		h->sources = s;
		h->cap = cap;
	}
	bool added;
	uint32_t i = weir_source_map_put(&h->keys, key, n, &added);
	if (i == WEIR_SOURCE_MAP_NONE)
		return;
	struct weir_replay_idle_source *s = &h->sources[i];
	if (added) {
		memcpy(s->key, key, WEIR_SOURCE_BYTES);
		s->next = next;
	} else if (next > s->next || s->ended) { /* a late fill does not move it back; a restart does */
		s->next = next;
	}
	s->ended = ended;
}

void
weir_replay_idle_free(struct weir_replay_idle *h)
{
	weir_source_map_free(&h->keys);
	free(h->sources);
	h->sources = NULL;
	h->cap = 0;
}
