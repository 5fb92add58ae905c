/* Each line of a feed with A and B lines, as the loss report, --stats-json
 * and weir-stat show it: what it brought and won, what it missed (its own
 * loss) and in how many runs, how far behind it ran. */
#include <inttypes.h>

#include "weir_hist.h"
#include "weir_report.h"

struct line_row {
	struct weir_line_counters t;
	uint64_t missed;
};

static void
row_json(FILE *f, const char *name, const struct line_row *r, bool first)
{
	const struct weir_line_counters *t = &r->t;
	/* p50/p99 as the upper bounds of their histogram buckets */
	fprintf(f,
		"%s\"%s\":{\"packets\":%" PRIu64 ",\"events\":%" PRIu64 ",\"won\":%" PRIu64 ",\"arbitrated\":%" PRIu64
		",\"duplicates\":%" PRIu64 ",\"behind_samples\":%" PRIu64 ",\"behind_p50_ns\":%" PRIu64
		",\"behind_p99_ns\":%" PRIu64 ",\"wrong_source\":%" PRIu64 ",\"missed\":%" PRIu64 ",\"gap_runs\":%" PRIu64
		",\"gap_events\":%" PRIu64 ",\"late\":%" PRIu64 ",\"late_behind\":%" PRIu64 "}",
		first ? "" : ",", name, t->packets, t->events, t->won, t->arbitrated, t->duplicates, t->behind.count,
		weir_hist_quantile_bound(&t->behind, 0.5), weir_hist_quantile_bound(&t->behind, 0.99), t->wrong_source,
		r->missed, t->gap_runs, t->gap_events, t->late, t->late_behind);
}

static void
row_text(FILE *f, const char *name, const struct line_row *r)
{
	const struct weir_line_counters *t = &r->t;
	fprintf(f, "%-16s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
		   " %10" PRIu64 " %10" PRIu64 "\n",
		name, t->events, t->won, t->arbitrated, r->missed, t->gap_runs, t->gap_events, t->late, t->late_behind);
}

void
weir_report_lines(FILE *f, const struct weir_info *info, const char *const *line_names, bool json)
{
	bool any = false;
	for (unsigned l = 0; l < WEIR_MAX_LINES; l++)
		any |= line_names[l] != NULL;
	if (json)
		fputc('{', f);
	else if (any)
		fprintf(f, "%-16s %12s %12s %12s %10s %10s %10s %10s %10s\n", "line", "events", "won", "arbitrated",
			"missed", "gap_runs", "gap_events", "late", "late_behind");
	bool first = true;
	for (unsigned l = 0; l < WEIR_MAX_LINES; l++) {
		if (line_names[l] == NULL)
			continue;
		struct line_row r;
		struct weir_line_counters other;
		weir_line_totals(info, l, &r.t);
		weir_line_totals(info, l ^ 1u, &other);
		r.missed = weir_line_missed(&r.t, &other);
		if (json)
			row_json(f, line_names[l], &r, first);
		else
			row_text(f, line_names[l], &r);
		first = false;
	}
	if (json)
		fputc('}', f);
}
