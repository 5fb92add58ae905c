/* weir-export's dealings with Kafka besides producing: the client's
 * configuration, the topics it needs, and the committed positions. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_export.h"
#include "weir_export_pvt.h"
#include "weir_time.h"

/* librdkafka's log in weir's words: what a restart always brings (the
 * brokers still fencing and aborting the predecessor's transaction: GETPID
 * until they are done) said once, plainly; the positions consumer's word
 * that it ignores a producer property (it takes the operator's settings for
 * their TLS and SASL) left out; every other warning and error kept, with
 * weir's prefix. */
static void
log_line(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	static int said_fencing;
	if (strcmp(fac, "GETPID") == 0) {
		if (!__atomic_exchange_n(&said_fencing, 1, __ATOMIC_RELAXED))
			fprintf(stderr, "weir-export: Kafka is still ending the previous weir-export's transaction (fencing "
					"and aborting it, as a restart must): waiting for a producer id\n");
		return;
	}
	if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "is a producer property and will be ignored by this consumer"))
		return;
	fprintf(stderr, "weir-export: kafka %s (%s): %s\n", level <= 3 ? "error" : level == 4 ? "warning" : "note", fac,
		buf);
}

/* A configuration check connects nowhere worth hearing about. */
static void
log_nothing(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk, (void)level, (void)fac, (void)buf;
}

/* The producer's configuration: ours, then the operator's (which win). */
rd_kafka_conf_t *
weir_export_conf(const struct weir_config *cfg, const char *file, bool producer, char *err, size_t errlen)
{
	const struct weir_export_cfg *x = &cfg->exp;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, log_line);
	char txn_id[128], why[512];
	snprintf(txn_id, sizeof(txn_id), "weir-export-%s", x->id);
	/* Ours: the producer's (transactions, Java's partitioner) or the
	 * positions consumer's (read_committed, from the beginning, to the end). */
	const char *producer_conf[][2] = {
		{ "bootstrap.servers", x->brokers }, { "transactional.id", txn_id },
		{ "enable.idempotence", "true" },    { "partitioner", "murmur2_random" },
		{ "linger.ms", "5" },                { "transaction.timeout.ms", "60000" },
	};
	const char *consumer_conf[][2] = {
		{ "bootstrap.servers", x->brokers },  { "group.id", txn_id },
		{ "isolation.level", "read_committed" }, { "enable.partition.eof", "true" },
		{ "enable.auto.commit", "false" },    { "auto.offset.reset", "earliest" },
	};
	_Static_assert(sizeof(producer_conf) == sizeof(consumer_conf), "one count for both");
	const char *(*ours)[2] = producer ? producer_conf : consumer_conf;
	for (size_t i = 0; i < sizeof(producer_conf) / sizeof(producer_conf[0]); i++)
		if (rd_kafka_conf_set(conf, ours[i][0], ours[i][1], why, sizeof(why)) != RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "%s: %s", ours[i][0], why);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	size_t o = 0;
	int bad = 0;
	for (unsigned i = 0; i < x->n_props; i++) {
		const struct weir_export_prop *p = &x->props[i];
		if (rd_kafka_conf_set(conf, p->key, p->value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
			bad++;
			if (o < errlen)
				o += (size_t)snprintf(err + o, errlen - o, "%s%s:%u: export kafka set %s: %s", o ? "\n" : "",
						      file, p->line, p->key, why);
		}
	}
	if (bad) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	return conf;
}

int
weir_export_check_config(const struct weir_config *cfg, const char *file, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = weir_export_conf(cfg, file, true, err, errlen);
	if (conf == NULL)
		return -1;
	rd_kafka_conf_set_log_cb(conf, log_nothing);
	/* What only a client made of it says (conflicting settings). */
	char why[512];
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (rk == NULL) {
		snprintf(err, errlen, "%s: export kafka: librdkafka refuses the settings: %s", file, why);
		return -1;
	}
	rd_kafka_destroy(rk);
	return 0;
}

/* Creates the topics that are missing (the positions topic compacted);
 * partitions and replicas are the brokers' defaults. */
int
weir_export_create_topics(struct weir_exporter *x, char *err, size_t errlen)
{
	const struct weir_export_cfg *c = &x->cfg->exp;
	rd_kafka_NewTopic_t *nt[2 * WEIR_MAX_TOPICS + 1];
	size_t n = 0;
	char why[256];
	nt[n] = rd_kafka_NewTopic_new(c->positions_topic, 1, -1, why, sizeof(why));
	if (nt[n])
		rd_kafka_NewTopic_set_config(nt[n++], "cleanup.policy", "compact");
	for (unsigned i = 0; i < x->n; i++) {
		nt[n++] = rd_kafka_NewTopic_new(x->t[i].cfg->kafka_topic, -1, -1, why, sizeof(why));
		if (x->t[i].cfg->loss_topic[0])
			nt[n++] = rd_kafka_NewTopic_new(x->t[i].cfg->loss_topic, -1, -1, why, sizeof(why));
	}
	rd_kafka_queue_t *q = rd_kafka_queue_new(x->rk);
	rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(x->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_operation_timeout(opt, 30000, why, sizeof(why));
	rd_kafka_CreateTopics(x->rk, nt, n, opt, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
	int rc = 0;
	if (ev == NULL || rd_kafka_event_error(ev)) {
		snprintf(err, errlen, "creating topics: %s", ev ? rd_kafka_event_error_string(ev) : "no answer in 60 s");
		rc = -1;
	} else {
		size_t cnt;
		const rd_kafka_topic_result_t **res =
			rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
		for (size_t i = 0; i < cnt && rc == 0; i++) {
			rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
			if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
				snprintf(err, errlen, "creating topic %s: %s", rd_kafka_topic_result_name(res[i]),
					 rd_kafka_topic_result_error_string(res[i]));
				rc = -1;
			}
		}
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(opt);
	rd_kafka_NewTopic_destroy_array(nt, n);
	rd_kafka_queue_destroy(q);
	return rc;
}

/* The partitions of topic, or -1. */
int
weir_export_partitions(rd_kafka_t *rk, const char *topic)
{
	rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md;
	int n = -1;
	if (t && rd_kafka_metadata(rk, 0, t, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (md->topic_cnt == 1 && md->topics[0].err == 0)
			n = md->topics[0].partition_cnt;
		rd_kafka_metadata_destroy(md);
	}
	if (t)
		rd_kafka_topic_destroy(t);
	return n;
}

/* A record of the positions topic: the position of one of our keys. */
static void
position_seen(const struct weir_exporter *x, const rd_kafka_message_t *m, uint64_t *found)
{
	for (unsigned i = 0; i < x->n; i++) {
		const char *key = x->t[i].pos_key;
		size_t kl = strlen(key);
		if (m->key_len == kl && memcmp(m->key, key, kl) == 0 && m->len < 32) {
			char v[32];
			memcpy(v, m->payload, m->len);
			v[m->len] = 0;
			found[i] = strtoull(v, NULL, 10);
		}
	}
}

/* Reads the positions topic, read_committed, up to this run's start mark in
 * each partition (after init_transactions fenced and aborted a
 * predecessor's open transaction, and the mark's own commit settled what it
 * left in them): the last position of each of our keys before the mark. */
int
weir_export_read_positions(struct weir_exporter *x, char *err, size_t errlen)
{
	char why[512];
	rd_kafka_conf_t *conf = weir_export_conf(x->cfg, "config", false, err, errlen);
	if (conf == NULL)
		return -1;
	rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (c == NULL) {
		snprintf(err, errlen, "positions consumer: %s", why);
		return -1;
	}
	const char *topic = x->cfg->exp.positions_topic;
	int parts = weir_export_partitions(c, topic);
	if (parts <= 0) {
		snprintf(err, errlen, "positions topic %s: no metadata", topic);
		rd_kafka_destroy(c);
		return -1;
	}
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
	for (int p = 0; p < parts; p++)
		rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(c, l);
	rd_kafka_topic_partition_list_destroy(l);
	uint64_t found[WEIR_MAX_TOPICS] = { 0 };
	int marked = 0, rc = 0;
	size_t sk = strlen(x->start_key), sm = strlen(x->start_mark);
	uint64_t deadline = weir_monotonic_ns() + 60000000000ull;
	while (marked < parts && rc == 0) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 500);
		if (x->stop && *x->stop) {
			snprintf(err, errlen, "positions topic %s: read stopped", topic);
			rc = -1;
		} else if (weir_monotonic_ns() > deadline) {
			snprintf(err, errlen, "positions topic %s: this run's start mark not read in 60 s (%d of %d partitions)",
				 topic, marked, parts);
			rc = -1;
		}
		if (m == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			/* the end of what is stable: the mark's commit is still to come */
		} else if (m->err) {
			snprintf(err, errlen, "positions topic %s: %s", topic, rd_kafka_message_errstr(m));
			rc = -1;
		} else if (m->key_len == sk && memcmp(m->key, x->start_key, sk) == 0) {
			if (m->len == sm && memcmp(m->payload, x->start_mark, sm) == 0)
				marked++; /* one a partition; what follows it is ours to write */
		} else {
			position_seen(x, m, found);
		}
		rd_kafka_message_destroy(m);
	}
	for (unsigned i = 0; rc == 0 && i < x->n; i++)
		x->t[i].committed = found[i];
	rd_kafka_consumer_close(c);
	rd_kafka_destroy(c);
	return rc;
}

/* Counts a librdkafka error by its code. */
void
weir_export_count_error(struct weir_exporter *x, int code)
{
	for (unsigned i = 0; i < WEIR_EXPORT_ERROR_KINDS; i++) {
		if (x->errors[i].code == code && x->errors[i].count) {
			weir_sw_add(&x->errors[i].count, 1);
			return;
		}
		if (x->errors[i].count == 0) {
			x->errors[i].code = code;
			weir_sw_add(&x->errors[i].count, 1);
			return;
		}
	}
}
