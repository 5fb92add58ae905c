/* The hand-over to the service user: what is given, what is opened, and
 * that nothing of root's is left once become.  As root (skipped otherwise);
 * the irreversible steps run in a child. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include "tmpdir.h"
#include "weir_priv.h"

static const struct weir_priv_user nobody = { "nobody", 65534, 65534 };
static char err[512];

static void
touch(const char *dir, const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_CREAT | O_WRONLY, 0640);
	assert_true(fd >= 0);
	close(fd);
}

static uid_t
owner(const char *dir, const char *name)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s%s%s", dir, *name ? "/" : "", name);
	assert_int_equal(lstat(p, &st), 0);
	return st.st_uid;
}

static void
should_give_a_whole_tree_make_a_missing_one_but_follow_no_link_out(void **state)
{
	if (geteuid() != 0)
		skip();
	char *d = make_tmpdir(), *outside = make_tmpdir(), p[512];
	touch(outside, "secret");
	snprintf(p, sizeof(p), "%s/topic", d);
	assert_int_equal(mkdir(p, 0750), 0);
	touch(d, "topic/00000000000000000000.log");
	snprintf(p, sizeof(p), "%s/link", d);
	assert_int_equal(symlink(outside, p), 0);
	assert_int_equal(weir_priv_give_tree(d, &nobody, err, sizeof(err)), 0);
	assert_int_equal(owner(d, ""), 65534);
	assert_int_equal(owner(d, "topic"), 65534);
	assert_int_equal(owner(d, "topic/00000000000000000000.log"), 65534);
	assert_int_equal(owner(d, "link"), 65534);    /* the link itself */
	assert_int_equal(owner(outside, "secret"), 0); /* not what it points at */
	snprintf(p, sizeof(p), "%s/not/made-yet", d);
	assert_int_equal(weir_priv_give_tree(p, &nobody, err, sizeof(err)), 0);
	assert_int_equal(owner(d, "not"), 65534); /* made on the way: the user's too */
	assert_int_equal(owner(d, "not/made-yet"), 65534);
	rm_tmpdir(d);
	rm_tmpdir(outside);
}

static void
should_open_a_door_by_search_only_and_only_when_needed(void **state)
{
	if (geteuid() != 0)
		skip();
	char *d = make_tmpdir();
	struct stat st;
	assert_int_equal(chmod(d, 0700), 0);
	assert_int_equal(weir_priv_open_door(d, &nobody, err, sizeof(err)), 0);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0701); /* search, never read */
	assert_int_equal(chmod(d, 0750), 0);
	assert_int_equal(chown(d, 0, 65534), 0); /* nobody's group may search already */
	assert_int_equal(weir_priv_open_door(d, &nobody, err, sizeof(err)), 0);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	rm_tmpdir(d);
}

/* In a child: prepare, a thread's worth of set-up, become nobody. */
static void
should_leave_no_capability_and_no_way_back_to_root(void **state)
{
	if (geteuid() != 0)
		skip();
	char *d = make_tmpdir(), shm[64];
	snprintf(shm, sizeof(shm), "/dev/shm/weir-unit-priv-%d", (int)getpid());
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(shm, O_CREAT | O_RDWR, 0600);
		if (fd < 0 || ftruncate(fd, 4096) != 0 || mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED)
			_exit(10);
		if (weir_priv_prepare(&nobody, err, sizeof(err)) != 0)
			_exit(11);
		const char *paths[] = { d, NULL };
		if (weir_priv_become(&nobody, paths, NULL, err, sizeof(err)) != 0)
			_exit(12);
		if (weir_priv_caps_left() != 0 || getuid() != 65534 || setuid(0) == 0)
			_exit(13);
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 || prctl(PR_CAPBSET_READ, 0, 0, 0, 0) != 0)
			_exit(14);
		if (getgroups(0, NULL) > 1)
			_exit(15); /* root's supplementary groups are gone */
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(owner(shm, ""), 65534); /* the mapped shared file went with it */
	assert_int_equal(owner(d, ""), 65534);
	unlink(shm);
	rm_tmpdir(d);
}

static int idle_pipe[2];

static void *
idle_thread(void *arg)
{
	char c;
	(void)arg;
	while (read(idle_pipe[0], &c, 1) < 0)
		; /* interrupted: as EAL's threads wait, in a read */
	return NULL;
}

/* Started as the user with capabilities for the set-up (a unit's
 * ambient ones): once set up, no thread keeps one. */
static void
should_drop_a_users_capabilities_in_every_thread(void **state)
{
#ifdef __SANITIZE_THREAD__
	skip(); /* TSan holds an async signal until its thread leaves the call it waits in: never, here */
#endif
	if (geteuid() != 0)
		skip();
	pid_t pid = fork();
	if (pid == 0) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 || setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0 || weir_priv_caps_left() == 0)
			_exit(10); /* nobody, still holding root's permitted set */
		pthread_t t[3];
		if (pipe(idle_pipe) != 0)
			_exit(11);
		for (int i = 0; i < 3; i++)
			if (pthread_create(&t[i], NULL, idle_thread, NULL) != 0)
				_exit(12);
		usleep(20000);
		if (weir_priv_drop(&nobody, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			_exit(13);
		}
		if (weir_priv_caps_left() != 0)
			_exit(14);
		if (write(idle_pipe[1], "xxx", 3) != 3)
			_exit(15);
		for (int i = 0; i < 3; i++)
			pthread_join(t[i], NULL);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
should_refuse_to_become_another_user_when_not_root(void **state)
{
	if (geteuid() != 0)
		skip();
	pid_t pid = fork();
	if (pid == 0) {
		const struct weir_priv_user other = { "daemon", 1, 1 };
		if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
			_exit(10);
		if (weir_priv_prepare(&other, err, sizeof(err)) == 0 || !strstr(err, "start as root, or as daemon"))
			_exit(11);
		if (weir_priv_prepare(&nobody, err, sizeof(err)) != 0) /* already the user: fine */
			_exit(12);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_give_a_whole_tree_make_a_missing_one_but_follow_no_link_out),
		cmocka_unit_test(should_open_a_door_by_search_only_and_only_when_needed),
		cmocka_unit_test(should_leave_no_capability_and_no_way_back_to_root),
		cmocka_unit_test(should_drop_a_users_capabilities_in_every_thread),
		cmocka_unit_test(should_refuse_to_become_another_user_when_not_root),
	};
	return cmocka_run_group_tests_name("priv", tests, NULL, NULL);
}
