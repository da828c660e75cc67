/* SPDX-License-Identifier: MIT */
/*
 * image_fmt.c - encode/decode of the `atx image` header and the key
 * derivations (docs/IMAGE.md is the specification; keep them in step).
 */
#include <errno.h>
#include <string.h>

#include <isa-l/crc.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "atx_simd.h"
#include "image_fmt.h"

/* Field offsets in the header block (little-endian integers). */
enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 8,
	OFF_HDR_LEN = 10,
	OFF_FLAGS = 12,
	OFF_CIPHER = 16,        /* 16 bytes, NUL padded */
	OFF_KEY_BYTES = 32,
	OFF_SECTOR_SIZE = 36,
	OFF_DATA_OFFSET = 40,
	OFF_PLAIN_SIZE = 48,
	OFF_DATA_SECTORS = 56,
	OFF_INTEGRITY = 64,
	OFF_TAG_SIZE = 68,
	OFF_INTEG_OFFSET = 72,
	OFF_INTEG_SIZE = 80,
	OFF_SALT = 88,
	OFF_KCV = 120,
	OFF_HDR_CRC = 252,
};

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v); put32(p + 4, v >> 32); }
static uint16_t get16(const uint8_t *p) { return p[0] | (uint16_t)p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

uint32_t img_crc32c(const void *buf, size_t len)
{
	/* ISA-L's crc32_iscsi neither pre- nor post-inverts. */
	uint32_t crc = ~crc32_iscsi((unsigned char *)buf, (int)len, 0xffffffffu);

	atx_simd_clean();       /* atx_simd.h */
	return crc;
}

static uint32_t tag_size_of(uint32_t integ)
{
	switch (integ) {
	case IMG_INTEG_NONE: return 0;
	case IMG_INTEG_CRC32C: return 4;
	case IMG_INTEG_HMAC_SHA256: return 32;
	}
	return 0;
}

const char *img_integrity_name(uint32_t integ)
{
	switch (integ) {
	case IMG_INTEG_NONE: return "none";
	case IMG_INTEG_CRC32C: return "crc32c";
	case IMG_INTEG_HMAC_SHA256: return "hmac-sha256";
	}
	return "unknown";
}

int img_integrity_parse(const char *name, enum img_integrity *out)
{
	if (!strcmp(name, "none"))
		*out = IMG_INTEG_NONE;
	else if (!strcmp(name, "crc32c"))
		*out = IMG_INTEG_CRC32C;
	else if (!strcmp(name, "hmac-sha256"))
		*out = IMG_INTEG_HMAC_SHA256;
	else
		return -EINVAL;
	return 0;
}

int img_hdr_init(struct img_hdr *h, uint64_t plain_size, uint32_t sector_size,
		 unsigned key_bytes, enum img_integrity integ, uint32_t flags)
{
	if ((sector_size != 512 && sector_size != 4096) || (key_bytes != 32 && key_bytes != 64) ||
	    integ > IMG_INTEG_HMAC_SHA256 || (flags & ~IMG_F_IV_LARGE_SECTORS))
		return -EINVAL;
	memset(h, 0, sizeof(*h));
	h->version = IMG_VERSION;
	h->flags = flags;
	h->key_bytes = key_bytes;
	h->sector_size = sector_size;
	h->data_offset = IMG_DATA_ALIGN;
	h->plain_size = plain_size;
	h->data_sectors = (plain_size + sector_size - 1) / sector_size;
	h->integrity = integ;
	h->tag_size = tag_size_of(integ);
	h->integ_offset = h->data_offset + h->data_sectors * sector_size;
	h->integ_size = h->data_sectors * h->tag_size;
	return 0;
}

void img_hdr_encode(const struct img_hdr *h, uint8_t *buf)
{
	memset(buf, 0, IMG_HDR_BLOCK);
	memcpy(buf + OFF_MAGIC, IMG_MAGIC, 8);
	put16(buf + OFF_VERSION, h->version);
	put16(buf + OFF_HDR_LEN, IMG_HDR_LEN);
	put32(buf + OFF_FLAGS, h->flags);
	memcpy(buf + OFF_CIPHER, IMG_CIPHER_NAME, sizeof(IMG_CIPHER_NAME));
	put16(buf + OFF_KEY_BYTES, h->key_bytes);
	put32(buf + OFF_SECTOR_SIZE, h->sector_size);
	put64(buf + OFF_DATA_OFFSET, h->data_offset);
	put64(buf + OFF_PLAIN_SIZE, h->plain_size);
	put64(buf + OFF_DATA_SECTORS, h->data_sectors);
	put32(buf + OFF_INTEGRITY, h->integrity);
	put32(buf + OFF_TAG_SIZE, h->tag_size);
	put64(buf + OFF_INTEG_OFFSET, h->integ_offset);
	put64(buf + OFF_INTEG_SIZE, h->integ_size);
	memcpy(buf + OFF_SALT, h->salt, IMG_SALT_LEN);
	memcpy(buf + OFF_KCV, h->kcv, IMG_KCV_LEN);
	put32(buf + OFF_HDR_CRC, img_crc32c(buf, OFF_HDR_CRC));
}

int img_hdr_decode(struct img_hdr *h, const uint8_t *buf, size_t len, const char **why)
{
	char cipher[17];

	memset(h, 0, sizeof(*h));
	if (len < IMG_HDR_LEN || memcmp(buf + OFF_MAGIC, IMG_MAGIC, 8)) {
		*why = "not an atx image (bad magic)";
		return -EBADMSG;
	}
	if (get32(buf + OFF_HDR_CRC) != img_crc32c(buf, OFF_HDR_CRC)) {
		*why = "header checksum mismatch (corrupted header)";
		return -EBADMSG;
	}
	h->version = get16(buf + OFF_VERSION);
	if (h->version != IMG_VERSION || get16(buf + OFF_HDR_LEN) != IMG_HDR_LEN) {
		*why = "unsupported image version";
		return -EPROTONOSUPPORT;
	}
	memcpy(cipher, buf + OFF_CIPHER, 16);
	cipher[16] = 0;
	if (strcmp(cipher, IMG_CIPHER_NAME)) {
		*why = "unsupported cipher";
		return -EPROTONOSUPPORT;
	}
	h->flags = get32(buf + OFF_FLAGS);
	h->key_bytes = get16(buf + OFF_KEY_BYTES);
	h->sector_size = get32(buf + OFF_SECTOR_SIZE);
	h->data_offset = get64(buf + OFF_DATA_OFFSET);
	h->plain_size = get64(buf + OFF_PLAIN_SIZE);
	h->data_sectors = get64(buf + OFF_DATA_SECTORS);
	h->integrity = get32(buf + OFF_INTEGRITY);
	h->tag_size = get32(buf + OFF_TAG_SIZE);
	h->integ_offset = get64(buf + OFF_INTEG_OFFSET);
	h->integ_size = get64(buf + OFF_INTEG_SIZE);
	memcpy(h->salt, buf + OFF_SALT, IMG_SALT_LEN);
	memcpy(h->kcv, buf + OFF_KCV, IMG_KCV_LEN);

	/* Every derived field must agree with the choices: no trust in sizes. */
	*why = "inconsistent header fields";
	if ((h->sector_size != 512 && h->sector_size != 4096) ||
	    (h->key_bytes != 32 && h->key_bytes != 64) ||
	    h->integrity > IMG_INTEG_HMAC_SHA256 || h->tag_size != tag_size_of(h->integrity) ||
	    (h->flags & ~IMG_F_IV_LARGE_SECTORS) ||
	    h->data_offset < IMG_HDR_BLOCK || h->data_offset % 4096 ||
	    h->plain_size > (UINT64_MAX >> 8) ||
	    h->data_sectors != (h->plain_size + h->sector_size - 1) / h->sector_size ||
	    h->integ_offset != h->data_offset + h->data_sectors * h->sector_size ||
	    h->integ_size != h->data_sectors * h->tag_size)
		return -EINVAL;
	*why = NULL;
	return 0;
}

uint64_t img_file_size(const struct img_hdr *h)
{
	return h->integ_offset + h->integ_size;
}

void img_tweak(uint8_t tweak[16], uint64_t iv_sector)
{
	memset(tweak, 0, 16);
	put64(tweak, iv_sector);
}

int img_derive(const struct img_hdr *h, const uint8_t *key, size_t key_len,
	       const char *label, uint8_t out[32])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[5];
	int ret = -EIO;

	if (!kdf)
		goto out;
	kctx = EVP_KDF_CTX_new(kdf);
	if (!kctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)h->salt,
						      IMG_SALT_LEN);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)label,
						      strlen(label));
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, 32, params) == 1)
		ret = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ret;
}

int img_kcv(const struct img_hdr *h, const uint8_t *key, size_t key_len, uint8_t out[IMG_KCV_LEN])
{
	uint8_t k[32];
	unsigned int olen = 0;
	int ret = img_derive(h, key, key_len, IMG_LABEL_KCV, k);

	if (ret == 0 && !HMAC(EVP_sha256(), k, sizeof(k), (const unsigned char *)IMG_KCV_MESSAGE,
			      strlen(IMG_KCV_MESSAGE), out, &olen))
		ret = -EIO;
	OPENSSL_cleanse(k, sizeof(k));
	return ret;
}
