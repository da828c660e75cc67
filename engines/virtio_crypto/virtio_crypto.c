/* SPDX-License-Identifier: MIT */
/*
 * virtio_crypto.c - the virtio-crypto protocol, driver side (virtio 1.2
 * section 5.9; layouts in virtio_crypto_proto.h).
 *
 * Bring-up: negotiate features, share the arena, read the config (or
 * assume DPDK-like defaults when the transport has none), lay out every
 * data queue (ring, indirect tables, per-slot headers, per-slot bounce
 * areas) and, unless sessions travel as transport messages, the control
 * queue.
 *
 * Requests use the Linux driver's descriptor split - one descriptor per
 * field: header, iv, [aad], src | dst, [hash], status - which every peer
 * we know parses (QEMU reads streams; DPDK looks for the first writable
 * descriptor and takes the status from the last byte of the last one).
 *
 * Caller buffers are not device-visible (the public API has no arena
 * allocator yet), so every payload is bounced through the slot's area in
 * the arena: gathered in before the request, scattered out on success.
 * A verify that fails never copies its plaintext out.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "alg.h"
#include "virtio_crypto/virtio_crypto.h"

#define VC_DEFAULT_ARENA (64u << 20)
#define VC_DEFAULT_QSIZE 256u
#define VC_MAX_QUEUES 16u
#define VC_CTRL_QSIZE 8u
#define VC_MAX_BOUNCE (256u << 10)
#define VC_STATUS_NONE 0xffu    /* "the device wrote no status" */

/*
 * Device status -> completion status:
 *
 *   VIRTIO_CRYPTO_OK           0
 *   VIRTIO_CRYPTO_ERR          -EIO          backend failure (failover may re-run it)
 *   VIRTIO_CRYPTO_BADMSG       -EBADMSG      authentication failed (AEAD tag)
 *   VIRTIO_CRYPTO_NOTSUPP      -EOPNOTSUPP   the device cannot do this request
 *   VIRTIO_CRYPTO_INVSESS      -EINVAL       unknown session id
 *   VIRTIO_CRYPTO_NOSPC        -ENOSPC       no free session id (create)
 *   VIRTIO_CRYPTO_KEY_REJECTED -EKEYREJECTED
 *   anything else / unwritten  -EIO
 */
int atx__vc_status_errno(unsigned status)
{
	switch (status) {
	case VIRTIO_CRYPTO_OK: return 0;
	case VIRTIO_CRYPTO_ERR: return -EIO;
	case VIRTIO_CRYPTO_BADMSG: return -EBADMSG;
	case VIRTIO_CRYPTO_NOTSUPP: return -EOPNOTSUPP;
	case VIRTIO_CRYPTO_INVSESS: return -EINVAL;
	case VIRTIO_CRYPTO_NOSPC: return -ENOSPC;
	case VIRTIO_CRYPTO_KEY_REJECTED: return -EKEYREJECTED;
	default: return -EIO;
	}
}

/* ---- atx algorithm -> virtio-crypto algorithm (0 = none) ---- */

static uint32_t cipher_algo(enum atx_cipher_alg c)
{
	switch (c) {
	case ATX_CIPHER_AES_ECB: return VIRTIO_CRYPTO_CIPHER_AES_ECB;
	case ATX_CIPHER_AES_CBC: return VIRTIO_CRYPTO_CIPHER_AES_CBC;
	case ATX_CIPHER_AES_CTR: return VIRTIO_CRYPTO_CIPHER_AES_CTR;
	case ATX_CIPHER_AES_XTS: return VIRTIO_CRYPTO_CIPHER_AES_XTS;
	case ATX_CIPHER_3DES_CBC: return VIRTIO_CRYPTO_CIPHER_3DES_CBC;
	default: return 0;      /* ChaCha20 has no virtio-crypto cipher id */
	}
}

static uint32_t hash_algo(enum atx_hash_alg h)
{
	switch (h) {
	case ATX_HASH_SHA1: return VIRTIO_CRYPTO_HASH_SHA1;
	case ATX_HASH_SHA224: return VIRTIO_CRYPTO_HASH_SHA_224;
	case ATX_HASH_SHA256: return VIRTIO_CRYPTO_HASH_SHA_256;
	case ATX_HASH_SHA384: return VIRTIO_CRYPTO_HASH_SHA_384;
	case ATX_HASH_SHA512: return VIRTIO_CRYPTO_HASH_SHA_512;
	case ATX_HASH_SHA3_256: return VIRTIO_CRYPTO_HASH_SHA3_256;
	default: return 0;
	}
}

static uint32_t mac_algo(enum atx_mac_alg m)
{
	switch (m) {
	case ATX_MAC_HMAC_SHA1: return VIRTIO_CRYPTO_MAC_HMAC_SHA1;
	case ATX_MAC_HMAC_SHA224: return VIRTIO_CRYPTO_MAC_HMAC_SHA_224;
	case ATX_MAC_HMAC_SHA256: return VIRTIO_CRYPTO_MAC_HMAC_SHA_256;
	case ATX_MAC_HMAC_SHA384: return VIRTIO_CRYPTO_MAC_HMAC_SHA_384;
	case ATX_MAC_HMAC_SHA512: return VIRTIO_CRYPTO_MAC_HMAC_SHA_512;
	case ATX_MAC_AES_CMAC: return VIRTIO_CRYPTO_MAC_CMAC_AES;
	default: return 0;
	}
}

static uint32_t aead_algo(enum atx_aead_alg a)
{
	switch (a) {
	case ATX_AEAD_AES_GCM: return VIRTIO_CRYPTO_AEAD_GCM;
	case ATX_AEAD_AES_CCM: return VIRTIO_CRYPTO_AEAD_CCM;
	case ATX_AEAD_CHACHA20_POLY1305: return VIRTIO_CRYPTO_AEAD_CHACHA20_POLY1305;
	default: return 0;
	}
}

static bool has_service(const struct vc_dev *d, unsigned svc)
{
	return d->cfg.crypto_services & (1u << svc);
}

static bool bit64(uint32_t lo, uint32_t hi, uint32_t n)
{
	return n < 32 ? (lo >> n) & 1 : n < 64 ? (hi >> (n - 32)) & 1 : false;
}

static bool cipher_ok(const struct vc_dev *d, const struct atx_session_params *p)
{
	uint32_t a = cipher_algo(p->cipher);

	return a && has_service(d, VIRTIO_CRYPTO_SERVICE_CIPHER) &&
	       bit64(d->cfg.cipher_algo_l, d->cfg.cipher_algo_h, a) &&
	       (!d->cfg.max_cipher_key_len || p->key_len <= d->cfg.max_cipher_key_len);
}

static bool mac_ok(const struct vc_dev *d, enum atx_mac_alg m, size_t auth_key_len)
{
	uint32_t a = mac_algo(m);

	return a && has_service(d, VIRTIO_CRYPTO_SERVICE_MAC) &&
	       bit64(d->cfg.mac_algo_l, d->cfg.mac_algo_h, a) &&
	       (!d->cfg.max_auth_key_len || auth_key_len <= d->cfg.max_auth_key_len);
}

int atx__vc_probe(const struct vc_dev *d, const struct atx_session_params *p)
{
	if (d->dead)
		return -ENODEV;
	switch (p->service) {
	case ATX_SVC_CIPHER:
		return cipher_ok(d, p) ? 0 : -EOPNOTSUPP;
	case ATX_SVC_HASH: {
		uint32_t a = hash_algo(p->hash);
		return a && has_service(d, VIRTIO_CRYPTO_SERVICE_HASH) &&
		       ((d->cfg.hash_algo >> a) & 1) ? 0 : -EOPNOTSUPP;
	}
	case ATX_SVC_MAC:
		/* without a config space (DPDK) HMAC exists only in chains */
		return d->have_config && mac_ok(d, p->mac, p->key_len) ? 0 : -EOPNOTSUPP;
	case ATX_SVC_AEAD: {
		uint32_t a = aead_algo(p->aead);
		return a && has_service(d, VIRTIO_CRYPTO_SERVICE_AEAD) &&
		       ((d->cfg.aead_algo >> a) & 1) &&
		       (!d->cfg.max_cipher_key_len || p->key_len <= d->cfg.max_cipher_key_len) ?
		       0 : -EOPNOTSUPP;
	}
	case ATX_SVC_CHAIN:
		return cipher_ok(d, p) && mac_ok(d, p->mac, p->auth_key_len) ? 0 : -EOPNOTSUPP;
	default:
		return -EOPNOTSUPP;
	}
}

/* ---- bring-up ---- */

static int queue_layout(struct vc_dev *d, struct vc_queue *q, unsigned index, unsigned num)
{
	bool indirect = d->features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	bool event_idx = d->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	void *ring = atx__arena_alloc(&d->arena, atx__vq_ring_bytes(num), 64);
	void *itab = indirect ? atx__arena_alloc(&d->arena,
						 atx__vq_itab_bytes(num, VC_MAX_BUFS, true), 64)
			      : NULL;

	q->index = index;
	q->hdrs = atx__arena_alloc(&d->arena, num * sizeof(struct vc_hdr), 64);
	q->slots = calloc(num, sizeof(*q->slots));
	q->cookies = calloc(num, sizeof(*q->cookies));
	q->call_fd = -1;
	if (!ring || (indirect && !itab) || !q->hdrs)
		return -ENOMEM;
	if (!q->slots || !q->cookies)
		return -ENOMEM;
	return atx__vq_init(&q->vq, num, VC_MAX_BUFS, indirect, event_idx, ring, itab,
			    q->cookies, d->arena.gpa_off);
}

static int queue_start(struct vc_dev *d, struct vc_queue *q)
{
	struct vc_vring_cfg c = {
		.index = q->index, .num = q->vq.num,
		.desc = q->vq.desc, .avail = q->vq.avail, .used = q->vq.used,
	};
	int err = d->t->ops->setup_vring(d->t, &c);

	if (err)
		return err;
	q->call_fd = d->t->ops->call_fd(d->t, q->index);
	return q->call_fd < 0 ? -EIO : 0;
}

static void queue_free(struct vc_queue *q)
{
	free(q->slots);
	free(q->cookies);
	q->slots = NULL;
	q->cookies = NULL;
}

int atx__vc_dev_init(struct vc_dev *d, struct vc_transport *t, const struct vc_dev_opts *o)
{
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
			(1ull << VIRTIO_RING_F_EVENT_IDX);
	unsigned qsize = o && o->qsize ? o->qsize : VC_DEFAULT_QSIZE;
	unsigned maxq = o && o->max_queues ? o->max_queues : VC_MAX_QUEUES;
	size_t asize = o && o->arena_size ? o->arena_size : 0;
	unsigned i;
	int err;

	memset(d, 0, sizeof(*d));
	d->t = t;
	if (qsize & (qsize - 1) || qsize > VRING_MAX_SIZE) {
		err = -EINVAL;
		goto err_close;
	}
	err = t->ops->negotiate(t, want, &d->features);
	if (err)
		goto err_close;
	err = t->ops->config_read(t, 0, &d->cfg, sizeof(d->cfg));
	if (!err) {
		d->have_config = true;
		if (!(d->cfg.status & VIRTIO_CRYPTO_S_HW_READY) || !d->cfg.max_dataqueues) {
			err = -ENODEV;
			goto err_close;
		}
	} else if (err == -EOPNOTSUPP) {
		/*
		 * No config space (DPDK's vhost-crypto): assume what such a
		 * backend is known to serve - one data queue, AES-CBC and
		 * 3DES-CBC cipher sessions (shared/INTEROP.md).  Anything else
		 * is left to the software engine rather than refused later.
		 */
		d->cfg.status = VIRTIO_CRYPTO_S_HW_READY;
		d->cfg.max_dataqueues = 1;
		d->cfg.crypto_services = (1u << VIRTIO_CRYPTO_SERVICE_CIPHER) |
					 (1u << VIRTIO_CRYPTO_SERVICE_MAC);
		d->cfg.cipher_algo_l = (1u << VIRTIO_CRYPTO_CIPHER_AES_CBC) |
				       (1u << VIRTIO_CRYPTO_CIPHER_3DES_CBC);
		/*
		 * HMAC only inside CIPHER+MAC chains (hash_mode AUTH): DPDK
		 * has no MAC-only sessions (atx__vc_probe refuses them), and
		 * its OpenSSL PMD takes HMAC keys up to one SHA-1/SHA-256 block.
		 */
		d->cfg.mac_algo_l = (1u << VIRTIO_CRYPTO_MAC_HMAC_SHA1) |
				    (1u << VIRTIO_CRYPTO_MAC_HMAC_SHA_224) |
				    (1u << VIRTIO_CRYPTO_MAC_HMAC_SHA_256) |
				    (1u << VIRTIO_CRYPTO_MAC_HMAC_SHA_384) |
				    (1u << VIRTIO_CRYPTO_MAC_HMAC_SHA_512);
		d->cfg.max_auth_key_len = 64;
		/* DPDK: src and dst of one request are at most 2176 bytes each */
		d->cfg.max_size = 2176;
	} else {
		goto err_close;
	}
	d->msg_sessions = t->ops->session_msgs && t->ops->session_msgs(t);
	d->nqueues = d->cfg.max_dataqueues < maxq ? d->cfg.max_dataqueues : maxq;
	d->qsize = qsize;

	if (!asize) {
		/*
		 * Default: a full-size bounce area (VC_MAX_BOUNCE, requests up to
		 * half of it) for every slot.  memfd pages cost nothing until a
		 * request touches them.
		 */
		asize = (size_t)d->nqueues * qsize * (VC_MAX_BOUNCE + sizeof(struct vc_hdr) + 256) +
			VC_MAX_BOUNCE + (1u << 20) + (o ? o->ubuf_size : 0);
		if (asize < VC_DEFAULT_ARENA)
			asize = VC_DEFAULT_ARENA;
	}
	err = o && o->arena_init ? o->arena_init(t, &d->arena, asize) :
				   atx__arena_init(&d->arena, asize);
	if (err)
		goto err_close;
	d->q = calloc(d->nqueues, sizeof(*d->q));
	if (!d->q) {
		err = -ENOMEM;
		goto err_free_arena;
	}
	for (i = 0; i < d->nqueues; i++) {
		err = queue_layout(d, &d->q[i], i, qsize);
		if (err)
			goto err_free_queues;
	}
	if (!d->msg_sessions) {
		/* the control queue is the one after the device's last data queue */
		err = queue_layout(d, &d->ctrl, d->cfg.max_dataqueues, VC_CTRL_QSIZE);
		if (err)
			goto err_free_queues;
	}
	if (o && o->ubuf_size) {
		/* caller-visible buffers the device reads and writes in place */
		d->ubuf = atx__arena_alloc(&d->arena, o->ubuf_size, 4096);
		if (!d->ubuf) {
			err = -ENOMEM;
			goto err_free_queues;
		}
		d->ubuf_size = o->ubuf_size;
	}
	/* the rest of the arena is bounce space, split evenly over the slots */
	if (d->arena.size < d->arena.used + 8192) {
		err = -ENOMEM;
		goto err_free_queues;
	}
	size_t left = d->arena.size - d->arena.used - 4096;
	size_t per = left / ((size_t)d->nqueues * qsize + (d->msg_sessions ? 0 : 1));
	per = (per > VC_MAX_BOUNCE ? VC_MAX_BOUNCE : per) & ~(size_t)63;
	if (per < 512) {
		err = -ENOMEM;
		goto err_free_queues;
	}
	for (i = 0; i < d->nqueues; i++) {
		struct vc_queue *q = &d->q[i];
		uint8_t *b = atx__arena_alloc(&d->arena, per * q->vq.nslots, 64);

		if (!b) {
			err = -ENOMEM;
			goto err_free_queues;
		}
		q->bounce_size = per;
		for (unsigned s = 0; s < q->vq.nslots; s++)
			q->slots[s].bounce = b + per * s;
	}
	if (!d->msg_sessions) {
		d->ctrl.bounce_size = per;
		d->ctrl.slots[0].bounce = atx__arena_alloc(&d->arena, per, 64);
		if (!d->ctrl.slots[0].bounce) {
			err = -ENOMEM;
			goto err_free_queues;
		}
	}

	err = t->ops->map_memory(t, &d->arena);
	if (err)
		goto err_free_queues;
	for (i = 0; i < d->nqueues; i++) {
		err = queue_start(d, &d->q[i]);
		if (err)
			goto err_free_queues;
	}
	if (!d->msg_sessions) {
		err = queue_start(d, &d->ctrl);
		if (err)
			goto err_free_queues;
		d->ctrl_ready = true;
	}
	return 0;

err_free_queues:
	for (i = 0; i < d->nqueues; i++)
		queue_free(&d->q[i]);
	queue_free(&d->ctrl);
	free(d->q);
	d->q = NULL;
err_free_arena:
	/* close the transport first: the backend must drop its mapping of the arena */
	t->ops->close(t);
	d->t = NULL;
	atx__arena_fini(&d->arena);
	return err;
err_close:
	t->ops->close(t);
	d->t = NULL;
	return err;
}

void atx__vc_dev_fini(struct vc_dev *d)
{
	if (d->t)
		d->t->ops->close(d->t);
	d->t = NULL;
	for (unsigned i = 0; d->q && i < d->nqueues; i++)
		queue_free(&d->q[i]);
	queue_free(&d->ctrl);
	free(d->q);
	d->q = NULL;
	atx__arena_fini(&d->arena);
}

/* ---- control queue (synchronous: slow path) ---- */

struct vc_ctrl_buf {
	struct virtio_crypto_op_ctrl_req req;
	struct virtio_crypto_session_input in;
	uint8_t status;                         /* destroy: virtio_crypto_inhdr */
	uint8_t key[ATX_MAX_KEY_LEN];
	uint8_t auth_key[ATX_MAX_AUTH_KEY_LEN];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Post @n buffers on the control queue and wait (bounded) for the device. */
static int ctrl_roundtrip(struct vc_dev *d, struct vq_buf *bufs, unsigned n)
{
	struct vc_queue *q = &d->ctrl;
	int64_t deadline = now_ms() + 5000;
	int ret;

	ret = atx__vq_add(&q->vq, bufs, n, q);
	if (ret < 0)
		return ret;
	if (atx__vq_kick_prepare(&q->vq))
		d->t->ops->kick(d->t, q->index);
	for (;;) {
		if (atx__vq_get(&q->vq, NULL))
			return 0;
		int64_t left = deadline - now_ms();
		if (left <= 0 || (d->t->ops->alive && !d->t->ops->alive(d->t)))
			break;
		struct pollfd p = { q->call_fd, POLLIN, 0 };
		if (poll(&p, 1, left > 50 ? 50 : (int)left) > 0) {
			uint64_t v;
			if (read(q->call_fd, &v, sizeof(v)) < 0) {
				/* nothing to drain: the next poll tells */
			}
		}
		atx__vq_enable_cb(&q->vq);
	}
	/* the device never answered: the slot stays lost, the queue is unusable */
	d->ctrl_ready = false;
	return -ETIMEDOUT;
}

static void fill_session_msg(const struct atx_session_params *p, const struct vc_sess *s,
			     struct vc_session_msg *m)
{
	uint32_t dir = p->dir == ATX_ENCRYPT ? VIRTIO_CRYPTO_OP_ENCRYPT : VIRTIO_CRYPTO_OP_DECRYPT;

	memset(m, 0, sizeof(*m));
	m->dir = dir;
	m->digest_len = s->digest_len;
	switch (p->service) {
	case ATX_SVC_CIPHER:
		m->op_code = VIRTIO_CRYPTO_CIPHER_CREATE_SESSION;
		m->op_type = VIRTIO_CRYPTO_SYM_OP_CIPHER;
		m->cipher_algo = cipher_algo(p->cipher);
		m->key = p->key;
		m->key_len = (uint32_t)p->key_len;
		break;
	case ATX_SVC_CHAIN:
		m->op_code = VIRTIO_CRYPTO_CIPHER_CREATE_SESSION;
		m->op_type = VIRTIO_CRYPTO_SYM_OP_ALGORITHM_CHAINING;
		m->cipher_algo = cipher_algo(p->cipher);
		m->hash_algo = mac_algo(p->mac);
		m->hash_mode = VIRTIO_CRYPTO_SYM_HASH_MODE_AUTH;
		m->chain_order = p->chain_order == ATX_CHAIN_ENC_THEN_MAC ?
				 VIRTIO_CRYPTO_SYM_ALG_CHAIN_ORDER_CIPHER_THEN_HASH :
				 VIRTIO_CRYPTO_SYM_ALG_CHAIN_ORDER_HASH_THEN_CIPHER;
		m->key = p->key;
		m->key_len = (uint32_t)p->key_len;
		m->auth_key = p->auth_key;
		m->auth_key_len = (uint32_t)p->auth_key_len;
		break;
	case ATX_SVC_HASH:
		m->op_code = VIRTIO_CRYPTO_HASH_CREATE_SESSION;
		m->hash_algo = hash_algo(p->hash);
		break;
	case ATX_SVC_MAC:
		m->op_code = VIRTIO_CRYPTO_MAC_CREATE_SESSION;
		m->hash_algo = mac_algo(p->mac);
		m->auth_key = p->key;
		m->auth_key_len = (uint32_t)p->key_len;
		break;
	case ATX_SVC_AEAD:
		m->op_code = VIRTIO_CRYPTO_AEAD_CREATE_SESSION;
		m->cipher_algo = aead_algo(p->aead);
		m->key = p->key;
		m->key_len = (uint32_t)p->key_len;
		break;
	}
}

static int ctrl_create(struct vc_dev *d, const struct vc_session_msg *m, uint64_t *id)
{
	struct vc_ctrl_buf *c = (struct vc_ctrl_buf *)d->ctrl.slots[0].bounce;
	struct virtio_crypto_op_ctrl_req *r = &c->req;
	struct vq_buf bufs[4];
	unsigned n = 0;
	int err;

	if (!d->ctrl_ready)
		return -EIO;
	if (m->key_len > sizeof(c->key) || m->auth_key_len > sizeof(c->auth_key))
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	r->header.opcode = m->op_code;
	r->header.queue_id = 0;
	switch (m->op_code) {
	case VIRTIO_CRYPTO_CIPHER_CREATE_SESSION: {
		struct virtio_crypto_sym_create_session_req *sr = &r->u.sym_create_session;
		struct virtio_crypto_cipher_session_para *cp;

		r->header.algo = m->cipher_algo;
		sr->op_type = m->op_type;
		if (m->op_type == VIRTIO_CRYPTO_SYM_OP_CIPHER) {
			cp = &sr->u.cipher.para;
		} else {
			struct virtio_crypto_alg_chain_session_para *ch = &sr->u.chain.para;

			ch->alg_chain_order = m->chain_order;
			ch->hash_mode = m->hash_mode;
			ch->u.mac_param.algo = m->hash_algo;
			ch->u.mac_param.hash_result_len = m->digest_len;
			ch->u.mac_param.auth_key_len = m->auth_key_len;
			ch->aad_len = 0; /* per request (chain data para) */
			cp = &ch->cipher_param;
		}
		cp->algo = m->cipher_algo;
		cp->keylen = m->key_len;
		cp->op = m->dir;
		break;
	}
	case VIRTIO_CRYPTO_HASH_CREATE_SESSION:
		r->header.algo = m->hash_algo;
		r->u.hash_create_session.para.algo = m->hash_algo;
		r->u.hash_create_session.para.hash_result_len = m->digest_len;
		break;
	case VIRTIO_CRYPTO_MAC_CREATE_SESSION:
		r->header.algo = m->hash_algo;
		r->u.mac_create_session.para.algo = m->hash_algo;
		r->u.mac_create_session.para.hash_result_len = m->digest_len;
		r->u.mac_create_session.para.auth_key_len = m->auth_key_len;
		break;
	case VIRTIO_CRYPTO_AEAD_CREATE_SESSION:
		r->header.algo = m->cipher_algo;
		r->u.aead_create_session.para.algo = m->cipher_algo;
		r->u.aead_create_session.para.key_len = m->key_len;
		r->u.aead_create_session.para.hash_result_len = m->digest_len;
		r->u.aead_create_session.para.op = m->dir;
		break;
	default:
		return -EINVAL;
	}
	bufs[n++] = (struct vq_buf){ r, sizeof(*r), false };
	if (m->key_len) {
		memcpy(c->key, m->key, m->key_len);
		bufs[n++] = (struct vq_buf){ c->key, m->key_len, false };
	}
	if (m->auth_key_len) {
		memcpy(c->auth_key, m->auth_key, m->auth_key_len);
		bufs[n++] = (struct vq_buf){ c->auth_key, m->auth_key_len, false };
	}
	c->in.status = VC_STATUS_NONE;
	bufs[n++] = (struct vq_buf){ &c->in, sizeof(c->in), true };
	err = ctrl_roundtrip(d, bufs, n);
	if (!err) {
		err = atx__vc_status_errno(c->in.status);
		*id = c->in.session_id;
	}
	/* keys were in shared memory only for the request's lifetime */
	explicit_bzero(c->key, sizeof(c->key));
	explicit_bzero(c->auth_key, sizeof(c->auth_key));
	return err;
}

static int ctrl_destroy(struct vc_dev *d, const struct vc_sess *s)
{
	struct vc_ctrl_buf *c = (struct vc_ctrl_buf *)d->ctrl.slots[0].bounce;
	struct vq_buf bufs[2];
	static const uint32_t op[] = {
		[ATX_SVC_CIPHER] = VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION,
		[ATX_SVC_HASH] = VIRTIO_CRYPTO_HASH_DESTROY_SESSION,
		[ATX_SVC_MAC] = VIRTIO_CRYPTO_MAC_DESTROY_SESSION,
		[ATX_SVC_AEAD] = VIRTIO_CRYPTO_AEAD_DESTROY_SESSION,
		[ATX_SVC_CHAIN] = VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION,
	};
	int err;

	if (!d->ctrl_ready)
		return -EIO;
	memset(&c->req, 0, sizeof(c->req));
	c->req.header.opcode = op[s->svc];
	c->req.u.destroy_session.session_id = s->id;
	c->status = VC_STATUS_NONE;
	bufs[0] = (struct vq_buf){ &c->req, sizeof(c->req), false };
	bufs[1] = (struct vq_buf){ &c->status, 1, true };
	err = ctrl_roundtrip(d, bufs, 2);
	return err ? err : atx__vc_status_errno(c->status);
}

int atx__vc_session_create(struct vc_dev *d, const struct atx_session_params *p,
			   struct vc_sess *s)
{
	struct vc_session_msg m;
	int err;

	if (d->dead)
		return -ENODEV;
	err = atx__vc_probe(d, p);
	if (err)
		return err;
	memset(s, 0, sizeof(*s));
	s->svc = p->service;
	s->dir = p->dir;
	s->digest_len = (uint32_t)atx__digest_len(p);
	switch (p->service) {
	case ATX_SVC_CIPHER:
	case ATX_SVC_CHAIN:
		s->opcode = p->dir == ATX_ENCRYPT ? VIRTIO_CRYPTO_CIPHER_ENCRYPT :
						    VIRTIO_CRYPTO_CIPHER_DECRYPT;
		s->algo = cipher_algo(p->cipher);
		break;
	case ATX_SVC_HASH:
		s->opcode = VIRTIO_CRYPTO_HASH;
		s->algo = hash_algo(p->hash);
		break;
	case ATX_SVC_MAC:
		s->opcode = VIRTIO_CRYPTO_MAC;
		s->algo = mac_algo(p->mac);
		break;
	case ATX_SVC_AEAD:
		s->opcode = p->dir == ATX_ENCRYPT ? VIRTIO_CRYPTO_AEAD_ENCRYPT :
						    VIRTIO_CRYPTO_AEAD_DECRYPT;
		s->algo = aead_algo(p->aead);
		break;
	}
	fill_session_msg(p, s, &m);
	if (d->msg_sessions) {
		s->by_msg = true;
		err = d->t->ops->session_create(d->t, &m, &s->id);
	} else {
		err = ctrl_create(d, &m, &s->id);
	}
	if (!err)
		d->sessions_live++;
	return err;
}

void atx__vc_session_destroy(struct vc_dev *d, struct vc_sess *s)
{
	if (d->dead || !d->t)
		return; /* the device and its sessions are gone */
	if (s->by_msg)
		d->t->ops->session_destroy(d->t, s->id);
	else
		ctrl_destroy(d, s);
	d->sessions_live--;
}

/* ---- data requests (fast path) ---- */

static void gather(uint8_t *to, const struct iovec *iov, unsigned cnt, size_t len)
{
	for (unsigned i = 0; i < cnt && len; i++) {
		size_t k = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(to, iov[i].iov_base, k);
		to += k;
		len -= k;
	}
}

static void scatter(const struct iovec *iov, unsigned cnt, const uint8_t *from, size_t len)
{
	for (unsigned i = 0; i < cnt && len; i++) {
		size_t k = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(iov[i].iov_base, from, k);
		from += k;
		len -= k;
	}
}

static inline size_t al64(size_t x)
{
	return (x + 63) & ~(size_t)63;
}

int atx__vc_build(struct vc_dev *d, struct vc_queue *q, unsigned slot, struct atx_op *op,
		  struct vq_buf *bufs, unsigned *bounced)
{
	const struct vc_sess *s = op->u.crypto.sess_priv;
	struct vc_hdr *h = &q->hdrs[slot];
	struct vc_slot *sl = &q->slots[slot];
	/*
	 * Built on the stack and stored only where it differs: the shared
	 * copy was last read by the device on another core, and a store -
	 * even of the same bytes - would pull the line back (an RFO).
	 */
	struct virtio_crypto_op_data_req req_local, *r = &req_local;
	size_t len = op->len, aad_len = op->u.crypto.aad_len, tag = 0, need;
	uint8_t *b = sl->bounce, *src_b, *dst_b = NULL, *aad_b = NULL;
	uint32_t iv_len = op->iv_len;
	unsigned n = 0;

	if (d->cfg.max_size && len > d->cfg.max_size)
		return -EMSGSIZE;
	if (s->svc == ATX_SVC_AEAD)
		tag = s->digest_len;
	/* DPDK's chain requests have no AAD: it would be read as payload */
	if (s->svc == ATX_SVC_CHAIN && aad_len && !d->have_config)
		return -EOPNOTSUPP;
	/* bounce layout: [aad][src (+tag in)][dst (+tag out)] */
	need = al64(aad_len) + al64(len + tag) + al64(len + tag);
	if (need > q->bounce_size || iv_len > sizeof(h->iv) || len > UINT32_MAX - 64)
		return -EMSGSIZE;

	memset(r, 0, sizeof(*r));
	r->header.opcode = s->opcode;
	r->header.algo = s->algo;
	r->header.session_id = s->id;
	h->status = VC_STATUS_NONE;
	*sl = (struct vc_slot){ .bounce = b };

	if (aad_len) {
		aad_b = b;
		memcpy(aad_b, op->u.crypto.aad, aad_len);
	}
	/*
	 * Buffers already in the arena (atx__virtio_buf_alloc) go to the
	 * device as they are.  Not for AEAD decrypt, whose source stream is
	 * ciphertext || tag in one piece, nor - on the destination side -
	 * for anything that verifies: a failed check must not leave
	 * plaintext in the caller's buffer.
	 */
	const struct iovec *siov = op->u.crypto.src, *diov = op->u.crypto.dst;
	bool src_direct = op->u.crypto.src_cnt == 1 &&
			  !(s->svc == ATX_SVC_AEAD && s->dir == ATX_DECRYPT) &&
			  atx__arena_contains(&d->arena, siov[0].iov_base, len);
	bool dst_direct = diov && op->u.crypto.dst_cnt == 1 &&
			  (s->svc == ATX_SVC_CIPHER ||
			   (s->svc == ATX_SVC_CHAIN && s->dir == ATX_ENCRYPT)) &&
			  atx__arena_contains(&d->arena, diov[0].iov_base, len);
	if (src_direct) {
		src_b = siov[0].iov_base;
	} else {
		src_b = b + al64(aad_len);
		gather(src_b, siov, op->u.crypto.src_cnt, len);
	}

	bufs[n++] = (struct vq_buf){ &h->req, sizeof(h->req), false };
	switch (s->svc) {
	case ATX_SVC_CIPHER:
		r->u.sym_req.op_type = VIRTIO_CRYPTO_SYM_OP_CIPHER;
		r->u.sym_req.u.cipher.para.iv_len = iv_len;
		r->u.sym_req.u.cipher.para.src_data_len = (uint32_t)len;
		r->u.sym_req.u.cipher.para.dst_data_len = (uint32_t)len;
		break;
	case ATX_SVC_CHAIN: {
		struct virtio_crypto_alg_chain_data_para *cp = &r->u.sym_req.u.chain.para;

		r->u.sym_req.op_type = VIRTIO_CRYPTO_SYM_OP_ALGORITHM_CHAINING;
		cp->iv_len = iv_len;
		cp->src_data_len = (uint32_t)len;
		cp->dst_data_len = (uint32_t)len;
		cp->len_to_cipher = (uint32_t)len;
		cp->len_to_hash = (uint32_t)len;
		cp->aad_len = (uint32_t)aad_len;
		cp->hash_result_len = s->digest_len;
		break;
	}
	case ATX_SVC_HASH:
	case ATX_SVC_MAC:
		/* the mac para is the hash para by layout */
		r->u.hash_req.para.src_data_len = (uint32_t)len;
		r->u.hash_req.para.hash_result_len = s->digest_len;
		break;
	case ATX_SVC_AEAD:
		if (s->dir == ATX_DECRYPT) {
			memcpy(src_b + len, op->u.crypto.digest, tag);
			r->u.aead_req.para.src_data_len = (uint32_t)(len + tag);
			r->u.aead_req.para.dst_data_len = (uint32_t)len;
		} else {
			r->u.aead_req.para.src_data_len = (uint32_t)len;
			r->u.aead_req.para.dst_data_len = (uint32_t)(len + tag);
		}
		r->u.aead_req.para.iv_len = iv_len;
		r->u.aead_req.para.aad_len = (uint32_t)aad_len;
		break;
	}
	if (iv_len && s->svc != ATX_SVC_HASH && s->svc != ATX_SVC_MAC) {
		memcpy(h->iv, op->u.crypto.iv, iv_len);
		bufs[n++] = (struct vq_buf){ h->iv, iv_len, false };
	}
	if (aad_len)
		bufs[n++] = (struct vq_buf){ aad_b, (uint32_t)aad_len, false };
	size_t src_len = len + (s->svc == ATX_SVC_AEAD && s->dir == ATX_DECRYPT ? tag : 0);
	if (src_len)
		bufs[n++] = (struct vq_buf){ src_b, (uint32_t)src_len, false };

	if (s->svc != ATX_SVC_HASH && s->svc != ATX_SVC_MAC) {
		size_t dst_len = len + (s->svc == ATX_SVC_AEAD && s->dir == ATX_ENCRYPT ? tag : 0);

		if (dst_direct) {
			dst_b = diov[0].iov_base;       /* nothing to copy out */
		} else {
			dst_b = b + al64(aad_len) + al64(len + tag);
			sl->dst_b = dst_b;
		}
		sl->dst_len = (uint32_t)len;
		if (s->svc == ATX_SVC_AEAD && s->dir == ATX_ENCRYPT)
			sl->tag_len = (uint32_t)tag;
		if (dst_len)
			bufs[n++] = (struct vq_buf){ dst_b, (uint32_t)dst_len, true };
	}
	if (s->svc == ATX_SVC_HASH || s->svc == ATX_SVC_MAC || s->svc == ATX_SVC_CHAIN) {
		sl->hash_len = s->digest_len;
		/* verify: the device computes, we compare (in constant time) */
		sl->verify = s->dir == ATX_DECRYPT;
		sl->copy_dst_if_ok = s->svc == ATX_SVC_CHAIN && sl->verify;
		/*
		 * DPDK verifies a HASH_THEN_CIPHER chain itself, reading the
		 * expected MAC from the (device-writable) result buffer, and
		 * fails a mismatch with VIRTIO_CRYPTO_ERR.
		 */
		sl->dev_verifies = sl->copy_dst_if_ok && !d->have_config;
		if (sl->dev_verifies)
			memcpy(h->hash, op->u.crypto.digest, s->digest_len);
		bufs[n++] = (struct vq_buf){ h->hash, s->digest_len, true };
	}
	bufs[n++] = (struct vq_buf){ &h->status, 1, true };
	if (memcmp(&h->req, r, sizeof(*r)))
		h->req = *r;
	/* src in, aad in, dst out: each a buffer copied through the arena */
	*bounced = (!src_direct && len) + (aad_len != 0) + (sl->dst_b != NULL);
	return (int)n;
}

int atx__vc_finish(struct vc_queue *q, unsigned slot, struct atx_op *op)
{
	struct vc_hdr *h = &q->hdrs[slot];
	struct vc_slot *sl = &q->slots[slot];
	int status = atx__vc_status_errno(__atomic_load_n(&h->status, __ATOMIC_ACQUIRE));

	if (status)
		return status == -EIO && sl->dev_verifies ? -EBADMSG : status;
	if (sl->hash_len) {
		if (sl->verify) {
			if (CRYPTO_memcmp(h->hash, op->u.crypto.digest, sl->hash_len))
				return -EBADMSG;    /* and a chain's plaintext is not copied out */
		} else {
			memcpy(op->u.crypto.digest, h->hash, sl->hash_len);
		}
	}
	if (sl->dst_b) {
		scatter(op->u.crypto.dst, op->u.crypto.dst_cnt, sl->dst_b, sl->dst_len);
		if (sl->tag_len)
			memcpy(op->u.crypto.digest, sl->dst_b + sl->dst_len, sl->tag_len);
	}
	return 0;
}
