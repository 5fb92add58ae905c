#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
weir_primary_alive(const struct weir_shm *shm)
{
	if (shm->info_fd < 0)
		return false;
	/* Its dataplane holds the info file's lock while it lives (not its
	 * pid: that may be reused, or be another pid namespace's). */
	if (flock(shm->info_fd, LOCK_SH | LOCK_NB) == 0) {
		flock(shm->info_fd, LOCK_UN);
		return false;
	}
	return errno == EWOULDBLOCK;
}

int
weir_attach(const struct weir_config *cfg, const char *prog, struct weir_shm *shm)
{
	char err[512];
	if (weir_shm_from_config(cfg, shm, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return -1;
	}
	fprintf(stderr, "%s: attaching to %s/weir.%s.* (%s)\n", prog, shm->dir, shm->prefix,
		shm->huge ? "hugepages" : "--no-huge");
	return 0;
}

void
weir_info_detach(struct weir_shm *shm, struct weir_info *info, uint64_t bytes)
{
	weir_shm_detach(info, bytes);
	if (shm->info_fd >= 0)
		close(shm->info_fd);
	shm->info_fd = -1;
}

/* Beside the regions, but not on hugetlbfs, which takes no write() of the
 * holder's pid: EAL's runtime directory there, which containers share. */
static void
consumer_lock_path(const struct weir_shm *shm, char *path, size_t len)
{
	if (shm->huge)
		runtime_path(shm->prefix, "weir-consumer.lock", path, len);
	else
		snprintf(path, len, "/dev/shm/weir.%s.consumer.lock", shm->prefix);
}

bool
weir_consumer_draining(const struct weir_shm *shm)
{
	char path[512];
	consumer_lock_path(shm, path, sizeof(path));
	return weir_lockfile_held(path);
}

int
weir_consumer_lock(const struct weir_shm *shm, char *err, size_t errlen)
{
	char path[512];
	consumer_lock_path(shm, path, sizeof(path));
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
