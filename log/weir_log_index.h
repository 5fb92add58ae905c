/*
 * A segment's sparse index, DIR/%020llu.index beside its .log, as Kafka
 * keeps .index and .timeindex (here in one file):
 *   - an entry at a batch start every WEIR_LOG_INDEX_INTERVAL bytes: its
 *     offset and byte position, and the highest rx and event times of every
 *     entry before it in the segment (so a time seek may start scanning at
 *     the last entry whose highest time is below the one sought: nothing
 *     before it can match, as Kafka's time index does);
 *   - once the segment is sealed (rolled), per source and per 1 MiB block
 *     of the segment, the highest sequence number the source has there, for
 *     (source, seq) seeks; then a footer with a CRC32C over the whole file.
 * Written by the writer as it appends, a hint only: every position is
 * checked against the segment's own batches, and an index that is missing
 * or fails its CRCs is rebuilt from the segment (the reader in memory,
 * weir-control on file when it opens the topic).
 */
#ifndef WEIR_LOG_INDEX_H
#define WEIR_LOG_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_log.h"
#include "weir_source_map.h"

#define WEIR_LOG_INDEX_MAGIC 0x3158444952494557ull        /* "WEIRIDX1" */
#define WEIR_LOG_INDEX_FOOTER_MAGIC 0x5358444952494557ull /* "WEIRIDXS": sealed */
/* 2: version 1's source rows kept the number of a source's last record in a
 * block, not its highest, when its numbers went back (a late fill, a
 * restart): a seek skipped what they understated.  Other versions are not
 * read: readers build from the segment, weir-control rewrites them. */
#define WEIR_LOG_INDEX_VERSION 2u
#define WEIR_LOG_INDEX_INTERVAL 4096u                    /* bytes of segment per entry, at least */
#define WEIR_LOG_INDEX_SOURCE_BLOCK (1u << 20)           /* bytes of segment per source row */
#define WEIR_LOG_INDEX_SOURCE_ROWS_MAX (1u << 20)        /* past this, a segment's sources are scanned */

struct weir_log_index_hdr {
	uint64_t magic;
	uint64_t base_offset;
	uint32_t version;
	uint32_t interval;
	uint32_t source_block;
	uint32_t crc32c;             /* over the bytes before it */
};
_Static_assert(sizeof(struct weir_log_index_hdr) == 32, "index header");

struct weir_log_index_entry {
	uint64_t offset;             /* of the batch's first entry */
	uint64_t pos;                /* the batch's first byte in the segment */
	uint64_t max_rx_before;      /* highest rx_ns of the segment's entries before it (0: none) */
	uint64_t max_event_before;   /* highest event_time_ns likewise */
	uint32_t zero;
	uint32_t crc32c;             /* over the bytes before it */
};
_Static_assert(sizeof(struct weir_log_index_entry) == 40, "index entry");

/* Sealed only, sorted by source then entry. */
struct weir_log_index_source {
	uint8_t source[WEIR_SOURCE_BYTES];
	uint32_t entry;              /* the index entry its block starts at */
	uint32_t zero;
	uint64_t max_seq;            /* the source's highest seq in the block */
};
_Static_assert(sizeof(struct weir_log_index_source) == 32, "index source row");

/* Sealed only, one per source, sorted: what a seek reads before the rest. */
struct weir_log_index_summary {
	uint8_t source[WEIR_SOURCE_BYTES];
	uint64_t max_seq;            /* over the segment */
	uint32_t first_row;          /* its rows: [first_row, first_row + n_rows) */
	uint32_t n_rows;
};
_Static_assert(sizeof(struct weir_log_index_summary) == 32, "index source summary");

#define WEIR_LOG_INDEX_SOURCES_PARTIAL 1u /* too many rows: the source rows are left out */

/* Sealed: header, entries, source rows, summaries, footer. */
struct weir_log_index_footer {
	uint64_t magic;
	uint64_t n_entries;
	uint64_t n_rows;
	uint64_t n_summary;
	uint64_t next_offset;        /* one past the segment's last entry */
	uint64_t segment_bytes;
	uint64_t max_rx;             /* over the whole segment */
	uint64_t max_event;
	uint32_t flags;
	uint32_t summary_crc;        /* over the summaries */
	uint32_t footer_crc;         /* over the footer's bytes before it */
	uint32_t file_crc;           /* over the whole file before it */
};
_Static_assert(sizeof(struct weir_log_index_footer) == 80, "index footer");

/* Building one: the writer as it appends, or a rebuild from the segment. */
struct weir_log_index_builder {
	uint64_t base_offset;
	struct weir_log_index_entry *entries;
	size_t n_entries, cap_entries, n_written;
	uint64_t max_rx, max_event;
	uint64_t next_entry_pos;     /* no entry before this byte */
	uint64_t block_end_pos;      /* the current source block ends here */
	uint32_t block_entry;
	struct weir_log_index_source *sources;
	size_t n_sources, cap_sources, block_first_row;
	struct weir_source_map block_rows; /* source -> its row - block_first_row */
	size_t last_row;             /* + 1: the previous record's row, usually the next one's */
	bool sources_partial;
};

void weir_log_index_reset(struct weir_log_index_builder *b, uint64_t base_offset);
/* A batch begins at byte pos of the segment with entry offset. */
void weir_log_index_batch(struct weir_log_index_builder *b, uint64_t offset, uint64_t pos);
void weir_log_index_record(struct weir_log_index_builder *b, const struct weir_record *r);
void weir_log_index_free(struct weir_log_index_builder *b);
/* Writes the header (fd new and empty) / the entries not yet on file /
 * the source rows and footer. */
int weir_log_index_write_header(const struct weir_log_index_builder *b, int fd);
int weir_log_index_write_entries(struct weir_log_index_builder *b, int fd);
int weir_log_index_seal(struct weir_log_index_builder *b, int fd, uint64_t next_offset, uint64_t segment_bytes);
void weir_log_index_path(const char *dir, uint64_t base, char *path, size_t len);

/* A segment's index as a reader holds it: the head (footer, summaries)
 * alone, or whole. */
struct weir_log_index {
	struct weir_log_index_entry *entries;
	size_t n_entries;
	struct weir_log_index_source *rows;
	size_t n_rows;
	struct weir_log_index_summary *summary;
	size_t n_summary;
	bool sealed;                 /* footer read: the segment's maxima and sources are known */
	bool sources_partial;
	uint64_t next_offset, segment_bytes, max_rx, max_event;
	size_t n_entries_on_file;    /* the footer's count (a head load reads none of them) */
};

/* 1: loaded and checked; 0: missing; -1: damaged (why says how).  sealed:
 * the segment is not the last, so its index must have its footer.  head:
 * the footer and summaries only, checked by their own CRCs (a seek decides
 * from them which segment to read).  A sealed index is also checked against
 * its segment (weir_log_index_check_segment): a valid index of another
 * segment is damage too. */
int weir_log_index_load(const char *dir, uint64_t base, bool sealed, bool head, struct weir_log_index *ix,
			char *why, size_t whylen);
/* Loads every sealed segment's index in dir (each of bases but the last)
 * whole; for each one missing (rc 0) or damaged (rc -1, why says how),
 * calls bad(ctx, base, rc, why).  How many it called it for. */
unsigned weir_log_index_check_sealed(const char *dir, const uint64_t *bases, size_t n,
				     void (*bad)(void *ctx, uint64_t base, int rc, const char *why), void *ctx);
/* Whether the header is of this version (WEIR_LOG_INDEX_VERSION); false
 * with why when not: such an index is damaged, whatever its CRCs say. */
bool weir_log_index_version_ok(const struct weir_log_index_hdr *h, char *why, size_t whylen);
/* 1 when the sealed index ix, loaded from ixfd, describes DIR's segment at
 * base: the same base, the footer's size is the file's, and the batches
 * from its last entry on carry the offsets it says and end at its next
 * offset; -1 with why otherwise.  A few small reads. */
int weir_log_index_check_segment(const char *dir, uint64_t base, int ixfd, const struct weir_log_index *ix, char *why,
				 size_t whylen);
/* Builds ix by reading the segment at path up to limit bytes (SIZE_MAX:
 * all); sealed: with source rows and footer.  0, or -1 with err. */
int weir_log_index_build(const char *path, size_t limit, bool sealed, struct weir_log_index *ix,
			 struct weir_log_index_builder *scratch, char *err, size_t errlen);
/* Rebuilds DIR's index of the sealed segment at base on file (a new file
 * renamed over the old). */
int weir_log_index_rebuild_file(const char *dir, uint64_t base, char *err, size_t errlen);
void weir_log_index_release(struct weir_log_index *ix);

/* The last entry at or below offset / whose max_rx_before (event: _event_)
 * is below ns; entries are ascending in both.  -1 when there is none. */
long weir_log_index_find_offset(const struct weir_log_index *ix, uint64_t offset);
long weir_log_index_find_time(const struct weir_log_index *ix, uint64_t ns, bool event_time);
/* The first entry from which source reaches seq (a block whose highest seq
 * of it is at or past seq): -1 when none in a sealed segment, -2 when the
 * index cannot say (not sealed, or partial: scan it all).  With the head
 * only: -1, or -3 for "it may be here: load it whole". */
long weir_log_index_find_source(const struct weir_log_index *ix, const uint8_t source[WEIR_SOURCE_BYTES],
				uint64_t seq);

#endif
