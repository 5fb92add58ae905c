// The checksum's sum on each of its paths (wire/weir_csum_paths.c), part of bench_stages:
//   taskset -c 1 build/perf/bench_stages --benchmark_filter=BM_csum
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>

extern "C" {
#include "weir_csum.h"
#include "weir_csum_paths.h"
}

namespace {

uint8_t bytes[2048], to[2048];

// The path the first argument names (0 the widest this CPU runs, the last scalar; -1 the base, labelled
// base_label), the bytes filled; nullptr for the base.  A path this CPU lacks skips the benchmark: Google
// Benchmark then never enters its loop.
const weir_csum_path *
path_of(benchmark::State &state, const char *base_label)
{
	for (unsigned i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 131 + 7);
	const struct weir_csum_path *paths[8];
	unsigned n = weir_csum_paths_runnable(paths);
	long which = state.range(0);
	if (which >= (long)n)
		state.SkipWithError("no such path on this CPU");
	const weir_csum_path *p = which >= 0 && which < (long)n ? paths[which] : nullptr;
	state.SetLabel(p ? p->name : base_label);
	return p;
}

// The bytes' sum on path p, copied to `to` on the way where copy; p null: the base (the inline sum, after
// a memcpy where copy).  Each finished sum feeds the next one's start, as a packet's parse waits on its own.
void
run_sums(benchmark::State &state, const weir_csum_path *p, bool copy)
{
	uint32_t len = (uint32_t)state.range(1);
	uint64_t start = 17;
	for (auto _ : state) {
		uint64_t sum;
		if (p) {
			sum = copy ? p->copy(to, bytes, len, start) : p->sum(bytes, len, start);
		} else {
			if (copy)
				memcpy(to, bytes, len);
			sum = weir_csum_partial(bytes, len, start);
		}
		uint16_t c = weir_csum_finish(sum);
		benchmark::DoNotOptimize(c);
		benchmark::ClobberMemory();
		start = c & 1;
	}
	state.SetItemsProcessed(state.iterations());
}

// A datagram's checksum sum, finished, on each path this CPU runs (weir_csum_paths.h), against the inline
// scalar sum the parse had before them (path -1); the datagram's bytes as the second argument: a 72-byte
// frame's 38, an 8-event packet's 108, 448, 1400.
void
BM_csum(benchmark::State &state)
{
	run_sums(state, path_of(state, "inline scalar"), false);
}
BENCHMARK(BM_csum)->ArgsProduct({ { -1, 0, 1, 2 }, { 38, 108, 160, 256, 448, 1400 } });

// The same with the bytes copied on the way (weir-replay's payload into its frame): path -1 is memcpy and
// the inline sum; 30 bytes is a one-event packet of an 8-byte message.
void
BM_csum_copy(benchmark::State &state)
{
	run_sums(state, path_of(state, "memcpy, inline scalar"), true);
}
BENCHMARK(BM_csum_copy)->ArgsProduct({ { -1, 0, 1, 2 }, { 30, 108, 448, 1400 } });

} // namespace
