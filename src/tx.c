/* SPDX-License-Identifier: MIT */
/*
 * tx.c - the descriptor pool, dependency graph, acks and recycling
 * (async_tx 3.3: recycled only when completed, acked and no dependent
 * still waits on it).
 */
#include "atx_internal.h"

int atx__pool_init(struct atx_ctx *ctx, unsigned n)
{
	unsigned i, nedges = n * 2;

	/* Handles keep a generation in the top 16 bits of the pointer. */
	ctx->pool = aligned_alloc(64, sizeof(*ctx->pool) * n);
	if (!ctx->pool)
		return -ENOMEM;
	if ((uintptr_t)(ctx->pool + n) > ATX_HANDLE_PTR_MASK) {
		free(ctx->pool);
		ctx->pool = NULL;
		return -ENOMEM;
	}
	memset(ctx->pool, 0, sizeof(*ctx->pool) * n);
	ctx->edges = calloc(nedges, sizeof(*ctx->edges));
	ctx->free_tx = malloc(sizeof(*ctx->free_tx) * n);
	ctx->seq_side = calloc(n, sizeof(*ctx->seq_side));
	ctx->tx_sess = calloc(n, sizeof(*ctx->tx_sess));
	if (!ctx->edges || !ctx->free_tx || !ctx->seq_side || !ctx->tx_sess) {
		atx__pool_fini(ctx);
		return -ENOMEM;
	}
	ctx->pool_size = n;
	/* LIFO: the most recently recycled descriptor is cache-warm. */
	for (i = 0; i < n; i++) {
		ctx->pool[i].gen = 1;
		ctx->pool[i].ctx = ctx;
		ctx->free_tx[n - 1 - i] = &ctx->pool[i];
	}
	ctx->nfree = n;
	for (i = 0; i < nedges; i++) {
		ctx->edges[i].next = ctx->free_edge;
		ctx->free_edge = &ctx->edges[i];
	}
	ctx->nfree_edges = nedges;
	return 0;
}

void atx__pool_fini(struct atx_ctx *ctx)
{
	free(ctx->pool);
	free(ctx->edges);
	free(ctx->free_tx);
	free(ctx->seq_side);
	free(ctx->tx_sess);
	ctx->pool = NULL;
	ctx->edges = NULL;
	ctx->free_tx = NULL;
	ctx->seq_side = NULL;
	ctx->tx_sess = NULL;
}



/* atx__seq_release() for atx_chain's own descriptor: its steps, one by one. */
unsigned atx__seq_release_steps(struct atx_ctx *ctx, struct atx_seq_side *sd)
{
	unsigned i;

	for (i = 0; i < ATX_CHAIN_MAX && sd->step[i]; i++) {
		if (sd->sess[i])
			atx__session_put(sd->sess[i]);
		atx__step_free(ctx, sd->step[i]);
	}
	sd->step[0] = NULL;
	return i;
}

/* Give an allocated, never submitted descriptor back (argument errors). */
void atx__tx_abort(struct atx_ctx *ctx, struct atx_tx *tx)
{
	if (unlikely(tx->flags & TXF_SEQ))
		atx__seq_release(ctx, tx);
	atx__tx_recycle(ctx, tx);
}

/*
 * May @tx be handed to @chan before its pending parents completed?  Only
 * behind parents that are queued or running on the same in-order channel:
 * the engine then executes them first and checks atx_tx_fence_ok().
 */
static bool can_fence(struct atx_tx *p, struct atx_chan *chan)
{
	return p->chan == chan && (p->state == TX_READY || p->state == TX_INFLIGHT) &&
	       (chan->flags & ATX_CHAN_F_IN_ORDER) && !chan->blocked;
}

/*
 * Link @tx below its parents, pick its channel and queue it.  On an
 * argument error the descriptor is returned to the pool and NULL/errno
 * comes back; parents are left untouched in that case.  The common
 * case, one pending parent whose lane serves us, is atx__tx_submit()'s
 * inline fast path; everything else comes here.
 */
struct atx_tx *atx__tx_submit_slow(struct atx_ctx *ctx, struct atx_tx *tx,
				   const struct atx_submit *sub, uint32_t cap,
				   struct atx_engine *eng)
{
	struct atx_tx *parents[16], *fp[ATX_FENCE_MAX];
	struct atx_chan *chan = NULL, *hint = NULL;
	unsigned np = 0, i, npend = 0, nf = 0;
	bool fence;
	int err;

	if (sub) {
		if (sub->depend_tx) {
			parents[0] = atx__resolve_in(ctx, sub->depend_tx, &err);
			if (unlikely(!parents[0]))
				goto err_abort;
			np = 1;
		}
		if (unlikely(sub->ndeps)) {
			if (sub->ndeps > 15 || !sub->deps) {
				err = EINVAL;
				goto err_abort;
			}
			for (i = 0; i < sub->ndeps; i++) {
				parents[np] = atx__resolve_in(ctx, sub->deps[i], &err);
				if (!parents[np])
					goto err_abort;
				np++;
			}
		}
		chan = sub->chan;
		if (unlikely(chan) && (chan->ctx != ctx || chan->dead || (cap & ~chan->caps) ||
				       (eng && chan->eng != eng))) {
			err = chan->dead ? ENODEV : EINVAL;
			goto err_abort;
		}
	}
	for (i = 0; i < np; i++) {
		if (parents[i]->state != TX_DONE) {
			npend++;
			if (!hint)
				hint = parents[i]->chan;
		}
	}
	if (unlikely(npend > ctx->nfree_edges)) {
		err = EAGAIN;
		goto err_abort;
	}
	if (!chan) {
		/* Stay on the parent's lane when it can serve: the chain then runs back to back. */
		if (hint && !hint->private_ && !hint->dead && (hint->caps & cap) == cap &&
		    (!eng || hint->eng == eng))
			chan = hint;
		else
			chan = atx__chan_pick(ctx, cap, eng, NULL);
		if (unlikely(!chan)) {
			err = EOPNOTSUPP;
			goto err_abort;
		}
	}
	tx->chan = chan;

	/* Point of no return: link and implicitly ack the parents. */
	fence = npend > 0 && npend <= ATX_FENCE_MAX;
	for (i = 0; i < np; i++) {
		struct atx_tx *p = parents[i];

		p->flags |= TXF_ACKED;
		if (p->state == TX_DONE) {
			if (p->result != 0)
				tx->flags |= TXF_CANCEL;
			atx__tx_maybe_recycle(ctx, p);
			continue;
		}
		atx__link_child(ctx, p, tx);
		if (fence && !can_fence(p, chan))
			fence = false;
		if (nf < ATX_FENCE_MAX)
			fp[nf++] = p;
	}
	ctx->outstanding++;
	if (tx->nwait == 0) {
		atx__chan_ready(ctx, chan, tx);
	} else if (fence && !(tx->flags & TXF_CANCEL)) {
		/* Handed over now, right behind its parents on their in-order lane. */
		tx->op.fence = (uint8_t)nf;
		tx->op.fence_tx = fp[0];
		tx->fence_p = fp[0];
		tx->flags |= TXF_FENCED;
		tx->nfence = (uint8_t)nf;
		fp[0]->holds++;
		if (nf > 1) {
			tx->fence2 = fp[1];
			fp[1]->holds++;
		}
		atx__chan_ready(ctx, chan, tx);
	}
	return atx__handle(tx);

err_abort:
	return atx__tx_fail(ctx, tx, err);
}

struct atx_tx *atx__tx_fail(struct atx_ctx *ctx, struct atx_tx *tx, int err)
{
	atx__tx_abort(ctx, tx);
	errno = err;
	return NULL;
}

bool atx_tx_fence_ok(struct atx_tx *tx)
{
	/*
	 * The parents ran on this lane, so their op lines are in its cache;
	 * the first parent and the count sit in our own op line, the one the
	 * lane read: the core's line 0 stays on the loop thread's core.
	 */
	if (tx->op.fence_tx->op.result != 0)
		return false;
	return tx->op.fence < 2 || tx->fence2->op.result == 0;
}

void atx_tx_set_result(struct atx_tx *tx, int status)
{
	/*
	 * Success is what the core initialised: no store on the common path.
	 * That saves the store, not the transfer: on this machine a line
	 * another core has only read costs its writer ~75 ns to read again
	 * and ~13 ns to write, more than one the other core stored into
	 * (~22 and ~9 ns; build/release/bench-lines).
	 */
	if (status != tx->op.result)
		tx->op.result = status;
}

int atx_tx_status(struct atx_tx *h)
{
	struct atx_tx *tx = atx__resolve(h);

	if (!tx)
		return -ESTALE;
	return tx->state == TX_DONE ? tx->result : -EINPROGRESS;
}

int atx_tx_ack(struct atx_tx *h)
{
	struct atx_tx *tx = atx__resolve(h);

	if (!tx)
		return -ESTALE;
	tx->flags |= TXF_ACKED;
	atx__tx_maybe_recycle(tx->chan->ctx, tx);
	return 0;
}

size_t atx_tx_bytes(struct atx_tx *tx)
{
	return atx__tx_bytes(tx);
}
