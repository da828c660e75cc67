/* SPDX-License-Identifier: MIT */
/*
 * test_raid_chain.c - RAID operations chained through the public API:
 * the async_tx document's xor -> copy -> xor example, a RAID-5/6
 * read-modify-write parity update as one chain, degraded-stripe recovery
 * followed by validation, and failure propagation through RAID steps.
 * Results are checked against a reference written here (GF(2^8) by
 * shift-and-add, polynomial 0x11d), never against atx's own output.
 * Every scenario runs inline (no worker lanes) and on two worker lanes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "atx.h"
#include "ref_gf.h"

#define BLK 4096
#define NDISKS 6                /* the sources of the xor example */
#define ND 8                    /* data blocks of the RAID-6 stripe */

/* ---- reference ---- */

static void ref_pq(uint8_t *p, uint8_t *q, uint8_t *const *d, unsigned n, size_t len)
{
	for (size_t x = 0; x < len; x++) {
		uint8_t wp = 0, wq = 0, g = 1;

		for (unsigned i = 0; i < n; i++) {
			wp ^= d[i][x];
			wq ^= ref_gf_mul(g, d[i][x]);
			g = ref_gf_mul(g, 2);
		}
		p[x] = wp;
		q[x] = wq;
	}
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static void fill_rand(uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		b[i] = (uint8_t)rng;
	}
}

/* ---- callbacks: count and status per id ---- */

#define NCB 16
struct cbrec {
	int calls[NCB];
	int status[NCB];
	int order[NCB];
	int seq;
};

static struct cbrec rec;
static intptr_t ids[NCB];

static void rec_cb(struct atx_tx *tx, int status, void *arg)
{
	int id = (int)*(intptr_t *)arg;

	(void)tx;
	rec.calls[id]++;
	rec.status[id] = status;
	rec.order[id] = rec.seq++;
}

static struct atx_submit sub(int id, struct atx_tx *dep, unsigned flags)
{
	ids[id] = id;
	return (struct atx_submit){ .flags = flags, .depend_tx = dep, .cb = rec_cb,
				    .cb_arg = &ids[id] };
}

static struct atx_ctx *ctx_new(unsigned lanes)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .soft_lanes = lanes };
	struct atx_ctx *ctx = atx_ctx_new(&o);

	assert_non_null(ctx);
	memset(&rec, 0, sizeof(rec));
	return ctx;
}

static uint8_t *blocks(unsigned n)
{
	uint8_t *b = aligned_alloc(64, (size_t)n * BLK);

	assert_non_null(b);
	return b;
}

/* ---- the async_tx document's run_xor_copy_xor ---- */

/*
 * xor -> copy -> xor, the second xor after the copy and a callback at the
 * end (async-tx-api.txt 3.7).  The copy writes the first xor's result over
 * xor_srcs[0], so the second xor sees changed data: the final bytes are
 * right only if the three ran in order.  With S = xor of all sources,
 * the copy makes srcs[0] = S and the second xor gives S ^ S ^ old srcs[0]
 * = old srcs[0].
 */
static void run_xor_copy_xor(unsigned lanes)
{
	struct atx_ctx *ctx = ctx_new(lanes);
	uint8_t *mem = blocks(NDISKS + 2), *xor_dest = mem + NDISKS * BLK;
	uint8_t *first = mem + (NDISKS + 1) * BLK;
	void *xor_srcs[NDISKS];
	struct atx_submit s;
	struct atx_tx *tx;

	for (unsigned i = 0; i < NDISKS; i++)
		xor_srcs[i] = mem + i * BLK;
	fill_rand(mem, NDISKS * BLK);
	memcpy(first, xor_srcs[0], BLK);

	s = sub(0, NULL, 0);
	tx = atx_xor(ctx, xor_dest, xor_srcs, NDISKS, BLK, &s);
	assert_non_null(tx);
	s = sub(1, tx, 0);
	tx = atx_memcpy(ctx, xor_srcs[0], xor_dest, BLK, &s);
	assert_non_null(tx);
	s = sub(2, tx, ATX_F_ACK);
	tx = atx_xor(ctx, xor_dest, xor_srcs, NDISKS, BLK, &s);
	assert_non_null(tx);
	atx_issue_pending(ctx);
	/* wait_for_completion(&cmp): drive the loop until nothing is outstanding */
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);

	for (int i = 0; i < 3; i++) {
		assert_int_equal(rec.calls[i], 1);
		assert_int_equal(rec.status[i], 0);
	}
	assert_true(rec.order[0] < rec.order[1] && rec.order[1] < rec.order[2]);
	assert_memory_equal(xor_dest, first, BLK);
	atx_ctx_free(ctx);
	free(mem);
}

static void test_xor_copy_xor_inline(void **state)
{
	(void)state;
	run_xor_copy_xor(0);
}

static void test_xor_copy_xor_lanes(void **state)
{
	(void)state;
	run_xor_copy_xor(2);
}

/* ---- read-modify-write of one block of a RAID-6 stripe, as one chain ---- */

/*
 * Update data block k to new contents without reading the other data:
 *   delta = old D_k ^ new D_k                      (xor)
 *   dP, dQ = pq over (0, .., 0, delta) at index k  (pq: dQ = g^k delta)
 *   P ^= dP, Q ^= dQ                               (xor, dst listed as a source)
 *   D_k = new                                      (copy, after both parity xors)
 * P alone is the RAID-5 case (new_P = old_P ^ old_D ^ new_D), done here as
 * one xor of three sources straight into P.
 */
static void run_rmw(unsigned lanes, unsigned k)
{
	struct atx_ctx *ctx = ctx_new(lanes);
	uint8_t *mem = blocks(ND + 8);
	uint8_t *p = mem + ND * BLK, *q = p + BLK, *nd = q + BLK, *delta = nd + BLK;
	uint8_t *dp = delta + BLK, *dq = dp + BLK, *zero = dq + BLK, *p5 = zero + BLK;
	uint8_t *d[ND], wp[BLK], wq[BLK];
	void *dsrc[ND], *all[ND];      /* read when the ops run: one array per op */
	uint32_t val = 0xdead;
	struct atx_submit s;
	struct atx_tx *t_delta, *t_pq, *t_p, *t_q, *t_p5, *t_copy, *t_val;

	for (unsigned i = 0; i < ND; i++)
		d[i] = mem + i * BLK;
	fill_rand(mem, ND * BLK);
	fill_rand(nd, BLK);
	memset(zero, 0, BLK);
	ref_pq(p, q, d, ND, BLK);
	memcpy(p5, p, BLK);

	s = sub(0, NULL, 0);
	t_delta = atx_xor(ctx, delta, (void *[]){ d[k], nd }, 2, BLK, &s);
	assert_non_null(t_delta);
	/* RAID-5 style on a copy of P: old P, old data out, new data in */
	s = sub(1, NULL, 0);
	t_p5 = atx_xor(ctx, p5, (void *[]){ p5, d[k], nd }, 3, BLK, &s);
	assert_non_null(t_p5);
	for (unsigned i = 0; i < k; i++)
		dsrc[i] = zero;
	dsrc[k] = delta;
	s = sub(2, t_delta, 0);
	t_pq = atx_pq(ctx, dp, dq, dsrc, k + 1, BLK, &s);
	assert_non_null(t_pq);
	s = sub(3, t_pq, 0);
	t_p = atx_xor(ctx, p, (void *[]){ p, dp }, 2, BLK, &s);
	assert_non_null(t_p);
	s = sub(4, NULL, 0);
	s.deps = (struct atx_tx *const[]){ t_pq };
	s.ndeps = 1;
	t_q = atx_xor(ctx, q, (void *[]){ q, dq }, 2, BLK, &s);
	assert_non_null(t_q);
	/* the data block is overwritten only after everything that reads it */
	s = sub(5, NULL, 0);
	s.deps = (struct atx_tx *const[]){ t_p, t_q, t_p5 };
	s.ndeps = 3;
	t_copy = atx_memcpy(ctx, d[k], nd, BLK, &s);
	assert_non_null(t_copy);
	for (unsigned i = 0; i < ND; i++)
		all[i] = d[i];
	s = sub(6, t_copy, 0);
	t_val = atx_pq_val(ctx, p, q, all, ND, BLK, &val, &s);
	assert_non_null(t_val);
	assert_int_equal(atx_wait(t_val), 0);
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
	atx_tx_ack(t_val);

	for (int i = 0; i <= 6; i++) {
		assert_int_equal(rec.calls[i], 1);
		assert_int_equal(rec.status[i], 0);
	}
	assert_true(rec.order[5] > rec.order[1] && rec.order[5] > rec.order[3] &&
		    rec.order[5] > rec.order[4]);
	assert_memory_equal(d[k], nd, BLK);
	/* full recompute by the reference */
	ref_pq(wp, wq, d, ND, BLK);
	assert_memory_equal(p, wp, BLK);
	assert_memory_equal(q, wq, BLK);
	assert_memory_equal(p5, wp, BLK);
	assert_int_equal(val, 0);
	atx_ctx_free(ctx);
	free(mem);
}

static void test_rmw_inline(void **state)
{
	(void)state;
	run_rmw(0, 0);
	run_rmw(0, 5);
	run_rmw(0, ND - 1);
}

static void test_rmw_lanes(void **state)
{
	(void)state;
	run_rmw(2, 3);
	run_rmw(2, ND - 1);
}

/* ---- degraded stripe: lose two blocks, rebuild, validate, in one chain ---- */

static void run_degraded(unsigned lanes)
{
	struct atx_ctx *ctx = ctx_new(lanes);
	uint8_t *mem = blocks(2 * ND + 2), *p = mem + ND * BLK, *q = p + BLK;
	uint8_t *keep = q + BLK;
	void *d[ND];
	uint32_t val = 0xdead;
	const unsigned a = 2, b = 6;
	struct atx_submit s;
	struct atx_tx *t;

	for (unsigned i = 0; i < ND; i++)
		d[i] = mem + i * BLK;
	fill_rand(mem, ND * BLK);
	memcpy(keep, mem, ND * BLK);

	s = sub(0, NULL, 0);
	t = atx_pq(ctx, p, q, d, ND, BLK, &s);
	assert_non_null(t);
	/* two disks die */
	s = sub(1, t, 0);
	t = atx_memset(ctx, d[a], 0xee, BLK, &s);
	assert_non_null(t);
	s = sub(2, t, 0);
	t = atx_memset(ctx, d[b], 0x11, BLK, &s);
	assert_non_null(t);
	s = sub(3, t, 0);
	t = atx_raid6_2data_recov(ctx, d, ND, p, q, a, b, BLK, &s);
	assert_non_null(t);
	/* then one data block and P */
	s = sub(4, t, 0);
	t = atx_memset(ctx, d[b], 0x5a, BLK, &s);
	assert_non_null(t);
	s = sub(5, t, 0);
	t = atx_memset(ctx, p, 0xa5, BLK, &s);
	assert_non_null(t);
	s = sub(6, t, 0);
	t = atx_raid6_datap_recov(ctx, d, ND, p, q, b, BLK, &s);
	assert_non_null(t);
	s = sub(7, t, 0);
	t = atx_pq_val(ctx, p, q, d, ND, BLK, &val, &s);
	assert_non_null(t);
	assert_int_equal(atx_wait(t), 0);
	atx_tx_ack(t);

	for (int i = 0; i <= 7; i++) {
		assert_int_equal(rec.calls[i], 1);
		assert_int_equal(rec.status[i], 0);
	}
	assert_memory_equal(mem, keep, ND * BLK);
	assert_int_equal(val, 0);
	atx_ctx_free(ctx);
	free(mem);
}

static void test_degraded_inline(void **state)
{
	(void)state;
	run_degraded(0);
}

static void test_degraded_lanes(void **state)
{
	(void)state;
	run_degraded(2);
}

/* ---- failure propagation through RAID steps ---- */

/*
 * A read past the end of an empty file fails (-ENODATA) at run time; the
 * xor and pq that depend on it, and their dependents, complete with
 * -ECANCELED, run their callbacks once, and write nothing.
 */
static void run_failure(unsigned lanes)
{
	struct atx_ctx *ctx = ctx_new(lanes);
	uint8_t *mem = blocks(9), *in = mem, *x = mem + BLK, *p = x + BLK, *q = p + BLK;
	uint8_t *other = q + BLK, *copy = other + BLK, *snap = copy + BLK;
	char path[] = "/tmp/atx-raid-chain-XXXXXX";
	int fd = mkstemp(path);
	uint32_t val = 0xdead;
	struct atx_submit s;
	struct atx_tx *rd, *tx, *tp, *tv, *ok, *join;

	assert_true(fd >= 0);
	unlink(path);
	fill_rand(mem, 8 * BLK);
	memcpy(snap, x, 3 * BLK);       /* x, p, q before */

	/* refused at submit: nothing queued, nothing to cancel */
	errno = 0;
	assert_null(atx_xor(ctx, x, (void *[]){ in }, 0, BLK, NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(atx_raid6_2data_recov(ctx, (void *[]){ in, other }, 2, p, q, 1, 1, BLK, NULL));
	assert_int_equal(errno, EINVAL);

	s = sub(0, NULL, 0);
	rd = atx_read(ctx, fd, in, BLK, 0, &s);
	assert_non_null(rd);
	s = sub(1, rd, 0);
	tx = atx_xor(ctx, x, (void *[]){ in, other }, 2, BLK, &s);
	assert_non_null(tx);
	s = sub(2, tx, 0);
	tp = atx_pq(ctx, p, q, (void *[]){ x, other }, 2, BLK, &s);
	assert_non_null(tp);
	s = sub(3, tp, 0);
	tv = atx_pq_val(ctx, p, q, (void *[]){ x, other }, 2, BLK, &val, &s);
	assert_non_null(tv);
	/* an unrelated branch succeeds; the join of both is cancelled */
	s = sub(4, NULL, 0);
	ok = atx_memcpy(ctx, copy, other, BLK, &s);
	assert_non_null(ok);
	s = sub(5, NULL, 0);
	s.deps = (struct atx_tx *const[]){ ok, tv };
	s.ndeps = 2;
	join = atx_trigger_callback(ctx, &s);
	assert_non_null(join);
	assert_int_equal(atx_wait(join), -ECANCELED);
	atx_tx_ack(join);

	for (int i = 0; i <= 5; i++)
		assert_int_equal(rec.calls[i], 1);
	assert_int_equal(rec.status[0], -ENODATA);
	assert_int_equal(rec.status[1], -ECANCELED);
	assert_int_equal(rec.status[2], -ECANCELED);
	assert_int_equal(rec.status[3], -ECANCELED);
	assert_int_equal(rec.status[4], 0);
	assert_int_equal(rec.status[5], -ECANCELED);
	assert_memory_equal(copy, other, BLK);
	/* cancelled RAID steps wrote nothing */
	assert_memory_equal(x, snap, 3 * BLK);
	assert_int_equal(val, 0xdead);

	/* a dependency on an already failed (unacked) descriptor is cancelled too */
	s = sub(6, NULL, 0);
	rd = atx_read(ctx, fd, in, BLK, 0, &s);
	assert_non_null(rd);
	assert_int_equal(atx_wait(rd), -ENODATA);
	s = sub(7, rd, 0);
	tx = atx_xor(ctx, x, (void *[]){ other, copy }, 2, BLK, &s);
	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), -ECANCELED);
	assert_int_equal(rec.calls[7], 1);
	assert_int_equal(rec.status[7], -ECANCELED);
	atx_tx_ack(tx);
	assert_memory_equal(x, snap, BLK);
	close(fd);
	atx_ctx_free(ctx);
	free(mem);
}

static void test_failure_inline(void **state)
{
	(void)state;
	run_failure(0);
}

static void test_failure_lanes(void **state)
{
	(void)state;
	run_failure(2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xor_copy_xor_inline),
		cmocka_unit_test(test_xor_copy_xor_lanes),
		cmocka_unit_test(test_rmw_inline),
		cmocka_unit_test(test_rmw_lanes),
		cmocka_unit_test(test_degraded_inline),
		cmocka_unit_test(test_degraded_lanes),
		cmocka_unit_test(test_failure_inline),
		cmocka_unit_test(test_failure_lanes),
	};

	return cmocka_run_group_tests_name("raid_chain", tests, NULL, NULL);
}
