/* SPDX-License-Identifier: MIT */
/*
 * bench/lines.c - what a cache line costs the thread that wrote it after a
 * thread on another CPU touched it: the price of handing a descriptor, a
 * completion or a buffer to a worker lane and taking it back.
 *
 *   build/release/bench-lines [CPU_A CPU_B]     (default 0 1)
 *
 * Exit 0 with eight figures, 1 when a CPU cannot be pinned, 2 on bad
 * arguments.
 *
 * Thread A (on CPU_A) writes 4096 lines scattered over 1 MiB, one per
 * 256-byte slot (a descriptor's size); thread B (on CPU_B) then reads, or
 * writes, one line of each slot or nothing; then A reads them back one
 * after the other (each load's address comes from the line before, so
 * nothing overlaps: latency) and writes them again (stores may overlap:
 * throughput).  Printed: ns per line for each case (also with B demoting
 * the line to the shared cache with CLDEMOTE after touching it, where the
 * CPU has the instruction; elsewhere it is a NOP); for A reading line 0
 * of each slot after B read only line 1 (the neighbour); and for A
 * reading line 0 or 3 after B walked lines 1-2 of every slot in address
 * order, as a worker lane walks a batch of descriptors (the hardware
 * prefetchers then take the neighbours too).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SLOTS 4096
#define SLOT 256
#define ROUNDS 64

enum touch { T_NONE, T_READ, T_WRITE, T_READ_DEMOTE, T_WRITE_DEMOTE };

/* CLDEMOTE: push the line out to the shared cache level; a NOP where absent. */
static inline void demote(volatile unsigned char *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("cldemote %0" : : "m"(*(const volatile unsigned char *)p));
#else
	(void)p;
#endif
}

static unsigned char *buf;
static unsigned perm[SLOTS];
static atomic_uint turn;        /* odd: B's turn */
static atomic_bool quit;
static atomic_int b_state;      /* 1: B pinned and waiting, -1: B could not pin */
static enum touch b_touch;
static unsigned b_line;         /* which line of each slot B touches */
static bool b_walk;             /* B reads lines 1 and 2 of every slot in address order */

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

static void *thread_b(void *arg)
{
	unsigned seen = 0, i;

	if (pin(*(int *)arg)) {
		atomic_store(&b_state, -1);
		return NULL;
	}
	atomic_store(&b_state, 1);
	for (;;) {
		unsigned t;

		while ((t = atomic_load(&turn)) == seen || !(t & 1))
			if (atomic_load(&quit))
				return NULL;
		for (i = 0; i < SLOTS; i++) {
			volatile unsigned char *p = buf + (size_t)perm[i] * SLOT + b_line * 64;

			if (b_walk) {
				p = buf + (size_t)i * SLOT;
				(void)p[64];
				(void)p[128];
			} else if (b_touch == T_READ || b_touch == T_READ_DEMOTE) {
				(void)*p;
				if (b_touch == T_READ_DEMOTE)
					demote(p);
			} else if (b_touch == T_WRITE || b_touch == T_WRITE_DEMOTE) {
				(*p)++;
				if (b_touch == T_WRITE_DEMOTE)
					demote(p);
			}
		}
		seen = t + 1;
		atomic_store(&turn, seen);
	}
}

/* A's re-read (ns per dependent load) and re-write (ns per store) of @a_line. */
static void measure(enum touch t, unsigned bl, bool walk, unsigned a_line, double *rd,
		    double *wr)
{
	uint64_t r_ns = 0, w_ns = 0;
	unsigned r, i;

	b_touch = t;
	b_line = bl;
	b_walk = walk;
	for (r = 0; r < ROUNDS; r++) {
		unsigned k, t0;
		uint64_t a, b, c;

		/* A writes every line of each slot and threads a chase through a_line. */
		for (i = 0; i < SLOTS; i++) {
			unsigned char *s = buf + (size_t)perm[i] * SLOT;

			for (k = 0; k < SLOT / 64; k++)
				s[k * 64 + 16] = (unsigned char)r;
			*(unsigned *)(s + a_line * 64) = perm[(i + 1) % SLOTS];
		}
		t0 = atomic_load(&turn);
		atomic_store(&turn, t0 + 1);
		while (atomic_load(&turn) != t0 + 2)
			;
		a = now_ns();
		for (k = perm[0], i = 0; i < SLOTS; i++)
			k = *(volatile unsigned *)(buf + (size_t)k * SLOT + a_line * 64);
		b = now_ns();
		for (i = 0; i < SLOTS; i++)
			buf[(size_t)perm[i] * SLOT + a_line * 64 + 8] = (unsigned char)(r + k);
		c = now_ns();
		r_ns += b - a;
		w_ns += c - b;
	}
	*rd = (double)r_ns / ROUNDS / SLOTS;
	*wr = (double)w_ns / ROUNDS / SLOTS;
}

int main(int argc, char **argv)
{
	static const char *const what[] = { "did nothing", "read it", "wrote it",
					    "read it, then CLDEMOTE", "wrote it, then CLDEMOTE" };
	int ca = 0, cb = 1;
	double rd, wr;
	pthread_t th;
	unsigned i;

	if (argc == 3) {
		char *e1, *e2;

		ca = (int)strtol(argv[1], &e1, 10);
		cb = (int)strtol(argv[2], &e2, 10);
		if (*e1 || *e2 || !*argv[1] || !*argv[2] || ca < 0 || cb < 0 || ca == cb)
			argc = 0;
	}
	if (argc != 1 && argc != 3) {
		fprintf(stderr, "bench-lines: usage: bench-lines [CPU_A CPU_B] (two different CPUs)\n");
		return 2;
	}
	buf = aligned_alloc(4096, (size_t)SLOTS * SLOT);
	if (!buf || pin(ca)) {
		fprintf(stderr, "bench-lines: cannot pin to CPU %d\n", ca);
		return 1;
	}
	srand(1);
	for (i = 0; i < SLOTS; i++)
		perm[i] = i;
	for (i = SLOTS - 1; i > 0; i--) {
		unsigned j = (unsigned)rand() % (i + 1), x = perm[i];

		perm[i] = perm[j];
		perm[j] = x;
	}
	if (pthread_create(&th, NULL, thread_b, &cb)) {
		fprintf(stderr, "bench-lines: cannot start a thread\n");
		return 1;
	}
	while (!atomic_load(&b_state))
		;
	if (atomic_load(&b_state) < 0) {
		pthread_join(th, NULL);
		fprintf(stderr, "bench-lines: cannot pin to CPU %d\n", cb);
		return 1;
	}
	printf("line of a 256-byte slot CPU %d wrote; CPU %d then ...       CPU %d re-reads / re-writes it, ns\n",
	       ca, cb, ca);
	for (i = T_NONE; i <= T_WRITE_DEMOTE; i++) {
		measure(i, 1, false, 1, &rd, &wr);
		printf("  %-56s %7.1f / %5.1f\n", what[i], rd, wr);
	}
	measure(T_READ, 1, false, 0, &rd, &wr);
	printf("  %-56s %7.1f / %5.1f\n", "read the next line (line 1; this is line 0)", rd, wr);
	measure(T_READ, 1, true, 0, &rd, &wr);
	printf("  %-56s %7.1f / %5.1f\n", "read lines 1-2 of every slot in address order; line 0", rd,
	       wr);
	measure(T_READ, 1, true, 3, &rd, &wr);
	printf("  %-56s %7.1f / %5.1f\n", "read lines 1-2 of every slot in address order; line 3", rd,
	       wr);
	atomic_store(&quit, 1);
	pthread_join(th, NULL);
	free(buf);
	return 0;
}
