/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The options every flow-models IO tool shares (flow_models/lib/io.py IOArgumentParser):
 * -i/--in-format, -o/--out-format, -O/--output, --skip-in, --count-in, --skip-out,
 * --count-out, --filter-expr, and the one-line usage errors of every `flowmix` subcommand.
 * A subcommand appends FM_CMDIO_LONGOPTS to its getopt table, passes unknown option codes to
 * fm_cmdio_option(), then calls fm_cmdio_finish() once to compile the filter.
 */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "filter.h"
#include "flowio.h"

/* Output "formats" of flow-models that are not files.  `none` reads and counts but writes
 * nothing; `append`/`extend` collect into a Python list (library use only), refused here. */
#define FM_CMDIO_OUT_NONE (-2)

/* getopt codes of the long-only options (above any short option character). */
enum {
    FM_CMDIO_SKIP_IN = 0x1000,
    FM_CMDIO_COUNT_IN,
    FM_CMDIO_SKIP_OUT,
    FM_CMDIO_COUNT_OUT,
};

#define FM_CMDIO_LONGOPTS                                                                        \
    {"in-format", required_argument, NULL, 'i'}, {"out-format", required_argument, NULL, 'o'}, \
        {"output", required_argument, NULL, 'O'},                                                \
        {"filter-expr", required_argument, NULL, 'f'},                                           \
        {"filter", required_argument, NULL, 'f'},                                                \
        {"skip-in", required_argument, NULL, FM_CMDIO_SKIP_IN},                                  \
        {"count-in", required_argument, NULL, FM_CMDIO_COUNT_IN},                                \
        {"skip-out", required_argument, NULL, FM_CMDIO_SKIP_OUT},                                \
        {"count-out", required_argument, NULL, FM_CMDIO_COUNT_OUT}

typedef struct {
    const char *cmd;       /* subcommand name, for messages */
    int in_fmt;            /* fm_format_t */
    int out_fmt;           /* fm_format_t, or FM_CMDIO_OUT_NONE */
    const char *out;       /* -O; "-" = stdout */
    const char *expr;      /* --filter-expr text, or NULL */
    fm_select_t sel;       /* skip/count counters; sel.filter set by fm_cmdio_finish */
    fm_filter_t *filter;   /* owned */
} fm_cmdio_t;

/** Defaults of flow-models' IOArgumentParser (-i nfcapd -o csv_flow -O -). */
void fm_cmdio_init(fm_cmdio_t *io, const char *cmd);

/**
 * Handle one option returned by getopt_long if it is a shared one.
 * @param[in] out_formats  extra -o names this command accepts besides the flow formats (e.g.
 *                         "csv_hist"), or NULL; a match sets out_fmt to FM_FMT_AUTO.
 * @return 1 handled, 0 not a shared option, FM_EINVAL bad value (message printed).
 */
int fm_cmdio_option(fm_cmdio_t *io, int opt, const char *arg, const char *out_formats);

/** Compile the filter.  @return 0, or FM_EINVAL (message printed; exit status 2). */
int fm_cmdio_finish(fm_cmdio_t *io);

/** Release the filter. */
void fm_cmdio_free(fm_cmdio_t *io);

/** Parse a non-negative decimal count.  @return 0 or FM_EINVAL. */
int fm_cmdio_count(const char *text, unsigned long long *v);

/**
 * Print the one-line reason for a getopt error ('?' or ':' from getopt_long with opterr = 0)
 * and "see --help".  Call with the argv given to getopt_long.  @return 2 (the exit status).
 */
int fm_cmd_bad_option(const char *cmd, int opt, char **argv);

/** Print "flowmix CMD: <message> (see flowmix CMD --help)".  @return 2. */
int fm_cmd_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** --measure-memory: print the process's peak resident memory on stderr. */
void fm_cmd_print_memory(const char *cmd);
