/* SPDX-License-Identifier: MIT */
/*
 * bench.h - pieces of `atx bench` shared between its files: the peer
 * benchmark (bench_peer.c) and the plot launcher (bench_plot.c).
 */
#ifndef ATX_BENCH_H
#define ATX_BENCH_H

#include <stdbool.h>
#include <stddef.h>

/* One peer figure (dpdk-test-crypto-perf on one PMD) beside a configuration. */
struct bench_peer {
	char name[48];          /* "dpdk crypto_openssl" */
	bool ran;               /* false: see note */
	char note[96];          /* "dpdk-test-crypto-perf not installed", "unsupported", ... */
	double gbps;            /* GB/s (bytes, not bits) */
	double cycles_per_op;
	double mops;
};

/* How to run it; NULL: about 0.4 GB of payload, lcores 0 (main) and 1 (worker). */
struct bench_peer_how {
	unsigned long total_ops;        /* 0: about 0.4 GB of payload */
	int worker_cpu, main_cpu;       /* worker_cpu < 0: lcores 0 and 1 */
	unsigned timeout_s;             /* 0: 15 */
};

/*
 * Run dpdk-test-crypto-perf for the single crypto step @kind
 * ("cbc-enc", "gcm-enc", "hmac-sha256", "xts-enc") on @pmd ("openssl" or
 * "aesni_mb"), @bs bytes, burst @burst, out of place like atx where it
 * can (the note says when not).  Fills @out; returns 0 when the
 * peer ran, -ENOENT when not installed, -EOPNOTSUPP when it has no
 * matching test, -EIO when it failed (note says why).
 */
int bench_peer_dpdk(const char *kind, const char *pmd, size_t bs, unsigned burst,
		    const struct bench_peer_how *how, struct bench_peer *out);

/* `atx bench plot JSON [-o DIR]`. */
int bench_plot(int argc, char **argv);

#endif
