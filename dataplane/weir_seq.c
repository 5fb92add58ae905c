#include <string.h>

#include "weir_seq.h"
#include "weir_seq_lines.h"

/* Sequence arithmetic is modular: a source may wrap at 2^64. */
static inline int64_t
seq_diff(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b);
}

static inline bool
in_gap(const struct weir_seq_gap *g, uint64_t seq)
{
	return seq - g->first <= g->last - g->first;
}

uint32_t
weir_seq_capacity(uint32_t max_sources)
{
	uint32_t cap = 16;
	while (cap < 2ull * max_sources)
		cap <<= 1;
	return cap;
}

uint64_t
weir_seq_memsize(const struct weir_sequence_cfg *cfg)
{
	uint64_t cap = weir_seq_capacity(cfg->max_sources);
	return sizeof(struct weir_seq_region) +
	       cap * (sizeof(struct weir_seq_source) + sizeof(struct weir_seq_source_stats)) +
	       (uint64_t)cfg->max_gaps * sizeof(struct weir_seq_gap);
}

int
weir_seq_create(struct weir_seq_table *t, const struct weir_sequence_cfg *cfg, const struct weir_seq_actions *act,
		struct weir_worker_counters *counters, uint32_t worker, void *region)
{
	memset(t, 0, sizeof(*t));
	if (region == NULL || cfg->max_sources == 0 || cfg->max_sources > (1u << 30) || cfg->max_gaps == 0 ||
	    cfg->max_gaps >= WEIR_SEQ_NONE)
		return -1;
	t->cfg = *cfg;
	t->act = *act;
	t->c = counters;
	t->capacity = weir_seq_capacity(cfg->max_sources);
	t->mask = t->capacity - 1;
	t->region = region;
	memset(region, 0, weir_seq_memsize(cfg));
	t->sources = (struct weir_seq_source *)(t->region + 1);
	t->stats = (struct weir_seq_source_stats *)(t->sources + t->capacity);
	t->gaps = (struct weir_seq_gap *)(t->stats + t->capacity);
	for (uint32_t i = 0; i < cfg->max_gaps; i++)
		t->gaps[i].next_in_source = i + 1 < cfg->max_gaps ? i + 1 : WEIR_SEQ_NONE;
	t->free_gap = 0;
	t->oldest_open = t->newest_open = WEIR_SEQ_NONE;
	t->region->magic = WEIR_SEQ_MAGIC;
	t->region->worker = worker;
	t->region->capacity = t->capacity;
	t->region->max_gaps = cfg->max_gaps;
	__atomic_store_n(&t->region->version, WEIR_SEQ_VERSION, __ATOMIC_RELEASE);
	return 0;
}

static void restore_source(struct weir_seq_table *t, struct weir_seq_source *s, const struct weir_restore_source *rs,
			   uint64_t now_ns);

struct weir_seq_source *
weir_seq_source(struct weir_seq_table *t, const uint8_t key[WEIR_SOURCE_BYTES], const struct weir_seq_origin *origin,
		uint64_t now_ns)
{
	for (uint32_t i = weir_source_hash(key) & t->mask;; i = (i + 1) & t->mask) {
		struct weir_seq_source *s = &t->sources[i];
		if (s->state != WEIR_SEQ_SRC_EMPTY) {
			if (weir_source_key_eq(s->key, key))
				return t->recent = s;
			continue;
		}
		/* Capacity is twice the limit, so probing always ends at an empty slot. */
		if (t->c->sources >= t->cfg.max_sources)
			return NULL;
		memcpy(s->key, key, WEIR_SOURCE_BYTES);
		s->state = WEIR_SEQ_SRC_ACTIVE;
		s->next_seq = 0;
		s->started = 0; /* the first event or heartbeat sets next_seq */
		s->first_gap = WEIR_SEQ_NONE;
		s->n_gaps = 0;
		s->origin = *origin;
		s->last_seen_ns = now_ns;
		s->events = 0;
		t->stats[i].next_request_ns = 0;
		t->stats[i].first_seen_ns = now_ns;
		t->c->sources++;
		const struct weir_restore_source *rs = weir_restore_find(t->restore, key);
		if (rs)
			restore_source(t, s, rs, now_ns);
		return t->recent = s;
	}
}

static void
open_list_remove(struct weir_seq_table *t, uint32_t gi)
{
	struct weir_seq_gap *g = &t->gaps[gi];
	if (g->prev_open != WEIR_SEQ_NONE)
		t->gaps[g->prev_open].next_open = g->next_open;
	else
		t->oldest_open = g->next_open;
	if (g->next_open != WEIR_SEQ_NONE)
		t->gaps[g->next_open].prev_open = g->prev_open;
	else
		t->newest_open = g->prev_open;
	t->n_open--;
}

/* Inserts gi after `after` in the open list (WEIR_SEQ_NONE: at the newest end). */
static void
open_list_insert_after(struct weir_seq_table *t, uint32_t gi, uint32_t after)
{
	struct weir_seq_gap *g = &t->gaps[gi];
	if (after == WEIR_SEQ_NONE)
		after = t->newest_open;
	g->prev_open = after;
	if (after == WEIR_SEQ_NONE) {
		g->next_open = t->oldest_open;
		t->oldest_open = gi;
	} else {
		g->next_open = t->gaps[after].next_open;
		t->gaps[after].next_open = gi;
	}
	if (g->next_open == WEIR_SEQ_NONE)
		t->newest_open = gi;
	else
		t->gaps[g->next_open].prev_open = gi;
	t->n_open++;
}

static uint32_t
gap_alloc(struct weir_seq_table *t)
{
	uint32_t gi = t->free_gap;
	if (gi != WEIR_SEQ_NONE)
		t->free_gap = t->gaps[gi].next_in_source;
	return gi;
}

/* Unlinks gi from its source (prev: its predecessor there, or NONE) and frees it. */
static void
gap_release(struct weir_seq_table *t, uint32_t gi, uint32_t prev)
{
	struct weir_seq_gap *g = &t->gaps[gi];
	struct weir_seq_source *src = &t->sources[g->source];
	if (prev == WEIR_SEQ_NONE)
		src->first_gap = g->next_in_source;
	else
		t->gaps[prev].next_in_source = g->next_in_source;
	src->n_gaps--;
	if (g->pending) {
		g->pending = 0;
		t->n_pending--;
	}
	open_list_remove(t, gi);
	g->next_in_source = t->free_gap;
	t->free_gap = gi;
}

static void
report_loss(struct weir_seq_table *t, uint32_t src_idx, uint64_t first, uint64_t count, uint64_t now_ns)
{
	t->c->gap_events_lost += count;
	t->stats[src_idx].events_lost += count;
	t->act.loss(t->act.ctx, &t->sources[src_idx], first, count, now_ns);
}

static void
count_gap(struct weir_seq_table *t, uint32_t si, uint64_t n)
{
	t->c->gaps_opened++;
	t->c->gap_events_missing += n;
	t->stats[si].gaps_opened++;
	t->stats[si].events_missing += n;
}

/* Both lines missed it: a gap from now on, counted and asked for. */
static void
confirm_gap(struct weir_seq_table *t, struct weir_seq_gap *g, uint64_t now_ns)
{
	g->pending = 0;
	t->n_pending--;
	count_gap(t, g->source, g->last - g->first + 1);
	g->next_request_ns = now_ns;
}

static void
declare_lost(struct weir_seq_table *t, uint32_t gi, uint32_t prev, uint64_t now_ns)
{
	struct weir_seq_gap *g = &t->gaps[gi];
	if (g->pending)
		confirm_gap(t, g, now_ns);
	report_loss(t, g->source, g->first, g->last - g->first + 1, now_ns);
	gap_release(t, gi, prev);
}

/* [first, last] is missing below everything else open for src; pending
 * when one line of two missed it (ln not NULL). */
static void
open_gap(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t first, uint64_t last,
	 const struct weir_seq_line *ln, uint64_t now_ns)
{
	uint32_t si = weir_seq_index(t, src);
	uint64_t n = last - first + 1;
	uint32_t gi = gap_alloc(t);
	if (ln == NULL || gi == WEIR_SEQ_NONE)
		count_gap(t, si, n);
	if (gi == WEIR_SEQ_NONE) {
		t->c->gap_pool_exhausted++;
		report_loss(t, si, first, n, now_ns);
		return;
	}
	struct weir_seq_gap *g = &t->gaps[gi];
	g->first = first;
	g->last = last;
	g->opened_ns = now_ns;
	g->next_request_ns = now_ns;
	g->source = si;
	g->requests = 0;
	g->pending = ln != NULL;
	if (ln) {
		g->window_events = ln->window_events;
		g->confirm_ns = now_ns + ln->window_ns;
		t->n_pending++;
	}
	/* Gaps ascend: a new one lies above every open one, but for what a
	 * line brings below a fresh feed's floor. */
	uint32_t *link = &src->first_gap;
	while (*link != WEIR_SEQ_NONE && seq_diff(t->gaps[*link].first, first) < 0)
		link = &t->gaps[*link].next_in_source;
	g->next_in_source = *link;
	*link = gi;
	src->n_gaps++;
	open_list_insert_after(t, gi, WEIR_SEQ_NONE);
}

/* A source the last run tracked: it goes on where the log says it stood,
 * its holes open gaps again (re-requested, then lost: the log states them). */
static void
restore_source(struct weir_seq_table *t, struct weir_seq_source *s, const struct weir_restore_source *rs,
	       uint64_t now_ns)
{
	s->started = 1;
	s->next_seq = rs->next_seq;
	for (unsigned h = 0; h < rs->n_holes; h++)
		open_gap(t, s, rs->holes[h].first, rs->holes[h].last, NULL, now_ns);
	if (rs->closed)
		s->state = WEIR_SEQ_SRC_CLOSED;
	t->c->seq_sources_restored++;
}

/* seq arrived inside gap gi: shrink, split or close it. */
static void
fill_gap(struct weir_seq_table *t, uint32_t gi, uint32_t prev, uint64_t seq, uint64_t now_ns)
{
	struct weir_seq_gap *g = &t->gaps[gi];
	if (g->first == g->last) {
		gap_release(t, gi, prev);
	} else if (seq == g->first) {
		g->first++;
	} else if (seq == g->last) {
		g->last--;
	} else {
		uint32_t hi = gap_alloc(t);
		if (hi == WEIR_SEQ_NONE) {
			/* No entry to hold the upper part: it is lost now, and said so. */
			t->c->gap_pool_exhausted++;
			report_loss(t, g->source, seq + 1, g->last - seq, now_ns);
			g->last = seq - 1;
			return;
		}
		struct weir_seq_gap *h = &t->gaps[hi];
		*h = *g;
		h->first = seq + 1;
		g->last = seq - 1;
		g->next_in_source = hi;
		t->sources[g->source].n_gaps++;
		t->n_pending += h->pending;
		/* Same age as g: right after it keeps the open list in deadline order. */
		open_list_insert_after(t, hi, gi);
	}
}

static void
lose_all_gaps(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t now_ns)
{
	while (src->first_gap != WEIR_SEQ_NONE)
		declare_lost(t, src->first_gap, WEIR_SEQ_NONE, now_ns);
}

/* WEIR_SEQ_LATE_FILL (or WEIR_SEQ_LINE_FILL: a pending gap), counted,
 * when seq fills one of src's open gaps; WEIR_SEQ_DUPLICATE when none. */
static enum weir_seq_class
fill_if_in_gap(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t seq, uint64_t now_ns)
{
	for (uint32_t gi = src->first_gap, prev = WEIR_SEQ_NONE; gi != WEIR_SEQ_NONE;
	     prev = gi, gi = t->gaps[gi].next_in_source) {
		if (in_gap(&t->gaps[gi], seq)) {
			struct weir_seq_source_stats *st = &t->stats[weir_seq_index(t, src)];
			bool pending = t->gaps[gi].pending;
			fill_gap(t, gi, prev, seq, now_ns);
			src->events++;
			if (pending) {
				t->c->seq_line_fills++;
				st->line_fills++;
				return WEIR_SEQ_LINE_FILL;
			}
			t->c->seq_late_fills++;
			t->c->gap_events_recovered++;
			st->late_fills++;
			return WEIR_SEQ_LATE_FILL;
		}
		if (seq_diff(seq, t->gaps[gi].first) < 0)
			break; /* gaps ascend: it is in none of them */
	}
	return WEIR_SEQ_DUPLICATE;
}

/* seq below a fresh feed's floor, on line ln: new, kept as a line fill;
 * what lies between it and the floor is one line's miss until a line
 * brings it.  Neither line has brought [seq, floor): the other line's
 * record says so, and so does this one's above seq, unless it had brought
 * nothing yet (then it stands right past seq). */
static enum weir_seq_class
below_floor_fill(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t seq, const struct weir_seq_line *ln,
		 uint64_t now_ns)
{
	struct weir_seq_source_stats *st = lines_cold(t, src);
	uint64_t floor = st->lines_floor;
	if (seq + 1 != floor)
		open_gap(t, src, seq + 1, floor - 1, ln, now_ns);
	line_not_brought(t, src, 1u - ln->ab, seq, floor);
	if (weir_seq_line_next(src, ln->ab) == floor) {
		src->line_next_lo[ln->ab] = (uint32_t)(seq + 1);
		st->line_skipped[ln->ab] = 0;
		src->line_flags &= (uint8_t)~WEIR_SEQ_LINE_SKIPS(ln->ab);
	} else {
		line_not_brought(t, src, ln->ab, seq + 1, floor);
	}
	st->lines_floor = seq;
	src->events++;
	st->line_fills++;
	t->c->seq_line_fills++;
	return WEIR_SEQ_LINE_FILL;
}

static enum weir_seq_class
event_below(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t seq, const struct weir_seq_line *ln,
	    uint64_t now_ns)
{
	struct weir_seq_source_stats *st = &t->stats[weir_seq_index(t, src)];
	if (ln && below_floor(t, src, seq))
		return below_floor_fill(t, src, seq, ln, now_ns);
	bool first_here = ln && line_first_copy(t, src, ln, seq);
	enum weir_seq_class cls = fill_if_in_gap(t, src, seq, now_ns);
	if (cls == WEIR_SEQ_DUPLICATE && first_here) {
		/* in already, and this line had not been here: the other line's copy won */
		t->c->seq_arbitrated++;
		st->arbitrated++;
		cls = WEIR_SEQ_ARBITRATED;
	} else if (cls == WEIR_SEQ_DUPLICATE) {
		t->c->seq_duplicates++;
		st->duplicates++;
	}
	line_saw(t, src, ln, seq, seq + 1);
	return cls;
}

enum weir_seq_class
weir_seq_event(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t seq, uint64_t now_ns)
{
	return weir_seq_event_line(t, src, seq, NULL, now_ns);
}

enum weir_seq_class
weir_seq_event_line(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t seq,
		    const struct weir_seq_line *ln, uint64_t now_ns)
{
	if (src == NULL) {
		if (t->cfg.table_full == WEIR_SEQ_TABLE_FULL_DROP) {
			t->c->seq_table_full_drops++;
			return WEIR_SEQ_DROPPED;
		}
		t->c->seq_untracked++;
		return WEIR_SEQ_UNTRACKED;
	}
	src->last_seen_ns = now_ns;
	if (src->state == WEIR_SEQ_SRC_CLOSED) {
		/* The other line's copies still come after one line's end of session. */
		if (ln && src->lines && seq_diff(seq, src->next_seq) < 0 &&
		    seq_diff(seq, weir_seq_line_next(src, ln->ab)) >= 0)
			return event_below(t, src, seq, ln, now_ns);
		/* Retransmissions of its gaps still come after the end of session;
		 * anything else means the session started again. */
		enum weir_seq_class cls = fill_if_in_gap(t, src, seq, now_ns);
		if (cls != WEIR_SEQ_DUPLICATE)
			return cls;
		lose_all_gaps(t, src, now_ns);
		src->state = WEIR_SEQ_SRC_ACTIVE;
		src->started = 0;
		src->lines = 0;
		t->c->session_restarts++;
	}
	if (ln)
		lines_begin(t, src, src->started ? src->next_seq : seq);
	if (!src->started) {
		src->started = 1;
		src->next_seq = seq + 1;
		line_saw(t, src, ln, seq, seq + 1);
		t->c->seq_in_order++;
		src->events++;
		return WEIR_SEQ_IN_ORDER;
	}
	int64_t d = seq_diff(seq, src->next_seq);
	if (d == 0) {
		src->next_seq++;
		line_saw(t, src, ln, seq, seq + 1);
		t->c->seq_in_order++;
		src->events++;
		return WEIR_SEQ_IN_ORDER;
	}
	if (d > 0) {
		open_gap(t, src, src->next_seq, seq - 1, ln, now_ns);
		src->next_seq = seq + 1;
		line_saw(t, src, ln, seq, seq + 1);
		t->c->seq_ahead++;
		src->events++;
		return WEIR_SEQ_AHEAD;
	}
	return event_below(t, src, seq, ln, now_ns);
}

enum weir_seq_class
weir_seq_event_retransmitted(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t seq, uint64_t now_ns)
{
	if (src == NULL || src->state != WEIR_SEQ_SRC_CLOSED)
		return weir_seq_event_line(t, src, seq, NULL, now_ns);
	src->last_seen_ns = now_ns;
	return event_below(t, src, seq, NULL, now_ns);
}

bool
weir_seq_in_order_run(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t first, uint64_t count,
		      const struct weir_seq_line *ln, uint64_t now_ns)
{
	if (src == NULL || src->state != WEIR_SEQ_SRC_ACTIVE || !src->started || first != src->next_seq)
		return false;
	if (ln)
		lines_begin(t, src, first);
	src->last_seen_ns = now_ns;
	src->next_seq += count;
	line_saw(t, src, ln, first, src->next_seq);
	t->c->seq_in_order += count;
	src->events += count;
	return true;
}

void
weir_seq_lines_settle(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t now_ns)
{
	if (src == NULL || !src->lines || src->n_gaps == 0)
		return;
	uint64_t a = weir_seq_line_next(src, 0), b = weir_seq_line_next(src, 1);
	uint64_t both = seq_diff(a, b) < 0 ? a : b; /* what both lines are past */
	for (uint32_t gi = src->first_gap; gi != WEIR_SEQ_NONE; gi = t->gaps[gi].next_in_source) {
		struct weir_seq_gap *g = &t->gaps[gi];
		if (g->pending && (seq_diff(g->last, both) < 0 ||
				   (g->window_events && seq_diff(src->next_seq - 1, g->last) >= (int64_t)g->window_events)))
			confirm_gap(t, g, now_ns);
	}
}

void
weir_seq_heartbeat(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t next_seq,
		   const struct weir_seq_line *ln, uint64_t now_ns)
{
	if (src == NULL || src->state == WEIR_SEQ_SRC_CLOSED)
		return;
	src->last_seen_ns = now_ns;
	if (ln)
		lines_begin(t, src, src->started ? src->next_seq : next_seq);
	if (!src->started) {
		src->started = 1;
		src->next_seq = next_seq;
		return;
	}
	if (seq_diff(next_seq, src->next_seq) > 0) {
		open_gap(t, src, src->next_seq, next_seq - 1, ln, now_ns);
		src->next_seq = next_seq;
	}
	line_saw(t, src, ln, next_seq, next_seq);
}

void
weir_seq_end_of_session(struct weir_seq_table *t, struct weir_seq_source *src, uint64_t next_seq,
			const struct weir_seq_line *ln, uint64_t now_ns)
{
	if (src == NULL || src->state == WEIR_SEQ_SRC_CLOSED)
		return;
	weir_seq_heartbeat(t, src, next_seq, ln, now_ns);
	src->state = WEIR_SEQ_SRC_CLOSED;
}

/* The oldest open gap is lost. */
static void
lose_oldest(struct weir_seq_table *t, uint64_t now_ns)
{
	uint32_t gi = t->oldest_open;
	struct weir_seq_source *src = &t->sources[t->gaps[gi].source];
	uint32_t prev = WEIR_SEQ_NONE;
	for (uint32_t i = src->first_gap; i != gi; i = t->gaps[i].next_in_source)
		prev = i;
	declare_lost(t, gi, prev, now_ns);
}

unsigned
weir_seq_tick(struct weir_seq_table *t, uint64_t now_ns)
{
	unsigned acted = 0;
	/* A line's miss the other line did not fill in its window: a gap. */
	for (uint32_t gi = t->oldest_open; t->n_pending && gi != WEIR_SEQ_NONE; gi = t->gaps[gi].next_open)
		if (t->gaps[gi].pending && now_ns >= t->gaps[gi].confirm_ns) {
			confirm_gap(t, &t->gaps[gi], now_ns);
			acted++;
		}
	/* The open list is oldest first and every gap lives as long: expiry
	 * stops at the first gap still inside its time. */
	/* Signed: a gap whose clock a wait for room stopped (weir_seq_pause) may
	 * open "after" the burst time a tick is given; it has not aged at all. */
	while (t->oldest_open != WEIR_SEQ_NONE &&
	       seq_diff(now_ns, t->gaps[t->oldest_open].opened_ns) >= (int64_t)t->cfg.gap_timeout_ns) {
		lose_oldest(t, now_ns);
		acted++;
	}
	if (t->cfg.rerequest_max == 0 || t->act.request == NULL)
		return acted;
	for (uint32_t gi = t->oldest_open; gi != WEIR_SEQ_NONE; gi = t->gaps[gi].next_open) {
		struct weir_seq_gap *g = &t->gaps[gi];
		if (g->pending || g->requests >= t->cfg.rerequest_max || now_ns < g->next_request_ns)
			continue;
		struct weir_seq_source *src = &t->sources[g->source];
		if (!src->origin.can_request)
			continue;
		if (now_ns < t->stats[g->source].next_request_ns) {
			t->c->rerequests_rate_limited++;
			continue;
		}
		uint64_t count = g->last - g->first + 1;
		if (count > t->cfg.rerequest_max_count)
			count = t->cfg.rerequest_max_count;
		if (!t->act.request(t->act.ctx, src, g->first, count)) {
			t->c->rerequests_failed++;
			continue;
		}
		t->c->rerequests_sent++;
		t->stats[g->source].requests_sent++;
		g->next_request_ns = now_ns + (t->cfg.rerequest_interval_ns << g->requests);
		g->requests++;
		t->stats[g->source].next_request_ns = now_ns + t->cfg.rerequest_min_gap_ns;
		acted++;
	}
	return acted;
}

void
weir_seq_pause(struct weir_seq_table *t, uint64_t ns)
{
	for (uint32_t gi = t->oldest_open; gi != WEIR_SEQ_NONE; gi = t->gaps[gi].next_open) {
		struct weir_seq_gap *g = &t->gaps[gi];
		g->opened_ns += ns; /* all alike: the open list stays oldest first */
		g->next_request_ns += ns;
		g->confirm_ns += g->pending ? ns : 0;
	}
}

void
weir_seq_flush(struct weir_seq_table *t, uint64_t now_ns)
{
	while (t->oldest_open != WEIR_SEQ_NONE)
		lose_oldest(t, now_ns);
}
