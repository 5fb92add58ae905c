/* libFuzzer: arbitrary bytes after a segment header, read as a log segment
 * (format 2: batches of entries each encoded against the one before).
 * Whatever the bytes, no crash, no read past the file, and every entry the
 * reader gives is a whole record. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "weir_crc32c.h"
#include "weir_log.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("weir-fuzz-log", 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	/* The fuzzer's bytes as batches; its first byte chooses whether each
	 * batch's CRC is made to check, so the decoder behind it is reached. */
	struct weir_log_segment_hdr h = { .magic = WEIR_LOG_MAGIC, .base_offset = 5 };
	uint8_t *file = malloc(sizeof(h) + size + 1);
	memcpy(file, &h, sizeof(h));
	memcpy(file + sizeof(h), data, size);
	size_t len = sizeof(h) + size;
	if (size && (data[0] & 1)) {
		size_t at = sizeof(h);
		while (at + sizeof(struct weir_log_batch) <= len) {
			struct weir_log_batch *b = (struct weir_log_batch *)(file + at);
			if (b->len_bytes < sizeof(*b) || b->len_bytes > len - at)
				break;
			b->crc32c = weir_crc32c((const uint8_t *)b + 8, b->len_bytes - 8);
			at += WEIR_ALIGN8(b->len_bytes);
		}
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, file, len, 0) != (ssize_t)len)
		abort();
	free(file);
	char err[512];
	struct weir_log_segment s;
	if (weir_log_segment_open(&s, path, err, sizeof(err)) != 0)
		return 0;
	const struct weir_log_entry *e;
	uint64_t want = 5;
	while (weir_log_segment_next(&s, &e, err, sizeof(err)) == 1) {
		const struct weir_record *r = weir_log_entry_record(e);
		if (e->offset != want++ || r->len_bytes < sizeof(*r) || 4ull * r->n_rules > r->len_bytes - sizeof(*r))
			abort();
		/* touch every byte: ASan sees a record longer than its buffer */
		volatile uint8_t sum = 0;
		for (uint32_t i = 0; i < r->len_bytes; i++)
			sum += ((const uint8_t *)r)[i];
	}
	weir_log_segment_close(&s);
	return 0;
}
