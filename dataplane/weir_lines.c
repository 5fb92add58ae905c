/* A and B lines of a feed: which line a packet came on, the second copy's
 * short way through, and how far one line runs behind the other.  The
 * arbitration itself is the sequence tracker's (weir_seq.c). */
#include <string.h>

#include "weir_allow.h"
#include "weir_csum.h"
#include "weir_headers.h"
#include "weir_moldudp64.h"
#include "weir_pipeline_pvt.h"

void
weir_lines_table_build(struct weir_decoder_table *t, const struct weir_config *cfg)
{
	for (unsigned i = 0; i < cfg->n_feed_groups; i++) {
		const struct weir_feed_group *g = &cfg->feed_groups[i];
		const struct weir_feed_cfg *f = &cfg->feeds[g->feed_id];
		unsigned line = g->ab == WEIR_FEED_NO_LINE ? WEIR_FEED_NO_LINE : g->feed_id * 2u + g->ab;
		struct weir_feed_route *r = &t->groups[t->n_groups++];
		*r = (struct weir_feed_route){ .group = g->group, .port = g->port, .udp_port = g->udp_port,
					       .line = (uint8_t)line, .family = g->family, .source = g->source,
					       .feed = g->feed_id };
		memcpy(r->group6, g->group6, 16);
		memcpy(r->source6, g->source6, 16);
		if (t->by_port[g->udp_port])
			t->has_groups[t->by_port[g->udp_port] - 1] = 1;
		unsigned di = t->by_port[g->udp_port];
		if (line != WEIR_FEED_NO_LINE && g->family != 6 && di && t->decoders[di - 1].type == WEIR_DECODER_MOLDUDP64)
			t->fast[t->n_fast++] = (struct weir_fast_route){ g->group, g->source, rte_cpu_to_be_16(g->udp_port),
									 g->port, (uint8_t)line };
		if (line != WEIR_FEED_NO_LINE) {
			t->lines[line] = (struct weir_seq_line){ .ab = g->ab, .id = (uint8_t)line, .window_events = f->window_events,
								 .window_ns = f->window_ns };
			if (line + 1 > t->n_lines)
				t->n_lines = line + 1;
		}
	}
}

/* Times how far one line runs behind the other: a packet the line won
 * waits for its copy on the other line (one at a time per feed). */
void
weir_line_probe(struct weir_pipeline *pl, unsigned line, uint32_t si, uint64_t first, unsigned count, unsigned won,
	   unsigned arbitrated, uint64_t now_ns)
{
	struct weir_line_probe *p = &pl->probe[line / 2];
	uint8_t ab = (uint8_t)(line & 1);
	if (p->armed && (now_ns - p->rx_ns > 1000000000ull || (p->src == si && p->ab != ab && first > p->seq)))
		p->armed = 0; /* the other line never brought it */
	if (p->armed && p->src == si && p->ab != ab && arbitrated == count && p->seq - first < count) {
		weir_hist_add(&pl->lines[line].behind, now_ns - p->rx_ns, 1);
		p->armed = 0;
	} else if (!p->armed && won == count && count && (++p->skipped & 63) == 0) {
		/* one packet in 64 sampled: the histogram is the expensive part */
		p->seq = first;
		p->rx_ns = now_ns;
		p->src = si;
		p->ab = ab;
		p->armed = 1;
	}
}

void
weir_line_late(struct weir_line_counters *lc, const struct weir_seq_source *src, const struct weir_seq_line *ln,
	       uint64_t seq)
{
	lc->late++;
	uint64_t other = weir_seq_line_next(src, ln->ab ^ 1u);
	lc->late_behind = (int64_t)(other - seq) > 0 ? other - seq : 0;
}

/* The UDP checksum the parse left to be checked (pl->csum_view): true
 * when it checks. */
bool
weir_pipeline_deferred_csum_ok(struct weir_pipeline *pl)
{
	const struct weir_udp_view *v = pl->csum_view;
	pl->csum_view = NULL;
	const uint8_t *udp = v->payload - 8;
	if (v->ip_version == 4 && udp[6] == 0 && udp[7] == 0)
		return true; /* sent without one */
	/* src_addr is 12 bytes into an IPv4 header, 8 into an IPv6 one */
	const uint8_t *ip = v->src_addr - (v->ip_version == 4 ? 12 : 8);
	return weir_udp_csum_ok(ip, v->ip_version, udp, (uint16_t)(v->payload_len + 8));
}

/* A whole second copy of a feed line's packet: counted, nothing kept, so
 * neither its checksum checked nor a source made for it; false when the
 * packet is anything else. */
bool
weir_line_second_copy(struct weir_pipeline *pl, struct weir_seq_source *src, uint64_t first, unsigned count,
		      unsigned line, uint64_t now_ns)
{
	if (!weir_seq_arbitrated_run(&pl->seq, src, first, count, &pl->decoders->lines[line]))
		return false;
	struct weir_line_counters *lc = &pl->lines[line];
	weir_line_heard(lc, now_ns);
	lc->packets++;
	lc->events += count;
	lc->arbitrated += count;
	pl->c.messages += count;
	weir_line_probe(pl, line, weir_seq_index(&pl->seq, src), first, count, 0, count, now_ns);
	return true;
}

/*
 * The B copy's usual shape, from fixed offsets alone: Ethernet, IPv4 with
 * no options and no fragment, UDP with lengths that agree, a MoldUDP64
 * data packet of a feed line.  A whole second copy is counted here, before
 * the parse: neither checksum checked nor its blocks walked, since nothing
 * of it is kept (a damaged second copy counts as arbitrated, not as a dead
 * letter).  False: the full path takes the packet, as ever.
 */
bool
weir_line_second_copy_fast(struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, unsigned line,
			   uint64_t now_ns)
{
	enum { IP = 14, UDP = 34, MOLD = 42 };
	if ((frame[IP + 6] & 0x3f) != 0 || frame[IP + 7] != 0)
		return false; /* a fragment */
	uint16_t total = weir_be16(frame + IP + 2), ulen = weir_be16(frame + UDP + 4);
	if (IP + (uint32_t)total > len || ulen != total - 20 || ulen < 8 + WEIR_MOLD_HEADER_BYTES)
		return false;
	uint16_t count = weir_be16(frame + MOLD + 18);
	if (count == WEIR_MOLD_HEARTBEAT || count == WEIR_MOLD_END_OF_SESSION)
		return false;
	uint8_t key[WEIR_SOURCE_BYTES];
	weir_mold_source_key(key, frame + MOLD, NULL, 0); /* lines never key by sender (config) */
	const struct weir_allow *al = pl->decoders->allow[pl->decoders->by_port[weir_be16(frame + UDP + 2)] - 1];
	if (al && ((al->by_address && !weir_allow_address(al, 4, frame + IP + 12)) ||
		   (al->sources && !weir_allow_source(al, key))))
		return false; /* the full path counts it */
	/* A feed has few sources: the line's last one is most often this one. */
	struct weir_seq_source *src = pl->fast_src[line];
	if (src == NULL || !weir_source_key_eq(src->key, key))
		src = pl->fast_src[line] = weir_seq_find(&pl->seq, key);
	pl->fast_hint[line] = weir_line_second_copy(pl, src, weir_be64(frame + MOLD + 10), count, line, now_ns);
	return pl->fast_hint[line];
}
