/* The "export ..." and "feed ..." commands: where the log goes and which
 * multicast groups the ports join (docs/pmd-config.md).
 * librdkafka's own properties (export kafka set) are checked by weir-export
 * --check, through librdkafka itself. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "weir_config_pvt.h"

static int
copy_word(struct weir_config_ctx *ctx, const char *what, const char *tok, char *out, size_t len)
{
	if (strlen(tok) >= len) {
		weir_diag_fail(&ctx->d, "%s \"%s\" is too long (at most %zu bytes)", what, tok, len - 1);
		return -1;
	}
	snprintf(out, len, "%s", tok);
	return 0;
}

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
	if (copy_word(ctx, "log topic", t[3], et->log_topic, sizeof(et->log_topic)) ||
	    copy_word(ctx, "Kafka topic", t[4], et->kafka_topic, sizeof(et->kafka_topic)) ||
	    (n == 7 && copy_word(ctx, "Kafka topic", t[6], et->loss_topic, sizeof(et->loss_topic))))
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
		if (copy_word(ctx, "property", t[3], p->key, sizeof(p->key)) ||
		    copy_word(ctx, "value", t[4], p->value, sizeof(p->value)))
			return;
		p->line = ctx->d.line;
		x->n_props++;
	} else if (weir_config_given_before(ctx, t, 3)) {
		return;
	} else if (strcmp(sub, "brokers") == 0 && n == 4) {
		if (copy_word(ctx, "brokers", t[3], x->brokers, sizeof(x->brokers)) == 0)
			x->line_brokers = ctx->d.line;
	} else if (strcmp(sub, "partition-by") == 0 && n == 4 &&
		   (strcmp(t[3], "source") == 0 || strcmp(t[3], "worker") == 0)) {
		x->partition_by_worker = strcmp(t[3], "worker") == 0;
	} else if (strcmp(sub, "id") == 0 && n == 4) {
		copy_word(ctx, "export id", t[3], x->id, sizeof(x->id));
	} else if (strcmp(sub, "positions-topic") == 0 && n == 4) {
		copy_word(ctx, "positions topic", t[3], x->positions_topic, sizeof(x->positions_topic));
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

/* feed NAME port P group G [source S] udp-port N */
void
weir_config_cmd_feed(struct weir_config_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	bool ssm = n == 10;
	int up = ssm ? 8 : 6;
	if ((n != 8 && n != 10) || strcmp(t[2], "port") != 0 || strcmp(t[4], "group") != 0 ||
	    (ssm && strcmp(t[6], "source") != 0) || strcmp(t[up], "udp-port") != 0) {
		weir_diag_fail(&ctx->d, "expected \"feed NAME port P group G [source S] udp-port N\"");
		return;
	}
	if (cfg->n_feed_groups == WEIR_MAX_FEED_GROUPS) {
		weir_diag_fail(&ctx->d, "too many feed groups (at most %d)", WEIR_MAX_FEED_GROUPS);
		return;
	}
	struct weir_feed_group *f = &cfg->feed_groups[cfg->n_feed_groups];
	memset(f, 0, sizeof(*f));
	uint64_t v;
	if (copy_word(ctx, "feed name", t[1], f->feed, sizeof(f->feed)) ||
	    weir_config_uint_range(ctx, "feed port", t[3], 0, WEIR_MAX_PORTS - 1, &v))
		return;
	f->port = (uint16_t)v;
	if (strchr(t[5], ':')) {
		weir_diag_fail(&ctx->d, "group %s: IPv6 groups need MLDv2, which weir does not speak yet: give an IPv4 "
					"group (224.0.0.0/4)",
			       t[5]);
		return;
	}
	if (inet_pton(AF_INET, t[5], &f->group) != 1 || (ntohl(f->group) >> 28) != 0xE ||
	    (ntohl(f->group) >> 8) == 0xE00000) {
		weir_diag_fail(&ctx->d, "group \"%s\" is not a multicast group to join: give one in 224.0.1.0 to "
					"239.255.255.255 (224.0.0.x is link-local control)",
			       t[5]);
		return;
	}
	if (ssm && inet_pton(AF_INET, t[7], &f->source) != 1) {
		weir_diag_fail(&ctx->d, "source \"%s\" is not an IPv4 address", t[7]);
		return;
	}
	if (weir_config_uint_range(ctx, "udp-port", t[up + 1], 1, 65535, &v))
		return;
	f->udp_port = (uint16_t)v;
	for (unsigned i = 0; i < cfg->n_feed_groups; i++)
		if (cfg->feed_groups[i].port == f->port && cfg->feed_groups[i].group == f->group &&
		    cfg->feed_groups[i].source == f->source) {
			weir_diag_fail(&ctx->d, "port %u joins %s on line %u already", f->port, t[5], cfg->feed_groups[i].line);
			return;
		}
	f->line = ctx->d.line;
	cfg->n_feed_groups++;
}

void
weir_config_validate_export(struct weir_config_ctx *ctx)
{
	struct weir_config *cfg = ctx->cfg;
	struct weir_export_cfg *x = &cfg->exp;
	for (unsigned i = 0; i < cfg->n_feed_groups; i++) {
		unsigned d = 0;
		while (d < cfg->n_decoders && cfg->decoders[d].udp_port != cfg->feed_groups[i].udp_port)
			d++;
		if (d == cfg->n_decoders)
			weir_diag_fail_at(&ctx->d, cfg->feed_groups[i].line,
					  "feed %s: no decoder on udp-port %u: add \"decoder moldudp64 udp-port %u topic NAME\"",
					  cfg->feed_groups[i].feed, cfg->feed_groups[i].udp_port, cfg->feed_groups[i].udp_port);
	}
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
