/*
 * The durable log: per topic, a directory of segment files named by the
 * offset of their first entry (%020llu.log).  A segment is a 16-byte header
 * then 8-byte-aligned batches.  A batch holds consecutive entries from one
 * worker and one dataplane run: a 40-byte header framed with length and
 * CRC32C, then each entry encoded against the one before it (what the next
 * entry is predicted to be is left out), as Kafka's record batches do.  An
 * 8-byte event costs about 10 bytes on file instead of 112: the log was
 * bound by this machine's disk.  docs/formats.md has the encoding.
 *
 * Exactly once across a control-plane crash: batches carry the dataplane's
 * incarnation and their records' ring positions.  The ring head only moves
 * after a commit, a commit closes the open batches, and a segment only rolls
 * after a commit that released every record it holds, so whatever was
 * persisted but not yet released from the ring is in the last segment of
 * its topic; recovery scans that segment and the drain skips it.  A batch is whole or cut: recovery keeps whole
 * batches only.
 */
#ifndef WEIR_LOG_H
#define WEIR_LOG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_record.h"
#include "weir_info.h"
#include "weir_single_writer.h"

#define WEIR_LOG_MAGIC 0x32474f4c52494557ull    /* "WEIRLOG2" */
#define WEIR_LOG_MAGIC_V1 0x31474f4c52494557ull /* "WEIRLOG1": one framed entry per record */

struct weir_log_segment_hdr {
	uint64_t magic;
	uint64_t base_offset;
};
_Static_assert(sizeof(struct weir_log_segment_hdr) == 16, "segment header");

/* On file, before a batch's encoded entries. */
struct weir_log_batch {
	uint32_t len_bytes;          /* this header + the entries, unaligned */
	uint32_t crc32c;             /* over bytes [8, len_bytes) */
	uint64_t base_offset;        /* the first entry's offset within the topic */
	uint64_t incarnation;        /* the dataplane run its records came from */
	uint64_t base_ring_pos;      /* the first record's position in its worker's ring */
	uint32_t n_entries;          /* at least 1 */
	uint16_t worker;
	uint16_t zero;
};
_Static_assert(sizeof(struct weir_log_batch) == 40, "batch header");

/* An entry as readers get it, decoded: the record follows, 8-byte aligned,
 * exactly as the worker committed it. */
struct weir_log_entry {
	uint64_t offset;             /* position within the topic, from 0 */
	uint64_t incarnation;
	uint64_t ring_pos;           /* its position in its worker's ring */
	uint16_t worker;
	uint16_t pad16;
	uint32_t pad32;
};
_Static_assert(sizeof(struct weir_log_entry) == 32, "decoded entry header");

static inline const struct weir_record *
weir_log_entry_record(const struct weir_log_entry *e)
{
	return (const struct weir_record *)(e + 1);
}

/* What the next entry of a batch is predicted to be: the writer leaves out
 * whatever matches, the reader fills it back in.  One type for both sides. */
struct weir_log_codec {
	struct weir_record prev;     /* header of the entry before (zeros at a batch's start) */
	uint64_t next_ring_pos;      /* previous position + its aligned length */
};

/* Reading one segment, mapped: up to limit, which a follower moves on as
 * the writer commits. */
struct weir_log_segment {
	int fd;
	const uint8_t *map;
	size_t size;                 /* mapped */
	size_t limit;                /* read no further: the file's size, or the committed end */
	size_t pos;                  /* next batch (a batch is checked whole before its first entry is given) */
	uint64_t base_offset;
	uint64_t next_offset;        /* offset the next entry must carry */
	/* The batch being read. */
	const uint8_t *cur, *batch_end;
	size_t batch_pos;            /* its first byte */
	uint32_t batch_left;
	struct weir_log_codec codec;
	uint64_t incarnation;
	uint16_t worker;
	/* View mode: the payload is not copied behind the record; it is at
	 * payload, in the mapping, until the next call.  A batch is checked by
	 * its framing and CRC before its first entry, its entries as they are
	 * decoded (without view: every entry too, before the first is given). */
	bool view;
	const uint8_t *payload;
	uint8_t *scratch;            /* the decoded entry */
	size_t scratch_cap;
	char path[PATH_MAX];
};

int weir_log_segment_open(struct weir_log_segment *s, const char *path, char *err, size_t errlen);
/* 1: *e is the next valid entry; 0: clean end (or the limit); -1: corrupt at s->pos (err says why). */
int weir_log_segment_next(struct weir_log_segment *s, const struct weir_log_entry **e, char *err, size_t errlen);
/* Reads on up to limit bytes (SIZE_MAX: the file's size now), mapping
 * again what the file grew by; -1 when the file is shorter than limit. */
int weir_log_segment_extend(struct weir_log_segment *s, size_t limit, char *err, size_t errlen);
/* Goes on from the batch at byte pos whose first entry is offset (from
 * an index: the batch is checked whole, as any other). */
void weir_log_segment_goto(struct weir_log_segment *s, size_t pos, uint64_t offset);
/* After next() said -1: on to the next batch that checks whole and does
 * not go back in offsets (what lies between is damage); 1 there, 0 none. */
int weir_log_segment_resync(struct weir_log_segment *s);
void weir_log_segment_close(struct weir_log_segment *s);
/* The payload of the entry next() gave last. */
static inline const uint8_t *
weir_log_segment_payload(const struct weir_log_segment *s, const struct weir_log_entry *e)
{
	return s->view ? s->payload : weir_record_payload(weir_log_entry_record(e));
}

/*
 * One writer per topic: the appender and salvage hold an flock on
 * DIR/lock for as long as they write (the holder's pid is inside).  The
 * descriptor, or -1 with err naming the holder.  Closing it lets go.
 */
#define WEIR_LOG_LOCK_FILE "lock"
int weir_log_lock_topic(const char *dir, char *err, size_t errlen);

/* Base offsets of the segments in dir, ascending; caller frees *bases. */
int weir_log_list_segments(const char *dir, uint64_t **bases, size_t *n);
void weir_log_segment_path(const char *dir, uint64_t base, char *path, size_t len);

/*
 * A topic's committed point, kept outside its segments in DIR/committed:
 * two slots in separate blocks, each with its own CRC32C, the valid one of
 * the higher generation wins (a torn write of one leaves the other).  Every
 * offset below committed_offset was handed out and its record released from
 * the ring: it is never given to another record, and recovery never cuts
 * below it.  Written at every commit, fdatasync'd with the durable ones.
 */
#define WEIR_LOG_CHECKPOINT_MAGIC 0x4b43504c52494557ull /* "WEIRLPCK" */
#define WEIR_LOG_CHECKPOINT_VERSION 1u
#define WEIR_LOG_CHECKPOINT_FILE "committed"

struct weir_log_checkpoint {
	uint64_t magic;
	uint64_t generation;
	uint64_t committed_offset;   /* one past the last committed record */
	uint64_t segment_base;       /* the segment that ends at the committed point */
	uint64_t segment_bytes;      /* its length there */
	uint32_t version;
	uint32_t crc32c;             /* over the bytes before it */
};
_Static_assert(sizeof(struct weir_log_checkpoint) == 48, "checkpoint slot");

/* 1: *c is the topic's checkpoint; 0: it has none (a new topic, or one
 * older than checkpoints); -1: the file is there but no slot is valid. */
int weir_log_checkpoint_read(const char *dir, struct weir_log_checkpoint *c, char *err, size_t errlen);
/* The same two slots in any file (a registered reader's mark). */
int weir_log_slots_read(const char *path, struct weir_log_checkpoint *c, char *err, size_t errlen);
/* Writes c (its generation and CRC filled in) into the older slot of fd. */
int weir_log_checkpoint_write(int fd, struct weir_log_checkpoint *c, bool durable);

/*
 * Salvage (weir-read --salvage): every sealed segment is checked whole
 * (each entry decodes; it ends where the next one begins, or short of it
 * by a stated hole), and each damaged one, then the last segment, is moved
 * aside (kept, as evidence): every batch in it that checks whole is written
 * back in segments named by their first offset, and the offsets lost
 * between them, or after them up to the next segment (the committed point,
 * for the last), are recorded in DIR/holes.  The committed point moves past
 * everything, so no offset is handed out twice.  Under the writer lock.
 */
#define WEIR_LOG_HOLES_FILE "holes"
#define WEIR_LOG_SALVAGE_HOLES 64

struct weir_log_hole {
	uint64_t first, last;        /* offsets, inclusive */
};

struct weir_log_salvage {
	uint64_t batches_kept, records_kept, records_lost, bytes_skipped;
	uint64_t next_offset;        /* the next record's offset */
	unsigned n_holes;            /* may exceed what holes[] lists */
	struct weir_log_hole holes[WEIR_LOG_SALVAGE_HOLES];
	char damaged_path[PATH_MAX + 64];
};

int weir_log_salvage(const char *dir, struct weir_log_salvage *out, char *err, size_t errlen);
/* The holes DIR/holes states, ascending; caller frees *holes. */
int weir_log_holes_read(const char *dir, struct weir_log_hole **holes, size_t *n);

struct weir_log_index_builder;

/*
 * Retention (weir_log_retention.c): whole oldest segments are deleted while
 * the topic holds more than max_bytes, or while a segment's newest entry
 * (rx time) is older than max_age_ns, never the segment being written.  A
 * segment a registered reader (TOPIC/readers/NAME) has not passed is kept,
 * unless hard: then it goes, and what the reader had not read is counted.
 */
struct weir_log_retention {
	uint64_t max_bytes;          /* 0: no size bound */
	uint64_t max_age_ns;         /* 0: no time bound */
	bool hard;
};

/* Written by the drain only (weir_sw_*), read by /metrics. */
struct weir_log_retention_stats {
	uint64_t segments_deleted;
	uint64_t bytes_freed;
	uint64_t unread_deleted;     /* offsets deleted below a registered reader's mark (hard) */
	uint64_t held;               /* now: 1 while a due deletion waits for a registered reader */
	uint64_t oldest_offset;      /* now: the first retained offset */
	uint64_t oldest_rx_ns;       /* now: its rx time */
	uint64_t disk_bytes;         /* now: segments and indexes */
};

/* A record batch is closed once it holds this much: a torn tail costs at
 * most one batch. */
#define WEIR_LOG_BATCH_MAX_BYTES (64u << 10)

/* Appending to one topic. */
struct weir_log_writer;

struct weir_log_topic {
	char name[WEIR_TOPIC_NAME_MAX];
	char dir[PATH_MAX];
	int lock_fd;                 /* DIR/lock, held while open */
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
	/* The open batch, at buf + batch_start, closed by a flush or a full buffer. */
	bool batch_open;
	size_t batch_start;
	struct weir_log_codec codec;
	bool direct;
	bool dirty;                  /* buf holds bytes not yet written */
	bool unsynced;
	/* Per worker: the incarnation and end (last pos + 1) of its last entry
	 * in the current segment, so a restarted drain skips what is there. */
	uint64_t last_incarnation[WEIR_MAX_WORKERS];
	uint64_t last_ring_end[WEIR_MAX_WORKERS];
	/* The committed point, as last written to DIR/committed. */
	int checkpoint_fd;
	struct weir_log_checkpoint checkpoint;
	bool checkpoint_unsynced;
	/* The current segment's sparse index (weir_log_index.h), written at
	 * each commit and sealed at a roll; -1: none (failed: rebuilt later). */
	struct weir_log_index_builder *index;
	int index_fd;
	/* Figures for the summary and tests. */
	uint64_t index_failures;
	uint64_t indexes_rebuilt;
	uint64_t recovered_truncated_bytes;
	uint64_t records_appended;
	uint64_t bytes_appended;
	/* What commits made part of the log since the topic was opened (an
	 * append a full disk then rewound is not in it): single writer. */
	uint64_t records_committed;
	uint64_t bytes_committed;
	uint64_t bytes_at_commit;    /* bytes_appended at the last commit */
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
/* Records that everything appended is committed (its records leave the
 * rings next): the checkpoint, fdatasync'd when durable (after a sync).
 * Call after weir_log_topic_flush() or weir_log_topic_sync(). */
int weir_log_topic_commit(struct weir_log_topic *t, bool durable);
/* Starts a new segment when the current one holds max_bytes or more; only
 * call right after a commit, and only when no record of the segment is
 * still in its ring (weir_log_topic_has(t, worker, incarnation, head) is
 * false for every ring): recovery looks for those in the last segment. */
int weir_log_topic_roll_if_full(struct weir_log_topic *t, uint64_t max_bytes);
void weir_log_topic_close(struct weir_log_topic *t);
/* One retention pass over the topic in dir whose segment being written
 * starts at active_base (nothing from there on is touched: any thread but
 * one pass at a time); 0, or -1 with err. */
int weir_log_retention_apply(const char *dir, uint64_t active_base, const struct weir_log_retention *p, uint64_t now_ns,
			     struct weir_log_retention_stats *st, char *err, size_t errlen);

#endif
