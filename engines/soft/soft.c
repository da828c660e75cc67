/* SPDX-License-Identifier: MIT */
/*
 * soft.c - the software engine's lanes.
 *
 * The inline lane ("soft.inline") executes issued work in the loop thread
 * when the core's loop pass runs the lane's queue (ops->exec), which
 * completes it in the same pass: no thread crossing, no system call.
 * Worker lanes ("soft.laneN") are threads that take whole batches (one
 * lock round per batch, signalled once per doorbell), execute them in
 * order and hand completions back once per batch through the core's
 * lock-free remote list.  PERF.md: a sleep/wake pair costs 17-60 us
 * against 0.58 us for a 4 KiB XTS, so workers spin briefly before
 * sleeping and the loop is only woken when it sleeps.
 *
 * Every lane executes in order (ATX_CHAN_F_IN_ORDER), so the core hands a
 * dependent over right behind its parent and a chain on one lane costs one
 * round trip: the lane checks atx_tx_fence_ok() before running it.  A
 * whole atx_chain() comes as one descriptor (ATX_CAP_SEQ) whose steps it
 * runs back to back.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atx_simd.h"
#include "soft.h"

#define SOFT_SPIN_NS 30000
#define SOFT_CHUNK 16   /* descriptors per hand-back from a worker lane */

/* The lane's private list link lives in the engine scratch of the descriptor. */
static inline struct atx_tx *tx_next(struct atx_tx *tx)
{
	return (struct atx_tx *)atx_tx_op(tx)->eng[0];
}

static inline void tx_set_next(struct atx_tx *tx, struct atx_tx *next)
{
	atx_tx_op(tx)->eng[0] = (uintptr_t)next;
}

struct soft_lane {
	struct atx_chan *chan;
	unsigned idx;                   /* session context slot: 0 inline, 1.. workers */
	bool worker;
	/* loop thread only */
	struct atx_tx *b_head, *b_tail;         /* worker: batch being built */
	unsigned b_n;
	/* worker hand-over */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct atx_tx *q_head, *q_tail; /* (q) protected by lock */
	bool sleeping;                  /* (q) */
	bool stop;                      /* (q) */
	atomic_uint qlen;               /* hint for spinning without the lock */
};

struct soft_engine {
	unsigned nlanes;                /* session slots: inline (always reserved) + workers */
	struct soft_lane lanes[];
};

/* One operation: a descriptor's, or one step of a chain's. */
static inline int soft_exec_op(struct soft_lane *l, struct atx_op *op)
{
	int ret;

	switch (op->opcode) {
	case ATX_OP_NOP:
	case ATX_OP_MEMCPY:
	case ATX_OP_MEMSET:
		return soft_mem_exec(op);
	case ATX_OP_CRC32C:
	case ATX_OP_COPY_CRC32C:
	case ATX_OP_CRC32C_BLOCKS:
		ret = soft_mem_exec(op);
		atx_simd_clean();       /* ISA-L: see atx_simd.h */
		return ret;
	case ATX_OP_XOR:
	case ATX_OP_XOR_VAL:
	case ATX_OP_PQ:
	case ATX_OP_PQ_VAL:
	case ATX_OP_RAID6_DATAP:
	case ATX_OP_RAID6_2DATA:
		ret = soft_raid_exec(op);
		atx_simd_clean();
		return ret;
	case ATX_OP_CIPHER:
	case ATX_OP_HASH:
	case ATX_OP_MAC:
	case ATX_OP_AEAD:
	case ATX_OP_CHAIN:
		return soft_crypto_exec(op->u.crypto.sess_priv, l->idx, op);
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * A prepared chain's steps (ATX_SEQ_F_PREP) do not change between runs
 * but for their IVs, so what runs each is chosen at its first run and
 * kept in its eng[0]: the opcode switches and the flat-buffer checks of
 * soft_exec_op are paid once per prepared chain instead of once per run
 * (~50 instructions of a three-step storage chain, callgrind).
 */
typedef int (*soft_step_fn)(struct soft_lane *l, struct atx_op *op);

static int step_copy(struct soft_lane *l, struct atx_op *op)
{
	if (op->len)
		memmove(op->u.mem.dst, op->u.mem.src, op->len);
	return 0;
}

static int step_crc32c(struct soft_lane *l, struct atx_op *op)
{
	*op->u.mem.out = soft_crc32c(op->u.mem.src, op->len, op->u.mem.seed);
	atx_simd_clean();
	return 0;
}

static int step_cipher_flat(struct soft_lane *l, struct atx_op *op)
{
	return soft_crypto_cipher_flat(op->u.crypto.sess_priv, l->idx, op);
}

static int step_any(struct soft_lane *l, struct atx_op *op)
{
	return soft_exec_op(l, op);
}

static __attribute__((noinline)) soft_step_fn step_prepare(struct atx_op *op)
{
	soft_step_fn fn;

	switch (op->opcode) {
	case ATX_OP_MEMCPY:
		fn = step_copy;
		break;
	case ATX_OP_CRC32C:
		fn = step_crc32c;
		break;
	case ATX_OP_CIPHER:
		fn = soft_crypto_flat(op->u.crypto.sess_priv, op) ? step_cipher_flat : step_any;
		break;
	default:
		fn = step_any;
		break;
	}
	op->eng[0] = (uintptr_t)fn;
	return fn;
}

static int soft_exec(struct soft_lane *l, struct atx_tx *tx)
{
	struct atx_op *op = atx_tx_op(tx);
	unsigned i, n;
	int ret;

	if (op->fence && !atx_tx_fence_ok(tx))
		return -ECANCELED;
	if (op->opcode != ATX_OP_SEQ)
		return soft_exec_op(l, op);
	/* A chain (ATX_CAP_SEQ): its steps back to back, up to the first failure. */
	n = op->u.seq.n;
	if (op->u.seq.flags & ATX_SEQ_F_PREP) {
		for (i = 0; i < n; i++) {
			struct atx_op *s = op->u.seq.step[i];
			soft_step_fn fn = (soft_step_fn)s->eng[0];

			if (__builtin_expect(!fn, 0))
				fn = step_prepare(s);
			ret = fn(l, s);
			if (ret)
				return ret;
		}
		return 0;
	}
	for (i = 0; i < n; i++) {
		ret = soft_exec_op(l, op->u.seq.step[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/*
 * Read-ahead of descriptors the loop thread wrote on the other core.  The
 * lane walks its batch as a linked list, so without this every descriptor
 * and every chain step is a cross-core miss taken one after the other
 * while the cipher waits.  One descriptor ahead is enough: a step runs for
 * hundreds of ns, a transfer takes ~100.  Median of 8 interleaved runs of
 * atx bench, xts-enc,crc32c,copy 4K qd 64 (with the core's prefetch on
 * recycle): soft:lanes=1 1.35 -> 1.42x (chain: 1.26 -> 1.45x),
 * soft:workers=1 0.80 -> 0.98x, CPU per chain -6..-13 %.
 */
static inline void pf_lines(const void *p)
{
	__builtin_prefetch(p, 0, 3);
	__builtin_prefetch((const char *)p + 64, 0, 3);
	__builtin_prefetch((const char *)p + 128, 0, 3);
}

static inline void pf_tx(struct atx_tx *tx)
{
	pf_lines(atx_tx_op(tx));
}

static inline void pf_steps(struct atx_tx *tx)
{
	const struct atx_op *op = atx_tx_op(tx);
	unsigned i;

	if (op->opcode == ATX_OP_SEQ)
		for (i = 0; i < op->u.seq.n; i++)
			pf_lines(op->u.seq.step[i]);
}

static void *lane_main(void *arg)
{
	struct soft_lane *l = arg;

	for (;;) {
		struct atx_tx *list, *tx, *nx;

		pthread_mutex_lock(&l->lock);
		while (!l->q_head && !l->stop) {
			uint64_t t0;

			pthread_mutex_unlock(&l->lock);
			t0 = now_ns();
			while (!atomic_load_explicit(&l->qlen, memory_order_acquire) &&
			       now_ns() - t0 < SOFT_SPIN_NS) {
				/*
				 * Yield, not pause: with more busy threads than vCPUs (two
				 * worker lanes and the loop on two) a spinner holds a CPU a
				 * runnable lane needs; with nothing else runnable it returns
				 * at once (soft:workers=2 0.80 -> 0.91x of one core).
				 */
				sched_yield();
			}
			pthread_mutex_lock(&l->lock);
			if (l->q_head || l->stop)
				break;
			l->sleeping = true;
			pthread_cond_wait(&l->cond, &l->lock);
			l->sleeping = false;
		}
		if (!l->q_head) {
			pthread_mutex_unlock(&l->lock);
			break;
		}
		list = l->q_head;
		pf_steps(list);
		l->q_head = l->q_tail = NULL;
		atomic_store_explicit(&l->qlen, 0, memory_order_relaxed);
		pthread_mutex_unlock(&l->lock);

		/*
		 * Execute in order, handing completions back every
		 * SOFT_CHUNK descriptors: the loop thread then processes one
		 * chunk (callbacks, new submissions) while this lane runs the
		 * next, instead of the two taking turns over a whole batch.
		 * Results are recorded before completing so that fenced
		 * dependents see them.
		 */
		for (tx = list; tx;) {
			struct atx_tx *first = tx;
			int st[SOFT_CHUNK];
			unsigned n, i;

			/* Statuses stay here: on success the lane writes nothing into descriptors. */
			for (n = 0; tx && n < SOFT_CHUNK; n++, tx = tx_next(tx)) {
				struct atx_tx *ahead = tx_next(tx);

				if (ahead)
					pf_tx(ahead);
				st[n] = soft_exec(l, tx);
				atx_tx_set_result(tx, st[n]);
				if (ahead)
					pf_steps(ahead);
			}
			for (i = 0; first != tx; first = nx, i++) {
				nx = tx_next(first); /* read before the core may recycle it */
				atx_engine_complete_remote(l->chan, first, st[i]);
			}
			atx_engine_remote_flush(l->chan);
		}
	}
	return NULL;
}

static void lane_flush(struct soft_lane *l)
{
	pthread_mutex_lock(&l->lock);
	if (l->q_tail)
		tx_set_next(l->q_tail, l->b_head);
	else
		l->q_head = l->b_head;
	l->q_tail = l->b_tail;
	atomic_fetch_add_explicit(&l->qlen, l->b_n, memory_order_release);
	if (l->sleeping)
		pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
	l->b_head = l->b_tail = NULL;
	l->b_n = 0;
}

/* A worker lane's batch; the inline lane's work comes through soft_exec_inline. */
static int soft_submit(struct atx_chan *chan, struct atx_tx *tx, unsigned hints)
{
	struct soft_lane *l = atx_chan_priv(chan);

	tx_set_next(tx, NULL);
	if (l->b_tail)
		tx_set_next(l->b_tail, tx);
	else
		l->b_head = tx;
	l->b_tail = tx;
	l->b_n++;
	if (!(hints & ATX_HINT_MORE))
		lane_flush(l);
	return 0;
}

/*
 * The inline lane: one descriptor, now.  The core keeps the lane's queue
 * and completes each descriptor itself (atx_engine_ops.exec), which
 * leaves the lane no list of its own to walk.
 */
static int soft_exec_inline(struct atx_chan *chan, struct atx_tx *tx)
{
	return soft_exec(atx_chan_priv(chan), tx);
}

static int parse_args(const char *args, unsigned *lanes, int *inl)
{
	const char *p;

	*lanes = 0;
	*inl = 1;
	if (!args)
		return 0;
	p = strstr(args, "lanes=");
	if (p)
		*lanes = (unsigned)strtoul(p + 6, NULL, 10);
	p = strstr(args, "inline=");
	if (p)
		*inl = atoi(p + 7);
	return *lanes > 32 ? -EINVAL : 0;
}

#define SOFT_CAPS (ATX_CAP_MEMCPY | ATX_CAP_MEMSET | ATX_CAP_CRC32C | ATX_CAP_XOR | ATX_CAP_PQ | \
		   ATX_CAP_RAID6_RECOV | ATX_CAP_CIPHER | ATX_CAP_HASH | ATX_CAP_MAC |        \
		   ATX_CAP_AEAD | ATX_CAP_CHAIN | ATX_CAP_CRC32C_BLOCKS | ATX_CAP_SEQ)

static void soft_detach(struct atx_engine *e);

static int soft_attach(struct atx_engine *e, const char *args)
{
	struct soft_engine *se;
	unsigned workers, i;
	int inl, ret;
	char name[32];

	ret = parse_args(args, &workers, &inl);
	if (ret < 0)
		return ret;
	if (!workers && !inl)
		return -EINVAL;
	se = calloc(1, sizeof(*se) + sizeof(se->lanes[0]) * (workers + 1));
	if (!se)
		return -ENOMEM;
	se->nlanes = workers + 1;
	atx_engine_set_priv(e, se);
	for (i = 0; i < se->nlanes; i++) {
		struct soft_lane *l = &se->lanes[i];

		l->idx = i;
		l->worker = i > 0;
		pthread_mutex_init(&l->lock, NULL);
		pthread_cond_init(&l->cond, NULL);
	}
	if (inl) {
		se->lanes[0].chan = atx_engine_add_chan(e, "soft.inline", SOFT_CAPS,
							ATX_CHAN_F_IN_ORDER | ATX_CHAN_F_INLINE,
							&se->lanes[0]);
		if (!se->lanes[0].chan) {
			ret = -errno;
			goto err_detach;
		}
	}
	for (i = 1; i < se->nlanes; i++) {
		struct soft_lane *l = &se->lanes[i];

		snprintf(name, sizeof(name), "soft.lane%u", i - 1);
		l->chan = atx_engine_add_chan(e, name, SOFT_CAPS,
					      ATX_CHAN_F_IN_ORDER | ATX_CHAN_F_REMOTE, l);
		if (!l->chan) {
			ret = -errno;
			goto err_detach;
		}
		ret = -pthread_create(&l->thread, NULL, lane_main, l);
		if (ret < 0) {
			l->chan = NULL;
			goto err_detach;
		}
	}
	return 0;

err_detach:
	soft_detach(e);
	return ret;
}

static void soft_detach(struct atx_engine *e)
{
	struct soft_engine *se = atx_engine_priv(e);
	unsigned i;

	if (!se)
		return;
	for (i = 1; i < se->nlanes; i++) {
		struct soft_lane *l = &se->lanes[i];

		if (!l->chan)
			continue;
		pthread_mutex_lock(&l->lock);
		l->stop = true;
		pthread_cond_signal(&l->cond);
		pthread_mutex_unlock(&l->lock);
		pthread_join(l->thread, NULL);
	}
	for (i = 0; i < se->nlanes; i++) {
		pthread_mutex_destroy(&se->lanes[i].lock);
		pthread_cond_destroy(&se->lanes[i].cond);
	}
	free(se);
	atx_engine_set_priv(e, NULL);
}

static int soft_probe_session(struct atx_engine *e, const struct atx_session_params *p)
{
	return soft_crypto_probe(p) == 0 ? ATX_PRIO_SOFTWARE : -EOPNOTSUPP;
}

static int soft_new_session(struct atx_engine *e, const struct atx_session_params *p, void **priv)
{
	struct soft_engine *se = atx_engine_priv(e);

	return soft_crypto_session_new(p, se->nlanes, (struct soft_sess **)priv);
}

static void soft_free_session(struct atx_engine *e, void *priv)
{
	soft_crypto_session_free(priv);
}

const struct atx_engine_ops atx_soft_engine_ops = {
	.name = "soft",
	.prio = ATX_PRIO_SOFTWARE,
	.caps = SOFT_CAPS,
	.attach = soft_attach,
	.detach = soft_detach,
	.probe_session = soft_probe_session,
	.new_session = soft_new_session,
	.free_session = soft_free_session,
	.submit = soft_submit,
	.exec = soft_exec_inline,
};
