/* The topic reader's figures and its registration (TOPIC/readers/NAME). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir_log_disk.h"
#include "weir_log_reader_pvt.h"

uint64_t
weir_log_reader_position(const struct weir_log_reader *r)
{
	return r->pos;
}

uint64_t
weir_log_reader_committed(const struct weir_log_reader *r)
{
	return r->committed;
}

int
weir_log_reader_refresh(struct weir_log_reader *r)
{
	return weir_log_reader_read_committed(r);
}

const char *
weir_log_reader_error(const struct weir_log_reader *r)
{
	return r->err;
}

void
weir_log_reader_stats(const struct weir_log_reader *r, struct weir_log_reader_stats *s)
{
	*s = r->st;
}

int
weir_log_reader_register(struct weir_log_reader *r, const char *name)
{
	char path[PATH_MAX + 300];
	snprintf(path, sizeof(path), "%s/%s", r->dir, WEIR_LOG_READERS_DIR);
	if (strchr(name, '/') || name[0] == '.' || name[0] == 0)
		return weir_log_reader_fail(r, -1, "reader name \"%s\": letters, digits, '-' and '_' only", name);
	if (weir_log_mkdir_like(path) != 0)
		return weir_log_reader_fail(r, -1, "%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s/%s", r->dir, WEIR_LOG_READERS_DIR, name);
	char why[512];
	int have = weir_log_slots_read(path, &r->mark, why, sizeof(why));
	if (have <= 0)
		memset(&r->mark, 0, sizeof(r->mark));
	if (r->mark_fd < 0) /* once: a register tried again (its mark refused by a full disk) keeps it */
		r->mark_fd = weir_log_create(path, O_RDWR | O_CREAT | O_CLOEXEC);
	if (r->mark_fd < 0)
		return weir_log_reader_fail(r, -1, "%s: %s", path, strerror(errno));
	if (have <= 0)
		return weir_log_reader_mark(r, r->pos);
	return 0;
}

int
weir_log_reader_mark(struct weir_log_reader *r, uint64_t offset)
{
	if (r->mark_fd < 0)
		return weir_log_reader_fail(r, -1, "not registered");
	r->mark.committed_offset = offset;
	if (weir_log_checkpoint_write(r->mark_fd, &r->mark, false) != 0)
		return weir_log_reader_fail(r, -1, "reader mark: %s", strerror(errno));
	return 0;
}

int
weir_log_reader_unregister(const char *topic_dir, const char *name)
{
	char path[PATH_MAX + 300];
	snprintf(path, sizeof(path), "%s/%s/%s", topic_dir, WEIR_LOG_READERS_DIR, name);
	return unlink(path);
}

void
weir_log_reader_place(const struct weir_log_reader *r, struct weir_log_place *p)
{
	p->segment = r->open ? r->seg.base_offset : 0;
	p->pos = !r->open ? 0 : r->seg.batch_left ? r->seg.batch_pos : r->seg.pos;
}

/* A segment's bytes that may be read: the committed one's as the
 * checkpoint says (its file may be longer: direct I/O's padding), an
 * older one's whole file. */
static uint64_t
segment_bytes(const struct weir_log_reader *r, uint64_t base, bool *last)
{
	*last = r->have_ck && base == r->ck.segment_base;
	if (*last)
		return r->ck.segment_bytes;
	char path[PATH_MAX + 32];
	struct stat st;
	weir_log_segment_path(r->dir, base, path, sizeof(path));
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

uint64_t
weir_log_reader_bytes_from(const struct weir_log_reader *r, const struct weir_log_place *p)
{
	/* The segments as they are now: the reader's own list is of when it
	 * last needed one, and a consumer measuring from behind it (a place
	 * kept) wants those rolled since too. */
	uint64_t *bases = NULL;
	size_t n = 0;
	if (weir_log_list_segments(r->dir, &bases, &n) != 0)
		return 0;
	uint64_t total = 0;
	bool last = false;
	for (size_t i = 0; i < n && !last; i++) {
		if (bases[i] < p->segment)
			continue;
		uint64_t b = segment_bytes(r, bases[i], &last);
		total += bases[i] > p->segment ? b : b > p->pos ? b - p->pos : 0;
	}
	free(bases);
	return total;
}

uint64_t
weir_log_reader_bytes_behind(const struct weir_log_reader *r)
{
	if (!r->open)
		return 0;
	struct weir_log_place p;
	weir_log_reader_place(r, &p);
	return weir_log_reader_bytes_from(r, &p);
}
