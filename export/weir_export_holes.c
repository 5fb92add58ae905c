/*
 * Offsets of the log that will never reach Kafka, said in Kafka itself: a
 * hole weir-read --salvage stated lost, or what hard retention deleted
 * before it was shipped.  A consumer of Kafka alone would otherwise see a
 * source's numbers jump with no LOSS record to say why.  Each hole becomes
 * a log_hole record (weir_export_map_hole) in every partition of the
 * topic's Kafka topic and of its loss topic, in the transaction that ships
 * what follows it: committed with the position past it, or not at all.
 */
#include <inttypes.h>
#include <stdio.h>

#include "weir_export.h"
#include "weir_export_map.h"
#include "weir_export_pvt.h"
#include "weir_time.h"

/* rec in every partition of topic, as many as Kafka says it has now (an
 * operator may have added some; holes are rare, the question cheap), else
 * as many as it said at start (*parts, which partition-by worker keeps);
 * -1 when it never said (asked again at the next try) or refuses one. */
static int
send_everywhere(struct weir_exporter *x, const char *topic, int *parts, const struct weir_export_record *rec)
{
	int now = weir_export_partitions(x->rk, topic), n = now > 0 ? now : *parts;
	if (*parts <= 0)
		*parts = n;
	if (n <= 0) {
		fprintf(stderr, "weir-export: %s: no metadata: a hole in the log cannot be stated there yet\n", topic);
		return -1;
	}
	for (int p = 0; p < n; p++)
		if (weir_export_send(x, topic, p, rec, false) != 0)
			return -1;
	return 0;
}

static int
state(struct weir_exporter *x, struct weir_export_topic_state *t, uint64_t first, uint64_t next, const char *cause)
{
	struct weir_export_record rec;
	weir_export_map_hole(first, next - 1, cause, (int64_t)(weir_realtime_ns() / 1000000u), &rec);
	if (send_everywhere(x, t->cfg->kafka_topic, &t->partitions, &rec) != 0)
		return -1;
	return t->cfg->loss_topic[0] ? send_everywhere(x, t->cfg->loss_topic, &t->loss_partitions, &rec) : 0;
}

void
weir_export_deleted(struct weir_export_topic_state *t, uint64_t from, uint64_t to)
{
	uint64_t said = from > t->truncated_to ? from : t->truncated_to;
	if (to > said) { /* a rewind finds the same deletion again: said once */
		t->truncated_to = to;
		fprintf(stderr, "weir-export: %s: offsets %" PRIu64 " to %" PRIu64 " were deleted by hard retention "
			"before they were shipped: never shipped\n", t->cfg->log_topic, said, to - 1);
	}
	/* Kept apart from the others, so that what shipped between two
	 * deletions is never stated lost; one a rewind finds again overlaps
	 * those it covers and takes them in.  Stated ones are left as they are. */
	struct weir_export_range r = { from, to };
	unsigned n = t->n_deleted_stated;
	for (unsigned i = t->n_deleted_stated; i < t->n_deleted; i++) {
		struct weir_export_range d = t->deleted[i];
		if (d.next < r.first || d.first > r.next) {
			t->deleted[n++] = d;
			continue;
		}
		r.first = d.first < r.first ? d.first : r.first;
		r.next = d.next > r.next ? d.next : r.next;
	}
	if (n == WEIR_EXPORT_DELETIONS) { /* never seen: the last one widened, and stated again if it was */
		struct weir_export_range *last = &t->deleted[n - 1];
		r.first = last->first < r.first ? last->first : r.first;
		r.next = last->next > r.next ? last->next : r.next;
		if (t->n_deleted_stated == n)
			t->n_deleted_stated--;
		n--;
	}
	unsigned at = n;
	while (at > t->n_deleted_stated && t->deleted[at - 1].first > r.first) {
		t->deleted[at] = t->deleted[at - 1];
		at--;
	}
	t->deleted[at] = r;
	t->n_deleted = n + 1;
}

int
weir_export_state_holes(struct weir_exporter *x, struct weir_export_topic_state *t, uint64_t next)
{
	/* What retention deleted, once a transaction until one commits it. */
	for (; t->n_deleted_stated < t->n_deleted; t->n_deleted_stated++) {
		const struct weir_export_range *d = &t->deleted[t->n_deleted_stated];
		if (state(x, t, d->first, d->next, WEIR_EXPORT_HOLE_RETENTION) != 0)
			return -1;
	}
	if (next <= t->pending)
		return 0;
	/* Salvage's hole, right before the entry at next: a rewind reads it again. */
	uint64_t from = t->pending > t->holes_to ? t->pending : t->holes_to;
	if (next > from) {
		weir_sw_add(&t->holes, next - from);
		t->holes_to = next;
		fprintf(stderr, "weir-export: %s: offsets %" PRIu64 " to %" PRIu64 " are stated lost in the log "
			"(weir-read --salvage): never shipped\n", t->cfg->log_topic, from, next - 1);
	}
	return state(x, t, t->pending, next, WEIR_EXPORT_HOLE_DAMAGED);
}

void
weir_export_holes_committed(struct weir_export_topic_state *t)
{
	/* Counted here, once each: a deletion a rewind finds again may hold
	 * offsets an aborted transaction had read (the reader's mark is Kafka's
	 * point, and hard retention does not wait for it). */
	unsigned k = t->n_deleted_stated;
	for (unsigned i = 0; i < k; i++)
		weir_sw_add(&t->truncated, t->deleted[i].next - t->deleted[i].first);
	for (unsigned i = k; i < t->n_deleted; i++)
		t->deleted[i - k] = t->deleted[i];
	t->n_deleted -= k;
	t->n_deleted_stated = 0;
}

void
weir_export_holes_aborted(struct weir_export_topic_state *t)
{
	t->n_deleted_stated = 0; /* stated in nothing Kafka keeps */
}
