/*
 * weir-export: ships the log's topics to Apache Kafka, exactly once
 * (export/weir_export.h says how).  Its own process: a slow or dead Kafka
 * never holds up weir-control or the dataplane.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "weir_config.h"
#include "weir_crash.h"
#include "weir_export.h"
#include "weir_http.h"
#include "weir_quit.h"
#include "weir_time.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: weir-export -f CONFIG [options]\n"
		"       weir-export --check CONFIG\n"
		"  -f, --config FILE     the pmd-config file (its log dir and export lines)\n"
		"      --check FILE      validate FILE, the librdkafka properties too, and exit (0 valid, 2 not)\n"
		"      --exit-when-caught-up SEC\n"
		"                        exit once everything committed to the log is in Kafka and nothing\n"
		"                        new came for SEC seconds (replays, tests)\n"
		"exit: 0 stopped cleanly; 1 a fatal error (fenced by a newer weir-export with the same id,\n"
		"      or the log is damaged); 2 bad usage or configuration\n");
}

/* What weir-export reads of the config: a ${VAR} on any other line (an
 * eal line's capture, say) is the dataplane's to have set, not its own. */
static const char *const READS[] = { "export", "log", "metrics", "decoder", "frame-topic", "topic", "user", NULL };

static int
check(const char *path, struct weir_config *cfg)
{
	static char err[16384];
	if (weir_config_load_for(path, READS, cfg, err, sizeof(err)) != 0 || weir_export_check_config(cfg, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	umask((mode_t)weir_config_umask(cfg)); /* its reader registration in the log: log mode */
	if (cfg->exp.n_topics == 0) {
		fprintf(stderr, "%s: nothing to export: add \"export kafka brokers ...\" and \"export kafka topic ...\"\n",
			path);
		return 2;
	}
	return 0;
}

static int
run(struct weir_config *cfg, double idle_exit_s)
{
	static struct weir_exporter x;
	static char err[4096];
	x.stop = &weir_quit;
	weir_export_init(&x, cfg, cfg->log_dir);
	struct weir_http *http = NULL;
	if (cfg->exp.metrics_port) {
		struct weir_http_handlers h = { weir_export_render, weir_export_health, &x };
		http = weir_http_serve(cfg->exp.metrics_ip, cfg->exp.metrics_port, &h, cfg->metrics_tls_cert,
				       cfg->metrics_tls_key, (enum weir_http_auth)cfg->metrics_auth, cfg->metrics_auth_user,
				       cfg->metrics_auth_file, err, sizeof(err));
		if (http == NULL) {
			fprintf(stderr, "weir-export: %s\n", err);
			return 1;
		}
	}
	int opened = weir_export_open(&x, err, sizeof(err));
	if (opened != 0) {
		if (opened < 0)
			fprintf(stderr, "weir-export: %s\n", err);
		else
			printf("weir-export: stopped before Kafka answered: nothing shipped\n");
		weir_http_stop(http);
		weir_export_close(&x);
		return opened < 0 ? 1 : 0;
	}
	printf("weir-export: shipping %u topic%s to %s as %s\n", x.n, x.n == 1 ? "" : "s", cfg->exp.brokers, x.txn_id);
	fflush(stdout);
	int rc = 0;
	uint64_t idle_since = weir_monotonic_ns();
	while (!weir_quit) {
		uint64_t now = weir_monotonic_ns();
		int produced = weir_export_step(&x, now, err, sizeof(err));
		if (produced < 0) {
			fprintf(stderr, "weir-export: %s\n", err);
			rc = 1;
			break;
		}
		if (produced > 0) {
			idle_since = now;
			continue;
		}
		if (idle_exit_s > 0 && weir_export_caught_up(&x) && (double)(now - idle_since) / 1e9 >= idle_exit_s)
			break;
		weir_export_wait(&x, 50);
	}
	if (rc == 0 && weir_export_flush(&x, err, sizeof(err)) != 0) {
		fprintf(stderr, "weir-export: %s\n", err);
		rc = 1;
	}
	for (unsigned i = 0; i < x.n; i++)
		printf("weir-export: %s: %llu records shipped this run, log position %llu in Kafka\n", x.t[i].cfg->log_topic,
		       (unsigned long long)x.t[i].records, (unsigned long long)x.t[i].committed);
	weir_http_stop(http);
	weir_export_close(&x);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "check", required_argument, NULL, 'c' },
		{ "exit-when-caught-up", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct weir_config cfg;
	const char *path = NULL;
	double idle_exit_s = 0;
	int c;
	weir_crash_trace_install("weir-export");
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': path = optarg; break;
		case 'c': {
			int rc = check(optarg, &cfg);
			if (rc == 0)
				printf("%s: valid: %u topic%s exported to %s\n", optarg, cfg.exp.n_topics,
				       cfg.exp.n_topics == 1 ? "" : "s", cfg.exp.brokers);
			return rc;
		}
		case 'x': idle_exit_s = atof(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	int rc = check(path, &cfg);
	if (rc)
		return rc;
	weir_quit_on_signals();
	setvbuf(stdout, NULL, _IOLBF, 0);
	return run(&cfg, idle_exit_s);
}
