/* Feed lines' figures on /metrics and their word on /healthz: what each
 * line brought, won and lost to the other, how far behind it ran, whether
 * it (or the whole feed) fell silent, and the packets a source-specific
 * group's filter kept out. */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "weir_metrics.h"
#include "weir_metrics_pvt.h"
#include "weir_prom.h"
#include "weir_time.h"

/* Silent: nothing on the line for its feed's silent time while the other
 * line has had traffic in it; *quiet_ns how long.  A line never heard is
 * counted from the other line's first packet, so a line that starts a
 * little behind the other is not called silent in between. */
static bool
line_silent(const struct weir_feed_cfg *f, const struct weir_line_counters *l, const struct weir_line_counters *other,
	    uint64_t now, uint64_t *quiet_ns)
{
	uint64_t since = l->last_rx_ns ? l->last_rx_ns : other->first_rx_ns;
	*quiet_ns = since && now > since ? now - since : 0;
	bool other_live = other->last_rx_ns && now - other->last_rx_ns < f->silent_ns;
	return other_live && *quiet_ns >= f->silent_ns;
}

/* Both lines silent while the feed is expected: it had traffic, its last
 * packet was not an end of session, and nothing came for the silent time;
 * *quiet_ns how long. */
static bool
feed_silent(const struct weir_feed_cfg *f, const struct weir_line_counters *a, const struct weir_line_counters *b,
	    uint64_t now, uint64_t *quiet_ns)
{
	uint64_t last = a->last_rx_ns > b->last_rx_ns ? a->last_rx_ns : b->last_rx_ns;
	uint64_t end = a->last_end_ns > b->last_end_ns ? a->last_end_ns : b->last_end_ns;
	*quiet_ns = last && now > last ? now - last : 0;
	return last && end < last && *quiet_ns >= f->silent_ns;
}

/* What each line alone brought, what it missed (its own loss), and how far
 * behind its last late event came. */
static void
render_line_losses(struct weir_prom *b, const struct weir_config *cfg, const struct weir_line_counters *t, unsigned n)
{
	/* Each family's samples under its own header (the text format's rule).
	 * What a line missed is what only the other line brought. */
	static const struct {
		const char *name, *help;
		unsigned missed_by; /* whose miss it is: 1 the other line's (what only this one brought), 0 its own */
	} only[] = {
		{ "weir_feed_line_only_events_total", "events only this line brought (won, and the other line never "
						      "brought them)", 1 },
		{ "weir_feed_line_missed_events_total", "events the other line carried that this line never did: the "
							"line's own loss", 0 },
	};
	for (size_t k = 0; k < sizeof(only) / sizeof(only[0]); k++) {
		weir_prom_family(b, only[k].name, "counter", only[k].help);
		for (unsigned l = 0; l < n; l++)
			if (cfg->feeds[l / 2].has_lines)
				weir_prom_put(b, "%s{feed=\"%s\",line=\"%c\"} %" PRIu64 "\n", only[k].name,
					      cfg->feeds[l / 2].name, 'a' + (l & 1),
					      weir_line_missed(&t[l ^ only[k].missed_by], &t[l ^ only[k].missed_by ^ 1]));
	}
	weir_prom_family(b, "weir_feed_line_late_behind_events", "gauge",
			 "how far behind the other line (sequence numbers) the line's last late event came (0: none late)");
	for (unsigned l = 0; l < n; l++)
		if (cfg->feeds[l / 2].has_lines)
			weir_prom_put(b, "weir_feed_line_late_behind_events{feed=\"%s\",line=\"%c\"} %" PRIu64 "\n",
				      cfg->feeds[l / 2].name, 'a' + (l & 1), t[l].late_behind);
}

/* Per feed line: what it brought, won, lost to the other line, how far
 * behind it ran, and whether it has gone silent. */
static void
render_lines(struct weir_prom *b, const struct weir_metrics_src *s)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} fields[] = {
		{ "weir_feed_line_packets_total", "data packets that came on the line", offsetof(struct weir_line_counters, packets) },
		{ "weir_feed_line_events_total", "events in them", offsetof(struct weir_line_counters, events) },
		{ "weir_feed_line_won_total", "events the line brought first (persisted)", offsetof(struct weir_line_counters, won) },
		{ "weir_feed_line_arbitrated_total", "events the other line had brought first (counted, not persisted)",
		  offsetof(struct weir_line_counters, arbitrated) },
		{ "weir_feed_line_duplicates_total", "events the line brought again", offsetof(struct weir_line_counters, duplicates) },
		{ "weir_feed_line_gap_runs_total", "runs of sequence numbers the line passed over: its own gaps, as its "
						   "receiver saw them", offsetof(struct weir_line_counters, gap_runs) },
		{ "weir_feed_line_gap_events_total", "the sequence numbers in those runs",
		  offsetof(struct weir_line_counters, gap_events) },
		{ "weir_feed_line_late_events_total", "events the line brought after the window stopped waiting for "
						      "them (late fills): it ran behind the other line by more than the window",
		  offsetof(struct weir_line_counters, late) },
	};
	const struct weir_config *cfg = s->cfg;
	struct weir_line_counters t[WEIR_MAX_LINES];
	unsigned n = 0;
	for (unsigned f = 0; f < cfg->n_feeds; f++)
		if (cfg->feeds[f].has_lines) {
			weir_line_totals(s->info, f * 2, &t[f * 2]);
			weir_line_totals(s->info, f * 2 + 1, &t[f * 2 + 1]);
			n = f * 2 + 2;
		}
	if (n == 0)
		return;
	uint64_t now = weir_realtime_ns();
	for (unsigned k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
		weir_prom_family(b, fields[k].name, "counter", fields[k].help);
		for (unsigned l = 0; l < n; l++)
			if (cfg->feeds[l / 2].has_lines)
				weir_prom_put(b, "%s{feed=\"%s\",line=\"%c\"} %" PRIu64 "\n", fields[k].name, cfg->feeds[l / 2].name,
					      'a' + (l & 1), *(const uint64_t *)((const uint8_t *)&t[l] + fields[k].off));
	}
	render_line_losses(b, cfg, t, n);
	weir_prom_family(b, "weir_feed_line_silent", "gauge",
			 "1 while the line has had nothing for the feed's silent time (or nothing yet) and the other "
			 "line has traffic");
	for (unsigned l = 0; l < n; l++) {
		uint64_t quiet;
		if (cfg->feeds[l / 2].has_lines)
			weir_prom_put(b, "weir_feed_line_silent{feed=\"%s\",line=\"%c\"} %d\n", cfg->feeds[l / 2].name,
				      'a' + (l & 1), line_silent(&cfg->feeds[l / 2], &t[l], &t[l ^ 1], now, &quiet));
	}
	weir_prom_family(b, "weir_feed_silent", "gauge",
			 "1 while every line of the feed has had nothing for its silent time, though it had traffic "
			 "and its last packet was no end of session");
	for (unsigned l = 0; l < n; l += 2) {
		uint64_t quiet;
		if (cfg->feeds[l / 2].has_lines)
			weir_prom_put(b, "weir_feed_silent{feed=\"%s\"} %d\n", cfg->feeds[l / 2].name,
				      feed_silent(&cfg->feeds[l / 2], &t[l], &t[l + 1], now, &quiet));
	}
	weir_prom_family(b, "weir_feed_line_behind_seconds", "histogram",
			 "how far the line ran behind the other: a packet's second copy after its first (sampled)");
	for (unsigned l = 0; l < n; l++) {
		char labels[64];
		snprintf(labels, sizeof(labels), "feed=\"%s\",line=\"%c\"", cfg->feeds[l / 2].name, 'a' + (l & 1));
		if (cfg->feeds[l / 2].has_lines)
			weir_prom_histogram(b, "weir_feed_line_behind_seconds", labels, &t[l].behind);
	}
}

/* Per source-specific feed group: packets to it from another sender,
 * filtered (a PMD in promiscuous or all-multicast mode lets any sender's
 * copy in; only the config stands between them and the feed). */
static void
render_wrong_source(struct weir_prom *b, const struct weir_metrics_src *s)
{
	static const uint8_t any6[16];
	const struct weir_config *cfg = s->cfg;
	bool header = false;
	for (unsigned i = 0; i < cfg->n_feed_groups; i++) {
		const struct weir_feed_group *g = &cfg->feed_groups[i];
		bool seen = false; /* one series a line, however many (S,G) it has */
		for (unsigned j = 0; j < i; j++)
			seen |= cfg->feed_groups[j].feed_id == g->feed_id && cfg->feed_groups[j].ab == g->ab &&
				(cfg->feed_groups[j].source || memcmp(cfg->feed_groups[j].source6, any6, 16));
		if (seen || (g->source == 0 && memcmp(g->source6, any6, 16) == 0))
			continue;
		if (!header)
			weir_prom_family(b, "weir_feed_wrong_source_total", "counter",
					 "packets to a source-specific feed group from another sender: filtered");
		header = true;
		uint64_t n = 0;
		for (unsigned w = 0; w < s->info->n_workers; w++)
			n += __atomic_load_n(g->ab == WEIR_FEED_NO_LINE ? &s->info->feed_wrong_source[w][g->feed_id]
									: &s->info->lines[w][g->feed_id * 2u + g->ab].wrong_source,
					     __ATOMIC_RELAXED);
		if (g->ab == WEIR_FEED_NO_LINE)
			weir_prom_put(b, "weir_feed_wrong_source_total{feed=\"%s\"} %" PRIu64 "\n", g->feed, n);
		else
			weir_prom_put(b, "weir_feed_wrong_source_total{feed=\"%s\",line=\"%c\"} %" PRIu64 "\n", g->feed,
				      'a' + g->ab, n);
	}
}

/* Whether a feed has fallen silent whole (-1: 503, reason said), or a line
 * of one (1: degraded, reason said), or neither (0). */
int
weir_metrics_lines_health(const struct weir_metrics_src *s, const struct weir_info *info, char *reason, size_t len)
{
	const struct weir_config *cfg = s->cfg;
	uint64_t now = weir_realtime_ns();
	int verdict = 0;
	for (unsigned f = 0; f < cfg->n_feeds; f++) {
		if (!cfg->feeds[f].has_lines)
			continue;
		struct weir_line_counters ab[2];
		weir_line_totals(info, f * 2, &ab[0]);
		weir_line_totals(info, f * 2 + 1, &ab[1]);
		uint64_t quiet;
		if (feed_silent(&cfg->feeds[f], &ab[0], &ab[1], now, &quiet)) {
			snprintf(reason, len, "feed %s silent on both lines for %.1f s (no end of session)",
				 cfg->feeds[f].name, (double)quiet / 1e9);
			return -1;
		}
		for (unsigned l = 0; l < 2 && verdict == 0; l++) {
			if (!line_silent(&cfg->feeds[f], &ab[l], &ab[l ^ 1], now, &quiet))
				continue;
			if (ab[l].last_rx_ns == 0)
				snprintf(reason, len, "degraded: feed %s line %c never heard; the feed runs on line %c",
					 cfg->feeds[f].name, 'a' + l, 'b' - l);
			else
				snprintf(reason, len,
					 "degraded: feed %s line %c silent for %.1f s; the feed runs on line %c",
					 cfg->feeds[f].name, 'a' + l, (double)quiet / 1e9, 'b' - l);
			verdict = 1;
		}
	}
	return verdict;
}

void
weir_metrics_render_lines(struct weir_prom *b, const struct weir_metrics_src *s)
{
	render_lines(b, s);
	render_wrong_source(b, s);
}
