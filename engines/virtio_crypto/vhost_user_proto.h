/* SPDX-License-Identifier: MIT */
/*
 * vhost_user_proto.h - the vhost-user messages atx speaks, as the frontend
 * (engines/virtio_crypto/, the driver) and as the backend
 * (tools/vcryptod/, atx-vcryptod).
 *
 * Source: QEMU docs/interop/vhost-user.rst, plus DPDK's crypto session
 * messages (lib/vhost/vhost_user.h, see /work/shared/INTEROP.md).  Every
 * message is a 12-byte header followed by `size` bytes of payload; file
 * descriptors ride along as SCM_RIGHTS ancillary data on the header's
 * sendmsg.  All fields are little-endian (host order on x86_64).
 */
#ifndef ATX_VHOST_USER_PROTO_H
#define ATX_VHOST_USER_PROTO_H

#include <stdint.h>

/* Request codes (frontend -> backend) */
#define VHOST_USER_NONE			0
#define VHOST_USER_GET_FEATURES		1
#define VHOST_USER_SET_FEATURES		2
#define VHOST_USER_SET_OWNER		3
#define VHOST_USER_RESET_OWNER		4
#define VHOST_USER_SET_MEM_TABLE	5
#define VHOST_USER_SET_LOG_BASE		6
#define VHOST_USER_SET_LOG_FD		7
#define VHOST_USER_SET_VRING_NUM	8
#define VHOST_USER_SET_VRING_ADDR	9
#define VHOST_USER_SET_VRING_BASE	10
#define VHOST_USER_GET_VRING_BASE	11
#define VHOST_USER_SET_VRING_KICK	12
#define VHOST_USER_SET_VRING_CALL	13
#define VHOST_USER_SET_VRING_ERR	14
#define VHOST_USER_GET_PROTOCOL_FEATURES 15
#define VHOST_USER_SET_PROTOCOL_FEATURES 16
#define VHOST_USER_GET_QUEUE_NUM	17
#define VHOST_USER_SET_VRING_ENABLE	18
#define VHOST_USER_GET_CONFIG		24
#define VHOST_USER_SET_CONFIG		25
/* DPDK names these VHOST_USER_CRYPTO_CREATE_SESS / _CLOSE_SESS; QEMU's
 * spelling is CREATE_CRYPTO_SESSION / CLOSE_CRYPTO_SESSION. */
#define VHOST_USER_CREATE_CRYPTO_SESSION 26
#define VHOST_USER_CLOSE_CRYPTO_SESSION	27

/* Header flags */
#define VHOST_USER_VERSION_MASK		0x3
#define VHOST_USER_VERSION		0x1
#define VHOST_USER_REPLY_MASK		0x4	/* set on every backend reply */
#define VHOST_USER_NEED_REPLY_MASK	0x8	/* REPLY_ACK: frontend wants a u64 ack */

/* Virtio feature bit: the backend speaks GET/SET_PROTOCOL_FEATURES. */
#define VHOST_USER_F_PROTOCOL_FEATURES	30

/* Protocol feature bits (GET/SET_PROTOCOL_FEATURES) */
#define VHOST_USER_PROTOCOL_F_MQ		0
#define VHOST_USER_PROTOCOL_F_LOG_SHMFD		1
#define VHOST_USER_PROTOCOL_F_RARP		2
#define VHOST_USER_PROTOCOL_F_REPLY_ACK		3
#define VHOST_USER_PROTOCOL_F_MTU		4
#define VHOST_USER_PROTOCOL_F_SLAVE_REQ		5
#define VHOST_USER_PROTOCOL_F_CROSS_ENDIAN	6
#define VHOST_USER_PROTOCOL_F_CRYPTO_SESSION	7
#define VHOST_USER_PROTOCOL_F_PAGEFAULT		8
#define VHOST_USER_PROTOCOL_F_CONFIG		9

/* Limits */
#define VHOST_USER_MAX_RAM_SLOTS	8	/* regions in one SET_MEM_TABLE */
#define VHOST_USER_MAX_FDS		8	/* fds in one message */
#define VHOST_USER_MAX_CONFIG_SIZE	256

/* SET_VRING_KICK/CALL/ERR u64 payload: bits 0-7 vring index, bit 8 "no fd"
 * (then the ring is polled / never signalled). */
#define VHOST_USER_VRING_IDX_MASK	0xffu
#define VHOST_USER_VRING_NOFD_MASK	(1u << 8)

struct vhost_user_header {
	uint32_t request;	/* VHOST_USER_* */
	uint32_t flags;		/* VHOST_USER_VERSION | REPLY | NEED_REPLY */
	uint32_t size;		/* payload bytes after this header */
};
_Static_assert(sizeof(struct vhost_user_header) == 12, "vhost-user header is 12 bytes");

/* SET_VRING_NUM, SET_VRING_BASE, GET_VRING_BASE, SET_VRING_ENABLE */
struct vhost_vring_state {
	uint32_t index;
	uint32_t num;
};
_Static_assert(sizeof(struct vhost_vring_state) == 8, "vhost_vring_state is 8 bytes");

#define VHOST_VRING_F_LOG	0

/* SET_VRING_ADDR: addresses are in the FRONTEND's virtual address space
 * (translate through userspace_addr), unlike descriptor addresses, which are
 * guest-physical (translate through guest_phys_addr). */
struct vhost_vring_addr {
	uint32_t index;
	uint32_t flags;		/* bit VHOST_VRING_F_LOG */
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};
_Static_assert(sizeof(struct vhost_vring_addr) == 40, "vhost_vring_addr is 40 bytes");

struct vhost_user_memory_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;	/* offset into the region's fd */
};
_Static_assert(sizeof(struct vhost_user_memory_region) == 32, "memory region is 32 bytes");

/* SET_MEM_TABLE: one fd per region, in order, as SCM_RIGHTS. */
struct vhost_user_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_memory_region regions[VHOST_USER_MAX_RAM_SLOTS];
};
_Static_assert(sizeof(struct vhost_user_memory) == 8 + 8 * 32, "vhost_user_memory is 264 bytes");

/* GET_CONFIG / SET_CONFIG: the device config space window
 * (for virtio-crypto, struct virtio_crypto_config from offset 0). */
struct vhost_user_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VHOST_USER_MAX_CONFIG_SIZE];
};
_Static_assert(sizeof(struct vhost_user_config) == 12 + 256, "vhost_user_config is 268 bytes");

/*
 * CREATE_CRYPTO_SESSION payload, DPDK 22.11 layout (VhostUserCryptoSessionParam,
 * 632 bytes).  The backend replies with the same struct, session_id set to
 * the new id (>= 1) or to a negative VIRTIO_CRYPTO_* status.
 *   op_code:      VIRTIO_CRYPTO_CIPHER_CREATE_SESSION etc.
 *   op_type:      VIRTIO_CRYPTO_SYM_OP_CIPHER / _ALGORITHM_CHAINING
 *   dir:          cipher direction, VIRTIO_CRYPTO_OP_ENCRYPT / _DECRYPT
 *   hash_mode:    VIRTIO_CRYPTO_SYM_HASH_MODE_*
 *   chaining_dir: VIRTIO_CRYPTO_SYM_ALG_CHAIN_ORDER_*
 * The two pointer fields are meaningless across processes (DPDK fills them
 * in its own address space); senders zero them, receivers ignore them.
 * CLOSE_CRYPTO_SESSION payload is a u64 session id.
 * atx-vcryptod also accepts op_code HASH/MAC/AEAD_CREATE_SESSION here
 * (hash_algo carries the hash or MAC id, cipher_algo the AEAD id, dir the
 * AEAD direction); its ids share one namespace with control-queue sessions.
 */
#define VHOST_USER_CRYPTO_MAX_CIPHER_KEY_LENGTH	64
#define VHOST_USER_CRYPTO_MAX_HMAC_KEY_LENGTH	512

struct vhost_user_crypto_session_param {
	int64_t session_id;
	uint32_t op_code;
	uint32_t cipher_algo;
	uint32_t cipher_key_len;
	uint32_t hash_algo;
	uint32_t digest_len;
	uint32_t auth_key_len;
	uint32_t aad_len;
	uint8_t op_type;
	uint8_t dir;
	uint8_t hash_mode;
	uint8_t chaining_dir;
	uint64_t cipher_key_ptr;	/* DPDK: uint8_t *ciphe_key; ignore */
	uint64_t auth_key_ptr;		/* DPDK: uint8_t *auth_key; ignore */
	uint8_t cipher_key_buf[VHOST_USER_CRYPTO_MAX_CIPHER_KEY_LENGTH];
	uint8_t auth_key_buf[VHOST_USER_CRYPTO_MAX_HMAC_KEY_LENGTH];
};
_Static_assert(sizeof(struct vhost_user_crypto_session_param) == 632,
	       "VhostUserCryptoSessionParam is 632 bytes (DPDK 22.11)");
_Static_assert(__builtin_offsetof(struct vhost_user_crypto_session_param, cipher_key_buf) == 56,
	       "cipher key buffer at offset 56");

/*
 * Any payload.  A message on the wire is struct vhost_user_header directly
 * followed by hdr.size payload bytes (no padding between them), so send and
 * receive the two as separate iovecs rather than as one C struct (whose
 * 8-byte aligned payload would sit at offset 16).
 */
union vhost_user_payload {
	uint64_t u64;	/* features, protocol features, queue num, kick/call/err, ack, session id */
	struct vhost_vring_state state;
	struct vhost_vring_addr addr;
	struct vhost_user_memory memory;
	struct vhost_user_config config;
	struct vhost_user_crypto_session_param crypto_session;
};
_Static_assert(sizeof(union vhost_user_payload) == 632, "largest payload is the crypto session");

#endif /* ATX_VHOST_USER_PROTO_H */
