#include <stdlib.h>
#include <string.h>

#include "weir_replay_senders.h"

bool
weir_replay_has_sender(const uint8_t key[WEIR_SOURCE_BYTES])
{
	if (key[0] == 0xFF) /* weir frame: 0xFF 'W' 'F', the sender's IPv4 address, the source id */
		return (key[3] | key[4] | key[5] | key[6]) != 0;
	return (key[10] | key[11] | key[12] | key[13] | key[14] | key[15]) != 0;
}

/* The name alone: the key with its sender cleared. */
static void
name_of(const uint8_t key[WEIR_SOURCE_BYTES], uint8_t name[WEIR_SOURCE_BYTES])
{
	memcpy(name, key, WEIR_SOURCE_BYTES);
	if (key[0] == 0xFF)
		memset(name + 3, 0, 4);
	else
		memset(name + 10, 0, 6);
}

static uint32_t
hash(const uint8_t name[WEIR_SOURCE_BYTES])
{
	uint64_t a, b;
	memcpy(&a, name, 8);
	memcpy(&b, name + 8, 8);
	uint64_t x = a * 0x9E3779B97F4A7C15ull ^ b * 0xC2B2AE3D27D4EB4Full;
	return (uint32_t)(x ^ (x >> 31));
}

bool
weir_replay_senders_claim(struct weir_replay_senders *t, const uint8_t key[WEIR_SOURCE_BYTES], const uint8_t **other)
{
	uint8_t name[WEIR_SOURCE_BYTES], theirs[WEIR_SOURCE_BYTES];
	if (t->slot == NULL && (t->slot = calloc(WEIR_REPLAY_SENDER_SLOTS, sizeof(*t->slot))) == NULL)
		t->full = true; /* no memory: unchecked, as past the bound */
	if (t->slot == NULL)
		return true;
	name_of(key, name);
	for (uint32_t i = hash(name) & (WEIR_REPLAY_SENDER_SLOTS - 1);; i = (i + 1) & (WEIR_REPLAY_SENDER_SLOTS - 1)) {
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
		name_of(s->key, theirs);
		if (memcmp(theirs, name, WEIR_SOURCE_BYTES) == 0) {
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
