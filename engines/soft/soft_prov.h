/* SPDX-License-Identifier: MIT */
/*
 * soft_prov.h - a cipher, digest or MAC through its provider's own
 * functions.
 *
 * OpenSSL 3.0's EVP_CipherInit_ex2 asks the provider for the context's
 * IV length on every call (EVP_CIPHER_CTX_get_iv_length: a
 * get_ctx_params query that compares parameter names), which perf put at
 * 6 % of atx bench's 4 KiB XTS chain; a 512-byte AES-256-XTS took
 * 310 ns through EVP_CipherInit_ex2 + EVP_CipherUpdate and 187 ns through
 * these, the same provider code on the same keyed state.  This is the
 * interface EVP itself calls (provider-cipher(7)): the implementation is
 * looked up in the table of the provider that served EVP_CIPHER_fetch,
 * by the name it was fetched with, and used only when it is listed there
 * exactly once; otherwise the caller stays on EVP.
 *
 * The software engine re-inits the IV of a keyed context per request
 * this way (soft_crypto.c), and atx bench's hand-written baseline makes
 * the same calls, so that its ratio measures atx rather than EVP.
 *
 * Digests and MACs the same way, for the same reason.  EVP_DigestInit_ex2
 * re-checks and re-selects the digest on every call, and EVP_MAC_final
 * asks the provider for the MAC size with a get_ctx_params query; a
 * keyed HMAC-SHA256 over 512 bytes took 800-833 ns through EVP_MAC and
 * 736-764 ns through these, a SHA-256 of 64 bytes 217-224 ns through
 * EVP_Digest* and 135-139 ns through these.  (Most of what an HMAC
 * re-init still costs is the provider's own: it copies the inner digest
 * context with a fresh allocation at init and the outer one at final.)
 */
#ifndef ATX_SOFT_PROV_H
#define ATX_SOFT_PROV_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/core_dispatch.h>
#include <openssl/evp.h>

struct soft_prov_cipher {
	void *provctx;
	OSSL_FUNC_cipher_newctx_fn *newctx;
	OSSL_FUNC_cipher_freectx_fn *freectx;
	OSSL_FUNC_cipher_encrypt_init_fn *einit;
	OSSL_FUNC_cipher_decrypt_init_fn *dinit;
	OSSL_FUNC_cipher_update_fn *update;
	OSSL_FUNC_cipher_set_ctx_params_fn *set_params;
	size_t ivlen;           /* what EVP passes with an IV: the cipher's IV length */
	int block;              /* a block mode: padding goes off */
};

/* Tests only: when set, soft_prov_cipher_find finds nothing (everything stays on EVP). */
extern bool soft_prov_off;

/* Fill @pc for @c, fetched as @name: 0, or -ENOENT (use EVP). */
int soft_prov_cipher_find(const EVP_CIPHER *c, const char *name, struct soft_prov_cipher *pc);

/* A context keyed for @enc (1 encrypt, 0 decrypt), padding off; NULL on failure. */
void *soft_prov_cipher_new(const struct soft_prov_cipher *pc, int enc, const void *key,
			   size_t keylen);

/* Free @ctx; the provider cleanses its key schedule. */
void soft_prov_cipher_free(const struct soft_prov_cipher *pc, void *ctx);

/* Re-init @ctx with @iv only (NULL: the mode's own reset), as EVP_CipherInit_ex2 would. */
static inline int soft_prov_cipher_iv(const struct soft_prov_cipher *pc, void *ctx, int enc,
				      const uint8_t *iv)
{
	if (!(enc ? pc->einit : pc->dinit)(ctx, NULL, 0, iv, iv ? pc->ivlen : 0, NULL))
		return -EIO;
	return 0;
}

/* One update that must come out whole (@n a multiple of the block for block modes). */
static inline int soft_prov_cipher_update(const struct soft_prov_cipher *pc, void *ctx,
					  uint8_t *out, const uint8_t *in, size_t n)
{
	size_t outl = 0;

	if (!n)
		return 0;       /* as EVP_CipherUpdate (the XTS provider refuses n == 0) */
	if (!pc->update(ctx, out, &outl, n, in, n) || outl != n)
		return -EIO;
	return 0;
}

/* ---- digests ---- */

struct soft_prov_digest {
	void *provctx;
	OSSL_FUNC_digest_newctx_fn *newctx;
	OSSL_FUNC_digest_freectx_fn *freectx;
	OSSL_FUNC_digest_init_fn *init;
	OSSL_FUNC_digest_update_fn *update;
	OSSL_FUNC_digest_final_fn *final;
	size_t size;            /* the digest's length */
};

/* Fill @pd for @md, fetched as @name: 0, or -ENOENT (use EVP). */
int soft_prov_digest_find(const EVP_MD *md, const char *name, struct soft_prov_digest *pd);

/* A context to init per request; NULL on failure. */
void *soft_prov_digest_new(const struct soft_prov_digest *pd);

void soft_prov_digest_free(const struct soft_prov_digest *pd, void *ctx);

static inline int soft_prov_digest_init(const struct soft_prov_digest *pd, void *ctx)
{
	return pd->init(ctx, NULL) ? 0 : -EIO;
}

/* The digest into @md (EVP_MAX_MD_SIZE bytes). */
static inline int soft_prov_digest_final(const struct soft_prov_digest *pd, void *ctx,
					 uint8_t *md)
{
	size_t outl = 0;

	if (!pd->final(ctx, md, &outl, EVP_MAX_MD_SIZE) || outl != pd->size)
		return -EIO;
	return 0;
}

/* ---- MACs ---- */

struct soft_prov_mac {
	void *provctx;
	OSSL_FUNC_mac_newctx_fn *newctx;
	OSSL_FUNC_mac_freectx_fn *freectx;
	OSSL_FUNC_mac_init_fn *init;
	OSSL_FUNC_mac_update_fn *update;
	OSSL_FUNC_mac_final_fn *final;
};

/* Fill @pm for @m, fetched as @name ("HMAC", "CMAC"): 0, or -ENOENT (use EVP). */
int soft_prov_mac_find(const EVP_MAC *m, const char *name, struct soft_prov_mac *pm);

/* A context keyed with @key and @params (as EVP_MAC_init takes them); NULL on failure. */
void *soft_prov_mac_new(const struct soft_prov_mac *pm, const void *key, size_t keylen,
			const OSSL_PARAM params[]);

/* Free @ctx; the provider cleanses the key it holds. */
void soft_prov_mac_free(const struct soft_prov_mac *pm, void *ctx);

/* Restart with the key @ctx holds, as EVP_MAC_init with no key does. */
static inline int soft_prov_mac_init(const struct soft_prov_mac *pm, void *ctx)
{
	return pm->init(ctx, NULL, 0, NULL) ? 0 : -EIO;
}

/* The MAC into @md (room for @size bytes); its length in *@len. */
static inline int soft_prov_mac_final(const struct soft_prov_mac *pm, void *ctx, uint8_t *md,
				      size_t size, size_t *len)
{
	*len = 0;
	return pm->final(ctx, md, len, size) && *len ? 0 : -EIO;
}

#endif
