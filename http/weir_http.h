/*
 * The metrics endpoint weir's processes serve (libmicrohttpd): GET /metrics
 * gives what render() writes, GET /healthz 200 or 503 with health()'s
 * reason.  One epoll thread; connections bounded in all (1024), per client
 * address (16), in idle time (3 s) and memory (32 KiB): slow or abusive
 * clients cost themselves a refusal, not a scrape its answer.
 */
#ifndef WEIR_HTTP_H
#define WEIR_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct weir_http_handlers {
	/* The exposition, malloc'd (the server frees it); NULL: out of memory. */
	char *(*render)(const void *ctx, size_t *len);
	/* 0 serving (why: "ok", or "degraded: ..." for what an operator must
	 * see but not restart for), else the 503's reason in why. */
	int (*health)(const void *ctx, char *why, size_t len);
	const void *ctx;
};

struct weir_http;
/* ip and port in network order. */
struct weir_http *weir_http_serve(uint32_t ip, uint16_t port, const struct weir_http_handlers *h, char *err,
				  size_t errlen);
void weir_http_stop(struct weir_http *srv);

#endif
