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
#include <unistd.h>

#include "cmd/cmd.h"
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
            "                    [--uniflow|--biflow] [-O OUT] FILE...\n\n"
            "Histogram of flow length, size or duration (flow-models hist, csv_hist output).\n"
            "  -i, --in-format F   csv_flow, pipe, nfcapd, binary, ftcsv, auto (default auto)\n"
            "  -x, --x-value X     length (packets), size (octets), duration (ms)"
            " (default length)\n"
            "  -b, --bin-exp N     0: one bin per value (default); N > 0: exact bins below 2^N,\n"
            "                      2^(N-1) bins per octave above\n"
            "  -c, --class C       only flows of class all, tcp, udp or other (default all)\n"
            "      --uniflow       each direction of a biflow record is a flow (default)\n"
            "      --biflow        both directions of a biflow record are one flow\n"
            "  -O, --output PATH   output file, - for stdout (default -)\n");
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

/* @return 0, or the reader's negative code (it has logged file and line). */
static int hist_file(hist_run_t *run, const char *path, fm_format_t fmt)
{
    fm_reader_t *r;
    fm_flow_t f;
    int rc = fm_reader_open(path, fmt, &r);
    if (rc < 0) {
        return rc;
    }
    while ((rc = fm_reader_next(r, &f)) == 1) {
        add_flow(run, &f);
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

static int parse_args(int argc, char **argv, hist_run_t *run, unsigned *bexp, int *fmt,
                      const char **out)
{
    static const struct option opts[] = {
        {"in-format", required_argument, NULL, 'i'}, {"x-value", required_argument, NULL, 'x'},
        {"bin-exp", required_argument, NULL, 'b'},   {"class", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'O'},    {"uniflow", no_argument, NULL, 'u'},
        {"biflow", no_argument, NULL, 'B'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    char *end;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "i:x:b:c:O:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'i':
            if ((*fmt = fm_format_parse(optarg)) < 0) {
                fprintf(stderr, "flowmix hist: unknown format '%s'\n", optarg);
                return 2;
            }
            break;
        case 'x':
            if (fm_metric_parse(optarg) < 0) {
                fprintf(stderr, "flowmix hist: -x must be length, size or duration, not '%s'\n",
                        optarg);
                return 2;
            }
            run->metric = (fm_metric_t)fm_metric_parse(optarg);
            break;
        case 'b': {
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (end == optarg || *end || errno || v > 63 || optarg[0] == '-') {
                fprintf(stderr, "flowmix hist: -b must be an integer from 0 to 63\n");
                return 2;
            }
            *bexp = (unsigned)v;
            break;
        }
        case 'c':
            if ((run->cls = fm_class_parse(optarg)) < 0) {
                fprintf(stderr, "flowmix hist: unknown class '%s'\n", optarg);
                return 2;
            }
            break;
        case 'O':
            *out = optarg;
            break;
        case 'u':
        case 'B':
            run->dir = opt == 'B' ? FM_DIR_BIFLOW : FM_DIR_UNIFLOW;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    return -1;
}

int fm_cmd_hist(int argc, char **argv)
{
    hist_run_t run = {.metric = FM_METRIC_LENGTH, .dir = FM_DIR_UNIFLOW, .cls = FM_CLASS_ALL};
    unsigned bexp = 0; /* flow-models' default */
    int fmt = FM_FMT_AUTO, rc;
    const char *out = "-";

    if ((rc = parse_args(argc, argv, &run, &bexp, &fmt, &out)) >= 0) {
        return rc;
    }
    if ((rc = fm_hist_new(bexp, &run.h)) < 0) {
        fprintf(stderr, "flowmix hist: %s\n", fm_strerror(rc));
        return 1;
    }
    for (int i = optind; i < argc && rc == 0; i++) {
        rc = hist_file(&run, argv[i], (fm_format_t)fmt);
    }
    if (rc == 0 && run.negative) {
        fprintf(stderr, "flowmix hist: %" PRIu64 " flows end before they start; their duration"
                        " is taken as 0\n", run.negative);
    }
    if (rc == 0 && fm_hist_overflows(run.h)) {
        fprintf(stderr, "flowmix hist: %" PRIu64 " sums exceeded 2^64-1 and were capped\n",
                fm_hist_overflows(run.h));
    }
    if (rc == 0 && write_output(run.h, out) < 0) {
        rc = -1;
    }
    fm_hist_free(run.h);
    return rc == 0 ? 0 : 1;
}
