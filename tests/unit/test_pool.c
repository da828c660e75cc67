/* SPDX-License-Identifier: MIT */
/* Descriptor pool: ack/recycle rules (async_tx 3.3), stale handles, exhaustion. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "atx.h"

static struct atx_ctx *small_ctx(unsigned pool)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .pool_size = pool };
	struct atx_ctx *ctx = atx_ctx_new(&o);

	assert_non_null(ctx);
	return ctx;
}

static void test_unacked_stays_until_ack(void **state)
{
	struct atx_ctx *ctx = small_ctx(8);
	char a[64] = "hello", b[64];
	struct atx_tx *tx = atx_memcpy(ctx, b, a, sizeof(a), NULL);

	assert_non_null(tx);
	assert_int_equal(atx_tx_status(tx), -EINPROGRESS);
	assert_int_equal(atx_wait(tx), 0);
	/* Completed but not acked: the handle stays valid. */
	assert_int_equal(atx_tx_status(tx), 0);
	assert_int_equal(atx_wait(tx), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(atx_tx_ack(tx), 0);
	/* Recycled: every use is caught. */
	assert_int_equal(atx_tx_status(tx), -ESTALE);
	assert_int_equal(atx_tx_ack(tx), -ESTALE);
	assert_int_equal(atx_wait(tx), -ESTALE);
	atx_ctx_free(ctx);
}

static void test_ack_flag_recycles_on_completion(void **state)
{
	struct atx_ctx *ctx = small_ctx(8);
	char a[16] = "x", b[16];
	struct atx_submit s = { .flags = ATX_F_ACK };
	struct atx_tx *tx = atx_memcpy(ctx, b, a, sizeof(a), &s);

	assert_non_null(tx);
	/* atx_wait still reports the status of an acked descriptor... */
	assert_int_equal(atx_wait(tx), 0);
	/* ...and then it is gone. */
	assert_int_equal(atx_tx_status(tx), -ESTALE);
	atx_ctx_free(ctx);
}

static void test_stale_handle_after_reuse(void **state)
{
	struct atx_ctx *ctx = small_ctx(1);
	char a[16] = "x", b[16];
	struct atx_tx *old = atx_memcpy(ctx, b, a, sizeof(a), NULL), *nw;

	assert_int_equal(atx_wait(old), 0);
	assert_int_equal(atx_tx_ack(old), 0);
	/* A pool of one: the same slot comes back under a new generation. */
	nw = atx_memcpy(ctx, b, a, sizeof(a), NULL);
	assert_non_null(nw);
	assert_ptr_not_equal(old, nw);
	assert_int_equal(atx_tx_status(old), -ESTALE);
	assert_int_equal(atx_tx_ack(old), -ESTALE);
	/* A dependency on the stale handle is refused, the live one is untouched. */
	struct atx_submit s = { .depend_tx = old };

	errno = 0;
	assert_null(atx_memcpy(ctx, b, a, sizeof(a), &s));
	assert_int_equal(errno, EAGAIN); /* pool of one is in use: checked first */
	assert_int_equal(atx_wait(nw), 0);
	assert_int_equal(atx_tx_ack(nw), 0);
	errno = 0;
	assert_null(atx_memcpy(ctx, b, a, sizeof(a), &s));
	assert_int_equal(errno, ESTALE);
	atx_ctx_free(ctx);
}

static void test_pool_exhaustion_eagain(void **state)
{
	struct atx_ctx *ctx = small_ctx(4);
	char a[16] = "x", b[4][16];
	struct atx_tx *tx[4];
	int i;

	for (i = 0; i < 4; i++) {
		tx[i] = atx_memcpy(ctx, b[i], a, sizeof(a), NULL);
		assert_non_null(tx[i]);
	}
	errno = 0;
	assert_null(atx_memcpy(ctx, b[0], a, sizeof(a), NULL));
	assert_int_equal(errno, EAGAIN);
	/* Run the loop, ack, and there is room again. */
	for (i = 0; i < 4; i++) {
		assert_int_equal(atx_wait(tx[i]), 0);
		atx_tx_ack(tx[i]);
	}
	tx[0] = atx_memcpy(ctx, b[0], a, sizeof(a), NULL);
	assert_non_null(tx[0]);
	assert_int_equal(atx_wait(tx[0]), 0);
	atx_ctx_free(ctx);
}

static void test_parent_kept_while_dependent_waits(void **state)
{
	struct atx_ctx *ctx = small_ctx(8);
	char a[16] = "abc", b[16], c[16];
	struct atx_submit s1 = { .flags = ATX_F_ACK };
	struct atx_tx *p = atx_memcpy(ctx, b, a, sizeof(a), &s1);
	struct atx_submit s2 = { .depend_tx = p };
	struct atx_tx *ch = atx_memcpy(ctx, c, b, sizeof(b), &s2);

	assert_non_null(p);
	assert_non_null(ch);
	/* Nothing ran yet: the acked parent must still be alive for its dependent. */
	assert_int_equal(atx_tx_status(p), -EINPROGRESS);
	assert_int_equal(atx_wait(ch), 0);
	assert_memory_equal(a, c, sizeof(a));
	assert_int_equal(atx_tx_status(p), -ESTALE);
	atx_tx_ack(ch);
	atx_ctx_free(ctx);
}

static void test_bad_arguments(void **state)
{
	struct atx_ctx *ctx = small_ctx(8);
	char b[16];
	struct atx_ctx_opts bad = { .size = 4 };

	errno = 0;
	assert_null(atx_memcpy(ctx, NULL, b, 16, NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(atx_memcpy(NULL, b, b, 16, NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(atx_ctx_new(&bad));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(atx_run(NULL, ATX_RUN_NOWAIT), -EINVAL);
	assert_int_equal(atx_wait(NULL), -ESTALE);
	atx_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unacked_stays_until_ack),
		cmocka_unit_test(test_ack_flag_recycles_on_completion),
		cmocka_unit_test(test_stale_handle_after_reuse),
		cmocka_unit_test(test_pool_exhaustion_eagain),
		cmocka_unit_test(test_parent_kept_while_dependent_waits),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
