#define _GNU_SOURCE /* strptime, timegm */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weir_time_parse.h"

int
weir_time_parse(const char *s, uint64_t *ns)
{
	char *end;
	if (strchr(s, '-') == NULL) {
		*ns = strtoull(s, &end, 10);
		return *end || end == s ? -1 : 0;
	}
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	uint64_t frac = 0, scale = 1000000000ull;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*p - '0') * scale;
			}
	if (*p == 'Z')
		p++;
	if (*p)
		return -1;
	time_t t = timegm(&tm);
	if (t < 0)
		return -1;
	*ns = (uint64_t)t * 1000000000ull + frac;
	return 0;
}
