/* SPDX-License-Identifier: MIT */
/*
 * Prepared chains (atx_prep_*): runs re-started from their own callback
 * with a new IV and new data each time, every run checked against
 * OpenSSL and ISA-L called directly; one descriptor per run, the prep's
 * own while it is free; IVs per
 * step; one run at a time; freeing during a run; the split path (a
 * session on another engine, a pinned channel without ATX_CAP_SEQ); the
 * error paths leaving the prep free for the next run.
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
#include <openssl/evp.h>

#include "atx.h"
#include "fake_engine.h"
#include "step_refs.h"

static const uint8_t key64[64] = {
	0x14, 0x14, 0x21, 0x35, 0x62, 0x37, 0x30, 0x95, 0x04, 0x88, 0x01, 0x68, 0x87, 0x24, 0x20, 0x96,
	0x98, 0x07, 0x85, 0x69, 0x67, 0x18, 0x75, 0x37, 0x69, 0x48, 0x07, 0x31, 0x78, 0x67, 0x78, 0x72,
	0x10, 0x97, 0x56, 0x69, 0x49, 0x25, 0x75, 0x28, 0x44, 0x16, 0x11, 0x98, 0x77, 0x15, 0x46, 0x72,
	0x40, 0x78, 0x51, 0x18, 0x23, 0x72, 0x43, 0x99, 0x68, 0x15, 0x50, 0x58, 0x27, 0x31, 0x93, 0x71,
};

static struct atx_session *xts_sess(struct atx_ctx *ctx)
{
	return sess(ctx, (struct atx_session_params){ .service = ATX_SVC_CIPHER,
		.cipher = ATX_CIPHER_AES_XTS, .dir = ATX_ENCRYPT, .key = key64, .key_len = 64,
		.engine = "soft" });
}

/* Attach the fake engine (fake_engine.c) to @ctx: failing with @fail, probing with @prio. */
static void fake_attach(struct atx_ctx *ctx, int fail, int prio)
{
	assert_int_equal(fake_a_reset_attach(ctx, fail, prio), 0);
}

/* @tx queued, completed with 0, and acked. */
static void wait_ok(struct atx_tx *tx)
{
	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), 0);
	assert_int_equal(atx_tx_ack(tx), 0);
}

/* ---- the storage chain, re-run from its callback ---- */

#define NP 24
#define BS 4096
#define RUNS 6

struct slot {
	struct atx_prep *p;
	unsigned idx, runs, bad;
	int status;
	uint8_t iv[16];
	uint8_t src[BS], ct[BS], out[BS];
	uint32_t crc;
};

static void iv_for(struct slot *s)
{
	memset(s->iv, 0, sizeof(s->iv));
	s->iv[0] = (uint8_t)s->idx;
	s->iv[1] = (uint8_t)s->runs;
	s->iv[15] = 0xa5;
}

/* Check the run that just completed; start the next, with a new IV and new data. */
static void slot_done(struct atx_tx *tx, int status, void *arg)
{
	struct slot *s = arg;
	struct atx_submit sub = { .flags = ATX_F_ACK, .cb = slot_done, .cb_arg = s };
	uint8_t ref[BS];

	(void)tx;
	if (status) {
		s->status = status;
		return;
	}
	evp_ref(EVP_aes_256_xts(), key64, s->iv, 1, s->src, ref, BS);
	if (memcmp(s->ct, ref, BS) || memcmp(s->out, ref, BS) ||
	    s->crc != crc_ref(ref, BS, s->idx))
		s->bad++;
	if (++s->runs == RUNS)
		return;
	s->src[s->runs] ^= 0xff;        /* same buffers, new contents */
	iv_for(s);
	if (!atx_prep_run(s->p, s->iv, &sub))
		s->status = -errno;
}

static void storage_runs(unsigned lanes)
{
	struct atx_ctx *ctx = ctx_lanes(lanes, 0);
	struct atx_session *xts = xts_sess(ctx);
	struct slot *sl = calloc(NP, sizeof(*sl));
	unsigned i, j, nfree, nfree0 = ctx->nfree;
	uint64_t ops = 0;

	assert_non_null(sl);
	for (i = 0; i < NP; i++) {
		struct slot *s = &sl[i];
		uint8_t scratch_iv[16];
		struct atx_step st[3] = {
			{ .op = ATX_STEP_CIPHER, .sess = xts, .dst = s->ct, .src = s->src, .len = BS,
			  .iv = scratch_iv },
			{ .op = ATX_STEP_CRC32C, .src = s->ct, .len = BS, .out = &s->crc, .seed = i },
			{ .op = ATX_STEP_MEMCPY, .dst = s->out, .src = s->ct, .len = BS },
		};

		s->idx = i;
		for (j = 0; j < BS; j++)
			s->src[j] = (uint8_t)(rand() >> 7);
		memset(scratch_iv, 0xee, sizeof(scratch_iv));
		s->p = atx_prep_new(ctx, st, 3);
		assert_non_null(s->p);
	}
	/* The preps hold the session: the caller may let go of it now. */
	atx_session_free(xts);
	/* Each prep holds one descriptor of the pool, its runs' own. */
	nfree = ctx->nfree;
	assert_int_equal(nfree, nfree0 - NP);
	for (i = 0; i < NP; i++) {
		struct atx_submit sub = { .flags = ATX_F_ACK, .cb = slot_done, .cb_arg = &sl[i] };
		struct atx_tx *tx;

		iv_for(&sl[i]);
		tx = atx_prep_run(sl[i].p, sl[i].iv, &sub);
		assert_non_null(tx);
		/* One descriptor for the whole chain, when a lane runs it: the prep's own. */
		assert_int_equal(atx__untag(tx)->op.opcode, ATX_OP_SEQ);
		assert_ptr_equal(atx__untag(tx), sl[i].p->own);
	}
	assert_int_equal(ctx->nfree, nfree);
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
	for (i = 0; i < NP; i++) {
		assert_int_equal(sl[i].status, 0);
		assert_int_equal(sl[i].runs, RUNS);
		assert_int_equal(sl[i].bad, 0);
	}
	assert_int_equal(ctx->nfree, nfree);
	for (i = 0; i < atx_chan_count(ctx); i++) {
		struct atx_chan_stats cs;

		atx_chan_stats(atx_chan_get(ctx, i), &cs);
		ops += cs.ops;
	}
	assert_int_equal(ops, (uint64_t)NP * RUNS * 3);
	/* The session goes with the last prep that held it. */
	assert_non_null(ctx->sessions);
	for (i = 0; i < NP; i++)
		atx_prep_free(sl[i].p);
	assert_null(ctx->sessions);
	assert_null(ctx->preps);
	assert_int_equal(ctx->nfree, nfree0);
	atx_ctx_free(ctx);
	free(sl);
}

static void test_storage_runs_inline(void **state)
{
	storage_runs(0);
}

static void test_storage_runs_lanes(void **state)
{
	storage_runs(2);
}

/* ---- IVs: one for every step that takes one, or each its own ---- */

#define IVLEN 512

/* test_ivs' chain by OpenSSL: CBC with @ivc, GCM with @ivg, CTR with @ivr. */
struct ivs_out {
	uint8_t b[IVLEN], c[IVLEN], d[IVLEN], tag[16];
	uint32_t crc;
};

static void ivs_ref(const uint8_t *a, const uint8_t *ivc, const uint8_t *ivg, const uint8_t *ivr,
		    struct ivs_out *r)
{
	evp_ref(EVP_aes_128_cbc(), key64, ivc, 1, a, r->b, IVLEN);
	gcm_ref(EVP_aes_256_gcm(), key64, ivg, r->b, r->c, IVLEN, r->tag);
	r->crc = crc_ref(r->c, IVLEN, 0);
	evp_ref(EVP_aes_128_ctr(), key64 + 16, ivr, 1, r->c, r->d, IVLEN);
}

/* Run @p once (with @iv, or the IVs it holds) and check what it wrote against @want. */
static void run_check(struct atx_prep *p, const uint8_t *iv, const struct ivs_out *got,
		      const struct ivs_out *want)
{
	struct atx_tx *tx = atx_prep_run(p, iv, NULL);

	wait_ok(tx);
	assert_memory_equal(got, want, sizeof(*got));
}

static void test_ivs(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(0, 0);
	struct atx_session *cbc = sess(ctx, (struct atx_session_params){
		.service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_CBC, .key = key64, .key_len = 16,
		.engine = "soft" });
	struct atx_session *gcm = sess(ctx, (struct atx_session_params){
		.service = ATX_SVC_AEAD, .aead = ATX_AEAD_AES_GCM, .key = key64, .key_len = 32,
		.engine = "soft" });
	struct atx_session *ctr = sess(ctx, (struct atx_session_params){
		.service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_CTR, .key = key64 + 16,
		.key_len = 16, .engine = "soft" });
	static struct ivs_out got, want;
	uint8_t a[IVLEN], x[16], y[16], iv0[16];
	struct atx_prep *p;
	unsigned i;

	for (i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i * 7);
	memset(iv0, 0x33, sizeof(iv0));
	memset(&got, 0, sizeof(got));
	struct atx_step st[4] = {
		{ .op = ATX_STEP_CIPHER, .sess = cbc, .dst = got.b, .src = a, .len = IVLEN,
		  .iv = iv0 },
		{ .op = ATX_STEP_AEAD, .sess = gcm, .dst = got.c, .src = got.b, .len = IVLEN,
		  .iv = iv0, .iv_len = 12, .out = got.tag },
		{ .op = ATX_STEP_CRC32C, .src = got.c, .len = IVLEN, .out = &got.crc },
		{ .op = ATX_STEP_CIPHER, .sess = ctr, .dst = got.d, .src = got.c, .len = IVLEN,
		  .iv = iv0 },
	};

	p = atx_prep_new(ctx, st, 4);
	assert_non_null(p);
	/* Where each step's IV lives; none for the crc32c step or past the end. */
	assert_non_null(atx_prep_iv(p, 0));
	assert_non_null(atx_prep_iv(p, 1));
	errno = 0;
	assert_null(atx_prep_iv(p, 2));
	assert_int_equal(errno, EINVAL);
	assert_non_null(atx_prep_iv(p, 3));
	assert_null(atx_prep_iv(p, 4));
	assert_null(atx_prep_iv(NULL, 0));
	/* The IVs were copied at atx_prep_new: running with NULL uses them. */
	ivs_ref(a, iv0, iv0, iv0, &want);
	memset(iv0, 0, sizeof(iv0));
	run_check(p, NULL, &got, &want);

	/* One IV for all: each step takes its length of it (GCM the first 12 bytes). */
	for (i = 0; i < sizeof(x); i++)
		x[i] = (uint8_t)(0xc0 + i);
	ivs_ref(a, x, x, x, &want);
	run_check(p, x, &got, &want);

	/* One step's own IV, written between runs; the others keep theirs. */
	memset(y, 0x5c, sizeof(y));
	memcpy(atx_prep_iv(p, 3), y, 16);
	ivs_ref(a, x, x, y, &want);
	run_check(p, NULL, &got, &want);
	atx_prep_free(p);
	atx_session_free(cbc);
	atx_session_free(gcm);
	atx_session_free(ctr);
	assert_null(ctx->sessions);
	atx_ctx_free(ctx);
}

/* ---- one run at a time; freeing during a run ---- */

static void test_busy_and_free_during_run(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(1, 0);
	char a[256], b[256];
	uint32_t crc = 0;
	struct done d = { 0 };
	struct atx_submit sub = { .cb = done_cb, .cb_arg = &d };
	struct atx_step st[2] = {
		{ .op = ATX_STEP_MEMCPY, .dst = b, .src = a, .len = sizeof(a) },
		{ .op = ATX_STEP_CRC32C, .src = b, .len = sizeof(b), .out = &crc, .seed = 9 },
	};
	struct atx_prep *p = atx_prep_new(ctx, st, 2);
	struct atx_tx *tx, *tx2;

	assert_non_null(p);
	memset(a, 0x61, sizeof(a));
	tx = atx_prep_run(p, NULL, &sub);
	assert_non_null(tx);
	errno = 0;
	assert_null(atx_prep_run(p, NULL, &sub));
	assert_int_equal(errno, EBUSY);
	assert_int_equal(atx_wait(tx), 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(crc, crc_ref(a, sizeof(a), 9));
	assert_int_equal(atx_tx_ack(tx), 0);

	/* Free again once completed; freed during the next run, it still completes. */
	memset(a, 0x62, sizeof(a));
	tx2 = atx_prep_run(p, NULL, &sub);
	assert_non_null(tx2);
	atx_prep_free(p);
	assert_int_equal(atx_wait(tx2), 0);
	assert_int_equal(d.calls, 2);
	assert_int_equal(d.status, 0);
	assert_memory_equal(b, a, sizeof(a));
	assert_int_equal(crc, crc_ref(a, sizeof(a), 9));
	assert_int_equal(atx_tx_ack(tx2), 0);
	assert_null(ctx->preps);
	atx_prep_free(NULL);
	assert_null(atx_prep_run(NULL, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	atx_ctx_free(ctx);
}

/* ---- split runs: a step on another engine ---- */

static void split_runs(int fail)
{
	struct atx_ctx *ctx = ctx_lanes(0, 0);
	struct atx_session *s;
	uint8_t a[512], b[512], iv[16] = { 0 };
	uint32_t crc = 7;
	struct done d = { 0 };
	struct atx_submit sub = { .cb = done_cb, .cb_arg = &d };
	struct atx_prep *p;
	struct atx_tx *tx;
	unsigned k, nfree;

	fake_attach(ctx, fail, ATX_PRIO_HARDWARE);
	/* The fake engine takes the cipher session (it completes without transforming). */
	s = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_CIPHER,
		.cipher = ATX_CIPHER_AES_CBC, .key = key64, .key_len = 16 });
	assert_string_equal(atx_session_engine(s), "fakea");
	struct atx_step st[3] = {
		{ .op = ATX_STEP_CIPHER, .sess = s, .dst = a, .src = a, .len = sizeof(a), .iv = iv },
		{ .op = ATX_STEP_CRC32C, .src = a, .len = sizeof(a), .out = &crc },
		{ .op = ATX_STEP_MEMCPY, .dst = b, .src = a, .len = sizeof(a) },
	};

	p = atx_prep_new(ctx, st, 3);
	assert_non_null(p);
	atx_session_free(s);
	assert_int_equal(fake_a.sessions, 1);           /* the prep holds it */
	nfree = ctx->nfree;
	for (k = 0; k < 3; k++) {
		memset(a, 0x3c + k, sizeof(a));
		memset(b, 0, sizeof(b));
		crc = 7;
		tx = atx_prep_run(p, iv, &sub);
		assert_non_null(tx);
		/* No one channel serves all three: the chain's own descriptor only waits. */
		assert_int_equal(atx__untag(tx)->op.opcode, ATX_OP_NOP);
		errno = 0;
		assert_null(atx_prep_run(p, iv, &sub));
		assert_int_equal(errno, EBUSY);
		if (k == 2)
			atx_prep_free(p);       /* freed during the run: still completes */
		assert_int_equal(atx_wait(tx), fail);
		assert_int_equal(d.calls, (int)k + 1);
		assert_int_equal(d.status, fail);
		assert_int_equal(fake_a.submitted, k + 1);
		if (fail) {
			assert_int_equal(crc, 7);
			assert_int_equal(b[0], 0);
		} else {
			assert_int_equal(crc, crc_ref(a, sizeof(a), 0));
			assert_memory_equal(b, a, sizeof(a));
		}
		assert_int_equal(atx_tx_ack(tx), 0);
		/* Freed during the run: its own descriptor went back to the pool. */
		assert_int_equal(ctx->nfree, nfree + (k == 2));
	}
	assert_null(ctx->preps);
	assert_int_equal(fake_a.sessions, 0);
	atx_ctx_free(ctx);
}

static void test_split_runs_ok(void **state)
{
	split_runs(0);
}

static void test_split_runs_fail_with_step_status(void **state)
{
	split_runs(-EIO);
}

/* ---- arguments, resources, dependencies ---- */

static void test_bad_arguments(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(0, 8);
	char a[64] = "abc", b[64] = { 0 };
	uint32_t crc = 1;
	struct atx_step ok[2] = {
		{ .op = ATX_STEP_MEMCPY, .dst = b, .src = a, .len = sizeof(a) },
		{ .op = ATX_STEP_CRC32C, .src = b, .len = sizeof(b), .out = &crc },
	};
	struct atx_step st[ATX_CHAIN_MAX + 1];
	struct atx_tx *held[8], *tx, *stale;
	struct atx_submit s = { 0 };
	struct atx_prep *p;
	unsigned i, nfree = ctx->nfree;

	errno = 0;
	assert_null(atx_prep_new(NULL, ok, 2));
	assert_int_equal(errno, EINVAL);
	assert_null(atx_prep_new(ctx, NULL, 2));
	assert_int_equal(errno, EINVAL);
	assert_null(atx_prep_new(ctx, ok, 0));
	assert_int_equal(errno, EINVAL);
	for (i = 0; i <= ATX_CHAIN_MAX; i++)
		st[i] = ok[0];
	assert_null(atx_prep_new(ctx, st, ATX_CHAIN_MAX + 1));
	assert_int_equal(errno, EINVAL);
	st[1] = (struct atx_step){ .op = ATX_STEP_CRC32C, .src = b, .len = 4 };    /* no out */
	assert_null(atx_prep_new(ctx, st, 2));
	assert_int_equal(errno, EINVAL);
	st[1] = (struct atx_step){ .op = ATX_STEP_CIPHER, .dst = b, .src = a, .len = 16 };
	assert_null(atx_prep_new(ctx, st, 2));                  /* no session */
	assert_int_equal(errno, EINVAL);
	assert_null(ctx->preps);

	/*
	 * A full pool: the prep still runs, on the descriptor it holds.
	 * While the caller holds that one (not acked), the next run needs
	 * one from the pool: EAGAIN, and the prep is free for the next run.
	 */
	p = atx_prep_new(ctx, ok, 2);
	assert_non_null(p);
	assert_int_equal(ctx->nfree, nfree - 1);
	for (i = 0; i < 7; i++) {
		held[i] = atx_memcpy(ctx, b, a, 1, NULL);
		assert_non_null(held[i]);
	}
	assert_null(atx_memcpy(ctx, b, a, 1, NULL));
	assert_int_equal(errno, EAGAIN);
	tx = atx_prep_run(p, NULL, NULL);
	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), 0);
	assert_memory_equal(b, a, sizeof(a));
	assert_int_equal(crc, crc_ref(a, sizeof(a), 0));
	assert_null(atx_prep_run(p, NULL, NULL));
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(atx_tx_ack(tx), 0);
	for (i = 0; i < 7; i++) {
		assert_int_equal(atx_wait(held[i]), 0);
		assert_int_equal(atx_tx_ack(held[i]), 0);
	}
	assert_int_equal(ctx->nfree, nfree - 1);
	memset(b, 0, sizeof(b));
	crc = 1;
	tx = atx_prep_run(p, NULL, NULL);
	wait_ok(tx);
	assert_memory_equal(b, a, sizeof(a));
	assert_int_equal(crc, crc_ref(a, sizeof(a), 0));

	/* A recycled dependency: ESTALE, nothing queued, the prep free again. */
	stale = atx_memcpy(ctx, b, a, 1, NULL);
	assert_non_null(stale);
	assert_int_equal(atx_wait(stale), 0);
	assert_int_equal(atx_tx_ack(stale), 0);
	s.depend_tx = stale;
	assert_null(atx_prep_run(p, NULL, &s));
	assert_int_equal(errno, ESTALE);
	assert_int_equal(ctx->nfree, nfree - 1);
	tx = atx_prep_run(p, NULL, NULL);
	wait_ok(tx);
	assert_int_equal(ctx->nfree, nfree - 1);
	/* Left for atx_ctx_free, with a run of another prep in flight (ASan: nothing leaks). */
	assert_non_null(atx_prep_run(atx_prep_new(ctx, ok, 2), NULL,
				     &(struct atx_submit){ .flags = ATX_F_ACK }));
	atx_ctx_free(ctx);
}

/*
 * Run @p, whose first step copies @copy->src to @copy->dst and whose
 * second writes the crc32c (seed 9) of the copy to *@crc, over a source
 * filled with @fill; on the prep's own descriptor or not (@own), with
 * @nfree left in the pool.  Completed, checked, and held (not acked).
 */
static struct atx_tx *run_held(struct atx_ctx *ctx, struct atx_prep *p,
			       const struct atx_step *copy, const uint32_t *crc, int fill, bool own,
			       unsigned nfree)
{
	struct atx_tx *tx;

	memset((void *)copy->src, fill, copy->len);
	tx = atx_prep_run(p, NULL, NULL);
	assert_non_null(tx);
	if (own)
		assert_ptr_equal(atx__untag(tx), p->own);
	else
		assert_ptr_not_equal(atx__untag(tx), p->own);
	assert_int_equal(ctx->nfree, nfree);
	assert_int_equal(atx_wait(tx), 0);
	assert_memory_equal(copy->dst, copy->src, copy->len);
	assert_int_equal(*crc, crc_ref(copy->src, copy->len, 9));
	return tx;
}

/*
 * The descriptor a prep holds: its runs use it while it is free, a run
 * while the caller still holds it takes one from the pool, a handle of
 * an earlier run is stale once it was recycled, and it goes back to the
 * pool when the prep is freed (at once, or when its holder acks it).
 */
static void test_own_descriptor(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(0, 4);
	char a[256], b[256];
	uint32_t crc = 0;
	struct atx_step st[2] = {
		{ .op = ATX_STEP_MEMCPY, .dst = b, .src = a, .len = sizeof(a) },
		{ .op = ATX_STEP_CRC32C, .src = b, .len = sizeof(b), .out = &crc, .seed = 9 },
	};
	struct atx_submit ack = { .flags = ATX_F_ACK };
	struct atx_tx *t1, *t2, *t3, *held[4];
	struct atx_prep *p, *q;
	unsigned i;

	assert_int_equal(ctx->nfree, 4);
	p = atx_prep_new(ctx, st, 2);
	assert_non_null(p);
	assert_non_null(p->own);
	assert_int_equal(ctx->nfree, 3);

	/* Run 1 on its own descriptor, held (not acked) after it completes. */
	t1 = run_held(ctx, p, &st[0], &crc, 0x11, true, 3);
	/* Run 2 while run 1's is held: a descriptor from the pool. */
	t2 = run_held(ctx, p, &st[0], &crc, 0x22, false, 2);
	assert_int_equal(atx_tx_ack(t2), 0);
	assert_int_equal(ctx->nfree, 3);                /* run 2's went back to the pool */
	assert_int_equal(atx_tx_ack(t1), 0);
	assert_int_equal(ctx->nfree, 3);                /* run 1's went back to the prep */
	assert_int_equal(atx_tx_ack(t1), -ESTALE);
	assert_int_equal(atx_wait(t1), -ESTALE);

	/* Run 3 reuses it under a new handle; run 1's stays stale, as a dependency too. */
	memset(a, 0x33, sizeof(a));
	t3 = atx_prep_run(p, NULL, NULL);
	assert_non_null(t3);
	assert_ptr_equal(atx__untag(t3), atx__untag(t1));
	assert_ptr_not_equal(t3, t1);
	assert_int_equal(atx_tx_ack(t1), -ESTALE);
	assert_null(atx_memcpy(ctx, b, a, 1, &(struct atx_submit){ .depend_tx = t1 }));
	assert_int_equal(errno, ESTALE);
	assert_int_equal(atx_wait(t3), 0);
	assert_int_equal(crc, crc_ref(a, sizeof(a), 9));

	/* Freed while the caller holds its descriptor: to the pool when acked. */
	atx_prep_free(p);
	assert_int_equal(ctx->nfree, 3);
	assert_int_equal(atx_tx_ack(t3), 0);
	assert_int_equal(ctx->nfree, 4);

	/* Made with the pool empty: no descriptor of its own, every run takes one. */
	for (i = 0; i < 4; i++) {
		held[i] = atx_memcpy(ctx, b, a, 1, NULL);
		assert_non_null(held[i]);
	}
	q = atx_prep_new(ctx, st, 2);
	assert_non_null(q);
	assert_null(q->own);
	assert_null(atx_prep_run(q, NULL, &ack));
	assert_int_equal(errno, EAGAIN);
	for (i = 0; i < 4; i++) {
		assert_int_equal(atx_wait(held[i]), 0);
		assert_int_equal(atx_tx_ack(held[i]), 0);
	}
	t1 = run_held(ctx, q, &st[0], &crc, 0x44, false, 3);
	assert_int_equal(atx_tx_ack(t1), 0);
	assert_int_equal(ctx->nfree, 4);
	atx_prep_free(q);
	assert_int_equal(ctx->nfree, 4);

	/* Freed with its run in flight: back to the pool when the run completes. */
	p = atx_prep_new(ctx, st, 2);
	assert_non_null(p);
	assert_int_equal(ctx->nfree, 3);
	assert_non_null(atx_prep_run(p, NULL, &ack));
	atx_prep_free(p);
	assert_int_equal(ctx->nfree, 3);
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
	assert_int_equal(ctx->nfree, 4);

	/* Left for atx_ctx_free: a prep whose completed run the caller never acked (ASan). */
	p = atx_prep_new(ctx, st, 2);
	assert_non_null(p);
	t1 = atx_prep_run(p, NULL, NULL);
	assert_int_equal(atx_wait(t1), 0);
	atx_ctx_free(ctx);
}

/* Behind a parent; a failed parent cancels the run; a pinned channel. */
static void test_dependencies_and_pinned(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(0, 0);
	struct atx_caps caps = { .size = sizeof(caps), .mask = ATX_CAP_MEMCPY, .engine = "fakea" };
	struct atx_chan *priv;
	char a[128], b[128], c[128], e[128];
	uint32_t crc = 0;
	struct done d = { 0 };
	struct atx_submit s = { 0 };
	struct atx_tx *par, *tx, *after;
	struct atx_prep *p, *pm;

	memset(a, 0x42, sizeof(a));
	memset(c, 0, sizeof(c));
	struct atx_step st[2] = {
		{ .op = ATX_STEP_CRC32C, .src = b, .len = sizeof(b), .out = &crc },
		{ .op = ATX_STEP_MEMCPY, .dst = c, .src = b, .len = sizeof(b) },
	};

	p = atx_prep_new(ctx, st, 2);
	assert_non_null(p);
	par = atx_memcpy(ctx, b, a, sizeof(a), NULL);
	assert_non_null(par);
	s = (struct atx_submit){ .depend_tx = par, .cb = done_cb, .cb_arg = &d };
	tx = atx_prep_run(p, NULL, &s);
	assert_non_null(tx);
	s = (struct atx_submit){ .depend_tx = tx };
	after = atx_memcpy(ctx, e, c, sizeof(c), &s);
	assert_non_null(after);
	assert_int_equal(atx_wait(after), 0);
	assert_int_equal(atx_tx_ack(after), 0);
	/* Used as dependencies, tx and par were acked (async_tx 3.3) and are gone. */
	assert_int_equal(atx_tx_ack(tx), -ESTALE);
	assert_int_equal(d.calls, 1);
	assert_int_equal(crc, crc_ref(a, sizeof(a), 0));
	assert_memory_equal(e, a, sizeof(a));

	/* The parent fails on a private fake channel: the run is cancelled, its steps never run. */
	fake_attach(ctx, -EIO, -EOPNOTSUPP);
	priv = atx_chan_request(ctx, &caps, NULL, NULL);
	assert_non_null(priv);
	s = (struct atx_submit){ .chan = priv };
	par = atx_memcpy(ctx, b, a, sizeof(a), &s);
	assert_non_null(par);
	crc = 0;
	memset(c, 0, sizeof(c));
	s = (struct atx_submit){ .depend_tx = par, .cb = done_cb, .cb_arg = &d };
	tx = atx_prep_run(p, NULL, &s);
	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), -ECANCELED);
	assert_int_equal(d.calls, 2);
	assert_int_equal(d.status, -ECANCELED);
	assert_int_equal(crc, 0);
	assert_int_equal(c[0], 0);
	assert_int_equal(atx_tx_ack(tx), 0);

	/* Pinned to a channel that cannot serve crc32c: refused; the prep stays free. */
	s = (struct atx_submit){ .chan = priv };
	errno = 0;
	assert_null(atx_prep_run(p, NULL, &s));
	assert_int_equal(errno, EINVAL);
	/* One that can, without ATX_CAP_SEQ: the steps one by one, all on it. */
	fake_a.fail_status = 0;
	struct atx_step mm[2] = {
		{ .op = ATX_STEP_MEMCPY, .dst = b, .src = a, .len = sizeof(a) },
		{ .op = ATX_STEP_MEMCPY, .dst = e, .src = b, .len = sizeof(b) },
	};
	pm = atx_prep_new(ctx, mm, 2);
	assert_non_null(pm);
	memset(e, 0, sizeof(e));
	fake_a.submitted = 0;
	tx = atx_prep_run(pm, NULL, &s);
	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), 0);
	assert_int_equal(fake_a.submitted, 2);
	assert_memory_equal(e, a, sizeof(a));
	assert_int_equal(atx_tx_ack(tx), 0);
	/* And the prep still runs unpinned, on the lane. */
	tx = atx_prep_run(p, NULL, NULL);
	assert_non_null(tx);
	assert_int_equal(atx__untag(tx)->op.opcode, ATX_OP_SEQ);
	assert_int_equal(atx_wait(tx), 0);
	assert_int_equal(atx_tx_ack(tx), 0);
	atx_prep_free(pm);
	atx_prep_free(p);
	atx_chan_release(priv);
	atx_ctx_free(ctx);
}

/* Pinned to a private lane that takes chains: one descriptor there; a session elsewhere: EINVAL. */
static void test_pinned_seq_lane(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(1, 0);
	struct atx_caps caps = { .size = sizeof(caps), .engine = "soft",
				 .mask = ATX_CAP_MEMCPY | ATX_CAP_CRC32C | ATX_CAP_SEQ };
	struct atx_chan *priv = atx_chan_request(ctx, &caps, NULL, NULL);
	struct atx_submit s = { .chan = priv };
	struct atx_chan_stats cs;
	char a[256], b[256], c[256];
	uint32_t crc = 0;
	struct atx_session *fk;
	struct atx_prep *p, *pf;
	struct atx_tx *tx;

	assert_non_null(priv);
	memset(a, 0x17, sizeof(a));
	struct atx_step st[2] = {
		{ .op = ATX_STEP_MEMCPY, .dst = b, .src = a, .len = sizeof(a) },
		{ .op = ATX_STEP_CRC32C, .src = b, .len = sizeof(b), .out = &crc, .seed = 3 },
	};
	p = atx_prep_new(ctx, st, 2);
	assert_non_null(p);
	tx = atx_prep_run(p, NULL, &s);
	assert_non_null(tx);
	assert_int_equal(atx__untag(tx)->op.opcode, ATX_OP_SEQ);
	assert_ptr_equal(atx__untag(tx)->chan, priv);
	assert_int_equal(atx_wait(tx), 0);
	assert_int_equal(atx_tx_ack(tx), 0);
	assert_memory_equal(b, a, sizeof(a));
	assert_int_equal(crc, crc_ref(a, sizeof(a), 3));
	atx_chan_stats(priv, &cs);
	assert_int_equal(cs.ops, 2);

	/* A cipher session on the fake engine cannot run on the soft lane: refused, prep free. */
	assert_int_equal(fake_a_reset_attach(ctx, 0, ATX_PRIO_HARDWARE), 0);
	fk = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_CIPHER,
		.cipher = ATX_CIPHER_AES_CBC, .key = key64, .key_len = 16 });
	assert_string_equal(atx_session_engine(fk), "fakea");
	struct atx_step sf[2] = {
		{ .op = ATX_STEP_CIPHER, .sess = fk, .dst = c, .src = a, .len = sizeof(a),
		  .iv = key64 },
		{ .op = ATX_STEP_MEMCPY, .dst = b, .src = c, .len = sizeof(c) },
	};
	pf = atx_prep_new(ctx, sf, 2);
	assert_non_null(pf);
	errno = 0;
	assert_null(atx_prep_run(pf, NULL, &s));
	assert_int_equal(errno, EINVAL);
	tx = atx_prep_run(pf, NULL, NULL);              /* unpinned: split over both engines */
	wait_ok(tx);
	assert_true(fake_a.submitted >= 1);               /* the cipher step ran there */
	atx_prep_free(pf);
	atx_prep_free(p);
	atx_session_free(fk);
	atx_chan_release(priv);
	atx_ctx_free(ctx);
}

/*
 * The software engine keeps what it decided about each step of a prep at
 * its first flagged run (ATX_SEQ_F_PREP) in the step's eng[0]: runs with
 * and without the flag, and steps it decides differently (a flat cipher,
 * a cipher in data units, a fill, a fused copy+crc), all match OpenSSL and
 * ISA-L run after run.  The run's remembered channel goes when it is
 * taken private, and comes back when it is released.
 */
static void test_prepared_steps_and_private_lane(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(0, 0);
	struct atx_session *cbc = sess(ctx, (struct atx_session_params){
		.service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_CBC, .key = key64, .key_len = 16,
		.engine = "soft" });
	struct atx_session *du = sess(ctx, (struct atx_session_params){
		.service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_XTS, .key = key64, .key_len = 64,
		.data_unit_len = 512, .data_unit_iv_step = 1, .engine = "soft" });
	struct atx_caps caps = { .size = sizeof(caps), .engine = "soft",
				 .mask = ATX_CAP_MEMCPY | ATX_CAP_CRC32C | ATX_CAP_SEQ };
	static uint8_t a[1024], b[1024], c[1024], d[1024], f[64], ref[1024], ref2[1024];
	uint8_t iv[16];
	uint32_t crc = 0;
	struct atx_chan_stats cs0, cs1;
	struct atx_chan *priv;
	struct atx_prep *p;
	struct atx_tx *tx, *par;
	struct atx_submit s;
	unsigned run, i;

	memset(iv, 0, sizeof(iv));
	struct atx_step st[5] = {
		{ .op = ATX_STEP_CIPHER, .sess = cbc, .dst = b, .src = a, .len = sizeof(a), .iv = iv },
		{ .op = ATX_STEP_CIPHER, .sess = du, .dst = c, .src = b, .len = sizeof(b), .iv = iv },
		{ .op = ATX_STEP_COPY_CRC32C, .dst = d, .src = c, .len = sizeof(c), .out = &crc,
		  .seed = 9 },
		{ .op = ATX_STEP_MEMSET, .dst = f, .len = sizeof(f), .seed = 0x5a },
		{ .op = ATX_STEP_MEMCPY, .dst = f + 8, .src = d, .len = 16 },
	};
	p = atx_prep_new(ctx, st, 5);
	assert_non_null(p);
	for (run = 0; run < 6; run++) {
		for (i = 0; i < sizeof(a); i++)
			a[i] = (uint8_t)(i * 13 + run);
		memset(iv, 0, sizeof(iv));
		iv[0] = (uint8_t)run;
		memset(d, 0, sizeof(d));
		memset(f, 0, sizeof(f));
		/* Runs 0 and 3 wait for a parent: no flag; the others run prepared. */
		par = NULL;
		if (run % 3 == 0) {
			par = atx_memset(ctx, ref, 0, 16, NULL);
			assert_non_null(par);
		}
		s = (struct atx_submit){ .depend_tx = par };
		tx = atx_prep_run(p, iv, &s);
		assert_non_null(tx);
		assert_int_equal(atx__untag(tx)->op.u.seq.flags & ATX_SEQ_F_PREP,
				 run % 3 ? ATX_SEQ_F_PREP : 0);
		assert_int_equal(atx_wait(tx), 0);
		assert_int_equal(atx_tx_ack(tx), 0);
		evp_ref(EVP_aes_128_cbc(), key64, iv, 1, a, ref, sizeof(a));
		assert_memory_equal(b, ref, sizeof(b));
		/* XTS per 512-byte unit, the tweak advanced by one per unit. */
		for (i = 0; i < sizeof(b) / 512; i++) {
			uint8_t tw[16];

			memcpy(tw, iv, 16);
			tw[0] = (uint8_t)(tw[0] + i);
			evp_ref(EVP_aes_256_xts(), key64, tw, 1, b + i * 512, ref2 + i * 512, 512);
		}
		assert_memory_equal(c, ref2, sizeof(c));
		assert_memory_equal(d, ref2, sizeof(d));
		assert_int_equal(crc, crc_ref(ref2, sizeof(ref2), 9));
		for (i = 0; i < sizeof(f); i++)
			assert_int_equal(f[i], i >= 8 && i < 24 ? ref2[i - 8] : 0x5a);
	}
	/* The flat cipher and the copy were decided once; the rest go the general way. */
	assert_int_not_equal(p->ops[0].op.eng[0], p->ops[1].op.eng[0]);
	assert_int_equal(p->ops[1].op.eng[0], p->ops[2].op.eng[0]);
	assert_int_equal(p->ops[2].op.eng[0], p->ops[3].op.eng[0]);
	assert_int_not_equal(p->ops[3].op.eng[0], p->ops[4].op.eng[0]);
	atx_prep_free(p);

	/* A memory-only prep, on the one lane; then that lane is taken private. */
	struct atx_step mm[2] = {
		{ .op = ATX_STEP_MEMCPY, .dst = b, .src = a, .len = 256 },
		{ .op = ATX_STEP_CRC32C, .src = b, .len = 256, .out = &crc, .seed = 1 },
	};
	p = atx_prep_new(ctx, mm, 2);
	assert_non_null(p);
	tx = atx_prep_run(p, NULL, NULL);
	wait_ok(tx);
	priv = atx_chan_request(ctx, &caps, NULL, NULL);
	assert_non_null(priv);
	atx_chan_stats(priv, &cs0);
	errno = 0;
	assert_null(atx_prep_run(p, NULL, NULL));       /* no public channel serves it now */
	assert_int_equal(errno, EOPNOTSUPP);
	atx_chan_stats(priv, &cs1);
	assert_int_equal(cs1.ops, cs0.ops);
	/* Pinned to it, its owner may. */
	s = (struct atx_submit){ .chan = priv };
	tx = atx_prep_run(p, NULL, &s);
	wait_ok(tx);
	atx_chan_release(priv);
	crc = 0;
	a[0] ^= 1;
	tx = atx_prep_run(p, NULL, NULL);
	assert_non_null(tx);
	assert_ptr_equal(atx__untag(tx)->chan, priv);
	assert_int_equal(atx_wait(tx), 0);
	assert_int_equal(atx_tx_ack(tx), 0);
	assert_int_equal(crc, crc_ref(a, 256, 1));
	atx_prep_free(p);
	atx_session_free(cbc);
	atx_session_free(du);
	atx_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storage_runs_inline),
		cmocka_unit_test(test_storage_runs_lanes),
		cmocka_unit_test(test_ivs),
		cmocka_unit_test(test_busy_and_free_during_run),
		cmocka_unit_test(test_split_runs_ok),
		cmocka_unit_test(test_split_runs_fail_with_step_status),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_own_descriptor),
		cmocka_unit_test(test_dependencies_and_pinned),
		cmocka_unit_test(test_pinned_seq_lane),
		cmocka_unit_test(test_prepared_steps_and_private_lane),
	};

	srand(4242);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
