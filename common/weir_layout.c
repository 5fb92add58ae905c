#include <stdio.h>
#include <string.h>

#include "weir_shared.h"

const char *const weir_counter_names[WEIR_CTR_MAX] = {
#define WEIR_COUNTER(name, help) #name,
#define WEIR_GAUGE WEIR_COUNTER
#define WEIR_COUNTER_NS WEIR_COUNTER
#include "weir_counters.def"
#undef WEIR_COUNTER_NS
#undef WEIR_GAUGE
#undef WEIR_COUNTER
};
const char *const weir_counter_help[WEIR_CTR_MAX] = {
#define WEIR_COUNTER(name, help) help,
#define WEIR_GAUGE WEIR_COUNTER
#define WEIR_COUNTER_NS WEIR_COUNTER
#include "weir_counters.def"
#undef WEIR_COUNTER_NS
#undef WEIR_GAUGE
#undef WEIR_COUNTER
};
const bool weir_counter_is_gauge[WEIR_CTR_MAX] = {
#define WEIR_COUNTER(name, help) false,
#define WEIR_GAUGE(name, help) true,
#define WEIR_COUNTER_NS WEIR_COUNTER
#include "weir_counters.def"
#undef WEIR_COUNTER_NS
#undef WEIR_GAUGE
#undef WEIR_COUNTER
};
const bool weir_counter_is_ns[WEIR_CTR_MAX] = {
#define WEIR_COUNTER(name, help) false,
#define WEIR_GAUGE WEIR_COUNTER
#define WEIR_COUNTER_NS(name, help) true,
#include "weir_counters.def"
#undef WEIR_COUNTER_NS
#undef WEIR_GAUGE
#undef WEIR_COUNTER
};
const char *const weir_dead_letter_names[WEIR_DL_MAX] = {
	"none",
#define WEIR_DEAD_LETTER(name, help) #name,
#include "weir_dead_letter.def"
#undef WEIR_DEAD_LETTER
};
const char *const weir_dead_letter_help[WEIR_DL_MAX] = {
	"not a dead letter",
#define WEIR_DEAD_LETTER(name, help) help,
#include "weir_dead_letter.def"
#undef WEIR_DEAD_LETTER
};

/* The counter block is read as an array of u64 by index. */
_Static_assert(offsetof(struct weir_worker_counters, dead_letter) == WEIR_CTR_MAX * sizeof(uint64_t),
	       "counters.def fields are all u64, in order");

const char *
weir_record_kind_name(unsigned kind)
{
	static const char *const names[WEIR_REC_KIND_MAX] = {
		[WEIR_REC_PAD] = "pad", [WEIR_REC_EVENT] = "event", [WEIR_REC_LOSS] = "loss",
		[WEIR_REC_HEARTBEAT] = "heartbeat", [WEIR_REC_END_OF_SESSION] = "end_of_session",
		[WEIR_REC_DEAD_LETTER] = "dead_letter",
	};
	return kind < WEIR_REC_KIND_MAX ? names[kind] : "unknown";
}

void
weir_source_format(const uint8_t key[WEIR_SOURCE_BYTES], char *out, size_t len)
{
	if (key[0] == 0xFF && key[1] == 'W' && key[2] == 'F') {
		uint64_t id = 0;
		for (unsigned i = 8; i < 16; i++)
			id = id << 8 | key[i];
		if (key[3] | key[4] | key[5] | key[6])
			snprintf(out, len, "wf:%llu@%u.%u.%u.%u", (unsigned long long)id, key[3], key[4], key[5], key[6]);
		else
			snprintf(out, len, "wf:%llu", (unsigned long long)id);
		return;
	}
	/* A MoldUDP64 session: 10 bytes, then the sender when keys are qualified. */
	unsigned n = 10, o = 0;
	while (n && (key[n - 1] == 0 || key[n - 1] == ' '))
		n--;
	for (unsigned i = 0; i < n && o + 1 < len; i++)
		out[o++] = key[i] >= 0x20 && key[i] < 0x7f && key[i] != '"' && key[i] != '\\' ? (char)key[i] : '?';
	out[o] = 0;
	if (key[10] | key[11] | key[12] | key[13] | key[14] | key[15])
		snprintf(out + o, len - o, "@%u.%u.%u.%u:%u", key[10], key[11], key[12], key[13],
			 (unsigned)(key[14] << 8 | key[15]));
}

const char *
weir_state_name(unsigned state)
{
	static const char *const names[] = { "starting", "running", "draining", "stopped" };
	return state < 4 ? names[state] : "unknown";
}

void
weir_counters_sum(const struct weir_worker_counters *blocks, unsigned n, struct weir_worker_counters *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t *o = (uint64_t *)out;
	for (unsigned w = 0; w < n; w++) {
		const uint64_t *b = (const uint64_t *)&blocks[w];
		for (size_t i = 0; i < sizeof(*out) / 8; i++) /* counters, reasons, histogram buckets: all u64 sums */
			o[i] += __atomic_load_n(&b[i], __ATOMIC_RELAXED);
	}
}

int64_t
weir_counters_identity_gap(const struct weir_worker_counters *c)
{
	return (int64_t)(c->rx_packets -
			 (c->accepted_packets + c->filtered_packets + c->dead_letter_packets + c->ring_full_packets));
}

int64_t
weir_counters_message_identity_gap(const struct weir_worker_counters *c)
{
	return (int64_t)(c->messages - (c->event_records + c->seq_duplicates + c->seq_table_full_drops +
					 c->ring_full_messages + c->reorder_holding + c->rule_drops));
}

void
weir_ring_init(struct weir_ring *r, uint32_t worker_id, uint64_t data_bytes)
{
	memset(r, 0, sizeof(*r));
	r->magic = WEIR_RING_MAGIC;
	r->worker_id = worker_id;
	r->size_bytes = data_bytes;
	r->mask = data_bytes - 1;
	/* Readers wait for a non-zero version: everything above is in place. */
	__atomic_store_n(&r->version, WEIR_RING_VERSION, __ATOMIC_RELEASE);
}

int
weir_ring_check(const struct weir_ring *r, const char **why)
{
	uint32_t v = __atomic_load_n(&r->version, __ATOMIC_ACQUIRE);
	if (r->magic != WEIR_RING_MAGIC) {
		*why = "not a weir record ring (bad magic)";
		return -1;
	}
	if (v != WEIR_RING_VERSION) {
		*why = v == 0 ? "ring not initialised yet" : "ring layout version differs from this build";
		return -1;
	}
	if (r->size_bytes < WEIR_RING_MIN_BYTES || (r->size_bytes & r->mask) != 0) {
		*why = "ring size is not a power of two";
		return -1;
	}
	return 0;
}

