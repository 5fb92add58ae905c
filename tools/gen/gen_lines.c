/* weir-gen --lines 2: a feed published twice, on an A and a B line (two
 * multicast groups), each line losing packets on its own; the ground truth
 * says what each line lost and what both lost. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "weir_moldudp64.h"

static void
set_bit(uint8_t *bits, uint64_t i)
{
	bits[i / 8] |= (uint8_t)(1u << (i % 8));
}

static bool
bit(const uint8_t *bits, uint64_t i)
{
	return bits[i / 8] & (1u << (i % 8));
}

/* Each line's addresses: the feed's sender to the line's group (and its
 * multicast MAC), and line B's capture when it has its own. */
int
gen_lines_open(struct gen *g)
{
	struct gen_opts *o = &g->o;
	for (unsigned l = 0; l < 2; l++) {
		struct endpoints *ep = &g->line_ep[l];
		*ep = g->feed;
		const union weir_sockaddr *to = l ? &o->to_b : &o->to;
		uint32_t group = o->send && to->sa.sa_family == AF_INET ? to->v4.sin_addr.s_addr : o->group[l];
		memcpy(ep->dst_ip, &group, 4);
		const uint8_t *gb = ep->dst_ip;
		uint8_t mac[6] = { 0x01, 0x00, 0x5e, (uint8_t)(gb[1] & 0x7f), gb[2], gb[3] };
		memcpy(ep->dst_mac, mac, 6);
	}
	g->line = -1;
	return 0;
}

int
gen_lines_init(struct gen *g, const uint64_t *quota)
{
	for (unsigned i = 0; i < g->o.sessions; i++)
		for (unsigned l = 0; l < 2; l++)
			if ((g->s[i].lost_line[l] = calloc(quota[i] / 8 + 2, 1)) == NULL)
				return -1;
	return 0;
}

/* One frame out on line l: its addresses, its capture or destination. */
static void
emit_on(struct gen *g, unsigned l, const uint8_t *mold, uint32_t len)
{
	struct endpoints saved = g->feed;
	g->feed = g->line_ep[l];
	g->line = (int)l;
	gen_emit_mold(g, mold, len);
	g->line = -1;
	g->feed = saved;
}

void
gen_lines_deliver(struct gen *g, const struct pending *p)
{
	emit_on(g, p->line, p->mold, p->len);
	g->data_packets++;
	/* every copy: the truth counts the second one as a repeat (arbitrated) */
	gen_truth_events(g, &g->s[p->session], p->seq, p->count);
}

static bool
b_silent(const struct gen *g)
{
	return g->o.b_silent_after && g->messages >= g->o.b_silent_after;
}

/* Whether each line loses it; a session's first packet reaches both. */
void
gen_lines_send(struct gen *g, struct pending *p)
{
	struct gen_opts *o = &g->o;
	struct session *s = &g->s[p->session];
	bool first = s->data_packets++ == 0;
	bool lost[2] = { !first && chance(g, o->line_loss[0]), (!first && chance(g, o->line_loss[1])) || b_silent(g) };
	for (unsigned l = 0; l < 2; l++)
		if (lost[l])
			for (unsigned i = 0; i < p->count; i++)
				set_bit(s->lost_line[l], p->seq + i - s->first_seq);
		else
			g->line_events[l] += p->count;
	if (lost[0] && lost[1]) {
		g->both_lost_events += p->count;
		gen_lose_packet(g, s, p);
		gen_release_due(g, false);
		return;
	}
	if (lost[0] != lost[1])
		g->only_events[lost[0] ? 1 : 0] += p->count;
	gen_digest_packet(g, s, p);
	if (!lost[0]) {
		p->line = 0;
		gen_lines_deliver(g, p);
	}
	if (!lost[1]) {
		p->line = 1;
		if (o->line_delay)
			gen_hold(g, p, o->line_delay);
		else
			gen_lines_deliver(g, p);
	}
	gen_release_due(g, false);
}

/* A heartbeat or end of session goes out on both lines (B unless silent),
 * B's in its place among B's delayed data: a heartbeat ahead of its own
 * line's data would say that line had brought what it had not. */
void
gen_lines_control(struct gen *g, struct session *s, uint16_t count)
{
	for (unsigned l = 0; l < 2; l++) {
		if (l == 1 && b_silent(g))
			continue;
		static struct pending p; /* no events: the truth takes nothing from it */
		p = (struct pending){ .session = (unsigned)(s - g->s), .seq = s->next_seq, .line = (uint8_t)l };
		p.len = gen_control_header(g, s, count, p.mold);
		if (l == 1 && g->o.line_delay && count == WEIR_MOLD_HEARTBEAT)
			gen_hold(g, &p, g->o.line_delay);
		else
			gen_lines_deliver(g, &p);
		if (count == WEIR_MOLD_HEARTBEAT)
			g->heartbeats++;
	}
	if (count == WEIR_MOLD_END_OF_SESSION)
		g->end_of_session++; /* one record: the second copy is arbitrated */
}

/* ,"lost_a": [[first, last], ...], "lost_b": [...] of one session. */
void
gen_lines_session(FILE *f, const struct session *s)
{
	for (unsigned l = 0; l < 2; l++) {
		fprintf(f, ", \"lost_%c\": [", 'a' + l);
		bool first = true;
		for (uint64_t q = s->first_seq; q < s->next_seq;) {
			if (!bit(s->lost_line[l], q - s->first_seq)) {
				q++;
				continue;
			}
			uint64_t a = q;
			while (q < s->next_seq && bit(s->lost_line[l], q - s->first_seq))
				q++;
			fprintf(f, "%s[%" PRIu64 ", %" PRIu64 "]", first ? "" : ", ", a, q - 1);
			first = false;
		}
		fputc(']', f);
	}
}

/* "lines": what each line brought, lost and alone had, and what both lost. */
void
gen_lines_manifest(struct gen *g, FILE *f)
{
	char ga[INET_ADDRSTRLEN], gb[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, g->line_ep[0].dst_ip, ga, sizeof(ga));
	inet_ntop(AF_INET, g->line_ep[1].dst_ip, gb, sizeof(gb));
	fprintf(f, "  \"lines\": {\"a\": {\"group\": \"%s\", \"loss_rate\": %g, \"events\": %" PRIu64
		", \"only_events\": %" PRIu64 "}, \"b\": {\"group\": \"%s\", \"loss_rate\": %g, \"events\": %" PRIu64
		", \"only_events\": %" PRIu64 ", \"silent_after\": %" PRIu64 "}, \"delay_packets\": %u, "
		"\"both_lost_events\": %" PRIu64 "},\n",
		ga, g->o.line_loss[0], g->line_events[0], g->only_events[0], gb, g->o.line_loss[1], g->line_events[1],
		g->only_events[1], g->o.b_silent_after, g->o.line_delay, g->both_lost_events);
}
