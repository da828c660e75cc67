/* SPDX-License-Identifier: MIT */
/*
 * fileio.c - file reads and writes as chain steps, executed on the
 * context's own io_uring.  It is an engine like the others (one channel,
 * "uring.io") so that dependencies, cancellation and stats need no special
 * case; it lives in the core because it uses the context's ring.
 */
#include "atx_internal.h"

/*
 * Registered buffers (atx_ctx_register_buffers): the engine's private
 * state, so the context's structures do not change.  Few regions are
 * expected (a caller registers one arena of chunk buffers), so the
 * lookup is a scan.
 */
#define FIXED_MAX 64

struct fileio_state {
	unsigned nfixed;
	struct iovec fixed[FIXED_MAX];
};

/* Index of the registered region holding [p, p + len), or -1. */
static int fixed_index(const struct fileio_state *fs, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;
	unsigned i;

	for (i = 0; fs && i < fs->nfixed; i++) {
		uintptr_t b = (uintptr_t)fs->fixed[i].iov_base;

		if (a >= b && len <= fs->fixed[i].iov_len && a - b <= fs->fixed[i].iov_len - len)
			return (int)i;
	}
	return -1;
}

int atx_ctx_register_buffers(struct atx_ctx *ctx, const struct iovec *iov, unsigned n)
{
	struct fileio_state *fs;
	int ret;

	if (!ctx || !ctx->fileio || n > FIXED_MAX || (n && !iov))
		return -EINVAL;
	fs = ctx->fileio->priv;
	/* Requests prepared against the old table may still be continued by index. */
	if (ctx->fileio->nchans && ctx->fileio->chans[0]->inflight)
		return -EBUSY;
	if (fs->nfixed) {
		io_uring_unregister_buffers(&ctx->ring);
		fs->nfixed = 0;
	}
	if (!n)
		return 0;
	ret = io_uring_register_buffers(&ctx->ring, iov, n);
	if (ret < 0)
		return ret;
	memcpy(fs->fixed, iov, n * sizeof(*iov));
	fs->nfixed = n;
	return 0;
}

static int io_prep(struct atx_ctx *ctx, struct atx_tx *tx)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ctx->ring);
	struct atx_op *op = &tx->op;
	size_t left = op->len - op->u.io.done;
	/* One SQE moves at most what a single read/write returns (INT_MAX-ish). */
	unsigned chunk = left > (1u << 30) ? (1u << 30) : (unsigned)left;
	char *p = (char *)op->u.io.buf + op->u.io.done;
	int fixed = fixed_index(ctx->fileio->priv, p, chunk);

	if (!sqe) {
		io_uring_submit(&ctx->ring);
		ctx->sqes_queued = 0;
		sqe = io_uring_get_sqe(&ctx->ring);
		if (!sqe)
			return -EAGAIN;
	}
	/* A registered buffer skips pinning and mapping the user pages per request. */
	if (op->opcode == ATX_OP_READ && fixed >= 0)
		io_uring_prep_read_fixed(sqe, op->u.io.fd, p, chunk, op->u.io.offset + op->u.io.done,
					 fixed);
	else if (op->opcode == ATX_OP_READ)
		io_uring_prep_read(sqe, op->u.io.fd, p, chunk, op->u.io.offset + op->u.io.done);
	else if (fixed >= 0)
		io_uring_prep_write_fixed(sqe, op->u.io.fd, p, chunk, op->u.io.offset + op->u.io.done,
					  fixed);
	else
		io_uring_prep_write(sqe, op->u.io.fd, p, chunk, op->u.io.offset + op->u.io.done);
	io_uring_sqe_set_data64(sqe, (uintptr_t)tx | UD_IO);
	atx__sqe_queued(ctx);
	return 0;
}

static int fileio_submit(struct atx_chan *chan, struct atx_tx *tx, unsigned hints)
{
	struct atx_ctx *ctx = chan->ctx;

	if (tx->op.opcode == ATX_OP_NOP || tx->op.len == 0) {
		atx_engine_complete(tx, 0);
		return 0;
	}
	if (tx->op.fence && !atx_tx_fence_ok(tx)) {
		atx_engine_complete(tx, -ECANCELED);
		return 0;
	}
	return io_prep(ctx, tx);
}

/* A CQE for @tx: continue short transfers, finish or fail. */
void atx__fileio_cqe(struct atx_ctx *ctx, struct atx_tx *tx, int res)
{
	struct atx_op *op = &tx->op;

	if (res == -EINTR || res == -EAGAIN) {
		res = 0; /* retry the same range */
	} else if (res < 0) {
		atx_engine_complete(tx, res);
		return;
	} else if (res == 0) {
		/* End of file on read, or a write that made no progress. */
		atx_engine_complete(tx, op->opcode == ATX_OP_READ ? -ENODATA : -EIO);
		return;
	}
	op->u.io.done += (size_t)res;
	if (op->u.io.done >= op->len) {
		atx_engine_complete(tx, 0);
		return;
	}
	if (io_prep(ctx, tx) < 0)
		atx_engine_complete(tx, -EAGAIN);
}

static int fileio_attach(struct atx_engine *e, const char *args)
{
	struct fileio_state *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	e->priv = fs;
	/* In-order fencing would be wrong: io_uring completes out of order. */
	if (!atx_engine_add_chan(e, "uring.io", ATX_CAP_FILEIO, 0, NULL)) {
		free(fs);
		e->priv = NULL;
		return -errno;
	}
	return 0;
}

static void fileio_detach(struct atx_engine *e)
{
	/* The ring goes with the context; the registration with it. */
	free(e->priv);
	e->priv = NULL;
}

const struct atx_engine_ops atx_fileio_engine_ops = {
	.name = "uring",
	.prio = ATX_PRIO_SOFTWARE,
	.caps = ATX_CAP_FILEIO,
	.attach = fileio_attach,
	.detach = fileio_detach,
	.submit = fileio_submit,
};
