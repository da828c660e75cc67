/* SPDX-License-Identifier: MIT */
/*
 * info.c - `atx info`: what this machine's atx can do.  Engines, their
 * channels with capabilities and counters, and for every algorithm name
 * the engine a session would be bound to and each engine's probe answer.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"

enum { OPT_JSON = 256, OPT_ENGINES };

/* More engines than one context attaches (the core allows 8). */
#define ATX_MAX_ENGINES_SHOWN 16

static const char info_usage[] =
	"usage: atx info [--json] [--engine SPEC]\n"
	"\n"
	"List engines, channels (capabilities, counters) and, for every algorithm,\n"
	"which engine serves it and each engine's probe priority (300 hardware,\n"
	"200 accelerated software, 100 software, - unsupported).  --engine attaches\n"
	"extra engines first (\"mb\", \"virtio:/path/to.sock\", \"auto\" = all).\n";

/* Names here are ours and simple, but a device may name its engine anything. */
static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void caps_print(uint32_t caps, bool json)
{
	bool first = true;
	unsigned b;

	if (json)
		putchar('[');
	for (b = 0; b < 32; b++) {
		if (!(caps & (1u << b)))
			continue;
		if (json) {
			printf("%s", first ? "" : ",");
			json_str(cli_cap_name(b));
		} else {
			printf("%s%s", first ? "" : ",", cli_cap_name(b));
		}
		first = false;
	}
	if (json)
		putchar(']');
	else if (first)
		putchar('-');
}

int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "engine", required_argument, NULL, OPT_ENGINES },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const svc_names[] = { "cipher", "hash", "mac", "aead", "chain" };
	uint8_t probe_key[ATX_MAX_AUTH_KEY_LEN];
	struct atx_ctx_opts opts = { .size = sizeof(opts) };
	struct atx_ctx *ctx;
	bool json = false;
	unsigned ne, nc, i, j;
	uint32_t allcaps = 0;
	const char *name;
	int c;

	cli_set_cmd("info");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(info_usage, stdout);
			return CLI_EXIT_OK;
		case OPT_JSON:
			json = true;
			break;
		case OPT_ENGINES:
			opts.engines = optarg;
			break;
		default:
			return cli_bad_option(argv, optopt);
		}
	}
	if (optind < argc)
		return cli_err("unexpected argument '%s'", argv[optind]);
	/* Probing looks at lengths (and XTS at distinct halves), not secrets. */
	for (i = 0; i < sizeof(probe_key); i++)
		probe_key[i] = (uint8_t)(i + 1);
	ctx = atx_ctx_new(&opts);
	if (!ctx)
		return cli_err("cannot create a context: %s", strerror(errno));
	ne = atx_engine_count(ctx);
	nc = atx_chan_count(ctx);

	if (json)
		printf("{\"version\":\"%d.%d\",\"engines\":[", ATX_VERSION_MAJOR, ATX_VERSION_MINOR);
	else
		printf("atx %d.%d\n\nengines:\n", ATX_VERSION_MAJOR, ATX_VERSION_MINOR);
	for (i = 0; i < ne; i++) {
		if (json) {
			printf("%s", i ? "," : "");
			json_str(atx_engine_name(ctx, i));
		} else {
			printf("  %u  %s\n", i, atx_engine_name(ctx, i));
		}
	}

	if (json)
		printf("],\"channels\":[");
	else
		printf("\nchannels:\n  %-16s %-10s %-5s %-8s %10s %14s %7s %7s %7s  %s\n", "name",
		       "engine", "prio", "private", "ops", "bytes", "errors", "busy", "bounced",
		       "caps");
	for (i = 0; i < nc; i++) {
		struct atx_chan *ch = atx_chan_get(ctx, i);
		struct atx_chan_info ci = { 0 };
		struct atx_chan_stats st = { 0 };

		if (!ch)
			continue;
		atx_chan_info(ch, &ci);
		atx_chan_stats(ch, &st);
		allcaps |= ci.caps;
		if (json) {
			printf("%s{\"name\":", i ? "," : "");
			json_str(ci.name);
			printf(",\"engine\":");
			json_str(ci.engine);
			printf(",\"priority\":%d,\"private\":%s,\"caps\":", ci.priority,
			       ci.private_ ? "true" : "false");
			caps_print(ci.caps, true);
			printf(",\"stats\":{\"ops\":%llu,\"bytes\":%llu,\"errors\":%llu,"
			       "\"busy\":%llu,\"bounced\":%llu,\"inflight\":%llu}}",
			       (unsigned long long)st.ops, (unsigned long long)st.bytes,
			       (unsigned long long)st.errors, (unsigned long long)st.busy,
			       (unsigned long long)st.bounced, (unsigned long long)st.inflight);
		} else {
			printf("  %-16s %-10s %-5d %-8s %10llu %14llu %7llu %7llu %7llu  ",
			       ci.name ? ci.name : "?", ci.engine ? ci.engine : "?", ci.priority,
			       ci.private_ ? "yes" : "no", (unsigned long long)st.ops,
			       (unsigned long long)st.bytes, (unsigned long long)st.errors,
			       (unsigned long long)st.busy, (unsigned long long)st.bounced);
			caps_print(ci.caps, false);
			putchar('\n');
		}
	}

	if (json) {
		printf("],\"capabilities\":");
		caps_print(allcaps, true);
		printf(",\"algorithms\":[");
	} else {
		printf("\ncapabilities: ");
		caps_print(allcaps, false);
		printf("\n\nalgorithms:\n  %-20s %-8s %-10s", "name", "service", "engine");
		for (j = 0; j < ne; j++)
			printf(" %8.8s", atx_engine_name(ctx, j));
		putchar('\n');
	}
	for (i = 0; (name = atx_alg_name(i)); i++) {
		struct atx_session_params p = { .size = sizeof(p) };
		int prio[ATX_MAX_ENGINES_SHOWN];
		size_t kl = 0;
		int best;

		if (atx_alg_parse(name, &p, &kl) < 0)
			continue;
		if (!kl)
			kl = p.service == ATX_SVC_HASH ? 0 : 32;
		p.key = kl ? probe_key : NULL;
		p.key_len = kl;
		for (j = 0; j < ATX_MAX_ENGINES_SHOWN; j++)
			prio[j] = -EOPNOTSUPP;
		best = atx_probe(ctx, &p, prio, ATX_MAX_ENGINES_SHOWN);
		if (json) {
			printf("%s{\"name\":", i ? "," : "");
			json_str(name);
			printf(",\"service\":");
			json_str((unsigned)p.service < 5 ? svc_names[p.service] : "?");
			printf(",\"engine\":");
			if (best >= 0)
				json_str(atx_engine_name(ctx, (unsigned)best));
			else
				printf("null");
			printf(",\"priority\":{");
			for (j = 0; j < ne && j < ATX_MAX_ENGINES_SHOWN; j++) {
				printf("%s", j ? "," : "");
				json_str(atx_engine_name(ctx, j));
				if (prio[j] >= 0)
					printf(":%d", prio[j]);
				else
					printf(":null");
			}
			printf("}}");
		} else {
			printf("  %-20s %-8s %-10s", name,
			       (unsigned)p.service < 5 ? svc_names[p.service] : "?",
			       best >= 0 ? atx_engine_name(ctx, (unsigned)best) : "-");
			for (j = 0; j < ne && j < ATX_MAX_ENGINES_SHOWN; j++) {
				if (prio[j] >= 0)
					printf(" %8d", prio[j]);
				else
					printf(" %8s", "-");
			}
			putchar('\n');
		}
	}
	if (json)
		printf("]}\n");
	atx_ctx_free(ctx);
	if (fflush(stdout))
		return cli_err("cannot write standard output: %s", strerror(errno));
	return CLI_EXIT_OK;
}
