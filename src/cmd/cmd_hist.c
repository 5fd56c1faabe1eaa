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
#include "filter.h"
#include "flowio.h"
#include "hist.h"
#include "util/err.h"

int fm_cmd_hist(int argc, char **argv);

typedef struct {
    fm_hist_t *h;
    fm_metric_t metric;
    fm_dir_t dir;
    int cls;              /* fm_class_t, or -1 for every flow */
    uint64_t flows;
    uint64_t negative;    /* records ending before they start: duration taken as 0 */
} hist_run_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowmix hist [-i FORMAT] [-x length|size|duration] [-b N] [-c CLASS]\n"
            "                    [--filter-expr EXPR] [--skip-in N] [--count-in N]\n"
            "                    [--skip-out N] [--count-out N] [--uniflow|--biflow]\n"
            "                    [-O OUT] FILE...\n\n"
            "Histogram of flow length, size or duration (flow-models hist, csv_hist output).\n"
            "  -i, --in-format F   csv_flow, pipe, nfcapd, binary, ftcsv, auto (default auto)\n"
            "  -x, --x-value X     length (packets), size (octets), duration (ms)"
            " (default length)\n"
            "  -b, --bin-exp N     0: one bin per value (default); N > 0: exact bins below 2^N,\n"
            "                      2^(N-1) bins per octave above\n"
            "  -c, --class C       only flows of class all, tcp, udp or other (default all)\n"
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
                uint64_t last)
{
    uint64_t x = run->metric == FM_METRIC_LENGTH ? packets
                 : run->metric == FM_METRIC_SIZE ? octets
                                                 : duration(run, first, last, packets);
    fm_hist_add(run->h, x, packets, octets);
    run->flows++;
}

static void add_flow(hist_run_t *run, const fm_flow_t *f)
{
    if (run->cls > FM_CLASS_ALL && fm_flow_class(f->proto) != (fm_class_t)run->cls) {
        return;
    }
    if (f->rev_packets == 0) {
        add(run, f->packets, f->octets, f->first_ms, f->last_ms);
    } else if (run->dir == FM_DIR_UNIFLOW) {
        add(run, f->packets, f->octets, f->first_ms, f->last_ms);
        add(run, f->rev_packets, f->rev_octets, f->rev_first_ms, f->rev_last_ms);
    } else {
        uint64_t first, last;
        fm_flow_span(f, &first, &last);
        add(run, f->packets + f->rev_packets, f->octets + f->rev_octets, first, last);
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

static int write_output(const fm_hist_t *h, const char *path)
{
    FILE *out = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!out) {
        fprintf(stderr, "flowmix hist: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = fm_hist_write_csv(h, out);
    if ((out == stdout ? fflush(out) : fclose(out)) != 0 && rc == 0) {
        rc = FM_EIO;
    }
    if (rc < 0) {
        fprintf(stderr, "flowmix hist: writing %s: %s\n", path, fm_strerror(rc));
        return -1;
    }
    return 0;
}

typedef struct {
    unsigned bexp;
    int fmt;
    const char *out;
    const char *expr;
    fm_select_t sel;
} hist_opts_t;

static int parse_count(const char *text, uint64_t *v)
{
    char *end;
    errno = 0;
    *v = strtoull(text, &end, 10);
    return end == text || *end || errno || text[0] == '-' ? -1 : 0;
}

/* @return -1 to go on, else the exit status (0 after --help, 2 for a usage error). */
static int parse_args(int argc, char **argv, hist_run_t *run, hist_opts_t *o)
{
    static const struct option opts[] = {
        {"in-format", required_argument, NULL, 'i'}, {"x-value", required_argument, NULL, 'x'},
        {"bin-exp", required_argument, NULL, 'b'},   {"class", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'O'},    {"uniflow", no_argument, NULL, 'u'},
        {"biflow", no_argument, NULL, 'B'},          {"filter-expr", required_argument, NULL, 'f'},
        {"filter", required_argument, NULL, 'f'},    {"skip-in", required_argument, NULL, 1},
        {"count-in", required_argument, NULL, 2},    {"skip-out", required_argument, NULL, 3},
        {"count-out", required_argument, NULL, 4},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t b = 0;
    int opt, bad = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "i:x:b:c:O:f:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'i': bad = (o->fmt = fm_format_parse(optarg)) < 0; break;
        case 'x':
            bad = fm_metric_parse(optarg) < 0;
            run->metric = bad ? run->metric : (fm_metric_t)fm_metric_parse(optarg);
            break;
        case 'b':
            bad = parse_count(optarg, &b) < 0 || b > 63;
            o->bexp = (unsigned)b;
            break;
        case 'c': bad = (run->cls = fm_class_parse(optarg)) < 0; break;
        case 'O': o->out = optarg; break;
        case 'u': run->dir = FM_DIR_UNIFLOW; break;
        case 'B': run->dir = FM_DIR_BIFLOW; break;
        case 'f': o->expr = optarg; break;
        case 1: bad = parse_count(optarg, &o->sel.skip_in) < 0; break;
        case 2: bad = parse_count(optarg, &o->sel.count_in) < 0, o->sel.has_count_in = true; break;
        case 3: bad = parse_count(optarg, &o->sel.skip_out) < 0; break;
        case 4:
            bad = parse_count(optarg, &o->sel.count_out) < 0, o->sel.has_count_out = true;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (bad) {
            fprintf(stderr, "flowmix hist: bad option value '%s'\n", optarg);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "flowmix hist: no input files ('-' for stdin)\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

int fm_cmd_hist(int argc, char **argv)
{
    hist_run_t run = {.metric = FM_METRIC_LENGTH, .dir = FM_DIR_UNIFLOW, .cls = FM_CLASS_ALL};
    hist_opts_t o = {.bexp = 0 /* flow-models' default */, .fmt = FM_FMT_AUTO, .out = "-"};
    fm_filter_t *filter = NULL;
    fm_flow_t *buf = NULL;
    char err[256];
    int rc = parse_args(argc, argv, &run, &o), status = 1;

    if (rc >= 0) {
        return rc;
    }
    if (o.expr) {
        if (fm_filter_compile(o.expr, &filter, err, sizeof(err)) < 0) {
            fprintf(stderr, "flowmix hist: %s\n  %s\n", err, o.expr);
            return 2;
        }
        o.sel.filter = filter;
    }
    if ((rc = fm_hist_new(o.bexp, &run.h)) < 0 || !(buf = calloc(BATCH, sizeof(*buf)))) {
        fprintf(stderr, "flowmix hist: %s\n", fm_strerror(rc < 0 ? rc : FM_ENOMEM));
        goto out;
    }
    rc = 1;
    for (int i = optind; i < argc && rc == 1; i++) {
        rc = hist_file(&run, &o.sel, argv[i], (fm_format_t)o.fmt, buf);
    }
    if (rc < 0) {
        goto out; /* the reader has said which file and line */
    }
    if (run.negative) {
        fprintf(stderr, "flowmix hist: %" PRIu64 " flows end before they start; their duration"
                        " is taken as 0\n", run.negative);
    }
    if (fm_hist_overflows(run.h)) {
        fprintf(stderr, "flowmix hist: %" PRIu64 " sums exceeded 2^64-1 and were capped\n",
                fm_hist_overflows(run.h));
    }
    status = write_output(run.h, o.out) < 0 ? 1 : 0;
out:
    free(buf);
    fm_hist_free(run.h);
    fm_filter_free(filter);
    return status;
}
