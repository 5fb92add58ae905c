/* The appender's own, inside log/ (the upper floor's writing half: topic
 * appends, commits, the writer thread, recovery): buffer sizes, segment
 * creation, the open batch.  Readers never include it. */
#ifndef WEIR_LOG_PVT_H
#define WEIR_LOG_PVT_H

#include <stddef.h>
#include <stdint.h>

#include "weir_log_disk.h"

#define WEIR_LOG_BUF_BYTES (1u << 20)

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

/* The open batch (weir_log_topic.c): begun at the next offset, closed
 * (length, CRC, padded to 8 bytes) by a flush or a full buffer. */
void weir_log_batch_begin(struct weir_log_topic *t, unsigned worker, uint64_t incarnation, uint64_t ring_pos);
void weir_log_batch_close(struct weir_log_topic *t);

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

/* Opens DIR/committed for the topic's commits, found: what it held (weir_log_commit.c). */
int weir_log_checkpoint_open(struct weir_log_topic *t, const struct weir_log_checkpoint *found);

#endif
