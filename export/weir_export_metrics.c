/* weir-export's /metrics and /healthz. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_export.h"
#include "weir_prom.h"

/* A family a topic: a gauge (lag) only once it holds a figure, since 0
 * before Kafka's positions are known would say nothing waits. */
static void
per_topic(struct weir_prom *b, const struct weir_exporter *x, const char *name, const char *type, const char *help,
	  size_t at)
{
	weir_prom_family(b, name, type, help);
	bool known = strcmp(type, "gauge") != 0 || __atomic_load_n(&x->lag_known, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; known && i < x->n; i++)
		weir_prom_put(b, "%s{topic=\"%s\",kafka_topic=\"%s\"} %" PRIu64 "\n", name, x->t[i].cfg->log_topic,
			      x->t[i].cfg->kafka_topic, weir_sw_load((const uint64_t *)((const char *)&x->t[i] + at)));
}

char *
weir_export_render(const void *ctx, size_t *len)
{
	const struct weir_exporter *x = ctx;
	struct weir_prom b = { .cap = 1 << 14 };
	b.p = malloc(b.cap);
	if (b.p == NULL)
		return NULL;
	per_topic(&b, x, "weir_export_records_total", "counter", "log records committed to Kafka",
		  offsetof(struct weir_export_topic_state, records));
	per_topic(&b, x, "weir_export_bytes_total", "counter", "payload bytes committed to Kafka",
		  offsetof(struct weir_export_topic_state, bytes));
	per_topic(&b, x, "weir_export_lag_records", "gauge", "log records committed locally, not yet in Kafka",
		  offsetof(struct weir_export_topic_state, lag_records));
	per_topic(&b, x, "weir_export_lag_bytes", "gauge", "log bytes between what Kafka holds and the log's end",
		  offsetof(struct weir_export_topic_state, lag_bytes));
	per_topic(&b, x, "weir_export_unshipped_deleted_total", "counter",
		  "offsets hard retention deleted before they were shipped", offsetof(struct weir_export_topic_state, truncated));
	per_topic(&b, x, "weir_export_unshipped_lost_total", "counter",
		  "offsets the log states lost (weir-read --salvage), passed over unshipped",
		  offsetof(struct weir_export_topic_state, holes));
	weir_prom_family(&b, "weir_export_produce_seconds", "histogram", "produce to delivery report, per record");
	weir_prom_histogram(&b, "weir_export_produce_seconds", "", &x->produce_latency);
	weir_prom_family(&b, "weir_export_commit_seconds", "histogram", "commit_transaction, per transaction");
	weir_prom_histogram(&b, "weir_export_commit_seconds", "", &x->commit_latency);
	weir_prom_family(&b, "weir_export_transaction_age_seconds", "histogram",
			 "how long each committed transaction was open (commit-interval bounds it, backlog or not)");
	weir_prom_histogram(&b, "weir_export_transaction_age_seconds", "", &x->txn_age);
	weir_prom_family(&b, "weir_export_transactions_total", "counter", "transactions committed");
	weir_prom_put(&b, "weir_export_transactions_total %" PRIu64 "\n", weir_sw_load(&x->commits));
	weir_prom_family(&b, "weir_export_transaction_aborts_total", "counter", "transactions aborted (and read again)");
	weir_prom_put(&b, "weir_export_transaction_aborts_total %" PRIu64 "\n", weir_sw_load(&x->aborts));
	weir_prom_family(&b, "weir_export_errors_total", "counter", "librdkafka errors, by their code's name");
	for (unsigned i = 0; i < WEIR_EXPORT_ERROR_KINDS; i++) {
		uint64_t n = weir_sw_load(&x->errors[i].count);
		if (n)
			weir_prom_put(&b, "weir_export_errors_total{code=\"%s\"} %" PRIu64 "\n",
				      rd_kafka_err2name(x->errors[i].code), n);
	}
	weir_prom_family(&b, "weir_export_kafka_up", "gauge",
			 "0 while every broker is down or the last commit failed; 1 once one works");
	weir_prom_put(&b, "weir_export_kafka_up %u\n", __atomic_load_n(&x->kafka_up, __ATOMIC_RELAXED));
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

int
weir_export_health(const void *ctx, char *why, size_t len)
{
	const struct weir_exporter *x = ctx;
	if (!__atomic_load_n(&x->kafka_up, __ATOMIC_RELAXED)) {
		snprintf(why, len, "kafka unreachable or refusing commits: the log holds the records meanwhile");
		return 1;
	}
	snprintf(why, len, "ok");
	return 0;
}
