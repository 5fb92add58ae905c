/* The "feed ..." commands: the multicast groups each port joins and, for a
 * feed published twice, its A and B lines and how they are arbitrated
 * (docs/pmd-config.md, docs/feeds.md). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "weir_config_pvt.h"

#define DEFAULT_WINDOW_NS 1000000ull    /* 1 ms: lines of one feed run microseconds apart */
#define DEFAULT_SILENT_NS 1000000000ull /* 1 s */

/* The feed named t, added when new; -1 when the table is full. */
static int
feed_id(struct weir_config_ctx *ctx, const char *name)
{
	struct weir_config *cfg = ctx->cfg;
	for (unsigned i = 0; i < cfg->n_feeds; i++)
		if (strcmp(cfg->feeds[i].name, name) == 0)
			return (int)i;
	if (cfg->n_feeds == WEIR_MAX_FEEDS) {
		weir_diag_fail(&ctx->d, "too many feeds (at most %d)", WEIR_MAX_FEEDS);
		return -1;
	}
	struct weir_feed_cfg *f = &cfg->feeds[cfg->n_feeds];
	memset(f, 0, sizeof(*f));
	if (weir_config_word(ctx, "feed name", name, f->name, sizeof(f->name)))
		return -1;
	f->window_ns = DEFAULT_WINDOW_NS;
	f->silent_ns = DEFAULT_SILENT_NS;
	f->line = ctx->d.line;
	return (int)cfg->n_feeds++;
}

/* An IPv4 group (224.0.1.0-239.255.255.255) or an IPv6 one (ff00::/8
 * beyond the interface- and link-local scopes) into f. */
static int
parse_group(struct weir_config_ctx *ctx, const char *tok, struct weir_feed_group *f)
{
	if (strchr(tok, ':')) {
		f->family = 6;
		if (inet_pton(AF_INET6, tok, f->group6) != 1 || f->group6[0] != 0xff || (f->group6[1] & 0x0f) <= 2) {
			weir_diag_fail(&ctx->d, "group \"%s\" is not an IPv6 multicast group to join: give one in ff00::/8 of "
						"a scope above link-local (e.g. ff3e::8000:1; ff01:: and ff02:: are local control)",
				       tok);
			return -1;
		}
		return 0;
	}
	f->family = 4;
	if (inet_pton(AF_INET, tok, &f->group) != 1 || (ntohl(f->group) >> 28) != 0xE || (ntohl(f->group) >> 8) == 0xE00000) {
		weir_diag_fail(&ctx->d, "group \"%s\" is not a multicast group to join: give one in 224.0.1.0 to "
					"239.255.255.255 (224.0.0.x is link-local control)",
			       tok);
		return -1;
	}
	return 0;
}

/* feed NAME [line a|b] port P group G [source S] udp-port N; t and n
 * past "line X" when it is given. */
static void
feed_group(struct weir_config_ctx *ctx, char **t, int n, uint8_t ab)
{
	struct weir_config *cfg = ctx->cfg;
	bool ssm = n == 10;
	int up = ssm ? 8 : 6;
	if ((n != 8 && n != 10) || strcmp(t[2], "port") != 0 || strcmp(t[4], "group") != 0 ||
	    (ssm && strcmp(t[6], "source") != 0) || strcmp(t[up], "udp-port") != 0) {
		weir_diag_fail(&ctx->d, "expected \"feed NAME [line a|b] port P group G [source S] udp-port N\"");
		return;
	}
	if (cfg->n_feed_groups == WEIR_MAX_FEED_GROUPS) {
		weir_diag_fail(&ctx->d, "too many feed groups (at most %d)", WEIR_MAX_FEED_GROUPS);
		return;
	}
	struct weir_feed_group *f = &cfg->feed_groups[cfg->n_feed_groups];
	memset(f, 0, sizeof(*f));
	uint64_t v;
	int id = feed_id(ctx, t[1]);
	if (id < 0 || weir_config_word(ctx, "feed name", t[1], f->feed, sizeof(f->feed)) ||
	    weir_config_uint_range(ctx, "feed port", t[3], 0, WEIR_MAX_PORTS - 1, &v))
		return;
	f->feed_id = (uint8_t)id;
	f->ab = ab;
	f->port = (uint16_t)v;
	if (parse_group(ctx, t[5], f))
		return;
	if (ssm && (f->family == 6 ? inet_pton(AF_INET6, t[7], f->source6) : inet_pton(AF_INET, t[7], &f->source)) != 1) {
		weir_diag_fail(&ctx->d, "source \"%s\" is not an IPv%u address, as the group is", t[7], f->family);
		return;
	}
	if (weir_config_uint_range(ctx, "udp-port", t[up + 1], 1, 65535, &v))
		return;
	f->udp_port = (uint16_t)v;
	for (unsigned i = 0; i < cfg->n_feed_groups; i++)
		if (cfg->feed_groups[i].port == f->port && cfg->feed_groups[i].group == f->group &&
		    cfg->feed_groups[i].source == f->source && memcmp(cfg->feed_groups[i].group6, f->group6, 16) == 0 &&
		    memcmp(cfg->feed_groups[i].source6, f->source6, 16) == 0) {
			weir_diag_fail(&ctx->d, "port %u joins %s on line %u already", f->port, t[5], cfg->feed_groups[i].line);
			return;
		}
	if (ab != WEIR_FEED_NO_LINE)
		cfg->feeds[id].has_lines = true;
	f->line = ctx->d.line;
	cfg->n_feed_groups++;
}

/* feed NAME window DURATION [events N] | feed NAME silent DURATION */
static void
feed_setting(struct weir_config_ctx *ctx, char **t, int n)
{
	bool window = strcmp(t[2], "window") == 0;
	if (!((window && (n == 4 || (n == 6 && strcmp(t[4], "events") == 0))) ||
	      (strcmp(t[2], "silent") == 0 && n == 4))) {
		weir_diag_fail(&ctx->d, "expected \"feed NAME window DURATION [events N]\" or \"feed NAME silent DURATION\"");
		return;
	}
	if (weir_config_given_before(ctx, t, 3))
		return;
	int id = feed_id(ctx, t[1]);
	if (id < 0)
		return;
	struct weir_feed_cfg *f = &ctx->cfg->feeds[id];
	uint64_t ns, v;
	if (weir_config_duration(ctx, window ? "feed window" : "feed silent", t[3], &ns))
		return;
	if (ns == 0) {
		weir_diag_fail(&ctx->d, "feed %s %s 0: give a time above 0 (e.g. 1ms)", t[1], t[2]);
		return;
	}
	if (!window) {
		f->silent_ns = ns;
		return;
	}
	f->window_ns = ns;
	if (n == 6 && weir_config_uint_range(ctx, "feed window events", t[5], 1, UINT32_MAX, &v) == 0)
		f->window_events = (uint32_t)v;
}

void
weir_config_cmd_feed(struct weir_config_ctx *ctx, char **t, int n)
{
	if (n >= 3 && (strcmp(t[2], "window") == 0 || strcmp(t[2], "silent") == 0)) {
		feed_setting(ctx, t, n);
		return;
	}
	if (n >= 4 && strcmp(t[2], "line") == 0) {
		if (strcmp(t[3], "a") != 0 && strcmp(t[3], "b") != 0) {
			weir_diag_fail(&ctx->d, "line \"%s\": a feed's lines are a and b", t[3]);
			return;
		}
		uint8_t ab = t[3][0] == 'a' ? 0 : 1;
		/* the rest reads as a group line without "line X" */
		char *rest[12] = { t[0], t[1] };
		for (int i = 4; i < n && i - 2 < 12; i++)
			rest[i - 2] = t[i];
		feed_group(ctx, rest, n - 2, ab);
		return;
	}
	feed_group(ctx, t, n, WEIR_FEED_NO_LINE);
}

/* The decoder on udp_port, or -1. */
static int
decoder_on(const struct weir_config *cfg, uint16_t udp_port)
{
	for (unsigned d = 0; d < cfg->n_decoders; d++)
		if (cfg->decoders[d].udp_port == udp_port)
			return (int)d;
	return -1;
}

/* A feed with lines: both lines, nothing else, one framing and topic, one queue. */
static void
validate_lines(struct weir_config_ctx *ctx, unsigned id)
{
	struct weir_config *cfg = ctx->cfg;
	struct weir_feed_cfg *f = &cfg->feeds[id];
	bool seen[2] = { false, false };
	int first_decoder = -1;
	for (unsigned i = 0; i < cfg->n_feed_groups; i++) {
		const struct weir_feed_group *g = &cfg->feed_groups[i];
		if (g->feed_id != id)
			continue;
		if (g->ab == WEIR_FEED_NO_LINE) {
			weir_diag_fail_at(&ctx->d, g->line, "feed %s has lines: say which this group is (\"feed %s line a|b "
							    "port ...\")",
					  f->name, f->name);
			continue;
		}
		seen[g->ab] = true;
		int d = decoder_on(cfg, g->udp_port);
		if (d < 0)
			continue; /* said by the caller */
		if (first_decoder < 0)
			first_decoder = d;
		else if (cfg->decoders[d].type != cfg->decoders[first_decoder].type ||
			 cfg->decoders[d].topic != cfg->decoders[first_decoder].topic)
			weir_diag_fail_at(&ctx->d, g->line, "feed %s: the decoders of its lines (udp-ports %u and %u) "
							    "differ in framing or topic: both lines carry one feed",
					  f->name, cfg->decoders[first_decoder].udp_port, g->udp_port);
	}
	for (unsigned ab = 0; ab < 2; ab++)
		if (!seen[ab])
			weir_diag_fail_at(&ctx->d, f->line, "feed %s has a line %c but no line %c: add \"feed %s line %c port "
							    "P group G udp-port N\"",
					  f->name, ab ? 'a' : 'b', ab ? 'b' : 'a', f->name, ab ? 'b' : 'a');
	if (cfg->seq.key_by_sender)
		weir_diag_fail_at(&ctx->d, cfg->seq.line_key, "\"sequence key source+sender\" cannot go with feed %s's A/B "
							     "lines: each line has its own sender; use \"sequence key source\"",
				  f->name);
	if (f->window_ns >= cfg->seq.gap_timeout_ns)
		weir_diag_fail_at(&ctx->d, f->line, "feed %s: its arbitration window must be shorter than the gap timeout "
						    "(sequence gap-timeout), or a gap is lost before it is asked for",
				  f->name);
	/* Both lines on one worker: steered to one queue, picked by the name's hash. */
	uint32_t h = 2166136261u;
	for (const char *c = f->name; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	f->queue = (uint16_t)(cfg->rxq ? h % cfg->rxq : 0);
}

void
weir_config_validate_feeds(struct weir_config_ctx *ctx)
{
	struct weir_config *cfg = ctx->cfg;
	for (unsigned i = 0; i < cfg->n_feed_groups; i++)
		if (decoder_on(cfg, cfg->feed_groups[i].udp_port) < 0)
			weir_diag_fail_at(&ctx->d, cfg->feed_groups[i].line,
					  "feed %s: no decoder on udp-port %u: add \"decoder moldudp64 udp-port %u topic NAME\"",
					  cfg->feed_groups[i].feed, cfg->feed_groups[i].udp_port, cfg->feed_groups[i].udp_port);
	for (unsigned id = 0; id < cfg->n_feeds; id++) {
		bool grouped = false;
		for (unsigned i = 0; i < cfg->n_feed_groups; i++)
			grouped |= cfg->feed_groups[i].feed_id == id;
		if (!grouped)
			weir_diag_fail_at(&ctx->d, cfg->feeds[id].line, "feed %s has settings but no group: add \"feed %s "
									"[line a|b] port P group G udp-port N\"",
					  cfg->feeds[id].name, cfg->feeds[id].name);
		else if (cfg->feeds[id].has_lines)
			validate_lines(ctx, id);
		else if (cfg->feeds[id].window_events || cfg->feeds[id].window_ns != DEFAULT_WINDOW_NS)
			weir_diag_fail_at(&ctx->d, cfg->feeds[id].line, "feed %s: a window arbitrates A and B lines, and "
									"it has none",
					  cfg->feeds[id].name);
	}
}

bool
weir_config_line_name(const struct weir_config *cfg, unsigned l, char *buf, size_t n)
{
	buf[0] = '\0';
	if (l / 2 >= cfg->n_feeds || !cfg->feeds[l / 2].has_lines)
		return false;
	snprintf(buf, n, "%s/%c", cfg->feeds[l / 2].name, 'a' + (l & 1));
	return true;
}
