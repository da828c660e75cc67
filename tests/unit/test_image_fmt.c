/* SPDX-License-Identifier: MIT */
/*
 * test_image_fmt.c - the `atx image` header (docs/IMAGE.md): byte layout,
 * encode/decode round trip, refusal of every inconsistent field, the
 * plain64 tweak and IV units, and the HKDF/key-check derivations checked
 * against HMAC-SHA256 computed directly (RFC 5869 extract-then-expand).
 *
 * image_fmt.c lives with the tool (tools/atx/), not in libatx, so it is
 * compiled into this test directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tools/atx/image_fmt.c"

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void reseal(uint8_t *buf)
{
	uint32_t c = img_crc32c(buf, 252);

	buf[252] = c;
	buf[253] = c >> 8;
	buf[254] = c >> 16;
	buf[255] = c >> 24;
}

static void test_crc32c_check_value(void **state)
{
	assert_int_equal(img_crc32c("123456789", 9), 0xE3069283u);
	assert_int_equal(img_crc32c("", 0), 0);
}

static void test_layout(void **state)
{
	struct img_hdr h;
	uint8_t buf[IMG_HDR_BLOCK];
	unsigned i;

	assert_int_equal(img_hdr_init(&h, 1000000, 4096, 64, IMG_INTEG_HMAC_SHA256,
				      IMG_F_IV_LARGE_SECTORS), 0);
	memset(h.salt, 0xa5, sizeof(h.salt));
	memset(h.kcv, 0x5a, sizeof(h.kcv));
	img_hdr_encode(&h, buf);
	assert_memory_equal(buf, "ATXIMAGE", 8);
	assert_int_equal(buf[8] | buf[9] << 8, 1);
	assert_int_equal(buf[10] | buf[11] << 8, 256);
	assert_int_equal(le32(buf + 12), 1);
	assert_string_equal((char *)buf + 16, "aes-xts-plain64");
	assert_int_equal(buf[32] | buf[33] << 8, 64);
	assert_int_equal(le32(buf + 36), 4096);
	assert_int_equal(le64(buf + 40), 1 << 20);
	assert_int_equal(le64(buf + 48), 1000000);
	assert_int_equal(le64(buf + 56), 245);         /* ceil(1000000 / 4096) */
	assert_int_equal(le32(buf + 64), 2);
	assert_int_equal(le32(buf + 68), 32);
	assert_int_equal(le64(buf + 72), (1 << 20) + 245 * 4096);
	assert_int_equal(le64(buf + 80), 245 * 32);
	assert_int_equal(buf[88], 0xa5);
	assert_int_equal(buf[119], 0xa5);
	assert_int_equal(buf[120], 0x5a);
	assert_int_equal(buf[151], 0x5a);
	for (i = 152; i < 252; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(le32(buf + 252), img_crc32c(buf, 252));
	for (i = 256; i < IMG_HDR_BLOCK; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(img_file_size(&h), (1 << 20) + 245 * 4096 + 245 * 32);
}

static void test_round_trip(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };
	static const unsigned keys[] = { 32, 64 };
	static const uint64_t plains[] = { 1, 511, 512, 4097, (uint64_t)5 << 30 };
	struct img_hdr h, d;
	uint8_t buf[IMG_HDR_BLOCK];
	const char *why;
	unsigned s, k, p, integ, fl;

	for (s = 0; s < 2; s++)
	for (k = 0; k < 2; k++)
	for (p = 0; p < 5; p++)
	for (integ = 0; integ < 3; integ++)
	for (fl = 0; fl < 2; fl++) {
		assert_int_equal(img_hdr_init(&h, plains[p], sizes[s], keys[k], integ, fl), 0);
		h.salt[3] = p;
		h.kcv[7] = integ;
		img_hdr_encode(&h, buf);
		assert_int_equal(img_hdr_decode(&d, buf, sizeof(buf), &why), 0);
		assert_memory_equal(&h, &d, sizeof(h));
		assert_int_equal(d.data_sectors * d.sector_size >= d.plain_size, 1);
		assert_int_equal(d.data_offset % 4096, 0);
	}
}

static void test_init_refuses(void **state)
{
	struct img_hdr h;

	assert_int_equal(img_hdr_init(&h, 10, 1024, 64, IMG_INTEG_NONE, 0), -EINVAL);
	assert_int_equal(img_hdr_init(&h, 10, 512, 48, IMG_INTEG_NONE, 0), -EINVAL);
	assert_int_equal(img_hdr_init(&h, 10, 512, 64, 3, 0), -EINVAL);
	assert_int_equal(img_hdr_init(&h, 10, 512, 64, IMG_INTEG_NONE, 2), -EINVAL);
}

/* Change one little-endian field, reseal the checksum, expect refusal. */
static void expect_refused(const uint8_t *good, unsigned off, unsigned len, uint64_t v, int err)
{
	uint8_t buf[IMG_HDR_BLOCK];
	struct img_hdr d;
	const char *why = NULL;
	unsigned i;

	memcpy(buf, good, sizeof(buf));
	for (i = 0; i < len; i++)
		buf[off + i] = v >> (8 * i);
	reseal(buf);
	assert_int_equal(img_hdr_decode(&d, buf, sizeof(buf), &why), err);
	assert_non_null(why);
}

static void test_decode_refuses(void **state)
{
	struct img_hdr h, d;
	uint8_t good[IMG_HDR_BLOCK], buf[IMG_HDR_BLOCK];
	const char *why = NULL;

	assert_int_equal(img_hdr_init(&h, 3 << 20, 512, 64, IMG_INTEG_CRC32C, 0), 0);
	img_hdr_encode(&h, good);

	memcpy(buf, good, sizeof(buf));
	buf[0] = 'B';
	assert_int_equal(img_hdr_decode(&d, buf, sizeof(buf), &why), -EBADMSG);
	memcpy(buf, good, sizeof(buf));
	buf[50] ^= 1;           /* plaintext size, checksum not resealed */
	assert_int_equal(img_hdr_decode(&d, buf, sizeof(buf), &why), -EBADMSG);
	assert_int_equal(img_hdr_decode(&d, good, 100, &why), -EBADMSG);

	expect_refused(good, 8, 2, 2, -EPROTONOSUPPORT);        /* version */
	expect_refused(good, 10, 2, 512, -EPROTONOSUPPORT);     /* header length */
	expect_refused(good, 16, 1, 'b', -EPROTONOSUPPORT);     /* cipher name */
	expect_refused(good, 12, 4, 2, -EINVAL);                /* unknown flag */
	expect_refused(good, 32, 2, 48, -EINVAL);               /* key bytes */
	expect_refused(good, 36, 4, 1024, -EINVAL);             /* sector size */
	expect_refused(good, 36, 4, 4096, -EINVAL);             /* sectors no longer match */
	expect_refused(good, 40, 8, 1000, -EINVAL);             /* unaligned data offset */
	expect_refused(good, 40, 8, 0, -EINVAL);                /* data over the header */
	expect_refused(good, 48, 8, (3 << 20) + 512, -EINVAL);  /* plaintext vs sectors */
	expect_refused(good, 56, 8, 1, -EINVAL);                /* data sectors */
	expect_refused(good, 64, 4, 2, -EINVAL);                /* integrity vs tag size */
	expect_refused(good, 64, 4, 7, -EINVAL);                /* unknown integrity */
	expect_refused(good, 68, 4, 32, -EINVAL);               /* tag size */
	expect_refused(good, 72, 8, 4096, -EINVAL);             /* integrity offset */
	expect_refused(good, 80, 8, 1, -EINVAL);                /* integrity size */
	expect_refused(good, 48, 8, UINT64_MAX, -EINVAL);       /* absurd size, no overflow */
}

static void test_tweak_and_iv_units(void **state)
{
	static const uint8_t want[16] = { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01 };
	struct img_hdr h;
	uint8_t t[16];

	img_tweak(t, 0x0102030405060708ull);
	assert_memory_equal(t, want, 16);
	assert_int_equal(img_hdr_init(&h, 1 << 20, 4096, 64, IMG_INTEG_NONE, 0), 0);
	assert_int_equal(img_iv_sector(&h, 3), 24);     /* 512-byte units */
	h.flags = IMG_F_IV_LARGE_SECTORS;
	assert_int_equal(img_iv_sector(&h, 3), 3);
	assert_int_equal(img_hdr_init(&h, 1 << 20, 512, 64, IMG_INTEG_NONE, 0), 0);
	assert_int_equal(img_iv_sector(&h, 3), 3);
}

/* RFC 5869 with L = 32: PRK = HMAC(salt, IKM); OKM = HMAC(PRK, info || 0x01). */
static void hkdf_ref(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
		     const char *info, uint8_t out[32])
{
	uint8_t prk[32], msg[128];
	unsigned int len;
	size_t il = strlen(info);

	assert_non_null(HMAC(EVP_sha256(), salt, salt_len, ikm, ikm_len, prk, &len));
	memcpy(msg, info, il);
	msg[il] = 1;
	assert_non_null(HMAC(EVP_sha256(), prk, sizeof(prk), msg, il + 1, out, &len));
}

static void test_kdf_and_kcv(void **state)
{
	struct img_hdr h;
	uint8_t key[64], a[32], b[32], kcv[32], kcv2[32];
	unsigned i, len;

	for (i = 0; i < 64; i++)
		key[i] = i * 7 + 1;
	assert_int_equal(img_hdr_init(&h, 1 << 20, 512, 64, IMG_INTEG_HMAC_SHA256, 0), 0);
	for (i = 0; i < IMG_SALT_LEN; i++)
		h.salt[i] = 0xc0 + i;
	assert_int_equal(img_derive(&h, key, 64, IMG_LABEL_INTEG, a), 0);
	hkdf_ref(h.salt, IMG_SALT_LEN, key, 64, "atx-image v1 integrity hmac-sha256", b);
	assert_memory_equal(a, b, 32);

	assert_int_equal(img_kcv(&h, key, 64, kcv), 0);
	hkdf_ref(h.salt, IMG_SALT_LEN, key, 64, "atx-image v1 key-check", b);
	assert_non_null(HMAC(EVP_sha256(), b, 32, (const uint8_t *)"atx-image key check value",
			     25, kcv2, &len));
	assert_memory_equal(kcv, kcv2, 32);
	assert_memory_not_equal(a, b, 32);      /* the two labels give distinct keys */

	key[63] ^= 1;           /* one bit of key: another check value */
	assert_int_equal(img_kcv(&h, key, 64, kcv2), 0);
	assert_memory_not_equal(kcv, kcv2, 32);
	key[63] ^= 1;
	h.salt[0] ^= 1;         /* another salt: another check value */
	assert_int_equal(img_kcv(&h, key, 64, kcv2), 0);
	assert_memory_not_equal(kcv, kcv2, 32);
}

static void test_integrity_names(void **state)
{
	enum img_integrity v;

	assert_int_equal(img_integrity_parse("crc32c", &v), 0);
	assert_int_equal(v, IMG_INTEG_CRC32C);
	assert_int_equal(img_integrity_parse("hmac-sha256", &v), 0);
	assert_int_equal(v, IMG_INTEG_HMAC_SHA256);
	assert_int_equal(img_integrity_parse("none", &v), 0);
	assert_int_equal(v, IMG_INTEG_NONE);
	assert_int_equal(img_integrity_parse("sha1", &v), -EINVAL);
	assert_string_equal(img_integrity_name(IMG_INTEG_HMAC_SHA256), "hmac-sha256");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_check_value),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_init_refuses),
		cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_tweak_and_iv_units),
		cmocka_unit_test(test_kdf_and_kcv),
		cmocka_unit_test(test_integrity_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
