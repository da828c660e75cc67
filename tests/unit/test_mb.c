/* SPDX-License-Identifier: MIT */
/*
 * test_mb.c - the multi-buffer engine (intel-ipsec-mb) through the public
 * API, sessions forced onto "mb".  Truth comes from elsewhere: published
 * vectors (NIST SP 800-38A CBC, the GCM spec's test cases, RFC 4231 HMAC)
 * and OpenSSL EVP called directly here.
 *
 * Skipped (not failed) where the engine declines to attach: no AES-NI,
 * AVX state not enabled by the OS, or ATX_MB_DISABLE=1.
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
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "atx.h"

#define MAXLEN 8192

static struct atx_ctx *ctx;

/* ---- helpers ---- */

static size_t unhex(uint8_t *out, const char *hex)
{
	size_t n = 0;

	while (hex[0] && hex[1]) {
		unsigned v;

		sscanf(hex, "%2x", &v);
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

static void rnd(void *p, size_t n)
{
	assert_int_equal(RAND_bytes(p, (int)n), 1);
}

static bool have_mb(struct atx_ctx *c)
{
	unsigned i;

	for (i = 0; i < atx_engine_count(c); i++)
		if (!strcmp(atx_engine_name(c, i), "mb"))
			return true;
	return false;
}

static int setup(void **state)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .engines = "mb" };

	/*
	 * Lone requests would otherwise go to the engine's OpenSSL fallback;
	 * these tests are about the intel-ipsec-mb jobs (test_lone covers it).
	 */
	setenv("ATX_MB_LONE", "0", 1);
	ctx = atx_ctx_new(&o);
	unsetenv("ATX_MB_LONE");
	if (!ctx) {
		/* The engine declined (CPU/OS/ATX_MB_DISABLE): not a failure here. */
		o.engines = NULL;
		ctx = atx_ctx_new(&o);
	}
	assert_non_null(ctx);
	return 0;
}

static int teardown(void **state)
{
	atx_ctx_free(ctx);
	ctx = NULL;
	return 0;
}

#define NEED_MB() do { if (!have_mb(ctx)) skip(); } while (0)

static struct atx_session *sess(enum atx_service svc, int alg, enum atx_dir dir, const void *key,
				size_t key_len, size_t digest_len)
{
	struct atx_session_params p = {
		.size = sizeof(p), .service = svc, .dir = dir, .key = key, .key_len = key_len,
		.digest_len = digest_len, .engine = "mb",
	};
	struct atx_session *s;

	switch (svc) {
	case ATX_SVC_CIPHER:
		p.cipher = alg;
		break;
	case ATX_SVC_MAC:
		p.mac = alg;
		break;
	case ATX_SVC_AEAD:
		p.aead = alg;
		break;
	default:
		fail_msg("bad service");
	}
	s = atx_session_new(ctx, &p);
	if (!s)
		fail_msg("atx_session_new(svc %d alg %d key %zu): %s", svc, alg, key_len,
			 strerror(errno));
	assert_string_equal(atx_session_engine(s), "mb");
	return s;
}

static struct atx_session *chain_sess(enum atx_cipher_alg c, enum atx_mac_alg m, enum atx_dir dir,
				      const void *key, size_t key_len, const void *akey,
				      size_t akey_len, size_t digest_len)
{
	struct atx_session_params p = {
		.size = sizeof(p), .service = ATX_SVC_CHAIN, .dir = dir, .cipher = c, .mac = m,
		.chain_order = dir == ATX_ENCRYPT ? ATX_CHAIN_ENC_THEN_MAC : ATX_CHAIN_MAC_THEN_ENC,
		.key = key, .key_len = key_len, .auth_key = akey, .auth_key_len = akey_len,
		.digest_len = digest_len, .engine = "mb",
	};
	struct atx_session *s = atx_session_new(ctx, &p);

	if (!s)
		fail_msg("chain session: %s", strerror(errno));
	assert_string_equal(atx_session_engine(s), "mb");
	return s;
}

/* ---- OpenSSL references ---- */

static const EVP_CIPHER *aes_cipher(const char *mode, size_t key_len)
{
	char name[32];

	snprintf(name, sizeof(name), "AES-%zu-%s", key_len * 8, mode);
	return EVP_get_cipherbyname(name);
}

static void ref_cipher(const EVP_CIPHER *c, bool enc, const uint8_t *key, const uint8_t *iv,
		       const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n = 0, m = 0;

	assert_non_null(c);
	assert_int_equal(EVP_CipherInit_ex(x, c, NULL, key, iv, enc), 1);
	EVP_CIPHER_CTX_set_padding(x, 0);
	assert_int_equal(EVP_CipherUpdate(x, out, &n, in, (int)len), 1);
	assert_int_equal(EVP_CipherFinal_ex(x, out + n, &m), 1);
	assert_int_equal((size_t)(n + m), len);
	EVP_CIPHER_CTX_free(x);
}

/* AEAD encrypt: GCM, CCM or ChaCha20-Poly1305. */
static void ref_aead(enum atx_aead_alg a, const uint8_t *key, size_t key_len, const uint8_t *iv,
		     size_t iv_len, const uint8_t *aad, size_t aad_len, const uint8_t *in,
		     size_t len, uint8_t *out, uint8_t *tag, size_t tag_len)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	const EVP_CIPHER *c;
	int n = 0;

	c = a == ATX_AEAD_AES_GCM ? aes_cipher("GCM", key_len) :
	    a == ATX_AEAD_AES_CCM ? aes_cipher("CCM", key_len) : EVP_chacha20_poly1305();
	assert_int_equal(EVP_EncryptInit_ex(x, c, NULL, NULL, NULL), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, (int)iv_len, NULL), 1);
	if (a == ATX_AEAD_AES_CCM)
		assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, (int)tag_len, NULL), 1);
	assert_int_equal(EVP_EncryptInit_ex(x, NULL, NULL, key, iv), 1);
	if (a == ATX_AEAD_AES_CCM)
		assert_int_equal(EVP_EncryptUpdate(x, NULL, &n, NULL, (int)len), 1);
	if (aad_len)
		assert_int_equal(EVP_EncryptUpdate(x, NULL, &n, aad, (int)aad_len), 1);
	assert_int_equal(EVP_EncryptUpdate(x, out, &n, in, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(x, out + n, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, (int)tag_len, tag), 1);
	EVP_CIPHER_CTX_free(x);
}

static const char *hmac_md(enum atx_mac_alg m)
{
	static const char *const n[] = {
		[ATX_MAC_HMAC_SHA1] = "SHA1", [ATX_MAC_HMAC_SHA224] = "SHA224",
		[ATX_MAC_HMAC_SHA256] = "SHA256", [ATX_MAC_HMAC_SHA384] = "SHA384",
		[ATX_MAC_HMAC_SHA512] = "SHA512",
	};
	return n[m];
}

static size_t mac_full(enum atx_mac_alg m)
{
	static const size_t n[] = {
		[ATX_MAC_HMAC_SHA1] = 20, [ATX_MAC_HMAC_SHA224] = 28, [ATX_MAC_HMAC_SHA256] = 32,
		[ATX_MAC_HMAC_SHA384] = 48, [ATX_MAC_HMAC_SHA512] = 64, [ATX_MAC_AES_CMAC] = 16,
	};
	return n[m];
}

/* MAC over the concatenation of two pieces (chains MAC aad || ciphertext). */
static void ref_mac2(enum atx_mac_alg m, const uint8_t *key, size_t key_len, const uint8_t *a,
		     size_t alen, const uint8_t *b, size_t blen, uint8_t *out)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac;
	EVP_MAC_CTX *x;
	size_t n = 0;
	char pname[32];

	if (m == ATX_MAC_AES_CMAC) {
		mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
		snprintf(pname, sizeof(pname), "AES-%zu-CBC", key_len * 8);
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, pname, 0);
	} else {
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		snprintf(pname, sizeof(pname), "%s", hmac_md(m));
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, pname, 0);
	}
	params[1] = OSSL_PARAM_construct_end();
	assert_non_null(mac);
	x = EVP_MAC_CTX_new(mac);
	assert_int_equal(EVP_MAC_init(x, key, key_len, params), 1);
	if (alen)
		assert_int_equal(EVP_MAC_update(x, a, alen), 1);
	if (blen)
		assert_int_equal(EVP_MAC_update(x, b, blen), 1);
	assert_int_equal(EVP_MAC_final(x, out, &n, 64), 1);
	assert_int_equal(n, mac_full(m));
	EVP_MAC_CTX_free(x);
	EVP_MAC_free(mac);
}

static int run_one(struct atx_tx *tx)
{
	if (!tx)
		fail_msg("submit: %s", strerror(errno));
	return atx_wait(tx);
}

/* ---- published vectors ---- */

static void test_cbc_sp800_38a(void **state)
{
	uint8_t key[16], iv[16], pt[64], ct[64], out[64], back[64];
	struct atx_session *e, *d;

	NEED_MB();
	unhex(key, "2b7e151628aed2a6abf7158809cf4f3c");
	unhex(iv, "000102030405060708090a0b0c0d0e0f");
	unhex(pt, "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
		  "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
	unhex(ct, "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
		  "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
	e = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, key, 16, 0);
	d = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_DECRYPT, key, 16, 0);
	assert_int_equal(run_one(atx_cipher(ctx, e, out, pt, 64, iv, NULL)), 0);
	assert_memory_equal(out, ct, 64);
	assert_int_equal(run_one(atx_cipher(ctx, d, back, ct, 64, iv, NULL)), 0);
	assert_memory_equal(back, pt, 64);
	atx_session_free(e);
	atx_session_free(d);
}

static void test_gcm_spec_vectors(void **state)
{
	uint8_t key[16], iv[12], pt[64], ct[64], aad[20], tag[16], out[64], otag[16];
	struct atx_session *e, *d;

	NEED_MB();
	/* The GCM specification (McGrew & Viega), test cases 3 and 4. */
	unhex(key, "feffe9928665731c6d6a8f9467308308");
	unhex(iv, "cafebabefacedbaddecaf888");
	unhex(pt, "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
		  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255");
	unhex(ct, "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
		  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985");
	unhex(aad, "feedfacedeadbeeffeedfacedeadbeefabaddad2");
	e = sess(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_ENCRYPT, key, 16, 0);
	d = sess(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_DECRYPT, key, 16, 0);

	assert_int_equal(run_one(atx_aead(ctx, e, out, pt, 64, iv, 12, NULL, 0, otag, NULL)), 0);
	unhex(tag, "4d5c2af327cd64a62cf35abd2ba6fab4");
	assert_memory_equal(out, ct, 64);
	assert_memory_equal(otag, tag, 16);

	assert_int_equal(run_one(atx_aead(ctx, e, out, pt, 60, iv, 12, aad, 20, otag, NULL)), 0);
	unhex(tag, "5bc94fbc3221a5db94fae95ae7121a47");
	assert_memory_equal(out, ct, 60);
	assert_memory_equal(otag, tag, 16);

	assert_int_equal(run_one(atx_aead(ctx, d, out, ct, 60, iv, 12, aad, 20, tag, NULL)), 0);
	assert_memory_equal(out, pt, 60);
	atx_session_free(e);
	atx_session_free(d);
}

static void test_hmac_rfc4231(void **state)
{
	static const struct {
		const char *key, *data;
		enum atx_mac_alg m;
		const char *mac;
	} v[] = {
		/* Test case 1: 20-byte key of 0x0b, "Hi There". */
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
		  ATX_MAC_HMAC_SHA224, "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22" },
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
		  ATX_MAC_HMAC_SHA256,
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
		  ATX_MAC_HMAC_SHA384,
		  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
		  "faea9ea9076ede7f4af152e8b2fa9cb6" },
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
		  ATX_MAC_HMAC_SHA512,
		  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
		  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
		/* Test case 2: key "Jefe", "what do ya want for nothing?". */
		{ "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		  ATX_MAC_HMAC_SHA256,
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	};
	unsigned i;

	NEED_MB();
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t key[160], data[128], want[64], got[64];
		size_t kl = unhex(key, v[i].key), dl = unhex(data, v[i].data);
		size_t ml = unhex(want, v[i].mac);
		struct atx_session *s = sess(ATX_SVC_MAC, v[i].m, ATX_ENCRYPT, key, kl, 0);
		struct atx_session *vs = sess(ATX_SVC_MAC, v[i].m, ATX_DECRYPT, key, kl, 0);

		memset(got, 0, sizeof(got));
		assert_int_equal(run_one(atx_digest(ctx, s, got, data, dl, NULL)), 0);
		if (memcmp(got, want, ml))
			fail_msg("RFC 4231 vector %u: mac differs", i);
		assert_int_equal(run_one(atx_digest(ctx, vs, want, data, dl, NULL)), 0);
		want[ml - 1] ^= 1;
		assert_int_equal(run_one(atx_digest(ctx, vs, want, data, dl, NULL)), -EBADMSG);
		atx_session_free(s);
		atx_session_free(vs);
	}
}

/* ---- every algorithm against OpenSSL ---- */

static const size_t lens[] = { 16, 64, 256, 1024, 4096, 4096 + 48 };
static const size_t odd_lens[] = { 1, 15, 17, 100, 1000, 4095 };

static void test_cipher_vs_openssl(void **state)
{
	static uint8_t src[MAXLEN], out[MAXLEN], ref[MAXLEN];
	static const size_t kls[] = { 16, 24, 32 };
	uint8_t key[32], iv[16];
	unsigned k, i, mode;

	NEED_MB();
	for (mode = 0; mode < 2; mode++) {
		enum atx_cipher_alg alg = mode ? ATX_CIPHER_AES_CTR : ATX_CIPHER_AES_CBC;

		for (k = 0; k < 3; k++) {
			const EVP_CIPHER *c = aes_cipher(mode ? "CTR" : "CBC", kls[k]);
			struct atx_session *e, *d;

			rnd(key, kls[k]);
			e = sess(ATX_SVC_CIPHER, alg, ATX_ENCRYPT, key, kls[k], 0);
			d = sess(ATX_SVC_CIPHER, alg, ATX_DECRYPT, key, kls[k], 0);
			for (i = 0; i < 12; i++) {
				size_t len = i < 6 ? lens[i] : (mode ? odd_lens[i - 6] : lens[i - 6]);

				rnd(src, len);
				rnd(iv, 16);
				if (mode && i == 11)
					/* The counter's low 32 bits wrap inside the message. */
					memset(iv + 12, 0xff, 4);
				ref_cipher(c, true, key, iv, src, len, ref);
				assert_int_equal(run_one(atx_cipher(ctx, e, out, src, len, iv, NULL)), 0);
				if (memcmp(out, ref, len))
					fail_msg("%s-%zu encrypt len %zu differs", mode ? "ctr" : "cbc",
						 kls[k] * 8, len);
				/* In place back to the plaintext. */
				assert_int_equal(run_one(atx_cipher(ctx, d, out, out, len, iv, NULL)), 0);
				if (memcmp(out, src, len))
					fail_msg("%s-%zu decrypt len %zu differs", mode ? "ctr" : "cbc",
						 kls[k] * 8, len);
			}
			atx_session_free(e);
			atx_session_free(d);
		}
	}
}

static void test_mac_vs_openssl(void **state)
{
	static uint8_t src[MAXLEN];
	static const enum atx_mac_alg macs[] = {
		ATX_MAC_HMAC_SHA1, ATX_MAC_HMAC_SHA224, ATX_MAC_HMAC_SHA256,
		ATX_MAC_HMAC_SHA384, ATX_MAC_HMAC_SHA512, ATX_MAC_AES_CMAC, ATX_MAC_AES_CMAC,
	};
	static const size_t mlens[] = { 0, 1, 63, 64, 65, 127, 128, 129, 1000, 4096 };
	unsigned m, i;
	int ret;

	NEED_MB();
	for (m = 0; m < sizeof(macs) / sizeof(macs[0]); m++) {
		uint8_t key[100], ref[64], got[64];
		size_t kl = macs[m] == ATX_MAC_AES_CMAC ? (m == 5 ? 16 : 32) : m == 0 ? 64 : 17 + 11 * m;
		size_t full = mac_full(macs[m]);
		struct atx_session *s, *t;

		rnd(key, kl);
		s = sess(ATX_SVC_MAC, macs[m], ATX_ENCRYPT, key, kl, 0);
		/* A truncated MAC: the first half of the full one. */
		t = sess(ATX_SVC_MAC, macs[m], ATX_ENCRYPT, key, kl, full / 2);
		for (i = 0; i < sizeof(mlens) / sizeof(mlens[0]); i++) {
			rnd(src, mlens[i]);
			ref_mac2(macs[m], key, kl, NULL, 0, src, mlens[i], ref);
			memset(got, 0, sizeof(got));
			ret = run_one(atx_digest(ctx, s, got, src, mlens[i], NULL));
			if (ret)
				fail_msg("mac %d key %zu len %zu: %d", macs[m], kl, mlens[i], ret);
			if (memcmp(got, ref, full))
				fail_msg("mac %d key %zu len %zu differs", macs[m], kl, mlens[i]);
			memset(got, 0xee, sizeof(got));
			assert_int_equal(run_one(atx_digest(ctx, t, got, src, mlens[i], NULL)), 0);
			assert_memory_equal(got, ref, full / 2);
			/* Nothing written past the truncated length. */
			assert_int_equal(got[full / 2], 0xee);
		}
		atx_session_free(s);
		atx_session_free(t);
	}
}

static void test_aead_vs_openssl(void **state)
{
	static uint8_t src[MAXLEN], out[MAXLEN], ref[MAXLEN], back[MAXLEN];
	static const struct {
		enum atx_aead_alg a;
		size_t key_len, iv_len, tag_len;
	} cfg[] = {
		{ ATX_AEAD_AES_GCM, 16, 12, 16 }, { ATX_AEAD_AES_GCM, 24, 12, 16 },
		{ ATX_AEAD_AES_GCM, 32, 12, 16 }, { ATX_AEAD_AES_GCM, 16, 12, 12 },
		{ ATX_AEAD_AES_CCM, 16, 12, 16 }, { ATX_AEAD_AES_CCM, 32, 13, 8 },
		{ ATX_AEAD_AES_CCM, 16, 7, 4 },
		{ ATX_AEAD_CHACHA20_POLY1305, 32, 12, 16 },
	};
	static const size_t alens[] = { 0, 13, 20, 46 };
	unsigned c, i;

	NEED_MB();
	for (c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		uint8_t key[32], iv[16], aad[64], tag[16], rtag[16];
		struct atx_session *e, *d;
		size_t dl = cfg[c].tag_len == 16 ? 0 : cfg[c].tag_len;

		rnd(key, cfg[c].key_len);
		e = sess(ATX_SVC_AEAD, cfg[c].a, ATX_ENCRYPT, key, cfg[c].key_len, dl);
		d = sess(ATX_SVC_AEAD, cfg[c].a, ATX_DECRYPT, key, cfg[c].key_len, dl);
		for (i = 0; i < 13; i++) {
			/* The last round: no payload, AAD only (GMAC-style). */
			size_t len = i < 6 ? lens[i] : i < 12 ? odd_lens[i - 6] : 0;
			size_t al = i < 12 ? alens[i % 4] : 20;

			rnd(src, len);
			rnd(iv, cfg[c].iv_len);
			rnd(aad, al);
			ref_aead(cfg[c].a, key, cfg[c].key_len, iv, cfg[c].iv_len, aad, al, src, len,
				 ref, rtag, cfg[c].tag_len);
			assert_int_equal(run_one(atx_aead(ctx, e, out, src, len, iv, cfg[c].iv_len,
							  aad, al, tag, NULL)), 0);
			if (memcmp(out, ref, len) || memcmp(tag, rtag, cfg[c].tag_len))
				fail_msg("aead %d key %zu len %zu aad %zu differs", cfg[c].a,
					 cfg[c].key_len, len, al);
			assert_int_equal(run_one(atx_aead(ctx, d, back, out, len, iv, cfg[c].iv_len,
							  aad, al, tag, NULL)), 0);
			assert_memory_equal(back, src, len);
		}
		atx_session_free(e);
		atx_session_free(d);
	}
}

static void test_chain_vs_openssl(void **state)
{
	static uint8_t src[MAXLEN], out[MAXLEN], ref[MAXLEN], back[MAXLEN];
	static const struct {
		enum atx_cipher_alg c;
		size_t key_len;
		enum atx_mac_alg m;
	} cfg[] = {
		{ ATX_CIPHER_AES_CBC, 16, ATX_MAC_HMAC_SHA256 },
		{ ATX_CIPHER_AES_CBC, 32, ATX_MAC_HMAC_SHA1 },
		{ ATX_CIPHER_AES_CTR, 16, ATX_MAC_HMAC_SHA512 },
	};
	unsigned c, i;

	NEED_MB();
	for (c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		/* 100 bytes: longer than SHA-1/256's block, so it is hashed first (RFC 2104). */
		uint8_t key[32], akey[100], iv[16], aad[32], tag[64], rtag[64];
		const EVP_CIPHER *ec = aes_cipher(cfg[c].c == ATX_CIPHER_AES_CBC ? "CBC" : "CTR",
						  cfg[c].key_len);
		size_t full = mac_full(cfg[c].m);
		struct atx_session *e, *d;

		rnd(key, cfg[c].key_len);
		rnd(akey, sizeof(akey));
		e = chain_sess(cfg[c].c, cfg[c].m, ATX_ENCRYPT, key, cfg[c].key_len, akey,
			       sizeof(akey), 0);
		d = chain_sess(cfg[c].c, cfg[c].m, ATX_DECRYPT, key, cfg[c].key_len, akey,
			       sizeof(akey), 0);
		for (i = 0; i < 8; i++) {
			/* Rounds 6 and 7 have no payload: the tag is the MAC of the AAD (or of nothing). */
			size_t len = i < 6 ? lens[i] : 0;
			size_t al = i == 6 || (i < 6 && (i & 1)) ? 24 : 0;

			rnd(src, len);
			rnd(iv, 16);
			rnd(aad, al);
			ref_cipher(ec, true, key, iv, src, len, ref);
			ref_mac2(cfg[c].m, akey, sizeof(akey), aad, al, ref, len, rtag);
			assert_int_equal(run_one(atx_aead(ctx, e, out, src, len, iv, 16, al ? aad : NULL,
							  al, tag, NULL)), 0);
			if (memcmp(out, ref, len) || memcmp(tag, rtag, full))
				fail_msg("chain %u len %zu aad %zu differs", c, len, al);
			assert_int_equal(run_one(atx_aead(ctx, d, back, out, len, iv, 16,
							  al ? aad : NULL, al, tag, NULL)), 0);
			assert_memory_equal(back, src, len);
		}
		atx_session_free(e);
		atx_session_free(d);
	}
}

/* ---- where the library differs from atx: OpenSSL takes over ---- */

static void test_edges(void **state)
{
	static uint8_t src[3000], out[3000], ref[3000], back[3000], pat[3000];
	static const size_t ivls[] = { 1, 8, 16, 32 };
	uint8_t key[32], akey[32], iv[32], aad[128], tag[64], rtag[64];
	struct atx_session *e, *d;
	unsigned i;

	NEED_MB();
	rnd(key, 32);
	rnd(akey, 32);
	rnd(src, sizeof(src));
	rnd(aad, sizeof(aad));
	memset(pat, 0x5a, sizeof(pat));

	/* GCM with IVs other than 96 bits (GHASHed into J0). */
	e = sess(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_ENCRYPT, key, 16, 0);
	d = sess(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_DECRYPT, key, 16, 0);
	for (i = 0; i < 4; i++) {
		rnd(iv, ivls[i]);
		ref_aead(ATX_AEAD_AES_GCM, key, 16, iv, ivls[i], aad, 20, src, 1000, ref, rtag, 16);
		assert_int_equal(run_one(atx_aead(ctx, e, out, src, 1000, iv, ivls[i], aad, 20, tag,
						  NULL)), 0);
		if (memcmp(out, ref, 1000) || memcmp(tag, rtag, 16))
			fail_msg("gcm iv_len %zu differs", ivls[i]);
		assert_int_equal(run_one(atx_aead(ctx, d, back, out, 1000, iv, ivls[i], aad, 20, tag,
						  NULL)), 0);
		assert_memory_equal(back, src, 1000);
	}
	atx_session_free(e);
	atx_session_free(d);

	/* CCM with more AAD than the library's 46 bytes. */
	e = sess(ATX_SVC_AEAD, ATX_AEAD_AES_CCM, ATX_ENCRYPT, key, 32, 12);
	d = sess(ATX_SVC_AEAD, ATX_AEAD_AES_CCM, ATX_DECRYPT, key, 32, 12);
	rnd(iv, 11);
	ref_aead(ATX_AEAD_AES_CCM, key, 32, iv, 11, aad, 100, src, 777, ref, rtag, 12);
	assert_int_equal(run_one(atx_aead(ctx, e, out, src, 777, iv, 11, aad, 100, tag, NULL)), 0);
	assert_memory_equal(out, ref, 777);
	assert_memory_equal(tag, rtag, 12);
	assert_int_equal(run_one(atx_aead(ctx, d, back, out, 777, iv, 11, aad, 100, tag, NULL)), 0);
	assert_memory_equal(back, src, 777);
	tag[11] ^= 1;
	memcpy(back, pat, sizeof(back));
	assert_int_equal(run_one(atx_aead(ctx, d, back, out, 777, iv, 11, aad, 100, tag, NULL)),
			 -EBADMSG);
	assert_memory_equal(back, pat, sizeof(back));
	atx_session_free(e);
	atx_session_free(d);

	/* CTR whose low 32-bit counter word wraps: OpenSSL carries into the rest. */
	memset(iv, 0xff, 16);
	iv[3] = 0x17;
	iv[12] = 0xff, iv[13] = 0xff, iv[14] = 0xff, iv[15] = 0xfe;
	ref_cipher(aes_cipher("CTR", 32), true, key, iv, src, 3000, ref);
	e = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CTR, ATX_ENCRYPT, key, 32, 0);
	{
		/* In place over three segments. */
		struct iovec io[3] = { { out, 100 }, { out + 100, 1 }, { out + 101, 2899 } };
		struct atx_crypto_op op = {
			.size = sizeof(op), .src = io, .src_cnt = 3, .iv = iv, .iv_len = 16,
		};

		memcpy(out, src, 3000);
		assert_int_equal(run_one(atx_crypto(ctx, e, &op, NULL)), 0);
		assert_memory_equal(out, ref, 3000);
	}
	atx_session_free(e);

	e = chain_sess(ATX_CIPHER_AES_CTR, ATX_MAC_HMAC_SHA256, ATX_ENCRYPT, key, 16, akey, 32, 0);
	d = chain_sess(ATX_CIPHER_AES_CTR, ATX_MAC_HMAC_SHA256, ATX_DECRYPT, key, 16, akey, 32, 0);
	for (i = 0; i < 2; i++) {
		size_t al = i ? 33 : 0;

		ref_cipher(aes_cipher("CTR", 16), true, key, iv, src, 3000, ref);
		ref_mac2(ATX_MAC_HMAC_SHA256, akey, 32, aad, al, ref, 3000, rtag);
		assert_int_equal(run_one(atx_aead(ctx, e, out, src, 3000, iv, 16, al ? aad : NULL, al,
						  tag, NULL)), 0);
		assert_memory_equal(out, ref, 3000);
		assert_memory_equal(tag, rtag, 32);
		assert_int_equal(run_one(atx_aead(ctx, d, back, out, 3000, iv, 16, al ? aad : NULL, al,
						  tag, NULL)), 0);
		assert_memory_equal(back, src, 3000);
		tag[0] ^= 1;
		memcpy(back, pat, sizeof(back));
		assert_int_equal(run_one(atx_aead(ctx, d, back, out, 3000, iv, 16, al ? aad : NULL,
						  al, tag, NULL)), -EBADMSG);
		assert_memory_equal(back, pat, sizeof(back));
	}
	atx_session_free(e);
	atx_session_free(d);
}

/* ---- scatter-gather ---- */

static void test_sg_bounce(void **state)
{
	static uint8_t src[4096], ref[4096], a[4096], b[4096];
	uint8_t key[16], iv[16], tag[16], rtag[16];
	struct iovec siov[3] = {
		{ src, 1000 }, { src + 1000, 24 }, { src + 1024, 3072 },
	};
	struct iovec diov[2] = { { a, 2048 + 16 }, { b, 2048 - 16 } };
	struct atx_crypto_op op = {
		.size = sizeof(op), .src = siov, .src_cnt = 3, .dst = diov, .dst_cnt = 2,
		.iv = iv, .iv_len = 16,
	};
	struct atx_session *s;

	NEED_MB();
	rnd(key, 16);
	rnd(iv, 16);
	rnd(src, sizeof(src));
	s = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, key, 16, 0);
	ref_cipher(aes_cipher("CBC", 16), true, key, iv, src, 4096, ref);
	assert_int_equal(run_one(atx_crypto(ctx, s, &op, NULL)), 0);
	assert_memory_equal(a, ref, 2048 + 16);
	assert_memory_equal(b, ref + 2048 + 16, 2048 - 16);
	atx_session_free(s);

	/* GCM with three source segments, flat destination. */
	s = sess(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_ENCRYPT, key, 16, 0);
	ref_aead(ATX_AEAD_AES_GCM, key, 16, iv, 12, NULL, 0, src, 4096, ref, rtag, 16);
	diov[0] = (struct iovec){ a, 4096 };
	op.dst_cnt = 1;
	op.iv_len = 12;
	op.digest = tag;
	assert_int_equal(run_one(atx_crypto(ctx, s, &op, NULL)), 0);
	assert_memory_equal(a, ref, 4096);
	assert_memory_equal(tag, rtag, 16);
	atx_session_free(s);
}

/* ---- batches: many descriptors issued together ---- */

struct rec {
	int status;
	int calls;
};

static void rec_cb(struct atx_tx *tx, int status, void *arg)
{
	struct rec *r = arg;

	r->status = status;
	r->calls++;
}

static void test_batches(void **state)
{
	/*
	 * 63/64/65, 129: around the engine's burst size (64 jobs per burst
	 * call); 1000: more than the manager's job ring (IMB_MAX_JOBS).
	 */
	static const unsigned sizes[] = { 1, 2, 7, 8, 16, 63, 64, 65, 129, 256, 1000 };
	enum { BLK = 4096, MAXN = 1000 };
	uint8_t *src, *dst;
	static uint8_t iv[MAXN][16];
	static struct rec rec[MAXN];
	uint8_t ref[BLK], key[16];
	struct atx_session *s;
	unsigned z, i;

	NEED_MB();
	src = malloc((size_t)MAXN * BLK);
	dst = malloc((size_t)MAXN * BLK);
	assert_non_null(src);
	assert_non_null(dst);
	rnd(key, 16);
	s = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, key, 16, 0);
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		unsigned n = sizes[z];

		rnd(src, (size_t)n * BLK);
		memset(rec, 0, sizeof(rec));
		for (i = 0; i < n; i++) {
			struct atx_submit sub = { .flags = ATX_F_ACK, .cb = rec_cb, .cb_arg = &rec[i] };

			rnd(iv[i], 16);
			if (!atx_cipher(ctx, s, dst + (size_t)i * BLK, src + (size_t)i * BLK, BLK,
					iv[i], &sub))
				fail_msg("batch %u: submit %u: %s", n, i, strerror(errno));
		}
		assert_true(atx_issue_pending(ctx) >= 0);
		assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
		for (i = 0; i < n; i++) {
			assert_int_equal(rec[i].calls, 1);
			assert_int_equal(rec[i].status, 0);
			ref_cipher(aes_cipher("CBC", 16), true, key, iv[i], src + (size_t)i * BLK, BLK,
				   ref);
			if (memcmp(dst + (size_t)i * BLK, ref, BLK))
				fail_msg("batch %u: descriptor %u differs", n, i);
		}
	}
	atx_session_free(s);
	free(src);
	free(dst);
}

/*
 * Bursts leave each session's job template in the lane's burst slots and
 * the next burst of the same session only fills in what a request brings.
 * A session freed and replaced by one of another mode, key size, direction
 * or hash - allocated where the old one was, as malloc does with equal
 * sizes - must not run on the old one's template: every round is checked
 * against OpenSSL.
 */
static void test_session_reuse(void **state)
{
	enum { N = 64, BLK = 2048 };
	static const struct {
		enum atx_service svc;
		int alg;
		enum atx_dir dir;
		size_t key_len;
		const char *mode;       /* cipher rounds */
	} round[] = {
		{ ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, 16, "CBC" },
		{ ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, 32, "CBC" },
		{ ATX_SVC_CIPHER, ATX_CIPHER_AES_CTR, ATX_ENCRYPT, 16, "CTR" },
		{ ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_DECRYPT, 16, "CBC" },
		{ ATX_SVC_MAC, ATX_MAC_HMAC_SHA256, ATX_ENCRYPT, 32, NULL },
		{ ATX_SVC_MAC, ATX_MAC_HMAC_SHA1, ATX_ENCRYPT, 20, NULL },
		{ ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, 16, "CBC" },
		{ ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, 16, "CBC" },
	};
	static uint8_t src[N][BLK], dst[N][BLK], ref[BLK], mac[N][64], rmac[64];
	uint8_t key[32], iv[N][16];
	struct rec rec[N];
	unsigned r, i;

	NEED_MB();
	for (r = 0; r < sizeof(round) / sizeof(round[0]); r++) {
		bool cipher = round[r].svc == ATX_SVC_CIPHER;
		struct atx_session *s;

		rnd(key, sizeof(key));
		s = sess(round[r].svc, round[r].alg, round[r].dir, key, round[r].key_len,
			 cipher ? 0 : mac_full(round[r].alg));
		memset(rec, 0, sizeof(rec));
		for (i = 0; i < N; i++) {
			struct atx_submit sub = { .flags = ATX_F_ACK, .cb = rec_cb, .cb_arg = &rec[i] };
			struct atx_tx *tx;

			rnd(src[i], BLK);
			rnd(iv[i], 16);
			if (round[r].alg == ATX_CIPHER_AES_CTR)
				iv[i][12] = 0; /* no wrap of the low counter word (mb.c) */
			if (cipher)
				tx = atx_cipher(ctx, s, dst[i], src[i], BLK, iv[i], &sub);
			else
				tx = atx_digest(ctx, s, mac[i], src[i], BLK, &sub);
			assert_non_null(tx);
		}
		assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
		for (i = 0; i < N; i++) {
			assert_int_equal(rec[i].calls, 1);
			assert_int_equal(rec[i].status, 0);
			if (cipher) {
				ref_cipher(aes_cipher(round[r].mode, round[r].key_len),
					   round[r].dir == ATX_ENCRYPT, key, iv[i], src[i], BLK, ref);
				if (memcmp(dst[i], ref, BLK))
					fail_msg("round %u: request %u differs from OpenSSL", r, i);
			} else {
				ref_mac2(round[r].alg, key, round[r].key_len, NULL, 0, src[i], BLK,
					 rmac);
				if (memcmp(mac[i], rmac, mac_full(round[r].alg)))
					fail_msg("round %u: MAC %u differs from OpenSSL", r, i);
			}
		}
		atx_session_free(s);
	}
}

static void test_mixed_batch(void **state)
{
	enum { N = 48, BLK = 1024 };
	static uint8_t src[N][BLK], dst[N][BLK], ref[BLK], tag[N][64], rtag[64];
	uint8_t kc[16], kg[32], kh[32], iv[N][16];
	struct atx_session *cbc, *gcm, *hmac;
	struct rec rec[N];
	unsigned i;

	NEED_MB();
	rnd(kc, 16);
	rnd(kg, 32);
	rnd(kh, 32);
	cbc = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, kc, 16, 0);
	gcm = sess(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_ENCRYPT, kg, 32, 0);
	hmac = sess(ATX_SVC_MAC, ATX_MAC_HMAC_SHA256, ATX_ENCRYPT, kh, 32, 0);
	memset(rec, 0, sizeof(rec));
	for (i = 0; i < N; i++) {
		struct atx_submit sub = { .flags = ATX_F_ACK, .cb = rec_cb, .cb_arg = &rec[i] };
		struct atx_tx *tx;

		rnd(src[i], BLK);
		rnd(iv[i], 16);
		switch (i % 3) {
		case 0:
			tx = atx_cipher(ctx, cbc, dst[i], src[i], BLK, iv[i], &sub);
			break;
		case 1:
			tx = atx_aead(ctx, gcm, dst[i], src[i], BLK, iv[i], 12, NULL, 0, tag[i], &sub);
			break;
		default:
			tx = atx_digest(ctx, hmac, tag[i], src[i], BLK, &sub);
			break;
		}
		assert_non_null(tx);
	}
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
	for (i = 0; i < N; i++) {
		assert_int_equal(rec[i].calls, 1);
		assert_int_equal(rec[i].status, 0);
		switch (i % 3) {
		case 0:
			ref_cipher(aes_cipher("CBC", 16), true, kc, iv[i], src[i], BLK, ref);
			assert_memory_equal(dst[i], ref, BLK);
			break;
		case 1:
			ref_aead(ATX_AEAD_AES_GCM, kg, 32, iv[i], 12, NULL, 0, src[i], BLK, ref, rtag, 16);
			assert_memory_equal(dst[i], ref, BLK);
			assert_memory_equal(tag[i], rtag, 16);
			break;
		default:
			ref_mac2(ATX_MAC_HMAC_SHA256, kh, 32, NULL, 0, src[i], BLK, rtag);
			assert_memory_equal(tag[i], rtag, 32);
			break;
		}
	}
	atx_session_free(cbc);
	atx_session_free(gcm);
	atx_session_free(hmac);
}

/*
 * One batch over many sessions: more burst classes than a lane gathers
 * at once (cipher bursts of two key sizes and both directions, CTR, three
 * HMACs, one of them verifying), two keys sharing one burst class, in-place
 * requests, and requests that leave the burst path for the job path
 * (scatter-gather, a CTR counter that wraps) or for OpenSSL (a CBC
 * payload over the library's 65534 bytes) in the middle of it.
 */
enum mix_kind {
	MIX_CBC128_A, MIX_CBC128_B, MIX_CBC256, MIX_CBC128_DEC, MIX_CTR192, MIX_HMAC256,
	MIX_HMAC1_TRUNC, MIX_HMAC512_VERIFY, MIX_CBC128_SG, MIX_CTR_WRAP, MIX_CBC128_INPLACE,
	MIX__COUNT
};

static void test_burst_mix(void **state)
{
	enum { N = 3 * 64 + 17, BIG = 70000 };
	static uint8_t iv[N][16], tag[N][64], rtag[64];
	static struct rec rec[N];
	static size_t len[N];
	static uint8_t *src[N], *dst[N];
	static struct iovec sg[N][2];
	uint8_t k16a[16], k16b[16], k24[24], k32[32], kh[40], *ref;
	struct atx_session *ss[MIX__COUNT];
	unsigned i;

	NEED_MB();
	rnd(k16a, 16);
	rnd(k16b, 16);
	rnd(k24, 24);
	rnd(k32, 32);
	rnd(kh, sizeof(kh));
	ss[MIX_CBC128_A] = ss[MIX_CBC128_SG] = ss[MIX_CBC128_INPLACE] =
		sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, k16a, 16, 0);
	ss[MIX_CBC128_B] = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, k16b, 16, 0);
	ss[MIX_CBC256] = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, k32, 32, 0);
	ss[MIX_CBC128_DEC] = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_DECRYPT, k16b, 16, 0);
	ss[MIX_CTR192] = ss[MIX_CTR_WRAP] =
		sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CTR, ATX_ENCRYPT, k24, 24, 0);
	ss[MIX_HMAC256] = sess(ATX_SVC_MAC, ATX_MAC_HMAC_SHA256, ATX_ENCRYPT, kh, 32, 0);
	ss[MIX_HMAC1_TRUNC] = sess(ATX_SVC_MAC, ATX_MAC_HMAC_SHA1, ATX_ENCRYPT, kh, 40, 12);
	ss[MIX_HMAC512_VERIFY] = sess(ATX_SVC_MAC, ATX_MAC_HMAC_SHA512, ATX_DECRYPT, kh, 20, 0);
	ref = malloc(BIG);
	assert_non_null(ref);

	memset(rec, 0, sizeof(rec));
	for (i = 0; i < N; i++) {
		struct atx_submit sub = { .flags = ATX_F_ACK, .cb = rec_cb, .cb_arg = &rec[i] };
		enum mix_kind k = i % MIX__COUNT;
		uint32_t r;
		struct atx_tx *tx;

		rnd(&r, sizeof(r));
		rnd(iv[i], 16);
		/* Whole blocks for CBC, any length for CTR and HMAC; one CBC too long for a job. */
		len[i] = k == MIX_CTR192 || k == MIX_CTR_WRAP || k == MIX_HMAC256 ||
			 k == MIX_HMAC1_TRUNC || k == MIX_HMAC512_VERIFY ?
			 1 + r % 4096 : 16 * (1 + r % 256);
		if (k == MIX_CBC128_SG)
			len[i] = 4096;
		if (i == 5 * MIX__COUNT + MIX_CBC256)
			len[i] = BIG - BIG % 16;
		if (k == MIX_CTR_WRAP)
			memset(iv[i] + 12, 0xff, 4);    /* the low counter word wraps at once */
		src[i] = malloc(len[i]);
		dst[i] = malloc(len[i]);
		assert_non_null(src[i]);
		assert_non_null(dst[i]);
		rnd(src[i], len[i]);
		switch (k) {
		case MIX_HMAC256:
		case MIX_HMAC1_TRUNC:
			tx = atx_digest(ctx, ss[k], tag[i], src[i], len[i], &sub);
			break;
		case MIX_HMAC512_VERIFY:
			/* The expected MAC; every other one is wrong. */
			ref_mac2(ATX_MAC_HMAC_SHA512, kh, 20, NULL, 0, src[i], len[i], tag[i]);
			if (i / MIX__COUNT % 2)
				tag[i][i % 64] ^= 0x10;
			tx = atx_digest(ctx, ss[k], tag[i], src[i], len[i], &sub);
			break;
		case MIX_CBC128_SG: {
			struct atx_crypto_op op = {
				.size = sizeof(op), .src = sg[i], .src_cnt = 2, .iv = iv[i], .iv_len = 16,
			};

			/* In place over two segments: the job path's gather. */
			memcpy(dst[i], src[i], len[i]);
			sg[i][0] = (struct iovec){ dst[i], 1000 };
			sg[i][1] = (struct iovec){ dst[i] + 1000, len[i] - 1000 };
			tx = atx_crypto(ctx, ss[k], &op, &sub);
			break;
		}
		case MIX_CBC128_INPLACE:
			memcpy(dst[i], src[i], len[i]);
			tx = atx_cipher(ctx, ss[k], dst[i], dst[i], len[i], iv[i], &sub);
			break;
		default:
			tx = atx_cipher(ctx, ss[k], dst[i], src[i], len[i], iv[i], &sub);
			break;
		}
		if (!tx)
			fail_msg("request %u (kind %d): %s", i, k, strerror(errno));
	}
	assert_true(atx_issue_pending(ctx) >= 0);
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);

	for (i = 0; i < N; i++) {
		enum mix_kind k = i % MIX__COUNT;
		int want = k == MIX_HMAC512_VERIFY && i / MIX__COUNT % 2 ? -EBADMSG : 0;

		if (rec[i].calls != 1 || rec[i].status != want)
			fail_msg("request %u (kind %d, %zu bytes): %d calls, status %d, expected %d",
				 i, k, len[i], rec[i].calls, rec[i].status, want);
		switch (k) {
		case MIX_CBC128_A:
		case MIX_CBC128_SG:
		case MIX_CBC128_INPLACE:
			ref_cipher(aes_cipher("CBC", 16), true, k16a, iv[i], src[i], len[i], ref);
			break;
		case MIX_CBC128_B:
			ref_cipher(aes_cipher("CBC", 16), true, k16b, iv[i], src[i], len[i], ref);
			break;
		case MIX_CBC256:
			ref_cipher(aes_cipher("CBC", 32), true, k32, iv[i], src[i], len[i], ref);
			break;
		case MIX_CBC128_DEC:
			ref_cipher(aes_cipher("CBC", 16), false, k16b, iv[i], src[i], len[i], ref);
			break;
		case MIX_CTR192:
		case MIX_CTR_WRAP:
			ref_cipher(aes_cipher("CTR", 24), true, k24, iv[i], src[i], len[i], ref);
			break;
		case MIX_HMAC256:
			ref_mac2(ATX_MAC_HMAC_SHA256, kh, 32, NULL, 0, src[i], len[i], rtag);
			if (memcmp(tag[i], rtag, 32))
				fail_msg("request %u: HMAC-SHA256 differs", i);
			continue;
		case MIX_HMAC1_TRUNC:
			ref_mac2(ATX_MAC_HMAC_SHA1, kh, 40, NULL, 0, src[i], len[i], rtag);
			if (memcmp(tag[i], rtag, 12))
				fail_msg("request %u: truncated HMAC-SHA1 differs", i);
			continue;
		default:
			continue;
		}
		if (memcmp(dst[i], ref, len[i]))
			fail_msg("request %u (kind %d, %zu bytes): output differs from OpenSSL", i, k,
				 len[i]);
	}
	for (i = 0; i < N; i++) {
		free(src[i]);
		free(dst[i]);
	}
	free(ref);
	for (i = 0; i < MIX__COUNT; i++)
		if (i != MIX_CBC128_SG && i != MIX_CBC128_INPLACE && i != MIX_CTR_WRAP)
			atx_session_free(ss[i]);
}

/*
 * AES-GCM encryption takes the library's one-call GCM functions for flat
 * requests with 96-bit IVs and the job API otherwise: one batch mixing
 * both, three key sizes, four tag lengths, in place or not, against
 * OpenSSL, then decrypted back (decryption always takes the job path).
 */
static void test_gcm_paths(void **state)
{
	enum { N = 48, MAXL = 3000 };
	static const size_t keyl[] = { 16, 24, 32 }, tagl[] = { 16, 4, 8, 13 };
	static const size_t ivl[] = { 12, 12, 16, 8 };
	static uint8_t src[N][MAXL], out[N][MAXL], back[N][MAXL], ref[MAXL], aad[N][100];
	static uint8_t iv[N][16], tag[N][16], rtag[16];
	static struct rec rec[N];
	static size_t len[N], al[N];
	uint8_t key[3][32];
	struct atx_session *e[3][4], *d[3][4];
	unsigned i, k, t;

	NEED_MB();
	for (k = 0; k < 3; k++) {
		rnd(key[k], keyl[k]);
		for (t = 0; t < 4; t++) {
			size_t dl = tagl[t] == 16 ? 0 : tagl[t];

			e[k][t] = sess(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_ENCRYPT, key[k], keyl[k], dl);
			d[k][t] = sess(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_DECRYPT, key[k], keyl[k], dl);
		}
	}
	memset(rec, 0, sizeof(rec));
	for (i = 0; i < N; i++) {
		struct atx_submit sub = { .flags = ATX_F_ACK, .cb = rec_cb, .cb_arg = &rec[i] };
		uint16_t r[2];
		bool in_place = i % 5 == 1;

		k = i % 3, t = i / 3 % 4;
		rnd(r, sizeof(r));
		len[i] = 1 + r[0] % MAXL;
		al[i] = r[1] % 101;
		rnd(src[i], len[i]);
		rnd(aad[i], al[i]);
		rnd(iv[i], 16);
		if (in_place)
			memcpy(out[i], src[i], len[i]);
		if (!atx_aead(ctx, e[k][t], out[i], in_place ? out[i] : src[i], len[i], iv[i],
			      ivl[i % 4], al[i] ? aad[i] : NULL, al[i], tag[i], &sub))
			fail_msg("request %u: %s", i, strerror(errno));
	}
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
	for (i = 0; i < N; i++) {
		k = i % 3, t = i / 3 % 4;
		assert_int_equal(rec[i].calls, 1);
		assert_int_equal(rec[i].status, 0);
		ref_aead(ATX_AEAD_AES_GCM, key[k], keyl[k], iv[i], ivl[i % 4], aad[i], al[i], src[i],
			 len[i], ref, rtag, tagl[t]);
		if (memcmp(out[i], ref, len[i]) || memcmp(tag[i], rtag, tagl[t]))
			fail_msg("request %u (key %zu, tag %zu, iv %zu, %zu bytes, aad %zu) differs",
				 i, keyl[k], tagl[t], ivl[i % 4], len[i], al[i]);
	}
	memset(rec, 0, sizeof(rec));
	for (i = 0; i < N; i++) {
		struct atx_submit sub = { .flags = ATX_F_ACK, .cb = rec_cb, .cb_arg = &rec[i] };

		k = i % 3, t = i / 3 % 4;
		assert_non_null(atx_aead(ctx, d[k][t], back[i], out[i], len[i], iv[i], ivl[i % 4],
					 al[i] ? aad[i] : NULL, al[i], tag[i], &sub));
	}
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
	for (i = 0; i < N; i++) {
		assert_int_equal(rec[i].status, 0);
		assert_memory_equal(back[i], src[i], len[i]);
	}
	for (k = 0; k < 3; k++)
		for (t = 0; t < 4; t++) {
			atx_session_free(e[k][t]);
			atx_session_free(d[k][t]);
		}
}

/* ---- verification failures leave dst untouched ---- */

static void test_bad_tag(void **state)
{
	static uint8_t src[1000], ct[1000], dst[1000], pat[1000];
	uint8_t key[32], akey[32], iv[16], aad[16], tag[64];
	static const enum atx_aead_alg aeads[] = {
		ATX_AEAD_AES_GCM, ATX_AEAD_AES_CCM, ATX_AEAD_CHACHA20_POLY1305,
	};
	unsigned a;

	NEED_MB();
	rnd(key, 32);
	rnd(akey, 32);
	rnd(iv, 16);
	rnd(aad, 16);
	rnd(src, sizeof(src));
	memset(pat, 0xa5, sizeof(pat));
	for (a = 0; a < 3; a++) {
		struct atx_session *e = sess(ATX_SVC_AEAD, aeads[a], ATX_ENCRYPT, key, 32, 0);
		struct atx_session *d = sess(ATX_SVC_AEAD, aeads[a], ATX_DECRYPT, key, 32, 0);

		assert_int_equal(run_one(atx_aead(ctx, e, ct, src, sizeof(src), iv, 12, aad, 16, tag,
						  NULL)), 0);
		tag[3] ^= 0x40;
		memcpy(dst, pat, sizeof(dst));
		assert_int_equal(run_one(atx_aead(ctx, d, dst, ct, sizeof(ct), iv, 12, aad, 16, tag,
						  NULL)), -EBADMSG);
		assert_memory_equal(dst, pat, sizeof(dst));
		/* A changed AAD byte fails too. */
		tag[3] ^= 0x40;
		aad[0] ^= 1;
		assert_int_equal(run_one(atx_aead(ctx, d, dst, ct, sizeof(ct), iv, 12, aad, 16, tag,
						  NULL)), -EBADMSG);
		assert_memory_equal(dst, pat, sizeof(dst));
		aad[0] ^= 1;
		/* In place: the ciphertext stays as it was. */
		memcpy(dst, ct, sizeof(ct));
		ct[7] ^= 2;
		memcpy(dst, ct, sizeof(ct));
		assert_int_equal(run_one(atx_aead(ctx, d, dst, dst, sizeof(ct), iv, 12, aad, 16, tag,
						  NULL)), -EBADMSG);
		assert_memory_equal(dst, ct, sizeof(ct));
		ct[7] ^= 2;
		atx_session_free(e);
		atx_session_free(d);
	}

	/* Verify-then-decrypt chain. */
	{
		struct atx_session *e = chain_sess(ATX_CIPHER_AES_CBC, ATX_MAC_HMAC_SHA256,
						   ATX_ENCRYPT, key, 16, akey, 32, 0);
		struct atx_session *d = chain_sess(ATX_CIPHER_AES_CBC, ATX_MAC_HMAC_SHA256,
						   ATX_DECRYPT, key, 16, akey, 32, 0);

		assert_int_equal(run_one(atx_aead(ctx, e, ct, src, 992, iv, 16, NULL, 0, tag, NULL)),
				 0);
		tag[31] ^= 0x80;
		memcpy(dst, pat, sizeof(dst));
		assert_int_equal(run_one(atx_aead(ctx, d, dst, ct, 992, iv, 16, NULL, 0, tag, NULL)),
				 -EBADMSG);
		assert_memory_equal(dst, pat, sizeof(dst));
		tag[31] ^= 0x80;
		assert_int_equal(run_one(atx_aead(ctx, d, dst, ct, 992, iv, 16, NULL, 0, tag, NULL)),
				 0);
		assert_memory_equal(dst, src, 992);
		atx_session_free(e);
		atx_session_free(d);
	}
}

/* ---- dependency chains on one in-order lane ---- */

static void test_chain_on_lane(void **state)
{
	static uint8_t src[4096], a[4096], b[4096], c[4096];
	uint8_t key[16], iv[16], badtag[16];
	struct atx_session *e, *d, *gd;
	struct atx_tx *t1, *t2, *t3, *g;
	struct rec r3 = { 0 };

	NEED_MB();
	rnd(key, 16);
	rnd(iv, 16);
	rnd(src, sizeof(src));
	e = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, key, 16, 0);
	d = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_DECRYPT, key, 16, 0);
	/* encrypt -> decrypt -> encrypt again, each reading its parent's output. */
	t1 = atx_cipher(ctx, e, a, src, 4096, iv, NULL);
	assert_non_null(t1);
	t2 = atx_cipher(ctx, d, b, a, 4096, iv, &(struct atx_submit){ .depend_tx = t1 });
	assert_non_null(t2);
	t3 = atx_cipher(ctx, e, c, b, 4096, iv, &(struct atx_submit){ .depend_tx = t2 });
	assert_non_null(t3);
	assert_int_equal(atx_wait(t3), 0);
	assert_memory_equal(b, src, 4096);
	assert_memory_equal(c, a, 4096);
	atx_tx_ack(t3);

	/* A failing parent (bad GCM tag) cancels its dependent. */
	gd = sess(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_DECRYPT, key, 16, 0);
	memset(badtag, 0, sizeof(badtag));
	g = atx_aead(ctx, gd, b, a, 4096, iv, 12, NULL, 0, badtag, NULL);
	assert_non_null(g);
	t3 = atx_cipher(ctx, e, c, b, 4096, iv,
			&(struct atx_submit){ .depend_tx = g, .flags = ATX_F_ACK, .cb = rec_cb,
					      .cb_arg = &r3 });
	assert_non_null(t3);
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
	assert_int_equal(r3.calls, 1);
	assert_int_equal(r3.status, -ECANCELED);
	atx_session_free(e);
	atx_session_free(d);
	atx_session_free(gd);
}

/* ---- big buffers ---- */

static void test_big(void **state)
{
	/* The library's lane-based modes stop at 65534 bytes; atx does not. */
	static const size_t sizes[] = { 65534, 65535, 65536, 65552, 1 << 20 };
	static const enum atx_mac_alg hm[] = { ATX_MAC_HMAC_SHA1, ATX_MAC_HMAC_SHA256,
					       ATX_MAC_HMAC_SHA512, ATX_MAC_AES_CMAC };
	enum { MAX = (1 << 20) + 64 };
	uint8_t *src, *out, *ref, *back;
	uint8_t key[32], iv[16], tag[64], rtag[64];
	unsigned z, k;
	int ret;

	NEED_MB();
	src = malloc(MAX);
	out = malloc(MAX);
	ref = malloc(MAX);
	back = malloc(MAX);
	assert_true(src && out && ref && back);
	rnd(src, MAX);
	rnd(key, 32);
	rnd(iv, 16);
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		size_t len = sizes[z];

		for (k = 0; k < 2; k++) {
			enum atx_cipher_alg c = k ? ATX_CIPHER_AES_CTR : ATX_CIPHER_AES_CBC;
			struct atx_session *e = sess(ATX_SVC_CIPHER, c, ATX_ENCRYPT, key, 16, 0);

			if (c == ATX_CIPHER_AES_CBC && len % 16)
				len -= len % 16;
			ref_cipher(aes_cipher(k ? "CTR" : "CBC", 16), true, key, iv, src, len, ref);
			ret = run_one(atx_cipher(ctx, e, out, src, len, iv, NULL));
			if (ret || memcmp(out, ref, len))
				fail_msg("cipher %d len %zu: status %d or bytes differ", c, len, ret);
			atx_session_free(e);
		}
		for (k = 0; k < 4; k++) {
			struct atx_session *e = sess(ATX_SVC_MAC, hm[k], ATX_ENCRYPT, key,
						     hm[k] == ATX_MAC_AES_CMAC ? 16 : 32, 0);

			ref_mac2(hm[k], key, hm[k] == ATX_MAC_AES_CMAC ? 16 : 32, NULL, 0, src, len,
				 rtag);
			ret = run_one(atx_digest(ctx, e, tag, src, len, NULL));
			if (ret || memcmp(tag, rtag, mac_full(hm[k])))
				fail_msg("mac %d len %zu: status %d or bytes differ", hm[k], len, ret);
			atx_session_free(e);
		}
		for (k = 0; k < 3; k++) {
			static const enum atx_aead_alg aa[] = { ATX_AEAD_AES_GCM, ATX_AEAD_AES_CCM,
								ATX_AEAD_CHACHA20_POLY1305 };
			struct atx_session *e = sess(ATX_SVC_AEAD, aa[k], ATX_ENCRYPT, key, 32, 0);
			struct atx_session *d = sess(ATX_SVC_AEAD, aa[k], ATX_DECRYPT, key, 32, 0);
			size_t ivl = aa[k] == ATX_AEAD_AES_CCM ? 11 : 12;

			ref_aead(aa[k], key, 32, iv, ivl, iv, 16, src, len, ref, rtag, 16);
			ret = run_one(atx_aead(ctx, e, out, src, len, iv, ivl, iv, 16, tag, NULL));
			if (ret || memcmp(out, ref, len) || memcmp(tag, rtag, 16))
				fail_msg("aead %d len %zu: status %d or bytes differ", aa[k], len, ret);
			ret = run_one(atx_aead(ctx, d, back, out, len, iv, ivl, iv, 16, tag, NULL));
			if (ret || memcmp(back, src, len))
				fail_msg("aead %d decrypt len %zu: status %d or bytes differ", aa[k], len,
					 ret);
			atx_session_free(e);
			atx_session_free(d);
		}
		{
			struct atx_session *e = chain_sess(ATX_CIPHER_AES_CBC, ATX_MAC_HMAC_SHA256,
							   ATX_ENCRYPT, key, 16, key, 32, 0);
			size_t l16 = len - len % 16;

			ref_cipher(aes_cipher("CBC", 16), true, key, iv, src, l16, ref);
			ref_mac2(ATX_MAC_HMAC_SHA256, key, 32, NULL, 0, ref, l16, rtag);
			ret = run_one(atx_aead(ctx, e, out, src, l16, iv, 16, NULL, 0, tag, NULL));
			if (ret || memcmp(out, ref, l16) || memcmp(tag, rtag, 32))
				fail_msg("chain len %zu: status %d or bytes differ", l16, ret);
			atx_session_free(e);
		}
	}
	free(src);
	free(out);
	free(ref);
	free(back);
}

/*
 * CBC encryptions longer than one job (65534 bytes) issued together run
 * segment by segment in lanes (mb.c, struct mb_long).  Batches of 2 to
 * more than a burst, lengths that end mid-segment or on its edge, in
 * place and not, two key sizes (two burst classes, so the gathered ones
 * run when the class changes), short requests between them, a long CBC
 * decryption (OpenSSL) and a long one with a partial block (refused as
 * any CBC request is): every byte against OpenSSL.  Run on the test
 * context (ATX_MB_LONE=0: even one alone goes to the lanes) and on one
 * with the default, where a long one alone goes to OpenSSL.
 */
static void long_cbc_batch(unsigned n)
{
	enum { SEG = 65520 };
	static const size_t sizes[] = { 65536, SEG + 16, 2 * SEG, 2 * SEG + 4096, 200000,
				       1 << 20, 4096, 65534 - 14 };
	uint8_t k16[16], k32[32], *ref;
	struct atx_session *e16, *e32, *d16;
	struct rec *rec = calloc(n, sizeof(*rec));
	uint8_t **src = calloc(n, sizeof(*src)), **dst = calloc(n, sizeof(*dst));
	uint8_t (*iv)[16] = calloc(n, 16);
	size_t *len = calloc(n, sizeof(*len));
	unsigned i;

	assert_true(rec && src && dst && iv && len);
	rnd(k16, 16);
	rnd(k32, 32);
	e16 = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, k16, 16, 0);
	e32 = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, k32, 32, 0);
	d16 = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_DECRYPT, k16, 16, 0);
	ref = malloc(1 << 20);
	assert_non_null(ref);
	for (i = 0; i < n; i++) {
		struct atx_submit sub = { .flags = ATX_F_ACK, .cb = rec_cb, .cb_arg = &rec[i] };
		struct atx_session *s = i % 5 == 3 ? e32 : i % 11 == 7 ? d16 : e16;
		struct atx_tx *tx;

		len[i] = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
		if (i == n - 1 && n > 2)
			len[i] = 70000;         /* not whole blocks */
		rnd(iv[i], 16);
		src[i] = malloc(len[i]);
		dst[i] = malloc(len[i]);
		assert_true(src[i] && dst[i]);
		rnd(src[i], len[i]);
		if (i % 4 == 1) {
			memcpy(dst[i], src[i], len[i]);
			tx = atx_cipher(ctx, s, dst[i], dst[i], len[i], iv[i], &sub);
		} else {
			tx = atx_cipher(ctx, s, dst[i], src[i], len[i], iv[i], &sub);
		}
		if (!tx) {
			/* The core refuses a CBC length that is not whole blocks up front. */
			assert_true(len[i] % 16 && errno == EINVAL);
			rec[i].calls = 1;
			rec[i].status = -EINVAL;
		}
	}
	assert_true(atx_issue_pending(ctx) >= 0);
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
	for (i = 0; i < n; i++) {
		bool k32_ = i % 5 == 3, dec = !k32_ && i % 11 == 7;

		if (len[i] % 16) {
			assert_int_equal(rec[i].status, -EINVAL);
			continue;
		}
		if (rec[i].calls != 1 || rec[i].status)
			fail_msg("batch %u, request %u (%zu bytes): %d calls, status %d", n, i, len[i],
				 rec[i].calls, rec[i].status);
		ref_cipher(aes_cipher("CBC", k32_ ? 32 : 16), !dec, k32_ ? k32 : k16, iv[i], src[i],
			   len[i], ref);
		if (memcmp(dst[i], ref, len[i]))
			fail_msg("batch %u, request %u (%zu bytes%s%s): bytes differ", n, i, len[i],
				 i % 4 == 1 ? ", in place" : "", dec ? ", decrypt" : "");
	}
	for (i = 0; i < n; i++) {
		free(src[i]);
		free(dst[i]);
	}
	free(ref);
	free(rec);
	free(src);
	free(dst);
	free(iv);
	free(len);
	atx_session_free(e16);
	atx_session_free(e32);
	atx_session_free(d16);
}

static void test_long_cbc(void **state)
{
	static const unsigned batches[] = { 1, 2, 3, 16, 64, 65, 131 };
	struct atx_ctx_opts o = { .size = sizeof(o), .engines = "mb" };
	struct atx_ctx *saved = ctx;
	unsigned i;

	NEED_MB();
	for (i = 0; i < sizeof(batches) / sizeof(batches[0]); i++)
		long_cbc_batch(batches[i]);
	/* The default: one long request alone goes to OpenSSL, two or more to the lanes. */
	ctx = atx_ctx_new(&o);
	assert_non_null(ctx);
	for (i = 0; i < 3; i++)
		long_cbc_batch(batches[i]);
	atx_ctx_free(ctx);
	ctx = saved;
}

/* ---- small batches through the single-buffer fallback ---- */

static void test_lone(void **state)
{
	static uint8_t src[4096], out[4096], ref[4096], pat[4096];
	struct atx_ctx_opts o = { .size = sizeof(o), .engines = "mb" };
	uint8_t key[32], iv[16], tag[64], rtag[64];
	struct atx_ctx *saved = ctx;
	struct atx_session *e, *d;

	NEED_MB();
	ctx = atx_ctx_new(&o);
	assert_non_null(ctx);
	rnd(key, 32);
	rnd(iv, 16);
	rnd(src, sizeof(src));
	memset(pat, 0x77, sizeof(pat));

	e = sess(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, key, 16, 0);
	ref_cipher(aes_cipher("CBC", 16), true, key, iv, src, 4096, ref);
	assert_int_equal(run_one(atx_cipher(ctx, e, out, src, 4096, iv, NULL)), 0);
	assert_memory_equal(out, ref, 4096);
	atx_session_free(e);

	e = sess(ATX_SVC_MAC, ATX_MAC_HMAC_SHA256, ATX_ENCRYPT, key, 32, 16);
	d = sess(ATX_SVC_MAC, ATX_MAC_HMAC_SHA256, ATX_DECRYPT, key, 32, 16);
	ref_mac2(ATX_MAC_HMAC_SHA256, key, 32, NULL, 0, src, 4096, rtag);
	assert_int_equal(run_one(atx_digest(ctx, e, tag, src, 4096, NULL)), 0);
	assert_memory_equal(tag, rtag, 16);
	assert_int_equal(run_one(atx_digest(ctx, d, rtag, src, 4096, NULL)), 0);
	rtag[15] ^= 1;
	assert_int_equal(run_one(atx_digest(ctx, d, rtag, src, 4096, NULL)), -EBADMSG);
	atx_session_free(e);
	atx_session_free(d);

	e = sess(ATX_SVC_AEAD, ATX_AEAD_AES_CCM, ATX_ENCRYPT, key, 16, 0);
	d = sess(ATX_SVC_AEAD, ATX_AEAD_AES_CCM, ATX_DECRYPT, key, 16, 0);
	ref_aead(ATX_AEAD_AES_CCM, key, 16, iv, 12, NULL, 0, src, 4096, ref, rtag, 16);
	assert_int_equal(run_one(atx_aead(ctx, e, out, src, 4096, iv, 12, NULL, 0, tag, NULL)), 0);
	assert_memory_equal(out, ref, 4096);
	assert_memory_equal(tag, rtag, 16);
	tag[0] ^= 1;
	memcpy(out, pat, sizeof(out));
	assert_int_equal(run_one(atx_aead(ctx, d, out, ref, 4096, iv, 12, NULL, 0, tag, NULL)),
			 -EBADMSG);
	assert_memory_equal(out, pat, sizeof(out));
	atx_session_free(e);
	atx_session_free(d);

	atx_ctx_free(ctx);
	ctx = saved;
}

/* A fresh context whose first request is an empty AEAD decrypt (nothing in the bounce yet). */
static void test_empty_first(void **state)
{
	static const enum atx_aead_alg aa[] = { ATX_AEAD_AES_GCM, ATX_AEAD_AES_CCM,
						ATX_AEAD_CHACHA20_POLY1305 };
	struct atx_ctx_opts o = { .size = sizeof(o), .engines = "mb" };
	uint8_t key[32], iv[12], aad[20], tag[16], rtag[16], ct[1], pt[1] = { 0x42 };
	struct atx_ctx *saved = ctx;
	unsigned k;

	NEED_MB();
	rnd(key, 32);
	rnd(iv, 12);
	rnd(aad, 20);
	for (k = 0; k < 3; k++) {
		struct atx_session *d;

		setenv("ATX_MB_LONE", "0", 1);
		ctx = atx_ctx_new(&o);
		unsetenv("ATX_MB_LONE");
		assert_non_null(ctx);
		d = sess(ATX_SVC_AEAD, aa[k], ATX_DECRYPT, key, 32, 0);
		ref_aead(aa[k], key, 32, iv, 12, aad, 20, pt, 0, ct, rtag, 16);
		memcpy(tag, rtag, 16);
		assert_int_equal(run_one(atx_aead(ctx, d, pt, ct, 0, iv, 12, aad, 20, tag, NULL)), 0);
		tag[5] ^= 1;
		assert_int_equal(run_one(atx_aead(ctx, d, pt, ct, 0, iv, 12, aad, 20, tag, NULL)),
				 -EBADMSG);
		assert_int_equal(pt[0], 0x42);
		atx_session_free(d);
		atx_ctx_free(ctx);
	}
	ctx = saved;
}

/* ---- what it declines ---- */

static void test_declines(void **state)
{
	uint8_t key[64];
	struct atx_session_params p = {
		.size = sizeof(p), .service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_XTS,
		.key = key, .key_len = 64, .engine = "mb",
	};
	struct atx_ctx_opts o = { .size = sizeof(o) };
	struct atx_ctx *c2;

	NEED_MB();
	rnd(key, sizeof(key));
	/* XTS is the soft engine's: forcing "mb" fails, best-engine picks soft. */
	assert_null(atx_session_new(ctx, &p));
	assert_int_equal(errno, EOPNOTSUPP);
	p.engine = NULL;
	struct atx_session *s = atx_session_new(ctx, &p);

	assert_non_null(s);
	assert_string_not_equal(atx_session_engine(s), "mb");
	atx_session_free(s);

	/* ... and an AES-GCM session goes to mb when nobody forces it. */
	p.service = ATX_SVC_AEAD;
	p.aead = ATX_AEAD_AES_GCM;
	p.key_len = 16;
	s = atx_session_new(ctx, &p);
	assert_non_null(s);
	assert_string_equal(atx_session_engine(s), "mb");
	atx_session_free(s);

	/* ATX_MB_DISABLE=1 keeps the engine out of a new context. */
	setenv("ATX_MB_DISABLE", "1", 1);
	c2 = atx_ctx_new(&o);
	unsetenv("ATX_MB_DISABLE");
	assert_non_null(c2);
	assert_false(have_mb(c2));
	atx_ctx_free(c2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cbc_sp800_38a),
		cmocka_unit_test(test_gcm_spec_vectors),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_cipher_vs_openssl),
		cmocka_unit_test(test_mac_vs_openssl),
		cmocka_unit_test(test_aead_vs_openssl),
		cmocka_unit_test(test_chain_vs_openssl),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_sg_bounce),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_mixed_batch),
		cmocka_unit_test(test_session_reuse),
		cmocka_unit_test(test_burst_mix),
		cmocka_unit_test(test_gcm_paths),
		cmocka_unit_test(test_bad_tag),
		cmocka_unit_test(test_chain_on_lane),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_long_cbc),
		cmocka_unit_test(test_lone),
		cmocka_unit_test(test_empty_first),
		cmocka_unit_test(test_declines),
	};

	return cmocka_run_group_tests_name("mb", tests, setup, teardown);
}
