#include "weir_dead_letter.h"

const char *const weir_dead_letter_names[WEIR_DL_MAX] = {
	"none",
#define WEIR_DEAD_LETTER(name, help) #name,
#include "weir_dead_letter.def"
#undef WEIR_DEAD_LETTER
};
const char *const weir_dead_letter_help[WEIR_DL_MAX] = {
	"not a dead letter",
#define WEIR_DEAD_LETTER(name, help) help,
#include "weir_dead_letter.def"
#undef WEIR_DEAD_LETTER
};
