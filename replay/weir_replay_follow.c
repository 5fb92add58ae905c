#include <stdio.h>
#include <string.h>

#include "weir_replay_follow.h"

#define MAX_SOURCES 65536u
#define MAX_POINTS (4u << 20) /* 64 MiB of points: 128 M events of the newest segments */

/* Forgets every point and goes on from the newest segment's start. */
static void
start_over(struct weir_replay_follow *f)
{
	weir_replay_hints_clear(&f->hints);
	f->base = weir_log_reader_newest_segment(f->reader);
	if (weir_log_reader_seek(f->reader, f->base) < 0)
		f->off = true;
}

int
weir_replay_follow_open(struct weir_replay_follow *f, const char *log_dir, const char *topic, char *err,
			size_t errlen)
{
	memset(f, 0, sizeof(*f));
	if (weir_replay_hints_init(&f->hints, MAX_SOURCES, MAX_POINTS) != 0) {
		snprintf(err, errlen, "no memory for the follower's table");
		return -1;
	}
	if (weir_log_reader_open(&f->reader, log_dir, topic, err, errlen) != 0) {
		weir_replay_hints_free(&f->hints);
		return -1;
	}
	start_over(f);
	return 0;
}

void
weir_replay_follow_step(struct weir_replay_follow *f, unsigned max_entries)
{
	if (f->off)
		return;
	if (f->hints.full) {
		if (weir_log_reader_newest_segment(f->reader) <= f->base)
			return; /* bounded: the newest segment is read with the points it has */
		start_over(f);
	}
	weir_log_reader_wait(f->reader, 0);
	for (unsigned n = 0; n < max_entries; n++) {
		struct weir_log_item it;
		int rc = weir_log_reader_next(f->reader, &it);
		if (rc == WEIR_LOG_READ_END)
			return;
		if (rc == WEIR_LOG_READ_TRUNCATED) { /* retention went past it */
			start_over(f);
			return;
		}
		if (rc == WEIR_LOG_READ_ERROR) {
			fprintf(stderr, "weir-replay: the follower stops (requests are read without its points): %s\n",
				weir_log_reader_error(f->reader));
			weir_replay_hints_clear(&f->hints);
			f->off = true;
			return;
		}
		const struct weir_record *r = it.record;
		if (r->kind == WEIR_REC_EVENT)
			weir_replay_hints_see(&f->hints, r->source, r->seq, it.entry->offset,
					      (r->flags & (WEIR_REC_F_LATE | WEIR_REC_F_RETRANSMITTED)) != 0);
	}
}

void
weir_replay_follow_close(struct weir_replay_follow *f)
{
	if (f->reader)
		weir_log_reader_close(f->reader);
	f->reader = NULL;
	weir_replay_hints_free(&f->hints);
}
