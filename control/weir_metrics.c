#include <arpa/inet.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jemalloc/jemalloc.h>
#include <microhttpd.h>
#include <rte_version.h>

#include "weir_metrics.h"
#include "weir_time.h"

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void __attribute__((format(printf, 2, 3)))
put(struct buf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = b->oom ? 0 : vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (b->oom || n < 0)
			return;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap * 2 + (size_t)n;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A histogram in Prometheus' cumulative form, in seconds. */
static void
histogram(struct buf *b, const char *name, const char *labels, const struct weir_hist *h)
{
	/* _count is the +Inf bucket's sum, read once: consistent whatever the
	 * writer does meanwhile. */
	uint64_t cum = 0;
	for (unsigned i = 0; i < WEIR_HIST_BUCKETS; i++) {
		cum += weir_sw_load(&h->bucket[i]);
		put(b, "%s_bucket{%s%sle=\"%.9g\"} %" PRIu64 "\n", name, labels, *labels ? "," : "",
		    (double)weir_hist_bound_ns[i] / 1e9, cum);
	}
	cum += weir_sw_load(&h->bucket[WEIR_HIST_BUCKETS]);
	put(b, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, *labels ? "," : "", cum);
	put(b, "%s_sum{%s} %.9f\n%s_count{%s} %" PRIu64 "\n", name, labels, (double)weir_sw_load(&h->sum_ns) / 1e9,
	    name, labels, cum);
}

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

struct top_source {
	char name[40];
	unsigned worker;
	const struct weir_seq_source_stats *st;
};

static int
by_events_desc(const void *a, const void *b)
{
	uint64_t x = ((const struct top_source *)a)->st->events, y = ((const struct top_source *)b)->st->events;
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
	if (c->n == c->keep && st->events <= c->top[c->keep - 1].st->events)
		return;
	struct top_source *t = &c->top[c->n < c->keep ? c->n++ : c->keep - 1];
	weir_source_format(src->key, t->name, sizeof(t->name));
	t->worker = worker;
	t->st = st;
	qsort(c->top, c->n, sizeof(*c->top), by_events_desc);
}

static void
render_sources(struct buf *b, const struct weir_metrics_src *s)
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
		{ "weir_source_events_total", "events persisted, per source (the busiest only)",
		  offsetof(struct weir_seq_source_stats, events) },
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
		family(b, f[k].name, "counter", f[k].help);
		for (unsigned i = 0; i < n; i++)
			put(b, "%s{worker=\"%u\",source=\"%s\"} %" PRIu64 "\n", f[k].name, top[i].worker, top[i].name,
			    *(const uint64_t *)((const uint8_t *)top[i].st + f[k].off));
	}
	free(top);
}

/* Build, start times and the dataplane's state. */
static void
render_process(struct buf *b, const struct weir_metrics_src *s, const struct weir_info *info)
{
	family(b, "weir_build_info", "gauge", "weir's version and the libraries it runs on");
	put(b, "weir_build_info{version=\"%s\",dpdk=\"%s\"} 1\n", WEIR_VERSION, rte_version());
	family(b, "weir_dataplane_up", "gauge", "1 while weir-control is attached to a running weir-dataplane");
	put(b, "weir_dataplane_up %u\n", info ? __atomic_load_n(&s->dataplane_up, __ATOMIC_RELAXED) : 0u);
	family(b, "weir_process_start_time_seconds", "gauge", "when each weir process started, UNIX seconds");
	put(b, "weir_process_start_time_seconds{process=\"control\"} %.3f\n", (double)s->start_ns / 1e9);
	if (info == NULL)
		return;
	put(b, "weir_process_start_time_seconds{process=\"dataplane\"} %.3f\n", (double)info->start_time_ns / 1e9);
	family(b, "weir_dataplane_state", "gauge", "0 starting, 1 running, 2 draining, 3 stopped");
	put(b, "weir_dataplane_state %u\n", __atomic_load_n(&info->state, __ATOMIC_ACQUIRE));
}

/* Every .def counter and dead-letter reason, per worker: nothing counted goes unexported. */
static void
render_counters(struct buf *b, const struct weir_metrics_src *s)
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
			family(b, name, "counter", weir_counter_help[c]);
			for (unsigned w = 0; w < nw; w++)
				put(b, "%s{worker=\"%u\"} %.9f\n", name, w,
				    (double)weir_counter_get(&info->workers[w], c) / 1e9);
			continue;
		}
		snprintf(name, sizeof(name), gauge ? "weir_%s" : "weir_%s_total", weir_counter_names[c]);
		family(b, name, gauge ? "gauge" : "counter", weir_counter_help[c]);
		for (unsigned w = 0; w < nw; w++)
			put(b, "%s{worker=\"%u\"} %" PRIu64 "\n", name, w, weir_counter_get(&info->workers[w], c));
	}
	family(b, "weir_dead_letters_total", "counter", "malformed packets, by reason (kept in the _deadletter topic)");
	for (unsigned w = 0; w < nw; w++)
		for (unsigned r = 1; r < WEIR_DL_MAX; r++)
			put(b, "weir_dead_letters_total{worker=\"%u\",reason=\"%s\"} %" PRIu64 "\n", w,
			    weir_dead_letter_names[r], __atomic_load_n(&info->workers[w].dead_letter[r], __ATOMIC_RELAXED));
}

/* Burst sizes, ring occupancy, latency histograms and the SLA, per worker. */
static void
render_rings(struct buf *b, const struct weir_metrics_src *s)
{
	const struct weir_info *info = s->info;
	unsigned nw = s->info->n_workers;
	family(b, "weir_rx_burst_size", "histogram", "packets per rx_burst that returned any");
	for (unsigned w = 0; w < nw; w++) {
		const struct weir_worker_counters *c = &info->workers[w];
		uint64_t cum = 0;
		for (unsigned k = 0; k < WEIR_BURST_BUCKETS; k++) {
			cum += __atomic_load_n(&c->burst_size[k], __ATOMIC_RELAXED);
			put(b, "weir_rx_burst_size_bucket{worker=\"%u\",le=\"%u\"} %" PRIu64 "\n", w, (2u << k) - 1, cum);
		}
		put(b, "weir_rx_burst_size_bucket{worker=\"%u\",le=\"+Inf\"} %" PRIu64 "\n", w, cum);
		put(b, "weir_rx_burst_size_sum{worker=\"%u\"} %" PRIu64 "\nweir_rx_burst_size_count{worker=\"%u\"} %" PRIu64
			"\n", w, weir_counter_get(c, WEIR_CTR_rx_packets), w, cum);
	}
	family(b, "weir_ring_size_bytes", "gauge", "each worker's record ring");
	for (unsigned w = 0; w < nw; w++)
		put(b, "weir_ring_size_bytes{worker=\"%u\"} %" PRIu64 "\n", w, s->rings[w]->size_bytes);
	family(b, "weir_ring_used_bytes", "gauge", "records committed but not yet durable: the head's lag behind the tail");
	for (unsigned w = 0; w < nw; w++)
		put(b, "weir_ring_used_bytes{worker=\"%u\"} %" PRIu64 "\n", w,
		    weir_ring_unreleased(s->rings[w]));

	family(b, "weir_commit_latency_seconds", "histogram", "from the burst's receipt to its records' commit to the ring");
	for (unsigned w = 0; w < nw; w++) {
		char labels[32];
		snprintf(labels, sizeof(labels), "worker=\"%u\"", w);
		histogram(b, "weir_commit_latency_seconds", labels, &info->workers[w].commit_latency);
	}
	family(b, "weir_durable_latency_seconds", "histogram", "from receipt to durable in the log (by the fsync policy)");
	for (unsigned w = 0; w < nw; w++) {
		char labels[32];
		snprintf(labels, sizeof(labels), "worker=\"%u\"", w);
		histogram(b, "weir_durable_latency_seconds", labels, &s->drain->durable_latency[w]);
	}
	family(b, "weir_sla_breaches_total", "counter", "events that took longer than the configured SLA to be durable");
	for (unsigned w = 0; w < nw; w++)
		put(b, "weir_sla_breaches_total{worker=\"%u\"} %" PRIu64 "\n", w, weir_sw_load(&s->drain->sla_breaches[w]));
	family(b, "weir_sla_seconds", "gauge", "the configured rx-to-durable bound (0: none)");
	put(b, "weir_sla_seconds %.9f\n", (double)s->cfg->metrics_sla_ns / 1e9);
}

/* The ports' ethdev stats as the dataplane copied them. */
static void
render_ports(struct buf *b, const struct weir_metrics_src *s)
{
	const struct weir_info *info = s->info;
	static const char *const pn[] = { "rx_packets", "rx_bytes", "imissed", "rx_errors", "rx_nombuf" };
	static const char *const ph[] = { "packets the port received", "bytes the port received",
					  "packets the port dropped: its RX queues were full",
					  "erroneous packets the port received", "receptions that failed for want of an mbuf" };
	for (unsigned k = 0; k < 5; k++) {
		char name[64];
		snprintf(name, sizeof(name), "weir_port_%s_total", pn[k]);
		family(b, name, "counter", ph[k]);
		for (unsigned p = 0; p < info->n_ports && p < WEIR_MAX_PORTS; p++) {
			const struct weir_port_stats *ps = &info->ports[p];
			uint64_t v[] = { ps->ipackets, ps->ibytes, ps->imissed, ps->ierrors, ps->rx_nombuf };
			put(b, "%s{port=\"%" PRIu64 "\"} %" PRIu64 "\n", name, ps->port_id, v[k]);
		}
	}
}

/* The rule set in force and per-rule counts, summed over the workers. */
static void
render_rules(struct buf *b, const struct weir_metrics_src *s)
{
	if (s->rules && __atomic_load_n(&s->rules->version, __ATOMIC_ACQUIRE) == WEIR_RULES_VERSION) {
		const struct weir_rules_region *rr = s->rules;
		family(b, "weir_rules_generation_in_force", "gauge", "the rule set every worker runs");
		put(b, "weir_rules_generation_in_force %" PRIu64 "\n", __atomic_load_n(&rr->generation, __ATOMIC_ACQUIRE));
		family(b, "weir_rules_reloads_total", "counter", "rule sets published after the first");
		put(b, "weir_rules_reloads_total %" PRIu64 "\n", rr->reloads);
		family(b, "weir_rules_reload_failures_total", "counter", "rules files rejected on reload");
		put(b, "weir_rules_reload_failures_total %" PRIu64 "\n", rr->reload_failures);
		static const char *const rn[] = { "matches", "alerts", "drops" };
		for (unsigned k = 0; k < 3; k++) {
			char name[64], help[96];
			snprintf(name, sizeof(name), "weir_per_rule_%s_total", rn[k]);
			snprintf(help, sizeof(help), "%s per rule id, all workers together", rn[k]);
			family(b, name, "counter", help);
			for (uint32_t slot = 0; slot < rr->n_slots; slot++) {
				uint64_t sum = 0;
				for (unsigned w = 0; w < rr->n_workers; w++) {
					const struct weir_rule_counter *c =
						&weir_rules_row((struct weir_rules_region *)rr, w)[slot];
					sum += k == 0 ? c->matches : k == 1 ? c->alerts : c->drops;
				}
				put(b, "%s{rule=\"%u\"} %" PRIu64 "\n", name, rr->slot_id[slot], sum);
			}
		}
	}
}

/* What the drain made durable, per topic, and the control plane's own figures. */
static void
render_log(struct buf *b, const struct weir_metrics_src *s)
{
	const struct weir_drain *d = s->drain;
	family(b, "weir_persisted_records_total", "counter", "records made durable, per topic");
	for (unsigned t = 0; t < d->n_topics; t++)
		put(b, "weir_persisted_records_total{topic=\"%s\"} %" PRIu64 "\n", d->topics[t].name,
		    weir_sw_load(&d->topics[t].records_appended));
	family(b, "weir_persisted_bytes_total", "counter", "log bytes written, per topic");
	for (unsigned t = 0; t < d->n_topics; t++)
		put(b, "weir_persisted_bytes_total{topic=\"%s\"} %" PRIu64 "\n", d->topics[t].name,
		    weir_sw_load(&d->topics[t].bytes_appended));
	family(b, "weir_log_size_bytes", "gauge", "bytes of log on disk, per topic");
	for (unsigned t = 0; t < d->n_topics; t++)
		put(b, "weir_log_size_bytes{topic=\"%s\"} %" PRIu64 "\n", d->topics[t].name, dir_bytes(d->topics[t].dir));
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
		  offsetof(struct weir_log_retention_stats, held_segments) },
		{ "weir_log_oldest_offset", "gauge", "the first offset retained", offsetof(struct weir_log_retention_stats, oldest_offset) },
		{ "weir_log_disk_bytes", "gauge", "bytes of segments and indexes, as retention counts them",
		  offsetof(struct weir_log_retention_stats, disk_bytes) },
	};
	for (size_t k = 0; k < sizeof(ret) / sizeof(ret[0]); k++) {
		family(b, ret[k].name, ret[k].type, ret[k].help);
		for (unsigned t = 0; t < d->n_topics; t++)
			put(b, "%s{topic=\"%s\"} %" PRIu64 "\n", ret[k].name, d->topics[t].name,
			    weir_sw_load((const uint64_t *)((const char *)&d->retention_stats[t] + ret[k].at)));
	}
	family(b, "weir_log_oldest_timestamp_seconds", "gauge", "rx time of the first entry retained");
	for (unsigned t = 0; t < d->n_topics; t++)
		put(b, "weir_log_oldest_timestamp_seconds{topic=\"%s\"} %.9f\n", d->topics[t].name,
		    (double)weir_sw_load(&d->retention_stats[t].oldest_rx_ns) / 1e9);
	family(b, "weir_log_writable", "gauge", "0 while the log refuses writes (a full disk): records wait in the rings");
	put(b, "weir_log_writable %u\n", weir_drain_log_errno(d) ? 0u : 1u);
	family(b, "weir_log_write_failures_total", "counter", "times the log refused a write and the drain waited");
	put(b, "weir_log_write_failures_total %" PRIu64 "\n", weir_sw_load(&d->log_failures));
	family(b, "weir_control_skipped_records_total", "counter",
	       "records found already in the log after a restart, not written again");
	put(b, "weir_control_skipped_records_total %" PRIu64 "\n", weir_sw_load(&d->records_skipped));
	family(b, "weir_fsync_seconds", "histogram", "how long each fsync of the log took");
	histogram(b, "weir_fsync_seconds", "", &d->fsync_latency);
	family(b, "weir_control_heap_bytes", "gauge", "bytes weir-control has allocated (jemalloc stats.allocated)");
	put(b, "weir_control_heap_bytes %" PRIu64 "\n", weir_heap_allocated_bytes());
}

char *
weir_metrics_render(const struct weir_metrics_src *s, size_t *len)
{
	struct buf b = { .cap = 1 << 16 };
	b.p = malloc(b.cap);
	if (b.p == NULL)
		return NULL;
	/* Pairs with weir_metrics_attached(). */
	const struct weir_info *info = __atomic_load_n(&s->info, __ATOMIC_ACQUIRE);
	render_process(&b, s, info);
	if (info) {
		render_counters(&b, s);
		render_rings(&b, s);
		render_ports(&b, s);
		render_rules(&b, s);
		render_sources(&b, s);
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
	snprintf(reason, len, "ok");
	return 0;
}

struct weir_metrics_server {
	struct MHD_Daemon *daemon;
	const struct weir_metrics_src *src;
};

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len, bool owned)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body,
								  owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
	   const char *upload_data, size_t *upload_size, void **state)
{
	struct weir_metrics_server *srv = cls;
	static int first_call;
	if (*state == NULL) { /* headers only so far */
		*state = &first_call;
		return MHD_YES;
	}
	if (*upload_size) { /* a body weir does not read */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET or HEAD only\n", 17, false);
	if (strcmp(url, "/metrics") == 0) {
		size_t len;
		char *body = weir_metrics_render(srv->src, &len);
		if (body == NULL)
			return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n", 14, false);
		return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len, true);
	}
	if (strcmp(url, "/healthz") == 0) {
		char why[160];
		int bad = weir_metrics_health(srv->src, why, sizeof(why) - 1);
		strcat(why, "\n");
		return reply(c, bad ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK, "text/plain", why, strlen(why), false);
	}
	return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found: try /metrics or /healthz\n", 36, false);
}

struct weir_metrics_server *
weir_metrics_serve(const struct weir_metrics_src *s, char *err, size_t errlen)
{
	struct weir_metrics_server *srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return NULL;
	srv->src = s;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = s->cfg->metrics_port };
	memcpy(&sa.sin_addr, &s->cfg->metrics_ip, 4);
	/* One polling thread; bounded connections, memory per connection and
	 * time: a misbehaving client costs a 4xx, not the service. */
	srv->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, on_request, srv,
				       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
				       (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				       MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_END);
	if (srv->daemon == NULL) {
		snprintf(err, errlen, "cannot serve metrics on %s:%u (in use?)", inet_ntoa(sa.sin_addr), ntohs(sa.sin_port));
		free(srv);
		return NULL;
	}
	return srv;
}

void
weir_metrics_stop(struct weir_metrics_server *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
