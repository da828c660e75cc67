/* SPDX-License-Identifier: MIT */
/*
 * fileio.c - file reads and writes as chain steps, executed on the
 * context's own io_uring.  It is an engine like the others (one channel,
 * "uring.io") so that dependencies, cancellation and stats need no special
 * case; it lives in the core because it uses the context's ring.
 */
#include "atx_internal.h"

static int io_prep(struct atx_ctx *ctx, struct atx_tx *tx)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ctx->ring);
	struct atx_op *op = &tx->op;
	size_t left = op->len - op->u.io.done;
	/* One SQE moves at most what a single read/write returns (INT_MAX-ish). */
	unsigned chunk = left > (1u << 30) ? (1u << 30) : (unsigned)left;

	if (!sqe) {
		io_uring_submit(&ctx->ring);
		ctx->sqes_queued = 0;
		sqe = io_uring_get_sqe(&ctx->ring);
		if (!sqe)
			return -EAGAIN;
	}
	if (op->opcode == ATX_OP_READ)
		io_uring_prep_read(sqe, op->u.io.fd, (char *)op->u.io.buf + op->u.io.done, chunk,
				   op->u.io.offset + op->u.io.done);
	else
		io_uring_prep_write(sqe, op->u.io.fd, (char *)op->u.io.buf + op->u.io.done, chunk,
				    op->u.io.offset + op->u.io.done);
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
	/* In-order fencing would be wrong: io_uring completes out of order. */
	return atx_engine_add_chan(e, "uring.io", ATX_CAP_FILEIO, 0, NULL) ? 0 : -errno;
}

static void fileio_detach(struct atx_engine *e)
{
}

const struct atx_engine_ops atx_fileio_engine_ops = {
	.name = "uring",
	.prio = ATX_PRIO_SOFTWARE,
	.caps = ATX_CAP_FILEIO,
	.attach = fileio_attach,
	.detach = fileio_detach,
	.submit = fileio_submit,
};
