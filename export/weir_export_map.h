/*
 * A log entry as a Kafka record (docs/formats.md, "Kafka export"):
 *   key        the source, as weir prints it ("ABC1234567", "wf:42")
 *   value      the payload
 *   timestamp  event time where the framing carries one, else rx time (ms)
 *   headers    weir.seq, weir.flags, weir.rules, weir.rx_ns, weir.kind; a
 *              LOSS record also weir.loss.first and weir.loss.last (inclusive)
 * and a hole in the log one of its own (weir_export_map_hole).
 * Pure: the producer adds the result to librdkafka's message.
 */
#ifndef WEIR_EXPORT_MAP_H
#define WEIR_EXPORT_MAP_H

#include <stdint.h>

#include "weir_log_reader.h"

#define WEIR_EXPORT_MAX_HEADERS 12

struct weir_export_record {
	char key[48];
	unsigned key_len;
	const uint8_t *value;        /* the payload, in the reader's view */
	uint32_t value_len;
	int64_t timestamp_ms;
	unsigned n_headers;
	struct {
		const char *name;
		char value[96];
		unsigned value_len;  /* handed to librdkafka: it measures nothing */
	} headers[WEIR_EXPORT_MAX_HEADERS];
};

void weir_export_map(const struct weir_log_item *it, struct weir_export_record *out);

/*
 * Log offsets first to last (inclusive) that will never reach Kafka: a
 * hole weir-read --salvage stated lost (cause "damaged") or what hard
 * retention deleted unshipped ("retention").  A record with no key and no
 * value, headers weir.kind "log_hole", weir.hole.first, weir.hole.last and
 * weir.hole.cause; the producer puts one in every partition, since the
 * offsets may have held any source's records.
 */
#define WEIR_EXPORT_HOLE_DAMAGED "damaged"
#define WEIR_EXPORT_HOLE_RETENTION "retention"
void weir_export_map_hole(uint64_t first, uint64_t last, const char *cause, int64_t now_ms,
			  struct weir_export_record *out);

#endif
