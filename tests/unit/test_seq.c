#include "tmpdir.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "weir_log.h"
#include "weir_seq.h"

#define MS 1000000ull

struct loss { uint64_t first, count, at; };
struct request { uint64_t first, count; };

struct fixture {
	struct weir_seq_table t;
	struct weir_worker_counters c __attribute__((aligned(64)));
	struct loss losses[64];
	unsigned n_losses;
	struct request requests[64];
	unsigned n_requests;
	bool refuse_requests;
	uint32_t window_events;      /* of the lines feed_line() feeds */
	void *region;
};

static void
on_loss(void *ctx, const struct weir_seq_source *src, uint64_t first, uint64_t count, uint64_t now_ns)
{
	struct fixture *f = ctx;
	if (f->n_losses < 64)
		f->losses[f->n_losses] = (struct loss){ first, count, now_ns };
	f->n_losses++;
}

static bool
on_request(void *ctx, const struct weir_seq_source *src, uint64_t first, uint64_t count)
{
	struct fixture *f = ctx;
	if (f->refuse_requests)
		return false;
	if (f->n_requests < 64)
		f->requests[f->n_requests] = (struct request){ first, count };
	f->n_requests++;
	return true;
}

static struct fixture *
make(uint32_t max_sources, uint32_t max_gaps, enum weir_seq_table_full policy, uint32_t request_max)
{
	struct fixture *f = aligned_alloc(64, sizeof(*f));
	memset(f, 0, sizeof(*f));
	struct weir_sequence_cfg cfg = {
		.max_sources = max_sources, .max_gaps = max_gaps, .table_full = policy,
		.gap_timeout_ns = 100 * MS, .rerequest_interval_ns = 10 * MS, .rerequest_max = request_max,
		.rerequest_max_count = 5, .rerequest_min_gap_ns = 1 * MS,
	};
	struct weir_seq_actions act = { .ctx = f, .loss = on_loss, .request = on_request };
	f->region = aligned_alloc(64, (weir_seq_memsize(&cfg) + 63) & ~63ull);
	assert_int_equal(weir_seq_create(&f->t, &cfg, &act, &f->c, 0, f->region), 0);
	return f;
}

static void
destroy(struct fixture *f)
{
	free(f->region);
	free(f);
}

static struct weir_seq_source *
src(struct fixture *f, const char *name)
{
	uint8_t key[WEIR_SOURCE_BYTES] = { 0 };
	memcpy(key, name, strlen(name));
	return weir_seq_source(&f->t, key, &(struct weir_seq_origin){ .topic = 1, .can_request = 1 }, 0);
}

/* Feeds seqs to one source at time now; returns the classes as letters:
 * o in order, a ahead, l late fill, d duplicate, r arbitrated (the other
 * line's copy won), f line fill (the other line's miss, in its window). */
static const char *
feed(struct fixture *f, struct weir_seq_source *s, const uint64_t *seqs, unsigned n, uint64_t now)
{
	static char out[256];
	static const char letters[] = "oalduDrf";
	for (unsigned i = 0; i < n; i++)
		out[i] = letters[weir_seq_event(&f->t, s, seqs[i], now)];
	out[n] = 0;
	return out;
}

#define FEED(f, s, now, ...) feed(f, s, (const uint64_t[]){ __VA_ARGS__ }, \
	sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t), now)

/* A run taken at once leaves the tracker exactly as the same events one by
 * one; anything but the exact continuation of an active, started source is
 * refused and left to weir_seq_event(). */
static void
should_track_an_in_order_run_at_once_exactly_as_event_by_event(void **state)
{
	(void)state;
	struct fixture *a = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 0), *b = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 0);
	struct weir_seq_source *sa = src(a, "RUN"), *sb = src(b, "RUN");
	assert_false(weir_seq_in_order_run(&b->t, sb, 1, 8, NULL, 5)); /* not started yet */
	FEED(a, sa, 5, 1);
	FEED(b, sb, 5, 1);
	for (uint64_t seq = 2; seq < 2 + 8; seq++)
		weir_seq_event(&a->t, sa, seq, 9);
	assert_true(weir_seq_in_order_run(&b->t, sb, 2, 8, NULL, 9));
	assert_int_equal(sa->next_seq, sb->next_seq);
	assert_int_equal(sa->last_seen_ns, sb->last_seen_ns);
	assert_memory_equal(&a->c, &b->c, sizeof(a->c));
	assert_memory_equal(&a->t.stats[weir_seq_index(&a->t, sa)], &b->t.stats[weir_seq_index(&b->t, sb)],
			    sizeof(struct weir_seq_source_stats));
	assert_false(weir_seq_in_order_run(&b->t, sb, 11, 3, NULL, 9)); /* a gap: not a continuation */
	assert_false(weir_seq_in_order_run(&b->t, sb, 9, 3, NULL, 9));  /* repeats */
	weir_seq_end_of_session(&b->t, sb, 10, NULL, 9);
	assert_false(weir_seq_in_order_run(&b->t, sb, 10, 3, NULL, 9)); /* closed: a restart is weir_seq_event's */
	assert_false(weir_seq_in_order_run(&b->t, NULL, 10, 3, NULL, 9));
	destroy(a);
	destroy(b);
}

static void
should_refuse_a_table_without_room(void **state)
{
	struct weir_seq_table t;
	struct weir_worker_counters c;
	static _Alignas(64) uint8_t region[1 << 16];
	struct weir_sequence_cfg cfg = { .max_sources = 0, .max_gaps = 8 };
	struct weir_seq_actions act = { 0 };
	assert_int_equal(weir_seq_create(&t, &cfg, &act, &c, 0, region), -1);
	cfg.max_sources = 8;
	cfg.max_gaps = 0;
	assert_int_equal(weir_seq_create(&t, &cfg, &act, &c, 0, region), -1);
	cfg.max_gaps = 8;
	assert_int_equal(weir_seq_create(&t, &cfg, &act, &c, 0, NULL), -1);
}

static void
should_count_events_of_sources_beyond_a_full_table_by_policy(void **state)
{
	struct fixture *f = make(2, 8, WEIR_SEQ_TABLE_FULL_UNTRACKED, 0);
	assert_non_null(src(f, "A"));
	assert_non_null(src(f, "B"));
	assert_null(src(f, "C"));
	assert_non_null(src(f, "A")); /* known sources still found */
	assert_int_equal(weir_seq_event(&f->t, NULL, 5, 0), WEIR_SEQ_UNTRACKED);
	assert_int_equal(f->c.seq_untracked, 1);
	destroy(f);
	f = make(1, 8, WEIR_SEQ_TABLE_FULL_DROP, 0);
	src(f, "A");
	assert_null(src(f, "B"));
	assert_int_equal(weir_seq_event(&f->t, NULL, 5, 0), WEIR_SEQ_DROPPED);
	assert_int_equal(f->c.seq_table_full_drops, 1);
	assert_int_equal(f->c.sources, 1);
	destroy(f);
}

static void
should_classify_in_order_ahead_late_and_duplicate(void **state)
{
	struct fixture *f = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 0);
	struct weir_seq_source *s = src(f, "S");
	/* 1 2 3 in order; 6 ahead (gap 4-5); 4 late; 3 dup; 4 dup; 5 late; 7 in order; 6 dup */
	assert_string_equal(FEED(f, s, 0, 1, 2, 3, 6, 4, 3, 4, 5, 7, 6), "oooalddlod");
	assert_int_equal(f->c.seq_in_order, 4);
	assert_int_equal(f->c.seq_ahead, 1);
	assert_int_equal(f->c.seq_late_fills, 2);
	assert_int_equal(f->c.seq_duplicates, 3);
	assert_int_equal(f->c.gaps_opened, 1);
	assert_int_equal(f->c.gap_events_missing, 2);
	assert_int_equal(f->c.gap_events_recovered, 2);
	assert_int_equal(s->n_gaps, 0);
	assert_int_equal(f->t.n_open, 0);
	destroy(f);
}

static void
should_split_a_gap_filled_in_its_middle_and_lose_only_what_stays_missing(void **state)
{
	struct fixture *f = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 0);
	struct weir_seq_source *s = src(f, "S");
	/* 10, then 20: gap 11..19; 15 fills the middle -> 11..14 and 16..19 */
	assert_string_equal(FEED(f, s, 0, 10, 20, 15, 11, 19), "oalll");
	assert_int_equal(s->n_gaps, 2);
	assert_int_equal(weir_seq_tick(&f->t, 99 * MS), 0);
	assert_int_equal(f->n_losses, 0);
	assert_int_equal(weir_seq_tick(&f->t, 100 * MS), 2);
	assert_int_equal(f->n_losses, 2);
	assert_int_equal(f->losses[0].first, 12);
	assert_int_equal(f->losses[0].count, 3);
	assert_int_equal(f->losses[1].first, 16);
	assert_int_equal(f->losses[1].count, 3);
	assert_int_equal(f->c.gap_events_lost, 6);
	/* missing = recovered + lost */
	assert_int_equal(f->c.gap_events_missing, f->c.gap_events_recovered + f->c.gap_events_lost);
	/* Once declared lost, a straggler is a duplicate: the log already says LOSS. */
	assert_string_equal(FEED(f, s, 101 * MS, 13), "d");
	destroy(f);
}

static void
should_declare_gaps_lost_oldest_first_on_synthetic_time(void **state)
{
	struct fixture *f = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 0);
	struct weir_seq_source *a = src(f, "A"), *b = src(f, "B");
	FEED(f, a, 0, 1, 5);          /* gap 2-4 opened at 0 */
	FEED(f, b, 30 * MS, 1, 3);    /* gap 2 opened at 30ms */
	FEED(f, a, 60 * MS, 9);       /* gap 6-8 opened at 60ms */
	weir_seq_tick(&f->t, 100 * MS);
	assert_int_equal(f->n_losses, 1);
	assert_int_equal(f->losses[0].first, 2);
	assert_int_equal(f->losses[0].count, 3);
	weir_seq_tick(&f->t, 130 * MS);
	assert_int_equal(f->n_losses, 2);
	assert_int_equal(f->losses[1].count, 1);
	weir_seq_tick(&f->t, 159 * MS);
	assert_int_equal(f->n_losses, 2);
	weir_seq_tick(&f->t, 160 * MS);
	assert_int_equal(f->n_losses, 3);
	assert_int_equal(f->losses[2].first, 6);
	assert_int_equal(f->c.loss_records + 0, 0); /* records are the owner's business */
	destroy(f);
}

static void
should_reveal_a_lost_tail_from_a_heartbeat(void **state)
{
	struct fixture *f = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 0);
	struct weir_seq_source *s = src(f, "S");
	FEED(f, s, 0, 1, 2, 3);
	weir_seq_heartbeat(&f->t, s, 4, NULL, 1 * MS); /* nothing missing */
	assert_int_equal(f->c.gaps_opened, 0);
	weir_seq_heartbeat(&f->t, s, 7, NULL, 2 * MS); /* 4,5,6 never came */
	assert_int_equal(f->c.gaps_opened, 1);
	assert_int_equal(f->c.gap_events_missing, 3);
	assert_string_equal(FEED(f, s, 3 * MS, 5, 7), "lo");
	weir_seq_flush(&f->t, 4 * MS);
	assert_int_equal(f->n_losses, 2); /* 4 and 6 */
	destroy(f);
}

static void
should_take_a_first_heartbeat_as_the_start_of_the_stream(void **state)
{
	struct fixture *f = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 0);
	struct weir_seq_source *s = src(f, "S");
	weir_seq_heartbeat(&f->t, s, 100, NULL, 0);
	assert_string_equal(FEED(f, s, 0, 100, 102), "oa");
	assert_int_equal(f->c.gap_events_missing, 1);
	destroy(f);
}

static void
should_restart_a_session_that_sends_after_its_end(void **state)
{
	struct fixture *f = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 0);
	struct weir_seq_source *s = src(f, "S");
	FEED(f, s, 0, 1, 2, 4);                      /* gap 3 open */
	weir_seq_end_of_session(&f->t, s, 5, NULL, 1 * MS);
	weir_seq_end_of_session(&f->t, s, 5, NULL, 2 * MS); /* repeated: no effect */
	assert_int_equal(f->n_losses, 0);
	/* The same name starts again from 1: its old gap is lost, 1 is in order. */
	assert_string_equal(FEED(f, s, 3 * MS, 1, 2, 3), "ooo");
	assert_int_equal(f->c.session_restarts, 1);
	assert_int_equal(f->n_losses, 1);
	assert_int_equal(f->losses[0].first, 3);
	assert_int_equal(f->c.seq_duplicates, 0);
	destroy(f);
}

/* Two answers to one gap, the second after the end of session: the first
 * fills, the second is a duplicate, and neither starts the session again
 * (seen: weir-replay serve answering a re-request sent twice, and the event
 * logged twice). */
static void
should_never_take_a_retransmission_after_the_end_for_a_restart(void **state)
{
	struct fixture *f = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 0);
	struct weir_seq_source *s = src(f, "S");
	FEED(f, s, 0, 1, 2, 5);                      /* gap 3-4 */
	weir_seq_end_of_session(&f->t, s, 6, NULL, 1 * MS);
	assert_int_equal(weir_seq_event_retransmitted(&f->t, s, 3, 2 * MS), WEIR_SEQ_LATE_FILL);
	assert_int_equal(weir_seq_event_retransmitted(&f->t, s, 3, 2 * MS), WEIR_SEQ_DUPLICATE);
	assert_int_equal(weir_seq_event_retransmitted(&f->t, s, 1, 2 * MS), WEIR_SEQ_DUPLICATE);
	assert_int_equal(f->c.session_restarts, 0);
	assert_int_equal(s->state, WEIR_SEQ_SRC_CLOSED);
	assert_int_equal(f->c.seq_duplicates, 2);
	assert_int_equal(weir_seq_event_retransmitted(&f->t, s, 4, 2 * MS), WEIR_SEQ_LATE_FILL);
	assert_int_equal(s->n_gaps, 0);
	/* While the source is open, a retransmission is any event. */
	struct weir_seq_source *o = src(f, "O");
	assert_int_equal(weir_seq_event_retransmitted(&f->t, o, 1, 2 * MS), WEIR_SEQ_IN_ORDER);
	destroy(f);
}

static void
should_keep_filling_gaps_from_retransmissions_after_the_end_of_session(void **state)
{
	struct fixture *f = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 0);
	struct weir_seq_source *s = src(f, "S");
	FEED(f, s, 0, 1, 2, 5);                      /* gap 3-4 */
	weir_seq_end_of_session(&f->t, s, 8, NULL, 1 * MS); /* gap 6-7 too */
	assert_string_equal(FEED(f, s, 2 * MS, 3, 7, 4, 6), "llll");
	assert_int_equal(f->c.session_restarts, 0);
	assert_int_equal(s->n_gaps, 0);
	assert_int_equal(s->state, WEIR_SEQ_SRC_CLOSED);
	assert_string_equal(FEED(f, s, 3 * MS, 1), "o"); /* and then a restart */
	assert_int_equal(f->c.session_restarts, 1);
	destroy(f);
}

static void
should_carry_sequences_across_two_to_the_64(void **state)
{
	struct fixture *f = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 0);
	struct weir_seq_source *s = src(f, "S");
	uint64_t m = UINT64_MAX;
	/* m-1, m, 0 in order; 3 ahead across nothing; gap 1..2 spans no wrap; then a gap across the wrap */
	assert_string_equal(FEED(f, s, 0, m - 1, m, 0, 1), "oooo");
	destroy(f);
	f = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 0);
	s = src(f, "S");
	assert_string_equal(FEED(f, s, 0, m - 2, 2), "oa"); /* gap m-1, m, 0, 1 */
	assert_int_equal(f->c.gap_events_missing, 4);
	assert_string_equal(FEED(f, s, 0, m, 0, m - 3, 1), "lldl");
	assert_string_equal(FEED(f, s, 0, m - 1), "l");
	assert_int_equal(s->n_gaps, 0);
	destroy(f);
}

static void
should_lose_a_gap_at_once_when_no_gap_entry_is_free(void **state)
{
	struct fixture *f = make(16, 2, WEIR_SEQ_TABLE_FULL_DROP, 0);
	struct weir_seq_source *s = src(f, "S");
	FEED(f, s, 0, 1, 3, 5);      /* gaps 2 and 4: the pool is full */
	assert_int_equal(f->n_losses, 0);
	FEED(f, s, 0, 7);            /* gap 6 has nowhere to live: lost now, said so */
	assert_int_equal(f->c.gap_pool_exhausted, 1);
	assert_int_equal(f->n_losses, 1);
	assert_int_equal(f->losses[0].first, 6);
	assert_string_equal(FEED(f, s, 0, 2, 4, 6), "lld");
	destroy(f);
}

static void
should_rerequest_with_backoff_up_to_the_limit_and_cap_the_count(void **state)
{
	struct fixture *f = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 3);
	struct weir_seq_source *s = src(f, "S");
	FEED(f, s, 0, 1, 20);                 /* gap 2..19 */
	weir_seq_tick(&f->t, 0);
	assert_int_equal(f->n_requests, 1);
	assert_int_equal(f->requests[0].first, 2);
	assert_int_equal(f->requests[0].count, 5); /* capped */
	weir_seq_tick(&f->t, 9 * MS);
	assert_int_equal(f->n_requests, 1);
	weir_seq_tick(&f->t, 10 * MS);        /* first retry after 10ms */
	assert_int_equal(f->n_requests, 2);
	FEED(f, s, 11 * MS, 2, 3, 4);         /* part of it came back */
	weir_seq_tick(&f->t, 29 * MS);
	assert_int_equal(f->n_requests, 2);
	weir_seq_tick(&f->t, 30 * MS);        /* then after 20ms more, from where the gap now starts */
	assert_int_equal(f->n_requests, 3);
	assert_int_equal(f->requests[2].first, 5);
	weir_seq_tick(&f->t, 90 * MS);        /* three requests is the limit */
	assert_int_equal(f->n_requests, 3);
	assert_int_equal(f->c.rerequests_sent, 3);
	weir_seq_tick(&f->t, 100 * MS);
	assert_int_equal(f->n_losses, 1);
	assert_int_equal(f->losses[0].first, 5);
	assert_int_equal(f->losses[0].count, 15);
	destroy(f);
}

static void
should_rate_limit_rerequests_per_source_and_count_failures(void **state)
{
	struct fixture *f = make(16, 16, WEIR_SEQ_TABLE_FULL_DROP, 3);
	struct weir_seq_source *s = src(f, "S");
	FEED(f, s, 0, 1, 3, 5, 7);            /* three gaps opened together */
	weir_seq_tick(&f->t, 0);
	assert_int_equal(f->n_requests, 1);
	assert_int_equal(f->c.rerequests_rate_limited, 2);
	weir_seq_tick(&f->t, 1 * MS);
	assert_int_equal(f->n_requests, 2);
	f->refuse_requests = true;
	weir_seq_tick(&f->t, 2 * MS);
	assert_int_equal(f->c.rerequests_failed, 1);
	f->refuse_requests = false;
	weir_seq_tick(&f->t, 3 * MS);
	assert_int_equal(f->n_requests, 3);
	destroy(f);
}

static void
should_keep_many_sources_apart(void **state)
{
	struct fixture *f = make(5000, 64, WEIR_SEQ_TABLE_FULL_DROP, 0);
	char name[16];
	for (unsigned round = 0; round < 3; round++)
		for (unsigned i = 0; i < 5000; i++) {
			snprintf(name, sizeof(name), "S%u", i);
			struct weir_seq_source *s = src(f, name);
			assert_non_null(s);
			assert_int_equal(weir_seq_event(&f->t, s, 1000 + round, 0), WEIR_SEQ_IN_ORDER);
		}
	assert_int_equal(f->c.sources, 5000);
	assert_int_equal(f->c.seq_in_order, 15000);
	destroy(f);
}

/* A logged record of source name: kind, seq, count. */
static void
logged(struct weir_restore *r, const char *name, unsigned kind, uint64_t seq, uint64_t count)
{
	struct weir_record rec = { .len_bytes = sizeof(rec), .kind = (uint16_t)kind, .seq = seq, .count = count };
	memcpy(rec.source, name, strlen(name));
	assert_true(weir_restore_note(r, &rec));
}

/* What the log holds of the last run: 1-10, 12-20 (11 missing: an open gap
 * then), 25 (21-24 missing), a LOSS record for 22-23 (stated lost): 11, 21
 * and 24 were open. */
static void
should_restore_the_next_sequence_and_open_gaps_from_the_log(void **state)
{
	struct weir_restore r;
	assert_int_equal(weir_restore_init(&r, 16), 0);
	for (uint64_t q = 1; q <= 20; q++)
		if (q != 11)
			logged(&r, "S", WEIR_REC_EVENT, q, 0);
	logged(&r, "S", WEIR_REC_EVENT, 25, 0);
	logged(&r, "S", WEIR_REC_LOSS, 22, 2);
	uint8_t key[WEIR_SOURCE_BYTES] = { 'S' };
	const struct weir_restore_source *rs = weir_restore_find(&r, key);
	assert_non_null(rs);
	assert_int_equal(rs->next_seq, 26);
	assert_int_equal(rs->n_holes, 3);
	assert_int_equal(rs->holes[0].first, 11);
	assert_int_equal(rs->holes[0].last, 11);
	assert_int_equal(rs->holes[1].first, 21);
	assert_int_equal(rs->holes[1].last, 21);
	assert_int_equal(rs->holes[2].first, 24);
	assert_int_equal(rs->holes[2].last, 24);

	struct fixture *f = make(16, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	f->t.restore = &r;
	struct weir_seq_source *s = src(f, "S");
	assert_int_equal(f->c.seq_sources_restored, 1);
	assert_int_equal(f->c.gaps_opened, 3); /* 11, 21 and 24, open again */
	/* 5, 20 and 22 are in the log (22 stated lost): duplicates; 11 fills
	 * its gap; 26 is next. */
	assert_string_equal(FEED(f, s, 1 * MS, 5, 20, 22, 11, 26, 21, 24), "dddlo" "ll");
	/* A new name is a new source. */
	assert_string_equal(FEED(f, src(f, "T"), 1 * MS, 7, 8), "oo");
	destroy(f);
	weir_restore_free(&r);
}

/* A session that ended and was started again: the log's word is the last. */
static void
should_restore_an_ended_session_and_take_its_restart(void **state)
{
	struct weir_restore r;
	assert_int_equal(weir_restore_init(&r, 16), 0);
	for (uint64_t q = 1; q <= 5; q++)
		logged(&r, "E", WEIR_REC_EVENT, q, 0);
	logged(&r, "E", WEIR_REC_END_OF_SESSION, 8, 0); /* 6 and 7 never came */
	uint8_t key[WEIR_SOURCE_BYTES] = { 'E' };
	const struct weir_restore_source *rs = weir_restore_find(&r, key);
	assert_true(rs->closed);
	assert_int_equal(rs->n_holes, 1);
	struct fixture *f = make(16, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	f->t.restore = &r;
	struct weir_seq_source *s = src(f, "E");
	/* 6 fills its gap after the end; 1 again is the session starting over. */
	assert_string_equal(FEED(f, s, 1 * MS, 6, 1, 2), "loo");
	assert_int_equal(f->c.session_restarts, 1);
	destroy(f);
	weir_restore_free(&r);
}

/* A fast replay leaves thousands of gaps open a source: every one comes back. */
static void
should_restore_every_open_gap_however_many(void **state)
{
	struct weir_restore r;
	assert_int_equal(weir_restore_init(&r, 16), 0);
	for (uint64_t q = 1; q <= 3000; q++)
		if (q % 3)
			logged(&r, "M", WEIR_REC_EVENT, q, 0); /* every third missing */
	uint8_t key[WEIR_SOURCE_BYTES] = { 'M' };
	assert_int_equal(weir_restore_find(&r, key)->n_holes, 999);
	struct fixture *f = make(16, 2048, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	f->t.restore = &r;
	struct weir_seq_source *s = src(f, "M");
	assert_int_equal(f->c.gaps_opened, 999);
	assert_string_equal(FEED(f, s, 1 * MS, 3, 4, 2997, 3000), "ldlo"); /* the last logged is 2999 */
	destroy(f);
	weir_restore_free(&r);
}

/* Through the log itself: records appended by the log writer, read back at start. */
/* A log in root/itch of source "L": seqs 1..last but skip, a batch (and a
 * commit) every per_batch of them. */
static void
log_source_l(const char *root, uint64_t last, uint64_t skip, uint64_t per_batch)
{
	struct weir_log_topic lt;
	char err[256];
	assert_int_equal(weir_log_topic_open(&lt, root, "itch", err, sizeof(err)), 0);
	for (uint64_t q = 1; q <= last; q++) {
		if (q == skip)
			continue;
		struct weir_record rec = { .len_bytes = sizeof(rec), .kind = WEIR_REC_EVENT, .seq = q };
		memcpy(rec.source, "L", 1);
		assert_int_equal(weir_log_topic_append(&lt, 0, 1, q * 64, &rec), 0);
		if (q % per_batch == 0) {
			assert_int_equal(weir_log_topic_flush(&lt), 0);
			assert_int_equal(weir_log_topic_commit(&lt, false), 0);
		}
	}
	weir_log_topic_close(&lt);
}

/* r restored from the whole log in root: topics[1..n) (topics[0], the dead letters, aside). */
static void
restore_topics(const char *root, const char (*topics)[32], unsigned n, struct weir_restore *r)
{
	char err[256];
	assert_int_equal(weir_restore_init(r, 16), 0);
	assert_int_equal(weir_restore_from_log(r, root, topics, n, UINT64_MAX, err, sizeof(err)), 0);
}

static const char ITCH[2][32] = { "_deadletter", "itch" };

/* Restores r from the log in root/itch: source "L" as it found it. */
static const struct weir_restore_source *
restored_l(const char *root, struct weir_restore *r)
{
	restore_topics(root, ITCH, 2, r);
	uint8_t key[WEIR_SOURCE_BYTES] = { 'L' };
	const struct weir_restore_source *rs = weir_restore_find(r, key);
	assert_non_null(rs);
	return rs;
}

static void
should_restore_sources_from_a_log_directory(void **state)
{
	char *root = make_tmpdir();
	log_source_l(root, 50, 20, UINT64_MAX);
	struct weir_restore r;
	const struct weir_restore_source *rs = restored_l(root, &r);
	assert_int_equal(rs->next_seq, 51);
	assert_int_equal(rs->n_holes, 1);
	assert_int_equal(rs->holes[0].first, 20);
	weir_restore_free(&r);
	rm_tmpdir(root);
}

/* One record of kind of source name as worker wrote it in dataplane run
 * incarnation at ring position pos, into an open topic, committed at once. */
static void
log_run_at(struct weir_log_topic *lt, uint16_t kind, const char *name, uint64_t seq, unsigned worker,
	   uint64_t incarnation, uint64_t pos)
{
	struct weir_record rec = { .len_bytes = sizeof(rec), .kind = kind, .seq = seq };
	memcpy(rec.source, name, strlen(name));
	assert_int_equal(weir_log_topic_append(lt, worker, incarnation, pos, &rec), 0);
	assert_int_equal(weir_log_topic_flush(lt), 0);
	assert_int_equal(weir_log_topic_commit(lt, false), 0);
}

/* S's events 1..5 and its end of session at 6, by worker in run incarnation. */
static void
log_s_ended(struct weir_log_topic *lt, unsigned worker, uint64_t incarnation)
{
	for (uint64_t q = 1; q <= 5; q++)
		log_run_at(lt, WEIR_REC_EVENT, "S", q, worker, incarnation, q * 64);
	log_run_at(lt, WEIR_REC_END_OF_SESSION, "S", 6, worker, incarnation, 6 * 64);
}

/* An event, in run 1. */
static void
log_at(struct weir_log_topic *lt, const char *name, uint64_t seq, unsigned worker, uint64_t pos)
{
	log_run_at(lt, WEIR_REC_EVENT, name, seq, worker, 1, pos);
}

/* A source's events in two topics (a weir frame's topics): restored in the
 * order its worker's ring gave them, not a topic at a time.  L's 1 is in t1,
 * its 3 and 4 in itch: 2 is a gap open at the restart, which itch read first
 * would not show.  In t1, worker 1's record was drained before worker 0's
 * older one: two rings' positions do not compare (by position alone, L's 3
 * would come first), so each worker's records are taken apart. */
static void
should_restore_a_source_whose_events_lie_in_several_topics_in_ring_order(void **state)
{
	char *root = make_tmpdir();
	struct weir_log_topic itch, t1;
	char err[256];
	assert_int_equal(weir_log_topic_open(&itch, root, "itch", err, sizeof(err)), 0);
	assert_int_equal(weir_log_topic_open(&t1, root, "t1", err, sizeof(err)), 0);
	log_at(&t1, "M", 7, 1, 5000);
	log_at(&t1, "L", 1, 0, 64);
	log_at(&itch, "L", 3, 0, 192);
	log_at(&itch, "L", 4, 0, 256);
	log_at(&itch, "M", 8, 1, 5064);
	weir_log_topic_close(&itch);
	weir_log_topic_close(&t1);
	static const char topics[3][32] = { "_deadletter", "itch", "t1" };
	struct weir_restore r;
	restore_topics(root, topics, 3, &r);
	uint8_t key[WEIR_SOURCE_BYTES] = { 'L' };
	const struct weir_restore_source *rs = weir_restore_find(&r, key);
	assert_non_null(rs);
	assert_int_equal(rs->next_seq, 5);
	assert_int_equal(rs->n_holes, 1);
	assert_int_equal(rs->holes[0].first, 2);
	assert_int_equal(rs->holes[0].last, 2);
	key[0] = 'M';
	assert_int_equal(weir_restore_find(&r, key)->next_seq, 9);
	assert_int_equal(r.records_read, 5);
	weir_restore_free(&r);
	rm_tmpdir(root);
}

/* A source that moved between runs to a worker of a lower number (the
 * queues were cut from two to one): its runs are restored in run order, not
 * worker order.  S ended its session in run 1 on worker 1 and started it
 * again in run 2 on worker 0, up to 3.  Taken a worker at a time, run 1's
 * end came last: S was restored closed at 6, and its lost 4 and 5 would
 * have been taken as a session starting again at 6, never stated lost. */
static void
should_restore_a_source_that_moved_to_a_lower_numbered_worker_in_run_order(void **state)
{
	char *root = make_tmpdir();
	struct weir_log_topic itch;
	char err[256];
	assert_int_equal(weir_log_topic_open(&itch, root, "itch", err, sizeof(err)), 0);
	log_s_ended(&itch, 1, 100);
	log_run_at(&itch, WEIR_REC_EVENT, "T", 40, 1, 100, 7 * 64); /* T stays on worker 1 */
	for (uint64_t q = 1; q <= 3; q++)
		log_run_at(&itch, WEIR_REC_EVENT, "S", q, 0, 200, q * 64);
	log_run_at(&itch, WEIR_REC_EVENT, "T", 41, 1, 200, 64);
	weir_log_topic_close(&itch);
	struct weir_restore r;
	restore_topics(root, ITCH, 2, &r);
	uint8_t key[WEIR_SOURCE_BYTES] = { 'S' };
	const struct weir_restore_source *rs = weir_restore_find(&r, key);
	assert_non_null(rs);
	assert_int_equal(rs->closed, 0);
	assert_int_equal(rs->next_seq, 4);
	assert_int_equal(rs->n_holes, 0);
	key[0] = 'T';
	assert_int_equal(weir_restore_find(&r, key)->next_seq, 42);
	assert_int_equal(r.records_read, 11);
	weir_restore_free(&r);
	rm_tmpdir(root);
}

/* A run whose clock stands behind the log's last run (a clock stepped back
 * between runs: a dead RTC battery, a VM restored) is numbered after that
 * run, not by its start time: restored in run order, its records come
 * after the last run's.  By start time, S's run-100 records (1..2, after it
 * ended at 6 in run 200) would be noted first, and S restored closed. */
static void
should_number_a_run_after_the_logs_last_even_when_the_clock_stands_behind(void **state)
{
	char *root = make_tmpdir();
	struct weir_log_topic itch;
	char err[256];
	assert_int_equal(weir_log_topic_open(&itch, root, "itch", err, sizeof(err)), 0);
	log_s_ended(&itch, 0, 200);
	struct weir_restore r;
	restore_topics(root, ITCH, 2, &r);
	assert_int_equal(r.last_incarnation, 200);
	assert_int_equal(weir_restore_incarnation(&r, 300), 300); /* a clock that went on: its start time */
	uint64_t run = weir_restore_incarnation(&r, 100);
	assert_int_equal(run, 201);
	weir_restore_free(&r);
	for (uint64_t q = 1; q <= 2; q++) /* the session again from 1 */
		log_run_at(&itch, WEIR_REC_EVENT, "S", q, 0, run, q * 64);
	weir_log_topic_close(&itch);
	restore_topics(root, ITCH, 2, &r);
	uint8_t key[WEIR_SOURCE_BYTES] = { 'S' };
	const struct weir_restore_source *rs = weir_restore_find(&r, key);
	assert_int_equal(rs->closed, 0);
	assert_int_equal(rs->next_seq, 3);
	weir_restore_free(&r);
	struct weir_restore none;
	assert_int_equal(weir_restore_init(&none, 16), 0); /* no log read: the start time */
	assert_int_equal(weir_restore_incarnation(&none, 100), 100);
	weir_restore_free(&none);
	rm_tmpdir(root);
}

/* Session names pile up in a log over days: the table holds them all. */
static void
should_restore_more_sources_than_its_first_size(void **state)
{
	struct weir_restore r;
	assert_int_equal(weir_restore_init(&r, 4), 0);
	char name[16];
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "D%05u", i);
		logged(&r, name, WEIR_REC_EVENT, 100 + i, 0);
	}
	assert_int_equal(r.n, 5000);
	for (unsigned i = 0; i < 5000; i += 499) {
		uint8_t key[WEIR_SOURCE_BYTES] = { 0 };
		snprintf((char *)key, 7, "D%05u", i);
		assert_int_equal(weir_restore_find(&r, key)->next_seq, 101 + i);
	}
	weir_restore_free(&r);
}

/* A bounded window reads only the newest segments that cover it: a source
 * last seen before them starts fresh. */
static void
should_read_only_the_newest_segments_a_bounded_window_covers(void **state)
{
	char *root = make_tmpdir();
	struct weir_log_topic lt;
	char err[256];
	assert_int_equal(weir_log_topic_open(&lt, root, "itch", err, sizeof(err)), 0);
	const char *names[3] = { "OLD", "MID", "NEW" };
	for (unsigned seg = 0; seg < 3; seg++) {
		for (uint64_t q = 1; q <= 100; q++) {
			struct weir_record rec = { .len_bytes = sizeof(rec), .kind = WEIR_REC_EVENT, .seq = q };
			memcpy(rec.source, names[seg], 3);
			assert_int_equal(weir_log_topic_append(&lt, 0, 1, (seg * 100 + q) * 64, &rec), 0);
		}
		assert_int_equal(weir_log_topic_sync(&lt), 0);
		assert_int_equal(weir_log_topic_roll_if_full(&lt, 1), 0); /* a segment each */
	}
	weir_log_topic_close(&lt);
	static const char topics[2][32] = { "_deadletter", "itch" };
	uint8_t old[WEIR_SOURCE_BYTES] = { 'O', 'L', 'D' }, mid[WEIR_SOURCE_BYTES] = { 'M', 'I', 'D' };
	struct weir_restore r;
	assert_int_equal(weir_restore_init(&r, 16), 0);
	assert_int_equal(weir_restore_from_log(&r, root, topics, 2, 1, err, sizeof(err)), 0);
	assert_int_equal(r.n, 0); /* the newest segment holds only the roll's header */
	weir_restore_free(&r);
	assert_int_equal(weir_restore_init(&r, 16), 0);
	assert_int_equal(weir_restore_from_log(&r, root, topics, 2, 300, err, sizeof(err)), 0);
	assert_null(weir_restore_find(&r, old));
	assert_non_null(weir_restore_find(&r, mid));
	weir_restore_free(&r);
	assert_int_equal(weir_restore_init(&r, 16), 0);
	assert_int_equal(weir_restore_from_log(&r, root, topics, 2, UINT64_MAX, err, sizeof(err)), 0);
	assert_int_equal(r.n, 3);
	weir_restore_free(&r);
	rm_tmpdir(root);
}

/* The same, for events arriving on line ab of a feed with A and B lines. */
static const char *
feed_line(struct fixture *f, struct weir_seq_source *s, unsigned ab, const uint64_t *seqs, unsigned n, uint64_t now)
{
	static char out[256];
	static const char letters[] = "oalduDrf";
	struct weir_seq_line ln = { .ab = (uint8_t)ab, .id = (uint8_t)ab, .window_ns = 5 * MS,
				    .window_events = f->window_events };
	for (unsigned i = 0; i < n; i++)
		out[i] = letters[weir_seq_event_line(&f->t, s, seqs[i], &ln, now)];
	weir_seq_lines_settle(&f->t, s, now);
	out[n] = 0;
	return out;
}

#define LINE(f, s, ab, now, ...) feed_line(f, s, ab, (const uint64_t[]){ __VA_ARGS__ }, \
	sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t), now)

/* Each event once in, its second copy counted as arbitrated: neither a
 * duplicate nor a gap, whichever line runs ahead. */
static void
should_take_the_first_copy_of_each_event_and_count_the_second_as_arbitrated(void **state)
{
	(void)state;
	struct fixture *f = make(4, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	struct weir_seq_source *s = src(f, "AB");
	assert_string_equal(LINE(f, s, 0, 0, 1, 2, 3), "ooo");
	assert_string_equal(LINE(f, s, 1, 0, 1, 2, 3, 4), "rrro");
	assert_string_equal(LINE(f, s, 0, 0, 4, 5), "ro");
	assert_string_equal(LINE(f, s, 1, 0, 5), "r");
	assert_int_equal(f->c.seq_arbitrated, 5);
	assert_int_equal(f->c.seq_duplicates, 0);
	assert_int_equal(f->c.gaps_opened, 0);
	/* a line's own repeat is a duplicate, not a second copy */
	assert_string_equal(LINE(f, s, 1, 0, 5, 3), "dd");
	assert_int_equal(f->c.seq_duplicates, 2);
	assert_int_equal(f->c.seq_arbitrated, 5);
	destroy(f);
}

/* A line's own gap runs: each run of numbers it passed over counted once,
 * and a heartbeat inside a lost run does not split it in two. */
static void
should_count_each_lines_own_gap_runs_once_across_a_heartbeat(void **state)
{
	(void)state;
	struct fixture *f = make(4, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	struct weir_line_counters lc[2] = { 0 };
	f->t.lines = lc;
	struct weir_seq_source *s = src(f, "AB");
	struct weir_seq_line a = { .ab = 0, .id = 0, .window_ns = 5 * MS };
	LINE(f, s, 0, 0, 1, 2, 3);
	LINE(f, s, 1, 0, 1, 2, 3);
	LINE(f, s, 0, 0, 6, 7);               /* 4-5: run 1 */
	weir_seq_heartbeat(&f->t, s, 10, &a, 0); /* 8-9 passed on a heartbeat: run 2 ... */
	LINE(f, s, 0, 0, 12);                 /* ... and 10-11 lost after it: still run 2 */
	LINE(f, s, 0, 0, 13);
	weir_seq_heartbeat(&f->t, s, 14, &a, 0); /* in order: no run */
	LINE(f, s, 0, 0, 16);                 /* 14-15: run 3 */
	assert_int_equal(lc[0].gap_runs, 3);
	assert_int_equal(lc[0].gap_events, 2 + 4 + 2);
	LINE(f, s, 1, 0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16); /* b behind, none missed */
	assert_int_equal(lc[1].gap_runs, 0);
	destroy(f);
}

/* What one line missed and the other brought in its window is neither a
 * gap, nor re-requested, nor late, nor lost. */
static void
should_fill_one_lines_miss_from_the_other_without_a_gap(void **state)
{
	(void)state;
	struct fixture *f = make(4, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	struct weir_seq_source *s = src(f, "AB");
	assert_string_equal(LINE(f, s, 0, 0, 1, 2, 5, 6), "ooao");
	assert_int_equal(f->c.gaps_opened, 0);
	weir_seq_tick(&f->t, 1 * MS); /* inside the window: not asked for */
	assert_int_equal(f->n_requests, 0);
	assert_string_equal(LINE(f, s, 1, 2 * MS, 1, 2, 3, 4, 5, 6), "rrffrr");
	assert_int_equal(f->c.seq_line_fills, 2);
	assert_int_equal(f->c.seq_late_fills, 0);
	assert_int_equal(f->c.gaps_opened, 0);
	assert_int_equal(f->c.gap_events_missing, 0);
	weir_seq_tick(&f->t, 500 * MS);
	assert_int_equal(f->n_requests, 0);
	assert_int_equal(f->n_losses, 0);
	assert_int_equal(f->c.seq_arbitrated, 4);
	destroy(f);
}

/* Missed on both lines: a gap as soon as both are past it, asked for and
 * then lost, exactly as on a feed of one line. */
static void
should_open_a_gap_once_both_lines_are_past_a_miss(void **state)
{
	(void)state;
	struct fixture *f = make(4, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	struct weir_seq_source *s = src(f, "AB");
	assert_string_equal(LINE(f, s, 0, 0, 1, 2, 4), "ooa");
	assert_int_equal(f->c.gaps_opened, 0);
	assert_string_equal(LINE(f, s, 1, 0, 1, 2), "rr");
	assert_int_equal(f->c.gaps_opened, 0); /* b is not past 3 yet */
	assert_string_equal(LINE(f, s, 1, 0, 4), "r");
	assert_int_equal(f->c.gaps_opened, 1);
	assert_int_equal(f->c.gap_events_missing, 1);
	weir_seq_tick(&f->t, 0);
	assert_int_equal(f->n_requests, 1);
	assert_int_equal(f->requests[0].first, 3);
	weir_seq_tick(&f->t, 200 * MS);
	assert_int_equal(f->n_losses, 1);
	assert_int_equal(f->losses[0].first, 3);
	assert_int_equal(f->c.gap_events_lost, 1);
	destroy(f);
}

/* A silent line: a miss of the other waits out the window (time, or the
 * feed running window_events past it), then is a gap. */
static void
should_open_a_gap_after_the_window_when_the_other_line_is_silent(void **state)
{
	(void)state;
	struct fixture *f = make(4, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	struct weir_seq_source *s = src(f, "AB");
	assert_string_equal(LINE(f, s, 0, 0, 1, 3), "oa");
	weir_seq_tick(&f->t, 4 * MS);
	assert_int_equal(f->c.gaps_opened, 0);
	assert_int_equal(f->n_requests, 0);
	weir_seq_tick(&f->t, 5 * MS);
	assert_int_equal(f->c.gaps_opened, 1);
	assert_int_equal(f->n_requests, 1);
	/* by count: three events past the miss */
	f->window_events = 3;
	assert_string_equal(LINE(f, s, 0, 6 * MS, 5, 6), "ao");
	assert_int_equal(f->c.gaps_opened, 1);
	assert_string_equal(LINE(f, s, 0, 6 * MS, 7), "o");
	assert_int_equal(f->c.gaps_opened, 2);
	assert_int_equal(f->c.gap_events_missing, 2);
	/* a line's late copy of a gap past its window is a late fill */
	assert_string_equal(LINE(f, s, 1, 7 * MS, 4), "l");
	assert_int_equal(f->c.gap_events_recovered, 1);
	destroy(f);
}

/* A whole second copy is taken at once, leaving the tracker as event by
 * event would; anything else is refused and left to the event path. */
static void
should_count_a_whole_second_copy_at_once(void **state)
{
	(void)state;
	struct fixture *f = make(4, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	struct weir_seq_source *s = src(f, "AB");
	struct weir_seq_line b = { .ab = 1, .window_ns = 5 * MS };
	assert_false(weir_seq_arbitrated_run(&f->t, s, 1, 4, &b)); /* not started */
	assert_string_equal(LINE(f, s, 0, 0, 1, 2, 3, 4, 5, 6), "oooooo");
	assert_true(weir_seq_arbitrated_run(&f->t, s, 1, 4, &b));
	assert_int_equal(weir_seq_line_next(s, 1), 5);
	assert_false(weir_seq_arbitrated_run(&f->t, s, 3, 2, &b)); /* b brought those already */
	assert_false(weir_seq_arbitrated_run(&f->t, s, 5, 3, &b)); /* 7 is new */
	assert_false(weir_seq_arbitrated_run(&f->t, s, 5, 2, NULL));
	assert_true(weir_seq_arbitrated_run(&f->t, s, 5, 2, &b));
	assert_int_equal(f->c.seq_arbitrated, 6);
	assert_string_equal(LINE(f, s, 0, 0, 9), "a"); /* a pending miss: the slow path */
	assert_false(weir_seq_arbitrated_run(&f->t, s, 9, 1, &b));
	destroy(f);
}

/* One line's end of session comes before the other line's last copies:
 * they are second copies or fills, not a session starting again. */
static void
should_take_the_other_lines_copies_after_one_lines_end_of_session(void **state)
{
	(void)state;
	struct fixture *f = make(4, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	struct weir_seq_source *s = src(f, "AB");
	struct weir_seq_line a = { .ab = 0, .window_ns = 5 * MS };
	assert_string_equal(LINE(f, s, 0, 0, 1, 2), "oo");
	weir_seq_end_of_session(&f->t, s, 4, &a, 0); /* a lost 3 */
	assert_int_equal(f->c.gaps_opened, 0);       /* b may have it */
	assert_string_equal(LINE(f, s, 1, 1 * MS, 1, 2, 3), "rrf");
	assert_int_equal(f->c.session_restarts, 0);
	assert_int_equal(f->c.gaps_opened, 0);
	weir_seq_tick(&f->t, 10 * MS);
	assert_int_equal(f->n_losses, 0);
	/* once both lines are past the end, data is a new start */
	assert_string_equal(LINE(f, s, 0, 20 * MS, 1), "o");
	assert_int_equal(f->c.session_restarts, 1);
	destroy(f);
}

/* Issue 22, defect 6: A loses the session's first packet, or weir starts
 * while B lags: B's first copies of what A never brought are new to the
 * feed and kept (they were counted as duplicates and lost silently). */
static void
should_keep_the_other_lines_first_copies_below_where_the_feed_started(void **state)
{
	(void)state;
	struct fixture *f = make(4, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	struct weir_seq_source *s = src(f, "AB");
	/* a:3+2 a:5+1 b:1+2 b:3+2 b:5+1 a:6+1 b:6+1 */
	assert_string_equal(LINE(f, s, 0, 0, 3, 4, 5), "ooo");
	assert_string_equal(LINE(f, s, 1, 0, 1, 2), "ff");
	assert_string_equal(LINE(f, s, 1, 0, 3, 4, 5), "rrr");
	assert_string_equal(LINE(f, s, 0, 0, 6), "o");
	assert_string_equal(LINE(f, s, 1, 0, 6), "r");
	assert_int_equal(f->c.seq_duplicates, 0);
	assert_int_equal(f->c.seq_arbitrated, 4);
	weir_seq_tick(&f->t, 500 * MS);
	assert_int_equal(f->c.gaps_opened, 0);
	assert_int_equal(f->n_losses, 0);
	/* B lagging by more: what it brings below the start fills in as it comes */
	struct weir_seq_source *t = src(f, "CD");
	assert_string_equal(LINE(f, t, 0, 0, 10, 11, 12), "ooo");
	assert_string_equal(LINE(f, t, 1, 1 * MS, 7, 8, 9, 10, 11, 12), "fffrrr");
	weir_seq_tick(&f->t, 500 * MS);
	assert_int_equal(f->c.gaps_opened, 0);
	assert_int_equal(f->n_losses, 0);
	/* below the start on both lines and never brought: a gap, then lost */
	assert_string_equal(LINE(f, t, 1, 600 * MS, 4), "f");
	weir_seq_tick(&f->t, 606 * MS);
	assert_int_equal(f->c.gaps_opened, 1);
	weir_seq_tick(&f->t, 2000 * MS);
	assert_int_equal(f->n_losses, 1);
	assert_int_equal(f->losses[0].first, 5);
	destroy(f);
}

/* Found by the fault explorer (a line reordering its own first packet):
 * when the floor goes down, the other line has not brought what lies
 * between either, whichever line brings it first. */
static void
should_take_each_lines_first_copy_below_a_floor_the_other_line_lowered(void **state)
{
	(void)state;
	struct fixture *f = make(4, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	struct weir_seq_source *s = src(f, "AB");
	assert_string_equal(LINE(f, s, 0, 0, 5, 6, 7, 8), "oooo"); /* a's first packet came second */
	assert_string_equal(LINE(f, s, 0, 0, 1, 2, 3, 4), "ffff");
	assert_string_equal(LINE(f, s, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8), "rrrrrrrr");
	struct weir_seq_source *t = src(f, "CD");
	assert_string_equal(LINE(f, t, 0, 0, 5, 6, 7, 8), "oooo");
	assert_string_equal(LINE(f, t, 1, 0, 1, 2, 3, 4), "ffff"); /* b fills below first */
	assert_string_equal(LINE(f, t, 0, 0, 1, 2, 3, 4), "rrrr");
	assert_string_equal(LINE(f, t, 1, 0, 5, 6, 7, 8), "rrrr");
	assert_int_equal(f->c.seq_duplicates, 0);
	weir_seq_tick(&f->t, 500 * MS);
	assert_int_equal(f->n_losses, 0);
	destroy(f);
}

/* Restored from the log, a source's past is known: a lagging line's copies
 * below where the log stands are not new (no floor is open). */
static void
should_not_take_a_lagging_lines_copies_of_a_restored_source_as_new(void **state)
{
	(void)state;
	struct fixture *f = make(4, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	struct weir_seq_source *s = src(f, "AB");
	s->started = 1;
	s->next_seq = 100;
	assert_string_equal(LINE(f, s, 0, 0, 100, 101), "oo");
	assert_string_equal(LINE(f, s, 1, 0, 98, 99, 100, 101), "ddrr");
	destroy(f);
}

/* Issue 22, defect 7: a first copy behind its own line's later packet is
 * that line's first copy (arbitrated), on either line, and a line's own
 * repeat after it is a duplicate. */
static void
should_count_a_lines_reordered_first_copy_as_arbitrated(void **state)
{
	(void)state;
	struct fixture *f = make(4, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 3);
	struct weir_seq_source *s = src(f, "AB");
	assert_string_equal(LINE(f, s, 0, 0, 1, 2, 3, 4), "oooo");
	assert_string_equal(LINE(f, s, 1, 0, 1, 3, 2, 4), "rrrr");
	assert_int_equal(f->c.seq_duplicates, 0);
	assert_string_equal(LINE(f, s, 1, 0, 2, 3), "dd");
	struct weir_seq_source *m = src(f, "CD"); /* the mirror */
	assert_string_equal(LINE(f, m, 1, 0, 1, 2, 3, 4), "oooo");
	assert_string_equal(LINE(f, m, 0, 0, 1, 3, 2, 4), "rrrr");
	assert_int_equal(f->c.seq_duplicates, 2);
	assert_int_equal(f->c.seq_arbitrated, 8);
	/* the winning line's own late copy of what the other line filled */
	struct weir_seq_source *w = src(f, "EF");
	assert_string_equal(LINE(f, w, 0, 0, 1, 3), "oa");
	assert_string_equal(LINE(f, w, 1, 0, 2), "f");
	assert_string_equal(LINE(f, w, 0, 0, 2, 2), "rd");
	/* a whole second copy taken at once after a line's jump, then its late part */
	struct weir_seq_line b = { .ab = 1, .window_ns = 5 * MS };
	struct weir_seq_source *r = src(f, "GH");
	assert_string_equal(LINE(f, r, 0, 0, 1, 2, 3, 4, 5, 6), "oooooo");
	assert_true(weir_seq_arbitrated_run(&f->t, r, 4, 3, &b)); /* b skipped 1-3 */
	assert_string_equal(LINE(f, r, 1, 0, 2, 1, 3, 3), "rrrd");
	destroy(f);
}

/* A damaged batch in a sealed segment (issue 22, defect 4): the restore
 * reads on from the next good batch, so only the damaged batch's events
 * are holes, not everything after it in the segment. */
static void
should_restore_past_a_damaged_batch_holing_only_its_events(void **state)
{
	char *root = make_tmpdir(), path[600], dir[500];
	char err[256];
	log_source_l(root, 3000, 0, 100);
	snprintf(dir, sizeof(dir), "%s/itch", root);
	weir_log_segment_path(dir, 0, path, sizeof(path));
	/* a byte inside the batch of seqs 1501-1600 (not in its padding) */
	struct weir_log_segment sg;
	const struct weir_log_entry *e;
	size_t at = 0;
	assert_int_equal(weir_log_segment_open(&sg, path, err, sizeof(err)), 0);
	while (at == 0 && weir_log_segment_next(&sg, &e, err, sizeof(err)) == 1)
		if (e->offset == 1500)
			at = sg.batch_pos + sizeof(struct weir_log_batch) + 20;
	weir_log_segment_close(&sg);
	assert_true(at > 0);
	int fd = open(path, O_RDWR);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, (off_t)at), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)at), 1);
	close(fd);
	struct weir_restore r;
	const struct weir_restore_source *rs = restored_l(root, &r);
	assert_int_equal(rs->next_seq, 3001);
	assert_int_equal(rs->n_holes, 1);
	assert_int_equal(rs->holes[0].first, 1501); /* the one batch, and no more */
	assert_int_equal(rs->holes[0].last, 1600);
	weir_restore_free(&r);
	rm_tmpdir(root);
}

/* Found by the fault explorer: a gap must not age while the worker waits
 * for ring room (it receives nothing meanwhile; the missing copy may be
 * queued behind the wait, as on memif or a capture). */
static void
should_not_age_gaps_while_the_worker_waits_for_room(void **state)
{
	(void)state;
	struct fixture *f = make(4, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 0);
	struct weir_seq_source *s = src(f, "S");
	assert_string_equal(FEED(f, s, 0, 1, 2, 5), "ooa"); /* 3-4 missing from time 0 */
	weir_seq_pause(&f->t, 5000 * MS);                     /* a 5 s wait for room */
	weir_seq_tick(&f->t, 1 * MS);  /* the tick after the burst, at its receipt time: "before" the gap */
	assert_int_equal(f->n_losses, 0);
	weir_seq_tick(&f->t, 5050 * MS);
	assert_int_equal(f->n_losses, 0);                     /* 50 ms of receiving, of 100 */
	assert_string_equal(FEED(f, s, 5060 * MS, 3), "l");
	weir_seq_tick(&f->t, 5101 * MS);
	assert_int_equal(f->n_losses, 1);
	assert_int_equal(f->losses[0].first, 4);
	destroy(f);
}

/* An in-order packet touches its source's hot line alone: with the report
 * figures' pages made unreadable under it, a source goes on in order, one
 * event and a whole run at a time (a million sources: a second line a
 * packet cost 60 ns of a miss, perf/README.md). */
static void
should_track_in_order_events_without_touching_the_report_figures(void **state)
{
	(void)state;
	struct fixture *f = make(4096, 16, WEIR_SEQ_TABLE_FULL_UNTRACKED, 0);
	const long page = sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)f->t.stats + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
	uintptr_t hi = (uintptr_t)(f->t.stats + f->t.capacity) & ~((uintptr_t)page - 1);
	/* A source whose figures lie on the pages to be shut. */
	struct weir_seq_source *s = NULL;
	char name[16];
	for (unsigned k = 0; s == NULL; k++) {
		snprintf(name, sizeof(name), "S%u", k);
		struct weir_seq_source *c = src(f, name);
		uintptr_t at = (uintptr_t)&f->t.stats[weir_seq_index(&f->t, c)];
		if (at >= lo && at + sizeof(struct weir_seq_source_stats) <= hi)
			s = c;
	}
	assert_string_equal(FEED(f, s, 1, 1), "o");
	assert_int_equal(mprotect((void *)lo, hi - lo, PROT_NONE), 0);
	assert_string_equal(FEED(f, s, 2, 2, 3, 4), "ooo");
	assert_true(weir_seq_in_order_run(&f->t, s, 5, 8, NULL, 3));
	assert_int_equal(mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE), 0);
	assert_int_equal(s->events, 12);
	assert_int_equal(s->next_seq, 13);
	destroy(f);
}

/* With few sources the one found last is asked first and the probe skipped
 * (a decoy in its place shows which answered); with more than a few, never. */
static void
should_ask_the_source_found_last_first_only_while_few(void **state)
{
	struct fixture *f = make(64, 16, WEIR_SEQ_TABLE_FULL_DROP, 0);
	const struct weir_seq_origin origin = { .topic = 1 };
	struct weir_seq_source *a = src(f, "A"), decoy = *a;
	assert_ptr_equal(f->t.recent, a);
	f->t.recent = &decoy;
	assert_ptr_equal(weir_seq_recent(&f->t, a->key), &decoy);
	struct weir_seq_source *b = src(f, "B");
	f->t.recent = &decoy; /* another key: not it; the table answers, and is asked first next */
	assert_null(weir_seq_recent(&f->t, b->key));
	assert_ptr_equal(weir_seq_source(&f->t, b->key, &origin, 0), b);
	assert_ptr_equal(f->t.recent, b);
	assert_ptr_equal(weir_seq_recent(&f->t, b->key), b);
	for (unsigned i = 0; f->c.sources <= WEIR_SEQ_FEW_SOURCES; i++) {
		char name[8];
		snprintf(name, sizeof(name), "M%u", i);
		assert_non_null(src(f, name));
	}
	f->t.recent = &decoy;
	assert_null(weir_seq_recent(&f->t, a->key));
	destroy(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_track_in_order_events_without_touching_the_report_figures),
		cmocka_unit_test(should_never_take_a_retransmission_after_the_end_for_a_restart),
		cmocka_unit_test(should_track_an_in_order_run_at_once_exactly_as_event_by_event),
		cmocka_unit_test(should_restore_the_next_sequence_and_open_gaps_from_the_log),
		cmocka_unit_test(should_restore_an_ended_session_and_take_its_restart),
		cmocka_unit_test(should_restore_every_open_gap_however_many),
		cmocka_unit_test(should_restore_sources_from_a_log_directory),
		cmocka_unit_test(should_restore_a_source_whose_events_lie_in_several_topics_in_ring_order),
		cmocka_unit_test(should_restore_a_source_that_moved_to_a_lower_numbered_worker_in_run_order),
		cmocka_unit_test(should_number_a_run_after_the_logs_last_even_when_the_clock_stands_behind),
		cmocka_unit_test(should_restore_more_sources_than_its_first_size),
		cmocka_unit_test(should_read_only_the_newest_segments_a_bounded_window_covers),
		cmocka_unit_test(should_refuse_a_table_without_room),
		cmocka_unit_test(should_count_events_of_sources_beyond_a_full_table_by_policy),
		cmocka_unit_test(should_lose_a_gap_at_once_when_no_gap_entry_is_free),
		cmocka_unit_test(should_classify_in_order_ahead_late_and_duplicate),
		cmocka_unit_test(should_split_a_gap_filled_in_its_middle_and_lose_only_what_stays_missing),
		cmocka_unit_test(should_declare_gaps_lost_oldest_first_on_synthetic_time),
		cmocka_unit_test(should_reveal_a_lost_tail_from_a_heartbeat),
		cmocka_unit_test(should_take_a_first_heartbeat_as_the_start_of_the_stream),
		cmocka_unit_test(should_restart_a_session_that_sends_after_its_end),
		cmocka_unit_test(should_keep_filling_gaps_from_retransmissions_after_the_end_of_session),
		cmocka_unit_test(should_carry_sequences_across_two_to_the_64),
		cmocka_unit_test(should_rerequest_with_backoff_up_to_the_limit_and_cap_the_count),
		cmocka_unit_test(should_rate_limit_rerequests_per_source_and_count_failures),
		cmocka_unit_test(should_keep_many_sources_apart),
		cmocka_unit_test(should_take_the_first_copy_of_each_event_and_count_the_second_as_arbitrated),
		cmocka_unit_test(should_fill_one_lines_miss_from_the_other_without_a_gap),
		cmocka_unit_test(should_count_each_lines_own_gap_runs_once_across_a_heartbeat),
		cmocka_unit_test(should_open_a_gap_once_both_lines_are_past_a_miss),
		cmocka_unit_test(should_open_a_gap_after_the_window_when_the_other_line_is_silent),
		cmocka_unit_test(should_count_a_whole_second_copy_at_once),
		cmocka_unit_test(should_take_the_other_lines_copies_after_one_lines_end_of_session),
		cmocka_unit_test(should_keep_the_other_lines_first_copies_below_where_the_feed_started),
		cmocka_unit_test(should_not_take_a_lagging_lines_copies_of_a_restored_source_as_new),
		cmocka_unit_test(should_take_each_lines_first_copy_below_a_floor_the_other_line_lowered),
		cmocka_unit_test(should_count_a_lines_reordered_first_copy_as_arbitrated),
		cmocka_unit_test(should_restore_past_a_damaged_batch_holing_only_its_events),
		cmocka_unit_test(should_not_age_gaps_while_the_worker_waits_for_room),
		cmocka_unit_test(should_ask_the_source_found_last_first_only_while_few),
	};
	return cmocka_run_group_tests_name("seq", tests, NULL, NULL);
}
