#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "weir_priv.h"

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

static bool
is_already(const struct weir_priv_user *u)
{
	uid_t r, e, s;
	return getresuid(&r, &e, &s) == 0 && r == u->uid && e == u->uid && s == u->uid;
}

static int
last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int last = 40; /* CAP_CHECKPOINT_RESTORE, the last since Linux 5.9 */
	if (f != NULL) {
		if (fscanf(f, "%d", &last) != 1)
			last = 40;
		fclose(f);
	}
	return last;
}

int
weir_priv_prepare(const struct weir_priv_user *u, char *err, size_t errlen)
{
	if (geteuid() != 0 && !is_already(u)) {
		snprintf(err, errlen, "cannot become user %s (uid %u): started as uid %u; start as root, or as %s", u->name,
			 (unsigned)u->uid, (unsigned)geteuid(), u->name);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "no-new-privileges: %s", strerror(errno));
		return -1;
	}
	if (geteuid() != 0)
		return 0; /* a unit's User=: its CapabilityBoundingSet is the bound */
	setenv("XDG_RUNTIME_DIR", "/var/run", 1);
	for (int cap = 0, last = last_cap(); cap <= last; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
			snprintf(err, errlen,
				 "cannot empty the capability bounding set (capability %d): %s (it takes CAP_SETPCAP: "
				 "a container's default set has it)",
				 cap, strerror(errno));
			return -1;
		}
	return 0;
}

/* nftw passes no argument through: one give at a time, set-up only. */
static const struct weir_priv_user *give_to;
static char *give_err;
static size_t give_errlen;

static int
give_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_NS) /* gone between its directory's read and its stat */
		return 0;
	if (st->st_uid == give_to->uid && st->st_gid == give_to->gid)
		return 0;
	if (lchown(path, give_to->uid, give_to->gid) != 0 && errno != ENOENT) {
		snprintf(give_err, give_errlen, "cannot give %s to user %s: %s", path, give_to->name, strerror(errno));
		return -1;
	}
	return 0;
}

/* path as a directory, each one missing on the way made u's: what weir
 * makes for its own files is the user's, as it would be had u made it. */
static int
make_dirs(const char *path, const struct weir_priv_user *u, char *err, size_t errlen)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1;; p++) {
		bool last = *p == '\0';
		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(tmp, 0777) == 0) {
			if (lchown(tmp, u->uid, u->gid) != 0) {
				snprintf(err, errlen, "cannot give %s to user %s: %s", tmp, u->name, strerror(errno));
				return -1;
			}
		} else if (errno != EEXIST) {
			snprintf(err, errlen, "cannot make %s: %s", tmp, strerror(errno));
			return -1;
		}
		if (last)
			return 0;
		*p = '/';
	}
}

int
weir_priv_give_tree(const char *path, const struct weir_priv_user *u, char *err, size_t errlen)
{
	if (is_already(u))
		return 0;
	if (access(path, F_OK) != 0 && make_dirs(path, u, err, errlen) != 0)
		return -1;
	give_to = u;
	give_err = err;
	give_errlen = errlen;
	err[0] = '\0';
	/* Files come and go under a running log (a segment rolled, a checkpoint
	 * renamed): give_one lets one gone before its turn pass. */
	if (nftw(path, give_one, 32, FTW_PHYS | FTW_MOUNT) == 0)
		return 0;
	if (err[0] == '\0')
		snprintf(err, errlen, "cannot give %s to user %s: %s", path, u->name, strerror(errno));
	return -1;
}

/* The path of one /proc/self/maps line, NULL for an anonymous or deleted mapping. */
static char *
mapped_path(char *line)
{
	char *p = strchr(line, '/');
	if (p == NULL)
		return NULL;
	p[strcspn(p, "\n")] = '\0';
	return strstr(p, " (deleted)") ? NULL : p;
}

int
weir_priv_give_mapped(const struct weir_priv_user *u, char *err, size_t errlen)
{
	if (is_already(u))
		return 0;
	FILE *f = fopen("/proc/self/maps", "r");
	if (f == NULL) {
		snprintf(err, errlen, "cannot read /proc/self/maps: %s", strerror(errno));
		return -1;
	}
	char line[4096 + 128], last[4096] = "";
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *path = mapped_path(line);
		if (path == NULL || strcmp(path, last) == 0)
			continue;
		snprintf(last, sizeof(last), "%s", path);
		struct statfs fs;
		bool shared = strncmp(path, "/dev/shm/", 9) == 0 ||
			      (statfs(path, &fs) == 0 && (unsigned long)fs.f_type == HUGETLBFS_MAGIC);
		if (shared && lchown(path, u->uid, u->gid) != 0) {
			snprintf(err, errlen, "cannot give %s to user %s: %s", path, u->name, strerror(errno));
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}

/* One "CapXxx:\t%llx" line of a status file. */
static unsigned long long
cap_line(const char *status, const char *key)
{
	const char *p = strstr(status, key);
	return p ? strtoull(p + strlen(key), NULL, 16) : ~0ull;
}

/* Effective | permitted | ambient of one thread's status file (~0: none
 * such), its text in status. */
static unsigned long long
caps_in(const char *path, char *status, size_t len)
{
	FILE *f = fopen(path, "r");
	status[0] = '\0';
	if (f == NULL)
		return ~0ull;
	status[fread(status, 1, len - 1, f)] = '\0';
	fclose(f);
	return cap_line(status, "CapEff:\t") | cap_line(status, "CapPrm:\t") | cap_line(status, "CapAmb:\t");
}

unsigned long long
weir_priv_caps_left(void)
{
	char status[8192];
	return caps_in("/proc/thread-self/status", status, sizeof(status));
}

/* Capabilities are a thread's own: each drops its own, all of them. */
static int
drop_own_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	return (int)syscall(SYS_capset, &h, d);
}

static int shed_acked, shed_failed;

static void
on_shed(int sig)
{
	(void)sig;
	int saved = errno;
	if (drop_own_caps() != 0)
		__atomic_add_fetch(&shed_failed, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&shed_acked, 1, __ATOMIC_RELEASE);
	errno = saved;
}

/* 0 when no thread of this process holds a capability. */
static int
check_every_thread(char *err, size_t errlen)
{
	DIR *d = opendir("/proc/self/task");
	if (d == NULL) {
		snprintf(err, errlen, "cannot read /proc/self/task: %s", strerror(errno));
		return -1;
	}
	int rc = 0;
	for (struct dirent *de; rc == 0 && (de = readdir(d)) != NULL;) {
		char path[300], status[8192];
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
		unsigned long long left = caps_in(path, status, sizeof(status));
		const char *name = strstr(status, "Name:\t");
		if (left != 0 && access(path, F_OK) == 0) { /* not one that ended meanwhile */
			snprintf(err, errlen, "thread %s (%.*s) still holds capabilities %#llx", de->d_name,
				 name ? (int)strcspn(name + 6, "\n") : 0, name ? name + 6 : "", left);
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

/* Started as the user with capabilities (a unit's AmbientCapabilities):
 * set-up done, every thread drops them, as glibc has each thread run a
 * set*id call. */
static int
shed_in_every_thread(char *err, size_t errlen)
{
	int sig = SIGRTMIN + 3, sent = 0;
	struct sigaction sa = { .sa_handler = on_shed, .sa_flags = SA_RESTART }, old;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, &old) != 0) {
		snprintf(err, errlen, "cannot drop capabilities: %s", strerror(errno));
		return -1;
	}
	__atomic_store_n(&shed_acked, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&shed_failed, 0, __ATOMIC_RELAXED);
	long self = syscall(SYS_gettid);
	DIR *d = opendir("/proc/self/task");
	for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;) {
		long tid = strtol(de->d_name, NULL, 10);
		if (tid > 0 && tid != self && syscall(SYS_tgkill, getpid(), tid, sig) == 0)
			sent++;
	}
	if (d != NULL)
		closedir(d);
	int rc = drop_own_caps();
	for (int waited_ms = 0; __atomic_load_n(&shed_acked, __ATOMIC_ACQUIRE) < sent && waited_ms < 2000; waited_ms++)
		usleep(1000);
	sigaction(sig, &old, NULL);
	if (rc != 0 || __atomic_load_n(&shed_failed, __ATOMIC_RELAXED) != 0) {
		snprintf(err, errlen, "cannot drop capabilities in every thread: %s", strerror(errno));
		return -1;
	}
	return check_every_thread(err, errlen);
}

int
weir_priv_drop(const struct weir_priv_user *u, char *err, size_t errlen)
{
	if (is_already(u))
		return weir_priv_caps_left() == 0 ? 0 : shed_in_every_thread(err, errlen);
	/* Supplementary groups first: a vfio or hugepage group of the user's
	 * stays, root's do not. */
	if (initgroups(u->name, u->gid) != 0 || setresgid(u->gid, u->gid, u->gid) != 0 ||
	    setresuid(u->uid, u->uid, u->uid) != 0) {
		snprintf(err, errlen, "cannot become user %s: %s", u->name, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "became user %s, but root could be had back", u->name);
		return -1;
	}
	return check_every_thread(err, errlen);
}

int
weir_priv_open_door(const char *dir, const struct weir_priv_user *u, char *err, size_t errlen)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	mode_t need = st.st_uid == u->uid ? S_IXUSR : st.st_gid == u->gid ? S_IXGRP : S_IXOTH;
	if ((st.st_mode & need) == 0 && chmod(dir, (st.st_mode & 07777) | need) != 0) {
		snprintf(err, errlen, "cannot let user %s through %s: %s", u->name, dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
weir_priv_become(const struct weir_priv_user *u, const char *const *paths, const char *door, char *err,
		 size_t errlen)
{
	for (; *paths != NULL; paths++)
		if (**paths && weir_priv_give_tree(*paths, u, err, errlen) != 0)
			return -1;
	if (weir_priv_give_mapped(u, err, errlen) != 0 || (door && weir_priv_open_door(door, u, err, errlen) != 0))
		return -1;
	return weir_priv_drop(u, err, errlen);
}

int
weir_priv_start(const char *prog, const struct weir_priv_user *u, const char *file, unsigned line)
{
	char err[512];
	if (!u->name[0] || weir_priv_prepare(u, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s: %s:%u: %s\n", prog, file, line, err);
	return -1;
}

int
weir_priv_settle(const char *prog, const struct weir_priv_user *u, const char *const *paths, const char *door)
{
	char err[512];
	if (!u->name[0])
		return 0;
	if (weir_priv_become(u, paths, door, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return -1;
	}
	printf("%s: running as user %s (uid %u, gid %u), no capability left\n", prog, u->name, (unsigned)u->uid,
	       (unsigned)u->gid);
	return 0;
}
