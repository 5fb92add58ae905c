/* A worker lcore: polls its RX queues and runs its pipeline copy. */
#ifndef WEIR_WORKER_H
#define WEIR_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "weir_igmp.h"
#include "weir_tsc_clock.h"
#include "weir_pipeline.h"
#include "weir_port.h"

#define WEIR_MAX_BURST 512
_Static_assert(WEIR_MAX_BURST <= WEIR_BURST_PACKETS_MAX, "a burst goes to the pipeline whole");

struct weir_rxq_ref {
	uint16_t port;
	uint16_t queue;
	const struct weir_nic_clock *clock;  /* the port stamps packets (NULL: the TSC at the burst) */
};

/* Everything a worker touches, on its own cache lines; nothing is shared
 * with another worker but the read-only decoder table. */
struct weir_worker {
	struct weir_pipeline pl;
	struct weir_worker_counters *shared;  /* its block in the info region */
	unsigned id;
	unsigned lcore;
	unsigned n_rxq;
	struct weir_rxq_ref rxq[WEIR_MAX_PORTS];
	uint16_t burst;
	struct rte_mempool *tx_pool;          /* re-request packets */
	uint8_t can_tx[WEIR_MAX_PORTS];       /* the port has a TX queue for this worker */
	/* UNIX ns from the TSC: its own copy of the main lcore's calibrated
	 * mapping (weir_tsc_clock.h), taken again every ~100 ms */
	struct weir_tsc_map clock_map;
	const struct weir_tsc_pub *clock;
	uint64_t next_clock_ns;
	int ts_offset;                        /* the RX timestamp's dynamic field (ports with a clock) */
	uint64_t ts_flag;
	struct rte_mbuf *pkts[WEIR_MAX_BURST];
	struct weir_burst_in in;              /* the pkts as the pipeline takes them */
	/* Worker 0 speaks IGMP for the ports with feed groups (weir_igmp.h). */
	unsigned n_igmp;
	struct weir_igmp igmp[WEIR_MAX_PORTS];
} __rte_cache_aligned;

/* What every worker is set up from. */
struct weir_worker_setup {
	const struct weir_config *cfg;
	const struct weir_ports *ports;
	const struct weir_decoder_table *decoders;
	struct weir_ruleset *const *rules;   /* NULL: no match stage */
	struct weir_rules_region *rules_region;
	const volatile bool *quit;
	bool rerequests;                     /* some feed has a retransmission server */
	const struct weir_tsc_pub *clock;    /* the calibrated TSC mapping, republished by the main lcore */
};

/* Lays worker id out: its pipeline over its ring and sequence region, its
 * RX and TX queues, its clock, its shared counter block. */
int weir_worker_init(struct weir_worker *w, const struct weir_worker_setup *s, unsigned id, struct weir_ring *ring,
		     void *seq_region, struct weir_worker_counters *shared);
/* The lcore's loop (rte_eal_remote_launch), until *quit. */
int weir_worker_main(void *arg);
/* The pipeline's re-request sink: one packet out of this worker's TX queue. */
bool weir_worker_send_rerequest(void *ctx, const struct weir_seq_source *src, const struct weir_decoder_cfg *d,
				const struct weir_port_peer *peer, const uint8_t *payload, uint32_t len);
uint64_t weir_worker_now_ns(const struct weir_worker *w);

#endif
