/* SPDX-License-Identifier: MIT */
/*
 * alg.c - algorithm table, parameter validation, OpenSSL-style names.
 *
 * The rules here are the union of what virtio-crypto (spec v9), OpenSSL
 * and the NIST/IETF definitions of each mode accept; every engine may
 * assume a session and a request passed them.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "alg.h"

/* ---- sizes ---- */

size_t atx__hash_size(enum atx_hash_alg h)
{
	switch (h) {
	case ATX_HASH_SHA1: return 20;
	case ATX_HASH_SHA224: return 28;
	case ATX_HASH_SHA256: return 32;
	case ATX_HASH_SHA384: return 48;
	case ATX_HASH_SHA512: return 64;
	case ATX_HASH_SHA3_256: return 32;
	default: return 0;
	}
}

const char *atx__hash_ossl_name(enum atx_hash_alg h)
{
	switch (h) {
	case ATX_HASH_SHA1: return "SHA1";
	case ATX_HASH_SHA224: return "SHA224";
	case ATX_HASH_SHA256: return "SHA256";
	case ATX_HASH_SHA384: return "SHA384";
	case ATX_HASH_SHA512: return "SHA512";
	case ATX_HASH_SHA3_256: return "SHA3-256";
	default: return NULL;
	}
}

/* The hash under an HMAC, so HMAC sizes and names come from one place. */
static enum atx_hash_alg hmac_hash(enum atx_mac_alg m)
{
	switch (m) {
	case ATX_MAC_HMAC_SHA1: return ATX_HASH_SHA1;
	case ATX_MAC_HMAC_SHA224: return ATX_HASH_SHA224;
	case ATX_MAC_HMAC_SHA256: return ATX_HASH_SHA256;
	case ATX_MAC_HMAC_SHA384: return ATX_HASH_SHA384;
	case ATX_MAC_HMAC_SHA512: return ATX_HASH_SHA512;
	default: return ATX_HASH_NONE;
	}
}

const char *atx__mac_hmac_digest(enum atx_mac_alg m)
{
	return atx__hash_ossl_name(hmac_hash(m));
}

static size_t mac_size(enum atx_mac_alg m)
{
	if (m == ATX_MAC_AES_CMAC)
		return 16;
	return atx__hash_size(hmac_hash(m));
}

static bool aes_key_ok(size_t len)
{
	return len == 16 || len == 24 || len == 32;
}

static bool cipher_key_ok(enum atx_cipher_alg c, const void *key, size_t len)
{
	switch (c) {
	case ATX_CIPHER_AES_ECB:
	case ATX_CIPHER_AES_CBC:
	case ATX_CIPHER_AES_CTR:
		return aes_key_ok(len);
	case ATX_CIPHER_AES_XTS:
		if (len != 32 && len != 64)
			return false;
		/*
		 * Equal halves make the tweak encryption key the data key,
		 * which voids XTS's security argument; OpenSSL refuses them
		 * for encryption, so refuse them in both directions here
		 * rather than let one engine accept what another rejects.
		 */
		return memcmp(key, (const uint8_t *)key + len / 2, len / 2) != 0;
	case ATX_CIPHER_CHACHA20:
		return len == 32;
	case ATX_CIPHER_3DES_CBC:
		return len == 24;
	default:
		return false;
	}
}

/* @max: ATX_MAX_KEY_LEN for a MAC session's key, ATX_MAX_AUTH_KEY_LEN for CHAIN's. */
static bool mac_key_ok(enum atx_mac_alg m, size_t len, size_t max)
{
	if (m == ATX_MAC_AES_CMAC)
		return aes_key_ok(len);
	/* HMAC takes any key; longer than the hash block it is hashed first. */
	return len >= 1 && len <= max;
}

static bool cipher_valid(enum atx_cipher_alg c)
{
	return c > ATX_CIPHER_NONE && c < ATX_CIPHER__COUNT;
}

static bool mac_valid(enum atx_mac_alg m)
{
	return m > ATX_MAC_NONE && m < ATX_MAC__COUNT;
}

/* SP 800-38D allows 128, 120, 112, 104, 96 bits, and 64/32 for special uses. */
static bool gcm_tag_ok(size_t t)
{
	return t == 4 || t == 8 || (t >= 12 && t <= 16);
}

/* IEEE 1619: a data unit is at most 2^20 blocks. */
#define XTS_MAX_UNIT ((size_t)16 << 20)

int atx__params_check(const struct atx_session_params *p)
{
	if (!p)
		return -EINVAL;
	if ((unsigned)p->service > ATX_SVC_CHAIN)
		return -EOPNOTSUPP;
	if (p->dir != ATX_ENCRYPT && p->dir != ATX_DECRYPT)
		return -EINVAL;
	if (p->key_len && !p->key)
		return -EINVAL;
	if (p->auth_key_len && !p->auth_key)
		return -EINVAL;

	/* Data units are an XTS notion (IEEE 1619's "data unit"). */
	if (p->data_unit_len || p->data_unit_iv_step) {
		if (p->service != ATX_SVC_CIPHER || p->cipher != ATX_CIPHER_AES_XTS)
			return -EINVAL;
		if (p->data_unit_len < 16 || p->data_unit_len > XTS_MAX_UNIT)
			return -EINVAL;
	}

	switch (p->service) {
	case ATX_SVC_CIPHER:
		if (!cipher_valid(p->cipher))
			return -EOPNOTSUPP;
		if (!cipher_key_ok(p->cipher, p->key, p->key_len))
			return -EINVAL;
		return 0;

	case ATX_SVC_HASH:
		if (p->hash <= ATX_HASH_NONE || p->hash >= ATX_HASH__COUNT)
			return -EOPNOTSUPP;
		/* A keyed hash is a MAC: a key here is a caller mistake. */
		if (p->key_len)
			return -EINVAL;
		if (p->digest_len > atx__hash_size(p->hash))
			return -EINVAL;
		return 0;

	case ATX_SVC_MAC:
		if (!mac_valid(p->mac))
			return -EOPNOTSUPP;
		if (!mac_key_ok(p->mac, p->key_len, ATX_MAX_KEY_LEN))
			return -EINVAL;
		if (p->digest_len > mac_size(p->mac))
			return -EINVAL;
		return 0;

	case ATX_SVC_AEAD:
		switch (p->aead) {
		case ATX_AEAD_AES_GCM:
			if (!aes_key_ok(p->key_len))
				return -EINVAL;
			if (p->digest_len && !gcm_tag_ok(p->digest_len))
				return -EINVAL;
			return 0;
		case ATX_AEAD_AES_CCM:
			if (!aes_key_ok(p->key_len))
				return -EINVAL;
			if (p->digest_len &&
			    (p->digest_len < 4 || p->digest_len > 16 || (p->digest_len & 1)))
				return -EINVAL;
			return 0;
		case ATX_AEAD_CHACHA20_POLY1305:
			if (p->key_len != 32)
				return -EINVAL;
			if (p->digest_len && p->digest_len != 16)
				return -EINVAL;
			return 0;
		default:
			return -EOPNOTSUPP;
		}

	case ATX_SVC_CHAIN:
		/* Out-of-range enum values are unknown algorithms, not combinations. */
		if ((unsigned)p->cipher >= ATX_CIPHER__COUNT || (unsigned)p->mac >= ATX_MAC__COUNT)
			return -EOPNOTSUPP;
		if (!cipher_valid(p->cipher) || !mac_valid(p->mac))
			return -EINVAL;
		/*
		 * Only the two safe compositions: encrypt-then-MAC when
		 * encrypting, verify-then-decrypt when decrypting.
		 */
		if (p->dir == ATX_ENCRYPT && p->chain_order != ATX_CHAIN_ENC_THEN_MAC)
			return -EINVAL;
		if (p->dir == ATX_DECRYPT && p->chain_order != ATX_CHAIN_MAC_THEN_ENC)
			return -EINVAL;
		if (!cipher_key_ok(p->cipher, p->key, p->key_len))
			return -EINVAL;
		if (!mac_key_ok(p->mac, p->auth_key_len, ATX_MAX_AUTH_KEY_LEN))
			return -EINVAL;
		if (p->digest_len > mac_size(p->mac))
			return -EINVAL;
		return 0;
	}
	return -EOPNOTSUPP;
}

size_t atx__digest_max(const struct atx_session_params *p)
{
	switch (p->service) {
	case ATX_SVC_HASH:
		return atx__hash_size(p->hash);
	case ATX_SVC_MAC:
	case ATX_SVC_CHAIN:
		return mac_size(p->mac);
	case ATX_SVC_AEAD:
		return 16;
	default:
		return 0;
	}
}

size_t atx__digest_len(const struct atx_session_params *p)
{
	if (p->service == ATX_SVC_CIPHER)
		return 0;
	return p->digest_len ? p->digest_len : atx__digest_max(p);
}

static size_t cipher_iv_len(enum atx_cipher_alg c)
{
	switch (c) {
	case ATX_CIPHER_AES_CBC:
	case ATX_CIPHER_AES_CTR:
	case ATX_CIPHER_AES_XTS:
	case ATX_CIPHER_CHACHA20:
		return 16;
	case ATX_CIPHER_3DES_CBC:
		return 8;
	default:
		return 0;
	}
}

size_t atx__iv_len(const struct atx_session_params *p)
{
	switch (p->service) {
	case ATX_SVC_CIPHER:
	case ATX_SVC_CHAIN:
		return cipher_iv_len(p->cipher);
	case ATX_SVC_AEAD:
		return 12;
	default:
		return 0;
	}
}

bool atx__iv_len_ok(const struct atx_session_params *p, size_t iv_len)
{
	switch (p->service) {
	case ATX_SVC_CIPHER:
	case ATX_SVC_CHAIN:
		return iv_len == cipher_iv_len(p->cipher);
	case ATX_SVC_AEAD:
		switch (p->aead) {
		case ATX_AEAD_AES_GCM:
			return iv_len >= 1 && iv_len <= ATX_MAX_IV_LEN;
		case ATX_AEAD_AES_CCM:
			return iv_len >= 7 && iv_len <= 13;
		case ATX_AEAD_CHACHA20_POLY1305:
			return iv_len == 12;
		default:
			return false;
		}
	default:
		return iv_len == 0;
	}
}

size_t atx__block_size(const struct atx_session_params *p)
{
	if (p->service != ATX_SVC_CIPHER && p->service != ATX_SVC_CHAIN)
		return 1;
	switch (p->cipher) {
	case ATX_CIPHER_AES_ECB:
	case ATX_CIPHER_AES_CBC:
		return 16;
	case ATX_CIPHER_3DES_CBC:
		return 8;
	default:
		return 1;
	}
}

static int cipher_len_check(enum atx_cipher_alg c, size_t len, size_t bs)
{
	if (c == ATX_CIPHER_AES_XTS) {
		/*
		 * IEEE 1619: a data unit is at least one block; above that any
		 * length (ciphertext stealing) up to 2^20 blocks.
		 */
		if (len < 16 || len > XTS_MAX_UNIT)
			return -EINVAL;
		return 0;
	}
	if (len % bs)
		return -EINVAL;
	return 0;
}

int atx__crypto_check(const struct atx_session_params *p, enum atx_opcode op, size_t len,
		      size_t iv_len, size_t aad_len)
{
	static const uint8_t want[] = {
		[ATX_SVC_CIPHER] = ATX_OP_CIPHER,
		[ATX_SVC_HASH] = ATX_OP_HASH,
		[ATX_SVC_MAC] = ATX_OP_MAC,
		[ATX_SVC_AEAD] = ATX_OP_AEAD,
		[ATX_SVC_CHAIN] = ATX_OP_CHAIN,
	};

	if (!p || (unsigned)p->service > ATX_SVC_CHAIN || op != want[p->service])
		return -EINVAL;
	if (!atx__iv_len_ok(p, iv_len))
		return -EINVAL;

	switch (p->service) {
	case ATX_SVC_CIPHER:
	case ATX_SVC_CHAIN:
		if (aad_len && p->service == ATX_SVC_CIPHER)
			return -EINVAL;
		/* Whole data units, each of which passed the XTS rules at session creation. */
		if (p->data_unit_len)
			return len && len % p->data_unit_len == 0 ? 0 : -EINVAL;
		return cipher_len_check(p->cipher, len, atx__block_size(p));
	case ATX_SVC_HASH:
	case ATX_SVC_MAC:
		return aad_len ? -EINVAL : 0;
	case ATX_SVC_AEAD:
		break;
	}

	switch (p->aead) {
	case ATX_AEAD_AES_GCM:
		/* SP 800-38D: P <= 2^39 - 256 bits, A < 2^64 bits. */
		if ((uint64_t)len > (((uint64_t)1 << 36) - 32))
			return -EINVAL;
		if ((uint64_t)aad_len >= ((uint64_t)1 << 61))
			return -EINVAL;
		return 0;
	case ATX_AEAD_AES_CCM: {
		/* RFC 3610: the length field has L = 15 - nonce bytes. */
		unsigned l = 15 - (unsigned)iv_len;

		if (l < 8 && (uint64_t)len >> (8 * l))
			return -EINVAL;
		/* Empty message and empty AAD is legal (SP 800-38C): the tag covers B0 only. */
		return 0;
	}
	case ATX_AEAD_CHACHA20_POLY1305:
		/* RFC 8439: 2^32 - 1 blocks of 64 bytes of keystream (counter starts at 1). */
		if ((uint64_t)len > (((uint64_t)1 << 32) - 2) * 64)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

/* ---- names ---- */

struct alg_name {
	const char *name;
	enum atx_service service;
	int alg;
	size_t key_len;         /* 0 = the caller chooses */
};

static const struct alg_name alg_names[] = {
	{ "aes-128-ecb", ATX_SVC_CIPHER, ATX_CIPHER_AES_ECB, 16 },
	{ "aes-256-ecb", ATX_SVC_CIPHER, ATX_CIPHER_AES_ECB, 32 },
	{ "aes-128-cbc", ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, 16 },
	{ "aes-256-cbc", ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, 32 },
	{ "aes-128-ctr", ATX_SVC_CIPHER, ATX_CIPHER_AES_CTR, 16 },
	{ "aes-256-ctr", ATX_SVC_CIPHER, ATX_CIPHER_AES_CTR, 32 },
	{ "aes-128-xts", ATX_SVC_CIPHER, ATX_CIPHER_AES_XTS, 32 },
	{ "aes-256-xts", ATX_SVC_CIPHER, ATX_CIPHER_AES_XTS, 64 },
	{ "chacha20", ATX_SVC_CIPHER, ATX_CIPHER_CHACHA20, 32 },
	{ "des-ede3-cbc", ATX_SVC_CIPHER, ATX_CIPHER_3DES_CBC, 24 },
	{ "sha1", ATX_SVC_HASH, ATX_HASH_SHA1, 0 },
	{ "sha224", ATX_SVC_HASH, ATX_HASH_SHA224, 0 },
	{ "sha256", ATX_SVC_HASH, ATX_HASH_SHA256, 0 },
	{ "sha384", ATX_SVC_HASH, ATX_HASH_SHA384, 0 },
	{ "sha512", ATX_SVC_HASH, ATX_HASH_SHA512, 0 },
	{ "sha3-256", ATX_SVC_HASH, ATX_HASH_SHA3_256, 0 },
	{ "hmac-sha1", ATX_SVC_MAC, ATX_MAC_HMAC_SHA1, 0 },
	{ "hmac-sha224", ATX_SVC_MAC, ATX_MAC_HMAC_SHA224, 0 },
	{ "hmac-sha256", ATX_SVC_MAC, ATX_MAC_HMAC_SHA256, 0 },
	{ "hmac-sha384", ATX_SVC_MAC, ATX_MAC_HMAC_SHA384, 0 },
	{ "hmac-sha512", ATX_SVC_MAC, ATX_MAC_HMAC_SHA512, 0 },
	{ "aes-128-cmac", ATX_SVC_MAC, ATX_MAC_AES_CMAC, 16 },
	{ "aes-256-cmac", ATX_SVC_MAC, ATX_MAC_AES_CMAC, 32 },
	{ "aes-128-gcm", ATX_SVC_AEAD, ATX_AEAD_AES_GCM, 16 },
	{ "aes-256-gcm", ATX_SVC_AEAD, ATX_AEAD_AES_GCM, 32 },
	{ "aes-128-ccm", ATX_SVC_AEAD, ATX_AEAD_AES_CCM, 16 },
	{ "aes-256-ccm", ATX_SVC_AEAD, ATX_AEAD_AES_CCM, 32 },
	{ "chacha20-poly1305", ATX_SVC_AEAD, ATX_AEAD_CHACHA20_POLY1305, 32 },
};

#define N_ALG_NAMES (sizeof(alg_names) / sizeof(alg_names[0]))

const char *atx_alg_name(unsigned i)
{
	return i < N_ALG_NAMES ? alg_names[i].name : NULL;
}

static const struct alg_name *name_lookup(const char *name, size_t n)
{
	for (size_t i = 0; i < N_ALG_NAMES; i++)
		if (strlen(alg_names[i].name) == n && !strncasecmp(alg_names[i].name, name, n))
			return &alg_names[i];
	/* "cmac" alone: AES-CMAC with the key length left to the caller. */
	if (n == 4 && !strncasecmp(name, "cmac", 4)) {
		static const struct alg_name cmac = { "cmac", ATX_SVC_MAC, ATX_MAC_AES_CMAC, 0 };
		return &cmac;
	}
	return NULL;
}

/*
 * Chained names take their order from p->dir as it is when called
 * (encrypt-then-MAC, or verify-then-decrypt for ATX_DECRYPT): set the
 * direction first, since atx__params_check insists the two agree.
 */
int atx_alg_parse(const char *name, struct atx_session_params *p, size_t *key_len)
{
	const struct alg_name *a, *m = NULL;
	const char *plus;
	size_t klen;

	if (!name || !p)
		return -ENOENT;
	plus = strchr(name, '+');
	a = name_lookup(name, plus ? (size_t)(plus - name) : strlen(name));
	if (!a)
		return -ENOENT;
	if (plus) {
		/* "<cipher>+<mac>": encrypt-then-MAC (ALGORITHM_CHAINING). */
		m = name_lookup(plus + 1, strlen(plus + 1));
		if (a->service != ATX_SVC_CIPHER || !m || m->service != ATX_SVC_MAC)
			return -ENOENT;
	}
	klen = a->key_len;

	p->cipher = ATX_CIPHER_NONE;
	p->hash = ATX_HASH_NONE;
	p->mac = ATX_MAC_NONE;
	p->aead = ATX_AEAD_NONE;
	if (m) {
		p->service = ATX_SVC_CHAIN;
		p->cipher = a->alg;
		p->mac = m->alg;
		p->chain_order = p->dir == ATX_DECRYPT ? ATX_CHAIN_MAC_THEN_ENC
						       : ATX_CHAIN_ENC_THEN_MAC;
	} else {
		p->service = a->service;
		switch (a->service) {
		case ATX_SVC_CIPHER: p->cipher = a->alg; break;
		case ATX_SVC_HASH: p->hash = a->alg; break;
		case ATX_SVC_MAC: p->mac = a->alg; break;
		case ATX_SVC_AEAD: p->aead = a->alg; break;
		default: break;
		}
	}
	if (key_len)
		*key_len = klen;
	return 0;
}

/* ---- status strings ---- */

const char *atx_strerror(int status)
{
	switch (status) {
	case 0: return "success";
	case -EBADMSG: return "verification failed (bad MAC/tag)";
	case -ECANCELED: return "cancelled: a dependency failed";
	case -ESTALE: return "stale descriptor handle (already recycled)";
	case -EOPNOTSUPP: return "operation not supported by any engine";
	case -EAGAIN: return "resources exhausted: run the loop and retry";
	case -EINVAL: return "invalid argument";
	case -EIO: return "engine or device I/O error";
	case -ENODEV: return "no such engine or device";
	case -ENOMEM: return "out of memory";
	case -EBUSY: return "channel held privately by another user";
	case -EINPROGRESS: return "in progress";
	case -ENODATA: return "end of file before the requested length";
	case -ENOENT: return "unknown name";
	case -ETIMEDOUT: return "timed out";
	case -ENOSPC: return "no space left (shared arena full)";
	}
	if (status < 0)
		return strerror(-status);
	return "unknown status";
}
