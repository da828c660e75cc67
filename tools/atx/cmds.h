/* SPDX-License-Identifier: MIT */
/*
 * cmds.h - the subcommands of `atx`.  Each takes its own argv (argv[0] is
 * the subcommand name), prints its usage on -h/--help, and returns the
 * exit status: 0 success, 1 verification failure, 2 usage/input/library
 * error (one line on stderr).
 */
#ifndef ATX_CMDS_H
#define ATX_CMDS_H

int cmd_cipher(int argc, char **argv);  /* transform.c */
int cmd_digest(int argc, char **argv);  /* transform.c */
int cmd_mac(int argc, char **argv);     /* transform.c */
int cmd_aead(int argc, char **argv);    /* transform.c */
int cmd_crc32c(int argc, char **argv);  /* transform.c */
int cmd_info(int argc, char **argv);    /* info.c */
int cmd_image(int argc, char **argv);   /* image.c */
int cmd_bench(int argc, char **argv);   /* bench.c */

#endif
