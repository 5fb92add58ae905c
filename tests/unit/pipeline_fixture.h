/* A pipeline on its own ring and tracker memory, from a config file's
 * text: what the pipeline's unit tests stand on. */
#ifndef WEIR_TEST_PIPELINE_FIXTURE_H
#define WEIR_TEST_PIPELINE_FIXTURE_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "weir_config.h"
#include "weir_pipeline.h"

struct fixture {
	struct weir_ring *ring;
	struct weir_decoder_table decoders;
	struct weir_pipeline pl;
	struct weir_ring_consumer c;
	bool quit;
	void *seq_region;
};

static inline struct fixture *
pipeline_fixture(const char *text, uint32_t ring_bytes)
{
	/* The counter block inside is cache-line aligned: so must the fixture be. */
	struct fixture *f = aligned_alloc(64, sizeof(*f));
	memset(f, 0, sizeof(*f));
	f->ring = aligned_alloc(64, weir_ring_memsize(ring_bytes));
	weir_ring_init(f->ring, 0, ring_bytes);
	static char err[1024];
	struct weir_config cfg;
	assert_int_equal(weir_config_parse(text, "t.conf", &cfg, err, sizeof(err)), 0);
	weir_decoder_table_build(&f->decoders, &cfg);
	f->seq_region = aligned_alloc(64, (weir_pipeline_memsize(&cfg) + 63) & ~63ull);
	assert_int_equal(weir_pipeline_init(&f->pl, &cfg, 0, f->ring, f->seq_region, &f->decoders, NULL, &f->quit), 0);
	weir_ring_consumer_attach(&f->c, f->ring);
	return f;
}

static inline void
pipeline_fixture_free(struct fixture *f)
{
	free(f->seq_region);
	free(f->ring);
	free(f);
}

#endif
