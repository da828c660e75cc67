/* SPDX-License-Identifier: MIT */
/*
 * atx_internal.h - the core's private structures.  Engines never include
 * this file (they see include/atx_engine.h only).
 *
 * Locking (FreeBSD crypto.c style tags): a context is single-threaded, so
 * untagged fields belong to the loop thread.  (r) fields are touched by
 * engine threads through the lock-free remote completion stack.
 */
#ifndef ATX_INTERNAL_H
#define ATX_INTERNAL_H

#include <errno.h>
#include <liburing.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atx.h"
#include "atx_engine.h"

#define ATX_MAX_ENGINES 8
#define ATX_MAX_CHANS 64
#define ATX_PICK_MAX 4          /* equal-priority channels atx__chan_pick remembers */
#define ATX_FENCE_MAX 2

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

enum atx_tx_state {
	TX_FREE = 0,
	TX_WAITING,     /* parents not done yet */
	TX_READY,       /* on its channel's pending list */
	TX_INFLIGHT,    /* handed to the engine */
	TX_DONE,        /* completed, callback ran (or is running) */
};

/* tx->flags */
#define TXF_ACKED       (1u << 0)
#define TXF_CANCEL      (1u << 1) /* a parent failed: complete with -ECANCELED when it may */
#define TXF_WAITER      (1u << 2) /* atx_wait holds it: do not recycle yet */
#define TXF_FAILOVER    (1u << 3)
#define TXF_RETRIED     (1u << 4) /* already re-run once in software */
#define TXF_FENCED      (1u << 5) /* holds fenced parents: release them at completion */
#define TXF_SESS        (1u << 6) /* sess holds a session reference */
#define TXF_SEQ         (1u << 7) /* atx_chain's own descriptor: op.u.seq to settle at completion */

struct atx_edge {
	struct atx_tx *child;
	struct atx_edge *next;
};

/*
 * A descriptor: four cache lines, laid out by when they are touched.  A
 * chain of 4 KiB steps at queue depth 64 evicts every descriptor between
 * its submit, its execution and its completion, so each phase should pay
 * for as few lines as possible: line 0 is all the core reads to submit,
 * complete, call back and recycle; the op (lines 1-3) is what the engine
 * reads, its first line all a memory step or a fenced step needs; the
 * rest is for rare fences and validation.  An engine thread writes no
 * line of a descriptor it completes successfully.  What only the loop
 * thread needs after an engine read the op -- the session reference, a
 * chain's steps -- lives in per-descriptor side arrays (ctx->tx_sess,
 * ctx->seq_side): a worker lane's core pulls the op lines and their
 * neighbours along, and the loop thread would wait to reload them.
 */
struct atx_tx {
	/* line 0: the core's bookkeeping */
	struct atx_tx *next;            /* pending list / done list / inline run queue */
	struct atx_chan *chan;
	struct atx_edge *children;      /* dependents still linked to us */
	atx_cb cb;
	void *cb_arg;
	struct atx_tx *fence_p;         /* = op.fence_tx, where completion reads it */
	int32_t result;                 /* the final status once TX_DONE (engines write op.result) */
	uint8_t nwait;                  /* parents not completed (<= 16) */
	uint8_t state;                  /* enum atx_tx_state */
	uint8_t flags;                  /* TXF_* */
	uint8_t nfence;                 /* fenced parents: op.fence_tx, then fence2 */
	uint16_t gen;                   /* handle generation */
	uint16_t holds;                 /* early children that may still read our result */
	bool prep_own;                  /* a prep's own (atx_prep_new): recycled to it, not the pool */

	struct atx_op op;               /* at ATX_TX_OP_OFFSET: engines see this (atx_tx_op) */

	/* cold: a second fenced parent, atx_wait */
	struct atx_ctx *ctx;
	struct atx_tx *fence2;          /* the second parent we were handed early behind */
	/*
	 * The session reference (TXF_SESS) is not here but in ctx->tx_sess
	 * (atx__tx_sess): an engine reads this line with the op's tail, and
	 * the loop thread would reload it from the lane's core to drop the
	 * reference at completion.
	 */
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct atx_tx, op) == ATX_TX_OP_OFFSET, "op offset");
_Static_assert(sizeof(struct atx_tx) == 256, "a descriptor is four cache lines");

/*
 * What a chain's descriptor (ATX_OP_SEQ) needs to give its steps back,
 * kept apart from the descriptor (ctx->seq_side[head - ctx->pool]): the
 * engine reads op.u.seq.step[] and the steps on a worker lane's core,
 * and the loop thread would wait on each of those lines again at
 * completion.  step[] ends at ATX_CHAIN_MAX or the first NULL.
 */
struct atx_seq_side {
	struct atx_tx *step[ATX_CHAIN_MAX];     /* or a prep's run: atx__seq_prep */
	struct atx_session *sess[ATX_CHAIN_MAX]; /* a reference each, or NULL */
};

/*
 * A prepared chain's run has no step descriptors: its steps are the
 * prep's ops.  step[0] then holds the prep, tagged in its low bit (a
 * descriptor is 64-byte aligned), which keeps the record at 128 bytes
 * and the run's completion on its first line.
 */
static inline void atx__seq_set_prep(struct atx_seq_side *sd, struct atx_prep *p)
{
	sd->step[0] = (struct atx_tx *)((uintptr_t)p | 1);
}

static inline struct atx_prep *atx__seq_prep(const struct atx_seq_side *sd)
{
	uintptr_t v = (uintptr_t)sd->step[0];

	return (v & 1) ? (struct atx_prep *)(v & ~(uintptr_t)1) : NULL;
}

/*
 * A prepared chain (atx_prep_new): its steps' ops, checked and filled
 * once, which every run's descriptor points its engine at.  One run at a
 * time, so the ops are never read and rewritten at once.
 */
struct atx_prep_op {
	struct atx_op op;
} __attribute__((aligned(64)));

struct atx_prep {
	/* line 0: what a run reads */
	struct atx_ctx *ctx;
	struct atx_engine *scratch_eng; /* whose scratch the ops' eng[0] are (ATX_SEQ_F_PREP) */
	struct atx_chan *chan;
	/*
	 * The descriptor its runs use while it is free (TX_FREE): taken
	 * from the pool once, its op (ATX_OP_SEQ over ops[]) and side
	 * record filled once.  NULL when the pool was empty at
	 * atx_prep_new; a run while it is still held (not acked, a waiter)
	 * takes one from the pool as before.
	 */
	struct atx_tx *own;
	uint8_t *iv16;                  /* the one IV's bytes, when it has one IV of 16 */
	struct atx_engine *eng;         /* its sessions' engine, or NULL */
	uint32_t caps;                  /* what its steps need */
	unsigned chan_gen;              /* chan is the only channel for it while ctx->chan_gen is this */
	uint8_t n;
	uint8_t niv;                    /* steps that take an IV at every run ... */
	bool one_eng;                   /* no two sessions on different engines */
	bool busy;                      /* a run is in flight */
	bool dying;                     /* atx_prep_free came during a run */
	/* the rest: other IVs, a run that takes a pool descriptor or splits */
	uint8_t ivs[ATX_CHAIN_MAX];     /* ... and which */
	size_t total;                   /* the steps' bytes (op.len of the run) */
	atx_cb ucb;                     /* a split run's callback and argument (prep_split_done) */
	void *uarg;
	struct atx_prep *prev, *next;   /* ctx->preps */
	/* the steps as given, their IVs pointing into ops[]: for a run atx_chain splits */
	struct atx_step steps[ATX_CHAIN_MAX];
	struct atx_prep_op ops[];
};

_Static_assert(offsetof(struct atx_prep, dying) < 64, "a run reads the prep's first line");

struct atx_txlist {
	struct atx_tx *head, *tail;
};

static inline void txlist_push(struct atx_txlist *l, struct atx_tx *tx)
{
	tx->next = NULL;
	if (l->tail)
		l->tail->next = tx;
	else
		l->head = tx;
	l->tail = tx;
}

static inline struct atx_tx *txlist_pop(struct atx_txlist *l)
{
	struct atx_tx *tx = l->head;

	if (tx) {
		l->head = tx->next;
		if (!l->head)
			l->tail = NULL;
	}
	return tx;
}

struct atx_engine {
	const struct atx_engine_ops *ops;
	struct atx_ctx *ctx;
	void *priv;
	char name[32];
	unsigned nchans;
	struct atx_chan *chans[ATX_MAX_CHANS];
	int index;
	bool dead;
	bool buf_tried;                 /* atx_buf_alloc's walk */
};

struct atx_chan {
	struct atx_engine *eng;
	struct atx_ctx *ctx;
	void *priv;
	char name[48];
	uint32_t caps;
	unsigned flags;                 /* ATX_CHAN_F_* */
	unsigned index;                 /* within the engine */
	unsigned ctx_index;             /* within the context */
	struct atx_txlist pending;      /* ready, not yet handed to the engine */
	/* ops->exec for an inline channel with it, and what it has to execute */
	int (*exec)(struct atx_chan *chan, struct atx_tx *tx);
	struct atx_txlist run;
	bool dirty;                     /* on ctx->dirty list */
	bool blocked;                   /* engine said -EAGAIN */
	bool private_;                  /* held by atx_chan_request */
	bool dead;
	unsigned npending;
	unsigned inflight;
	struct atx_chan *next_dirty;
	struct atx_chan_stats st;
	/*
	 * (r) completions an engine thread queued since its last
	 * atx_engine_remote_flush(): one atomic splice per batch instead of
	 * a contended CAS per descriptor.  Own line: the engine thread writes it.
	 */
	struct {
		struct atx_tx *head, *tail;     /* linked batch (no ring) */
		unsigned rlocal;                /* ring: entries written, not yet published */
		_Atomic unsigned rhead;         /* ring: entries published */
	} rbatch __attribute__((aligned(64)));
	/* ATX_CHAN_F_REMOTE: the completion ring (single producer, the loop consumes) */
	struct atx_rslot {
		struct atx_tx *tx;
		int32_t status;
	} *rring;
	unsigned rmask;
	unsigned rtail;                 /* loop thread */
	struct atx_chan *next_rchan;
};

struct atx_session {
	struct atx_ctx *ctx;
	struct atx_session_params p;    /* key pointers aim at key/auth_key below */
	struct atx_engine *eng;
	void *priv;
	struct atx_engine *fb_eng;      /* failover engine (software), lazily */
	void *fb_priv;
	unsigned refs;                  /* caller's + one per descriptor in use */
	bool freed;                     /* the caller dropped its reference */
	uint8_t opc;                    /* the opcode its requests get */
	uint16_t iv_len;                /* the IV length atx_cipher implies */
	uint32_t cap;                   /* atx_opcode_cap(opc) */
	/*
	 * The last request shape that passed atx__crypto_check(): the
	 * check is a pure function of the (immutable) parameters and these,
	 * and storage callers repeat one shape, so it runs once.
	 */
	size_t ok_len, ok_aad_len;
	uint16_t ok_iv_len;
	bool ok_valid;
	struct atx_session *next, *prev;
	uint8_t key[ATX_MAX_KEY_LEN];
	uint8_t auth_key[ATX_MAX_AUTH_KEY_LEN];
};

/* user_data tags in the io_uring (pointers are 8-byte aligned). */
#define UD_WAKE   1u
#define UD_WATCH  2u
#define UD_IO     3u
#define UD_NOP    4u
#define UD_MASK   7u

struct atx_watch {
	struct atx_chan *chan;
	int fd;
} __attribute__((aligned(8)));

struct atx_ctx {
	struct io_uring ring;
	struct atx_ctx_opts opts;

	struct atx_tx *pool;
	unsigned pool_size;
	/*
	 * Free descriptors as a LIFO array, not a list through tx->next:
	 * popping one must not load from the descriptor itself, whose
	 * first line a worker lane's core may hold (it pulls it along with
	 * the op lines it reads), and four allocations per chain would
	 * wait on those loads one after another.
	 */
	struct atx_tx **free_tx;
	unsigned nfree;
	struct atx_seq_side *seq_side;  /* per descriptor, loop thread only */
	struct atx_session **tx_sess;   /* per descriptor (TXF_SESS), loop thread only */
	struct atx_edge *edges;
	struct atx_edge *free_edge;
	unsigned nfree_edges;

	struct atx_engine engines[ATX_MAX_ENGINES];
	unsigned nengines;
	struct atx_engine *soft;        /* the software engine, or NULL */
	struct atx_engine *fileio;
	struct atx_chan *chans[ATX_MAX_CHANS];
	unsigned nchans;

	/*
	 * atx__chan_pick's candidates for (cap, eng): the public channels of
	 * the best priority that serve it, valid while chan_gen is unchanged
	 * (bumped whenever a channel is added, dies, or is taken private or
	 * released).  Only their loads are compared per pick.
	 */
	struct {
		uint32_t cap;
		unsigned gen;
		struct atx_engine *eng;
		unsigned n;
		struct atx_chan *c[ATX_PICK_MAX];
	} pick[8];
	unsigned chan_gen;

	struct atx_chan *dirty;         /* channels with pending work */
	struct atx_txlist done;         /* completed by engines, to process */
	unsigned outstanding;           /* descriptors submitted and not done */
	unsigned in_loop;               /* processing completions: defer issue */
	unsigned sqes_queued;           /* SQEs prepared, not submitted */
	bool inline_new;                /* inline lanes were handed work since the last issue */

	_Atomic(struct atx_tx *) remote; /* (r) completions from engine threads */
	atomic_int rflag;               /* (r) a completion ring has new entries */
	struct atx_chan *rchans;        /* channels with a completion ring */
	unsigned nremote;               /* of those: an engine thread each */
	unsigned ncpus;                 /* CPUs the creator could run on, which its threads inherit */
	atomic_int sleeping;            /* (r) loop thread is (about to be) blocked */
	int wake_fd;                    /* eventfd engine threads write to */
	uint64_t wake_buf;
	bool wake_armed;
	bool embedded;                  /* atx_ctx_fd was called */

	struct atx_watch watches[ATX_MAX_CHANS];
	unsigned nwatches;

	struct atx_session *sessions;
	struct atx_prep *preps;
};

/* handles: pointer + 16-bit generation in the top bits (x86-64/aarch64 user VAs < 2^48) */
#define ATX_HANDLE_SHIFT 48
#define ATX_HANDLE_PTR_MASK ((UINT64_C(1) << ATX_HANDLE_SHIFT) - 1)

static inline struct atx_tx *atx__handle(struct atx_tx *tx)
{
	return (struct atx_tx *)((uintptr_t)tx | ((uintptr_t)tx->gen << ATX_HANDLE_SHIFT));
}

static inline struct atx_tx *atx__untag(struct atx_tx *h)
{
	return (struct atx_tx *)((uintptr_t)h & ATX_HANDLE_PTR_MASK);
}

/* Resolve a user handle; NULL when stale or free. */
static inline struct atx_tx *atx__resolve(struct atx_tx *h)
{
	struct atx_tx *tx = atx__untag(h);

	if (unlikely(!tx || tx->gen != (uint16_t)((uintptr_t)h >> ATX_HANDLE_SHIFT) ||
		     tx->state == TX_FREE))
		return NULL;
	return tx;
}

/*
 * Resolve a dependency handle for @ctx: NULL with *err = ESTALE when the
 * descriptor was recycled, EINVAL when it is not one of @ctx's (checked
 * by address, before anything is read from it).
 */
static inline struct atx_tx *atx__resolve_in(struct atx_ctx *ctx, struct atx_tx *h, int *err)
{
	struct atx_tx *tx = atx__untag(h);

	if (unlikely((uintptr_t)tx - (uintptr_t)ctx->pool >=
		     (uintptr_t)ctx->pool_size * sizeof(*tx) ||
		     ((uintptr_t)tx - (uintptr_t)ctx->pool) % sizeof(*tx))) {
		*err = EINVAL;
		return NULL;
	}
	if (unlikely(tx->gen != (uint16_t)((uintptr_t)h >> ATX_HANDLE_SHIFT) ||
		     tx->state == TX_FREE)) {
		*err = ESTALE;
		return NULL;
	}
	return tx;
}

static inline size_t atx__tx_bytes(const struct atx_tx *tx)
{
	if (tx->op.opcode >= ATX_OP_XOR && tx->op.opcode <= ATX_OP_RAID6_2DATA)
		return tx->op.len * tx->op.u.raid.nsrc;
	return tx->op.len;
}

/* chan.c */
struct atx_chan *atx__chan_pick(struct atx_ctx *ctx, uint32_t cap, struct atx_engine *eng,
				struct atx_chan *hint);

/* Where atx__chan_pick remembers its candidates for (cap, eng). */
static inline unsigned atx__pick_slot(uint32_t cap, const struct atx_engine *eng)
{
	return (cap ^ (unsigned)((uintptr_t)eng >> 6)) & 7;
}

/*
 * What the allocator balances: a channel's queued and in-flight work.
 * The loop thread also issues and completes every lane's work, so its
 * inline lane counts ATX_INLINE_WEIGHT times as loaded (atx bench,
 * xts-enc,crc32c,copy, 1 worker: 0.81-0.91x of one core at weight 1,
 * 1.00-1.09x at weight 4).
 */
#define ATX_INLINE_WEIGHT 4

static inline unsigned atx__chan_load(const struct atx_chan *c)
{
	unsigned load = c->npending + c->inflight;

	if (c->flags & ATX_CHAN_F_INLINE)
		load = (load + 1) * ATX_INLINE_WEIGHT;
	return load;
}

/* The least loaded of @n candidates, the first of them on a tie. */
static inline struct atx_chan *atx__chan_least(struct atx_chan *const *c, unsigned n)
{
	struct atx_chan *best = c[0];
	unsigned i, best_load = atx__chan_load(best);

	for (i = 1; i < n; i++) {
		unsigned load = atx__chan_load(c[i]);

		if (load < best_load) {
			best = c[i];
			best_load = load;
		}
	}
	return best;
}

/* atx__chan_pick from its remembered candidates, without the call. */
static inline struct atx_chan *atx__chan_pick_cached(struct atx_ctx *ctx, uint32_t cap,
						     struct atx_engine *eng)
{
	unsigned slot = atx__pick_slot(cap, eng);

	if (ctx->pick[slot].gen == ctx->chan_gen && ctx->pick[slot].cap == cap &&
	    ctx->pick[slot].eng == eng)
		return ctx->pick[slot].n == 1 ? ctx->pick[slot].c[0] :
		       atx__chan_least(ctx->pick[slot].c, ctx->pick[slot].n);
	return atx__chan_pick(ctx, cap, eng, NULL);
}

/*
 * The one channel atx__chan_pick_cached() has for (cap, eng), or NULL
 * (none remembered, or several to balance between).
 */
static inline struct atx_chan *atx__chan_only(struct atx_ctx *ctx, uint32_t cap,
					      struct atx_engine *eng)
{
	unsigned slot = atx__pick_slot(cap, eng);

	if (ctx->pick[slot].gen == ctx->chan_gen && ctx->pick[slot].cap == cap &&
	    ctx->pick[slot].eng == eng && ctx->pick[slot].n == 1)
		return ctx->pick[slot].c[0];
	return NULL;
}

/* tx.c */
/* A free descriptor made ready for @sub (its op's opcode and payload are the caller's). */
static inline void atx__tx_init(struct atx_tx *tx, const struct atx_submit *sub)
{
	tx->op.fence = 0;
	tx->op.iv_len = 0;
	tx->op.result = 0;
	/* children, nfence and holds are back to empty whenever a tx is recycled. */
	tx->nwait = 0;
	tx->flags = 0;
	tx->result = 0;
	if (sub) {
		tx->cb = sub->cb;
		tx->cb_arg = sub->cb_arg;
		if (sub->flags & ATX_F_ACK)
			tx->flags |= TXF_ACKED;
		if (sub->flags & ATX_F_FAILOVER)
			tx->flags |= TXF_FAILOVER;
	} else {
		tx->cb = NULL;
		tx->cb_arg = NULL;
	}
	tx->state = TX_WAITING;
}

static inline struct atx_tx *atx__tx_alloc(struct atx_ctx *ctx, const struct atx_submit *sub)
{
	struct atx_tx *tx;

	if (unlikely(!ctx->nfree)) {
		errno = EAGAIN;
		return NULL;
	}
	tx = ctx->free_tx[--ctx->nfree];
	atx__tx_init(tx, sub);
	return tx;
}

/*
 * A descriptor for one step riding in a chain's (ATX_OP_SEQ): only its op
 * is used, filled whole by the caller, and it never gets a handle, so its
 * first line is neither written nor read (a worker lane's core may hold
 * it); atx__step_free() gives it back the same way, and chain_split()
 * makes it a whole descriptor when it must.  The pool must not be empty.
 */
static inline struct atx_tx *atx__tx_alloc_step(struct atx_ctx *ctx)
{
	struct atx_tx *tx = ctx->free_tx[--ctx->nfree];

	tx->op.iv_len = 0;
	return tx;
}

struct atx_tx *atx__tx_submit_slow(struct atx_ctx *ctx, struct atx_tx *tx,
				   const struct atx_submit *sub, uint32_t cap,
				   struct atx_engine *eng);
struct atx_tx *atx__tx_fail(struct atx_ctx *ctx, struct atx_tx *tx, int err);
void atx__tx_abort(struct atx_ctx *ctx, struct atx_tx *tx);
unsigned atx__seq_release_steps(struct atx_ctx *ctx, struct atx_seq_side *sd);
void atx__prep_destroy(struct atx_prep *p);

/*
 * Take a line for writing ahead of time.  GCC emits PREFETCHW for a write
 * prefetch only with -mprfchw, which the generic x86-64 target lacks; the
 * instruction itself is a no-op on CPUs without it (a 0F 0D NOP).
 */
static inline void atx__prefetchw(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1, 3);
#endif
}

static inline void atx__pool_push(struct atx_ctx *ctx, struct atx_tx *tx)
{
#ifdef ATX_DEBUG
	/* A descriptor given back twice would be handed out twice. */
	if (ctx->nfree >= ctx->pool_size)
		abort();
#endif
	ctx->free_tx[ctx->nfree++] = tx;
}

static inline void atx__tx_recycle(struct atx_ctx *ctx, struct atx_tx *tx)
{
	if (tx->prep_own) {
		/* Back to its prep, which runs on this thread: no pool, no read-ahead. */
		tx->state = TX_FREE;
		if (++tx->gen == 0)
			tx->gen = 1;
		return;
	}
	/*
	 * The op lines were last read by the engine, on a worker lane's core
	 * maybe; the next user of this descriptor (soon: the pool is LIFO)
	 * writes them.  Ask for them now so the stores do not wait on the
	 * cross-core invalidation one line at a time (atx bench, soft:lanes=1
	 * and soft:workers=1, together with soft.c's read-ahead).
	 */
	atx__prefetchw((char *)tx + 64);
	atx__prefetchw((char *)tx + 128);
	atx__prefetchw((char *)tx + 192);
	tx->state = TX_FREE;
	if (++tx->gen == 0)
		tx->gen = 1;
	atx__pool_push(ctx, tx);
}

static inline struct atx_seq_side *atx__seq_side(struct atx_ctx *ctx, const struct atx_tx *tx)
{
	return &ctx->seq_side[tx - ctx->pool];
}

/* A run completed (or was never queued): the prep is free again. */
static inline unsigned atx__prep_done(struct atx_prep *p)
{
	unsigned n = p->n;

	p->busy = false;
	if (unlikely(p->dying))
		atx__prep_destroy(p);
	return n;
}

/*
 * A chain's steps that rode along in its descriptor (ATX_OP_SEQ) go back
 * to the pool with it, their session references with them; a prepared
 * chain's run gives its prep back.  Returns how many steps it held.
 * Reads only the side record, not the lines the engine read.
 */
static inline unsigned atx__seq_release(struct atx_ctx *ctx, struct atx_tx *tx)
{
	struct atx_seq_side *sd;
	struct atx_prep *p;

	tx->flags &= ~TXF_SEQ;
	if (tx->prep_own) {
		/* Its prep from the op's first step, which the engine just read; the record stays. */
		return atx__prep_done((struct atx_prep *)((char *)tx->op.u.seq.step[0] -
							  offsetof(struct atx_prep, ops)));
	}
	sd = atx__seq_side(ctx, tx);
	p = atx__seq_prep(sd);
	if (p) {
		sd->step[0] = NULL;
		return atx__prep_done(p);
	}
	return atx__seq_release_steps(ctx, sd);
}

/* The session a descriptor holds a reference to (TXF_SESS). */
static inline struct atx_session **atx__tx_sess(struct atx_ctx *ctx, const struct atx_tx *tx)
{
	return &ctx->tx_sess[tx - ctx->pool];
}

/*
 * A step from atx__tx_alloc_step() back to the pool, untouched: it never
 * had a handle, so the generation need not move (a handle from its life
 * before still fails the check) and its state is still what it was.
 */
static inline void atx__step_free(struct atx_ctx *ctx, struct atx_tx *tx)
{
	atx__prefetchw((char *)tx + 64);
	atx__prefetchw((char *)tx + 128);
	atx__prefetchw((char *)tx + 192);
	atx__pool_push(ctx, tx);
}

/* async_tx 3.3: back to the pool once completed, acked and needed by nobody. */
static inline void atx__tx_maybe_recycle(struct atx_ctx *ctx, struct atx_tx *tx)
{
	if (tx->state == TX_DONE && (tx->flags & TXF_ACKED) && !(tx->flags & TXF_WAITER) &&
	    !tx->holds && !tx->children)
		atx__tx_recycle(ctx, tx);
}
int atx__pool_init(struct atx_ctx *ctx, unsigned n);
void atx__pool_fini(struct atx_ctx *ctx);

/* loop.c */
/* @chan's engine took @tx (its inline lane, no doorbell to ring). */
static inline void atx__chan_took(struct atx_ctx *ctx, struct atx_chan *chan, struct atx_tx *tx)
{
	chan->inflight++;
	chan->st.bytes += atx__tx_bytes(tx);
	ctx->inline_new = true;
}

/* @tx to @chan's pending queue, for atx__issue to hand over. */
static inline void atx__chan_queue(struct atx_ctx *ctx, struct atx_chan *chan, struct atx_tx *tx)
{
	tx->state = TX_READY;
	txlist_push(&chan->pending, tx);
	chan->npending++;
	if (!chan->dirty) {
		chan->dirty = true;
		chan->next_dirty = ctx->dirty;
		ctx->dirty = chan;
	}
}

void atx__chan_hand(struct atx_ctx *ctx, struct atx_chan *chan, struct atx_tx *tx);

static inline void atx__chan_ready(struct atx_ctx *ctx, struct atx_chan *chan, struct atx_tx *tx)
{
	/*
	 * An inline lane has no doorbell to batch for: queue the descriptor
	 * to run (ops->exec), or hand it over (atx__chan_hand), now, while
	 * its lines are in cache, instead of queueing it for atx__issue to
	 * walk again (nothing runs before the loop's next poll pass either
	 * way).  Anything unusual takes the pending queue.  Nothing refuses
	 * an exec channel's work (it has no submit to say -EAGAIN), so it
	 * is never blocked.
	 */
	if (chan->exec && !chan->pending.head && !chan->dead && !(tx->flags & TXF_CANCEL)) {
		tx->state = TX_INFLIGHT;
		txlist_push(&chan->run, tx);
		atx__chan_took(ctx, chan, tx);
	} else if ((chan->flags & ATX_CHAN_F_INLINE) && !chan->pending.head && !chan->blocked &&
		   !chan->dead && !(tx->flags & TXF_CANCEL)) {
		atx__chan_hand(ctx, chan, tx);
	} else {
		atx__chan_queue(ctx, chan, tx);
	}
}

/* Make @tx wait for @p (an edge must be free). */
static inline void atx__link_child(struct atx_ctx *ctx, struct atx_tx *p, struct atx_tx *tx)
{
	struct atx_edge *e = ctx->free_edge;

	ctx->free_edge = e->next;
	ctx->nfree_edges--;
	e->child = tx;
	e->next = p->children;
	p->children = e;
	tx->nwait++;
}

/* Queue @tx, which waits for nothing, on @chan, a public channel that serves it. */
static inline struct atx_tx *atx__tx_submit_on(struct atx_ctx *ctx, struct atx_tx *tx,
					       struct atx_chan *chan)
{
	tx->chan = chan;
	ctx->outstanding++;
	atx__chan_ready(ctx, chan, tx);
	return atx__handle(tx);
}

/*
 * Link @tx below its parents, pick its channel and queue it (see
 * atx__tx_submit_slow).  Inline here: the step of a chain whose one
 * parent is still pending on a lane that serves this step too - the
 * common case of every chain - costs no call and no loop.
 */
static inline struct atx_tx *atx__tx_submit(struct atx_ctx *ctx, struct atx_tx *tx,
					    const struct atx_submit *sub, uint32_t cap,
					    struct atx_engine *eng)
{
	struct atx_chan *chan;
	struct atx_tx *p;
	int err;

	if (!sub || !sub->depend_tx) {
		if (unlikely(sub && (sub->ndeps || sub->chan)))
			return atx__tx_submit_slow(ctx, tx, sub, cap, eng);
		/* No parent: the first step of a chain, or a lone request. */
		chan = atx__chan_pick_cached(ctx, cap, eng);
		if (unlikely(!chan))
			return atx__tx_fail(ctx, tx, EOPNOTSUPP);
		return atx__tx_submit_on(ctx, tx, chan);
	}
	if (unlikely(sub->ndeps || sub->chan))
		return atx__tx_submit_slow(ctx, tx, sub, cap, eng);
	p = atx__resolve_in(ctx, sub->depend_tx, &err);
	if (unlikely(!p))
		return atx__tx_fail(ctx, tx, err);
	chan = p->chan;
	if (p->state == TX_DONE || unlikely(chan->private_ || chan->dead || (chan->caps & cap) != cap ||
					     (eng && chan->eng != eng) || !ctx->free_edge))
		return atx__tx_submit_slow(ctx, tx, sub, cap, eng);

	tx->chan = chan;
	p->flags |= TXF_ACKED;
	atx__link_child(ctx, p, tx);
	ctx->outstanding++;
	if ((p->state == TX_READY || p->state == TX_INFLIGHT) &&
	    (chan->flags & ATX_CHAN_F_IN_ORDER) && !chan->blocked) {
		/* Handed over now, right behind its parent on its in-order lane. */
		tx->op.fence = 1;
		tx->op.fence_tx = p;
		tx->fence_p = p;
		tx->flags |= TXF_FENCED;
		tx->nfence = 1;
		p->holds++;
		atx__chan_ready(ctx, chan, tx);
	}
	return atx__handle(tx);
}

int atx__issue(struct atx_ctx *ctx);
int atx__process_done(struct atx_ctx *ctx);
int atx__loop_init(struct atx_ctx *ctx);
void atx__loop_fini(struct atx_ctx *ctx);
void atx__sqe_queued(struct atx_ctx *ctx);
void atx__watches_drop(struct atx_ctx *ctx, struct atx_engine *e);

/* chan.c */
void atx__chan_free(struct atx_ctx *ctx, struct atx_chan *chan);

/* session.c, ops.c */
enum atx_opcode atx__svc_opcode(enum atx_service svc);
void atx__session_destroy(struct atx_session *s);

/* Drop a reference; inline, since every completion that holds one drops it. */
static inline void atx__session_put(struct atx_session *s)
{
	if (--s->refs == 0)
		atx__session_destroy(s);
}
int atx__session_failover(struct atx_session *s, void **priv);

/* engines.c */
extern const struct atx_engine_ops atx_soft_engine_ops;
extern const struct atx_engine_ops atx_fileio_engine_ops;
const struct atx_engine_ops *atx__engine_lookup(const char *name);
int atx__engines_attach(struct atx_ctx *ctx);
void atx__engines_detach(struct atx_ctx *ctx);
int atx__ctx_attach_engine(struct atx_ctx *ctx, const struct atx_engine_ops *ops, const char *args);

/* fileio.c */
void atx__fileio_cqe(struct atx_ctx *ctx, struct atx_tx *tx, int res);

#endif /* ATX_INTERNAL_H */
