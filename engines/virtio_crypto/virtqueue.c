/* SPDX-License-Identifier: MIT */
/*
 * virtqueue.c - driver side of a split virtqueue (see virtqueue.h).
 *
 * Memory ordering (virtio 1.2 2.7.13): the device runs in another process
 * and reads the ring while we write it.  Descriptors and the avail.ring
 * entry are plain stores made visible by a release store of avail->idx;
 * used entries are read after an acquire load of used->idx.  The two
 * "should I notify / are there more" checks need a full barrier between
 * our index store and the load of the other side's event index, or both
 * sides can miss each other (the classic lost wake-up).
 */
#include <errno.h>
#include <string.h>

#include "virtio_crypto/virtqueue.h"

#define VQ_ALIGN 64

static inline uint16_t load_acquire16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void store_release16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void full_barrier(void)
{
#ifdef __SANITIZE_THREAD__
	/*
	 * TSan does not model fences (gcc warns); a locked RMW is the same
	 * full barrier on x86 (Linux's smp_mb is one), and the other side of
	 * the ring is another process TSan cannot see anyway.
	 */
	int x = 0;
	__atomic_fetch_add(&x, 0, __ATOMIC_SEQ_CST);
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* Our single-block layout: desc, then avail, then used, each 64-byte aligned. */
static size_t avail_off(unsigned num)
{
	return vring_align_up(vring_desc_size(num), VQ_ALIGN);
}

static size_t used_off(unsigned num)
{
	return vring_align_up(avail_off(num) + vring_avail_size(num), VQ_ALIGN);
}

size_t atx__vq_ring_bytes(unsigned num)
{
	return vring_align_up(used_off(num) + vring_used_size(num), VQ_ALIGN);
}

size_t atx__vq_itab_bytes(unsigned num, unsigned max_bufs, bool indirect)
{
	if (!indirect)
		return 0;
	return (size_t)num * max_bufs * sizeof(struct vring_desc);
}

int atx__vq_init(struct virtqueue *vq, unsigned num, unsigned max_bufs, bool indirect,
	    bool event_idx, void *ring, void *itab, void **cookies, int64_t gpa_off)
{
	if (!num || (num & (num - 1)) || num > VRING_MAX_SIZE || !max_bufs || !ring ||
	    !cookies || (indirect && !itab))
		return -EINVAL;
	/*
	 * Without indirect tables a slot owns max_bufs consecutive direct
	 * descriptors; round the stride to a power of two so slot numbers
	 * stay a mask of the free-running index.
	 */
	unsigned stride = 1;
	if (!indirect) {
		while (stride < max_bufs)
			stride <<= 1;
		if (stride > num)
			return -EINVAL;
	}
	memset(vq, 0, sizeof(*vq));
	vq->num = num;
	vq->stride = stride;
	vq->nslots = num / stride;
	vq->max_bufs = max_bufs;
	vq->indirect = indirect;
	vq->event_idx = event_idx;
	vq->desc = ring;
	vq->avail = (struct vring_avail *)((char *)ring + avail_off(num));
	vq->used = (struct vring_used *)((char *)ring + used_off(num));
	vq->itab = itab;
	vq->gpa_off = gpa_off;
	vq->cookie = cookies;
	memset(cookies, 0, num * sizeof(*cookies));
	memset(ring, 0, atx__vq_ring_bytes(num));
	return 0;
}

static inline uint64_t gpa(const struct virtqueue *vq, const void *p)
{
	return (uint64_t)((int64_t)(uintptr_t)p + vq->gpa_off);
}

uint64_t atx__vq_desc_gpa(const struct virtqueue *vq)
{
	return gpa(vq, vq->desc);
}

uint64_t atx__vq_avail_gpa(const struct virtqueue *vq)
{
	return gpa(vq, vq->avail);
}

uint64_t atx__vq_used_gpa(const struct virtqueue *vq)
{
	return gpa(vq, vq->used);
}

/*
 * Descriptors are built on the stack and stored only where they differ:
 * the device last read them from another core, and a store - even of the
 * same value - takes the cache line back (an RFO).  A slot that carries
 * the same shape of request as last time writes nothing here.
 */
static void fill_chain(const struct virtqueue *vq, struct vring_desc *d, uint16_t first,
		       const struct vq_buf *bufs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct vring_desc x = {
			.addr = gpa(vq, bufs[i].addr),
			.len = bufs[i].len,
			.flags = (uint16_t)((bufs[i].write ? VRING_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			.next = i + 1 < n ? (uint16_t)(first + i + 1) : 0,
		};

		if (memcmp(&d[i], &x, sizeof(x)))
			d[i] = x;
	}
}

int atx__vq_add(struct virtqueue *vq, const struct vq_buf *bufs, unsigned n, void *cookie)
{
	unsigned slot = vq->avail_idx & (vq->nslots - 1);
	uint16_t head = (uint16_t)(slot * vq->stride);

	if (vq->cookie[slot])
		return -EAGAIN; /* ring order: the next slot is still with the device */
#ifdef ATX_DEBUG
	if (!n || n > vq->max_bufs || !cookie)
		return -EINVAL;
	for (unsigned i = 1; i < n; i++)
		if (bufs[i - 1].write && !bufs[i].write)
			return -EINVAL; /* readable buffers must come first */
#endif
	if (vq->indirect && n > 1) {
		struct vring_desc *t = vq->itab + (size_t)slot * vq->max_bufs;

		/* next fields of an indirect table index the table itself */
		fill_chain(vq, t, 0, bufs, n);
		struct vring_desc hd = {
			.addr = gpa(vq, t), .len = n * sizeof(struct vring_desc),
			.flags = VRING_DESC_F_INDIRECT, .next = 0,
		};
		if (memcmp(&vq->desc[head], &hd, sizeof(hd)))
			vq->desc[head] = hd;
	} else {
		fill_chain(vq, vq->desc + head, head, bufs, n);
	}
	vq->cookie[slot] = cookie;
	vq->inflight++;
	vq->avail->ring[vq->avail_idx & (vq->num - 1)] = head;
	vq->avail_idx++;
	store_release16(&vq->avail->idx, vq->avail_idx);
	return (int)slot;
}

bool atx__vq_kick_prepare(struct virtqueue *vq)
{
	uint16_t new_idx = vq->avail_idx, old = vq->signalled;
	bool need;

	if (new_idx == old)
		return false;
	vq->signalled = new_idx;
	full_barrier(); /* avail->idx store before reading the device's wishes */
	if (vq->event_idx)
		need = vring_need_event(load_acquire16(vring_avail_event(vq->used, vq->num)),
					new_idx, old);
	else
		need = !(load_acquire16(&vq->used->flags) & VRING_USED_F_NO_NOTIFY);
	if (need)
		vq->kicks++;
	else
		vq->kicks_suppressed++;
	return need;
}

void *atx__vq_get(struct virtqueue *vq, uint32_t *len)
{
	for (;;) {
		if (vq->last_used == load_acquire16(&vq->used->idx))
			return NULL;
		struct vring_used_elem *e = &vq->used->ring[vq->last_used & (vq->num - 1)];
		uint32_t id = e->id;
		vq->last_used++;
		unsigned slot = id / vq->stride;
		/* a bogus id from the device must not crash us: skip it */
		if (id >= vq->num || id % vq->stride || !vq->cookie[slot])
			continue;
		void *c = vq->cookie[slot];
		vq->cookie[slot] = NULL;
		vq->inflight--;
		if (len)
			*len = e->len;
		return c;
	}
}

bool atx__vq_enable_cb(struct virtqueue *vq)
{
	if (vq->event_idx)
		store_release16(vring_used_event(vq->avail, vq->num), vq->last_used);
	full_barrier(); /* used_event store before re-reading used->idx */
	return load_acquire16(&vq->used->idx) != vq->last_used;
}

void *atx__vq_detach_unused(struct virtqueue *vq)
{
	for (unsigned s = 0; s < vq->nslots; s++) {
		void *c = vq->cookie[s];

		if (c) {
			vq->cookie[s] = NULL;
			vq->inflight--;
			return c;
		}
	}
	return NULL;
}
