/*
 * The shared info region: one per dataplane, written by weir-dataplane,
 * read by weir-control and the tools.  Holds the dataplane's state, the topic
 * table and every worker's counter block.
 *
 * Who writes what: the header and topic table are written once by the
 * dataplane's main lcore before version is stored (release, last); state is
 * written by the main lcore; each counter block by its worker lcore only.
 */
#ifndef WEIR_INFO_H
#define WEIR_INFO_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_dead_letter.h"
#include "weir_hist.h"
#include "weir_ring.h"

#define WEIR_INFO_MAGIC 0x4f464e4952494557ull /* "WEIRINFO" */
#define WEIR_INFO_VERSION 6u
#define WEIR_MAX_WORKERS 64
#define WEIR_MAX_PORTS 16
#define WEIR_MAX_TOPICS 64
#define WEIR_TOPIC_NAME_MAX 32
#define WEIR_MAX_LINES 16             /* A and B lines of up to 8 feeds: line id = feed * 2 + (b) */
#define WEIR_TOPIC_DEAD_LETTER 0      /* topic 0 is always "_deadletter" */

#define WEIR_BURST_BUCKETS 10

static inline unsigned
weir_burst_bucket(unsigned n)
{
	unsigned b = 31u - (unsigned)__builtin_clz(n | 1u);
	return b < WEIR_BURST_BUCKETS ? b : WEIR_BURST_BUCKETS - 1;
}

/* One block per worker, on its own cache lines, written by that worker only
 * (plain load + relaxed store, once per burst); readers sum. */
struct weir_worker_counters {
#define WEIR_COUNTER(name, help) uint64_t name;
#define WEIR_GAUGE WEIR_COUNTER
#define WEIR_COUNTER_NS WEIR_COUNTER
#include "weir_counters.def"
#undef WEIR_COUNTER_NS
#undef WEIR_GAUGE
#undef WEIR_COUNTER
	uint64_t dead_letter[WEIR_DL_MAX];
	uint64_t burst_size[WEIR_BURST_BUCKETS]; /* rx bursts of 1, 2-3, 4-7, ... 512-1023 packets */
	struct weir_hist commit_latency;      /* rx -> committed to the ring, per event */
} __attribute__((aligned(WEIR_CACHE_LINE)));

/* One line of a feed with A and B lines, as one worker saw it (that
 * worker writes it; readers sum workers).  Events only on this line are
 * won minus the other line's arbitrated. */
struct weir_line_counters {
	uint64_t packets;            /* data packets that came on the line */
	uint64_t events;             /* events in them */
	uint64_t won;                /* events this line brought first (persisted) */
	uint64_t arbitrated;         /* events the other line had brought: counted, not persisted */
	uint64_t duplicates;         /* events this line brought again */
	uint64_t last_rx_ns;         /* its last packet, UNIX ns (0: none yet) */
	uint64_t last_end_ns;        /* its last end of session, UNIX ns (0: none yet) */
	uint64_t first_rx_ns;        /* its first packet, UNIX ns (0: none yet): how long the other line has
				      * gone unheard is counted from here */
	uint64_t wrong_source;       /* packets to its source-specific group from another sender: filtered */
	uint64_t gap_runs;           /* runs of numbers the line passed over (its own gaps, as its receiver saw them) */
	uint64_t gap_events;         /* the numbers in them */
	uint64_t late;               /* events it brought after the window gave up on it: a late fill, the line ran
				      * behind the other by more than the window */
	uint64_t late_behind;        /* how far behind the other line (numbers) its last late event came */
	struct weir_hist behind;     /* how far it ran behind the other line (a packet's copies, sampled) */
};

/* A packet came on the line at now_ns (its worker's store). */
static inline void
weir_line_heard(struct weir_line_counters *lc, uint64_t now_ns)
{
	if (lc->first_rx_ns == 0)
		lc->first_rx_ns = now_ns;
	lc->last_rx_ns = now_ns;
}

enum weir_counter_id {
#define WEIR_COUNTER(name, help) WEIR_CTR_##name,
#define WEIR_GAUGE WEIR_COUNTER
#define WEIR_COUNTER_NS WEIR_COUNTER
#include "weir_counters.def"
#undef WEIR_COUNTER_NS
#undef WEIR_GAUGE
#undef WEIR_COUNTER
	WEIR_CTR_MAX
};

extern const char *const weir_counter_names[WEIR_CTR_MAX];
extern const char *const weir_counter_help[WEIR_CTR_MAX];
extern const bool weir_counter_is_gauge[WEIR_CTR_MAX];
extern const bool weir_counter_is_ns[WEIR_CTR_MAX];

static inline uint64_t
weir_counter_get(const struct weir_worker_counters *c, enum weir_counter_id id)
{
	return __atomic_load_n(&((const uint64_t *)c)[id], __ATOMIC_RELAXED);
}

/* Sum of blocks[0..n) into out (a reader's snapshot; not single-writer). */
void weir_counters_sum(const struct weir_worker_counters *blocks, unsigned n,
		       struct weir_worker_counters *out);
struct weir_info;
/* Line id line of every worker, summed (its times: the latest; its first packet: the earliest). */
void weir_line_totals(const struct weir_info *info, unsigned line, struct weir_line_counters *out);
/* What line l missed, its own loss: the events the other line brought
 * first that l never brought (they would be l's arbitrated). */
uint64_t weir_line_missed(const struct weir_line_counters *l, const struct weir_line_counters *other);
/* received - (accepted + filtered + dead letters + ring-full); 0 when it holds. */
int64_t weir_counters_identity_gap(const struct weir_worker_counters *c);
/* messages - (event records + duplicates + table-full drops + ring-full); 0 when it holds. */
int64_t weir_counters_message_identity_gap(const struct weir_worker_counters *c);

enum weir_dataplane_state {
	WEIR_STATE_STARTING = 0,
	WEIR_STATE_RUNNING = 1,
	WEIR_STATE_DRAINING = 2,     /* RX stopped; waiting for the rings to drain */
	WEIR_STATE_STOPPED = 3,      /* final tails published; nothing more comes */
};

/* A port's ethdev stats, copied by the dataplane's main lcore every 50 ms:
 * readable wherever the info region is, whatever the PMD keeps private. */
struct weir_port_stats {
	uint64_t port_id;
	uint64_t ipackets, ibytes, imissed, ierrors, rx_nombuf;
};

struct weir_info {
	uint64_t magic;
	uint32_t version;            /* stored last, with release */
	uint32_t n_workers;
	uint32_t n_topics;
	uint32_t n_ports;
	uint64_t ring_bytes;
	uint64_t dataplane_pid;
	uint64_t start_time_ns;
	/* The run's number in the log (what its batches carry): its start time,
	 * or one past the log's last run when the clock stands behind that (a
	 * clock stepped back between runs must not put a run before the last). */
	uint64_t incarnation;
	uint32_t state;              /* enum weir_dataplane_state; main lcore */
	uint32_t pad0;
	char topics[WEIR_MAX_TOPICS][WEIR_TOPIC_NAME_MAX];
	struct weir_port_stats ports[WEIR_MAX_PORTS];   /* main lcore */
	struct weir_worker_counters workers[WEIR_MAX_WORKERS];
	struct weir_line_counters lines[WEIR_MAX_WORKERS][WEIR_MAX_LINES];
	/* a feed of one line: packets to its source-specific group from another sender */
	uint64_t feed_wrong_source[WEIR_MAX_WORKERS][WEIR_MAX_LINES / 2];
};

const char *weir_state_name(unsigned state);

#endif
