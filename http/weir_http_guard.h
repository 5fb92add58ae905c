/* What keeps slow clients from starving a scrape: a request must arrive
 * whole within a deadline (not an idle time: a byte every half second
 * keeps an idle timer happy for ever), one address holds at most a few
 * connections and a new one pushes out its oldest, and the server as a
 * whole keeps a reserve slow ones never take (the oldest goes first). */
#ifndef WEIR_HTTP_GUARD_H
#define WEIR_HTTP_GUARD_H

#include <stdint.h>

#include <microhttpd.h>

struct weir_http_guard;

/* deadline_ns: from a connection's start, or its last answer, to its next
 * answer; per_ip: connections an address holds; most: connections in all
 * before the oldest is pushed out (the server's limit less a reserve). */
struct weir_http_guard *weir_http_guard_start(uint64_t deadline_ns, unsigned per_ip, unsigned most);
void weir_http_guard_stop(struct weir_http_guard *g);
/* MHD_OPTION_NOTIFY_CONNECTION's callback (cls: the guard). */
void weir_http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
			    enum MHD_ConnectionNotificationCode toe);
/* A request of c was answered: its deadline starts again. */
void weir_http_guard_answered(struct weir_http_guard *g, struct MHD_Connection *c);

#endif
