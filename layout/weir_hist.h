/*
 * Latency histograms, log-linear: bucket i counts values up to
 * 1 us * 2^(i/2) (1 us to about 741 ms), then one for everything above.
 * Single writer (weir_single_writer.h); readers sum the buckets of many.
 */
#ifndef WEIR_HIST_H
#define WEIR_HIST_H

#include <stdint.h>

#include "weir_single_writer.h"

#define WEIR_HIST_BUCKETS 40

static const uint64_t weir_hist_bound_ns[WEIR_HIST_BUCKETS] = {
	1000ull, 1414ull, 2000ull, 2828ull, 4000ull,
	5657ull, 8000ull, 11314ull, 16000ull, 22627ull,
	32000ull, 45255ull, 64000ull, 90510ull, 128000ull,
	181019ull, 256000ull, 362039ull, 512000ull, 724077ull,
	1024000ull, 1448155ull, 2048000ull, 2896309ull, 4096000ull,
	5792619ull, 8192000ull, 11585238ull, 16384000ull, 23170475ull,
	32768000ull, 46340950ull, 65536000ull, 92681900ull, 131072000ull,
	185363800ull, 262144000ull, 370727600ull, 524288000ull, 741455200ull,
};

struct weir_hist {
	uint64_t bucket[WEIR_HIST_BUCKETS + 1]; /* the last: above every bound */
	uint64_t sum_ns;
	uint64_t count;
};

static inline unsigned
weir_hist_bucket(uint64_t ns)
{
	unsigned lo = 0, hi = WEIR_HIST_BUCKETS; /* the first bound >= ns, by halving */
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (weir_hist_bound_ns[mid] < ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* n values of ns each (a burst's events share their latency). */
static inline void
weir_hist_add(struct weir_hist *h, uint64_t ns, uint64_t n)
{
	if (n == 0)
		return;
	weir_sw_add(&h->bucket[weir_hist_bucket(ns)], n);
	weir_sw_add(&h->sum_ns, ns * n);
	weir_sw_add(&h->count, n);
}

/* The upper bound (ns) of the bucket that holds quantile q of h: 0 when
 * h is empty, UINT64_MAX past the last bound. */
static inline uint64_t
weir_hist_quantile_bound(const struct weir_hist *h, double q)
{
	uint64_t total = 0, want, seen = 0;
	for (unsigned i = 0; i <= WEIR_HIST_BUCKETS; i++)
		total += h->bucket[i];
	if (total == 0)
		return 0;
	want = (uint64_t)(q * (double)total + 0.999999);
	for (unsigned i = 0; i < WEIR_HIST_BUCKETS; i++)
		if ((seen += h->bucket[i]) >= want)
			return weir_hist_bound_ns[i];
	return UINT64_MAX;
}

#endif
