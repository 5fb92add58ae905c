#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "weir_http_guard.h"

#define MAX_TRACKED 4096u

struct tracked {
	int fd;                      /* -1: a free slot */
	bool cut;                    /* shut down already: MHD closes it */
	uint8_t ip[16];              /* the client's address (IPv4 in the first 4) */
	uint64_t since_ns;           /* started, or last answered */
};

struct weir_http_guard {
	pthread_mutex_t lock;
	pthread_t thread;
	bool stop;                   /* atomic: set by stop(), read by the watcher */
	uint64_t deadline_ns;
	unsigned per_ip, most;
	struct tracked t[MAX_TRACKED];
};

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The socket goes down under MHD, which then closes and forgets it (the
 * descriptor stays MHD's: only shut down here, never closed). */
static void
cut(struct tracked *e)
{
	if (!e->cut)
		shutdown(e->fd, SHUT_RDWR);
	e->cut = true;
}

/* The oldest live connection (of ip, when given) but keep; NULL: none. */
static struct tracked *
oldest(struct weir_http_guard *g, const uint8_t *ip, const struct tracked *keep, unsigned *count)
{
	struct tracked *o = NULL;
	*count = 0;
	for (unsigned i = 0; i < MAX_TRACKED; i++) {
		struct tracked *e = &g->t[i];
		if (e->fd < 0 || e->cut || (ip && memcmp(e->ip, ip, 16) != 0))
			continue;
		++*count;
		if (e != keep && (o == NULL || e->since_ns < o->since_ns))
			o = e;
	}
	return o;
}

static void
started(struct weir_http_guard *g, struct MHD_Connection *c, void **socket_context)
{
	const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *addr = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	pthread_mutex_lock(&g->lock);
	struct tracked *e = NULL;
	for (unsigned i = 0; e == NULL && i < MAX_TRACKED; i++)
		if (g->t[i].fd < 0)
			e = &g->t[i];
	if (e && fd) {
		*e = (struct tracked){ .fd = fd->connect_fd, .since_ns = now_ns() };
		const struct sockaddr *sa = addr ? addr->client_addr : NULL;
		if (sa && sa->sa_family == AF_INET)
			memcpy(e->ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		else if (sa && sa->sa_family == AF_INET6)
			memcpy(e->ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		*socket_context = e;
		unsigned n;
		struct tracked *o = oldest(g, e->ip, e, &n);
		if (n > g->per_ip && o) /* the address's oldest makes room for its newest */
			cut(o);
		o = oldest(g, NULL, e, &n);
		if (n > g->most && o) /* the reserve is never taken */
			cut(o);
	}
	pthread_mutex_unlock(&g->lock);
}

void
weir_http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		       enum MHD_ConnectionNotificationCode toe)
{
	struct weir_http_guard *g = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		started(g, c, socket_context);
		return;
	}
	pthread_mutex_lock(&g->lock);
	struct tracked *e = *socket_context;
	if (e)
		e->fd = -1; /* before MHD closes the descriptor: never shut down once reused */
	*socket_context = NULL;
	pthread_mutex_unlock(&g->lock);
}

void
weir_http_guard_answered(struct weir_http_guard *g, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ctx = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	pthread_mutex_lock(&g->lock);
	if (ctx && ctx->socket_context)
		((struct tracked *)ctx->socket_context)->since_ns = now_ns();
	pthread_mutex_unlock(&g->lock);
}

/* Every 100 ms: a request not whole by its deadline goes. */
static void *
watch(void *arg)
{
	struct weir_http_guard *g = arg;
	while (!__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE)) {
		usleep(100 * 1000);
		uint64_t now = now_ns();
		pthread_mutex_lock(&g->lock);
		for (unsigned i = 0; i < MAX_TRACKED; i++)
			if (g->t[i].fd >= 0 && now - g->t[i].since_ns > g->deadline_ns)
				cut(&g->t[i]);
		pthread_mutex_unlock(&g->lock);
	}
	return NULL;
}

struct weir_http_guard *
weir_http_guard_start(uint64_t deadline_ns, unsigned per_ip, unsigned most)
{
	struct weir_http_guard *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	pthread_mutex_init(&g->lock, NULL);
	g->deadline_ns = deadline_ns;
	g->per_ip = per_ip;
	g->most = most < MAX_TRACKED ? most : MAX_TRACKED;
	for (unsigned i = 0; i < MAX_TRACKED; i++)
		g->t[i].fd = -1;
	if (pthread_create(&g->thread, NULL, watch, g) != 0) {
		free(g);
		return NULL;
	}
	return g;
}

void
weir_http_guard_stop(struct weir_http_guard *g)
{
	if (g == NULL)
		return;
	__atomic_store_n(&g->stop, true, __ATOMIC_RELEASE);
	pthread_join(g->thread, NULL);
	pthread_mutex_destroy(&g->lock);
	free(g);
}
