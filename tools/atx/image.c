/* SPDX-License-Identifier: MIT */
/*
 * image.c - `atx image`: encrypt, decrypt, verify and describe disk images
 * (docs/IMAGE.md).  Data sectors are AES-XTS with the plain64 tweak, so
 * the data region is what dm-crypt's aes-xts-plain64 produces; each
 * sector may carry a crc32c or an HMAC-SHA256 tag (the dm-integrity idea).
 *
 * The work runs as descriptor chains through libatx, one chain per chunk
 * of sectors, at most --queue-depth chunks in flight:
 *
 *   encrypt: read -> cipher (in place) -> tags -> write data
 *                                             \-> write tags
 *   decrypt: read data -> {tags || cipher (to a 2nd buffer)} -+-> join
 *            read tags --------------------------------------/
 *            join's callback compares the tags and only then submits the
 *            write of the plaintext (or refuses it).
 *   verify:  like decrypt without the cipher and the write.
 *
 * "cipher" is one descriptor for the whole chunk: an XTS session with data
 * units of one sector, the tweak advancing by the IV convention's step per
 * sector.  An engine that cannot split a request into data units (the
 * virtio-crypto engine) declines such a session; then the chunk gets one
 * cipher per sector, joined before the tags.  crc32c tags are one
 * atx_crc32c_blocks descriptor per chunk; HMAC-SHA256 tags one MAC per
 * sector (each is keyed over LE64(sector) || ciphertext).
 *
 * The library allows 16 parents per descriptor, so per-sector descriptors
 * are joined through a small tree of atx_trigger_callback() descriptors.
 * A failed parent cancels its dependents only after every parent settled,
 * so the join's completion means the chunk's buffers are quiet again.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <endian.h>
#include <linux/fs.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "atx.h"
#include "cmds.h"
#include "image_fmt.h"

/* image_bench.c: `atx image bench` */
int cmd_image_bench(int argc, char **argv, const char *self);

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
/* crc32c tags are written straight from the uint32_t the library fills. */
#error "atx image stores crc32c tags in host order; add a byte swap for big-endian hosts"
#endif

#define EXIT_OK     0
#define EXIT_VERIFY 1
#define EXIT_ERR    2

#define DEF_CHUNK   (256u << 10)
#define DEF_QD      8u
#define MAX_FANIN   16u         /* depend_tx + 15 deps (src/tx.c) */

enum img_mode { MODE_ENCRYPT, MODE_DECRYPT, MODE_VERIFY };

static const char *mode_name[] = { "encrypt", "decrypt", "verify" };
static const char *sub_name;            /* NULL until the subcommand is known */

/* ---- messages ---- */

static int err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int err(const char *fmt, ...)
{
	va_list ap;

	if (sub_name)
		fprintf(stderr, "atx: image %s: ", sub_name);
	else
		fputs("atx: image: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_ERR;
}

static const char *st_str(int status)
{
	return strerror(status < 0 ? -status : status);
}

/* ---- temporary output, removed on any failure (signals too) ---- */

static char tmp_path[PATH_MAX];
static volatile sig_atomic_t tmp_armed;

static void on_signal(int sig)
{
	if (tmp_armed)
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void signals_install(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
	struct sigaction sa;
	unsigned i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	/* Past RLIMIT_FSIZE a write fails with EFBIG and the normal error path cleans up. */
	signal(SIGXFSZ, SIG_IGN);
}

static int out_open(const char *path)
{
	int fd;

	if (snprintf(tmp_path, sizeof(tmp_path), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* No window where the file exists but a signal would not remove it. */
	sigset_t all, old;
	int saved;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	fd = mkstemp(tmp_path);
	saved = errno;
	if (fd >= 0)
		tmp_armed = 1;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return fd;
}

static void out_discard(int fd)
{
	if (fd >= 0)
		close(fd);
	if (tmp_armed) {
		tmp_armed = 0;
		unlink(tmp_path);
	}
}

static int out_commit(int fd, const char *path)
{
	if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS) {
		err("fsync %s: %s", tmp_path, strerror(errno));
		goto err_discard;
	}
	if (close(fd) < 0) {
		fd = -1;
		err("close %s: %s", tmp_path, strerror(errno));
		goto err_discard;
	}
	fd = -1;
	if (rename(tmp_path, path) < 0) {
		err("rename %s -> %s: %s", tmp_path, path, strerror(errno));
		goto err_discard;
	}
	tmp_armed = 0;
	return 0;

err_discard:
	out_discard(fd);
	return EXIT_ERR;
}

/* ---- keys ---- */

static int key_load(const char *path, uint8_t key[64], size_t *len)
{
	uint8_t buf[65];
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err("key file %s: %s", path, strerror(errno));
	while (got < sizeof(buf)) {
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err("key file %s: %s", path, strerror(errno));
			close(fd);
			OPENSSL_cleanse(buf, sizeof(buf));
			return EXIT_ERR;
		}
		if (n == 0)
			break;
		got += n;
	}
	close(fd);
	if (got != 32 && got != 64) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return err("key file %s: must hold exactly 32 (AES-128-XTS) or 64 (AES-256-XTS) raw bytes, not %s%zu",
			   path, got > 64 ? "more than " : "", got > 64 ? (size_t)64 : got);
	}
	memcpy(key, buf, got);
	*len = got;
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

/* ---- the job ---- */

struct img_job;

struct chunk {
	struct img_job *job;
	uint64_t sec;           /* first data sector */
	unsigned nsec;
	size_t plen;            /* plaintext bytes of this chunk */
	uint8_t *buf;           /* ciphertext (encrypt: in place) */
	uint8_t *out;           /* decrypt: plaintext */
	uint8_t *tags;          /* encrypt: computed; decrypt/verify: stored */
	uint8_t *calc;          /* decrypt/verify: computed */
	uint64_t *snum;         /* LE64 sector numbers, the HMAC's prefix */
	struct iovec *iov;      /* two per sector for the HMAC */
	struct atx_tx **txs;    /* scratch for the join tree */
	unsigned pending;       /* terminal descriptors still outstanding */
	bool busy;
};

struct img_job {
	enum img_mode mode;
	struct atx_ctx *ctx;
	struct atx_session *cipher;
	bool du;                /* cipher has data units: one request per chunk */
	struct atx_session *mac;
	struct img_hdr hdr;
	int in_fd;
	int out_fd;
	const char *in_path;
	const char *out_path;
	bool force;
	bool progress;
	unsigned spc;           /* sectors per chunk */
	unsigned qd;
	struct chunk *chunks;
	uint8_t *arena;         /* every chunk's data buffers, registered with the ring */
	size_t arena_len;
	unsigned inflight;
	uint64_t next_sec;
	uint64_t done_bytes;
	uint64_t total_bytes;
	uint64_t bad_sectors;
	bool stop;              /* a failure: submit nothing more */
	int error;              /* first I/O or library error (negative errno) */
	char error_msg[160];
	uint64_t t_start;
	uint64_t t_last_progress;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void job_fail(struct img_job *j, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void job_fail(struct img_job *j, int status, const char *fmt, ...)
{
	va_list ap;

	j->stop = true;
	/* The first error is the cause; later ones are mostly its -ECANCELED echoes. */
	if (j->error && !(j->error == -ECANCELED && status != -ECANCELED))
		return;
	j->error = status;
	va_start(ap, fmt);
	vsnprintf(j->error_msg, sizeof(j->error_msg), fmt, ap);
	va_end(ap);
}

static void chunk_settle(struct chunk *c)
{
	struct img_job *j = c->job;

	if (--c->pending)
		return;
	c->busy = false;
	j->inflight--;
	j->done_bytes += c->plen;
}

static void read_done(struct atx_tx *tx, int status, void *arg)
{
	struct chunk *c = arg;

	if (status == -ENODATA)
		job_fail(c->job, status, "%s: input ends early near sector %" PRIu64 " (truncated?)",
			 c->job->in_path, c->sec);
	else if (status)
		job_fail(c->job, status, "read %s: %s", c->job->in_path, st_str(status));
}

static void write_done(struct atx_tx *tx, int status, void *arg)
{
	struct chunk *c = arg;

	if (status)
		job_fail(c->job, status, "write %s: %s", c->job->out_path, st_str(status));
	chunk_settle(c);
}

/* Compare stored and computed tags; report every bad sector. */
static unsigned chunk_check(struct chunk *c)
{
	struct img_job *j = c->job;
	unsigned ts = j->hdr.tag_size, i, bad = 0;

	if (!ts)
		return 0;
	for (i = 0; i < c->nsec; i++) {
		if (CRYPTO_memcmp(c->tags + (size_t)i * ts, c->calc + (size_t)i * ts, ts)) {
			fprintf(stderr, "%ssector %" PRIu64 ": integrity mismatch\n",
				j->progress ? "\r\033[K" : "", c->sec + i);
			bad++;
		}
	}
	j->bad_sectors += bad;
	return bad;
}

/* decrypt/verify: every tag and cipher of the chunk settled. */
static void join_done(struct atx_tx *tx, int status, void *arg)
{
	struct chunk *c = arg;
	struct img_job *j = c->job;
	unsigned bad;

	if (status) {
		job_fail(j, status, "%s", status == -ECANCELED ? "a step of the chain failed"
							       : st_str(status));
		chunk_settle(c);
		return;
	}
	bad = chunk_check(c);
	if (j->mode == MODE_VERIFY || j->stop || (bad && !j->force)) {
		if (bad && !j->force && j->mode == MODE_DECRYPT)
			j->stop = true;
		chunk_settle(c);
		return;
	}
	/* The plaintext leaves only after its tags matched (or --force). */
	struct atx_submit ws = { .flags = ATX_F_ACK, .cb = write_done, .cb_arg = c };

	if (!atx_write(j->ctx, j->out_fd, c->out, c->plen, c->sec * j->hdr.sector_size, &ws)) {
		job_fail(j, -errno, "cannot queue a write: %s", strerror(errno));
		chunk_settle(c);
		return;
	}
	/* pending stays 1: write_done settles the chunk. */
}

/*
 * Reduce t[0..n) to one descriptor that completes when all of them did,
 * through trigger descriptors of at most MAX_FANIN parents each.
 */
static struct atx_tx *join(struct img_job *j, struct atx_tx **t, unsigned n,
			   atx_cb cb, void *arg)
{
	while (n > 1 || cb) {
		unsigned k = 0, g;

		for (g = 0; g < n; g += MAX_FANIN) {
			unsigned cnt = n - g < MAX_FANIN ? n - g : MAX_FANIN;
			bool last = n <= MAX_FANIN;
			struct atx_submit s = {
				.flags = last && cb ? ATX_F_ACK : 0,
				.depend_tx = t[g],
				.deps = t + g + 1,
				.ndeps = cnt - 1,
				.cb = last ? cb : NULL,
				.cb_arg = last ? arg : NULL,
			};

			t[k] = atx_trigger_callback(j->ctx, &s);
			if (!t[k])
				return NULL;
			k++;
		}
		n = k;
		if (cb && n == 1)
			break;
	}
	return t[0];
}

/*
 * The cipher step(s) of a chunk, each depending on @dep: one descriptor
 * over the chunk with data units, else one per sector into t[0..nsec).
 * Returns the number of descriptors in t, or -errno.
 */
static int chunk_cipher(struct img_job *j, struct chunk *c, uint8_t *dst, const uint8_t *src,
			struct atx_tx *dep, struct atx_tx **t)
{
	const struct img_hdr *h = &j->hdr;
	size_t ss = h->sector_size;
	struct atx_submit s = { .depend_tx = dep };
	uint8_t tweak[16];
	unsigned i;

	if (j->du) {
		/* The request's IV is the first sector's tweak; the session steps it. */
		img_tweak(tweak, img_iv_sector(h, c->sec));
		t[0] = atx_cipher(j->ctx, j->cipher, dst, src, (size_t)c->nsec * ss, tweak, &s);
		return t[0] ? 1 : -errno;
	}
	for (i = 0; i < c->nsec; i++) {
		img_tweak(tweak, img_iv_sector(h, c->sec + i));
		t[i] = atx_cipher(j->ctx, j->cipher, dst + i * ss, src + i * ss, ss, tweak, &s);
		if (!t[i])
			return -errno;
	}
	return (int)c->nsec;
}

/*
 * The integrity step(s) of a chunk over @data, after @dep (or, with @deps,
 * after per-sector parent deps[i] for sector i), into @out.  Returns the
 * number of descriptors put in t (0 without integrity), or -errno.
 */
static int chunk_tags(struct img_job *j, struct chunk *c, const uint8_t *data, uint8_t *out,
		      struct atx_tx *dep, struct atx_tx *const *deps, struct atx_tx **t)
{
	const struct img_hdr *h = &j->hdr;
	size_t ss = h->sector_size, ts = h->tag_size;
	unsigned i;

	switch (h->integrity) {
	case IMG_INTEG_CRC32C: {
		struct atx_submit s = { .depend_tx = dep };

		t[0] = atx_crc32c_blocks(j->ctx, (uint32_t *)out, data, (size_t)c->nsec * ss, ss, 0,
					 &s);
		return t[0] ? 1 : -errno;
	}
	case IMG_INTEG_HMAC_SHA256:
		for (i = 0; i < c->nsec; i++) {
			struct atx_submit s = { .depend_tx = deps ? deps[i] : dep };
			struct atx_crypto_op op = {
				.size = sizeof(op),
				.src = c->iov + 2 * i,
				.src_cnt = 2,
				.digest = out + i * ts,
			};

			c->snum[i] = htole64(c->sec + i);
			c->iov[2 * i] = (struct iovec){ &c->snum[i], 8 };
			c->iov[2 * i + 1] = (struct iovec){ (void *)(data + i * ss), ss };
			t[i] = atx_crypto(j->ctx, j->mac, &op, &s);
			if (!t[i])
				return -errno;
		}
		return (int)c->nsec;
	default:
		return 0;
	}
}

static int chunk_submit_encrypt(struct img_job *j, struct chunk *c)
{
	const struct img_hdr *h = &j->hdr;
	size_t ss = h->sector_size, ts = h->tag_size;
	struct atx_tx *rd, *last, **t = c->txs;
	int n, m;

	if (c->plen < (size_t)c->nsec * ss)
		memset(c->buf + c->plen, 0, (size_t)c->nsec * ss - c->plen);
	struct atx_submit rs = { .cb = read_done, .cb_arg = c };

	rd = atx_read(j->ctx, j->in_fd, c->buf, c->plen, c->sec * ss, &rs);
	if (!rd)
		return -errno;
	n = chunk_cipher(j, c, c->buf, c->buf, rd, t);
	if (n < 0)
		return n;
	if (h->integrity == IMG_INTEG_HMAC_SHA256 && n > 1) {
		/* Each sector's MAC waits for that sector's cipher only. */
		m = chunk_tags(j, c, c->buf, c->tags, NULL, t, t);
		if (m < 0)
			return m;
		n = m;
	} else {
		/* crc32c blocks cover the chunk: after all of its ciphers. */
		last = n > 1 ? join(j, t, (unsigned)n, NULL, NULL) : t[0];
		if (!last)
			return -errno;
		m = chunk_tags(j, c, c->buf, c->tags, last, NULL, t);
		if (m < 0)
			return m;
		n = m ? m : 1;
		if (!m)
			t[0] = last;
	}
	last = n > 1 ? join(j, t, (unsigned)n, NULL, NULL) : t[0];
	if (!last)
		return -errno;
	struct atx_submit ws = { .flags = ATX_F_ACK, .depend_tx = last, .cb = write_done, .cb_arg = c };

	c->pending = ts ? 2 : 1;
	if (!atx_write(j->ctx, j->out_fd, c->buf, c->nsec * ss, h->data_offset + c->sec * ss, &ws)) {
		c->pending = 0;
		return -errno;
	}
	if (ts && !atx_write(j->ctx, j->out_fd, c->tags, c->nsec * ts,
			     h->integ_offset + c->sec * ts, &ws)) {
		c->pending = 1;         /* the data write will settle the chunk */
		return -errno;
	}
	return 0;
}

static int chunk_submit_check(struct img_job *j, struct chunk *c)
{
	const struct img_hdr *h = &j->hdr;
	size_t ss = h->sector_size, ts = h->tag_size;
	struct atx_tx *rd, **t = c->txs;
	unsigned n = 0;
	int m;
	struct atx_submit rs = { .cb = read_done, .cb_arg = c };

	rd = atx_read(j->ctx, j->in_fd, c->buf, c->nsec * ss, h->data_offset + c->sec * ss, &rs);
	if (!rd)
		return -errno;
	if (ts) {
		t[n] = atx_read(j->ctx, j->in_fd, c->tags, c->nsec * ts,
				h->integ_offset + c->sec * ts, &rs);
		if (!t[n++])
			return -errno;
	}
	m = chunk_tags(j, c, c->buf, c->calc, rd, NULL, t + n);
	if (m < 0)
		return m;
	n += (unsigned)m;
	if (j->mode == MODE_DECRYPT) {
		m = chunk_cipher(j, c, c->out, c->buf, rd, t + n);
		if (m < 0)
			return m;
		n += (unsigned)m;
	}
	if (n == 0)             /* verify without integrity is refused earlier */
		return -EINVAL;
	c->pending = 1;
	if (!join(j, t, n, join_done, c)) {
		c->pending = 0;
		return -errno;
	}
	return 0;
}

static void progress_draw(struct img_job *j, bool final)
{
	uint64_t now = now_ns();
	double el, rate, pct, eta;
	char bar[31];
	unsigned w, i;

	if (!j->progress || (!final && now - j->t_last_progress < 100000000u))
		return;
	j->t_last_progress = now;
	if (final) {
		fputs("\r\033[K", stderr);
		return;
	}
	el = (now - j->t_start) / 1e9;
	rate = el > 0 ? j->done_bytes / el : 0;
	pct = j->total_bytes ? 100.0 * j->done_bytes / j->total_bytes : 100.0;
	eta = rate > 0 ? (j->total_bytes - j->done_bytes) / rate : 0;
	w = (unsigned)(pct * 30 / 100);
	for (i = 0; i < 30; i++)
		bar[i] = i < w ? '#' : '.';
	bar[30] = 0;
	fprintf(stderr, "\r[%s] %5.1f%%  %.1f/%.1f MiB  %.2f GB/s  ETA %u:%02u ", bar, pct,
		j->done_bytes / 1048576.0, j->total_bytes / 1048576.0, rate / 1e9,
		(unsigned)eta / 60, (unsigned)eta % 60);
	fflush(stderr);
}

/* aligned_alloc wants the size to be a multiple of the alignment. */
static void *alloc_aligned(size_t align, size_t size)
{
	return aligned_alloc(align, (size + align - 1) / align * align);
}

static int chunks_alloc(struct img_job *j)
{
	size_t ss = j->hdr.sector_size, ts = j->hdr.tag_size ? j->hdr.tag_size : 4;
	unsigned i;

	size_t clen = (size_t)j->spc * ss;
	unsigned per = j->mode == MODE_DECRYPT ? 2 : 1;

	j->chunks = calloc(j->qd, sizeof(*j->chunks));
	if (!j->chunks)
		return -ENOMEM;
	/* One allocation, so one registered region covers every data buffer. */
	j->arena_len = clen * per * j->qd;
	j->arena = alloc_aligned(4096, j->arena_len);
	if (!j->arena)
		return -ENOMEM;
	for (i = 0; i < j->qd; i++) {
		struct chunk *c = &j->chunks[i];

		c->job = j;
		c->buf = j->arena + clen * per * i;
		c->out = j->mode == MODE_DECRYPT ? c->buf + clen : NULL;
		c->tags = alloc_aligned(64, j->spc * ts);
		c->calc = alloc_aligned(64, j->spc * ts);
		c->snum = calloc(j->spc, sizeof(*c->snum));
		c->iov = calloc(2 * j->spc, sizeof(*c->iov));
		c->txs = calloc(2 * j->spc + 2, sizeof(*c->txs));
		if (!c->buf || (j->mode == MODE_DECRYPT && !c->out) || !c->tags || !c->calc ||
		    !c->snum || !c->iov || !c->txs)
			return -ENOMEM;
	}
	return 0;
}

static void chunks_free(struct img_job *j)
{
	unsigned i;

	if (!j->chunks)
		return;
	for (i = 0; i < j->qd; i++) {
		struct chunk *c = &j->chunks[i];

		free(c->tags);
		free(c->calc);
		free(c->snum);
		free(c->iov);
		free(c->txs);
	}
	free(j->chunks);
	j->chunks = NULL;
	/* Plaintext and ciphertext of the image: do not leave them in freed memory. */
	if (j->arena) {
		OPENSSL_cleanse(j->arena, j->arena_len);
		free(j->arena);
		j->arena = NULL;
	}
}

/* Drive the chains: keep up to qd chunks in flight until done or failed. */
static void job_run(struct img_job *j)
{
	const struct img_hdr *h = &j->hdr;
	unsigned slot = 0;
	int ret;

	j->t_start = now_ns();
	for (;;) {
		while (!j->stop && j->inflight < j->qd && j->next_sec < h->data_sectors) {
			struct chunk *c;

			while (j->chunks[slot].busy)
				slot = (slot + 1) % j->qd;
			c = &j->chunks[slot];
			c->busy = true;
			c->sec = j->next_sec;
			c->nsec = h->data_sectors - c->sec < j->spc ? h->data_sectors - c->sec : j->spc;
			c->plen = (size_t)c->nsec * h->sector_size;
			if (c->sec * h->sector_size + c->plen > h->plain_size)
				c->plen = h->plain_size - c->sec * h->sector_size;
			j->next_sec += c->nsec;
			j->inflight++;
			ret = j->mode == MODE_ENCRYPT ? chunk_submit_encrypt(j, c)
						      : chunk_submit_check(j, c);
			if (ret) {
				job_fail(j, ret, "cannot queue the chain: %s", st_str(ret));
				/* Whatever was queued drains in atx_run(DEFAULT) below. */
				if (!c->pending) {
					c->busy = false;
					j->inflight--;
				}
				break;
			}
			atx_issue_pending(j->ctx);
		}
		if (j->inflight == 0 && (j->stop || j->next_sec >= h->data_sectors))
			break;
		ret = atx_run(j->ctx, ATX_RUN_ONCE);
		if (ret < 0) {
			job_fail(j, ret, "event loop: %s", st_str(ret));
			break;
		}
		progress_draw(j, false);
	}
	/* Orphans of a failed submission (no terminal descriptor) finish here. */
	atx_run(j->ctx, ATX_RUN_DEFAULT);
	progress_draw(j, true);
}

/* ---- options ---- */

struct img_opts {
	enum img_mode mode;
	const char *in;
	const char *out;
	const char *key_file;
	const char *engine;
	unsigned sector_size;
	bool iv_large;
	enum img_integrity integ;
	unsigned lanes;
	unsigned qd;
	size_t chunk;
	bool quiet;
	bool force;
};

static void usage(FILE *f)
{
	fputs("usage: atx image encrypt -i PLAIN -o IMAGE --key-file KEY [options]\n"
	      "       atx image decrypt -i IMAGE -o PLAIN --key-file KEY [--force] [options]\n"
	      "       atx image verify  -i IMAGE [--key-file KEY] [options]\n"
	      "       atx image info    IMAGE\n"
	      "       atx image bench   [--size MiB] [--dir DIR] [--rounds N] (see atx image bench -h)\n"
	      "options:\n"
	      "  --key-file F        raw key: 64 bytes = AES-256-XTS, 32 = AES-128-XTS\n"
	      "  --sector-size N     4096 (default) or 512 (encrypt)\n"
	      "  --iv-large-sectors  IV counts sector-size units, not 512-byte units (encrypt)\n"
	      "  --integrity ALG     none, crc32c (default) or hmac-sha256 (encrypt)\n"
	      "  --engine NAME       crypto engine (soft, mb, virtio:SOCK, ...); default: best\n"
	      "  --lanes N           software worker lanes (0 = run inline; default 0)\n"
	      "  --queue-depth N     chunks in flight (default 8)\n"
	      "  --chunk-size BYTES  bytes per chunk (default 262144)\n"
	      "  --force             decrypt: write sectors that fail integrity (still exits 1)\n"
	      "  --quiet             no progress bar and no summary\n"
	      "exit: 0 ok, 1 integrity failure or wrong key, 2 usage or I/O error\n"
	      "format: docs/IMAGE.md\n", f);
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *v > max || s[0] == '-')
		return -1;
	return 0;
}

static int opts_parse(int argc, char **argv, struct img_opts *o)
{
	enum { O_KEYFILE = 256, O_SECTOR, O_IVLARGE, O_INTEG, O_ENGINE, O_LANES, O_QD, O_CHUNK,
	       O_QUIET, O_FORCE, O_KEY };
	static const struct option lo[] = {
		{ "key-file", required_argument, NULL, O_KEYFILE },
		{ "sector-size", required_argument, NULL, O_SECTOR },
		{ "iv-large-sectors", no_argument, NULL, O_IVLARGE },
		{ "integrity", required_argument, NULL, O_INTEG },
		{ "engine", required_argument, NULL, O_ENGINE },
		{ "lanes", required_argument, NULL, O_LANES },
		{ "queue-depth", required_argument, NULL, O_QD },
		{ "chunk-size", required_argument, NULL, O_CHUNK },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "force", no_argument, NULL, O_FORCE },
		{ "key", required_argument, NULL, O_KEY },
		{ "key-hex", required_argument, NULL, O_KEY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":i:o:K:k:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->in = optarg; break;
		case 'o': o->out = optarg; break;
		case O_KEYFILE: o->key_file = optarg; break;
		case O_SECTOR:
			if (parse_uint(optarg, 4096, &v) || (v != 512 && v != 4096))
				return err("--sector-size must be 512 or 4096");
			o->sector_size = v;
			break;
		case O_IVLARGE: o->iv_large = true; break;
		case O_INTEG:
			if (img_integrity_parse(optarg, &o->integ))
				return err("--integrity must be none, crc32c or hmac-sha256");
			break;
		case O_ENGINE: o->engine = optarg; break;
		case O_LANES:
			if (parse_uint(optarg, 32, &v))
				return err("--lanes must be 0..32");
			o->lanes = v;
			break;
		case O_QD:
			if (parse_uint(optarg, 256, &v) || v == 0)
				return err("--queue-depth must be 1..256");
			o->qd = v;
			break;
		case O_CHUNK:
			if (parse_uint(optarg, 16u << 20, &v) || v < 4096 || v % 4096)
				return err("--chunk-size must be a multiple of 4096, at most 16 MiB");
			o->chunk = v;
			break;
		case 'q': case O_QUIET: o->quiet = true; break;
		case O_FORCE: o->force = true; break;
		case 'K': case 'k': case O_KEY:
			/* A key in argv is visible in ps and in the shell history. */
			if (optarg)
				OPENSSL_cleanse(optarg, strlen(optarg));
			return err("refusing a key on the command line (visible to other users and kept in shell history); use --key-file");
		case 'h': usage(stdout); return -1;
		case ':': return err("option %s needs an argument", argv[optind - 1]);
		default: return err("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc && !o->in)
		o->in = argv[optind++];
	if (optind < argc)
		return err("unexpected argument %s", argv[optind]);
	return 0;
}

/* ---- commands ---- */

static int file_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	if (!S_ISREG(st.st_mode))
		return -ESPIPE;
	*size = st.st_size;
	return 0;
}

static int read_header(int fd, const char *path, struct img_hdr *h)
{
	uint8_t buf[IMG_HDR_LEN];
	const char *why;
	uint64_t size;
	ssize_t n;
	int ret;

	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return err("read %s: %s", path, strerror(errno));
	if (n < (ssize_t)sizeof(buf))
		return err("%s: too short to be an atx image (%zd bytes)", path, n);
	ret = img_hdr_decode(h, buf, sizeof(buf), &why);
	if (ret)
		return err("%s: %s", path, why);
	ret = file_size(fd, &size);
	if (ret)
		return err("%s: %s", path, strerror(-ret));
	if (size < img_file_size(h))
		return err("%s: truncated image: the header needs %" PRIu64 " bytes, the file has %" PRIu64,
			   path, img_file_size(h), size);
	return 0;
}

static int cmd_info_image(const struct img_opts *o)
{
	struct img_hdr h;
	uint64_t size = 0;
	int fd, ret;

	if (!o->in)
		return err("which image? atx image info IMAGE");
	fd = open(o->in, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err("%s: %s", o->in, strerror(errno));
	ret = read_header(fd, o->in, &h);
	file_size(fd, &size);
	close(fd);
	if (ret)
		return ret;
	printf("image:          %s\n", o->in);
	printf("format:         atx image v%u\n", h.version);
	printf("cipher:         %s, %u-bit key (AES-%u-XTS)\n", IMG_CIPHER_NAME, h.key_bytes * 8,
	       h.key_bytes * 4);
	printf("sector size:    %u\n", h.sector_size);
	printf("IV:             plain64, %s sector numbers%s\n",
	       h.flags & IMG_F_IV_LARGE_SECTORS ? (h.sector_size == 4096 ? "4096-byte" : "512-byte") : "512-byte",
	       h.flags & IMG_F_IV_LARGE_SECTORS ? " (iv-large-sectors)" : "");
	printf("data offset:    %" PRIu64 " bytes (%" PRIu64 " 512-byte sectors)\n", h.data_offset,
	       h.data_offset / 512);
	printf("data sectors:   %" PRIu64 " (%" PRIu64 " bytes)\n", h.data_sectors,
	       h.data_sectors * h.sector_size);
	printf("plaintext size: %" PRIu64 " bytes\n", h.plain_size);
	printf("integrity:      %s", img_integrity_name(h.integrity));
	if (h.tag_size)
		printf(", %u bytes per sector at offset %" PRIu64 " (%" PRIu64 " bytes)",
		       h.tag_size, h.integ_offset, h.integ_size);
	printf("\nfile size:      %" PRIu64 " bytes\n", size);
	printf("cryptsetup:     cryptsetup open --type plain --cipher aes-xts-plain64 --key-size %u"
	       " --key-file KEY --offset %" PRIu64 " --size %" PRIu64 " --sector-size %u%s %s NAME\n",
	       h.key_bytes * 8, h.data_offset / 512, h.data_sectors * h.sector_size / 512,
	       h.sector_size, h.flags & IMG_F_IV_LARGE_SECTORS ? " --iv-large-sectors" : "", o->in);
	return EXIT_OK;
}

static int ctx_open(const struct img_opts *o, unsigned pool, struct atx_ctx **ctxp,
		    const char **sess_engine)
{
	struct atx_ctx_opts co = {
		.size = sizeof(co),
		.pool_size = pool,
		.ring_entries = 256,
		.soft_lanes = o->lanes,
	};
	const char *spec = o->engine;
	struct atx_ctx *ctx;
	unsigned i, n;

	*sess_engine = NULL;
	if (spec && !strcmp(spec, "auto"))
		spec = NULL;
	ctx = atx_ctx_new(&co);
	if (!ctx)
		return err("cannot create a context: %s", strerror(errno));
	if (!spec)
		goto out;
	if (!strchr(spec, ':')) {
		n = atx_engine_count(ctx);
		for (i = 0; i < n; i++) {
			if (!strcmp(atx_engine_name(ctx, i), spec)) {
				*sess_engine = atx_engine_name(ctx, i);
				goto out;
			}
		}
	}
	/* Not built in: attach it. */
	atx_ctx_free(ctx);
	co.engines = spec;
	ctx = atx_ctx_new(&co);
	if (!ctx)
		return err("cannot attach engine %s: %s", spec, strerror(errno));
	n = atx_engine_count(ctx);
	if (strchr(spec, ':')) {
		*sess_engine = n ? atx_engine_name(ctx, n - 1) : NULL;
	} else {
		for (i = 0; i < n; i++)
			if (!strcmp(atx_engine_name(ctx, i), spec))
				*sess_engine = atx_engine_name(ctx, i);
	}
	if (!*sess_engine) {
		atx_ctx_free(ctx);
		return err("engine %s is not available", spec);
	}
out:
	*ctxp = ctx;
	return 0;
}

static int cmd_run(const struct img_opts *o)
{
	struct img_job j = { .mode = o->mode, .in_fd = -1, .out_fd = -1, .in_path = o->in,
			     .out_path = o->out };
	struct img_hdr *h = &j.hdr;
	uint8_t key[64], ikey[32], kcv[IMG_KCV_LEN], hdrbuf[IMG_HDR_BLOCK];
	size_t key_len = 0;
	const char *sess_engine = NULL, *engine_used = "-";
	char engines[64];
	uint64_t in_size = 0;
	struct stat in_st, out_st;
	int ret, rc = EXIT_ERR;

	if (!o->in)
		return err("no input: -i FILE");
	if (o->mode != MODE_VERIFY && !o->out)
		return err("no output: -o FILE");
	if (!o->key_file && o->mode != MODE_VERIFY)
		return err("no key: --key-file FILE (32 or 64 raw bytes)");
	j.in_fd = open(o->in, O_RDONLY | O_CLOEXEC);
	if (j.in_fd < 0)
		return err("%s: %s", o->in, strerror(errno));
	if (o->key_file && key_load(o->key_file, key, &key_len))
		goto out_close;

	if (o->mode == MODE_ENCRYPT) {
		ret = file_size(j.in_fd, &in_size);
		if (ret) {
			err("%s: %s", o->in, ret == -ESPIPE ? "input must be a regular file or a block device"
							    : strerror(-ret));
			goto out_key;
		}
		ret = img_hdr_init(h, in_size, o->sector_size, key_len, o->integ,
				   o->iv_large ? IMG_F_IV_LARGE_SECTORS : 0);
		if (ret) {
			err("invalid parameters");
			goto out_key;
		}
		if (RAND_bytes(h->salt, sizeof(h->salt)) != 1 || img_kcv(h, key, key_len, h->kcv)) {
			err("cannot derive the key check value");
			goto out_key;
		}
		if (in_size == 0) {
			err("%s: empty input", o->in);
			goto out_key;
		}
	} else {
		if (read_header(j.in_fd, o->in, h))
			goto out_key;
		if (key_len && key_len != h->key_bytes) {
			rc = EXIT_VERIFY;
			err("wrong key: the image needs a %u-byte key, the key file has %zu bytes",
			    h->key_bytes, key_len);
			goto out_key;
		}
		if (key_len) {
			if (img_kcv(h, key, key_len, kcv)) {
				err("cannot derive the key check value");
				goto out_key;
			}
			if (CRYPTO_memcmp(kcv, h->kcv, sizeof(kcv))) {
				rc = EXIT_VERIFY;
				err("wrong key: the key check value does not match (nothing was written)");
				goto out_key;
			}
		} else if (h->integrity == IMG_INTEG_HMAC_SHA256) {
			err("verifying HMAC-SHA256 tags needs the key: --key-file FILE");
			goto out_key;
		}
		if (o->mode == MODE_VERIFY && h->integrity == IMG_INTEG_NONE) {
			if (!o->quiet)
				printf("atx image verify: %s has no integrity area; header%s checked\n",
				       o->in, key_len ? " and key" : "");
			rc = EXIT_OK;
			goto out_key;
		}
	}

	if (o->out && stat(o->out, &out_st) == 0) {
		fstat(j.in_fd, &in_st);
		if (in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino) {
			err("output %s is the input: refusing to overwrite it", o->out);
			goto out_key;
		}
		/* The output is renamed into place: that would replace a device node. */
		if (!S_ISREG(out_st.st_mode)) {
			err("output %s exists and is not a regular file", o->out);
			goto out_key;
		}
	}

	j.spc = o->chunk / h->sector_size;
	j.qd = o->qd;
	j.force = o->force;
	j.progress = !o->quiet && isatty(STDERR_FILENO);
	j.total_bytes = h->plain_size;
	if (h->data_sectors < (uint64_t)j.spc * j.qd) {
		/* Small images: fewer, full chunks. */
		uint64_t need = (h->data_sectors + j.spc - 1) / j.spc;

		j.qd = need ? need : 1;
	}
	/* Descriptors per chunk: 2 reads, a cipher and a tag per sector, the join tree, 2 writes. */
	unsigned per_chunk = 2 * j.spc + (2 * j.spc + 2) / (MAX_FANIN - 1) + 8;

	if (ctx_open(o, j.qd * per_chunk + 64, &j.ctx, &sess_engine))
		goto out_key;
	if (key_len && o->mode != MODE_VERIFY) {
		struct atx_session_params sp = {
			.size = sizeof(sp),
			.service = ATX_SVC_CIPHER,
			.dir = o->mode == MODE_ENCRYPT ? ATX_ENCRYPT : ATX_DECRYPT,
			.cipher = ATX_CIPHER_AES_XTS,
			.key = key,
			.key_len = key_len,
			.engine = sess_engine,
			/* One request per chunk, one XTS data unit per sector. */
			.data_unit_len = h->sector_size,
			.data_unit_iv_step = img_iv_sector(h, 1),
		};

		/* ATX_IMAGE_PER_SECTOR=1: the per-sector path, for `atx image bench`. */
		j.cipher = getenv("ATX_IMAGE_PER_SECTOR") ? NULL : atx_session_new(j.ctx, &sp);
		if (!j.cipher && getenv("ATX_IMAGE_PER_SECTOR"))
			errno = EOPNOTSUPP;
		j.du = j.cipher != NULL;
		if (!j.cipher && errno == EOPNOTSUPP) {
			/* The engine has no data units (virtio-crypto): a request per sector. */
			sp.data_unit_len = 0;
			sp.data_unit_iv_step = 0;
			j.cipher = atx_session_new(j.ctx, &sp);
		}
		if (!j.cipher) {
			err("cannot create the AES-XTS session%s%s: %s", sess_engine ? " on " : "",
			    sess_engine ? sess_engine : "", strerror(errno));
			goto out_ctx;
		}
		engine_used = atx_session_engine(j.cipher);
	}
	if (h->integrity == IMG_INTEG_HMAC_SHA256) {
		struct atx_session_params mp = {
			.size = sizeof(mp),
			.service = ATX_SVC_MAC,
			.dir = ATX_ENCRYPT,     /* compute; the tags are compared here */
			.mac = ATX_MAC_HMAC_SHA256,
			.key = ikey,
			.key_len = sizeof(ikey),
			.digest_len = 32,
			.engine = sess_engine,
		};

		if (img_derive(h, key, key_len, IMG_LABEL_INTEG, ikey)) {
			err("cannot derive the integrity key");
			goto out_ctx;
		}
		j.mac = atx_session_new(j.ctx, &mp);
		OPENSSL_cleanse(ikey, sizeof(ikey));
		if (!j.mac) {
			err("cannot create the HMAC-SHA256 session: %s", strerror(errno));
			goto out_ctx;
		}
		if (!j.cipher) {
			engine_used = atx_session_engine(j.mac);
		} else if (strcmp(engine_used, atx_session_engine(j.mac))) {
			snprintf(engines, sizeof(engines), "%s (cipher) + %s (hmac)", engine_used,
				 atx_session_engine(j.mac));
			engine_used = engines;
		}
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (chunks_alloc(&j)) {
		err("out of memory for %u chunks of %u sectors", j.qd, j.spc);
		goto out_chunks;
	}
	/*
	 * Registered (fixed) buffers spare the kernel mapping the pages per
	 * read/write.  Optional: over RLIMIT_MEMLOCK or 1 GiB it just fails.
	 * ATX_IMAGE_NO_FIXED=1 leaves them out (for `atx image bench`).
	 */
	if (!getenv("ATX_IMAGE_NO_FIXED")) {
		struct iovec av = { j.arena, j.arena_len };

		atx_ctx_register_buffers(j.ctx, &av, 1);
	}

	if (o->out) {
		signals_install();
		j.out_fd = out_open(o->out);
		if (j.out_fd < 0) {
			err("cannot create a file next to %s: %s", o->out, strerror(errno));
			goto out_chunks;
		}
	}
	if (o->mode == MODE_ENCRYPT) {
		/* Header block, then the zero gap up to data_offset (a sparse hole). */
		img_hdr_encode(h, hdrbuf);
		if (pwrite(j.out_fd, hdrbuf, sizeof(hdrbuf), 0) != (ssize_t)sizeof(hdrbuf)) {
			err("write %s: %s", tmp_path, errno ? strerror(errno) : "short write");
			goto out_discard;
		}
		if (ftruncate(j.out_fd, img_file_size(h)) < 0) {
			err("%s: %s", tmp_path, strerror(errno));
			goto out_discard;
		}
	} else if (o->mode == MODE_DECRYPT && ftruncate(j.out_fd, h->plain_size) < 0) {
		err("%s: %s", tmp_path, strerror(errno));
		goto out_discard;
	}

	job_run(&j);
	double secs;

	if (j.error) {
		err("%s", j.error_msg);
		rc = EXIT_ERR;
		goto out_discard;
	}
	if (j.bad_sectors) {
		rc = EXIT_VERIFY;
		if (o->mode == MODE_DECRYPT && !o->force) {
			err("%" PRIu64 " sector%s failed integrity: refusing to write %s (--force writes them anyway)",
			    j.bad_sectors, j.bad_sectors == 1 ? "" : "s", o->out);
			goto out_discard;
		}
		err("%" PRIu64 " sector%s failed integrity", j.bad_sectors, j.bad_sectors == 1 ? "" : "s");
	} else {
		rc = EXIT_OK;
	}
	if (j.out_fd >= 0) {
		ret = out_commit(j.out_fd, o->out);
		j.out_fd = -1;
		if (ret) {
			rc = EXIT_ERR;
			goto out_chunks;
		}
	}
	/* The time includes the fsync and rename: the output is durable when we say so. */
	secs = (now_ns() - j.t_start) / 1e9;
	if (!o->quiet)
		printf("atx image %s: %.1f MiB in %.3f s, %.2f GB/s, engine %s, lanes %u, queue depth %u, "
		       "sector %u, integrity %s, %" PRIu64 " integrity error%s\n",
		       mode_name[o->mode], h->plain_size / 1048576.0, secs,
		       secs > 0 ? h->plain_size / secs / 1e9 : 0.0, engine_used, o->lanes, j.qd,
		       h->sector_size, img_integrity_name(h->integrity), j.bad_sectors,
		       j.bad_sectors == 1 ? "" : "s");
	goto out_chunks;

out_discard:
	out_discard(j.out_fd);
	j.out_fd = -1;
out_chunks:
	/* Drain before the buffers go: atx_ctx_free runs every outstanding descriptor. */
	if (j.cipher)
		atx_session_free(j.cipher);
	if (j.mac)
		atx_session_free(j.mac);
	atx_ctx_free(j.ctx);
	j.ctx = NULL;
	chunks_free(&j);
out_ctx:
	if (j.ctx) {
		if (j.cipher)
			atx_session_free(j.cipher);
		atx_ctx_free(j.ctx);
	}
out_key:
	OPENSSL_cleanse(key, sizeof(key));
out_close:
	close(j.in_fd);
	return rc;
}

int cmd_image(int argc, char **argv)
{
	struct img_opts o = {
		.sector_size = 4096,
		.integ = IMG_INTEG_CRC32C,
		.qd = DEF_QD,
		.chunk = DEF_CHUNK,
	};
	const char *sub = argc > 1 ? argv[1] : NULL;
	int ret;

	if (!sub || !strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		usage(sub ? stdout : stderr);
		return sub ? EXIT_OK : EXIT_ERR;
	}
	sub_name = sub;
	if (!strcmp(sub, "bench"))
		return cmd_image_bench(argc - 1, argv + 1, "/proc/self/exe");
	if (!strcmp(sub, "encrypt"))
		o.mode = MODE_ENCRYPT;
	else if (!strcmp(sub, "decrypt"))
		o.mode = MODE_DECRYPT;
	else if (!strcmp(sub, "verify"))
		o.mode = MODE_VERIFY;
	else if (strcmp(sub, "info")) {
		sub_name = NULL;
		return err("unknown subcommand %s (encrypt, decrypt, verify, info)", sub);
	}
	ret = opts_parse(argc - 1, argv + 1, &o);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (!strcmp(sub, "info"))
		return cmd_info_image(&o);
	return cmd_run(&o);
}
