/* SPDX-License-Identifier: MIT */
/*
 * bench.c - `atx bench`: dependency chains through atx against the same
 * work done by a hand-written loop calling OpenSSL and ISA-L directly, in
 * the same process, rounds interleaved so that the VM's drift hits both.
 * Every output is checked against the baseline's bytes before a number is
 * reported: a fast wrong answer is not a result.
 *
 * A workload is a list of steps, "xts-enc,crc32c,copy", with fan-out and
 * fan-in as "copy,{xts-enc|crc32c},write": every branch starts from the
 * step before the braces and the step after them depends on the end of
 * every branch.  A small interpreter compiles the text into nodes; each
 * node kind knows how to submit itself as an atx descriptor and how to do
 * the same with a direct library call.  Data flows through per-slot
 * buffers: a transforming step (cipher, copy, read, xor, pq) writes a new
 * buffer that the next step reads; crc32c, hmac-sha256 and write only
 * read theirs and pass it on.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <isa-l/crc.h>
#include <isa-l/raid.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#ifdef ATX_HAVE_IPSEC_MB
#include <cpuid.h>
#include <emmintrin.h>
#include <intel-ipsec-mb.h>
#endif

#include "atx.h"
#include "atx_simd.h"
#include "soft/soft_prov.h"
#include "bench.h"
#include "cli.h"
#include "cmds.h"

/* ------------------------------------------------------------------ */
/* Steps and workloads                                                */
/* ------------------------------------------------------------------ */

enum kind {
	K_XTS_ENC, K_XTS_DEC, K_CBC_ENC, K_GCM_ENC, K_HMAC, K_CRC, K_COPY, K_WRITE, K_READ,
	K_XOR, K_PQ, K_TRIGGER, K__COUNT,
};

static const char *const kind_name[K__COUNT] = {
	[K_XTS_ENC] = "xts-enc", [K_XTS_DEC] = "xts-dec", [K_CBC_ENC] = "cbc-enc",
	[K_GCM_ENC] = "gcm-enc", [K_HMAC] = "hmac-sha256", [K_CRC] = "crc32c",
	[K_COPY] = "copy", [K_WRITE] = "write", [K_READ] = "read", [K_XOR] = "xor",
	[K_PQ] = "pq", [K_TRIGGER] = "(fan-in)",
};

/* Does the step write a new buffer (and pass that one on)? */
static bool kind_transforms(enum kind k)
{
	return k != K_HMAC && k != K_CRC && k != K_WRITE && k != K_TRIGGER;
}

static bool kind_crypto(enum kind k)
{
	return k <= K_HMAC;
}

#define MAX_NODES 32
#define MAX_BUFS 24
#define MAX_PAR 8
#define XOR_SRCS 6              /* the async_tx example: 6 sources */
#define PQ_DATA 8               /* RAID-6 stripe of 8 data strips + P + Q */
#define NEXTRA (PQ_DATA - 1)    /* fixed strips per slot beside the chain's buffer */

struct node {
	enum kind kind;
	int in, out, out2;      /* buffer indexes; out2 = Q of pq */
	unsigned npar;
	unsigned par[MAX_PAR];
};

struct workload {
	char text[128];
	struct node n[MAX_NODES];
	unsigned nn;
	unsigned nbuf;          /* buffers per slot, buffer 0 = the input */
	bool uses_file_in, uses_file_out, raid;
	bool chain;             /* "chain:...": submitted as one atx_chain() call per chain */
	bool prep;              /* "prep:...": a chain: workload run through atx_prep_run() */
	bool burst;             /* "burst:...": one step, restarted in atx_burst() calls */
	unsigned width;         /* strips counted as payload (RAID: the stripe's data strips) */
};

struct cursor {
	int buf;
	unsigned npar;
	unsigned par[MAX_PAR];
};

static int parse_seq(struct workload *w, const char **sp, struct cursor *cur, char *err,
		     size_t errlen);

static int add_node(struct workload *w, enum kind k, struct cursor *cur, char *err, size_t errlen)
{
	struct node *n;

	if (w->nn >= MAX_NODES || w->nbuf + 2 > MAX_BUFS) {
		snprintf(err, errlen, "workload '%s' has too many steps", w->text);
		return -1;
	}
	n = &w->n[w->nn];
	n->kind = k;
	n->in = k == K_READ ? -1 : cur->buf;
	n->out = n->out2 = -1;
	if (kind_transforms(k) && k != K_TRIGGER)
		n->out = (int)w->nbuf++;
	if (k == K_PQ)
		n->out2 = (int)w->nbuf++;
	n->npar = cur->npar;
	memcpy(n->par, cur->par, sizeof(n->par));
	if (k == K_READ)
		w->uses_file_in = true;
	if (k == K_WRITE)
		w->uses_file_out = true;
	if (k == K_XOR || k == K_PQ) {
		w->raid = true;
		if (w->width < (k == K_PQ ? PQ_DATA : XOR_SRCS))
			w->width = k == K_PQ ? PQ_DATA : XOR_SRCS;
	}
	cur->npar = 1;
	cur->par[0] = w->nn;
	if (n->out >= 0)
		cur->buf = n->out;
	w->nn++;
	return 0;
}

static int parse_step(struct workload *w, const char **sp, struct cursor *cur, char *err,
		      size_t errlen)
{
	const char *s = *sp;
	size_t len = strcspn(s, ",|}{");
	unsigned k;

	if (*s == '{') {
		struct cursor start = *cur, out = { .buf = -1 };

		s++;
		for (;;) {
			struct cursor br = start;

			if (parse_seq(w, &s, &br, err, errlen))
				return -1;
			if (out.npar + br.npar > MAX_PAR) {
				snprintf(err, errlen, "workload '%s': too many branches", w->text);
				return -1;
			}
			memcpy(out.par + out.npar, br.par, br.npar * sizeof(br.par[0]));
			out.npar += br.npar;
			/* The data passed on: the first branch that produced some. */
			if (out.buf < 0 && br.buf != start.buf)
				out.buf = br.buf;
			if (*s == '|') {
				s++;
				continue;
			}
			if (*s == '}') {
				s++;
				break;
			}
			snprintf(err, errlen, "workload '%s': unclosed '{'", w->text);
			return -1;
		}
		if (out.buf < 0)
			out.buf = start.buf;
		*cur = out;
		*sp = s;
		return 0;
	}
	for (k = 0; k < K_TRIGGER; k++)
		if (strlen(kind_name[k]) == len && !strncmp(s, kind_name[k], len))
			break;
	if (k == K_TRIGGER) {
		if (!len)
			snprintf(err, errlen, "workload '%s': empty step", w->text);
		else
			snprintf(err, errlen, "unknown step '%.*s' in workload '%s' (steps: xts-enc, "
				 "xts-dec, cbc-enc, gcm-enc, hmac-sha256, crc32c, copy, write, read, "
				 "xor, pq)", (int)len, s, w->text);
		return -1;
	}
	*sp = s + len;
	return add_node(w, (enum kind)k, cur, err, errlen);
}

static int parse_seq(struct workload *w, const char **sp, struct cursor *cur, char *err,
		     size_t errlen)
{
	for (;;) {
		if (parse_step(w, sp, cur, err, errlen))
			return -1;
		if (**sp != ',')
			return 0;
		(*sp)++;
	}
}

static int workload_parse(const char *text, struct workload *w, char *err, size_t errlen)
{
	struct cursor cur = { .buf = 0 };
	const char *s = text;
	unsigned i, j, sinks = 0;

	memset(w, 0, sizeof(*w));
	if (strlen(text) >= sizeof(w->text)) {
		snprintf(err, errlen, "workload name too long");
		return -1;
	}
	strcpy(w->text, text);
	w->nbuf = 1;
	w->width = 1;
	if (!strncmp(s, "chain:", 6)) {
		w->chain = true;
		s += 6;
	} else if (!strncmp(s, "prep:", 5)) {
		w->chain = w->prep = true;
		s += 5;
	} else if (!strncmp(s, "burst:", 6)) {
		w->burst = true;
		s += 6;
	}
	if (parse_seq(w, &s, &cur, err, errlen))
		return -1;
	if (*s) {
		snprintf(err, errlen, "workload '%s': unexpected '%c'", text, *s);
		return -1;
	}
	if (w->burst && (w->nn != 1 || w->n[0].kind >= K_WRITE)) {
		snprintf(err, errlen, "workload '%s': a burst: workload is one xts-enc, xts-dec, "
			 "cbc-enc, gcm-enc, hmac-sha256, crc32c or copy step", text);
		return -1;
	}
	if (w->chain) {
		/* atx_chain() takes a linear list of memory and crypto steps. */
		if (w->nn > ATX_CHAIN_MAX) {
			snprintf(err, errlen, "workload '%s': atx_chain takes at most %d steps", text,
				 ATX_CHAIN_MAX);
			return -1;
		}
		for (i = 0; i < w->nn; i++)
			if (w->n[i].kind >= K_WRITE || w->n[i].npar != (i > 0) ||
			    (i && w->n[i].par[0] != i - 1)) {
				snprintf(err, errlen, "workload '%s': a chain: or prep: workload is a linear list "
					 "of xts-enc, xts-dec, cbc-enc, gcm-enc, hmac-sha256, crc32c and "
					 "copy steps", text);
				return -1;
			}
		return 0;
	}
	/* One sink gets the chain's callback; several end branches get a fan-in. */
	for (i = 0; i < w->nn; i++) {
		bool child = false;

		for (j = i + 1; j < w->nn && !child; j++)
			for (unsigned p = 0; p < w->n[j].npar; p++)
				if (w->n[j].par[p] == i)
					child = true;
		sinks += !child;
	}
	if (sinks > 1) {
		cur.buf = -1;
		if (add_node(w, K_TRIGGER, &cur, err, errlen))
			return -1;
		/* A fan-in waits on every sink, not just the last group's ends. */
		w->n[w->nn - 1].npar = 0;
		for (i = 0; i + 1 < w->nn; i++) {
			bool child = false;

			for (j = i + 1; j + 1 < w->nn && !child; j++)
				for (unsigned p = 0; p < w->n[j].npar; p++)
					if (w->n[j].par[p] == i)
						child = true;
			if (!child && w->n[w->nn - 1].npar < MAX_PAR)
				w->n[w->nn - 1].par[w->n[w->nn - 1].npar++] = i;
		}
	}
	for (i = 0; i < w->nn; i++)
		if (w->n[i].npar > 1 && w->n[i].kind != K_TRIGGER && w->n[i].npar > 15) {
			snprintf(err, errlen, "workload '%s': more than 15 parents", text);
			return -1;
		}
	return 0;
}

/* Descriptors per chain (the fan-in trigger counts: atx runs it). */
static unsigned workload_descs(const struct workload *w)
{
	return w->nn;
}

/* ------------------------------------------------------------------ */
/* Configuration                                                      */
/* ------------------------------------------------------------------ */

struct engine_spec {
	char text[128];
	unsigned lanes;
	bool no_inline;                 /* soft:workers=N: worker lanes only */
	const char *ctx_engines;        /* atx_ctx_opts.engines */
	const char *sess_engine;        /* "soft", "mb", NULL = best, "" = the attached device */
};

/*
 * --versus: another side interleaved in every round of a row: the same
 * atx chains with their sessions on another engine, or DPDK's
 * dpdk-test-crypto-perf on the same single step ("dpdk:aesni_mb").
 */
#define MAX_VS 4
#define MAX_CH 8                /* channels a row reports (bench_result.ch) */
#define MAX_HAND 16             /* threads of a hand:N side */

struct versus {
	const char *name;       /* as given: "soft", "dpdk:aesni_mb", "hand:2" */
	const char *pmd;        /* "aesni_mb", or NULL: an atx engine */
	unsigned hand;          /* hand:N: the baseline loop in N threads at once (0: not) */
	bool ossl;              /* "openssl": the OpenSSL/ISA-L loop, never intel-ipsec-mb */
};

struct bench_opts {
	double seconds;         /* per configuration, split over rounds */
	unsigned long ops;      /* per configuration instead of seconds (0 = use seconds) */
	unsigned rounds;
	bool json, quiet, peers, progress;
	bool evp_base;          /* --baseline evp: ciphers through EVP_CipherInit_ex2 */
	const char *json_out;
	const char *dir;        /* where the read/write files go */
	struct versus vs[MAX_VS];
	unsigned nvs;
	int cpu, main_cpu;      /* --cpu: the loop thread's CPU (-1: not pinned); DPDK's main lcore */
	cpu_set_t mask0;        /* the process's CPUs at start, restored after each row */
	double mhz;
};

struct config {
	struct workload *w;
	struct engine_spec *e;
	size_t bs;
	unsigned qd;
};

struct bench_result {
	struct config c;
	char engine[160];       /* label: the spec, plus what served each crypto step */
	char served[160];
	const char *baseline;   /* what the baseline loop calls */
	int status;             /* 0, or -errno: no figures */
	bool ran;               /* measured and verified: peers may run beside it */
	char note[160];
	double ops, base_ops, ratio, overhead_ns, p50, p99, p999, cpu_ns, base_cpu_ns;
	double best, base_best;         /* the fastest round of each (ops/s) */
	/*
	 * Paired rounds: atx's round i over the baseline's round i, run just
	 * before it -- lower quartile, median, upper quartile.  On a machine
	 * whose speed drifts between rounds (bench/README.md, "Noise") pairs
	 * share the drift that a ratio of the two medians may not.
	 */
	double pair[3];
	/*
	 * Every round's rate, in the order run: atx's rounds, then the
	 * baseline's, then each versus side's (0: that side did not run).
	 */
	double *rounds;
	unsigned nrounds;
	struct {
		double ops, ratio;      /* its rate, and ops / its ops (0: not run) */
		double best;            /* its fastest round */
		double pair[3];         /* paired rounds, as the row's pair[] */
		double scale;           /* hand:N: paired median of its rounds over the baseline's */
		double lib[3];          /* openssl: the baseline's rounds over its, paired */
		/*
		 * hand:N, N > 1: the rounds in which its N threads reached
		 * FULL_SCALE * N times the one-thread baseline of the same
		 * iteration (the host gave it N CPUs), and this row's paired
		 * ratio to the baseline in just those rounds.
		 */
		unsigned full_n;
		double full[3];
		int ran_on[MAX_HAND];   /* hand:N: where threads 1.. ended their last round */
		char note[96];          /* why it did not run, or how it ran */
	} vs[MAX_VS];
	int cpu;                /* where the loop thread ran its last round (-1: not pinned) */
	/*
	 * How the row's own rounds spread over the context's channels:
	 * descriptors each completed during them (steps, for chains), so a
	 * worker-lane row shows what the allocator gave the inline lane.
	 */
	unsigned nch;
	struct {
		char name[24];
		uint64_t ops;
	} ch[MAX_CH];
	unsigned npeer;
	struct bench_peer peer[2];
};

static const uint8_t bench_key[64] = {
	0x27, 0x18, 0x28, 0x18, 0x28, 0x45, 0x90, 0x45, 0x23, 0x53, 0x60, 0x28, 0x74, 0x71, 0x35, 0x26,
	0x62, 0x49, 0x77, 0x57, 0x24, 0x70, 0x93, 0x69, 0x99, 0x59, 0x57, 0x49, 0x66, 0x96, 0x76, 0x27,
	0x31, 0x41, 0x59, 0x26, 0x53, 0x58, 0x97, 0x93, 0x23, 0x84, 0x62, 0x64, 0x33, 0x83, 0x27, 0x95,
	0x02, 0x88, 0x41, 0x97, 0x16, 0x93, 0x99, 0x37, 0x51, 0x05, 0x82, 0x09, 0x74, 0x94, 0x45, 0x92,
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

static void iv_of(uint64_t n, uint8_t iv[16])
{
	/*
	 * plain64, little-endian on x86-64, written as one 16-byte store: a
	 * memset and an 8-byte store over it cannot forward to the 16-byte
	 * load that copies the IV right after (a ~15-cycle stall per chain
	 * that the timed atx side paid and the baseline, which reads its IVs
	 * much later, did not).
	 */
	_mm_storeu_si128((__m128i *)iv, _mm_cvtsi64_si128((long long)n));
}

/* ------------------------------------------------------------------ */
/* Per-slot state                                                     */
/* ------------------------------------------------------------------ */

struct slot {
	/*
	 * What starting and finishing a chain touch, on one line: the 8 KiB
	 * of data each 4 KiB request streams through the core evict the
	 * slot between its chains, so every extra line here is a miss per
	 * request (burst:cbc-enc on mb: three lines -> one).
	 */
	uint64_t blk __attribute__((aligned(64))); /* block number of the chain in flight / last done */
	uint64_t t0;            /* submit time when sampled */
	struct bench_run *run;
	void *bsrc, *bdst;      /* burst: its step's buffers */
	uint8_t iv[16];         /* burst:, chain: its chain's IV (atx copies it at submission) */
	unsigned idx;
	bool ran;               /* a chain ran on this slot (op-count mode may leave some idle) */
	unsigned char *buf[MAX_BUFS];
	unsigned char *extra[NEXTRA];   /* fixed strips of the slot's RAID stripe */
	void *srcs[MAX_NODES][PQ_DATA]; /* source arrays of xor/pq (kept until completion) */
	/*
	 * What the engines write, on lines of its own: a worker lane on the
	 * other core stores a crc while the loop thread writes blk and t0 for
	 * the next chain, and sharing a line would move it between the cores
	 * twice per chain, a cost of the bench's layout and not of atx.
	 */
	uint32_t crc[MAX_NODES] __attribute__((aligned(64)));
	uint8_t mac[MAX_NODES][32];
	uint8_t tag[MAX_NODES][16];
};
_Static_assert(offsetof(struct slot, buf) == 64, "a slot's per-chain fields fill one line");

/* ---- the hand-written baseline: OpenSSL + ISA-L + libc, no atx ---- */

/*
 * The ciphers and MACs the software engine re-inits per request through
 * their provider's functions (soft_prov.h) run the same way here, so that
 * the ratio measures atx and not EVP_CipherInit_ex2 and EVP_MAC_final;
 * --baseline evp makes this loop the textbook EVP one instead.
 */
struct baseline {
	EVP_CIPHER *xts, *cbc, *gcm;
	EVP_CIPHER_CTX *xts_enc, *xts_dec, *cbc_enc, *gcm_enc;
	EVP_MAC *hmac;
	EVP_MAC_CTX *hctx;
	struct soft_prov_cipher pxts, pcbc;
	void *p_xts_enc, *p_xts_dec, *p_cbc_enc; /* NULL: that cipher through EVP */
	struct soft_prov_mac phmac;
	void *p_hmac;                   /* NULL: HMAC through EVP_MAC */
};

/* The provider contexts, when the engine would have them too (soft_crypto.c does the same). */
static void baseline_prov_init(struct baseline *b)
{
	if (!soft_prov_cipher_find(b->xts, "AES-256-XTS", &b->pxts)) {
		b->p_xts_enc = soft_prov_cipher_new(&b->pxts, 1, bench_key, 64);
		b->p_xts_dec = soft_prov_cipher_new(&b->pxts, 0, bench_key, 64);
	}
	if (!soft_prov_cipher_find(b->cbc, "AES-128-CBC", &b->pcbc))
		b->p_cbc_enc = soft_prov_cipher_new(&b->pcbc, 1, bench_key, 16);
	if (!soft_prov_mac_find(b->hmac, "HMAC", &b->phmac)) {
		OSSL_PARAM prm[2] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
								      (char *)"SHA256", 0),
				      OSSL_PARAM_construct_end() };

		b->p_hmac = soft_prov_mac_new(&b->phmac, bench_key, 32, prm);
	}
}

static int baseline_init(struct baseline *b, bool evp)
{
	OSSL_PARAM prm[2] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							      (char *)"SHA256", 0),
			      OSSL_PARAM_construct_end() };

	b->xts = EVP_CIPHER_fetch(NULL, "AES-256-XTS", NULL);
	b->cbc = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
	b->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	b->xts_enc = EVP_CIPHER_CTX_new();
	b->xts_dec = EVP_CIPHER_CTX_new();
	b->cbc_enc = EVP_CIPHER_CTX_new();
	b->gcm_enc = EVP_CIPHER_CTX_new();
	b->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	b->hctx = b->hmac ? EVP_MAC_CTX_new(b->hmac) : NULL;
	if (!b->xts || !b->cbc || !b->gcm || !b->xts_enc || !b->xts_dec || !b->cbc_enc ||
	    !b->gcm_enc || !b->hctx ||
	    !EVP_CipherInit_ex2(b->xts_enc, b->xts, bench_key, NULL, 1, NULL) ||
	    !EVP_CipherInit_ex2(b->xts_dec, b->xts, bench_key, NULL, 0, NULL) ||
	    !EVP_CipherInit_ex2(b->cbc_enc, b->cbc, bench_key, NULL, 1, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(b->cbc_enc, 0) ||
	    !EVP_CipherInit_ex2(b->gcm_enc, b->gcm, bench_key, NULL, 1, NULL) ||
	    !EVP_MAC_init(b->hctx, bench_key, 32, prm))
		return -EIO;
	if (!evp)
		baseline_prov_init(b);
	return 0;
}

static void baseline_fini(struct baseline *b)
{
	if (b->p_xts_enc)
		soft_prov_cipher_free(&b->pxts, b->p_xts_enc);
	if (b->p_xts_dec)
		soft_prov_cipher_free(&b->pxts, b->p_xts_dec);
	if (b->p_cbc_enc)
		soft_prov_cipher_free(&b->pcbc, b->p_cbc_enc);
	if (b->p_hmac)
		soft_prov_mac_free(&b->phmac, b->p_hmac);
	EVP_CIPHER_CTX_free(b->xts_enc);
	EVP_CIPHER_CTX_free(b->xts_dec);
	EVP_CIPHER_CTX_free(b->cbc_enc);
	EVP_CIPHER_CTX_free(b->gcm_enc);
	EVP_CIPHER_free(b->xts);
	EVP_CIPHER_free(b->cbc);
	EVP_CIPHER_free(b->gcm);
	EVP_MAC_CTX_free(b->hctx);
	EVP_MAC_free(b->hmac);
}

static int evp_run(EVP_CIPHER_CTX *x, const uint8_t *iv, unsigned char *out,
		   const unsigned char *in, size_t bs)
{
	int l;

	if (!EVP_CipherInit_ex2(x, NULL, NULL, iv, -1, NULL) ||
	    !EVP_CipherUpdate(x, out, &l, in, (int)bs))
		return -EIO;
	return 0;
}

/* The same through the provider's functions when @pctx is set (--baseline provider). */
static inline int cipher_run(const struct soft_prov_cipher *pc, void *pctx, int enc,
			     EVP_CIPHER_CTX *x, const uint8_t *iv, unsigned char *out,
			     const unsigned char *in, size_t bs)
{
	if (!pctx)
		return evp_run(x, iv, out, in, bs);
	if (soft_prov_cipher_iv(pc, pctx, enc, iv) ||
	    soft_prov_cipher_update(pc, pctx, out, in, bs))
		return -EIO;
	return 0;
}

/* Step @i of @w for block @blk on slot @s's buffers, by a direct call. */
static int baseline_step(struct baseline *b, const struct workload *w, unsigned i,
			 struct slot *s, size_t bs, const uint8_t *iv, int fd_in, int fd_out,
			 off_t out_off)
{
	{
		const struct node *n = &w->n[i];
		unsigned char *in = n->in >= 0 ? s->buf[n->in] : NULL;
		unsigned char *out = n->out >= 0 ? s->buf[n->out] : NULL;
		void *v[PQ_DATA + 2];
		size_t len;
		int l;

		switch (n->kind) {
		case K_XTS_ENC:
			if (cipher_run(&b->pxts, b->p_xts_enc, 1, b->xts_enc, iv, out, in, bs))
				return -EIO;
			break;
		case K_XTS_DEC:
			if (cipher_run(&b->pxts, b->p_xts_dec, 0, b->xts_dec, iv, out, in, bs))
				return -EIO;
			break;
		case K_CBC_ENC:
			if (cipher_run(&b->pcbc, b->p_cbc_enc, 1, b->cbc_enc, iv, out, in, bs))
				return -EIO;
			break;
		case K_GCM_ENC:
			if (evp_run(b->gcm_enc, iv, out, in, bs) ||
			    !EVP_CipherFinal_ex(b->gcm_enc, out + bs, &l) ||
			    !EVP_CIPHER_CTX_ctrl(b->gcm_enc, EVP_CTRL_AEAD_GET_TAG, 16, s->tag[i]))
				return -EIO;
			break;
		case K_HMAC:
			if (b->p_hmac) {
				if (soft_prov_mac_init(&b->phmac, b->p_hmac) ||
				    !b->phmac.update(b->p_hmac, in, bs) ||
				    soft_prov_mac_final(&b->phmac, b->p_hmac, s->mac[i], 32, &len) ||
				    len != 32)
					return -EIO;
				break;
			}
			if (!EVP_MAC_init(b->hctx, NULL, 0, NULL) ||
			    !EVP_MAC_update(b->hctx, in, bs) ||
			    !EVP_MAC_final(b->hctx, s->mac[i], &len, 32))
				return -EIO;
			break;
		case K_CRC:
			s->crc[i] = ~crc32_iscsi(in, (int)bs, ~0u);
			atx_simd_clean();       /* as the engine does: atx_simd.h */
			break;
		case K_COPY:
			memcpy(out, in, bs);
			break;
		case K_WRITE:
			if (pwrite(fd_out, in, bs, out_off) != (ssize_t)bs)
				return -EIO;
			break;
		case K_READ:
			if (pread(fd_in, out, bs, (off_t)(s->idx * bs)) != (ssize_t)bs)
				return -EIO;
			break;
		case K_XOR:
			v[0] = in;
			for (l = 1; l < XOR_SRCS; l++)
				v[l] = s->extra[l - 1];
			v[XOR_SRCS] = out;
			if (xor_gen(XOR_SRCS + 1, (int)bs, v))
				return -EIO;
			atx_simd_clean();
			break;
		case K_PQ:
			v[0] = in;
			for (l = 1; l < PQ_DATA; l++)
				v[l] = s->extra[l - 1];
			v[PQ_DATA] = out;
			v[PQ_DATA + 1] = s->buf[n->out2];
			if (pq_gen(PQ_DATA + 2, (int)bs, v))
				return -EIO;
			atx_simd_clean();
			break;
		case K_TRIGGER:
		case K__COUNT:
			break;
		}
	}
	return 0;
}

/* One chain (block @blk) of @w on slot @s's buffers, by direct calls. */
static int baseline_chain(struct baseline *b, const struct workload *w, struct slot *s,
			  size_t bs, uint64_t blk, int fd_in, int fd_out, off_t out_off)
{
	uint8_t iv[16];
	unsigned i;
	int ret;

	s->blk = blk;
	iv_of(blk, iv);
	for (i = 0; i < w->nn; i++) {
		ret = baseline_step(b, w, i, s, bs, iv, fd_in, fd_out, out_off);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * The intel-ipsec-mb baseline, for configurations on the mb engine: the
 * same steps, but every cbc-enc, gcm-enc and hmac-sha256 step of a batch
 * of queue-depth chains is submitted as one burst of jobs to a manager of
 * its own and flushed, the way a hand-written multi-buffer loop would;
 * the other steps are the direct calls above, slot by slot.
 */
#ifdef ATX_HAVE_IPSEC_MB
struct mbbase {
	IMB_MGR *mgr;
	uint32_t cbc_enc[60] __attribute__((aligned(16)));
	uint32_t cbc_dec[60] __attribute__((aligned(16)));
	struct gcm_key_data gcm __attribute__((aligned(64)));
	uint8_t ipad[32] __attribute__((aligned(16)));
	uint8_t opad[32] __attribute__((aligned(16)));
};

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/* The best manager the CPU and the OS (XCR0) allow, as the mb engine picks it. */
static int mbbase_init(struct mbbase *m)
{
	uint64_t feat = imb_get_feature_flags(), xcr0 = 0;
	uint8_t pad[64] __attribute__((aligned(16)));
	unsigned a, b, c, d, i;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_AES) || !(feat & IMB_FEATURE_AESNI))
		return -EOPNOTSUPP;
	m->mgr = alloc_mb_mgr(0);
	if (!m->mgr)
		return -ENOMEM;
	if (c & bit_OSXSAVE)
		xcr0 = xgetbv0();
	if ((xcr0 & 0xe6) == 0xe6 && (feat & IMB_FEATURE_AVX512_SKX) == IMB_FEATURE_AVX512_SKX)
		init_mb_mgr_avx512(m->mgr);
	else if ((xcr0 & 0x6) == 0x6 && (feat & IMB_FEATURE_AVX2))
		init_mb_mgr_avx2(m->mgr);
	else if ((xcr0 & 0x6) == 0x6 && (feat & IMB_FEATURE_AVX))
		init_mb_mgr_avx(m->mgr);
	else
		init_mb_mgr_sse(m->mgr);
	IMB_AES_KEYEXP_128(m->mgr, bench_key, m->cbc_enc, m->cbc_dec);
	IMB_AES256_GCM_PRE(m->mgr, bench_key, &m->gcm);
	for (i = 0; i < 64; i++)
		pad[i] = (i < 32 ? bench_key[i] : 0) ^ 0x36;
	IMB_SHA256_ONE_BLOCK(m->mgr, pad, m->ipad);
	for (i = 0; i < 64; i++)
		pad[i] = (i < 32 ? bench_key[i] : 0) ^ 0x5c;
	IMB_SHA256_ONE_BLOCK(m->mgr, pad, m->opad);
	return 0;
}

static void mbbase_fini(struct mbbase *m)
{
	if (m->mgr)
		free_mb_mgr(m->mgr);
}

static bool mb_kind(enum kind k)
{
	return k == K_CBC_ENC || k == K_GCM_ENC || k == K_HMAC;
}

static int mb_check(IMB_JOB *job, unsigned *left)
{
	if (!job)
		return 0;
	(*left)--;
	return job->status == IMB_STATUS_COMPLETED ? 0 : -EIO;
}

/* Step @i of @w for the chains of @n slots (blocks blk0..), as one burst. */
static int mbbase_step(struct mbbase *m, const struct workload *w, unsigned i,
		       struct slot *slots, unsigned n, size_t bs, uint8_t (*ivs)[16])
{
	const struct node *nd = &w->n[i];
	unsigned j, left = n;
	int ret = 0;

	for (j = 0; j < n; j++) {
		struct slot *s = &slots[j];
		IMB_JOB *job = IMB_GET_NEXT_JOB(m->mgr);

		memset(job, 0, sizeof(*job));
		job->src = s->buf[nd->in];
		job->dst = nd->out >= 0 ? s->buf[nd->out] : NULL;
		job->cipher_direction = IMB_DIR_ENCRYPT;
		job->chain_order = IMB_ORDER_CIPHER_HASH;
		job->iv = ivs[j];
		switch (nd->kind) {
		case K_CBC_ENC:
			job->cipher_mode = IMB_CIPHER_CBC;
			job->hash_alg = IMB_AUTH_NULL;
			job->enc_keys = m->cbc_enc;
			job->dec_keys = m->cbc_dec;
			job->key_len_in_bytes = 16;
			job->msg_len_to_cipher_in_bytes = bs;
			job->iv_len_in_bytes = 16;
			break;
		case K_GCM_ENC:
			job->cipher_mode = IMB_CIPHER_GCM;
			job->hash_alg = IMB_AUTH_AES_GMAC;
			job->enc_keys = &m->gcm;
			job->dec_keys = &m->gcm;
			job->key_len_in_bytes = 32;
			job->msg_len_to_cipher_in_bytes = bs;
			job->msg_len_to_hash_in_bytes = bs;
			job->iv_len_in_bytes = 12;
			job->auth_tag_output = s->tag[i];
			job->auth_tag_output_len_in_bytes = 16;
			break;
		default:
			job->cipher_mode = IMB_CIPHER_NULL;
			job->hash_alg = IMB_AUTH_HMAC_SHA_256;
			job->msg_len_to_hash_in_bytes = bs;
			job->auth_tag_output = s->mac[i];
			job->auth_tag_output_len_in_bytes = 32;
			job->u.HMAC._hashed_auth_key_xor_ipad = m->ipad;
			job->u.HMAC._hashed_auth_key_xor_opad = m->opad;
			break;
		}
		ret |= mb_check(IMB_SUBMIT_JOB(m->mgr), &left);
		while ((job = IMB_GET_COMPLETED_JOB(m->mgr)))
			ret |= mb_check(job, &left);
	}
	while (left) {
		IMB_JOB *job = IMB_FLUSH_JOB(m->mgr);

		if (!job)
			break;
		ret |= mb_check(job, &left);
	}
	return left ? -EIO : ret;
}
#else
struct mbbase {
	void *mgr;
};

static int mbbase_init(struct mbbase *m)
{
	return -EOPNOTSUPP;
}

static void mbbase_fini(struct mbbase *m)
{
}

static bool mb_kind(enum kind k)
{
	return false;
}

static int mbbase_step(struct mbbase *m, const struct workload *w, unsigned i,
		       struct slot *slots, unsigned n, size_t bs, uint8_t (*ivs)[16])
{
	return -EOPNOTSUPP;
}
#endif

/* ------------------------------------------------------------------ */
/* The same chains through atx                                        */
/* ------------------------------------------------------------------ */

struct bench_run {
	struct atx_ctx *ctx;
	struct atx_session *sess[K__COUNT];
	const struct workload *w;
	size_t bs;
	unsigned qd;
	struct slot *slots;     /* atx's */
	struct slot *bslots;    /* the baseline's */
	int fd_in, fd_out;
	struct mbbase *mb;      /* the intel-ipsec-mb baseline, or NULL */
	uint8_t (*ivs)[16];     /* its IVs, one per slot */
	uint64_t next_blk;
	uint64_t done;          /* chains completed this round */
	uint64_t target;        /* op-count mode: chains per round */
	uint64_t deadline;
	bool stop;
	int err;
	double *lat;            /* sampled chain latencies (us) */
	size_t nlat, maxlat;
	/* burst: workloads */
	void **ready;           /* slots (struct slot *) whose chain completed, to start again */
	unsigned nready;
	struct atx_step *bsteps;
	struct atx_step *csteps;        /* chain: each slot's steps, ATX_CHAIN_MAX per slot */
	struct atx_prep **preps;        /* prep: each slot's prepared chain (one round's) */
	struct atx_submit psub;         /* prep: what every run is submitted with but cb_arg */
	struct atx_step bproto; /* the step of slot 0: what all slots' steps share */
	ptrdiff_t bout_off;     /* where a slot's step writes its tag/MAC/crc, or -1 */
};

static int submit_chain(struct bench_run *r, struct slot *s);
static int submit_linked(struct bench_run *r, struct slot *s);

#define LAT_EVERY 64            /* chains per latency sample (a power of two) */
#define LAT_EVERY_S "64"
/*
 * Chains per look at the clock (a power of two), on both sides, for the
 * end of a timed round.  A read costs ~27 ns here; the baseline used to
 * read it once per pass of qd chains, which charged it 27 ns a chain at
 * depth 1: the 4K prep chain showed 1.005 of the hand loop there, 0.965
 * without that charge.
 */
#define CLOCK_EVERY 256

/* Zeroed slots, aligned for their cache-line members (calloc gives 16 bytes). */
static struct slot *slots_new(unsigned n)
{
	struct slot *s = aligned_alloc(64, sizeof(*s) * n);

	if (s)
		memset(s, 0, sizeof(*s) * n);
	return s;
}


/*
 * A chain on @s ended with @status: count it, sample its latency, and
 * decide whether the round is over (r->stop).  False when it failed.
 */
static inline __attribute__((always_inline)) bool chain_end(struct bench_run *r,
							    struct slot *s, int status)
{
	if (status) {
		r->err = status;
		r->stop = true;
		return false;
	}
	r->done++;
	if (s->t0 && r->nlat < r->maxlat)
		r->lat[r->nlat++] = (double)(now_ns() - s->t0) / 1e3;
	if (r->target) {
		if (r->next_blk >= r->target)
			r->stop = true;
	} else if (!r->stop && (r->done & (CLOCK_EVERY - 1)) == 0 && now_ns() >= r->deadline) {
		r->stop = true;
	}
	return true;
}

static void chain_done(struct atx_tx *tx, int status, void *arg)
{
	struct slot *s = arg;
	struct bench_run *r = s->run;

	if (!chain_end(r, s, status))
		return;
	if (r->w->burst) {
		r->ready[r->nready++] = s;
	} else if (!r->stop) {
		/*
		 * A chain: chain straight to its submission, not through
		 * submit_chain, whose frame for the per-step workloads (~0.5
		 * KiB, six saved registers) the hand loop has nothing like.
		 */
		int ret = r->w->chain ? submit_linked(r, s) : submit_chain(r, s);

		if (ret < 0) {
			r->err = ret;
			r->stop = true;
		}
	}
}

/* Step @i of slot @s's chain as plain data (chain:, prep: and burst: workloads). */
static void step_of(const struct bench_run *r, struct slot *s, unsigned i, const uint8_t *iv,
		    struct atx_step *st)
{
	const struct node *n = &r->w->n[i];
	void *in = s->buf[n->in];
	void *out = n->out >= 0 ? s->buf[n->out] : NULL;

	switch (n->kind) {
	case K_XTS_ENC:
	case K_XTS_DEC:
	case K_CBC_ENC:
		*st = (struct atx_step){ .op = ATX_STEP_CIPHER, .sess = r->sess[n->kind],
					 .dst = out, .src = in, .len = r->bs, .iv = iv };
		break;
	case K_GCM_ENC:
		*st = (struct atx_step){ .op = ATX_STEP_AEAD, .sess = r->sess[n->kind], .dst = out,
					 .src = in, .len = r->bs, .iv = iv, .iv_len = 12,
					 .out = s->tag[i] };
		break;
	case K_HMAC:
		*st = (struct atx_step){ .op = ATX_STEP_DIGEST, .sess = r->sess[n->kind],
					 .src = in, .len = r->bs, .out = s->mac[i] };
		break;
	case K_CRC:
		*st = (struct atx_step){ .op = ATX_STEP_CRC32C, .src = in, .len = r->bs,
					 .out = &s->crc[i] };
		break;
	default: /* K_COPY: workload_parse admits nothing else */
		*st = (struct atx_step){ .op = ATX_STEP_MEMCPY, .dst = out, .src = in,
					 .len = r->bs };
		break;
	}
}

/* The bookkeeping of a chain about to start on @s: its block number, a latency sample. */
static void chain_start(struct bench_run *r, struct slot *s)
{
	s->blk = r->next_blk++;
	s->ran = true;
	/*
	 * Sample one chain in LAT_EVERY for latency.  A timestamp costs ~27 ns
	 * here (clock_gettime through the vDSO), two per sampled chain, which
	 * the baseline does not take: at 1 in 16 the atx side paid ~4 ns per
	 * chain of measurement more than the baseline, at 1 in 64 ~1 ns.
	 */
	s->t0 = (s->blk & (LAT_EVERY - 1)) == 0 ? now_ns() : 0;
}

/*
 * A "chain:" workload: the same steps as plain data, in one atx_chain()
 * call.  A slot's buffers do not change, so its steps are built once per
 * round (atx_round) and each chain only writes its IV, which atx copies
 * at submission -- what a storage stack submitting one chain shape per
 * block does, and what the hand loop does (it rebuilds nothing either).
 * A "prep:" workload prepares each slot's steps once per round
 * (atx_prep_new) and runs them with the chain's IV (atx_prep_run).
 */
static int submit_linked(struct bench_run *r, struct slot *s)
{
	struct atx_submit sub = { .flags = ATX_F_ACK, .cb = chain_done, .cb_arg = s };

	chain_start(r, s);
	iv_of(s->blk, s->iv);
	if (r->w->prep) {
		r->psub.cb_arg = s;
		return atx_prep_run(r->preps[s->idx], s->iv, &r->psub) ? 0 : -errno;
	}
	return atx_chain(r->ctx, &r->csteps[(size_t)s->idx * ATX_CHAIN_MAX], r->w->nn, &sub) ? 0 :
											    -errno;
}

/*
 * A "prep:" chain's callback: the next run of the slot's prepared chain
 * straight from here, with the one submission every run shares, as an
 * application with one kind of request would write it (the hand loop
 * dispatches on nothing per chain either).
 */
static void prep_done(struct atx_tx *tx, int status, void *arg)
{
	struct slot *s = arg;
	struct bench_run *r = s->run;

	if (!chain_end(r, s, status) || r->stop)
		return;
	chain_start(r, s);
	iv_of(s->blk, s->iv);
	r->psub.cb_arg = s;
	if (!atx_prep_run(r->preps[s->idx], s->iv, &r->psub)) {
		r->err = -errno;
		r->stop = true;
	}
}

/*
 * A "burst:" workload: the slots whose chain completed since the last
 * burst (r->ready) start their next one together, in one atx_burst()
 * call, the way a DPDK application enqueues what it dequeued.
 */
static int submit_burst(struct bench_run *r)
{
	struct atx_submit sub = { .flags = ATX_F_ACK, .cb = chain_done };
	unsigned i, n = r->nready;
	int ret;

	if (r->target && r->next_blk + n > r->target)
		n = r->target > r->next_blk ? (unsigned)(r->target - r->next_blk) : 0;
	for (i = 0; i < n; i++) {
		struct slot *s = (struct slot *)r->ready[i];
		struct atx_step *st = &r->bsteps[i];    /* the rest as atx_round left it */

		chain_start(r, s);
		iv_of(s->blk, s->iv);
		st->src = s->bsrc;
		st->dst = s->bdst;
		if (st->iv)
			st->iv = s->iv;
		if (r->bout_off >= 0)
			st->out = (char *)s + r->bout_off;
	}
	r->nready = 0;
	if (!n)
		return 0;
	ret = atx_burst(r->ctx, r->bsteps, n, &sub, (void *const *)r->ready, NULL);
	if (ret < 0)
		return ret;
	return (unsigned)ret < n ? -errno : 0;
}

static int submit_chain(struct bench_run *r, struct slot *s)
{
	const struct workload *w = r->w;
	size_t bs = r->bs;
	struct atx_tx *tx[MAX_NODES];
	uint8_t iv[16];
	unsigned i;

	if (w->chain)
		return submit_linked(r, s);
	chain_start(r, s);
	iv_of(s->blk, iv);
	for (i = 0; i < w->nn; i++) {
		const struct node *n = &w->n[i];
		struct atx_tx *deps[MAX_PAR];
		struct atx_submit sub = { .flags = ATX_F_ACK };
		void *in = n->in >= 0 ? s->buf[n->in] : NULL;
		void *out = n->out >= 0 ? s->buf[n->out] : NULL;
		unsigned p;

		if (n->npar == 1) {
			sub.depend_tx = tx[n->par[0]];
		} else if (n->npar > 1) {
			for (p = 0; p < n->npar; p++)
				deps[p] = tx[n->par[p]];
			sub.deps = deps;
			sub.ndeps = n->npar;
		}
		if (i + 1 == w->nn) {
			sub.cb = chain_done;
			sub.cb_arg = s;
		}
		switch (n->kind) {
		case K_XTS_ENC:
		case K_XTS_DEC:
		case K_CBC_ENC:
			tx[i] = atx_cipher(r->ctx, r->sess[n->kind], out, in, bs, iv, &sub);
			break;
		case K_GCM_ENC:
			tx[i] = atx_aead(r->ctx, r->sess[n->kind], out, in, bs, iv, 12, NULL, 0,
					 s->tag[i], &sub);
			break;
		case K_HMAC:
			tx[i] = atx_digest(r->ctx, r->sess[n->kind], s->mac[i], in, bs, &sub);
			break;
		case K_CRC:
			tx[i] = atx_crc32c(r->ctx, &s->crc[i], in, bs, 0, &sub);
			break;
		case K_COPY:
			tx[i] = atx_memcpy(r->ctx, out, in, bs, &sub);
			break;
		case K_WRITE:
			tx[i] = atx_write(r->ctx, r->fd_out, in, bs, (uint64_t)s->idx * bs, &sub);
			break;
		case K_READ:
			tx[i] = atx_read(r->ctx, r->fd_in, out, bs, (uint64_t)s->idx * bs, &sub);
			break;
		case K_XOR:
			s->srcs[i][0] = in;
			for (p = 1; p < XOR_SRCS; p++)
				s->srcs[i][p] = s->extra[p - 1];
			tx[i] = atx_xor(r->ctx, out, s->srcs[i], XOR_SRCS, bs, &sub);
			break;
		case K_PQ:
			s->srcs[i][0] = in;
			for (p = 1; p < PQ_DATA; p++)
				s->srcs[i][p] = s->extra[p - 1];
			tx[i] = atx_pq(r->ctx, out, s->buf[n->out2], s->srcs[i], PQ_DATA, bs, &sub);
			break;
		default:
			tx[i] = atx_trigger_callback(r->ctx, &sub);
			break;
		}
		if (!tx[i])
			return -errno;
	}
	return 0;
}

static double atx_round(struct bench_run *r, uint64_t ns, uint64_t ops, double *cpu)
{
	uint64_t t0, t;
	double c0;
	unsigned i;
	int ret;

	r->done = 0;
	r->stop = false;
	r->err = 0;
	r->next_blk = 0;
	r->target = ops;
	r->psub = (struct atx_submit){ .flags = ATX_F_ACK, .cb = prep_done };
	/*
	 * chain: the slots' steps, with this round's sessions (a --versus
	 * side swaps them); prep: their prepared chains.  Set-up, outside the
	 * timed part: a storage stack prepares a chain shape once and runs
	 * it for every block, and the baseline has nothing like it to pay
	 * for.  Timed, the 64 atx_prep_new calls cost 20-30 us a round,
	 * which is 5 % of a 0.5-ms round (--seconds 0.03 --rounds 61).
	 */
	for (i = 0; !r->w->burst && r->w->chain && i < r->qd; i++) {
		unsigned j;

		for (j = 0; j < r->w->nn; j++)
			step_of(r, &r->slots[i], j, r->slots[i].iv,
				&r->csteps[(size_t)i * ATX_CHAIN_MAX + j]);
		if (r->w->prep) {
			r->preps[i] = atx_prep_new(r->ctx, &r->csteps[(size_t)i * ATX_CHAIN_MAX],
						   r->w->nn);
			if (!r->preps[i]) {
				r->err = -errno;
				break;
			}
		}
	}
	c0 = cpu_s();
	t0 = now_ns();
	r->deadline = t0 + ns;
	if (r->w->burst) {
		/* Start every slot in one burst, then each pass's completions in the next. */
		for (i = 0; i < r->qd; i++) {
			r->ready[i] = &r->slots[i];
			r->bsteps[i] = r->bproto;
			r->bsteps[i].sess = r->sess[r->w->n[0].kind];   /* a --versus side swaps them */
		}
		r->nready = r->qd;
		while (!r->stop) {
			ret = submit_burst(r);
			if (ret >= 0)
				ret = atx_run(r->ctx, ATX_RUN_ONCE);
			if (ret == 0 && !r->nready)
				break;  /* nothing in flight, nothing to start: never spin */
			if (ret < 0) {
				r->err = ret;
				r->stop = true;
			}
		}
		r->nready = 0;
	} else {
		for (i = 0; !r->err && i < r->qd && !(ops && i >= ops); i++) {
			ret = submit_chain(r, &r->slots[i]);
			if (ret < 0) {
				r->err = ret;
				break;
			}
		}
	}
	ret = atx_run(r->ctx, ATX_RUN_DEFAULT);
	if (ret < 0 && !r->err)
		r->err = ret;
	r->nready = 0;
	t = now_ns();
	*cpu = (cpu_s() - c0) / (double)(r->done ? r->done : 1);
	for (i = 0; r->w->prep && i < r->qd; i++) {
		atx_prep_free(r->preps[i]);
		r->preps[i] = NULL;
	}
	return r->err ? -1.0 : (double)r->done * 1e9 / (double)(t - t0);
}

/* @cnt chains (blocks n0..) step by step, crypto steps as ipsec-mb bursts. */
static int baseline_batch(struct bench_run *r, struct baseline *b, uint64_t n0, unsigned cnt)
{
	const struct workload *w = r->w;
	unsigned i, j;
	int ret;

	for (j = 0; j < cnt; j++) {
		r->bslots[j].blk = n0 + j;
		r->bslots[j].ran = true;
		iv_of(n0 + j, r->ivs[j]);
	}
	for (i = 0; i < w->nn; i++) {
		/* The library takes at most 65534 bytes per CBC or HMAC job (GCM: any). */
		if (mb_kind(w->n[i].kind) && (r->bs <= 65534 || w->n[i].kind == K_GCM_ENC)) {
			ret = mbbase_step(r->mb, w, i, r->bslots, cnt, r->bs, r->ivs);
			if (ret < 0)
				return ret;
			continue;
		}
		for (j = 0; j < cnt; j++) {
			ret = baseline_step(b, w, i, &r->bslots[j], r->bs, r->ivs[j], r->fd_in,
					    r->fd_out, (off_t)((r->qd + j) * r->bs));
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/*
 * Has the baseline's round run its course after @n chains?  The clock is
 * read once per CLOCK_EVERY chains, as chain_done reads it for the atx
 * side.
 */
static bool baseline_over(uint64_t n, uint64_t *checked, uint64_t t0, uint64_t ns, uint64_t ops)
{
	if (ops)
		return n >= ops;
	if (n - *checked < CLOCK_EVERY)
		return false;
	*checked = n;
	return now_ns() - t0 >= ns;
}

/* Chains per second of the baseline, over @ns nanoseconds or @ops chains. */
static double baseline_round(struct bench_run *r, struct baseline *b, uint64_t ns, uint64_t ops,
			     double *cpu, int *err)
{
	uint64_t t0 = now_ns(), t, n = 0, checked = 0;
	double c0 = cpu_s();

	if (r->mb) {
		do {
			unsigned cnt = r->qd;
			int ret;

			if (ops && ops - n < cnt)
				cnt = (unsigned)(ops - n);
			ret = baseline_batch(r, b, n, cnt);
			if (ret < 0) {
				*err = ret;
				return -1;
			}
			n += cnt;
		} while (!baseline_over(n, &checked, t0, ns, ops));
		t = now_ns();
		*cpu = (cpu_s() - c0) / (double)n;
		r->done = n;
		return (double)n * 1e9 / (double)(t - t0);
	}
	do {
		unsigned i;

		for (i = 0; i < r->qd && !(ops && n >= ops); i++, n++) {
			struct slot *s = &r->bslots[i];
			int ret = baseline_chain(b, r->w, s, r->bs, n, r->fd_in, r->fd_out,
						 (off_t)((r->qd + i) * r->bs));

			if (ret < 0) {
				*err = ret;
				return -1;
			}
		}
	} while (!baseline_over(n, &checked, t0, ns, ops));
	t = now_ns();
	*cpu = (cpu_s() - c0) / (double)n;
	r->done = n;
	return (double)n * 1e9 / (double)(t - t0);
}

/*
 * The last chain of every atx slot against the baseline recomputed for
 * the same block: every buffer written, every crc, MAC and tag, and what
 * a write step put in the file.
 */
static int verify(struct bench_run *r, struct baseline *b)
{
	const struct workload *w = r->w;
	size_t bs = r->bs;
	unsigned char *fbuf = NULL;
	unsigned i, j;
	int ret = 0;

	if (w->uses_file_out) {
		fbuf = malloc(bs);
		if (!fbuf)
			return -ENOMEM;
	}
	/* An ipsec-mb baseline is itself checked against OpenSSL for its last blocks. */
	for (i = 0; r->mb && i < r->qd && !ret; i++) {
		struct slot *e = &r->bslots[i], t = *e;

		if (!e->ran)
			continue;
		for (j = 1; j < w->nbuf; j++) {
			t.buf[j] = malloc(bs + 64);
			if (!t.buf[j])
				ret = -ENOMEM;
		}
		if (!ret)
			ret = baseline_chain(b, w, &t, bs, e->blk, r->fd_in, r->fd_out,
					     (off_t)((r->qd + i) * bs));
		for (j = 1; j < w->nbuf && !ret; j++)
			if (memcmp(t.buf[j], e->buf[j], bs))
				ret = -EBADMSG;
		for (j = 0; j < w->nn && !ret; j++)
			if ((w->n[j].kind == K_HMAC && memcmp(t.mac[j], e->mac[j], 32)) ||
			    (w->n[j].kind == K_GCM_ENC && memcmp(t.tag[j], e->tag[j], 16)) ||
			    (w->n[j].kind == K_CRC && t.crc[j] != e->crc[j]))
				ret = -EBADMSG;
		for (j = 1; j < w->nbuf; j++)
			free(t.buf[j]);
		if (ret == -EBADMSG)
			fprintf(stderr, "atx: bench: the intel-ipsec-mb baseline differs from OpenSSL\n");
	}
	for (i = 0; i < r->qd && !ret; i++) {
		struct slot *s = &r->slots[i], *e = &r->bslots[i];

		if (!s->ran)
			continue;       /* op-count mode: this slot never ran */
		ret = baseline_chain(b, w, e, bs, s->blk, r->fd_in, r->fd_out,
				     (off_t)((r->qd + i) * bs));
		if (ret < 0)
			break;
		for (j = 1; j < w->nbuf; j++)
			if (memcmp(s->buf[j], e->buf[j], bs))
				ret = -EBADMSG;
		for (j = 0; j < w->nn; j++) {
			const struct node *n = &w->n[j];

			if ((n->kind == K_CRC && s->crc[j] != e->crc[j]) ||
			    (n->kind == K_HMAC && memcmp(s->mac[j], e->mac[j], 32)) ||
			    (n->kind == K_GCM_ENC && memcmp(s->tag[j], e->tag[j], 16)))
				ret = -EBADMSG;
			if (n->kind == K_WRITE &&
			    (pread(r->fd_out, fbuf, bs, (off_t)(i * bs)) != (ssize_t)bs ||
			     memcmp(fbuf, s->buf[n->in], bs)))
				ret = -EBADMSG;
		}
	}
	free(fbuf);
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

/* q[] = the quartiles and median (pct's, median's) of a[i] / b[i], rounds in the order run. */
static void pair_ratio(const double *a, const double *b, unsigned n, double q[3])
{
	double *r = malloc(n * sizeof(*r));
	unsigned i;

	q[0] = q[1] = q[2] = 0;
	if (!r)
		return;
	for (i = 0; i < n; i++)
		r[i] = a[i] / b[i];
	q[0] = pct(r, n, 0.25);
	q[2] = pct(r, n, 0.75);
	q[1] = median(r, n);
	free(r);
}

/*
 * hand:N's rounds that ran at FULL_SCALE * N or more of the baseline's
 * round before them: on this VM two threads get anything from ~1.2x to
 * 2x one, so a worker-lane row is judged apart in the rounds where the
 * host gave N CPUs.  @q: atx / baseline paired over those rounds.
 */
#define FULL_SCALE 0.95

static unsigned full_rounds(const double *a, const double *b, const double *h, unsigned n,
			    unsigned threads, double q[3])
{
	double *ra = malloc(n * sizeof(*ra)), *rb = malloc(n * sizeof(*rb));
	unsigned i, k = 0;

	q[0] = q[1] = q[2] = 0;
	if (ra && rb) {
		for (i = 0; i < n; i++)
			if (h[i] >= FULL_SCALE * threads * b[i]) {
				ra[k] = a[i];
				rb[k++] = b[i];
			}
		if (k)
			pair_ratio(ra, rb, k, q);
	}
	free(ra);
	free(rb);
	return k;
}

static int slot_alloc(struct slot *s, unsigned idx, const struct workload *w, size_t bs,
		      struct bench_run *r)
{
	unsigned j;
	size_t k;

	s->idx = idx;
	s->run = r;
	for (j = 0; j < w->nbuf; j++) {
		/* +16: room for the GCM final call, which writes nothing but may be given it. */
		s->buf[j] = aligned_alloc(64, bs + 64);
		if (!s->buf[j])
			return -ENOMEM;
		memset(s->buf[j], 0, bs + 64);
	}
	for (k = 0; k < bs; k++)
		s->buf[0][k] = (unsigned char)(k * 131 + idx * 7 + (k >> 8));
	if (w->raid)
		for (j = 0; j < NEXTRA; j++) {
			s->extra[j] = aligned_alloc(64, bs);
			if (!s->extra[j])
				return -ENOMEM;
			for (k = 0; k < bs; k++)
				s->extra[j][k] = (unsigned char)(k * 29 + j * 53 + idx * 11 + (k >> 9));
		}
	return 0;
}

static void slot_free(struct slot *s)
{
	unsigned j;

	for (j = 0; j < MAX_BUFS; j++)
		free(s->buf[j]);
	for (j = 0; j < NEXTRA; j++)
		free(s->extra[j]);
}

/*
 * --versus hand:N: the baseline loop in N threads at once, each on
 * buffers, contexts (and intel-ipsec-mb manager) of its own, interleaved
 * in the rounds like any side.  It is what this machine gives N threads
 * of the same work at that moment -- the ceiling of a row with worker
 * lanes, which bench-scaling measures apart and not interleaved.  On a
 * VM whose vCPUs may share a physical core, or whose host turbo depends
 * on the neighbours, that ceiling moves from round to round; paired with
 * the row it tells atx's cost from the machine's.  Thread 0 is the
 * caller.  With the loop thread pinned (--cpu) the others go one to a
 * CPU on the process's other CPUs in turn, as a ceiling should; left to
 * the scheduler, a thread created on the loop thread's CPU stays there
 * for milliseconds, and a short round measures one CPU.  Without --cpu
 * they are not pinned.  Its output is not checked: it is the reference
 * code itself.
 */
struct hand_thr {
	struct bench_run r;
	struct baseline b;
	struct mbbase mb;
	pthread_t th;
	struct hand *h;
	double rate;
	uint64_t t0, t1, chains;        /* its round: when it ran, and how many chains */
	int err;
	int cpu;                /* where it is pinned (-1: not), and ran_on: where it ended */
	int ran_on;
};

struct hand {
	unsigned n;
	bool ossl;                      /* "openssl": t[0] is its own, not the caller's */
	uint64_t ns, ops;               /* this round's length */
	atomic_uint ready;              /* threads waiting for the start */
	atomic_int go;                  /* 1: start together; -1: called off (a thread not created) */
	cpu_set_t mask;                 /* the process's CPUs at start: unpinned threads' */
	struct hand_thr t[MAX_HAND];    /* [1..n-1]; thread 0 runs on the caller's (but ossl) */
};

static void hand_thr_fini(struct hand_thr *t)
{
	unsigned j;

	if (t->r.bslots)
		for (j = 0; j < t->r.qd; j++)
			slot_free(&t->r.bslots[j]);
	free(t->r.bslots);
	free(t->r.ivs);
	mbbase_fini(&t->mb);
	baseline_fini(&t->b);
}

static void hand_fini(struct hand *h)
{
	unsigned i;

	if (!h)
		return;
	for (i = h->ossl ? 0 : 1; i < h->n; i++)
		hand_thr_fini(&h->t[i]);
	free(h);
}

/* Threads 1..n-1 on the process's CPUs in turn, the loop thread's last (unpinned: -1). */
static void hand_place(struct hand *h, unsigned n, int loop_cpu)
{
	int cpus[CPU_SETSIZE], nc = 0, c;
	unsigned i;

	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &h->mask) && c != loop_cpu)
			cpus[nc++] = c;
	if (loop_cpu >= 0)
		cpus[nc++] = loop_cpu;
	for (i = 1; i < n; i++)
		h->t[i].cpu = loop_cpu >= 0 ? cpus[(i - 1) % nc] : -1;
}

/* A thread's own buffers, contexts and (@mb) intel-ipsec-mb manager for @r's work. */
static int hand_thr_init(struct hand_thr *t, const struct bench_run *r, bool evp, bool mb)
{
	unsigned j;

	t->r = *r;
	t->r.mb = NULL;
	t->r.lat = NULL;
	t->r.bslots = slots_new(r->qd);
	t->r.ivs = calloc(r->qd, sizeof(*t->r.ivs));
	if (!t->r.bslots || !t->r.ivs || baseline_init(&t->b, evp) < 0)
		return -ENOMEM;
	for (j = 0; j < r->qd; j++)
		if (slot_alloc(&t->r.bslots[j], j, r->w, r->bs, &t->r))
			return -ENOMEM;
	if (mb) {
		if (mbbase_init(&t->mb) < 0)
			return -ENOMEM;
		t->r.mb = &t->mb;
	}
	return 0;
}

/*
 * @ossl: the "openssl" side, one thread: the caller's, on state of its own
 * (t[0]), with the OpenSSL/ISA-L loop even where the row's baseline is
 * intel-ipsec-mb.
 */
static struct hand *hand_new(unsigned n, const struct bench_run *r, bool evp, bool ossl,
			     const cpu_set_t *mask, int loop_cpu)
{
	struct hand *h = calloc(1, sizeof(*h));
	unsigned i;

	if (!h)
		return NULL;
	h->mask = *mask;
	h->ossl = ossl;
	hand_place(h, n, loop_cpu);
	for (i = ossl ? 0 : 1; i < n; i++) {
		h->n = i + 1;           /* what hand_fini frees */
		if (hand_thr_init(&h->t[i], r, evp, r->mb && !ossl) < 0)
			goto fail;
	}
	h->n = n;
	return h;
fail:
	hand_fini(h);
	return NULL;
}

/*
 * Wait for the start; false: the round was called off.  Spinning (and
 * yielding, for more threads than CPUs): a wake-up from a futex takes
 * tens of microseconds here, which would stagger the threads' rounds.
 */
static bool hand_start(struct hand *h)
{
	int go;

	atomic_fetch_add(&h->ready, 1);
	while (!(go = atomic_load(&h->go)))
		sched_yield();
	return go > 0;
}

static void *hand_thread(void *arg)
{
	struct hand_thr *t = arg;
	double cpu;

	if (hand_start(t->h)) {
		t->t0 = now_ns();
		t->rate = baseline_round(&t->r, &t->b, t->h->ns, t->h->ops, &cpu, &t->err);
		t->t1 = now_ns();
		t->chains = t->r.done;
		t->ran_on = sched_getcpu();
	}
	return NULL;
}

/*
 * One round of the N threads: all their chains over the time from the
 * first one's start to the last one's end (chains per second), or -1
 * (*err).
 */
static double hand_round(struct hand *h, struct bench_run *r, struct baseline *b, uint64_t ns,
			 uint64_t ops, int *err)
{
	unsigned i, started;
	uint64_t t0, t1, chains;
	double cpu, rate;

	if (h->ossl)
		return baseline_round(&h->t[0].r, &h->t[0].b, ns, ops, &cpu, err);
	h->ns = ns;
	h->ops = ops;
	atomic_store(&h->ready, 0);
	atomic_store(&h->go, 0);
	for (i = 1; i < h->n; i++) {
		h->t[i].h = h;
		h->t[i].err = 0;
		h->t[i].rate = -1;
	}
	for (started = 1; started < h->n; started++) {
		struct hand_thr *t = &h->t[started];
		pthread_attr_t attr;
		cpu_set_t one;
		int ret;

		/* Never the pinned loop thread's mask, which a new thread would inherit. */
		CPU_ZERO(&one);
		if (t->cpu >= 0)
			CPU_SET(t->cpu, &one);
		if (pthread_attr_init(&attr))
			break;
		ret = pthread_attr_setaffinity_np(&attr, sizeof(cpu_set_t), t->cpu >= 0 ? &one : &h->mask);
		if (!ret)
			ret = pthread_create(&t->th, &attr, hand_thread, t);
		pthread_attr_destroy(&attr);
		if (ret)
			break;
	}
	if (started < h->n) {
		atomic_store(&h->go, -1);
		for (i = 1; i < started; i++)
			pthread_join(h->t[i].th, NULL);
		*err = -EAGAIN;
		return -1;
	}
	while (atomic_load(&h->ready) < h->n - 1)
		sched_yield();
	atomic_store(&h->go, 1);
	t0 = now_ns();
	rate = baseline_round(r, b, ns, ops, &cpu, err);
	t1 = now_ns();
	chains = r->done;
	for (i = 1; i < h->n; i++)
		pthread_join(h->t[i].th, NULL);
	if (rate < 0)
		return -1;
	for (i = 1; i < h->n; i++) {
		struct hand_thr *t = &h->t[i];

		if (t->rate < 0) {
			*err = t->err < 0 ? t->err : -EIO;
			return -1;
		}
		chains += t->chains;
		if (t->t0 < t0)
			t0 = t->t0;
		if (t->t1 > t1)
			t1 = t->t1;
	}
	return (double)chains * 1e9 / (double)(t1 - t0);
}

static int tmpfile_in(const char *dir)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/atx-bench-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* Sessions for every crypto step of the workload on the engine asked for. */
static bool workload_has_crypto(const struct workload *w)
{
	unsigned i;

	for (i = 0; i < w->nn; i++)
		if (kind_crypto(w->n[i].kind))
			return true;
	return false;
}

static bool ctx_has_engine(struct atx_ctx *ctx, const char *name)
{
	unsigned i;

	for (i = 0; i < atx_engine_count(ctx); i++)
		if (!strcmp(atx_engine_name(ctx, i), name))
			return true;
	return false;
}

static int open_sessions(struct bench_run *r, struct atx_session **sess, const char *engine,
			 bool fallback, char *served, size_t nserved)
{
	unsigned i;

	served[0] = '\0';
	for (i = 0; i < r->w->nn; i++) {
		enum kind k = r->w->n[i].kind;
		struct atx_session_params p = { .size = sizeof(p), .key = bench_key };
		size_t l;

		if (!kind_crypto(k) || sess[k])
			continue;
		switch (k) {
		case K_XTS_ENC:
		case K_XTS_DEC:
			p.service = ATX_SVC_CIPHER;
			p.cipher = ATX_CIPHER_AES_XTS;
			p.key_len = 64;
			p.dir = k == K_XTS_DEC ? ATX_DECRYPT : ATX_ENCRYPT;
			break;
		case K_CBC_ENC:
			p.service = ATX_SVC_CIPHER;
			p.cipher = ATX_CIPHER_AES_CBC;
			p.key_len = 16;
			break;
		case K_GCM_ENC:
			p.service = ATX_SVC_AEAD;
			p.aead = ATX_AEAD_AES_GCM;
			p.key_len = 32;
			p.digest_len = 16;
			break;
		default:
			p.service = ATX_SVC_MAC;
			p.mac = ATX_MAC_HMAC_SHA256;
			p.key_len = 32;
			break;
		}
		p.engine = engine;
		sess[k] = atx_session_new(r->ctx, &p);
		if (!sess[k] && errno == EOPNOTSUPP && p.engine && fallback) {
			/* The engine cannot serve this step: the best one does, and the label says so. */
			p.engine = NULL;
			sess[k] = atx_session_new(r->ctx, &p);
		}
		if (!sess[k])
			return -errno;
		l = strlen(served);
		snprintf(served + l, nserved - l, "%s%s=%s", l ? "," : "", kind_name[k],
			 atx_session_engine(sess[k]));
	}
	return 0;
}

/*
 * Test hook: ATX_BENCH_FAULT=@which ("1": the row's side, "versus": the
 * --versus side) damages one result, to show that verification bites.
 */
static void fault_hook(struct bench_run *r, const char *which)
{
	const char *f = getenv("ATX_BENCH_FAULT");
	unsigned i;

	if (!f || strcmp(f, which) || !r->slots[0].ran)
		return;
	r->slots[0].buf[r->w->nbuf - 1][r->bs / 2] ^= 1;
	for (i = 0; i < r->w->nn; i++)
		r->slots[0].crc[i] ^= 1, r->slots[0].mac[i][0] ^= 1, r->slots[0].tag[i][0] ^= 1;
}

/*
 * --versus: one atx round with the crypto steps on the second session set
 * (same context, slots and chains), e.g. the soft engine beside an mb row,
 * so that the two engines are compared in interleaved rounds rather than
 * in rows measured minutes apart on a VM that drifts.
 */
static double versus_round(struct bench_run *r, struct atx_session **vsess, uint64_t ns,
			   uint64_t ops)
{
	struct atx_session *keep[K__COUNT];
	size_t nlat = r->nlat;
	double cpu, v;

	memcpy(keep, r->sess, sizeof(keep));
	memcpy(r->sess, vsess, sizeof(keep));
	v = atx_round(r, ns, ops, &cpu);
	memcpy(r->sess, keep, sizeof(keep));
	r->nlat = nlat;         /* latency samples are the row's own */
	return v;
}

/* Add (@sign 1) or take away (-1) each channel's completed descriptors. */
static void chan_ops(struct atx_ctx *ctx, struct bench_result *res, int sign)
{
	unsigned i, n = atx_chan_count(ctx);

	if (n > MAX_CH)
		n = MAX_CH;
	for (i = 0; i < n; i++) {
		struct atx_chan *ch = atx_chan_get(ctx, i);
		struct atx_chan_info ci = { 0 };
		struct atx_chan_stats st = { 0 };

		atx_chan_info(ch, &ci);
		atx_chan_stats(ch, &st);
		snprintf(res->ch[i].name, sizeof(res->ch[i].name), "%s", ci.name ? ci.name : "?");
		if (sign > 0)
			res->ch[i].ops += st.ops;
		else
			res->ch[i].ops -= st.ops;
	}
	res->nch = n;
}

/* A single crypto step that dpdk-test-crypto-perf has a test for. */
static bool dpdk_kind(const struct workload *w)
{
	return w->nn == 1 && kind_crypto(w->n[0].kind) && w->n[0].kind != K_XTS_DEC;
}

/*
 * --versus dpdk:PMD: one dpdk-test-crypto-perf run of @ops operations on
 * the row's step, size and burst (= queue depth), its worker lcore on the
 * loop thread's CPU.  Its own figure: the tool times its enqueue/dequeue
 * loop, not its start-up.  Returns ops/s, or -1 with @note saying why
 * and *@ret the peer's error.
 */
static double peer_round(const struct bench_opts *o, const struct bench_run *r, const char *pmd,
			 uint64_t ops, char *note, size_t len, int *ret)
{
	/* Time for its start-up, and for a round's work at a tenth of our rate. */
	struct bench_peer_how how = { .total_ops = ops, .worker_cpu = o->cpu,
				      .main_cpu = o->main_cpu,
				      .timeout_s = 15 + (unsigned)(5 * o->seconds / o->rounds) };
	struct bench_peer p;

	*ret = bench_peer_dpdk(kind_name[r->w->n[0].kind], pmd, r->bs, r->qd, &how, &p);
	snprintf(note, len, "%s", p.note);
	return *ret < 0 ? -1.0 : p.mops * 1e6;
}

/* The loop thread on @cpu (-1: as it was), after the context started its workers. */
static int pin_loop(const struct bench_opts *o, int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return -pthread_setaffinity_np(pthread_self(), sizeof(o->mask0), &o->mask0);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void progress(const struct bench_opts *o, unsigned idx, unsigned total,
		     const struct config *c, unsigned round)
{
	if (!o->progress)
		return;
	fprintf(stderr, "\r\033[K[%u/%u] %s %s bs=%zu qd=%u round %u/%u", idx, total, c->w->text,
		c->e->text, c->bs, c->qd, round, o->rounds);
	fflush(stderr);
}

static int run_config(const struct bench_opts *o, const struct config *c, struct bench_result *res,
		      unsigned idx, unsigned total)
{
	struct atx_ctx_opts co = { .size = sizeof(co), .soft_lanes = c->e->lanes,
				   .flags = c->e->no_inline ? ATX_CTX_F_NO_INLINE : 0,
				   .pool_size = c->qd * (c->w->nn + 1) + 64,
				   .engines = c->e->ctx_engines };
	struct bench_run r = { .w = c->w, .bs = c->bs, .qd = c->qd, .fd_in = -1, .fd_out = -1 };
	struct baseline b = { 0 };
	struct mbbase mbb = { 0 };
	double *a_ops = NULL, *b_ops = NULL, *a_cpu = NULL, *b_cpu = NULL, dummy, warm;
	double *v_ops[MAX_VS] = { NULL };
	struct atx_session *vsess[MAX_VS][K__COUNT] = { { NULL } };
	bool vs_on[MAX_VS] = { false }, pinned = false;
	struct hand *hands[MAX_VS] = { NULL };
	uint64_t peer_ops;
	uint64_t round_ns = (uint64_t)(o->seconds * 1e9 / o->rounds / 2);
	uint64_t round_ops = o->ops ? (o->ops + o->rounds - 1) / o->rounds : 0;
	const char *dev = NULL;
	unsigned i, v;
	int ret;

	memset(res, 0, sizeof(*res));
	res->c = *c;
	res->cpu = -1;
	snprintf(res->engine, sizeof(res->engine), "%s", c->e->text);
	if ((double)c->bs * c->qd * (c->w->nbuf + (c->w->raid ? NEXTRA : 0)) * 2 > 2e9) {
		snprintf(res->note, sizeof(res->note), "skipped: needs more than 2 GB of buffers");
		return res->status = -E2BIG;
	}
	if (c->w->raid && c->bs % 64) {
		snprintf(res->note, sizeof(res->note), "RAID steps need a block size multiple of 64");
		return res->status = -EINVAL;
	}
	ret = baseline_init(&b, o->evp_base);
	if (ret < 0) {
		snprintf(res->note, sizeof(res->note), "baseline: OpenSSL setup failed");
		goto out_baseline;
	}
	r.ctx = atx_ctx_new(&co);
	if (!r.ctx) {
		ret = -errno;
		snprintf(res->note, sizeof(res->note), "cannot attach engine %s: %s", c->e->text,
			 strerror(errno));
		goto out_baseline;
	}
	if (c->e->ctx_engines && strchr(c->e->ctx_engines, ':')) {
		unsigned n = atx_engine_count(r.ctx);

		dev = n ? atx_engine_name(r.ctx, n - 1) : NULL;
	} else if (c->e->sess_engine && *c->e->sess_engine) {
		if (!ctx_has_engine(r.ctx, c->e->sess_engine)) {
			ret = -ENODEV;
			snprintf(res->note, sizeof(res->note), "engine %s is not available",
				 c->e->sess_engine);
			goto out_ctx;
		}
	}
	ret = open_sessions(&r, r.sess, c->e->sess_engine && !*c->e->sess_engine ? dev :
					c->e->sess_engine, true, res->served, sizeof(res->served));
	if (ret < 0) {
		snprintf(res->note, sizeof(res->note), "no session on %s: %s", c->e->text,
			 atx_strerror(ret));
		goto out_sess;
	}
	for (v = 0; v < o->nvs; v++) {
		const char *name = o->vs[v].name;
		char vserved[160];

		if (o->vs[v].hand) {
			vs_on[v] = true;
			continue;
		}
		if (o->vs[v].pmd) {
			if (dpdk_kind(c->w))
				vs_on[v] = true;
			else
				snprintf(res->vs[v].note, sizeof(res->vs[v].note),
					 "no matching dpdk test (single crypto steps only)");
			continue;
		}
		if (!workload_has_crypto(c->w) ||
		    (c->e->sess_engine && !strcmp(c->e->sess_engine, name)))
			continue;
		if (!ctx_has_engine(r.ctx, name)) {
			ret = -ENODEV;
			snprintf(res->note, sizeof(res->note), "--versus %s: engine not available",
				 name);
			goto out_sess;
		}
		ret = open_sessions(&r, vsess[v], name, false, vserved, sizeof(vserved));
		if (ret < 0) {
			snprintf(res->note, sizeof(res->note), "--versus %s: no session: %s", name,
				 atx_strerror(ret));
			goto out_sess;
		}
		vs_on[v] = true;
	}
	/* Worker lanes started unpinned; only the loop thread moves. */
	if (o->cpu >= 0) {
		ret = pin_loop(o, o->cpu);
		if (ret) {
			snprintf(res->note, sizeof(res->note), "cannot pin to CPU %d: %s", o->cpu,
				 strerror(-ret));
			goto out_sess;
		}
		pinned = true;
	}
	res->baseline = o->evp_base ? "openssl-evp+isa-l" : "openssl+isa-l";
	if (c->e->sess_engine && !strcmp(c->e->sess_engine, "mb")) {
		bool any = false;

		for (i = 0; i < K__COUNT; i++)
			any |= mb_kind((enum kind)i) && r.sess[i] &&
			       !strcmp(atx_session_engine(r.sess[i]), "mb");
		if (any && mbbase_init(&mbb) == 0) {
			r.mb = &mbb;
			res->baseline = "intel-ipsec-mb+openssl+isa-l";
		}
	}
	r.ivs = calloc(c->qd, sizeof(*r.ivs));
	r.ready = calloc(c->qd, sizeof(*r.ready));
	r.bsteps = calloc(c->qd, sizeof(*r.bsteps));
	r.csteps = calloc((size_t)c->qd * ATX_CHAIN_MAX, sizeof(*r.csteps));
	r.preps = calloc(c->qd, sizeof(*r.preps));
	r.slots = slots_new(c->qd);
	r.bslots = slots_new(c->qd);
	a_ops = calloc(o->rounds, sizeof(double));
	b_ops = calloc(o->rounds, sizeof(double));
	a_cpu = calloc(o->rounds, sizeof(double));
	b_cpu = calloc(o->rounds, sizeof(double));
	for (v = 0; v < o->nvs; v++)
		if (vs_on[v])
			v_ops[v] = calloc(o->rounds, sizeof(double));
	r.maxlat = 1u << 20;
	r.lat = calloc(r.maxlat, sizeof(double));
	ret = -ENOMEM;
	if (!r.ivs || !r.ready || !r.bsteps || !r.csteps || !r.preps || !r.slots || !r.bslots || !a_ops || !b_ops || !a_cpu || !b_cpu || !r.lat)
		goto out_free;
	for (v = 0; v < o->nvs; v++)
		if (vs_on[v] && !v_ops[v])
			goto out_free;
	for (i = 0; i < c->qd; i++)
		if (slot_alloc(&r.slots[i], i, c->w, c->bs, &r) ||
		    slot_alloc(&r.bslots[i], i, c->w, c->bs, &r))
			goto out_free;
	if (c->w->burst) {
		for (i = 0; i < c->qd; i++) {
			struct atx_step st;

			step_of(&r, &r.slots[i], 0, r.slots[i].iv, &st);
			r.slots[i].bsrc = (void *)st.src;
			r.slots[i].bdst = st.dst;
			if (i == 0)
				r.bproto = st;
		}
		r.bout_off = r.bproto.out ? (char *)r.bproto.out - (char *)&r.slots[0] : -1;
	}
	if (c->w->uses_file_in || c->w->uses_file_out) {
		r.fd_in = tmpfile_in(o->dir);
		r.fd_out = tmpfile_in(o->dir);
		if (r.fd_in < 0 || r.fd_out < 0) {
			ret = -errno;
			snprintf(res->note, sizeof(res->note), "cannot create a file in %s: %s",
				 o->dir, strerror(errno));
			goto out_free;
		}
		/* The read file: every slot's block, different from its input buffer. */
		for (i = 0; i < c->qd; i++) {
			unsigned char *blk = r.bslots[i].buf[c->w->nbuf > 1 ? 1 : 0];
			size_t k;

			for (k = 0; k < c->bs; k++)
				blk[k] = (unsigned char)(k * 17 + i * 101 + (k >> 10));
			if (pwrite(r.fd_in, blk, c->bs, (off_t)(i * c->bs)) != (ssize_t)c->bs) {
				ret = -EIO;
				snprintf(res->note, sizeof(res->note), "cannot write the read file");
				goto out_free;
			}
		}
		if (ftruncate(r.fd_out, (off_t)(2 * c->qd * c->bs))) {
			ret = -errno;
			goto out_free;
		}
	}
	for (v = 0; v < o->nvs; v++)
		if (vs_on[v] && o->vs[v].hand) {
			hands[v] = hand_new(o->vs[v].hand, &r, o->evp_base, o->vs[v].ossl,
					    &o->mask0, o->cpu);
			if (!hands[v]) {
				ret = -ENOMEM;
				snprintf(res->note, sizeof(res->note),
					 "--versus %s: cannot set up its threads' buffers and contexts",
					 o->vs[v].name);
				goto out_free;
			}
		}
	/* Warm-up both, then interleave rounds. */
	if (baseline_round(&r, &b, round_ns / 4, round_ops / 4 + 1, &dummy, &ret) < 0)
		goto out_base_fail;
	for (v = 0; v < o->nvs; v++)
		if (hands[v] && hand_round(hands[v], &r, &b, round_ns / 4, round_ops / 4 + 1, &ret) < 0)
			goto out_base_fail;
	for (v = 0; v < o->nvs; v++)
		if (vs_on[v] && !o->vs[v].pmd && !o->vs[v].hand &&
		    versus_round(&r, vsess[v], round_ns / 4, round_ops / 4 + (round_ops ? 1 : 0)) < 0)
			goto out_fail;
	r.nlat = 0;
	warm = atx_round(&r, round_ns / 4, round_ops / 4 + (round_ops ? 1 : 0), &dummy);
	if (warm < 0)
		goto out_fail;
	r.nlat = 0;
	/* A peer runs about as long as a round of atx: as many operations as it did warming up. */
	peer_ops = round_ops ? round_ops : (uint64_t)(warm * (double)round_ns / 1e9);
	for (i = 0; i < o->rounds; i++) {
		progress(o, idx, total, c, i + 1);
		b_ops[i] = baseline_round(&r, &b, round_ns, round_ops, &b_cpu[i], &ret);
		if (b_ops[i] < 0)
			goto out_base_fail;
		for (v = 0; v < o->nvs; v++) {
			struct versus const *vs = &o->vs[v];

			if (!vs_on[v])
				continue;
			if (vs->hand) {
				v_ops[v][i] = hand_round(hands[v], &r, &b, round_ns, round_ops, &ret);
				if (v_ops[v][i] < 0)
					goto out_base_fail;
				continue;
			}
			if (vs->pmd) {
				int pret;

				v_ops[v][i] = peer_round(o, &r, vs->pmd, peer_ops, res->vs[v].note,
							 sizeof(res->vs[v].note), &pret);
				if (pret == -ENOENT) {
					/* Asked for, not there: an error, as an unknown engine is. */
					ret = pret;
					snprintf(res->note, sizeof(res->note), "--versus %s: %s",
						 vs->name, res->vs[v].note);
					goto out_free;
				}
				/* Failed on this configuration: the row stands, the side says why. */
				if (v_ops[v][i] < 0)
					vs_on[v] = false;
				continue;
			}
			v_ops[v][i] = versus_round(&r, vsess[v], round_ns, round_ops);
			if (v_ops[v][i] < 0)
				goto out_fail;
			/* The other side's output is checked too, before the row's overwrites it. */
			if (i + 1 == o->rounds && (fault_hook(&r, "versus"), (ret = verify(&r, &b)) < 0)) {
				snprintf(res->note, sizeof(res->note), "--versus %s: %s", vs->name,
					 ret == -EBADMSG ? "output differs from the baseline: no result"
							 : "verification could not run");
				goto out_free;
			}
		}
		chan_ops(r.ctx, res, -1);
		a_ops[i] = atx_round(&r, round_ns, round_ops, &a_cpu[i]);
		chan_ops(r.ctx, res, 1);
		if (a_ops[i] < 0)
			goto out_fail;
	}
	fault_hook(&r, "1");
	ret = verify(&r, &b);
	if (ret < 0) {
		snprintf(res->note, sizeof(res->note), "%s",
			 ret == -EBADMSG ? "output differs from the baseline: no result"
					 : "verification could not run");
		goto out_free;
	}
	/* Every round as run, for the reader who wants the spread (medians sort). */
	res->rounds = calloc((size_t)(2 + o->nvs) * o->rounds, sizeof(double));
	if (res->rounds) {
		res->nrounds = o->rounds;
		memcpy(res->rounds, a_ops, o->rounds * sizeof(double));
		memcpy(res->rounds + o->rounds, b_ops, o->rounds * sizeof(double));
		for (v = 0; v < o->nvs; v++)
			if (vs_on[v])
				memcpy(res->rounds + (2 + v) * o->rounds, v_ops[v],
				       o->rounds * sizeof(double));
	}
	/* Pairs first: median() sorts the rounds. */
	pair_ratio(a_ops, b_ops, o->rounds, res->pair);
	for (v = 0; v < o->nvs; v++)
		if (vs_on[v]) {
			double q[3];

			pair_ratio(a_ops, v_ops[v], o->rounds, res->vs[v].pair);
			if (o->vs[v].ossl)
				pair_ratio(b_ops, v_ops[v], o->rounds, res->vs[v].lib);
			if (o->vs[v].hand) {
				pair_ratio(v_ops[v], b_ops, o->rounds, q);
				res->vs[v].scale = q[1];
				if (o->vs[v].hand > 1)
					res->vs[v].full_n = full_rounds(a_ops, b_ops, v_ops[v],
									o->rounds, o->vs[v].hand,
									res->vs[v].full);
				for (i = 1; i < hands[v]->n; i++)
					res->vs[v].ran_on[i - 1] = hands[v]->t[i].ran_on;
			}
		}
	res->ops = median(a_ops, o->rounds);
	res->base_ops = median(b_ops, o->rounds);
	/* Sorted now: the last is the fastest round. */
	res->best = a_ops[o->rounds - 1];
	res->base_best = b_ops[o->rounds - 1];
	res->ratio = res->ops / res->base_ops;
	for (v = 0; v < o->nvs; v++)
		if (vs_on[v]) {
			res->vs[v].ops = median(v_ops[v], o->rounds);
			res->vs[v].ratio = res->ops / res->vs[v].ops;
			res->vs[v].best = v_ops[v][o->rounds - 1];
		}
	if (pinned)
		res->cpu = sched_getcpu();
	/* Per descriptor; negative when atx is faster (e.g. worker lanes, mb). */
	res->overhead_ns = (1e9 / res->ops - 1e9 / res->base_ops) / workload_descs(c->w);
	res->cpu_ns = median(a_cpu, o->rounds) * 1e9;
	res->base_cpu_ns = median(b_cpu, o->rounds) * 1e9;
	res->p50 = pct(r.lat, r.nlat, 0.50);
	res->p99 = pct(r.lat, r.nlat, 0.99);
	res->p999 = pct(r.lat, r.nlat, 0.999);
	ret = 0;
	goto out_free;
out_base_fail:
	snprintf(res->note, sizeof(res->note), "the %s baseline failed: %s", res->baseline,
		 atx_strerror(ret < 0 ? ret : -EIO));
	if (ret >= 0)
		ret = -EIO;
	goto out_free;
out_fail:
	if (r.err)
		ret = r.err;
	if (ret >= 0)
		ret = -EIO;
	snprintf(res->note, sizeof(res->note), "atx run failed: %s", atx_strerror(ret));
out_free:
	for (i = 0; i < c->qd; i++) {
		if (r.slots)
			slot_free(&r.slots[i]);
		if (r.bslots)
			slot_free(&r.bslots[i]);
	}
	free(r.slots);
	free(r.ready);
	free(r.bsteps);
	free(r.csteps);
	free(r.preps);
	free(r.bslots);
	free(r.ivs);
	mbbase_fini(&mbb);
	free(r.lat);
	free(a_ops);
	free(b_ops);
	free(a_cpu);
	free(b_cpu);
	for (v = 0; v < MAX_VS; v++) {
		free(v_ops[v]);
		hand_fini(hands[v]);
	}
out_sess:
	if (pinned)
		pin_loop(o, -1);
	for (i = 0; i < K__COUNT; i++) {
		if (r.sess[i])
			atx_session_free(r.sess[i]);
		for (v = 0; v < MAX_VS; v++)
			if (vsess[v][i])
				atx_session_free(vsess[v][i]);
	}
out_ctx:
	atx_ctx_free(r.ctx);
	if (r.fd_in >= 0)
		close(r.fd_in);
	if (r.fd_out >= 0)
		close(r.fd_out);
out_baseline:
	baseline_fini(&b);
	return res->status = ret;
}

/* ------------------------------------------------------------------ */
/* Peers                                                              */
/* ------------------------------------------------------------------ */

/*
 * dpdk-test-crypto-perf beside single crypto step workloads; one run per
 * algorithm, size and burst serves every engine's row (@done, @n: the
 * results so far).
 */
static void run_peers(const struct bench_opts *o, struct bench_result *res,
		      const struct bench_result *done, unsigned n)
{
	const struct workload *w = res->c.w;
	const char *pmds[2] = { "openssl", "aesni_mb" };
	struct bench_peer_how how = { .worker_cpu = o->cpu, .main_cpu = o->main_cpu };
	unsigned i;

	if (!dpdk_kind(w))
		return;
	for (i = 0; i < n; i++)
		if (done[i].npeer && done[i].c.w->nn == 1 &&
		    done[i].c.w->n[0].kind == w->n[0].kind && done[i].c.bs == res->c.bs &&
		    done[i].c.qd == res->c.qd) {
			memcpy(res->peer, done[i].peer, sizeof(res->peer));
			res->npeer = done[i].npeer;
			return;
		}
	for (i = 0; i < 2; i++) {
		int ret = bench_peer_dpdk(kind_name[w->n[0].kind], pmds[i], res->c.bs, res->c.qd,
					  o->cpu >= 0 && o->main_cpu >= 0 ? &how : NULL,
					  &res->peer[res->npeer]);

		res->npeer++;
		if (ret == -ENOENT)
			break;  /* one "not installed" line is enough */
	}
}

/* ------------------------------------------------------------------ */
/* Output                                                             */
/* ------------------------------------------------------------------ */

static double payload(const struct bench_result *r)
{
	return (double)r->c.bs * r->c.w->width;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* `, "KEY": [GB/s of each round]` from @ops (ops/s, @n rounds). */
static void json_rounds(FILE *f, const char *key, const double *ops, unsigned n, double gb)
{
	unsigned i;

	fprintf(f, ", \"%s\": [", key);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%.4f", i ? ", " : "", ops[i] * gb);
	fprintf(f, "]");
}

static void print_json(FILE *f, const struct bench_opts *o, struct bench_result *res, unsigned n)
{
	unsigned i, j, k;

	fprintf(f, "[\n");
	for (i = 0; i < n; i++) {
		struct bench_result *r = &res[i];
		double gb = payload(r) / 1e9;

		fprintf(f, "  {\"workload\": ");
		json_str(f, r->c.w->text);
		fprintf(f, ", \"engine\": ");
		json_str(f, r->engine);
		fprintf(f, ", \"served_by\": ");
		json_str(f, r->served);
		if (r->baseline) {
			fprintf(f, ", \"baseline\": ");
			json_str(f, r->baseline);
		}
		fprintf(f, ", \"block_size\": %zu, \"queue_depth\": %u, \"descriptors_per_op\": %u, "
			"\"bytes_per_op\": %.0f",
			r->c.bs, r->c.qd, workload_descs(r->c.w), payload(r));
		if (r->status) {
			fprintf(f, ", \"verified\": false, \"error\": ");
			json_str(f, r->note);
		} else {
			fprintf(f, ", \"gbps\": %.4f, \"ops_per_s\": %.0f, \"baseline_gbps\": %.4f, "
				"\"baseline_ops_per_s\": %.0f, \"ratio_to_baseline\": %.3f, "
				"\"overhead_ns\": %.1f, \"p50_us\": %.2f, \"p99_us\": %.2f, "
				"\"p999_us\": %.2f, \"cpu_ns_per_op\": %.0f, "
				"\"baseline_cpu_ns_per_op\": %.0f",
				r->ops * gb, r->ops, r->base_ops * gb, r->base_ops, r->ratio,
				r->overhead_ns, r->p50, r->p99, r->p999, r->cpu_ns, r->base_cpu_ns);
			fprintf(f, ", \"best_gbps\": %.4f, \"baseline_best_gbps\": %.4f, "
				"\"best_ratio_to_baseline\": %.3f", r->best * gb, r->base_best * gb,
				r->best / r->base_best);
			fprintf(f, ", \"paired_ratio\": %.4f, \"paired_ratio_iqr\": [%.4f, %.4f]",
				r->pair[1], r->pair[0], r->pair[2]);
			if (r->rounds) {
				json_rounds(f, "round_gbps", r->rounds, r->nrounds, gb);
				json_rounds(f, "baseline_round_gbps", r->rounds + r->nrounds,
					    r->nrounds, gb);
			}
			if (o->mhz > 0)
				fprintf(f, ", \"cycles_per_op\": %.0f", r->cpu_ns * o->mhz / 1e3);
			if (r->cpu >= 0)
				fprintf(f, ", \"cpu\": %d", r->cpu);
			for (j = 0, k = 0; j < o->nvs; j++) {
				if (!(r->vs[j].ops > 0) && !r->vs[j].note[0])
					continue;
				fprintf(f, "%s{\"engine\": ", k++ ? ", " : ", \"versus\": [");
				json_str(f, o->vs[j].name);
				if (r->vs[j].ops > 0) {
					fprintf(f, ", \"gbps\": %.4f, \"ops_per_s\": %.0f, \"ratio\": %.3f, "
						"\"best_gbps\": %.4f, \"best_ratio\": %.3f",
						r->vs[j].ops * gb, r->vs[j].ops, r->vs[j].ratio,
						r->vs[j].best * gb, r->best / r->vs[j].best);
					fprintf(f, ", \"paired_ratio\": %.4f, "
						"\"paired_ratio_iqr\": [%.4f, %.4f]", r->vs[j].pair[1],
						r->vs[j].pair[0], r->vs[j].pair[2]);
					if (r->rounds)
						json_rounds(f, "round_gbps",
							    r->rounds + (2 + j) * r->nrounds,
							    r->nrounds, gb);
				}
				if (o->vs[j].pmd && r->vs[j].ops > 0)
					fprintf(f, ", \"cpu\": %d", o->cpu);
				if (o->vs[j].ossl && r->vs[j].ops > 0)
					fprintf(f, ", \"base_paired_ratio\": %.4f, "
						"\"base_paired_ratio_iqr\": [%.4f, %.4f]",
						r->vs[j].lib[1], r->vs[j].lib[0], r->vs[j].lib[2]);
				else if (o->vs[j].hand && r->vs[j].ops > 0)
					fprintf(f, ", \"threads\": %u, \"scaling_paired\": %.4f",
						o->vs[j].hand, r->vs[j].scale);
				if (o->vs[j].hand > 1 && r->vs[j].ops > 0) {
					fprintf(f, ", \"full_scale_rounds\": %u", r->vs[j].full_n);
					if (r->vs[j].full_n)
						fprintf(f, ", \"full_scale_paired_ratio\": %.4f, "
							"\"full_scale_paired_ratio_iqr\": [%.4f, %.4f]",
							r->vs[j].full[1], r->vs[j].full[0],
							r->vs[j].full[2]);
				}
				if (o->vs[j].hand > 1 && r->vs[j].ops > 0) {
					unsigned t;

					fprintf(f, ", \"threads_cpus\": [");
					for (t = 1; t < o->vs[j].hand; t++)
						fprintf(f, "%s%d", t > 1 ? ", " : "", r->vs[j].ran_on[t - 1]);
					fprintf(f, "]");
				}
				if (r->vs[j].note[0]) {
					fprintf(f, ", \"note\": ");
					json_str(f, r->vs[j].note);
				}
				fprintf(f, "}");
			}
			if (k)
				fprintf(f, "]");
			if (r->nch) {
				fprintf(f, ", \"channels\": [");
				for (j = 0; j < r->nch; j++) {
					fprintf(f, "%s{\"name\": ", j ? ", " : "");
					json_str(f, r->ch[j].name);
					fprintf(f, ", \"ops\": %llu}", (unsigned long long)r->ch[j].ops);
				}
				fprintf(f, "]");
			}
			fprintf(f, ", \"verified\": true");
		}
		if (r->npeer) {
			fprintf(f, ", \"peers\": [");
			for (j = 0; j < r->npeer; j++) {
				struct bench_peer *p = &r->peer[j];

				fprintf(f, "%s{\"name\": ", j ? ", " : "");
				json_str(f, p->name);
				if (p->ran)
					fprintf(f, ", \"gbps\": %.4f, \"ops_per_s\": %.0f, "
						"\"cycles_per_op\": %.0f%s%s%s}",
						p->gbps, p->mops * 1e6, p->cycles_per_op,
						p->note[0] ? ", \"note\": \"" : "", p->note,
						p->note[0] ? "\"" : "");
				else {
					fprintf(f, ", \"note\": ");
					json_str(f, p->note);
					fprintf(f, "}");
				}
			}
			fprintf(f, "]");
		}
		fprintf(f, "}%s\n", i + 1 < n ? "," : "");
	}
	fprintf(f, "]\n");
}

/* Did a crypto step run on another engine than the one asked for? */
static bool served_elsewhere(const struct bench_result *r)
{
	const char *want = r->c.e->sess_engine, *p;

	if (!want)
		return false;
	if (!*want)
		return r->served[0] != '\0';   /* a device: show what served each step */
	for (p = strchr(r->served, '='); p; p = strchr(p + 1, '='))
		if (strncmp(p + 1, want, strlen(want)) ||
		    (p[1 + strlen(want)] && p[1 + strlen(want)] != ','))
			return true;
	return false;
}

/*
 * A hand:N side: its rate, how it scaled, this row against it, and for N >
 * 1 this row against one thread in the rounds where the N threads got N
 * CPUs' worth (full_rounds).
 */
static void print_hand(const struct bench_result *r, const struct versus *v, unsigned j,
		       double gb)
{
	printf("%-28s   versus %s, the hand loop in %u thread%s at once, interleaved: "
	       "%.3f GB/s, %.2fx one thread (paired rounds); this row / %s = %.2fx "
	       "(paired rounds %.2fx, fastest rounds %.2fx)\n", "", v->name, v->hand,
	       v->hand == 1 ? "" : "s", r->vs[j].ops * gb, r->vs[j].scale, v->name,
	       r->vs[j].ratio, r->vs[j].pair[1], r->best / r->vs[j].best);
	if (v->hand < 2)
		return;
	if (r->vs[j].full_n)
		printf("%-28s   in the %u of %u rounds where %s ran at >= %.2fx one thread: "
		       "this row / base median %.3fx, IQR %.3f-%.3fx\n", "", r->vs[j].full_n,
		       r->nrounds, v->name, FULL_SCALE * v->hand, r->vs[j].full[1],
		       r->vs[j].full[0], r->vs[j].full[2]);
	else
		printf("%-28s   %s ran at >= %.2fx one thread in none of the %u rounds\n", "",
		       v->name, FULL_SCALE * v->hand, r->nrounds);
}

/*
 * The "openssl" side: the OpenSSL/ISA-L hand loop, and on a row whose
 * baseline is intel-ipsec-mb that library's own reach over it in the same
 * rounds -- the most an mb row can show over the software engine here.
 */
static void print_ossl(const struct bench_result *r, const struct versus *v, unsigned j,
		       double gb)
{
	bool mb = r->baseline && strstr(r->baseline, "ipsec-mb");

	printf("%-28s   versus %s, the OpenSSL/ISA-L/libc hand loop, interleaved: %.3f GB/s; "
	       "this row / %s = %.2fx (paired rounds %.2fx, fastest rounds %.2fx)\n", "",
	       v->name, r->vs[j].ops * gb, v->name, r->vs[j].ratio, r->vs[j].pair[1],
	       r->best / r->vs[j].best);
	printf("%-28s   base%s / %s, paired rounds: median %.2fx, IQR %.2f-%.2fx\n", "",
	       mb ? " (intel-ipsec-mb directly)" : "", v->name, r->vs[j].lib[1],
	       r->vs[j].lib[0], r->vs[j].lib[2]);
}

/* Where the row's rounds ran, when the context had more than one channel at work. */
static void print_channels(const struct bench_result *r)
{
	uint64_t sum = 0;
	unsigned i, busy = 0;

	for (i = 0; i < r->nch; i++) {
		sum += r->ch[i].ops;
		busy += r->ch[i].ops > 0;
	}
	if (busy < 2)
		return;
	printf("%-28s   descriptors per channel in its rounds:", "");
	for (i = 0; i < r->nch; i++)
		if (r->ch[i].ops)
			printf(" %s %.0f%%", r->ch[i].name, 100.0 * (double)r->ch[i].ops / (double)sum);
	printf("\n");
}

static void print_table(const struct bench_opts *o, struct bench_result *res, unsigned n)
{
	unsigned i, j;

	printf("%-28s %-14s %7s %4s %8s %9s %8s %7s %8s %8s %8s %8s %8s %8s\n", "workload",
	       "engine", "block", "qd", "GB/s", "ops/s", "base", "ratio", "ovh ns", "p50 us",
	       "p99 us", "p99.9", "cpu ns", "base cpu");
	for (i = 0; i < n; i++) {
		struct bench_result *r = &res[i];
		double gb = payload(r) / 1e9;
		char bsz[24];

		if (r->c.bs >= (1u << 20) && r->c.bs % (1u << 20) == 0)
			snprintf(bsz, sizeof(bsz), "%zuM", r->c.bs >> 20);
		else if (r->c.bs >= 1024 && r->c.bs % 1024 == 0)
			snprintf(bsz, sizeof(bsz), "%zuK", r->c.bs >> 10);
		else
			snprintf(bsz, sizeof(bsz), "%zu", r->c.bs);
		if (r->status) {
			printf("%-28s %-14s %7s %4u  %s\n", r->c.w->text, r->engine, bsz, r->c.qd,
			       r->note);
			continue;
		}
		printf("%-28s %-14s %7s %4u %8.3f %9.0f %8.3f %6.2fx %8.1f %8.2f %8.2f %8.2f %8.0f "
		       "%8.0f\n", r->c.w->text, r->engine, bsz, r->c.qd, r->ops * gb, r->ops,
		       r->base_ops * gb, r->ratio, r->overhead_ns, r->p50, r->p99, r->p999,
		       r->cpu_ns, r->base_cpu_ns);
		if (served_elsewhere(r))
			printf("%-28s   served by %s\n", "", r->served);
		printf("%-28s   paired rounds, atx / base: median %.3fx, IQR %.3f-%.3fx\n", "",
		       r->pair[1], r->pair[0], r->pair[2]);
		for (j = 0; j < o->nvs; j++) {
			const char *name = o->vs[j].name;

			if (r->vs[j].ops > 0 && o->vs[j].pmd)
				printf("%-28s   versus %s, interleaved, worker lcore on CPU %d as atx: "
				       "%.3f GB/s%s%s; this row / %s = %.2fx (paired rounds %.2fx, "
				       "fastest rounds %.2fx)\n", "", name, o->cpu, r->vs[j].ops * gb,
				       r->vs[j].note[0] ? ", " : "", r->vs[j].note, name, r->vs[j].ratio,
				       r->vs[j].pair[1], r->best / r->vs[j].best);
			else if (r->vs[j].ops > 0 && o->vs[j].ossl)
				print_ossl(r, &o->vs[j], j, gb);
			else if (r->vs[j].ops > 0 && o->vs[j].hand)
				print_hand(r, &o->vs[j], j, gb);
			else if (r->vs[j].ops > 0)
				printf("%-28s   versus %s, interleaved: %.3f GB/s; this row / %s = %.2fx "
				       "(paired rounds %.2fx, fastest rounds %.2fx)\n", "", name,
				       r->vs[j].ops * gb, name, r->vs[j].ratio, r->vs[j].pair[1],
				       r->best / r->vs[j].best);
			else if (r->vs[j].note[0])
				printf("%-28s   versus %s: %s\n", "", name, r->vs[j].note);
		}
		if (r->cpu >= 0)
			printf("%-28s   loop thread pinned to CPU %d\n", "", r->cpu);
		print_channels(r);
		if (r->baseline && strstr(r->baseline, "ipsec-mb"))
			printf("%-28s   base: intel-ipsec-mb directly, one burst of %u jobs per step%s\n",
			       "", r->c.qd, r->c.bs > 65534 ? " (CBC/HMAC > 65534 B: OpenSSL)" : "");
		for (j = 0; j < r->npeer; j++) {
			struct bench_peer *p = &r->peer[j];

			if (p->ran)
				printf("%-28s   peer %-20s %8.3f GB/s  %9.0f ops/s  %7.0f cycles/op "
				       "(atx %.0f, baseline %.0f)%s%s\n", "", p->name, p->gbps,
				       p->mops * 1e6, p->cycles_per_op, r->cpu_ns * o->mhz / 1e3,
				       r->base_cpu_ns * o->mhz / 1e3, p->note[0] ? " " : "", p->note);
			else
				printf("%-28s   peer %-20s %s\n", "", p->name, p->note);
		}
	}
	printf("GB/s and ops/s: atx, median of %u interleaved rounds; base: the same chains as a "
	       "hand-written OpenSSL/ISA-L/libc (mb rows: intel-ipsec-mb) loop; ovh: (atx - base) time per descriptor; "
	       "p50/p99/p99.9: chain latency (1 in " LAT_EVERY_S " sampled); cpu, base cpu: process CPU ns per chain; "
	       "every output verified equal to the baseline's.\n", o->rounds);
}

/* ------------------------------------------------------------------ */
/* Command line                                                       */
/* ------------------------------------------------------------------ */

static int parse_engine(const char *text, struct engine_spec *e)
{
	char *end;

	memset(e, 0, sizeof(*e));
	if (strlen(text) >= sizeof(e->text))
		return cli_err("engine spec too long");
	strcpy(e->text, text);
	if (!strcmp(text, "soft")) {
		e->sess_engine = "soft";
	} else if (!strncmp(text, "soft:lanes=", 11)) {
		unsigned long n = strtoul(text + 11, &end, 10);

		if (*end || end == text + 11 || n > 32)
			return cli_err("soft:lanes=N takes N in 0..32");
		e->lanes = (unsigned)n;
		e->sess_engine = "soft";
	} else if (!strncmp(text, "soft:workers=", 13)) {
		unsigned long n = strtoul(text + 13, &end, 10);

		if (*end || end == text + 13 || n < 1 || n > 32)
			return cli_err("soft:workers=N takes N in 1..32");
		e->lanes = (unsigned)n;
		e->no_inline = true;
		e->sess_engine = "soft";
	} else if (!strcmp(text, "mb")) {
		e->sess_engine = "mb";
	} else if (!strcmp(text, "auto")) {
		e->sess_engine = NULL;
	} else if ((!strncmp(text, "virtio:", 7) && text[7]) ||
		   (!strncmp(text, "virtio-pci:", 11) && text[11])) {
		e->ctx_engines = e->text;
		e->sess_engine = "";    /* the engine the spec attaches */
	} else {
		return cli_err("unknown engine '%s' (soft, soft:lanes=N, soft:workers=N, mb, auto, "
			       "virtio:SOCKET, virtio-pci:BDF)", text);
	}
	return 0;
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s)
		return -1;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end == 'i' && end[-1] != *s)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	*out = (size_t)v;
	return 0;
}

#define MAX_LIST 32

struct lists {
	char *wl[MAX_LIST];
	unsigned nwl;
	char *eng[MAX_LIST];
	unsigned neng;
	size_t bs[MAX_LIST];
	unsigned nbs;
	unsigned qd[MAX_LIST];
	unsigned nqd;
};

static int parse_bs_list(const char *arg, struct lists *l)
{
	char *dup = strdup(arg), *tok, *save;

	if (!dup)
		return cli_err("out of memory");
	l->nbs = 0;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t v;

		if (parse_size(tok, &v) || v < 16 || v > (16u << 20) || v % 16 || l->nbs >= MAX_LIST) {
			cli_err("--block-size takes sizes 16..16M, multiples of 16 ('%s')", tok);
			free(dup);
			return CLI_EXIT_ERR;
		}
		l->bs[l->nbs++] = v;
	}
	free(dup);
	return l->nbs ? 0 : cli_err("--block-size needs a value");
}

static int parse_qd_list(const char *arg, struct lists *l)
{
	char *dup = strdup(arg), *tok, *save;

	if (!dup)
		return cli_err("out of memory");
	l->nqd = 0;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v = strtoul(tok, &end, 10);

		if (*end || !v || v > 4096 || l->nqd >= MAX_LIST) {
			cli_err("--queue-depth takes numbers 1..4096 ('%s')", tok);
			free(dup);
			return CLI_EXIT_ERR;
		}
		l->qd[l->nqd++] = (unsigned)v;
	}
	free(dup);
	return l->nqd ? 0 : cli_err("--queue-depth needs a value");
}

/* Split on ';' (workloads contain commas); --workload may also repeat. */
static int add_workloads(const char *arg, struct lists *l)
{
	char *dup = strdup(arg), *tok, *save;

	if (!dup)
		return cli_err("out of memory");
	for (tok = strtok_r(dup, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		if (l->nwl >= MAX_LIST)
			return cli_err("too many workloads");
		l->wl[l->nwl++] = strdup(tok);
	}
	free(dup);
	return 0;
}

/* Engines: comma separated unless a part is a device spec with a path. */
static int add_engines(const char *arg, struct lists *l)
{
	char *dup, *tok, *save;

	if (!strncmp(arg, "virtio", 6)) {
		if (l->neng >= MAX_LIST)
			return cli_err("too many engines");
		l->eng[l->neng++] = strdup(arg);
		return 0;
	}
	dup = strdup(arg);
	if (!dup)
		return cli_err("out of memory");
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (l->neng >= MAX_LIST)
			return cli_err("too many engines");
		l->eng[l->neng++] = strdup(tok);
	}
	free(dup);
	return 0;
}

/*
 * The standard set (`make bench`): the storage chain over block sizes and
 * queue depths, the multi-buffer issue's CBC/GCM/HMAC at 4 KiB and depths
 * 1/8/64 on mb and soft, chaining, fan-out/fan-in, RAID and a file read.
 */
struct std_entry {
	const char *wl, *engines, *bs, *qd;
};

static const struct std_entry std_set[] = {
	{ "xts-enc,crc32c,copy", "soft,soft:lanes=1", "512,4K,64K,1M", "32" },
	{ "xts-enc,crc32c,copy", "soft,soft:lanes=1", "4K", "1,8,64,256" },
	{ "xts-enc,crc32c,copy", "soft:workers=1,soft:workers=2", "4K", "64" },
	{ "chain:xts-enc,crc32c,copy", "soft,soft:lanes=1", "4K", "64" },
	{ "prep:xts-enc,crc32c,copy", "soft,soft:lanes=1", "4K", "64" },
	{ "copy,crc32c,copy", "soft", "64,4K", "64" },
	{ "cbc-enc", "soft,mb", "4K", "1,8,64" },
	{ "gcm-enc", "soft,mb", "4K", "1,8,64" },
	{ "hmac-sha256", "soft,mb", "4K", "1,8,64" },
	{ "cbc-enc", "soft,mb", "512,64K", "64" },
	{ "cbc-enc,hmac-sha256", "soft,mb", "4K", "64" },
	{ "copy,{xts-enc|crc32c},write", "soft", "4K", "64" },
	{ "xor,copy,xor", "soft", "4K", "64" },
	{ "pq", "soft", "4K,64K", "64" },
	{ "read,xts-dec,crc32c", "soft", "4K,64K", "64" },
};

static double cpu_mhz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	double mhz = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1)
			break;
	fclose(f);
	return mhz;
}

/* --versus LIST: atx engines ("soft") and DPDK PMDs ("dpdk:aesni_mb"). */
static int add_versus(char *arg, struct bench_opts *o)
{
	char *tok, *save;

	if (!*arg) {
		cli_err("--versus takes engine names (soft, mb, dpdk:aesni_mb, ...)");
		return -1;
	}
	for (tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct versus *v = &o->vs[o->nvs];

		if (o->nvs == MAX_VS) {
			cli_err("--versus: at most %d sides", MAX_VS);
			return -1;
		}
		if (strlen(tok) > 31) {
			cli_err("--versus takes engine names (soft, mb, dpdk:aesni_mb, ...)");
			return -1;
		}
		v->name = tok;
		if (!strncmp(tok, "hand:", 5)) {
			char *end;
			unsigned long n = strtoul(tok + 5, &end, 10);

			if (!isdigit((unsigned char)tok[5]) || *end || n < 1 || n > MAX_HAND) {
				cli_err("--versus %s: hand:N takes 1 to %d threads", tok, MAX_HAND);
				return -1;
			}
			v->hand = (unsigned)n;
		} else if (!strcmp(tok, "openssl")) {
			v->hand = 1;
			v->ossl = true;
		} else if (!strncmp(tok, "dpdk:", 5)) {
			v->pmd = tok + 5;
			if (strcmp(v->pmd, "aesni_mb") && strcmp(v->pmd, "openssl")) {
				cli_err("--versus %s: DPDK PMDs are dpdk:aesni_mb and dpdk:openssl", tok);
				return -1;
			}
		}
		o->nvs++;
	}
	if (!o->nvs) {
		cli_err("--versus takes engine names (soft, mb, dpdk:aesni_mb, ...)");
		return -1;
	}
	return 0;
}

/*
 * Where the loop thread runs (--cpu; a DPDK side without it: the
 * process's last CPU) and where a DPDK peer's main lcore waits (another
 * CPU of the process: it spins while its worker runs).
 */
static int pick_cpus(struct bench_opts *o)
{
	bool dpdk = false;
	unsigned i;
	int c;

	for (i = 0; i < o->nvs; i++)
		dpdk |= o->vs[i].pmd != NULL;
	if (sched_getaffinity(0, sizeof(o->mask0), &o->mask0)) {
		cli_err("cannot read the CPU affinity: %s", strerror(errno));
		return -1;
	}
	if (o->cpu >= 0 && !CPU_ISSET(o->cpu, &o->mask0)) {
		cli_err("--cpu %d: not a CPU this process may run on", o->cpu);
		return -1;
	}
	for (c = CPU_SETSIZE - 1; dpdk && o->cpu < 0 && c >= 0; c--)
		if (CPU_ISSET(c, &o->mask0))
			o->cpu = c;
	for (c = 0; o->cpu >= 0 && c < CPU_SETSIZE && o->main_cpu < 0; c++)
		if (c != o->cpu && CPU_ISSET(c, &o->mask0))
			o->main_cpu = c;
	if (dpdk && o->main_cpu < 0) {
		cli_err("--versus dpdk: needs two CPUs (the peer's worker and main lcores)");
		return -1;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: atx bench [-w WORKLOAD]... [-e ENGINE]... [-b SIZES] [-q DEPTHS]\n"
		"                 [--seconds S | --ops N] [--rounds N] [--json] [--json-out FILE]\n"
		"                 [--no-peers] [--versus LIST] [--cpu N] [--dir DIR] [--quiet]\n"
		"                 [--baseline provider|evp]\n"
		"       atx bench --standard [...]     the standard set (`make bench`)\n"
		"       atx bench plot RESULTS.json... [-o DIR]\n"
		"Runs dependency chains through atx and, interleaved in the same process, a\n"
		"hand-written OpenSSL + ISA-L + libc loop doing the same work on the same bytes;\n"
		"checks every output of atx against the loop's, then prints both rates.\n"
		"  -w WORKLOAD   steps joined by ',' with {a|b} for fan-out then fan-in, e.g.\n"
		"                xts-enc,crc32c,copy  gcm-enc  cbc-enc,hmac-sha256  pq\n"
		"                copy,{xts-enc|crc32c},write  xor,copy,xor  read,xts-dec,crc32c\n"
		"                steps: xts-enc xts-dec cbc-enc gcm-enc hmac-sha256 crc32c copy\n"
		"                write read xor pq; several workloads: repeat -w or join with ';'\n"
		"                chain:STEPS submits each chain as one atx_chain() call\n"
		"                prep:STEPS the same as a prepared chain per slot (atx_prep_run)\n"
		"  -e ENGINE     soft (inline lane), soft:lanes=N (inline + N workers),\n"
		"                soft:workers=N (N workers, no inline lane), mb, auto, virtio:SOCKET,\n"
		"                virtio-pci:BDF; comma list or repeated (default soft)\n"
		"  -b SIZES      block sizes, comma list, K/M suffixes (default 4K)\n"
		"  -q DEPTHS     chains in flight, comma list (default 64)\n"
		"  --seconds S   per configuration, both sides together (default 2)\n"
		"  --ops N       chains per configuration and side instead of a duration\n"
		"  --rounds N    interleaved rounds, the median is reported (default 5)\n"
		"  --json        JSON on stdout: one object per configuration\n"
		"  --json-out F  JSON to file F, the table on stdout\n"
		"  --no-peers    do not run dpdk-test-crypto-perf beside single-step crypto\n"
		"  --versus LIST more interleaved sides, comma list: an engine name runs the same\n"
		"                atx chains with their crypto sessions on it (mb rows --versus\n"
		"                soft); dpdk:aesni_mb, dpdk:openssl run dpdk-test-crypto-perf on\n"
		"                the same single step, worker lcore on the loop thread's CPU;\n"
		"                hand:N runs the baseline loop in N threads at once (the\n"
		"                ceiling for worker lanes); openssl runs the OpenSSL/ISA-L\n"
		"                hand loop, also beside an mb row's intel-ipsec-mb baseline,\n"
		"                and prints that baseline over it; prints the row's rate over each\n"
		"  --cpu N       pin the loop thread to CPU N (worker lanes stay unpinned) and\n"
		"                put the DPDK peers' worker lcore there too; a dpdk: side\n"
		"                without --cpu pins to the last CPU\n"
		"  --dir DIR     where read/write workloads put their files (default $TMPDIR or /tmp)\n"
		"  --baseline B  provider (default): the loop re-inits XTS and CBC contexts\n"
		"                and HMAC through the provider's functions, as the software\n"
		"                engine does; evp: through EVP_CipherInit_ex2 and EVP_MAC, the\n"
		"                textbook loop\n"
		"Exit status: 0 all verified, 1 an output differed from the baseline, 2 error.\n");
}

int cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "engine", required_argument, NULL, 'e' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "queue-depth", required_argument, NULL, 'q' },
		{ "lanes", required_argument, NULL, 'l' },
		{ "seconds", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "json-out", required_argument, NULL, 'J' },
		{ "no-peers", no_argument, NULL, 'P' },
		{ "versus", required_argument, NULL, 'V' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "standard", no_argument, NULL, 'S' },
		{ "dir", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'Q' },
		{ "baseline", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = { .seconds = 2, .rounds = 5, .peers = true, .cpu = -1, .main_cpu = -1 };
	struct lists l = { .nbs = 0 };
	struct workload *wls = NULL;
	struct engine_spec *engs = NULL;
	struct config *cfgs = NULL;
	struct bench_result *res = NULL;
	unsigned ncfg = 0, i, j, a, b2, nfail = 0, nverify = 0;
	bool standard = false, seconds_set = false, rounds_set = false;
	char err[256];
	int c, ret = CLI_EXIT_ERR;

	if (argc >= 2 && !strcmp(argv[1], "plot"))
		return bench_plot(argc - 1, argv + 1);
	cli_set_cmd("bench");
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "w:e:b:q:l:s:n:r:jJ:PSd:QhV:c:", opts, NULL)) != -1) {
		char *end = NULL;

		switch (c) {
		case 'w':
			if (add_workloads(optarg, &l))
				goto out;
			break;
		case 'e':
			if (add_engines(optarg, &l))
				goto out;
			break;
		case 'l': {
			/* The first version's --lanes LIST: soft:lanes=N engines (0 = soft). */
			char *dup = strdup(optarg), *tok, *save;

			for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				char buf[64];
				unsigned long n = strtoul(tok, &end, 10);

				if (*end || n > 32 || l.neng >= MAX_LIST) {
					free(dup);
					cli_err("--lanes takes numbers 0..32");
					goto out;
				}
				snprintf(buf, sizeof(buf), n ? "soft:lanes=%lu" : "soft", n);
				l.eng[l.neng++] = strdup(buf);
			}
			free(dup);
			break;
		}
		case 'b':
			if (parse_bs_list(optarg, &l))
				goto out;
			break;
		case 'q':
			if (parse_qd_list(optarg, &l))
				goto out;
			break;
		case 's':
			o.seconds = strtod(optarg, &end);
			if (*end || !(o.seconds > 0) || o.seconds > 3600) {
				cli_err("--seconds must be in (0, 3600]");
				goto out;
			}
			seconds_set = true;
			break;
		case 'n':
			o.ops = strtoul(optarg, &end, 0);
			if (*end || !o.ops || o.ops > 1000000000ul) {
				cli_err("--ops must be 1..1000000000");
				goto out;
			}
			break;
		case 'r':
			o.rounds = (unsigned)strtoul(optarg, &end, 0);
			if (*end || !o.rounds || o.rounds > 1000) {
				cli_err("--rounds must be 1..1000");
				goto out;
			}
			rounds_set = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'J':
			o.json_out = optarg;
			break;
		case 'P':
			o.peers = false;
			break;
		case 'S':
			standard = true;
			break;
		case 'd':
			o.dir = optarg;
			break;
		case 'Q':
			o.quiet = true;
			break;
		case 'B':
			if (strcmp(optarg, "provider") && strcmp(optarg, "evp")) {
				cli_err("--baseline takes provider or evp");
				goto out;
			}
			o.evp_base = !strcmp(optarg, "evp");
			break;
		case 'V':
			if (add_versus(optarg, &o))
				goto out;
			break;
		case 'c':
			o.cpu = (int)strtol(optarg, &end, 10);
			if (*end || !*optarg || o.cpu < 0 || o.cpu >= CPU_SETSIZE) {
				cli_err("--cpu takes a CPU number");
				goto out;
			}
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			goto out;
		default:
			ret = cli_bad_option(argv, optopt);
			goto out;
		}
	}
	if (optind < argc) {
		cli_err("unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (o.ops && seconds_set) {
		cli_err("--seconds and --ops exclude each other");
		goto out;
	}
	if (standard && (l.nwl || l.neng || l.nbs || l.nqd)) {
		cli_err("--standard takes no -w/-e/-b/-q");
		goto out;
	}
	if (pick_cpus(&o))
		goto out;
	if (!o.dir)
		o.dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	o.mhz = cpu_mhz();
	o.progress = !o.quiet && isatty(2);
	if (standard && !seconds_set && !o.ops)
		o.seconds = 1;
	if (standard && !rounds_set)
		o.rounds = 9;   /* shorter rounds, more of them: the median sheds preemptions */

	/* Expand into configurations. */
	if (standard) {
		size_t n = sizeof(std_set) / sizeof(std_set[0]);

		for (i = 0; i < n; i++) {
			struct lists sl = { .nbs = 0 };

			if (add_workloads(std_set[i].wl, &sl) || add_engines(std_set[i].engines, &sl) ||
			    parse_bs_list(std_set[i].bs, &sl) || parse_qd_list(std_set[i].qd, &sl))
				goto out;
			for (a = 0; a < sl.neng; a++)
				for (b2 = 0; b2 < sl.nbs; b2++)
					for (j = 0; j < sl.nqd; j++)
						ncfg++;
			free(sl.wl[0]);
			for (a = 0; a < sl.neng; a++)
				free(sl.eng[a]);
		}
	}
	if (!standard) {
		if (!l.nwl)
			add_workloads("xts-enc,crc32c,copy", &l);
		if (!l.neng)
			add_engines("soft", &l);
		if (!l.nbs)
			parse_bs_list("4K", &l);
		if (!l.nqd)
			parse_qd_list("64", &l);
		ncfg = l.nwl * l.neng * l.nbs * l.nqd;
	}
	wls = calloc(standard ? ncfg : l.nwl, sizeof(*wls));
	engs = calloc(standard ? ncfg : l.neng, sizeof(*engs));
	cfgs = calloc(ncfg, sizeof(*cfgs));
	res = calloc(ncfg, sizeof(*res));
	if (!wls || !engs || !cfgs || !res) {
		cli_err("out of memory");
		goto out;
	}
	if (standard) {
		size_t n = sizeof(std_set) / sizeof(std_set[0]);
		unsigned k = 0;

		for (i = 0; i < n; i++) {
			struct lists sl = { .nbs = 0 };

			add_workloads(std_set[i].wl, &sl);
			add_engines(std_set[i].engines, &sl);
			parse_bs_list(std_set[i].bs, &sl);
			parse_qd_list(std_set[i].qd, &sl);
			for (a = 0; a < sl.neng; a++)
				for (b2 = 0; b2 < sl.nbs; b2++)
					for (j = 0; j < sl.nqd; j++, k++) {
						if (workload_parse(sl.wl[0], &wls[k], err, sizeof(err)) ||
						    parse_engine(sl.eng[a], &engs[k])) {
							cli_err("standard set: %s", err);
							goto out;
						}
						cfgs[k] = (struct config){ &wls[k], &engs[k],
									   sl.bs[b2], sl.qd[j] };
					}
			free(sl.wl[0]);
			for (a = 0; a < sl.neng; a++)
				free(sl.eng[a]);
		}
	} else {
		unsigned k = 0;

		for (i = 0; i < l.nwl; i++)
			if (workload_parse(l.wl[i], &wls[i], err, sizeof(err))) {
				cli_err("%s", err);
				goto out;
			}
		for (i = 0; i < l.neng; i++)
			if (parse_engine(l.eng[i], &engs[i]))
				goto out;
		for (i = 0; i < l.nwl; i++)
			for (a = 0; a < l.neng; a++)
				for (b2 = 0; b2 < l.nbs; b2++)
					for (j = 0; j < l.nqd; j++)
						cfgs[k++] = (struct config){ &wls[i], &engs[a],
									     l.bs[b2], l.qd[j] };
	}

	for (i = 0; i < ncfg; i++) {
		int r = run_config(&o, &cfgs[i], &res[i], i + 1, ncfg);

		if (r == -EBADMSG) {
			nverify++;
			fprintf(stderr, "%satx: bench: %s on %s, block %zu, depth %u: %s\n",
				o.progress ? "\r\033[K" : "", cfgs[i].w->text, cfgs[i].e->text,
				cfgs[i].bs, cfgs[i].qd, res[i].note);
		} else if (r < 0) {
			nfail++;
		} else {
			res[i].ran = true;
		}
	}
	/*
	 * Peers after every atx configuration, not between them, so that no
	 * atx row is measured right after dpdk-test-crypto-perf loaded both
	 * vCPUs with AVX-512 work.  (In two `make bench` runs cbc-enc on mb
	 * measured 8.2-8.9 GB/s, baseline too, in the rows that followed a
	 * peer, and 12-13 without peers; in isolation the effect did not
	 * reproduce reliably, so it may be the VM's noise: this order takes
	 * the question away.)
	 */
	for (i = 0; o.peers && i < ncfg; i++) {
		if (!res[i].ran)
			continue;
		if (o.progress)
			fprintf(stderr, "\r\033[K[%u/%u] %s: dpdk-test-crypto-perf", i + 1, ncfg,
				cfgs[i].w->text);
		run_peers(&o, &res[i], res, i);
	}
	if (o.progress)
		fprintf(stderr, "\r\033[K");
	if (o.json_out) {
		FILE *f = fopen(o.json_out, "w");

		if (!f) {
			cli_err("cannot write %s: %s", o.json_out, strerror(errno));
			goto out;
		}
		print_json(f, &o, res, ncfg);
		if (fclose(f)) {
			cli_err("cannot write %s: %s", o.json_out, strerror(errno));
			goto out;
		}
	}
	if (o.json)
		print_json(stdout, &o, res, ncfg);
	else
		print_table(&o, res, ncfg);
	if (nverify)
		ret = CLI_EXIT_VERIFY;
	else if (nfail == ncfg) {
		/* Nothing ran: say why in one line (the table has the rest). */
		cli_err("%s", res[0].note);
		ret = CLI_EXIT_ERR;
	} else if (nfail) {
		ret = CLI_EXIT_ERR;
	} else {
		ret = 0;
	}
out:
	for (i = 0; i < l.nwl; i++)
		free(l.wl[i]);
	for (i = 0; i < l.neng; i++)
		free(l.eng[i]);
	free(wls);
	free(engs);
	free(cfgs);
	for (i = 0; res && i < ncfg; i++)
		free(res[i].rounds);
	free(res);
	return ret;
}
