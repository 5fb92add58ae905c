#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "weir_attach.h"
#include "weir_hugedir.h"
#include "weir_shm.h"

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif
#ifndef MPOL_PREFERRED
#define MPOL_PREFERRED 1
#endif

static void
shm_file_path(const struct weir_shm *shm, const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/weir.%s.%s", shm->dir, shm->prefix, name);
}

/* A hugetlbfs file is sized and mapped in whole pages. */
static uint64_t
whole_pages(int fd, uint64_t bytes)
{
	struct statfs fs;
	if (fstatfs(fd, &fs) != 0 || (unsigned long)fs.f_type != HUGETLBFS_MAGIC || fs.f_bsize <= 0)
		return bytes;
	uint64_t page = (uint64_t)fs.f_bsize;
	return (bytes + page - 1) / page * page;
}

/* The pages on the node the region's user runs on, if the kernel can:
 * set before they are first touched (a failure only costs locality). */
static void
prefer_node(void *p, uint64_t bytes, int socket)
{
	if (socket < 0 || socket >= 64)
		return;
	unsigned long mask = 1ul << socket;
	(void)syscall(SYS_mbind, p, (unsigned long)bytes, MPOL_PREFERRED, &mask, 64ul, 0u);
}

void *
weir_shm_create(const struct weir_shm *shm, const char *name, uint64_t bytes, int socket)
{
	char path[512];
	shm_file_path(shm, name, path, sizeof(path));
	/* A new file, not the old one truncated: a weir-control still mapping
	 * the previous run's would fault on it. */
	unlink(path);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	bytes = whole_pages(fd, bytes);
	void *p = MAP_FAILED;
	if (ftruncate(fd, (off_t)bytes) == 0)
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int saved = errno;
	close(fd);
	if (p == MAP_FAILED) {
		unlink(path);
		errno = saved;
		return NULL;
	}
	prefer_node(p, bytes, socket);
	memset(p, 0, bytes); /* every page now, not on the hot path */
	return p;
}

/* Maps a region file whole; *fd_out (if given) keeps the file open. */
static void *
map_file(const char *path, uint64_t *bytes, int *fd_out)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	void *p = MAP_FAILED;
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || fd_out == NULL)
		close(fd);
	else
		*fd_out = fd;
	if (p == MAP_FAILED)
		return NULL;
	*bytes = (uint64_t)st.st_size;
	return p;
}

void *
weir_shm_attach(const struct weir_shm *shm, const char *name, uint64_t *bytes)
{
	char path[512];
	shm_file_path(shm, name, path, sizeof(path));
	return map_file(path, bytes, NULL);
}

int
weir_shm_hold_live(const struct weir_shm *shm)
{
	char path[512];
	shm_file_path(shm, "info", path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0; /* never closed: held until the process ends */
}

void
weir_shm_unlink_all(const struct weir_shm *shm, unsigned n_rings)
{
	char path[512], name[32];
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
weir_info_attach(struct weir_shm *shm, unsigned wait_ms, const char **why)
{
	char path[512];
	shm_file_path(shm, "info", path, sizeof(path));
	uint64_t bytes = 0;
	struct weir_info *info = NULL;
	for (unsigned waited = 0;; waited += 10) {
		if (info == NULL)
			info = map_file(path, &bytes, &shm->info_fd);
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

int
weir_shm_from_config(const struct weir_config *cfg, struct weir_shm *shm, char *err, size_t errlen)
{
	shm->huge = !weir_config_no_huge(cfg);
	shm->info_fd = -1;
	snprintf(shm->prefix, sizeof(shm->prefix), "%s", weir_config_file_prefix(cfg));
	if (!shm->huge) {
		snprintf(shm->dir, sizeof(shm->dir), "/dev/shm");
		return 0;
	}
	return weir_hugetlbfs_dir(weir_config_huge_dir(cfg), shm->dir, sizeof(shm->dir), err, errlen);
}

void
weir_shm_detach(void *p, uint64_t bytes)
{
	if (p != NULL)
		munmap(p, bytes);
}

/* Bytes a previous run's ring file still holds unreleased; -1 when there
 * is no such ring. */
static int64_t
ring_left(const struct weir_shm *shm, unsigned i)
{
	char name[32];
	uint64_t bytes = 0;
	snprintf(name, sizeof(name), "ring.%u", i);
	struct weir_ring *r = weir_shm_attach(shm, name, &bytes);
	if (r == NULL)
		return -1;
	const char *why;
	int64_t left = 0;
	if (bytes >= sizeof(*r) && weir_ring_check(r, &why) == 0)
		left = (int64_t)weir_ring_unreleased(r);
	munmap(r, bytes);
	return left;
}

int
weir_shm_wait_drained(const struct weir_shm *shm, const char *prog, double wait_s)
{
	bool said = false;
	for (double waited = 0;; waited += 0.1) {
		uint64_t left = 0;
		int64_t l;
		for (unsigned i = 0; (l = ring_left(shm, i)) >= 0; i++)
			left += (uint64_t)l;
		if (left == 0)
			return 0;
		if (!weir_consumer_draining(shm)) {
			fprintf(stderr,
				"%s: the previous run's rings (%s/weir.%s.ring.*) hold %llu bytes of records not yet "
				"in the log, and no weir-control drains them: start weir-control to drain them first (or "
				"remove those files to discard them)\n",
				prog, shm->dir, shm->prefix, (unsigned long long)left);
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
