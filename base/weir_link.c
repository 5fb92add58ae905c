#include <stdio.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "weir_link.h"
#include "weir_time.h"

/* Polls the link every 10 ms until it is up (want) or down, or seconds
 * pass: 1 it is, 0 it was not in time, -1 the port cannot say. */
static int
wait_for(uint16_t port_id, bool want, double seconds)
{
	uint64_t until = weir_monotonic_ns() + (uint64_t)(seconds * 1e9);
	for (;;) {
		struct rte_eth_link link = { .link_status = RTE_ETH_LINK_UP };
		if (rte_eth_link_get_nowait(port_id, &link) != 0)
			return -1; /* a driver without link_update: -ENOTSUP */
		if ((link.link_status == RTE_ETH_LINK_UP) == want)
			return 1;
		if (weir_monotonic_ns() >= until)
			return 0;
		usleep(10 * 1000);
	}
}

enum weir_link_wait
weir_link_wait_up(uint16_t port_id, double seconds)
{
	int rc = wait_for(port_id, true, seconds);
	return rc > 0 ? WEIR_LINK_CAME_UP : rc == 0 ? WEIR_LINK_STAYED_DOWN : WEIR_LINK_UNREPORTED;
}

bool
weir_link_hold(const char *prog, uint16_t port_id, double seconds)
{
	printf("%s: holding port %u up until its link goes down (at most %.0f s)\n", prog, port_id, seconds);
	fflush(stdout);
	if (wait_for(port_id, false, seconds) != 0) /* down, or it cannot say: nothing to hold up for */
		return true;
	printf("%s: port %u still up after %.0f s: closing it\n", prog, port_id, seconds);
	fflush(stdout);
	return false;
}
