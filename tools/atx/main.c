/* SPDX-License-Identifier: MIT */
/*
 * main.c - `atx`, git style: atx COMMAND [ARGS].  Each command lives in
 * its own file and has its own --help.
 */
#include <stdio.h>
#include <string.h>

#include "atx.h"
#include "atx_engine.h"
#include "cli.h"
#include "cmds.h"

/*
 * image and bench are built from files other people own; weak references
 * let the program link (and say so) while one of them is missing.
 */
extern int cmd_image(int argc, char **argv) __attribute__((weak));
extern int cmd_bench(int argc, char **argv) __attribute__((weak));

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "info", cmd_info, "engines, channels, capabilities, algorithms" },
	{ "cipher", cmd_cipher, "encrypt/decrypt: aes-*-ecb|cbc|ctr|xts, chacha20, des-ede3-cbc" },
	{ "digest", cmd_digest, "hash: sha1, sha224, sha256, sha384, sha512, sha3-256" },
	{ "mac", cmd_mac, "MAC or verify one: hmac-sha*, aes-*-cmac" },
	{ "aead", cmd_aead, "authenticated encryption: aes-*-gcm, aes-*-ccm, chacha20-poly1305" },
	{ "crc32c", cmd_crc32c, "CRC-32C (Castagnoli) of a file" },
	{ "image", cmd_image, "encrypt + checksum a disk image (the storage job)" },
	{ "bench", cmd_bench, "dependency-chain benchmarks" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: atx [--version] [--help] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'atx help COMMAND' or 'atx COMMAND --help' describes one.\n"
		   "Exit status: 0 success, 1 verification failed, 2 error.\n");
}

static const struct command *lookup(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int run(const struct command *c, int argc, char **argv)
{
	if (!c->fn) {
		cli_set_cmd(c->name);
		return cli_err("not built");
	}
	return c->fn(argc, argv);
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_ERR;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("atx %d.%d\n", ATX_VERSION_MAJOR, ATX_VERSION_MINOR);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		char *hargv[] = { NULL, "--help", NULL };

		if (argc < 3) {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		c = lookup(argv[2]);
		if (!c) {
			fprintf(stderr, "atx: '%s' is not a command (see atx --help)\n", argv[2]);
			return CLI_EXIT_ERR;
		}
		hargv[0] = (char *)c->name;
		return run(c, 2, hargv);
	}
	c = lookup(argv[1]);
	if (!c) {
		fprintf(stderr, "atx: '%s' is not a command (see atx --help)\n", argv[1]);
		return CLI_EXIT_ERR;
	}
	return run(c, argc - 1, argv + 1);
}
