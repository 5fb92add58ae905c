#include <errno.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>

#include "weir_hugedir.h"

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

/* The default huge page size in kB (/proc/meminfo's Hugepagesize), 0 if unknown. */
static unsigned long
default_page_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long kb = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Hugepagesize: %lu kB", &kb) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kb;
}

/* A mount's page size in kB from its options (none given: the default). */
static unsigned long
mount_page_kb(const struct mntent *m, unsigned long dflt)
{
	const char *p = hasmntopt(m, "pagesize");
	if (p == NULL || (p = strchr(p, '=')) == NULL)
		return dflt;
	char *end;
	unsigned long v = strtoul(p + 1, &end, 10);
	switch (*end) {
	case 'G': case 'g': return v << 20;
	case 'M': case 'm': return v << 10;
	case 'K': case 'k': return v;
	default: return v >> 10;
	}
}

int
weir_hugetlbfs_dir(const char *given, char *dir, size_t len, char *err, size_t errlen)
{
	if (given != NULL) {
		struct statfs fs;
		if (statfs(given, &fs) != 0) {
			snprintf(err, errlen, "--huge-dir %s: %s", given, strerror(errno));
			return -1;
		}
		if ((unsigned long)fs.f_type != HUGETLBFS_MAGIC) {
			snprintf(err, errlen, "--huge-dir %s is not a hugetlbfs mount", given);
			return -1;
		}
		snprintf(dir, len, "%s", given);
		return 0;
	}
	FILE *f = setmntent("/proc/mounts", "r");
	unsigned long dflt = default_page_kb();
	struct mntent *m;
	int found = 0;
	while (f != NULL && !found && (m = getmntent(f)) != NULL)
		if (strcmp(m->mnt_type, "hugetlbfs") == 0 && mount_page_kb(m, dflt) == dflt) {
			snprintf(dir, len, "%s", m->mnt_dir);
			found = 1;
		}
	if (f != NULL)
		endmntent(f);
	if (!found)
		snprintf(err, errlen, "no hugetlbfs of the default page size (%lu kB) is mounted: mount one "
				      "(scripts/hugepages.sh), or run with --no-huge", dflt);
	return found ? 0 : -1;
}
