#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir_log_disk.h"

int
weir_log_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
weir_log_mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int
weir_log_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* The directory path is in, stat'ed: 0, or -1. */
static int
stat_parent(const char *path, struct stat *st)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0'; /* "/x": the root */
	return stat(dir, st);
}

/* Root makes what it makes its directory's owner's: the service's user
 * appends to a segment an operator's sudo salvage wrote. */
static int
own_like(int fd, const struct stat *dir)
{
	struct stat st;
	if (geteuid() != 0 || fstat(fd, &st) != 0 || (st.st_uid == dir->st_uid && st.st_gid == dir->st_gid))
		return 0;
	return fchown(fd, dir->st_uid, dir->st_gid);
}

int
weir_log_create(const char *path, int flags)
{
	struct stat dir;
	bool like = stat_parent(path, &dir) == 0;
	int fd = open(path, flags, like ? dir.st_mode & 0666 : 0640);
	if (fd >= 0 && like && own_like(fd, &dir) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
weir_log_mkdir_like(const char *path)
{
	struct stat dir;
	if (stat_parent(path, &dir) != 0)
		return -1;
	if (mkdir(path, dir.st_mode & 0777) != 0)
		return errno == EEXIST ? 0 : -1;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = own_like(fd, &dir);
	close(fd);
	return rc;
}
