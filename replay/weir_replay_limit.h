/*
 * Re-requests a requester may make: a token bucket per requester (address
 * and port), rate a second with a burst, in a table of fixed size that
 * forgets the requester heard from longest ago when full.  A flood from one
 * requester spends its own bucket only.
 */
#ifndef WEIR_REPLAY_LIMIT_H
#define WEIR_REPLAY_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_endpoint.h"

#define WEIR_REPLAY_REQUESTERS 1024

struct weir_replay_limiter {
	double rate, burst;
	unsigned n;
	struct weir_replay_requester {
		union weir_sockaddr who;
		double tokens;
		uint64_t last_ns;
	} r[WEIR_REPLAY_REQUESTERS];
};

void weir_replay_limit_init(struct weir_replay_limiter *l, double rate, double burst);
/* Whether who may make one more request at now_ns (taking its token). */
bool weir_replay_limit_take(struct weir_replay_limiter *l, const union weir_sockaddr *who, uint64_t now_ns);

#endif
