/* A worker lcore: polls its RX queues and runs its pipeline copy. */
#ifndef WEIR_WORKER_H
#define WEIR_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "weir_pipeline.h"

#define WEIR_MAX_BURST 512

struct weir_rxq_ref {
	uint16_t port;
	uint16_t queue;
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
	/* UNIX ns from the TSC: ns = epoch_ns + ((tsc - tsc0) * ns_per_tick_q32 >> 32) */
	uint64_t tsc0;
	uint64_t epoch_ns;
	uint64_t ns_per_tick_q32;
	struct rte_mbuf *pkts[WEIR_MAX_BURST];
} __rte_cache_aligned;

int weir_worker_main(void *arg);
/* The pipeline's re-request sink: one packet out of this worker's TX queue. */
bool weir_worker_send_rerequest(void *ctx, const struct weir_seq_source *src, const struct weir_decoder_cfg *d,
				const struct weir_port_peer *peer, const uint8_t *payload, uint32_t len);
uint64_t weir_worker_now_ns(const struct weir_worker *w);

#endif
