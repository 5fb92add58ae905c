#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "weir_moldudp64.h"
#include "weir_replay_send.h"
#include "weir_single_writer.h"
#include "weir_time.h"

int
weir_replay_seek(struct weir_replay_send *s, char *err, size_t errlen)
{
	const struct weir_replay_range *r = &s->range;
	int rc = 1;
	switch (r->from) {
	case WEIR_REPLAY_FROM_FIRST:
		rc = weir_log_reader_seek(s->reader, weir_log_reader_first(s->reader)) == WEIR_LOG_READ_ERROR ? -1 : 1;
		break;
	case WEIR_REPLAY_FROM_OFFSET:
		rc = weir_log_reader_seek(s->reader, r->from_offset) == WEIR_LOG_READ_ERROR ? -1 : 1;
		break;
	case WEIR_REPLAY_FROM_TIME:
		rc = weir_log_reader_seek_time(s->reader, r->from_ns, WEIR_LOG_RX_TIME);
		break;
	case WEIR_REPLAY_FROM_SEQ:
		rc = weir_log_reader_seek_source(s->reader, r->from_source, r->from_seq);
		break;
	}
	if (rc < 0)
		snprintf(err, errlen, "%s", weir_log_reader_error(s->reader));
	if (rc == 1 && weir_log_reader_position(s->reader) >= weir_log_reader_committed(s->reader))
		rc = 0; /* at the committed end: nothing to send */
	s->sum.first_offset = s->sum.next_offset = s->read_to = weir_log_reader_position(s->reader);
	return rc;
}

static bool
wanted(const struct weir_replay_range *r, const uint8_t *key)
{
	if (r->n_sources == 0)
		return true;
	for (unsigned i = 0; i < r->n_sources; i++) /* a name with its sender is that sender's; without, any's */
		if (weir_source_has_sender(r->sources[i]) ? memcmp(r->sources[i], key, WEIR_SOURCE_BYTES) == 0
							 : weir_source_same_identity(r->sources[i], key))
			return true;
	return false;
}

static void
tally(struct weir_replay_send *s, const struct weir_replay_handed *h, bool back)
{
	uint64_t one = back ? UINT64_MAX : 1; /* -1 or +1, modulo 2^64 */
	if (h->first_offset == UINT64_MAX) {
		weir_sw_add(&s->sum.heartbeats, one);
		return;
	}
	weir_sw_add(&s->sum.packets, one);
	weir_sw_add(&s->sum.bytes, one * h->bytes);
	if (h->count == WEIR_MOLD_END_OF_SESSION)
		weir_sw_add(&s->sum.ends, one);
	else
		weir_sw_add(&s->sum.events, one * h->count);
}

/* A packet about to be handed over: counted now, taken back if it never leaves. */
static void
handing(struct weir_replay_send *s, const struct weir_replay_packet *p, uint64_t first_offset)
{
	struct weir_replay_handed *h = &s->handed[s->n_handed++ % WEIR_REPLAY_HANDED];
	*h = (struct weir_replay_handed){ .first_offset = first_offset, .bytes = p->len, .count = p->count };
	tally(s, h, false);
}

/* After a send or flush failed: the packets that never left are taken back
 * out of the summary, and the resume point goes back to the first of them. */
static void
take_back_unsent(struct weir_replay_send *s)
{
	uint64_t n = s->out->unsent, resume = s->sum.next_offset;
	n = n < s->n_handed ? n : s->n_handed;
	n = n < WEIR_REPLAY_HANDED ? n : WEIR_REPLAY_HANDED;
	for (; n; n--) {
		const struct weir_replay_handed *h = &s->handed[--s->n_handed % WEIR_REPLAY_HANDED];
		tally(s, h, true);
		resume = h->first_offset < resume ? h->first_offset : resume;
	}
	weir_sw_set(&s->sum.next_offset, resume);
	s->out->unsent = 0;
}

/* Every open source's heartbeat, now.  A send error is the next packet's to
 * say; a heartbeat a port's queue did not take yet leaves with that packet. */
static void
heartbeats(struct weir_replay_send *s, uint64_t now)
{
	static struct weir_replay_packet hb;
	char err[8];
	for (uint32_t i = 0; i < s->idle.keys.n; i++) {
		const struct weir_replay_idle_source *src = &s->idle.sources[i];
		if (src->ended)
			continue;
		weir_replay_control(&hb, src->key, src->next, WEIR_MOLD_HEARTBEAT, 0);
		handing(s, &hb, UINT64_MAX);
		if (weir_replay_out_send(s->out, hb.buf, hb.len, 0, err, sizeof(err)) != 0 && s->out->port == NULL)
			take_back_unsent(s);
	}
	s->idle.last_ns = now;
}

/* Sleeps towards due, waking for the heartbeats a silence owes. */
static uint64_t
sleep_until(struct weir_replay_send *s, uint64_t due, uint64_t now)
{
	uint64_t wake = due;
	if (s->idle.every_ns && s->idle.last_ns + s->idle.every_ns < wake)
		wake = s->idle.last_ns + s->idle.every_ns;
	struct timespec ts = { .tv_sec = (time_t)(wake / 1000000000ull), .tv_nsec = (long)(wake % 1000000000ull) };
	if (wake > now)
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	now = weir_monotonic_ns();
	if (s->idle.every_ns && now >= s->idle.last_ns + s->idle.every_ns && now < due)
		heartbeats(s, now);
	return now;
}

bool
weir_replay_pace(struct weir_replay_send *s, uint64_t rx_ns)
{
	if (s->speed <= 0 || s->out->dump)
		return true;
	uint64_t now = weir_monotonic_ns();
	if (s->mono0_ns == 0) {
		s->rx0_ns = rx_ns;
		s->mono0_ns = now;
	}
	uint64_t off = rx_ns > s->rx0_ns ? (uint64_t)((double)(rx_ns - s->rx0_ns) / s->speed) : 0;
	uint64_t due = s->mono0_ns + off;
	/* Asleep until shortly before, then spinning: a sleep wakes up to
	 * hundreds of us late here (measured: p50 <= 256 us with sleep alone). */
	const uint64_t spin = 200000;
	while (now + spin < due && !*s->quit)
		now = sleep_until(s, due - spin, now);
	while (now < due && !*s->quit)
		now = weir_monotonic_ns();
	if (now < due)
		return false;
	weir_hist_add(&s->sum.pacing, now - due, 1);
	return true;
}

/* A pcap's stamp: the recorded time, spaced by the speed. */
static uint64_t
stamp(struct weir_replay_send *s, uint64_t rx_ns)
{
	if (s->rx0_ns == 0)
		s->rx0_ns = rx_ns;
	if (s->speed <= 0 || rx_ns < s->rx0_ns)
		return rx_ns;
	return s->rx0_ns + (uint64_t)((double)(rx_ns - s->rx0_ns) / s->speed);
}

static int
send_packet(struct weir_replay_send *s, struct weir_replay_packet *p, char *err, size_t errlen)
{
	if (p->len == 0 || (s->speed > 0 && !weir_replay_pace(s, p->rx_ns))) /* flat out: no call a packet */
		return 0;
	handing(s, p, s->open_offset);
	if (weir_replay_out_send(s->out, p->buf, p->len, stamp(s, p->rx_ns), err, errlen) != 0)
		return -1;
	p->len = 0;
	if (s->speed <= 0 || s->idle.every_ns == 0)
		return 0; /* heartbeats are for a paced silence: no clock read a packet flat out */
	bool end = p->count == WEIR_MOLD_END_OF_SESSION;
	weir_replay_idle_saw(&s->idle, p->key, end ? p->first_seq : p->first_seq + p->count, end);
	s->idle.last_ns = weir_monotonic_ns();
	return 0;
}

/* Entries taken: 1; -1 a send failed; KEPT_BACK: a signal kept the open
 * packet back, and this entry, which cannot join it, is not taken either;
 * REFUSED: this entry cannot be sent (err says why), what went before it
 * still goes. */
#define KEPT_BACK 2
#define REFUSED 3

/* A second sender of a session name another sender's events were sent as. */
static bool
one_sender_a_name(struct weir_replay_send *s, const uint8_t *key, char *err, size_t errlen)
{
	const uint8_t *other = NULL;
	if (!weir_source_has_sender(key))
		return true;
	enum weir_replay_claim c = weir_replay_senders_claim(&s->senders, key, &other);
	if (c == WEIR_REPLAY_CLAIMED)
		return true;
	if (c == WEIR_REPLAY_CLAIM_NO_MEMORY) {
		snprintf(err, errlen, "out of memory for the session names of the log's senders");
		return false;
	}
	char a[64], b[64];
	weir_source_format(other, a, sizeof(a));
	weir_source_format(key, b, sizeof(b));
	snprintf(err, errlen, "%s and %s are one session on the wire (a replay sends from one address): "
		 "give --sources with one of them", a, b);
	return false;
}

static int
on_event(struct weir_replay_send *s, const struct weir_log_item *it, char *err, size_t errlen)
{
	const struct weir_record *r = it->record;
	if (!weir_replay_joins(&s->pk, r->source, r->seq, r->rx_ns, it->payload_len)) {
		if (send_packet(s, &s->pk.pkt, err, errlen) != 0)
			return -1;
		if (s->pk.pkt.len)
			return KEPT_BACK;
	}
	if (s->pk.pkt.len == 0)
		s->open_offset = it->entry->offset;
	if (it->payload_len > 0xFFFF || !weir_replay_add(&s->pk, r->source, r->seq, r->rx_ns, r->event_time_ns,
							 it->payload, (uint16_t)it->payload_len))
		weir_sw_add(&s->sum.too_big, 1);
	else
		s->packed++;
	return 1;
}

/* One entry of the range, read: 1 on, 0 the range is done, -1 error, KEPT_BACK, REFUSED. */
static int
take_entry(struct weir_replay_send *s, const struct weir_log_item *it, char *err, size_t errlen)
{
	const struct weir_record *r = it->record;
	const struct weir_replay_range *rg = &s->range;
	if (!wanted(rg, r->source))
		return 1;
	if ((r->kind == WEIR_REC_EVENT || r->kind == WEIR_REC_END_OF_SESSION) &&
	    !one_sender_a_name(s, r->source, err, errlen))
		return REFUSED;
	if (r->kind == WEIR_REC_EVENT) {
		int rc = on_event(s, it, err, errlen);
		return rc != 1 ? rc : rg->count == 0 || s->packed < rg->count;
	}
	if (r->kind == WEIR_REC_LOSS) {
		weir_sw_add(&s->sum.holes, 1); /* never sent: the next event of the source starts a packet after it */
		weir_sw_add(&s->sum.hole_events, r->count);
		return 1;
	}
	if (r->kind == WEIR_REC_END_OF_SESSION) {
		struct weir_replay_packet *end = &s->pk.pkt;
		if (send_packet(s, end, err, errlen) != 0)
			return -1;
		if (end->len)
			return KEPT_BACK;
		s->open_offset = it->entry->offset;
		weir_replay_control(end, r->source, r->seq, WEIR_MOLD_END_OF_SESSION, r->rx_ns);
		if (send_packet(s, end, err, errlen) != 0)
			return -1;
	}
	return 1;
}

/* One entry of the log: 1 on, 0 the range is done, -1 a send failed, REFUSED. */
static int
on_entry(struct weir_replay_send *s, const struct weir_log_item *it, char *err, size_t errlen)
{
	const struct weir_replay_range *rg = &s->range;
	if ((rg->until_offset && it->entry->offset >= rg->until_offset) ||
	    (rg->until_ns && it->record->rx_ns >= rg->until_ns))
		return 0;
	if (it->entry->offset > s->read_to) /* the reader went over a stated hole or a deletion */
		weir_sw_add(&s->sum.offsets_lost, it->entry->offset - s->read_to);
	int rc = take_entry(s, it, err, errlen);
	s->read_to = it->entry->offset + (rc != KEPT_BACK && rc != REFUSED);
	weir_sw_set(&s->sum.next_offset, s->pk.pkt.len ? s->open_offset : s->read_to);
	return rc == KEPT_BACK ? 0 : rc;
}

/* Each second: how far behind the committed end (/metrics), and a line. */
static void
progress(struct weir_replay_send *s)
{
	if ((++s->since_progress & 1023) != 0) /* the clock, every 1024 entries */
		return;
	uint64_t now = weir_monotonic_ns();
	if (now < s->next_progress_ns)
		return;
	s->next_progress_ns = now + 1000000000ull;
	weir_sw_set(&s->sum.bytes_behind, weir_log_reader_bytes_behind(s->reader));
	if (!s->progress)
		return;
	fprintf(stderr, "weir-replay: %" PRIu64 " packets, %" PRIu64 " events, %" PRIu64 " holes passed, at offset %" PRIu64
		" of %" PRIu64 "\n", s->sum.packets, s->sum.events, s->sum.holes, s->sum.next_offset,
		weir_log_reader_committed(s->reader));
}

static int
run_range(struct weir_replay_send *s, char *err, size_t errlen)
{
	int on = 1;
	while (on == 1 && !*s->quit) {
		struct weir_log_item it;
		int rc = weir_log_reader_next(s->reader, &it);
		if (rc == WEIR_LOG_READ_END)
			break;
		if (rc == WEIR_LOG_READ_TRUNCATED) {
			fprintf(stderr, "weir-replay: %s (read on)\n", weir_log_reader_error(s->reader));
			continue;
		}
		if (rc == WEIR_LOG_READ_ERROR) {
			char ferr[8]; /* what was handed over still leaves, if it can; the read's error is the one said */
			if (weir_replay_out_flush(s->out, ferr, sizeof(ferr)) != 0)
				take_back_unsent(s);
			snprintf(err, errlen, "%s", weir_log_reader_error(s->reader));
			return -1;
		}
		on = on_entry(s, &it, err, errlen);
		progress(s);
	}
	weir_sw_set(&s->sum.bytes_behind, weir_log_reader_bytes_behind(s->reader));
	if (on < 0 || send_packet(s, &s->pk.pkt, err, errlen) != 0 || weir_replay_out_flush(s->out, err, errlen) != 0) {
		take_back_unsent(s);
		return -1;
	}
	if (s->pk.pkt.len == 0) /* else a signal kept the open packet back: it is where to resume */
		weir_sw_set(&s->sum.next_offset, s->read_to);
	return on == REFUSED ? -1 : 0;
}

int
weir_replay_run(struct weir_replay_send *s, char *err, size_t errlen)
{
	uint64_t t0 = weir_monotonic_ns();
	int rc = run_range(s, err, errlen);
	s->run_ns = weir_monotonic_ns() - t0;
	return rc;
}
