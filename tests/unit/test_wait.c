/* SPDX-License-Identifier: MIT */
/*
 * How the loop thread waits for worker lanes: it spins a little before
 * sleeping when it has a CPU of its own, and sleeps at once when engine
 * threads outnumber the CPUs besides it (loop.c, loop_block).
 */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "atx.h"

static double secs(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned cpus(void)
{
	cpu_set_t set;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	return (unsigned)CPU_COUNT(&set);
}

/*
 * Copies of @len bytes one at a time on worker lanes only, each waited
 * for: the share of the wall time the loop thread spent on a CPU.
 */
static double loop_cpu_share(unsigned lanes, size_t len, unsigned n)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .flags = ATX_CTX_F_NO_INLINE,
				  .soft_lanes = lanes };
	struct atx_ctx *ctx = atx_ctx_new(&o);
	uint8_t *a = malloc(len), *b = malloc(len);
	double c0, w0, c, w;
	unsigned i;

	assert_non_null(ctx);
	assert_non_null(a);
	assert_non_null(b);
	memset(a, 0x5a, len);
	c0 = secs(CLOCK_THREAD_CPUTIME_ID);
	w0 = secs(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++) {
		struct atx_tx *tx;

		a[i % len] = (uint8_t)i;
		tx = atx_memcpy(ctx, b, a, len, NULL);
		assert_non_null(tx);
		assert_int_equal(atx_wait(tx), 0);
		assert_int_equal(b[i % len], (uint8_t)i);
		atx_tx_ack(tx);
	}
	c = secs(CLOCK_THREAD_CPUTIME_ID) - c0;
	w = secs(CLOCK_MONOTONIC) - w0;
	assert_memory_equal(a, b, len);
	atx_ctx_free(ctx);
	free(a);
	free(b);
	return c / w;
}

/*
 * As many worker lanes as CPUs: with the loop thread that is one thread
 * more than CPUs, and a loop thread that spun while a lane copies would
 * be on a CPU the whole time (each copy is well within the spin).  It
 * sleeps instead, so most of the wall time it is off the CPU.  A busy
 * machine only lowers the share (the wall clock runs on, the thread's
 * clock does not).
 */
static void test_sleeps_when_lanes_fill_the_cpus(void **state)
{
	double share = loop_cpu_share(cpus(), 256 << 10, 400);

	print_message("loop thread on a CPU %.0f%% of the time\n", share * 100);
	assert_true(share < 0.6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleeps_when_lanes_fill_the_cpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
