#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "weir_attach.h"

/* True while a primary holds the lock EAL takes on its runtime config. */
static bool
primary_alive(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	bool alive = fcntl(fd, F_GETLK, &lk) == 0 && lk.l_type != F_UNLCK;
	close(fd);
	return alive;
}

/* A secondary started before its primary fails, and one started against a
 * dead primary's leftover runtime dir spins inside rte_eal_init for ever:
 * attach only to a live primary. */
static int
wait_for_primary(const char *prog, const char *prefix, double wait_s, const volatile sig_atomic_t *quit)
{
	char path[512];
	const char *run = getuid() == 0 ? "/var/run" : getenv("XDG_RUNTIME_DIR");
	if (run == NULL)
		run = "/tmp";
	snprintf(path, sizeof(path), "%s/dpdk/%s/config", run, prefix);
	for (double waited = 0;; waited += 0.05) {
		if (primary_alive(path))
			return 0;
		if (waited >= wait_s || *quit) {
			fprintf(stderr,
				"%s: no live weir-dataplane with file prefix \"%s\" after %.0f s (%s is missing or unlocked)\n",
				prog, prefix, wait_s, path);
			return -1;
		}
		usleep(50 * 1000);
	}
}

static int
attach_secondary(const struct weir_config *cfg, const char *prog, const char *prefix)
{
	static char lcore[16], fp[128];
	char *argv[16];
	int n = 0;
	snprintf(lcore, sizeof(lcore), "%d", cfg->control_lcore);
	snprintf(fp, sizeof(fp), "--file-prefix=%s", prefix);
	argv[n++] = (char *)prog;
	argv[n++] = "--proc-type=secondary";
	argv[n++] = fp;
	argv[n++] = "-l";
	argv[n++] = lcore;
	argv[n++] = "--no-pci";
	argv[n++] = "--log-level=lib.eal:error";
	/* The memory layout must match the primary's. */
	for (int i = 0; i < cfg->eal_argc && n < 14; i++)
		if (!strncmp(cfg->eal_argv[i], "--huge-dir", 10) || !strncmp(cfg->eal_argv[i], "--base-virtaddr", 15))
			argv[n++] = cfg->eal_argv[i];
	argv[n] = NULL;
	if (rte_eal_init(n, argv) < 0) {
		fprintf(stderr, "%s: cannot attach as a DPDK secondary (file prefix %s): %s\n", prog, prefix,
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

int
weir_attach(const struct weir_config *cfg, const char *prog, double wait_s, const volatile sig_atomic_t *quit,
	    struct weir_shm *shm)
{
	weir_shm_from_config(cfg, shm);
	if (shm->backend == WEIR_SHM_FILE) {
		fprintf(stderr, "%s: --no-huge: attaching to /dev/shm/weir.%s.* without EAL\n", prog, shm->prefix);
		return 0;
	}
	if (wait_for_primary(prog, shm->prefix, wait_s, quit) != 0)
		return -1;
	return attach_secondary(cfg, prog, shm->prefix);
}

void
weir_detach(const struct weir_shm *shm)
{
	if (shm->backend == WEIR_SHM_MEMZONE)
		rte_eal_cleanup();
}
