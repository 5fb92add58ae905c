/* A primary's EAL command line, from the pmd-config and the command line. */
#include <stdio.h>
#include <string.h>

#include "weir_eal_args.h"

static bool
eal_has_lcores(const struct weir_config *cfg)
{
	for (int i = 0; i < cfg->eal_argc; i++) {
		const char *a = cfg->eal_argv[i];
		if (!strcmp(a, "-l") || !strcmp(a, "-c") || !strncmp(a, "--lcores", 8) || !strncmp(a, "-l", 2))
			return true;
	}
	return false;
}

int
weir_eal_args_primary(struct weir_config *cfg, const char *prog, int extra_argc, char **extra_argv, char **argv,
		      int *argc)
{
	static char lcores[512];
	for (int i = 0; i < extra_argc; i++)
		if (weir_config_add_eal_arg(cfg, extra_argv[i]))
			return -1;
	int n = 0;
	argv[n++] = (char *)prog;
	argv[n++] = "--proc-type=primary";
	if (!eal_has_lcores(cfg)) {
		unsigned main_lcore = 0;
		for (bool clash = true; clash; ) {
			clash = false;
			for (unsigned i = 0; i < cfg->n_workers; i++)
				if (cfg->worker_lcores[i] == main_lcore) {
					main_lcore++;
					clash = true;
				}
		}
		int len = snprintf(lcores, sizeof(lcores), "%u", main_lcore);
		for (unsigned i = 0; i < cfg->n_workers && len < (int)sizeof(lcores) - 8; i++)
			len += snprintf(lcores + len, sizeof(lcores) - (size_t)len, ",%u", cfg->worker_lcores[i]);
		argv[n++] = "-l";
		argv[n++] = lcores;
	}
	for (int i = 0; i < cfg->eal_argc; i++)
		argv[n++] = cfg->eal_argv[i];
	argv[n] = NULL;
	*argc = n;
	return 0;
}
