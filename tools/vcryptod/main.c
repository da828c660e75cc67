/* SPDX-License-Identifier: MIT */
/*
 * main.c - atx-vcryptod: the project's vhost-user virtio-crypto device.
 *
 *   atx-vcryptod --socket PATH [--queues N] [--queue-size N] [--fail-rate P]
 *                [--status S] [--delay-us N] [--exit-after N] [--verbose]
 *
 * Listens on a unix socket, serves one frontend at a time (a second one is
 * refused and closed), and implements the virtio-crypto device on OpenSSL:
 * data queues 0..N-1, the control queue N, plus DPDK-style
 * CREATE/CLOSE_CRYPTO_SESSION messages and GET_CONFIG for the
 * virtio_crypto_config.  This file is the main thread: option parsing,
 * signals, the socket and the vhost-user conversation.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "vcryptod.h"

struct vc_opts vc_opts = {
	.nqueues = 1,
	.max_queue_size = VRING_MAX_SIZE,
	.force_status = -1,
};

static void vlog(const char *fmt, va_list ap)
{
	char buf[512];
	struct timespec ts;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(buf, sizeof(buf), "atx-vcryptod[%d] %ld.%03ld: ", (int)getpid(),
		     (long)ts.tv_sec, ts.tv_nsec / 1000000);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	strcat(buf, "\n");
	/* one write per line so lines of several threads do not interleave */
	if (write(STDERR_FILENO, buf, strlen(buf)) < 0)
		return;
}

void vc_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void vc_dbg(const char *fmt, ...)
{
	va_list ap;

	if (!vc_opts.verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	got_signal = 1;

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* pipe full: a signal is already pending */
	}
	errno = saved;
}

/* ---- the device state of one connection ---- */

static struct vc_dev dev;

#define VC_FEATURES	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) | \
			 (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES))
#define VC_PROTOCOL_FEATURES ((1ull << VHOST_USER_PROTOCOL_F_MQ) | \
			      (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
			      (1ull << VHOST_USER_PROTOCOL_F_CRYPTO_SESSION) | \
			      (1ull << VHOST_USER_PROTOCOL_F_CONFIG))

static void vq_reset(struct vc_vq *vq, unsigned index)
{
	if (vq->kick_fd >= 0)
		close(vq->kick_fd);
	if (vq->call_fd >= 0)
		close(vq->call_fd);
	memset(vq, 0, sizeof(*vq));
	vq->index = index;
	vq->kick_fd = vq->call_fd = vq->stop_fd = -1;
	/* Rings start enabled: SET_VRING_ENABLE 0 still disables one.  (The
	 * spec starts them disabled once PROTOCOL_FEATURES is acked; serving
	 * early is harmless here and spares frontends that skip ENABLE.) */
	vq->enabled = true;
}

static void dev_stop_all(void)
{
	for (unsigned i = 0; i < dev.nvqs; i++)
		vc_vq_stop(&dev.vqs[i]);
}

static void dev_start_ready(void)
{
	for (unsigned i = 0; i < dev.nvqs; i++)
		vc_vq_start(&dev, &dev.vqs[i]);
}

/* Forget everything the frontend set up: on disconnect and RESET_OWNER. */
static void dev_reset(void)
{
	dev_stop_all();
	for (unsigned i = 0; i < dev.nvqs; i++)
		vq_reset(&dev.vqs[i], i);
	vc_mem_unmap(&dev.mem);
	vc_sessions_clear();
	dev.features = 0;
	dev.protocol_features = 0;
	dev.event_idx = false;
}

static int dev_init(void)
{
	dev.nvqs = vc_opts.nqueues + 1;
	dev.vqs = calloc(dev.nvqs, sizeof(*dev.vqs));
	if (!dev.vqs)
		return -ENOMEM;
	for (unsigned i = 0; i < dev.nvqs; i++) {
		dev.vqs[i].kick_fd = dev.vqs[i].call_fd = -1;
		vq_reset(&dev.vqs[i], i);
	}
	vc_fill_config(&dev.config, vc_opts.nqueues);
	return 0;
}

/* ---- vhost-user messages ---- */

struct msg {
	struct vhost_user_header hdr;
	union vhost_user_payload pl;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;
};

static void msg_close_fds(struct msg *m)
{
	for (unsigned i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

/* Take fd i out of the message (the caller now owns it). */
static int msg_take_fd(struct msg *m, unsigned i)
{
	int fd;

	if (i >= m->nfds)
		return -1;
	fd = m->fds[i];
	m->fds[i] = -1;
	return fd;
}

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR && !got_signal)
			continue;
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 0, or a negative errno: the connection must be dropped. */
static int msg_recv(int fd, struct msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = &m->hdr, .iov_len = sizeof(m->hdr) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	struct cmsghdr *c;
	ssize_t n;
	int rc;

	m->nfds = 0;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR && !got_signal);
	if (n <= 0)
		return n == 0 ? -ECONNRESET : -errno;
	/* fds first, so that every exit path below closes them */
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < k && m->nfds < VHOST_USER_MAX_FDS; i++)
			memcpy(&m->fds[m->nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		vc_log("vhost-user: too many fds in one message");
		rc = -EPROTO;
		goto err_close_fds;
	}
	if ((size_t)n < sizeof(m->hdr) &&
	    (rc = read_full(fd, (uint8_t *)&m->hdr + n, sizeof(m->hdr) - (size_t)n)) < 0)
		goto err_close_fds;
	if (m->hdr.size > sizeof(m->pl)) {
		vc_log("vhost-user: request %u with oversized payload %u", m->hdr.request, m->hdr.size);
		rc = -EPROTO;
		goto err_close_fds;
	}
	memset(&m->pl, 0, sizeof(m->pl));
	if (m->hdr.size && (rc = read_full(fd, &m->pl, m->hdr.size)) < 0)
		goto err_close_fds;
	return 0;

err_close_fds:
	msg_close_fds(m);
	return rc;
}

static int msg_send(int fd, uint32_t request, const void *payload, uint32_t size)
{
	struct vhost_user_header h = {
		.request = request,
		.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK,
		.size = size,
	};
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)payload, .iov_len = size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	ssize_t n;

	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)(sizeof(h) + size) ? 0 : -EIO;
}

static int reply_u64(int fd, const struct msg *m, uint64_t v)
{
	return msg_send(fd, m->hdr.request, &v, sizeof(v));
}

static bool payload_is(const struct msg *m, size_t size)
{
	if (m->hdr.size >= size)
		return true;
	vc_log("vhost-user: request %u payload %u bytes, need %zu", m->hdr.request, m->hdr.size, size);
	return false;
}

static struct vc_vq *msg_vq(const struct msg *m, uint32_t index)
{
	if (index < dev.nvqs)
		return &dev.vqs[index];
	vc_log("vhost-user: request %u for vring %u, device has %u", m->hdr.request, index, dev.nvqs);
	return NULL;
}

static int set_mem_table(struct msg *m)
{
	const struct vhost_user_memory *mem = &m->pl.memory;
	struct vc_mem nm = { 0 };

	if (!payload_is(m, 8) || mem->nregions == 0 || mem->nregions > VHOST_USER_MAX_RAM_SLOTS ||
	    !payload_is(m, 8 + mem->nregions * sizeof(mem->regions[0])) || m->nfds != mem->nregions) {
		vc_log("vhost-user: SET_MEM_TABLE with %u regions and %u fds refused",
		       mem->nregions, m->nfds);
		return -EINVAL;
	}
	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct vhost_user_memory_region *r = &mem->regions[i];
		struct vc_region *nr = &nm.r[i];
		struct stat stb;
		uint64_t len;
		void *p;

		/* mmap from 0 and skip mmap_offset: the offset need not be
		 * page aligned.  Reject sizes whose sum wraps. */
		if (r->memory_size == 0 || r->mmap_offset > UINT64_MAX - r->memory_size ||
		    r->guest_phys_addr > UINT64_MAX - r->memory_size ||
		    r->userspace_addr > UINT64_MAX - r->memory_size ||
		    (len = r->mmap_offset + r->memory_size) > SIZE_MAX / 2) {
			vc_log("vhost-user: memory region %u has impossible bounds", i);
			goto err_unmap;
		}
		if (fstat(m->fds[i], &stb) < 0) {
			vc_log("vhost-user: memory region %u: fstat: %s", i, strerror(errno));
			goto err_unmap;
		}
		/* a region reaching past the end of its file would SIGBUS us on
		 * first touch: refuse it (a frontend shrinking the file later
		 * still can; seal it with F_SEAL_SHRINK to rule that out) */
		if ((S_ISREG(stb.st_mode) || S_ISBLK(stb.st_mode)) && stb.st_size >= 0 &&
		    len > (uint64_t)stb.st_size) {
			vc_log("vhost-user: memory region %u ends at %llu, past its file's %lld bytes",
			       i, (unsigned long long)len, (long long)stb.st_size);
			goto err_unmap;
		}
		/* hugetlbfs wants whole huge pages, for munmap too (as DPDK) */
		if (stb.st_blksize > 4096 && !(stb.st_blksize & (stb.st_blksize - 1)))
			len = (len + (uint64_t)stb.st_blksize - 1) & ~((uint64_t)stb.st_blksize - 1);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fds[i], 0);
		if (p == MAP_FAILED) {
			vc_log("vhost-user: cannot map memory region %u (%llu bytes): %s", i,
			       (unsigned long long)len, strerror(errno));
			goto err_unmap;
		}
		nr->gpa = r->guest_phys_addr;
		nr->size = r->memory_size;
		nr->uva = r->userspace_addr;
		nr->map_base = p;
		nr->map_len = len;
		nr->host = (uint8_t *)p + r->mmap_offset;
		nm.nregions = i + 1;
		vc_dbg("memory region %u: gpa 0x%llx size 0x%llx uva 0x%llx", i,
		       (unsigned long long)nr->gpa, (unsigned long long)nr->size,
		       (unsigned long long)nr->uva);
	}
	dev_stop_all();
	vc_mem_unmap(&dev.mem);
	dev.mem = nm;
	dev_start_ready();
	return 0;

err_unmap:
	vc_mem_unmap(&nm);
	return -EINVAL;
}

/* DPDK's VhostUserCryptoSessionParam -> our session parameters.  Beyond
 * DPDK (cipher and chaining), op_code HASH/MAC/AEAD_CREATE_SESSION also
 * work: hash_algo carries the hash or MAC id, cipher_algo the AEAD id. */
static int64_t crypto_session_create(struct vhost_user_crypto_session_param *p)
{
	struct vc_sess_params sp;
	uint64_t id = 0;
	int st;

	memset(&sp, 0, sizeof(sp));
	if (p->cipher_key_len > VHOST_USER_CRYPTO_MAX_CIPHER_KEY_LENGTH ||
	    p->auth_key_len > VHOST_USER_CRYPTO_MAX_HMAC_KEY_LENGTH)
		return -VIRTIO_CRYPTO_BADMSG;
	sp.cipher_key = p->cipher_key_buf;
	sp.auth_key = p->auth_key_buf;
	sp.cipher_keylen = p->cipher_key_len;
	sp.auth_keylen = p->auth_key_len;
	sp.digest_len = p->digest_len;
	sp.aad_len = p->aad_len;
	sp.cipher_op = p->dir;
	switch (p->op_code) {
	case VIRTIO_CRYPTO_CIPHER_CREATE_SESSION:
		sp.cipher_algo = p->cipher_algo;
		if (p->op_type == VIRTIO_CRYPTO_SYM_OP_CIPHER) {
			sp.kind = VC_SESS_CIPHER;
		} else if (p->op_type == VIRTIO_CRYPTO_SYM_OP_ALGORITHM_CHAINING) {
			sp.kind = VC_SESS_CHAIN;
			sp.chain_order = p->chaining_dir;
			sp.hash_mode = p->hash_mode;
			sp.hash_algo = sp.mac_algo = p->hash_algo;
		} else {
			return -VIRTIO_CRYPTO_NOTSUPP;
		}
		break;
	case VIRTIO_CRYPTO_HASH_CREATE_SESSION:
		sp.kind = VC_SESS_HASH;
		sp.hash_algo = p->hash_algo;
		break;
	case VIRTIO_CRYPTO_MAC_CREATE_SESSION:
		sp.kind = VC_SESS_MAC;
		sp.mac_algo = p->hash_algo;
		break;
	case VIRTIO_CRYPTO_AEAD_CREATE_SESSION:
		sp.kind = VC_SESS_AEAD;
		sp.aead_algo = p->cipher_algo;
		break;
	default:
		return -VIRTIO_CRYPTO_NOTSUPP;
	}
	st = vc_session_create(&sp, &id);
	if (st != VIRTIO_CRYPTO_OK)
		return -st;
	return (int64_t)id;
}

/* Returns 0 to keep the connection, negative to drop it. */
static int handle_msg(int fd, struct msg *m)
{
	uint32_t req = m->hdr.request;
	/* Ack whenever asked, as DPDK does: a frontend sets NEED_REPLY only
	 * when it will wait for the ack (the spec ties it to REPLY_ACK, which
	 * a conforming frontend negotiated first anyway). */
	bool need_ack = m->hdr.flags & VHOST_USER_NEED_REPLY_MASK;
	bool replied = false;
	struct vc_vq *vq;
	int rc = 0;

	if ((m->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION) {
		vc_log("vhost-user: message version %u unsupported", m->hdr.flags & VHOST_USER_VERSION_MASK);
		return -EPROTO;
	}
	vc_dbg("vhost-user: request %u size %u fds %u", req, m->hdr.size, m->nfds);

	switch (req) {
	case VHOST_USER_GET_FEATURES:
		rc = reply_u64(fd, m, VC_FEATURES);
		replied = true;
		break;
	case VHOST_USER_SET_FEATURES:
		if (!payload_is(m, 8)) {
			rc = -EINVAL;
			break;
		}
		if (m->pl.u64 & ~VC_FEATURES)
			vc_log("vhost-user: frontend acked unoffered features 0x%llx; ignored",
			       (unsigned long long)(m->pl.u64 & ~VC_FEATURES));
		dev_stop_all();
		dev.features = m->pl.u64 & VC_FEATURES;
		dev.event_idx = dev.features & (1ull << VIRTIO_RING_F_EVENT_IDX);
		dev_start_ready();
		break;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		rc = reply_u64(fd, m, VC_PROTOCOL_FEATURES);
		replied = true;
		break;
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		if (!payload_is(m, 8)) {
			rc = -EINVAL;
			break;
		}
		dev.protocol_features = m->pl.u64 & VC_PROTOCOL_FEATURES;
		break;
	case VHOST_USER_SET_OWNER:
		break;
	case VHOST_USER_RESET_OWNER:
		dev_reset();
		break;
	case VHOST_USER_SET_MEM_TABLE:
		rc = set_mem_table(m);
		break;
	case VHOST_USER_GET_QUEUE_NUM:
		rc = reply_u64(fd, m, dev.nvqs);
		replied = true;
		break;
	case VHOST_USER_SET_VRING_NUM:
		if (!payload_is(m, sizeof(m->pl.state)) || !(vq = msg_vq(m, m->pl.state.index))) {
			rc = -EINVAL;
			break;
		}
		if (m->pl.state.num == 0 || m->pl.state.num > vc_opts.max_queue_size ||
		    (m->pl.state.num & (m->pl.state.num - 1))) {
			vc_log("vhost-user: vring %u size %u refused (power of two <= %u)",
			       vq->index, m->pl.state.num, vc_opts.max_queue_size);
			rc = -EINVAL;
			break;
		}
		vc_vq_stop(vq);
		vq->num = m->pl.state.num;
		vc_vq_start(&dev, vq);
		break;
	case VHOST_USER_SET_VRING_ADDR:
		if (!payload_is(m, sizeof(m->pl.addr)) || !(vq = msg_vq(m, m->pl.addr.index))) {
			rc = -EINVAL;
			break;
		}
		vc_vq_stop(vq);
		vq->desc_uva = m->pl.addr.desc_user_addr;
		vq->avail_uva = m->pl.addr.avail_user_addr;
		vq->used_uva = m->pl.addr.used_user_addr;
		vq->addr_set = true;
		vc_vq_start(&dev, vq);
		break;
	case VHOST_USER_SET_VRING_BASE:
		if (!payload_is(m, sizeof(m->pl.state)) || !(vq = msg_vq(m, m->pl.state.index))) {
			rc = -EINVAL;
			break;
		}
		vc_vq_stop(vq);
		vq->last_avail = (uint16_t)m->pl.state.num;
		vc_vq_start(&dev, vq);
		break;
	case VHOST_USER_GET_VRING_BASE: {
		struct vhost_vring_state st;

		if (!payload_is(m, sizeof(m->pl.state)) || !(vq = msg_vq(m, m->pl.state.index))) {
			rc = -EINVAL;
			break;
		}
		/* GET_VRING_BASE stops the ring (vhost-user.rst) until the
		 * next SET_VRING_KICK */
		vc_vq_stop(vq);
		vq->kick_set = false;
		st.index = vq->index;
		st.num = vq->last_avail;
		rc = msg_send(fd, req, &st, sizeof(st));
		replied = true;
		break;
	}
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR: {
		uint64_t v;
		int newfd = -1;

		if (!payload_is(m, 8)) {
			rc = -EINVAL;
			break;
		}
		v = m->pl.u64;
		if (!(vq = msg_vq(m, (uint32_t)(v & VHOST_USER_VRING_IDX_MASK)))) {
			rc = -EINVAL;
			break;
		}
		if (!(v & VHOST_USER_VRING_NOFD_MASK)) {
			if (m->nfds != 1) {
				vc_log("vhost-user: request %u without its fd", req);
				rc = -EINVAL;
				break;
			}
			newfd = msg_take_fd(m, 0);
		}
		if (req == VHOST_USER_SET_VRING_ERR) {
			/* we never report ring errors through it */
			if (newfd >= 0)
				close(newfd);
			break;
		}
		vc_vq_stop(vq);
		if (req == VHOST_USER_SET_VRING_KICK) {
			if (vq->kick_fd >= 0)
				close(vq->kick_fd);
			vq->kick_fd = newfd;
			vq->kick_set = true;
		} else {
			if (vq->call_fd >= 0)
				close(vq->call_fd);
			vq->call_fd = newfd;
		}
		vc_vq_start(&dev, vq);
		break;
	}
	case VHOST_USER_SET_VRING_ENABLE:
		if (!payload_is(m, sizeof(m->pl.state)) || !(vq = msg_vq(m, m->pl.state.index))) {
			rc = -EINVAL;
			break;
		}
		vc_vq_stop(vq);
		vq->enabled = m->pl.state.num != 0;
		vc_vq_start(&dev, vq);
		break;
	case VHOST_USER_GET_CONFIG: {
		struct vhost_user_config cfg;

		if (!payload_is(m, 12) || m->pl.config.size > VHOST_USER_MAX_CONFIG_SIZE ||
		    m->pl.config.offset > VHOST_USER_MAX_CONFIG_SIZE - m->pl.config.size) {
			vc_log("vhost-user: GET_CONFIG window out of range");
			rc = -EINVAL;
			break;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.offset = m->pl.config.offset;
		cfg.size = m->pl.config.size;
		cfg.flags = m->pl.config.flags;
		if (cfg.offset < sizeof(dev.config)) {
			uint32_t n = sizeof(dev.config) - cfg.offset;

			memcpy(cfg.region, (uint8_t *)&dev.config + cfg.offset, n < cfg.size ? n : cfg.size);
		}
		/* the reply carries as many payload bytes as were asked for */
		rc = msg_send(fd, req, &cfg, 12 + cfg.size);
		replied = true;
		break;
	}
	case VHOST_USER_SET_CONFIG:
		vc_log("vhost-user: SET_CONFIG refused: the crypto config is read-only");
		rc = -EPERM;
		break;
	case VHOST_USER_CREATE_CRYPTO_SESSION: {
		struct vhost_user_crypto_session_param p;

		if (!payload_is(m, sizeof(p))) {
			rc = -EINVAL;
			break;
		}
		memcpy(&p, &m->pl.crypto_session, sizeof(p));
		p.session_id = crypto_session_create(&p);
		vc_dbg("vhost-user: CREATE_CRYPTO_SESSION -> %lld", (long long)p.session_id);
		/* keys do not travel back */
		memset(p.cipher_key_buf, 0, sizeof(p.cipher_key_buf));
		memset(p.auth_key_buf, 0, sizeof(p.auth_key_buf));
		rc = msg_send(fd, req, &p, sizeof(p));
		OPENSSL_cleanse(&m->pl.crypto_session, sizeof(m->pl.crypto_session));
		replied = true;
		break;
	}
	case VHOST_USER_CLOSE_CRYPTO_SESSION:
		if (!payload_is(m, 8)) {
			rc = -EINVAL;
			break;
		}
		if (vc_session_destroy(m->pl.u64) != VIRTIO_CRYPTO_OK) {
			vc_dbg("vhost-user: CLOSE_CRYPTO_SESSION of unknown id %llu",
			       (unsigned long long)m->pl.u64);
			rc = -ENOENT;
		}
		break;
	default:
		vc_log("vhost-user: request %u not supported", req);
		rc = -EOPNOTSUPP;
		break;
	}
	msg_close_fds(m);
	/* A failed message is not fatal: the frontend hears of it through
	 * REPLY_ACK; only a broken socket ends the connection. */
	if (replied)
		return rc == -EIO ? -EIO : 0;
	if (need_ack && reply_u64(fd, m, rc ? 1 : 0) < 0)
		return -EIO;
	return 0;
}

/* ---- socket ---- */

/*
 * Bind to PATH.tmp, listen, then rename to PATH: the path appears only once
 * it accepts connections, so "the socket exists" means "ready" for scripts
 * and tests (a bare bind then listen leaves a window of ECONNREFUSED).
 */
static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char tmp[sizeof(sa.sun_path)];
	int fd, e;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		vc_log("socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, tmp);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a stale socket from a crashed run; a live daemon on it would lose
	 * its path, which is what a restart means */
	unlink(tmp);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0 ||
	    rename(tmp, path) < 0) {
		e = -errno;
		vc_log("cannot listen on %s: %s", path, strerror(-e));
		unlink(tmp);
		close(fd);
		return e;
	}
	return fd;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: atx-vcryptod --socket PATH [options]\n"
		"  --socket PATH     unix socket to listen on (stale file is replaced)\n"
		"  --queues N        data queues (default 1); the control queue is index N\n"
		"  --queue-size N    largest vring size accepted (default 32768)\n"
		"  --fail-rate P     answer VIRTIO_CRYPTO_ERR with probability P (0..1)\n"
		"  --status S        force status S on every data request\n"
		"  --delay-us N      delay every data request by N microseconds\n"
		"  --exit-after N    _exit (like a crash) after N data requests\n"
		"  --verbose         log every vhost-user message and failed request\n");
}

static int parse_opts(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "queues", required_argument, NULL, 'q' },
		{ "queue-size", required_argument, NULL, 'n' },
		{ "fail-rate", required_argument, NULL, 'f' },
		{ "status", required_argument, NULL, 'S' },
		{ "delay-us", required_argument, NULL, 'd' },
		{ "exit-after", required_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:q:n:f:S:d:x:vh", lo, NULL)) != -1) {
		char *end = NULL;
		unsigned long long v = 0;

		if (c != 's' && c != 'f' && c != 'v' && c != 'h' && c != '?') {
			errno = 0;
			v = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || optarg[0] == '-') {
				fprintf(stderr, "atx-vcryptod: bad number '%s'\n", optarg);
				return -EINVAL;
			}
		}
		switch (c) {
		case 's':
			vc_opts.socket_path = optarg;
			break;
		case 'q':
			if (v < 1 || v > 255) {
				fprintf(stderr, "atx-vcryptod: --queues must be 1..255\n");
				return -EINVAL;
			}
			vc_opts.nqueues = (unsigned)v;
			break;
		case 'n':
			if (v < 1 || v > VRING_MAX_SIZE || (v & (v - 1))) {
				fprintf(stderr, "atx-vcryptod: --queue-size must be a power of two <= 32768\n");
				return -EINVAL;
			}
			vc_opts.max_queue_size = (unsigned)v;
			break;
		case 'f':
			vc_opts.fail_rate = strtod(optarg, &end);
			if (end == optarg || *end || !(vc_opts.fail_rate >= 0 && vc_opts.fail_rate <= 1)) {
				fprintf(stderr, "atx-vcryptod: --fail-rate must be in 0..1\n");
				return -EINVAL;
			}
			break;
		case 'S':
			if (v > 255) {
				fprintf(stderr, "atx-vcryptod: --status must be 0..255\n");
				return -EINVAL;
			}
			vc_opts.force_status = (int)v;
			break;
		case 'd':
			if (v > 10000000) {
				fprintf(stderr, "atx-vcryptod: --delay-us at most 10 s\n");
				return -EINVAL;
			}
			vc_opts.delay_us = (unsigned)v;
			break;
		case 'x':
			vc_opts.exit_after = v;
			break;
		case 'v':
			vc_opts.verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc || !vc_opts.socket_path) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* Handle one message of the connected frontend; drop it on error or EOF. */
static void serve_one(int *cfd)
{
	struct msg m;
	int r = msg_recv(*cfd, &m);

	if (r == 0)
		r = handle_msg(*cfd, &m);
	if (r < 0) {
		vc_log("frontend disconnected (%s); device reset", strerror(-r));
		dev_reset();
		close(*cfd);
		*cfd = -1;
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	int lfd, cfd = -1, rc = 1;
	bool quit = false;

	if (parse_opts(argc, argv) < 0)
		return 2;
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		perror("atx-vcryptod: pipe2");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (dev_init() < 0)
		return 1;
	lfd = listen_on(vc_opts.socket_path);
	if (lfd < 0)
		return 1;
	vc_log("listening on %s (%u data queue%s, control queue %u)", vc_opts.socket_path,
	       vc_opts.nqueues, vc_opts.nqueues == 1 ? "" : "s", vc_opts.nqueues);

	while (!quit) {
		struct pollfd pfd[3] = {
			{ .fd = sig_pipe[0], .events = POLLIN },
			{ .fd = lfd, .events = POLLIN },
			{ .fd = cfd, .events = POLLIN },
		};

		if (poll(pfd, cfd >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			vc_log("poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents) {
			char sig = 0;

			if (read(sig_pipe[0], &sig, 1) == 1)
				vc_log("signal %d: shutting down", sig);
			quit = true;
			rc = 0;
			break;
		}
		if (cfd >= 0 && pfd[2].revents)
			serve_one(&cfd);
		if (pfd[1].revents & POLLIN) {
			int nfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			/* A frontend that reconnects closes its old socket first:
			 * drain what the old one still has (its EOF included)
			 * before deciding the new one is a second frontend. */
			while (nfd >= 0 && cfd >= 0) {
				struct pollfd cp = { .fd = cfd, .events = POLLIN };

				if (poll(&cp, 1, 0) <= 0 || !cp.revents)
					break;
				serve_one(&cfd);
			}
			if (nfd >= 0 && cfd >= 0) {
				vc_log("a second frontend connected; refused (one at a time)");
				close(nfd);
			} else if (nfd >= 0) {
				/* a frontend stalling inside a message is dropped
				 * rather than holding the main thread forever */
				struct timeval tv = { .tv_sec = 5 };

				setsockopt(nfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
				setsockopt(nfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
				vc_log("frontend connected");
				cfd = nfd;
			}
		}
	}
	dev_reset();
	if (cfd >= 0)
		close(cfd);
	close(lfd);
	unlink(vc_opts.socket_path);
	vc_log("stopped");
	return rc;
}
