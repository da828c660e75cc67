/* SPDX-License-Identifier: MIT */
/*
 * session.c - atx-vcryptod's session table and its OpenSSL transforms.
 *
 * Sessions are created and destroyed by the control queue thread and by
 * the main thread (vhost-user CREATE/CLOSE_CRYPTO_SESSION), and used by
 * every data queue thread.  A read-write lock keeps it simple: a data
 * request holds the read lock from lookup until its transform is done, so
 * a destroy (write lock) never frees a session under a running request.
 *
 * A session is immutable after creation: fetched algorithms, keys and
 * parameters.  Keyed OpenSSL contexts are per worker thread (vc_worker),
 * cached for the last session used, so back-to-back requests of one
 * session only re-init the IV (shared/PERF.md: a fresh context costs
 * 170-700 ns).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "vcryptod.h"

struct vc_session {
	uint64_t id;
	enum vc_sess_kind kind;
	/* cipher part (CIPHER, CHAIN) or the AEAD cipher */
	EVP_CIPHER *cipher;
	uint32_t cipher_algo;
	uint32_t ivlen;			/* what the algorithm expects */
	uint32_t block;			/* 1 for stream modes */
	bool xts;
	uint8_t ckey[VC_MAX_CIPHER_KEY];
	uint32_t ckeylen;
	uint32_t aead_algo;
	/* hash / mac part (HASH, MAC, CHAIN) */
	EVP_MD *md;			/* plain hash */
	EVP_MAC_CTX *mac_tmpl;		/* keyed template, duplicated per worker */
	uint32_t mdsize;		/* full digest / tag size */
	uint32_t digest_len;		/* session's result length */
	uint32_t chain_order;
	uint32_t aad_len;
};

/* (t) protected by table_lock */
static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct vc_session *table[VC_MAX_SESSIONS];	/* (t) */
static uint64_t table_gen[VC_MAX_SESSIONS];		/* (t) reuse counter per slot */

static void session_free(struct vc_session *s)
{
	if (!s)
		return;
	EVP_CIPHER_free(s->cipher);
	EVP_MD_free(s->md);
	EVP_MAC_CTX_free(s->mac_tmpl);
	OPENSSL_cleanse(s->ckey, sizeof(s->ckey));
	free(s);
}

/* OpenSSL names of the keyed algorithms, by virtio algorithm and key bytes. */
struct keyed_name {
	uint32_t algo;
	uint32_t keylen;
	const char *name;
};

static const struct keyed_name cipher_names[] = {
	{ VIRTIO_CRYPTO_CIPHER_AES_ECB, 16, "AES-128-ECB" },
	{ VIRTIO_CRYPTO_CIPHER_AES_ECB, 24, "AES-192-ECB" },
	{ VIRTIO_CRYPTO_CIPHER_AES_ECB, 32, "AES-256-ECB" },
	{ VIRTIO_CRYPTO_CIPHER_AES_CBC, 16, "AES-128-CBC" },
	{ VIRTIO_CRYPTO_CIPHER_AES_CBC, 24, "AES-192-CBC" },
	{ VIRTIO_CRYPTO_CIPHER_AES_CBC, 32, "AES-256-CBC" },
	{ VIRTIO_CRYPTO_CIPHER_AES_CTR, 16, "AES-128-CTR" },
	{ VIRTIO_CRYPTO_CIPHER_AES_CTR, 24, "AES-192-CTR" },
	{ VIRTIO_CRYPTO_CIPHER_AES_CTR, 32, "AES-256-CTR" },
	{ VIRTIO_CRYPTO_CIPHER_AES_XTS, 32, "AES-128-XTS" },
	{ VIRTIO_CRYPTO_CIPHER_AES_XTS, 64, "AES-256-XTS" },
	{ VIRTIO_CRYPTO_CIPHER_3DES_ECB, 24, "DES-EDE3-ECB" },
	{ VIRTIO_CRYPTO_CIPHER_3DES_CBC, 24, "DES-EDE3-CBC" },
};

static const struct keyed_name aead_names[] = {
	{ VIRTIO_CRYPTO_AEAD_GCM, 16, "AES-128-GCM" },
	{ VIRTIO_CRYPTO_AEAD_GCM, 24, "AES-192-GCM" },
	{ VIRTIO_CRYPTO_AEAD_GCM, 32, "AES-256-GCM" },
	{ VIRTIO_CRYPTO_AEAD_CCM, 16, "AES-128-CCM" },
	{ VIRTIO_CRYPTO_AEAD_CCM, 24, "AES-192-CCM" },
	{ VIRTIO_CRYPTO_AEAD_CCM, 32, "AES-256-CCM" },
	{ VIRTIO_CRYPTO_AEAD_CHACHA20_POLY1305, 32, "ChaCha20-Poly1305" },
};

#define NNAMES(t) (sizeof(t) / sizeof((t)[0]))

/*
 * The name of @algo with a key of @keylen bytes in table @t, or NULL;
 * with @any_key, the first name of @algo whatever its key length.
 */
static const char *keyed_name(const struct keyed_name *t, size_t n, uint32_t algo,
			      uint32_t keylen, bool any_key)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].algo == algo && (any_key || t[i].keylen == keylen))
			return t[i].name;
	return NULL;
}

/* OpenSSL name of a virtio cipher with a given key length, or NULL. */
static const char *cipher_name(uint32_t algo, uint32_t keylen)
{
	return keyed_name(cipher_names, NNAMES(cipher_names), algo, keylen, false);
}

static bool cipher_known(uint32_t algo)
{
	return keyed_name(cipher_names, NNAMES(cipher_names), algo, 0, true) != NULL;
}

static const char *hash_name(uint32_t algo)
{
	switch (algo) {
	case VIRTIO_CRYPTO_HASH_SHA1: return "SHA1";
	case VIRTIO_CRYPTO_HASH_SHA_224: return "SHA224";
	case VIRTIO_CRYPTO_HASH_SHA_256: return "SHA256";
	case VIRTIO_CRYPTO_HASH_SHA_384: return "SHA384";
	case VIRTIO_CRYPTO_HASH_SHA_512: return "SHA512";
	case VIRTIO_CRYPTO_HASH_SHA3_224: return "SHA3-224";
	case VIRTIO_CRYPTO_HASH_SHA3_256: return "SHA3-256";
	case VIRTIO_CRYPTO_HASH_SHA3_384: return "SHA3-384";
	case VIRTIO_CRYPTO_HASH_SHA3_512: return "SHA3-512";
	}
	return NULL;
}

static const char *hmac_digest_name(uint32_t algo)
{
	switch (algo) {
	case VIRTIO_CRYPTO_MAC_HMAC_SHA1: return "SHA1";
	case VIRTIO_CRYPTO_MAC_HMAC_SHA_224: return "SHA224";
	case VIRTIO_CRYPTO_MAC_HMAC_SHA_256: return "SHA256";
	case VIRTIO_CRYPTO_MAC_HMAC_SHA_384: return "SHA384";
	case VIRTIO_CRYPTO_MAC_HMAC_SHA_512: return "SHA512";
	}
	return NULL;
}

static const char *aead_name(uint32_t algo, uint32_t keylen)
{
	return keyed_name(aead_names, NNAMES(aead_names), algo, keylen, false);
}

void vc_fill_config(struct virtio_crypto_config *cfg, unsigned nqueues)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->status = VIRTIO_CRYPTO_S_HW_READY;
	cfg->max_dataqueues = nqueues;
	cfg->crypto_services = 1u << VIRTIO_CRYPTO_SERVICE_CIPHER | 1u << VIRTIO_CRYPTO_SERVICE_HASH |
			       1u << VIRTIO_CRYPTO_SERVICE_MAC | 1u << VIRTIO_CRYPTO_SERVICE_AEAD;
	cfg->cipher_algo_l = 1u << VIRTIO_CRYPTO_CIPHER_AES_ECB | 1u << VIRTIO_CRYPTO_CIPHER_AES_CBC |
			     1u << VIRTIO_CRYPTO_CIPHER_AES_CTR | 1u << VIRTIO_CRYPTO_CIPHER_3DES_ECB |
			     1u << VIRTIO_CRYPTO_CIPHER_3DES_CBC | 1u << VIRTIO_CRYPTO_CIPHER_AES_XTS;
	for (uint32_t a = 1; a <= VIRTIO_CRYPTO_HASH_SHA3_512; a++)
		if (hash_name(a))
			cfg->hash_algo |= 1u << a;
	for (uint32_t a = 1; a <= VIRTIO_CRYPTO_MAC_HMAC_SHA_512; a++)
		if (hmac_digest_name(a))
			cfg->mac_algo_l |= 1u << a;
	cfg->mac_algo_l |= 1u << VIRTIO_CRYPTO_MAC_CMAC_AES;
	cfg->aead_algo = 1u << VIRTIO_CRYPTO_AEAD_GCM | 1u << VIRTIO_CRYPTO_AEAD_CCM |
			 1u << VIRTIO_CRYPTO_AEAD_CHACHA20_POLY1305;
	cfg->max_cipher_key_len = VC_MAX_CIPHER_KEY;
	cfg->max_auth_key_len = VC_MAX_AUTH_KEY;
	cfg->max_size = VC_MAX_DATA;
}

static int setup_cipher(struct vc_session *s, uint32_t algo, uint32_t keylen, const uint8_t *key)
{
	const char *name;
	EVP_CIPHER_CTX *probe;
	int ok;

	if (!cipher_known(algo))
		return VIRTIO_CRYPTO_NOTSUPP;
	name = cipher_name(algo, keylen);
	if (!name || keylen > sizeof(s->ckey))
		return VIRTIO_CRYPTO_BADMSG;	/* known algorithm, impossible key length */
	s->cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	if (!s->cipher)
		return VIRTIO_CRYPTO_NOTSUPP;
	s->cipher_algo = algo;
	s->ivlen = (uint32_t)EVP_CIPHER_get_iv_length(s->cipher);
	s->block = (uint32_t)EVP_CIPHER_get_block_size(s->cipher);
	s->xts = algo == VIRTIO_CRYPTO_CIPHER_AES_XTS;
	memcpy(s->ckey, key, keylen);
	s->ckeylen = keylen;
	/* Key the algorithm once now so a key OpenSSL refuses (XTS with equal
	 * halves) fails the session, not every request. */
	probe = EVP_CIPHER_CTX_new();
	if (!probe)
		return VIRTIO_CRYPTO_ERR;
	ok = EVP_CipherInit_ex2(probe, s->cipher, s->ckey, NULL, 1, NULL);
	EVP_CIPHER_CTX_free(probe);
	return ok ? VIRTIO_CRYPTO_OK : VIRTIO_CRYPTO_ERR;
}

static int setup_hash(struct vc_session *s, uint32_t algo, uint32_t digest_len)
{
	const char *name = hash_name(algo);

	if (!name)
		return VIRTIO_CRYPTO_NOTSUPP;
	s->md = EVP_MD_fetch(NULL, name, NULL);
	if (!s->md)
		return VIRTIO_CRYPTO_NOTSUPP;
	s->mdsize = (uint32_t)EVP_MD_get_size(s->md);
	if (digest_len > s->mdsize)
		return VIRTIO_CRYPTO_BADMSG;
	s->digest_len = digest_len ? digest_len : s->mdsize;
	return VIRTIO_CRYPTO_OK;
}

static int setup_mac(struct vc_session *s, uint32_t algo, uint32_t digest_len,
		     const uint8_t *key, uint32_t keylen)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac = NULL;
	const char *dname = hmac_digest_name(algo);
	int st = VIRTIO_CRYPTO_ERR;

	if (algo == VIRTIO_CRYPTO_MAC_CMAC_AES) {
		/* CMAC runs AES-CBC of the key's size. */
		const char *cname = cipher_name(VIRTIO_CRYPTO_CIPHER_AES_CBC, keylen);

		if (!cname)
			return VIRTIO_CRYPTO_BADMSG;
		mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)cname, 0);
	} else if (dname) {
		if (keylen > VC_MAX_AUTH_KEY)
			return VIRTIO_CRYPTO_BADMSG;
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)dname, 0);
	} else {
		return VIRTIO_CRYPTO_NOTSUPP;
	}
	params[1] = OSSL_PARAM_construct_end();
	if (!mac)
		return VIRTIO_CRYPTO_NOTSUPP;
	s->mac_tmpl = EVP_MAC_CTX_new(mac);
	if (!s->mac_tmpl)
		goto out_free_mac;
	/* HMAC accepts an empty key; OpenSSL wants a non-NULL pointer for it. */
	if (!EVP_MAC_init(s->mac_tmpl, keylen ? key : (const uint8_t *)"", keylen, params))
		goto out_free_mac;
	s->mdsize = (uint32_t)EVP_MAC_CTX_get_mac_size(s->mac_tmpl);
	if (digest_len > s->mdsize) {
		st = VIRTIO_CRYPTO_BADMSG;
		goto out_free_mac;
	}
	s->digest_len = digest_len ? digest_len : s->mdsize;
	st = VIRTIO_CRYPTO_OK;
out_free_mac:
	EVP_MAC_free(mac);
	return st;
}

static int setup_aead(struct vc_session *s, const struct vc_sess_params *p)
{
	const char *name;

	if (p->aead_algo < VIRTIO_CRYPTO_AEAD_GCM || p->aead_algo > VIRTIO_CRYPTO_AEAD_CHACHA20_POLY1305)
		return VIRTIO_CRYPTO_NOTSUPP;
	name = aead_name(p->aead_algo, p->cipher_keylen);
	if (!name)
		return VIRTIO_CRYPTO_BADMSG;
	/* tags: GCM 4..16, CCM 4..16 even, ChaCha20-Poly1305 1..16 */
	if (p->digest_len > 16 || (p->digest_len && p->digest_len < 4 &&
				    p->aead_algo != VIRTIO_CRYPTO_AEAD_CHACHA20_POLY1305) ||
	    (p->aead_algo == VIRTIO_CRYPTO_AEAD_CCM && (p->digest_len & 1)))
		return VIRTIO_CRYPTO_BADMSG;
	s->cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	if (!s->cipher)
		return VIRTIO_CRYPTO_NOTSUPP;
	s->aead_algo = p->aead_algo;
	memcpy(s->ckey, p->cipher_key, p->cipher_keylen);
	s->ckeylen = p->cipher_keylen;
	s->mdsize = 16;
	s->digest_len = p->digest_len ? p->digest_len : 16;
	s->aad_len = p->aad_len;
	return VIRTIO_CRYPTO_OK;
}

int vc_session_create(const struct vc_sess_params *p, uint64_t *id)
{
	struct vc_session *s;
	int st;
	unsigned slot;

	s = calloc(1, sizeof(*s));
	if (!s)
		return VIRTIO_CRYPTO_ERR;
	s->kind = p->kind;
	switch (p->kind) {
	case VC_SESS_CIPHER:
		st = setup_cipher(s, p->cipher_algo, p->cipher_keylen, p->cipher_key);
		break;
	case VC_SESS_CHAIN:
		if (p->chain_order != VIRTIO_CRYPTO_SYM_ALG_CHAIN_ORDER_HASH_THEN_CIPHER &&
		    p->chain_order != VIRTIO_CRYPTO_SYM_ALG_CHAIN_ORDER_CIPHER_THEN_HASH) {
			st = VIRTIO_CRYPTO_BADMSG;
			break;
		}
		s->chain_order = p->chain_order;
		s->aad_len = p->aad_len;
		st = setup_cipher(s, p->cipher_algo, p->cipher_keylen, p->cipher_key);
		if (st != VIRTIO_CRYPTO_OK)
			break;
		if (p->hash_mode == VIRTIO_CRYPTO_SYM_HASH_MODE_PLAIN)
			st = setup_hash(s, p->hash_algo, p->digest_len);
		else if (p->hash_mode == VIRTIO_CRYPTO_SYM_HASH_MODE_AUTH)
			st = setup_mac(s, p->mac_algo, p->digest_len, p->auth_key, p->auth_keylen);
		else
			st = VIRTIO_CRYPTO_NOTSUPP;
		break;
	case VC_SESS_HASH:
		st = setup_hash(s, p->hash_algo, p->digest_len);
		break;
	case VC_SESS_MAC:
		st = setup_mac(s, p->mac_algo, p->digest_len, p->auth_key, p->auth_keylen);
		break;
	case VC_SESS_AEAD:
		st = setup_aead(s, p);
		break;
	default:
		st = VIRTIO_CRYPTO_NOTSUPP;
	}
	if (st != VIRTIO_CRYPTO_OK)
		goto err_free_session;

	pthread_rwlock_wrlock(&table_lock);
	for (slot = 0; slot < VC_MAX_SESSIONS && table[slot]; slot++)
		;
	if (slot == VC_MAX_SESSIONS) {
		pthread_rwlock_unlock(&table_lock);
		st = VIRTIO_CRYPTO_NOSPC;
		goto err_free_session;
	}
	/* id = slot + 1 + gen * VC_MAX_SESSIONS: small, never 0, and a stale id
	 * of a destroyed session never names its slot's next occupant. */
	s->id = (uint64_t)slot + 1 + table_gen[slot]++ * VC_MAX_SESSIONS;
	table[slot] = s;
	*id = s->id;
	pthread_rwlock_unlock(&table_lock);
	return VIRTIO_CRYPTO_OK;

err_free_session:
	session_free(s);
	return st;
}

static unsigned id_slot(uint64_t id)
{
	return (unsigned)((id - 1) % VC_MAX_SESSIONS);
}

int vc_session_destroy(uint64_t id)
{
	struct vc_session *s = NULL;
	unsigned slot;

	if (id == 0)
		return VIRTIO_CRYPTO_INVSESS;
	slot = id_slot(id);
	pthread_rwlock_wrlock(&table_lock);
	if (table[slot] && table[slot]->id == id) {
		s = table[slot];
		table[slot] = NULL;
	}
	pthread_rwlock_unlock(&table_lock);
	if (!s)
		return VIRTIO_CRYPTO_INVSESS;
	session_free(s);
	return VIRTIO_CRYPTO_OK;
}

void vc_sessions_clear(void)
{
	pthread_rwlock_wrlock(&table_lock);
	for (unsigned i = 0; i < VC_MAX_SESSIONS; i++) {
		session_free(table[i]);
		table[i] = NULL;
	}
	pthread_rwlock_unlock(&table_lock);
}

const struct vc_session *vc_session_get(uint64_t id)
{
	unsigned slot;

	pthread_rwlock_rdlock(&table_lock);
	if (id == 0)
		return NULL;
	slot = id_slot(id);
	if (table[slot] && table[slot]->id == id)
		return table[slot];
	return NULL;
}

void vc_session_put(void)
{
	pthread_rwlock_unlock(&table_lock);
}

enum vc_sess_kind vc_session_kind(const struct vc_session *s)
{
	return s->kind;
}

uint32_t vc_session_chain_order(const struct vc_session *s)
{
	return s->chain_order;
}

/* ---- transforms ---- */

int vc_do_cipher(struct vc_worker *w, const struct vc_session *s, int enc,
		 const uint8_t *iv, uint32_t ivlen, const uint8_t *src, uint32_t len, uint8_t *dst)
{
	int outl = 0, finl = 0;

	/* ECB takes no IV: accept and ignore one rather than fail a driver
	 * that always sends a block's worth. */
	if (s->ivlen && ivlen != s->ivlen)
		return VIRTIO_CRYPTO_BADMSG;
	if (s->block > 1 && len % s->block)
		return VIRTIO_CRYPTO_BADMSG;
	if (s->xts && len < 16)
		return VIRTIO_CRYPTO_BADMSG;
	if (len == 0)
		return VIRTIO_CRYPTO_OK;

	if (w->cctx_sess == s->id && w->cctx_enc == enc) {
		if (!EVP_CipherInit_ex2(w->cctx, NULL, NULL, s->ivlen ? iv : NULL, enc, NULL))
			goto err;
	} else {
		w->cctx_sess = 0;
		if (!EVP_CipherInit_ex2(w->cctx, s->cipher, s->ckey, s->ivlen ? iv : NULL, enc, NULL))
			goto err;
		EVP_CIPHER_CTX_set_padding(w->cctx, 0);
		w->cctx_sess = s->id;
		w->cctx_enc = enc;
	}
	if (!EVP_CipherUpdate(w->cctx, dst, &outl, src, (int)len))
		goto err;
	if (!EVP_CipherFinal_ex(w->cctx, dst + outl, &finl))
		goto err;
	if ((uint32_t)(outl + finl) != len)
		goto err;
	return VIRTIO_CRYPTO_OK;
err:
	w->cctx_sess = 0;
	return VIRTIO_CRYPTO_ERR;
}

int vc_do_digest(struct vc_worker *w, const struct vc_session *s, const uint8_t *aad, uint32_t aadlen,
		 const uint8_t *src, uint32_t len, uint8_t *out, uint32_t outlen)
{
	uint8_t full[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	unsigned int mdlen = 0;

	if (outlen == 0 || outlen > s->mdsize)
		return VIRTIO_CRYPTO_BADMSG;
	if (s->md) {
		if (!EVP_DigestInit_ex2(w->mdctx, s->md, NULL) ||
		    (aadlen && !EVP_DigestUpdate(w->mdctx, aad, aadlen)) ||
		    !EVP_DigestUpdate(w->mdctx, src, len) ||
		    !EVP_DigestFinal_ex(w->mdctx, full, &mdlen))
			return VIRTIO_CRYPTO_ERR;
	} else if (s->mac_tmpl) {
		if (w->macctx_sess != s->id) {
			EVP_MAC_CTX_free(w->macctx);
			w->macctx_sess = 0;
			w->macctx = EVP_MAC_CTX_dup(s->mac_tmpl);
			if (!w->macctx)
				return VIRTIO_CRYPTO_ERR;
			w->macctx_sess = s->id;
		} else if (!EVP_MAC_init(w->macctx, NULL, 0, NULL)) {
			/* NULL key: restart with the key already set */
			goto err_mac;
		}
		if ((aadlen && !EVP_MAC_update(w->macctx, aad, aadlen)) ||
		    !EVP_MAC_update(w->macctx, src, len) ||
		    !EVP_MAC_final(w->macctx, full, &maclen, sizeof(full)))
			goto err_mac;
	} else {
		return VIRTIO_CRYPTO_INVSESS;
	}
	memcpy(out, full, outlen);
	OPENSSL_cleanse(full, sizeof(full));
	return VIRTIO_CRYPTO_OK;
err_mac:
	/* the cached context is in an unknown state: drop it */
	EVP_MAC_CTX_free(w->macctx);
	w->macctx = NULL;
	w->macctx_sess = 0;
	return VIRTIO_CRYPTO_ERR;
}

/*
 * AEAD per the convention in virtio_crypto_proto.h: encrypt writes
 * ciphertext || tag, decrypt reads ciphertext || tag.  A tag mismatch is
 * BADMSG (the driver maps it to -EBADMSG, as Linux crypto does).
 */
int vc_do_aead(struct vc_worker *w, const struct vc_session *s, int enc,
	       const uint8_t *iv, uint32_t ivlen, const uint8_t *aad, uint32_t aadlen,
	       const uint8_t *src, uint32_t srclen, uint8_t *dst, uint32_t dstlen)
{
	EVP_CIPHER_CTX *c = w->cctx;
	uint32_t tag = s->digest_len, len;
	bool ccm = s->aead_algo == VIRTIO_CRYPTO_AEAD_CCM;
	int outl = 0, finl = 0, st = VIRTIO_CRYPTO_ERR;

	if (enc) {
		len = srclen;
		if (dstlen != srclen + tag)
			return VIRTIO_CRYPTO_BADMSG;
	} else {
		if (srclen < tag || dstlen != srclen - tag)
			return VIRTIO_CRYPTO_BADMSG;
		len = srclen - tag;
	}
	if (ivlen == 0 || (ccm && (ivlen < 7 || ivlen > 13)) ||
	    (s->aead_algo == VIRTIO_CRYPTO_AEAD_CHACHA20_POLY1305 && ivlen > 12))
		return VIRTIO_CRYPTO_BADMSG;

	/* The AEAD setup depends on IV and tag length per request: always
	 * start from a fresh init, and make the cipher cache forget. */
	w->cctx_sess = 0;
	if (!EVP_CipherInit_ex2(c, s->cipher, NULL, NULL, enc, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, (int)ivlen, NULL))
		goto out;
	if (ccm && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, (int)tag,
					enc ? NULL : (void *)(src + len)))
		goto out;
	if (!EVP_CipherInit_ex2(c, NULL, s->ckey, iv, enc, NULL))
		goto out;
	if (ccm && !EVP_CipherUpdate(c, NULL, &outl, NULL, (int)len))
		goto out;
	if (aadlen && !EVP_CipherUpdate(c, NULL, &outl, aad, (int)aadlen))
		goto out;
	if (!ccm && !enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, (int)tag, (void *)(src + len)))
		goto out;
	outl = 0;
	if ((len || ccm) && !EVP_CipherUpdate(c, dst, &outl, src, (int)len)) {
		/* CCM verifies the tag inside the update */
		st = ccm && !enc ? VIRTIO_CRYPTO_BADMSG : VIRTIO_CRYPTO_ERR;
		goto out;
	}
	if (!ccm && !EVP_CipherFinal_ex(c, dst + outl, &finl)) {
		st = enc ? VIRTIO_CRYPTO_ERR : VIRTIO_CRYPTO_BADMSG;
		goto out;
	}
	if (enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, (int)tag, dst + len))
		goto out;
	st = VIRTIO_CRYPTO_OK;
out:
	if (st != VIRTIO_CRYPTO_OK && !enc)
		OPENSSL_cleanse(dst, len);	/* never hand out unauthenticated plaintext */
	return st;
}
