/* Inside config/: the parse state, the value parsers every command shares
 * (each reports its own error at the line being read) and the command
 * table. */
#ifndef WEIR_CONFIG_PVT_H
#define WEIR_CONFIG_PVT_H

#include <stddef.h>
#include <stdint.h>

#include "weir_config.h"
#include "weir_number.h"
#include "weir_diag.h"

#define WEIR_CONFIG_MAX_SETTINGS 128

struct weir_config_ctx {
	struct weir_diag d;
	struct weir_config *cfg;
	const char *const *reads;    /* the commands the program reads; NULL: every one */
	bool port_only;              /* a port file (weir_config_load_port): eal, set, port */
	/* One-off settings given so far ("ring size", "port config 0 rxd"): a
	 * second is refused, naming the first's line, not silently the winner. */
	unsigned n_settings;
	struct {
		char key[64];
		unsigned line;
	} settings[WEIR_CONFIG_MAX_SETTINGS];
};

/* Each 0, or -1 with the error reported; what names the setting in it. */
int weir_config_uint_range(struct weir_config_ctx *ctx, const char *what, const char *tok, uint64_t lo, uint64_t hi,
			   uint64_t *v);
/* 4096, 64K, 16M, 1G (powers of 1024). */
/* True (and an error said) when the setting named by words t[0..words)
 * was given before; else it is noted as given here. */
bool weir_config_given_before(struct weir_config_ctx *ctx, char *const *t, int words);
/* s, m, h or d, up to ten years (retention). */
int weir_config_age(struct weir_config_ctx *ctx, const char *what, const char *tok, uint64_t *ns);
/* tok into out (len bytes with its NUL); too long is an error naming what. */
int weir_config_word(struct weir_config_ctx *ctx, const char *what, const char *tok, char *out, size_t len);
/* export ... (weir_config_export.c) */
void weir_config_cmd_export(struct weir_config_ctx *ctx, char **t, int n);
void weir_config_validate_export(struct weir_config_ctx *ctx);
/* feed ... (weir_config_feed.c) */
void weir_config_cmd_feed(struct weir_config_ctx *ctx, char **t, int n);
void weir_config_validate_feeds(struct weir_config_ctx *ctx);
/* user NAME [group GROUP] (weir_config_user.c) */
void weir_config_cmd_user(struct weir_config_ctx *ctx, char **t, int n);
/* IPV4:PORT or [IPV6]:PORT, network order. */
int weir_config_ip_port(struct weir_config_ctx *ctx, const char *tok, uint8_t *family, uint32_t *ip4, uint8_t ip6[16],
			uint16_t *port);
int weir_config_size(struct weir_config_ctx *ctx, const char *what, const char *tok, uint64_t *v);
/* 100ms, 5s, 250us, 0s. */
int weir_config_duration(struct weir_config_ctx *ctx, const char *what, const char *tok, uint64_t *ns);
int weir_config_corelist(struct weir_config_ctx *ctx, const char *tok, struct weir_config *cfg);
/* The topic's index, added when new. */
int weir_config_topic_id(struct weir_config_ctx *ctx, const char *name, uint16_t *id);
/* "all" (-1) or a port id. */
int weir_config_port_sel(struct weir_config_ctx *ctx, const char *tok, int *port);
/* IPV4:PORT, both kept in network order. */
int weir_config_ipv4_port(struct weir_config_ctx *ctx, const char *tok, uint32_t *ip, uint16_t *port);
/* "${NAME}" is replaced by the environment's value; unset is an error. */
/* weir_config_names.c: false (said at the line) when Kafka or TLS would
 * refuse it at start. */
bool weir_config_brokers_ok(struct weir_config_ctx *ctx, const char *list);
bool weir_config_kafka_topic_ok(struct weir_config_ctx *ctx, const char *what, const char *name);
bool weir_config_tls_pair_ok(struct weir_config_ctx *ctx, const char *cert, const char *key);

/* 0, -1 said, or (quiet set) -2 with unset naming a variable that is not set. */
int weir_config_expand_env(struct weir_config_ctx *ctx, const char *in, char *out, size_t outlen, bool quiet,
			   char *unset, size_t unsetlen);

/* One command: its first word, the handler of its line's n words, and how
 * many leading words name a setting that may be given once (0: the command
 * may repeat, as eal, decoder and topic do). */
struct weir_config_command {
	const char *name;
	void (*handler)(struct weir_config_ctx *ctx, char **t, int n);
	int once_words;
};
/* Ends with a NULL name. */
extern const struct weir_config_command weir_config_commands[];

#endif
