#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "weir_lockfile.h"

/*
 * An flock, not a pid file: the kernel drops it when its holder dies however
 * it dies, so a crashed writer never blocks its restart and a reused pid
 * never passes for a live writer.  The pid inside is only for the message.
 */
int
weir_lockfile_take(const char *path, const char *what, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot open the lock: %s", path, strerror(e));
		errno = e; /* ENOENT: its directory is not there yet */
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		close(fd);
		if (e == EWOULDBLOCK)
			snprintf(err, errlen, "%s: %s is held by another process (pid %s): refusing to be a second one",
				 path, what, pid[0] ? pid : "unknown");
		else
			snprintf(err, errlen, "%s: cannot lock: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		snprintf(err, errlen, "%s: cannot write the holder's pid: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}


bool
weir_lockfile_held(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd); /* lets go of the shared lock, if it was had */
	return held;
}
