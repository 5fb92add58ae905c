#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "weir_stranded.h"

static const char *const kind_name[WEIR_REC_KIND_MAX] = {
	[WEIR_REC_EVENT] = "events", [WEIR_REC_LOSS] = "loss records",
	[WEIR_REC_END_OF_SESSION] = "end of session", [WEIR_REC_DEAD_LETTER] = "dead letters",
};

/* One (topic, kind, source): its sequence range and how many records. */
struct run {
	const struct weir_record *first;
	uint64_t lo, hi, count;
};

#define MAX_RUNS 4096u

static void
say_run(const struct run *r, const struct weir_info *info, FILE *f)
{
	char src[64];
	weir_source_format(r->first->source, src, sizeof(src));
	if (src[0] == 0)
		snprintf(src, sizeof(src), "(none)");
	unsigned t = r->first->topic;
	const char *kind = r->first->kind < WEIR_REC_KIND_MAX && kind_name[r->first->kind] ? kind_name[r->first->kind]
											     : "records";
	fprintf(f, "weir-dataplane: stranded, lost with this process: topic %s, source %s, %s seq %" PRIu64 "-%" PRIu64
		   " (%" PRIu64 " records)\n",
		t < info->n_topics ? info->topics[t] : "?", src, kind, r->lo, r->hi, r->count);
}

static bool
same_key(const struct weir_record *a, const struct weir_record *b)
{
	return a->topic == b->topic && a->kind == b->kind && memcmp(a->source, b->source, WEIR_SOURCE_BYTES) == 0;
}

static void
count(struct weir_stranded *out, const struct weir_record *rec)
{
	out->records++;
	out->events += rec->kind == WEIR_REC_EVENT;
	out->dead_letters += rec->kind == WEIR_REC_DEAD_LETTER;
	out->losses += rec->kind == WEIR_REC_LOSS;
	out->ends_of_session += rec->kind == WEIR_REC_END_OF_SESSION;
}

/* Adds rec to its key's run (a linear look: a stop, a feed's few sources). */
static void
add(struct run *runs, uint64_t *n, const struct weir_record *rec)
{
	uint64_t i = 0;
	while (i < *n && !same_key(runs[i].first, rec))
		i++;
	if (i == *n) {
		if (*n == MAX_RUNS)
			return; /* counted in the totals, not listed */
		runs[(*n)++] = (struct run){ .first = rec, .lo = rec->seq, .hi = rec->seq };
	}
	struct run *r = &runs[i];
	r->lo = rec->seq < r->lo ? rec->seq : r->lo;
	r->hi = rec->seq > r->hi ? rec->seq : r->hi;
	r->count++;
}

void
weir_stranded_state(struct weir_ring *const *rings, unsigned n_rings, const struct weir_info *info,
		    unsigned max_lines, FILE *f, struct weir_stranded *out)
{
	memset(out, 0, sizeof(*out));
	struct run *runs = calloc(MAX_RUNS, sizeof(*runs));
	for (unsigned i = 0; i < n_rings; i++) {
		struct weir_ring_consumer c;
		weir_ring_consumer_attach(&c, rings[i]);
		const struct weir_record *rec;
		uint64_t pos;
		while ((rec = weir_ring_peek(&c, &pos)) != NULL) {
			count(out, rec);
			if (runs)
				add(runs, &out->runs, rec);
			weir_ring_consumed(&c, rec);
		}
	}
	for (uint64_t i = 0; i < out->runs && i < max_lines; i++)
		say_run(&runs[i], info, f);
	if (out->runs > max_lines)
		fprintf(f, "weir-dataplane: stranded: %" PRIu64 " more sources not listed\n", out->runs - max_lines);
	free(runs);
	if (out->records)
		fprintf(f, "weir-dataplane: stranded: %" PRIu64 " records lost with this process (%" PRIu64 " events, %" PRIu64
			   " dead letters, %" PRIu64 " loss records, %" PRIu64 " ends of session): they are in no log; "
			   "weir-control was not draining (start it before stopping the dataplane)\n",
			out->records, out->events, out->dead_letters, out->losses, out->ends_of_session);
}
