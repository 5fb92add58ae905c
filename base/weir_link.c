#include <stdio.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "weir_link.h"
#include "weir_time.h"

/* Polls the link every 10 ms until it is up (want) or down, or seconds pass. */
static bool
wait_for(uint16_t port_id, bool want, double seconds)
{
	uint64_t until = weir_monotonic_ns() + (uint64_t)(seconds * 1e9);
	for (;;) {
		struct rte_eth_link link = { .link_status = RTE_ETH_LINK_UP };
		if (rte_eth_link_get_nowait(port_id, &link) != 0)
			return !want; /* a port that cannot say: as if down */
		if ((link.link_status == RTE_ETH_LINK_UP) == want)
			return true;
		if (weir_monotonic_ns() >= until)
			return false;
		usleep(10 * 1000);
	}
}

bool
weir_link_wait_up(uint16_t port_id, double seconds)
{
	return wait_for(port_id, true, seconds);
}

bool
weir_link_hold(const char *prog, uint16_t port_id, double seconds)
{
	printf("%s: holding port %u up until its link goes down (at most %.0f s)\n", prog, port_id, seconds);
	fflush(stdout);
	if (wait_for(port_id, false, seconds))
		return true;
	printf("%s: port %u still up after %.0f s: closing it\n", prog, port_id, seconds);
	fflush(stdout);
	return false;
}
