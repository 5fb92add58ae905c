#include <errno.h>
#include <inttypes.h>
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
#include "weir_frame.h"
#include "weir_headers.h"
#include "weir_moldudp64.h"
#include "weir_parse.h"
#include "weir_link.h"
#include "weir_time.h"

/* Pace to --rate, answering re-requests while waiting. */
static void
pace(struct gen *g)
{
	uint64_t due = g->send_start_ns + (uint64_t)((double)g->packets * 1e9 / g->o.rate_pps);
	for (;;) {
		gen_serve_requests(g);
		uint64_t now = weir_monotonic_ns();
		if (now >= due)
			break;
		struct timespec ts = { 0, (long)(due - now < 200000 ? due - now : 200000) };
		nanosleep(&ts, NULL);
	}
}

/* --dpdk: the whole frame out of port 0, waiting (and serving) while the
 * TX ring is full. */
void
gen_send_frame_dpdk(struct gen *g, const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m;
	while ((m = rte_pktmbuf_alloc(g->mp)) == NULL)
		usleep(100);
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	memcpy(d, frame, len);
	for (unsigned tries = 0; rte_eth_tx_burst(0, 0, &m, 1) == 0; tries++) {
		if (tries == 100000) {
			fprintf(stderr, "weir-gen: DPDK port 0 takes no packets (link down?)\n");
			exit(1);
		}
		usleep(10);
	}
}

/* Send mode: the frame's UDP payload goes out of a kernel socket to the
 * frame's destination port on --to's address. */
static void
emit_udp(struct gen *g, const uint8_t *frame, uint32_t len)
{
	struct weir_udp_view v;
	unsigned reason;
	if (weir_parse_udp(frame, len, WEIR_CSUM_GOOD, WEIR_CSUM_GOOD, &v, &reason) != WEIR_PARSE_OK) {
		fprintf(stderr, "weir-gen: internal: send mode built a frame that is not UDP\n");
		exit(1);
	}
	union weir_sockaddr to = g->line == 1 ? g->o.to_b : g->o.to;
	if (to.sa.sa_family == AF_INET6)
		to.v6.sin6_port = htons(v.dst_port);
	else
		to.v4.sin_port = htons(v.dst_port);
	while (sendto(g->sock, v.payload, v.payload_len, 0, &to.sa, weir_sockaddr_len(&to)) < 0) {
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "weir-gen: sendto: %s\n", strerror(errno));
			exit(1);
		}
		usleep(100);
	}
}

/* Brings DPDK port 0 up for --dpdk (its own EAL, its own file prefix). */
int
gen_dpdk_open(struct gen *g)
{
	static char buf[1024];
	char *argv[64];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", g->o.dpdk_eal);
	argv[argc++] = "weir-gen";
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && argc < 63; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "weir-gen: EAL init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "weir-gen: --dpdk: no port (give a --vdev)\n");
		return -1;
	}
	g->mp = rte_pktmbuf_pool_create("weir_gen", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (g->mp == NULL || rte_eth_dev_configure(0, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(0, 0, 1024, (unsigned)rte_eth_dev_socket_id(0), NULL, g->mp) != 0 ||
	    rte_eth_tx_queue_setup(0, 0, 1024, (unsigned)rte_eth_dev_socket_id(0), NULL) != 0 ||
	    rte_eth_dev_start(0) != 0) {
		fprintf(stderr, "weir-gen: --dpdk: cannot start port 0\n");
		return -1;
	}
	/* A memif client sends nothing until its peer has connected. */
	enum weir_link_wait link = weir_link_wait_up(0, 10);
	if (link == WEIR_LINK_UNREPORTED)
		printf("weir-gen: --dpdk: port 0's driver does not report the link: sending without waiting for it\n");
	if (link != WEIR_LINK_STAYED_DOWN)
		return 0;
	fprintf(stderr, "weir-gen: --dpdk: port 0 link did not come up in 10 s\n");
	return -1;
}

void
gen_emit(struct gen *g, const uint8_t *frame, uint32_t len)
{
	if (g->o.send) {
		if (g->o.dpdk_eal)
			gen_send_frame_dpdk(g, frame, len);
		else
			emit_udp(g, frame, len);
		g->packets++;
		pace(g);
		return;
	}
	struct pcap_pkthdr h;
	h.ts.tv_sec = (time_t)(g->ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(g->ts_us % 1000000);
	h.caplen = len;
	h.len = len;
	pcap_dump((u_char *)(g->line == 1 && g->dump_b ? g->dump_b : g->dump), &h, frame);
	g->ts_us += 1;
	g->packets++;
}

/* --dpdk: port 0 goes.  With --hold it first stays up, unpolled, until the
 * receiver takes its link down (weir_link.h says why). */
void
gen_dpdk_close(const struct gen *g, bool hold)
{
	if (hold && g->o.hold_s > 0)
		weir_link_hold("weir-gen", 0, g->o.hold_s);
	rte_eth_dev_stop(0);
	rte_eth_dev_close(0);
	rte_eal_cleanup();
}
