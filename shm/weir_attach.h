/* Reaching a running weir-dataplane's shared regions from another process:
 * as a DPDK secondary (hugepages), or by mapping its /dev/shm files
 * (--no-huge, where a secondary cannot attach). */
#ifndef WEIR_ATTACH_H
#define WEIR_ATTACH_H

#include <signal.h>
#include <stdbool.h>

#include "weir_config.h"
#include "weir_shm.h"

/* Waits up to wait_s for a live primary (or *quit); 0 once attached. */
int weir_attach(const struct weir_config *cfg, const char *prog, double wait_s, const volatile sig_atomic_t *quit,
		struct weir_shm *shm);
/* primary_alive false: the kernel is left to drop the mappings. */
void weir_detach(const struct weir_shm *shm, bool primary_alive);
/* One drain per dataplane: an flock keyed by the file prefix (in EAL's
 * runtime directory, or beside the /dev/shm regions), held by weir-control
 * while it drains.  Its descriptor, or -1 with err naming the holder. */
int weir_consumer_lock(const struct weir_shm *shm, char *err, size_t errlen);
/* Whether the dataplane that published info still runs (its EAL lock, or
 * its pid under --no-huge). */
bool weir_primary_alive(const struct weir_shm *shm, const struct weir_info *info);
/* A primary about to start: waits up to wait_s while a process of the
 * previous run still maps the prefix's runtime files (EAL would fail with
 * "Cannot allocate memzone list").  0, or -1 said on stderr. */
int weir_wait_for_secondaries(const char *prog, const char *prefix, double wait_s);

#endif
