#include <arpa/inet.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jemalloc/jemalloc.h>
#include <rte_version.h>

#include "weir_http.h"
#include "weir_log_reader.h"
#include "weir_metrics.h"
#include "weir_metrics_pvt.h"
#include "weir_prom.h"
#include "weir_time.h"

static uint64_t
dir_bytes(const char *dir)
{
	uint64_t total = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	struct dirent *de;
	char path[PATH_MAX + 300];
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

uint64_t
weir_heap_allocated_bytes(void)
{
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch), allocated = 0, asz = sizeof(allocated);
	mallctl("epoch", &epoch, &sz, &epoch, sz);
	return mallctl("stats.allocated", &allocated, &asz, NULL, 0) == 0 ? allocated : 0;
}

/* Of the cold figures, but for events, which live in the hot state. */
#define HOT_EVENTS SIZE_MAX

struct top_source {
	char name[40];
	unsigned worker;
	const struct weir_seq_source *src;
	const struct weir_seq_source_stats *st;
};

static int
by_events_desc(const void *a, const void *b)
{
	uint64_t x = ((const struct top_source *)a)->src->events, y = ((const struct top_source *)b)->src->events;
	return x < y ? 1 : x > y ? -1 : 0;
}

struct top_ctx {
	struct top_source *top;
	unsigned n, keep;
};

/* Keeps the keep busiest sources seen so far, busiest first. */
static void
consider_source(unsigned worker, const struct weir_seq_source *src, const struct weir_seq_source_stats *st,
		void *arg)
{
	struct top_ctx *c = arg;
	if (c->n == c->keep && src->events <= c->top[c->keep - 1].src->events)
		return;
	struct top_source *t = &c->top[c->n < c->keep ? c->n++ : c->keep - 1];
	weir_source_format(src->key, t->name, sizeof(t->name));
	t->worker = worker;
	t->src = src;
	t->st = st;
	qsort(c->top, c->n, sizeof(*c->top), by_events_desc);
}

static void
render_sources(struct weir_prom *b, const struct weir_metrics_src *s)
{
	unsigned keep = s->cfg->metrics_top_sources;
	if (keep == 0)
		return;
	struct top_ctx c = { .top = calloc(keep + 1, sizeof(struct top_source)), .keep = keep };
	if (c.top == NULL)
		return;
	/* The busiest sources only: bounded cardinality, however many sources. */
	weir_seq_for_each_source(s->seq, s->info->n_workers, consider_source, &c);
	struct top_source *top = c.top;
	unsigned n = c.n;
	static const struct {
		const char *name, *help;
		size_t off;
	} f[] = {
		{ "weir_source_events_total", "events persisted, per source (the busiest only)", HOT_EVENTS },
		{ "weir_source_duplicates_total", "duplicate events, per source",
		  offsetof(struct weir_seq_source_stats, duplicates) },
		{ "weir_source_gaps_total", "gaps opened, per source", offsetof(struct weir_seq_source_stats, gaps_opened) },
		{ "weir_source_events_recovered_total", "missing events that arrived late, per source",
		  offsetof(struct weir_seq_source_stats, late_fills) },
		{ "weir_source_events_lost_total", "events declared lost, per source",
		  offsetof(struct weir_seq_source_stats, events_lost) },
		{ "weir_source_rerequests_total", "re-requests sent, per source",
		  offsetof(struct weir_seq_source_stats, requests_sent) },
	};
	for (unsigned k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		weir_prom_family(b, f[k].name, "counter", f[k].help);
		for (unsigned i = 0; i < n; i++)
			weir_prom_put(b, "%s{worker=\"%u\",source=\"%s\"} %" PRIu64 "\n", f[k].name, top[i].worker, top[i].name,
			    f[k].off == HOT_EVENTS ? top[i].src->events
						   : *(const uint64_t *)((const uint8_t *)top[i].st + f[k].off));
	}
	free(top);
}

/* Build, start times and the dataplane's state. */
static void
render_process(struct weir_prom *b, const struct weir_metrics_src *s, const struct weir_info *info)
{
	weir_prom_family(b, "weir_build_info", "gauge", "weir's version and the libraries it runs on");
	weir_prom_put(b, "weir_build_info{version=\"%s\",dpdk=\"%s\"} 1\n", WEIR_VERSION, rte_version());
	weir_prom_family(b, "weir_dataplane_up", "gauge", "1 while weir-control is attached to a running weir-dataplane");
	weir_prom_put(b, "weir_dataplane_up %u\n", info ? __atomic_load_n(&s->dataplane_up, __ATOMIC_RELAXED) : 0u);
	weir_prom_family(b, "weir_process_start_time_seconds", "gauge", "when each weir process started, UNIX seconds");
	weir_prom_put(b, "weir_process_start_time_seconds{process=\"control\"} %.3f\n", (double)s->start_ns / 1e9);
	if (info == NULL)
		return;
	weir_prom_put(b, "weir_process_start_time_seconds{process=\"dataplane\"} %.3f\n", (double)info->start_time_ns / 1e9);
	weir_prom_family(b, "weir_dataplane_state", "gauge", "0 starting, 1 running, 2 draining, 3 stopped");
	weir_prom_put(b, "weir_dataplane_state %u\n", __atomic_load_n(&info->state, __ATOMIC_ACQUIRE));
}

/* Every .def counter and dead-letter reason, per worker: nothing counted goes unexported. */
static void
render_counters(struct weir_prom *b, const struct weir_metrics_src *s)
{
	const struct weir_info *info = s->info;
	unsigned nw = s->info->n_workers;
	for (unsigned c = 0; c < WEIR_CTR_MAX; c++) {
		char name[96];
		bool gauge = weir_counter_is_gauge[c];
		if (weir_counter_is_ns[c]) {
			/* Prometheus' base unit: busy_ns -> weir_busy_seconds_total */
			snprintf(name, sizeof(name), "weir_%.*s_seconds_total", (int)strlen(weir_counter_names[c]) - 3,
				 weir_counter_names[c]);
			weir_prom_family(b, name, "counter", weir_counter_help[c]);
			for (unsigned w = 0; w < nw; w++)
				weir_prom_put(b, "%s{worker=\"%u\"} %.9f\n", name, w,
				    (double)weir_counter_get(&info->workers[w], c) / 1e9);
			continue;
		}
		snprintf(name, sizeof(name), gauge ? "weir_%s" : "weir_%s_total", weir_counter_names[c]);
		weir_prom_family(b, name, gauge ? "gauge" : "counter", weir_counter_help[c]);
		for (unsigned w = 0; w < nw; w++)
			weir_prom_put(b, "%s{worker=\"%u\"} %" PRIu64 "\n", name, w, weir_counter_get(&info->workers[w], c));
	}
	weir_prom_family(b, "weir_dead_letters_total", "counter", "malformed packets, by reason (kept in the _deadletter topic)");
	for (unsigned w = 0; w < nw; w++)
		for (unsigned r = 1; r < WEIR_DL_MAX; r++)
			weir_prom_put(b, "weir_dead_letters_total{worker=\"%u\",reason=\"%s\"} %" PRIu64 "\n", w,
			    weir_dead_letter_names[r], __atomic_load_n(&info->workers[w].dead_letter[r], __ATOMIC_RELAXED));
}

/* Burst sizes, ring occupancy, latency histograms and the SLA, per worker. */
static void
render_rings(struct weir_prom *b, const struct weir_metrics_src *s)
{
	const struct weir_info *info = s->info;
	unsigned nw = s->info->n_workers;
	weir_prom_family(b, "weir_rx_burst_size", "histogram", "packets per rx_burst that returned any");
	for (unsigned w = 0; w < nw; w++) {
		const struct weir_worker_counters *c = &info->workers[w];
		uint64_t cum = 0;
		for (unsigned k = 0; k < WEIR_BURST_BUCKETS; k++) {
			cum += __atomic_load_n(&c->burst_size[k], __ATOMIC_RELAXED);
			weir_prom_put(b, "weir_rx_burst_size_bucket{worker=\"%u\",le=\"%u\"} %" PRIu64 "\n", w, (2u << k) - 1, cum);
		}
		weir_prom_put(b, "weir_rx_burst_size_bucket{worker=\"%u\",le=\"+Inf\"} %" PRIu64 "\n", w, cum);
		weir_prom_put(b, "weir_rx_burst_size_sum{worker=\"%u\"} %" PRIu64 "\nweir_rx_burst_size_count{worker=\"%u\"} %" PRIu64
			"\n", w, weir_counter_get(c, WEIR_CTR_rx_packets), w, cum);
	}
	weir_prom_family(b, "weir_ring_size_bytes", "gauge", "each worker's record ring");
	for (unsigned w = 0; w < nw; w++)
		weir_prom_put(b, "weir_ring_size_bytes{worker=\"%u\"} %" PRIu64 "\n", w, s->rings[w]->size_bytes);
	weir_prom_family(b, "weir_ring_used_bytes", "gauge", "records committed but not yet durable: the head's lag behind the tail");
	for (unsigned w = 0; w < nw; w++)
		weir_prom_put(b, "weir_ring_used_bytes{worker=\"%u\"} %" PRIu64 "\n", w,
		    weir_ring_unreleased(s->rings[w]));

	weir_prom_family(b, "weir_commit_latency_seconds", "histogram", "from the burst's receipt to its records' commit to the ring");
	for (unsigned w = 0; w < nw; w++) {
		char labels[32];
		snprintf(labels, sizeof(labels), "worker=\"%u\"", w);
		weir_prom_histogram(b, "weir_commit_latency_seconds", labels, &info->workers[w].commit_latency);
	}
	weir_prom_family(b, "weir_durable_latency_seconds", "histogram", "from receipt to durable in the log (by the fsync policy)");
	for (unsigned w = 0; w < nw; w++) {
		char labels[32];
		snprintf(labels, sizeof(labels), "worker=\"%u\"", w);
		weir_prom_histogram(b, "weir_durable_latency_seconds", labels, &s->drain->durable_latency[w]);
	}
	weir_prom_family(b, "weir_sla_breaches_total", "counter", "events that took longer than the configured SLA to be durable");
	for (unsigned w = 0; w < nw; w++)
		weir_prom_put(b, "weir_sla_breaches_total{worker=\"%u\"} %" PRIu64 "\n", w, weir_sw_load(&s->drain->sla_breaches[w]));
	weir_prom_family(b, "weir_sla_seconds", "gauge", "the configured rx-to-durable bound (0: none)");
	weir_prom_put(b, "weir_sla_seconds %.9f\n", (double)s->cfg->metrics_sla_ns / 1e9);
}

/* The ports' ethdev stats as the dataplane copied them. */
static void
render_ports(struct weir_prom *b, const struct weir_metrics_src *s)
{
	const struct weir_info *info = s->info;
	static const char *const pn[] = { "rx_packets", "rx_bytes", "imissed", "rx_errors", "rx_nombuf" };
	static const char *const ph[] = { "packets the port received", "bytes the port received",
					  "packets the port dropped: its RX queues were full",
					  "erroneous packets the port received", "receptions that failed for want of an mbuf" };
	for (unsigned k = 0; k < 5; k++) {
		char name[64];
		snprintf(name, sizeof(name), "weir_port_%s_total", pn[k]);
		weir_prom_family(b, name, "counter", ph[k]);
		for (unsigned p = 0; p < info->n_ports && p < WEIR_MAX_PORTS; p++) {
			const struct weir_port_stats *ps = &info->ports[p];
			uint64_t v[] = { ps->ipackets, ps->ibytes, ps->imissed, ps->ierrors, ps->rx_nombuf };
			weir_prom_put(b, "%s{port=\"%" PRIu64 "\"} %" PRIu64 "\n", name, ps->port_id, v[k]);
		}
	}
}

/* The rule set in force and per-rule counts, summed over the workers. */
static void
render_rules(struct weir_prom *b, const struct weir_metrics_src *s)
{
	if (s->rules && __atomic_load_n(&s->rules->version, __ATOMIC_ACQUIRE) == WEIR_RULES_VERSION) {
		const struct weir_rules_region *rr = s->rules;
		weir_prom_family(b, "weir_rules_generation_in_force", "gauge", "the rule set every worker runs");
		weir_prom_put(b, "weir_rules_generation_in_force %" PRIu64 "\n", __atomic_load_n(&rr->generation, __ATOMIC_ACQUIRE));
		weir_prom_family(b, "weir_rules_reloads_total", "counter", "rule sets published after the first");
		weir_prom_put(b, "weir_rules_reloads_total %" PRIu64 "\n", rr->reloads);
		weir_prom_family(b, "weir_rules_reload_failures_total", "counter", "rules files rejected on reload");
		weir_prom_put(b, "weir_rules_reload_failures_total %" PRIu64 "\n", rr->reload_failures);
		static const char *const rn[] = { "matches", "alerts", "drops" };
		for (unsigned k = 0; k < 3; k++) {
			char name[64], help[96];
			snprintf(name, sizeof(name), "weir_per_rule_%s_total", rn[k]);
			snprintf(help, sizeof(help), "%s per rule id, all workers together", rn[k]);
			weir_prom_family(b, name, "counter", help);
			for (uint32_t slot = 0; slot < rr->n_slots; slot++) {
				uint64_t sum = 0;
				for (unsigned w = 0; w < rr->n_workers; w++) {
					const struct weir_rule_counter *c =
						&weir_rules_row((struct weir_rules_region *)rr, w)[slot];
					sum += k == 0 ? c->matches : k == 1 ? c->alerts : c->drops;
				}
				weir_prom_put(b, "%s{rule=\"%u\"} %" PRIu64 "\n", name, rr->slot_id[slot], sum);
			}
		}
	}
}

/* What the drain made durable, per topic, and the control plane's own figures. */
static void
render_log(struct weir_prom *b, const struct weir_metrics_src *s)
{
	const struct weir_drain *d = s->drain;
	weir_prom_family(b, "weir_persisted_records_total", "counter", "records made durable, per topic");
	for (unsigned t = 0; t < d->n_topics; t++)
		weir_prom_put(b, "weir_persisted_records_total{topic=\"%s\"} %" PRIu64 "\n", d->topics[t].name,
		    weir_sw_load(&d->topics[t].records_committed));
	weir_prom_family(b, "weir_persisted_bytes_total", "counter", "log bytes made durable, per topic");
	for (unsigned t = 0; t < d->n_topics; t++)
		weir_prom_put(b, "weir_persisted_bytes_total{topic=\"%s\"} %" PRIu64 "\n", d->topics[t].name,
		    weir_sw_load(&d->topics[t].bytes_committed));
	weir_prom_family(b, "weir_log_size_bytes", "gauge", "bytes of log on disk, per topic");
	for (unsigned t = 0; t < d->n_topics; t++)
		weir_prom_put(b, "weir_log_size_bytes{topic=\"%s\"} %" PRIu64 "\n", d->topics[t].name, dir_bytes(d->topics[t].dir));
	static const struct {
		const char *name, *type, *help;
		size_t at;
	} ret[] = {
		{ "weir_log_retention_deleted_segments_total", "counter", "segments deleted by retention",
		  offsetof(struct weir_log_retention_stats, segments_deleted) },
		{ "weir_log_retention_freed_bytes_total", "counter", "bytes freed by retention (segments and indexes)",
		  offsetof(struct weir_log_retention_stats, bytes_freed) },
		{ "weir_log_retention_unread_deleted_total", "counter",
		  "offsets hard retention deleted before a registered reader read them",
		  offsetof(struct weir_log_retention_stats, unread_deleted) },
		{ "weir_log_retention_held", "gauge", "1 while a due deletion waits for a registered reader",
		  offsetof(struct weir_log_retention_stats, held) },
		{ "weir_log_oldest_offset", "gauge", "the first offset retained", offsetof(struct weir_log_retention_stats, oldest_offset) },
		{ "weir_log_disk_bytes", "gauge", "bytes of segments and indexes, as retention counts them",
		  offsetof(struct weir_log_retention_stats, disk_bytes) },
	};
	for (size_t k = 0; k < sizeof(ret) / sizeof(ret[0]); k++) {
		weir_prom_family(b, ret[k].name, ret[k].type, ret[k].help);
		for (unsigned t = 0; t < d->n_topics; t++)
			weir_prom_put(b, "%s{topic=\"%s\"} %" PRIu64 "\n", ret[k].name, d->topics[t].name,
			    weir_sw_load((const uint64_t *)((const char *)&d->retention_stats[t] + ret[k].at)));
	}
	weir_prom_family(b, "weir_log_oldest_timestamp_seconds", "gauge", "rx time of the first entry retained");
	for (unsigned t = 0; t < d->n_topics; t++)
		weir_prom_put(b, "weir_log_oldest_timestamp_seconds{topic=\"%s\"} %.9f\n", d->topics[t].name,
		    (double)weir_sw_load(&d->retention_stats[t].oldest_rx_ns) / 1e9);
	weir_prom_family(b, "weir_log_writable", "gauge", "0 while the log refuses writes (a full disk): records wait in the rings");
	weir_prom_put(b, "weir_log_writable %u\n", weir_drain_log_errno(d) ? 0u : 1u);
	weir_prom_family(b, "weir_log_write_failures_total", "counter", "times the log refused a write and the drain waited");
	weir_prom_put(b, "weir_log_write_failures_total %" PRIu64 "\n", weir_sw_load(&d->log_failures));
	weir_prom_family(b, "weir_control_skipped_records_total", "counter",
	       "records found already in the log after a restart, not written again");
	weir_prom_put(b, "weir_control_skipped_records_total %" PRIu64 "\n", weir_sw_load(&d->records_skipped));
	weir_prom_family(b, "weir_fsync_seconds", "histogram", "how long each fsync of the log took");
	weir_prom_histogram(b, "weir_fsync_seconds", "", &d->fsync_latency);
	weir_prom_family(b, "weir_control_heap_bytes", "gauge", "bytes weir-control has allocated (jemalloc stats.allocated)");
	weir_prom_put(b, "weir_control_heap_bytes %" PRIu64 "\n", weir_heap_allocated_bytes());
}

struct reader_rows {
	struct weir_prom *b;
	const char *topic;
	uint64_t next;
};

static void
reader_row(void *ctx, const char *name, uint64_t mark)
{
	const struct reader_rows *r = ctx;
	weir_prom_put(r->b, "weir_log_reader_behind_offsets{topic=\"%s\",reader=\"%s\"} %" PRIu64 "\n", r->topic, name,
		      r->next > mark ? r->next - mark : 0);
}

/* The log as it stands on disk, whether or not a dataplane is attached:
 * the log's own figures, not the run's, for an operator looking while
 * weir-control waits for the next dataplane.  Attached, the drain's
 * figures (render_log) say the size and oldest offset. */
static void
render_log_view(struct weir_prom *b, const struct weir_metrics_src *s, bool attached)
{
	const struct weir_config *cfg = s->cfg;
	struct weir_log_view v[WEIR_MAX_TOPICS];
	bool have[WEIR_MAX_TOPICS];
	char dir[PATH_MAX + 80];
	for (unsigned t = 0; t < cfg->n_topics; t++) {
		snprintf(dir, sizeof(dir), "%s/%s", cfg->log_dir, cfg->topics[t]);
		have[t] = weir_log_view(dir, &v[t], NULL, NULL) == 0;
	}
	static const struct {
		const char *name, *help;
		size_t at;
		bool at_rest_only;
	} fields[] = {
		{ "weir_log_next_offset", "one past the last committed record, per topic", offsetof(struct weir_log_view, next_offset), false },
		{ "weir_log_segments", "segment files, per topic", offsetof(struct weir_log_view, segments), false },
		{ "weir_log_size_bytes", "bytes of log on disk, per topic", offsetof(struct weir_log_view, bytes), true },
		{ "weir_log_oldest_offset", "the first offset retained", offsetof(struct weir_log_view, first_offset), true },
	};
	for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
		if (fields[k].at_rest_only && attached)
			continue;
		weir_prom_family(b, fields[k].name, "gauge", fields[k].help);
		for (unsigned t = 0; t < cfg->n_topics; t++)
			if (have[t])
				weir_prom_put(b, "%s{topic=\"%s\"} %" PRIu64 "\n", fields[k].name, cfg->topics[t],
					      *(const uint64_t *)((const char *)&v[t] + fields[k].at));
	}
	weir_prom_family(b, "weir_log_reader_behind_offsets", "gauge",
			 "how far each registered reader (weir-export, weir-read --register) is behind the committed end");
	for (unsigned t = 0; t < cfg->n_topics; t++) {
		struct reader_rows r = { b, cfg->topics[t], v[t].next_offset };
		snprintf(dir, sizeof(dir), "%s/%s", cfg->log_dir, cfg->topics[t]);
		if (have[t])
			weir_log_view(dir, &v[t], reader_row, &r);
	}
}

char *
weir_metrics_render(const struct weir_metrics_src *s, size_t *len)
{
	struct weir_prom b = { .cap = 1 << 16 };
	b.p = malloc(b.cap);
	if (b.p == NULL)
		return NULL;
	/* Pairs with weir_metrics_attached(). */
	const struct weir_info *info = __atomic_load_n(&s->info, __ATOMIC_ACQUIRE);
	render_process(&b, s, info);
	render_log_view(&b, s, info != NULL);
	if (info) {
		render_counters(&b, s);
		render_rings(&b, s);
		render_ports(&b, s);
		render_rules(&b, s);
		render_sources(&b, s);
		weir_metrics_render_lines(&b, s);
		render_log(&b, s);
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

int
weir_metrics_health(const struct weir_metrics_src *s, char *reason, size_t len)
{
	const struct weir_info *info = __atomic_load_n(&s->info, __ATOMIC_ACQUIRE);
	if (info == NULL) {
		snprintf(reason, len, "dataplane not running: waiting for weir-dataplane with file prefix %s", s->prefix);
		return -1;
	}
	if (!__atomic_load_n(&s->dataplane_up, __ATOMIC_RELAXED)) {
		snprintf(reason, len, "dataplane not running: its process is gone (what it published is being made "
				      "durable; weir-control then waits for the next)");
		return -1;
	}
	int log_errno = weir_drain_log_errno(s->drain);
	if (log_errno) {
		snprintf(reason, len, "log takes no writes: %s; records wait in the rings, retried every second",
			 strerror(log_errno));
		return -1;
	}
	unsigned state = __atomic_load_n(&info->state, __ATOMIC_ACQUIRE);
	if (state != WEIR_STATE_RUNNING) {
		snprintf(reason, len, "dataplane %s", weir_state_name(state));
		return -1;
	}
	uint64_t now = weir_realtime_ns();
	for (unsigned w = 0; w < info->n_workers; w++) {
		const struct weir_ring *r = s->rings[w];
		uint64_t beat = __atomic_load_n(&r->producer_heartbeat_ns, __ATOMIC_RELAXED);
		if (now > beat && now - beat > s->heartbeat_stale_ns) {
			snprintf(reason, len, "worker %u silent for %.1f s", w, (double)(now - beat) / 1e9);
			return -1;
		}
		uint64_t used = weir_ring_unreleased(r);
		if (used > r->size_bytes / 10 * 9) {
			snprintf(reason, len, "ring %u is %" PRIu64 "%% full: the drain is behind", w,
				 used * 100 / r->size_bytes);
			return -1;
		}
	}
	int lines = weir_metrics_lines_health(s, info, reason, len);
	if (lines < 0)
		return -1;
	if (lines == 0) /* else degraded, still serving: 200 */
		snprintf(reason, len, "ok");
	return 0;
}

static char *
render_cb(const void *ctx, size_t *len)
{
	return weir_metrics_render(ctx, len);
}

static int
health_cb(const void *ctx, char *why, size_t len)
{
	return weir_metrics_health(ctx, why, len);
}

struct weir_http *
weir_metrics_serve(const struct weir_metrics_src *s, char *err, size_t errlen)
{
	struct weir_http_handlers h = { render_cb, health_cb, s };
	const struct weir_config *cfg = s->cfg;
	return weir_http_serve(cfg->metrics_ip, cfg->metrics_port, &h, cfg->metrics_tls_cert, cfg->metrics_tls_key,
			       (enum weir_http_auth)cfg->metrics_auth, cfg->metrics_auth_user, cfg->metrics_auth_file, err,
			       errlen);
}
