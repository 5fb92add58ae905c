/* A segment reader's step to the next entry of the batch it is in: inline,
 * so that a reader taking entries one after another (weir_log_reader_next)
 * makes no call for it.  Internal to log/. */
#ifndef WEIR_LOG_SEGMENT_STEP_H
#define WEIR_LOG_SEGMENT_STEP_H

#include <inttypes.h>
#include <stdio.h>

#include "weir_log.h"
#include "weir_log_codec.h"

/* As weir_log_segment_next, inside a batch already entered (s->batch_left
 * is not 0): 1 and *out, or -1 and err. */
static inline int
weir_log_segment_step(struct weir_log_segment *s, const struct weir_log_entry **out, char *err, size_t errlen)
{
	struct weir_log_entry *e = (struct weir_log_entry *)s->scratch;
	uint64_t ring_pos;
	const char *why = weir_log_entry_decode(&s->codec, (struct weir_record *)(e + 1), &s->cur, s->batch_end,
						&ring_pos, s->view ? &s->payload : NULL);
	if (why) { /* batch_enter decoded it already, unless a view reader's */
		snprintf(err, errlen, "entry at offset %" PRIu64 ": %s", s->next_offset, why);
		return -1;
	}
	e->offset = s->next_offset++;
	e->incarnation = s->incarnation;
	e->ring_pos = ring_pos;
	e->worker = s->worker;
	e->pad16 = 0;
	e->pad32 = 0;
	s->batch_left--;
	*out = e;
	return 1;
}

#endif
