#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "weir_bytes.h"
#include "weir_moldudp64.h"
#include "weir_replay_serve.h"
#include "weir_single_writer.h"
#include "weir_time.h"

int
weir_replay_serve_open(struct weir_replay_server *s, const char *listen, uint32_t max_count, double rate,
		       double burst, uint64_t deadline_ns, uint32_t mtu, char *err, size_t errlen)
{
	union weir_sockaddr at;
	s->fd = -1;
	if (weir_endpoint_parse(listen, &at) != 0) {
		snprintf(err, errlen, "--listen %s: not ADDRESS:PORT", listen);
		return -1;
	}
	s->fd = socket(at.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, &at.sa, weir_sockaddr_len(&at)) != 0) {
		snprintf(err, errlen, "--listen %s: %s", listen, strerror(errno));
		return -1;
	}
	if (weir_replay_gather_init(&s->g, max_count, mtu) != 0) { /* a bigger event fits no answer */
		snprintf(err, errlen, "no memory for answers of %u events", max_count);
		return -1;
	}
	weir_replay_limit_init(&s->limit, rate, burst);
	weir_replay_packer_init(&s->pk, mtu - (at.sa.sa_family == AF_INET6 ? 48u : 28u), 0xFFFE, false);
	s->max_count = max_count;
	s->deadline_ns = deadline_ns;
	return 0;
}

int
weir_replay_serve_sender(struct weir_replay_server *s, const char *sender, char *err, size_t errlen)
{
	union weir_sockaddr a;
	if (weir_endpoint_parse(sender, &a) != 0 || a.sa.sa_family != AF_INET) {
		snprintf(err, errlen, "--sender %s: not IPV4:PORT (the feed's sender, as weir keyed it)", sender);
		return -1;
	}
	/* the key's bytes 10-15, as the dataplane writes them: address, then port, network order */
	memcpy(s->sender, &a.v4.sin_addr, 4);
	memcpy(s->sender + 4, &a.v4.sin_port, 2);
	s->by_sender = true;
	return 0;
}

void
weir_replay_serve_close(struct weir_replay_server *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	weir_replay_gather_free(&s->g);
	weir_replay_follow_close(&s->follow);
}

static void
send_packet(struct weir_replay_server *s, const union weir_sockaddr *to)
{
	struct weir_replay_packet *p = &s->pk.pkt;
	if (p->len == 0)
		return;
	/* A full send queue is waited for briefly (50 ms at most), then counted. */
	bool sent = false;
	for (int tries = 0; tries < 1000 && !sent; tries++) {
		sent = sendto(s->fd, p->buf, p->len, 0, &to->sa, weir_sockaddr_len(to)) == (ssize_t)p->len;
		if (!sent && errno != EAGAIN && errno != ENOBUFS && errno != EINTR)
			break;
		if (!sent)
			usleep(50);
	}
	weir_sw_add(sent ? &s->fig.events_sent : &s->fig.unsent, p->count);
	if (sent)
		weir_sw_add(&s->fig.packets_sent, 1);
	p->len = 0;
}

/* What the gather holds, in order, as packets of consecutive numbers. */
static void
answer(struct weir_replay_server *s, const struct weir_replay_request *q)
{
	const struct weir_replay_gather *g = &s->g;
	for (uint32_t i = 0; i < g->count; i++) {
		if (g->state[i] != WEIR_GATHER_EVENT)
			continue;
		if (!weir_replay_joins(&s->pk, q->key, q->first + i, 0, g->len[i]))
			send_packet(s, &q->who);
		if (!weir_replay_add(&s->pk, q->key, q->first + i, 0, 0, g->arena + g->at[i], g->len[i]))
			weir_sw_add(&s->fig.unsent, 1);
	}
	send_packet(s, &q->who);
	weir_sw_add(&s->fig.events_lost, g->lost);
}

/* Reads on from where r is, into the gather: 1 every number accounted, 0
 * the committed end came first, -1 the log failed. */
static int
read_on(struct weir_replay_server *s, struct weir_log_reader *r)
{
	struct weir_log_item it;
	int rc;
	while ((rc = weir_log_reader_next(r, &it)) == WEIR_LOG_READ_ENTRY)
		if (weir_replay_gather_add(&s->g, it.record, it.payload, it.payload_len))
			return 1;
	if (rc == WEIR_LOG_READ_ERROR)
		s->failed = r;
	return rc == WEIR_LOG_READ_ERROR ? -1 : 0;
}

/* From the follower's point (weir_replay_hints.h): 1 every number
 * accounted, 0 what is missing is above anything the newest segment holds
 * of the source and the older ones were read for it once already (a
 * waiting request's retry), -1 read again without it. */
static int
gather_hinted(struct weir_replay_server *s, struct weir_replay_request *q)
{
	uint64_t from, max;
	if (!weir_replay_hints_find(&s->follow.hints, q->key, q->first, &from) ||
	    weir_log_reader_seek(s->reader, from) != 0)
		return -1;
	weir_sw_add(&s->fig.hinted, 1);
	int rc = read_on(s, s->reader);
	if (rc == 1)
		return 1;
	if (rc == 0 && q->read_whole && weir_replay_hints_max(&s->follow.hints, q->key, &max) &&
	    weir_replay_gather_first_unknown(&s->g) > max)
		return 0; /* not logged yet */
	weir_replay_gather_start(&s->g, q->key, q->first, q->count);
	return -1;
}

/* Gathers q from the first topic: 1 every number accounted, 0 not yet, -1
 * the log failed, -2 a session the topic never saw. */
static int
gather_first(struct weir_replay_server *s, struct weir_replay_request *q)
{
	weir_log_reader_wait(s->reader, 0); /* see what weir-control committed since */
	weir_replay_follow_step(&s->follow, UINT_MAX); /* its points up to there: each entry is read once */
	weir_replay_gather_start(&s->g, q->key, q->first, q->count);
	int rc = gather_hinted(s, q);
	if (rc >= 0)
		return rc;
	q->read_whole = true; /* a session begun again, a source untracked: older segments may hold its numbers */
	rc = weir_log_reader_seek_source(s->reader, q->key, q->first);
	if (rc == 0)
		return weir_log_reader_seek_source(s->reader, q->key, 0) == 0 ? -2 : 0;
	if (rc < 0) {
		s->failed = s->reader;
		return -1;
	}
	return read_on(s, s->reader);
}

/* What another topic holds of the numbers still unaccounted, added (the
 * gather takes each number once, whichever topic gives it first): as
 * gather_first, read from the source's first such number. */
static int
gather_also(struct weir_replay_server *s, struct weir_log_reader *r)
{
	weir_log_reader_wait(r, 0);
	int rc = weir_log_reader_seek_source(r, s->g.key, weir_replay_gather_first_unknown(&s->g));
	if (rc == 0)
		return weir_log_reader_seek_source(r, s->g.key, 0) == 0 ? -2 : 0;
	if (rc < 0) {
		s->failed = r;
		return -1;
	}
	return read_on(s, r);
}

/* Gathers q from the log, topic by topic: 1 every number accounted, 0 not
 * yet, -1 the log failed, -2 a session no topic ever saw. */
static int
gather(struct weir_replay_server *s, struct weir_replay_request *q)
{
	int rc = gather_first(s, q);
	bool seen = rc != -2;
	for (unsigned i = 0; i < s->n_also && (rc == 0 || rc == -2); i++) {
		rc = gather_also(s, s->also[i]);
		seen |= rc != -2;
	}
	return rc == -2 && seen ? 0 : rc;
}

/* Tries q: true when it is done with (answered, refused or late). */
static bool
try_request(struct weir_replay_server *s, struct weir_replay_request *q, uint64_t now_ns)
{
	int rc = gather(s, q);
	if (rc == -2) {
		weir_sw_add(&s->fig.refused_unknown, 1);
		return true;
	}
	if (rc == -1)
		fprintf(stderr, "weir-replay: %s\n", weir_log_reader_error(s->failed ? s->failed : s->reader));
	if (rc == 1 || now_ns >= q->deadline_ns || rc < 0) {
		answer(s, q);
		if (rc == 1)
			weir_sw_add(&s->fig.answered, 1);
		else
			weir_sw_add(&s->fig.late, 1);
		return true;
	}
	return false;
}

/* One datagram: a request taken on, or refused and counted. */
static void
on_datagram(struct weir_replay_server *s, const uint8_t *b, ssize_t n, const union weir_sockaddr *who,
	    uint64_t now_ns)
{
	weir_sw_add(&s->fig.requests, 1);
	if (n != WEIR_MOLD_HEADER_BYTES) {
		weir_sw_add(&s->fig.refused_malformed, 1);
		return;
	}
	struct weir_replay_request q = { .who = *who, .first = weir_be64(b + 10), .count = weir_be16(b + 18),
					 .deadline_ns = now_ns + s->deadline_ns };
	if (q.count == 0 || q.count == WEIR_MOLD_END_OF_SESSION) {
		weir_sw_add(&s->fig.refused_count, 1);
		return;
	}
	if (!weir_replay_limit_take(&s->limit, who, now_ns)) {
		weir_sw_add(&s->fig.refused_rate, 1);
		return;
	}
	if (q.count > s->max_count) {
		q.count = s->max_count;
		weir_sw_add(&s->fig.capped, 1);
	}
	memcpy(q.key, b, WEIR_MOLD_SESSION_BYTES); /* a session's key: its name, and the sender where keyed so */
	if (s->by_sender)
		memcpy(q.key + WEIR_MOLD_SESSION_BYTES, s->sender, sizeof(s->sender));
	if (try_request(s, &q, now_ns))
		return;
	if (s->n_pending == WEIR_REPLAY_PENDING) {
		weir_sw_add(&s->fig.refused_busy, 1);
		return;
	}
	s->pending[s->n_pending++] = q;
}

static void
retry_pending(struct weir_replay_server *s, uint64_t now_ns)
{
	for (unsigned i = 0; i < s->n_pending;)
		if (try_request(s, &s->pending[i], now_ns))
			s->pending[i] = s->pending[--s->n_pending];
		else
			i++;
}

int
weir_replay_serve_run(struct weir_replay_server *s, volatile int *quit, char *err, size_t errlen)
{
	uint8_t buf[2048];
	while (!*quit) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		poll(&p, 1, 20);
		for (int k = 0; k < 256; k++) { /* a flood cannot starve what waits for the log */
			union weir_sockaddr who;
			socklen_t wl = sizeof(who);
			ssize_t n = recvfrom(s->fd, buf, sizeof(buf), 0, &who.sa, &wl);
			if (n < 0)
				break;
			on_datagram(s, buf, n, &who, weir_monotonic_ns());
		}
		weir_replay_follow_step(&s->follow, 1u << 18); /* about 8 ms at most */
		retry_pending(s, weir_monotonic_ns());
		weir_log_reader_wait(s->reader, 0);
		weir_sw_set(&s->log_end, weir_log_reader_committed(s->reader));
	}
	(void)err, (void)errlen;
	return 0;
}
