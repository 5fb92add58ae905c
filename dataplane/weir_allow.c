#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>

#include "weir_allow.h"
#include "weir_config.h"
#include "weir_pipeline.h"

struct build {
	struct weir_allow *a;
	unsigned n4, n6, n_sources;
	bool count_only;
};

static int
add_cidr(const char *item, void *arg, char *err, size_t errlen)
{
	struct build *b = arg;
	uint8_t family, addr[16], depth;
	if (weir_config_cidr(item, &family, addr, &depth) != 0) {
		snprintf(err, errlen, "\"%s\" is not an address or network", item);
		return -1;
	}
	if (b->count_only) {
		*(family == 4 ? &b->n4 : &b->n6) += 1;
		return 0;
	}
	/* A /0 goes in as its two halves: rte_lpm and rte_lpm6 take depths from 1. */
	int rc;
	if (family == 4) {
		uint32_t ip;
		memcpy(&ip, addr, 4);
		ip = __builtin_bswap32(ip);
		rc = rte_lpm_add(b->a->v4, ip, depth ? depth : 1, 1);
		if (depth == 0 && rc == 0)
			rc = rte_lpm_add(b->a->v4, 0x80000000u, 1, 1);
	} else {
		rc = rte_lpm6_add(b->a->v6, addr, depth ? depth : 1, 1);
		if (depth == 0 && rc == 0) {
			addr[0] = 0x80;
			rc = rte_lpm6_add(b->a->v6, addr, 1, 1);
		}
	}
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", item, rte_strerror(-rc));
	return rc ? -1 : 0;
}

/* Both paddings of a MoldUDP64 session (senders pad with spaces, some with NULs). */
static int
add_source(const char *item, void *arg, char *err, size_t errlen)
{
	struct build *b = arg;
	for (char pad = ' '; ; pad = 0) {
		uint8_t key[WEIR_SOURCE_BYTES];
		if (weir_source_parse(item, pad, key) != 0) {
			snprintf(err, errlen, "\"%s\" is not a source", item);
			return -1;
		}
		if (b->count_only)
			b->n_sources++;
		else if (rte_hash_add_key(b->a->sources, key) < 0) {
			snprintf(err, errlen, "%s: the source table is full", item);
			return -1;
		}
		if (pad == 0 || key[0] == 0xFF)
			return 0;
	}
}

int
weir_allow_build(struct weir_allow *a, const struct weir_decoder_cfg *d, unsigned index, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->keep = d->keep_unauthorized;
	char name[RTE_HASH_NAMESIZE];
	if (d->allow[0]) {
		struct build count = { .a = a, .count_only = true };
		if (weir_config_list(d->allow, add_cidr, &count, err, errlen) != 0)
			return -1;
		snprintf(name, sizeof(name), "weir_allow4_%u", index);
		struct rte_lpm_config c4 = { .max_rules = count.n4 + 2, .number_tbl8s = 256 + count.n4 };
		a->v4 = count.n4 ? rte_lpm_create(name, SOCKET_ID_ANY, &c4) : NULL;
		snprintf(name, sizeof(name), "weir_allow6_%u", index);
		struct rte_lpm6_config c6 = { .max_rules = count.n6 + 2, .number_tbl8s = 256 + 16 * count.n6 };
		a->v6 = count.n6 ? rte_lpm6_create(name, SOCKET_ID_ANY, &c6) : NULL;
		a->by_address = true;
		if ((count.n4 && a->v4 == NULL) || (count.n6 && a->v6 == NULL)) {
			snprintf(err, errlen, "decoder on udp-port %u: allowlist tables: %s", d->udp_port,
				 rte_strerror(rte_errno));
			weir_allow_free(a);
			return -1;
		}
		struct build b = { .a = a };
		if (weir_config_list(d->allow, add_cidr, &b, err, errlen) != 0) {
			weir_allow_free(a);
			return -1;
		}
	}
	if (d->sources[0]) {
		struct build count = { .a = a, .count_only = true };
		if (weir_config_list(d->sources, add_source, &count, err, errlen) != 0)
			return -1;
		snprintf(name, sizeof(name), "weir_srcs_%u", index);
		/* twice the keys: room for cuckoo placement to succeed */
		struct rte_hash_parameters p = { .name = name, .entries = count.n_sources * 2 + 16,
						 .key_len = WEIR_SOURCE_BYTES, .hash_func = rte_hash_crc,
						 .socket_id = SOCKET_ID_ANY };
		a->sources = rte_hash_create(&p);
		struct build b = { .a = a };
		if (a->sources == NULL || weir_config_list(d->sources, add_source, &b, err, errlen) != 0) {
			if (a->sources == NULL)
				snprintf(err, errlen, "decoder on udp-port %u: source table: %s", d->udp_port,
					 rte_strerror(rte_errno));
			weir_allow_free(a);
			return -1;
		}
	}
	return 0;
}

int
weir_allow_table(struct weir_decoder_table *t, struct weir_allow store[], char *err, size_t errlen)
{
	t->n_allow = 0;
	for (unsigned i = 0; i < WEIR_MAX_DECODERS; i++) {
		const struct weir_decoder_cfg *d = &t->decoders[i];
		t->allow[i] = NULL;
		if (!d->allow[0] && !d->sources[0])
			continue;
		if (weir_allow_build(&store[i], d, i, err, errlen) != 0)
			return -1;
		t->allow[i] = &store[i];
		t->n_allow++;
		printf("weir-dataplane: decoder on udp-port %u takes only%s%s%s\n", d->udp_port,
		       d->allow[0] ? " the addresses of " : "", d->allow, d->sources[0] ? " and the sources of " : "");
		if (d->sources[0])
			printf("  %s\n", d->sources);
	}
	return 0;
}

void
weir_allow_free(struct weir_allow *a)
{
	rte_lpm_free(a->v4);
	rte_lpm6_free(a->v6);
	rte_hash_free(a->sources);
	memset(a, 0, sizeof(*a));
}
