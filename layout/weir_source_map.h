/*
 * Source keys in tables: the one hash and the one equality of a 16-byte
 * source key, and a map of keys to rows that grows (open addressing, linear
 * probing, at most half full).  The tracker's table (dataplane/weir_seq.h)
 * is laid out once in shared memory and probes its own 64-byte slots with
 * this hash; every table built off the hot path (the restore at start, the
 * log index, weir-replay's) is a weir_source_map of rows into its own array.
 */
#ifndef WEIR_SOURCE_MAP_H
#define WEIR_SOURCE_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_record.h"

#define WEIR_SOURCE_MAP_NONE UINT32_MAX

static inline uint32_t
weir_source_hash(const uint8_t key[WEIR_SOURCE_BYTES])
{
	uint64_t a, b;
	__builtin_memcpy(&a, key, 8);
	__builtin_memcpy(&b, key + 8, 8);
	uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
	return (uint32_t)(h ^ (h >> 31) ^ (h >> 47));
}

/* Two 8-byte compares: a memcmp call was seen in the tracker's profile
 * where the compiler would not inline it. */
static inline bool
weir_source_key_eq(const uint8_t a[WEIR_SOURCE_BYTES], const uint8_t b[WEIR_SOURCE_BYTES])
{
	uint64_t a0, a1, b0, b1;
	__builtin_memcpy(&a0, a, 8);
	__builtin_memcpy(&a1, a + 8, 8);
	__builtin_memcpy(&b0, b, 8);
	__builtin_memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* A zeroed map is empty and holds no memory. */
struct weir_source_map {
	uint32_t n, mask;            /* mask: slots - 1 (0 with none) */
	struct weir_source_map_slot {
		uint8_t key[WEIR_SOURCE_BYTES];
		uint32_t row_plus_1; /* 0: empty */
	} *slot;
};

/* key's row, or WEIR_SOURCE_MAP_NONE. */
uint32_t weir_source_map_get(const struct weir_source_map *m, const uint8_t key[WEIR_SOURCE_BYTES]);
/* key's row; a new key is given row (*added set).  WEIR_SOURCE_MAP_NONE
 * when memory is out (the map as it was). */
uint32_t weir_source_map_put(struct weir_source_map *m, const uint8_t key[WEIR_SOURCE_BYTES], uint32_t row,
			     bool *added);
/* Empty again: its memory kept, or let go when the map held far fewer
 * keys than it has room for (it grows again as they come). */
void weir_source_map_clear(struct weir_source_map *m);
void weir_source_map_free(struct weir_source_map *m);

#endif
