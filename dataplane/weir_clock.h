/* The dataplane's clock: the TSC paired with the system's clock on the
 * main lcore, its mapping published for the workers (weir_tsc_clock.h). */
#ifndef WEIR_CLOCK_H
#define WEIR_CLOCK_H

#include <stdint.h>

#include "weir_tsc_clock.h"

/* The first pairing at DPDK's nominal rate, published; the UNIX ns of the start. */
uint64_t weir_clock_start(struct weir_tsc_clock *c, struct weir_tsc_pub *pub);
/* Every ~50 ms, off the workers: the TSC against the system's clock again,
 * republished; a step of the wall clock since the start said once. */
void weir_clock_calibrate(struct weir_tsc_clock *c, struct weir_tsc_pub *pub);
/* The rate measured over the run, against DPDK's, on stdout. */
void weir_clock_report(const struct weir_tsc_clock *c);

#endif
