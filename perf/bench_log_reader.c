/*
 * bench_log_reader DIR [ENTRIES]: the log reader measured on a topic it
 * writes first (default 100 M entries, 32-byte payloads, 4 workers, 64
 * sources, 64 MiB segments: several GB):
 *   - seeks to a random offset, time and (source, seq): median and p99,
 *     against reading from the start of the segment that holds the answer;
 *   - sequential reading in M entries/s and GB/s, against cat of the
 *     segment files to /dev/null (the machine's bound);
 *   - follow latency: from a commit to a follower's next() giving it;
 *   - retention under continuous appends: the topic's disk use over time.
 * Prints one line per figure.  Not a test: run it by hand (perf/README.md).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "weir_log.h"
#include "weir_log_reader.h"

#define SOURCES 64
#define SEGMENT (64ull << 20)

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct gen {
	struct weir_log_topic t;
	uint64_t ring[4], seq[SOURCES], rx;
	uint64_t n;
};

static void
append(struct gen *g, unsigned worker)
{
	static _Alignas(8) uint8_t buf[256];
	struct weir_record *r = (struct weir_record *)buf;
	memset(r, 0, sizeof(*r));
	unsigned s = worker * (SOURCES / 4) + (unsigned)(rnd() % (SOURCES / 4));
	snprintf((char *)r->source, 11, "S%04u     ", s);
	r->kind = WEIR_REC_EVENT;
	r->seq = ++g->seq[s];
	g->rx += 10; /* 100 M events a second */
	r->rx_ns = g->rx;
	r->event_time_ns = g->rx - 500;
	r->len_bytes = sizeof(*r) + 32;
	memset(buf + sizeof(*r), (int)s, 32);
	if (weir_log_topic_append(&g->t, worker, 1, g->ring[worker], r) != 0) {
		perror("append");
		exit(1);
	}
	g->ring[worker] += (r->len_bytes + 7) & ~7u;
	g->n++;
}

static void
commit(struct gen *g)
{
	if (weir_log_topic_flush(&g->t) || weir_log_topic_commit(&g->t, false) ||
	    weir_log_topic_roll_if_full(&g->t, SEGMENT)) {
		perror("commit");
		exit(1);
	}
}

static void
write_topic(struct gen *g, const char *root, uint64_t n)
{
	char err[512];
	if (weir_log_topic_open(&g->t, root, "t", err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	uint64_t t0 = now_ns();
	while (g->n < n) {
		unsigned w = (unsigned)(rnd() % 4);
		for (unsigned i = 0; i < 1024 && g->n < n; i++)
			append(g, w);
		if ((g->n & 0xffff) < 1024)
			commit(g);
	}
	commit(g);
	printf("wrote %" PRIu64 " entries, %" PRIu64 " bytes in %.1f s\n", g->n, g->t.bytes_appended,
	       (double)(now_ns() - t0) / 1e9);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void
report(const char *what, uint64_t *ns, unsigned n)
{
	qsort(ns, n, sizeof(*ns), cmp_u64);
	printf("%-44s median %9.1f us  p99 %9.1f us  (%u)\n", what, (double)ns[n / 2] / 1e3,
	       (double)ns[n * 99 / 100] / 1e3, n);
}

/* From the start of the segment that holds offset to it: what seeking
 * costs without an index. */
static uint64_t
scan_from_segment_start(const char *dir, uint64_t offset)
{
	uint64_t *bases;
	size_t n;
	weir_log_list_segments(dir, &bases, &n);
	size_t i = n;
	while (i > 1 && bases[i - 1] > offset)
		i--;
	char path[PATH_MAX + 32], err[256];
	weir_log_segment_path(dir, bases[i - 1], path, sizeof(path));
	free(bases);
	struct weir_log_segment s;
	weir_log_segment_open(&s, path, err, sizeof(err));
	s.view = true;
	const struct weir_log_entry *e;
	uint64_t t0 = now_ns();
	while (weir_log_segment_next(&s, &e, err, sizeof(err)) == 1 && e->offset < offset)
		;
	uint64_t took = now_ns() - t0;
	weir_log_segment_close(&s);
	return took;
}

static void
bench_seeks(const char *root, const struct gen *g, unsigned rounds)
{
	struct weir_log_reader *r;
	char err[512], dir[PATH_MAX + 8];
	snprintf(dir, sizeof(dir), "%s/t", root);
	weir_log_reader_open(&r, root, "t", err, sizeof(err));
	uint64_t *ns = calloc(rounds, sizeof(*ns)), *base = calloc(rounds, sizeof(*ns));
	struct weir_log_item it;
	for (unsigned k = 0; k < rounds; k++) {
		uint64_t off = rnd() % g->n;
		uint64_t t0 = now_ns();
		weir_log_reader_seek(r, off);
		weir_log_reader_next(r, &it);
		ns[k] = now_ns() - t0;
		base[k] = scan_from_segment_start(dir, off);
	}
	report("seek to a random offset", ns, rounds);
	report("  reading from its segment's start instead", base, rounds);
	for (unsigned k = 0; k < rounds; k++) {
		uint64_t ts = 1 + rnd() % g->rx;
		uint64_t t0 = now_ns();
		weir_log_reader_seek_time(r, ts, WEIR_LOG_RX_TIME);
		weir_log_reader_next(r, &it);
		ns[k] = now_ns() - t0;
		base[k] = scan_from_segment_start(dir, it.entry->offset);
	}
	report("seek to a random rx time", ns, rounds);
	report("  reading from its segment's start instead", base, rounds);
	for (unsigned k = 0; k < rounds; k++) {
		unsigned s = (unsigned)(rnd() % SOURCES);
		uint8_t key[WEIR_SOURCE_BYTES] = { 0 };
		snprintf((char *)key, 11, "S%04u     ", s);
		uint64_t seq = 1 + rnd() % g->seq[s];
		uint64_t t0 = now_ns();
		weir_log_reader_seek_source(r, key, seq);
		weir_log_reader_next(r, &it);
		ns[k] = now_ns() - t0;
		base[k] = scan_from_segment_start(dir, it.entry->offset);
	}
	report("seek to a random (source, seq)", ns, rounds);
	report("  reading from its segment's start instead", base, rounds);
	struct weir_log_reader_stats st;
	weir_log_reader_stats(r, &st);
	printf("seeks read past %" PRIu64 " entries in all; %" PRIu64 " indexes loaded, %" PRIu64 " rebuilt\n",
	       st.seek_scanned, st.indexes_loaded, st.indexes_rebuilt);
	free(ns);
	free(base);
	weir_log_reader_close(r);
}

static void
bench_sequential(const char *root, const struct gen *g)
{
	char cmd[PATH_MAX + 64], err[512];
	/* both from the page cache: cat first warms it */
	snprintf(cmd, sizeof(cmd), "cat %s/t/*.log > /dev/null", root);
	if (system(cmd) != 0)
		exit(1);
	uint64_t t0 = now_ns();
	if (system(cmd) != 0)
		exit(1);
	double cat_s = (double)(now_ns() - t0) / 1e9;
	struct weir_log_reader *r;
	weir_log_reader_open(&r, root, "t", err, sizeof(err));
	struct weir_log_item it;
	uint64_t n = 0, bytes = 0;
	t0 = now_ns();
	while (weir_log_reader_next(r, &it) == WEIR_LOG_READ_ENTRY) {
		n++;
		bytes += it.payload_len;
	}
	double s = (double)(now_ns() - t0) / 1e9;
	uint64_t *bases;
	size_t nb;
	char dir[PATH_MAX + 8], path[PATH_MAX + 64];
	snprintf(dir, sizeof(dir), "%s/t", root);
	weir_log_list_segments(dir, &bases, &nb);
	double gb = 0;
	for (size_t i = 0; i < nb; i++) {
		struct stat st;
		weir_log_segment_path(dir, bases[i], path, sizeof(path));
		if (stat(path, &st) == 0)
			gb += (double)st.st_size / 1e9;
	}
	free(bases);
	(void)g;
	printf("sequential read: %" PRIu64 " entries in %.2f s: %.1f M entries/s, %.2f GB/s of log; cat: %.2f s, %.2f "
	       "GB/s; reader/cat time %.2f\n",
	       n, s, (double)n / s / 1e6, gb / s, cat_s, gb / cat_s, s / cat_s);
	weir_log_reader_close(r);
}

struct follow_arg {
	const char *root;
	volatile uint64_t committed_at[4096];
	volatile int done;
	uint64_t lat[4096];
	unsigned n;
};

static void *
follower(void *p)
{
	struct follow_arg *a = p;
	struct weir_log_reader *r;
	char err[512];
	weir_log_reader_open(&r, a->root, "t", err, sizeof(err));
	weir_log_reader_seek(r, weir_log_reader_committed(r));
	struct weir_log_item it;
	while (!a->done || a->n < 4096) {
		int rc = weir_log_reader_next(r, &it);
		if (rc == WEIR_LOG_READ_ENTRY) {
			/* the first entry of each commit carries its number in seq's stead: rx */
			uint64_t k = it.record->event_time_ns;
			if (k < 4096 && a->committed_at[k]) {
				a->lat[a->n++] = now_ns() - a->committed_at[k];
				if (a->n == 4096)
					break;
			}
		} else if (rc == WEIR_LOG_READ_END) {
			weir_log_reader_wait(r, 100);
		} else {
			break;
		}
	}
	weir_log_reader_close(r);
	return NULL;
}

static void
bench_follow(const char *root, struct gen *g, unsigned commits)
{
	static struct follow_arg a;
	a.root = root;
	pthread_t th;
	pthread_create(&th, NULL, follower, &a);
	usleep(100000);
	static _Alignas(8) uint8_t buf[256];
	struct weir_record *r = (struct weir_record *)buf;
	for (unsigned k = 0; k < commits; k++) {
		memset(r, 0, sizeof(*r));
		r->kind = WEIR_REC_EVENT;
		r->len_bytes = sizeof(*r) + 8;
		r->event_time_ns = k;
		weir_log_topic_append(&g->t, 0, 1, g->ring[0], r);
		g->ring[0] += 72;
		weir_log_topic_flush(&g->t);
		a.committed_at[k] = now_ns();
		weir_log_topic_commit(&g->t, false);
		usleep(500);
	}
	a.done = 1;
	pthread_join(th, NULL);
	report("follow: commit to a follower's next()", a.lat, a.n);
}

static void
bench_retention(const char *root)
{
	struct gen g = { 0 };
	char err[512];
	write_topic(&g, root, 1);
	struct weir_log_retention p = { .max_bytes = 4 * SEGMENT };
	struct weir_log_retention_stats st = { 0 };
	uint64_t t0 = now_ns(), next = 0, worst = 0;
	for (unsigned sec = 0; now_ns() - t0 < 20000000000ull; sec++) {
		for (unsigned i = 0; i < 1000000; i++)
			append(&g, i & 3);
		commit(&g);
		if (now_ns() >= next) {
			uint64_t a = now_ns();
			weir_log_retention_apply(g.t.dir, g.t.base_offset, &p, 0, &st, err, sizeof(err));
			uint64_t took = now_ns() - a;
			worst = took > worst ? took : worst;
			next = now_ns() + 1000000000ull;
			printf("retention: %.0f s: %" PRIu64 " entries written, disk %.1f MiB (bound %.0f MiB + the "
			       "segment being written), %" PRIu64 " segments deleted, pass %.2f ms\n",
			       (double)(now_ns() - t0) / 1e9, g.n, (double)st.disk_bytes / 1048576.0,
			       (double)p.max_bytes / 1048576.0, st.segments_deleted, (double)took / 1e6);
		}
	}
	printf("retention: slowest pass %.2f ms\n", (double)worst / 1e6);
	weir_log_topic_close(&g.t);
}

static const char *const USAGE =
	"usage: bench_log_reader DIR [ENTRIES [PART,...]]\n"
	"  writes a topic of ENTRIES entries (default 100000000) under DIR/read and DIR/retain, then times\n"
	"  the PARTs asked for (default seeks,seq,follow,retention)\n";

/* Each of the comma-separated parts is one this program has. */
static bool
parts_known(const char *list)
{
	static const char *const known[] = { "seeks", "seq", "follow", "retention" };
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", list);
	char *save = NULL;
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok |= strcmp(p, known[i]) == 0;
		if (!ok)
			return false;
	}
	return true;
}

/* Arguments as the usage says, or 2 said: a flag (Google Benchmark's
 * --benchmark_list_tests, say) is never taken for a directory to fill. */
static int
check_args(int argc, char **argv, uint64_t *n)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(USAGE, stdout);
		exit(0);
	}
	if (argc < 2 || argc > 4) {
		fputs(USAGE, stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-') {
			fprintf(stderr, "bench_log_reader: unknown option %s (it takes none)\n%s", argv[i], USAGE);
			return 2;
		}
	char *end = NULL;
	*n = argc > 2 ? strtoull(argv[2], &end, 10) : 100000000ull;
	if (argc > 2 && (*end != 0 || *n == 0)) {
		fprintf(stderr, "bench_log_reader: ENTRIES \"%s\" is not a count\n%s", argv[2], USAGE);
		return 2;
	}
	if (argc > 3 && !parts_known(argv[3])) {
		fprintf(stderr, "bench_log_reader: \"%s\": the parts are seeks, seq, follow and retention\n%s", argv[3],
			USAGE);
		return 2;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t n;
	if (check_args(argc, argv, &n) != 0)
		return 2;
	char root[PATH_MAX], root2[PATH_MAX];
	snprintf(root, sizeof(root), "%s/read", argv[1]);
	snprintf(root2, sizeof(root2), "%s/retain", argv[1]);
	const char *only = argc > 3 ? argv[3] : "seeks,seq,follow,retention";
	static struct gen g;
	write_topic(&g, root, n);
	if (strstr(only, "seeks"))
		bench_seeks(root, &g, 300);
	if (strstr(only, "seq"))
		bench_sequential(root, &g);
	if (strstr(only, "follow"))
		bench_follow(root, &g, 4096);
	weir_log_topic_close(&g.t);
	if (strstr(only, "retention"))
		bench_retention(root2);
	return 0;
}
