/*
 * Reading a topic of a weir log, while weir-control writes it, as a
 * consumer would: seek by offset, by time or by (source, seq), read on, and
 * follow new entries across segment rolls, retention and restarts of the
 * writer.  A reader never sees an entry past the topic's committed point
 * (TOPIC/committed): the writer never cuts below it at recovery, so what a
 * reader was given is never taken back.  docs/formats.md has the files.
 *
 *   struct weir_log_reader *r;
 *   weir_log_reader_open(&r, "/var/lib/weir/log", "trades", err, sizeof(err));
 *   weir_log_reader_seek_time(r, t0, WEIR_LOG_RX_TIME);
 *   for (;;) {
 *       struct weir_log_item it;
 *       int rc = weir_log_reader_next(r, &it);
 *       if (rc == WEIR_LOG_READ_ENTRY) use(it.record, it.payload, it.payload_len);
 *       else if (rc == WEIR_LOG_READ_END) weir_log_reader_wait(r, 1000);
 *       else if (rc == WEIR_LOG_READ_TRUNCATED) warn(weir_log_reader_error(r));
 *       else fail(weir_log_reader_error(r));
 *   }
 *
 * One reader per thread; readers of one topic share nothing.
 */
#ifndef WEIR_LOG_READER_H
#define WEIR_LOG_READER_H

#include <stdint.h>

#include "weir_log.h"

enum {
	WEIR_LOG_READ_ENTRY = 1,      /* *item is the next entry */
	WEIR_LOG_READ_END = 0,        /* at the committed end: wait() or call again */
	WEIR_LOG_READ_ERROR = -1,     /* damage or I/O: weir_log_reader_error() says which */
	WEIR_LOG_READ_TRUNCATED = -2, /* retention deleted what came next: error() says
				       * "truncated: first offset is now N", and the reader is there */
};

enum weir_log_clock {
	WEIR_LOG_RX_TIME,             /* rx_ns: when the burst arrived */
	WEIR_LOG_EVENT_TIME,          /* event_time_ns, where the framing carries one */
};

struct weir_log_item {
	const struct weir_log_entry *entry; /* offset, worker, incarnation, ring position */
	const struct weir_record *record;   /* header and rule ids: the payload is not behind it */
	const uint8_t *payload;             /* in the mapped segment: valid until the next call */
	uint32_t payload_len;
	uint64_t lost_before;               /* offsets right before this one the reader went over: salvage
					     * stated them lost (TOPIC/holes); 0 but at such a hole.  What
					     * retention deleted is said by READ_TRUNCATED instead */
};

struct weir_log_reader_stats {
	uint64_t entries;             /* given by next() */
	uint64_t segments_opened;
	uint64_t indexes_loaded;
	uint64_t indexes_rebuilt;     /* missing or damaged on file: built from the segment in memory */
	uint64_t seek_scanned;        /* entries read past by seeks */
	uint64_t truncated;           /* offsets retention deleted before this reader got them */
	uint64_t holes_skipped;       /* offsets salvage stated lost (TOPIC/holes) */
};

struct weir_log_reader;

int weir_log_reader_open(struct weir_log_reader **r, const char *log_dir, const char *topic, char *err,
			 size_t errlen);
void weir_log_reader_close(struct weir_log_reader *r);

/* Next entry at offset: 0, TRUNCATED when it was deleted (the reader is at
 * the first retained one), ERROR. */
int weir_log_reader_seek(struct weir_log_reader *r, uint64_t offset);
/* To the first entry whose time is at or after ns: 1 found, 0 none yet
 * (the reader is at the committed end), or < 0. */
int weir_log_reader_seek_time(struct weir_log_reader *r, uint64_t ns, enum weir_log_clock clock);
/* To the first entry of source whose seq is at or after seq: as seek_time. */
int weir_log_reader_seek_source(struct weir_log_reader *r, const uint8_t source[WEIR_SOURCE_BYTES], uint64_t seq);

int weir_log_reader_next(struct weir_log_reader *r, struct weir_log_item *item);
/* Waits up to timeout_ms for the committed point to move (inotify on the
 * topic's directory, re-read on timeout too): 1 moved, 0 not, -1 error. */
int weir_log_reader_wait(struct weir_log_reader *r, int timeout_ms);

uint64_t weir_log_reader_position(const struct weir_log_reader *r); /* the next entry's offset */
uint64_t weir_log_reader_committed(const struct weir_log_reader *r); /* one past the last committed */
/* Reads the committed point again now, not waiting (a follower's lag while
 * it is not reading): 0, or -1 when the checkpoint cannot be read. */
int weir_log_reader_refresh(struct weir_log_reader *r);
/* The first retained offset and, when known, its entry's rx time (0 otherwise). */
uint64_t weir_log_reader_first(struct weir_log_reader *r);
/* The first offset of the topic's newest segment, the one being written
 * (0: none): what has no source index on file yet. */
uint64_t weir_log_reader_newest_segment(struct weir_log_reader *r);
const char *weir_log_reader_error(const struct weir_log_reader *r);
/* Bytes of log between the reader and the committed end (as last read; a
 * batch's worth exact): a follower's lag on disk. */
uint64_t weir_log_reader_bytes_behind(const struct weir_log_reader *r);
/* Where the reader's next entry is on disk (its batch's first byte), kept
 * to measure from later: a consumer that reads ahead of what it has done
 * with (weir-export's open transaction) measures its lag from the place
 * it last finished at, not from the reader.  A place of no open segment
 * (the reader at the committed end of an empty topic) has segment 0, pos 0. */
struct weir_log_place {
	uint64_t segment;            /* its base offset */
	uint64_t pos;                /* bytes into it */
};
void weir_log_reader_place(const struct weir_log_reader *r, struct weir_log_place *p);
/* Bytes of log between p and the committed end (as last read). */
uint64_t weir_log_reader_bytes_from(const struct weir_log_reader *r, const struct weir_log_place *p);
void weir_log_reader_stats(const struct weir_log_reader *r, struct weir_log_reader_stats *s);

/*
 * A registered reader (TOPIC/readers/NAME) holds retention back: a segment
 * is not deleted while it holds an offset at or past the reader's mark,
 * unless the topic's retention is hard.  mark(offset): everything below
 * offset is done with (written in two CRC'd slots, as the committed point).
 * Both fail with errno kept (ENOSPC: a full disk, worth trying again; a
 * register tried again keeps the file it opened).
 */
int weir_log_reader_register(struct weir_log_reader *r, const char *name);
int weir_log_reader_mark(struct weir_log_reader *r, uint64_t offset);
/* Removes the registration NAME of the topic in DIR (a reader gone for good). */
int weir_log_reader_unregister(const char *topic_dir, const char *name);

#define WEIR_LOG_READERS_DIR "readers"

/* A topic as it stands on disk (weir_log_view.c), read-only. */
struct weir_log_view {
	uint64_t next_offset;        /* one past the last committed record */
	uint64_t first_offset;       /* the oldest segment's base */
	uint64_t segments;
	uint64_t bytes;              /* its files: segments, indexes, checkpoints */
};
typedef void (*weir_log_view_reader_fn)(void *ctx, const char *name, uint64_t mark);
/* Fills v from TOPIC_DIR and calls each (if given) with every registered
 * reader's mark; -1 when the directory cannot be read. */
int weir_log_view(const char *topic_dir, struct weir_log_view *v, weir_log_view_reader_fn each, void *ctx);

#endif
