/* libFuzzer: arbitrary frames through the worker's own pipeline (parse,
 * MoldUDP64 and weir frame decoders, the burst scan and its parse, sequence
 * tracker, match, commit).  Whatever the bytes, no crash, no read past the
 * frame, and the identities hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weir_pipeline.h"

static struct weir_pipeline *pl;
static struct weir_decoder_table decoders;
static struct weir_ring *ring;
static struct weir_ring_consumer cons;
static bool quit = true; /* never wait for room */
static struct weir_ruleset *rules;
static struct weir_rule_counter rule_counters[WEIR_RULE_SLOTS];

static void
setup(void)
{
	static struct weir_config cfg;
	static char err[1024];
	weir_config_parse("set corelist 1\nlog dir /tmp/x\ndecoder moldudp64 udp-port 26400 topic itch\n"
			  "decoder weirframe udp-port 27000 topic frames\nframe-topic 1 t1\n"
			  "sequence sources 64\nsequence gaps 64\nsequence reorder-window 8 1ms\nsequence reorder-slots 32\n",
			  "fuzz.conf", &cfg, err, sizeof(err));
	cfg.dead_letter_keep_bytes = 128;
	ring = aligned_alloc(64, weir_ring_memsize(1 << 20));
	weir_ring_init(ring, 0, 1 << 20);
	weir_decoder_table_build(&decoders, &cfg);
	pl = aligned_alloc(64, sizeof(*pl));
	void *region = aligned_alloc(64, (weir_pipeline_memsize(&cfg) + 63) & ~63ull);
	weir_pipeline_init(pl, &cfg, 0, ring, region, &decoders, NULL, &quit);
	weir_ring_consumer_attach(&cons, ring);
	/* Rules the burst scan takes (anchored, relaxed) and one it cannot. */
	char path[64];
	snprintf(path, sizeof(path), "/tmp/weir-fuzz-rules-%d.txt", getpid());
	FILE *f = fopen(path, "w");
	fputs("1 tag - /^AB/\n2 drop caseless /x[0-9]+y$/\n3 route:t1 - /\\bHALT/\n4 alert utf8 /zz/\n", f);
	fclose(f);
	rules = weir_rules_load(path, &cfg, 1, err, sizeof(err));
	unlink(path);
	if (rules == NULL || rules->burst_db == NULL)
		abort();
	for (uint32_t i = 0; i < rules->n_rules; i++)
		rules->rules[i].counter_slot = i;
	weir_pipeline_use_rules(pl, &rules, rule_counters);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (pl == NULL)
		setup();
	if (size > 9216)
		return 0;
	/* An exact-size copy: ASan sees any read beyond the frame. */
	uint8_t *frame = malloc(size ? size : 1);
	memcpy(frame, data, size);
	static uint64_t now;
	now += 50000;
	static struct weir_burst_in in; /* the worker's way: the burst's stages */
	in.frame[0] = frame;
	in.len[0] = in.wire_len[0] = (uint32_t)size;
	in.ip_csum[0] = in.l4_csum[0] = WEIR_CSUM_UNKNOWN;
	weir_pipeline_burst(pl, &in, 1, 0, now);
	weir_pipeline_tick(pl, now);
	free(frame);
	weir_ring_publish(&pl->ring, now);
	uint64_t pos;
	const struct weir_record *r;
	while ((r = weir_ring_peek(&cons, &pos)) != NULL) {
		if (r->kind >= WEIR_REC_KIND_MAX || r->len_bytes < sizeof(*r))
			abort();
		weir_ring_consumed(&cons, r);
	}
	weir_ring_release(&cons, now);
	if (weir_counters_identity_gap(&pl->c) != 0 || weir_counters_message_identity_gap(&pl->c) != 0)
		abort();
	return 0;
}
