/*
 * One sender a session name (replay/weir_replay_senders.c): in a log keyed
 * by sender, the first sender of a name claims it and another is refused;
 * keys without a sender claim nothing; weir frame keys carry their sender
 * elsewhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "weir_replay_senders.h"

static void
key(uint8_t k[WEIR_SOURCE_BYTES], const char *name)
{
	assert_int_equal(weir_source_parse(name, ' ', k), 0);
}

static void
should_let_one_sender_claim_a_name_and_refuse_another(void **state)
{
	(void)state;
	struct weir_replay_senders t;
	memset(&t, 0, sizeof(t));
	uint8_t a[16], b[16], c[16], plain[16];
	key(a, "SESS1@198.18.0.1:26401");
	key(b, "SESS1@198.18.0.9:26401");
	key(c, "SESS2@198.18.0.9:26401");
	key(plain, "SESS1");
	const uint8_t *other = NULL;
	assert_false(weir_source_has_sender(plain));
	assert_true(weir_source_has_sender(a));
	assert_int_equal(WEIR_REPLAY_CLAIMED, weir_replay_senders_claim(&t, a, &other));
	assert_int_equal(WEIR_REPLAY_CLAIMED, weir_replay_senders_claim(&t, a, &other)); /* its own, again */
	assert_int_equal(WEIR_REPLAY_CLAIMED_BY_OTHER, weir_replay_senders_claim(&t, b, &other));
	assert_memory_equal(other, a, 16);
	assert_int_equal(WEIR_REPLAY_CLAIMED, weir_replay_senders_claim(&t, c, &other)); /* another name */
	assert_int_equal(t.names.n, 2);
	weir_replay_senders_free(&t);
}

static void
should_tell_weir_frame_senders_apart_by_their_address_bytes(void **state)
{
	(void)state;
	struct weir_replay_senders t;
	memset(&t, 0, sizeof(t));
	uint8_t a[16], b[16], bare[16];
	key(a, "wf:77@10.0.0.1");
	key(b, "wf:77@10.0.0.2");
	key(bare, "wf:77");
	const uint8_t *other = NULL;
	assert_false(weir_source_has_sender(bare));
	assert_int_equal(WEIR_REPLAY_CLAIMED, weir_replay_senders_claim(&t, a, &other));
	assert_int_equal(WEIR_REPLAY_CLAIMED_BY_OTHER, weir_replay_senders_claim(&t, b, &other));
	assert_memory_equal(other, a, 16);
	weir_replay_senders_free(&t);
}

/* No bound: a name is checked however many came before it (a bound of
 * 65,536 names once left every later name unchecked, unsaid). */
static void
should_check_a_name_however_many_came_before_it(void **state)
{
	(void)state;
	struct weir_replay_senders t;
	memset(&t, 0, sizeof(t));
	uint8_t k[16];
	const uint8_t *other = NULL;
	char name[40];
	for (unsigned i = 0; i < 200000; i++) {
		snprintf(name, sizeof(name), "S%u@198.18.0.1:1", i);
		key(k, name);
		assert_int_equal(weir_replay_senders_claim(&t, k, &other), WEIR_REPLAY_CLAIMED);
	}
	key(k, "S199999@198.18.0.2:1");
	assert_int_equal(weir_replay_senders_claim(&t, k, &other), WEIR_REPLAY_CLAIMED_BY_OTHER);
	key(k, "S199999@198.18.0.1:1");
	assert_memory_equal(other, k, 16);
	key(k, "S5@198.18.0.2:1");
	assert_int_equal(weir_replay_senders_claim(&t, k, &other), WEIR_REPLAY_CLAIMED_BY_OTHER);
	weir_replay_senders_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_let_one_sender_claim_a_name_and_refuse_another),
		cmocka_unit_test(should_tell_weir_frame_senders_apart_by_their_address_bytes),
		cmocka_unit_test(should_check_a_name_however_many_came_before_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
