/* SPDX-License-Identifier: MIT */
/*
 * atx.h - asynchronous memory transforms with dependency chains.
 *
 * atx is a user-space take on the Linux kernel's async_tx API: callers
 * describe operations (copy, fill, crc32c, cipher, hash, MAC, AEAD, xor,
 * RAID-6 P+Q, file read/write) as descriptors, chain them with
 * dependencies, and atx runs each on the best engine present (a
 * virtio-crypto device queue, the multi-buffer engine, or the software
 * engine on OpenSSL + ISA-L).  Completions are delivered from the
 * context's io_uring loop.
 *
 * Threading: a context is single-threaded, like an io_uring.  Every
 * function taking a ctx, a tx or a session of that ctx must be called from
 * the thread that runs the ctx (callbacks included).  Use one ctx per
 * thread.
 *
 * Errors: functions returning int give 0 (or a count) on success and a
 * negative errno on failure.  Functions returning a pointer give NULL and
 * set errno.  Completion callbacks receive the descriptor's status: 0 or a
 * negative errno (-ECANCELED when a dependency failed).
 */
#ifndef ATX_H
#define ATX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATX_VERSION_MAJOR 0
#define ATX_VERSION_MINOR 1

struct atx_ctx;
struct atx_tx;
struct atx_session;
struct atx_chan;

/* ------------------------------------------------------------------ */
/* Context                                                            */
/* ------------------------------------------------------------------ */

/* Context flags (atx_ctx_opts.flags). */
#define ATX_CTX_F_NO_INLINE   (1u << 0) /* do not create the inline soft lane */
#define ATX_CTX_F_FAILOVER    (1u << 1) /* re-run failed device requests in software */
#define ATX_CTX_F_NO_SOFT     (1u << 2) /* no software engine (tests of device-only paths) */

struct atx_ctx_opts {
	size_t size;            /* sizeof(struct atx_ctx_opts): set first */
	unsigned flags;         /* ATX_CTX_F_* */
	unsigned pool_size;     /* descriptors in the pool; 0 = 4096 */
	unsigned ring_entries;  /* io_uring entries; 0 = 256 */
	unsigned soft_lanes;    /* software worker threads (0..32); 0 = inline only */
	/*
	 * Engines to attach besides the built-in ones, comma separated:
	 * "mb", "virtio:/path/to.sock", "virtio-pci:0000:00:04.0".
	 * NULL or "" = the built-in engines only ("soft", and "mb" when the
	 * CPU and library allow it).  "auto" = every engine that probes.
	 */
	const char *engines;
	size_t arena_size;      /* memory for atx_buf_alloc per device engine; 0 = 4 MiB (vhost-user) */
};

/*
 * atx_ctx_new - create a context: an io_uring, a descriptor pool, the
 * engines named by @opts and their channels.  @opts may be NULL for the
 * defaults.  Returns NULL and sets errno (EINVAL bad options, ENOMEM,
 * ENODEV an engine named in opts->engines could not attach, or the
 * errno of io_uring_queue_init).
 */
struct atx_ctx *atx_ctx_new(const struct atx_ctx_opts *opts);

/*
 * atx_ctx_free - drain and destroy.  Every outstanding descriptor runs to
 * completion and every callback runs first.  Sessions still alive are
 * freed.  Channels obtained with atx_chan_request() are released.
 */
void atx_ctx_free(struct atx_ctx *ctx);

/*
 * atx_ctx_fd - a file descriptor (the io_uring) that becomes readable when
 * the context has work to process, for embedding in epoll/poll/libuv.
 * When it is readable, or after atx_issue_pending(), call
 * atx_run(ctx, ATX_RUN_NOWAIT).
 */
int atx_ctx_fd(struct atx_ctx *ctx);

/*
 * atx_buf_alloc - @len bytes (64-byte aligned) that the context's best
 * device can read and write in place: memory of its shared arena, so
 * requests on it are not bounced (atx_chan_stats.bounced stays put).
 * Without a device engine, or when the arena is full, ordinary memory
 * comes back (devices then bounce it).  NULL with errno ENOMEM / EINVAL.
 * Any buffer works with any operation; this one is just faster on a
 * device.  Free with atx_buf_free() before atx_ctx_free().
 */
void *atx_buf_alloc(struct atx_ctx *ctx, size_t len);
void atx_buf_free(struct atx_ctx *ctx, void *buf);

/* ------------------------------------------------------------------ */
/* Descriptors and submission                                         */
/* ------------------------------------------------------------------ */

/* Submission flags (atx_submit.flags). */
#define ATX_F_ACK        (1u << 0) /* caller will not touch the tx again: recycle on completion */
#define ATX_F_FENCE      (1u << 1) /* (reserved) order against earlier ops on the channel */
#define ATX_F_FAILOVER   (1u << 2) /* on device failure, re-run in software */
#define ATX_F_NO_ISSUE   (1u << 3) /* internal/advanced: do not count toward engine thresholds */

typedef void (*atx_cb)(struct atx_tx *tx, int status, void *arg);

/*
 * How an operation is submitted.  May be NULL for "no flags, no
 * dependency, no callback".  The struct is read during the call only.
 */
struct atx_submit {
	unsigned flags;                 /* ATX_F_* */
	struct atx_tx *depend_tx;       /* single parent (async_tx style), or NULL */
	struct atx_tx *const *deps;     /* several parents (fan-in), or NULL */
	unsigned ndeps;
	atx_cb cb;                      /* runs exactly once from the loop, with the status */
	void *cb_arg;
	struct atx_chan *chan;          /* pin to this channel (e.g. a private one), or NULL */
};

/*
 * Every operation below returns a descriptor, or NULL with errno:
 *   EAGAIN  pool (or dependency edges) exhausted: run the loop and retry
 *   EINVAL  bad argument (length rules, NULL buffer, wrong session kind)
 *   ESTALE  a dependency handle refers to a recycled descriptor
 *   EOPNOTSUPP no engine can serve the operation
 *   EBUSY   submit->chan is a channel privately held by someone else
 * Passing a descriptor as a dependency acks it (async_tx implicit ack).
 * Buffers (and iovec arrays) must stay valid until the descriptor
 * completes; IVs are copied at submission.
 *
 * The operation is queued: it starts after atx_issue_pending() (or when
 * the loop runs) and after all its dependencies completed successfully.
 * If a dependency fails, this descriptor completes with -ECANCELED and its
 * callback still runs.
 */
struct atx_tx *atx_memcpy(struct atx_ctx *ctx, void *dst, const void *src, size_t len,
			  const struct atx_submit *submit);
struct atx_tx *atx_memset(struct atx_ctx *ctx, void *dst, int c, size_t len,
			  const struct atx_submit *submit);

/*
 * atx_crc32c - CRC-32C (Castagnoli, iSCSI) of @src.  @seed is the CRC of
 * the preceding data (0 to start), so chunks can be chained:
 * crc32c(ab) == crc32c(b, seed = crc32c(a)).  The result is written to
 * *@out when the descriptor completes.  The check value of "123456789" is
 * 0xE3069283.
 */
struct atx_tx *atx_crc32c(struct atx_ctx *ctx, uint32_t *out, const void *src, size_t len,
			  uint32_t seed, const struct atx_submit *submit);

/*
 * atx_crc32c_blocks - the CRC-32C of each @block bytes of @src: out[i] =
 * crc32c(src + i * block, block, @seed), for i < @len / @block.  One
 * descriptor for what would otherwise be len / block atx_crc32c calls
 * (per-sector integrity tags; SPDK accel's per-block DIF/CRC idea).
 * @len must be a non-zero multiple of @block (else EINVAL); @out holds
 * len / block values, written when the descriptor completes.  Served by
 * channels with ATX_CAP_CRC32C_BLOCKS.
 */
struct atx_tx *atx_crc32c_blocks(struct atx_ctx *ctx, uint32_t *out, const void *src, size_t len,
				 size_t block, uint32_t seed, const struct atx_submit *submit);

/* atx_copy_crc32c - copy @src to @dst and compute the CRC-32C of the data in one pass. */
struct atx_tx *atx_copy_crc32c(struct atx_ctx *ctx, void *dst, uint32_t *out, const void *src,
			       size_t len, uint32_t seed, const struct atx_submit *submit);

/*
 * atx_trigger_callback - a descriptor that does nothing but complete
 * (async_trigger_callback): with dependencies it runs its callback once
 * they all succeeded.
 */
struct atx_tx *atx_trigger_callback(struct atx_ctx *ctx, const struct atx_submit *submit);

/* ------------------------------------------------------------------ */
/* RAID (async_xor / async_pq, ISA-L on the software engine)          */
/* ------------------------------------------------------------------ */

#define ATX_RAID_MAX_SRCS 64

/* atx_xor - dst = xor of @nsrc sources (dst may be one of them), @len bytes each. */
struct atx_tx *atx_xor(struct atx_ctx *ctx, void *dst, void *const *srcs, unsigned nsrc,
		       size_t len, const struct atx_submit *submit);

/* Result bits of the validate operations, written to *result. */
#define ATX_VAL_P_BAD (1u << 0) /* xor_val: not zero / pq_val: P mismatch */
#define ATX_VAL_Q_BAD (1u << 1) /* pq_val: Q mismatch */

/* atx_xor_val - *result = 0 when the xor of the sources is all zero, else ATX_VAL_P_BAD. */
struct atx_tx *atx_xor_val(struct atx_ctx *ctx, void *const *srcs, unsigned nsrc, size_t len,
			   uint32_t *result, const struct atx_submit *submit);

/*
 * atx_pq - P (xor) and Q (Reed-Solomon over GF(2^8), generator 2, the
 * Linux raid6 / ISA-L pq_gen convention) of @ndata data blocks.  @p or
 * @q may be NULL to skip that syndrome.
 */
struct atx_tx *atx_pq(struct atx_ctx *ctx, void *p, void *q, void *const *data, unsigned ndata,
		      size_t len, const struct atx_submit *submit);

/* atx_pq_val - check P and Q; *result gets ATX_VAL_P_BAD / ATX_VAL_Q_BAD bits. NULL p or q = skip. */
struct atx_tx *atx_pq_val(struct atx_ctx *ctx, const void *p, const void *q, void *const *data,
			  unsigned ndata, size_t len, uint32_t *result,
			  const struct atx_submit *submit);

/*
 * atx_raid6_datap_recov - rebuild data block @faila and P from Q and the
 * other data blocks.  data[faila] and @p are written.
 */
struct atx_tx *atx_raid6_datap_recov(struct atx_ctx *ctx, void *const *data, unsigned ndata,
				     void *p, const void *q, unsigned faila, size_t len,
				     const struct atx_submit *submit);

/* atx_raid6_2data_recov - rebuild data blocks @faila and @failb from P, Q and the rest. */
struct atx_tx *atx_raid6_2data_recov(struct atx_ctx *ctx, void *const *data, unsigned ndata,
				     const void *p, const void *q, unsigned faila,
				     unsigned failb, size_t len, const struct atx_submit *submit);

/* ------------------------------------------------------------------ */
/* File I/O as chain steps (on the context's own io_uring)            */
/* ------------------------------------------------------------------ */

/*
 * atx_read / atx_write - read or write exactly @len bytes at @offset.
 * Short transfers are continued; end of file before @len completes the
 * descriptor with -ENODATA (read); I/O errors complete it with their errno.
 */
struct atx_tx *atx_read(struct atx_ctx *ctx, int fd, void *buf, size_t len, uint64_t offset,
			const struct atx_submit *submit);
struct atx_tx *atx_write(struct atx_ctx *ctx, int fd, const void *buf, size_t len,
			 uint64_t offset, const struct atx_submit *submit);

/*
 * atx_ctx_register_buffers - register up to 64 memory regions with the
 * context's io_uring (IORING_REGISTER_BUFFERS), replacing any earlier
 * registration; @n = 0 only unregisters.  An atx_read/atx_write whose
 * buffer lies inside one region then runs as READ_FIXED/WRITE_FIXED,
 * which skips mapping the user pages per request; every other buffer
 * works as before.  The regions must stay valid until unregistered or
 * atx_ctx_free().  Returns 0 or -errno: EINVAL, EBUSY (file I/O in
 * flight), ENOMEM (e.g. over RLIMIT_MEMLOCK), or what io_uring answers
 * (a region over 1 GiB: EFAULT/EINVAL).  Slow path.
 */
int atx_ctx_register_buffers(struct atx_ctx *ctx, const struct iovec *iov, unsigned n);

/* ------------------------------------------------------------------ */
/* Crypto sessions (virtio-crypto's four services + chaining)          */
/* ------------------------------------------------------------------ */

enum atx_service {
	ATX_SVC_CIPHER = 0,
	ATX_SVC_HASH = 1,
	ATX_SVC_MAC = 2,
	ATX_SVC_AEAD = 3,
	ATX_SVC_CHAIN = 4,      /* cipher + MAC in one request (ALGORITHM_CHAINING) */
};

enum atx_cipher_alg {
	ATX_CIPHER_NONE = 0,
	ATX_CIPHER_AES_ECB,
	ATX_CIPHER_AES_CBC,
	ATX_CIPHER_AES_CTR,
	ATX_CIPHER_AES_XTS,     /* key = two AES keys: 32 (AES-128) or 64 (AES-256) bytes */
	ATX_CIPHER_CHACHA20,    /* 32-byte key, 16-byte IV (counter || nonce, OpenSSL layout) */
	ATX_CIPHER_3DES_CBC,
	ATX_CIPHER__COUNT,
};

enum atx_hash_alg {
	ATX_HASH_NONE = 0,
	ATX_HASH_SHA1,
	ATX_HASH_SHA224,
	ATX_HASH_SHA256,
	ATX_HASH_SHA384,
	ATX_HASH_SHA512,
	ATX_HASH_SHA3_256,
	ATX_HASH__COUNT,
};

enum atx_mac_alg {
	ATX_MAC_NONE = 0,
	ATX_MAC_HMAC_SHA1,
	ATX_MAC_HMAC_SHA224,
	ATX_MAC_HMAC_SHA256,
	ATX_MAC_HMAC_SHA384,
	ATX_MAC_HMAC_SHA512,
	ATX_MAC_AES_CMAC,
	ATX_MAC__COUNT,
};

enum atx_aead_alg {
	ATX_AEAD_NONE = 0,
	ATX_AEAD_AES_GCM,       /* 16/24/32-byte key, 12-byte IV recommended (1..32 allowed) */
	ATX_AEAD_AES_CCM,       /* 7..13-byte nonce, tag 4..16 even */
	ATX_AEAD_CHACHA20_POLY1305, /* 32-byte key, 12-byte nonce, 16-byte tag */
	ATX_AEAD__COUNT,
};

enum atx_dir {
	ATX_ENCRYPT = 0,        /* also: compute the digest/MAC */
	ATX_DECRYPT = 1,        /* also: verify the digest/MAC/tag given by the caller */
};

enum atx_chain_order {
	ATX_CHAIN_ENC_THEN_MAC = 0,     /* encrypt, then MAC the ciphertext (virtio CIPHER_THEN_HASH) */
	ATX_CHAIN_MAC_THEN_ENC = 1,     /* verify MAC of the ciphertext, then decrypt (HASH_THEN_CIPHER) */
};

#define ATX_MAX_KEY_LEN     256 /* HMAC keys may be longer than a hash block (RFC 4231 case 6: 131 bytes) */
#define ATX_MAX_AUTH_KEY_LEN 256
#define ATX_MAX_IV_LEN      32
#define ATX_MAX_DIGEST_LEN  64

/* Session flags. */
#define ATX_SESS_F_FAILOVER (1u << 0) /* re-run failed device requests in software */

struct atx_session_params {
	size_t size;                    /* sizeof(struct atx_session_params): set first */
	enum atx_service service;
	enum atx_dir dir;
	enum atx_cipher_alg cipher;     /* CIPHER, CHAIN */
	enum atx_hash_alg hash;         /* HASH */
	enum atx_mac_alg mac;           /* MAC, CHAIN */
	enum atx_aead_alg aead;         /* AEAD */
	enum atx_chain_order chain_order;
	const void *key;                /* cipher / AEAD / MAC key (copied) */
	size_t key_len;
	const void *auth_key;           /* CHAIN: the MAC key (copied) */
	size_t auth_key_len;
	size_t digest_len;              /* HASH/MAC/CHAIN: output length, 0 = full; AEAD: tag length, 0 = 16 */
	unsigned flags;                 /* ATX_SESS_F_* */
	const char *engine;             /* force an engine by name ("soft", "mb", "virtio0"), NULL = best */
	/*
	 * Data units (AES-XTS CIPHER sessions only; DPDK cryptodev's
	 * dataunit_len, SPDK accel's crypto block_size): one request covers
	 * len / data_unit_len consecutive units, each encrypted as its own
	 * XTS data unit.  The request's IV is the first unit's tweak; unit i
	 * uses that tweak plus i * data_unit_iv_step (a 128-bit little-endian
	 * add), so dm-crypt's plain64 with 512-byte IV units over 4096-byte
	 * sectors is data_unit_len = 4096, data_unit_iv_step = 8, and
	 * --iv-large-sectors is step 1.  A request whose length is not a
	 * multiple of data_unit_len completes nothing: EINVAL at submission.
	 * 0 = the whole request is one data unit (step ignored; 0 step = 1).
	 * Engines that cannot split a request into units (virtio-crypto has
	 * no such field) decline the session at probe with EOPNOTSUPP.
	 * These two fields came after @engine: a caller built against the
	 * older layout passes the smaller size and gets 0 for both.
	 */
	size_t data_unit_len;
	uint64_t data_unit_iv_step;
};

/*
 * atx_session_new - validate @p, copy the keys, and bind the session to
 * the best engine of @ctx: every engine's probe answers with a priority
 * (hardware > accelerated software > software) or "unsupported".
 * Returns NULL with errno EINVAL (bad lengths/combination), EOPNOTSUPP
 * (no engine serves it, or p->engine cannot), ENOMEM.
 */
struct atx_session *atx_session_new(struct atx_ctx *ctx, const struct atx_session_params *p);

/*
 * atx_session_free - drop the caller's reference.  The session stays
 * alive until every descriptor using it completed; then engine state is
 * released and the keys are zeroized.  Submitting with a freed session is
 * a caller bug.
 */
void atx_session_free(struct atx_session *s);

/* Name of the engine that serves @s ("soft", "mb", "virtio0", ...). */
const char *atx_session_engine(const struct atx_session *s);

/*
 * atx_cipher - encrypt or decrypt (the session's direction) @len bytes
 * from @src to @dst (dst == src for in place).  @iv is the IV / XTS tweak /
 * CTR counter block, of the algorithm's length (copied).  Length rules:
 * ECB/CBC/3DES multiples of the block; XTS >= 16; CTR/ChaCha20 any.
 */
struct atx_tx *atx_cipher(struct atx_ctx *ctx, struct atx_session *s, void *dst, const void *src,
			  size_t len, const void *iv, const struct atx_submit *submit);

/*
 * atx_digest - hash (HASH session) or MAC (MAC session) of @src.
 * Encrypt direction: writes digest_len bytes to @digest.
 * Decrypt direction (verify): compares @digest (digest_len bytes) in
 * constant time; a mismatch completes with -EBADMSG.
 */
struct atx_tx *atx_digest(struct atx_ctx *ctx, struct atx_session *s, void *digest,
			  const void *src, size_t len, const struct atx_submit *submit);

/*
 * atx_aead - AEAD encrypt: dst = E(src), tag written to @tag.
 * AEAD decrypt: checks @tag, and only if it matches writes the plaintext
 * to @dst; a mismatch completes with -EBADMSG and @dst is left untouched.
 * CHAIN sessions use the same call: @tag is the MAC of the ciphertext
 * (encrypt-then-MAC; verify-then-decrypt), @aad is MACed before the
 * ciphertext.
 */
struct atx_tx *atx_aead(struct atx_ctx *ctx, struct atx_session *s, void *dst, const void *src,
			size_t len, const void *iv, size_t iv_len, const void *aad,
			size_t aad_len, void *tag, const struct atx_submit *submit);

/*
 * General form of every crypto operation, with scatter-gather lists.
 * dst == NULL (or dst_cnt == 0) means in place.  The src and dst lists
 * must describe the same number of bytes (cipher/AEAD/chain).
 */
struct atx_crypto_op {
	size_t size;                    /* sizeof(struct atx_crypto_op): set first */
	const struct iovec *src;
	unsigned src_cnt;
	const struct iovec *dst;
	unsigned dst_cnt;
	const void *iv;                 /* copied */
	size_t iv_len;
	const void *aad;
	size_t aad_len;
	void *digest;                   /* hash/MAC output or expected value; AEAD/CHAIN tag */
};

struct atx_tx *atx_crypto(struct atx_ctx *ctx, struct atx_session *s,
			  const struct atx_crypto_op *op, const struct atx_submit *submit);

/* ------------------------------------------------------------------ */
/* Linked chains in one call                                          */
/* ------------------------------------------------------------------ */

/* What a step of atx_chain() does; each is the call of the same name. */
enum atx_step_op {
	ATX_STEP_MEMCPY = 1,    /* dst <- src, len */
	ATX_STEP_MEMSET,        /* dst, len; the byte in .seed */
	ATX_STEP_CRC32C,        /* *(uint32_t *)out = crc32c(src, len, seed) */
	ATX_STEP_COPY_CRC32C,   /* dst <- src and the CRC-32C, as above */
	ATX_STEP_CIPHER,        /* sess, dst, src, len, iv (the session's IV length) */
	ATX_STEP_DIGEST,        /* sess, src, len; out = the digest (or the value to verify) */
	ATX_STEP_AEAD,          /* sess, dst, src, len, iv, iv_len, aad, aad_len; out = the tag */
};

#define ATX_CHAIN_MAX 8         /* steps per atx_chain() call */

/* One step, as plain data; fields a step does not name are ignored. */
struct atx_step {
	enum atx_step_op op;
	uint32_t seed;          /* CRC32C, COPY_CRC32C: the seed; MEMSET: the byte */
	void *dst;
	const void *src;
	size_t len;
	struct atx_session *sess;
	const void *iv;         /* copied at submission */
	size_t iv_len;          /* AEAD only */
	const void *aad;
	size_t aad_len;
	void *out;
};

/*
 * atx_chain - submit @n (1..ATX_CHAIN_MAX) steps linked in order, the way
 * io_uring links SQEs: each step starts when the one before it
 * succeeded, exactly as if each were submitted with depend_tx set to the
 * previous one.  The chain is one descriptor: @submit's dependencies,
 * channel, flags and callback apply to it as a whole (the first step
 * waits on the dependencies; the callback runs once, after the last
 * step).  Its status is 0 when every step succeeded, else the status of
 * the first step that failed (-ECANCELED when a dependency failed), and
 * the steps after that one do not run.
 *
 * Every step is checked before anything is queued: a bad step fails the
 * whole call with EINVAL and nothing runs.  A chain holds n + 1
 * descriptors of the pool while it is in flight (EAGAIN when fewer are
 * free).  When one channel serves every step and takes chains
 * (ATX_CAP_SEQ: the software engine's lanes), the chain is handed to it
 * whole and runs back to back there; otherwise the steps are queued
 * one by one on whichever channels serve them.  The results are the
 * same either way.  Errors as for the single operations above.
 */
struct atx_tx *atx_chain(struct atx_ctx *ctx, const struct atx_step *steps, unsigned n,
			 const struct atx_submit *submit);

/*
 * atx_burst - submit @n independent steps in one call (DPDK's
 * enqueue_burst): each becomes its own descriptor, exactly as if it were
 * submitted by the call of the same name with @submit, except that step
 * i's callback gets @cb_args[i] (when @cb_args is not NULL) instead of
 * @submit->cb_arg.  @submit's dependencies apply to every step (fan-out);
 * its channel, if any, takes them all.  When @txs is not NULL, txs[i]
 * gets step i's handle; without it @submit must carry ATX_F_ACK, since
 * nobody could ack handles nobody holds (EINVAL otherwise).
 *
 * The steps are queued in order.  Returns how many were queued: @n, or
 * fewer when step [return value] could not be, with errno saying why
 * (EAGAIN: the pool ran out; EINVAL: a bad step; as for the single
 * operations); a negative errno when not even the first was.  Those
 * queued run and call back whatever happened to the rest.
 *
 * What it saves over @n single calls is per-call work: the calls and
 * their arguments, and the session checks of a step that has the same
 * session, operation and lengths as the step before it.  The descriptors
 * are the same as the single calls' and complete the same way.
 */
int atx_burst(struct atx_ctx *ctx, const struct atx_step *steps, unsigned n,
	      const struct atx_submit *submit, void *const *cb_args, struct atx_tx **txs);

/*
 * Prepared chains - for a caller that runs one chain over the same
 * buffers again and again (a storage stack's I/O slot, a benchmark's
 * queue slot; DPDK applications build each crypto op once per mbuf for
 * the same reason).  atx_prep_new checks @steps by atx_chain's rules,
 * takes a reference on each step's session and fills the operations the
 * engine reads, once.  atx_prep_run then queues the chain as atx_chain
 * would (@submit as there; the same status, callback and ack rules),
 * doing only what changes per run: the IV, the callback, the queueing.
 *
 * Descriptors: a prep holds one of the pool from atx_prep_new until it
 * is freed, with its operation filled once, and a run uses that one
 * whenever it is free again (the last run completed and was acked), so
 * such a run never finds the pool empty.  A run while the caller still
 * holds the last one (not acked, or waited on) takes one from the pool
 * (-EAGAIN when there is none), as atx_chain takes n + 1; so does every
 * run of a prep made while the pool was empty.  A handle of an earlier
 * run goes stale the moment its descriptor is recycled, as any does.
 *
 * IVs: a step prepared with an IV (a CIPHER step's .iv not NULL, an AEAD
 * step's iv_len) takes one at every run.  atx_prep_run copies @iv, when
 * not NULL, into every such step (the first iv_len bytes for each);
 * with @iv NULL each keeps its last, which the caller may also write
 * between runs at atx_prep_iv(p, step) (NULL/EINVAL for a step without
 * an IV).  Buffers, lengths and sessions are fixed: for others, prepare
 * another chain.
 *
 * One run at a time: atx_prep_run fails with EBUSY while the last is in
 * flight.  The prep is free again when that run's callback is called, so
 * the callback may run it again.  atx_prep_free while a run is in flight
 * frees it when the run completes.  The sessions stay usable by the prep
 * until then, whatever atx_session_free did meanwhile (it holds a
 * reference, as a queued request does).  atx_ctx_free frees what is left.
 *
 * When one channel serves every step and takes chains (ATX_CAP_SEQ),
 * that is the whole cost; otherwise a run is queued through atx_chain
 * (the steps one by one), with the same results.
 */
struct atx_prep;

struct atx_prep *atx_prep_new(struct atx_ctx *ctx, const struct atx_step *steps, unsigned n);
struct atx_tx *atx_prep_run(struct atx_prep *prep, const void *iv, const struct atx_submit *submit);
void *atx_prep_iv(struct atx_prep *prep, unsigned step);
void atx_prep_free(struct atx_prep *prep);

/* ------------------------------------------------------------------ */
/* Running                                                            */
/* ------------------------------------------------------------------ */

/*
 * atx_issue_pending - hand every queued descriptor to its engine, ringing
 * each engine's doorbell once.  Returns the number handed over, or a
 * negative errno.  Inline lanes (no doorbell; they run in atx_run) take
 * their work as it becomes ready and are not counted here.
 */
int atx_issue_pending(struct atx_ctx *ctx);

enum atx_run_mode {
	ATX_RUN_DEFAULT = 0,    /* until no descriptor is outstanding */
	ATX_RUN_ONCE = 1,       /* until at least one completion was processed (blocks) */
	ATX_RUN_NOWAIT = 2,     /* process what is ready, never block */
};

/*
 * atx_run - issue pending work, execute inline work, reap completions and
 * run callbacks.  Returns the number of descriptors completed, or a
 * negative errno.  Callbacks may submit new operations; they are issued
 * when the callback returns.  Must not be called from a callback.
 */
int atx_run(struct atx_ctx *ctx, enum atx_run_mode mode);

/*
 * atx_wait - issue pending work and drive the loop until @tx completed;
 * return its status (0, -errno, -ECANCELED).  A descriptor acked with
 * ATX_F_ACK is recycled when it completes, so its status is still
 * returned here but the handle is dead afterwards.  Returns -ESTALE for a
 * recycled handle.  Must not be called from a callback.
 */
int atx_wait(struct atx_tx *tx);

/*
 * atx_tx_status - -EINPROGRESS while pending or running, then the final
 * status; -ESTALE for a recycled handle.
 */
int atx_tx_status(struct atx_tx *tx);

/*
 * atx_tx_ack - the caller is done with @tx (async_tx_ack): it is recycled
 * once completed and no dependent waits on it.  Returns 0 or -ESTALE.
 */
int atx_tx_ack(struct atx_tx *tx);

/* ------------------------------------------------------------------ */
/* Channels                                                           */
/* ------------------------------------------------------------------ */

/* Capability bits (operations a channel can run). */
enum atx_cap {
	ATX_CAP_MEMCPY  = 1u << 0,
	ATX_CAP_MEMSET  = 1u << 1,
	ATX_CAP_CRC32C  = 1u << 2,
	ATX_CAP_XOR     = 1u << 3,
	ATX_CAP_PQ      = 1u << 4,
	ATX_CAP_CIPHER  = 1u << 5,
	ATX_CAP_HASH    = 1u << 6,
	ATX_CAP_MAC     = 1u << 7,
	ATX_CAP_AEAD    = 1u << 8,
	ATX_CAP_CHAIN   = 1u << 9,
	ATX_CAP_FILEIO  = 1u << 10,
	ATX_CAP_RAID6_RECOV = 1u << 11,
	ATX_CAP_CRC32C_BLOCKS = 1u << 12, /* atx_crc32c_blocks */
	ATX_CAP_SEQ     = 1u << 13, /* takes a whole atx_chain() in one descriptor */
};

struct atx_caps {
	size_t size;            /* sizeof(struct atx_caps): set first */
	uint32_t mask;          /* every bit required */
	const char *engine;     /* engine name, or NULL for any */
};

typedef bool (*atx_chan_filter)(struct atx_chan *chan, void *arg);

/*
 * atx_chan_request - take one public channel that has every capability in
 * @caps and passes @filter (may be NULL), for exclusive use: the general
 * allocator does not use it until atx_chan_release().  Pass it as
 * atx_submit.chan.  Returns NULL with errno ENODEV (none matches) or
 * EBUSY (all matching ones are already private).
 */
struct atx_chan *atx_chan_request(struct atx_ctx *ctx, const struct atx_caps *caps,
				  atx_chan_filter filter, void *arg);

/* atx_chan_release - give a requested channel back to the allocator. */
void atx_chan_release(struct atx_chan *chan);

struct atx_chan_stats {
	uint64_t ops;           /* descriptors completed on this channel */
	uint64_t bytes;         /* payload bytes of those */
	uint64_t errors;        /* completed with a negative status */
	uint64_t busy;          /* times the engine refused with -EAGAIN */
	uint64_t bounced;       /* buffers copied through the shared arena */
	uint64_t inflight;      /* now handed to the engine and not completed */
};

struct atx_chan_info {
	const char *name;       /* "soft.inline", "soft.lane1", "virtio0.q0" */
	const char *engine;     /* engine name */
	uint32_t caps;          /* ATX_CAP_* */
	int priority;           /* ATX_PRIO_* of the engine */
	bool private_;          /* held through atx_chan_request() */
};

/* Number of channels of @ctx; atx_chan_get(ctx, i) for i < that. */
unsigned atx_chan_count(struct atx_ctx *ctx);
struct atx_chan *atx_chan_get(struct atx_ctx *ctx, unsigned i);
void atx_chan_info(struct atx_chan *chan, struct atx_chan_info *info);
void atx_chan_stats(struct atx_chan *chan, struct atx_chan_stats *st);

/* ------------------------------------------------------------------ */
/* Introspection                                                      */
/* ------------------------------------------------------------------ */

/* Engine priority classes (crypto_driver(9)'s hardware/software split). */
enum atx_prio {
	ATX_PRIO_SOFTWARE = 100,
	ATX_PRIO_ACCEL = 200,   /* accelerated software: multi-buffer SIMD */
	ATX_PRIO_HARDWARE = 300,/* a device */
};

/* Number of engines attached to @ctx and their names. */
unsigned atx_engine_count(struct atx_ctx *ctx);
const char *atx_engine_name(struct atx_ctx *ctx, unsigned i);

/*
 * atx_probe - ask every engine whether it would serve @p; fills prio[i]
 * with the priority of engine i or a negative errno, for up to @n
 * engines.  Returns the index of the engine atx_session_new would pick,
 * or -EOPNOTSUPP.
 */
int atx_probe(struct atx_ctx *ctx, const struct atx_session_params *p, int *prio, unsigned n);

/* Names (OpenSSL style: "aes-256-xts", "sha256", "hmac-sha256",
 * "aes-256-gcm", "chacha20-poly1305") <-> parameters.  atx_alg_parse fills
 * service and algorithm of @p and the key length the name implies
 * (*key_len, 0 when free); returns 0 or -ENOENT. */
int atx_alg_parse(const char *name, struct atx_session_params *p, size_t *key_len);
/* i-th known algorithm name, NULL past the end. */
const char *atx_alg_name(unsigned i);

/* Static strings for enum values and errno-style statuses. */
const char *atx_strerror(int status);

#ifdef __cplusplus
}
#endif
#endif /* ATX_H */
