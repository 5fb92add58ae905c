// Each stage of the pipeline alone, the worker's own C functions unchanged:
// parse, MoldUDP64 decode, sequence tracking over 1 / 1k / 1M sources, the
// whole per-packet pipeline (1 and 8 messages a packet); the ring's
// reservation and records in bench_ring.cpp, the control plane's in
// bench_control.cpp, the checksum's paths in bench_csum.cpp, weir-replay's
// frame in bench_replay_frame.cpp, all one executable.  ns per item; --benchmark_format=json.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <sys/mman.h>

// The shared headers are C11; their compile-time layout checks read the same in C++.
#define _Static_assert static_assert
extern "C" {
#include "weir_moldudp64.h"
#include "weir_headers.h"
#include "weir_parse.h"
#include "weir_pipeline.h"
#include "weir_seq.h"
}

namespace {

// Ethernet + IPv4 + UDP(26400) around a MoldUDP64 packet of n messages of
// len bytes, its UDP checksum set, as weir-gen's traffic has it: the
// pipeline benchmarks pass WEIR_CSUM_UNKNOWN, so the pipeline sums each
// datagram in software, as it does behind net_pcap in perf/appliance.py.
// From 198.18.0.1 to dst (a feed's group), or to 198.18.0.2.
std::vector<uint8_t>
frame(unsigned n, unsigned len, uint64_t seq = 1, const uint8_t *dst = nullptr)
{
	std::vector<uint8_t> f(14 + 20 + 8 + 20 + n * (2 + len));
	uint8_t *p = f.data();
	memset(p, 2, 12);
	weir_put_be16(p + 12, 0x0800);
	static const uint8_t src[4] = {198, 18, 0, 1}, unicast[4] = {198, 18, 0, 2};
	uint16_t udp_len = (uint16_t)(f.size() - 34);
	weir_put_ipv4_header(p + 14, src, dst ? dst : unicast, 0, udp_len);
	uint8_t *udp = p + 34;
	weir_put_udp_header(udp, 40000, 26400, udp_len);
	uint8_t *m = udp + 8;
	uint32_t o = weir_mold_put_header(m, "BENCH", seq, (uint16_t)n);
	std::string msg(len, 'x');
	for (unsigned i = 0; i < n; i++)
		o += weir_mold_put_block(m + o, msg.data(), (uint16_t)len);
	weir_put_be16(udp + 6, weir_udp_csum(p + 14, 4, udp, udp_len));
	return f;
}

// Frames the loops renumber keep a good UDP checksum without being summed
// again: RFC 1624's update, HC' = ~(~HC + ~m + m'), in native words as
// weir_csum_partial adds them.  The field is read once and written once a
// frame (read back right after its store, it cost the loop about 9 ns a frame).
//
// Eight bytes at an even offset of the datagram replaced, their change
// added to sum.
uint64_t
replace8(uint8_t *f, unsigned off, const uint8_t *to, uint64_t sum)
{
	uint64_t was;
	memcpy(&was, f + off, 8);
	was = ~was; /* each word's ones'-complement negation */
	sum = weir_csum_partial(to, 8, weir_csum_partial(reinterpret_cast<const uint8_t *>(&was), 8, sum));
	memcpy(f + off, to, 8);
	return sum;
}

// A MoldUDP64 frame given its next sequence number and, where key is not
// NULL, the first eight bytes of its session.
void
renumber(uint8_t *f, uint64_t seq, const uint8_t *key = nullptr)
{
	uint16_t hc;
	memcpy(&hc, f + 40, 2);
	uint64_t sum = (uint16_t)~hc;
	uint8_t be[8];
	weir_put_be64(be, seq);
	if (key)
		sum = replace8(f, 42, key, sum);
	uint16_t c = weir_csum_finish(replace8(f, 42 + 10, be, sum));
	weir_put_be16(f + 40, c ? c : 0xFFFF); /* 0 would say "no checksum" */
}

// Arg 0: the UDP checksum field 0 (none, over IPv4); 1: set, checked in
// software since the NIC said nothing (net_pcap, af_packet).
void
BM_parse(benchmark::State &state)
{
	auto f = frame(1, 20);
	if (!state.range(0))
		weir_put_be16(f.data() + 40, 0);
	weir_udp_view v;
	unsigned reason;
	for (auto _ : state) {
		auto r = weir_parse_udp(f.data(), (uint32_t)f.size(), WEIR_CSUM_UNKNOWN, WEIR_CSUM_UNKNOWN, &v, &reason);
		benchmark::DoNotOptimize(r);
		benchmark::DoNotOptimize(v.payload);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_parse)->Arg(0)->Arg(1);

void
BM_mold_decode(benchmark::State &state)
{
	auto f = frame((unsigned)state.range(0), 24);
	weir_mold_packet m;
	for (auto _ : state) {
		unsigned r = weir_mold_decode(f.data() + 42, (uint32_t)f.size() - 42, &m);
		benchmark::DoNotOptimize(r);
	}
	state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_mold_decode)->Arg(1)->Arg(8);

struct Pipeline {
	weir_config cfg;
	weir_ring *ring;
	void *region;
	weir_decoder_table decoders;
	weir_pipeline *pl;
	weir_ring_consumer c;
	bool quit = false;

	explicit Pipeline(uint32_t sources, const char *more_config = "")
	{
		static char err[4096];
		std::string conf = std::string("set corelist 1\nlog dir /tmp/x\ndecoder moldudp64 udp-port 26400 topic itch\n") +
				   more_config;
		if (weir_config_parse(conf.c_str(), "bench.conf", &cfg, err, sizeof(err)) != 0)
			fprintf(stderr, "bench: %s\n", err);
		cfg.seq.max_sources = sources;
		cfg.seq.max_gaps = 1024;
		ring = static_cast<weir_ring *>(aligned_alloc(64, weir_ring_memsize(1u << 24)));
		weir_ring_init(ring, 0, 1u << 24);
		// The dataplane's region is in hugepages: so is this one (THP), or
		// 1M sources would measure page walks, not the tracker.
		size_t bytes = (weir_pipeline_memsize(&cfg) + (2u << 20) - 1) & ~((size_t)(2u << 20) - 1);
		region = aligned_alloc(2u << 20, bytes);
		madvise(region, bytes, MADV_HUGEPAGE);
		weir_decoder_table_build(&decoders, &cfg);
		pl = static_cast<weir_pipeline *>(aligned_alloc(64, sizeof(weir_pipeline)));
		weir_pipeline_init(pl, &cfg, 0, ring, region, &decoders, nullptr, &quit);
		weir_ring_consumer_attach(&c, ring);
	}
	~Pipeline()
	{
		free(pl);
		free(region);
		free(ring);
	}
	// What the consumer would do: take everything and release it.
	void drain()
	{
		weir_ring_publish(&pl->ring, 0);
		c.read = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
		weir_ring_release(&c, 0);
	}
};

void
BM_seq_track(benchmark::State &state)
{
	const uint32_t n = (uint32_t)state.range(0);
	Pipeline p(n);
	std::vector<std::array<uint8_t, 16>> keys(n);
	for (uint32_t i = 0; i < n; i++) {
		keys[i].fill(0);
		snprintf(reinterpret_cast<char *>(keys[i].data()), 16, "S%07u", i);
	}
	// In C++ the struct and the function share a name: "struct" says which.
	weir_seq_origin origin{};
	origin.topic = 1;
	for (uint32_t i = 0; i < n; i++)
		weir_seq_source(&p.pl->seq, keys[i].data(), &origin, 0);
	// Sources visited in a scattered order, each event the next of its source.
	uint64_t seq = 1;
	uint32_t stride = n > 1 ? 2654435761u % n | 1 : 1, at = 0;
	for (auto _ : state) {
		at = (at + stride) % n;
		struct weir_seq_source *s = weir_seq_source(&p.pl->seq, keys[at].data(), &origin, 0);
		auto cls = weir_seq_event(&p.pl->seq, s, s->next_seq ? s->next_seq : seq, 0);
		benchmark::DoNotOptimize(cls);
	}
	state.SetItemsProcessed(state.iterations());
	state.SetLabel(std::to_string(n) + " sources");
}
BENCHMARK(BM_seq_track)->Arg(1)->Arg(1000)->Arg(1000000);

// A frame given source k's session name ("S" and k's bytes, in the first
// eight of its ten) and sequence number seq: made from k alone, so the loop
// reads no table of names that grows with the sources.
static void
renumber_source(uint8_t *f, uint32_t k, uint64_t seq)
{
	uint64_t v = 'S' | (uint64_t)k << 8;
	renumber(f, seq, reinterpret_cast<const uint8_t *>(&v));
}

// The whole pipeline over bursts of 32 packets from sources scattered over
// N, data in cache (a NIC put it there).  Mode 0: a packet at a time
// (weir_pipeline_packet, no prefetch); 1: the burst stage by stage, as the
// worker runs it (weir_pipeline_burst, which fetches every packet's source
// slot a stage ahead once the table outgrows L2).  ns per packet (1 event).
// The stride is prime to N, so every round visits each source once and its
// next sequence number is the round's: the loop's own work (a session name
// and a number written into a frame in L1, its checksum brought along;
// BM_renumber/2) is the same for 1 source as for a million, and nothing is
// paused (a pause cost more than the packets).
void
BM_pipeline_sources(benchmark::State &state)
{
	const uint32_t n = (uint32_t)state.range(0);
	const bool staged = state.range(1) != 0;
	const unsigned burst = 32;
	Pipeline p(n);
	std::vector<std::vector<uint8_t>> f(burst);
	for (auto &x : f)
		x = frame(1, 8);
	auto in = std::make_unique<weir_burst_in>();
	for (unsigned i = 0; i < burst; i++) {
		in->frame[i] = f[i].data();
		in->len[i] = in->wire_len[i] = (uint32_t)f[i].size();
		in->ip_csum[i] = in->l4_csum[i] = WEIR_CSUM_UNKNOWN;
	}
	uint32_t stride = n > 1 ? 2654435761u % n | 1 : 1;
	while (n > 1 && std::__gcd(stride, n) != 1)
		stride += 2;
	// Every source seen once first (sequence 1): what is timed is lookups,
	// not insertions.
	for (uint32_t k = 0; k < n; k++) {
		renumber_source(f[0].data(), k, 1);
		weir_pipeline_packet(p.pl, f[0].data(), (uint32_t)f[0].size(), WEIR_CSUM_UNKNOWN, WEIR_CSUM_UNKNOWN, 0, 0);
		if ((k & 1023) == 0)
			p.drain();
	}
	p.drain();
	uint64_t packets = 0;
	uint32_t at = 0;
	for (auto _ : state) {
		for (unsigned i = 0; i < burst; i++) {
			at = at + stride >= n ? at + stride - n : at + stride;
			renumber_source(f[i].data(), at, 2 + (packets + i) / n);
		}
		if ((packets & 1023) < burst)
			p.drain();
		if (staged)
			weir_pipeline_burst(p.pl, in.get(), burst, 0, 0);
		else
			for (unsigned i = 0; i < burst; i++)
				weir_pipeline_packet(p.pl, f[i].data(), (uint32_t)f[i].size(), WEIR_CSUM_UNKNOWN,
						     WEIR_CSUM_UNKNOWN, 0, 0);
		packets += burst;
	}
	state.SetItemsProcessed((int64_t)packets);
	state.SetLabel(std::to_string(n) + " sources, " + (staged ? "staged burst" : "a packet at a time"));
	if (p.pl->c.ring_full_packets || p.pl->c.seq_duplicates || p.pl->c.seq_untracked || p.pl->c.seq_ahead ||
	    p.pl->c.event_records != n + packets)
		state.SkipWithError("ring full, duplicates, gaps, untracked sources or events not recorded: "
				    "the benchmark is wrong");
}
BENCHMARK(BM_pipeline_sources)->ArgsProduct({{1, 1000, 1000000}, {0, 1}});

// The machine's floor under pipeline_sources: one 64-byte slot a packet of
// a table as big as the tracker's (twice N slots, in huge pages), visited
// in the same scattered order, prefetched as far ahead, one word read and
// written; nothing else.  What it costs over N = 1 is what a million
// sources must cost the pipeline at the least, whatever its table.
void
BM_random_line(benchmark::State &state)
{
	const uint32_t n = (uint32_t)state.range(0), ahead = (uint32_t)state.range(1);
	uint32_t slots = 1;
	while (slots < 2 * n)
		slots <<= 1;
	size_t bytes = ((size_t)slots * 64 + (2u << 20) - 1) & ~((size_t)(2u << 20) - 1);
	auto *t = static_cast<uint64_t *>(aligned_alloc(2u << 20, bytes));
	madvise(t, bytes, MADV_HUGEPAGE);
	memset(t, 0, bytes);
	uint32_t stride = n > 1 ? 2654435761u % n | 1 : 1;
	while (n > 1 && std::__gcd(stride, n) != 1)
		stride += 2;
	auto slot = [&](uint32_t k) { return (uint32_t)(((uint64_t)k * 0x9E3779B97F4A7C15ull) >> 20) & (slots - 1); };
	uint32_t at = 0, idx[32];
	for (auto _ : state) {
		for (unsigned i = 0; i < 32; i++) {
			at = at + stride >= n ? at + stride - n : at + stride;
			idx[i] = slot(at);
		}
		for (unsigned i = 0; i < ahead && i < 32; i++)
			__builtin_prefetch(&t[idx[i] * 8], 1);
		for (unsigned i = 0; i < 32; i++) {
			if (ahead && i + ahead < 32)
				__builtin_prefetch(&t[idx[i + ahead] * 8], 1);
			t[idx[i] * 8]++;
		}
	}
	benchmark::DoNotOptimize(t[0]);
	state.SetItemsProcessed((int64_t)state.iterations() * 32);
	state.SetLabel(std::to_string(n) + " slots, prefetch " + (ahead ? std::to_string(ahead) + " ahead" : "off"));
	free(t);
}
BENCHMARK(BM_random_line)->Args({1, 0})->Args({1000000, 0})->Args({1000000, 2})->Args({1000000, 8})
	->Args({1000000, 32});

// The pipeline loops' own work: 32 frames a burst given their next
// sequence number (Arg 1, as BM_pipeline_packet and _burst do) or a session
// and a sequence number (Arg 2, as BM_pipeline_sources does), checksums kept
// good, no pipeline.  ns per packet: what those loops' figures hold besides
// the pipeline.
void
BM_renumber(benchmark::State &state)
{
	const bool session = state.range(0) == 2;
	std::vector<std::vector<uint8_t>> f(32);
	for (auto &x : f)
		x = frame(1, 8);
	uint64_t seq = 1;
	uint32_t at = 0;
	for (auto _ : state) {
		for (unsigned i = 0; i < 32; i++, seq++) {
			if (session)
				renumber_source(f[i].data(), at++, seq);
			else
				renumber(f[i].data(), seq);
		}
		benchmark::ClobberMemory();
	}
	state.SetItemsProcessed((int64_t)state.iterations() * 32);
}
BENCHMARK(BM_renumber)->Arg(1)->Arg(2);

void
BM_pipeline_packet(benchmark::State &state)
{
	const unsigned msgs = (unsigned)state.range(0);
	Pipeline p(1024);
	uint64_t seq = 1;
	std::vector<uint8_t> f = frame(msgs, 24, seq);
	uint64_t n = 0;
	for (auto _ : state) {
		renumber(f.data(), seq); // the next sequence each time: no duplicates
		weir_pipeline_packet(p.pl, f.data(), (uint32_t)f.size(), WEIR_CSUM_UNKNOWN, WEIR_CSUM_UNKNOWN, 0, 0);
		seq += msgs;
		if ((++n & 1023) == 0)
			p.drain();
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["events_per_s"] = benchmark::Counter((double)state.iterations() * msgs, benchmark::Counter::kIsRate);
	if (p.pl->c.ring_full_packets)
		state.SkipWithError("the ring filled: the benchmark drained too late");
	else if (p.pl->c.event_records != n * msgs)
		state.SkipWithError("events not recorded (a bad checksum?): the benchmark is wrong");
}
BENCHMARK(BM_pipeline_packet)->Arg(1)->Arg(8);

// The same packets 32 at a time through the burst's stages, as the worker
// runs them (weir_pipeline_burst): ns per packet, beside BM_pipeline_packet.
void
BM_pipeline_burst(benchmark::State &state)
{
	const unsigned msgs = (unsigned)state.range(0), burst = 32;
	Pipeline p(1024);
	uint64_t seq = 1;
	std::vector<std::vector<uint8_t>> f(burst);
	auto in = std::make_unique<weir_burst_in>();
	for (unsigned i = 0; i < burst; i++) {
		f[i] = frame(msgs, 24, seq);
		in->frame[i] = f[i].data();
		in->len[i] = in->wire_len[i] = (uint32_t)f[i].size();
		in->ip_csum[i] = in->l4_csum[i] = WEIR_CSUM_UNKNOWN;
	}
	uint64_t n = 0;
	for (auto _ : state) {
		for (unsigned i = 0; i < burst; i++, seq += msgs)
			renumber(f[i].data(), seq); // the next sequence each time: no duplicates
		weir_pipeline_burst(p.pl, in.get(), burst, 0, 0);
		if ((++n & 31) == 0)
			p.drain();
	}
	state.SetItemsProcessed(state.iterations() * burst);
	state.counters["events_per_s"] =
		benchmark::Counter((double)state.iterations() * burst * msgs, benchmark::Counter::kIsRate);
	if (p.pl->c.ring_full_packets)
		state.SkipWithError("the ring filled: the benchmark drained too late");
	else if (p.pl->c.event_records != n * burst * msgs)
		state.SkipWithError("events not recorded (a bad checksum?): the benchmark is wrong");
}
BENCHMARK(BM_pipeline_burst)->Arg(1)->Arg(8);

// A feed on an A and a B line (two groups): Arg(0) 0: every packet comes
// on line a only (first copies); 1: then again on line b (its second
// copy); 2: no feed configured, unicast (what lines add to a first copy).
// ns per packet pair: the second copy costs /1 minus /0.  UDP checksums
// set, checked in software (no NIC said).  Arg(1): messages.
void
BM_pipeline_ab(benchmark::State &state)
{
	const bool with_b = state.range(0) == 1, no_lines = state.range(0) == 2;
	const unsigned msgs = (unsigned)state.range(1), batch = 1024;
	Pipeline p(1024, no_lines ? "" : "feed itch line a port 0 group 239.1.1.1 udp-port 26400\n"
					 "feed itch line b port 0 group 239.1.1.2 udp-port 26400\n");
	static const uint8_t gb[4] = {239, 1, 1, 2};
	const uint8_t ga[4] = {no_lines ? (uint8_t)198 : (uint8_t)239, no_lines ? (uint8_t)18 : (uint8_t)1, 1, 1};
	std::vector<std::vector<uint8_t>> a(batch), b(batch);
	uint64_t seq = 1, n = 0;
	// A batch of packet pairs with the next sequences, made (and drained) off the clock.
	auto refill = [&]() {
		for (unsigned i = 0; i < batch; i++, seq += msgs)
			for (auto *f : {&a[i], &b[i]})
				*f = frame(msgs, 24, seq, f == &a[i] ? ga : gb);
		p.drain();
	};
	refill();
	unsigned i = 0;
	for (auto _ : state) {
		if (i == batch) {
			state.PauseTiming();
			refill();
			i = 0;
			state.ResumeTiming();
		}
		weir_pipeline_packet(p.pl, a[i].data(), (uint32_t)a[i].size(), WEIR_CSUM_UNKNOWN, WEIR_CSUM_UNKNOWN, 0, 0);
		if (with_b)
			weir_pipeline_packet(p.pl, b[i].data(), (uint32_t)b[i].size(), WEIR_CSUM_UNKNOWN, WEIR_CSUM_UNKNOWN,
					     0, 0);
		i++;
		n++;
	}
	state.SetItemsProcessed(state.iterations());
	state.SetLabel(no_lines ? "one line, no feed configured" : with_b ? "a then b" : "a only");
	if (p.pl->c.ring_full_packets || p.pl->c.seq_duplicates || p.pl->c.event_records != n * msgs)
		state.SkipWithError("ring full, duplicates or events lost: the benchmark is wrong");
}
BENCHMARK(BM_pipeline_ab)->Args({2, 1})->Args({0, 1})->Args({1, 1})->Args({2, 8})->Args({0, 8})->Args({1, 8});

} // namespace

// A call perf/instructions.py can count: inlined into BM_pipeline_ab_burst,
// weir_pipeline_burst's instructions were the benchmark's own.
extern "C" __attribute__((noinline)) void
bench_ab_burst(weir_pipeline *pl, const weir_burst_in *in, unsigned n)
{
	weir_pipeline_burst(pl, in, n, 0, 0);
}

namespace
{

// The same through the burst's stages, 32 packets a burst (a, or a and b
// taking turns): ns per packet pair (per a packet with Arg(0) 0 or 2).
void
BM_pipeline_ab_burst(benchmark::State &state)
{
	const bool with_b = state.range(0) == 1, no_lines = state.range(0) == 2;
	const unsigned msgs = 1, pairs = with_b ? 16 : 32, batch = 1024;
	Pipeline p(1024, no_lines ? "" : "feed itch line a port 0 group 239.1.1.1 udp-port 26400\n"
					 "feed itch line b port 0 group 239.1.1.2 udp-port 26400\n");
	static const uint8_t gb[4] = {239, 1, 1, 2};
	const uint8_t ga[4] = {no_lines ? (uint8_t)198 : (uint8_t)239, no_lines ? (uint8_t)18 : (uint8_t)1, 1, 1};
	std::vector<std::vector<uint8_t>> f(2 * batch);
	auto in = std::make_unique<weir_burst_in>();
	uint64_t seq = 1, n = 0;
	auto refill = [&]() {
		for (unsigned i = 0; i < batch; i++, seq += msgs)
			for (unsigned k = 0; k < 2; k++)
				f[2 * i + k] = frame(msgs, 24, seq, k == 0 ? ga : gb);
		p.drain();
	};
	refill();
	unsigned i = 0;
	for (auto _ : state) {
		if (i + pairs > batch) {
			state.PauseTiming();
			refill();
			i = 0;
			state.ResumeTiming();
		}
		unsigned k = 0;
		for (unsigned j = 0; j < pairs; j++)
			for (unsigned c = 0; c < (with_b ? 2u : 1u); c++, k++) {
				const std::vector<uint8_t> &x = f[2 * (i + j) + c];
				in->frame[k] = x.data();
				in->len[k] = in->wire_len[k] = (uint32_t)x.size();
				in->ip_csum[k] = in->l4_csum[k] = WEIR_CSUM_UNKNOWN;
			}
		bench_ab_burst(p.pl, in.get(), k);
		i += pairs;
		n += pairs;
	}
	state.SetItemsProcessed((int64_t)n);
	state.SetLabel(no_lines ? "one line, no feed configured" : with_b ? "a then b" : "a only");
	if (p.pl->c.ring_full_packets || p.pl->c.seq_duplicates || p.pl->c.event_records != n * msgs)
		state.SkipWithError("ring full, duplicates or events lost: the benchmark is wrong");
}
BENCHMARK(BM_pipeline_ab_burst)->Arg(2)->Arg(0)->Arg(1);

} // namespace

BENCHMARK_MAIN();
