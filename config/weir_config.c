#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_config.h"

#define MAX_TOKENS 32
#define MAX_LINE 4096

struct parse_ctx {
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
	size_t errused;
	unsigned n_errors;
	struct weir_config *cfg;
};

static void __attribute__((format(printf, 3, 4)))
fail(struct parse_ctx *ctx, unsigned line, const char *fmt, ...)
{
	ctx->n_errors++;
	if (ctx->errused + 1 >= ctx->errlen)
		return;
	int n = snprintf(ctx->err + ctx->errused, ctx->errlen - ctx->errused, "%s%s:%u: ",
			 ctx->errused ? "\n" : "", ctx->name, line);
	if (n > 0)
		ctx->errused += (size_t)n;
	if (ctx->errused >= ctx->errlen) {
		ctx->errused = ctx->errlen - 1;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	n = vsnprintf(ctx->err + ctx->errused, ctx->errlen - ctx->errused, fmt, ap);
	va_end(ap);
	if (n > 0)
		ctx->errused += (size_t)n;
	if (ctx->errused >= ctx->errlen)
		ctx->errused = ctx->errlen - 1;
}

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
	cfg->fsync_mode = WEIR_FSYNC_INTERVAL;
	cfg->fsync_interval_ns = 100ull * 1000 * 1000;
	cfg->control_lcore = 0;
	cfg->drain_timeout_ns = 5ull * 1000 * 1000 * 1000;
	cfg->seq.max_sources = 65536;
	cfg->seq.max_gaps = 65536;
	cfg->seq.table_full = WEIR_SEQ_TABLE_FULL_UNTRACKED;
	cfg->seq.gap_timeout_ns = 500ull * 1000 * 1000;
	cfg->seq.rerequest_interval_ns = 20ull * 1000 * 1000;
	cfg->seq.rerequest_max = 3;
	cfg->seq.rerequest_max_count = 1000;
	cfg->seq.rerequest_min_gap_ns = 1000 * 1000;
	cfg->seq.reorder_slots = 65536;
	cfg->metrics_ip = 0x0100007f;            /* 127.0.0.1: loopback unless told */
	cfg->metrics_port = (uint16_t)((9400 >> 8) | ((9400 & 0xFF) << 8));
	cfg->metrics_top_sources = 10;
	snprintf(cfg->topics[WEIR_TOPIC_DEAD_LETTER], WEIR_TOPIC_NAME_MAX, "_deadletter");
	cfg->n_topics = 1;
}

/* "${NAME}" is replaced by the environment's value; unset is an error. */
static int
expand_env(struct parse_ctx *ctx, const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	for (const char *p = in; *p;) {
		if (p[0] == '$' && p[1] == '{') {
			const char *end = strchr(p + 2, '}');
			if (end == NULL) {
				fail(ctx, ctx->line, "unterminated '${' in \"%s\": write ${NAME}", in);
				return -1;
			}
			char var[128];
			size_t vlen = (size_t)(end - p - 2);
			if (vlen == 0 || vlen >= sizeof(var)) {
				fail(ctx, ctx->line, "bad variable name in \"%s\"", in);
				return -1;
			}
			memcpy(var, p + 2, vlen);
			var[vlen] = 0;
			const char *val = getenv(var);
			if (val == NULL) {
				fail(ctx, ctx->line, "environment variable %s is not set (used as ${%s})", var, var);
				return -1;
			}
			size_t l = strlen(val);
			if (o + l >= outlen) {
				fail(ctx, ctx->line, "line too long after expanding ${%s}", var);
				return -1;
			}
			memcpy(out + o, val, l);
			o += l;
			p = end + 1;
		} else {
			if (o + 1 >= outlen) {
				fail(ctx, ctx->line, "line too long (limit %zu bytes)", outlen - 1);
				return -1;
			}
			out[o++] = *p++;
		}
	}
	out[o] = 0;
	return 0;
}

static int
parse_u64(const char *s, uint64_t *v)
{
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	char *end;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

static int
parse_uint_range(struct parse_ctx *ctx, const char *what, const char *tok, uint64_t lo, uint64_t hi,
		 uint64_t *v)
{
	if (parse_u64(tok, v) != 0 || *v < lo || *v > hi) {
		fail(ctx, ctx->line, "%s \"%s\" is not valid: give an integer from %llu to %llu", what, tok,
		     (unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	return 0;
}

/* 4096, 64K, 16M, 1G (powers of 1024). */
static int
parse_size(struct parse_ctx *ctx, const char *what, const char *tok, uint64_t *v)
{
	char num[32];
	size_t l = strlen(tok);
	uint64_t mult = 1;
	if (l == 0 || l >= sizeof(num))
		goto bad;
	memcpy(num, tok, l + 1);
	switch (toupper((unsigned char)num[l - 1])) {
	case 'K': mult = 1ull << 10; num[l - 1] = 0; break;
	case 'M': mult = 1ull << 20; num[l - 1] = 0; break;
	case 'G': mult = 1ull << 30; num[l - 1] = 0; break;
	default: break;
	}
	if (parse_u64(num, v) != 0 || *v == 0 || *v > (1ull << 40) / mult)
		goto bad;
	*v *= mult;
	return 0;
bad:
	fail(ctx, ctx->line, "%s \"%s\" is not a size: write bytes or a number with K, M or G (e.g. 16M)", what,
	     tok);
	return -1;
}

/* 100ms, 5s, 250us, 0s. */
static int
parse_duration(struct parse_ctx *ctx, const char *what, const char *tok, uint64_t *ns)
{
	char num[32];
	size_t l = strlen(tok);
	uint64_t mult;
	size_t unit_len;
	if (l > 2 && strcmp(tok + l - 2, "ms") == 0) {
		mult = 1000000ull; unit_len = 2;
	} else if (l > 2 && strcmp(tok + l - 2, "us") == 0) {
		mult = 1000ull; unit_len = 2;
	} else if (l > 1 && tok[l - 1] == 's') {
		mult = 1000000000ull; unit_len = 1;
	} else {
		goto bad;
	}
	if (l - unit_len >= sizeof(num))
		goto bad;
	memcpy(num, tok, l - unit_len);
	num[l - unit_len] = 0;
	if (parse_u64(num, ns) != 0 || *ns > 3600ull * 1000000000ull / mult)
		goto bad;
	*ns *= mult;
	return 0;
bad:
	fail(ctx, ctx->line, "%s \"%s\" is not a duration: write a number with us, ms or s (e.g. 100ms)", what,
	     tok);
	return -1;
}

static int
parse_corelist(struct parse_ctx *ctx, const char *tok, struct weir_config *cfg)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", tok);
	unsigned n = 0;
	char *save = NULL;
	for (char *part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(part, '-');
		uint64_t lo, hi;
		if (dash) {
			*dash = 0;
			if (parse_u64(part, &lo) || parse_u64(dash + 1, &hi) || lo > hi)
				goto bad;
		} else {
			if (parse_u64(part, &lo))
				goto bad;
			hi = lo;
		}
		for (uint64_t c = lo; c <= hi; c++) {
			if (c >= 1024 || n >= WEIR_MAX_WORKERS) {
				fail(ctx, ctx->line, "corelist \"%s\": at most %d lcores, each below 1024", tok,
				     WEIR_MAX_WORKERS);
				return -1;
			}
			for (unsigned i = 0; i < n; i++)
				if (cfg->worker_lcores[i] == c) {
					fail(ctx, ctx->line, "corelist \"%s\" names lcore %llu twice", tok,
					     (unsigned long long)c);
					return -1;
				}
			cfg->worker_lcores[n++] = (unsigned)c;
		}
	}
	if (n == 0)
		goto bad;
	cfg->n_workers = n;
	return 0;
bad:
	fail(ctx, ctx->line, "corelist \"%s\" is not valid: write lcore ids and ranges, e.g. 1,2 or 1-3", tok);
	return -1;
}

static int
valid_topic_name(const char *s)
{
	size_t l = strlen(s);
	if (l == 0 || l >= WEIR_TOPIC_NAME_MAX || s[0] == '_' || s[0] == '.')
		return 0;
	for (size_t i = 0; i < l; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

static int
topic_id(struct parse_ctx *ctx, const char *name, uint16_t *id)
{
	struct weir_config *cfg = ctx->cfg;
	if (!valid_topic_name(name)) {
		fail(ctx, ctx->line,
		     "topic \"%s\" is not valid: 1-%d characters of letters, digits, '_', '-', '.', not starting with '_' or '.'",
		     name, WEIR_TOPIC_NAME_MAX - 1);
		return -1;
	}
	for (unsigned i = 0; i < cfg->n_topics; i++)
		if (strcmp(cfg->topics[i], name) == 0) {
			*id = (uint16_t)i;
			return 0;
		}
	if (cfg->n_topics >= WEIR_MAX_TOPICS) {
		fail(ctx, ctx->line, "too many topics: at most %d", WEIR_MAX_TOPICS - 1);
		return -1;
	}
	snprintf(cfg->topics[cfg->n_topics], WEIR_TOPIC_NAME_MAX, "%s", name);
	*id = (uint16_t)cfg->n_topics++;
	return 0;
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

/* "all" or a port id; *all set for "all". */
static int
parse_port_sel(struct parse_ctx *ctx, const char *tok, int *port)
{
	uint64_t v;
	if (strcmp(tok, "all") == 0) {
		*port = -1;
		return 0;
	}
	if (parse_u64(tok, &v) || v >= WEIR_MAX_PORTS) {
		fail(ctx, ctx->line, "port \"%s\" is not valid: write all or a port id below %d", tok,
		     WEIR_MAX_PORTS);
		return -1;
	}
	*port = (int)v;
	return 0;
}

static void
cmd_port(struct parse_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	int port;
	uint64_t v;
	if (n < 5 || strcmp(t[1], "config") != 0) {
		fail(ctx, ctx->line,
		     "expected \"port config (all|N) (rxq|rxd|txd|rss) VALUE\", e.g. \"port config all rxq 1\"");
		return;
	}
	if (parse_port_sel(ctx, t[2], &port))
		return;
	if (n != 5) {
		fail(ctx, ctx->line, "\"port config %s %s\" takes one value; \"%s\" is extra", t[2], t[3], t[5]);
		return;
	}
	if (strcmp(t[3], "rxq") == 0) {
		if (port >= 0) {
			fail(ctx, ctx->line,
			     "rxq is the same on every port (one worker per queue): write \"port config all rxq %s\"",
			     t[4]);
			return;
		}
		if (parse_uint_range(ctx, "rxq", t[4], 1, WEIR_MAX_WORKERS, &v) == 0) {
			cfg->rxq = (unsigned)v;
			cfg->line_rxq = ctx->line;
		}
	} else if (strcmp(t[3], "rxd") == 0 || strcmp(t[3], "txd") == 0) {
		unsigned *arr = t[3][0] == 'r' ? cfg->rxd : cfg->txd;
		if (parse_uint_range(ctx, t[3], t[4], 32, 32768, &v))
			return;
		for (int p = 0; p < WEIR_MAX_PORTS; p++)
			if (port < 0 || p == port)
				arr[p] = (unsigned)v;
	} else if (strcmp(t[3], "rss") == 0) {
		if (port >= 0) {
			fail(ctx, ctx->line, "rss is set for all ports: write \"port config all rss %s\"", t[4]);
			return;
		}
		if (strcmp(t[4], "udp") == 0)
			cfg->rss = WEIR_RSS_UDP;
		else if (strcmp(t[4], "ip") == 0)
			cfg->rss = WEIR_RSS_IP;
		else if (strcmp(t[4], "none") == 0)
			cfg->rss = WEIR_RSS_NONE;
		else
			fail(ctx, ctx->line, "rss \"%s\" is not valid: write udp, ip or none", t[4]);
	} else {
		fail(ctx, ctx->line, "unknown port setting \"%s\": valid are rxq, rxd, txd, rss", t[3]);
	}
}

static void
cmd_set(struct parse_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	uint64_t v;
	if (n != 3) {
		fail(ctx, ctx->line, "expected \"set (corelist|burst|mbufs) VALUE\"");
		return;
	}
	if (strcmp(t[1], "corelist") == 0) {
		if (parse_corelist(ctx, t[2], cfg) == 0)
			cfg->line_corelist = ctx->line;
	} else if (strcmp(t[1], "burst") == 0) {
		if (parse_uint_range(ctx, "burst", t[2], 1, 512, &v) == 0)
			cfg->burst = (unsigned)v;
	} else if (strcmp(t[1], "mbufs") == 0) {
		if (parse_uint_range(ctx, "mbufs", t[2], 1023, 4u << 20, &v) == 0)
			cfg->mbufs = (unsigned)v;
	} else {
		fail(ctx, ctx->line, "unknown setting \"%s\": valid are corelist, burst, mbufs", t[1]);
	}
}

static void
cmd_ring(struct parse_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	if (n != 3) {
		fail(ctx, ctx->line, "expected \"ring size BYTES\" or \"ring full-policy (drop|backpressure)\"");
		return;
	}
	if (strcmp(t[1], "size") == 0) {
		uint64_t v;
		if (parse_size(ctx, "ring size", t[2], &v))
			return;
		if (v < WEIR_RING_MIN_BYTES || (v & (v - 1)) != 0 || v > (1ull << 32)) {
			fail(ctx, ctx->line, "ring size \"%s\" must be a power of two from 64K to 4G (e.g. 16M)", t[2]);
			return;
		}
		cfg->ring_bytes = v;
		cfg->line_ring_size = ctx->line;
	} else if (strcmp(t[1], "full-policy") == 0) {
		if (strcmp(t[2], "drop") == 0)
			cfg->full_policy = WEIR_FULL_DROP;
		else if (strcmp(t[2], "backpressure") == 0)
			cfg->full_policy = WEIR_FULL_BACKPRESSURE;
		else
			fail(ctx, ctx->line, "full-policy \"%s\" is not valid: write drop or backpressure", t[2]);
	} else {
		fail(ctx, ctx->line, "unknown ring setting \"%s\": valid are size, full-policy", t[1]);
	}
}

/* "198.18.0.1:26401" -> address and port in network order. */
static int
parse_ipv4_port(struct parse_ctx *ctx, const char *tok, uint32_t *ip, uint16_t *port)
{
	unsigned a, b, c, d, p;
	char tail;
	if (sscanf(tok, "%u.%u.%u.%u:%u%c", &a, &b, &c, &d, &p, &tail) != 5 || a > 255 || b > 255 || c > 255 ||
	    d > 255 || p == 0 || p > 65535) {
		fail(ctx, ctx->line, "address \"%s\" is not valid: write IPV4:PORT, e.g. 198.18.0.1:26401", tok);
		return -1;
	}
	uint8_t bytes[4] = { (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d };
	memcpy(ip, bytes, 4);
	*port = (uint16_t)((p >> 8) | ((p & 0xFF) << 8));
	return 0;
}

static void
cmd_sequence(struct parse_ctx *ctx, char **t, int n)
{
	struct weir_sequence_cfg *sq = &ctx->cfg->seq;
	uint64_t v;
	if (n == 4 && strcmp(t[1], "reorder-window") == 0) {
		uint64_t ns;
		if (parse_uint_range(ctx, "reorder-window events", t[2], 0, 1u << 20, &v) == 0 &&
		    parse_duration(ctx, "reorder-window time", t[3], &ns) == 0) {
			if (v && ns == 0)
				fail(ctx, ctx->line, "reorder-window needs a time bound above 0, e.g. \"reorder-window 1024 5ms\"");
			sq->reorder_events = (uint32_t)v;
			sq->reorder_ns = ns;
		}
		return;
	}
	if (n != 3) {
		fail(ctx, ctx->line,
		     "expected \"sequence (sources|gaps|table-full|gap-timeout|rerequest-interval|rerequest-max|rerequest-max-count|rerequest-min-gap|reorder-slots|key) VALUE\" or \"sequence reorder-window EVENTS TIME\"");
		return;
	}
	if (strcmp(t[1], "sources") == 0) {
		if (parse_uint_range(ctx, "sequence sources", t[2], 1, 1u << 26, &v) == 0)
			sq->max_sources = (uint32_t)v;
	} else if (strcmp(t[1], "gaps") == 0) {
		if (parse_uint_range(ctx, "sequence gaps", t[2], 1, 1u << 24, &v) == 0)
			sq->max_gaps = (uint32_t)v;
	} else if (strcmp(t[1], "table-full") == 0) {
		if (strcmp(t[2], "untracked") == 0)
			sq->table_full = WEIR_SEQ_TABLE_FULL_UNTRACKED;
		else if (strcmp(t[2], "drop") == 0)
			sq->table_full = WEIR_SEQ_TABLE_FULL_DROP;
		else
			fail(ctx, ctx->line, "table-full \"%s\" is not valid: write untracked or drop", t[2]);
	} else if (strcmp(t[1], "gap-timeout") == 0) {
		if (parse_duration(ctx, "gap-timeout", t[2], &v) == 0) {
			if (v == 0)
				fail(ctx, ctx->line, "gap-timeout must be above 0");
			sq->gap_timeout_ns = v;
		}
	} else if (strcmp(t[1], "rerequest-interval") == 0) {
		if (parse_duration(ctx, "rerequest-interval", t[2], &v) == 0)
			sq->rerequest_interval_ns = v;
	} else if (strcmp(t[1], "rerequest-max") == 0) {
		if (parse_uint_range(ctx, "rerequest-max", t[2], 0, 16, &v) == 0)
			sq->rerequest_max = (uint32_t)v;
	} else if (strcmp(t[1], "rerequest-max-count") == 0) {
		if (parse_uint_range(ctx, "rerequest-max-count", t[2], 1, 65534, &v) == 0)
			sq->rerequest_max_count = (uint32_t)v;
	} else if (strcmp(t[1], "rerequest-min-gap") == 0) {
		if (parse_duration(ctx, "rerequest-min-gap", t[2], &v) == 0)
			sq->rerequest_min_gap_ns = v;
	} else if (strcmp(t[1], "key") == 0) {
		if (strcmp(t[2], "source") == 0)
			sq->key_by_sender = false;
		else if (strcmp(t[2], "source+sender") == 0)
			sq->key_by_sender = true;
		else
			fail(ctx, ctx->line, "sequence key \"%s\" is not valid: write source or source+sender", t[2]);
		sq->line_key = ctx->line;
	} else if (strcmp(t[1], "reorder-slots") == 0) {
		if (parse_uint_range(ctx, "reorder-slots", t[2], 16, 1u << 22, &v) == 0)
			sq->reorder_slots = (uint32_t)v;
	} else {
		fail(ctx, ctx->line,
		     "unknown sequence setting \"%s\": valid are sources, gaps, table-full, gap-timeout, rerequest-interval, rerequest-max, rerequest-max-count, rerequest-min-gap, reorder-window, reorder-slots, key",
		     t[1]);
	}
}

static void
cmd_decoder(struct parse_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	uint64_t v;
	if ((n != 6 && n != 8) || strcmp(t[2], "udp-port") != 0 || strcmp(t[4], "topic") != 0 ||
	    (n == 8 && strcmp(t[6], "rerequest") != 0)) {
		fail(ctx, ctx->line,
		     "expected \"decoder (moldudp64|weirframe) udp-port N topic NAME [rerequest IPV4:PORT]\"");
		return;
	}
	enum weir_decoder_type type;
	if (strcmp(t[1], "moldudp64") == 0) {
		type = WEIR_DECODER_MOLDUDP64;
	} else if (strcmp(t[1], "weirframe") == 0) {
		type = WEIR_DECODER_WEIRFRAME;
	} else {
		fail(ctx, ctx->line, "unknown decoder \"%s\": valid are moldudp64, weirframe", t[1]);
		return;
	}
	uint32_t rr_ip = 0;
	uint16_t rr_port = 0;
	if (n == 8 && type != WEIR_DECODER_MOLDUDP64) {
		fail(ctx, ctx->line, "rerequest is MoldUDP64's: the weir frame has no retransmission protocol");
		return;
	}
	if (n == 8 && parse_ipv4_port(ctx, t[7], &rr_ip, &rr_port))
		return;
	if (parse_uint_range(ctx, "udp-port", t[3], 1, 65535, &v))
		return;
	for (unsigned i = 0; i < cfg->n_decoders; i++)
		if (cfg->decoders[i].udp_port == v) {
			fail(ctx, ctx->line, "udp-port %llu already has a decoder (line %u)", (unsigned long long)v,
			     cfg->decoders[i].line);
			return;
		}
	if (cfg->n_decoders >= WEIR_MAX_DECODERS) {
		fail(ctx, ctx->line, "too many decoders: at most %d", WEIR_MAX_DECODERS);
		return;
	}
	uint16_t topic;
	if (topic_id(ctx, t[5], &topic))
		return;
	struct weir_decoder_cfg *d = &cfg->decoders[cfg->n_decoders++];
	d->udp_port = (uint16_t)v;
	d->topic = topic;
	d->type = type;
	d->line = ctx->line;
	d->rerequest_ip = rr_ip;
	d->rerequest_port = rr_port;
}

static void
cmd_log(struct parse_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	if (n >= 3 && strcmp(t[1], "dir") == 0) {
		if (n != 3) {
			fail(ctx, ctx->line, "\"log dir\" takes one path without spaces");
			return;
		}
		if (strlen(t[2]) >= sizeof(cfg->log_dir) - 64) {
			fail(ctx, ctx->line, "log dir path too long");
			return;
		}
		snprintf(cfg->log_dir, sizeof(cfg->log_dir), "%s", t[2]);
		cfg->line_log_dir = ctx->line;
	} else if (n == 3 && strcmp(t[1], "segment-size") == 0) {
		uint64_t v;
		if (parse_size(ctx, "segment-size", t[2], &v))
			return;
		if (v < 4096) {
			fail(ctx, ctx->line, "segment-size \"%s\" is too small: at least 4K", t[2]);
			return;
		}
		cfg->segment_bytes = v;
	} else if (n >= 3 && strcmp(t[1], "fsync") == 0) {
		if (n == 3 && strcmp(t[2], "batch") == 0)
			cfg->fsync_mode = WEIR_FSYNC_BATCH;
		else if (n == 3 && strcmp(t[2], "none") == 0)
			cfg->fsync_mode = WEIR_FSYNC_NONE;
		else if (n == 4 && strcmp(t[2], "interval") == 0) {
			uint64_t ns;
			if (parse_duration(ctx, "fsync interval", t[3], &ns))
				return;
			if (ns == 0) {
				fail(ctx, ctx->line, "fsync interval must be above 0: for every batch write \"log fsync batch\"");
				return;
			}
			cfg->fsync_mode = WEIR_FSYNC_INTERVAL;
			cfg->fsync_interval_ns = ns;
		} else
			fail(ctx, ctx->line, "expected \"log fsync interval DURATION\", \"log fsync batch\" or \"log fsync none\"");
	} else {
		fail(ctx, ctx->line, "expected \"log dir PATH\", \"log segment-size SIZE\" or \"log fsync ...\"");
	}
}

static void
parse_line(struct parse_ctx *ctx, char *line)
{
	struct weir_config *cfg = ctx->cfg;
	char *t[MAX_TOKENS];
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == MAX_TOKENS) {
			fail(ctx, ctx->line, "too many words on one line (limit %d)", MAX_TOKENS);
			return;
		}
		t[n++] = tok;
	}
	if (n == 0)
		return;

	if (strcmp(t[0], "eal") == 0) {
		if (n < 2)
			fail(ctx, ctx->line, "\"eal\" needs at least one EAL argument, e.g. \"eal --no-pci\"");
		for (int i = 1; i < n; i++) {
			const char *vdev = !strncmp(t[i], "--vdev=", 7) ? t[i] + 7
					   : (!strcmp(t[i], "--vdev") && i + 1 < n) ? t[i + 1] : NULL;
			const char *args = vdev ? strchr(vdev, ',') : NULL;
			if (args && strlen(args + 1) > WEIR_VDEV_ARGS_MAX)
				/* Seen with net_pcap: a key cut from its value, a crash. */
				fail(ctx, ctx->line,
				     "--vdev %.*s: its arguments are %zu characters, and DPDK hands secondary processes "
				     "(weir-control, weir-stat) only the first %d, whose probe then fails or crashes: "
				     "shorten them (a shorter path, or a symlink to the file)",
				     (int)(args - vdev), vdev, strlen(args + 1), WEIR_VDEV_ARGS_MAX);
		}
		for (int i = 1; i < n; i++)
			if (weir_config_add_eal_arg(cfg, t[i])) {
				fail(ctx, ctx->line, "too many EAL arguments (limit %d)", WEIR_MAX_EAL_ARGS - 1);
				return;
			}
	} else if (strcmp(t[0], "set") == 0) {
		cmd_set(ctx, t, n);
	} else if (strcmp(t[0], "port") == 0) {
		cmd_port(ctx, t, n);
	} else if (strcmp(t[0], "ring") == 0) {
		cmd_ring(ctx, t, n);
	} else if (strcmp(t[0], "decoder") == 0) {
		cmd_decoder(ctx, t, n);
	} else if (strcmp(t[0], "log") == 0) {
		cmd_log(ctx, t, n);
	} else if (strcmp(t[0], "sequence") == 0) {
		cmd_sequence(ctx, t, n);
	} else if (strcmp(t[0], "rules") == 0) {
		if (n != 2)
			fail(ctx, ctx->line, "expected \"rules FILE\" (docs/rules.md)");
		else if (strlen(t[1]) >= sizeof(cfg->rules_path))
			fail(ctx, ctx->line, "rules path too long");
		else
			snprintf(cfg->rules_path, sizeof(cfg->rules_path), "%s", t[1]);
	} else if (strcmp(t[0], "topic") == 0) {
		uint16_t topic;
		if (n != 2)
			fail(ctx, ctx->line, "expected \"topic NAME\" (a topic rules may route to)");
		else
			topic_id(ctx, t[1], &topic);
	} else if (strcmp(t[0], "metrics") == 0) {
		uint64_t v;
		if (n == 2 && strcmp(t[1], "off") == 0)
			cfg->metrics_port = 0;
		else if (n == 3 && strcmp(t[1], "listen") == 0)
			parse_ipv4_port(ctx, t[2], &cfg->metrics_ip, &cfg->metrics_port);
		else if (n == 3 && strcmp(t[1], "sla") == 0)
			parse_duration(ctx, "metrics sla", t[2], &cfg->metrics_sla_ns);
		else if (n == 3 && strcmp(t[1], "top-sources") == 0) {
			if (parse_uint_range(ctx, "top-sources", t[2], 0, 1000, &v) == 0)
				cfg->metrics_top_sources = (unsigned)v;
		} else
			fail(ctx, ctx->line,
			     "expected \"metrics listen IPV4:PORT\", \"metrics off\", \"metrics sla DURATION\" or \"metrics top-sources N\"");
	} else if (strcmp(t[0], "frame-topic") == 0) {
		uint64_t v;
		uint16_t topic;
		if (n != 3)
			fail(ctx, ctx->line, "expected \"frame-topic ID NAME\" (ID 1-255, as weir frames carry it)");
		else if (parse_uint_range(ctx, "frame-topic id", t[1], 1, 255, &v) == 0 && topic_id(ctx, t[2], &topic) == 0)
			cfg->frame_topics[v] = (uint16_t)(topic + 1);
	} else if (strcmp(t[0], "control") == 0) {
		uint64_t v;
		if (n != 3 || strcmp(t[1], "lcore") != 0)
			fail(ctx, ctx->line, "expected \"control lcore N\"");
		else if (parse_uint_range(ctx, "control lcore", t[2], 0, 1023, &v) == 0)
			cfg->control_lcore = (int)v;
	} else if (strcmp(t[0], "shutdown") == 0) {
		uint64_t ns;
		if (n != 3 || strcmp(t[1], "drain-timeout") != 0)
			fail(ctx, ctx->line, "expected \"shutdown drain-timeout DURATION\"");
		else if (parse_duration(ctx, "drain-timeout", t[2], &ns) == 0)
			cfg->drain_timeout_ns = ns;
	} else if (strcmp(t[0], "dead-letter") == 0) {
		uint64_t v;
		if (n != 3 || strcmp(t[1], "keep-bytes") != 0)
			fail(ctx, ctx->line, "expected \"dead-letter keep-bytes N\"");
		else if (parse_uint_range(ctx, "keep-bytes", t[2], 0, 9216, &v) == 0)
			cfg->dead_letter_keep_bytes = (uint32_t)v;
	} else {
		fail(ctx, ctx->line,
		     "unknown command \"%s\": valid are eal, set, port, ring, decoder, frame-topic, topic, rules, sequence, log, metrics, control, shutdown, dead-letter",
		     t[0]);
	}
}

/* Cross-field rules, checked once the whole file is read. */
static void
validate(struct parse_ctx *ctx)
{
	struct weir_config *cfg = ctx->cfg;
	unsigned last = ctx->line;
	if (cfg->n_workers == 0)
		fail(ctx, last, "no worker lcores: add \"set corelist LIST\" (one lcore per RX queue, e.g. set corelist 1)");
	if (cfg->rxq == 0 && cfg->n_workers)
		cfg->rxq = cfg->n_workers;
	if (cfg->n_workers && cfg->rxq != cfg->n_workers)
		fail(ctx, cfg->line_rxq,
		     "\"port config all rxq %u\" but \"set corelist\" (line %u) names %u lcores: one worker per RX queue, make them equal",
		     cfg->rxq, cfg->line_corelist, cfg->n_workers);
	for (unsigned i = 0; i < cfg->n_decoders && cfg->seq.key_by_sender; i++)
		if (cfg->decoders[i].rerequest_ip)
			fail(ctx, cfg->seq.line_key,
			     "\"sequence key source+sender\" cannot go with the rerequest on line %u: retransmissions come from another address; use \"sequence key source\"",
			     cfg->decoders[i].line);
	if (cfg->n_decoders == 0)
		fail(ctx, last, "no decoder: add \"decoder moldudp64 udp-port N topic NAME\"");
	if (cfg->log_dir[0] == 0)
		fail(ctx, last, "no log directory: add \"log dir PATH\"");
	if (cfg->dead_letter_keep_bytes + sizeof(struct weir_record) + 8 > cfg->ring_bytes / 4)
		fail(ctx, cfg->line_ring_size, "ring size %llu is too small for dead letters of %u bytes",
		     (unsigned long long)cfg->ring_bytes, cfg->dead_letter_keep_bytes);
}

int
weir_config_parse(const char *text, const char *name, struct weir_config *cfg, char *err, size_t errlen)
{
	struct parse_ctx ctx = { .name = name, .err = err, .errlen = errlen, .cfg = cfg };
	weir_config_defaults(cfg);
	if (errlen)
		err[0] = 0;
	const char *p = text;
	char raw[MAX_LINE], line[MAX_LINE];
	while (*p) {
		ctx.line++;
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		if (l >= sizeof(raw)) {
			fail(&ctx, ctx.line, "line longer than %zu bytes", sizeof(raw) - 1);
		} else {
			memcpy(raw, p, l);
			raw[l] = 0;
			char *hash = strchr(raw, '#');
			if (hash)
				*hash = 0;
			if (expand_env(&ctx, raw, line, sizeof(line)) == 0)
				parse_line(&ctx, line);
		}
		p += l;
		if (*p == '\n')
			p++;
	}
	if (ctx.line == 0)
		ctx.line = 1;
	validate(&ctx);
	return ctx.n_errors ? -1 : 0;
}

int
weir_config_load(const char *path, struct weir_config *cfg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s:0: cannot open: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 1 << 16, len = 0;
	char *text = malloc(cap);
	size_t n;
	while (text && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 >= cap) {
			char *bigger = cap < (1 << 24) ? realloc(text, cap * 2) : NULL;
			if (bigger == NULL) {
				free(text);
				text = NULL;
				break;
			}
			text = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	if (text == NULL) {
		snprintf(err, errlen, "%s:0: file too large for a config (limit 16 MiB)", path);
		return -1;
	}
	text[len] = 0;
	int rc = weir_config_parse(text, path, cfg, err, errlen);
	free(text);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	return rc;
}

const char *
weir_config_file_prefix(const struct weir_config *cfg)
{
	for (int i = 0; i < cfg->eal_argc; i++) {
		const char *a = cfg->eal_argv[i];
		if (strncmp(a, "--file-prefix=", 14) == 0)
			return a + 14;
		if (strcmp(a, "--file-prefix") == 0 && i + 1 < cfg->eal_argc)
			return cfg->eal_argv[i + 1];
	}
	return "weir";
}

bool
weir_config_no_huge(const struct weir_config *cfg)
{
	for (int i = 0; i < cfg->eal_argc; i++)
		if (strcmp(cfg->eal_argv[i], "--no-huge") == 0)
			return true;
	return false;
}
