/* The log's on-disk floor, inside log/: file helpers, batch framing checks,
 * what retention states it deleted.  It knows no appender and no reader:
 * both floors above use it (weir_log_pvt.h is the appender's own). */
#ifndef WEIR_LOG_DISK_H
#define WEIR_LOG_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "weir_log.h"

#define WEIR_LOG_BLOCK 4096u

/* Files (weir_log_file.c) */
int weir_log_write_all(int fd, const void *buf, size_t len);
int weir_log_fsync_dir(const char *dir);
int weir_log_mkdir_p(const char *path);
/* A file (open's flags: O_CREAT for one to be made) or a directory made
 * inside a topic: the
 * mode of its directory (a file's without x: 0750 gives 0640, as the
 * service's umask from `log mode` does) and, made by root, its directory's
 * owner.  An operator's weir-read --salvage or --register run as root
 * leaves nothing the service's user cannot write or that is wider than the
 * rest of its log.  The descriptor (or 0 for a directory, there already or
 * made), or -1 with errno. */
int weir_log_create(const char *path, int flags);
int weir_log_mkdir_like(const char *path);

/* Batch framing (weir_log_batch.c): checks the batch b of at most left
 * bytes whole: framing, CRC, its first offset (expect_offset) and, with
 * entries, every entry decoding to its exact end.  0, or -1 with err
 * saying what is wrong (at is its byte in the file); *longest gets its
 * longest record (without entries: a bound on any entry's header and rule
 * ids). */
int weir_log_batch_check(const struct weir_log_batch *b, size_t left, uint64_t expect_offset, size_t at, bool entries,
			 size_t *longest, char *err, size_t errlen);
/* The next batch after pos in data[0, size) that checks whole and does
 * not go back below expect: its position, or size when there is none. */
size_t weir_log_batch_resync(const uint8_t *data, size_t size, size_t pos, uint64_t expect);

/* What retention states it deleted (weir_log_retained.c): DIR/retained
 * holds the first offset kept.  read: 1 (*first), 0 (none), -1. */
#define WEIR_LOG_RETAINED_FILE "retained"
int weir_log_retained_read(const char *dir, uint64_t *first);
int weir_log_retained_write(const char *dir, uint64_t first);

#endif
