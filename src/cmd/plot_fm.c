/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flow-models plot's chart set (plot_fm.h).  Data points per bin: PDF what_sum / Σ what_sum
 * divided by the distance to the next bin (the last bin: its width; --no-normalize: not
 * divided), CDF the cumulative share at bin_lo, AVG what_sum / flows_sum.  Mixture lines on
 * flow-models' grid unique(rint(geomspace(min bin_lo, max bin_lo, 128))): the discrete-aware
 * pdf with x_min = the first bin_lo (the x range starts at the data: a size histogram starting
 * at 40 B is not given a spike at 64 B), the cdf, and avg = (S_what / S_flows) pdf_what /
 * pdf_flows.  packet_size also gets lines at the smallest, largest and overall mean.
 */
#include "config.h"

#include "cmd/plot_fm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "util/err.h"
#include "util/mem.h"

#define GRID 128

static double col(const fm_hist_bin_t *b, int y)
{
    return y == FM_Y_FLOWS ? (double)b->flows
           : y == FM_Y_PACKETS ? (double)b->packets : (double)b->octets;
}

static int series(fm_plot_t *p, const char *label, const double *x, const double *v, size_t n,
                  int style, FILE *csv, const char *chart, const char *y, const char *source)
{
    int rc = fm_plot_add_series(p, label, x, v, n, style);
    for (size_t i = 0; rc >= 0 && csv && i < n; i++) {
        if (fprintf(csv, "%s,%s,%s,%.17g,%.17g\n", chart, y, source, x[i], v[i]) < 0) {
            rc = FM_EIO;
        }
    }
    return rc < 0 ? rc : 0;
}

/* unique(rint(geomspace(lo, hi, 128))) */
static size_t grid(double lo, double hi, double *g)
{
    size_t n = 0;
    lo = lo < 1 ? 1 : lo;
    hi = hi < lo ? lo : hi;
    for (int i = 0; i < GRID; i++) {
        double v = i == GRID - 1 ? hi : exp(log(lo) + (log(hi) - log(lo)) * i / (GRID - 1));
        v = rint(v);
        if (n == 0 || v > g[n - 1]) {
            g[n++] = v;
        }
    }
    return n;
}

/* Component k of m alone, with its share of the total weight. */
static double comp_share(const fm_mix_t *m, size_t k, fm_mix_t **one)
{
    fm_mix_comp_t c = *fm_mix_comp(m, k);
    double share = c.w / fm_mix_weight_total(m);
    c.w = 1;
    *one = fm_mix_new(0);
    fm_mix_add(*one, &c);
    return share;
}

static int pdf_chart(const fm_fmplot_t *p, int y, fm_plot_t **out, FILE *csv)
{
    size_t n = p->n, ng;
    double *x = fm_xcalloc(n, sizeof(double)), *v = fm_xcalloc(n, sizeof(double)), tot = 0;
    double g[GRID], gv[GRID], xmin = (double)p->bins[0].lo;
    char ylabel[32];
    const char *yn = fm_mix_y_name(y);
    int rc;

    xmin = xmin < 1 ? 1 : xmin;
    snprintf(ylabel, sizeof(ylabel), "PDF (%s)", yn);
    fm_plot_t *pl = fm_plot_new(p->title, p->xlabel, ylabel, FM_PLOT_LOGX | FM_PLOT_LOGY);
    for (size_t i = 0; i < n; i++) {
        tot += col(&p->bins[i], y);
    }
    for (size_t i = 0; i < n; i++) {
        const fm_hist_bin_t *b = &p->bins[i];
        double w = i + 1 < n ? (double)(p->bins[i + 1].lo - b->lo) : (double)(b->hi - b->lo);
        x[i] = (double)b->lo;
        v[i] = tot > 0 ? col(b, y) / tot / (p->normalize && w > 0 ? w : 1) : NAN;
    }
    rc = series(pl, "data", x, v, n, FM_PLOT_POINTS | (p->hist_line ? FM_PLOT_LINE : 0), csv,
                "pdf", yn, "data");
    double vmin = INFINITY;
    for (size_t i = 0; i < n; i++) {
        vmin = v[i] > 0 && v[i] < vmin ? v[i] : vmin;
    }
    if (isfinite(vmin)) {
        /* component tails would stretch the axis over hundreds of decades */
        fm_plot_set_yrange(pl, vmin / 1e3, NAN);
    }
    ng = grid((double)p->bins[0].lo, (double)p->bins[n - 1].lo, g);
    const fm_mix_t *m = p->mix[y];
    if (rc == 0 && m) {
        for (size_t i = 0; i < ng; i++) {
            gv[i] = fm_mix_pdf_discrete(m, g[i], xmin);
        }
        rc = series(pl, "mixture", g, gv, ng, FM_PLOT_LINE, csv, "pdf", yn, "mixture");
    }
    for (size_t k = 0; rc == 0 && m && p->comp_pdf && k < fm_mix_count(m); k++) {
        fm_mix_t *one;
        double share = comp_share(m, k, &one);
        char label[64], src[32];
        for (size_t i = 0; i < ng; i++) {
            gv[i] = share * fm_mix_pdf_discrete(one, g[i], xmin);
        }
        snprintf(label, sizeof(label), "%s %zu", fm_mix_family_name(fm_mix_comp(m, k)->fam), k);
        snprintf(src, sizeof(src), "comp%zu", k);
        rc = series(pl, label, g, gv, ng, FM_PLOT_LINE | FM_PLOT_DASHED, csv, "pdf", yn, src);
        fm_mix_free(one);
    }
    free(x);
    free(v);
    *out = pl;
    return rc;
}

static int cdf_chart(const fm_fmplot_t *p, fm_plot_t **out, FILE *csv)
{
    size_t n = p->n, ng;
    double *x = fm_xcalloc(n, sizeof(double)), *v = fm_xcalloc(n, sizeof(double));
    double g[GRID], gv[GRID];
    fm_plot_t *pl = fm_plot_new(p->title, p->xlabel, "CDF", FM_PLOT_LOGX);
    int rc = 0;

    ng = grid((double)p->bins[0].lo, (double)p->bins[n - 1].lo, g);
    for (int y = FM_Y_FLOWS; y <= FM_Y_OCTETS && rc == 0; y++) {
        const char *yn = fm_mix_y_name(y);
        const fm_mix_t *m = p->mix[y];
        double tot = 0, acc = 0;
        char label[64];
        for (size_t i = 0; i < n; i++) {
            tot += col(&p->bins[i], y);
        }
        for (size_t i = 0; i < n; i++) {
            acc += col(&p->bins[i], y);
            x[i] = (double)p->bins[i].lo;
            v[i] = tot > 0 ? acc / tot : NAN;
        }
        snprintf(label, sizeof(label), "%s (data)", yn);
        rc = series(pl, label, x, v, n, FM_PLOT_POINTS | (p->hist_line ? FM_PLOT_LINE : 0), csv,
                    "cdf", yn, "data");
        if (rc == 0 && m) {
            for (size_t i = 0; i < ng; i++) {
                gv[i] = fm_mix_cdf(m, g[i]);
            }
            snprintf(label, sizeof(label), "%s (mixture)", yn);
            rc = series(pl, label, g, gv, ng, FM_PLOT_LINE, csv, "cdf", yn, "mixture");
        }
        for (size_t k = 0; rc == 0 && m && p->comp_cdf && k < fm_mix_count(m); k++) {
            const fm_mix_comp_t *c = fm_mix_comp(m, k);
            double share = c->w / fm_mix_weight_total(m);
            char src[32];
            for (size_t i = 0; i < ng; i++) {
                gv[i] = share * fm_mix_comp_cdf(c, g[i]);
            }
            snprintf(label, sizeof(label), "%s %s %zu", yn, fm_mix_family_name(c->fam), k);
            snprintf(src, sizeof(src), "comp%zu", k);
            rc = series(pl, label, g, gv, ng, FM_PLOT_LINE | FM_PLOT_DASHED, csv, "cdf", yn,
                        src);
        }
    }
    fm_plot_set_yrange(pl, 0, 1);
    free(x);
    free(v);
    *out = pl;
    return rc;
}

/* what: FM_Y_PACKETS or FM_Y_OCTETS per flow, or -1 for the packet size (octets / packets). */
static int avg_chart(const fm_fmplot_t *p, int what, fm_plot_t **out, FILE *csv)
{
    int num = what < 0 ? FM_Y_OCTETS : what, den = what < 0 ? FM_Y_PACKETS : FM_Y_FLOWS;
    const char *yn = what < 0 ? "packet_size" : fm_mix_y_name(what);
    size_t n = p->n, ng;
    double *x = fm_xcalloc(n, sizeof(double)), *v = fm_xcalloc(n, sizeof(double));
    double g[GRID], gv[GRID], sn = 0, sd = 0, lo = INFINITY, hi = -INFINITY;
    double xmin = p->bins[0].lo < 1 ? 1 : (double)p->bins[0].lo;
    char ylabel[48];
    int rc;

    snprintf(ylabel, sizeof(ylabel), what < 0 ? "average packet size (bytes)"
                                              : "average %s per flow", yn);
    fm_plot_t *pl = fm_plot_new(p->title, p->xlabel, ylabel,
                                FM_PLOT_LOGX | (what < 0 ? 0 : FM_PLOT_LOGY));
    for (size_t i = 0; i < n; i++) {
        const fm_hist_bin_t *b = &p->bins[i];
        sn += col(b, num);
        sd += col(b, den);
        x[i] = (double)b->lo;
        v[i] = col(b, den) > 0 ? col(b, num) / col(b, den) : NAN;
        if (v[i] < lo) {
            lo = v[i];
        }
        if (v[i] > hi) {
            hi = v[i];
        }
    }
    rc = series(pl, "data", x, v, n, FM_PLOT_POINTS, csv, "avg", yn, "data");
    if (rc == 0 && p->mix[num] && p->mix[den] && sd > 0) {
        ng = grid((double)p->bins[0].lo, (double)p->bins[n - 1].lo, g);
        for (size_t i = 0; i < ng; i++) {
            double pd = fm_mix_pdf_discrete(p->mix[den], g[i], xmin);
            gv[i] = pd > 0 ? sn / sd * fm_mix_pdf_discrete(p->mix[num], g[i], xmin) / pd : NAN;
        }
        rc = series(pl, "mixture", g, gv, ng, FM_PLOT_LINE, csv, "avg", yn, "mixture");
    }
    if (rc == 0 && what < 0) {
        if (isfinite(lo)) {
            fm_plot_add_hline(pl, "min", lo);
            fm_plot_add_hline(pl, "max", hi);
        }
        if (sd > 0) {
            fm_plot_add_hline(pl, "mean", sn / sd);
        }
        fm_plot_set_yrange(pl, 0, 2000);
    }
    free(x);
    free(v);
    *out = pl;
    return rc;
}

static int write_chart(fm_plot_t *pl, const char *prefix, const char *name, int formats)
{
    size_t len = strlen(prefix) + strlen(name) + 1;
    char *path = fm_xmalloc(len);
    snprintf(path, len, "%s%s", prefix, name);
    int rc = fm_plot_write(pl, path, formats);
    free(path);
    return rc;
}

int fm_fmplot_write(const fm_fmplot_t *p, const char *prefix, FILE *csv)
{
    static const char *const pdf_names[3] = {"pdf-flows", "pdf-packets", "pdf-octets"};
    fm_plot_t *charts[4] = {NULL, NULL, NULL, NULL}, *avg = NULL;
    int rc;

    if (!p || !prefix || !p->bins || p->n == 0) {
        return FM_EINVAL;
    }
    rc = cdf_chart(p, &charts[0], csv);
    for (int y = FM_Y_FLOWS; y <= FM_Y_OCTETS && rc == 0; y++) {
        rc = pdf_chart(p, y, &charts[1 + y], csv);
    }
    if (rc == 0 && p->single) {
        size_t len = strlen(prefix) + 8;
        char *path = fm_xmalloc(len);
        snprintf(path, len, "%ssingle", prefix);
        rc = fm_plot_write_grid((const fm_plot_t *const *)charts, 4, 2, path, p->formats);
        free(path);
    } else if (rc == 0) {
        rc = write_chart(charts[0], prefix, "cdf", p->formats);
        for (int y = 0; y < 3 && rc == 0; y++) {
            rc = write_chart(charts[1 + y], prefix, pdf_names[y], p->formats);
        }
    }
    static const int avgs[3] = {FM_Y_PACKETS, FM_Y_OCTETS, -1};
    static const char *const avg_names[3] = {"avg-packets", "avg-octets", "avg-packet_size"};
    for (int i = 0; i < 3 && rc == 0; i++) {
        rc = avg_chart(p, avgs[i], &avg, csv);
        rc = rc == 0 ? write_chart(avg, prefix, avg_names[i], p->formats) : rc;
        fm_plot_free(avg);
        avg = NULL;
    }
    for (int i = 0; i < 4; i++) {
        fm_plot_free(charts[i]);
    }
    return rc;
}
