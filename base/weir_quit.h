/* SIGINT and SIGTERM ask a program to stop: its loops read weir_quit, set
 * by the handler.  For a program's main file (one flag a program; the
 * dataplane's workers read theirs as a bool, and keep their own). */
#ifndef WEIR_QUIT_H
#define WEIR_QUIT_H

#include <signal.h>

static volatile int weir_quit; /* sig_atomic_t is an int here: loops take it as volatile int * */

static inline void
weir_quit_handler(int sig)
{
	(void)sig;
	weir_quit = 1;
}

static inline void
weir_quit_on_signals(void)
{
	signal(SIGINT, weir_quit_handler);
	signal(SIGTERM, weir_quit_handler);
}

#endif
