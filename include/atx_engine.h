/* SPDX-License-Identifier: MIT */
/*
 * atx_engine.h - the interface between the atx core and its engines.
 *
 * An engine is a const struct atx_engine_ops.  The core attaches an
 * instance of it to a context (struct atx_engine), the engine creates its
 * channels (queues) with atx_engine_add_chan(), and from then on the core
 * hands it descriptors through ops->submit and takes completions back
 * through atx_engine_complete() (loop thread) or
 * atx_engine_complete_remote() + atx_engine_remote_flush() (any thread).
 *
 * Rules (STYLE.md):
 *  - submit never completes a descriptor itself: completion reaches the
 *    loop, which runs callbacks;
 *  - submit may refuse with -EAGAIN (queue full); the core then holds that
 *    channel's work until the engine calls atx_engine_unblock();
 *  - errors travel in the completion status, never as a return from
 *    the execution of a descriptor.
 */
#ifndef ATX_ENGINE_H
#define ATX_ENGINE_H

#include "atx.h"

#ifdef __cplusplus
extern "C" {
#endif

struct atx_engine;

enum atx_opcode {
	ATX_OP_NOP = 0,         /* atx_trigger_callback */
	ATX_OP_MEMCPY,
	ATX_OP_MEMSET,
	ATX_OP_CRC32C,
	ATX_OP_COPY_CRC32C,
	ATX_OP_XOR,
	ATX_OP_XOR_VAL,
	ATX_OP_PQ,
	ATX_OP_PQ_VAL,
	ATX_OP_RAID6_DATAP,
	ATX_OP_RAID6_2DATA,
	ATX_OP_CIPHER,
	ATX_OP_HASH,            /* atx_digest on a HASH session */
	ATX_OP_MAC,             /* atx_digest on a MAC session */
	ATX_OP_AEAD,
	ATX_OP_CHAIN,           /* atx_aead on a CHAIN session */
	ATX_OP_READ,
	ATX_OP_WRITE,
	ATX_OP_CRC32C_BLOCKS,   /* atx_crc32c_blocks: u.mem.src, u.mem.out[len / u.mem.block], seed */
	ATX_OP_SEQ,             /* atx_chain: run u.seq.step[0..n) in order, stop at the first failure */
	ATX_OP__COUNT,
};

/*
 * u.seq.flags: the steps are a prepared chain's ops (atx_prep_new), the
 * same at every run but for their IVs, and each step's eng[0] belongs to
 * this channel's engine from run to run: zero until the engine first
 * writes it, never written by anyone else.  An engine may keep there what
 * it decided about the step at its first run.  Set only for runs handed
 * to one engine's channels, the one whose runs saw it first.
 */
#define ATX_SEQ_F_PREP  (1u << 0)

/* The capability an opcode needs. */
uint32_t atx_opcode_cap(enum atx_opcode op);

/*
 * The engine-visible part of a descriptor.  Filled by the core before
 * submit and read-only for the engine, except eng[] which is the engine's
 * scratch space while it owns the descriptor.
 *
 * Laid out by use (PERF.md: a chain of 4 KiB steps evicts descriptors
 * between the times they are touched, so every line counts): the first 64
 * bytes hold everything a memory op or the hot part of a crypto op needs;
 * the flat-buffer iovecs and the IV follow in the second line; what only
 * AEAD, hash and MAC requests read comes last.  An engine thread writes
 * only the first line (eng[0], and the core's result field through
 * atx_tx_set_result and the completion calls).  Reading is not free
 * either: a line an engine thread on another core has read costs the
 * loop thread a transfer when it next reads or writes it, and a thread
 * walking lines 1-2 of descriptors in address order pulls their
 * neighbours along (build/release/bench-lines).
 */
struct atx_op {
	uint8_t opcode;         /* enum atx_opcode */
	uint8_t fence;          /* handed early behind this many in-order parents: atx_tx_fence_ok() */
	uint16_t iv_len;
	int32_t result;         /* core: what atx_tx_set_result()/completion recorded; do not touch */
	size_t len;             /* payload bytes (per block for RAID ops) */
	uintptr_t eng[1];       /* engine scratch */
	struct atx_tx *fence_tx;/* core: the parent a fenced op waits behind (atx_tx_fence_ok) */
	union {
		struct {
			void *dst;
			const void *src;
			union {
				int c;          /* memset */
				uint32_t seed;  /* crc32c */
			};
			uint32_t block;         /* crc32c_blocks: bytes per block */
			uint32_t *out;          /* crc32c result (crc32c_blocks: one per block) */
		} mem;
		struct {
			void *const *srcs;      /* xor/xor_val sources, pq data blocks */
			unsigned nsrc;
			void *dst;              /* xor destination */
			void *p;                /* pq: P (NULL = skip); recovery: P */
			void *q;                /* pq: Q (NULL = skip); recovery: Q */
			uint32_t *result;       /* *_val result bits */
			unsigned faila, failb;  /* recovery */
		} raid;
		struct {
			void *sess_priv;        /* the engine's own session state */
			const struct iovec *src;
			const struct iovec *dst;/* == src when in place */
			unsigned src_cnt, dst_cnt;
			struct iovec src1, dst1;/* storage for flat-buffer calls */
			uint8_t iv[ATX_MAX_IV_LEN];
			void *digest;           /* out: hash/MAC/tag; in: value to verify */
			const void *aad;
			size_t aad_len;
		} crypto;
		struct {
			int fd;
			void *buf;
			uint64_t offset;
			size_t done;            /* bytes transferred so far */
		} io;
		/*
		 * ATX_OP_SEQ (channels with ATX_CAP_SEQ): each step is an op of
		 * an opcode the channel serves, filled as for the single call;
		 * the engine runs them in order and completes the descriptor
		 * with 0 or the first failing step's status (later steps do not
		 * run).  len is the steps' total, for statistics.
		 */
		struct {
			uint16_t n;
			uint16_t flags;         /* ATX_SEQ_F_* */
			int32_t err;            /* core only */
			/* the first three share the op's first line with n */
			struct atx_op *step[ATX_CHAIN_MAX];
		} seq;
	} u;
};

/* Channel flags (atx_engine_add_chan). */
#define ATX_CHAN_F_IN_ORDER (1u << 0) /* executes its queue in order: dependents may be handed early */
#define ATX_CHAN_F_POLL     (1u << 1) /* core calls ops->poll on every loop pass while it has work */
#define ATX_CHAN_F_INLINE   (1u << 2) /* executes in the loop thread (no thread crossing) */
#define ATX_CHAN_F_REMOTE   (1u << 3) /* one engine thread completes its work: give it a ring */

/* submit hints */
#define ATX_HINT_MORE       (1u << 0) /* more descriptors follow in this batch: do not ring yet */

struct atx_engine_ops {
	const char *name;       /* required: "soft", "mb", "virtio" */
	int prio;               /* required: ATX_PRIO_* */
	uint32_t caps;          /* required: ATX_CAP_* the engine may offer */

	/*
	 * attach (required) - set up an instance for @ctx; @args is the text
	 * after "name:" in the engine spec, or NULL.  Creates channels with
	 * atx_engine_add_chan().  Returns 0 or -errno (-ENODEV: not here).
	 */
	int (*attach)(struct atx_engine *e, const char *args);
	/* detach (required) - every descriptor has completed; free everything. */
	void (*detach)(struct atx_engine *e);

	/*
	 * probe_session (required with any crypto cap) - priority with which
	 * this engine would serve @p (normally ops->prio), or -EOPNOTSUPP.
	 */
	int (*probe_session)(struct atx_engine *e, const struct atx_session_params *p);
	/* new_session (required with any crypto cap) - build engine state into *priv. */
	int (*new_session)(struct atx_engine *e, const struct atx_session_params *p, void **priv);
	/* free_session (required with any crypto cap) - no descriptor uses it any more; zeroize keys. */
	void (*free_session)(struct atx_engine *e, void *priv);

	/*
	 * submit (required) - take @tx for execution on @chan.  @hints has
	 * ATX_HINT_MORE while more follow in this batch; the last of a batch
	 * comes without it and must ring the doorbell.  Returns 0, or
	 * -EAGAIN when full: the tx stays with the core, the engine rings the
	 * doorbell for what it already accepted, and calls
	 * atx_engine_unblock() when there is room again.  Any other negative
	 * return completes the tx with that status.
	 */
	int (*submit)(struct atx_chan *chan, struct atx_tx *tx, unsigned hints);

	/*
	 * submit_burst (optional; inline channels) - as submit() for
	 * @txs[0..@n-1] in order, the last ending the batch.  atx_burst()
	 * calls it with what it can vouch for: @n >= 2 requests of one
	 * session, opcode, length and IV length, each with one source and
	 * one destination segment (the same one in place), none fenced,
	 * nothing queued for @chan ahead of them.  Returns how many it took,
	 * from the first (it never completes one before returning); the core
	 * hands the rest to submit() one by one.
	 */
	unsigned (*submit_burst)(struct atx_chan *chan, struct atx_tx *const *txs, unsigned n);

	/*
	 * poll (required with ATX_CHAN_F_POLL or atx_engine_watch_fd) - run
	 * in the loop thread: execute inline work or reap the device,
	 * completing descriptors with atx_engine_complete().  Returns the
	 * number completed.
	 */
	int (*poll)(struct atx_chan *chan, unsigned budget);

	/*
	 * buf_alloc / buf_free (optional, slow path) - memory the engine's
	 * device reads and writes in place (no bounce), for atx_buf_alloc().
	 * buf_free returns false when @p is not the engine's.
	 */
	void *(*buf_alloc)(struct atx_engine *e, size_t len);
	bool (*buf_free)(struct atx_engine *e, void *p);

	/*
	 * exec (optional; used for ATX_CHAN_F_INLINE channels) - execute @tx
	 * to the end, now, in the loop thread, and return its status (a
	 * fenced @tx checks atx_tx_fence_ok() first, as in poll).  With it
	 * the core keeps the channel's queue itself and never calls submit
	 * or poll for that channel: each loop pass executes what was queued
	 * back to back, then completes it in order in the same pass.
	 */
	int (*exec)(struct atx_chan *chan, struct atx_tx *tx);
};

/* Registration check (dmaengine's CHECK_CAP): 0 or -EINVAL naming nothing. */
int atx_engine_ops_check(const struct atx_engine_ops *ops);

/* ---- for engines: the engine instance and its channels (slow path) ---- */
struct atx_ctx *atx_engine_ctx(struct atx_engine *e);
void *atx_engine_priv(struct atx_engine *e);
void atx_engine_set_priv(struct atx_engine *e, void *priv);
const char *atx_engine_instance_name(struct atx_engine *e); /* "soft", "virtio0" */
/* atx_ctx_opts.arena_size of the engine's context (0 = the engine's default). */
size_t atx_engine_arena_size(struct atx_engine *e);

struct atx_chan *atx_engine_add_chan(struct atx_engine *e, const char *name, uint32_t caps,
				     unsigned flags, void *priv);
void *atx_chan_priv(struct atx_chan *chan);
struct atx_engine *atx_chan_engine(struct atx_chan *chan);
unsigned atx_chan_index(struct atx_chan *chan); /* 0..n-1 within its engine */

/* The channel is gone for good (device vanished): route nothing more to it. */
void atx_chan_set_dead(struct atx_chan *chan);

/* Count @n buffers copied through a bounce area (shows in atx_chan_stats). */
void atx_chan_count_bounce(struct atx_chan *chan, uint64_t n);

/*
 * atx_engine_watch_fd - the core keeps a poll on @fd in its io_uring and
 * calls ops->poll(chan) when it is readable (e.g. a virtqueue's call
 * eventfd).  The engine reads/clears the fd itself.
 */
int atx_engine_watch_fd(struct atx_chan *chan, int fd);

/* ---- for engines: the fast path ---- */
/* Where the op sits in a descriptor (the core's bookkeeping line comes first). */
#define ATX_TX_OP_OFFSET 64

static inline struct atx_op *atx_tx_op(struct atx_tx *tx)
{
	return (struct atx_op *)(void *)((char *)tx + ATX_TX_OP_OFFSET);
}

/*
 * Complete @tx with @status: queues it for the loop, which runs the
 * callback later (never inside submit).  Loop thread only.
 */
void atx_engine_complete(struct atx_tx *tx, int status);

/*
 * Complete from another thread: queue @tx with @status on the channel's
 * batch, then call atx_engine_remote_flush() once per batch, which hands
 * the batch to the loop with one atomic operation and wakes the loop if
 * it sleeps.  Nothing reaches the loop before the flush.  One thread per
 * channel.  A channel created with ATX_CHAN_F_REMOTE gets a completion
 * ring the loop reads without chasing pointers through descriptors the
 * other core wrote; otherwise batches are linked through op->eng[0].
 */
void atx_engine_complete_remote(struct atx_chan *chan, struct atx_tx *tx, int status);
void atx_engine_remote_flush(struct atx_chan *chan);

/* The channel has room again after refusing with -EAGAIN.  Loop thread only. */
void atx_engine_unblock(struct atx_chan *chan);

/*
 * For a descriptor handed over with op->fence set: true when every parent
 * it was queued behind on this channel succeeded.  The engine must call
 * it after those parents executed (in-order queue) and, when false,
 * complete the descriptor with -ECANCELED without executing it.
 */
bool atx_tx_fence_ok(struct atx_tx *tx);

/*
 * The status the engine gave a descriptor it executed (for in-order
 * engines that record results before handing completions back).
 */
void atx_tx_set_result(struct atx_tx *tx, int status);

/* Bytes of payload a descriptor moves (for stats and engines' thresholds). */
size_t atx_tx_bytes(struct atx_tx *tx);

/* The parameters a session was created with (keys included: handle with care). */
const struct atx_session_params *atx_session_params(const struct atx_session *s);

#ifdef __cplusplus
}
#endif
#endif /* ATX_ENGINE_H */
