#define _GNU_SOURCE /* close_range */
/*
 * weir-control: maps weir-dataplane's rings and counters (files on hugetlbfs,
 * or in /dev/shm under --no-huge; no EAL) and drains every record into the
 * durable log, exactly once across restarts of either process.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
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


#include "weir_attach.h"
#include "weir_config.h"
#include "weir_crash.h"
#include "weir_quit.h"
#include "weir_time.h"
#include "weir_drain.h"
#include "weir_http.h"
#include "weir_metrics.h"
#include "weir_priv.h"
#include "weir_report.h"

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
		"      --exit-when-done       exit once the dataplane has stopped (or died) and every ring is drained;\n"
		"                             without it, a dataplane that dies is drained, then the next one is\n"
		"                             waited for and attached to\n"
		"      --summary-interval SEC one summary line every SEC seconds (0: never; default 1)\n"
		"      --wait-primary SEC     wait this long for weir-dataplane to come up (default 30; or forever)\n"
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
			if (strcmp(optarg, "forever") == 0)
				o->wait_primary_s = INFINITY;
			else if (weir_parse_seconds(optarg, 0, &o->wait_primary_s))
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
		fprintf(f, "%s\"%s\":{\"records_appended\":%" PRIu64 ",\"records_committed\":%" PRIu64
			",\"next_offset\":%" PRIu64 ",\"recovered_truncated_bytes\":%" PRIu64 "}",
			t ? "," : "", d->topics[t].name, d->topics[t].records_appended, d->topics[t].records_committed,
			d->topics[t].next_offset,
			d->topics[t].recovered_truncated_bytes);
	fprintf(f, "},\"dataplane\":");
	weir_report_counters_json(f, info->workers, info->n_workers);
	fprintf(f, "}\n");
	fclose(f);
}

/* The info region and every worker's ring of the dataplane shm names. */
static int
attach_once(struct weir_shm *shm, unsigned wait_ms, struct weir_info **info, struct weir_ring **rings)
{
	const char *why = NULL;
	*info = weir_info_attach(shm, wait_ms, &why);
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

static bool
rings_drained(const struct weir_info *info, struct weir_ring *const *rings)
{
	for (unsigned i = 0; i < info->n_workers; i++)
		if (weir_ring_unreleased(rings[i]))
			return false;
	return true;
}

/* The regions outlive a killed dataplane: what its rings still hold is
 * drained like a live one's, but a dead run already drained is passed over
 * until the next dataplane replaces it. */
static int
attach_regions(struct weir_shm *shm, const struct options *o, struct weir_info **info, struct weir_ring **rings)
{
	unsigned wait_ms = o->wait_primary_s * 1000 >= UINT_MAX ? UINT_MAX : (unsigned)(o->wait_primary_s * 1000);
	for (double waited = 0;; waited += 0.2) {
		int rc = attach_once(shm, wait_ms, info, rings);
		if (rc != 0 || weir_primary_alive(shm) || !rings_drained(*info, rings))
			return rc;
		if (waited == 0)
			printf("weir-control: the regions of file prefix %s are a dead run's, drained: waiting for the "
			       "next weir-dataplane\n", shm->prefix);
		for (unsigned i = 0; i < (*info)->n_workers; i++)
			weir_shm_detach(rings[i], weir_ring_memsize(rings[i]->size_bytes));
		weir_info_detach(shm, *info, sizeof(**info));
		if (weir_quit)
			return 1;
		if (o->exit_when_done && waited >= o->wait_primary_s) { /* never a wait without end */
			printf("weir-control: no weir-dataplane came in %.0f s, and nothing is left to drain: done\n",
			       o->wait_primary_s);
			return 2;
		}
		usleep(200 * 1000);
	}
}

/* The drain, and the threads it starts (the log's writer), on "control
 * lcore" (as EAL pinned them when weir-control was a DPDK secondary); the
 * endpoint's thread, started before, stays where the system puts it. */
static void
pin_to_control_lcore(const struct weir_config *cfg)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET((unsigned)cfg->control_lcore, &set);
	int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (rc != 0)
		fprintf(stderr, "weir-control: control lcore %d: cannot run there (%s): left where the system puts it\n",
			cfg->control_lcore, strerror(rc));
}

/* /metrics and /healthz, up before any dataplane is: they say so until one is attached. */
static struct weir_http *
start_metrics(const struct weir_config *cfg, struct weir_metrics_src *msrc, char *err, size_t errlen)
{
	struct weir_http *metrics = weir_metrics_serve(msrc, err, errlen);
	if (metrics == NULL) {
		fprintf(stderr, "weir-control: %s\n", err);
		return NULL;
	}
	char addr[32];
	inet_ntop(AF_INET, &cfg->metrics_ip, addr, sizeof(addr));
	printf("weir-control: metrics on http://%s:%u/metrics and /healthz\n", addr, ntohs(cfg->metrics_port));
	return metrics;
}

/* Everything the endpoint reads of an attached dataplane, info last. */
static void
metrics_attach(struct weir_metrics_src *msrc, const struct weir_config *cfg, const struct weir_shm *shm,
	       const struct weir_info *info, struct weir_ring **rings, const struct weir_drain *d)
{
	msrc->drain = d;
	uint64_t bytes;
	for (unsigned i = 0; i < info->n_workers; i++) {
		char name[32];
		msrc->rings[i] = rings[i];
		snprintf(name, sizeof(name), "seq.%u", i);
		msrc->seq[i] = weir_shm_attach(shm, name, &bytes);
	}
	msrc->rules = cfg->rules_path[0] ? weir_shm_attach(shm, "rules", &bytes) : NULL;
	weir_metrics_attached(msrc, info);
}

/* After the dataplane's process is gone: takes everything it published
 * (its rings' tails are final) and commits it, a signal or not.  A log that
 * takes no writes (a full disk) is waited for as while the dataplane ran:
 * the rings hold the records meanwhile, and leaving them there would keep
 * the next dataplane from starting; only that wait a signal ends (-1, said
 * in err).  -1 on a failure too. */
static int
drain_what_is_left(struct weir_drain *d, char *err, size_t errlen)
{
	bool said = false;
	for (;;) {
		uint64_t now = weir_realtime_ns();
		if (weir_drain_suspended(d)) {
			if (weir_quit) {
				snprintf(err, errlen, "stopped by a signal with %" PRIu64 " bytes still in the rings (the "
					 "next weir-control drains them)", weir_drain_lag_bytes(d));
				return -1;
			}
			if (!said)
				printf("weir-control: the log takes no writes: waiting for it to drain what is left "
				       "(%" PRIu64 " bytes in the rings)\n", weir_drain_lag_bytes(d));
			said = true;
			if (weir_drain_resume(d, now, err, errlen) != 0) {
				usleep(10 * 1000);
				continue;
			}
		}
		int moved = weir_drain_poll(d, now, err, errlen);
		if (moved < 0)
			return -1;
		if (moved == 0 && !weir_drain_suspended(d) && weir_drain_caught_up(d)) {
			if (weir_drain_commit(d, weir_realtime_ns(), err, errlen) != 0)
				return -1;
			if (!weir_drain_suspended(d)) /* a refused commit suspends: its records are read again */
				return 0;
		}
	}
}

enum drain_end { DRAIN_DONE, DRAIN_FAILED, DRAIN_PRIMARY_GONE };

/* Everything weir-control holds while attached to one dataplane. */
struct control {
	struct options o;
	struct weir_config cfg;
	struct weir_shm shm;
	struct weir_info *info;
	struct weir_ring *rings[WEIR_MAX_WORKERS];
	struct weir_drain d;
	bool drain_open;
	int consumer_lock;          /* held while attached: one drain per dataplane */
	struct weir_metrics_src msrc;
	struct weir_http *metrics;
	struct weir_priv_user user; /* "user" of the config; no name: none */
	char err[8192];
};

/* Drains until a signal, the dataplane's stop (--exit-when-done) or its
 * process going away, then commits what is left. */
static enum drain_end
drain_until_done(struct control *ctl)
{
	struct weir_drain *d = &ctl->d;
	const struct options *o = &ctl->o;
	char *err = ctl->err;
	size_t errlen = sizeof(ctl->err);
	uint64_t last_summary = weir_realtime_ns(), last_persisted = 0, next_alive_check = 0;
	enum drain_end end = DRAIN_DONE;
	while (!weir_quit) {
		uint64_t now = weir_realtime_ns();
		if (weir_drain_suspended(d) && weir_drain_resume(d, now, err, errlen) != 0)
			usleep(10 * 1000); /* the rings hold the records meanwhile */
		int moved = weir_drain_poll(d, now, err, errlen);
		if (moved < 0) {
			end = DRAIN_FAILED;
			break;
		}
		if (o->summary_interval_s > 0 && now - last_summary >= (uint64_t)(o->summary_interval_s * 1e9)) {
			print_summary(d, ctl->info, &last_persisted, (double)(now - last_summary) / 1e9);
			last_summary = now;
		}
		if (now >= next_alive_check) {
			/* A SIGKILLed dataplane never says "stopped": its lock or pid does. */
			next_alive_check = now + 200 * 1000 * 1000ull;
			if (!weir_primary_alive(&ctl->shm)) {
				__atomic_store_n(&ctl->msrc.dataplane_up, 0, __ATOMIC_RELAXED);
				printf("weir-control: weir-dataplane (pid %" PRIu64 ") is gone: making what it published "
				       "durable\n",
				       ctl->info->dataplane_pid);
				end = drain_what_is_left(d, err, errlen) == 0 ? DRAIN_PRIMARY_GONE : DRAIN_FAILED;
				break;
			}
		}
		if (moved == 0) {
			if (o->exit_when_done &&
			    __atomic_load_n(&ctl->info->state, __ATOMIC_ACQUIRE) == WEIR_STATE_STOPPED &&
			    weir_drain_caught_up(d))
				break;
			/* The dataplane waits on head at shutdown: keep it moving when idle. */
			if ((d->uncommitted || now - d->last_commit_ns > 100 * 1000 * 1000ull) &&
			    weir_drain_commit(d, now, err, errlen) != 0) {
				end = DRAIN_FAILED;
				break;
			}
			usleep(200);
		}
	}
	if (end == DRAIN_DONE && weir_drain_commit(d, weir_realtime_ns(), err, errlen) != 0)
		end = DRAIN_FAILED;
	if (end == DRAIN_FAILED)
		fprintf(stderr, "weir-control: %s\n", err);
	print_summary(d, ctl->info, &last_persisted, 0);
	for (unsigned t = 0; t < d->n_topics; t++)
		if (d->topics[t].records_committed || d->topics[t].recovered_truncated_bytes)
			printf("weir-control: topic %s: %" PRIu64 " records committed this run, next offset %" PRIu64
			       ", %" PRIu64 " torn bytes cut at start\n",
			       d->topics[t].name, d->topics[t].records_committed, d->topics[t].next_offset,
			       d->topics[t].recovered_truncated_bytes);
	return end;
}

/* Attached to a dataplane: its regions, the log, the endpoint's view.  0, 1, or 2: nothing
 * to drain (--exit-when-done, a dead run drained, no next one in time). */
static int
attach_dataplane(struct control *ctl)
{
	/* The lock first, so the first weir-control started is the one that
	 * drains; where its directory is not there yet (EAL's runtime
	 * directory, with hugepages, before any dataplane ran) or not yet ours
	 * (EAL made it as root; the dataplane gives it to the service user
	 * before it publishes its regions), once the regions are (mapping them
	 * changes nothing). */
	ctl->consumer_lock = weir_consumer_lock(&ctl->shm, ctl->err, sizeof(ctl->err));
	if (ctl->consumer_lock < 0 && errno != ENOENT && errno != EACCES) {
		fprintf(stderr, "weir-control: %s\n", ctl->err);
		return 1;
	}
	int rc = attach_regions(&ctl->shm, &ctl->o, &ctl->info, ctl->rings);
	if (rc != 0)
		return rc;
	if (ctl->consumer_lock < 0 &&
	    (ctl->consumer_lock = weir_consumer_lock(&ctl->shm, ctl->err, sizeof(ctl->err))) < 0) {
		fprintf(stderr, "weir-control: %s\n", ctl->err);
		return 1;
	}
	if (weir_drain_open(&ctl->d, &ctl->cfg, (const char(*)[WEIR_TOPIC_NAME_MAX])ctl->info->topics,
			    ctl->info->n_topics, ctl->rings, ctl->info->n_workers, ctl->info->incarnation, ctl->err,
			    sizeof(ctl->err)) != 0) {
		fprintf(stderr, "weir-control: %s\n", ctl->err);
		return 1;
	}
	ctl->drain_open = true;
	ctl->d.batch_records = ctl->o.batch_records;
	metrics_attach(&ctl->msrc, &ctl->cfg, &ctl->shm, ctl->info, ctl->rings, &ctl->d);
	printf("weir-control: draining %u ring%s into %s (%u topics, fsync %s)\n", ctl->info->n_workers,
	       ctl->info->n_workers == 1 ? "" : "s", ctl->cfg.log_dir, ctl->info->n_topics,
	       ctl->cfg.fsync_mode == WEIR_FSYNC_BATCH  ? "every batch"
	       : ctl->cfg.fsync_mode == WEIR_FSYNC_NONE ? "never"
							: "by interval");
	return 0;
}

/* The next dataplane is waited for by this program anew: nothing of the
 * dead run (its mappings, its locks, the drain's state) is carried over; the
 * log is closed and the endpoint down for the moment between. */
static void
wait_for_the_next_dataplane(struct control *ctl, char **argv, int argc)
{
	char *args[argc + 3];
	memcpy(args, argv, sizeof(char *) * (size_t)argc);
	if (argc < 2 || strcmp(argv[argc - 2], "--wait-primary") != 0 || strcmp(argv[argc - 1], "forever") != 0) {
		args[argc++] = "--wait-primary"; /* the last one given wins */
		args[argc++] = "forever";
	}
	args[argc] = NULL;
	printf("weir-control: waiting for the next weir-dataplane with file prefix %s\n", ctl->shm.prefix);
	fflush(stdout);
	/* Descriptors (and their flocks: the consumer lock, the topics') would
	 * outlive the exec. */
	close_range(3, ~0u, 0);
	execv("/proc/self/exe", args);
	fprintf(stderr, "weir-control: cannot start again to wait for the next dataplane: %s\n", strerror(errno));
}

int
main(int argc, char **argv)
{
	static struct control ctl;
	setvbuf(stdout, NULL, _IOLBF, 0);
	weir_crash_trace_install("weir-control");
	if (parse_options(argc, argv, &ctl.o) != 0)
		return 2;
	if (weir_config_load(ctl.o.config, &ctl.cfg, ctl.err, sizeof(ctl.err)) != 0) {
		fprintf(stderr, "%s\n", ctl.err);
		return 2;
	}
	umask((mode_t)weir_config_umask(&ctl.cfg)); /* the log's files: log mode (0640) */
	ctl.user = (struct weir_priv_user){ ctl.cfg.run_user, ctl.cfg.run_uid, ctl.cfg.run_gid };
	if (weir_priv_start("weir-control", &ctl.user, ctl.cfg.path, ctl.cfg.line_user) != 0)
		return 1; /* before any thread */
	weir_quit_on_signals();
	ctl.msrc = (struct weir_metrics_src){ .cfg = &ctl.cfg, .start_ns = weir_realtime_ns(),
					      .heartbeat_stale_ns = 2000000000ull };
	snprintf(ctl.msrc.prefix, sizeof(ctl.msrc.prefix), "%s", weir_config_file_prefix(&ctl.cfg));
	if (ctl.cfg.metrics_port && (ctl.metrics = start_metrics(&ctl.cfg, &ctl.msrc, ctl.err, sizeof(ctl.err))) == NULL)
		return 1;
	/* The log to the service user, and become it, before attaching: the
	 * dataplane gave its runtime files, hugepages and shared memory to the
	 * same user before it let anyone attach, so DPDK is never root's here;
	 * a re-exec for the next dataplane stays that user. */
	const char *given[] = { ctl.cfg.log_dir, NULL };
	if (weir_priv_settle("weir-control", &ctl.user, given, NULL) != 0 ||
	    weir_attach(&ctl.cfg, "weir-control", &ctl.shm) != 0) {
		weir_http_stop(ctl.metrics);
		return weir_quit ? 0 : 1;
	}
	pin_to_control_lcore(&ctl.cfg);
	/* Attached: every way out from here detaches. */
	enum drain_end end = DRAIN_FAILED;
	int attached = attach_dataplane(&ctl);
	if (attached == 0) {
		end = drain_until_done(&ctl);
		if (ctl.o.stats_json)
			write_stats_json(ctl.o.stats_json, &ctl.d, ctl.info);
	} else if (weir_quit || attached == 2) {
		end = DRAIN_DONE; /* told to stop while waiting for a dataplane, or nothing to drain */
	}
	weir_http_stop(ctl.metrics);
	if (ctl.drain_open)
		weir_drain_close(&ctl.d);
	if (end == DRAIN_PRIMARY_GONE && !ctl.o.exit_when_done && !weir_quit)
		wait_for_the_next_dataplane(&ctl, argv, argc);
	return end == DRAIN_FAILED ? 1 : 0;
}
