#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_record.h"

const char *const weir_record_flag_names[WEIR_REC_FLAG_BITS] = { "duplicate", "late", "retransmitted", "truncated",
								   "nic_time" };

void
weir_record_flags_format(unsigned flags, char *out, size_t len)
{
	size_t o = 0;
	out[0] = 0;
	for (unsigned b = 0; b < WEIR_REC_FLAG_BITS; b++)
		if (flags & (1u << b) && o < len)
			o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "," : "", weir_record_flag_names[b]);
}

const char *
weir_record_kind_name(unsigned kind)
{
	static const char *const names[WEIR_REC_KIND_MAX] = {
		[WEIR_REC_PAD] = "pad", [WEIR_REC_EVENT] = "event", [WEIR_REC_LOSS] = "loss",
		[WEIR_REC_HEARTBEAT] = "heartbeat", [WEIR_REC_END_OF_SESSION] = "end_of_session",
		[WEIR_REC_DEAD_LETTER] = "dead_letter",
	};
	return kind < WEIR_REC_KIND_MAX ? names[kind] : "unknown";
}

void
weir_source_format(const uint8_t key[WEIR_SOURCE_BYTES], char *out, size_t len)
{
	if (key[0] == 0xFF && key[1] == 'W' && key[2] == 'F') {
		uint64_t id = 0;
		for (unsigned i = 8; i < 16; i++)
			id = id << 8 | key[i];
		if (key[3] | key[4] | key[5] | key[6])
			snprintf(out, len, "wf:%llu@%u.%u.%u.%u", (unsigned long long)id, key[3], key[4], key[5], key[6]);
		else
			snprintf(out, len, "wf:%llu", (unsigned long long)id);
		return;
	}
	/* A MoldUDP64 session: 10 bytes, then the sender when keys are qualified. */
	unsigned n = 10, o = 0;
	while (n && (key[n - 1] == 0 || key[n - 1] == ' '))
		n--;
	for (unsigned i = 0; i < n && o + 1 < len; i++)
		out[o++] = key[i] >= 0x20 && key[i] < 0x7f && key[i] != '"' && key[i] != '\\' ? (char)key[i] : '?';
	out[o] = 0;
	if (key[10] | key[11] | key[12] | key[13] | key[14] | key[15])
		snprintf(out + o, len - o, "@%u.%u.%u.%u:%u", key[10], key[11], key[12], key[13],
			 (unsigned)(key[14] << 8 | key[15]));
}

int
weir_source_parse(const char *name, char pad, uint8_t key[WEIR_SOURCE_BYTES])
{
	memset(key, 0, WEIR_SOURCE_BYTES);
	unsigned a, b, c, d, port;
	char *end;
	if (strncmp(name, "wf:", 3) == 0) {
		unsigned long long id = strtoull(name + 3, &end, 10);
		if (end == name + 3)
			return -1;
		key[0] = 0xFF;
		key[1] = 'W';
		key[2] = 'F';
		if (*end == '@') {
			if (sscanf(end + 1, "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || (a | b | c | d) > 255)
				return -1;
			key[3] = (uint8_t)a, key[4] = (uint8_t)b, key[5] = (uint8_t)c, key[6] = (uint8_t)d;
		} else if (*end) {
			return -1;
		}
		for (unsigned i = 15; i >= 8; i--, id >>= 8)
			key[i] = (uint8_t)id;
		return 0;
	}
	const char *at = strchr(name, '@');
	size_t n = at ? (size_t)(at - name) : strlen(name);
	if (n == 0 || n > 10)
		return -1;
	memcpy(key, name, n);
	memset(key + n, pad, 10 - n);
	if (at) {
		if (sscanf(at + 1, "%u.%u.%u.%u:%u", &a, &b, &c, &d, &port) != 5 || (a | b | c | d) > 255 || port > 65535)
			return -1;
		key[10] = (uint8_t)a, key[11] = (uint8_t)b, key[12] = (uint8_t)c, key[13] = (uint8_t)d;
		key[14] = (uint8_t)(port >> 8), key[15] = (uint8_t)port;
	}
	return 0;
}
