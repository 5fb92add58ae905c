/*
 * A sender's DPDK port link: waited for before the first frame (a memif
 * client has no peer until it connects; a NIC's link comes up a while after
 * the port starts), and held up at the end, unpolled, until its peer takes
 * it down.  DPDK 22.11's net_memif unmaps the rings from its interrupt
 * thread when the peer leaves, under a core that may be in a burst on them,
 * so the side still polling when the other goes can crash: a sender that is
 * done stops polling, the receiver stops first, and the sender goes when its
 * link is down.  weir-gen and weir-replay use both.
 */
#ifndef WEIR_LINK_H
#define WEIR_LINK_H

#include <stdbool.h>
#include <stdint.h>

enum weir_link_wait {
	WEIR_LINK_CAME_UP,
	WEIR_LINK_STAYED_DOWN,
	WEIR_LINK_UNREPORTED,         /* the port's driver cannot say (not waited for: nothing would tell) */
};

/* Waits at most seconds for port_id's link to come up. */
enum weir_link_wait weir_link_wait_up(uint16_t port_id, double seconds);
/* Says so on standard output (prog: the program's name), then waits at most
 * seconds for port_id's link to go down; false (and said) when it did not. */
bool weir_link_hold(const char *prog, uint16_t port_id, double seconds);

#endif
