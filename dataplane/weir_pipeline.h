/*
 * One pipeline copy: what a worker lcore does to each packet, in stage order
 * parse -> decode -> (sequence, issue 3) -> (match, issue 4) -> commit.
 * Pure C over byte spans and a record ring, so unit tests run the worker's
 * own code; weir_worker.c is the DPDK poll loop around it.
 */
#ifndef WEIR_PIPELINE_H
#define WEIR_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_config.h"
#include "weir_parse.h"
#include "weir_ring.h"
#include "weir_shared.h"

/* UDP destination port -> decoder index + 1 (0: no decoder).  Built once,
 * read-only on every worker. */
struct weir_decoder_table {
	uint8_t by_port[65536];
	struct weir_decoder_cfg decoders[WEIR_MAX_DECODERS];
};

void weir_decoder_table_build(struct weir_decoder_table *t, const struct weir_config *cfg);

struct weir_pipeline {
	struct weir_ring_producer ring;
	struct weir_worker_counters c;       /* counted here, stored to shared once per burst */
	const struct weir_decoder_table *decoders;
	uint32_t dead_letter_keep_bytes;
	enum weir_full_policy full_policy;
	const volatile bool *quit;           /* ends a backpressure wait at shutdown */
};

void weir_pipeline_packet(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, enum weir_csum ip_csum,
			  enum weir_csum l4_csum, uint16_t port, uint64_t now_ns);
void weir_pipeline_dead_letter(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, unsigned reason,
			       uint16_t port, uint64_t now_ns);

/* Stores the counts to the worker's shared block (single writer). */
static inline void
weir_pipeline_store_counters(const struct weir_pipeline *pl, struct weir_worker_counters *shared)
{
	const uint64_t *src = (const uint64_t *)&pl->c;
	uint64_t *dst = (uint64_t *)shared;
	for (unsigned i = 0; i < sizeof(pl->c) / 8; i++)
		if (dst[i] != src[i])
			__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
}

#endif
