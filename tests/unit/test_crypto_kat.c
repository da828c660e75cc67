/* SPDX-License-Identifier: MIT */
/*
 * test_crypto_kat.c - the software engine's crypto executor
 * (soft_crypto_exec), driven with hand-filled struct atx_op:
 *  - published known-answer vectors (kat_crypto.h) for every service,
 *    in both directions, on two lanes, flat, in place and under many
 *    scatter-gather cuts of src and dst;
 *  - verification: tampered tag / ciphertext / AAD / digest gives
 *    -EBADMSG and leaves dst exactly as it was (canary pattern);
 *  - zero-length payloads where the algorithm allows them;
 *  - random differential tests against OpenSSL called directly here
 *    through one-shot APIs (fresh context per call, EVP_Digest,
 *    EVP_Q_mac), a path independent of the engine's cached contexts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "alg.h"
#include "soft/soft.h"
#include "kat_crypto.h"

#define NLANES 2
#define MAXIOV 2048
#define NKAT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static void rnd_fill(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
}

static struct soft_sess *sess_new(struct atx_session_params *p)
{
	struct soft_sess *ss = NULL;
	int rc = soft_crypto_session_new(p, NLANES, &ss);

	if (rc)
		fail_msg("soft_crypto_session_new(service %d): %d", p->service, rc);
	return ss;
}

static struct soft_sess *sess_simple(enum atx_service svc, int alg, enum atx_dir dir,
				     const uint8_t *key, size_t klen, size_t dlen)
{
	struct atx_session_params p = { .size = sizeof(p), .service = svc, .dir = dir,
					.key = key, .key_len = klen, .digest_len = dlen };

	switch (svc) {
	case ATX_SVC_CIPHER: p.cipher = alg; break;
	case ATX_SVC_HASH: p.hash = alg; break;
	case ATX_SVC_MAC: p.mac = alg; break;
	case ATX_SVC_AEAD: p.aead = alg; break;
	default: break;
	}
	return sess_new(&p);
}

struct req {
	const struct iovec *src, *dst;
	unsigned src_cnt, dst_cnt;
	size_t len;
	const uint8_t *iv;
	size_t iv_len;
	const uint8_t *aad;
	size_t aad_len;
	void *digest;
};

static int run(struct soft_sess *ss, unsigned lane, enum atx_opcode opc, const struct req *r)
{
	struct atx_op op;

	memset(&op, 0, sizeof(op));
	op.opcode = opc;
	op.len = r->len;
	op.iv_len = (uint16_t)r->iv_len;
	if (r->iv_len)
		memcpy(op.u.crypto.iv, r->iv, r->iv_len);
	op.u.crypto.src = r->src;
	op.u.crypto.src_cnt = r->src_cnt;
	op.u.crypto.dst = r->dst ? r->dst : r->src;
	op.u.crypto.dst_cnt = r->dst ? r->dst_cnt : r->src_cnt;
	op.u.crypto.aad = r->aad;
	op.u.crypto.aad_len = r->aad_len;
	op.u.crypto.digest = r->digest;
	return soft_crypto_exec(ss, lane, &op);
}

/* A flat call the way the core makes one: src1/dst1 inside the op. */
static int run_flat(struct soft_sess *ss, unsigned lane, enum atx_opcode opc, void *dst,
		    const void *src, size_t len, const uint8_t *iv, size_t iv_len,
		    const uint8_t *aad, size_t aad_len, void *digest)
{
	struct atx_op op;

	memset(&op, 0, sizeof(op));
	op.opcode = opc;
	op.len = len;
	op.iv_len = (uint16_t)iv_len;
	if (iv_len)
		memcpy(op.u.crypto.iv, iv, iv_len);
	op.u.crypto.src1.iov_base = (void *)src;
	op.u.crypto.src1.iov_len = len;
	op.u.crypto.dst1.iov_base = dst;
	op.u.crypto.dst1.iov_len = len;
	op.u.crypto.src = &op.u.crypto.src1;
	op.u.crypto.src_cnt = 1;
	op.u.crypto.dst = dst == src ? &op.u.crypto.src1 : &op.u.crypto.dst1;
	op.u.crypto.dst_cnt = 1;
	op.u.crypto.aad = aad;
	op.u.crypto.aad_len = aad_len;
	op.u.crypto.digest = digest;
	return soft_crypto_exec(ss, lane, &op);
}

/*
 * Cut @buf into iovecs following @pat (lengths, cycled; 0 makes an empty
 * segment); the last one takes the rest.  SIZE_MAX = one segment.
 */
static unsigned split(uint8_t *buf, size_t len, const size_t *pat, unsigned npat,
		      struct iovec *iov)
{
	unsigned n = 0;
	size_t off = 0;

	while (off < len || n == 0) {
		size_t l = pat[n % npat];

		assert_true(n < MAXIOV);
		if (l > len - off)
			l = len - off;
		iov[n].iov_base = buf + off;
		iov[n].iov_len = l;
		off += l;
		n++;
		if (l == 0 && off == len && n > 1)
			break;
	}
	return n;
}

/* Random cut into at most 8 pieces, some empty. */
static unsigned split_rnd(uint8_t *buf, size_t len, struct iovec *iov)
{
	unsigned n = 1 + rnd() % 8;
	size_t off = 0;

	for (unsigned i = 0; i < n; i++) {
		size_t l = i == n - 1 ? len - off : (len - off ? rnd() % (len - off + 1) : 0);

		if (rnd() % 4 == 0 && i != n - 1)
			l = 0;
		iov[i].iov_base = buf + off;
		iov[i].iov_len = l;
		off += l;
	}
	return n;
}

static void expect_mem(const void *got, const void *want, size_t len, const char *what,
		       const char *how)
{
	if (len && memcmp(got, want, len)) {
		const uint8_t *g = got, *w = want;
		size_t i = 0;

		while (g[i] == w[i])
			i++;
		fail_msg("%s (%s): byte %zu of %zu: got %02x, expected %02x", what, how, i, len,
			 g[i], w[i]);
	}
}

static void expect_untouched(const uint8_t *b, size_t len, uint8_t canary, const char *what)
{
	for (size_t i = 0; i < len; i++)
		if (b[i] != canary)
			fail_msg("%s: dst byte %zu written (%02x) although verification failed",
				 what, i, b[i]);
}

static const size_t pat_whole[] = { SIZE_MAX };
static const size_t pat_1[] = { 1 };
static const size_t pat_7_100_4[] = { 7, 100, 4 };
static const size_t pat_3_0_5[] = { 3, 0, 5 };
static const size_t pat_16[] = { 16 };
static const size_t pat_17_15[] = { 17, 15 };
static const size_t pat_0_31[] = { 0, 31 };
static const size_t pat_997_1003[] = { 997, 1003 };

static const struct { const size_t *p; unsigned n; const char *name; } pats[] = {
	{ pat_whole, 1, "whole" },
	{ pat_1, 1, "1-byte" },
	{ pat_7_100_4, 3, "7,100,4" },
	{ pat_3_0_5, 3, "3,0,5" },
	{ pat_16, 1, "16" },
	{ pat_17_15, 2, "17,15" },
	{ pat_0_31, 2, "0,31" },
	{ pat_997_1003, 2, "997,1003" },
};
#define NPATS (sizeof(pats) / sizeof(pats[0]))

static struct iovec siov[MAXIOV], diov[MAXIOV];

/*
 * Point @rq (len set) at @in, loaded with @src and cut by pattern @a, and
 * at @out, filled with the 0xa5 canary (16 bytes past len too) and cut by
 * pattern @b; @how names the cuts for messages.
 */
static void req_cut(struct req *rq, uint8_t *in, const uint8_t *src, uint8_t *out, unsigned a,
		    unsigned b, char *how, size_t how_len)
{
	snprintf(how, how_len, "src cut %s, dst cut %s", pats[a].name, pats[b].name);
	memcpy(in, src, rq->len);
	memset(out, 0xa5, rq->len + 16);
	rq->src = siov;
	rq->src_cnt = split(in, rq->len, pats[a].p, pats[a].n, siov);
	rq->dst = diov;
	rq->dst_cnt = split(out, rq->len, pats[b].p, pats[b].n, diov);
}

/* ---- cipher KATs ---- */

static void cipher_kat_one(const struct kat_cipher *k)
{
	size_t kl, ivl, len, cl;
	uint8_t *key = kat_unhex(k->key, &kl), *iv = kat_unhex(k->iv, &ivl);
	uint8_t *pt = kat_unhex(k->pt, &len), *ct = kat_unhex(k->ct, &cl);
	uint8_t *out = malloc(len + 16), *in = malloc(len + 16);
	struct soft_sess *se, *sd;
	struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_CIPHER,
					.cipher = k->alg, .key = key, .key_len = kl };
	char how[64];

	assert_int_equal(len, cl);
	assert_int_equal(atx__params_check(&p), 0);
	assert_int_equal(atx__crypto_check(&p, ATX_OP_CIPHER, len, ivl, 0), 0);
	se = sess_simple(ATX_SVC_CIPHER, k->alg, ATX_ENCRYPT, key, kl, 0);
	sd = sess_simple(ATX_SVC_CIPHER, k->alg, ATX_DECRYPT, key, kl, 0);

	/* Twice per lane: the second run proves the IV-only re-init resets state. */
	for (unsigned r = 0; r < 2 * NLANES; r++) {
		unsigned lane = r % NLANES;

		memset(out, 0xa5, len + 16);
		assert_int_equal(run_flat(se, lane, ATX_OP_CIPHER, out, pt, len, iv, ivl, NULL, 0, NULL), 0);
		expect_mem(out, ct, len, k->source, "encrypt flat");
		expect_untouched(out + len, 16, 0xa5, "past the end");
		memset(out, 0xa5, len + 16);
		assert_int_equal(run_flat(sd, lane, ATX_OP_CIPHER, out, ct, len, iv, ivl, NULL, 0, NULL), 0);
		expect_mem(out, pt, len, k->source, "decrypt flat");
	}

	/* In place. */
	memcpy(in, pt, len);
	assert_int_equal(run_flat(se, 1, ATX_OP_CIPHER, in, in, len, iv, ivl, NULL, 0, NULL), 0);
	expect_mem(in, ct, len, k->source, "encrypt in place");
	assert_int_equal(run_flat(sd, 0, ATX_OP_CIPHER, in, in, len, iv, ivl, NULL, 0, NULL), 0);
	expect_mem(in, pt, len, k->source, "decrypt in place");

	/* Every pair of cuts, both directions, plus in place with a cut list. */
	for (unsigned a = 0; a < NPATS; a++) {
		for (unsigned b = 0; b < NPATS; b++) {
			struct req rq = { .len = len, .iv = iv, .iv_len = ivl };

			req_cut(&rq, in, pt, out, a, b, how, sizeof(how));
			assert_int_equal(run(se, (a + b) % NLANES, ATX_OP_CIPHER, &rq), 0);
			expect_mem(out, ct, len, k->source, how);
			expect_untouched(out + len, 16, 0xa5, how);
			memcpy(in, ct, len);
			assert_int_equal(run(sd, (a + b + 1) % NLANES, ATX_OP_CIPHER, &rq), 0);
			expect_mem(out, pt, len, k->source, how);
		}
		struct req rq = { .len = len, .iv = iv, .iv_len = ivl, .src = siov };

		memcpy(in, pt, len);
		rq.src_cnt = split(in, len, pats[a].p, pats[a].n, siov);
		assert_int_equal(run(se, 0, ATX_OP_CIPHER, &rq), 0);
		expect_mem(in, ct, len, k->source, "in place, cut list");
	}

	soft_crypto_session_free(se);
	soft_crypto_session_free(sd);
	free(key);
	free(iv);
	free(pt);
	free(ct);
	free(in);
	free(out);
}

static void test_cipher_kat(void **state)
{
	for (size_t i = 0; i < NKAT(kat_ciphers); i++)
		cipher_kat_one(&kat_ciphers[i]);
}

/* ---- hash and MAC KATs ---- */

static void digest_check(struct soft_sess *se, struct soft_sess *sv, enum atx_opcode opc,
			 uint8_t *msg, size_t len, const uint8_t *want, size_t dlen,
			 const char *what)
{
	uint8_t got[80], exp[80];

	for (unsigned a = 0; a < NPATS; a++) {
		struct req rq = { .len = len, .digest = got, .src = siov };
		char how[64];

		/* Small cuts of a million bytes prove nothing more: use the big ones. */
		if (len > 100000 && pats[a].p[0] < 997)
			continue;
		snprintf(how, sizeof(how), "digest, src cut %s", pats[a].name);
		rq.src_cnt = split(msg, len, pats[a].p, pats[a].n, siov);
		memset(got, 0xa5, sizeof(got));
		assert_int_equal(run(se, a % NLANES, opc, &rq), 0);
		expect_mem(got, want, dlen, what, how);
		expect_untouched(got + dlen, sizeof(got) - dlen, 0xa5, "digest past digest_len");

		/* Verify direction: the right value passes, any flipped bit fails. */
		memcpy(exp, want, dlen);
		rq.digest = exp;
		assert_int_equal(run(sv, a % NLANES, opc, &rq), 0);
		exp[(a * 7) % dlen] ^= (uint8_t)(1u << (a % 8));
		assert_int_equal(run(sv, a % NLANES, opc, &rq), -EBADMSG);
		exp[dlen - 1] ^= 0x80;
		exp[(a * 7) % dlen] ^= (uint8_t)(1u << (a % 8));
		assert_int_equal(run(sv, (a + 1) % NLANES, opc, &rq), -EBADMSG);
	}
}

static void test_hash_kat(void **state)
{
	for (size_t i = 0; i < NKAT(kat_hashes); i++) {
		const struct kat_hash *k = &kat_hashes[i];
		size_t ml = strlen(k->msg), rep = k->repeat ? k->repeat : 1, dl;
		uint8_t *msg = malloc(ml * rep + 1), *md = kat_unhex(k->md, &dl);
		struct soft_sess *se, *sv;

		for (size_t r = 0; r < rep; r++)
			memcpy(msg + r * ml, k->msg, ml);
		se = sess_simple(ATX_SVC_HASH, k->alg, ATX_ENCRYPT, NULL, 0, 0);
		sv = sess_simple(ATX_SVC_HASH, k->alg, ATX_DECRYPT, NULL, 0, 0);
		digest_check(se, sv, ATX_OP_HASH, msg, ml * rep, md, dl, k->source);
		soft_crypto_session_free(se);
		soft_crypto_session_free(sv);

		/* Truncated: the leading bytes. */
		se = sess_simple(ATX_SVC_HASH, k->alg, ATX_ENCRYPT, NULL, 0, 16);
		sv = sess_simple(ATX_SVC_HASH, k->alg, ATX_DECRYPT, NULL, 0, 16);
		digest_check(se, sv, ATX_OP_HASH, msg, ml * rep, md, 16, k->source);
		soft_crypto_session_free(se);
		soft_crypto_session_free(sv);
		free(msg);
		free(md);
	}
}

static void test_mac_kat(void **state)
{
	for (size_t i = 0; i < NKAT(kat_macs); i++) {
		const struct kat_mac *k = &kat_macs[i];
		size_t kl, ml, dl;
		uint8_t *key = kat_unhex(k->key, &kl), *msg = kat_unhex(k->msg, &ml);
		uint8_t *mac = kat_unhex(k->mac, &dl);
		struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_MAC,
						.mac = k->alg, .key = key, .key_len = kl };
		size_t d = dl == atx__digest_max(&p) ? 0 : dl;
		struct soft_sess *se = sess_simple(ATX_SVC_MAC, k->alg, ATX_ENCRYPT, key, kl, d);
		struct soft_sess *sv = sess_simple(ATX_SVC_MAC, k->alg, ATX_DECRYPT, key, kl, d);

		/* Runs several times per lane: EVP_MAC_init(NULL key) must restart cleanly. */
		digest_check(se, sv, ATX_OP_MAC, msg, ml, mac, dl, k->source);
		soft_crypto_session_free(se);
		soft_crypto_session_free(sv);
		free(key);
		free(msg);
		free(mac);
	}
}

/* ---- AEAD KATs ---- */

static void aead_kat_one(const struct kat_aead *k)
{
	size_t kl, ivl, al, len, cl, tl;
	uint8_t *key = kat_unhex(k->key, &kl), *iv = kat_unhex(k->iv, &ivl);
	uint8_t *aad = kat_unhex(k->aad, &al);
	uint8_t *pt = kat_unhex(k->pt, &len), *ct = kat_unhex(k->ct, &cl);
	uint8_t *tag = kat_unhex(k->tag, &tl);
	uint8_t *out = malloc(len + 16), *in = malloc(len + 16), t[16], xaad[64];
	struct soft_sess *se, *sd;
	size_t dlen = tl == 16 ? 0 : tl;
	struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_AEAD,
					.aead = k->alg, .key = key, .key_len = kl,
					.digest_len = dlen };
	char how[64];

	assert_int_equal(len, cl);
	assert_int_equal(atx__params_check(&p), 0);
	assert_int_equal(atx__crypto_check(&p, ATX_OP_AEAD, len, ivl, al), 0);
	se = sess_simple(ATX_SVC_AEAD, k->alg, ATX_ENCRYPT, key, kl, dlen);
	sd = sess_simple(ATX_SVC_AEAD, k->alg, ATX_DECRYPT, key, kl, dlen);

	for (unsigned r = 0; r < 2 * NLANES; r++) {
		unsigned lane = r % NLANES;

		memset(out, 0xa5, len + 16);
		memset(t, 0xa5, sizeof(t));
		assert_int_equal(run_flat(se, lane, ATX_OP_AEAD, out, pt, len, iv, ivl, aad, al, t), 0);
		expect_mem(out, ct, len, k->source, "encrypt");
		expect_mem(t, tag, tl, k->source, "tag");
		expect_untouched(t + tl, sizeof(t) - tl, 0xa5, "past the tag");
		memset(out, 0xa5, len + 16);
		memcpy(t, tag, tl);
		assert_int_equal(run_flat(sd, lane, ATX_OP_AEAD, out, ct, len, iv, ivl, aad, al, t), 0);
		expect_mem(out, pt, len, k->source, "decrypt");
	}

	/* Forgeries: wrong tag, ciphertext or AAD.  dst must stay untouched. */
	memcpy(t, tag, tl);
	t[tl - 1] ^= 1;
	memset(out, 0x5a, len + 16);
	assert_int_equal(run_flat(sd, 0, ATX_OP_AEAD, out, ct, len, iv, ivl, aad, al, t), -EBADMSG);
	expect_untouched(out, len + 16, 0x5a, "bad tag");
	memcpy(t, tag, tl);
	if (len) {
		memcpy(in, ct, len);
		in[len / 2] ^= 0x40;
		assert_int_equal(run_flat(sd, 1, ATX_OP_AEAD, out, in, len, iv, ivl, aad, al, t), -EBADMSG);
		expect_untouched(out, len + 16, 0x5a, "bad ciphertext");
		/* In place: the ciphertext in the buffer must survive a forgery too. */
		assert_int_equal(run_flat(sd, 0, ATX_OP_AEAD, in, in, len, iv, ivl, aad, al, t), -EBADMSG);
		in[len / 2] ^= 0x40;
		expect_mem(in, ct, len, k->source, "in-place forgery left the buffer");
	}
	memcpy(xaad, aad, al);
	xaad[al ? al - 1 : 0] ^= 2;
	assert_int_equal(run_flat(sd, 0, ATX_OP_AEAD, out, ct, len, iv, ivl, xaad, al ? al : 1, t),
			 -EBADMSG);
	expect_untouched(out, len + 16, 0x5a, "bad aad");
	/* The lane recovers after failures. */
	assert_int_equal(run_flat(sd, 0, ATX_OP_AEAD, out, ct, len, iv, ivl, aad, al, t), 0);
	expect_mem(out, pt, len, k->source, "decrypt after forgeries");

	/* In place. */
	memcpy(in, pt, len);
	assert_int_equal(run_flat(se, 1, ATX_OP_AEAD, in, in, len, iv, ivl, aad, al, t), 0);
	expect_mem(in, ct, len, k->source, "encrypt in place");
	assert_int_equal(run_flat(sd, 1, ATX_OP_AEAD, in, in, len, iv, ivl, aad, al, t), 0);
	expect_mem(in, pt, len, k->source, "decrypt in place");

	for (unsigned a = 0; a < NPATS; a++) {
		for (unsigned b = 0; b < NPATS; b++) {
			struct req rq = { .len = len, .iv = iv, .iv_len = ivl, .aad = aad,
					  .aad_len = al, .digest = t };

			req_cut(&rq, in, pt, out, a, b, how, sizeof(how));
			assert_int_equal(run(se, (a + b) % NLANES, ATX_OP_AEAD, &rq), 0);
			expect_mem(out, ct, len, k->source, how);
			expect_mem(t, tag, tl, k->source, how);
			memcpy(in, ct, len);
			memset(out, 0xa5, len + 16);
			assert_int_equal(run(sd, (a + b + 1) % NLANES, ATX_OP_AEAD, &rq), 0);
			expect_mem(out, pt, len, k->source, how);
			t[0] ^= 1;
			memset(out, 0x5a, len + 16);
			assert_int_equal(run(sd, a % NLANES, ATX_OP_AEAD, &rq), -EBADMSG);
			expect_untouched(out, len + 16, 0x5a, how);
		}
	}

	soft_crypto_session_free(se);
	soft_crypto_session_free(sd);
	free(key);
	free(iv);
	free(aad);
	free(pt);
	free(ct);
	free(tag);
	free(in);
	free(out);
}

static void test_aead_kat(void **state)
{
	for (size_t i = 0; i < NKAT(kat_aeads); i++)
		aead_kat_one(&kat_aeads[i]);
}

/* GCM: one lane switching IV lengths (12 -> 8 -> 12) and a truncated tag. */
static void test_gcm_ivlen_switch_and_truncation(void **state)
{
	const struct kat_aead *tc3 = &kat_aeads[1], *tc4 = &kat_aeads[2], *tc5 = &kat_aeads[3];
	size_t kl, l3, l5, c3, c5, i3, i5, al, tl3, tl5, pl;
	uint8_t *key = kat_unhex(tc3->key, &kl), *iv3 = kat_unhex(tc3->iv, &i3);
	uint8_t *iv5 = kat_unhex(tc5->iv, &i5);
	uint8_t *p3 = kat_unhex(tc3->pt, &l3), *p5 = kat_unhex(tc5->pt, &l5);
	uint8_t *aad = kat_unhex(tc5->aad, &al);
	uint8_t *ct3 = kat_unhex(tc3->ct, &c3), *ct5 = kat_unhex(tc5->ct, &c5);
	uint8_t *tag3 = kat_unhex(tc3->tag, &tl3), *tag5 = kat_unhex(tc5->tag, &tl5);
	uint8_t *tag4 = kat_unhex(tc4->tag, &pl);
	uint8_t out[64], t[16];
	struct soft_sess *se = sess_simple(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_ENCRYPT, key, kl, 0);
	struct soft_sess *s12 = sess_simple(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_ENCRYPT, key, kl, 12);
	struct soft_sess *d12 = sess_simple(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_DECRYPT, key, kl, 12);

	for (int r = 0; r < 3; r++) {
		assert_int_equal(run_flat(se, 0, ATX_OP_AEAD, out, p3, l3, iv3, i3, NULL, 0, t), 0);
		expect_mem(out, ct3, l3, tc3->source, "ivlen 12");
		expect_mem(t, tag3, 16, tc3->source, "tag, ivlen 12");
		assert_int_equal(run_flat(se, 0, ATX_OP_AEAD, out, p5, l5, iv5, i5, aad, al, t), 0);
		expect_mem(out, ct5, l5, tc5->source, "ivlen 8");
		expect_mem(t, tag5, 16, tc5->source, "tag, ivlen 8");
	}
	/* SP 800-38D: a truncated tag is the leading bytes of the full one. */
	memset(t, 0xa5, sizeof(t));
	assert_int_equal(run_flat(s12, 1, ATX_OP_AEAD, out, p5, 60, iv3, i3, aad, al, t), 0);
	expect_mem(t, tag4, 12, tc4->source, "tag truncated to 12");
	expect_untouched(t + 12, 4, 0xa5, "past a 12-byte tag");
	assert_int_equal(run_flat(d12, 1, ATX_OP_AEAD, out, out, 60, iv3, i3, aad, al, t), 0);
	expect_mem(out, p5, 60, tc4->source, "decrypt with 12-byte tag");

	soft_crypto_session_free(se);
	soft_crypto_session_free(s12);
	soft_crypto_session_free(d12);
	free(key); free(iv3); free(iv5); free(p3); free(p5); free(aad);
	free(ct3); free(ct5); free(tag3); free(tag5); free(tag4);
}

/* ---- reference: OpenSSL one-shot, fresh objects per call ---- */

static const char *ref_cipher_name(enum atx_cipher_alg c, size_t kl)
{
	static char n[32];

	switch (c) {
	case ATX_CIPHER_AES_ECB: snprintf(n, sizeof(n), "AES-%zu-ECB", kl * 8); break;
	case ATX_CIPHER_AES_CBC: snprintf(n, sizeof(n), "AES-%zu-CBC", kl * 8); break;
	case ATX_CIPHER_AES_CTR: snprintf(n, sizeof(n), "AES-%zu-CTR", kl * 8); break;
	case ATX_CIPHER_AES_XTS: snprintf(n, sizeof(n), "AES-%zu-XTS", kl * 4); break;
	case ATX_CIPHER_CHACHA20: return "ChaCha20";
	case ATX_CIPHER_3DES_CBC: return "DES-EDE3-CBC";
	default: return NULL;
	}
	return n;
}

static void ref_cipher(enum atx_cipher_alg alg, int enc, const uint8_t *key, size_t kl,
		       const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, ref_cipher_name(alg, kl), NULL);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int o1 = 0, o2 = 0;

	assert_non_null(c);
	assert_int_equal(EVP_CipherInit_ex2(x, c, key, iv, enc, NULL), 1);
	EVP_CIPHER_CTX_set_padding(x, 0);
	assert_int_equal(EVP_CipherUpdate(x, out, &o1, in, (int)len), 1);
	assert_int_equal(EVP_CipherFinal_ex(x, out + o1, &o2), 1);
	assert_int_equal((size_t)(o1 + o2), len);
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
}

static void ref_aead_enc(enum atx_aead_alg alg, const uint8_t *key, size_t kl, const uint8_t *iv,
			 size_t ivl, const uint8_t *aad, size_t al, const uint8_t *in, size_t len,
			 uint8_t *out, uint8_t *tag, size_t tl)
{
	char name[32];
	EVP_CIPHER *c;
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int o = 0;

	if (alg == ATX_AEAD_CHACHA20_POLY1305)
		snprintf(name, sizeof(name), "ChaCha20-Poly1305");
	else
		snprintf(name, sizeof(name), "AES-%zu-%s", kl * 8, alg == ATX_AEAD_AES_GCM ? "GCM" : "CCM");
	c = EVP_CIPHER_fetch(NULL, name, NULL);
	assert_non_null(c);
	assert_int_equal(EVP_EncryptInit_ex(x, c, NULL, NULL, NULL), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, (int)ivl, NULL), 1);
	if (alg == ATX_AEAD_AES_CCM)
		assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, (int)tl, NULL), 1);
	assert_int_equal(EVP_EncryptInit_ex(x, NULL, NULL, key, iv), 1);
	if (alg == ATX_AEAD_AES_CCM)
		assert_int_equal(EVP_EncryptUpdate(x, NULL, &o, NULL, (int)len), 1);
	if (al)
		assert_int_equal(EVP_EncryptUpdate(x, NULL, &o, aad, (int)al), 1);
	assert_int_equal(EVP_EncryptUpdate(x, out, &o, len ? in : (const uint8_t *)"", (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(x, out + len, &o), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, (int)tl, tag), 1);
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
}

/* ---- random differential tests ---- */

static void cipher_diff(enum atx_cipher_alg alg, size_t kl, unsigned iters)
{
	struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_CIPHER, .cipher = alg,
					.key_len = kl };
	uint8_t key[64], iv[16], *pt = malloc(4096), *ref = malloc(4096), *out = malloc(4096);
	size_t bs, ivl;

	for (unsigned it = 0; it < iters; it++) {
		struct soft_sess *ss;
		struct req rq = { 0 };
		int enc = rnd() & 1;
		size_t len;

		rnd_fill(key, kl);
		p.key = key;
		bs = atx__block_size(&p);
		ivl = atx__iv_len(&p);
		rnd_fill(iv, ivl);
		len = rnd() % 2049;
		if (alg == ATX_CIPHER_AES_XTS && len < 16)
			len += 16;
		len -= len % bs;
		if (it == 0 && alg != ATX_CIPHER_AES_XTS)
			len = 0;
		rnd_fill(pt, len);
		ref_cipher(alg, enc, key, kl, iv, pt, len, ref);

		p.dir = enc ? ATX_ENCRYPT : ATX_DECRYPT;
		assert_int_equal(atx__crypto_check(&p, ATX_OP_CIPHER, len, ivl, 0), 0);
		ss = sess_new(&p);
		rq.len = len;
		rq.iv = iv;
		rq.iv_len = ivl;
		rq.src = siov;
		rq.src_cnt = split_rnd(pt, len, siov);
		if (rnd() % 4) {
			rq.dst = diov;
			rq.dst_cnt = split_rnd(out, len, diov);
		} else {
			memcpy(out, pt, len);
			rq.src_cnt = split_rnd(out, len, siov);
		}
		assert_int_equal(run(ss, it % NLANES, ATX_OP_CIPHER, &rq), 0);
		if (len && memcmp(out, ref, len))
			fail_msg("differential %s len %zu iter %u: mismatch", ref_cipher_name(alg, kl), len, it);
		soft_crypto_session_free(ss);
	}
	free(pt);
	free(ref);
	free(out);
}

static void test_cipher_differential(void **state)
{
	static const struct { enum atx_cipher_alg a; size_t kl; } v[] = {
		{ ATX_CIPHER_AES_ECB, 16 }, { ATX_CIPHER_AES_ECB, 24 }, { ATX_CIPHER_AES_ECB, 32 },
		{ ATX_CIPHER_AES_CBC, 16 }, { ATX_CIPHER_AES_CBC, 32 },
		{ ATX_CIPHER_AES_CTR, 16 }, { ATX_CIPHER_AES_CTR, 32 },
		{ ATX_CIPHER_AES_XTS, 32 }, { ATX_CIPHER_AES_XTS, 64 },
		{ ATX_CIPHER_CHACHA20, 32 }, { ATX_CIPHER_3DES_CBC, 24 },
	};

	for (size_t i = 0; i < NKAT(v); i++)
		cipher_diff(v[i].a, v[i].kl, 40);
}

static void aead_diff(enum atx_aead_alg alg, size_t kl, unsigned iters)
{
	uint8_t key[32], iv[32], aad[64], tag[16], t2[16];
	uint8_t *pt = malloc(4096), *ref = malloc(4096 + 16), *out = malloc(4096), *back = malloc(4096);

	for (unsigned it = 0; it < iters; it++) {
		static const size_t gcm_tags[] = { 4, 8, 12, 13, 14, 15, 16 };
		struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_AEAD,
						.aead = alg, .key = key, .key_len = kl };
		struct soft_sess *se, *sd;
		size_t ivl, tl, al = rnd() % 50, len = rnd() % 2049;
		struct req rq = { 0 };

		if (it == 0)
			len = 0;
		switch (alg) {
		case ATX_AEAD_AES_GCM:
			ivl = 1 + rnd() % 32;
			tl = gcm_tags[rnd() % 7];
			break;
		case ATX_AEAD_AES_CCM:
			ivl = 7 + rnd() % 7;
			tl = 4 + 2 * (rnd() % 7);
			if (ivl == 13 && len > 65535)
				len = 65535;
			if (!len && !al)
				al = 1;
			break;
		default:
			ivl = 12;
			tl = 16;
		}
		rnd_fill(key, kl);
		rnd_fill(iv, ivl);
		rnd_fill(aad, al);
		rnd_fill(pt, len);
		p.digest_len = tl;
		assert_int_equal(atx__params_check(&p), 0);
		assert_int_equal(atx__crypto_check(&p, ATX_OP_AEAD, len, ivl, al), 0);
		ref_aead_enc(alg, key, kl, iv, ivl, aad, al, pt, len, ref, tag, tl);

		se = sess_new(&p);
		p.dir = ATX_DECRYPT;
		sd = sess_new(&p);
		rq.len = len;
		rq.iv = iv;
		rq.iv_len = ivl;
		rq.aad = aad;
		rq.aad_len = al;
		rq.digest = t2;
		rq.src = siov;
		rq.src_cnt = split_rnd(pt, len, siov);
		rq.dst = diov;
		rq.dst_cnt = split_rnd(out, len, diov);
		assert_int_equal(run(se, it % NLANES, ATX_OP_AEAD, &rq), 0);
		if ((len && memcmp(out, ref, len)) || memcmp(t2, tag, tl))
			fail_msg("AEAD %d differential: len %zu iv %zu aad %zu tag %zu: mismatch", alg,
				 len, ivl, al, tl);
		rq.src_cnt = split_rnd(out, len, siov);
		rq.dst_cnt = split_rnd(back, len, diov);
		assert_int_equal(run(sd, (it + 1) % NLANES, ATX_OP_AEAD, &rq), 0);
		expect_mem(back, pt, len, "AEAD differential", "round trip");
		soft_crypto_session_free(se);
		soft_crypto_session_free(sd);
	}
	free(pt);
	free(ref);
	free(out);
	free(back);
}

static void test_aead_differential(void **state)
{
	aead_diff(ATX_AEAD_AES_GCM, 16, 40);
	aead_diff(ATX_AEAD_AES_GCM, 24, 20);
	aead_diff(ATX_AEAD_AES_GCM, 32, 40);
	aead_diff(ATX_AEAD_AES_CCM, 16, 40);
	aead_diff(ATX_AEAD_AES_CCM, 32, 40);
	aead_diff(ATX_AEAD_CHACHA20_POLY1305, 32, 40);
}

static void test_digest_differential(void **state)
{
	uint8_t *msg = malloc(8192), key[64], got[64], ref[64];

	for (int h = ATX_HASH_SHA1; h < ATX_HASH__COUNT; h++) {
		EVP_MD *md = EVP_MD_fetch(NULL, atx__hash_ossl_name(h), NULL);
		struct soft_sess *ss = sess_simple(ATX_SVC_HASH, h, ATX_ENCRYPT, NULL, 0, 0);

		for (unsigned it = 0; it < 30; it++) {
			size_t len = it ? rnd() % 8193 : 0;
			unsigned rl = 0;
			struct req rq = { .len = len, .digest = got, .src = siov };

			rnd_fill(msg, len);
			assert_int_equal(EVP_Digest(msg, len, ref, &rl, md, NULL), 1);
			rq.src_cnt = split_rnd(msg, len, siov);
			assert_int_equal(run(ss, it % NLANES, ATX_OP_HASH, &rq), 0);
			expect_mem(got, ref, rl, atx__hash_ossl_name(h), "hash differential");
		}
		soft_crypto_session_free(ss);
		EVP_MD_free(md);
	}
	for (int m = ATX_MAC_HMAC_SHA1; m < ATX_MAC__COUNT; m++) {
		for (unsigned it = 0; it < 30; it++) {
			size_t len = rnd() % 4097, rl = 0;
			size_t kl = m == ATX_MAC_AES_CMAC ? 16 + 8 * (rnd() % 3) : 1 + rnd() % 64;
			struct req rq = { .len = len, .digest = got, .src = siov };
			struct soft_sess *ss;
			static const char *cm[] = { "AES-128-CBC", "AES-192-CBC", "AES-256-CBC" };

			rnd_fill(msg, len);
			rnd_fill(key, kl);
			if (m == ATX_MAC_AES_CMAC)
				assert_non_null(EVP_Q_mac(NULL, "CMAC", NULL, cm[(kl - 16) / 8], NULL, key,
							  kl, msg, len, ref, sizeof(ref), &rl));
			else
				assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, atx__mac_hmac_digest(m), NULL,
							  key, kl, msg, len, ref, sizeof(ref), &rl));
			ss = sess_simple(ATX_SVC_MAC, m, ATX_ENCRYPT, key, kl, 0);
			rq.src_cnt = split_rnd(msg, len, siov);
			assert_int_equal(run(ss, it % NLANES, ATX_OP_MAC, &rq), 0);
			expect_mem(got, ref, rl, "MAC differential", atx__mac_hmac_digest(m) ?: "CMAC");
			soft_crypto_session_free(ss);
		}
	}
	free(msg);
}

/* ---- CHAIN: encrypt-then-MAC / verify-then-decrypt ---- */

static void chain_one(enum atx_cipher_alg ca, size_t ckl, enum atx_mac_alg ma, size_t akl,
		      const uint8_t *key, const uint8_t *iv, const uint8_t *pt, size_t len,
		      const uint8_t *want_ct)
{
	uint8_t akey[128], aad[13], digest[64], want_md[64], t[64];
	uint8_t *ct = malloc(len + 16), *out = malloc(len + 16), *cat = malloc(len + sizeof(aad));
	struct atx_session_params p = { .size = sizeof(p), .service = ATX_SVC_CHAIN, .cipher = ca,
					.mac = ma, .key = key, .key_len = ckl, .auth_key = akey,
					.auth_key_len = akl, .dir = ATX_ENCRYPT,
					.chain_order = ATX_CHAIN_ENC_THEN_MAC };
	struct soft_sess *se, *sd;
	size_t ivl = atx__iv_len(&p), dl, rl = 0;
	static const char *cm[] = { "AES-128-CBC", "AES-192-CBC", "AES-256-CBC" };

	rnd_fill(akey, akl);
	rnd_fill(aad, sizeof(aad));
	ref_cipher(ca, 1, key, ckl, iv, pt, len, ct);
	if (want_ct)
		expect_mem(ct, want_ct, len, "chain", "reference vs KAT");
	/* The MAC covers aad || ciphertext. */
	memcpy(cat, aad, sizeof(aad));
	memcpy(cat + sizeof(aad), ct, len);
	if (ma == ATX_MAC_AES_CMAC)
		assert_non_null(EVP_Q_mac(NULL, "CMAC", NULL, cm[(akl - 16) / 8], NULL, akey, akl, cat,
					  len + sizeof(aad), want_md, sizeof(want_md), &rl));
	else
		assert_non_null(HMAC(EVP_get_digestbyname(atx__mac_hmac_digest(ma)), akey, (int)akl,
				     cat, len + sizeof(aad), want_md, NULL));
	dl = atx__digest_len(&p);

	assert_int_equal(atx__crypto_check(&p, ATX_OP_CHAIN, len, ivl, sizeof(aad)), 0);
	se = sess_new(&p);
	p.dir = ATX_DECRYPT;
	p.chain_order = ATX_CHAIN_MAC_THEN_ENC;
	sd = sess_new(&p);

	for (unsigned a = 0; a < NPATS; a++) {
		struct req rq = { .len = len, .iv = iv, .iv_len = ivl, .aad = aad,
				  .aad_len = sizeof(aad), .digest = digest, .src = siov, .dst = diov };

		memcpy(cat, pt, len);
		memset(out, 0xa5, len + 16);
		rq.src_cnt = split(cat, len, pats[a].p, pats[a].n, siov);
		rq.dst_cnt = split(out, len, pats[NPATS - 1 - a].p, pats[NPATS - 1 - a].n, diov);
		assert_int_equal(run(se, a % NLANES, ATX_OP_CHAIN, &rq), 0);
		expect_mem(out, ct, len, "chain encrypt", pats[a].name);
		expect_mem(digest, want_md, dl, "chain MAC", pats[a].name);

		/* Verify-then-decrypt, and every forgery leaves dst alone. */
		memcpy(cat, ct, len);
		memset(out, 0xa5, len + 16);
		assert_int_equal(run(sd, a % NLANES, ATX_OP_CHAIN, &rq), 0);
		expect_mem(out, pt, len, "chain decrypt", pats[a].name);
		memset(out, 0x5a, len + 16);
		memcpy(t, digest, dl);
		digest[a % dl] ^= 4;
		assert_int_equal(run(sd, a % NLANES, ATX_OP_CHAIN, &rq), -EBADMSG);
		expect_untouched(out, len + 16, 0x5a, "chain: bad MAC");
		memcpy(digest, t, dl);
		cat[len - 1] ^= 1;
		assert_int_equal(run(sd, a % NLANES, ATX_OP_CHAIN, &rq), -EBADMSG);
		expect_untouched(out, len + 16, 0x5a, "chain: bad ciphertext");
		cat[len - 1] ^= 1;
		aad[0] ^= 1;
		assert_int_equal(run(sd, a % NLANES, ATX_OP_CHAIN, &rq), -EBADMSG);
		expect_untouched(out, len + 16, 0x5a, "chain: bad aad");
		aad[0] ^= 1;
	}
	soft_crypto_session_free(se);
	soft_crypto_session_free(sd);
	free(ct);
	free(out);
	free(cat);
}

static void test_chain(void **state)
{
	size_t kl, ivl, len, cl;
	uint8_t *key = kat_unhex(SP800_38A_K256, &kl);
	uint8_t *iv = kat_unhex("000102030405060708090a0b0c0d0e0f", &ivl);
	uint8_t *pt = kat_unhex(SP800_38A_PT, &len), *ct = kat_unhex(kat_ciphers[3].ct, &cl);
	uint8_t xkey[64], big[1000];

	/* AES-256-CBC from SP 800-38A F.2.5 + HMAC-SHA256 (MAC from OpenSSL's HMAC()). */
	chain_one(ATX_CIPHER_AES_CBC, 32, ATX_MAC_HMAC_SHA256, 32, key, iv, pt, len, ct);
	chain_one(ATX_CIPHER_AES_CBC, 32, ATX_MAC_HMAC_SHA512, 100, key, iv, pt, len, ct);
	chain_one(ATX_CIPHER_AES_CTR, 32, ATX_MAC_AES_CMAC, 16, key, iv, pt, 61, NULL);
	rnd_fill(xkey, 64);
	rnd_fill(big, sizeof(big));
	chain_one(ATX_CIPHER_AES_XTS, 64, ATX_MAC_HMAC_SHA1, 20, xkey, iv, big, sizeof(big), NULL);
	chain_one(ATX_CIPHER_3DES_CBC, 24, ATX_MAC_HMAC_SHA384, 48, xkey, iv, big, 800, NULL);
	free(key);
	free(iv);
	free(pt);
	free(ct);
}

/* ---- zero length, CCM with empty payload, errors ---- */

static void test_zero_length(void **state)
{
	uint8_t key[32] = { 1, 2, 3 }, iv[16] = { 0 }, aad[5] = { 9, 8, 7, 6, 5 };
	uint8_t tag[16], ref[16], dummy[1];
	struct soft_sess *ss;
	struct req rq = { .len = 0, .iv = iv, .src = NULL, .src_cnt = 0 };

	/* Stream ciphers: nothing to do, success. */
	ss = sess_simple(ATX_SVC_CIPHER, ATX_CIPHER_AES_CTR, ATX_ENCRYPT, key, 16, 0);
	rq.iv_len = 16;
	assert_int_equal(run(ss, 0, ATX_OP_CIPHER, &rq), 0);
	assert_int_equal(run_flat(ss, 1, ATX_OP_CIPHER, dummy, dummy, 0, iv, 16, NULL, 0, NULL), 0);
	soft_crypto_session_free(ss);
	ss = sess_simple(ATX_SVC_CIPHER, ATX_CIPHER_CHACHA20, ATX_DECRYPT, key, 32, 0);
	assert_int_equal(run(ss, 0, ATX_OP_CIPHER, &rq), 0);
	soft_crypto_session_free(ss);

	/* CCM with AAD only: a pure authenticator (differential against OpenSSL). */
	for (int enc = 1; enc >= 0; enc--) {
		ss = sess_simple(ATX_SVC_AEAD, ATX_AEAD_AES_CCM, enc ? ATX_ENCRYPT : ATX_DECRYPT,
				 key, 16, 8);
		ref_aead_enc(ATX_AEAD_AES_CCM, key, 16, iv, 12, aad, sizeof(aad), NULL, 0, dummy, ref, 8);
		memcpy(tag, ref, 8);
		rq.iv_len = 12;
		rq.aad = aad;
		rq.aad_len = sizeof(aad);
		rq.digest = tag;
		if (enc)
			memset(tag, 0, sizeof(tag));
		assert_int_equal(run(ss, 1, ATX_OP_AEAD, &rq), 0);
		expect_mem(tag, ref, 8, "CCM empty payload", enc ? "tag" : "verify");
		if (!enc) {
			tag[3] ^= 1;
			assert_int_equal(run(ss, 1, ATX_OP_AEAD, &rq), -EBADMSG);
		}
		soft_crypto_session_free(ss);
	}
	/* ChaCha20-Poly1305 empty, AAD only (differential). */
	ss = sess_simple(ATX_SVC_AEAD, ATX_AEAD_CHACHA20_POLY1305, ATX_ENCRYPT, key, 32, 0);
	ref_aead_enc(ATX_AEAD_CHACHA20_POLY1305, key, 32, iv, 12, aad, sizeof(aad), NULL, 0, dummy,
		     ref, 16);
	assert_int_equal(run(ss, 0, ATX_OP_AEAD, &rq), 0);
	expect_mem(tag, ref, 16, "ChaCha20-Poly1305 empty payload", "tag");
	soft_crypto_session_free(ss);
}

/*
 * Payloads past the scratch buffer's keep size: XTS gathered from a cut
 * list and AEAD decryption of several MiB, then small requests again on
 * the same lane (the scratch was released and must be re-made).  Also:
 * a failed verification leaves nothing on the thread's OpenSSL error
 * queue (lanes are long-lived threads).
 */
static void test_large_and_error_queue(void **state)
{
	size_t len = (3u << 20) + 16 + 5;
	uint8_t key[64], iv[16], tag[16], t2[16];
	uint8_t *pt = malloc(len), *ref = malloc(len + 16), *out = malloc(len), *back = malloc(len);
	struct soft_sess *xe, *ge, *gd;
	struct req rq = { .len = len, .iv = iv, .iv_len = 16, .src = siov, .dst = diov };
	size_t cut[] = { 1000001, 3, 999999 };

	rnd_fill(key, sizeof(key));
	rnd_fill(iv, sizeof(iv));
	rnd_fill(pt, len);
	xe = sess_simple(ATX_SVC_CIPHER, ATX_CIPHER_AES_XTS, ATX_ENCRYPT, key, 64, 0);
	ref_cipher(ATX_CIPHER_AES_XTS, 1, key, 64, iv, pt, len, ref);
	rq.src_cnt = split(pt, len, cut, 3, siov);
	rq.dst_cnt = split(out, len, cut + 1, 2, diov);
	for (int r = 0; r < 2; r++) {
		memset(out, 0, len);
		assert_int_equal(run(xe, 0, ATX_OP_CIPHER, &rq), 0);
		expect_mem(out, ref, len, "XTS 3 MiB", "cut lists through scratch");
		/*
		 * A small request in between (the big scratch was dropped).
		 * Whole XTS blocks depend only on their index, so these are
		 * the first 32 bytes of the big result.
		 */
		assert_int_equal(run_flat(xe, 0, ATX_OP_CIPHER, out, pt, 32, iv, 16, NULL, 0, NULL), 0);
		expect_mem(out, ref, 32, "XTS", "small after big");
	}

	ge = sess_simple(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_ENCRYPT, key, 32, 0);
	gd = sess_simple(ATX_SVC_AEAD, ATX_AEAD_AES_GCM, ATX_DECRYPT, key, 32, 0);
	ref_aead_enc(ATX_AEAD_AES_GCM, key, 32, iv, 12, NULL, 0, pt, len, ref, tag, 16);
	assert_int_equal(run_flat(ge, 1, ATX_OP_AEAD, out, pt, len, iv, 12, NULL, 0, t2), 0);
	expect_mem(out, ref, len, "GCM 3 MiB", "encrypt");
	expect_mem(t2, tag, 16, "GCM 3 MiB", "tag");
	assert_int_equal(run_flat(gd, 1, ATX_OP_AEAD, back, out, len, iv, 12, NULL, 0, t2), 0);
	expect_mem(back, pt, len, "GCM 3 MiB", "decrypt");
	ERR_clear_error();
	t2[5] ^= 1;
	memset(back, 0x5a, len);
	assert_int_equal(run_flat(gd, 1, ATX_OP_AEAD, back, out, len, iv, 12, NULL, 0, t2), -EBADMSG);
	expect_untouched(back, len, 0x5a, "GCM 3 MiB forgery");
	assert_int_equal(ERR_peek_error(), 0);
	t2[5] ^= 1;
	assert_int_equal(run_flat(gd, 1, ATX_OP_AEAD, back, out, 64, iv, 12, NULL, 0, t2), -EBADMSG);
	assert_int_equal(ERR_peek_error(), 0);

	soft_crypto_session_free(xe);
	soft_crypto_session_free(ge);
	soft_crypto_session_free(gd);
	free(pt);
	free(ref);
	free(out);
	free(back);
}

static void test_exec_errors(void **state)
{
	uint8_t key[16] = { 0 }, buf[32] = { 0 }, iv[16] = { 0 };
	struct soft_sess *ss = sess_simple(ATX_SVC_CIPHER, ATX_CIPHER_AES_CBC, ATX_ENCRYPT, key, 16, 0);
	struct atx_session_params bad = { .size = sizeof(bad), .service = ATX_SVC_CIPHER,
					  .cipher = ATX_CIPHER_AES_CBC, .key = key, .key_len = 15 };
	struct soft_sess *none = (struct soft_sess *)1;
	struct iovec short_iov = { buf, 16 };
	struct req rq = { .len = 32, .iv = iv, .iv_len = 16, .src = &short_iov, .src_cnt = 1 };

	assert_int_equal(run_flat(ss, NLANES, ATX_OP_CIPHER, buf, buf, 32, iv, 16, NULL, 0, NULL), -EINVAL);
	assert_int_equal(run_flat(ss, 0, ATX_OP_HASH, buf, buf, 32, iv, 16, NULL, 0, NULL), -EINVAL);
	/* A list shorter than len is refused, not overrun. */
	assert_int_equal(run(ss, 0, ATX_OP_CIPHER, &rq), -EINVAL);
	soft_crypto_session_free(ss);

	assert_int_equal(soft_crypto_session_new(&bad, 1, &none), -EINVAL);
	assert_null(none);
	assert_int_equal(soft_crypto_probe(&bad), -EOPNOTSUPP);
	bad.key_len = 16;
	assert_int_equal(soft_crypto_probe(&bad), 0);
	assert_int_equal(soft_crypto_session_new(&bad, 0, &none), -EINVAL);
	soft_crypto_session_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cipher_kat),
		cmocka_unit_test(test_hash_kat),
		cmocka_unit_test(test_mac_kat),
		cmocka_unit_test(test_aead_kat),
		cmocka_unit_test(test_gcm_ivlen_switch_and_truncation),
		cmocka_unit_test(test_cipher_differential),
		cmocka_unit_test(test_aead_differential),
		cmocka_unit_test(test_digest_differential),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_large_and_error_queue),
		cmocka_unit_test(test_exec_errors),
	};

	return cmocka_run_group_tests_name("crypto_kat", tests, NULL, NULL);
}
