#include <string.h>

#include "weir_bytes.h"
#include "weir_frame.h"
#include "weir_moldudp64.h"
#include "weir_replay_pack.h"

/* What a source's packets take: the header, and each event's own header. */
static uint32_t
header_bytes(bool wf)
{
	return wf ? WEIR_FRAME_HEADER_BYTES : WEIR_MOLD_HEADER_BYTES;
}

static uint32_t
event_overhead(bool wf)
{
	return wf ? WEIR_FRAME_EVENT_HEADER_BYTES : 2u;
}

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
	       memcmp(p->key, key, WEIR_SOURCE_BYTES) == 0 && p->len + event_overhead(p->wf) + len <= pk->max_payload &&
	       (!pk->by_time || rx_ns == p->rx_ns);
}

/* The header's count field (data packets: the events so far). */
static void
put_count(struct weir_replay_packet *p)
{
	if (p->wf)
		weir_put_be16(p->buf + 6, p->count);
	else
		weir_put_be16(p->buf + 18, p->count);
}

/* The header: a MoldUDP64 session is the key's first 10 bytes, as the
 * worker made it; a weir frame source's id is the key's last 8. */
static void
put_header(struct weir_replay_packet *p, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t seq, uint16_t count,
	   uint64_t rx_ns)
{
	memcpy(p->key, key, WEIR_SOURCE_BYTES);
	p->wf = !weir_replay_mold_source(key);
	if (p->wf) {
		bool end = count == WEIR_MOLD_END_OF_SESSION;
		bool control = end || count == WEIR_MOLD_HEARTBEAT;
		weir_frame_put_header(p->buf, end ? WEIR_FRAME_F_END : 0, control ? 0 : count, weir_be64(key + 8), seq);
	} else {
		memcpy(p->buf, key, WEIR_MOLD_SESSION_BYTES);
		weir_put_be64(p->buf + 10, seq);
		weir_put_be16(p->buf + 18, count);
	}
	p->first_seq = seq;
	p->count = count;
	p->rx_ns = rx_ns;
	p->len = header_bytes(p->wf);
}

bool
weir_replay_add(struct weir_replay_packer *pk, const uint8_t key[WEIR_SOURCE_BYTES], uint64_t seq, uint64_t rx_ns,
		uint64_t event_ns, const uint8_t *payload, uint16_t len)
{
	bool wf = !weir_replay_mold_source(key);
	if (header_bytes(wf) + event_overhead(wf) + len > pk->max_payload)
		return false;
	struct weir_replay_packet *p = &pk->pkt;
	if (p->len == 0)
		put_header(p, key, seq, 0, rx_ns);
	/* topic 0: the receiving decoder's own (a replay is of one topic) */
	p->len += wf ? weir_frame_put_event(p->buf + p->len, 0, event_ns, payload, len)
		     : weir_mold_put_block(p->buf + p->len, payload, len);
	p->count++;
	put_count(p);
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
