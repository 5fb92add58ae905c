/* A MoldUDP64 packet's events written as records, back to back. */
#ifndef WEIR_MOLD_RECORDS_H
#define WEIR_MOLD_RECORDS_H

#include <stdint.h>
#include <string.h>

#include "weir_copy.h"
#include "weir_moldudp64.h"
#include "weir_record.h"

/*
 * count events of MoldUDP64 message blocks, numbered from first, as records
 * from at, each header a copy of head with its length and number put in:
 * where the next record goes.  (Each header as four 16-byte stores of lines
 * made once, where GCC writes the template field by field, eleven stores,
 * showed no gain that held from one run to the next: perf/README.md.)
 */
static inline __attribute__((always_inline)) uint8_t *
weir_mold_records(const uint8_t *blocks, uint64_t first, uint64_t count, const struct weir_record *head, uint8_t *at)
{
	const struct weir_record h = *head; /* kept in registers: r might alias *head, read again each record */
	for (uint64_t i = 0; i < count; i++) {
		struct weir_record *r = (struct weir_record *)at;
		*r = h;
		uint16_t len;
		const uint8_t *payload = weir_mold_next(&blocks, &len);
		const uint32_t rec_len = (uint32_t)sizeof(*r) + len;
		r->len_bytes = rec_len;
		r->seq = first + i;
		weir_copy_small((uint8_t *)(r + 1), payload, len);
		at += WEIR_ALIGN8(rec_len);
	}
	return at;
}

#endif
