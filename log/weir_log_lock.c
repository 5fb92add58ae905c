#include <stdio.h>

#include "weir_lockfile.h"
#include "weir_log.h"

int
weir_log_lock_topic(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", dir, WEIR_LOG_LOCK_FILE);
	return weir_lockfile_take(path, "the topic's writer lock", err, errlen);
}
