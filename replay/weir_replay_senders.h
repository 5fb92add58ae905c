/*
 * A log keyed by sender (sequence key source+sender) can hold one session
 * name from two senders; on the wire a session is its name alone, and a
 * replay sends from one address, so the two would become one session with
 * every number twice.  The first sender of each name a replay sends claims
 * it; another sender of that name is refused (the replay names both: give
 * --sources NAME@SENDER).  Keys without a sender claim nothing.
 */
#ifndef WEIR_REPLAY_SENDERS_H
#define WEIR_REPLAY_SENDERS_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_record.h"

#define WEIR_REPLAY_SENDER_SLOTS 131072 /* names claimed: half of it, then no more are checked */

struct weir_replay_senders {
	unsigned n;
	bool full;                   /* names past the bound went unchecked */
	struct weir_replay_sender_slot {
		uint8_t key[WEIR_SOURCE_BYTES]; /* the claiming source's whole key */
		bool used;
	} *slot;
};

/* key's name for key's sender: true when it is key's (claimed now or
 * before, or past the bound); false when another sender claimed it (other:
 * its key).  The table is made at the first claim (a zeroed t is empty). */
bool weir_replay_senders_claim(struct weir_replay_senders *t, const uint8_t key[WEIR_SOURCE_BYTES],
			       const uint8_t **other);
void weir_replay_senders_free(struct weir_replay_senders *t);

#endif
