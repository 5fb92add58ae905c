#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "weir_crc32c.h"
#include "weir_log_codec.h"
#include "weir_log_disk.h"

int
weir_log_batch_check(const struct weir_log_batch *b, size_t left, uint64_t expect_offset, size_t at, bool entries,
		     size_t *longest, char *err, size_t errlen)
{
	if (left < sizeof(*b)) {
		snprintf(err, errlen, "torn batch header at byte %zu (%zu bytes left)", at, left);
		return -1;
	}
	if (b->len_bytes < sizeof(*b) + 2 || b->len_bytes > left) {
		snprintf(err, errlen, "batch at byte %zu claims %u bytes, %zu present", at, b->len_bytes, left);
		return -1;
	}
	uint32_t crc = weir_crc32c((const uint8_t *)b + 8, b->len_bytes - 8);
	if (crc != b->crc32c) {
		snprintf(err, errlen, "CRC mismatch at byte %zu (stored %08x, computed %08x)", at, b->crc32c, crc);
		return -1;
	}
	if (b->base_offset != expect_offset) {
		snprintf(err, errlen, "batch at byte %zu starts at offset %" PRIu64 ", expected %" PRIu64, at,
			 b->base_offset, expect_offset);
		return -1;
	}
	if (b->n_entries == 0 || b->zero != 0) {
		snprintf(err, errlen, "batch at byte %zu holds no entries", at);
		return -1;
	}
	if (!entries) { /* the header and rule ids of any of its entries fit this */
		size_t rules = b->len_bytes < UINT16_MAX ? b->len_bytes : UINT16_MAX;
		*longest = sizeof(struct weir_record) + 4 * rules;
		return 0;
	}
	const uint8_t *end = (const uint8_t *)b + b->len_bytes;
	const uint8_t *p = (const uint8_t *)(b + 1);
	struct weir_log_codec c;
	weir_log_codec_reset(&c, b->base_ring_pos);
	size_t most = 0;
	for (uint32_t i = 0; i < b->n_entries; i++) {
		uint64_t pos;
		const char *why = weir_log_entry_decode(&c, &c.prev, &p, end, &pos, NULL);
		if (why) {
			snprintf(err, errlen, "batch at byte %zu, entry %u of %u: %s", at, i + 1, b->n_entries, why);
			return -1;
		}
		if (c.prev.len_bytes > most)
			most = c.prev.len_bytes;
	}
	if (p != end) {
		snprintf(err, errlen, "batch at byte %zu: %zu bytes after its last entry", at, (size_t)(end - p));
		return -1;
	}
	*longest = most;
	return 0;
}

size_t
weir_log_batch_resync(const uint8_t *data, size_t size, size_t pos, uint64_t expect)
{
	char why[256];
	size_t longest;
	for (size_t q = (pos + 8) & ~(size_t)7; q + sizeof(struct weir_log_batch) <= size; q += 8) {
		const struct weir_log_batch *c = (const void *)(data + q);
		if (c->base_offset >= expect &&
		    weir_log_batch_check(c, size - q, c->base_offset, q, true, &longest, why, sizeof(why)) == 0)
			return q;
	}
	return size;
}
