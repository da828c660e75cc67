/* SPDX-License-Identifier: MIT */
/*
 * atx_burst: many independent steps in one call.  Every result is
 * compared with OpenSSL and ISA-L called directly; each step gets its own
 * callback argument exactly once; a bad step or an empty pool stops the
 * burst there (a prefix is queued and runs, nothing after it); shared
 * dependencies fan out, including to a parent that already completed;
 * the pool's accounting comes back whole.
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
#include <openssl/rand.h>

#include "atx.h"
#include "fake_engine.h"
#include "step_refs.h"

static const uint8_t key[32] = {
	0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae, 0xf0, 0x85, 0x7d, 0x77, 0x81,
	0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7, 0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4,
};

static struct atx_ctx *ctx_eng(unsigned lanes, unsigned pool, const char *engines)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .soft_lanes = lanes, .pool_size = pool,
				  .engines = engines };
	struct atx_ctx *ctx = atx_ctx_new(&o);

	assert_non_null(ctx);
	return ctx;
}

static void cbc_ref(const uint8_t *iv, const uint8_t *in, uint8_t *out, size_t len)
{
	evp_ref(EVP_aes_128_cbc(), key, iv, 1, in, out, len);
}

/* ---- mixed bursts, every result against the libraries ---- */

#define NB 200
#define MAXLEN 4096

struct item {
	uint8_t in[MAXLEN], out[MAXLEN], want[MAXLEN];
	uint8_t iv[16], tag[32], want_tag[32];
	uint32_t crc;
	size_t len;
	int kind;
	struct done hit;
};

/*
 * @nb steps, kinds and lengths chosen at random but in runs of the same
 * shape, so that the burst's "same shape as the step before" path and
 * its full check both run, on the engines @engines names.
 */
static void mixed(unsigned lanes, const char *engines, const char *sess_engine, unsigned nb)
{
	struct atx_ctx *ctx = ctx_eng(lanes, 0, engines);
	struct atx_session *cbc = sess(ctx, (struct atx_session_params){
		.service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_CBC, .dir = ATX_ENCRYPT,
		.key = key, .key_len = 16, .engine = sess_engine });
	struct atx_session *gcm = sess(ctx, (struct atx_session_params){
		.service = ATX_SVC_AEAD, .aead = ATX_AEAD_AES_GCM, .dir = ATX_ENCRYPT,
		.key = key, .key_len = 32, .digest_len = 16, .engine = sess_engine });
	struct atx_session *mac = sess(ctx, (struct atx_session_params){
		.service = ATX_SVC_MAC, .mac = ATX_MAC_HMAC_SHA256, .key = key, .key_len = 32,
		.engine = sess_engine });
	struct item *it = calloc(nb, sizeof(*it));
	struct atx_step *st = calloc(nb, sizeof(*st));
	void **args = calloc(nb, sizeof(*args));
	struct atx_submit sub = { .flags = ATX_F_ACK, .cb = done_cb };
	unsigned i, nfree = ctx->nfree, done;
	int kind = 0;
	size_t len = 16;

	assert_string_equal(atx_session_engine(cbc), sess_engine);
	assert_string_equal(atx_session_engine(gcm), sess_engine);
	assert_string_equal(atx_session_engine(mac), sess_engine);
	assert_non_null(it);
	assert_non_null(st);
	assert_non_null(args);
	for (i = 0; i < nb; i++) {
		struct item *t = &it[i];

		if (i == 0 || rand() % 5 == 0) {
			kind = rand() % 5;
			len = 16 * (1 + (size_t)(rand() % (MAXLEN / 16)));
		}
		t->kind = kind;
		t->len = len;
		assert_int_equal(RAND_bytes(t->in, (int)len), 1);
		assert_int_equal(RAND_bytes(t->iv, 16), 1);
		args[i] = &t->hit;
		switch (kind) {
		case 0:
			st[i] = (struct atx_step){ .op = ATX_STEP_CIPHER, .sess = cbc, .dst = t->out,
						   .src = t->in, .len = len, .iv = t->iv };
			cbc_ref(t->iv, t->in, t->want, len);
			break;
		case 1:
			st[i] = (struct atx_step){ .op = ATX_STEP_AEAD, .sess = gcm, .dst = t->out,
						   .src = t->in, .len = len, .iv = t->iv,
						   .iv_len = 12, .out = t->tag };
			gcm_ref(EVP_aes_256_gcm(), key, t->iv, t->in, t->want, len, t->want_tag);
			break;
		case 2: {
			unsigned hl = 32;

			st[i] = (struct atx_step){ .op = ATX_STEP_DIGEST, .sess = mac, .src = t->in,
						   .len = len, .out = t->tag };
			assert_non_null(HMAC(EVP_sha256(), key, 32, t->in, len, t->want_tag, &hl));
			break;
		}
		case 3:
			st[i] = (struct atx_step){ .op = ATX_STEP_CRC32C, .src = t->in, .len = len,
						   .out = &t->crc, .seed = (uint32_t)i };
			break;
		default:
			st[i] = (struct atx_step){ .op = ATX_STEP_MEMCPY, .dst = t->out, .src = t->in,
						   .len = len };
			memcpy(t->want, t->in, len);
			break;
		}
	}
	/* In bursts of up to 70 (more than one intel-ipsec-mb group of 64). */
	for (done = 0; done < nb;) {
		unsigned n = 1 + (unsigned)rand() % 70;

		if (n > nb - done)
			n = nb - done;
		assert_int_equal(atx_burst(ctx, st + done, n, &sub, args + done, NULL), (int)n);
		done += n;
		if (rand() % 2)
			atx_run(ctx, ATX_RUN_NOWAIT);
	}
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
	for (i = 0; i < nb; i++) {
		struct item *t = &it[i];

		assert_int_equal(t->hit.calls, 1);
		assert_int_equal(t->hit.status, 0);
		switch (t->kind) {
		case 0:
		case 4:
			assert_memory_equal(t->out, t->want, t->len);
			break;
		case 1:
			assert_memory_equal(t->out, t->want, t->len);
			assert_memory_equal(t->tag, t->want_tag, 16);
			break;
		case 2:
			assert_memory_equal(t->tag, t->want_tag, 32);
			break;
		default:
			assert_int_equal(t->crc, crc_ref(t->in, t->len, i));
			break;
		}
	}
	assert_int_equal(ctx->nfree, nfree);
	free(it);
	free(st);
	free(args);
	atx_session_free(cbc);
	atx_session_free(gcm);
	atx_session_free(mac);
	atx_ctx_free(ctx);
}

static void test_mixed_inline(void **state)
{
	mixed(0, NULL, "soft", NB);
}

static void test_mixed_lanes(void **state)
{
	mixed(2, NULL, "soft", NB);
}

/* The multi-buffer engine's groups filled at submit, bursts of up to 70. */
static void test_mixed_mb(void **state)
{
	struct atx_ctx *probe = atx_ctx_new(&(struct atx_ctx_opts){ .size = sizeof(struct atx_ctx_opts),
								    .engines = "mb" });

	if (!probe)
		skip();         /* no intel-ipsec-mb here, or the CPU lacks what it needs */
	atx_ctx_free(probe);
	mixed(0, "mb", "mb", NB);
}

/* ---- handles, acks and the pool ---- */

/*
 * The multi-buffer engine's submit_burst on runs of one shape: a job
 * that still holds the session's template from an earlier burst gets
 * only buffers, length and IV.  Each kind's run is two halves of
 * different lengths; CTR counters sometimes wrap mid-run (those leave
 * the burst for OpenSSL).  By round: everything in one call; each half
 * alone with the loop run in between (the second half refills the
 * jobs the first left, with another length); or every kind without a
 * poll and then CBC again, so that its group is part full.  Every
 * result against OpenSSL.
 */
#define RUN 40

static void mb_runs_fill(struct item *it, struct atx_step *st, void **args,
			 struct atx_session *const *ss)
{
	unsigned k, i;

	memset(it, 0, 3 * RUN * sizeof(*it));
	for (k = 0; k < 3; k++) {
		size_t la = 16 * (1 + (size_t)(rand() % (MAXLEN / 16)));
		size_t lb = la == 16 ? 32 : la - 16;

		for (i = k * RUN; i < (k + 1) * RUN; i++) {
			struct item *t = &it[i];
			size_t len = i < k * RUN + RUN / 2 ? la : lb;

			t->kind = (int)k;
			t->len = len;
			args[i] = &t->hit;
			assert_int_equal(RAND_bytes(t->in, (int)len), 1);
			assert_int_equal(RAND_bytes(t->iv, 16), 1);
			if (k == 1 && rand() % 4 == 0)
				memset(t->iv + 8, 0xff, 8);     /* the counter's low words wrap */
			if (k == 2) {
				unsigned hl = 32;

				st[i] = (struct atx_step){ .op = ATX_STEP_DIGEST, .sess = ss[2],
							   .src = t->in, .len = len, .out = t->tag };
				assert_non_null(HMAC(EVP_sha256(), key, 32, t->in, len, t->want_tag, &hl));
				continue;
			}
			st[i] = (struct atx_step){ .op = ATX_STEP_CIPHER, .sess = ss[k], .dst = t->out,
						   .src = t->in, .len = len, .iv = t->iv };
			evp_ref(k ? EVP_aes_128_ctr() : EVP_aes_128_cbc(), key, t->iv, 1, t->in, t->want,
				len);
		}
	}
}

static void test_mb_runs(void **state)
{
	struct atx_ctx *ctx = atx_ctx_new(&(struct atx_ctx_opts){ .size = sizeof(struct atx_ctx_opts),
								  .engines = "mb" });
	struct atx_session *ss[3];
	struct item *it = calloc(3 * RUN, sizeof(*it));
	struct atx_step st[3 * RUN];
	void *args[3 * RUN], *args2[RUN];
	struct done again[RUN];
	struct atx_submit sub = { .flags = ATX_F_ACK, .cb = done_cb };
	unsigned r, k, i;

	if (!ctx)
		skip();         /* no intel-ipsec-mb here, or the CPU lacks what it needs */
	assert_non_null(it);
	ss[0] = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_CIPHER,
		.cipher = ATX_CIPHER_AES_CBC, .dir = ATX_ENCRYPT, .key = key, .key_len = 16,
		.engine = "mb" });
	ss[1] = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_CIPHER,
		.cipher = ATX_CIPHER_AES_CTR, .dir = ATX_ENCRYPT, .key = key, .key_len = 16,
		.engine = "mb" });
	ss[2] = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_MAC,
		.mac = ATX_MAC_HMAC_SHA256, .key = key, .key_len = 32, .engine = "mb" });
	for (r = 0; r < 9; r++) {
		unsigned nfree = ctx->nfree;

		mb_runs_fill(it, st, args, ss);
		memset(again, 0, sizeof(again));
		switch (r % 3) {
		case 0:
			assert_int_equal(atx_burst(ctx, st, 3 * RUN, &sub, args, NULL), 3 * RUN);
			break;
		case 1:
			for (i = 0; i < 3 * RUN; i += RUN / 2) {
				assert_int_equal(atx_burst(ctx, st + i, RUN / 2, &sub, args + i, NULL),
						 RUN / 2);
				assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
			}
			break;
		default:
			for (k = 0; k < 3; k++)
				assert_int_equal(atx_burst(ctx, st + k * RUN, RUN, &sub, args + k * RUN,
							   NULL), RUN);
			/* CBC again: 40 + 40 > 64, so its group takes only part of it. */
			for (i = 0; i < RUN; i++)
				args2[i] = &again[i];
			assert_int_equal(atx_burst(ctx, st, RUN, &sub, args2, NULL), RUN);
			break;
		}
		assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
		for (i = 0; i < RUN; i++) {
			assert_int_equal(again[i].calls, r % 3 == 2);
			assert_int_equal(again[i].status, 0);
		}
		for (i = 0; i < 3 * RUN; i++) {
			struct item *t = &it[i];

			assert_int_equal(t->hit.calls, 1);
			assert_int_equal(t->hit.status, 0);
			if (t->kind == 2)
				assert_memory_equal(t->tag, t->want_tag, 32);
			else
				assert_memory_equal(t->out, t->want, t->len);
		}
		assert_int_equal(ctx->nfree, nfree);
	}
	for (k = 0; k < 3; k++)
		atx_session_free(ss[k]);
	free(it);
	atx_ctx_free(ctx);
}

/* ---- the engine's submit_burst: what the core hands it, and what it does not take ---- */

/*
 * Runs of one session and shape go to submit_burst (at least two at a
 * time, never across a change of session or length); what it does not
 * take, and what the engine's full queue refuses, still runs in the
 * order of the steps; every step completes once.
 */
static void burst_contract(unsigned take, unsigned capacity, unsigned want_bursts)
{
	enum { N = 12 };
	static uint8_t src[N][64], dst[N][64], iv[16];
	struct atx_ctx *ctx = ctx_eng(0, 0, NULL);
	struct atx_session *a, *b;
	struct atx_step st[N];
	struct done hit[N];
	void *args[N];
	struct atx_submit sub = { .flags = ATX_F_ACK, .cb = done_cb };
	unsigned i, nfree = ctx->nfree;

	memset(&fake_c, 0, sizeof(fake_c));
	fake_c.capacity = capacity;
	fake_c.burst_take = take;
	fake_c.probe_prio = ATX_PRIO_HARDWARE;
	assert_int_equal(atx__ctx_attach_engine(ctx, &fake_c_ops, NULL), 0);
	a = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_CIPHER,
		.cipher = ATX_CIPHER_AES_CBC, .dir = ATX_ENCRYPT, .key = key, .key_len = 16,
		.engine = "fakec" });
	b = sess(ctx, (struct atx_session_params){ .service = ATX_SVC_CIPHER,
		.cipher = ATX_CIPHER_AES_CBC, .dir = ATX_ENCRYPT, .key = key, .key_len = 16,
		.engine = "fakec" });
	/* a a a a | b | a a a | a a a (shorter) | copy: three runs of two or more */
	for (i = 0; i < N; i++) {
		hit[i] = (struct done){ 0 };
		args[i] = &hit[i];
		if (i == N - 1)
			st[i] = (struct atx_step){ .op = ATX_STEP_MEMCPY, .dst = dst[i], .src = src[i],
						   .len = 64 };
		else
			st[i] = (struct atx_step){ .op = ATX_STEP_CIPHER, .sess = i == 4 ? b : a,
						   .dst = dst[i], .src = src[i],
						   .len = i >= 8 ? 32 : 64, .iv = iv };
	}
	assert_int_equal(atx_burst(ctx, st, N, &sub, args, NULL), N);
	assert_int_equal(fake_c.bursts, want_bursts);
	assert_int_equal(fake_c.burst_bad, 0);
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
	assert_int_equal(fake_c.nlog, N);
	for (i = 0; i < N; i++) {
		assert_ptr_equal(fake_c.log[i], src[i]);
		assert_int_equal(hit[i].calls, 1);
		assert_int_equal(hit[i].status, 0);
	}
	assert_int_equal(ctx->nfree, nfree);
	atx_session_free(a);
	atx_session_free(b);
	atx_ctx_free(ctx);
}

static void test_engine_burst_all(void **state)
{
	burst_contract(64, 64, 3);
	assert_int_equal(fake_c.burst_taken, 10);      /* 4 + 3 + 3; the lone b and the copy: submit */
}

static void test_engine_burst_partial(void **state)
{
	burst_contract(1, 64, 3);
	assert_int_equal(fake_c.burst_taken, 3);
}

static void test_engine_burst_none(void **state)
{
	burst_contract(0, 64, 3);
	assert_int_equal(fake_c.burst_taken, 0);
}

/* A queue of three: the first run takes two, submit refuses later ones, unblock drains in order. */
static void test_engine_burst_full(void **state)
{
	burst_contract(2, 3, 1);
	assert_int_equal(fake_c.burst_taken, 2);
	assert_true(fake_c.refused >= 1);
}

static void test_handles(void **state)
{
	struct atx_ctx *ctx = ctx_eng(0, 0, NULL);
	uint8_t a[8][256], b[8][256];
	struct atx_step st[8];
	struct atx_tx *tx[8];
	unsigned i, nfree = ctx->nfree;

	for (i = 0; i < 8; i++) {
		memset(a[i], (int)i + 1, sizeof(a[i]));
		memset(b[i], 0, sizeof(b[i]));
		st[i] = (struct atx_step){ .op = ATX_STEP_MEMCPY, .dst = b[i], .src = a[i],
					   .len = sizeof(a[i]) };
	}
	/* Without ATX_F_ACK the handles are the caller's to wait on and ack. */
	assert_int_equal(atx_burst(ctx, st, 8, NULL, NULL, tx), 8);
	for (i = 0; i < 8; i++) {
		assert_int_equal(atx_wait(tx[i]), 0);
		assert_int_equal(atx_tx_status(tx[i]), 0);
		assert_int_equal(atx_tx_ack(tx[i]), 0);
		assert_memory_equal(b[i], a[i], sizeof(a[i]));
	}
	assert_int_equal(ctx->nfree, nfree);
	/* ...and without handles nobody could ack them: refused. */
	assert_int_equal(atx_burst(ctx, st, 8, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(atx_burst(ctx, st, 8, &(struct atx_submit){ .cb = done_cb }, NULL, NULL),
			 -EINVAL);
	assert_int_equal(atx_burst(NULL, st, 8, NULL, NULL, tx), -EINVAL);
	assert_int_equal(atx_burst(ctx, NULL, 8, NULL, NULL, tx), -EINVAL);
	assert_int_equal(atx_burst(ctx, st, 0, NULL, NULL, tx), 0);
	assert_int_equal(ctx->nfree, nfree);
	atx_ctx_free(ctx);
}

/* A bad step stops the burst there: the steps before it run, none after it. */
static void test_bad_step_midway(void **state)
{
	struct atx_ctx *ctx = ctx_eng(0, 0, NULL);
	struct atx_session *cbc = sess(ctx, (struct atx_session_params){
		.service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_CBC, .dir = ATX_ENCRYPT,
		.key = key, .key_len = 16, .engine = "soft" });
	uint8_t in[6][64], out[6][64], want[64], iv[16] = { 9 };
	struct done h[6] = { { 0 } };
	void *args[6];
	struct atx_step st[6];
	struct atx_submit sub = { .flags = ATX_F_ACK, .cb = done_cb };
	unsigned i, nfree = ctx->nfree;

	for (i = 0; i < 6; i++) {
		memset(in[i], (int)i, sizeof(in[i]));
		memset(out[i], 0xee, sizeof(out[i]));
		args[i] = &h[i];
		st[i] = (struct atx_step){ .op = ATX_STEP_CIPHER, .sess = cbc, .dst = out[i],
					   .src = in[i], .len = 64, .iv = iv };
	}
	/* Same shape as the steps before it, but no source: the shape path must not pass it. */
	st[3].src = NULL;
	errno = 0;
	assert_int_equal(atx_burst(ctx, st, 6, &sub, args, NULL), 3);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(atx_run(ctx, ATX_RUN_DEFAULT), 3);
	for (i = 0; i < 3; i++) {
		cbc_ref(iv, in[i], want, 64);
		assert_int_equal(h[i].calls, 1);
		assert_memory_equal(out[i], want, 64);
	}
	for (i = 3; i < 6; i++) {
		assert_int_equal(h[i].calls, 0);
		assert_int_equal(out[i][0], 0xee);
	}
	/* A length CBC refuses, after two good steps. */
	st[3].src = in[3];
	st[5].len = 63;
	assert_int_equal(atx_burst(ctx, st + 3, 3, &sub, args + 3, NULL), 2);
	assert_int_equal(errno, EINVAL);
	/* The first step bad: nothing queued, the errno comes back. */
	assert_int_equal(atx_burst(ctx, st + 5, 1, &sub, args + 5, NULL), -EINVAL);
	assert_int_equal(atx_run(ctx, ATX_RUN_DEFAULT), 2);
	assert_int_equal(h[3].calls, 1);
	assert_int_equal(h[4].calls, 1);
	assert_int_equal(h[5].calls, 0);
	assert_int_equal(out[5][0], 0xee);
	assert_int_equal(ctx->nfree, nfree);
	atx_session_free(cbc);
	atx_ctx_free(ctx);
}

/* The pool runs out mid-burst: a prefix is queued, EAGAIN says why the rest was not. */
static void test_pool_exhausted(void **state)
{
	struct atx_ctx *ctx = ctx_eng(0, 8, NULL);
	uint8_t a[20][64], b[20][64];
	struct done h[20] = { { 0 } };
	void *args[20];
	struct atx_step st[20];
	struct atx_submit sub = { .flags = ATX_F_ACK, .cb = done_cb };
	unsigned i, nfree = ctx->nfree;
	int n;

	for (i = 0; i < 20; i++) {
		memset(a[i], (int)i + 1, sizeof(a[i]));
		memset(b[i], 0, sizeof(b[i]));
		args[i] = &h[i];
		st[i] = (struct atx_step){ .op = ATX_STEP_MEMCPY, .dst = b[i], .src = a[i],
					   .len = sizeof(a[i]) };
	}
	errno = 0;
	n = atx_burst(ctx, st, 20, &sub, args, NULL);
	assert_int_equal(n, (int)nfree);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(atx_burst(ctx, st + n, 1, &sub, args + n, NULL), -EAGAIN);
	assert_int_equal(atx_run(ctx, ATX_RUN_DEFAULT), n);
	for (i = 0; i < 20; i++) {
		assert_int_equal(h[i].calls, i < (unsigned)n);
		assert_int_equal(b[i][0], i < (unsigned)n ? (int)i + 1 : 0);
	}
	assert_int_equal(ctx->nfree, nfree);
	atx_ctx_free(ctx);
}

/* ---- dependencies: every step behind the same parents ---- */

static void test_fan_out(void **state)
{
	struct atx_ctx *ctx = ctx_eng(0, 0, NULL);
	uint8_t a[256], mid[256], c[6][256];
	uint32_t crc[6] = { 0 };
	struct done h[6] = { { 0 } };
	void *args[6];
	struct atx_step st[6];
	struct atx_tx *p, *q;
	unsigned i, nfree = ctx->nfree;

	memset(a, 0x5a, sizeof(a));
	for (i = 0; i < 6; i++) {
		args[i] = &h[i];
		st[i] = i % 2 ? (struct atx_step){ .op = ATX_STEP_CRC32C, .src = mid,
						   .len = sizeof(mid), .out = &crc[i] } :
				(struct atx_step){ .op = ATX_STEP_MEMCPY, .dst = c[i], .src = mid,
						   .len = sizeof(mid) };
	}
	/* A pending parent: every step waits for it. */
	memset(mid, 0, sizeof(mid));
	p = atx_memcpy(ctx, mid, a, sizeof(a), NULL);
	assert_non_null(p);
	assert_int_equal(atx_burst(ctx, st, 6, &(struct atx_submit){ .flags = ATX_F_ACK,
			 .depend_tx = p, .cb = done_cb }, args, NULL), 6);
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 7);
	for (i = 0; i < 6; i++) {
		assert_int_equal(h[i].calls, 1);
		assert_int_equal(h[i].status, 0);
		if (i % 2)
			assert_int_equal(crc[i], crc_ref(a, sizeof(a), 0));
		else
			assert_memory_equal(c[i], a, sizeof(a));
	}
	/* p was acked by its dependents and recycled with them. */
	assert_int_equal(atx_tx_status(p), -ESTALE);
	assert_int_equal(ctx->nfree, nfree);

	/*
	 * A parent that completed and was never acked: the first step's
	 * implicit ack must not recycle it before the others link.
	 */
	memset(h, 0, sizeof(h));
	memset(crc, 0, sizeof(crc));
	memset(c, 0, sizeof(c));
	q = atx_memcpy(ctx, mid, a, sizeof(a), NULL);
	assert_int_equal(atx_wait(q), 0);
	assert_int_equal(atx_burst(ctx, st, 6, &(struct atx_submit){ .flags = ATX_F_ACK,
			 .deps = &q, .ndeps = 1, .cb = done_cb }, args, NULL), 6);
	assert_int_equal(atx_run(ctx, ATX_RUN_DEFAULT), 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(h[i].calls, 1);
		assert_int_equal(h[i].status, 0);
	}
	assert_memory_equal(c[4], a, sizeof(a));
	assert_int_equal(crc[5], crc_ref(a, sizeof(a), 0));
	assert_int_equal(atx_tx_status(q), -ESTALE);
	assert_int_equal(ctx->nfree, nfree);

	/* A stale parent: nothing queued. */
	assert_int_equal(atx_burst(ctx, st, 6, &(struct atx_submit){ .flags = ATX_F_ACK,
			 .depend_tx = q }, NULL, NULL), -ESTALE);
	assert_int_equal(ctx->nfree, nfree);
	atx_ctx_free(ctx);
}

/* A failed parent cancels every step of the burst; each still calls back once. */
static void test_failed_parent(void **state)
{
	struct atx_ctx *ctx = ctx_eng(0, 0, NULL);
	struct atx_caps caps = { .size = sizeof(caps), .mask = ATX_CAP_MEMCPY, .engine = "fakea" };
	struct atx_chan *priv;
	uint8_t a[64], b[64], c[4][64];
	struct done h[4] = { { 0 } };
	void *args[4];
	struct atx_step st[4];
	struct atx_tx *p;
	unsigned i, nfree = ctx->nfree;

	memset(&fake_a, 0, sizeof(fake_a));
	fake_a.capacity = 64;
	fake_a.fail_status = -EIO;
	fake_a.probe_prio = -EOPNOTSUPP;
	assert_int_equal(atx__ctx_attach_engine(ctx, &fake_a_ops, NULL), 0);
	priv = atx_chan_request(ctx, &caps, NULL, NULL);
	assert_non_null(priv);
	memset(a, 1, sizeof(a));
	p = atx_memcpy(ctx, b, a, sizeof(a), &(struct atx_submit){ .chan = priv });
	assert_non_null(p);
	for (i = 0; i < 4; i++) {
		memset(c[i], 0, sizeof(c[i]));
		args[i] = &h[i];
		st[i] = (struct atx_step){ .op = ATX_STEP_MEMCPY, .dst = c[i], .src = b,
					   .len = sizeof(b) };
	}
	assert_int_equal(atx_burst(ctx, st, 4, &(struct atx_submit){ .flags = ATX_F_ACK,
			 .depend_tx = p, .cb = done_cb }, args, NULL), 4);
	atx_run(ctx, ATX_RUN_DEFAULT);
	for (i = 0; i < 4; i++) {
		assert_int_equal(h[i].calls, 1);
		assert_int_equal(h[i].status, -ECANCELED);
		assert_int_equal(c[i][0], 0);
	}
	atx_chan_release(priv);
	assert_int_equal(ctx->nfree, nfree);
	atx_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mixed_inline),
		cmocka_unit_test(test_mixed_lanes),
		cmocka_unit_test(test_mixed_mb),
		cmocka_unit_test(test_mb_runs),
		cmocka_unit_test(test_engine_burst_all),
		cmocka_unit_test(test_engine_burst_partial),
		cmocka_unit_test(test_engine_burst_none),
		cmocka_unit_test(test_engine_burst_full),
		cmocka_unit_test(test_handles),
		cmocka_unit_test(test_bad_step_midway),
		cmocka_unit_test(test_pool_exhausted),
		cmocka_unit_test(test_fan_out),
		cmocka_unit_test(test_failed_parent),
	};

	srand(1234);
	return cmocka_run_group_tests_name("burst", tests, NULL, NULL);
}
