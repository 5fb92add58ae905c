/* Internet checksums (RFC 1071): the IPv4 header's, checked on the parse,
 * and the UDP checksum over its pseudo-header, written by weir-gen. */
#ifndef WEIR_CSUM_H
#define WEIR_CSUM_H

#include <stdint.h>
#include <string.h>

/* RFC 1071 ones'-complement sum over an IPv4 header; 0 when it checks.
 * Inline: with len a constant 20 it unrolls to five adds. */
static inline uint16_t
weir_ipv4_header_csum(const uint8_t *hdr, unsigned len)
{
	/* Ones' complement sums are byte-order independent: add native 32-bit
	 * words (an IPv4 header is whole words) and swap once at the end. */
	uint64_t sum = 0;
	unsigned i = 0;
	for (; i + 4 <= len; i += 4) {
		uint32_t w;
		memcpy(&w, hdr + i, 4);
		sum += w;
	}
	if (i + 2 <= len) {
		uint16_t w;
		memcpy(&w, hdr + i, 2);
		sum += w;
	}
	sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
	sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	uint16_t r = (uint16_t)~sum;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	r = __builtin_bswap16(r);
#endif
	return r;
}

/* A ones'-complement sum of big-endian 16-bit words, carried on: the UDP
 * checksum is summed over pieces. */
static inline uint32_t
weir_csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static inline uint16_t
weir_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)sum;
}

/* The UDP checksum of a datagram of udp_len bytes (its checksum field
 * zero) over the pseudo-header of the IPv4 or IPv6 header ip: the value to
 * write (0 is sent as 0xFFFF). */
static inline uint16_t
weir_udp_csum(const uint8_t *ip, unsigned ip_version, const uint8_t *udp, uint16_t udp_len)
{
	uint32_t sum = ip_version == 4 ? weir_csum_add(0, ip + 12, 8) : weir_csum_add(0, ip + 8, 32);
	sum += 17u + udp_len;
	sum = weir_csum_add(sum, udp, udp_len);
	uint16_t c = (uint16_t)~weir_csum_fold(sum);
	return c ? c : 0xFFFF;
}

/* Ones'-complement sum of len bytes added to sum, in native byte order
 * (such sums do not depend on it; fold and compare at the end). */
static inline uint64_t
weir_csum_native(const uint8_t *p, uint32_t len, uint64_t sum)
{
	uint32_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		sum += (w & 0xFFFFFFFFu) + (w >> 32);
	}
	if (i + 4 <= len) {
		uint32_t w;
		memcpy(&w, p + i, 4);
		sum += w;
		i += 4;
	}
	if (i + 2 <= len) {
		uint16_t w;
		memcpy(&w, p + i, 2);
		sum += w;
		i += 2;
	}
	if (i < len) {
		uint8_t last[2] = { p[i], 0 };
		uint16_t w;
		memcpy(&w, last, 2);
		sum += w;
	}
	return sum;
}

/* Whether the UDP datagram (udp_len bytes at udp, its checksum field
 * included) checks against the pseudo-header of its IPv4 or IPv6 header. */
static inline int
weir_udp_csum_ok(const uint8_t *ip, unsigned ip_version, const uint8_t *udp, uint16_t udp_len)
{
	uint64_t sum = ip_version == 4 ? weir_csum_native(ip + 12, 8, 0) : weir_csum_native(ip + 8, 32, 0);
	uint16_t proto_len[2] = { 17, udp_len };
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	proto_len[0] = __builtin_bswap16(proto_len[0]);
	proto_len[1] = __builtin_bswap16(proto_len[1]);
#endif
	sum += (uint64_t)proto_len[0] + proto_len[1];
	sum = weir_csum_native(udp, udp_len, sum);
	sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
	sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	return sum == 0xFFFF;
}

#endif
