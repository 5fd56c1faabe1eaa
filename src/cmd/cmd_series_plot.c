/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix series_plot: flow-models' series_plot: for every D.flows, D.packets and D.octets file
 * (csv_series, as flowmix series writes them) in the current directory (or DIR), a chart of the
 * rate over the day, a 30-second trailing mean (pandas rolling(30, min_periods=1)), x 0..86400 s,
 * y from 0, written as D.flows, D.packets and D.bits (octets times 8) in --format (default pdf,
 * as flow-models); and a line "TITLE WHAT SUM" per file on standard output.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "plot.h"
#include "util/err.h"
#include "util/mem.h"

int fm_cmd_series_plot(int argc, char **argv);

#define DAY 86400

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One series file → chart.  @return 0 or -1 (reported). */
static int plot_one(const char *dir, const char *name, const char *what, int formats)
{
    char path[4096], title[320], out[4096], ylabel[64];
    static double x[DAY], v[DAY], m[DAY];
    size_t n = 0;
    bool bits = strcmp(what, "octets") == 0;
    const char *unit = bits ? "bits" : what;
    double sum = 0, win = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "flowmix series_plot: %s: %s\n", path, strerror(errno));
        return FM_EIO;
    }
    while (n < DAY && fscanf(f, "%lf", &v[n]) == 1) {
        v[n] *= bits ? 8 : 1;
        sum += v[n];
        n++;
    }
    fclose(f);
    for (size_t i = 0; i < n; i++) { /* 30-second trailing mean, shorter at the start */
        win += v[i] - (i >= 30 ? v[i - 30] : 0);
        x[i] = (double)i;
        m[i] = win / (double)(i + 1 < 30 ? i + 1 : 30);
    }
    char stem[200];
    snprintf(stem, sizeof(stem), "%.*s", (int)(strrchr(name, '.') - name), name);
    char *end;
    long day = strtol(stem, &end, 10);
    if (!*end && stem[0]) {
        time_t t = (time_t)day * DAY;
        struct tm tm;
        gmtime_r(&t, &tm);
        char date[32];
        strftime(date, sizeof(date), "%Y-%m-%d-%a", &tm);
        snprintf(title, sizeof(title), "%s (Day %s)", date, stem);
    } else {
        snprintf(title, sizeof(title), "Day %s", stem);
    }
    printf("%s %s %.0f\n", title, unit, sum);
    snprintf(ylabel, sizeof(ylabel), "%c%.*s rate [%s/s]", unit[0] - 32,
             (int)strlen(unit) - 2, unit + 1, unit);
    fm_plot_t *p = fm_plot_new(NULL, "Time [s]", ylabel, 0);
    int rc = fm_plot_add_series(p, NULL, x, m, n, FM_PLOT_LINE);
    fm_plot_set_xrange(p, 0, DAY);
    fm_plot_set_yrange(p, 0, NAN);
    snprintf(out, sizeof(out), "%s/%s.%s", dir, stem, unit);
    rc = rc < 0 ? rc : fm_plot_write(p, out, formats);
    fm_plot_free(p);
    if (rc < 0) {
        fprintf(stderr, "flowmix series_plot: %s: %s\n", out, fm_strerror(rc));
        return FM_EIO;
    }
    return 0;
}

int fm_cmd_series_plot(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, formats = FM_PLOT_PDF, rc = 0;
    const char *dir = ".";

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (opt == 'h') {
            printf("usage: flowmix series_plot [--format png,svg,pdf] [DIR]\n\n"
                   "Charts of the D.flows, D.packets and D.octets series files in DIR (default\n"
                   "the current directory, as flow-models series_plot): D.flows, D.packets and\n"
                   "D.bits, 30-second means over the day (default format pdf).\n");
            return 0;
        }
        if (opt == 'f') {
            if ((formats = fm_plot_parse_formats(optarg)) < 0) {
                return fm_cmd_usage_error("series_plot", "--format %s: not png, svg or pdf",
                                          optarg);
            }
            continue;
        }
        return fm_cmd_bad_option("series_plot", opt, argv);
    }
    if (argc - optind > 1) {
        return fm_cmd_usage_error("series_plot", "one directory only");
    }
    dir = optind < argc ? argv[optind] : ".";
    static const char *const whats[3] = {"flows", "packets", "octets"};
    for (int w = 0; w < 3 && rc == 0; w++) {
        DIR *d = opendir(dir);
        struct dirent *e;
        char **names = NULL;
        size_t n = 0;
        if (!d) {
            fprintf(stderr, "flowmix series_plot: %s: %s\n", dir, strerror(errno));
            return 1;
        }
        while ((e = readdir(d)) != NULL) {
            const char *dot = strrchr(e->d_name, '.');
            if (dot && dot != e->d_name && strcmp(dot + 1, whats[w]) == 0) {
                char **nn = realloc(names, (n + 1) * sizeof(*names));
                if (!nn) {
                    break;
                }
                names = nn;
                names[n++] = fm_xstrdup(e->d_name);
            }
        }
        closedir(d);
        qsort(names, n, sizeof(*names), by_name);
        for (size_t i = 0; i < n; i++) {
            rc = rc < 0 ? rc : plot_one(dir, names[i], whats[w], formats);
            free(names[i]);
        }
        free(names);
    }
    fm_plot_cleanup();
    return rc < 0 ? 1 : 0;
}
