#include <string.h>

#include "weir_replay_limit.h"

void
weir_replay_limit_init(struct weir_replay_limiter *l, double rate, double burst)
{
	memset(l, 0, sizeof(*l));
	l->rate = rate;
	l->burst = burst < 1 ? 1 : burst;
}

static bool
same(const union weir_sockaddr *a, const union weir_sockaddr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET6)
		return a->v6.sin6_port == b->v6.sin6_port &&
		       memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, sizeof(a->v6.sin6_addr)) == 0;
	return a->v4.sin_port == b->v4.sin_port && a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr;
}

static struct weir_replay_requester *
find(struct weir_replay_limiter *l, const union weir_sockaddr *who, uint64_t now_ns)
{
	struct weir_replay_requester *oldest = NULL;
	for (unsigned i = 0; i < l->n; i++) {
		if (same(&l->r[i].who, who))
			return &l->r[i];
		if (oldest == NULL || l->r[i].last_ns < oldest->last_ns)
			oldest = &l->r[i];
	}
	struct weir_replay_requester *e = l->n < WEIR_REPLAY_REQUESTERS ? &l->r[l->n++] : oldest;
	e->who = *who;
	e->tokens = l->burst;
	e->last_ns = now_ns;
	return e;
}

bool
weir_replay_limit_take(struct weir_replay_limiter *l, const union weir_sockaddr *who, uint64_t now_ns)
{
	struct weir_replay_requester *e = find(l, who, now_ns);
	if (now_ns > e->last_ns) {
		e->tokens += (double)(now_ns - e->last_ns) / 1e9 * l->rate;
		if (e->tokens > l->burst)
			e->tokens = l->burst;
	}
	e->last_ns = now_ns;
	if (e->tokens < 1)
		return false;
	e->tokens -= 1;
	return true;
}
