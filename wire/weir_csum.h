/* Internet checksums (RFC 1071): the IPv4 header's, checked on the parse,
 * and the UDP checksum over its pseudo-header, checked on the parse where
 * the NIC did not and written by weir-gen and weir-replay.  One sum serves
 * all three; a datagram's bytes take its vector paths (weir_csum_paths.h). */
#ifndef WEIR_CSUM_H
#define WEIR_CSUM_H

#include <stdint.h>
#include <string.h>

#include "weir_copy.h"
#include "weir_csum_paths.h"

/* sum + w in ones' complement over 64 bits: the carry out comes back in
 * (an add and an adc).  2^64 - 1 is a multiple of 2^16 - 1, so the 16-bit
 * fold of such a sum is RFC 1071's; and it is 0 only when every word was. */
static inline uint64_t
weir_csum_add(uint64_t sum, uint64_t w)
{
	uint64_t r;
	unsigned carry = __builtin_add_overflow(sum, w, &r);
	return r + carry; /* no second carry: at most 2^64 - 2 plus 1 */
}

/* Ones'-complement sum of len bytes added to sum.  Such sums do not depend
 * on byte order: native words are added and the result swapped once, in
 * weir_csum_finish().  Each 8-byte word's halves are added into a sum of
 * its own, which no datagram can overflow, and that joins sum once
 * (weir_csum_add): the halves' adds are independent of one another, so the
 * compiler vectorises the loop, where an add-with-carry a word made one
 * chain two cycles a word long (BM_csum/-1, the inline sum, medians of 4
 * turns: 1,400 bytes 45.2 -> 118.0 ns, 108 bytes 6.2 -> 12.6, AMD EPYC;
 * perf/README.md).  Inline: with a constant len (an IPv4 header's 20) it
 * unrolls to a few adds. */
static inline uint64_t
weir_csum_partial(const uint8_t *p, uint32_t len, uint64_t sum)
{
	uint64_t acc = 0; /* at most 2^29 words of 2^33: no carry out */
	uint32_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		acc += (w & 0xFFFFFFFFu) + (w >> 32);
	}
	if (i + 4 <= len) {
		uint32_t w;
		memcpy(&w, p + i, 4);
		acc += w;
		i += 4;
	}
	if (i + 2 <= len) {
		uint16_t w;
		memcpy(&w, p + i, 2);
		acc += w;
		i += 2;
	}
	if (i < len) {
		uint8_t last[2] = { p[i], 0 }; /* the odd byte is the high one of a last big-endian word */
		uint16_t w;
		memcpy(&w, last, 2);
		acc += w;
	}
	return weir_csum_add(sum, acc);
}

/* weir_csum_partial() of a datagram's bytes: on the vector path in use
 * where it is faster than the inline sum (weir_csum_paths.h). */
static inline uint64_t
weir_csum_bytes(const uint8_t *p, uint32_t len, uint64_t sum)
{
	return len < weir_csum_in_use.inline_below ? weir_csum_partial(p, len, sum) : weir_csum_in_use.sum(p, len, sum);
}

/* The same, the bytes copied to dst on the way (a sender's payload into its
 * frame): one pass on a vector path; below it, a short copy without a call
 * into memcpy (with the packer's, LTO: weir-replay send of one-event packets
 * 71.5 -> 68.0 ns a packet, median of 9 runs, AMD EPYC). */
static inline uint64_t
weir_csum_copy(uint8_t *dst, const uint8_t *src, uint32_t len, uint64_t sum)
{
	if (len >= weir_csum_in_use.inline_below)
		return weir_csum_in_use.copy(dst, src, len, sum);
	weir_copy_small(dst, src, len);
	return weir_csum_partial(src, len, sum);
}

/* A sum folded to 16 bits, not complemented, as a host-order value to store
 * big-endian (weir_put_be16): what a NIC finishing a UDP checksum wants in
 * the field (the pseudo-header's, rte_ipv4_phdr_cksum's value). */
static inline uint16_t
weir_csum_fold(uint64_t sum)
{
	sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
	sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	uint16_t r = (uint16_t)sum;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	r = __builtin_bswap16(r);
#endif
	return r;
}

/* The checksum of a finished sum, as a host-order value to store big-endian
 * (weir_put_be16): 0 when the summed bytes held a correct checksum. */
static inline uint16_t
weir_csum_finish(uint64_t sum)
{
	return (uint16_t)~weir_csum_fold(sum);
}

/* An IPv4 header's checksum; 0 when it checks. */
static inline uint16_t
weir_ipv4_header_csum(const uint8_t *hdr, unsigned len)
{
	return weir_csum_finish(weir_csum_partial(hdr, len, 0));
}

/* The UDP checksum over the pseudo-header of the IPv4 or IPv6 header ip and
 * the udp_len bytes of the datagram at udp, its checksum field as it stands.
 * The datagram is summed on the CPU's vector path (weir_csum_paths.h). */
static inline uint16_t
weir_udp_csum_of(const uint8_t *ip, unsigned ip_version, const uint8_t *udp, uint16_t udp_len)
{
	uint64_t sum = ip_version == 4 ? weir_csum_partial(ip + 12, 8, 0) : weir_csum_partial(ip + 8, 32, 0);
	const uint8_t proto_len[4] = { 0, 17, (uint8_t)(udp_len >> 8), (uint8_t)udp_len };
	return weir_csum_finish(weir_csum_bytes(udp, udp_len, weir_csum_partial(proto_len, 4, sum)));
}

/* Whether a received datagram's checksum checks. */
static inline int
weir_udp_csum_ok(const uint8_t *ip, unsigned ip_version, const uint8_t *udp, uint16_t udp_len)
{
	return weir_udp_csum_of(ip, ip_version, udp, udp_len) == 0;
}

/* The value to write into a datagram whose checksum field is zero (a
 * computed 0 is sent as 0xFFFF). */
static inline uint16_t
weir_udp_csum(const uint8_t *ip, unsigned ip_version, const uint8_t *udp, uint16_t udp_len)
{
	uint16_t c = weir_udp_csum_of(ip, ip_version, udp, udp_len);
	return c ? c : 0xFFFF;
}

#endif
