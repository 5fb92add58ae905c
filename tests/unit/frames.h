/* Frame builders for the unit tests: real bytes, built field by field. */
#ifndef WEIR_TEST_FRAMES_H
#define WEIR_TEST_FRAMES_H

#include <stdint.h>
#include <string.h>

#include "weir_moldudp64.h"
#include "weir_headers.h"
#include "weir_parse.h"

/* UDP header + payload at f; returns the bytes written. */
static inline uint32_t
put_udp(uint8_t *f, uint16_t dport, const uint8_t *payload, uint32_t plen)
{
	weir_put_udp_header(f, 40000, dport, (uint16_t)(8 + plen));
	memcpy(f + 8, payload, plen);
	return 8 + plen;
}

/* Ethernet [+ n_vlan tags] + IPv4 + UDP(dport) + payload; returns length. */
static inline uint32_t
frame_ipv4_udp(uint8_t *f, unsigned n_vlan, uint16_t dport, const uint8_t *payload, uint32_t plen)
{
	uint32_t o = 12;
	memset(f, 0x02, 12);
	for (unsigned i = 0; i < n_vlan; i++, o += 4) {
		weir_put_be16(f + o, i == 0 && n_vlan == 2 ? 0x88A8 : 0x8100);
		weir_put_be16(f + o + 2, 100);
	}
	weir_put_be16(f + o, 0x0800);
	o += 2;
	static const uint8_t src[4] = { 198, 18, 0, 1 }, dst[4] = { 198, 18, 0, 2 };
	weir_put_ipv4_header(f + o, src, dst, 0, (uint16_t)(8 + plen));
	o += 20;
	return o + put_udp(f + o, dport, payload, plen);
}

/* Ethernet + IPv6 [+ ext headers given raw] + UDP + payload. */
static inline uint32_t
frame_ipv6_udp(uint8_t *f, const uint8_t *ext, uint32_t ext_len, uint8_t first_next, uint16_t dport,
	       const uint8_t *payload, uint32_t plen)
{
	memset(f, 0x02, 12);
	weir_put_be16(f + 12, 0x86DD);
	uint8_t *ip = f + 14;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	weir_put_be16(ip + 4, (uint16_t)(ext_len + 8 + plen));
	ip[6] = ext_len ? first_next : 17;
	ip[7] = 64;
	uint32_t o = 54;
	if (ext_len) /* ext may be NULL: memcpy from NULL is undefined even for 0 bytes */
		memcpy(f + o, ext, ext_len);
	o += ext_len;
	uint32_t ulen = put_udp(f + o, dport, payload, plen);
	weir_put_be16(f + o + 6, weir_udp_csum(ip, 6, f + o, (uint16_t)ulen)); /* mandatory over IPv6 */
	return o + ulen;
}

/* Sets the UDP checksum of an IPv4 frame built by frame_ipv4_udp() (n_vlan tags). */
static inline void
set_ipv4_udp_csum(uint8_t *f, unsigned n_vlan)
{
	uint8_t *ip = f + 14 + 4 * n_vlan, *udp = ip + 20;
	weir_put_be16(udp + 6, 0);
	weir_put_be16(udp + 6, weir_udp_csum(ip, 4, udp, weir_be16(udp + 4)));
}

/* A MoldUDP64 packet with n messages "m0", "m1", ... ; returns length. */
static inline uint32_t
mold_packet(uint8_t *p, const char *session, uint64_t seq, unsigned n)
{
	uint32_t len = weir_mold_put_header(p, session, seq, (uint16_t)n);
	for (unsigned i = 0; i < n; i++) {
		char msg[16];
		int l = snprintf(msg, sizeof(msg), "m%u", i);
		len += weir_mold_put_block(p + len, msg, (uint16_t)l);
	}
	return len;
}

#endif
