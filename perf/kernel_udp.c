/*
 * The kernel baseline for perf/appliance.py: what an operator could run
 * instead of weir.  `recv` is a plain socket receiver done well (recvmmsg in
 * batches, pinned, a large SO_RCVBUF) that counts packets, bytes and
 * MoldUDP64 messages; `send` replays a capture's UDP payloads with sendmmsg.
 * Both are bounded in time and count and print one JSON line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "weir_time.h"

#define MAX_BATCH 1024
#define MAX_DGRAM 2048

struct opts {
	bool send;
	unsigned port, batch;
	int cpu;
	double seconds, idle_seconds;
	uint64_t count;
	long rcvbuf;
	const char *pcap, *to;
};


/* This thread's CPU time, user and system. */
static uint64_t
thread_cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_THREAD, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

static void
pin(int cpu)
{
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		perror("kernel-udp: sched_setaffinity");
}

static int
run_recv(const struct opts *o)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("kernel-udp: socket");
		return 1;
	}
	int buf = (int)o->rcvbuf;
	/* FORCE passes rmem_max as root; a plain SO_RCVBUF is capped by it. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	socklen_t bl = sizeof(buf);
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, &bl);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port),
				 .sin_addr.s_addr = htonl(INADDR_ANY) };
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("kernel-udp: bind");
		return 1;
	}
	static uint8_t bufs[MAX_BATCH][MAX_DGRAM];
	static struct mmsghdr msgs[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	for (unsigned i = 0; i < o->batch; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = MAX_DGRAM;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	fprintf(stderr, "kernel-udp: receiving on port %u, SO_RCVBUF %d, batch %u\n", o->port, buf, o->batch);
	uint64_t packets = 0, bytes = 0, messages = 0, calls = 0;
	uint64_t start_ns = 0, start_cpu = 0, last_ns = 0, end_cpu = 0;
	uint64_t give_up = weir_monotonic_ns() + (uint64_t)(o->seconds * 1e9) + 30ull * 1000000000ull;
	for (;;) {
		int n = recvmmsg(fd, msgs, o->batch, MSG_WAITFORONE, NULL);
		uint64_t now = weir_monotonic_ns();
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				perror("kernel-udp: recvmmsg");
				return 1;
			}
			if (start_ns ? now - last_ns > (uint64_t)(o->idle_seconds * 1e9) : now > give_up)
				break;
			continue;
		}
		if (start_ns == 0) {
			/* The window opens with the first batch: waiting for the
			 * sender is not the receiver's cost. */
			start_ns = now;
			start_cpu = thread_cpu_ns();
		} else {
			calls++;
			for (int i = 0; i < n; i++) {
				unsigned len = msgs[i].msg_len;
				packets++;
				bytes += len;
				if (len >= 20) {
					unsigned count = (unsigned)bufs[i][18] << 8 | bufs[i][19];
					if (count != 0xFFFF)
						messages += count;
				}
			}
			last_ns = now;
			end_cpu = thread_cpu_ns();
		}
		if (now - start_ns >= (uint64_t)(o->seconds * 1e9) || (o->count && packets >= o->count))
			break;
	}
	double secs = last_ns > start_ns ? (double)(last_ns - start_ns) / 1e9 : 0;
	printf("{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"messages\":%" PRIu64 ",\"calls\":%" PRIu64
	       ",\"seconds\":%.6f,\"cpu_ns\":%" PRIu64 ",\"rcvbuf\":%d,\"batch\":%u}\n",
	       packets, bytes, messages, calls, secs, end_cpu > start_cpu ? end_cpu - start_cpu : 0, buf, o->batch);
	return 0;
}

/* The capture's IPv4/UDP payloads, as the kernel would hand them to a socket. */
static int
load_payloads(const char *path, uint8_t **data, uint32_t **off, uint32_t *n)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	if (p == NULL) {
		fprintf(stderr, "kernel-udp: %s: %s\n", path, err);
		return -1;
	}
	size_t cap = 1 << 20, used = 0, ncap = 1024;
	*data = malloc(cap);
	*off = malloc(ncap * sizeof(**off));
	*n = 0;
	struct pcap_pkthdr *h;
	const u_char *f;
	while (pcap_next_ex(p, &h, &f) == 1) {
		if (h->caplen < 42 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 17)
			continue;
		unsigned ihl = (f[14] & 15u) * 4u;
		if (h->caplen < 14 + ihl + 8)
			continue;
		const u_char *udp = f + 14 + ihl;
		unsigned ulen = (unsigned)udp[4] << 8 | udp[5];
		if (ulen < 8 || 14 + ihl + ulen > h->caplen)
			continue;
		unsigned plen = ulen - 8;
		if (used + plen + 4 > cap)
			*data = realloc(*data, cap *= 2);
		if (*n + 2 > ncap)
			*off = realloc(*off, (ncap *= 2) * sizeof(**off));
		(*off)[(*n)++] = (uint32_t)used;
		memcpy(*data + used, udp + 8, plen);
		used += plen;
	}
	(*off)[*n] = (uint32_t)used;
	pcap_close(p);
	return *n ? 0 : -1;
}

static int
run_send(const struct opts *o)
{
	uint8_t *data;
	uint32_t *off, n;
	if (load_payloads(o->pcap, &data, &off, &n) != 0) {
		fprintf(stderr, "kernel-udp: no IPv4/UDP packets in %s\n", o->pcap);
		return 1;
	}
	struct sockaddr_in to = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(o->to, ':');
	if (colon == NULL || (size_t)(colon - o->to) >= sizeof(host)) {
		fprintf(stderr, "kernel-udp: --to \"%s\": give IPV4:PORT\n", o->to);
		return 2;
	}
	memcpy(host, o->to, (size_t)(colon - o->to));
	host[colon - o->to] = 0;
	to.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &to.sin_addr) != 1) {
		fprintf(stderr, "kernel-udp: --to \"%s\": give IPV4:PORT\n", o->to);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int sb = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sb, sizeof(sb));
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		perror("kernel-udp: connect");
		return 1;
	}
	static struct mmsghdr msgs[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	uint64_t sent = 0, failed = 0, next = 0;
	uint64_t deadline = weir_monotonic_ns() + (uint64_t)(o->seconds * 1e9);
	while (weir_monotonic_ns() < deadline && (o->count == 0 || sent < o->count)) {
		unsigned b = o->batch;
		for (unsigned i = 0; i < b; i++, next++) {
			uint32_t k = (uint32_t)(next % n);
			iov[i].iov_base = data + off[k];
			iov[i].iov_len = off[k + 1] - off[k];
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		int r = sendmmsg(fd, msgs, b, 0);
		if (r < 0) {
			failed++; /* ENOBUFS and the like: the kernel said no; try again */
			next -= b;
			continue;
		}
		sent += (uint64_t)r;
		next -= b - (unsigned)r;
	}
	printf("{\"sent\":%" PRIu64 ",\"failed_calls\":%" PRIu64 ",\"payloads\":%u}\n", sent, failed, n);
	free(data);
	free(off);
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: kernel_udp recv --port P [--cpu N] [--seconds S] [--idle S] [--batch B] [--rcvbuf BYTES]\n"
		   "       kernel_udp send --to IPV4:PORT --pcap FILE [--cpu N] [--seconds S] [--count N] [--batch B]\n"
		   "  recv: the window opens at the first batch and closes after S seconds, COUNT packets,\n"
		   "        or IDLE seconds without one; prints packets, messages and its thread's CPU ns\n");
}

int
main(int argc, char **argv)
{
	struct opts o = { .port = 26400, .batch = 64, .cpu = -1, .seconds = 5, .idle_seconds = 1,
			  .rcvbuf = 256l << 20 };
	if (argc < 2 || (strcmp(argv[1], "recv") && strcmp(argv[1], "send"))) {
		usage(stderr);
		return 2;
	}
	o.send = !strcmp(argv[1], "send");
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' },   { "cpu", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' }, { "idle", required_argument, NULL, 'i' },
		{ "batch", required_argument, NULL, 'b' },  { "rcvbuf", required_argument, NULL, 'r' },
		{ "to", required_argument, NULL, 't' },     { "pcap", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'n' },  { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o.port = (unsigned)atoi(optarg); break;
		case 'c': o.cpu = atoi(optarg); break;
		case 's': o.seconds = atof(optarg); break;
		case 'i': o.idle_seconds = atof(optarg); break;
		case 'b': o.batch = (unsigned)atoi(optarg); break;
		case 'r': o.rcvbuf = atol(optarg); break;
		case 't': o.to = optarg; break;
		case 'f': o.pcap = optarg; break;
		case 'n': o.count = strtoull(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.batch == 0 || o.batch > MAX_BATCH || o.seconds <= 0 || o.seconds > 600 ||
	    (o.send && (o.to == NULL || o.pcap == NULL))) {
		usage(stderr);
		return 2;
	}
	pin(o.cpu);
	return o.send ? run_send(&o) : run_recv(&o);
}
