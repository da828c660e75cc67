/* SPDX-License-Identifier: MIT */
/*
 * test_virtio_engine - the virtio-crypto engine against a real
 * atx-vcryptod (started per test on a private socket): the status table,
 * a small queue that must refuse with -EAGAIN and unblock, oversize
 * requests, and a short XTS 4 KiB queue-depth-128 benchmark whose figures
 * are printed (requests/s, driver-side CPU ns per request).
 *
 * The daemon is looked for next to the test binary (BUILD/tests/..) or at
 * $ATX_VCRYPTOD; without it the tests are skipped, loudly.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "atx.h"
#include "atx_engine.h"
#include "virtio_crypto/virtio_crypto.h"

/*
 * The core names the engine through a weak reference, which does not pull
 * engine.o out of libatx.a: reference it strongly so a static test binary
 * has the engine.
 */
extern const struct atx_engine_ops atx_virtio_engine_ops;
const void *volatile force_virtio_engine = &atx_virtio_engine_ops;

struct daemon {
	pid_t pid;
	char dir[64];
	char sock[128];
	char spec[192];
};

static char vcryptod[PATH_MAX];

static bool find_vcryptod(void)
{
	const char *env = getenv("ATX_VCRYPTOD");
	char self[PATH_MAX - 32];
	ssize_t n;

	if (env) {
		snprintf(vcryptod, sizeof(vcryptod), "%s", env);
		return access(vcryptod, X_OK) == 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return false;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return false;
	*slash = '\0';
	/* BUILD/tests/test_virtio_engine -> BUILD/atx-vcryptod */
	snprintf(vcryptod, sizeof(vcryptod), "%s/../atx-vcryptod", self);
	return access(vcryptod, X_OK) == 0;
}

static int daemon_start(struct daemon *d, const char *const *extra, int cpu)
{
	static unsigned seq;
	const char *argv[16] = { vcryptod, "--socket", NULL };
	unsigned i = 3;

	snprintf(d->dir, sizeof(d->dir), "/tmp/atx-vc-%d-%u", getpid(), seq++);
	mkdir(d->dir, 0700);
	snprintf(d->sock, sizeof(d->sock), "%s/vc.sock", d->dir);
	argv[2] = d->sock;
	for (; extra && *extra && i < 15; extra++)
		argv[i++] = *extra;
	argv[i] = NULL;
	d->pid = fork();
	if (d->pid < 0)
		return -errno;
	if (!d->pid) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		if (cpu >= 0) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		execv(vcryptod, (char *const *)argv);
		_exit(127);
	}
	for (int t = 0; t < 250; t++) {
		if (!access(d->sock, F_OK))
			break;
		usleep(20000);
	}
	snprintf(d->spec, sizeof(d->spec), "virtio:%s", d->sock);
	return access(d->sock, F_OK) ? -ETIMEDOUT : 0;
}

static void daemon_stop(struct daemon *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	unlink(d->sock);
	rmdir(d->dir);
}

static struct atx_ctx *ctx_with(const char *spec)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .engines = spec };
	struct atx_ctx *ctx = atx_ctx_new(&o);

	if (!ctx)
		fail_msg("atx_ctx_new(%s): %s", spec, strerror(errno));
	return ctx;
}

static struct atx_chan *virtio_chan(struct atx_ctx *ctx)
{
	for (unsigned i = 0; i < atx_chan_count(ctx); i++) {
		struct atx_chan_info ci;

		atx_chan_info(atx_chan_get(ctx, i), &ci);
		if (!strncmp(ci.name, "virtio0.q", 9))
			return atx_chan_get(ctx, i);
	}
	fail_msg("no virtio0 channel");
	return NULL;
}

static struct atx_session *xts_session(struct atx_ctx *ctx, const uint8_t *key, size_t klen)
{
	struct atx_session_params p = {
		.size = sizeof(p), .service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_XTS,
		.key = key, .key_len = klen, .engine = "virtio0",
	};
	struct atx_session *s = atx_session_new(ctx, &p);

	if (!s)
		fail_msg("virtio XTS session: %s", strerror(errno));
	return s;
}

static void xts_ref(const uint8_t *key, size_t klen, const uint8_t *iv, const uint8_t *in,
		    uint8_t *out, int len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l;

	assert_int_equal(EVP_EncryptInit_ex(c, klen == 64 ? EVP_aes_256_xts() : EVP_aes_128_xts(),
					    NULL, key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out, &l, in, len), 1);
	EVP_CIPHER_CTX_free(c);
}

/* ---- tests ---- */

static void test_status_table(void **state)
{
	assert_int_equal(atx__vc_status_errno(VIRTIO_CRYPTO_OK), 0);
	assert_int_equal(atx__vc_status_errno(VIRTIO_CRYPTO_ERR), -EIO);
	assert_int_equal(atx__vc_status_errno(VIRTIO_CRYPTO_BADMSG), -EBADMSG);
	assert_int_equal(atx__vc_status_errno(VIRTIO_CRYPTO_NOTSUPP), -EOPNOTSUPP);
	assert_int_equal(atx__vc_status_errno(VIRTIO_CRYPTO_INVSESS), -EINVAL);
	assert_int_equal(atx__vc_status_errno(VIRTIO_CRYPTO_NOSPC), -ENOSPC);
	assert_int_equal(atx__vc_status_errno(0xff), -EIO); /* the device wrote nothing */
}

struct rec {
	int status;
	int done;
};

static void rec_cb(struct atx_tx *tx, int status, void *arg)
{
	struct rec *r = arg;

	r->status = status;
	r->done++;
}

/* An 8-entry ring under 100 requests: -EAGAIN, unblock, every result right. */
static void test_small_ring_backpressure(void **state)
{
	static const char *const args[] = { "--delay-us", "100", NULL };
	struct daemon d;
	enum { N = 100, LEN = 4096 };
	static uint8_t src[N][LEN], dst[N][LEN], ref[LEN];
	uint8_t key[64], iv[N][16];
	struct rec r[N];
	char spec[256];

	if (!vcryptod[0] && !find_vcryptod())
		skip();
	assert_int_equal(daemon_start(&d, args, -1), 0);
	snprintf(spec, sizeof(spec), "%s?qsize=8", d.spec);
	struct atx_ctx *ctx = ctx_with(spec);
	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 3 + 1);
	struct atx_session *s = xts_session(ctx, key, 64);
	memset(r, 0, sizeof(r));
	for (int i = 0; i < N; i++) {
		struct atx_submit sub = { .flags = ATX_F_ACK, .cb = rec_cb, .cb_arg = &r[i] };

		for (int k = 0; k < LEN; k++)
			src[i][k] = (uint8_t)(k ^ i);
		memset(iv[i], i, 16);
		assert_non_null(atx_cipher(ctx, s, dst[i], src[i], LEN, iv[i], &sub));
	}
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].done, 1);
		assert_int_equal(r[i].status, 0);
		xts_ref(key, 64, iv[i], src[i], ref, LEN);
		assert_memory_equal(dst[i], ref, LEN);
	}
	struct atx_chan_stats st;
	atx_chan_stats(virtio_chan(ctx), &st);
	assert_int_equal(st.ops, N);
	assert_true(st.busy > 0);               /* the ring really filled */
	assert_int_equal(st.bounced, 2 * N);    /* src in + dst out, per request */
	assert_int_equal(st.inflight, 0);
	atx_session_free(s);
	atx_ctx_free(ctx);
	daemon_stop(&d);
}

/* A request larger than the slot's bounce area completes with -EMSGSIZE. */
static void test_oversize(void **state)
{
	struct daemon d;
	uint8_t key[32];
	static uint8_t big[1 << 18];
	struct rec r = { 0 };

	if (!vcryptod[0] && !find_vcryptod())
		skip();
	assert_int_equal(daemon_start(&d, NULL, -1), 0);
	struct atx_ctx *ctx = ctx_with(d.spec);
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(i + 7);
	struct atx_session *s = xts_session(ctx, key, 32);
	struct atx_submit sub = { .flags = ATX_F_ACK, .cb = rec_cb, .cb_arg = &r };
	assert_non_null(atx_cipher(ctx, s, big, big, sizeof(big), key, &sub));
	assert_true(atx_run(ctx, ATX_RUN_DEFAULT) >= 0);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.status, -EMSGSIZE);
	atx_session_free(s);
	atx_ctx_free(ctx);
	daemon_stop(&d);
}

/*
 * virtio-crypto has one IV per request and no data unit size: a pinned
 * XTS session with data units is declined at probe (EOPNOTSUPP), an
 * unpinned one goes to the software engine, and the same session without
 * data units still lands on the device.
 */
static void test_data_units_declined(void **state)
{
	struct daemon d;
	uint8_t key[64];
	int prio[8] = { 0 };

	if (!vcryptod[0] && !find_vcryptod())
		skip();
	assert_int_equal(daemon_start(&d, NULL, -1), 0);
	struct atx_ctx *ctx = ctx_with(d.spec);
	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 3 + 1);
	struct atx_session_params p = {
		.size = sizeof(p), .service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_XTS,
		.key = key, .key_len = 64, .engine = "virtio0",
		.data_unit_len = 4096, .data_unit_iv_step = 8,
	};
	int vi = -1;

	for (unsigned i = 0; i < atx_engine_count(ctx); i++)
		if (!strcmp(atx_engine_name(ctx, i), "virtio0"))
			vi = (int)i;
	assert_true(vi >= 0);
	errno = 0;
	assert_null(atx_session_new(ctx, &p));
	assert_int_equal(errno, EOPNOTSUPP);
	p.engine = NULL;
	assert_true(atx_probe(ctx, &p, prio, 8) >= 0);
	assert_int_equal(prio[vi], -EOPNOTSUPP);
	struct atx_session *s = atx_session_new(ctx, &p);
	assert_non_null(s);
	assert_string_equal(atx_session_engine(s), "soft");
	atx_session_free(s);
	s = xts_session(ctx, key, 64);  /* no data units: the device takes it */
	assert_string_equal(atx_session_engine(s), "virtio0");
	atx_session_free(s);
	atx_ctx_free(ctx);
	daemon_stop(&d);
}

/* ---- benchmark: XTS-256 4 KiB at queue depth 128 ---- */

struct bench {
	struct atx_ctx *ctx;
	struct atx_session *s;
	uint8_t (*buf)[4096];
	uint8_t iv[16];
	unsigned issued, done, total;
	int errors;
};

static void bench_cb(struct atx_tx *tx, int status, void *arg);

static void bench_submit(struct bench *b, unsigned slot)
{
	struct atx_submit sub = {
		.flags = ATX_F_ACK, .cb = bench_cb, .cb_arg = (void *)(uintptr_t)slot,
	};
	/* the callback carries the slot; the bench struct is global below */
	if (!atx_cipher(b->ctx, b->s, b->buf[slot], b->buf[slot], 4096, b->iv, &sub))
		b->errors++;
	else
		b->issued++;
}

static struct bench *the_bench;

static void bench_cb(struct atx_tx *tx, int status, void *arg)
{
	struct bench *b = the_bench;

	if (status)
		b->errors++;
	b->done++;
	if (b->issued < b->total)
		bench_submit(b, (unsigned)(uintptr_t)arg);
}

static double ts_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static void run_bench(bool zero_copy)
{
	static const char *const args[] = { NULL };
	const char *env = getenv("ATX_VIRTIO_BENCH_OPS");
	unsigned total = env ? (unsigned)strtoul(env, NULL, 0) : 20000;
	enum { QD = 128 };
	struct daemon d;
	struct bench b = { 0 };
	uint8_t key[64];
	cpu_set_t set;

	if (!vcryptod[0] && !find_vcryptod())
		skip();
	/* backend on the other core, driver on this one */
	assert_int_equal(daemon_start(&d, args, 1), 0);
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);

	char spec[256];
	snprintf(spec, sizeof(spec), "%s%s", d.spec, zero_copy ? "?ubuf=1" : "");
	b.ctx = ctx_with(spec);
	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 5 + 3);
	b.s = xts_session(b.ctx, key, 64);
	b.buf = zero_copy ? atx__virtio_buf_alloc(virtio_chan(b.ctx), (size_t)QD * 4096) :
			    aligned_alloc(64, (size_t)QD * 4096);
	assert_non_null(b.buf);
	memset(b.buf, 0x5a, (size_t)QD * 4096);
	b.total = total;
	the_bench = &b;

	double w0 = ts_ns(CLOCK_MONOTONIC), c0 = ts_ns(CLOCK_THREAD_CPUTIME_ID);
	for (unsigned i = 0; i < QD && i < total; i++)
		bench_submit(&b, i);
	assert_true(atx_run(b.ctx, ATX_RUN_DEFAULT) >= 0);
	double w1 = ts_ns(CLOCK_MONOTONIC), c1 = ts_ns(CLOCK_THREAD_CPUTIME_ID);

	assert_int_equal(b.errors, 0);
	assert_int_equal(b.done, total);
	struct atx_chan_stats st;
	atx_chan_stats(virtio_chan(b.ctx), &st);
	struct vc_queue *q = atx_chan_priv(virtio_chan(b.ctx));
	printf("virtio bench (%s): aes-256-xts 4096 B, queue depth %d, %u requests: "
	       "%.0f req/s (%.2f GB/s), driver-side CPU %.0f ns/req, ring full %lu times, "
	       "%.3f kicks/req (%lu suppressed), %.3f wake-ups/req\n",
	       zero_copy ? "zero-copy" : "bounced", QD, total, total / ((w1 - w0) / 1e9), total * 4096.0 / (w1 - w0),
	       (c1 - c0) / total, (unsigned long)st.busy, (double)q->vq.kicks / total,
	       (unsigned long)q->vq.kicks_suppressed, (double)q->polls / total);
	assert_int_equal(st.bounced, zero_copy ? 0 : 2 * (uint64_t)total);
	atx_session_free(b.s);
	atx_ctx_free(b.ctx);
	if (!zero_copy)
		free(b.buf);
	daemon_stop(&d);
	CPU_ZERO(&set);
	for (int i = 0; i < CPU_SETSIZE && i < 64; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void test_bench_xts_qd128(void **state)
{
	run_bench(false);
}

static void test_bench_xts_qd128_zero_copy(void **state)
{
	run_bench(true);
}

/* Buffers from the arena go to the device as they are: same bytes, no bounce. */
static void test_zero_copy_buffers(void **state)
{
	struct daemon d;
	uint8_t key[32], iv[16] = { 1, 2, 3 }, ref[8192];
	char spec[256];

	if (!vcryptod[0] && !find_vcryptod())
		skip();
	assert_int_equal(daemon_start(&d, NULL, -1), 0);
	snprintf(spec, sizeof(spec), "%s?ubuf=1", d.spec);
	struct atx_ctx *ctx = ctx_with(spec);
	struct atx_chan *chan = virtio_chan(ctx);
	uint8_t *src = atx__virtio_buf_alloc(chan, 8192), *dst = atx__virtio_buf_alloc(chan, 8192);
	assert_non_null(src);
	assert_non_null(dst);
	assert_null(atx__virtio_buf_alloc(chan, 2u << 20));
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 11 + 1);
	for (int i = 0; i < 8192; i++)
		src[i] = (uint8_t)(i * 13);
	struct atx_session *s = xts_session(ctx, key, 32);
	struct atx_tx *tx = atx_cipher(ctx, s, dst, src, 8192, iv, NULL);
	assert_non_null(tx);
	assert_int_equal(atx_wait(tx), 0);
	atx_tx_ack(tx);
	xts_ref(key, 32, iv, src, ref, 8192);
	assert_memory_equal(dst, ref, 8192);
	/* in place, in the arena */
	tx = atx_cipher(ctx, s, src, src, 8192, iv, NULL);
	assert_int_equal(atx_wait(tx), 0);
	atx_tx_ack(tx);
	assert_memory_equal(src, ref, 8192);
	struct atx_chan_stats st;
	atx_chan_stats(chan, &st);
	assert_int_equal(st.ops, 2);
	assert_int_equal(st.bounced, 0);
	atx_session_free(s);
	atx_ctx_free(ctx);
	daemon_stop(&d);
}

/* atx_buf_alloc: device arena memory first (no bounce), ordinary memory past it. */
static void test_buf_alloc_public(void **state)
{
	struct daemon d;
	uint8_t key[32], iv[16] = { 9 }, ref[8192], plain[8192];
	struct atx_chan_stats st0, st1, st2;

	if (!vcryptod[0] && !find_vcryptod())
		skip();
	assert_int_equal(daemon_start(&d, NULL, -1), 0);
	struct atx_ctx_opts o = { .size = sizeof(o), .engines = d.spec, .arena_size = 1u << 20 };
	struct atx_ctx *ctx = atx_ctx_new(&o);
	assert_non_null(ctx);
	struct atx_chan *chan = virtio_chan(ctx);
	uint8_t *a = atx_buf_alloc(ctx, 8192), *b = atx_buf_alloc(ctx, 8192);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal((uintptr_t)a % 64, 0);
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 7 + 3);
	for (int i = 0; i < 8192; i++)
		plain[i] = a[i] = (uint8_t)(i * 5 + 1);
	struct atx_session *s = xts_session(ctx, key, 32);
	assert_string_equal(atx_session_engine(s), "virtio0");
	xts_ref(key, 32, iv, plain, ref, 8192);

	atx_chan_stats(chan, &st0);
	struct atx_tx *tx = atx_cipher(ctx, s, b, a, 8192, iv, NULL);
	assert_int_equal(atx_wait(tx), 0);
	atx_tx_ack(tx);
	assert_memory_equal(b, ref, 8192);
	atx_chan_stats(chan, &st1);
	assert_int_equal(st1.bounced, st0.bounced);      /* arena memory: in place */
	/* ordinary memory is bounced, and counted */
	uint8_t out[8192];
	tx = atx_cipher(ctx, s, out, plain, 8192, iv, NULL);
	assert_int_equal(atx_wait(tx), 0);
	atx_tx_ack(tx);
	assert_memory_equal(out, ref, 8192);
	atx_chan_stats(chan, &st2);
	assert_true(st2.bounced > st1.bounced);

	/* The 1 MiB reserve: freeing gives the pages back; past it, plain memory still works. */
	atx_buf_free(ctx, a);
	uint8_t *c = atx_buf_alloc(ctx, 8192);
	assert_ptr_equal(c, a);
	uint8_t *big = atx_buf_alloc(ctx, 4u << 20);
	assert_non_null(big);
	memcpy(big, plain, 8192);
	tx = atx_cipher(ctx, s, big + 8192, big, 8192, iv, NULL);
	assert_int_equal(atx_wait(tx), 0);
	atx_tx_ack(tx);
	assert_memory_equal(big + 8192, ref, 8192);
	atx_buf_free(ctx, big);
	atx_buf_free(ctx, b);
	atx_buf_free(ctx, c);
	atx_session_free(s);
	atx_ctx_free(ctx);
	daemon_stop(&d);

	/* No device: aligned ordinary memory. */
	ctx = atx_ctx_new(NULL);
	a = atx_buf_alloc(ctx, 100);
	assert_non_null(a);
	assert_int_equal((uintptr_t)a % 64, 0);
	atx_buf_free(ctx, a);
	errno = 0;
	assert_null(atx_buf_alloc(ctx, 0));
	assert_int_equal(errno, EINVAL);
	atx_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_alloc_public),
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_small_ring_backpressure),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_data_units_declined),
		cmocka_unit_test(test_zero_copy_buffers),
		cmocka_unit_test(test_bench_xts_qd128),
		cmocka_unit_test(test_bench_xts_qd128_zero_copy),
	};

	signal(SIGPIPE, SIG_IGN);
	if (!find_vcryptod())
		fprintf(stderr, "test_virtio_engine: atx-vcryptod not found (%s): "
			"device tests skipped\n", vcryptod);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
