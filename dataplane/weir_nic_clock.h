/* A NIC's receive timestamps in UNIX ns.  Where the PMD offers
 * RTE_ETH_RX_OFFLOAD_TIMESTAMP, each mbuf carries the device clock's
 * ticks; the port's start pairs a reading of that clock with the host's
 * UNIX time twice, 100 ms apart, and the rate between them converts.  Pure
 * C: tests drive it with made-up clocks. */
#ifndef WEIR_NIC_CLOCK_H
#define WEIR_NIC_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct weir_nic_clock {
	uint64_t ticks0;             /* the device clock at ns0 */
	uint64_t ns0;                /* UNIX ns */
	uint64_t ns_per_tick_q32;    /* ns per tick << 32 */
};

/* From two (ticks, UNIX ns) readings; false when they say nothing (no
 * time between them, or a clock that went back). */
static inline bool
weir_nic_clock_calibrate(struct weir_nic_clock *c, uint64_t ticks0, uint64_t ns0, uint64_t ticks1, uint64_t ns1)
{
	if (ticks1 <= ticks0 || ns1 <= ns0)
		return false;
	c->ticks0 = ticks0;
	c->ns0 = ns0;
	c->ns_per_tick_q32 = (uint64_t)(((unsigned __int128)(ns1 - ns0) << 32) / (ticks1 - ticks0));
	return true;
}

/* A timestamp's UNIX ns (ticks before ticks0 too: a packet stamped before
 * the calibration). */
static inline uint64_t
weir_nic_clock_ns(const struct weir_nic_clock *c, uint64_t ticks)
{
	int64_t d = (int64_t)(ticks - c->ticks0);
	__int128 off = ((__int128)d * (__int128)c->ns_per_tick_q32) >> 32;
	return (uint64_t)((__int128)c->ns0 + off);
}

#endif
