/* SPDX-License-Identifier: MIT */
/*
 * alg.h - the algorithm table: which algorithms each service offers, their
 * key / IV / block / digest sizes, and the validation rules every engine
 * can rely on.  atx_session_new() calls atx__params_check() before it
 * probes engines, and the submit path calls atx__crypto_check() per
 * request, so engines only ever see parameters that passed these.
 *
 * Internal (atx__ prefix): the core, the engines and the atx command line
 * (which links libatx.a statically) use it.
 */
#ifndef ATX_ALG_H
#define ATX_ALG_H

#include <stddef.h>

#include "atx.h"
#include "atx_engine.h"

/*
 * atx__params_check - validate session parameters.
 * Returns 0, -EINVAL (bad key length, digest_len too long, XTS halves
 * equal, bad combination such as CHAIN without cipher or MAC or with an
 * order that does not match the direction, direction out of range, NULL
 * key with a length, data units on anything but an AES-XTS CIPHER session
 * or outside 16 bytes .. 2^20 blocks), or -EOPNOTSUPP (service out of range, algorithm
 * NONE or unknown for the service).
 */
int atx__params_check(const struct atx_session_params *p);

/*
 * atx__crypto_check - per-request rules for a session that passed
 * atx__params_check: @op matches the service, @iv_len suits the
 * algorithm, @len obeys the mode (whole blocks for ECB/CBC/3DES, XTS at
 * least one block, CCM/GCM limits, zero length only where the algorithm
 * allows it, whole data units when the session has them).  Returns 0 or
 * -EINVAL.
 */
int atx__crypto_check(const struct atx_session_params *p, enum atx_opcode op, size_t len,
		      size_t iv_len, size_t aad_len);

/*
 * atx__digest_len - bytes written to / compared at the digest pointer:
 * digest_len, or the algorithm's full size when it is 0 (AEAD: 16).
 * 0 for CIPHER sessions.
 */
size_t atx__digest_len(const struct atx_session_params *p);

/* Full (untruncated) output size of the session's hash/MAC/tag; 0 for CIPHER. */
size_t atx__digest_max(const struct atx_session_params *p);

/*
 * atx__iv_len - the IV length to use when the caller gives none
 * explicitly (atx_cipher, the command line): 16 for AES CBC/CTR/XTS and
 * ChaCha20, 8 for 3DES, 0 for ECB/hash/MAC, 12 for GCM, CCM and
 * ChaCha20-Poly1305; the cipher's for CHAIN.
 */
size_t atx__iv_len(const struct atx_session_params *p);

/* atx__iv_len_ok - true when @iv_len is acceptable for the session's algorithm. */
bool atx__iv_len_ok(const struct atx_session_params *p, size_t iv_len);

/*
 * atx__block_size - the unit a payload length must be a multiple of:
 * 16 for AES ECB/CBC, 8 for 3DES, 1 for everything else (XTS takes any
 * length >= 16, stream modes and AEADs any length).
 */
size_t atx__block_size(const struct atx_session_params *p);

/* Full digest size of a hash algorithm (0 for NONE/unknown). */
size_t atx__hash_size(enum atx_hash_alg h);

/* OpenSSL names used by the software engine to fetch implementations. */
const char *atx__hash_ossl_name(enum atx_hash_alg h);          /* "SHA256" */
const char *atx__mac_hmac_digest(enum atx_mac_alg m);          /* "SHA256" for HMAC, NULL for CMAC */

#endif /* ATX_ALG_H */
