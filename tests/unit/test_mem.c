/* SPDX-License-Identifier: MIT */
/* memcpy, memset, crc32c, crc32c per block and copy+crc32c on every soft lane kind. */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <isa-l/crc.h>
#include <isa-l/raid.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "atx.h"

/* Bitwise CRC-32C (Castagnoli, reflected 0x82F63B78): the definition, not ISA-L. */
static uint32_t crc32c_bitwise(const void *p, size_t n, uint32_t crc)
{
	const unsigned char *b = p;
	int k;

	crc = ~crc;
	while (n--) {
		crc ^= *b++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static struct atx_ctx *mk(unsigned lanes)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .soft_lanes = lanes };
	struct atx_ctx *ctx = atx_ctx_new(&o);

	assert_non_null(ctx);
	return ctx;
}

static uint32_t crc_of(struct atx_ctx *ctx, const void *p, size_t n, uint32_t seed)
{
	uint32_t out = 0xdeadbeef;
	struct atx_tx *tx = atx_crc32c(ctx, &out, p, n, seed, NULL);

	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), 0);
	atx_tx_ack(tx);
	return out;
}

static void check_value(unsigned lanes)
{
	struct atx_ctx *ctx = mk(lanes);

	/* The published check value of CRC-32C (RFC 3720 / the CRC catalogue). */
	assert_int_equal(crc_of(ctx, "123456789", 9, 0), 0xE3069283u);
	assert_int_equal(crc_of(ctx, "", 0, 0), 0);
	/* RFC 3720 B.4: 32 bytes of zeros -> 0x8A9136AA, of 0xFF -> 0x62A8AB43 */
	static const unsigned char z[32], f[32] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	assert_int_equal(crc_of(ctx, z, 32, 0), 0x8A9136AAu);
	assert_int_equal(crc_of(ctx, f, 32, 0), 0x62A8AB43u);
	/* chaining: crc(ab) == crc(b, seed = crc(a)) */
	assert_int_equal(crc_of(ctx, "6789", 4, crc_of(ctx, "12345", 5, 0)), 0xE3069283u);
	atx_ctx_free(ctx);
}

static void test_check_values_inline(void **state)
{
	check_value(0);
}

static void test_check_values_lanes(void **state)
{
	check_value(2);
}

static void test_random_against_reference(void **state)
{
	struct atx_ctx *ctx = mk(1);
	static unsigned char src[70000], dst[70000], dst2[70000];
	unsigned i, iter;

	srand(7);
	for (i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)rand();
	for (iter = 0; iter < 60; iter++) {
		size_t off = (size_t)rand() % 64, len = (size_t)rand() % (sizeof(src) - 64);
		uint32_t seed = (uint32_t)rand(), c1 = 0, c2 = 0;
		int fill = rand() & 0xff;
		struct atx_submit s = { 0 };
		struct atx_tx *a, *b, *c;

		a = atx_copy_crc32c(ctx, dst + off, &c1, src + off, len, seed, &s);
		b = atx_crc32c(ctx, &c2, src + off, len, seed, &s);
		c = atx_memset(ctx, dst2, fill, len, &s);
		assert_non_null(a);
		assert_non_null(b);
		assert_non_null(c);
		assert_int_equal(atx_wait(a), 0);
		assert_int_equal(atx_wait(b), 0);
		assert_int_equal(atx_wait(c), 0);
		atx_tx_ack(a);
		atx_tx_ack(b);
		atx_tx_ack(c);
		assert_memory_equal(dst + off, src + off, len);
		assert_int_equal(c1, crc32c_bitwise(src + off, len, seed));
		assert_int_equal(c2, ~crc32_iscsi(src + off, (int)len, ~seed));
		for (i = 0; i < len; i++)
			assert_int_equal(dst2[i], fill);
	}
	atx_ctx_free(ctx);
}

/* ---- atx_crc32c_blocks: one descriptor, one CRC per block ---- */

static void crc_blocks_case(struct atx_ctx *ctx, const unsigned char *src, size_t len,
			    size_t block, uint32_t seed)
{
	size_t n = len / block, i;
	uint32_t *out = malloc((n + 1) * sizeof(*out));
	struct atx_tx *tx;

	assert_non_null(out);
	out[n] = 0xa5a5a5a5u;   /* must stay: nothing past len / block is written */
	tx = atx_crc32c_blocks(ctx, out, src, len, block, seed, NULL);
	if (!tx)
		fail_msg("atx_crc32c_blocks(len %zu, block %zu): %s", len, block, strerror(errno));
	assert_int_equal(atx_wait(tx), 0);
	atx_tx_ack(tx);
	for (i = 0; i < n; i++) {
		uint32_t want = ~crc32_iscsi((unsigned char *)src + i * block, (int)block, ~seed);

		if (out[i] != want)
			fail_msg("block %zu of %zu (size %zu): got %08x, ISA-L says %08x", i, n, block,
				 out[i], want);
	}
	assert_int_equal(out[n], 0xa5a5a5a5u);
	free(out);
}

static void crc_blocks_on(unsigned lanes)
{
	struct atx_ctx *ctx = mk(lanes);
	static unsigned char src[64 * 4096 + 64];
	uint32_t out[4] = { 0 };
	struct atx_tx *tx;
	unsigned i;

	/* The bitwise definition's check value, through the blocks form too. */
	tx = atx_crc32c_blocks(ctx, out, "123456789123456789", 18, 9, 0, NULL);
	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), 0);
	atx_tx_ack(tx);
	assert_int_equal(out[0], 0xE3069283u);
	assert_int_equal(out[1], 0xE3069283u);
	assert_int_equal(out[0], crc32c_bitwise("123456789", 9, 0));

	srand(11);
	for (i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)rand();
	crc_blocks_case(ctx, src, 64 * 4096, 4096, 0);
	crc_blocks_case(ctx, src + 3, 64 * 512, 512, 0);      /* unaligned source */
	crc_blocks_case(ctx, src, 4096, 4096, 0);             /* one block */
	crc_blocks_case(ctx, src + 1, 7 * 1000, 1000, 0x12345678u);
	crc_blocks_case(ctx, src, 100, 1, 0);
	atx_ctx_free(ctx);
}

static void test_crc32c_blocks_inline(void **state)
{
	crc_blocks_on(0);
}

static void test_crc32c_blocks_lanes(void **state)
{
	crc_blocks_on(2);
}

static void test_crc32c_blocks_refusals(void **state)
{
	struct atx_ctx *ctx = mk(0);
	static unsigned char src[8192];
	uint32_t out[4];
	static const struct { size_t len, block; } bad[] = {
		{ 8192, 0 }, { 0, 4096 }, { 4097, 4096 }, { 8192, 3000 }, { 100, 4096 },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		if (atx_crc32c_blocks(ctx, out, src, bad[i].len, bad[i].block, 0, NULL))
			fail_msg("len %zu, block %zu accepted", bad[i].len, bad[i].block);
		assert_int_equal(errno, EINVAL);
	}
	assert_null(atx_crc32c_blocks(ctx, NULL, src, 8192, 4096, 0, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(atx_crc32c_blocks(ctx, out, NULL, 8192, 4096, 0, NULL));
	assert_int_equal(errno, EINVAL);
	atx_ctx_free(ctx);
}

#if defined(__x86_64__)
/*
 * XINUSE (XGETBV with ECX=1): bit 2 = upper halves of ymm0-15 in use,
 * bit 6 = upper halves of zmm0-15.  Either one set makes every later
 * legacy-SSE instruction (OpenSSL's AES-NI code) pay a merge dependency.
 */
#define DIRTY_UPPER 0x44u

static bool have_xinuse(void)
{
	unsigned a, b, c, d;

	if (!__builtin_cpu_supports("avx") || __get_cpuid_max(0, NULL) < 0xd)
		return false;
	__cpuid_count(0xd, 1, a, b, c, d);
	return (a & 4) != 0;
}

static unsigned xinuse(void)
{
	unsigned lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
	return lo;
}

/*
 * ISA-L returns from its AVX-512 kernels with the upper state dirty; the
 * software engine must clean up after them (atx_simd.h), or the XTS that
 * follows in a storage chain runs ~1.4x slower.  Only meaningful where
 * ISA-L does leave the state dirty, which is checked first by calling it
 * directly: elsewhere the test is skipped, not passed.
 */
static void test_simd_state_clean_after_isal(void **state)
{
	static unsigned char a[4096] __attribute__((aligned(64))), b[4096] __attribute__((aligned(64))),
		c[4096] __attribute__((aligned(64)));
	void *v[3] = { a, b, c };
	void *srcs[2] = { a, b };
	struct atx_ctx *ctx;
	struct atx_tx *tx;
	uint32_t out;

	(void)state;
	if (!have_xinuse())
		skip();
	memset(a, 0x5a, sizeof(a));
	memset(b, 0xa5, sizeof(b));
	__asm__ volatile("vzeroupper");
	crc32_iscsi(a, sizeof(a), 0);
	if (!(xinuse() & DIRTY_UPPER))
		skip();                 /* this ISA-L build leaves nothing to clean */
	ctx = mk(0);                    /* inline lane: the op runs on this thread */
	__asm__ volatile("vzeroupper");
	tx = atx_crc32c(ctx, &out, a, sizeof(a), 0, NULL);
	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), 0);
	assert_int_equal(xinuse() & DIRTY_UPPER, 0);
	assert_int_equal(out, crc32c_bitwise(a, sizeof(a), 0));
	atx_tx_ack(tx);

	xor_gen(3, sizeof(a), v);       /* ISA-L directly: dirty again */
	tx = atx_xor(ctx, c, srcs, 2, sizeof(a), NULL);
	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), 0);
	assert_int_equal(xinuse() & DIRTY_UPPER, 0);
	for (size_t i = 0; i < sizeof(a); i++)
		assert_int_equal(c[i], a[i] ^ b[i]);
	atx_tx_ack(tx);
	atx_ctx_free(ctx);
}
#else
static void test_simd_state_clean_after_isal(void **state)
{
	(void)state;
	skip();
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_values_inline),
		cmocka_unit_test(test_check_values_lanes),
		cmocka_unit_test(test_random_against_reference),
		cmocka_unit_test(test_crc32c_blocks_inline),
		cmocka_unit_test(test_crc32c_blocks_lanes),
		cmocka_unit_test(test_crc32c_blocks_refusals),
		cmocka_unit_test(test_simd_state_clean_after_isal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
