#include <stdio.h>

#include "weir_record.h"

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
