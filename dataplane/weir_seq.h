/*
 * Sequence integrity, per source: which events arrived in order, twice, late
 * (filling a known gap) or ahead (opening a gap); which gaps to re-request,
 * and which to declare lost at their deadline.  Pure C with time passed in
 * (the worker reads the TSC once per burst), so tests drive it with
 * synthetic time.  Everything is preallocated; nothing allocates after
 * weir_seq_create().
 */
#ifndef WEIR_SEQ_H
#define WEIR_SEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_config.h"
#include "weir_record.h"
#include "weir_shared.h"

#define WEIR_SEQ_NONE UINT32_MAX

enum weir_seq_class {
	WEIR_SEQ_IN_ORDER,           /* the next one expected */
	WEIR_SEQ_AHEAD,              /* beyond the next expected: opened a gap below it */
	WEIR_SEQ_LATE_FILL,          /* below the next expected, inside an open gap */
	WEIR_SEQ_DUPLICATE,          /* seen before (or already declared lost): not persisted */
	WEIR_SEQ_UNTRACKED,          /* source table full, policy untracked: passed on as is */
	WEIR_SEQ_DROPPED,            /* source table full, policy drop */
};

/* Hot state of one source: one cache line. */
struct weir_seq_source {
	uint8_t key[WEIR_SOURCE_BYTES];
	uint64_t next_seq;           /* one past the highest sequence seen */
	uint64_t last_seen_ns;
	uint64_t next_request_ns;    /* rate limit: no re-request for it before this */
	uint32_t first_gap;          /* its lowest open gap (pool index), or WEIR_SEQ_NONE */
	uint16_t n_gaps;
	uint8_t state;               /* enum weir_seq_source_state */
	uint8_t started;             /* next_seq is known */
	struct weir_seq_origin {
		uint16_t topic;      /* where its LOSS records go */
		uint16_t port;       /* where it arrived (re-requests leave from there) */
		uint8_t decoder;     /* the owner's decoder index */
		uint8_t can_request; /* its feed has a retransmission server */
	} origin;
	uint8_t pad1[10];
};
_Static_assert(sizeof(struct weir_seq_source) == 64, "source state is one cache line");

enum weir_seq_source_state { WEIR_SEQ_SRC_EMPTY = 0, WEIR_SEQ_SRC_ACTIVE, WEIR_SEQ_SRC_CLOSED };

/* Cold per-source figures for the loss report, beside the hot table. */
struct weir_seq_source_stats {
	uint64_t first_seen_ns;
	uint64_t events;             /* persisted: in order, ahead, late fills */
	uint64_t duplicates;
	uint64_t late_fills;
	uint64_t gaps_opened;
	uint64_t events_missing;     /* sum of the sizes of the gaps opened */
	uint64_t events_lost;
	uint64_t requests_sent;
};

struct weir_seq_gap {
	uint64_t first, last;        /* missing sequences, inclusive */
	uint64_t opened_ns;
	uint64_t next_request_ns;
	uint32_t source;             /* table index */
	uint32_t next_in_source;     /* the source's gaps, ascending */
	uint32_t prev_open, next_open; /* every open gap of this worker, oldest first */
	uint16_t requests;
	uint8_t pad[14];
};
_Static_assert(sizeof(struct weir_seq_gap) == 64, "gap is one cache line");

/* What the tracker asks its owner to do; the owner commits the records and
 * sends the packets. */
struct weir_seq_actions {
	void *ctx;
	/* A gap is lost for good: write a LOSS record (first, count). */
	void (*loss)(void *ctx, const struct weir_seq_source *src, uint64_t first, uint64_t count, uint64_t now_ns);
	/* Ask the source's retransmission server for count events from first;
	 * false when it could not be sent (counted by the owner). */
	bool (*request)(void *ctx, const struct weir_seq_source *src, uint64_t first, uint64_t count);
};

struct weir_seq_table {
	struct weir_sequence_cfg cfg;
	struct weir_seq_source *sources;       /* capacity entries */
	struct weir_seq_source_stats *stats;   /* capacity entries */
	struct weir_seq_gap *gaps;             /* cfg.max_gaps entries */
	uint32_t capacity, mask;
	uint32_t free_gap;                     /* free list through next_in_source */
	uint32_t oldest_open, newest_open;
	uint32_t n_open;
	struct weir_seq_actions act;
	struct weir_worker_counters *c;        /* the owner's block: the .def counters */
};

/* mem_alloc/free let the dataplane place the table in hugepage memory.
 * Re-requests are made only when act->request is set. */
int weir_seq_create(struct weir_seq_table *t, const struct weir_sequence_cfg *cfg, const struct weir_seq_actions *act,
		    struct weir_worker_counters *counters, void *(*mem_alloc)(size_t bytes), void (*mem_free)(void *));
void weir_seq_destroy(struct weir_seq_table *t, void (*mem_free)(void *));
/* Bytes weir_seq_create() will ask for: for sizing hugepage reservations. */
uint64_t weir_seq_memsize(const struct weir_sequence_cfg *cfg);

/* The source's state, created on first sight; NULL when the table is full. */
struct weir_seq_source *weir_seq_source(struct weir_seq_table *t, const uint8_t key[WEIR_SOURCE_BYTES],
					struct weir_seq_origin origin, uint64_t now_ns);

/* One event of src with sequence seq. src NULL: the table was full. */
enum weir_seq_class weir_seq_event(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t seq,
				   uint64_t now_ns);
/* A heartbeat (or end of session) saying next_seq is next: reveals a gap at the tail. */
void weir_seq_heartbeat(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t next_seq, uint64_t now_ns);
/* End of session: a heartbeat that closes the source; data after it restarts it. */
void weir_seq_end_of_session(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t next_seq,
			     uint64_t now_ns);
/* Re-requests due and deadlines passed; returns the gaps it acted on. */
unsigned weir_seq_tick(struct weir_seq_table *t, uint64_t now_ns);
/* Stopping: every gap still open is lost (LOSS records). */
void weir_seq_flush(struct weir_seq_table *t, uint64_t now_ns);

static inline uint32_t
weir_seq_index(const struct weir_seq_table *t, const struct weir_seq_source *src)
{
	return (uint32_t)(src - t->sources);
}

#endif
