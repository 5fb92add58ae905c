/*
 * pmd-config: line-oriented command files in testpmd's words where it has
 * them.  The whole file is parsed and cross-checked before anything starts;
 * every error is "FILE:LINE: message" naming the token and what is valid.
 * Both weir-dataplane and weir-control read the same file.
 */
#ifndef WEIR_CONFIG_H
#define WEIR_CONFIG_H

/* DPDK (22.11) passes a vdev's arguments to secondary processes cut to
 * RTE_DEV_NAME_MAX_LEN - 1 characters. */
#define WEIR_VDEV_ARGS_MAX 63

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "weir_info.h"

#define WEIR_MAX_EAL_ARGS 64
#define WEIR_MAX_DECODERS 64

enum weir_decoder_type { WEIR_DECODER_MOLDUDP64 = 1, WEIR_DECODER_WEIRFRAME = 2 };
enum weir_rss_mode { WEIR_RSS_UDP, WEIR_RSS_IP, WEIR_RSS_NONE };
enum weir_full_policy { WEIR_FULL_DROP, WEIR_FULL_BACKPRESSURE };
enum weir_fsync_mode { WEIR_FSYNC_INTERVAL, WEIR_FSYNC_BATCH, WEIR_FSYNC_NONE };

struct weir_decoder_cfg {
	uint16_t udp_port;
	uint16_t topic;
	enum weir_decoder_type type;
	unsigned line;
	/* MoldUDP64 retransmission server for this feed (family 0: none),
	 * address and port in network order. */
	uint8_t rerequest_family;        /* 0, 4 or 6 */
	uint32_t rerequest_ip;           /* IPv4 */
	uint8_t rerequest_ip6[16];       /* IPv6 */
	uint16_t rerequest_port;
	/* Who may feed it: source addresses (CIDR list) and sources (MoldUDP64
	 * sessions or weir frame source ids), each "a,b,..." or "@FILE" ("":
	 * anyone); what else comes is filtered as unauthorized, kept as a dead
	 * letter record when keep_unauthorized. */
#define WEIR_LIST_SPEC_MAX 240
	char allow[WEIR_LIST_SPEC_MAX];
	char sources[WEIR_LIST_SPEC_MAX];
	bool keep_unauthorized;
};

enum weir_seq_table_full { WEIR_SEQ_TABLE_FULL_UNTRACKED, WEIR_SEQ_TABLE_FULL_DROP };

struct weir_sequence_cfg {
	uint32_t max_sources;
	uint32_t max_gaps;
	enum weir_seq_table_full table_full;
	uint64_t gap_timeout_ns;
	uint64_t rerequest_interval_ns;
	uint32_t rerequest_max;
	uint32_t rerequest_max_count;
	uint64_t rerequest_min_gap_ns;
	/* Reorder window (0 events: off): hold what arrives above a gap and
	 * release it in sequence order, at most this many events or this long. */
	uint32_t reorder_events;
	uint64_t reorder_ns;
	uint32_t reorder_slots;          /* held events per worker, all sources together */
	bool key_by_sender;              /* a source is (identity, sender IPv4 address[:port]) */
	uint64_t restore_window_bytes;   /* of each topic's log read at start to restore sources (0: none; UINT64_MAX: all) */
	unsigned line_key;
};

struct weir_config {
	char path[PATH_MAX];

	int eal_argc;
	char *eal_argv[WEIR_MAX_EAL_ARGS];
	char eal_buf[8192];
	unsigned eal_used;

	unsigned n_workers;
	unsigned worker_lcores[WEIR_MAX_WORKERS];
	unsigned rxq;                    /* per port; equals n_workers */
	enum weir_rss_mode rss;
	unsigned rxd[WEIR_MAX_PORTS];
	unsigned txd[WEIR_MAX_PORTS];
	/* The port's own IPv4 address, network order (0: learned from unicast
	 * feed packets): where re-requests leave from when the feed is multicast. */
	uint32_t port_addr[WEIR_MAX_PORTS];
	unsigned burst;
	unsigned mbufs;                  /* per mempool (one per NUMA socket) */
	bool udp_checksum_trust;         /* UDP checksums the NIC did not check go unchecked (counted) */

	uint64_t ring_bytes;
	enum weir_full_policy full_policy;
	uint32_t dead_letter_keep_bytes;

	unsigned n_decoders;
	struct weir_decoder_cfg decoders[WEIR_MAX_DECODERS];
	unsigned n_topics;
	char topics[WEIR_MAX_TOPICS][WEIR_TOPIC_NAME_MAX];
	/* weir frame topic id (1-255) -> topic index + 1 (0: not mapped) */
	uint16_t frame_topics[256];

	struct weir_sequence_cfg seq;

	char rules_path[PATH_MAX];       /* empty: no pattern matching */
	bool rules_allow_empty;          /* an empty rules file is a choice, not a half-written file */

	char log_dir[PATH_MAX];
	unsigned log_mode;               /* what the log's files are created with (directories: x where r) */
	uint64_t segment_bytes;
	enum weir_fsync_mode fsync_mode;
	uint64_t fsync_interval_ns;

	/* log retention: one for every topic (topic ""), then per topic. */
	unsigned n_retention;
	struct weir_retention_cfg {
		char topic[WEIR_TOPIC_NAME_MAX];
		uint64_t max_bytes, max_age_ns;
		bool hard, has_bytes, has_age, has_hard;
		unsigned line;
	} retention[WEIR_MAX_TOPICS + 1];

	/* Multicast feeds: the groups each port joins (IGMP, from worker 0),
	 * and for a feed with A and B lines, how their copies are arbitrated. */
#define WEIR_MAX_FEEDS (WEIR_MAX_LINES / 2)
	unsigned n_feeds;
	struct weir_feed_cfg {
		char name[32];
		bool has_lines;              /* A and B lines: arbitrated */
		uint64_t window_ns;          /* one line's miss waits this long for the other line */
		uint32_t window_events;      /* ... or until the feed is this many events past it (0: time only) */
		uint64_t silent_ns;          /* a line with nothing this long while the other has traffic is silent */
		uint16_t queue;              /* the RX queue both lines are steered to (rxq > 1) */
		unsigned line;               /* where the feed was first named */
	} feeds[WEIR_MAX_FEEDS];
#define WEIR_MAX_FEED_GROUPS 32
#define WEIR_FEED_NO_LINE 0xFF
	unsigned n_feed_groups;
	struct weir_feed_group {
		char feed[32];
		uint8_t feed_id;             /* index in feeds */
		uint8_t ab;                  /* 0: line a, 1: line b, WEIR_FEED_NO_LINE: a feed of one line */
		uint16_t port;               /* DPDK port id */
		uint32_t group;              /* IPv4, network order */
		uint32_t source;             /* network order; 0: any source */
		uint8_t family;              /* 4, or 6: group6 and source6 (MLDv2) */
		uint8_t group6[16];
		uint8_t source6[16];         /* all zero: any source */
		uint16_t udp_port;
		unsigned line;
	} feed_groups[WEIR_MAX_FEED_GROUPS];

	/* weir-export (export/): the Kafka it ships the log to. */
#define WEIR_EXPORT_MAX_PROPS 64
	struct weir_export_cfg {
		char brokers[512];
		char id[64];                 /* transactional.id weir-export-ID; its positions' keys */
		char positions_topic[128];
		bool partition_by_worker;    /* default: by source, each source's order in one partition */
		unsigned batch_records;      /* at most this many records a transaction */
		uint64_t commit_interval_ns; /* a transaction is committed at least this often while records come */
		unsigned n_topics;
		struct weir_export_topic {
			char log_topic[WEIR_TOPIC_NAME_MAX];
			char kafka_topic[128];
			char loss_topic[128];    /* "": LOSS records go with the events */
			unsigned line;
		} topics[WEIR_MAX_TOPICS];
		unsigned n_props;
		struct weir_export_prop {
			char key[128];
			char value[512];
			unsigned line;
		} props[WEIR_EXPORT_MAX_PROPS];
		uint32_t metrics_ip;         /* network order; port 0: no endpoint */
		uint16_t metrics_port;
		unsigned line_brokers;
	} exp;

	/* Every metrics endpoint's TLS (PEM files; "": plain HTTP) and client
	 * authorization (Prometheus' authorization / basic_auth). */
	char metrics_tls_cert[PATH_MAX], metrics_tls_key[PATH_MAX];
	enum weir_metrics_auth { WEIR_AUTH_NONE, WEIR_AUTH_BEARER, WEIR_AUTH_BASIC } metrics_auth;
	char metrics_auth_user[64];
	char metrics_auth_file[PATH_MAX]; /* the token, or the password */
	/* weir-control's Prometheus endpoint (port 0: off), network order. */
	uint32_t metrics_ip;
	uint16_t metrics_port;
	uint64_t metrics_sla_ns;         /* rx -> durable bound (0: none) */
	unsigned metrics_top_sources;    /* per-source series for this many, the busiest */

	int control_lcore;
	uint64_t drain_timeout_ns;

	/* user NAME [group GROUP]: who the processes become once set up
	 * ("": stay who they were started as), resolved when read. */
	char run_user[64];
	unsigned run_uid, run_gid;

	/* Where each cross-checked setting was given, for error lines. */
	unsigned line_corelist, line_rxq, line_log_dir, line_ring_size, line_rules, line_user;
};

void weir_config_defaults(struct weir_config *cfg);
/* 0 on success; -1 with err holding one "FILE:LINE: ..." line per error. */
int weir_config_load(const char *path, struct weir_config *cfg, char *err, size_t errlen);
int weir_config_parse(const char *text, const char *name, struct weir_config *cfg, char *err, size_t errlen);
/* The same on len bytes: a NUL inside is an error at its line, not the end. */
int weir_config_parse_bytes(const char *text, size_t len, const char *name, struct weir_config *cfg, char *err,
			    size_t errlen);
/* As weir_config_load, for a program that reads only the commands in reads
 * (NULL-terminated): a line of another command whose ${VAR} is not set is
 * passed over (that variable is another program's), not refused. */
int weir_config_load_for(const char *path, const char *const *reads, struct weir_config *cfg, char *err,
			 size_t errlen);
/* A port file (weir-replay send --port-config): only eal, set and port
 * config lines, in the same words and with the same errors; "set corelist"
 * names the one lcore that sends. */
int weir_config_load_port(const char *path, struct weir_config *cfg, char *err, size_t errlen);

/* Each item of a list spec ("a,b,c", or "@FILE": items split by commas,
 * spaces and lines, '#' to the line's end a comment) to fn, which returns
 * 0 or -1 with err said.  -1 at the first failure (err: "FILE:LINE: ..."
 * for a file). */
int weir_config_list(const char *spec, int (*fn)(const char *item, void *arg, char *err, size_t errlen), void *arg,
		     char *err, size_t errlen);
/* A.B.C.D[/N] or IPV6[/N] (no length: the host). */
int weir_config_cidr(const char *s, uint8_t *family, uint8_t addr[16], uint8_t *depth);

/* The retention topic is kept under: its own settings over every topic's. */
void weir_config_retention(const struct weir_config *cfg, const char *topic, struct weir_retention_cfg *out);

/* The --file-prefix among the EAL arguments, "weir" when none is given. */
const char *weir_config_file_prefix(const struct weir_config *cfg);
/* EAL's --huge-dir, NULL when not given (EAL then finds a mount itself). */
const char *weir_config_huge_dir(const struct weir_config *cfg);
bool weir_config_no_huge(const struct weir_config *cfg);
/* The process umask that gives the log's files log_mode (made 0666) and
 * its directories the same with x where r is (made 0777). */
unsigned weir_config_umask(const struct weir_config *cfg);
/* Line id l's name, "FEED/a" or "FEED/b", into buf; false (buf empty)
 * when no feed with A and B lines has that id. */
bool weir_config_line_name(const struct weir_config *cfg, unsigned l, char *buf, size_t n);
/* Adds one EAL argument (from the command line); -1 when full. */
int weir_config_add_eal_arg(struct weir_config *cfg, const char *arg);

#endif
