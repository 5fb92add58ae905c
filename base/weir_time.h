/* Clocks for the slow paths (the workers read the TSC once per burst). */
#ifndef WEIR_TIME_H
#define WEIR_TIME_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t
weir_clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* UNIX time: heartbeats and rx times other processes compare. */
static inline uint64_t
weir_realtime_ns(void)
{
	return weir_clock_ns(CLOCK_REALTIME);
}

/* For measuring how long something took. */
static inline uint64_t
weir_monotonic_ns(void)
{
	return weir_clock_ns(CLOCK_MONOTONIC);
}

/* A command-line number of seconds, at least min_s; -1 when it is not one. */
static inline int
weir_parse_seconds(const char *s, double min_s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= min_s))
		return -1;
	*out = v;
	return 0;
}

#endif
