/* SPDX-License-Identifier: MIT */
/*
 * transport.h - how the virtio-crypto driver reaches a device, kept apart
 * from the crypto protocol (virtio_crypto.c) so that a second transport
 * (virtio-pci through uio/vfio) can be added without touching it.
 *
 * A transport provides: feature negotiation, sharing of the driver's
 * memory arena with the device, per-queue setup (size, ring addresses,
 * notification in both directions), the device config space, and - for
 * transports where sessions are messages rather than control-queue
 * requests (DPDK's vhost-user crypto) - session create/destroy.
 *
 * Also here: the arena, the one block of shareable memory (memfd) that
 * holds the rings, the per-request headers and the bounce buffers.
 * Everything the device reads or writes lives in it.
 *
 * Slow path only, except kick() which is the doorbell.
 */
#ifndef ATX_VIRTIO_TRANSPORT_H
#define ATX_VIRTIO_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the shared arena ---- */

struct vc_arena {
	void *base;             /* MAP_SHARED mapping of fd */
	size_t size;
	size_t used;            /* bump allocator: setup-time only */
	int fd;                 /* memfd, handed to the device */
	int64_t gpa_off;        /* device ("guest-physical") address = virtual + gpa_off */
};

/* vc_arena_init - memfd_create + ftruncate + mmap(MAP_SHARED).  0 or -errno. */
int atx__arena_init(struct vc_arena *a, size_t size);
void atx__arena_fini(struct vc_arena *a);
/* Zeroed memory from the arena, @align a power of two; NULL when exhausted. */
void *atx__arena_alloc(struct vc_arena *a, size_t len, size_t align);

static inline bool atx__arena_contains(const struct vc_arena *a, const void *p, size_t len)
{
	uintptr_t b = (uintptr_t)a->base, x = (uintptr_t)p;

	return x >= b && len <= a->size && x - b <= a->size - len;
}

/* ---- transports ---- */

/* A virtqueue as the transport must tell the device about it. */
struct vc_vring_cfg {
	unsigned index;         /* virtio queue index (controlq = max_dataqueues) */
	unsigned num;
	void *desc, *avail, *used;      /* driver virtual addresses, inside the arena */
};

/*
 * A session as a message (DPDK-style CREATE_CRYPTO_SESSION).  Values are
 * virtio-crypto constants (VIRTIO_CRYPTO_*).
 */
struct vc_session_msg {
	uint32_t op_code;       /* VIRTIO_CRYPTO_*_CREATE_SESSION */
	uint32_t op_type;       /* VIRTIO_CRYPTO_SYM_OP_* */
	uint32_t cipher_algo;
	uint32_t dir;           /* VIRTIO_CRYPTO_OP_ENCRYPT/DECRYPT */
	uint32_t hash_algo;     /* hash or MAC algorithm */
	uint32_t hash_mode;     /* VIRTIO_CRYPTO_SYM_HASH_MODE_* */
	uint32_t chain_order;   /* VIRTIO_CRYPTO_SYM_ALG_CHAIN_ORDER_* */
	uint32_t digest_len;
	uint32_t aad_len;
	const void *key;
	uint32_t key_len;
	const void *auth_key;
	uint32_t auth_key_len;
};

struct vc_transport;

struct vc_transport_ops {
	const char *name;
	/* negotiate (required) - offer @want, accept what the device has: *@got = want & device. */
	int (*negotiate)(struct vc_transport *t, uint64_t want, uint64_t *got);
	/* map_memory (required) - make the whole arena visible to the device. */
	int (*map_memory)(struct vc_transport *t, struct vc_arena *a);
	/*
	 * config_read (required) - read @len bytes of device config at
	 * @off.  -EOPNOTSUPP when the device exposes none (the driver then
	 * assumes defaults).
	 */
	int (*config_read)(struct vc_transport *t, unsigned off, void *buf, unsigned len);
	/* setup_vring (required) - tell the device about a queue and enable it. */
	int (*setup_vring)(struct vc_transport *t, const struct vc_vring_cfg *c);
	/* kick (required, fast path) - the doorbell of queue @index. */
	int (*kick)(struct vc_transport *t, unsigned index);
	/* call_fd (required) - fd that becomes readable when queue @index has used entries. */
	int (*call_fd)(struct vc_transport *t, unsigned index);
	/* hangup_fd (optional) - fd that becomes readable/HUP when the device goes away, or -1. */
	int (*hangup_fd)(struct vc_transport *t);
	/* alive (optional) - false once the device is known to be gone (checks without blocking). */
	bool (*alive)(struct vc_transport *t);
	/*
	 * session_msgs (optional) - true when this device takes sessions as
	 * transport messages (then session_create/destroy below), false or
	 * NULL when they go on the control queue.
	 */
	bool (*session_msgs)(struct vc_transport *t);
	/*
	 * session_create / session_destroy (optional) - sessions by message.
	 * -EOPNOTSUPP when this device wants them on the control queue.
	 * session_create returns 0 with *id, or a negative errno mapped from
	 * the device's status.
	 */
	int (*session_create)(struct vc_transport *t, const struct vc_session_msg *m, uint64_t *id);
	int (*session_destroy)(struct vc_transport *t, uint64_t id);
	/* close (required) - drop the device connection and every fd. */
	void (*close)(struct vc_transport *t);
};

struct vc_transport {
	const struct vc_transport_ops *ops;
};

/*
 * vhost_user.c: connect to a vhost-user backend's unix socket and accept
 * the protocol features it offers within @protocol_mask (bits
 * VHOST_USER_PROTOCOL_F_*; ~0 = all we know).  0 or -errno.
 */
int atx__vhost_user_open(const char *path, int timeout_ms, uint64_t protocol_mask,
			 struct vc_transport **out);

#endif /* ATX_VIRTIO_TRANSPORT_H */
