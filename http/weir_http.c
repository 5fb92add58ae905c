#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>

#include <microhttpd.h>

#include "weir_http.h"
#include "weir_http_guard.h"

#define MAX_CONNECTIONS 1024u
#define PER_IP_CONNECTIONS 16u
#define RESERVE 32u                            /* connections slow ones never take */
#define REQUEST_DEADLINE_NS 2000000000ull      /* a request whole within this, however it trickles */
#define IDLE_TIMEOUT_S 3u
#define FD_MARGIN 256u /* the log's segments and indexes, the shared memory, the sockets of the rest */

/* What the files gave; all NULL: plain HTTP, anyone who reaches the port. */
struct weir_http_security {
	char *cert_pem, *key_pem;    /* NULL: no TLS */
	enum weir_http_auth auth;
	char user[64];               /* basic */
	char *secret;                /* the bearer token, or the basic password */
};

struct weir_http {
	struct MHD_Daemon *daemon;
	struct weir_http_guard *guard;
	struct weir_http_handlers h;
	struct weir_http_security sec;
};

static char *
read_all(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	enum { MAX = 65536 };
	char *buf = calloc(1, MAX + 2);
	size_t n = buf ? fread(buf, 1, MAX + 1, f) : 0;
	fclose(f);
	if (buf == NULL || n == 0 || n > MAX) {
		/* cut short, a certificate would fail later as one that does not match its key */
		snprintf(err, errlen, "%s: %s", path, n > MAX ? "larger than 64 KiB" : "empty or unreadable");
		free(buf);
		return NULL;
	}
	return buf;
}

static void
security_free(struct weir_http_security *s)
{
	free(s->cert_pem);
	free(s->key_pem);
	free(s->secret);
	memset(s, 0, sizeof(*s));
}

static int
security_load(struct weir_http_security *s, const char *cert, const char *key, enum weir_http_auth auth,
	      const char *user, const char *secret_file, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->auth = auth;
	snprintf(s->user, sizeof(s->user), "%s", user);
	if (cert[0] && ((s->cert_pem = read_all(cert, err, errlen)) == NULL || (s->key_pem = read_all(key, err, errlen)) == NULL))
		goto fail;
	if (auth != WEIR_HTTP_AUTH_NONE) {
		if ((s->secret = read_all(secret_file, err, errlen)) == NULL)
			goto fail;
		s->secret[strcspn(s->secret, "\r\n")] = 0; /* a file ends with a newline */
		if (!s->secret[0]) {
			snprintf(err, errlen, "%s: the secret is empty", secret_file);
			goto fail;
		}
	}
	return 0;
fail:
	security_free(s);
	return -1;
}

/* Equal strings, in a time that depends on the lengths only. */
static bool
same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* Whether the request may be answered; when not, the 401 is queued. */
static bool
authorized(struct weir_http *srv, struct MHD_Connection *c, enum MHD_Result *rc)
{
	const struct weir_http_security *s = &srv->sec;
	if (s->auth == WEIR_HTTP_AUTH_NONE)
		return true;
	bool ok = false;
	if (s->auth == WEIR_HTTP_AUTH_BEARER) {
		const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
		ok = a && strncmp(a, "Bearer ", 7) == 0 && same_secret(a + 7, s->secret);
	} else {
		char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
		ok = user && pass && same_secret(user, s->user) && same_secret(pass, s->secret);
		MHD_free(user);
		MHD_free(pass);
	}
	if (ok)
		return true;
	static char body[] = "unauthorized\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(body) - 1, body, MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		*rc = MHD_NO;
		return false;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
				s->auth == WEIR_HTTP_AUTH_BEARER ? "Bearer realm=\"weir\"" : "Basic realm=\"weir\"");
	*rc = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
	MHD_destroy_response(r);
	return false;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len, bool owned)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body,
								  owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
answer(struct weir_http *srv, struct MHD_Connection *c, const char *url, const char *method)
{
	enum MHD_Result rc;
	if (!authorized(srv, c, &rc))
		return rc;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET or HEAD only\n", 17, false);
	if (strcmp(url, "/metrics") == 0) {
		size_t len;
		char *body = srv->h.render(srv->h.ctx, &len);
		if (body == NULL)
			return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n", 14, false);
		return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len, true);
	}
	if (strcmp(url, "/healthz") == 0) {
		char why[160];
		int bad = srv->h.health(srv->h.ctx, why, sizeof(why) - 1);
		strcat(why, "\n");
		return reply(c, bad ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK, "text/plain", why, strlen(why), false);
	}
	return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found: try /metrics or /healthz\n", 36, false);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
	   const char *upload_data, size_t *upload_size, void **state)
{
	(void)version;
	(void)upload_data;
	struct weir_http *srv = cls;
	static int first_call;
	if (*state == NULL) { /* headers only so far */
		*state = &first_call;
		return MHD_YES;
	}
	if (*upload_size) { /* a body weir does not read */
		*upload_size = 0;
		return MHD_YES;
	}
	enum MHD_Result rc = answer(srv, c, url, method);
	weir_http_guard_answered(srv->guard, c); /* its next request has its own deadline */
	return rc;
}

/* Room for the connections the server may hold, and a margin for the
 * process's own files: the soft limit raised towards the hard one. */
static unsigned
connection_budget(unsigned want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 64;
	rlim_t need = want + FD_MARGIN;
	if (rl.rlim_cur < need && rl.rlim_cur != RLIM_INFINITY) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need ? want
	       : rl.rlim_cur > 2 * FD_MARGIN ? (unsigned)(rl.rlim_cur - FD_MARGIN) : 64;
}

/* The server takes sec's strings: on success weir_http_stop() frees them. */
static struct weir_http *
serve(uint32_t ip, uint16_t port, const struct weir_http_handlers *h, const struct weir_http_security *sec,
      char *err, size_t errlen)
{
	struct weir_http *srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->h = *h;
	srv->sec = *sec;
	bool tls = srv->sec.cert_pem != NULL;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = port };
	memcpy(&sa.sin_addr, &ip, 4);
	/* Slow and abusive clients must not starve a scrape: one epoll thread
	 * holds many connections at little cost, the guard holds each request
	 * to a deadline, an address to a few connections (its newest pushing
	 * out its oldest: a scraper on the same host as a slow client still
	 * gets in) and all to the limit less a reserve; an idle one goes after
	 * a short time, and each has a small memory budget. */
	unsigned budget = connection_budget(MAX_CONNECTIONS);
	srv->guard = weir_http_guard_start(REQUEST_DEADLINE_NS, PER_IP_CONNECTIONS,
					   budget > 2 * RESERVE ? budget - RESERVE : budget / 2);
	if (srv->guard == NULL) {
		snprintf(err, errlen, "cannot start the metrics endpoint's guard thread");
		free(srv);
		return NULL;
	}
	/* TLS options last: without TLS, the key and certificate are not given */
	srv->daemon = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | (tls ? MHD_USE_TLS : 0), 0, NULL, NULL, on_request,
				       srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
				       budget, MHD_OPTION_NOTIFY_CONNECTION, weir_http_guard_notify, srv->guard,
				       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
				       MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_LISTEN_BACKLOG_SIZE,
				       (unsigned)1024, tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, srv->sec.key_pem,
				       MHD_OPTION_HTTPS_MEM_CERT, srv->sec.cert_pem, MHD_OPTION_END);
	if (srv->daemon && !tls && (ntohl(ip) >> 24) != 127)
		fprintf(stderr, "warning: metrics on %s:%u, reachable beyond this host, without TLS: anyone on the path "
				"reads them; give \"metrics tls CERT KEY\", bind 127.0.0.1 or firewall the port\n",
			inet_ntoa(sa.sin_addr), ntohs(sa.sin_port));
	if (srv->daemon == NULL) {
		snprintf(err, errlen, "cannot serve metrics on %s:%u (in use?%s)", inet_ntoa(sa.sin_addr), ntohs(sa.sin_port),
			 tls ? " or a certificate and key that do not go together" : "");
		weir_http_guard_stop(srv->guard);
		free(srv);
		return NULL;
	}
	return srv;
}

struct weir_http *
weir_http_serve(uint32_t ip, uint16_t port, const struct weir_http_handlers *h, const char *cert, const char *key,
		enum weir_http_auth auth, const char *user, const char *secret_file, char *err, size_t errlen)
{
	struct weir_http_security sec;
	if (security_load(&sec, cert, key, auth, user, secret_file, err, errlen) != 0)
		return NULL;
	struct weir_http *srv = serve(ip, port, h, &sec, err, errlen);
	if (srv == NULL)
		security_free(&sec);
	return srv;
}

void
weir_http_stop(struct weir_http *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->daemon);
	weir_http_guard_stop(srv->guard);
	security_free(&srv->sec);
	free(srv);
}
