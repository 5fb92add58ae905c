/*
 * A DPDK port as a replay's destination (weir-replay send --port-config
 * FILE): the port file's eal, set and port config lines, in the
 * dataplane's words (docs/pmd-config.md).  The send runs on the file's one
 * lcore; frames are built straight into mbufs and leave in bursts of "set
 * burst", one at a time when paced.  A TX ring that takes less than a
 * burst is waited on and counted, never dropped from.
 */
#ifndef WEIR_REPLAY_PORT_H
#define WEIR_REPLAY_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEIR_REPLAY_PORT_BURST_MAX 512

struct rte_mbuf;
struct rte_mempool;

struct weir_replay_port {
	uint16_t port_id;
	unsigned lcore;                       /* the sender's */
	unsigned burst;                       /* frames a tx burst (1 when paced) */
	struct rte_mempool *pool;
	uint8_t mac[6];                       /* the port's own: the frames' source */
	char driver[32];
	unsigned n;                           /* frames waiting for a burst */
	struct rte_mbuf *pending[WEIR_REPLAY_PORT_BURST_MAX];
	unsigned stash_at, stash_n;           /* free mbufs taken a burst at a time */
	struct rte_mbuf *stash[WEIR_REPLAY_PORT_BURST_MAX];
	uint64_t tx_partial;                  /* bursts the TX queue did not take whole at once */
	bool udp_csum_nic;                    /* the port's TX offload finishes UDP checksums */
	uint64_t tx_ol_flags;                 /* each frame's offload flags (0: none) */
	uint64_t tx_offload;                  /* and its headers' lengths (rte_mbuf_tx_offload) */
	bool eal_up, started;
};

/* Starts EAL and the file's first port for frames of up to 14 + mtu bytes
 * (paced: bursts of one), its UDP checksum offload on where nic_csum and the
 * port offers it: 0, or -1 with err said ("FILE:LINE: ..." for the file's
 * own errors). */
int weir_replay_port_open(struct weir_replay_port *p, const char *path, unsigned mtu, bool paced, bool nic_csum,
			  char *err, size_t errlen);
/* Frames of one family (v6 or IPv4) leave with their UDP checksum for the
 * NIC to finish: only where p->udp_csum_nic. */
void weir_replay_port_nic_csum(struct weir_replay_port *p, bool v6);
/* Room for a frame of len bytes (NULL: no mbuf within a second; err). */
uint8_t *weir_replay_port_frame(struct weir_replay_port *p, uint32_t len, char *err, size_t errlen);
/* The frame weir_replay_port_frame gave goes into the burst; a full burst leaves. */
int weir_replay_port_push(struct weir_replay_port *p, char *err, size_t errlen);
/* Whatever waits leaves: 0, or -1 when the queue took nothing for a second. */
int weir_replay_port_flush(struct weir_replay_port *p, char *err, size_t errlen);
/* fn(arg) on the sender's lcore; its return. */
int weir_replay_port_run(struct weir_replay_port *p, int (*fn)(void *), void *arg);
void weir_replay_port_close(struct weir_replay_port *p);

#endif
