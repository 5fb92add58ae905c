#include <string.h>

#include "weir_replay_idle.h"

void
weir_replay_idle_saw(struct weir_replay_idle *h, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t next, bool ended)
{
	for (uint32_t i = weir_source_hash(key) & (WEIR_REPLAY_IDLE_SLOTS - 1);; i = (i + 1) & (WEIR_REPLAY_IDLE_SLOTS - 1)) {
		struct weir_replay_idle_source *s = &h->slot[i];
		if (s->used && memcmp(s->key, key, WEIR_SOURCE_BYTES) == 0) {
			if (next > s->next || s->ended) /* a late fill does not move it back; a restart does */
				s->next = next;
			s->ended = ended;
			return;
		}
		if (!s->used) {
			if (h->n >= WEIR_REPLAY_IDLE_SLOTS / 2)
				return; /* full: a source this many in is not heartbeated */
			memcpy(s->key, key, WEIR_SOURCE_BYTES);
			s->used = 1;
			s->next = next;
			s->ended = ended;
			h->n++;
			return;
		}
	}
}
