/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Summary tables (flow-models summary.py and the agh_2015 README).  Ratios of integer totals are
 * taken in long double so that they round like Python's exact int / int division for every
 * total below 2^64; the CDF is interpolated exactly as scipy interp1d does it (slope times
 * offset plus the left value), so the TeX output matches flow-models digit for digit.
 */
#include "config.h"

#include "summary.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

/* Python int / int (correctly rounded for values below 2^64). */
static double ratio(uint64_t a, uint64_t b)
{
    return (double)((long double)a / (long double)b);
}

static uint64_t col(const fm_hist_bin_t *b, int what)
{
    return what == 0 ? b->flows : what == 1 ? b->packets : b->octets;
}

/* interp1d(bin_lo, C)(p) with C_i = cumsum_i / total; NaN outside [bin_lo_0, bin_lo_N-1]. */
static double interp(const fm_hist_bin_t *bins, const double *C, size_t n, double p)
{
    size_t lo = 0, hi = n;

    if (p < (double)bins[0].lo || p > (double)bins[n - 1].lo) {
        return NAN;
    }
    if (n == 1) {
        return C[0];
    }
    while (lo < hi) { /* searchsorted(side='left') */
        size_t mid = lo + (hi - lo) / 2;
        if ((double)bins[mid].lo < p) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    size_t i = lo < 1 ? 1 : lo > n - 1 ? n - 1 : lo;
    double x0 = (double)bins[i - 1].lo, x1 = (double)bins[i].lo;
    double slope = (C[i] - C[i - 1]) / (x1 - x0);
    return slope * (p - x0) + C[i - 1];
}

int fm_summary_compute(const fm_hist_bin_t *bins, size_t n, int xval, fm_summary_t *out)
{
    unsigned __int128 t[3] = {0, 0, 0};

    if (!bins || n == 0 || !out) {
        return FM_EINVAL;
    }
    if (xval < 0) {
        xval = bins[0].lo == 1 ? FM_SUMMARY_LENGTH : bins[0].lo == 64 ? FM_SUMMARY_SIZE : -1;
        if (xval < 0) {
            return FM_EINVAL;
        }
    }
    for (size_t i = 0; i < n; i++) {
        for (int w = 0; w < 3; w++) {
            t[w] += col(&bins[i], w);
        }
    }
    for (int w = 0; w < 3; w++) {
        if (t[w] > UINT64_MAX) {
            return FM_EOVERFLOW;
        }
        if (t[w] == 0) {
            return FM_EINVAL;
        }
    }
    memset(out, 0, sizeof(*out));
    out->xval = xval;
    out->flows = (uint64_t)t[0];
    out->packets = (uint64_t)t[1];
    out->octets = (uint64_t)t[2];
    out->avg_length = ratio(out->packets, out->flows);
    out->avg_size = ratio(out->octets, out->flows);
    out->avg_packet_size = ratio(out->octets, out->packets);
    for (int j = 0; j < FM_SUMMARY_POINTS; j++) {
        out->point[j] = (uint64_t)1 << j;
        out->point[j] *= xval == FM_SUMMARY_SIZE ? 64 : 1;
    }
    double *C = malloc(n * sizeof(*C));
    if (!C) {
        return FM_ENOMEM;
    }
    for (int w = 0; w < 3; w++) {
        uint64_t cum = 0;
        for (size_t i = 0; i < n; i++) {
            cum += col(&bins[i], w);
            C[i] = ratio(cum, (uint64_t)t[w]);
        }
        for (int j = 0; j < FM_SUMMARY_POINTS; j++) {
            out->pct[j][w] = 100 * interp(bins, C, n, (double)out->point[j]);
        }
    }
    free(C);
    return 0;
}

/* 4032376751 → "4 032 376 751" */
static void thousands(uint64_t v, char *buf, size_t size, char sep)
{
    char d[32];
    int n = snprintf(d, sizeof(d), "%llu", (unsigned long long)v), o = 0;
    for (int i = 0; i < n && (size_t)o + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            buf[o++] = sep;
        }
        buf[o++] = d[i];
    }
    buf[o] = '\0';
}

int fm_summary_write_tex(const fm_summary_t *s, FILE *out)
{
    char f[40], p[40], o[40];
    bool size = s->xval == FM_SUMMARY_SIZE;

    thousands(s->flows, f, sizeof(f), ' ');
    thousands(s->packets, p, sizeof(p), ' ');
    thousands(s->octets, o, sizeof(o), ' ');
    fprintf(out,
            "\\begin{tabular}{@{}lrr@{}}\n\\toprule\n"
            "\\textbf{Dataset name} & XXX & \\\\\n\\textbf{Exporter} & XXX & \\\\\n"
            "\\textbf{L2 technology} & XXX & \\\\\n\\textbf{Sampling rate} & none & \\\\\n"
            "\\textbf{Active timeout} & XXX & seconds \\\\\n"
            "\\textbf{Inactive timeout} & XXX & seconds \\\\\n\\midrule\n"
            "\\textbf{Number of flows} & %s & flows \\\\\n"
            "\\textbf{Number of packets} & %s & packets \\\\\n"
            "\\textbf{Number of octets} & %s & octets \\\\\n"
            "\\textbf{Average flow length} & %.6f & packets \\\\\n"
            "\\textbf{Average packet size} & %.6f & bytes \\\\\n"
            "\\bottomrule\n\\end{tabular}\n\n\n",
            f, p, o, s->avg_length, s->avg_packet_size);
    fprintf(out,
            "\\begin{tabular}{@{}lrrr@{}}\n\\toprule\n"
            "\\textbf{Flows of %s up to} & \\multicolumn{3}{c}{\\textbf{Make up \\%%}} \\\\\n"
            "\\cmidrule(lr){2-4}\n"
            "\\multicolumn{1}{c}{(%s)} & of flows & of packets & of octets \\\\\n\\midrule\n",
            size ? "size" : "length", size ? "bytes" : "packets");
    for (int j = 0; j < FM_SUMMARY_POINTS; j++) {
        fprintf(out, "%llu & %.4f & %.4f & %.4f \\\\\n", (unsigned long long)s->point[j],
                s->pct[j][0], s->pct[j][1], s->pct[j][2]);
    }
    fputs("\\bottomrule\n\\end{tabular}\n\n\n", out);
    return ferror(out) ? FM_EIO : 0;
}

static int find(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0) {
            return (int)i;
        }
    }
    return FM_EINVAL;
}

static void md_params(const fm_summary_t *const *s, const char *const *names, size_t ncls,
                      FILE *out)
{
    char b[40];
    fputs("| Parameter | Value | Unit |\n| - | -: | -: |\n", out);
    for (size_t c = 0; c < ncls; c++) {
        fprintf(out, "| %s | | |\n", names[c]);
        thousands(s[c]->flows, b, sizeof(b), ' ');
        fprintf(out, "| Number of flows | %s | flows |\n", b);
        thousands(s[c]->packets, b, sizeof(b), ' ');
        fprintf(out, "| Number of packets | %s | packets |\n", b);
        thousands(s[c]->octets, b, sizeof(b), ' ');
        fprintf(out, "| Number of bytes | %s | bytes |\n", b);
        fprintf(out, "| Average flow length | %.6f | packets |\n", s[c]->avg_length);
        fprintf(out, "| Average flow size | %.6f | octets |\n", s[c]->avg_size);
        fprintf(out, "| Average packet size | %.6f | bytes |\n", s[c]->avg_packet_size);
    }
    fputc('\n', out);
}

/* TCP / UDP / Other shares of flows, packets and octets (Other = all - tcp - udp). */
static void md_shares(const fm_summary_t *all, const fm_summary_t *tcp, const fm_summary_t *udp,
                      FILE *out)
{
    const char *rows[3] = {"Flows", "Packets", "Octets"};
    uint64_t a[3] = {all->flows, all->packets, all->octets};
    uint64_t t[3] = {tcp->flows, tcp->packets, tcp->octets};
    uint64_t u[3] = {udp->flows, udp->packets, udp->octets};

    fputs("|    | TCP | UDP | Other |\n| :- | -:  | -:  | -:    |\n", out);
    for (int w = 0; w < 3; w++) {
        double pt = 100 * ratio(t[w], a[w]), pu = 100 * ratio(u[w], a[w]);
        fprintf(out, "| %s | %.2f%% | %.2f%% | %.2f%% |\n", rows[w], pt, pu, 100 - pt - pu);
    }
    fputc('\n', out);
}

int fm_summary_write_md(const fm_summary_t *const *s, const char *const *names, size_t ncls,
                        FILE *out)
{
    int ia = find(names, ncls, "all"), it = find(names, ncls, "tcp"), iu = find(names, ncls, "udp");
    char b[40];

    if (ncls == 0) {
        return FM_EINVAL;
    }
    bool size = s[0]->xval == FM_SUMMARY_SIZE;
    md_params(s, names, ncls, out);
    if (ia >= 0 && it >= 0 && iu >= 0) {
        md_shares(s[ia], s[it], s[iu], out);
    }
    fputs("| |", out);
    for (size_t c = 0; c < ncls; c++) {
        fprintf(out, " | %s | |", names[c]);
    }
    fprintf(out, "\n| -: |");
    for (size_t c = 0; c < ncls; c++) {
        fputs(" -: | -: | -: |", out);
    }
    fprintf(out, "\n| Flows of %s up to |", size ? "size" : "length");
    for (size_t c = 0; c < ncls; c++) {
        fputs(" | Make up % | |", out);
    }
    fprintf(out, "\n| (%s) |", size ? "octets" : "packets");
    for (size_t c = 0; c < ncls; c++) {
        fputs(" flows | packets | octets |", out);
    }
    fputc('\n', out);
    for (int j = 0; j < FM_SUMMARY_POINTS; j++) {
        thousands(s[0]->point[j], b, sizeof(b), ' ');
        fprintf(out, "| %s |", b);
        for (size_t c = 0; c < ncls; c++) {
            fprintf(out, " %.4f | %.4f | %.4f |", s[c]->pct[j][0], s[c]->pct[j][1],
                    s[c]->pct[j][2]);
        }
        fputc('\n', out);
    }
    return ferror(out) ? FM_EIO : 0;
}

int fm_summary_write_csv(const fm_summary_t *const *s, const char *const *names, size_t ncls,
                         FILE *out)
{
    if (ncls == 0) {
        return FM_EINVAL;
    }
    fputs("class,flows,packets,octets,avg_length,avg_size,avg_packet_size\n", out);
    for (size_t c = 0; c < ncls; c++) {
        fprintf(out, "%s,%llu,%llu,%llu,%.6f,%.6f,%.6f\n", names[c],
                (unsigned long long)s[c]->flows, (unsigned long long)s[c]->packets,
                (unsigned long long)s[c]->octets, s[c]->avg_length, s[c]->avg_size,
                s[c]->avg_packet_size);
    }
    fputs("\nclass,up_to,flows_pct,packets_pct,octets_pct\n", out);
    for (size_t c = 0; c < ncls; c++) {
        for (int j = 0; j < FM_SUMMARY_POINTS; j++) {
            fprintf(out, "%s,%llu,%.4f,%.4f,%.4f\n", names[c], (unsigned long long)s[c]->point[j],
                    s[c]->pct[j][0], s[c]->pct[j][1], s[c]->pct[j][2]);
        }
    }
    return ferror(out) ? FM_EIO : 0;
}
