/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Build-time helper for the shell completions (tools/gen-completions.py): preloaded into a
 * flowmix program, it replaces getopt_long() so that the program's first call prints the
 * option table it passed (short option string, then one "long NAME HAS_ARG" line each) and
 * exits.  The completions are thus made from the very tables the programs parse with.
 * Never installed.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

int getopt_long(int argc, char *const argv[], const char *optstring, const struct option *lo,
                int *longindex)
{
    (void)argc;
    (void)argv;
    (void)longindex;
    printf("short %s\n", optstring ? optstring : "");
    for (; lo && lo->name; lo++) {
        printf("long %s %d\n", lo->name, lo->has_arg);
    }
    fflush(stdout);
    _exit(0);
}
