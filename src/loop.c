/* SPDX-License-Identifier: MIT */
/*
 * loop.c - issuing work to engines and the io_uring completion loop.
 *
 * PERF.md drives the shape: a sleep/wake pair costs 17-60 us here, so the
 * loop executes inline work without system calls, reaps engine threads'
 * completions from a lock-free stack, spins briefly, and only then sleeps
 * in io_uring_submit_and_wait().  Engine threads signal the eventfd only
 * when the loop announced that it sleeps (Dekker-style handshake on
 * ctx->sleeping / ctx->remote), so a busy loop costs them no system call.
 */
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "atx_internal.h"

#define ATX_SPIN_NS 50000 /* spin this long before sleeping (PERF.md: wake-ups cost 17-60 us) */

void atx__sqe_queued(struct atx_ctx *ctx)
{
	ctx->sqes_queued++;
}

static void submit_sqes(struct atx_ctx *ctx)
{
	if (ctx->sqes_queued) {
		io_uring_submit(&ctx->ring);
		ctx->sqes_queued = 0;
	}
}

/*
 * atx__chan_ready's inline lane without ops->exec: hand @tx to the engine
 * now, or, when it refuses, queue it for issue_chan to retry and deal
 * with the answer.  Out of line, so that the submission paths that
 * inline atx__chan_ready make no call but a tail call.
 */
void atx__chan_hand(struct atx_ctx *ctx, struct atx_chan *chan, struct atx_tx *tx)
{
	tx->state = TX_INFLIGHT;
	if (likely(chan->eng->ops->submit(chan, tx, 0) == 0))
		atx__chan_took(ctx, chan, tx);
	else
		atx__chan_queue(ctx, chan, tx);
}

/* Hand a channel's pending list to its engine, one doorbell at the end. */
static int issue_chan(struct atx_ctx *ctx, struct atx_chan *chan)
{
	const struct atx_engine_ops *ops = chan->eng->ops;
	int n = 0;

	while (chan->pending.head && !chan->blocked) {
		struct atx_tx *tx = chan->pending.head;
		int ret;

		if (unlikely(tx->flags & TXF_CANCEL)) {
			txlist_pop(&chan->pending);
			chan->npending--;
			tx->result = -ECANCELED;
			tx->state = TX_INFLIGHT;
			chan->inflight++;
			atx_engine_complete(tx, -ECANCELED);
			continue;
		}
		if (unlikely(chan->dead)) {
			txlist_pop(&chan->pending);
			chan->npending--;
			tx->result = -ENODEV;
			tx->state = TX_INFLIGHT;
			chan->inflight++;
			atx_engine_complete(tx, -ENODEV);
			continue;
		}
		tx->state = TX_INFLIGHT;
		if (chan->exec) {
			txlist_pop(&chan->pending);
			txlist_push(&chan->run, tx);
			ret = 0;
			goto taken;
		}
		ret = ops->submit(chan, tx, tx->next ? ATX_HINT_MORE : 0);
		if (unlikely(ret == -EAGAIN)) {
			tx->state = TX_READY;
			chan->blocked = true;
			chan->st.busy++;
			break;
		}
		txlist_pop(&chan->pending);
taken:
		chan->npending--;
		chan->inflight++;
		/* Counted here, where the op's line is in cache anyway. */
		chan->st.bytes += atx__tx_bytes(tx);
		n++;
		if (unlikely(ret < 0)) {
			/* An engine refusing for good: the status travels in the descriptor. */
			tx->result = ret;
			atx_engine_complete(tx, ret);
		}
	}
	return n;
}

int atx__issue(struct atx_ctx *ctx)
{
	int n = 0;

	while (ctx->dirty) {
		struct atx_chan *chan = ctx->dirty;

		ctx->dirty = chan->next_dirty;
		chan->dirty = false;
		chan->next_dirty = NULL;
		n += issue_chan(ctx, chan);
		if (chan->pending.head && !chan->blocked && !chan->dirty) {
			chan->dirty = true;
			chan->next_dirty = ctx->dirty;
			ctx->dirty = chan;
		}
	}
	if (ctx->embedded && (n > 0 || ctx->inline_new) && ctx->nchans) {
		/* Let an embedding loop see that there is inline work to run. */
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ctx->ring);

		if (sqe) {
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, UD_NOP);
			ctx->sqes_queued++;
		}
	}
	ctx->inline_new = false;
	submit_sqes(ctx);
	return n;
}

int atx_issue_pending(struct atx_ctx *ctx)
{
	if (!ctx)
		return -EINVAL;
	return atx__issue(ctx);
}

void atx_engine_complete(struct atx_tx *tx, int status)
{
	struct atx_ctx *ctx = tx->chan->ctx;

	/*
	 * Success is what the core initialised, unless a failed first try
	 * was re-run (try_failover): no store, and no load, of the op line.
	 */
	if (status || (tx->flags & TXF_RETRIED))
		tx->op.result = status;
	tx->result = status;
	txlist_push(&ctx->done, tx);
}

void atx_engine_complete_remote(struct atx_chan *chan, struct atx_tx *tx, int status)
{
	if (chan->rring) {
		struct atx_rslot *sl = &chan->rring[chan->rbatch.rlocal++ & chan->rmask];

		sl->tx = tx;
		sl->status = status;
		return;
	}
	/*
	 * Newest first, as on the context's stack; reap_remote restores the
	 * order.  Only the op's first line is written: the link goes in
	 * eng[0], which the engine gives up here.
	 */
	tx->op.result = status;
	tx->op.eng[0] = (uintptr_t)chan->rbatch.head;
	chan->rbatch.head = tx;
	if (!chan->rbatch.tail)
		chan->rbatch.tail = tx;
}

void atx_engine_remote_flush(struct atx_chan *chan)
{
	struct atx_ctx *ctx = chan->ctx;
	struct atx_tx *head = chan->rbatch.head, *tail = chan->rbatch.tail, *old;

	if (chan->rring) {
		if (chan->rbatch.rlocal != atomic_load_explicit(&chan->rbatch.rhead,
								memory_order_relaxed)) {
			atomic_store_explicit(&chan->rbatch.rhead, chan->rbatch.rlocal,
					      memory_order_release);
			atomic_store_explicit(&ctx->rflag, 1, memory_order_seq_cst);
		}
	} else if (head) {
		chan->rbatch.head = chan->rbatch.tail = NULL;
		old = atomic_load_explicit(&ctx->remote, memory_order_relaxed);
		do {
			tail->op.eng[0] = (uintptr_t)old;
		} while (!atomic_compare_exchange_weak_explicit(&ctx->remote, &old, head,
								memory_order_seq_cst,
								memory_order_relaxed));
	}
	/*
	 * Dekker handshake: our seq_cst push to ctx->remote (or store to
	 * ctx->rflag) and this load are ordered against the loop's store to
	 * ctx->sleeping and its re-check of both, so one of the two sides
	 * always sees the other.
	 */
	if (atomic_load_explicit(&ctx->sleeping, memory_order_seq_cst)) {
		uint64_t one = 1;
		ssize_t r = write(ctx->wake_fd, &one, sizeof(one));

		(void)r; /* EAGAIN: the counter is saturated, the loop wakes anyway */
	}
}

void atx_engine_unblock(struct atx_chan *chan)
{
	struct atx_ctx *ctx = chan->ctx;

	chan->blocked = false;
	if (chan->pending.head && !chan->dirty) {
		chan->dirty = true;
		chan->next_dirty = ctx->dirty;
		ctx->dirty = chan;
	}
}

/* Move engine threads' completions onto the done list, in completion order. */
static unsigned reap_remote(struct atx_ctx *ctx)
{
	struct atx_tx *list, *rev = NULL;
	unsigned n = 0;

	if (atomic_load_explicit(&ctx->rflag, memory_order_relaxed)) {
		struct atx_chan *c;

		/* Acquire pairs with the lanes' release of rhead before their flag. */
		atomic_exchange_explicit(&ctx->rflag, 0, memory_order_acq_rel);
		for (c = ctx->rchans; c; c = c->next_rchan) {
			unsigned head = atomic_load_explicit(&c->rbatch.rhead, memory_order_acquire);

			while (c->rtail != head) {
				struct atx_rslot *sl = &c->rring[c->rtail++ & c->rmask];
				struct atx_tx *tx = sl->tx;

				tx->result = sl->status;
				txlist_push(&ctx->done, tx);
				n++;
			}
		}
	}
	if (!atomic_load_explicit(&ctx->remote, memory_order_relaxed))
		return n;
	list = atomic_exchange_explicit(&ctx->remote, NULL, memory_order_acquire);
	while (list) {
		struct atx_tx *nx = (struct atx_tx *)list->op.eng[0];

		list->op.eng[0] = (uintptr_t)rev;
		rev = list;
		list = nx;
	}
	while (rev) {
		struct atx_tx *nx = (struct atx_tx *)rev->op.eng[0];

		rev->result = rev->op.result;
		txlist_push(&ctx->done, rev);
		rev = nx;
		n++;
	}
	return n;
}

/* Re-run a failed device request in software (ATX_F_FAILOVER). */
static bool try_failover(struct atx_ctx *ctx, struct atx_tx *tx, int status)
{
	struct atx_chan *chan;
	void *priv;

	/* Device failures, and requests too large for the device's buffers. */
	if (status != -EIO && status != -ENODEV && status != -ETIMEDOUT && status != -EMSGSIZE)
		return false;
	if (tx->flags & TXF_RETRIED || !tx->chan || tx->chan->eng->ops->prio < ATX_PRIO_HARDWARE)
		return false;
	if (!(tx->flags & TXF_FAILOVER) && !(ctx->opts.flags & ATX_CTX_F_FAILOVER) &&
	    !((tx->flags & TXF_SESS) && ((*atx__tx_sess(ctx, tx))->p.flags & ATX_SESS_F_FAILOVER)))
		return false;
	if (!ctx->soft)
		return false;
	if (tx->flags & TXF_SESS) {
		if (atx__session_failover(*atx__tx_sess(ctx, tx), &priv) < 0)
			return false;
		tx->op.u.crypto.sess_priv = priv;
	}
	chan = atx__chan_pick(ctx, atx_opcode_cap(tx->op.opcode), ctx->soft, NULL);
	if (!chan)
		return false;
	tx->flags |= TXF_RETRIED;
	tx->chan->inflight--;
	tx->chan->st.errors++;
	tx->chan = chan;
	tx->op.fence = 0;
	atx__chan_ready(ctx, chan, tx);
	return true;
}

/*
 * Most completions: succeeded, acked, nobody waiting on it or holding it,
 * at most a session reference to drop -- straight back to the pool, then
 * the callback, as complete_one() does.  False: complete_one's work.
 */
static inline __attribute__((always_inline)) bool complete_fast(struct atx_ctx *ctx,
								struct atx_tx *tx)
{
	struct atx_chan *chan = tx->chan;
	struct atx_session *s;
	struct atx_tx *h;
	atx_cb cb;
	void *arg;

	if (unlikely(tx->result || (tx->flags & ~(TXF_SESS | TXF_FAILOVER | TXF_SEQ)) != TXF_ACKED ||
		     tx->children || tx->holds))
		return false;
	s = (tx->flags & TXF_SESS) ? *atx__tx_sess(ctx, tx) : NULL;
	h = atx__handle(tx);
	cb = tx->cb;
	arg = tx->cb_arg;
	ctx->outstanding--;
	chan->inflight--;
	/* A chain counts its steps (none: a split chain's own descriptor ran none). */
	chan->st.ops += (tx->flags & TXF_SEQ) ? atx__seq_release(ctx, tx) : 1;
	tx->flags = 0;
	atx__tx_recycle(ctx, tx);
	if (s)
		atx__session_put(s);
	if (cb)
		cb(h, 0, arg);
	return true;
}

/* Everything else: a failure, dependents, fences, holds, waiters. */
static __attribute__((noinline)) void complete_one(struct atx_ctx *ctx, struct atx_tx *tx)
{
	struct atx_chan *chan = tx->chan;
	struct atx_edge *e, *nx;
	int status = tx->result;
	atx_cb cb;
	void *arg;

	if (tx->flags & TXF_SEQ) {
		/* A chain: its first failing step's status, and its steps back to the pool. */
		unsigned nsteps;

		if (status && tx->op.u.seq.err)
			status = tx->result = tx->op.u.seq.err;
		/*
		 * Each step counts once, on the channel that ran it: the ++
		 * below counts one; a split chain's own descriptor ran none.
		 */
		nsteps = atx__seq_release(ctx, tx);
		if (nsteps)
			chan->st.ops += nsteps - 1;
		else
			chan->st.ops--;
	} else if (unlikely(status != 0) && try_failover(ctx, tx, status)) {
		return;
	}
	tx->state = TX_DONE;
	ctx->outstanding--;
	chan->inflight--;
	chan->st.ops++;
	if (unlikely(status))
		chan->st.errors++;
	/* Wake dependents; a failure cancels them once all their parents settled. */
	for (e = tx->children; e; e = nx) {
		struct atx_tx *c = e->child;

		nx = e->next;
		if (status && c->state == TX_WAITING)
			c->flags |= TXF_CANCEL;
		if (--c->nwait == 0 && c->state == TX_WAITING)
			atx__chan_ready(ctx, c->chan, c);
		e->next = ctx->free_edge;
		ctx->free_edge = e;
		ctx->nfree_edges++;
	}
	tx->children = NULL;
	if (tx->flags & TXF_FENCED) {
		struct atx_tx *p = tx->fence_p;

		p->holds--;
		atx__tx_maybe_recycle(ctx, p);
		if (tx->nfence > 1) {
			p = tx->fence2;
			p->holds--;
			atx__tx_maybe_recycle(ctx, p);
		}
		tx->nfence = 0;
		tx->flags &= ~TXF_FENCED;
	}
	if (tx->flags & TXF_SESS) {
		atx__session_put(*atx__tx_sess(ctx, tx));
		tx->flags &= ~TXF_SESS;
	}
	/* The descriptor goes back to the pool before the callback (STYLE.md). */
	cb = tx->cb;
	arg = tx->cb_arg;
	struct atx_tx *h = atx__handle(tx);

	atx__tx_maybe_recycle(ctx, tx);
	if (cb)
		cb(h, status, arg);
}

int atx__process_done(struct atx_ctx *ctx)
{
	struct atx_tx *tx;
	int n = 0;

	ctx->in_loop++;
	while ((tx = txlist_pop(&ctx->done))) {
		if (!complete_fast(ctx, tx))
			complete_one(ctx, tx);
		n++;
	}
	ctx->in_loop--;
	return n;
}

static void arm_wake(struct atx_ctx *ctx)
{
	struct io_uring_sqe *sqe;

	if (ctx->wake_armed)
		return;
	sqe = io_uring_get_sqe(&ctx->ring);
	if (!sqe) {
		io_uring_submit(&ctx->ring);
		sqe = io_uring_get_sqe(&ctx->ring);
		if (!sqe)
			return;
	}
	io_uring_prep_read(sqe, ctx->wake_fd, &ctx->wake_buf, sizeof(ctx->wake_buf), 0);
	io_uring_sqe_set_data64(sqe, UD_WAKE);
	ctx->sqes_queued++;
	ctx->wake_armed = true;
}

static void arm_watch(struct atx_ctx *ctx, struct atx_watch *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ctx->ring);

	if (!sqe) {
		io_uring_submit(&ctx->ring);
		sqe = io_uring_get_sqe(&ctx->ring);
		if (!sqe)
			return;
	}
	io_uring_prep_poll_multishot(sqe, w->fd, POLLIN);
	io_uring_sqe_set_data64(sqe, (uintptr_t)w | UD_WATCH);
	ctx->sqes_queued++;
}

int atx_engine_watch_fd(struct atx_chan *chan, int fd)
{
	struct atx_ctx *ctx = chan->ctx;
	struct atx_watch *w;

	if (ctx->nwatches >= ATX_MAX_CHANS)
		return -ENOSPC;
	if (!chan->eng->ops->poll)
		return -EINVAL;
	w = &ctx->watches[ctx->nwatches++];
	w->chan = chan;
	w->fd = fd;
	arm_watch(ctx, w);
	submit_sqes(ctx);
	return 0;
}

/*
 * Forget the watches of an engine whose attach failed.  A poll already in
 * the ring is cancelled; its last CQE finds the slot marked dead.
 */
void atx__watches_drop(struct atx_ctx *ctx, struct atx_engine *e)
{
	unsigned i;

	for (i = 0; i < ctx->nwatches; i++) {
		struct atx_watch *w = &ctx->watches[i];
		struct io_uring_sqe *sqe;

		if (!w->chan || w->chan->eng != e)
			continue;
		sqe = io_uring_get_sqe(&ctx->ring);
		if (sqe) {
			io_uring_prep_poll_remove(sqe, (uintptr_t)w | UD_WATCH);
			io_uring_sqe_set_data64(sqe, UD_NOP);
			ctx->sqes_queued++;
		}
		w->chan = NULL;
	}
	submit_sqes(ctx);
}

static unsigned reap_cqes(struct atx_ctx *ctx)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&ctx->ring, head, cqe) {
		uint64_t ud = cqe->user_data;
		void *p = (void *)(uintptr_t)(ud & ~(uint64_t)UD_MASK);

		switch (ud & UD_MASK) {
		case UD_WAKE:
			ctx->wake_armed = false;
			break;
		case UD_WATCH: {
			struct atx_watch *w = p;

			if (!w->chan || w->chan->dead)
				break;
			if (!(cqe->flags & IORING_CQE_F_MORE))
				arm_watch(ctx, w);
			w->chan->eng->ops->poll(w->chan, UINT32_MAX);
			break;
		}
		case UD_IO:
			atx__fileio_cqe(ctx, p, cqe->res);
			break;
		default:
			break;
		}
		n++;
	}
	io_uring_cq_advance(&ctx->ring, n);
	return n;
}

/*
 * Execute work of polled (inline) channels, a bounded amount per pass so
 * that worker lanes' completions are reaped (and the lanes fed again)
 * while the loop thread has inline work of its own.
 */
#define ATX_POLL_BUDGET 64

/*
 * An inline channel with ops->exec: execute what was queued when the pass
 * came here, back to back, then complete it in order; callbacks queue
 * their new work for the next pass.  Executing a batch before completing
 * any of it is what keeps a storage chain's descriptors from costing more
 * than their instructions: completing each one as it ran (callback,
 * resubmission) between two chains' data cost 2 % of the 4 KiB
 * xts-enc,crc32c,copy chain on one core -- though 5 % less at 64 bytes,
 * where nothing leaves the cache (atx bench, prep:, qd 64).
 */
static int run_inline(struct atx_ctx *ctx, struct atx_chan *chan)
{
	struct atx_tx *tx = chan->run.head, *nx;
	int n = 0;

	chan->run.head = chan->run.tail = NULL;
	for (nx = tx; nx; nx = nx->next) {
		int status = chan->exec(chan, nx);

		/* The op's line is in cache: the engine just read it. */
		nx->op.result = status;
		nx->result = status;
	}
	ctx->in_loop++;
	for (; tx; tx = nx) {
		nx = tx->next;
		if (!complete_fast(ctx, tx))
			complete_one(ctx, tx);
		n++;
	}
	ctx->in_loop--;
	return n;
}

/*
 * Execute the inline channels' queues, completing what ran (*done), and
 * poll the polled ones; returns what the polls completed, for the loop's
 * next process_done.
 */
static int poll_chans(struct atx_ctx *ctx, int *done)
{
	unsigned i;
	int n = 0;

	for (i = 0; i < ctx->nchans; i++) {
		struct atx_chan *chan = ctx->chans[i];

		if (chan->run.head)
			*done += run_inline(ctx, chan);
		else if ((chan->flags & ATX_CHAN_F_POLL) && chan->inflight)
			n += chan->eng->ops->poll(chan, ATX_POLL_BUDGET);
	}
	return n;
}

static bool has_polled_work(struct atx_ctx *ctx)
{
	unsigned i;

	for (i = 0; i < ctx->nchans; i++)
		if (((ctx->chans[i]->flags & ATX_CHAN_F_POLL) && ctx->chans[i]->inflight) ||
		    ctx->chans[i]->run.head)
			return true;
	return false;
}

/* One pass without blocking; returns descriptors completed. */
static int loop_pass(struct atx_ctx *ctx)
{
	int total = 0;

	for (;;) {
		int n = 0, np;

		atx__issue(ctx);
		np = poll_chans(ctx, &n);
		reap_remote(ctx);
		if (io_uring_cq_ready(&ctx->ring))
			reap_cqes(ctx);
		n += atx__process_done(ctx);
		total += n;
		if (!n && !np && !ctx->dirty)
			break;
	}
	return total;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* The CPUs this thread may run on (at least one). */
static unsigned cpus_here(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	n = CPU_COUNT(&set);
	return n > 0 ? (unsigned)n : 1;
}

/* Block until something may have completed: spin first, then sleep in the ring. */
static void loop_block(struct atx_ctx *ctx)
{
	uint64_t start = now_ns();
	struct io_uring_cqe *cqe;
	uint64_t spin = ATX_SPIN_NS;

	/*
	 * File steps in flight run in the kernel's io-wq threads, which need
	 * a CPU: spinning here would take it from them (atx image on two
	 * vCPUs with a worker lane: loop, lane and io-wq all runnable).
	 */
	if (ctx->fileio && ctx->fileio->nchans && ctx->fileio->chans[0]->inflight)
		spin = 0;
	/*
	 * More engine threads than CPUs besides this one: sleep at once.  A
	 * spinner, even one that yields, is a busy thread to the scheduler,
	 * which then balances three busy threads over two CPUs by putting
	 * two worker lanes on one, and a lane sharing this thread's CPU runs
	 * a whole slice before the loop hands it more (soft:workers=2 on two
	 * vCPUs, four alternated pairs: 0.61-0.78 of two hand-loop threads
	 * and p99.9 up to 4 ms spinning, 0.73-0.78 and 82-133 us sleeping;
	 * atx bench --versus hand:2).  tests/unit/test_wait.c.
	 */
	if (ctx->nremote >= ctx->ncpus)
		spin = 0;
	do {
		if (atomic_load_explicit(&ctx->remote, memory_order_relaxed) ||
		    atomic_load_explicit(&ctx->rflag, memory_order_relaxed) ||
		    io_uring_cq_ready(&ctx->ring))
			return;
		/*
		 * Yield, not pause: with more busy threads than vCPUs (two
		 * worker lanes and the loop on two) a spinner holds a CPU a
		 * runnable lane needs; with nothing else runnable it returns
		 * at once (soft:workers=2 0.80 -> 0.91x of one core).
		 */
		sched_yield();
	} while (now_ns() - start < spin);

	arm_wake(ctx);
	atomic_store_explicit(&ctx->sleeping, 1, memory_order_seq_cst);
	if (!atomic_load_explicit(&ctx->remote, memory_order_seq_cst) &&
	    !atomic_load_explicit(&ctx->rflag, memory_order_seq_cst)) {
		ctx->sqes_queued = 0;
		io_uring_submit_and_wait(&ctx->ring, 1);
		(void)cqe;
	} else {
		submit_sqes(ctx);
	}
	/* Embedded: the caller's loop sleeps between our calls, so workers must always signal. */
	if (!ctx->embedded)
		atomic_store_explicit(&ctx->sleeping, 0, memory_order_relaxed);
}

/* Before returning to an embedding loop: make sure the fd turns readable on new work. */
static void embed_rearm(struct atx_ctx *ctx)
{
	if (!ctx->embedded)
		return;
	arm_wake(ctx);
	submit_sqes(ctx);
}


int atx_run(struct atx_ctx *ctx, enum atx_run_mode mode)
{
	int total = 0;

	if (!ctx)
		return -EINVAL;
	if (ctx->in_loop)
		return -EDEADLK; /* called from a callback */
	for (;;) {
		total += loop_pass(ctx);
		if (mode == ATX_RUN_NOWAIT)
			break;
		if (mode == ATX_RUN_ONCE && total > 0)
			break;
		if (!ctx->outstanding)
			break;
		if (ctx->dirty || has_polled_work(ctx))
			continue;
		loop_block(ctx);
	}
	embed_rearm(ctx);
	return total;
}

int atx_wait(struct atx_tx *h)
{
	struct atx_tx *tx = atx__resolve(h);
	struct atx_ctx *ctx;
	int status;

	if (!tx)
		return -ESTALE;
	ctx = tx->ctx;
	if (ctx->in_loop)
		return -EDEADLK;
	tx->flags |= TXF_WAITER;
	while (tx->state != TX_DONE) {
		loop_pass(ctx);
		if (tx->state == TX_DONE)
			break;
		if (!ctx->outstanding) {
			/* Cannot happen unless the graph is broken; never hang. */
			tx->flags &= ~TXF_WAITER;
			return -EDEADLK;
		}
		if (ctx->dirty || has_polled_work(ctx))
			continue;
		loop_block(ctx);
	}
	status = tx->result;
	tx->flags &= ~TXF_WAITER;
	atx__tx_maybe_recycle(ctx, tx);
	embed_rearm(ctx);
	return status;
}

int atx__loop_init(struct atx_ctx *ctx)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	/* Only this thread reaps: no IPI to interrupt it for task work (PERF.md). */
	p.flags = IORING_SETUP_COOP_TASKRUN;
	ret = io_uring_queue_init_params(ctx->opts.ring_entries, &ctx->ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(ctx->opts.ring_entries, &ctx->ring, &p);
	}
	if (ret < 0)
		return ret;
	ctx->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctx->wake_fd < 0) {
		ret = -errno;
		io_uring_queue_exit(&ctx->ring);
		return ret;
	}
	ctx->ncpus = cpus_here();
	return 0;
}

void atx__loop_fini(struct atx_ctx *ctx)
{
	io_uring_queue_exit(&ctx->ring);
	close(ctx->wake_fd);
}

int atx_ctx_fd(struct atx_ctx *ctx)
{
	if (!ctx)
		return -EINVAL;
	if (!ctx->embedded) {
		ctx->embedded = true;
		atomic_store_explicit(&ctx->sleeping, 1, memory_order_seq_cst);
		embed_rearm(ctx);
	}
	return ctx->ring.ring_fd;
}
