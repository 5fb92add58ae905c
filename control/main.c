/*
 * weir-control: attaches to weir-dataplane's rings and counters (as a DPDK
 * secondary process, or by mapping the /dev/shm files under --no-huge) and
 * drains every record into the durable log, exactly once across restarts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "weir_attach.h"
#include "weir_config.h"
#include "weir_time.h"
#include "weir_drain.h"
#include "weir_metrics.h"
#include "weir_report.h"

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

struct options {
	const char *config;
	bool exit_when_done;
	double summary_interval_s;
	double wait_primary_s;
	const char *stats_json;
	unsigned batch_records;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: weir-control -f CONFIG [options]\n"
		"  -f, --config FILE          the pmd-config file weir-dataplane runs with\n"
		"      --exit-when-done       exit once the dataplane has stopped and every ring is drained\n"
		"      --summary-interval SEC one summary line every SEC seconds (0: never; default 1)\n"
		"      --wait-primary SEC     wait this long for weir-dataplane to come up (default 30)\n"
		"      --stats-json FILE      write the final figures as JSON\n"
		"      --batch-records N      records taken from each ring per poll (default 4096); with\n"
		"                             \"log fsync batch\" this is also the most a fsync covers\n");
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "exit-when-done", no_argument, NULL, 'x' },
		{ "summary-interval", required_argument, NULL, 's' },
		{ "wait-primary", required_argument, NULL, 'w' },
		{ "stats-json", required_argument, NULL, 'j' },
		{ "batch-records", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof(*o));
	o->summary_interval_s = 1.0;
	o->wait_primary_s = 30.0;
	o->batch_records = 4096;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->config = optarg; break;
		case 'x': o->exit_when_done = true; break;
		case 's':
			if (weir_parse_seconds(optarg, 0, &o->summary_interval_s))
				goto bad;
			break;
		case 'w':
			if (weir_parse_seconds(optarg, 0, &o->wait_primary_s))
				goto bad;
			break;
		case 'j': o->stats_json = optarg; break;
		case 'b': {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || v == 0 || v > (1u << 20)) {
				fprintf(stderr, "weir-control: --batch-records \"%s\": give 1 to 1048576\n", optarg);
				return -1;
			}
			o->batch_records = (unsigned)v;
			break;
		}
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (o->config && optind == argc)
		return 0;
	usage(stderr);
	return -1;
bad:
	fprintf(stderr, "weir-control: \"%s\" is not a number of seconds\n", optarg);
	return -1;
}

static void
print_summary(const struct weir_drain *d, const struct weir_info *info, uint64_t *last, double dt)
{
	struct weir_worker_counters t;
	weir_counters_sum(info->workers, info->n_workers, &t);
	printf("weir-control: persisted %" PRIu64 " records (%.0f/s), %.1f MB; skipped %" PRIu64
	       " already-logged; ring lag %" PRIu64 " B; dataplane %s: rx %" PRIu64 " pkts, %" PRIu64
	       " events, %" PRIu64 " dead letters\n",
	       d->records_persisted, dt > 0 ? (double)(d->records_persisted - *last) / dt : 0.0,
	       (double)d->bytes_persisted / 1e6, d->records_skipped, weir_drain_lag_bytes(d),
	       weir_state_name(__atomic_load_n(&info->state, __ATOMIC_ACQUIRE)), t.rx_packets, t.event_records,
	       t.dead_letter_packets);
	*last = d->records_persisted;
}

static void
write_stats_json(const char *path, const struct weir_drain *d, const struct weir_info *info)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "weir-control: %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f,
		"{\"records_persisted\":%" PRIu64 ",\"bytes_persisted\":%" PRIu64 ",\"records_skipped\":%" PRIu64
		",\"records_bad_topic\":%" PRIu64 ",\"commits\":%" PRIu64 ",\"fsync_ns_max\":%" PRIu64
		",\"jemalloc_allocated_bytes\":%" PRIu64 ",\"topics\":{",
		d->records_persisted, d->bytes_persisted, d->records_skipped, d->records_bad_topic, d->commits,
		d->fsync_ns_max, weir_heap_allocated_bytes());
	for (unsigned t = 0; t < d->n_topics; t++)
		fprintf(f, "%s\"%s\":{\"records_appended\":%" PRIu64 ",\"next_offset\":%" PRIu64
			",\"recovered_truncated_bytes\":%" PRIu64 "}",
			t ? "," : "", d->topics[t].name, d->topics[t].records_appended, d->topics[t].next_offset,
			d->topics[t].recovered_truncated_bytes);
	fprintf(f, "},\"dataplane\":");
	weir_report_counters_json(f, info->workers, info->n_workers);
	fprintf(f, "}\n");
	fclose(f);
}

/* The info region and every worker's ring of the dataplane shm names. */
static int
attach_regions(const struct weir_shm *shm, const struct options *o, struct weir_info **info, struct weir_ring **rings)
{
	const char *why = NULL;
	*info = weir_info_attach(shm, (unsigned)(o->wait_primary_s * 1000), &why);
	if (*info == NULL) {
		fprintf(stderr, "weir-control: %s\n", why);
		return 1;
	}
	for (unsigned i = 0; i < (*info)->n_workers; i++) {
		rings[i] = weir_ring_attach(shm, i, &why);
		if (rings[i] == NULL) {
			fprintf(stderr, "weir-control: ring %u: %s\n", i, why);
			return 1;
		}
	}
	return 0;
}

/* /metrics and /healthz over what the drain and the dataplane publish. */
static int
start_metrics(const struct weir_config *cfg, const struct weir_shm *shm, struct weir_info *info,
	      struct weir_ring **rings, struct weir_drain *d, struct weir_metrics_server **metrics, char *err,
	      size_t errlen)
{
	static struct weir_metrics_src msrc;
	msrc.cfg = cfg;
	msrc.info = info;
	msrc.drain = d;
	msrc.start_ns = weir_realtime_ns();
	msrc.heartbeat_stale_ns = 2000000000ull;
	uint64_t bytes;
	for (unsigned i = 0; i < info->n_workers; i++) {
		char name[32];
		msrc.rings[i] = rings[i];
		snprintf(name, sizeof(name), "seq.%u", i);
		msrc.seq[i] = weir_shm_attach(shm, name, &bytes);
	}
	msrc.rules = cfg->rules_path[0] ? weir_shm_attach(shm, "rules", &bytes) : NULL;
	*metrics = weir_metrics_serve(&msrc, err, errlen);
	if (*metrics == NULL) {
		fprintf(stderr, "weir-control: %s\n", err);
		return 1;
	}
	char addr[32];
	inet_ntop(AF_INET, &cfg->metrics_ip, addr, sizeof(addr));
	printf("weir-control: metrics on http://%s:%u/metrics and /healthz\n", addr, ntohs(cfg->metrics_port));
	return 0;
}

/* Drains until a signal (or, with --exit-when-done, the dataplane's stop),
 * then commits what is left.  0, or 1 when the log refused a write. */
static int
drain_until_done(struct weir_drain *d, const struct weir_info *info, const struct options *o, char *err,
		 size_t errlen)
{
	uint64_t last_summary = weir_realtime_ns(), last_persisted = 0;
	int rc = 0;
	while (!quit) {
		uint64_t now = weir_realtime_ns();
		int moved = weir_drain_poll(d, now, err, errlen);
		if (moved < 0) {
			rc = 1;
			break;
		}
		if (o->summary_interval_s > 0 && now - last_summary >= (uint64_t)(o->summary_interval_s * 1e9)) {
			print_summary(d, info, &last_persisted, (double)(now - last_summary) / 1e9);
			last_summary = now;
		}
		if (moved == 0) {
			if (o->exit_when_done && __atomic_load_n(&info->state, __ATOMIC_ACQUIRE) == WEIR_STATE_STOPPED &&
			    weir_drain_caught_up(d))
				break;
			/* The dataplane waits on head at shutdown: keep it moving when idle. */
			if ((d->uncommitted || now - d->last_commit_ns > 100 * 1000 * 1000ull) &&
			    weir_drain_commit(d, now, err, errlen) != 0) {
				rc = 1;
				break;
			}
			usleep(200);
		}
	}
	if (rc == 0 && weir_drain_commit(d, weir_realtime_ns(), err, errlen) != 0)
		rc = 1;
	if (rc != 0)
		fprintf(stderr, "weir-control: %s\n", err);
	print_summary(d, info, &last_persisted, 0);
	for (unsigned t = 0; t < d->n_topics; t++)
		if (d->topics[t].records_appended || d->topics[t].recovered_truncated_bytes)
			printf("weir-control: topic %s: %" PRIu64 " records this run, next offset %" PRIu64
			       ", %" PRIu64 " torn bytes cut at start\n",
			       d->topics[t].name, d->topics[t].records_appended, d->topics[t].next_offset,
			       d->topics[t].recovered_truncated_bytes);
	return rc;
}

int
main(int argc, char **argv)
{
	struct options o;
	static struct weir_config cfg;
	static char err[8192];
	static struct weir_drain d;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_options(argc, argv, &o) != 0)
		return 2;
	if (weir_config_load(o.config, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	struct weir_shm shm;
	if (weir_attach(&cfg, "weir-control", o.wait_primary_s, &quit, &shm) != 0)
		return 1;
	/* Attached: every way out from here detaches. */
	struct weir_info *info = NULL;
	struct weir_ring *rings[WEIR_MAX_WORKERS];
	struct weir_metrics_server *metrics = NULL;
	bool drain_open = false;
	int rc = attach_regions(&shm, &o, &info, rings);
	if (rc == 0) {
		rc = weir_drain_open(&d, &cfg, (const char(*)[WEIR_TOPIC_NAME_MAX])info->topics, info->n_topics, rings,
				     info->n_workers, info->start_time_ns, err, sizeof(err)) != 0;
		if (rc)
			fprintf(stderr, "weir-control: %s\n", err);
		drain_open = rc == 0;
		d.batch_records = o.batch_records;
	}
	if (rc == 0 && cfg.metrics_port)
		rc = start_metrics(&cfg, &shm, info, rings, &d, &metrics, err, sizeof(err));
	if (rc == 0) {
		printf("weir-control: draining %u ring%s into %s (%u topics, fsync %s)\n", info->n_workers,
		       info->n_workers == 1 ? "" : "s", cfg.log_dir, info->n_topics,
		       cfg.fsync_mode == WEIR_FSYNC_BATCH  ? "every batch"
		       : cfg.fsync_mode == WEIR_FSYNC_NONE ? "never"
							   : "by interval");
		rc = drain_until_done(&d, info, &o, err, sizeof(err));
		if (o.stats_json)
			write_stats_json(o.stats_json, &d, info);
	}
	weir_metrics_stop(metrics);
	if (drain_open)
		weir_drain_close(&d);
	weir_detach(&shm);
	return rc;
}
