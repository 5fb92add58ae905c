#include <string.h>

#include "weir_bytes.h"
#include "weir_moldudp64.h"
#include "weir_replay_pack.h"

void
weir_replay_packer_init(struct weir_replay_packer *pk, uint32_t max_payload, uint16_t max_messages, bool by_time)
{
	memset(pk, 0, sizeof(*pk));
	pk->max_payload = max_payload < WEIR_REPLAY_PAYLOAD_MAX ? max_payload : WEIR_REPLAY_PAYLOAD_MAX;
	pk->max_messages = max_messages ? max_messages : 1;
	pk->by_time = by_time;
}

bool
weir_replay_joins(const struct weir_replay_packer *pk, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t seq,
		  uint64_t rx_ns, uint32_t len)
{
	const struct weir_replay_packet *p = &pk->pkt;
	return p->len && p->count < pk->max_messages && seq == p->first_seq + p->count &&
	       memcmp(p->key, key, WEIR_SOURCE_BYTES) == 0 && p->len + 2u + len <= pk->max_payload &&
	       (!pk->by_time || rx_ns == p->rx_ns);
}

/* The header: the session is the key's first 10 bytes, as the worker made it. */
static void
put_header(struct weir_replay_packet *p, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t seq, uint16_t count,
	   uint64_t rx_ns)
{
	memcpy(p->key, key, WEIR_SOURCE_BYTES);
	memcpy(p->buf, key, WEIR_MOLD_SESSION_BYTES);
	weir_put_be64(p->buf + 10, seq);
	weir_put_be16(p->buf + 18, count);
	p->first_seq = seq;
	p->count = count;
	p->rx_ns = rx_ns;
	p->len = WEIR_MOLD_HEADER_BYTES;
}

bool
weir_replay_add(struct weir_replay_packer *pk, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t seq, uint64_t rx_ns,
		const uint8_t *payload, uint16_t len)
{
	if (WEIR_MOLD_HEADER_BYTES + 2u + len > pk->max_payload)
		return false;
	struct weir_replay_packet *p = &pk->pkt;
	if (p->len == 0)
		put_header(p, key, seq, 0, rx_ns);
	p->len += weir_mold_put_block(p->buf + p->len, payload, len);
	weir_put_be16(p->buf + 18, ++p->count);
	return true;
}

void
weir_replay_control(struct weir_replay_packet *p, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t next_seq,
		    uint16_t count, uint64_t rx_ns)
{
	put_header(p, key, next_seq, count, rx_ns);
}

bool
weir_replay_mold_source(const uint8_t key[WEIR_SOURCE_BYTES])
{
	return !(key[0] == 0xFF && key[1] == 'W' && key[2] == 'F');
}
