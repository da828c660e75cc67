/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake_engine.h"

struct fake_state fake_a, fake_b, fake_c, fake_d;

int fake_a_reset_attach(struct atx_ctx *ctx, int fail, int prio)
{
	memset(&fake_a, 0, sizeof(fake_a));
	fake_a.capacity = 64;
	fake_a.fail_status = fail;
	fake_a.probe_prio = prio;
	return atx__ctx_attach_engine(ctx, &fake_a_ops, NULL);
}

static struct fake_state *st_of(struct atx_engine *e)
{
	return atx_engine_priv(e);
}

static int fake_attach_common(struct atx_engine *e, struct fake_state *st)
{
	atx_engine_set_priv(e, st);
	st->chan = atx_engine_add_chan(e, "fake.q0",
				       ATX_CAP_MEMCPY | ATX_CAP_CIPHER,
				       ATX_CHAN_F_IN_ORDER | ATX_CHAN_F_POLL, st);
	return st->chan ? 0 : -1;
}

static int fake_a_attach(struct atx_engine *e, const char *args)
{
	return fake_attach_common(e, &fake_a);
}

static int fake_b_attach(struct atx_engine *e, const char *args)
{
	return fake_attach_common(e, &fake_b);
}

static int fake_c_attach(struct atx_engine *e, const char *args)
{
	atx_engine_set_priv(e, &fake_c);
	fake_c.chan = atx_engine_add_chan(e, "fake.c0", ATX_CAP_MEMCPY | ATX_CAP_CIPHER,
					  ATX_CHAN_F_INLINE | ATX_CHAN_F_POLL, &fake_c);
	return fake_c.chan ? 0 : -1;
}

static void fake_detach(struct atx_engine *e)
{
}

static int fake_probe(struct atx_engine *e, const struct atx_session_params *p)
{
	return st_of(e)->probe_prio;
}

static int fake_new_session(struct atx_engine *e, const struct atx_session_params *p, void **priv)
{
	if (st_of(e)->create_status)
		return st_of(e)->create_status;
	st_of(e)->sessions++;
	*priv = st_of(e);
	return 0;
}

static void fake_free_session(struct atx_engine *e, void *priv)
{
	((struct fake_state *)priv)->sessions--;
}

/* fake_c: a session state of its own, so that submit_burst can tell sessions apart. */
struct fake_sess {
	struct fake_state *st;
};

static int fake_c_new_session(struct atx_engine *e, const struct atx_session_params *p,
			      void **priv)
{
	struct fake_sess *fs = malloc(sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	fs->st = st_of(e);
	fs->st->sessions++;
	*priv = fs;
	return 0;
}

static void fake_c_free_session(struct atx_engine *e, void *priv)
{
	struct fake_sess *fs = priv;

	fs->st->sessions--;
	free(fs);
}

static unsigned fake_submit_burst(struct atx_chan *chan, struct atx_tx *const *txs, unsigned n)
{
	struct fake_state *st = atx_chan_priv(chan);
	const struct atx_op *o0 = atx_tx_op(txs[0]);
	unsigned i, k = n < st->burst_take ? n : st->burst_take;

	st->bursts++;
	if (n < 2)
		st->burst_bad++;
	for (i = 0; i < n; i++) {
		const struct atx_op *op = atx_tx_op(txs[i]);

		if (op->opcode != o0->opcode || op->len != o0->len || op->iv_len != o0->iv_len ||
		    op->u.crypto.sess_priv != o0->u.crypto.sess_priv || op->fence ||
		    op->u.crypto.src_cnt != 1 || op->u.crypto.dst_cnt != 1)
			st->burst_bad++;
	}
	if (k > st->capacity - st->nq)
		k = st->capacity - st->nq;
	for (i = 0; i < k; i++)
		st->q[st->nq++] = txs[i];
	st->submitted += k;
	st->burst_taken += k;
	if (k)
		st->doorbells++;
	return k;
}

static int fake_submit(struct atx_chan *chan, struct atx_tx *tx, unsigned hints)
{
	struct fake_state *st = atx_chan_priv(chan);

	if (st->nq >= st->capacity) {
		st->refused++;
		st->blocked = true;
		st->doorbells++; /* ring for what it already took */
		return -EAGAIN;
	}
	st->q[st->nq++] = tx;
	st->submitted++;
	if (!(hints & ATX_HINT_MORE))
		st->doorbells++;
	return 0;
}

static int fake_poll(struct atx_chan *chan, unsigned budget)
{
	struct fake_state *st = atx_chan_priv(chan);
	unsigned i, n = st->nq;

	st->polls++;
	for (i = 0; i < n; i++) {
		struct atx_tx *tx = st->q[i];
		struct atx_op *op = atx_tx_op(tx);
		int status = st->fail_status;

		if (st->nlog < 1024)
			st->log[st->nlog++] = op->opcode == ATX_OP_MEMCPY ? op->u.mem.src :
					      op->u.crypto.src[0].iov_base;
		if (op->fence && !atx_tx_fence_ok(tx))
			status = -ECANCELED;
		else if (!status && op->opcode == ATX_OP_MEMCPY)
			memcpy(op->u.mem.dst, op->u.mem.src, op->len);
		atx_engine_complete(tx, status);
	}
	st->nq = 0;
	if (st->blocked) {
		st->blocked = false;
		atx_engine_unblock(chan);
	}
	return (int)n;
}

const struct atx_engine_ops fake_a_ops = {
	.name = "fakea", .prio = ATX_PRIO_HARDWARE, .caps = ATX_CAP_MEMCPY | ATX_CAP_CIPHER,
	.attach = fake_a_attach, .detach = fake_detach, .probe_session = fake_probe,
	.new_session = fake_new_session, .free_session = fake_free_session,
	.submit = fake_submit, .poll = fake_poll,
};

const struct atx_engine_ops fake_b_ops = {
	.name = "fakeb", .prio = ATX_PRIO_ACCEL, .caps = ATX_CAP_MEMCPY | ATX_CAP_CIPHER,
	.attach = fake_b_attach, .detach = fake_detach, .probe_session = fake_probe,
	.new_session = fake_new_session, .free_session = fake_free_session,
	.submit = fake_submit, .poll = fake_poll,
};

const struct atx_engine_ops fake_c_ops = {
	.name = "fakec", .prio = ATX_PRIO_HARDWARE, .caps = ATX_CAP_MEMCPY | ATX_CAP_CIPHER,
	.attach = fake_c_attach, .detach = fake_detach, .probe_session = fake_probe,
	.new_session = fake_c_new_session, .free_session = fake_c_free_session,
	.submit = fake_submit, .submit_burst = fake_submit_burst, .poll = fake_poll,
};

/* fake_d: the core runs its inline channel's queue through exec. */
static int fake_d_attach(struct atx_engine *e, const char *args)
{
	atx_engine_set_priv(e, &fake_d);
	fake_d.chan = atx_engine_add_chan(e, "fake.d0", ATX_CAP_MEMCPY,
					  ATX_CHAN_F_IN_ORDER | ATX_CHAN_F_INLINE, &fake_d);
	return fake_d.chan ? 0 : -1;
}

static int fake_d_exec(struct atx_chan *chan, struct atx_tx *tx)
{
	struct fake_state *st = atx_chan_priv(chan);
	struct atx_op *op = atx_tx_op(tx);

	st->execs++;
	if (st->nlog < 1024)
		st->log[st->nlog++] = op->u.mem.src;
	if (op->fence && !atx_tx_fence_ok(tx))
		return -ECANCELED;
	if (st->fail_status)
		return st->fail_status;
	memcpy(op->u.mem.dst, op->u.mem.src, op->len);
	return 0;
}

const struct atx_engine_ops fake_d_ops = {
	.name = "faked", .prio = ATX_PRIO_HARDWARE, .caps = ATX_CAP_MEMCPY,
	.attach = fake_d_attach, .detach = fake_detach,
	.submit = fake_submit, .exec = fake_d_exec,
};

/* Claims CIPHER without the session ops: registration must refuse it. */
const struct atx_engine_ops fake_bad_ops = {
	.name = "fakebad", .prio = ATX_PRIO_HARDWARE, .caps = ATX_CAP_CIPHER,
	.attach = fake_a_attach, .detach = fake_detach, .submit = fake_submit,
};
