/*
 * The ones'-complement sum of a long run of bytes (a datagram checked in
 * software where the NIC did not), with the widest vector unit this CPU has:
 * AVX-512 or AVX2, chosen once at start from its flags, else the scalar
 * loop.  Every path adds the same 32-bit words into 64-bit lanes, so each
 * gives the scalar sum exactly, before folding (tests/unit/test_csum.c runs
 * every path the machine can).
 */
#include <immintrin.h>

#include "weir_csum.h"

/* Each 64-bit lane adds its low and high 32-bit words (a mask and a shift:
 * no shuffle), two registers a round so the adds do not wait on each other. */
__attribute__((target("avx2"))) static uint64_t
sum_avx2(const uint8_t *p, uint32_t len, uint64_t sum)
{
	const __m256i low = _mm256_set1_epi64x(0xFFFFFFFF);
	__m256i a = _mm256_setzero_si256(), b = a;
	uint32_t i = 0;
	for (; i + 64 <= len; i += 64) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
		__m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 32));
		a = _mm256_add_epi64(a, _mm256_add_epi64(_mm256_and_si256(v, low), _mm256_srli_epi64(v, 32)));
		b = _mm256_add_epi64(b, _mm256_add_epi64(_mm256_and_si256(w, low), _mm256_srli_epi64(w, 32)));
	}
	uint64_t lane[4];
	_mm256_storeu_si256((__m256i *)(void *)lane, _mm256_add_epi64(a, b));
	/* the rest from a multiple of 8: the scalar loop's own alignment */
	return weir_csum_partial(p + i, len - i, sum + lane[0] + lane[1] + lane[2] + lane[3]);
}

__attribute__((target("avx512f"))) static uint64_t
sum_avx512(const uint8_t *p, uint32_t len, uint64_t sum)
{
	const __m512i low = _mm512_set1_epi64(0xFFFFFFFF);
	__m512i a = _mm512_setzero_si512(), b = a;
	uint32_t i = 0;
	for (; i + 128 <= len; i += 128) {
		__m512i v = _mm512_loadu_si512((const void *)(p + i));
		__m512i w = _mm512_loadu_si512((const void *)(p + i + 64));
		a = _mm512_add_epi64(a, _mm512_add_epi64(_mm512_and_si512(v, low), _mm512_srli_epi64(v, 32)));
		b = _mm512_add_epi64(b, _mm512_add_epi64(_mm512_and_si512(w, low), _mm512_srli_epi64(w, 32)));
	}
	return weir_csum_partial(p + i, len - i, sum + (uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(a, b)));
}

static uint64_t
sum_scalar(const uint8_t *p, uint32_t len, uint64_t sum)
{
	return weir_csum_partial(p, len, sum);
}

static const struct {
	const char *name;
	weir_csum_fn fn;
} paths[WEIR_CSUM_PATHS] = {
	[WEIR_CSUM_SCALAR] = { "scalar", sum_scalar },
	[WEIR_CSUM_AVX2] = { "avx2", sum_avx2 },
	[WEIR_CSUM_AVX512] = { "avx512", sum_avx512 },
};

weir_csum_fn weir_csum_long = sum_scalar;

bool
weir_csum_path_runs(enum weir_csum_path p)
{
	__builtin_cpu_init();
	switch (p) {
	case WEIR_CSUM_SCALAR:
		return true;
	case WEIR_CSUM_AVX2:
		return __builtin_cpu_supports("avx2");
	case WEIR_CSUM_AVX512:
		return __builtin_cpu_supports("avx512f");
	default:
		return false;
	}
}

bool
weir_csum_use(enum weir_csum_path p)
{
	if (p >= WEIR_CSUM_PATHS || !weir_csum_path_runs(p))
		return false;
	weir_csum_long = paths[p].fn;
	return true;
}

const char *
weir_csum_path_name(enum weir_csum_path p)
{
	return p < WEIR_CSUM_PATHS ? paths[p].name : "?";
}

enum weir_csum_path
weir_csum_widest(void)
{
	return weir_csum_path_runs(WEIR_CSUM_AVX512) ? WEIR_CSUM_AVX512
	       : weir_csum_path_runs(WEIR_CSUM_AVX2) ? WEIR_CSUM_AVX2
							: WEIR_CSUM_SCALAR;
}

/* Before main: every program that links wire/ sums with the widest path. */
__attribute__((constructor)) static void
choose_path(void)
{
	weir_csum_use(weir_csum_widest());
}
