#include <stdlib.h>
#include <string.h>

#include "weir_replay_senders.h"

/* The name alone: the key with its sender cleared (what it hashes by). */
static void
name_of(const uint8_t key[WEIR_SOURCE_BYTES], uint8_t name[WEIR_SOURCE_BYTES])
{
	memcpy(name, key, WEIR_SOURCE_BYTES);
	if (key[0] == 0xFF)
		memset(name + 3, 0, 4);
	else
		memset(name + 10, 0, 6);
}

bool
weir_replay_senders_claim(struct weir_replay_senders *t, const uint8_t key[WEIR_SOURCE_BYTES], const uint8_t **other)
{
	uint8_t name[WEIR_SOURCE_BYTES];
	if (t->slot == NULL && (t->slot = calloc(WEIR_REPLAY_SENDER_SLOTS, sizeof(*t->slot))) == NULL)
		t->full = true; /* no memory: unchecked, as past the bound */
	if (t->slot == NULL)
		return true;
	name_of(key, name);
	for (uint32_t i = weir_source_hash(name) & (WEIR_REPLAY_SENDER_SLOTS - 1);; i = (i + 1) & (WEIR_REPLAY_SENDER_SLOTS - 1)) {
		struct weir_replay_sender_slot *s = &t->slot[i];
		if (!s->used) {
			if (t->n >= WEIR_REPLAY_SENDER_SLOTS / 2) {
				t->full = true;
				return true;
			}
			memcpy(s->key, key, WEIR_SOURCE_BYTES);
			s->used = true;
			t->n++;
			return true;
		}
		if (weir_source_same_identity(s->key, key)) {
			*other = s->key;
			return memcmp(s->key, key, WEIR_SOURCE_BYTES) == 0;
		}
	}
}

void
weir_replay_senders_free(struct weir_replay_senders *t)
{
	free(t->slot);
	t->slot = NULL;
}
