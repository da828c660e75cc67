/* SPDX-License-Identifier: MIT */
/*
 * test_xts_units - AES-XTS sessions with data units (data_unit_len /
 * data_unit_iv_step): one request covering many consecutive units, each
 * checked against OpenSSL called directly, one EVP call per unit with the
 * tweak computed here (first tweak + i * step, 128-bit little endian).
 * Both dm-crypt IV conventions (512-byte IV units: step 8 over 4 KiB
 * units; --iv-large-sectors: step 1), a carry across the tweak's 64-bit
 * halves, both directions, inline and worker lanes, split iovecs, and
 * every refusal (length not whole units, bad parameters).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "atx.h"

static uint8_t key64[64], key32[32];

static void keys_init(void)
{
	for (unsigned i = 0; i < 64; i++)
		key64[i] = (uint8_t)(i * 37 + 11);
	for (unsigned i = 0; i < 32; i++)
		key32[i] = (uint8_t)(i * 53 + 5);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* tweak = base + k (128-bit little-endian), written independently of the library. */
static void tweak_add(uint8_t out[16], const uint8_t base[16], uint64_t k)
{
	unsigned carry = 0;

	memcpy(out, base, 16);
	for (unsigned i = 0; i < 16; i++) {
		unsigned v = out[i] + (unsigned)(i < 8 ? (k >> (8 * i)) & 0xff : 0) + carry;

		out[i] = (uint8_t)v;
		carry = v >> 8;
	}
}

/* The reference: OpenSSL, one fresh EVP context per data unit. */
static void ref_units(const uint8_t *key, size_t klen, int enc, const uint8_t iv[16],
		      uint64_t step, size_t unit, const uint8_t *in, uint8_t *out, size_t len)
{
	for (size_t off = 0, i = 0; off < len; off += unit, i++) {
		EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
		uint8_t tw[16];
		int l = 0;

		tweak_add(tw, iv, i * step);
		assert_non_null(c);
		assert_int_equal(EVP_CipherInit_ex(c, klen == 64 ? EVP_aes_256_xts()
								 : EVP_aes_128_xts(),
						   NULL, key, tw, enc), 1);
		assert_int_equal(EVP_CipherUpdate(c, out + off, &l, in + off, (int)unit), 1);
		assert_int_equal(l, (int)unit);
		EVP_CIPHER_CTX_free(c);
	}
}

static struct atx_ctx *mk(unsigned lanes)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .soft_lanes = lanes };
	struct atx_ctx *ctx = atx_ctx_new(&o);

	assert_non_null(ctx);
	return ctx;
}

static struct atx_session *du_session(struct atx_ctx *ctx, const uint8_t *key, size_t klen,
				      enum atx_dir dir, size_t unit, uint64_t step)
{
	struct atx_session_params p = {
		.size = sizeof(p), .service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_XTS,
		.dir = dir, .key = key, .key_len = klen,
		.data_unit_len = unit, .data_unit_iv_step = step,
	};
	struct atx_session *s = atx_session_new(ctx, &p);

	if (!s)
		fail_msg("session unit %zu step %llu: %s", unit, (unsigned long long)step,
			 strerror(errno));
	assert_string_equal(atx_session_engine(s), "soft");
	return s;
}

static void run(struct atx_ctx *ctx, struct atx_session *s, void *dst, const void *src,
		size_t len, const uint8_t iv[16])
{
	struct atx_tx *tx = atx_cipher(ctx, s, dst, src, len, iv, NULL);

	if (!tx)
		fail_msg("atx_cipher(%zu): %s", len, strerror(errno));
	assert_int_equal(atx_wait(tx), 0);
	atx_tx_ack(tx);
}

static void check_case(unsigned lanes, size_t klen, size_t unit, uint64_t step, unsigned nunits,
		       const uint8_t iv[16])
{
	const uint8_t *key = klen == 64 ? key64 : key32;
	size_t len = unit * nunits;
	uint8_t *pt = malloc(len), *ct = malloc(len), *ref = malloc(len), *back = malloc(len);
	struct atx_ctx *ctx = mk(lanes);
	struct atx_session *enc = du_session(ctx, key, klen, ATX_ENCRYPT, unit, step);
	struct atx_session *dec = du_session(ctx, key, klen, ATX_DECRYPT, unit, step);

	assert_non_null(pt);
	assert_non_null(ct);
	assert_non_null(ref);
	assert_non_null(back);
	fill(pt, len, (uint32_t)(unit + step + klen));
	ref_units(key, klen, 1, iv, step ? step : 1, unit, pt, ref, len);
	run(ctx, enc, ct, pt, len, iv);
	if (memcmp(ct, ref, len))
		fail_msg("encrypt: %u units of %zu, step %llu, key %zu, lanes %u differ from OpenSSL",
			 nunits, unit, (unsigned long long)step, klen, lanes);
	run(ctx, dec, back, ct, len, iv);
	assert_memory_equal(back, pt, len);
	/* in place, both ways */
	memcpy(back, pt, len);
	run(ctx, enc, back, back, len, iv);
	assert_memory_equal(back, ref, len);
	run(ctx, dec, back, back, len, iv);
	assert_memory_equal(back, pt, len);

	atx_session_free(enc);
	atx_session_free(dec);
	atx_ctx_free(ctx);
	free(pt);
	free(ct);
	free(ref);
	free(back);
}

static const uint8_t iv_zero[16];
static const uint8_t iv_mid[16] = { 0x10, 0x32, 0x54, 0x76, 0x01 };        /* sector 0x176543210 */
/* Low half 2^64 - 16: step 8 carries into the high half after two units. */
static const uint8_t iv_carry[16] = { 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };

/* dm-crypt plain64, 4 KiB sectors, IV in 512-byte units (cryptsetup's default). */
static void test_step8_4k(void **state)
{
	check_case(0, 64, 4096, 8, 16, iv_mid);
	check_case(0, 32, 4096, 8, 3, iv_zero);
}

/* --iv-large-sectors: IV in 4096-byte units. */
static void test_step1_4k(void **state)
{
	check_case(0, 64, 4096, 1, 16, iv_mid);
	check_case(0, 64, 4096, 0, 5, iv_zero);         /* step 0 means 1 */
}

static void test_512_units(void **state)
{
	check_case(0, 64, 512, 1, 64, iv_mid);
	check_case(0, 32, 512, 1, 1, iv_zero);
}

/* Units that are not whole AES blocks run with ciphertext stealing, each on its own. */
static void test_odd_unit(void **state)
{
	check_case(0, 64, 520, 3, 9, iv_mid);
}

static void test_tweak_carry(void **state)
{
	check_case(0, 64, 4096, 8, 6, iv_carry);
}

static void test_worker_lanes(void **state)
{
	check_case(2, 64, 4096, 8, 32, iv_mid);
	check_case(1, 32, 512, 1, 40, iv_carry);
}

/* A split source and destination go through the lane's gather/scatter path. */
static void test_split_iovecs(void **state)
{
	enum { UNIT = 4096, N = 4, LEN = UNIT * N };
	static uint8_t pt[LEN], ct[LEN], ref[LEN];
	struct atx_ctx *ctx = mk(0);
	struct atx_session *enc = du_session(ctx, key64, 64, ATX_ENCRYPT, UNIT, 8);
	struct iovec src[3] = { { pt, 100 }, { pt + 100, UNIT * 2 }, { pt + 100 + UNIT * 2, LEN - 100 - UNIT * 2 } };
	struct iovec dst[2] = { { ct, 5000 }, { ct + 5000, LEN - 5000 } };
	struct atx_crypto_op op = {
		.size = sizeof(op), .src = src, .src_cnt = 3, .dst = dst, .dst_cnt = 2,
		.iv = iv_mid, .iv_len = 16,
	};
	struct atx_tx *tx;

	fill(pt, LEN, 99);
	ref_units(key64, 64, 1, iv_mid, 8, UNIT, pt, ref, LEN);
	tx = atx_crypto(ctx, enc, &op, NULL);
	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), 0);
	atx_tx_ack(tx);
	assert_memory_equal(ct, ref, LEN);
	atx_session_free(enc);
	atx_ctx_free(ctx);
}

/* A length that is not whole data units is refused at submission, nothing runs. */
static void test_partial_unit_refused(void **state)
{
	static uint8_t buf[3 * 4096];
	struct atx_ctx *ctx = mk(0);
	struct atx_session *enc = du_session(ctx, key64, 64, ATX_ENCRYPT, 4096, 8);
	static const size_t bad[] = { 0, 16, 4095, 4097, 4096 + 512, 3 * 4096 - 1 };

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		if (atx_cipher(ctx, enc, buf, buf, bad[i], iv_zero, NULL))
			fail_msg("length %zu (not whole 4096-byte units) was accepted", bad[i]);
		assert_int_equal(errno, EINVAL);
	}
	atx_session_free(enc);
	atx_ctx_free(ctx);
}

static void test_bad_params(void **state)
{
	struct atx_ctx *ctx = mk(0);
	struct atx_session_params p = {
		.size = sizeof(p), .service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_XTS,
		.key = key64, .key_len = 64, .data_unit_len = 15,
	};
	int prio[8];

	/* shorter than an XTS block */
	assert_null(atx_session_new(ctx, &p));
	assert_int_equal(errno, EINVAL);
	/* longer than IEEE 1619's 2^20 blocks */
	p.data_unit_len = ((size_t)16 << 20) + 16;
	assert_null(atx_session_new(ctx, &p));
	assert_int_equal(errno, EINVAL);
	/* a step without a unit */
	p.data_unit_len = 0;
	p.data_unit_iv_step = 8;
	assert_null(atx_session_new(ctx, &p));
	assert_int_equal(errno, EINVAL);
	/* data units are an XTS notion */
	p.data_unit_iv_step = 0;
	p.data_unit_len = 4096;
	p.cipher = ATX_CIPHER_AES_CBC;
	p.key_len = 32;
	assert_null(atx_session_new(ctx, &p));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(atx_probe(ctx, &p, prio, 8), -EINVAL);
	atx_ctx_free(ctx);
}

/* A caller built against the layout before data units (size ends at .engine) still works. */
static void test_old_params_size(void **state)
{
	struct atx_ctx *ctx = mk(0);
	struct atx_session_params p = {
		.size = offsetof(struct atx_session_params, data_unit_len),
		.service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_XTS,
		.key = key64, .key_len = 64,
		/* beyond the old size: must not be read */
		.data_unit_len = 7, .data_unit_iv_step = 3,
	};
	static uint8_t pt[8192], ct[8192], ref[8192];
	struct atx_session *s = atx_session_new(ctx, &p);

	assert_non_null(s);
	fill(pt, sizeof(pt), 5);
	/* one 8 KiB data unit, as before data units existed */
	ref_units(key64, 64, 1, iv_mid, 1, sizeof(pt), pt, ref, sizeof(pt));
	run(ctx, s, ct, pt, sizeof(pt), iv_mid);
	assert_memory_equal(ct, ref, sizeof(ct));
	atx_session_free(s);
	p.size = offsetof(struct atx_session_params, engine);
	assert_null(atx_session_new(ctx, &p));
	assert_int_equal(errno, EINVAL);
	atx_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_step8_4k),
		cmocka_unit_test(test_step1_4k),
		cmocka_unit_test(test_512_units),
		cmocka_unit_test(test_odd_unit),
		cmocka_unit_test(test_tweak_carry),
		cmocka_unit_test(test_worker_lanes),
		cmocka_unit_test(test_split_iovecs),
		cmocka_unit_test(test_partial_unit_refused),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_old_params_size),
	};

	keys_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
