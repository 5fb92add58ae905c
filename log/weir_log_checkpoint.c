#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "weir_crc32c.h"
#include "weir_log_disk.h"

/* Slots in separate blocks: a torn block write spoils one at most. */
#define SLOT_STRIDE 4096

static bool
slot_valid(const struct weir_log_checkpoint *c)
{
	return c->magic == WEIR_LOG_CHECKPOINT_MAGIC && c->version == WEIR_LOG_CHECKPOINT_VERSION &&
	       c->crc32c == weir_crc32c(c, offsetof(struct weir_log_checkpoint, crc32c));
}

int
weir_log_checkpoint_read(const char *dir, struct weir_log_checkpoint *c, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", dir, WEIR_LOG_CHECKPOINT_FILE);
	return weir_log_slots_read(path, c, err, errlen);
}

int
weir_log_slots_read(const char *path, struct weir_log_checkpoint *c, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size == 0) {
		close(fd); /* created, never written: a crash at the topic's first open */
		return 0;
	}
	struct weir_log_checkpoint slot[2];
	bool ok[2];
	for (int i = 0; i < 2; i++)
		ok[i] = pread(fd, &slot[i], sizeof(slot[i]), (off_t)i * SLOT_STRIDE) == (ssize_t)sizeof(slot[i]) &&
			slot_valid(&slot[i]);
	close(fd);
	if (!ok[0] && !ok[1]) {
		snprintf(err, errlen,
			 "%s: neither checkpoint slot is valid (bad CRC or torn): the committed point is unknown, so "
			 "nothing can be cut safely; move the file aside only after checking the log with weir-read --verify",
			 path);
		return -1;
	}
	*c = ok[0] && (!ok[1] || slot[0].generation > slot[1].generation) ? slot[0] : slot[1];
	return 1;
}

int
weir_log_checkpoint_write(int fd, struct weir_log_checkpoint *c, bool durable)
{
	c->magic = WEIR_LOG_CHECKPOINT_MAGIC;
	c->version = WEIR_LOG_CHECKPOINT_VERSION;
	c->generation++;
	c->crc32c = weir_crc32c(c, offsetof(struct weir_log_checkpoint, crc32c));
	off_t at = (off_t)(c->generation & 1) * SLOT_STRIDE;
	if (pwrite(fd, c, sizeof(*c), at) != (ssize_t)sizeof(*c))
		return -1;
	return durable ? fdatasync(fd) : 0;
}
