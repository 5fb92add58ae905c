/*
 * Each source's sequence state as the log left it, for a dataplane that
 * starts again: the next sequence expected, the holes below it the log does
 * not hold (gaps open when the last run ended), and whether the session had
 * ended.  Built once on the main lcore before the workers run, read-only
 * after; a worker consults it when it first sees a source.  Without it a
 * restarted feed's hole was taken as in order, and its overlap logged twice.
 */
#ifndef WEIR_RESTORE_H
#define WEIR_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_record.h"
#include "weir_source_map.h"

struct weir_restore_hole {
	uint64_t first, last;        /* inclusive */
};

struct weir_restore_source {
	uint8_t key[WEIR_SOURCE_BYTES];
	uint64_t next_seq;           /* one past the highest sequence the log accounts for */
	uint8_t started;             /* a record of it was read */
	uint8_t closed;              /* its last word was an end of session */
	uint32_t n_holes, cap_holes; /* ascending; as many as the log shows (built at start, not on the hot path) */
	struct weir_restore_hole *holes;
};

struct weir_restore {
	struct weir_restore_source *sources; /* n of cap, in the order the log named them */
	uint32_t n, cap;
	struct weir_source_map map;          /* key -> its index in sources */
	uint64_t records_read;
	uint64_t last_incarnation;           /* the highest run number read (0: none) */
};

/* Room first for max_sources (it grows); -1 when out of memory. */
int weir_restore_init(struct weir_restore *r, uint32_t max_sources);
void weir_restore_free(struct weir_restore *r);
/* Every source forgotten, the room kept. */
void weir_restore_clear(struct weir_restore *r);
/* One logged record, in log order; false when memory is out. */
bool weir_restore_note(struct weir_restore *r, const struct weir_record *rec);
const struct weir_restore_source *weir_restore_find(const struct weir_restore *r, const uint8_t key[WEIR_SOURCE_BYTES]);

/* The number of a run starting at start_ns (its start time), after every
 * run the log showed r: a restore orders a source's runs by it. */
uint64_t weir_restore_incarnation(const struct weir_restore *r, uint64_t start_ns);

/* Reads the tail of every topic under log_dir (topics[0], the dead letters,
 * aside): from the newest segment back until window_bytes are covered. */
int weir_restore_from_log(struct weir_restore *r, const char *log_dir, const char (*topics)[32], unsigned n_topics,
			  uint64_t window_bytes, char *err, size_t errlen);

#endif
