/* SPDX-License-Identifier: MIT */
/*
 * mb.c - the multi-buffer engine: intel-ipsec-mb in bulk mode
 * (seeds/linux-crypto-engine-framework.txt).
 *
 * Serial modes such as CBC encryption cannot use the width of a SIMD
 * unit for one buffer, but can for several independent ones: the
 * library's manager interleaves up to 8/16 jobs in lanes.  So submit()
 * never runs anything; poll() hands everything queued to the manager at once
 * (the manager starts work when its lanes are full) and, once nothing
 * more is queued, flushes so a lone request does not wait for company.
 *
 * Requests that the library's synchronous burst API takes (AES-CBC and
 * AES-CTR alone, HMAC-SHA*, flat buffers) skip the job API: they are
 * gathered per burst class into an array of jobs copied from the
 * session's template -- by submit() itself when nothing is queued ahead
 * and the group has room (the descriptor's lines are in cache then, and
 * poll() need not walk it again), else by poll() -- and poll() runs each
 * array in one IMB_SUBMIT_CIPHER_BURST
 * or IMB_SUBMIT_HASH_BURST call, which feeds the lane managers directly
 * (no per-job dispatch, no job ring, no GET_COMPLETED/FLUSH round trips)
 * and returns with every job done.  AES-GCM encryption of flat requests
 * with 96-bit IVs calls the library's one-call GCM functions, which the
 * job API would only have dispatched to (GCM runs one buffer at a time).
 * Everything else takes the job API.
 *
 * A lane is one IMB_MGR and one atx channel ("mb.lane0"), executed
 * inline in the loop thread.  Completions come back in order within a
 * burst class and within the job API, not across them; the channel does
 * not claim ATX_CHAN_F_IN_ORDER anyway (mb_attach says why), and a fenced
 * descriptor, should one come, first drains everything ahead of it.
 *
 * What does not go to the manager, and why:
 *  - batches too small to fill the lanes of a lane-based mode, and
 *    payloads over the library's 65534-byte limit for those modes: the
 *    session's single-lane soft_crypto fallback (OpenSSL), except AES-CBC
 *    encryptions on flat buffers, which run in segments (struct mb_long);
 *  - CTR messages whose low counter word wraps, CCM with more than 46
 *    bytes of AAD, HMAC of nothing: OpenSSL in mb_job.c, because the
 *    library computes something else or refuses them.
 * Environment: ATX_MB_DISABLE=1 (do not attach), ATX_MB_ARCH=sse|avx|
 * avx2|avx512 (lower the SIMD width), ATX_MB_LONE=0 (no small-batch
 * fallback).
 */
#include <cpuid.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mb.h"
#include "soft/soft.h"

#define MB_MAX_LANES 4
#define MB_CAPS (ATX_CAP_CIPHER | ATX_CAP_MAC | ATX_CAP_AEAD | ATX_CAP_CHAIN)

/*
 * Bursts: jobs per burst call (a queue depth of 64 is one call), and
 * how many burst classes a lane gathers at once (a chain of cbc-enc then
 * hmac-sha256 has two in every poll).
 */
#define MB_BURST 64
#define MB_GROUPS 4

/* Jobs of one burst class gathered during a poll, run in one burst call. */
struct mb_group {
	IMB_JOB jobs[MB_BURST];
	uint8_t tag[MB_BURST][64] __attribute__((aligned(64)));
	struct atx_tx *tx[MB_BURST];
	const struct mb_sess *tmpl_of[MB_BURST];        /* whose template jobs[i] holds, or NULL */
	const struct mb_sess *ms;       /* the first job's: mode, direction, key size, hash */
	uint32_t cls;                   /* mb_sess.burst_cls; meaningless while n == 0 */
	unsigned n;
} __attribute__((aligned(64)));

/*
 * AES-CBC encryptions longer than the library's 65534 bytes.  CBC is
 * serial within a message but not across messages, so a batch of them
 * runs as a sequence of bursts: burst k encrypts segment k of every
 * message, with the last ciphertext block of segment k - 1 as its IV.
 * That keeps them in SIMD lanes (4-5x OpenSSL's one-block-at-a-time
 * CBC) instead of sending each to the OpenSSL fallback whole.
 */
#define MB_SEG 65520    /* bytes per segment: the library's limit, whole blocks */

struct mb_long {
	IMB_JOB jobs[MB_BURST];
	struct atx_tx *tx[MB_BURST];
	const uint8_t *in[MB_BURST];
	uint8_t *out[MB_BURST];
	int st[MB_BURST];
	unsigned at[MB_BURST];          /* jobs[j] is segment of tx[at[j]] */
	const struct mb_sess *ms;       /* the first one's: key size for the burst call */
	unsigned n;
} __attribute__((aligned(64)));

struct mb_lane {
	struct mb_group groups[MB_GROUPS];
	struct mb_long lng;
	struct mb_group *last;          /* the group group_get() returned last */
	struct mb_slot slots[IMB_MAX_JOBS];     /* indexed like mgr->jobs[] */
	IMB_MGR *mgr;
	struct atx_chan *chan;
	struct atx_tx *head, *tail;     /* queued by submit, linked through op->eng[0] */
	unsigned nqueued;
	unsigned injobs;                /* submitted to the manager, not yet returned */
} __attribute__((aligned(64)));

struct mb_engine {
	unsigned nlanes;
	IMB_ARCH arch;
	bool lone;                      /* small batches through OpenSSL (ATX_MB_LONE=0: never) */
	struct mb_lane *lanes[MB_MAX_LANES];
};

/* ---- CPU and OS support (slow path) ---- */

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * The widest architecture both the CPU and the OS allow.  The library's
 * own detection looks at CPUID only; in VMs that hide XSAVE (or an OS
 * that did not enable the YMM/ZMM state) it picked AVX code and died with
 * SIGILL, so the OS side is checked here through OSXSAVE and XCR0.
 */
static IMB_ARCH arch_detect(void)
{
	unsigned a, b, c, d;
	uint64_t feat = imb_get_feature_flags();
	uint64_t xcr0 = 0;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return IMB_ARCH_NONE;
	/* Without AES-NI the library emulates AES: slower than OpenSSL's fallback. */
	if (!(c & bit_AES) || !(c & bit_PCLMUL) || !(c & bit_SSE4_2))
		return IMB_ARCH_NONE;
	if (!(feat & IMB_FEATURE_AESNI))
		return IMB_ARCH_NONE;
	if (c & bit_OSXSAVE)
		xcr0 = xgetbv0();
	/* XCR0: 0x6 = SSE + AVX state, 0xe0 = opmask + ZMM state. */
	if ((xcr0 & 0xe6) == 0xe6 && (feat & IMB_FEATURE_AVX512_SKX) == IMB_FEATURE_AVX512_SKX)
		return IMB_ARCH_AVX512;
	if ((xcr0 & 0x6) == 0x6 && (feat & IMB_FEATURE_AVX2))
		return IMB_ARCH_AVX2;
	if ((xcr0 & 0x6) == 0x6 && (feat & IMB_FEATURE_AVX))
		return IMB_ARCH_AVX;
	return IMB_ARCH_SSE;
}

static IMB_ARCH arch_parse(const char *s)
{
	if (!strcmp(s, "sse"))
		return IMB_ARCH_SSE;
	if (!strcmp(s, "avx"))
		return IMB_ARCH_AVX;
	if (!strcmp(s, "avx2"))
		return IMB_ARCH_AVX2;
	if (!strcmp(s, "avx512"))
		return IMB_ARCH_AVX512;
	return IMB_ARCH_NONE;
}

static int mgr_init(IMB_MGR *mgr, IMB_ARCH arch)
{
	switch (arch) {
	case IMB_ARCH_AVX512:
		init_mb_mgr_avx512(mgr);
		break;
	case IMB_ARCH_AVX2:
		init_mb_mgr_avx2(mgr);
		break;
	case IMB_ARCH_AVX:
		init_mb_mgr_avx(mgr);
		break;
	default:
		init_mb_mgr_sse(mgr);
		break;
	}
	return imb_get_errno(mgr) ? -ENODEV : 0;
}

/*
 * Engine arguments ("mb:lanes=2,arch=avx2"): lanes (1..4) and the
 * architecture, which can only be lowered from what the machine allows
 * (so can the environment: ATX_MB_ARCH=sse|avx|avx2|avx512).
 */
static int args_parse(const char *args, unsigned *nlanes, IMB_ARCH *arch)
{
	char buf[128], *tok, *save = NULL;

	if (!args || !*args)
		return 0;
	if (strlen(args) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, args);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "lanes=", 6)) {
			char *end;
			unsigned long n = strtoul(tok + 6, &end, 10);

			if (*end || n < 1 || n > MB_MAX_LANES)
				return -EINVAL;
			*nlanes = n;
		} else if (!strncmp(tok, "arch=", 5)) {
			IMB_ARCH want = arch_parse(tok + 5);

			if (want == IMB_ARCH_NONE)
				return -EINVAL;
			if (want > *arch)
				return -ENODEV;
			*arch = want;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

static void lane_free(struct mb_lane *lane)
{
	unsigned i;

	if (!lane)
		return;
	for (i = 0; i < IMB_MAX_JOBS; i++)
		mb_slot_fini(&lane->slots[i]);
	if (lane->mgr)
		free_mb_mgr(lane->mgr);
	free(lane);
}

static void mb_detach(struct atx_engine *e)
{
	struct mb_engine *me = atx_engine_priv(e);
	unsigned i;

	if (!me)
		return;
	for (i = 0; i < me->nlanes; i++)
		lane_free(me->lanes[i]);
	free(me);
	atx_engine_set_priv(e, NULL);
}

static int mb_attach(struct atx_engine *e, const char *args)
{
	const char *off = getenv("ATX_MB_DISABLE");
	struct mb_engine *me;
	unsigned nlanes = 1, i;
	IMB_ARCH arch;
	int ret;

	if (off && *off && strcmp(off, "0"))
		return -ENODEV;
	arch = arch_detect();
	if (arch == IMB_ARCH_NONE)
		return -ENODEV;
	ret = args_parse(args, &nlanes, &arch);
	if (ret)
		return ret;
	/* Tests and benchmarks reach the narrower code paths with ATX_MB_ARCH. */
	off = getenv("ATX_MB_ARCH");
	if (off && *off) {
		IMB_ARCH want = arch_parse(off);

		if (want == IMB_ARCH_NONE || want > arch)
			return -ENODEV;
		arch = want;
	}

	me = calloc(1, sizeof(*me));
	if (!me)
		return -ENOMEM;
	me->arch = arch;
	off = getenv("ATX_MB_LONE");
	me->lone = !off || strcmp(off, "0");
	atx_engine_set_priv(e, me);
	for (i = 0; i < nlanes; i++) {
		struct mb_lane *lane = aligned_alloc(64, sizeof(*lane));
		char name[32];

		if (!lane) {
			ret = -ENOMEM;
			goto err_detach;
		}
		memset(lane, 0, sizeof(*lane));
		lane->last = &lane->groups[0];
		me->lanes[me->nlanes++] = lane;
		lane->mgr = alloc_mb_mgr(0);
		if (!lane->mgr) {
			ret = -ENOMEM;
			goto err_detach;
		}
		ret = mgr_init(lane->mgr, arch);
		if (ret)
			goto err_detach;
		snprintf(name, sizeof(name), "%s.lane%u", atx_engine_instance_name(e), i);
		/*
		 * Not ATX_CHAN_F_IN_ORDER: a dependent handed over early forces a
		 * flush of the SIMD lanes before it (its parent must have run), so
		 * every chain step would run alone (~20 us for a lone HMAC job).
		 * Released by the loop instead, dependents arrive as a batch.
		 */
		lane->chan = atx_engine_add_chan(e, name, MB_CAPS,
						 ATX_CHAN_F_INLINE | ATX_CHAN_F_POLL, lane);
		if (!lane->chan) {
			ret = errno ? -errno : -ENOMEM;
			goto err_detach;
		}
	}
	return 0;

err_detach:
	mb_detach(e);
	return ret;
}

/* ---- sessions (slow path) ---- */

static int mb_probe_session(struct atx_engine *e, const struct atx_session_params *p)
{
	int ret = mb_sess_probe(p);

	return ret ? ret : ATX_PRIO_ACCEL;
}

static int mb_new_session(struct atx_engine *e, const struct atx_session_params *p, void **priv)
{
	struct mb_engine *me = atx_engine_priv(e);
	struct mb_sess *ms;
	int ret;

	/* Key expansion is stateless; any lane's manager has the functions. */
	ret = mb_sess_new(me->lanes[0]->mgr, p, me->lone, &ms);
	if (ret)
		return ret;
	*priv = ms;
	return 0;
}

static void mb_free_session(struct atx_engine *e, void *priv)
{
	struct mb_engine *me = atx_engine_priv(e);
	unsigned i, j;

	/* A new session may get the same address: no job may pass for its template. */
	for (i = 0; i < me->nlanes; i++)
		for (j = 0; j < MB_GROUPS; j++)
			memset(me->lanes[i]->groups[j].tmpl_of, 0,
			       sizeof(me->lanes[i]->groups[j].tmpl_of));
	mb_sess_free(priv);
}

/* ---- fast path ---- */

/*
 * The manager returns jobs in order and only one descriptor owns each,
 * so a status is all there is to hand back: atx_engine_complete records
 * it in the descriptor (fences read it from there).
 */
static void lane_done(struct mb_lane *lane, IMB_JOB *job)
{
	struct atx_tx *tx = job->user_data;
	struct mb_slot *slot = job->user_data2;
	int st;

	st = mb_job_finish(job->status == IMB_STATUS_COMPLETED ? 0 : -EIO, slot, atx_tx_op(tx));
	slot->tx = NULL;
	lane->injobs--;
	atx_engine_complete(tx, st);
}

static unsigned lane_reap(struct mb_lane *lane, IMB_JOB *job)
{
	unsigned n = 0;

	while (job) {
		lane_done(lane, job);
		n++;
		job = IMB_GET_COMPLETED_JOB(lane->mgr);
	}
	return n;
}

static unsigned lane_flush(struct mb_lane *lane)
{
	unsigned n = 0;
	IMB_JOB *job;

	while (lane->injobs && (job = IMB_FLUSH_JOB(lane->mgr)))
		n += lane_reap(lane, job);
	return n;
}

/*
 * With the library's argument checks: they cost ~25 instructions of a
 * 4 KiB CBC job's ~4000 (<1 %), and a refused burst runs nothing.
 */
static unsigned burst_submit(IMB_MGR *mgr, const struct mb_sess *ms, IMB_JOB *jobs, unsigned n)
{
	if (ms->burst == MB_BURST_CIPHER)
		return IMB_SUBMIT_CIPHER_BURST(mgr, jobs, n, ms->cipher_mode, ms->dir, ms->key_len);
	return IMB_SUBMIT_HASH_BURST(mgr, jobs, n, ms->hash_alg);
}

/*
 * Run a group's jobs in one synchronous burst and complete them.  The
 * burst drives the same out-of-order lane managers as the job API, and
 * its final flush would take their jobs too: those go first.
 */
static unsigned group_run(struct mb_lane *lane, struct mb_group *g)
{
	const struct mb_sess *ms = g->ms;
	unsigned i, n = g->n, done = 0;

	if (n < ms->lone_max && !lane->injobs) {
		/* Prepared at submit, and alone after all: OpenSSL is faster for a few (mb.h). */
		for (i = 0; i < n; i++) {
			struct atx_op *op = atx_tx_op(g->tx[i]);
			const struct mb_sess *m = op->u.crypto.sess_priv;

			atx_engine_complete(g->tx[i], soft_crypto_exec(m->soft, 0, op));
		}
		g->n = 0;
		return n;
	}
	if (lane->injobs)
		done = lane_flush(lane);
	if (burst_submit(lane->mgr, ms, g->jobs, n) != n) {
		/*
		 * A refused burst ran nothing (all checks come first): run the
		 * jobs one by one so that only a bad one fails.  mb_burst_prep
		 * keeps what the checks refuse away, so this is a bug's path.
		 */
		for (i = 0; i < n; i++)
			burst_submit(lane->mgr, ms, &g->jobs[i], 1);
	}
	for (i = 0; i < n; i++) {
		struct atx_tx *tx = g->tx[i];
		int st = g->jobs[i].status == IMB_STATUS_COMPLETED ? 0 : -EIO;

		/* The burst streamed the descriptors out of L1: ask ahead for the line completion writes. */
		if (i + 4 < n)
			__builtin_prefetch(g->tx[i + 4], 1);

		if (!st && ms->burst == MB_BURST_HASH)
			st = mb_tag_finish(atx_tx_op(tx)->u.crypto.sess_priv, g->tag[i], atx_tx_op(tx));
		atx_engine_complete(tx, st);
	}
	g->n = 0;
	return done + n;
}

/* Run the long CBC encryptions gathered (struct mb_long) and complete them. */
static unsigned long_run(struct mb_lane *lane)
{
	struct mb_long *L = &lane->lng;
	const struct mb_sess *ms = L->ms;
	unsigned i, k, n = L->n, done = 0;
	size_t off;

	if (!n)
		return 0;
	L->n = 0;
	if (n < ms->lone_max) {
		/* One message alone: OpenSSL's CBC beats a pass with one lane filled. */
		for (i = 0; i < n; i++) {
			struct atx_tx *tx = L->tx[i];

			atx_engine_complete(tx, soft_crypto_exec(ms->soft, 0, atx_tx_op(tx)));
		}
		return n;
	}
	if (lane->injobs)
		done = lane_flush(lane);
	for (i = 0; i < n; i++)
		L->st[i] = 0;
	for (off = 0;; off += MB_SEG) {
		for (i = 0, k = 0; i < n; i++) {
			const struct atx_op *op = atx_tx_op(L->tx[i]);
			IMB_JOB *job = &L->jobs[k];
			size_t left = op->len - off;

			if (op->len <= off || L->st[i])
				continue;
			*job = ((const struct mb_sess *)op->u.crypto.sess_priv)->tmpl;
			job->src = L->in[i] + off;
			job->dst = L->out[i] + off;
			job->msg_len_to_cipher_in_bytes = left < MB_SEG ? left : MB_SEG;
			/* In place too, segment k - 1's ciphertext is final before burst k runs. */
			job->iv = off ? L->out[i] + off - 16 : op->u.crypto.iv;
			job->iv_len_in_bytes = 16;
			L->at[k++] = i;
		}
		if (!k)
			break;
		if (burst_submit(lane->mgr, ms, L->jobs, k) != k)
			for (i = 0; i < k; i++)
				burst_submit(lane->mgr, ms, &L->jobs[i], 1);
		for (i = 0; i < k; i++)
			if (L->jobs[i].status != IMB_STATUS_COMPLETED)
				L->st[L->at[i]] = -EIO;
	}
	for (i = 0; i < n; i++)
		atx_engine_complete(L->tx[i], L->st[i]);
	return done + n;
}

/* Gather @tx (mb_long_cbc said yes) for long_run; *@n counts what ran to make room. */
static void long_add(struct mb_lane *lane, struct atx_tx *tx, const uint8_t *in, uint8_t *out,
		     unsigned *n)
{
	struct mb_long *L = &lane->lng;
	const struct mb_sess *ms = atx_tx_op(tx)->u.crypto.sess_priv;

	if (L->n && (L->n == MB_BURST || L->ms->burst_cls != ms->burst_cls))
		*n += long_run(lane);
	if (!L->n)
		L->ms = ms;
	L->tx[L->n] = tx;
	L->in[L->n] = in;
	L->out[L->n++] = out;
}

static unsigned lane_run_groups(struct mb_lane *lane)
{
	unsigned n = long_run(lane), i;

	for (i = 0; i < MB_GROUPS; i++)
		if (lane->groups[i].n)
			n += group_run(lane, &lane->groups[i]);
	return n;
}

/* Everything the lane holds, run and completed. */
static unsigned lane_drain(struct mb_lane *lane)
{
	unsigned n = lane_run_groups(lane);

	return n + lane_flush(lane);
}

/*
 * The group gathering class @cls: the one already open for it, else an
 * empty one, else the fullest is run now to make room (*n counts what
 * that completed).
 */
static struct mb_group *group_get(struct mb_lane *lane, uint32_t cls, unsigned *n)
{
	struct mb_group *g = lane->last, *empty = NULL, *full = &lane->groups[0];
	unsigned i;

	/* Mostly the class of the previous request: no search. */
	if (g->n && g->cls == cls)
		return g;
	for (i = 0; i < MB_GROUPS; i++) {
		g = &lane->groups[i];
		if (!g->n) {
			if (!empty)
				empty = g;
		} else if (g->cls == cls) {
			lane->last = g;
			return g;
		} else if (g->n > full->n) {
			full = g;
		}
	}
	if (!empty) {
		*n += group_run(lane, full);
		empty = full;
	}
	empty->cls = cls;
	lane->last = empty;
	return empty;
}

/* The group gathering class @cls if one is open or empty, without running any; else NULL. */
static struct mb_group *group_find(struct mb_lane *lane, uint32_t cls)
{
	struct mb_group *g = lane->last, *empty = NULL;
	unsigned i;

	if (g->n && g->cls == cls)
		return g;
	for (i = 0; i < MB_GROUPS; i++) {
		g = &lane->groups[i];
		if (g->n && g->cls == cls)
			return g;
		if (!g->n && !empty)
			empty = g;
	}
	if (empty) {
		empty->cls = cls;
		lane->last = empty;
	}
	return empty;
}

/*
 * Put @txs (1..n of one session and shape: a lone submit, or a run from
 * submit_burst, include/atx_engine.h) into their burst group now, while
 * their lines are in cache, when nothing is queued ahead of them (order),
 * the group has room (nothing runs here: the work starts when the loop
 * polls) and the burst API takes them.  The first goes through
 * mb_burst_prep; for the others, whatever it checked is the same, so a
 * job that still holds the session's template needs only their buffers,
 * length and IV (CTR IVs are checked each: ctr_wraps).  Returns how many
 * it took, from the first; the rest are for mb_poll's queue.
 */
static unsigned group_add_now(struct mb_lane *lane, struct atx_tx *const *txs, unsigned n)
{
	const struct atx_op *op = atx_tx_op(txs[0]);
	const struct mb_sess *ms = op->u.crypto.sess_priv;
	bool refill = ms->burst == MB_BURST_HASH || ms->cipher_mode != IMB_CIPHER_CNTR;
	struct mb_group *g;
	unsigned i, j;

	if (lane->head || !ms->burst)
		return 0;
	g = group_find(lane, ms->burst_cls);
	if (!g)
		return 0;
	if (n > MB_BURST - g->n)
		n = MB_BURST - g->n;
	for (i = 0, j = g->n; i < n; i++, j++) {
		IMB_JOB *job = &g->jobs[j];

		/* The last burst streamed the jobs out of L1: the lines refilled, ahead. */
		if (j + 2 < MB_BURST) {
			__builtin_prefetch((char *)&job[2] + offsetof(IMB_JOB, src), 1);
			__builtin_prefetch((char *)&job[2] + offsetof(IMB_JOB, iv), 1);
			__builtin_prefetch((char *)&job[2] + offsetof(IMB_JOB, status), 1);
		}
		op = atx_tx_op(txs[i]);
		if (i && refill && g->tmpl_of[j] == ms) {
			job->status = IMB_STATUS_BEING_PROCESSED;
			job->src = op->u.crypto.src1.iov_base;
			if (ms->burst == MB_BURST_HASH) {
				job->msg_len_to_hash_in_bytes = op->len;
				job->auth_tag_output = g->tag[j];
			} else {
				job->dst = op->u.crypto.dst->iov_base;
				job->msg_len_to_cipher_in_bytes = op->len;
				job->iv = op->u.crypto.iv;
			}
		} else if (mb_burst_prep(job, g->tag[j], op, g->tmpl_of[j] == ms)) {
			g->tmpl_of[j] = ms;
		} else {
			g->tmpl_of[j] = NULL;
			break;
		}
		g->tx[j] = txs[i];
	}
	if (i && !g->n)
		g->ms = ms;
	g->n = j;
	return i;
}

static int mb_submit(struct atx_chan *chan, struct atx_tx *tx, unsigned hints)
{
	struct mb_lane *lane = atx_chan_priv(chan);
	struct atx_op *op = atx_tx_op(tx);

	if (!op->fence && group_add_now(lane, &tx, 1))
		return 0;
	/* Queue only: the batch goes to the manager when the loop polls. */
	op->eng[0] = 0;
	if (lane->tail)
		atx_tx_op(lane->tail)->eng[0] = (uintptr_t)tx;
	else
		lane->head = tx;
	lane->tail = tx;
	lane->nqueued++;
	return 0;
}

/* submit_burst: a run of one session and shape (include/atx_engine.h). */
static unsigned mb_submit_burst(struct atx_chan *chan, struct atx_tx *const *txs, unsigned n)
{
	return group_add_now(atx_chan_priv(chan), txs, n);
}

static struct atx_tx *lane_pop(struct mb_lane *lane)
{
	struct atx_tx *tx = lane->head;

	if (tx) {
		lane->head = (struct atx_tx *)atx_tx_op(tx)->eng[0];
		if (!lane->head)
			lane->tail = NULL;
		lane->nqueued--;
	}
	return tx;
}

static int mb_poll(struct atx_chan *chan, unsigned budget)
{
	struct mb_lane *lane = atx_chan_priv(chan);
	IMB_MGR *mgr = lane->mgr;
	unsigned n = 0, taken = 0, batch = lane->nqueued;
	struct atx_tx *tx;

	/*
	 * The budget bounds the inline work of one poll; here the batch is
	 * the unit of work: a burst of 4 fills a quarter of the lanes and
	 * costs as much as a full one.  So whatever the core asks for (it
	 * briefly polled in slices of 4), take up to a full burst.
	 */
	if (budget < MB_BURST)
		budget = MB_BURST;
	while (taken < budget && (tx = lane_pop(lane))) {
		struct atx_op *op = atx_tx_op(tx);
		const struct mb_sess *ms = op->u.crypto.sess_priv;
		struct mb_slot *slot;
		IMB_JOB *job;
		int ret;

		taken++;
		if (op->fence) {
			/* The parents are ahead of us in this lane: finish them first. */
			n += lane_drain(lane);
			if (!atx_tx_fence_ok(tx)) {
				atx_engine_complete(tx, -ECANCELED);
				n++;
				continue;
			}
		}
		if (ms->max_len && op->len > ms->max_len) {
			const uint8_t *in;
			uint8_t *out;

			if (mb_long_cbc(op, &in, &out)) {
				long_add(lane, tx, in, out, &n);
				continue;
			}
		}
		if ((batch < ms->lone_max && !lane->injobs) ||
		    (ms->max_len && op->len + op->u.crypto.aad_len > ms->max_len)) {
			/* Too few to fill lanes (one buffer is faster alone), or too long (mb.h). */
			ret = soft_crypto_exec(ms->soft, 0, op);
			atx_engine_complete(tx, ret);
			n++;
			continue;
		}
		if (ms->burst) {
			struct mb_group *g = group_get(lane, ms->burst_cls, &n);
			bool ok;

			if (g->n == MB_BURST)   /* filled at submit (group_add_now) */
				n += group_run(lane, g);
			ok = mb_burst_prep(&g->jobs[g->n], g->tag[g->n], op,
						g->tmpl_of[g->n] == ms);

			g->tmpl_of[g->n] = ok ? ms : NULL;
			if (ok) {
				if (!g->n)
					g->ms = ms;
				g->tx[g->n++] = tx;
				if (g->n == MB_BURST)
					n += group_run(lane, g);
				continue;
			}
		}
		if (ms->gcm_direct && mb_gcm_direct(mgr, op)) {
			atx_engine_complete(tx, 0);
			n++;
			continue;
		}
		job = IMB_GET_NEXT_JOB(mgr);
		slot = &lane->slots[job - mgr->jobs];
		ret = mb_job_prep(job, slot, op);
		if (ret) {
			/* Not submitted: the same job comes back from the next GET_NEXT_JOB. */
			if (ret > 0)
				ret = mb_job_finish(0, slot, op);
			atx_engine_complete(tx, ret);
			n++;
			continue;
		}
		job->user_data = tx;
		job->user_data2 = slot;
		slot->tx = tx;
		lane->injobs++;
		n += lane_reap(lane, IMB_SUBMIT_JOB(mgr));
	}
	/*
	 * Bursts run now whatever is still queued (they are synchronous);
	 * the job path's partial batch is flushed when nothing more is
	 * queued to batch with, so a lone request does not wait.
	 */
	n += lane_run_groups(lane);
	if (!lane->head)
		n += lane_flush(lane);
	return n;
}

const struct atx_engine_ops atx_mb_engine_ops = {
	.name = "mb",
	.prio = ATX_PRIO_ACCEL,
	.caps = MB_CAPS,
	.attach = mb_attach,
	.detach = mb_detach,
	.probe_session = mb_probe_session,
	.new_session = mb_new_session,
	.free_session = mb_free_session,
	.submit = mb_submit,
	.submit_burst = mb_submit_burst,
	.poll = mb_poll,
};
