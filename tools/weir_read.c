/*
 * weir-read: reads a weir log directory, verifies every entry's CRC and the
 * offsets' continuity across segments, and prints the records.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "weir_log.h"
#include "weir_record.h"
#include "weir_info.h"

enum format { FMT_TEXT, FMT_JSONL, FMT_NONE };

struct options {
	enum format format;
	const char *topic;
	uint64_t from_offset;
	bool verify_only;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: weir-read [options] LOG_DIR\n"
		"  --format text|jsonl   how to print records (default text)\n"
		"  --topic NAME          only this topic (default: every topic)\n"
		"  --from OFFSET         start at this offset within the topic\n"
		"  --verify              check CRCs and offsets, print one line per topic, no records\n"
		"       weir-read --salvage TOPIC_DIR\n"
		"                        after weir-control refused a damaged topic: keep every batch that\n"
		"                        checks whole, move the damaged segment aside, state the lost offsets\n"
		"                        in TOPIC_DIR/holes; no offset is ever handed out twice\n"
		"exit: 0 when every entry verified, 1 on corruption or a gap, 2 on usage errors\n");
}

static void
print_source_json(const uint8_t *src)
{
	char name[32];
	weir_source_format(src, name, sizeof(name));
	printf("\"%s\"", name); /* the formatter leaves no quote or backslash */
}

static void
print_record_jsonl(const char *topic, const struct weir_log_entry *e, const struct weir_record *r)
{
	printf("{\"topic\":\"%s\",\"offset\":%" PRIu64 ",\"kind\":\"%s\",\"flags\":[", topic, e->offset,
	       weir_record_kind_name(r->kind));
	static const char *const flag_names[] = { "duplicate", "late", "retransmitted", "truncated" };
	bool first = true;
	for (unsigned b = 0; b < 4; b++)
		if (r->flags & (1u << b)) {
			printf("%s\"%s\"", first ? "" : ",", flag_names[b]);
			first = false;
		}
	printf("],\"source\":");
	print_source_json(r->source);
	printf(",\"seq\":%" PRIu64 ",\"count\":%" PRIu64 ",\"port\":%u,\"worker\":%u,\"rx_ns\":%" PRIu64
	       ",\"event_time_ns\":%" PRIu64,
	       r->seq, r->count, r->port, e->worker, r->rx_ns, r->event_time_ns);
	if (r->kind == WEIR_REC_DEAD_LETTER)
		printf(",\"reason\":\"%s\"", r->reason < WEIR_DL_MAX ? weir_dead_letter_names[r->reason] : "unknown");
	printf(",\"rules\":[");
	const uint32_t *rules = weir_record_rules(r);
	for (unsigned i = 0; i < r->n_rules; i++)
		printf("%s%u", i ? "," : "", rules[i]);
	printf("],\"payload_hex\":\"");
	const uint8_t *p = weir_record_payload(r);
	uint32_t len = weir_record_payload_len(r);
	static const char hex[] = "0123456789abcdef";
	for (uint32_t i = 0; i < len; i++) {
		putchar(hex[p[i] >> 4]);
		putchar(hex[p[i] & 15]);
	}
	printf("\"}\n");
}

static void
print_record_text(const char *topic, const struct weir_log_entry *e, const struct weir_record *r)
{
	char src[32];
	weir_source_format(r->source, src, sizeof(src));
	uint32_t len = weir_record_payload_len(r);
	printf("%s@%" PRIu64 " %s source=%s seq=%" PRIu64 " len=%u", topic, e->offset, weir_record_kind_name(r->kind),
	       src, r->seq, len);
	if (r->kind == WEIR_REC_DEAD_LETTER)
		printf(" reason=%s", r->reason < WEIR_DL_MAX ? weir_dead_letter_names[r->reason] : "unknown");
	printf(" |");
	const uint8_t *p = weir_record_payload(r);
	for (uint32_t i = 0; i < len && i < 48; i++)
		putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
	printf(len > 48 ? "...|\n" : "|\n");
}

/* Whether salvage stated [first, end) lost: a gap between segments it left. */
static bool
stated_hole(const struct weir_log_hole *holes, size_t n, uint64_t first, uint64_t end)
{
	for (size_t i = 0; i < n; i++)
		if (holes[i].first <= first && holes[i].last + 1 >= end)
			return true;
	return false;
}

static int
salvage(const char *dir)
{
	char err[1024];
	struct weir_log_salvage s;
	if (weir_log_salvage(dir, &s, err, sizeof(err)) != 0) {
		fprintf(stderr, "weir-read: salvage: %s\n", err);
		return 1;
	}
	printf("weir-read: %s: kept %" PRIu64 " records in %" PRIu64 " batches; %" PRIu64 " records lost in %u hole%s",
	       dir, s.records_kept, s.batches_kept, s.records_lost, s.n_holes, s.n_holes == 1 ? "" : "s");
	for (unsigned i = 0; i < s.n_holes && i < WEIR_LOG_SALVAGE_HOLES; i++)
		printf("%s%" PRIu64 "-%" PRIu64, i ? ", " : " (offsets ", s.holes[i].first, s.holes[i].last);
	printf("%s; %" PRIu64 " bytes passed over; next offset %" PRIu64 "; the damaged segment is kept as %s\n",
	       s.n_holes ? ")" : "", s.bytes_skipped, s.next_offset, s.damaged_path);
	return 0;
}

/* Reads one topic; returns the number of problems found. */
static unsigned
read_topic(const char *root, const char *topic, const struct options *o)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], err[512];
	snprintf(dir, sizeof(dir), "%s/%s", root, topic);
	uint64_t *bases;
	size_t n;
	if (weir_log_list_segments(dir, &bases, &n) != 0) {
		fprintf(stderr, "weir-read: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	struct weir_log_hole *holes;
	size_t n_holes;
	if (weir_log_holes_read(dir, &holes, &n_holes) != 0) {
		fprintf(stderr, "weir-read: %s/%s: %s\n", dir, WEIR_LOG_HOLES_FILE, strerror(errno));
		return 1;
	}
	unsigned problems = 0;
	uint64_t records = 0, expect = n ? bases[0] : 0, by_kind[WEIR_REC_KIND_MAX] = { 0 };
	if (n && bases[0] != 0) {
		fprintf(stderr, "weir-read: %s: first segment starts at offset %" PRIu64 " (retention, or lost segments)\n",
			dir, bases[0]);
	}
	for (size_t i = 0; i < n; i++) {
		weir_log_segment_path(dir, bases[i], path, sizeof(path));
		if (bases[i] != expect && stated_hole(holes, n_holes, expect, bases[i])) {
			if (o->verify_only)
				printf("%s: offsets %" PRIu64 " to %" PRIu64 " lost, stated in %s/%s\n", topic, expect,
				       bases[i] - 1, dir, WEIR_LOG_HOLES_FILE);
		} else if (bases[i] != expect) {
			fprintf(stderr, "weir-read: %s: starts at offset %" PRIu64 ", previous segment ended at %" PRIu64 "\n",
				path, bases[i], expect);
			problems++;
		}
		if (i + 1 < n && bases[i + 1] <= o->from_offset)
			continue; /* wholly before --from */
		struct weir_log_segment s;
		if (weir_log_segment_open(&s, path, err, sizeof(err)) != 0) {
			fprintf(stderr, "weir-read: %s\n", err);
			problems++;
			expect = bases[i];
			continue;
		}
		const struct weir_log_entry *e;
		int rc;
		while ((rc = weir_log_segment_next(&s, &e, err, sizeof(err))) == 1) {
			const struct weir_record *r = weir_log_entry_record(e);
			records++;
			by_kind[r->kind < WEIR_REC_KIND_MAX ? r->kind : 0]++;
			if (e->offset < o->from_offset)
				continue;
			if (o->format == FMT_JSONL)
				print_record_jsonl(topic, e, r);
			else if (o->format == FMT_TEXT)
				print_record_text(topic, e, r);
		}
		if (rc < 0) {
			fprintf(stderr, "weir-read: %s: %s\n", path, err);
			problems++;
		}
		expect = s.next_offset;
		weir_log_segment_close(&s);
	}
	free(bases);
	free(holes);
	if (o->verify_only)
		printf("%s: %zu segment%s, %" PRIu64 " records (events %" PRIu64 ", dead letters %" PRIu64
		       ", end of session %" PRIu64 ", loss %" PRIu64 "), next offset %" PRIu64 ": %s\n",
		       topic, n, n == 1 ? "" : "s", records, by_kind[WEIR_REC_EVENT], by_kind[WEIR_REC_DEAD_LETTER],
		       by_kind[WEIR_REC_END_OF_SESSION], by_kind[WEIR_REC_LOSS], expect, problems ? "CORRUPT" : "ok");
	return problems;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'F' }, { "topic", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'o' },   { "verify", no_argument, NULL, 'v' },
		{ "salvage", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = { .format = FMT_TEXT };
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (strcmp(optarg, "text") == 0)
				o.format = FMT_TEXT;
			else if (strcmp(optarg, "jsonl") == 0)
				o.format = FMT_JSONL;
			else {
				fprintf(stderr, "weir-read: --format \"%s\": valid are text, jsonl\n", optarg);
				return 2;
			}
			break;
		case 't': o.topic = optarg; break;
		case 'o':
			o.from_offset = strtoull(optarg, &end, 10);
			if (*end) {
				fprintf(stderr, "weir-read: --from \"%s\" is not an offset\n", optarg);
				return 2;
			}
			break;
		case 'v': o.verify_only = true; break;
		case 's': return optind == argc ? salvage(optarg) : (usage(stderr), 2);
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (o.verify_only)
		o.format = FMT_NONE;
	const char *root = argv[optind];
	unsigned problems = 0;
	if (o.topic) {
		problems = read_topic(root, o.topic, &o);
	} else {
		DIR *d = opendir(root);
		if (d == NULL) {
			fprintf(stderr, "weir-read: %s: %s\n", root, strerror(errno));
			return 1;
		}
		char *names[WEIR_MAX_TOPICS * 4];
		size_t n = 0;
		struct dirent *de;
		while ((de = readdir(d)) != NULL && n < sizeof(names) / sizeof(names[0])) {
			if (de->d_name[0] == '.')
				continue;
			char p[PATH_MAX + 256];
			struct stat st;
			snprintf(p, sizeof(p), "%s/%s", root, de->d_name);
			if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
				names[n++] = strdup(de->d_name);
		}
		closedir(d);
		qsort(names, n, sizeof(names[0]), cmp_str);
		for (size_t i = 0; i < n; i++) {
			problems += read_topic(root, names[i], &o);
			free(names[i]);
		}
	}
	fflush(stdout);
	return problems ? 1 : 0;
}
