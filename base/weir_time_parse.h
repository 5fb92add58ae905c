/* A time as the tools' command lines take it: ISO 8601 UTC
 * (2026-11-29T09:30:00.5Z, to the nanosecond) or ns since the epoch. */
#ifndef WEIR_TIME_PARSE_H
#define WEIR_TIME_PARSE_H

#include <stdint.h>

/* 0, or -1 when s is neither. */
int weir_time_parse(const char *s, uint64_t *ns);

#endif
