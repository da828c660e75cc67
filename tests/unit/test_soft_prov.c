/* SPDX-License-Identifier: MIT */
/*
 * test_soft_prov - the software engine's ciphers, digests and MACs
 * through their provider's functions (engines/soft/soft_prov.h) give
 * EVP's bytes.
 *
 * The reference is OpenSSL's EVP called here with a fresh context per
 * request.  Checked: the lookup (found for every cipher the engine
 * serves, refused for a name the cipher does not have, for no cipher,
 * and when switched off); a keyed provider context re-inited with one IV
 * after another for every cipher, size and direction, and with no IV
 * (the mode's reset, compared with EVP doing the same on a keyed
 * context); and atx sessions on the soft engine with the provider path
 * on and off (soft_prov_off), flat, split and XTS data-unit requests, on
 * the inline lane and a worker lane.  Digests and MACs the same way: the
 * lookup; one context (a keyed one for MACs) reused request after
 * request, fed in one piece or two, against EVP_Digest and EVP_Q_mac;
 * and hash, MAC (compute and verify) and cipher+MAC sessions through
 * atx with the provider path on and off.  The engine's known-answer
 * tests (test_crypto_kat, test_xts_units) run on the provider path, the
 * default.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "atx.h"
#include "soft/soft.h"
#include "soft/soft_prov.h"

struct alg {
	const char *name;
	enum atx_cipher_alg cipher;
	size_t key_len, iv_len;
	bool stream;            /* any length; else whole blocks (XTS: 16 bytes or more) */
	bool block;             /* a block mode (padding to switch off) */
};

static const struct alg algs[] = {
	{ "AES-128-XTS", ATX_CIPHER_AES_XTS, 32, 16, false, false },
	{ "AES-256-XTS", ATX_CIPHER_AES_XTS, 64, 16, false, false },
	{ "AES-128-CBC", ATX_CIPHER_AES_CBC, 16, 16, false, true },
	{ "AES-192-CBC", ATX_CIPHER_AES_CBC, 24, 16, false, true },
	{ "AES-256-CBC", ATX_CIPHER_AES_CBC, 32, 16, false, true },
	{ "AES-128-CTR", ATX_CIPHER_AES_CTR, 16, 16, true, false },
	{ "AES-256-CTR", ATX_CIPHER_AES_CTR, 32, 16, true, false },
	{ "AES-128-ECB", ATX_CIPHER_AES_ECB, 16, 0, false, true },
	{ "AES-256-ECB", ATX_CIPHER_AES_ECB, 32, 0, false, true },
	{ "ChaCha20", ATX_CIPHER_CHACHA20, 32, 16, true, false },
	{ "DES-EDE3-CBC", ATX_CIPHER_3DES_CBC, 24, 8, false, true },
};
#define NALGS (sizeof(algs) / sizeof(algs[0]))

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* Distinct key halves (XTS refuses equal ones). */
static void key_of(const struct alg *a, uint8_t *key, uint32_t seed)
{
	fill(key, a->key_len, seed);
}

/* The reference: a fresh EVP context, keyed with @iv, padding off. */
static void ref(const struct alg *a, const uint8_t *key, int enc, const uint8_t *iv,
		const uint8_t *in, uint8_t *out, size_t len)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, a->name, NULL);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int l = 0;

	assert_non_null(c);
	assert_non_null(x);
	assert_int_equal(EVP_CipherInit_ex2(x, c, key, a->iv_len ? iv : NULL, enc, NULL), 1);
	assert_int_equal(EVP_CIPHER_CTX_set_padding(x, 0), 1);
	assert_int_equal(EVP_CipherUpdate(x, out, &l, in, (int)len), 1);
	assert_int_equal(l, (int)len);
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
}

static void test_find(void **state)
{
	struct soft_prov_cipher pc;
	EVP_CIPHER *xts = EVP_CIPHER_fetch(NULL, "AES-256-XTS", NULL);

	(void)state;
	for (unsigned i = 0; i < NALGS; i++) {
		EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, algs[i].name, NULL);

		assert_non_null(c);
		assert_int_equal(soft_prov_cipher_find(c, algs[i].name, &pc), 0);
		assert_non_null(pc.update);
		assert_int_equal(pc.ivlen, algs[i].iv_len);
		assert_int_equal(pc.block, algs[i].block);
		EVP_CIPHER_free(c);
	}
	/* Names compare without case, as OpenSSL's do. */
	assert_int_equal(soft_prov_cipher_find(xts, "aes-256-xts", &pc), 0);
	/* A name the cipher does not carry, however real, finds nothing. */
	assert_int_equal(soft_prov_cipher_find(xts, "AES-128-CBC", &pc), -ENOENT);
	assert_null(pc.update);
	assert_int_equal(soft_prov_cipher_find(xts, "NOT-A-CIPHER", &pc), -ENOENT);
	assert_int_equal(soft_prov_cipher_find(xts, NULL, &pc), -ENOENT);
	assert_int_equal(soft_prov_cipher_find(NULL, "AES-256-XTS", &pc), -ENOENT);
	soft_prov_off = true;
	assert_int_equal(soft_prov_cipher_find(xts, "AES-256-XTS", &pc), -ENOENT);
	soft_prov_off = false;
	EVP_CIPHER_free(xts);
}

/* One keyed context, request after request, each with its own IV. */
static void test_reinit_matches_evp(void **state)
{
	static const size_t lens[] = { 16, 64, 512, 4096, 65536, 1, 17, 1000 };
	uint8_t key[64], iv[16], *in = malloc(65536), *out = malloc(65536), *want = malloc(65536);

	(void)state;
	assert_non_null(in);
	assert_non_null(out);
	assert_non_null(want);
	for (unsigned i = 0; i < NALGS; i++) {
		const struct alg *a = &algs[i];
		EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, a->name, NULL);
		struct soft_prov_cipher pc;

		assert_int_equal(soft_prov_cipher_find(c, a->name, &pc), 0);
		for (int enc = 0; enc <= 1; enc++) {
			void *x;

			key_of(a, key, 100 + i);
			x = soft_prov_cipher_new(&pc, enc, key, a->key_len);
			assert_non_null(x);
			for (unsigned k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
				size_t len = lens[k];

				if (!a->stream && len % (a->name[0] == 'D' ? 8 : 16))
					continue;
				fill(in, len, 7 * k + i);
				fill(iv, sizeof(iv), 31 * k + i + (unsigned)enc);
				ref(a, key, enc, iv, in, want, len);
				memset(out, 0, len);
				assert_int_equal(soft_prov_cipher_iv(&pc, x, enc,
								     a->iv_len ? iv : NULL), 0);
				assert_int_equal(soft_prov_cipher_update(&pc, x, out, in, len), 0);
				assert_memory_equal(out, want, len);
			}
			soft_prov_cipher_free(&pc, x);
		}
		EVP_CIPHER_free(c);
	}
	free(in);
	free(out);
	free(want);
}

/*
 * No IV: the mode's own reset (CBC goes back to the IV it was last given
 * at init), exactly what EVP_CipherInit_ex2 with a NULL IV does.
 */
static void test_null_iv_as_evp(void **state)
{
	const struct alg *a = &algs[2]; /* AES-128-CBC */
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, a->name, NULL);
	EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
	struct soft_prov_cipher pc;
	uint8_t key[16], iv[16], in[64], out[64], want[64];
	void *x;
	int l;

	(void)state;
	key_of(a, key, 5);
	fill(iv, 16, 6);
	fill(in, 64, 7);
	assert_int_equal(soft_prov_cipher_find(c, a->name, &pc), 0);
	x = soft_prov_cipher_new(&pc, 1, key, 16);
	assert_non_null(x);
	assert_int_equal(EVP_CipherInit_ex2(e, c, key, NULL, 1, NULL), 1);
	assert_int_equal(EVP_CIPHER_CTX_set_padding(e, 0), 1);
	for (unsigned r = 0; r < 3; r++) {
		const uint8_t *v = r == 1 ? NULL : iv;

		assert_int_equal(EVP_CipherInit_ex2(e, NULL, NULL, v, 1, NULL), 1);
		assert_int_equal(EVP_CipherUpdate(e, want, &l, in, 64), 1);
		assert_int_equal(soft_prov_cipher_iv(&pc, x, 1, v), 0);
		assert_int_equal(soft_prov_cipher_update(&pc, x, out, in, 64), 0);
		assert_memory_equal(out, want, 64);
	}
	/* After a reset, the same IV gives the first request's bytes again. */
	ref(a, key, 1, iv, in, want, 64);
	assert_memory_equal(out, want, 64);
	soft_prov_cipher_free(&pc, x);
	EVP_CIPHER_CTX_free(e);
	EVP_CIPHER_free(c);
}

/* Run @tx to completion: its status. */
static int run(struct atx_ctx *ctx, struct atx_tx *tx)
{
	assert_non_null(tx);
	atx_issue_pending(ctx);
	return atx_wait(tx);
}

static struct atx_session *sess_on_soft(struct atx_ctx *ctx, const struct alg *a, int enc,
					const uint8_t *key, size_t unit)
{
	struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_CIPHER,
					.dir = enc ? ATX_ENCRYPT : ATX_DECRYPT,
					.cipher = a->cipher, .key = key, .key_len = a->key_len,
					.engine = "soft", .data_unit_len = unit,
					.data_unit_iv_step = unit ? 1 : 0 };
	struct soft_sess *ss = NULL;

	/* The engine's own session for these parameters takes the expected path. */
	assert_int_equal(soft_crypto_session_new(&p, 2, &ss), 0);
	assert_int_equal(soft_crypto_prov_lanes(ss), soft_prov_off ? 0 : 2);
	soft_crypto_session_free(ss);
	return atx_session_new(ctx, &p);
}

/* Flat, split and data-unit requests through atx, both lanes, both paths. */
static void engine_run(bool off)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .soft_lanes = 1 };
	uint8_t key[64], iv[16], tw[16];
	size_t len = 4096;
	uint8_t *in = malloc(len), *out = malloc(len), *want = malloc(len);
	struct atx_ctx *ctx;

	soft_prov_off = off;
	ctx = atx_ctx_new(&o);
	assert_non_null(ctx);
	assert_non_null(in);
	assert_non_null(out);
	assert_non_null(want);
	for (unsigned i = 0; i < NALGS; i++) {
		const struct alg *a = &algs[i];

		for (int enc = 0; enc <= 1; enc++) {
			struct atx_session *s;

			key_of(a, key, 200 + i);
			s = sess_on_soft(ctx, a, enc, key, 0);
			assert_non_null(s);
			/* Enough requests in flight that both lanes get some. */
			for (unsigned r = 0; r < 16; r++) {
				struct atx_tx *tx;

				fill(in, len, r + 10 * i);
				fill(iv, 16, r + 77 * i + (unsigned)enc);
				ref(a, key, enc, iv, in, want, len);
				memset(out, 0, len);
				/* The lists, like the buffers, live until completion. */
				struct iovec sv[3] = { { in, 100 }, { in + 100, 1900 },
						       { in + 2000, len - 2000 } };
				struct iovec dv[2] = { { out, 1000 }, { out + 1000, len - 1000 } };

				if (r % 2) {
					struct atx_crypto_op op = {
						.size = sizeof(op), .src = sv, .src_cnt = 3,
						.dst = dv, .dst_cnt = 2,
						.iv = a->iv_len ? iv : NULL, .iv_len = a->iv_len };

					tx = atx_crypto(ctx, s, &op, NULL);
				} else {
					tx = atx_cipher(ctx, s, out, in, len, a->iv_len ? iv : NULL,
							NULL);
				}
				assert_int_equal(run(ctx, tx), 0);
				assert_memory_equal(out, want, len);
			}
			atx_session_free(s);
		}
	}
	/* XTS with 512-byte data units: one re-init per unit. */
	for (int enc = 0; enc <= 1; enc++) {
		const struct alg *a = &algs[1];
		struct atx_session *s;
		struct atx_tx *tx;

		key_of(a, key, 300);
		s = sess_on_soft(ctx, a, enc, key, 512);
		assert_non_null(s);
		fill(in, len, 301);
		fill(iv, 16, 302);
		for (unsigned u = 0; u < len / 512; u++) {
			memcpy(tw, iv, 16);
			tw[0] = (uint8_t)(tw[0] + u);   /* no carry: iv[0] + 7 stays below 256 */
			assert_true(iv[0] + 7 < 256);
			ref(a, key, enc, tw, in + 512 * u, want + 512 * u, 512);
		}
		tx = atx_cipher(ctx, s, out, in, len, iv, NULL);
		assert_int_equal(run(ctx, tx), 0);
		assert_memory_equal(out, want, len);
		atx_session_free(s);
	}
	atx_ctx_free(ctx);
	soft_prov_off = false;
	free(in);
	free(out);
	free(want);
}

static void test_engine_provider_path(void **state)
{
	(void)state;
	engine_run(false);
}

static void test_engine_evp_path(void **state)
{
	(void)state;
	engine_run(true);
}

/* ---- digests and MACs ---- */

static const struct hash {
	const char *name;
	enum atx_hash_alg alg;
	size_t len;
} hashes[] = {
	{ "SHA1", ATX_HASH_SHA1, 20 },     { "SHA224", ATX_HASH_SHA224, 28 },
	{ "SHA256", ATX_HASH_SHA256, 32 }, { "SHA384", ATX_HASH_SHA384, 48 },
	{ "SHA512", ATX_HASH_SHA512, 64 }, { "SHA3-256", ATX_HASH_SHA3_256, 32 },
};
#define NHASHES (sizeof(hashes) / sizeof(hashes[0]))

static const struct mac {
	const char *name, *sub;         /* EVP_MAC name; its digest or cipher */
	enum atx_mac_alg alg;
	size_t key_len, len;
} macs[] = {
	{ "HMAC", "SHA1", ATX_MAC_HMAC_SHA1, 20, 20 },
	{ "HMAC", "SHA224", ATX_MAC_HMAC_SHA224, 28, 28 },
	{ "HMAC", "SHA256", ATX_MAC_HMAC_SHA256, 32, 32 },
	{ "HMAC", "SHA256", ATX_MAC_HMAC_SHA256, 100, 32 },     /* longer than a block: hashed */
	{ "HMAC", "SHA384", ATX_MAC_HMAC_SHA384, 48, 48 },
	{ "HMAC", "SHA512", ATX_MAC_HMAC_SHA512, 64, 64 },
	{ "CMAC", "AES-128-CBC", ATX_MAC_AES_CMAC, 16, 16 },
	{ "CMAC", "AES-192-CBC", ATX_MAC_AES_CMAC, 24, 16 },
	{ "CMAC", "AES-256-CBC", ATX_MAC_AES_CMAC, 32, 16 },
};
#define NMACS (sizeof(macs) / sizeof(macs[0]))

static const size_t dlens[] = { 0, 1, 55, 56, 63, 64, 65, 1000, 4096, 65536 };
#define NDLENS (sizeof(dlens) / sizeof(dlens[0]))

static void ref_digest(const struct hash *h, const uint8_t *in, size_t len, uint8_t *out)
{
	unsigned n = 0;

	assert_int_equal(EVP_Digest(in, len, out, &n, EVP_get_digestbyname(h->name), NULL), 1);
	assert_int_equal(n, h->len);
}

static void ref_mac(const struct mac *m, const uint8_t *key, const uint8_t *in, size_t len,
		    uint8_t *out)
{
	size_t n = 0;

	assert_non_null(EVP_Q_mac(NULL, m->name, NULL, m->sub, NULL, key, m->key_len, in, len,
				  out, EVP_MAX_MD_SIZE, &n));
	assert_int_equal(n, m->len);
}

static OSSL_PARAM mac_param(const struct mac *m)
{
	return OSSL_PARAM_construct_utf8_string(m->name[0] == 'H' ? OSSL_MAC_PARAM_DIGEST
								  : OSSL_MAC_PARAM_CIPHER,
						(char *)m->sub, 0);
}

static void test_find_digest_mac(void **state)
{
	struct soft_prov_digest pd;
	struct soft_prov_mac pm;
	EVP_MD *sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);

	(void)state;
	for (unsigned i = 0; i < NHASHES; i++) {
		EVP_MD *md = EVP_MD_fetch(NULL, hashes[i].name, NULL);

		assert_non_null(md);
		assert_int_equal(soft_prov_digest_find(md, hashes[i].name, &pd), 0);
		assert_non_null(pd.update);
		assert_int_equal(pd.size, hashes[i].len);
		EVP_MD_free(md);
	}
	for (unsigned i = 0; i < NMACS; i++) {
		EVP_MAC *m = EVP_MAC_fetch(NULL, macs[i].name, NULL);

		assert_non_null(m);
		assert_int_equal(soft_prov_mac_find(m, macs[i].name, &pm), 0);
		assert_non_null(pm.final);
		EVP_MAC_free(m);
	}
	assert_int_equal(soft_prov_digest_find(sha256, "sha2-256", &pd), 0);
	assert_int_equal(soft_prov_digest_find(sha256, "SHA512", &pd), -ENOENT);
	assert_null(pd.init);
	assert_int_equal(soft_prov_digest_find(sha256, NULL, &pd), -ENOENT);
	assert_int_equal(soft_prov_digest_find(NULL, "SHA256", &pd), -ENOENT);
	assert_int_equal(soft_prov_mac_find(hmac, "CMAC", &pm), -ENOENT);
	assert_null(pm.init);
	assert_int_equal(soft_prov_mac_find(NULL, "HMAC", &pm), -ENOENT);
	soft_prov_off = true;
	assert_int_equal(soft_prov_digest_find(sha256, "SHA256", &pd), -ENOENT);
	assert_int_equal(soft_prov_mac_find(hmac, "HMAC", &pm), -ENOENT);
	soft_prov_off = false;
	EVP_MD_free(sha256);
	EVP_MAC_free(hmac);
}

/* One digest context and one keyed MAC context each, request after request. */
static void test_digest_mac_reuse_matches_evp(void **state)
{
	uint8_t *in = malloc(65536), key[100], got[EVP_MAX_MD_SIZE], want[EVP_MAX_MD_SIZE];

	(void)state;
	assert_non_null(in);
	for (unsigned i = 0; i < NHASHES; i++) {
		const struct hash *h = &hashes[i];
		EVP_MD *md = EVP_MD_fetch(NULL, h->name, NULL);
		struct soft_prov_digest pd;
		void *x;

		assert_int_equal(soft_prov_digest_find(md, h->name, &pd), 0);
		x = soft_prov_digest_new(&pd);
		assert_non_null(x);
		for (unsigned k = 0; k < NDLENS; k++) {
			size_t len = dlens[k], cut = len / 3;

			fill(in, len, 11 * k + i);
			ref_digest(h, in, len, want);
			memset(got, 0, sizeof(got));
			assert_int_equal(soft_prov_digest_init(&pd, x), 0);
			/* In two pieces on odd rounds, as a scattered request feeds it. */
			if (k % 2) {
				assert_int_equal(pd.update(x, in, cut), 1);
				assert_int_equal(pd.update(x, in + cut, len - cut), 1);
			} else {
				assert_int_equal(pd.update(x, in, len), 1);
			}
			assert_int_equal(soft_prov_digest_final(&pd, x, got), 0);
			assert_memory_equal(got, want, h->len);
		}
		soft_prov_digest_free(&pd, x);
		EVP_MD_free(md);
	}
	for (unsigned i = 0; i < NMACS; i++) {
		const struct mac *m = &macs[i];
		EVP_MAC *em = EVP_MAC_fetch(NULL, m->name, NULL);
		OSSL_PARAM prm[2] = { mac_param(m), OSSL_PARAM_construct_end() };
		struct soft_prov_mac pm;
		void *x;

		fill(key, m->key_len, 500 + i);
		assert_int_equal(soft_prov_mac_find(em, m->name, &pm), 0);
		x = soft_prov_mac_new(&pm, key, m->key_len, prm);
		assert_non_null(x);
		for (unsigned k = 0; k < NDLENS; k++) {
			size_t len = dlens[k], cut = len / 3, n = 0;

			fill(in, len, 13 * k + i);
			ref_mac(m, key, in, len, want);
			memset(got, 0, sizeof(got));
			assert_int_equal(soft_prov_mac_init(&pm, x), 0);
			if (k % 2) {
				assert_int_equal(pm.update(x, in, cut), 1);
				assert_int_equal(pm.update(x, in + cut, len - cut), 1);
			} else {
				assert_int_equal(pm.update(x, in, len), 1);
			}
			assert_int_equal(soft_prov_mac_final(&pm, x, got, sizeof(got), &n), 0);
			assert_int_equal(n, m->len);
			assert_memory_equal(got, want, m->len);
		}
		soft_prov_mac_free(&pm, x);
		EVP_MAC_free(em);
	}
	/* A key the provider refuses (CMAC with a 5-byte AES key): no context, not a bad one. */
	{
		const struct mac *m = &macs[NMACS - 1];
		EVP_MAC *em = EVP_MAC_fetch(NULL, m->name, NULL);
		OSSL_PARAM prm[2] = { mac_param(m), OSSL_PARAM_construct_end() };
		struct soft_prov_mac pm;

		assert_int_equal(soft_prov_mac_find(em, m->name, &pm), 0);
		assert_null(soft_prov_mac_new(&pm, key, 5, prm));
		EVP_MAC_free(em);
	}
	free(in);
}

/* The engine's own session for @p takes the expected path on all of its lanes. */
static void expect_path(const struct atx_session_params *p)
{
	struct soft_sess *ss = NULL;

	assert_int_equal(soft_crypto_session_new(p, 2, &ss), 0);
	assert_int_equal(soft_crypto_prov_lanes(ss), soft_prov_off ? 0 : 2);
	soft_crypto_session_free(ss);
}

/* Hash, MAC (compute and verify) and cipher+MAC sessions through atx, both lanes. */
static void engine_digest_run(bool off)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .soft_lanes = 1 };
	size_t len = 4096;
	uint8_t *in = malloc(len), *ct = malloc(len), *want_ct = malloc(len), *mbuf = malloc(len);
	uint8_t key[100], ckey[32], iv[16], aad[20], got[EVP_MAX_MD_SIZE], want[EVP_MAX_MD_SIZE];
	struct iovec sv[3] = { { in, 100 }, { in + 100, 1900 }, { in + 2000, len - 2000 } };
	struct atx_ctx *ctx;

	soft_prov_off = off;
	ctx = atx_ctx_new(&o);
	assert_non_null(ctx);
	assert_non_null(in);
	assert_non_null(ct);
	assert_non_null(want_ct);
	assert_non_null(mbuf);
	for (unsigned i = 0; i < NHASHES; i++) {
		struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_HASH,
						.hash = hashes[i].alg, .engine = "soft" };
		struct atx_session *s;

		expect_path(&p);
		s = atx_session_new(ctx, &p);
		assert_non_null(s);
		for (unsigned r = 0; r < 8; r++) {
			struct atx_crypto_op op = { .size = sizeof(op), .src = sv, .src_cnt = 3,
						    .digest = got };

			fill(in, len, 40 * i + r);
			ref_digest(&hashes[i], in, len, want);
			memset(got, 0, sizeof(got));
			assert_int_equal(run(ctx, r % 2 ? atx_crypto(ctx, s, &op, NULL)
						       : atx_digest(ctx, s, got, in, len, NULL)), 0);
			assert_memory_equal(got, want, hashes[i].len);
		}
		atx_session_free(s);
	}
	for (unsigned i = 0; i < NMACS; i++) {
		const struct mac *m = &macs[i];

		fill(key, m->key_len, 600 + i);
		for (int dir = ATX_ENCRYPT; dir <= ATX_DECRYPT; dir++) {
			struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_MAC,
							.mac = m->alg, .key = key,
							.key_len = m->key_len, .dir = dir,
							.engine = "soft" };
			struct atx_session *s;

			expect_path(&p);
			s = atx_session_new(ctx, &p);
			assert_non_null(s);
			for (unsigned r = 0; r < 8; r++) {
				struct atx_crypto_op op = { .size = sizeof(op), .src = sv,
							    .src_cnt = 3, .digest = got };

				fill(in, len, 70 * i + r);
				ref_mac(m, key, in, len, want);
				if (dir == ATX_ENCRYPT) {
					memset(got, 0, sizeof(got));
				} else {
					/* Verify: the right MAC passes, one flipped bit fails. */
					memcpy(got, want, m->len);
					got[r % m->len] ^= (uint8_t)(r & 1);
				}
				assert_int_equal(run(ctx, r % 4 < 2 ? atx_crypto(ctx, s, &op, NULL)
							       : atx_digest(ctx, s, got, in, len,
									    NULL)),
						 dir == ATX_DECRYPT && (r & 1) ? -EBADMSG : 0);
				if (dir == ATX_ENCRYPT)
					assert_memory_equal(got, want, m->len);
			}
			atx_session_free(s);
		}
	}
	/* AES-256-CBC then HMAC-SHA256 over aad || ciphertext, and back. */
	fill(ckey, 32, 700);
	fill(key, 32, 701);
	fill(aad, sizeof(aad), 702);
	for (unsigned r = 0; r < 4; r++) {
		const struct alg *ca = &algs[4]; /* AES-256-CBC */
		struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_CHAIN,
						.cipher = ATX_CIPHER_AES_CBC, .key = ckey,
						.key_len = 32, .mac = ATX_MAC_HMAC_SHA256,
						.auth_key = key, .auth_key_len = 32,
						.dir = ATX_ENCRYPT,
						.chain_order = ATX_CHAIN_ENC_THEN_MAC,
						.engine = "soft" };
		struct iovec dv = { ct, len }, pv = { mbuf, len }, cv = { ct, len };
		struct atx_crypto_op op = { .size = sizeof(op), .src = sv, .src_cnt = 3,
					    .dst = &dv, .dst_cnt = 1, .iv = iv, .iv_len = 16,
					    .aad = aad, .aad_len = sizeof(aad), .digest = got };
		struct atx_session *s;

		assert_true(ca->cipher == ATX_CIPHER_AES_CBC && ca->key_len == 32);
		fill(in, len, 800 + r);
		fill(iv, 16, 900 + r);
		ref(ca, ckey, 1, iv, in, want_ct, len);
		{
			/* The MAC covers aad || ciphertext: feed the reference both. */
			EVP_MAC *em = EVP_MAC_fetch(NULL, "HMAC", NULL);
			EVP_MAC_CTX *mc = EVP_MAC_CTX_new(em);
			OSSL_PARAM prm[2] = { OSSL_PARAM_construct_utf8_string(
						      OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
					      OSSL_PARAM_construct_end() };
			size_t n = 0;

			assert_int_equal(EVP_MAC_init(mc, key, 32, prm), 1);
			assert_int_equal(EVP_MAC_update(mc, aad, sizeof(aad)), 1);
			assert_int_equal(EVP_MAC_update(mc, want_ct, len), 1);
			assert_int_equal(EVP_MAC_final(mc, want, &n, sizeof(want)), 1);
			assert_int_equal(n, 32);
			EVP_MAC_CTX_free(mc);
			EVP_MAC_free(em);
		}
		expect_path(&p);
		s = atx_session_new(ctx, &p);
		assert_non_null(s);
		memset(ct, 0, len);
		memset(got, 0, sizeof(got));
		assert_int_equal(run(ctx, atx_crypto(ctx, s, &op, NULL)), 0);
		assert_memory_equal(ct, want_ct, len);
		assert_memory_equal(got, want, 32);
		atx_session_free(s);

		/* Verify then decrypt; a flipped tag bit on odd rounds: no plaintext. */
		p.dir = ATX_DECRYPT;
		p.chain_order = ATX_CHAIN_MAC_THEN_ENC;
		expect_path(&p);
		s = atx_session_new(ctx, &p);
		assert_non_null(s);
		got[r] ^= (uint8_t)(r & 1);
		memset(mbuf, 0, len);
		op.src = &cv;
		op.src_cnt = 1;
		op.dst = &pv;
		assert_int_equal(run(ctx, atx_crypto(ctx, s, &op, NULL)), r & 1 ? -EBADMSG : 0);
		if (!(r & 1))
			assert_memory_equal(mbuf, in, len);
		atx_session_free(s);
	}
	atx_ctx_free(ctx);
	soft_prov_off = false;
	free(in);
	free(ct);
	free(want_ct);
	free(mbuf);
}

static void test_engine_digest_provider_path(void **state)
{
	(void)state;
	engine_digest_run(false);
}

static void test_engine_digest_evp_path(void **state)
{
	(void)state;
	engine_digest_run(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_reinit_matches_evp),
		cmocka_unit_test(test_null_iv_as_evp),
		cmocka_unit_test(test_engine_provider_path),
		cmocka_unit_test(test_engine_evp_path),
		cmocka_unit_test(test_find_digest_mac),
		cmocka_unit_test(test_digest_mac_reuse_matches_evp),
		cmocka_unit_test(test_engine_digest_provider_path),
		cmocka_unit_test(test_engine_digest_evp_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
