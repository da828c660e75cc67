/* SPDX-License-Identifier: MIT */
/*
 * bench/scaling.c - how far the machine scales the hand-written storage
 * chain (AES-256-XTS encrypt -> crc32c -> copy, 4 KiB, 64 slots per
 * thread, as `atx bench`'s baseline) from one thread to N, with nothing of
 * atx in the way: the ceiling for worker-lane figures.
 *
 *   build/release/bench-scaling [THREADS] [SECONDS]     (default 2, 2)
 *
 * Prints chains/s for 1 thread and for THREADS threads (all at once, each
 * on its own buffers and EVP context) and their ratio; exit 1 if a
 * library call failed.
 */
#include <isa-l/crc.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atx_simd.h"

#define SLOTS 64
#define BS 4096

struct worker {
	pthread_t th;
	double secs, rate;
	int err;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	unsigned char key[64], iv[16] = { 0 }, *buf;
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-256-XTS", NULL);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	unsigned long n = 0;
	double t0;
	int i, l;

	for (i = 0; i < 64; i++)
		key[i] = (unsigned char)(i * 7 + 1);    /* XTS refuses equal key halves */
	buf = aligned_alloc(64, SLOTS * 3 * BS);
	if (!c || !x || !buf || EVP_CipherInit_ex2(x, c, key, NULL, 1, NULL) != 1) {
		w->err = 1;
		goto out;
	}
	memset(buf, 0x5a, SLOTS * 3 * BS);
	t0 = now();
	while (now() - t0 < w->secs) {
		for (i = 0; i < SLOTS; i++, n++) {
			unsigned char *a = buf + (size_t)i * 3 * BS, *b = a + BS, *d = b + BS;

			memcpy(iv, &n, sizeof(n));
			if (EVP_CipherInit_ex2(x, NULL, NULL, iv, -1, NULL) != 1 ||
			    EVP_CipherUpdate(x, b, &l, a, BS) != 1 || l != BS) {
				w->err = 1;
				goto out;
			}
			a[0] ^= (unsigned char)crc32_iscsi(b, BS, 0);
			atx_simd_clean();       /* as atx's engine does: atx_simd.h */
			memcpy(d, b, BS);
		}
	}
	w->rate = n / (now() - t0);
out:
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
	free(buf);
	return NULL;
}

static double rate(unsigned nt, double secs, int *err)
{
	struct worker w[64];
	double tot = 0;
	unsigned i;

	for (i = 0; i < nt; i++) {
		w[i] = (struct worker){ .secs = secs };
		if (pthread_create(&w[i].th, NULL, run, &w[i]))
			*err = 1;
	}
	for (i = 0; i < nt; i++) {
		pthread_join(w[i].th, NULL);
		tot += w[i].rate;
		*err |= w[i].err;
	}
	return tot;
}

int main(int argc, char **argv)
{
	unsigned nt = argc > 1 ? (unsigned)atoi(argv[1]) : 2;
	double secs = argc > 2 ? atof(argv[2]) : 2, one, many;
	int err = 0;

	if (nt < 1 || nt > 64 || secs <= 0) {
		fprintf(stderr, "bench-scaling: usage: bench-scaling [THREADS 1..64] [SECONDS > 0]\n");
		return 2;
	}
	one = rate(1, secs, &err);
	many = rate(nt, secs, &err);
	if (err) {
		fprintf(stderr, "bench-scaling: an OpenSSL call failed\n");
		return 1;
	}
	printf("xts-enc,crc32c,copy 4 KiB, hand loop: 1 thread %.0f chains/s, %u threads %.0f chains/s, %.2fx\n",
	       one, nt, many, many / one);
	return 0;
}
