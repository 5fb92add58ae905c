#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "gen.h"
#include "weir_frame.h"
#include "weir_headers.h"
#include "weir_moldudp64.h"
#include "weir_parse.h"
#include "weir_time.h"

/*
 * `weir-gen rules`: a rules file shaped like an operator's, for load tests
 * and the benchmarks: ticker literals with a class, caseless order ids with
 * an alternation, prices with bounded repeats, anchored halts.  Seeded: the
 * same count and seed give the same file.
 */
int
gen_rules(int argc, char **argv)
{
	unsigned long count = 100, seed = 7;
	const char *out = NULL;
	for (int i = 2; i < argc; i++) {
		char *end = NULL;
		if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = strtoul(argv[++i], &end, 10);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoul(argv[++i], &end, 10);
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else {
			fprintf(stderr, "weir-gen rules: unknown argument \"%s\"; usage: weir-gen rules [--count N] "
					"[--seed N] [--out FILE]\n", argv[i]);
			return 2;
		}
		if (end && (*end || count == 0 || count > 4096)) {
			fprintf(stderr, "weir-gen rules: %s wants a number (--count: 1 to 4096)\n", argv[i - 1]);
			return 2;
		}
	}
	FILE *f = out ? fopen(out, "w") : stdout;
	if (f == NULL) {
		fprintf(stderr, "weir-gen rules: %s: %s\n", out, strerror(errno));
		return 1;
	}
	uint32_t s = (uint32_t)seed;
#define RND(k) (s = s * 1103515245u + 12345u, (s >> 16) % (k))
	for (unsigned long i = 1; i <= count; i++) {
		switch (i % 4) {
		case 0: fprintf(f, "%lu tag - /SYM%04u[A-Z]{2}/\n", i, RND(10000)); break;
		case 1: fprintf(f, "%lu tag caseless /order-%u(buy|sell)/\n", i, RND(100000)); break;
		case 2: fprintf(f, "%lu alert - /px=9{3,5}\\.[0-9]+ id%u/\n", i, RND(100000)); break;
		default: fprintf(f, "%lu tag - /^HALT%u/\n", i, RND(1000)); break;
		}
	}
#undef RND
	if (out && fclose(f) != 0) {
		fprintf(stderr, "weir-gen rules: %s: %s\n", out, strerror(errno));
		return 1;
	}
	return 0;
}
