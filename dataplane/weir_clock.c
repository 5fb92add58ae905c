#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include <rte_cycles.h>

#include "weir_clock.h"
#include "weir_time.h"

/* The system's clock as UNIX ns that never step: CLOCK_MONOTONIC (slewed by
 * NTP, never set) from the CLOCK_REALTIME of the start.  A step of the wall
 * clock is not followed: gap deadlines and windows run on the same clock. */
static uint64_t mono_to_unix;

/* The TSC and that clock read together: false when the reading was
 * interrupted (more than 20 us between the TSC's two readings around it). */
static bool
tsc_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t t1 = rte_rdtsc();
	*ns = weir_monotonic_ns() + mono_to_unix;
	uint64_t t2 = rte_rdtsc();
	*tsc = t1 + (t2 - t1) / 2;
	return t2 - t1 < rte_get_tsc_hz() / 50000;
}

uint64_t
weir_clock_start(struct weir_tsc_clock *c, struct weir_tsc_pub *pub)
{
	uint64_t tsc, ns;
	mono_to_unix = weir_realtime_ns() - weir_monotonic_ns();
	while (!tsc_pair(&tsc, &ns))
		;
	weir_tsc_clock_init(c, tsc, ns, rte_get_tsc_hz()); /* the nominal rate: corrected from here */
	weir_tsc_publish(pub, &c->map);
	return ns;
}

void
weir_clock_calibrate(struct weir_tsc_clock *c, struct weir_tsc_pub *pub)
{
	uint64_t tsc, ns;
	if (!tsc_pair(&tsc, &ns))
		return;
	weir_tsc_clock_update(c, tsc, ns);
	weir_tsc_publish(pub, &c->map);
	static int64_t said;
	int64_t step = (int64_t)(weir_realtime_ns() - ns);
	if ((step > 1000000000 || step < -1000000000) && (step - said > 1000000000 || said - step > 1000000000)) {
		printf("weir-dataplane: the system clock was set %+.1f s since the start: record times go on from "
		       "the start's (timers must not jump); restart weir-dataplane to take the new time\n",
		       (double)step / 1e9);
		said = step;
	}
}

void
weir_clock_report(const struct weir_tsc_clock *c)
{
	uint64_t tsc, ns;
	if (tsc_pair(&tsc, &ns) && tsc > c->first_tsc && ns > c->first_ns)
		printf("weir-dataplane: TSC measured at %.6f GHz against the system clock over %.1f s (DPDK says %.6f): "
		       "record times use the measured rate\n",
		       (double)(tsc - c->first_tsc) / (double)(ns - c->first_ns), (double)(ns - c->first_ns) / 1e9,
		       (double)rte_get_tsc_hz() / 1e9);
}
