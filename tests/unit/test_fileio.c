/* SPDX-License-Identifier: MIT */
/* File reads and writes as chain steps on the context's io_uring. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <isa-l/crc.h>

#include "atx.h"

static int tmpfile_fd(char *path)
{
	int fd;

	strcpy(path, "/tmp/atx-fileio-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

/* read -> crc32c -> write, per block, as one graph; checked against pread + ISA-L. */
static void test_read_crc_write_chain(void **state)
{
	struct atx_ctx *ctx = atx_ctx_new(NULL);
	enum { NB = 64, BS = 4096 };
	static unsigned char data[NB * BS], buf[NB][BS], back[NB * BS];
	static uint32_t crc[NB];
	char p1[64], p2[64];
	int in = tmpfile_fd(p1), out = tmpfile_fd(p2);
	struct atx_tx *last[NB];
	unsigned i;

	assert_non_null(ctx);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 31 + (i >> 9));
	assert_int_equal(pwrite(in, data, sizeof(data), 0), (ssize_t)sizeof(data));
	for (i = 0; i < NB; i++) {
		struct atx_submit s = { 0 };
		struct atx_tx *r = atx_read(ctx, in, buf[i], BS, (uint64_t)i * BS, &s), *c;

		assert_non_null(r);
		s.depend_tx = r;
		c = atx_crc32c(ctx, &crc[i], buf[i], BS, 0, &s);
		assert_non_null(c);
		s.depend_tx = c;
		last[i] = atx_write(ctx, out, buf[i], BS, (uint64_t)(NB - 1 - i) * BS, &s);
		assert_non_null(last[i]);
	}
	for (i = 0; i < NB; i++) {
		assert_int_equal(atx_wait(last[i]), 0);
		atx_tx_ack(last[i]);
		assert_int_equal(crc[i], ~crc32_iscsi(data + (size_t)i * BS, BS, ~0u));
	}
	assert_int_equal(pread(out, back, sizeof(back), 0), (ssize_t)sizeof(back));
	for (i = 0; i < NB; i++)
		assert_memory_equal(back + (size_t)(NB - 1 - i) * BS, data + (size_t)i * BS, BS);
	close(in);
	close(out);
	atx_ctx_free(ctx);
}

/*
 * Registered buffers: reads and writes inside a registered region (and,
 * in the same run, outside it) move the right bytes; re-registering,
 * unregistering and bad arguments answer as documented.
 */
static void test_registered_buffers(void **state)
{
	struct atx_ctx *ctx = atx_ctx_new(NULL);
	enum { BS = 65536 };
	static unsigned char data[4 * BS], region[2 * BS], plain[BS], back[4 * BS];
	struct iovec iov = { region, sizeof(region) };
	char p1[64], p2[64];
	int in = tmpfile_fd(p1), out = tmpfile_fd(p2);
	struct atx_tx *t[4];
	unsigned i;

	assert_non_null(ctx);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + (i >> 11));
	assert_int_equal(pwrite(in, data, sizeof(data), 0), (ssize_t)sizeof(data));
	assert_int_equal(atx_ctx_register_buffers(ctx, &iov, 1), 0);
	/* Two reads into the region (one at an offset inside it), one into plain memory, one straddling. */
	t[0] = atx_read(ctx, in, region, BS, 0, NULL);
	t[1] = atx_read(ctx, in, region + BS + 4096, BS - 4096, BS, NULL);
	t[2] = atx_read(ctx, in, plain, BS, 2 * BS, NULL);
	for (i = 0; i < 3; i++) {
		assert_non_null(t[i]);
		assert_int_equal(atx_wait(t[i]), 0);
		atx_tx_ack(t[i]);
	}
	assert_memory_equal(region, data, BS);
	assert_memory_equal(region + BS + 4096, data + BS, BS - 4096);
	assert_memory_equal(plain, data + 2 * BS, BS);
	/* Writes from the region and from outside it. */
	t[0] = atx_write(ctx, out, region, BS, 0, NULL);
	t[1] = atx_write(ctx, out, region + BS + 4096, BS - 4096, BS, NULL);
	t[2] = atx_write(ctx, out, plain, BS, 2 * BS, NULL);
	for (i = 0; i < 3; i++) {
		assert_non_null(t[i]);
		assert_int_equal(atx_wait(t[i]), 0);
		atx_tx_ack(t[i]);
	}
	assert_int_equal(pread(out, back, 3 * BS - 4096, 0), (ssize_t)(3 * BS - 4096));
	assert_memory_equal(back, data, BS);
	assert_memory_equal(back + BS, data + BS, BS - 4096);
	/* Unregister, then plain I/O into the same memory still works. */
	assert_int_equal(atx_ctx_register_buffers(ctx, NULL, 0), 0);
	t[3] = atx_read(ctx, in, region, BS, 3 * BS, NULL);
	assert_non_null(t[3]);
	assert_int_equal(atx_wait(t[3]), 0);
	atx_tx_ack(t[3]);
	assert_memory_equal(region, data + 3 * BS, BS);
	/* Register again, then refusals. */
	assert_int_equal(atx_ctx_register_buffers(ctx, &iov, 1), 0);
	assert_int_equal(atx_ctx_register_buffers(ctx, NULL, 1), -EINVAL);
	assert_int_equal(atx_ctx_register_buffers(ctx, &iov, 65), -EINVAL);
	assert_int_equal(atx_ctx_register_buffers(NULL, &iov, 1), -EINVAL);
	t[0] = atx_read(ctx, in, region, BS, 0, NULL);
	assert_non_null(t[0]);
	assert_true(atx_issue_pending(ctx) >= 1);
	assert_int_equal(atx_ctx_register_buffers(ctx, &iov, 1), -EBUSY);  /* a read in flight */
	assert_int_equal(atx_wait(t[0]), 0);
	atx_tx_ack(t[0]);
	close(in);
	close(out);
	atx_ctx_free(ctx);      /* with buffers still registered */
}

static void test_read_past_eof_cancels(void **state)
{
	struct atx_ctx *ctx = atx_ctx_new(NULL);
	char path[64], buf[8192], dst[8192] = "untouched";
	int fd = tmpfile_fd(path);
	struct atx_submit s = { 0 };
	struct atx_tx *r, *c;

	assert_int_equal(pwrite(fd, "short", 5, 0), 5);
	r = atx_read(ctx, fd, buf, sizeof(buf), 0, &s);
	s.depend_tx = r;
	c = atx_memcpy(ctx, dst, buf, sizeof(buf), &s);
	assert_int_equal(atx_wait(c), -ECANCELED);
	assert_string_equal(dst, "untouched");
	/* exactly the 5 bytes that exist: fine */
	s.depend_tx = NULL;
	r = atx_read(ctx, fd, buf, 5, 0, &s);
	assert_int_equal(atx_wait(r), 0);
	assert_memory_equal(buf, "short", 5);
	atx_tx_ack(r);
	atx_tx_ack(c);
	close(fd);
	atx_ctx_free(ctx);
}

static void test_io_error_propagates(void **state)
{
	struct atx_ctx *ctx = atx_ctx_new(NULL);
	char buf[64] = "x";
	int fd = open("/dev/null", O_RDONLY);
	struct atx_tx *w;

	assert_true(fd >= 0);
	/* write to a read-only descriptor: EBADF from the kernel */
	w = atx_write(ctx, fd, buf, sizeof(buf), 0, NULL);
	assert_non_null(w);
	assert_int_equal(atx_wait(w), -EBADF);
	atx_tx_ack(w);
	errno = 0;
	assert_null(atx_read(ctx, -1, buf, sizeof(buf), 0, NULL));
	assert_int_equal(errno, EINVAL);
	close(fd);
	atx_ctx_free(ctx);
}

/* A pipe delivers short reads: the descriptor completes only when all bytes arrived. */
static void test_short_reads_completed(void **state)
{
	struct atx_ctx *ctx = atx_ctx_new(NULL);
	int p[2];
	char buf[300], want[300];
	struct atx_tx *r;
	int i;

	assert_int_equal(pipe(p), 0);
	for (i = 0; i < 300; i++)
		want[i] = (char)i;
	/* three writes of 100 bytes before the read even starts: reads may come back short */
	for (i = 0; i < 3; i++)
		assert_int_equal(write(p[1], want + i * 100, 100), 100);
	close(p[1]);
	r = atx_read(ctx, p[0], buf, sizeof(buf), 0, NULL);
	assert_non_null(r);
	assert_int_equal(atx_wait(r), 0);
	assert_memory_equal(buf, want, sizeof(want));
	atx_tx_ack(r);
	close(p[0]);
	atx_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_crc_write_chain),
		cmocka_unit_test(test_registered_buffers),
		cmocka_unit_test(test_read_past_eof_cancels),
		cmocka_unit_test(test_io_error_propagates),
		cmocka_unit_test(test_short_reads_completed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
