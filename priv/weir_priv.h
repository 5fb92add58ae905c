#ifndef WEIR_PRIV_H
#define WEIR_PRIV_H
/*
 * Who a weir process runs as.  Started as root, it does its set-up with
 * root's rights (hugepages, ports, shared memory, the log), hands what it
 * made to the service user, and becomes that user keeping no capability.
 * Started as that user already (a unit's User=, with capabilities for the
 * set-up), it drops the capabilities in every thread once set up.
 */
#include <stddef.h>
#include <sys/types.h>

struct weir_priv_user {
	const char *name;
	uid_t uid;
	gid_t gid;
};

/* Before the first thread, so that every thread inherits it: no privilege
 * gained by exec from here on, and, as root, an empty bounding set and
 * XDG_RUNTIME_DIR=/var/run (u's EAL, in a re-exec or a restart, then finds
 * root's runtime directory, /var/run/dpdk/PREFIX).  -1
 * with err when this process can become u neither now nor later. */
int weir_priv_prepare(const struct weir_priv_user *u, char *err, size_t errlen);

/* path and everything under it (symbolic links not followed) that is not
 * yet u's becomes u's, group u->gid.  A path not there yet is made a
 * directory, with the directories missing above it, each u's.  -1 with
 * err at the first failure. */
int weir_priv_give_tree(const char *path, const struct weir_priv_user *u, char *err, size_t errlen);

/* Every file this process maps from a hugetlbfs mount or /dev/shm: the
 * hugepage segments and shared regions a secondary started as u maps. */
int weir_priv_give_mapped(const struct weir_priv_user *u, char *err, size_t errlen);

/* The whole hand-over once set up: each of paths (NULL-ended; ""
 * entries skipped) and every mapped shared file given to u, then door
 * (NULL: none) made searchable by u, then weir_priv_drop.  The door goes
 * last: a process of u's waiting behind it finds everything given. */
int weir_priv_become(const struct weir_priv_user *u, const char *const *paths, const char *door, char *err,
		     size_t errlen);

/* dir searchable by u: o+x added when u can search it neither as owner
 * nor by group (EAL makes /var/run/dpdk 0700; the directories in it stay
 * their owners'). */
int weir_priv_open_door(const char *dir, const struct weir_priv_user *u, char *err, size_t errlen);

/* Becomes u (supplementary groups, gid, uid) in every thread: glibc runs
 * set*id in each, and the kernel empties a thread's capabilities as its
 * uids leave 0.  Checks that none is left and that root cannot be had
 * back.  Already u, with capabilities (a unit's ambient ones, for the
 * set-up): every thread drops them, each its own. */
int weir_priv_drop(const struct weir_priv_user *u, char *err, size_t errlen);

/* A program's two steps, each nothing for a user with no name, saying on
 * stderr what failed ("PROG: ...", a prepare's at the config's FILE:LINE)
 * and on stdout whom it became.  0 or -1. */
int weir_priv_start(const char *prog, const struct weir_priv_user *u, const char *file, unsigned line);
int weir_priv_settle(const char *prog, const struct weir_priv_user *u, const char *const *paths, const char *door);

/* The capabilities left in this thread: effective | permitted | ambient
 * as one mask (0 after weir_priv_drop). */
unsigned long long weir_priv_caps_left(void);

#endif
