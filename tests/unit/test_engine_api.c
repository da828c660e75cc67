/* SPDX-License-Identifier: MIT */
/*
 * The engine interface: backpressure (-EAGAIN / atx_engine_unblock), one
 * doorbell per batch, an inline channel the core runs through exec,
 * registration checks, probe priority, exclusive
 * channels and per-channel statistics.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "atx.h"
#include "fake_engine.h"

static struct atx_ctx *new_ctx(void)
{
	struct atx_ctx *ctx = atx_ctx_new(NULL);

	assert_non_null(ctx);
	return ctx;
}

static void reset(struct fake_state *st, unsigned cap, int prio)
{
	memset(st, 0, sizeof(*st));
	st->capacity = cap;
	st->probe_prio = prio;
}

static void test_backpressure_and_unblock(void **state)
{
	struct atx_ctx *ctx = new_ctx();
	enum { N = 40 };
	static char src[N][64], dst[N][64];
	struct atx_tx *tx[N];
	struct atx_chan_stats st;
	int i;

	reset(&fake_a, 8, -EOPNOTSUPP);
	assert_int_equal(atx__ctx_attach_engine(ctx, &fake_a_ops, NULL), 0);
	for (i = 0; i < N; i++) {
		struct atx_submit s = { .chan = fake_a.chan };

		memset(src[i], 'a' + i % 26, sizeof(src[i]));
		tx[i] = atx_memcpy(ctx, dst[i], src[i], sizeof(src[i]), &s);
		assert_non_null(tx[i]);
	}
	/* The engine takes 8, refuses the 9th; the rest stays with the core. */
	assert_int_equal(atx_issue_pending(ctx), 8);
	assert_int_equal(fake_a.submitted, 8);
	assert_int_equal(fake_a.refused, 1);
	/* Issuing again while blocked hands over nothing. */
	assert_int_equal(atx_issue_pending(ctx), 0);
	assert_int_equal(fake_a.refused, 1);
	for (i = 0; i < N; i++) {
		assert_int_equal(atx_wait(tx[i]), 0);
		assert_memory_equal(dst[i], src[i], sizeof(src[i]));
		atx_tx_ack(tx[i]);
	}
	assert_int_equal(fake_a.submitted, N);
	atx_chan_stats(fake_a.chan, &st);
	assert_int_equal(st.ops, N);
	assert_int_equal(st.bytes, N * 64);
	assert_int_equal(st.busy, fake_a.refused);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.inflight, 0);
	atx_ctx_free(ctx);
}

static void test_one_doorbell_per_batch(void **state)
{
	struct atx_ctx *ctx = new_ctx();
	char a[32] = "x", b[32][32];
	int i;

	reset(&fake_a, 64, -EOPNOTSUPP);
	assert_int_equal(atx__ctx_attach_engine(ctx, &fake_a_ops, NULL), 0);
	for (i = 0; i < 32; i++) {
		struct atx_submit s = { .flags = ATX_F_ACK, .chan = fake_a.chan };

		assert_non_null(atx_memcpy(ctx, b[i], a, sizeof(a), &s));
	}
	assert_int_equal(fake_a.submitted, 0); /* queued, not started */
	assert_int_equal(atx_issue_pending(ctx), 32);
	assert_int_equal(fake_a.doorbells, 1);
	assert_int_equal(atx_run(ctx, ATX_RUN_DEFAULT), 32);
	atx_ctx_free(ctx);
}

/* ---- an inline channel with exec: the core keeps its queue ---- */

struct exec_rec {
	struct atx_ctx *ctx;
	int order[16], status[16];
	unsigned n;
	char (*dst)[64];        /* what each callback saw of the next descriptor's output */
	char seen_next;
	char *again_dst, *again_src;
	struct atx_tx *again;
};

struct exec_arg {
	struct exec_rec *r;
	int id;
};

static void exec_cb(struct atx_tx *tx, int status, void *arg)
{
	struct exec_arg *a = arg;
	struct exec_rec *r = a->r;

	r->order[r->n] = a->id;
	r->status[r->n++] = status;
	if (a->id == 0) {
		/* The batch ran before any of it completed: #1's copy is done. */
		r->seen_next = r->dst[1][0];
		if (r->again_dst) {
			/* A callback's new work runs too, in a later pass of the same atx_run. */
			struct atx_submit s = { .flags = ATX_F_ACK, .chan = fake_d.chan };

			r->again = atx_memcpy(r->ctx, r->again_dst, r->again_src, 64, &s);
		}
	}
}

static void test_exec_channel(void **state)
{
	struct atx_ctx *ctx = new_ctx();
	static char src[8][64], dst[8][64], again_src[64], again_dst[64];
	struct exec_rec r = { .ctx = ctx, .dst = dst, .again_dst = again_dst,
			      .again_src = again_src };
	struct exec_arg args[8];
	struct atx_chan_stats st;
	int i;

	reset(&fake_d, 64, -EOPNOTSUPP);
	assert_int_equal(atx__ctx_attach_engine(ctx, &fake_d_ops, NULL), 0);
	memset(again_src, 'z', sizeof(again_src));
	for (i = 0; i < 8; i++) {
		struct atx_submit s = { .flags = ATX_F_ACK, .cb = exec_cb, .cb_arg = &args[i],
					.chan = fake_d.chan };

		args[i] = (struct exec_arg){ &r, i };
		memset(src[i], 'a' + i, sizeof(src[i]));
		assert_non_null(atx_memcpy(ctx, dst[i], src[i], sizeof(src[i]), &s));
	}
	assert_int_equal(fake_d.execs, 0);      /* nothing runs before the loop does */
	assert_int_equal(atx_run(ctx, ATX_RUN_DEFAULT), 9);
	/* In order, each once, through exec only: no submit, no poll. */
	assert_int_equal(r.n, 8);
	for (i = 0; i < 8; i++) {
		assert_int_equal(r.order[i], i);
		assert_int_equal(r.status[i], 0);
		assert_memory_equal(dst[i], src[i], sizeof(src[i]));
		assert_ptr_equal(fake_d.log[i], src[i]);
	}
	assert_int_equal(r.seen_next, 'b');
	assert_non_null(r.again);
	assert_memory_equal(again_dst, again_src, sizeof(again_src));
	assert_int_equal(fake_d.execs, 9);
	assert_int_equal(fake_d.submitted, 0);
	assert_int_equal(fake_d.polls, 0);
	atx_chan_stats(fake_d.chan, &st);
	assert_int_equal(st.ops, 9);
	assert_int_equal(st.bytes, 9 * 64);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.inflight, 0);
	atx_ctx_free(ctx);
}

static void exec_status_cb(struct atx_tx *tx, int status, void *arg)
{
	*(int *)arg = status;
}

/* A failure from exec is the descriptor's status; its dependent is cancelled. */
static void test_exec_channel_failure(void **state)
{
	struct atx_ctx *ctx = new_ctx();
	char a[64] = "a", b[64] = { 0 }, c[64] = { 0 };
	struct atx_submit pin;
	int pstatus = 1;
	struct atx_tx *p, *q;
	struct atx_chan_stats st;

	reset(&fake_d, 64, -EOPNOTSUPP);
	assert_int_equal(atx__ctx_attach_engine(ctx, &fake_d_ops, NULL), 0);
	pin = (struct atx_submit){ .chan = fake_d.chan };
	fake_d.fail_status = -EIO;
	p = atx_memcpy(ctx, b, a, sizeof(a), &(struct atx_submit){ .cb = exec_status_cb,
								   .cb_arg = &pstatus,
								   .chan = fake_d.chan });
	assert_non_null(p);
	q = atx_memcpy(ctx, c, b, sizeof(b), &(struct atx_submit){ .depend_tx = p,
								   .chan = fake_d.chan });
	assert_non_null(q);
	assert_int_equal(atx_wait(q), -ECANCELED);
	assert_int_equal(pstatus, -EIO);        /* p: acked as q's parent, recycled */
	assert_int_equal(b[0], 0);
	assert_int_equal(c[0], 0);
	atx_tx_ack(q);
	/* And back to work: the same channel runs the next one. */
	fake_d.fail_status = 0;
	q = atx_memcpy(ctx, c, a, sizeof(a), &pin);
	assert_int_equal(atx_wait(q), 0);
	assert_memory_equal(c, a, sizeof(a));
	atx_tx_ack(q);
	assert_int_equal(fake_d.submitted, 0);
	atx_chan_stats(fake_d.chan, &st);
	assert_true(st.errors >= 1);
	assert_int_equal(st.inflight, 0);
	atx_ctx_free(ctx);
}

static void test_registration_refuses_missing_ops(void **state)
{
	struct atx_ctx *ctx = new_ctx();

	assert_int_equal(atx_engine_ops_check(&fake_bad_ops), -EINVAL);
	assert_int_equal(atx__ctx_attach_engine(ctx, &fake_bad_ops, NULL), -EINVAL);
	assert_int_equal(atx_engine_ops_check(&fake_a_ops), 0);
	atx_ctx_free(ctx);
}

/* A session of @p binds to engine @want; it is freed again. */
static void expect_session_on(struct atx_ctx *ctx, const struct atx_session_params *p,
			      const char *want)
{
	struct atx_session *s = atx_session_new(ctx, p);

	assert_non_null(s);
	assert_string_equal(atx_session_engine(s), want);
	atx_session_free(s);
}

/* No session of @p: NULL with errno EOPNOTSUPP. */
static void expect_session_refused(struct atx_ctx *ctx, const struct atx_session_params *p)
{
	errno = 0;
	assert_null(atx_session_new(ctx, p));
	assert_int_equal(errno, EOPNOTSUPP);
}

static void test_probe_priority(void **state)
{
	struct atx_ctx *ctx;

	/* Only the fake engines compete with software here. */
	setenv("ATX_MB_DISABLE", "1", 1);
	ctx = new_ctx();
	unsetenv("ATX_MB_DISABLE");
	static const uint8_t key[32];
	struct atx_session_params p = {
		.size = sizeof(p), .service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_CBC,
		.dir = ATX_ENCRYPT, .key = key, .key_len = 16,
	};
	struct atx_session *s;
	int prio[8];
	unsigned i;

	reset(&fake_a, 8, ATX_PRIO_HARDWARE);
	reset(&fake_b, 8, ATX_PRIO_ACCEL);
	assert_int_equal(atx__ctx_attach_engine(ctx, &fake_b_ops, NULL), 0);
	assert_int_equal(atx__ctx_attach_engine(ctx, &fake_a_ops, NULL), 0);
	/* hardware > accelerated software > software */
	s = atx_session_new(ctx, &p);
	assert_non_null(s);
	assert_string_equal(atx_session_engine(s), "fakea");
	assert_int_equal(fake_a.sessions, 1);
	atx_session_free(s);
	assert_int_equal(fake_a.sessions, 0);

	/* Yes at probe, NOTSUPP at create (a device's control queue): the next best serves. */
	fake_a.create_status = -EOPNOTSUPP;
	expect_session_on(ctx, &p, "fakeb");
	/* ...unless that engine was asked for by name. */
	p.engine = "fakea";
	expect_session_refused(ctx, &p);
	p.engine = NULL;
	fake_a.create_status = 0;

	/* The device declines: the accelerated engine wins. */
	fake_a.probe_prio = -EOPNOTSUPP;
	expect_session_on(ctx, &p, "fakeb");

	/* Both decline: a built-in engine (software, or multi-buffer for CBC) serves it. */
	fake_b.probe_prio = -EOPNOTSUPP;
	s = atx_session_new(ctx, &p);
	assert_non_null(s);
	assert_true(!strcmp(atx_session_engine(s), "soft") || !strcmp(atx_session_engine(s), "mb"));
	atx_session_free(s);

	/* atx_probe reports each engine's answer. */
	fake_a.probe_prio = ATX_PRIO_HARDWARE;
	int best = atx_probe(ctx, &p, prio, 8);

	assert_true(best >= 0);
	assert_string_equal(atx_engine_name(ctx, (unsigned)best), "fakea");
	for (i = 0; i < atx_engine_count(ctx); i++) {
		const char *n = atx_engine_name(ctx, i);

		if (!strcmp(n, "soft"))
			assert_int_equal(prio[i], ATX_PRIO_SOFTWARE);
		if (!strcmp(n, "fakeb"))
			assert_int_equal(prio[i], -EOPNOTSUPP);
	}

	/* A named engine is honoured, or refused when it cannot serve. */
	p.engine = "soft";
	expect_session_on(ctx, &p, "soft");
	p.engine = "fakeb";
	expect_session_refused(ctx, &p);
	atx_ctx_free(ctx);
}

static void test_session_outlives_free_while_in_flight(void **state)
{
	struct atx_ctx *ctx = new_ctx();
	static const uint8_t key[16] = { 1 };
	struct atx_session_params p = {
		.size = sizeof(p), .service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_CBC,
		.dir = ATX_ENCRYPT, .key = key, .key_len = 16, .engine = "fakea",
	};
	uint8_t iv[16] = { 0 }, in[64] = { 0 }, out[64];
	struct atx_session *s;
	struct atx_tx *tx;

	reset(&fake_a, 8, ATX_PRIO_HARDWARE);
	assert_int_equal(atx__ctx_attach_engine(ctx, &fake_a_ops, NULL), 0);
	s = atx_session_new(ctx, &p);
	assert_non_null(s);
	tx = atx_cipher(ctx, s, out, in, sizeof(in), iv, NULL);
	assert_non_null(tx);
	atx_session_free(s);
	/* The descriptor holds a reference: engine state is still there. */
	assert_int_equal(fake_a.sessions, 1);
	assert_int_equal(atx_wait(tx), 0);
	assert_int_equal(fake_a.sessions, 0);
	atx_tx_ack(tx);
	atx_ctx_free(ctx);
}

static bool filter_named(struct atx_chan *chan, void *arg)
{
	struct atx_chan_info info;

	atx_chan_info(chan, &info);
	return !strcmp(info.name, arg);
}

static void test_exclusive_channel(void **state)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .soft_lanes = 2 };
	struct atx_ctx *ctx = atx_ctx_new(&o);
	struct atx_caps caps = { .size = sizeof(caps), .mask = ATX_CAP_MEMCPY | ATX_CAP_CRC32C };
	struct atx_chan *mine, *other, *c;
	struct atx_chan_stats st;
	struct atx_chan_info info;
	static char a[256][512], b[256][512];
	int i;

	assert_non_null(ctx);
	mine = atx_chan_request(ctx, &caps, filter_named, "soft.lane0");
	assert_non_null(mine);
	atx_chan_info(mine, &info);
	assert_true(info.private_);
	/* Nobody else gets it while it is held. */
	errno = 0;
	assert_null(atx_chan_request(ctx, &caps, filter_named, "soft.lane0"));
	assert_int_equal(errno, EBUSY);
	errno = 0;
	assert_null(atx_chan_request(ctx, &caps, filter_named, "no.such"));
	assert_int_equal(errno, ENODEV);
	/* The general allocator spreads 256 copies and never uses the private lane. */
	for (i = 0; i < 256; i++) {
		struct atx_submit s = { .flags = ATX_F_ACK };

		memset(a[i], i, sizeof(a[i]));
		assert_non_null(atx_memcpy(ctx, b[i], a[i], sizeof(a[i]), &s));
	}
	atx_run(ctx, ATX_RUN_DEFAULT);
	atx_chan_stats(mine, &st);
	assert_int_equal(st.ops, 0);
	for (i = 0; i < 256; i++)
		assert_memory_equal(a[i], b[i], sizeof(a[i]));
	/* Work pinned to it runs there. */
	for (i = 0; i < 10; i++) {
		struct atx_submit s = { .flags = ATX_F_ACK, .chan = mine };

		assert_non_null(atx_memcpy(ctx, b[i], a[i + 1], sizeof(a[i]), &s));
	}
	atx_run(ctx, ATX_RUN_DEFAULT);
	atx_chan_stats(mine, &st);
	assert_int_equal(st.ops, 10);
	for (i = 0; i < 10; i++)
		assert_memory_equal(b[i], a[i + 1], sizeof(a[i]));
	/* Released: back in the allocator's hands and requestable again. */
	atx_chan_release(mine);
	other = atx_chan_request(ctx, &caps, filter_named, "soft.lane0");
	assert_ptr_equal(other, mine);
	atx_chan_release(other);
	for (i = 0; i < (int)atx_chan_count(ctx); i++) {
		c = atx_chan_get(ctx, (unsigned)i);
		atx_chan_info(c, &info);
		assert_false(info.private_);
	}
	atx_ctx_free(ctx);
}

/*
 * The allocator remembers the channel when only one can serve a
 * capability: taking that channel private, or releasing it, must be seen
 * by the very next pick.
 */
static void test_sole_channel_taken_private(void **state)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .engines = "soft" };
	struct atx_ctx *ctx = atx_ctx_new(&o);
	struct atx_caps caps = { .size = sizeof(caps), .mask = ATX_CAP_MEMCPY };
	struct atx_submit s = { .flags = ATX_F_ACK };
	struct atx_chan *mine;
	struct atx_chan_stats st;
	char a[64] = "sole channel", b[64];

	assert_non_null(ctx);
	/* Picked (and remembered) while public. */
	assert_non_null(atx_memcpy(ctx, b, a, sizeof(a), &s));
	atx_run(ctx, ATX_RUN_DEFAULT);
	mine = atx_chan_request(ctx, &caps, NULL, NULL);
	assert_non_null(mine);
	/* Now nobody may be handed it: no other channel copies. */
	errno = 0;
	assert_null(atx_memcpy(ctx, b, a, sizeof(a), &s));
	assert_int_equal(errno, EOPNOTSUPP);
	atx_chan_stats(mine, &st);
	assert_int_equal(st.ops, 1);
	atx_chan_release(mine);
	memset(b, 0, sizeof(b));
	assert_non_null(atx_memcpy(ctx, b, a, sizeof(a), &s));
	atx_run(ctx, ATX_RUN_DEFAULT);
	assert_memory_equal(a, b, sizeof(a));
	atx_chan_stats(mine, &st);
	assert_int_equal(st.ops, 2);
	atx_ctx_free(ctx);
}

/* Copies of 512 bytes on whatever the allocator picks; ops each channel ran, in st[]. */
static void spread_copies(struct atx_ctx *ctx, unsigned n, uint64_t *st)
{
	static char a[256][512], b[256][512];
	struct atx_chan_stats cs;
	unsigned i;

	assert_true(n <= 256);
	for (i = 0; i < atx_chan_count(ctx); i++) {
		atx_chan_stats(atx_chan_get(ctx, i), &cs);
		st[i] = cs.ops;
	}
	for (i = 0; i < n; i++) {
		struct atx_submit s = { .flags = ATX_F_ACK };

		memset(a[i], (int)(i * 7 + n), sizeof(a[i]));
		memset(b[i], 0, sizeof(b[i]));
		assert_non_null(atx_memcpy(ctx, b[i], a[i], sizeof(a[i]), &s));
	}
	assert_int_equal(atx_run(ctx, ATX_RUN_DEFAULT), (int)n);
	for (i = 0; i < n; i++)
		assert_memory_equal(a[i], b[i], sizeof(a[i]));
	for (i = 0; i < atx_chan_count(ctx); i++) {
		atx_chan_stats(atx_chan_get(ctx, i), &cs);
		st[i] = cs.ops - st[i];
	}
}

/*
 * The allocator remembers which channels may serve a capability and
 * balances over them by load: every public one gets work, one taken
 * private drops out at the very next pick (the remembered set with it),
 * and comes back when released.
 */
static void test_balance_over_remembered_channels(void **state)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .engines = "soft", .soft_lanes = 2 };
	struct atx_ctx *ctx = atx_ctx_new(&o);
	struct atx_caps caps = { .size = sizeof(caps), .mask = ATX_CAP_MEMCPY };
	uint64_t st[16], total;
	unsigned i, k, nmem = 0;
	struct atx_chan *mine;
	int lane1 = -1;

	assert_non_null(ctx);
	assert_true(atx_chan_count(ctx) <= 16);
	for (i = 0; i < atx_chan_count(ctx); i++) {
		struct atx_chan_info info;

		atx_chan_info(atx_chan_get(ctx, i), &info);
		if (info.caps & ATX_CAP_MEMCPY)
			nmem++;
		if (!strcmp(info.name, "soft.lane1"))
			lane1 = (int)i;
	}
	assert_int_equal(nmem, 3); /* soft.inline, soft.lane0, soft.lane1 */
	assert_true(lane1 >= 0);
	for (k = 0; k < 2; k++) {
		/* Twice: the second round picks from the remembered set. */
		spread_copies(ctx, 256, st);
		for (i = 0, total = 0; i < atx_chan_count(ctx); i++) {
			struct atx_chan_info info;

			atx_chan_info(atx_chan_get(ctx, i), &info);
			if (info.caps & ATX_CAP_MEMCPY)
				assert_true(st[i] > 0);
			total += st[i];
		}
		assert_int_equal(total, 256);
	}
	mine = atx_chan_request(ctx, &caps, filter_named, "soft.lane1");
	assert_ptr_equal(mine, atx_chan_get(ctx, (unsigned)lane1));
	spread_copies(ctx, 256, st);
	assert_int_equal(st[lane1], 0);
	for (i = 0, total = 0; i < atx_chan_count(ctx); i++) {
		struct atx_chan_info info;

		atx_chan_info(atx_chan_get(ctx, i), &info);
		if ((info.caps & ATX_CAP_MEMCPY) && (int)i != lane1)
			assert_true(st[i] > 0);
		total += st[i];
	}
	assert_int_equal(total, 256);
	atx_chan_release(mine);
	spread_copies(ctx, 256, st);
	assert_true(st[lane1] > 0);
	atx_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backpressure_and_unblock),
		cmocka_unit_test(test_one_doorbell_per_batch),
		cmocka_unit_test(test_exec_channel),
		cmocka_unit_test(test_exec_channel_failure),
		cmocka_unit_test(test_registration_refuses_missing_ops),
		cmocka_unit_test(test_probe_priority),
		cmocka_unit_test(test_session_outlives_free_while_in_flight),
		cmocka_unit_test(test_exclusive_channel),
		cmocka_unit_test(test_sole_channel_taken_private),
		cmocka_unit_test(test_balance_over_remembered_channels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
