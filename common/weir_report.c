#include <inttypes.h>

#include "weir_report.h"

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
		" + table-full drops %" PRIu64 " + ring-full %" PRIu64 ": %s\n",
		t->messages, t->event_records, t->seq_duplicates, t->seq_table_full_drops, t->ring_full_messages,
		gap == 0 ? "holds" : "BROKEN");
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
	fprintf(f, ",\"identity_holds\":%s}\n", holds ? "true" : "false");
}
