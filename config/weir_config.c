#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weir_config_pvt.h"

#define MAX_TOKENS 32
#define MAX_LINE 4096

void
weir_config_defaults(struct weir_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->rss = WEIR_RSS_UDP;
	for (unsigned p = 0; p < WEIR_MAX_PORTS; p++) {
		cfg->rxd[p] = 1024;
		cfg->txd[p] = 512;
	}
	cfg->burst = 32;
	cfg->mbufs = 16383;
	cfg->ring_bytes = 16u << 20;
	cfg->full_policy = WEIR_FULL_DROP;
	cfg->dead_letter_keep_bytes = 2048;
	cfg->segment_bytes = 64u << 20;
	snprintf(cfg->exp.id, sizeof(cfg->exp.id), "weir");
	snprintf(cfg->exp.positions_topic, sizeof(cfg->exp.positions_topic), "weir.export.positions");
	cfg->exp.batch_records = 50000;
	cfg->exp.commit_interval_ns = 100000000ull;
	cfg->fsync_mode = WEIR_FSYNC_INTERVAL;
	cfg->fsync_interval_ns = 100ull * 1000 * 1000;
	cfg->control_lcore = 0;
	cfg->drain_timeout_ns = 5ull * 1000 * 1000 * 1000;
	cfg->seq.max_sources = 65536;
	cfg->seq.max_gaps = 65536;
	cfg->seq.table_full = WEIR_SEQ_TABLE_FULL_UNTRACKED;
	cfg->log_mode = 0640;
	cfg->seq.gap_timeout_ns = 500ull * 1000 * 1000;
	cfg->seq.rerequest_interval_ns = 20ull * 1000 * 1000;
	cfg->seq.rerequest_max = 3;
	cfg->seq.rerequest_max_count = 1000;
	cfg->seq.rerequest_min_gap_ns = 1000 * 1000;
	cfg->seq.reorder_slots = 65536;
	cfg->seq.restore_window_bytes = UINT64_MAX; /* the whole log: exact */
	cfg->metrics_ip = 0x0100007f;            /* 127.0.0.1: loopback unless told */
	cfg->metrics_port = (uint16_t)((9400 >> 8) | ((9400 & 0xFF) << 8));
	cfg->metrics_top_sources = 10;
	snprintf(cfg->topics[WEIR_TOPIC_DEAD_LETTER], WEIR_TOPIC_NAME_MAX, "_deadletter");
	cfg->n_topics = 1;
}

int
weir_config_add_eal_arg(struct weir_config *cfg, const char *arg)
{
	size_t l = strlen(arg) + 1;
	if (cfg->eal_argc >= WEIR_MAX_EAL_ARGS - 1 || cfg->eal_used + l > sizeof(cfg->eal_buf))
		return -1;
	char *dst = cfg->eal_buf + cfg->eal_used;
	memcpy(dst, arg, l);
	cfg->eal_used += (unsigned)l;
	cfg->eal_argv[cfg->eal_argc++] = dst;
	return 0;
}

/* Whether the setting t[0..words) was given on an earlier line (said so);
 * else it is noted as given here. */
bool
weir_config_given_before(struct weir_config_ctx *ctx, char *const *t, int words)
{
	char key[64];
	size_t o = 0;
	for (int i = 0; i < words && o < sizeof(key) - 1; i++) {
		int n = snprintf(key + o, sizeof(key) - o, "%s%s", i ? " " : "", t[i]);
		o = n < 0 ? o : (size_t)n >= sizeof(key) - o ? sizeof(key) - 1 : o + (size_t)n; /* long words: cut */
	}
	for (unsigned i = 0; i < ctx->n_settings; i++)
		if (strcmp(ctx->settings[i].key, key) == 0) {
			weir_diag_fail(&ctx->d, "\"%s\" is already set on line %u: give each setting once (remove one "
						"of the two lines)",
				       key, ctx->settings[i].line);
			return true;
		}
	if (ctx->n_settings < WEIR_CONFIG_MAX_SETTINGS) {
		snprintf(ctx->settings[ctx->n_settings].key, sizeof(ctx->settings[0].key), "%s", key);
		ctx->settings[ctx->n_settings++].line = ctx->d.line;
	}
	return false;
}

static void
parse_line(struct weir_config_ctx *ctx, char *line)
{
	char *t[MAX_TOKENS];
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == MAX_TOKENS) {
			weir_diag_fail(&ctx->d, "too many words on one line (limit %d)", MAX_TOKENS);
			return;
		}
		t[n++] = tok;
	}
	if (n == 0)
		return;
	if (ctx->port_only && strcmp(t[0], "eal") != 0 && strcmp(t[0], "set") != 0 && strcmp(t[0], "port") != 0) {
		weir_diag_fail(&ctx->d, "\"%s\" has no place in a port file: it takes eal, set and port config lines", t[0]);
		return;
	}
	for (const struct weir_config_command *c = weir_config_commands; c->name; c++)
		if (strcmp(t[0], c->name) == 0) {
			if (c->once_words && n >= c->once_words && weir_config_given_before(ctx, t, c->once_words))
				return;
			c->handler(ctx, t, n);
			return;
		}
	char valid[512];
	size_t o = 0;
	for (const struct weir_config_command *c = weir_config_commands; c->name && o < sizeof(valid); c++)
		o += (size_t)snprintf(valid + o, sizeof(valid) - o, "%s%s", o ? ", " : "", c->name);
	weir_diag_fail(&ctx->d, "unknown command \"%s\": valid are %s", t[0], valid);
}

/* Cross-field rules, checked once the whole file is read. */
static void
validate(struct weir_config_ctx *ctx)
{
	struct weir_config *cfg = ctx->cfg;
	unsigned last = ctx->d.line;
	if (ctx->port_only) {
		if (cfg->n_workers != 1)
			weir_diag_fail_at(&ctx->d, cfg->line_corelist ? cfg->line_corelist : last,
					  "a port file needs \"set corelist N\" naming one lcore: the one that sends");
		return;
	}
	if (cfg->n_workers == 0)
		weir_diag_fail_at(&ctx->d, last, "no worker lcores: add \"set corelist LIST\" (one lcore per RX queue, e.g. set corelist 1)");
	if (cfg->rxq == 0 && cfg->n_workers)
		cfg->rxq = cfg->n_workers;
	if (cfg->n_workers && cfg->rxq != cfg->n_workers)
		weir_diag_fail_at(&ctx->d, cfg->line_rxq,
		     "\"port config all rxq %u\" but \"set corelist\" (line %u) names %u lcores: one worker per RX queue, make them equal",
		     cfg->rxq, cfg->line_corelist, cfg->n_workers);
	for (unsigned i = 0; i < cfg->n_decoders && cfg->seq.key_by_sender; i++)
		if (cfg->decoders[i].rerequest_family)
			weir_diag_fail_at(&ctx->d, cfg->seq.line_key,
			     "\"sequence key source+sender\" cannot go with the rerequest on line %u: retransmissions come from another address; use \"sequence key source\"",
			     cfg->decoders[i].line);
	if (cfg->n_decoders == 0)
		weir_diag_fail_at(&ctx->d, last, "no decoder: add \"decoder moldudp64 udp-port N topic NAME\"");
	if (cfg->log_dir[0] == 0)
		weir_diag_fail_at(&ctx->d, last, "no log directory: add \"log dir PATH\"");
	if (cfg->rules_path[0] && access(cfg->rules_path, R_OK) != 0)
		weir_diag_fail_at(&ctx->d, cfg->line_rules, "rules file %s: %s: give a readable rules file (docs/rules.md)",
				  cfg->rules_path, strerror(errno));
	for (unsigned i = 0; i < cfg->n_retention; i++) {
		const struct weir_retention_cfg *r = &cfg->retention[i];
		unsigned t = 0;
		while (r->topic[0] && t < cfg->n_topics && strcmp(cfg->topics[t], r->topic) != 0)
			t++;
		if (r->topic[0] && t == cfg->n_topics)
			weir_diag_fail_at(&ctx->d, r->line, "retention for topic \"%s\": no decoder writes it; name one of the "
						 "decoders' topics or _deadletter",
					  r->topic);
	}
	weir_config_validate_export(ctx);
	weir_config_validate_feeds(ctx);
	if (cfg->dead_letter_keep_bytes + sizeof(struct weir_record) + 8 > cfg->ring_bytes / 4)
		weir_diag_fail_at(&ctx->d, cfg->line_ring_size, "ring size %llu is too small for dead letters of %u bytes",
		     (unsigned long long)cfg->ring_bytes, cfg->dead_letter_keep_bytes);
}

int
weir_config_parse(const char *text, const char *name, struct weir_config *cfg, char *err, size_t errlen)
{
	return weir_config_parse_bytes(text, strlen(text), name, cfg, err, errlen);
}

/* Whether a line's command (its first word) is one the program reads. */
static bool
reads_command(const char *const *reads, const char *raw)
{
	raw += strspn(raw, " \t");
	size_t n = strcspn(raw, " \t\r\n");
	for (; reads && *reads; reads++)
		if (strlen(*reads) == n && strncmp(*reads, raw, n) == 0)
			return true;
	return reads == NULL;
}

static int
parse_for(const char *text, size_t len, const char *name, const char *const *reads, bool port_only,
	  struct weir_config *cfg, char *err, size_t errlen)
{
	struct weir_config_ctx ctx = { .cfg = cfg, .reads = reads, .port_only = port_only };
	weir_diag_init(&ctx.d, name, err, errlen);
	weir_config_defaults(cfg);
	const char *p = text, *end = text + len;
	char raw[MAX_LINE], line[MAX_LINE];
	int got;
	while ((got = weir_diag_next_line(&ctx.d, &p, end, raw, sizeof(raw))) != 0) {
		if (got < 0)
			continue;
		char *hash = strchr(raw, '#');
		if (hash)
			*hash = 0;
		char unset[128];
		int rc = weir_config_expand_env(&ctx, raw, line, sizeof(line), ctx.reads != NULL, unset, sizeof(unset));
		if (rc == -2 && !reads_command(ctx.reads, raw)) /* another program's line */
			continue;
		if (rc == -2)
			weir_diag_fail(&ctx.d, "environment variable %s is not set (used as ${%s})", unset, unset);
		if (rc == 0)
			parse_line(&ctx, line);
	}
	if (ctx.d.line == 0)
		ctx.d.line = 1;
	validate(&ctx);
	return ctx.d.n_errors ? -1 : 0;
}

int
weir_config_parse_bytes(const char *text, size_t len, const char *name, struct weir_config *cfg, char *err,
			size_t errlen)
{
	return parse_for(text, len, name, NULL, false, cfg, err, errlen);
}

int
weir_config_load(const char *path, struct weir_config *cfg, char *err, size_t errlen)
{
	return weir_config_load_for(path, NULL, cfg, err, errlen);
}

static int
load(const char *path, const char *const *reads, bool port_only, struct weir_config *cfg, char *err, size_t errlen)
{
	char *text;
	size_t len;
	if (weir_diag_read_file(path, 16u << 20, &text, &len, err, errlen) != 0)
		return -1;
	int rc = parse_for(text, len, path, reads, port_only, cfg, err, errlen);
	free(text);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	return rc;
}

int
weir_config_load_for(const char *path, const char *const *reads, struct weir_config *cfg, char *err,
		     size_t errlen)
{
	return load(path, reads, false, cfg, err, errlen);
}

int
weir_config_load_port(const char *path, struct weir_config *cfg, char *err, size_t errlen)
{
	return load(path, NULL, true, cfg, err, errlen);
}

/* An EAL option's value, given as "--opt=V" or "--opt V"; NULL if absent. */
static const char *
eal_value(const struct weir_config *cfg, const char *opt)
{
	size_t n = strlen(opt);
	for (int i = 0; i < cfg->eal_argc; i++) {
		const char *a = cfg->eal_argv[i];
		if (strncmp(a, opt, n) == 0 && a[n] == '=')
			return a + n + 1;
		if (strcmp(a, opt) == 0 && i + 1 < cfg->eal_argc)
			return cfg->eal_argv[i + 1];
	}
	return NULL;
}

const char *
weir_config_file_prefix(const struct weir_config *cfg)
{
	const char *p = eal_value(cfg, "--file-prefix");
	return p ? p : "weir";
}

const char *
weir_config_huge_dir(const struct weir_config *cfg)
{
	return eal_value(cfg, "--huge-dir");
}

unsigned
weir_config_umask(const struct weir_config *cfg)
{
	unsigned m = cfg->log_mode, x = (m & 0444) >> 2;
	return 0777 & ~(m | x);
}

bool
weir_config_no_huge(const struct weir_config *cfg)
{
	for (int i = 0; i < cfg->eal_argc; i++)
		if (strcmp(cfg->eal_argv[i], "--no-huge") == 0)
			return true;
	return false;
}

void
weir_config_retention(const struct weir_config *cfg, const char *topic, struct weir_retention_cfg *out)
{
	memset(out, 0, sizeof(*out));
	/* every topic's first, then the topic's own override each field given */
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < cfg->n_retention; i++) {
			const struct weir_retention_cfg *r = &cfg->retention[i];
			if (pass == 0 ? r->topic[0] != 0 : strcmp(r->topic, topic) != 0)
				continue;
			if (r->has_bytes)
				out->max_bytes = r->max_bytes, out->has_bytes = true;
			if (r->has_age)
				out->max_age_ns = r->max_age_ns, out->has_age = true;
			if (r->has_hard)
				out->hard = r->hard, out->has_hard = true;
		}
}
