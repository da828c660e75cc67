/* SPDX-License-Identifier: MIT */
/*
 * request.c - atx-vcryptod's reading of control and data requests.
 *
 * vring.c hands over a chain gathered into readable and writable segments.
 * The readable part is copied into one buffer first: the frontend can keep
 * writing shared memory while we work, so every length is checked against
 * our private copy, never re-read.  Results are built in a private buffer
 * and scattered into the writable part: dst_data from its first byte,
 * hash_result after it, the status in its LAST byte (virtio_crypto_inhdr).
 * used.len reports the whole writable part when a status was written.
 *
 * Variable-length layouts: engines/virtio_crypto/virtio_crypto_proto.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "vcryptod.h"

#define VC_IN_CAP	(sizeof(struct virtio_crypto_op_data_req) + VC_MAX_IV + VC_MAX_AAD + \
			 VC_MAX_DATA + VC_MAX_AUTH_KEY + VC_MAX_CIPHER_KEY)
#define VC_OUT_CAP	(VC_MAX_DATA + VC_MAX_DIGEST + 16)

int vc_worker_init(struct vc_worker *w, unsigned qindex)
{
	memset(w, 0, sizeof(*w));
	w->qindex = qindex;
	w->rand_state = (unsigned)getpid() * 2654435761u + qindex;
	w->cctx = EVP_CIPHER_CTX_new();
	w->mdctx = EVP_MD_CTX_new();
	w->in_cap = VC_IN_CAP;
	w->out_cap = VC_OUT_CAP;
	/* calloc of large blocks is mmap'ed: untouched pages cost nothing */
	w->in = malloc(w->in_cap);
	w->out = malloc(w->out_cap);
	w->rseg = calloc(VC_MAX_SEGS, sizeof(*w->rseg));
	w->wseg = calloc(VC_MAX_SEGS, sizeof(*w->wseg));
	if (!w->cctx || !w->mdctx || !w->in || !w->out || !w->rseg || !w->wseg) {
		vc_worker_fini(w);
		return -ENOMEM;
	}
	return 0;
}

void vc_worker_fini(struct vc_worker *w)
{
	EVP_CIPHER_CTX_free(w->cctx);
	EVP_MD_CTX_free(w->mdctx);
	EVP_MAC_CTX_free(w->macctx);
	if (w->in)
		OPENSSL_cleanse(w->in, w->in_cap);
	if (w->out)
		OPENSSL_cleanse(w->out, w->out_cap);
	free(w->in);
	free(w->out);
	free(w->rseg);
	free(w->wseg);
	memset(w, 0, sizeof(*w));
}

/* Copy the whole readable part into w->in; false if it does not fit. */
static bool linearize_in(struct vc_worker *w)
{
	size_t off = 0;

	if (w->rlen > w->in_cap)
		return false;
	for (unsigned i = 0; i < w->nr; i++) {
		if (w->rseg[i].len)
			memcpy(w->in + off, w->rseg[i].p, w->rseg[i].len);
		off += w->rseg[i].len;
	}
	return true;
}

/*
 * Readable bytes [off, off + len) of the request: a pointer straight into
 * guest memory when they lie in one segment (the common case: no copy),
 * else gathered into w->in at the same offset.  The caller has checked
 * off + len <= w->rlen.  Data read in place may change under us; only the
 * guest's own result can suffer, since no length or index is taken from it.
 */
static const uint8_t *in_ptr(struct vc_worker *w, uint64_t off, uint64_t len)
{
	uint64_t pos = 0, done = 0;
	unsigned i;

	if (len == 0)
		return w->in;
	for (i = 0; i < w->nr; pos += w->rseg[i].len, i++) {
		if (off < pos + w->rseg[i].len) {
			uint64_t delta = off - pos;

			if (len <= w->rseg[i].len - delta)
				return w->rseg[i].p + delta;
			break;
		}
	}
	if (off > w->in_cap || len > w->in_cap - off)
		return NULL;
	for (; i < w->nr && done < len; pos += w->rseg[i].len, i++) {
		uint64_t delta = off + done - pos;
		uint64_t k = w->rseg[i].len - delta;

		if (k > len - done)
			k = len - done;
		memcpy(w->in + off + done, w->rseg[i].p + delta, k);
		done += k;
	}
	return w->in + off;
}

/*
 * Where to put writable bytes [off, off + len): straight into guest memory
 * when they lie in one segment, else into w->out at the same offset, to be
 * scattered by out_flush().
 */
static uint8_t *out_ptr(struct vc_worker *w, uint64_t off, uint64_t len, bool *direct)
{
	uint64_t pos = 0;

	*direct = true;
	if (len == 0)
		return w->out;
	for (unsigned i = 0; i < w->nw; pos += w->wseg[i].len, i++) {
		if (off < pos + w->wseg[i].len) {
			uint64_t delta = off - pos;

			if (len <= w->wseg[i].len - delta)
				return w->wseg[i].p + delta;
			break;
		}
	}
	*direct = false;
	if (off > w->out_cap || len > w->out_cap - off)
		return NULL;
	return w->out + off;
}

static void out_flush(struct vc_worker *w, uint64_t off, uint64_t len, bool direct)
{
	uint64_t pos = 0, done = 0;

	if (direct)
		return;
	for (unsigned i = 0; i < w->nw && done < len; pos += w->wseg[i].len, i++) {
		if (off + done >= pos + w->wseg[i].len)
			continue;
		uint64_t delta = off + done - pos;
		uint64_t k = w->wseg[i].len - delta;

		if (k > len - done)
			k = len - done;
		memcpy(w->wseg[i].p + delta, w->out + off + done, k);
		done += k;
	}
}

/* The last writable byte, or NULL if there is none we may write. */
static uint8_t *status_byte(struct vc_worker *w)
{
	for (unsigned i = w->nw; i-- > 0;) {
		if (!w->wseg[i].len)
			continue;
		return w->wseg[i].p ? w->wseg[i].p + w->wseg[i].len - 1 : NULL;
	}
	return NULL;
}

static uint32_t used_len(const struct vc_worker *w)
{
	return w->wlen > UINT32_MAX ? UINT32_MAX : (uint32_t)w->wlen;
}

/* ---- data requests ---- */

/* Fits: off + n <= lim, without wrapping (all operands < 2^33). */
static bool fits(uint64_t off, uint64_t n, uint64_t lim)
{
	return off <= lim && n <= lim - off;
}

static int data_cipher(struct vc_worker *w, const struct virtio_crypto_op_data_req *req,
		       const struct vc_session *s, int enc)
{
	const struct virtio_crypto_cipher_para *p = &req->u.sym_req.u.cipher.para;
	uint64_t off = sizeof(*req);
	const uint8_t *iv, *src;
	uint8_t *dst;
	bool direct;
	int st;

	if (vc_session_kind(s) != VC_SESS_CIPHER)
		return VIRTIO_CRYPTO_INVSESS;
	if (p->iv_len > VC_MAX_IV || p->src_data_len > VC_MAX_DATA || p->dst_data_len != p->src_data_len)
		return VIRTIO_CRYPTO_BADMSG;
	if (!fits(off, (uint64_t)p->iv_len + p->src_data_len, w->rlen) ||
	    !fits(0, (uint64_t)p->dst_data_len + 1, w->wlen))
		return VIRTIO_CRYPTO_BADMSG;
	iv = in_ptr(w, off, p->iv_len);
	src = in_ptr(w, off + p->iv_len, p->src_data_len);
	dst = out_ptr(w, 0, p->dst_data_len, &direct);
	if (!iv || !src || !dst)
		return VIRTIO_CRYPTO_BADMSG;
	st = vc_do_cipher(w, s, enc, iv, p->iv_len, src, p->src_data_len, dst);
	if (st == VIRTIO_CRYPTO_OK)
		out_flush(w, 0, p->dst_data_len, direct);
	return st;
}

/*
 * Chaining: dst_data is src_data with [cipher_start, +len_to_cipher)
 * transformed; the hash covers aad || [hash_start, +len_to_hash) of the
 * data as it is at that point in the order: the output for
 * CIPHER_THEN_HASH (encrypt-then-MAC), the input for HASH_THEN_CIPHER.
 */
static int data_chain(struct vc_worker *w, const struct virtio_crypto_op_data_req *req,
		      const struct vc_session *s, int enc)
{
	const struct virtio_crypto_alg_chain_data_para *p = &req->u.sym_req.u.chain.para;
	uint64_t off = sizeof(*req);
	const uint8_t *iv, *aad, *src;
	uint8_t *dst, *hash;
	bool ddirect, hdirect, hash_first;
	int st;

	if (vc_session_kind(s) != VC_SESS_CHAIN)
		return VIRTIO_CRYPTO_INVSESS;
	if (p->iv_len > VC_MAX_IV || p->aad_len > VC_MAX_AAD || p->src_data_len > VC_MAX_DATA ||
	    p->dst_data_len != p->src_data_len || p->hash_result_len == 0 ||
	    p->hash_result_len > VC_MAX_DIGEST ||
	    !fits(p->cipher_start_src_offset, p->len_to_cipher, p->src_data_len) ||
	    !fits(p->hash_start_src_offset, p->len_to_hash, p->src_data_len))
		return VIRTIO_CRYPTO_BADMSG;
	if (!fits(off, (uint64_t)p->iv_len + p->aad_len + p->src_data_len, w->rlen) ||
	    !fits(0, (uint64_t)p->dst_data_len + p->hash_result_len + 1, w->wlen))
		return VIRTIO_CRYPTO_BADMSG;
	iv = in_ptr(w, off, p->iv_len);
	aad = in_ptr(w, off + p->iv_len, p->aad_len);
	src = in_ptr(w, off + p->iv_len + p->aad_len, p->src_data_len);
	dst = out_ptr(w, 0, p->dst_data_len, &ddirect);
	hash = out_ptr(w, p->dst_data_len, p->hash_result_len, &hdirect);
	if (!iv || !aad || !src || !dst || !hash)
		return VIRTIO_CRYPTO_BADMSG;
	/* hash the input before dst is written: src and dst may be one buffer */
	hash_first = vc_session_chain_order(s) == VIRTIO_CRYPTO_SYM_ALG_CHAIN_ORDER_HASH_THEN_CIPHER;
	if (hash_first) {
		st = vc_do_digest(w, s, aad, p->aad_len, src + p->hash_start_src_offset, p->len_to_hash,
				  hash, p->hash_result_len);
		if (st != VIRTIO_CRYPTO_OK)
			return st;
	}
	memmove(dst, src, p->src_data_len);
	st = vc_do_cipher(w, s, enc, iv, p->iv_len, dst + p->cipher_start_src_offset,
			  p->len_to_cipher, dst + p->cipher_start_src_offset);
	if (st != VIRTIO_CRYPTO_OK)
		return st;
	if (!hash_first) {
		st = vc_do_digest(w, s, aad, p->aad_len, dst + p->hash_start_src_offset, p->len_to_hash,
				  hash, p->hash_result_len);
		if (st != VIRTIO_CRYPTO_OK)
			return st;
	}
	out_flush(w, 0, p->dst_data_len, ddirect);
	out_flush(w, p->dst_data_len, p->hash_result_len, hdirect);
	return VIRTIO_CRYPTO_OK;
}

static int data_digest(struct vc_worker *w, const struct virtio_crypto_op_data_req *req,
		       const struct vc_session *s, enum vc_sess_kind kind)
{
	/* hash_req and mac_req share the layout of struct virtio_crypto_hash_para */
	const struct virtio_crypto_hash_para *p = &req->u.hash_req.para;
	uint64_t off = sizeof(*req);
	const uint8_t *src;
	uint8_t *out;
	bool direct;
	int st;

	if (vc_session_kind(s) != kind)
		return VIRTIO_CRYPTO_INVSESS;
	if (p->src_data_len > VC_MAX_DATA || p->hash_result_len == 0 || p->hash_result_len > VC_MAX_DIGEST)
		return VIRTIO_CRYPTO_BADMSG;
	if (!fits(off, p->src_data_len, w->rlen) || !fits(0, (uint64_t)p->hash_result_len + 1, w->wlen))
		return VIRTIO_CRYPTO_BADMSG;
	src = in_ptr(w, off, p->src_data_len);
	out = out_ptr(w, 0, p->hash_result_len, &direct);
	if (!src || !out)
		return VIRTIO_CRYPTO_BADMSG;
	st = vc_do_digest(w, s, NULL, 0, src, p->src_data_len, out, p->hash_result_len);
	if (st == VIRTIO_CRYPTO_OK)
		out_flush(w, 0, p->hash_result_len, direct);
	return st;
}

static int data_aead(struct vc_worker *w, const struct virtio_crypto_op_data_req *req,
		     const struct vc_session *s, int enc)
{
	const struct virtio_crypto_aead_para *p = &req->u.aead_req.para;
	uint64_t off = sizeof(*req);
	const uint8_t *iv, *aad, *src;
	uint8_t *dst;
	bool direct;
	int st;

	if (vc_session_kind(s) != VC_SESS_AEAD)
		return VIRTIO_CRYPTO_INVSESS;
	if (p->iv_len > VC_MAX_IV || p->aad_len > VC_MAX_AAD || p->src_data_len > VC_MAX_DATA + VC_MAX_DIGEST ||
	    p->dst_data_len > VC_MAX_DATA + VC_MAX_DIGEST)
		return VIRTIO_CRYPTO_BADMSG;
	if (!fits(off, (uint64_t)p->iv_len + p->aad_len + p->src_data_len, w->rlen) ||
	    !fits(0, (uint64_t)p->dst_data_len + 1, w->wlen))
		return VIRTIO_CRYPTO_BADMSG;
	iv = in_ptr(w, off, p->iv_len);
	aad = in_ptr(w, off + p->iv_len, p->aad_len);
	src = in_ptr(w, off + p->iv_len + p->aad_len, p->src_data_len);
	dst = out_ptr(w, 0, p->dst_data_len, &direct);
	if (!iv || !aad || !src || !dst)
		return VIRTIO_CRYPTO_BADMSG;
	st = vc_do_aead(w, s, enc, iv, p->iv_len, aad, p->aad_len, src, p->src_data_len,
			dst, p->dst_data_len);
	if (st == VIRTIO_CRYPTO_OK)
		out_flush(w, 0, p->dst_data_len, direct);
	return st;
}

static int data_dispatch(struct vc_worker *w)
{
	struct virtio_crypto_op_data_req req;
	const struct vc_session *s;
	int st;

	const uint8_t *h;

	if (w->rlen < sizeof(req) || !(h = in_ptr(w, 0, sizeof(req))))
		return VIRTIO_CRYPTO_BADMSG;
	/* our own copy: the guest may rewrite the header while we work.  The
	 * barrier keeps the compiler from re-reading guest memory in place of
	 * the copy after the checks. */
	memcpy(&req, h, sizeof(req));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);

	switch (req.header.opcode) {
	case VIRTIO_CRYPTO_CIPHER_ENCRYPT:
	case VIRTIO_CRYPTO_CIPHER_DECRYPT:
	case VIRTIO_CRYPTO_HASH:
	case VIRTIO_CRYPTO_MAC:
	case VIRTIO_CRYPTO_AEAD_ENCRYPT:
	case VIRTIO_CRYPTO_AEAD_DECRYPT:
		break;
	default:
		return VIRTIO_CRYPTO_NOTSUPP;
	}

	s = vc_session_get(req.header.session_id);
	if (!s) {
		st = VIRTIO_CRYPTO_INVSESS;
		goto out_put;
	}
	switch (req.header.opcode) {
	case VIRTIO_CRYPTO_CIPHER_ENCRYPT:
	case VIRTIO_CRYPTO_CIPHER_DECRYPT: {
		/* the opcode, not the session, gives the direction: the key
		 * serves both and Linux-style drivers keep them consistent */
		int enc = req.header.opcode == VIRTIO_CRYPTO_CIPHER_ENCRYPT;

		if (req.u.sym_req.op_type == VIRTIO_CRYPTO_SYM_OP_CIPHER)
			st = data_cipher(w, &req, s, enc);
		else if (req.u.sym_req.op_type == VIRTIO_CRYPTO_SYM_OP_ALGORITHM_CHAINING)
			st = data_chain(w, &req, s, enc);
		else
			st = VIRTIO_CRYPTO_BADMSG;
		break;
	}
	case VIRTIO_CRYPTO_HASH:
		st = data_digest(w, &req, s, VC_SESS_HASH);
		break;
	case VIRTIO_CRYPTO_MAC:
		st = data_digest(w, &req, s, VC_SESS_MAC);
		break;
	default:
		st = data_aead(w, &req, s, req.header.opcode == VIRTIO_CRYPTO_AEAD_ENCRYPT);
		break;
	}
out_put:
	vc_session_put();
	return st;
}

uint32_t vc_handle_data(struct vc_dev *dev, struct vc_worker *w, bool chain_ok)
{
	uint8_t *status = status_byte(w);
	int st;

	if (!status) {
		vc_dbg("queue %u: request without a writable status byte; completed with len 0",
		       w->qindex);
		return 0;
	}
	if (!chain_ok) {
		vc_dbg("queue %u: descriptor outside guest memory or out of order: BADMSG", w->qindex);
		*status = VIRTIO_CRYPTO_BADMSG;
		return used_len(w);
	}
	if (vc_opts.delay_us)
		usleep(vc_opts.delay_us);
	if (vc_opts.fail_rate > 0 &&
	    (double)rand_r(&w->rand_state) / ((double)RAND_MAX + 1.0) < vc_opts.fail_rate) {
		st = VIRTIO_CRYPTO_ERR;
	} else {
		st = data_dispatch(w);
		if (vc_opts.force_status >= 0)
			st = vc_opts.force_status;
	}
	if (st != VIRTIO_CRYPTO_OK)
		vc_dbg("queue %u: request completed with status %d", w->qindex, st);
	/* the status goes last: it is what the driver polls on */
	__atomic_store_n(status, (uint8_t)st, __ATOMIC_RELEASE);
	return used_len(w);
}

/* ---- control requests ---- */

static int ctrl_create(struct vc_worker *w, const struct virtio_crypto_op_ctrl_req *req, uint64_t *id)
{
	struct vc_sess_params sp;
	const uint8_t *vlf = w->in + sizeof(*req);
	uint64_t vlen = w->rlen - sizeof(*req);
	int st;

	memset(&sp, 0, sizeof(sp));
	switch (req->header.opcode) {
	case VIRTIO_CRYPTO_CIPHER_CREATE_SESSION: {
		const struct virtio_crypto_sym_create_session_req *r = &req->u.sym_create_session;

		if (r->op_type == VIRTIO_CRYPTO_SYM_OP_CIPHER) {
			const struct virtio_crypto_cipher_session_para *c = &r->u.cipher.para;

			sp.kind = VC_SESS_CIPHER;
			sp.cipher_algo = c->algo;
			sp.cipher_keylen = c->keylen;
			sp.cipher_op = c->op;
		} else if (r->op_type == VIRTIO_CRYPTO_SYM_OP_ALGORITHM_CHAINING) {
			const struct virtio_crypto_alg_chain_session_para *c = &r->u.chain.para;

			sp.kind = VC_SESS_CHAIN;
			sp.chain_order = c->alg_chain_order;
			sp.hash_mode = c->hash_mode;
			sp.cipher_algo = c->cipher_param.algo;
			sp.cipher_keylen = c->cipher_param.keylen;
			sp.cipher_op = c->cipher_param.op;
			sp.aad_len = c->aad_len;
			if (c->hash_mode == VIRTIO_CRYPTO_SYM_HASH_MODE_AUTH) {
				sp.mac_algo = c->u.mac_param.algo;
				sp.digest_len = c->u.mac_param.hash_result_len;
				sp.auth_keylen = c->u.mac_param.auth_key_len;
			} else {
				sp.hash_algo = c->u.hash_param.algo;
				sp.digest_len = c->u.hash_param.hash_result_len;
			}
		} else {
			return VIRTIO_CRYPTO_NOTSUPP;
		}
		break;
	}
	case VIRTIO_CRYPTO_HASH_CREATE_SESSION:
		sp.kind = VC_SESS_HASH;
		sp.hash_algo = req->u.hash_create_session.para.algo;
		sp.digest_len = req->u.hash_create_session.para.hash_result_len;
		break;
	case VIRTIO_CRYPTO_MAC_CREATE_SESSION:
		sp.kind = VC_SESS_MAC;
		sp.mac_algo = req->u.mac_create_session.para.algo;
		sp.digest_len = req->u.mac_create_session.para.hash_result_len;
		sp.auth_keylen = req->u.mac_create_session.para.auth_key_len;
		break;
	case VIRTIO_CRYPTO_AEAD_CREATE_SESSION: {
		const struct virtio_crypto_aead_session_para *a = &req->u.aead_create_session.para;

		sp.kind = VC_SESS_AEAD;
		sp.aead_algo = a->algo;
		sp.cipher_keylen = a->key_len;
		sp.digest_len = a->hash_result_len;
		sp.aad_len = a->aad_len;
		sp.cipher_op = a->op;
		break;
	}
	default:
		return VIRTIO_CRYPTO_NOTSUPP;
	}
	if (sp.cipher_keylen > VC_MAX_CIPHER_KEY || sp.auth_keylen > VC_MAX_AUTH_KEY ||
	    (uint64_t)sp.cipher_keylen + sp.auth_keylen > vlen)
		return VIRTIO_CRYPTO_BADMSG;
	/* vlf: cipher key (or the AEAD key) first, then the auth key */
	sp.cipher_key = vlf;
	sp.auth_key = vlf + sp.cipher_keylen;
	st = vc_session_create(&sp, id);
	vc_dbg("control: create session kind %d -> status %d id %llu", (int)sp.kind, st,
	       (unsigned long long)(st == VIRTIO_CRYPTO_OK ? *id : 0));
	return st;
}

uint32_t vc_handle_ctrl(struct vc_dev *dev, struct vc_worker *w, bool chain_ok)
{
	struct virtio_crypto_op_ctrl_req req;
	struct virtio_crypto_session_input in;
	bool destroy = false;
	int st;

	memset(&in, 0, sizeof(in));
	if (!chain_ok || w->rlen < sizeof(req) || !linearize_in(w)) {
		st = VIRTIO_CRYPTO_BADMSG;
		goto reply;
	}
	memcpy(&req, w->in, sizeof(req));
	switch (req.header.opcode) {
	case VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION:
	case VIRTIO_CRYPTO_HASH_DESTROY_SESSION:
	case VIRTIO_CRYPTO_MAC_DESTROY_SESSION:
	case VIRTIO_CRYPTO_AEAD_DESTROY_SESSION:
		destroy = true;
		st = vc_session_destroy(req.u.destroy_session.session_id);
		vc_dbg("control: destroy session %llu -> status %d",
		       (unsigned long long)req.u.destroy_session.session_id, st);
		break;
	default:
		st = ctrl_create(w, &req, &in.session_id);
		break;
	}
reply:
	/* destroy answers with one status byte, create with session_input;
	 * when the request was unreadable, answer in whichever shape fits */
	if (w->nw == 0 || !w->wseg[0].p) {
		vc_dbg("control: nowhere to write the answer; completed with len 0");
		if (!destroy && st == VIRTIO_CRYPTO_OK)
			vc_session_destroy(in.session_id);	/* nobody learns its id */
		return 0;
	}
	if (!destroy && w->wseg[0].len >= sizeof(in)) {
		in.status = (uint32_t)st;
		if (st != VIRTIO_CRYPTO_OK)
			in.session_id = 0;
		memcpy(w->wseg[0].p, &in, sizeof(in));
		return sizeof(in);
	}
	if (!destroy && st == VIRTIO_CRYPTO_OK) {
		vc_session_destroy(in.session_id);
		st = VIRTIO_CRYPTO_BADMSG;
	}
	w->wseg[0].p[0] = (uint8_t)st;
	return 1;
}
