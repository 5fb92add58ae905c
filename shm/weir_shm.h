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
 * Where the shared regions live: files of their own, named after the file
 * prefix, on a hugetlbfs mount (hugepages) or in /dev/shm (--no-huge).  Not
 * DPDK memzones: those die with the primary, and what a killed dataplane's
 * rings still hold must outlive it until a weir-control has drained it.
 * Any process maps them as they are, no EAL needed; the dataplane's
 * liveness is an flock it holds on the info file.
 */
struct weir_shm {
	bool huge;      /* hugetlbfs, not /dev/shm */
	char dir[256];  /* where the files are */
	char prefix[64];
	int info_fd;    /* the info file attached (its lock says whether its dataplane runs), or -1 */
};

/* The directory and prefix a deployment's config implies.  -1 with err set
 * when hugepages are asked for and no hugetlbfs is mounted. */
int weir_shm_from_config(const struct weir_config *cfg, struct weir_shm *shm, char *err, size_t errlen);

/* name is "info", "rules", "ring.N" or "seq.N".  socket: the NUMA node the
 * pages are preferred on (-1: any). */
void *weir_shm_create(const struct weir_shm *shm, const char *name, uint64_t bytes, int socket);
void *weir_shm_attach(const struct weir_shm *shm, const char *name, uint64_t *bytes);
/* The dataplane, once its info region is created: holds the info file's
 * lock for as long as it lives (the kernel lets go when it dies). */
int weir_shm_hold_live(const struct weir_shm *shm);

/* Before a dataplane lays out new regions over the files of the previous
 * run: waits while weir-control still drains what its rings hold, and
 * refuses (-1, said) to destroy records nobody is draining. */
int weir_shm_wait_drained(const struct weir_shm *shm, const char *prog, double wait_s);
/* Unmaps what weir_shm_attach() gave. */
void weir_shm_detach(void *p, uint64_t bytes);
/* Removes the region files (what maps them keeps its pages until it unmaps). */
void weir_shm_unlink_all(const struct weir_shm *shm, unsigned n_rings);

/* Attaches the info region and checks its header; waits up to wait_ms for
 * the version to be published.  NULL with *why set on failure.  Keeps the
 * file open in shm->info_fd, for weir_primary_alive(). */
struct weir_info *weir_info_attach(struct weir_shm *shm, unsigned wait_ms, const char **why);
struct weir_ring *weir_ring_attach(const struct weir_shm *shm, unsigned worker, const char **why);

#endif
