/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * summary.md and summary.csv of an export snapshot: the tables of the agh_2015 README — totals,
 * averages, protocol shares, and the share of flows, packets and octets in flows of length up to
 * 1, 2, 4 … packets and size up to 64, 128 … bytes.  Shares at a point follow flow-models
 * `summary`: the cumulative share at each bin's lower edge, linearly interpolated.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "export_int.h"
#include "util/err.h"

#define CDF_POINTS 25

typedef struct {
    uint64_t flows, packets, octets;
} tot_t;

static tot_t totals(const fm_histset_t *s, int cls)
{
    tot_t t;
    fm_hist_totals(fm_histset_cget(s, cls, FM_DIR_UNIFLOW, FM_METRIC_LENGTH), &t.flows, &t.packets,
                   &t.octets);
    return t;
}

static double ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : NAN;
}

/* Share (in %) of `what` (0 flows, 1 packets, 2 octets) in flows with x up to p. */
static double cdf_at(const fm_hist_bin_t *b, size_t n, int what, double p)
{
    double tot = 0, acc = 0, prev_c = 0;
    for (size_t i = 0; i < n; i++) {
        tot += what == 0 ? (double)b[i].flows : what == 1 ? (double)b[i].packets
                                                          : (double)b[i].octets;
    }
    if (n == 0 || tot <= 0) {
        return NAN; /* no flows of this class: no distribution */
    }
    if (p < (double)b[0].lo) {
        return 0.0;
    }
    if (p >= (double)b[n - 1].lo) {
        return 100.0; /* at or past the largest value seen: every flow */
    }
    for (size_t i = 0; i < n; i++) {
        acc += what == 0 ? (double)b[i].flows : what == 1 ? (double)b[i].packets
                                                          : (double)b[i].octets;
        double c = acc / tot;
        if ((double)b[i].lo >= p && i > 0) {
            double x0 = (double)b[i - 1].lo, x1 = (double)b[i].lo;
            return 100.0 * (prev_c + (c - prev_c) / (x1 - x0) * (p - x0));
        }
        if ((double)b[i].lo >= p) {
            return 100.0 * c;
        }
        prev_c = c;
    }
    return NAN;
}

/* A ratio as "%.6f" (or "%.2f" scaled to percent), "-" when undefined (no flows). */
static const char *num(char *buf, size_t len, double v, bool percent)
{
    if (isnan(v)) {
        return "-";
    }
    snprintf(buf, len, percent ? "%.2f%%" : "%.6f", percent ? 100 * v : v);
    return buf;
}

static void write_totals(FILE *md, FILE *csv, const fm_histset_t *s)
{
    char r1[32], r2[32], r3[32];
    static const char *const names[] = {"All traffic", "TCP-only", "UDP-only", "Other"};
    fprintf(md, "# flowmix summary\n\n| | | |\n| - | -: | -: |\n");
    fprintf(csv, "class,flows,packets,octets,avg_length,avg_size,avg_packet_size\n");
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        tot_t t = totals(s, c);
        fprintf(md, "| **%s** | | |\n| Number of flows | %" PRIu64 " | flows |\n"
                    "| Number of packets | %" PRIu64 " | packets |\n"
                    "| Number of bytes | %" PRIu64 " | bytes |\n"
                    "| Average flow length | %s | packets |\n"
                    "| Average flow size | %s | octets |\n"
                    "| Average packet size | %s | bytes |\n",
                names[c], t.flows, t.packets, t.octets,
                num(r1, sizeof(r1), ratio(t.packets, t.flows), false),
                num(r2, sizeof(r2), ratio(t.octets, t.flows), false),
                num(r3, sizeof(r3), ratio(t.octets, t.packets), false));
        fprintf(csv, "%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.6f,%.6f,%.6f\n", fm_class_name(c),
                t.flows, t.packets, t.octets, ratio(t.packets, t.flows),
                ratio(t.octets, t.flows), ratio(t.octets, t.packets));
    }
    tot_t all = totals(s, FM_CLASS_ALL), tcp = totals(s, FM_CLASS_TCP),
          udp = totals(s, FM_CLASS_UDP), oth = totals(s, FM_CLASS_OTHER);
    fprintf(md, "\n| | TCP | UDP | Other |\n| :- | -: | -: | -: |\n");
    fprintf(md, "| Flows | %s | %s | %s |\n", num(r1, sizeof(r1), ratio(tcp.flows, all.flows), true),
            num(r2, sizeof(r2), ratio(udp.flows, all.flows), true),
            num(r3, sizeof(r3), ratio(oth.flows, all.flows), true));
    fprintf(md, "| Packets | %s | %s | %s |\n",
            num(r1, sizeof(r1), ratio(tcp.packets, all.packets), true),
            num(r2, sizeof(r2), ratio(udp.packets, all.packets), true),
            num(r3, sizeof(r3), ratio(oth.packets, all.packets), true));
    fprintf(md, "| Octets | %s | %s | %s |\n",
            num(r1, sizeof(r1), ratio(tcp.octets, all.octets), true),
            num(r2, sizeof(r2), ratio(udp.octets, all.octets), true),
            num(r3, sizeof(r3), ratio(oth.octets, all.octets), true));
}

static int write_cdf(FILE *md, FILE *csv, const fm_histset_t *s, int metric)
{
    static const int cls[3] = {FM_CLASS_ALL, FM_CLASS_TCP, FM_CLASS_UDP};
    fm_hist_bin_t *b[3];
    long n[3];
    double base = metric == FM_METRIC_SIZE ? 64 : 1;

    for (int c = 0; c < 3; c++) {
        n[c] = fm_hist_bins(fm_histset_cget(s, cls[c], FM_DIR_UNIFLOW, metric), &b[c]);
        if (n[c] < 0) {
            for (int k = 0; k < c; k++) {
                free(b[k]);
            }
            return (int)n[c];
        }
    }
    fprintf(md, "\n| Flows of %s up to (%s) | all: flows | packets | octets | tcp: flows | "
                "packets | octets | udp: flows | packets | octets |\n"
                "| -: | -: | -: | -: | -: | -: | -: | -: | -: | -: |\n",
            fm_metric_name(metric), metric == FM_METRIC_SIZE ? "bytes" : "packets");
    for (int j = 0; j < CDF_POINTS; j++) {
        double p = base * ldexp(1.0, j);
        fprintf(md, "| %.0f |", p);
        for (int c = 0; c < 3; c++) {
            for (int w = 0; w < 3; w++) {
                double v = cdf_at(b[c], (size_t)n[c], w, p);
                char num[32] = "";
                if (!isnan(v)) {
                    snprintf(num, sizeof(num), "%.4f", v);
                }
                /* A class without flows has no distribution: "-" in the table, empty in CSV. */
                fprintf(md, " %s |", *num ? num : "-");
                fprintf(csv, "%s,%s,%.0f,%s,%s\n", fm_metric_name(metric),
                        fm_class_name(cls[c]), p, w == 0 ? "flows" : w == 1 ? "packets" : "octets",
                        num);
            }
        }
        fputc('\n', md);
    }
    for (int c = 0; c < 3; c++) {
        free(b[c]);
    }
    return 0;
}

int fm__export_summary(const fm_export_req_t *req, const char *root, char *err, size_t errlen)
{
    char pmd[4096], pcsv[4096], pcdf[4096];
    FILE *md, *csv, *cdf;
    int rc = 0;

    snprintf(pmd, sizeof(pmd), "%s/summary.md", root);
    snprintf(pcsv, sizeof(pcsv), "%s/summary.csv", root);
    snprintf(pcdf, sizeof(pcdf), "%s/summary-cdf.csv", root);
    md = fopen(pmd, "w");
    csv = fopen(pcsv, "w");
    cdf = fopen(pcdf, "w");
    if (!md || !csv || !cdf) {
        rc = -errno;
        snprintf(err, errlen, "cannot write the summary in %s: %s", root, fm_strerror(rc));
    } else {
        write_totals(md, csv, req->hist);
        fprintf(cdf, "metric,class,up_to,share_of,percent\n");
        if ((rc = write_cdf(md, cdf, req->hist, FM_METRIC_LENGTH)) == 0) {
            rc = write_cdf(md, cdf, req->hist, FM_METRIC_SIZE);
        }
    }
    if (md && fclose(md) != 0 && rc == 0) {
        rc = FM_EIO;
    }
    if (csv && fclose(csv) != 0 && rc == 0) {
        rc = FM_EIO;
    }
    if (cdf && fclose(cdf) != 0 && rc == 0) {
        rc = FM_EIO;
    }
    if (rc < 0 && !err[0]) {
        snprintf(err, errlen, "writing the summary in %s failed", root);
    }
    return rc;
}
