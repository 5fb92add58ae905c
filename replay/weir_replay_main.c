/*
 * weir-replay: the log back onto the wire.  `send` replays a topic as
 * MoldUDP64 to a UDP socket or into a pcap file (weir_replay_send.h);
 * `serve` answers MoldUDP64 re-requests from it (weir_replay_serve.h).
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_config.h"
#include "weir_crash.h"
#include "weir_moldudp64.h"
#include "weir_number.h"
#include "weir_link.h"
#include "weir_quit.h"
#include "weir_replay_cli.h"
#include "weir_replay_metrics.h"
#include "weir_replay_send.h"
#include "weir_time.h"
#include "weir_time_parse.h"

enum { EXIT_OK = WEIR_REPLAY_OK, EXIT_FAIL = WEIR_REPLAY_FAIL, EXIT_USAGE = WEIR_REPLAY_USAGE,
       EXIT_EMPTY = WEIR_REPLAY_EMPTY };

struct options {
	const char *log_dir, *topic, *to, *pcap, *from_addr, *metrics, *port_config;
	uint8_t dst_mac[6];
	bool have_dst_mac;
	struct weir_replay_range range;
	double speed, heartbeat_s, hold_s;
	unsigned mtu, max_messages, ttl;
	bool check, quiet, have_seq;
	const char *udp_checksum; /* "nic" or "software"; NULL: not given (nic) */
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: weir-replay send [options] --topic NAME (--to ADDRESS:PORT | --pcap FILE | --port-config FILE)\n"
		"                       LOG_DIR\n"
		"  --to ADDRESS:PORT       send over a UDP socket (unicast or multicast, IPv4 or [IPv6]); with\n"
		"                          --pcap or --port-config, the frames' destination (default 198.18.0.2:26400)\n"
		"  --pcap FILE             write Ethernet frames to a pcap (ns stamps: the recorded times,\n"
		"                          spaced by --speed) instead of sending\n"
		"  --port-config FILE      send the frames from a DPDK port: a port file of eal, set corelist (the\n"
		"                          sending lcore), set burst, set mbufs and port config txd lines\n"
		"  --from-addr ADDRESS:PORT  --pcap, --port-config: the frames' source (default 198.18.0.1:26401,\n"
		"                          [fd00::1]:26401)\n"
		"  --dst-mac MAC           --port-config: the frames' Ethernet destination (default: a group's own,\n"
		"                          else 02:00:00:00:00:02)\n"
		"  --hold SEC              --port-config: once sent, hold the port up, unpolled, until its link goes\n"
		"                          down (at most SEC): a net_memif receiver must stop first\n"
		"  --udp-checksum nic|software  --port-config: UDP checksums finished by the NIC where the port offers\n"
		"                          it (default nic), or summed here\n"
		"  --from OFFSET | --from-time T | --source S --from-seq N   where to start (default: the first)\n"
		"  --until OFFSET          stop before this offset (default: the committed end)\n"
		"  --until-time T          stop at the first entry received at or after T\n"
		"  --count N               stop after N events\n"
		"  --sources S,...         only these sources (as weir-read prints them)\n"
		"  --speed X               1: as recorded (default), 2: twice as fast, 0: as fast as it goes\n"
		"  --mtu N                 the IP MTU packets must fit (default 1500)\n"
		"  --max-messages N        messages a packet at most (default 64)\n"
		"  --ttl N                 multicast hops (default 1)\n"
		"  --heartbeat SEC         paced, to a socket or port: each open source's heartbeat after SEC with\n"
		"                          nothing sent (default 1; 0: none)\n"
		"  --quiet                 no progress line each second\n"
		"  --metrics ADDRESS:PORT  /metrics and /healthz while it sends (IPv4, plain HTTP)\n"
		"  --check                 check the arguments and the range, send nothing\n"
		"T: ISO 8601 UTC (2026-11-29T09:30:00.5Z) or ns since the epoch.\n"
		"exit: 0 sent; 1 an error (said); 2 usage; 4 nothing in the range\n");
	weir_replay_serve_usage(f);
}

static int
add_sources(struct weir_replay_range *r, char *list)
{
	for (char *save = NULL, *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		if (r->n_sources + 2 > WEIR_REPLAY_MAX_SOURCES || weir_source_parse(name, ' ', r->sources[r->n_sources]))
			return -1;
		r->n_sources++;
		if (weir_source_parse(name, 0, r->sources[r->n_sources]) == 0) /* some senders pad with NULs */
			r->n_sources++;
	}
	return 0;
}

/* xx:xx:xx:xx:xx:xx */
static int
parse_mac(const char *arg, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	if (sscanf(arg, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static int
parse_option(struct options *o, int c, char *arg)
{
	uint64_t v = 0;
	char *end;
	struct weir_replay_range *r = &o->range;
	switch (c) {
	case 't': o->topic = arg; return 0;
	case 'o': o->to = arg; return 0;
	case 'p': o->pcap = arg; return 0;
	case 'a': o->from_addr = arg; return 0;
	case 'D': o->port_config = arg; return 0;
	case 'E': o->have_dst_mac = true; return parse_mac(arg, o->dst_mac);
	case 'f': r->from = WEIR_REPLAY_FROM_OFFSET; return weir_parse_u64(arg, &r->from_offset);
	case 'T': r->from = WEIR_REPLAY_FROM_TIME; return weir_time_parse(arg, &r->from_ns);
	case 'S': r->from = WEIR_REPLAY_FROM_SEQ; return weir_source_parse(arg, ' ', r->from_source);
	case 'q': o->have_seq = true; return weir_parse_u64(arg, &r->from_seq);
	case 'u': return weir_parse_u64(arg, &r->until_offset) || r->until_offset == 0 ? -1 : 0;
	case 'U': return weir_time_parse(arg, &r->until_ns);
	case 'n': return weir_parse_u64(arg, &r->count) || r->count == 0 ? -1 : 0;
	case 's': return add_sources(r, arg);
	case 'x': o->speed = strtod(arg, &end); return *end || end == arg || o->speed < 0 ? -1 : 0;
	case 'm': o->mtu = (unsigned)(weir_parse_u64(arg, &v) ? 0 : v); return o->mtu < 128 || o->mtu > 9216 ? -1 : 0;
	case 'M': o->max_messages = (unsigned)(weir_parse_u64(arg, &v) ? 0 : v);
		return o->max_messages < 1 || o->max_messages > 0xFFFE ? -1 : 0;
	case 'L': o->ttl = (unsigned)(weir_parse_u64(arg, &v) ? 0 : v); return o->ttl < 1 || o->ttl > 255 ? -1 : 0;
	case 'Q': o->quiet = true; return 0;
	case 'P': o->metrics = arg; return 0;
	case 'H': o->heartbeat_s = strtod(arg, &end); return *end || end == arg || o->heartbeat_s < 0 ? -1 : 0;
	case 'c': o->check = true; return 0;
	case 'h': o->hold_s = strtod(arg, &end); return *end || end == arg || o->hold_s <= 0 || o->hold_s > 3600 ? -1 : 0;
	case 'C': o->udp_checksum = arg; return strcmp(arg, "nic") == 0 || strcmp(arg, "software") == 0 ? 0 : -1;
	default: return -1;
	}
}

static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "topic", required_argument, 0, 't' }, { "to", required_argument, 0, 'o' },
		{ "pcap", required_argument, 0, 'p' }, { "from-addr", required_argument, 0, 'a' },
		{ "from", required_argument, 0, 'f' }, { "from-time", required_argument, 0, 'T' },
		{ "source", required_argument, 0, 'S' }, { "from-seq", required_argument, 0, 'q' },
		{ "until", required_argument, 0, 'u' }, { "until-time", required_argument, 0, 'U' },
		{ "count", required_argument, 0, 'n' }, { "sources", required_argument, 0, 's' },
		{ "speed", required_argument, 0, 'x' }, { "mtu", required_argument, 0, 'm' },
		{ "max-messages", required_argument, 0, 'M' }, { "ttl", required_argument, 0, 'L' },
		{ "quiet", no_argument, 0, 'Q' }, { "check", no_argument, 0, 'c' }, { "metrics", required_argument, 0, 'P' },
		{ "heartbeat", required_argument, 0, 'H' }, { "port-config", required_argument, 0, 'D' },
		{ "dst-mac", required_argument, 0, 'E' }, { "hold", required_argument, 0, 'h' },
		{ "udp-checksum", required_argument, 0, 'C' }, { 0, 0, 0, 0 },
	};
	*o = (struct options){ .speed = 1.0, .heartbeat_s = 1.0, .mtu = 1500, .max_messages = 64 };
	int c;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1)
		if (parse_option(o, c, optarg) != 0) {
			fprintf(stderr, "weir-replay: bad argument%s%s\n", optarg ? ": " : "", optarg ? optarg : "");
			return -1;
		}
	if (optind + 1 != argc || o->topic == NULL || (o->to == NULL && o->pcap == NULL && o->port_config == NULL)) {
		fprintf(stderr, "weir-replay: send needs --topic, --to, --pcap or --port-config, and one LOG_DIR\n");
		return -1;
	}
	if (o->hold_s > 0 && o->port_config == NULL) {
		fprintf(stderr, "weir-replay: --hold is for --port-config\n");
		return -1;
	}
	if (o->udp_checksum && o->port_config == NULL) {
		fprintf(stderr, "weir-replay: --udp-checksum is for --port-config\n");
		return -1;
	}
	if (o->pcap && o->port_config) {
		fprintf(stderr, "weir-replay: --pcap or --port-config, not both\n");
		return -1;
	}
	if ((o->range.from == WEIR_REPLAY_FROM_SEQ) != o->have_seq) {
		fprintf(stderr, "weir-replay: --source and --from-seq go together\n");
		return -1;
	}
	o->log_dir = argv[optind];
	return 0;
}

/* --check reads the port file; the port is opened only to send. */
static int
open_out(const struct options *o, struct weir_replay_out *out, char *err, size_t errlen)
{
	static struct weir_replay_port port;
	if (o->pcap == NULL && o->port_config == NULL)
		return weir_replay_out_socket(out, o->to, o->ttl, err, errlen);
	const char *to = o->to ? o->to : "198.18.0.2:26400";
	const char *from = o->from_addr ? o->from_addr : strchr(to, '[') ? "[fd00::1]:26401" : "198.18.0.1:26401";
	if (o->pcap)
		return weir_replay_out_pcap(out, o->pcap, to, from, err, errlen);
	if (o->check) {
		static struct weir_config cfg;
		return weir_config_load_port(o->port_config, &cfg, err, errlen);
	}
	bool nic_csum = o->udp_checksum == NULL || strcmp(o->udp_checksum, "nic") == 0;
	if (weir_replay_port_open(&port, o->port_config, o->mtu, o->speed > 0, nic_csum, err, errlen) != 0) {
		weir_replay_port_close(&port);
		return -1;
	}
	if (weir_replay_out_port(out, &port, to, from, o->have_dst_mac ? o->dst_mac : NULL, err, errlen) != 0) {
		weir_replay_port_close(&port); /* EAL let go of, its files with it */
		return -1;
	}
	return 0;
}

struct run_on_lcore {
	struct weir_replay_send *s;
	char err[512];
};

static int
run_on_lcore(void *arg)
{
	struct run_on_lcore *r = arg;
	return weir_replay_run(r->s, r->err, sizeof(r->err));
}

/* The send, on the port's lcore when there is one. */
static int
run(struct weir_replay_send *s, struct weir_replay_out *out, char *err, size_t errlen)
{
	if (out->port == NULL)
		return weir_replay_run(s, err, errlen);
	static struct run_on_lcore r;
	r.s = s;
	int rc = weir_replay_port_run(out->port, run_on_lcore, &r);
	snprintf(err, errlen, "%s", r.err);
	return rc;
}

/* The UDP payload a packet may take inside the MTU. */
static uint32_t
max_payload(const struct weir_replay_out *out, unsigned mtu)
{
	return mtu - (out->to.sa.sa_family == AF_INET6 ? 40u : 20u) - 8u;
}

/* "<= 90.5 us", or "above 741455.2 us" past the histogram's last bound. */
static const char *
pacing_bound(const struct weir_hist *h, double q, char *buf, size_t len)
{
	uint64_t b = weir_hist_quantile_bound(h, q);
	if (b == UINT64_MAX)
		snprintf(buf, len, "above %.1f us", weir_hist_bound_ns[WEIR_HIST_BUCKETS - 1] / 1e3);
	else
		snprintf(buf, len, "<= %.1f us", b / 1e3);
	return buf;
}

static void
summary(const struct weir_replay_send *s, const struct options *o, double seconds)
{
	const struct weir_replay_summary *m = &s->sum;
	printf("weir-replay: sent %" PRIu64 " packets, %" PRIu64 " events (%" PRIu64 " bytes), %" PRIu64
	       " ends of session, offsets %" PRIu64 "-%" PRIu64 "; passed %" PRIu64 " holes (%" PRIu64
	       " events the log says were lost)",
	       m->packets, m->events, m->bytes, m->ends, m->first_offset, m->next_offset, m->holes, m->hole_events);
	if (m->offsets_lost)
		printf("; went over %" PRIu64 " offsets the log no longer holds (salvaged or deleted: their events "
		       "never sent, no LOSS record states them)", m->offsets_lost);
	if (m->heartbeats)
		printf("; %" PRIu64 " heartbeats while idle", m->heartbeats);
	if (m->too_big)
		printf("; skipped %" PRIu64 " events too big for --mtu %u", m->too_big, o->mtu);
	if (m->pacing.count) {
		char p50[48], p99[48];
		printf("; pacing error p50 %s, p99 %s, mean %.1f us", pacing_bound(&m->pacing, 0.5, p50, sizeof(p50)),
		       pacing_bound(&m->pacing, 0.99, p99, sizeof(p99)),
		       (double)m->pacing.sum_ns / (double)m->pacing.count / 1e3);
	}
	if (s->out->port && s->out->port->tx_partial)
		printf("; bursts the TX queue took in parts (waited on): %" PRIu64, s->out->port->tx_partial);
	printf("; in %.3f s\n", seconds);
}

static int
send_main(int argc, char **argv)
{
	struct options o;
	if (parse_args(argc, argv, &o) != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	char err[512];
	static struct weir_replay_out out;
	static struct weir_replay_send s;
	s = (struct weir_replay_send){ .out = &out, .range = o.range, .speed = o.speed, .progress = !o.quiet,
				       .quit = &weir_quit };
	s.idle.every_ns = (uint64_t)(o.heartbeat_s * 1e9);
	if (open_out(&o, &out, err, sizeof(err)) != 0) {
		fprintf(stderr, "weir-replay: %s\n", err);
		return EXIT_FAIL;
	}
	weir_replay_packer_init(&s.pk, max_payload(&out, o.mtu), (uint16_t)o.max_messages, o.speed > 0);
	struct weir_http *http = NULL;
	if (o.metrics && !o.check &&
	    (http = weir_replay_metrics_start(o.metrics, weir_replay_send_render, &s, err, sizeof(err))) == NULL) {
		fprintf(stderr, "weir-replay: %s\n", err);
		weir_replay_out_close(&out);
		return EXIT_FAIL;
	}
	int rc = EXIT_OK;
	if (weir_log_reader_open(&s.reader, o.log_dir, o.topic, err, sizeof(err)) != 0) {
		fprintf(stderr, "weir-replay: topic %s of %s: %s\n", o.topic, o.log_dir, err);
		rc = EXIT_FAIL;
	} else {
		int found = weir_replay_seek(&s, err, sizeof(err));
		if (found < 0)
			fprintf(stderr, "weir-replay: %s\n", err);
		else if (found == 0)
			fprintf(stderr, "weir-replay: nothing in the range of topic %s\n", o.topic);
		rc = found < 0 ? EXIT_FAIL : found == 0 ? EXIT_EMPTY : EXIT_OK;
		if (rc == EXIT_OK && o.check)
			printf("weir-replay: ok: topic %s from offset %" PRIu64 " of %" PRIu64 "\n", o.topic,
			       s.sum.first_offset, weir_log_reader_committed(s.reader));
		else if (rc == EXIT_OK) {
			if (run(&s, &out, err, sizeof(err)) != 0) {
				fprintf(stderr, "weir-replay: %s\n", err);
				rc = EXIT_FAIL;
			}
			/* also of a run an error ended: what went before it */
			summary(&s, &o, (double)s.run_ns / 1e9);
			if (out.port && o.hold_s > 0)
				weir_link_hold("weir-replay", out.port->port_id, o.hold_s);
		}
		weir_log_reader_close(s.reader);
	}
	weir_replay_senders_free(&s.senders);
	weir_replay_idle_free(&s.idle);
	weir_http_stop(http);
	weir_replay_out_close(&out);
	return rc;
}

int
main(int argc, char **argv)
{
	weir_crash_trace_install("weir-replay");
	weir_quit_on_signals();
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "send") == 0)
		return send_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return weir_replay_serve_main(argc - 1, argv + 1, &weir_quit);
	usage(stderr);
	return EXIT_USAGE;
}
