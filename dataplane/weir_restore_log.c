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
 * One topic's window, entry by entry, segment after segment, as read for one
 * worker: its entries only (the others are noted), so that every worker's
 * cursors of every topic can be merged in the order the records were made.
 * Past a damaged batch it reads on from the next good one (weir-control and
 * weir-read name the damage), so what the log still holds after it is
 * known, not declared lost.
 */
struct window {
	char dir[PATH_MAX];
	uint64_t *bases;
	size_t n, first;                /* segments listed; the window's first */
};

struct cursor {
	const struct window *w;
	unsigned worker;
	size_t next;                    /* the next segment to open */
	struct weir_log_segment s;
	bool open;
	const struct weir_log_entry *e; /* the entry it stands at; NULL: the window is read */
};

static void
cursor_step(struct cursor *c, uint64_t *others)
{
	char why[256];
	for (c->e = NULL;;) {
		if (c->open) {
			int rc = weir_log_segment_next(&c->s, &c->e, why, sizeof(why));
			if (rc == 1 && c->e->worker == c->worker)
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
		if (c->next == c->w->n)
			return;
		char path[PATH_MAX + 32];
		weir_log_segment_path(c->w->dir, c->w->bases[c->next++], path, sizeof(path));
		c->open = weir_log_segment_open(&c->s, path, why, sizeof(why)) == 0; /* else weir-control says why */
	}
}

static void
cursor_close(struct cursor *c)
{
	if (c->open)
		weir_log_segment_close(&c->s);
	c->open = false;
}

/* Whether a was made before b: by run, then (a source is one worker's in a
 * run) by worker, then by its place in that worker's ring.  Two rings'
 * positions do not compare; two runs' do, and a source can move between
 * runs to another worker (the queues cut from two to one). */
static bool
before(const struct weir_log_entry *a, const struct weir_log_entry *b)
{
	if (a->incarnation != b->incarnation)
		return a->incarnation < b->incarnation;
	if (a->worker != b->worker)
		return a->worker < b->worker;
	return a->ring_pos < b->ring_pos;
}

enum merged { MERGED, NO_MEMORY, MORE_WORKERS };

/* The records of every topic of the workers in the mask, merged in the order
 * they were made, into r; MORE_WORKERS as soon as a worker outside the mask
 * is seen (its records belong in the merge from the start). */
static enum merged
merge(struct weir_restore *r, const struct window *ws, unsigned n, uint64_t mask, uint64_t *seen)
{
	unsigned k = 0;
	struct cursor *cs = calloc((size_t)(n ? n : 1) * WEIR_MAX_WORKERS, sizeof(*cs));
	if (cs == NULL)
		return NO_MEMORY;
	for (unsigned w = 0; w < WEIR_MAX_WORKERS; w++)
		for (unsigned t = 0; t < n && (mask >> w & 1); t++)
			cs[k++] = (struct cursor){ .w = &ws[t], .worker = w, .next = ws[t].first };
	for (unsigned i = 0; i < k; i++)
		cursor_step(&cs[i], seen);
	enum merged rc = MERGED;
	while (rc == MERGED) {
		struct cursor *first = NULL;
		for (unsigned i = 0; i < k; i++) /* few topics and workers: a look at each */
			if (cs[i].e && (first == NULL || before(cs[i].e, first->e)))
				first = &cs[i];
		if (*seen & ~mask)
			rc = MORE_WORKERS;
		else if (first == NULL)
			break;
		else if (!weir_restore_note(r, weir_log_entry_record(first->e)))
			rc = NO_MEMORY;
		else {
			if (first->e->incarnation > r->last_incarnation)
				r->last_incarnation = first->e->incarnation;
			cursor_step(first, seen);
		}
	}
	for (unsigned i = 0; i < k; i++)
		cursor_close(&cs[i]);
	free(cs);
	return rc;
}

/*
 * A source's records may lie in several topics (a weir frame's topics, rules
 * that route events): weir_restore_note() takes them in the order they were
 * made, since a source starts at its first record and a hole is what it
 * jumped over.  Taken a topic at a time, the first record of the first topic
 * read was the source's start, and a gap open below it at the restart was
 * never stated lost (explorer: weir frames with topics, the dataplane
 * killed).  Taken a worker at a time, a source that moved to a worker of a
 * lower number had its last run noted before the one before it.  Worker 0's
 * records are merged first; each other worker seen starts the merge again
 * with it (mostly at the window's first batches).
 */
int
weir_restore_from_log(struct weir_restore *r, const char *log_dir, const char (*topics)[32], unsigned n_topics,
		      uint64_t window_bytes, char *err, size_t errlen)
{
	unsigned n = n_topics > 1 ? n_topics - 1 : 0; /* topic 0 holds dead letters: no sequence */
	struct window *ws = calloc(n ? n : 1, sizeof(*ws));
	if (ws == NULL) {
		snprintf(err, errlen, "out of memory for the log's topics");
		return -1;
	}
	int rc = 0;
	for (unsigned t = 0; t < n && rc == 0; t++) {
		struct window *w = &ws[t];
		snprintf(w->dir, sizeof(w->dir), "%s/%s", log_dir, topics[t + 1]);
		if (weir_log_list_segments(w->dir, &w->bases, &w->n) != 0) {
			snprintf(err, errlen, "%s: cannot list the log", w->dir);
			rc = -1;
		} else {
			w->first = window_start(w->dir, w->bases, w->n, window_bytes);
		}
	}
	uint64_t mask = 1, seen = 0;
	enum merged m = MORE_WORKERS;
	while (rc == 0 && m == MORE_WORKERS) {
		m = merge(r, ws, n, mask, &seen);
		if (m == MORE_WORKERS) {
			mask |= seen;
			weir_restore_clear(r);
		}
	}
	if (rc == 0 && m == NO_MEMORY) {
		snprintf(err, errlen, "out of memory for the log's sources and their gaps");
		rc = -1;
	}
	for (unsigned t = 0; t < n; t++)
		free(ws[t].bases);
	free(ws);
	return rc;
}
