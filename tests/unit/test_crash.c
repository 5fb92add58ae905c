/* A fatal signal leaves its line and a backtrace on standard error, and
 * the process still dies of that signal (exit status, core file).  Each
 * case crashes a child and reads what it wrote. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "weir_crash.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1 /* the sanitizer reports these itself; nothing is installed */
#endif

static char out[8192];
static pid_t child_pid;

static void
read_null(void)
{
	volatile int *p = NULL;
	(void)*p;
}

static void *
crash_in_thread(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "rte-worker-7");
	read_null();
	return NULL;
}

/* Runs how() in a child with the trace installed; its stderr into out,
 * its wait status returned. */
static int
crash_child(void (*how)(void))
{
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	pid_t pid = child_pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 }); /* no core file from a test */
		dup2(fd[1], STDERR_FILENO);
		close(fd[0]);
		weir_crash_trace_install("weir-test");
		how();
		_exit(0); /* not reached: the crash is the test */
	}
	close(fd[1]);
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(out) - 1 && (n = read(fd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fd[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
segv_in_a_named_thread(void)
{
	pthread_t t;
	pthread_create(&t, NULL, crash_in_thread, NULL);
	pthread_join(t, NULL);
}

static void
abort_now(void)
{
	abort();
}

static void
bus_sent_by_kill(void)
{
	kill(getpid(), SIGBUS);
}

/* The child run by how() died of sig, and its last words hold want (a
 * format: %d is the child's pid) and at least one frame. */
static void
expect_death(void (*how)(void), int sig, const char *want_fmt)
{
	int status = crash_child(how);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), sig);
	char want[160];
	snprintf(want, sizeof(want), want_fmt, (int)child_pid);
	if (strstr(out, want) == NULL || strstr(out, "[0x") == NULL) { /* a frame of backtrace_symbols_fd */
		print_error("wanted \"%s\" and a frame, got:\n%s\n", want, out);
		fail();
	}
}

static void
should_name_the_signal_the_address_and_the_thread_and_still_die_of_it(void **state)
{
	(void)state;
#ifdef UNDER_SANITIZER
	skip();
#endif
	expect_death(segv_in_a_named_thread, SIGSEGV,
		     "weir-test: fatal signal 11 (SEGV) at address 0x0 in thread rte-worker-7; backtrace:\n");
}

static void
should_trace_an_abort_and_a_signal_sent_from_outside_too(void **state)
{
	(void)state;
#ifdef UNDER_SANITIZER
	skip();
#endif
	expect_death(abort_now, SIGABRT, "weir-test: fatal signal 6 (ABRT) sent by pid %d in thread");
	/* kill(2) faults nothing: the handler sends it again */
	expect_death(bus_sent_by_kill, SIGBUS, "weir-test: fatal signal 7 (BUS) sent by pid %d in thread");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_name_the_signal_the_address_and_the_thread_and_still_die_of_it),
		cmocka_unit_test(should_trace_an_abort_and_a_signal_sent_from_outside_too),
	};
	return cmocka_run_group_tests_name("crash", tests, NULL, NULL);
}
