/* weir-replay's /metrics (the http room's server): a send's packets, events,
 * holes and pacing error; a server's requests by outcome. */
#ifndef WEIR_REPLAY_METRICS_H
#define WEIR_REPLAY_METRICS_H

#include <stddef.h>

#include "weir_http.h"

char *weir_replay_send_render(const void *ctx, size_t *len);  /* ctx: struct weir_replay_send */
char *weir_replay_serve_render(const void *ctx, size_t *len); /* ctx: struct weir_replay_server */
/* Serves render(ctx) at "ADDRESS:PORT" (IPv4, plain HTTP); NULL with err. */
struct weir_http *weir_replay_metrics_start(const char *at, char *(*render)(const void *, size_t *), const void *ctx,
					    char *err, size_t errlen);

#endif
