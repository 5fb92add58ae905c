/* The checksum sum's vector paths.  Each counts a byte pair as the native
 * (little-endian) word the scalar sum adds: low byte + 256 * high byte,
 * taken from two vpsadbw sums of a block's even and odd bytes.  A 64-bit
 * lane of a sad sum grows by at most 8 * 255 a block, so no length a
 * datagram or frame can have overflows it.  Blocks start at even offsets,
 * so the scalar tail (AVX2) sees the bytes' pairs as the blocks did. */
#include <immintrin.h>
#include <string.h>

#include "weir_csum.h"
#include "weir_csum_paths.h"

static uint64_t
sum_scalar(const uint8_t *p, uint32_t len, uint64_t sum)
{
	return weir_csum_partial(p, len, sum);
}

static uint64_t
copy_scalar(uint8_t *dst, const uint8_t *src, uint32_t len, uint64_t sum)
{
	memcpy(dst, src, len);
	return weir_csum_partial(src, len, sum);
}

#define AVX512 __attribute__((target("avx512f,avx512bw")))
#define AVX2 __attribute__((target("avx2")))

/* the even (low) bytes' sad sums into lo, the odd (high) bytes' into hi */
AVX512 static inline void
block512(__m512i v, __m512i *lo, __m512i *hi)
{
	const __m512i z = _mm512_setzero_si512();
	*lo = _mm512_add_epi64(*lo, _mm512_sad_epu8(_mm512_and_si512(v, _mm512_set1_epi16(0x00FF)), z));
	*hi = _mm512_add_epi64(*hi, _mm512_sad_epu8(_mm512_srli_epi16(v, 8), z));
}

AVX512 static inline uint64_t
total512(__m512i lo, __m512i hi)
{
	return (uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(lo, _mm512_slli_epi64(hi, 8)));
}

/* the bytes past the last whole block: a masked load reads none past len */
AVX512 static uint64_t
sum_avx512(const uint8_t *p, uint32_t len, uint64_t sum)
{
	__m512i lo = _mm512_setzero_si512(), hi = lo;
	for (; len >= 64; p += 64, len -= 64)
		block512(_mm512_loadu_si512(p), &lo, &hi);
	if (len)
		block512(_mm512_maskz_loadu_epi8(((__mmask64)1 << len) - 1, p), &lo, &hi);
	return weir_csum_add(sum, total512(lo, hi));
}

AVX512 static uint64_t
copy_avx512(uint8_t *dst, const uint8_t *src, uint32_t len, uint64_t sum)
{
	__m512i lo = _mm512_setzero_si512(), hi = lo;
	for (; len >= 64; src += 64, dst += 64, len -= 64) {
		__m512i v = _mm512_loadu_si512(src);
		_mm512_storeu_si512(dst, v);
		block512(v, &lo, &hi);
	}
	if (len) {
		__mmask64 m = ((__mmask64)1 << len) - 1;
		__m512i v = _mm512_maskz_loadu_epi8(m, src);
		_mm512_mask_storeu_epi8(dst, m, v);
		block512(v, &lo, &hi);
	}
	return weir_csum_add(sum, total512(lo, hi));
}

AVX2 static inline void
block256(__m256i v, __m256i *lo, __m256i *hi)
{
	const __m256i z = _mm256_setzero_si256();
	*lo = _mm256_add_epi64(*lo, _mm256_sad_epu8(_mm256_and_si256(v, _mm256_set1_epi16(0x00FF)), z));
	*hi = _mm256_add_epi64(*hi, _mm256_sad_epu8(_mm256_srli_epi16(v, 8), z));
}

AVX2 static inline uint64_t
total256(__m256i lo, __m256i hi)
{
	__m256i t = _mm256_add_epi64(lo, _mm256_slli_epi64(hi, 8));
	__m128i s = _mm_add_epi64(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
	return (uint64_t)_mm_cvtsi128_si64(s) + (uint64_t)_mm_extract_epi64(s, 1);
}

/* AVX2 has no byte-masked load: the last < 32 bytes go the scalar way */
AVX2 static uint64_t
sum_avx2(const uint8_t *p, uint32_t len, uint64_t sum)
{
	if (len < 32)
		return weir_csum_partial(p, len, sum);
	__m256i lo = _mm256_setzero_si256(), hi = lo;
	for (; len >= 32; p += 32, len -= 32)
		block256(_mm256_loadu_si256((const __m256i *)p), &lo, &hi);
	return weir_csum_partial(p, len, weir_csum_add(sum, total256(lo, hi)));
}

AVX2 static uint64_t
copy_avx2(uint8_t *dst, const uint8_t *src, uint32_t len, uint64_t sum)
{
	__m256i lo = _mm256_setzero_si256(), hi = lo;
	for (; len >= 32; src += 32, dst += 32, len -= 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)src);
		_mm256_storeu_si256((__m256i *)dst, v);
		block256(v, &lo, &hi);
	}
	memcpy(dst, src, len);
	return weir_csum_partial(src, len, weir_csum_add(sum, total256(lo, hi)));
}

static const struct weir_csum_path paths[] = {
	{ "avx512", 512, 0, sum_avx512, copy_avx512 },
	{ "avx2", 256, 128, sum_avx2, copy_avx2 },
	{ "scalar", 64, UINT32_MAX, sum_scalar, copy_scalar },
};
#define N_PATHS (sizeof(paths) / sizeof(paths[0]))

struct weir_csum_path weir_csum_in_use = { "scalar", 64, UINT32_MAX, sum_scalar, copy_scalar };

static int
runnable(const struct weir_csum_path *p)
{
	if (p->sum == sum_avx512)
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
	if (p->sum == sum_avx2)
		return __builtin_cpu_supports("avx2");
	return 1;
}

unsigned
weir_csum_paths_runnable(const struct weir_csum_path **out)
{
	unsigned n = 0;
	for (unsigned i = 0; i < N_PATHS; i++)
		if (runnable(&paths[i]))
			out[n++] = &paths[i];
	return n;
}

const struct weir_csum_path *
weir_csum_path_limit(unsigned max_bits)
{
	const struct weir_csum_path *p = &paths[N_PATHS - 1];
	for (unsigned i = 0; i < N_PATHS; i++)
		if (paths[i].bits <= max_bits && runnable(&paths[i])) {
			p = &paths[i];
			break;
		}
	weir_csum_in_use = *p;
	return p;
}

/* Before main(): every thread that sums sees the path chosen, no lock. */
__attribute__((constructor)) static void
choose_path(void)
{
	__builtin_cpu_init(); /* a constructor may run before libgcc's own */
	weir_csum_path_limit(UINT32_MAX);
}
