/* Ports: one mempool per NUMA socket, N RX queues with RSS on the UDP
 * 4-tuple where the PMD can, one queue where it cannot. */
#ifndef WEIR_PORT_H
#define WEIR_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "weir_config.h"
#include "weir_nic_clock.h"

/* The largest frame a worker takes whole: one mbuf's data room.  A longer
 * one arrives in several segments and is a dead letter (multi_segment),
 * its whole length in the record. */
#define WEIR_MAX_FRAME_BYTES 2048u

struct weir_ports {
	uint16_t n_ports;
	uint16_t port_ids[WEIR_MAX_PORTS];
	uint16_t rxq[WEIR_MAX_PORTS];        /* queues really configured */
	uint16_t txq[WEIR_MAX_PORTS];        /* for MoldUDP64 re-requests, one per worker */
	char driver[WEIR_MAX_PORTS][32];
	/* RX timestamps: the PMD stamps each mbuf (dynamic field and flag) */
	bool rx_timestamp[WEIR_MAX_PORTS];
	struct weir_nic_clock clock[WEIR_MAX_PORTS];
	int ts_offset;               /* the timestamp's dynamic field; -1: none registered */
	uint64_t ts_flag;
};

int weir_ports_init(const struct weir_config *cfg, struct weir_ports *ports, char *err, size_t errlen);
/* The mbuf pool of a NUMA socket (re-request packets come from it). */
struct rte_mempool *weir_ports_pool(int socket);
void weir_ports_stop(const struct weir_ports *ports);

#endif
