/* Reaching a weir-dataplane's shared regions from another process: the
 * region files are mapped as they are (no EAL), so a dead run's rings can be
 * drained like a live one's; the locks that say who is alive and who drains. */
#ifndef WEIR_ATTACH_H
#define WEIR_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_config.h"
#include "weir_shm.h"

/* Where the config says the regions are; 0, or -1 said on stderr. */
int weir_attach(const struct weir_config *cfg, const char *prog, struct weir_shm *shm);
/* Unmaps the info region and lets go of its file. */
void weir_info_detach(struct weir_shm *shm, struct weir_info *info, uint64_t bytes);
/* One drain per dataplane: an flock keyed by the file prefix (in EAL's
 * runtime directory with hugepages, beside the /dev/shm regions without),
 * held by weir-control while it drains.  Its descriptor, or -1 with err
 * naming the holder. */
int weir_consumer_lock(const struct weir_shm *shm, char *err, size_t errlen);
/* Whether a weir-control holds that lock now. */
bool weir_consumer_draining(const struct weir_shm *shm);
/* Whether the dataplane of the info region attached (weir_info_attach) still
 * runs: the lock it holds on the info file while it lives. */
bool weir_primary_alive(const struct weir_shm *shm);
/* A primary about to start: waits up to wait_s while a process of the
 * previous run still maps the prefix's runtime files (EAL would fail with
 * "Cannot allocate memzone list").  0, or -1 said on stderr. */
int weir_wait_for_secondaries(const char *prog, const char *prefix, double wait_s);

#endif
