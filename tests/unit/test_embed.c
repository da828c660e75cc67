/* SPDX-License-Identifier: MIT */
/* Embedding a context in another loop through atx_ctx_fd() and poll(2). */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "atx.h"

static bool is_lane0(struct atx_chan *chan, void *arg)
{
	struct atx_chan_info info;

	atx_chan_info(chan, &info);
	return !strcmp(info.name, arg);
}

/* Drive @tx to completion the way an epoll/libuv user would. */
static int drive(struct atx_ctx *ctx, struct atx_tx *tx)
{
	struct pollfd pfd = { .fd = atx_ctx_fd(ctx), .events = POLLIN };
	int rounds = 0, st;

	atx_issue_pending(ctx);
	while ((st = atx_tx_status(tx)) == -EINPROGRESS) {
		/* Bounded: a missed wake-up fails the test instead of hanging it. */
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		assert_true(atx_run(ctx, ATX_RUN_NOWAIT) >= 0);
		assert_true(++rounds < 100000);
	}
	return st;
}

static void embed(const char *lane)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .soft_lanes = 1 };
	struct atx_ctx *ctx = atx_ctx_new(&o);
	struct atx_caps caps = { .size = sizeof(caps), .mask = ATX_CAP_MEMCPY };
	struct atx_chan *chan;
	static char a[1 << 16], b[1 << 16], c[1 << 16];
	int i;

	assert_non_null(ctx);
	assert_true(atx_ctx_fd(ctx) >= 0);
	chan = atx_chan_request(ctx, &caps, is_lane0, (void *)lane);
	assert_non_null(chan);
	for (i = 0; i < 50; i++) {
		struct atx_submit s = { .chan = chan };
		struct atx_tx *t1, *t2;

		memset(a, i, sizeof(a));
		t1 = atx_memcpy(ctx, b, a, sizeof(a), &s);
		s.depend_tx = t1;
		t2 = atx_memcpy(ctx, c, b, sizeof(b), &s);
		assert_non_null(t2);
		assert_int_equal(drive(ctx, t2), 0);
		assert_memory_equal(a, c, sizeof(a));
		atx_tx_ack(t2);
	}
	atx_chan_release(chan);
	atx_ctx_free(ctx);
}

static void test_embed_worker_lane(void **state)
{
	embed("soft.lane0");
}

static void test_embed_inline_lane(void **state)
{
	embed("soft.inline");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embed_worker_lane),
		cmocka_unit_test(test_embed_inline_lane),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
