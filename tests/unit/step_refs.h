/* SPDX-License-Identifier: MIT */
/*
 * step_refs.h - what the tests of atx_chain and atx_burst share: a
 * callback that counts, contexts and sessions that must open, and the
 * references they compare with (OpenSSL and ISA-L called directly).
 */
#ifndef ATX_TEST_STEP_REFS_H
#define ATX_TEST_STEP_REFS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <isa-l/crc.h>
#include <openssl/evp.h>

#include "atx.h"

struct done {
	int calls;
	int status;
};

static inline void done_cb(struct atx_tx *tx, int status, void *arg)
{
	struct done *d = arg;

	(void)tx;
	d->calls++;
	d->status = status;
}

static inline uint32_t crc_ref(const void *p, size_t n, uint32_t seed)
{
	return ~crc32_iscsi((unsigned char *)p, (int)n, ~seed);
}

static inline void evp_ref(const EVP_CIPHER *c, const uint8_t *key, const uint8_t *iv, int enc,
		    const uint8_t *in, uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0;

	assert_non_null(x);
	assert_int_equal(EVP_CipherInit_ex(x, c, NULL, key, iv, enc), 1);
	EVP_CIPHER_CTX_set_padding(x, 0);
	assert_int_equal(EVP_CipherUpdate(x, out, &n1, in, (int)len), 1);
	assert_int_equal(EVP_CipherFinal_ex(x, out + n1, &n2), 1);
	assert_int_equal((size_t)(n1 + n2), len);
	EVP_CIPHER_CTX_free(x);
}

static inline void gcm_ref(const EVP_CIPHER *c, const uint8_t *key, const uint8_t *iv, const uint8_t *in,
		    uint8_t *out, size_t len, uint8_t tag[16])
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n = 0;

	assert_non_null(x);
	assert_int_equal(EVP_EncryptInit_ex(x, c, NULL, key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(x, out, &n, in, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(x, out + n, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
	EVP_CIPHER_CTX_free(x);
}

static inline struct atx_ctx *ctx_lanes(unsigned lanes, unsigned pool)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .soft_lanes = lanes, .pool_size = pool };
	struct atx_ctx *ctx = atx_ctx_new(&o);

	assert_non_null(ctx);
	return ctx;
}

static inline struct atx_session *sess(struct atx_ctx *ctx, struct atx_session_params p)
{
	struct atx_session *s;

	p.size = sizeof(p);
	s = atx_session_new(ctx, &p);
	assert_non_null(s);
	return s;
}

#endif
