/* SPDX-License-Identifier: MIT */
/*
 * test_raid.c - the software engine's RAID executor (soft_raid_exec)
 * against a plain reference written here: GF(2^8) by shift-and-add with
 * the 0x11d polynomial, log/exp tables built from it, Q = sum g^i D_i.
 * Nothing from ISA-L is used as truth.
 *
 * The recovery test is Linux's crypto/async_tx/raid6test.c: for every
 * disk count 4..16 and every pair of failed disks (data, P or Q), build
 * the stripe, destroy the pair, recover and compare with the original.
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

#include "soft/soft.h"
#include "ref_gf.h"

#define MAX_DISKS 16
#define MAX_BLOCKS 66           /* 64 sources + P + Q */
#define MAX_LEN 8192
#define NPOS 64                 /* corrupted positions per block in the val tests */

/* ---- reference GF(2^8): log/exp tables built from ref_gf_mul ---- */

static uint8_t ref_exp[512], ref_log[256];

static void ref_init(void)
{
	uint8_t x = 1;

	for (int i = 0; i < 255; i++) {
		ref_exp[i] = ref_exp[i + 255] = x;
		ref_log[x] = (uint8_t)i;
		x = ref_gf_mul(x, 2);
	}
	/* 2 generates the whole group: otherwise the tables are wrong. */
	assert_int_equal(x, 1);
}

static uint8_t ref_mul(uint8_t a, uint8_t b)
{
	if (!a || !b)
		return 0;
	return ref_exp[ref_log[a] + ref_log[b]];
}

static uint8_t ref_inv(uint8_t a)
{
	return ref_exp[255 - ref_log[a]];
}

/* P = xor, Q = sum g^i D_i, byte by byte. */
static void ref_pq(uint8_t *p, uint8_t *q, uint8_t *const *d, unsigned n, size_t len)
{
	for (size_t x = 0; x < len; x++) {
		uint8_t wp = 0, wq = 0;

		for (unsigned i = 0; i < n; i++) {
			wp ^= d[i][x];
			wq ^= ref_mul(ref_exp[i], d[i][x]);
		}
		if (p)
			p[x] = wp;
		if (q)
			q[x] = wq;
	}
}

static void ref_xor(uint8_t *dst, uint8_t *const *s, unsigned n, size_t len)
{
	for (size_t x = 0; x < len; x++) {
		uint8_t v = 0;

		for (unsigned i = 0; i < n; i++)
			v ^= s[i][x];
		dst[x] = v;
	}
}

/*
 * The 2x2 system of the recovery solved per byte, to check the algebra
 * of the reference itself: D_a + D_b = Pxy, g^a D_a + g^b D_b = Qxy.
 */
static void test_reference_selfcheck(void **state)
{
	(void)state;
	for (unsigned a = 0; a < 8; a++)
		for (unsigned b = a + 1; b < 9; b++)
			for (unsigned da = 0; da < 256; da += 17)
				for (unsigned db = 0; db < 256; db += 13) {
					uint8_t pxy = (uint8_t)(da ^ db);
					uint8_t qxy = ref_mul(ref_exp[a], (uint8_t)da) ^
						      ref_mul(ref_exp[b], (uint8_t)db);
					uint8_t ra = ref_mul(qxy ^ ref_mul(ref_exp[b], pxy),
							     ref_inv(ref_exp[a] ^ ref_exp[b]));

					assert_int_equal(ra, da);
					assert_int_equal(pxy ^ ra, db);
				}
	for (unsigned a = 1; a < 256; a++) {
		assert_int_equal(ref_mul((uint8_t)a, ref_inv((uint8_t)a)), 1);
		assert_int_equal(ref_mul((uint8_t)a, 7), ref_gf_mul((uint8_t)a, 7));
	}
}

/* ---- buffers ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill_rand(uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)rnd();
}

/* Block memory: 64-byte aligned bases, the block at base + an offset. */
static uint8_t *mem[MAX_BLOCKS];

static int group_setup(void **state)
{
	(void)state;
	ref_init();
	for (int i = 0; i < MAX_BLOCKS; i++) {
		mem[i] = aligned_alloc(64, MAX_LEN + 128);
		if (!mem[i])
			return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < MAX_BLOCKS; i++)
		free(mem[i]);
	return 0;
}

enum align_mode { AL_ALIGNED, AL_ODD, AL_MIXED, AL__COUNT };
static const char *const al_name[] = { "aligned", "all+3", "mixed" };

/* Point blk[0..n-1] into mem[] per @mode. */
static void place(uint8_t **blk, unsigned n, enum align_mode mode)
{
	for (unsigned i = 0; i < n; i++) {
		size_t off = 0;

		if (mode == AL_ODD)
			off = 3;
		else if (mode == AL_MIXED)
			off = (i % 3 == 1) ? (i * 7) % 64 : 0;
		blk[i] = mem[i] + off;
	}
}

static void check_eq(const uint8_t *got, const uint8_t *want, size_t len, const char *what,
		     unsigned idx, size_t blen, unsigned n, enum align_mode mode)
{
	for (size_t x = 0; x < len; x++)
		if (got[x] != want[x])
			fail_msg("%s[%u]: byte %zu is %#04x, expected %#04x (n=%u len=%zu %s)", what,
				 idx, x, got[x], want[x], n, blen, al_name[mode]);
}

static int run_op(uint8_t opcode, void *const *srcs, unsigned n, size_t len, void *dst, void *p,
		  void *q, uint32_t *result, unsigned a, unsigned b)
{
	struct atx_op op;

	memset(&op, 0, sizeof(op));
	op.opcode = opcode;
	op.len = len;
	op.u.raid.srcs = srcs;
	op.u.raid.nsrc = n;
	op.u.raid.dst = dst;
	op.u.raid.p = p;
	op.u.raid.q = q;
	op.u.raid.result = result;
	op.u.raid.faila = a;
	op.u.raid.failb = b;
	return soft_raid_exec(&op);
}

/* Run a validation op, assert that it ran, and return the result word it wrote. */
static uint32_t run_val(uint8_t opcode, uint8_t *const *blk, unsigned n, size_t len, void *p,
			void *q)
{
	uint32_t res = 0xdead;

	assert_int_equal(run_op(opcode, (void *const *)blk, n, len, NULL, p, q, &res, 0, 0), 0);
	return res;
}

/* ---- raid6test ---- */

static const size_t rec_lens[] = { 4096, 1000, 4100 };

static uint8_t orig[MAX_DISKS][MAX_LEN];

static void restore(uint8_t **blk, unsigned disks, size_t len)
{
	for (unsigned i = 0; i < disks; i++)
		memcpy(blk[i], orig[i], len);
}

/*
 * A random stripe in orig[]: @nd data blocks, then P and Q by the
 * reference; blk[0..nd+1] placed in mem[] per @mode (still to be filled).
 */
static void stripe_make(uint8_t **blk, unsigned nd, size_t len, enum align_mode mode)
{
	uint8_t *optr[MAX_DISKS];

	place(blk, nd + 2, mode);
	for (unsigned i = 0; i < nd + 2; i++)
		optr[i] = orig[i];
	for (unsigned i = 0; i < nd; i++)
		fill_rand(orig[i], len);
	ref_pq(orig[nd], orig[nd + 1], optr, nd, len);
}

/*
 * Recover the pair (fa, fb), fa < fb, of a stripe of @disks blocks: data
 * 0..disks-3, P at disks-2, Q at disks-1 (raid6test's layout).
 */
static void recover_pair(uint8_t **blk, unsigned disks, unsigned fa, unsigned fb, size_t len)
{
	unsigned nd = disks - 2, pi = disks - 2, qi = disks - 1;
	uint8_t *p = blk[pi], *q = blk[qi];
	void *srcs[MAX_DISKS];
	unsigned k = 0;
	int rc;

	if (fb == qi && fa == pi) {
		/* P+Q lost: regenerate both. */
		rc = run_op(ATX_OP_PQ, (void *const *)blk, nd, len, NULL, p, q, NULL, 0, 0);
	} else if (fb == qi) {
		/* data+Q: data from P and the other data (xor), then Q alone. */
		for (unsigned i = 0; i < nd; i++)
			if (i != fa)
				srcs[k++] = blk[i];
		srcs[k++] = p;
		rc = run_op(ATX_OP_XOR, srcs, k, len, blk[fa], NULL, NULL, NULL, 0, 0);
		assert_int_equal(rc, 0);
		rc = run_op(ATX_OP_PQ, (void *const *)blk, nd, len, NULL, NULL, q, NULL, 0, 0);
	} else if (fb == pi) {
		rc = run_op(ATX_OP_RAID6_DATAP, (void *const *)blk, nd, len, NULL, p, q, NULL, fa, 0);
	} else {
		/* Alternate the order of the pair: the executor must not care. */
		if ((fa + fb) & 1)
			rc = run_op(ATX_OP_RAID6_2DATA, (void *const *)blk, nd, len, NULL, p, q,
				    NULL, fa, fb);
		else
			rc = run_op(ATX_OP_RAID6_2DATA, (void *const *)blk, nd, len, NULL, p, q,
				    NULL, fb, fa);
	}
	assert_int_equal(rc, 0);
}

static const char *disk_name(unsigned i, unsigned disks, char *buf)
{
	if (i == disks - 2)
		return "P";
	if (i == disks - 1)
		return "Q";
	snprintf(buf, 16, "D%u", i);
	return buf;
}

static void raid6test_one(unsigned disks, size_t len, enum align_mode mode)
{
	uint8_t *blk[MAX_DISKS];
	unsigned nd = disks - 2;
	char n1[16], n2[16];
	int rc;

	stripe_make(blk, nd, len, mode);

	/* Generation against the reference. */
	restore(blk, nd, len);
	fill_rand(blk[nd], len);
	fill_rand(blk[nd + 1], len);
	rc = run_op(ATX_OP_PQ, (void *const *)blk, nd, len, NULL, blk[nd], blk[nd + 1], NULL, 0, 0);
	assert_int_equal(rc, 0);
	check_eq(blk[nd], orig[nd], len, "P", 0, len, nd, mode);
	check_eq(blk[nd + 1], orig[nd + 1], len, "Q", 0, len, nd, mode);
	assert_int_equal(run_val(ATX_OP_PQ_VAL, blk, nd, len, blk[nd], blk[nd + 1]), 0);

	for (unsigned fa = 0; fa < disks; fa++)
		for (unsigned fb = fa + 1; fb < disks; fb++) {
			restore(blk, disks, len);
			fill_rand(blk[fa], len);
			fill_rand(blk[fb], len);
			recover_pair(blk, disks, fa, fb, len);
			for (unsigned i = 0; i < disks; i++)
				for (size_t x = 0; x < len; x++)
					if (blk[i][x] != orig[i][x])
						fail_msg("disks=%u len=%zu %s: lost %s+%s, block %u "
							 "byte %zu is %#04x, expected %#04x",
							 disks, len, al_name[mode],
							 disk_name(fa, disks, n1),
							 disk_name(fb, disks, n2), i, x, blk[i][x],
							 orig[i][x]);
		}
}

static void test_raid6_recov(void **state)
{
	(void)state;
	for (unsigned disks = 4; disks <= MAX_DISKS; disks++)
		for (size_t l = 0; l < sizeof(rec_lens) / sizeof(rec_lens[0]); l++)
			for (int m = 0; m < AL__COUNT; m++) {
				/* Every mode at full coverage would be slow under ASan:
				 * unaligned modes at a sample of disk counts. */
				if (m != AL_ALIGNED && disks != 4 && disks != 5 && disks != 11 &&
				    disks != MAX_DISKS)
					continue;
				raid6test_one(disks, rec_lens[l], (enum align_mode)m);
			}
}

/* ---- validation: every single-byte corruption in a sample is seen ---- */

static void val_one(unsigned nd, size_t len, enum align_mode mode)
{
	uint8_t *blk[MAX_DISKS];
	unsigned disks = nd + 2;
	uint8_t *p, *q;
	uint32_t res;

	stripe_make(blk, nd, len, mode);
	restore(blk, disks, len);
	p = blk[nd];
	q = blk[nd + 1];

	/* Clean stripe: every flavour says 0. */
	assert_int_equal(run_val(ATX_OP_PQ_VAL, blk, nd, len, p, q), 0);
	assert_int_equal(run_val(ATX_OP_PQ_VAL, blk, nd, len, NULL, q), 0);
	assert_int_equal(run_val(ATX_OP_PQ_VAL, blk, nd, len, p, NULL), 0);
	/* data + P xor to zero */
	assert_int_equal(run_val(ATX_OP_XOR_VAL, blk, nd + 1, len, NULL, NULL), 0);

	for (unsigned b = 0; b < disks; b++) {
		bool is_p = b == nd, is_q = b == nd + 1;
		uint32_t want_pq = is_p ? ATX_VAL_P_BAD : is_q ? ATX_VAL_Q_BAD :
			ATX_VAL_P_BAD | ATX_VAL_Q_BAD;

		for (int t = 0; t < NPOS; t++) {
			/* first and last bytes always, then random ones */
			size_t x = t == 0 ? 0 : t == 1 ? len - 1 : rnd() % len;
			uint8_t flip = (uint8_t)(rnd() % 255 + 1);

			blk[b][x] ^= flip;
			res = run_val(ATX_OP_PQ_VAL, blk, nd, len, p, q);
			if (res != want_pq)
				fail_msg("pq_val: block %u byte %zu ^%#04x (nd=%u len=%zu %s): "
					 "result %#x, expected %#x", b, x, flip, nd, len,
					 al_name[mode], res, want_pq);
			assert_int_equal(run_val(ATX_OP_PQ_VAL, blk, nd, len, NULL, q),
					 want_pq & ATX_VAL_Q_BAD);
			assert_int_equal(run_val(ATX_OP_PQ_VAL, blk, nd, len, p, NULL),
					 want_pq & ATX_VAL_P_BAD);
			assert_int_equal(run_val(ATX_OP_XOR_VAL, blk, nd + 1, len, NULL, NULL),
					 is_q ? 0 : ATX_VAL_P_BAD);
			blk[b][x] ^= flip;
		}
	}
	/* The validators wrote nothing: the stripe is still the original. */
	for (unsigned i = 0; i < disks; i++)
		check_eq(blk[i], orig[i], len, "after val", i, len, nd, mode);
}

static void test_val(void **state)
{
	static const size_t lens[] = { 4096, 1000, 4100, 8192 };

	(void)state;
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
		for (int m = 0; m < AL__COUNT; m++) {
			val_one(1, lens[l], (enum align_mode)m);
			val_one(3, lens[l], (enum align_mode)m);
			val_one(MAX_DISKS - 2, lens[l], (enum align_mode)m);
		}
}

/* ---- xor and pq against the reference, many sources ---- */

static const unsigned src_counts[] = { 1, 2, 3, 4, 16, 31, 32, 33, 63, 64 };
static const size_t gen_lens[] = { 4096, 1000, 4100, 128, 64, 7, 1, 0 };

static uint8_t want[MAX_LEN], want_q[MAX_LEN];

/* Run @one for every source count, length and alignment of the generation tests. */
static void for_each_gen_case(void (*one)(unsigned n, size_t len, enum align_mode mode))
{
	for (size_t c = 0; c < sizeof(src_counts) / sizeof(src_counts[0]); c++)
		for (size_t l = 0; l < sizeof(gen_lens) / sizeof(gen_lens[0]); l++)
			for (int m = 0; m < AL__COUNT; m++)
				one(src_counts[c], gen_lens[l], (enum align_mode)m);
}

static void xor_one(unsigned n, size_t len, enum align_mode mode)
{
	uint8_t *blk[MAX_BLOCKS];
	uint8_t *dst;

	place(blk, n + 1, mode);
	for (unsigned i = 0; i <= n; i++)
		fill_rand(blk[i], MAX_LEN);
	dst = blk[n];
	ref_xor(want, blk, n, len);
	/* the byte after the block must survive */
	uint8_t guard = dst[len];

	assert_int_equal(run_op(ATX_OP_XOR, (void *const *)blk, n, len, dst, NULL, NULL, NULL, 0, 0),
			 0);
	check_eq(dst, want, len, "xor dst", 0, len, n, mode);
	assert_int_equal(dst[len], guard);

	/* md-raid style: the destination is also the first source. */
	assert_int_equal(run_op(ATX_OP_XOR, (void *const *)blk, n, len, blk[0], NULL, NULL, NULL, 0,
				0), 0);
	check_eq(blk[0], want, len, "xor in place", 0, len, n, mode);
}

static void test_xor(void **state)
{
	(void)state;
	for_each_gen_case(xor_one);
}

static void pq_one(unsigned n, size_t len, enum align_mode mode)
{
	uint8_t *blk[MAX_BLOCKS];
	uint8_t *p, *q, gp, gq;

	place(blk, n + 2, mode);
	for (unsigned i = 0; i < n + 2; i++)
		fill_rand(blk[i], MAX_LEN);
	p = blk[n];
	q = blk[n + 1];
	gp = p[len];
	gq = q[len];
	ref_pq(want, want_q, blk, n, len);

	assert_int_equal(run_op(ATX_OP_PQ, (void *const *)blk, n, len, NULL, p, q, NULL, 0, 0), 0);
	check_eq(p, want, len, "P", 0, len, n, mode);
	check_eq(q, want_q, len, "Q", 0, len, n, mode);
	assert_int_equal(p[len], gp);
	assert_int_equal(q[len], gq);
	assert_int_equal(run_val(ATX_OP_PQ_VAL, blk, n, len, p, q), 0);
	if (len) {
		/* Q bad: P is finished by the xor check over n + 1 blocks */
		q[len - 1] ^= 1;
		assert_int_equal(run_val(ATX_OP_PQ_VAL, blk, n, len, p, q), ATX_VAL_Q_BAD);
		assert_int_equal(run_val(ATX_OP_PQ_VAL, blk, n, len, p, NULL), 0);
		q[len - 1] ^= 1;
	}

	/* P alone, Q alone: the other buffer is left untouched. */
	fill_rand(p, len);
	fill_rand(q, len);
	memcpy(orig[0], q, len);
	assert_int_equal(run_op(ATX_OP_PQ, (void *const *)blk, n, len, NULL, p, NULL, NULL, 0, 0), 0);
	check_eq(p, want, len, "P only", 0, len, n, mode);
	check_eq(q, orig[0], len, "Q untouched", 0, len, n, mode);
	fill_rand(p, len);
	memcpy(orig[0], p, len);
	assert_int_equal(run_op(ATX_OP_PQ, (void *const *)blk, n, len, NULL, NULL, q, NULL, 0, 0), 0);
	check_eq(q, want_q, len, "Q only", 0, len, n, mode);
	check_eq(p, orig[0], len, "P untouched", 0, len, n, mode);
}

static void test_pq(void **state)
{
	(void)state;
	for_each_gen_case(pq_one);
}

/* Recovery with many data blocks (beyond raid6test's 16 disks). */
static void test_recov_wide(void **state)
{
	static const unsigned nds[] = { 1, 2, 32, 33, 64 };
	static uint8_t keep[MAX_BLOCKS][1000];
	uint8_t *blk[MAX_BLOCKS];
	const size_t len = 1000;

	(void)state;
	for (size_t c = 0; c < sizeof(nds) / sizeof(nds[0]); c++) {
		unsigned nd = nds[c];
		uint8_t *p, *q;

		place(blk, nd + 2, AL_MIXED);
		for (unsigned i = 0; i < nd; i++)
			fill_rand(blk[i], len);
		p = blk[nd];
		q = blk[nd + 1];
		ref_pq(p, q, blk, nd, len);
		for (unsigned i = 0; i < nd + 2; i++)
			memcpy(keep[i], blk[i], len);

		/* a sample of pairs: ends, middle, and random */
		for (int t = 0; t < 12; t++) {
			unsigned a = t == 0 ? 0 : t == 1 ? nd - 1 : (unsigned)(rnd() % nd);
			unsigned b = t == 0 ? nd - 1 : (unsigned)(rnd() % nd);

			fill_rand(blk[a], len);
			fill_rand(p, len);
			assert_int_equal(run_op(ATX_OP_RAID6_DATAP, (void *const *)blk, nd, len, NULL,
						p, q, NULL, a, 0), 0);
			check_eq(blk[a], keep[a], len, "datap D", a, len, nd, AL_MIXED);
			check_eq(p, keep[nd], len, "datap P", 0, len, nd, AL_MIXED);
			if (nd < 2 || a == b)
				continue;
			fill_rand(blk[a], len);
			fill_rand(blk[b], len);
			assert_int_equal(run_op(ATX_OP_RAID6_2DATA, (void *const *)blk, nd, len, NULL,
						p, q, NULL, a, b), 0);
			check_eq(blk[a], keep[a], len, "2data Da", a, len, nd, AL_MIXED);
			check_eq(blk[b], keep[b], len, "2data Db", b, len, nd, AL_MIXED);
		}
	}
}

/* Blocks larger than the executor's scratch chunks, offset alike: lead, ISA-L body, tail. */
static void test_large(void **state)
{
	const unsigned n = 5;
	const size_t len = (1u << 20) + 3;
	uint8_t *big[7], *base[7], *rp = malloc(len), *rq = malloc(len);
	uint32_t res;

	(void)state;
	assert_non_null(rp);
	assert_non_null(rq);
	for (unsigned i = 0; i < n + 2; i++) {
		base[i] = aligned_alloc(64, (len + 128 + 63) & ~(size_t)63);
		assert_non_null(base[i]);
		big[i] = base[i] + 5;
		fill_rand(big[i], len);
	}
	ref_pq(rp, rq, big, n, len);
	assert_int_equal(run_op(ATX_OP_PQ, (void *const *)big, n, len, NULL, big[n], big[n + 1],
				NULL, 0, 0), 0);
	check_eq(big[n], rp, len, "large P", 0, len, n, AL_ODD);
	check_eq(big[n + 1], rq, len, "large Q", 0, len, n, AL_ODD);
	fill_rand(big[n + 1], len);
	assert_int_equal(run_op(ATX_OP_PQ, (void *const *)big, n, len, NULL, NULL, big[n + 1],
				NULL, 0, 0), 0);
	check_eq(big[n + 1], rq, len, "large Q only", 0, len, n, AL_ODD);
	res = 0xdead;
	assert_int_equal(run_op(ATX_OP_PQ_VAL, (void *const *)big, n, len, NULL, big[n],
				big[n + 1], &res, 0, 0), 0);
	assert_int_equal(res, 0);
	/* corruption in the last scratch chunk and in the ISA-L body */
	big[2][len - 2] ^= 0x40;
	assert_int_equal(run_op(ATX_OP_PQ_VAL, (void *const *)big, n, len, NULL, big[n],
				big[n + 1], &res, 0, 0), 0);
	assert_int_equal(res, ATX_VAL_P_BAD | ATX_VAL_Q_BAD);
	big[2][len - 2] ^= 0x40;
	big[n + 1][len / 2] ^= 0x01;
	assert_int_equal(run_op(ATX_OP_PQ_VAL, (void *const *)big, n, len, NULL, big[n],
				big[n + 1], &res, 0, 0), 0);
	assert_int_equal(res, ATX_VAL_Q_BAD);
	big[n + 1][len / 2] ^= 0x01;
	/* lose two data blocks (keep the originals in rp/rq) */
	memcpy(rp, big[1], len);
	memcpy(rq, big[4], len);
	fill_rand(big[1], len);
	fill_rand(big[4], len);
	assert_int_equal(run_op(ATX_OP_RAID6_2DATA, (void *const *)big, n, len, NULL, big[n],
				big[n + 1], NULL, 4, 1), 0);
	check_eq(big[1], rp, len, "large D", 1, len, n, AL_ODD);
	check_eq(big[4], rq, len, "large D", 4, len, n, AL_ODD);
	for (unsigned i = 0; i < n + 2; i++)
		free(base[i]);
	free(rp);
	free(rq);
}

/* ---- argument checks ---- */

static void test_einval(void **state)
{
	uint8_t *blk[MAX_BLOCKS + 1];
	uint32_t res;

	(void)state;
	place(blk, 4, AL_ALIGNED);
	for (int i = 0; i < MAX_BLOCKS; i++)
		blk[i] = mem[i % MAX_BLOCKS];
	void *const *s = (void *const *)blk;

	assert_int_equal(run_op(ATX_OP_XOR, s, 0, 64, mem[5], NULL, NULL, NULL, 0, 0), -EINVAL);
	assert_int_equal(run_op(ATX_OP_XOR, s, ATX_RAID_MAX_SRCS + 1, 64, mem[5], NULL, NULL, NULL,
				0, 0), -EINVAL);
	assert_int_equal(run_op(ATX_OP_XOR, NULL, 2, 64, mem[5], NULL, NULL, NULL, 0, 0), -EINVAL);
	assert_int_equal(run_op(ATX_OP_XOR, s, 2, 64, NULL, NULL, NULL, NULL, 0, 0), -EINVAL);
	assert_int_equal(run_op(ATX_OP_XOR_VAL, s, 2, 64, NULL, NULL, NULL, NULL, 0, 0), -EINVAL);
	assert_int_equal(run_op(ATX_OP_PQ, s, 2, 64, NULL, NULL, NULL, NULL, 0, 0), -EINVAL);
	assert_int_equal(run_op(ATX_OP_PQ_VAL, s, 2, 64, NULL, mem[5], mem[6], NULL, 0, 0), -EINVAL);
	assert_int_equal(run_op(ATX_OP_PQ_VAL, s, 2, 64, NULL, NULL, NULL, &res, 0, 0), -EINVAL);
	assert_int_equal(run_op(ATX_OP_RAID6_DATAP, s, 3, 64, NULL, mem[5], mem[6], NULL, 3, 0),
			 -EINVAL);
	assert_int_equal(run_op(ATX_OP_RAID6_DATAP, s, 3, 64, NULL, mem[5], NULL, NULL, 0, 0),
			 -EINVAL);
	assert_int_equal(run_op(ATX_OP_RAID6_2DATA, s, 3, 64, NULL, mem[5], mem[6], NULL, 1, 1),
			 -EINVAL);
	assert_int_equal(run_op(ATX_OP_RAID6_2DATA, s, 3, 64, NULL, mem[5], mem[6], NULL, 0, 3),
			 -EINVAL);
	assert_int_equal(run_op(ATX_OP_RAID6_2DATA, s, 1, 64, NULL, mem[5], mem[6], NULL, 0, 1),
			 -EINVAL);
	assert_int_equal(run_op(ATX_OP_RAID6_2DATA, s, 3, 64, NULL, NULL, mem[6], NULL, 0, 1),
			 -EINVAL);
	blk[1] = NULL;
	assert_int_equal(run_op(ATX_OP_XOR, s, 2, 64, mem[5], NULL, NULL, NULL, 0, 0), -EINVAL);
	/* Zero length touches nothing, so NULL blocks are fine (as the core accepts them). */
	assert_int_equal(run_op(ATX_OP_XOR, s, 2, 0, NULL, NULL, NULL, NULL, 0, 0), 0);
	res = 0xdead;
	assert_int_equal(run_op(ATX_OP_XOR_VAL, s, 2, 0, NULL, NULL, NULL, &res, 0, 0), 0);
	assert_int_equal(res, 0);
	res = 0xdead;
	assert_int_equal(run_op(ATX_OP_PQ_VAL, s, 2, 0, NULL, mem[5], NULL, &res, 0, 0), 0);
	assert_int_equal(res, 0);
	/* 64 sources is the documented maximum and works. */
	blk[1] = mem[1];
	/* Not a RAID opcode. */
	assert_int_equal(run_op(ATX_OP_MEMCPY, s, 2, 64, mem[5], NULL, NULL, NULL, 0, 0),
			 -EOPNOTSUPP);
	assert_int_equal(run_op(ATX_OP_XOR, s, ATX_RAID_MAX_SRCS, 64, mem[65], NULL, NULL, NULL, 0,
				0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_selfcheck),
		cmocka_unit_test(test_xor),
		cmocka_unit_test(test_pq),
		cmocka_unit_test(test_val),
		cmocka_unit_test(test_raid6_recov),
		cmocka_unit_test(test_recov_wide),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_einval),
	};

	return cmocka_run_group_tests_name("raid", tests, group_setup, group_teardown);
}
