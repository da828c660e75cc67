/* SPDX-License-Identifier: MIT */
/*
 * ops.c - the operation constructors: check arguments, fill the
 * engine-visible struct atx_op, and hand the descriptor to the graph.
 * Nothing here allocates; the descriptor comes from the pool.
 */
#include "alg.h"
#include "atx_internal.h"

/* Every constructor's first step: inlined, it is a dozen stores. */
static inline __attribute__((always_inline)) struct atx_tx *
tx_start(struct atx_ctx *ctx, const struct atx_submit *sub, enum atx_opcode opc, size_t len)
{
	struct atx_tx *tx;

	if (unlikely(!ctx)) {
		errno = EINVAL;
		return NULL;
	}
	tx = atx__tx_alloc(ctx, sub);
	if (likely(tx)) {
		tx->op.opcode = opc;
		tx->op.len = len;
	}
	return tx;
}

static struct atx_tx *einval(void)
{
	errno = EINVAL;
	return NULL;
}

/*
 * The memory ops share one shape: arguments checked by the caller, then
 * one descriptor whose mem fields the op uses (the others are ignored).
 */
/* The buffer rules of copy, fill, crc32c and copy+crc32c (calls and chain steps). */
static inline bool mem_args_bad(enum atx_opcode opc, const void *dst, const void *src,
				const void *out, size_t len)
{
	switch (opc) {
	case ATX_OP_MEMCPY:
		return (!dst || !src) && len;
	case ATX_OP_MEMSET:
		return !dst && len;
	case ATX_OP_CRC32C:
		return !out || (!src && len);
	default: /* ATX_OP_COPY_CRC32C */
		return !out || ((!src || !dst) && len);
	}
}

static inline void mem_fill(struct atx_op *op, void *dst, const void *src, uint32_t *out,
			    uint32_t word, uint32_t block)
{
	op->u.mem.dst = dst;
	op->u.mem.src = src;
	op->u.mem.out = out;
	op->u.mem.seed = word;          /* memset's byte shares the word */
	op->u.mem.block = block;
}

static inline struct atx_tx *mem_op(struct atx_ctx *ctx, const struct atx_submit *sub,
				    enum atx_opcode opc, uint32_t cap, void *dst, const void *src,
				    size_t len, uint32_t *out, uint32_t word, uint32_t block)
{
	struct atx_tx *tx = tx_start(ctx, sub, opc, len);

	if (unlikely(!tx))
		return NULL;
	mem_fill(&tx->op, dst, src, out, word, block);
	return atx__tx_submit(ctx, tx, sub, cap, NULL);
}

struct atx_tx *atx_memcpy(struct atx_ctx *ctx, void *dst, const void *src, size_t len,
			  const struct atx_submit *sub)
{
	if (unlikely(mem_args_bad(ATX_OP_MEMCPY, dst, src, NULL, len)))
		return einval();
	return mem_op(ctx, sub, ATX_OP_MEMCPY, ATX_CAP_MEMCPY, dst, src, len, NULL, 0, 0);
}

struct atx_tx *atx_memset(struct atx_ctx *ctx, void *dst, int c, size_t len,
			  const struct atx_submit *sub)
{
	if (unlikely(mem_args_bad(ATX_OP_MEMSET, dst, NULL, NULL, len)))
		return einval();
	return mem_op(ctx, sub, ATX_OP_MEMSET, ATX_CAP_MEMSET, dst, NULL, len, NULL, (uint32_t)c,
		      0);
}

struct atx_tx *atx_crc32c(struct atx_ctx *ctx, uint32_t *out, const void *src, size_t len,
			  uint32_t seed, const struct atx_submit *sub)
{
	if (unlikely(mem_args_bad(ATX_OP_CRC32C, NULL, src, out, len)))
		return einval();
	return mem_op(ctx, sub, ATX_OP_CRC32C, ATX_CAP_CRC32C, NULL, src, len, out, seed, 0);
}

struct atx_tx *atx_crc32c_blocks(struct atx_ctx *ctx, uint32_t *out, const void *src, size_t len,
				 size_t block, uint32_t seed, const struct atx_submit *sub)
{
	if (unlikely(!out || !src || !block || block > UINT32_MAX || !len || len % block))
		return einval();
	return mem_op(ctx, sub, ATX_OP_CRC32C_BLOCKS, ATX_CAP_CRC32C_BLOCKS, NULL, src, len, out,
		      seed, (uint32_t)block);
}

struct atx_tx *atx_copy_crc32c(struct atx_ctx *ctx, void *dst, uint32_t *out, const void *src,
			       size_t len, uint32_t seed, const struct atx_submit *sub)
{
	if (unlikely(mem_args_bad(ATX_OP_COPY_CRC32C, dst, src, out, len)))
		return einval();
	return mem_op(ctx, sub, ATX_OP_COPY_CRC32C, ATX_CAP_CRC32C | ATX_CAP_MEMCPY, dst, src,
		      len, out, seed, 0);
}

struct atx_tx *atx_trigger_callback(struct atx_ctx *ctx, const struct atx_submit *sub)
{
	struct atx_tx *tx = tx_start(ctx, sub, ATX_OP_NOP, 0);

	if (unlikely(!tx))
		return NULL;
	return atx__tx_submit(ctx, tx, sub, 0, ctx->soft);
}

/* ---- RAID ---- */

static struct atx_tx *raid_tx(struct atx_ctx *ctx, enum atx_opcode opc, void *const *srcs,
			      unsigned nsrc, size_t len, const struct atx_submit *sub)
{
	struct atx_tx *tx;
	unsigned i;

	if (unlikely(!srcs || nsrc == 0 || nsrc > ATX_RAID_MAX_SRCS))
		return einval();
	for (i = 0; i < nsrc; i++)
		if (unlikely(!srcs[i] && len))
			return einval();
	tx = tx_start(ctx, sub, opc, len);
	if (likely(tx)) {
		memset(&tx->op.u.raid, 0, sizeof(tx->op.u.raid));
		tx->op.u.raid.srcs = srcs;
		tx->op.u.raid.nsrc = nsrc;
	}
	return tx;
}

struct atx_tx *atx_xor(struct atx_ctx *ctx, void *dst, void *const *srcs, unsigned nsrc,
		       size_t len, const struct atx_submit *sub)
{
	struct atx_tx *tx;

	if (unlikely(!dst && len))
		return einval();
	tx = raid_tx(ctx, ATX_OP_XOR, srcs, nsrc, len, sub);
	if (unlikely(!tx))
		return NULL;
	tx->op.u.raid.dst = dst;
	return atx__tx_submit(ctx, tx, sub, ATX_CAP_XOR, NULL);
}

struct atx_tx *atx_xor_val(struct atx_ctx *ctx, void *const *srcs, unsigned nsrc, size_t len,
			   uint32_t *result, const struct atx_submit *sub)
{
	struct atx_tx *tx;

	if (unlikely(!result))
		return einval();
	tx = raid_tx(ctx, ATX_OP_XOR_VAL, srcs, nsrc, len, sub);
	if (unlikely(!tx))
		return NULL;
	tx->op.u.raid.result = result;
	return atx__tx_submit(ctx, tx, sub, ATX_CAP_XOR, NULL);
}

struct atx_tx *atx_pq(struct atx_ctx *ctx, void *p, void *q, void *const *data, unsigned ndata,
		      size_t len, const struct atx_submit *sub)
{
	struct atx_tx *tx;

	if (unlikely(!p && !q))
		return einval();
	tx = raid_tx(ctx, ATX_OP_PQ, data, ndata, len, sub);
	if (unlikely(!tx))
		return NULL;
	tx->op.u.raid.p = p;
	tx->op.u.raid.q = q;
	return atx__tx_submit(ctx, tx, sub, ATX_CAP_PQ, NULL);
}

struct atx_tx *atx_pq_val(struct atx_ctx *ctx, const void *p, const void *q, void *const *data,
			  unsigned ndata, size_t len, uint32_t *result,
			  const struct atx_submit *sub)
{
	struct atx_tx *tx;

	if (unlikely(!result || (!p && !q)))
		return einval();
	tx = raid_tx(ctx, ATX_OP_PQ_VAL, data, ndata, len, sub);
	if (unlikely(!tx))
		return NULL;
	tx->op.u.raid.p = (void *)p;
	tx->op.u.raid.q = (void *)q;
	tx->op.u.raid.result = result;
	return atx__tx_submit(ctx, tx, sub, ATX_CAP_PQ, NULL);
}

struct atx_tx *atx_raid6_datap_recov(struct atx_ctx *ctx, void *const *data, unsigned ndata,
				     void *p, const void *q, unsigned faila, size_t len,
				     const struct atx_submit *sub)
{
	struct atx_tx *tx;

	if (unlikely(!p || !q || faila >= ndata || ndata < 2))
		return einval();
	tx = raid_tx(ctx, ATX_OP_RAID6_DATAP, data, ndata, len, sub);
	if (unlikely(!tx))
		return NULL;
	tx->op.u.raid.p = p;
	tx->op.u.raid.q = (void *)q;
	tx->op.u.raid.faila = faila;
	return atx__tx_submit(ctx, tx, sub, ATX_CAP_RAID6_RECOV, NULL);
}

struct atx_tx *atx_raid6_2data_recov(struct atx_ctx *ctx, void *const *data, unsigned ndata,
				     const void *p, const void *q, unsigned faila,
				     unsigned failb, size_t len, const struct atx_submit *sub)
{
	struct atx_tx *tx;

	if (unlikely(!p || !q || faila >= ndata || failb >= ndata || faila == failb || ndata < 2))
		return einval();
	tx = raid_tx(ctx, ATX_OP_RAID6_2DATA, data, ndata, len, sub);
	if (unlikely(!tx))
		return NULL;
	tx->op.u.raid.p = (void *)p;
	tx->op.u.raid.q = (void *)q;
	tx->op.u.raid.faila = faila;
	tx->op.u.raid.failb = failb;
	return atx__tx_submit(ctx, tx, sub, ATX_CAP_RAID6_RECOV, NULL);
}

/* ---- file I/O ---- */

static struct atx_tx *io_tx(struct atx_ctx *ctx, enum atx_opcode opc, int fd, void *buf,
			    size_t len, uint64_t offset, const struct atx_submit *sub)
{
	struct atx_tx *tx;

	if (unlikely(fd < 0 || (!buf && len) || (offset > INT64_MAX)))
		return einval();
	if (unlikely(!ctx || !ctx->fileio)) {
		errno = ctx ? EOPNOTSUPP : EINVAL;
		return NULL;
	}
	tx = tx_start(ctx, sub, opc, len);
	if (unlikely(!tx))
		return NULL;
	tx->op.u.io.fd = fd;
	tx->op.u.io.buf = buf;
	tx->op.u.io.offset = offset;
	tx->op.u.io.done = 0;
	return atx__tx_submit(ctx, tx, sub, ATX_CAP_FILEIO, ctx->fileio);
}

struct atx_tx *atx_read(struct atx_ctx *ctx, int fd, void *buf, size_t len, uint64_t offset,
			const struct atx_submit *sub)
{
	return io_tx(ctx, ATX_OP_READ, fd, buf, len, offset, sub);
}

struct atx_tx *atx_write(struct atx_ctx *ctx, int fd, const void *buf, size_t len,
			 uint64_t offset, const struct atx_submit *sub)
{
	return io_tx(ctx, ATX_OP_WRITE, fd, (void *)buf, len, offset, sub);
}

/* ---- crypto ---- */

enum atx_opcode atx__svc_opcode(enum atx_service svc)
{
	switch (svc) {
	case ATX_SVC_CIPHER: return ATX_OP_CIPHER;
	case ATX_SVC_HASH: return ATX_OP_HASH;
	case ATX_SVC_MAC: return ATX_OP_MAC;
	case ATX_SVC_AEAD: return ATX_OP_AEAD;
	case ATX_SVC_CHAIN: return ATX_OP_CHAIN;
	}
	return ATX_OP__COUNT;
}

/* atx__crypto_check() for @s, remembering the last shape that passed. */
static inline int sess_check(struct atx_session *s, size_t len, size_t iv_len, size_t aad_len)
{
	int ret;

	if (likely(s->ok_valid && len == s->ok_len && iv_len == s->ok_iv_len &&
		   aad_len == s->ok_aad_len))
		return 0;
	ret = atx__crypto_check(&s->p, s->opc, len, iv_len, aad_len);
	if (ret == 0) {
		s->ok_len = len;
		s->ok_iv_len = (uint16_t)iv_len;
		s->ok_aad_len = aad_len;
		s->ok_valid = true;
	}
	return ret;
}

static size_t iov_total(const struct iovec *v, unsigned n, bool *bad)
{
	size_t t = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (!v[i].iov_base && v[i].iov_len)
			*bad = true;
		t += v[i].iov_len;
	}
	return t;
}

/* Queue a crypto request; a queued one holds a session reference until it completes. */
static inline struct atx_tx *crypto_submit(struct atx_ctx *ctx, struct atx_tx *tx,
					   const struct atx_submit *sub, struct atx_session *s)
{
	tx = atx__tx_submit(ctx, tx, sub, s->cap, s->eng);
	if (likely(tx)) {
		struct atx_tx *t = atx__untag(tx);

		s->refs++;
		*atx__tx_sess(ctx, t) = s;
		t->flags |= TXF_SESS;
	}
	return tx;
}

struct atx_tx *atx_crypto(struct atx_ctx *ctx, struct atx_session *s,
			  const struct atx_crypto_op *op, const struct atx_submit *sub)
{
	enum atx_opcode opc;
	struct atx_tx *tx;
	bool bad = false, in_place;
	size_t len, dlen = 0;
	int ret;

	if (unlikely(!ctx || !s || !op || op->size < sizeof(*op) || s->ctx != ctx || s->freed))
		return einval();
	opc = s->opc;
	if (unlikely(op->src_cnt && !op->src))
		return einval();
	len = iov_total(op->src, op->src_cnt, &bad);
	in_place = !op->dst || !op->dst_cnt;
	if (!in_place)
		dlen = iov_total(op->dst, op->dst_cnt, &bad);
	if (unlikely(bad || op->iv_len > ATX_MAX_IV_LEN || (op->iv_len && !op->iv) ||
		     (op->aad_len && !op->aad)))
		return einval();
	if (opc == ATX_OP_HASH || opc == ATX_OP_MAC) {
		if (unlikely(!op->digest))
			return einval();
	} else {
		if (unlikely(!in_place && dlen != len))
			return einval();
		if (unlikely((opc == ATX_OP_AEAD || opc == ATX_OP_CHAIN) && !op->digest))
			return einval();
	}
	ret = atx__crypto_check(&s->p, opc, len, op->iv_len, op->aad_len);
	if (unlikely(ret < 0)) {
		errno = -ret;
		return NULL;
	}
	tx = tx_start(ctx, sub, opc, len);
	if (unlikely(!tx))
		return NULL;
	tx->op.iv_len = (uint16_t)op->iv_len;
	if (op->iv_len)
		memcpy(tx->op.u.crypto.iv, op->iv, op->iv_len);
	tx->op.u.crypto.sess_priv = s->priv;
	tx->op.u.crypto.src = op->src;
	tx->op.u.crypto.src_cnt = op->src_cnt;
	tx->op.u.crypto.dst = in_place ? op->src : op->dst;
	tx->op.u.crypto.dst_cnt = in_place ? op->src_cnt : op->dst_cnt;
	tx->op.u.crypto.aad = op->aad;
	tx->op.u.crypto.aad_len = op->aad_len;
	tx->op.u.crypto.digest = op->digest;
	return crypto_submit(ctx, tx, sub, s);
}

/*
 * Flat-buffer forms: the iovecs live inside the descriptor.  Inlined into
 * each caller (the compiler would not: eleven arguments, three callers),
 * where the constant arguments fold its checks away; ~25 instructions of
 * argument passing less per request.
 */
/*
 * The argument rules of every flat-buffer crypto call (and chain step): 0
 * or -errno.  @held: a prepared chain's run, whose reference keeps a
 * session usable after atx_session_free.
 */
static inline __attribute__((always_inline)) int
crypto_flat_check(struct atx_ctx *ctx, struct atx_session *s, void *dst, const void *src,
		  size_t len, const void *iv, size_t iv_len, const void *aad, size_t aad_len,
		  void *digest, bool held)
{
	enum atx_opcode opc;

	if (unlikely(!ctx || !s || s->ctx != ctx || (s->freed && !held) || (!src && len) ||
		     iv_len > ATX_MAX_IV_LEN || (iv_len && !iv) || (aad_len && !aad)))
		return -EINVAL;
	opc = s->opc;
	if (opc != ATX_OP_HASH && opc != ATX_OP_MAC && unlikely(!dst && len))
		return -EINVAL;
	if ((opc != ATX_OP_CIPHER) && unlikely(!digest))
		return -EINVAL;
	return sess_check(s, len, iv_len, aad_len);
}

/* Fill @op for a checked flat-buffer request on @s. */
static inline __attribute__((always_inline)) void
crypto_flat_fill(struct atx_op *op, struct atx_session *s, void *dst, const void *src,
		 size_t len, const void *iv, size_t iv_len, const void *aad, size_t aad_len,
		 void *digest)
{
	__typeof__(&op->u.crypto) cr = &op->u.crypto;

	op->iv_len = (uint16_t)iv_len;
	if (iv_len == 16)
		memcpy(cr->iv, iv, 16);         /* inlined: the common IV */
	else if (iv_len)
		memcpy(cr->iv, iv, iv_len);
	cr->sess_priv = s->priv;
	cr->src1.iov_base = (void *)src;
	cr->src1.iov_len = len;
	cr->src = &cr->src1;
	cr->src_cnt = 1;
	if (dst == src || !dst) {
		cr->dst = cr->src;
	} else {
		cr->dst1.iov_base = dst;
		cr->dst1.iov_len = len;
		cr->dst = &cr->dst1;
	}
	cr->dst_cnt = 1;
	cr->aad = aad;
	cr->aad_len = aad_len;
	cr->digest = digest;
}

static inline __attribute__((always_inline)) struct atx_tx *crypto_flat(struct atx_ctx *ctx, struct atx_session *s, void *dst,
					 const void *src, size_t len, const void *iv, size_t iv_len,
					 const void *aad, size_t aad_len, void *digest,
					 const struct atx_submit *sub)
{
	struct atx_tx *tx;
	int ret;

	ret = crypto_flat_check(ctx, s, dst, src, len, iv, iv_len, aad, aad_len, digest, false);
	if (unlikely(ret < 0)) {
		errno = -ret;
		return NULL;
	}
	tx = tx_start(ctx, sub, s->opc, len);
	if (unlikely(!tx))
		return NULL;
	crypto_flat_fill(&tx->op, s, dst, src, len, iv, iv_len, aad, aad_len, digest);
	return crypto_submit(ctx, tx, sub, s);
}

struct atx_tx *atx_cipher(struct atx_ctx *ctx, struct atx_session *s, void *dst, const void *src,
			  size_t len, const void *iv, const struct atx_submit *sub)
{
	if (unlikely(s && s->p.service != ATX_SVC_CIPHER))
		return einval();
	return crypto_flat(ctx, s, dst, src, len, iv, iv && s ? s->iv_len : 0, NULL, 0, NULL, sub);
}

struct atx_tx *atx_digest(struct atx_ctx *ctx, struct atx_session *s, void *digest,
			  const void *src, size_t len, const struct atx_submit *sub)
{
	if (s && s->p.service != ATX_SVC_HASH && s->p.service != ATX_SVC_MAC)
		return einval();
	return crypto_flat(ctx, s, NULL, src, len, NULL, 0, NULL, 0, digest, sub);
}

struct atx_tx *atx_aead(struct atx_ctx *ctx, struct atx_session *s, void *dst, const void *src,
			size_t len, const void *iv, size_t iv_len, const void *aad,
			size_t aad_len, void *tag, const struct atx_submit *sub)
{
	if (s && s->p.service != ATX_SVC_AEAD && s->p.service != ATX_SVC_CHAIN)
		return einval();
	return crypto_flat(ctx, s, dst, src, len, iv, iv_len, aad, aad_len, tag, sub);
}

/* ---- linked chains (atx_chain) ---- */

/* The crypto arguments a step of a given operation passes on (the call of the same name's). */
struct step_args {
	void *dst, *digest;
	const void *iv, *aad;
	size_t iv_len, aad_len;
};

static inline __attribute__((always_inline)) void
step_crypto_args(const struct atx_step *st, const struct atx_session *s, struct step_args *a)
{
	switch (st->op) {
	case ATX_STEP_CIPHER:
		*a = (struct step_args){ .dst = st->dst, .iv = st->iv,
					 .iv_len = st->iv ? s->iv_len : 0 };
		break;
	case ATX_STEP_DIGEST:
		*a = (struct step_args){ .digest = st->out };
		break;
	default: /* ATX_STEP_AEAD */
		*a = (struct step_args){ .dst = st->dst, .iv = st->iv, .iv_len = st->iv_len,
					 .aad = st->aad, .aad_len = st->aad_len,
					 .digest = st->out };
		break;
	}
}

/*
 * Check one step and fill @op for it, with the same rules as the
 * call of the same name: 0 or -errno.  *cap is what serves it, *sp its
 * session (NULL for a memory step).  @held as for crypto_flat_check.
 */
static inline __attribute__((always_inline)) int
step_fill(struct atx_ctx *ctx, struct atx_op *op, const struct atx_step *st, uint32_t *cap,
	  struct atx_session **sp, bool held)
{
	struct atx_session *s = st->sess;
	struct step_args a;
	int ret;

	*sp = NULL;
	op->len = st->len;
	switch (st->op) {
	case ATX_STEP_MEMCPY:
		op->opcode = ATX_OP_MEMCPY;
		*cap = ATX_CAP_MEMCPY;
		break;
	case ATX_STEP_MEMSET:
		op->opcode = ATX_OP_MEMSET;
		*cap = ATX_CAP_MEMSET;
		break;
	case ATX_STEP_CRC32C:
		op->opcode = ATX_OP_CRC32C;
		*cap = ATX_CAP_CRC32C;
		break;
	case ATX_STEP_COPY_CRC32C:
		op->opcode = ATX_OP_COPY_CRC32C;
		*cap = ATX_CAP_CRC32C | ATX_CAP_MEMCPY;
		break;
	case ATX_STEP_CIPHER:
		if (!s || s->p.service != ATX_SVC_CIPHER)
			return -EINVAL;
		goto crypto;
	case ATX_STEP_DIGEST:
		if (!s || (s->p.service != ATX_SVC_HASH && s->p.service != ATX_SVC_MAC))
			return -EINVAL;
		goto crypto;
	case ATX_STEP_AEAD:
		if (!s || (s->p.service != ATX_SVC_AEAD && s->p.service != ATX_SVC_CHAIN))
			return -EINVAL;
		goto crypto;
	default:
		return -EINVAL;
	}
	if (mem_args_bad(op->opcode, st->dst, st->src, st->out, st->len))
		return -EINVAL;
	mem_fill(op, st->dst, st->src, st->out, st->seed, 0);
	return 0;

crypto:
	step_crypto_args(st, s, &a);
	ret = crypto_flat_check(ctx, s, a.dst, st->src, st->len, a.iv, a.iv_len, a.aad,
				a.aad_len, a.digest, held);
	if (ret < 0)
		return ret;
	op->opcode = s->opc;
	crypto_flat_fill(op, s, a.dst, st->src, st->len, a.iv, a.iv_len, a.aad, a.aad_len,
			 a.digest);
	*cap = s->cap;
	*sp = s;
	return 0;
}

/* A queued step holds a session reference until it completes, as in crypto_submit. */
static inline void step_hold(struct atx_ctx *ctx, struct atx_tx *tx, struct atx_session *s)
{
	if (s) {
		s->refs++;
		*atx__tx_sess(ctx, tx) = s;
		tx->flags |= TXF_SESS;
	}
}

/* Split chains: the first failing step's status becomes the chain's. */
static void seq_step_done(struct atx_tx *h, int status, void *arg)
{
	struct atx_tx *head = arg;

	(void)h;
	if (status && !head->op.u.seq.err)
		head->op.u.seq.err = status;
}

/* Steps from atx__tx_alloc_step() that were never submitted, back to the pool. */
static struct atx_tx *chain_fail(struct atx_ctx *ctx, struct atx_tx **r, unsigned n, int err)
{
	while (n--)
		atx__step_free(ctx, r[n]);
	errno = err;
	return NULL;
}

/*
 * Queue the steps one by one, each behind the one before it, and the
 * chain's own descriptor (a trigger holding the caller's callback) behind
 * the last: for chains no single ATX_CAP_SEQ channel serves.
 */
static struct atx_tx *chain_split(struct atx_ctx *ctx, struct atx_tx **r, unsigned n,
				  const uint32_t *cap, struct atx_session *const *ss,
				  const struct atx_submit *sub)
{
	struct atx_tx *head, *prev = NULL;
	unsigned i;

	for (i = 0; i < n; i++)
		if (!(sub && sub->chan) &&
		    !atx__chan_pick_cached(ctx, cap[i], ss[i] ? ss[i]->eng : NULL))
			return chain_fail(ctx, r, n, EOPNOTSUPP);
	if (ctx->nfree_edges < n + 1 + (sub ? sub->ndeps : 0))
		return chain_fail(ctx, r, n, EAGAIN);
	head = atx__tx_alloc(ctx, sub);
	head->op.opcode = ATX_OP_NOP;
	head->op.len = 0;
	atx__seq_side(ctx, head)->step[0] = NULL; /* its steps are descriptors of their own */
	head->op.u.seq.err = 0;
	head->flags |= TXF_SEQ;
	for (i = 0; i < n; i++) {
		struct atx_submit si = {
			.flags = ATX_F_ACK | (sub ? sub->flags & ATX_F_FAILOVER : 0),
			.cb = seq_step_done,
			.cb_arg = head,
			.chan = sub ? sub->chan : NULL,
		};
		struct atx_tx *t;

		if (i) {
			si.depend_tx = prev;
		} else if (sub) {
			si.depend_tx = sub->depend_tx;
			si.deps = sub->deps;
			si.ndeps = sub->ndeps;
		}
		/* What atx__tx_alloc sets and atx__tx_alloc_step does not: it is a whole descriptor now. */
		r[i]->op.fence = 0;
		r[i]->op.result = 0;
		r[i]->nwait = 0;
		r[i]->result = 0;
		r[i]->cb = seq_step_done;
		r[i]->cb_arg = head;
		r[i]->flags = TXF_ACKED | (si.flags & ATX_F_FAILOVER ? TXF_FAILOVER : 0);
		r[i]->state = TX_WAITING;
		t = atx__tx_submit(ctx, r[i], &si, cap[i], ss[i] ? ss[i]->eng : NULL);
		if (!t) {
			int err = errno;

			if (i == 0) {
				/* A bad dependency: nothing was queued. */
				chain_fail(ctx, r + 1, n - 1, err);
				atx__tx_abort(ctx, head);
				errno = err;
				return NULL;
			}
			/*
			 * Not reached (every cause was checked above), but if it
			 * were, the steps already queued still run and report to
			 * the head: complete the chain behind them with the error.
			 */
			chain_fail(ctx, r + i + 1, n - i - 1, err);
			head->op.u.seq.err = -err;
			break;
		}
		step_hold(ctx, r[i], ss[i]);
		prev = t;
	}
	return atx__tx_submit(ctx, head, &(struct atx_submit){ .depend_tx = prev }, 0, ctx->soft);
}

/* atx_chain, and a prepared chain's split run (@held). */
static inline __attribute__((always_inline)) struct atx_tx *
chain_submit(struct atx_ctx *ctx, const struct atx_step *steps, unsigned n,
	     const struct atx_submit *sub, bool held)
{
	struct atx_tx *r[ATX_CHAIN_MAX], *head;
	struct atx_session *ss[ATX_CHAIN_MAX];
	struct atx_seq_side *sd;
	struct atx_engine *eng = NULL;
	struct atx_chan *chan;
	uint32_t cap[ATX_CHAIN_MAX], caps = 0;
	size_t total = 0;
	bool one_eng = true;
	unsigned i;
	int ret;

	if (unlikely(!ctx || !steps || !n || n > ATX_CHAIN_MAX))
		return einval();
	if (unlikely(ctx->nfree < n + 1)) {
		errno = EAGAIN;
		return NULL;
	}
	if (n == 1) {
		/* A chain of one is that step's own descriptor. */
		head = atx__tx_alloc(ctx, sub);
		ret = step_fill(ctx, &head->op, steps, cap, ss, held);
		if (unlikely(ret < 0)) {
			atx__tx_abort(ctx, head);
			errno = -ret;
			return NULL;
		}
		if (ss[0])
			return crypto_submit(ctx, head, sub, ss[0]);
		return atx__tx_submit(ctx, head, sub, cap[0], NULL);
	}
	for (i = 0; i < n; i++) {
		r[i] = atx__tx_alloc_step(ctx);
		ret = step_fill(ctx, &r[i]->op, &steps[i], &cap[i], &ss[i], held);
		if (unlikely(ret < 0))
			return chain_fail(ctx, r, i + 1, -ret);
		caps |= cap[i];
		total += steps[i].len;
		if (ss[i]) {
			if (eng && ss[i]->eng != eng)
				one_eng = false;
			eng = ss[i]->eng;
		}
	}
	chan = sub ? sub->chan : NULL;
	if (unlikely(chan)) {
		/* Pinned: that channel must serve every step, whichever way it runs them. */
		if (chan->ctx != ctx || chan->dead || (caps & ~chan->caps))
			return chain_fail(ctx, r, n, chan->dead ? ENODEV : EINVAL);
		for (i = 0; i < n; i++)
			if (ss[i] && ss[i]->eng != chan->eng)
				return chain_fail(ctx, r, n, EINVAL);
		if (!(chan->caps & ATX_CAP_SEQ))
			chan = NULL;
	} else if (one_eng) {
		chan = atx__chan_pick_cached(ctx, caps | ATX_CAP_SEQ, eng);
	}
	if (!chan)
		return chain_split(ctx, r, n, cap, ss, sub);

	/* One channel runs it all: one descriptor, its steps riding along. */
	head = atx__tx_alloc(ctx, sub);
	sd = atx__seq_side(ctx, head);
	head->op.opcode = ATX_OP_SEQ;
	head->op.len = total;
	for (i = 0; i < n; i++) {
		head->op.u.seq.step[i] = &r[i]->op;
		sd->step[i] = r[i];
		sd->sess[i] = ss[i];
		if (ss[i])
			ss[i]->refs++;
	}
	if (n < ATX_CHAIN_MAX)
		sd->step[n] = NULL;
	head->op.u.seq.n = (uint16_t)n;
	head->op.u.seq.flags = 0;
	head->op.u.seq.err = 0;
	head->flags |= TXF_SEQ;
	if (!sub || !(sub->depend_tx || sub->ndeps || sub->chan))
		return atx__tx_submit_on(ctx, head, chan); /* where it was just picked */
	return atx__tx_submit(ctx, head, sub, caps | ATX_CAP_SEQ, eng);
}

struct atx_tx *atx_chain(struct atx_ctx *ctx, const struct atx_step *steps, unsigned n,
			 const struct atx_submit *sub)
{
	return chain_submit(ctx, steps, n, sub, false);
}

/* ---- prepared chains (atx_prep_*) ---- */

/* @tx's op: the chain of @p's ops (ATX_OP_SEQ), its side record naming @p. */
static void prep_fill_seq(struct atx_prep *p, struct atx_tx *tx)
{
	unsigned i;

	tx->op.opcode = ATX_OP_SEQ;
	tx->op.len = p->total;
	tx->op.u.seq.n = p->n;
	for (i = 0; i < p->n; i++)
		tx->op.u.seq.step[i] = &p->ops[i].op;
	atx__seq_set_prep(atx__seq_side(p->ctx, tx), p);
}

struct atx_prep *atx_prep_new(struct atx_ctx *ctx, const struct atx_step *steps, unsigned n)
{
	struct atx_session *ss[ATX_CHAIN_MAX];
	struct atx_prep *p;
	unsigned i;
	size_t sz;
	int ret;

	if (!ctx || !steps || !n || n > ATX_CHAIN_MAX) {
		errno = EINVAL;
		return NULL;
	}
	sz = sizeof(*p) + n * sizeof(p->ops[0]);
	p = aligned_alloc(64, sz);
	if (!p)
		return NULL;
	memset(p, 0, sz);
	p->ctx = ctx;
	p->n = (uint8_t)n;
	p->one_eng = true;
	for (i = 0; i < n; i++) {
		struct atx_op *op = &p->ops[i].op;
		uint32_t cap;

		/* The same rules as atx_chain, once. */
		ret = step_fill(ctx, op, &steps[i], &cap, &ss[i], false);
		if (ret < 0) {
			free(p);
			errno = -ret;
			return NULL;
		}
		p->caps |= cap;
		p->total += steps[i].len;
		if (ss[i]) {
			if (p->eng && ss[i]->eng != p->eng)
				p->one_eng = false;
			p->eng = ss[i]->eng;
		}
		p->steps[i] = steps[i];
		p->steps[i].sess = ss[i];       /* NULL for a memory step, whatever it named */
		p->steps[i].iv = op->iv_len ? op->u.crypto.iv : NULL;
		if (op->iv_len)
			p->ivs[p->niv++] = (uint8_t)i;
	}
	if (p->niv == 1 && p->ops[p->ivs[0]].op.iv_len == 16)
		p->iv16 = p->ops[p->ivs[0]].op.u.crypto.iv;
	/* Every step holds its session, as a queued step does, until atx_prep_free. */
	for (i = 0; i < n; i++)
		if (ss[i])
			ss[i]->refs++;
	/*
	 * A descriptor of its own, filled once: a run then writes only what
	 * changes (callback, flags, IV) and its completion gives it back
	 * here, not to the pool.  With the pool empty every run takes one
	 * from it instead.
	 */
	if (ctx->nfree) {
		p->own = ctx->free_tx[--ctx->nfree];
		p->own->prep_own = true;
		prep_fill_seq(p, p->own);
	}
	p->next = ctx->preps;
	if (p->next)
		p->next->prev = p;
	ctx->preps = p;
	return p;
}

void *atx_prep_iv(struct atx_prep *p, unsigned step)
{
	if (!p || step >= p->n || !p->ops[step].op.iv_len) {
		errno = EINVAL;
		return NULL;
	}
	return p->ops[step].op.u.crypto.iv;
}

void atx__prep_destroy(struct atx_prep *p)
{
	struct atx_ctx *ctx = p->ctx;
	unsigned i;

	for (i = 0; i < p->n; i++)
		if (p->steps[i].sess)
			atx__session_put(p->steps[i].sess);
	if (p->own) {
		/* Its descriptor to the pool now, or when its holder lets go. */
		struct atx_tx *tx = p->own;

		tx->prep_own = false;
		atx__seq_side(ctx, tx)->step[0] = NULL;
		if (tx->state == TX_FREE)
			atx__pool_push(ctx, tx);
	}
	if (p->prev)
		p->prev->next = p->next;
	else
		ctx->preps = p->next;
	if (p->next)
		p->next->prev = p->prev;
	free(p);
}

void atx_prep_free(struct atx_prep *p)
{
	if (!p || p->dying)
		return;
	if (p->busy)
		p->dying = true;        /* the run in flight still reads the ops */
	else
		atx__prep_destroy(p);
}

static void prep_split_done(struct atx_tx *tx, int status, void *arg)
{
	struct atx_prep *p = arg;
	atx_cb cb = p->ucb;
	void *cb_arg = p->uarg;

	atx__prep_done(p);
	if (cb)
		cb(tx, status, cb_arg);
}

/*
 * No one channel runs the whole chain (sessions on two engines, a pinned
 * channel without ATX_CAP_SEQ, none free): as atx_chain would, from the
 * steps kept for that, whose IVs point at the ops'.
 */
static struct atx_tx *prep_split(struct atx_prep *p, const struct atx_submit *sub)
{
	struct atx_submit s = sub ? *sub : (struct atx_submit){ 0 };
	struct atx_tx *tx;

	p->ucb = s.cb;
	p->uarg = s.cb_arg;
	s.cb = prep_split_done;
	s.cb_arg = p;
	p->busy = true;
	tx = chain_submit(p->ctx, p->steps, p->n, &s, true);
	if (!tx)
		p->busy = false;
	return tx;
}

/*
 * A run atx_prep_run's common case does not cover: a pinned channel or
 * dependencies, the channel to pick again, its own descriptor still held,
 * the first run, IVs other than one of 16 bytes (@iv: to write, or NULL
 * when written).
 */
static __attribute__((noinline)) struct atx_tx *prep_run_slow(struct atx_prep *p, const void *iv,
							      const struct atx_submit *sub)
{
	struct atx_ctx *ctx = p->ctx;
	struct atx_chan *chan = sub ? sub->chan : NULL;
	struct atx_tx *head;
	bool picked = false;
	unsigned i;

	for (i = 0; iv && i < p->niv; i++) {
		struct atx_op *op = &p->ops[p->ivs[i]].op;

		memcpy(op->u.crypto.iv, iv, op->iv_len);
	}

	if (unlikely(chan)) {
		/*
		 * Pinned: the split path checks it as atx_chain does; one with
		 * ATX_CAP_SEQ, atx__tx_submit (context, dead, caps, engine).
		 */
		if (!(chan->caps & ATX_CAP_SEQ) || !p->one_eng)
			return prep_split(p, sub);
	} else if (p->chan_gen == ctx->chan_gen) {
		chan = p->chan;         /* the only one, as at the last run */
	} else if (likely(p->one_eng)) {
		chan = atx__chan_pick_cached(ctx, p->caps | ATX_CAP_SEQ, p->eng);
		if (unlikely(!chan))
			return prep_split(p, sub);
		picked = true;
	} else {
		return prep_split(p, sub);
	}
	/*
	 * The ops' engine scratch is the first engine's to run them; a run
	 * may use it when it goes where it was picked (a dependency may move
	 * it to its parent's channel).
	 */
	if (!p->scratch_eng)
		p->scratch_eng = chan->eng;
	/* atx_prep_run's channel from now on: the only one, whose engine owns the scratch. */
	if (picked && chan == atx__chan_only(ctx, p->caps | ATX_CAP_SEQ, p->eng) &&
	    chan->eng == p->scratch_eng) {
		p->chan = chan;
		p->chan_gen = ctx->chan_gen;
	}
	head = p->own;
	if (likely(head && head->state == TX_FREE)) {
		/* Its own: the op and side record are as atx_prep_new left them. */
		atx__tx_init(head, sub);
	} else {
		head = atx__tx_alloc(ctx, sub);
		if (unlikely(!head))
			return NULL;
		prep_fill_seq(p, head);
	}
	head->op.u.seq.err = 0;
	head->flags |= TXF_SEQ;
	p->busy = true;
	if (!sub || !(sub->depend_tx || sub->ndeps || sub->chan)) {
		head->op.u.seq.flags = chan->eng == p->scratch_eng ? ATX_SEQ_F_PREP : 0;
		return atx__tx_submit_on(ctx, head, chan);
	}
	head->op.u.seq.flags = !sub->depend_tx && !sub->ndeps && chan->eng == p->scratch_eng ?
			       ATX_SEQ_F_PREP : 0;
	return atx__tx_submit(ctx, head, sub, p->caps | ATX_CAP_SEQ, p->eng);
}

/*
 * Its common case makes no call but tail calls, so that it needs no stack
 * frame: keep the rest in prep_run_slow.
 */
struct atx_tx *atx_prep_run(struct atx_prep *p, const void *iv, const struct atx_submit *sub)
{
	struct atx_ctx *ctx;
	struct atx_tx *head;

	if (unlikely(!p || p->dying))
		return einval();
	if (unlikely(p->busy)) {
		errno = EBUSY;
		return NULL;
	}
	ctx = p->ctx;
	if (likely(iv && p->iv16))
		memcpy(p->iv16, iv, 16);        /* inlined: the common case */
	else if (iv)
		return prep_run_slow(p, iv, sub);
	/*
	 * The common run: no dependency, no pinned channel, the channel of
	 * the last run still the only one (and its engine the scratch's),
	 * the prep's own descriptor free.
	 */
	head = p->own;
	if (unlikely((sub && (sub->depend_tx || sub->ndeps || sub->chan)) ||
		     p->chan_gen != ctx->chan_gen || !head || head->state != TX_FREE))
		return prep_run_slow(p, NULL, sub);
	atx__tx_init(head, sub);
	head->op.u.seq.err = 0;
	head->op.u.seq.flags = ATX_SEQ_F_PREP;
	head->flags |= TXF_SEQ;
	p->busy = true;
	return atx__tx_submit_on(ctx, head, p->chan);
}

/* ---- bursts (atx_burst) ---- */

/*
 * The general case: each step through the single-operation path, which
 * links it below @sub's dependencies or pins it to @sub's channel.
 */
static unsigned burst_each(struct atx_ctx *ctx, const struct atx_step *steps, unsigned n,
			   const struct atx_submit *sub, void *const *cb_args,
			   struct atx_tx **txs)
{
	struct atx_submit one = *sub;
	unsigned i;

	for (i = 0; i < n; i++) {
		struct atx_tx *t;

		if (cb_args)
			one.cb_arg = cb_args[i];
		t = atx_chain(ctx, &steps[i], 1, &one);
		if (!t)
			break;
		if (txs)
			txs[i] = t;
	}
	return i;
}

/*
 * Pin @sub's parents for the length of a burst: the first step's
 * implicit ack would otherwise recycle a parent that had already
 * completed, and the next step would find its handle stale.
 */
static int burst_hold(struct atx_ctx *ctx, const struct atx_submit *sub, struct atx_tx **p,
		      unsigned *np)
{
	unsigned i;
	int err;

	*np = 0;
	if (sub->depend_tx) {
		p[0] = atx__resolve_in(ctx, sub->depend_tx, &err);
		if (!p[0])
			return -err;
		*np = 1;
	}
	if (sub->ndeps > 15 || (sub->ndeps && !sub->deps))
		return -EINVAL;
	for (i = 0; i < sub->ndeps; i++) {
		p[*np] = atx__resolve_in(ctx, sub->deps[i], &err);
		if (!p[*np])
			return -err;
		(*np)++;
	}
	for (i = 0; i < *np; i++)
		p[i]->holds++;
	return 0;
}

/*
 * Would step_fill() pass @st, given that it passed @prev on the same
 * session?  Its rules depend on the session (unchanged within a call),
 * the operation, the lengths and which pointers are present.  Buffers
 * present means passed; absent ones take step_fill for its verdict.
 */
static inline bool step_same_shape(const struct atx_step *st, const struct atx_step *prev)
{
	return st->op == prev->op && st->len == prev->len && st->iv_len == prev->iv_len &&
	       st->aad_len == prev->aad_len && !st->iv == !prev->iv && st->src &&
	       (st->op == ATX_STEP_DIGEST || st->dst) && (st->op == ATX_STEP_CIPHER || st->out) &&
	       (!st->aad_len || st->aad);
}

/* step_fill()'s crypto fill, for a step step_same_shape() vouched for. */
static inline __attribute__((always_inline)) void
crypto_step_fill(struct atx_tx *tx, struct atx_session *s, const struct atx_step *st)
{
	struct step_args a;

	step_crypto_args(st, s, &a);
	tx->op.opcode = s->opc;
	tx->op.len = st->len;
	crypto_flat_fill(&tx->op, s, a.dst, st->src, st->len, a.iv, a.iv_len, a.aad, a.aad_len,
			 a.digest);
}

#define BURST_RUN 64

/*
 * Hand a run of descriptors of one session and shape to @chan's engine
 * in one submit_burst call; what it does not take, and everything when
 * the channel has work queued or cannot take any now, goes one by one.
 */
static void burst_run(struct atx_ctx *ctx, struct atx_chan *chan, struct atx_tx *const *run,
		      unsigned n)
{
	unsigned i, k = 0;

	if (n > 1 && !chan->pending.head && !chan->blocked && !chan->dead) {
		for (i = 0; i < n; i++)
			run[i]->state = TX_INFLIGHT;
		k = chan->eng->ops->submit_burst(chan, run, n);
		if (k) {
			chan->inflight += k;
			chan->st.bytes += (uint64_t)k * atx__tx_bytes(run[0]);
			ctx->inline_new = true;
		}
	}
	for (i = k; i < n; i++)
		atx__chan_ready(ctx, chan, run[i]);
}

int atx_burst(struct atx_ctx *ctx, const struct atx_step *steps, unsigned n,
	      const struct atx_submit *sub, void *const *cb_args, struct atx_tx **txs)
{
	const struct atx_step *pst = NULL;      /* the last crypto step step_fill passed */
	struct atx_session *ps = NULL;          /* its session */
	struct atx_tx *run[BURST_RUN];          /* not handed over yet: one session and shape */
	struct atx_chan *rchan = NULL;          /* their channel */
	unsigned i, nrun = 0;
	int err = 0;

	if (unlikely(!ctx || (n && !steps)))
		return -EINVAL;
	/* Handles nobody holds and nobody acks would never go back to the pool. */
	if (unlikely(!txs && !(sub && (sub->flags & ATX_F_ACK))))
		return -EINVAL;
	if (unlikely(sub && (sub->depend_tx || sub->ndeps || sub->chan))) {
		struct atx_tx *p[16];
		unsigned np;

		err = burst_hold(ctx, sub, p, &np);
		if (err < 0)
			return err;
		i = burst_each(ctx, steps, n, sub, cb_args, txs);
		err = errno;
		while (np--) {
			p[np]->holds--;
			atx__tx_maybe_recycle(ctx, p[np]);
		}
		if (i < n) {
			if (i == 0)
				return -err;
			errno = err;
		}
		return (int)i;
	}
	/* No parent, no pinned channel: each step as atx_chain() of one would queue it. */
	for (i = 0; i < n; i++) {
		const struct atx_step *st = &steps[i];
		struct atx_session *s = st->sess;
		struct atx_tx *tx = atx__tx_alloc(ctx, sub);
		struct atx_chan *chan;
		bool same = false;
		uint32_t cap;
		int ret = 0;

		if (unlikely(!tx)) {
			err = EAGAIN;
			break;
		}
		if (cb_args)
			tx->cb_arg = cb_args[i];
		if (s && s == ps && step_same_shape(st, pst)) {
			/* Checked with the step before: only its buffers are new. */
			crypto_step_fill(tx, s, st);
			cap = s->cap;
			same = true;
		} else {
			ret = step_fill(ctx, &tx->op, st, &cap, &s, false);
			if (ret == 0 && s) {
				ps = s;
				pst = st;
			}
		}
		if (likely(ret == 0)) {
			chan = atx__chan_pick_cached(ctx, cap, s ? s->eng : NULL);
			if (unlikely(!chan))
				ret = -EOPNOTSUPP;
		}
		if (unlikely(ret < 0)) {
			atx__tx_abort(ctx, tx);
			err = -ret;
			break;
		}
		step_hold(ctx, tx, s);
		tx->chan = chan;
		ctx->outstanding++;
		if (txs)
			txs[i] = atx__handle(tx);
		/*
		 * Runs of the same session and shape on one channel go to an
		 * engine with submit_burst in one call: the first of a run
		 * passed step_fill, the rest step_same_shape against it.
		 */
		if (same && chan == rchan && nrun < BURST_RUN) {
			run[nrun++] = tx;
			continue;
		}
		if (nrun)
			burst_run(ctx, rchan, run, nrun);
		nrun = 0;
		rchan = NULL;
		if (s && chan->eng->ops->submit_burst && (chan->flags & ATX_CHAN_F_INLINE) && !chan->exec &&
		    (st->op == ATX_STEP_CIPHER || st->op == ATX_STEP_DIGEST) && !tx->op.fence) {
			run[nrun++] = tx;
			rchan = chan;
		} else {
			atx__chan_ready(ctx, chan, tx);
		}
	}
	if (nrun)
		burst_run(ctx, rchan, run, nrun);
	if (i < n) {
		if (i == 0)
			return -err;
		errno = err;
	}
	return (int)i;
}
