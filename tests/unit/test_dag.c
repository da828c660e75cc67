/* SPDX-License-Identifier: MIT */
/*
 * Dependency graph: fan-out, fan-in, cancellation propagating transitively
 * with every callback run exactly once, callbacks that submit, channel
 * switches between engines, chains on worker lanes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <isa-l/crc.h>

#include "atx.h"
#include "fake_engine.h"

#define NCB 64
struct cbrec {
	int calls[NCB];
	int status[NCB];
	int order[NCB];
	int seq;
};

static void rec_cb(struct atx_tx *tx, int status, void *arg)
{
	struct cbrec *r = *(struct cbrec **)arg;
	int id = (int)(((intptr_t *)arg)[1]);

	r->calls[id]++;
	r->status[id] = status;
	r->order[id] = r->seq++;
}

/* argument cells: {rec pointer, id} */
static intptr_t cells[NCB][2];

static struct atx_submit sub_cb(struct cbrec *r, int id, struct atx_tx *dep)
{
	cells[id][0] = (intptr_t)r;
	cells[id][1] = id;
	return (struct atx_submit){ .depend_tx = dep, .cb = rec_cb, .cb_arg = cells[id] };
}

static uint32_t crc_ref(const void *p, size_t n, uint32_t seed)
{
	return ~crc32_iscsi((unsigned char *)p, (int)n, ~seed);
}

static struct atx_ctx *ctx_lanes(unsigned lanes)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .soft_lanes = lanes };
	struct atx_ctx *ctx = atx_ctx_new(&o);

	assert_non_null(ctx);
	return ctx;
}

static void fan_out_in(unsigned lanes)
{
	struct atx_ctx *ctx = ctx_lanes(lanes);
	struct cbrec r = { 0 };
	static char src[8192], mid[8192], out1[8192], out2[8192];
	uint32_t crc = 0;
	struct atx_submit s;
	struct atx_tx *root, *a, *b, *c, *join;
	unsigned i;

	for (i = 0; i < sizeof(src); i++)
		src[i] = (char)(i * 7 + 3);
	s = sub_cb(&r, 0, NULL);
	root = atx_memcpy(ctx, mid, src, sizeof(src), &s);
	/* three dependents of one parent */
	s = sub_cb(&r, 1, root);
	a = atx_memcpy(ctx, out1, mid, sizeof(mid), &s);
	s = sub_cb(&r, 2, NULL);
	s.deps = (struct atx_tx *const[]){ root };
	s.ndeps = 1;
	b = atx_crc32c(ctx, &crc, mid, sizeof(mid), 0, &s);
	s = sub_cb(&r, 3, root);
	c = atx_memcpy(ctx, out2, mid, sizeof(mid), &s);
	assert_non_null(root);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	/* one descriptor waiting on all three */
	struct atx_tx *deps[] = { a, b, c };

	s = sub_cb(&r, 4, NULL);
	s.deps = deps;
	s.ndeps = 3;
	join = atx_trigger_callback(ctx, &s);
	assert_non_null(join);
	assert_int_equal(atx_wait(join), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(r.calls[i], 1);
		assert_int_equal(r.status[i], 0);
	}
	for (i = 1; i < 4; i++) {
		assert_true(r.order[0] < r.order[i]);
		assert_true(r.order[i] < r.order[4]);
	}
	assert_memory_equal(out1, src, sizeof(src));
	assert_memory_equal(out2, src, sizeof(src));
	assert_int_equal(crc, crc_ref(src, sizeof(src), 0));
	atx_tx_ack(join);
	atx_ctx_free(ctx);
}

static void test_fan_out_in_inline(void **state)
{
	fan_out_in(0);
}

static void test_fan_out_in_lanes(void **state)
{
	fan_out_in(2);
}

/* A failing parent cancels children and grandchildren; all callbacks run once. */
static void test_cancel_propagates(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(0);
	struct cbrec r = { 0 };
	char a[64] = "data", b[64], c[64], d[64];
	uint32_t crc;
	struct atx_submit s;
	struct atx_tx *bad, *ok, *c1, *c2, *gc, *join;
	int i;

	memset(&fake_a, 0, sizeof(fake_a));
	fake_a.capacity = 64;
	fake_a.fail_status = -EIO;
	fake_a.probe_prio = -EOPNOTSUPP;
	assert_int_equal(atx__ctx_attach_engine(ctx, &fake_a_ops, NULL), 0);
	/* Private: the allocator must not route the "ok" copies to the failing engine. */
	struct atx_caps caps = { .size = sizeof(caps), .mask = ATX_CAP_MEMCPY, .engine = "fakea" };
	struct atx_chan *priv = atx_chan_request(ctx, &caps, NULL, NULL);

	assert_ptr_equal(priv, fake_a.chan);
	s = sub_cb(&r, 0, NULL);
	s.chan = priv;
	bad = atx_memcpy(ctx, b, a, sizeof(a), &s);
	s = sub_cb(&r, 1, NULL);
	ok = atx_memcpy(ctx, c, a, sizeof(a), &s);
	s = sub_cb(&r, 2, bad);
	c1 = atx_memcpy(ctx, d, b, sizeof(b), &s);      /* different engine: channel switch */
	s = sub_cb(&r, 3, bad);
	c2 = atx_crc32c(ctx, &crc, b, sizeof(b), 0, &s);
	s = sub_cb(&r, 4, c1);
	gc = atx_memcpy(ctx, d, c, sizeof(c), &s);
	struct atx_tx *deps[] = { ok, gc, c2 };

	/*
	 * depend_tx and deps together: the join waits for all four.  The
	 * pending parent in depend_tx succeeds, so only the failed one among
	 * deps can cancel it (the submit fast path must not drop deps).
	 */
	s = sub_cb(&r, 5, ok);
	s.deps = deps + 1;
	s.ndeps = 2;
	join = atx_trigger_callback(ctx, &s);
	assert_non_null(join);
	assert_int_equal(atx_wait(join), -ECANCELED);
	for (i = 0; i < 6; i++)
		assert_int_equal(r.calls[i], 1);
	assert_int_equal(r.status[0], -EIO);
	assert_int_equal(r.status[1], 0);
	assert_int_equal(r.status[2], -ECANCELED);
	assert_int_equal(r.status[3], -ECANCELED);
	assert_int_equal(r.status[4], -ECANCELED);
	assert_int_equal(r.status[5], -ECANCELED);
	atx_tx_ack(join);

	/* A dependency on an already failed (unacked) descriptor is cancelled too. */
	s = sub_cb(&r, 6, NULL);
	s.chan = priv;
	bad = atx_memcpy(ctx, b, a, sizeof(a), &s);
	assert_int_equal(atx_wait(bad), -EIO);
	s = sub_cb(&r, 7, bad);
	c1 = atx_memcpy(ctx, d, b, sizeof(b), &s);
	assert_int_equal(atx_wait(c1), -ECANCELED);
	assert_int_equal(r.calls[7], 1);
	atx_tx_ack(c1);
	atx_chan_release(priv);
	atx_ctx_free(ctx);
}

/* Early hand-over on an in-order lane: parent and child go out in one batch. */
static void test_fenced_child_handed_early(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(0);
	char a[64] = "x", b[64], c[64];
	struct atx_submit s = { 0 };
	struct atx_tx *p, *ch;

	memset(&fake_a, 0, sizeof(fake_a));
	fake_a.capacity = 64;
	fake_a.fail_status = 0;
	assert_int_equal(atx__ctx_attach_engine(ctx, &fake_a_ops, NULL), 0);
	s.chan = fake_a.chan;
	p = atx_memcpy(ctx, b, a, sizeof(a), &s);
	s.depend_tx = p;
	ch = atx_memcpy(ctx, c, b, sizeof(b), &s);
	/* Both reach the engine in one batch, the child behind the parent. */
	assert_int_equal(atx_issue_pending(ctx), 2);
	assert_int_equal(fake_a.submitted, 2);
	assert_int_equal(fake_a.doorbells, 1);
	assert_int_equal(atx_wait(ch), 0);
	assert_memory_equal(a, c, sizeof(a));
	atx_tx_ack(ch);
	atx_ctx_free(ctx);
}

/* ...and when the parent fails there, the engine cancels the fenced child. */
static void test_fenced_child_cancelled(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(0);
	char a[64] = "x", b[64], c[64] = "untouched";
	struct atx_submit s = { 0 };
	struct atx_tx *p, *ch;

	memset(&fake_a, 0, sizeof(fake_a));
	fake_a.capacity = 64;
	fake_a.fail_status = -EIO;
	assert_int_equal(atx__ctx_attach_engine(ctx, &fake_a_ops, NULL), 0);
	s.chan = fake_a.chan;
	p = atx_memcpy(ctx, b, a, sizeof(a), &s);
	s.depend_tx = NULL;
	s.deps = (struct atx_tx *const[]){ p };
	s.ndeps = 1;
	ch = atx_memcpy(ctx, c, b, sizeof(b), &s);
	assert_int_equal(atx_issue_pending(ctx), 2);
	assert_int_equal(atx_wait(ch), -ECANCELED);
	assert_string_equal(c, "untouched");
	atx_tx_ack(ch);
	atx_ctx_free(ctx);
}

struct resubmit {
	struct atx_ctx *ctx;
	char buf[8][32];
	int depth;
	int done;
};

static void resubmit_cb(struct atx_tx *tx, int status, void *arg)
{
	struct resubmit *rs = arg;
	struct atx_submit s = { .flags = ATX_F_ACK, .cb = resubmit_cb, .cb_arg = rs };

	assert_int_equal(status, 0);
	if (++rs->depth < 8) {
		/* Submitting from a callback is allowed; it is issued on return. */
		assert_non_null(atx_memcpy(rs->ctx, rs->buf[rs->depth], rs->buf[rs->depth - 1],
					   32, &s));
	} else {
		rs->done = 1;
	}
	/* Driving the loop from a callback is refused, not a deadlock. */
	assert_int_equal(atx_run(rs->ctx, ATX_RUN_NOWAIT), -EDEADLK);
}

static void test_callback_resubmits(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(0);
	static struct resubmit rs;
	struct atx_submit s = { .flags = ATX_F_ACK, .cb = resubmit_cb, .cb_arg = &rs };

	memset(&rs, 0, sizeof(rs));
	rs.ctx = ctx;
	strcpy(rs.buf[0], "carried through 8 callbacks");
	rs.depth = 0;
	/* buf[0] -> buf[0] first (depth 0 copies onto itself), then each callback chains on. */
	assert_non_null(atx_memcpy(ctx, rs.buf[0], rs.buf[0], 32, &s));
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 8);
	assert_int_equal(rs.done, 1);
	assert_string_equal(rs.buf[7], "carried through 8 callbacks");
	atx_ctx_free(ctx);
}

/* Random chains on inline and worker lanes against ISA-L/memcpy computed directly. */
static void random_chains(unsigned lanes)
{
	struct atx_ctx *ctx = ctx_lanes(lanes);
	enum { N = 200, LEN = 4096 };
	static char src[N][LEN], mid[N][LEN], dst[N][LEN];
	static uint32_t crc_a[N], crc_b[N];
	static size_t len[N];
	struct atx_tx *last[N];
	unsigned i, j;

	srand(42 + lanes);
	for (i = 0; i < N; i++) {
		struct atx_submit s = { 0 };
		struct atx_tx *t1, *t2;

		len[i] = 1 + (size_t)rand() % LEN;
		for (j = 0; j < LEN; j++)
			src[i][j] = (char)rand();
		t1 = atx_memcpy(ctx, mid[i], src[i], len[i], &s);
		s.depend_tx = t1;
		t2 = atx_crc32c(ctx, &crc_a[i], mid[i], len[i], i, &s);
		s.depend_tx = t2;
		last[i] = atx_copy_crc32c(ctx, dst[i], &crc_b[i], mid[i], len[i], i * 3, &s);
		assert_non_null(t1);
		assert_non_null(t2);
		assert_non_null(last[i]);
		if (i % 16 == 15)
			atx_issue_pending(ctx);
	}
	for (i = 0; i < N; i++) {
		assert_int_equal(atx_wait(last[i]), 0);
		atx_tx_ack(last[i]);
		assert_memory_equal(dst[i], src[i], len[i]);
		assert_int_equal(crc_a[i], crc_ref(src[i], len[i], i));
		assert_int_equal(crc_b[i], crc_ref(src[i], len[i], i * 3));
	}
	atx_ctx_free(ctx);
}

static void test_random_chains_inline(void **state)
{
	random_chains(0);
}

static void test_random_chains_lanes(void **state)
{
	random_chains(2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fan_out_in_inline),
		cmocka_unit_test(test_fan_out_in_lanes),
		cmocka_unit_test(test_cancel_propagates),
		cmocka_unit_test(test_fenced_child_handed_early),
		cmocka_unit_test(test_fenced_child_cancelled),
		cmocka_unit_test(test_callback_resubmits),
		cmocka_unit_test(test_random_chains_inline),
		cmocka_unit_test(test_random_chains_lanes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
