/* SPDX-License-Identifier: MIT */
/*
 * engines.c - the engine registry: adding an engine is one line in
 * builtin[] (and its folder under engines/).
 */
#include "atx_internal.h"

#ifdef ATX_HAVE_IPSEC_MB
/* Not weak: a weak reference does not pull mb.o out of libatx.a, so static
 * links (the atx tool, the tests) would silently lose the engine. */
extern const struct atx_engine_ops atx_mb_engine_ops;
#endif
extern const struct atx_engine_ops atx_virtio_engine_ops;
extern const struct atx_engine_ops atx_virtio_pci_engine_ops;

/* Engines that attach by default (in this order) when they probe here. */
static const struct atx_engine_ops *builtin(unsigned i)
{
	const struct atx_engine_ops *const list[] = {
		&atx_soft_engine_ops,
#ifdef ATX_HAVE_IPSEC_MB
		&atx_mb_engine_ops,
#endif
		&atx_virtio_engine_ops, /* device engines attach only when named */
		&atx_virtio_pci_engine_ops,
	};
	return i < sizeof(list) / sizeof(list[0]) ? list[i] : (const void *)-1;
}

const struct atx_engine_ops *atx__engine_lookup(const char *name)
{
	const struct atx_engine_ops *ops;
	unsigned i;

	for (i = 0; (ops = builtin(i)) != (const void *)-1; i++)
		if (ops && !strcmp(ops->name, name))
			return ops;
	return NULL;
}

static int engine_attach(struct atx_ctx *ctx, const struct atx_engine_ops *ops,
			 const char *args, bool numbered)
{
	struct atx_engine *e;
	unsigned i, same = 0;
	int ret;

	if (ctx->nengines >= ATX_MAX_ENGINES)
		return -ENOSPC;
	ret = atx_engine_ops_check(ops);
	if (ret < 0)
		return ret;
	for (i = 0; i < ctx->nengines; i++)
		if (ctx->engines[i].ops == ops)
			same++;
	if (same && !numbered)
		return 0; /* already there */
	e = &ctx->engines[ctx->nengines];
	memset(e, 0, sizeof(*e));
	e->ops = ops;
	e->ctx = ctx;
	e->index = (int)ctx->nengines;
	if (numbered)
		snprintf(e->name, sizeof(e->name), "%s%u", ops->name, same);
	else
		snprintf(e->name, sizeof(e->name), "%s", ops->name);
	ret = ops->attach(e, args);
	if (ret < 0) {
		/* Drop the watches and channels it created before failing. */
		atx__watches_drop(ctx, e);
		for (i = 0; i < e->nchans; i++) {
			ctx->nchans--;
			atx__chan_free(ctx, e->chans[i]);
		}
		return ret;
	}
	ctx->nengines++;
	return 0;
}

/*
 * Attach: the core's file I/O engine, the software engine (with its lanes
 * from opts), every default engine that probes, then each engine named in
 * opts->engines ("mb", "virtio:/path.sock", ...).
 */
int atx__engines_attach(struct atx_ctx *ctx)
{
	const struct atx_engine_ops *ops;
	char softargs[64], *spec = NULL, *tok, *save;
	const char *want = ctx->opts.engines;
	bool all = want && !strcmp(want, "auto");
	unsigned i;
	int ret;

	ret = engine_attach(ctx, &atx_fileio_engine_ops, NULL, false);
	if (ret < 0)
		goto err_detach;
	ctx->fileio = &ctx->engines[ctx->nengines - 1];
	if (!(ctx->opts.flags & ATX_CTX_F_NO_SOFT)) {
		snprintf(softargs, sizeof(softargs), "lanes=%u,inline=%d", ctx->opts.soft_lanes,
			 !(ctx->opts.flags & ATX_CTX_F_NO_INLINE));
		ret = engine_attach(ctx, &atx_soft_engine_ops, softargs, false);
		if (ret < 0)
			goto err_detach;
		ctx->soft = &ctx->engines[ctx->nengines - 1];
	}
	/* Accelerated software engines join by default; they decline where they cannot run. */
	for (i = 1; (ops = builtin(i)) != (const void *)-1; i++) {
		if (ops && ops->prio == ATX_PRIO_ACCEL)
			engine_attach(ctx, ops, NULL, false);
	}
	if (!want || !*want || all)
		return 0;
	spec = strdup(want);
	if (!spec) {
		ret = -ENOMEM;
		goto err_detach;
	}
	for (tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *args = strchr(tok, ':');

		if (args)
			*args++ = '\0';
		if (!strcmp(tok, "soft"))
			continue;
		ops = atx__engine_lookup(tok);
		if (!ops) {
			ret = -ENOENT;
			goto err_free_spec;
		}
		for (i = 0; i < ctx->nengines; i++)
			if (ctx->engines[i].ops == ops && !args)
				break;
		if (i < ctx->nengines)
			continue; /* a default engine already attached */
		ret = engine_attach(ctx, ops, args, args != NULL);
		if (ret < 0) {
			ret = ret == -ENOENT ? -ENODEV : ret;
			goto err_free_spec;
		}
	}
	free(spec);
	return 0;

err_free_spec:
	free(spec);
err_detach:
	atx__engines_detach(ctx);
	for (i = 0; i < ctx->nchans; i++)
		atx__chan_free(ctx, ctx->chans[i]);
	ctx->nchans = 0;
	return ret;
}

/* Attach an engine that is not in the registry (tests' fake engines). */
int atx__ctx_attach_engine(struct atx_ctx *ctx, const struct atx_engine_ops *ops, const char *args)
{
	return engine_attach(ctx, ops, args, args != NULL);
}

void atx__engines_detach(struct atx_ctx *ctx)
{
	while (ctx->nengines) {
		struct atx_engine *e = &ctx->engines[--ctx->nengines];

		e->ops->detach(e);
	}
}
