/* SPDX-License-Identifier: MIT */
/*
 * atx_simd.h - leave the vector unit clean after ISA-L.
 *
 * ISA-L 2.30's AVX-512 kernels (crc32_iscsi from 256 bytes on, xor_gen,
 * xor_check, pq_gen, ec_encode_data) return without VZEROUPPER.  With the
 * upper halves of the vector registers dirty, every legacy-SSE instruction
 * that follows carries a merge dependency on them, and OpenSSL 3.0's AES-NI
 * code is SSE-encoded: a 4 KiB AES-256-XTS right after a 4 KiB crc32c took
 * 1105-1140 ns instead of 765 here.  glibc's memcpy does not help (its
 * AVX-512 variant works in zmm16-31 and skips VZEROUPPER).  So whoever
 * calls into ISA-L calls atx_simd_clean() afterwards: the software engine,
 * and the benchmarks' hand-written loops, so that they measure the same
 * thing.
 */
#ifndef ATX_SIMD_H
#define ATX_SIMD_H

static inline void atx_simd_clean(void)
{
#if defined(__x86_64__) || defined(__i386__)
	/* libgcc's check includes the OS having enabled the YMM state (XCR0). */
	if (__builtin_cpu_supports("avx"))
		__asm__ volatile("vzeroupper");
#endif
}

#endif
