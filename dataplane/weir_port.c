/* rte_eth_read_clock(): experimental in DPDK 22.11, the only way to a NIC clock's rate */
#define ALLOW_EXPERIMENTAL_API
#include <stdio.h>
#include <time.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>
#include <rte_flow.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "weir_igmp.h"
#include "weir_port.h"

#define MBUF_CACHE 256

/* The port's multicast filter takes the feeds' group MACs (IGMP joins them
 * upstream; this lets their frames in); a PMD without a filter gets
 * all-multicast instead, and says so. */
static void
join_groups(const struct weir_config *cfg, uint16_t port, const char *driver)
{
	struct rte_ether_addr macs[WEIR_MAX_FEED_GROUPS];
	uint32_t n = 0;
	for (unsigned i = 0; i < cfg->n_feed_groups; i++)
		if (cfg->feed_groups[i].port == port && cfg->feed_groups[i].family == 6)
			weir_mld_group_mac(cfg->feed_groups[i].group6, macs[n++].addr_bytes);
		else if (cfg->feed_groups[i].port == port)
			weir_igmp_group_mac(cfg->feed_groups[i].group, macs[n++].addr_bytes);
	if (n == 0)
		return;
	int rc = rte_eth_dev_set_mc_addr_list(port, macs, n);
	if (rc == 0) {
		printf("weir-dataplane: port %u (%s): multicast filter set to %u group%s\n", port, driver, n, n == 1 ? "" : "s");
		return;
	}
	int all = rte_eth_allmulticast_enable(port);
	printf("weir-dataplane: port %u (%s) has no multicast filter (%s): all-multicast %s\n", port, driver,
	       rte_strerror(-rc), all == 0 ? "on" : "not available either: relying on promiscuous mode");
}

/* One line's group to its feed's queue: ETH / IPV4 dst / UDP dst -> QUEUE. */
static int
steer_group(uint16_t port, const struct weir_feed_group *g, uint16_t queue, struct rte_flow_error *e)
{
	struct rte_flow_attr attr = { .ingress = 1 };
	struct rte_flow_item_ipv4 ip = { .hdr.dst_addr = g->group }, ip_mask = { .hdr.dst_addr = UINT32_MAX };
	struct rte_flow_item_udp udp = { .hdr.dst_port = rte_cpu_to_be_16(g->udp_port) },
				 udp_mask = { .hdr.dst_port = UINT16_MAX };
	struct rte_flow_item pattern[] = {
		{ .type = RTE_FLOW_ITEM_TYPE_ETH },
		{ .type = RTE_FLOW_ITEM_TYPE_IPV4, .spec = &ip, .mask = &ip_mask },
		{ .type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &udp, .mask = &udp_mask },
		{ .type = RTE_FLOW_ITEM_TYPE_END },
	};
	struct rte_flow_action_queue q = { .index = queue };
	struct rte_flow_action actions[] = { { .type = RTE_FLOW_ACTION_TYPE_QUEUE, .conf = &q },
					     { .type = RTE_FLOW_ACTION_TYPE_END } };
	return rte_flow_create(port, &attr, pattern, actions, e) ? 0 : -1;
}

/* Both lines of a feed must reach one worker: with RSS over several
 * queues, each line's group is steered to the feed's queue by a flow
 * rule; a port that cannot is refused (one queue, or a NIC that can). */
static int
steer_lines(const struct weir_config *cfg, uint16_t port, uint16_t nq, bool rss, const char *driver, char *err,
	    size_t errlen)
{
	for (unsigned i = 0; i < cfg->n_feed_groups; i++) {
		const struct weir_feed_group *g = &cfg->feed_groups[i];
		const struct weir_feed_cfg *f = &cfg->feeds[g->feed_id];
		if (g->port != port || g->ab == WEIR_FEED_NO_LINE || f->queue == 0)
			continue; /* queue 0: where one queue takes everything anyway */
		if (nq == 1) {
			snprintf(err, errlen, "feed %s line %c: port %u (%s) has one RX queue (worker 0), but the feed's "
					      "lines meet on queue %u: give every port one RX queue or none fewer",
				 f->name, 'a' + g->ab, port, driver, f->queue);
			return -1;
		}
		if (!rss) {
			printf("weir-dataplane: feed %s line %c: with rss none it must arrive on RX queue %u of port %u "
			       "(both lines of a feed on one worker)\n",
			       f->name, 'a' + g->ab, f->queue, port);
			continue;
		}
		struct rte_flow_error e = { 0 };
		if (steer_group(port, g, f->queue, &e) != 0) {
			snprintf(err, errlen,
				 "feed %s line %c: port %u (%s) cannot steer its group to RX queue %u (rte_flow: %s): "
				 "both lines of a feed must reach one worker; give the port one RX queue (\"port config "
				 "all rxq 1\") or use a NIC with flow rules",
				 f->name, 'a' + g->ab, port, driver, f->queue, e.message ? e.message : "not supported");
			return -1;
		}
		printf("weir-dataplane: feed %s line %c: port %u steers its group to RX queue %u\n", f->name, 'a' + g->ab,
		       port, f->queue);
	}
	return 0;
}

/* Where the PMD stamps packets: the offload on, and its clock's rate
 * against the host's UNIX time measured over 100 ms.  A PMD without a
 * clock to read stamps in ns already (say so).  False: no timestamps. */
static bool
rx_timestamps(uint16_t port, const char *driver, struct weir_ports *ports, unsigned slot)
{
	if (ports->ts_offset < 0 && rte_mbuf_dyn_rx_timestamp_register(&ports->ts_offset, &ports->ts_flag) != 0) {
		printf("weir-dataplane: port %u (%s): no RX timestamp field: records carry the TSC clock\n", port, driver);
		return false;
	}
	uint64_t t0, t1;
	struct timespec a, b;
	clock_gettime(CLOCK_REALTIME, &a);
	int rc = rte_eth_read_clock(port, &t0);
	if (rc == 0) {
		rte_delay_ms(100);
		clock_gettime(CLOCK_REALTIME, &b);
		rc = rte_eth_read_clock(port, &t1);
	}
	uint64_t ns0 = (uint64_t)a.tv_sec * 1000000000ull + (uint64_t)a.tv_nsec;
	uint64_t ns1 = (uint64_t)b.tv_sec * 1000000000ull + (uint64_t)b.tv_nsec;
	struct weir_nic_clock *c = &ports->clock[slot];
	if (rc != 0) {
		*c = (struct weir_nic_clock){ .ticks0 = 0, .ns0 = 0, .ns_per_tick_q32 = 1ull << 32 };
		printf("weir-dataplane: port %u (%s): RX timestamps on; its clock cannot be read, so they are taken "
		       "as UNIX ns\n", port, driver);
	} else if (!weir_nic_clock_calibrate(c, t0, ns0, t1, ns1)) {
		printf("weir-dataplane: port %u (%s): its clock did not move: records carry the TSC clock\n", port, driver);
		return false;
	} else {
		printf("weir-dataplane: port %u (%s): RX timestamps on, device clock %.3f MHz\n", port, driver,
		       (double)(t1 - t0) / (double)(ns1 - ns0) * 1e3);
	}
	return true;
}

static struct rte_mempool *pools[RTE_MAX_NUMA_NODES];

static struct rte_mempool *
pool_for_socket(const struct weir_config *cfg, int socket, char *err, size_t errlen)
{
	unsigned idx = socket < 0 ? 0 : (unsigned)socket;
	if (pools[idx])
		return pools[idx];
	char name[RTE_MEMPOOL_NAMESIZE];
	snprintf(name, sizeof(name), "weir_mbuf_s%u", idx);
	pools[idx] = rte_pktmbuf_pool_create(name, cfg->mbufs, MBUF_CACHE, 0,
						 WEIR_MAX_FRAME_BYTES + RTE_PKTMBUF_HEADROOM, socket);
	if (pools[idx] == NULL)
		snprintf(err, errlen,
			 "cannot create mempool of %u mbufs on socket %d: %s; lower \"set mbufs\" or reserve more hugepages",
			 cfg->mbufs, socket, rte_strerror(rte_errno));
	return pools[idx];
}

static uint64_t
rss_hf_wanted(enum weir_rss_mode mode)
{
	switch (mode) {
	case WEIR_RSS_UDP: return RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_NONFRAG_IPV6_UDP;
	case WEIR_RSS_IP: return RTE_ETH_RSS_IP;
	default: return 0;
	}
}

/* How many RX queues the port gets, and its RSS set-up in *conf: cfg's rxq
 * with RSS on the UDP 4-tuple, every queue without (rss none), or one
 * queue where the device has neither.  -1 with err when it cannot serve. */
static int
rx_queues(const struct weir_config *cfg, uint16_t port, const struct rte_eth_dev_info *info,
	  struct rte_eth_conf *conf, char *err, size_t errlen)
{
	uint16_t nq = (uint16_t)cfg->rxq;
	memset(conf, 0, sizeof(*conf));
	if (nq > 1 && cfg->rss == WEIR_RSS_NONE) {
		/* The operator's word that the device keeps each source on one
		 * queue by itself: net_pcap's captures, memif's or af_packet's
		 * queues as the peer fills them.  A source on two queues would be
		 * tracked by two workers, each seeing gaps. */
		if (nq > info->max_rx_queues) {
			snprintf(err, errlen, "port %u (%s) has %u RX queues, not the %u \"rxq\" asks for", port,
				 info->driver_name, info->max_rx_queues, nq);
			return -1;
		}
		printf("weir-dataplane: port %u (%s): %u RX queues without RSS (rss none): each source must arrive "
		       "on one queue only\n", port, info->driver_name, nq);
	} else if (nq > 1) {
		uint64_t hf = rss_hf_wanted(cfg->rss) & info->flow_type_rss_offloads;
		if (nq > info->max_rx_queues || hf == 0) {
			printf("weir-dataplane: port %u (%s): %s; falling back to one RX queue (worker 0)\n", port,
			       info->driver_name,
			       nq > info->max_rx_queues ? "fewer RX queues than workers" : "no RSS on the UDP 4-tuple");
			nq = 1;
		} else {
			conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf->rx_adv_conf.rss_conf.rss_hf = hf;
		}
	}
	return nq;
}

static int
port_init(const struct weir_config *cfg, uint16_t port, struct weir_ports *ports, unsigned slot, char *err,
	  size_t errlen)
{
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: cannot read device info: %s", port, rte_strerror(-rc));
		return -1;
	}
	snprintf(ports->driver[slot], sizeof(ports->driver[slot]), "%s", info.driver_name);
	struct rte_eth_conf conf;
	int nq = rx_queues(cfg, port, &info, &conf, err, errlen);
	if (nq < 0)
		return -1;
	if (nq > info.max_rx_queues) {
		snprintf(err, errlen, "port %u (%s) has no RX queue", port, info.driver_name);
		return -1;
	}
	conf.rxmode.offloads = info.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
						       RTE_ETH_RX_OFFLOAD_TIMESTAMP);
	/* TX queues are for MoldUDP64 re-requests (sequence stage). */
	uint16_t ntx = (uint16_t)RTE_MIN((unsigned)cfg->n_workers, (unsigned)info.max_tx_queues);
	rc = rte_eth_dev_configure(port, nq, ntx, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): configure with %u RX queues: %s", port, info.driver_name, nq,
			 rte_strerror(-rc));
		return -1;
	}
	unsigned cfg_idx = port < WEIR_MAX_PORTS ? port : 0; /* config names ports by id */
	uint16_t rxd = (uint16_t)cfg->rxd[cfg_idx], txd = (uint16_t)cfg->txd[cfg_idx];
	rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	int socket = rte_eth_dev_socket_id(port);
	struct rte_mempool *mp = pool_for_socket(cfg, socket, err, errlen);
	if (mp == NULL)
		return -1;
	for (uint16_t q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, rxd, socket, NULL, mp);
		if (rc != 0) {
			snprintf(err, errlen, "port %u: RX queue %u with %u descriptors: %s", port, q, rxd,
				 rte_strerror(-rc));
			return -1;
		}
	}
	for (uint16_t q = 0; q < ntx; q++) {
		rc = rte_eth_tx_queue_setup(port, q, txd, socket, NULL);
		if (rc != 0) {
			snprintf(err, errlen, "port %u: TX queue %u: %s", port, q, rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): start: %s", port, info.driver_name, rte_strerror(-rc));
		return -1;
	}
	if (conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TIMESTAMP)
		ports->rx_timestamp[slot] = rx_timestamps(port, info.driver_name, ports, slot);
	join_groups(cfg, port, info.driver_name);
	if (steer_lines(cfg, port, (uint16_t)nq, conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS, info.driver_name, err,
			errlen) != 0)
		return -1;
	rc = rte_eth_promiscuous_enable(port);
	if (rc != 0 && rc != -ENOTSUP)
		printf("weir-dataplane: port %u: promiscuous mode not enabled: %s\n", port, rte_strerror(-rc));
	ports->rxq[slot] = nq;
	ports->txq[slot] = ntx;
	printf("weir-dataplane: port %u (%s): %u RX queue%s%s, %u descriptors, socket %d\n", port, info.driver_name,
	       nq, nq == 1 ? "" : "s", conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? " with RSS" : "", rxd, socket);
	/* DPDK 22.11's memif unmaps the rings from its interrupt thread when
	 * the peer leaves, without waiting for a worker mid-burst on them. */
	if (strcmp(info.driver_name, "net_memif") == 0)
		printf("weir-dataplane: port %u (net_memif): stop weir-dataplane before its memif peer: a peer that "
		       "leaves while a worker polls the port can crash weir-dataplane (DPDK's memif PMD frees the rings "
		       "under the worker)\n", port);
	return 0;
}

struct rte_mempool *
weir_ports_pool(int socket)
{
	return pools[socket < 0 ? 0 : socket];
}

int
weir_ports_init(const struct weir_config *cfg, struct weir_ports *ports, char *err, size_t errlen)
{
	memset(ports, 0, sizeof(*ports));
	ports->ts_offset = -1;
	uint16_t port;
	RTE_ETH_FOREACH_DEV(port) {
		if (ports->n_ports == WEIR_MAX_PORTS) {
			snprintf(err, errlen, "more than %d ports", WEIR_MAX_PORTS);
			return -1;
		}
		unsigned slot = ports->n_ports++;
		ports->port_ids[slot] = port;
		if (port_init(cfg, port, ports, slot, err, errlen) != 0)
			return -1;
	}
	if (ports->n_ports == 0) {
		snprintf(err, errlen,
			 "no ports: give a device in the config's eal line (e.g. --vdev=net_pcap0,rx_pcap=FILE or -a PCI)");
		return -1;
	}
	return 0;
}

void
weir_ports_stop(const struct weir_ports *ports)
{
	for (unsigned i = 0; i < ports->n_ports; i++) {
		rte_eth_dev_stop(ports->port_ids[i]);
		rte_eth_dev_close(ports->port_ids[i]);
	}
}
