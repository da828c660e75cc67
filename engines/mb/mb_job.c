/* SPDX-License-Identifier: MIT */
/*
 * mb_job.c - one descriptor <-> one IMB_JOB.
 *
 * The manager takes flat buffers, so scatter-gather requests go through
 * the slot's bounce buffer.  So does every output that must not reach
 * the caller before a tag was checked (AEAD decrypt, verify-then-decrypt
 * chains): the atx contract leaves dst untouched on -EBADMSG.  Tags are
 * always computed into the slot and copied or compared afterwards, which
 * also gives truncated MACs for free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "mb.h"

/* The library rejects longer CCM AAD (it builds B0 + AAD in two blocks). */
#define MB_CCM_MAX_AAD 46

static int slot_bounce(struct mb_slot *slot, size_t need)
{
	size_t cap;
	uint8_t *b;

	if (need <= slot->bounce_cap && slot->bounce)
		return 0;
	/*
	 * Grow in 4 KiB steps and keep it: steady state does not allocate.
	 * Never leave it NULL, even for 0 bytes: the library's checks on
	 * NULL buffers differ per mode, so it never gets one.
	 */
	cap = need ? (need + 4095) & ~(size_t)4095 : 4096;
	b = aligned_alloc(64, cap);
	if (!b)
		return -ENOMEM;
	if (slot->bounce) {
		/* It may hold a previous request's plaintext. */
		imb_clear_mem(slot->bounce, slot->bounce_cap);
		free(slot->bounce);
	}
	slot->bounce = b;
	slot->bounce_cap = cap;
	return 0;
}

void mb_slot_fini(struct mb_slot *slot)
{
	if (slot->bounce) {
		imb_clear_mem(slot->bounce, slot->bounce_cap);
		free(slot->bounce);
	}
	slot->bounce = NULL;
	slot->bounce_cap = 0;
}

static void gather(uint8_t *to, const struct iovec *iov, unsigned cnt, size_t len)
{
	unsigned i;

	for (i = 0; i < cnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(to, iov[i].iov_base, n);
		to += n;
		len -= n;
	}
}

static void scatter(const struct iovec *iov, unsigned cnt, const uint8_t *from, size_t len)
{
	unsigned i;

	for (i = 0; i < cnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(iov[i].iov_base, from, n);
		from += n;
		len -= n;
	}
}

/* The list the result goes to: dst, or src when in place. */
static void out_list(const struct atx_op *op, const struct iovec **iov, unsigned *cnt)
{
	if (op->u.crypto.dst && op->u.crypto.dst_cnt) {
		*iov = op->u.crypto.dst;
		*cnt = op->u.crypto.dst_cnt;
	} else {
		*iov = op->u.crypto.src;
		*cnt = op->u.crypto.src_cnt;
	}
}

/*
 * Where the job reads and writes.  @pre bytes of AAD go in front of the
 * payload when set (chains MAC aad || ciphertext in one pass), which
 * forces the bounce.  @hold keeps the output in the bounce until the tag
 * was checked.
 */
static int place_data(struct mb_slot *slot, const struct atx_op *op, size_t pre, bool hold,
		      const uint8_t **in, uint8_t **out)
{
	const struct iovec *oiov;
	unsigned ocnt;
	size_t len = op->len;
	bool in_flat = op->u.crypto.src_cnt == 1;
	bool out_flat;
	int ret;

	out_list(op, &oiov, &ocnt);
	out_flat = ocnt == 1;

	if (!pre && in_flat && out_flat && !hold) {
		*in = op->u.crypto.src[0].iov_base;
		*out = oiov[0].iov_base;
		return 0;
	}
	ret = slot_bounce(slot, pre + len);
	if (ret)
		return ret;
	slot->out_off = pre;
	slot->copy_out = true;
	if (pre)
		memcpy(slot->bounce, op->u.crypto.aad, pre);
	if (!pre && in_flat) {
		/* Read the caller's buffer, write the bounce. */
		*in = op->u.crypto.src[0].iov_base;
		*out = slot->bounce;
		return 0;
	}
	/* Gather, then work in place inside the bounce. */
	gather(slot->bounce + pre, op->u.crypto.src, op->u.crypto.src_cnt, len);
	*in = slot->bounce;
	*out = slot->bounce + pre;
	return 0;
}

/*
 * The library's AES-CTR increments only the low 32 bits of the counter
 * block; atx (like OpenSSL and SP 800-38A's usual choice) carries into
 * the whole 128-bit block.  They differ only when the low word wraps
 * inside one message, which is rare enough to hand to OpenSSL.
 */
static bool ctr_wraps(const struct mb_sess *ms, const struct atx_op *op)
{
	const uint8_t *iv = op->u.crypto.iv;
	uint64_t c;

	if (ms->cipher_mode != IMB_CIPHER_CNTR)
		return false;
	c = (uint64_t)iv[12] << 24 | (uint64_t)iv[13] << 16 | (uint64_t)iv[14] << 8 | iv[15];
	return c + (op->len + 15) / 16 > (UINT64_C(1) << 32);
}

static int ctr_soft(const struct mb_sess *ms, const uint8_t *iv, const uint8_t *in, uint8_t *out,
		    size_t len)
{
	const EVP_CIPHER *c = ms->key_len == 16 ? EVP_aes_128_ctr() :
			      ms->key_len == 24 ? EVP_aes_192_ctr() : EVP_aes_256_ctr();
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int ok, n;

	if (!x)
		return -ENOMEM;
	ok = EVP_EncryptInit_ex(x, c, NULL, ms->raw_key, iv);
	while (ok && len) {
		size_t chunk = len < (1u << 30) ? len : (1u << 30);

		ok = EVP_EncryptUpdate(x, out, &n, in, (int)chunk);
		in += chunk;
		out += chunk;
		len -= chunk;
	}
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -EIO;
}

/* HMAC of aad alone (empty payload): the library refuses empty messages. */
static int hmac_soft(const struct mb_sess *ms, const struct atx_op *op, uint8_t *tag)
{
	size_t n = 0;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, ms->hmac_md, NULL, ms->hmac_key, ms->hmac_key_len,
		       op->u.crypto.aad_len ? op->u.crypto.aad : (const void *)"",
		       op->u.crypto.aad_len, tag, 64, &n))
		return -EIO;
	return 0;
}

/*
 * CCM with more AAD than the library takes.  Decrypting, OpenSSL checks
 * the tag itself; on success the expected tag is put where the job's
 * would be, so mb_job_finish's comparison passes and releases the output.
 */
static int ccm_soft(const struct mb_sess *ms, const struct atx_op *op, const uint8_t *in,
		    uint8_t *out, uint8_t *tag)
{
	const EVP_CIPHER *c = ms->key_len == 16 ? EVP_aes_128_ccm() : EVP_aes_256_ccm();
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int enc = !ms->verify, n, ret = -EIO;

	if (!x)
		return -ENOMEM;
	if (op->len > INT32_MAX || op->u.crypto.aad_len > INT32_MAX)
		goto out_free;
	if (!EVP_CipherInit_ex(x, c, NULL, NULL, NULL, enc) ||
	    !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, op->iv_len, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, (int)ms->tag_len,
				 enc ? NULL : op->u.crypto.digest) ||
	    !EVP_CipherInit_ex(x, NULL, NULL, ms->raw_key, op->u.crypto.iv, enc) ||
	    !EVP_CipherUpdate(x, NULL, &n, NULL, (int)op->len) ||
	    !EVP_CipherUpdate(x, NULL, &n, op->u.crypto.aad, (int)op->u.crypto.aad_len))
		goto out_free;
	if (!EVP_CipherUpdate(x, out, &n, in, (int)op->len)) {
		ret = enc ? -EIO : -EBADMSG;
		goto out_free;
	}
	if (enc) {
		if (!EVP_CipherFinal_ex(x, out + n, &n) ||
		    !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, (int)ms->tag_len, tag))
			goto out_free;
	} else {
		memcpy(tag, op->u.crypto.digest, ms->tag_len);
	}
	ret = 0;
out_free:
	EVP_CIPHER_CTX_free(x);
	return ret;
}

static void slot_commit(struct mb_slot *slot, const struct atx_op *op)
{
	const struct iovec *iov;
	unsigned cnt;

	out_list(op, &iov, &cnt);
	scatter(iov, cnt, slot->bounce + slot->out_off, op->len);
	slot->copy_out = false;
}

int mb_job_prep(IMB_JOB *job, struct mb_slot *slot, struct atx_op *op)
{
	const struct mb_sess *ms = op->u.crypto.sess_priv;
	const uint8_t *in = NULL;
	uint8_t *out = NULL;
	size_t len = op->len, aad_len = op->u.crypto.aad_len;
	size_t coff = 0, hoff = 0, hlen = len;
	bool soft_ctr = ctr_wraps(ms, op);
	int ret;

	slot->copy_out = false;
	slot->out_off = 0;
	slot->ctr_in = NULL;
	slot->ctr_out = NULL;

	switch (ms->kind) {
	case MB_KIND_CIPHER:
		/* Nothing to transform; the library refuses empty messages anyway. */
		if (!len)
			return 1;
		ret = place_data(slot, op, 0, false, &in, &out);
		if (ret || !soft_ctr)
			break;
		ret = ctr_soft(ms, op->u.crypto.iv, in, out, len);
		if (!ret && slot->copy_out)
			slot_commit(slot, op);
		return ret ? ret : 1;
	case MB_KIND_MAC:
		if (!len && ms->hmac_md) {
			ret = hmac_soft(ms, op, slot->tag);
			return ret ? ret : 1;
		}
		if (op->u.crypto.src_cnt == 1) {
			in = op->u.crypto.src[0].iov_base;
		} else {
			ret = slot_bounce(slot, len);
			if (ret)
				return ret;
			gather(slot->bounce, op->u.crypto.src, op->u.crypto.src_cnt, len);
			in = slot->bounce;
		}
		ret = 0;
		break;
	case MB_KIND_AEAD:
		ret = place_data(slot, op, 0, ms->verify, &in, &out);
		if (ret || ms->cipher_mode != IMB_CIPHER_CCM || aad_len <= MB_CCM_MAX_AAD)
			break;
		ret = ccm_soft(ms, op, in, out, slot->tag);
		if (ret && slot->copy_out)
			imb_clear_mem(slot->bounce, len);
		return ret ? ret : 1;
	case MB_KIND_CHAIN:
		if (!len) {
			/* Nothing to cipher: the tag is the MAC of the AAD. */
			ret = hmac_soft(ms, op, slot->tag);
			return ret ? ret : 1;
		}
		if (aad_len) {
			/* One flat aad || data buffer: the MAC runs over both. */
			ret = place_data(slot, op, aad_len, ms->verify, &in, &out);
			coff = aad_len;
			hlen = aad_len + len;
		} else {
			ret = place_data(slot, op, 0, ms->verify, &in, &out);
		}
		if (ret)
			break;
		if (soft_ctr && ms->verify) {
			/* The job only MACs; decrypt once the MAC matched. */
			slot->ctr_in = in + coff;
			slot->ctr_out = out;
			break;
		}
		if (soft_ctr) {
			ret = ctr_soft(ms, op->u.crypto.iv, in + coff, out, len);
			in = out - coff;
			break;
		}
		/*
		 * Encrypt-then-MAC reads the MAC input at src: run in place
		 * on the output so the MAC covers the ciphertext.
		 */
		if (!ms->verify && in + coff != out) {
			memcpy(out, in, len);
			in = out;
		}
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;

	/* The session's constant fields, then what this request brings. */
	*job = ms->tmpl;
	if (soft_ctr)
		job->cipher_mode = IMB_CIPHER_NULL;
	job->src = in;
	job->dst = out;
	job->cipher_start_src_offset_in_bytes = coff;
	job->msg_len_to_cipher_in_bytes = ms->kind == MB_KIND_MAC ? 0 : len;
	job->hash_start_src_offset_in_bytes = hoff;
	job->msg_len_to_hash_in_bytes = ms->kind == MB_KIND_CIPHER ? 0 : hlen;
	job->iv = op->u.crypto.iv;
	job->iv_len_in_bytes = op->iv_len;
	if (ms->job_tag_len)
		job->auth_tag_output = slot->tag;

	switch (ms->hash_alg) {
	case IMB_AUTH_AES_GMAC:
		job->u.GCM.aad = op->u.crypto.aad;
		job->u.GCM.aad_len_in_bytes = aad_len;
		break;
	case IMB_AUTH_AES_CCM:
		job->u.CCM.aad = op->u.crypto.aad;
		job->u.CCM.aad_len_in_bytes = aad_len;
		break;
	case IMB_AUTH_CHACHA20_POLY1305:
		job->u.CHACHA20_POLY1305.aad = op->u.crypto.aad;
		job->u.CHACHA20_POLY1305.aad_len_in_bytes = aad_len;
		break;
	default:
		break;
	}
	return 0;
}

bool mb_burst_prep(IMB_JOB *job, uint8_t *tag, const struct atx_op *op, bool have_tmpl)
{
	const struct mb_sess *ms = op->u.crypto.sess_priv;
	const struct iovec *oiov;
	const uint8_t *in;
	uint8_t *out;
	unsigned ocnt;
	size_t len = op->len;

	/*
	 * A burst the library refuses fails as a whole (mb.c), so what its
	 * checks would refuse stays on the job path: empty or too long
	 * payloads, missing buffers, an IV other than one block; so do CTR
	 * counters that wrap (ctr_wraps) and anything needing the bounce.
	 */
	if (op->u.crypto.src_cnt != 1 || !len || (ms->max_len && len > ms->max_len))
		return false;
	in = op->u.crypto.src[0].iov_base;
	if (!in)
		return false;
	/* 200 bytes: a third of this function's instructions when copied every time. */
	if (have_tmpl)
		job->status = IMB_STATUS_BEING_PROCESSED;
	else
		*job = ms->tmpl;
	job->src = in;
	if (ms->burst == MB_BURST_HASH) {
		job->msg_len_to_hash_in_bytes = len;
		job->auth_tag_output = tag;
		return true;
	}
	out_list(op, &oiov, &ocnt);
	out = oiov[0].iov_base;
	if (ocnt != 1 || !out || op->iv_len != 16 || ctr_wraps(ms, op))
		return false;
	job->dst = out;
	job->msg_len_to_cipher_in_bytes = len;
	job->iv = op->u.crypto.iv;
	job->iv_len_in_bytes = 16;
	return true;
}

bool mb_long_cbc(const struct atx_op *op, const uint8_t **in, uint8_t **out)
{
	const struct mb_sess *ms = op->u.crypto.sess_priv;
	const struct iovec *oiov;
	unsigned ocnt;

	if (ms->burst != MB_BURST_CIPHER || ms->cipher_mode != IMB_CIPHER_CBC ||
	    ms->dir != IMB_DIR_ENCRYPT || !ms->max_len || op->len <= ms->max_len ||
	    op->len % 16 || op->iv_len != 16 || op->u.crypto.src_cnt != 1)
		return false;
	out_list(op, &oiov, &ocnt);
	*in = op->u.crypto.src[0].iov_base;
	*out = oiov[0].iov_base;
	return ocnt == 1 && *in && *out;
}

bool mb_gcm_direct(IMB_MGR *mgr, struct atx_op *op)
{
	const struct mb_sess *ms = op->u.crypto.sess_priv;
	struct gcm_context_data gctx;
	const struct iovec *oiov;
	const uint8_t *in;
	uint8_t *out;
	unsigned ocnt;
	size_t len = op->len;

	/*
	 * These functions check nothing when they succeed and report nothing
	 * per call when they do not, so only what they accept comes here: the
	 * core has checked the lengths and tag size (SP 800-38D limits); IVs
	 * other than 96 bits (GHASHed into J0) and gathers take the job path,
	 * and so does decryption, which holds its output until the tag matched.
	 */
	if (op->u.crypto.src_cnt != 1 || !len || op->iv_len != 12)
		return false;
	out_list(op, &oiov, &ocnt);
	in = op->u.crypto.src[0].iov_base;
	out = oiov[0].iov_base;
	if (ocnt != 1 || !in || !out)
		return false;
	if (ms->key_len == 16)
		IMB_AES128_GCM_ENC(mgr, &ms->gcm, &gctx, out, in, len, op->u.crypto.iv,
				   op->u.crypto.aad, op->u.crypto.aad_len, op->u.crypto.digest,
				   ms->tag_len);
	else if (ms->key_len == 24)
		IMB_AES192_GCM_ENC(mgr, &ms->gcm, &gctx, out, in, len, op->u.crypto.iv,
				   op->u.crypto.aad, op->u.crypto.aad_len, op->u.crypto.digest,
				   ms->tag_len);
	else
		IMB_AES256_GCM_ENC(mgr, &ms->gcm, &gctx, out, in, len, op->u.crypto.iv,
				   op->u.crypto.aad, op->u.crypto.aad_len, op->u.crypto.digest,
				   ms->tag_len);
	return true;
}

int mb_tag_finish(const struct mb_sess *ms, const uint8_t *tag, struct atx_op *op)
{
	if (!ms->verify) {
		memcpy(op->u.crypto.digest, tag, ms->tag_len);
		return 0;
	}
	return CRYPTO_memcmp(tag, op->u.crypto.digest, ms->tag_len) ? -EBADMSG : 0;
}

int mb_job_finish(int st, struct mb_slot *slot, struct atx_op *op)
{
	const struct mb_sess *ms = op->u.crypto.sess_priv;

	if (!st && ms->tag_len)
		st = mb_tag_finish(ms, slot->tag, op);
	if (!st && slot->ctr_out)
		st = ctr_soft(ms, op->u.crypto.iv, slot->ctr_in, slot->ctr_out, op->len);
	if (slot->copy_out) {
		if (!st) {
			slot_commit(slot, op);
		} else if (ms->verify) {
			/* Plaintext that failed authentication must not linger. */
			imb_clear_mem(slot->bounce, slot->out_off + op->len);
		}
		slot->copy_out = false;
	}
	return st;
}
