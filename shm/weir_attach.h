/* Reaching a running weir-dataplane's shared regions from another process:
 * as a DPDK secondary (hugepages), or by mapping its /dev/shm files
 * (--no-huge, where a secondary cannot attach). */
#ifndef WEIR_ATTACH_H
#define WEIR_ATTACH_H

#include <signal.h>

#include "weir_config.h"
#include "weir_shm.h"

/* Waits up to wait_s for a live primary (or *quit); 0 once attached. */
int weir_attach(const struct weir_config *cfg, const char *prog, double wait_s, const volatile sig_atomic_t *quit,
		struct weir_shm *shm);
void weir_detach(const struct weir_shm *shm);

#endif
