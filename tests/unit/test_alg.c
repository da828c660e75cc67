/* SPDX-License-Identifier: MIT */
/*
 * test_alg.c - the algorithm table (src/alg.c): every session rule of
 * atx__params_check, every request rule of atx__crypto_check, digest /
 * IV / block sizes, OpenSSL-style names and atx_strerror.  The expected
 * values come from the algorithm definitions (FIPS 180-4, SP 800-38A/B/D,
 * RFC 3610, RFC 8439, IEEE 1619), not from the code.
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

#include "alg.h"

static uint8_t key[200];

static struct atx_session_params cipher_p(enum atx_cipher_alg c, size_t kl)
{
	return (struct atx_session_params){ .size = sizeof(struct atx_session_params),
					    .service = ATX_SVC_CIPHER, .cipher = c, .key = key,
					    .key_len = kl };
}

static int cipher_rc(enum atx_cipher_alg c, size_t kl)
{
	struct atx_session_params p = cipher_p(c, kl);

	return atx__params_check(&p);
}

static void test_params_common(void **state)
{
	struct atx_session_params p = cipher_p(ATX_CIPHER_AES_CBC, 16);

	assert_int_equal(atx__params_check(NULL), -EINVAL);
	assert_int_equal(atx__params_check(&p), 0);
	p.service = (enum atx_service)5;
	assert_int_equal(atx__params_check(&p), -EOPNOTSUPP);
	p.service = (enum atx_service)-1;
	assert_int_equal(atx__params_check(&p), -EOPNOTSUPP);
	p = cipher_p(ATX_CIPHER_AES_CBC, 16);
	p.dir = (enum atx_dir)2;
	assert_int_equal(atx__params_check(&p), -EINVAL);
	p.dir = ATX_DECRYPT;
	assert_int_equal(atx__params_check(&p), 0);
	p.key = NULL;
	assert_int_equal(atx__params_check(&p), -EINVAL);
}

static void test_params_cipher(void **state)
{
	static const struct { enum atx_cipher_alg c; size_t ok[3]; } v[] = {
		{ ATX_CIPHER_AES_ECB, { 16, 24, 32 } },
		{ ATX_CIPHER_AES_CBC, { 16, 24, 32 } },
		{ ATX_CIPHER_AES_CTR, { 16, 24, 32 } },
		{ ATX_CIPHER_AES_XTS, { 32, 64, 64 } },
		{ ATX_CIPHER_CHACHA20, { 32, 32, 32 } },
		{ ATX_CIPHER_3DES_CBC, { 24, 24, 24 } },
	};

	for (unsigned i = 0; i < 200; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		for (size_t kl = 0; kl <= 80; kl++) {
			bool ok = kl == v[i].ok[0] || kl == v[i].ok[1] || kl == v[i].ok[2];

			if (cipher_rc(v[i].c, kl) != (ok ? 0 : -EINVAL))
				fail_msg("cipher %d key length %zu: got %d, expected %d", v[i].c, kl,
					 cipher_rc(v[i].c, kl), ok ? 0 : -EINVAL);
		}
	}
	assert_int_equal(cipher_rc(ATX_CIPHER_NONE, 16), -EOPNOTSUPP);
	assert_int_equal(cipher_rc(ATX_CIPHER__COUNT, 16), -EOPNOTSUPP);
	assert_int_equal(cipher_rc((enum atx_cipher_alg)99, 16), -EOPNOTSUPP);

	/* IEEE 1619 vector 1 has equal key halves (all zero): refused. */
	memset(key, 0, 64);
	assert_int_equal(cipher_rc(ATX_CIPHER_AES_XTS, 32), -EINVAL);
	assert_int_equal(cipher_rc(ATX_CIPHER_AES_XTS, 64), -EINVAL);
	key[63] = 1;
	assert_int_equal(cipher_rc(ATX_CIPHER_AES_XTS, 64), 0);
	key[63] = 0;
	key[0] = 1;
	assert_int_equal(cipher_rc(ATX_CIPHER_AES_XTS, 32), 0);
}

static void test_params_hash(void **state)
{
	static const size_t sz[] = { 0, 20, 28, 32, 48, 64, 32 };

	for (int h = ATX_HASH_SHA1; h < ATX_HASH__COUNT; h++) {
		struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_HASH, .hash = h };

		assert_int_equal(atx__hash_size(h), sz[h]);
		assert_int_equal(atx__params_check(&p), 0);
		assert_int_equal(atx__digest_len(&p), sz[h]);
		p.digest_len = sz[h];
		assert_int_equal(atx__params_check(&p), 0);
		p.digest_len = 1;
		assert_int_equal(atx__params_check(&p), 0);
		assert_int_equal(atx__digest_len(&p), 1);
		p.digest_len = sz[h] + 1;
		assert_int_equal(atx__params_check(&p), -EINVAL);
		p.digest_len = 0;
		p.key = key;
		p.key_len = 16;
		assert_int_equal(atx__params_check(&p), -EINVAL);
	}
	struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_HASH };

	assert_int_equal(atx__params_check(&p), -EOPNOTSUPP);
	p.hash = ATX_HASH__COUNT;
	assert_int_equal(atx__params_check(&p), -EOPNOTSUPP);
	/* A hash session ignores the cipher field, whatever it holds. */
	p.hash = ATX_HASH_SHA256;
	p.cipher = (enum atx_cipher_alg)77;
	assert_int_equal(atx__params_check(&p), 0);
}

static void test_params_mac(void **state)
{
	static const size_t sz[] = { 0, 20, 28, 32, 48, 64, 16 };

	for (int m = ATX_MAC_HMAC_SHA1; m < ATX_MAC__COUNT; m++) {
		struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_MAC, .mac = m,
						.key = key };

		for (size_t kl = 0; kl <= ATX_MAX_KEY_LEN + 1; kl++) {
			bool ok = m == ATX_MAC_AES_CMAC ? (kl == 16 || kl == 24 || kl == 32)
							: (kl >= 1 && kl <= ATX_MAX_KEY_LEN);

			p.key_len = kl;
			if (atx__params_check(&p) != (ok ? 0 : -EINVAL))
				fail_msg("mac %d key length %zu: got %d", m, kl, atx__params_check(&p));
		}
		p.key_len = 16;
		assert_int_equal(atx__digest_len(&p), sz[m]);
		p.digest_len = sz[m];
		assert_int_equal(atx__params_check(&p), 0);
		p.digest_len = sz[m] + 1;
		assert_int_equal(atx__params_check(&p), -EINVAL);
	}
	struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_MAC, .key = key,
					.key_len = 16 };

	assert_int_equal(atx__params_check(&p), -EOPNOTSUPP);
	p.mac = (enum atx_mac_alg)42;
	assert_int_equal(atx__params_check(&p), -EOPNOTSUPP);
}

static int aead_rc(enum atx_aead_alg a, size_t kl, size_t tag)
{
	struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_AEAD, .aead = a,
					.key = key, .key_len = kl, .digest_len = tag };

	return atx__params_check(&p);
}

static void test_params_aead(void **state)
{
	for (size_t kl = 0; kl <= 40; kl++) {
		int want = kl == 16 || kl == 24 || kl == 32 ? 0 : -EINVAL;

		assert_int_equal(aead_rc(ATX_AEAD_AES_GCM, kl, 0), want);
		assert_int_equal(aead_rc(ATX_AEAD_AES_CCM, kl, 0), want);
		assert_int_equal(aead_rc(ATX_AEAD_CHACHA20_POLY1305, kl, 0), kl == 32 ? 0 : -EINVAL);
	}
	for (size_t t = 1; t <= 20; t++) {
		/* SP 800-38D 5.2.1.2; RFC 3610 (M even, 4..16); RFC 8439 (16). */
		int gcm = t == 4 || t == 8 || (t >= 12 && t <= 16) ? 0 : -EINVAL;
		int ccm = t >= 4 && t <= 16 && !(t & 1) ? 0 : -EINVAL;

		if (aead_rc(ATX_AEAD_AES_GCM, 16, t) != gcm || aead_rc(ATX_AEAD_AES_CCM, 16, t) != ccm)
			fail_msg("tag length %zu: gcm %d ccm %d", t, aead_rc(ATX_AEAD_AES_GCM, 16, t),
				 aead_rc(ATX_AEAD_AES_CCM, 16, t));
		assert_int_equal(aead_rc(ATX_AEAD_CHACHA20_POLY1305, 32, t), t == 16 ? 0 : -EINVAL);
	}
	assert_int_equal(aead_rc(ATX_AEAD_NONE, 16, 0), -EOPNOTSUPP);
	assert_int_equal(aead_rc(ATX_AEAD__COUNT, 16, 0), -EOPNOTSUPP);

	struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_AEAD,
					.aead = ATX_AEAD_AES_CCM, .key = key, .key_len = 16 };

	assert_int_equal(atx__digest_len(&p), 16);
	p.digest_len = 8;
	assert_int_equal(atx__digest_len(&p), 8);
}

static struct atx_session_params chain_p(void)
{
	return (struct atx_session_params){ .size = sizeof(struct atx_session_params),
					    .service = ATX_SVC_CHAIN, .cipher = ATX_CIPHER_AES_CBC,
					    .mac = ATX_MAC_HMAC_SHA256, .key = key, .key_len = 32,
					    .auth_key = key + 64, .auth_key_len = 32,
					    .dir = ATX_ENCRYPT,
					    .chain_order = ATX_CHAIN_ENC_THEN_MAC };
}

static void test_params_chain(void **state)
{
	struct atx_session_params p = chain_p();

	for (unsigned i = 0; i < 200; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(atx__params_check(&p), 0);
	assert_int_equal(atx__digest_len(&p), 32);
	p.dir = ATX_DECRYPT;
	assert_int_equal(atx__params_check(&p), -EINVAL);     /* decrypt must verify first */
	p.chain_order = ATX_CHAIN_MAC_THEN_ENC;
	assert_int_equal(atx__params_check(&p), 0);
	p.dir = ATX_ENCRYPT;
	assert_int_equal(atx__params_check(&p), -EINVAL);     /* MAC-then-encrypt not offered */

	p = chain_p();
	p.cipher = ATX_CIPHER_NONE;
	assert_int_equal(atx__params_check(&p), -EINVAL);
	p = chain_p();
	p.mac = ATX_MAC_NONE;
	assert_int_equal(atx__params_check(&p), -EINVAL);
	p = chain_p();
	p.cipher = (enum atx_cipher_alg)55;
	assert_int_equal(atx__params_check(&p), -EOPNOTSUPP);
	p = chain_p();
	p.key_len = 20;
	assert_int_equal(atx__params_check(&p), -EINVAL);
	p = chain_p();
	p.auth_key_len = 0;
	assert_int_equal(atx__params_check(&p), -EINVAL);
	p.auth_key_len = ATX_MAX_AUTH_KEY_LEN;
	assert_int_equal(atx__params_check(&p), 0);
	p.auth_key_len = ATX_MAX_AUTH_KEY_LEN + 1;
	assert_int_equal(atx__params_check(&p), -EINVAL);
	p = chain_p();
	p.auth_key = NULL;
	assert_int_equal(atx__params_check(&p), -EINVAL);
	p = chain_p();
	p.mac = ATX_MAC_AES_CMAC;
	assert_int_equal(atx__params_check(&p), 0);         /* 32-byte CMAC key */
	p.auth_key_len = 20;
	assert_int_equal(atx__params_check(&p), -EINVAL);
	p = chain_p();
	p.digest_len = 33;
	assert_int_equal(atx__params_check(&p), -EINVAL);
	p.digest_len = 16;
	assert_int_equal(atx__params_check(&p), 0);
	assert_int_equal(atx__digest_len(&p), 16);
}

static void test_crypto_check_cipher(void **state)
{
	struct atx_session_params p;
	static const struct { enum atx_cipher_alg c; size_t kl, iv, bs; } v[] = {
		{ ATX_CIPHER_AES_ECB, 16, 0, 16 }, { ATX_CIPHER_AES_CBC, 32, 16, 16 },
		{ ATX_CIPHER_AES_CTR, 16, 16, 1 }, { ATX_CIPHER_AES_XTS, 64, 16, 1 },
		{ ATX_CIPHER_CHACHA20, 32, 16, 1 }, { ATX_CIPHER_3DES_CBC, 24, 8, 8 },
	};

	for (unsigned i = 0; i < 200; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		p = cipher_p(v[i].c, v[i].kl);
		assert_int_equal(atx__params_check(&p), 0);
		assert_int_equal(atx__iv_len(&p), v[i].iv);
		assert_int_equal(atx__block_size(&p), v[i].bs);
		assert_int_equal(atx__digest_len(&p), 0);
		for (size_t ivl = 0; ivl <= ATX_MAX_IV_LEN; ivl++)
			assert_int_equal(atx__crypto_check(&p, ATX_OP_CIPHER, 64, ivl, 0),
					 ivl == v[i].iv ? 0 : -EINVAL);
		for (int op = 0; op < ATX_OP__COUNT; op++)
			assert_int_equal(atx__crypto_check(&p, op, 64, v[i].iv, 0),
					 op == ATX_OP_CIPHER ? 0 : -EINVAL);
		/* A cipher takes no AAD. */
		assert_int_equal(atx__crypto_check(&p, ATX_OP_CIPHER, 64, v[i].iv, 1), -EINVAL);
		for (size_t len = 0; len <= 70; len++) {
			int want;

			if (v[i].c == ATX_CIPHER_AES_XTS)
				want = len >= 16 ? 0 : -EINVAL;
			else
				want = len % v[i].bs ? -EINVAL : 0;
			if (atx__crypto_check(&p, ATX_OP_CIPHER, len, v[i].iv, 0) != want)
				fail_msg("cipher %d len %zu: expected %d", v[i].c, len, want);
		}
	}
	/* XTS: at most 2^20 blocks per data unit (IEEE 1619 5.1). */
	p = cipher_p(ATX_CIPHER_AES_XTS, 32);
	assert_int_equal(atx__crypto_check(&p, ATX_OP_CIPHER, (size_t)16 << 20, 16, 0), 0);
	assert_int_equal(atx__crypto_check(&p, ATX_OP_CIPHER, ((size_t)16 << 20) + 1, 16, 0), -EINVAL);
	assert_int_equal(atx__crypto_check(NULL, ATX_OP_CIPHER, 16, 16, 0), -EINVAL);
}

static void test_crypto_check_digest(void **state)
{
	struct atx_session_params h = { .size = sizeof(h), .service = ATX_SVC_HASH,
					.hash = ATX_HASH_SHA256 };
	struct atx_session_params m = { .size = sizeof(m), .service = ATX_SVC_MAC,
					.mac = ATX_MAC_AES_CMAC, .key = key, .key_len = 16 };

	assert_int_equal(atx__crypto_check(&h, ATX_OP_HASH, 0, 0, 0), 0);
	assert_int_equal(atx__crypto_check(&h, ATX_OP_HASH, 12345, 0, 0), 0);
	assert_int_equal(atx__crypto_check(&h, ATX_OP_MAC, 1, 0, 0), -EINVAL);
	assert_int_equal(atx__crypto_check(&h, ATX_OP_HASH, 1, 16, 0), -EINVAL);
	assert_int_equal(atx__crypto_check(&h, ATX_OP_HASH, 1, 0, 4), -EINVAL);
	assert_int_equal(atx__crypto_check(&m, ATX_OP_MAC, 0, 0, 0), 0);
	assert_int_equal(atx__crypto_check(&m, ATX_OP_MAC, 7, 0, 0), 0);
	assert_int_equal(atx__crypto_check(&m, ATX_OP_HASH, 7, 0, 0), -EINVAL);
	assert_int_equal(atx__crypto_check(&m, ATX_OP_MAC, 7, 12, 0), -EINVAL);
	assert_int_equal(atx__iv_len(&h), 0);
	assert_int_equal(atx__block_size(&m), 1);
}

static void test_crypto_check_aead(void **state)
{
	struct atx_session_params g = { .size = sizeof(g), .service = ATX_SVC_AEAD,
					.aead = ATX_AEAD_AES_GCM, .key = key, .key_len = 16 };
	struct atx_session_params c = g, x = g;

	c.aead = ATX_AEAD_AES_CCM;
	x.aead = ATX_AEAD_CHACHA20_POLY1305;
	x.key_len = 32;
	assert_int_equal(atx__iv_len(&g), 12);
	assert_int_equal(atx__iv_len(&c), 12);
	assert_int_equal(atx__iv_len(&x), 12);

	for (size_t ivl = 0; ivl <= ATX_MAX_IV_LEN + 1; ivl++) {
		assert_int_equal(atx__crypto_check(&g, ATX_OP_AEAD, 16, ivl, 0),
				 ivl >= 1 && ivl <= ATX_MAX_IV_LEN ? 0 : -EINVAL);
		assert_int_equal(atx__crypto_check(&c, ATX_OP_AEAD, 16, ivl, 0),
				 ivl >= 7 && ivl <= 13 ? 0 : -EINVAL);
		assert_int_equal(atx__crypto_check(&x, ATX_OP_AEAD, 16, ivl, 0),
				 ivl == 12 ? 0 : -EINVAL);
	}
	assert_int_equal(atx__crypto_check(&g, ATX_OP_CIPHER, 16, 12, 0), -EINVAL);
	assert_int_equal(atx__crypto_check(&g, ATX_OP_CHAIN, 16, 12, 0), -EINVAL);

	/* Empty payloads: all three, CCM even without AAD (SP 800-38C: the tag covers B0). */
	assert_int_equal(atx__crypto_check(&g, ATX_OP_AEAD, 0, 12, 0), 0);
	assert_int_equal(atx__crypto_check(&x, ATX_OP_AEAD, 0, 12, 0), 0);
	assert_int_equal(atx__crypto_check(&c, ATX_OP_AEAD, 0, 12, 0), 0);
	assert_int_equal(atx__crypto_check(&c, ATX_OP_AEAD, 0, 12, 1), 0);
	/* Odd lengths are fine for all three. */
	assert_int_equal(atx__crypto_check(&g, ATX_OP_AEAD, 17, 12, 3), 0);
	assert_int_equal(atx__crypto_check(&c, ATX_OP_AEAD, 17, 12, 3), 0);
	assert_int_equal(atx__crypto_check(&x, ATX_OP_AEAD, 17, 12, 3), 0);

	/* CCM (RFC 3610 2.1): the message length fits in L = 15 - nonce bytes. */
	assert_int_equal(atx__crypto_check(&c, ATX_OP_AEAD, 65535, 13, 0), 0);
	assert_int_equal(atx__crypto_check(&c, ATX_OP_AEAD, 65536, 13, 0), -EINVAL);
	assert_int_equal(atx__crypto_check(&c, ATX_OP_AEAD, 65536, 12, 0), 0);
	assert_int_equal(atx__crypto_check(&c, ATX_OP_AEAD, (size_t)1 << 24, 12, 0), -EINVAL);
	assert_int_equal(atx__crypto_check(&c, ATX_OP_AEAD, ((size_t)1 << 24) - 1, 12, 0), 0);

	/* GCM (SP 800-38D 5.2.1.1): plaintext at most 2^39 - 256 bits. */
	assert_int_equal(atx__crypto_check(&g, ATX_OP_AEAD, ((size_t)1 << 36) - 32, 12, 0), 0);
	assert_int_equal(atx__crypto_check(&g, ATX_OP_AEAD, ((size_t)1 << 36) - 31, 12, 0), -EINVAL);
}

static void test_crypto_check_chain(void **state)
{
	struct atx_session_params p = chain_p();

	assert_int_equal(atx__crypto_check(&p, ATX_OP_CHAIN, 64, 16, 20), 0);
	assert_int_equal(atx__crypto_check(&p, ATX_OP_CHAIN, 64, 16, 0), 0);
	assert_int_equal(atx__crypto_check(&p, ATX_OP_AEAD, 64, 16, 0), -EINVAL);
	assert_int_equal(atx__crypto_check(&p, ATX_OP_CIPHER, 64, 16, 0), -EINVAL);
	assert_int_equal(atx__crypto_check(&p, ATX_OP_CHAIN, 63, 16, 0), -EINVAL);
	assert_int_equal(atx__crypto_check(&p, ATX_OP_CHAIN, 64, 12, 0), -EINVAL);
	assert_int_equal(atx__iv_len(&p), 16);
	assert_int_equal(atx__block_size(&p), 16);
}

static void test_names(void **state)
{
	unsigned n = 0;

	for (unsigned i = 0; atx_alg_name(i); i++, n++) {
		struct atx_session_params p = { .size = sizeof(p) };
		size_t kl = 99;
		const char *name = atx_alg_name(i);

		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(name, atx_alg_name(j));
		assert_int_equal(atx_alg_parse(name, &p, &kl), 0);
		/* The implied key length (or a valid one when free) passes the checks. */
		p.key = key;
		p.key_len = kl ? kl : (p.service == ATX_SVC_HASH ? 0 : 32);
		for (unsigned b = 0; b < 64; b++)
			key[b] = (uint8_t)(b + 1);
		if (atx__params_check(&p))
			fail_msg("%s: parsed parameters rejected (%d)", name, atx__params_check(&p));
	}
	assert_true(n >= 28);
	assert_null(atx_alg_name(n));

	struct atx_session_params p = { .size = sizeof(p), .aead = ATX_AEAD_AES_GCM };
	size_t kl;

	assert_int_equal(atx_alg_parse("aes-256-xts", &p, &kl), 0);
	assert_int_equal(p.service, ATX_SVC_CIPHER);
	assert_int_equal(p.cipher, ATX_CIPHER_AES_XTS);
	assert_int_equal(p.aead, ATX_AEAD_NONE);        /* leftovers cleared */
	assert_int_equal(kl, 64);
	assert_int_equal(atx_alg_parse("aes-128-xts", &p, &kl), 0);
	assert_int_equal(kl, 32);
	assert_int_equal(atx_alg_parse("AES-128-GCM", &p, &kl), 0);
	assert_int_equal(p.service, ATX_SVC_AEAD);
	assert_int_equal(p.aead, ATX_AEAD_AES_GCM);
	assert_int_equal(kl, 16);
	assert_int_equal(atx_alg_parse("chacha20-poly1305", &p, &kl), 0);
	assert_int_equal(p.aead, ATX_AEAD_CHACHA20_POLY1305);
	assert_int_equal(atx_alg_parse("sha3-256", &p, &kl), 0);
	assert_int_equal(p.service, ATX_SVC_HASH);
	assert_int_equal(p.hash, ATX_HASH_SHA3_256);
	assert_int_equal(kl, 0);
	assert_int_equal(atx_alg_parse("hmac-sha384", &p, NULL), 0);
	assert_int_equal(p.mac, ATX_MAC_HMAC_SHA384);
	assert_int_equal(atx_alg_parse("des-ede3-cbc", &p, &kl), 0);
	assert_int_equal(kl, 24);
	assert_int_equal(atx_alg_parse("cmac", &p, &kl), 0);
	assert_int_equal(p.mac, ATX_MAC_AES_CMAC);
	assert_int_equal(kl, 0);

	p.dir = ATX_ENCRYPT;
	assert_int_equal(atx_alg_parse("aes-256-cbc+hmac-sha256", &p, &kl), 0);
	assert_int_equal(p.service, ATX_SVC_CHAIN);
	assert_int_equal(p.cipher, ATX_CIPHER_AES_CBC);
	assert_int_equal(p.mac, ATX_MAC_HMAC_SHA256);
	assert_int_equal(p.chain_order, ATX_CHAIN_ENC_THEN_MAC);
	assert_int_equal(kl, 32);
	p.dir = ATX_DECRYPT;
	assert_int_equal(atx_alg_parse("aes-128-ctr+aes-128-cmac", &p, &kl), 0);
	assert_int_equal(p.chain_order, ATX_CHAIN_MAC_THEN_ENC);
	assert_int_equal(kl, 16);

	static const char *bad[] = { "", "aes", "aes-512-cbc", "aes-256-cbc+", "+hmac-sha256",
				     "sha256+hmac-sha1", "aes-256-gcm+hmac-sha256",
				     "aes-256-cbc+sha256", "aes-256-cbc+hmac-sha256+x",
				     "aes-256-cbcx", "rc4" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (atx_alg_parse(bad[i], &p, &kl) != -ENOENT)
			fail_msg("\"%s\" parsed", bad[i]);
	assert_int_equal(atx_alg_parse(NULL, &p, &kl), -ENOENT);
}

static void test_strerror(void **state)
{
	assert_string_equal(atx_strerror(0), "success");
	assert_non_null(strstr(atx_strerror(-EBADMSG), "verification failed"));
	assert_non_null(strstr(atx_strerror(-ECANCELED), "dependency failed"));
	static const int errs[] = { EBADMSG, ECANCELED, ESTALE, EOPNOTSUPP, EAGAIN, EIO,
				    ENODEV, EINVAL, ENOMEM, EBUSY, ENODATA, ENOENT };

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		const char *s = atx_strerror(-errs[i]);

		assert_non_null(s);
		assert_true(strlen(s) > 3);
	}
	/* Anything else: the C library's text. */
	assert_string_equal(atx_strerror(-ENOTTY), strerror(ENOTTY));
	assert_non_null(atx_strerror(12345));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_common),
		cmocka_unit_test(test_params_cipher),
		cmocka_unit_test(test_params_hash),
		cmocka_unit_test(test_params_mac),
		cmocka_unit_test(test_params_aead),
		cmocka_unit_test(test_params_chain),
		cmocka_unit_test(test_crypto_check_cipher),
		cmocka_unit_test(test_crypto_check_digest),
		cmocka_unit_test(test_crypto_check_aead),
		cmocka_unit_test(test_crypto_check_chain),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests_name("alg", tests, NULL, NULL);
}
