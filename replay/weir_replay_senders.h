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
#include "weir_source_map.h"

struct weir_replay_senders {
	struct weir_source_map names;     /* a name (its key, sender cleared) -> its claimer in keys */
	uint8_t (*keys)[WEIR_SOURCE_BYTES];
	uint32_t cap;
};

enum weir_replay_claim {
	WEIR_REPLAY_CLAIMED,              /* key's name is key's (claimed now or before) */
	WEIR_REPLAY_CLAIMED_BY_OTHER,     /* another sender's: *other is its key */
	WEIR_REPLAY_CLAIM_NO_MEMORY,
};

/* key's name for key's sender, however many names (a zeroed t is empty). */
enum weir_replay_claim weir_replay_senders_claim(struct weir_replay_senders *t, const uint8_t key[WEIR_SOURCE_BYTES],
						 const uint8_t **other);
void weir_replay_senders_free(struct weir_replay_senders *t);

#endif
