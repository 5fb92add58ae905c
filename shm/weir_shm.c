#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_memzone.h>

#include "weir_shm.h"

static void
shm_file_path(const struct weir_shm *shm, const char *name, char *path, size_t len)
{
	snprintf(path, len, "/dev/shm/weir.%s.%s", shm->prefix, name);
}

static void
memzone_name(const char *name, char *mz, size_t len)
{
	snprintf(mz, len, "weir_%s", name);
}

void *
weir_shm_create(const struct weir_shm *shm, const char *name, uint64_t bytes, int socket)
{
	if (shm->backend == WEIR_SHM_MEMZONE) {
		char mz_name[RTE_MEMZONE_NAMESIZE];
		memzone_name(name, mz_name, sizeof(mz_name));
		const struct rte_memzone *mz = rte_memzone_reserve_aligned(mz_name, bytes, socket, 0,
									   WEIR_CACHE_LINE);
		if (mz == NULL)
			return NULL;
		memset(mz->addr, 0, bytes);
		return mz->addr;
	}
	char path[256];
	shm_file_path(shm, name, path, sizeof(path));
	/* A new file, not the old one truncated: a weir-control still mapping
	 * the previous run's would fault on it. */
	unlink(path);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)bytes) != 0) {
		close(fd);
		return NULL;
	}
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

void *
weir_shm_attach(const struct weir_shm *shm, const char *name, uint64_t *bytes)
{
	if (shm->backend == WEIR_SHM_MEMZONE) {
		char mz_name[RTE_MEMZONE_NAMESIZE];
		memzone_name(name, mz_name, sizeof(mz_name));
		const struct rte_memzone *mz = rte_memzone_lookup(mz_name);
		if (mz == NULL)
			return NULL;
		*bytes = mz->len;
		return mz->addr;
	}
	char path[256];
	shm_file_path(shm, name, path, sizeof(path));
	int fd = open(path, O_RDWR);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size == 0) {
		close(fd);
		return NULL;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	*bytes = (uint64_t)st.st_size;
	return p;
}

void
weir_shm_unlink_all(const struct weir_shm *shm, unsigned n_rings)
{
	if (shm->backend != WEIR_SHM_FILE)
		return;
	char path[256], name[32];
	shm_file_path(shm, "info", path, sizeof(path));
	unlink(path);
	shm_file_path(shm, "rules", path, sizeof(path));
	unlink(path);
	for (unsigned i = 0; i < n_rings; i++) {
		snprintf(name, sizeof(name), "ring.%u", i);
		shm_file_path(shm, name, path, sizeof(path));
		unlink(path);
		snprintf(name, sizeof(name), "seq.%u", i);
		shm_file_path(shm, name, path, sizeof(path));
		unlink(path);
	}
}

struct weir_info *
weir_info_attach(const struct weir_shm *shm, unsigned wait_ms, const char **why)
{
	uint64_t bytes = 0;
	struct weir_info *info = NULL;
	for (unsigned waited = 0;; waited += 10) {
		if (info == NULL)
			info = weir_shm_attach(shm, "info", &bytes);
		if (info != NULL && __atomic_load_n(&info->version, __ATOMIC_ACQUIRE) != 0)
			break;
		if (waited >= wait_ms) {
			*why = info == NULL ? "no weir info region: is weir-dataplane running with this file prefix?"
					    : "weir-dataplane has not finished starting";
			return NULL;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (bytes < sizeof(*info) || info->magic != WEIR_INFO_MAGIC) {
		*why = "info region is not weir's (bad magic or size)";
		return NULL;
	}
	if (info->version != WEIR_INFO_VERSION) {
		*why = "info region layout version differs from this build";
		return NULL;
	}
	return info;
}

struct weir_ring *
weir_ring_attach(const struct weir_shm *shm, unsigned worker, const char **why)
{
	char name[32];
	uint64_t bytes = 0;
	snprintf(name, sizeof(name), "ring.%u", worker);
	struct weir_ring *r = weir_shm_attach(shm, name, &bytes);
	if (r == NULL) {
		*why = "record ring not found";
		return NULL;
	}
	if (weir_ring_check(r, why) != 0)
		return NULL;
	if (bytes < weir_ring_memsize(r->size_bytes)) {
		*why = "record ring region smaller than its header says";
		return NULL;
	}
	return r;
}

void
weir_shm_from_config(const struct weir_config *cfg, struct weir_shm *shm)
{
	shm->backend = weir_config_no_huge(cfg) ? WEIR_SHM_FILE : WEIR_SHM_MEMZONE;
	snprintf(shm->prefix, sizeof(shm->prefix), "%s", weir_config_file_prefix(cfg));
}

void
weir_shm_detach(const struct weir_shm *shm, void *p, uint64_t bytes)
{
	if (shm->backend == WEIR_SHM_FILE && p != NULL)
		munmap(p, bytes);
}

bool
weir_pid_alive(uint64_t pid)
{
	return pid > 0 && pid <= INT32_MAX && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Bytes a previous run's ring file still holds unreleased, and whether a
 * consumer is alive to release them; -1 when there is no such ring. */
static int64_t
ring_left(const struct weir_shm *shm, unsigned i, bool *consumer_alive)
{
	char name[32];
	uint64_t bytes = 0;
	snprintf(name, sizeof(name), "ring.%u", i);
	struct weir_ring *r = weir_shm_attach(shm, name, &bytes);
	if (r == NULL)
		return -1;
	const char *why;
	int64_t left = 0;
	if (bytes >= sizeof(*r) && weir_ring_check(r, &why) == 0) {
		left = (int64_t)weir_ring_unreleased(r);
		*consumer_alive = weir_pid_alive(r->consumer_pid);
	}
	munmap(r, bytes);
	return left;
}

int
weir_shm_wait_drained(const struct weir_shm *shm, const char *prog, double wait_s)
{
	if (shm->backend != WEIR_SHM_FILE)
		return 0;
	bool said = false;
	for (double waited = 0;; waited += 0.1) {
		uint64_t left = 0;
		bool alive = false, any_alive = false;
		int64_t l;
		for (unsigned i = 0; (l = ring_left(shm, i, &alive)) >= 0; i++) {
			left += (uint64_t)l;
			any_alive |= l > 0 && alive;
		}
		if (left == 0)
			return 0;
		if (!any_alive) {
			fprintf(stderr,
				"%s: the previous run's rings (/dev/shm/weir.%s.ring.*) hold %llu bytes of records not yet "
				"in the log, and no weir-control drains them: start weir-control to drain them first (or "
				"remove those files to discard them)\n",
				prog, shm->prefix, (unsigned long long)left);
			return -1;
		}
		if (!said)
			printf("%s: weir-control is still draining the previous run's rings (%llu bytes): waiting\n", prog,
			       (unsigned long long)left);
		said = true;
		if (waited >= wait_s) {
			fprintf(stderr, "%s: the previous run's rings still hold %llu bytes after %.0f s\n", prog,
				(unsigned long long)left, wait_s);
			return -1;
		}
		usleep(100 * 1000);
	}
}
