/* SPDX-License-Identifier: MIT */
/*
 * ref_gf.h - GF(2^8) multiplication the RAID-6 tests use as their
 * reference: shift-and-add with the polynomial x^8+x^4+x^3+x^2+1 (0x11d),
 * the field of Linux's raid6 and ISA-L, written here and sharing nothing
 * with the code under test.
 */
#ifndef ATX_REF_GF_H
#define ATX_REF_GF_H

#include <stdint.h>

static inline uint8_t ref_gf_mul(uint8_t a, uint8_t b)
{
	unsigned r = 0, x = a;

	for (; b; b >>= 1) {
		if (b & 1)
			r ^= x;
		x <<= 1;
		if (x & 0x100)
			x ^= 0x11d;
	}
	return (uint8_t)r;
}

#endif /* ATX_REF_GF_H */
