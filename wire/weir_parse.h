/*
 * L2-L4: Ethernet, up to two VLAN tags (802.1Q / 802.1ad), IPv4 or IPv6 (with
 * hop-by-hop, routing and destination-options headers followed), UDP.  Every
 * length is checked against the bytes present before it is used.  Pure C on
 * a byte span so that tests and fuzzers drive the worker's own code.
 */
#ifndef WEIR_PARSE_H
#define WEIR_PARSE_H

#include <stdint.h>

enum weir_verdict {
	WEIR_PARSE_OK,
	WEIR_PARSE_FILTERED,         /* well-formed, not for weir (ARP, TCP, ICMP ...) */
	WEIR_PARSE_DEAD,             /* malformed: *reason says why */
};

/* What the NIC said about a checksum; UNKNOWN: weir checks it itself (the
 * IPv4 header's, and the UDP checksum). */
enum weir_csum { WEIR_CSUM_UNKNOWN, WEIR_CSUM_GOOD, WEIR_CSUM_BAD };

struct weir_udp_view {
	const uint8_t *payload;
	uint32_t payload_len;
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t ip_version;
	uint8_t vlan_tags;
	const uint8_t *src_addr;     /* 4 or 16 bytes, inside the frame; the destination follows */
	/* WEIR_PARSE_FILTERED only: an IP packet's protocol (IPv6: past its
	 * extension headers) and message, for the host side (IGMP, MLD) to read
	 * the same parse; l4 NULL when the frame was not IP. */
	uint8_t l4_proto;
	const uint8_t *l4;
	uint32_t l4_len;
};

enum weir_verdict weir_parse_udp(const uint8_t *frame, uint32_t len, enum weir_csum ip_csum,
				 enum weir_csum l4_csum, struct weir_udp_view *v, unsigned *reason);

#endif
