#ifndef WEIR_TEST_TMPDIR_H
#define WEIR_TEST_TMPDIR_H
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include <ftw.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* A fresh directory per test, removed by rm_tmpdir(). */
static inline char *
make_tmpdir(void)
{
	char *d = strdup("/tmp/weir-unit-XXXXXX");
	return mkdtemp(d);
}

static inline void
rm_tmpdir(char *d)
{
	nftw(d, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(d);
}
#endif
