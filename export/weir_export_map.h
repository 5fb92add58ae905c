/*
 * A log entry as a Kafka record (docs/formats.md, "Kafka export"):
 *   key        the source, as weir prints it ("ABC1234567", "wf:42")
 *   value      the payload
 *   timestamp  event time where the framing carries one, else rx time (ms)
 *   headers    weir.seq, weir.flags, weir.rules, weir.rx_ns, weir.kind; a
 *              LOSS record also weir.loss.first and weir.loss.last (inclusive)
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

#endif
