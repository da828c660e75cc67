/* SPDX-License-Identifier: MIT */
/*
 * vring.c - guest memory, split-ring processing and the queue threads of
 * atx-vcryptod.
 *
 * Everything the frontend writes is hostile until checked: descriptor
 * addresses and lengths are translated with overflow-safe arithmetic,
 * each descriptor is copied out of shared memory once (so the frontend
 * cannot change it between check and use), chains longer than the queue
 * (or than their indirect table) are loops, and a bad request is completed
 * with a status where one can be written, else with used.len 0.  The queue
 * keeps going either way.
 *
 * Completions are written in processing order at used.ring[used_idx % num]
 * (the standard order; DPDK's used.ring[head] quirk is not copied), the
 * used index is published once per batch with a release store, and the
 * call eventfd is signalled once per batch.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vcryptod.h"

/* Spin this long on an empty ring before sleeping on the kick eventfd:
 * a sleep/wake pair costs 17-60 us on these VMs (shared/PERF.md). */
#define VC_SPIN_NS	30000
/* Most requests processed before the used index is published. */
#define VC_BATCH	32

void *vc_mem_xlate(const struct vc_mem *m, uint64_t addr, uint64_t len, bool by_uva)
{
	for (unsigned i = 0; i < m->nregions; i++) {
		const struct vc_region *r = &m->r[i];
		uint64_t start = by_uva ? r->uva : r->gpa, off;

		if (addr < start)
			continue;
		off = addr - start;
		/* off < size and len <= size - off: no addition can wrap */
		if (off >= r->size || len > r->size - off)
			continue;
		return r->host + off;
	}
	return NULL;
}

void vc_mem_unmap(struct vc_mem *m)
{
	for (unsigned i = 0; i < m->nregions; i++)
		munmap(m->r[i].map_base, m->r[i].map_len);
	m->nregions = 0;
}

bool vc_vq_ready(const struct vc_dev *dev, const struct vc_vq *vq)
{
	return vq->num && vq->addr_set && vq->kick_set && vq->enabled && dev->mem.nregions;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

struct vq_thread_arg {
	struct vc_dev *dev;
	struct vc_vq *vq;
};

/*
 * Gather the chain at @head into w->rseg / w->wseg.  Returns 0 when the
 * chain's structure is sound (even if some address did not translate:
 * then *addr_ok is false), or -EBADMSG when it is not (loop, index out of
 * range, bad indirect table): then no byte of it may be trusted, not even
 * where the status would go.
 */
static int chain_gather(struct vc_dev *dev, struct vc_vq *vq, struct vc_worker *w, uint16_t head,
			bool *addr_ok)
{
	const struct vring_desc *table = vq->desc;
	uint32_t tsize = vq->num, limit = vq->num, count = 0;
	uint16_t idx = head;
	bool indirect = false;

	w->nr = w->nw = 0;
	w->rlen = w->wlen = 0;
	*addr_ok = true;
	for (;;) {
		struct vring_desc d;
		uint8_t *p;

		if (idx >= tsize || ++count > limit || w->nr + w->nw >= VC_MAX_SEGS)
			return -EBADMSG;
		/* one read of the shared descriptor; all checks use the copy */
		memcpy(&d, (const void *)&table[idx], sizeof(d));
		__atomic_signal_fence(__ATOMIC_SEQ_CST);

		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* only from the main table, not chained, whole entries */
			if (indirect || (d.flags & VRING_DESC_F_NEXT) || d.len == 0 ||
			    d.len % sizeof(struct vring_desc) ||
			    d.len / sizeof(struct vring_desc) > VRING_MAX_SIZE)
				return -EBADMSG;
			table = vc_mem_xlate(&dev->mem, d.addr, d.len, false);
			if (!table)
				return -EBADMSG;
			tsize = limit = d.len / sizeof(struct vring_desc);
			count = 0;
			idx = 0;
			indirect = true;
			continue;
		}
		p = d.len ? vc_mem_xlate(&dev->mem, d.addr, d.len, false) : NULL;
		if (d.len && !p)
			*addr_ok = false;
		if (d.flags & VRING_DESC_F_WRITE) {
			w->wseg[w->nw].p = p;
			w->wseg[w->nw].len = d.len;
			w->nw++;
			w->wlen += d.len;
		} else {
			/* readable after writable breaks the spec's layout */
			if (w->nw)
				*addr_ok = false;
			w->rseg[w->nr].p = p;
			w->rseg[w->nr].len = d.len;
			w->nr++;
			w->rlen += d.len;
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		idx = d.next;
	}
}

static void vq_signal(struct vc_vq *vq)
{
	uint64_t one = 1;

	if (vq->call_fd >= 0 && write(vq->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		vc_dbg("queue %u: call eventfd write failed", vq->index);
}

/* Publish completions [old, new) and signal once if the driver wants it. */
static bool vq_publish(struct vc_dev *dev, struct vc_vq *vq, uint16_t old, uint16_t new_idx)
{
	bool need;

	/* seq_cst store then seq_cst loads: the idx store is ordered before
	 * reading the driver's suppression state (a store-load barrier; the
	 * same pairing as the driver's) */
	__atomic_store_n(&vq->used->idx, new_idx, __ATOMIC_SEQ_CST);
	if (dev->event_idx) {
		uint16_t ev = __atomic_load_n(vring_used_event(vq->avail, vq->num), __ATOMIC_SEQ_CST);
		need = vring_need_event(ev, new_idx, old);
	} else {
		need = !(__atomic_load_n(&vq->avail->flags, __ATOMIC_SEQ_CST) & VRING_AVAIL_F_NO_INTERRUPT);
	}
	if (need)
		vq_signal(vq);
	return need;
}

/* Ask (or stop asking) for kicks.  With EVENT_IDX "stop" is leaving
 * avail_event behind: the driver only kicks when it crosses it. */
static void vq_notify_enable(struct vc_dev *dev, struct vc_vq *vq, bool on)
{
	if (dev->event_idx) {
		if (on)
			__atomic_store_n(vring_avail_event(vq->used, vq->num), vq->last_avail,
					 __ATOMIC_SEQ_CST);
	} else {
		uint16_t f = __atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED);

		f = on ? (uint16_t)(f & ~VRING_USED_F_NO_NOTIFY) : (uint16_t)(f | VRING_USED_F_NO_NOTIFY);
		/* seq_cst: visible before the caller re-reads avail->idx (seq_cst) */
		__atomic_store_n(&vq->used->flags, f, __ATOMIC_SEQ_CST);
	}
}

static _Atomic uint64_t data_requests;

static void *vq_thread(void *argp)
{
	struct vq_thread_arg *arg = argp;
	struct vc_dev *dev = arg->dev;
	struct vc_vq *vq = arg->vq;
	bool ctrl = vq->index == dev->nvqs - 1;
	struct vc_worker w;
	uint16_t used_idx = vq->last_avail;
	uint64_t idle_since = 0;
	/* per-queue counters, logged when the queue stops */
	uint64_t nreq = 0, nbatch = 0, nsleep = 0, nsignal = 0, nrace = 0;
	bool bad_idx_logged = false;

	free(arg);
	if (vc_worker_init(&w, vq->index) < 0) {
		vc_log("queue %u: out of memory for worker buffers; queue not served", vq->index);
		return NULL;
	}
	vc_dbg("queue %u: running (num %u, %s)", vq->index, vq->num, ctrl ? "control" : "data");
	vq_notify_enable(dev, vq, false);
	/* the flag, not only stop_fd, ends a queue the driver keeps busy */
	while (!__atomic_load_n(&vq->stop, __ATOMIC_ACQUIRE)) {
		uint16_t avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
		uint16_t start = used_idx;
		unsigned n = 0;

		/* More new entries than the ring holds: the driver's index is
		 * garbage.  Serve nothing (the ring looks empty) until it is
		 * sane again, rather than replaying stale heads. */
		if ((uint16_t)(avail_idx - vq->last_avail) > vq->num) {
			if (!bad_idx_logged)
				vc_log("queue %u: avail idx %u is %u ahead of %u with %u entries; ignored",
				       vq->index, avail_idx, (uint16_t)(avail_idx - vq->last_avail),
				       vq->last_avail, vq->num);
			bad_idx_logged = true;
			avail_idx = vq->last_avail;
		}

		while (vq->last_avail != avail_idx && n < VC_BATCH) {
			uint16_t head = __atomic_load_n(&vq->avail->ring[vq->last_avail % vq->num],
							__ATOMIC_RELAXED);
			struct vring_used_elem *ue;
			bool addr_ok = false;
			uint32_t len;
			int rc;

			rc = chain_gather(dev, vq, &w, head, &addr_ok);
			if (rc < 0) {
				vc_dbg("queue %u: head %u: malformed chain, completed with len 0",
				       vq->index, head);
				len = 0;
			} else if (ctrl)
				len = vc_handle_ctrl(dev, &w, addr_ok);
			else
				len = vc_handle_data(dev, &w, addr_ok);
			ue = &vq->used->ring[used_idx % vq->num];
			ue->id = head;
			ue->len = len;
			used_idx++;
			vq->last_avail++;
			n++;
			if (!ctrl) {
				uint64_t done = ++data_requests;

				if (vc_opts.exit_after && done >= vc_opts.exit_after) {
					vq_publish(dev, vq, start, used_idx);
					vc_log("exit-after: %llu data requests served, exiting without cleanup",
					       (unsigned long long)done);
					_exit(3);
				}
			}
		}
		if (n) {
			nreq += n;
			nbatch++;
			nsignal += vq_publish(dev, vq, start, used_idx);
			idle_since = 0;
			continue;
		}

		/* ring empty: spin briefly, then sleep on the kick eventfd */
		if (!ctrl) {
			uint64_t t = now_ns();

			if (!idle_since)
				idle_since = t;
			/* a stop request waits at most one spin period */
			if (t - idle_since < VC_SPIN_NS) {
				cpu_relax();
				continue;
			}
		}
		vq_notify_enable(dev, vq, true);
		uint16_t now_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_SEQ_CST);

		if (now_idx != vq->last_avail && (uint16_t)(now_idx - vq->last_avail) <= vq->num) {
			/* raced with the driver: it saw notifications off */
			nrace++;
			vq_notify_enable(dev, vq, false);
			continue;
		}
		{
			struct pollfd pfd[2] = {
				{ .fd = vq->stop_fd, .events = POLLIN },
				{ .fd = vq->kick_fd, .events = POLLIN },
			};
			/* no kick fd (NOFD): the driver never kicks, so poll */
			int nfds = vq->kick_fd >= 0 ? 2 : 1;
			int timeout = vq->kick_fd >= 0 ? -1 : 1;
			int r = poll(pfd, nfds, timeout);

			nsleep++;

			if (r < 0 && errno != EINTR)
				break;
			if (pfd[0].revents)
				break;
			if (nfds == 2 && (pfd[1].revents & POLLIN)) {
				uint64_t v;

				if (read(vq->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					vc_dbg("queue %u: kick read failed", vq->index);
			} else if (nfds == 2 && (pfd[1].revents & (POLLERR | POLLHUP | POLLNVAL))) {
				vc_log("queue %u: kick fd broken; stopping the queue", vq->index);
				break;
			}
		}
		vq_notify_enable(dev, vq, false);
		idle_since = 0;
	}
	vc_worker_fini(&w);
	if (nreq)
		vc_log("queue %u: stopped at avail %u: %llu requests in %llu batches, %llu signals, "
		       "%llu sleeps, %llu arm races", vq->index, vq->last_avail,
		       (unsigned long long)nreq, (unsigned long long)nbatch, (unsigned long long)nsignal,
		       (unsigned long long)nsleep, (unsigned long long)nrace);
	return NULL;
}

int vc_vq_start(struct vc_dev *dev, struct vc_vq *vq)
{
	struct vq_thread_arg *arg;
	sigset_t block, old;
	int rc;

	if (vq->running || !vc_vq_ready(dev, vq))
		return 0;
	/* ring addresses are frontend-virtual (vhost-user SET_VRING_ADDR) */
	vq->desc = vc_mem_xlate(&dev->mem, vq->desc_uva, vring_desc_size(vq->num), true);
	vq->avail = vc_mem_xlate(&dev->mem, vq->avail_uva, vring_avail_size(vq->num), true);
	vq->used = vc_mem_xlate(&dev->mem, vq->used_uva, vring_used_size(vq->num), true);
	if (!vq->desc || !vq->avail || !vq->used ||
	    ((uintptr_t)vq->desc & 15) || ((uintptr_t)vq->avail & 1) || ((uintptr_t)vq->used & 3)) {
		vc_log("queue %u: ring addresses outside the memory table or misaligned; not started",
		       vq->index);
		return -EFAULT;
	}
	vq->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->stop_fd < 0)
		return -errno;
	arg = malloc(sizeof(*arg));
	if (!arg) {
		rc = -ENOMEM;
		goto err_close_stop;
	}
	arg->dev = dev;
	arg->vq = vq;
	vq->stop = false;
	/* queue threads inherit a mask without SIGTERM/SIGINT, so the signals
	 * reach the main thread and interrupt its blocking socket calls */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = -pthread_create(&vq->thread, NULL, vq_thread, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		free(arg);
		goto err_close_stop;
	}
	vq->running = true;
	return 0;

err_close_stop:
	close(vq->stop_fd);
	vq->stop_fd = -1;
	return rc;
}

void vc_vq_stop(struct vc_vq *vq)
{
	uint64_t one = 1;

	if (!vq->running)
		return;
	__atomic_store_n(&vq->stop, true, __ATOMIC_RELEASE);
	if (write(vq->stop_fd, &one, sizeof(one)) < 0)
		vc_log("queue %u: cannot signal stop", vq->index);
	pthread_join(vq->thread, NULL);
	close(vq->stop_fd);
	vq->stop_fd = -1;
	vq->running = false;
}
