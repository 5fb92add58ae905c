#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_config_pvt.h"
#include "weir_endpoint.h"
#include "weir_number.h"

/* "${NAME}" is replaced by the environment's value; unset is an error
 * (quiet: -2, the name in unset, for the caller to judge). */
int
weir_config_expand_env(struct weir_config_ctx *ctx, const char *in, char *out, size_t outlen, bool quiet,
		       char *unset, size_t unsetlen)
{
	size_t o = 0;
	for (const char *p = in; *p;) {
		if (p[0] == '$' && p[1] == '{') {
			const char *end = strchr(p + 2, '}');
			if (end == NULL) {
				weir_diag_fail(&ctx->d, "unterminated '${' in \"%s\": write ${NAME}", in);
				return -1;
			}
			char var[128];
			size_t vlen = (size_t)(end - p - 2);
			if (vlen == 0 || vlen >= sizeof(var)) {
				weir_diag_fail(&ctx->d, "bad variable name in \"%s\"", in);
				return -1;
			}
			memcpy(var, p + 2, vlen);
			var[vlen] = 0;
			const char *val = getenv(var);
			if (val == NULL && quiet) {
				snprintf(unset, unsetlen, "%s", var);
				return -2;
			}
			if (val == NULL) {
				weir_diag_fail(&ctx->d, "environment variable %s is not set (used as ${%s})", var, var);
				return -1;
			}
			size_t l = strlen(val);
			if (o + l >= outlen) {
				weir_diag_fail(&ctx->d, "line too long after expanding ${%s}", var);
				return -1;
			}
			memcpy(out + o, val, l);
			o += l;
			p = end + 1;
		} else {
			if (o + 1 >= outlen) {
				weir_diag_fail(&ctx->d, "line too long (limit %zu bytes)", outlen - 1);
				return -1;
			}
			out[o++] = *p++;
		}
	}
	out[o] = 0;
	return 0;
}

int
weir_config_uint_range(struct weir_config_ctx *ctx, const char *what, const char *tok, uint64_t lo, uint64_t hi,
		 uint64_t *v)
{
	if (weir_parse_u64(tok, v) != 0 || *v < lo || *v > hi) {
		weir_diag_fail(&ctx->d, "%s \"%s\" is not valid: give an integer from %llu to %llu", what, tok,
		     (unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	return 0;
}

/* 4096, 64K, 16M, 1G (powers of 1024). */
int
weir_config_size(struct weir_config_ctx *ctx, const char *what, const char *tok, uint64_t *v)
{
	char num[32];
	size_t l = strlen(tok);
	uint64_t mult = 1;
	if (l == 0 || l >= sizeof(num))
		goto bad;
	memcpy(num, tok, l + 1);
	switch (toupper((unsigned char)num[l - 1])) {
	case 'K': mult = 1ull << 10; num[l - 1] = 0; break;
	case 'M': mult = 1ull << 20; num[l - 1] = 0; break;
	case 'G': mult = 1ull << 30; num[l - 1] = 0; break;
	default: break;
	}
	if (weir_parse_u64(num, v) != 0 || *v == 0 || *v > (1ull << 40) / mult)
		goto bad;
	*v *= mult;
	return 0;
bad:
	weir_diag_fail(&ctx->d, "%s \"%s\" is not a size: write bytes or a number with K, M or G (e.g. 16M)", what,
	     tok);
	return -1;
}

/* 100ms, 5s, 250us, 0s. */
int
weir_config_duration(struct weir_config_ctx *ctx, const char *what, const char *tok, uint64_t *ns)
{
	char num[32];
	size_t l = strlen(tok);
	uint64_t mult;
	size_t unit_len;
	if (l > 2 && strcmp(tok + l - 2, "ms") == 0) {
		mult = 1000000ull; unit_len = 2;
	} else if (l > 2 && strcmp(tok + l - 2, "us") == 0) {
		mult = 1000ull; unit_len = 2;
	} else if (l > 1 && tok[l - 1] == 's') {
		mult = 1000000000ull; unit_len = 1;
	} else {
		goto bad;
	}
	if (l - unit_len >= sizeof(num))
		goto bad;
	memcpy(num, tok, l - unit_len);
	num[l - unit_len] = 0;
	if (weir_parse_u64(num, ns) != 0 || *ns > 3600ull * 1000000000ull / mult)
		goto bad;
	*ns *= mult;
	return 0;
bad:
	weir_diag_fail(&ctx->d, "%s \"%s\" is not a duration: write a number with us, ms or s (e.g. 100ms)", what,
	     tok);
	return -1;
}

int
weir_config_age(struct weir_config_ctx *ctx, const char *what, const char *tok, uint64_t *ns)
{
	static const struct { char unit; uint64_t s; } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	char num[32];
	size_t l = strlen(tok);
	for (size_t u = 0; l > 1 && l < sizeof(num) && u < sizeof(units) / sizeof(units[0]); u++) {
		if (tok[l - 1] != units[u].unit)
			continue;
		memcpy(num, tok, l - 1);
		num[l - 1] = 0;
		uint64_t v;
		if (weir_parse_u64(num, &v) != 0 || v > 3650ull * 86400 / units[u].s)
			break;
		*ns = v * units[u].s * 1000000000ull;
		return 0;
	}
	weir_diag_fail(&ctx->d, "%s \"%s\" is not an age: write a number with s, m, h or d, up to 3650d (e.g. 7d)",
		       what, tok);
	return -1;
}

int
weir_config_corelist(struct weir_config_ctx *ctx, const char *tok, struct weir_config *cfg)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", tok);
	unsigned n = 0;
	char *save = NULL;
	for (char *part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(part, '-');
		uint64_t lo, hi;
		if (dash) {
			*dash = 0;
			if (weir_parse_u64(part, &lo) || weir_parse_u64(dash + 1, &hi) || lo > hi)
				goto bad;
		} else {
			if (weir_parse_u64(part, &lo))
				goto bad;
			hi = lo;
		}
		for (uint64_t c = lo; c <= hi; c++) {
			if (c >= 1024 || n >= WEIR_MAX_WORKERS) {
				weir_diag_fail(&ctx->d, "corelist \"%s\": at most %d lcores, each below 1024", tok,
				     WEIR_MAX_WORKERS);
				return -1;
			}
			for (unsigned i = 0; i < n; i++)
				if (cfg->worker_lcores[i] == c) {
					weir_diag_fail(&ctx->d, "corelist \"%s\" names lcore %llu twice", tok,
					     (unsigned long long)c);
					return -1;
				}
			cfg->worker_lcores[n++] = (unsigned)c;
		}
	}
	if (n == 0)
		goto bad;
	cfg->n_workers = n;
	return 0;
bad:
	weir_diag_fail(&ctx->d, "corelist \"%s\" is not valid: write lcore ids and ranges, e.g. 1,2 or 1-3", tok);
	return -1;
}

static int
valid_topic_name(const char *s)
{
	size_t l = strlen(s);
	if (l == 0 || l >= WEIR_TOPIC_NAME_MAX || s[0] == '_' || s[0] == '.')
		return 0;
	for (size_t i = 0; i < l; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

int
weir_config_topic_id(struct weir_config_ctx *ctx, const char *name, uint16_t *id)
{
	struct weir_config *cfg = ctx->cfg;
	if (!valid_topic_name(name)) {
		weir_diag_fail_at(&ctx->d, ctx->d.line,
		     "topic \"%s\" is not valid: 1-%d characters of letters, digits, '_', '-', '.', not starting with '_' or '.'",
		     name, WEIR_TOPIC_NAME_MAX - 1);
		return -1;
	}
	for (unsigned i = 0; i < cfg->n_topics; i++)
		if (strcmp(cfg->topics[i], name) == 0) {
			*id = (uint16_t)i;
			return 0;
		}
	if (cfg->n_topics >= WEIR_MAX_TOPICS) {
		weir_diag_fail(&ctx->d, "too many topics: at most %d", WEIR_MAX_TOPICS - 1);
		return -1;
	}
	snprintf(cfg->topics[cfg->n_topics], WEIR_TOPIC_NAME_MAX, "%s", name);
	*id = (uint16_t)cfg->n_topics++;
	return 0;
}

/* "all" or a port id; *all set for "all". */
int
weir_config_port_sel(struct weir_config_ctx *ctx, const char *tok, int *port)
{
	uint64_t v;
	if (strcmp(tok, "all") == 0) {
		*port = -1;
		return 0;
	}
	if (weir_parse_u64(tok, &v) || v >= WEIR_MAX_PORTS) {
		weir_diag_fail(&ctx->d, "port \"%s\" is not valid: write all or a port id below %d", tok,
		     WEIR_MAX_PORTS);
		return -1;
	}
	*port = (int)v;
	return 0;
}

/* tok as ADDRESS:PORT (weir_endpoint.h, the tools' parser too), IPv4 only
 * when v4_only; said with the line otherwise. */
static int
endpoint(struct weir_config_ctx *ctx, const char *tok, bool v4_only, union weir_sockaddr *a)
{
	if (weir_endpoint_parse(tok, a) == 0 && (!v4_only || a->sa.sa_family == AF_INET))
		return 0;
	const char *colon = strstr(tok, "]:");
	char *end;
	unsigned long p = colon ? strtoul(colon + 2, &end, 10) : 0;
	if (!v4_only && tok[0] == '[' && colon && *end == 0 && p > 0 && p <= 65535)
		weir_diag_fail(&ctx->d, "address \"%s\": \"%.*s\" is not an IPv6 address", tok, (int)(colon - tok - 1),
			       tok + 1);
	else if (v4_only)
		weir_diag_fail(&ctx->d, "address \"%s\" is not valid: write IPV4:PORT, e.g. 198.18.0.1:26401", tok);
	else
		weir_diag_fail(&ctx->d, "address \"%s\" is not valid: write IPV4:PORT or [IPV6]:PORT, e.g. "
					"[2001:db8::1]:26401", tok);
	return -1;
}

/* "198.18.0.1:26401" -> address and port in network order. */
int
weir_config_ipv4_port(struct weir_config_ctx *ctx, const char *tok, uint32_t *ip, uint16_t *port)
{
	union weir_sockaddr a;
	if (endpoint(ctx, tok, true, &a) != 0)
		return -1;
	*ip = a.v4.sin_addr.s_addr;
	*port = a.v4.sin_port;
	return 0;
}

int
weir_config_ip_port(struct weir_config_ctx *ctx, const char *tok, uint8_t *family, uint32_t *ip4, uint8_t ip6[16],
		    uint16_t *port)
{
	union weir_sockaddr a;
	if (endpoint(ctx, tok, false, &a) != 0)
		return -1;
	if (a.sa.sa_family == AF_INET6) {
		*family = 6;
		memcpy(ip6, &a.v6.sin6_addr, 16);
		*port = a.v6.sin6_port;
	} else {
		*family = 4;
		*ip4 = a.v4.sin_addr.s_addr;
		*port = a.v4.sin_port;
	}
	return 0;
}

int
weir_config_cidr(const char *s, uint8_t *family, uint8_t addr[16], uint8_t *depth)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1)
		*family = 4;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*family = 6;
	else
		return -1;
	unsigned max = *family == 4 ? 32 : 128;
	char *end;
	unsigned long d = slash ? strtoul(slash + 1, &end, 10) : max;
	if ((slash && (*end || end == slash + 1)) || d > max)
		return -1;
	*depth = (uint8_t)d;
	return 0;
}

/* One line's items, separated by commas or blanks, up to a "#" comment. */
static int
list_items(char *p, int (*fn)(const char *item, void *arg, char *err, size_t errlen), void *arg, char *why,
	   size_t whylen)
{
	for (;;) {
		p += strspn(p, ", \t\r");
		if (*p == '\0' || *p == '#')
			return 0;
		char *item = p;
		p += strcspn(p, ", \t\r#");
		char saved = *p;
		*p = '\0';
		int rc = fn(item, arg, why, whylen);
		*p = saved;
		if (rc != 0)
			return -1;
	}
}

int
weir_config_list(const char *spec, int (*fn)(const char *item, void *arg, char *err, size_t errlen), void *arg,
		 char *err, size_t errlen)
{
	char why[256], line[4096];
	if (spec[0] != '@') {
		snprintf(line, sizeof(line), "%s", spec);
		if (list_items(line, fn, arg, why, sizeof(why)) == 0)
			return 0;
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	char *text;
	size_t len;
	if (weir_diag_read_file(spec + 1, 64u << 20, &text, &len, err, errlen) != 0)
		return -1;
	/* The config's own line reader: a NUL or a control byte is an error at its line, not the list's end. */
	struct weir_diag d;
	weir_diag_init(&d, spec + 1, err, errlen);
	const char *p = text, *end = text + len;
	int got;
	while (d.n_errors == 0 && (got = weir_diag_next_line(&d, &p, end, line, sizeof(line))) != 0)
		if (got == 1 && list_items(line, fn, arg, why, sizeof(why)) != 0)
			weir_diag_fail(&d, "%s", why);
	free(text);
	return d.n_errors ? -1 : 0;
}

int
weir_config_word(struct weir_config_ctx *ctx, const char *what, const char *tok, char *out, size_t len)
{
	if (strlen(tok) >= len) {
		weir_diag_fail(&ctx->d, "%s \"%s\" is too long (at most %zu bytes)", what, tok, len - 1);
		return -1;
	}
	snprintf(out, len, "%s", tok);
	return 0;
}
