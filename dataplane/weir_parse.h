/*
 * L2-L4: Ethernet, up to two VLAN tags (802.1Q / 802.1ad), IPv4 or IPv6 (with
 * hop-by-hop, routing and destination-options headers followed), UDP.  Every
 * length is checked against the bytes present before it is used.  Pure C on
 * a byte span so that tests and fuzzers drive the worker's own code.
 */
#ifndef WEIR_PARSE_H
#define WEIR_PARSE_H

#include <stdint.h>
#include <string.h>

#include "weir_moldudp64.h" /* weir_put_be16 */

enum weir_verdict {
	WEIR_PARSE_OK,
	WEIR_PARSE_FILTERED,         /* well-formed, not for weir (ARP, TCP, ICMP ...) */
	WEIR_PARSE_DEAD,             /* malformed: *reason says why */
};

/* What the NIC said about a checksum; UNKNOWN means weir checks IPv4's itself. */
enum weir_csum { WEIR_CSUM_UNKNOWN, WEIR_CSUM_GOOD, WEIR_CSUM_BAD };

struct weir_udp_view {
	const uint8_t *payload;
	uint32_t payload_len;
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t ip_version;
	uint8_t vlan_tags;
	const uint8_t *src_addr;     /* 4 or 16 bytes, inside the frame */
};

enum weir_verdict weir_parse_udp(const uint8_t *frame, uint32_t len, enum weir_csum ip_csum,
				 enum weir_csum l4_csum, struct weir_udp_view *v, unsigned *reason);

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


/* The headers the parser reads, written (the worker's re-requests,
 * weir-gen, the tests): a 20-byte IPv4 header (DF, TTL 64, UDP, its
 * checksum) for a UDP datagram of udp_len bytes... */
static inline void
weir_put_ipv4_header(uint8_t *ip, const uint8_t src[4], const uint8_t dst[4], uint16_t id, uint16_t udp_len)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	weir_put_be16(ip + 2, (uint16_t)(20 + udp_len));
	weir_put_be16(ip + 4, id);
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	weir_put_be16(ip + 10, weir_ipv4_header_csum(ip, 20));
}

/* ...and its UDP header, checksum 0 (optional over IPv4; IPv6 senders fill
 * it in after). */
static inline void
weir_put_udp_header(uint8_t *udp, uint16_t sport, uint16_t dport, uint16_t udp_len)
{
	weir_put_be16(udp, sport);
	weir_put_be16(udp + 2, dport);
	weir_put_be16(udp + 4, udp_len);
	weir_put_be16(udp + 6, 0);
}

#endif
