/*
 * weir-dataplane: the DPDK primary.  Reads a pmd-config file, validates it
 * whole, starts ports and one worker lcore per RX queue, each committing
 * records to its own ring; the main lcore only keeps house.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_telemetry.h>

#include "weir_config.h"
#include "weir_time.h"
#include "weir_pipeline.h"
#include "weir_port.h"
#include "weir_report.h"
#include "weir_shm.h"
#include "weir_worker.h"

static volatile bool quit;
static volatile sig_atomic_t reload_requested;
/* The rule set in force: the main lcore publishes, workers pick it up. */
static struct weir_ruleset *rules_current;

static void
on_sighup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* Hyperscan's databases and scratch live in DPDK memory, like everything the workers touch. */
static void *
hs_dpdk_alloc(size_t bytes)
{
	return rte_malloc("weir_hs", bytes, RTE_CACHE_LINE_SIZE);
}

static void
hs_dpdk_free(void *p)
{
	rte_free(p);
}

/* "/weir/counters[,WORKER]": the .def counters and dead letters by reason,
 * summed over the workers or for one, beside DPDK's own telemetry. */
static const struct weir_info *telemetry_info;

static int
telemetry_counters(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	const struct weir_info *info = telemetry_info;
	struct weir_worker_counters sum;
	if (params && *params) {
		char *end;
		unsigned long w = strtoul(params, &end, 10);
		if (*end || w >= info->n_workers)
			return -EINVAL;
		weir_counters_sum(&info->workers[w], 1, &sum);
	} else {
		weir_counters_sum(info->workers, info->n_workers, &sum);
	}
	rte_tel_data_start_dict(d);
	for (unsigned c = 0; c < WEIR_CTR_MAX; c++)
		rte_tel_data_add_dict_u64(d, weir_counter_names[c], weir_counter_get(&sum, c));
	for (unsigned r = 1; r < WEIR_DL_MAX; r++) {
		char name[RTE_TEL_MAX_STRING_LEN];
		snprintf(name, sizeof(name), "dead_letter_%s", weir_dead_letter_names[r]);
		rte_tel_data_add_dict_u64(d, name, sum.dead_letter[r]);
	}
	return 0;
}

/* Every rule keeps its counter slot across reloads, found by id. */
static int
assign_rule_slots(struct weir_rules_region *rr, struct weir_ruleset *rs)
{
	for (uint32_t i = 0; i < rs->n_rules; i++) {
		uint32_t slot;
		for (slot = 0; slot < rr->n_slots && rr->slot_id[slot] != rs->rules[i].id; slot++)
			;
		if (slot == rr->n_slots) {
			if (rr->n_slots == WEIR_RULE_SLOTS)
				return -1;
			rr->slot_id[rr->n_slots++] = rs->rules[i].id;
		}
		rs->rules[i].counter_slot = slot;
	}
	return 0;
}

/* SIGHUP: compile the file again off the hot path, publish it, free the old
 * set once every worker has moved on.  A bad file leaves the old set running. */
static void
reload_rules(const struct weir_config *cfg, struct weir_rules_region *rr, const struct weir_info *info)
{
	static char err[8192];
	struct weir_ruleset *old = rules_current;
	struct weir_ruleset *rs = weir_rules_load(cfg->rules_path, cfg, cfg->n_workers, err, sizeof(err));
	if (rs == NULL || assign_rule_slots(rr, rs) != 0) {
		fprintf(stderr, "weir-dataplane: rules reload rejected, generation %" PRIu64 " keeps running:\n%s\n",
			old ? old->generation : 0, rs ? "more distinct rule ids than counter slots" : err);
		weir_rules_free(rs);
		__atomic_store_n(&rr->reload_failures, rr->reload_failures + 1, __ATOMIC_RELAXED);
		return;
	}
	rs->generation = (old ? old->generation : 0) + 1;
	/* Pairs with the workers' acquire load in weir_pipeline_sync_rules(). */
	__atomic_store_n(&rules_current, rs, __ATOMIC_RELEASE);
	uint64_t deadline = weir_realtime_ns() + 5000000000ull;
	for (;;) {
		unsigned moved = 0;
		for (unsigned w = 0; w < cfg->n_workers; w++)
			moved += __atomic_load_n(&info->workers[w].rules_generation, __ATOMIC_ACQUIRE) == rs->generation;
		if (moved == cfg->n_workers)
			break;
		if (weir_realtime_ns() > deadline) {
			fprintf(stderr, "weir-dataplane: a worker has not taken rules generation %" PRIu64
					" in 5 s: generation %" PRIu64 " is kept in memory\n",
				rs->generation, old ? old->generation : 0);
			old = NULL;
			break;
		}
		usleep(1000);
	}
	weir_rules_free(old);
	rr->n_rules = rs->n_rules;
	__atomic_store_n(&rr->generation, rs->generation, __ATOMIC_RELEASE);
	__atomic_store_n(&rr->reloads, rr->reloads + 1, __ATOMIC_RELAXED);
	printf("weir-dataplane: rules generation %" PRIu64 " in force: %u rules from %s\n", rs->generation,
	       rs->n_rules, cfg->rules_path);
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
		"      --stats-interval SEC print a progress line every SEC seconds (0: never; default 1)\n"
		"      --stats-json FILE    write the final counters as JSON\n");
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

static bool
eal_has_lcores(const struct weir_config *cfg)
{
	for (int i = 0; i < cfg->eal_argc; i++) {
		const char *a = cfg->eal_argv[i];
		if (!strcmp(a, "-l") || !strcmp(a, "-c") || !strncmp(a, "--lcores", 8) || !strncmp(a, "-l", 2))
			return true;
	}
	return false;
}

/* argv for rte_eal_init: the file's eal args, the command line's, and an
 * lcore list (main lcore + workers) when neither gave one. */
static int
build_eal_args(struct weir_config *cfg, const struct options *o, char **argv, int *argc)
{
	static char lcores[512];
	for (int i = 0; i < o->extra_argc; i++)
		if (weir_config_add_eal_arg(cfg, o->extra_argv[i]))
			return -1;
	int n = 0;
	argv[n++] = "weir-dataplane";
	argv[n++] = "--proc-type=primary";
	if (!eal_has_lcores(cfg)) {
		unsigned main_lcore = 0;
		for (bool clash = true; clash; ) {
			clash = false;
			for (unsigned i = 0; i < cfg->n_workers; i++)
				if (cfg->worker_lcores[i] == main_lcore) {
					main_lcore++;
					clash = true;
				}
		}
		int len = snprintf(lcores, sizeof(lcores), "%u", main_lcore);
		for (unsigned i = 0; i < cfg->n_workers && len < (int)sizeof(lcores) - 8; i++)
			len += snprintf(lcores + len, sizeof(lcores) - (size_t)len, ",%u", cfg->worker_lcores[i]);
		argv[n++] = "-l";
		argv[n++] = lcores;
	}
	for (int i = 0; i < cfg->eal_argc; i++)
		argv[n++] = cfg->eal_argv[i];
	argv[n] = NULL;
	*argc = n;
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
			left += __atomic_load_n(&rings[i]->tail, __ATOMIC_ACQUIRE) -
				__atomic_load_n(&rings[i]->head, __ATOMIC_ACQUIRE);
		if (left == 0 || weir_realtime_ns() >= deadline)
			return left;
		usleep(10 * 1000);
	}
}

int
main(int argc, char **argv)
{
	struct options o;
	static struct weir_config cfg;
	static char err[8192];
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (parse_options(argc, argv, &o) != 0)
		return 2;
	/* The whole file is checked before EAL, a port or a hugepage is touched. */
	if (weir_config_load(o.config, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (cfg.rules_path[0]) {
		/* The rules are part of the config: checked (compiled) before EAL too. */
		struct weir_ruleset *rs = weir_rules_load(cfg.rules_path, &cfg, 0, err, sizeof(err));
		if (rs == NULL) {
			fprintf(stderr, "%s\n", err);
			return 2;
		}
		weir_rules_free(rs);
	}
	if (o.check) {
		printf("%s: valid: %u worker%s, %u decoder%s, ring %" PRIu64 " bytes, log %s\n", o.config,
		       cfg.n_workers, cfg.n_workers == 1 ? "" : "s", cfg.n_decoders, cfg.n_decoders == 1 ? "" : "s",
		       cfg.ring_bytes, cfg.log_dir);
		return 0;
	}

	char *eal_argv[WEIR_MAX_EAL_ARGS + 8];
	int eal_argc;
	if (build_eal_args(&cfg, &o, eal_argv, &eal_argc) != 0) {
		fprintf(stderr, "weir-dataplane: too many EAL arguments\n");
		return 2;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "weir-dataplane: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_sighup);

	for (unsigned i = 0; i < cfg.n_workers; i++) {
		unsigned l = cfg.worker_lcores[i];
		if (l >= RTE_MAX_LCORE || !rte_lcore_is_enabled(l) || l == rte_get_main_lcore()) {
			fprintf(stderr,
				"%s:%u: worker lcore %u is not an EAL worker lcore (EAL lcores: give -l with the main lcore and every worker)\n",
				cfg.path, cfg.line_corelist, l);
			rte_eal_cleanup();
			return 2;
		}
	}

	struct weir_shm shm;
	weir_shm_from_config(&cfg, &shm);
	if (shm.backend == WEIR_SHM_FILE)
		printf("weir-dataplane: --no-huge: rings and counters in /dev/shm/weir.%s.* (no hugepages)\n",
		       shm.prefix);
	struct weir_info *info = weir_shm_create(&shm, "info", sizeof(struct weir_info), (int)rte_socket_id());
	if (info == NULL) {
		fprintf(stderr, "weir-dataplane: cannot create the info region (%zu bytes): %s\n", sizeof(*info),
			rte_strerror(rte_errno));
		return 1;
	}

	struct weir_ports ports;
	if (weir_ports_init(&cfg, &ports, err, sizeof(err)) != 0) {
		fprintf(stderr, "weir-dataplane: %s\n", err);
		return 1;
	}

	struct weir_decoder_table *decoders = rte_zmalloc("weir_decoders", sizeof(*decoders), RTE_CACHE_LINE_SIZE);
	struct weir_worker *workers = rte_zmalloc("weir_workers", sizeof(*workers) * cfg.n_workers,
						  RTE_CACHE_LINE_SIZE);
	struct weir_ring *rings[WEIR_MAX_WORKERS];
	const struct weir_seq_region *seq_regions[WEIR_MAX_WORKERS];
	if (decoders == NULL || workers == NULL) {
		fprintf(stderr, "weir-dataplane: out of memory for worker state\n");
		return 1;
	}
	weir_decoder_table_build(decoders, &cfg);

	struct weir_rules_region *rules_region = NULL;
	if (cfg.rules_path[0]) {
		hs_set_allocator(hs_dpdk_alloc, hs_dpdk_free);
		rules_region = weir_shm_create(&shm, "rules", weir_rules_region_size(cfg.n_workers), (int)rte_socket_id());
		rules_current = weir_rules_load(cfg.rules_path, &cfg, cfg.n_workers, err, sizeof(err));
		if (rules_region == NULL || rules_current == NULL || assign_rule_slots(rules_region, rules_current) != 0) {
			fprintf(stderr, "%s\n", rules_current == NULL ? err : "cannot set up the per-rule counters");
			return 2;
		}
		rules_current->generation = 1;
		rules_region->magic = WEIR_RULES_MAGIC;
		rules_region->n_workers = cfg.n_workers;
		rules_region->generation = 1;
		rules_region->n_rules = rules_current->n_rules;
		__atomic_store_n(&rules_region->version, WEIR_RULES_VERSION, __ATOMIC_RELEASE);
		printf("weir-dataplane: rules generation 1: %u rules from %s (Hyperscan %s)\n", rules_current->n_rules,
		       cfg.rules_path, hs_version());
	}

	bool any_rerequest = false;
	for (unsigned d = 0; d < cfg.n_decoders; d++)
		any_rerequest |= cfg.decoders[d].rerequest_ip != 0;
	uint64_t epoch_ns = weir_realtime_ns(), tsc0 = rte_rdtsc();
	uint64_t ns_per_tick_q32 = (uint64_t)(((unsigned __int128)1000000000ull << 32) / rte_get_tsc_hz());
	for (unsigned i = 0; i < cfg.n_workers; i++) {
		struct weir_worker *w = &workers[i];
		char name[32];
		snprintf(name, sizeof(name), "ring.%u", i);
		int socket = (int)rte_lcore_to_socket_id(cfg.worker_lcores[i]);
		rings[i] = weir_shm_create(&shm, name, weir_ring_memsize(cfg.ring_bytes), socket);
		if (rings[i] == NULL) {
			fprintf(stderr,
				"weir-dataplane: cannot reserve record ring %u (%" PRIu64
				" bytes): lower \"ring size\" or reserve more hugepages\n",
				i, cfg.ring_bytes);
			return 1;
		}
		weir_ring_init(rings[i], i, cfg.ring_bytes);
		snprintf(name, sizeof(name), "seq.%u", i);
		void *seq_region = weir_shm_create(&shm, name, weir_pipeline_memsize(&cfg), socket);
		struct weir_rerequest_sink sink = { .ctx = w, .send = weir_worker_send_rerequest };
		seq_regions[i] = seq_region;
		if (seq_region == NULL || weir_pipeline_init(&w->pl, &cfg, i, rings[i], seq_region, decoders,
							     any_rerequest ? &sink : NULL, &quit) != 0) {
			fprintf(stderr,
				"weir-dataplane: cannot allocate worker %u's sequence table (%" PRIu64
				" bytes): lower \"sequence sources\" / \"sequence gaps\" or reserve more hugepages\n",
				i, weir_pipeline_memsize(&cfg));
			return 1;
		}
		w->shared = &info->workers[i];
		if (rules_region)
			weir_pipeline_use_rules(&w->pl, &rules_current, weir_rules_row(rules_region, i));
		w->id = i;
		w->lcore = cfg.worker_lcores[i];
		w->burst = (uint16_t)cfg.burst;
		w->epoch_ns = epoch_ns;
		w->tsc0 = tsc0;
		w->ns_per_tick_q32 = ns_per_tick_q32;
		for (unsigned p = 0; p < ports.n_ports; p++) {
			if (i < ports.rxq[p])
				w->rxq[w->n_rxq++] = (struct weir_rxq_ref){ ports.port_ids[p], (uint16_t)i };
			if (ports.port_ids[p] < WEIR_MAX_PORTS)
				w->can_tx[ports.port_ids[p]] = i < ports.txq[p];
		}
		w->tx_pool = weir_ports_pool(socket);
		if (w->n_rxq == 0)
			printf("weir-dataplane: worker %u (lcore %u) has no RX queue: it stays idle\n", i, w->lcore);
	}

	info->magic = WEIR_INFO_MAGIC;
	info->n_workers = cfg.n_workers;
	info->n_topics = cfg.n_topics;
	info->n_ports = ports.n_ports;
	for (unsigned p = 0; p < ports.n_ports; p++)
		info->ports[p].port_id = ports.port_ids[p];
	info->ring_bytes = cfg.ring_bytes;
	info->dataplane_pid = (uint64_t)getpid();
	info->start_time_ns = epoch_ns;
	memcpy(info->topics, cfg.topics, sizeof(info->topics));
	info->state = WEIR_STATE_RUNNING;
	/* Last: readers wait for it, then trust everything above. */
	__atomic_store_n(&info->version, WEIR_INFO_VERSION, __ATOMIC_RELEASE);

	telemetry_info = info;
	if (rte_telemetry_register_cmd("/weir/counters", telemetry_counters,
				       "weir's counters, all workers or one. Parameters: int worker") != 0)
		printf("weir-dataplane: the /weir/counters telemetry command is not registered\n");
	for (unsigned i = 0; i < cfg.n_workers; i++)
		rte_eal_remote_launch(weir_worker_main, &workers[i], workers[i].lcore);
	printf("weir-dataplane: running: %u worker%s on lcores", cfg.n_workers, cfg.n_workers == 1 ? "" : "s");
	for (unsigned i = 0; i < cfg.n_workers; i++)
		printf(" %u", cfg.worker_lcores[i]);
	printf(", ring %" PRIu64 " bytes each, file prefix %s\n", cfg.ring_bytes, shm.prefix);

	uint64_t last_rx = 0, last_change_ns = weir_realtime_ns(), last_stats_ns = last_change_ns, seen_rx = 0;
	while (!quit) {
		usleep(50 * 1000);
		publish_port_stats(info, &ports);
		if (reload_requested) {
			reload_requested = 0;
			if (rules_region)
				reload_rules(&cfg, rules_region, info);
			else
				fprintf(stderr, "weir-dataplane: SIGHUP: no \"rules\" file in the config to reload\n");
		}
		uint64_t now = weir_realtime_ns();
		struct weir_worker_counters t;
		weir_counters_sum(info->workers, cfg.n_workers, &t);
		if (t.rx_packets != seen_rx) {
			seen_rx = t.rx_packets;
			last_change_ns = now;
		}
		if (o.stats_interval_s > 0 && now - last_stats_ns >= (uint64_t)(o.stats_interval_s * 1e9)) {
			print_progress(info, &last_rx, (double)(now - last_stats_ns) / 1e9);
			last_stats_ns = now;
		}
		if (o.stop_when_idle_s > 0 && seen_rx > 0 &&
		    now - last_change_ns >= (uint64_t)(o.stop_when_idle_s * 1e9)) {
			printf("weir-dataplane: no packets for %.1f s: stopping\n", o.stop_when_idle_s);
			quit = true;
		}
	}

	printf("weir-dataplane: stopping RX\n");
	rte_eal_mp_wait_lcore();
	__atomic_store_n(&info->state, WEIR_STATE_DRAINING, __ATOMIC_RELEASE);
	uint64_t left = wait_for_drain(rings, cfg.n_workers, cfg.drain_timeout_ns);
	if (left)
		printf("weir-dataplane: %" PRIu64 " bytes of records not drained after %.1f s: is weir-control running?\n",
		       left, (double)cfg.drain_timeout_ns / 1e9);
	else
		printf("weir-dataplane: every ring drained\n");
	__atomic_store_n(&info->state, WEIR_STATE_STOPPED, __ATOMIC_RELEASE);

	publish_port_stats(info, &ports);
	struct weir_worker_counters total;
	weir_counters_sum(info->workers, cfg.n_workers, &total);
	printf("weir-dataplane: final counters (%u worker%s):\n", cfg.n_workers, cfg.n_workers == 1 ? "" : "s");
	weir_report_counters(stdout, &total);
	for (unsigned p = 0; p < ports.n_ports; p++) {
		struct rte_eth_stats st;
		if (rte_eth_stats_get(ports.port_ids[p], &st) == 0)
			printf("  port %u (%s): ipackets %" PRIu64 " imissed %" PRIu64 " ierrors %" PRIu64
			       " rx_nombuf %" PRIu64 "\n",
			       ports.port_ids[p], ports.driver[p], st.ipackets, st.imissed, st.ierrors, st.rx_nombuf);
	}
	if (o.stats_json) {
		FILE *f = fopen(o.stats_json, "w");
		if (f == NULL) {
			fprintf(stderr, "weir-dataplane: %s: %s\n", o.stats_json, strerror(errno));
		} else {
			weir_report_counters_json(f, info->workers, cfg.n_workers);
			fputc('\n', f);
			fclose(f);
		}
	}
	/* The loss report outlives the run, beside the log. */
	char report_path[PATH_MAX + 32];
	snprintf(report_path, sizeof(report_path), "%s/loss-report.json", cfg.log_dir);
	FILE *rf = fopen(report_path, "w");
	if (rf == NULL) {
		fprintf(stderr, "weir-dataplane: %s: %s\n", report_path, strerror(errno));
	} else {
		weir_report_loss(rf, seq_regions, cfg.n_workers, true);
		fputc('\n', rf);
		fclose(rf);
		printf("weir-dataplane: loss report in %s\n", report_path);
	}
	int identity_ok = weir_counters_identity_gap(&total) == 0 && weir_counters_message_identity_gap(&total) == 0;
	weir_ports_stop(&ports);
	/* weir-control keeps its own mapping; a file-backed region goes once
	 * nothing is left in it. */
	if (left == 0)
		weir_shm_unlink_all(&shm, cfg.n_workers);
	rte_eal_cleanup();
	return identity_ok ? 0 : 3;
}
