/* The "export ..." commands: where the log goes (docs/pmd-config.md).
 * librdkafka's own properties (export kafka set) are checked by weir-export
 * --check, through librdkafka itself. */
#include <stdio.h>
#include <string.h>

#include "weir_config_pvt.h"

/* export kafka topic LOGTOPIC KAFKATOPIC [loss KAFKATOPIC] */
static void
export_topic(struct weir_config_ctx *ctx, char **t, int n)
{
	struct weir_export_cfg *x = &ctx->cfg->exp;
	if ((n != 5 && n != 7) || (n == 7 && strcmp(t[5], "loss") != 0)) {
		weir_diag_fail(&ctx->d, "expected \"export kafka topic LOGTOPIC KAFKATOPIC [loss KAFKATOPIC]\"");
		return;
	}
	for (unsigned i = 0; i < x->n_topics; i++)
		if (strcmp(x->topics[i].log_topic, t[3]) == 0) {
			weir_diag_fail(&ctx->d, "log topic %s is exported on line %u already: one Kafka topic per log topic",
				       t[3], x->topics[i].line);
			return;
		}
	if (x->n_topics == WEIR_MAX_TOPICS) {
		weir_diag_fail(&ctx->d, "too many exported topics (at most %d)", WEIR_MAX_TOPICS);
		return;
	}
	struct weir_export_topic *et = &x->topics[x->n_topics];
	memset(et, 0, sizeof(*et));
	if (weir_config_word(ctx, "log topic", t[3], et->log_topic, sizeof(et->log_topic)) ||
	    weir_config_word(ctx, "Kafka topic", t[4], et->kafka_topic, sizeof(et->kafka_topic)) ||
	    !weir_config_kafka_topic_ok(ctx, "Kafka topic", t[4]) ||
	    (n == 7 && (weir_config_word(ctx, "Kafka topic", t[6], et->loss_topic, sizeof(et->loss_topic)) ||
			!weir_config_kafka_topic_ok(ctx, "Kafka topic", t[6]))))
		return;
	et->line = ctx->d.line;
	x->n_topics++;
}

static void
export_kafka(struct weir_config_ctx *ctx, char **t, int n)
{
	struct weir_export_cfg *x = &ctx->cfg->exp;
	uint64_t v;
	const char *sub = n >= 3 ? t[2] : "";
	if (strcmp(sub, "topic") == 0) {
		export_topic(ctx, t, n);
	} else if (strcmp(sub, "set") == 0 && n == 5) {
		if (x->n_props == WEIR_EXPORT_MAX_PROPS) {
			weir_diag_fail(&ctx->d, "too many \"export kafka set\" lines (at most %d)", WEIR_EXPORT_MAX_PROPS);
			return;
		}
		struct weir_export_prop *p = &x->props[x->n_props];
		if (weir_config_word(ctx, "property", t[3], p->key, sizeof(p->key)) ||
		    weir_config_word(ctx, "value", t[4], p->value, sizeof(p->value)))
			return;
		p->line = ctx->d.line;
		x->n_props++;
	} else if (weir_config_given_before(ctx, t, 3)) {
		return;
	} else if (strcmp(sub, "brokers") == 0 && n == 4) {
		if (weir_config_brokers_ok(ctx, t[3]) &&
		    weir_config_word(ctx, "brokers", t[3], x->brokers, sizeof(x->brokers)) == 0)
			x->line_brokers = ctx->d.line;
	} else if (strcmp(sub, "partition-by") == 0 && n == 4 &&
		   (strcmp(t[3], "source") == 0 || strcmp(t[3], "worker") == 0)) {
		x->partition_by_worker = strcmp(t[3], "worker") == 0;
	} else if (strcmp(sub, "id") == 0 && n == 4) {
		weir_config_word(ctx, "export id", t[3], x->id, sizeof(x->id));
	} else if (strcmp(sub, "positions-topic") == 0 && n == 4) {
		if (weir_config_kafka_topic_ok(ctx, "positions topic", t[3]))
			weir_config_word(ctx, "positions topic", t[3], x->positions_topic, sizeof(x->positions_topic));
	} else if (strcmp(sub, "batch") == 0 && n == 4) {
		if (weir_config_uint_range(ctx, "export kafka batch", t[3], 1, 1000000, &v) == 0)
			x->batch_records = (unsigned)v;
	} else if (strcmp(sub, "commit-interval") == 0 && n == 4) {
		weir_config_duration(ctx, "export kafka commit-interval", t[3], &x->commit_interval_ns);
	} else {
		weir_diag_fail(&ctx->d, "expected \"export kafka brokers HOST:PORT,...\", \"export kafka topic LOGTOPIC "
					"KAFKATOPIC [loss KAFKATOPIC]\", \"export kafka partition-by source|worker\", \"export "
					"kafka set KEY VALUE\", \"export kafka id NAME\", \"export kafka positions-topic NAME\", "
					"\"export kafka batch RECORDS\" or \"export kafka commit-interval DURATION\"");
	}
}

void
weir_config_cmd_export(struct weir_config_ctx *ctx, char **t, int n)
{
	if (n >= 2 && strcmp(t[1], "kafka") == 0) {
		export_kafka(ctx, t, n);
	} else if (n == 4 && strcmp(t[1], "metrics") == 0 && strcmp(t[2], "listen") == 0) {
		char *key[3] = { t[0], t[1], t[2] };
		if (!weir_config_given_before(ctx, key, 3))
			weir_config_ipv4_port(ctx, t[3], &ctx->cfg->exp.metrics_ip, &ctx->cfg->exp.metrics_port);
	} else {
		weir_diag_fail(&ctx->d, "expected \"export kafka ...\" or \"export metrics listen IPV4:PORT\"");
	}
}

void
weir_config_validate_export(struct weir_config_ctx *ctx)
{
	struct weir_config *cfg = ctx->cfg;
	struct weir_export_cfg *x = &cfg->exp;
	for (unsigned i = 0; i < x->n_topics; i++) {
		unsigned t = 0;
		while (t < cfg->n_topics && strcmp(cfg->topics[t], x->topics[i].log_topic) != 0)
			t++;
		if (t == cfg->n_topics)
			weir_diag_fail_at(&ctx->d, x->topics[i].line,
					  "export of log topic \"%s\": no decoder writes it; name one of the decoders' "
					  "topics or _deadletter",
					  x->topics[i].log_topic);
	}
	if (x->n_topics && x->brokers[0] == 0)
		weir_diag_fail_at(&ctx->d, x->topics[0].line,
				  "topics are exported but no brokers are named: add \"export kafka brokers HOST:PORT,...\"");
	if (x->brokers[0] && x->n_topics == 0)
		weir_diag_fail_at(&ctx->d, x->line_brokers,
				  "brokers are named but no topic is exported: add \"export kafka topic LOGTOPIC KAFKATOPIC\"");
}
