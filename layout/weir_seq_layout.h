/*
 * The sequence tracker's table as other processes see it: one shared region
 * per worker ("seq.N"): a versioned header, the source states, their report
 * figures, then the gap pool.  Written by the worker alone; weir-stat and the
 * shutdown report read it.
 */
#ifndef WEIR_SEQ_LAYOUT_H
#define WEIR_SEQ_LAYOUT_H

#include <stdint.h>

#include "weir_record.h"

#define WEIR_SEQ_MAGIC 0x5145535249455721ull /* "!WEIRSEQ" */
#define WEIR_SEQ_VERSION 3u

/* Where a source's events come from and go: set when it is first seen. */
struct weir_seq_origin {
	uint16_t topic;              /* where its LOSS records go */
	uint16_t port;               /* where it arrived (re-requests leave from there) */
	uint8_t decoder;             /* the owner's decoder index */
	uint8_t can_request;         /* its feed has a retransmission server */
};

/* Hot state of one source: one cache line. */
struct weir_seq_source {
	uint8_t key[WEIR_SOURCE_BYTES];
	uint64_t next_seq;           /* one past the highest sequence seen */
	uint64_t last_seen_ns;
	/* Persisted (in order, ahead, late fills): here, not with the cold
	 * figures, so an in-order packet touches this one line alone (at a
	 * million sources, a second line a packet cost 60 ns: perf/README.md). */
	uint64_t events;
	uint32_t first_gap;          /* its lowest open gap (pool index), or WEIR_SEQ_NONE */
	/* A and B lines: the low 32 bits of one past the highest sequence each
	 * line brought (never above next_seq, so the rest follows from it). */
	uint32_t line_next_lo[2];
	uint16_t n_gaps;
	uint8_t state;               /* enum weir_seq_source_state */
	uint8_t started;             /* next_seq is known */
	struct weir_seq_origin origin;
	uint8_t lines;               /* its feed has A and B lines */
	uint8_t line_flags;          /* WEIR_SEQ_LINE_*: when the cold line state needs a look */
};
_Static_assert(sizeof(struct weir_seq_source) == 64, "source state is one cache line");

enum weir_seq_source_state { WEIR_SEQ_SRC_EMPTY = 0, WEIR_SEQ_SRC_ACTIVE, WEIR_SEQ_SRC_CLOSED };

/* line_flags: line ab has skipped bits (1 << ab); what lies below
 * lines_floor is new to the feed (a fresh start, not a restored source);
 * line ab's last skip was a heartbeat's and it has brought no event since
 * (its next skip, if it starts there, goes on the same gap run). */
#define WEIR_SEQ_LINE_SKIPS(ab) (1u << (ab))
#define WEIR_SEQ_LINE_FLOOR 4u
#define WEIR_SEQ_LINE_RUN_OPEN(ab) (8u << (ab))

/* Cold per-source figures for the loss report, beside the hot table. */
struct weir_seq_source_stats {
	uint64_t first_seen_ns;
	uint64_t next_request_ns;    /* rate limit: no re-request for the source before this */
	uint64_t duplicates;
	uint64_t late_fills;
	uint64_t gaps_opened;
	uint64_t events_missing;     /* sum of the sizes of the gaps opened */
	uint64_t events_lost;
	uint64_t requests_sent;
	/* rx time - event time, for framings that carry event time */
	uint64_t lateness_max_ns;
	uint64_t lateness_sum_ns;
	uint64_t lateness_count;
	uint64_t arbitrated;         /* second copies from the other line: not persisted */
	uint64_t line_fills;         /* one line's misses the other line brought in time */
	/* A and B lines, read only when line_flags says: the lowest sequence
	 * number either line brought (below it, nothing was seen), and per
	 * line the 64 numbers below where it stands, bit i set while the line
	 * has not brought line_next - 1 - i (it passed over it). */
	uint64_t lines_floor;
	uint64_t line_skipped[2];
};
_Static_assert(sizeof(struct weir_seq_source_stats) == 128, "report figures are two cache lines");

struct weir_seq_region {
	uint64_t magic;
	uint32_t version;            /* stored last */
	uint32_t worker;
	uint32_t capacity;           /* source slots */
	uint32_t max_gaps;
	uint8_t pad[40];
	/* struct weir_seq_source sources[capacity];
	 * struct weir_seq_source_stats stats[capacity];
	 * gap pool (the worker's alone) */
};
_Static_assert(sizeof(struct weir_seq_region) == 64, "region header is one cache line");

static inline const struct weir_seq_source *
weir_seq_region_sources(const struct weir_seq_region *r)
{
	return (const struct weir_seq_source *)(r + 1);
}

static inline const struct weir_seq_source_stats *
weir_seq_region_stats(const struct weir_seq_region *r)
{
	return (const struct weir_seq_source_stats *)(weir_seq_region_sources(r) + r->capacity);
}

/* Calls fn for every source the workers' regions track (a region still
 * being laid out, or not weir's, is passed over). */
static inline void
weir_seq_for_each_source(const struct weir_seq_region *const *regions, unsigned n,
			 void (*fn)(unsigned worker, const struct weir_seq_source *src,
				    const struct weir_seq_source_stats *st, void *ctx),
			 void *ctx)
{
	for (unsigned w = 0; w < n; w++) {
		const struct weir_seq_region *r = regions[w];
		if (r == NULL || r->magic != WEIR_SEQ_MAGIC ||
		    __atomic_load_n(&r->version, __ATOMIC_ACQUIRE) != WEIR_SEQ_VERSION)
			continue;
		const struct weir_seq_source *src = weir_seq_region_sources(r);
		const struct weir_seq_source_stats *st = weir_seq_region_stats(r);
		for (uint32_t i = 0; i < r->capacity; i++)
			if (src[i].state != WEIR_SEQ_SRC_EMPTY)
				fn(r->worker, &src[i], &st[i], ctx);
	}
}

#endif
