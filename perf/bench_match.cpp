// The match stage alone (weir_pipeline_match, the worker's own code) over
// 10 / 100 / 1,000 rules and 32 / 128 / 512-byte payloads, in ns per event:
// each event scanned alone (BM_match), and behind the burst scan of 32
// one-event packets as the worker runs it (BM_match_burst).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

// The shared headers are C11; their compile-time layout checks read the same in C++.
#define _Static_assert static_assert
extern "C" {
#include "weir_moldudp64.h"
#include "weir_headers.h"
#include "weir_parse.h"
#include "weir_pipeline.h"
#include "weir_rules.h"
}

namespace {

struct Stage {
	weir_config cfg;
	weir_ring *ring = nullptr;
	void *region = nullptr;
	weir_decoder_table decoders;
	weir_pipeline *pl = nullptr;
	weir_ruleset *rs = nullptr;
	std::vector<weir_rule_counter> counters{WEIR_RULE_SLOTS};
	bool quit = false;

	explicit Stage(int n_rules)
	{
		static char err[8192];
		weir_config_parse("set corelist 1\nlog dir /tmp/x\ndecoder moldudp64 udp-port 26400 topic itch\n",
				  "bench.conf", &cfg, err, sizeof(err));
		cfg.seq.max_sources = 16;
		cfg.seq.max_gaps = 16;
		ring = static_cast<weir_ring *>(aligned_alloc(64, weir_ring_memsize(1 << 16)));
		weir_ring_init(ring, 0, 1 << 16);
		region = aligned_alloc(64, (weir_pipeline_memsize(&cfg) + 63) & ~63ull);
		weir_decoder_table_build(&decoders, &cfg);
		pl = static_cast<weir_pipeline *>(aligned_alloc(64, sizeof(weir_pipeline)));
		weir_pipeline_init(pl, &cfg, 0, ring, region, &decoders, nullptr, &quit);
		// Rules shaped like an operator's, weir-gen's (perf/appliance.py uses the same):
		// literals with a class, caseless alternations, bounded repeats, anchors.
		char exe[512], path[64], cmd[1200];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = 0;
		if (char *slash = strrchr(exe, '/'))
			*slash = 0; /* build/perf */
		snprintf(path, sizeof(path), "/tmp/weir-bench-rules-%d.txt", getpid());
		snprintf(cmd, sizeof(cmd), "%s/../tools/weir-gen rules --count %d --out %s", exe, n_rules, path);
		if (system(cmd) != 0) {
			fprintf(stderr, "bench_match: %s failed\n", cmd);
			abort();
		}
		rs = weir_rules_load(path, &cfg, 1, err, sizeof(err));
		unlink(path);
		if (rs == nullptr) {
			fprintf(stderr, "%s\n", err);
			abort();
		}
		for (uint32_t i = 0; i < rs->n_rules; i++)
			rs->rules[i].counter_slot = i;
		weir_pipeline_use_rules(pl, &rs, counters.data());
	}
	~Stage()
	{
		weir_rules_free(rs);
		free(pl);
		free(region);
		free(ring);
	}
};

// 64 distinct payloads, mostly not matching, as market data mostly does not.
std::vector<std::string>
payload_pool(size_t len)
{
	std::vector<std::string> payloads;
	unsigned seed = 99;
	for (int p = 0; p < 64; p++) {
		std::string s(len, ' ');
		for (auto &c : s) {
			seed = seed * 1103515245u + 12345u;
			c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 =.-"[(seed >> 16) % 66];
		}
		payloads.push_back(s);
	}
	return payloads;
}

void
BM_match(benchmark::State &state)
{
	Stage stage(static_cast<int>(state.range(0)));
	const size_t len = static_cast<size_t>(state.range(1));
	const std::vector<std::string> payloads = payload_pool(len);
	uint8_t source[WEIR_SOURCE_BYTES] = {'S'};
	uint32_t ids[WEIR_MAX_MATCHES];
	uint16_t n_ids, topic;
	size_t i = 0;
	for (auto _ : state) {
		const std::string &p = payloads[i++ & 63];
		topic = 1;
		bool keep = weir_pipeline_match(stage.pl, reinterpret_cast<const uint8_t *>(p.data()),
						static_cast<uint16_t>(p.size()), WEIR_DECODER_MOLDUDP64, source, &topic, ids,
						&n_ids);
		benchmark::DoNotOptimize(keep);
		benchmark::DoNotOptimize(n_ids);
	}
	state.SetItemsProcessed(state.iterations());
	state.SetLabel(std::to_string(stage.rs->n_rules) + " rules, " + std::to_string(len) + " B");
}

BENCHMARK(BM_match)->ArgsProduct({{10, 100, 1000}, {32, 128, 512}})->Unit(benchmark::kNanosecond);

// Per event: the burst scan's share (parsing the packet, the one scan) and
// the match stage behind it; the pipeline's own parse is then saved.
void
BM_match_burst(benchmark::State &state)
{
	Stage stage(static_cast<int>(state.range(0)));
	const size_t len = static_cast<size_t>(state.range(1));
	const std::vector<std::string> payloads = payload_pool(len);
	enum { BURST = 32 };
	std::vector<std::vector<uint8_t>> frames;
	for (int p = 0; p < 64; p++) {
		std::vector<uint8_t> f(14 + 20 + 8 + 20 + 2 + len);
		memset(f.data(), 2, 12);
		weir_put_be16(f.data() + 12, 0x0800);
		static const uint8_t src[4] = {198, 18, 0, 1}, dst[4] = {198, 18, 0, 2};
		uint16_t udp_len = (uint16_t)(f.size() - 34);
		weir_put_ipv4_header(f.data() + 14, src, dst, 0, udp_len);
		weir_put_udp_header(f.data() + 34, 40000, 26400, udp_len);
		uint32_t o = weir_mold_put_header(f.data() + 42, "BENCH", 1, 1);
		weir_mold_put_block(f.data() + 42 + o, payloads[p].data(), (uint16_t)len);
		frames.push_back(f);
	}
	const uint8_t *fp[BURST];
	uint32_t fl[BURST];
	enum weir_csum csum[BURST];
	uint8_t source[WEIR_SOURCE_BYTES] = {'S'};
	uint32_t ids[WEIR_MAX_MATCHES];
	uint16_t n_ids, topic;
	size_t b = 0;
	for (auto _ : state) {
		for (int i = 0; i < BURST; i++) {
			const std::vector<uint8_t> &f = frames[(b * BURST + i) & 63];
			fp[i] = f.data();
			fl[i] = (uint32_t)f.size();
			csum[i] = WEIR_CSUM_UNKNOWN;
		}
		b++;
		weir_pipeline_burst_scan(stage.pl, fp, fl, csum, csum, BURST);
		for (int i = 0; i < BURST; i++) {
			topic = 1;
			bool keep = weir_pipeline_match(stage.pl, fp[i] + 42 + 20 + 2, static_cast<uint16_t>(len),
							WEIR_DECODER_MOLDUDP64, source, &topic, ids, &n_ids);
			benchmark::DoNotOptimize(keep);
		}
		weir_pipeline_burst_done(stage.pl);
	}
	state.SetItemsProcessed(state.iterations() * BURST);
	state.counters["scanned_alone_share"] =
		1.0 - (double)stage.pl->c.rule_scans_skipped / (double)(state.iterations() * BURST);
	state.SetLabel(std::to_string(stage.rs->n_rules) + " rules, " + std::to_string(len) + " B, " +
		       std::to_string(stage.rs->n_burst_scannable) + " in the burst scan");
}

BENCHMARK(BM_match_burst)->ArgsProduct({{10, 100, 1000}, {32, 128, 512}})->Unit(benchmark::kNanosecond);

} // namespace

BENCHMARK_MAIN();
