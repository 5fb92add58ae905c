#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "weir_ring.h"

#define RING_BYTES WEIR_RING_MIN_BYTES

static struct weir_ring *
new_ring(void)
{
	struct weir_ring *r = aligned_alloc(64, weir_ring_memsize(RING_BYTES));
	memset(r, 0xAB, weir_ring_memsize(RING_BYTES)); /* garbage, as fresh memory may hold */
	weir_ring_init(r, 3, RING_BYTES);
	return r;
}

static struct weir_record *
put(struct weir_ring_producer *p, uint32_t payload, uint64_t seq)
{
	struct weir_record *rec = weir_ring_reserve(p, (uint32_t)sizeof(*rec) + payload);
	if (rec) {
		rec->kind = WEIR_REC_EVENT;
		rec->seq = seq;
		memset(rec + 1, (int)(seq & 0xFF), payload);
	}
	return rec;
}

static void
should_refuse_a_ring_with_bad_magic_or_version(void **state)
{
	struct weir_ring *r = new_ring();
	const char *why;
	assert_int_equal(weir_ring_check(r, &why), 0);
	r->version = 99;
	assert_int_equal(weir_ring_check(r, &why), -1);
	r->version = 0;
	assert_int_equal(weir_ring_check(r, &why), -1);
	r->version = WEIR_RING_VERSION;
	r->magic = 0;
	assert_int_equal(weir_ring_check(r, &why), -1);
	free(r);
}

static void
should_refuse_a_record_larger_than_half_the_ring(void **state)
{
	struct weir_ring *r = new_ring();
	struct weir_ring_producer p;
	weir_ring_producer_attach(&p, r);
	assert_null(weir_ring_reserve(&p, RING_BYTES / 2 + 8));
	assert_int_equal(p.tail, 0);
	free(r);
}

static void
should_hide_records_until_published(void **state)
{
	struct weir_ring *r = new_ring();
	struct weir_ring_producer p;
	struct weir_ring_consumer c;
	weir_ring_producer_attach(&p, r);
	weir_ring_consumer_attach(&c, r);
	uint64_t pos;
	assert_non_null(put(&p, 10, 1));
	assert_null(weir_ring_peek(&c, &pos));
	weir_ring_publish(&p, 123);
	const struct weir_record *rec = weir_ring_peek(&c, &pos);
	assert_non_null(rec);
	assert_int_equal(rec->seq, 1);
	assert_int_equal(pos, 0);
	assert_int_equal(r->producer_heartbeat_ns, 123);
	free(r);
}

static void
should_report_full_and_accept_again_once_the_consumer_releases(void **state)
{
	struct weir_ring *r = new_ring();
	struct weir_ring_producer p;
	struct weir_ring_consumer c;
	weir_ring_producer_attach(&p, r);
	weir_ring_consumer_attach(&c, r);
	unsigned n = 0;
	while (put(&p, 56, n)) /* 120-byte records */
		n++;
	assert_int_equal(n, RING_BYTES / 120);
	weir_ring_publish(&p, 0);
	/* Reading alone frees nothing: only release (after durability) does. */
	uint64_t pos;
	const struct weir_record *rec = weir_ring_peek(&c, &pos);
	weir_ring_consumed(&c, rec);
	assert_null(put(&p, 56, 999));
	weir_ring_release(&c, 0);
	assert_non_null(put(&p, 56, 1000));
	free(r);
}

static void
should_pad_to_the_end_and_deliver_records_in_order_across_the_wrap(void **state)
{
	struct weir_ring *r = new_ring();
	struct weir_ring_producer p;
	struct weir_ring_consumer c;
	weir_ring_producer_attach(&p, r);
	weir_ring_consumer_attach(&c, r);
	uint64_t next_put = 0, next_get = 0, pads_seen = 0;
	/* Odd sizes so the end of the ring falls inside a record many times. */
	for (unsigned round = 0; round < 20000; round++) {
		uint32_t len = 1 + (uint32_t)(next_put * 37) % 900;
		while (put(&p, len, next_put) != NULL) {
			next_put++;
			len = 1 + (uint32_t)(next_put * 37) % 900;
		}
		weir_ring_publish(&p, 0);
		uint64_t pos, before = c.read;
		const struct weir_record *rec;
		unsigned got = 0;
		while (got < 7 && (rec = weir_ring_peek(&c, &pos)) != NULL) {
			assert_int_equal(rec->kind, WEIR_REC_EVENT);
			assert_int_equal(rec->seq, next_get);
			uint32_t plen = rec->len_bytes - (uint32_t)sizeof(*rec);
			assert_int_equal(plen, 1 + (uint32_t)(next_get * 37) % 900);
			const uint8_t *pl = (const uint8_t *)(rec + 1);
			assert_int_equal(pl[0], next_get & 0xFF);
			assert_int_equal(pl[plen - 1], next_get & 0xFF);
			assert_int_equal(pos & 7, 0);
			assert_true(((pos & r->mask) + rec->len_bytes) <= RING_BYTES); /* never straddles */
			if (pos != before)
				pads_seen++;
			weir_ring_consumed(&c, rec);
			before = c.read;
			next_get++;
			got++;
		}
		weir_ring_release(&c, 0);
	}
	assert_true(pads_seen > 10);
	assert_true(p.tail > 10 * (uint64_t)RING_BYTES);
	free(r);
}

static void
should_let_a_producer_undo_an_unpublished_reservation(void **state)
{
	struct weir_ring *r = new_ring();
	struct weir_ring_producer p;
	struct weir_ring_consumer c;
	weir_ring_producer_attach(&p, r);
	weir_ring_consumer_attach(&c, r);
	put(&p, 8, 1);
	uint64_t undo = p.tail;
	put(&p, 8, 2);
	put(&p, 8, 3);
	p.tail = undo;
	put(&p, 8, 4);
	weir_ring_publish(&p, 0);
	uint64_t pos;
	const struct weir_record *rec = weir_ring_peek(&c, &pos);
	assert_int_equal(rec->seq, 1);
	weir_ring_consumed(&c, rec);
	rec = weir_ring_peek(&c, &pos);
	assert_int_equal(rec->seq, 4);
	weir_ring_consumed(&c, rec);
	assert_null(weir_ring_peek(&c, &pos));
	free(r);
}

static void
should_resume_a_new_consumer_at_the_released_head(void **state)
{
	struct weir_ring *r = new_ring();
	struct weir_ring_producer p;
	struct weir_ring_consumer c, c2;
	weir_ring_producer_attach(&p, r);
	weir_ring_consumer_attach(&c, r);
	for (unsigned i = 0; i < 5; i++)
		put(&p, 16, i);
	weir_ring_publish(&p, 0);
	uint64_t pos;
	for (unsigned i = 0; i < 2; i++)
		weir_ring_consumed(&c, weir_ring_peek(&c, &pos));
	weir_ring_release(&c, 0);
	weir_ring_consumed(&c, weir_ring_peek(&c, &pos)); /* read, never released: a crash */
	weir_ring_consumer_attach(&c2, r);
	assert_int_equal(weir_ring_peek(&c2, &pos)->seq, 2);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_refuse_a_ring_with_bad_magic_or_version),
		cmocka_unit_test(should_refuse_a_record_larger_than_half_the_ring),
		cmocka_unit_test(should_hide_records_until_published),
		cmocka_unit_test(should_report_full_and_accept_again_once_the_consumer_releases),
		cmocka_unit_test(should_pad_to_the_end_and_deliver_records_in_order_across_the_wrap),
		cmocka_unit_test(should_let_a_producer_undo_an_unpublished_reservation),
		cmocka_unit_test(should_resume_a_new_consumer_at_the_released_head),
	};
	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
