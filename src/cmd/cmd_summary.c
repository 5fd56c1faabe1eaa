/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix summary: the summary tables of a histogram (flow-models summary): TeX (default,
 * byte-compatible with flow-models), or the agh_2015 README's Markdown, or CSV.  --tcp and
 * --udp add those classes' histograms, which also gives the protocol share table.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "hist.h"
#include "summary.h"
#include "util/err.h"

int fm_cmd_summary(int argc, char **argv);

static void usage(FILE *out)
{
    fprintf(out, "usage: flowmix summary [-x length|size] [--format tex|md|csv]\n"
                 "                       [--tcp TCP.csv] [--udp UDP.csv] FILE.csv\n\n"
                 "Totals, averages and the CDF table of a histogram (flow-models summary).\n"
                 "  -x X        length or size (default: from the first bin, 1 or 64)\n"
                 "  --format F  tex (flow-models, default), md (README tables) or csv\n"
                 "  --tcp/--udp histograms of those classes (md/csv; adds protocol shares)\n");
}

static int load(const char *path, int xval, fm_summary_t *s)
{
    fm_hist_bin_t *bins = NULL;
    size_t n = 0;
    int rc = fm_hist_read_csv(path, &bins, &n); /* it reports its own errors */
    if (rc == 0 && (rc = fm_summary_compute(bins, n, xval, s)) < 0) {
        fprintf(stderr, "flowmix summary: %s: %s\n", path, fm_strerror(rc));
    }
    free(bins);
    return rc;
}

int fm_cmd_summary(int argc, char **argv)
{
    static const struct option lo[] = {
        {"format", required_argument, NULL, 'f'}, {"tcp", required_argument, NULL, 't'},
        {"udp", required_argument, NULL, 'u'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "tex", *files[3] = {NULL, NULL, NULL};
    const char *names[3] = {"all", "tcp", "udp"};
    fm_summary_t sum[3];
    const fm_summary_t *sp[3];
    const char *np[3];
    int c, xval = -1, rc = 0;
    size_t ncls = 0;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":x:h", lo, NULL)) != -1) {
        switch (c) {
        case 'x':
            xval = !strcmp(optarg, "length") ? FM_SUMMARY_LENGTH
                   : !strcmp(optarg, "size") ? FM_SUMMARY_SIZE : -2;
            if (xval == -2) {
                return fm_cmd_usage_error("summary", "-x %s: not length or size (flow-models"
                                                     " cannot summarise duration or rate"
                                                     " either)", optarg);
            }
            break;
        case 'f': format = optarg; break;
        case 't': files[1] = optarg; break;
        case 'u': files[2] = optarg; break;
        case 'h': usage(stdout); return 0;
        default: return fm_cmd_bad_option("summary", c, argv);
        }
    }
    if (strcmp(format, "tex") && strcmp(format, "md") && strcmp(format, "csv")) {
        return fm_cmd_usage_error("summary", "--format %s: not tex, md or csv", format);
    }
    if (optind != argc - 1) {
        return fm_cmd_usage_error("summary", optind < argc ? "one histogram only"
                                                           : "no histogram");
    }
    files[0] = argv[optind];
    for (int i = 0; i < 3; i++) {
        if (!files[i]) {
            continue;
        }
        if (load(files[i], xval, &sum[i]) < 0) {
            return 1;
        }
        sp[ncls] = &sum[i];
        np[ncls++] = names[i];
    }
    if (!strcmp(format, "tex")) {
        rc = fm_summary_write_tex(&sum[0], stdout);
    } else if (!strcmp(format, "md")) {
        rc = fm_summary_write_md(sp, np, ncls, stdout);
    } else {
        rc = fm_summary_write_csv(sp, np, ncls, stdout);
    }
    if (fflush(stdout) != 0 || rc < 0) {
        fprintf(stderr, "flowmix summary: write failed\n");
        return 1;
    }
    return 0;
}
