#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "gen.h"
#include "weir_frame.h"
#include "weir_headers.h"
#include "weir_moldudp64.h"
#include "weir_parse.h"
#include "weir_time.h"

static void
deliver(struct gen *g, const struct pending *p)
{
	if (g->o.lines == 2) {
		gen_lines_deliver(g, p);
		return;
	}
	gen_emit_mold(g, p->mold, p->len);
	g->data_packets++;
	gen_truth_events(g, &g->s[p->session], p->seq, p->count);
}

void
gen_hold(struct gen *g, const struct pending *p, unsigned due_in)
{
	if (g->n_pending == g->cap_pending) {
		g->cap_pending = g->cap_pending ? g->cap_pending * 2 : 64;
		g->pending = realloc(g->pending, g->cap_pending * sizeof(*g->pending));
		if (g->pending == NULL) {
			fprintf(stderr, "weir-gen: out of memory\n");
			exit(1);
		}
	}
	g->pending[g->n_pending] = *p;
	g->pending[g->n_pending++].due_in = due_in;
}

/* One more data packet went out: release what has waited long enough, in order. */
void
gen_release_due(struct gen *g, bool all)
{
	unsigned keep = 0;
	for (unsigned i = 0; i < g->n_pending; i++) {
		struct pending *p = &g->pending[i];
		if (all || p->due_in == 0) {
			deliver(g, p);
		} else {
			p->due_in--;
			g->pending[keep++] = *p;
		}
	}
	g->n_pending = keep;
}

/* A data packet the receiver never gets (on any line). */
void
gen_lose_packet(struct gen *g, struct session *s, const struct pending *p)
{
	g->t.lost_packets++;
	/* Without a retransmission server every lost event is gone; with one,
	 * only those it is told to forget. */
	if (!g->o.serving || chance(g, g->o.forget_rate)) {
		for (unsigned i = 0; i < p->count; i++) {
			uint64_t bit = p->seq + i - s->first_seq;
			s->forgotten[bit / 8] |= (uint8_t)(1u << (bit % 8));
		}
		g->forgotten_events += p->count;
	} else {
		gen_digest_packet(g, s, p);
	}
}

/* Loss, duplication and reordering, decided per generated data packet; a
 * session's first packet always arrives first (it starts the stream). */
static void
send_data(struct gen *g, struct pending *p)
{
	struct gen_opts *o = &g->o;
	struct session *s = &g->s[p->session];
	bool first = s->data_packets++ == 0;
	if (!first && (s->burst_left || chance(g, o->loss_rate))) {
		s->burst_left = s->burst_left ? s->burst_left - 1 : o->burst_loss - 1;
		gen_lose_packet(g, s, p);
		gen_release_due(g, false);
		return;
	}
	gen_digest_packet(g, s, p);
	if (!first && chance(g, o->reorder_rate)) {
		gen_hold(g, p, rnd_range(g, 1, o->reorder_distance));
	} else if (!first && chance(g, o->delay_rate)) {
		/* Held back delay_ms: behind every packet sent meanwhile (a capture
		 * carries one packet a microsecond; live sending goes at --rate). */
		double per_ms = o->send ? o->rate_pps / 1000.0 : 1000.0;
		unsigned behind = (unsigned)(o->delay_ms * per_ms);
		gen_hold(g, p, behind ? behind : 1);
		g->t.delayed_packets++;
	} else {
		deliver(g, p);
	}
	if (chance(g, o->duplicate_rate))
		gen_hold(g, p, rnd_range(g, 0, o->reorder_distance));
	gen_release_due(g, false);
}

/* Names, first sequences, digests and the per-sequence bitmaps of every
 * session; quota[i] gets session i's share of the messages. */
static int
init_sessions(struct gen *g, uint64_t *quota)
{
	struct gen_opts *o = &g->o;
	uint64_t per_session = o->messages / o->sessions, extra = o->messages % o->sessions;
	for (unsigned i = 0; i < o->sessions; i++) {
		struct session *s = &g->s[i];
		s->source_id = 1000 + o->first_session + i;
		if (o->weir_framing)
			snprintf(s->name, sizeof(s->name), "wf:%" PRIu64, s->source_id);
		else
			snprintf(s->name, sizeof(s->name), "S%04u", o->first_session + i);
		s->first_seq = s->next_seq = o->first_seq;
		s->digest = EVP_MD_CTX_new();
		if (s->digest == NULL || EVP_DigestInit_ex(s->digest, EVP_sha256(), NULL) != 1)
			return -1;
		quota[i] = per_session + (i < extra);
	}
	for (unsigned i = 0; i < o->sessions; i++) {
		g->s[i].received = calloc(quota[i] / 8 + 2, 1);
		g->s[i].forgotten = calloc(quota[i] / 8 + 2, 1);
		if (g->s[i].received == NULL || g->s[i].forgotten == NULL)
			return -1;
		if (o->n_plants && (g->s[i].drop_bits = calloc(quota[i] / 8 + 2, 1)) == NULL)
			return -1;
		if (o->serving) {
			g->s[i].msg_off = calloc(quota[i] + 1, sizeof(uint64_t));
			g->s[i].msg_len = calloc(quota[i] + 1, sizeof(uint16_t));
			if (g->s[i].msg_off == NULL || g->s[i].msg_len == NULL)
				return -1;
		}
	}
	return 0;
}

/* Up to want events of session s into p (MoldUDP64 or weir frame), as
 * many as fit a packet: p->count. */
static void
build_data_packet(struct gen *g, struct session *s, unsigned want, struct pending *p)
{
	struct gen_opts *o = &g->o;
	uint8_t msg[1024];
	uint8_t *mold = p->mold;
	uint32_t hdr = o->weir_framing ? WEIR_FRAME_HEADER_BYTES : WEIR_MOLD_HEADER_BYTES;
	uint32_t per_event = o->weir_framing ? WEIR_FRAME_EVENT_HEADER_BYTES : 2;
	uint32_t len = hdr;
	unsigned n = 0;
	uint64_t event_time_ns = weir_realtime_ns();
	while (n < want) {
		unsigned plen = rnd_range(g, o->payload_min, o->payload_max);
		if (len + per_event + plen > MOLD_BUDGET && n > 0)
			break;
		gen_fill_payload(g, msg, plen);
		gen_plant(g, msg, plen);
		if (o->weir_framing)
			len += weir_frame_put_event(mold + len, (uint16_t)rnd_range(g, 0, o->frame_topics),
						    event_time_ns, msg, (uint16_t)plen);
		else
			len += weir_mold_put_block(mold + len, msg, (uint16_t)plen);
		if (o->serving)
			gen_store_message(s, s->next_seq + n, msg, (uint16_t)plen);
		n++;
	}
	if (o->weir_framing)
		weir_frame_put_header(mold, 0, (uint16_t)n, s->source_id, s->next_seq);
	else
		weir_mold_put_header(mold, s->name, s->next_seq, (uint16_t)n);
	p->count = n;
	p->len = len;
}

int
gen_generate(struct gen *g)
{
	struct gen_opts *o = &g->o;
	uint64_t quota[MAX_SESSIONS];
	if (init_sessions(g, quota) != 0 || (o->lines == 2 && gen_lines_init(g, quota) != 0))
		return -1;
	g->send_start_ns = weir_monotonic_ns();
	uint64_t left = o->messages;
	unsigned cur = 0;
	while (left) {
		/* Random session with messages still to send. */
		unsigned i = (unsigned)(rnd(g) % o->sessions);
		while (quota[i] == 0)
			i = (i + 1) % o->sessions;
		cur = i;
		struct session *s = &g->s[cur];
		if (chance(g, o->filtered_rate))
			gen_emit_filtered(g);
		if (chance(g, o->malformed_rate))
			gen_emit_malformed(g, s);
		unsigned want = rnd_range(g, o->per_min, o->per_max);
		if (want > quota[cur])
			want = (unsigned)quota[cur];
		static struct pending p;
		build_data_packet(g, s, want, &p);
		unsigned n = p.count;
		p.session = cur;
		p.seq = s->next_seq;
		if (o->lines == 2)
			gen_lines_send(g, &p);
		else
			send_data(g, &p);
		s->next_seq += n;
		s->sent += n;
		quota[cur] -= n;
		left -= n;
		g->messages += n;
		if (o->heartbeat_every && ++s->packets_since_heartbeat >= o->heartbeat_every) {
			s->packets_since_heartbeat = 0;
			if (o->lines == 2)
				gen_lines_control(g, s, WEIR_MOLD_HEARTBEAT);
			else
				gen_emit_control(g, s, WEIR_MOLD_HEARTBEAT), g->heartbeats++;
			gen_truth_next_is(g, s, s->next_seq);
		}
	}
	gen_release_due(g, true);
	if (o->end_session)
		for (unsigned i = 0; i < o->sessions; i++) {
			if (o->lines == 2)
				gen_lines_control(g, &g->s[i], WEIR_MOLD_END_OF_SESSION);
			else
				gen_emit_control(g, &g->s[i], WEIR_MOLD_END_OF_SESSION), g->end_of_session++;
			gen_truth_next_is(g, &g->s[i], g->s[i].next_seq);
		}
	return 0;
}
