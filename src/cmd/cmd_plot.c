/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix plot: flow-models plot's charts of a csv_hist file with the fitted mixtures over them
 * (src/cmd/plot_fm.c: cdf, pdf-flows/packets/octets, avg-packets/octets/packet_size, or
 * --single), with its options, as PNG, SVG and/or PDF.  The mixture is a flow-models mixture JSON file or a directory of
 * flows.json, packets.json and octets.json as `flowmix fit` writes them.  --csv writes the
 * plotted series so they can be checked against the data.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "cmd/plot_fm.h"
#include "hist.h"
#include "mixture.h"
#include "plot.h"
#include "util/err.h"

int fm_cmd_plot(int argc, char **argv);

typedef struct {
    int metric;        /* -1: infer */
    int y;             /* -1: from the mixture file name */
    int formats;
    const char *out;
    const char *csv;
    const char *title;
    const char *hist;
    const char *mix;   /* NULL: no mixture */
    bool rate;         /* -x rate (axis label only: binning is the histogram's) */
    bool single, normalize, hist_line, comp_pdf, comp_cdf;
} plot_args_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowmix plot [-x length|size|duration|rate] [-o OUT] [--format png,svg,pdf]\n"
            "                    [-P points|hist|comp]... [-C comp]... [--single]\n"
            "                    [--no-normalize] [--fft] [-y flows|packets|octets]\n"
            "                    [--csv FILE] [--title TEXT] HISTOGRAM.csv [MIXTURE]\n\n"
            "flow-models plot's charts of a histogram with the fitted mixtures over them:\n"
            "OUTcdf, OUTpdf-flows, OUTpdf-packets, OUTpdf-octets, OUTavg-packets, OUTavg-octets\n"
            "and OUTavg-packet_size (.png/.svg/.pdf).\n"
            "  -x X           metric (default: from the file name, else from the first bin:\n"
            "                 0 duration, below 64 length, else size)\n"
            "  -o, --output OUT  directory (existing, or ending in /) or file name prefix\n"
            "                 (default .)\n"
            "  --format LIST  comma-separated png, svg, pdf (default png)\n"
            "  -P MODE        PDF charts: points (the data, always drawn), hist (the data also\n"
            "                 as a line), comp (each weighted component); repeatable\n"
            "  -C MODE        CDF chart: comp (each weighted component)\n"
            "  --single       the CDF and the three PDFs on one 2x2 canvas OUTsingle\n"
            "  --no-normalize PDF points not divided by the distance to the next bin\n"
            "  --fft          accepted; flow-models uses it for KDE, which flowmix does not draw\n"
            "  -y Y           column a MIXTURE file was fitted to (default: from its name\n"
            "                 flows|packets|octets.json, else flows)\n"
            "  --csv FILE     also write the plotted series (chart,y,source,x,value); - stdout\n"
            "  --title TEXT   chart title (default: the histogram file and metric)\n"
            "MIXTURE is a mixture JSON file or a directory with flows.json, packets.json and/or\n"
            "octets.json (flowmix fit -O DIR).\n");
}

/* -P / -C modes; flow-models' kde, comp_stack and comp_labels are refused with the reason. */
static int plot_mode(plot_args_t *a, int opt, const char *m)
{
    if (opt == 'P' && strcmp(m, "points") == 0) {
        return 0;
    }
    if (opt == 'P' && strcmp(m, "hist") == 0) {
        a->hist_line = true;
        return 0;
    }
    if (strcmp(m, "comp") == 0) {
        *(opt == 'P' ? &a->comp_pdf : &a->comp_cdf) = true;
        return 0;
    }
    if (!strcmp(m, "kde") || !strcmp(m, "comp_stack") || !strcmp(m, "comp_labels")) {
        return fm_cmd_usage_error("plot", "-%c %s: not drawn by flowmix (kernel density"
                                          " estimates and stacked or labelled components are"
                                          " not implemented; -%c comp draws the components)",
                                  opt, m, opt);
    }
    return fm_cmd_usage_error("plot", "-%c %s: not a mode (%s)", opt, m,
                              opt == 'P' ? "points, hist, comp" : "comp");
}

static int parse_args(int argc, char **argv, plot_args_t *a)
{
    static const struct option lo[] = {
        {"output", required_argument, NULL, 'o'}, {"format", required_argument, NULL, 'f'},
        {"csv", required_argument, NULL, 'c'},    {"title", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},         {"single", no_argument, NULL, 's'},
        {"no-normalize", no_argument, NULL, 'n'}, {"fft", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *a = (plot_args_t){.metric = -1, .y = -1, .formats = FM_PLOT_PNG, .out = ".",
                       .normalize = true};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":x:y:o:O:P:C:h", lo, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'x':
            a->rate = strcmp(optarg, "rate") == 0;
            bad = !a->rate && (a->metric = fm_metric_parse(optarg)) < 0;
            a->metric = a->rate ? FM_METRIC_DURATION : a->metric;
            break;
        case 'y': bad = (a->y = fm_mix_y_parse(optarg)) < 0; break;
        case 'o':
        case 'O': a->out = optarg; break;
        case 'f': bad = (a->formats = fm_plot_parse_formats(optarg)) < 0; break;
        case 'c': a->csv = optarg; break;
        case 't': a->title = optarg; break;
        case 'P':
        case 'C':
            if (plot_mode(a, c, optarg) != 0) {
                return -1;
            }
            break;
        case 's': a->single = true; break;
        case 'n': a->normalize = false; break;
        case 'F': break; /* only matters for KDE in flow-models */
        case 'h': usage(stdout); return 1;
        default: fm_cmd_bad_option("plot", c, argv); return -1;
        }
        if (bad) {
            fm_cmd_usage_error("plot", "invalid value for %s: '%s'",
                               c == 'f' ? "--format" : c == 'x' ? "-x" : "-y", optarg);
            return -1;
        }
    }
    if (optind == argc || argc - optind > 2) {
        fm_cmd_usage_error("plot", optind == argc ? "no histogram" : "too many arguments");
        return -1;
    }
    a->hist = argv[optind];
    a->mix = optind + 1 < argc ? argv[optind + 1] : NULL;
    return 0;
}

/* The metric from the file name (length*.csv, size*.csv, duration*.csv), else the first bin. */
static int infer_metric(const char *path, const fm_hist_bin_t *bins)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    for (int m = 0; m < FM_METRIC_COUNT; m++) {
        const char *name = fm_metric_name(m);
        if (strncmp(base, name, strlen(name)) == 0) {
            return m;
        }
    }
    return bins[0].lo == 0 ? FM_METRIC_DURATION : bins[0].lo < 64 ? FM_METRIC_LENGTH
                                                                  : FM_METRIC_SIZE;
}

static int read_mix(const char *path, fm_mix_t **out)
{
    char err[256];
    int rc = fm_mix_read_json(path, out, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "flowmix plot: %s: %s\n", path, err);
    }
    return rc;
}

/* MIXTURE: a directory of <y>.json files (at least one) or one file for column y. */
static int load_mixtures(const plot_args_t *a, fm_mix_t *mix[3])
{
    struct stat st;
    char path[4096];

    if (stat(a->mix, &st) < 0) {
        fprintf(stderr, "flowmix plot: %s: %s\n", a->mix, strerror(errno));
        return FM_EFORMAT;
    }
    if (!S_ISDIR(st.st_mode)) {
        int y = a->y;
        for (int i = FM_Y_FLOWS; y < 0 && i <= FM_Y_OCTETS; i++) {
            snprintf(path, sizeof(path), "%s.json", fm_mix_y_name(i));
            const char *base = strrchr(a->mix, '/') ? strrchr(a->mix, '/') + 1 : a->mix;
            y = strcmp(base, path) == 0 ? i : -1;
        }
        return read_mix(a->mix, &mix[y < 0 ? FM_Y_FLOWS : y]);
    }
    int found = 0;
    for (int i = FM_Y_FLOWS; i <= FM_Y_OCTETS; i++) {
        snprintf(path, sizeof(path), "%s/%s.json", a->mix, fm_mix_y_name(i));
        if (access(path, F_OK) == 0) {
            if (read_mix(path, &mix[i]) < 0) {
                return FM_EFORMAT;
            }
            found++;
        }
    }
    if (!found) {
        fprintf(stderr, "flowmix plot: %s: no flows.json, packets.json or octets.json in it\n",
                a->mix);
        return FM_EFORMAT;
    }
    return 0;
}

/* The bins must be sorted by bin_lo and must not overlap (fm_hist_read_csv keeps file order). */
static int check_bins(const char *path, const fm_hist_bin_t *bins, size_t n)
{
    if (n == 0) {
        fprintf(stderr, "flowmix plot: %s: the histogram has no bins\n", path);
        return FM_EFORMAT;
    }
    for (size_t i = 1; i < n; i++) {
        if (bins[i].lo < bins[i - 1].hi) {
            fprintf(stderr, "flowmix plot: %s: row %zu (bin_lo %llu) overlaps or precedes the "
                            "previous bin; rows must be sorted by bin_lo\n",
                    path, i + 1, (unsigned long long)bins[i].lo);
            return FM_EFORMAT;
        }
    }
    return 0;
}

static const char *const x_labels[] = {"flow length (packets)", "flow size (bytes)",
                                       "flow duration (ms)"};

static int draw(const plot_args_t *a, fm_fmplot_t *fp)
{
    FILE *csv = NULL;
    char *prefix = NULL;
    int rc = fm_plot_out_prefix(a->out, &prefix);

    if (rc < 0) {
        fprintf(stderr, "flowmix plot: %s: %s\n", a->out, fm_strerror(rc));
        return FM_EIO;
    }
    if (a->csv) {
        csv = strcmp(a->csv, "-") == 0 ? stdout : fopen(a->csv, "w");
        if (!csv) {
            fprintf(stderr, "flowmix plot: %s: %s\n", a->csv, strerror(errno));
            free(prefix);
            return FM_EIO;
        }
        fputs(FM_FMPLOT_CSV_HEADER, csv);
    }
    rc = fm_fmplot_write(fp, prefix, csv);
    if (rc < 0) {
        fprintf(stderr, "flowmix plot: writing the charts %s*: %s\n", prefix, fm_strerror(rc));
    }
    if (csv && ((fflush(csv) != 0 || ferror(csv)) || (csv != stdout && fclose(csv) != 0))) {
        fprintf(stderr, "flowmix plot: %s: write failed\n", a->csv);
        rc = rc < 0 ? rc : FM_EIO;
    }
    free(prefix);
    return rc < 0 ? FM_EIO : 0;
}

int fm_cmd_plot(int argc, char **argv)
{
    plot_args_t a;
    fm_hist_bin_t *bins = NULL;
    fm_mix_t *mix[3] = {NULL, NULL, NULL};
    size_t n = 0;
    int rc, status = 1;
    char title[512];

    gsl_set_error_handler_off();
    if ((rc = parse_args(argc, argv, &a)) != 0) {
        return rc > 0 ? 0 : 2;
    }
    if ((rc = fm_hist_read_csv(a.hist, &bins, &n)) < 0) {
        return 1; /* the reader has said which file and line */
    }
    if (check_bins(a.hist, bins, n) < 0 || (a.mix && load_mixtures(&a, mix) < 0)) {
        goto out;
    }
    int metric = a.metric >= 0 ? a.metric : infer_metric(a.hist, bins);
    fm_fmplot_t fp = {.bins = bins, .n = n, .title = a.title, .formats = a.formats,
                      .single = a.single, .normalize = a.normalize, .hist_line = a.hist_line,
                      .comp_pdf = a.comp_pdf, .comp_cdf = a.comp_cdf,
                      .xlabel = a.rate ? "flow rate (bit/s)" : x_labels[metric]};
    if (!a.title) {
        snprintf(title, sizeof(title), "%s: %s", a.hist,
                 a.rate ? "rate" : fm_metric_name((fm_metric_t)metric));
        fp.title = title;
    }
    for (int y = 0; y < 3; y++) {
        fp.mix[y] = mix[y];
    }
    status = draw(&a, &fp) < 0 ? 1 : 0;
    fm_plot_cleanup();
out:
    for (int y = 0; y < 3; y++) {
        fm_mix_free(mix[y]);
    }
    free(bins);
    return status;
}
