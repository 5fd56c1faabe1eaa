/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `flowmix merge`: re-join flow records split by the exporter's active timeout, as flow-models
 * `merge` does (FLOW-MODELS §3), by running the daemon's flow cache over files.  Uniflow by default
 * so a flow-models command line gives flow-models' result; --biflow also pairs directions.
 *
 * Deliberate differences from flow-models (documented in flowmix(1)): time arithmetic is in whole
 * milliseconds (the "too short" test included, flow-models uses whole seconds there, and its
 * millisecond borrow is wrong for fractional -I); overlapping records of one key are counted as
 * conflicts and both kept; a record arriving before its cached continuation is merged, not lost.
 * Memory is bounded (-m): when full, the flow closest to expiry is written early.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "flowio.h"
#include "log.h"
#include "util/err.h"
#include "util/time.h"

int fm_cmd_merge(int argc, char **argv);

#define READ_BATCH 64

typedef struct merge_out {
    fm_writer_t *w;
    int rc;
} merge_out_t;

static void write_flows(void *ctx, const fm_flow_t *flows, size_t n)
{
    merge_out_t *o = ctx;
    if (o->rc == 0 && o->w) { /* no writer: -o none */
        o->rc = fm_writer_write(o->w, flows, n);
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowmix merge [-I INACTIVE] [-A ACTIVE] [-i FORMAT] [-o FORMAT] [-O OUT]\n"
            "                     [--filter-expr EXPR] [--skip-in N] [--count-in N]\n"
            "                     [--skip-out N] [--count-out N] [-m MiB] [--uniflow|--biflow]\n"
            "                     FILE...\n\n"
            "Re-join flow records split by the active timeout (flow-models merge).\n"
            "  -I, --inactive-timeout S  inactive timeout of the exporter (default 15)\n"
            "  -A, --active-timeout S    active timeout of the exporter (default 300)\n"
            "  -i, --in-format F         csv_flow, pipe, nfcapd, binary, ftcsv (default nfcapd)\n"
            "  -o, --out-format F        csv_flow, binary, pipe, ftcsv or none (default csv_flow)\n"
            "  -O, --output PATH         output file or directory, - for stdout (default -)\n"
            "  -f, --filter-expr EXPR    merge only the input records the expression selects\n"
            "      --skip-in N, --count-in N, --skip-out N, --count-out N\n"
            "                            flow-models input record selection (before merging)\n"
            "  -m, --memory MiB          cache memory limit (default 256)\n"
            "      --uniflow             each direction is its own flow (default, as flow-models)\n"
            "      --biflow              also pair the two directions into biflows\n");
}

/* Feed one input file through the cache (after the record selection).
 * @return 0 at its end, 1 when the selection wants no more records, or the reader's error. */
static int merge_file(fm_cache_t *c, const char *path, fm_cmdio_t *io, uint64_t *nrec)
{
    fm_reader_t *r;
    fm_flow_t buf[READ_BATCH];
    size_t n = 0;
    int rc = fm_reader_open(path, (fm_format_t)io->in_fmt, &r);

    if (rc < 0) {
        return rc;
    }
    while ((rc = fm_reader_next(r, &buf[n])) == 1) {
        int keep = fm_select_step(&io->sel, &buf[n]);
        if (keep < 0) {
            rc = 1; /* the selection has taken all it wants */
            break;
        }
        if (keep > 0 && ++n == READ_BATCH) {
            fm_cache_insert_batch(c, buf, n);
            *nrec += n;
            n = 0;
        }
    }
    fm_cache_insert_batch(c, buf, n);
    *nrec += n;
    fm_reader_close(r);
    return rc;
}

static int parse_seconds(const char *opt, const char *text, uint64_t *ms)
{
    if (fm_time_parse_duration(text, ms) < 0) {
        fm_cmd_usage_error("merge", "%s: invalid duration '%s'", opt, text);
        return FM_EINVAL;
    }
    return 0;
}

/* @return -1 to go on, else the exit status (0 after --help, 2 for a usage error). */
static int parse_args(int argc, char **argv, fm_cache_conf_t *conf, fm_cmdio_t *io)
{
    static const struct option opts[] = {
        {"inactive-timeout", required_argument, NULL, 'I'},
        {"active-timeout", required_argument, NULL, 'A'},
        {"memory", required_argument, NULL, 'm'},
        {"uniflow", no_argument, NULL, 'u'},
        {"biflow", no_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        FM_CMDIO_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    unsigned long long mib;
    int opt, rc = 0;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":I:A:i:o:O:f:m:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'I': rc = parse_seconds("-I", optarg, &conf->inactive_ms); break;
        case 'A': rc = parse_seconds("-A", optarg, &conf->active_ms); break;
        case 'm':
            if (fm_cmdio_count(optarg, &mib) < 0 || mib == 0) {
                return fm_cmd_usage_error("merge", "-m: not a size in MiB: '%s'", optarg);
            }
            conf->memory_mib = (size_t)mib;
            break;
        case 'u':
        case 'b': conf->biflow = opt == 'b'; break;
        case 'h': usage(stdout); return 0;
        case '?':
        case ':': return fm_cmd_bad_option("merge", opt, argv);
        default: rc = fm_cmdio_option(io, opt, optarg, NULL) < 0 ? -1 : 0; break;
        }
        if (rc < 0) {
            return 2;
        }
    }
    if (optind >= argc) {
        return fm_cmd_usage_error("merge", "no input files");
    }
    return fm_cmdio_finish(io) < 0 ? 2 : -1;
}

int fm_cmd_merge(int argc, char **argv)
{
    fm_cache_conf_t conf;
    fm_cmdio_t io;
    int rc;

    fm_cache_conf_default(&conf);
    conf.inactive_ms = 15000;
    conf.active_ms = 300000;
    conf.biflow = false;
    fm_cmdio_init(&io, "merge");
    if ((rc = parse_args(argc, argv, &conf, &io)) >= 0) {
        fm_cmdio_free(&io);
        return rc;
    }
    /* Offline there is no wall clock to expire on: flows leave the cache when closed, when
     * memory runs out, or at the end of input (as flow-models writes its cache out). */
    conf.export_delay_ms = 0;

    merge_out_t out = {NULL, 0};
    fm_cache_t *c = NULL;
    if ((rc = fm_cache_new(&conf, (fm_sink_t){write_flows, &out}, &c)) < 0) {
        fprintf(stderr, "flowmix merge: cannot create the cache (-I %" PRIu64 " ms, -A %" PRIu64
                        " ms, -m %zu): %s\n",
                conf.inactive_ms, conf.active_ms, conf.memory_mib, fm_strerror(rc));
        fm_cmdio_free(&io);
        return rc == FM_EINVAL ? 2 : 1;
    }
    if (io.out_fmt != FM_CMDIO_OUT_NONE &&
        fm_writer_open(io.out, (fm_format_t)io.out_fmt, &out.w) < 0) {
        fm_cache_free(c);
        fm_cmdio_free(&io);
        return 1; /* the writer has logged which file */
    }
    uint64_t nrec = 0;
    rc = 0;
    for (int i = optind; i < argc && rc == 0 && out.rc == 0; i++) {
        rc = merge_file(c, argv[i], &io, &nrec);
    }
    fm_cache_flush(c);

    fm_cache_stats_t st;
    fm_cache_stats(c, &st);
    fprintf(stderr, "Records %" PRIu64 ", Merged %" PRIu64 ", Conflicts %" PRIu64
                    ", Paired %" PRIu64 ", Evicted %" PRIu64 ", Written %" PRIu64 "\n",
            nrec, st.merges, st.merge_conflicts, st.biflow_pairs, st.evicted, st.emitted);
    fm_cache_free(c);
    fm_cmdio_free(&io);
    int wrc = out.w ? fm_writer_close(out.w) : 0;
    if (rc < 0 || out.rc < 0 || wrc < 0) {
        /* the reader and the writer have logged which file */
        return 1;
    }
    return 0;
}
