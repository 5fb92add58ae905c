/*
 * LD_PRELOAD shim for the hot-path hygiene test: counts heap allocations
 * (libc/jemalloc malloc family and DPDK's rte_malloc family) and who made
 * them, so the test can show a worker lcore allocates nothing while it runs.
 *
 *   WEIR_HYGIENE_WINDOW=LO:HI  seconds after the process started: calls in
 *                              this window are counted by thread
 *   WEIR_HYGIENE_REPORT=FILE   JSON written at exit
 *
 * Calls outside the window are counted too: a shim that saw nothing at all
 * was not in the path, and the test says so rather than passing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

enum fn { F_MALLOC, F_CALLOC, F_REALLOC, F_FREE, F_MEMALIGN, F_RTE_MALLOC, F_RTE_FREE, F_MAX };
static const char *const fn_names[F_MAX] = { "malloc", "calloc", "realloc", "free", "memalign", "rte_malloc",
					     "rte_free" };

static uint64_t t0_ns, win_lo_ns, win_hi_ns;
static _Atomic uint64_t worker_in_window[F_MAX], other_in_window, outside_window;

static uint64_t
mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no syscall */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
note(enum fn f)
{
	if (t0_ns == 0)
		return;
	uint64_t now = mono_ns() - t0_ns;
	if (now < win_lo_ns || now > win_hi_ns) {
		atomic_fetch_add_explicit(&outside_window, 1, memory_order_relaxed);
		return;
	}
	char name[17] = { 0 };
	prctl(PR_GET_NAME, name); /* a syscall, but only once an allocation already happened */
	/* DPDK names its worker lcore threads rte-worker-N (lcore-worker-N before 22.11). */
	if (!strncmp(name, "rte-worker", 10) || !strncmp(name, "lcore-worker", 12))
		atomic_fetch_add_explicit(&worker_in_window[f], 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&other_in_window, 1, memory_order_relaxed);
}

/* dlsym may allocate before the real functions are known: a small arena. */
static char boot[8192];
static size_t boot_used;
static int resolving;

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_rte_malloc)(const char *, size_t, unsigned);
static void *(*real_rte_zmalloc)(const char *, size_t, unsigned);
static void *(*real_rte_malloc_socket)(const char *, size_t, unsigned, int);
static void *(*real_rte_zmalloc_socket)(const char *, size_t, unsigned, int);
static void *(*real_rte_realloc)(void *, size_t, unsigned);
static void (*real_rte_free)(void *);

static void
resolve(void)
{
	if (real_malloc || resolving)
		return;
	resolving = 1;
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_realloc = dlsym(RTLD_NEXT, "realloc");
	real_free = dlsym(RTLD_NEXT, "free");
	real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
	real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
	real_rte_malloc = dlsym(RTLD_NEXT, "rte_malloc");
	real_rte_zmalloc = dlsym(RTLD_NEXT, "rte_zmalloc");
	real_rte_malloc_socket = dlsym(RTLD_NEXT, "rte_malloc_socket");
	real_rte_zmalloc_socket = dlsym(RTLD_NEXT, "rte_zmalloc_socket");
	real_rte_realloc = dlsym(RTLD_NEXT, "rte_realloc");
	real_rte_free = dlsym(RTLD_NEXT, "rte_free");
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	resolving = 0;
}

static void *
boot_alloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (boot_used + n > sizeof(boot))
		return NULL;
	void *p = boot + boot_used;
	boot_used += n;
	return p;
}

static int
from_boot(const void *p)
{
	return (const char *)p >= boot && (const char *)p < boot + sizeof(boot);
}

void *
malloc(size_t n)
{
	resolve();
	if (!real_malloc)
		return boot_alloc(n);
	note(F_MALLOC);
	return real_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	resolve();
	if (!real_calloc || !real_malloc)
		return boot_alloc(a * b); /* static: already zero */
	note(F_CALLOC);
	return real_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	resolve();
	if (from_boot(p)) {
		void *q = malloc(n);
		if (q)
			memcpy(q, p, n < sizeof(boot) ? n : sizeof(boot));
		return q;
	}
	note(F_REALLOC);
	return real_realloc(p, n);
}

void
free(void *p)
{
	if (p == NULL || from_boot(p))
		return;
	resolve();
	note(F_FREE);
	real_free(p);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	resolve();
	note(F_MEMALIGN);
	return real_posix_memalign(out, align, n);
}

void *
aligned_alloc(size_t align, size_t n)
{
	resolve();
	note(F_MEMALIGN);
	return real_aligned_alloc(align, n);
}

void *
rte_malloc(const char *type, size_t n, unsigned align)
{
	resolve();
	note(F_RTE_MALLOC);
	return real_rte_malloc(type, n, align);
}

void *
rte_zmalloc(const char *type, size_t n, unsigned align)
{
	resolve();
	note(F_RTE_MALLOC);
	return real_rte_zmalloc(type, n, align);
}

void *
rte_malloc_socket(const char *type, size_t n, unsigned align, int socket)
{
	resolve();
	note(F_RTE_MALLOC);
	return real_rte_malloc_socket(type, n, align, socket);
}

void *
rte_zmalloc_socket(const char *type, size_t n, unsigned align, int socket)
{
	resolve();
	note(F_RTE_MALLOC);
	return real_rte_zmalloc_socket(type, n, align, socket);
}

void *
rte_realloc(void *p, size_t n, unsigned align)
{
	resolve();
	note(F_RTE_MALLOC);
	return real_rte_realloc(p, n, align);
}

void
rte_free(void *p)
{
	resolve();
	note(F_RTE_FREE);
	real_rte_free(p);
}

__attribute__((constructor)) static void
start(void)
{
	const char *w = getenv("WEIR_HYGIENE_WINDOW");
	double lo = 0, hi = 0;
	if (w == NULL || sscanf(w, "%lf:%lf", &lo, &hi) != 2)
		return;
	win_lo_ns = (uint64_t)(lo * 1e9);
	win_hi_ns = (uint64_t)(hi * 1e9);
	t0_ns = mono_ns();
}

__attribute__((destructor)) static void
report(void)
{
	const char *path = getenv("WEIR_HYGIENE_REPORT");
	if (path == NULL || t0_ns == 0)
		return;
	t0_ns = 0; /* what follows is the shim's own */
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return;
	uint64_t total = 0;
	fprintf(f, "{\"worker_in_window\":{");
	for (int i = 0; i < F_MAX; i++) {
		uint64_t v = atomic_load(&worker_in_window[i]);
		total += v;
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", fn_names[i], (unsigned long long)v);
	}
	fprintf(f, "},\"worker_in_window_total\":%llu,\"other_in_window\":%llu,\"outside_window\":%llu}\n",
		(unsigned long long)total, (unsigned long long)atomic_load(&other_in_window),
		(unsigned long long)atomic_load(&outside_window));
	fclose(f);
}
