/* SPDX-License-Identifier: MIT */
/*
 * chan.c - channels and the channel allocator (dmaengine 4.2): public
 * channels are shared by capability and load; atx_chan_request() takes one
 * out of the allocator's hands until atx_chan_release().
 */
#include "atx_internal.h"

static const uint32_t opcode_caps[ATX_OP__COUNT] = {
	[ATX_OP_NOP] = 0,
	[ATX_OP_MEMCPY] = ATX_CAP_MEMCPY,
	[ATX_OP_MEMSET] = ATX_CAP_MEMSET,
	[ATX_OP_CRC32C] = ATX_CAP_CRC32C,
	[ATX_OP_COPY_CRC32C] = ATX_CAP_CRC32C | ATX_CAP_MEMCPY,
	[ATX_OP_XOR] = ATX_CAP_XOR,
	[ATX_OP_XOR_VAL] = ATX_CAP_XOR,
	[ATX_OP_PQ] = ATX_CAP_PQ,
	[ATX_OP_PQ_VAL] = ATX_CAP_PQ,
	[ATX_OP_RAID6_DATAP] = ATX_CAP_RAID6_RECOV,
	[ATX_OP_RAID6_2DATA] = ATX_CAP_RAID6_RECOV,
	[ATX_OP_CIPHER] = ATX_CAP_CIPHER,
	[ATX_OP_HASH] = ATX_CAP_HASH,
	[ATX_OP_MAC] = ATX_CAP_MAC,
	[ATX_OP_AEAD] = ATX_CAP_AEAD,
	[ATX_OP_CHAIN] = ATX_CAP_CHAIN,
	[ATX_OP_READ] = ATX_CAP_FILEIO,
	[ATX_OP_WRITE] = ATX_CAP_FILEIO,
	[ATX_OP_CRC32C_BLOCKS] = ATX_CAP_CRC32C_BLOCKS,
	[ATX_OP_SEQ] = ATX_CAP_SEQ,
};

uint32_t atx_opcode_cap(enum atx_opcode op)
{
	return (unsigned)op < ATX_OP__COUNT ? opcode_caps[op] : UINT32_MAX;
}

struct atx_chan *atx_engine_add_chan(struct atx_engine *e, const char *name, uint32_t caps,
				     unsigned flags, void *priv)
{
	struct atx_ctx *ctx = e->ctx;
	struct atx_chan *chan;

	if (ctx->nchans >= ATX_MAX_CHANS || e->nchans >= ATX_MAX_CHANS) {
		errno = ENOSPC;
		return NULL;
	}
	if (caps & ~e->ops->caps) {
		errno = EINVAL; /* a channel cannot do what its engine did not declare */
		return NULL;
	}
	if ((flags & ATX_CHAN_F_POLL) && !e->ops->poll) {
		errno = EINVAL;
		return NULL;
	}
	chan = aligned_alloc(64, sizeof(*chan));       /* rbatch has a line of its own */
	if (!chan)
		return NULL;
	memset(chan, 0, sizeof(*chan));
	if (flags & ATX_CHAN_F_REMOTE) {
		/* Never full: a channel cannot hold more than the pool. */
		unsigned n = 64;

		while (n < ctx->pool_size)
			n <<= 1;
		chan->rring = calloc(n, sizeof(*chan->rring));
		if (!chan->rring) {
			free(chan);
			errno = ENOMEM;
			return NULL;
		}
		chan->rmask = n - 1;
		chan->next_rchan = ctx->rchans;
		ctx->rchans = chan;
		ctx->nremote++;
	}
	chan->eng = e;
	chan->ctx = ctx;
	chan->priv = priv;
	chan->caps = caps;
	chan->flags = flags;
	if (flags & ATX_CHAN_F_INLINE)
		chan->exec = e->ops->exec;
	chan->index = e->nchans;
	chan->ctx_index = ctx->nchans;
	snprintf(chan->name, sizeof(chan->name), "%s", name);
	e->chans[e->nchans++] = chan;
	ctx->chans[ctx->nchans++] = chan;
	ctx->chan_gen++;
	return chan;
}

/* Free a channel (its engine is detached or never attached). */
void atx__chan_free(struct atx_ctx *ctx, struct atx_chan *chan)
{
	struct atx_chan **pp;

	for (pp = &ctx->rchans; *pp; pp = &(*pp)->next_rchan) {
		if (*pp == chan) {
			*pp = chan->next_rchan;
			ctx->nremote--;
			break;
		}
	}
	free(chan->rring);
	free(chan);
}

void *atx_chan_priv(struct atx_chan *chan)
{
	return chan->priv;
}

struct atx_engine *atx_chan_engine(struct atx_chan *chan)
{
	return chan->eng;
}

unsigned atx_chan_index(struct atx_chan *chan)
{
	return chan->index;
}

void atx_chan_set_dead(struct atx_chan *chan)
{
	struct atx_engine *e = chan->eng;
	unsigned i;

	chan->dead = true;
	chan->ctx->chan_gen++;
	for (i = 0; i < e->nchans; i++)
		if (!e->chans[i]->dead)
			return;
	e->dead = true;
}

void atx_chan_count_bounce(struct atx_chan *chan, uint64_t n)
{
	chan->st.bounced += n;
}

/*
 * Pick a channel for an operation needing @cap: the hint (the parent's
 * channel, so a chain stays on one in-order lane) when it can serve,
 * else the least loaded public channel of @eng (or of the best engine
 * that has the capability).
 */
struct atx_chan *atx__chan_pick(struct atx_ctx *ctx, uint32_t cap, struct atx_engine *eng,
				struct atx_chan *hint)
{
	struct atx_chan *cand[ATX_MAX_CHANS];
	unsigned i, n = 0, slot = atx__pick_slot(cap, eng);
	int best_prio = -1;

	if (hint && !hint->private_ && !hint->dead && (hint->caps & cap) == cap &&
	    (!eng || hint->eng == eng))
		return hint;
	if (ctx->pick[slot].gen == ctx->chan_gen && ctx->pick[slot].cap == cap &&
	    ctx->pick[slot].eng == eng)
		return atx__chan_least(ctx->pick[slot].c, ctx->pick[slot].n);
	for (i = 0; i < ctx->nchans; i++) {
		struct atx_chan *c = ctx->chans[i];
		int prio;

		if (c->private_ || c->dead || (c->caps & cap) != cap)
			continue;
		if (eng ? c->eng != eng : c->eng == ctx->fileio)
			continue;
		/*
		 * The inline lane is the loop thread's own core: spread over it and
		 * the worker lanes alike, by load (PERF.md: on 2 vCPUs a loop thread
		 * that only waits for workers wastes one of them).
		 */
		prio = c->eng->ops->prio;
		if (prio < best_prio)
			continue;
		if (prio > best_prio) {
			best_prio = prio;
			n = 0;
		}
		cand[n++] = c;
	}
	if (!n)
		return NULL;
	if (n <= ATX_PICK_MAX) {
		/* Remember the candidates until the channels change. */
		ctx->pick[slot].cap = cap;
		ctx->pick[slot].eng = eng;
		ctx->pick[slot].n = n;
		memcpy(ctx->pick[slot].c, cand, n * sizeof(cand[0]));
		ctx->pick[slot].gen = ctx->chan_gen;
	}
	return atx__chan_least(cand, n);
}

struct atx_chan *atx_chan_request(struct atx_ctx *ctx, const struct atx_caps *caps,
				  atx_chan_filter filter, void *arg)
{
	bool matched = false;
	unsigned i;

	if (!ctx || !caps || caps->size < sizeof(*caps)) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < ctx->nchans; i++) {
		struct atx_chan *c = ctx->chans[i];

		if (c->dead || (c->caps & caps->mask) != caps->mask)
			continue;
		if (caps->engine && strcmp(caps->engine, c->eng->name) &&
		    strcmp(caps->engine, c->eng->ops->name))
			continue;
		if (filter && !filter(c, arg))
			continue;
		matched = true;
		if (c->private_)
			continue;
		c->private_ = true;
		ctx->chan_gen++;
		return c;
	}
	errno = matched ? EBUSY : ENODEV;
	return NULL;
}

void atx_chan_release(struct atx_chan *chan)
{
	if (chan) {
		chan->private_ = false;
		chan->ctx->chan_gen++;
	}
}

unsigned atx_chan_count(struct atx_ctx *ctx)
{
	return ctx ? ctx->nchans : 0;
}

struct atx_chan *atx_chan_get(struct atx_ctx *ctx, unsigned i)
{
	return ctx && i < ctx->nchans ? ctx->chans[i] : NULL;
}

void atx_chan_info(struct atx_chan *chan, struct atx_chan_info *info)
{
	info->name = chan->name;
	info->engine = chan->eng->name;
	info->caps = chan->caps;
	info->priority = chan->eng->ops->prio;
	info->private_ = chan->private_;
}

void atx_chan_stats(struct atx_chan *chan, struct atx_chan_stats *st)
{
	*st = chan->st;
	st->inflight = chan->inflight;
}

#define CRYPTO_CAPS (ATX_CAP_CIPHER | ATX_CAP_HASH | ATX_CAP_MAC | ATX_CAP_AEAD | ATX_CAP_CHAIN)

int atx_engine_ops_check(const struct atx_engine_ops *ops)
{
	if (!ops || !ops->name || !ops->attach || !ops->detach || !ops->submit)
		return -EINVAL;
	if ((ops->caps & CRYPTO_CAPS) &&
	    (!ops->probe_session || !ops->new_session || !ops->free_session))
		return -EINVAL;
	if (ops->prio != ATX_PRIO_SOFTWARE && ops->prio != ATX_PRIO_ACCEL &&
	    ops->prio != ATX_PRIO_HARDWARE)
		return -EINVAL;
	return 0;
}

struct atx_ctx *atx_engine_ctx(struct atx_engine *e)
{
	return e->ctx;
}

void *atx_engine_priv(struct atx_engine *e)
{
	return e->priv;
}

void atx_engine_set_priv(struct atx_engine *e, void *priv)
{
	e->priv = priv;
}

const char *atx_engine_instance_name(struct atx_engine *e)
{
	return e->name;
}

unsigned atx_engine_count(struct atx_ctx *ctx)
{
	return ctx ? ctx->nengines : 0;
}

const char *atx_engine_name(struct atx_ctx *ctx, unsigned i)
{
	return ctx && i < ctx->nengines ? ctx->engines[i].name : NULL;
}
