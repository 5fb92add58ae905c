/* Who may feed a decoder: its source-address allowlist in DPDK's longest
 * prefix match tables (rte_lpm, rte_lpm6) and its sources (MoldUDP64
 * sessions, weir frame source ids) in an rte_hash, built once at start from
 * the config's lists and only read by the workers. */
#ifndef WEIR_ALLOW_H
#define WEIR_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_hash.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>

#include "weir_record.h"

struct weir_decoder_cfg;

struct weir_allow {
	struct rte_lpm *v4;          /* NULL with v6: no address list (anyone) */
	struct rte_lpm6 *v6;
	struct rte_hash *sources;    /* NULL: any source */
	bool keep;                   /* unauthorized packets are kept as dead letter records */
	bool by_address;             /* an address list is in force (either family) */
};

/* From decoder d's lists (index names the tables); 0, or -1 with err. */
int weir_allow_build(struct weir_allow *a, const struct weir_decoder_cfg *d, unsigned index, char *err, size_t errlen);
void weir_allow_free(struct weir_allow *a);
/* For every decoder of t with a list, its tables in store and t->allow[]
 * pointing there (after EAL: they live in its memory). */
struct weir_decoder_table;
int weir_allow_table(struct weir_decoder_table *t, struct weir_allow store[], char *err, size_t errlen);

/* Whether the sender's address (4 or 16 bytes) is on the list. */
static inline bool
weir_allow_address(const struct weir_allow *a, unsigned ip_version, const uint8_t *addr)
{
	if (ip_version == 4) {
		uint32_t ip, hop;
		__builtin_memcpy(&ip, addr, 4);
		return a->v4 && rte_lpm_lookup(a->v4, __builtin_bswap32(ip), &hop) == 0;
	}
	uint32_t hop;
	return a->v6 && rte_lpm6_lookup(a->v6, addr, &hop) == 0;
}

/* Whether a source (its key without the sender's part) is on the list. */
static inline bool
weir_allow_source(const struct weir_allow *a, const uint8_t key[WEIR_SOURCE_BYTES])
{
	uint8_t k[WEIR_SOURCE_BYTES];
	__builtin_memcpy(k, key, WEIR_SOURCE_BYTES);
	if (k[0] == 0xFF) /* a weir frame source: no sender bytes 3-6 */
		__builtin_memset(k + 3, 0, 4);
	else
		__builtin_memset(k + 10, 0, 6);
	return rte_hash_lookup(a->sources, k) >= 0;
}

#endif
