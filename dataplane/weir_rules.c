#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_diag.h"
#include "weir_frame.h"
#include "weir_rules.h"

static const struct {
	const char *name;
	unsigned flag;
} flag_names[] = {
	{ "caseless", HS_FLAG_CASELESS },   { "dotall", HS_FLAG_DOTALL },
	{ "multiline", HS_FLAG_MULTILINE }, { "singlematch", HS_FLAG_SINGLEMATCH },
	{ "utf8", HS_FLAG_UTF8 },           { "ucp", HS_FLAG_UCP },
	{ "allowempty", HS_FLAG_ALLOWEMPTY },
};

static int
find_topic(const struct weir_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->n_topics; i++)
		if (strcmp(cfg->topics[i], name) == 0)
			return (int)i;
	return -1;
}

/* The source as weir-read shows it: a MoldUDP64 session or "wf:ID". */
static int
parse_source(const char *s, uint8_t key[WEIR_SOURCE_BYTES])
{
	if (strncmp(s, "wf:", 3) == 0) {
		char *end;
		errno = 0;
		unsigned long long id = strtoull(s + 3, &end, 10);
		if (errno || *end || end == s + 3)
			return -1;
		weir_frame_source_key(key, id);
		return 0;
	}
	size_t l = strlen(s);
	if (l == 0 || l > 10)
		return -1;
	memset(key, 0, WEIR_SOURCE_BYTES);
	memset(key, ' ', 10);
	memcpy(key, s, l);
	return 0;
}

/* tag, drop, alert or route:TOPIC into r. */
static int
parse_action(struct weir_diag *c, const struct weir_config *cfg, const char *tok, struct weir_rule *r)
{
	if (strcmp(tok, "tag") == 0) {
		r->action = WEIR_RULE_TAG;
	} else if (strcmp(tok, "drop") == 0) {
		r->action = WEIR_RULE_DROP;
	} else if (strcmp(tok, "alert") == 0) {
		r->action = WEIR_RULE_ALERT;
	} else if (strncmp(tok, "route:", 6) == 0) {
		int topic = find_topic(cfg, tok + 6);
		if (topic < 0 || topic == WEIR_TOPIC_DEAD_LETTER) {
			weir_diag_fail(c, "route topic \"%s\" is not a topic of the pmd-config: add \"topic %s\" there", tok + 6,
			      tok + 6);
			return -1;
		}
		r->action = WEIR_RULE_ROUTE;
		r->route_topic = (uint16_t)topic;
	} else {
		weir_diag_fail(c, "unknown action \"%s\": valid are tag, route:TOPIC, drop, alert", tok);
		return -1;
	}
	return 0;
}

/* Hyperscan flags, comma separated, or "-" for none. */
static int
parse_flags(struct weir_diag *c, char *tok, struct weir_rule *r)
{
	if (strcmp(tok, "-") != 0) {
		char *fsave = NULL;
		for (char *f = strtok_r(tok, ",", &fsave); f; f = strtok_r(NULL, ",", &fsave)) {
			unsigned i;
			for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
				if (strcmp(f, flag_names[i].name) == 0)
					break;
			if (i == sizeof(flag_names) / sizeof(flag_names[0])) {
				weir_diag_fail(c,
				      "unknown flag \"%s\": valid are caseless, dotall, multiline, singlematch, utf8, ucp, allowempty (or - for none)",
				      f);
				return -1;
			}
			r->hs_flags |= flag_names[i].flag;
		}
	}
	return 0;
}

/* decoder=D, source=S or topic=T: which events the rule applies to. */
static int
parse_scope(struct weir_diag *c, const struct weir_config *cfg, const char *tok, struct weir_rule *r)
{
	if (strncmp(tok, "decoder=", 8) == 0) {
		if (strcmp(tok + 8, "moldudp64") == 0)
			r->scope_decoder = WEIR_DECODER_MOLDUDP64;
		else if (strcmp(tok + 8, "weirframe") == 0)
			r->scope_decoder = WEIR_DECODER_WEIRFRAME;
		else {
			weir_diag_fail(c, "decoder \"%s\" is not valid: write decoder=moldudp64 or decoder=weirframe", tok + 8);
			return -1;
		}
	} else if (strncmp(tok, "source=", 7) == 0) {
		if (parse_source(tok + 7, r->scope_source) != 0) {
			weir_diag_fail(c, "source \"%s\" is not valid: a MoldUDP64 session (1-10 characters) or wf:ID", tok + 7);
			return -1;
		}
		r->scope_by_source = true;
	} else if (strncmp(tok, "topic=", 6) == 0) {
		r->scope_topic = find_topic(cfg, tok + 6);
		if (r->scope_topic < 0) {
			weir_diag_fail(c, "topic \"%s\" is not a topic of the pmd-config", tok + 6);
			return -1;
		}
	} else {
		weir_diag_fail(c, "unknown scope \"%s\": valid are decoder=D, source=S, topic=T", tok);
		return -1;
	}
	return 0;
}

static void
parse_rule(struct weir_diag *c, char *line, const struct weir_config *cfg, struct weir_ruleset *rs)
{
	/* The expression sits between the first and the last '/' of the line. */
	char *open = strchr(line, '/'), *close = strrchr(line, '/');
	if (open == NULL || close == open) {
		weir_diag_fail(c, "expected \"ID ACTION FLAGS [decoder=D] [source=S] [topic=T] /EXPRESSION/\"");
		return;
	}
	for (char *p = close + 1; *p; p++)
		if (!isspace((unsigned char)*p)) {
			weir_diag_fail(c, "text after the closing '/' of the expression: \"%s\"", close + 1);
			return;
		}
	*open = 0;
	*close = 0;
	char *t[12];
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(line, " \t", &save); tok && n < 12; tok = strtok_r(NULL, " \t", &save))
		t[n++] = tok;
	if (n < 3) {
		weir_diag_fail(c, "expected \"ID ACTION FLAGS ... /EXPRESSION/\": an id, an action and flags (or -) come first");
		return;
	}
	if (rs->n_rules == WEIR_MAX_RULES) {
		weir_diag_fail(c, "more than %d rules", WEIR_MAX_RULES);
		return;
	}
	struct weir_rule r = { .scope_topic = -1, .line = c->line };
	char *end;
	errno = 0;
	unsigned long id = strtoul(t[0], &end, 10);
	if (errno || *end || id == 0 || id > 0x7FFFFFFFul) {
		weir_diag_fail(c, "rule id \"%s\" is not valid: give an integer from 1 to 2147483647", t[0]);
		return;
	}
	r.id = (uint32_t)id;
	for (uint32_t i = 0; i < rs->n_rules; i++)
		if (rs->rules[i].id == r.id) {
			weir_diag_fail(c, "rule id %u is already used on line %u", r.id, rs->rules[i].line);
			return;
		}
	if (parse_action(c, cfg, t[1], &r) != 0)
		return;
	r.hs_flags = HS_FLAG_SINGLEMATCH; /* a rule matches an event or not: one report is all we use */
	if (parse_flags(c, t[2], &r) != 0)
		return;
	for (int i = 3; i < n; i++)
		if (parse_scope(c, cfg, t[i], &r) != 0)
			return;
	r.expression = strdup(open + 1);
	if (r.expression == NULL || r.expression[0] == 0) {
		free(r.expression);
		weir_diag_fail(c, "empty expression");
		return;
	}
	rs->rules[rs->n_rules++] = r;
}

int
weir_rules_parse(const char *text, const char *name, const struct weir_config *cfg, struct weir_ruleset *rs,
		 char *err, size_t errlen)
{
	return weir_rules_parse_bytes(text, strlen(text), name, cfg, rs, err, errlen);
}

int
weir_rules_parse_bytes(const char *text, size_t len, const char *name, const struct weir_config *cfg, struct weir_ruleset *rs,
		 char *err, size_t errlen)
{
	struct weir_diag c;
	weir_diag_init(&c, name, err, errlen);
	memset(rs, 0, sizeof(*rs));
	rs->rules = calloc(WEIR_MAX_RULES, sizeof(*rs->rules));
	if (rs->rules == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	const char *p = text, *end = text + len;
	char buf[8192];
	int got;
	while ((got = weir_diag_next_line(&c, &p, end, buf, sizeof(buf))) != 0) {
		char *s = buf;
		while (got > 0 && isspace((unsigned char)*s))
			s++;
		if (got > 0 && *s && *s != '#')
			parse_rule(&c, s, cfg, rs);
	}
	if (rs->n_rules == 0 && c.n_errors == 0 && !cfg->rules_allow_empty) {
		c.line = c.line ? c.line : 1;
		weir_diag_fail(&c, "no rules: an empty rules file is refused, since a file caught mid-write looks the "
				   "same (replace it whole: write a new file, then mv it over this one); to run with "
				   "none, write \"rules %s allow-empty\" in the pmd-config",
			       name);
	}
	return c.n_errors ? -1 : 0;
}

uint32_t
weir_rules_breaker(uint32_t n_rules, bool (*compiles)(void *ctx, uint32_t first, uint32_t n), void *ctx)
{
	for (uint32_t i = 0; i < n_rules; i++)
		if (!compiles(ctx, i, 1))
			return i;
	if (compiles(ctx, 0, n_rules))
		return n_rules;
	uint32_t ok = 1, bad = n_rules; /* the prefix of ok rules compiles, of bad does not */
	while (bad - ok > 1) {
		uint32_t mid = ok + (bad - ok) / 2;
		*(compiles(ctx, 0, mid) ? &ok : &bad) = mid;
	}
	return bad - 1;
}

/* Whether rules [first, first + n) of a rule set compile together. */
static bool
rules_compile(void *ctx, uint32_t first, uint32_t n)
{
	const struct weir_ruleset *rs = ctx;
	const char **exprs = calloc(n, sizeof(*exprs));
	unsigned *flags = calloc(n, sizeof(*flags)), *ids = calloc(n, sizeof(*ids));
	bool ok = false;
	if (exprs && flags && ids) {
		for (uint32_t i = 0; i < n; i++) {
			exprs[i] = rs->rules[first + i].expression;
			flags[i] = rs->rules[first + i].hs_flags;
			ids[i] = i;
		}
		hs_database_t *db = NULL;
		hs_compile_error_t *ce = NULL;
		ok = hs_compile_ext_multi(exprs, flags, ids, NULL, n, HS_MODE_BLOCK, NULL, &db, &ce) == HS_SUCCESS;
		hs_free_database(db);
		hs_free_compile_error(ce);
	}
	free(exprs);
	free(flags);
	free(ids);
	return ok;
}

static int
compile(struct weir_ruleset *rs, const char *name, char *err, size_t errlen)
{
	if (rs->n_rules == 0)
		return 0;
	const char **exprs = calloc(rs->n_rules, sizeof(*exprs));
	unsigned *flags = calloc(rs->n_rules, sizeof(*flags)), *ids = calloc(rs->n_rules, sizeof(*ids));
	if (exprs == NULL || flags == NULL || ids == NULL) {
		free(exprs);
		free(flags);
		free(ids);
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	for (uint32_t i = 0; i < rs->n_rules; i++) {
		exprs[i] = rs->rules[i].expression;
		flags[i] = rs->rules[i].hs_flags;
		ids[i] = i; /* Hyperscan reports the rule's index */
	}
	hs_compile_error_t *ce = NULL;
	hs_error_t rc = hs_compile_ext_multi(exprs, flags, ids, NULL, rs->n_rules, HS_MODE_BLOCK, NULL, &rs->db, &ce);
	free(exprs);
	free(flags);
	free(ids);
	if (rc != HS_SUCCESS) {
		if (ce && ce->expression >= 0 && (uint32_t)ce->expression < rs->n_rules) {
			const struct weir_rule *r = &rs->rules[ce->expression];
			snprintf(err, errlen, "%s:%u: rule %u does not compile: %s", name, r->line, r->id, ce->message);
		} else {
			/* A limit of the set, not of one expression: find whose. */
			uint32_t b = weir_rules_breaker(rs->n_rules, rules_compile, rs);
			if (b < rs->n_rules)
				snprintf(err, errlen, "%s:%u: rule %u: the rule set does not compile with it (%s); %s",
					 name, rs->rules[b].line, rs->rules[b].id, ce ? ce->message : "unknown error",
					 rules_compile(rs, b, 1) ? "the rules before it do: simplify it, or split the set"
								 : "it does not even alone");
			else
				snprintf(err, errlen, "%s: the rule set does not compile: %s", name,
					 ce ? ce->message : "unknown error");
		}
		hs_free_compile_error(ce);
		rs->db = NULL;
		return -1;
	}
	return 0;
}

/* Copies expr[*i] up to and including the first `close` (false: none). */
static bool
copy_through(const char *expr, size_t *i, char close, char *out, size_t *o, size_t outlen)
{
	while (expr[*i] && expr[*i] != close) {
		if (*o + 1 >= outlen)
			return false;
		out[(*o)++] = expr[(*i)++];
	}
	if (!expr[*i] || *o + 1 >= outlen)
		return false;
	out[(*o)++] = expr[(*i)++];
	return true;
}

static bool
quantifier_at(const char *p)
{
	return *p == '*' || *p == '+' || *p == '?' || *p == '{';
}

/* Appends ch to out (o bytes used of outlen), or fails the copy: both
 * copiers below keep out, o and outlen under these names. */
#define PUT(ch)                         \
	do {                            \
		if (o + 1 >= outlen)    \
			return false;   \
		out[o++] = (ch);        \
	} while (0)

/* Copies the character class at expr[*ip] ('[' ... ']') whole: anchors
 * and \b inside a class are literals, not assertions.  False when it does
 * not end or does not fit. */
static bool
copy_class(const char *expr, size_t *ip, char *out, size_t *op, size_t outlen)
{
	size_t i = *ip, o = *op;
	PUT(expr[i++]);
	if (expr[i] == '^')
		PUT(expr[i++]);
	if (expr[i] == ']')
		PUT(expr[i++]);
	while (expr[i] && expr[i] != ']') {
		if (expr[i] == '\\') {
			char n = expr[i + 1];
			if (n == 0 || n == 'Q' || n == 'E')
				return false;
			PUT(expr[i++]);
			if (strchr("xopPN", n) && expr[i + 1] == '{') {
				if (!copy_through(expr, &i, '}', out, &o, outlen))
					return false;
			} else {
				PUT(expr[i++]);
			}
		} else if (expr[i] == '[' && expr[i + 1] == ':') {
			PUT(expr[i++]);
			PUT(expr[i++]);
			if (!copy_through(expr, &i, ':', out, &o, outlen) || expr[i] != ']')
				return false;
			PUT(expr[i++]);
		} else {
			PUT(expr[i++]);
		}
	}
	if (!expr[i])
		return false;
	PUT(expr[i++]);
	*ip = i;
	*op = o;
	return true;
}

bool
weir_rule_relax(const char *expr, char *out, size_t outlen)
{
	size_t i = 0, o = 0;
	while (expr[i]) {
		char ch = expr[i];
		if (ch == '\\') {
			char n = expr[i + 1];
			if (n == 0 || n == 'Q' || n == 'E')
				return false;
			if (strchr("bBAzZG", n)) {
				i += 2;
				if (quantifier_at(expr + i))
					return false;
				continue;
			}
			PUT(expr[i++]);
			if (n == 'c') { /* \cX: X is the escape's */
				PUT(expr[i++]);
				if (!expr[i])
					return false;
				PUT(expr[i++]);
			} else if (strchr("xopPNgk", n) && expr[i + 1] == '{') {
				if (!copy_through(expr, &i, '}', out, &o, outlen))
					return false;
			} else {
				PUT(expr[i++]);
			}
			continue;
		}
		if (ch == '[') {
			if (!copy_class(expr, &i, out, &o, outlen))
				return false;
			continue;
		}
		if (ch == '^' || ch == '$') {
			i++;
			if (quantifier_at(expr + i))
				return false;
			continue;
		}
		if (ch == '(' && expr[i + 1] == '?') {
			/* (?: and flag groups like (?i) (?-s) (?i: only */
			size_t j = i + 2;
			while (expr[j] == '-' || (expr[j] >= 'a' && expr[j] <= 'z')) {
				if (expr[j] == 'x')
					return false;
				j++;
			}
			if (expr[j] != ':' && expr[j] != ')')
				return false;
		}
		PUT(expr[i++]);
	}
#undef PUT
	out[o] = 0;
	return true;
}

/* The burst database: every rule whose expression relaxes.  Relaxing only
 * takes out zero-width assertions, so a relaxed expression is as wide as its
 * rule and compiles wherever the rule did; should the set still not compile,
 * there is no burst scan and every event is scanned alone, as before it. */
static void
compile_burst(struct weir_ruleset *rs, const char *name)
{
	uint32_t n = rs->n_rules, nb = 0, nu = 0;
	char **relaxed = calloc(n, sizeof(*relaxed));
	const char **bexpr = calloc(n, sizeof(*bexpr)), **uexpr = calloc(n, sizeof(*uexpr));
	unsigned *bflags = calloc(n, sizeof(unsigned)), *bids = calloc(n, sizeof(unsigned));
	unsigned *uflags = calloc(n, sizeof(unsigned)), *uids = calloc(n, sizeof(unsigned));
	hs_compile_error_t *ce = NULL;
	if (!relaxed || !bexpr || !uexpr || !bflags || !bids || !uflags || !uids)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		struct weir_rule *r = &rs->rules[i];
		size_t len = strlen(r->expression) + 1;
		/* utf8/ucp read characters across event edges; allowempty may match nothing. */
		r->burst_scannable = !(r->hs_flags & (HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_ALLOWEMPTY)) &&
				     (relaxed[i] = malloc(len)) != NULL &&
				     weir_rule_relax(r->expression, relaxed[i], len);
		if (r->burst_scannable) {
			bexpr[nb] = relaxed[i];
			bflags[nb] = r->hs_flags & ~(unsigned)HS_FLAG_SINGLEMATCH; /* every end offset */
			bids[nb++] = i;
		} else {
			uexpr[nu] = r->expression;
			uflags[nu] = r->hs_flags;
			uids[nu++] = i;
		}
	}
	if (nb == 0)
		goto out;
	if (hs_compile_ext_multi(bexpr, bflags, bids, NULL, nb, HS_MODE_BLOCK, NULL, &rs->burst_db, &ce) !=
		    HS_SUCCESS ||
	    (nu && hs_compile_ext_multi(uexpr, uflags, uids, NULL, nu, HS_MODE_BLOCK, NULL, &rs->unscannable_db,
					&ce) != HS_SUCCESS)) {
		fprintf(stderr, "weir-rules: %s: no burst scan (%s): every event is scanned alone\n", name,
			ce ? ce->message : "unknown error");
		if (rs->burst_db)
			hs_free_database(rs->burst_db);
		rs->burst_db = NULL;
		rs->unscannable_db = NULL;
		goto out;
	}
	rs->n_burst_scannable = nb;
out:
	hs_free_compile_error(ce);
	if (rs->burst_db == NULL)
		for (uint32_t i = 0; i < n; i++)
			rs->rules[i].burst_scannable = false;
	for (uint32_t i = 0; relaxed && i < n; i++)
		free(relaxed[i]);
	free(relaxed);
	free(bexpr);
	free(uexpr);
	free(bflags);
	free(bids);
	free(uflags);
	free(uids);
}

struct weir_ruleset *
weir_rules_load(const char *path, const struct weir_config *cfg, unsigned n_workers, char *err, size_t errlen)
{
	char *text;
	size_t len;
	if (weir_diag_read_file(path, 4u << 20, &text, &len, err, errlen) != 0)
		return NULL;
	struct weir_ruleset *rs = calloc(1, sizeof(*rs));
	if (rs == NULL) {
		free(text);
		return NULL;
	}
	int rc = weir_rules_parse_bytes(text, len, path, cfg, rs, err, errlen);
	free(text);
	if (rc != 0 || compile(rs, path, err, errlen) != 0) {
		weir_rules_free(rs);
		return NULL;
	}
	if (rs->db)
		compile_burst(rs, path);
	if (rs->db) {
		/* One prototype grown for the databases, then a clone per worker. */
		hs_scratch_t *proto = NULL;
		if (hs_alloc_scratch(rs->db, &proto) != HS_SUCCESS ||
		    (rs->burst_db && hs_alloc_scratch(rs->burst_db, &proto) != HS_SUCCESS) ||
		    (rs->unscannable_db && hs_alloc_scratch(rs->unscannable_db, &proto) != HS_SUCCESS)) {
			if (proto)
				hs_free_scratch(proto);
			snprintf(err, errlen, "%s: cannot allocate Hyperscan scratch", path);
			weir_rules_free(rs);
			return NULL;
		}
		for (unsigned w = 0; w < n_workers; w++)
			if (hs_clone_scratch(proto, &rs->scratch[w]) != HS_SUCCESS) {
				hs_free_scratch(proto);
				snprintf(err, errlen, "%s: cannot clone Hyperscan scratch", path);
				weir_rules_free(rs);
				return NULL;
			}
		hs_free_scratch(proto);
	}
	return rs;
}

void
weir_rules_free(struct weir_ruleset *rs)
{
	if (rs == NULL)
		return;
	for (unsigned w = 0; w < WEIR_MAX_WORKERS; w++)
		if (rs->scratch[w])
			hs_free_scratch(rs->scratch[w]);
	if (rs->db)
		hs_free_database(rs->db);
	if (rs->burst_db)
		hs_free_database(rs->burst_db);
	if (rs->unscannable_db)
		hs_free_database(rs->unscannable_db);
	for (uint32_t i = 0; rs->rules && i < rs->n_rules; i++)
		free(rs->rules[i].expression);
	free(rs->rules);
	free(rs);
}
