/* SPDX-License-Identifier: MIT */
/*
 * ctx.c - context set-up and teardown.  Teardown is a drain: every
 * outstanding descriptor completes and every callback runs before the
 * engines are detached (STYLE.md: define drain from the start).
 */
#include <openssl/crypto.h>

#include "atx_internal.h"

#define ATX_DEFAULT_POOL 4096
#define ATX_DEFAULT_RING 256

struct atx_ctx *atx_ctx_new(const struct atx_ctx_opts *opts)
{
	struct atx_ctx *ctx;
	int ret;

	if (opts && opts->size < offsetof(struct atx_ctx_opts, engines)) {
		errno = EINVAL;
		return NULL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	/* Copy only what the caller's (possibly older, smaller) struct has. */
	if (opts)
		memcpy(&ctx->opts, opts, opts->size < sizeof(ctx->opts) ? opts->size : sizeof(ctx->opts));
	ctx->opts.size = sizeof(ctx->opts);
	ctx->chan_gen = 1; /* never that of a zeroed ctx->pick[] slot, which names no channel */
	if (!ctx->opts.pool_size)
		ctx->opts.pool_size = ATX_DEFAULT_POOL;
	if (!ctx->opts.ring_entries)
		ctx->opts.ring_entries = ATX_DEFAULT_RING;
	if (ctx->opts.pool_size > (1u << 24) || ctx->opts.ring_entries > 32768 ||
	    ctx->opts.soft_lanes > 32) {
		ret = -EINVAL;
		goto err_free_ctx;
	}
	ret = atx__pool_init(ctx, ctx->opts.pool_size);
	if (ret < 0)
		goto err_free_ctx;
	ret = atx__loop_init(ctx);
	if (ret < 0)
		goto err_free_pool;
	ret = atx__engines_attach(ctx);
	if (ret < 0)
		goto err_fini_loop;
	return ctx;

err_fini_loop:
	atx__loop_fini(ctx);
err_free_pool:
	atx__pool_fini(ctx);
err_free_ctx:
	free(ctx);
	errno = -ret;
	return NULL;
}

void atx_ctx_free(struct atx_ctx *ctx)
{
	unsigned i;

	if (!ctx)
		return;
	/* Drain: issue everything and run until no descriptor is outstanding. */
	while (ctx->outstanding || ctx->dirty) {
		if (atx_run(ctx, ATX_RUN_DEFAULT) < 0)
			break;
	}
	while (ctx->preps)
		atx__prep_destroy(ctx->preps);  /* their session references first */
	while (ctx->sessions) {
		struct atx_session *s = ctx->sessions;

		s->refs = 1;
		s->freed = false;
		atx_session_free(s);
	}
	atx__engines_detach(ctx);
	for (i = 0; i < ctx->nchans; i++)
		atx__chan_free(ctx, ctx->chans[i]);
	atx__loop_fini(ctx);
	atx__pool_fini(ctx);
	OPENSSL_cleanse(ctx, sizeof(*ctx));
	free(ctx);
}

size_t atx_engine_arena_size(struct atx_engine *e)
{
	return e->ctx->opts.arena_size;
}

void *atx_buf_alloc(struct atx_ctx *ctx, size_t len)
{
	int best = -1;
	unsigned i;
	void *p;

	if (!ctx || !len || len > ((size_t)1 << 40)) {
		errno = EINVAL;
		return NULL;
	}
	/* Devices first, by priority: their arena spares a bounce copy per request. */
	for (;;) {
		best = -1;
		for (i = 0; i < ctx->nengines; i++) {
			struct atx_engine *e = &ctx->engines[i];

			if (!e->ops->buf_alloc || e->dead || (e->buf_tried))
				continue;
			if (best < 0 || e->ops->prio > ctx->engines[best].ops->prio)
				best = (int)i;
		}
		if (best < 0)
			break;
		ctx->engines[best].buf_tried = true;
		p = ctx->engines[best].ops->buf_alloc(&ctx->engines[best], len);
		if (p)
			goto out;
	}
	p = aligned_alloc(64, (len + 63) & ~(size_t)63);
	if (!p)
		errno = ENOMEM;
out:
	for (i = 0; i < ctx->nengines; i++)
		ctx->engines[i].buf_tried = false;
	return p;
}

void atx_buf_free(struct atx_ctx *ctx, void *buf)
{
	unsigned i;

	if (!ctx || !buf)
		return;
	for (i = 0; i < ctx->nengines; i++) {
		struct atx_engine *e = &ctx->engines[i];

		if (e->ops->buf_free && e->ops->buf_free(e, buf))
			return;
	}
	free(buf);
}
