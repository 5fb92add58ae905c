#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "weir_log_pvt.h"

/* Opens (creating) DIR/committed and learns its generation. */
int
weir_log_checkpoint_open(struct weir_log_topic *t, const struct weir_log_checkpoint *found)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", t->dir, WEIR_LOG_CHECKPOINT_FILE);
	t->checkpoint_fd = weir_log_create(path, O_RDWR | O_CREAT | O_CLOEXEC);
	if (t->checkpoint_fd < 0)
		return -1;
	if (found)
		t->checkpoint = *found;
	/* What survived recovery is the log now: committed from here on, but
	 * not by this opening (the figures count this process's commits). */
	int rc = weir_log_topic_commit(t, true);
	weir_sw_set(&t->records_committed, 0);
	weir_sw_set(&t->bytes_committed, 0);
	return rc;
}

int
weir_log_topic_commit(struct weir_log_topic *t, bool durable)
{
	struct weir_log_checkpoint *c = &t->checkpoint;
	bool moved = c->committed_offset != t->next_offset || c->segment_base != t->base_offset ||
		     c->segment_bytes != t->segment_bytes;
	if (!moved) {
		if (!durable || !t->checkpoint_unsynced)
			return 0;
		if (fdatasync(t->checkpoint_fd) != 0)
			return -1;
		t->checkpoint_unsynced = false;
		return 0;
	}
	weir_log_index_commit(t); /* before: a reader may follow it as far as the checkpoint */
	uint64_t records = t->next_offset - c->committed_offset, bytes = t->bytes_appended - t->bytes_at_commit;
	c->segment_base = t->base_offset;
	c->segment_bytes = t->segment_bytes;
	c->committed_offset = t->next_offset;
	if (weir_log_checkpoint_write(t->checkpoint_fd, c, durable) != 0)
		return -1;
	t->checkpoint_unsynced = !durable;
	weir_sw_add(&t->records_committed, records);
	weir_sw_add(&t->bytes_committed, bytes);
	t->bytes_at_commit = t->bytes_appended;
	return 0;
}
