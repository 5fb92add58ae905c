#define _GNU_SOURCE
#include <getopt.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "gen.h"
#include "weir_crash.h"
#include "weir_frame.h"
#include "weir_headers.h"
#include "weir_moldudp64.h"
#include "weir_parse.h"
#include "weir_time.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: weir-gen pcap --out FILE.pcap --manifest FILE.json [options]\n"
		"       weir-gen send --to ADDR:PORT --manifest FILE.json [--serve ADDR:PORT [--forget R]] [options]\n"
		"       weir-gen rules [--count N] [--seed N] [--out FILE]   a rules file shaped like an operator's\n"
		"send (kernel UDP socket; the port of --to is replaced by each packet's):\n"
		"  --rate PPS             packets per second (default 20000)\n"
		"  --serve ADDR:PORT      answer MoldUDP64 re-requests there from what was sent (needs --end-session);\n"
		"                         ADDR: IPV4, or [IPV6] (sockets; --dpdk is IPv4 only)\n"
		"  --forget R             of the lost packets, the share the server will not send again\n"
		"  --linger SEC           keep serving this long after the last packet (default 3)\n"
		"  --hold SEC             --dpdk: then write the manifest and keep the port up, not polling it, until\n"
		"                         its link goes down (the receiver stopped), at most SEC (default 0: close)\n"
		"  --dpdk \"EAL ARGS\"      send whole frames out of DPDK port 0 instead (e.g. a net_memif client);\n"
		"                         re-requests are then read from that port too\n"
		"common:\n"
		"  --framing moldudp64|weir  the framing (default moldudp64; docs/weir-frame.md)\n"
		"  --frame-topics K       weir frames: events carry topic ids 0..K at random (default 0)\n"
		"  --plant TEXT:RATE[:drop] write TEXT into that share of payloads (up to 8 plants, one an event;\n"
		"                         TEXT needs one of #!%%&*+=@~); :drop: the rules under test drop them\n"
		"  --seed N               PRNG seed (default 1)\n"
		"  --sessions N           MoldUDP64 sessions (default 4, at most %d)\n"
		"  --first-session K      number the sessions from K (S0000 is 0; weir frames: source 1000+K): two\n"
		"                         captures with sessions of their own, one for each of two RX queues\n"
		"  --messages N           messages in all (default 100000)\n"
		"  --per-packet MIN[-MAX] messages per packet (default 1-8)\n"
		"  --payload MIN[-MAX]    message bytes (default 8-64, at most 1024)\n"
		"  --malformed-rate R     chance of a malformed packet before each data packet (default 0)\n"
		"  --filtered-rate R      chance of a packet weir must ignore (ARP, TCP, other port; default 0)\n"
		"  --vlan-rate R          share of packets with an 802.1Q tag (default 0)\n"
		"  --ipv6-rate R          share of packets over IPv6 (default 0)\n"
		"  --heartbeat-every N    a heartbeat after every N data packets of a session (default 0: none)\n"
		"  --end-session          close every session with an end-of-session packet\n"
		"  --udp-port P           destination port (default 26400)\n"
		"  --first-seq N          first sequence number of every session (default 1)\n"
		"A and B lines (a feed published twice, on two multicast groups):\n"
		"  --lines 2              every packet on line a and line b (other faults are off)\n"
		"  --line-loss RA,RB      each line's own chance to lose a data packet (default 0,0)\n"
		"  --line-delay N         line b's copy goes N data packets after line a's (default 0)\n"
		"  --group-a IP, --group-b IP  the lines' groups (default 239.1.1.1, 239.1.1.2; send: --to, --to-b)\n"
		"  --out-b FILE.pcap      line b in its own capture (default: both lines in --out)\n"
		"  --to-b ADDR:PORT       send: line b's destination\n"
		"  --b-silent-after N     line b sends nothing once N messages are out (a line going silent)\n"
		"faults (a session's first packet is always delivered first):\n"
		"  --loss R               chance a data packet is lost (default 0)\n"
		"  --burst-loss N         packets lost in a row each time (default 1)\n"
		"  --duplicate R          chance a data packet arrives a second time, up to --reorder-distance later\n"
		"  --reorder R            chance a data packet is held back 1..--reorder-distance packets\n"
		"  --reorder-distance D   how far (default 8, at most 10000)\n"
		"  --delay R              chance a data packet is held back --delay-ms\n"
		"  --delay-ms D           how long (default 1; a capture sends one packet a microsecond)\n",
		MAX_SESSIONS);
}

static int
parse_range(const char *s, unsigned *lo, unsigned *hi)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b = a;
	if (end == s)
		return -1;
	if (*end == '-') {
		const char *t = end + 1;
		b = strtoul(t, &end, 10);
		if (end == t)
			return -1;
	}
	if (*end || a > b || b > 65535)
		return -1;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

static int
parse_rate(const char *s, double *r)
{
	char *end;
	*r = strtod(s, &end);
	return (*end || *r < 0 || *r > 1) ? -1 : 0;
}

/* A number from lo to hi; -1 when it is not one. */
static int
parse_number(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

/* --plant TEXT:RATE[:drop]: content the rules under test must find. */
static int
parse_plant(struct gen_opts *o, const char *arg)
{
	char *end;
	const char *c1 = strchr(arg, ':');
	if (c1 == NULL || o->n_plants == 8 || c1 == arg || (size_t)(c1 - arg) >= 64)
		goto bad;
	struct plant *pl = &o->plants[o->n_plants];
	memcpy(pl->text, arg, (size_t)(c1 - arg));
	pl->text[c1 - arg] = 0;
	pl->len = (size_t)(c1 - arg);
	pl->rate = strtod(c1 + 1, &end);
	if (pl->rate < 0 || pl->rate > 1 || (*end && strcmp(end, ":drop") != 0))
		goto bad;
	pl->drop = *end != 0;
	if (strpbrk(pl->text, "#!%&*+=@~") == NULL) {
		fprintf(stderr, "weir-gen: --plant \"%s\": put a character of #!%%&*+=@~ in it, so that random payloads never contain it\n", arg);
		return -1;
	}
	o->n_plants++;
	return 0;
bad:
	fprintf(stderr, "weir-gen: option value \"%s\" is not valid (see --help)\n", arg);
	return -1;
}

/* --lines and the options of A and B lines: 0, -1 not valid, -3 unknown. */
static int
parse_lines_option(struct gen_opts *o, int c, const char *optarg)
{
	char *end;
	unsigned long v;
	switch (c) {
	case 'I':
		if (strcmp(optarg, "1") != 0 && strcmp(optarg, "2") != 0) return -1;
		o->lines = (unsigned)(optarg[0] - '0');
		break;
	case 'J':
		if (sscanf(optarg, "%lf,%lf", &o->line_loss[0], &o->line_loss[1]) != 2 || o->line_loss[0] < 0 ||
		    o->line_loss[0] > 1 || o->line_loss[1] < 0 || o->line_loss[1] > 1)
			return -1;
		break;
	case 'j':
		v = strtoul(optarg, &end, 10);
		if (*end || v > 100000) return -1;
		o->line_delay = (unsigned)v;
		break;
	case 'G' + 128: case 'g' + 128:
		if (inet_pton(AF_INET, optarg, &o->group[c == 'G' + 128 ? 0 : 1]) != 1) return -1;
		break;
	case 'O': o->out_b = optarg; break;
	case 'U': if (weir_endpoint_parse(optarg, &o->to_b)) return -1; break;
	case 'Z': o->b_silent_after = strtoull(optarg, &end, 10); if (*end) return -1; break;
	default:
		return -3;
	}
	return 0;
}

/* One option's value into o: 0, -1 when it is not valid, -2 when the
 * error was said already. */
static int
parse_option(struct gen_opts *o, int c, const char *optarg)
{
	char *end;
	unsigned long v;
	switch (c) {
	case 'o': o->out = optarg; break;
	case 'm': o->manifest = optarg; break;
	case 's': o->seed = strtoull(optarg, &end, 10); if (*end) return -1; break;
	case 'S':
		v = strtoul(optarg, &end, 10);
		if (*end || v == 0 || v > MAX_SESSIONS) return -1;
		o->sessions = (unsigned)v;
		break;
	case 'n': o->messages = strtoull(optarg, &end, 10); if (*end) return -1; break;
	case 'p': if (parse_range(optarg, &o->per_min, &o->per_max) || o->per_min == 0) return -1; break;
	case 'P': if (parse_range(optarg, &o->payload_min, &o->payload_max) || o->payload_max > 1024) return -1; break;
	case 'M': if (parse_rate(optarg, &o->malformed_rate)) return -1; break;
	case 'F': if (parse_rate(optarg, &o->filtered_rate)) return -1; break;
	case 'V': if (parse_rate(optarg, &o->vlan_rate)) return -1; break;
	case '6': if (parse_rate(optarg, &o->ipv6_rate)) return -1; break;
	case 'H': v = strtoul(optarg, &end, 10); if (*end) return -1; o->heartbeat_every = (unsigned)v; break;
	case 'E': o->end_session = true; break;
	case 'u':
		v = strtoul(optarg, &end, 10);
		if (*end || v == 0 || v > 65534) return -1;
		o->udp_port = (uint16_t)v;
		break;
	case 'q': o->first_seq = strtoull(optarg, &end, 10); if (*end) return -1; break;
	case 'S' + 128:
		v = strtoul(optarg, &end, 10);
		if (*end || v > 1000000) return -1;
		o->first_session = (unsigned)v;
		break;
	case 'L': if (parse_rate(optarg, &o->loss_rate)) return -1; break;
	case 'D': if (parse_rate(optarg, &o->duplicate_rate)) return -1; break;
	case 'R': if (parse_rate(optarg, &o->reorder_rate)) return -1; break;
	case 'B':
		v = strtoul(optarg, &end, 10);
		if (*end || v == 0 || v > 10000) return -1;
		o->burst_loss = (unsigned)v;
		break;
	case 'r':
		v = strtoul(optarg, &end, 10);
		if (*end || v == 0 || v > 10000) return -1;
		o->reorder_distance = (unsigned)v;
		break;
	case 'T': if (weir_endpoint_parse(optarg, &o->to)) return -1; break;
	case 'v': if (weir_endpoint_parse(optarg, &o->serve)) return -1; o->serving = true; break;
	case 'g': if (parse_rate(optarg, &o->forget_rate)) return -1; break;
	case 'x':
		if (parse_number(optarg, 1, 10e6, &o->rate_pps)) return -1;
		break;
	case 'l':
		if (parse_number(optarg, 0, 3600, &o->linger_s)) return -1;
		break;
	case 'l' + 128:
		if (parse_number(optarg, 0, 3600, &o->hold_s)) return -1;
		break;
	case 'P' + 128: o->dpdk_eal = optarg; break;
	case 'p' + 128:
		if (parse_plant(o, optarg) != 0)
			return -2;
		break;
	case 'y': if (parse_rate(optarg, &o->delay_rate)) return -1; break;
	case 'Y':
		if (parse_number(optarg, 0, 10000, &o->delay_ms)) return -1;
		break;
	case 'W':
		if (strcmp(optarg, "weir") == 0)
			o->weir_framing = true;
		else if (strcmp(optarg, "moldudp64") != 0)
			return -1;
		break;
	case 'K':
		v = strtoul(optarg, &end, 10);
		if (*end || v > 255) return -1;
		o->frame_topics = (unsigned)v;
		break;
	default:
		return parse_lines_option(o, c, optarg);
	}
		return 0;
}

/* weir-gen pcap|send's options; 0, or the exit code. */
static int
parse_options(int argc, char **argv, struct gen_opts *o)
{
	*o = (struct gen_opts){ .seed = 1, .sessions = 4, .messages = 100000, .per_min = 1, .per_max = 8,
				.payload_min = 8, .payload_max = 64, .udp_port = 26400, .first_seq = 1,
				.burst_loss = 1, .reorder_distance = 8, .rate_pps = 20000, .linger_s = 3,
				.delay_ms = 1, .lines = 1 };
	inet_pton(AF_INET, "239.1.1.1", &o->group[0]);
	inet_pton(AF_INET, "239.1.1.2", &o->group[1]);
	o->send = strcmp(argv[1], "send") == 0;
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },          { "manifest", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },         { "sessions", required_argument, NULL, 'S' },
		{ "messages", required_argument, NULL, 'n' },     { "per-packet", required_argument, NULL, 'p' },
		{ "payload", required_argument, NULL, 'P' },      { "malformed-rate", required_argument, NULL, 'M' },
		{ "filtered-rate", required_argument, NULL, 'F' }, { "vlan-rate", required_argument, NULL, 'V' },
		{ "ipv6-rate", required_argument, NULL, '6' },    { "heartbeat-every", required_argument, NULL, 'H' },
		{ "end-session", no_argument, NULL, 'E' },        { "udp-port", required_argument, NULL, 'u' },
		{ "first-seq", required_argument, NULL, 'q' },    { "help", no_argument, NULL, 'h' },
		{ "first-session", required_argument, NULL, 'S' + 128 },
		{ "loss", required_argument, NULL, 'L' },         { "burst-loss", required_argument, NULL, 'B' },
		{ "duplicate", required_argument, NULL, 'D' },    { "reorder", required_argument, NULL, 'R' },
		{ "reorder-distance", required_argument, NULL, 'r' },
		{ "to", required_argument, NULL, 'T' },           { "serve", required_argument, NULL, 'v' },
		{ "forget", required_argument, NULL, 'g' },       { "rate", required_argument, NULL, 'x' },
		{ "linger", required_argument, NULL, 'l' },       { "hold", required_argument, NULL, 'l' + 128 },
		{ "dpdk", required_argument, NULL, 'P' + 128 },
		{ "plant", required_argument, NULL, 'p' + 128 },
		{ "delay", required_argument, NULL, 'y' },       { "delay-ms", required_argument, NULL, 'Y' },
		{ "framing", required_argument, NULL, 'W' },      { "frame-topics", required_argument, NULL, 'K' },
		{ "lines", required_argument, NULL, 'I' },        { "line-loss", required_argument, NULL, 'J' },
		{ "line-delay", required_argument, NULL, 'j' },   { "group-a", required_argument, NULL, 'G' + 128 },
		{ "group-b", required_argument, NULL, 'g' + 128 }, { "out-b", required_argument, NULL, 'O' },
		{ "to-b", required_argument, NULL, 'U' },         { "b-silent-after", required_argument, NULL, 'Z' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		int rc = parse_option(o, c, optarg);
		if (rc == -3) {
			usage(stderr);
			return 2;
		}
		if (rc == -1)
			fprintf(stderr, "weir-gen: option value \"%s\" is not valid (see --help)\n", optarg);
		if (rc < 0)
			return 2;
	}
	if (o->manifest == NULL || (!o->send && o->out == NULL) || (o->send && o->to.sa.sa_family == 0)) {
		usage(stderr);
		return 2;
	}
	if (o->lines == 2 && (o->loss_rate || o->duplicate_rate || o->reorder_rate || o->delay_rate || o->ipv6_rate ||
			      (o->send && o->to_b.sa.sa_family != o->to.sa.sa_family))) {
		fprintf(stderr, "weir-gen: --lines 2 takes --line-loss (not --loss, --duplicate, --reorder, --delay or "
				"--ipv6-rate), and in send mode --to and --to-b of one family\n");
		return 2;
	}
	if (o->serving && o->weir_framing) {
		fprintf(stderr, "weir-gen: --serve answers MoldUDP64 re-requests; the weir frame has none\n");
		return 2;
	}
	if (o->serving && !o->end_session) {
		fprintf(stderr, "weir-gen: --serve needs --end-session (it reveals every lost tail to the receiver)\n");
		return 2;
	}
	return 0;
}

/* Where the traffic goes: a capture file, a kernel socket (and the
 * retransmission server's), or DPDK port 0.  0, or the exit code. */
static int
open_output(struct gen *g, pcap_t **dead)
{
	struct gen_opts *o = &g->o;
	g->rng = o->seed;
	g->ts_us = 1700000000ull * 1000000ull;
	memcpy(g->feed.src_mac, (uint8_t[6]){ 0x02, 0, 0, 0, 0, 0x01 }, 6);
	memcpy(g->feed.dst_mac, (uint8_t[6]){ 0x02, 0, 0, 0, 0, 0x02 }, 6);
	memcpy(g->feed.src_ip, (uint8_t[4]){ 198, 18, 0, 1 }, 4);
	memcpy(g->feed.dst_ip, (uint8_t[4]){ 198, 18, 0, 2 }, 4);
	if (o->send && o->to.sa.sa_family == AF_INET) {
		memcpy(g->feed.dst_ip, &o->to.v4.sin_addr, 4);
		if (o->serving && o->serve.sa.sa_family == AF_INET)
			memcpy(g->feed.src_ip, &o->serve.v4.sin_addr, 4);
	}
	if (o->send && o->dpdk_eal && (o->to.sa.sa_family != AF_INET || (o->serving && o->serve.sa.sa_family != AF_INET))) {
		fprintf(stderr, "weir-gen: --dpdk sends IPv4 only: give --to and --serve as IPV4:PORT\n");
		return 2;
	}
	if (o->hold_s > 0 && !(o->send && o->dpdk_eal)) {
		fprintf(stderr, "weir-gen: --hold keeps a DPDK port up: give it with send --dpdk\n");
		return 2;
	}
	if (o->send && o->dpdk_eal) {
		if (gen_dpdk_open(g) != 0)
			return 1;
	} else if (o->send) {
		g->sock = socket(o->to.sa.sa_family, SOCK_DGRAM, 0);
		int big = 8 << 20;
		setsockopt(g->sock, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		if (o->serving) {
			g->srv = socket(o->serve.sa.sa_family, SOCK_DGRAM, 0);
			if (bind(g->srv, &o->serve.sa, weir_sockaddr_len(&o->serve)) != 0) {
				fprintf(stderr, "weir-gen: bind to the --serve address (port %u): %s\n", weir_sockaddr_port(&o->serve),
					strerror(errno));
				return 1;
			}
		}
	} else {
		*dead = pcap_open_dead(DLT_EN10MB, 65535);
		g->dump = pcap_dump_open(*dead, o->out);
		if (g->dump == NULL || (o->lines == 2 && o->out_b && (g->dump_b = pcap_dump_open(*dead, o->out_b)) == NULL)) {
			fprintf(stderr, "weir-gen: %s: %s\n", g->dump ? o->out_b : o->out, pcap_geterr(*dead));
			return 1;
		}
	}
	g->line = -1;
	return o->lines == 2 ? gen_lines_open(g) : 0;
}

/* Written whole under a temporary name, then renamed: whoever waits for
 * the manifest never reads half of one. */
static int
write_manifest(struct gen *g)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.tmp", g->o.manifest);
	FILE *f = fopen(tmp, "w");
	if (f == NULL) {
		fprintf(stderr, "weir-gen: %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	gen_write_manifest(g, f);
	if (fclose(f) != 0 || rename(tmp, g->o.manifest) != 0) {
		fprintf(stderr, "weir-gen: %s: %s\n", g->o.manifest, strerror(errno));
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "rules") == 0)
		return gen_rules(argc, argv);
	if (argc < 2 || (strcmp(argv[1], "pcap") != 0 && strcmp(argv[1], "send") != 0)) {
		if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return 2;
	}
	weir_crash_trace_install("weir-gen"); /* a memif peer's crash says where, as weir's own do */
	static struct gen g;
	struct gen_opts *o = &g.o;
	pcap_t *dead = NULL;
	int rc = parse_options(argc, argv, o);
	if (rc == 0)
		rc = open_output(&g, &dead);
	if (rc != 0)
		return rc;
	if (gen_generate(&g) != 0) {
		fprintf(stderr, "weir-gen: out of memory\n");
		return 1;
	}
	if (o->send) {
		/* Keep answering re-requests for a while after the last packet. */
		uint64_t until = weir_monotonic_ns() + (uint64_t)(o->linger_s * 1e9);
		while (o->serving && weir_monotonic_ns() < until) {
			gen_serve_requests(&g);
			usleep(o->dpdk_eal ? 50 : 1000);
		}
	} else {
		pcap_dump_close(g.dump);
		if (g.dump_b)
			pcap_dump_close(g.dump_b);
		pcap_close(dead);
	}
	int written = write_manifest(&g);
	if (o->send && o->dpdk_eal)
		gen_dpdk_close(&g, written == 0); /* no manifest: nobody waits on it, no hold */
	if (written != 0)
		return 1;
	if (o->serving)
		printf("weir-gen: retransmission server: %" PRIu64 " re-requests answered (%" PRIu64
		       " not understood), %" PRIu64 " events sent again, %" PRIu64 " events forgotten\n",
		       g.requests_served, g.requests_bad, g.resent_events, g.forgotten_events);
	printf("weir-gen: %s: %" PRIu64 " packets, %" PRIu64 " messages in %u sessions, %" PRIu64
	       " malformed, %" PRIu64 " filtered, %" PRIu64 " heartbeats; faults: %" PRIu64 " packets lost, %" PRIu64
	       " events repeated, %" PRIu64 " late; manifest %s\n",
	       o->send ? "sent" : o->out, g.packets, g.messages, o->sessions, g.dead, g.filtered, g.heartbeats, g.t.lost_packets,
	       g.t.duplicates, g.t.late_fills, o->manifest);
	return 0;
}
