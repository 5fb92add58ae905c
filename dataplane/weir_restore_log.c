#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "weir_log.h"
#include "weir_restore.h"

/* The first segment of dir to read so that window_bytes of its tail are. */
static size_t
window_start(const char *dir, const uint64_t *bases, size_t n, uint64_t window_bytes)
{
	uint64_t covered = 0;
	size_t i = n;
	while (i > 0 && covered < window_bytes) {
		char path[PATH_MAX + 32];
		struct stat st;
		weir_log_segment_path(dir, bases[i - 1], path, sizeof(path));
		covered += stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
		i--;
	}
	return i;
}

/*
 * One topic's window, entry by entry, segment after segment: the entries of
 * one worker only (the others are noted), so that the topics can be taken
 * together in the order that worker's ring gave them.  Past a damaged batch
 * it reads on from the next good one (weir-control and weir-read name the
 * damage), so what the log still holds after it is known, not declared lost.
 */
struct cursor {
	char dir[PATH_MAX];
	uint64_t *bases;
	size_t n, first, next;         /* segments listed; the window's first; the next to open */
	struct weir_log_segment s;
	bool open;
	const struct weir_log_entry *e; /* the entry it stands at; NULL: the window is read */
};

static void
cursor_step(struct cursor *c, unsigned worker, uint64_t *others)
{
	char why[256];
	for (c->e = NULL;;) {
		if (c->open) {
			int rc = weir_log_segment_next(&c->s, &c->e, why, sizeof(why));
			if (rc == 1 && c->e->worker == worker)
				return;
			if (rc == 1) {
				*others |= 1ull << (c->e->worker % WEIR_MAX_WORKERS);
				continue;
			}
			c->e = NULL;
			if (rc < 0 && weir_log_segment_resync(&c->s) != 0)
				continue;
			weir_log_segment_close(&c->s);
			c->open = false;
		}
		if (c->next == c->n)
			return;
		char path[PATH_MAX + 32];
		weir_log_segment_path(c->dir, c->bases[c->next++], path, sizeof(path));
		c->open = weir_log_segment_open(&c->s, path, why, sizeof(why)) == 0; /* else weir-control says why */
	}
}

static void
cursor_rewind(struct cursor *c)
{
	if (c->open)
		weir_log_segment_close(&c->s);
	c->open = false;
	c->next = c->first;
}

/* Whether a comes before b in their worker's ring: its run, then its place. */
static bool
before(const struct weir_log_entry *a, const struct weir_log_entry *b)
{
	return a->incarnation != b->incarnation ? a->incarnation < b->incarnation : a->ring_pos < b->ring_pos;
}

/* One worker's records of every topic, in its ring's order: false when
 * memory ran out. */
static bool
note_worker(struct weir_restore *r, struct cursor *cs, unsigned n, unsigned worker, uint64_t *others)
{
	for (unsigned t = 0; t < n; t++) {
		cursor_rewind(&cs[t]);
		cursor_step(&cs[t], worker, others);
	}
	for (;;) {
		struct cursor *first = NULL;
		for (unsigned t = 0; t < n; t++) /* few topics: a look at each */
			if (cs[t].e && (first == NULL || before(cs[t].e, first->e)))
				first = &cs[t];
		if (first == NULL)
			return true;
		if (!weir_restore_note(r, weir_log_entry_record(first->e)))
			return false;
		cursor_step(first, worker, others);
	}
}

/*
 * A source's records may lie in several topics (a weir frame's topics, rules
 * that route events): weir_restore_note() takes them as the source's worker
 * wrote them, its ring's order, since a source starts at its first record
 * and a hole is what it jumped over.  Taken a topic at a time, the first
 * record of the first topic read was the source's start, and a gap open
 * below it at the restart was never stated lost (explorer: weir frames with
 * topics, the dataplane killed).  Each worker's records in a pass of their
 * own: two rings' positions do not compare (a source is one worker's in a
 * run; one that moved between runs to a worker of a lower number is taken
 * in worker order, not run order).
 */
int
weir_restore_from_log(struct weir_restore *r, const char *log_dir, const char (*topics)[32], unsigned n_topics,
		      uint64_t window_bytes, char *err, size_t errlen)
{
	unsigned n = n_topics > 1 ? n_topics - 1 : 0; /* topic 0 holds dead letters: no sequence */
	struct cursor *cs = calloc(n ? n : 1, sizeof(*cs));
	if (cs == NULL) {
		snprintf(err, errlen, "out of memory for the log's topics");
		return -1;
	}
	int rc = 0;
	for (unsigned t = 0; t < n && rc == 0; t++) {
		struct cursor *c = &cs[t];
		snprintf(c->dir, sizeof(c->dir), "%s/%s", log_dir, topics[t + 1]);
		if (weir_log_list_segments(c->dir, &c->bases, &c->n) != 0) {
			snprintf(err, errlen, "%s: cannot list the log", c->dir);
			rc = -1;
		} else {
			c->first = window_start(c->dir, c->bases, c->n, window_bytes);
		}
	}
	uint64_t others = 0, done = 0;
	for (unsigned w = 0; rc == 0 && w < WEIR_MAX_WORKERS; w++) {
		if (w > 0 && !(others & ~done & (1ull << w)))
			continue;
		done |= 1ull << w;
		if (!note_worker(r, cs, n, w, &others)) {
			snprintf(err, errlen, "out of memory for the log's sources and their gaps");
			rc = -1;
		}
	}
	for (unsigned t = 0; t < n; t++) {
		cursor_rewind(&cs[t]);
		free(cs[t].bases);
	}
	free(cs);
	return rc;
}
