/* weir-export's record mapping (docs/formats.md, "Kafka export") and its
 * configuration's FILE:LINE errors, librdkafka's own verdict included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "weir_config.h"
#include "weir_dead_letter.h"
#include "weir_export.h"
#include "weir_export_map.h"
#include "weir_export_pvt.h"
#include "weir_number.h"

/* name's value; every header's length, handed to librdkafka, checked on the way. */
static const char *
header(const struct weir_export_record *o, const char *name)
{
	const char *found = NULL;
	for (unsigned i = 0; i < o->n_headers; i++) {
		assert_int_equal(o->headers[i].value_len, strlen(o->headers[i].value));
		if (strcmp(o->headers[i].name, name) == 0)
			found = o->headers[i].value;
	}
	return found;
}

static void
should_write_numbers_in_decimal_from_0_to_the_largest(void **state)
{
	(void)state;
	const uint64_t v[] = { 0, 7, 10, 99, 1000000, 1795959361362680955ull, UINT64_MAX };
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char want[32], got[32];
		snprintf(want, sizeof(want), "%" PRIu64, v[i]);
		memset(got, 'x', sizeof(got));
		assert_int_equal(weir_format_u64(got, v[i]), strlen(want));
		assert_string_equal(got, want);
	}
}

static void
should_map_an_event_to_key_value_timestamp_and_headers(void **state)
{
	(void)state;
	_Alignas(8) uint8_t buf[256] = { 0 };
	struct weir_record *r = (struct weir_record *)buf;
	memcpy(r->source, "ABC123    ", 10);
	r->kind = WEIR_REC_EVENT;
	r->flags = WEIR_REC_F_LATE | WEIR_REC_F_RETRANSMITTED;
	r->seq = 1234567;
	r->rx_ns = 1795959361362680955ull;
	r->n_rules = 2;
	((uint32_t *)(r + 1))[0] = 7;
	((uint32_t *)(r + 1))[1] = 42;
	struct weir_log_entry e = { .offset = 9, .worker = 1 };
	struct weir_log_item it = { .entry = &e, .record = r, .payload = (const uint8_t *)"hello", .payload_len = 5 };
	struct weir_export_record o;
	weir_export_map(&it, &o);
	assert_string_equal(o.key, "ABC123");
	assert_int_equal(o.key_len, 6);
	assert_int_equal(o.value_len, 5);
	assert_memory_equal(o.value, "hello", 5);
	assert_int_equal(o.timestamp_ms, 1795959361362); /* rx time: the frame carries no event time */
	assert_string_equal(header(&o, "weir.kind"), "event");
	assert_string_equal(header(&o, "weir.seq"), "1234567");
	assert_string_equal(header(&o, "weir.flags"), "late,retransmitted");
	assert_string_equal(header(&o, "weir.rules"), "7,42");
	assert_string_equal(header(&o, "weir.rx_ns"), "1795959361362680955");
	assert_null(header(&o, "weir.loss.first"));
	r->event_time_ns = 1700000000123456789ull; /* carried by the frame: it wins */
	weir_export_map(&it, &o);
	assert_int_equal(o.timestamp_ms, 1700000000123);
}

/* A hole the log states lost is said in Kafka too: the offsets and why,
 * with no source (any may have lost records there) and no offset of its own. */
static void
should_map_a_hole_in_the_log_to_its_offsets_and_cause(void **state)
{
	(void)state;
	struct weir_export_record o;
	weir_export_map_hole(100, 18446744073709551614ull, WEIR_EXPORT_HOLE_DAMAGED, 1795959361362, &o);
	assert_int_equal(o.key_len, 0);
	assert_int_equal(o.value_len, 0);
	assert_int_equal(o.timestamp_ms, 1795959361362);
	assert_string_equal(header(&o, "weir.kind"), "log_hole");
	assert_string_equal(header(&o, "weir.hole.first"), "100");
	assert_string_equal(header(&o, "weir.hole.last"), "18446744073709551614");
	assert_string_equal(header(&o, "weir.hole.cause"), "damaged");
	assert_null(header(&o, "weir.offset"));
	assert_null(header(&o, "weir.seq"));
	weir_export_map_hole(7, 7, WEIR_EXPORT_HOLE_RETENTION, 0, &o);
	assert_string_equal(header(&o, "weir.hole.cause"), "retention");
	assert_string_equal(header(&o, "weir.hole.last"), "7");
}

/* What hard retention deleted unshipped: kept to be stated in Kafka until
 * a transaction that stated it commits (an abort states it again, a rewind
 * finds it again), counted when one does, and two deletions with records
 * shipped between them stated apart. */
static void
should_keep_deletions_to_state_until_a_commit_and_count_each_once(void **state)
{
	(void)state;
	struct weir_export_topic cfg = { .log_topic = "itch" };
	struct weir_export_topic_state t = { .cfg = &cfg };
	weir_export_deleted(&t, 100, 200);
	weir_export_deleted(&t, 100, 200); /* a rewind's seek finds it again */
	assert_int_equal(t.n_deleted, 1);
	t.n_deleted_stated = 1; /* stated in the open transaction ... */
	weir_export_holes_aborted(&t); /* ... which Kafka did not keep */
	assert_int_equal(t.n_deleted_stated, 0);
	assert_int_equal(t.n_deleted, 1);
	t.n_deleted_stated = 1;
	weir_export_deleted(&t, 250, 300); /* 200-249 shipped in this transaction meanwhile */
	assert_int_equal(t.n_deleted, 2);
	assert_int_equal(t.deleted[0].first, 100);
	assert_int_equal(t.deleted[0].next, 200);
	assert_int_equal(t.deleted[1].first, 250);
	assert_int_equal(t.deleted[1].next, 300);
	weir_export_holes_committed(&t); /* 100-199 stated and committed; 250-299 still to state */
	assert_int_equal(t.truncated, 100); /* counted once Kafka holds the statement */
	assert_int_equal(t.n_deleted, 1);
	assert_int_equal(t.deleted[0].first, 250);
	weir_export_deleted(&t, 300, 400); /* adjacent to one not stated: one range */
	assert_int_equal(t.n_deleted, 1);
	assert_int_equal(t.deleted[0].next, 400);
	t.n_deleted_stated = 1;
	weir_export_holes_aborted(&t);
	weir_export_deleted(&t, 200, 450); /* the abort's rewind: from Kafka's point, over what was read */
	assert_int_equal(t.n_deleted, 1);
	assert_int_equal(t.deleted[0].first, 200);
	assert_int_equal(t.deleted[0].next, 450);
	t.n_deleted_stated = 1;
	weir_export_holes_committed(&t);
	assert_int_equal(t.n_deleted, 0);
	assert_int_equal(t.truncated, 350); /* 200-249 too: read by the aborted transaction, then deleted */
}

/* More separate deletions wait than it keeps apart (8; never reached in a
 * run): none is dropped.  The last two become one range, stated again if
 * the last was stated, so what shipped between them is stated lost too:
 * wider than the truth, never narrower. */
static void
should_keep_every_deletion_when_more_wait_than_it_keeps_apart(void **state)
{
	(void)state;
	struct weir_export_topic cfg = { .log_topic = "itch" };
	struct weir_export_topic_state t = { .cfg = &cfg };
	for (unsigned k = 0; k < WEIR_EXPORT_DELETIONS; k++)
		weir_export_deleted(&t, 100 + 20 * k, 110 + 20 * k);
	assert_int_equal(t.n_deleted, WEIR_EXPORT_DELETIONS);
	t.n_deleted_stated = WEIR_EXPORT_DELETIONS; /* all stated in the open transaction */
	weir_export_deleted(&t, 300, 310);          /* and one more, apart from them */
	assert_int_equal(t.n_deleted, WEIR_EXPORT_DELETIONS);
	assert_int_equal(t.n_deleted_stated, WEIR_EXPORT_DELETIONS - 1); /* the widened last: stated again */
	const struct weir_export_range *last = &t.deleted[WEIR_EXPORT_DELETIONS - 1];
	assert_int_equal(last->first, 100 + 20 * (WEIR_EXPORT_DELETIONS - 1));
	assert_int_equal(last->next, 310);
	for (unsigned k = 0; k <= WEIR_EXPORT_DELETIONS; k++) { /* every deleted offset still in a range */
		uint64_t o = k < WEIR_EXPORT_DELETIONS ? 100 + 20 * k : 300, in = 0;
		for (unsigned i = 0; i < t.n_deleted; i++)
			in += t.deleted[i].first <= o && o + 10 <= t.deleted[i].next;
		assert_int_equal(in, 1);
	}
}

static void
should_map_a_loss_record_to_its_range(void **state)
{
	(void)state;
	_Alignas(8) uint8_t buf[128] = { 0 };
	struct weir_record *r = (struct weir_record *)buf;
	r->source[0] = 0xFF, r->source[1] = 'W', r->source[2] = 'F', r->source[15] = 42;
	r->kind = WEIR_REC_LOSS;
	r->seq = 100;
	r->count = 5;
	struct weir_log_entry e = { 0 };
	struct weir_log_item it = { .entry = &e, .record = r };
	struct weir_export_record o;
	weir_export_map(&it, &o);
	assert_string_equal(o.key, "wf:42");
	assert_int_equal(o.value_len, 0);
	assert_string_equal(header(&o, "weir.kind"), "loss");
	assert_string_equal(header(&o, "weir.loss.first"), "100");
	assert_string_equal(header(&o, "weir.loss.last"), "104");
	assert_string_equal(header(&o, "weir.flags"), "");
}

/* A dead letter: its reason and real length as headers, keyed by port and
 * worker (not one empty key: one partition for all of them); every record
 * carries its log offset. */
static void
should_map_a_dead_letter_with_its_reason_and_length_keyed_by_port_and_worker(void **state)
{
	(void)state;
	_Alignas(8) uint8_t buf[128] = { 0 };
	struct weir_record *r = (struct weir_record *)buf;
	r->kind = WEIR_REC_DEAD_LETTER;
	r->reason = WEIR_DL_l4_bad_checksum;
	r->count = 9000; /* a jumbo frame's real length; its first bytes are the payload */
	r->port = 1;
	struct weir_log_entry e = { .offset = 77, .worker = 3 };
	struct weir_log_item it = { .entry = &e, .record = r, .payload = (const uint8_t *)"\x01\x02", .payload_len = 2 };
	struct weir_export_record o;
	weir_export_map(&it, &o);
	assert_string_equal(header(&o, "weir.kind"), "dead_letter");
	assert_string_equal(header(&o, "weir.dead_letter.reason"), "l4_bad_checksum");
	assert_string_equal(header(&o, "weir.dead_letter.length"), "9000");
	assert_string_equal(header(&o, "weir.port"), "1");
	assert_string_equal(header(&o, "weir.offset"), "77");
	assert_string_equal(o.key, "dl:port1:worker3");
	assert_int_equal(o.key_len, strlen("dl:port1:worker3"));
}

#define TAIL "set corelist 1\ndecoder moldudp64 udp-port 26400 topic itch\nlog dir /tmp/x\n"

static void
should_read_export_lines_and_name_the_line_of_each_mistake(void **state)
{
	(void)state;
	static struct weir_config cfg;
	static char err[8192];
	assert_int_equal(weir_config_parse(TAIL "export kafka brokers 127.0.0.1:9092\n"
					       "export kafka topic itch market.itch loss market.loss\n"
					       "export kafka topic _deadletter weir.dl\nexport kafka partition-by worker\n"
					       "export kafka set compression.type zstd\nexport kafka id box7\n",
					   "t.conf", &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.exp.n_topics, 2);
	assert_string_equal(cfg.exp.topics[0].loss_topic, "market.loss");
	assert_true(cfg.exp.partition_by_worker);
	assert_string_equal(cfg.exp.id, "box7");
#ifndef __SANITIZE_THREAD__ /* librdkafka, not built for TSan, crashes under it when a client starts */
	assert_int_equal(weir_export_check_config(&cfg, "t.conf", err, sizeof(err)), 0);
	/* librdkafka's own verdict, at its line */
	assert_int_equal(weir_config_parse(TAIL "export kafka brokers h:1\nexport kafka topic itch k\n"
					       "export kafka set no.such.property 1\nexport kafka set acks sometimes\n",
					   "t.conf", &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(weir_export_check_config(&cfg, "t.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf:6: export kafka set no.such.property"));
	assert_non_null(strstr(err, "t.conf:7: export kafka set acks"));
#endif
	/* ours */
	assert_int_equal(weir_config_parse(TAIL "export kafka topic trades k\n", "t.conf", &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf:4: export of log topic \"trades\": no decoder writes it"));
	assert_int_equal(weir_config_parse(TAIL "export kafka topic itch k\n", "t.conf", &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no brokers are named"));
	assert_int_equal(weir_config_parse(TAIL "export kafka brokers a:1\nexport kafka topic itch k\n"
					       "export kafka topic itch j\n", "t.conf", &cfg, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "t.conf:6: log topic itch is exported on line 5 already"));
	assert_int_equal(weir_config_parse(TAIL "export kafka partition-by port\n", "t.conf", &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf:4: expected"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_write_numbers_in_decimal_from_0_to_the_largest),
		cmocka_unit_test(should_map_an_event_to_key_value_timestamp_and_headers),
		cmocka_unit_test(should_map_a_loss_record_to_its_range),
		cmocka_unit_test(should_map_a_hole_in_the_log_to_its_offsets_and_cause),
		cmocka_unit_test(should_keep_deletions_to_state_until_a_commit_and_count_each_once),
		cmocka_unit_test(should_keep_every_deletion_when_more_wait_than_it_keeps_apart),
		cmocka_unit_test(should_map_a_dead_letter_with_its_reason_and_length_keyed_by_port_and_worker),
		cmocka_unit_test(should_read_export_lines_and_name_the_line_of_each_mistake),
	};
	return cmocka_run_group_tests_name("export", tests, NULL, NULL);
}
