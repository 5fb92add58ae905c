/*
 * The record ring: one per worker, single producer (the worker lcore), single
 * consumer (weir-control), variable-length 8-byte-aligned records in shared
 * memory (a file on hugetlbfs, or in /dev/shm under --no-huge).
 *
 * Positions are free-running 64-bit byte counts; offset = pos & mask.  The
 * producer publishes tail once per burst (release); the consumer publishes
 * head only once the records it passed are durable (release).  A record never
 * straddles the end: the producer fills the rest with a PAD record.
 */
#ifndef WEIR_RING_H
#define WEIR_RING_H

#include <stdint.h>
#include <stdbool.h>
#include <string.h>

#include "weir_record.h"

#define WEIR_RING_MAGIC 0x474e495252494557ull /* "WEIRRING" */
#define WEIR_RING_VERSION 1u
#define WEIR_RING_MIN_BYTES (64u * 1024u)
#define WEIR_CACHE_LINE 64

struct weir_ring {
	/* Line 0: written once by the producer at creation, version last. */
	uint64_t magic;
	uint32_t version;
	uint32_t worker_id;
	uint64_t size_bytes;         /* data area, a power of two */
	uint64_t mask;
	uint8_t pad0[WEIR_CACHE_LINE - 32];

	/* Line 1: producer (worker lcore) only. */
	uint64_t tail;
	uint64_t producer_heartbeat_ns;
	uint8_t pad1[WEIR_CACHE_LINE - 16];

	/* Line 2: consumer (weir-control) only. */
	uint64_t head;
	uint64_t consumer_heartbeat_ns;
	uint64_t consumer_pid;
	uint8_t pad2[WEIR_CACHE_LINE - 24];

	uint8_t data[] __attribute__((aligned(WEIR_CACHE_LINE)));
};
_Static_assert(sizeof(struct weir_ring) == 3 * WEIR_CACHE_LINE, "ring header is three lines");

static inline uint64_t
weir_ring_memsize(uint64_t data_bytes)
{
	return sizeof(struct weir_ring) + data_bytes;
}

/* Bytes published and not yet released (durable): the consumer's lag,
 * read from either side or a third process. */
static inline uint64_t
weir_ring_unreleased(const struct weir_ring *r)
{
	return __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) - __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
}

/* Producer: called once on fresh memory; the version is stored last. */
void weir_ring_init(struct weir_ring *r, uint32_t worker_id, uint64_t data_bytes);
/* Consumer: 0 when r is a ring of this version, else -1 with a reason. */
int weir_ring_check(const struct weir_ring *r, const char **why);

/* The producer's private cursor: lives in the worker's own struct. */
struct weir_ring_producer {
	struct weir_ring *ring;
	uint64_t tail;               /* next write position, published or not */
	uint64_t head_cache;         /* last head read from the consumer's line */
	uint64_t mask;
	uint64_t size_bytes;
};

static inline void
weir_ring_producer_attach(struct weir_ring_producer *p, struct weir_ring *r)
{
	p->ring = r;
	p->tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	p->head_cache = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	p->mask = r->mask;
	p->size_bytes = r->size_bytes;
}

/* Free bytes, re-reading the consumer's head only when the cached one says
 * there is too little: the consumer's line is touched once per fill, not
 * once per record. */
static inline uint64_t
weir_ring_free_bytes(struct weir_ring_producer *p, uint64_t want)
{
	uint64_t free_bytes = p->size_bytes - (p->tail - p->head_cache);
	if (free_bytes < want) {
		/* Pairs with the consumer's release store of head. */
		p->head_cache = __atomic_load_n(&p->ring->head, __ATOMIC_ACQUIRE);
		free_bytes = p->size_bytes - (p->tail - p->head_cache);
	}
	return free_bytes;
}

/*
 * Room for up to max bytes of records written back to back (a packet's
 * events under one reservation): contiguous space, the ring's end padded
 * first where they might not fit before it; NULL when the ring has not that
 * room.  The caller writes its records there, then weir_ring_span_done()
 * with the bytes it used (at most max).
 */
static inline uint8_t *
weir_ring_span(struct weir_ring_producer *p, uint64_t max)
{
	uint64_t off = p->tail & p->mask;
	uint64_t to_end = p->size_bytes - off;
	uint64_t pad = to_end < max ? to_end : 0;

	if (max > p->size_bytes / 2 || max + pad > weir_ring_free_bytes(p, max + pad))
		return NULL;
	if (pad) {
		struct weir_record *padrec = (struct weir_record *)&p->ring->data[off];
		padrec->len_bytes = (uint32_t)pad;
		padrec->kind = WEIR_REC_PAD;
		padrec->flags = 0;
		p->tail += pad;
		off = 0;
	}
	return &p->ring->data[off];
}

static inline void
weir_ring_span_done(struct weir_ring_producer *p, uint64_t used)
{
	p->tail += WEIR_ALIGN8(used);
}

/*
 * Room for one record of len bytes (header included); NULL when the ring is
 * full.  Nothing is visible to the consumer until weir_ring_publish(), so a
 * caller undoes a partial packet by restoring p->tail.
 */
static inline struct weir_record *
weir_ring_reserve(struct weir_ring_producer *p, uint32_t len)
{
	struct weir_record *rec = (struct weir_record *)weir_ring_span(p, WEIR_ALIGN8(len));
	if (rec == NULL)
		return NULL;
	rec->len_bytes = len;
	weir_ring_span_done(p, len);
	return rec;
}

static inline void
weir_ring_publish(struct weir_ring_producer *p, uint64_t now_ns)
{
	/* Pairs with the consumer's acquire load of tail. */
	__atomic_store_n(&p->ring->tail, p->tail, __ATOMIC_RELEASE);
	p->ring->producer_heartbeat_ns = now_ns;
}

/* The consumer's cursor: read runs ahead of head until records are durable. */
struct weir_ring_consumer {
	struct weir_ring *ring;
	uint64_t read;               /* next record to hand out */
	uint64_t tail_cache;
};

static inline void
weir_ring_consumer_attach(struct weir_ring_consumer *c, struct weir_ring *r)
{
	c->ring = r;
	c->read = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	c->tail_cache = c->read;
}

/*
 * Next record at or after c->read, skipping padding; NULL when none is
 * published.  *pos gets the record's ring position (its identity).
 */
static inline const struct weir_record *
weir_ring_peek(struct weir_ring_consumer *c, uint64_t *pos)
{
	for (;;) {
		if (c->read == c->tail_cache) {
			/* Pairs with the producer's release store of tail. */
			c->tail_cache = __atomic_load_n(&c->ring->tail, __ATOMIC_ACQUIRE);
			if (c->read == c->tail_cache)
				return NULL;
		}
		const struct weir_record *rec =
			(const struct weir_record *)&c->ring->data[c->read & c->ring->mask];
		if (rec->kind == WEIR_REC_PAD) {
			c->read += rec->len_bytes;
			continue;
		}
		*pos = c->read;
		return rec;
	}
}

static inline void
weir_ring_consumed(struct weir_ring_consumer *c, const struct weir_record *rec)
{
	c->read += WEIR_ALIGN8(rec->len_bytes);
}

/* Everything before c->read is durable: let the producer reuse it. */
static inline void
weir_ring_release(struct weir_ring_consumer *c, uint64_t now_ns)
{
	/* Pairs with the producer's acquire load of head. */
	__atomic_store_n(&c->ring->head, c->read, __ATOMIC_RELEASE);
	c->ring->consumer_heartbeat_ns = now_ns;
}

#endif
