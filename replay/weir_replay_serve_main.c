/* weir-replay serve: its command line and run (weir_replay_serve.h). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_replay_cli.h"
#include "weir_replay_metrics.h"
#include "weir_replay_serve.h"

struct serve_options {
	const char *log_dir, *topic, *listen, *metrics, *sender;
	unsigned max_count, mtu;
	double rate, burst, deadline_s;
	bool check;
};

void
weir_replay_serve_usage(FILE *f)
{
	fprintf(f,
		"usage: weir-replay serve [options] --topic NAME[,NAME...] --listen ADDRESS:PORT LOG_DIR\n"
		"  a MoldUDP64 re-request server over the log: a request (session, first, count) is answered\n"
		"  with the events, in order, to the requester; weir-control may be appending meanwhile.\n"
		"  More topics than one: a source's numbers from whichever holds them (a rule's route:)\n"
		"  --max-count N           events a request at most (default 1000; more is answered up to N)\n"
		"  --rate R --burst B      requests a second per requester (default 1000, burst 100)\n"
		"  --deadline SEC          how long a request waits for what the log has not reached (default 2)\n"
		"  --mtu N                 the IP MTU answers must fit (default 1500)\n"
		"  --sender IPV4:PORT      a log keyed by sender (sequence key source+sender): answer from the\n"
		"                          sessions this sender sent\n"
		"  --metrics ADDRESS:PORT  /metrics and /healthz (IPv4, plain HTTP)\n"
		"  --check                 check the arguments and the topic, serve nothing\n"
		"exit: 0 stopped by a signal; 1 an error (said); 2 usage\n");
}

static int
number(const char *s, double lo, double hi, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return *s && !*end && !errno && *v >= lo && *v <= hi ? 0 : -1;
}

static int
parse(int argc, char **argv, struct serve_options *o)
{
	static const struct option longs[] = {
		{ "topic", required_argument, 0, 't' }, { "listen", required_argument, 0, 'l' },
		{ "max-count", required_argument, 0, 'n' }, { "rate", required_argument, 0, 'r' },
		{ "burst", required_argument, 0, 'b' }, { "deadline", required_argument, 0, 'd' },
		{ "mtu", required_argument, 0, 'm' }, { "metrics", required_argument, 0, 'M' },
		{ "check", no_argument, 0, 'c' }, { "sender", required_argument, 0, 's' }, { 0, 0, 0, 0 },
	};
	*o = (struct serve_options){ .max_count = 1000, .mtu = 1500, .rate = 1000, .burst = 100, .deadline_s = 2 };
	int c;
	double v;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 't': o->topic = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'M': o->metrics = optarg; break;
		case 's': o->sender = optarg; break;
		case 'c': o->check = true; break;
		case 'n': bad = number(optarg, 1, 65534, &v); o->max_count = (unsigned)v; break;
		case 'r': bad = number(optarg, 0.001, 1e9, &o->rate); break;
		case 'b': bad = number(optarg, 1, 1e9, &o->burst); break;
		case 'd': bad = number(optarg, 0, 3600, &o->deadline_s); break;
		case 'm': bad = number(optarg, 128, 9216, &v); o->mtu = (unsigned)v; break;
		default: bad = 1;
		}
		if (bad) {
			fprintf(stderr, "weir-replay: bad argument%s%s\n", optarg ? ": " : "", optarg ? optarg : "");
			return -1;
		}
	}
	if (optind + 1 != argc || o->topic == NULL || o->listen == NULL) {
		fprintf(stderr, "weir-replay: serve needs --topic, --listen and one LOG_DIR\n");
		return -1;
	}
	o->log_dir = argv[optind];
	return 0;
}

/* The readers of "NAME[,NAME...]": the first's into s->reader (first gets
 * its name), the others' into s->also.  0, or -1 said. */
static int
open_topics(struct weir_replay_server *s, const char *log_dir, const char *list, char *first, size_t len)
{
	char names[(WEIR_TOPIC_NAME_MAX + 1) * WEIR_REPLAY_SERVE_TOPICS + 1], err[512];
	snprintf(names, sizeof(names), "%s", list);
	unsigned n = 0;
	for (char *save = NULL, *t = strtok_r(names, ",", &save); t; t = strtok_r(NULL, ",", &save), n++) {
		if (n == WEIR_REPLAY_SERVE_TOPICS) {
			fprintf(stderr, "weir-replay: --topic %s: %u topics at most\n", list, WEIR_REPLAY_SERVE_TOPICS);
			return -1;
		}
		struct weir_log_reader **r = n == 0 ? &s->reader : &s->also[s->n_also];
		if (weir_log_reader_open(r, log_dir, t, err, sizeof(err)) != 0) {
			fprintf(stderr, "weir-replay: topic %s of %s: %s\n", t, log_dir, err);
			return -1;
		}
		if (n == 0)
			snprintf(first, len, "%s", t);
		else
			s->n_also++;
	}
	if (n == 0) {
		fprintf(stderr, "weir-replay: --topic %s: no topic named\n", list);
		return -1;
	}
	return 0;
}

int
weir_replay_serve_main(int argc, char **argv, volatile int *quit)
{
	struct serve_options o;
	if (parse(argc, argv, &o) != 0) {
		weir_replay_serve_usage(stderr);
		return WEIR_REPLAY_USAGE;
	}
	static struct weir_replay_server s;
	char err[512], first[WEIR_TOPIC_NAME_MAX + 1];
	if (open_topics(&s, o.log_dir, o.topic, first, sizeof(first)) != 0)
		return WEIR_REPLAY_FAIL;
	int rc = WEIR_REPLAY_FAIL;
	struct weir_http *http = NULL;
	if (weir_replay_serve_open(&s, o.listen, o.max_count, o.rate, o.burst, (uint64_t)(o.deadline_s * 1e9), o.mtu,
				   err, sizeof(err)) != 0 ||
	    weir_replay_follow_open(&s.follow, o.log_dir, first, err, sizeof(err)) != 0 ||
	    (o.sender && weir_replay_serve_sender(&s, o.sender, err, sizeof(err)) != 0) ||
	    (o.metrics && (http = weir_replay_metrics_start(o.metrics, weir_replay_serve_render, &s, err,
							    sizeof(err))) == NULL)) {
		fprintf(stderr, "weir-replay: %s\n", err);
	} else if (o.check) {
		printf("weir-replay: ok: would serve topic %s (committed to offset %" PRIu64 ") on %s\n", o.topic,
		       weir_log_reader_committed(s.reader), o.listen);
		rc = WEIR_REPLAY_OK;
	} else {
		printf("weir-replay: serving topic %s on %s\n", o.topic, o.listen);
		fflush(stdout);
		rc = weir_replay_serve_run(&s, quit, err, sizeof(err)) == 0 ? WEIR_REPLAY_OK : WEIR_REPLAY_FAIL;
		const struct weir_replay_serve_figures *f = &s.fig;
		printf("weir-replay: %" PRIu64 " requests: %" PRIu64 " answered whole, %" PRIu64 " late, %" PRIu64
		       " events in %" PRIu64 " packets, %" PRIu64 " numbers stated lost; refused: %" PRIu64
		       " malformed, %" PRIu64 " bad count, %" PRIu64 " over rate, %" PRIu64 " unknown session, %" PRIu64
		       " busy; %" PRIu64 " capped; %" PRIu64 " events unsent\n",
		       f->requests, f->answered, f->late, f->events_sent, f->packets_sent, f->events_lost,
		       f->refused_malformed, f->refused_count, f->refused_rate, f->refused_unknown, f->refused_busy,
		       f->capped, f->unsent);
	}
	weir_http_stop(http);
	weir_replay_serve_close(&s);
	weir_log_reader_close(s.reader);
	for (unsigned i = 0; i < s.n_also; i++)
		weir_log_reader_close(s.also[i]);
	return rc;
}
