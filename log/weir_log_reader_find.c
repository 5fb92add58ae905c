/*
 * The topic reader's seeks by content: the first entry at or after a time
 * (receive or event), or a source's first number at or above one, segment by
 * segment, skipping those whose sealed index says they cannot hold it.
 */
#include <string.h>

#include "weir_log_reader_pvt.h"

/* Whether the sealed segment at list index i may hold a match, from its
 * index's head alone (read once per listing). */
static int
head_of(struct weir_log_reader *r, size_t i, const struct weir_log_index **h)
{
	struct seg_head *sh = &r->heads[i];
	if (sh->state == 0) {
		char why[256];
		sh->state = weir_log_index_load(r->dir, sh->base, true, true, &sh->head, why, sizeof(why)) == 1 ? 1 : -1;
	}
	*h = sh->state == 1 ? &sh->head : NULL;
	return sh->state;
}

typedef bool (*entry_match)(const struct weir_record *rec, const void *key);
/* -1: skip the segment; -2: scan it from its start; else the index entry to start at. */
typedef long (*segment_start)(struct weir_log_reader *r, const struct weir_log_index *ix, const void *key);

struct time_key {
	uint64_t ns;
	bool event;
};
struct source_key {
	const uint8_t *source;
	uint64_t seq;
};

static bool
time_match(const struct weir_record *rec, const void *key)
{
	const struct time_key *k = key;
	return (k->event ? rec->event_time_ns : rec->rx_ns) >= k->ns;
}

static long
time_start(struct weir_log_reader *r, const struct weir_log_index *ix, const void *key)
{
	(void)r;
	const struct time_key *k = key;
	if (ix->sealed && (k->event ? ix->max_event : ix->max_rx) < k->ns)
		return -1;
	if (ix->entries == NULL)
		return -3;
	long i = weir_log_index_find_time(ix, k->ns, k->event);
	return i < 0 ? -2 : i;
}

static bool
source_match(const struct weir_record *rec, const void *key)
{
	const struct source_key *k = key;
	return rec->seq >= k->seq && memcmp(rec->source, k->source, WEIR_SOURCE_BYTES) == 0;
}

static long
source_start(struct weir_log_reader *r, const struct weir_log_index *ix, const void *key)
{
	(void)r;
	const struct source_key *k = key;
	return weir_log_index_find_source(ix, k->source, k->seq);
}

/* Seeks segment by segment from the first, skipping those the index says
 * cannot match, scanning the rest from where their index says. */
static int
seek_where(struct weir_log_reader *r, entry_match match, segment_start start, const void *key)
{
	if (weir_log_reader_list(r) != 0 || weir_log_reader_read_committed(r) != 0)
		return -1;
	uint64_t at = r->n_bases ? r->bases[0] : 0;
	for (size_t i = 0; i < r->n_bases; i++) {
		if (at < r->bases[i])
			at = r->bases[i];
		bool sealed = i + 1 < r->n_bases && (!r->have_ck || r->bases[i] < r->ck.segment_base);
		const struct weir_log_index *h;
		if (sealed && head_of(r, i, &h) == 1 && start(r, h, key) == -1)
			continue; /* its head says no */
		r->pos = at;
		int rc = weir_log_reader_open_segment(r);
		if (rc != 0)
			return rc;
		uint64_t base = r->seg.base_offset;
		if (weir_log_reader_ensure_index(r) != 0)
			return -1;
		long e = start(r, &r->ix, key);
		if (e == -1)
			continue;
		weir_log_reader_goto_entry(r, e < 0 ? -1 : e);
		const struct weir_log_entry *ent;
		while ((rc = weir_log_reader_read_entry(r, &ent)) == WEIR_LOG_READ_ENTRY && r->open && r->seg.base_offset == base) {
			if (match(weir_log_entry_record(ent), key))
				return weir_log_reader_seek(r, ent->offset) == 0 ? 1 : -1;
			r->st.seek_scanned++;
			r->pos = ent->offset + 1;
		}
		if (rc == WEIR_LOG_READ_END)
			break;
		if (rc < 0)
			return rc;
		if (rc == WEIR_LOG_READ_ENTRY) { /* into the next segment: start it over with its index */
			if (match(weir_log_entry_record(ent), key))
				return weir_log_reader_seek(r, ent->offset) == 0 ? 1 : -1;
			r->pos = ent->offset + 1;
		}
		at = r->pos;
		if (weir_log_reader_list(r) != 0)
			return -1;
		for (i = 0; i + 1 < r->n_bases && r->bases[i + 1] <= base; i++)
			;
	}
	r->pos = r->committed == UINT64_MAX ? r->pos : r->committed;
	weir_log_reader_close_segment(r);
	return 0;
}

int
weir_log_reader_seek_time(struct weir_log_reader *r, uint64_t ns, enum weir_log_clock clock)
{
	struct time_key k = { ns, clock == WEIR_LOG_EVENT_TIME };
	return seek_where(r, time_match, time_start, &k);
}

int
weir_log_reader_seek_source(struct weir_log_reader *r, const uint8_t source[WEIR_SOURCE_BYTES], uint64_t seq)
{
	struct source_key k = { source, seq };
	return seek_where(r, source_match, source_start, &k);
}
