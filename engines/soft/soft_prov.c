/* SPDX-License-Identifier: MIT */
/*
 * soft_prov.c - finding a cipher's, digest's or MAC's provider functions
 * (soft_prov.h).
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

/*
 * Hand each function of the implementation of operation @op named @name
 * in @prov to @take: true when there is exactly one such implementation.
 */
static bool prov_take(OSSL_PROVIDER *prov, int op, const char *name,
		      void (*take)(const OSSL_DISPATCH *d, void *out), void *out)
{
	const OSSL_ALGORITHM *algs, *a, *hit = NULL;
	int no_cache = 0;

	algs = OSSL_PROVIDER_query_operation(prov, op, &no_cache);
	for (a = algs; a && a->algorithm_names; a++) {
		if (!names_have(a->algorithm_names, name))
			continue;
		if (hit) {
			hit = NULL;     /* two of them: which one EVP took is not ours to guess */
			break;
		}
		hit = a;
	}
	for (const OSSL_DISPATCH *d = hit ? hit->implementation : NULL; d && d->function_id; d++)
		take(d, out);
	if (algs)
		OSSL_PROVIDER_unquery_operation(prov, op, algs);
	return hit != NULL;
}

static void take_cipher(const OSSL_DISPATCH *d, void *out)
{
	struct soft_prov_cipher *pc = out;

	switch (d->function_id) {
	case OSSL_FUNC_CIPHER_NEWCTX:
		pc->newctx = OSSL_FUNC_cipher_newctx(d);
		break;
	case OSSL_FUNC_CIPHER_FREECTX:
		pc->freectx = OSSL_FUNC_cipher_freectx(d);
		break;
	case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
		pc->einit = OSSL_FUNC_cipher_encrypt_init(d);
		break;
	case OSSL_FUNC_CIPHER_DECRYPT_INIT:
		pc->dinit = OSSL_FUNC_cipher_decrypt_init(d);
		break;
	case OSSL_FUNC_CIPHER_UPDATE:
		pc->update = OSSL_FUNC_cipher_update(d);
		break;
	case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
		pc->set_params = OSSL_FUNC_cipher_set_ctx_params(d);
		break;
	}
}

int soft_prov_cipher_find(const EVP_CIPHER *c, const char *name, struct soft_prov_cipher *out)
{
	OSSL_PROVIDER *prov = c ? (OSSL_PROVIDER *)EVP_CIPHER_get0_provider(c) : NULL;
	struct soft_prov_cipher pc = { 0 };

	memset(out, 0, sizeof(*out));
	if (!prov || !name || soft_prov_off || !EVP_CIPHER_is_a(c, name) ||
	    !prov_take(prov, OSSL_OP_CIPHER, name, take_cipher, &pc))
		return -ENOENT;
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

/* ---- digests ---- */

static void take_digest(const OSSL_DISPATCH *d, void *out)
{
	struct soft_prov_digest *pd = out;

	switch (d->function_id) {
	case OSSL_FUNC_DIGEST_NEWCTX:
		pd->newctx = OSSL_FUNC_digest_newctx(d);
		break;
	case OSSL_FUNC_DIGEST_FREECTX:
		pd->freectx = OSSL_FUNC_digest_freectx(d);
		break;
	case OSSL_FUNC_DIGEST_INIT:
		pd->init = OSSL_FUNC_digest_init(d);
		break;
	case OSSL_FUNC_DIGEST_UPDATE:
		pd->update = OSSL_FUNC_digest_update(d);
		break;
	case OSSL_FUNC_DIGEST_FINAL:
		pd->final = OSSL_FUNC_digest_final(d);
		break;
	}
}

int soft_prov_digest_find(const EVP_MD *md, const char *name, struct soft_prov_digest *out)
{
	OSSL_PROVIDER *prov = md ? (OSSL_PROVIDER *)EVP_MD_get0_provider(md) : NULL;
	struct soft_prov_digest pd = { 0 };

	memset(out, 0, sizeof(*out));
	if (!prov || !name || soft_prov_off || !EVP_MD_is_a(md, name) ||
	    !prov_take(prov, OSSL_OP_DIGEST, name, take_digest, &pd))
		return -ENOENT;
	if (!pd.newctx || !pd.freectx || !pd.init || !pd.update || !pd.final)
		return -ENOENT;
	pd.provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
	pd.size = (size_t)EVP_MD_get_size(md);
	*out = pd;
	return 0;
}

void *soft_prov_digest_new(const struct soft_prov_digest *pd)
{
	return pd->newctx(pd->provctx);
}

void soft_prov_digest_free(const struct soft_prov_digest *pd, void *ctx)
{
	if (ctx)
		pd->freectx(ctx);
}

/* ---- MACs ---- */

static void take_mac(const OSSL_DISPATCH *d, void *out)
{
	struct soft_prov_mac *pm = out;

	switch (d->function_id) {
	case OSSL_FUNC_MAC_NEWCTX:
		pm->newctx = OSSL_FUNC_mac_newctx(d);
		break;
	case OSSL_FUNC_MAC_FREECTX:
		pm->freectx = OSSL_FUNC_mac_freectx(d);
		break;
	case OSSL_FUNC_MAC_INIT:
		pm->init = OSSL_FUNC_mac_init(d);
		break;
	case OSSL_FUNC_MAC_UPDATE:
		pm->update = OSSL_FUNC_mac_update(d);
		break;
	case OSSL_FUNC_MAC_FINAL:
		pm->final = OSSL_FUNC_mac_final(d);
		break;
	}
}

int soft_prov_mac_find(const EVP_MAC *m, const char *name, struct soft_prov_mac *out)
{
	OSSL_PROVIDER *prov = m ? (OSSL_PROVIDER *)EVP_MAC_get0_provider(m) : NULL;
	struct soft_prov_mac pm = { 0 };

	memset(out, 0, sizeof(*out));
	if (!prov || !name || soft_prov_off || !EVP_MAC_is_a(m, name) ||
	    !prov_take(prov, OSSL_OP_MAC, name, take_mac, &pm))
		return -ENOENT;
	if (!pm.newctx || !pm.freectx || !pm.init || !pm.update || !pm.final)
		return -ENOENT;
	pm.provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
	*out = pm;
	return 0;
}

void *soft_prov_mac_new(const struct soft_prov_mac *pm, const void *key, size_t keylen,
			const OSSL_PARAM params[])
{
	void *ctx = pm->newctx(pm->provctx);

	if (!ctx)
		return NULL;
	if (!pm->init(ctx, key, keylen, params)) {
		pm->freectx(ctx);
		ERR_clear_error();
		return NULL;
	}
	return ctx;
}

void soft_prov_mac_free(const struct soft_prov_mac *pm, void *ctx)
{
	if (ctx)
		pm->freectx(ctx);
}
