/* A fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) leaves one
 * line on standard error (the journal) saying which, where (the address,
 * or the sender's pid) and in which thread, then a backtrace; the process
 * still dies of that signal: the exit status and a core file are as before. */
#ifndef WEIR_CRASH_H
#define WEIR_CRASH_H

/* Once, early, before any thread starts (they inherit the handlers).
 * Not under a sanitizer, which reports these itself. */
void weir_crash_trace_install(const char *prog);

#endif
