/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix: the offline toolkit.  A thin dispatcher over src/cmd/cmd_<name>.c, which are built on
 * the daemon's own modules (one cache, one histogram, one fitter).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "util/progress.h"

/* Subcommand entry points (src/cmd/cmd_<name>.c).  Add a declaration and a row per command. */
int fm_cmd_fit(int argc, char **argv);
int fm_cmd_generate(int argc, char **argv);
int fm_cmd_hist(int argc, char **argv);
int fm_cmd_summary(int argc, char **argv);
int fm_cmd_convert(int argc, char **argv);
int fm_cmd_sort(int argc, char **argv);
int fm_cmd_send(int argc, char **argv);
int fm_cmd_merge(int argc, char **argv);
int fm_cmd_meter(int argc, char **argv);
int fm_cmd_profile(int argc, char **argv);
int fm_cmd_plot(int argc, char **argv);
int fm_cmd_profile_plot(int argc, char **argv);
int fm_cmd_series(int argc, char **argv);
int fm_cmd_cut(int argc, char **argv);
int fm_cmd_anonymize(int argc, char **argv);
int fm_cmd_series_plot(int argc, char **argv);

const fm_cmd_t fm_cmds[] = {
    {"anonymize", fm_cmd_anonymize, "Crypto-PAn anonymisation of IPv4 flows (flow-models)"},
    {"cut", fm_cmd_cut, "records N.. of binary column files (flow-models cut)"},
    {"convert", fm_cmd_convert, "convert flow files between formats (flow-models convert)"},
    {"fit", fm_cmd_fit, "fit a mixture to a histogram by EM (flow-models fit)"},
    {"generate", fm_cmd_generate, "synthetic flows from a mixture or histogram (flow-models generate)"},
    {"hist", fm_cmd_hist, "histogram of flow length, size, duration or rate (flow-models hist)"},
    {"summary", fm_cmd_summary, "totals, averages and CDF tables of a histogram (flow-models summary)"},
    {"meter", fm_cmd_meter, "packets to bidirectional flows as nfstream meters them (pcap/live)"},
    {"merge", fm_cmd_merge, "re-join records split by the active timeout (flow-models merge)"},
    {"plot", fm_cmd_plot, "CDF, PDF and average charts of a histogram and its mixture (flow-models plot)"},
    {"profile", fm_cmd_profile, "FlowTest ft-profiler biflow profile CSV"},
    {"profile-plot", fm_cmd_profile_plot, "ft-profiler visualizer charts of a profile CSV"},
    {"send", fm_cmd_send, "export flows or synthetic flows as NetFlow v5/v9/IPFIX over UDP"},
    {"series", fm_cmd_series, "per-second flows/packets/octets time series (flow-models series)"},
    {"series_plot", fm_cmd_series_plot, "charts of series files (flow-models series_plot)"},
    {"sort", fm_cmd_sort, "stable sort of a binary flow directory by key fields"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: flowmix SUBCOMMAND [OPTIONS] [FILE...]\n\n"
                 "Offline flow statistics toolkit (flow-models compatible).\n\n"
                 "Subcommands:\n");
    for (const fm_cmd_t *c = fm_cmds; c->name; c++) {
        fprintf(out, "  %-14s %s\n", c->name, c->summary);
    }
    fprintf(out, "\nRun 'flowmix SUBCOMMAND --help' for the options of one subcommand.\n"
                 "See flowmix(1).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "help") == 0 && argc > 2) { /* flowmix help CMD = flowmix CMD --help */
        for (const fm_cmd_t *c = fm_cmds; c->name; c++) {
            if (strcmp(argv[2], c->name) == 0) {
                char *args[] = {argv[2], "--help", NULL};
                return c->run(2, args);
            }
        }
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("flowmix %s\n", PACKAGE_VERSION);
        return 0;
    }
    /* Long reads show a progress line, but only to a person watching a terminal. */
    fm_progress_enable(isatty(STDERR_FILENO) && !getenv("FLOWMIX_NO_PROGRESS"));
    for (const fm_cmd_t *c = fm_cmds; c->name; c++) {
        if (strcmp(argv[1], c->name) == 0) {
            return c->run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "flowmix: unknown subcommand '%s' (see flowmix --help)\n", argv[1]);
    return 2;
}
