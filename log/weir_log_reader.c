#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir_log_index.h"
#include "weir_log_reader.h"
#include "weir_log_disk.h"
#include "weir_log_reader_pvt.h"
#include "weir_log_segment_step.h"

/* Entries past the committed segment's last index entry that a seek scans
 * rather than load its index again (about 0.1 ms of scanning). */
#define INDEX_BEHIND 4096u

int
weir_log_reader_fail(struct weir_log_reader *r, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* A segment that does not read whole (what says where): the way on with
 * it, since a reader never passes damage quietly. */
static int
damaged(struct weir_log_reader *r, const char *what)
{
	return weir_log_reader_fail(r, -1, "%s; weir-read --salvage %s keeps every good batch and states the rest lost",
				    what, r->dir);
}

/* Reads TOPIC/committed again; a topic without one (older than
 * checkpoints) counts as committed to the end of its last segment. */
int
weir_log_reader_read_committed(struct weir_log_reader *r)
{
	char why[512];
	struct weir_log_checkpoint ck;
	int rc = weir_log_checkpoint_read(r->dir, &ck, why, sizeof(why));
	if (rc < 0)
		return weir_log_reader_fail(r, -1, "%s", why);
	r->have_ck = rc == 1;
	if (r->have_ck) {
		r->ck = ck;
		r->committed = ck.committed_offset;
	} else {
		r->committed = UINT64_MAX;
	}
	return 0;
}

static void
drop_heads(struct weir_log_reader *r)
{
	for (size_t i = 0; i < r->n_bases && r->heads; i++)
		weir_log_index_release(&r->heads[i].head);
	free(r->heads);
	r->heads = NULL;
}

int
weir_log_reader_list(struct weir_log_reader *r)
{
	uint64_t *bases;
	size_t n;
	if (weir_log_list_segments(r->dir, &bases, &n) != 0)
		return weir_log_reader_fail(r, -1, "%s: cannot list: %s", r->dir, strerror(errno));
	struct seg_head *heads = calloc(n ? n : 1, sizeof(*heads));
	if (heads == NULL) {
		free(bases);
		return weir_log_reader_fail(r, -1, "out of memory");
	}
	/* keep what is known of segments still there */
	for (size_t i = 0, j = 0; i < n; i++) {
		heads[i].base = bases[i];
		while (j < r->n_bases && r->bases[j] < bases[i])
			j++;
		if (j < r->n_bases && r->bases[j] == bases[i] && r->heads && r->heads[j].state) {
			heads[i] = r->heads[j];
			r->heads[j].state = 0;
			memset(&r->heads[j].head, 0, sizeof(r->heads[j].head));
		}
	}
	drop_heads(r);
	free(r->bases);
	r->bases = bases;
	r->n_bases = n;
	r->heads = heads;
	return 0;
}

int
weir_log_reader_open(struct weir_log_reader **out, const char *log_dir, const char *topic, char *err, size_t errlen)
{
	struct weir_log_reader *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->inotify_fd = -1;
	r->mark_fd = -1;
	snprintf(r->dir, sizeof(r->dir), "%s/%s", log_dir, topic);
	struct stat st;
	int e = stat(r->dir, &st) != 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
	if (e) {
		snprintf(err, errlen, "%s: not a topic directory: %s", r->dir, strerror(e));
		free(r);
		errno = e;
		return -1;
	}
	if (weir_log_reader_read_committed(r) != 0 || weir_log_reader_list(r) != 0 ||
	    weir_log_holes_read(r->dir, &r->holes, &r->n_holes) != 0) {
		snprintf(err, errlen, "%s", r->err[0] ? r->err : strerror(errno));
		weir_log_reader_close(r);
		return -1;
	}
	/* From the first offset kept: where retention says the topic starts,
	 * else 0 (a stated hole is skipped there, a lost segment reported). */
	uint64_t kept = 0;
	r->pos = r->n_bases && weir_log_retained_read(r->dir, &kept) == 1 && kept >= r->bases[0] ? r->bases[0] : 0;
	*out = r;
	return 0;
}

void
weir_log_reader_close_segment(struct weir_log_reader *r)
{
	if (r->open)
		weir_log_segment_close(&r->seg);
	if (r->ix_ready && !r->ix.sealed) /* the last segment's grows: read it again */
		weir_log_index_release(&r->ix);
	r->open = r->via_index = false;
	r->ix_ready = r->ix_ready && r->ix.sealed;
}

void
weir_log_reader_close(struct weir_log_reader *r)
{
	if (r == NULL)
		return;
	weir_log_reader_close_segment(r);
	if (r->ix_ready)
		weir_log_index_release(&r->ix);
	drop_heads(r);
	free(r->bases);
	free(r->holes);
	weir_log_index_free(&r->scratch);
	if (r->inotify_fd >= 0)
		close(r->inotify_fd);
	if (r->mark_fd >= 0)
		close(r->mark_fd);
	free(r);
}

/* How far the open segment may be read now. */
static int
set_limit(struct weir_log_reader *r)
{
	bool last = r->have_ck && r->ck.segment_base == r->seg.base_offset;
	size_t limit = last ? (size_t)r->ck.segment_bytes : SIZE_MAX;
	char why[512];
	if (weir_log_segment_extend(&r->seg, limit, why, sizeof(why)) != 0)
		return weir_log_reader_fail(r, -1, "%s", why);
	r->seg_last = last;
	return 0;
}

static bool
stated_hole(const struct weir_log_reader *r, uint64_t first, uint64_t end)
{
	for (size_t i = 0; i < r->n_holes; i++)
		if (r->holes[i].first <= first && r->holes[i].last + 1 >= end)
			return true;
	return false;
}

static bool
listed(const struct weir_log_reader *r, uint64_t base)
{
	for (size_t i = 0; i < r->n_bases; i++)
		if (r->bases[i] == base)
			return true;
	return false;
}

/* Opens the segment holding r->pos (from its start).  TRUNCATED when
 * retention took it; r->pos moves past stated holes. */
int
weir_log_reader_open_segment(struct weir_log_reader *r)
{
	/* Past the last segment listed, where the checkpoint knows newer ones:
	 * the listing is from before they were made (else a seek there would
	 * land at the last listed one's end, then the next segment's start). */
	if (r->n_bases && r->pos >= r->bases[r->n_bases - 1] && r->have_ck &&
	    r->ck.segment_base > r->bases[r->n_bases - 1] && weir_log_reader_list(r) != 0)
		return -1;
	size_t i = r->n_bases;
	while (i > 0 && r->bases[i - 1] > r->pos)
		i--;
	if (i == 0) {
		weir_log_reader_close_segment(r);
		if (weir_log_reader_list(r) != 0)
			return -1;
		if (r->n_bases == 0)
			return weir_log_reader_fail(r, -1, "%s: no segments", r->dir);
		if (r->pos < r->bases[0]) {
			uint64_t lost = r->bases[0] - r->pos;
			uint64_t kept = 0;
			if (stated_hole(r, r->pos, r->bases[0])) {
				r->st.holes_skipped += lost;
			} else if (weir_log_retained_read(r->dir, &kept) != 1 || kept < r->bases[0]) {
				return weir_log_reader_fail(r, -1, "%s: offsets %" PRIu64 " to %" PRIu64 " are missing: the first "
					"segment starts at %" PRIu64 ", and neither retention (%s) nor salvage (%s) states "
					"them: a segment file was deleted or lost", r->dir, r->pos, r->bases[0] - 1,
					r->bases[0], WEIR_LOG_RETAINED_FILE, WEIR_LOG_HOLES_FILE);
			} else {
				r->st.truncated += lost;
				weir_log_reader_fail(r, WEIR_LOG_READ_TRUNCATED, "%s: truncated: first offset is now %" PRIu64
					 " (%" PRIu64 " offsets from %" PRIu64 " were deleted by retention before this reader read them)",
				     r->dir, r->bases[0], lost, r->pos);
				r->pos = r->bases[0];
				return WEIR_LOG_READ_TRUNCATED;
			}
			r->pos = r->bases[0];
		}
		i = 1;
		while (i < r->n_bases && r->bases[i] <= r->pos)
			i++;
	}
	if (r->open && r->seg.base_offset == r->bases[i - 1])
		/* Open already: the caller positions it.  The committed one may
		 * have grown (or been rolled past): its mapping is extended to
		 * what is committed now, not made again (serve seeks there for
		 * every request). */
		return r->seg_last ? set_limit(r) : 0;
	weir_log_reader_close_segment(r);
	char path[PATH_MAX + 32], why[512];
	weir_log_segment_path(r->dir, r->bases[i - 1], path, sizeof(path));
	if (weir_log_segment_open(&r->seg, path, why, sizeof(why)) != 0) {
		uint64_t base = r->bases[i - 1];
		if (errno != ENOENT)
			return weir_log_reader_fail(r, -1, "%s", why);
		/* Deleted since the listing (retention): list again; once it
		 * is gone from the listing too, the next one is opened. */
		if (weir_log_reader_list(r) != 0)
			return -1;
		if (listed(r, base))
			return weir_log_reader_fail(r, -1, "%s", why);
		return weir_log_reader_open_segment(r);
	}
	r->seg.view = true;
	r->open = true;
	r->st.segments_opened++;
	if (set_limit(r) != 0)
		return -1;
	return 0;
}

/* The committed segment's index, kept across seeks while it grows, is
 * loaded again once the seek is far past its last entry (a scan from there
 * costs more than the load). */
static bool
index_behind(const struct weir_log_reader *r)
{
	const struct weir_log_index *ix = &r->ix;
	return ix->n_entries && r->pos > ix->entries[ix->n_entries - 1].offset + INDEX_BEHIND;
}

/* The open segment's index: from file, else built from the segment. */
int
weir_log_reader_ensure_index(struct weir_log_reader *r)
{
	if (r->ix_ready && r->ix_base == r->seg.base_offset && (r->ix.sealed || (r->seg_last && !index_behind(r))))
		return 0;
	if (r->ix_ready)
		weir_log_index_release(&r->ix);
	r->ix_ready = false;
	char why[512];
	int rc = weir_log_index_load(r->dir, r->seg.base_offset, !r->seg_last, false, &r->ix, why, sizeof(why));
	if (rc == 1 && (!r->seg_last || r->ix.n_entries == 0 || r->ix.entries[r->ix.n_entries - 1].pos < r->seg.limit)) {
		r->st.indexes_loaded++;
	} else {
		if (rc == 1)
			weir_log_index_release(&r->ix);
		if (weir_log_index_build(r->seg.path, r->seg.limit, !r->seg_last, &r->ix, &r->scratch, why,
					 sizeof(why)) != 0)
			return damaged(r, why);
		r->st.indexes_rebuilt++;
	}
	r->ix_ready = true;
	r->ix_base = r->seg.base_offset;
	return 0;
}

/* Continues in the open segment from index entry i (-1: its start). */
void
weir_log_reader_goto_entry(struct weir_log_reader *r, long i)
{
	if (i < 0 || (size_t)i >= r->ix.n_entries || r->ix.entries[i].pos >= r->seg.limit) {
		weir_log_segment_goto(&r->seg, sizeof(struct weir_log_segment_hdr), r->seg.base_offset);
		r->via_index = false;
		return;
	}
	weir_log_segment_goto(&r->seg, (size_t)r->ix.entries[i].pos, r->ix.entries[i].offset);
	r->via_index = true;
}

int
weir_log_reader_seek(struct weir_log_reader *r, uint64_t offset)
{
	r->pos = offset;
	if (r->n_bases == 0) {
		if (weir_log_reader_list(r) != 0)
			return -1;
		if (r->n_bases == 0)
			return 0; /* a topic not yet written: nothing open; read from there when it is */
	}
	int rc = weir_log_reader_open_segment(r);
	if (rc != 0)
		return rc;
	if (r->pos == r->seg.base_offset) {
		weir_log_reader_goto_entry(r, -1);
		return 0;
	}
	if (weir_log_reader_ensure_index(r) != 0)
		return -1;
	weir_log_reader_goto_entry(r, weir_log_index_find_offset(&r->ix, r->pos));
	return 0;
}

/* The open segment ended (as far as it may be read): on to the next. */
static int
segment_done(struct weir_log_reader *r)
{
	/* The checkpoint as it is now: the segment may have grown, been
	 * rolled past, or (a topic just made) got its first checkpoint. */
	if (weir_log_reader_read_committed(r) != 0 || set_limit(r) != 0)
		return -1;
	if (r->seg.pos < r->seg.limit)
		return 1;
	if (r->seg_last)
		return 0; /* at the committed end */
	uint64_t next = r->seg.next_offset;
	if (weir_log_reader_list(r) != 0)
		return -1;
	size_t i = 0;
	while (i < r->n_bases && r->bases[i] <= r->seg.base_offset)
		i++;
	if (i == r->n_bases) {
		if (!r->have_ck)
			return 0; /* no checkpoint: the last segment's end is the end */
		return weir_log_reader_fail(r, -1, "%s: segment %" PRIu64 " is not the committed one, yet none follows it", r->dir,
			    r->seg.base_offset);
	}
	if (i == 0 && next < r->bases[0]) { /* retention took this segment and what followed it */
		r->pos = next;
		return weir_log_reader_open_segment(r);
	}
	if (r->bases[i] != next) {
		if (!stated_hole(r, next, r->bases[i]))
			return weir_log_reader_fail(r, -1, "%s: offsets %" PRIu64 " to %" PRIu64 " are missing between segments %" PRIu64
				    " and %" PRIu64 " (not stated lost in %s)",
				    r->dir, next, r->bases[i] - 1, r->seg.base_offset, r->bases[i], WEIR_LOG_HOLES_FILE);
		r->st.holes_skipped += r->bases[i] - next;
	}
	r->pos = r->bases[i];
	int rc = weir_log_reader_open_segment(r);
	return rc == 0 ? 1 : rc;
}

/* Before a segment's next entry: the committed end read again where the
 * reader reached it, the segment at r->pos opened.  ENTRY: read on; else
 * END, TRUNCATED or ERROR, for read_entry to return. */
static int
reach_segment(struct weir_log_reader *r)
{
	if (r->pos >= r->committed) {
		if (weir_log_reader_read_committed(r) != 0)
			return -1;
		if (r->pos >= r->committed)
			return WEIR_LOG_READ_END;
	}
	if (!r->open) {
		int rc = weir_log_reader_seek(r, r->pos);
		if (rc != 0)
			return rc;
		if (!r->open)
			return WEIR_LOG_READ_END; /* a topic not yet written */
	}
	return WEIR_LOG_READ_ENTRY;
}

/* The next entry at or past r->pos, without moving r->pos. */
static int
read_entry(struct weir_log_reader *r, const struct weir_log_entry **e)
{
	bool retried = false;
	char why[512];
	for (;;) {
		int rc;
		/* The usual entry, inside a batch already checked: the step
		 * inline, no call (with the decode inline: bench_log_reader
		 * sequential 35 -> 41 M entries/s, AMD EPYC). */
		if (__builtin_expect(r->pos < r->committed && r->open && r->seg.batch_left, 1)) {
			rc = weir_log_segment_step(&r->seg, e, why, sizeof(why));
		} else {
			rc = reach_segment(r);
			if (rc != WEIR_LOG_READ_ENTRY)
				return rc;
			rc = weir_log_segment_next(&r->seg, e, why, sizeof(why));
		}
		if (rc == 1) {
			r->via_index = false;
			if ((*e)->offset < r->pos) {
				r->st.seek_scanned++;
				continue;
			}
			return WEIR_LOG_READ_ENTRY;
		}
		if (rc == 0) {
			rc = segment_done(r);
			if (rc < 0)
				return rc;
			if (rc == 0)
				return WEIR_LOG_READ_END;
			continue;
		}
		if (r->via_index) { /* the index sent it astray: build it from the segment, go again */
			weir_log_index_release(&r->ix);
			r->ix_ready = false;
			char p[PATH_MAX];
			snprintf(p, sizeof(p), "%s", r->seg.path);
			if (weir_log_index_build(p, r->seg.limit, !r->seg_last, &r->ix, &r->scratch, why, sizeof(why)) != 0)
				return damaged(r, why);
			r->ix_ready = true;
			r->st.indexes_rebuilt++;
			weir_log_reader_goto_entry(r, weir_log_index_find_offset(&r->ix, r->pos));
			r->via_index = false;
			continue;
		}
		if (!retried) { /* map it afresh once: a page read while the writer rewrote it */
			retried = true;
			weir_log_reader_close_segment(r);
			if (!r->have_ck && weir_log_reader_read_committed(r) != 0) /* a batch still being written, in a topic just made */
				return -1;
			continue;
		}
		char at[PATH_MAX + 600];
		snprintf(at, sizeof(at), "%s: %s", r->seg.path, why);
		return damaged(r, at);
	}
}

/* The seeks by content's (weir_log_reader_find.c); next has its own copy inlined. */
int
weir_log_reader_read_entry(struct weir_log_reader *r, const struct weir_log_entry **e)
{
	return read_entry(r, e);
}

int
weir_log_reader_next(struct weir_log_reader *r, struct weir_log_item *it)
{
	const struct weir_log_entry *e;
	uint64_t from = r->pos; /* moved on past a stated hole by the read */
	int rc = read_entry(r, &e);
	if (rc != WEIR_LOG_READ_ENTRY)
		return rc;
	const struct weir_record *rec = weir_log_entry_record(e);
	it->lost_before = e->offset > from ? e->offset - from : 0;
	it->entry = e;
	it->record = rec;
	it->payload = r->seg.payload;
	it->payload_len = weir_record_payload_len(rec);
	r->pos = e->offset + 1;
	r->st.entries++;
	return WEIR_LOG_READ_ENTRY;
}

int
weir_log_reader_wait(struct weir_log_reader *r, int timeout_ms)
{
	uint64_t was = r->committed;
	uint64_t gen = r->ck.generation;
	if (r->inotify_fd < 0) {
		r->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (r->inotify_fd >= 0 &&
		    inotify_add_watch(r->inotify_fd, r->dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE) < 0) {
			close(r->inotify_fd);
			r->inotify_fd = -1;
		}
	}
	if (weir_log_reader_read_committed(r) != 0)
		return -1;
	if (r->committed != was || r->ck.generation != gen)
		return 1;
	if (r->inotify_fd >= 0) {
		struct pollfd p = { .fd = r->inotify_fd, .events = POLLIN };
		if (poll(&p, 1, timeout_ms) > 0) {
			char buf[4096];
			while (read(r->inotify_fd, buf, sizeof(buf)) > 0)
				;
		}
	} else {
		usleep((useconds_t)(timeout_ms < 10 ? timeout_ms : 10) * 1000); /* no inotify: a short poll */
	}
	if (weir_log_reader_read_committed(r) != 0)
		return -1;
	return r->committed != was || r->ck.generation != gen;
}

uint64_t
weir_log_reader_first(struct weir_log_reader *r)
{
	if (weir_log_reader_list(r) != 0 || r->n_bases == 0)
		return 0;
	return r->bases[0];
}

uint64_t
weir_log_reader_newest_segment(struct weir_log_reader *r)
{
	return weir_log_reader_list(r) != 0 || r->n_bases == 0 ? 0 : r->bases[r->n_bases - 1];
}

