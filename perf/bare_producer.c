/*
 * The baseline for perf/export.py: a bare librdkafka producer of the same
 * records weir-export ships, with the same settings (transactions of BATCH
 * records, idempotence, Java's partitioner, linger.ms 5, the same six
 * headers and key, copied values), and nothing else: no log to read, no
 * positions to keep.  Records come from a file perf/export.py writes from
 * the log (weir-read), loaded into memory before the clock starts.
 *
 *   bare_producer BROKERS TOPIC RECORDS_FILE BATCH
 *
 * File: per record u16 key_len, key, u32 value_len, value, u8 n_headers,
 * then per header u8 name_len, name, u8 value_len, value (lengths little
 * endian).  Prints one JSON line: records, seconds, cpu_seconds.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "weir_time.h"

struct rec {
	const uint8_t *p; /* its bytes in the file, as written */
};

static uint8_t *
load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	uint8_t *b = malloc(*len ? *len : 1);
	if (b && fread(b, 1, *len, f) != *len) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

static uint32_t
le(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* One record from p: produced (waiting while the local queue is full);
 * returns the next record's start. */
static const uint8_t *
produce_one(rd_kafka_t *rk, const char *topic, const uint8_t *p)
{
	uint32_t kl = le(p, 2);
	const uint8_t *key = p + 2;
	p = key + kl;
	uint32_t vl = le(p, 4);
	const uint8_t *val = p + 4;
	p = val + vl;
	unsigned nh = *p++;
	rd_kafka_headers_t *h = rd_kafka_headers_new(nh);
	for (unsigned i = 0; i < nh; i++) {
		unsigned nl = *p++;
		const char *name = (const char *)p;
		p += nl;
		unsigned hl = *p++;
		rd_kafka_header_add(h, name, (ssize_t)nl, p, (ssize_t)hl);
		p += hl;
	}
	for (;;) {
		rd_kafka_resp_err_t e = rd_kafka_producev(
			rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, kl), RD_KAFKA_V_VALUE((void *)val, vl),
			RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			return p;
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			fprintf(stderr, "bare_producer: produce: %s\n", rd_kafka_err2str(e));
			exit(1);
		}
		rd_kafka_poll(rk, 10);
	}
}

static void
must(rd_kafka_error_t *e, const char *what)
{
	if (e) {
		fprintf(stderr, "bare_producer: %s: %s\n", what, rd_kafka_error_string(e));
		exit(1);
	}
}

static rd_kafka_t *
producer(const char *brokers)
{
	const char *kv[][2] = {
		{ "bootstrap.servers", brokers }, { "transactional.id", "weir-perf-bare" },
		{ "enable.idempotence", "true" }, { "partitioner", "murmur2_random" },
		{ "linger.ms", "5" },             { "transaction.timeout.ms", "60000" },
	};
	char why[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], why, sizeof(why)) != RD_KAFKA_CONF_OK) {
			fprintf(stderr, "bare_producer: %s: %s\n", kv[i][0], why);
			exit(2);
		}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (rk == NULL) {
		fprintf(stderr, "bare_producer: %s\n", why);
		exit(1);
	}
	must(rd_kafka_init_transactions(rk, 30000), "init_transactions");
	return rk;
}

static double
cpu_seconds(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int
main(int argc, char **argv)
{
	if (argc != 5 || atol(argv[4]) < 1) {
		fprintf(stderr, "usage: bare_producer BROKERS TOPIC RECORDS_FILE BATCH\n");
		return 2;
	}
	size_t len;
	uint8_t *buf = load(argv[3], &len);
	if (buf == NULL) {
		perror(argv[3]);
		return 1;
	}
	long batch = atol(argv[4]);
	rd_kafka_t *rk = producer(argv[1]);
	double c0 = cpu_seconds();
	uint64_t t0 = weir_monotonic_ns(), n = 0;
	for (const uint8_t *p = buf; p < buf + len;) {
		must(rd_kafka_begin_transaction(rk), "begin_transaction");
		for (long i = 0; i < batch && p < buf + len; i++, n++)
			p = produce_one(rk, argv[2], p);
		must(rd_kafka_commit_transaction(rk, 60000), "commit_transaction");
	}
	double secs = (double)(weir_monotonic_ns() - t0) / 1e9;
	printf("{\"records\": %" PRIu64 ", \"seconds\": %.3f, \"cpu_seconds\": %.3f}\n", n, secs, cpu_seconds() - c0);
	rd_kafka_destroy(rk);
	free(buf);
	return 0;
}
