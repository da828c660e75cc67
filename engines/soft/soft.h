/* SPDX-License-Identifier: MIT */
/*
 * soft.h - inside the software engine: the lanes (soft.c) call the
 * executors (soft_mem.c, soft_crypto.c, soft_raid.c).  Executors are pure
 * functions of the descriptor: they never touch the core, never block,
 * and return the descriptor's status (0 or -errno).
 */
#ifndef ATX_SOFT_H
#define ATX_SOFT_H

#include <errno.h>
#include <isa-l/crc.h>
#include <limits.h>
#include <stdbool.h>

#include "atx_engine.h"

/* memcpy, memset, crc32c, copy+crc32c, nop (soft_mem.c) */
int soft_mem_exec(struct atx_op *op);

/* ISA-L takes an int length and the raw (uninverted) register. */
uint32_t soft_crc32c_long(const unsigned char *p, size_t len, uint32_t crc);

static inline uint32_t soft_crc32c(const void *buf, size_t len, uint32_t seed)
{
	if (__builtin_expect(len > INT_MAX, 0))
		return ~soft_crc32c_long(buf, len, ~seed);
	return ~crc32_iscsi((unsigned char *)buf, (int)len, ~seed);
}

/* xor, xor_val, pq, pq_val, raid6 recovery on ISA-L (soft_raid.c) */
int soft_raid_exec(struct atx_op *op);

/*
 * Crypto (soft_crypto.c) on OpenSSL: EVP, and a cipher's provider
 * functions for IV-only re-inits (soft_prov.h).  A session keeps one keyed
 * context per lane (lanes are numbered 0..nlanes-1; lane i is only ever
 * used by one thread at a time), so executing re-inits only the IV.
 */
struct soft_sess;
int soft_crypto_probe(const struct atx_session_params *p);      /* 0 or -EOPNOTSUPP */
int soft_crypto_session_new(const struct atx_session_params *p, unsigned nlanes,
			    struct soft_sess **out);
void soft_crypto_session_free(struct soft_sess *ss);             /* zeroizes keys */
int soft_crypto_exec(struct soft_sess *ss, unsigned lane, struct atx_op *op);
/*
 * The storage case, decided once for a prepared chain's step: a cipher
 * request on one flat segment each way, the whole request one data unit
 * (soft_crypto_flat), which soft_crypto_cipher_flat then runs without
 * checking again (it still falls back where a lane has no provider context).
 */
bool soft_crypto_flat(const struct soft_sess *ss, const struct atx_op *op);
int soft_crypto_cipher_flat(struct soft_sess *ss, unsigned lane, struct atx_op *op);
/*
 * How many of @ss's lanes run all its cipher, digest and MAC work through
 * the provider's functions (soft_prov.h); AEAD sessions: none.
 */
unsigned soft_crypto_prov_lanes(const struct soft_sess *ss);

#endif
