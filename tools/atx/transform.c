/* SPDX-License-Identifier: MIT */
/*
 * transform.c - the one-shot transforms of `atx`: cipher, digest, mac,
 * aead, crc32c.  Each runs through the library on any engine.
 *
 * What is streamed and what is buffered follows from the library's
 * descriptors being one-shot (no incremental hash state):
 *   cipher ECB/CBC/CTR/ChaCha20/3DES  streamed in 32 KiB chunks, up to 8
 *       in flight; the IV of chunk n+1 is derived from chunk n (CBC: last
 *       ciphertext block, which serialises CBC encryption; CTR/ChaCha20:
 *       counter advanced by the blocks of chunk n).  The output equals
 *       one-shot `openssl enc -nopad` of the whole input.
 *   cipher XTS   one data unit = the whole message, like
 *       `openssl enc -aes-256-xts`: buffered, at most CLI_MAX_BUFFER.
 *   digest, mac  buffered, at most CLI_MAX_BUFFER.
 *   aead         buffered: decryption must verify the tag before any
 *       plaintext is released, so nothing is written on a bad tag.
 *   crc32c       streamed, chaining the seed from chunk to chunk.
 * Block modes do not pad: the input must be a multiple of the block.
 * Output to a file (-o) is all-or-nothing: a temporary file renamed on
 * success.  On stdout a streamed cipher that fails midway has already
 * written the chunks before the failure; it exits 2 with a message.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alg.h"         /* atx__iv_len & co: the tool links libatx.a */
#include "cli.h"
#include "cmds.h"

/* Below intel-ipsec-mb's per-job limit (64 KiB - 2), so chunks may go to "mb". */
#define CHUNK (32 * 1024)
#define DEPTH 8
#define CRC_CHUNK (1024 * 1024)

enum {
	OPT_KEY_FILE = 256,
	OPT_IV,
	OPT_AAD,
	OPT_TAG_LEN,
	OPT_ENGINE,
	OPT_VERIFY,
	OPT_BINARY,
	OPT_SEED,
	OPT_AUTH_KEY,
	OPT_AUTH_KEY_FILE,
};

/* Groups of options; a subcommand names the ones it takes. */
enum {
	XO_COMMON = 1 << 0,     /* -h, -i IN, --engine: every subcommand */
	XO_ALG = 1 << 1,        /* -a ALG, checked against the subcommand's service */
	XO_DIR = 1 << 2,        /* -e | -d, required */
	XO_KEY = 1 << 3,        /* -K HEX | --key-file FILE, required */
	XO_AUTH_KEY = 1 << 4,   /* --auth-key HEX | --auth-key-file FILE */
	XO_IV = 1 << 5,
	XO_AAD = 1 << 6,
	XO_TAG_LEN = 1 << 7,
	XO_VERIFY = 1 << 8,
	XO_OUT = 1 << 9,        /* -o OUT */
	XO_BINARY = 1 << 10,
	XO_SEED = 1 << 11,
};

static const struct xf_option {
	struct option lo;       /* val < 256: also the short option */
	unsigned group;
} xf_options[] = {
	{ { "help", no_argument, NULL, 'h' }, XO_COMMON },
	{ { "alg", required_argument, NULL, 'a' }, XO_ALG },
	{ { "encrypt", no_argument, NULL, 'e' }, XO_DIR },
	{ { "decrypt", no_argument, NULL, 'd' }, XO_DIR },
	{ { "key", required_argument, NULL, 'K' }, XO_KEY },
	{ { "key-file", required_argument, NULL, OPT_KEY_FILE }, XO_KEY },
	{ { "verify", required_argument, NULL, OPT_VERIFY }, XO_VERIFY },
	{ { "iv", required_argument, NULL, OPT_IV }, XO_IV },
	{ { "aad", required_argument, NULL, OPT_AAD }, XO_AAD },
	{ { "tag-len", required_argument, NULL, OPT_TAG_LEN }, XO_TAG_LEN },
	{ { "auth-key", required_argument, NULL, OPT_AUTH_KEY }, XO_AUTH_KEY },
	{ { "auth-key-file", required_argument, NULL, OPT_AUTH_KEY_FILE }, XO_AUTH_KEY },
	{ { "in", required_argument, NULL, 'i' }, XO_COMMON },
	{ { "out", required_argument, NULL, 'o' }, XO_OUT },
	{ { "binary", no_argument, NULL, OPT_BINARY }, XO_BINARY },
	{ { "seed", required_argument, NULL, OPT_SEED }, XO_SEED },
	{ { "engine", required_argument, NULL, OPT_ENGINE }, XO_COMMON },
};

#define XF_NOPTS (sizeof(xf_options) / sizeof(xf_options[0]))

/* A subcommand: what it is called, what it serves and which options it takes. */
struct xf_cmd {
	const char *name;
	enum atx_service svc;   /* with XO_ALG */
	unsigned opts;          /* XO_* */
	const char *usage;
};

struct xf_opts {
	const char *alg;
	const char *in;
	const char *out;
	const char *engine;
	const char *key_file;
	char *key_hex;          /* wiped once decoded */
	char *auth_key_hex;     /* CHAIN's MAC key, wiped once decoded */
	const char *auth_key_file;
	const char *iv_hex;
	const char *aad_hex;
	const char *verify_hex;
	const char *seed_hex;
	const char *tag_len;
	int dir;                /* -1 unset, else enum atx_dir */
	bool binary;
};

/* What every transform holds between xf_begin() and xf_end(). */
struct xf {
	struct xf_opts o;
	struct atx_session_params p;
	size_t want_key;        /* key length the algorithm implies, 0 = free */
	uint8_t *key, *akey;    /* until the session holds its copies */
	size_t key_len, akey_len;
	struct atx_ctx *ctx;
	struct atx_session *s;
	int in;
	struct cli_out out;
};

/* xf_begin(): parsing went well, go on. */
#define XF_GO_ON (-1)

static void xf_wipe_hex(struct xf_opts *o)
{
	if (o->key_hex)
		explicit_bzero(o->key_hex, strlen(o->key_hex));
	if (o->auth_key_hex)
		explicit_bzero(o->auth_key_hex, strlen(o->auth_key_hex));
}

/*
 * Parse argv into @o, taking the options of @cmd's groups.  Returns
 * XF_GO_ON, or an exit status (help was printed, or an error reported).
 */
static int xf_parse(int argc, char **argv, const struct xf_cmd *cmd, struct xf_opts *o)
{
	struct option lo[XF_NOPTS + 1];
	char so[2 * XF_NOPTS + 1];
	unsigned i, nlo = 0, nso = 0;
	int c;

	for (i = 0; i < XF_NOPTS; i++) {
		const struct option *opt = &xf_options[i].lo;

		if (!(xf_options[i].group & (cmd->opts | XO_COMMON)))
			continue;
		lo[nlo++] = *opt;
		if (opt->val < 256) {
			so[nso++] = (char)opt->val;
			if (opt->has_arg == required_argument)
				so[nso++] = ':';
		}
	}
	memset(&lo[nlo], 0, sizeof(lo[nlo]));
	so[nso] = '\0';

	memset(o, 0, sizeof(*o));
	o->dir = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(cmd->usage, stdout);
			return CLI_EXIT_OK;
		case 'a': o->alg = optarg; break;
		case 'e': o->dir = ATX_ENCRYPT; break;
		case 'd': o->dir = ATX_DECRYPT; break;
		case 'K': o->key_hex = optarg; break;
		case 'i': o->in = optarg; break;
		case 'o': o->out = optarg; break;
		case OPT_KEY_FILE: o->key_file = optarg; break;
		case OPT_IV: o->iv_hex = optarg; break;
		case OPT_AAD: o->aad_hex = optarg; break;
		case OPT_TAG_LEN: o->tag_len = optarg; break;
		case OPT_ENGINE: o->engine = optarg; break;
		case OPT_VERIFY: o->verify_hex = optarg; break;
		case OPT_BINARY: o->binary = true; break;
		case OPT_SEED: o->seed_hex = optarg; break;
		case OPT_AUTH_KEY: o->auth_key_hex = optarg; break;
		case OPT_AUTH_KEY_FILE: o->auth_key_file = optarg; break;
		default:
			xf_wipe_hex(o);
			return cli_bad_option(argv, optopt);
		}
	}
	if (optind < argc) {
		xf_wipe_hex(o);
		return cli_err("unexpected argument '%s' (input is -i FILE or stdin)", argv[optind]);
	}
	return XF_GO_ON;
}

/*
 * What every subcommand does first: parse argv, then check the algorithm
 * (XO_ALG), the direction (XO_DIR) and load the key (XO_KEY), in that
 * order.  Returns XF_GO_ON or an exit status; xf_end() is due either way.
 */
static int xf_begin(struct xf *x, const struct xf_cmd *cmd, int argc, char **argv)
{
	int ret;

	memset(x, 0, sizeof(*x));
	x->in = -1;
	x->out.fd = -1;
	cli_set_cmd(cmd->name);
	ret = xf_parse(argc, argv, cmd, &x->o);
	if (ret != XF_GO_ON)
		return ret;
	if (cmd->opts & XO_ALG) {
		ret = cli_alg(x->o.alg, cmd->svc, &x->p, &x->want_key);
		if (ret)
			return ret;
	}
	if ((cmd->opts & XO_DIR) && x->o.dir < 0)
		return cli_err("say -e (encrypt) or -d (decrypt)");
	if (cmd->opts & XO_DIR)
		x->p.dir = (enum atx_dir)x->o.dir;
	if (cmd->opts & XO_KEY) {
		ret = cli_key_load(x->o.key_hex, x->o.key_file, &x->key, &x->key_len);
		if (ret)
			return ret;
		if (x->want_key && x->want_key != x->key_len)
			return cli_err("key must be %zu bytes for %s", x->want_key, x->o.alg);
		if (!x->key_len)
			return cli_err("key must not be empty");
	}
	return XF_GO_ON;
}

/*
 * Create the context for --engine and the session of x->p with the keys
 * loaded, which are wiped and freed right after: the library holds its
 * own copies.  Reports errors.
 */
static int xf_session_open(struct xf *x)
{
	int ret;

	ret = cli_ctx_open(x->o.engine, &x->ctx, &x->p.engine);
	if (ret)
		return ret;
	x->p.key = x->key;
	x->p.key_len = x->key_len;
	x->p.auth_key = x->akey;
	x->p.auth_key_len = x->akey_len;
	ret = cli_session_open(x->ctx, &x->p, x->o.alg, &x->s);
	cli_key_free(x->key, x->key_len);
	cli_key_free(x->akey, x->akey_len);
	x->key = x->akey = NULL;
	x->p.key = x->p.auth_key = NULL;
	return ret;
}

/* Open -i IN (default stdin); reports errors. */
static int xf_in_open(struct xf *x)
{
	x->in = cli_in_open(x->o.in);
	return x->in < 0 ? CLI_EXIT_ERR : 0;
}

/* Open -i IN and read all of it (buffered transforms); reports errors. */
static int xf_in_read_all(struct xf *x, uint8_t **buf, size_t *len)
{
	int ret = xf_in_open(x);

	if (ret)
		return ret;
	return cli_read_all(x->in, "input", CLI_MAX_BUFFER, buf, len);
}

/* Write the whole result to -o OUT (default stdout), all or nothing. */
static int xf_out_all(struct xf *x, const void *buf, size_t len)
{
	int ret = cli_out_open(&x->out, x->o.out);

	if (ret)
		return ret;
	return cli_out_finish(&x->out, cli_out_write(&x->out, buf, len));
}

static void xf_end(struct xf *x)
{
	cli_out_abort(&x->out);         /* nothing to do once committed */
	if (x->in > 0)
		close(x->in);
	if (x->s)
		atx_session_free(x->s);
	if (x->ctx)
		atx_ctx_free(x->ctx);
	cli_key_free(x->key, x->key_len);
	cli_key_free(x->akey, x->akey_len);
}

/* Decode an optional hex argument; reports errors.  *buf stays NULL when absent. */
static int hex_arg(const char *hex, const char *what, uint8_t **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	if (!hex)
		return 0;
	if (cli_hex_decode(hex, buf, len))
		return cli_err("%s is not an even number of hex digits", what);
	return 0;
}

/* Big-endian 128-bit add, as OpenSSL's CTR mode advances the counter block. */
static void ctr_add(uint8_t iv[16], uint64_t blocks)
{
	int i;

	for (i = 15; i >= 0 && blocks; i--) {
		uint64_t s = (uint64_t)iv[i] + (blocks & 0xff);

		iv[i] = (uint8_t)s;
		blocks = (blocks >> 8) + (s >> 8);
	}
}

/*
 * ChaCha20 IV = 32-bit little-endian block counter || 96-bit nonce
 * (OpenSSL layout); OpenSSL carries a counter wrap into the next word.
 */
static void chacha_add(uint8_t iv[16], uint32_t blocks)
{
	uint32_t c0 = (uint32_t)iv[0] | (uint32_t)iv[1] << 8 | (uint32_t)iv[2] << 16 |
		      (uint32_t)iv[3] << 24;
	uint32_t n0 = c0 + blocks;
	int i;

	for (i = 0; i < 4; i++)
		iv[i] = (uint8_t)(n0 >> (8 * i));
	if (n0 < c0) {
		for (i = 4; i < 8; i++)
			if (++iv[i])
				break;
	}
}

struct slot {
	uint8_t *buf;
	size_t len;
	struct atx_tx *tx;
	int status;
};

static int cipher_stream(struct atx_ctx *ctx, struct atx_session *s, const char *alg,
			 const struct atx_session_params *p, uint8_t *iv, size_t iv_len,
			 int in, struct cli_out *out)
{
	struct slot slots[DEPTH];
	size_t bs = atx__block_size(p);
	bool cbc = p->cipher == ATX_CIPHER_AES_CBC || p->cipher == ATX_CIPHER_3DES_CBC;
	/* CBC encryption needs chunk n's last ciphertext block before chunk n+1 starts. */
	bool serial = cbc && p->dir == ATX_ENCRYPT;
	uint8_t cur_iv[ATX_MAX_IV_LEN];
	unsigned head = 0, tail = 0, i;
	bool eof = false;
	int ret = 0;

	memset(slots, 0, sizeof(slots));
	for (i = 0; i < DEPTH; i++) {
		slots[i].buf = aligned_alloc(64, CHUNK);
		if (!slots[i].buf) {
			ret = cli_err("out of memory");
			goto out_free;
		}
	}
	while (!eof || head != tail) {
		struct slot *sl;

		while (!ret && !eof && head - tail < DEPTH) {
			ssize_t n;

			sl = &slots[head % DEPTH];
			n = cli_read_full(in, sl->buf, CHUNK);
			if (n < 0) {
				ret = cli_err("cannot read input: %s", strerror((int)-n));
				break;
			}
			if (n < CHUNK)
				eof = true;
			if (n == 0)
				break;
			if ((size_t)n % bs) {
				ret = cli_err("input is not a multiple of the %zu-byte block of %s (atx does not pad)",
					      bs, alg);
				break;
			}
			memcpy(cur_iv, iv, iv_len);
			if (p->cipher == ATX_CIPHER_AES_CTR)
				ctr_add(iv, (uint64_t)n / 16);
			else if (p->cipher == ATX_CIPHER_CHACHA20)
				chacha_add(iv, (uint32_t)(n / 64));
			else if (cbc && p->dir == ATX_DECRYPT)
				memcpy(iv, sl->buf + n - bs, bs);
			sl->len = (size_t)n;
			sl->status = 0;
			sl->tx = atx_cipher(ctx, s, sl->buf, sl->buf, sl->len, iv_len ? cur_iv : NULL,
					    NULL);
			if (!sl->tx) {
				ret = cli_err("cannot submit: %s", cli_strerror(-errno));
				break;
			}
			head++;
			if (serial) {
				sl->status = cli_run_tx(sl->tx);
				sl->tx = NULL;
				if (sl->status)
					break;
				memcpy(iv, sl->buf + sl->len - bs, bs);
			} else {
				atx_issue_pending(ctx);
			}
		}
		if (ret || head == tail)
			break;
		sl = &slots[tail % DEPTH];
		if (sl->tx) {
			sl->status = cli_run_tx(sl->tx);
			sl->tx = NULL;
		}
		tail++;
		if (sl->status) {
			ret = cli_err("%s failed: %s", alg, cli_strerror(sl->status));
			break;
		}
		ret = cli_out_write(out, sl->buf, sl->len);
		if (ret)
			break;
	}
	/* Buffers are the descriptors' until they completed. */
	for (; tail != head; tail++)
		if (slots[tail % DEPTH].tx)
			cli_run_tx(slots[tail % DEPTH].tx);
out_free:
	for (i = 0; i < DEPTH; i++) {
		if (slots[i].buf)
			explicit_bzero(slots[i].buf, CHUNK);
		free(slots[i].buf);
	}
	explicit_bzero(cur_iv, sizeof(cur_iv));
	return ret;
}

/* XTS: the whole message is one data unit (openssl enc semantics). */
static int cipher_whole(struct atx_ctx *ctx, struct atx_session *s, const char *alg,
			const uint8_t *iv, int in, struct cli_out *out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret, st;

	ret = cli_read_all(in, "input", CLI_MAX_BUFFER, &buf, &len);
	if (ret)
		return ret;
	if (len < 16) {
		ret = cli_err("%s needs at least 16 bytes of input, got %zu", alg, len);
		goto out;
	}
	errno = 0;
	st = cli_run_tx_or(atx_cipher(ctx, s, buf, buf, len, iv, NULL));
	if (st) {
		ret = cli_err("%s failed: %s", alg, cli_strerror(st));
		goto out;
	}
	ret = cli_out_write(out, buf, len);
out:
	explicit_bzero(buf, len);
	free(buf);
	return ret;
}

static const struct xf_cmd cipher_cmd = {
	.name = "cipher",
	.svc = ATX_SVC_CIPHER,
	.opts = XO_ALG | XO_DIR | XO_KEY | XO_IV | XO_OUT,
	.usage =
	"usage: atx cipher -a ALG -e|-d (-K HEX | --key-file FILE) [--iv HEX]\n"
	"                  [-i IN] [-o OUT] [--engine auto|soft|mb|virtio:SOCK|NAME]\n"
	"\n"
	"Encrypt or decrypt IN (default stdin) to OUT (default stdout).\n"
	"ALG: aes-128-ecb aes-256-cbc aes-256-ctr aes-128-xts aes-256-xts chacha20\n"
	"     des-ede3-cbc ... (atx info lists them).  No padding: ECB/CBC input must\n"
	"be a multiple of the block (like openssl enc -nopad).  XTS treats the whole\n"
	"input as one data unit (IV = tweak) and holds it in memory (max 1 GiB);\n"
	"other modes stream.  --key-file holds the raw key bytes.  OUT is written\n"
	"only if the whole run succeeds.\n"
	"Exit: 0 ok, 2 error.\n",
};

int cmd_cipher(int argc, char **argv)
{
	struct xf x;
	uint8_t *iv = NULL;
	size_t iv_len = 0, want_iv;
	uint8_t ivbuf[ATX_MAX_IV_LEN] = { 0 };
	int ret;

	ret = xf_begin(&x, &cipher_cmd, argc, argv);
	if (ret != XF_GO_ON)
		goto out;
	want_iv = atx__iv_len(&x.p);
	ret = hex_arg(x.o.iv_hex, "IV", &iv, &iv_len);
	if (ret)
		goto out;
	if (!want_iv && iv) {
		ret = cli_err("%s takes no IV", x.o.alg);
		goto out;
	}
	if (want_iv && !iv) {
		ret = cli_err("--iv HEX is required for %s (%zu bytes)", x.o.alg, want_iv);
		goto out;
	}
	if (iv_len != want_iv) {
		ret = cli_err("IV must be %zu bytes for %s", want_iv, x.o.alg);
		goto out;
	}
	if (iv)
		memcpy(ivbuf, iv, iv_len);
	ret = xf_session_open(&x);
	if (!ret)
		ret = xf_in_open(&x);
	if (!ret)
		ret = cli_out_open(&x.out, x.o.out);
	if (ret)
		goto out;
	if (x.p.cipher == ATX_CIPHER_AES_XTS)
		ret = cipher_whole(x.ctx, x.s, x.o.alg, ivbuf, x.in, &x.out);
	else
		ret = cipher_stream(x.ctx, x.s, x.o.alg, &x.p, ivbuf, iv_len, x.in, &x.out);
	ret = cli_out_finish(&x.out, ret);
out:
	xf_end(&x);
	free(iv);
	explicit_bzero(ivbuf, sizeof(ivbuf));
	return ret;
}

/* digest and mac share everything but the key and the verify option. */
static int digest_or_mac(int argc, char **argv, const struct xf_cmd *cmd)
{
	struct xf x;
	uint8_t *expect = NULL, *buf = NULL;
	uint8_t md[ATX_MAX_DIGEST_LEN];
	char hex[2 * ATX_MAX_DIGEST_LEN + 2];
	size_t expect_len = 0, len = 0, full, i;
	int ret, st;

	ret = xf_begin(&x, cmd, argc, argv);
	if (ret != XF_GO_ON)
		goto out;
	full = atx__digest_max(&x.p);
	ret = hex_arg(x.o.verify_hex, "--verify MAC", &expect, &expect_len);
	if (ret)
		goto out;
	if (expect && (expect_len == 0 || expect_len > full)) {
		ret = cli_err("--verify MAC must be 1..%zu bytes for %s", full, x.o.alg);
		goto out;
	}
	if (expect && (x.o.out || x.o.binary)) {
		ret = cli_err("--verify writes no output: drop -o/--binary");
		goto out;
	}
	if (expect) {
		/* The library compares in constant time and answers -EBADMSG. */
		x.p.dir = ATX_DECRYPT;
		x.p.digest_len = expect_len;
	}
	ret = xf_session_open(&x);
	if (!ret)
		ret = xf_in_read_all(&x, &buf, &len);
	if (ret)
		goto out;
	if (expect)
		memcpy(md, expect, expect_len);
	st = cli_run_tx_or(atx_digest(x.ctx, x.s, md, buf, len, NULL));
	if (st == -EBADMSG && expect) {
		cli_err("verification failed");
		ret = CLI_EXIT_VERIFY;
		goto out;
	}
	if (st) {
		ret = cli_err("%s failed: %s", x.o.alg, cli_strerror(st));
		goto out;
	}
	if (expect)
		goto out;       /* verified: exit 0, print nothing */
	if (x.o.binary) {
		ret = xf_out_all(&x, md, full);
	} else {
		for (i = 0; i < full; i++)
			sprintf(hex + 2 * i, "%02x", md[i]);
		hex[2 * full] = '\n';
		ret = xf_out_all(&x, hex, 2 * full + 1);
	}
out:
	xf_end(&x);
	free(expect);
	if (buf)
		explicit_bzero(buf, len);
	free(buf);
	explicit_bzero(md, sizeof(md));
	return ret;
}

static const struct xf_cmd digest_cmd = {
	.name = "digest",
	.svc = ATX_SVC_HASH,
	.opts = XO_ALG | XO_OUT | XO_BINARY,
	.usage =
	"usage: atx digest -a ALG [-i IN] [-o OUT] [--binary] [--engine E]\n"
	"\n"
	"Print the hash of IN (default stdin) as hex and a newline; --binary\n"
	"writes the raw bytes.  ALG: sha1 sha224 sha256 sha384 sha512 sha3-256.\n"
	"The input is held in memory (max 1 GiB): atx descriptors are one-shot.\n"
	"Exit: 0 ok, 2 error.\n",
};

int cmd_digest(int argc, char **argv)
{
	return digest_or_mac(argc, argv, &digest_cmd);
}

static const struct xf_cmd mac_cmd = {
	.name = "mac",
	.svc = ATX_SVC_MAC,
	.opts = XO_ALG | XO_KEY | XO_VERIFY | XO_OUT | XO_BINARY,
	.usage =
	"usage: atx mac -a ALG (-K HEX | --key-file FILE) [--verify HEX]\n"
	"               [-i IN] [-o OUT] [--binary] [--engine E]\n"
	"\n"
	"Print the MAC of IN (default stdin) as hex.  With --verify HEX, print\n"
	"nothing and exit 0 if the MAC (or its first len(HEX) bytes) matches,\n"
	"1 if not; the library compares in constant time.\n"
	"ALG: hmac-sha1 hmac-sha256 hmac-sha512 ... aes-128-cmac aes-256-cmac.\n"
	"The input is held in memory (max 1 GiB).  Exit: 0 ok, 1 mismatch, 2 error.\n",
};

int cmd_mac(int argc, char **argv)
{
	return digest_or_mac(argc, argv, &mac_cmd);
}

static const struct xf_cmd aead_cmd = {
	.name = "aead",
	.svc = ATX_SVC_AEAD,
	.opts = XO_ALG | XO_DIR | XO_KEY | XO_AUTH_KEY | XO_IV | XO_AAD | XO_TAG_LEN | XO_OUT,
	.usage =
	"usage: atx aead -a ALG -e|-d (-K HEX | --key-file FILE) --iv HEX\n"
	"                [--aad HEX] [--tag-len N] [-i IN] [-o OUT] [--engine E]\n"
	"                [--auth-key HEX | --auth-key-file FILE]\n"
	"\n"
	"ALG: aes-128-gcm aes-256-gcm aes-128-ccm aes-256-ccm chacha20-poly1305,\n"
	"or CIPHER+MAC (aes-256-cbc+hmac-sha256: encrypt-then-MAC over AAD and\n"
	"ciphertext) with its MAC key in --auth-key HEX | --auth-key-file FILE.\n"
	"Encryption writes the ciphertext followed by the tag (default 16 bytes,\n"
	"the whole MAC for CIPHER+MAC).\n"
	"Decryption takes the same, verifies the tag and only then writes the\n"
	"plaintext: the whole message is held in memory (max 1 GiB) and nothing is\n"
	"written when the tag does not verify.\n"
	"Exit: 0 ok, 1 authentication failed, 2 error.\n",
};

int cmd_aead(int argc, char **argv)
{
	struct xf x;
	uint8_t *iv = NULL, *aad = NULL, *buf = NULL, *dst = NULL;
	size_t iv_len = 0, aad_len = 0, len = 0, tag_len = 16, ct_len = 0, tag_max = 16;
	int ret, st;

	ret = xf_begin(&x, &aead_cmd, argc, argv);
	if (ret != XF_GO_ON)
		goto out;
	if (x.p.service == ATX_SVC_CHAIN) {
		ret = cli_key_load(x.o.auth_key_hex, x.o.auth_key_file, &x.akey, &x.akey_len);
		if (ret)
			goto out;
		tag_max = tag_len = atx__digest_max(&x.p);
	} else if (x.o.auth_key_hex || x.o.auth_key_file) {
		xf_wipe_hex(&x.o);
		ret = cli_err("%s takes no --auth-key (only CIPHER+MAC chains do)", x.o.alg);
		goto out;
	}
	if (!x.o.iv_hex) {
		ret = cli_err("--iv HEX (the nonce) is required for %s", x.o.alg);
		goto out;
	}
	ret = hex_arg(x.o.iv_hex, "IV", &iv, &iv_len);
	if (!ret)
		ret = hex_arg(x.o.aad_hex, "AAD", &aad, &aad_len);
	if (ret)
		goto out;
	if (x.o.tag_len) {
		char *end;
		unsigned long v = strtoul(x.o.tag_len, &end, 10);

		if (*end || end == x.o.tag_len || v == 0 || v > tag_max) {
			ret = cli_err("--tag-len must be 1..%zu for %s, got '%s'", tag_max, x.o.alg,
				      x.o.tag_len);
			goto out;
		}
		tag_len = v;
	}
	x.p.digest_len = tag_len;
	/* Encrypt-then-MAC; its inverse verifies before it decrypts. */
	x.p.chain_order = x.p.dir == ATX_DECRYPT ? ATX_CHAIN_MAC_THEN_ENC : ATX_CHAIN_ENC_THEN_MAC;
	ret = xf_session_open(&x);
	if (!ret)
		ret = xf_in_read_all(&x, &buf, &len);
	if (ret)
		goto out;
	if (x.p.dir == ATX_DECRYPT && len < tag_len) {
		ret = cli_err("input is %zu bytes, shorter than the %zu-byte tag", len, tag_len);
		goto out;
	}
	ct_len = x.p.dir == ATX_DECRYPT ? len - tag_len : len;
	dst = malloc(ct_len + tag_len + 1);
	if (!dst) {
		ret = cli_err("out of memory");
		goto out;
	}
	if (x.p.dir == ATX_ENCRYPT)
		st = cli_run_tx_or(atx_aead(x.ctx, x.s, dst, buf, len, iv, iv_len, aad, aad_len,
					    dst + len, NULL));
	else
		st = cli_run_tx_or(atx_aead(x.ctx, x.s, dst, buf, ct_len, iv, iv_len, aad, aad_len,
					    buf + ct_len, NULL));
	if (st == -EBADMSG && x.p.dir == ATX_DECRYPT) {
		cli_err("authentication failed: wrong key, nonce, AAD, tag or data");
		ret = CLI_EXIT_VERIFY;
		goto out;
	}
	if (st) {
		ret = cli_err("%s failed: %s", x.o.alg, cli_strerror(st));
		goto out;
	}
	ret = xf_out_all(&x, dst, x.p.dir == ATX_ENCRYPT ? len + tag_len : ct_len);
out:
	xf_end(&x);
	free(iv);
	free(aad);
	if (buf)
		explicit_bzero(buf, len);
	free(buf);
	if (dst)
		explicit_bzero(dst, ct_len + tag_len);
	free(dst);
	return ret;
}

static const struct xf_cmd crc32c_cmd = {
	.name = "crc32c",
	.opts = XO_SEED,
	.usage =
	"usage: atx crc32c [-i IN] [--seed HEX] [--engine E]\n"
	"\n"
	"Print the CRC-32C (Castagnoli) of IN (default stdin) as 8 hex digits.\n"
	"--seed is the CRC of data preceding IN, so crc32c(A+B) equals\n"
	"atx crc32c -i B --seed $(atx crc32c -i A).  Streams the input.\n"
	"Exit: 0 ok, 2 error.\n",
};

int cmd_crc32c(int argc, char **argv)
{
	struct atx_caps caps = { .size = sizeof(caps), .mask = ATX_CAP_CRC32C };
	struct atx_submit sub = { 0 };
	struct atx_tx *tx = NULL;
	const char *eng = NULL;
	struct xf x;
	uint8_t *bufs[2] = { NULL, NULL };
	uint32_t crc = 0, res = 0;
	unsigned cur = 0;
	int ret, st;

	ret = xf_begin(&x, &crc32c_cmd, argc, argv);
	if (ret != XF_GO_ON)
		goto out;
	if (x.o.seed_hex) {
		const char *h = x.o.seed_hex;
		char *end;

		if (h[0] == '0' && (h[1] == 'x' || h[1] == 'X'))
			h += 2;
		crc = (uint32_t)strtoul(h, &end, 16);
		if (!*h || *end || strlen(h) > 8 || *h == '-' || *h == '+') {
			ret = cli_err("--seed must be 1..8 hex digits, got '%s'", x.o.seed_hex);
			goto out;
		}
	}
	ret = cli_ctx_open(x.o.engine, &x.ctx, &eng);
	if (ret)
		goto out;
	if (eng) {
		caps.engine = eng;
		sub.chan = atx_chan_request(x.ctx, &caps, NULL, NULL);
		if (!sub.chan) {
			ret = cli_err("engine %s has no crc32c channel", eng);
			goto out;
		}
	}
	ret = xf_in_open(&x);
	if (ret)
		goto out;
	bufs[0] = malloc(CRC_CHUNK);
	bufs[1] = malloc(CRC_CHUNK);
	if (!bufs[0] || !bufs[1]) {
		ret = cli_err("out of memory");
		goto out;
	}
	/* Read chunk n+1 while chunk n is summed; the seed chains them. */
	for (;;) {
		ssize_t n = cli_read_full(x.in, bufs[cur], CRC_CHUNK);

		if (tx) {
			st = cli_run_tx(tx);
			tx = NULL;
			if (st) {
				ret = cli_err("crc32c failed: %s", cli_strerror(st));
				goto out;
			}
			crc = res;
		}
		if (n < 0) {
			ret = cli_err("cannot read input: %s", strerror((int)-n));
			goto out;
		}
		if (n == 0)
			break;
		tx = atx_crc32c(x.ctx, &res, bufs[cur], (size_t)n, crc, &sub);
		if (!tx) {
			ret = cli_err("cannot submit: %s", cli_strerror(-errno));
			goto out;
		}
		atx_issue_pending(x.ctx);
		cur ^= 1;
	}
	printf("%08x\n", crc);
	if (fflush(stdout))
		ret = cli_err("cannot write standard output: %s", strerror(errno));
out:
	if (tx)
		cli_run_tx(tx);
	if (sub.chan)
		atx_chan_release(sub.chan);
	xf_end(&x);
	free(bufs[0]);
	free(bufs[1]);
	return ret;
}
