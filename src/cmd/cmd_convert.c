/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix convert: read flows in one format and write them in another (flow-models `convert`),
 * with flow-models record selection (--skip-in/--count-in, --filter-expr, --skip-out/
 * --count-out; DETAIL §1.3) applied across all inputs in order.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "filter.h"
#include "flowio.h"
#include "util/err.h"

#define BATCH 4096

int fm_cmd_convert(int argc, char **argv);

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowmix convert [-i FMT] [-o FMT] [-O OUT] [--filter-expr EXPR]\n"
            "                       [--skip-in N] [--count-in N] [--skip-out N] [--count-out N]"
            " FILE...\n\n"
            "Convert flow files.  Formats: csv_flow, pipe, nfcapd (input, needs nfdump), binary\n"
            "(a directory of columns), ftcsv (ft-profiler CSV); -i defaults to auto, -o to\n"
            "csv_flow, -O to '-' (stdout).  Directories given for text formats are read\n"
            "recursively in sorted order.  The filter is a Python-style expression over the\n"
            "flow-models field names, e.g. '(prot == 6) & (packets > 1)'.\n");
}

static int parse_count(const char *s, uint64_t *v)
{
    char *end;

    if (!s[0] || s[0] == '-') {
        return FM_EINVAL;
    }
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end) {
        return FM_EINVAL;
    }
    *v = x;
    return 0;
}

typedef struct {
    int in_fmt, out_fmt;
    const char *out;
    const char *expr;
    fm_select_t sel;
} convert_opts_t;

static int parse_args(int argc, char **argv, convert_opts_t *o)
{
    static const struct option opts[] = {
        {"in-format", required_argument, NULL, 'i'}, {"out-format", required_argument, NULL, 'o'},
        {"output", required_argument, NULL, 'O'},    {"filter-expr", required_argument, NULL, 'f'},
        {"filter", required_argument, NULL, 'f'},    {"skip-in", required_argument, NULL, 1},
        {"count-in", required_argument, NULL, 2},    {"skip-out", required_argument, NULL, 3},
        {"count-out", required_argument, NULL, 4},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, bad = 0;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "i:o:O:f:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'i': bad |= (o->in_fmt = fm_format_parse(optarg)) < 0; break;
        case 'o': bad |= (o->out_fmt = fm_format_parse(optarg)) <= 0; break;
        case 'O': o->out = optarg; break;
        case 'f': o->expr = optarg; break;
        case 1: bad |= parse_count(optarg, &o->sel.skip_in) < 0; break;
        case 2:
            bad |= parse_count(optarg, &o->sel.count_in) < 0;
            o->sel.has_count_in = true;
            break;
        case 3: bad |= parse_count(optarg, &o->sel.skip_out) < 0; break;
        case 4:
            bad |= parse_count(optarg, &o->sel.count_out) < 0;
            o->sel.has_count_out = true;
            break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
        if (bad) {
            fprintf(stderr, "flowmix convert: bad option value '%s'\n", optarg);
            return -1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "flowmix convert: no input files ('-' for stdin)\n");
        usage(stderr);
        return -1;
    }
    return 0;
}

/* Copy one input through the selection.  @return 1 to go on, 0 when selection says stop, <0. */
static int convert_one(const char *path, convert_opts_t *o, fm_writer_t *w, fm_flow_t *buf)
{
    fm_reader_t *r;
    long n;
    int rc = fm_reader_open(path, (fm_format_t)o->in_fmt, &r);

    if (rc < 0) {
        return rc;
    }
    rc = 1;
    while (rc == 1 && (n = fm_reader_read(r, buf, BATCH)) > 0) {
        size_t keep = 0;
        for (long i = 0; i < n; i++) {
            int s = fm_select_step(&o->sel, &buf[i]);
            if (s < 0) {
                rc = 0;
                break;
            }
            if (s > 0) {
                buf[keep++] = buf[i];
            }
        }
        int wrc = fm_writer_write(w, buf, keep);
        rc = wrc < 0 ? wrc : rc;
    }
    if (rc == 1 && n < 0) {
        rc = (int)n;
    }
    fm_reader_close(r);
    return rc;
}

int fm_cmd_convert(int argc, char **argv)
{
    convert_opts_t o = {.in_fmt = FM_FMT_AUTO, .out_fmt = FM_FMT_CSV_FLOW, .out = "-"};
    fm_filter_t *filter = NULL;
    fm_writer_t *w;
    char err[256];
    int rc = parse_args(argc, argv, &o);

    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    if (o.expr) {
        if (fm_filter_compile(o.expr, &filter, err, sizeof(err)) < 0) {
            fprintf(stderr, "flowmix convert: %s\n  %s\n", err, o.expr);
            return 2;
        }
        o.sel.filter = filter;
    }
    if (fm_writer_open(o.out, (fm_format_t)o.out_fmt, &w) < 0) {
        fm_filter_free(filter);
        return 1;
    }
    fm_flow_t *buf = calloc(BATCH, sizeof(*buf));
    rc = buf ? 1 : FM_ENOMEM;
    for (int i = optind; i < argc && rc == 1; i++) {
        rc = convert_one(argv[i], &o, w, buf);
    }
    int wrc = fm_writer_close(w);
    free(buf);
    fm_filter_free(filter);
    if (rc < 0 || wrc < 0) {
        fprintf(stderr, "flowmix convert: %s\n", fm_strerror(rc < 0 ? rc : wrc));
        return 1;
    }
    return 0;
}
