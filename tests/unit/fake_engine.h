/* SPDX-License-Identifier: MIT */
/*
 * fake_engine.h - a test engine: a bounded in-order queue that refuses
 * with -EAGAIN when full, executes memcpy in the loop thread, and can be
 * told to fail every descriptor.  Attach with atx__ctx_attach_engine().
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
	unsigned submitted, refused, doorbells, polls, sessions;
	struct atx_tx *q[1024];
	unsigned nq;
	bool blocked;
	struct atx_chan *chan;
};

extern struct fake_state fake_a, fake_b;
extern const struct atx_engine_ops fake_a_ops, fake_b_ops, fake_bad_ops;

#endif
