/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram charts (histplot.h): the data's PDF on log–log axes and the CDFs of flows, packets
 * and octets, each with its fitted mixture, for the export snapshots and `flowmix plot`.
 * Rendering is src/plot.c's; where the charts go is the caller's.
 */
#include "config.h"

#include "histplot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "util/err.h"
#include "util/mem.h"

static const char *const x_labels[FM_METRIC_COUNT] = {"flow length (packets)",
                                                       "flow size (bytes)",
                                                       "flow duration (ms)"};

static double sum_of(const fm_hist_bin_t *b, int y)
{
    return y == FM_Y_FLOWS ? (double)b->flows
           : y == FM_Y_PACKETS ? (double)b->packets : (double)b->octets;
}

/* One series on the chart and, when asked, in the CSV. */
static int add_series(fm_plot_t *p, const char *label, const double *x, const double *v, size_t n,
                      int style, FILE *csv, const char *chart, int y, const char *source)
{
    int rc = fm_plot_add_series(p, label, x, v, n, style);
    if (rc < 0 || !csv) {
        return rc < 0 ? rc : 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (fprintf(csv, "%s,%s,%s,%.17g,%.17g\n", chart, fm_mix_y_name(y), source, x[i],
                    v[i]) < 0) {
            return FM_EIO;
        }
    }
    return 0;
}

static int pdf_chart(const fm_histplot_t *hp, const char *path, int formats, FILE *csv)
{
    size_t n = hp->n;
    double *x = fm_xcalloc(n, sizeof(double)), *y = fm_xcalloc(n, sizeof(double)), tot = 0;
    double *my = fm_xcalloc(n, sizeof(double));
    const fm_mix_t *mix = hp->mix[FM_Y_FLOWS];
    fm_plot_t *p = fm_plot_new(hp->title, x_labels[hp->metric], "PDF (flows)",
                               FM_PLOT_LOGX | FM_PLOT_LOGY);
    int rc;

    for (size_t i = 0; i < n; i++) {
        tot += (double)hp->bins[i].flows;
    }
    for (size_t i = 0; i < n; i++) {
        const fm_hist_bin_t *b = &hp->bins[i];
        x[i] = (double)b->lo;
        /* flows per unit of x, as flow-models normalises log bins */
        y[i] = tot > 0 ? (double)b->flows / tot / (double)(b->hi - b->lo) : 0;
        if (mix) {
            my[i] = fm_mix_pdf_discrete(mix, x[i], hp->metric == FM_METRIC_SIZE ? 64 : 1);
        }
    }
    rc = add_series(p, "data", x, y, n, FM_PLOT_POINTS, csv, "pdf", FM_Y_FLOWS, "data");
    if (rc == 0 && mix) {
        rc = add_series(p, "mixture", x, my, n, FM_PLOT_LINE, csv, "pdf", FM_Y_FLOWS, "mixture");
    }
    if (rc == 0) {
        rc = fm_plot_write(p, path, formats);
    }
    fm_plot_free(p);
    free(x);
    free(y);
    free(my);
    return rc;
}

static int cdf_chart(const fm_histplot_t *hp, const char *path, int formats, FILE *csv)
{
    size_t n = hp->n;
    double *x = fm_xcalloc(n, sizeof(double)), *y = fm_xcalloc(n, sizeof(double));
    double *my = fm_xcalloc(n, sizeof(double));
    fm_plot_t *p = fm_plot_new(hp->title, x_labels[hp->metric], "CDF", FM_PLOT_LOGX);
    int rc = 0;

    for (int w = FM_Y_FLOWS; w <= FM_Y_OCTETS && rc == 0; w++) {
        const fm_mix_t *mix = hp->mix[w];
        double tot = 0, acc = 0;
        char label[64];
        for (size_t i = 0; i < n; i++) {
            tot += sum_of(&hp->bins[i], w);
        }
        for (size_t i = 0; i < n; i++) {
            acc += sum_of(&hp->bins[i], w);
            x[i] = (double)hp->bins[i].lo;
            y[i] = tot > 0 ? acc / tot : NAN;
            my[i] = mix ? fm_mix_cdf(mix, x[i]) : NAN;
        }
        snprintf(label, sizeof(label), "%s (data)", fm_mix_y_name(w));
        rc = add_series(p, label, x, y, n, FM_PLOT_POINTS, csv, "cdf", w, "data");
        if (rc == 0 && mix) {
            snprintf(label, sizeof(label), "%s (mixture)", fm_mix_y_name(w));
            rc = add_series(p, label, x, my, n, FM_PLOT_LINE, csv, "cdf", w, "mixture");
        }
    }
    if (rc == 0) {
        fm_plot_set_yrange(p, 0, 1);
        rc = fm_plot_write(p, path, formats);
    }
    fm_plot_free(p);
    free(x);
    free(y);
    free(my);
    return rc;
}

int fm_histplot_write(const fm_histplot_t *hp, const char *prefix, int formats, FILE *csv)
{
    if (!hp || !prefix || !hp->bins || hp->n == 0 || (unsigned)hp->metric >= FM_METRIC_COUNT) {
        return FM_EINVAL;
    }
    size_t len = strlen(prefix) + 4;
    char *path = fm_xmalloc(len);
    int rc;

    snprintf(path, len, "%spdf", prefix);
    rc = pdf_chart(hp, path, formats, csv);
    if (rc == 0) {
        snprintf(path, len, "%scdf", prefix);
        rc = cdf_chart(hp, path, formats, csv);
    }
    free(path);
    return rc;
}
