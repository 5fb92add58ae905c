/* The pipeline made ready: its decoder table, its tracker with the actions
 * it calls back (a LOSS record, a re-request), its reorder window and rules.
 * Once per worker, at start; the packets' path is weir_pipeline.c. */
#include <string.h>

#include "weir_bytes.h"
#include "weir_moldudp64.h"
#include "weir_pipeline.h"
#include "weir_pipeline_pvt.h"

void
weir_decoder_table_build(struct weir_decoder_table *t, const struct weir_config *cfg)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < cfg->n_decoders; i++) {
		t->decoders[i] = cfg->decoders[i];
		t->by_port[cfg->decoders[i].udp_port] = (uint8_t)(i + 1);
	}
	for (unsigned id = 1; id < 256; id++)
		if (cfg->frame_topics[id]) {
			t->frame_topic_known[id] = 1;
			t->frame_topic[id] = (uint16_t)(cfg->frame_topics[id] - 1);
		}
	weir_lines_table_build(t, cfg);
}

void
weir_pipeline_on_loss(void *ctx, const struct weir_seq_source *src, uint64_t first, uint64_t count, uint64_t now_ns)
{
	struct weir_pipeline *pl = ctx;
	/* What the window held below the gap goes first, so the source stays in
	 * order in the log when several of its gaps are lost at once (a stop, a
	 * tick): no LOSS record above an event written after it or, when a stop
	 * finds no room, never written (explorer seed 1148786317). */
	if (pl->ro.max_events && weir_reorder_holding(&pl->ro, weir_seq_index(&pl->seq, src)))
		weir_reorder_release(pl, src, false, now_ns);
	/* Once a stop refused room, nothing more: a small record may still fit
	 * where an event did not. */
	struct weir_record *r = pl->refusing_at_stop ? NULL : weir_pipeline_reserve(pl, sizeof(*r), now_ns);
	if (r == NULL) {
		pl->c.loss_records_not_kept++;
		return;
	}
	weir_pipeline_fill_header(r, WEIR_REC_LOSS, src->origin.topic, src->origin.port, now_ns);
	memcpy(r->source, src->key, WEIR_SOURCE_BYTES);
	r->seq = first;
	r->count = count;
	pl->c.loss_records++;
	weir_reorder_note_lost(pl, src);
}

static bool
on_request(void *ctx, const struct weir_seq_source *src, uint64_t first, uint64_t count)
{
	struct weir_pipeline *pl = ctx;
	/* A re-request is a bare header: the session exactly as it came, the
	 * first sequence wanted and how many. */
	uint8_t req[WEIR_MOLD_HEADER_BYTES];
	memcpy(req, src->key, WEIR_MOLD_SESSION_BYTES);
	weir_put_be64(req + 10, first);
	weir_put_be16(req + 18, (uint16_t)count);
	const struct weir_port_peer *peer = &pl->peers[src->origin.port % WEIR_MAX_PORTS];
	const struct weir_decoder_cfg *d = &pl->decoders->decoders[src->origin.decoder];
	if (!(d->rerequest_family == 6 ? peer->known6 : peer->known))
		return false; /* no feed packet of that family showed us our address yet */
	return pl->rerequest.send(pl->rerequest.ctx, src, d, peer, req, sizeof(req));
}

static uint64_t
seq_bytes(const struct weir_config *cfg)
{
	return (weir_seq_memsize(&cfg->seq) + 63) & ~63ull;
}

uint64_t
weir_pipeline_memsize(const struct weir_config *cfg)
{
	return seq_bytes(cfg) + (cfg->seq.reorder_events ? weir_reorder_memsize(cfg->seq.reorder_slots,
									 weir_seq_capacity(cfg->seq.max_sources)) : 0);
}

int
weir_pipeline_init(struct weir_pipeline *pl, const struct weir_config *cfg, unsigned worker, struct weir_ring *ring,
		   void *seq_region, const struct weir_decoder_table *decoders,
		   const struct weir_rerequest_sink *rerequest, const volatile bool *quit)
{
	memset(pl, 0, sizeof(*pl));
	weir_ring_producer_attach(&pl->ring, ring);
	pl->decoders = decoders;
	pl->dead_letter_keep_bytes = cfg->dead_letter_keep_bytes;
	pl->full_policy = cfg->full_policy;
	pl->stop_wait_ns = cfg->drain_timeout_ns;
	pl->key_by_sender = cfg->seq.key_by_sender;
	pl->udp_checksum_trust = cfg->udp_checksum_trust;
	pl->worker = worker;
	pl->quit = quit;
	if (rerequest)
		pl->rerequest = *rerequest;
	for (unsigned p = 0; p < WEIR_MAX_PORTS; p++)
		if (cfg->port_addr[p]) {
			memcpy(pl->peers[p].local_ip, &cfg->port_addr[p], 4);
			pl->peers[p].addr_set = 1;
		}
	if (cfg->seq.reorder_events)
		weir_reorder_init(&pl->ro, (uint8_t *)seq_region + seq_bytes(cfg), cfg->seq.reorder_slots,
				  weir_seq_capacity(cfg->seq.max_sources), cfg->seq.reorder_events, cfg->seq.reorder_ns);
	struct weir_seq_actions act = { .ctx = pl, .loss = weir_pipeline_on_loss, .request = rerequest ? on_request : NULL };
	if (weir_seq_create(&pl->seq, &cfg->seq, &act, &pl->c, worker, seq_region) != 0)
		return -1;
	pl->seq.lines = pl->lines; /* where a line passed numbers over, counted as the tracker sees it */
	return 0;
}

void
weir_pipeline_use_rules(struct weir_pipeline *pl, struct weir_ruleset *const *current,
			struct weir_rule_counter *counters)
{
	pl->rules_current = current;
	pl->rule_counters = counters;
	weir_pipeline_sync_rules(pl);
}
