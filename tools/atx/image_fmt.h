/* SPDX-License-Identifier: MIT */
/*
 * image_fmt.h - the on-disk header of an `atx image` file (docs/IMAGE.md)
 * and the keys derived from the master key.  No I/O here: encode/decode a
 * 4096-byte header block and run the KDF, so tests can drive it directly.
 */
#ifndef ATX_IMAGE_FMT_H
#define ATX_IMAGE_FMT_H

#include <stddef.h>
#include <stdint.h>

#define IMG_MAGIC             "ATXIMAGE"
#define IMG_VERSION           1
#define IMG_HDR_BLOCK         4096u         /* header block at offset 0 */
#define IMG_HDR_LEN           256u          /* bytes covered by hdr_crc */
#define IMG_DATA_ALIGN        (1u << 20)    /* data region starts 1 MiB in */
#define IMG_CIPHER_NAME       "aes-xts-plain64"
#define IMG_SALT_LEN          32
#define IMG_KCV_LEN           32

#define IMG_F_IV_LARGE_SECTORS (1u << 0)

enum img_integrity {
	IMG_INTEG_NONE = 0,
	IMG_INTEG_CRC32C = 1,
	IMG_INTEG_HMAC_SHA256 = 2,
};

struct img_hdr {
	uint16_t version;
	uint32_t flags;                 /* IMG_F_* */
	uint16_t key_bytes;             /* 32 = AES-128-XTS, 64 = AES-256-XTS */
	uint32_t sector_size;           /* 512 or 4096 */
	uint64_t data_offset;           /* bytes; multiple of IMG_DATA_ALIGN */
	uint64_t plain_size;            /* bytes of plaintext */
	uint64_t data_sectors;          /* ceil(plain_size / sector_size) */
	uint32_t integrity;             /* enum img_integrity */
	uint32_t tag_size;              /* 0, 4 or 32 bytes per sector */
	uint64_t integ_offset;          /* bytes; = data_offset + data_sectors * sector_size */
	uint64_t integ_size;            /* data_sectors * tag_size */
	uint8_t salt[IMG_SALT_LEN];     /* HKDF salt, random per image */
	uint8_t kcv[IMG_KCV_LEN];       /* key check value */
};

/*
 * img_hdr_init - fill every derived field of a new header from the
 * choices (sizes, integrity, flags); salt and kcv are left to the caller.
 * Returns 0 or -EINVAL.
 */
int img_hdr_init(struct img_hdr *h, uint64_t plain_size, uint32_t sector_size,
		 unsigned key_bytes, enum img_integrity integ, uint32_t flags);

/* img_hdr_encode - write @h into @buf (IMG_HDR_BLOCK bytes, zero padded). */
void img_hdr_encode(const struct img_hdr *h, uint8_t *buf);

/*
 * img_hdr_decode - parse and validate a header block.  Returns 0,
 * -EBADMSG (not an atx image / checksum mismatch), -EPROTONOSUPPORT
 * (unknown version or cipher), -EINVAL (inconsistent fields).
 * *why gets a one-line reason on failure.
 */
int img_hdr_decode(struct img_hdr *h, const uint8_t *buf, size_t len, const char **why);

/* img_file_size - the size a complete image with this header has. */
uint64_t img_file_size(const struct img_hdr *h);

/* IV (plain64 tweak) sector number of data sector @idx. */
static inline uint64_t img_iv_sector(const struct img_hdr *h, uint64_t idx)
{
	if (h->flags & IMG_F_IV_LARGE_SECTORS)
		return idx;
	return idx * (h->sector_size / 512);
}

/* img_tweak - the 16-byte plain64 tweak: LE64(sector) || 8 zero bytes. */
void img_tweak(uint8_t tweak[16], uint64_t iv_sector);

/*
 * img_derive - HKDF-SHA256(ikm = key, salt = h->salt, info = @label) -> 32
 * bytes in @out.  Returns 0 or -EIO.
 */
int img_derive(const struct img_hdr *h, const uint8_t *key, size_t key_len,
	       const char *label, uint8_t out[32]);

#define IMG_LABEL_KCV     "atx-image v1 key-check"
#define IMG_LABEL_INTEG   "atx-image v1 integrity hmac-sha256"
#define IMG_KCV_MESSAGE   "atx-image key check value"

/* img_kcv - compute the key check value of @key for @h into @out. 0 or -EIO. */
int img_kcv(const struct img_hdr *h, const uint8_t *key, size_t key_len, uint8_t out[IMG_KCV_LEN]);

/* img_crc32c - standard CRC-32C (check value of "123456789" 0xE3069283). */
uint32_t img_crc32c(const void *buf, size_t len);

const char *img_integrity_name(uint32_t integ);
int img_integrity_parse(const char *name, enum img_integrity *out);

#endif
