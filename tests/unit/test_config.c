#include <arpa/inet.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "weir_config.h"

static struct weir_config cfg;
static char err[4096];

#define VALID_TAIL "set corelist 1\ndecoder moldudp64 udp-port 26400 topic itch\nlog dir /tmp/x\n"

static int
parse(const char *text)
{
	return weir_config_parse(text, "t.conf", &cfg, err, sizeof(err));
}

/* The error for line `line` starts "t.conf:LINE: " and contains `words`. */
static void
expect_error(const char *text, unsigned line, const char *words)
{
	assert_int_equal(parse(text), -1);
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "t.conf:%u: ", line);
	if (strstr(err, prefix) == NULL || strstr(err, words) == NULL) {
		print_error("wanted \"%s...%s\", got:\n%s\n", prefix, words, err);
		fail();
	}
}

static void
should_name_the_line_and_token_of_an_unknown_command(void **state)
{
	expect_error("# comment\n\nfrobnicate 3\n" VALID_TAIL, 3,
		     "unknown command \"frobnicate\": valid are eal, set, port");
}

static void
should_reject_numbers_out_of_range_with_the_range(void **state)
{
	expect_error("set burst 0\n" VALID_TAIL, 1, "burst \"0\" is not valid: give an integer from 1 to 512");
	expect_error(VALID_TAIL "port config all rxd 10\n", 4, "rxd \"10\" is not valid");
	expect_error(VALID_TAIL "port config all rxd 1k\n", 4, "rxd \"1k\"");
	expect_error(VALID_TAIL "decoder moldudp64 udp-port 70000 topic a\n", 4, "udp-port \"70000\"");
}

static void
should_reject_a_ring_size_that_is_not_a_power_of_two(void **state)
{
	expect_error(VALID_TAIL "ring size 3M\n", 4, "power of two from 64K to 4G");
	expect_error(VALID_TAIL "ring size 12Q\n", 4, "is not a size");
	expect_error(VALID_TAIL "ring size 32K\n", 4, "power of two");
}

static void
should_reject_unknown_policies_and_say_what_is_valid(void **state)
{
	expect_error(VALID_TAIL "ring full-policy wait\n", 4, "write drop or backpressure");
	expect_error(VALID_TAIL "log fsync sometimes\n", 4, "log fsync interval DURATION");
	expect_error(VALID_TAIL "log fsync interval 10\n", 4, "not a duration");
	expect_error(VALID_TAIL "log fsync interval 0ms\n", 4, "must be above 0");
	expect_error(VALID_TAIL "port config all rss tcp\n", 4, "write udp, ip or none");
}

/* A secondary gets only 63 characters of a vdev's arguments; cut inside
 * "infinite_rx=1", net_pcap's probe crashed weir-stat. */
static void
should_reject_vdev_arguments_a_secondary_would_get_cut_short(void **state)
{
	char text[512];
	const char *path63 = "rx_pcap=/tmp/0123456789/0123456789/0123456789/0123456789/0.pcap"; /* 63 */
	assert_int_equal(strlen(path63), 63);
	snprintf(text, sizeof(text), "eal --vdev=net_pcap0,%s\n" VALID_TAIL, path63);
	assert_int_equal(parse(text), 0);
	snprintf(text, sizeof(text), "eal --vdev=net_pcap0,%s,infinite_rx=1\n" VALID_TAIL, path63);
	expect_error(text, 1, "--vdev net_pcap0: its arguments are 77 characters");
	expect_error(text, 1, "shorten them");
	snprintf(text, sizeof(text), "eal --no-pci --vdev net_pcap0,%sX\n" VALID_TAIL, path63);
	expect_error(text, 1, "only the first 63");
}

static void
should_require_rxq_per_port_for_all_ports(void **state)
{
	expect_error(VALID_TAIL "port config 0 rxq 2\n", 4, "write \"port config all rxq 2\"");
}

static void
should_reject_a_decoder_port_used_twice_naming_the_first_line(void **state)
{
	expect_error(VALID_TAIL "decoder moldudp64 udp-port 26400 topic other\n", 4, "already has a decoder (line 2)");
	expect_error(VALID_TAIL "decoder sbe udp-port 1 topic x\n", 4, "unknown decoder \"sbe\"");
	expect_error(VALID_TAIL "decoder moldudp64 udp-port 1 topic _x\n", 4, "topic \"_x\" is not valid");
}

static void
should_check_cross_field_rules_after_the_whole_file(void **state)
{
	expect_error("set corelist 1,2\nport config all rxq 3\ndecoder moldudp64 udp-port 1 topic a\nlog dir /x\n", 2,
		     "but \"set corelist\" (line 1) names 2 lcores");
	expect_error("decoder moldudp64 udp-port 1 topic a\nlog dir /x\n", 2, "no worker lcores");
	expect_error("set corelist 1\nlog dir /x\n", 2, "no decoder");
	expect_error("set corelist 1\ndecoder moldudp64 udp-port 1 topic a\n", 2, "no log directory");
}

static void
should_refuse_sender_keyed_sources_on_a_feed_with_rerequests(void **state)
{
	expect_error("set corelist 1\nlog dir /x\nsequence key source+sender\n"
		     "decoder moldudp64 udp-port 1 topic a rerequest 198.18.0.1:2\n", 3,
		     "cannot go with the rerequest on line 4");
	expect_error(VALID_TAIL "decoder weirframe udp-port 2 topic b rerequest 198.18.0.1:2\n", 4,
		     "the weir frame has no retransmission protocol");
	expect_error(VALID_TAIL "decoder moldudp64 udp-port 2 topic b rerequest 198.18.0.1\n", 4,
		     "write IPV4:PORT");
	expect_error(VALID_TAIL "sequence reorder-window 100 0ms\n", 4, "needs a time bound above 0");
	expect_error(VALID_TAIL "frame-topic 0 x\n", 4, "frame-topic id \"0\" is not valid");
}

static void
should_report_every_error_not_just_the_first(void **state)
{
	assert_int_equal(parse("set burst 0\nset mbufs x\nbogus\n" VALID_TAIL), -1);
	assert_non_null(strstr(err, "t.conf:1: "));
	assert_non_null(strstr(err, "t.conf:2: "));
	assert_non_null(strstr(err, "t.conf:3: "));
}

static void
should_reject_a_corelist_naming_an_lcore_twice(void **state)
{
	expect_error("set corelist 1,1\ndecoder moldudp64 udp-port 1 topic a\nlog dir /x\n", 1, "names lcore 1 twice");
	expect_error("set corelist 3-1\ndecoder moldudp64 udp-port 1 topic a\nlog dir /x\n", 1, "e.g. 1,2 or 1-3");
}

static void
should_name_an_unset_environment_variable(void **state)
{
	unsetenv("WEIR_TEST_UNSET");
	expect_error(VALID_TAIL "eal --vdev=${WEIR_TEST_UNSET}\n", 4, "WEIR_TEST_UNSET is not set");
}

static void
should_never_overflow_on_a_huge_line(void **state)
{
	char *text = malloc(100000);
	memset(text, 'a', 99998);
	text[99998] = '\n';
	text[99999] = 0;
	assert_int_equal(parse(text), -1);
	assert_non_null(strstr(err, "t.conf:1: line longer than"));
	free(text);
}

static void
should_parse_a_whole_deployment(void **state)
{
	setenv("WEIR_TEST_PCAP", "/tmp/a.pcap", 1);
	const char *text =
		"eal --file-prefix=demo --no-huge -m 256   # EAL arguments\n"
		"eal --vdev=net_pcap0,rx_pcap=${WEIR_TEST_PCAP}\n"
		"set corelist 1-2\n"
		"set burst 64\n"
		"port config all rxq 2\n"
		"port config all rss udp\n"
		"port config 1 rxd 4096\n"
		"ring size 32M\n"
		"ring full-policy backpressure\n"
		"decoder moldudp64 udp-port 26400 topic itch\n"
		"decoder moldudp64 udp-port 26401 topic itch\n"
		"decoder moldudp64 udp-port 26500 topic ouch\n"
		"log dir /var/lib/weir\n"
		"log segment-size 128M\n"
		"log fsync batch\n"
		"shutdown drain-timeout 250ms\n";
	assert_int_equal(parse(text), 0);
	assert_int_equal(cfg.eal_argc, 5);
	assert_string_equal(cfg.eal_argv[4], "--vdev=net_pcap0,rx_pcap=/tmp/a.pcap");
	assert_string_equal(weir_config_file_prefix(&cfg), "demo");
	assert_true(weir_config_no_huge(&cfg));
	assert_int_equal(cfg.n_workers, 2);
	assert_int_equal(cfg.worker_lcores[1], 2);
	assert_int_equal(cfg.burst, 64);
	assert_int_equal(cfg.rxd[0], 1024);
	assert_int_equal(cfg.rxd[1], 4096);
	assert_int_equal(cfg.ring_bytes, 32u << 20);
	assert_int_equal(cfg.full_policy, WEIR_FULL_BACKPRESSURE);
	assert_int_equal(cfg.n_decoders, 3);
	assert_int_equal(cfg.n_topics, 3); /* _deadletter, itch, ouch */
	assert_int_equal(cfg.decoders[1].topic, cfg.decoders[0].topic);
	assert_string_equal(cfg.topics[cfg.decoders[2].topic], "ouch");
	assert_string_equal(cfg.topics[0], "_deadletter");
	assert_int_equal(cfg.segment_bytes, 128u << 20);
	assert_int_equal(cfg.fsync_mode, WEIR_FSYNC_BATCH);
	assert_int_equal(cfg.drain_timeout_ns, 250000000ull);
}

/* The outside check's file: a NUL used to end the file, so what followed
 * (an invalid burst, an unknown command) passed --check unread. */
static void
should_refuse_a_nul_byte_at_its_line_and_read_on_past_it(void **state)
{
	static const char text[] = "set corelist 1\ndecoder moldudp64 udp-port 26400 topic itch\nlog dir /tmp/x\n"
				   "\0\nset burst 0\nfrobnicate\n";
	assert_int_equal(weir_config_parse_bytes(text, sizeof(text) - 1, "t.conf", &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf:4: byte 0x00 at column 1"));
	assert_non_null(strstr(err, "t.conf:5: burst \"0\" is not valid"));
	assert_non_null(strstr(err, "t.conf:6: unknown command \"frobnicate\""));
}

static void
should_refuse_control_bytes_and_crlf_line_endings_with_the_fix(void **state)
{
	expect_error("set corelist 1\r\n" VALID_TAIL, 1, "carriage return (CRLF line endings): convert the file");
	expect_error(VALID_TAIL "set burst \x01 32\n", 4, "byte 0x01 at column 11");
}

static void
should_refuse_a_setting_given_twice_naming_both_lines(void **state)
{
	expect_error(VALID_TAIL "ring size 1M\nring size 2M\n", 5, "\"ring size\" is already set on line 4");
	expect_error(VALID_TAIL "log dir /tmp/y\n", 4, "\"log dir\" is already set on line 3");
	expect_error(VALID_TAIL "port config 0 rxd 1024\nport config 0 rxd 2048\n", 5, "already set on line 4");
	/* What may repeat still does. */
	assert_int_equal(parse(VALID_TAIL "port config 1 rxd 2048\ntopic a\ntopic b\n"
				"decoder moldudp64 udp-port 26401 topic b\n"), 0);
}

static void
should_say_that_reorder_window_takes_two_values(void **state)
{
	expect_error(VALID_TAIL "sequence reorder-window 10\n", 4, "expected \"sequence reorder-window EVENTS TIME\"");
	assert_null(strstr(err, "unknown sequence setting"));
}

static void
should_say_a_directory_is_not_a_config_file(void **state)
{
	assert_int_equal(weir_config_load("/tmp", &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/tmp:0: a directory, not a file"));
}

/* A program that reads only some commands passes over another program's
 * line whose ${VAR} it has not got; its own lines' variables still must be
 * set, and a program reading everything refuses either, naming the line. */
static void
should_expand_only_what_a_program_reads(void **state)
{
	unsetenv("WEIR_UNIT_UNSET");
	char path[64];
	snprintf(path, sizeof(path), "/tmp/weir-unit-vars-%d.conf", (int)getpid());
	FILE *f = fopen(path, "w");
	fputs(VALID_TAIL "eal --vdev=net_pcap0,rx_pcap=${WEIR_UNIT_UNSET}\n", f);
	fclose(f);
	static const char *const reads[] = { "log", "decoder", NULL };
	assert_int_equal(weir_config_load_for(path, reads, &cfg, err, sizeof(err)), 0);
	assert_int_equal(weir_config_load(path, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":4: environment variable WEIR_UNIT_UNSET is not set"));
	f = fopen(path, "w");
	fputs("set corelist 1\ndecoder moldudp64 udp-port 26400 topic itch\nlog dir /tmp/${WEIR_UNIT_UNSET}\n", f);
	fclose(f);
	assert_int_equal(weir_config_load_for(path, reads, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3: environment variable WEIR_UNIT_UNSET is not set"));
	unlink(path);
}

/* A port file: eal, set and port config in the dataplane's words, one
 * lcore; a decoder line (or no lcore, or two) is refused at its line. */
static void
should_read_a_port_file_and_refuse_what_it_has_no_place_for(void **state)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/weir-unit-port-%d.conf", (int)getpid());
	FILE *f = fopen(path, "w");
	fputs("eal --no-pci --vdev=net_null0\nset corelist 1\nset burst 64\nport config all txd 2048\n", f);
	fclose(f);
	assert_int_equal(weir_config_load_port(path, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_workers, 1);
	assert_int_equal(cfg.burst, 64);
	assert_int_equal(cfg.txd[0], 2048);
	assert_int_equal(cfg.eal_argc, 2);
	f = fopen(path, "w");
	fputs("eal --no-pci\nset corelist 1,2\ndecoder moldudp64 udp-port 26400 topic itch\n", f);
	fclose(f);
	assert_int_equal(weir_config_load_port(path, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3: \"decoder\" has no place in a port file"));
	assert_non_null(strstr(err, ":2: a port file needs \"set corelist N\" naming one lcore"));
	unlink(path);
}

/* A FIFO named where a file goes: refused at once, never waited on (a
 * --check, or a unit's ExecStartPre, would hang for ever on its open). */
static void
should_refuse_a_fifo_without_waiting_for_a_writer(void **state)
{
	char fifo[64], line[160];
	snprintf(fifo, sizeof(fifo), "/tmp/weir-unit-fifo-%d", (int)getpid());
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10); /* a hang fails the test (SIGALRM) instead of the suite's time */
	snprintf(line, sizeof(line), "decoder moldudp64 udp-port 26402 topic itch sources @%s\n", fifo);
	char text[512];
	snprintf(text, sizeof(text), VALID_TAIL "%s", line);
	assert_int_equal(parse(text), -1);
	assert_non_null(strstr(err, "a special file, not a file"));
	assert_int_equal(weir_config_load(fifo, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a special file, not a file"));
	alarm(0);
	unlink(fifo);
}

static void
should_name_the_config_line_of_a_missing_rules_file(void **state)
{
	expect_error(VALID_TAIL "rules /nonexistent/rules.txt\n", 4, "rules file /nonexistent/rules.txt: No such file");
}

static void
should_parse_the_checksum_rules_and_restore_settings(void **state)
{
	assert_int_equal(parse(VALID_TAIL), 0);
	assert_false(cfg.udp_checksum_trust);
	assert_int_equal(cfg.seq.restore_window_bytes, UINT64_MAX); /* the whole log by default */
	assert_int_equal(parse(VALID_TAIL "set udp-checksum trust\nsequence restore-window 16M\n"), 0);
	assert_true(cfg.udp_checksum_trust);
	assert_int_equal(cfg.seq.restore_window_bytes, 16u << 20);
	assert_int_equal(parse(VALID_TAIL "sequence restore-window off\nrules /dev/null allow-empty\n"), 0);
	assert_int_equal(cfg.seq.restore_window_bytes, 0);
	assert_true(cfg.rules_allow_empty);
	expect_error(VALID_TAIL "set udp-checksum maybe\n", 4, "valid are verify");
	expect_error(VALID_TAIL "rules /dev/null please\n", 4, "\"rules FILE allow-empty\"");
	expect_error(VALID_TAIL "sequence restore-window lots\n", 4, "restore-window (or all, or off)");
}

static void
should_keep_each_topic_under_its_own_retention_over_every_topics(void **state)
{
	(void)state;
	assert_int_equal(parse(VALID_TAIL "log retention size 10G\nlog retention time 2h\n"
				       "log retention size 1G topic itch\nlog retention hard topic itch\n"),
			 0);
	struct weir_retention_cfg r;
	weir_config_retention(&cfg, "itch", &r);
	assert_int_equal(r.max_bytes, 1ull << 30);
	assert_int_equal(r.max_age_ns, 2 * 3600ull * 1000000000ull);
	assert_true(r.hard);
	weir_config_retention(&cfg, "_deadletter", &r);
	assert_int_equal(r.max_bytes, 10ull << 30);
	assert_false(r.hard);
	assert_int_equal(parse(VALID_TAIL), 0);
	weir_config_retention(&cfg, "itch", &r);
	assert_int_equal(r.max_bytes, 0);
	assert_int_equal(r.max_age_ns, 0);
}

static void
should_reject_retention_for_no_topic_twice_or_of_nothing(void **state)
{
	(void)state;
	expect_error(VALID_TAIL "log retention size 1G topic trades\n", 4, "retention for topic \"trades\": no decoder writes it");
	expect_error(VALID_TAIL "log retention size 1G\nlog retention size 2G\n", 5, "already set on line 4");
	expect_error(VALID_TAIL "log retention time 0s\n", 4, "retention of 0 would delete everything");
	expect_error(VALID_TAIL "log retention size\n", 4, "expected \"log retention size BYTES\"");
	expect_error(VALID_TAIL "log retention hard itch\n", 4, "with \"topic NAME\" after it");
	expect_error(VALID_TAIL "log retention time soon\n", 4, "retention time");
	expect_error(VALID_TAIL "log dir /tmp/y\n", 4, "already set on line 3");
}

static void
should_take_an_ipv6_retransmission_server_and_refuse_a_bad_one(void **state)
{
	(void)state;
	assert_int_equal(parse("set corelist 1\ndecoder moldudp64 udp-port 26400 topic itch rerequest [fd00:7::1]:26401\n"
			       "log dir /tmp/x\n"),
			 0);
	const struct weir_decoder_cfg *d = &cfg.decoders[0];
	assert_int_equal(d->rerequest_family, 6);
	assert_int_equal(d->rerequest_port, __builtin_bswap16(26401));
	assert_int_equal(d->rerequest_ip6[0], 0xfd);
	assert_int_equal(d->rerequest_ip6[15], 1);
	assert_int_equal(parse(VALID_TAIL "decoder moldudp64 udp-port 1 topic a rerequest 198.18.0.1:7\n"), 0);
	assert_int_equal(cfg.decoders[1].rerequest_family, 4);
	expect_error(VALID_TAIL "decoder moldudp64 udp-port 1 topic a rerequest [fd00::zz]:7\n", 4,
		     "is not an IPv6 address");
	expect_error(VALID_TAIL "decoder moldudp64 udp-port 1 topic a rerequest [fd00::1]\n", 4, "[IPV6]:PORT");
}

/* A feed's A and B lines: both, on decoders of one framing and topic, one
 * window shorter than the gap timeout, one queue for both. */
static void
should_take_a_feeds_a_and_b_lines_and_refuse_half_a_pair(void **state)
{
	assert_int_equal(parse(VALID_TAIL "decoder moldudp64 udp-port 26401 topic itch\n"
				"feed itch line a port 0 group 239.1.1.1 udp-port 26400\n"
				"feed itch line b port 1 group 239.1.1.2 source 10.0.0.9 udp-port 26401\n"
				"feed itch window 250us events 64\nfeed itch silent 2s\n"),
			 0);
	assert_int_equal(cfg.n_feeds, 1);
	assert_true(cfg.feeds[0].has_lines);
	assert_int_equal(cfg.feeds[0].window_ns, 250000);
	assert_int_equal(cfg.feeds[0].window_events, 64);
	assert_int_equal(cfg.feeds[0].silent_ns, 2000000000ull);
	assert_int_equal(cfg.feed_groups[0].ab, 0);
	assert_int_equal(cfg.feed_groups[1].ab, 1);
	assert_int_equal(cfg.feed_groups[1].port, 1);
	expect_error(VALID_TAIL "feed itch line a port 0 group 239.1.1.1 udp-port 26400\n", 4,
		     "feed itch has a line a but no line b");
	expect_error(VALID_TAIL "feed itch line c port 0 group 239.1.1.1 udp-port 26400\n", 4,
		     "a feed's lines are a and b");
	expect_error(VALID_TAIL "feed itch line a port 0 group 239.1.1.1 udp-port 26400\n"
				"feed itch line b port 0 group 239.1.1.2 udp-port 26400\n"
				"feed itch port 0 group 239.1.1.3 udp-port 26400\n",
		     6, "say which this group is");
	expect_error(VALID_TAIL "decoder weirframe udp-port 26401 topic itch\n"
				"feed itch line a port 0 group 239.1.1.1 udp-port 26400\n"
				"feed itch line b port 0 group 239.1.1.2 udp-port 26401\n",
		     6, "differ in framing or topic");
	expect_error(VALID_TAIL "sequence key source+sender\n"
				"feed itch line a port 0 group 239.1.1.1 udp-port 26400\n"
				"feed itch line b port 0 group 239.1.1.2 udp-port 26400\n",
		     4, "each line has its own sender");
	expect_error(VALID_TAIL "sequence gap-timeout 1ms\nfeed itch window 2ms\n"
				"feed itch line a port 0 group 239.1.1.1 udp-port 26400\n"
				"feed itch line b port 0 group 239.1.1.2 udp-port 26400\n",
		     5, "shorter than the gap timeout");
	expect_error(VALID_TAIL "feed itch window 2ms\nfeed itch port 0 group 239.1.1.1 udp-port 26400\n", 4,
		     "arbitrates A and B lines, and it has none");
	expect_error(VALID_TAIL "feed itch window 2ms\n", 4, "has settings but no group");
	expect_error(VALID_TAIL "feed itch window 0ms\n", 4, "give a time above 0");
	expect_error(VALID_TAIL "feed itch window 1ms 5\n", 4, "expected \"feed NAME window DURATION [events N]\"");
}

static void
should_take_ipv6_groups_of_a_scope_beyond_the_link(void **state)
{
	assert_int_equal(parse(VALID_TAIL "feed v6 port 0 group ff3e::8000:1 source 2001:db8::9 udp-port 26400\n"), 0);
	assert_int_equal(cfg.feed_groups[0].family, 6);
	assert_int_equal(cfg.feed_groups[0].group6[0], 0xff);
	assert_int_equal(cfg.feed_groups[0].source6[15], 9);
	expect_error(VALID_TAIL "feed v6 port 0 group ff02::16 udp-port 26400\n", 4, "of a scope above link-local");
	expect_error(VALID_TAIL "feed v6 port 0 group ff3e::1 source 10.0.0.1 udp-port 26400\n", 4,
		     "is not an IPv6 address, as the group is");
}

static void
should_create_the_log_0640_unless_log_mode_says_otherwise(void **state)
{
	assert_int_equal(parse(VALID_TAIL), 0);
	assert_int_equal(cfg.log_mode, 0640);
	assert_int_equal(weir_config_umask(&cfg), 0027); /* files 0640, directories 0750 */
	assert_int_equal(parse(VALID_TAIL "log mode 0600\n"), 0);
	assert_int_equal(weir_config_umask(&cfg), 0077);
	expect_error(VALID_TAIL "log mode 0750\n", 4, "read and write bits only");
	expect_error(VALID_TAIL "log mode 0440\n", 4, "the owner's both");
}

static void
should_take_a_decoders_allowlists_and_name_the_file_line_of_a_bad_entry(void **state)
{
	/* who may feed a decoder: addresses and sources, inline or from a file */
	assert_int_equal(parse(VALID_TAIL "decoder moldudp64 udp-port 1 topic a allow 10.0.0.0/8,2001:db8::/32 "
					  "sources ITCH1,ITCH2 unauthorized keep\n"),
			 0);
	assert_string_equal(cfg.decoders[1].allow, "10.0.0.0/8,2001:db8::/32");
	assert_true(cfg.decoders[1].keep_unauthorized);
	expect_error(VALID_TAIL "decoder moldudp64 udp-port 1 topic a allow 10.0.0.0/33\n", 4,
		     "\"10.0.0.0/33\" is not an address or network");
	expect_error(VALID_TAIL "decoder weirframe udp-port 1 topic a sources ITCH1\n", 4,
		     "is not a weir frame source (wf:ID)");
	expect_error(VALID_TAIL "decoder moldudp64 udp-port 1 topic a deny 10.0.0.1\n", 4, "unknown decoder option");
	char dir[] = "/tmp/weir-allow-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/list", dir);
	FILE *f = fopen(path, "w");
	fputs("# ours\n10.0.0.0/8\n10.1.0.0/16, 10.2.0.0/16\n300.1.1.1\n", f);
	fclose(f);
	char text[256];
	snprintf(text, sizeof(text), VALID_TAIL "decoder moldudp64 udp-port 1 topic a allow @%s\n", path);
	expect_error(text, 4, "/list:4: \"300.1.1.1\" is not an address or network");
	f = fopen(path, "w");
	static const char with_nul[] = "10.0.0.0/8\n\0" "10.1.0.0/16\n";
	fwrite(with_nul, 1, sizeof(with_nul) - 1, f);
	fclose(f);
	expect_error(text, 4, "/list:2: byte 0x00 at column 1: the file must be text");
	unlink(path);
	rmdir(dir);
}

static void
should_want_readable_files_for_metrics_tls_and_auth(void **state)
{
	expect_error(VALID_TAIL "metrics tls /nonexistent/cert.pem /nonexistent/key.pem\n", 4,
		     "metrics tls: /nonexistent/cert.pem: No such file or directory");
	expect_error(VALID_TAIL "metrics auth bearer /nonexistent/token\n", 4, "give a file holding the token");
	expect_error(VALID_TAIL "metrics auth digest x y\n", 4, "\"metrics auth basic USER PASSWORDFILE\"");
}

static void
should_take_a_ports_own_unicast_address_only(void **state)
{
	assert_int_equal(parse(VALID_TAIL "port config 1 address 10.1.2.3\n"), 0);
	assert_int_equal(cfg.port_addr[1], htonl(0x0A010203));
	expect_error(VALID_TAIL "port config all address 10.1.2.3\n", 4, "an address is one port's");
	expect_error(VALID_TAIL "port config 0 address 239.1.1.1\n", 4, "not this host's IPv4 unicast address");
}

static void
should_resolve_the_service_user_when_read_and_refuse_root_or_an_unknown_one(void **state)
{
	assert_int_equal(parse(VALID_TAIL), 0);
	assert_string_equal(cfg.run_user, ""); /* no "user": stay who started */
	assert_int_equal(parse(VALID_TAIL "user nobody\n"), 0);
	assert_string_equal(cfg.run_user, "nobody");
	assert_int_equal(cfg.run_uid, 65534);
	assert_int_equal(cfg.run_gid, 65534);
	assert_int_equal(cfg.line_user, 4);
	assert_int_equal(parse(VALID_TAIL "user nobody group root\n"), 0);
	assert_int_equal(cfg.run_gid, 0);
	expect_error(VALID_TAIL "user no-such-weir-user\n", 4, "user \"no-such-weir-user\" does not exist: create it (useradd");
	expect_error(VALID_TAIL "user nobody group no-such-weir-group\n", 4, "group \"no-such-weir-group\" does not exist");
	expect_error(VALID_TAIL "user root\n", 4, "is root: name the service's own account");
	expect_error(VALID_TAIL "user nobody nogroup\n", 4, "expected \"user NAME [group GROUP]\"");
	expect_error(VALID_TAIL "user nobody\nuser nobody\n", 5, "is already set on line 4");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_take_an_ipv6_retransmission_server_and_refuse_a_bad_one),
		cmocka_unit_test(should_keep_each_topic_under_its_own_retention_over_every_topics),
		cmocka_unit_test(should_reject_retention_for_no_topic_twice_or_of_nothing),
		cmocka_unit_test(should_name_the_line_and_token_of_an_unknown_command),
		cmocka_unit_test(should_reject_numbers_out_of_range_with_the_range),
		cmocka_unit_test(should_reject_a_ring_size_that_is_not_a_power_of_two),
		cmocka_unit_test(should_reject_unknown_policies_and_say_what_is_valid),
		cmocka_unit_test(should_require_rxq_per_port_for_all_ports),
		cmocka_unit_test(should_reject_vdev_arguments_a_secondary_would_get_cut_short),
		cmocka_unit_test(should_reject_a_decoder_port_used_twice_naming_the_first_line),
		cmocka_unit_test(should_check_cross_field_rules_after_the_whole_file),
		cmocka_unit_test(should_refuse_sender_keyed_sources_on_a_feed_with_rerequests),
		cmocka_unit_test(should_take_a_feeds_a_and_b_lines_and_refuse_half_a_pair),
		cmocka_unit_test(should_take_ipv6_groups_of_a_scope_beyond_the_link),
		cmocka_unit_test(should_create_the_log_0640_unless_log_mode_says_otherwise),
		cmocka_unit_test(should_take_a_decoders_allowlists_and_name_the_file_line_of_a_bad_entry),
		cmocka_unit_test(should_want_readable_files_for_metrics_tls_and_auth),
		cmocka_unit_test(should_take_a_ports_own_unicast_address_only),
		cmocka_unit_test(should_resolve_the_service_user_when_read_and_refuse_root_or_an_unknown_one),
		cmocka_unit_test(should_report_every_error_not_just_the_first),
		cmocka_unit_test(should_reject_a_corelist_naming_an_lcore_twice),
		cmocka_unit_test(should_name_an_unset_environment_variable),
		cmocka_unit_test(should_never_overflow_on_a_huge_line),
		cmocka_unit_test(should_parse_a_whole_deployment),
		cmocka_unit_test(should_refuse_a_nul_byte_at_its_line_and_read_on_past_it),
		cmocka_unit_test(should_refuse_control_bytes_and_crlf_line_endings_with_the_fix),
		cmocka_unit_test(should_refuse_a_setting_given_twice_naming_both_lines),
		cmocka_unit_test(should_say_that_reorder_window_takes_two_values),
		cmocka_unit_test(should_say_a_directory_is_not_a_config_file),
		cmocka_unit_test(should_name_the_config_line_of_a_missing_rules_file),
		cmocka_unit_test(should_refuse_a_fifo_without_waiting_for_a_writer),
		cmocka_unit_test(should_expand_only_what_a_program_reads),
		cmocka_unit_test(should_read_a_port_file_and_refuse_what_it_has_no_place_for),
		cmocka_unit_test(should_parse_the_checksum_rules_and_restore_settings),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
