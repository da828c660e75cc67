/* SPDX-License-Identifier: MIT */
/*
 * vcryptod.h - inside atx-vcryptod, the project's vhost-user virtio-crypto
 * device.  main.c owns the socket and the vhost-user conversation,
 * vring.c the guest memory map, the split rings and the queue threads,
 * request.c the parsing of control and data requests, session.c the
 * session table and the OpenSSL work.
 *
 * Threads: the main thread handles vhost-user messages and is the only one
 * that changes memory maps and ring setup, and only while every queue
 * thread is stopped.  Each virtqueue (data queues and the control queue)
 * has one thread while it runs.  Sessions are shared: see session.c.
 */
#ifndef ATX_VCRYPTOD_H
#define ATX_VCRYPTOD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "virtio_crypto/vhost_user_proto.h"
#include "virtio_crypto/virtio_crypto_proto.h"

/* Options and device-wide settings; read-only once the socket listens. */
struct vc_opts {
	const char *socket_path;
	unsigned nqueues;		/* data queues; the control queue is index nqueues */
	unsigned max_queue_size;	/* largest SET_VRING_NUM accepted */
	double fail_rate;		/* probability of answering ERR */
	int force_status;		/* -1, or the status every data request gets */
	unsigned delay_us;		/* per data request */
	uint64_t exit_after;		/* 0, or _exit after this many data requests */
	bool verbose;
};
extern struct vc_opts vc_opts;

void vc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vc_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Largest src/dst of one request; advertised as config.max_size. */
#define VC_MAX_DATA	(1u << 20)
#define VC_MAX_AAD	65536u
#define VC_MAX_IV	64u
#define VC_MAX_DIGEST	64u
#define VC_MAX_CIPHER_KEY 64u
#define VC_MAX_AUTH_KEY	512u
#define VC_MAX_SESSIONS	4096u
/* A main-table chain (<= queue size) may end in one indirect table
 * (<= VRING_MAX_SIZE entries). */
#define VC_MAX_SEGS	(2u * VRING_MAX_SIZE)

/* ---- guest memory (vring.c) ---- */
struct vc_region {
	uint64_t gpa;		/* guest-physical start */
	uint64_t size;
	uint64_t uva;		/* frontend's virtual start */
	uint8_t *host;		/* our mapping of gpa */
	void *map_base;		/* what to munmap */
	size_t map_len;
};

struct vc_mem {
	unsigned nregions;
	struct vc_region r[VHOST_USER_MAX_RAM_SLOTS];
};

/* Translate [addr, addr+len) to a host pointer, or NULL if any byte of it
 * lies outside one region.  by_uva selects frontend-virtual addresses. */
void *vc_mem_xlate(const struct vc_mem *m, uint64_t addr, uint64_t len, bool by_uva);
void vc_mem_unmap(struct vc_mem *m);

/* ---- virtqueues (vring.c) ---- */
struct vc_vq {
	unsigned index;
	/* set up by vhost-user messages (main thread, queue stopped) */
	uint32_t num;
	bool addr_set;
	uint64_t desc_uva, avail_uva, used_uva;
	uint16_t last_avail;
	int kick_fd;		/* -1: none yet */
	bool kick_set;		/* SET_VRING_KICK seen (possibly NOFD: poll) */
	int call_fd;		/* -1: never signal */
	bool enabled;
	/* runtime: valid while running */
	bool running;
	bool stop;		/* set by the main thread, read by the queue thread */
	pthread_t thread;
	int stop_fd;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

struct vc_dev {
	struct vc_mem mem;
	uint64_t features;		/* acked virtio features */
	uint64_t protocol_features;	/* acked protocol features */
	bool event_idx;
	unsigned nvqs;			/* nqueues + 1 */
	struct vc_vq *vqs;
	struct virtio_crypto_config config;
};

int vc_vq_start(struct vc_dev *dev, struct vc_vq *vq);
void vc_vq_stop(struct vc_vq *vq);
bool vc_vq_ready(const struct vc_dev *dev, const struct vc_vq *vq);

/* ---- per-thread scratch (request.c / session.c) ---- */
struct vc_seg {
	uint8_t *p;		/* NULL: address did not translate */
	uint32_t len;
};

struct vc_worker {
	unsigned qindex;
	unsigned rand_state;
	EVP_CIPHER_CTX *cctx;
	uint64_t cctx_sess;	/* session id the cipher ctx is keyed for, 0 none */
	int cctx_enc;
	EVP_MD_CTX *mdctx;
	EVP_MAC_CTX *macctx;
	uint64_t macctx_sess;
	uint8_t *in;		/* linearised readable part */
	uint8_t *out;		/* output before it is scattered */
	size_t in_cap, out_cap;
	struct vc_seg *rseg, *wseg;
	unsigned nr, nw;
	uint64_t rlen, wlen;
};

int vc_worker_init(struct vc_worker *w, unsigned qindex);
void vc_worker_fini(struct vc_worker *w);

/* A whole descriptor chain gathered into segments.  Returns the number of
 * bytes to report in used.len. */
uint32_t vc_handle_data(struct vc_dev *dev, struct vc_worker *w, bool chain_ok);
uint32_t vc_handle_ctrl(struct vc_dev *dev, struct vc_worker *w, bool chain_ok);

/* ---- sessions (session.c) ---- */
enum vc_sess_kind { VC_SESS_CIPHER = 1, VC_SESS_CHAIN, VC_SESS_HASH, VC_SESS_MAC, VC_SESS_AEAD };

struct vc_sess_params {
	enum vc_sess_kind kind;
	uint32_t cipher_algo;		/* CIPHER, CHAIN */
	uint32_t cipher_keylen;
	uint32_t cipher_op;		/* VIRTIO_CRYPTO_OP_* */
	const uint8_t *cipher_key;
	uint32_t chain_order;		/* CHAIN */
	uint32_t hash_mode;		/* CHAIN */
	uint32_t hash_algo;		/* HASH, or CHAIN with hash_mode PLAIN */
	uint32_t mac_algo;		/* MAC, or CHAIN with hash_mode AUTH */
	uint32_t digest_len;
	uint32_t auth_keylen;
	const uint8_t *auth_key;
	uint32_t aead_algo;		/* AEAD: key in cipher_key/cipher_keylen */
	uint32_t aad_len;
};

struct vc_session;

/* Returns a VIRTIO_CRYPTO_* status; *id set on OK. */
int vc_session_create(const struct vc_sess_params *p, uint64_t *id);
int vc_session_destroy(uint64_t id);
void vc_sessions_clear(void);

/* Look up under the table's read lock; vc_session_put drops it and must
 * be called after every vc_session_get, also when it returned NULL. */
const struct vc_session *vc_session_get(uint64_t id);
void vc_session_put(void);
enum vc_sess_kind vc_session_kind(const struct vc_session *s);

/* The transforms; each returns a VIRTIO_CRYPTO_* status. */
int vc_do_cipher(struct vc_worker *w, const struct vc_session *s, int enc,
		 const uint8_t *iv, uint32_t ivlen, const uint8_t *src, uint32_t len, uint8_t *dst);
int vc_do_digest(struct vc_worker *w, const struct vc_session *s, const uint8_t *aad, uint32_t aadlen,
		 const uint8_t *src, uint32_t len, uint8_t *out, uint32_t outlen);
int vc_do_aead(struct vc_worker *w, const struct vc_session *s, int enc,
	       const uint8_t *iv, uint32_t ivlen, const uint8_t *aad, uint32_t aadlen,
	       const uint8_t *src, uint32_t srclen, uint8_t *dst, uint32_t dstlen);
uint32_t vc_session_chain_order(const struct vc_session *s);

/* Bits for virtio_crypto_config (session.c knows what it implements). */
void vc_fill_config(struct virtio_crypto_config *cfg, unsigned nqueues);

#endif
