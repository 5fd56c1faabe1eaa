/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix series: per-second flows, packets and octets time series of flow records, as
 * flow-models `series` writes them (csv_series, FLOW-MODELS-DETAIL §1.7): for every UTC day D
 * that occurs, files D.flows, D.packets and D.octets in the output directory, 86400 lines each.
 * A flow counts in the second of its start; its packets are spread evenly over its duration
 * (one packet per step of duration / packets from first + first_ms), each taking the share of
 * the octets flow-models gives it, with its truncations, so the files are byte-identical.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "flowio.h"
#include "util/err.h"
#include "util/fs.h"

int fm_cmd_series(int argc, char **argv);

#define DAY 86400
#define MAX_DAYS 4096 /* ~7 GiB of counters: more is a corrupt input, not a trace */
#define BATCH 1024

typedef struct {
    uint64_t day;
    uint64_t (*c)[3]; /* DAY x (flows, packets, octets) */
} day_t;

typedef struct {
    day_t *days;
    size_t n, cap;
    int err;
} series_t;

static uint64_t (*day_of(series_t *s, uint64_t day))[3]
{
    for (size_t i = s->n; i-- > 0;) { /* the newest day is the likely one */
        if (s->days[i].day == day) {
            return s->days[i].c;
        }
    }
    if (s->n == MAX_DAYS) {
        s->err = FM_ELIMIT;
        return NULL;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4;
        day_t *d = realloc(s->days, cap * sizeof(*d));
        if (!d) {
            s->err = FM_ENOMEM;
            return NULL;
        }
        s->days = d;
        s->cap = cap;
    }
    uint64_t (*c)[3] = calloc(DAY, sizeof(*c));
    if (!c) {
        s->err = FM_ENOMEM;
        return NULL;
    }
    s->days[s->n++] = (day_t){day, c};
    return c;
}

static void add_flow(series_t *s, const fm_flow_t *f)
{
    uint64_t first = f->first_ms / 1000, first_ms = f->first_ms % 1000;
    uint64_t last = f->last_ms / 1000, last_ms = f->last_ms % 1000;
    uint64_t day = first / DAY, sec = first % DAY, packets = f->packets;
    int64_t octets = (int64_t)f->octets;
    uint64_t (*d)[3] = day_of(s, day);

    if (!d) {
        return;
    }
    d[sec][0]++;
    if (packets <= 1) { /* flow-models: a 1-packet flow counts in its start second */
        d[sec][1] += packets;
        d[sec][2] += (uint64_t)octets;
        return;
    }
    double t = (double)sec + (double)first_ms / 1000;
    double duration = (double)((int64_t)last - (int64_t)first) +
                      (double)((int64_t)last_ms - (int64_t)first_ms) / 1000;
    double piat = duration / (double)packets, avg = (double)octets / (double)packets;
    int64_t ips = (int64_t)trunc(avg);
    for (uint64_t n = 0; n < packets; n++) {
        int64_t size = ips + (int64_t)trunc((double)(octets - ips) -
                                            avg * (double)(packets - 1 - n));
        uint64_t at = t >= 0 && t < DAY ? (uint64_t)t : 0;
        d[at][1]++;
        d[at][2] += (uint64_t)size;
        octets -= size;
        t += piat;
        while (t >= (double)DAY) {
            day++;
            t -= (double)DAY;
            if (!(d = day_of(s, day))) {
                return;
            }
        }
    }
}

static int write_day(const char *dir, const day_t *d)
{
    static const char *const ext[3] = {"flows", "packets", "octets"};
    char path[4096];

    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof(path), "%s/%" PRIu64 ".%s", dir, d->day, ext[k]);
        FILE *f = fopen(path, "w");
        if (!f) {
            fprintf(stderr, "flowmix series: %s: %s\n", path, strerror(errno));
            return FM_EIO;
        }
        for (size_t i = 0; i < DAY; i++) {
            fprintf(f, "%" PRIu64 "\n", d->c[i][k]);
        }
        if (fclose(f) != 0) {
            fprintf(stderr, "flowmix series: %s: write failed\n", path);
            return FM_EIO;
        }
    }
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowmix series [-i FORMAT] [-o csv_series] [-O DIR] [--filter-expr EXPR]\n"
            "                      [--skip-in N] [--count-in N] [--skip-out N] [--count-out N]\n"
            "                      FILE...\n\n"
            "Per-second flows, packets and octets of flow records (flow-models series): DIR/D.flows,\n"
            "D.packets, D.octets for every UTC day number D, 86400 lines each.\n"
            "  -i, --in-format F   csv_flow, pipe, nfcapd, binary, ftcsv, auto (default nfcapd)\n"
            "  -O, --output DIR    output directory (default .)\n");
}

static int series_file(series_t *s, fm_cmdio_t *io, const char *path, fm_flow_t *buf)
{
    fm_reader_t *r;
    long n = 0;
    int rc = fm_reader_open(path, (fm_format_t)io->in_fmt, &r);

    if (rc < 0) {
        return rc;
    }
    rc = 1;
    while (rc == 1 && !s->err && (n = fm_reader_read(r, buf, BATCH)) > 0) {
        for (long i = 0; i < n && rc == 1; i++) {
            int keep = fm_select_step(&io->sel, &buf[i]);
            if (keep < 0) {
                rc = 0;
            } else if (keep > 0) {
                add_flow(s, &buf[i]);
            }
        }
    }
    if (rc == 1 && n < 0) {
        rc = (int)n;
    }
    fm_reader_close(r);
    return rc;
}

int fm_cmd_series(int argc, char **argv)
{
    static const struct option opts[] = {
        FM_CMDIO_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    fm_cmdio_t io;
    series_t s = {0};
    int opt, rc = 1;

    fm_cmdio_init(&io, "series");
    io.out = ".";
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":i:o:O:f:h", opts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 0;
        }
        if (opt == '?' || opt == ':') {
            return fm_cmd_bad_option("series", opt, argv);
        }
        if (opt == 'o') {
            if (strcmp(optarg, "csv_series") != 0) {
                return fm_cmd_usage_error("series", "-o %s: the output format is csv_series",
                                          optarg);
            }
        } else if (fm_cmdio_option(&io, opt, optarg, NULL) < 0) {
            return 2;
        }
    }
    if (optind >= argc) {
        return fm_cmd_usage_error("series", "no input files");
    }
    if (fm_cmdio_finish(&io) < 0) {
        return 2;
    }
    fm_flow_t *buf = calloc(BATCH, sizeof(*buf));
    rc = buf ? 1 : FM_ENOMEM;
    for (int i = optind; i < argc && rc == 1 && !s.err; i++) {
        rc = series_file(&s, &io, argv[i], buf);
    }
    free(buf);
    if (s.err) {
        fprintf(stderr, "flowmix series: %s (more than %d days?)\n", fm_strerror(s.err),
                MAX_DAYS);
        rc = s.err;
    }
    if (rc >= 0) {
        int mrc = fm_fs_mkdirs(io.out, 0755);
        if (mrc < 0) {
            fprintf(stderr, "flowmix series: %s: %s\n", io.out, fm_strerror(mrc));
            rc = mrc;
        }
        for (size_t d = 0; d < s.n && rc >= 0; d++) {
            rc = write_day(io.out, &s.days[d]) < 0 ? FM_EIO : rc;
        }
    }
    for (size_t d = 0; d < s.n; d++) {
        free(s.days[d].c);
    }
    free(s.days);
    fm_cmdio_free(&io);
    return rc < 0 ? 1 : 0;
}
