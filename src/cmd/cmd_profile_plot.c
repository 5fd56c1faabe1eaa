/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix profile-plot: the charts of FlowTest ft-profiler's visualizer from a profile CSV
 * (START_TIME,END_TIME,...,PACKETS,BYTES,PACKETS_REV,BYTES_REV, times in ms; plain or gzip):
 * packets/s, bits/s, active flows and flow starts/ends per time bin, as PNG, SVG and/or PDF.
 *
 * Rules (see flowmix(1)): bins are [t0 + k·I, t0 + (k+1)·I) from the earliest start t0.  A
 * flow's packets and bytes (both directions) are spread evenly over its span [START, END] and
 * counted in each bin in proportion to the time the span overlaps it (a flow with START == END
 * counts wholly in its bin).  A flow is active in every bin its closed span [START, END +
 * inactive] meets.  Starts and ends count the flows whose START / END lies in the bin.
 *
 * Differences from the visualizer: it truncates times to whole seconds and shares a flow equally
 * among the seconds it touches, plots kpps/Mbit/s (2^20) and always adds 30 s of inactive
 * timeout to the cache occupancy; here times keep their milliseconds, rates are per second in
 * plain units and the inactive extension is an option (default 0).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "plot.h"
#include "util/err.h"
#include "util/mem.h"

int fm_cmd_profile_plot(int argc, char **argv);

#define MAX_BINS 50000000ULL
#define MAX_TIME (1LL << 53) /* |START_TIME|, |END_TIME| in ms: spans never overflow */
#define HEADER "START_TIME,END_TIME,L3_PROTO,L4_PROTO,SRC_PORT,DST_PORT,PACKETS,BYTES," \
               "PACKETS_REV,BYTES_REV"

typedef struct {
    int64_t start, end;     /* ms */
    double packets, bytes;  /* both directions */
} pflow_t;

typedef struct {
    int formats;
    int64_t interval_ms;
    int64_t inactive_ms;
    const char *out, *csv, *title, *in;
} pp_args_t;

/* The series, one value per bin. */
typedef struct {
    size_t nb;
    int64_t t0;
    double *pps, *bps, *active, *starts, *ends;
} series_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowmix profile-plot [-b SECONDS] [-i SECONDS] [-o OUT]\n"
            "                            [--format png,svg,pdf] [--csv FILE] [--title TEXT]\n"
            "                            PROFILE.csv[.gz]\n\n"
            "ft-profiler visualizer charts of a profile: OUTpackets, OUTbits, OUTflows and\n"
            "OUTstarts-ends (.png/.svg/.pdf).\n"
            "  -b, --interval S  bin width in seconds, ms resolution (default 1)\n"
            "  -i, --inactive S  count a flow as active S seconds past its end (default 0;\n"
            "                    ft-profiler's visualizer uses its inactive timeout, 30)\n"
            "  -o, --output OUT  directory (existing, or ending in /) or file name prefix\n"
            "                    (default .)\n"
            "  --format LIST     comma-separated png, svg, pdf (default png)\n"
            "  --csv FILE        also write the series per bin; - for stdout\n"
            "  --title TEXT      chart title prefix (default: the profile file name)\n");
}

/* Seconds with at most three decimals → ms; -1 if malformed or out of range. */
static int64_t parse_seconds(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= 0) || v > 1e9) {
        return FM_EINVAL;
    }
    return (int64_t)(v * 1000 + 0.5);
}

static int parse_args(int argc, char **argv, pp_args_t *a)
{
    static const struct option lo[] = {
        {"interval", required_argument, NULL, 'b'}, {"inactive", required_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},   {"format", required_argument, NULL, 'f'},
        {"csv", required_argument, NULL, 'c'},      {"title", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int c;

    *a = (pp_args_t){.formats = FM_PLOT_PNG, .interval_ms = 1000, .out = "."};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:i:o:h", lo, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'b': bad = (a->interval_ms = parse_seconds(optarg)) < 1; break;
        case 'i': bad = (a->inactive_ms = parse_seconds(optarg)) < 0; break;
        case 'o': a->out = optarg; break;
        case 'f': bad = (a->formats = fm_plot_parse_formats(optarg)) < 0; break;
        case 'c': a->csv = optarg; break;
        case 't': a->title = optarg; break;
        case 'h': usage(stdout); return 1;
        default: fm_cmd_bad_option("profile-plot", c, argv); return -1;
        }
        if (bad) {
            fm_cmd_usage_error("profile-plot", "invalid value for %s: '%s'",
                               c == 'b' ? "--interval (at least 0.001)" : c == 'i' ? "--inactive"
                                                                               : "--format",
                               optarg);
            return -1;
        }
    }
    if (optind != argc - 1) {
        fm_cmd_usage_error("profile-plot", optind < argc ? "one profile only" : "no profile");
        return -1;
    }
    a->in = argv[optind];
    return 0;
}

/* One data row: ten integers; START/END signed, counters unsigned.  0 or -1. */
static int parse_row(char *line, pflow_t *f)
{
    int64_t v[10];
    char *p = line, *end;
    for (int i = 0; i < 10; i++) {
        errno = 0;
        if (i >= 6 && *p == '-') {
            return FM_EFORMAT;
        }
        long long x = strtoll(p, &end, 10);
        if (end == p || errno || (*end != (i == 9 ? '\0' : ','))) {
            return FM_EFORMAT;
        }
        v[i] = x;
        p = end + (i < 9);
    }
    if (v[0] < -MAX_TIME || v[0] > MAX_TIME || v[1] < -MAX_TIME || v[1] > MAX_TIME) {
        return FM_EFORMAT;
    }
    *f = (pflow_t){.start = v[0], .end = v[1], .packets = (double)v[6] + (double)v[8],
                   .bytes = (double)v[7] + (double)v[9]};
    return f->end >= f->start ? 0 : FM_EFORMAT;
}

static void chomp(char *line)
{
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
        line[--len] = '\0';
    }
}

/* Read every flow; errors name file:line.  @return number of flows or -1. */
static long read_profile(const char *path, pflow_t **out)
{
    gzFile gz = strcmp(path, "-") == 0 ? gzdopen(0, "rb") : gzopen(path, "rb");
    char line[1024];
    size_t n = 0, cap = 0;
    unsigned long lineno = 0;
    pflow_t *flows = NULL;
    const char *why = NULL;

    if (!gz) {
        fprintf(stderr, "flowmix profile-plot: %s: %s\n", path, strerror(errno ? errno : ENOMEM));
        return FM_EFORMAT;
    }
    while (!why && gzgets(gz, line, sizeof(line))) {
        lineno++;
        if (!strchr(line, '\n') && !gzeof(gz)) {
            why = "line too long";
            break;
        }
        chomp(line);
        if (lineno == 1) {
            why = strcmp(line, HEADER) ? "expected the header " HEADER : NULL;
            continue;
        }
        if (line[0] == '\0' || line[0] == '#') {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            flows = fm_xreallocarray(flows, cap, sizeof(*flows));
        }
        if (parse_row(line, &flows[n]) < 0) {
            why = "expected ten integers, END_TIME >= START_TIME and counters >= 0";
        } else {
            n++;
        }
    }
    int zerr = Z_OK;
    const char *zmsg = gzerror(gz, &zerr);
    if (!why && zerr != Z_OK && zerr != Z_STREAM_END) {
        why = zmsg;
    } else if (!why && lineno == 0) {
        why = "empty file";
        lineno = 1;
    }
    if (why) {
        fprintf(stderr, "flowmix profile-plot: %s:%lu: %s\n", path, lineno, why);
        free(flows);
        gzclose(gz);
        return FM_EFORMAT;
    }
    gzclose(gz);
    *out = flows;
    return (long)n;
}

/* Spread v over [s, e] (ms) into bins of width w from t0: partial end bins directly in val,
 * whole bins in between through the difference array dif (prefix-summed later). */
static void spread(double *val, long double *dif, int64_t t0, int64_t w, int64_t s, int64_t e,
                   double v)
{
    size_t ks = (size_t)((s - t0) / w), ke = (size_t)((e - t0) / w);
    if (ks == ke) {
        val[ks] += v;
        return;
    }
    long double rate = (long double)v / (long double)(e - s);
    val[ks] += (double)(rate * (long double)(t0 + (int64_t)(ks + 1) * w - s));
    val[ke] += (double)(rate * (long double)(e - (t0 + (int64_t)ke * w)));
    dif[ks + 1] += rate * (long double)w;
    dif[ke] -= rate * (long double)w;
}

static int compute(const pflow_t *flows, size_t n, const pp_args_t *a, series_t *s)
{
    int64_t t0 = flows[0].start, t1 = flows[0].end + a->inactive_ms, w = a->interval_ms;
    for (size_t i = 1; i < n; i++) {
        t0 = flows[i].start < t0 ? flows[i].start : t0;
        t1 = flows[i].end + a->inactive_ms > t1 ? flows[i].end + a->inactive_ms : t1;
    }
    uint64_t nb = (uint64_t)(t1 - t0) / (uint64_t)w + 1;
    if (nb > MAX_BINS) {
        fprintf(stderr, "flowmix profile-plot: %s: %" PRIu64 " bins of %" PRId64 " ms over the "
                        "profile's span; at most %llu (raise --interval)\n",
                a->in, nb, w, MAX_BINS);
        return FM_ELIMIT;
    }
    *s = (series_t){.nb = nb, .t0 = t0};
    s->pps = fm_xcalloc(nb, sizeof(double));
    s->bps = fm_xcalloc(nb, sizeof(double));
    s->active = fm_xcalloc(nb + 1, sizeof(double));
    s->starts = fm_xcalloc(nb, sizeof(double));
    s->ends = fm_xcalloc(nb, sizeof(double));
    long double *dp = fm_xcalloc(nb + 1, sizeof(long double));
    long double *db = fm_xcalloc(nb + 1, sizeof(long double));
    for (size_t i = 0; i < n; i++) {
        const pflow_t *f = &flows[i];
        spread(s->pps, dp, t0, w, f->start, f->end, f->packets);
        spread(s->bps, db, t0, w, f->start, f->end, 8 * f->bytes);
        s->starts[(f->start - t0) / w] += 1;
        s->ends[(f->end - t0) / w] += 1;
        s->active[(f->start - t0) / w] += 1; /* difference array, summed below */
        s->active[(f->end + a->inactive_ms - t0) / w + 1] -= 1;
    }
    long double accp = 0, accb = 0, acca = 0;
    for (size_t k = 0; k < nb; k++) {
        accp += dp[k];
        accb += db[k];
        acca += s->active[k];
        s->pps[k] = (double)((s->pps[k] + accp) * 1000 / w);
        s->bps[k] = (double)((s->bps[k] + accb) * 1000 / w);
        s->active[k] = (double)acca;
    }
    free(dp);
    free(db);
    return 0;
}

static void series_fini(series_t *s)
{
    free(s->pps);
    free(s->bps);
    free(s->active);
    free(s->starts);
    free(s->ends);
}

static int write_csv(const char *path, const series_t *s, int64_t w)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        fprintf(stderr, "flowmix profile-plot: %s: %s\n", path, strerror(errno));
        return FM_EIO;
    }
    fputs("bin_start_ms,packets_per_s,bits_per_s,active_flows,flow_starts,flow_ends\n", f);
    for (size_t k = 0; k < s->nb; k++) {
        fprintf(f, "%" PRId64 ",%.17g,%.17g,%.0f,%.0f,%.0f\n", s->t0 + (int64_t)k * w, s->pps[k],
                s->bps[k], s->active[k], s->starts[k], s->ends[k]);
    }
    bool bad = fflush(f) != 0 || ferror(f);
    if (f != stdout) {
        bad |= fclose(f) != 0;
    }
    if (bad) {
        fprintf(stderr, "flowmix profile-plot: %s: write failed\n", path);
    }
    return bad ? FM_EIO : 0;
}

/* One chart: time (s) on x, one or two series. */
static int chart(const char *prefix, const char *name, const char *title, const char *ylabel,
                 const double *x, size_t n, const double *y1, const char *l1, const double *y2,
                 const char *l2, int formats)
{
    size_t len = strlen(prefix) + strlen(name) + 1;
    char *path = fm_xmalloc(len);
    fm_plot_t *p = fm_plot_new(title, "time (s)", ylabel, 0);
    int rc = fm_plot_add_series(p, l1, x, y1, n, FM_PLOT_LINE);

    if (rc >= 0 && y2) {
        rc = fm_plot_add_series(p, l2, x, y2, n, FM_PLOT_LINE | FM_PLOT_DASHED);
    }
    snprintf(path, len, "%s%s", prefix, name);
    if (rc >= 0) {
        rc = fm_plot_write(p, path, formats);
    }
    if (rc < 0) {
        fprintf(stderr, "flowmix profile-plot: writing %s: %s\n", path, fm_strerror(rc));
    }
    fm_plot_free(p);
    free(path);
    return rc < 0 ? rc : 0;
}

static int draw(const pp_args_t *a, const series_t *s)
{
    char *prefix = NULL, title[512], yl[64];
    const char *base = a->title ? a->title : a->in;
    int rc = fm_plot_out_prefix(a->out, &prefix);

    if (rc < 0) {
        fprintf(stderr, "flowmix profile-plot: %s: %s\n", a->out, fm_strerror(rc));
        return FM_EIO;
    }
    double *x = fm_xcalloc(s->nb, sizeof(double));
    for (size_t k = 0; k < s->nb; k++) {
        x[k] = (double)(s->t0 + (int64_t)k * a->interval_ms) / 1000.0;
    }
    snprintf(title, sizeof(title), "%s: packets", base);
    rc = chart(prefix, "packets", title, "packets/s", x, s->nb, s->pps, NULL, NULL, NULL,
               a->formats);
    snprintf(title, sizeof(title), "%s: bits", base);
    /* SI units on the axis: "Mbit/s" with 30, not "bits/s" with 3e+07. */
    double bmax = 0, *bits = fm_xcalloc(s->nb ? s->nb : 1, sizeof(double));
    for (size_t k = 0; k < s->nb; k++) {
        bmax = s->bps[k] > bmax ? s->bps[k] : bmax;
    }
    double div = fm_plot_si_unit(bmax, "bit/s", yl, sizeof(yl));
    for (size_t k = 0; k < s->nb; k++) {
        bits[k] = s->bps[k] / div;
    }
    rc |= chart(prefix, "bits", title, yl, x, s->nb, bits, NULL, NULL, NULL, a->formats);
    free(bits);
    snprintf(title, sizeof(title), "%s: active flows", base);
    rc |= chart(prefix, "flows", title, "active flows", x, s->nb, s->active, NULL, NULL, NULL,
                a->formats);
    snprintf(title, sizeof(title), "%s: flow starts and ends", base);
    snprintf(yl, sizeof(yl), "flows per %g s", (double)a->interval_ms / 1000.0);
    rc |= chart(prefix, "starts-ends", title, yl, x, s->nb, s->starts, "starts", s->ends, "ends",
                a->formats);
    free(x);
    free(prefix);
    return rc;
}

int fm_cmd_profile_plot(int argc, char **argv)
{
    pp_args_t a;
    pflow_t *flows = NULL;
    series_t s = {0};
    int rc;

    if ((rc = parse_args(argc, argv, &a)) != 0) {
        return rc > 0 ? 0 : 2;
    }
    long n = read_profile(a.in, &flows);
    if (n == 0) {
        fprintf(stderr, "flowmix profile-plot: %s: no flows\n", a.in);
    }
    if (n <= 0 || compute(flows, (size_t)n, &a, &s) < 0) {
        free(flows);
        return 1;
    }
    free(flows);
    rc = a.csv ? write_csv(a.csv, &s, a.interval_ms) : 0;
    if (rc == 0) {
        rc = draw(&a, &s);
        fm_plot_cleanup();
    }
    series_fini(&s);
    return rc < 0 ? 1 : 0;
}
