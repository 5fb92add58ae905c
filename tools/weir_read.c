/*
 * weir-read: reads a weir log through the log reader (log/weir_log_reader.h):
 * every topic, or one from an offset, a time or a (source, seq), to its
 * committed end or following it live; verifies CRCs and offsets as it goes.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "weir_info.h"
#include "weir_log.h"
#include "weir_log_index.h"
#include "weir_log_reader.h"
#include "weir_number.h"
#include "weir_quit.h"
#include "weir_record.h"
#include "weir_time_parse.h"

/* Exit codes, as the usage says. */
enum { EXIT_OK = 0, EXIT_DAMAGE = 1, EXIT_USAGE = 2, EXIT_TRUNCATED = 3, EXIT_NOT_FOUND = 4 };

enum format { FMT_TEXT, FMT_JSONL, FMT_RAW, FMT_NONE };
enum start { FROM_FIRST, FROM_OFFSET, FROM_TIME, FROM_SEQ };

struct options {
	enum format format;
	const char *topic;
	enum start start;
	uint64_t from_offset, from_ns, from_seq;
	enum weir_log_clock clock;
	const char *source;
	uint64_t count;              /* 0: no bound */
	bool follow, verify_only;
	const char *register_name;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: weir-read [options] LOG_DIR\n"
		"  --topic NAME            only this topic (default: every topic, one after the other)\n"
		"  --from OFFSET           start at this offset\n"
		"  --from-time T           start at the first entry at or after T: ISO 8601 UTC\n"
		"                          (2026-11-29T09:30:00.5Z) or ns since the epoch\n"
		"  --event-time            --from-time by the event time the framing carries, not rx time\n"
		"  --source S --from-seq N start at source S's first entry with seq >= N (S as printed:\n"
		"                          a MoldUDP64 session, or wf:ID)\n"
		"  --count N               stop after N entries\n"
		"  --follow                at the committed end, wait for more (until --count or a signal)\n"
		"  --register NAME         a registered reader: retention keeps what it has not read\n"
		"                          (resumes from its mark unless --from*); --unregister NAME removes one\n"
		"  --format text|jsonl|raw how to print (raw: each record as the worker committed it,\n"
		"                          header, rule ids, payload; len_bytes says its length)\n"
		"  --verify                check CRCs and offsets, one line per topic, no records (and name sealed\n"
		"                          segments' indexes that are missing or damaged)\n"
		"       weir-read --salvage TOPIC_DIR\n"
		"                          after weir-control refused a damaged topic: keep every batch that\n"
		"                          checks whole, move the damaged segment aside, state the lost offsets\n"
		"                          in TOPIC_DIR/holes; no offset is ever handed out twice\n"
		"exit: 0 read (and verified) to the end or --count; 1 damage, a gap or an I/O error;\n"
		"      2 usage; 3 retention deleted entries before they were read (said on stderr, read on);\n"
		"      4 --from-time / --source found nothing (without --follow)\n");
}

static void
print_source_json(const uint8_t *src)
{
	char name[32];
	weir_source_format(src, name, sizeof(name));
	printf("\"%s\"", name); /* the formatter leaves no quote or backslash */
}

static void
print_record_jsonl(const char *topic, const struct weir_log_item *it)
{
	const struct weir_log_entry *e = it->entry;
	const struct weir_record *r = it->record;
	printf("{\"topic\":\"%s\",\"offset\":%" PRIu64 ",\"kind\":\"%s\",\"flags\":[", topic, e->offset,
	       weir_record_kind_name(r->kind));
	bool first = true;
	for (unsigned b = 0; b < WEIR_REC_FLAG_BITS; b++)
		if (r->flags & (1u << b)) {
			printf("%s\"%s\"", first ? "" : ",", weir_record_flag_names[b]);
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
	const uint8_t *p = it->payload;
	uint32_t len = it->payload_len;
	static const char hex[] = "0123456789abcdef";
	for (uint32_t i = 0; i < len; i++) {
		putchar(hex[p[i] >> 4]);
		putchar(hex[p[i] & 15]);
	}
	printf("\"}\n");
}

static void
print_record_text(const char *topic, const struct weir_log_item *it)
{
	const struct weir_log_entry *e = it->entry;
	const struct weir_record *r = it->record;
	char src[32];
	weir_source_format(r->source, src, sizeof(src));
	uint32_t len = it->payload_len;
	printf("%s@%" PRIu64 " %s source=%s seq=%" PRIu64 " len=%u", topic, e->offset, weir_record_kind_name(r->kind),
	       src, r->seq, len);
	if (r->kind == WEIR_REC_DEAD_LETTER)
		printf(" reason=%s", r->reason < WEIR_DL_MAX ? weir_dead_letter_names[r->reason] : "unknown");
	printf(" |");
	const uint8_t *p = it->payload;
	for (uint32_t i = 0; i < len && i < 48; i++)
		putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
	printf(len > 48 ? "...|\n" : "|\n");
}


static int
salvage(const char *dir)
{
	char err[1024];
	struct weir_log_salvage s;
	if (weir_log_salvage(dir, &s, err, sizeof(err)) != 0) {
		fprintf(stderr, "weir-read: salvage: %s\n", err);
		return EXIT_DAMAGE;
	}
	printf("weir-read: %s: kept %" PRIu64 " records in %" PRIu64 " batches; %" PRIu64 " records lost in %u hole%s",
	       dir, s.records_kept, s.batches_kept, s.records_lost, s.n_holes, s.n_holes == 1 ? "" : "s");
	for (unsigned i = 0; i < s.n_holes && i < WEIR_LOG_SALVAGE_HOLES; i++)
		printf("%s%" PRIu64 "-%" PRIu64, i ? ", " : " (offsets ", s.holes[i].first, s.holes[i].last);
	printf("%s; %" PRIu64 " bytes passed over; next offset %" PRIu64 "; the damaged segment is kept as %s\n",
	       s.n_holes ? ")" : "", s.bytes_skipped, s.next_offset, s.damaged_path);
	return EXIT_OK;
}

static void
print_item(const char *topic, const struct weir_log_item *it, enum format f)
{
	if (f == FMT_JSONL) {
		print_record_jsonl(topic, it);
	} else if (f == FMT_TEXT) {
		print_record_text(topic, it);
	} else if (f == FMT_RAW) {
		struct weir_record h = *it->record;
		fwrite(&h, sizeof(h), 1, stdout);
		fwrite(weir_record_rules(it->record), 4, it->record->n_rules, stdout);
		fwrite(it->payload, 1, it->payload_len, stdout);
	}
}

/* Positions r as the options say: 0, or an exit code. */
static int
position(struct weir_log_reader *r, const char *topic, const struct options *o)
{
	int rc = 0;
	if (o->start == FROM_OFFSET) {
		rc = weir_log_reader_seek(r, o->from_offset);
	} else if (o->start == FROM_TIME) {
		rc = weir_log_reader_seek_time(r, o->from_ns, o->clock);
	} else if (o->start == FROM_SEQ) {
		uint8_t key[WEIR_SOURCE_BYTES];
		/* sessions are sent space padded; some senders pad with NULs */
		weir_source_parse(o->source, ' ', key);
		rc = weir_log_reader_seek_source(r, key, o->from_seq);
		if (rc == 0 && weir_source_parse(o->source, 0, key) == 0)
			rc = weir_log_reader_seek_source(r, key, o->from_seq);
	} else {
		return 0;
	}
	if (rc == WEIR_LOG_READ_TRUNCATED) {
		fprintf(stderr, "weir-read: %s\n", weir_log_reader_error(r));
		return EXIT_TRUNCATED;
	}
	if (rc < 0) {
		fprintf(stderr, "weir-read: %s: %s\n", topic, weir_log_reader_error(r));
		return EXIT_DAMAGE;
	}
	if (rc == 0 && o->start != FROM_OFFSET && !o->follow) {
		fprintf(stderr, "weir-read: %s: no entry matches (read up to offset %" PRIu64 ")\n", topic,
			weir_log_reader_position(r));
		return EXIT_NOT_FOUND;
	}
	return 0;
}

/* Every segment's header, read: the reading stops at the committed end,
 * and an empty segment there (a roll's) has nothing else to read. */
static bool
headers_bad(const char *root, const char *topic)
{
	char dir[PATH_MAX * 2], path[PATH_MAX * 2 + 32], err[PATH_MAX + 256];
	snprintf(dir, sizeof(dir), "%s/%s", root, topic);
	uint64_t *bases;
	size_t n;
	bool bad = false;
	if (weir_log_list_segments(dir, &bases, &n) != 0)
		return true;
	for (size_t i = 0; i < n && !bad; i++) {
		struct weir_log_segment s;
		weir_log_segment_path(dir, bases[i], path, sizeof(path));
		bad = weir_log_segment_open(&s, path, err, sizeof(err)) != 0;
		if (bad)
			fprintf(stderr, "weir-read: %s\n", err);
		else
			weir_log_segment_close(&s);
	}
	free(bases);
	return bad;
}

static void
name_bad_index(void *ctx, uint64_t base, int rc, const char *why)
{
	(void)rc;
	fprintf(stderr, "weir-read: %s/%020" PRIu64 ".index: %s (the segment is read instead; weir-control "
		"rebuilds it when it opens the topic)\n", (const char *)ctx, base, why);
}

/* The sealed segments' indexes that are missing or damaged, each named.
 * Not damage of the log: an index is derived from its segment, which
 * readers then read instead, and weir-control rebuilds it when it opens
 * the topic; but said, so a flipped byte in one is not passed over as "ok". */
static unsigned
indexes_bad(const char *root, const char *topic)
{
	char dir[PATH_MAX * 2];
	snprintf(dir, sizeof(dir), "%s/%s", root, topic);
	uint64_t *bases;
	size_t n;
	if (weir_log_list_segments(dir, &bases, &n) != 0)
		return 0; /* the reader and headers_bad name what is wrong with the topic */
	unsigned bad = weir_log_index_check_sealed(dir, bases, n, name_bad_index, dir);
	free(bases);
	return bad;
}

/* --verify's line for a topic (and its stated holes, and its indexes). */
static void
say_verified(const struct weir_log_reader *r, const char *root, const char *topic, uint64_t records,
	     const uint64_t by_kind[WEIR_REC_KIND_MAX], int code, unsigned bad_indexes)
{
	struct weir_log_reader_stats st;
	weir_log_reader_stats(r, &st);
	if (bad_indexes)
		printf("%s: %u index%s of sealed segments missing or damaged (named on standard error)\n", topic,
		       bad_indexes, bad_indexes == 1 ? "" : "es");
	if (st.holes_skipped)
		printf("%s: %" PRIu64 " offsets lost, stated in %s/%s/%s\n", topic, st.holes_skipped, root, topic,
		       WEIR_LOG_HOLES_FILE);
	printf("%s: %" PRIu64 " segment%s, %" PRIu64 " records (events %" PRIu64 ", dead letters %" PRIu64
	       ", end of session %" PRIu64 ", loss %" PRIu64 "), next offset %" PRIu64 ": %s\n",
	       topic, st.segments_opened, st.segments_opened == 1 ? "" : "s", records, by_kind[WEIR_REC_EVENT],
	       by_kind[WEIR_REC_DEAD_LETTER], by_kind[WEIR_REC_END_OF_SESSION], by_kind[WEIR_REC_LOSS],
	       weir_log_reader_position(r), code == EXIT_DAMAGE ? "CORRUPT" : "ok");
}

/* Reads one topic as the options say; returns an exit code. */
static int
read_topic(const char *root, const char *topic, const struct options *o)
{
	struct weir_log_reader *r;
	char err[768];
	while (weir_log_reader_open(&r, root, topic, err, sizeof(err)) != 0) {
		if (!o->follow || errno != ENOENT || weir_quit) {
			fprintf(stderr, "weir-read: %s\n", err);
			return EXIT_DAMAGE;
		}
		usleep(200 * 1000); /* following a topic not yet made: wait for it, as tail -F does */
	}
	uint64_t first = weir_log_reader_first(r);
	if (first && o->start == FROM_FIRST && !o->register_name)
		fprintf(stderr, "weir-read: %s: first segment starts at offset %" PRIu64 " (retention, or lost segments)\n",
			topic, first);
	int code = EXIT_OK;
	if (o->register_name && weir_log_reader_register(r, o->register_name) != 0) {
		fprintf(stderr, "weir-read: %s: %s\n", topic, weir_log_reader_error(r));
		weir_log_reader_close(r);
		return EXIT_DAMAGE;
	}
	int pc = position(r, topic, o);
	if (pc == EXIT_TRUNCATED)
		code = pc;
	else if (pc) {
		weir_log_reader_close(r);
		return pc;
	}
	uint64_t records = 0, by_kind[WEIR_REC_KIND_MAX] = { 0 }, since_mark = 0;
	while (!weir_quit && (o->count == 0 || records < o->count)) {
		struct weir_log_item it;
		int rc = weir_log_reader_next(r, &it);
		if (rc == WEIR_LOG_READ_ENTRY) {
			if (it.lost_before && !o->verify_only && fflush(stdout) == 0) /* --verify counts them */
				fprintf(stderr, "weir-read: %s: offsets %" PRIu64 " to %" PRIu64 " are stated lost in the log "
					"(weir-read --salvage, %s/%s/%s): not printed\n", topic,
					it.entry->offset - it.lost_before, it.entry->offset - 1, root, topic,
					WEIR_LOG_HOLES_FILE);
			records++;
			by_kind[it.record->kind < WEIR_REC_KIND_MAX ? it.record->kind : 0]++;
			print_item(topic, &it, o->format);
			if (o->register_name && ++since_mark == 4096) {
				fflush(stdout); /* marked only once handed on */
				weir_log_reader_mark(r, weir_log_reader_position(r));
				since_mark = 0;
			}
			continue;
		}
		if (rc == WEIR_LOG_READ_TRUNCATED) {
			fprintf(stderr, "weir-read: %s\n", weir_log_reader_error(r));
			code = EXIT_TRUNCATED;
			continue;
		}
		if (rc < 0) {
			fprintf(stderr, "weir-read: %s\n", weir_log_reader_error(r));
			code = EXIT_DAMAGE;
			break;
		}
		if (o->register_name && since_mark) {
			fflush(stdout);
			weir_log_reader_mark(r, weir_log_reader_position(r));
			since_mark = 0;
		}
		if (!o->follow)
			break;
		fflush(stdout);
		if (weir_log_reader_wait(r, 200) < 0) {
			fprintf(stderr, "weir-read: %s\n", weir_log_reader_error(r));
			code = EXIT_DAMAGE;
			break;
		}
	}
	fflush(stdout);
	if (o->register_name && since_mark)
		weir_log_reader_mark(r, weir_log_reader_position(r));
	if (o->verify_only && code != EXIT_DAMAGE && headers_bad(root, topic))
		code = EXIT_DAMAGE;
	if (o->verify_only)
		say_verified(r, root, topic, records, by_kind, code, indexes_bad(root, topic));
	weir_log_reader_close(r);
	return code;
}

/* A topic's directory: its checkpoint, or a segment. */
static bool
is_topic(const char *dir)
{
	char path[PATH_MAX * 2 + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, WEIR_LOG_CHECKPOINT_FILE);
	uint64_t *bases;
	size_t n = 0;
	if (access(path, F_OK) == 0)
		return true;
	if (weir_log_list_segments(dir, &bases, &n) == 0)
		free(bases);
	return n > 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ISO 8601 UTC (fractional seconds, Z optional) or ns since the epoch. */
static int
parse_u64(const char *what, const char *s, uint64_t *v)
{
	if (weir_parse_u64(s, v) != 0) {
		fprintf(stderr, "weir-read: %s \"%s\" is not a whole number\n", what, s);
		return -1;
	}
	return 0;
}

static int check_options(int argc, char **argv, struct options *o, const char *unregister, bool have_seq, int *code);

static int
parse_options(int argc, char **argv, struct options *o, int *code)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'F' },     { "topic", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'o' },       { "from-time", required_argument, NULL, 'T' },
		{ "event-time", no_argument, NULL, 'E' },       { "source", required_argument, NULL, 'S' },
		{ "from-seq", required_argument, NULL, 'q' },   { "count", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },           { "register", required_argument, NULL, 'R' },
		{ "unregister", required_argument, NULL, 'U' }, { "verify", no_argument, NULL, 'v' },
		{ "salvage", required_argument, NULL, 's' },    { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *unregister = NULL;
	bool have_seq = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (strcmp(optarg, "text") == 0)
				o->format = FMT_TEXT;
			else if (strcmp(optarg, "jsonl") == 0)
				o->format = FMT_JSONL;
			else if (strcmp(optarg, "raw") == 0)
				o->format = FMT_RAW;
			else {
				fprintf(stderr, "weir-read: --format \"%s\": valid are text, jsonl, raw\n", optarg);
				return *code = EXIT_USAGE, -1;
			}
			break;
		case 't': o->topic = optarg; break;
		case 'o':
			if (parse_u64("--from", optarg, &o->from_offset))
				return *code = EXIT_USAGE, -1;
			o->start = FROM_OFFSET;
			break;
		case 'T':
			if (weir_time_parse(optarg, &o->from_ns)) {
				fprintf(stderr, "weir-read: --from-time \"%s\": give ISO 8601 UTC (2026-11-29T09:30:00Z) or ns\n",
					optarg);
				return *code = EXIT_USAGE, -1;
			}
			o->start = FROM_TIME;
			break;
		case 'E': o->clock = WEIR_LOG_EVENT_TIME; break;
		case 'S': o->source = optarg; break;
		case 'q':
			if (parse_u64("--from-seq", optarg, &o->from_seq))
				return *code = EXIT_USAGE, -1;
			have_seq = true;
			break;
		case 'n':
			if (parse_u64("--count", optarg, &o->count))
				return *code = EXIT_USAGE, -1;
			break;
		case 'f': o->follow = true; break;
		case 'R': o->register_name = optarg; break;
		case 'U': unregister = optarg; break;
		case 'v': o->verify_only = true; break;
		case 's': *code = optind == argc ? salvage(optarg) : (usage(stderr), EXIT_USAGE); return -1;
		case 'h': usage(stdout); *code = EXIT_OK; return -1;
		default: usage(stderr); *code = EXIT_USAGE; return -1;
		}
	}
	return check_options(argc, argv, o, unregister, have_seq, code);
}

/* What the options ask, taken together: 0 to read, -1 done (*code). */
static int
check_options(int argc, char **argv, struct options *o, const char *unregister, bool have_seq, int *code)
{
	if (optind != argc - 1) {
		usage(stderr);
		return *code = EXIT_USAGE, -1;
	}
	uint8_t key[WEIR_SOURCE_BYTES];
	if (o->source || have_seq) {
		if (!o->source || !have_seq || weir_source_parse(o->source, ' ', key) != 0) {
			fprintf(stderr, "weir-read: --source S and --from-seq N go together; S is a MoldUDP64 session "
					"(at most 10 bytes) or wf:ID\n");
			return *code = EXIT_USAGE, -1;
		}
		o->start = FROM_SEQ;
	}
	if ((o->follow || o->start != FROM_FIRST || o->register_name || unregister) && !o->topic) {
		fprintf(stderr, "weir-read: --follow, --from*, --source, --register and --unregister need --topic\n");
		return *code = EXIT_USAGE, -1;
	}
	if (unregister) {
		char dir[PATH_MAX * 2];
		snprintf(dir, sizeof(dir), "%s/%s", argv[optind], o->topic);
		if (weir_log_reader_unregister(dir, unregister) != 0) {
			fprintf(stderr, "weir-read: reader %s of %s: %s\n", unregister, dir, strerror(errno));
			return *code = EXIT_DAMAGE, -1;
		}
		return *code = EXIT_OK, -1;
	}
	if (o->verify_only)
		o->format = FMT_NONE;
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o = { .format = FMT_TEXT };
	int code;
	if (parse_options(argc, argv, &o, &code) != 0)
		return code;
	weir_quit_on_signals();
	const char *root = argv[optind];
	if (o.topic)
		return read_topic(root, o.topic, &o);
	DIR *d = opendir(root);
	if (d == NULL) {
		fprintf(stderr, "weir-read: %s: %s\n", root, strerror(errno));
		return EXIT_DAMAGE;
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
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode) && is_topic(p))
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (n == 0) {
		fprintf(stderr, "weir-read: %s: not a weir log: no topic directory in it (one with segments or a %s "
				"file)\n", root, WEIR_LOG_CHECKPOINT_FILE);
		return EXIT_DAMAGE;
	}
	qsort(names, n, sizeof(names[0]), cmp_str);
	int worst = EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		int rc = read_topic(root, names[i], &o);
		if (rc == EXIT_DAMAGE || (rc && worst == EXIT_OK))
			worst = rc;
		free(names[i]);
	}
	return worst;
}
