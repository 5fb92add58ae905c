/*
 * Draining the record rings into the per-topic logs.  A ring's head moves
 * only in weir_drain_commit(), after the records passed are written (and
 * fsynced, by policy); segments roll only there too, which is what lets a
 * restarted drain find everything it may already have written in the last
 * segment of each topic.
 */
#ifndef WEIR_DRAIN_H
#define WEIR_DRAIN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "weir_config.h"
#include "weir_hist.h"
#include "weir_log.h"
#include "weir_ring.h"
#include "weir_info.h"
#include "weir_single_writer.h"

struct weir_drain_ring {
	struct weir_ring_consumer c;
	unsigned worker;
};

struct weir_drain {
	unsigned n_rings;
	struct weir_drain_ring rings[WEIR_MAX_WORKERS];
	unsigned n_topics;
	struct weir_log_topic topics[WEIR_MAX_TOPICS];
	uint64_t incarnation;            /* the dataplane run the rings belong to */
	enum weir_fsync_mode fsync_mode;
	uint64_t fsync_interval_ns;
	uint64_t segment_bytes;
	unsigned batch_records;          /* per ring per poll */
	uint64_t last_commit_ns;
	bool uncommitted;                /* records passed since the last commit */

	uint64_t records_persisted;      /* committed (in the log), summed over the topics at each commit */
	uint64_t bytes_persisted;        /* their bytes on file */
	uint64_t records_skipped;        /* already in the log from before a restart */
	uint64_t records_bad_topic;      /* topic id beyond the table: kept under _deadletter */
	uint64_t commits;
	uint64_t room_commits;           /* written and released between interval fsyncs */
	uint64_t fsync_ns_max;
	uint64_t fsync_ns_total;
	struct weir_hist fsync_latency;

	/* rx -> durable, per worker, measured at the commit that made them
	 * durable: the rx times of the events passed since the last commit. */
	struct weir_hist durable_latency[WEIR_MAX_WORKERS];
	uint64_t sla_ns;                 /* 0: no SLA */
	uint64_t sla_breaches[WEIR_MAX_WORKERS];
	/* Events not yet durable, by receipt time: a burst's events share
	 * theirs, so one entry counts them all. */
	struct pending_rx { uint64_t rx_ns; uint32_t worker, count; } *pending;
	size_t n_pending, cap_pending;

	/* The log refused a write (a full disk, a quota, EIO): errno, or 0 while
	 * writable.  Suspended, the topics are closed and the rings keep
	 * everything since the last commit, so the dataplane's ring-full policy
	 * does its counted work; weir_drain_resume() reopens them as a restart
	 * would and the records are read again, those already logged skipped.
	 * Written by the drain, read by /metrics. */
	int log_errno;
	bool suspended;                  /* the topics are closed */
	uint64_t log_failed_since_ns;
	uint64_t log_retry_ns;           /* no reopen before this: one a second */
	uint64_t log_failures;
	/* Retention, per topic, once a second on a thread of its own: a pass
	 * deleting 6-10 segments of 64 MiB took 110-220 ms here
	 * (perf/bench_log_reader), which the drain must not wait out.  It
	 * touches only segments before the one being written. */
	struct weir_log_retention retention[WEIR_MAX_TOPICS];
	struct weir_log_retention_stats retention_stats[WEIR_MAX_TOPICS];
	uint64_t active_base[WEIR_MAX_TOPICS]; /* stored by the drain, read by the thread */
	pthread_t retention_thread;
	bool retention_running;
	int retention_stop;
	char log_root[PATH_MAX];
	char topic_names[WEIR_MAX_TOPICS][WEIR_TOPIC_NAME_MAX];
	unsigned n_topic_names;
};

/* Opens (and recovers) every topic's log and attaches the rings at their
 * heads.  topics[] are the dataplane's topic names.  A log on a full disk
 * (ENOSPC, EDQUOT) opens suspended, as a refused write leaves it:
 * weir_drain_resume() tries again each second. */
int weir_drain_open(struct weir_drain *d, const struct weir_config *cfg, const char topics[][WEIR_TOPIC_NAME_MAX],
		    unsigned n_topics, struct weir_ring **rings, unsigned n_rings, uint64_t incarnation, char *err,
		    size_t errlen);
/* Moves what the rings hold into the logs, committing by policy; returns
 * the records handled, or -1 out of memory (err says so).  A write the log
 * refuses suspends the drain (weir_drain_suspended()): 0 then. */
int weir_drain_poll(struct weir_drain *d, uint64_t now_ns, char *err, size_t errlen);
int weir_drain_commit(struct weir_drain *d, uint64_t now_ns, char *err, size_t errlen);
/* True when every ring has been read up to its published tail. */
bool weir_drain_caught_up(const struct weir_drain *d);
/* Bytes published but not yet released, over all rings. */
uint64_t weir_drain_lag_bytes(const struct weir_drain *d);
void weir_drain_close(struct weir_drain *d);
/* While suspended: reopens (recovers) the topics, at most once a second;
 * 0 when they could be.  The log counts as writable again at the next
 * commit that works. */
int weir_drain_resume(struct weir_drain *d, uint64_t now_ns, char *err, size_t errlen);
static inline bool
weir_drain_suspended(const struct weir_drain *d)
{
	return d->suspended;
}

/* The errno of the log's last refusal, until a commit works again (read by /metrics). */
static inline int
weir_drain_log_errno(const struct weir_drain *d)
{
	return __atomic_load_n(&d->log_errno, __ATOMIC_RELAXED);
}

#endif
