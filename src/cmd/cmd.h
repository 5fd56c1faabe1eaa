/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Subcommands of the offline toolkit `flowmix`.  Each takes the arguments after its name
 * (argv[0] is the subcommand name) and returns a process exit status.
 */
#pragma once

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} fm_cmd_t;

/* One row per subcommand; defined in src/flowmix.c. */
extern const fm_cmd_t fm_cmds[];
