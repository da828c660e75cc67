/* SPDX-License-Identifier: MIT */
/*
 * virtio_crypto.h - the virtio-crypto protocol as the driver speaks it
 * (virtio 1.2 section 5.9): device bring-up over a transport, sessions
 * (control queue, or messages for DPDK-style backends), data requests
 * built into per-slot headers in the shared arena, status -> errno.
 *
 * engine.c glues this to atx's engine interface; nothing here knows about
 * atx descriptors except through struct atx_op.
 */
#ifndef ATX_VIRTIO_CRYPTO_H
#define ATX_VIRTIO_CRYPTO_H

#include <stdbool.h>
#include <stdint.h>

#include "atx_engine.h"
#include "virtio_crypto/transport.h"
#include "virtio_crypto/virtio_crypto_proto.h"
#include "virtio_crypto/virtqueue.h"

#define VC_MAX_BUFS 8           /* descriptors per request: req iv aad src | dst hash status */

/*
 * Per-slot memory the device sees (in the arena).  What the device writes
 * starts on its own cache line, apart from what the driver writes.
 */
struct vc_hdr {
	struct virtio_crypto_op_data_req req;   /* R */
	uint8_t iv[ATX_MAX_IV_LEN];             /* R */
	uint8_t hash[ATX_MAX_DIGEST_LEN] __attribute__((aligned(64))); /* W: hash / MAC / chain result */
	uint8_t status;                         /* W: virtio_crypto_inhdr */
} __attribute__((aligned(64)));

/* What to do when a slot completes (driver memory). */
struct vc_slot {
	void *tx;               /* struct atx_tx *, the cookie's owner */
	uint8_t *bounce;        /* this slot's bounce area (arena) */
	uint8_t *dst_b;         /* device-written data in the bounce area, or NULL */
	uint32_t dst_len;       /* bytes of dst to copy out to the caller */
	uint32_t tag_len;       /* AEAD encrypt: tag bytes after dst_b[dst_len] */
	uint32_t hash_len;      /* hash/MAC/chain: bytes of hdr->hash */
	bool verify;            /* compare hdr->hash with the caller's digest */
	bool copy_dst_if_ok;    /* verify-then-decrypt: copy dst only when the MAC matched */
	bool dev_verifies;      /* DPDK: the device checks the MAC (given in hdr->hash) */
};

struct vc_queue {
	struct virtqueue vq;
	unsigned index;                 /* virtio queue index */
	struct vc_hdr *hdrs;            /* [num] in the arena */
	struct vc_slot *slots;          /* [num] */
	void **cookies;
	size_t bounce_size;             /* per slot */
	struct atx_chan *chan;
	int call_fd;
	bool blocked;                   /* told the core -EAGAIN */
	uint64_t polls;                 /* times the core ran our poll (wake-ups) */
	uint64_t completed;             /* requests reaped (watchdog progress) */
	uint64_t wd_seen;               /* completed at the last watchdog tick */
	unsigned wd_stall;              /* seconds with work in flight and no progress */
	bool wd_armed;                  /* a tick saw work in flight and no progress */
};

struct vc_sess {
	uint64_t id;
	uint32_t opcode;                /* data queue opcode */
	uint32_t algo;                  /* header algo */
	enum atx_service svc;
	enum atx_dir dir;
	uint32_t digest_len;            /* hash/MAC/chain result, AEAD tag */
	bool by_msg;                    /* created with a transport message */
};

struct vc_dev {
	struct vc_transport *t;
	struct vc_arena arena;
	struct virtio_crypto_config cfg;
	bool have_config;               /* read from the device, else defaults */
	uint64_t features;
	unsigned nqueues;
	unsigned qsize;
	struct vc_queue *q;             /* [nqueues] data queues */
	struct vc_queue ctrl;           /* controlq (when sessions are not messages) */
	bool ctrl_ready;
	bool msg_sessions;
	bool dead;
	uint64_t sessions_live;
	uint8_t *ubuf;                  /* arena part handed out by atx__virtio_buf_alloc */
	size_t ubuf_size, ubuf_used;
};

struct vc_dev_opts {
	size_t arena_size;      /* 0 = enough for full-size bounce areas (>= 64 MiB) */
	unsigned qsize;         /* 0 = 256 */
	unsigned max_queues;    /* 0 = as many as the device has (<= 16) */
	int timeout_ms;         /* connect/answer timeout; 0 = 5000 */
	size_t ubuf_size;       /* arena bytes reserved for zero-copy caller buffers */
	/*
	 * The transport's own arena (virtio-pci: pinned hugepages with
	 * physical addresses); NULL = a memfd arena (vhost-user).  @size is
	 * a wish: the arena's size says what was had.
	 */
	int (*arena_init)(struct vc_transport *t, struct vc_arena *a, size_t size);
};

/*
 * atx__virtio_buf_alloc - memory the device of @chan reads and writes in
 * place (no bounce): from the "ubuf=MiB" reserve of the engine spec.
 * Never freed before the context.  NULL with errno ENOMEM when the
 * reserve is exhausted, EINVAL when @chan is not a virtio channel.  The
 * engine side of the proposed atx_buf_alloc().
 */
void *atx__virtio_buf_alloc(struct atx_chan *chan, size_t len);

/* Bring a device up over @t (which becomes owned by @d). 0 or -errno. */
int atx__vc_dev_init(struct vc_dev *d, struct vc_transport *t, const struct vc_dev_opts *o);
void atx__vc_dev_fini(struct vc_dev *d);

/* Would the device serve @p?  0 (yes), -EOPNOTSUPP, -ENODEV (gone). */
int atx__vc_probe(const struct vc_dev *d, const struct atx_session_params *p);
int atx__vc_session_create(struct vc_dev *d, const struct atx_session_params *p,
			   struct vc_sess *s);
void atx__vc_session_destroy(struct vc_dev *d, struct vc_sess *s);

/*
 * atx__vc_build - fill the slot @slot of @q for @op (bouncing caller
 * buffers through the slot's area) and return the descriptor list in
 * @bufs.  Returns the number of buffers, or -EMSGSIZE (does not fit the
 * bounce area / device max_size), -EINVAL.  *bounced counts buffers copied.
 */
int atx__vc_build(struct vc_dev *d, struct vc_queue *q, unsigned slot, struct atx_op *op,
		  struct vq_buf *bufs, unsigned *bounced);

/* atx__vc_finish - after the device used @slot: copy results out; returns the op's status. */
int atx__vc_finish(struct vc_queue *q, unsigned slot, struct atx_op *op);

/* VIRTIO_CRYPTO_* status -> 0 / -errno (table in virtio_crypto.c). */
int atx__vc_status_errno(unsigned status);

#endif /* ATX_VIRTIO_CRYPTO_H */
