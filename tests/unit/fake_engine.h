/* SPDX-License-Identifier: MIT */
/*
 * fake_engine.h - a test engine: a bounded in-order queue that refuses
 * with -EAGAIN when full, executes memcpy in the loop thread, and can be
 * told to fail every descriptor.  Attach with atx__ctx_attach_engine().
 * fake_c is the same on an inline channel with submit_burst, which
 * takes at most burst_take descriptors a call and counts every call
 * that breaks the contract of include/atx_engine.h in burst_bad.
 * fake_d has an inline channel with exec, which the core runs itself;
 * it counts exec calls and would count submit calls, which must not come.
 */
#ifndef ATX_FAKE_ENGINE_H
#define ATX_FAKE_ENGINE_H

#include "atx_engine.h"
#include "atx_internal.h"

struct fake_state {
	unsigned capacity;      /* queue slots; submit refuses past that */
	int fail_status;        /* complete every descriptor with this (0 = execute) */
	int probe_prio;         /* answer of probe_session, or -EOPNOTSUPP */
	int create_status;      /* answer of new_session (0 = create) */
	unsigned submitted, refused, doorbells, polls, sessions, execs;
	struct atx_tx *q[1024];
	unsigned nq;
	unsigned burst_take, bursts, burst_taken, burst_bad;
	const void *log[1024];  /* sources of the descriptors poll completed, in order */
	unsigned nlog;
	bool blocked;
	struct atx_chan *chan;
};

extern struct fake_state fake_a, fake_b, fake_c, fake_d;
extern const struct atx_engine_ops fake_a_ops, fake_b_ops, fake_c_ops, fake_d_ops, fake_bad_ops;

/* fake_a reset (64 slots), completing with @fail, probing with @prio, attached to @ctx: 0 or -errno. */
int fake_a_reset_attach(struct atx_ctx *ctx, int fail, int prio);

#endif
