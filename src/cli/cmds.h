/* SPDX-License-Identifier: MIT */
/*
 * src/cli/cmds.h - the subcommands of tern, one entry point each, dispatched by main.c.
 *
 * Each takes the arguments after "tern" (argv[0] is the subcommand name) and returns the
 * process exit status.
 * Owns: nothing. Thread: the main thread.
 */
#ifndef TERN_CLI_CMDS_H
#define TERN_CLI_CMDS_H

int tern_cmd_pub(int argc, char **argv);   /* pub.c */
int tern_cmd_sub(int argc, char **argv);   /* sub.c */
int tern_cmd_rr(int argc, char **argv);    /* rr.c */
int tern_cmd_bench(int argc, char **argv); /* bench.c */

#endif
