/*
 * IGMP and MLD host side for a port whose NIC is DPDK's, so the kernel no
 * longer speaks them (RFC 3376, IGMPv3, with IGMPv2 compatibility, RFC
 * 2236; RFC 3810, MLDv2, for IPv6 groups, with MLDv1 compatibility, RFC
 * 2710, in weir_mld.c): the
 * groups a feed joins are reported at start (Robustness Variable = 2 times,
 * the second within the Unsolicited Report Interval of 1 s), queries are
 * answered within their Max Resp Time (a random delay, as the RFCs ask, so
 * hosts on a LAN do not answer at once), and a clean stop leaves.  After an
 * IGMPv2 (MLDv1) query, reports and leaves are IGMPv2 (MLDv1) until the
 * Older Version Querier Present Timeout (260 s) passes.  Pure: time and randomness are
 * passed in, frames go out through send().
 */
#ifndef WEIR_IGMP_H
#define WEIR_IGMP_H

#include <stdbool.h>
#include <stdint.h>

struct weir_udp_view;

#define WEIR_IGMP_MAX_GROUPS 32
#define WEIR_IGMP_FRAME_MAX 512

struct weir_igmp_group {
	uint32_t group;              /* IPv4, network order */
	uint32_t source;             /* network order; 0: any source */
	uint8_t family;              /* 0 or 4: IPv4 (IGMP); 6: IPv6 (MLDv2, group6 and source6) */
	uint8_t group6[16];
	uint8_t source6[16];         /* all zero: any source */
};

/* Sends one whole Ethernet frame; false when it could not. */
typedef bool (*weir_igmp_send_fn)(void *ctx, uint16_t port, const uint8_t *frame, uint32_t len);

struct weir_igmp {
	uint16_t port;
	uint8_t mac[6];              /* the port's own */
	uint32_t local_ip;           /* reports' source: 0.0.0.0 until known (RFC 3376 4.2.13) */
	uint8_t local_ip6[16];       /* MLD reports' source: the link-local address of mac (RFC 4291) */
	unsigned n;
	struct weir_igmp_group g[WEIR_IGMP_MAX_GROUPS];
	unsigned unsolicited_left;
	uint64_t unsolicited_at_ns;
	uint64_t general_at_ns[2];   /* a current-state report is due, IGMP and MLD (0: none) */
	uint64_t group_at_ns[WEIR_IGMP_MAX_GROUPS];
	uint64_t v2_until_ns;        /* IGMPv2 compatibility until then */
	uint64_t mld_v1_until_ns;    /* MLDv1 compatibility until then (RFC 3810 8.2.1) */
	uint64_t rng;
	/* Figures (the worker copies them to its counters). */
	uint64_t reports_sent, queries_answered, unexpected;
};

void weir_igmp_init(struct weir_igmp *s, uint16_t port, const uint8_t mac[6], const struct weir_igmp_group *g,
		    unsigned n, uint64_t now_ns, uint64_t seed);
/* An IGMP message (the IP payload) that arrived; ip_dst in network order. */
void weir_igmp_input(struct weir_igmp *s, const uint8_t *msg, uint32_t len, uint32_t ip_dst, uint64_t now_ns);
/* An ICMPv6 message (after any extension headers) of the IPv6 packet at
 * ip6 that arrived: an MLD query is answered, the rest is counted. */
void weir_mld_input(struct weir_igmp *s, const uint8_t *ip6, const uint8_t *msg, uint32_t len, uint64_t now_ns);
/* A filtered frame as the pipeline's parse saw it (v: weir_parse.h), on
 * port: an IGMP message, or an MLD one (not neighbour discovery), goes to
 * that port's speaker among the n at speakers; anything else is not theirs. */
void weir_igmp_host_input(struct weir_igmp *speakers, unsigned n, uint16_t port, const struct weir_udp_view *v,
			  uint64_t now_ns);
/* Sends what is due by now. */
void weir_igmp_poll(struct weir_igmp *s, uint64_t now_ns, weir_igmp_send_fn send, void *ctx);
/* Leaves every group (a clean stop). */
void weir_igmp_leave(struct weir_igmp *s, uint64_t now_ns, weir_igmp_send_fn send, void *ctx);

/* 01:00:5e and the group's low 23 bits (RFC 1112). */
void weir_igmp_group_mac(uint32_t group, uint8_t mac[6]);
/* 33:33 and the group's low 32 bits (RFC 2464). */
void weir_mld_group_mac(const uint8_t group[16], uint8_t mac[6]);

/* weir_mld.c, for weir_igmp.c: one MLDv2 report of the IPv6 groups in
 * mask, each with its record type (the same numbers as IGMPv3's). */
void weir_mld_report(struct weir_igmp *s, uint64_t mask, const uint8_t *types, weir_igmp_send_fn send, void *ctx);
/* weir_mld.c, for weir_igmp.c: an MLDv1 Report (to the group) or Done (to
 * ff02::2) of IPv6 group i (RFC 2710), for an MLDv1 querier. */
void weir_mld_v1(struct weir_igmp *s, bool done, unsigned i, weir_igmp_send_fn send, void *ctx);
/* A query's Max Response Code (RFC 3810 5.1.3) in ns. */
uint64_t weir_mld_max_resp_ns(uint16_t code);
/* Schedules the answer to a query for group (NULL: general) of family
 * (4 or 6) within resp ns; weir_igmp.c's, for both protocols. */
void weir_igmp_query_for(struct weir_igmp *s, unsigned family, uint32_t group, const uint8_t *group6, uint64_t resp,
			 uint64_t now_ns);

#endif
