/* SPDX-License-Identifier: MIT */
/*
 * bench_plot.c - `atx bench plot JSON... [-o DIR]`: hands the JSON of
 * `atx bench --json` to bench/plot.py under Debian's /usr/bin/python3
 * (python3-matplotlib), which writes PNG charts.  The script is looked
 * for in $ATX_BENCH_PLOT, next to the source tree the program was built
 * in (PROGRAM/../../bench/plot.py), and in PREFIX/share/atx.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"

#define PYTHON "/usr/bin/python3"

static int find_script(char *buf, size_t len)
{
	const char *env = getenv("ATX_BENCH_PLOT");
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return access(buf, R_OK);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, len, "%s/../../bench/plot.py", exe);
			if (access(buf, R_OK) == 0)
				return 0;
			snprintf(buf, len, "%s/../share/atx/plot.py", exe);
			if (access(buf, R_OK) == 0)
				return 0;
		}
	}
	return -1;
}

int bench_plot(int argc, char **argv)
{
	char script[PATH_MAX + 64];
	char **av;
	int i;

	cli_set_cmd("bench plot");
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: atx bench plot RESULTS.json... [-o DIR]\n"
		       "Writes PNG charts (throughput vs block size per engine, latency vs queue\n"
		       "depth, ratio to baseline) from `atx bench --json` output into DIR (default:\n"
		       "the directory of the first JSON file).  Needs " PYTHON " with matplotlib\n"
		       "(Debian: python3-matplotlib).\n");
		return CLI_EXIT_OK;
	}
	if (argc < 2)
		return cli_err("usage: atx bench plot RESULTS.json... [-o DIR]");
	if (access(PYTHON, X_OK))
		return cli_err(PYTHON " is not installed");
	if (find_script(script, sizeof(script)))
		return cli_err("bench/plot.py not found (set ATX_BENCH_PLOT)");
	av = calloc((size_t)argc + 3, sizeof(*av));
	if (!av)
		return cli_err("out of memory");
	av[0] = PYTHON;
	av[1] = script;
	for (i = 1; i < argc; i++)
		av[i + 1] = argv[i];
	fflush(stdout);
	execv(PYTHON, av);
	free(av);
	return cli_err("cannot run " PYTHON ": %s", strerror(errno));
}
