/*
 * A paced replay's silences: where each source it has sent stands, so that
 * while nothing is due for a second its heartbeats say so (MoldUDP64: a
 * header with count 0 and the next sequence number), as the feed's did.  A
 * source whose end of session went is not heartbeated.
 */
#ifndef WEIR_REPLAY_IDLE_H
#define WEIR_REPLAY_IDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_record.h"
#include "weir_source_map.h"

struct weir_replay_idle {
	uint64_t every_ns;           /* 0: no heartbeats */
	uint64_t last_ns;            /* monotonic: when the last packet of any kind went */
	struct weir_source_map keys; /* key -> its index in sources */
	uint32_t cap;
	struct weir_replay_idle_source {
		uint8_t key[WEIR_SOURCE_BYTES];
		uint64_t next;
		bool ended;
	} *sources;                  /* keys.n of them, in the order they first went */
};

/* A packet of key went: the number after it is next (ended: its end of
 * session); a source's heartbeat says the highest such.  Every source is
 * kept (out of memory: one is not heartbeated). */
void weir_replay_idle_saw(struct weir_replay_idle *h, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t next,
			  bool ended);
void weir_replay_idle_free(struct weir_replay_idle *h);

#endif
