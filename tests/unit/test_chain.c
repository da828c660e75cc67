/* SPDX-License-Identifier: MIT */
/*
 * atx_chain: linked steps in one call.  Results are compared with OpenSSL
 * and ISA-L called directly; the status rules (first failing step's
 * status, later steps not run, one callback), argument checks (nothing
 * queued on a bad step), both ways of running a chain (one ATX_OP_SEQ
 * descriptor on a lane, or split over engines) and the pool's accounting.
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
#include <openssl/hmac.h>

#include "atx.h"
#include "fake_engine.h"
#include "step_refs.h"

static const uint8_t key64[64] = {
	0x27, 0x18, 0x28, 0x18, 0x28, 0x45, 0x90, 0x45, 0x23, 0x53, 0x60, 0x28, 0x74, 0x71, 0x35, 0x26,
	0x62, 0x49, 0x77, 0x57, 0x24, 0x70, 0x93, 0x69, 0x99, 0x59, 0x57, 0x49, 0x66, 0x96, 0x76, 0x27,
	0x31, 0x41, 0x59, 0x26, 0x53, 0x58, 0x97, 0x93, 0x23, 0x84, 0x62, 0x64, 0x33, 0x83, 0x27, 0x95,
	0x02, 0x88, 0x41, 0x97, 0x16, 0x93, 0x99, 0x37, 0x51, 0x05, 0x82, 0x09, 0x74, 0x94, 0x45, 0x92,
};

static struct atx_session *xts_sess(struct atx_ctx *ctx, const char *eng)
{
	return sess(ctx, (struct atx_session_params){ .service = ATX_SVC_CIPHER,
		.cipher = ATX_CIPHER_AES_XTS, .dir = ATX_ENCRYPT, .key = key64, .key_len = 64,
		.engine = eng });
}

/* ---- the storage chain on one lane: one descriptor per chain ---- */

#define NCH 48
#define BS 4096

/*
 * @acked: submitted with ATX_F_ACK and never waited on, the way a storage
 * stack runs them -- each chain's completion then takes the loop's plain
 * fast path (straight back to the pool, then the callback), which must
 * count, release and recycle exactly as the general path does.
 */
static void storage_chain(unsigned lanes, bool acked)
{
	struct atx_ctx *ctx = ctx_lanes(lanes, 0);
	struct atx_session *xts = xts_sess(ctx, "soft");
	static uint8_t src[NCH][BS], ct[NCH][BS], out[NCH][BS], ref[BS];
	uint32_t crc[NCH];
	struct done d[NCH] = { { 0 } };
	struct atx_tx *tx[NCH];
	uint64_t ops = 0;
	unsigned i, j, nfree = ctx->nfree;

	for (i = 0; i < NCH; i++) {
		uint8_t iv[16] = { 0 };
		struct atx_step st[3] = {
			{ .op = ATX_STEP_CIPHER, .sess = xts, .dst = ct[i], .src = src[i], .len = BS,
			  .iv = iv },
			{ .op = ATX_STEP_CRC32C, .src = ct[i], .len = BS, .out = &crc[i], .seed = i },
			{ .op = ATX_STEP_MEMCPY, .dst = out[i], .src = ct[i], .len = BS },
		};
		struct atx_submit sub = { .flags = acked ? ATX_F_ACK : 0, .cb = done_cb,
					  .cb_arg = &d[i] };

		for (j = 0; j < BS; j++)
			src[i][j] = (uint8_t)(rand() >> 7);
		memcpy(iv, &i, sizeof(i));
		tx[i] = atx_chain(ctx, st, 3, &sub);
		assert_non_null(tx[i]);
		/* Every step served by the lane that takes chains: one descriptor. */
		assert_int_equal(atx__untag(tx[i])->op.opcode, ATX_OP_SEQ);
	}
	assert_int_equal(ctx->nfree, nfree - NCH * 4);
	/* In-flight chains hold their sessions: the caller may let go now. */
	atx_session_free(xts);
	if (acked)
		assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
	for (i = 0; i < NCH; i++) {
		uint8_t iv[16] = { 0 };

		if (!acked) {
			assert_int_equal(atx_wait(tx[i]), 0);
			assert_int_equal(atx_tx_ack(tx[i]), 0);
		}
		assert_int_equal(d[i].calls, 1);
		assert_int_equal(d[i].status, 0);
		memcpy(iv, &i, sizeof(i));
		evp_ref(EVP_aes_256_xts(), key64, iv, 1, src[i], ref, BS);
		assert_memory_equal(ct[i], ref, BS);
		assert_memory_equal(out[i], ref, BS);
		assert_int_equal(crc[i], crc_ref(ref, BS, i));
	}
	assert_int_equal(ctx->nfree, nfree);
	/* Every step counts on the channel that ran it. */
	for (i = 0; i < atx_chan_count(ctx); i++) {
		struct atx_chan_stats cs;

		atx_chan_stats(atx_chan_get(ctx, i), &cs);
		ops += cs.ops;
	}
	assert_int_equal(ops, NCH * 3);
	atx_ctx_free(ctx);
}

static void test_storage_chain_inline(void **state)
{
	storage_chain(0, false);
}

static void test_storage_chain_lanes(void **state)
{
	storage_chain(2, false);
}

static void test_storage_chain_acked_inline(void **state)
{
	storage_chain(0, true);
}

static void test_storage_chain_acked_lanes(void **state)
{
	storage_chain(2, true);
}

/* ---- random chains against a step-by-step reference ---- */

enum { R_COPY, R_FILL, R_CRC, R_COPYCRC, R_CBC, R_CTR, R_SHA256, R_HMAC, R_GCM, R__N };

#define RBUF 1024

/* @prep: each chain through atx_prep_new/atx_prep_run instead of atx_chain. */
static void random_chains(unsigned lanes, const char *eng, unsigned rounds, bool prep)
{
	struct atx_ctx *ctx = ctx_lanes(lanes, 0);
	struct atx_session *s[R__N] = { 0 };
	static uint8_t buf[ATX_CHAIN_MAX + 1][RBUF], want[ATX_CHAIN_MAX + 1][RBUF];
	uint8_t out[ATX_CHAIN_MAX][32], wout[ATX_CHAIN_MAX][32];
	unsigned r, i;

	s[R_CBC] = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_CIPHER,
		.cipher = ATX_CIPHER_AES_CBC, .key = key64, .key_len = 16, .engine = eng });
	s[R_CTR] = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_CIPHER,
		.cipher = ATX_CIPHER_AES_CTR, .key = key64, .key_len = 32, .engine = eng });
	s[R_SHA256] = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_HASH,
		.hash = ATX_HASH_SHA256, .engine = "soft" });
	s[R_HMAC] = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_MAC,
		.mac = ATX_MAC_HMAC_SHA256, .key = key64, .key_len = 40, .engine = eng });
	s[R_GCM] = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_AEAD,
		.aead = ATX_AEAD_AES_GCM, .key = key64, .key_len = 16, .engine = eng });
	for (r = 0; r < rounds; r++) {
		unsigned n = 1 + (unsigned)rand() % ATX_CHAIN_MAX, cur = 0, nb = 1;
		size_t len = 16 * (1 + (unsigned)rand() % (RBUF / 16));
		struct atx_step st[ATX_CHAIN_MAX];
		uint8_t iv[ATX_CHAIN_MAX][16];
		struct done d = { 0 };
		struct atx_submit sub = { .cb = done_cb, .cb_arg = &d, .flags = ATX_F_ACK };
		struct atx_tx *tx;

		for (i = 0; i < RBUF; i++)
			buf[0][i] = want[0][i] = (uint8_t)rand();
		memset(out, 0, sizeof(out));
		memset(wout, 0, sizeof(wout));
		for (i = 0; i < n; i++) {
			unsigned k = (unsigned)rand() % R__N, o = nb;
			unsigned hl;
			uint32_t seed = (uint32_t)rand();

			memset(iv[i], (int)(i * 17 + r), 16);
			st[i] = (struct atx_step){ .src = buf[cur], .len = len, .sess = s[k] };
			switch (k) {
			case R_COPY:
				st[i].op = ATX_STEP_MEMCPY;
				st[i].dst = buf[o];
				memcpy(want[o], want[cur], len);
				break;
			case R_FILL:
				st[i].op = ATX_STEP_MEMSET;
				st[i].src = NULL;
				st[i].dst = buf[o];
				st[i].seed = seed & 0xff;
				memset(want[o], (int)(seed & 0xff), len);
				break;
			case R_CRC:
				st[i].op = ATX_STEP_CRC32C;
				st[i].out = out[i];
				st[i].seed = seed;
				*(uint32_t *)wout[i] = crc_ref(want[cur], len, seed);
				o = cur;
				break;
			case R_COPYCRC:
				st[i].op = ATX_STEP_COPY_CRC32C;
				st[i].dst = buf[o];
				st[i].out = out[i];
				st[i].seed = seed;
				memcpy(want[o], want[cur], len);
				*(uint32_t *)wout[i] = crc_ref(want[cur], len, seed);
				break;
			case R_CBC:
			case R_CTR:
				st[i].op = ATX_STEP_CIPHER;
				st[i].iv = iv[i];
				/* Every other one in place. */
				if (i & 1)
					o = cur;
				st[i].dst = buf[o];
				evp_ref(k == R_CBC ? EVP_aes_128_cbc() : EVP_aes_256_ctr(), key64, iv[i],
					1, want[cur], want[o], len);
				break;
			case R_SHA256:
			case R_HMAC:
				st[i].op = ATX_STEP_DIGEST;
				st[i].out = out[i];
				if (k == R_SHA256)
					EVP_Digest(want[cur], len, wout[i], &hl, EVP_sha256(), NULL);
				else
					HMAC(EVP_sha256(), key64, 40, want[cur], len, wout[i], &hl);
				o = cur;
				break;
			default:
				st[i].op = ATX_STEP_AEAD;
				st[i].dst = buf[o];
				st[i].iv = iv[i];
				st[i].iv_len = 12;
				st[i].out = out[i];
				gcm_ref(EVP_aes_128_gcm(), key64, iv[i], want[cur], want[o], len, wout[i]);
				break;
			}
			if (o == nb)
				nb++;
			cur = o;
		}
		if (prep) {
			struct atx_prep *p = atx_prep_new(ctx, st, n);

			if (!p)
				fail_msg("round %u: atx_prep_new(%u steps): errno %d", r, n, errno);
			memset(iv, 0xee, sizeof(iv));   /* copied at atx_prep_new */
			tx = atx_prep_run(p, NULL, &sub);
			if (!tx)
				fail_msg("round %u: atx_prep_run(%u steps): errno %d", r, n, errno);
			atx_prep_free(p);               /* freed when the run completes */
		} else {
			tx = atx_chain(ctx, st, n, &sub);
			if (!tx)
				fail_msg("round %u: atx_chain(%u steps): errno %d", r, n, errno);
		}
		assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
		assert_int_equal(d.calls, 1);
		assert_int_equal(d.status, 0);
		for (i = 0; i < nb; i++)
			assert_memory_equal(buf[i], want[i], len);
		assert_memory_equal(out, wout, sizeof(out));
	}
	for (i = 0; i < R__N; i++)
		if (s[i])
			atx_session_free(s[i]);
	atx_ctx_free(ctx);
}

static void test_random_inline(void **state)
{
	random_chains(0, "soft", 300, false);
}

static void test_random_lanes(void **state)
{
	random_chains(2, "soft", 300, false);
}

/* Sessions on the best engine (intel-ipsec-mb where present): split chains, same bytes. */
static void test_random_best_engine(void **state)
{
	random_chains(0, NULL, 300, false);
}

static void test_random_prep_inline(void **state)
{
	random_chains(0, "soft", 300, true);
}

static void test_random_prep_lanes(void **state)
{
	random_chains(2, "soft", 300, true);
}

static void test_random_prep_best_engine(void **state)
{
	random_chains(0, NULL, 300, true);
}

/* ---- failure: the first failing step's status, later steps do not run ---- */

static void test_failing_step_stops_chain(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(0, 0);
	struct atx_session *dec = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_AEAD,
		.aead = ATX_AEAD_AES_GCM, .dir = ATX_DECRYPT, .key = key64, .key_len = 16,
		.engine = "soft" });
	uint8_t a[256], b[256], c[256], sentinel[256], tag[16] = { 0 }, iv[12] = { 1 };
	uint32_t crc = 0x5a5a5a5a;
	struct done d = { 0 };
	struct atx_submit sub = { .cb = done_cb, .cb_arg = &d };
	struct atx_step st[4] = {
		{ .op = ATX_STEP_MEMCPY, .dst = b, .src = a, .len = sizeof(a) },
		{ .op = ATX_STEP_AEAD, .sess = dec, .dst = c, .src = b, .len = sizeof(b), .iv = iv,
		  .iv_len = 12, .out = tag },
		{ .op = ATX_STEP_CRC32C, .src = c, .len = sizeof(c), .out = &crc },
		{ .op = ATX_STEP_MEMCPY, .dst = a, .src = c, .len = sizeof(c) },
	};
	struct atx_tx *tx;
	unsigned nfree = ctx->nfree;

	memset(a, 0x11, sizeof(a));
	memset(c, 0xcc, sizeof(c));
	memcpy(sentinel, a, sizeof(a));
	tx = atx_chain(ctx, st, 4, &sub);
	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), -EBADMSG);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, -EBADMSG);
	assert_memory_equal(b, a, sizeof(a));           /* step 1 ran */
	for (unsigned i = 0; i < sizeof(c); i++)
		assert_int_equal(c[i], 0xcc);           /* step 2 failed: nothing written */
	assert_int_equal(crc, 0x5a5a5a5a);              /* steps 3 and 4 did not run */
	assert_memory_equal(a, sentinel, sizeof(a));
	assert_int_equal(atx_tx_status(tx), -EBADMSG);
	/* A dependent of the failed chain is cancelled, as for any descriptor. */
	struct atx_submit s2 = { .depend_tx = tx };
	struct atx_tx *after = atx_memcpy(ctx, c, a, sizeof(a), &s2);

	assert_non_null(after);
	assert_int_equal(atx_wait(after), -ECANCELED);
	atx_tx_ack(after);
	assert_int_equal(ctx->nfree, nfree);
	atx_session_free(dec);
	atx_ctx_free(ctx);
}

/* Attach the fake engine (fake_engine.c) to @ctx: failing with @fail, probing with @prio. */
static void fake_attach(struct atx_ctx *ctx, int fail, int prio)
{
	assert_int_equal(fake_a_reset_attach(ctx, fail, prio), 0);
}

/* ---- split chains: steps on different engines, same status rules ---- */

static void split_chain(int fail)
{
	struct atx_ctx *ctx = ctx_lanes(0, 0);
	struct atx_session *s;
	uint8_t a[512], b[512];
	uint32_t crc = 7;
	struct done d = { 0 };
	struct atx_submit sub = { .cb = done_cb, .cb_arg = &d };
	struct atx_tx *tx;
	unsigned nfree;

	fake_attach(ctx, fail, ATX_PRIO_HARDWARE);
	/* The fake engine takes the cipher session (it completes without transforming). */
	s = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_CIPHER,
		.cipher = ATX_CIPHER_AES_CBC, .key = key64, .key_len = 16 });
	assert_string_equal(atx_session_engine(s), "fakea");
	nfree = ctx->nfree;
	memset(a, 0x3c, sizeof(a));
	memset(b, 0, sizeof(b));
	struct atx_step st[3] = {
		{ .op = ATX_STEP_CIPHER, .sess = s, .dst = a, .src = a, .len = sizeof(a),
		  .iv = key64 },
		{ .op = ATX_STEP_CRC32C, .src = a, .len = sizeof(a), .out = &crc },
		{ .op = ATX_STEP_MEMCPY, .dst = b, .src = a, .len = sizeof(a) },
	};

	tx = atx_chain(ctx, st, 3, &sub);
	assert_non_null(tx);
	/* No one channel serves all three: the chain's own descriptor only waits. */
	assert_int_equal(atx__untag(tx)->op.opcode, ATX_OP_NOP);
	assert_int_equal(atx_wait(tx), fail);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, fail);
	assert_int_equal(fake_a.submitted, 1);
	if (fail) {
		assert_int_equal(crc, 7);
		for (unsigned i = 0; i < sizeof(b); i++)
			assert_int_equal(b[i], 0);
	} else {
		assert_int_equal(crc, crc_ref(a, sizeof(a), 0));
		assert_memory_equal(b, a, sizeof(a));
	}
	atx_tx_ack(tx);
	assert_int_equal(ctx->nfree, nfree);
	atx_session_free(s);
	assert_int_equal(fake_a.sessions, 0);
	atx_ctx_free(ctx);
}

static void test_split_chain_ok(void **state)
{
	split_chain(0);
}

static void test_split_chain_fails_with_step_status(void **state)
{
	split_chain(-EIO);
}

/* A pinned channel without ATX_CAP_SEQ runs the steps one by one, all on it. */
static void test_pinned_channel(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(0, 0);
	struct atx_caps caps = { .size = sizeof(caps), .mask = ATX_CAP_MEMCPY, .engine = "fakea" };
	struct atx_chan *priv;
	char a[64] = "pinned", b[64], c[64], d2[64];
	uint32_t crc;
	struct done d = { 0 };
	struct atx_submit sub = { .cb = done_cb, .cb_arg = &d };
	struct atx_tx *tx;
	unsigned nfree;

	fake_attach(ctx, 0, -EOPNOTSUPP);
	priv = atx_chan_request(ctx, &caps, NULL, NULL);
	assert_ptr_equal(priv, fake_a.chan);
	sub.chan = priv;
	nfree = ctx->nfree;
	struct atx_step st[3] = {
		{ .op = ATX_STEP_MEMCPY, .dst = b, .src = a, .len = sizeof(a) },
		{ .op = ATX_STEP_MEMCPY, .dst = c, .src = b, .len = sizeof(a) },
		{ .op = ATX_STEP_MEMCPY, .dst = d2, .src = c, .len = sizeof(a) },
	};

	tx = atx_chain(ctx, st, 3, &sub);
	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), 0);
	assert_int_equal(fake_a.submitted, 3);
	assert_memory_equal(d2, a, sizeof(a));
	atx_tx_ack(tx);

	/* The pinned channel cannot serve crc32c: refused, nothing queued. */
	struct atx_step bad[2] = {
		{ .op = ATX_STEP_MEMCPY, .dst = b, .src = a, .len = sizeof(a) },
		{ .op = ATX_STEP_CRC32C, .src = b, .len = sizeof(b), .out = &crc },
	};

	errno = 0;
	assert_null(atx_chain(ctx, bad, 2, &sub));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fake_a.submitted, 3);
	assert_int_equal(ctx->nfree, nfree);
	atx_chan_release(priv);
	atx_ctx_free(ctx);
}

/* ---- arguments and resources ---- */

static void test_bad_arguments(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(0, 8);
	struct atx_session *sha = sess(ctx, (struct atx_session_params){
		.service = ATX_SVC_HASH, .hash = ATX_HASH_SHA256 });
	char a[64] = "abc", b[64] = { 0 };
	uint32_t crc = 1;
	uint8_t dig[32];
	struct atx_step ok[2] = {
		{ .op = ATX_STEP_MEMCPY, .dst = b, .src = a, .len = sizeof(a) },
		{ .op = ATX_STEP_CRC32C, .src = b, .len = sizeof(b), .out = &crc },
	};
	struct atx_step st[ATX_CHAIN_MAX + 1];
	unsigned nfree = ctx->nfree, i;
	struct atx_tx *tx;

	errno = 0;
	assert_null(atx_chain(NULL, ok, 2, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(atx_chain(ctx, NULL, 2, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(atx_chain(ctx, ok, 0, NULL));
	assert_int_equal(errno, EINVAL);
	for (i = 0; i <= ATX_CHAIN_MAX; i++)
		st[i] = ok[0];
	assert_null(atx_chain(ctx, st, ATX_CHAIN_MAX + 1, NULL));
	assert_int_equal(errno, EINVAL);

	/* A bad last step fails the call: the first step must not have run. */
	st[0] = ok[0];
	st[1] = (struct atx_step){ .op = ATX_STEP_MEMCPY, .dst = NULL, .src = a, .len = 4 };
	assert_null(atx_chain(ctx, st, 2, NULL));
	assert_int_equal(errno, EINVAL);
	st[1] = (struct atx_step){ .op = ATX_STEP_CRC32C, .src = b, .len = 4 };   /* no out */
	assert_null(atx_chain(ctx, st, 2, NULL));
	assert_int_equal(errno, EINVAL);
	st[1] = (struct atx_step){ .op = (enum atx_step_op)99, .src = b, .len = 4 };
	assert_null(atx_chain(ctx, st, 2, NULL));
	assert_int_equal(errno, EINVAL);
	/* A hash session is not a cipher step; a digest step needs its output. */
	st[1] = (struct atx_step){ .op = ATX_STEP_CIPHER, .sess = sha, .dst = b, .src = b,
				   .len = 16 };
	assert_null(atx_chain(ctx, st, 2, NULL));
	assert_int_equal(errno, EINVAL);
	st[1] = (struct atx_step){ .op = ATX_STEP_DIGEST, .sess = sha, .src = b, .len = 16 };
	assert_null(atx_chain(ctx, st, 2, NULL));
	assert_int_equal(errno, EINVAL);
	st[1] = (struct atx_step){ .op = ATX_STEP_DIGEST, .sess = NULL, .src = b, .len = 16,
				   .out = dig };
	assert_null(atx_chain(ctx, st, 2, NULL));
	assert_int_equal(errno, EINVAL);
	atx_run(ctx, ATX_RUN_NOWAIT);
	assert_int_equal(b[0], 0);
	assert_int_equal(crc, 1);
	assert_int_equal(ctx->nfree, nfree);

	/* A chain of n holds n + 1 descriptors: 8 steps do not fit a pool of 8. */
	for (i = 0; i < ATX_CHAIN_MAX; i++)
		st[i] = ok[0];
	assert_null(atx_chain(ctx, st, ATX_CHAIN_MAX, NULL));
	assert_int_equal(errno, EAGAIN);
	tx = atx_chain(ctx, st, ATX_CHAIN_MAX - 1, NULL);
	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), 0);
	atx_tx_ack(tx);

	/* A chain of one is that step's descriptor. */
	tx = atx_chain(ctx, ok, 1, NULL);
	assert_non_null(tx);
	assert_int_equal(atx__untag(tx)->op.opcode, ATX_OP_MEMCPY);
	assert_int_equal(atx_wait(tx), 0);
	atx_tx_ack(tx);
	assert_memory_equal(b, a, sizeof(a));

	/* A recycled dependency: ESTALE, nothing queued. */
	struct atx_submit s = { .depend_tx = tx };

	assert_null(atx_chain(ctx, ok, 2, &s));
	assert_int_equal(errno, ESTALE);
	assert_int_equal(ctx->nfree, nfree);

	/*
	 * Chain steps take descriptors from the pool and give them back
	 * without moving their generation: a handle from a descriptor's
	 * life before it served as a step stays stale through that and
	 * through its next life as a whole descriptor.
	 */
	{
		struct atx_tx *stale, *t2, *hs[8];
		unsigned k, found = 0;

		stale = atx_memcpy(ctx, b, a, sizeof(a), NULL);
		assert_non_null(stale);
		assert_int_equal(atx_wait(stale), 0);
		assert_int_equal(atx_tx_ack(stale), 0);
		s.depend_tx = stale;
		t2 = atx_chain(ctx, ok, 2, NULL);
		assert_non_null(t2);
		/* The pool is LIFO: the stale handle's descriptor is one of the steps. */
		for (k = 0; k < 2; k++)
			found += atx__seq_side(ctx, atx__untag(t2))->step[k] == atx__untag(stale);
		assert_int_equal(found, 1);
		assert_int_equal(atx_wait(t2), 0);
		assert_int_equal(atx_tx_ack(t2), 0);
		assert_int_equal(atx_tx_status(stale), -ESTALE);
		assert_null(atx_chain(ctx, ok, 2, &s));
		assert_int_equal(errno, ESTALE);
		found = 0;
		for (k = 0; k < 8; k++) {
			hs[k] = atx_memcpy(ctx, b, a, sizeof(a), NULL);
			assert_non_null(hs[k]);
			found += atx__untag(hs[k]) == atx__untag(stale);
			assert_true(hs[k] != stale);
		}
		assert_int_equal(found, 1);
		assert_int_equal(atx_tx_status(stale), -ESTALE);
		assert_int_equal(atx_tx_ack(stale), -ESTALE);
		for (k = 0; k < 8; k++) {
			assert_int_equal(atx_wait(hs[k]), 0);
			assert_int_equal(atx_tx_ack(hs[k]), 0);
		}
		assert_int_equal(ctx->nfree, nfree);
	}
	atx_session_free(sha);
	atx_ctx_free(ctx);
}

/* Chains behind a parent and in front of a child; a failed parent cancels the chain. */
static void test_dependencies(void **state)
{
	struct atx_ctx *ctx = ctx_lanes(0, 0);
	struct atx_caps caps = { .size = sizeof(caps), .mask = ATX_CAP_MEMCPY, .engine = "fakea" };
	struct atx_chan *priv;
	char a[128], b[128], c[128], e[128];
	uint32_t crc = 0;
	struct done d = { 0 };
	struct atx_submit s = { 0 };
	struct atx_tx *p, *ch, *after;

	memset(a, 0x42, sizeof(a));
	memset(c, 0, sizeof(c));
	p = atx_memcpy(ctx, b, a, sizeof(a), NULL);
	assert_non_null(p);
	struct atx_step st[2] = {
		{ .op = ATX_STEP_CRC32C, .src = b, .len = sizeof(b), .out = &crc },
		{ .op = ATX_STEP_MEMCPY, .dst = c, .src = b, .len = sizeof(b) },
	};

	s.depend_tx = p;
	s.cb = done_cb;
	s.cb_arg = &d;
	ch = atx_chain(ctx, st, 2, &s);
	assert_non_null(ch);
	s = (struct atx_submit){ .depend_tx = ch };
	after = atx_memcpy(ctx, e, c, sizeof(c), &s);
	assert_non_null(after);
	assert_int_equal(atx_wait(after), 0);
	atx_tx_ack(after);
	assert_int_equal(d.calls, 1);
	assert_int_equal(crc, crc_ref(a, sizeof(a), 0));
	assert_memory_equal(e, a, sizeof(a));

	/* Parent fails on a private fake channel: the chain is cancelled, its steps never run. */
	fake_attach(ctx, -EIO, -EOPNOTSUPP);
	priv = atx_chan_request(ctx, &caps, NULL, NULL);
	assert_non_null(priv);
	s = (struct atx_submit){ .chan = priv };
	p = atx_memcpy(ctx, b, a, sizeof(a), &s);
	crc = 0;
	memset(c, 0, sizeof(c));
	d = (struct done){ 0 };
	s = (struct atx_submit){ .depend_tx = p, .cb = done_cb, .cb_arg = &d };
	ch = atx_chain(ctx, st, 2, &s);
	assert_non_null(ch);
	assert_int_equal(atx_wait(ch), -ECANCELED);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, -ECANCELED);
	assert_int_equal(crc, 0);
	assert_int_equal(c[0], 0);
	atx_tx_ack(ch);
	atx_chan_release(priv);
	atx_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storage_chain_inline),
		cmocka_unit_test(test_storage_chain_lanes),
		cmocka_unit_test(test_storage_chain_acked_inline),
		cmocka_unit_test(test_storage_chain_acked_lanes),
		cmocka_unit_test(test_random_inline),
		cmocka_unit_test(test_random_lanes),
		cmocka_unit_test(test_random_best_engine),
		cmocka_unit_test(test_random_prep_inline),
		cmocka_unit_test(test_random_prep_lanes),
		cmocka_unit_test(test_random_prep_best_engine),
		cmocka_unit_test(test_failing_step_stops_chain),
		cmocka_unit_test(test_split_chain_ok),
		cmocka_unit_test(test_split_chain_fails_with_step_status),
		cmocka_unit_test(test_pinned_channel),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_dependencies),
	};

	srand(12345);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
