/* libFuzzer: arbitrary pmd-config bytes, NULs and control bytes included,
 * parsed by length.  Always an answer (0, or errors each "NAME:LINE: ..."),
 * never a crash or an overrun. */
#include <stdlib.h>
#include <string.h>

#include "weir_config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct weir_config cfg;
	static char err[4096];
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = 0; /* one past the end: what a file read leaves, never read as content */
	int rc = weir_config_parse_bytes(text, size, "f.conf", &cfg, err, sizeof(err));
	if (rc != 0 && strncmp(err, "f.conf:", 7) != 0)
		abort();
	free(text);
	return 0;
}
