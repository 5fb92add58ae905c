/* The shared regions are files that outlive the dataplane that made them:
 * what a SIGKILLed dataplane's ring held is still there to drain, its death
 * is seen by the lock it held on the info file (not by its pid), and on
 * hugetlbfs the same holds in whole huge pages. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "weir_attach.h"
#include "weir_hugedir.h"
#include "weir_lockfile.h"
#include "weir_shm.h"

#define RING_BYTES (64u * 1024u)
#define HUGETLBFS 0x958458f6

static void
shm_in(struct weir_shm *shm, const char *dir, bool huge)
{
	memset(shm, 0, sizeof(*shm));
	shm->huge = huge;
	shm->info_fd = -1;
	snprintf(shm->dir, sizeof(shm->dir), "%s", dir);
	snprintf(shm->prefix, sizeof(shm->prefix), "unit-shm-%d", (int)getpid());
}

/* A dataplane in small: info and one ring with 3 records published, the
 * info file's lock held; says so on the pipe, then waits to be killed. */
static void
child_dataplane(const struct weir_shm *shm, int ready)
{
	struct weir_info *info = weir_shm_create(shm, "info", sizeof(*info), -1);
	struct weir_ring *r = weir_shm_create(shm, "ring.0", weir_ring_memsize(RING_BYTES), 0);
	if (info == NULL || r == NULL || weir_shm_hold_live(shm) != 0)
		_exit(1);
	weir_ring_init(r, 0, RING_BYTES);
	struct weir_ring_producer p;
	weir_ring_producer_attach(&p, r);
	for (int i = 0; i < 3; i++)
		if (weir_ring_reserve(&p, 64) == NULL)
			_exit(1);
	weir_ring_publish(&p, 1);
	info->magic = WEIR_INFO_MAGIC;
	info->n_workers = 1;
	__atomic_store_n(&info->version, WEIR_INFO_VERSION, __ATOMIC_RELEASE);
	if (write(ready, "k", 1) != 1)
		_exit(1);
	pause();
	_exit(0);
}

static void
check_outlives_a_killed_dataplane(const char *dir, bool huge)
{
	struct weir_shm shm;
	shm_in(&shm, dir, huge);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_dataplane(&shm, fds[1]);
	char c;
	assert_int_equal(read(fds[0], &c, 1), 1);
	const char *why = NULL;
	struct weir_info *info = weir_info_attach(&shm, 1000, &why);
	assert_non_null(info);
	assert_true(weir_primary_alive(&shm));
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_false(weir_primary_alive(&shm)); /* the lock went with it */
	struct weir_ring *r = weir_ring_attach(&shm, 0, &why);
	assert_non_null(r);
	assert_int_equal(weir_ring_unreleased(r), 3 * 64); /* nothing went with it */
	uint64_t bytes = 0;
	void *again = weir_shm_attach(&shm, "ring.0", &bytes);
	assert_non_null(again);
	if (huge) { /* whole huge pages */
		struct statfs fs;
		assert_int_equal(statfs(dir, &fs), 0);
		assert_int_equal(bytes % (uint64_t)fs.f_bsize, 0);
	}
	weir_shm_detach(again, bytes);
	weir_info_detach(&shm, info, sizeof(*info));
	weir_shm_unlink_all(&shm, 1);
	assert_null(weir_shm_attach(&shm, "ring.0", &bytes));
	close(fds[0]);
	close(fds[1]);
}

static void
should_keep_a_killed_dataplanes_ring_in_dev_shm(void **state)
{
	(void)state;
	check_outlives_a_killed_dataplane("/dev/shm", false);
}

static void
should_keep_a_killed_dataplanes_ring_on_hugetlbfs(void **state)
{
	(void)state;
	char dir[256], err[256];
	if (weir_hugetlbfs_dir(NULL, dir, sizeof(dir), err, sizeof(err)) != 0)
		skip(); /* no hugetlbfs here: the --no-huge case above stands */
	struct statfs fs;
	assert_int_equal(statfs(dir, &fs), 0);
	assert_int_equal((unsigned long)fs.f_type, HUGETLBFS);
	check_outlives_a_killed_dataplane(dir, true);
}

static void
should_refuse_a_huge_dir_that_is_not_hugetlbfs(void **state)
{
	(void)state;
	char dir[256], err[256];
	assert_int_equal(weir_hugetlbfs_dir("/tmp", dir, sizeof(dir), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/tmp is not a hugetlbfs mount"));
	assert_int_equal(weir_hugetlbfs_dir("/nonexistent-weir", dir, sizeof(dir), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

static void
should_see_a_lock_held_only_while_its_holder_holds_it(void **state)
{
	(void)state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "/dev/shm/unit-lock-%d", (int)getpid());
	unlink(path);
	assert_false(weir_lockfile_held(path)); /* no file */
	int fd = weir_lockfile_take(path, "test lock", err, sizeof(err));
	assert_true(fd >= 0);
	assert_true(weir_lockfile_held(path));
	assert_true(weir_lockfile_held(path)); /* looking does not take it */
	close(fd);
	assert_false(weir_lockfile_held(path));
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_keep_a_killed_dataplanes_ring_in_dev_shm),
		cmocka_unit_test(should_keep_a_killed_dataplanes_ring_on_hugetlbfs),
		cmocka_unit_test(should_refuse_a_huge_dir_that_is_not_hugetlbfs),
		cmocka_unit_test(should_see_a_lock_held_only_while_its_holder_holds_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
