/* SPDX-License-Identifier: MIT */
/*
 * test_crypto_api.c - crypto through the public API, the full path:
 * atx_ctx_new, atx_session_new (validation, engine probing), atx_cipher /
 * atx_digest / atx_aead / atx_crypto, the loop and atx_wait.  Published
 * vectors (kat_crypto.h) are run on every engine of a default context
 * that accepts the session (soft, and mb when present), so engines are
 * held to the standards rather than to each other.  Also: forgeries
 * complete with -EBADMSG and leave dst alone, their dependents are
 * cancelled, refusals set errno, and software worker lanes (one keyed
 * context per lane, used from several threads) agree with OpenSSL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "alg.h"
#include "atx.h"
#include "kat_crypto.h"

#define NKAT(a) (sizeof(a) / sizeof((a)[0]))

static const struct atx_submit ack = { .flags = ATX_F_ACK };

static void expect_mem(const void *got, const void *want, size_t len, const char *eng,
		       const char *what, const char *how)
{
	if (len && memcmp(got, want, len)) {
		const uint8_t *g = got, *w = want;
		size_t i = 0;

		while (g[i] == w[i])
			i++;
		fail_msg("[%s] %s (%s): byte %zu of %zu: got %02x, expected %02x", eng, what, how, i,
			 len, g[i], w[i]);
	}
}

static void expect_untouched(const uint8_t *b, size_t len, uint8_t canary, const char *eng,
			     const char *what)
{
	for (size_t i = 0; i < len; i++)
		if (b[i] != canary)
			fail_msg("[%s] %s: dst byte %zu written although verification failed", eng,
				 what, i);
}

/* The session on engine @eng, or NULL when that engine does not serve it. */
static struct atx_session *sess_on(struct atx_ctx *ctx, const char *eng,
				   struct atx_session_params *p)
{
	struct atx_session *s;

	p->size = sizeof(*p);
	p->engine = eng;
	s = atx_session_new(ctx, p);
	if (!s && errno != EOPNOTSUPP)
		fail_msg("[%s] atx_session_new(service %d): errno %d", eng, p->service, errno);
	if (s)
		assert_string_equal(atx_session_engine(s), eng);
	return s;
}

/*
 * Both directions of @p on engine @eng: *se encrypts (or computes), *sd
 * decrypts (or verifies).  True when the engine serves both.
 */
static bool sess_pair_on(struct atx_ctx *ctx, const char *eng, struct atx_session_params *p,
			 struct atx_session **se, struct atx_session **sd)
{
	p->dir = ATX_ENCRYPT;
	*se = sess_on(ctx, eng, p);
	p->dir = ATX_DECRYPT;
	*sd = sess_on(ctx, eng, p);
	return *se && *sd;
}

static int wait_tx(struct atx_tx *tx, const char *eng, const char *what)
{
	if (!tx)
		fail_msg("[%s] %s: submission refused, errno %d", eng, what, errno);
	return atx_wait(tx);
}

static int setup(void **state)
{
	struct atx_ctx *ctx = atx_ctx_new(NULL);

	if (!ctx)
		return -1;
	*state = ctx;
	return 0;
}

static int teardown(void **state)
{
	atx_ctx_free(*state);
	return 0;
}

/* ---- known answers on every engine ---- */

static unsigned cipher_kats_on(struct atx_ctx *ctx, const char *eng)
{
	unsigned ran = 0;

	for (size_t i = 0; i < NKAT(kat_ciphers); i++) {
		const struct kat_cipher *k = &kat_ciphers[i];
		size_t kl, ivl, len, cl;
		uint8_t *key = kat_unhex(k->key, &kl), *iv = kat_unhex(k->iv, &ivl);
		uint8_t *pt = kat_unhex(k->pt, &len), *ct = kat_unhex(k->ct, &cl);
		uint8_t *out = malloc(len + 16);
		struct atx_session_params p = { .service = ATX_SVC_CIPHER, .cipher = k->alg,
						.key = key, .key_len = kl };
		struct atx_session *se, *sd;

		if (sess_pair_on(ctx, eng, &p, &se, &sd)) {
			memset(out, 0xa5, len + 16);
			assert_int_equal(wait_tx(atx_cipher(ctx, se, out, pt, len, ivl ? iv : NULL, &ack),
						 eng, k->source), 0);
			expect_mem(out, ct, len, eng, k->source, "atx_cipher encrypt");
			expect_untouched(out + len, 16, 0xa5, eng, "past the end");
			assert_int_equal(wait_tx(atx_cipher(ctx, sd, out, out, len, ivl ? iv : NULL, &ack),
						 eng, k->source), 0);
			expect_mem(out, pt, len, eng, k->source, "atx_cipher decrypt in place");

			/* atx_crypto with a src cut 7,100,4,rest and one dst segment. */
			struct iovec sv[4], dv = { out, len };
			size_t cut[3] = { 7, 100, 4 }, off = 0;
			unsigned n = 0;

			for (; n < 3 && off + cut[n] < len; off += cut[n], n++)
				sv[n] = (struct iovec){ pt + off, cut[n] };
			sv[n++] = (struct iovec){ pt + off, len - off };
			struct atx_crypto_op op = { .size = sizeof(op), .src = sv, .src_cnt = n,
						    .dst = &dv, .dst_cnt = 1, .iv = iv, .iv_len = ivl };

			memset(out, 0, len);
			assert_int_equal(wait_tx(atx_crypto(ctx, se, &op, &ack), eng, k->source), 0);
			expect_mem(out, ct, len, eng, k->source, "atx_crypto, cut src");
			ran++;
		}
		atx_session_free(se);
		atx_session_free(sd);
		free(key);
		free(iv);
		free(pt);
		free(ct);
		free(out);
	}
	return ran;
}

static unsigned digest_kats_on(struct atx_ctx *ctx, const char *eng)
{
	unsigned ran = 0;
	uint8_t got[64];

	for (size_t i = 0; i < NKAT(kat_hashes); i++) {
		const struct kat_hash *k = &kat_hashes[i];
		size_t ml = strlen(k->msg), rep = k->repeat ? k->repeat : 1, dl;
		uint8_t *msg = malloc(ml * rep + 1), *md = kat_unhex(k->md, &dl);
		struct atx_session_params p = { .service = ATX_SVC_HASH, .hash = k->alg };
		struct atx_session *se, *sv;

		for (size_t r = 0; r < rep; r++)
			memcpy(msg + r * ml, k->msg, ml);
		if (sess_pair_on(ctx, eng, &p, &se, &sv)) {
			assert_int_equal(wait_tx(atx_digest(ctx, se, got, msg, ml * rep, &ack), eng,
						 k->source), 0);
			expect_mem(got, md, dl, eng, k->source, "atx_digest");
			assert_int_equal(wait_tx(atx_digest(ctx, sv, md, msg, ml * rep, &ack), eng,
						 k->source), 0);
			md[dl / 2] ^= 0x10;
			assert_int_equal(wait_tx(atx_digest(ctx, sv, md, msg, ml * rep, &ack), eng,
						 k->source), -EBADMSG);
			ran++;
		}
		atx_session_free(se);
		atx_session_free(sv);
		free(msg);
		free(md);
	}
	for (size_t i = 0; i < NKAT(kat_macs); i++) {
		const struct kat_mac *k = &kat_macs[i];
		size_t kl, ml, dl;
		uint8_t *key = kat_unhex(k->key, &kl), *msg = kat_unhex(k->msg, &ml);
		uint8_t *mac = kat_unhex(k->mac, &dl);
		struct atx_session_params p = { .service = ATX_SVC_MAC, .mac = k->alg, .key = key,
						.key_len = kl };
		struct atx_session *se, *sv;

		p.digest_len = dl == atx__digest_max(&p) ? 0 : dl;
		if (sess_pair_on(ctx, eng, &p, &se, &sv)) {
			memset(got, 0xa5, sizeof(got));
			assert_int_equal(wait_tx(atx_digest(ctx, se, got, msg, ml, &ack), eng,
						 k->source), 0);
			expect_mem(got, mac, dl, eng, k->source, "atx_digest MAC");
			expect_untouched(got + dl, sizeof(got) - dl, 0xa5, eng, "past digest_len");
			assert_int_equal(wait_tx(atx_digest(ctx, sv, mac, msg, ml, &ack), eng,
						 k->source), 0);
			mac[0] ^= 1;
			assert_int_equal(wait_tx(atx_digest(ctx, sv, mac, msg, ml, &ack), eng,
						 k->source), -EBADMSG);
			ran++;
		}
		atx_session_free(se);
		atx_session_free(sv);
		free(key);
		free(msg);
		free(mac);
	}
	return ran;
}

static unsigned aead_kats_on(struct atx_ctx *ctx, const char *eng)
{
	unsigned ran = 0;

	for (size_t i = 0; i < NKAT(kat_aeads); i++) {
		const struct kat_aead *k = &kat_aeads[i];
		size_t kl, ivl, al, len, cl, tl;
		uint8_t *key = kat_unhex(k->key, &kl), *iv = kat_unhex(k->iv, &ivl);
		uint8_t *aad = kat_unhex(k->aad, &al);
		uint8_t *pt = kat_unhex(k->pt, &len), *ct = kat_unhex(k->ct, &cl);
		uint8_t *tag = kat_unhex(k->tag, &tl);
		uint8_t *out = malloc(len + 16), t[16];
		struct atx_session_params p = { .service = ATX_SVC_AEAD, .aead = k->alg, .key = key,
						.key_len = kl, .digest_len = tl == 16 ? 0 : tl };
		struct atx_session *se, *sd;

		if (sess_pair_on(ctx, eng, &p, &se, &sd)) {
			memset(out, 0xa5, len + 16);
			assert_int_equal(wait_tx(atx_aead(ctx, se, out, pt, len, iv, ivl, aad, al, t, &ack),
						 eng, k->source), 0);
			expect_mem(out, ct, len, eng, k->source, "atx_aead encrypt");
			expect_mem(t, tag, tl, eng, k->source, "atx_aead tag");
			memset(out, 0xa5, len + 16);
			assert_int_equal(wait_tx(atx_aead(ctx, sd, out, ct, len, iv, ivl, aad, al, t, &ack),
						 eng, k->source), 0);
			expect_mem(out, pt, len, eng, k->source, "atx_aead decrypt");
			t[0] ^= 0x80;
			memset(out, 0x5a, len + 16);
			assert_int_equal(wait_tx(atx_aead(ctx, sd, out, ct, len, iv, ivl, aad, al, t, &ack),
						 eng, k->source), -EBADMSG);
			expect_untouched(out, len + 16, 0x5a, eng, k->source);
			ran++;
		}
		atx_session_free(se);
		atx_session_free(sd);
		free(key);
		free(iv);
		free(aad);
		free(pt);
		free(ct);
		free(tag);
		free(out);
	}
	return ran;
}

static void test_kat_every_engine(void **state)
{
	struct atx_ctx *ctx = *state;
	unsigned n = atx_engine_count(ctx);
	bool soft = false;

	assert_true(n >= 1);
	for (unsigned e = 0; e < n; e++) {
		const char *eng = atx_engine_name(ctx, e);
		unsigned c = cipher_kats_on(ctx, eng), d = digest_kats_on(ctx, eng);
		unsigned a = aead_kats_on(ctx, eng);

		print_message("engine %s: %u cipher, %u digest, %u AEAD vectors\n", eng, c, d, a);
		if (!strcmp(eng, "soft")) {
			/* The software engine serves every vector. */
			soft = true;
			assert_int_equal(c, NKAT(kat_ciphers));
			assert_int_equal(d, NKAT(kat_hashes) + NKAT(kat_macs));
			assert_int_equal(a, NKAT(kat_aeads));
		}
	}
	assert_true(soft);
}

/* ---- chaining: encrypt-then-MAC, then verify-then-decrypt as its dependent ---- */

static void test_chain_with_dependency(void **state)
{
	struct atx_ctx *ctx = *state;
	size_t kl, ivl, len, cl;
	uint8_t *key = kat_unhex(SP800_38A_K256, &kl);
	uint8_t *iv = kat_unhex("000102030405060708090a0b0c0d0e0f", &ivl);
	uint8_t *pt = kat_unhex(SP800_38A_PT, &len), *ct = kat_unhex(kat_ciphers[3].ct, &cl);
	uint8_t akey[32], aad[8] = "hdr:0001", cat[8 + 64], want[32], tag[32], mid[64], back[64];
	uint8_t copy[64];
	struct atx_session_params p = { .service = ATX_SVC_CHAIN, .cipher = ATX_CIPHER_AES_CBC,
					.mac = ATX_MAC_HMAC_SHA256, .key = key, .key_len = kl,
					.auth_key = akey, .auth_key_len = sizeof(akey) };
	struct atx_session *se, *sd;
	struct atx_tx *t1, *t2, *t3;

	for (unsigned i = 0; i < sizeof(akey); i++)
		akey[i] = (uint8_t)(0xc0 + i);
	/* Expected MAC: OpenSSL's HMAC() over aad || the SP 800-38A F.2.5 ciphertext. */
	memcpy(cat, aad, 8);
	memcpy(cat + 8, ct, 64);
	assert_non_null(HMAC(EVP_sha256(), akey, sizeof(akey), cat, sizeof(cat), want, NULL));

	se = sess_on(ctx, "soft", &p);
	assert_non_null(se);
	p.dir = ATX_DECRYPT;
	p.chain_order = ATX_CHAIN_MAC_THEN_ENC;
	sd = sess_on(ctx, "soft", &p);
	assert_non_null(sd);

	t1 = atx_aead(ctx, se, mid, pt, len, iv, ivl, aad, sizeof(aad), tag, NULL);
	assert_non_null(t1);
	struct atx_submit dep = { .flags = ATX_F_ACK, .depend_tx = t1 };

	memset(back, 0, sizeof(back));
	t2 = atx_aead(ctx, sd, back, mid, len, iv, ivl, aad, sizeof(aad), tag, &dep);
	assert_non_null(t2);
	assert_int_equal(atx_wait(t2), 0);
	expect_mem(mid, ct, len, "soft", "chain", "ciphertext");
	expect_mem(tag, want, 32, "soft", "chain", "MAC of aad || ciphertext");
	expect_mem(back, pt, len, "soft", "chain", "verify-then-decrypt");

	/* A forged MAC fails the decrypt, leaves dst alone and cancels its dependent. */
	tag[31] ^= 1;
	memset(back, 0x5a, sizeof(back));
	memset(copy, 0x77, sizeof(copy));
	t2 = atx_aead(ctx, sd, back, mid, len, iv, ivl, aad, sizeof(aad), tag, NULL);
	assert_non_null(t2);
	dep.depend_tx = t2;
	t3 = atx_memcpy(ctx, copy, back, len, &dep);
	assert_non_null(t3);
	assert_int_equal(atx_wait(t3), -ECANCELED);
	expect_untouched(back, sizeof(back), 0x5a, "soft", "chain with a forged MAC");
	expect_untouched(copy, sizeof(copy), 0x77, "soft", "dependent of a failed verify");

	atx_session_free(se);
	atx_session_free(sd);
	free(key);
	free(iv);
	free(pt);
	free(ct);
}

/* ---- refusals ---- */

static void test_refusals(void **state)
{
	struct atx_ctx *ctx = *state;
	uint8_t key[32] = { 1 }, buf[64] = { 0 }, iv[16] = { 0 }, tag[16];
	struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_CIPHER,
					.cipher = ATX_CIPHER_AES_CBC, .key = key, .key_len = 15 };
	struct atx_session *s;

	errno = 0;
	assert_null(atx_session_new(ctx, &p));
	assert_int_equal(errno, EINVAL);
	p.key_len = 16;
	p.cipher = ATX_CIPHER_NONE;
	assert_null(atx_session_new(ctx, &p));
	assert_int_equal(errno, EOPNOTSUPP);
	p.cipher = ATX_CIPHER_AES_CBC;
	p.engine = "soft";
	s = atx_session_new(ctx, &p);
	assert_non_null(s);

	/* CBC takes whole blocks. */
	errno = 0;
	assert_null(atx_cipher(ctx, s, buf, buf, 15, iv, &ack));
	assert_int_equal(errno, EINVAL);
	/* Wrong call for the session kind. */
	assert_null(atx_digest(ctx, s, tag, buf, 16, &ack));
	assert_int_equal(errno, EINVAL);
	assert_null(atx_aead(ctx, s, buf, buf, 16, iv, 16, NULL, 0, tag, &ack));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(atx_wait(atx_cipher(ctx, s, buf, buf, 64, iv, &ack)), 0);
	atx_session_free(s);

	struct atx_session_params g = { .size = sizeof(g), .service = ATX_SVC_AEAD,
					.aead = ATX_AEAD_AES_CCM, .key = key, .key_len = 16,
					.digest_len = 8, .engine = "soft" };

	s = atx_session_new(ctx, &g);
	assert_non_null(s);
	/* CCM nonce 7..13; an empty message is fine with or without AAD (SP 800-38C). */
	assert_null(atx_aead(ctx, s, buf, buf, 16, iv, 14, NULL, 0, tag, &ack));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(atx_wait(atx_aead(ctx, s, buf, buf, 0, iv, 12, NULL, 0, tag, &ack)), 0);
	assert_int_equal(atx_wait(atx_aead(ctx, s, buf, buf, 0, iv, 12, key, 3, tag, &ack)), 0);
	atx_session_free(s);
}

/* ---- worker lanes: per-lane contexts used from several threads ---- */

#define NBLK 96
#define BLK 4096

static void test_worker_lanes(void **state)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .soft_lanes = 2 };
	struct atx_ctx *ctx = atx_ctx_new(&o);
	uint8_t key[64], *src = malloc(NBLK * BLK), *dst = malloc(NBLK * BLK), *ref = malloc(BLK);
	uint8_t iv[NBLK][16], tags[NBLK][16], reft[16];
	struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_CIPHER,
					.cipher = ATX_CIPHER_AES_XTS, .key = key, .key_len = 64,
					.engine = "soft" };
	struct atx_session_params g = { .size = sizeof(g), .service = ATX_SVC_AEAD,
					.aead = ATX_AEAD_AES_GCM, .key = key, .key_len = 32,
					.engine = "soft" };
	struct atx_session *xs, *gs;
	struct atx_tx *last = NULL;

	assert_non_null(ctx);
	for (unsigned i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 13 + 5);
	for (size_t i = 0; i < NBLK * BLK; i++)
		src[i] = (uint8_t)(i * 31 + (i >> 12));
	for (unsigned b = 0; b < NBLK; b++) {
		memset(iv[b], 0, 16);
		iv[b][0] = (uint8_t)b;
		iv[b][15] = 0xee;
	}
	xs = atx_session_new(ctx, &p);
	gs = atx_session_new(ctx, &g);
	assert_non_null(xs);
	assert_non_null(gs);

	/* Queue everything, then let the lanes race through it. */
	for (unsigned b = 0; b < NBLK; b++) {
		struct atx_tx *tx;

		if (b % 2)
			tx = atx_cipher(ctx, xs, dst + b * BLK, src + b * BLK, BLK, iv[b], &ack);
		else
			tx = atx_aead(ctx, gs, dst + b * BLK, src + b * BLK, BLK, iv[b], 12, NULL, 0,
				      tags[b], b == NBLK - 2 ? NULL : &ack);
		assert_non_null(tx);
		if (b == NBLK - 2)
			last = tx;
	}
	assert_int_equal(atx_run(ctx, ATX_RUN_DEFAULT) >= 0, 1);
	assert_int_equal(atx_wait(last), 0);
	atx_tx_ack(last);

	for (unsigned b = 0; b < NBLK; b++) {
		EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
		int o1 = 0, o2 = 0;

		if (b % 2) {
			EVP_EncryptInit_ex2(x, EVP_aes_256_xts(), key, iv[b], NULL);
		} else {
			EVP_EncryptInit_ex2(x, EVP_aes_256_gcm(), key, iv[b], NULL);
		}
		assert_int_equal(EVP_EncryptUpdate(x, ref, &o1, src + b * BLK, BLK), 1);
		assert_int_equal(EVP_EncryptFinal_ex(x, ref + o1, &o2), 1);
		expect_mem(dst + b * BLK, ref, BLK, "soft", "worker lanes", b % 2 ? "XTS" : "GCM");
		if (!(b % 2)) {
			assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, reft), 1);
			expect_mem(tags[b], reft, 16, "soft", "worker lanes", "GCM tag");
		}
		EVP_CIPHER_CTX_free(x);
	}
	atx_session_free(xs);
	atx_session_free(gs);
	atx_ctx_free(ctx);
	free(src);
	free(dst);
	free(ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat_every_engine),
		cmocka_unit_test(test_chain_with_dependency),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_worker_lanes),
	};

	return cmocka_run_group_tests_name("crypto_api", tests, setup, teardown);
}
