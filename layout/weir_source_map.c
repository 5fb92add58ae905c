#include <stdlib.h>
#include <string.h>

#include "weir_source_map.h"

/* The slot of key, or the empty one where it would go. */
static struct weir_source_map_slot *
probe(const struct weir_source_map *m, const uint8_t key[WEIR_SOURCE_BYTES])
{
	for (uint32_t i = weir_source_hash(key) & m->mask;; i = (i + 1) & m->mask) {
		struct weir_source_map_slot *s = &m->slot[i];
		if (s->row_plus_1 == 0 || weir_source_key_eq(s->key, key))
			return s;
	}
}

uint32_t
weir_source_map_get(const struct weir_source_map *m, const uint8_t key[WEIR_SOURCE_BYTES])
{
	if (m->slot == NULL)
		return WEIR_SOURCE_MAP_NONE;
	return probe(m, key)->row_plus_1 - 1; /* empty: 0 - 1, NONE */
}

/* Twice the slots (64 at first), every key placed again. */
static bool
grow(struct weir_source_map *m)
{
	uint32_t slots = m->slot ? (m->mask + 1) * 2 : 64;
	struct weir_source_map bigger = { .n = m->n, .mask = slots - 1 };
	if (slots == 0 || (bigger.slot = calloc(slots, sizeof(*bigger.slot))) == NULL)
		return false;
	for (uint32_t i = 0; m->slot && i <= m->mask; i++)
		if (m->slot[i].row_plus_1)
			*probe(&bigger, m->slot[i].key) = m->slot[i];
	free(m->slot);
	*m = bigger;
	return true;
}

uint32_t
weir_source_map_put(struct weir_source_map *m, const uint8_t key[WEIR_SOURCE_BYTES], uint32_t row, bool *added)
{
	*added = false;
	if (m->slot) {
		struct weir_source_map_slot *s = probe(m, key);
		if (s->row_plus_1)
			return s->row_plus_1 - 1;
	}
	if (row == WEIR_SOURCE_MAP_NONE || ((m->n + 1) * 2 > m->mask + 1 && !grow(m)))
		return WEIR_SOURCE_MAP_NONE;
	struct weir_source_map_slot *s = probe(m, key);
	memcpy(s->key, key, WEIR_SOURCE_BYTES);
	s->row_plus_1 = row + 1;
	m->n++;
	*added = true;
	return row;
}

void
weir_source_map_clear(struct weir_source_map *m)
{
	/* Cleared once per block by the log index: a table grown for one busy
	 * block is not wiped whole for every quiet one after it. */
	if (m->slot && m->mask + 1 > 64 && (uint64_t)m->n * 8 < (uint64_t)m->mask + 1) {
		weir_source_map_free(m);
		return;
	}
	if (m->slot)
		memset(m->slot, 0, ((size_t)m->mask + 1) * sizeof(*m->slot));
	m->n = 0;
}

void
weir_source_map_free(struct weir_source_map *m)
{
	free(m->slot);
	*m = (struct weir_source_map){ 0 };
}
