#ifndef WEIR_EAL_ARGS_H
#define WEIR_EAL_ARGS_H
#include "weir_config.h"

/* argv for a primary's rte_eal_init (argv: WEIR_MAX_EAL_ARGS + 8 slots):
 * prog, the file's eal args, the command line's extra ones, and an lcore
 * list (a main lcore apart from the workers, then the workers) when
 * neither gave one.  weir-dataplane's and weir-replay's.  -1 when too many. */
int weir_eal_args_primary(struct weir_config *cfg, const char *prog, int extra_argc, char **extra_argv, char **argv,
			  int *argc);

#endif
