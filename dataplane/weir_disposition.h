/*
 * What became of one packet: one disposition, said by the stage that
 * decided it and counted in one place (weir_dispositions_count), so the
 * accounting identity
 *   rx_packets = accepted + filtered + dead_letter + ring_full
 * holds by construction: no stage increments those counters itself.  A
 * burst's dispositions are written to an array and counted once per burst,
 * in the manner of VPP's next[] and error counters.
 */
#ifndef WEIR_DISPOSITION_H
#define WEIR_DISPOSITION_H

#include <stdint.h>

#include "weir_info.h"

enum weir_disposition {
	WEIR_DISP_ACCEPTED,              /* decoded whole, its records committed (or none owed) */
	WEIR_DISP_SECOND_COPY,           /* a feed line's whole second copy: accepted, nothing kept */
	WEIR_DISP_RING_FULL,             /* good, dropped whole: no ring room */
	WEIR_DISP_RING_FULL_AT_STOP,     /* the same, refused by a stopping worker (counted as ring full) */
	WEIR_DISP_FILTERED,              /* not for weir: not IP/UDP, or no decoder on its port */
	WEIR_DISP_NOT_JOINED,            /* filtered: a group the feed does not join */
	WEIR_DISP_WRONG_SOURCE,          /* filtered: a source-specific group's packet from another sender */
	WEIR_DISP_UNAUTHORIZED_ADDRESS,  /* filtered: an address not on the decoder's allowlist */
	WEIR_DISP_UNAUTHORIZED_SOURCE,   /* filtered: a session or source id not on the decoder's list */
	WEIR_DISP_DEAD_LETTER,           /* malformed: + its enum weir_dead_letter_reason */
	WEIR_DISP_MAX = WEIR_DISP_DEAD_LETTER + WEIR_DL_MAX
};

_Static_assert(WEIR_DISP_MAX <= 256, "a burst keeps its dispositions in bytes");

static inline uint8_t
weir_disp_dead_letter(unsigned reason)
{
	return (uint8_t)(WEIR_DISP_DEAD_LETTER + reason);
}

/* One packet taken from an RX queue and what became of it. */
static inline void
weir_disposition_count(struct weir_worker_counters *c, unsigned d)
{
	c->rx_packets++;
	if (__builtin_expect(d <= WEIR_DISP_SECOND_COPY, 1)) {
		c->accepted_packets++;
	} else if (d <= WEIR_DISP_RING_FULL_AT_STOP) {
		c->ring_full_packets++;
	} else if (d >= WEIR_DISP_DEAD_LETTER) {
		c->dead_letter_packets++;
		c->dead_letter[d - WEIR_DISP_DEAD_LETTER]++;
	} else {
		c->filtered_packets++;
		c->filtered_not_joined += d == WEIR_DISP_NOT_JOINED;
		c->filtered_wrong_source += d == WEIR_DISP_WRONG_SOURCE;
		c->filtered_unauthorized_address += d == WEIR_DISP_UNAUTHORIZED_ADDRESS;
		c->filtered_unauthorized_source += d == WEIR_DISP_UNAUTHORIZED_SOURCE;
	}
}

/* n packets taken from the RX queues and what became of each. */
static inline void
weir_dispositions_count(struct weir_worker_counters *c, const uint8_t *disp, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		weir_disposition_count(c, disp[i]);
}

#endif
