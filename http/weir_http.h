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

/* Who may ask (Prometheus' authorization or basic_auth). */
enum weir_http_auth { WEIR_HTTP_AUTH_NONE, WEIR_HTTP_AUTH_BEARER, WEIR_HTTP_AUTH_BASIC };

struct weir_http;
/* ip and port in network order.  TLS from the PEM files cert and key ("":
 * plain HTTP); with auth, the secret (bearer token or basic password) from
 * secret_file, its trailing newline cut.  NULL with err. */
struct weir_http *weir_http_serve(uint32_t ip, uint16_t port, const struct weir_http_handlers *h, const char *cert,
				  const char *key, enum weir_http_auth auth, const char *user, const char *secret_file,
				  char *err, size_t errlen);
void weir_http_stop(struct weir_http *srv);

#endif
