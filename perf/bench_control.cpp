// weir-control's cost a record, part of bench_stages: the log's append alone
// and the whole drain (ring, exactly-once check, append, commit).
//   taskset -c 1 build/perf/bench_stages --benchmark_filter='BM_log_append|BM_drain'
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

// The shared headers are C11; their compile-time layout checks read the same in C++.
#define _Static_assert static_assert
extern "C" {
#include "weir_drain.h"
#include "weir_log.h"
}

namespace {

// A log directory for one benchmark, removed with it (full runs filled this
// disk); without one the benchmark says so and is skipped.
struct TempDir {
	char path[64] = "/tmp/weir-bench-log-XXXXXX";
	bool ok;
	explicit TempDir(benchmark::State &state) : ok(mkdtemp(path) != nullptr)
	{
		if (!ok)
			state.SkipWithError("mkdtemp");
	}
	~TempDir()
	{
		std::string rm = std::string("rm -rf ") + path;
		if (ok && system(rm.c_str()) != 0)
			fprintf(stderr, "bench: cannot remove %s\n", path);
	}
};

void
BM_log_append(benchmark::State &state)
{
	TempDir tmp(state);
	if (!tmp.ok)
		return;
	const char *dir = tmp.path;
	static char err[512];
	weir_log_topic t;
	if (weir_log_topic_open(&t, dir, "itch", err, sizeof(err)) != 0) {
		state.SkipWithError(err);
		return;
	}
	alignas(8) uint8_t buf[128] = {};
	auto *r = reinterpret_cast<weir_record *>(buf);
	r->len_bytes = sizeof(weir_record) + (uint32_t)state.range(0); /* payload bytes */
	r->kind = WEIR_REC_EVENT;
	memcpy(r->source, "SESSION01", 9);
	r->rx_ns = 1700000000000000000ull;
	uint64_t pos = 0, n = 0;
	for (auto _ : state) {
		/* one source in order, 32 events a burst: what a feed looks like */
		r->seq = ++n;
		if ((n & 31) == 0)
			r->rx_ns += 2000;
		if (weir_log_topic_append(&t, 0, 1, pos, r) != 0) {
			state.SkipWithError("append failed (disk full?)");
			break;
		}
		pos += WEIR_ALIGN8(r->len_bytes);
	}
	weir_log_topic_flush(&t);
	state.counters["file_bytes_per_event"] = n ? (double)t.bytes_appended / (double)n : 0;
	weir_log_topic_close(&t);
	state.SetItemsProcessed(state.iterations());
	state.SetLabel("CRC32C + write (O_DIRECT where it can), no fsync");
}
BENCHMARK(BM_log_append)->Arg(8)->Arg(32);

// weir-control's whole drain per record: ring peek, the exactly-once check,
// log append, the durable-latency note, release at commits (fsync every
// 100 ms of the benchmark's clock).  Records as a worker writes them: 8-byte
// events of one source in order, 32 a burst; 64k of them made while the
// timer is paused, then drained.
void
BM_drain(benchmark::State &state)
{
	TempDir tmp(state);
	if (!tmp.ok)
		return;
	static char err[512];
	weir_config cfg;
	weir_config_parse("set corelist 1\nlog dir /tmp/x\ndecoder moldudp64 udp-port 26400 topic itch\n", "bench.conf",
			  &cfg, err, sizeof(err));
	snprintf(cfg.log_dir, sizeof(cfg.log_dir), "%s", tmp.path);
	const uint64_t ring_bytes = 16u << 20;
	auto *ring = static_cast<weir_ring *>(aligned_alloc(64, weir_ring_memsize(ring_bytes)));
	weir_ring_init(ring, 0, ring_bytes);
	weir_ring_producer p;
	weir_ring_producer_attach(&p, ring);
	static const char topics[2][WEIR_TOPIC_NAME_MAX] = {"_deadletter", "itch"};
	auto *d = static_cast<weir_drain *>(calloc(1, sizeof(weir_drain)));
	if (weir_drain_open(d, &cfg, topics, 2, &ring, 1, 1, err, sizeof(err)) != 0) {
		state.SkipWithError(err);
		free(d);
		free(ring);
		return;
	}
	const uint32_t payload = (uint32_t)state.range(0);
	uint64_t seq = 0, now = 1, made = 0;
	for (auto _ : state) {
		state.PauseTiming();
		for (unsigned i = 0; i < 65536; i++) {
			auto *r = weir_ring_reserve(&p, (uint32_t)sizeof(weir_record) + payload);
			if (r == nullptr)
				break;
			memset(r, 0, sizeof(*r));
			r->len_bytes = (uint32_t)sizeof(weir_record) + payload;
			r->kind = WEIR_REC_EVENT;
			r->topic = 1;
			memcpy(r->source, "SESSION01", 9);
			r->seq = ++seq;
			r->rx_ns = 1700000000000000000ull + (seq / 32) * 3000;
			memset(r + 1, 'x', payload);
			made++;
		}
		weir_ring_publish(&p, now);
		state.ResumeTiming();
		while (!weir_drain_caught_up(d)) {
			now += 1000; /* 1 us a poll on the benchmark's clock */
			if (weir_drain_poll(d, now, err, sizeof(err)) < 0) {
				state.SkipWithError(err);
				break;
			}
		}
		if (weir_drain_commit(d, now, err, sizeof(err)) != 0)
			state.SkipWithError(err);
	}
	state.SetItemsProcessed((int64_t)made);
	state.counters["fsyncs"] = (double)d->commits;
	weir_drain_close(d);
	free(d);
	free(ring);
}
BENCHMARK(BM_drain)->Arg(8)->Arg(32)->Unit(benchmark::kMicrosecond);

} // namespace
