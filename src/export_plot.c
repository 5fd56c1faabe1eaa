/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Plots of an export snapshot: for every class and metric, the data's PDF (log–log, flows per
 * unit of x, normalised by the bin width) and CDF (of flows, packets and octets) with the fitted
 * mixtures drawn over them where a fit exists — the charts of flow-models `plot`, drawn by
 * src/histplot.c (as `flowmix plot` draws them).  Written as SVG and PNG into
 * plots/<class>/<metric>/.
 */
#include "config.h"

#include <inttypes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_int.h"
#include "histplot.h"
#include "mixture.h"
#include "plot.h"
#include "util/err.h"
#include "util/fs.h"

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

void fm__export_plot_title(char *title, size_t len, int cls, int metric,
                           const fm_hist_bin_t *bins, size_t n)
{
    snprintf(title, len, "%s flows: %s", fm_class_name(cls), fm_metric_name(metric));
    if (metric == FM_METRIC_DURATION) {
        /* Flows of one packet last 0 ms: often most flows, yet off a logarithmic x axis. */
        uint64_t zero = 0, all = 0;
        for (size_t i = 0; i < n; i++) {
            zero += bins[i].lo == 0 ? bins[i].flows : 0;
            all += bins[i].flows;
        }
        if (zero) {
            size_t k = strlen(title);
            snprintf(title + k, len - k,
                     " (%" PRIu64 " of %" PRIu64 " flows, %.1f%%, last 0 ms: not on the log axis)",
                     zero, all, 100.0 * (double)zero / (double)all);
        }
    }
}

static int plot_one(const fm_export_req_t *req, const char *root, int cls, int metric, char *err,
                    size_t errlen)
{
    fm_hist_bin_t *bins = NULL;
    long n = fm_hist_bins(fm_histset_cget(req->hist, cls, FM_DIR_UNIFLOW, metric), &bins);
    char dir[4096], path[4200], title[256];
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
    fm__export_plot_title(title, sizeof(title), cls, metric, bins, (size_t)n);
    snprintf(path, sizeof(path), "%s/", dir);
    fm_histplot_t hp = {.bins = bins, .n = (size_t)n, .metric = metric, .title = title};
    for (int y = 0; y < 3; y++) {
        hp.mix[y] = mix[y];
    }
    if ((rc = fm_histplot_write(&hp, path, FM_PLOT_SVG | FM_PLOT_PNG, NULL)) < 0) {
        snprintf(err, errlen, "plot %s: %s", dir, fm_strerror(rc));
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
