/* SPDX-License-Identifier: MIT */
/*
 * virtqueue.h - the driver side of a virtio 1.x split virtqueue
 * (virtio 1.2 section 2.7), as used by atx's virtio-crypto engine.
 *
 * Every request occupies exactly one ring slot: slot s owns descriptor s
 * (the head), avail.ring[s] and, on completion, used.ring[s].  Slots are
 * taken strictly in ring order (slot = avail_idx % num), so avail slot,
 * head index and used slot are always the same number.  DPDK's vhost
 * crypto backend relies on that: it writes the completion of head h to
 * used.ring[h].  A request with more than one buffer puts them in an
 * indirect table owned by the slot (VRING_DESC_F_INDIRECT); without
 * INDIRECT_DESC the slot owns a fixed stride of direct descriptors
 * instead and the queue holds num / stride requests.
 *
 * Memory is provided by the caller (the shared arena): the ring and the
 * per-slot indirect tables must be visible to the device; addresses
 * handed to the device are "guest-physical" = virtual + vq->gpa_off.
 *
 * Single-threaded: one virtqueue belongs to one loop thread.
 */
#ifndef ATX_VIRTQUEUE_H
#define ATX_VIRTQUEUE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio_crypto/virtio_crypto_proto.h"

/* One buffer of a request. */
struct vq_buf {
	void *addr;             /* driver virtual address (inside shared memory) */
	uint32_t len;
	bool write;             /* device-writable */
};

struct virtqueue {
	unsigned num;           /* queue size (power of two) */
	unsigned nslots;        /* requests that fit: num, or num / stride without indirect */
	unsigned stride;        /* descriptors per slot: 1 with indirect, else max_bufs */
	unsigned max_bufs;      /* buffers per request */
	bool indirect;          /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool event_idx;         /* VIRTIO_RING_F_EVENT_IDX negotiated */

	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct vring_desc *itab;        /* nslots * max_bufs indirect descriptors */
	int64_t gpa_off;                /* device address = virtual + gpa_off */

	uint16_t avail_idx;     /* shadow of avail->idx: next slot to fill */
	uint16_t last_used;     /* next used entry to reap */
	uint16_t signalled;     /* avail_idx when we last decided about a kick */
	unsigned inflight;
	void **cookie;          /* per slot: the caller's request, NULL = free */

	/* counters (driver side; cheap, for the report and tests) */
	uint64_t kicks;
	uint64_t kicks_suppressed;
};

/* Bytes of shared memory vq_init needs for the ring / for the indirect tables. */
size_t atx__vq_ring_bytes(unsigned num);
size_t atx__vq_itab_bytes(unsigned num, unsigned max_bufs, bool indirect);

/*
 * vq_init - lay a queue of @num entries (power of two, <= 32768) over
 * @ring (atx__vq_ring_bytes(num), zeroed, 64-byte aligned) and @itab
 * (atx__vq_itab_bytes(), may be NULL when !indirect).  @cookies holds num
 * pointers.  Returns 0 or -EINVAL.
 */
int atx__vq_init(struct virtqueue *vq, unsigned num, unsigned max_bufs, bool indirect,
	    bool event_idx, void *ring, void *itab, void **cookies, int64_t gpa_off);

/* Device addresses of the three parts (for SET_VRING_ADDR / queue_desc etc.). */
uint64_t atx__vq_desc_gpa(const struct virtqueue *vq);
uint64_t atx__vq_avail_gpa(const struct virtqueue *vq);
uint64_t atx__vq_used_gpa(const struct virtqueue *vq);

/* Free request slots. */
static inline unsigned atx__vq_room(const struct virtqueue *vq)
{
	return vq->nslots - vq->inflight;
}

/*
 * vq_next_slot - the slot the next vq_add will use (so the caller can
 * build the request in that slot's memory first), or -EAGAIN when that
 * slot is still with the device (full ring or out-of-order completion).
 */
static inline int atx__vq_next_slot(const struct virtqueue *vq)
{
	unsigned slot = vq->avail_idx & (vq->nslots - 1);

	return vq->cookie[slot] ? -EAGAIN : (int)slot;
}

/*
 * vq_add - place one request of @n buffers (device-readable ones first)
 * in the next slot and make it available (the avail index is published
 * at once, with release semantics).  Does not notify the device: call
 * atx__vq_kick_prepare() at the end of a batch.  Returns the slot (>= 0),
 * -EAGAIN when the next slot in ring order is still busy (full), -EINVAL
 * for a bad buffer list.
 */
int atx__vq_add(struct virtqueue *vq, const struct vq_buf *bufs, unsigned n, void *cookie);

/*
 * vq_kick_prepare - after a batch of vq_add: true when the device must be
 * notified (EVENT_IDX: vring_need_event on the device's avail_event;
 * else unless the device set VRING_USED_F_NO_NOTIFY).
 */
bool atx__vq_kick_prepare(struct virtqueue *vq);

/*
 * vq_get - reap one completed request: returns its cookie and stores the
 * bytes the device wrote in *@len, or NULL when none is ready.
 */
void *atx__vq_get(struct virtqueue *vq, uint32_t *len);

/*
 * vq_enable_cb - after reaping: publish how far we got (used_event with
 * EVENT_IDX) so the device interrupts on the next completion.  Returns
 * true when more completions arrived meanwhile (reap again).
 */
bool atx__vq_enable_cb(struct virtqueue *vq);

/* Take back every in-flight request (device gone): returns the next cookie or NULL. */
void *atx__vq_detach_unused(struct virtqueue *vq);

#endif /* ATX_VIRTQUEUE_H */
