/* SPDX-License-Identifier: MIT */
/*
 * session.c - crypto sessions: validated parameters, private key copies,
 * the engine chosen by probe priority (crypto_driver(9)), and reference
 * counting so that freeing a session never pulls state from under a
 * descriptor still in flight (FreeBSD's "XXX: make sessions refcounted").
 */
#include <openssl/crypto.h>

#include "alg.h"
#include "atx_internal.h"

/*
 * The caller's parameters at this library's layout: fields a caller built
 * against an older, shorter struct does not have read as 0 (STYLE.md: the
 * size field lets the struct grow).  The oldest layout ends at @engine.
 */
static int params_take(const struct atx_session_params *p, struct atx_session_params *out)
{
	if (!p || p->size < offsetof(struct atx_session_params, data_unit_len))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(out, p, p->size < sizeof(*out) ? p->size : sizeof(*out));
	out->size = sizeof(*out);
	return 0;
}

int atx_probe(struct atx_ctx *ctx, const struct atx_session_params *up, int *prio, unsigned n)
{
	int best = -EOPNOTSUPP, best_prio = -1;
	struct atx_session_params pv, *p = &pv;
	unsigned i;
	int ret;

	if (!ctx || params_take(up, &pv) < 0)
		return -EINVAL;
	ret = atx__params_check(p);
	if (ret < 0)
		return ret;
	for (i = 0; i < ctx->nengines; i++) {
		struct atx_engine *e = &ctx->engines[i];
		int pr = -EOPNOTSUPP;

		if (e->dead)
			pr = -ENODEV;
		else if (e->ops->probe_session)
			pr = e->ops->probe_session(e, p);
		if (p->engine && strcmp(p->engine, e->name) && strcmp(p->engine, e->ops->name) &&
		    strcmp(p->engine, "auto"))
			pr = pr >= 0 ? -EPERM : pr; /* would serve, but another engine was asked for */
		if (i < n && prio)
			prio[i] = pr == -EPERM ? -EOPNOTSUPP : pr;
		if (pr >= 0 && pr > best_prio) {
			best_prio = pr;
			best = (int)i;
		}
	}
	return best;
}

void atx__session_destroy(struct atx_session *s)
{
	struct atx_ctx *ctx = s->ctx;

	if (s->priv)
		s->eng->ops->free_session(s->eng, s->priv);
	if (s->fb_priv)
		s->fb_eng->ops->free_session(s->fb_eng, s->fb_priv);
	if (s->prev)
		s->prev->next = s->next;
	else
		ctx->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

struct atx_session *atx_session_new(struct atx_ctx *ctx, const struct atx_session_params *up)
{
	struct atx_session_params pv, *p = &pv;
	struct atx_session *s;
	unsigned tried = 0;
	int idx, ret;

	if (!ctx || params_take(up, &pv) < 0) {
		errno = EINVAL;
		return NULL;
	}
	if (p->key_len > ATX_MAX_KEY_LEN || p->auth_key_len > ATX_MAX_AUTH_KEY_LEN ||
	    (p->key_len && !p->key) || (p->auth_key_len && !p->auth_key)) {
		errno = EINVAL;
		return NULL;
	}
	idx = atx_probe(ctx, p, NULL, 0);
	if (idx < 0) {
		errno = -idx;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ctx = ctx;
	s->p = *p;
	s->p.size = sizeof(s->p);
	/* memcpy from NULL is undefined even for 0 bytes (UBSan stops the tests). */
	if (p->key_len)
		memcpy(s->key, p->key, p->key_len);
	s->p.key = p->key_len ? s->key : NULL;
	if (p->auth_key_len)
		memcpy(s->auth_key, p->auth_key, p->auth_key_len);
	s->p.auth_key = p->auth_key_len ? s->auth_key : NULL;
	s->p.engine = NULL;
	/*
	 * A device may accept at probe and refuse at create (NOTSUPP from its
	 * control queue): then try the next best engine, unless one was named.
	 */
	for (;;) {
		int prio[ATX_MAX_ENGINES], next = -1;
		unsigned i;

		s->eng = &ctx->engines[idx];
		ret = s->eng->ops->new_session(s->eng, &s->p, &s->priv);
		if (ret >= 0)
			break;
		tried |= 1u << idx;
		if (!p->engine || !strcmp(p->engine, "auto"))
			atx_probe(ctx, p, prio, ATX_MAX_ENGINES);
		for (i = 0; i < ctx->nengines && p->engine && strcmp(p->engine, "auto"); i++)
			prio[i] = -1; /* a named engine has no fallback */
		for (i = 0; i < ctx->nengines; i++)
			if (!(tried & (1u << i)) && prio[i] >= 0 &&
			    (next < 0 || prio[i] > prio[next]))
				next = (int)i;
		if (next < 0) {
			OPENSSL_cleanse(s, sizeof(*s));
			free(s);
			errno = -ret;
			return NULL;
		}
		idx = next;
	}
	s->refs = 1;
	s->opc = atx__svc_opcode(s->p.service);
	s->cap = atx_opcode_cap(s->opc);
	s->iv_len = (uint16_t)atx__iv_len(&s->p);
	s->next = ctx->sessions;
	if (s->next)
		s->next->prev = s;
	ctx->sessions = s;
	return s;
}

void atx_session_free(struct atx_session *s)
{
	if (!s || s->freed)
		return;
	s->freed = true;
	atx__session_put(s);
}

const char *atx_session_engine(const struct atx_session *s)
{
	return s ? s->eng->name : NULL;
}

const struct atx_session_params *atx_session_params(const struct atx_session *s)
{
	return &s->p;
}

/* Software state for re-running a failed device request (failover). */
int atx__session_failover(struct atx_session *s, void **priv)
{
	struct atx_engine *soft = s->ctx->soft;
	int ret;

	if (!s->fb_priv) {
		if (!soft || soft->ops->probe_session(soft, &s->p) < 0)
			return -EOPNOTSUPP;
		ret = soft->ops->new_session(soft, &s->p, &s->fb_priv);
		if (ret < 0)
			return ret;
		s->fb_eng = soft;
	}
	*priv = s->fb_priv;
	return 0;
}
