/* The record: what a worker commits to its ring and the log stores verbatim. */
#ifndef WEIR_RECORD_H
#define WEIR_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

enum weir_record_kind {
	WEIR_REC_PAD = 0,            /* ring only: fills the space up to the wrap */
	WEIR_REC_EVENT = 1,
	WEIR_REC_LOSS = 2,
	WEIR_REC_HEARTBEAT = 3,     /* reserved, never written: heartbeats are counted, not logged */
	WEIR_REC_END_OF_SESSION = 4,
	WEIR_REC_DEAD_LETTER = 5,
	WEIR_REC_KIND_MAX
};

enum weir_record_flag {
	WEIR_REC_F_DUPLICATE = 1u << 0, /* reserved, never written: duplicates are counted, not logged */
	WEIR_REC_F_LATE = 1u << 1,
	WEIR_REC_F_RETRANSMITTED = 1u << 2,
	WEIR_REC_F_TRUNCATED = 1u << 3, /* dead letter: payload holds only the first bytes */
	WEIR_REC_F_NIC_TIME = 1u << 4,  /* rx_ns is the NIC's receive timestamp; else the worker's TSC clock at the burst */
};
#define WEIR_REC_FLAG_BITS 5
/* The flags' names by bit, as weir-read and the Kafka headers print them. */
extern const char *const weir_record_flag_names[WEIR_REC_FLAG_BITS];
/* flags as names joined by commas into out ("" for none). */
void weir_record_flags_format(unsigned flags, char *out, size_t len);

#define WEIR_SOURCE_BYTES 16

/*
 * Fixed 64-byte header, then n_rules u32 rule ids, then the payload.
 * Host byte order (both processes run on one host; the log is read there too).
 * A record starts 8-byte aligned; len_bytes is unaligned, the next record
 * starts at WEIR_ALIGN8(len_bytes).
 */
struct weir_record {
	uint32_t len_bytes;
	uint16_t kind;
	uint16_t flags;
	uint16_t topic;
	uint16_t n_rules;
	uint16_t reason;             /* dead letter: enum weir_dead_letter_reason */
	uint16_t port;
	uint8_t source[WEIR_SOURCE_BYTES]; /* MoldUDP64: 10-byte session, zero padded */
	uint64_t seq;
	uint64_t count;              /* LOSS: events lost from seq on */
	uint64_t rx_ns;              /* UNIX ns it was received: its burst's (TSC), or the NIC's (flag nic_time) */
	uint64_t event_time_ns;      /* 0 when the framing carries none */
};
_Static_assert(sizeof(struct weir_record) == 64, "record header is one cache line");

#define WEIR_ALIGN8(x) (((x) + 7u) & ~(uint64_t)7u)

static inline const uint32_t *
weir_record_rules(const struct weir_record *r)
{
	return (const uint32_t *)(r + 1);
}

static inline const uint8_t *
weir_record_payload(const struct weir_record *r)
{
	return (const uint8_t *)(r + 1) + 4u * r->n_rules;
}

static inline uint32_t
weir_record_payload_len(const struct weir_record *r)
{
	return r->len_bytes - (uint32_t)sizeof(*r) - 4u * r->n_rules;
}

const char *weir_record_kind_name(unsigned kind);
/* A source key as people read it: "wf:<id>" for weir frame sources, the
 * MoldUDP64 session without its padding otherwise (unprintables as '?'). */
void weir_source_format(const uint8_t key[WEIR_SOURCE_BYTES], char *out, size_t len);
/* The key a name of weir_source_format() stands for; a MoldUDP64 session
 * shorter than 10 bytes is padded with pad (sessions are sent space padded,
 * some senders pad with NULs).  0, or -1 when it is no such name. */
int weir_source_parse(const char *name, char pad, uint8_t key[WEIR_SOURCE_BYTES]);

/* Whether two source keys name the same source, whichever sender qualifies
 * them ("sequence key source+sender" writes the sender's address into the
 * key: bytes 10-15 of a MoldUDP64 session's, 3-6 of a weir frame's). */
static inline bool
weir_source_same_identity(const uint8_t a[WEIR_SOURCE_BYTES], const uint8_t b[WEIR_SOURCE_BYTES])
{
	if (a[0] == 0xFF) /* weir frame: 0xFF 'W' 'F', sender, then the source id */
		return __builtin_memcmp(a, b, 3) == 0 && __builtin_memcmp(a + 7, b + 7, 9) == 0;
	return __builtin_memcmp(a, b, 10) == 0;
}

/* Whether a source key has its sender in it (those bytes not all zero). */
static inline bool
weir_source_has_sender(const uint8_t key[WEIR_SOURCE_BYTES])
{
	if (key[0] == 0xFF)
		return (key[3] | key[4] | key[5] | key[6]) != 0;
	return (key[10] | key[11] | key[12] | key[13] | key[14] | key[15]) != 0;
}

#endif
