/* Writing the headers the parser reads (the worker's re-requests, weir-gen,
 * the tests), through DPDK's header structs so the fields say what they are.
 * Each writer returns the bytes it wrote. */
#ifndef WEIR_HEADERS_H
#define WEIR_HEADERS_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "weir_csum.h"

static inline uint32_t
weir_put_eth_header(uint8_t *p, const uint8_t dst[RTE_ETHER_ADDR_LEN], const uint8_t src[RTE_ETHER_ADDR_LEN],
		    uint16_t ether_type)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	memcpy(&eth->dst_addr, dst, RTE_ETHER_ADDR_LEN);
	memcpy(&eth->src_addr, src, RTE_ETHER_ADDR_LEN);
	eth->ether_type = rte_cpu_to_be_16(ether_type);
	return sizeof(*eth);
}

/* An 802.1Q tag: the ethertype before it becomes RTE_ETHER_TYPE_VLAN, and
 * inner_type follows the tag. */
static inline uint32_t
weir_put_vlan_tag(uint8_t *p, uint16_t vlan_id, uint16_t inner_type)
{
	struct rte_vlan_hdr *vlan = (struct rte_vlan_hdr *)p;
	vlan->vlan_tci = rte_cpu_to_be_16(vlan_id);
	vlan->eth_proto = rte_cpu_to_be_16(inner_type);
	return sizeof(*vlan);
}

/* A 20-byte IPv4 header (DF, TTL 64, UDP, its checksum) for a UDP datagram
 * of udp_len bytes. */
static inline uint32_t
weir_put_ipv4_header(uint8_t *p, const uint8_t src[4], const uint8_t dst[4], uint16_t id, uint16_t udp_len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + udp_len));
	ip->packet_id = rte_cpu_to_be_16(id);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	memcpy(&ip->src_addr, src, 4);
	memcpy(&ip->dst_addr, dst, 4);
	ip->hdr_checksum = rte_cpu_to_be_16(weir_ipv4_header_csum(p, sizeof(*ip)));
	return sizeof(*ip);
}

/* A 40-byte IPv6 header (hop limit 64, UDP next) for a UDP datagram of
 * udp_len bytes. */
static inline uint32_t
weir_put_ipv6_header(uint8_t *p, const uint8_t src[16], const uint8_t dst[16], uint16_t udp_len)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;
	memset(ip, 0, sizeof(*ip));
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(udp_len);
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, dst, 16);
	return sizeof(*ip);
}

/* A UDP header with checksum 0 (optional over IPv4): weir_udp_csum() fills
 * it in where it is wanted. */
static inline uint32_t
weir_put_udp_header(uint8_t *p, uint16_t sport, uint16_t dport, uint16_t udp_len)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)p;
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16(udp_len);
	udp->dgram_cksum = 0;
	return sizeof(*udp);
}

#endif
