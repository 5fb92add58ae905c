/* What Kafka and TLS will refuse at start, refused at the config's line
 * instead: a broker list that is not HOST:PORT,..., a topic name Kafka does
 * not allow, a certificate and key that do not go together. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>

#include "weir_config_pvt.h"

/* HOST:PORT, HOST a name or an address ([v6] in brackets), PORT 1-65535. */
static bool
broker_ok(const char *b, size_t n)
{
	const char *colon = NULL;
	for (size_t i = n; i > 0; i--)
		if (b[i - 1] == ':') {
			colon = b + i - 1;
			break;
		}
	if (colon == NULL || colon == b || colon + 1 == b + n)
		return false;
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (end != b + n || port == 0 || port > 65535)
		return false;
	if (b[0] == '[') /* [v6]:port */
		return colon[-1] == ']' && colon - b > 2;
	for (const char *p = b; p < colon; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
			return false;
	return true;
}

bool
weir_config_brokers_ok(struct weir_config_ctx *ctx, const char *list)
{
	for (const char *p = list;;) {
		size_t n = strcspn(p, ",");
		if (!broker_ok(p, n)) {
			weir_diag_fail(&ctx->d, "brokers \"%s\": \"%.*s\" is not HOST:PORT (a name or address, a port "
						"1-65535; several separated by commas)",
				       list, (int)n, p);
			return false;
		}
		if (p[n] == 0)
			return true;
		p += n + 1;
	}
}

bool
weir_config_kafka_topic_ok(struct weir_config_ctx *ctx, const char *what, const char *name)
{
	size_t n = strlen(name);
	bool ok = n > 0 && n <= 249 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)name[i]) || name[i] == '.' || name[i] == '_' || name[i] == '-';
	if (!ok)
		weir_diag_fail(&ctx->d, "%s \"%s\" is not a name Kafka takes: 1 to 249 of letters, digits, '.', '_' "
					"and '-' (not \".\" or \"..\")",
			       what, name);
	return ok;
}

bool
weir_config_tls_pair_ok(struct weir_config_ctx *ctx, const char *cert, const char *key)
{
	const char *files[2] = { cert, key };
	for (int i = 0; i < 2; i++) { /* as the endpoint reads them: whole, up to 64 KiB */
		struct stat st;
		if (stat(files[i], &st) == 0 && st.st_size > 65536) {
			weir_diag_fail(&ctx->d, "metrics tls: %s: larger than 64 KiB: not a PEM certificate or key", files[i]);
			return false;
		}
	}
	gnutls_certificate_credentials_t cred;
	if (gnutls_certificate_allocate_credentials(&cred) != GNUTLS_E_SUCCESS)
		return true; /* nothing to judge with: the start will say */
	int rc = gnutls_certificate_set_x509_key_file2(cred, cert, key, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(cred);
	if (rc >= 0)
		return true;
	const char *why = rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ? "the key is not the certificate's"
			  : rc == GNUTLS_E_DECRYPTION_FAILED || rc == GNUTLS_E_PK_INVALID_PRIVKEY
				  ? "the key is encrypted or not a private key (give an unencrypted PEM key)"
				  : gnutls_strerror(rc);
	weir_diag_fail(&ctx->d, "metrics tls %s %s: %s", cert, key, why);
	return false;
}
