/* SPDX-License-Identifier: MIT */
/*
 * test_virtqueue - the split virtqueue driver against a fake device in
 * the same process that consumes avail entries and produces used ones the
 * way the virtio 1.2 spec (2.7) says a device does.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtio_crypto/virtqueue.h"

struct fixture {
	struct virtqueue vq;
	void *ring;
	void *itab;
	void *cookies[1024];
	uint16_t dev_last_avail;        /* fake device's view */
	uint16_t dev_used_idx;
};

static struct fixture *fx_new(unsigned num, unsigned max_bufs, bool indirect, bool event_idx)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(posix_memalign(&f->ring, 64, atx__vq_ring_bytes(num)), 0);
	if (indirect)
		assert_int_equal(posix_memalign(&f->itab, 64,
						atx__vq_itab_bytes(num, max_bufs, true)), 0);
	/* gpa_off 0x1000: device addresses differ from ours, as with a real offset base */
	assert_int_equal(atx__vq_init(&f->vq, num, max_bufs, indirect, event_idx, f->ring, f->itab,
				 f->cookies, 0x1000), 0);
	return f;
}

static void fx_free(struct fixture *f)
{
	free(f->ring);
	free(f->itab);
	free(f);
}

static void *dev_ptr(uint64_t a)
{
	return (void *)(uintptr_t)(a - 0x1000);
}

/*
 * Fake device: take the next avail entry; walk its chain (direct or
 * indirect) checking readable-before-writable; fill writable buffers
 * with @fill; return the head and the chain's buffers.
 */
static int dev_pop(struct fixture *f, unsigned *nbufs, struct vq_buf *out)
{
	struct virtqueue *vq = &f->vq;
	uint16_t aidx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);

	if (aidx == f->dev_last_avail)
		return -1;
	uint16_t head = vq->avail->ring[f->dev_last_avail & (vq->num - 1)];
	f->dev_last_avail++;
	if (vq->event_idx)
		*vring_avail_event(vq->used, vq->num) = f->dev_last_avail;

	struct vring_desc *tab = vq->desc;
	uint16_t i = head;
	unsigned n = 0;
	bool seen_write = false;

	if (tab[head].flags & VRING_DESC_F_INDIRECT) {
		assert_int_equal(tab[head].len % sizeof(struct vring_desc), 0);
		tab = dev_ptr(tab[head].addr);
		i = 0;
	}
	for (;;) {
		struct vring_desc *d = &tab[i];

		assert_false(d->flags & VRING_DESC_F_INDIRECT);
		if (d->flags & VRING_DESC_F_WRITE)
			seen_write = true;
		else
			assert_false(seen_write);
		out[n].addr = dev_ptr(d->addr);
		out[n].len = d->len;
		out[n].write = d->flags & VRING_DESC_F_WRITE;
		n++;
		if (!(d->flags & VRING_DESC_F_NEXT))
			break;
		i = d->next;
	}
	*nbufs = n;
	return head;
}

/* Fake device: complete @head at used.ring[used_idx] and say whether it would interrupt. */
static bool dev_push(struct fixture *f, unsigned head, uint32_t len, bool at_head_slot)
{
	struct virtqueue *vq = &f->vq;
	unsigned pos = at_head_slot ? head : (f->dev_used_idx & (vq->num - 1));
	uint16_t old = f->dev_used_idx;

	vq->used->ring[pos].id = head;
	vq->used->ring[pos].len = len;
	f->dev_used_idx++;
	/* seq_cst store: the device-side full barrier before reading used_event */
	__atomic_store_n(&vq->used->idx, f->dev_used_idx, __ATOMIC_SEQ_CST);
	if (vq->event_idx)
		return vring_need_event(*vring_used_event(vq->avail, vq->num), f->dev_used_idx, old);
	return !(vq->avail->flags & VRING_AVAIL_F_NO_INTERRUPT);
}

static void test_ring_arithmetic(void **state)
{
	struct fixture *f = fx_new(8, 4, true, false);
	uint8_t buf[4][16];
	int tags[64];

	/* wrap the 16-bit index many times over a small ring */
	for (unsigned round = 0; round < 70000 / 8; round++) {
		for (unsigned k = 0; k < 8; k++) {
			struct vq_buf b = { buf[0], 16, false };

			tags[k] = (int)k;
			int slot = atx__vq_add(&f->vq, &b, 1, &tags[k]);
			assert_int_equal(slot, (f->vq.avail_idx - 1) & 7);
		}
		assert_int_equal(atx__vq_room(&f->vq), 0);
		unsigned n;
		struct vq_buf got[4];
		for (unsigned k = 0; k < 8; k++) {
			int head = dev_pop(f, &n, got);
			assert_true(head >= 0);
			assert_int_equal(n, 1);
			assert_ptr_equal(got[0].addr, buf[0]);
			dev_push(f, (unsigned)head, 0, true);
		}
		for (unsigned k = 0; k < 8; k++) {
			uint32_t len;
			assert_ptr_equal(atx__vq_get(&f->vq, &len), &tags[k]);
		}
		assert_null(atx__vq_get(&f->vq, NULL));
	}
	assert_int_equal(f->vq.inflight, 0);
	fx_free(f);
}

/* Heads are handed out in ring order: avail slot == head == used slot. */
static void test_ring_order_heads(void **state)
{
	struct fixture *f = fx_new(16, 4, true, false);
	uint8_t b0[8], b1[8], b2[8];
	int tag[40];

	for (unsigned k = 0; k < 40; k++) {
		struct vq_buf b[3] = { { b0, 8, false }, { b1, 8, false }, { b2, 8, true } };
		uint16_t before = f->vq.avail_idx;
		int slot = atx__vq_add(&f->vq, b, 3, &tag[k]);

		assert_int_equal(slot, before & 15);
		assert_int_equal(f->vq.avail->ring[before & 15], slot);

		unsigned n;
		struct vq_buf got[4];
		int head = dev_pop(f, &n, got);
		assert_int_equal(head, slot);
		assert_int_equal(n, 3);
		assert_ptr_equal(got[2].addr, b2);
		assert_true(got[2].write);
		/* DPDK-style: completion written at used.ring[head] */
		dev_push(f, (unsigned)head, 8, true);
		uint32_t len = 0;
		assert_ptr_equal(atx__vq_get(&f->vq, &len), &tag[k]);
		assert_int_equal(len, 8);
	}
	fx_free(f);
}

/* A full ring, or a busy next slot (out-of-order completion), gives -EAGAIN. */
static void test_full_ring_eagain(void **state)
{
	struct fixture *f = fx_new(4, 2, true, false);
	uint8_t x[4];
	int tag[8];
	struct vq_buf b = { x, 4, false };
	unsigned n;
	struct vq_buf got[2];

	for (int k = 0; k < 4; k++)
		assert_true(atx__vq_add(&f->vq, &b, 1, &tag[k]) >= 0);
	assert_int_equal(atx__vq_add(&f->vq, &b, 1, &tag[4]), -EAGAIN);

	/* the device completes slot 1 first: slot 0 (next in ring order) is still busy */
	int h0 = dev_pop(f, &n, got), h1 = dev_pop(f, &n, got);
	assert_int_equal(h0, 0);
	assert_int_equal(h1, 1);
	dev_push(f, 1, 0, false);
	assert_ptr_equal(atx__vq_get(&f->vq, NULL), &tag[1]);
	assert_int_equal(atx__vq_room(&f->vq), 1);
	assert_int_equal(atx__vq_add(&f->vq, &b, 1, &tag[4]), -EAGAIN);
	dev_push(f, 0, 0, false);
	assert_ptr_equal(atx__vq_get(&f->vq, NULL), &tag[0]);
	assert_int_equal(atx__vq_add(&f->vq, &b, 1, &tag[4]), 0);
	assert_int_equal(atx__vq_add(&f->vq, &b, 1, &tag[5]), 1);
	assert_int_equal(atx__vq_add(&f->vq, &b, 1, &tag[6]), -EAGAIN);
	fx_free(f);
}

/* EVENT_IDX: the driver kicks only when the device asked for it. */
static void test_event_idx_suppression(void **state)
{
	struct fixture *f = fx_new(64, 2, true, true);
	uint8_t x[4];
	int tag[64];
	struct vq_buf b = { x, 4, false };
	unsigned n;
	struct vq_buf got[2];

	/* device asked for a kick at index 0: the first batch kicks */
	for (int k = 0; k < 4; k++)
		atx__vq_add(&f->vq, &b, 1, &tag[k]);
	assert_true(atx__vq_kick_prepare(&f->vq));
	/* nothing new: no kick */
	assert_false(atx__vq_kick_prepare(&f->vq));

	/* device is busy and has not consumed anything: avail_event stays 0 -> no kick */
	atx__vq_add(&f->vq, &b, 1, &tag[4]);
	assert_false(atx__vq_kick_prepare(&f->vq));

	/* device consumes everything (avail_event = 5) and goes to sleep: next add kicks */
	for (int k = 0; k < 5; k++)
		assert_true(dev_pop(f, &n, got) >= 0);
	atx__vq_add(&f->vq, &b, 1, &tag[5]);
	atx__vq_add(&f->vq, &b, 1, &tag[6]);
	assert_true(atx__vq_kick_prepare(&f->vq));
	assert_int_equal(f->vq.kicks, 2);
	assert_int_equal(f->vq.kicks_suppressed, 1);

	/* interrupt side: used_event = 0 -> the first completion interrupts */
	assert_true(dev_push(f, 0, 0, false));
	/* driver has not reaped: further completions do not interrupt */
	assert_false(dev_push(f, 1, 0, false));
	assert_non_null(atx__vq_get(&f->vq, NULL));
	assert_non_null(atx__vq_get(&f->vq, NULL));
	assert_false(atx__vq_enable_cb(&f->vq));      /* nothing more arrived */
	assert_true(dev_push(f, 2, 0, false));   /* used_event = 2 -> interrupts */
	/* a completion racing with enable_cb is seen by the re-check */
	assert_false(dev_push(f, 3, 0, false));
	assert_non_null(atx__vq_get(&f->vq, NULL));
	assert_true(atx__vq_enable_cb(&f->vq));       /* entry 3 is already there */
	fx_free(f);
}

/* Without EVENT_IDX: VRING_USED_F_NO_NOTIFY suppresses kicks. */
static void test_no_notify_flag(void **state)
{
	struct fixture *f = fx_new(8, 1, false, false);
	uint8_t x[4];
	int tag;
	struct vq_buf b = { x, 4, false };

	atx__vq_add(&f->vq, &b, 1, &tag);
	assert_true(atx__vq_kick_prepare(&f->vq));
	f->vq.used->flags = VRING_USED_F_NO_NOTIFY;
	atx__vq_add(&f->vq, &b, 1, &tag);
	assert_false(atx__vq_kick_prepare(&f->vq));
	fx_free(f);
}

/* Indirect tables: one head descriptor, the table in the slot's area. */
static void test_indirect_tables(void **state)
{
	struct fixture *f = fx_new(8, 5, true, false);
	uint8_t bufs[5][32];
	int tag[16];
	struct vq_buf b[5];

	for (int i = 0; i < 5; i++) {
		b[i].addr = bufs[i];
		b[i].len = 10 + i;
		b[i].write = i >= 3;
	}
	for (int k = 0; k < 16; k++) {
		int slot = atx__vq_add(&f->vq, b, 5, &tag[k]);
		assert_true(slot >= 0);
		struct vring_desc *h = &f->vq.desc[slot];
		assert_int_equal(h->flags, VRING_DESC_F_INDIRECT);
		assert_int_equal(h->len, 5 * sizeof(struct vring_desc));
		struct vring_desc *t = dev_ptr(h->addr);
		assert_ptr_equal(t, f->vq.itab + (size_t)slot * 5);
		for (int i = 0; i < 5; i++) {
			assert_ptr_equal(dev_ptr(t[i].addr), bufs[i]);
			assert_int_equal(t[i].len, 10 + i);
			assert_int_equal(!!(t[i].flags & VRING_DESC_F_WRITE), i >= 3);
			assert_int_equal(!!(t[i].flags & VRING_DESC_F_NEXT), i < 4);
			if (i < 4)
				assert_int_equal(t[i].next, i + 1);
		}
		unsigned n;
		struct vq_buf got[5];
		int head = dev_pop(f, &n, got);
		assert_int_equal(head, slot);
		assert_int_equal(n, 5);
		dev_push(f, (unsigned)head, 21, true);
		uint32_t len;
		assert_ptr_equal(atx__vq_get(&f->vq, &len), &tag[k]);
		assert_int_equal(len, 21);
	}
	fx_free(f);
}

/* Without INDIRECT_DESC: direct chains in a fixed stride per slot. */
static void test_direct_stride(void **state)
{
	struct fixture *f = fx_new(16, 3, false, false);
	uint8_t bufs[3][8];
	int tag[8];
	struct vq_buf b[3] = { { bufs[0], 8, false }, { bufs[1], 8, false }, { bufs[2], 8, true } };

	assert_int_equal(f->vq.stride, 4);
	assert_int_equal(f->vq.nslots, 4);
	for (int k = 0; k < 4; k++)
		assert_int_equal(atx__vq_add(&f->vq, b, 3, &tag[k]), k);
	assert_int_equal(atx__vq_add(&f->vq, b, 3, &tag[4]), -EAGAIN);
	for (int k = 0; k < 4; k++) {
		unsigned n;
		struct vq_buf got[3];
		int head = dev_pop(f, &n, got);
		assert_int_equal(head, k * 4);
		assert_int_equal(n, 3);
		assert_ptr_equal(got[2].addr, bufs[2]);
		dev_push(f, (unsigned)head, 8, false);
	}
	for (int k = 0; k < 4; k++)
		assert_ptr_equal(atx__vq_get(&f->vq, NULL), &tag[k]);
	fx_free(f);
}

/* Bogus used ids are skipped; detach takes back what the device kept. */
static void test_bogus_used_and_detach(void **state)
{
	struct fixture *f = fx_new(8, 1, true, false);
	uint8_t x[4];
	int tag[3];
	struct vq_buf b = { x, 4, false };

	for (int k = 0; k < 3; k++)
		atx__vq_add(&f->vq, &b, 1, &tag[k]);
	dev_push(f, 77, 0, false);      /* out of range */
	dev_push(f, 5, 0, false);       /* not in flight */
	dev_push(f, 1, 0, false);
	assert_ptr_equal(atx__vq_get(&f->vq, NULL), &tag[1]);
	assert_null(atx__vq_get(&f->vq, NULL));
	int seen = 0;
	void *c;
	while ((c = atx__vq_detach_unused(&f->vq)))
		seen += c == &tag[0] || c == &tag[2];
	assert_int_equal(seen, 2);
	assert_int_equal(f->vq.inflight, 0);
	fx_free(f);
}

static void test_init_rejects(void **state)
{
	struct virtqueue vq;
	void *cookies[8];
	char ring[4096] __attribute__((aligned(64)));

	assert_int_equal(atx__vq_init(&vq, 6, 1, false, false, ring, NULL, cookies, 0), -EINVAL);
	assert_int_equal(atx__vq_init(&vq, 8, 1, true, false, ring, NULL, cookies, 0), -EINVAL);
	assert_int_equal(atx__vq_init(&vq, 4, 5, false, false, ring, NULL, cookies, 0), -EINVAL);
	assert_int_equal(atx__vq_init(&vq, 8, 1, false, false, ring, NULL, cookies, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_arithmetic),
		cmocka_unit_test(test_ring_order_heads),
		cmocka_unit_test(test_full_ring_eagain),
		cmocka_unit_test(test_event_idx_suppression),
		cmocka_unit_test(test_no_notify_flag),
		cmocka_unit_test(test_indirect_tables),
		cmocka_unit_test(test_direct_stride),
		cmocka_unit_test(test_bogus_used_and_detach),
		cmocka_unit_test(test_init_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
