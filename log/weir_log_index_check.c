#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir_crc32c.h"
#include "weir_log_index.h"

/* Past this many batches after the index's last entry the file is not one
 * this index was written for (entries come every WEIR_LOG_INDEX_INTERVAL). */
#define TAIL_BATCHES_MAX 4096u

/* The index file's header and last entry, each checked by its CRC. */
static int
read_ends(int ixfd, const struct weir_log_index *ix, struct weir_log_index_hdr *h, struct weir_log_index_entry *last,
	  char *why, size_t whylen)
{
	if (pread(ixfd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h) || h->magic != WEIR_LOG_INDEX_MAGIC ||
	    h->crc32c != weir_crc32c(h, offsetof(struct weir_log_index_hdr, crc32c))) {
		snprintf(why, whylen, "header torn or bad");
		return -1;
	}
	if (!weir_log_index_version_ok(h, why, whylen)) /* its head alone is trusted no more than its entries */
		return -1;
	if (ix->n_entries_on_file == 0)
		return 0;
	off_t at = (off_t)(sizeof(*h) + (ix->n_entries_on_file - 1) * sizeof(*last));
	if (pread(ixfd, last, sizeof(*last), at) != (ssize_t)sizeof(*last) ||
	    last->crc32c != weir_crc32c(last, offsetof(struct weir_log_index_entry, crc32c))) {
		snprintf(why, whylen, "its last entry fails its CRC");
		return -1;
	}
	return 1;
}

/* Walks the segment's batch headers from pos (whose first offset must be
 * offset) to its end: the offset one past its last entry, or UINT64_MAX. */
static uint64_t
walk_tail(int fd, uint64_t pos, uint64_t offset, uint64_t size)
{
	for (unsigned n = 0; pos < size; n++) {
		struct weir_log_batch b;
		if (n == TAIL_BATCHES_MAX || pread(fd, &b, sizeof(b), (off_t)pos) != (ssize_t)sizeof(b) ||
		    b.base_offset != offset || b.n_entries == 0 || b.len_bytes < sizeof(b))
			return UINT64_MAX;
		offset += b.n_entries;
		pos += ((uint64_t)b.len_bytes + 7) & ~7ull;
	}
	return pos == size ? offset : UINT64_MAX;
}

int
weir_log_index_check_segment(const char *dir, uint64_t base, int ixfd, const struct weir_log_index *ix, char *why,
			     size_t whylen)
{
	struct weir_log_index_hdr h;
	struct weir_log_index_entry last = { .offset = base, .pos = sizeof(struct weir_log_segment_hdr) };
	if (read_ends(ixfd, ix, &h, &last, why, whylen) < 0)
		return -1;
	char path[PATH_MAX + 32];
	weir_log_segment_path(dir, base, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	struct weir_log_segment_hdr sh;
	if (fd < 0 || fstat(fd, &st) != 0 || pread(fd, &sh, sizeof(sh), 0) != (ssize_t)sizeof(sh)) {
		snprintf(why, whylen, "its segment cannot be read");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	uint64_t end = (uint64_t)st.st_size == ix->segment_bytes ? walk_tail(fd, last.pos, last.offset, ix->segment_bytes)
								  : UINT64_MAX;
	close(fd);
	if (h.base_offset != base || sh.base_offset != base || end != ix->next_offset) {
		snprintf(why, whylen,
			 "belongs to another segment: it says base %" PRIu64 ", %" PRIu64 " bytes ending at offset %" PRIu64
			 ", and %s does not match (%" PRIu64 " bytes)",
			 h.base_offset, ix->segment_bytes, ix->next_offset, path, (uint64_t)st.st_size);
		return -1;
	}
	return 1;
}
