#include <string.h>

#include "weir_bytes.h"
#include "weir_csum.h"
#include "weir_headers.h"
#include "weir_replay_frame.h"

void
weir_replay_frame_init(struct weir_replay_frame *t, const uint8_t dst_mac[6], const uint8_t src_mac[6],
		       const union weir_sockaddr *from, const union weir_sockaddr *to)
{
	memset(t, 0, sizeof(*t));
	t->v6 = to->sa.sa_family == AF_INET6;
	uint8_t *ip = t->hdr + weir_put_eth_header(t->hdr, dst_mac, src_mac, t->v6 ? 0x86DD : 0x0800);
	uint32_t ip_len = t->v6 ? weir_put_ipv6_header(ip, from->v6.sin6_addr.s6_addr, to->v6.sin6_addr.s6_addr, 0)
				: weir_put_ipv4_header(ip, (const uint8_t *)&from->v4.sin_addr,
						       (const uint8_t *)&to->v4.sin_addr, 0, 0);
	uint8_t *udp = ip + ip_len;
	t->hdr_len = (uint32_t)(udp - t->hdr) + weir_put_udp_header(udp, weir_sockaddr_port(from), weir_sockaddr_port(to), 0);
	if (!t->v6) {
		memset(ip + 2, 0, 2);  /* total length: per frame */
		memset(ip + 10, 0, 2); /* checksum: per frame */
		t->ip_sum = weir_csum_partial(ip, 20, 0);
	}
	static const uint8_t proto[2] = { 0, 17 };
	uint64_t sum = t->v6 ? weir_csum_partial(ip + 8, 32, 0) : weir_csum_partial(ip + 12, 8, 0);
	t->phdr_sum = weir_csum_partial(proto, 2, sum);
	t->udp_sum = weir_csum_partial(udp, 8, t->phdr_sum);
}

/* v, big-endian, as the native word a sum reads of it. */
static inline uint64_t
be_word(uint16_t v)
{
	uint8_t b[2];
	uint16_t w;
	weir_put_be16(b, v);
	memcpy(&w, b, 2);
	return w;
}

uint32_t
weir_replay_frame_build(struct weir_replay_frame *t, uint8_t *f, const uint8_t *payload, uint32_t len)
{
	if (t->v6) /* fixed sizes: a few moves, no call */
		memcpy(f, t->hdr, 14 + 40 + 8);
	else
		memcpy(f, t->hdr, 14 + 20 + 8);
	uint8_t *ip = f + 14, *udp = f + t->hdr_len - 8;
	uint16_t udp_len = (uint16_t)(8 + len);
	if (t->v6) {
		weir_put_be16(ip + 4, udp_len);
	} else {
		uint16_t id = t->ip_id++;
		weir_put_be16(ip + 2, (uint16_t)(20 + udp_len));
		weir_put_be16(ip + 4, id);
		uint64_t ip_sum = weir_csum_add(t->ip_sum, be_word((uint16_t)(20 + udp_len)));
		weir_put_be16(ip + 10, weir_csum_finish(weir_csum_add(ip_sum, be_word(id))));
	}
	weir_put_be16(udp + 4, udp_len);
	if (t->nic_csum) { /* the NIC sums the datagram from the pseudo-header's sum in the field */
		weir_copy_small(udp + 8, payload, len);
		weir_put_be16(udp + 6, weir_csum_fold(weir_csum_add(t->phdr_sum, be_word(udp_len))));
		return t->hdr_len + len;
	}
	/* copied and summed in one pass; udp_len counted for the pseudo-header's and UDP's own */
	uint64_t sum = weir_csum_copy(udp + 8, payload, len, weir_csum_add(t->udp_sum, 2 * be_word(udp_len)));
	uint16_t c = weir_csum_finish(sum);
	weir_put_be16(udp + 6, c ? c : 0xFFFF);
	return t->hdr_len + len;
}
