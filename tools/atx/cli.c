/* SPDX-License-Identifier: MIT */
/*
 * cli.c - helpers shared by the `atx` subcommands.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char *cli_cmd = "atx";

void cli_set_cmd(const char *cmd)
{
	cli_cmd = cmd;
}

int cli_err(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One line, always: a message that embeds a newline is cut there. */
	msg[strcspn(msg, "\n")] = '\0';
	fflush(stdout);
	fprintf(stderr, "atx: %s: %s\n", cli_cmd, msg);
	return CLI_EXIT_ERR;
}

const char *cli_strerror(int status)
{
	const char *s = atx_strerror(status);

	return s ? s : strerror(-status);
}

int cli_bad_option(char **argv, int optopt_)
{
	if (optopt_ && optopt_ != '?')
		return cli_err("option -%c is unknown or needs an argument (see atx help %s)",
			       optopt_, cli_cmd);
	return cli_err("option '%s' is unknown or needs an argument (see atx help %s)",
		       argv[optind - 1], cli_cmd);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cli_hex_decode(const char *hex, uint8_t **out, size_t *len)
{
	size_t n, i;
	uint8_t *b;

	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	n = strlen(hex);
	if (n % 2)
		return -EINVAL;
	b = malloc(n / 2 + 1);
	if (!b)
		return -ENOMEM;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			explicit_bzero(b, n / 2 + 1);
			free(b);
			return -EINVAL;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = b;
	*len = n / 2;
	return 0;
}

void cli_hex_print(const uint8_t *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		putchar(digits[buf[i] >> 4]);
		putchar(digits[buf[i] & 15]);
	}
	putchar('\n');
}

int cli_key_load(char *hex, const char *file, uint8_t **key, size_t *len)
{
	int fd, ret;

	if (hex && file)
		return cli_err("give the key once: -K HEX or --key-file FILE, not both");
	if (!hex && !file)
		return cli_err("a key is required: -K HEX or --key-file FILE");
	if (hex) {
		ret = cli_hex_decode(hex, key, len);
		explicit_bzero(hex, strlen(hex));
		if (ret)
			return cli_err("key is not an even number of hex digits");
		return 0;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cli_err("cannot open key file %s: %s", file, strerror(errno));
	/* A key larger than this is a mistake (wrong file), not a key. */
	ret = cli_read_all(fd, "key file", 4096, key, len);
	close(fd);
	return ret;
}

void cli_key_free(uint8_t *key, size_t len)
{
	if (!key)
		return;
	explicit_bzero(key, len);
	free(key);
}

int cli_in_open(const char *path)
{
	int fd;

	if (!path || !strcmp(path, "-"))
		return STDIN_FILENO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		cli_err("cannot open %s: %s", path, strerror(errno));
	return fd;
}

ssize_t cli_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int cli_read_all(int fd, const char *what, size_t max, uint8_t **buf, size_t *len)
{
	size_t cap = 64 * 1024, used = 0;
	struct stat st;
	uint8_t *b, *nb;

	/* A regular file tells its size: allocate once, refuse early. */
	if (!fstat(fd, &st) && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > max)
			return cli_err("%s is larger than %zu bytes, the most atx holds in memory",
				       what, max);
		cap = (size_t)st.st_size + 1;
	}
	b = malloc(cap);
	if (!b)
		return cli_err("out of memory");
	for (;;) {
		ssize_t n;

		if (used == cap) {
			size_t ncap = cap * 2;

			if (cap > max) {
				explicit_bzero(b, used);
				free(b);
				return cli_err("%s is larger than %zu bytes, the most atx holds in memory",
					       what, max);
			}
			if (ncap > max + 1)
				ncap = max + 1;
			nb = malloc(ncap);
			if (!nb) {
				explicit_bzero(b, used);
				free(b);
				return cli_err("out of memory");
			}
			/* Not realloc: the old copy may hold key material to wipe. */
			memcpy(nb, b, used);
			explicit_bzero(b, used);
			free(b);
			b = nb;
			cap = ncap;
		}
		n = read(fd, b + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = errno;
			explicit_bzero(b, used);
			free(b);
			return cli_err("cannot read %s: %s", what, strerror((int)n));
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			explicit_bzero(b, used);
			free(b);
			return cli_err("%s is larger than %zu bytes, the most atx holds in memory",
				       what, max);
		}
	}
	*buf = b;
	*len = used;
	return 0;
}

int cli_out_open(struct cli_out *o, const char *path)
{
	char *dup, *dir;
	mode_t um;

	o->fd = STDOUT_FILENO;
	o->path = NULL;
	o->tmp = NULL;
	if (!path || !strcmp(path, "-"))
		return 0;
	o->path = strdup(path);
	dup = strdup(path);
	if (!o->path || !dup || asprintf(&o->tmp, "%s.tmp.XXXXXX", path) < 0) {
		free(dup);
		free(o->path);
		o->tmp = NULL;
		return cli_err("out of memory");
	}
	o->fd = mkstemp(o->tmp);
	if (o->fd < 0) {
		dir = dirname(dup);
		cli_err("cannot create a file in %s: %s", dir, strerror(errno));
		free(dup);
		free(o->tmp);
		free(o->path);
		o->tmp = o->path = NULL;
		return CLI_EXIT_ERR;
	}
	free(dup);
	/* mkstemp makes 0600; give the file the mode open(O_CREAT, 0666) would. */
	um = umask(0);
	umask(um);
	(void)fchmod(o->fd, 0666 & ~um);
	return 0;
}

int cli_out_write(struct cli_out *o, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(o->fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return cli_err("cannot write %s: %s", o->path ? o->path : "standard output",
				       strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cli_out_commit(struct cli_out *o)
{
	int ret = 0;

	if (!o->tmp)
		return 0;
	if (close(o->fd) < 0) {
		ret = cli_err("cannot write %s: %s", o->path, strerror(errno));
		o->fd = -1;
		cli_out_abort(o);
		return ret;
	}
	o->fd = -1;
	if (rename(o->tmp, o->path) < 0) {
		ret = cli_err("cannot rename to %s: %s", o->path, strerror(errno));
		cli_out_abort(o);
		return ret;
	}
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return 0;
}

void cli_out_abort(struct cli_out *o)
{
	if (!o->tmp)
		return;
	if (o->fd >= 0)
		close(o->fd);
	unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	o->fd = -1;
}

int cli_out_finish(struct cli_out *o, int ret)
{
	if (ret) {
		cli_out_abort(o);
		return ret;
	}
	return cli_out_commit(o);
}

static bool ctx_has_engine(struct atx_ctx *ctx, const char *name)
{
	unsigned i, n = atx_engine_count(ctx);

	for (i = 0; i < n; i++) {
		const char *e = atx_engine_name(ctx, i);

		if (e && !strcmp(e, name))
			return true;
	}
	return false;
}

int cli_ctx_open(const char *spec, struct atx_ctx **ctxp, const char **sess_engine)
{
	struct atx_ctx_opts opts = { .size = sizeof(opts) };
	struct atx_ctx *ctx;
	unsigned n;

	*sess_engine = NULL;
	if (spec && !strcmp(spec, "auto"))
		spec = NULL;
	if (spec && !strchr(spec, ':')) {
		/* A built-in engine first: attaching it twice would be an error. */
		ctx = atx_ctx_new(&opts);
		if (!ctx)
			return cli_err("cannot create a context: %s", strerror(errno));
		if (ctx_has_engine(ctx, spec)) {
			*ctxp = ctx;
			*sess_engine = spec;
			return 0;
		}
		atx_ctx_free(ctx);
	}
	opts.engines = spec;
	ctx = atx_ctx_new(&opts);
	if (!ctx) {
		if (spec)
			return cli_err("cannot attach engine %s: %s", spec, strerror(errno));
		return cli_err("cannot create a context: %s", strerror(errno));
	}
	if (spec) {
		n = atx_engine_count(ctx);
		if (strchr(spec, ':')) {
			/* The engine an attach spec adds is the last one attached. */
			*sess_engine = n ? atx_engine_name(ctx, n - 1) : NULL;
		} else if (ctx_has_engine(ctx, spec)) {
			*sess_engine = spec;
		} else {
			atx_ctx_free(ctx);
			return cli_err("engine %s is not available", spec);
		}
		if (!*sess_engine) {
			atx_ctx_free(ctx);
			return cli_err("engine %s is not available", spec);
		}
	}
	*ctxp = ctx;
	return 0;
}

int cli_session_open(struct atx_ctx *ctx, const struct atx_session_params *p, const char *alg,
		     struct atx_session **s)
{
	*s = atx_session_new(ctx, p);
	if (*s)
		return 0;
	if (errno == EOPNOTSUPP && p->engine)
		return cli_err("engine %s cannot serve %s", p->engine, alg);
	if (errno == EOPNOTSUPP)
		return cli_err("no engine serves %s", alg);
	/* OpenSSL refuses equal halves (IEEE 1619 key reuse); say so rather than EINVAL. */
	if (errno == EINVAL && p->service == ATX_SVC_CIPHER && p->cipher == ATX_CIPHER_AES_XTS &&
	    p->key && p->key_len % 2 == 0 &&
	    !memcmp(p->key, (const char *)p->key + p->key_len / 2, p->key_len / 2))
		return cli_err("%s: the two halves of the key must differ", alg);
	return cli_err("cannot create a %s session: %s", alg, strerror(errno));
}

static const char *const svc_cmd[] = {
	[ATX_SVC_CIPHER] = "cipher",
	[ATX_SVC_HASH] = "digest",
	[ATX_SVC_MAC] = "mac",
	[ATX_SVC_AEAD] = "aead",
	[ATX_SVC_CHAIN] = "chain",
};

const char *cli_service_name(enum atx_service svc)
{
	if ((unsigned)svc < sizeof(svc_cmd) / sizeof(svc_cmd[0]))
		return svc_cmd[svc];
	return "?";
}

int cli_alg(const char *name, enum atx_service svc, struct atx_session_params *p,
	    size_t *key_len)
{
	size_t kl = 0;

	if (!name)
		return cli_err("an algorithm is required: -a ALG (atx info lists them)");
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	if (atx_alg_parse(name, p, &kl) < 0)
		return cli_err("unknown algorithm %s (atx info lists them)", name);
	/* A CHAIN (cipher+MAC) is used like an AEAD: atx aead takes both. */
	if (p->service != svc && !(svc == ATX_SVC_AEAD && p->service == ATX_SVC_CHAIN))
		return cli_err("%s is not a %s algorithm (try atx %s)", name,
			       svc == ATX_SVC_HASH ? "digest" : cli_service_name(svc),
			       cli_service_name(p->service));
	*key_len = kl;
	return 0;
}

const char *cli_cap_name(unsigned bit)
{
	static const char *const names[] = {
		"memcpy", "memset", "crc32c", "xor", "pq", "cipher", "hash", "mac",
		"aead", "chain", "fileio", "raid6_recov", "crc32c_blocks", "seq",
	};

	return bit < sizeof(names) / sizeof(names[0]) ? names[bit] : "?";
}

int cli_run_tx(struct atx_tx *tx)
{
	int status = atx_wait(tx);

	atx_tx_ack(tx);
	return status;
}

int cli_run_tx_or(struct atx_tx *tx)
{
	if (!tx)
		return errno ? -errno : -EINVAL;
	return cli_run_tx(tx);
}
