/* Which hugetlbfs mount the shared regions' files go on. */
#ifndef WEIR_HUGEDIR_H
#define WEIR_HUGEDIR_H

#include <stddef.h>

/* given: EAL's --huge-dir (NULL: none), which must then be a hugetlbfs
 * mount.  Otherwise the first hugetlbfs mount of the default page size in
 * /proc/mounts, as EAL picks one.  0, or -1 with err saying why. */
int weir_hugetlbfs_dir(const char *given, char *dir, size_t len, char *err, size_t errlen);

#endif
