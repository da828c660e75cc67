/* SPDX-License-Identifier: MIT */
/*
 * engine.c - atx_virtio_engine_ops: a virtio-crypto device as an atx
 * engine.  One channel per data queue ("virtio0.q0", ...); the core
 * watches each queue's call eventfd in its io_uring and calls our poll,
 * which reaps used entries and completes descriptors.
 *
 * Engine spec: "virtio:SOCKET_PATH[?OPT=N&OPT=N...]" for a vhost-user
 * backend, "virtio:pci:BDF[?...]" (or, once registered in src/engines.c,
 * "virtio-pci:BDF") for a virtio-crypto PCI function (pci.c; BDF "auto" =
 * the first one).  The core splits the engine list on ',', so options use
 * '?' and '&':
 *   qsize=N    entries per data queue (power of two, default 256; PCI 64,
 *              as its hugepage arena is small)
 *   queues=N   use at most N of the device's data queues (default all, <= 16)
 *   arena=MiB  shared arena size (default: a 256 KiB bounce area per slot)
 *   ubuf=MiB   arena reserve for atx__virtio_buf_alloc (zero-copy buffers)
 *   ctrlq=1    sessions on the control queue even if the backend offers
 *              session messages
 *   timeout=S  a queue holding work without progress for S seconds fails it
 *              all with -ETIMEDOUT and retires the device (default 30, 0 off)
 *
 * The device going away (backend killed, socket closed) is noticed by
 * watching the vhost-user socket too: every in-flight request then
 * completes with -EIO (the core's failover may re-run it in software),
 * every channel is marked dead (queued work completes with -ENODEV) and
 * probes answer -ENODEV so new sessions go elsewhere.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "atx_engine.h"
#include "virtio_crypto/pci.h"
#include "virtio_crypto/vhost_user_proto.h"
#include "virtio_crypto/virtio_crypto.h"

#define VC_CONNECT_TIMEOUT_MS 3000
#define VC_DEFAULT_TIMEOUT_S 30

struct vc_engine {
	struct atx_engine *e;
	struct vc_dev dev;
	uint32_t *ubuf_pages;   /* per 4 KiB page of dev.ubuf: pages of the run starting here, 0 free */
	size_t ubuf_npages;
	int timer_fd;           /* 1 s watchdog tick, watched on queue 0; -1 none */
	unsigned timeout_s;     /* no progress for this long with work in flight = dead */
	time_t wd_last;         /* CLOCK_MONOTONIC_COARSE second of the last check */
};

static struct vc_engine *eng_of(struct atx_chan *chan)
{
	return atx_engine_priv(atx_chan_engine(chan));
}

static int parse_args(const char *args, char **path, struct vc_dev_opts *o, bool *ctrlq,
		      unsigned *timeout_s)
{
	char *s, *q, *tok, *save;

	memset(o, 0, sizeof(*o));
	if (!args || !*args)
		return -EINVAL;
	s = strdup(args);
	if (!s)
		return -ENOMEM;
	q = strchr(s, '?');
	if (q)
		*q++ = '\0';
	for (tok = q ? strtok_r(q, "&", &save) : NULL; tok; tok = strtok_r(NULL, "&", &save)) {
		unsigned long v;
		char *end;
		char *eq = strchr(tok, '=');

		if (!eq)
			goto err_free;
		*eq++ = '\0';
		v = strtoul(eq, &end, 0);
		if (end == eq || *end)
			goto err_free;
		if (!strcmp(tok, "qsize"))
			o->qsize = (unsigned)v;
		else if (!strcmp(tok, "queues"))
			o->max_queues = (unsigned)v;
		else if (!strcmp(tok, "arena"))
			o->arena_size = (size_t)v << 20;
		else if (!strcmp(tok, "ubuf"))
			o->ubuf_size = (size_t)v << 20;
		else if (!strcmp(tok, "ctrlq"))
			*ctrlq = v != 0;
		else if (!strcmp(tok, "timeout"))
			*timeout_s = (unsigned)v;
		else
			goto err_free;
	}
	*path = s;
	return 0;

err_free:
	free(s);
	return -EINVAL;
}

static uint32_t dev_caps(const struct vc_dev *d)
{
	const struct virtio_crypto_config *c = &d->cfg;
	uint32_t caps = 0;

	if ((c->crypto_services & (1u << VIRTIO_CRYPTO_SERVICE_CIPHER)) &&
	    (c->cipher_algo_l | c->cipher_algo_h))
		caps |= ATX_CAP_CIPHER;
	if ((c->crypto_services & (1u << VIRTIO_CRYPTO_SERVICE_HASH)) && c->hash_algo)
		caps |= ATX_CAP_HASH;
	if ((c->crypto_services & (1u << VIRTIO_CRYPTO_SERVICE_MAC)) &&
	    (c->mac_algo_l | c->mac_algo_h))
		caps |= ATX_CAP_MAC;
	if ((c->crypto_services & (1u << VIRTIO_CRYPTO_SERVICE_AEAD)) && c->aead_algo)
		caps |= ATX_CAP_AEAD;
	if ((caps & ATX_CAP_CIPHER) && (caps & ATX_CAP_MAC))
		caps |= ATX_CAP_CHAIN;
	return caps;
}

static int attach_common(struct atx_engine *e, const char *args, bool pci)
{
	struct vc_engine *ve;
	struct vc_transport *t;
	struct vc_dev_opts o;
	char *path = NULL;
	bool ctrlq = false;
	unsigned timeout_s = VC_DEFAULT_TIMEOUT_S;
	int err;

	err = parse_args(args, &path, &o, &ctrlq, &timeout_s);
	if (err)
		return err;
	/*
	 * atx_buf_alloc memory: a reserve of the shared arena (vhost-user's
	 * memfd is cheap to grow; virtio-pci's pinned hugepages are not).
	 */
	if (!o.ubuf_size && strncmp(path, "pci:", 4) && !pci)
		o.ubuf_size = atx_engine_arena_size(e) ? atx_engine_arena_size(e) : (4u << 20);
	ve = calloc(1, sizeof(*ve));
	if (!ve) {
		err = -ENOMEM;
		goto err_free_path;
	}
	ve->e = e;
	ve->timer_fd = -1;
	ve->timeout_s = timeout_s;
	{
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		ve->wd_last = ts.tv_sec;
	}
	if (!pci && !strncmp(path, "pci:", 4)) {
		pci = true;
		memmove(path, path + 4, strlen(path + 4) + 1);
	}
	if (pci) {
		err = atx__virtio_pci_open(path, &t);
		o.arena_init = atx__virtio_pci_arena_init;
		if (!o.qsize)
			o.qsize = 64;
	} else {
		/* ctrlq=1: sessions on the control queue even if the backend takes messages */
		err = atx__vhost_user_open(path, VC_CONNECT_TIMEOUT_MS,
					   ctrlq ? ~(1ull << VHOST_USER_PROTOCOL_F_CRYPTO_SESSION) :
						   ~0ull, &t);
	}
	if (err)
		goto err_free_ve;
	err = atx__vc_dev_init(&ve->dev, t, &o);  /* owns t from here, even on failure */
	if (err)
		goto err_free_ve;
	atx_engine_set_priv(e, ve);
	if (timeout_s) {
		/*
		 * A backend that stops answering (DPDK retries a failed request
		 * forever) must not hang the caller: a 1 s tick checks progress.
		 */
		struct itimerspec its = { { 1, 0 }, { 1, 0 } };

		ve->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (ve->timer_fd < 0 || timerfd_settime(ve->timer_fd, 0, &its, NULL) < 0) {
			err = -errno;
			goto err_fini_dev;
		}
	}

	uint32_t caps = dev_caps(&ve->dev);
	for (unsigned i = 0; i < ve->dev.nqueues; i++) {
		struct vc_queue *q = &ve->dev.q[i];
		char name[48];

		snprintf(name, sizeof(name), "%s.q%u", atx_engine_instance_name(e), i);
		q->chan = atx_engine_add_chan(e, name, caps, 0, q);
		if (!q->chan) {
			err = -ENOMEM;
			goto err_fini_dev;
		}
	}
	/* watches last: the core cannot take a watch back if attach fails */
	for (unsigned i = 0; i < ve->dev.nqueues; i++) {
		err = atx_engine_watch_fd(ve->dev.q[i].chan, ve->dev.q[i].call_fd);
		if (err)
			goto err_fini_dev;
	}
	if (ve->timer_fd >= 0) {
		err = atx_engine_watch_fd(ve->dev.q[0].chan, ve->timer_fd);
		if (err)
			goto err_fini_dev;
	}
	if (ve->dev.t->ops->hangup_fd) {
		int fd = ve->dev.t->ops->hangup_fd(ve->dev.t);

		if (fd >= 0) {
			err = atx_engine_watch_fd(ve->dev.q[0].chan, fd);
			if (err)
				goto err_fini_dev;
		}
	}
	free(path);
	return 0;

err_fini_dev:
	if (ve->timer_fd >= 0)
		close(ve->timer_fd);
	atx__vc_dev_fini(&ve->dev);
	atx_engine_set_priv(e, NULL);
err_free_ve:
	free(ve);
err_free_path:
	free(path);
	return err;
}

static int vc_attach(struct atx_engine *e, const char *args)
{
	return attach_common(e, args, false);
}

static int vc_pci_attach(struct atx_engine *e, const char *args)
{
	return attach_common(e, args && *args ? args : "auto", true);
}

static void vc_detach(struct atx_engine *e)
{
	struct vc_engine *ve = atx_engine_priv(e);

	if (!ve)
		return;
	if (ve->timer_fd >= 0)
		close(ve->timer_fd);
	atx__vc_dev_fini(&ve->dev);
	free(ve->ubuf_pages);
	free(ve);
	atx_engine_set_priv(e, NULL);
}

static int vc_probe_session(struct atx_engine *e, const struct atx_session_params *p)
{
	struct vc_engine *ve = atx_engine_priv(e);
	int err;

	/*
	 * virtio-crypto's cipher request has one IV per request and no data
	 * unit size: a multi-unit XTS request cannot be expressed.
	 */
	if (p->data_unit_len)
		return -EOPNOTSUPP;
	err = atx__vc_probe(&ve->dev, p);
	return err ? err : ATX_PRIO_HARDWARE;
}

static int vc_new_session(struct atx_engine *e, const struct atx_session_params *p, void **priv)
{
	struct vc_engine *ve = atx_engine_priv(e);
	struct vc_sess *s = malloc(sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	err = atx__vc_session_create(&ve->dev, p, s);
	if (err) {
		free(s);
		return err;
	}
	*priv = s;
	return 0;
}

static void vc_free_session(struct atx_engine *e, void *priv)
{
	struct vc_engine *ve = atx_engine_priv(e);

	atx__vc_session_destroy(&ve->dev, priv);
	free(priv);
}

static void kick(struct vc_dev *d, struct vc_queue *q)
{
	if (atx__vq_kick_prepare(&q->vq))
		d->t->ops->kick(d->t, q->index);
}

static int vc_submit(struct atx_chan *chan, struct atx_tx *tx, unsigned hints)
{
	struct vc_dev *d = &eng_of(chan)->dev;
	struct vc_queue *q = atx_chan_priv(chan);
	struct vq_buf bufs[VC_MAX_BUFS];
	unsigned bounced = 0;
	int slot, n, ret = 0;

	if (__builtin_expect(d->dead, 0))
		return -ENODEV;
	slot = atx__vq_next_slot(&q->vq);
	if (slot < 0) {
		/* full: the batch so far must still reach the device */
		q->blocked = true;
		kick(d, q);
		return -EAGAIN;
	}
	n = atx__vc_build(d, q, (unsigned)slot, atx_tx_op(tx), bufs, &bounced);
	if (n < 0) {
		ret = n;    /* the core completes tx with it */
	} else {
		q->slots[slot].tx = tx;
		atx__vq_add(&q->vq, bufs, (unsigned)n, &q->slots[slot]);
		atx_chan_count_bounce(chan, bounced);
	}
	if (!(hints & ATX_HINT_MORE))
		kick(d, q);
	return ret;
}

/*
 * The device is gone (or stuck): fail what it held with @status, retire
 * the channels.  A stuck backend is also disconnected, so that it resets
 * instead of finishing requests we already completed.
 */
static void device_gone(struct vc_engine *ve, int status)
{
	struct vc_dev *d = &ve->dev;
	struct vc_slot *sl;
	unsigned i;

	d->dead = true;
	for (i = 0; i < d->nqueues; i++)
		while ((sl = atx__vq_detach_unused(&d->q[i].vq)))
			atx_engine_complete(sl->tx, status);
	if (status == -ETIMEDOUT && d->t) {
		d->t->ops->close(d->t);
		d->t = NULL;
	}
	for (i = 0; i < d->nqueues; i++) {
		struct vc_queue *q = &d->q[i];

		atx_chan_set_dead(q->chan);
		/* held work flows back through issue, which fails it with -ENODEV */
		q->blocked = false;
		atx_engine_unblock(q->chan);
	}
}

/* A watchdog tick (@ticks seconds): has any queue held work without progress too long? */
static bool watchdog_expired(struct vc_engine *ve, unsigned ticks)
{
	struct vc_dev *d = &ve->dev;
	bool expired = false;

	for (unsigned i = 0; i < d->nqueues; i++) {
		struct vc_queue *q = &d->q[i];

		/* completions the device posted but we did not reap yet are progress */
		if (!q->vq.inflight || q->completed != q->wd_seen ||
		    q->vq.last_used != __atomic_load_n(&q->vq.used->idx, __ATOMIC_ACQUIRE)) {
			q->wd_seen = q->completed;
			q->wd_stall = 0;
			q->wd_armed = false;
			continue;
		}
		/* count from the first tick that saw the stall: timeout_s..timeout_s+1 s */
		if (!q->wd_armed) {
			q->wd_armed = true;
			continue;
		}
		q->wd_stall += ticks;
		if (q->wd_stall >= ve->timeout_s)
			expired = true;
	}
	return expired;
}

static bool watchdog_due(struct vc_engine *ve)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if (ts.tv_sec <= ve->wd_last)
		return false;
	unsigned ticks = (unsigned)(ts.tv_sec - ve->wd_last);
	ve->wd_last = ts.tv_sec;
	return watchdog_expired(ve, ticks);
}

static int vc_poll(struct atx_chan *chan, unsigned budget)
{
	struct vc_engine *ve = eng_of(chan);
	struct vc_dev *d = &ve->dev;
	struct vc_queue *q = atx_chan_priv(chan);
	struct vc_slot *sl;
	uint64_t v;
	int n = 0;

	if (d->dead)
		return 0;
	q->polls++;
	/*
	 * Drain the eventfd before reaping so a signal after the reap is kept.
	 * Nothing to drain means the wake-up came from elsewhere: on queue 0
	 * that is the socket watch, so ask whether the backend is still
	 * there (a syscall we spare the common, call-fd-driven, pass).
	 */
	bool quiet = read(q->call_fd, &v, sizeof(v)) < 0;

	if (q == &d->q[0]) {
		int gone = 0;

		/*
		 * The tick only wakes us when nothing else does; the check
		 * itself runs on any queue-0 pass once a second has passed
		 * (a vDSO clock read, no syscall).
		 */
		if (quiet && ve->timer_fd >= 0 && read(ve->timer_fd, &v, sizeof(v)) < 0) {
			/* not the tick: the socket watch or our own re-signal */
		}
		if (ve->timeout_s && watchdog_due(ve))
			gone = -ETIMEDOUT;
		else if (quiet && d->t->ops->alive && !d->t->ops->alive(d->t))
			gone = -EIO;
		if (gone) {
			/* reap what it finished before it went */
			while ((sl = atx__vq_get(&q->vq, NULL))) {
				atx_engine_complete(sl->tx,
						    atx__vc_finish(q, (unsigned)(sl - q->slots),
								   atx_tx_op(sl->tx)));
				n++;
			}
			device_gone(ve, gone);
			return n;
		}
	}
	for (;;) {
		while ((unsigned)n < budget && (sl = atx__vq_get(&q->vq, NULL))) {
			struct atx_tx *tx = sl->tx;

			atx_engine_complete(tx, atx__vc_finish(q, (unsigned)(sl - q->slots),
							       atx_tx_op(tx)));
			n++;
			q->completed++;
		}
		if ((unsigned)n >= budget) {
			/* more may be waiting: make the watch fire again */
			v = 1;
			if (write(q->call_fd, &v, sizeof(v)) < 0) {
				/* counter saturated: a wake-up is pending anyway */
			}
			break;
		}
		if (!atx__vq_enable_cb(&q->vq))
			break;
	}
	if (q->blocked && atx__vq_next_slot(&q->vq) >= 0) {
		q->blocked = false;
		atx_engine_unblock(chan);
	}
	return n;
}

#define UBUF_PAGE 4096u

/* First fit over the zero-copy reserve, in 4 KiB pages (slow path). */
static void *vc_buf_alloc(struct atx_engine *e, size_t len)
{
	struct vc_engine *ve = atx_engine_priv(e);
	struct vc_dev *d;
	size_t need, run = 0, i;

	if (!ve || !ve->dev.ubuf || !len) {
		errno = ENOMEM;
		return NULL;
	}
	d = &ve->dev;
	if (!ve->ubuf_pages) {
		ve->ubuf_npages = d->ubuf_size / UBUF_PAGE;
		ve->ubuf_pages = calloc(ve->ubuf_npages ? ve->ubuf_npages : 1, sizeof(uint32_t));
		if (!ve->ubuf_pages)
			return NULL;
	}
	need = (len + UBUF_PAGE - 1) / UBUF_PAGE;
	for (i = 0; i < ve->ubuf_npages; i++) {
		if (ve->ubuf_pages[i]) {
			i += ve->ubuf_pages[i] - 1; /* skip the whole run */
			run = 0;
			continue;
		}
		if (++run == need) {
			size_t first = i + 1 - need;

			ve->ubuf_pages[first] = (uint32_t)need;
			return d->ubuf + first * UBUF_PAGE;
		}
	}
	errno = ENOMEM;
	return NULL;
}

static bool vc_buf_free(struct atx_engine *e, void *p)
{
	struct vc_engine *ve = atx_engine_priv(e);
	uintptr_t base, x = (uintptr_t)p;

	if (!ve || !ve->ubuf_pages)
		return false;
	base = (uintptr_t)ve->dev.ubuf;
	if (x < base || x >= base + ve->ubuf_npages * UBUF_PAGE || (x - base) % UBUF_PAGE)
		return false;
	ve->ubuf_pages[(x - base) / UBUF_PAGE] = 0;
	return true;
}

void *atx__virtio_buf_alloc(struct atx_chan *chan, size_t len)
{
	struct atx_chan_info ci;

	atx_chan_info(chan, &ci);
	if (strncmp(ci.engine, "virtio", 6) || !eng_of(chan)) {
		errno = EINVAL;
		return NULL;
	}
	return vc_buf_alloc(atx_chan_engine(chan), len);
}

/*
 * "virtio" (a vhost-user socket, or "pci:BDF") and "virtio-pci:BDF" are
 * the same engine but for how they attach.
 */
#define VC_ENGINE_OPS(name_, attach_) {                                        \
	.name = (name_),                                                        \
	.prio = ATX_PRIO_HARDWARE,                                              \
	.caps = ATX_CAP_CIPHER | ATX_CAP_HASH | ATX_CAP_MAC | ATX_CAP_AEAD |    \
		ATX_CAP_CHAIN,                                                  \
	.attach = (attach_),                                                    \
	.detach = vc_detach,                                                    \
	.probe_session = vc_probe_session,                                      \
	.new_session = vc_new_session,                                          \
	.free_session = vc_free_session,                                        \
	.submit = vc_submit,                                                    \
	.poll = vc_poll,                                                        \
	.buf_alloc = vc_buf_alloc,                                              \
	.buf_free = vc_buf_free,                                                \
}

const struct atx_engine_ops atx_virtio_engine_ops = VC_ENGINE_OPS("virtio", vc_attach);
const struct atx_engine_ops atx_virtio_pci_engine_ops = VC_ENGINE_OPS("virtio-pci", vc_pci_attach);
