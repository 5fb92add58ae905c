/* A topic as it stands on disk, read-only, for whoever looks while nothing
 * writes it (weir-control waiting for the next dataplane still serves it):
 * its committed point, its segments, its registered readers' marks. */
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "weir_log.h"
#include "weir_log_reader.h"

int
weir_log_view(const char *topic_dir, struct weir_log_view *v, weir_log_view_reader_fn each, void *ctx)
{
	memset(v, 0, sizeof(*v));
	char path[PATH_MAX + 300], why[256];
	struct weir_log_checkpoint c;
	snprintf(path, sizeof(path), "%s/%s", topic_dir, WEIR_LOG_CHECKPOINT_FILE);
	if (weir_log_slots_read(path, &c, why, sizeof(why)) == 1)
		v->next_offset = c.committed_offset;
	DIR *d = opendir(topic_dir);
	if (d == NULL)
		return -1;
	v->first_offset = UINT64_MAX;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", topic_dir, de->d_name);
		if (de->d_name[0] == '.' || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		v->bytes += (uint64_t)st.st_size;
		size_t n = strlen(de->d_name);
		if (n > 4 && strcmp(de->d_name + n - 4, ".log") == 0) {
			uint64_t base = strtoull(de->d_name, NULL, 10);
			v->segments++;
			v->first_offset = base < v->first_offset ? base : v->first_offset;
		}
	}
	closedir(d);
	if (v->first_offset == UINT64_MAX)
		v->first_offset = v->next_offset;
	snprintf(path, sizeof(path), "%s/%s", topic_dir, WEIR_LOG_READERS_DIR);
	d = each ? opendir(path) : NULL;
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", topic_dir, WEIR_LOG_READERS_DIR, de->d_name);
		if (weir_log_slots_read(path, &c, why, sizeof(why)) == 1)
			each(ctx, de->d_name, c.committed_offset);
	}
	if (d != NULL)
		closedir(d);
	return 0;
}
