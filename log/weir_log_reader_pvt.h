/* The topic reader's state, shared by its files (weir_log_reader*.c). */
#ifndef WEIR_LOG_READER_PVT_H
#define WEIR_LOG_READER_PVT_H

#include "weir_log_index.h"
#include "weir_log_reader.h"

/* What a seek learned of a sealed segment: its index's head. */
struct seg_head {
	uint64_t base;
	int state;                   /* 0 not read, 1 read, -1 none usable */
	struct weir_log_index head;
};

struct weir_log_reader {
	char dir[PATH_MAX];
	/* The committed view, as last read. */
	bool have_ck;
	struct weir_log_checkpoint ck;
	uint64_t committed;
	/* The segments, as last listed. */
	uint64_t *bases;
	size_t n_bases;
	struct seg_head *heads;      /* per listed base, for seeks */
	struct weir_log_hole *holes;
	size_t n_holes;
	/* The segment being read. */
	bool open;
	struct weir_log_segment seg;
	bool seg_last;               /* the committed point lies in it: read only as far as it */
	bool ix_ready;               /* ix is the open segment's */
	struct weir_log_index ix;
	uint64_t ix_base;            /* ix's segment: a sealed one's is kept across reopens */
	bool via_index;              /* positioned by its index: a bad batch next may be the index's fault */
	uint64_t pos;                /* the next entry's offset */
	int inotify_fd;
	int mark_fd;
	struct weir_log_checkpoint mark;
	struct weir_log_index_builder scratch;
	struct weir_log_reader_stats st;
	char err[768];
};

int weir_log_reader_fail(struct weir_log_reader *r, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The checkpoint as it is now: 0, or -1 (said). */
int weir_log_reader_read_committed(struct weir_log_reader *r);
/* The segments as they are now, keeping what is known of those still there. */
int weir_log_reader_list(struct weir_log_reader *r);
/* Opens the segment holding r->pos (from its start).  TRUNCATED when
 * retention took it; r->pos moves past stated holes. */
int weir_log_reader_open_segment(struct weir_log_reader *r);
void weir_log_reader_close_segment(struct weir_log_reader *r);
/* The open segment's index: from file, else built from the segment. */
int weir_log_reader_ensure_index(struct weir_log_reader *r);
/* Continues in the open segment from index entry i (-1: its start). */
void weir_log_reader_goto_entry(struct weir_log_reader *r, long i);
/* The next entry at or past r->pos, without moving r->pos. */
int weir_log_reader_read_entry(struct weir_log_reader *r, const struct weir_log_entry **e);

#endif
