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
#include "cmd/cmdio.h"
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
            "csv_flow (none: read, select and count only), -O to '-' (stdout).  Directories\n"
            "given for text formats are read recursively in sorted order.  The filter is a\n"
            "Python-style expression over the flow-models field names, e.g.\n"
            "'(prot == 6) & (dp in (80, 443))'.\n");
}

/* @return -1 to go on, else the exit status (0 after --help, 2 for a usage error). */
static int parse_args(int argc, char **argv, fm_cmdio_t *io)
{
    static const struct option opts[] = {
        FM_CMDIO_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":i:o:O:f:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h': usage(stdout); return 0;
        case '?':
        case ':': return fm_cmd_bad_option("convert", opt, argv);
        default:
            if (fm_cmdio_option(io, opt, optarg, NULL) < 0) {
                return 2;
            }
            break;
        }
    }
    if (optind >= argc) {
        return fm_cmd_usage_error("convert", "no input files ('-' for stdin)");
    }
    return fm_cmdio_finish(io) < 0 ? 2 : -1;
}

/* Copy one input through the selection.  @return 1 to go on, 0 when selection says stop, <0. */
static int convert_one(const char *path, fm_cmdio_t *o, fm_writer_t *w, fm_flow_t *buf)
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
        int wrc = w ? fm_writer_write(w, buf, keep) : 0; /* no writer: -o none */
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
    fm_cmdio_t o;
    fm_writer_t *w = NULL;
    int rc;

    fm_cmdio_init(&o, "convert");
    o.in_fmt = FM_FMT_AUTO;
    if ((rc = parse_args(argc, argv, &o)) >= 0) {
        fm_cmdio_free(&o);
        return rc;
    }
    if (o.out_fmt != FM_CMDIO_OUT_NONE && fm_writer_open(o.out, (fm_format_t)o.out_fmt, &w) < 0) {
        fm_cmdio_free(&o);
        return 1; /* the writer has said why */
    }
    fm_flow_t *buf = calloc(BATCH, sizeof(*buf));
    rc = buf ? 1 : FM_ENOMEM;
    for (int i = optind; i < argc && rc == 1; i++) {
        rc = convert_one(argv[i], &o, w, buf);
    }
    int wrc = w ? fm_writer_close(w) : 0;
    free(buf);
    fm_cmdio_free(&o);
    if (rc == FM_ENOMEM) {
        fprintf(stderr, "flowmix convert: %s\n", fm_strerror(rc));
    }
    return rc < 0 || wrc < 0 ? 1 : 0; /* the reader and the writer have said which file */
}
