/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `flowmix profile`: FlowTest ft-profiler's biflow profile (FLOW-MODELS §7) from its CSV input,
 * with ft-profiler's options and defaults, on the daemon's flow cache in FM_CACHE_MODE_PROFILE.
 * Output: START_TIME,END_TIME,L3_PROTO,L4_PROTO,SRC_PORT,DST_PORT,PACKETS,BYTES,PACKETS_REV,
 * BYTES_REV with times in ms relative to the first record read; optionally gzip (zlib).
 *
 * Differences from ft-profiler: when the cache is full, ft-profiler writes out flows that ended
 * 1.5 active timeouts before the newest end time (or gives up); flowmix writes the flow closest to
 * expiry and never gives up.  Entries take ~123 bytes, not 256, so -m holds twice the flows.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "cache.h"
#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "flowio.h"
#include "util/err.h"

int fm_cmd_profile(int argc, char **argv);

#define READ_BATCH 64

typedef struct profile_out {
    char *tmp;   /* the file written until it is complete, then renamed to the output path */
    FILE *f;     /* plain output */
    gzFile gz;   /* or gzip output */
    int64_t zero; /* ms of the first record read */
    int err;
} profile_out_t;

static void put_line(profile_out_t *o, const char *line, int len)
{
    if (o->err) {
        return;
    }
    if (o->gz) {
        if (gzwrite(o->gz, line, (unsigned)len) != len) {
            o->err = 1;
        }
    } else if (fwrite(line, 1, (size_t)len, o->f) != (size_t)len) {
        o->err = 1;
    }
}

static void write_profile(void *ctx, const fm_flow_t *flows, size_t n)
{
    profile_out_t *o = ctx;
    for (size_t i = 0; i < n; i++) {
        const fm_flow_t *f = &flows[i];
        uint64_t first, last;
        char line[256];
        fm_flow_span(f, &first, &last);
        int len = snprintf(line, sizeof(line),
                           "%" PRId64 ",%" PRId64 ",%d,%u,%u,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64
                           ",%" PRIu64 "\n",
                           (int64_t)first - o->zero, (int64_t)last - o->zero,
                           f->af == FM_AF_INET6 ? 6 : 4, f->proto, f->sport, f->dport, f->packets,
                           f->octets, f->rev_packets, f->rev_octets);
        put_line(o, line, len);
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowmix profile [-o OUT] [-g] [-a ACTIVE] [-i INACTIVE] [-m MiB]\n"
            "                       [--in-format FMT] FILE\n"
            "       flowmix profile -o OUT [OPTIONS] csvfile -f FILE    (ft-profiler syntax)\n\n"
            "Biflow profile of a flow CSV, as FlowTest ft-profiler writes it.\n"
            "  -o, --output PATH    output file, - for stdout (default -)\n"
            "  -g, --gzip           compress the output with gzip\n"
            "  -a, --active S       active timeout of the exporter in seconds (default 300)\n"
            "  -i, --inactive S     inactive timeout of the exporter in seconds (default 30)\n"
            "  -m, --memory MiB     cache memory limit (default 2048)\n"
            "      --in-format F    ftcsv, csv_flow, binary, nfcapd, pipe or auto (default):\n"
            "                       the format of FILE (ft-profiler reads its CSV only)\n"
            "The output appears only when the whole input has been read without error.\n");
}

/* A file output is written to PATH.tmp.XXXXXX and renamed when complete (finish_output), so
 * an error leaves no partial profile behind. */
static int open_output(profile_out_t *o, const char *path, bool gzip)
{
    bool std = strcmp(path, "-") == 0;
    int fd = STDOUT_FILENO;

    if (!std) {
        size_t len = strlen(path) + 16;
        o->tmp = malloc(len);
        if (!o->tmp) {
            return FM_EIO;
        }
        snprintf(o->tmp, len, "%s.tmp.XXXXXX", path);
        if ((fd = mkstemp(o->tmp)) < 0) {
            free(o->tmp);
            o->tmp = NULL;
            return FM_EIO;
        }
        mode_t um = umask(0);
        umask(um);
        (void)fchmod(fd, 0666 & ~um); /* as fopen would have created it */
    }
    if (gzip) {
        o->gz = gzdopen(std ? dup(fd) : fd, "wb");
        return o->gz ? 0 : FM_EIO;
    }
    o->f = std ? stdout : fdopen(fd, "w");
    return o->f ? 0 : FM_EIO;
}

/* Rename the finished file into place (ok), or remove it.  @return 0 or -1. */
static int finish_output(profile_out_t *o, const char *path, bool ok)
{
    int rc = 0;
    if (o->tmp) {
        if (ok && rename(o->tmp, path) < 0) {
            rc = -1;
        }
        if (!ok || rc < 0) {
            unlink(o->tmp);
        }
        free(o->tmp);
        o->tmp = NULL;
    }
    return rc;
}

static int close_output(profile_out_t *o)
{
    int bad = o->err;
    if (o->gz) {
        bad |= gzclose(o->gz) != Z_OK;
    } else if (o->f) {
        bad |= fflush(o->f) != 0 || ferror(o->f);
        if (o->f != stdout) {
            bad |= fclose(o->f) != 0;
        }
    }
    return bad ? FM_EIO : 0;
}

/* ft-profiler ignores ports of protocols other than TCP and UDP. */
static void normalise(fm_flow_t *f)
{
    if (f->proto != 6 && f->proto != 17) {
        f->sport = f->dport = 0;
    }
}

static int run(fm_cache_t *c, const char *path, int fmt, profile_out_t *o)
{
    fm_reader_t *r;
    fm_flow_t buf[READ_BATCH];
    size_t n = 0;
    bool first = true;
    int rc = fm_reader_open(path, (fm_format_t)fmt, &r);

    if (rc < 0) {
        return rc;
    }
    while ((rc = fm_reader_next(r, &buf[n])) == 1) {
        normalise(&buf[n]);
        if (first) {
            o->zero = (int64_t)buf[n].first_ms;
            first = false;
        }
        if (++n == READ_BATCH) {
            fm_cache_insert_batch(c, buf, n);
            n = 0;
        }
    }
    fm_cache_insert_batch(c, buf, n);
    fm_reader_close(r);
    fm_cache_flush(c);
    return rc;
}

static int parse_args(int argc, char **argv, fm_cache_conf_t *conf, const char **out,
                      bool *gzip, const char **in, int *fmt)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},  {"gzip", no_argument, NULL, 'g'},
        {"active", required_argument, NULL, 'a'},  {"inactive", required_argument, NULL, 'i'},
        {"memory", required_argument, NULL, 'm'},  {"file", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},          {"in-format", required_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    char *end;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":o:ga:i:m:f:h", opts, NULL)) != -1) {
        unsigned long long v = 0;
        if (opt == 'a' || opt == 'i' || opt == 'm') {
            v = strtoull(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v > (1ULL << 40)) {
                return fm_cmd_usage_error("profile", "-%c: not a number: '%s'", opt, optarg);
            }
        }
        switch (opt) {
        case 'o': *out = optarg; break;
        case 'g': *gzip = true; break;
        case 'a': conf->active_ms = v * 1000; break;
        case 'i': conf->inactive_ms = v * 1000; break;
        case 'm': conf->memory_mib = (size_t)v; break;
        case 'f': *in = optarg; break;
        case 'F':
            if ((*fmt = fm_format_parse(optarg)) < 0) {
                return fm_cmd_usage_error("profile", "--in-format %s: not a flow format",
                                          optarg);
            }
            break;
        case 'h': usage(stdout); return 0;
        default: return fm_cmd_bad_option("profile", opt, argv);
        }
    }
    /* FILE, or ft-profiler's reader subcommand: "csvfile -f FILE" (options may follow it). */
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "csvfile") == 0) {
            continue;
        }
        if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
            *in = argv[++i];
        } else if (!*in) {
            *in = argv[i];
        } else {
            return fm_cmd_usage_error("profile", "one input file only");
        }
    }
    if (!*in) {
        return fm_cmd_usage_error("profile", "no input file");
    }
    return -1; /* carry on */
}

int fm_cmd_profile(int argc, char **argv)
{
    fm_cache_conf_t conf;
    const char *out_path = "-", *in = NULL;
    bool gzip = false;
    int rc, fmt = FM_FMT_AUTO;

    fm_cache_conf_default(&conf);
    conf.mode = FM_CACHE_MODE_PROFILE;
    conf.biflow = true;
    conf.active_ms = 300000;
    conf.inactive_ms = 30000;
    conf.export_delay_ms = 0;
    conf.memory_mib = 2048;
    if ((rc = parse_args(argc, argv, &conf, &out_path, &gzip, &in, &fmt)) >= 0) {
        return rc;
    }

    profile_out_t o = {0};
    fm_cache_t *c = NULL;
    if ((rc = fm_cache_new(&conf, (fm_sink_t){write_profile, &o}, &c)) < 0) {
        fprintf(stderr, "flowmix profile: cannot create the cache: %s\n", fm_strerror(rc));
        return rc == FM_EINVAL ? 2 : 1;
    }
    if (open_output(&o, out_path, gzip) < 0) {
        fprintf(stderr, "flowmix profile: cannot open %s for writing: %s\n", out_path,
                strerror(errno));
        finish_output(&o, out_path, false);
        fm_cache_free(c);
        return 1;
    }
    static const char header[] =
        "START_TIME,END_TIME,L3_PROTO,L4_PROTO,SRC_PORT,DST_PORT,PACKETS,BYTES,PACKETS_REV,"
        "BYTES_REV\n";
    put_line(&o, header, (int)sizeof(header) - 1);
    rc = run(c, in, fmt, &o);
    fm_cache_free(c);
    int crc = close_output(&o);
    if (finish_output(&o, out_path, rc >= 0 && crc == 0) < 0 || crc < 0) {
        fprintf(stderr, "flowmix profile: writing %s failed\n", out_path);
        return 1;
    }
    return rc < 0 ? 1 : 0; /* the reader has said which file and line */
}
