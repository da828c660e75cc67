/* SPDX-License-Identifier: MIT */
/*
 * virtio_crypto_proto.h - wire formats shared by atx's virtio-crypto driver
 * (engines/virtio_crypto/) and its device backend (tools/vcryptod/).
 *
 * Two parts: the virtio 1.x split virtqueue (virtio 1.2 section 2.7) and the
 * virtio-crypto device (virtio 1.2 section 5.9).  Names and values follow
 * Linux's include/uapi/linux/virtio_crypto.h and virtio_ring.h so code and
 * spec can be read side by side; the layouts are restated here (instead of
 * including <linux/...>) so that the driver and the device build against
 * one definition we control, with every fixed size asserted.
 *
 * Byte order: virtio 1.x is little-endian.  Fields are plain uintN_t and
 * every multi-byte one is le (marked "le" in comments); atx runs on x86_64
 * only, so no conversion is done.  Code that ever targets big-endian must
 * wrap reads/writes in le*toh()/htole*().
 *
 * This header is included from C only; it defines no functions with
 * external linkage (the helpers are static inline).
 */
#ifndef ATX_VIRTIO_CRYPTO_PROTO_H
#define ATX_VIRTIO_CRYPTO_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Generic virtio feature bits (virtio 1.2 section 6)                  */
/* ------------------------------------------------------------------ */

#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32

/* virtio-crypto feature bits (virtio 1.2 section 5.9.3) */
#define VIRTIO_CRYPTO_F_REVISION_1		0
#define VIRTIO_CRYPTO_F_CIPHER_STATELESS_MODE	1
#define VIRTIO_CRYPTO_F_HASH_STATELESS_MODE	2
#define VIRTIO_CRYPTO_F_MAC_STATELESS_MODE	3
#define VIRTIO_CRYPTO_F_AEAD_STATELESS_MODE	4

/* virtio device id of virtio-crypto */
#define VIRTIO_ID_CRYPTO	20

/* ------------------------------------------------------------------ */
/* Split virtqueue                                                     */
/* ------------------------------------------------------------------ */

/* This marks a buffer as continuing via the next field. */
#define VRING_DESC_F_NEXT	1
/* This marks a buffer as device write-only (otherwise device read-only). */
#define VRING_DESC_F_WRITE	2
/* This means the buffer contains a table of buffer descriptors. */
#define VRING_DESC_F_INDIRECT	4

/* Driver -> device: "don't interrupt me" (ignored with EVENT_IDX). */
#define VRING_AVAIL_F_NO_INTERRUPT	1
/* Device -> driver: "don't kick me" (ignored with EVENT_IDX). */
#define VRING_USED_F_NO_NOTIFY		1

/* Queue alignment of the used ring for the legacy/contiguous layout. */
#define VRING_USED_ALIGN	4
/* Largest queue size a split ring may have (virtio 1.2 2.7). */
#define VRING_MAX_SIZE		32768

struct vring_desc {
	uint64_t addr;		/* le: guest-physical address */
	uint32_t len;		/* le */
	uint16_t flags;		/* le: VRING_DESC_F_* */
	uint16_t next;		/* le: index of next descriptor if F_NEXT */
};
_Static_assert(sizeof(struct vring_desc) == 16, "vring_desc is 16 bytes");

struct vring_avail {
	uint16_t flags;		/* le: VRING_AVAIL_F_* */
	uint16_t idx;		/* le: free-running, where the driver puts the next entry */
	uint16_t ring[];	/* le: [num] head indices, then le16 used_event */
};
_Static_assert(sizeof(struct vring_avail) == 4, "vring_avail header is 4 bytes");

struct vring_used_elem {
	uint32_t id;		/* le: head index of the completed chain */
	uint32_t len;		/* le: bytes written into device-writable buffers */
};
_Static_assert(sizeof(struct vring_used_elem) == 8, "vring_used_elem is 8 bytes");

struct vring_used {
	uint16_t flags;		/* le: VRING_USED_F_* */
	uint16_t idx;		/* le: free-running */
	struct vring_used_elem ring[];	/* [num], then le16 avail_event */
};
_Static_assert(sizeof(struct vring_used) == 4, "vring_used header is 4 bytes");

/* Byte sizes of the three parts of a split ring of @num entries. */
static inline size_t vring_desc_size(unsigned int num)
{
	return (size_t)num * sizeof(struct vring_desc);
}

/* Includes the trailing used_event word (present whether or not EVENT_IDX
 * is negotiated; reserving it costs 2 bytes). */
static inline size_t vring_avail_size(unsigned int num)
{
	return sizeof(struct vring_avail) + (size_t)num * sizeof(uint16_t) + sizeof(uint16_t);
}

/* Includes the trailing avail_event word. */
static inline size_t vring_used_size(unsigned int num)
{
	return sizeof(struct vring_used) + (size_t)num * sizeof(struct vring_used_elem) +
	       sizeof(uint16_t);
}

static inline size_t vring_align_up(size_t x, size_t align)
{
	return (x + align - 1) & ~(align - 1);
}

/*
 * Contiguous layout of a queue of @num entries starting at offset 0 of a
 * block, the used ring aligned to @align (a power of two, >= 4; 4096 is the
 * legacy value).  virtio 1.x lets the three parts live anywhere; atx's
 * driver keeps them in one block because that is one region to share.
 */
struct vring_layout {
	size_t desc_off;
	size_t avail_off;
	size_t used_off;
	size_t total;		/* bytes the whole ring needs */
};

static inline struct vring_layout vring_layout_of(unsigned int num, size_t align)
{
	struct vring_layout l;

	l.desc_off = 0;
	l.avail_off = vring_desc_size(num);
	l.used_off = vring_align_up(l.avail_off + vring_avail_size(num), align);
	l.total = l.used_off + vring_used_size(num);
	return l;
}

/* Location of used_event (driver-written) and avail_event (device-written). */
static inline uint16_t *vring_used_event(struct vring_avail *avail, unsigned int num)
{
	return &avail->ring[num];
}

static inline uint16_t *vring_avail_event(struct vring_used *used, unsigned int num)
{
	return (uint16_t *)(void *)&used->ring[num];
}

/*
 * EVENT_IDX: must the other side be notified after moving its index from
 * @old to @new_idx, given it asked to be notified once index passes
 * @event_idx?  (Same formula as Linux's vring_need_event; the uint16_t
 * arithmetic handles wrap-around.)
 */
static inline int vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

/* ------------------------------------------------------------------ */
/* virtio-crypto: services, opcodes, algorithms (virtio 1.2 5.9)       */
/* ------------------------------------------------------------------ */

#define VIRTIO_CRYPTO_SERVICE_CIPHER	0
#define VIRTIO_CRYPTO_SERVICE_HASH	1
#define VIRTIO_CRYPTO_SERVICE_MAC	2
#define VIRTIO_CRYPTO_SERVICE_AEAD	3
#define VIRTIO_CRYPTO_SERVICE_AKCIPHER	4

#define VIRTIO_CRYPTO_OPCODE(service, op)	(((service) << 8) | (op))

/* Control queue opcodes */
#define VIRTIO_CRYPTO_CIPHER_CREATE_SESSION	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_CIPHER, 0x02)
#define VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_CIPHER, 0x03)
#define VIRTIO_CRYPTO_HASH_CREATE_SESSION	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_HASH, 0x02)
#define VIRTIO_CRYPTO_HASH_DESTROY_SESSION	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_HASH, 0x03)
#define VIRTIO_CRYPTO_MAC_CREATE_SESSION	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_MAC, 0x02)
#define VIRTIO_CRYPTO_MAC_DESTROY_SESSION	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_MAC, 0x03)
#define VIRTIO_CRYPTO_AEAD_CREATE_SESSION	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AEAD, 0x02)
#define VIRTIO_CRYPTO_AEAD_DESTROY_SESSION	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AEAD, 0x03)
#define VIRTIO_CRYPTO_AKCIPHER_CREATE_SESSION	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AKCIPHER, 0x04)
#define VIRTIO_CRYPTO_AKCIPHER_DESTROY_SESSION	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AKCIPHER, 0x05)

/* Data queue opcodes */
#define VIRTIO_CRYPTO_CIPHER_ENCRYPT	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_CIPHER, 0x00)
#define VIRTIO_CRYPTO_CIPHER_DECRYPT	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_CIPHER, 0x01)
#define VIRTIO_CRYPTO_HASH		VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_HASH, 0x00)
#define VIRTIO_CRYPTO_MAC		VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_MAC, 0x00)
#define VIRTIO_CRYPTO_AEAD_ENCRYPT	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AEAD, 0x00)
#define VIRTIO_CRYPTO_AEAD_DECRYPT	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AEAD, 0x01)
#define VIRTIO_CRYPTO_AKCIPHER_ENCRYPT	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AKCIPHER, 0x00)
#define VIRTIO_CRYPTO_AKCIPHER_DECRYPT	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AKCIPHER, 0x01)
#define VIRTIO_CRYPTO_AKCIPHER_SIGN	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AKCIPHER, 0x02)
#define VIRTIO_CRYPTO_AKCIPHER_VERIFY	VIRTIO_CRYPTO_OPCODE(VIRTIO_CRYPTO_SERVICE_AKCIPHER, 0x03)

/* Cipher algorithms (bit n of cipher_algo_l/_h in the config) */
#define VIRTIO_CRYPTO_NO_CIPHER			0
#define VIRTIO_CRYPTO_CIPHER_ARC4		1
#define VIRTIO_CRYPTO_CIPHER_AES_ECB		2
#define VIRTIO_CRYPTO_CIPHER_AES_CBC		3
#define VIRTIO_CRYPTO_CIPHER_AES_CTR		4
#define VIRTIO_CRYPTO_CIPHER_DES_ECB		5
#define VIRTIO_CRYPTO_CIPHER_DES_CBC		6
#define VIRTIO_CRYPTO_CIPHER_3DES_ECB		7
#define VIRTIO_CRYPTO_CIPHER_3DES_CBC		8
#define VIRTIO_CRYPTO_CIPHER_3DES_CTR		9
#define VIRTIO_CRYPTO_CIPHER_KASUMI_F8		10
#define VIRTIO_CRYPTO_CIPHER_SNOW3G_UEA2	11
#define VIRTIO_CRYPTO_CIPHER_AES_F8		12
#define VIRTIO_CRYPTO_CIPHER_AES_XTS		13
#define VIRTIO_CRYPTO_CIPHER_ZUC_EEA3		14

/* Cipher direction */
#define VIRTIO_CRYPTO_OP_ENCRYPT	1
#define VIRTIO_CRYPTO_OP_DECRYPT	2

/* Hash algorithms (bit n of hash_algo) */
#define VIRTIO_CRYPTO_NO_HASH			0
#define VIRTIO_CRYPTO_HASH_MD5			1
#define VIRTIO_CRYPTO_HASH_SHA1			2
#define VIRTIO_CRYPTO_HASH_SHA_224		3
#define VIRTIO_CRYPTO_HASH_SHA_256		4
#define VIRTIO_CRYPTO_HASH_SHA_384		5
#define VIRTIO_CRYPTO_HASH_SHA_512		6
#define VIRTIO_CRYPTO_HASH_SHA3_224		7
#define VIRTIO_CRYPTO_HASH_SHA3_256		8
#define VIRTIO_CRYPTO_HASH_SHA3_384		9
#define VIRTIO_CRYPTO_HASH_SHA3_512		10
#define VIRTIO_CRYPTO_HASH_SHA3_SHAKE128	11
#define VIRTIO_CRYPTO_HASH_SHA3_SHAKE256	12

/* MAC algorithms (bit n of mac_algo_l/_h) */
#define VIRTIO_CRYPTO_NO_MAC			0
#define VIRTIO_CRYPTO_MAC_HMAC_MD5		1
#define VIRTIO_CRYPTO_MAC_HMAC_SHA1		2
#define VIRTIO_CRYPTO_MAC_HMAC_SHA_224		3
#define VIRTIO_CRYPTO_MAC_HMAC_SHA_256		4
#define VIRTIO_CRYPTO_MAC_HMAC_SHA_384		5
#define VIRTIO_CRYPTO_MAC_HMAC_SHA_512		6
#define VIRTIO_CRYPTO_MAC_CMAC_3DES		25
#define VIRTIO_CRYPTO_MAC_CMAC_AES		26
#define VIRTIO_CRYPTO_MAC_KASUMI_F9		27
#define VIRTIO_CRYPTO_MAC_SNOW3G_UIA2		28
#define VIRTIO_CRYPTO_MAC_GMAC_AES		41
#define VIRTIO_CRYPTO_MAC_GMAC_TWOFISH		42
#define VIRTIO_CRYPTO_MAC_CBCMAC_AES		49
#define VIRTIO_CRYPTO_MAC_CBCMAC_KASUMI_F9	50
#define VIRTIO_CRYPTO_MAC_XCBC_AES		53

/* AEAD algorithms (bit n of aead_algo) */
#define VIRTIO_CRYPTO_NO_AEAD			0
#define VIRTIO_CRYPTO_AEAD_GCM			1
#define VIRTIO_CRYPTO_AEAD_CCM			2
#define VIRTIO_CRYPTO_AEAD_CHACHA20_POLY1305	3

/* Symmetric op types (sym create-session and sym data requests) */
#define VIRTIO_CRYPTO_SYM_OP_NONE		0
#define VIRTIO_CRYPTO_SYM_OP_CIPHER		1
#define VIRTIO_CRYPTO_SYM_OP_ALGORITHM_CHAINING	2

/* Chaining order and hash mode */
#define VIRTIO_CRYPTO_SYM_ALG_CHAIN_ORDER_HASH_THEN_CIPHER	1
#define VIRTIO_CRYPTO_SYM_ALG_CHAIN_ORDER_CIPHER_THEN_HASH	2
#define VIRTIO_CRYPTO_SYM_HASH_MODE_PLAIN	1
#define VIRTIO_CRYPTO_SYM_HASH_MODE_AUTH	2
#define VIRTIO_CRYPTO_SYM_HASH_MODE_NESTED	3

/* Status codes (session_input.status, inhdr.status) */
#define VIRTIO_CRYPTO_OK		0
#define VIRTIO_CRYPTO_ERR		1
#define VIRTIO_CRYPTO_BADMSG		2
#define VIRTIO_CRYPTO_NOTSUPP		3
#define VIRTIO_CRYPTO_INVSESS		4	/* invalid session id */
#define VIRTIO_CRYPTO_NOSPC		5	/* no free session id */
#define VIRTIO_CRYPTO_KEY_REJECTED	6	/* signature verification failed */

/* config.status */
#define VIRTIO_CRYPTO_S_HW_READY	(1u << 0)

/* ------------------------------------------------------------------ */
/* Device configuration (virtio 1.2 5.9.4)                             */
/* ------------------------------------------------------------------ */

struct virtio_crypto_config {
	uint32_t status;		/* le: VIRTIO_CRYPTO_S_* */
	uint32_t max_dataqueues;	/* le: data queues 0..n-1; controlq is queue n */
	uint32_t crypto_services;	/* le: bit per VIRTIO_CRYPTO_SERVICE_* */
	uint32_t cipher_algo_l;		/* le: bits 0..31 of VIRTIO_CRYPTO_CIPHER_* */
	uint32_t cipher_algo_h;		/* le: bits 32..63 */
	uint32_t hash_algo;		/* le */
	uint32_t mac_algo_l;		/* le */
	uint32_t mac_algo_h;		/* le */
	uint32_t aead_algo;		/* le */
	uint32_t max_cipher_key_len;	/* le */
	uint32_t max_auth_key_len;	/* le */
	uint32_t akcipher_algo;		/* le */
	uint64_t max_size;		/* le: largest request content */
};
_Static_assert(sizeof(struct virtio_crypto_config) == 56, "virtio_crypto_config is 56 bytes");

/* ------------------------------------------------------------------ */
/* Control queue: session create / destroy (virtio 1.2 5.9.7.2)        */
/* ------------------------------------------------------------------ */
/*
 * A control request is, in descriptor order:
 *   device-readable:  struct virtio_crypto_ctrl_header      (16 bytes)
 *                     union op_flf (one of the *_req below,  56 bytes)
 *                     op_vlf (variable part, see each create request)
 *   device-writable:  struct virtio_crypto_session_input    (16 bytes)
 *                     (create), or struct virtio_crypto_inhdr (1 byte,
 *                     destroy)
 * The readable part may be split over any number of descriptors.
 */

struct virtio_crypto_ctrl_header {
	uint32_t opcode;	/* le: VIRTIO_CRYPTO_*_CREATE/DESTROY_SESSION */
	uint32_t algo;		/* le: service-specific algorithm */
	uint32_t flag;		/* le */
	uint32_t queue_id;	/* le: data virtqueue the session is for */
};
_Static_assert(sizeof(struct virtio_crypto_ctrl_header) == 16, "ctrl_header is 16 bytes");

struct virtio_crypto_cipher_session_para {
	uint32_t algo;		/* le: VIRTIO_CRYPTO_CIPHER_* */
	uint32_t keylen;	/* le */
	uint32_t op;		/* le: VIRTIO_CRYPTO_OP_ENCRYPT / _DECRYPT */
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_crypto_cipher_session_para) == 16, "cipher_session_para is 16 bytes");

/* Written by the device at the end of a create-session request. */
struct virtio_crypto_session_input {
	uint64_t session_id;	/* le */
	uint32_t status;	/* le: VIRTIO_CRYPTO_* status */
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_crypto_session_input) == 16, "session_input is 16 bytes");

struct virtio_crypto_cipher_session_req {
	struct virtio_crypto_cipher_session_para para;
	uint8_t padding[32];
};
_Static_assert(sizeof(struct virtio_crypto_cipher_session_req) == 48, "cipher_session_req is 48 bytes");

struct virtio_crypto_hash_session_para {
	uint32_t algo;			/* le: VIRTIO_CRYPTO_HASH_* */
	uint32_t hash_result_len;	/* le */
	uint8_t padding[8];
};
_Static_assert(sizeof(struct virtio_crypto_hash_session_para) == 16, "hash_session_para is 16 bytes");

/* vlf: none */
struct virtio_crypto_hash_create_session_req {
	struct virtio_crypto_hash_session_para para;
	uint8_t padding[40];
};
_Static_assert(sizeof(struct virtio_crypto_hash_create_session_req) == 56, "hash_create_session_req is 56 bytes");

struct virtio_crypto_mac_session_para {
	uint32_t algo;			/* le: VIRTIO_CRYPTO_MAC_* */
	uint32_t hash_result_len;	/* le */
	uint32_t auth_key_len;		/* le */
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_crypto_mac_session_para) == 16, "mac_session_para is 16 bytes");

/* vlf: auth_key[auth_key_len] */
struct virtio_crypto_mac_create_session_req {
	struct virtio_crypto_mac_session_para para;
	uint8_t padding[40];
};
_Static_assert(sizeof(struct virtio_crypto_mac_create_session_req) == 56, "mac_create_session_req is 56 bytes");

struct virtio_crypto_aead_session_para {
	uint32_t algo;			/* le: VIRTIO_CRYPTO_AEAD_* */
	uint32_t key_len;		/* le */
	uint32_t hash_result_len;	/* le: tag length */
	uint32_t aad_len;		/* le */
	uint32_t op;			/* le: VIRTIO_CRYPTO_OP_* */
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_crypto_aead_session_para) == 24, "aead_session_para is 24 bytes");

/* vlf: key[key_len] */
struct virtio_crypto_aead_create_session_req {
	struct virtio_crypto_aead_session_para para;
	uint8_t padding[32];
};
_Static_assert(sizeof(struct virtio_crypto_aead_create_session_req) == 56, "aead_create_session_req is 56 bytes");

struct virtio_crypto_alg_chain_session_para {
	uint32_t alg_chain_order;	/* le: VIRTIO_CRYPTO_SYM_ALG_CHAIN_ORDER_* */
	uint32_t hash_mode;		/* le: VIRTIO_CRYPTO_SYM_HASH_MODE_* */
	struct virtio_crypto_cipher_session_para cipher_param;
	union {
		struct virtio_crypto_hash_session_para hash_param;	/* hash_mode PLAIN */
		struct virtio_crypto_mac_session_para mac_param;	/* hash_mode AUTH */
		uint8_t padding[16];
	} u;
	uint32_t aad_len;		/* le */
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_crypto_alg_chain_session_para) == 48, "alg_chain_session_para is 48 bytes");

struct virtio_crypto_alg_chain_session_req {
	struct virtio_crypto_alg_chain_session_para para;
};

/*
 * vlf: op_type CIPHER:             cipher_key[keylen]
 *      op_type ALGORITHM_CHAINING: cipher_key[keylen], auth_key[auth_key_len]
 *                                  (auth_key only with hash_mode AUTH)
 */
struct virtio_crypto_sym_create_session_req {
	union {
		struct virtio_crypto_cipher_session_req cipher;
		struct virtio_crypto_alg_chain_session_req chain;
		uint8_t padding[48];
	} u;
	uint32_t op_type;	/* le: VIRTIO_CRYPTO_SYM_OP_* */
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_crypto_sym_create_session_req) == 56, "sym_create_session_req is 56 bytes");

/* vlf: none; device writes struct virtio_crypto_inhdr (1 byte) */
struct virtio_crypto_destroy_session_req {
	uint64_t session_id;	/* le */
	uint8_t padding[48];
};
_Static_assert(sizeof(struct virtio_crypto_destroy_session_req) == 56, "destroy_session_req is 56 bytes");

struct virtio_crypto_op_ctrl_req {
	struct virtio_crypto_ctrl_header header;
	union {
		struct virtio_crypto_sym_create_session_req sym_create_session;
		struct virtio_crypto_hash_create_session_req hash_create_session;
		struct virtio_crypto_mac_create_session_req mac_create_session;
		struct virtio_crypto_aead_create_session_req aead_create_session;
		struct virtio_crypto_destroy_session_req destroy_session;
		uint8_t padding[56];
	} u;
};
_Static_assert(sizeof(struct virtio_crypto_op_ctrl_req) == 72, "op_ctrl_req is 72 bytes");

/* ------------------------------------------------------------------ */
/* Data queue requests (virtio 1.2 5.9.7.4 - 5.9.7.7)                  */
/* ------------------------------------------------------------------ */
/*
 * A data request is, in descriptor order:
 *   device-readable:  struct virtio_crypto_op_header   (24 bytes)
 *                     union op_flf (48 bytes: *_data_req below)
 *                     readable vlf fields
 *   device-writable:  writable vlf fields
 *                     struct virtio_crypto_inhdr        (1 byte, last)
 *
 * vlf per service (the order is the wire order):
 *   CIPHER (sym, op_type CIPHER):
 *       R: iv[iv_len] src_data[src_data_len]
 *       W: dst_data[dst_data_len]
 *   ALGORITHM_CHAINING (sym, op_type ALGORITHM_CHAINING):
 *       R: iv[iv_len] aad[aad_len] src_data[src_data_len]
 *          (QEMU's device reads iv, aad, src in this order; with
 *          aad_len 0, as DPDK requires, it is just iv, src)
 *       W: dst_data[dst_data_len] hash_result[hash_result_len]
 *   HASH, MAC:
 *       R: src_data[src_data_len]
 *       W: hash_result[hash_result_len]
 *   AEAD:
 *       R: iv[iv_len] aad[aad_len] src_data[src_data_len]
 *       W: dst_data[dst_data_len]
 *       atx convention (both sides of atx follow it): the tag travels
 *       inside the data: encrypt writes dst_data = ciphertext || tag
 *       (dst_data_len = src_data_len + tag_len); decrypt reads
 *       src_data = ciphertext || tag and writes the plaintext
 *       (dst_data_len = src_data_len - tag_len); a tag mismatch is
 *       VIRTIO_CRYPTO_BADMSG.  tag_len is the session's hash_result_len.
 *
 * The readable and writable parts may each be split over any number of
 * descriptors at any byte boundary; the device treats each as one stream.
 *
 * What atx-vcryptod (tools/vcryptod) does where the spec is silent; atx's
 * driver may rely on it:
 *   - dst_data starts at the first writable byte, hash_result follows it,
 *     the inhdr status is the LAST writable byte.
 *   - used.len: the whole writable length when a status was written; 0
 *     when the chain was malformed (loop, index out of range, bad indirect
 *     table) or has no writable byte.  Then nothing was written: treat it
 *     as VIRTIO_CRYPTO_ERR.  A descriptor outside the memory table, or a
 *     readable one after a writable one, gets BADMSG in the status.
 *   - CIPHER: dst_data_len == src_data_len; the opcode (ENCRYPT/DECRYPT)
 *     gives the direction, not the session's op.
 *   - ALGORITHM_CHAINING: dst_data_len == src_data_len; dst_data is
 *     src_data with [cipher_start_src_offset, +len_to_cipher) transformed;
 *     the hash/HMAC covers aad || [hash_start_src_offset, +len_to_hash) of
 *     the OUTPUT for CIPHER_THEN_HASH, of the INPUT for HASH_THEN_CIPHER.
 *   - HASH, MAC: hash_result_len <= the digest size truncates it.
 *   - Control queue: create writes struct virtio_crypto_session_input at
 *     the start of the writable part, destroy one status byte there.
 */

struct virtio_crypto_op_header {
	uint32_t opcode;	/* le: data queue opcode */
	uint32_t algo;		/* le: service-specific algorithm */
	uint64_t session_id;	/* le */
	uint32_t flag;		/* le */
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_crypto_op_header) == 24, "op_header is 24 bytes");

struct virtio_crypto_cipher_para {
	uint32_t iv_len;	/* le */
	uint32_t src_data_len;	/* le */
	uint32_t dst_data_len;	/* le */
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_crypto_cipher_para) == 16, "cipher_para is 16 bytes");

struct virtio_crypto_hash_para {
	uint32_t src_data_len;		/* le */
	uint32_t hash_result_len;	/* le */
};
_Static_assert(sizeof(struct virtio_crypto_hash_para) == 8, "hash_para is 8 bytes");

struct virtio_crypto_mac_para {
	struct virtio_crypto_hash_para hash;
};

struct virtio_crypto_aead_para {
	uint32_t iv_len;	/* le: GCM 12 (or 16 = J0), CCM 7..13, ChaCha20-Poly1305 12 */
	uint32_t aad_len;	/* le */
	uint32_t src_data_len;	/* le */
	uint32_t dst_data_len;	/* le */
};
_Static_assert(sizeof(struct virtio_crypto_aead_para) == 16, "aead_para is 16 bytes");

struct virtio_crypto_cipher_data_req {
	struct virtio_crypto_cipher_para para;
	uint8_t padding[24];
};
_Static_assert(sizeof(struct virtio_crypto_cipher_data_req) == 40, "cipher_data_req is 40 bytes");

struct virtio_crypto_hash_data_req {
	struct virtio_crypto_hash_para para;
	uint8_t padding[40];
};
_Static_assert(sizeof(struct virtio_crypto_hash_data_req) == 48, "hash_data_req is 48 bytes");

struct virtio_crypto_mac_data_req {
	struct virtio_crypto_mac_para para;
	uint8_t padding[40];
};
_Static_assert(sizeof(struct virtio_crypto_mac_data_req) == 48, "mac_data_req is 48 bytes");

struct virtio_crypto_alg_chain_data_para {
	uint32_t iv_len;			/* le */
	uint32_t src_data_len;			/* le */
	uint32_t dst_data_len;			/* le */
	uint32_t cipher_start_src_offset;	/* le */
	uint32_t len_to_cipher;			/* le */
	uint32_t hash_start_src_offset;		/* le */
	uint32_t len_to_hash;			/* le */
	uint32_t aad_len;			/* le */
	uint32_t hash_result_len;		/* le */
	uint32_t reserved;
};
_Static_assert(sizeof(struct virtio_crypto_alg_chain_data_para) == 40, "alg_chain_data_para is 40 bytes");

struct virtio_crypto_alg_chain_data_req {
	struct virtio_crypto_alg_chain_data_para para;
};

struct virtio_crypto_sym_data_req {
	union {
		struct virtio_crypto_cipher_data_req cipher;
		struct virtio_crypto_alg_chain_data_req chain;
		uint8_t padding[40];
	} u;
	uint32_t op_type;	/* le: VIRTIO_CRYPTO_SYM_OP_* */
	uint32_t padding;
};
_Static_assert(sizeof(struct virtio_crypto_sym_data_req) == 48, "sym_data_req is 48 bytes");

struct virtio_crypto_aead_data_req {
	struct virtio_crypto_aead_para para;
	uint8_t padding[32];
};
_Static_assert(sizeof(struct virtio_crypto_aead_data_req) == 48, "aead_data_req is 48 bytes");

struct virtio_crypto_op_data_req {
	struct virtio_crypto_op_header header;
	union {
		struct virtio_crypto_sym_data_req sym_req;
		struct virtio_crypto_hash_data_req hash_req;
		struct virtio_crypto_mac_data_req mac_req;
		struct virtio_crypto_aead_data_req aead_req;
		uint8_t padding[48];
	} u;
};
_Static_assert(sizeof(struct virtio_crypto_op_data_req) == 72, "op_data_req is 72 bytes");

/* The last (device-writable) byte of every data request and of destroy. */
struct virtio_crypto_inhdr {
	uint8_t status;		/* VIRTIO_CRYPTO_* status */
};
_Static_assert(sizeof(struct virtio_crypto_inhdr) == 1, "inhdr is 1 byte");

#endif /* ATX_VIRTIO_CRYPTO_PROTO_H */
