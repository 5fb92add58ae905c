#include <stdlib.h>
#include <string.h>

#include "weir_restore.h"
#include "weir_seq.h"

int
weir_restore_init(struct weir_restore *r, uint32_t max_sources)
{
	memset(r, 0, sizeof(*r));
	r->capacity = weir_seq_capacity(max_sources);
	r->mask = r->capacity - 1;
	r->slots = calloc(r->capacity, sizeof(*r->slots));
	return r->slots ? 0 : -1;
}

void
weir_restore_free(struct weir_restore *r)
{
	free(r->slots);
	r->slots = NULL;
}

const struct weir_restore_source *
weir_restore_find(const struct weir_restore *r, const uint8_t key[WEIR_SOURCE_BYTES])
{
	if (r == NULL || r->n == 0)
		return NULL;
	for (uint32_t i = weir_seq_key_hash(key) & r->mask;; i = (i + 1) & r->mask) {
		const struct weir_restore_source *s = &r->slots[i];
		if (!s->used)
			return NULL;
		if (memcmp(s->key, key, WEIR_SOURCE_BYTES) == 0)
			return s;
	}
}

static struct weir_restore_source *
find_or_add(struct weir_restore *r, const uint8_t key[WEIR_SOURCE_BYTES])
{
	for (uint32_t i = weir_seq_key_hash(key) & r->mask;; i = (i + 1) & r->mask) {
		struct weir_restore_source *s = &r->slots[i];
		if (s->used) {
			if (memcmp(s->key, key, WEIR_SOURCE_BYTES) == 0)
				return s;
			continue;
		}
		/* Capacity is twice the sources a worker tracks: probing ends. */
		if (r->n >= r->capacity / 2)
			return NULL;
		memcpy(s->key, key, WEIR_SOURCE_BYTES);
		s->used = 1;
		r->n++;
		return s;
	}
}

static void
add_hole(struct weir_restore *r, struct weir_restore_source *s, uint64_t first, uint64_t last)
{
	if (s->n_holes == WEIR_RESTORE_HOLES) {
		/* The oldest hole is the one most likely already stated lost. */
		memmove(&s->holes[0], &s->holes[1], sizeof(s->holes[0]) * (WEIR_RESTORE_HOLES - 1));
		s->n_holes--;
		r->holes_dropped++;
	}
	s->holes[s->n_holes++] = (struct weir_restore_hole){ first, last };
}

/* [first, last] is in the log now: out of every hole. */
static void
fill(struct weir_restore *r, struct weir_restore_source *s, uint64_t first, uint64_t last)
{
	for (unsigned i = 0; i < s->n_holes;) {
		struct weir_restore_hole *h = &s->holes[i];
		if (last < h->first || first > h->last) {
			i++;
		} else if (first <= h->first && last >= h->last) {
			memmove(h, h + 1, sizeof(*h) * (size_t)(s->n_holes - i - 1));
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
			if (s->n_holes == WEIR_RESTORE_HOLES) {
				r->holes_dropped++;
				return;
			}
			memmove(h + 2, h + 1, sizeof(*h) * (size_t)(s->n_holes - i - 1));
			h[1] = upper;
			s->n_holes++;
			i += 2;
		}
	}
}

/* The log accounts for [first, last] of s: below next_seq it fills holes,
 * above it moves next_seq on, leaving a hole for what it jumped over. */
static void
cover(struct weir_restore *r, struct weir_restore_source *s, uint64_t first, uint64_t last, bool started)
{
	if (!started) {
		s->next_seq = last + 1;
		return;
	}
	if (first > s->next_seq)
		add_hole(r, s, s->next_seq, first - 1);
	if (first < s->next_seq)
		fill(r, s, first, last < s->next_seq ? last : s->next_seq - 1);
	if (last + 1 > s->next_seq)
		s->next_seq = last + 1;
}

bool
weir_restore_note(struct weir_restore *r, const struct weir_record *rec)
{
	if (rec->kind != WEIR_REC_EVENT && rec->kind != WEIR_REC_LOSS && rec->kind != WEIR_REC_END_OF_SESSION)
		return true;
	bool known = weir_restore_find(r, rec->source) != NULL;
	struct weir_restore_source *s = find_or_add(r, rec->source);
	if (s == NULL)
		return false;
	r->records_read++;
	switch (rec->kind) {
	case WEIR_REC_EVENT: {
		bool in_hole = false;
		for (unsigned i = 0; i < s->n_holes; i++)
			in_hole |= rec->seq >= s->holes[i].first && rec->seq <= s->holes[i].last;
		if (s->closed && !in_hole) {
			/* Past its end: the session started again, as the tracker would say. */
			s->closed = 0;
			s->n_holes = 0;
			known = false;
		}
		cover(r, s, rec->seq, rec->seq, known);
		break;
	}
	case WEIR_REC_LOSS:
		if (rec->count)
			cover(r, s, rec->seq, rec->seq + rec->count - 1, known);
		break;
	default: /* end of session: its seq is the next one, had the session gone on */
		if (known && rec->seq > s->next_seq)
			add_hole(r, s, s->next_seq, rec->seq - 1);
		if (!known || rec->seq > s->next_seq)
			s->next_seq = rec->seq;
		s->closed = 1;
		break;
	}
	return true;
}
