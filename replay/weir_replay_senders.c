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

enum weir_replay_claim
weir_replay_senders_claim(struct weir_replay_senders *t, const uint8_t key[WEIR_SOURCE_BYTES], const uint8_t **other)
{
	uint8_t name[WEIR_SOURCE_BYTES];
	name_of(key, name);
	uint32_t n = t->names.n;
	if (n == t->cap) {
		uint32_t cap = t->cap ? 2 * t->cap : 64;
		uint8_t(*k)[WEIR_SOURCE_BYTES] = realloc(t->keys, (size_t)cap * WEIR_SOURCE_BYTES);
		if (k == NULL)
			return WEIR_REPLAY_CLAIM_NO_MEMORY;
		t->keys = k;
		t->cap = cap;
	}
	bool added;
	uint32_t i = weir_source_map_put(&t->names, name, n, &added);
	if (i == WEIR_SOURCE_MAP_NONE)
		return WEIR_REPLAY_CLAIM_NO_MEMORY;
	if (added)
		memcpy(t->keys[i], key, WEIR_SOURCE_BYTES);
	*other = t->keys[i];
	return memcmp(t->keys[i], key, WEIR_SOURCE_BYTES) == 0 ? WEIR_REPLAY_CLAIMED : WEIR_REPLAY_CLAIMED_BY_OTHER;
}

void
weir_replay_senders_free(struct weir_replay_senders *t)
{
	weir_source_map_free(&t->names);
	free(t->keys);
	t->keys = NULL;
	t->cap = 0;
}
