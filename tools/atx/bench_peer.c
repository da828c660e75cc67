/* SPDX-License-Identifier: MIT */
/*
 * bench_peer.c - the peer column of `atx bench`: DPDK's
 * dpdk-test-crypto-perf run on the same algorithm, buffer size and burst
 * (= our queue depth), with its own figures (cycles per buffer, GB/s)
 * parsed from its output.  Nothing is invented: when the program is not
 * installed or has no matching test, the note says so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define DPDK_PERF "dpdk-test-crypto-perf"

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *e = strchr(path, ':');
		size_t n = e ? (size_t)(e - path) : strlen(path);

		if (n && n < sizeof(buf) - strlen(prog) - 2) {
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
			if (access(buf, X_OK) == 0)
				return true;
		}
		path += n + (e ? 1 : 0);
	}
	return false;
}

/* The dpdk-test-crypto-perf options for one of our single-step workloads. */
static const char *dpdk_opts(const char *kind)
{
	if (!strcmp(kind, "cbc-enc"))
		return "--optype cipher-only --cipher-algo aes-cbc --cipher-op encrypt "
		       "--cipher-key-sz 16 --cipher-iv-sz 16";
	if (!strcmp(kind, "xts-enc"))
		return "--optype cipher-only --cipher-algo aes-xts --cipher-op encrypt "
		       "--cipher-key-sz 64 --cipher-iv-sz 16";
	if (!strcmp(kind, "gcm-enc"))
		return "--optype aead --aead-algo aes-gcm --aead-op encrypt --aead-key-sz 32 "
		       "--aead-iv-sz 12 --aead-aad-sz 0 --digest-sz 16";
	if (!strcmp(kind, "hmac-sha256"))
		return "--optype auth-only --auth-algo sha2-256-hmac --auth-op generate "
		       "--auth-key-sz 32 --digest-sz 32";
	return NULL;
}

int bench_peer_dpdk(const char *kind, const char *pmd, size_t bs, unsigned burst,
		    const struct bench_peer_how *how, struct bench_peer *out)
{
	const char *opts = dpdk_opts(kind);
	char cmd[1024], line[512], big[128] = "", lcores[64] = "-l 0,1";
	unsigned limit = how && how->timeout_s ? how->timeout_s : 15;
	unsigned long total, pool;
	size_t seg = bs;
	bool header = false, oop = false;
	FILE *f;
	int st;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "dpdk crypto_%s", pmd);
	if (!in_path(DPDK_PERF)) {
		snprintf(out->note, sizeof(out->note), DPDK_PERF " not installed");
		return -ENOENT;
	}
	if (!opts) {
		snprintf(out->note, sizeof(out->note), "no matching dpdk test");
		return -EOPNOTSUPP;
	}
	if (burst > 512)
		burst = 512;
	/*
	 * atx's steps write their output to another buffer, so the peer
	 * does too (--out-of-place): the same work, not a guess that it
	 * costs the same (six alternated 4 KiB CBC runs here showed no
	 * consistent difference either way).  Out of place needs one
	 * unsegmented mbuf per buffer, with room for a digest after the
	 * data; an mbuf segment holds at most 65535 bytes (a 65536-byte
	 * segment silently becomes an empty one and the tool reports absurd
	 * rates), so longer buffers go in place as chains of 16 KiB
	 * segments, and the note says so.  HMAC writes only a digest and
	 * stays in place.  The pools (in and out) are sized to fit in -m 512.
	 */
	if (bs > 32768) {
		if (bs % 16384) {
			snprintf(out->note, sizeof(out->note), "no dpdk run: %zu B is not whole 16 KiB "
				 "mbuf segments", bs);
			return -EOPNOTSUPP;
		}
		seg = 16384;
		snprintf(out->note, sizeof(out->note), "in place, 16 KiB mbuf segments");
	} else if (strcmp(kind, "hmac-sha256")) {
		oop = true;
		seg = bs + 64;
		snprintf(out->note, sizeof(out->note), "out of place");
	}
	pool = (unsigned long)(128ull << 20) / (seg + 512);
	pool = pool > 8192 ? 8192 : pool;
	/* Segmented AEAD and HMAC runs failed to start with 7943 16 KiB mbufs, ran with 4000-6000. */
	if (seg < bs && pool > 4096)
		pool = 4096;
	if (pool < 4ul * burst)
		pool = 4ul * burst;
	/* Only then: the default segment leaves room for a digest after the data. */
	if (seg != bs)
		snprintf(big, sizeof(big), "%s--segment-sz %zu --pool-sz %lu ",
			 oop ? "--out-of-place " : "", seg, pool);
	/* About 0.4 GB of payload: long enough to measure, short enough for a sweep. */
	total = how && how->total_ops ? how->total_ops : (unsigned long)(400000000ull / bs);
	total = total < 2000 ? 2000 : total > 100000000 ? 100000000 : total;
	if (!how || !how->total_ops)
		total = total > 100000 ? 100000 : total;
	/* Its worker lcore on @how->worker_cpu, its main lcore waiting on another. */
	if (how && how->worker_cpu >= 0)
		snprintf(lcores, sizeof(lcores), "-l %d,%d --main-lcore %d",
			 how->main_cpu < how->worker_cpu ? how->main_cpu : how->worker_cpu,
			 how->main_cpu < how->worker_cpu ? how->worker_cpu : how->main_cpu,
			 how->main_cpu);
	snprintf(cmd, sizeof(cmd),
		 "timeout %u " DPDK_PERF " %s --no-huge -m 512 --no-pci --vdev crypto_%s0 "
		 "--log-level=error -- --ptest throughput --devtype crypto_%s %s --buffer-sz %zu "
		 "%s--burst-sz %u --total-ops %lu </dev/null 2>&1",
		 limit, lcores, pmd, pmd, opts, bs, big, burst, total);
	f = popen(cmd, "r");
	if (!f) {
		snprintf(out->note, sizeof(out->note), "cannot run " DPDK_PERF);
		return -EIO;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned lcore, bsz, bu;
		unsigned long enq, deq, fenq, fdeq;
		double mops, gbits, cyc;

		if (strstr(line, "Cycles/Buf")) {
			header = true;
			continue;
		}
		if (header && !out->ran &&
		    sscanf(line, "%u %u %u %lu %lu %lu %lu %lf %lf %lf", &lcore, &bsz, &bu, &enq,
			   &deq, &fenq, &fdeq, &mops, &gbits, &cyc) == 10) {
			out->ran = true;
			out->mops = mops;
			out->gbps = gbits / 8;  /* it prints gigabits */
			out->cycles_per_op = cyc;
		}
	}
	st = pclose(f);
	if (!out->ran) {
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;

		if (code == 124)
			snprintf(out->note, sizeof(out->note), "%s PMD: no result within %u s", pmd,
				 limit);
		else
			snprintf(out->note, sizeof(out->note), "%s PMD failed (exit %d)", pmd, code);
		return -EIO;
	}
	return 0;
}
