#define _GNU_SOURCE /* pthread_getname_np, sigabbrev_np */
#include "weir_crash.h"

#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static const char *crash_prog = "weir";

/* The handler may only use what is async-signal-safe: write(2), and
 * numbers formatted by hand. */
static void
put(const char *s)
{
	ssize_t rc = write(STDERR_FILENO, s, strlen(s));
	(void)rc;
}

static void
put_number(uintptr_t v, unsigned base)
{
	char buf[24], *p = buf + sizeof(buf);
	*--p = '\0';
	do {
		*--p = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (base == 16)
		put("0x");
	put(p);
}

static void
on_fatal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	char thread[16] = "?";
	pthread_getname_np(pthread_self(), thread, sizeof(thread)); /* a prctl: async-signal-safe in practice */
	put(crash_prog);
	put(": fatal signal ");
	put_number((uintptr_t)sig, 10);
	put(" (");
	put(sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	if (si->si_code <= 0) { /* kill(2), tgkill(2), abort(3): no faulting address */
		put(") sent by pid ");
		put_number((uintptr_t)si->si_pid, 10);
	} else {
		put(") at address ");
		put_number((uintptr_t)si->si_addr, 16);
	}
	put(" in thread ");
	put(thread);
	put("; backtrace:\n");
	void *frames[48];
	int n = backtrace(frames, 48);
	backtrace_symbols_fd(frames, n, STDERR_FILENO);
	/* SA_RESETHAND left the default action: returning re-runs the faulting
	 * instruction (or raise() sends it again) and the process dies of it. */
	if (si->si_code <= 0 || sig == SIGABRT)
		raise(sig);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WEIR_UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define WEIR_UNDER_SANITIZER 1
#endif
#endif

void
weir_crash_trace_install(const char *prog)
{
#ifdef WEIR_UNDER_SANITIZER
	(void)prog;
#else
	crash_prog = prog;
	void *warm[1];
	backtrace(warm, 1); /* loads libgcc now: the handler must not be first to */
	struct sigaction sa = { .sa_sigaction = on_fatal, .sa_flags = SA_SIGINFO | SA_RESETHAND };
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
#endif
}
