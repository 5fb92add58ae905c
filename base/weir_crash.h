/* A fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) leaves one
 * line saying which, where (the address, or the sender's pid) and in which
 * thread, and a backtrace, on
 * standard error (the journal), then kills the process with that signal
 * as before: the exit status and a core file are unchanged. */
#ifndef WEIR_CRASH_H
#define WEIR_CRASH_H

/* Once, early, before any thread starts (they inherit the handlers).
 * Not under a sanitizer, which reports these itself. */
void weir_crash_trace_install(const char *prog);

#endif
