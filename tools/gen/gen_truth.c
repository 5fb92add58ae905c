#define _GNU_SOURCE /* memmem */
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
digest_event(struct session *s, uint64_t seq, const uint8_t *msg, uint16_t len)
{
	uint8_t hdr[10];
	weir_put_be64(hdr, seq);
	weir_put_be16(hdr + 8, len);
	EVP_DigestUpdate(s->digest, hdr, sizeof(hdr));
	EVP_DigestUpdate(s->digest, msg, len);
}

static bool
was_received(const struct session *s, uint64_t seq)
{
	uint64_t i = seq - s->first_seq;
	return s->received[i / 8] & (1u << (i % 8));
}

/* What a correct tracker makes of a heartbeat (or end of session). */
void
gen_truth_next_is(struct gen *g, struct session *s, uint64_t next)
{
	if (!s->seen_started) {
		s->seen_started = true;
		s->seen_next = next;
	} else if (next > s->seen_next) {
		g->t.gaps_opened++;
		g->t.events_missing += next - s->seen_next;
		s->seen_next = next;
	}
}

/* What a correct tracker makes of each event of a delivered packet. */
void
gen_truth_events(struct gen *g, struct session *s, uint64_t seq, unsigned n)
{
	g->t.messages += n;
	for (unsigned i = 0; i < n; i++) {
		uint64_t q = seq + i, bit = q - s->first_seq;
		if (!s->seen_started) {
			s->seen_started = true;
			s->seen_next = q + 1;
			g->t.in_order++;
		} else if (was_received(s, q)) {
			g->t.duplicates++;
			continue;
		} else if (q == s->seen_next) {
			g->t.in_order++;
			s->seen_next++;
		} else if (q > s->seen_next) {
			g->t.ahead++;
			g->t.gaps_opened++;
			g->t.events_missing += q - s->seen_next;
			s->seen_next = q + 1;
		} else {
			g->t.late_fills++;
			if (s->drop_bits && (s->drop_bits[bit / 8] & (1u << (bit % 8))))
				g->t.late_fills_dropped++; /* its plant marked it when it was digested, before it went */
		}
		s->received[bit / 8] |= (uint8_t)(1u << (bit % 8));
		s->delivered_events++;
	}
}

/* Maybe writes one plant into a payload, at a random place. */
void
gen_plant(struct gen *g, uint8_t *msg, unsigned len)
{
	double x = (double)(rnd(g) >> 11) * 0x1.0p-53, acc = 0;
	for (unsigned i = 0; i < g->o.n_plants; i++) {
		const struct plant *pl = &g->o.plants[i];
		acc += pl->rate;
		if (x < acc) {
			if (pl->len <= len)
				memcpy(msg + rnd_range(g, 0, len - (unsigned)pl->len), pl->text, pl->len);
			return;
		}
	}
}

/* Which plant an event carries (the alphabet never makes one by chance), or -1. */
static int
planted_in(const struct gen *g, const uint8_t *msg, uint16_t len)
{
	for (unsigned i = 0; i < g->o.n_plants; i++)
		if (memmem(msg, len, g->o.plants[i].text, g->o.plants[i].len))
			return (int)i;
	return -1;
}

/* One event the appliance must persist (or drop, by the rules under test). */
static void
expect_event(struct gen *g, struct session *s, uint64_t seq, const uint8_t *msg, uint16_t len)
{
	int p = planted_in(g, msg, len);
	if (p >= 0) {
		g->planted[p]++;
		if (g->o.plants[p].drop) {
			if (s->n_dropped == s->cap_dropped) {
				s->cap_dropped = s->cap_dropped ? 2 * s->cap_dropped : 1024;
				s->dropped = realloc(s->dropped, s->cap_dropped * sizeof(*s->dropped));
				if (s->dropped == NULL)
					exit(1);
			}
			s->dropped[s->n_dropped++] = seq;
			s->drop_bits[(seq - s->first_seq) / 8] |= (uint8_t)(1u << ((seq - s->first_seq) % 8));
			return;
		}
	}
	digest_event(s, seq, msg, len);
}

/* The packet's events count towards the session's digest, in sequence order. */
void
gen_digest_packet(struct gen *g, struct session *s, const struct pending *p)
{
	if (g->o.weir_framing) {
		const uint8_t *c = p->mold + WEIR_FRAME_HEADER_BYTES;
		for (unsigned i = 0; i < p->count; i++) {
			struct weir_frame_event e;
			weir_frame_next(&c, &e);
			expect_event(g, s, p->seq + i, e.payload, e.len);
			if (planted_in(g, e.payload, e.len) < 0 || !g->o.plants[planted_in(g, e.payload, e.len)].drop)
				g->topic_events[e.topic]++;
		}
		return;
	}
	const uint8_t *c = p->mold + WEIR_MOLD_HEADER_BYTES;
	for (unsigned i = 0; i < p->count; i++) {
		uint16_t len;
		const uint8_t *msg = weir_mold_next(&c, &len);
		expect_event(g, s, p->seq + i, msg, len);
	}
}

/* One session's line: its figures, the digest of what it delivered, the
 * ranges a LOSS record must state, the events drop rules took. */
static void
write_session(struct gen *g, FILE *f, unsigned i, bool last)
{
	struct gen_opts *o = &g->o;
	struct session *s = &g->s[i];
	unsigned char md[32];
	unsigned mdlen = 0;
	EVP_DigestFinal_ex(s->digest, md, &mdlen);
	EVP_MD_CTX_free(s->digest);
	fprintf(f, "    {\"session\": \"%s\", \"first_seq\": %" PRIu64 ", \"next_seq\": %" PRIu64
		", \"messages\": %" PRIu64 ", \"received\": %" PRIu64 ", \"seen_next\": %" PRIu64
		", \"end_of_session\": %s, \"sha256\": \"",
		s->name, s->first_seq, s->next_seq, s->sent, s->delivered_events, s->seen_next,
		o->end_session ? "true" : "false");
	for (unsigned b = 0; b < mdlen; b++)
		fprintf(f, "%02x", md[b]);
	/* What never arrived below what the receiver learned exists: the LOSS records' due. */
	fputc('"', f);
	if (o->lines == 2)
		gen_lines_session(f, s);
	fprintf(f, ", \"lost\": [");
	bool first = true;
	for (uint64_t q = s->first_seq; q < s->seen_next;) {
		if (!gen_is_forgotten(s, q)) {
			q++;
			continue;
		}
		uint64_t a = q;
		while (q < s->seen_next && gen_is_forgotten(s, q))
			q++;
		fprintf(f, "%s[%" PRIu64 ", %" PRIu64 "]", first ? "" : ", ", a, q - 1);
		first = false;
	}
	fprintf(f, "], \"rule_dropped\": [");
	for (uint64_t k = 0; k < s->n_dropped; k++)
		fprintf(f, "%s%" PRIu64, k ? ", " : "", s->dropped[k]);
	fprintf(f, "]}%s\n", last ? "" : ",");
}

void
gen_write_manifest(struct gen *g, FILE *f)
{
	struct gen_opts *o = &g->o;
	struct truth *t = &g->t;
	uint64_t accepted = g->data_packets; /* data, heartbeat and end-of-session packets */
	uint64_t delivered = 0, rule_dropped = 0;
	for (unsigned i = 0; i < o->sessions; i++) {
		delivered += g->s[i].delivered_events;
		rule_dropped += g->s[i].n_dropped;
	}
	if (o->serving) {
		/* Live with a retransmission server: what the appliance receives depends
		 * on its re-requests, what it must persist does not. */
		for (unsigned i = 0; i < o->sessions; i++) {
			g->s[i].delivered_events = g->s[i].sent;
			g->s[i].seen_next = g->s[i].next_seq; /* the end of session reveals every tail */
		}
		delivered = g->messages - g->forgotten_events;
	}
	delivered -= rule_dropped; /* what the drop rules take is not persisted */
	fprintf(f, "{\n  \"generator\": \"weir-gen %s\",\n  \"seed\": %" PRIu64 ",\n  \"udp_port\": %u,\n", o->send ? "send" : "pcap",
		o->seed, o->udp_port);
	fprintf(f, "  \"packets\": %" PRIu64 ",\n  \"messages\": %" PRIu64 ",\n", g->packets, g->messages);
	fprintf(f, "  \"faults\": {\"lost_packets\": %" PRIu64 ", \"delayed_packets\": %" PRIu64
		", \"loss_rate\": %g, \"burst_loss\": %u, \"duplicate_rate\": %g, \"reorder_rate\": %g, "
		"\"reorder_distance\": %u, \"delay_rate\": %g, \"delay_ms\": %g},\n",
		t->lost_packets, t->delayed_packets, o->loss_rate, o->burst_loss, o->duplicate_rate, o->reorder_rate,
		o->reorder_distance, o->delay_rate, o->delay_ms);
	fprintf(f, "  \"expected\": {\n");
	if (o->serving) {
		fprintf(f, "    \"event_records\": %" PRIu64 ",\n    \"end_of_session\": %" PRIu64 ",\n", delivered,
			g->end_of_session);
		fprintf(f, "    \"gap_events_lost\": %" PRIu64 ",\n    \"dead_letter_packets\": %" PRIu64 ",\n",
			g->forgotten_events, g->dead);
	} else {
		fprintf(f, "    \"rx_packets\": %" PRIu64 ",\n    \"accepted_packets\": %" PRIu64 ",\n", g->packets, accepted);
		fprintf(f, "    \"filtered_packets\": %" PRIu64 ",\n    \"dead_letter_packets\": %" PRIu64 ",\n", g->filtered,
			g->dead);
		fprintf(f, "    \"messages\": %" PRIu64 ",\n    \"event_records\": %" PRIu64 ",\n", t->messages, delivered);
		fprintf(f, "    \"heartbeats\": %" PRIu64 ",\n    \"end_of_session\": %" PRIu64 ",\n", g->heartbeats,
			g->end_of_session);
	}
	if (!o->serving && o->lines == 2) {
		/* which copy wins depends on timing; what is persisted, counted and lost does not */
		fprintf(f, "    \"seq_duplicates\": 0,\n    \"seq_arbitrated\": %" PRIu64 ",\n    \"seq_late_fills\": 0,\n",
			t->duplicates);
		fprintf(f, "    \"gap_events_lost\": %" PRIu64 ",\n", t->events_missing - t->late_fills);
	} else if (!o->serving) {
		fprintf(f, "    \"seq_in_order\": %" PRIu64 ",\n    \"seq_ahead\": %" PRIu64 ",\n", t->in_order, t->ahead);
		fprintf(f, "    \"seq_late_fills\": %" PRIu64 ",\n    \"seq_duplicates\": %" PRIu64 ",\n", t->late_fills,
			t->duplicates);
		fprintf(f, "    \"gaps_opened\": %" PRIu64 ",\n    \"gap_events_missing\": %" PRIu64 ",\n", t->gaps_opened,
			t->events_missing);
		fprintf(f, "    \"gap_events_recovered\": %" PRIu64 ",\n    \"gap_events_lost\": %" PRIu64 ",\n", t->late_fills,
			t->events_missing - t->late_fills);
	}
	if (o->n_plants)
		fprintf(f, "    \"rule_drops\": %" PRIu64 ",\n    \"rule_dropped_late_fills\": %" PRIu64 ",\n", rule_dropped,
			o->lines == 2 ? 0 : t->late_fills_dropped);
	fprintf(f, "    \"dead_letter\": {");
	for (unsigned r = 1; r < WEIR_DL_MAX; r++)
		fprintf(f, "%s\"%s\": %" PRIu64, r > 1 ? ", " : "", weir_dead_letter_names[r], g->dead_by_reason[r]);
	fprintf(f, "}\n  },\n  \"framing\": \"%s\",\n  \"topic_events\": {", o->weir_framing ? "weir" : "moldudp64");
	for (unsigned id = 0; id <= o->frame_topics; id++)
		fprintf(f, "%s\"%u\": %" PRIu64, id ? ", " : "", id, g->topic_events[id]);
	fprintf(f, "},\n  \"planted\": {");
	for (unsigned i = 0; i < o->n_plants; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", o->plants[i].text, g->planted[i]);
	fprintf(f, "},\n");
	if (o->lines == 2)
		gen_lines_manifest(g, f);
	fprintf(f, "  \"sessions\": [\n");
	for (unsigned i = 0; i < o->sessions; i++)
		write_session(g, f, i, i + 1 == o->sessions);
	fprintf(f, "  ]\n}\n");
}
