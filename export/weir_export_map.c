#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "weir_dead_letter.h"
#include "weir_export_map.h"

static char *
header(struct weir_export_record *o, const char *name)
{
	o->headers[o->n_headers].name = name;
	return o->headers[o->n_headers++].value;
}

void
weir_export_map(const struct weir_log_item *it, struct weir_export_record *o)
{
	const struct weir_record *r = it->record;
	weir_source_format(r->source, o->key, sizeof(o->key));
	o->key_len = (unsigned)strlen(o->key);
	o->value = it->payload;
	o->value_len = it->payload_len;
	o->timestamp_ms = (int64_t)((r->event_time_ns ? r->event_time_ns : r->rx_ns) / 1000000u);
	o->n_headers = 0;
	snprintf(header(o, "weir.kind"), 96, "%s", weir_record_kind_name(r->kind));
	snprintf(header(o, "weir.seq"), 96, "%" PRIu64, r->seq);
	weir_record_flags_format(r->flags, header(o, "weir.flags"), 96);
	char *rules = header(o, "weir.rules");
	size_t at = 0;
	rules[0] = 0;
	const uint32_t *ids = weir_record_rules(r);
	for (unsigned i = 0; i < r->n_rules && at < 80; i++)
		at += (size_t)snprintf(rules + at, 96 - at, "%s%u", i ? "," : "", ids[i]);
	snprintf(header(o, "weir.rx_ns"), 96, "%" PRIu64, r->rx_ns);
	snprintf(header(o, "weir.offset"), 96, "%" PRIu64, it->entry->offset); /* once in Kafka, checkably */
	if (r->kind == WEIR_REC_DEAD_LETTER) {
		/* no source: keyed by where it came in, so dead letters spread over
		 * the partitions and each worker's stay in its order */
		o->key_len = (unsigned)snprintf(o->key, sizeof(o->key), "dl:port%u:worker%u", r->port,
						(unsigned)it->entry->worker);
		snprintf(header(o, "weir.dead_letter.reason"), 96, "%s",
			 r->reason < WEIR_DL_MAX ? weir_dead_letter_names[r->reason] : "unknown");
		snprintf(header(o, "weir.dead_letter.length"), 96, "%" PRIu64, (uint64_t)r->count);
		snprintf(header(o, "weir.port"), 96, "%u", r->port);
	}
	if (r->kind == WEIR_REC_LOSS) {
		snprintf(header(o, "weir.loss.first"), 96, "%" PRIu64, r->seq);
		snprintf(header(o, "weir.loss.last"), 96, "%" PRIu64, r->seq + (r->count ? r->count - 1 : 0));
	}
}
