#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "test_rng.h"
#include "weir_csum.h"
#include "weir_csum_paths.h"

#define MAX_LEN 70000 /* past a UDP datagram's 65,535 */

static uint8_t src[MAX_LEN + 64], dst[MAX_LEN + 128];
static const struct weir_csum_path *paths[8]; /* each this CPU runs, widest first */
static unsigned n;

static int
find_paths(void **state)
{
	n = weir_csum_paths_runnable(paths);
	return 0;
}

/* src filled from a seed: a failure repeats */
static void
fill_src(uint64_t seed)
{
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)test_rng_next(&seed);
}

/* RFC 1071 by the book, a byte pair at a time (x86's native words), apart
 * from every path under test. */
static uint64_t
reference_sum(const uint8_t *p, uint32_t len, uint64_t sum)
{
	for (uint32_t i = 0; i < len; i += 2)
		sum += p[i] | (i + 1 < len ? (uint64_t)p[i + 1] << 8 : 0);
	return sum;
}

static void
assert_same_sum(uint64_t got, uint64_t want, const char *path, uint32_t len, unsigned offset)
{
	if (got % 0xFFFF != want % 0xFFFF || weir_csum_finish(got) != weir_csum_finish(want))
		fail_msg("path %s, %u bytes at offset %u: sum %#llx, the reference %#llx", path, len, offset,
			 (unsigned long long)got, (unsigned long long)want);
}

static void
should_offer_scalar_last_and_use_the_widest_path_the_cpu_runs(void **state)
{
	assert_true(n >= 1);
	assert_string_equal(paths[n - 1]->name, "scalar");
	assert_string_equal(weir_csum_in_use.name, paths[0]->name);
	assert_ptr_equal(weir_csum_in_use.sum, paths[0]->sum);
	assert_ptr_equal(weir_csum_in_use.copy, paths[0]->copy);
	for (unsigned i = 0; i < n; i++)
		print_message("checksum path runnable here: %s\n", paths[i]->name);
}

/* DPDK's --force-max-simd-bitwidth: the widest runnable path within it */
static void
should_take_no_path_wider_than_the_limit_it_is_given(void **state)
{
	static const unsigned limits[] = { 0, 64, 128, 255, 256, 511, 512, UINT32_MAX };
	for (unsigned l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
		const struct weir_csum_path *want = paths[n - 1];
		for (unsigned i = n; i-- > 0;)
			if (paths[i]->bits <= limits[l])
				want = paths[i];
		const struct weir_csum_path *got = weir_csum_path_limit(limits[l]);
		assert_ptr_equal(got, want);
		assert_string_equal(weir_csum_in_use.name, want->name);
		assert_ptr_equal(weir_csum_in_use.sum, want->sum);
		assert_true(got->bits <= limits[l] || got->bits == 64);
	}
	assert_string_equal(weir_csum_path_limit(64)->name, "scalar");
	weir_csum_path_limit(UINT32_MAX);
	assert_string_equal(weir_csum_in_use.name, paths[0]->name);
}

static void
should_give_rfc_1071s_own_example_on_every_path(void **state)
{
	/* RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2, its checksum 220d */
	static const uint8_t bytes[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(weir_csum_finish(paths[i]->sum(bytes, 8, 0)), 0x220d);
		assert_int_equal(weir_csum_finish(paths[i]->copy(dst, bytes, 8, 0)), 0x220d);
	}
}

static void
should_sum_every_length_and_offset_as_the_reference_on_every_path(void **state)
{
	fill_src(24);
	uint64_t rng = 24;
	for (uint32_t len = 0; len <= 1600; len++)
		for (unsigned off = 0; off < 4; off++) {
			uint64_t start = test_rng_next(&rng) >> 24; /* a pseudo-header's partial sum */
			uint64_t want = reference_sum(src + off, len, start);
			for (unsigned i = 0; i < n; i++)
				assert_same_sum(paths[i]->sum(src + off, len, start), want, paths[i]->name, len, off);
		}
}

static void
should_not_overflow_over_the_longest_datagram_of_all_ones(void **state)
{
	memset(src, 0xFF, sizeof(src));
	for (unsigned i = 0; i < n; i++) {
		assert_same_sum(paths[i]->sum(src, MAX_LEN, UINT32_MAX), reference_sum(src, MAX_LEN, UINT32_MAX),
				paths[i]->name, MAX_LEN, 0);
		assert_same_sum(paths[i]->copy(dst, src, MAX_LEN, 0), reference_sum(src, MAX_LEN, 0), paths[i]->name,
				MAX_LEN, 0);
	}
}

/* A sum is a ones'-complement one in 64 bits: it may sit anywhere in them,
 * and a carry out of the top comes back in (2^64 is 1 mod 2^16 - 1), on
 * every path, summing or copying. */
static void
should_bring_the_carry_back_into_a_sum_at_the_top_of_64_bits(void **state)
{
	assert_int_equal(weir_csum_add(UINT64_MAX, 1), 1);
	assert_int_equal(weir_csum_add(UINT64_MAX - 1, 1), UINT64_MAX);
	assert_int_equal(weir_csum_add(UINT64_MAX, UINT64_MAX), UINT64_MAX);
	fill_src(26);
	const uint64_t starts[] = { UINT64_MAX, UINT64_MAX - 0x1234, 1ull << 63 };
	const uint32_t lens[] = { 1, 7, 8, 64, 200, 1500 };
	for (unsigned s = 0; s < sizeof(starts) / sizeof(starts[0]); s++)
		for (unsigned l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			uint64_t want = (reference_sum(src, lens[l], 0) % 0xFFFF + starts[s] % 0xFFFF) % 0xFFFF;
			for (unsigned i = 0; i < n; i++) {
				uint64_t got = paths[i]->sum(src, lens[l], starts[s]);
				if (got % 0xFFFF != want)
					fail_msg("path %s, %u bytes from %#llx: %#llx", paths[i]->name, lens[l],
						 (unsigned long long)starts[s], (unsigned long long)got);
				assert_int_equal(paths[i]->copy(dst, src, lens[l], starts[s]) % 0xFFFF, want);
			}
		}
}

/* a copy writes its len bytes and not one byte either side */
static void
should_copy_exactly_the_bytes_it_sums_on_every_path(void **state)
{
	fill_src(25);
	for (uint32_t len = 0; len <= 300; len++)
		for (unsigned off = 0; off < 3; off++)
			for (unsigned i = 0; i < n; i++) {
				memset(dst, 0xA5, len + 130);
				uint64_t got = paths[i]->copy(dst + 64 + off, src + off, len, 7);
				assert_same_sum(got, reference_sum(src + off, len, 7), paths[i]->name, len, off);
				assert_memory_equal(dst + 64 + off, src + off, len);
				for (unsigned b = 0; b < 64 + off; b++)
					assert_int_equal(dst[b], 0xA5);
				for (unsigned b = 64 + off + len; b < len + 130; b++)
					assert_int_equal(dst[b], 0xA5);
			}
}

/* the helpers the parse and the senders call: the inline sum below the path's
 * inline_below, the path's own above it, on each path made the one in use */
static void
should_sum_and_copy_through_the_path_in_use_at_every_length(void **state)
{
	fill_src(27);
	for (unsigned i = 0; i < n; i++) {
		weir_csum_path_limit(paths[i]->bits);
		assert_string_equal(weir_csum_in_use.name, paths[i]->name);
		for (uint32_t len = 0; len <= 600; len++) {
			uint64_t want = reference_sum(src + 1, len, 3);
			assert_same_sum(weir_csum_bytes(src + 1, len, 3), want, paths[i]->name, len, 1);
			memset(dst, 0, len + 1);
			assert_same_sum(weir_csum_copy(dst, src + 1, len, 3), want, paths[i]->name, len, 1);
			assert_memory_equal(dst, src + 1, len);
			assert_int_equal(dst[len], 0);
		}
	}
	weir_csum_path_limit(UINT32_MAX);
}

/* weir_udp_csum_ok's datagram sum goes through the chosen path: a datagram
 * longer than any block, with one bit flipped, must fail */
static void
should_check_a_long_datagram_through_the_chosen_path(void **state)
{
	uint8_t ip[20] = { 0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 239, 1, 2, 3 };
	uint64_t rng = 26;
	uint8_t *udp = src;
	uint16_t ulen = 1000;
	for (unsigned i = 0; i < ulen; i++)
		udp[i] = (uint8_t)test_rng_next(&rng);
	udp[4] = (uint8_t)(ulen >> 8), udp[5] = (uint8_t)ulen, udp[6] = udp[7] = 0;
	uint16_t c = weir_udp_csum(ip, 4, udp, ulen);
	udp[6] = (uint8_t)(c >> 8), udp[7] = (uint8_t)c;
	assert_true(weir_udp_csum_ok(ip, 4, udp, ulen));
	for (unsigned bit = 0; bit < 8; bit++) {
		udp[777] ^= (uint8_t)(1u << bit);
		assert_false(weir_udp_csum_ok(ip, 4, udp, ulen));
		udp[777] ^= (uint8_t)(1u << bit);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_offer_scalar_last_and_use_the_widest_path_the_cpu_runs),
		cmocka_unit_test(should_take_no_path_wider_than_the_limit_it_is_given),
		cmocka_unit_test(should_give_rfc_1071s_own_example_on_every_path),
		cmocka_unit_test(should_sum_every_length_and_offset_as_the_reference_on_every_path),
		cmocka_unit_test(should_not_overflow_over_the_longest_datagram_of_all_ones),
		cmocka_unit_test(should_bring_the_carry_back_into_a_sum_at_the_top_of_64_bits),
		cmocka_unit_test(should_copy_exactly_the_bytes_it_sums_on_every_path),
		cmocka_unit_test(should_sum_and_copy_through_the_path_in_use_at_every_length),
		cmocka_unit_test(should_check_a_long_datagram_through_the_chosen_path),
	};
	return cmocka_run_group_tests_name("csum", tests, find_paths, NULL);
}
