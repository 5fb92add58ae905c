#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "weir_log.h"
#include "weir_restore.h"

/* The first segment of dir to read so that window_bytes of its tail are. */
static size_t
window_start(const char *dir, const uint64_t *bases, size_t n, uint64_t window_bytes)
{
	uint64_t covered = 0;
	size_t i = n;
	while (i > 0 && covered < window_bytes) {
		char path[PATH_MAX + 32];
		struct stat st;
		weir_log_segment_path(dir, bases[i - 1], path, sizeof(path));
		covered += stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
		i--;
	}
	return i;
}

/* Every entry of a segment that decodes: past a damaged batch it reads on
 * from the next good one (weir-control and weir-read name the damage), so
 * what the log still holds after it is known, not declared lost. */
static int
read_segment(struct weir_restore *r, struct weir_log_segment *s, char *err, size_t errlen)
{
	const struct weir_log_entry *e;
	char why[256];
	for (;;) {
		int rc = weir_log_segment_next(s, &e, why, sizeof(why));
		if (rc == 0 || (rc < 0 && weir_log_segment_resync(s) == 0))
			return 0;
		if (rc == 1 && !weir_restore_note(r, weir_log_entry_record(e))) {
			snprintf(err, errlen, "out of memory for the log's sources and their gaps");
			return -1;
		}
	}
}

static int
read_topic(struct weir_restore *r, const char *dir, uint64_t window_bytes, char *err, size_t errlen)
{
	uint64_t *bases;
	size_t n;
	if (weir_log_list_segments(dir, &bases, &n) != 0) {
		snprintf(err, errlen, "%s: cannot list the log", dir);
		return -1;
	}
	int rc = 0;
	for (size_t i = window_start(dir, bases, n, window_bytes); i < n && rc == 0; i++) {
		char path[PATH_MAX + 32], why[256];
		weir_log_segment_path(dir, bases[i], path, sizeof(path));
		struct weir_log_segment s;
		if (weir_log_segment_open(&s, path, why, sizeof(why)) != 0)
			continue; /* weir-control says what is wrong with it; the rest still counts */
		rc = read_segment(r, &s, err, errlen);
		weir_log_segment_close(&s);
	}
	free(bases);
	return rc;
}

int
weir_restore_from_log(struct weir_restore *r, const char *log_dir, const char (*topics)[32], unsigned n_topics,
		      uint64_t window_bytes, char *err, size_t errlen)
{
	for (unsigned t = 1; t < n_topics; t++) { /* topic 0 holds dead letters: no sequence */
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/%s", log_dir, topics[t]);
		if (read_topic(r, dir, window_bytes, err, errlen) != 0)
			return -1;
	}
	return 0;
}
