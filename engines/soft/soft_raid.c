/* SPDX-License-Identifier: MIT */
/*
 * soft_raid.c - xor, xor_val, pq, pq_val and RAID-6 recovery for the
 * software engine, on ISA-L.
 *
 * ISA-L's xor_gen / pq_gen / xor_check want aligned pointers (the SSE/AVX
 * variants use aligned or non-temporal loads), at least two sources, and
 * pq_gen a length that is a multiple of 32.  Callers of atx may hand any
 * length, any alignment and a single source, so every operation runs the
 * ISA-L-able middle (where all pointers are 64-byte aligned, a multiple of
 * ISAL_GRAIN long) on ISA-L and the edges, or everything when the buffers
 * do not share one alignment, on a portable 64-bit word loop (the Linux
 * lib/raid6 int64 scheme).  Recovery is a pair of GF(2^8) dot
 * products over the surviving blocks, which ISA-L's ec_encode_data runs
 * for any length and alignment.
 *
 * GF(2^8) is the Linux raid6 / ISA-L field: polynomial 0x11d, generator 2,
 * Q = sum g^i * D_i with D_0 weighted 1.
 *
 * Nothing here allocates: pointer arrays, GF tables and the pq_val scratch
 * live on the stack (at most ~9 KiB).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <isa-l/erasure_code.h>
#include <isa-l/raid.h>

#include "soft/soft.h"

/* Pointer alignment that satisfies every ISA-L xor/pq variant (AVX-512 NT loads). */
#define ISAL_ALIGN 64
/* Length granularity handed to ISA-L: its unrolled loops step 128 bytes. */
#define ISAL_GRAIN 128
/* ISA-L takes int lengths: feed it segments of at most this (a multiple of ISAL_GRAIN). */
#define ISAL_SEG (1u << 30)
/* pq_val / q-only scratch: two syndromes of this many bytes on the stack. */
#define SCRATCH 2048

/* g^i in GF(2^8)/0x11d for every data index atx allows. */
static const uint8_t gf_exp2[ATX_RAID_MAX_SRCS] = {
	0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1d, 0x3a, 0x74, 0xe8, 0xcd, 0x87,
	0x13, 0x26, 0x4c, 0x98, 0x2d, 0x5a, 0xb4, 0x75, 0xea, 0xc9, 0x8f, 0x03, 0x06, 0x0c,
	0x18, 0x30, 0x60, 0xc0, 0x9d, 0x27, 0x4e, 0x9c, 0x25, 0x4a, 0x94, 0x35, 0x6a, 0xd4,
	0xb5, 0x77, 0xee, 0xc1, 0x9f, 0x23, 0x46, 0x8c, 0x05, 0x0a, 0x14, 0x28, 0x50, 0xa0,
	0x5d, 0xba, 0x69, 0xd2, 0xb9, 0x6f, 0xde, 0xa1,
};

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));       /* unaligned-safe; compiles to one load */
	return v;
}

static inline void st64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Multiply eight GF(2^8) bytes by 2 at once (lib/raid6 int.uc's SHLBYTE/MASK). */
static inline uint64_t gf_mul2_x8(uint64_t v)
{
	uint64_t hi = v & 0x8080808080808080ull;
	uint64_t mask = (hi << 1) - (hi >> 7);  /* 0xff in every byte whose top bit was set */

	return ((v << 1) & 0xfefefefefefefefeull) ^ (mask & 0x1d1d1d1d1d1d1d1dull);
}

static inline const uint8_t *src_at(void *const *srcs, unsigned i, size_t off)
{
	return (const uint8_t *)srcs[i] + off;
}

/* ---- portable paths: any length, any alignment, any source count ---- */

/*
 * The word loops work on 64-byte stripes (8 words in registers) so that
 * each source pointer is visited once per 64 bytes rather than per word:
 * ~4x faster on unaligned buffers, and the compiler may vectorize them.
 */
#define W 8

/* dst = xor of srcs[i]+off; dst may alias a source at the same offset. */
static void xor_c(uint8_t *dst, void *const *srcs, unsigned n, size_t off, size_t len)
{
	size_t i = 0;

	for (; i + 8 * W <= len; i += 8 * W) {
		uint64_t v[W];

		for (int w = 0; w < W; w++)
			v[w] = ld64(src_at(srcs, 0, off + i) + 8 * w);
		for (unsigned s = 1; s < n; s++) {
			const uint8_t *sp = src_at(srcs, s, off + i);

			for (int w = 0; w < W; w++)
				v[w] ^= ld64(sp + 8 * w);
		}
		for (int w = 0; w < W; w++)
			st64(dst + i + 8 * w, v[w]);
	}
	for (; i + 8 <= len; i += 8) {
		uint64_t v = ld64(src_at(srcs, 0, off + i));

		for (unsigned s = 1; s < n; s++)
			v ^= ld64(src_at(srcs, s, off + i));
		st64(dst + i, v);
	}
	for (; i < len; i++) {
		uint8_t v = *src_at(srcs, 0, off + i);

		for (unsigned s = 1; s < n; s++)
			v ^= *src_at(srcs, s, off + i);
		dst[i] = v;
	}
}

/* True when the xor of srcs[i]+off over @len bytes is all zero. */
static bool xor_zero_c(void *const *srcs, unsigned n, size_t off, size_t len)
{
	size_t i = 0;

	for (; i + 8 * W <= len; i += 8 * W) {
		uint64_t v[W], any = 0;

		for (int w = 0; w < W; w++)
			v[w] = ld64(src_at(srcs, 0, off + i) + 8 * w);
		for (unsigned s = 1; s < n; s++) {
			const uint8_t *sp = src_at(srcs, s, off + i);

			for (int w = 0; w < W; w++)
				v[w] ^= ld64(sp + 8 * w);
		}
		for (int w = 0; w < W; w++)
			any |= v[w];
		if (any)
			return false;
	}
	for (; i + 8 <= len; i += 8) {
		uint64_t v = ld64(src_at(srcs, 0, off + i));

		for (unsigned s = 1; s < n; s++)
			v ^= ld64(src_at(srcs, s, off + i));
		if (v)
			return false;
	}
	for (; i < len; i++) {
		uint8_t v = *src_at(srcs, 0, off + i);

		for (unsigned s = 1; s < n; s++)
			v ^= *src_at(srcs, s, off + i);
		if (v)
			return false;
	}
	return true;
}

/*
 * P and/or Q of srcs[i]+off by Horner's rule from the highest index down,
 * so D_0 ends up weighted g^0.  p or q may be NULL.
 */
static void pq_c(uint8_t *p, uint8_t *q, void *const *srcs, unsigned n, size_t off, size_t len)
{
	size_t i = 0;

	for (; i + 8 * W <= len; i += 8 * W) {
		uint64_t wp[W], wq[W];
		const uint8_t *sp = src_at(srcs, n - 1, off + i);

		for (int w = 0; w < W; w++)
			wp[w] = wq[w] = ld64(sp + 8 * w);
		for (unsigned s = n - 1; s-- > 0;) {
			sp = src_at(srcs, s, off + i);
			for (int w = 0; w < W; w++) {
				uint64_t d = ld64(sp + 8 * w);

				wp[w] ^= d;
				wq[w] = gf_mul2_x8(wq[w]) ^ d;
			}
		}
		for (int w = 0; w < W; w++) {
			if (p)
				st64(p + i + 8 * w, wp[w]);
			if (q)
				st64(q + i + 8 * w, wq[w]);
		}
	}
	for (; i + 8 <= len; i += 8) {
		uint64_t wp, wq;

		wp = wq = ld64(src_at(srcs, n - 1, off + i));
		for (unsigned s = n - 1; s-- > 0;) {
			uint64_t d = ld64(src_at(srcs, s, off + i));

			wp ^= d;
			wq = gf_mul2_x8(wq) ^ d;
		}
		if (p)
			st64(p + i, wp);
		if (q)
			st64(q + i, wq);
	}
	for (; i < len; i++) {
		uint64_t bp, bq;

		bp = bq = *src_at(srcs, n - 1, off + i);
		for (unsigned s = n - 1; s-- > 0;) {
			uint64_t d = *src_at(srcs, s, off + i);

			bp ^= d;
			bq = gf_mul2_x8(bq) ^ d;
		}
		if (p)
			p[i] = (uint8_t)bp;
		if (q)
			q[i] = (uint8_t)bq;
	}
}

/* ---- ISA-L fronts: the aligned middle on ISA-L, the edges portable ---- */

/*
 * How a block of @len bytes splits: @lead bytes (portable) until every
 * pointer reaches ISAL_ALIGN, @body bytes for ISA-L (a multiple of
 * ISAL_GRAIN), the rest portable again.  ISA-L gets a body only when all
 * pointers share one phase modulo ISAL_ALIGN (@diff is the OR of their
 * XORs with @base), which covers aligned buffers and the common case of
 * buffers that are all offset alike.
 */
struct span {
	size_t lead, body;
};

static struct span isal_span(uintptr_t base, uintptr_t diff, size_t len)
{
	struct span sp = { 0, 0 };
	size_t lead = (size_t)(-base & (ISAL_ALIGN - 1));

	if ((diff & (ISAL_ALIGN - 1)) || len < lead + ISAL_GRAIN)
		return sp;
	sp.lead = lead;
	sp.body = (len - lead) & ~(size_t)(ISAL_GRAIN - 1);
	return sp;
}

static uintptr_t phase_diff(void *const *srcs, unsigned n, size_t off, uintptr_t base)
{
	uintptr_t diff = 0;

	for (unsigned i = 0; i < n; i++)
		diff |= (uintptr_t)src_at(srcs, i, off) ^ base;
	return diff;
}

static size_t seg_of(size_t left)
{
	return left < ISAL_SEG ? left : ISAL_SEG;
}

/* dst = xor of srcs[i]+off (dst may be one of the sources). */
static void raid_xor(uint8_t *dst, void *const *srcs, unsigned n, size_t off, size_t len)
{
	struct span sp = { 0, 0 };
	size_t done;

	if (n == 1) {
		const uint8_t *s = src_at(srcs, 0, off);

		if (s != dst)
			memmove(dst, s, len);
		return;
	}
	if (len >= ISAL_GRAIN)
		sp = isal_span((uintptr_t)dst, phase_diff(srcs, n, off, (uintptr_t)dst), len);
	xor_c(dst, srcs, n, off, sp.lead);
	for (done = 0; done < sp.body;) {
		void *arr[ATX_RAID_MAX_SRCS + 1];
		size_t at = sp.lead + done, seg = seg_of(sp.body - done);

		for (unsigned i = 0; i < n; i++)
			arr[i] = (void *)src_at(srcs, i, off + at);
		arr[n] = dst + at;
		if (xor_gen((int)n + 1, (int)seg, arr) != 0)
			break;          /* refused (cannot happen): the C loop does the rest */
		done += seg;
	}
	done += sp.lead;
	xor_c(dst + done, srcs, n, off + done, len - done);
}

/* True when the xor of srcs[i]+off is all zero.  n <= ATX_RAID_MAX_SRCS + 1 (data + P). */
static bool raid_xor_zero(void *const *srcs, unsigned n, size_t off, size_t len)
{
	struct span sp = { 0, 0 };
	size_t done;

	if (n >= 2 && len >= ISAL_GRAIN) {
		uintptr_t base = (uintptr_t)src_at(srcs, 0, off);

		sp = isal_span(base, phase_diff(srcs, n, off, base), len);
	}
	if (!xor_zero_c(srcs, n, off, sp.lead))
		return false;
	for (done = 0; done < sp.body;) {
		void *arr[ATX_RAID_MAX_SRCS + 1];
		size_t at = sp.lead + done, seg = seg_of(sp.body - done);

		for (unsigned i = 0; i < n; i++)
			arr[i] = (void *)src_at(srcs, i, off + at);
		if (xor_check((int)n, (int)seg, arr) != 0)
			return false;
		done += seg;
	}
	done += sp.lead;
	return xor_zero_c(srcs, n, off + done, len - done);
}

/* P and/or Q (either may be NULL, not both) of srcs[i]+off. */
static void raid_pq(uint8_t *p, uint8_t *q, void *const *srcs, unsigned n, size_t off,
		    size_t len)
{
	struct span sp = { 0, 0 };
	size_t done;

	if (!q) {
		raid_xor(p, srcs, n, off, len);
		return;
	}
	if (!p) {
		/*
		 * pq_gen always writes both: give it a scratch P, a chunk at a
		 * time, placed in the same phase as Q so ISA-L can still run.
		 */
		uint8_t scratch[SCRATCH + ISAL_ALIGN] __attribute__((aligned(ISAL_ALIGN)));
		uint8_t *sp_p = scratch + ((uintptr_t)q & (ISAL_ALIGN - 1));

		for (done = 0; done < len;) {
			size_t seg = len - done < SCRATCH ? len - done : SCRATCH;

			raid_pq(sp_p, q + done, srcs, n, off + done, seg);
			done += seg;
		}
		return;
	}
	if (n >= 2 && len >= ISAL_GRAIN) {
		uintptr_t base = (uintptr_t)p;

		sp = isal_span(base, phase_diff(srcs, n, off, base) | ((uintptr_t)q ^ base), len);
	}
	pq_c(p, q, srcs, n, off, sp.lead);
	for (done = 0; done < sp.body;) {
		void *arr[ATX_RAID_MAX_SRCS + 2];
		size_t at = sp.lead + done, seg = seg_of(sp.body - done);

		for (unsigned i = 0; i < n; i++)
			arr[i] = (void *)src_at(srcs, i, off + at);
		arr[n] = p + at;
		arr[n + 1] = q + at;
		if (pq_gen((int)n + 2, (int)seg, arr) != 0)
			break;          /* refused (cannot happen): the C loop does the rest */
		done += seg;
	}
	done += sp.lead;
	pq_c(p + done, q + done, srcs, n, off + done, len - done);
}

/*
 * pq_val: recompute the syndromes a chunk at a time into stack scratch
 * and compare, so no caller memory is written.  P alone is an xor check.
 */
static uint32_t raid_pq_val(const uint8_t *p, const uint8_t *q, void *const *srcs, unsigned n,
			    size_t len)
{
	uint8_t sbuf[2][SCRATCH + ISAL_ALIGN] __attribute__((aligned(ISAL_ALIGN)));
	/* scratch in the data's phase, so ISA-L can take the aligned middle */
	size_t phase = (uintptr_t)srcs[0] & (ISAL_ALIGN - 1);
	uint8_t *sp = sbuf[0] + phase, *sq = sbuf[1] + phase;
	uint32_t bad = 0;

	if (!q) {
		void *arr[ATX_RAID_MAX_SRCS + 1];

		memcpy(arr, srcs, n * sizeof(*arr));
		arr[n] = (void *)p;
		return raid_xor_zero(arr, n + 1, 0, len) ? 0 : ATX_VAL_P_BAD;
	}
	for (size_t done = 0; done < len;) {
		size_t seg = len - done < SCRATCH ? len - done : SCRATCH;

		raid_pq((p && !(bad & ATX_VAL_P_BAD)) ? sp : NULL, sq, srcs, n, done, seg);
		if (p && !(bad & ATX_VAL_P_BAD) && memcmp(sp, p + done, seg) != 0)
			bad |= ATX_VAL_P_BAD;
		if (memcmp(sq, q + done, seg) != 0)
			bad |= ATX_VAL_Q_BAD;
		if ((bad & ATX_VAL_Q_BAD) && (!p || (bad & ATX_VAL_P_BAD)))
			break;
		if (bad & ATX_VAL_Q_BAD) {
			/* Only P is still open: finish it with the cheaper xor check. */
			void *arr[ATX_RAID_MAX_SRCS + 1];

			memcpy(arr, srcs, n * sizeof(*arr));
			arr[n] = (void *)p;
			done += seg;
			if (!raid_xor_zero(arr, n + 1, done, len - done))
				bad |= ATX_VAL_P_BAD;
			break;
		}
		done += seg;
	}
	return bad;
}

/*
 * Recovery: every rebuilt block is a GF(2^8) linear combination of the
 * surviving ones.  @in lists the survivors, @coef[r * k + j] the weight of
 * in[j] in output r.  ec_encode_data handles any length and alignment.
 */
static void raid_combine(unsigned k, unsigned rows, const uint8_t *coef, uint8_t **in,
			 uint8_t **out, size_t len)
{
	uint8_t tbls[32 * ATX_RAID_MAX_SRCS * 2];
	uint8_t *ip[ATX_RAID_MAX_SRCS], *op[2];

	ec_init_tables((int)k, (int)rows, (unsigned char *)coef, tbls);
	for (size_t done = 0; done < len;) {
		size_t seg = len - done < ISAL_SEG ? len - done : ISAL_SEG;

		for (unsigned j = 0; j < k; j++)
			ip[j] = in[j] + done;
		for (unsigned r = 0; r < rows; r++)
			op[r] = out[r] + done;
		ec_encode_data((int)seg, (int)k, (int)rows, tbls, ip, op);
		done += seg;
	}
}

/*
 * Data block a and P from Q and the other data:
 *   D_a = g^-a * (Q + sum_{i!=a} g^i D_i)
 *   P   = D_a + sum_{i!=a} D_i
 */
static void raid6_datap(void *const *data, unsigned n, uint8_t *p, uint8_t *q, unsigned a,
			size_t len)
{
	uint8_t coef[2 * ATX_RAID_MAX_SRCS];
	uint8_t *in[ATX_RAID_MAX_SRCS], *out[2];
	uint8_t ginva = gf_inv(gf_exp2[a]);
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		if (i == a)
			continue;
		in[k++] = data[i];
	}
	in[k++] = q;
	for (unsigned i = 0, j = 0; i < n; i++) {
		if (i == a)
			continue;
		coef[j] = gf_mul(ginva, gf_exp2[i]);
		coef[k + j] = 1 ^ coef[j];
		j++;
	}
	coef[k - 1] = ginva;
	coef[2 * k - 1] = ginva;
	out[0] = data[a];
	out[1] = p;
	raid_combine(k, 2, coef, in, out, len);
}

/*
 * Data blocks a and b from P, Q and the rest.  With Pxy = D_a + D_b and
 * Qxy = g^a D_a + g^b D_b (both known from the survivors), and
 * inv = 1 / (g^a + g^b):
 *   D_a = inv * (Qxy + g^b Pxy),   D_b = Pxy + D_a
 * expanded into weights of each survivor, P and Q.
 */
static void raid6_2data(void *const *data, unsigned n, uint8_t *p, uint8_t *q, unsigned a,
			unsigned b, size_t len)
{
	uint8_t coef[2 * ATX_RAID_MAX_SRCS];
	uint8_t *in[ATX_RAID_MAX_SRCS], *out[2];
	uint8_t ga = gf_exp2[a], gb = gf_exp2[b];
	uint8_t inv = gf_inv(ga ^ gb);
	uint8_t pw = gf_mul(inv, gb);           /* weight of Pxy in D_a */
	unsigned k = n;                         /* n - 2 survivors + P + Q */
	unsigned j = 0;

	for (unsigned i = 0; i < n; i++) {
		if (i == a || i == b)
			continue;
		in[j] = data[i];
		coef[j] = gf_mul(inv, gf_exp2[i] ^ gb);
		coef[k + j] = 1 ^ coef[j];
		j++;
	}
	in[j] = p;
	coef[j] = pw;
	coef[k + j] = 1 ^ pw;
	j++;
	in[j] = q;
	coef[j] = inv;
	coef[k + j] = inv;
	out[0] = data[a];
	out[1] = data[b];
	raid_combine(k, 2, coef, in, out, len);
}

/* NULL blocks are only a problem when there are bytes to touch (as in the core's checks). */
static bool srcs_ok(void *const *srcs, unsigned n, size_t len)
{
	if (!srcs || n == 0 || n > ATX_RAID_MAX_SRCS)
		return false;
	for (unsigned i = 0; i < n && len; i++)
		if (!srcs[i])
			return false;
	return true;
}

int soft_raid_exec(struct atx_op *op)
{
	void *const *srcs = op->u.raid.srcs;
	unsigned n = op->u.raid.nsrc;
	uint8_t *p = op->u.raid.p, *q = op->u.raid.q;
	uint32_t *result = op->u.raid.result;
	unsigned a = op->u.raid.faila, b = op->u.raid.failb;
	size_t len = op->len;

	if (!srcs_ok(srcs, n, len))
		return -EINVAL;

	switch (op->opcode) {
	case ATX_OP_XOR:
		if (!op->u.raid.dst && len)
			return -EINVAL;
		break;
	case ATX_OP_XOR_VAL:
		if (!result)
			return -EINVAL;
		break;
	case ATX_OP_PQ:
		if (!p && !q)
			return -EINVAL;
		break;
	case ATX_OP_PQ_VAL:
		if ((!p && !q) || !result)
			return -EINVAL;
		break;
	case ATX_OP_RAID6_DATAP:
		if (!p || !q || a >= n)
			return -EINVAL;
		break;
	case ATX_OP_RAID6_2DATA:
		if (!p || !q || n < 2 || a >= n || b >= n || a == b)
			return -EINVAL;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (!len) {
		/* nothing to touch; the xor of nothing is zero */
		if (result)
			*result = 0;
		return 0;
	}

	switch (op->opcode) {
	case ATX_OP_XOR:
		raid_xor(op->u.raid.dst, srcs, n, 0, len);
		break;
	case ATX_OP_XOR_VAL:
		*result = raid_xor_zero(srcs, n, 0, len) ? 0 : ATX_VAL_P_BAD;
		break;
	case ATX_OP_PQ:
		raid_pq(p, q, srcs, n, 0, len);
		break;
	case ATX_OP_PQ_VAL:
		*result = raid_pq_val(p, q, srcs, n, len);
		break;
	case ATX_OP_RAID6_DATAP:
		raid6_datap(srcs, n, p, q, a, len);
		break;
	case ATX_OP_RAID6_2DATA:
		raid6_2data(srcs, n, p, q, a, b, len);
		break;
	}
	return 0;
}
