/*
 * weir-stat: attaches read-only to a running weir-dataplane and prints, every
 * interval, its rates and totals, and with --loss the per-source loss report
 * (like aeron-stat beside a media driver).
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weir_attach.h"
#include "weir_config.h"
#include "weir_quit.h"
#include "weir_report.h"
#include "weir_seq_layout.h"
#include "weir_shm.h"
#include "weir_time.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: weir-stat -f CONFIG [--interval SEC] [--count N] [--loss] [--json]\n"
		"  -f, --config FILE   the pmd-config file weir-dataplane runs with\n"
		"  --interval SEC      seconds between reports (default 1)\n"
		"  --count N           stop after N reports (default: until interrupted)\n"
		"  --loss              add the per-source loss report (and each feed line's: missed, gap runs, late)\n"
		"  --json              one JSON object per report: counters and loss report\n");
}

/* "FEED/a" by line id (NULL: no such line): the feed lines' figures. */
static const char *line_names[WEIR_MAX_LINES];

/* One line of figures (rates over dt), or one JSON object. */
static void
print_one(const struct weir_info *info, const struct weir_seq_region *const *regions, bool json, bool loss,
	  const struct weir_worker_counters *prev, const struct weir_worker_counters *now_c, double dt)
{
	const struct weir_worker_counters now = *now_c;
	if (json) {
		printf("{\"time_ns\":%" PRIu64 ",\"state\":\"%s\",\"counters\":", weir_realtime_ns(),
		       weir_state_name(info->state));
		weir_report_stats_json(stdout, info->workers, info->n_workers, info, line_names);
		if (loss) {
			printf(",\"loss\":");
			weir_report_loss(stdout, regions, info->n_workers, true, info, line_names);
		}
		printf("}\n");
	} else {
		printf("%s  rx %.3f Mpps  events %.3f M/s  | rx %" PRIu64 "  events %" PRIu64 "  dead %" PRIu64
		       "  dups %" PRIu64 "  late %" PRIu64 "  gaps %" PRIu64 "  lost %" PRIu64 "  re-requests %" PRIu64
		       "  ring-full %" PRIu64 "\n",
		       weir_state_name(info->state), (double)(now.rx_packets - prev->rx_packets) / dt / 1e6,
		       (double)(now.event_records - prev->event_records) / dt / 1e6, now.rx_packets, now.event_records,
		       now.dead_letter_packets, now.seq_duplicates, now.seq_late_fills, now.gaps_opened,
		       now.gap_events_lost, now.rerequests_sent, now.ring_full_packets);
		if (loss)
			weir_report_loss(stdout, regions, info->n_workers, false, info, line_names);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' }, { "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },  { "loss", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },         { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	double interval = 1.0;
	long count = -1;
	bool loss = false, json = false;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': config = optarg; break;
		case 'i':
			if (weir_parse_seconds(optarg, 0.01, &interval)) {
				fprintf(stderr, "weir-stat: --interval \"%s\": give seconds, at least 0.01\n", optarg);
				return 2;
			}
			break;
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end || count < 1) {
				fprintf(stderr, "weir-stat: --count \"%s\": give 1 or more\n", optarg);
				return 2;
			}
			break;
		case 'l': loss = true; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (config == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	static struct weir_config cfg;
	static char err[8192];
	if (weir_config_load(config, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	static char names[WEIR_MAX_LINES][40];
	for (unsigned l = 0; l < WEIR_MAX_LINES; l++)
		if (weir_config_line_name(&cfg, l, names[l], sizeof(names[l])))
			line_names[l] = names[l];
	weir_quit_on_signals();
	struct weir_shm shm;
	if (weir_attach(&cfg, "weir-stat", &shm) != 0)
		return 1;
	const char *why;
	struct weir_info *info = weir_info_attach(&shm, 10000, &why);
	if (info == NULL) {
		fprintf(stderr, "weir-stat: %s\n", why);
		return 1;
	}
	const struct weir_seq_region *regions[WEIR_MAX_WORKERS] = { 0 };
	for (unsigned w = 0; w < info->n_workers; w++) {
		char name[32];
		uint64_t bytes;
		snprintf(name, sizeof(name), "seq.%u", w);
		regions[w] = weir_shm_attach(&shm, name, &bytes);
	}
	struct weir_worker_counters prev, now;
	weir_counters_sum(info->workers, info->n_workers, &prev);
	uint64_t t_prev = weir_monotonic_ns();
	for (long i = 0; !weir_quit && (count < 0 || i < count); i++) {
		usleep((useconds_t)(interval * 1e6));
		uint64_t t_now = weir_monotonic_ns();
		double dt = (double)(t_now - t_prev) / 1e9;
		weir_counters_sum(info->workers, info->n_workers, &now);
		print_one(info, regions, json, loss, &prev, &now, dt);
		fflush(stdout);
		prev = now;
		t_prev = t_now;
	}
	return 0;
}
