/* Why a packet is a dead letter: the reasons of weir_dead_letter.def, in
 * order.  A record's reason field and the counter block's dead_letter[]
 * index both use them. */
#ifndef WEIR_DEAD_LETTER_H
#define WEIR_DEAD_LETTER_H

enum weir_dead_letter_reason {
	WEIR_DL_NONE = 0,
#define WEIR_DEAD_LETTER(name, help) WEIR_DL_##name,
#include "weir_dead_letter.def"
#undef WEIR_DEAD_LETTER
	WEIR_DL_MAX
};

extern const char *const weir_dead_letter_names[WEIR_DL_MAX];
extern const char *const weir_dead_letter_help[WEIR_DL_MAX];

#endif
