#include "weir_frame.h"
#include "weir_moldudp64.h"
#include "weir_copy.h"
#include "weir_pipeline.h"

#define MATCH_COLLECT 64

struct match_ctx {
	unsigned n;
	unsigned overflow;
	uint32_t idx[MATCH_COLLECT];
};

/* Hyperscan reports each rule once (single-match): collect its index. */
static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx)
{
	(void)from;
	(void)to;
	(void)flags;
	struct match_ctx *mc = ctx;
	if (mc->n < MATCH_COLLECT)
		mc->idx[mc->n++] = id;
	else
		mc->overflow++;
	return 0;
}

/* Whether the burst scan found a possible match in this event: 1 yes, 0 no,
 * -1 not known (no burst scan, or not an event it saw: scan it alone).  The
 * pipeline meets events in the order the burst scan listed them. */
static inline int
burst_verdict(struct weir_burst_scan *b, const uint8_t *payload)
{
	while (b->cursor < b->n) {
		uint32_t i = b->cursor++;
		if (b->data[i] == payload) /* a place in a frame: one event */
			return b->candidate[i];
	}
	return -1;
}

bool
weir_pipeline_match(struct weir_pipeline *pl, const uint8_t *payload, uint16_t len, uint8_t decoder_type,
		    const uint8_t *source, uint16_t *topic, uint32_t *ids, uint16_t *n_ids)
{
	const struct weir_ruleset *rs = pl->rules;
	*n_ids = 0;
	if (rs == NULL || rs->db == NULL)
		return true;
	const hs_database_t *db = rs->db;
	if (pl->burst.n && burst_verdict(&pl->burst, payload) == 0) {
		/* Only the rules the burst scan cannot speak for are left. */
		db = rs->unscannable_db;
		if (db == NULL) {
			pl->c.rule_scans_skipped++;
			return true;
		}
	}
	struct match_ctx mc;
	mc.n = 0;
	mc.overflow = 0;
	if (hs_scan(db, (const char *)payload, len, 0, pl->scratch, on_match, &mc) != HS_SUCCESS) {
		pl->c.rule_scan_errors++; /* kept, unmatched: never an exit from the packet path */
		return true;
	}
	/* File order, whichever database reported them in whatever order: the
	 * ids a record carries (and the first 8 of more) are the same every time. */
	for (unsigned i = 1; i < mc.n; i++)
		for (unsigned j = i; j > 0 && mc.idx[j - 1] > mc.idx[j]; j--) {
			uint32_t t = mc.idx[j];
			mc.idx[j] = mc.idx[j - 1];
			mc.idx[j - 1] = t;
		}
	bool keep = true;
	int route = -1;
	pl->c.rule_match_overflow += mc.overflow;
	for (unsigned i = 0; i < mc.n; i++) {
		const struct weir_rule *r = &rs->rules[mc.idx[i]];
		if (!weir_rule_in_scope(r, decoder_type, source, *topic))
			continue;
		struct weir_rule_counter *rc = &pl->rule_counters[r->counter_slot];
		rc->matches++;
		pl->c.rule_matches++;
		switch (r->action) {
		case WEIR_RULE_DROP:
			rc->drops++;
			keep = false;
			break;
		case WEIR_RULE_ALERT:
			rc->alerts++;
			pl->c.rule_alerts++;
			break;
		case WEIR_RULE_ROUTE:
			if (route < 0 || r->route_topic < route)
				route = r->route_topic; /* several: the lowest topic wins, the same every time */
			break;
		case WEIR_RULE_TAG:
			break;
		}
		if (*n_ids < WEIR_MAX_MATCHES)
			ids[(*n_ids)++] = r->id;
		else
			pl->c.rule_match_overflow++;
	}
	if (!keep) {
		pl->c.rule_drops++;
		return false;
	}
	if (route >= 0) {
		*topic = (uint16_t)route;
		pl->c.rule_routed++;
	}
	return true;
}

/* A match in the burst stream: the event it ends in may match that rule. */
static int
on_burst_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx)
{
	(void)id;
	(void)from;
	(void)flags;
	struct weir_burst_scan *b = ctx;
	uint32_t i = b->hint;
	/* the first event ending at or after to (matches mostly come in order) */
	if (!(i < b->n && b->end[i] >= to && (i == 0 || b->end[i - 1] < to))) {
		uint32_t lo = 0, hi = b->n - 1;
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;
			if (b->end[mid] >= to)
				hi = mid;
			else
				lo = mid + 1;
		}
		i = lo;
	}
	b->hint = i;
	if (!b->candidate[i]) {
		b->candidate[i] = 1;
		if (++b->n_candidates == b->n)
			return 1; /* every event is one: nothing left to learn */
	}
	return 0;
}

static inline void
burst_add(struct weir_burst_scan *b, const uint8_t *payload, uint16_t len)
{
	uint32_t at = b->n ? b->end[b->n - 1] : 0;
	if (b->n == WEIR_BURST_EVENTS_MAX || len > WEIR_BURST_BYTES - at)
		return; /* the rest are scanned alone */
	uint32_t i = b->n++;
	b->data[i] = payload;
	b->end[i] = at + len;
	b->candidate[i] = 0;
	weir_copy_small(b->bytes + at, payload, len);
}

void
weir_pipeline_scan_parsed(struct weir_pipeline *pl)
{
	struct weir_burst_scan *b = &pl->burst;
	const struct weir_ruleset *rs = pl->rules;
	b->n = b->cursor = b->hint = b->n_candidates = 0;
	if (rs == NULL || rs->burst_db == NULL)
		return;
	/* The events the pipeline will meet, found the way it finds them. */
	for (unsigned p = 0; p < b->n_pkts; p++) {
		const struct weir_burst_packet *bp = &b->pkt[p];
		if (bp->frame == NULL || bp->verdict != WEIR_PARSE_OK)
			continue;
		unsigned di = bp->decoder;
		if (di == 0)
			continue;
		const uint8_t *cursor;
		uint16_t len;
		if (pl->decoders->decoders[di - 1].type == WEIR_DECODER_WEIRFRAME) {
			struct weir_frame f;
			if (weir_frame_decode(bp->v.payload, bp->v.payload_len, pl->decoders->frame_topic_known, &f))
				continue;
			cursor = f.events;
			for (unsigned e = 0; e < f.count; e++) {
				struct weir_frame_event fe;
				weir_frame_next(&cursor, &fe);
				burst_add(b, fe.payload, fe.len);
			}
		} else {
			struct weir_mold_packet m;
			if (weir_mold_decode(bp->v.payload, bp->v.payload_len, &m) || m.count == WEIR_MOLD_HEARTBEAT ||
			    m.count == WEIR_MOLD_END_OF_SESSION)
				continue;
			cursor = m.blocks;
			for (unsigned e = 0; e < m.count; e++) {
				const uint8_t *payload = weir_mold_next(&cursor, &len);
				burst_add(b, payload, len);
			}
		}
	}
	if (b->n == 0)
		return;
	pl->c.rule_burst_scans++;
	hs_error_t rc = hs_scan(rs->burst_db, (const char *)b->bytes, b->end[b->n - 1], 0, pl->scratch, on_burst_match,
				b);
	if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) {
		pl->c.rule_scan_errors++;
		b->n = 0; /* every event scanned alone */
	}
}
