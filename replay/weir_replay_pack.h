/*
 * Packets again from a log's event records, each source in its own
 * framing: MoldUDP64 for a session, weir frames (docs/weir-frame.md) for a
 * weir frame source, with the events' own event times.  The events of one
 * source with consecutive sequence numbers share a packet, up to a payload
 * size and a message count, and (when paced) only those received together,
 * so a replay at its recorded pace sends the feed's own packets again.  A
 * hole in a source's numbers (what the log says was lost, or events of
 * another source in between) starts a new packet.  Pure: no I/O.
 */
#ifndef WEIR_REPLAY_PACK_H
#define WEIR_REPLAY_PACK_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_record.h"

#define WEIR_REPLAY_PAYLOAD_MAX 9000u /* a jumbo frame's UDP payload at most */

struct weir_replay_packet {
	uint8_t key[WEIR_SOURCE_BYTES];
	uint64_t first_seq;          /* data: its first event's; control: the next expected */
	uint64_t rx_ns;              /* its first event's receive time: when it is due */
	uint16_t count;              /* messages, or WEIR_MOLD_HEARTBEAT / _END_OF_SESSION (either framing) */
	bool wf;                     /* a weir frame, not MoldUDP64 */
	uint32_t len;                /* bytes in buf; 0: no packet open */
	uint8_t buf[WEIR_REPLAY_PAYLOAD_MAX];
};

struct weir_replay_packer {
	uint32_t max_payload;        /* UDP payload bytes a packet may take */
	uint16_t max_messages;
	bool by_time;                /* only events received together share a packet */
	struct weir_replay_packet pkt; /* the open one */
};

void weir_replay_packer_init(struct weir_replay_packer *pk, uint32_t max_payload, uint16_t max_messages,
			     bool by_time);
/* Whether an event of len bytes can join the packet open now; false: send
 * that one first (or none is open). */
bool weir_replay_joins(const struct weir_replay_packer *pk, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t seq,
		       uint64_t rx_ns, uint32_t len);
/* Adds the event to the open packet, opening one when none is (call
 * weir_replay_joins() first); false when one event alone could never fit.
 * event_ns: weir frames carry it. */
bool weir_replay_add(struct weir_replay_packer *pk, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t seq,
		     uint64_t rx_ns, uint64_t event_ns, const uint8_t *payload, uint16_t len);
/* A control packet alone in p: count WEIR_MOLD_END_OF_SESSION or
 * WEIR_MOLD_HEARTBEAT (a weir frame's end of source flag, or its count 0),
 * next_seq the next sequence expected. */
void weir_replay_control(struct weir_replay_packet *p, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t next_seq,
			 uint16_t count, uint64_t rx_ns);
/* Whether a source's key can be a MoldUDP64 session: weir frame sources
 * (their own key space) cannot. */
bool weir_replay_mold_source(const uint8_t key[WEIR_SOURCE_BYTES]);

#endif
