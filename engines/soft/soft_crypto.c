/* SPDX-License-Identifier: MIT */
/*
 * soft_crypto.c - every virtio-crypto service on OpenSSL EVP; the
 * ciphers' per-request IV re-init and update through the provider's own
 * functions where EVP fetched one we can find (soft_prov.h).
 *
 * A session owns, per lane, contexts that were keyed once at session
 * creation (PERF.md: a fresh EVP context costs 170-700 ns, about a third
 * of a 4 KiB operation), so a request only re-inits the IV / restarts
 * the MAC.  Algorithms are fetched once per session for the same reason.
 * The keys themselves are not kept (the keyed contexts are all a lane
 * needs, and EVP_*_free cleanses their key schedules), except for CCM:
 * OpenSSL bakes the nonce length into the CCM state when the key is set,
 * so a request with a different nonce length must re-key.  That copy is
 * cleansed with the session.
 *
 * Scatter-gather: src and dst lists may be cut differently.  Stream modes
 * (CTR, ChaCha20, GCM, ChaCha20-Poly1305) run on the pieces where a src
 * and a dst segment overlap.  Block modes (ECB, CBC, 3DES) do the same for
 * whole blocks and bounce a block that straddles a segment edge through
 * a 16-byte buffer, so EVP never holds a partial block and every update
 * writes exactly what it read.  XTS (each EVP update is a complete data
 * unit) and CCM (one-shot) need the payload contiguous: a split list is
 * gathered into the lane's scratch buffer.  An XTS session with data
 * units runs one update per unit, re-initing only the tweak in between.
 *
 * AEAD decryption never writes unverified plaintext to the caller:
 * OpenSSL's GCM and ChaCha20-Poly1305 check the tag only at Final, and
 * CCM zeroes its output on a bad tag, so plaintext goes to the lane's
 * scratch buffer and is copied to dst only once the tag matched.  The
 * scratch is wiped after every use because it held plaintext.
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "alg.h"
#include "soft/soft.h"
#include "soft/soft_prov.h"

/* A scratch buffer above this is released after use, so one huge request
 * does not pin its size on the lane for the session's lifetime. */
#define SCRATCH_KEEP (1u << 20)
#define SCRATCH_MIN 4096u
/* EVP lengths are int: feed updates in pieces of at most this (a multiple
 * of every block size). */
#define EVP_CHUNK (1u << 30)

struct soft_lane {
	EVP_CIPHER_CTX *cctx;   /* CIPHER, AEAD, CHAIN: keyed */
	void *pctx;             /* CIPHER, CHAIN: the provider's keyed context, or NULL (soft_prov.h) */
	EVP_MD_CTX *mdctx;      /* HASH, when pdctx is NULL */
	void *pdctx;            /* HASH: the provider's context, or NULL (soft_prov.h) */
	EVP_MAC_CTX *macctx;    /* MAC, CHAIN: keyed, when pmctx is NULL */
	void *pmctx;            /* MAC, CHAIN: the provider's keyed context, or NULL */
	size_t ivlen;           /* AEAD: IV length cctx is set up for (0 = unknown) */
	uint8_t *scratch;       /* AEAD decrypt, XTS/CCM gather; wiped after use */
	size_t scratch_cap;
};

struct soft_sess {
	enum atx_service service;
	enum atx_cipher_alg calg;
	enum atx_aead_alg aalg;
	int enc;                /* 1 encrypt / compute, 0 decrypt / verify */
	size_t bs;              /* block size a cipher update must respect */
	size_t dlen;            /* digest / tag bytes */
	size_t du_len;          /* XTS data unit bytes, 0 = one unit per request */
	uint64_t du_step;       /* tweak advance per data unit */
	EVP_CIPHER *cipher;
	EVP_MD *md;
	EVP_MAC *mac;
	struct soft_prov_cipher pc; /* lanes' pctx: see soft_prov.h */
	struct soft_prov_digest pd; /* lanes' pdctx */
	struct soft_prov_mac pm;    /* lanes' pmctx */
	uint8_t ccm_key[32];    /* CCM only: to re-key on a nonce length change */
	size_t ccm_key_len;
	unsigned nlanes;
	struct soft_lane lane[];
};

/* ---- scatter-gather cursor ---- */

struct sg_cur {
	const struct iovec *iov;
	unsigned cnt;
	unsigned i;
	size_t off;
};

static void cur_init(struct sg_cur *c, const struct iovec *iov, unsigned cnt)
{
	c->iov = iov;
	c->cnt = iov ? cnt : 0;
	c->i = 0;
	c->off = 0;
}

/* Bytes available in the current segment (skipping empty ones); 0 at the end. */
static size_t cur_avail(struct sg_cur *c)
{
	while (c->i < c->cnt && c->off >= c->iov[c->i].iov_len) {
		c->i++;
		c->off = 0;
	}
	return c->i < c->cnt ? c->iov[c->i].iov_len - c->off : 0;
}

static uint8_t *cur_ptr(const struct sg_cur *c)
{
	return (uint8_t *)c->iov[c->i].iov_base + c->off;
}

/* Copy @n bytes out of the list; false if it is shorter. */
static bool cur_gather(struct sg_cur *c, uint8_t *buf, size_t n)
{
	while (n) {
		size_t a = cur_avail(c);

		if (!a)
			return false;
		if (a > n)
			a = n;
		memcpy(buf, cur_ptr(c), a);
		c->off += a;
		buf += a;
		n -= a;
	}
	return true;
}

static bool cur_scatter(struct sg_cur *c, const uint8_t *buf, size_t n)
{
	while (n) {
		size_t a = cur_avail(c);

		if (!a)
			return false;
		if (a > n)
			a = n;
		memcpy(cur_ptr(c), buf, a);
		c->off += a;
		buf += a;
		n -= a;
	}
	return true;
}

/* The first segment, when it alone holds @len bytes (no copy needed). */
static uint8_t *sg_flat(const struct iovec *iov, unsigned cnt, size_t len)
{
	if (iov && cnt >= 1 && iov[0].iov_len >= len)
		return iov[0].iov_base;
	return NULL;
}

static void op_lists(const struct atx_op *op, const struct iovec **dst, unsigned *dst_cnt)
{
	/* No dst list means in place. */
	if (op->u.crypto.dst && op->u.crypto.dst_cnt) {
		*dst = op->u.crypto.dst;
		*dst_cnt = op->u.crypto.dst_cnt;
	} else {
		*dst = op->u.crypto.src;
		*dst_cnt = op->u.crypto.src_cnt;
	}
}

static int lane_scratch(struct soft_lane *l, size_t n, uint8_t **out)
{
	if (!l->scratch || n > l->scratch_cap) {
		size_t cap = n < SCRATCH_MIN ? SCRATCH_MIN : (n + SCRATCH_MIN - 1) & ~(size_t)(SCRATCH_MIN - 1);
		uint8_t *b = malloc(cap);

		if (!b)
			return -ENOMEM;
		/* The old buffer was wiped after its last use. */
		free(l->scratch);
		l->scratch = b;
		l->scratch_cap = cap;
	}
	*out = l->scratch;
	return 0;
}

static void lane_scratch_done(struct soft_lane *l, size_t used)
{
	if (!l->scratch)
		return;
	OPENSSL_cleanse(l->scratch, used < l->scratch_cap ? used : l->scratch_cap);
	if (l->scratch_cap > SCRATCH_KEEP) {
		free(l->scratch);
		l->scratch = NULL;
		l->scratch_cap = 0;
	}
}

/* ---- EVP helpers ---- */

/* An update that must write exactly what it reads (no buffered partial blocks). */
static int evp_update(EVP_CIPHER_CTX *c, uint8_t *out, const uint8_t *in, size_t n)
{
	while (n) {
		int chunk = n > EVP_CHUNK ? (int)EVP_CHUNK : (int)n;
		int outl = 0;

		if (EVP_CipherUpdate(c, out, &outl, in, chunk) != 1 || outl != chunk)
			return -EIO;
		out += chunk;
		in += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

static int evp_aad(EVP_CIPHER_CTX *c, const uint8_t *aad, size_t n)
{
	int outl;

	while (n) {
		int chunk = n > EVP_CHUNK ? (int)EVP_CHUNK : (int)n;

		if (EVP_CipherUpdate(c, NULL, &outl, aad, chunk) != 1)
			return -EIO;
		aad += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

/*
 * Run @len bytes from the @s list to the @d list through @c, piece by
 * piece (see the top of the file).  @bs is 1 for stream modes.
 */
static int cipher_sg(EVP_CIPHER_CTX *c, size_t bs, struct sg_cur *s, struct sg_cur *d,
		     size_t len)
{
	uint8_t in[16], out[16];
	int rc = 0;

	while (len) {
		size_t sa = cur_avail(s), da = cur_avail(d), n;

		if (!sa || !da)
			return -EINVAL;
		n = sa < da ? sa : da;
		if (n > len)
			n = len;
		if (bs > 1)
			n -= n % bs;
		if (n) {
			rc = evp_update(c, cur_ptr(d), cur_ptr(s), n);
			if (rc)
				break;
			s->off += n;
			d->off += n;
			len -= n;
			continue;
		}
		/* A block straddles a segment edge: bounce it. */
		if (!cur_gather(s, in, bs)) {
			rc = -EINVAL;
			break;
		}
		rc = evp_update(c, out, in, bs);
		if (!rc && !cur_scatter(d, out, bs))
			rc = -EINVAL;
		if (rc)
			break;
		len -= bs;
	}
	OPENSSL_cleanse(in, sizeof(in));
	OPENSSL_cleanse(out, sizeof(out));
	return rc;
}

/*
 * One update over the whole payload (XTS, CCM), gathering a split src
 * and/or scattering to a split dst through the lane's scratch.
 * *@used tells the caller how much scratch to wipe.
 */
static int oneshot_sg(struct soft_lane *l, const struct iovec *src, unsigned src_cnt,
		      const struct iovec *dst, unsigned dst_cnt, size_t len, size_t *used,
		      int (*fn)(struct soft_lane *l, uint8_t *out, const uint8_t *in, size_t n,
				const void *arg), const void *arg)
{
	uint8_t *in = sg_flat(src, src_cnt, len), *out = sg_flat(dst, dst_cnt, len), *buf;
	struct sg_cur cur;
	int rc;

	if (!in || !out) {
		rc = lane_scratch(l, len, &buf);
		if (rc)
			return rc;
		*used = len;
		if (!in) {
			cur_init(&cur, src, src_cnt);
			if (!cur_gather(&cur, buf, len))
				return -EINVAL;
			in = buf;
		}
		if (!out)
			out = buf;
	}
	rc = fn(l, out, in, len, arg);
	if (rc)
		return rc;
	if (out == l->scratch && *used) {
		cur_init(&cur, dst, dst_cnt);
		if (!cur_scatter(&cur, out, len))
			return -EINVAL;
	}
	return 0;
}

/* Re-init @l's keyed cipher with @iv (NULL: the mode's own reset) and nothing else. */
static inline int cipher_iv(const struct soft_sess *ss, struct soft_lane *l, const uint8_t *iv)
{
	if (l->pctx)
		return soft_prov_cipher_iv(&ss->pc, l->pctx, ss->enc, iv);
	return EVP_CipherInit_ex2(l->cctx, NULL, NULL, iv, ss->enc, NULL) == 1 ? 0 : -EIO;
}

/* One update of @n bytes that must come out whole (XTS: one call is one data unit). */
static inline int cipher_update(const struct soft_sess *ss, struct soft_lane *l, uint8_t *out,
				const uint8_t *in, size_t n)
{
	int outl = 0;

	if (n > INT_MAX)
		return -EINVAL;
	if (l->pctx)
		return soft_prov_cipher_update(&ss->pc, l->pctx, out, in, n);
	if (EVP_CipherUpdate(l->cctx, out, &outl, in, (int)n) != 1 || (size_t)outl != n)
		return -EIO;
	return 0;
}

static int update_fn(struct soft_lane *l, uint8_t *out, const uint8_t *in, size_t n,
		     const void *arg)
{
	return cipher_update(arg, l, out, in, n);
}

/* XTS data units: where unit i's tweak starts and how far it moves per unit. */
struct xts_units {
	const struct soft_sess *ss;
	const uint8_t *iv;      /* the first unit's tweak */
	size_t unit;
	uint64_t step;
};

/*
 * Each unit is a complete XTS message under its own tweak: re-init only
 * the IV of the keyed context (no fresh context: PERF.md, 170-250 ns),
 * then one update.  The tweak is a 128-bit little-endian counter
 * (dm-crypt plain64 uses its low 64 bits; the add carries anyway).
 */
static int xts_units_fn(struct soft_lane *l, uint8_t *out, const uint8_t *in, size_t n,
			const void *arg)
{
	const struct xts_units *u = arg;
	uint64_t lo, hi;
	uint8_t tw[16];
	int rc = 0;

	memcpy(&lo, u->iv, 8);
	memcpy(&hi, u->iv + 8, 8);
	lo = le64toh(lo);
	hi = le64toh(hi);
	for (; n; n -= u->unit, in += u->unit, out += u->unit) {
		uint64_t t;

		t = htole64(lo);
		memcpy(tw, &t, 8);
		t = htole64(hi);
		memcpy(tw + 8, &t, 8);
		rc = cipher_iv(u->ss, l, tw);
		if (!rc)
			rc = cipher_update(u->ss, l, out, in, u->unit);
		if (rc)
			break;
		hi += lo + u->step < lo;
		lo += u->step;
	}
	OPENSSL_cleanse(tw, sizeof(tw));
	return rc;
}

/* ---- services ---- */

static int do_cipher(struct soft_sess *ss, struct soft_lane *l, const struct atx_op *op)
{
	const struct iovec *dst;
	unsigned dst_cnt;
	size_t used = 0;
	int rc;

	op_lists(op, &dst, &dst_cnt);
	if (ss->du_len) {
		/* The length is whole units (atx__crypto_check); each unit re-inits its IV. */
		struct xts_units u = { ss, op->u.crypto.iv, ss->du_len, ss->du_step };

		rc = oneshot_sg(l, op->u.crypto.src, op->u.crypto.src_cnt, dst, dst_cnt, op->len,
				&used, xts_units_fn, &u);
		if (used)
			lane_scratch_done(l, used);
		return rc;
	}
	/* Flat buffers, the storage case: one update, no cursor, no scratch. */
	if (op->u.crypto.src_cnt == 1 && dst_cnt == 1 && op->u.crypto.src[0].iov_len >= op->len &&
	    dst[0].iov_len >= op->len && op->len <= INT_MAX) {
		/* Re-init with the IV only: the key schedule stays. */
		rc = cipher_iv(ss, l, op->iv_len ? op->u.crypto.iv : NULL);
		if (!rc)
			rc = cipher_update(ss, l, dst[0].iov_base, op->u.crypto.src[0].iov_base,
					   op->len);
		return rc;
	}
	if (ss->calg == ATX_CIPHER_AES_XTS) {
		rc = cipher_iv(ss, l, op->iv_len ? op->u.crypto.iv : NULL);
		if (rc)
			return rc;
		rc = oneshot_sg(l, op->u.crypto.src, op->u.crypto.src_cnt, dst, dst_cnt, op->len,
				&used, update_fn, ss);
		if (used)
			lane_scratch_done(l, used);
		return rc;
	}

	struct sg_cur s, d;

	/* Scattered: EVP's context, which cipher_sg feeds piece by piece. */
	if (EVP_CipherInit_ex2(l->cctx, NULL, NULL, op->iv_len ? op->u.crypto.iv : NULL,
			       ss->enc, NULL) != 1)
		return -EIO;
	cur_init(&s, op->u.crypto.src, op->u.crypto.src_cnt);
	cur_init(&d, dst, dst_cnt);
	return cipher_sg(l->cctx, ss->bs, &s, &d, op->len);
}

/* Finish a digest: write it, or compare it in constant time. */
static int digest_out(struct soft_sess *ss, const struct atx_op *op, uint8_t *md)
{
	int rc = 0;

	if (ss->enc)
		memcpy(op->u.crypto.digest, md, ss->dlen);
	else if (CRYPTO_memcmp(op->u.crypto.digest, md, ss->dlen))
		rc = -EBADMSG;
	OPENSSL_cleanse(md, EVP_MAX_MD_SIZE);
	return rc;
}

/* Feed @len bytes of @iov to a hash or MAC update function, piece by piece. */
static int sg_feed(const struct iovec *iov, unsigned cnt, size_t len,
		   int (*feed)(void *c, const uint8_t *p, size_t n), void *c)
{
	struct sg_cur s;

	cur_init(&s, iov, cnt);
	while (len) {
		size_t a = cur_avail(&s);

		if (!a)
			return -EINVAL;
		if (a > len)
			a = len;
		if (feed(c, cur_ptr(&s), a) != 1)
			return -EIO;
		s.off += a;
		len -= a;
	}
	return 0;
}

static int md_feed(void *c, const uint8_t *p, size_t n)
{
	return EVP_DigestUpdate(c, p, n);
}

static int mac_feed(void *c, const uint8_t *p, size_t n)
{
	return EVP_MAC_update(c, p, n);
}

/* A provider's digest or MAC update (the same signature) and its context, for sg_feed. */
struct prov_feed {
	int (*update)(void *ctx, const unsigned char *in, size_t inl);
	void *ctx;
};

static int prov_feed(void *c, const uint8_t *p, size_t n)
{
	const struct prov_feed *f = c;

	return f->update(f->ctx, p, n);
}

static int do_hash(struct soft_sess *ss, struct soft_lane *l, const struct atx_op *op)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t len = op->len;
	int rc;

	if (l->pdctx) {
		struct prov_feed f = { ss->pd.update, l->pdctx };

		rc = soft_prov_digest_init(&ss->pd, l->pdctx);
		if (!rc)
			rc = sg_feed(op->u.crypto.src, op->u.crypto.src_cnt, len, prov_feed, &f);
		if (!rc)
			rc = soft_prov_digest_final(&ss->pd, l->pdctx, md);
		if (rc)
			return rc;
		return digest_out(ss, op, md);
	}
	if (EVP_DigestInit_ex2(l->mdctx, ss->md, NULL) != 1)
		return -EIO;
	rc = sg_feed(op->u.crypto.src, op->u.crypto.src_cnt, len, md_feed, l->mdctx);
	if (rc)
		return rc;
	if (EVP_DigestFinal_ex(l->mdctx, md, &mdlen) != 1)
		return -EIO;
	return digest_out(ss, op, md);
}

/* MAC over @aad then @len bytes of @iov, into @md (EVP_MAX_MD_SIZE bytes). */
static int mac_sg(const struct soft_sess *ss, struct soft_lane *l, const void *aad,
		  size_t aad_len, const struct iovec *iov, unsigned cnt, size_t len, uint8_t *md)
{
	size_t mdlen = 0;
	int rc;

	if (l->pmctx) {
		struct prov_feed f = { ss->pm.update, l->pmctx };

		/* No key: restart with the key the context already holds. */
		rc = soft_prov_mac_init(&ss->pm, l->pmctx);
		if (!rc && aad_len && !ss->pm.update(l->pmctx, aad, aad_len))
			rc = -EIO;
		if (!rc)
			rc = sg_feed(iov, cnt, len, prov_feed, &f);
		if (!rc)
			rc = soft_prov_mac_final(&ss->pm, l->pmctx, md, EVP_MAX_MD_SIZE, &mdlen);
		return rc;
	}
	/* NULL key: restart with the key the context already holds. */
	if (EVP_MAC_init(l->macctx, NULL, 0, NULL) != 1)
		return -EIO;
	if (aad_len && EVP_MAC_update(l->macctx, aad, aad_len) != 1)
		return -EIO;
	rc = sg_feed(iov, cnt, len, mac_feed, l->macctx);
	if (rc)
		return rc;
	if (EVP_MAC_final(l->macctx, md, &mdlen, EVP_MAX_MD_SIZE) != 1)
		return -EIO;
	return 0;
}

static int do_mac(struct soft_sess *ss, struct soft_lane *l, const struct atx_op *op)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	int rc;

	rc = mac_sg(ss, l, NULL, 0, op->u.crypto.src, op->u.crypto.src_cnt, op->len, md);
	if (rc) {
		OPENSSL_cleanse(md, sizeof(md));
		return rc;
	}
	return digest_out(ss, op, md);
}

static int do_chain(struct soft_sess *ss, struct soft_lane *l, const struct atx_op *op)
{
	const struct iovec *dst;
	unsigned dst_cnt;
	uint8_t md[EVP_MAX_MD_SIZE];
	int rc;

	op_lists(op, &dst, &dst_cnt);
	if (ss->enc) {
		/* Encrypt-then-MAC: the MAC covers aad || ciphertext. */
		rc = do_cipher(ss, l, op);
		if (!rc)
			rc = mac_sg(ss, l, op->u.crypto.aad, op->u.crypto.aad_len, dst, dst_cnt,
				    op->len, md);
		if (!rc)
			return digest_out(ss, op, md);
	} else {
		/* Verify before decrypting: a forgery produces no output at all. */
		rc = mac_sg(ss, l, op->u.crypto.aad, op->u.crypto.aad_len, op->u.crypto.src,
			    op->u.crypto.src_cnt, op->len, md);
		if (!rc)
			rc = digest_out(ss, op, md);
		if (!rc)
			return do_cipher(ss, l, op);
		return rc;
	}
	OPENSSL_cleanse(md, sizeof(md));
	return rc;
}

static int ccm_update_fn(struct soft_lane *l, uint8_t *out, const uint8_t *in, size_t n,
			 const void *arg)
{
	int outl = 0;

	/* CCM authenticates in the same call: a failure on decrypt is a bad tag. */
	if (n > INT_MAX)
		return -EINVAL;
	if (EVP_CipherUpdate(l->cctx, out, &outl, in, (int)n) != 1)
		return -EBADMSG;
	return 0;
}

static int do_aead(struct soft_sess *ss, struct soft_lane *l, const struct atx_op *op)
{
	bool ccm = ss->aalg == ATX_AEAD_AES_CCM;
	const struct iovec *dst;
	unsigned dst_cnt;
	struct sg_cur s, d;
	size_t len = op->len, used = 0;
	uint8_t dummy = 0, *buf;
	int rc, outl;

	op_lists(op, &dst, &dst_cnt);
	/* CCM takes the payload and the AAD in single int-sized calls. */
	if (ccm && (len > INT_MAX || op->u.crypto.aad_len > INT_MAX))
		return -EINVAL;

	if (l->ivlen != op->iv_len) {
		l->ivlen = 0;
		if (EVP_CIPHER_CTX_ctrl(l->cctx, EVP_CTRL_AEAD_SET_IVLEN, (int)op->iv_len, NULL) != 1)
			return -EIO;
		/* CCM takes the new nonce length only with a key (see the top). */
		if (ccm && EVP_CipherInit_ex2(l->cctx, NULL, ss->ccm_key, NULL, ss->enc, NULL) != 1)
			return -EIO;
		l->ivlen = op->iv_len;
	}
	if (EVP_CipherInit_ex2(l->cctx, NULL, NULL, op->u.crypto.iv, ss->enc, NULL) != 1)
		return -EIO;
	if (!ss->enc &&
	    EVP_CIPHER_CTX_ctrl(l->cctx, EVP_CTRL_AEAD_SET_TAG, (int)ss->dlen,
				op->u.crypto.digest) != 1)
		return -EIO;
	/* CCM puts the message length into its first block: it comes first. */
	if (ccm && EVP_CipherUpdate(l->cctx, NULL, &outl, NULL, (int)len) != 1)
		return -EINVAL;
	rc = evp_aad(l->cctx, op->u.crypto.aad, op->u.crypto.aad_len);
	if (rc)
		return rc;

	if (ss->enc) {
		if (ccm) {
			if (len) {
				rc = oneshot_sg(l, op->u.crypto.src, op->u.crypto.src_cnt, dst,
						dst_cnt, len, &used, ccm_update_fn, NULL);
				if (used)
					lane_scratch_done(l, used);
			} else {
				/* The payload call computes the tag even when empty. */
				rc = ccm_update_fn(l, &dummy, &dummy, 0, NULL);
			}
			if (rc)
				return rc == -EBADMSG ? -EIO : rc;
		} else {
			cur_init(&s, op->u.crypto.src, op->u.crypto.src_cnt);
			cur_init(&d, dst, dst_cnt);
			rc = cipher_sg(l->cctx, 1, &s, &d, len);
			if (rc)
				return rc;
		}
		if (EVP_CipherFinal_ex(l->cctx, &dummy, &outl) != 1)
			return -EIO;
		if (EVP_CIPHER_CTX_ctrl(l->cctx, EVP_CTRL_AEAD_GET_TAG, (int)ss->dlen,
					op->u.crypto.digest) != 1)
			return -EIO;
		return 0;
	}

	/* Decrypt into scratch; dst sees plaintext only after the tag matched. */
	rc = lane_scratch(l, len ? len : 1, &buf);
	if (rc)
		return rc;
	cur_init(&s, op->u.crypto.src, op->u.crypto.src_cnt);
	if (ccm) {
		const uint8_t *in = sg_flat(op->u.crypto.src, op->u.crypto.src_cnt, len);

		if (!len)
			in = &dummy;
		else if (!in) {
			if (!cur_gather(&s, buf, len)) {
				rc = -EINVAL;
				goto out_wipe;
			}
			in = buf;
		}
		rc = ccm_update_fn(l, buf, in, len, NULL);
		if (rc)
			goto out_wipe;
	} else {
		struct iovec sv = { .iov_base = buf, .iov_len = len };

		cur_init(&d, &sv, 1);
		rc = cipher_sg(l->cctx, 1, &s, &d, len);
		if (rc)
			goto out_wipe;
	}
	if (EVP_CipherFinal_ex(l->cctx, buf + len, &outl) != 1) {
		rc = -EBADMSG;
		goto out_wipe;
	}
	cur_init(&d, dst, dst_cnt);
	if (!cur_scatter(&d, buf, len))
		rc = -EINVAL;
out_wipe:
	lane_scratch_done(l, len);
	return rc;
}

static __attribute__((noinline)) int crypto_exec(struct soft_sess *ss, struct soft_lane *l,
						   struct atx_op *op)
{
	int rc;

	switch (ss->service) {
	case ATX_SVC_CIPHER:
		rc = op->opcode == ATX_OP_CIPHER ? do_cipher(ss, l, op) : -EINVAL;
		break;
	case ATX_SVC_HASH:
		rc = op->opcode == ATX_OP_HASH ? do_hash(ss, l, op) : -EINVAL;
		break;
	case ATX_SVC_MAC:
		rc = op->opcode == ATX_OP_MAC ? do_mac(ss, l, op) : -EINVAL;
		break;
	case ATX_SVC_AEAD:
		rc = op->opcode == ATX_OP_AEAD ? do_aead(ss, l, op) : -EINVAL;
		break;
	case ATX_SVC_CHAIN:
		rc = op->opcode == ATX_OP_CHAIN ? do_chain(ss, l, op) : -EINVAL;
		break;
	default:
		rc = -EINVAL;
	}
	return rc;
}

/*
 * The storage case -- a cipher request on flat buffers, a whole request
 * one data unit, on a provider context -- without do_cipher's frame: it
 * is one of the three steps of every encrypt-checksum-copy chain.  The
 * shape is checked per request here, or once per prepared step
 * (soft_crypto_flat, then soft_crypto_cipher_flat at every run).
 */
bool soft_crypto_flat(const struct soft_sess *ss, const struct atx_op *op)
{
	/* The core sets dst (== src in place); anything else takes the general path. */
	return ss && ss->service == ATX_SVC_CIPHER && op->opcode == ATX_OP_CIPHER &&
	       !ss->du_len && op->u.crypto.src_cnt == 1 && op->u.crypto.dst &&
	       op->u.crypto.dst_cnt == 1 && op->u.crypto.src[0].iov_len >= op->len &&
	       op->u.crypto.dst[0].iov_len >= op->len && op->len <= INT_MAX;
}

/* Re-init with the IV only (the key schedule stays), for what soft_crypto_flat passed. */
static inline int run_flat(struct soft_sess *ss, struct soft_lane *l, const struct atx_op *op)
{
	int rc;

	rc = soft_prov_cipher_iv(&ss->pc, l->pctx, ss->enc, op->iv_len ? op->u.crypto.iv : NULL);
	if (!rc)
		rc = soft_prov_cipher_update(&ss->pc, l->pctx, op->u.crypto.dst[0].iov_base,
					     op->u.crypto.src[0].iov_base, op->len);
	return rc;
}

int soft_crypto_cipher_flat(struct soft_sess *ss, unsigned lane, struct atx_op *op)
{
	int rc;

	if (__builtin_expect(lane >= ss->nlanes || !ss->lane[lane].pctx, 0))
		return soft_crypto_exec(ss, lane, op);
	rc = run_flat(ss, &ss->lane[lane], op);
	if (__builtin_expect(rc != 0, 0))
		ERR_clear_error();
	return rc;
}

int soft_crypto_exec(struct soft_sess *ss, unsigned lane, struct atx_op *op)
{
	struct soft_lane *l;
	int rc;

	if (!ss || lane >= ss->nlanes)
		return -EINVAL;
	l = &ss->lane[lane];
	if (__builtin_expect(l->pctx && soft_crypto_flat(ss, op), 1))
		rc = run_flat(ss, l, op);
	else
		rc = crypto_exec(ss, l, op);
	/* Lanes are long-lived threads: leave nothing on their error queues. */
	if (__builtin_expect(rc != 0, 0))
		ERR_clear_error();
	return rc;
}

/* ---- sessions (slow path) ---- */

static const char *cipher_name(const struct atx_session_params *p)
{
	size_t k = p->key_len;

	if (p->service == ATX_SVC_AEAD) {
		switch (p->aead) {
		case ATX_AEAD_AES_GCM:
			return k == 16 ? "AES-128-GCM" : k == 24 ? "AES-192-GCM" : "AES-256-GCM";
		case ATX_AEAD_AES_CCM:
			return k == 16 ? "AES-128-CCM" : k == 24 ? "AES-192-CCM" : "AES-256-CCM";
		case ATX_AEAD_CHACHA20_POLY1305:
			return "ChaCha20-Poly1305";
		default:
			return NULL;
		}
	}
	switch (p->cipher) {
	case ATX_CIPHER_AES_ECB:
		return k == 16 ? "AES-128-ECB" : k == 24 ? "AES-192-ECB" : "AES-256-ECB";
	case ATX_CIPHER_AES_CBC:
		return k == 16 ? "AES-128-CBC" : k == 24 ? "AES-192-CBC" : "AES-256-CBC";
	case ATX_CIPHER_AES_CTR:
		return k == 16 ? "AES-128-CTR" : k == 24 ? "AES-192-CTR" : "AES-256-CTR";
	case ATX_CIPHER_AES_XTS:
		return k == 32 ? "AES-128-XTS" : "AES-256-XTS";
	case ATX_CIPHER_CHACHA20:
		return "ChaCha20";
	case ATX_CIPHER_3DES_CBC:
		return "DES-EDE3-CBC";
	default:
		return NULL;
	}
}

/* Fetch what the session needs once; lanes share the (refcounted) objects. */
static int sess_fetch(struct soft_sess *ss, const struct atx_session_params *p)
{
	if (p->service == ATX_SVC_CIPHER || p->service == ATX_SVC_AEAD ||
	    p->service == ATX_SVC_CHAIN) {
		ss->cipher = EVP_CIPHER_fetch(NULL, cipher_name(p), NULL);
		if (!ss->cipher)
			return -EOPNOTSUPP;
	}
	if (p->service == ATX_SVC_HASH) {
		ss->md = EVP_MD_fetch(NULL, atx__hash_ossl_name(p->hash), NULL);
		if (!ss->md)
			return -EOPNOTSUPP;
	}
	if (p->service == ATX_SVC_MAC || p->service == ATX_SVC_CHAIN) {
		ss->mac = EVP_MAC_fetch(NULL, p->mac == ATX_MAC_AES_CMAC ? "CMAC" : "HMAC", NULL);
		if (!ss->mac)
			return -EOPNOTSUPP;
	}
	return 0;
}

static int lane_init(struct soft_sess *ss, struct soft_lane *l, const struct atx_session_params *p)
{
	if (ss->cipher) {
		l->cctx = EVP_CIPHER_CTX_new();
		if (!l->cctx)
			return -ENOMEM;
		if (ss->aalg == ATX_AEAD_AES_CCM) {
			/*
			 * CCM encodes tag and nonce length into its state when
			 * keyed: set both first (12-byte nonce until a request
			 * says otherwise).
			 */
			if (EVP_CipherInit_ex2(l->cctx, ss->cipher, NULL, NULL, ss->enc, NULL) != 1 ||
			    EVP_CIPHER_CTX_ctrl(l->cctx, EVP_CTRL_AEAD_SET_TAG, (int)ss->dlen,
						NULL) != 1 ||
			    EVP_CIPHER_CTX_ctrl(l->cctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1 ||
			    EVP_CipherInit_ex2(l->cctx, NULL, p->key, NULL, ss->enc, NULL) != 1)
				return -EINVAL;
			l->ivlen = 12;
		} else if (EVP_CipherInit_ex2(l->cctx, ss->cipher, p->key, NULL, ss->enc,
					      NULL) != 1) {
			return -EINVAL;
		} else if (p->service == ATX_SVC_AEAD) {
			l->ivlen = 0;   /* set on first use */
		} else if (EVP_CIPHER_get_block_size(ss->cipher) > 1 &&
			   EVP_CIPHER_CTX_set_padding(l->cctx, 0) != 1) {
			/*
			 * Only block modes pad: OpenSSL 3.0 re-applies the
			 * padding setting on every IV re-init, which costs
			 * XTS and CTR ~160 instructions per request for nothing.
			 */
			return -EINVAL;
		}
		/* Without one (not found, or it refused), the lane stays on EVP. */
		if (ss->pc.update)
			l->pctx = soft_prov_cipher_new(&ss->pc, ss->enc, p->key, p->key_len);
	}
	if (ss->md) {
		/* The provider's context when there is one (soft_prov.h), else EVP's. */
		if (ss->pd.init)
			l->pdctx = soft_prov_digest_new(&ss->pd);
		if (!l->pdctx) {
			l->mdctx = EVP_MD_CTX_new();
			if (!l->mdctx)
				return -ENOMEM;
		}
	}
	if (ss->mac) {
		OSSL_PARAM params[2];
		const void *key = p->service == ATX_SVC_CHAIN ? p->auth_key : p->key;
		size_t klen = p->service == ATX_SVC_CHAIN ? p->auth_key_len : p->key_len;

		if (p->mac == ATX_MAC_AES_CMAC)
			params[0] = OSSL_PARAM_construct_utf8_string(
				OSSL_MAC_PARAM_CIPHER,
				(char *)(klen == 16 ? "AES-128-CBC"
					 : klen == 24 ? "AES-192-CBC" : "AES-256-CBC"), 0);
		else
			params[0] = OSSL_PARAM_construct_utf8_string(
				OSSL_MAC_PARAM_DIGEST, (char *)atx__mac_hmac_digest(p->mac), 0);
		params[1] = OSSL_PARAM_construct_end();
		/* As for the digest; a key the provider refuses, EVP refuses too (below). */
		if (ss->pm.init)
			l->pmctx = soft_prov_mac_new(&ss->pm, key, klen, params);
		if (!l->pmctx) {
			l->macctx = EVP_MAC_CTX_new(ss->mac);
			if (!l->macctx)
				return -ENOMEM;
			if (EVP_MAC_init(l->macctx, key, klen, params) != 1)
				return -EINVAL;
		}
	}
	return 0;
}

static void lane_fini(struct soft_sess *ss, struct soft_lane *l)
{
	if (l->pctx)
		soft_prov_cipher_free(&ss->pc, l->pctx); /* cleanses the key schedule */
	if (l->pdctx)
		soft_prov_digest_free(&ss->pd, l->pdctx);
	if (l->pmctx)
		soft_prov_mac_free(&ss->pm, l->pmctx); /* cleanses the key */
	EVP_CIPHER_CTX_free(l->cctx);
	EVP_MD_CTX_free(l->mdctx);
	EVP_MAC_CTX_free(l->macctx);
	if (l->scratch) {
		OPENSSL_cleanse(l->scratch, l->scratch_cap);
		free(l->scratch);
	}
	memset(l, 0, sizeof(*l));
}

void soft_crypto_session_free(struct soft_sess *ss)
{
	if (!ss)
		return;
	for (unsigned i = 0; i < ss->nlanes; i++)
		lane_fini(ss, &ss->lane[i]);
	EVP_CIPHER_free(ss->cipher);
	EVP_MD_free(ss->md);
	EVP_MAC_free(ss->mac);
	OPENSSL_cleanse(ss, sizeof(*ss));
	free(ss);
}

int soft_crypto_session_new(const struct atx_session_params *p, unsigned nlanes,
			    struct soft_sess **out)
{
	struct soft_sess *ss;
	int rc;

	*out = NULL;
	rc = atx__params_check(p);
	if (rc)
		return rc;
	if (!nlanes)
		return -EINVAL;
	ss = calloc(1, sizeof(*ss) + nlanes * sizeof(ss->lane[0]));
	if (!ss)
		return -ENOMEM;
	ss->nlanes = nlanes;
	ss->service = p->service;
	/* Fields of other services may hold anything: take only ours. */
	ss->calg = p->service == ATX_SVC_CIPHER || p->service == ATX_SVC_CHAIN ? p->cipher
									       : ATX_CIPHER_NONE;
	ss->aalg = p->service == ATX_SVC_AEAD ? p->aead : ATX_AEAD_NONE;
	ss->enc = p->dir == ATX_ENCRYPT;
	ss->bs = atx__block_size(p);
	ss->dlen = atx__digest_len(p);
	ss->du_len = p->data_unit_len;
	ss->du_step = p->data_unit_iv_step ? p->data_unit_iv_step : 1;

	if (ss->aalg == ATX_AEAD_AES_CCM) {
		memcpy(ss->ccm_key, p->key, p->key_len);
		ss->ccm_key_len = p->key_len;
	}
	rc = sess_fetch(ss, p);
	if (rc)
		goto err_free_sess;
	if (p->service == ATX_SVC_CIPHER || p->service == ATX_SVC_CHAIN)
		(void)soft_prov_cipher_find(ss->cipher, cipher_name(p), &ss->pc);
	if (ss->md)
		(void)soft_prov_digest_find(ss->md, atx__hash_ossl_name(p->hash), &ss->pd);
	if (ss->mac)
		(void)soft_prov_mac_find(ss->mac, p->mac == ATX_MAC_AES_CMAC ? "CMAC" : "HMAC",
					 &ss->pm);
	for (unsigned i = 0; i < nlanes; i++) {
		rc = lane_init(ss, &ss->lane[i], p);
		if (rc)
			goto err_free_sess;
	}
	*out = ss;
	return 0;

err_free_sess:
	ERR_clear_error();
	soft_crypto_session_free(ss);   /* frees the lanes built so far */
	return rc;
}

unsigned soft_crypto_prov_lanes(const struct soft_sess *ss)
{
	bool c = ss->service == ATX_SVC_CIPHER || ss->service == ATX_SVC_CHAIN;
	bool m = ss->service == ATX_SVC_MAC || ss->service == ATX_SVC_CHAIN;
	bool h = ss->service == ATX_SVC_HASH;
	unsigned n = 0;

	if (!c && !m && !h)
		return 0;       /* AEAD stays on EVP */
	for (unsigned i = 0; i < ss->nlanes; i++) {
		const struct soft_lane *l = &ss->lane[i];

		n += (!c || l->pctx) && (!m || l->pmctx) && (!h || l->pdctx);
	}
	return n;
}

int soft_crypto_probe(const struct atx_session_params *p)
{
	struct soft_sess probe = { 0 };
	int rc;

	if (atx__params_check(p))
		return -EOPNOTSUPP;
	/* The provider set may lack an algorithm (FIPS: no ChaCha20). */
	probe.service = p->service;
	rc = sess_fetch(&probe, p);
	EVP_CIPHER_free(probe.cipher);
	EVP_MD_free(probe.md);
	EVP_MAC_free(probe.mac);
	ERR_clear_error();
	return rc ? -EOPNOTSUPP : 0;
}
