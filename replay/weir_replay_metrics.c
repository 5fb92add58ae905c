#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "weir_endpoint.h"
#include "weir_prom.h"
#include "weir_replay_metrics.h"
#include "weir_replay_send.h"
#include "weir_replay_serve.h"
#include "weir_single_writer.h"

static void
counter(struct weir_prom *b, const char *name, const char *help, const uint64_t *v)
{
	weir_prom_family(b, name, "counter", help);
	weir_prom_put(b, "%s %" PRIu64 "\n", name, weir_sw_load(v));
}

static void
gauge(struct weir_prom *b, const char *name, const char *help, const uint64_t *v)
{
	weir_prom_family(b, name, "gauge", help);
	weir_prom_put(b, "%s %" PRIu64 "\n", name, weir_sw_load(v));
}

static char *
done(struct weir_prom *b, size_t *len)
{
	if (b->oom) {
		free(b->p);
		return NULL;
	}
	*len = b->len;
	return b->p;
}

char *
weir_replay_send_render(const void *ctx, size_t *len)
{
	const struct weir_replay_send *s = ctx;
	const struct weir_replay_summary *m = &s->sum;
	struct weir_prom b = { .cap = 1 << 13 };
	if ((b.p = malloc(b.cap)) == NULL)
		return NULL;
	counter(&b, "weir_replay_packets_sent_total", "MoldUDP64 packets sent", &m->packets);
	counter(&b, "weir_replay_events_sent_total", "events sent", &m->events);
	counter(&b, "weir_replay_bytes_sent_total", "UDP payload bytes sent", &m->bytes);
	counter(&b, "weir_replay_heartbeats_sent_total", "heartbeats sent while nothing was due", &m->heartbeats);
	counter(&b, "weir_replay_holes_passed_total", "LOSS records passed over (their numbers never sent)", &m->holes);
	counter(&b, "weir_replay_hole_events_total", "events the passed LOSS records state lost", &m->hole_events);
	counter(&b, "weir_replay_log_offsets_lost_total",
		"offsets gone over that the log no longer holds (salvaged or deleted), their events never sent",
		&m->offsets_lost);
	gauge(&b, "weir_replay_offset", "one past the last log offset replayed", &m->next_offset);
	gauge(&b, "weir_replay_log_bytes_behind", "bytes of log between the replay and the committed end (each second)",
	      &m->bytes_behind);
	weir_prom_family(&b, "weir_replay_pacing_error_seconds", "histogram", "send time minus due time, per packet");
	weir_prom_histogram(&b, "weir_replay_pacing_error_seconds", "", &m->pacing);
	return done(&b, len);
}

char *
weir_replay_serve_render(const void *ctx, size_t *len)
{
	const struct weir_replay_server *s = ctx;
	struct weir_prom b = { .cap = 1 << 13 };
	if ((b.p = malloc(b.cap)) == NULL)
		return NULL;
#define WEIR_REPLAY_FIGURE(name, help) counter(&b, "weir_replay_serve_" #name "_total", help, &s->fig.name);
	WEIR_REPLAY_SERVE_FIGURES(WEIR_REPLAY_FIGURE)
#undef WEIR_REPLAY_FIGURE
	gauge(&b, "weir_replay_serve_log_end_offset", "the committed end of the log it answers from (each 20 ms)",
	      &s->log_end);
	return done(&b, len);
}

static int
healthy(const void *ctx, char *why, size_t len)
{
	(void)ctx;
	snprintf(why, len, "ok");
	return 0;
}

struct weir_http *
weir_replay_metrics_start(const char *at, char *(*render)(const void *, size_t *), const void *ctx, char *err,
			  size_t errlen)
{
	union weir_sockaddr a;
	if (weir_endpoint_parse(at, &a) != 0 || a.sa.sa_family != AF_INET) {
		snprintf(err, errlen, "--metrics %s: not IPv4ADDRESS:PORT", at);
		return NULL;
	}
	struct weir_http_handlers h = { render, healthy, ctx };
	return weir_http_serve(a.v4.sin_addr.s_addr, a.v4.sin_port, &h, "", "", WEIR_HTTP_AUTH_NONE, NULL, NULL, err,
			       errlen);
}
