/*
 * One pipeline copy: what a worker lcore does to each packet, in stage order
 * parse -> decode -> sequence -> match -> commit.  Pure C over
 * byte spans and a record ring, so unit tests run the worker's own code;
 * weir_worker.c is the DPDK poll loop around it.
 */
#ifndef WEIR_PIPELINE_H
#define WEIR_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_config.h"
#include "weir_parse.h"
#include "weir_ring.h"
#include "weir_reorder.h"
#include "weir_rules.h"
#include "weir_rules_layout.h"
#include "weir_seq.h"
#include "weir_info.h"

struct weir_allow; /* weir_allow.h */

/* UDP destination port -> decoder index + 1 (0: no decoder).  Built once,
 * read-only on every worker. */
struct weir_decoder_table {
	uint8_t by_port[65536];
	struct weir_decoder_cfg decoders[WEIR_MAX_DECODERS];
	uint8_t frame_topic_known[256];       /* weir frame topic ids a frame-topic line maps */
	uint16_t frame_topic[256];            /* ... and the topic each goes to */
	/* Multicast feeds: a decoder whose UDP port a feed joins groups for
	 * takes multicast only to those groups, and knows each one's line. */
	uint8_t has_groups[WEIR_MAX_DECODERS];
	unsigned n_groups;
	struct weir_feed_route {
		uint32_t group;               /* network order */
		uint16_t port, udp_port;
		uint8_t line;                 /* line id (feed * 2 + b), or WEIR_FEED_NO_LINE */
		uint8_t family;               /* 4, or 6: group6 */
		uint8_t group6[16];
		uint32_t source;              /* source-specific: the only sender taken (network order; 0: any) */
		uint8_t source6[16];          /* all zero: any */
		uint8_t feed;                 /* index in the config's feeds */
	} groups[WEIR_MAX_FEED_GROUPS];
	unsigned n_lines;                     /* line ids in use: 0 .. n_lines - 1 */
	/* Who may feed each decoder (NULL: anyone), set by the dataplane once
	 * it has built them (weir_allow.h). */
	const struct weir_allow *allow[WEIR_MAX_DECODERS];
	unsigned n_allow;                     /* how many of allow[] are not NULL */
	/* The IPv4 MoldUDP64 line groups, compact: what a packet is checked
	 * against before the parse, for the second copy's short way. */
	unsigned n_fast;
	struct weir_fast_route {
		uint32_t group;               /* network order */
		uint32_t source;              /* network order; 0: any */
		uint16_t udp_port_be;
		uint16_t port;
		uint8_t line;
	} fast[WEIR_MAX_FEED_GROUPS];
	struct weir_seq_line lines[WEIR_MAX_LINES];
};

void weir_decoder_table_build(struct weir_decoder_table *t, const struct weir_config *cfg);

/* Who we are on a port, as the feed's own IPv4 packets show it: where a
 * re-request leaves from and which next hop it goes to (weir does no ARP
 * on the hot path). */
struct weir_port_peer {
	uint8_t local_mac[6];
	uint8_t peer_mac[6];
	uint8_t local_ip[4];
	uint8_t known;               /* an IPv4 feed packet was seen */
	uint8_t known6;              /* an IPv6 one */
	uint8_t local_ip6[16];
	/* A multicast feed's packets say who sends (the next hop) but not who
	 * we are: that comes from the port's MAC and its configured address. */
	uint8_t port_mac_set;        /* local_mac is the port's own */
	uint8_t addr_set;            /* local_ip is the configured address */
};

/* Sends a MoldUDP64 re-request (the 20-byte request in payload) for a source
 * of decoder d, from the port it arrived on.  False when nothing was sent. */
struct weir_rerequest_sink {
	void *ctx;
	bool (*send)(void *ctx, const struct weir_seq_source *src, const struct weir_decoder_cfg *d,
		     const struct weir_port_peer *peer, const uint8_t *payload, uint32_t len);
};

/* The events of one burst as the burst scan saw them, in the order the
 * pipeline meets them, their payloads laid end to end in bytes (one block
 * scan: Hyperscan's vectored mode cost more per event than scanning each
 * alone).  candidate[i]: a burst-scannable rule may match event i.  n 0: no
 * burst scan in force (every event scanned alone). */
#define WEIR_BURST_EVENTS_MAX 512
#define WEIR_BURST_BYTES (64u << 10)
struct weir_burst_packet {
	const uint8_t *frame;                 /* NULL: left to the packet's own parse */
	struct weir_udp_view v;
	uint8_t verdict;                      /* enum weir_verdict */
	uint8_t reason;
	uint8_t owe_csum;                     /* a feed line's: the UDP checksum waits (weir_lines.c) */
	uint8_t decoder;                      /* by_port[v.dst_port] of a packet parsed OK; else 0 */
	int8_t route;                         /* its feed line's short-way route (weir_line_fast_route), or -1 */
};

struct weir_burst_scan {
	uint32_t n, cursor, hint, n_candidates;
	/* Each packet parsed once, here (weir_pipeline_burst's first stage), and
	 * the later stages take it from here, by its place in the burst. */
	uint32_t n_pkts;
	struct weir_burst_packet pkt[WEIR_BURST_EVENTS_MAX];
	const uint8_t *data[WEIR_BURST_EVENTS_MAX];
	uint32_t end[WEIR_BURST_EVENTS_MAX];  /* offset after event i in bytes */
	uint8_t candidate[WEIR_BURST_EVENTS_MAX];
	uint8_t bytes[WEIR_BURST_BYTES];
};

struct weir_pipeline {
	struct weir_ring_producer ring;
	struct weir_worker_counters c;       /* counted here, stored to shared once per burst */
	uint64_t stalled_ns;                 /* waited for ring room in this burst (weir_pipeline_tick) */
	struct weir_seq_table seq;
	const struct weir_decoder_table *decoders;
	struct weir_rerequest_sink rerequest;
	/* Sees each filtered (not UDP) frame with the parse's view of it,
	 * counted filtered as ever: the worker's IGMP speaker takes queries this
	 * way, from the same parse (NULL: none). */
	void (*filtered_hook)(void *ctx, const uint8_t *frame, uint32_t len, const struct weir_udp_view *v,
			      uint16_t port, uint64_t now_ns);
	void *filtered_ctx;
	uint32_t dead_letter_keep_bytes;
	enum weir_full_policy full_policy;
	bool key_by_sender;
	bool udp_checksum_trust;
	const volatile bool *quit;           /* ends a backpressure wait at shutdown */
	bool refusing_at_stop;               /* the stop refused a packet room: every later one too */
	uint64_t stop_wait_ns;               /* how long the stop's own records may wait for room (drain-timeout) */
	uint64_t stop_waits_until_ns;        /* set by weir_pipeline_stop(): until then a stopping worker waits */
	/* The shared block's backpressure_waiting, 1 for the whole of a wait: the
	 * main lcore must not take a worker that waits for room for an idle one
	 * (NULL: none). */
	uint64_t *waiting_gauge;
	/* Times backpressure waits, so the worker's own cost per packet can be
	 * told from time the consumer made it wait (NULL: not timed). */
	uint64_t (*clock_ns)(const void *ctx);
	const void *clock_ctx;
	uint64_t next_tick_ns;
	struct weir_port_peer peers[WEIR_MAX_PORTS];
	uint64_t hist_records;               /* event_records already in the latency histogram */
	struct weir_reorder ro;              /* the reorder window (max_events 0: off) */
	/* Match stage: the rule set in force for this worker, switched at the
	 * top of a poll (its quiescent point) when the main lcore publishes one. */
	struct weir_ruleset *const *rules_current;
	struct weir_ruleset *rules;
	hs_scratch_t *scratch;
	struct weir_rule_counter *rule_counters; /* this worker's row */
	struct weir_burst_scan burst;
	unsigned worker;
	/* A and B lines: their figures (stored with the counters to
	 * shared_lines, when set) and, per feed, one packet whose other copy
	 * is awaited to time how far behind that line runs. */
	struct weir_line_counters lines[WEIR_MAX_LINES];
	struct weir_line_counters *shared_lines;
	/* A feed of one line's source-specific filtering (stored with the
	 * counters to shared_feed_wrong_source, when set). */
	uint64_t feed_wrong_source[WEIR_MAX_FEEDS];
	uint64_t *shared_feed_wrong_source;
	/* The packet in hand whose UDP checksum the parse left for later (a
	 * feed with lines: a second copy is not kept, so not checked); NULL
	 * once checked or not owed. */
	const struct weir_udp_view *csum_view;
	/* The NIC's receive time of the packet in hand (UNIX ns), or 0: its
	 * records then carry the burst's TSC time.  Timers run on the TSC. */
	uint64_t pkt_rx_ns;
	uint8_t fast_hint[WEIR_MAX_LINES];   /* the line's last packet was a second copy */
	uint8_t fast_skip[WEIR_MAX_LINES];
	struct weir_seq_source *fast_src[WEIR_MAX_LINES]; /* the line's last source (slots never move) */
	struct weir_line_probe {
		uint64_t seq, rx_ns;
		uint32_t src;
		uint8_t ab, armed, skipped;
	} probe[WEIR_MAX_FEEDS];
};

/* Bytes of the region weir_pipeline_init() lays its sequence tracker and
 * reorder slots out in. */
uint64_t weir_pipeline_memsize(const struct weir_config *cfg);

/* seq_region: weir_pipeline_memsize() bytes, cache-line aligned (the
 * dataplane's is a shared region weir-stat reads).  rerequest may be NULL:
 * gaps are then only timed out. */
int weir_pipeline_init(struct weir_pipeline *pl, const struct weir_config *cfg, unsigned worker,
		       struct weir_ring *ring, void *seq_region, const struct weir_decoder_table *decoders,
		       const struct weir_rerequest_sink *rerequest, const volatile bool *quit);
/* Turns the match stage on: *current is the published rule set (may change
 * at run time), counters this worker's row of per-rule counters. */
void weir_pipeline_use_rules(struct weir_pipeline *pl, struct weir_ruleset *const *current,
			     struct weir_rule_counter *counters);

/* One packet through every stage: its enum weir_disposition, which the
 * caller counts (weir_dispositions_count, once per burst); nothing here
 * counts it. */
uint8_t weir_pipeline_disposition(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len,
				  enum weir_csum ip_csum, enum weir_csum l4_csum, uint16_t port, uint64_t now_ns);
/* The same for one packet alone, counted at once (tests, the fuzzer). */
void weir_pipeline_packet(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, enum weir_csum ip_csum,
			  enum weir_csum l4_csum, uint16_t port, uint64_t now_ns);
/* Whether fetching each packet's tracker slot a stage ahead pays: the
 * table outgrows the cache. */
static inline bool
weir_pipeline_prefetch_worth(const struct weir_pipeline *pl)
{
	return pl->seq.capacity > 8192; /* 512 KiB of slots: about an L2 */
}
/* A frame's first bytes (of the len at frame; wire_len its whole length)
 * kept as a dead letter record under reason, counted as kept only; false
 * when the ring had no room. */
bool weir_pipeline_keep_frame(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, uint32_t wire_len,
			      unsigned reason, uint16_t port, uint64_t now_ns);
/* A malformed frame: its first bytes (of the len at frame) kept in the
 * _deadletter topic, wire_len its whole length; its disposition (dead
 * letter, under reason) returned for the caller to count. */
uint8_t weir_pipeline_dead_letter(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, uint32_t wire_len,
			       unsigned reason, uint16_t port, uint64_t now_ns);
/* The match stage on one event: the rule ids it carries (in scope, at most
 * WEIR_MAX_MATCHES), its topic if a route rule moves it; false when a drop
 * rule matched.  Counts matches, alerts, drops and scan errors. */
bool weir_pipeline_match(struct weir_pipeline *pl, const uint8_t *payload, uint16_t len, uint8_t decoder_type,
			 const uint8_t *source, uint16_t *topic, uint32_t *ids, uint16_t *n_ids);

/* A burst as one RX queue gave it, for weir_pipeline_burst(). */
#define WEIR_BURST_PACKETS_MAX 512
struct weir_burst_in {
	const uint8_t *frame[WEIR_BURST_PACKETS_MAX];  /* the first segment's data */
	uint32_t len[WEIR_BURST_PACKETS_MAX];          /* bytes at frame */
	uint32_t wire_len[WEIR_BURST_PACKETS_MAX];     /* all its segments */
	uint8_t multi_segment[WEIR_BURST_PACKETS_MAX]; /* a dead letter, never parsed */
	enum weir_csum ip_csum[WEIR_BURST_PACKETS_MAX], l4_csum[WEIR_BURST_PACKETS_MAX]; /* what the NIC said */
	uint64_t rx_ns[WEIR_BURST_PACKETS_MAX];        /* the NIC's receive time, 0 none; read only if stamped */
	bool stamped;
};

/*
 * n packets of one port through the pipeline stage by stage, each stage
 * over the whole burst before the next (VPP's and l3fwd's shape): every
 * packet parsed; with rules, one scan of all their events; every packet's
 * source slot fetched (a table bigger than the cache); then each tracked
 * and committed in order; then every disposition counted, once.  What it
 * writes is what weir_pipeline_packet() on each in turn would write.
 */
void weir_pipeline_burst(struct weir_pipeline *pl, const struct weir_burst_in *in, unsigned n, uint16_t port,
			 uint64_t now_ns);

/* The rules' burst stage alone (its benchmark): the packets parsed and one
 * scan of the burst database over all their events, so that events no rule
 * can match skip their own scan in weir_pipeline_match().  Does nothing
 * without a burst database; weir_pipeline_burst_done() after. */
void weir_pipeline_burst_scan(struct weir_pipeline *pl, const uint8_t *const *frames, const uint32_t *lens,
			      const enum weir_csum *ip_csum, const enum weir_csum *l4_csum, unsigned n);
static inline void
weir_pipeline_burst_done(struct weir_pipeline *pl)
{
	pl->burst.n = 0;
	pl->burst.n_pkts = 0;
}

/* The L4 checksum state the parse is given: what the NIC said, or, where it
 * said nothing and the config trusts the sender, good. */
static inline enum weir_csum
weir_pipeline_l4_csum(const struct weir_pipeline *pl, enum weir_csum nic)
{
	return nic == WEIR_CSUM_UNKNOWN && pl->udp_checksum_trust ? WEIR_CSUM_GOOD : nic;
}

/* Picks up a newly published rule set; the worker calls it where no scan is
 * under way.  (current NULL at init: no pattern matching.) */
static inline void
weir_pipeline_sync_rules(struct weir_pipeline *pl)
{
	if (pl->rules_current == NULL)
		return;
	/* Pairs with the main lcore's release store when it publishes. */
	struct weir_ruleset *rs = __atomic_load_n(pl->rules_current, __ATOMIC_ACQUIRE);
	if (rs != pl->rules) {
		pl->rules = rs;
		pl->scratch = rs ? rs->scratch[pl->worker] : NULL;
		pl->c.rules_generation = rs ? rs->generation : 0;
	}
}

/* Gap deadlines and re-requests; cheap to call every burst (it runs at
 * most every 100 us). */
void weir_pipeline_tick(struct weir_pipeline *pl, uint64_t now_ns);
/* Stopping: every gap still open is declared lost, in the log. */
void weir_pipeline_stop(struct weir_pipeline *pl, uint64_t now_ns);

/* The events committed since the last call took commit_ns - rx_ns each. */
static inline void
weir_pipeline_note_latency(struct weir_pipeline *pl, uint64_t rx_ns, uint64_t commit_ns)
{
	weir_hist_add(&pl->c.commit_latency, commit_ns > rx_ns ? commit_ns - rx_ns : 0,
		      pl->c.event_records - pl->hist_records);
	pl->hist_records = pl->c.event_records;
}

/* Stores the counts to the worker's shared block (single writer). */
static inline void
weir_pipeline_store_counters(const struct weir_pipeline *pl, struct weir_worker_counters *shared)
{
	const uint64_t *src = (const uint64_t *)&pl->c;
	uint64_t *dst = (uint64_t *)shared;
	for (unsigned i = 0; i < sizeof(pl->c) / 8; i++)
		if (dst[i] != src[i])
			__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
	if (pl->shared_feed_wrong_source)
		for (unsigned f = 0; f < WEIR_MAX_FEEDS; f++)
			if (pl->shared_feed_wrong_source[f] != pl->feed_wrong_source[f])
				__atomic_store_n(&pl->shared_feed_wrong_source[f], pl->feed_wrong_source[f], __ATOMIC_RELAXED);
	if (pl->shared_lines == NULL)
		return;
	src = (const uint64_t *)pl->lines;
	dst = (uint64_t *)pl->shared_lines;
	for (unsigned i = 0; i < pl->decoders->n_lines * sizeof(pl->lines[0]) / 8; i++)
		if (dst[i] != src[i])
			__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
}

#endif
