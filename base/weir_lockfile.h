/* A lock file: an flock held for a process's life, the holder's pid inside
 * for the message a second process gets. */
#ifndef WEIR_LOCKFILE_H
#define WEIR_LOCKFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Takes path (created 0644) exclusively, without waiting: its descriptor
 * (closing it lets go), or -1 with err saying what (its role in the
 * message) is held by which pid; errno EWOULDBLOCK then. */
int weir_lockfile_take(const char *path, const char *what, char *err, size_t errlen);
/* Whether a live process holds path's lock (a missing file: no). */
bool weir_lockfile_held(const char *path);

#endif
