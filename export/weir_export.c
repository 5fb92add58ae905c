#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weir_export.h"
#include "weir_export_map.h"
#include "weir_export_pvt.h"
#include "weir_time.h"

#define BACKOFF_MIN_NS 200000000ull    /* after an aborted transaction: 0.2 s, doubling */
#define BACKOFF_MAX_NS 10000000000ull  /* to 10 s */
/* Kafka is asked a second at a time (init, commit, abort): while it is away
 * the lag gauges still follow the log, and a stop is heard. */
#define ASK_MS 1000

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	struct weir_exporter *x = opaque;
	if (m->err) {
		weir_export_count_error(x, m->err);
		return;
	}
	uint64_t sent = (uint64_t)(uintptr_t)m->_private;
	uint64_t now = weir_monotonic_ns();
	if (sent && now > sent)
		weir_hist_add(&x->produce_latency, now - sent, 1);
}

static void
on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	struct weir_exporter *x = opaque;
	weir_export_count_error(x, err);
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		__atomic_store_n(&x->kafka_up, 0, __ATOMIC_RELAXED);
	fprintf(stderr, "weir-export: kafka: %s: %s\n", rd_kafka_err2name(err), reason);
}

/* Says what a transactional call's error was; true when it is fatal. */
static bool
txn_error(struct weir_exporter *x, const char *what, rd_kafka_error_t *e, char *err, size_t errlen)
{
	weir_export_count_error(x, rd_kafka_error_code(e));
	bool fatal = rd_kafka_error_is_fatal(e);
	snprintf(err, errlen, "%s: %s%s", what, rd_kafka_error_string(e),
		 fatal ? " (fatal: another weir-export with this id took over, or the producer cannot go on)" : "");
	fprintf(stderr, "weir-export: %s\n", err);
	return fatal;
}

static int
open_readers(struct weir_exporter *x, char *err, size_t errlen)
{
	char reader[96];
	snprintf(reader, sizeof(reader), "export-%s", x->cfg->exp.id);
	for (unsigned i = 0; i < x->n; i++) {
		struct weir_export_topic_state *t = &x->t[i];
		bool said = false;
		while (weir_log_reader_open(&t->r, x->log_dir, t->cfg->log_topic, err, errlen) != 0) {
			if (errno != ENOENT)
				return -1;
			if (x->stop && *x->stop)
				return 1;
			if (!said) /* weir-control makes it when it first drains */
				printf("weir-export: waiting for log topic %s/%s to be made\n", x->log_dir, t->cfg->log_topic);
			said = true;
			usleep(200 * 1000);
		}
		/* A full disk is waited for: unregistered, retention would not
		 * keep what is not shipped yet. */
		bool waited = false;
		while (weir_log_reader_register(t->r, reader) != 0 || weir_log_reader_mark(t->r, t->committed) != 0) {
			if (errno != ENOSPC && errno != EDQUOT) {
				snprintf(err, errlen, "%s", weir_log_reader_error(t->r));
				return -1;
			}
			if (!waited)
				fprintf(stderr, "weir-export: %s: %s: waiting for room to register as the log's reader, "
						"asked again each second\n", t->cfg->log_topic, weir_log_reader_error(t->r));
			waited = true;
			if (x->stop && *x->stop)
				return 1;
			sleep(1);
		}
		int rc = weir_log_reader_seek(t->r, t->committed);
		if (rc == WEIR_LOG_READ_TRUNCATED) {
			uint64_t first = weir_log_reader_position(t->r);
			weir_export_deleted(t, t->committed, first); /* stated in Kafka with what ships next */
			t->committed = first;
		} else if (rc < 0) {
			snprintf(err, errlen, "%s", weir_log_reader_error(t->r));
			return -1;
		}
		t->pending = t->committed;
		weir_log_reader_place(t->r, &t->committed_place);
		printf("weir-export: %s -> %s from log offset %" PRIu64 "\n", t->cfg->log_topic, t->cfg->kafka_topic,
		       t->committed);
	}
	return 0;
}

void
weir_export_init(struct weir_exporter *x, const struct weir_config *cfg, const char *log_dir)
{
	const volatile int *stop = x->stop;
	memset(x, 0, sizeof(*x));
	x->stop = stop;
	x->cfg = cfg;
	x->log_dir = log_dir;
	x->kafka_up = 0; /* until init_transactions has an answer */
	snprintf(x->txn_id, sizeof(x->txn_id), "weir-export-%s", cfg->exp.id);
	snprintf(x->start_key, sizeof(x->start_key), "%s start", cfg->exp.id); /* no log topic has a space */
	for (unsigned i = 0; i < cfg->exp.n_topics; i++) {
		struct weir_export_topic_state *t = &x->t[x->n++];
		t->cfg = &cfg->exp.topics[i];
		snprintf(t->pos_key, sizeof(t->pos_key), "%s/%s", cfg->exp.id, t->cfg->log_topic);
	}
}

/* A transaction of one start mark in each partition of the positions topic,
 * unique to this run: the positions are read up to it, not to the
 * partitions' ends.  A broker restarted between a commit and its markers can
 * call the commit complete and leave its partitions without them (Kafka 4.4,
 * one broker: the commit's position stayed past the partition's last stable
 * offset, so a read to the end missed it and its records were shipped again;
 * explorer seed 1113946175).  Our next transaction in a partition settles
 * what we left open there, and a read that reaches the mark has seen it all.
 * 0; 1 to ask again; -1 fatal (fenced). */
static int
mark_start(struct weir_exporter *x, char *err, size_t errlen)
{
	const char *topic = x->cfg->exp.positions_topic;
	int parts = weir_export_partitions(x->rk, topic);
	if (parts <= 0) {
		snprintf(err, errlen, "positions topic %s: no metadata", topic);
		return 1;
	}
	snprintf(x->start_mark, sizeof(x->start_mark), "%d %" PRIu64, (int)getpid(), weir_realtime_ns());
	rd_kafka_error_t *e = rd_kafka_begin_transaction(x->rk);
	for (int p = 0; e == NULL && p < parts; p++) {
		rd_kafka_resp_err_t r = rd_kafka_producev(
			x->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(p),
			RD_KAFKA_V_KEY(x->start_key, strlen(x->start_key)),
			RD_KAFKA_V_VALUE(x->start_mark, strlen(x->start_mark)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_END);
		if (r != RD_KAFKA_RESP_ERR_NO_ERROR)
			e = rd_kafka_error_new(r, "start mark: %s", rd_kafka_err2str(r));
	}
	/* An unknown outcome is asked again: it must be known before a next try. */
	while (e == NULL && (e = rd_kafka_commit_transaction(x->rk, ASK_MS)) != NULL && rd_kafka_error_is_retriable(e) &&
	       !(x->stop && *x->stop)) {
		weir_export_count_error(x, rd_kafka_error_code(e));
		rd_kafka_error_destroy(e);
		e = NULL;
	}
	if (e == NULL)
		return 0;
	if (x->stop && *x->stop) { /* the caller ends: the next run's producer id ends this one */
		rd_kafka_error_destroy(e);
		return 1;
	}
	bool fatal = rd_kafka_error_is_fatal(e);
	snprintf(err, errlen, "start mark in %s: %s", topic, rd_kafka_error_string(e));
	weir_export_count_error(x, rd_kafka_error_code(e));
	rd_kafka_error_destroy(e);
	if (fatal)
		return -1;
	/* Ended unshipped whatever its outcome: the next try is a new mark. */
	rd_kafka_error_t *a = rd_kafka_abort_transaction(x->rk, 10000);
	if (a) {
		fatal = rd_kafka_error_is_fatal(a);
		rd_kafka_error_destroy(a);
	}
	return fatal ? -1 : 1;
}

int
weir_export_open(struct weir_exporter *x, char *err, size_t errlen)
{
	const struct weir_config *cfg = x->cfg;
	rd_kafka_conf_t *conf = weir_export_conf(cfg, "config", true, err, errlen);
	if (conf == NULL)
		return -1;
	rd_kafka_conf_set_opaque(conf, x);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	char why[512];
	x->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (x->rk == NULL) {
		snprintf(err, errlen, "producer: %s", why);
		return -1;
	}
	/* Fences a predecessor with our transactional.id and aborts what it left
	 * open.  Kafka away at start is waited for, a second at a time (a stop
	 * is heard); only a fatal answer ends the process. */
	rd_kafka_error_t *e;
	bool said = false;
	while ((e = rd_kafka_init_transactions(x->rk, ASK_MS)) != NULL) {
		if (!rd_kafka_error_is_retriable(e)) {
			txn_error(x, "init_transactions", e, err, errlen);
			rd_kafka_error_destroy(e);
			return -1;
		}
		weir_export_count_error(x, rd_kafka_error_code(e));
		if (!said)
			fprintf(stderr, "weir-export: waiting for Kafka to answer (%s): asked again each second\n",
				rd_kafka_error_string(e));
		said = true;
		rd_kafka_error_destroy(e);
		if (x->stop && *x->stop)
			return 1;
	}
	__atomic_store_n(&x->kafka_up, 1, __ATOMIC_RELAXED);
	/* Kafka may go away now too: a service waits for it, saying why. */
	int marked = 0;
	while (weir_export_create_topics(x, err, errlen) != 0 || (marked = mark_start(x, err, errlen)) != 0 ||
	       weir_export_read_positions(x, err, errlen) != 0) {
		if (marked < 0)
			return -1;
		__atomic_store_n(&x->kafka_up, 0, __ATOMIC_RELAXED);
		fprintf(stderr, "weir-export: %s; trying again in 1 s\n", err);
		if (x->stop && *x->stop)
			return 1;
		sleep(1);
	}
	__atomic_store_n(&x->kafka_up, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < x->n; i++) {
		struct weir_export_topic_state *t = &x->t[i];
		t->partitions = weir_export_partitions(x->rk, t->cfg->kafka_topic);
		if (t->cfg->loss_topic[0])
			t->loss_partitions = weir_export_partitions(x->rk, t->cfg->loss_topic);
	}
	return open_readers(x, err, errlen);
}

int
weir_export_send(struct weir_exporter *x, const char *topic, int32_t partition, const struct weir_export_record *rec,
		 bool timed)
{
	for (;;) {
		rd_kafka_headers_t *h = rd_kafka_headers_new(rec->n_headers);
		for (unsigned k = 0; k < rec->n_headers; k++)
			rd_kafka_header_add(h, rec->headers[k].name, -1, rec->headers[k].value, rec->headers[k].value_len);
		rd_kafka_resp_err_t e = rd_kafka_producev(
			x->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
			RD_KAFKA_V_KEY(rec->key_len ? rec->key : NULL, rec->key_len),
			RD_KAFKA_V_VALUE((void *)rec->value, rec->value_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_TIMESTAMP(rec->timestamp_ms), RD_KAFKA_V_HEADERS(h),
			RD_KAFKA_V_OPAQUE((void *)(uintptr_t)(timed ? weir_monotonic_ns() : 0)), RD_KAFKA_V_END);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			return 0;
		rd_kafka_headers_destroy(h);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			weir_export_count_error(x, e);
			return -1;
		}
		weir_sw_add(&x->produce_retries, 1);
		rd_kafka_poll(x->rk, 10); /* the local queue is full: let deliveries drain it */
	}
}

/* One entry as a Kafka record, in the open transaction. */
static int
produce(struct weir_exporter *x, struct weir_export_topic_state *t, const struct weir_log_item *it)
{
	struct weir_export_record rec;
	weir_export_map(it, &rec);
	const char *topic = it->record->kind == WEIR_REC_LOSS && t->cfg->loss_topic[0] ? t->cfg->loss_topic
											: t->cfg->kafka_topic;
	int32_t partition = RD_KAFKA_PARTITION_UA;
	if (x->cfg->exp.partition_by_worker && t->partitions > 0 && topic == t->cfg->kafka_topic)
		partition = (int32_t)(it->entry->worker % (unsigned)t->partitions);
	return weir_export_send(x, topic, partition, &rec, true);
}

static int
produce_position(struct weir_exporter *x, struct weir_export_topic_state *t)
{
	char v[32];
	int n = snprintf(v, sizeof(v), "%" PRIu64, t->pending);
	return rd_kafka_producev(x->rk, RD_KAFKA_V_TOPIC(x->cfg->exp.positions_topic),
				 RD_KAFKA_V_KEY(t->pos_key, strlen(t->pos_key)), RD_KAFKA_V_VALUE(v, (size_t)n),
				 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == 0
		       ? 0
		       : -1;
}

/* Back to what Kafka holds: the open transaction was aborted. */
static void
rewind_to_committed(struct weir_exporter *x, uint64_t now_ns)
{
	for (unsigned i = 0; i < x->n; i++) {
		struct weir_export_topic_state *t = &x->t[i];
		t->txn_records = t->txn_bytes = 0;
		weir_export_holes_aborted(t);
		if (t->pending == t->committed)
			continue;
		t->pending = t->committed;
		/* Hard retention may have deleted it meanwhile: the reader is then at
		 * the first it kept, and that is no hole salvage stated. */
		if (weir_log_reader_seek(t->r, t->committed) == WEIR_LOG_READ_TRUNCATED) {
			t->pending = weir_log_reader_position(t->r);
			weir_export_deleted(t, t->committed, t->pending);
		}
		weir_log_reader_place(t->r, &t->committed_place);
	}
	x->in_txn = false;
	x->txn_records = 0;
	x->backoff_ns = x->backoff_ns ? x->backoff_ns * 2 : BACKOFF_MIN_NS;
	if (x->backoff_ns > BACKOFF_MAX_NS)
		x->backoff_ns = BACKOFF_MAX_NS;
	x->retry_at_ns = now_ns + x->backoff_ns;
	weir_sw_add(&x->aborts, 1);
}

/* The lag gauges from each reader's committed point as last read (a
 * refresh reads them again first). */
static void
update_lag(struct weir_exporter *x, uint64_t now_ns, bool refresh)
{
	for (unsigned i = 0; i < x->n; i++) {
		struct weir_export_topic_state *t = &x->t[i];
		if (refresh)
			(void)weir_log_reader_refresh(t->r); /* unread, it keeps the end it had */
		uint64_t end = weir_log_reader_committed(t->r);
		weir_sw_set(&t->lag_records, end > t->committed && end != UINT64_MAX ? end - t->committed : 0);
		if (now_ns >= x->lag_bytes_at_ns) /* stats the segments: once a second; from Kafka's point, not the
						    * reader's, which may be an open transaction ahead */
			weir_sw_set(&t->lag_bytes, weir_log_reader_bytes_from(t->r, &t->committed_place));
	}
	if (now_ns >= x->lag_bytes_at_ns)
		x->lag_bytes_at_ns = now_ns + 1000000000ull;
	__atomic_store_n(&x->lag_known, 1, __ATOMIC_RELEASE);
}

/* Ends the open transaction unshipped, asking a second at a time until
 * Kafka answers (the records of an outage longer than the transaction
 * timeout expire, and only an abort lets the next transaction begin) or a
 * stop; -1 fatal. */
static int
abort_txn(struct weir_exporter *x, char *err, size_t errlen)
{
	rd_kafka_error_t *e;
	while ((e = rd_kafka_abort_transaction(x->rk, ASK_MS)) != NULL) {
		bool again = rd_kafka_error_is_retriable(e);
		bool fatal = false;
		if (again)
			weir_export_count_error(x, rd_kafka_error_code(e));
		else
			fatal = txn_error(x, "abort_transaction", e, err, errlen);
		rd_kafka_error_destroy(e);
		if (fatal)
			return -1;
		if (!again || (x->stop && *x->stop))
			return 0;
		update_lag(x, weir_monotonic_ns(), true);
	}
	return 0;
}

/* Commits the open transaction with its positions; -1 fatal.  Told to stop
 * while Kafka has not answered, it leaves the transaction as it is: the next
 * run's producer id ends it, and that run goes on from the positions Kafka
 * holds, so nothing is lost or repeated. */
static int
commit(struct weir_exporter *x, uint64_t now_ns, char *err, size_t errlen)
{
	/* No position past a deletion not yet stated (a topic that moved past
	 * it with no record in this transaction states it here). */
	for (unsigned i = 0; i < x->n; i++)
		if (x->t[i].pending != x->t[i].committed &&
		    (weir_export_state_holes(x, &x->t[i], x->t[i].pending) != 0 || produce_position(x, &x->t[i]) != 0)) {
			if (abort_txn(x, err, errlen) != 0)
				return -1;
			rewind_to_committed(x, now_ns);
			return 0;
		}
	uint64_t t0 = weir_monotonic_ns();
	rd_kafka_error_t *e;
	while ((e = rd_kafka_commit_transaction(x->rk, ASK_MS)) != NULL) {
		bool retry = rd_kafka_error_is_retriable(e), abort = rd_kafka_error_txn_requires_abort(e);
		bool fatal = false;
		if (retry && !__atomic_load_n(&x->kafka_up, __ATOMIC_RELAXED))
			weir_export_count_error(x, rd_kafka_error_code(e)); /* said once an outage, not each second */
		else
			fatal = txn_error(x, "commit_transaction", e, err, errlen);
		rd_kafka_error_destroy(e);
		__atomic_store_n(&x->kafka_up, 0, __ATOMIC_RELAXED);
		if (fatal)
			return -1;
		if (retry && x->stop && *x->stop) {
			x->unanswered = true;
			return 0;
		}
		if (retry) { /* the outcome is not known yet: ask again */
			update_lag(x, weir_monotonic_ns(), true);
			continue;
		}
		if (abort && abort_txn(x, err, errlen) != 0)
			return -1;
		rewind_to_committed(x, weir_monotonic_ns());
		return 0;
	}
	weir_hist_add(&x->commit_latency, weir_monotonic_ns() - t0, 1);
	weir_hist_add(&x->txn_age, t0 - x->txn_start_ns, 1);
	for (unsigned i = 0; i < x->n; i++) {
		struct weir_export_topic_state *t = &x->t[i];
		if (t->pending != t->committed)
			weir_log_reader_mark(t->r, t->pending); /* retention may take what Kafka holds */
		t->committed = t->pending;
		weir_log_reader_place(t->r, &t->committed_place); /* the reader is at pending: all it read is in */
		weir_export_holes_committed(t);
		weir_sw_add(&t->records, t->txn_records);
		weir_sw_add(&t->bytes, t->txn_bytes);
		t->txn_records = t->txn_bytes = 0;
	}
	x->in_txn = false;
	x->txn_records = 0;
	x->backoff_ns = 0;
	weir_sw_add(&x->commits, 1);
	__atomic_store_n(&x->kafka_up, 1, __ATOMIC_RELAXED);
	return 0;
}

static int
begin(struct weir_exporter *x, uint64_t now_ns, char *err, size_t errlen)
{
	rd_kafka_error_t *e = rd_kafka_begin_transaction(x->rk);
	if (e) {
		bool fatal = txn_error(x, "begin_transaction", e, err, errlen);
		rd_kafka_error_destroy(e);
		return fatal ? -1 : 1;
	}
	x->in_txn = true;
	x->txn_start_ns = now_ns;
	x->txn_records = 0;
	return 0;
}

/* Whether the open transaction has what it may hold: batch records, or
 * commit-interval of age (the clock read every 256 records: under a backlog
 * the interval, not the batch, bounds the latency). */
static bool
txn_full(const struct weir_exporter *x, unsigned produced)
{
	if (x->txn_records >= x->cfg->exp.batch_records)
		return true;
	return x->in_txn && produced % 256 == 255 &&
	       weir_monotonic_ns() - x->txn_start_ns >= x->cfg->exp.commit_interval_ns;
}

/* Reads topic t into the open transaction, up to turn records or what the
 * transaction may hold. */
static int
read_topic(struct weir_exporter *x, struct weir_export_topic_state *t, unsigned turn, uint64_t now_ns, char *err,
	   size_t errlen)
{
	int produced = 0;
	while ((unsigned)produced < turn && !txn_full(x, (unsigned)produced)) {
		struct weir_log_item it;
		int rc = weir_log_reader_next(t->r, &it);
		if (rc == WEIR_LOG_READ_END)
			break;
		if (rc == WEIR_LOG_READ_TRUNCATED) {
			uint64_t first = weir_log_reader_position(t->r);
			weir_export_deleted(t, t->pending, first);
			t->pending = first;
			continue;
		}
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", t->cfg->log_topic, weir_log_reader_error(t->r));
			return -1;
		}
		if (!x->in_txn) {
			int b = begin(x, now_ns, err, errlen);
			if (b) { /* not now: read it again next round */
				weir_log_reader_seek(t->r, t->pending);
				return b < 0 ? -1 : produced;
			}
		}
		if (weir_export_state_holes(x, t, it.entry->offset) != 0 || produce(x, t, &it) != 0) {
			weir_log_reader_seek(t->r, t->pending); /* its transaction is aborted below */
			return -2;
		}
		t->pending = it.entry->offset + 1;
		t->txn_records++;
		t->txn_bytes += it.payload_len;
		x->txn_records++;
		produced++;
	}
	return produced;
}

/* The topics in turns of an equal share of the batch, the front one
 * changing each round, until the transaction is full or nothing is left: a
 * backlog on one topic never starves another.  The records produced, -1
 * fatal, or -2 when a refused produce made the transaction abort. */
static int
read_round(struct weir_exporter *x, uint64_t now_ns, char *err, size_t errlen)
{
	unsigned turn = x->n ? x->cfg->exp.batch_records / x->n : 0;
	turn = turn < 64 ? 64 : turn > 1024 ? 1024 : turn; /* small turns: topics interleave within a transaction */
	int produced = 0, more = 1;
	while (more > 0 && !txn_full(x, 255)) {
		more = 0;
		for (unsigned k = 0; k < x->n; k++) {
			int rc = read_topic(x, &x->t[(x->next_topic + k) % x->n], turn, now_ns, err, errlen);
			if (rc == -1)
				return -1;
			if (rc == -2) { /* a produce the client refused: the transaction cannot stand */
				if (abort_txn(x, err, errlen) != 0)
					return -1;
				rewind_to_committed(x, now_ns);
				return -2;
			}
			produced += rc;
			more += rc;
		}
	}
	x->next_topic = x->n ? (x->next_topic + 1) % x->n : 0;
	return produced;
}

int
weir_export_step(struct weir_exporter *x, uint64_t now_ns, char *err, size_t errlen)
{
	rd_kafka_poll(x->rk, 0);
	if (now_ns < x->retry_at_ns)
		return 0;
	update_lag(x, now_ns, false); /* before a commit that may wait for an absent Kafka */
	int produced = read_round(x, now_ns, err, errlen);
	if (produced < 0)
		return produced == -1 ? -1 : 0;
	uint64_t now = weir_monotonic_ns();
	if (x->in_txn && (x->txn_records >= x->cfg->exp.batch_records || produced == 0 ||
			  now - x->txn_start_ns >= x->cfg->exp.commit_interval_ns) &&
	    commit(x, now_ns, err, errlen) != 0)
		return -1;
	update_lag(x, now_ns, false);
	return produced;
}

void
weir_export_wait(struct weir_exporter *x, int ms)
{
	if (x->n)
		weir_log_reader_wait(x->t[0].r, ms);
	rd_kafka_poll(x->rk, 0);
}

bool
weir_export_caught_up(struct weir_exporter *x)
{
	for (unsigned i = 0; i < x->n; i++) {
		uint64_t end = weir_log_reader_committed(x->t[i].r);
		if (x->in_txn || x->t[i].committed < end)
			return false;
	}
	return true;
}

int
weir_export_flush(struct weir_exporter *x, char *err, size_t errlen)
{
	if (x->in_txn && !x->unanswered && commit(x, weir_monotonic_ns(), err, errlen) != 0)
		return -1;
	if (x->in_txn && x->unanswered)
		fprintf(stderr,
			"weir-export: stopped with a transaction of %u records not known to be committed (Kafka did not answer): "
			"the next run ends it and goes on from the positions Kafka holds\n",
			x->txn_records);
	return 0;
}

void
weir_export_close(struct weir_exporter *x)
{
	for (unsigned i = 0; i < x->n; i++)
		weir_log_reader_close(x->t[i].r);
	if (x->rk) {
		if (!x->unanswered) /* Kafka away: its records would wait out the flush for nothing */
			rd_kafka_flush(x->rk, 10000);
		rd_kafka_destroy(x->rk);
	}
	x->rk = NULL;
	x->n = 0;
}
