/* SPDX-License-Identifier: MIT */
/*
 * mb_session.c - which sessions the multi-buffer engine serves, and the
 * key material it precomputes for them: AES key schedules, GCM hash-key
 * powers, CMAC subkeys, HMAC inner/outer states.  All of it is built once
 * at session creation so that a job only points at it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mb.h"
#include "soft/soft.h"

static bool aes_len_ok(size_t len)
{
	return len == 16 || len == 24 || len == 32;
}

static int hmac_alg(enum atx_mac_alg m, IMB_HASH_ALG *alg, size_t *block, size_t *full)
{
	switch (m) {
	case ATX_MAC_HMAC_SHA1:
		*alg = IMB_AUTH_HMAC_SHA_1, *block = 64, *full = 20;
		return 0;
	case ATX_MAC_HMAC_SHA224:
		*alg = IMB_AUTH_HMAC_SHA_224, *block = 64, *full = 28;
		return 0;
	case ATX_MAC_HMAC_SHA256:
		*alg = IMB_AUTH_HMAC_SHA_256, *block = 64, *full = 32;
		return 0;
	case ATX_MAC_HMAC_SHA384:
		*alg = IMB_AUTH_HMAC_SHA_384, *block = 128, *full = 48;
		return 0;
	case ATX_MAC_HMAC_SHA512:
		*alg = IMB_AUTH_HMAC_SHA_512, *block = 128, *full = 64;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/* The cipher modes worth a job here: CBC (serial, the big win) and CTR. */
static int cipher_ok(enum atx_cipher_alg c, size_t key_len)
{
	if ((c != ATX_CIPHER_AES_CBC && c != ATX_CIPHER_AES_CTR) || !aes_len_ok(key_len))
		return -EOPNOTSUPP;
	return 0;
}

static int mac_ok(enum atx_mac_alg m, size_t key_len)
{
	IMB_HASH_ALG alg;
	size_t block, full;

	if (m == ATX_MAC_AES_CMAC)
		return key_len == 16 || key_len == 32 ? 0 : -EOPNOTSUPP;
	if (hmac_alg(m, &alg, &block, &full))
		return -EOPNOTSUPP;
	return key_len >= 1 && key_len <= ATX_MAX_AUTH_KEY_LEN ? 0 : -EOPNOTSUPP;
}

int mb_sess_probe(const struct atx_session_params *p)
{
	if (p->data_unit_len)
		return -EOPNOTSUPP;     /* one IV per job: multi-unit requests stay in software */
	switch (p->service) {
	case ATX_SVC_CIPHER:
		return cipher_ok(p->cipher, p->key_len);
	case ATX_SVC_MAC:
		return mac_ok(p->mac, p->key_len);
	case ATX_SVC_AEAD:
		switch (p->aead) {
		case ATX_AEAD_AES_GCM:
			return aes_len_ok(p->key_len) ? 0 : -EOPNOTSUPP;
		case ATX_AEAD_AES_CCM:
			/* The library has CCM for 128- and 256-bit keys only. */
			return p->key_len == 16 || p->key_len == 32 ? 0 : -EOPNOTSUPP;
		case ATX_AEAD_CHACHA20_POLY1305:
			return p->key_len == 32 && (!p->digest_len || p->digest_len == 16) ?
			       0 : -EOPNOTSUPP;
		default:
			return -EOPNOTSUPP;
		}
	case ATX_SVC_CHAIN:
		/* HMAC only: cipher + CMAC is rare enough to leave to software. */
		if (p->mac == ATX_MAC_AES_CMAC || cipher_ok(p->cipher, p->key_len) ||
		    mac_ok(p->mac, p->auth_key_len))
			return -EOPNOTSUPP;
		if (p->dir == ATX_ENCRYPT ? p->chain_order != ATX_CHAIN_ENC_THEN_MAC :
					    p->chain_order != ATX_CHAIN_MAC_THEN_ENC)
			return -EOPNOTSUPP;
		return 0;
	default:
		/* Plain hashes, XTS, ECB, 3DES, ChaCha20 alone: the soft engine's. */
		return -EOPNOTSUPP;
	}
}

static void aes_expand(IMB_MGR *mgr, struct mb_sess *ms, const void *key, size_t len)
{
	if (len == 16)
		IMB_AES_KEYEXP_128(mgr, key, ms->enc_keys, ms->dec_keys);
	else if (len == 24)
		IMB_AES_KEYEXP_192(mgr, key, ms->enc_keys, ms->dec_keys);
	else
		IMB_AES_KEYEXP_256(mgr, key, ms->enc_keys, ms->dec_keys);
}

/*
 * HMAC: the job wants the compression-function state after one block of
 * key^ipad and of key^opad; a key longer than the block is hashed first
 * (RFC 2104).
 */
static int hmac_precompute(IMB_MGR *mgr, struct mb_sess *ms, enum atx_mac_alg m,
			   const uint8_t *key, size_t key_len)
{
	uint8_t k[128] __attribute__((aligned(16)));
	uint8_t pad[128] __attribute__((aligned(16)));
	unsigned int klen = 0;
	IMB_HASH_ALG alg;
	size_t block, full, i;
	int ret = 0;

	static const char *const md[] = {
		[ATX_MAC_HMAC_SHA1] = "SHA1", [ATX_MAC_HMAC_SHA224] = "SHA224",
		[ATX_MAC_HMAC_SHA256] = "SHA256", [ATX_MAC_HMAC_SHA384] = "SHA384",
		[ATX_MAC_HMAC_SHA512] = "SHA512",
	};

	if (hmac_alg(m, &alg, &block, &full) || key_len > sizeof(ms->hmac_key))
		return -EOPNOTSUPP;
	memcpy(ms->hmac_key, key, key_len);
	ms->hmac_key_len = key_len;
	ms->hmac_md = md[m];
	memset(k, 0, sizeof(k));
	if (key_len > block) {
		EVP_MD *h = EVP_MD_fetch(NULL, md[m], NULL);

		if (!h)
			return -ENOMEM;
		if (!EVP_Digest(key, key_len, k, &klen, h, NULL))
			ret = -EIO;
		EVP_MD_free(h);
		if (ret)
			goto out_wipe;
	} else {
		memcpy(k, key, key_len);
	}

	for (i = 0; i < block; i++)
		pad[i] = k[i] ^ 0x36;
	switch (alg) {
	case IMB_AUTH_HMAC_SHA_1:
		IMB_SHA1_ONE_BLOCK(mgr, pad, ms->ipad);
		break;
	case IMB_AUTH_HMAC_SHA_224:
		IMB_SHA224_ONE_BLOCK(mgr, pad, ms->ipad);
		break;
	case IMB_AUTH_HMAC_SHA_256:
		IMB_SHA256_ONE_BLOCK(mgr, pad, ms->ipad);
		break;
	case IMB_AUTH_HMAC_SHA_384:
		IMB_SHA384_ONE_BLOCK(mgr, pad, ms->ipad);
		break;
	default:
		IMB_SHA512_ONE_BLOCK(mgr, pad, ms->ipad);
		break;
	}
	for (i = 0; i < block; i++)
		pad[i] = k[i] ^ 0x5c;
	switch (alg) {
	case IMB_AUTH_HMAC_SHA_1:
		IMB_SHA1_ONE_BLOCK(mgr, pad, ms->opad);
		break;
	case IMB_AUTH_HMAC_SHA_224:
		IMB_SHA224_ONE_BLOCK(mgr, pad, ms->opad);
		break;
	case IMB_AUTH_HMAC_SHA_256:
		IMB_SHA256_ONE_BLOCK(mgr, pad, ms->opad);
		break;
	case IMB_AUTH_HMAC_SHA_384:
		IMB_SHA384_ONE_BLOCK(mgr, pad, ms->opad);
		break;
	default:
		IMB_SHA512_ONE_BLOCK(mgr, pad, ms->opad);
		break;
	}
	ms->hash_alg = alg;
	ms->job_tag_len = full;
out_wipe:
	imb_clear_mem(k, sizeof(k));
	imb_clear_mem(pad, sizeof(pad));
	return ret;
}

static int mac_setup(IMB_MGR *mgr, struct mb_sess *ms, enum atx_mac_alg m, const void *key,
		     size_t key_len)
{
	if (m != ATX_MAC_AES_CMAC)
		return hmac_precompute(mgr, ms, m, key, key_len);
	aes_expand(mgr, ms, key, key_len);
	if (key_len == 16) {
		IMB_AES_CMAC_SUBKEY_GEN_128(mgr, ms->enc_keys, ms->cmac_k1, ms->cmac_k2);
		ms->hash_alg = IMB_AUTH_AES_CMAC;
	} else {
		IMB_AES_CMAC_SUBKEY_GEN_256(mgr, ms->enc_keys, ms->cmac_k1, ms->cmac_k2);
		ms->hash_alg = IMB_AUTH_AES_CMAC_256;
	}
	ms->job_tag_len = 16;
	return 0;
}

/*
 * Batch size below which OpenSSL's single-buffer code beats a manager
 * pass, measured on AVX-512 (VAES) with 4 KiB buffers: a pass of CBC
 * encrypt / CBC-MAC (CMAC, CCM) costs about two single-buffer AES-NI
 * runs; a 16-lane HMAC-SHA1/256 pass costs as much as ~7 SHA-NI HMACs;
 * an 8-lane SHA-512 pass about three.  CTR, GCM, CBC decrypt and
 * ChaCha20-Poly1305 run each job at once, never in lanes: 0.
 */
static uint32_t lone_max(const struct mb_sess *ms)
{
	uint32_t n = 0;

	if (ms->cipher_mode == IMB_CIPHER_CBC && ms->dir == IMB_DIR_ENCRYPT)
		n = 2;
	if (ms->cipher_mode == IMB_CIPHER_CCM)
		n = 2;
	switch (ms->hash_alg) {
	case IMB_AUTH_HMAC_SHA_1:
	case IMB_AUTH_HMAC_SHA_224:
	case IMB_AUTH_HMAC_SHA_256:
		n = 8;
		break;
	case IMB_AUTH_HMAC_SHA_384:
	case IMB_AUTH_HMAC_SHA_512:
		n = n > 3 ? n : 3;
		break;
	case IMB_AUTH_AES_CMAC:
	case IMB_AUTH_AES_CMAC_256:
		n = 2;
		break;
	default:
		break;
	}
	return n;
}

/*
 * The constant part of every job of @ms, built once so the fast path
 * copies it instead of deciding field by field (mb_job_prep fills the
 * rest).  The pointers are into @ms itself, which never moves.
 */
static void sess_tmpl(struct mb_sess *ms)
{
	IMB_JOB *j = &ms->tmpl;

	memset(j, 0, sizeof(*j));
	j->cipher_mode = ms->cipher_mode;
	j->cipher_direction = ms->dir;
	j->hash_alg = ms->hash_alg;
	j->chain_order = ms->order;
	j->key_len_in_bytes = ms->key_len;
	j->enc_keys = ms->enc_keys;
	j->dec_keys = ms->dec_keys;
	j->auth_tag_output_len_in_bytes = ms->job_tag_len;
	j->sgl_state = IMB_SGL_ALL;
	switch (ms->hash_alg) {
	case IMB_AUTH_HMAC_SHA_1:
	case IMB_AUTH_HMAC_SHA_224:
	case IMB_AUTH_HMAC_SHA_256:
	case IMB_AUTH_HMAC_SHA_384:
	case IMB_AUTH_HMAC_SHA_512:
		j->u.HMAC._hashed_auth_key_xor_ipad = ms->ipad;
		j->u.HMAC._hashed_auth_key_xor_opad = ms->opad;
		break;
	case IMB_AUTH_AES_CMAC:
	case IMB_AUTH_AES_CMAC_256:
		j->u.CMAC._key_expanded = ms->enc_keys;
		j->u.CMAC._skey1 = ms->cmac_k1;
		j->u.CMAC._skey2 = ms->cmac_k2;
		break;
	case IMB_AUTH_AES_GMAC:
		j->enc_keys = &ms->gcm;
		j->dec_keys = &ms->gcm;
		break;
	case IMB_AUTH_AES_CCM:
		/* CCM keeps everything in enc_keys; both passes run over the payload. */
		j->dec_keys = ms->enc_keys;
		break;
	case IMB_AUTH_CHACHA20_POLY1305:
		j->enc_keys = ms->raw_key;
		j->dec_keys = ms->raw_key;
		break;
	default:
		break;
	}

	ms->gcm_direct = ms->cipher_mode == IMB_CIPHER_GCM && !ms->verify;
	/* Lane-based or direct single-job code, without the job API's dispatch. */
	if (ms->kind == MB_KIND_CIPHER &&
	    (ms->cipher_mode == IMB_CIPHER_CBC || ms->cipher_mode == IMB_CIPHER_CNTR)) {
		ms->burst = MB_BURST_CIPHER;
		ms->burst_cls = MB_BURST_CIPHER << 24 | (uint32_t)ms->cipher_mode << 16 |
				(uint32_t)ms->dir << 8 | ms->key_len;
	} else if (ms->kind == MB_KIND_MAC && ms->hash_alg != IMB_AUTH_AES_CMAC &&
		   ms->hash_alg != IMB_AUTH_AES_CMAC_256) {
		/* HMAC-SHA1/224/256/384/512: the hash burst has no CMAC in 1.3. */
		ms->burst = MB_BURST_HASH;
		ms->burst_cls = MB_BURST_HASH << 24 | (uint32_t)ms->hash_alg;
	}
}

int mb_sess_new(IMB_MGR *mgr, const struct atx_session_params *p, bool lone,
		struct mb_sess **out)
{
	struct mb_sess *ms;
	bool enc = p->dir == ATX_ENCRYPT;
	int ret;

	ret = mb_sess_probe(p);
	if (ret)
		return ret;
	ms = aligned_alloc(64, sizeof(*ms));
	if (!ms)
		return -ENOMEM;
	memset(ms, 0, sizeof(*ms));
	ms->verify = !enc;
	ms->dir = enc ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	ms->cipher_mode = IMB_CIPHER_NULL;
	ms->hash_alg = IMB_AUTH_NULL;
	ms->order = IMB_ORDER_CIPHER_HASH;
	ms->block = 1;

	switch (p->service) {
	case ATX_SVC_CIPHER:
	case ATX_SVC_CHAIN:
		ms->kind = p->service == ATX_SVC_CIPHER ? MB_KIND_CIPHER : MB_KIND_CHAIN;
		ms->cipher_mode = p->cipher == ATX_CIPHER_AES_CBC ? IMB_CIPHER_CBC : IMB_CIPHER_CNTR;
		ms->block = p->cipher == ATX_CIPHER_AES_CBC ? 16 : 1;
		ms->key_len = p->key_len;
		aes_expand(mgr, ms, p->key, p->key_len);
		if (ms->cipher_mode == IMB_CIPHER_CNTR)
			memcpy(ms->raw_key, p->key, p->key_len);
		if (p->service == ATX_SVC_CIPHER) {
			/* A cipher session never verifies anything. */
			ms->verify = false;
			break;
		}
		/* Encrypt-then-MAC, or verify-then-decrypt: the MAC always covers ciphertext. */
		ms->order = enc ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
		ret = hmac_precompute(mgr, ms, p->mac, p->auth_key, p->auth_key_len);
		if (ret)
			goto err_free;
		ms->tag_len = p->digest_len ? p->digest_len : ms->job_tag_len;
		break;
	case ATX_SVC_MAC:
		ms->kind = MB_KIND_MAC;
		ms->key_len = p->mac == ATX_MAC_AES_CMAC ? p->key_len : 0;
		ms->order = IMB_ORDER_HASH_CIPHER;
		ms->dir = IMB_DIR_ENCRYPT;      /* the "cipher" is NULL either way */
		ret = mac_setup(mgr, ms, p->mac, p->key, p->key_len);
		if (ret)
			goto err_free;
		ms->tag_len = p->digest_len ? p->digest_len : ms->job_tag_len;
		break;
	case ATX_SVC_AEAD:
		ms->kind = MB_KIND_AEAD;
		ms->key_len = p->key_len;
		ms->tag_len = p->digest_len ? p->digest_len : 16;
		/* Encrypt then authenticate the ciphertext; decrypt after authenticating it. */
		ms->order = enc ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
		switch (p->aead) {
		case ATX_AEAD_AES_GCM:
			ms->cipher_mode = IMB_CIPHER_GCM;
			ms->hash_alg = IMB_AUTH_AES_GMAC;
			/* A shorter GCM tag is the full tag's prefix: compute all 16. */
			ms->job_tag_len = 16;
			if (p->key_len == 16)
				IMB_AES128_GCM_PRE(mgr, p->key, &ms->gcm);
			else if (p->key_len == 24)
				IMB_AES192_GCM_PRE(mgr, p->key, &ms->gcm);
			else
				IMB_AES256_GCM_PRE(mgr, p->key, &ms->gcm);
			break;
		case ATX_AEAD_AES_CCM:
			ms->cipher_mode = IMB_CIPHER_CCM;
			ms->hash_alg = IMB_AUTH_AES_CCM;
			/* CCM's tag length is an input (it is encoded in B0). */
			ms->job_tag_len = ms->tag_len;
			/* CCM MACs the plaintext: MAC first when encrypting. */
			ms->order = enc ? IMB_ORDER_HASH_CIPHER : IMB_ORDER_CIPHER_HASH;
			aes_expand(mgr, ms, p->key, p->key_len);
			/* For AAD longer than the library takes (mb_job.c). */
			memcpy(ms->raw_key, p->key, p->key_len);
			break;
		default:
			ms->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
			ms->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
			ms->job_tag_len = 16;
			memcpy(ms->raw_key, p->key, 32);
			break;
		}
		break;
	default:
		ret = -EOPNOTSUPP;
		goto err_free;
	}
	/*
	 * The library keeps lengths of its lane-based modes (CBC, CCM, CMAC,
	 * HMAC) in 16 bits and refuses more than 65534 bytes; atx does not
	 * limit them.  Longer requests, and small batches (lone_max), go
	 * through a single-lane soft_crypto session, like a kernel driver's
	 * fallback tfm.
	 */
	if (ms->cipher_mode == IMB_CIPHER_CBC || ms->cipher_mode == IMB_CIPHER_CCM ||
	    (ms->hash_alg != IMB_AUTH_NULL && ms->cipher_mode != IMB_CIPHER_GCM &&
	     ms->cipher_mode != IMB_CIPHER_CHACHA20_POLY1305))
		ms->max_len = 65534;
	if (ms->max_len || (lone && lone_max(ms))) {
		ret = soft_crypto_session_new(p, 1, &ms->soft);
		if (ret)
			goto err_free;
	}
	if (lone)
		ms->lone_max = lone_max(ms);
	sess_tmpl(ms);
	*out = ms;
	return 0;

err_free:
	mb_sess_free(ms);
	return ret;
}

void mb_sess_free(struct mb_sess *ms)
{
	if (!ms)
		return;
	if (ms->soft)
		soft_crypto_session_free(ms->soft);
	imb_clear_mem(ms, sizeof(*ms));
	free(ms);
}
