#include <string.h>

#include "weir_ring.h"

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
