/*
 * weir-replay's frames from a header template: every frame, IPv4 and IPv6,
 * of every payload length, carries checksums that check (the parse's own
 * test) and the bytes the header writers give, with the IPv4 id counting.
 * With the checksum left to the NIC, the frame is the same once a NIC has
 * done what DPDK's TX offload says it does: sum the datagram from the
 * pseudo-header's sum in its field, and write the complement.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "weir_bytes.h"
#include "weir_csum.h"
#include "weir_headers.h"
#include "weir_replay_frame.h"

static const uint8_t dst_mac[6] = { 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01 }, src_mac[6] = { 2, 0, 0, 0, 0, 1 };

/* The frame the header writers make, the slow way. */
static uint32_t
slow_frame(uint8_t *f, const union weir_sockaddr *from, const union weir_sockaddr *to, uint16_t id,
	   const uint8_t *payload, uint32_t len)
{
	bool v6 = to->sa.sa_family == AF_INET6;
	uint16_t udp_len = (uint16_t)(8 + len);
	uint32_t at = weir_put_eth_header(f, dst_mac, src_mac, v6 ? 0x86DD : 0x0800);
	uint8_t *ip = f + at;
	at += v6 ? weir_put_ipv6_header(ip, from->v6.sin6_addr.s6_addr, to->v6.sin6_addr.s6_addr, udp_len)
		 : weir_put_ipv4_header(ip, (const uint8_t *)&from->v4.sin_addr, (const uint8_t *)&to->v4.sin_addr, id,
					udp_len);
	uint8_t *udp = f + at;
	at += weir_put_udp_header(udp, weir_sockaddr_port(from), weir_sockaddr_port(to), udp_len);
	memcpy(f + at, payload, len);
	weir_put_be16(udp + 6, weir_udp_csum(ip, v6 ? 6 : 4, udp, udp_len));
	return at + len;
}

/* What a NIC's UDP checksum offload does to a datagram of udp_len at udp. */
static void
nic_finishes(uint8_t *udp, uint16_t udp_len)
{
	uint16_t c = weir_csum_finish(weir_csum_partial(udp, udp_len, 0));
	weir_put_be16(udp + 6, c ? c : 0xFFFF);
}

static void
frames_of(const char *from_s, const char *to_s, bool nic)
{
	union weir_sockaddr from, to;
	assert_int_equal(weir_endpoint_parse(from_s, &from), 0);
	assert_int_equal(weir_endpoint_parse(to_s, &to), 0);
	struct weir_replay_frame t;
	weir_replay_frame_init(&t, dst_mac, src_mac, &from, &to);
	t.nic_csum = nic;
	t.ip_id = 0xFFF0; /* through the wrap */
	uint8_t payload[1500], fast[1600], slow[1600];
	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 37 + 11);
	for (uint32_t len = 0; len < 1400; len += len < 80 ? 1 : 97) {
		uint16_t id = t.ip_id;
		memset(fast, 0xAA, sizeof(fast));
		uint32_t n = weir_replay_frame_build(&t, fast, payload, len);
		assert_int_equal(n, weir_replay_frame_len(&t, len));
		assert_int_equal(slow_frame(slow, &from, &to, id, payload, len), n);
		bool v6 = to.sa.sa_family == AF_INET6;
		uint8_t *ip = fast + 14, *udp = ip + (v6 ? 40 : 20);
		if (nic) {
			assert_false(weir_udp_csum_ok(ip, v6 ? 6 : 4, udp, (uint16_t)(8 + len)) &&
				     memcmp(fast, slow, n) == 0); /* not finished yet */
			nic_finishes(udp, (uint16_t)(8 + len));
		}
		assert_memory_equal(fast, slow, n);
		assert_true(weir_udp_csum_ok(ip, v6 ? 6 : 4, udp, (uint16_t)(8 + len)));
		if (!v6)
			assert_int_equal(weir_ipv4_header_csum(ip, 20), 0);
	}
}

static void
should_build_ipv4_frames_whose_checksums_check(void **state)
{
	(void)state;
	frames_of("198.18.0.1:26401", "239.1.1.1:26400", false);
	frames_of("10.255.255.254:65535", "10.0.0.1:1", false);
}

static void
should_build_ipv6_frames_whose_checksums_check(void **state)
{
	(void)state;
	frames_of("[fd00::1]:26401", "[ff15::1:2]:26400", false);
	frames_of("[fdff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535", "[fd00::2]:1", false);
}

static void
should_leave_a_nic_the_pseudo_headers_sum_to_finish_from(void **state)
{
	(void)state;
	frames_of("198.18.0.1:26401", "239.1.1.1:26400", true);
	frames_of("10.255.255.254:65535", "10.0.0.1:1", true);
	frames_of("[fd00::1]:26401", "[ff15::1:2]:26400", true);
	frames_of("[fdff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535", "[fd00::2]:1", true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_build_ipv4_frames_whose_checksums_check),
		cmocka_unit_test(should_build_ipv6_frames_whose_checksums_check),
		cmocka_unit_test(should_leave_a_nic_the_pseudo_headers_sum_to_finish_from),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
