/* SPDX-License-Identifier: MIT */
/*
 * soft_prov.c - finding a cipher's provider functions (soft_prov.h).
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "soft/soft_prov.h"

bool soft_prov_off;

/* Is @name one of the colon-separated @names (OpenSSL compares names without case)? */
static bool names_have(const char *names, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = names; p && *p;) {
		const char *e = strchr(p, ':');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && !strncasecmp(p, name, n))
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

int soft_prov_cipher_find(const EVP_CIPHER *c, const char *name, struct soft_prov_cipher *out)
{
	OSSL_PROVIDER *prov = c ? (OSSL_PROVIDER *)EVP_CIPHER_get0_provider(c) : NULL;
	const OSSL_ALGORITHM *algs, *a, *hit = NULL;
	struct soft_prov_cipher pc = { 0 };
	int no_cache = 0;

	memset(out, 0, sizeof(*out));
	if (!prov || !name || soft_prov_off || !EVP_CIPHER_is_a(c, name))
		return -ENOENT;
	algs = OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER, &no_cache);
	for (a = algs; a && a->algorithm_names; a++) {
		if (!names_have(a->algorithm_names, name))
			continue;
		if (hit) {
			hit = NULL;     /* two of them: which one EVP took is not ours to guess */
			break;
		}
		hit = a;
	}
	for (const OSSL_DISPATCH *d = hit ? hit->implementation : NULL; d && d->function_id; d++) {
		switch (d->function_id) {
		case OSSL_FUNC_CIPHER_NEWCTX:
			pc.newctx = OSSL_FUNC_cipher_newctx(d);
			break;
		case OSSL_FUNC_CIPHER_FREECTX:
			pc.freectx = OSSL_FUNC_cipher_freectx(d);
			break;
		case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
			pc.einit = OSSL_FUNC_cipher_encrypt_init(d);
			break;
		case OSSL_FUNC_CIPHER_DECRYPT_INIT:
			pc.dinit = OSSL_FUNC_cipher_decrypt_init(d);
			break;
		case OSSL_FUNC_CIPHER_UPDATE:
			pc.update = OSSL_FUNC_cipher_update(d);
			break;
		case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
			pc.set_params = OSSL_FUNC_cipher_set_ctx_params(d);
			break;
		}
	}
	if (algs)
		OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, algs);
	if (!pc.newctx || !pc.freectx || !pc.einit || !pc.dinit || !pc.update || !pc.set_params)
		return -ENOENT;
	pc.provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
	pc.ivlen = (size_t)EVP_CIPHER_get_iv_length(c);
	pc.block = EVP_CIPHER_get_block_size(c) > 1;
	*out = pc;
	return 0;
}

void *soft_prov_cipher_new(const struct soft_prov_cipher *pc, int enc, const void *key,
			   size_t keylen)
{
	unsigned int pad = 0;
	OSSL_PARAM params[2] = { OSSL_PARAM_construct_uint(OSSL_CIPHER_PARAM_PADDING, &pad),
				 OSSL_PARAM_construct_end() };
	void *ctx = pc->newctx(pc->provctx);

	if (!ctx)
		return NULL;
	if (!(enc ? pc->einit : pc->dinit)(ctx, key, keylen, NULL, 0, NULL) ||
	    (pc->block && !pc->set_params(ctx, params))) {
		pc->freectx(ctx);
		ERR_clear_error();
		return NULL;
	}
	return ctx;
}

void soft_prov_cipher_free(const struct soft_prov_cipher *pc, void *ctx)
{
	if (ctx)
		pc->freectx(ctx);
}
