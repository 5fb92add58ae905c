#include <string.h>
#include <stddef.h>

#include "weir_bytes.h"
#include "weir_csum.h"
#include "weir_dead_letter.h"
#include "weir_parse.h"

#define ETH_HDR 14u
#define VLAN_HDR 4u
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88A8
#define ETHERTYPE_QINQ_OLD 0x9100
#define IPPROTO_UDP_ 17
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_DSTOPTS 60
#define UDP_HDR 8u

static enum weir_verdict
dead(unsigned *reason, unsigned why)
{
	*reason = why;
	return WEIR_PARSE_DEAD;
}

/* Well-formed, not UDP: what it carries, for the host side. */
static enum weir_verdict
not_udp(struct weir_udp_view *v, uint8_t proto, const uint8_t *l4, uint32_t l4_len)
{
	v->l4_proto = proto;
	v->l4 = l4;
	v->l4_len = l4_len;
	return WEIR_PARSE_FILTERED;
}

static enum weir_verdict
parse_udp_hdr(const uint8_t *ip, const uint8_t *l4, uint32_t l4_len, enum weir_csum l4_csum, struct weir_udp_view *v,
	      unsigned *reason)
{
	if (l4_len < UDP_HDR)
		return dead(reason, WEIR_DL_udp_truncated);
	uint16_t ulen = weir_be16(l4 + 4);
	if (ulen < UDP_HDR || ulen > l4_len)
		return dead(reason, WEIR_DL_udp_bad_length);
	if (l4_csum == WEIR_CSUM_BAD)
		return dead(reason, WEIR_DL_l4_bad_checksum);
	/* The NIC did not say: checked here.  Zero is "none" over IPv4 and
	 * forbidden over IPv6 (RFC 8200). */
	if (l4_csum == WEIR_CSUM_UNKNOWN && (weir_be16(l4 + 6) != 0 || v->ip_version == 6) &&
	    !weir_udp_csum_ok(ip, v->ip_version, l4, ulen))
		return dead(reason, WEIR_DL_l4_bad_checksum);
	v->src_port = weir_be16(l4);
	v->dst_port = weir_be16(l4 + 2);
	v->payload = l4 + UDP_HDR;
	v->payload_len = ulen - UDP_HDR;
	return WEIR_PARSE_OK;
}

static enum weir_verdict
parse_ipv4(const uint8_t *ip, uint32_t len, enum weir_csum ip_csum, enum weir_csum l4_csum,
	   struct weir_udp_view *v, unsigned *reason)
{
	if (len < 20)
		return dead(reason, WEIR_DL_ipv4_truncated);
	unsigned ihl = (ip[0] & 0x0F) * 4u;
	if ((ip[0] >> 4) != 4 || ihl < 20 || ihl > len)
		return dead(reason, WEIR_DL_ipv4_bad_header_length);
	uint16_t total = weir_be16(ip + 2);
	if (total < ihl || total > len)
		return dead(reason, WEIR_DL_ipv4_bad_total_length);
	if (ip_csum == WEIR_CSUM_BAD || (ip_csum == WEIR_CSUM_UNKNOWN &&
					 (ihl == 20 ? weir_ipv4_header_csum(ip, 20) : weir_ipv4_header_csum(ip, ihl)) != 0))
		return dead(reason, WEIR_DL_ipv4_bad_checksum);
	uint16_t frag = weir_be16(ip + 6);
	if (frag & 0x3FFF) /* MF set or a non-zero offset */
		return dead(reason, WEIR_DL_ipv4_fragment);
	v->ip_version = 4;
	v->src_addr = ip + 12;
	if (ip[9] != IPPROTO_UDP_)
		return not_udp(v, ip[9], ip + ihl, total - ihl);
	return parse_udp_hdr(ip, ip + ihl, total - ihl, l4_csum, v, reason);
}

static enum weir_verdict
parse_ipv6(const uint8_t *ip, uint32_t len, enum weir_csum l4_csum, struct weir_udp_view *v, unsigned *reason)
{
	if (len < 40)
		return dead(reason, WEIR_DL_ipv6_truncated);
	uint32_t plen = weir_be16(ip + 4);
	if (plen > len - 40)
		return dead(reason, WEIR_DL_ipv6_bad_payload_length);
	uint8_t next = ip[6];
	const uint8_t *p = ip + 40;
	uint32_t left = plen;
	for (unsigned hops = 0; next == IP6_HOPOPTS || next == IP6_ROUTING || next == IP6_DSTOPTS; hops++) {
		if (left < 8 || hops == 8)
			return dead(reason, WEIR_DL_ipv6_bad_extension_header);
		uint32_t hlen = (p[1] + 1u) * 8u;
		if (hlen > left)
			return dead(reason, WEIR_DL_ipv6_bad_extension_header);
		next = p[0];
		p += hlen;
		left -= hlen;
	}
	if (next == IP6_FRAGMENT)
		return dead(reason, WEIR_DL_ipv6_fragment);
	v->ip_version = 6;
	v->src_addr = ip + 8;
	if (next != IPPROTO_UDP_)
		return not_udp(v, next, p, left);
	return parse_udp_hdr(ip, p, left, l4_csum, v, reason);
}

enum weir_verdict
weir_parse_udp(const uint8_t *frame, uint32_t len, enum weir_csum ip_csum, enum weir_csum l4_csum,
	       struct weir_udp_view *v, unsigned *reason)
{
	if (len < ETH_HDR)
		return dead(reason, WEIR_DL_l2_truncated);
	uint32_t off = 12;
	uint16_t type = weir_be16(frame + off);
	v->vlan_tags = 0;
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
		if (v->vlan_tags == 2)
			return not_udp(v, 0, NULL, 0); /* deeper stacks are not ours */
		off += VLAN_HDR;
		if (len < off + 2)
			return dead(reason, WEIR_DL_l2_truncated);
		type = weir_be16(frame + off);
		v->vlan_tags++;
	}
	off += 2;
	if (type == ETHERTYPE_IPV4)
		return parse_ipv4(frame + off, len - off, ip_csum, l4_csum, v, reason);
	if (type == ETHERTYPE_IPV6)
		return parse_ipv6(frame + off, len - off, l4_csum, v, reason);
	return not_udp(v, 0, NULL, 0);
}
