/* A UDP endpoint as the command lines write it: "198.18.0.2:26400" or
 * "[fd00::1]:26400" (numeric: a tool never waits on a resolver). */
#ifndef WEIR_ENDPOINT_H
#define WEIR_ENDPOINT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

union weir_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

static inline socklen_t
weir_sockaddr_len(const union weir_sockaddr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->v6) : sizeof(a->v4);
}

static inline uint16_t
weir_sockaddr_port(const union weir_sockaddr *a)
{
	return ntohs(a->sa.sa_family == AF_INET6 ? a->v6.sin6_port : a->v4.sin_port);
}

/* 0, or -1 when s is no ADDRESS:PORT (port 1-65535). */
static inline int
weir_endpoint_parse(const char *s, union weir_sockaddr *a)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] == 0 || port == 0 || port > 65535)
		return -1;
	memset(a, 0, sizeof(*a));
	size_t hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		a->v6.sin6_family = AF_INET6;
		a->v6.sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &a->v6.sin6_addr) == 1 ? 0 : -1;
	}
	a->v4.sin_family = AF_INET;
	a->v4.sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &a->v4.sin_addr) == 1 ? 0 : -1;
}

#endif
