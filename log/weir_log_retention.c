#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir_log_index.h"
#include "weir_log_disk.h"
#include "weir_log_reader.h"

/* The lowest mark of the topic's registered readers (UINT64_MAX: none); a
 * mark that cannot be read holds everything (0), and says so. */
static uint64_t
lowest_mark(const char *dir)
{
	char path[PATH_MAX + 300], why[512];
	snprintf(path, sizeof(path), "%s/%s", dir, WEIR_LOG_READERS_DIR);
	DIR *d = opendir(path);
	if (d == NULL)
		return UINT64_MAX;
	uint64_t low = UINT64_MAX;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", dir, WEIR_LOG_READERS_DIR, de->d_name);
		struct weir_log_checkpoint m;
		int rc = weir_log_slots_read(path, &m, why, sizeof(why));
		if (rc < 0) {
			fprintf(stderr, "weir-log: reader mark %s: %s: retention holds every segment\n", path, why);
			m.committed_offset = 0;
		} else if (rc == 0) {
			m.committed_offset = 0;
		}
		if (m.committed_offset < low)
			low = m.committed_offset;
	}
	closedir(d);
	return low;
}

static uint64_t
file_bytes(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* The newest rx time in a sealed segment: its index's footer, else read. */
static uint64_t
segment_max_rx(const char *dir, uint64_t base)
{
	struct weir_log_index ix;
	char why[256], path[PATH_MAX + 32];
	if (weir_log_index_load(dir, base, true, true, &ix, why, sizeof(why)) == 1) {
		uint64_t m = ix.max_rx;
		weir_log_index_release(&ix);
		return m;
	}
	struct weir_log_index_builder b = { 0 };
	weir_log_segment_path(dir, base, path, sizeof(path));
	uint64_t m = weir_log_index_build(path, SIZE_MAX, false, &ix, &b, why, sizeof(why)) == 0 ? ix.max_rx : UINT64_MAX;
	if (m != UINT64_MAX)
		weir_log_index_release(&ix);
	weir_log_index_free(&b);
	return m;
}

static uint64_t
first_rx(const char *dir, uint64_t base)
{
	char path[PATH_MAX + 32], why[256];
	struct weir_log_segment s;
	weir_log_segment_path(dir, base, path, sizeof(path));
	if (weir_log_segment_open(&s, path, why, sizeof(why)) != 0)
		return 0;
	s.view = true;
	const struct weir_log_entry *e;
	uint64_t rx = weir_log_segment_next(&s, &e, why, sizeof(why)) == 1 ? weir_log_entry_record(e)->rx_ns : 0;
	weir_log_segment_close(&s);
	return rx;
}

int
weir_log_retention_apply(const char *dir, uint64_t active_base, const struct weir_log_retention *p, uint64_t now_ns,
			 struct weir_log_retention_stats *st, char *err, size_t errlen)
{
	uint64_t *bases;
	size_t n;
	if (weir_log_list_segments(dir, &bases, &n) != 0) {
		snprintf(err, errlen, "%s: cannot list: %s", dir, strerror(errno));
		return -1;
	}
	uint64_t kept;
	if (n && bases[0] > 0 && (p->max_bytes || p->max_age_ns) && weir_log_retained_read(dir, &kept) == 0)
		weir_log_retained_write(dir, bases[0]); /* a log retention trimmed before it said so */
	uint64_t *bytes = calloc(n ? n : 1, sizeof(*bytes)), total = 0;
	char seg[PATH_MAX + 32], idx[PATH_MAX + 32];
	for (size_t i = 0; bytes && i < n; i++) {
		weir_log_segment_path(dir, bases[i], seg, sizeof(seg));
		weir_log_index_path(dir, bases[i], idx, sizeof(idx));
		bytes[i] = file_bytes(seg) + file_bytes(idx);
		total += bytes[i];
	}
	size_t first = 0;
	uint64_t held = 0, mark = UINT64_MAX;
	bool marks_read = false;
	/* Oldest first; never the segment being written (nor any after it). */
	for (size_t i = 0; bytes && i + 1 < n && bases[i] < active_base; i++) {
		bool over_size = p->max_bytes && total > p->max_bytes;
		bool too_old = false;
		if (!over_size && p->max_age_ns) {
			uint64_t newest = segment_max_rx(dir, bases[i]);
			too_old = newest != UINT64_MAX && newest + p->max_age_ns < now_ns;
		}
		if (!over_size && !too_old)
			break;
		if (!marks_read) {
			mark = lowest_mark(dir);
			marks_read = true;
		}
		uint64_t end = bases[i + 1];
		if (mark < end) {
			if (!p->hard) {
				held = 1;
				break;
			}
			uint64_t unread = end - (mark > bases[i] ? mark : bases[i]);
			weir_sw_add(&st->unread_deleted, unread);
			fprintf(stderr, "weir-log: %s: retention is hard: deleting offsets %" PRIu64 " to %" PRIu64
					", %" PRIu64 " of them not yet read by a registered reader (lowest mark %" PRIu64 ")\n",
				dir, bases[i], end - 1, unread, mark);
		}
		if (weir_log_retained_write(dir, end) != 0) { /* said before it is done */
			snprintf(err, errlen, "%s/%s: cannot write: %s", dir, WEIR_LOG_RETAINED_FILE, strerror(errno));
			break;
		}
		weir_log_segment_path(dir, bases[i], seg, sizeof(seg));
		weir_log_index_path(dir, bases[i], idx, sizeof(idx));
		if (unlink(seg) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "%s: cannot delete: %s", seg, strerror(errno));
			break;
		}
		unlink(idx);
		total -= bytes[i];
		weir_sw_add(&st->segments_deleted, 1);
		weir_sw_add(&st->bytes_freed, bytes[i]);
		first = i + 1;
	}
	if (first)
		weir_log_fsync_dir(dir);
	if (n && (first || st->oldest_offset != bases[first] || st->oldest_rx_ns == 0)) {
		weir_sw_set(&st->oldest_offset, bases[first]);
		weir_sw_set(&st->oldest_rx_ns, first_rx(dir, bases[first]));
	}
	weir_sw_set(&st->held, held);
	weir_sw_set(&st->disk_bytes, total);
	free(bytes);
	free(bases);
	return 0;
}
