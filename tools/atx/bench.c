/* SPDX-License-Identifier: MIT */
/*
 * bench.c - `atx bench`: dependency chains through atx against the same
 * work done by a hand-written loop calling OpenSSL and ISA-L directly, in
 * the same process, rounds interleaved so that the VM's drift hits both.
 * Every output is checked against the baseline's bytes before a number is
 * reported: a fast wrong answer is not a result.
 *
 * Workload (first version): the storage chain xts-enc -> crc32c -> copy on
 * blocks of --block-size at --queue-depth chains in flight, on the inline
 * lane or on --lanes N worker lanes.
 */
#include <errno.h>
#include <getopt.h>
#include <isa-l/crc.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atx.h"
#include "cli.h"
#include "cmds.h"

struct bench_cfg {
	size_t bs;
	unsigned qd;
	unsigned lanes;
	double seconds;         /* per configuration, split over rounds */
	unsigned rounds;
	bool json;
	bool quiet;
	const char *engines;    /* atx_ctx_opts.engines */
};

struct slot {
	unsigned char *src, *ct, *dst;
	uint32_t crc;
	uint64_t iv;            /* block number of the chain in flight / last done */
	uint64_t t0;            /* submit time when sampled */
	struct bench_run *run;
};

struct bench_run {
	struct atx_ctx *ctx;
	struct atx_session *xts;
	struct bench_cfg *cfg;
	struct slot *slots;
	uint64_t next_iv;
	uint64_t done;          /* chains completed */
	uint64_t deadline;
	bool stop;
	int err;
	double *lat;            /* sampled chain latencies (us) */
	size_t nlat, maxlat;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const uint8_t bench_key[64] = {
	0x27, 0x18, 0x28, 0x18, 0x28, 0x45, 0x90, 0x45, 0x23, 0x53, 0x60, 0x28, 0x74, 0x71, 0x35, 0x26,
	0x62, 0x49, 0x77, 0x57, 0x24, 0x70, 0x93, 0x69, 0x99, 0x59, 0x57, 0x49, 0x66, 0x96, 0x76, 0x27,
	0x31, 0x41, 0x59, 0x26, 0x53, 0x58, 0x97, 0x93, 0x23, 0x84, 0x62, 0x64, 0x33, 0x83, 0x27, 0x95,
	0x02, 0x88, 0x41, 0x97, 0x16, 0x93, 0x99, 0x37, 0x51, 0x05, 0x82, 0x09, 0x74, 0x94, 0x45, 0x92,
};

static void iv_of(uint64_t n, uint8_t iv[16])
{
	memset(iv, 0, 16);
	memcpy(iv, &n, sizeof(n)); /* plain64, little-endian on x86-64 */
}

/* ---- the hand-written baseline: OpenSSL + ISA-L + memcpy, no atx ---- */

struct baseline {
	EVP_CIPHER_CTX *ctx;
	EVP_CIPHER *xts;
};

static int baseline_init(struct baseline *b)
{
	b->xts = EVP_CIPHER_fetch(NULL, "AES-256-XTS", NULL);
	b->ctx = EVP_CIPHER_CTX_new();
	if (!b->xts || !b->ctx || !EVP_CipherInit_ex2(b->ctx, b->xts, bench_key, NULL, 1, NULL))
		return -EIO;
	return 0;
}

static void baseline_fini(struct baseline *b)
{
	EVP_CIPHER_CTX_free(b->ctx);
	EVP_CIPHER_free(b->xts);
}

static inline int baseline_block(struct baseline *b, const unsigned char *src, unsigned char *ct,
				 unsigned char *dst, size_t bs, uint64_t n, uint32_t *crc)
{
	uint8_t iv[16];
	int l;

	iv_of(n, iv);
	if (!EVP_CipherInit_ex2(b->ctx, NULL, NULL, iv, 1, NULL) ||
	    !EVP_EncryptUpdate(b->ctx, ct, &l, src, (int)bs))
		return -EIO;
	*crc = ~crc32_iscsi(ct, (int)bs, ~0u);
	memcpy(dst, ct, bs);
	return 0;
}

/* Blocks per second of the baseline over @ns nanoseconds. */
static double baseline_round(struct baseline *b, struct slot *slots, unsigned qd, size_t bs,
			     uint64_t ns, double *cpu)
{
	uint64_t t0 = now_ns(), t, n = 0;
	double c0 = cpu_s();

	do {
		unsigned i;

		for (i = 0; i < qd; i++, n++) {
			struct slot *s = &slots[i];

			baseline_block(b, s->src, s->ct, s->dst, bs, n, &s->crc);
		}
		t = now_ns();
	} while (t - t0 < ns);
	*cpu = (cpu_s() - c0) / (double)n;
	return (double)n * 1e9 / (double)(t - t0);
}

/* ---- the same chain through atx ---- */

static int submit_chain(struct bench_run *r, struct slot *s);

static void chain_done(struct atx_tx *tx, int status, void *arg)
{
	struct slot *s = arg;
	struct bench_run *r = s->run;

	if (status) {
		r->err = status;
		r->stop = true;
		return;
	}
	r->done++;
	if (s->t0 && r->nlat < r->maxlat)
		r->lat[r->nlat++] = (double)(now_ns() - s->t0) / 1e3;
	if (!r->stop && (r->done & 63) == 0 && now_ns() >= r->deadline)
		r->stop = true;
	if (!r->stop)
		submit_chain(r, s);
}

static int submit_chain(struct bench_run *r, struct slot *s)
{
	size_t bs = r->cfg->bs;
	uint8_t iv[16];
	struct atx_submit sub = { .flags = ATX_F_ACK };
	struct atx_tx *a, *c;

	s->iv = r->next_iv++;
	/* Sample one chain in 16 for latency: timestamps cost ~20 ns each. */
	s->t0 = (s->iv & 15) == 0 ? now_ns() : 0;
	iv_of(s->iv, iv);
	a = atx_cipher(r->ctx, r->xts, s->ct, s->src, bs, iv, &sub);
	if (!a)
		return -errno;
	sub.depend_tx = a;
	c = atx_crc32c(r->ctx, &s->crc, s->ct, bs, 0, &sub);
	if (!c)
		return -errno;
	sub.depend_tx = c;
	sub.cb = chain_done;
	sub.cb_arg = s;
	if (!atx_memcpy(r->ctx, s->dst, s->ct, bs, &sub))
		return -errno;
	return 0;
}

static double atx_round(struct bench_run *r, uint64_t ns, double *cpu)
{
	uint64_t t0, t;
	double c0;
	unsigned i;
	int ret;

	r->done = 0;
	r->stop = false;
	r->err = 0;
	c0 = cpu_s();
	t0 = now_ns();
	r->deadline = t0 + ns;
	for (i = 0; i < r->cfg->qd; i++) {
		ret = submit_chain(r, &r->slots[i]);
		if (ret < 0) {
			r->err = ret;
			break;
		}
	}
	atx_run(r->ctx, ATX_RUN_DEFAULT);
	t = now_ns();
	*cpu = (cpu_s() - c0) / (double)(r->done ? r->done : 1);
	return r->err ? -1.0 : (double)r->done * 1e9 / (double)(t - t0);
}

/* The last chain of every slot against the baseline computed for the same block. */
static int verify(struct bench_run *r, struct baseline *b)
{
	size_t bs = r->cfg->bs;
	unsigned char *ct = malloc(bs), *dst = malloc(bs);
	unsigned i;
	int ret = 0;

	if (!ct || !dst) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < r->cfg->qd && !ret; i++) {
		struct slot *s = &r->slots[i];
		uint32_t crc;

		if (baseline_block(b, s->src, ct, dst, bs, s->iv, &crc) < 0 ||
		    memcmp(ct, s->ct, bs) || memcmp(dst, s->dst, bs) || crc != s->crc)
			ret = -EBADMSG;
	}
out:
	free(ct);
	free(dst);
	return ret;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double pct(double *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

struct bench_result {
	char engine[48];
	double ops, base_ops, ratio, overhead_ns, p50, p99, p999, cpu_ns, base_cpu_ns;
};

static int run_config(struct bench_cfg *cfg, unsigned lanes, struct bench_result *res)
{
	struct atx_ctx_opts o = { .size = sizeof(o), .soft_lanes = lanes,
				  .pool_size = cfg->qd * 3 + 64, .engines = cfg->engines };
	struct atx_session_params p = {
		.size = sizeof(p), .service = ATX_SVC_CIPHER, .cipher = ATX_CIPHER_AES_XTS,
		.dir = ATX_ENCRYPT, .key = bench_key, .key_len = 64,
	};
	struct bench_run r = { .cfg = cfg };
	struct baseline b = { 0 };
	double *a_ops = NULL, *b_ops = NULL, *a_cpu = NULL, *b_cpu = NULL;
	uint64_t round_ns = (uint64_t)(cfg->seconds * 1e9 / cfg->rounds / 2);
	unsigned i;
	int ret;

	ret = baseline_init(&b);
	if (ret < 0)
		return ret;
	r.ctx = atx_ctx_new(&o);
	if (!r.ctx) {
		ret = -errno;
		goto out_baseline;
	}
	r.xts = atx_session_new(r.ctx, &p);
	if (!r.xts) {
		ret = -errno;
		goto out_ctx;
	}
	snprintf(res->engine, sizeof(res->engine), "%s%s%u", atx_session_engine(r.xts),
		 lanes ? ":lanes=" : ":inline", lanes ? lanes : 0);
	if (!lanes)
		res->engine[strlen(res->engine) - 1] = '\0';
	r.slots = calloc(cfg->qd, sizeof(*r.slots));
	a_ops = calloc(cfg->rounds, sizeof(double));
	b_ops = calloc(cfg->rounds, sizeof(double));
	a_cpu = calloc(cfg->rounds, sizeof(double));
	b_cpu = calloc(cfg->rounds, sizeof(double));
	r.maxlat = 1u << 20;
	r.lat = calloc(r.maxlat, sizeof(double));
	if (!r.slots || !a_ops || !b_ops || !a_cpu || !b_cpu || !r.lat) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < cfg->qd; i++) {
		struct slot *s = &r.slots[i];
		size_t j;

		s->run = &r;
		s->src = aligned_alloc(64, cfg->bs);
		s->ct = aligned_alloc(64, cfg->bs);
		s->dst = aligned_alloc(64, cfg->bs);
		if (!s->src || !s->ct || !s->dst) {
			ret = -ENOMEM;
			goto out_free;
		}
		for (j = 0; j < cfg->bs; j++)
			s->src[j] = (unsigned char)(j * 131 + i * 7);
	}
	/* Warm-up both, then interleave rounds. */
	baseline_round(&b, r.slots, cfg->qd, cfg->bs, round_ns / 4, &a_cpu[0]);
	atx_round(&r, round_ns / 4, &a_cpu[0]);
	for (i = 0; i < cfg->rounds; i++) {
		b_ops[i] = baseline_round(&b, r.slots, cfg->qd, cfg->bs, round_ns, &b_cpu[i]);
		a_ops[i] = atx_round(&r, round_ns, &a_cpu[i]);
		if (a_ops[i] < 0) {
			ret = r.err ? r.err : -EIO;
			goto out_free;
		}
		if (!cfg->quiet && !cfg->json && isatty(2))
			fprintf(stderr, "\r  %s: round %u/%u", res->engine, i + 1, cfg->rounds);
	}
	if (!cfg->quiet && !cfg->json && isatty(2))
		fprintf(stderr, "\r%40s\r", "");
	ret = verify(&r, &b);
	if (ret < 0) {
		fprintf(stderr, "atx: bench: %s: output differs from the baseline: no result\n",
			res->engine);
		goto out_free;
	}
	res->ops = median(a_ops, cfg->rounds);
	res->base_ops = median(b_ops, cfg->rounds);
	res->ratio = res->ops / res->base_ops;
	/* 3 descriptors per chain; negative when atx is faster (e.g. lanes). */
	res->overhead_ns = (1e9 / res->ops - 1e9 / res->base_ops) / 3.0;
	res->cpu_ns = median(a_cpu, cfg->rounds) * 1e9;
	res->base_cpu_ns = median(b_cpu, cfg->rounds) * 1e9;
	res->p50 = pct(r.lat, r.nlat, 0.50);
	res->p99 = pct(r.lat, r.nlat, 0.99);
	res->p999 = pct(r.lat, r.nlat, 0.999);
	ret = 0;
out_free:
	for (i = 0; r.slots && i < cfg->qd; i++) {
		free(r.slots[i].src);
		free(r.slots[i].ct);
		free(r.slots[i].dst);
	}
	free(r.slots);
	free(r.lat);
	free(a_ops);
	free(b_ops);
	free(a_cpu);
	free(b_cpu);
	atx_session_free(r.xts);
out_ctx:
	atx_ctx_free(r.ctx);
out_baseline:
	baseline_fini(&b);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: atx bench [--block-size N] [--queue-depth N] [--lanes LIST] [--seconds S]\n"
		"                 [--rounds N] [--engine SPEC] [--json] [--quiet]\n"
		"Runs the storage chain xts-enc -> crc32c -> copy through atx and, interleaved in\n"
		"the same process, a hand-written OpenSSL + ISA-L loop doing the same work, checks\n"
		"atx's output against the loop's, and prints both rates and their ratio.\n"
		"  --lanes LIST   comma list of worker-lane counts, 0 = inline lane (default 0,2)\n");
}

int cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "block-size", required_argument, NULL, 'b' },
		{ "queue-depth", required_argument, NULL, 'q' },
		{ "lanes", required_argument, NULL, 'l' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "engine", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_cfg cfg = { .bs = 4096, .qd = 64, .seconds = 4, .rounds = 7 };
	const char *lanes = "0,2";
	char *list, *tok, *save;
	unsigned nres = 0, i;
	struct bench_result res[16];
	int c, ret = 0;

	cli_set_cmd("bench");
	optind = 1;
	while ((c = getopt_long(argc, argv, "b:q:l:s:r:e:jQh", opts, NULL)) != -1) {
		char *end = NULL;

		switch (c) {
		case 'b':
			cfg.bs = strtoul(optarg, &end, 0);
			if (*end || cfg.bs < 16 || cfg.bs > (1u << 24))
				return cli_err("--block-size must be 16..16777216");
			break;
		case 'q':
			cfg.qd = (unsigned)strtoul(optarg, &end, 0);
			if (*end || !cfg.qd || cfg.qd > 4096)
				return cli_err("--queue-depth must be 1..4096");
			break;
		case 'l':
			lanes = optarg;
			break;
		case 's':
			cfg.seconds = strtod(optarg, &end);
			if (*end || cfg.seconds <= 0 || cfg.seconds > 3600)
				return cli_err("--seconds must be in (0, 3600]");
			break;
		case 'r':
			cfg.rounds = (unsigned)strtoul(optarg, &end, 0);
			if (*end || !cfg.rounds || cfg.rounds > 1000)
				return cli_err("--rounds must be 1..1000");
			break;
		case 'e':
			cfg.engines = !strcmp(optarg, "soft") || !strcmp(optarg, "auto") ? NULL : optarg;
			break;
		case 'j':
			cfg.json = true;
			break;
		case 'Q':
			cfg.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_bad_option(argv, optopt);
		}
	}
	if (optind < argc)
		return cli_err("unexpected argument '%s'", argv[optind]);
	list = strdup(lanes);
	if (!list)
		return cli_err("out of memory");
	for (tok = strtok_r(list, ",", &save); tok && nres < 16; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned n = (unsigned)strtoul(tok, &end, 10);

		if (*end || n > 32) {
			free(list);
			return cli_err("--lanes takes numbers 0..32");
		}
		ret = run_config(&cfg, n, &res[nres]);
		if (ret < 0) {
			free(list);
			if (ret == -EBADMSG)
				return CLI_EXIT_VERIFY;
			return cli_err("%s", atx_strerror(ret));
		}
		nres++;
	}
	free(list);
	if (cfg.json) {
		printf("[\n");
		for (i = 0; i < nres; i++) {
			struct bench_result *r = &res[i];
			double mb = (double)cfg.bs / 1e9;

			printf("  {\"workload\": \"xts-enc,crc32c,copy\", \"engine\": \"%s\", "
			       "\"block_size\": %zu, \"queue_depth\": %u, \"gbps\": %.3f, "
			       "\"ops_per_s\": %.0f, \"baseline_gbps\": %.3f, \"ratio_to_baseline\": %.3f, "
			       "\"overhead_ns\": %.1f, \"p50_us\": %.2f, \"p99_us\": %.2f, "
			       "\"p999_us\": %.2f, \"cpu_ns_per_op\": %.0f, \"baseline_cpu_ns_per_op\": %.0f, "
			       "\"verified\": true}%s\n",
			       r->engine, cfg.bs, cfg.qd, r->ops * mb, r->ops, r->base_ops * mb,
			       r->ratio, r->overhead_ns, r->p50, r->p99, r->p999, r->cpu_ns,
			       r->base_cpu_ns, i + 1 < nres ? "," : "");
		}
		printf("]\n");
		return 0;
	}
	printf("workload xts-enc,crc32c,copy  block %zu B  queue depth %u  (%u rounds, median)\n",
	       cfg.bs, cfg.qd, cfg.rounds);
	printf("%-18s %10s %10s %10s %8s %12s %9s %9s %10s\n", "engine", "chains/s", "GB/s",
	       "base GB/s", "ratio", "ovh ns/desc", "p50 us", "p99 us", "cpu ns/op");
	for (i = 0; i < nres; i++) {
		struct bench_result *r = &res[i];
		double gb = (double)cfg.bs / 1e9;

		printf("%-18s %10.0f %10.3f %10.3f %7.3fx %12.1f %9.2f %9.2f %10.0f\n", r->engine,
		       r->ops, r->ops * gb, r->base_ops * gb, r->ratio, r->overhead_ns, r->p50,
		       r->p99, r->cpu_ns);
	}
	printf("baseline: the same chain as a hand-written OpenSSL EVP + ISA-L + memcpy loop on one "
	       "core, outputs verified equal\n");
	return 0;
}
