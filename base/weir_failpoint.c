#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weir_failpoint.h"

static char armed[64];
static long countdown = -1; /* -1: not read yet; 0: none armed */

static void
arm(void)
{
	const char *v = getenv("WEIR_FAILPOINT");
	const char *colon = v ? strchr(v, ':') : NULL;
	countdown = 0;
	if (colon == NULL || (size_t)(colon - v) >= sizeof(armed))
		return;
	memcpy(armed, v, (size_t)(colon - v));
	armed[colon - v] = 0;
	countdown = strtol(colon + 1, NULL, 10);
	if (countdown < 0)
		countdown = 0;
}

void
weir_failpoint(const char *name)
{
	if (countdown < 0)
		arm();
	if (countdown == 0 || strcmp(name, armed) != 0 || --countdown > 0)
		return;
	char line[128];
	int n = snprintf(line, sizeof(line), "weir: failpoint %s: killing myself (WEIR_FAILPOINT)\n", name);
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
	}
	raise(SIGKILL);
}
