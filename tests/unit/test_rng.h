/* The tests' one pseudo-random source: Knuth's MMIX LCG, seeded per test so
 * a failure repeats. */
#ifndef WEIR_TEST_RNG_H
#define WEIR_TEST_RNG_H
#include <stdint.h>

static inline uint64_t
test_rng_next(uint64_t *state)
{
	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	return *state;
}

/* 0 .. n-1 */
static inline unsigned
test_rng_below(uint64_t *state, unsigned n)
{
	return (unsigned)((test_rng_next(state) >> 33) % n);
}
#endif
