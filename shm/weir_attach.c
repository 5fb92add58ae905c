#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "weir_attach.h"
#include "weir_lockfile.h"

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

/* EAL's runtime directory for prefix, and a file in it. */
static void
runtime_path(const char *prefix, const char *file, char *path, size_t len)
{
	const char *run = getuid() == 0 ? "/var/run" : getenv("XDG_RUNTIME_DIR");
	if (run == NULL)
		run = "/tmp";
	snprintf(path, len, "%s/dpdk/%s%s%s", run, prefix, *file ? "/" : "", file);
}

bool
weir_primary_alive(const struct weir_shm *shm, const struct weir_info *info)
{
	if (shm->backend == WEIR_SHM_MEMZONE) {
		char path[512];
		runtime_path(shm->prefix, "config", path, sizeof(path));
		return primary_alive(path);
	}
	return weir_pid_alive(info->dataplane_pid); /* files: no EAL lock to look at */
}

/* A secondary started before its primary fails, and one started against a
 * dead primary's leftover runtime dir spins inside rte_eal_init for ever:
 * attach only to a live primary. */
static int
wait_for_primary(const char *prog, const char *prefix, double wait_s, const volatile sig_atomic_t *quit)
{
	char path[512];
	runtime_path(prefix, "config", path, sizeof(path));
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
weir_detach(const struct weir_shm *shm, bool primary_alive)
{
	/* Against a dead primary, EAL's cleanup faults (SIGFPE seen in
	 * librte_eal): exiting lets the kernel drop the mappings. */
	if (shm->backend == WEIR_SHM_MEMZONE && primary_alive)
		rte_eal_cleanup();
}

int
weir_consumer_lock(const struct weir_shm *shm, char *err, size_t errlen)
{
	char path[512];
	if (shm->backend == WEIR_SHM_MEMZONE)
		runtime_path(shm->prefix, "weir-consumer.lock", path, sizeof(path));
	else
		snprintf(path, sizeof(path), "/dev/shm/weir.%s.consumer.lock", shm->prefix);
	int fd = weir_lockfile_take(path, "the rings' consumer lock", err, errlen);
	if (fd < 0 && errno == EWOULDBLOCK) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, ": another weir-control drains the dataplane of file prefix \"%s\"",
			 shm->prefix);
	}
	return fd;
}

int
weir_wait_for_secondaries(const char *prog, const char *prefix, double wait_s)
{
	char dir[512], path[800];
	runtime_path(prefix, "config", path, sizeof(path));
	if (primary_alive(path)) {
		fprintf(stderr, "%s: a weir-dataplane with file prefix \"%s\" is running: stop it, or use another "
				"--file-prefix\n", prog, prefix);
		return -1;
	}
	runtime_path(prefix, "", dir, sizeof(dir));
	bool said = false;
	for (double waited = 0;; waited += 0.05) {
		DIR *d = opendir(dir);
		if (d == NULL)
			return 0; /* no previous run */
		bool busy = false;
		struct dirent *de;
		while (!busy && (de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, "fbarray_", 8) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			/* EAL's attachers hold a shared flock on these while mapped. */
			if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
				busy = true;
			if (fd >= 0)
				close(fd);
		}
		closedir(d);
		if (!busy)
			return 0;
		if (!said) {
			printf("%s: a process of the previous run (weir-control, weir-stat) still maps file prefix \"%s\": "
			       "waiting up to %.0f s for it to let go\n",
			       prog, prefix, wait_s);
			said = true;
		}
		if (waited >= wait_s) {
			fprintf(stderr, "%s: %s is still mapped by another process after %.0f s: stop it, or use another "
					"--file-prefix\n",
				prog, dir, wait_s);
			return -1;
		}
		usleep(50 * 1000);
	}
}
