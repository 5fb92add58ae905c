/* A MoldUDP64 packet's events written as records, back to back. */
#ifndef WEIR_MOLD_RECORDS_H
#define WEIR_MOLD_RECORDS_H

#include <emmintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "weir_copy.h"
#include "weir_moldudp64.h"
#include "weir_record.h"

/*
 * count events of MoldUDP64 message blocks, numbered from first, as records
 * from at, each header a copy of head with its length and number put in:
 * where the next record goes.  Each header is four 16-byte stores of lines
 * made once from head's fields (GCC wrote the template field by field,
 * eleven stores a record).  Made from the fields, not loaded whole: a
 * 16-byte load of what narrower stores have just written waits for them (a
 * failed store forward; that made a one-event packet 6% slower).
 */
static inline __attribute__((always_inline)) uint8_t *
weir_mold_records(const uint8_t *blocks, uint64_t first, uint64_t count, const struct weir_record *head, uint8_t *at)
{
	uint64_t key[2];
	memcpy(key, head->source, sizeof(key));
	_Static_assert(offsetof(struct weir_record, port) == 14 && offsetof(struct weir_record, source) == 16 &&
			       offsetof(struct weir_record, seq) == 32 && offsetof(struct weir_record, rx_ns) == 48,
		       "the record header's lines as made below");
	const __m128i h0 = _mm_set_epi16((short)head->port, (short)head->reason, (short)head->n_rules, (short)head->topic,
					 (short)head->flags, (short)head->kind, 0, 0),
		      h1 = _mm_set_epi64x((long long)key[1], (long long)key[0]),
		      h3 = _mm_set_epi64x((long long)head->event_time_ns, (long long)head->rx_ns);
	const long long n = (long long)head->count;
	for (uint64_t i = 0; i < count; i++) {
		uint16_t len;
		const uint8_t *payload = weir_mold_next(&blocks, &len);
		const uint32_t rec_len = (uint32_t)sizeof(struct weir_record) + len;
		__m128i *r = (__m128i *)at;
		_mm_storeu_si128(r, _mm_or_si128(h0, _mm_cvtsi32_si128((int)rec_len)));
		_mm_storeu_si128(r + 1, h1);
		_mm_storeu_si128(r + 2, _mm_set_epi64x(n, (long long)(first + i)));
		_mm_storeu_si128(r + 3, h3);
		weir_copy_small(at + sizeof(struct weir_record), payload, len);
		at += WEIR_ALIGN8(rec_len);
	}
	return at;
}

#endif
