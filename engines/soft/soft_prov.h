/* SPDX-License-Identifier: MIT */
/*
 * soft_prov.h - a cipher through its provider's own functions.
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

#endif
