/* Failpoints: a process armed with WEIR_FAILPOINT=NAME:N dies of SIGKILL
 * at the Nth pass of NAME, not before, and not at any other point; unarmed
 * (or armed badly) it never dies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "weir_failpoint.h"

/* In a child armed with env: passes of "other" and of "roll"; exits with
 * how many passes of "roll" it survived. */
static int
run_child(const char *env, int passes)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (env)
			setenv("WEIR_FAILPOINT", env, 1);
		else
			unsetenv("WEIR_FAILPOINT");
		for (int i = 0; i < 10; i++)
			weir_failpoint("other");
		int survived = 0;
		for (int i = 0; i < passes; i++, survived++)
			weir_failpoint("roll");
		_exit(survived);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void
should_never_die_unarmed_or_armed_badly(void **state)
{
	(void)state;
	const char *envs[] = { NULL, "", "roll", "roll:0", "roll:-3", ":2" };
	for (unsigned i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		int st = run_child(envs[i], 5);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 5);
	}
}

static void
should_die_of_sigkill_at_the_nth_pass_of_its_point_only(void **state)
{
	(void)state;
	int st = run_child("roll:3", 5);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	st = run_child("roll:6", 5); /* never reached */
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 5);
	st = run_child("commit:1", 5); /* another point */
	assert_true(WIFEXITED(st));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_never_die_unarmed_or_armed_badly),
		cmocka_unit_test(should_die_of_sigkill_at_the_nth_pass_of_its_point_only),
	};
	return cmocka_run_group_tests_name("failpoint", tests, NULL, NULL);
}
