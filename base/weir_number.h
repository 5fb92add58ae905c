/* A whole decimal number as the config and the tools' command lines take it. */
#ifndef WEIR_NUMBER_H
#define WEIR_NUMBER_H

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* s, all of it, a whole number: 0, or -1 (a sign, a space, nothing, too big). */
static inline int
weir_parse_u64(const char *s, uint64_t *v)
{
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	char *end;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

#endif
