/* A whole decimal number as the config and the tools' command lines take
 * it, and as weir-export writes it (a header a record: no printf). */
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

/* v in decimal at out (at least 21 bytes), NUL-ended; its length. */
static inline unsigned
weir_format_u64(char *out, uint64_t v)
{
	char tmp[20];
	unsigned n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (unsigned i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = 0;
	return n;
}

#endif
