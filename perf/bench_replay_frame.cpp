// weir-replay's frame from its header template (replay/weir_replay_frame.c), part of bench_stages:
//   taskset -c 1 build/perf/bench_stages --benchmark_filter=BM_replay_frame
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>

extern "C" {
#include "weir_replay_frame.h"
}

namespace {

uint8_t payload[1500], frame[1600];

// A frame of an IPv4 datagram carrying the second argument's bytes: its UDP checksum summed here (first
// argument 0), or left for the NIC to finish from the pseudo-header's sum (1, a port with the offload).
void
BM_replay_frame(benchmark::State &state)
{
	static const uint8_t dst[6] = { 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01 }, src[6] = { 2, 0, 0, 0, 0, 1 };
	union weir_sockaddr from, to;
	weir_endpoint_parse("198.18.0.1:26401", &from);
	weir_endpoint_parse("239.1.1.1:26400", &to);
	struct weir_replay_frame t;
	weir_replay_frame_init(&t, dst, src, &from, &to);
	t.nic_csum = state.range(0) != 0;
	state.SetLabel(t.nic_csum ? "checksum in the NIC" : "checksum summed");
	uint32_t len = (uint32_t)state.range(1);
	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 131 + 7);
	for (auto _ : state) {
		benchmark::DoNotOptimize(weir_replay_frame_build(&t, frame, payload, len));
		benchmark::ClobberMemory();
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_replay_frame)->ArgsProduct({ { 0, 1 }, { 30, 108, 448, 1400 } });

} // namespace
