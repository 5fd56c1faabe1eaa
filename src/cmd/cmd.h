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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * flow-models generate from a mixture directory (flows/packets/octets.json), as
 * `flowmix generate -s n --seed seed [-x size] DIR` (src/cmd/cmd_generate.c).
 * @param[out] pairs  n (packets, octets) pairs, caller frees.
 * @return 0, or a negative code (the mixture's problem has been printed).
 */
int fm_generate_pairs(const char *dir, size_t n, uint32_t seed, bool size, uint64_t **pairs);
