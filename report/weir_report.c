#include <inttypes.h>

#include "weir_report.h"
#include "weir_seq_layout.h"

void
weir_report_counters(FILE *f, const struct weir_worker_counters *t)
{
	for (unsigned i = 0; i < WEIR_CTR_MAX; i++)
		fprintf(f, "  %-22s %15" PRIu64 "  %s\n", weir_counter_names[i], weir_counter_get(t, i),
			weir_counter_help[i]);
	fprintf(f, "  dead letters by reason:\n");
	for (unsigned r = 1; r < WEIR_DL_MAX; r++)
		if (t->dead_letter[r])
			fprintf(f, "    %-28s %11" PRIu64 "  %s\n", weir_dead_letter_names[r], t->dead_letter[r],
				weir_dead_letter_help[r]);
	int64_t gap = weir_counters_identity_gap(t);
	fprintf(f,
		"  identity: rx_packets %" PRIu64 " = accepted %" PRIu64 " + filtered %" PRIu64
		" + dead letters %" PRIu64 " + ring-full %" PRIu64 ": %s\n",
		t->rx_packets, t->accepted_packets, t->filtered_packets, t->dead_letter_packets, t->ring_full_packets,
		gap == 0 ? "holds" : "BROKEN");
	gap = weir_counters_message_identity_gap(t);
	fprintf(f,
		"  identity: messages %" PRIu64 " = event records %" PRIu64 " + duplicates %" PRIu64
		" + table-full drops %" PRIu64 " + ring-full %" PRIu64 " + held %" PRIu64 " + rule drops %" PRIu64
		": %s\n",
		t->messages, t->event_records, t->seq_duplicates, t->seq_table_full_drops, t->ring_full_messages,
		t->reorder_holding, t->rule_drops, gap == 0 ? "holds" : "BROKEN");
	fprintf(f,
		"  sequence: %" PRIu64 " gaps, %" PRIu64 " events missing = %" PRIu64 " recovered + %" PRIu64
		" lost + %" PRIu64 " still open; %" PRIu64 " LOSS records\n",
		t->gaps_opened, t->gap_events_missing, t->gap_events_recovered, t->gap_events_lost,
		t->gap_events_missing - t->gap_events_recovered - t->gap_events_lost, t->loss_records);
}

static void
block_json(FILE *f, const struct weir_worker_counters *c)
{
	fputc('{', f);
	for (unsigned i = 0; i < WEIR_CTR_MAX; i++)
		fprintf(f, "\"%s\":%" PRIu64 ",", weir_counter_names[i], weir_counter_get(c, i));
	fprintf(f, "\"dead_letter\":{");
	for (unsigned r = 1; r < WEIR_DL_MAX; r++)
		fprintf(f, "%s\"%s\":%" PRIu64, r > 1 ? "," : "", weir_dead_letter_names[r], c->dead_letter[r]);
	fprintf(f, "}}");
}

void
weir_report_counters_json(FILE *f, const struct weir_worker_counters *blocks, unsigned n)
{
	weir_report_stats_json(f, blocks, n, NULL, NULL);
}

void
weir_report_stats_json(FILE *f, const struct weir_worker_counters *blocks, unsigned n, const struct weir_info *info,
		       const char *const *line_names)
{
	struct weir_worker_counters total;
	weir_counters_sum(blocks, n, &total);
	fprintf(f, "{\"workers\":[");
	for (unsigned w = 0; w < n; w++) {
		if (w)
			fputc(',', f);
		block_json(f, &blocks[w]);
	}
	fprintf(f, "],\"total\":");
	block_json(f, &total);
	int holds = weir_counters_identity_gap(&total) == 0 && weir_counters_message_identity_gap(&total) == 0;
	for (unsigned w = 0; w < n; w++)
		holds &= weir_counters_identity_gap(&blocks[w]) == 0 &&
			 weir_counters_message_identity_gap(&blocks[w]) == 0;
	if (info && line_names) {
		fprintf(f, ",\"lines\":");
		weir_report_lines(f, info, line_names, true);
	}
	fprintf(f, ",\"identity_holds\":%s}", holds ? "true" : "false");
}

struct loss_row_ctx {
	FILE *f;
	bool json, first;
};

static void
loss_row(unsigned worker, const struct weir_seq_source *src, const struct weir_seq_source_stats *st, void *arg)
{
	static const char *const states[] = { "empty", "active", "closed" };
	struct loss_row_ctx *c = arg;
	char name[32];
	weir_source_format(src->key, name, sizeof(name));
	const char *state = src->state < 3 ? states[src->state] : "?";
	if (c->json)
		fprintf(c->f,
			"%s{\"source\":\"%s\",\"worker\":%u,\"state\":\"%s\",\"last_seq\":%" PRIu64
			",\"open_gaps\":%u,\"gaps_opened\":%" PRIu64 ",\"events_missing\":%" PRIu64
			",\"recovered\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"events\":%" PRIu64
			",\"requests_sent\":%" PRIu64 ",\"first_seen_ns\":%" PRIu64 ",\"last_seen_ns\":%" PRIu64
			",\"lateness_max_ns\":%" PRIu64 ",\"lateness_mean_ns\":%" PRIu64 "}",
			c->first ? "" : ",", name, worker, state, src->next_seq - 1, src->n_gaps, st->gaps_opened,
			st->events_missing, st->late_fills, st->events_lost, st->duplicates, src->events, st->requests_sent,
			st->first_seen_ns, src->last_seen_ns, st->lateness_max_ns,
			st->lateness_count ? st->lateness_sum_ns / st->lateness_count : 0);
	else
		fprintf(c->f,
			"%-16s %6u %7s %14" PRIu64 " %6u %8" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
			" %8" PRIu64 "\n",
			name, worker, state, src->next_seq - 1, src->n_gaps, st->gaps_opened, st->events_missing,
			st->late_fills, st->events_lost, st->duplicates, st->requests_sent);
	c->first = false;
}

void
weir_report_loss(FILE *f, const struct weir_seq_region *const *regions, unsigned n, bool json,
		 const struct weir_info *info, const char *const *line_names)
{
	struct loss_row_ctx c = { .f = f, .json = json, .first = true };
	if (json)
		fprintf(f, "{\"sources\":[");
	else
		fprintf(f, "%-16s %6s %7s %14s %6s %8s %10s %10s %10s %10s %8s\n", "source", "worker", "state",
			"last_seq", "open", "gaps", "missing", "recovered", "lost", "dups", "requests");
	weir_seq_for_each_source(regions, n, loss_row, &c);
	if (json)
		fprintf(f, "]");
	if (info && line_names) { /* a line's own loss: what it missed, its gap runs, how late it came */
		fprintf(f, json ? ",\"lines\":" : "");
		weir_report_lines(f, info, line_names, json);
	}
	if (json)
		fprintf(f, "}");
}
