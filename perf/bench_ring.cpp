// The record ring as a stage of its own: a reservation alone, and the
// records written into it the way the pipeline's usual packet writes them
// (one span for the packet's events, each header a copy of one made for the
// packet).  The write is a stage the pipeline cannot do without: the glue
// figure (the pipeline less its stages) holds it unless it is counted here.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

// The shared headers are C11; their compile-time layout checks read the same in C++.
#define _Static_assert static_assert
extern "C" {
#include "weir_mold_records.h"
#include "weir_moldudp64.h"
#include "weir_ring.h"
}

namespace
{

// A ring of bytes with its producer, and a consumer that takes everything
// without reading it: what leaves only the producer's side measured.
struct Ring {
	weir_ring *ring;
	weir_ring_producer p;
	weir_ring_consumer c;

	explicit Ring(uint64_t bytes)
	{
		ring = static_cast<weir_ring *>(aligned_alloc(64, weir_ring_memsize(bytes)));
		weir_ring_init(ring, 0, bytes);
		weir_ring_producer_attach(&p, ring);
		weir_ring_consumer_attach(&c, ring);
	}
	~Ring() { free(ring); }
	void drain()
	{
		weir_ring_publish(&p, 0);
		c.read = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
		weir_ring_release(&c, 0);
	}
};

void
BM_ring_commit(benchmark::State &state)
{
	Ring q(1u << 24); // the pipeline benchmarks' ring
	uint64_t n = 0;
	for (auto _ : state) {
		weir_record *r = weir_ring_reserve(&q.p, sizeof(weir_record) + 32);
		benchmark::DoNotOptimize(r);
		if ((++n & 1023) == 0)
			q.drain();
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ring_commit);

// A packet of range(1) 8-byte events into a ring of range(0) MiB (16: the
// pipeline benchmarks', 64: the appliance's): its span, and its records
// written by the pipeline's own weir_mold_records.  A pipeline loop's
// frames and a packet's template header stay in L1, as there; the ring's
// lines do not.
void
BM_ring_write(benchmark::State &state)
{
	Ring q((uint64_t)state.range(0) << 20);
	const unsigned events = (unsigned)state.range(1);
	const uint8_t payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t blocks[8 * (2 + sizeof(payload))];
	if (events > 8) {
		state.SkipWithError("8 events a packet at most: the benchmark is wrong");
		return;
	}
	for (unsigned i = 0; i < events; i++)
		weir_mold_put_block(blocks + i * (2 + sizeof(payload)), payload, sizeof(payload));
	weir_record head{};
	head.kind = WEIR_REC_EVENT;
	head.topic = 1;
	memcpy(head.source, "S0000001", 8);
	uint64_t seq = 1, n = 0;
	for (auto _ : state) {
		uint8_t *at = weir_ring_span(&q.p, events * (sizeof(weir_record) + 8 + 7));
		if (at == nullptr) {
			state.SkipWithError("the ring had no room: the benchmark is wrong");
			break;
		}
		uint8_t *end = weir_mold_records(blocks, seq, events, &head, at);
		seq += events;
		weir_ring_span_done(&q.p, (uint64_t)(end - at));
		if ((++n & 255) == 0)
			q.drain();
	}
	benchmark::DoNotOptimize(q.ring->data[0]);
	state.SetItemsProcessed(state.iterations() * events);
}
BENCHMARK(BM_ring_write)->ArgsProduct({ { 16, 64 }, { 1, 8 } });

// BM_ring_write's floor: the same bytes (a packet of range(1) 72-byte
// records, under the same span) stored by memset, nothing computed or read.
// Where the two are level, the write waits on the memory, not on its code.
void
BM_ring_fill(benchmark::State &state)
{
	Ring q((uint64_t)state.range(0) << 20);
	const uint64_t bytes = (uint64_t)state.range(1) * WEIR_ALIGN8(sizeof(weir_record) + 8);
	uint64_t n = 0;
	for (auto _ : state) {
		uint8_t *at = weir_ring_span(&q.p, bytes);
		if (at == nullptr) {
			state.SkipWithError("the ring had no room: the benchmark is wrong");
			break;
		}
		memset(at, (int)n, bytes);
		benchmark::ClobberMemory();
		weir_ring_span_done(&q.p, bytes);
		if ((++n & 255) == 0)
			q.drain();
	}
	benchmark::DoNotOptimize(q.ring->data[0]);
	state.SetItemsProcessed(state.iterations() * state.range(1));
}
BENCHMARK(BM_ring_fill)->ArgsProduct({ { 16, 64 }, { 1, 8 } });

} // namespace
