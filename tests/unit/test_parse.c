#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "frames.h"
#include "weir_dead_letter.h"

static const uint8_t payload[] = "0123456789abcdefghij";

static enum weir_verdict
parse(const uint8_t *f, uint32_t len, unsigned *reason, struct weir_udp_view *v)
{
	*reason = 0;
	return weir_parse_udp(f, len, WEIR_CSUM_UNKNOWN, WEIR_CSUM_UNKNOWN, v, reason);
}

static void
should_reject_frames_shorter_than_ethernet_at_every_length(void **state)
{
	uint8_t f[128];
	uint32_t len = frame_ipv4_udp(f, 0, 26400, payload, 20);
	struct weir_udp_view v;
	unsigned reason;
	for (uint32_t cut = 0; cut < 14; cut++) {
		assert_int_equal(parse(f, cut, &reason, &v), WEIR_PARSE_DEAD);
		assert_int_equal(reason, WEIR_DL_l2_truncated);
	}
	(void)len;
}

static void
should_reject_every_truncation_inside_ipv4_and_udp(void **state)
{
	uint8_t f[128];
	uint32_t len = frame_ipv4_udp(f, 0, 26400, payload, 20);
	struct weir_udp_view v;
	unsigned reason;
	/* Cut anywhere before the end of the UDP payload: never OK, never a read past len. */
	for (uint32_t cut = 14; cut < len; cut++) {
		assert_int_equal(parse(f, cut, &reason, &v), WEIR_PARSE_DEAD);
		assert_true(reason == WEIR_DL_ipv4_truncated || reason == WEIR_DL_ipv4_bad_header_length ||
			    reason == WEIR_DL_ipv4_bad_total_length);
	}
	assert_int_equal(parse(f, 14 + 19, &reason, &v), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_ipv4_truncated);
}

static void
should_reject_an_ipv4_total_length_beyond_the_frame(void **state)
{
	uint8_t f[128];
	uint32_t len = frame_ipv4_udp(f, 0, 26400, payload, 20);
	uint8_t *ip = f + 14;
	weir_put_be16(ip + 2, (uint16_t)(weir_be16(ip + 2) + 1));
	weir_put_be16(ip + 10, 0);
	weir_put_be16(ip + 10, weir_ipv4_header_csum(ip, 20));
	struct weir_udp_view v;
	unsigned reason;
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_ipv4_bad_total_length);
}

static void
should_reject_an_ihl_below_five_or_beyond_the_bytes(void **state)
{
	uint8_t f[128];
	uint32_t len = frame_ipv4_udp(f, 0, 26400, payload, 20);
	struct weir_udp_view v;
	unsigned reason;
	f[14] = 0x44;
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_ipv4_bad_header_length);
	f[14] = 0x4F; /* 60 bytes of header in a 34-byte IP packet prefix */
	assert_int_equal(parse(f, 14 + 40, &reason, &v), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_ipv4_bad_header_length);
}

static void
should_reject_a_wrong_ipv4_checksum_unless_the_nic_vouched(void **state)
{
	uint8_t f[128];
	uint32_t len = frame_ipv4_udp(f, 0, 26400, payload, 20);
	f[14 + 10] ^= 1;
	struct weir_udp_view v;
	unsigned reason = 0;
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_ipv4_bad_checksum);
	assert_int_equal(weir_parse_udp(f, len, WEIR_CSUM_GOOD, WEIR_CSUM_UNKNOWN, &v, &reason), WEIR_PARSE_OK);
	f[14 + 10] ^= 1;
	assert_int_equal(weir_parse_udp(f, len, WEIR_CSUM_BAD, WEIR_CSUM_UNKNOWN, &v, &reason), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_ipv4_bad_checksum);
	assert_int_equal(weir_parse_udp(f, len, WEIR_CSUM_UNKNOWN, WEIR_CSUM_BAD, &v, &reason), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_l4_bad_checksum);
}

/* Known vectors, so the checksum is not only checked against itself: the
 * header of RFC 1071's usual example, and one with options (IHL 6). */
static void
should_compute_the_ipv4_header_checksum_of_known_headers(void **state)
{
	(void)state;
	uint8_t h[24] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
			  0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	assert_int_equal(weir_ipv4_header_csum(h, 20), 0xb861);
	h[10] = 0xb8;
	h[11] = 0x61;
	assert_int_equal(weir_ipv4_header_csum(h, 20), 0); /* a correct header sums to zero */
	uint8_t o[24] = { 0x46, 0x00, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0x01, 0x11, 0x00, 0x00,
			  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x94, 0x04, 0x00, 0x00 };
	/* against the plain 16-bit big-endian sum, many carries folded */
	uint32_t sum = 0x4600 + 0xffff * 8u + 0xfffe + 0x0111 + 0x9404;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(weir_ipv4_header_csum(o, 24), (uint16_t)~sum);
}

static void
should_reject_ipv4_fragments(void **state)
{
	uint8_t f[128];
	struct weir_udp_view v;
	unsigned reason;
	static const uint16_t frag_fields[] = { 0x2000 /* MF */, 0x0001 /* offset 8 */, 0x3FFF };
	for (unsigned i = 0; i < 3; i++) {
		uint32_t len = frame_ipv4_udp(f, 0, 26400, payload, 20);
		uint8_t *ip = f + 14;
		weir_put_be16(ip + 6, frag_fields[i]);
		weir_put_be16(ip + 10, 0);
		weir_put_be16(ip + 10, weir_ipv4_header_csum(ip, 20));
		assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_DEAD);
		assert_int_equal(reason, WEIR_DL_ipv4_fragment);
	}
}

static void
should_reject_udp_lengths_that_lie(void **state)
{
	uint8_t f[128];
	struct weir_udp_view v;
	unsigned reason;
	uint32_t len = frame_ipv4_udp(f, 0, 26400, payload, 20);
	uint32_t udp = 14 + 20;
	weir_put_be16(f + udp + 4, 7);
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_udp_bad_length);
	weir_put_be16(f + udp + 4, 8 + 21);
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_udp_bad_length);
}

static void
should_filter_what_is_not_ip_udp(void **state)
{
	uint8_t f[128];
	struct weir_udp_view v;
	unsigned reason;
	uint32_t len = frame_ipv4_udp(f, 0, 26400, payload, 20);
	weir_put_be16(f + 12, 0x0806); /* ARP */
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_FILTERED);
	len = frame_ipv4_udp(f, 0, 26400, payload, 20);
	f[14 + 9] = 6; /* TCP */
	weir_put_be16(f + 14 + 10, 0);
	weir_put_be16(f + 14 + 10, weir_ipv4_header_csum(f + 14, 20));
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_FILTERED);
}

static void
should_find_the_udp_payload_behind_vlan_and_qinq_tags(void **state)
{
	uint8_t f[128];
	struct weir_udp_view v;
	unsigned reason;
	for (unsigned tags = 0; tags <= 2; tags++) {
		uint32_t len = frame_ipv4_udp(f, tags, 26400, payload, 20);
		assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_OK);
		assert_int_equal(v.vlan_tags, tags);
		assert_int_equal(v.dst_port, 26400);
		assert_int_equal(v.src_port, 40000);
		assert_int_equal(v.payload_len, 20);
		assert_memory_equal(v.payload, payload, 20);
		assert_int_equal(v.ip_version, 4);
	}
}

static void
should_ignore_ethernet_padding_after_the_ip_packet(void **state)
{
	uint8_t f[128];
	struct weir_udp_view v;
	unsigned reason;
	uint32_t len = frame_ipv4_udp(f, 0, 26400, payload, 2);
	memset(f + len, 0xEE, 60 - len);
	assert_int_equal(parse(f, 60, &reason, &v), WEIR_PARSE_OK);
	assert_int_equal(v.payload_len, 2);
}

static void
should_parse_ipv6_and_follow_its_option_headers(void **state)
{
	uint8_t f[192], ext[16];
	struct weir_udp_view v;
	unsigned reason;
	uint32_t len = frame_ipv6_udp(f, NULL, 0, 0, 26400, payload, 20);
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_OK);
	assert_int_equal(v.ip_version, 6);
	assert_int_equal(v.payload_len, 20);
	/* hop-by-hop (8 bytes) then destination options (16 bytes) then UDP */
	memset(ext, 0, sizeof(ext));
	uint8_t two[24] = { 60, 0 };
	two[8] = 17;
	two[9] = 1;
	len = frame_ipv6_udp(f, two, 24, 0, 26400, payload, 20);
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_OK);
	assert_memory_equal(v.payload, payload, 20);
	/* hop-by-hop then ICMPv6 (MLD): filtered, not malformed */
	uint8_t hbh_icmp[8] = { 58, 0 };
	len = frame_ipv6_udp(f, hbh_icmp, 8, 0, 26400, payload, 20);
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_FILTERED);
}

static void
should_reject_ipv6_lengths_that_lie_and_fragments(void **state)
{
	uint8_t f[192];
	struct weir_udp_view v;
	unsigned reason;
	uint32_t len = frame_ipv6_udp(f, NULL, 0, 0, 26400, payload, 20);
	for (uint32_t cut = 14; cut < 54; cut++) {
		assert_int_equal(parse(f, cut, &reason, &v), WEIR_PARSE_DEAD);
		assert_int_equal(reason, WEIR_DL_ipv6_truncated);
	}
	weir_put_be16(f + 14 + 4, 29);
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_ipv6_bad_payload_length);
	uint8_t huge_ext[8] = { 17, 200 };  /* claims 1608 bytes */
	len = frame_ipv6_udp(f, huge_ext, 8, 0, 26400, payload, 20);
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_ipv6_bad_extension_header);
	uint8_t frag[8] = { 17, 0 };
	len = frame_ipv6_udp(f, frag, 8, 44, 26400, payload, 20);
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_ipv6_fragment);
}

/* net_pcap and af_packet say nothing of checksums: a payload corrupted on
 * the way was accepted while the IPv4 header was checked. */
static void
should_check_the_udp_checksum_in_software_when_the_nic_does_not_say(void **state)
{
	uint8_t f[128];
	struct weir_udp_view v;
	unsigned reason;
	uint32_t len = frame_ipv4_udp(f, 0, 26400, payload, 20);
	set_ipv4_udp_csum(f, 0);
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_OK);
	f[len - 3] ^= 0x10; /* one bit of the payload */
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_l4_bad_checksum);
	/* What the NIC vouches for is not checked again. */
	assert_int_equal(weir_parse_udp(f, len, WEIR_CSUM_UNKNOWN, WEIR_CSUM_GOOD, &v, &reason), WEIR_PARSE_OK);
	/* Zero is "no checksum" over IPv4 ... */
	weir_put_be16(f + 34 + 6, 0);
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_OK);
	/* ... and forbidden over IPv6. */
	len = frame_ipv6_udp(f, NULL, 0, 0, 26400, payload, 20);
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_OK);
	weir_put_be16(f + 54 + 6, 0);
	assert_int_equal(parse(f, len, &reason, &v), WEIR_PARSE_DEAD);
	assert_int_equal(reason, WEIR_DL_l4_bad_checksum);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_reject_frames_shorter_than_ethernet_at_every_length),
		cmocka_unit_test(should_reject_every_truncation_inside_ipv4_and_udp),
		cmocka_unit_test(should_reject_an_ipv4_total_length_beyond_the_frame),
		cmocka_unit_test(should_reject_an_ihl_below_five_or_beyond_the_bytes),
		cmocka_unit_test(should_reject_a_wrong_ipv4_checksum_unless_the_nic_vouched),
		cmocka_unit_test(should_compute_the_ipv4_header_checksum_of_known_headers),
		cmocka_unit_test(should_reject_ipv4_fragments),
		cmocka_unit_test(should_reject_udp_lengths_that_lie),
		cmocka_unit_test(should_reject_ipv6_lengths_that_lie_and_fragments),
		cmocka_unit_test(should_filter_what_is_not_ip_udp),
		cmocka_unit_test(should_find_the_udp_payload_behind_vlan_and_qinq_tags),
		cmocka_unit_test(should_ignore_ethernet_padding_after_the_ip_packet),
		cmocka_unit_test(should_parse_ipv6_and_follow_its_option_headers),
		cmocka_unit_test(should_check_the_udp_checksum_in_software_when_the_nic_does_not_say),
	};
	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
