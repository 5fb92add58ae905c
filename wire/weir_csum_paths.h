/* The Internet checksum's sum over a datagram's bytes on the widest vector
 * path the CPU has: AVX-512 (BW), AVX2 or scalar, chosen once at start from
 * the CPU's flags (issue 24 item 7), and by a DPDK program no wider than
 * EAL's SIMD width (--force-max-simd-bitwidth, 256 unless raised: DPDK's
 * own drivers take their AVX-512 paths on the same terms).  The sums are
 * the same on every path: weir_csum_finish() of any gives one checksum. */
#ifndef WEIR_CSUM_PATHS_H
#define WEIR_CSUM_PATHS_H

#include <stdint.h>

/* sum plus the native 16-bit words of len bytes at p, as weir_csum_partial */
typedef uint64_t (*weir_csum_sum_fn)(const uint8_t *p, uint32_t len, uint64_t sum);
/* the same, the bytes copied to dst on the way: one pass where a sender
 * copies a payload into a frame and sums it */
typedef uint64_t (*weir_csum_copy_fn)(uint8_t *dst, const uint8_t *src, uint32_t len, uint64_t sum);

struct weir_csum_path {
	const char *name; /* "avx512", "avx2", "scalar" */
	unsigned bits;    /* its vectors' width: 512, 256, 64 (DPDK's RTE_VECT_SIMD_DISABLED) */
	/* Bytes below which the inline scalar sum is as fast as a call to this
	 * path (bench_stages BM_csum, AMD EPYC: AVX-512 wins from 38 bytes, AVX2
	 * somewhere between 108 and 160); weir_csum_bytes() and weir_csum_copy()
	 * ask it. */
	uint32_t inline_below;
	weir_csum_sum_fn sum;
	weir_csum_copy_fn copy;
};

/* The path in use: the widest this CPU runs, set before main() runs, or
 * the one weir_csum_path_limit() made it. */
extern struct weir_csum_path weir_csum_in_use;

/* Makes the widest path this CPU runs no wider than max_bits the one in use
 * and returns it.  Before any thread sums: nothing orders it against them. */
const struct weir_csum_path *weir_csum_path_limit(unsigned max_bits);

/* Every path this CPU can run, widest first (the last is scalar); returns
 * how many.  The unit tests hold each to a byte-pair reference sum. */
unsigned weir_csum_paths_runnable(const struct weir_csum_path **paths);

#endif
