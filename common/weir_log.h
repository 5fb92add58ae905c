/*
 * The durable log: per topic, a directory of segment files named by the
 * offset of their first entry (%020llu.log).  A segment is a 16-byte header
 * then 8-byte-aligned entries: a 40-byte entry header framed with length and
 * CRC32C, then the record exactly as the worker committed it.
 *
 * Exactly once across a control-plane crash: each entry carries the
 * dataplane's incarnation and the record's ring position.  The ring head only
 * moves after a commit, and a segment only rolls right after a commit, so
 * whatever was persisted but not yet released from the ring is in the last
 * segment of its topic; recovery scans that segment and the drain skips it.
 */
#ifndef WEIR_LOG_H
#define WEIR_LOG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_record.h"
#include "weir_shared.h"

#define WEIR_LOG_MAGIC 0x31474f4c52494557ull /* "WEIRLOG1" */

struct weir_log_segment_hdr {
	uint64_t magic;
	uint64_t base_offset;
};
_Static_assert(sizeof(struct weir_log_segment_hdr) == 16, "segment header");

struct weir_log_entry {
	uint32_t len_bytes;          /* this header + the record, unaligned */
	uint32_t crc32c;             /* over bytes [8, len_bytes) */
	uint64_t offset;             /* position within the topic, from 0 */
	uint64_t incarnation;        /* the dataplane run the record came from */
	uint64_t ring_pos;           /* its position in its worker's ring */
	uint16_t worker;
	uint16_t pad16;
	uint32_t pad32;
	/* struct weir_record follows */
};
_Static_assert(sizeof(struct weir_log_entry) == 40, "entry header");

static inline const struct weir_record *
weir_log_entry_record(const struct weir_log_entry *e)
{
	return (const struct weir_record *)(e + 1);
}

/* Reading one segment, mapped whole. */
struct weir_log_segment {
	int fd;
	const uint8_t *map;
	size_t size;
	size_t pos;                  /* next entry */
	uint64_t base_offset;
	uint64_t next_offset;        /* offset the next entry must carry */
	char path[PATH_MAX];
};

int weir_log_segment_open(struct weir_log_segment *s, const char *path, char *err, size_t errlen);
/* 1: *e is the next valid entry; 0: clean end; -1: corrupt at s->pos (err says why). */
int weir_log_segment_next(struct weir_log_segment *s, const struct weir_log_entry **e, char *err, size_t errlen);
void weir_log_segment_close(struct weir_log_segment *s);

/* Base offsets of the segments in dir, ascending; caller frees *bases. */
int weir_log_list_segments(const char *dir, uint64_t **bases, size_t *n);
void weir_log_segment_path(const char *dir, uint64_t base, char *path, size_t len);

/* Appending to one topic. */
struct weir_log_writer;

struct weir_log_topic {
	char name[WEIR_TOPIC_NAME_MAX];
	char dir[PATH_MAX];
	int fd;
	uint64_t base_offset;
	uint64_t next_offset;
	uint64_t segment_bytes;      /* current segment, buffered bytes included */
	/* Appends go through buf, written with O_DIRECT where the file system
	 * has it: whole 4 KiB blocks from file_pos (block aligned), the partial
	 * last block kept in buf and written again as it fills.  The file then
	 * ends in zeros up to a block boundary until it is closed. */
	uint8_t *buf;
	size_t buf_len, buf_cap;
	uint64_t file_pos;
	struct weir_log_writer *writer; /* direct: full buffers are written by a thread */
	bool direct;
	bool dirty;                  /* buf holds bytes not yet written */
	bool unsynced;
	/* Per worker: the incarnation and end (last pos + 1) of its last entry
	 * in the current segment, so a restarted drain skips what is there. */
	uint64_t last_incarnation[WEIR_MAX_WORKERS];
	uint64_t last_ring_end[WEIR_MAX_WORKERS];
	/* Figures for the summary and tests. */
	uint64_t recovered_truncated_bytes;
	uint64_t records_appended;
	uint64_t bytes_appended;
	uint64_t segments_rolled;
};

int weir_log_topic_open(struct weir_log_topic *t, const char *root, const char *name, char *err, size_t errlen);
/* True when the record at (worker, incarnation, ring_pos) is already in t. */
static inline bool
weir_log_topic_has(const struct weir_log_topic *t, unsigned worker, uint64_t incarnation, uint64_t ring_pos)
{
	return t->last_incarnation[worker] == incarnation && ring_pos < t->last_ring_end[worker];
}
int weir_log_topic_append(struct weir_log_topic *t, unsigned worker, uint64_t incarnation, uint64_t ring_pos,
			  const struct weir_record *rec);
int weir_log_topic_flush(struct weir_log_topic *t);
int weir_log_topic_sync(struct weir_log_topic *t);
/* Starts a new segment when the current one holds max_bytes or more; only
 * call right after a commit (everything written is released from the rings). */
int weir_log_topic_roll_if_full(struct weir_log_topic *t, uint64_t max_bytes);
void weir_log_topic_close(struct weir_log_topic *t);

#endif
