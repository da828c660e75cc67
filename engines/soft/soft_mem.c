/* SPDX-License-Identifier: MIT */
/* soft_mem.c - copy, fill and CRC-32C (whole or per block) on glibc and ISA-L. */
#include <string.h>

#include "soft.h"

/* Over 2 GiB: ISA-L's int length a GiB at a time (out of line: see below). */
__attribute__((noinline)) uint32_t soft_crc32c_long(const unsigned char *p, size_t len,
						    uint32_t crc)
{
	while (len) {
		int n = len > (1u << 30) ? (1 << 30) : (int)len;

		crc = crc32_iscsi((unsigned char *)p, n, crc);
		p += n;
		len -= (size_t)n;
	}
	return crc;
}

/*
 * The rare cases out of line, so that a copy or a CRC -- two of the three
 * steps of every storage chain -- runs without a stack frame.
 */
static __attribute__((noinline)) void crc32c_blocks(struct atx_op *op)
{
	/* One descriptor, one call per block: ISA-L's VPCLMUL path costs ~42 ns per 4 KiB. */
	const unsigned char *p = op->u.mem.src;
	size_t i, n = op->len / op->u.mem.block;

	for (i = 0; i < n; i++, p += op->u.mem.block)
		op->u.mem.out[i] = soft_crc32c(p, op->u.mem.block, op->u.mem.seed);
}

static __attribute__((noinline)) void copy_crc32c(struct atx_op *op)
{
	/* PERF.md: fusing gains nothing (crc is 5 % of the cost); copy, then crc while hot. */
	if (op->len)
		memmove(op->u.mem.dst, op->u.mem.src, op->len);
	*op->u.mem.out = soft_crc32c(op->u.mem.dst, op->len, op->u.mem.seed);
}

int soft_mem_exec(struct atx_op *op)
{
	switch (op->opcode) {
	case ATX_OP_NOP:
		return 0;
	case ATX_OP_MEMCPY:
		if (op->len)
			memmove(op->u.mem.dst, op->u.mem.src, op->len);
		return 0;
	case ATX_OP_MEMSET:
		if (op->len)
			memset(op->u.mem.dst, op->u.mem.c, op->len);
		return 0;
	case ATX_OP_CRC32C:
		*op->u.mem.out = soft_crc32c(op->u.mem.src, op->len, op->u.mem.seed);
		return 0;
	case ATX_OP_CRC32C_BLOCKS:
		crc32c_blocks(op);
		return 0;
	case ATX_OP_COPY_CRC32C:
		copy_crc32c(op);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}
