/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Plots of an export snapshot: for every class and metric, the data's PDF (log–log, flows per
 * unit of x, normalised by the bin width) and CDF (of flows, packets and octets) with the fitted
 * mixtures drawn over them where a fit exists — the charts of flow-models `plot`, drawn with
 * cairo through src/plot.c.  Written as SVG and PNG into plots/<class>/<metric>/.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_int.h"
#include "mixture.h"
#include "plot.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

static const char *const y_names[] = {"flows", "packets", "octets"};
static const char *const x_labels[FM_METRIC_COUNT] = {"flow length (packets)",
                                                       "flow size (bytes)",
                                                       "flow duration (ms)"};

/* The mixture fitted for (class, metric, y), parsed; NULL when there is none. */
static fm_mix_t *find_mix(const fm_export_req_t *req, int cls, int metric, int y)
{
    for (size_t i = 0; i < req->nfits; i++) {
        const fm_export_fit_t *f = &req->fits[i];
        if (f->cls == cls && f->metric == metric && f->y == y) {
            fm_mix_t *m = NULL;
            char err[128];
            return fm_mix_parse_json(f->json, &m, err, sizeof(err)) == 0 ? m : NULL;
        }
    }
    return NULL;
}

static double sum_of(const fm_hist_bin_t *b, int y)
{
    return y == 0 ? (double)b->flows : y == 1 ? (double)b->packets : (double)b->octets;
}

static int pdf_plot(const fm_hist_bin_t *bins, size_t n, int metric, const fm_mix_t *mix,
                    const char *title, const char *path)
{
    double *x = fm_xcalloc(n, sizeof(double)), *y = fm_xcalloc(n, sizeof(double)), tot = 0;
    double *my = fm_xcalloc(n, sizeof(double));
    fm_plot_t *p = fm_plot_new(title, x_labels[metric], "PDF (flows)", FM_PLOT_LOGX | FM_PLOT_LOGY);
    int rc;

    for (size_t i = 0; i < n; i++) {
        tot += (double)bins[i].flows;
    }
    for (size_t i = 0; i < n; i++) {
        x[i] = (double)bins[i].lo;
        /* flows per unit of x, as flow-models normalises log bins */
        y[i] = tot > 0 ? (double)bins[i].flows / tot / (double)(bins[i].hi - bins[i].lo) : 0;
        if (mix) {
            my[i] = fm_mix_pdf_discrete(mix, x[i], metric == FM_METRIC_SIZE ? 64 : 1);
        }
    }
    fm_plot_add_series(p, "data", x, y, n, FM_PLOT_POINTS);
    if (mix) {
        fm_plot_add_series(p, "mixture", x, my, n, FM_PLOT_LINE);
    }
    rc = fm_plot_write(p, path, FM_PLOT_SVG | FM_PLOT_PNG);
    fm_plot_free(p);
    free(x);
    free(y);
    free(my);
    return rc;
}

static int cdf_plot(const fm_hist_bin_t *bins, size_t n, int metric, fm_mix_t *const mix[3],
                    const char *title, const char *path)
{
    double *x = fm_xcalloc(n, sizeof(double)), *y = fm_xcalloc(n, sizeof(double));
    double *my = fm_xcalloc(n, sizeof(double));
    fm_plot_t *p = fm_plot_new(title, x_labels[metric], "CDF", FM_PLOT_LOGX);
    int rc;

    for (int w = 0; w < 3; w++) {
        double tot = 0, acc = 0;
        char label[64];
        for (size_t i = 0; i < n; i++) {
            tot += sum_of(&bins[i], w);
        }
        for (size_t i = 0; i < n; i++) {
            acc += sum_of(&bins[i], w);
            x[i] = (double)bins[i].lo;
            y[i] = tot > 0 ? acc / tot : NAN;
            my[i] = mix[w] ? fm_mix_cdf(mix[w], x[i]) : NAN;
        }
        snprintf(label, sizeof(label), "%s (data)", y_names[w]);
        fm_plot_add_series(p, label, x, y, n, FM_PLOT_POINTS);
        if (mix[w]) {
            snprintf(label, sizeof(label), "%s (mixture)", y_names[w]);
            fm_plot_add_series(p, label, x, my, n, FM_PLOT_LINE);
        }
    }
    fm_plot_set_yrange(p, 0, 1);
    rc = fm_plot_write(p, path, FM_PLOT_SVG | FM_PLOT_PNG);
    fm_plot_free(p);
    free(x);
    free(y);
    free(my);
    return rc;
}

static int plot_one(const fm_export_req_t *req, const char *root, int cls, int metric, char *err,
                    size_t errlen)
{
    fm_hist_bin_t *bins = NULL;
    long n = fm_hist_bins(fm_histset_cget(req->hist, cls, FM_DIR_UNIFLOW, metric), &bins);
    char dir[4096], path[4200], title[128];
    fm_mix_t *mix[3] = {NULL, NULL, NULL};
    int rc = 0;

    if (n <= 0) {
        free(bins);
        return n < 0 ? (int)n : 0; /* nothing to draw for an empty histogram */
    }
    snprintf(dir, sizeof(dir), "%s/plots/%s/%s", root, fm_class_name(cls), fm_metric_name(metric));
    if ((rc = fm_fs_mkdirs(dir, 0755)) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, fm_strerror(rc));
        free(bins);
        return rc;
    }
    for (int y = 0; y < 3; y++) {
        mix[y] = find_mix(req, cls, metric, y);
    }
    snprintf(title, sizeof(title), "%s flows: %s", fm_class_name(cls), fm_metric_name(metric));
    snprintf(path, sizeof(path), "%s/pdf", dir);
    rc = pdf_plot(bins, (size_t)n, metric, mix[0], title, path);
    if (rc == 0) {
        snprintf(path, sizeof(path), "%s/cdf", dir);
        rc = cdf_plot(bins, (size_t)n, metric, mix, title, path);
    }
    if (rc < 0) {
        snprintf(err, errlen, "plot %s: %s", path, fm_strerror(rc));
    }
    for (int y = 0; y < 3; y++) {
        fm_mix_free(mix[y]);
    }
    free(bins);
    return rc;
}

int fm__export_plots(const fm_export_req_t *req, const char *root, char *err, size_t errlen)
{
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int m = 0; m < FM_METRIC_COUNT; m++) {
            int rc = plot_one(req, root, c, m, err, errlen);
            if (rc < 0) {
                return rc;
            }
        }
    }
    return 0;
}
