#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "weir_drain.h"
#include "weir_failpoint.h"
#include "weir_time.h"

/* Deletes what retention no longer keeps, once a second: only segments
 * before the one being written, which the drain never touches again. */
static void *
retention_loop(void *arg)
{
	struct weir_drain *d = arg;
	while (!__atomic_load_n(&d->retention_stop, __ATOMIC_ACQUIRE)) {
		for (unsigned t = 0; t < d->n_topic_names; t++) {
			char err[512], dir[PATH_MAX + WEIR_TOPIC_NAME_MAX + 2];
			snprintf(dir, sizeof(dir), "%s/%s", d->log_root, d->topic_names[t]);
			/* the drain moves it on at a roll; a stale one only keeps more */
			uint64_t active = __atomic_load_n(&d->active_base[t], __ATOMIC_ACQUIRE);
			if (weir_log_retention_apply(dir, active, &d->retention[t], weir_realtime_ns(),
						     &d->retention_stats[t], err, sizeof(err)) != 0)
				fprintf(stderr, "weir-control: retention: %s\n", err);
		}
		for (int i = 0; i < 10 && !__atomic_load_n(&d->retention_stop, __ATOMIC_ACQUIRE); i++)
			usleep(100 * 1000);
	}
	return NULL;
}

/* Where each topic's segment being written starts, for the retention thread. */
static void
publish_active_bases(struct weir_drain *d)
{
	for (unsigned t = 0; t < d->n_topics; t++)
		__atomic_store_n(&d->active_base[t], d->topics[t].base_offset, __ATOMIC_RELEASE);
}

/* Opens (recovers) every topic; on a failure, closes what it opened. */
static int
open_topics(struct weir_drain *d, char *err, size_t errlen)
{
	for (unsigned t = 0; t < d->n_topic_names; t++) {
		struct weir_log_topic *topic = &d->topics[t];
		uint64_t records = topic->records_appended, bytes = topic->bytes_appended;
		uint64_t committed = topic->records_committed, committed_bytes = topic->bytes_committed;
		if (weir_log_topic_open(topic, d->log_root, d->topic_names[t], err, errlen) != 0) {
			int errnum = errno;
			for (unsigned u = 0; u <= t; u++)
				weir_log_topic_close(&d->topics[u]);
			errno = errnum; /* a full disk is waited for: the caller tells it from damage by it */
			return -1;
		}
		/* this run's figures go on across a reopen; what was appended and
		 * then rewound was never committed, and is not counted there */
		weir_sw_set(&topic->records_appended, records);
		weir_sw_set(&topic->bytes_appended, bytes);
		weir_sw_set(&topic->records_committed, committed);
		weir_sw_set(&topic->bytes_committed, committed_bytes);
		topic->bytes_at_commit = bytes;
	}
	d->n_topics = d->n_topic_names;
	publish_active_bases(d);
	return 0;
}

static int log_refused(struct weir_drain *d, const char *dir, const char *what, uint64_t now_ns);

int
weir_drain_open(struct weir_drain *d, const struct weir_config *cfg, const char topics[][WEIR_TOPIC_NAME_MAX],
		unsigned n_topics, struct weir_ring **rings, unsigned n_rings, uint64_t incarnation, char *err,
		size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->fsync_mode = cfg->fsync_mode;
	d->fsync_interval_ns = cfg->fsync_interval_ns;
	d->segment_bytes = cfg->segment_bytes;
	d->batch_records = 4096;
	d->incarnation = incarnation;
	d->sla_ns = cfg->metrics_sla_ns;
	snprintf(d->log_root, sizeof(d->log_root), "%s", cfg->log_dir);
	for (unsigned t = 0; t < n_topics; t++) {
		snprintf(d->topic_names[t], sizeof(d->topic_names[t]), "%s", topics[t]);
		struct weir_retention_cfg rc;
		weir_config_retention(cfg, topics[t], &rc);
		d->retention[t] = (struct weir_log_retention){ rc.max_bytes, rc.max_age_ns, rc.hard };
	}
	d->n_topic_names = n_topics;
	/* A disk full already (a new topic's first segment, a recovery's write)
	 * is waited for as one met later; damage is not. */
	bool full = open_topics(d, err, errlen) != 0;
	if (full && errno != ENOSPC && errno != EDQUOT)
		return -1;
	for (unsigned r = 0; r < n_rings; r++) {
		weir_ring_consumer_attach(&d->rings[r].c, rings[r]);
		d->rings[r].worker = rings[r]->worker_id;
		rings[r]->consumer_pid = (uint64_t)getpid();
	}
	d->n_rings = n_rings;
	if (full) {
		fprintf(stderr, "weir-control: %s\n", err);
		log_refused(d, d->log_root, "opening the log", weir_realtime_ns());
	}
	d->retention_running = pthread_create(&d->retention_thread, NULL, retention_loop, d) == 0;
	return 0;
}

/*
 * The log refused a write (a full disk, a quota, EIO), in whatever step:
 * the topics are closed and every ring is read again from its head once a
 * reopen works, so nothing is released that is not on file and nothing is
 * written twice (what is there is skipped, as after a restart).  0: nothing
 * moved; the caller retries through weir_drain_resume().
 */
static int
log_refused(struct weir_drain *d, const char *dir, const char *what, uint64_t now_ns)
{
	int errnum = errno ? errno : EIO;
	fprintf(stderr, "weir-control: %s: %s failed: %s: the log takes no writes; records wait in the rings (the "
			"ring-full policy counts what does not fit), retrying every second\n",
		dir, what, strerror(errnum));
	for (unsigned t = 0; t < d->n_topics; t++)
		weir_log_topic_close(&d->topics[t]);
	for (unsigned r = 0; r < d->n_rings; r++)
		weir_ring_consumer_attach(&d->rings[r].c, d->rings[r].c.ring);
	d->n_pending = 0;
	d->uncommitted = false;
	weir_sw_add(&d->log_failures, 1);
	if (!weir_drain_log_errno(d))
		d->log_failed_since_ns = now_ns;
	d->suspended = true;
	d->log_retry_ns = now_ns + 1000000000ull;
	__atomic_store_n(&d->log_errno, errnum, __ATOMIC_RELAXED);
	return 0;
}

/*
 * True while topic's current segment holds a record still in its ring:
 * after a restart the drain skips what is on file a poll at a time, and a
 * commit releases only what it has passed.  Recovery finds unreleased
 * records only in the last segment, so such a segment must not roll yet.
 */
static bool
holds_unreleased(const struct weir_drain *d, const struct weir_log_topic *topic)
{
	for (unsigned r = 0; r < d->n_rings; r++)
		if (weir_log_topic_has(topic, d->rings[r].worker, d->incarnation, d->rings[r].c.ring->head))
			return true;
	return false;
}

/* The drain's persisted figures: what its topics' commits made part of
 * the log (an append a full disk rewound is not). */
static void
count_committed(struct weir_drain *d)
{
	uint64_t records = 0, bytes = 0;
	for (unsigned t = 0; t < d->n_topics; t++) {
		records += d->topics[t].records_committed;
		bytes += d->topics[t].bytes_committed;
	}
	weir_sw_set(&d->records_persisted, records);
	weir_sw_set(&d->bytes_persisted, bytes);
}

/*
 * Writes what was passed and releases it.  fsync: as the policy says too
 * (a room commit between two interval fsyncs passes it up: the records are
 * on file, a process crash loses none, and the next fsync is at most the
 * interval away; their durable latency is taken then).
 */
static int
commit(struct weir_drain *d, uint64_t now_ns, bool fsync)
{
	for (unsigned t = 0; t < d->n_topics; t++) {
		struct weir_log_topic *topic = &d->topics[t];
		if (weir_log_topic_flush(topic) != 0)
			goto io_error;
		if (fsync && d->fsync_mode != WEIR_FSYNC_NONE && topic->unsynced) {
			uint64_t t0 = weir_monotonic_ns();
			if (weir_log_topic_sync(topic) != 0)
				goto io_error;
			uint64_t took = weir_monotonic_ns() - t0;
			weir_hist_add(&d->fsync_latency, took, 1);
			d->fsync_ns_total += took;
			if (took > d->fsync_ns_max)
				d->fsync_ns_max = took;
		}
		/* Before the rings are released: an offset handed out is never handed out again. */
		if (weir_log_topic_commit(topic, fsync && d->fsync_mode != WEIR_FSYNC_NONE) != 0)
			goto io_error;
		continue;
	io_error:
		return log_refused(d, topic->dir, "write/fsync", now_ns);
	}
	count_committed(d);
	weir_failpoint("commit-written"); /* on file, not yet released: the restart must skip it */
	if (!fsync) {
		for (unsigned r = 0; r < d->n_rings; r++)
			weir_ring_release(&d->rings[r].c, now_ns);
		d->room_commits++;
		return 0; /* rolls, durable latency and the interval wait for the fsync */
	}
	/* Durable (by policy): how long each event took to get here. */
	uint64_t durable_ns = weir_realtime_ns();
	for (size_t i = 0; i < d->n_pending; i++) {
		const struct pending_rx *p = &d->pending[i];
		uint64_t lat = durable_ns > p->rx_ns ? durable_ns - p->rx_ns : 0;
		weir_hist_add(&d->durable_latency[p->worker], lat, p->count);
		if (d->sla_ns && lat > d->sla_ns)
			weir_sw_add(&d->sla_breaches[p->worker], p->count);
	}
	d->n_pending = 0;
	/* Now the producer may reuse the space. */
	for (unsigned r = 0; r < d->n_rings; r++)
		weir_ring_release(&d->rings[r].c, now_ns);
	for (unsigned t = 0; t < d->n_topics; t++) {
		uint64_t rolled = d->topics[t].segments_rolled;
		if (!holds_unreleased(d, &d->topics[t]) &&
		    weir_log_topic_roll_if_full(&d->topics[t], d->segment_bytes) != 0)
			return log_refused(d, d->topics[t].dir, "segment roll", now_ns);
		if (d->topics[t].segments_rolled != rolled)
			weir_failpoint("roll");
	}
	publish_active_bases(d);
	d->commits++;
	d->uncommitted = false;
	d->last_commit_ns = now_ns;
	if (weir_drain_log_errno(d)) {
		__atomic_store_n(&d->log_errno, 0, __ATOMIC_RELAXED);
		printf("weir-control: the log takes writes again after %.1f s\n",
		       (double)(now_ns - d->log_failed_since_ns) / 1e9);
	}
	return 0;
}

int
weir_drain_commit(struct weir_drain *d, uint64_t now_ns, char *err, size_t errlen)
{
	if (weir_drain_suspended(d))
		return 0; /* nothing passed since the rewind: the rings keep it */
	return commit(d, now_ns, true);
}

int
weir_drain_resume(struct weir_drain *d, uint64_t now_ns, char *err, size_t errlen)
{
	if (now_ns < d->log_retry_ns)
		return -1;
	d->log_retry_ns = now_ns + 1000000000ull;
	if (open_topics(d, err, errlen) != 0)
		return -1;
	d->suspended = false;
	return 0;
}

static int
note_pending(struct weir_drain *d, unsigned worker, uint64_t rx_ns)
{
	if (d->n_pending) {
		struct pending_rx *last = &d->pending[d->n_pending - 1];
		if (last->rx_ns == rx_ns && last->worker == worker % WEIR_MAX_WORKERS) {
			last->count++;
			return 0;
		}
	}
	if (d->n_pending == d->cap_pending) {
		size_t cap = d->cap_pending ? d->cap_pending * 2 : 65536;
		struct pending_rx *p = realloc(d->pending, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		d->pending = p;
		d->cap_pending = cap;
	}
	d->pending[d->n_pending++] = (struct pending_rx){ rx_ns, worker % WEIR_MAX_WORKERS, 1 };
	return 0;
}

int
weir_drain_poll(struct weir_drain *d, uint64_t now_ns, char *err, size_t errlen)
{
	int moved = 0;
	if (weir_drain_suspended(d))
		return 0;
	for (unsigned r = 0; r < d->n_rings; r++) {
		struct weir_drain_ring *dr = &d->rings[r];
		const struct weir_record *rec;
		uint64_t pos;
		for (unsigned i = 0; i < d->batch_records && (rec = weir_ring_peek(&dr->c, &pos)) != NULL; i++) {
			unsigned topic = rec->topic;
			if (topic >= d->n_topics) {
				d->records_bad_topic++;
				topic = WEIR_TOPIC_DEAD_LETTER;
			}
			struct weir_log_topic *t = &d->topics[topic];
			if (weir_log_topic_has(t, dr->worker, d->incarnation, pos)) {
				weir_sw_add(&d->records_skipped, 1);
			} else {
				if (weir_log_topic_append(t, dr->worker, d->incarnation, pos, rec) != 0)
					return log_refused(d, t->dir, "write", now_ns);
				if (rec->kind == WEIR_REC_EVENT && note_pending(d, dr->worker, rec->rx_ns) != 0) {
					snprintf(err, errlen, "out of memory");
					return -1;
				}
			}
			weir_ring_consumed(&dr->c, rec);
			moved++;
			d->uncommitted = true;
		}
	}
	bool due = d->fsync_mode != WEIR_FSYNC_INTERVAL || now_ns - d->last_commit_ns >= d->fsync_interval_ns;
	/* Never make a worker wait out the interval for room: write and release,
	 * and keep the fsync to the interval (a 4 MiB ring at millions of
	 * records a second asked for one about 175 times a second). */
	bool room = false;
	for (unsigned r = 0; r < d->n_rings && !due && !room; r++) {
		const struct weir_ring *ring = d->rings[r].c.ring;
		room = d->rings[r].c.read - ring->head > ring->size_bytes / 2;
	}
	if (d->uncommitted && (due || room))
		commit(d, now_ns, due);
	return weir_drain_suspended(d) ? 0 : moved;
}

bool
weir_drain_caught_up(const struct weir_drain *d)
{
	for (unsigned r = 0; r < d->n_rings; r++)
		if (d->rings[r].c.read != __atomic_load_n(&d->rings[r].c.ring->tail, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

uint64_t
weir_drain_lag_bytes(const struct weir_drain *d)
{
	uint64_t lag = 0;
	for (unsigned r = 0; r < d->n_rings; r++)
		lag += weir_ring_unreleased(d->rings[r].c.ring);
	return lag;
}

void
weir_drain_close(struct weir_drain *d)
{
	if (d->retention_running) {
		__atomic_store_n(&d->retention_stop, 1, __ATOMIC_RELEASE);
		pthread_join(d->retention_thread, NULL);
		d->retention_running = false;
	}
	for (unsigned t = 0; t < d->n_topics; t++)
		weir_log_topic_close(&d->topics[t]);
	d->n_topics = 0;
	free(d->pending);
	d->pending = NULL;
}
