/* UNIX ns from the TSC, kept true to the system's clock.  DPDK's tick rate
 * is nominal (2.600 GHz said where 2.596126 was measured: 1.5 ms a second of
 * drift), so the main lcore pairs the TSC with the system's clock every
 * ~50 ms and republishes the mapping: the rate measured since the start,
 * plus a slew that takes the remaining error away over a quarter second.  Workers copy it
 * into their own (tsc, ns, rate) every ~100 ms and extrapolate from that on
 * the hot path.  Pure C, time passed in: tests drive it with made-up clocks. */
#ifndef WEIR_TSC_CLOCK_H
#define WEIR_TSC_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define WEIR_TSC_SLEW_NS 250000000ll    /* an error is taken away over this much time */
#define WEIR_TSC_SLEW_MAX_PPM 500       /* and never faster than this (NTP's own bound) */

/* ns = ns0 + (tsc - tsc0) * q32 >> 32 */
struct weir_tsc_map {
	uint64_t tsc0, ns0, q32;
};

struct weir_tsc_clock {
	struct weir_tsc_map map;
	uint64_t first_tsc, first_ns; /* the measurement's start */
};

static inline uint64_t
weir_tsc_map_ns(const struct weir_tsc_map *m, uint64_t tsc)
{
	int64_t d = (int64_t)(tsc - m->tsc0);
	return (uint64_t)((__int128)m->ns0 + (((__int128)d * (__int128)m->q32) >> 32));
}

static inline void
weir_tsc_clock_init(struct weir_tsc_clock *c, uint64_t tsc, uint64_t ns, uint64_t nominal_hz)
{
	c->map = (struct weir_tsc_map){ tsc, ns, (uint64_t)(((unsigned __int128)1000000000ull << 32) / nominal_hz) };
	c->first_tsc = tsc;
	c->first_ns = ns;
}

/* One (tsc, ns) pairing, ns from a clock that never steps (the caller's
 * monotonic clock, set to UNIX time at the start): the mapping from tsc on,
 * continuous at tsc and never going back, so timers never jump. */
static inline void
weir_tsc_clock_update(struct weir_tsc_clock *c, uint64_t tsc, uint64_t ns)
{
	if (tsc <= c->first_tsc)
		return;
	uint64_t cur = weir_tsc_map_ns(&c->map, tsc);
	int64_t err = (int64_t)(ns - cur);
	uint64_t q32 = c->map.q32;
	if (ns > c->first_ns) /* the rate over all the time there is */
		q32 = (uint64_t)(((unsigned __int128)(ns - c->first_ns) << 32) / (tsc - c->first_tsc));
	/* err ns more over the next WEIR_TSC_SLEW_NS: err / slew of a ns a ns */
	__int128 slew = ((__int128)err * (__int128)q32) / WEIR_TSC_SLEW_NS;
	__int128 bound = (__int128)q32 * WEIR_TSC_SLEW_MAX_PPM / 1000000;
	slew = slew > bound ? bound : slew < -bound ? -bound : slew;
	c->map = (struct weir_tsc_map){ tsc, cur, (uint64_t)((__int128)q32 + slew) };
}

/* The mapping as the main lcore publishes it to the workers: a sequence
 * lock (odd while written), on a cache line of its own. */
struct weir_tsc_pub {
	uint64_t seq;
	struct weir_tsc_map map;
} __attribute__((aligned(64)));

static inline void
weir_tsc_publish(struct weir_tsc_pub *p, const struct weir_tsc_map *m)
{
	uint64_t s = __atomic_load_n(&p->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&p->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&p->map.tsc0, m->tsc0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->map.ns0, m->ns0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->map.q32, m->q32, __ATOMIC_RELAXED);
	__atomic_store_n(&p->seq, s + 2, __ATOMIC_RELEASE);
}

/* The published mapping; false when it was being written (try later). */
static inline bool
weir_tsc_read(const struct weir_tsc_pub *p, struct weir_tsc_map *m)
{
	uint64_t s = __atomic_load_n(&p->seq, __ATOMIC_ACQUIRE);
	m->tsc0 = __atomic_load_n(&p->map.tsc0, __ATOMIC_RELAXED);
	m->ns0 = __atomic_load_n(&p->map.ns0, __ATOMIC_RELAXED);
	m->q32 = __atomic_load_n(&p->map.q32, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return !(s & 1) && __atomic_load_n(&p->seq, __ATOMIC_RELAXED) == s;
}

/* A worker takes the published mapping at tsc without its time going back:
 * where the new one reads earlier than its own, it goes on from its own
 * reading, slower by as much as takes the difference away (within the slew
 * bound, so never backwards). */
static inline void
weir_tsc_adopt(struct weir_tsc_map *own, const struct weir_tsc_map *pub, uint64_t tsc)
{
	uint64_t mine = weir_tsc_map_ns(own, tsc), theirs = weir_tsc_map_ns(pub, tsc);
	if (theirs >= mine) {
		*own = *pub;
		return;
	}
	__int128 slew = ((__int128)(int64_t)(theirs - mine) * (__int128)pub->q32) / WEIR_TSC_SLEW_NS;
	__int128 bound = (__int128)pub->q32 * WEIR_TSC_SLEW_MAX_PPM / 1000000;
	*own = (struct weir_tsc_map){ tsc, mine, (uint64_t)((__int128)pub->q32 + (slew < -bound ? -bound : slew)) };
}

#endif
