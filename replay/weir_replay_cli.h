/* weir-replay's subcommands (weir_replay_main.c dispatches). */
#ifndef WEIR_REPLAY_CLI_H
#define WEIR_REPLAY_CLI_H

#include <stdio.h>

/* Exit codes, as the usages say. */
enum { WEIR_REPLAY_OK = 0, WEIR_REPLAY_FAIL = 1, WEIR_REPLAY_USAGE = 2, WEIR_REPLAY_EMPTY = 4 };

/* argv[0] is "serve". */
int weir_replay_serve_main(int argc, char **argv, volatile int *quit);
void weir_replay_serve_usage(FILE *f);

#endif
