/* SPDX-License-Identifier: MIT */
/* memcpy, memset, crc32c and copy+crc32c on every soft lane kind. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <isa-l/crc.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_values_inline),
		cmocka_unit_test(test_check_values_lanes),
		cmocka_unit_test(test_random_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
