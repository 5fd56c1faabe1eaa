/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix meter: packets to bidirectional flows with nfstream's semantics (DESIGN §12,
 * NFSTREAM.md).  Sources: capture files read back to back as one stream, or -i IFACE.  Output:
 * nfstream's CSV by default, or flowmix's own flow formats (-f csv_flow|binary|pipe) for the
 * other subcommands.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "flowio.h"
#include "meter/capture.h"
#include "meter/meter.h"
#include "meter/output.h"
#include "util/err.h"

#define BATCH 4096

int fm_cmd_meter(int argc, char **argv);

static volatile sig_atomic_t stop_flag;
static fm_capture_t *live_capture;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowmix meter [OPTIONS] CAPTURE...\n"
            "       flowmix meter [OPTIONS] -i IFACE\n\n"
            "Meter packets into bidirectional flows exactly as nfstream does.  CAPTUREs are pcap\n"
            "or pcapng files (by magic) read back to back as one stream.\n\n"
            "  -i, --interface IFACE   live capture (needs CAP_NET_RAW)\n"
            "  -o, --output FILE       output file, '-' = stdout (default)\n"
            "  -f, --format FMT        nfstream (CSV, default), csv_flow, binary (directory), pipe\n"
            "      --idle-timeout S    idle timeout in seconds (default 120)\n"
            "      --active-timeout S  active timeout in seconds (default 1800)\n"
            "      --accounting-mode N 0 wire length (default), 1 IP, 2 transport, 3 payload\n"
            "      --no-tunnels        do not decode GTP-U, CAPWAP, TZSP (no tunnel_id column)\n"
            "      --statistics        the 48 post-mortem statistics columns\n"
            "      --splt N            first N packets: direction, size, piat (default 0)\n"
            "      --dissections N     nDPI packets per flow, 0 = no labels (default 20)\n"
            "      --bpf EXPR          BPF filter\n"
            "      --snaplen N         live snapshot length (default 1536)\n"
            "      --no-promisc        live: do not enter promiscuous mode\n"
            "  -v, --verbose           counters on stderr at the end\n"
            "      --version           version and whether nDPI is built in\n"
            "See flowmix(1).\n");
}

typedef struct {
    fm_meter_opts_t mo;
    fm_capture_opts_t co;
    const char *iface;
    const char *out;
    int fmt;                  /* 0 = nfstream CSV, else fm_format_t */
    bool verbose;
} meter_args_t;

typedef struct {
    fm_meter_csv_t *csv;
    fm_writer_t *w;
    fm_flow_t batch[BATCH];
    size_t n;
    int err;
} sink_t;

static void on_flow(void *ctx, const fm_meter_flow_t *f)
{
    sink_t *s = ctx;

    if (s->csv) {
        fm_meter_csv_write(s->csv, f);
        return;
    }
    fm_meter_to_flow(f, &s->batch[s->n++]);
    if (s->n == BATCH) {
        int rc = fm_writer_write(s->w, s->batch, s->n);
        if (rc < 0 && !s->err) {
            s->err = rc;
        }
        s->n = 0;
    }
}

static int parse_uint(const char *s, uint64_t max, uint64_t *v)
{
    char *end;

    if (!s[0] || s[0] == '-') {
        return FM_EINVAL;
    }
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end || x > max) {
        return FM_EINVAL;
    }
    *v = x;
    return 0;
}

static void version(void)
{
    const char *v = NULL;
    bool ndpi = fm_meter_has_ndpi(&v);

    printf("flowmix meter %s (libpcap: %s; nDPI: %s%s)\n", PACKAGE_VERSION, fm_capture_lib_version(),
           ndpi ? "yes, " : "no", ndpi ? v : "");
}

static int parse_args(int argc, char **argv, meter_args_t *a)
{
    static const struct option opts[] = {
        {"interface", required_argument, NULL, 'i'}, {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},    {"idle-timeout", required_argument, NULL, 1},
        {"active-timeout", required_argument, NULL, 2},
        {"accounting-mode", required_argument, NULL, 3}, {"no-tunnels", no_argument, NULL, 4},
        {"statistics", no_argument, NULL, 5},        {"splt", required_argument, NULL, 6},
        {"dissections", required_argument, NULL, 7}, {"bpf", required_argument, NULL, 8},
        {"snaplen", required_argument, NULL, 9},     {"no-promisc", no_argument, NULL, 10},
        {"version", no_argument, NULL, 11},          {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    int opt, li, bad = 0;
    uint64_t v;

    optind = 1;
    opterr = 0; /* one message of our own, as the other subcommands print */
    while ((li = -1, opt = getopt_long(argc, argv, ":i:o:f:vh", opts, &li)) != -1) {
        switch (opt) {
        case 'i': a->iface = optarg; break;
        case 'o': a->out = optarg; break;
        case 'f':
            if (strcmp(optarg, "nfstream") == 0 || strcmp(optarg, "csv") == 0) {
                a->fmt = 0;
            } else {
                a->fmt = fm_format_parse(optarg);
                bad |= !(a->fmt == FM_FMT_CSV_FLOW || a->fmt == FM_FMT_BINARY ||
                         a->fmt == FM_FMT_PIPE);
            }
            break;
        case 1:
            bad |= parse_uint(optarg, UINT64_MAX / 1000, &v) < 0;
            a->mo.idle_ms = v * 1000;
            break;
        case 2:
            bad |= parse_uint(optarg, UINT64_MAX / 1000, &v) < 0;
            a->mo.active_ms = v * 1000;
            break;
        case 3:
            bad |= parse_uint(optarg, 3, &v) < 0;
            a->mo.accounting_mode = (int)v;
            break;
        case 4: a->mo.decode_tunnels = false; break;
        case 5: a->mo.statistics = true; break;
        case 6:
            bad |= parse_uint(optarg, 65535, &v) < 0;
            a->mo.splt = (uint16_t)v;
            break;
        case 7:
            bad |= parse_uint(optarg, 255, &v) < 0;
            a->mo.dissections = (uint8_t)v;
            break;
        case 8: a->co.bpf = optarg; break;
        case 9:
            bad |= parse_uint(optarg, 262144, &v) < 0 || v == 0;
            a->co.snaplen = (int)v;
            break;
        case 10: a->co.promisc = false; break;
        case 11: version(); return 1;
        case 'v': a->verbose = true; break;
        case 'h': usage(stdout); return 1;
        default: fm_cmd_bad_option("meter", opt, argv); return -1; /* '?' or ':' */
        }
        if (bad) {
            char name[64];
            if (li >= 0) {
                snprintf(name, sizeof(name), "--%s", opts[li].name);
            } else {
                snprintf(name, sizeof(name), "-%c", opt);
            }
            fm_cmd_usage_error("meter", "bad value '%s' for %s", optarg, name);
            return -1;
        }
    }
    if (!a->iface == (optind >= argc)) {
        fm_cmd_usage_error("meter", "give capture files or -i IFACE (not both)");
        return -1;
    }
    if (a->fmt == FM_FMT_BINARY && strcmp(a->out, "-") == 0) {
        fprintf(stderr, "flowmix meter: -f binary needs -o DIRECTORY\n");
        return -1;
    }
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
    fm_capture_breakloop(live_capture);
}

static void report(const meter_args_t *a, fm_meter_t *m, fm_capture_t *c)
{
    const fm_meter_counters_t *k = fm_meter_counters(m);
    fm_capture_stats_t st;

    fm_capture_stats(c, &st);
    if (st.read_errors) {
        fprintf(stderr, "flowmix meter: %" PRIu64 " capture record(s) could not be read "
                        "(truncated or damaged file)\n", st.read_errors);
    }
    if (!a->verbose) {
        return;
    }
    fprintf(stderr, "packets %" PRIu64 " parsed %" PRIu64 " ignored %" PRIu64, k->packets,
            k->parsed, k->ignored);
    for (int i = 0; i < 5; i++) {
        fprintf(stderr, " %s %" PRIu64, fm_meter_ignore_names[i], k->ignored_by[i]);
    }
    fprintf(stderr, " flows %" PRIu64 " files %" PRIu64 " kernel_drops %" PRIu64 "\n", k->flows,
            st.files, st.kernel_drops);
}

static int open_sink(const meter_args_t *a, sink_t *s)
{
    int rc = a->fmt == 0 ? fm_meter_csv_open(a->out, &a->mo, &s->csv)
                         : fm_writer_open(a->out, (fm_format_t)a->fmt, &s->w);
    if (rc < 0) {
        fprintf(stderr, "flowmix meter: %s: %s\n", a->out, fm_strerror(rc));
    }
    return rc;
}

static int close_sink(sink_t *s)
{
    int rc = 0;

    if (s->csv) {
        rc = fm_meter_csv_close(s->csv);
    } else if (s->w) {
        if (s->n) {
            rc = fm_writer_write(s->w, s->batch, s->n);
        }
        int rc2 = fm_writer_close(s->w);
        rc = rc ? rc : rc2 ? rc2 : s->err;
    }
    return rc;
}

int fm_cmd_meter(int argc, char **argv)
{
    meter_args_t a = {.out = "-"};
    char err[512] = "";
    fm_capture_t *c = NULL;
    fm_meter_t *m = NULL;
    sink_t *s = calloc(1, sizeof *s);
    int status = 1;

    fm_meter_opts_default(&a.mo);
    fm_capture_opts_default(&a.co);
    int prc = parse_args(argc, argv, &a);
    if (prc != 0 || !s) {
        free(s);
        return prc > 0 ? 0 : 2;
    }
    int rc = a.iface ? fm_capture_new_live(a.iface, &a.co, &c, err, sizeof err)
                     : fm_capture_new_files((const char *const *)argv + optind,
                                            (size_t)(argc - optind), &a.co, &c);
    if (rc < 0) {
        fprintf(stderr, "flowmix meter: %s\n", err[0] ? err : fm_strerror(rc));
        goto out;
    }
    if (open_sink(&a, s) < 0) {
        goto out;
    }
    rc = fm_meter_new(&a.mo, on_flow, s, &m);
    if (rc < 0) {
        fprintf(stderr, "flowmix meter: %s\n", fm_strerror(rc));
        close_sink(s);
        goto out;
    }
    if (a.iface) {
        if (a.verbose) {
            fprintf(stderr, "flowmix meter: capturing on %s\n", a.iface);
        }
        live_capture = c;
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
    rc = fm_capture_run(c, m, &stop_flag, 0, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "flowmix meter: %s\n", err);
    }
    /* flows seen before an error or a signal are still written */
    fm_meter_flush(m);
    int wrc = close_sink(s);
    if (wrc < 0) {
        fprintf(stderr, "flowmix meter: writing %s: %s\n", a.out, fm_strerror(wrc));
    }
    report(&a, m, c);
    status = rc < 0 || wrc < 0 ? 1 : 0;
out:
    live_capture = NULL;
    fm_meter_free(m);
    fm_capture_free(c);
    free(s);
    return status;
}
