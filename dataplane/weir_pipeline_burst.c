/*
 * A burst through the pipeline stage by stage (weir_pipeline_burst): each
 * stage over the whole burst before the next, the way VPP and DPDK's l3fwd
 * go, so that one stage's loads are in flight while the last packets of
 * the one before are still worked on, and the tracker's slots are fetched
 * a whole stage before they are used.  The stages before tracking decide
 * nothing and write nothing but the burst's own arrays: everything a
 * packet changes (its source, the ring, the counters) is changed in packet
 * order, by the same code weir_pipeline_packet() runs.
 */
#include <string.h>

#include "weir_bytes.h"
#include "weir_disposition.h"
#include "weir_frame.h"
#include "weir_moldudp64.h"
#include "weir_pipeline.h"
#include "weir_pipeline_pvt.h"

#define DATA_AHEAD 4 /* the parse fetches the packet this many ahead */

void
weir_pipeline_parse(const struct weir_pipeline *pl, const uint8_t *frame, uint32_t len, enum weir_csum ip_csum,
		    enum weir_csum l4_csum, struct weir_burst_packet *bp)
{
	/* On a feed with lines the UDP checksum waits: a second copy is not kept. */
	enum weir_csum l4 = weir_pipeline_l4_csum(pl, l4_csum);
	unsigned reason = 0;
	bp->owe_csum = pl->decoders->n_lines && l4 == WEIR_CSUM_UNKNOWN;
	bp->verdict = (uint8_t)weir_parse_udp(frame, len, ip_csum, bp->owe_csum ? WEIR_CSUM_GOOD : l4, &bp->v, &reason);
	bp->reason = (uint8_t)reason;
	bp->frame = frame;
	/* Looked up here, where nothing waits on it: the tracking loop's packet
	 * then starts from its decoder, not from three loads in a row. */
	bp->decoder = bp->verdict == WEIR_PARSE_OK ? pl->decoders->by_port[bp->v.dst_port] : 0;
}

/* The first stage: each packet's feed line route, looked up once for the
 * short way here and in the packet's turn.  Not parsed here (frame NULL;
 * the packet's own turn parses it if it must): one of many segments, and
 * one the feed line's short way will likely find to be a whole second copy
 * (its line's last packet was one: a guess, read before the burst's
 * packets change it), which is then never parsed at all.  (Parsing every
 * line packet here, or none, measured the same in BM_pipeline_ab_burst;
 * skipping all the short way's candidates cost a first copy 5%.) */
static void
parse_all(struct weir_pipeline *pl, const uint8_t *const *frames, const uint32_t *lens, const uint8_t *multi_segment,
	  const enum weir_csum *ip_csum, const enum weir_csum *l4_csum, unsigned n, uint16_t port)
{
	struct weir_burst_scan *b = &pl->burst;
	const bool routes = pl->decoders->n_fast != 0;
	/* With rules, the scan wants every packet's events. */
	const bool short_way = routes && !(pl->rules && pl->rules->burst_db);
	for (unsigned i = 0; i < n && i < DATA_AHEAD; i++)
		__builtin_prefetch(frames[i]); /* of NULL: nothing, no fault */
	for (unsigned i = 0; i < n; i++) {
		if (i + DATA_AHEAD < n)
			__builtin_prefetch(frames[i + DATA_AHEAD]);
		struct weir_burst_packet *bp = &b->pkt[i];
		bp->frame = NULL;
		bp->route = -1;
		if (frames[i] == NULL || (multi_segment && multi_segment[i]))
			continue;
		if (routes)
			bp->route = (int8_t)weir_line_fast_route(pl, frames[i], lens[i], port);
		if (short_way && bp->route >= 0 && pl->fast_hint[pl->decoders->fast[bp->route].line])
			continue;
		weir_pipeline_parse(pl, frames[i], lens[i], ip_csum[i], l4_csum[i], bp);
	}
	b->n_pkts = n;
}

/* The tracker slot of a parsed packet's source, fetched ahead of its use;
 * a packet whose source this cannot tell costs nothing but the look. */
static inline void
prefetch_source(const struct weir_pipeline *pl, const struct weir_burst_packet *bp)
{
	if (bp->frame == NULL || bp->verdict != WEIR_PARSE_OK)
		return;
	const struct weir_udp_view *v = &bp->v;
	unsigned di = bp->decoder;
	if (di == 0)
		return;
	const bool v4_sender = pl->key_by_sender && v->ip_version == 4;
	uint8_t key[WEIR_SOURCE_BYTES];
	if (pl->decoders->decoders[di - 1].type == WEIR_DECODER_MOLDUDP64) {
		if (v->payload_len < WEIR_MOLD_HEADER_BYTES)
			return;
		weir_mold_source_key(key, v->payload, v4_sender ? v->src_addr : NULL, v->src_port);
	} else {
		if (v->payload_len < WEIR_FRAME_HEADER_BYTES)
			return;
		weir_frame_source_key(key, weir_be64(v->payload + 8));
		if (v4_sender)
			memcpy(key + 3, v->src_addr, 4);
	}
	weir_seq_prefetch(&pl->seq, key, pl->decoders->n_lines != 0);
}

void
weir_pipeline_burst_scan(struct weir_pipeline *pl, const uint8_t *const *frames, const uint32_t *lens,
			 const enum weir_csum *ip_csum, const enum weir_csum *l4_csum, unsigned n)
{
	if (n > WEIR_BURST_PACKETS_MAX)
		n = WEIR_BURST_PACKETS_MAX;
	parse_all(pl, frames, lens, NULL, ip_csum, l4_csum, n, 0);
	weir_pipeline_scan_parsed(pl);
}

void
weir_pipeline_burst(struct weir_pipeline *pl, const struct weir_burst_in *in, unsigned n, uint16_t port,
		    uint64_t now_ns)
{
	uint8_t disp[WEIR_BURST_PACKETS_MAX]; /* enum weir_disposition of each packet */
	if (n > WEIR_BURST_PACKETS_MAX)
		n = WEIR_BURST_PACKETS_MAX;
	parse_all(pl, in->frame, in->len, in->multi_segment, in->ip_csum, in->l4_csum, n, port);
	weir_pipeline_scan_parsed(pl);
	/* A stage ahead: 2, 4, 8 packets ahead inside the loop measured the same
	 * (perf/README.md, a million sources). */
	if (weir_pipeline_prefetch_worth(pl))
		for (unsigned i = 0; i < n; i++)
			prefetch_source(pl, &pl->burst.pkt[i]);
	weir_pipeline_track_burst(pl, in, n, port, now_ns, disp);
	weir_pipeline_note_stop_refusal(pl, disp, n);
	weir_dispositions_count(&pl->c, disp, n); /* every packet of the burst, once */
	weir_pipeline_burst_done(pl);
}
