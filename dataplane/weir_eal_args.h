#ifndef WEIR_EAL_ARGS_H
#define WEIR_EAL_ARGS_H
#include "weir_config.h"

/* argv for the primary's rte_eal_init (argv: WEIR_MAX_EAL_ARGS + 8 slots):
 * the file's eal args, the command line's extra ones, and an lcore list
 * (main lcore + workers) when neither gave one.  -1 when too many. */
int weir_eal_args_primary(struct weir_config *cfg, int extra_argc, char **extra_argv, char **argv, int *argc);

#endif
