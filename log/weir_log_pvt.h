/* What the log's files share inside log/: buffer sizes, the writer
 * thread, segment creation and recovery, batch framing. */
#ifndef WEIR_LOG_PVT_H
#define WEIR_LOG_PVT_H

#include <stddef.h>
#include <stdint.h>

#include "weir_log.h"

#define WEIR_LOG_BUF_BYTES (1u << 20)
#define WEIR_LOG_BLOCK 4096u

/* Files (weir_log_topic.c) */
int weir_log_write_all(int fd, const void *buf, size_t len);
int weir_log_fsync_dir(const char *dir);
/* Opens path for appends, O_DIRECT where the file system takes it (then
 * with the topic's writer thread). */
int weir_log_open_append(struct weir_log_topic *t, const char *path, int flags);
/* A new segment at base, its header durable. */
int weir_log_create_segment(struct weir_log_topic *t, uint64_t base);

/* The current segment's index (weir_log_topic.c): created at base (from
 * the builder's entries when kept: recovery); its new entries written. */
int weir_log_index_create(struct weir_log_topic *t, uint64_t base, bool keep_entries);
void weir_log_index_commit(struct weir_log_topic *t);

/* The writer thread of a direct topic (weir_log_writer.c) */
int weir_log_writer_start(struct weir_log_topic *t);
/* Until every queued write is done; -1 (errno set) if one failed. */
int weir_log_writer_wait_idle(struct weir_log_writer *w);
/* Queues t->buf (its partial last block zero padded) and carries that
 * block on into a spare buffer, which becomes t->buf. */
int weir_log_writer_submit(struct weir_log_topic *t);
void weir_log_writer_stop(struct weir_log_topic *t);

/* Batch framing (weir_log_batch.c) */
void weir_log_batch_begin(struct weir_log_topic *t, unsigned worker, uint64_t incarnation, uint64_t ring_pos);
/* Frames the open batch (length, CRC) and pads it to 8 bytes. */
void weir_log_batch_close(struct weir_log_topic *t);
/* Checks the batch b of at most left bytes whole: framing, CRC, its first
 * offset (expect_offset) and, with entries, every entry decoding to its
 * exact end.  0, or -1 with err saying what is wrong (at is its byte in the
 * file); *longest gets its longest record (without entries: a bound on any
 * entry's header and rule ids). */
int weir_log_batch_check(const struct weir_log_batch *b, size_t left, uint64_t expect_offset, size_t at, bool entries,
			 size_t *longest, char *err, size_t errlen);

/* The next batch after pos in data[0, size) that checks whole and does
 * not go back below expect: its position, or size when there is none. */
size_t weir_log_batch_resync(const uint8_t *data, size_t size, size_t pos, uint64_t expect);

/* Recovery (weir_log_recovery.c): scans the last segment at base, cuts a
 * torn tail (what lies after the committed point ck names; ck NULL: no
 * checkpoint, every bad tail counts as torn) and learns what each worker
 * last wrote there.  Damage before the committed point is refused, with
 * what was affected and how to salvage, and nothing is cut. */
int weir_log_recover_last_segment(struct weir_log_topic *t, uint64_t base, const struct weir_log_checkpoint *ck,
				  char *err, size_t errlen);
/* Checks the segments listed against the checkpoint (one must end at its
 * committed point); 0 or -1 with err. */
int weir_log_recover_check_listing(const char *dir, const uint64_t *bases, size_t n,
				   const struct weir_log_checkpoint *ck, char *err, size_t errlen);

/* What retention states it deleted (weir_log_retained.c): DIR/retained
 * holds the first offset kept.  read: 1 (*first), 0 (none), -1. */
#define WEIR_LOG_RETAINED_FILE "retained"
int weir_log_retained_read(const char *dir, uint64_t *first);
int weir_log_retained_write(const char *dir, uint64_t first);

/* Opens DIR/committed for the topic's commits, found: what it held. */
int weir_log_checkpoint_open(struct weir_log_topic *t, const struct weir_log_checkpoint *found);

#endif
