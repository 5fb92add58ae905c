/* weir-gen's parts: the generator's state, the traffic it writes and
 * where it goes, the ground truth a correct appliance must report, and the
 * retransmission server. */
#ifndef WEIR_GEN_H
#define WEIR_GEN_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <rte_mempool.h>

#include "weir_dead_letter.h"
#include "weir_endpoint.h"

#define MAX_FRAME 1514
#define MAX_SESSIONS 4096
#define MOLD_BUDGET 1400 /* MoldUDP64 bytes per packet, inside a 1500-byte MTU */
_Static_assert(MOLD_BUDGET + 64 <= 1464, "a pending packet holds MOLD_BUDGET bytes");

struct gen_opts {
	const char *out, *manifest;
	uint64_t seed;
	unsigned sessions;
	unsigned first_session;      /* the first session's number (its name, its source id) */
	uint64_t messages;
	unsigned per_min, per_max;
	unsigned payload_min, payload_max;
	double malformed_rate, filtered_rate, vlan_rate, ipv6_rate;
	unsigned heartbeat_every;
	bool end_session;
	uint16_t udp_port;
	uint64_t first_seq;
	double loss_rate, duplicate_rate, reorder_rate, delay_rate, delay_ms;
	unsigned burst_loss, reorder_distance;
	/* send mode */
	bool send;
	union weir_sockaddr to, serve;    /* IPv4 or IPv6 (sockets); DPDK mode is IPv4 */
	bool serving;
	double forget_rate;          /* of lost packets, the share the server will not resend */
	bool weir_framing;           /* weir frames instead of MoldUDP64 */
	const char *dpdk_eal;        /* send over DPDK port 0 instead of a socket */
	unsigned frame_topics;       /* events carry topic ids 0..frame_topics */
	/* Content rules must find: at most one plant an event. */
	struct plant {
		char text[64];
		size_t len;
		double rate;
		bool drop;           /* the rules under test drop it: not in the expected log */
	} plants[8];
	unsigned n_plants;
	double rate_pps, linger_s;
	double hold_s;               /* --dpdk: after the linger, keep port 0 up, unpolled, until its link goes down */
	/* A and B lines (lines 2): every packet on both, each line with its own loss. */
	unsigned lines;
	double line_loss[2];
	unsigned line_delay;         /* B's copy goes this many data packets after A's */
	uint64_t b_silent_after;     /* line B sends nothing once this many messages are out (0: never) */
	const char *out_b;           /* line B's capture (NULL: both lines in --out) */
	union weir_sockaddr to_b;         /* send: line B's destination (--to is line A's) */
	uint32_t group[2];           /* the lines' groups, network order */
};

struct session {
	char name[32];               /* MoldUDP64 session, or "wf:<id>" */
	uint64_t source_id;          /* weir framing */
	uint64_t first_seq, next_seq, sent;
	uint64_t data_packets;       /* generated, delivered or not */
	unsigned packets_since_heartbeat;
	unsigned burst_left;         /* packets still to lose in this burst */
	EVP_MD_CTX *digest;          /* over the delivered events, in sequence order */
	/* The receiving side as a correct appliance sees it (the ground truth). */
	uint8_t *received;           /* bit per sequence from first_seq */
	uint64_t seen_next;          /* one past the highest sequence delivered */
	bool seen_started;
	uint64_t delivered_events;
	/* send mode: what was sent, for the retransmission server */
	uint8_t *forgotten;          /* bit per sequence: lost and never to be resent */
	uint8_t *store;
	uint64_t store_len, store_cap;
	uint64_t *msg_off;           /* by sequence - first_seq */
	uint16_t *msg_len;
	uint64_t *dropped;           /* sequences a drop plant went into, delivered ones */
	uint8_t *drop_bits;          /* the same, a bit per sequence (NULL: no plants) */
	uint64_t n_dropped, cap_dropped;
	uint8_t *lost_line[2];       /* lines 2: bit per sequence lost on line a, on line b */
};

/* A data packet on its way: delivered now, held back (reordering) or
 * repeated later (duplication). */
struct pending {
	unsigned session;
	uint64_t seq;
	unsigned count;
	unsigned due_in;             /* data packets still to go out before it */
	uint8_t line;                /* lines 2: the line it goes out on */
	uint32_t len;
	uint8_t mold[1464];
};

struct truth {
	uint64_t in_order, ahead, late_fills, duplicates, gaps_opened, events_missing;
	uint64_t late_fills_dropped; /* of late_fills, those a drop plant went into: never in the log */
	uint64_t messages;           /* in every data packet delivered, repeats included */
	uint64_t lost_packets;
	uint64_t delayed_packets;
};

/* Who a frame is from and to. */
struct endpoints {
	uint8_t src_mac[6], dst_mac[6];
	uint8_t src_ip[4], dst_ip[4];
};

struct gen {
	struct gen_opts o;
	struct endpoints feed;       /* the generated traffic's addresses */
	uint64_t rng;
	pcap_dumper_t *dump;
	uint64_t ts_us;
	uint64_t packets, data_packets, heartbeats, end_of_session, filtered, dead;
	uint64_t dead_by_reason[WEIR_DL_MAX];
	uint64_t messages;
	struct truth t;
	struct pending *pending;
	unsigned n_pending, cap_pending;
	int sock, srv;
	struct rte_mempool *mp;      /* --dpdk */
	uint64_t send_start_ns;
	uint64_t requests_served, requests_bad, resent_events, forgotten_events;
	uint64_t topic_events[256];  /* persisted events by weir frame topic id */
	uint64_t planted[8];         /* delivered events carrying each plant */
	/* lines 2 */
	int line;                    /* the line a frame is emitted on (-1: no lines) */
	struct endpoints line_ep[2];
	pcap_dumper_t *dump_b;
	uint64_t line_events[2], only_events[2], both_lost_events;
	struct session s[MAX_SESSIONS];
};

/* splitmix64: small, seeded, the same everywhere. */
static inline uint64_t
rnd(struct gen *g)
{
	uint64_t z = (g->rng += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static inline unsigned
rnd_range(struct gen *g, unsigned lo, unsigned hi)
{
	return lo + (unsigned)(rnd(g) % (uint64_t)(hi - lo + 1));
}

static inline bool
chance(struct gen *g, double p)
{
	return p > 0 && (double)(rnd(g) >> 11) * 0x1.0p-53 < p;
}

/* gen_out.c */
void gen_send_frame_dpdk(struct gen *g, const uint8_t *frame, uint32_t len);
int gen_dpdk_open(struct gen *g);
void gen_dpdk_close(const struct gen *g, bool hold);
void gen_emit(struct gen *g, const uint8_t *frame, uint32_t len);
/* gen_frames.c */
uint32_t gen_build_udp_frame_between(struct gen *g, const struct endpoints *ep, uint8_t *f, bool vlan, bool v6, uint16_t sport,
			uint16_t dport, const uint8_t *payload, uint32_t plen, uint32_t *l3, uint32_t *l4);
void gen_fill_payload(struct gen *g, uint8_t *p, unsigned len);
void gen_emit_mold(struct gen *g, const uint8_t *mold, uint32_t len);
void gen_emit_filtered(struct gen *g);
void gen_emit_malformed(struct gen *g, struct session *s);
void gen_emit_control(struct gen *g, struct session *s, uint16_t count);
/* A heartbeat's or end of session's header (count says which) at hdr; its length. */
uint32_t gen_control_header(const struct gen *g, const struct session *s, uint16_t count, uint8_t *hdr);
/* gen_truth.c */
void gen_truth_next_is(struct gen *g, struct session *s, uint64_t next);
void gen_truth_events(struct gen *g, struct session *s, uint64_t seq, unsigned n);
void gen_plant(struct gen *g, uint8_t *msg, unsigned len);
void gen_digest_packet(struct gen *g, struct session *s, const struct pending *p);
void gen_write_manifest(struct gen *g, FILE *f);
/* gen_rexmit.c */
bool gen_is_forgotten(const struct session *s, uint64_t seq);
void gen_store_message(struct session *s, uint64_t seq, const uint8_t *msg, uint16_t len);
void gen_serve_requests(struct gen *g);
/* gen_traffic.c */
int gen_generate(struct gen *g);
/* gen_lines.c: A and B lines */
int gen_lines_open(struct gen *g);
int gen_lines_init(struct gen *g, const uint64_t *quota);
void gen_lines_send(struct gen *g, struct pending *p);
void gen_lines_deliver(struct gen *g, const struct pending *p);
void gen_lines_control(struct gen *g, struct session *s, uint16_t count);
void gen_lines_manifest(struct gen *g, FILE *f);
void gen_lines_session(FILE *f, const struct session *s);
/* gen_traffic.c's, for the lines */
void gen_hold(struct gen *g, const struct pending *p, unsigned due_in);
void gen_release_due(struct gen *g, bool all);
void gen_lose_packet(struct gen *g, struct session *s, const struct pending *p);
/* gen_rules.c */
int gen_rules(int argc, char **argv);

#endif
