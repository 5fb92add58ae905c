#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_config_pvt.h"

static void
cmd_port(struct weir_config_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	int port;
	uint64_t v;
	if (n < 5 || strcmp(t[1], "config") != 0) {
		weir_diag_fail(&ctx->d,
			       "expected \"port config (all|N) (rxq|rxd|txd|rss|address) VALUE\", e.g. \"port config all rxq 1\"");
		return;
	}
	if (weir_config_port_sel(ctx, t[2], &port))
		return;
	if (n != 5) {
		weir_diag_fail(&ctx->d, "\"port config %s %s\" takes one value; \"%s\" is extra", t[2], t[3], t[5]);
		return;
	}
	if (strcmp(t[3], "rxq") == 0) {
		if (port >= 0) {
			weir_diag_fail(&ctx->d,
			     "rxq is the same on every port (one worker per queue): write \"port config all rxq %s\"",
			     t[4]);
			return;
		}
		if (weir_config_uint_range(ctx, "rxq", t[4], 1, WEIR_MAX_WORKERS, &v) == 0) {
			cfg->rxq = (unsigned)v;
			cfg->line_rxq = ctx->d.line;
		}
	} else if (strcmp(t[3], "rxd") == 0 || strcmp(t[3], "txd") == 0) {
		unsigned *arr = t[3][0] == 'r' ? cfg->rxd : cfg->txd;
		if (weir_config_uint_range(ctx, t[3], t[4], 32, 32768, &v))
			return;
		for (int p = 0; p < WEIR_MAX_PORTS; p++)
			if (port < 0 || p == port)
				arr[p] = (unsigned)v;
	} else if (strcmp(t[3], "rss") == 0) {
		if (port >= 0) {
			weir_diag_fail(&ctx->d, "rss is set for all ports: write \"port config all rss %s\"", t[4]);
			return;
		}
		if (strcmp(t[4], "udp") == 0)
			cfg->rss = WEIR_RSS_UDP;
		else if (strcmp(t[4], "ip") == 0)
			cfg->rss = WEIR_RSS_IP;
		else if (strcmp(t[4], "none") == 0)
			cfg->rss = WEIR_RSS_NONE;
		else
			weir_diag_fail(&ctx->d, "rss \"%s\" is not valid: write udp, ip or none", t[4]);
	} else if (strcmp(t[3], "address") == 0) {
		if (port < 0) {
			weir_diag_fail(&ctx->d, "an address is one port's: write \"port config N address %s\"", t[4]);
			return;
		}
		if (inet_pton(AF_INET, t[4], &cfg->port_addr[port]) != 1 || (ntohl(cfg->port_addr[port]) >> 28) >= 0xE ||
		    cfg->port_addr[port] == 0)
			weir_diag_fail(&ctx->d, "address \"%s\" is not this host's IPv4 unicast address", t[4]);
	} else {
		weir_diag_fail(&ctx->d, "unknown port setting \"%s\": valid are rxq, rxd, txd, rss, address", t[3]);
	}
}

static void
cmd_set(struct weir_config_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	uint64_t v;
	if (n != 3) {
		weir_diag_fail(&ctx->d, "expected \"set (corelist|burst|mbufs|udp-checksum) VALUE\"");
		return;
	}
	if (strcmp(t[1], "corelist") == 0) {
		if (weir_config_corelist(ctx, t[2], cfg) == 0)
			cfg->line_corelist = ctx->d.line;
	} else if (strcmp(t[1], "burst") == 0) {
		if (weir_config_uint_range(ctx, "burst", t[2], 1, 512, &v) == 0)
			cfg->burst = (unsigned)v;
	} else if (strcmp(t[1], "mbufs") == 0) {
		if (weir_config_uint_range(ctx, "mbufs", t[2], 1023, 4u << 20, &v) == 0)
			cfg->mbufs = (unsigned)v;
	} else if (strcmp(t[1], "udp-checksum") == 0) {
		if (strcmp(t[2], "verify") == 0 || strcmp(t[2], "trust") == 0)
			cfg->udp_checksum_trust = strcmp(t[2], "trust") == 0;
		else
			weir_diag_fail(&ctx->d, "udp-checksum \"%s\": valid are verify (in software where the NIC "
						"does not say) and trust (counted as unverified)",
				       t[2]);
	} else {
		weir_diag_fail(&ctx->d, "unknown setting \"%s\": valid are corelist, burst, mbufs, udp-checksum", t[1]);
	}
}

static void
cmd_ring(struct weir_config_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	if (n != 3) {
		weir_diag_fail(&ctx->d, "expected \"ring size BYTES\" or \"ring full-policy (drop|backpressure)\"");
		return;
	}
	if (strcmp(t[1], "size") == 0) {
		uint64_t v;
		if (weir_config_size(ctx, "ring size", t[2], &v))
			return;
		if (v < WEIR_RING_MIN_BYTES || (v & (v - 1)) != 0 || v > (1ull << 32)) {
			weir_diag_fail(&ctx->d, "ring size \"%s\" must be a power of two from 64K to 4G (e.g. 16M)", t[2]);
			return;
		}
		cfg->ring_bytes = v;
		cfg->line_ring_size = ctx->d.line;
	} else if (strcmp(t[1], "full-policy") == 0) {
		if (strcmp(t[2], "drop") == 0)
			cfg->full_policy = WEIR_FULL_DROP;
		else if (strcmp(t[2], "backpressure") == 0)
			cfg->full_policy = WEIR_FULL_BACKPRESSURE;
		else
			weir_diag_fail(&ctx->d, "full-policy \"%s\" is not valid: write drop or backpressure", t[2]);
	} else {
		weir_diag_fail(&ctx->d, "unknown ring setting \"%s\": valid are size, full-policy", t[1]);
	}
}

static void
cmd_sequence(struct weir_config_ctx *ctx, char **t, int n)
{
	struct weir_sequence_cfg *sq = &ctx->cfg->seq;
	uint64_t v;
	if (n == 4 && strcmp(t[1], "reorder-window") == 0) {
		uint64_t ns;
		if (weir_config_uint_range(ctx, "reorder-window events", t[2], 0, 1u << 20, &v) == 0 &&
		    weir_config_duration(ctx, "reorder-window time", t[3], &ns) == 0) {
			if (v && ns == 0)
				weir_diag_fail(&ctx->d, "reorder-window needs a time bound above 0, e.g. \"reorder-window 1024 5ms\"");
			sq->reorder_events = (uint32_t)v;
			sq->reorder_ns = ns;
		}
		return;
	}
	if (strcmp(t[1], "reorder-window") == 0) {
		weir_diag_fail(&ctx->d, "expected \"sequence reorder-window EVENTS TIME\": two values, e.g. "
					"\"sequence reorder-window 1024 5ms\" (0 0 turns it off)");
		return;
	}
	if (n != 3) {
		weir_diag_fail(&ctx->d,
			       "expected \"sequence (sources|gaps|table-full|gap-timeout|rerequest-interval|rerequest-max|rerequest-max-count|rerequest-min-gap|reorder-slots|key|restore-window) VALUE\" or \"sequence reorder-window EVENTS TIME\"");
		return;
	}
	if (strcmp(t[1], "restore-window") == 0) {
		if (strcmp(t[2], "off") == 0)
			sq->restore_window_bytes = 0;
		else if (strcmp(t[2], "all") == 0)
			sq->restore_window_bytes = UINT64_MAX;
		else
			weir_config_size(ctx, "restore-window (or all, or off)", t[2], &sq->restore_window_bytes);
	} else if (strcmp(t[1], "sources") == 0) {
		if (weir_config_uint_range(ctx, "sequence sources", t[2], 1, 1u << 26, &v) == 0)
			sq->max_sources = (uint32_t)v;
	} else if (strcmp(t[1], "gaps") == 0) {
		if (weir_config_uint_range(ctx, "sequence gaps", t[2], 1, 1u << 24, &v) == 0)
			sq->max_gaps = (uint32_t)v;
	} else if (strcmp(t[1], "table-full") == 0) {
		if (strcmp(t[2], "untracked") == 0)
			sq->table_full = WEIR_SEQ_TABLE_FULL_UNTRACKED;
		else if (strcmp(t[2], "drop") == 0)
			sq->table_full = WEIR_SEQ_TABLE_FULL_DROP;
		else
			weir_diag_fail(&ctx->d, "table-full \"%s\" is not valid: write untracked or drop", t[2]);
	} else if (strcmp(t[1], "gap-timeout") == 0) {
		if (weir_config_duration(ctx, "gap-timeout", t[2], &v) == 0) {
			if (v == 0)
				weir_diag_fail(&ctx->d, "gap-timeout must be above 0");
			sq->gap_timeout_ns = v;
		}
	} else if (strcmp(t[1], "rerequest-interval") == 0) {
		if (weir_config_duration(ctx, "rerequest-interval", t[2], &v) == 0)
			sq->rerequest_interval_ns = v;
	} else if (strcmp(t[1], "rerequest-max") == 0) {
		if (weir_config_uint_range(ctx, "rerequest-max", t[2], 0, 16, &v) == 0)
			sq->rerequest_max = (uint32_t)v;
	} else if (strcmp(t[1], "rerequest-max-count") == 0) {
		if (weir_config_uint_range(ctx, "rerequest-max-count", t[2], 1, 65534, &v) == 0)
			sq->rerequest_max_count = (uint32_t)v;
	} else if (strcmp(t[1], "rerequest-min-gap") == 0) {
		if (weir_config_duration(ctx, "rerequest-min-gap", t[2], &v) == 0)
			sq->rerequest_min_gap_ns = v;
	} else if (strcmp(t[1], "key") == 0) {
		if (strcmp(t[2], "source") == 0)
			sq->key_by_sender = false;
		else if (strcmp(t[2], "source+sender") == 0)
			sq->key_by_sender = true;
		else
			weir_diag_fail(&ctx->d, "sequence key \"%s\" is not valid: write source or source+sender", t[2]);
		sq->line_key = ctx->d.line;
	} else if (strcmp(t[1], "reorder-slots") == 0) {
		if (weir_config_uint_range(ctx, "reorder-slots", t[2], 16, 1u << 22, &v) == 0)
			sq->reorder_slots = (uint32_t)v;
	} else {
		weir_diag_fail(&ctx->d,
			       "unknown sequence setting \"%s\": valid are sources, gaps, table-full, gap-timeout, rerequest-interval, rerequest-max, rerequest-max-count, rerequest-min-gap, reorder-window, reorder-slots, key, restore-window",
		     t[1]);
	}
}

static int
check_cidr(const char *item, void *arg, char *err, size_t errlen)
{
	(void)arg;
	uint8_t family, addr[16], depth;
	if (weir_config_cidr(item, &family, addr, &depth) == 0)
		return 0;
	snprintf(err, errlen, "\"%s\" is not an address or network: write A.B.C.D[/N] or IPV6[/N]", item);
	return -1;
}

static int
check_source(const char *item, void *arg, char *err, size_t errlen)
{
	const struct weir_decoder_cfg *d = arg;
	uint8_t key[WEIR_SOURCE_BYTES];
	bool frame = d->type == WEIR_DECODER_WEIRFRAME;
	if (strchr(item, '@') == NULL && weir_source_parse(item, ' ', key) == 0 && (key[0] == 0xFF) == frame)
		return 0;
	snprintf(err, errlen, "\"%s\" is not a %s", item,
		 frame ? "weir frame source (wf:ID)" : "MoldUDP64 session (up to 10 characters)");
	return -1;
}

/* [rerequest ADDR] [allow LIST] [sources LIST] [unauthorized keep|count] after "topic NAME". */
static int
decoder_options(struct weir_config_ctx *ctx, char **t, int n, struct weir_decoder_cfg *d)
{
	char err[512];
	for (int i = 6; i + 1 < n; i += 2) {
		if (strcmp(t[i], "rerequest") == 0) {
			if (d->type != WEIR_DECODER_MOLDUDP64) {
				weir_diag_fail(&ctx->d, "rerequest is MoldUDP64's: the weir frame has no retransmission protocol");
				return -1;
			}
			if (weir_config_ip_port(ctx, t[i + 1], &d->rerequest_family, &d->rerequest_ip, d->rerequest_ip6,
						&d->rerequest_port))
				return -1;
		} else if (strcmp(t[i], "allow") == 0 || strcmp(t[i], "sources") == 0) {
			bool allow = t[i][0] == 'a';
			if (weir_config_word(ctx, t[i], t[i + 1], allow ? d->allow : d->sources, WEIR_LIST_SPEC_MAX))
				return -1;
			if (weir_config_list(t[i + 1], allow ? check_cidr : check_source, d, err, sizeof(err)) != 0) {
				weir_diag_fail(&ctx->d, "%s %s: %s", t[i], t[i + 1], err);
				return -1;
			}
		} else if (strcmp(t[i], "unauthorized") == 0 &&
			   (strcmp(t[i + 1], "keep") == 0 || strcmp(t[i + 1], "count") == 0)) {
			d->keep_unauthorized = t[i + 1][0] == 'k';
		} else {
			weir_diag_fail(&ctx->d, "unknown decoder option \"%s %s\": valid are rerequest ADDR:PORT, allow "
						"CIDR,...|@FILE, sources NAME,...|@FILE, unauthorized keep|count",
				       t[i], t[i + 1]);
			return -1;
		}
	}
	return 0;
}

static void
cmd_decoder(struct weir_config_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	uint64_t v;
	if (n < 6 || n % 2 || strcmp(t[2], "udp-port") != 0 || strcmp(t[4], "topic") != 0) {
		weir_diag_fail(&ctx->d, "expected \"decoder (moldudp64|weirframe) udp-port N topic NAME [rerequest "
					"IPV4:PORT|[IPV6]:PORT] [allow CIDR,...|@FILE] [sources NAME,...|@FILE] "
					"[unauthorized keep|count]\"");
		return;
	}
	enum weir_decoder_type type;
	if (strcmp(t[1], "moldudp64") == 0) {
		type = WEIR_DECODER_MOLDUDP64;
	} else if (strcmp(t[1], "weirframe") == 0) {
		type = WEIR_DECODER_WEIRFRAME;
	} else {
		weir_diag_fail(&ctx->d, "unknown decoder \"%s\": valid are moldudp64, weirframe", t[1]);
		return;
	}
	struct weir_decoder_cfg opts = { .type = type };
	if (decoder_options(ctx, t, n, &opts))
		return;
	if (weir_config_uint_range(ctx, "udp-port", t[3], 1, 65535, &v))
		return;
	for (unsigned i = 0; i < cfg->n_decoders; i++)
		if (cfg->decoders[i].udp_port == v) {
			weir_diag_fail(&ctx->d, "udp-port %llu already has a decoder (line %u)", (unsigned long long)v,
			     cfg->decoders[i].line);
			return;
		}
	if (cfg->n_decoders >= WEIR_MAX_DECODERS) {
		weir_diag_fail(&ctx->d, "too many decoders: at most %d", WEIR_MAX_DECODERS);
		return;
	}
	uint16_t topic;
	if (weir_config_topic_id(ctx, t[5], &topic))
		return;
	struct weir_decoder_cfg *d = &cfg->decoders[cfg->n_decoders++];
	*d = opts;
	d->udp_port = (uint16_t)v;
	d->topic = topic;
	d->line = ctx->d.line;
}

static const char retention_usage[] =
	"expected \"log retention size BYTES\", \"log retention time DURATION\" or \"log retention hard\", "
	"each with \"topic NAME\" after it for one topic only";

/* log retention size BYTES | time DURATION | hard  [topic NAME] */
static void
cmd_log_retention(struct weir_config_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	bool hard = n >= 3 && strcmp(t[2], "hard") == 0;
	int words = hard ? 3 : 4; /* before "topic NAME" */
	if (n < 3 || (n != words && n != words + 2) || (n == words + 2 && strcmp(t[words], "topic") != 0) ||
	    (!hard && strcmp(t[2], "size") != 0 && strcmp(t[2], "time") != 0)) {
		weir_diag_fail(&ctx->d, "%s", retention_usage);
		return;
	}
	const char *topic = n == words + 2 ? t[words + 1] : "";
	if (strlen(topic) >= WEIR_TOPIC_NAME_MAX) {
		weir_diag_fail(&ctx->d, "topic name \"%s\" is too long", topic);
		return;
	}
	char *key[5] = { t[0], t[1], t[2], "topic", (char *)topic };
	if (weir_config_given_before(ctx, key, topic[0] ? 5 : 3))
		return;
	struct weir_retention_cfg *r = NULL;
	for (unsigned i = 0; i < cfg->n_retention && r == NULL; i++)
		if (strcmp(cfg->retention[i].topic, topic) == 0)
			r = &cfg->retention[i];
	if (r == NULL) {
		if (cfg->n_retention == sizeof(cfg->retention) / sizeof(cfg->retention[0])) {
			weir_diag_fail(&ctx->d, "too many retention settings: at most one per topic and one for all");
			return;
		}
		r = &cfg->retention[cfg->n_retention++];
		snprintf(r->topic, sizeof(r->topic), "%s", topic);
		r->line = ctx->d.line;
	}
	if (hard) {
		r->hard = r->has_hard = true;
	} else if (strcmp(t[2], "size") == 0) {
		if (weir_config_size(ctx, "retention size", t[3], &r->max_bytes) == 0)
			r->has_bytes = true;
	} else if (weir_config_age(ctx, "retention time", t[3], &r->max_age_ns) == 0) {
		r->has_age = true;
	}
	if ((r->has_bytes && r->max_bytes == 0) || (r->has_age && r->max_age_ns == 0))
		weir_diag_fail(&ctx->d, "retention of 0 would delete everything but the segment being written: give a bound "
					"above 0, or leave the line out to keep everything");
}

static void
cmd_log(struct weir_config_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	if (n >= 2 && strcmp(t[1], "retention") == 0) {
		cmd_log_retention(ctx, t, n);
		return;
	}
	if (n >= 2 && weir_config_given_before(ctx, t, 2))
		return;
	if (n >= 3 && strcmp(t[1], "dir") == 0) {
		if (n != 3) {
			weir_diag_fail(&ctx->d, "\"log dir\" takes one path without spaces");
			return;
		}
		if (strlen(t[2]) >= sizeof(cfg->log_dir) - 64) {
			weir_diag_fail(&ctx->d, "log dir path too long");
			return;
		}
		snprintf(cfg->log_dir, sizeof(cfg->log_dir), "%s", t[2]);
		cfg->line_log_dir = ctx->d.line;
	} else if (n == 3 && strcmp(t[1], "segment-size") == 0) {
		uint64_t v;
		if (weir_config_size(ctx, "segment-size", t[2], &v))
			return;
		if (v < 4096) {
			weir_diag_fail(&ctx->d, "segment-size \"%s\" is too small: at least 4K", t[2]);
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
			if (weir_config_duration(ctx, "fsync interval", t[3], &ns))
				return;
			if (ns == 0) {
				weir_diag_fail(&ctx->d, "fsync interval must be above 0: for every batch write \"log fsync batch\"");
				return;
			}
			cfg->fsync_mode = WEIR_FSYNC_INTERVAL;
			cfg->fsync_interval_ns = ns;
		} else
			weir_diag_fail(&ctx->d, "expected \"log fsync interval DURATION\", \"log fsync batch\" or \"log fsync none\"");
	} else if (n == 3 && strcmp(t[1], "mode") == 0) {
		char *end;
		unsigned long m = strtoul(t[2], &end, 8);
		if (*end || end == t[2] || (m & ~0666ul) || (m & 0600) != 0600)
			weir_diag_fail(&ctx->d, "log mode \"%s\" is not valid: give the files' mode in octal, read and write "
						"bits only, the owner's both (e.g. 0640; directories get x where r is)",
				       t[2]);
		else
			cfg->log_mode = (unsigned)m;
	} else {
		weir_diag_fail(&ctx->d, "expected \"log dir PATH\", \"log segment-size SIZE\", \"log fsync ...\", \"log mode "
					"OCTAL\" or \"log retention ...\"");
	}
}

static void
cmd_eal(struct weir_config_ctx *ctx, char **t, int n)
{
	if (n < 2)
		weir_diag_fail(&ctx->d, "\"eal\" needs at least one EAL argument, e.g. \"eal --no-pci\"");
	for (int i = 1; i < n; i++) {
		const char *vdev = !strncmp(t[i], "--vdev=", 7) ? t[i] + 7
				   : (!strcmp(t[i], "--vdev") && i + 1 < n) ? t[i + 1] : NULL;
		const char *args = vdev ? strchr(vdev, ',') : NULL;
		/* Seen with net_pcap: a key cut from its value, a crash.  A
		 * port file's process (weir-replay) has no secondaries. */
		if (args && strlen(args + 1) > WEIR_VDEV_ARGS_MAX && !ctx->port_only)
			weir_diag_fail(&ctx->d,
				       "--vdev %.*s: its arguments are %zu characters, and DPDK hands secondary processes "
				       "(weir-control, weir-stat) only the first %d, whose probe then fails or crashes: "
				       "shorten them (a shorter path, or a symlink to the file)",
				       (int)(args - vdev), vdev, strlen(args + 1), WEIR_VDEV_ARGS_MAX);
	}
	for (int i = 1; i < n; i++)
		if (weir_config_add_eal_arg(ctx->cfg, t[i])) {
			weir_diag_fail(&ctx->d, "too many EAL arguments (limit %d)", WEIR_MAX_EAL_ARGS - 1);
			return;
		}
}

static void
cmd_rules(struct weir_config_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	if ((n != 2 && n != 3) || (n == 3 && strcmp(t[2], "allow-empty") != 0))
		weir_diag_fail(&ctx->d, "expected \"rules FILE\" or \"rules FILE allow-empty\" (docs/rules.md)");
	else if (strlen(t[1]) >= sizeof(cfg->rules_path))
		weir_diag_fail(&ctx->d, "rules path too long");
	else {
		snprintf(cfg->rules_path, sizeof(cfg->rules_path), "%s", t[1]);
		cfg->rules_allow_empty = n == 3;
		cfg->line_rules = ctx->d.line;
	}
}

static void
cmd_topic(struct weir_config_ctx *ctx, char **t, int n)
{
	uint16_t topic;
	if (n != 2)
		weir_diag_fail(&ctx->d, "expected \"topic NAME\" (a topic rules may route to)");
	else
		weir_config_topic_id(ctx, t[1], &topic);
}

static void
cmd_metrics(struct weir_config_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	uint64_t v;
	if (n == 2 && strcmp(t[1], "off") == 0)
		cfg->metrics_port = 0;
	else if (n == 3 && strcmp(t[1], "listen") == 0)
		weir_config_ipv4_port(ctx, t[2], &cfg->metrics_ip, &cfg->metrics_port);
	else if (n == 3 && strcmp(t[1], "sla") == 0)
		weir_config_duration(ctx, "metrics sla", t[2], &cfg->metrics_sla_ns);
	else if (n == 3 && strcmp(t[1], "top-sources") == 0) {
		if (weir_config_uint_range(ctx, "top-sources", t[2], 0, 1000, &v) == 0)
			cfg->metrics_top_sources = (unsigned)v;
	} else if (n == 4 && strcmp(t[1], "tls") == 0) {
		for (int i = 2; i < 4; i++)
			if (access(t[i], R_OK) != 0)
				weir_diag_fail(&ctx->d, "metrics tls: %s: %s: give the PEM certificate, then its key", t[i],
					       strerror(errno));
		if (access(t[2], R_OK) == 0 && access(t[3], R_OK) == 0 && !weir_config_tls_pair_ok(ctx, t[2], t[3]))
			return;
		if (weir_config_word(ctx, "certificate", t[2], cfg->metrics_tls_cert, sizeof(cfg->metrics_tls_cert)) == 0)
			weir_config_word(ctx, "key", t[3], cfg->metrics_tls_key, sizeof(cfg->metrics_tls_key));
	} else if ((n == 4 && strcmp(t[1], "auth") == 0 && strcmp(t[2], "bearer") == 0) ||
		   (n == 5 && strcmp(t[1], "auth") == 0 && strcmp(t[2], "basic") == 0)) {
		const char *file = t[n - 1];
		if (access(file, R_OK) != 0)
			weir_diag_fail(&ctx->d, "metrics auth: %s: %s: give a file holding the %s", file, strerror(errno),
				       n == 4 ? "token" : "password");
		cfg->metrics_auth = n == 4 ? WEIR_AUTH_BEARER : WEIR_AUTH_BASIC;
		if (n == 5)
			weir_config_word(ctx, "user", t[3], cfg->metrics_auth_user, sizeof(cfg->metrics_auth_user));
		weir_config_word(ctx, "secret file", file, cfg->metrics_auth_file, sizeof(cfg->metrics_auth_file));
	} else
		weir_diag_fail(&ctx->d, "expected \"metrics listen IPV4:PORT\", \"metrics off\", \"metrics sla DURATION\", "
				    "\"metrics top-sources N\", \"metrics tls CERT.pem KEY.pem\", \"metrics auth bearer "
				    "TOKENFILE\" or \"metrics auth basic USER PASSWORDFILE\"");
}

static void
cmd_frame_topic(struct weir_config_ctx *ctx, char **t, int n)
{
	uint64_t v;
	uint16_t topic;
	if (n != 3)
		weir_diag_fail(&ctx->d, "expected \"frame-topic ID NAME\" (ID 1-255, as weir frames carry it)");
	else if (weir_config_uint_range(ctx, "frame-topic id", t[1], 1, 255, &v) == 0 &&
		 weir_config_topic_id(ctx, t[2], &topic) == 0)
		ctx->cfg->frame_topics[v] = (uint16_t)(topic + 1);
}

static void
cmd_control(struct weir_config_ctx *ctx, char **t, int n)
{
	uint64_t v;
	if (n != 3 || strcmp(t[1], "lcore") != 0)
		weir_diag_fail(&ctx->d, "expected \"control lcore N\"");
	else if (weir_config_uint_range(ctx, "control lcore", t[2], 0, 1023, &v) == 0)
		ctx->cfg->control_lcore = (int)v;
}

static void
cmd_shutdown(struct weir_config_ctx *ctx, char **t, int n)
{
	uint64_t ns;
	if (n != 3 || strcmp(t[1], "drain-timeout") != 0)
		weir_diag_fail(&ctx->d, "expected \"shutdown drain-timeout DURATION\"");
	else if (weir_config_duration(ctx, "drain-timeout", t[2], &ns) == 0)
		ctx->cfg->drain_timeout_ns = ns;
}

static void
cmd_dead_letter(struct weir_config_ctx *ctx, char **t, int n)
{
	uint64_t v;
	if (n != 3 || strcmp(t[1], "keep-bytes") != 0)
		weir_diag_fail(&ctx->d, "expected \"dead-letter keep-bytes N\"");
	else if (weir_config_uint_range(ctx, "keep-bytes", t[2], 0, 9216, &v) == 0)
		ctx->cfg->dead_letter_keep_bytes = (uint32_t)v;
}

/* In the order the unknown-command error lists them. */
const struct weir_config_command weir_config_commands[] = {
	{ "eal", cmd_eal, 0 },
	{ "set", cmd_set, 2 },
	{ "port", cmd_port, 4 },
	{ "ring", cmd_ring, 2 },
	{ "decoder", cmd_decoder, 0 },
	{ "frame-topic", cmd_frame_topic, 2 },
	{ "topic", cmd_topic, 0 },
	{ "rules", cmd_rules, 1 },
	{ "sequence", cmd_sequence, 2 },
	{ "log", cmd_log, 0 }, /* once per setting: checked inside */
	{ "metrics", cmd_metrics, 2 },
	{ "control", cmd_control, 2 },
	{ "shutdown", cmd_shutdown, 2 },
	{ "dead-letter", cmd_dead_letter, 2 },
	{ "export", weir_config_cmd_export, 0 }, /* once per setting: checked inside */
	{ "feed", weir_config_cmd_feed, 0 },
	{ "user", weir_config_cmd_user, 1 },
	{ NULL, NULL, 0 },
};
