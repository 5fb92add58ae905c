/* Walks every entry of one topic directory, segment by segment, for tests. */
#ifndef WEIR_TEST_LOG_WALK_H
#define WEIR_TEST_LOG_WALK_H
#include <stdio.h>
#include <stdlib.h>

#include "weir_log.h"

/* Calls fn for each entry; returns the entries seen, or -1 at the first corrupt one. */
static inline long
log_walk(const char *dir, void (*fn)(const struct weir_log_entry *, void *), void *ctx)
{
	uint64_t *bases;
	size_t n;
	char path[600], err[256];
	long count = 0;
	if (weir_log_list_segments(dir, &bases, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct weir_log_segment s;
		weir_log_segment_path(dir, bases[i], path, sizeof(path));
		if (weir_log_segment_open(&s, path, err, sizeof(err)) != 0) {
			count = -1;
			break;
		}
		const struct weir_log_entry *e;
		int rc;
		while ((rc = weir_log_segment_next(&s, &e, err, sizeof(err))) == 1) {
			if (fn)
				fn(e, ctx);
			count++;
		}
		weir_log_segment_close(&s);
		if (rc < 0) {
			count = -1;
			break;
		}
	}
	free(bases);
	return count;
}
#endif
