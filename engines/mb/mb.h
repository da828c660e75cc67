/* SPDX-License-Identifier: MIT */
/*
 * mb.h - inside the multi-buffer engine (intel-ipsec-mb, bulk mode).
 *
 * mb.c holds the ops table, the lanes and the poll loop; mb_session.c
 * turns session parameters into precomputed key material; mb_job.c turns
 * one descriptor into one IMB_JOB and finishes it when the manager hands
 * it back.  Everything here runs in the context's loop thread: a lane is
 * an IMB_MGR plus the descriptors queued for it, and it is never shared.
 */
#ifndef ATX_MB_H
#define ATX_MB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>

#include "atx_engine.h"

/*
 * Which synchronous burst API takes a session's jobs, if any: the cipher
 * burst (AES-CBC, AES-CTR alone) and the hash burst (HMAC-SHA*) go
 * straight to the library's lane managers, without the job API's
 * per-job dispatch and ring (mb.c).
 */
enum mb_burst {
	MB_BURST_NONE = 0,
	MB_BURST_CIPHER,
	MB_BURST_HASH,
};

/* What a session's jobs look like (one kind per session). */
enum mb_kind {
	MB_KIND_CIPHER = 0,
	MB_KIND_MAC,
	MB_KIND_AEAD,
	MB_KIND_CHAIN,
};

/*
 * Per-session precomputed state.  64-byte aligned (gcm_key_data demands
 * it, and the expanded keys want 16); zeroized before it is freed.
 */
struct mb_sess {
	struct gcm_key_data gcm;                        /* AES-GCM keys and GHASH powers */
	uint8_t enc_keys[16 * 15] __attribute__((aligned(16)));
	uint8_t dec_keys[16 * 15] __attribute__((aligned(16)));
	uint8_t cmac_k1[16] __attribute__((aligned(16)));
	uint8_t cmac_k2[16] __attribute__((aligned(16)));
	uint8_t ipad[64] __attribute__((aligned(16)));  /* HMAC inner state after key^ipad */
	uint8_t opad[64] __attribute__((aligned(16)));  /* HMAC outer state after key^opad */
	uint8_t raw_key[32] __attribute__((aligned(16))); /* ChaCha20-Poly1305; AES for the OpenSSL fallbacks */
	uint8_t hmac_key[ATX_MAX_AUTH_KEY_LEN];         /* for empty messages, which the library refuses */
	uint32_t hmac_key_len;
	const char *hmac_md;            /* OpenSSL digest name of the HMAC */

	enum mb_kind kind;
	bool verify;                    /* decrypt direction: compare the tag/MAC */
	IMB_CIPHER_MODE cipher_mode;    /* IMB_CIPHER_NULL for MAC sessions */
	IMB_CIPHER_DIRECTION dir;
	IMB_HASH_ALG hash_alg;          /* IMB_AUTH_NULL for cipher sessions */
	IMB_CHAIN_ORDER order;
	uint32_t key_len;               /* cipher key bytes */
	uint32_t tag_len;               /* bytes the caller gets / gives */
	uint32_t job_tag_len;           /* bytes the job computes (full, or CCM's own) */
	uint32_t block;                 /* payload must be a multiple of this (CBC: 16) */
	/*
	 * Batches smaller than this run through @soft (OpenSSL, the soft
	 * engine's executor) instead: for modes the library runs in SIMD
	 * lanes, a pass costs the same however few lanes are filled, and one
	 * buffer alone is slower than OpenSSL's single-buffer code.  0 = never.
	 */
	uint32_t lone_max;
	uint32_t max_len;               /* longest payload (+ AAD) a job takes; 0 = any */
	struct soft_sess *soft;         /* OpenSSL for what the library cannot or should not do */
	/*
	 * Every field of this session's jobs that does not change from one
	 * request to the next (modes, keys, precomputed pads, tag length):
	 * a job starts as a copy of it and gets only the per-request fields.
	 */
	IMB_JOB tmpl;
	enum mb_burst burst;
	bool gcm_direct;                /* AES-GCM encrypt: the library's one-call GCM (mb_gcm_direct) */
	/*
	 * Jobs of sessions with the same class may share one burst: same
	 * API, mode, direction and key size, or the same hash (0 = none).
	 */
	uint32_t burst_cls;
} __attribute__((aligned(64)));

/* mb_session.c */
int mb_sess_probe(const struct atx_session_params *p);
/* @lone: set up the single-buffer fallback for small batches. */
int mb_sess_new(IMB_MGR *mgr, const struct atx_session_params *p, bool lone,
		struct mb_sess **out);
void mb_sess_free(struct mb_sess *ms);

/*
 * One in-flight job's engine-side state, indexed like the manager's job
 * ring (IMB_MAX_JOBS), so a job and its slot are freed together.
 */
struct mb_slot {
	uint8_t tag[64] __attribute__((aligned(64)));   /* the job writes its tag here */
	struct atx_tx *tx;
	uint8_t *bounce;                /* contiguous scratch: gather, or output held back until verified */
	size_t bounce_cap;
	size_t out_off;                 /* where the output starts inside bounce */
	bool copy_out;                  /* scatter bounce+out_off to the caller's dst on success */
	const uint8_t *ctr_in;          /* CTR left to OpenSSL after the MAC verified (see mb_job.c) */
	uint8_t *ctr_out;
};

/* mb_job.c */

/*
 * mb_job_prep - fill @job for @op (session state in op->u.crypto.sess_priv),
 * using @slot for tag and bounce space.  0: submit the job.  1: the
 * request is already done (nothing to do, or run here synchronously),
 * complete it with 0.  -errno: complete it with that status.  In both
 * latter cases @job must not be submitted.
 */
int mb_job_prep(IMB_JOB *job, struct mb_slot *slot, struct atx_op *op);

/*
 * mb_job_finish - the descriptor's status once its job came back from the
 * manager with @st (0: completed; or after mb_job_prep returned 1): tag
 * copy or check, held-back output copy.
 */
int mb_job_finish(int st, struct mb_slot *slot, struct atx_op *op);

/*
 * mb_burst_prep - fill @job for the session's burst API when @op can go
 * there (flat buffers, a length and IV the burst takes as they are,
 * nothing mb_job_prep would treat specially); a MAC goes to @tag (64
 * bytes).  @have_tmpl: @job still holds the session's template from an
 * earlier burst (the burst API writes only a job's status), so only what
 * this request brings is written.  false: @op takes the job path instead.
 */
bool mb_burst_prep(IMB_JOB *job, uint8_t *tag, const struct atx_op *op, bool have_tmpl);

/*
 * mb_long_cbc - is @op an AES-CBC encryption longer than the library
 * takes in one job, on flat buffers (@in, @out), that mb.c can run in
 * segments instead of handing it to OpenSSL?
 */
bool mb_long_cbc(const struct atx_op *op, const uint8_t **in, uint8_t **out);

/*
 * mb_gcm_direct - AES-GCM encryption of a flat request with a 96-bit IV
 * through the library's one-call GCM functions, which the job API would
 * reach anyway (GCM does not use lanes): the tag goes straight to the
 * caller.  true: done (status 0).  false: take the job path.
 */
bool mb_gcm_direct(IMB_MGR *mgr, struct atx_op *op);

/* A MAC burst job's status: its tag copied out, or checked (-EBADMSG). */
int mb_tag_finish(const struct mb_sess *ms, const uint8_t *tag, struct atx_op *op);

/* Release a slot's scratch memory (detach). */
void mb_slot_fini(struct mb_slot *slot);

#endif /* ATX_MB_H */
