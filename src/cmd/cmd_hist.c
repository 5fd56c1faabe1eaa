/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `flowmix hist`: a histogram of flow length, size or duration over flow files, written as
 * flow-models' csv_hist (FLOW-MODELS §4).  The binning, sums and output are the daemon's own
 * histogram module, so `flowmix hist -x length -b 12` gives the bytes flow-models `hist` gives.
 *
 * Each record read is one flow, as flow-models counts it (also one without packets, whose length
 * is 0).  For biflow inputs (ftcsv) the reverse direction, when it has packets, is another flow
 * of its own (--uniflow, the default) or is added to the forward one (--biflow).
 * Durations follow flow-models: 0 for a one-packet flow, else last - first in ms.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "cmd/hist_ext.h"
#include "filter.h"
#include "flowio.h"
#include "hist.h"
#include "util/err.h"

int fm_cmd_hist(int argc, char **argv);

typedef struct {
    fm_hist_t *h;
    fm_xhist_t *xh;       /* instead of h for -x rate and -c columns */
    bool rate_x;
    fm_metric_t metric;
    fm_dir_t dir;
    int cls;              /* fm_class_t, or -1 for every flow */
    uint64_t flows;
    uint64_t negative;    /* records ending before they start: duration taken as 0 */
    bool nomem;
} hist_run_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowmix hist [-i FORMAT] [-o csv_hist|none] [-x length|size|duration|rate]\n"
            "                    [-b N] [-c duration|rate|aggs]... [--class CLASS]\n"
            "                    [--filter-expr EXPR] [--skip-in N] [--count-in N]\n"
            "                    [--skip-out N] [--count-out N] [--uniflow|--biflow]\n"
            "                    [-O OUT] FILE...\n\n"
            "Histogram of flow length, size, duration or rate (flow-models hist, csv_hist).\n"
            "  -i, --in-format F   csv_flow, pipe, nfcapd, binary, ftcsv, auto (default auto)\n"
            "  -o, --out-format F  csv_hist (default) or none (read and count only)\n"
            "  -x, --x-value X     length (packets), size (octets), duration (ms), rate (bit/s)\n"
            "                      (default length)\n"
            "  -b, --bin-exp N     0: one bin per value (default); N > 0: exact bins below 2^N,\n"
            "                      2^(N-1) bins per octave above\n"
            "  -c, --additional-columns C\n"
            "                      also sum duration, rate or aggs per bin (repeatable)\n"
            "      --class C       only flows of class all, tcp, udp or other (default all)\n"
            "  -f, --filter-expr E only records for which the Python-style expression over the\n"
            "                      flow-models fields is true, e.g. 'prot == 6' (alias --filter)\n"
            "      --skip-in N, --count-in N, --skip-out N, --count-out N\n"
            "                      flow-models record selection, before and after the filter\n"
            "      --uniflow       each direction of a biflow record is a flow (default)\n"
            "      --biflow        both directions of a biflow record are one flow\n"
            "  -O, --output PATH   output file, - for stdout (default -)\n"
            "FILE may be '-' (stdin, text formats) or a directory (its files, in sorted order).\n");
}

/* flow-models duration: 0 for one packet, else last - first (a record ending before it starts
 * would be negative there; it is counted and binned as 0 here). */
static uint64_t duration(hist_run_t *run, uint64_t first, uint64_t last, uint64_t packets)
{
    if (packets == 1) {
        return 0;
    }
    if (last < first) {
        run->negative++;
        return 0;
    }
    return last - first;
}

static void add(hist_run_t *run, uint64_t packets, uint64_t octets, uint64_t first,
                uint64_t last, uint64_t aggs)
{
    uint64_t d = run->metric == FM_METRIC_DURATION || run->xh
                     ? duration(run, first, last, packets) : 0;
    uint64_t x = run->metric == FM_METRIC_LENGTH ? packets
                 : run->metric == FM_METRIC_SIZE ? octets
                                                 : d;
    if (!run->xh) {
        fm_hist_add(run->h, x, packets, octets);
    } else if (fm_xhist_add(run->xh, x, packets, octets, d, aggs) < 0) {
        run->nomem = true;
    }
    run->flows++;
}

static void add_flow(hist_run_t *run, const fm_flow_t *f)
{
    if (run->cls > FM_CLASS_ALL && fm_flow_class(f->proto) != (fm_class_t)run->cls) {
        return;
    }
    if (f->rev_packets == 0) {
        add(run, f->packets, f->octets, f->first_ms, f->last_ms, f->records);
    } else if (run->dir == FM_DIR_UNIFLOW) {
        add(run, f->packets, f->octets, f->first_ms, f->last_ms, f->records);
        add(run, f->rev_packets, f->rev_octets, f->rev_first_ms, f->rev_last_ms, 0);
    } else {
        uint64_t first, last;
        fm_flow_span(f, &first, &last);
        add(run, f->packets + f->rev_packets, f->octets + f->rev_octets, first, last,
            f->records);
    }
}

#define BATCH 1024

/* One input through the selection.  @return 1 to go on, 0 when the selection says stop, or the
 * reader's negative code (it has logged file and line). */
static int hist_file(hist_run_t *run, fm_select_t *sel, const char *path, fm_format_t fmt,
                     fm_flow_t *buf)
{
    fm_reader_t *r;
    long n = 0;
    int rc = fm_reader_open(path, fmt, &r);
    if (rc < 0) {
        return rc;
    }
    rc = 1;
    while (rc == 1 && (n = fm_reader_read(r, buf, BATCH)) > 0) {
        for (long i = 0; i < n; i++) {
            int keep = fm_select_step(sel, &buf[i]);
            if (keep < 0) {
                rc = 0;
                break;
            }
            if (keep > 0) {
                add_flow(run, &buf[i]);
            }
        }
    }
    if (rc == 1 && n < 0) {
        rc = (int)n;
    }
    fm_reader_close(r);
    return rc;
}

#define COL_BATCH 4096

/* The fields a binary input is read for: a histogram needs no more than these columns. */
static uint32_t needed_fields(const hist_run_t *run, const fm_select_t *sel)
{
    uint32_t m = 1u << FM_FIELD_PACKETS | 1u << FM_FIELD_OCTETS;
    if (run->cls > FM_CLASS_ALL) {
        m |= 1u << FM_FIELD_PROT;
    }
    if (run->metric == FM_METRIC_DURATION || run->xh) {
        m |= 1u << FM_FIELD_FIRST | 1u << FM_FIELD_FIRST_MS | 1u << FM_FIELD_LAST |
             1u << FM_FIELD_LAST_MS;
    }
    if (run->xh) {
        m |= 1u << FM_FIELD_AGGS;
    }
    return m | (sel->filter ? fm_filter_fields(sel->filter) : 0);
}

/* Record i of a column batch, as hist_file's loop takes a flow: selection, class, add. */
static int cols_step(hist_run_t *run, fm_select_t *sel, const uint64_t *const c[],
                     uint32_t fields, size_t i)
{
    uint64_t t[FM_FIELD_COUNT];
    for (int f = 0; f < FM_FIELD_COUNT; f++) {
        t[f] = fields >> f & 1u ? c[f][i] : 0;
    }
    int keep = fm_select_step_tuple(sel, t);
    if (keep <= 0) {
        return keep;
    }
    if (run->cls <= FM_CLASS_ALL || (int)fm_flow_class((uint8_t)t[FM_FIELD_PROT]) == run->cls) {
        add(run, t[FM_FIELD_PACKETS], t[FM_FIELD_OCTETS],
            t[FM_FIELD_FIRST] * 1000 + t[FM_FIELD_FIRST_MS],
            t[FM_FIELD_LAST] * 1000 + t[FM_FIELD_LAST_MS], t[FM_FIELD_AGGS]);
    }
    return 1;
}

/* Binary input read column by column (only needed_fields), the fast path of issue 22: the same
 * selection and sums as hist_file, without building a flow record per row.  @return as
 * hist_file. */
static int hist_cols(hist_run_t *run, fm_select_t *sel, fm_colreader_t *cr, uint32_t fields,
                     uint64_t *store)
{
    uint64_t *scratch[FM_FIELD_COUNT] = {NULL};
    const uint64_t *c[FM_FIELD_COUNT] = {NULL};
    bool plain = !sel->filter && !sel->skip_in && !sel->has_count_in && !sel->skip_out &&
                 !sel->has_count_out && run->cls <= FM_CLASS_ALL && !run->xh &&
                 run->metric != FM_METRIC_DURATION;
    long n;

    for (int f = 0, k = 0; f < FM_FIELD_COUNT; f++) {
        scratch[f] = fields >> f & 1u ? store + (size_t)k++ * COL_BATCH : NULL;
    }
    while ((n = fm_colreader_read(cr, scratch, c, COL_BATCH)) > 0 && !run->nomem) {
        if (plain) {
            const uint64_t *x = run->metric == FM_METRIC_LENGTH ? c[FM_FIELD_PACKETS]
                                                                : c[FM_FIELD_OCTETS];
            fm_hist_add_n(run->h, x, c[FM_FIELD_PACKETS], c[FM_FIELD_OCTETS], (size_t)n);
            run->flows += (uint64_t)n;
            continue;
        }
        for (long i = 0; i < n; i++) {
            if (cols_step(run, sel, c, fields, (size_t)i) < 0) {
                return 0;
            }
        }
    }
    return n < 0 ? (int)n : 1;
}

/* One input: column-wise when it is a binary directory, else through the flow reader. */
static int hist_input(hist_run_t *run, fm_select_t *sel, const char *path, fm_format_t fmt,
                      fm_flow_t *buf)
{
    uint32_t fields = needed_fields(run, sel);
    fm_colreader_t *cr;
    int rc = fm_colreader_open(path, fmt, fields, &cr);
    if (rc <= 0) {
        return rc < 0 ? rc : hist_file(run, sel, path, fmt, buf);
    }
    uint64_t *store = malloc((size_t)__builtin_popcount(fields) * COL_BATCH * sizeof(uint64_t));
    rc = store ? hist_cols(run, sel, cr, fields, store) : FM_ENOMEM;
    if (!store) {
        fprintf(stderr, "flowmix hist: %s: %s\n", path, fm_strerror(rc));
    }
    free(store);
    fm_colreader_close(cr);
    return rc;
}

static int write_output(const hist_run_t *run, const char *path)
{
    FILE *out = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!out) {
        fprintf(stderr, "flowmix hist: cannot create %s: %s\n", path, strerror(errno));
        return FM_EIO;
    }
    int rc = run->xh ? fm_xhist_write_csv(run->xh, out) : fm_hist_write_csv(run->h, out);
    if ((out == stdout ? fflush(out) : fclose(out)) != 0 && rc == 0) {
        rc = FM_EIO;
    }
    if (rc < 0) {
        fprintf(stderr, "flowmix hist: writing %s: %s\n", path, fm_strerror(rc));
        return FM_EIO;
    }
    return 0;
}

typedef struct {
    unsigned bexp;
    fm_cmdio_t io;
    fm_xcol_t cols[FM_XHIST_MAX_COLS];
    int ncols;
} hist_opts_t;

/* -x: the daemon's metrics plus flow-models' rate. */
static int parse_x(const char *text, hist_run_t *run)
{
    if (strcmp(text, "rate") == 0) {
        run->rate_x = true;
        run->metric = FM_METRIC_DURATION;
        return 0;
    }
    int m = fm_metric_parse(text);
    if (m < 0) {
        return fm_cmd_usage_error("hist", "-x %s: not length, size, duration or rate", text);
    }
    run->rate_x = false;
    run->metric = (fm_metric_t)m;
    return 0;
}

/* @return -1 to go on, else the exit status (0 after --help, 2 for a usage error). */
static int parse_args(int argc, char **argv, hist_run_t *run, hist_opts_t *o)
{
    static const struct option opts[] = {
        {"x-value", required_argument, NULL, 'x'},
        {"bin-exp", required_argument, NULL, 'b'},
        {"additional-columns", required_argument, NULL, 'c'},
        {"class", required_argument, NULL, 'C'},
        {"uniflow", no_argument, NULL, 'u'},
        {"biflow", no_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},
        FM_CMDIO_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    unsigned long long b = 0;
    int opt, col;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":i:o:x:b:c:O:f:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'x':
            if (parse_x(optarg, run) != 0) {
                return 2;
            }
            break;
        case 'b':
            if (fm_cmdio_count(optarg, &b) < 0 || b > 63) {
                return fm_cmd_usage_error("hist", "-b %s: not a bin exponent 0..63", optarg);
            }
            o->bexp = (unsigned)b;
            break;
        case 'c':
            if ((col = fm_xcol_parse(optarg)) < 0) {
                return fm_cmd_usage_error("hist", "-c %s: additional columns are duration, rate"
                                                  " and aggs (the class filter is --class)",
                                          optarg);
            }
            if (o->ncols == FM_XHIST_MAX_COLS) {
                return fm_cmd_usage_error("hist", "more than %d -c columns", FM_XHIST_MAX_COLS);
            }
            o->cols[o->ncols++] = (fm_xcol_t)col;
            break;
        case 'C':
            if ((run->cls = fm_class_parse(optarg)) < 0) {
                return fm_cmd_usage_error("hist", "--class %s: not all, tcp, udp or other",
                                          optarg);
            }
            break;
        case 'u': run->dir = FM_DIR_UNIFLOW; break;
        case 'B': run->dir = FM_DIR_BIFLOW; break;
        case 'h': usage(stdout); return 0;
        case '?':
        case ':': return fm_cmd_bad_option("hist", opt, argv);
        default:
            if (fm_cmdio_option(&o->io, opt, optarg, "csv_hist") < 0) {
                return 2;
            }
            break;
        }
    }
    if (optind >= argc) {
        return fm_cmd_usage_error("hist", "no input files ('-' for stdin)");
    }
    return fm_cmdio_finish(&o->io) < 0 ? 2 : -1;
}

int fm_cmd_hist(int argc, char **argv)
{
    hist_run_t run = {.metric = FM_METRIC_LENGTH, .dir = FM_DIR_UNIFLOW, .cls = FM_CLASS_ALL};
    hist_opts_t o = {.bexp = 0 /* flow-models' default */};
    fm_flow_t *buf = NULL;
    int rc, status = 1;

    fm_cmdio_init(&o.io, "hist");
    o.io.in_fmt = FM_FMT_AUTO;
    o.io.out_fmt = FM_FMT_AUTO; /* csv_hist */
    if ((rc = parse_args(argc, argv, &run, &o)) >= 0) {
        fm_cmdio_free(&o.io);
        return rc;
    }
    rc = run.rate_x || o.ncols ? fm_xhist_new(o.bexp, run.rate_x, o.cols, o.ncols, &run.xh)
                               : fm_hist_new(o.bexp, &run.h);
    if (rc < 0 || !(buf = calloc(BATCH, sizeof(*buf)))) {
        fprintf(stderr, "flowmix hist: %s\n", fm_strerror(rc < 0 ? rc : FM_ENOMEM));
        goto out;
    }
    rc = 1;
    for (int i = optind; i < argc && rc == 1 && !run.nomem; i++) {
        rc = hist_input(&run, &o.io.sel, argv[i], (fm_format_t)o.io.in_fmt, buf);
    }
    if (rc < 0) {
        goto out; /* the reader has said which file and line */
    }
    if (run.nomem) {
        fprintf(stderr, "flowmix hist: %s\n", fm_strerror(FM_ENOMEM));
        goto out;
    }
    if (run.negative) {
        fprintf(stderr, "flowmix hist: %" PRIu64 " flows end before they start; their duration"
                        " is taken as 0\n", run.negative);
    }
    if (run.h && fm_hist_overflows(run.h)) {
        fprintf(stderr, "flowmix hist: %" PRIu64 " sums exceeded 2^64-1 and were capped\n",
                fm_hist_overflows(run.h));
    }
    status = o.io.out_fmt == FM_CMDIO_OUT_NONE ? 0 : write_output(&run, o.io.out) < 0 ? 1 : 0;
out:
    free(buf);
    fm_hist_free(run.h);
    fm_xhist_free(run.xh);
    fm_cmdio_free(&o.io);
    return status;
}
