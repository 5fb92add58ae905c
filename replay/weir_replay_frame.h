/*
 * A replay's Ethernet/IP/UDP frames, from a header template made once: a
 * frame is the template's 42 (IPv4) or 62 (IPv6) bytes, its lengths and
 * IPv4 id patched in, and checksums finished from the template's partial
 * sums and the payload's own, summed where it is read rather than read back
 * from the frame just written (a store-forwarding stall per header, measured
 * at a third of the frame's cost).  Where the port sums UDP in the NIC
 * (nic_csum), the field holds the pseudo-header's sum as DPDK's TX offload
 * asks (rte_mbuf_core.h, RTE_MBUF_F_TX_UDP_CKSUM) and the payload is only
 * copied.
 */
#ifndef WEIR_REPLAY_FRAME_H
#define WEIR_REPLAY_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_endpoint.h"

#define WEIR_REPLAY_FRAME_HDR_MAX (14 + 40 + 8)

struct weir_replay_frame {
	uint8_t hdr[WEIR_REPLAY_FRAME_HDR_MAX];  /* lengths, id and checksums 0 */
	uint32_t hdr_len;
	bool v6;
	uint16_t ip_id;                          /* the next IPv4 id */
	bool nic_csum;                           /* UDP checksums finished by the NIC */
	uint64_t ip_sum, udp_sum;                /* of the header's words; the pseudo-header's and UDP header's */
	uint64_t phdr_sum;                       /* the pseudo-header's addresses and protocol */
};

/* The template of frames from src to dst (one family; ports are theirs). */
void weir_replay_frame_init(struct weir_replay_frame *t, const uint8_t dst_mac[6], const uint8_t src_mac[6],
			    const union weir_sockaddr *from, const union weir_sockaddr *to);
/* The frame's bytes for a UDP payload of len. */
static inline uint32_t
weir_replay_frame_len(const struct weir_replay_frame *t, uint32_t len)
{
	return t->hdr_len + len;
}
/* A frame carrying payload into f (weir_replay_frame_len bytes). */
uint32_t weir_replay_frame_build(struct weir_replay_frame *t, uint8_t *f, const uint8_t *payload, uint32_t len);

#endif
