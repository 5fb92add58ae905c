/* Creating and attaching the shared regions a dataplane publishes (the info
 * region, the record rings, the sequence tables, the rule counters). */
#ifndef WEIR_SHM_H
#define WEIR_SHM_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_config.h"
#include "weir_info.h"
#include "weir_ring.h"

/*
 * Where the shared regions live.  With hugepages they are DPDK memzones
 * (the control plane attaches as a secondary process); under --no-huge a DPDK
 * secondary cannot attach, so they are files in /dev/shm named after the
 * file prefix, mapped by both processes.
 */
enum weir_shm_backend { WEIR_SHM_MEMZONE, WEIR_SHM_FILE };

struct weir_shm {
	enum weir_shm_backend backend;
	char prefix[64];
};

/* The backend and prefix a deployment's config implies: files under
 * --no-huge, memzones otherwise. */
void weir_shm_from_config(const struct weir_config *cfg, struct weir_shm *shm);

/* name is "info" or "ring.N". */
void *weir_shm_create(const struct weir_shm *shm, const char *name, uint64_t bytes, int socket);
void *weir_shm_attach(const struct weir_shm *shm, const char *name, uint64_t *bytes);
/* Whether process pid (a region's writer or reader, as recorded there) runs. */
bool weir_pid_alive(uint64_t pid);

/* Before a dataplane lays out new regions over the files of the previous
 * run: waits while weir-control still drains what its rings hold, and
 * refuses (-1, said) to destroy records nobody is draining. */
int weir_shm_wait_drained(const struct weir_shm *shm, const char *prog, double wait_s);
/* Unmaps what weir_shm_attach() gave (files; memzones stay EAL's). */
void weir_shm_detach(const struct weir_shm *shm, void *p, uint64_t bytes);
/* Removes the /dev/shm files (memzones go with the hugepage files). */
void weir_shm_unlink_all(const struct weir_shm *shm, unsigned n_rings);

/* Attaches the info region and checks its header; waits up to wait_ms for
 * the version to be published.  NULL with *why set on failure. */
struct weir_info *weir_info_attach(const struct weir_shm *shm, unsigned wait_ms, const char **why);
struct weir_ring *weir_ring_attach(const struct weir_shm *shm, unsigned worker, const char **why);

#endif
