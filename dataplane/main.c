/*
 * weir-dataplane: the DPDK primary.  Reads a pmd-config file, validates it
 * whole, starts ports and one worker lcore per RX queue, each committing
 * records to its own ring; the main lcore only keeps house.
 */
/* rte_vect_get_max_simd_bitwidth(): experimental in DPDK 22.11, EAL's --force-max-simd-bitwidth */
#define ALLOW_EXPERIMENTAL_API
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_vect.h>

#include "weir_allow.h"
#include "weir_config.h"
#include "weir_eal_args.h"
#include "weir_pipeline.h"
#include "weir_port.h"
#include "weir_priv.h"
#include "weir_report.h"
#include "weir_rules_admin.h"
#include "weir_attach.h"
#include "weir_crash.h"
#include "weir_csum_paths.h"
#include "weir_shm.h"
#include "weir_telemetry.h"
#include "weir_time.h"
#include "weir_clock.h"
#include "weir_worker.h"

static volatile bool quit;
static volatile sig_atomic_t reload_requested;

static void
on_sighup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

static void
on_signal(int sig)
{
	(void)sig;
	quit = true;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: weir-dataplane -f CONFIG [options] [-- EXTRA_EAL_ARGS]\n"
		"       weir-dataplane --check CONFIG\n"
		"  -f, --config FILE        pmd-config command file\n"
		"      --check FILE         validate FILE and exit (0 valid, 2 not)\n"
		"      --stop-when-idle SEC stop once packets have been seen and none came for SEC seconds\n"
		"                           (a worker waiting for ring room is not idle)\n"
		"      --stats-interval SEC print a progress line every SEC seconds (0: never; default 1)\n"
		"      --stats-json FILE    write the final counters as JSON\n"
		"exit status: 0 stopped with every ring drained (or what was not left in the ring files for the\n"
		"next weir-control: the next weir-dataplane waits for that), 1 failed to start, 2 bad config,\n"
		"3 the accounting identity broke\n");
}

struct options {
	const char *config;
	bool check;
	double stop_when_idle_s;
	double stats_interval_s;
	const char *stats_json;
	int extra_argc;
	char **extra_argv;
};

static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "check", required_argument, NULL, 'c' },
		{ "stop-when-idle", required_argument, NULL, 'i' },
		{ "stats-interval", required_argument, NULL, 's' },
		{ "stats-json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof(*o));
	o->stats_interval_s = 1.0;
	int c;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->config = optarg; break;
		case 'c': o->config = optarg; o->check = true; break;
		case 'i':
			if (weir_parse_seconds(optarg, 1e-3, &o->stop_when_idle_s)) {
				fprintf(stderr, "weir-dataplane: --stop-when-idle \"%s\": give seconds above 0\n", optarg);
				return -1;
			}
			break;
		case 's':
			if (weir_parse_seconds(optarg, 0, &o->stats_interval_s)) {
				fprintf(stderr, "weir-dataplane: --stats-interval \"%s\": give seconds, 0 or more\n", optarg);
				return -1;
			}
			break;
		case 'j': o->stats_json = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (o->config == NULL) {
		usage(stderr);
		return -1;
	}
	o->extra_argc = argc - optind;
	o->extra_argv = argv + optind;
	return 0;
}

static void
publish_port_stats(struct weir_info *info, const struct weir_ports *ports)
{
	for (unsigned p = 0; p < ports->n_ports; p++) {
		struct rte_eth_stats st;
		if (rte_eth_stats_get(ports->port_ids[p], &st) != 0)
			continue;
		struct weir_port_stats *o = &info->ports[p];
		__atomic_store_n(&o->ipackets, st.ipackets, __ATOMIC_RELAXED);
		__atomic_store_n(&o->ibytes, st.ibytes, __ATOMIC_RELAXED);
		__atomic_store_n(&o->imissed, st.imissed, __ATOMIC_RELAXED);
		__atomic_store_n(&o->ierrors, st.ierrors, __ATOMIC_RELAXED);
		__atomic_store_n(&o->rx_nombuf, st.rx_nombuf, __ATOMIC_RELAXED);
	}
}

static void
print_progress(const struct weir_info *info, uint64_t *last_rx, double dt)
{
	struct weir_worker_counters t;
	weir_counters_sum(info->workers, info->n_workers, &t);
	printf("weir-dataplane: rx %" PRIu64 " pkts (%.2f Mpps)  events %" PRIu64 "  dead letters %" PRIu64
	       "  filtered %" PRIu64 "  ring-full %" PRIu64 "\n",
	       t.rx_packets, dt > 0 ? (double)(t.rx_packets - *last_rx) / dt / 1e6 : 0.0, t.event_records,
	       t.dead_letter_packets, t.filtered_packets, t.ring_full_packets);
	fflush(stdout);
	*last_rx = t.rx_packets;
}

/* Waits until weir-control has made every record durable, or the timeout. */
static uint64_t
wait_for_drain(struct weir_ring **rings, unsigned n, uint64_t timeout_ns)
{
	uint64_t deadline = weir_realtime_ns() + timeout_ns, left;
	for (;;) {
		left = 0;
		for (unsigned i = 0; i < n; i++)
			left += weir_ring_unreleased(rings[i]);
		if (left == 0 || weir_realtime_ns() >= deadline)
			return left;
		usleep(10 * 1000);
	}
}

/* Everything the main lcore sets up and tears down. */
struct dataplane {
	struct options o;
	struct weir_config cfg;
	char err[8192];
	struct weir_shm shm;
	struct weir_info *info;
	struct weir_ports ports;
	bool ports_up;
	struct weir_decoder_table *decoders;
	struct weir_worker *workers;
	struct weir_ring *rings[WEIR_MAX_WORKERS];
	const struct weir_seq_region *seq_regions[WEIR_MAX_WORKERS];
	struct weir_rules_admin rules;
	struct weir_restore restore;
	uint64_t undrained_bytes;
	char line_name[WEIR_MAX_LINES][40];      /* "FEED/a" by line id */
	const char *line_names[WEIR_MAX_LINES];  /* NULL: no such line */
	struct weir_priv_user user;              /* "user" of the config; no name: none */
	struct weir_tsc_clock clock;             /* the TSC against CLOCK_REALTIME, kept by keep_house() */
	struct weir_tsc_pub clock_pub;           /* what the workers take it from */
};

/* The whole file (and its rules file, compiled) is checked before EAL, a
 * port or a hugepage is touched.  0 to go on, else the exit code. */
static int
load_config(struct dataplane *dp)
{
	struct weir_config *cfg = &dp->cfg;
	if (weir_config_load(dp->o.config, cfg, dp->err, sizeof(dp->err)) != 0) {
		fprintf(stderr, "%s\n", dp->err);
		return 2;
	}
	umask((mode_t)weir_config_umask(cfg)); /* the loss report, shared memory: log mode at widest */
	for (unsigned l = 0; l < WEIR_MAX_LINES; l++)
		if (weir_config_line_name(cfg, l, dp->line_name[l], sizeof(dp->line_name[l])))
			dp->line_names[l] = dp->line_name[l];
	if (cfg->rules_path[0]) {
		struct weir_ruleset *rs = weir_rules_load(cfg->rules_path, cfg, 0, dp->err, sizeof(dp->err));
		if (rs == NULL) {
			fprintf(stderr, "%s\n", dp->err);
			return 2;
		}
		weir_rules_free(rs);
	}
	return 0;
}

static int
start_eal(struct dataplane *dp)
{
	char *eal_argv[WEIR_MAX_EAL_ARGS + 8];
	int eal_argc;
	if (weir_eal_args_primary(&dp->cfg, "weir-dataplane", dp->o.extra_argc, dp->o.extra_argv, eal_argv, &eal_argc) != 0) {
		fprintf(stderr, "weir-dataplane: too many EAL arguments\n");
		return 2;
	}
	/* A weir-control of the previous run lets go within a second of its death. */
	if (!weir_config_no_huge(&dp->cfg) &&
	    weir_wait_for_secondaries("weir-dataplane", weir_config_file_prefix(&dp->cfg), 10) != 0)
		return 1;
	dp->user = (struct weir_priv_user){ dp->cfg.run_user, dp->cfg.run_uid, dp->cfg.run_gid };
	if (weir_priv_start("weir-dataplane", &dp->user, dp->cfg.path, dp->cfg.line_user) != 0)
		return 1; /* before EAL's threads, which inherit it */
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "weir-dataplane: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	/* as wide as EAL lets DPDK's own vector paths be (--force-max-simd-bitwidth) */
	uint16_t simd_bits = rte_vect_get_max_simd_bitwidth();
	const struct weir_csum_path *csum = weir_csum_path_limit(simd_bits);
	char from[48] = "";
	if (csum->inline_below && csum->inline_below != UINT32_MAX) /* shorter ones: the inline sum, as fast */
		snprintf(from, sizeof(from), " from %u-byte datagrams", csum->inline_below);
	printf("weir-dataplane: UDP checksums the NIC leaves are summed on the %s path%s (EAL's SIMD width: %u bits)\n",
	       csum->name, from, simd_bits);
	return 0;
}

static int
check_worker_lcores(const struct weir_config *cfg)
{
	for (unsigned i = 0; i < cfg->n_workers; i++) {
		unsigned l = cfg->worker_lcores[i];
		if (l >= RTE_MAX_LCORE || !rte_lcore_is_enabled(l) || l == rte_get_main_lcore()) {
			fprintf(stderr,
				"%s:%u: worker lcore %u is not an EAL worker lcore (EAL lcores: give -l with the main lcore and every worker)\n",
				cfg->path, cfg->line_corelist, l);
			return 2;
		}
	}
	return 0;
}

/* The shared regions and state that are not a worker's own. */
static int
setup_shared(struct dataplane *dp)
{
	struct weir_config *cfg = &dp->cfg;
	if (weir_shm_from_config(cfg, &dp->shm, dp->err, sizeof(dp->err)) != 0) {
		fprintf(stderr, "weir-dataplane: %s\n", dp->err);
		return 1;
	}
	printf("weir-dataplane: rings and counters in %s/weir.%s.* (%s)\n", dp->shm.dir, dp->shm.prefix,
	       dp->shm.huge ? "hugepages" : "--no-huge: no hugepages");
	if (weir_shm_wait_drained(&dp->shm, "weir-dataplane", 30) != 0)
		return 1;
	dp->info = weir_shm_create(&dp->shm, "info", sizeof(struct weir_info), (int)rte_socket_id());
	if (dp->info == NULL || weir_shm_hold_live(&dp->shm) != 0) {
		fprintf(stderr, "weir-dataplane: cannot create the info region %s/weir.%s.info (%zu bytes): %s\n",
			dp->shm.dir, dp->shm.prefix, sizeof(struct weir_info), strerror(errno));
		return 1;
	}
	if (weir_ports_init(cfg, &dp->ports, dp->err, sizeof(dp->err)) != 0) {
		fprintf(stderr, "weir-dataplane: %s\n", dp->err);
		return 1;
	}
	dp->ports_up = true;
	dp->decoders = rte_zmalloc("weir_decoders", sizeof(*dp->decoders), RTE_CACHE_LINE_SIZE);
	dp->workers = rte_zmalloc("weir_workers", sizeof(*dp->workers) * cfg->n_workers, RTE_CACHE_LINE_SIZE);
	if (dp->decoders == NULL || dp->workers == NULL) {
		fprintf(stderr, "weir-dataplane: out of memory for worker state\n");
		return 1;
	}
	weir_decoder_table_build(dp->decoders, cfg);
	static struct weir_allow allow[WEIR_MAX_DECODERS];
	if (weir_allow_table(dp->decoders, allow, dp->err, sizeof(dp->err)) != 0) {
		fprintf(stderr, "weir-dataplane: %s\n", dp->err);
		return 2;
	}
	if (cfg->rules_path[0]) {
		void *region = weir_shm_create(&dp->shm, "rules", weir_rules_region_size(cfg->n_workers),
					       (int)rte_socket_id());
		if (region == NULL) {
			fprintf(stderr, "weir-dataplane: cannot set up the per-rule counters\n");
			return 2;
		}
		if (weir_rules_admin_start(&dp->rules, cfg, region, dp->err, sizeof(dp->err)) != 0) {
			fprintf(stderr, "%s\n", dp->err);
			return 2;
		}
	}
	return 0;
}

/* Where each source stood when the last run ended, from the log's tail:
 * its next sequence, its open gaps, whether it had ended. */
static int
restore_sources(struct dataplane *dp)
{
	const struct weir_config *cfg = &dp->cfg;
	if (cfg->seq.restore_window_bytes == 0)
		return 0;
	uint64_t t0 = weir_monotonic_ns();
	if (weir_restore_init(&dp->restore, cfg->seq.max_sources) != 0 ||
	    weir_restore_from_log(&dp->restore, cfg->log_dir, (const char(*)[32])cfg->topics, cfg->n_topics,
				  cfg->seq.restore_window_bytes, dp->err, sizeof(dp->err)) != 0) {
		fprintf(stderr, "weir-dataplane: cannot restore the sources' state from the log: %s\n", dp->err);
		return 1;
	}
	if (dp->restore.n)
		printf("weir-dataplane: %u source%s restored from the log (%" PRIu64 " records read, %.0f ms)\n",
		       dp->restore.n, dp->restore.n == 1 ? "" : "s", dp->restore.records_read,
		       (double)(weir_monotonic_ns() - t0) / 1e6);
	return 0;
}

/* Each worker's ring and sequence region on its lcore's socket, then its state. */
static int
setup_workers(struct dataplane *dp)
{
	const struct weir_config *cfg = &dp->cfg;
	struct weir_worker_setup ws = {
		.cfg = cfg, .ports = &dp->ports, .decoders = dp->decoders, .quit = &quit,
		.rules = &dp->rules.current, .rules_region = dp->rules.region, .clock = &dp->clock_pub,
	};
	uint64_t ns = weir_clock_start(&dp->clock, &dp->clock_pub);
	for (unsigned d = 0; d < cfg->n_decoders; d++)
		ws.rerequests |= cfg->decoders[d].rerequest_family != 0;
	dp->info->start_time_ns = ns;
	dp->info->incarnation = weir_restore_incarnation(&dp->restore, ns);
	if (dp->info->incarnation != ns)
		printf("weir-dataplane: the clock stands %.3f s before the start of the log's last run: this run is "
		       "numbered after that one\n", (double)(dp->restore.last_incarnation - ns) / 1e9);
	for (unsigned i = 0; i < cfg->n_workers; i++) {
		char name[32];
		snprintf(name, sizeof(name), "ring.%u", i);
		int socket = (int)rte_lcore_to_socket_id(cfg->worker_lcores[i]);
		dp->rings[i] = weir_shm_create(&dp->shm, name, weir_ring_memsize(cfg->ring_bytes), socket);
		if (dp->rings[i] == NULL) {
			fprintf(stderr,
				"weir-dataplane: cannot reserve record ring %u (%" PRIu64
				" bytes): lower \"ring size\" or reserve more hugepages\n",
				i, cfg->ring_bytes);
			return 1;
		}
		weir_ring_init(dp->rings[i], i, cfg->ring_bytes);
		snprintf(name, sizeof(name), "seq.%u", i);
		void *seq_region = weir_shm_create(&dp->shm, name, weir_pipeline_memsize(cfg), socket);
		dp->seq_regions[i] = seq_region;
		if (seq_region == NULL ||
		    weir_worker_init(&dp->workers[i], &ws, i, dp->rings[i], seq_region, &dp->info->workers[i]) != 0) {
			fprintf(stderr,
				"weir-dataplane: cannot allocate worker %u's sequence table (%" PRIu64
				" bytes): lower \"sequence sources\" / \"sequence gaps\" or reserve more hugepages\n",
				i, weir_pipeline_memsize(cfg));
			return 1;
		}
		dp->workers[i].pl.seq.restore = dp->restore.sources ? &dp->restore : NULL;
		dp->workers[i].pl.shared_lines = dp->info->lines[i];
		dp->workers[i].pl.shared_feed_wrong_source = dp->info->feed_wrong_source[i];
		if (dp->workers[i].n_rxq == 0)
			printf("weir-dataplane: worker %u (lcore %u) has no RX queue: it stays idle\n", i,
			       dp->workers[i].lcore);
	}
	return 0;
}

/* Set up: the log, EAL's runtime files, hugepages and shared memory to
 * the service user, and become it.  A weir-control started as that user
 * attaches and writes; nothing of root's is left to the workers. */
static int
become_service_user(struct dataplane *dp)
{
	char door[PATH_MAX]; /* /var/run/dpdk */
	snprintf(door, sizeof(door), "%s/..", rte_eal_get_runtime_dir());
	const char *paths[] = { dp->cfg.log_dir, rte_eal_get_runtime_dir(), NULL };
	return weir_priv_settle("weir-dataplane", &dp->user, paths, door) == 0 ? 0 : 1;
}

/* The info region's header, version last: readers trust it from then on. */
static void
publish_info(struct dataplane *dp)
{
	const struct weir_config *cfg = &dp->cfg;
	struct weir_info *info = dp->info;
	info->magic = WEIR_INFO_MAGIC;
	info->n_workers = cfg->n_workers;
	info->n_topics = cfg->n_topics;
	info->n_ports = dp->ports.n_ports;
	for (unsigned p = 0; p < dp->ports.n_ports; p++)
		info->ports[p].port_id = dp->ports.port_ids[p];
	info->ring_bytes = cfg->ring_bytes;
	info->dataplane_pid = (uint64_t)getpid();
	memcpy(info->topics, cfg->topics, sizeof(info->topics));
	info->state = WEIR_STATE_RUNNING;
	__atomic_store_n(&info->version, WEIR_INFO_VERSION, __ATOMIC_RELEASE);
	if (weir_telemetry_register(info) != 0)
		printf("weir-dataplane: the /weir/counters telemetry command is not registered\n");
}

static void
launch_workers(struct dataplane *dp)
{
	const struct weir_config *cfg = &dp->cfg;
	for (unsigned i = 0; i < cfg->n_workers; i++)
		rte_eal_remote_launch(weir_worker_main, &dp->workers[i], dp->workers[i].lcore);
	printf("weir-dataplane: running: %u worker%s on lcores", cfg->n_workers, cfg->n_workers == 1 ? "" : "s");
	for (unsigned i = 0; i < cfg->n_workers; i++)
		printf(" %u", cfg->worker_lcores[i]);
	printf(", ring %" PRIu64 " bytes each, file prefix %s\n", cfg->ring_bytes, dp->shm.prefix);
}

/* The main lcore's housekeeping until a signal or --stop-when-idle: port
 * stats, rule reloads, progress lines. */
static void
keep_house(struct dataplane *dp)
{
	const struct options *o = &dp->o;
	uint64_t last_rx = 0, last_change_ns = weir_realtime_ns(), last_stats_ns = last_change_ns, seen_rx = 0;
	while (!quit) {
		usleep(50 * 1000);
		publish_port_stats(dp->info, &dp->ports);
		if (reload_requested) {
			reload_requested = 0;
			if (dp->rules.region)
				weir_rules_admin_reload(&dp->rules, &dp->cfg, dp->info);
			else
				fprintf(stderr, "weir-dataplane: SIGHUP: no \"rules\" file in the config to reload\n");
		}
		weir_clock_calibrate(&dp->clock, &dp->clock_pub);
		uint64_t now = weir_realtime_ns();
		struct weir_worker_counters t;
		weir_counters_sum(dp->info->workers, dp->cfg.n_workers, &t);
		/* A worker waiting for ring room takes nothing in: weir-control is
		 * behind (or stopped), the feed is not over. */
		if (t.rx_packets != seen_rx || t.backpressure_waiting) {
			seen_rx = t.rx_packets;
			last_change_ns = now;
		}
		if (o->stats_interval_s > 0 && now - last_stats_ns >= (uint64_t)(o->stats_interval_s * 1e9)) {
			print_progress(dp->info, &last_rx, (double)(now - last_stats_ns) / 1e9);
			last_stats_ns = now;
		}
		if (o->stop_when_idle_s > 0 && seen_rx > 0 &&
		    now - last_change_ns >= (uint64_t)(o->stop_when_idle_s * 1e9)) {
			printf("weir-dataplane: no packets for %.1f s: stopping\n", o->stop_when_idle_s);
			quit = true;
		}
	}
}

/* RX stopped: wait for weir-control to make every record durable. */
static void
stop_and_drain(struct dataplane *dp)
{
	const struct weir_config *cfg = &dp->cfg;
	printf("weir-dataplane: stopping RX\n");
	rte_eal_mp_wait_lcore();
	__atomic_store_n(&dp->info->state, WEIR_STATE_DRAINING, __ATOMIC_RELEASE);
	dp->undrained_bytes = wait_for_drain(dp->rings, cfg->n_workers, cfg->drain_timeout_ns);
	if (dp->undrained_bytes)
		printf("weir-dataplane: %" PRIu64 " bytes of records not drained after %.1f s: is weir-control running? "
		       "They stay in %s/weir.%s.ring.* for the next weir-control to drain (the next weir-dataplane "
		       "waits for that)\n",
		       dp->undrained_bytes, (double)cfg->drain_timeout_ns / 1e9, dp->shm.dir, dp->shm.prefix);
	else
		printf("weir-dataplane: every ring drained\n");
	__atomic_store_n(&dp->info->state, WEIR_STATE_STOPPED, __ATOMIC_RELEASE);
	publish_port_stats(dp->info, &dp->ports);
}

static void
write_json(const char *path, const struct dataplane *dp, bool loss_report)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "weir-dataplane: %s: %s\n", path, strerror(errno));
		return;
	}
	if (loss_report)
		weir_report_loss(f, dp->seq_regions, dp->cfg.n_workers, true, dp->info, dp->line_names);
	else
		weir_report_stats_json(f, dp->info->workers, dp->cfg.n_workers, dp->info, dp->line_names);
	fputc('\n', f);
	fclose(f);
	if (loss_report)
		printf("weir-dataplane: loss report in %s\n", path);
}

/* What the reorder window still held at the end: the stop found no ring
 * room for it (nothing drained within drain-timeout).  Counted, and said,
 * with what follows from it. */
static void
say_what_the_stop_left(const struct weir_worker_counters *t)
{
	if (t->reorder_holding == 0)
		return;
	printf("weir-dataplane: %" PRIu64 " events the reorder window held were not written: the stop found no ring "
	       "room (is weir-control running?); the log keeps their sources in order below them (no LOSS record "
	       "above them), and the next run takes those sources up from there\n", t->reorder_holding);
}

/* The final counters, per port, as JSON, and the loss report beside the
 * log (it outlives the run).  3 when the accounting identity broke. */
static int
report(const struct dataplane *dp)
{
	const struct weir_config *cfg = &dp->cfg;
	struct weir_worker_counters total;
	weir_counters_sum(dp->info->workers, cfg->n_workers, &total);
	weir_clock_report(&dp->clock);
	printf("weir-dataplane: final counters (%u worker%s):\n", cfg->n_workers, cfg->n_workers == 1 ? "" : "s");
	weir_report_counters(stdout, &total);
	say_what_the_stop_left(&total);
	for (unsigned p = 0; p < dp->ports.n_ports; p++) {
		struct rte_eth_stats st;
		if (rte_eth_stats_get(dp->ports.port_ids[p], &st) == 0)
			printf("  port %u (%s): ipackets %" PRIu64 " imissed %" PRIu64 " ierrors %" PRIu64
			       " rx_nombuf %" PRIu64 "\n",
			       dp->ports.port_ids[p], dp->ports.driver[p], st.ipackets, st.imissed, st.ierrors,
			       st.rx_nombuf);
	}
	if (dp->o.stats_json)
		write_json(dp->o.stats_json, dp, false);
	char report_path[PATH_MAX + 32];
	snprintf(report_path, sizeof(report_path), "%s/loss-report.json", cfg->log_dir);
	write_json(report_path, dp, true);
	bool identity_ok = weir_counters_identity_gap(&total) == 0 && weir_counters_message_identity_gap(&total) == 0;
	return identity_ok ? 0 : 3;
}

int
main(int argc, char **argv)
{
	static struct dataplane dp;
	setvbuf(stdout, NULL, _IOLBF, 0);
	weir_crash_trace_install("weir-dataplane");
	if (parse_options(argc, argv, &dp.o) != 0)
		return 2;
	int rc = load_config(&dp);
	if (rc != 0)
		return rc;
	if (dp.o.check) {
		printf("%s: valid: %u worker%s, %u decoder%s, ring %" PRIu64 " bytes, log %s; frames up to %u bytes "
		       "are taken whole, longer ones (jumbo) are dead letters (multi_segment)\n",
		       dp.o.config, dp.cfg.n_workers, dp.cfg.n_workers == 1 ? "" : "s", dp.cfg.n_decoders,
		       dp.cfg.n_decoders == 1 ? "" : "s", dp.cfg.ring_bytes, dp.cfg.log_dir, WEIR_MAX_FRAME_BYTES);
		return 0;
	}
	if ((rc = start_eal(&dp)) != 0)
		return rc;
	/* From here on every way out goes through the cleanup below. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_sighup);
	if ((rc = check_worker_lcores(&dp.cfg)) == 0 && (rc = setup_shared(&dp)) == 0 && (rc = restore_sources(&dp)) == 0 &&
	    (rc = setup_workers(&dp)) == 0 && (rc = become_service_user(&dp)) == 0) {
		publish_info(&dp);
		launch_workers(&dp);
		keep_house(&dp);
		stop_and_drain(&dp);
		rc = report(&dp);
	}
	if (dp.ports_up)
		weir_ports_stop(&dp.ports);
	/* The region files go once nothing is left in them (weir-control keeps
	 * its own mapping); what is left waits there for a weir-control. */
	if (dp.info != NULL && dp.undrained_bytes == 0)
		weir_shm_unlink_all(&dp.shm, dp.cfg.n_workers);
	rte_eal_cleanup();
	return rc;
}
