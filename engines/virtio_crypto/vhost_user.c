/* SPDX-License-Identifier: MIT */
/*
 * vhost_user.c - the vhost-user FRONTEND transport (QEMU
 * docs/interop/vhost-user.rst): we are the driver, the backend
 * (atx-vcryptod, DPDK's vhost-crypto) is the device.
 *
 * Every message is a header plus payload on a unix stream socket, fds
 * ride as SCM_RIGHTS.  Sends continue after EINTR and partial writes;
 * every receive is bounded by poll() with a timeout, so a backend that
 * dies or stalls gives -EIO / -ETIMEDOUT instead of a hang.
 *
 * Queue notifications are eventfds: kick (we write, backend reads) and
 * call (backend writes, the core's io_uring watches it for us).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "virtio_crypto/transport.h"
#include "virtio_crypto/vhost_user_proto.h"
#include "virtio_crypto/virtio_crypto_proto.h"

#define VU_MAX_QUEUES 64
#define VU_TIMEOUT_MS 5000

struct vu {
	struct vc_transport t;
	char path[108];
	int sock;
	bool dead;
	uint64_t features;              /* offered by the backend */
	uint64_t acked;                 /* negotiated */
	uint64_t protocol;              /* negotiated protocol features */
	uint64_t protocol_mask;         /* protocol features we may accept */
	int kick[VU_MAX_QUEUES];
	int call[VU_MAX_QUEUES];
};

static int vu_connect(const char *path, int timeout_ms);

static inline struct vu *to_vu(struct vc_transport *t)
{
	return (struct vu *)t;
}

static int vu_send(struct vu *u, uint32_t req, uint32_t flags, const void *payload,
		   uint32_t size, const int *fds, unsigned nfds)
{
	struct vhost_user_header h = { req, VHOST_USER_VERSION | flags, size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, size } };
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} cm;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };

	if (u->dead)
		return -EIO;
	if (nfds) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	size_t left = sizeof(h) + size;
	while (left) {
		ssize_t n = sendmsg(u->sock, &msg, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = { u->sock, POLLOUT, 0 };
				if (poll(&p, 1, VU_TIMEOUT_MS) > 0)
					continue;
			}
			u->dead = true;
			return -EIO;
		}
		left -= (size_t)n;
		/* fds went with the first byte; continue with what is left */
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
		while (n > 0 && msg.msg_iovlen) {
			size_t take = (size_t)n < msg.msg_iov->iov_len ? (size_t)n : msg.msg_iov->iov_len;
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + take;
			msg.msg_iov->iov_len -= take;
			n -= (ssize_t)take;
			if (!msg.msg_iov->iov_len) {
				msg.msg_iov++;
				msg.msg_iovlen--;
			}
		}
	}
	return 0;
}

/* Read exactly @len bytes, each wait bounded by the timeout. */
static int vu_read_full(struct vu *u, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		struct pollfd pf = { u->sock, POLLIN, 0 };
		int r = poll(&pf, 1, VU_TIMEOUT_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			u->dead = true;
			return r == 0 ? -ETIMEDOUT : -EIO;
		}
		ssize_t n = recv(u->sock, p, len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			u->dead = true;
			return -EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Receive the reply to @req into @payload (at most @max bytes); returns its size or -errno. */
static int vu_recv(struct vu *u, uint32_t req, void *payload, size_t max)
{
	struct vhost_user_header h;
	char junk[64];
	int err = vu_read_full(u, &h, sizeof(h));

	if (err)
		return err;
	if (h.request != req || !(h.flags & VHOST_USER_REPLY_MASK) ||
	    h.size > sizeof(union vhost_user_payload)) {
		u->dead = true; /* out of sync: nothing sane can follow */
		return -EPROTO;
	}
	size_t take = h.size < max ? h.size : max;
	err = vu_read_full(u, payload, take);
	for (size_t rest = h.size - take; !err && rest; ) {
		size_t k = rest < sizeof(junk) ? rest : sizeof(junk);
		err = vu_read_full(u, junk, k);
		rest -= k;
	}
	return err ? err : (int)h.size;
}

/* A request without a natural reply: ask for an ack when REPLY_ACK is on. */
static int vu_request(struct vu *u, uint32_t req, const void *payload, uint32_t size,
		      const int *fds, unsigned nfds)
{
	bool ack = u->protocol & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	uint64_t v = 0;
	int err = vu_send(u, req, ack ? VHOST_USER_NEED_REPLY_MASK : 0, payload, size, fds, nfds);

	if (err || !ack)
		return err;
	err = vu_recv(u, req, &v, sizeof(v));
	if (err < 0)
		return err;
	return v ? -EIO : 0;
}

static int vu_get_u64(struct vu *u, uint32_t req, uint64_t *v)
{
	int err = vu_send(u, req, 0, NULL, 0, NULL, 0);

	if (err)
		return err;
	*v = 0;
	err = vu_recv(u, req, v, sizeof(*v));
	return err < 0 ? err : err != sizeof(*v) ? -EPROTO : 0;
}

static int vu_negotiate(struct vc_transport *t, uint64_t want, uint64_t *got)
{
	struct vu *u = to_vu(t);
	uint64_t f = u->features & want;

	/* keep PROTOCOL_FEATURES acked if we used it: rings then start disabled */
	f |= u->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	int err = vu_request(u, VHOST_USER_SET_FEATURES, &f, sizeof(f), NULL, 0);
	if (err)
		return err;
	u->acked = f;
	*got = f & want;
	return 0;
}

static int vu_map_memory(struct vc_transport *t, struct vc_arena *a)
{
	struct vu *u = to_vu(t);
	struct vhost_user_memory m;

	memset(&m, 0, sizeof(m));
	m.nregions = 1;
	m.regions[0].guest_phys_addr = (uint64_t)((int64_t)(uintptr_t)a->base + a->gpa_off);
	m.regions[0].memory_size = a->size;
	m.regions[0].userspace_addr = (uint64_t)(uintptr_t)a->base;
	m.regions[0].mmap_offset = 0;
	/* payload: header words plus the one region actually used */
	return vu_request(u, VHOST_USER_SET_MEM_TABLE, &m,
			  (uint32_t)(8 + sizeof(m.regions[0])), &a->fd, 1);
}

static int vu_handshake(struct vu *u, uint64_t protocol_mask);

/*
 * DPDK's vhost library offers PROTOCOL_F_CONFIG but serves GET_CONFIG
 * only for vDPA devices: for vhost-crypto it fails the message and drops
 * the connection.  Start over without CONFIG (the driver then assumes the
 * defaults such a backend serves) instead of failing the attach.
 */
static int vu_reconnect_without_config(struct vu *u)
{
	uint64_t acked = u->acked;
	int err;

	close(u->sock);
	u->dead = false;
	u->sock = vu_connect(u->path, VU_TIMEOUT_MS);
	if (u->sock < 0) {
		u->dead = true;
		return u->sock;
	}
	u->protocol_mask &= ~(1ull << VHOST_USER_PROTOCOL_F_CONFIG);
	err = vu_handshake(u, u->protocol_mask);
	if (!err)
		err = vu_request(u, VHOST_USER_SET_FEATURES, &acked, sizeof(acked), NULL, 0);
	if (err) {
		u->dead = true;
		return err;
	}
	return -EOPNOTSUPP;
}

static int vu_config_read(struct vc_transport *t, unsigned off, void *buf, unsigned len)
{
	struct vu *u = to_vu(t);
	struct vhost_user_config c;

	if (!(u->protocol & (1ull << VHOST_USER_PROTOCOL_F_CONFIG)))
		return -EOPNOTSUPP;
	if (len > VHOST_USER_MAX_CONFIG_SIZE)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	c.offset = off;
	c.size = len;
	int err = vu_send(u, VHOST_USER_GET_CONFIG, 0, &c, 12 + len, NULL, 0);
	if (!err)
		err = vu_recv(u, VHOST_USER_GET_CONFIG, &c, sizeof(c));
	if (err < 0)
		return vu_reconnect_without_config(u);
	if ((unsigned)err < 12 + len || c.size != len)
		return -EPROTO;
	memcpy(buf, c.region, len);
	return 0;
}

static int vu_setup_vring(struct vc_transport *t, const struct vc_vring_cfg *c)
{
	struct vu *u = to_vu(t);
	unsigned i = c->index;
	int err;

	if (i >= VU_MAX_QUEUES)
		return -EINVAL;
	if (u->kick[i] < 0)
		u->kick[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->call[i] < 0)
		u->call[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->kick[i] < 0 || u->call[i] < 0)
		return -errno;

	struct vhost_vring_state st = { i, c->num };
	err = vu_request(u, VHOST_USER_SET_VRING_NUM, &st, sizeof(st), NULL, 0);
	if (err)
		return err;
	st.num = 0;
	err = vu_request(u, VHOST_USER_SET_VRING_BASE, &st, sizeof(st), NULL, 0);
	if (err)
		return err;
	struct vhost_vring_addr ad = {
		.index = i,
		.desc_user_addr = (uint64_t)(uintptr_t)c->desc,
		.used_user_addr = (uint64_t)(uintptr_t)c->used,
		.avail_user_addr = (uint64_t)(uintptr_t)c->avail,
	};
	err = vu_request(u, VHOST_USER_SET_VRING_ADDR, &ad, sizeof(ad), NULL, 0);
	if (err)
		return err;
	uint64_t idx = i;
	err = vu_request(u, VHOST_USER_SET_VRING_CALL, &idx, sizeof(idx), &u->call[i], 1);
	if (err)
		return err;
	err = vu_request(u, VHOST_USER_SET_VRING_KICK, &idx, sizeof(idx), &u->kick[i], 1);
	if (err)
		return err;
	if (u->acked & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)) {
		st.num = 1;
		err = vu_request(u, VHOST_USER_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0);
	}
	return err;
}

static int vu_kick(struct vc_transport *t, unsigned index)
{
	struct vu *u = to_vu(t);
	uint64_t one = 1;

	/* an eventfd write of 8 bytes cannot be short; EAGAIN = counter saturated, already pending */
	if (write(u->kick[index], &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static int vu_call_fd(struct vc_transport *t, unsigned index)
{
	return index < VU_MAX_QUEUES ? to_vu(t)->call[index] : -1;
}

static int vu_hangup_fd(struct vc_transport *t)
{
	return to_vu(t)->sock;
}

static bool vu_alive(struct vc_transport *t)
{
	struct vu *u = to_vu(t);
	struct pollfd p = { u->sock, POLLIN, 0 };
	char c;

	if (u->dead)
		return false;
	/* the backend never speaks unprompted: readable means EOF or garbage */
	if (poll(&p, 1, 0) > 0 && ((p.revents & (POLLHUP | POLLERR)) ||
				   recv(u->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0))
		u->dead = true;
	return !u->dead;
}

/* DPDK answers with session_id >= 1, or a negative VIRTIO_CRYPTO status. */
static int vu_status_errno(int64_t st)
{
	switch (-st) {
	case VIRTIO_CRYPTO_NOTSUPP: return -EOPNOTSUPP;
	case VIRTIO_CRYPTO_NOSPC: return -ENOSPC;
	case VIRTIO_CRYPTO_INVSESS: return -EINVAL;
	case VIRTIO_CRYPTO_BADMSG: return -EBADMSG;
	default: return -EIO;
	}
}

static bool vu_session_msgs(struct vc_transport *t)
{
	return to_vu(t)->protocol & (1ull << VHOST_USER_PROTOCOL_F_CRYPTO_SESSION);
}

static int vu_session_create(struct vc_transport *t, const struct vc_session_msg *m,
			     uint64_t *id)
{
	struct vu *u = to_vu(t);
	struct vhost_user_crypto_session_param p;
	int err;

	if (!(u->protocol & (1ull << VHOST_USER_PROTOCOL_F_CRYPTO_SESSION)))
		return -EOPNOTSUPP;
	if (m->key_len > sizeof(p.cipher_key_buf) || m->auth_key_len > sizeof(p.auth_key_buf))
		return -EINVAL;
	memset(&p, 0, sizeof(p));
	p.op_code = m->op_code;
	p.op_type = (uint8_t)m->op_type;
	p.cipher_algo = m->cipher_algo;
	p.cipher_key_len = m->key_len;
	p.hash_algo = m->hash_algo;
	p.digest_len = m->digest_len;
	p.auth_key_len = m->auth_key_len;
	p.aad_len = m->aad_len;
	p.dir = (uint8_t)m->dir;
	p.hash_mode = (uint8_t)m->hash_mode;
	p.chaining_dir = (uint8_t)m->chain_order;
	if (m->key_len)
		memcpy(p.cipher_key_buf, m->key, m->key_len);
	if (m->auth_key_len)
		memcpy(p.auth_key_buf, m->auth_key, m->auth_key_len);
	err = vu_send(u, VHOST_USER_CREATE_CRYPTO_SESSION, 0, &p, sizeof(p), NULL, 0);
	if (!err) {
		err = vu_recv(u, VHOST_USER_CREATE_CRYPTO_SESSION, &p, sizeof(p));
		if (err >= 0)
			err = err < (int)sizeof(int64_t) ? -EPROTO :
			      p.session_id <= 0 ? vu_status_errno(p.session_id) : 0;
	}
	if (!err)
		*id = (uint64_t)p.session_id;
	/* the message carried keys: do not leave them on the stack */
	explicit_bzero(&p, sizeof(p));
	return err;
}

static int vu_session_destroy(struct vc_transport *t, uint64_t id)
{
	struct vu *u = to_vu(t);

	if (!(u->protocol & (1ull << VHOST_USER_PROTOCOL_F_CRYPTO_SESSION)))
		return -EOPNOTSUPP;
	/* DPDK sends no reply to CLOSE; ask for an ack only if REPLY_ACK is on */
	return vu_request(u, VHOST_USER_CLOSE_CRYPTO_SESSION, &id, sizeof(id), NULL, 0);
}

static void vu_close(struct vc_transport *t)
{
	struct vu *u = to_vu(t);

	for (unsigned i = 0; i < VU_MAX_QUEUES; i++) {
		if (u->kick[i] >= 0)
			close(u->kick[i]);
		if (u->call[i] >= 0)
			close(u->call[i]);
	}
	if (u->sock >= 0) {
		/*
		 * The core's io_uring polls this socket and holds a reference to
		 * it until the ring's (asynchronous) teardown: close() alone would
		 * leave the backend connected for a while, and a backend that
		 * serves one frontend at a time would refuse the next one.
		 */
		shutdown(u->sock, SHUT_RDWR);
		close(u->sock);
	}
	free(u);
}

static const struct vc_transport_ops vu_ops = {
	.name = "vhost-user",
	.negotiate = vu_negotiate,
	.map_memory = vu_map_memory,
	.config_read = vu_config_read,
	.setup_vring = vu_setup_vring,
	.kick = vu_kick,
	.call_fd = vu_call_fd,
	.hangup_fd = vu_hangup_fd,
	.alive = vu_alive,
	.session_msgs = vu_session_msgs,
	.session_create = vu_session_create,
	.session_destroy = vu_session_destroy,
	.close = vu_close,
};

static int vu_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec start, now;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		int err = -errno;
		close(fd);
		/* a backend that is still starting has no socket (yet) or no listener */
		if (err != -ENOENT && err != -ECONNREFUSED && err != -EINTR)
			return err;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (ms >= timeout_ms)
			return err;
		usleep(20000);
	}
}

/* GET_FEATURES, protocol features (within @protocol_mask), SET_OWNER. */
static int vu_handshake(struct vu *u, uint64_t protocol_mask)
{
	int err = vu_get_u64(u, VHOST_USER_GET_FEATURES, &u->features);

	if (err)
		return err;
	u->protocol = 0;
	if (u->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)) {
		uint64_t pf;

		err = vu_get_u64(u, VHOST_USER_GET_PROTOCOL_FEATURES, &pf);
		if (err)
			return err;
		pf &= ((1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
		       (1ull << VHOST_USER_PROTOCOL_F_CRYPTO_SESSION) |
		       (1ull << VHOST_USER_PROTOCOL_F_CONFIG) |
		       (1ull << VHOST_USER_PROTOCOL_F_MQ)) & protocol_mask;
		/* SET_PROTOCOL_FEATURES itself is never acked (REPLY_ACK not yet on) */
		err = vu_send(u, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, sizeof(pf), NULL, 0);
		if (err)
			return err;
		u->protocol = pf;
	}
	return vu_request(u, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0);
}

int atx__vhost_user_open(const char *path, int timeout_ms, uint64_t protocol_mask,
			 struct vc_transport **out)
{
	struct vu *u = calloc(1, sizeof(*u));
	int err;

	if (!u)
		return -ENOMEM;
	u->t.ops = &vu_ops;
	for (unsigned i = 0; i < VU_MAX_QUEUES; i++)
		u->kick[i] = u->call[i] = -1;
	if (strlen(path) >= sizeof(u->path)) {
		err = -ENAMETOOLONG;
		goto err_free;
	}
	strcpy(u->path, path);
	u->sock = vu_connect(path, timeout_ms);
	if (u->sock < 0) {
		err = u->sock;
		goto err_free;
	}
	u->protocol_mask = protocol_mask;
	err = vu_handshake(u, protocol_mask);
	if (err)
		goto err_close;
	*out = &u->t;
	return 0;

err_close:
	close(u->sock);
err_free:
	free(u);
	return err;
}
