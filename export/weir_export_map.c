#include <stdio.h>
#include <string.h>

#include "weir_dead_letter.h"
#include "weir_export_map.h"
#include "weir_number.h"

static char *
header(struct weir_export_record *o, const char *name)
{
	o->headers[o->n_headers].name = name;
	return o->headers[o->n_headers++].value;
}

/* A header of a whole number: written without printf (it was a tenth of
 * weir-export's CPU in a profile, four a record). */
static void
number(struct weir_export_record *o, const char *name, uint64_t v)
{
	unsigned i = o->n_headers;
	o->headers[i].value_len = weir_format_u64(header(o, name), v);
}

/* A header of text: its length measured once, here. */
static char *
text(struct weir_export_record *o, const char *name, const char *value)
{
	unsigned i = o->n_headers;
	size_t n = strlen(value);
	n = n < sizeof(o->headers[i].value) ? n : sizeof(o->headers[i].value) - 1;
	char *v = header(o, name);
	memcpy(v, value, n);
	v[n] = 0;
	o->headers[i].value_len = (unsigned)n;
	return v;
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
	text(o, "weir.kind", weir_record_kind_name(r->kind));
	number(o, "weir.seq", r->seq);
	char flags[96] = "", rules[96] = "";
	if (r->flags) /* most records have none */
		weir_record_flags_format(r->flags, flags, sizeof(flags));
	text(o, "weir.flags", flags);
	size_t at = 0;
	const uint32_t *ids = weir_record_rules(r);
	for (unsigned i = 0; i < r->n_rules && at < 80; i++)
		at += (size_t)snprintf(rules + at, sizeof(rules) - at, "%s%u", i ? "," : "", ids[i]);
	text(o, "weir.rules", rules);
	number(o, "weir.rx_ns", r->rx_ns);
	number(o, "weir.offset", it->entry->offset); /* once in Kafka, checkably */
	if (r->kind == WEIR_REC_DEAD_LETTER) {
		/* no source: keyed by where it came in, so dead letters spread over
		 * the partitions and each worker's stay in its order */
		o->key_len = (unsigned)snprintf(o->key, sizeof(o->key), "dl:port%u:worker%u", r->port,
						(unsigned)it->entry->worker);
		text(o, "weir.dead_letter.reason", r->reason < WEIR_DL_MAX ? weir_dead_letter_names[r->reason] : "unknown");
		number(o, "weir.dead_letter.length", r->count);
		number(o, "weir.port", r->port);
	}
	if (r->kind == WEIR_REC_LOSS) {
		number(o, "weir.loss.first", r->seq);
		number(o, "weir.loss.last", r->seq + (r->count ? r->count - 1 : 0));
	}
}

void
weir_export_map_hole(uint64_t first, uint64_t last, const char *cause, int64_t now_ms, struct weir_export_record *o)
{
	o->key_len = 0; /* no source: it may have held any */
	o->key[0] = 0;
	o->value = NULL;
	o->value_len = 0;
	o->timestamp_ms = now_ms;
	o->n_headers = 0;
	text(o, "weir.kind", "log_hole");
	number(o, "weir.hole.first", first);
	number(o, "weir.hole.last", last);
	text(o, "weir.hole.cause", cause);
}
