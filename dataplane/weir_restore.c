#include <stdlib.h>
#include <string.h>

#include "weir_restore.h"

int
weir_restore_init(struct weir_restore *r, uint32_t max_sources)
{
	memset(r, 0, sizeof(*r));
	r->cap = max_sources < 512 ? (max_sources ? max_sources : 1) : 512; /* grows with the log's sources */
	r->sources = calloc(r->cap, sizeof(*r->sources));
	return r->sources ? 0 : -1;
}

void
weir_restore_free(struct weir_restore *r)
{
	for (uint32_t i = 0; r->sources && i < r->n; i++)
		free(r->sources[i].holes);
	free(r->sources);
	r->sources = NULL;
	weir_source_map_free(&r->map);
}

void
weir_restore_clear(struct weir_restore *r)
{
	for (uint32_t i = 0; i < r->n; i++)
		free(r->sources[i].holes);
	r->n = 0;
	r->records_read = 0;
	r->last_incarnation = 0;
	weir_source_map_clear(&r->map);
}

uint64_t
weir_restore_incarnation(const struct weir_restore *r, uint64_t start_ns)
{
	return r->last_incarnation < start_ns ? start_ns : r->last_incarnation + 1;
}

const struct weir_restore_source *
weir_restore_find(const struct weir_restore *r, const uint8_t key[WEIR_SOURCE_BYTES])
{
	if (r == NULL)
		return NULL;
	uint32_t i = weir_source_map_get(&r->map, key);
	return i == WEIR_SOURCE_MAP_NONE ? NULL : &r->sources[i];
}

/* key's state, a new one (zeroed) at its first record; NULL when memory is
 * out.  Session names pile up over days: the array doubles as they come. */
static struct weir_restore_source *
find_or_add(struct weir_restore *r, const uint8_t key[WEIR_SOURCE_BYTES])
{
	if (r->n == r->cap) {
		struct weir_restore_source *s = realloc(r->sources, 2ull * r->cap * sizeof(*s));
		if (s == NULL)
			return NULL;
		r->sources = s;
		r->cap *= 2;
	}
	bool added;
	uint32_t i = weir_source_map_put(&r->map, key, r->n, &added);
	if (i == WEIR_SOURCE_MAP_NONE)
		return NULL;
	if (added) {
		memset(&r->sources[i], 0, sizeof(r->sources[i]));
		memcpy(r->sources[i].key, key, WEIR_SOURCE_BYTES);
		r->n++;
	}
	return &r->sources[i];
}

/* Room for one more hole at index at (the rest moved up). */
static bool
make_room(struct weir_restore_source *s, uint32_t at)
{
	if (s->n_holes == s->cap_holes) {
		uint32_t cap = s->cap_holes ? s->cap_holes * 2 : 4;
		struct weir_restore_hole *h = realloc(s->holes, cap * sizeof(*h));
		if (h == NULL)
			return false;
		s->holes = h;
		s->cap_holes = cap;
	}
	memmove(&s->holes[at + 1], &s->holes[at], sizeof(*s->holes) * (s->n_holes - at));
	s->n_holes++;
	return true;
}

static bool
add_hole(struct weir_restore_source *s, uint64_t first, uint64_t last)
{
	if (!make_room(s, s->n_holes))
		return false;
	s->holes[s->n_holes - 1] = (struct weir_restore_hole){ first, last };
	return true;
}

/* The first hole (ascending) that ends at or after seq: by halving, since a
 * replayed window can hold thousands of gaps a source. */
static uint32_t
hole_at_or_after(const struct weir_restore_source *s, uint64_t seq)
{
	uint32_t lo = 0, hi = s->n_holes;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (s->holes[mid].last < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* [first, last] is in the log now: out of every hole. */
static bool
fill(struct weir_restore_source *s, uint64_t first, uint64_t last)
{
	for (uint32_t i = hole_at_or_after(s, first); i < s->n_holes && s->holes[i].first <= last;) {
		struct weir_restore_hole *h = &s->holes[i];
		if (first <= h->first && last >= h->last) {
			memmove(h, h + 1, sizeof(*h) * (s->n_holes - i - 1));
			s->n_holes--;
		} else if (first <= h->first) {
			h->first = last + 1;
			i++;
		} else if (last >= h->last) {
			h->last = first - 1;
			i++;
		} else {
			struct weir_restore_hole upper = { last + 1, h->last };
			h->last = first - 1;
			if (!make_room(s, i + 1))
				return false;
			s->holes[i + 1] = upper;
			i += 2;
		}
	}
	return true;
}

/* The log accounts for [first, last] of s: below next_seq it fills holes,
 * above it moves next_seq on, leaving a hole for what it jumped over. */
static bool
cover(struct weir_restore_source *s, uint64_t first, uint64_t last, bool started)
{
	if (!started) {
		s->next_seq = last + 1;
		return true;
	}
	if (first > s->next_seq && !add_hole(s, s->next_seq, first - 1))
		return false;
	if (first < s->next_seq && !fill(s, first, last < s->next_seq ? last : s->next_seq - 1))
		return false;
	if (last + 1 > s->next_seq)
		s->next_seq = last + 1;
	return true;
}

bool
weir_restore_note(struct weir_restore *r, const struct weir_record *rec)
{
	if (rec->kind != WEIR_REC_EVENT && rec->kind != WEIR_REC_LOSS && rec->kind != WEIR_REC_END_OF_SESSION)
		return true;
	struct weir_restore_source *s = find_or_add(r, rec->source);
	if (s == NULL)
		return false;
	bool known = s->started; /* its next_seq means something */
	s->started = 1;
	r->records_read++;
	switch (rec->kind) {
	case WEIR_REC_EVENT: {
		uint32_t i = hole_at_or_after(s, rec->seq);
		bool in_hole = i < s->n_holes && s->holes[i].first <= rec->seq;
		if (s->closed && !in_hole) {
			/* Past its end: the session started again, as the tracker would say. */
			s->closed = 0;
			s->n_holes = 0;
			known = false;
		}
		return cover(s, rec->seq, rec->seq, known);
	}
	case WEIR_REC_LOSS:
		return rec->count == 0 || cover(s, rec->seq, rec->seq + rec->count - 1, known);
	default: /* end of session: its seq is the next one, had the session gone on */
		if (known && rec->seq > s->next_seq && !add_hole(s, s->next_seq, rec->seq - 1))
			return false;
		if (!known || rec->seq > s->next_seq)
			s->next_seq = rec->seq;
		s->closed = 1;
		return true;
	}
}
