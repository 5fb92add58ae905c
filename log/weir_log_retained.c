#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weir_log_disk.h"

/*
 * TOPIC/retained: the first offset retention keeps, written (durably,
 * renamed into place) before it deletes anything below it.  A reader that
 * finds the first segment starting above it, or a topic with no such
 * statement and no stated hole, knows a segment was lost, not retired.
 */
int
weir_log_retained_read(const char *dir, uint64_t *first)
{
	char path[PATH_MAX + 32], buf[32] = "";
	snprintf(path, sizeof(path), "%s/%s", dir, WEIR_LOG_RETAINED_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	char *end;
	buf[n > 0 ? n : 0] = 0;
	*first = strtoull(buf, &end, 10);
	return end != buf && *end == '\n' ? 1 : -1;
}

int
weir_log_retained_write(const char *dir, uint64_t first)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 40], buf[32];
	snprintf(path, sizeof(path), "%s/%s", dir, WEIR_LOG_RETAINED_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int len = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", first);
	int fd = weir_log_create(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = weir_log_write_all(fd, buf, (size_t)len) == 0 && fsync(fd) == 0 ? 0 : -1;
	close(fd);
	if (rc == 0 && (rename(tmp, path) != 0 || weir_log_fsync_dir(dir) != 0))
		rc = -1;
	return rc;
}
