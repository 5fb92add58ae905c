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


#endif
