/*
 * Figures one thread writes and others read while it runs (the drain's
 * counters and histograms under /metrics, a worker's counter block): the
 * writer adds with a relaxed load and store, never a locked add, since it
 * is the only writer; readers load relaxed.  On x86-64 each is a plain
 * mov, and ThreadSanitizer sees no race.
 */
#ifndef WEIR_SINGLE_WRITER_H
#define WEIR_SINGLE_WRITER_H

#include <stdint.h>

static inline void
weir_sw_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline void
weir_sw_set(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, v, __ATOMIC_RELAXED);
}

static inline uint64_t
weir_sw_load(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#endif
