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

#include "atx_engine.h"

/* memcpy, memset, crc32c, copy+crc32c, nop (soft_mem.c) */
int soft_mem_exec(struct atx_op *op);

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
 * How many of @ss's lanes run all its cipher, digest and MAC work through
 * the provider's functions (soft_prov.h); AEAD sessions: none.
 */
unsigned soft_crypto_prov_lanes(const struct soft_sess *ss);

#endif
