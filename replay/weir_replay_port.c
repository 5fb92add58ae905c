/* rte_vect_get_max_simd_bitwidth(): experimental in DPDK 22.11, EAL's --force-max-simd-bitwidth */
#define ALLOW_EXPERIMENTAL_API
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_vect.h>

#include "weir_config.h"
#include "weir_csum_paths.h"
#include "weir_eal_args.h"
#include "weir_link.h"
#include "weir_replay_port.h"
#include "weir_time.h"

#define STALL_NS 1000000000ull /* a queue or a pool that gives nothing this long is an error */
#define LINK_WAIT_S 10        /* a memif peer to connect, a NIC's link to come up */
#define RX_DESCS 64           /* the RX queue a driver may insist on: never polled, it drops what comes */

static int
start_eal(struct weir_replay_port *p, struct weir_config *cfg, char *err, size_t errlen)
{
	char *argv[WEIR_MAX_EAL_ARGS + 8];
	int argc;
	if (weir_eal_args_primary(cfg, "weir-replay", 0, NULL, argv, &argc) != 0) {
		snprintf(err, errlen, "%s: too many EAL arguments", cfg->path);
		return -1;
	}
	if (rte_eal_init(argc, argv) < 0) {
		/* rte_errno can be 0 here (another primary on the file prefix): EAL's own lines above say why */
		snprintf(err, errlen, "%s: EAL did not start%s%s (another process on its --file-prefix?)", cfg->path,
			 rte_errno ? ": " : "", rte_errno ? rte_strerror(rte_errno) : "");
		return -1;
	}
	p->eal_up = true;
	weir_csum_path_limit(rte_vect_get_max_simd_bitwidth()); /* as wide as DPDK's own vector paths may be */
	p->lcore = cfg->worker_lcores[0];
	if (!rte_lcore_is_enabled(p->lcore) || p->lcore == rte_get_main_lcore()) {
		snprintf(err, errlen, "%s: lcore %u of \"set corelist\" is not a worker lcore of EAL's", cfg->path, p->lcore);
		return -1;
	}
	return 0;
}

/* The port with one TX queue and none for RX.  Some drivers refuse that
 * (net_tap wants as many RX queues as TX), and the caller then asks again
 * with one: this first try is a probe, so its refusal is kept out of the
 * log, where it would read as the error of a run that goes on and works. */
static int
configure_without_rx(uint16_t port, const struct rte_eth_conf *conf)
{
	uint32_t level = rte_log_get_global_level();
	rte_log_set_global_level(RTE_LOG_EMERG);
	int rc = rte_eth_dev_configure(port, 0, 1, conf);
	rte_log_set_global_level(level);
	return rc;
}

static int
setup_port(struct weir_replay_port *p, const struct weir_config *cfg, unsigned mtu, bool nic_csum, char *err,
	   size_t errlen)
{
	uint16_t port = 0;
	RTE_ETH_FOREACH_DEV(port) break;
	if (port >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(port)) {
		snprintf(err, errlen, "%s: no port: give one with \"eal --vdev=...\" or a PCI address", cfg->path);
		return -1;
	}
	p->port_id = port;
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(port, &info);
	if (rc == 0)
		snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);
	int socket = rte_eth_dev_socket_id(port);
	p->pool = rte_pktmbuf_pool_create("weir_replay_tx", cfg->mbufs, 256, 0,
					  (uint16_t)(RTE_PKTMBUF_HEADROOM + 14 + mtu), socket);
	if (p->pool == NULL) {
		snprintf(err, errlen, "mempool of %u mbufs: %s; lower \"set mbufs\" or reserve more hugepages", cfg->mbufs,
			 rte_strerror(rte_errno));
		return -1;
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	/* A port-wide offload also serves a PMD that offers it per queue (net_tap). */
	p->udp_csum_nic = nic_csum && rc == 0 && (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
	if (p->udp_csum_nic)
		conf.txmode.offloads = RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	uint16_t rxd = RX_DESCS, txd = (uint16_t)cfg->txd[port < WEIR_MAX_PORTS ? port : 0];
	uint16_t rxq = 0;
	if (rc == 0 && configure_without_rx(port, &conf) != 0) /* net_tap wants an RX queue a TX queue */
		rc = rte_eth_dev_configure(port, rxq = 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	if (rc == 0 && rxq)
		rc = rte_eth_rx_queue_setup(port, 0, rxd, socket, NULL, p->pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, txd, socket, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): one TX queue of %u descriptors: %s", port, p->driver, txd,
			 rte_strerror(-rc));
		return -1;
	}
	p->started = true;
	enum weir_link_wait link = weir_link_wait_up(port, LINK_WAIT_S);
	if (link == WEIR_LINK_STAYED_DOWN) { /* frames sent now would stall, or be dropped by the NIC */
		snprintf(err, errlen, "port %u (%s): its link did not come up in %d s", port, p->driver, LINK_WAIT_S);
		return -1;
	}
	if (link == WEIR_LINK_UNREPORTED)
		printf("weir-replay: port %u (%s): its driver does not report the link: sending without waiting for it\n",
		       port, p->driver);
	struct rte_ether_addr mac;
	if (rte_eth_macaddr_get(port, &mac) == 0)
		memcpy(p->mac, mac.addr_bytes, 6);
	printf("weir-replay: port %u (%s): one TX queue, %u descriptors, bursts of %u, sending from lcore %u, %s", port,
	       p->driver, txd, p->burst, p->lcore, rxq ? "one RX queue its driver asks for (never polled), " : "");
	if (p->udp_csum_nic)
		printf("UDP checksums in the NIC (its TX offload)\n");
	else
		printf("UDP checksums on the %s path%s\n", weir_csum_in_use.name,
		       nic_csum ? " (the port offers no UDP checksum offload)" : "");
	return 0;
}

void
weir_replay_port_nic_csum(struct weir_replay_port *p, bool v6)
{
	p->tx_ol_flags = RTE_MBUF_F_TX_UDP_CKSUM | (v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4);
	/* the headers' lengths; l4 the UDP header's: a checksum alone needs only l2 and l3, some drivers read it */
	p->tx_offload = rte_mbuf_tx_offload(14, v6 ? 40 : 20, 8, 0, 0, 0, 0);
}

int
weir_replay_port_open(struct weir_replay_port *p, const char *path, unsigned mtu, bool paced, bool nic_csum,
		      char *err, size_t errlen)
{
	static struct weir_config cfg;
	memset(p, 0, sizeof(*p));
	if (weir_config_load_port(path, &cfg, err, errlen) != 0)
		return -1;
	p->burst = cfg.burst < WEIR_REPLAY_PORT_BURST_MAX ? cfg.burst : WEIR_REPLAY_PORT_BURST_MAX;
	if (paced)
		p->burst = 1; /* each packet leaves when it is due */
	if (start_eal(p, &cfg, err, errlen) != 0)
		return -1;
	return setup_port(p, &cfg, mtu, nic_csum, err, errlen);
}

/* The next free mbuf, from a stash taken a burst at a time. */
static struct rte_mbuf *
next_mbuf(struct weir_replay_port *p, char *err, size_t errlen)
{
	uint64_t since = 0;
	while (p->stash_at == p->stash_n) {
		if (rte_pktmbuf_alloc_bulk(p->pool, p->stash, p->burst) == 0) {
			p->stash_at = 0, p->stash_n = p->burst;
			break;
		}
		/* every mbuf in a burst or on the TX ring: send, and wait for some back */
		if (weir_replay_port_flush(p, err, errlen) != 0)
			return NULL;
		uint64_t now = weir_monotonic_ns();
		since = since ? since : now;
		if (now - since > STALL_NS) {
			snprintf(err, errlen, "port %u (%s): no mbuf came back for a second", p->port_id, p->driver);
			return NULL;
		}
		rte_pause();
	}
	return p->stash[p->stash_at++];
}

uint8_t *
weir_replay_port_frame(struct weir_replay_port *p, uint32_t len, char *err, size_t errlen)
{
	struct rte_mbuf *m = next_mbuf(p, err, errlen);
	if (m == NULL)
		return NULL;
	if (rte_pktmbuf_append(m, (uint16_t)len) == NULL) {
		rte_pktmbuf_free(m);
		snprintf(err, errlen, "a frame of %u bytes does not fit an mbuf", len);
		return NULL;
	}
	if (p->tx_ol_flags) { /* what the NIC needs to find the datagram (rte_mbuf_core.h) */
		m->ol_flags |= p->tx_ol_flags;
		m->tx_offload = p->tx_offload;
	}
	p->pending[p->n] = m;
	return rte_pktmbuf_mtod(m, uint8_t *);
}

int
weir_replay_port_push(struct weir_replay_port *p, char *err, size_t errlen)
{
	p->n++;
	return p->n >= p->burst ? weir_replay_port_flush(p, err, errlen) : 0;
}

int
weir_replay_port_flush(struct weir_replay_port *p, char *err, size_t errlen)
{
	unsigned sent = 0;
	uint64_t since = 0;
	while (sent < p->n) {
		uint16_t k = rte_eth_tx_burst(p->port_id, 0, p->pending + sent, (uint16_t)(p->n - sent));
		sent += k;
		if (sent == p->n)
			break;
		if (since == 0)
			p->tx_partial++;
		uint64_t now = weir_monotonic_ns();
		since = k || since == 0 ? now : since;
		if (now - since > STALL_NS) {
			memmove(p->pending, p->pending + sent, (p->n - sent) * sizeof(p->pending[0]));
			p->n -= sent;
			snprintf(err, errlen, "port %u (%s): the TX queue took nothing for a second (link down?)",
				 p->port_id, p->driver);
			return -1;
		}
		rte_pause();
	}
	p->n = 0;
	return 0;
}

int
weir_replay_port_run(struct weir_replay_port *p, int (*fn)(void *), void *arg)
{
	if (rte_eal_remote_launch(fn, arg, p->lcore) != 0)
		return -1;
	while (rte_eal_get_lcore_state(p->lcore) != WAIT) /* asleep: rte_eal_wait_lcore spins a core */
		usleep(20000);
	return rte_eal_wait_lcore(p->lcore);
}

void
weir_replay_port_close(struct weir_replay_port *p)
{
	if (p->n)
		rte_pktmbuf_free_bulk(p->pending, p->n);
	if (p->stash_at < p->stash_n)
		rte_pktmbuf_free_bulk(p->stash + p->stash_at, p->stash_n - p->stash_at);
	p->n = p->stash_at = p->stash_n = 0;
	if (p->started) {
		rte_eth_dev_stop(p->port_id);
		rte_eth_dev_close(p->port_id); /* net_pcap writes its file out here */
		p->started = false;
	}
	if (p->eal_up)
		rte_eal_cleanup();
	p->eal_up = false;
}
