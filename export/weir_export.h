/*
 * weir-export: ships topics of the log to Apache Kafka, exactly once.
 *
 * Each exported topic is followed with the log reader.  Records go out in
 * Kafka transactions (a stable transactional.id, weir-export-ID, so a
 * restarted exporter fences its predecessor); each transaction also writes
 * the log position it reaches to a compacted positions topic, keyed
 * "ID/LOGTOPIC".  A consumer reading read_committed sees every record of the
 * log once: a transaction's records and its position commit together or
 * not at all, and a (re)started exporter resumes from the committed
 * position.  The local log is the buffer: a slow or absent Kafka only makes
 * the exporter fall behind, never the drain; it is a registered reader
 * (export-ID) so retention keeps what it has not shipped, unless hard.
 */
#ifndef WEIR_EXPORT_H
#define WEIR_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "weir_config.h"
#include "weir_hist.h"
#include "weir_log_reader.h"

#define WEIR_EXPORT_ERROR_KINDS 32

#define WEIR_EXPORT_DELETIONS 8 /* separate deletions a transaction may state */

struct weir_export_topic_state {
	const struct weir_export_topic *cfg;
	struct weir_log_reader *r;
	uint64_t committed;          /* next log offset Kafka does not hold yet */
	uint64_t pending;            /* next log offset after what the open transaction holds */
	int partitions;              /* of its Kafka topic: partition-by worker, and a hole in every one */
	int loss_partitions;         /* of its loss topic, where it has one */
	char pos_key[WEIR_TOPIC_NAME_MAX + 80];
	/* Figures: written by the exporter's thread (weir_sw_*), read by /metrics. */
	uint64_t records, bytes;     /* committed to Kafka (bytes: payloads) */
	uint64_t txn_records, txn_bytes; /* in the open transaction */
	uint64_t truncated;          /* deleted by hard retention before it was shipped: stated in Kafka */
	uint64_t truncated_to;       /* one past the last offset said deleted (in weir-export's log) */
	/* Deleted unshipped and not stated in a committed transaction yet,
	 * ascending; the first n_deleted_stated are in the open one. */
	struct weir_export_range { uint64_t first, next; } deleted[WEIR_EXPORT_DELETIONS];
	unsigned n_deleted, n_deleted_stated;
	uint64_t holes;              /* stated lost in the log (salvage), passed over unshipped */
	uint64_t holes_to;           /* one past the last offset counted in holes (a rewind passes them again) */
	uint64_t lag_records, lag_bytes;
	struct weir_log_place committed_place; /* where committed is in the log: the lag in bytes from there */
};

struct weir_exporter {
	const struct weir_config *cfg;
	const char *log_dir;
	const volatile int *stop;     /* set by a signal: stop waiting */
	rd_kafka_t *rk;
	unsigned n;
	struct weir_export_topic_state t[WEIR_MAX_TOPICS];
	bool in_txn;
	bool unanswered;              /* stopped while Kafka had not answered the commit */
	uint64_t txn_start_ns;
	unsigned txn_records;
	uint64_t backoff_ns, retry_at_ns;
	uint64_t lag_bytes_at_ns;
	struct weir_hist produce_latency, commit_latency;
	struct weir_hist txn_age;     /* how long each committed transaction was open */
	unsigned next_topic;          /* the topic read first next round: each has its turn at the front */
	uint64_t commits, aborts, produce_retries;
	struct { int code; uint64_t count; } errors[WEIR_EXPORT_ERROR_KINDS];
	uint32_t kafka_up;           /* 0 while librdkafka says every broker is down, or a commit fails */
	uint32_t lag_known;          /* 1 once the lag gauges hold a figure: Kafka's positions read, the log open */
	char txn_id[128];
	char start_key[WEIR_TOPIC_NAME_MAX + 80]; /* this run's start mark in the positions topic: key, value */
	char start_mark[64];
};

/* Sets x up for cfg (nothing connects yet): /metrics may read it from now. */
void weir_export_init(struct weir_exporter *x, const struct weir_config *cfg, const char *log_dir);
/* Creates the transactional producer (fencing any predecessor with the same
 * id), the positions topic and the exported topics when missing, reads the
 * committed positions and opens the readers there, waiting for a Kafka that
 * is away.  0; 1 told to stop before it was done; or -1 with err. */
int weir_export_open(struct weir_exporter *x, char *err, size_t errlen);
/* One round: reads what the log has, produces it, commits a transaction
 * when it holds batch records or is commit-interval old.  Returns the
 * records produced (0: nothing new), or -1 on a fatal error (fenced by
 * a newer exporter, or the log is damaged): err says which. */
int weir_export_step(struct weir_exporter *x, uint64_t now_ns, char *err, size_t errlen);
/* Waits up to ms for the log to grow (the first topic's reader). */
void weir_export_wait(struct weir_exporter *x, int ms);
/* Commits what is open (a clean stop). */
int weir_export_flush(struct weir_exporter *x, char *err, size_t errlen);
void weir_export_close(struct weir_exporter *x);
/* True once every topic's committed position is its log's committed end. */
bool weir_export_caught_up(struct weir_exporter *x);

/* /metrics and /healthz over x. */
char *weir_export_render(const void *x, size_t *len);
int weir_export_health(const void *x, char *why, size_t len);

/* librdkafka's verdict on the configuration (export kafka set ...):
 * 0, or -1 with one FILE:LINE error per bad property in err. */
int weir_export_check_config(const struct weir_config *cfg, const char *file, char *err, size_t errlen);

#endif
