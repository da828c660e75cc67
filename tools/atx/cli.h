/* SPDX-License-Identifier: MIT */
/*
 * cli.h - helpers shared by the `atx` subcommands: one-line errors, hex,
 * keys, whole-input reads and all-or-nothing output files.
 */
#ifndef ATX_CLI_H
#define ATX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atx.h"

/* Exit statuses of every subcommand. */
#define CLI_EXIT_OK     0
#define CLI_EXIT_VERIFY 1       /* a digest, MAC or tag did not verify */
#define CLI_EXIT_ERR    2       /* usage, input or library error */

/*
 * Inputs that must be held whole (digests, MACs, AEAD, XTS: the library's
 * descriptors are one-shot) are refused past this size, so that a pipe of
 * unknown length cannot exhaust memory.
 */
#define CLI_MAX_BUFFER ((size_t)1 << 30)

/* Name of the running subcommand, for messages ("atx: cipher: ..."). */
void cli_set_cmd(const char *cmd);

/* Print "atx: CMD: message" as one line on stderr; returns CLI_EXIT_ERR. */
int cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Message for a negative errno from the library. */
const char *cli_strerror(int status);

/* Report an unknown option or a missing argument seen by getopt_long. */
int cli_bad_option(char **argv, int optopt_);

/*
 * Decode @hex (even number of hex digits, optional "0x") into a new
 * buffer.  Returns 0 or -EINVAL.  *len may be 0 (buffer still non-NULL).
 */
int cli_hex_decode(const char *hex, uint8_t **out, size_t *len);

/* Write @len bytes of @buf as lower-case hex to stdout, then a newline. */
void cli_hex_print(const uint8_t *buf, size_t len);

/*
 * Load a key from -K HEX or --key-file PATH (raw bytes, exactly the key;
 * no newline stripping, like cryptsetup --key-file).  Exactly one must be
 * given.  The hex argument is wiped from argv afterwards so that it does
 * not linger in /proc/PID/cmdline.  Errors are reported (one line) and
 * return CLI_EXIT_ERR.
 */
int cli_key_load(char *hex, const char *file, uint8_t **key, size_t *len);

/* Zeroize and free a buffer that held key material (NULL is fine). */
void cli_key_free(uint8_t *key, size_t len);

/* Open @path for reading ("-" or NULL = stdin).  Returns fd or -1 (reported). */
int cli_in_open(const char *path);

/*
 * Read the whole of @fd into a new buffer of at most @max bytes (plus
 * one spare byte so an empty input still has a valid pointer).  Returns
 * 0, or CLI_EXIT_ERR after reporting.
 */
int cli_read_all(int fd, const char *what, size_t max, uint8_t **buf, size_t *len);

/* Read up to @len bytes, stopping early only at end of input.  Returns the count or -errno. */
ssize_t cli_read_full(int fd, void *buf, size_t len);

/*
 * All-or-nothing output: a named file is written to a temporary file in
 * the same directory and renamed over the target only by
 * cli_out_commit(); cli_out_abort() deletes it.  stdout ("-" or NULL)
 * is written directly.
 */
struct cli_out {
	int fd;
	char *path;             /* target, NULL for stdout */
	char *tmp;              /* temporary file, NULL for stdout */
};

int cli_out_open(struct cli_out *o, const char *path);
int cli_out_write(struct cli_out *o, const void *buf, size_t len);     /* 0 or CLI_EXIT_ERR */
int cli_out_commit(struct cli_out *o);                                  /* 0 or CLI_EXIT_ERR */
void cli_out_abort(struct cli_out *o);

/*
 * End an output by the run's status @ret: commit it when @ret is 0, else
 * abort it.  Returns @ret, or what the commit returned.
 */
int cli_out_finish(struct cli_out *o, int ret);

/*
 * Create a context for --engine @spec and say what to put in
 * atx_session_params.engine:
 *   NULL, "auto"      default engines, best engine (NULL)
 *   "soft", "mb", ... that engine; attached through atx_ctx_opts.engines
 *                     when it is not one of the built-in ones
 *   "virtio:SOCK"...  attach spec (contains ':'): the engine it attached
 * Reports errors; returns 0 or CLI_EXIT_ERR.
 */
int cli_ctx_open(const char *spec, struct atx_ctx **ctx, const char **sess_engine);

/*
 * Create a session for @p on @ctx (the library copies the keys); @alg
 * names it in messages.  Reports why it failed: the engine named in
 * p->engine or no engine cannot serve it, or the library's error.
 * Returns 0 or CLI_EXIT_ERR.
 */
int cli_session_open(struct atx_ctx *ctx, const struct atx_session_params *p, const char *alg,
		     struct atx_session **s);

/*
 * Parse algorithm @name for subcommand service @svc; on a wrong service
 * or unknown name reports and returns CLI_EXIT_ERR.  *key_len = the key
 * length the name implies (0 = free).
 */
int cli_alg(const char *name, enum atx_service svc, struct atx_session_params *p,
	    size_t *key_len);

/* Names of ATX_CAP_* bits and services. */
const char *cli_cap_name(unsigned bit);
const char *cli_service_name(enum atx_service svc);

/* Run one descriptor to completion and release it; returns its status. */
int cli_run_tx(struct atx_tx *tx);

/* Same, for the result of a submission: NULL gives -errno of the refusal. */
int cli_run_tx_or(struct atx_tx *tx);

#endif
