/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix send: the project's load generator.  Reads flows from files (any flowio format) or
 * makes synthetic ones (random 5-tuples, Pareto-tailed lengths, seeded with GSL's MT19937), and
 * exports them as NetFlow v5, v9 or IPFIX datagrams (encode.h) to HOST:PORT over UDP, paced by
 * a token bucket in records/s and sent in batches with sendmmsg(2) where available.  Exporter
 * time is the wall clock (each flow is shifted to end "now", as a live exporter would report
 * it) or, with --replay-time, the flows' own times.  --dump writes the records actually sent as
 * csv_flow so tests can compute expectations independently.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "encode.h"
#include "flowio.h"
#include "util/err.h"
#include "util/progress.h"
#include "util/time.h"

#define SEND_FLOWS 4096   /* flows read per refill */
#define SEND_MAX_BATCH 64 /* datagrams per sendmmsg */
#define SEND_BUF 9216     /* per-datagram buffer (largest --mtu) */

int fm_cmd_send(int argc, char **argv);

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct {
    const char *dest;
    int version, in_fmt;
    uint64_t synthetic, seed, count, duration_ms;
    double rate;
    bool synth, replay_time, quiet;
    bool preload;       /* encode every datagram before the first is sent */
    unsigned batch, template_every, mtu;
    uint32_t domain;
    const char *dump;
    char **files;
    int nfiles;
    const char *model;  /* a mixture directory: flows synthesised from it (--count of them) */
    bool size;          /* -x size: the model is of flow size */
} send_opts_t;

typedef struct {
    uint64_t records, datagrams, bytes, skipped, errors;
} send_stats_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowmix send [-f v5|v9|ipfix] [-i FMT] [--synthetic N [--seed S]] [-r R]\n"
            "                    [--count N] [--duration S] [--replay-time] [--batch N]\n"
            "                    [--mtu N] [--template-every N] [--domain ID] [--dump FILE]\n"
            "                    HOST:PORT [FILE...|MODEL_DIR]\n"
            "       flowmix send [options] FILE...|MODEL_DIR HOST:PORT\n\n"
            "Export flows as NetFlow v5 (-f v5), v9 (-f v9) or IPFIX (-f ipfix, the default) to a\n"
            "collector over UDP.  Flows come from FILEs read with -i FMT (csv_flow, pipe, nfcapd,\n"
            "binary, ftcsv; default auto); from a mixture directory (flows.json, packets.json,\n"
            "octets.json): --count N flows whose lengths and sizes are drawn as flowmix generate\n"
            "draws them (--seed; -x size for a flow-size model), on random 5-tuples; or, with\n"
            "--synthetic N, made up: random 5-tuples (IPv4; TCP, UDP, ICMP), Pareto-tailed packet\n"
            "counts, reproducible with --seed (N = 0: unbounded, stop with --count or\n"
            "--duration).  HOST may be a name, an IPv4 or an IPv6 address ([::1]:2055).\n\n"
            "  -f, --format F      v5, v9 or ipfix (also -v 5|9|10)\n"
            "  -r, --rate R        records/s, token-bucket paced (0 = as fast as possible)\n"
            "  --count N           stop after N records\n"
            "  --duration S        stop after S (s, m, h suffixes)\n"
            "  --replay-time       keep the flows' own times (default: each flow ends now)\n"
            "  --batch N           datagrams per sendmmsg call (1..64, default 32)\n"
            "  --mtu N             largest datagram (256..9216, default 1400)\n"
            "  --template-every N  v9/IPFIX: resend templates every N datagrams (default 20)\n"
            "  --domain ID         observation domain / source id / v5 engine id\n"
            "  --dump FILE         write the records sent as csv_flow ('-' = stdout)\n"
            "  --preload           encode every datagram first, then send them: the rate is\n"
            "                      then limited by the sending alone (a load test of the\n"
            "                      collector; needs a finite input, holds it all in memory)\n"
            "  -q, --quiet         no progress and no summary line\n\n"
            "v5 carries IPv4 only (IPv6 flows are skipped and counted) and 32-bit counters.\n"
            "The summary line (stdout) gives records, datagrams, bytes, seconds and rates.\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (!s[0] || s[0] == '-') {
        return FM_EINVAL;
    }
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end) {
        return FM_EINVAL;
    }
    *v = x;
    return 0;
}

/* One option value into o; @return 0 or FM_EINVAL. */
static int parse_opt(int opt, const char *arg, send_opts_t *o)
{
    uint64_t v = 0;
    char *end;

    switch (opt) {
    case 'v':
        o->version = atoi(arg);
        return (o->version == 5 || o->version == 9 || o->version == 10) ? 0 : FM_EINVAL;
    case 'f':
        o->version = !strcmp(arg, "v5") || !strcmp(arg, "5")     ? 5
                     : !strcmp(arg, "v9") || !strcmp(arg, "9")   ? 9
                     : !strcmp(arg, "ipfix") || !strcmp(arg, "10") ? 10
                                                                   : 0;
        return o->version ? 0 : FM_EINVAL;
    case 'x':
        o->size = !strcmp(arg, "size");
        return !strcmp(arg, "size") || !strcmp(arg, "length") ? 0 : FM_EINVAL;
    case 'i': return (o->in_fmt = fm_format_parse(arg)) < 0 ? FM_EINVAL : 0;
    case 'n': o->synth = true; return parse_u64(arg, &o->synthetic);
    case 's': return parse_u64(arg, &o->seed);
    case 'r':
        errno = 0;
        o->rate = strtod(arg, &end);
        return (errno || *end || !(o->rate >= 0) || o->rate > 1e10) ? FM_EINVAL : 0;
    case 'c': return parse_u64(arg, &o->count);
    case 'd': return fm_time_parse_duration(arg, &o->duration_ms) < 0 ? FM_EINVAL : 0;
    case 'b':
        o->batch = (unsigned)(parse_u64(arg, &v) == 0 ? v : 0);
        return (o->batch >= 1 && o->batch <= SEND_MAX_BATCH) ? 0 : FM_EINVAL;
    case 'm':
        o->mtu = (unsigned)(parse_u64(arg, &v) == 0 ? v : 0);
        return (o->mtu >= 256 && o->mtu <= SEND_BUF) ? 0 : FM_EINVAL;
    case 't':
        if (parse_u64(arg, &v) < 0 || v > UINT32_MAX) {
            return FM_EINVAL;
        }
        o->template_every = (unsigned)v;
        return 0;
    case 'D':
        if (parse_u64(arg, &v) < 0 || v > UINT32_MAX) {
            return FM_EINVAL;
        }
        o->domain = (uint32_t)v;
        return 0;
    case 'o': o->dump = arg; return 0;
    default: return FM_EINVAL;
    }
}

/* Does text look like a destination (HOST:PORT, [V6]:PORT) rather than an input path? */
static bool is_dest(const char *text)
{
    const char *colon = strrchr(text, ':');
    struct stat st;
    char *end;

    if (!colon || colon == text || stat(text, &st) == 0) {
        return false;
    }
    unsigned long port = strtoul(colon + 1, &end, 10);
    return colon[1] && !*end && port > 0 && port < 65536;
}

static bool is_model_dir(const char *path)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof(p), "%s/flows.json", path);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The positionals: HOST:PORT first or last (flowmix(1) documents FILE HOST:PORT), then the
 * inputs: files, or one mixture directory.  @return 0 or -1 (reported). */
static int place_args(int argc, char **argv, send_opts_t *o)
{
    if (optind >= argc) {
        fm_cmd_usage_error("send", "no destination HOST:PORT");
        return -1;
    }
    if (is_dest(argv[optind])) {
        o->dest = argv[optind++];
    } else if (is_dest(argv[argc - 1])) {
        o->dest = argv[--argc];
    } else {
        fm_cmd_usage_error("send", "no destination HOST:PORT among the arguments");
        return -1;
    }
    o->files = argv + optind;
    o->nfiles = argc - optind;
    if (o->nfiles == 1 && is_model_dir(o->files[0])) {
        o->model = o->files[0];
        o->nfiles = 0;
        if (o->synth || o->count == 0) {
            fm_cmd_usage_error("send", "a model directory needs --count N (and no --synthetic)");
            return -1;
        }
        return 0;
    }
    if (o->synth == (o->nfiles > 0)) {
        fm_cmd_usage_error("send", "give input FILEs, a model directory or --synthetic N");
        return -1;
    }
    return 0;
}

/* @return 0 to run, 1 after --help, -1 on a usage error (reported). */
static int parse_args(int argc, char **argv, send_opts_t *o)
{
    static const struct option opts[] = {
        {"version", required_argument, NULL, 'v'},   {"in-format", required_argument, NULL, 'i'},
        {"synthetic", required_argument, NULL, 'n'}, {"seed", required_argument, NULL, 's'},
        {"rate", required_argument, NULL, 'r'},      {"count", required_argument, NULL, 'c'},
        {"duration", required_argument, NULL, 'd'},  {"replay-time", no_argument, NULL, 'R'},
        {"batch", required_argument, NULL, 'b'},     {"mtu", required_argument, NULL, 'm'},
        {"template-every", required_argument, NULL, 't'},
        {"domain", required_argument, NULL, 'D'},    {"dump", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},           {"help", no_argument, NULL, 'h'},
        {"format", required_argument, NULL, 'f'},    {"x-value", required_argument, NULL, 'x'},
        {"preload", no_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":v:f:r:x:i:qh", opts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 1;
        } else if (opt == 'R') {
            o->replay_time = true;
        } else if (opt == 'P') {
            o->preload = true;
        } else if (opt == 'q') {
            o->quiet = true;
        } else if (opt == '?' || opt == ':') {
            fm_cmd_bad_option("send", opt, argv);
            return -1;
        } else if (parse_opt(opt, optarg, o) < 0) {
            fm_cmd_usage_error("send", "bad value '%s' for -%c", optarg, opt);
            return -1;
        }
    }
    if (o->preload && (o->duration_ms || (o->synth && o->synthetic == 0 && !o->count))) {
        fm_cmd_usage_error("send", "--preload needs a finite input: not with --duration or an "
                           "unbounded --synthetic 0 without --count");
        return -1;
    }
    return place_args(argc, argv, o);
}

/* Resolve HOST:PORT ([v6]:PORT for IPv6 literals) and return a connected UDP socket, or -1. */
static int open_socket(const char *dest)
{
    char host[256];
    const char *colon = strrchr(dest, ':');
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai, *p;
    int fd = -1;

    if (!colon || colon == dest || (size_t)(colon - dest) >= sizeof(host)) {
        fprintf(stderr, "flowmix send: destination '%s' is not HOST:PORT\n", dest);
        return FM_EIO;
    }
    size_t hl = (size_t)(colon - dest);
    memcpy(host, dest, hl);
    host[hl] = '\0';
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "flowmix send: %s: %s\n", dest, gai_strerror(rc));
        return FM_EIO;
    }
    for (p = ai; p && fd < 0; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype, p->ai_protocol);
        if (fd >= 0 && connect(fd, p->ai_addr, p->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        fprintf(stderr, "flowmix send: cannot connect a UDP socket to %s: %s\n", dest,
                strerror(errno));
        return FM_EIO;
    }
    /* A large send buffer lets one sendmmsg batch go out without blocking. */
    int sndbuf = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    return fd;
}

/* ---- Flow sources ---- */

typedef struct {
    const send_opts_t *o;
    fm_reader_t *r;
    int cur;           /* next file index */
    gsl_rng *rng;
    uint64_t made;     /* synthetic flows made so far */
    uint64_t t0;       /* synthetic flows' own clock origin, epoch ms */
    uint64_t *pairs;   /* model: (packets, octets) of each flow to send */
} source_t;

/* One synthetic flow: a unique destination per index (an odd multiplier is a bijection mod
 * 2^32), so no two flows share a key and the collector's cache cannot merge them. */
static void synth_flow(source_t *s, fm_flow_t *f)
{
    gsl_rng *r = s->rng;
    uint64_t i = s->made++;
    double u = gsl_rng_uniform(r);

    memset(f, 0, sizeof(*f));
    f->af = FM_AF_INET;
    f->proto = u < 0.6 ? 6 : u < 0.95 ? 17 : 1;
    fm_flow_set_v4(f->src, (uint32_t)gsl_rng_get(r) ^ ((uint32_t)gsl_rng_get(r) << 16));
    fm_flow_set_v4(f->dst, (uint32_t)(i * 2654435761u) ^ 0x0a000000u);
    if (f->proto != 1) {
        f->sport = (uint16_t)(1024 + gsl_rng_uniform_int(r, 64512));
        f->dport = (uint16_t)(u < 0.3 ? 443 : u < 0.6 ? 80 : 1 + gsl_rng_uniform_int(r, 65535));
    }
    /* Heavy tail: Pareto(a = 1.2) packets, capped so v5's 32-bit octet counter never wraps. */
    double p = floor(gsl_ran_pareto(r, 1.2, 1.0));
    f->packets = p > 1e6 ? 1000000 : (uint64_t)p;
    double mean = gsl_rng_uniform(r) < 0.5 ? 40 + gsl_rng_uniform_int(r, 60)
                                           : 100 + gsl_rng_uniform_int(r, 1401);
    f->octets = (uint64_t)(f->packets * mean) + gsl_rng_uniform_int(r, f->packets);
    uint64_t dur = 0;
    if (f->packets > 1) {
        double d = gsl_ran_lognormal(r, log(1000.0), 2.0);
        dur = d > 300000 ? 300000 : (uint64_t)d;
    }
    f->last_ms = s->t0 + i;
    f->first_ms = f->last_ms - dur;
    f->tcp_flags = f->proto == 6 ? 0x1b : 0;
    f->sampling = 1;
    f->records = 1;
    f->fwd_first = 1;
}

/* Fill buf with up to max flows.  @return the number (0 at the end) or a negative code. */
static long source_read(source_t *s, fm_flow_t *buf, size_t max)
{
    if (s->o->synth) {
        size_t n = 0;
        while (n < max && (s->o->synthetic == 0 || s->made < s->o->synthetic)) {
            synth_flow(s, &buf[n++]);
        }
        return (long)n;
    }
    if (s->pairs) {
        /* The model's lengths and sizes on synthetic keys and times. */
        size_t n = 0;
        while (n < max && s->made < s->o->count) {
            uint64_t i = s->made;
            fm_flow_t *f = &buf[n++];
            synth_flow(s, f);
            f->packets = s->pairs[2 * i] ? s->pairs[2 * i] : 1;
            f->octets = s->pairs[2 * i + 1];
            f->first_ms = f->packets == 1 ? f->last_ms : f->first_ms;
        }
        return (long)n;
    }
    for (;;) {
        if (!s->r) {
            if (s->cur >= s->o->nfiles) {
                return 0;
            }
            int rc = fm_reader_open(s->o->files[s->cur++], (fm_format_t)s->o->in_fmt, &s->r);
            if (rc < 0) {
                return rc;
            }
        }
        long n = fm_reader_read(s->r, buf, max);
        if (n != 0) {
            return n;
        }
        fm_reader_close(s->r);
        s->r = NULL;
    }
}

static void source_close(source_t *s)
{
    free(s->pairs);
    fm_reader_close(s->r);
    gsl_rng_free(s->rng);
}

/* ---- Pacing ---- */

typedef struct {
    double rate, tokens, cap;
    uint64_t last_ns;
} bucket_t;

static void bucket_init(bucket_t *b, double rate, unsigned burst)
{
    b->rate = rate;
    b->cap = rate / 200 > burst ? rate / 200 : burst; /* at most ~5 ms worth at once */
    b->tokens = 0;
    b->last_ns = fm_time_mono_ns();
}

/* Take n records' worth of tokens, sleeping until the bucket has them. */
static void bucket_take(bucket_t *b, uint64_t n)
{
    if (b->rate <= 0) {
        return;
    }
    for (;;) {
        uint64_t now = fm_time_mono_ns();
        b->tokens += (double)(now - b->last_ns) * 1e-9 * b->rate;
        b->last_ns = now;
        if (b->tokens > b->cap) {
            b->tokens = b->cap;
        }
        if (b->tokens >= (double)n || stop_requested) {
            b->tokens -= (double)n;
            return;
        }
        double wait_ns = ((double)n - b->tokens) / b->rate * 1e9;
        struct timespec ts = {(time_t)(wait_ns / 1e9), (long)fmod(wait_ns, 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* ---- Sending ---- */

typedef struct {
    int fd;
    unsigned n;
    uint8_t (*buf)[SEND_BUF];
    size_t len[SEND_MAX_BATCH];
} batch_t;

/* Send the batch's datagrams; errors (e.g. ECONNREFUSED while nobody listens) are counted. */
static void batch_send(batch_t *b, send_stats_t *st)
{
    unsigned done = 0, refused = 0;

    while (done < b->n) {
#ifdef HAVE_SENDMMSG
        struct mmsghdr msg[SEND_MAX_BATCH];
        struct iovec iov[SEND_MAX_BATCH];
        unsigned k = b->n - done;
        for (unsigned i = 0; i < k; i++) {
            iov[i] = (struct iovec){b->buf[done + i], b->len[done + i]};
            msg[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
        }
        int rc = sendmmsg(b->fd, msg, k, 0);
#else
        /* Portable fallback: one sendto per datagram (no sendmmsg on this system). */
        int rc = send(b->fd, b->buf[done], b->len[done], 0) < 0 ? -1 : 1;
#endif
        if (rc > 0) {
            done += (unsigned)rc;
            continue;
        }
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        /* A refusal reports an earlier datagram's ICMP error: retry this one once. */
        if (rc < 0 && errno == ECONNREFUSED && refused++ == 0) {
            continue;
        }
        st->errors++;
        done++;
        refused = 0;
    }
    b->n = 0;
}

/* ---- The send loop ---- */

/* --preload: every datagram, encoded before the first is sent, and the records each holds. */
typedef struct {
    bool filling;      /* send_batch() keeps its batches here instead of sending them */
    uint8_t *buf;
    size_t used, cap;  /* bytes */
    size_t *off, *len;
    uint32_t *recs;
    size_t n, ncap;    /* datagrams */
} preload_t;

typedef struct {
    const send_opts_t *o;
    fm_encoder_t *enc;
    fm_writer_t *dump;
    source_t src;
    bucket_t bucket;
    batch_t batch;
    send_stats_t st;
    fm_flow_t *flows;
    size_t n, pos;
    uint64_t start_ns, replay_now, next_progress_ns;
    preload_t pre;     /* --preload: the encoded datagrams, filled before sending */
} sender_t;

/* The exporter time for a datagram made of flows[0..n) and, in wall-clock mode, the flows moved
 * to end now (durations kept), as a live exporter reports a flow when it ends. */
static uint64_t stamp(sender_t *s, fm_flow_t *f, size_t n)
{
    if (s->o->replay_time) {
        for (size_t i = 0; i < n; i++) {
            s->replay_now = f[i].last_ms > s->replay_now ? f[i].last_ms : s->replay_now;
        }
        return s->replay_now;
    }
    uint64_t now = fm_time_wall_ms();
    for (size_t i = 0; i < n; i++) {
        int64_t d = (int64_t)(now - f[i].last_ms);
        f[i].first_ms += (uint64_t)d;
        f[i].last_ms = now;
        if (f[i].rev_packets) {
            f[i].rev_first_ms += (uint64_t)d;
            f[i].rev_last_ms += (uint64_t)d;
        }
    }
    return now;
}

/* The encoder is made at the first datagram so that, when replaying the flows' own times, the
 * exporter's boot (the SysUpTime origin of v5/v9) can precede the first flow by an hour. */
static int make_encoder(sender_t *s)
{
    fm_encode_conf_t c;

    fm_encode_conf_default(&c, s->o->version);
    c.domain = s->o->domain;
    c.template_every = s->o->template_every;
    c.mtu = s->o->mtu;
    if (s->o->replay_time && s->n > 0) {
        uint64_t min = s->flows[0].first_ms;
        for (size_t i = 1; i < s->n; i++) {
            min = s->flows[i].first_ms < min ? s->flows[i].first_ms : min;
        }
        c.boot_ms = min > 3600000 ? min - 3600000 : 1;
    }
    int rc = fm_encoder_new(&c, &s->enc);
    if (rc < 0) {
        fprintf(stderr, "flowmix send: cannot make the encoder: %s\n", fm_strerror(rc));
    }
    return rc;
}

/* Encode one datagram into the batch from at most max flows.  @return records, or < 0. */
static long build_one(sender_t *s, uint64_t max)
{
    size_t lim = s->n - s->pos < max ? s->n - s->pos : (size_t)max;
    fm_flow_t *f = s->flows + s->pos;
    size_t len = 0;
    int rc = s->enc ? 0 : make_encoder(s);

    if (rc < 0) {
        return rc;
    }
    uint64_t now = stamp(s, f, lim);
    int used = fm_encoder_datagram(s->enc, f, lim, now, s->batch.buf[s->batch.n], SEND_BUF,
                                   &len);
    if (used < 0) {
        fprintf(stderr, "flowmix send: encoding failed: %s\n", fm_strerror(used));
        return used;
    }
    long sent = 0;
    for (int i = 0; i < used; i++) {
        if (s->o->version == 5 && f[i].af == FM_AF_INET6) {
            s->st.skipped++; /* v5 has no IPv6; the encoder passed over it */
            continue;
        }
        sent++;
        if (s->dump && (rc = fm_writer_write(s->dump, &f[i], 1)) < 0) {
            fprintf(stderr, "flowmix send: --dump: %s\n", fm_strerror(rc));
            return rc;
        }
    }
    s->pos += (size_t)used;
    s->batch.len[s->batch.n++] = len;
    s->st.datagrams++;
    s->st.bytes += len;
    return sent;
}

static double elapsed_s(const sender_t *s)
{
    return (double)(fm_time_mono_ns() - s->start_ns) * 1e-9;
}

/* @return true when --count or --duration (or a signal) says stop. */
static bool limit_reached(const sender_t *s)
{
    if (stop_requested || (s->o->count && s->st.records >= s->o->count)) {
        return true;
    }
    return s->o->duration_ms && elapsed_s(s) * 1000 >= (double)s->o->duration_ms;
}

static void progress(sender_t *s)
{
    uint64_t now = fm_time_mono_ns();
    if (s->o->quiet || now < s->next_progress_ns || !isatty(STDERR_FILENO)) {
        return;
    }
    s->next_progress_ns = now + 1000000000ull;
    double t = elapsed_s(s);
    fprintf(stderr, "\r%" PRIu64 " records, %" PRIu64 " datagrams, %.0f records/s   ",
            s->st.records, s->st.datagrams, t > 0 ? (double)s->st.records / t : 0.0);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) {
        return 0;
    }
    size_t c = *cap ? *cap : 1024;
    while (c < need) {
        c *= 2;
    }
    void *q = realloc(*p, c * size);
    if (!q) {
        return FM_ENOMEM;
    }
    *p = q;
    *cap = c;
    return 0;
}

/* Keep the batch's datagrams (their records spread evenly for pacing: only the batch's total is
 * known here) and empty it. */
static int preload_keep(preload_t *p, batch_t *b, uint64_t recs)
{
    size_t ncap = p->ncap, bytes = 0;
    for (unsigned i = 0; i < b->n; i++) {
        bytes += b->len[i];
    }
    if (grow((void **)&p->buf, &p->cap, p->used + bytes, 1) < 0 ||
        grow((void **)&p->off, &ncap, p->n + b->n, sizeof(*p->off)) < 0 ||
        (ncap = p->ncap, grow((void **)&p->len, &ncap, p->n + b->n, sizeof(*p->len)) < 0) ||
        (ncap = p->ncap, grow((void **)&p->recs, &ncap, p->n + b->n, sizeof(*p->recs)) < 0)) {
        fprintf(stderr, "flowmix send: --preload: out of memory after %zu datagrams\n", p->n);
        return FM_ENOMEM;
    }
    p->ncap = ncap;
    for (unsigned i = 0; i < b->n; i++) {
        memcpy(p->buf + p->used, b->buf[i], b->len[i]);
        p->off[p->n] = p->used;
        p->len[p->n] = b->len[i];
        p->recs[p->n] = (uint32_t)(recs / b->n + (i < recs % b->n));
        p->used += b->len[i];
        p->n++;
    }
    b->n = 0;
    return 0;
}

/* Send the preloaded datagrams, paced as send_batch() paces: about 1 ms worth per batch. */
static void preload_send(sender_t *s)
{
    const preload_t *p = &s->pre;
    uint64_t want = s->o->rate > 0 ? (uint64_t)(s->o->rate / 1000) : UINT64_MAX;
    size_t i = 0;

    while (i < p->n && !stop_requested) {
        uint64_t recs = 0;
        while (i < p->n && s->batch.n < s->o->batch && recs < (want ? want : 1)) {
            memcpy(s->batch.buf[s->batch.n], p->buf + p->off[i], p->len[i]);
            s->batch.len[s->batch.n++] = p->len[i];
            s->st.datagrams++;
            s->st.bytes += p->len[i];
            recs += p->recs[i++];
        }
        bucket_take(&s->bucket, recs);
        batch_send(&s->batch, &s->st);
        s->st.records += recs;
        progress(s);
    }
}

/* Fill one batch (about 1 ms worth of records when paced), pace it and send it.
 * @return 1 to go on, 0 at the end of the input, < 0 on error. */
static int send_batch(sender_t *s)
{
    uint64_t want = s->o->rate > 0 ? (uint64_t)(s->o->rate / 1000) : UINT64_MAX, recs = 0;

    while (s->batch.n < s->o->batch && recs < (want ? want : 1)) {
        if (s->pos == s->n) {
            long n = source_read(&s->src, s->flows, SEND_FLOWS);
            if (n < 0) {
                return (int)n;
            }
            s->n = (size_t)n;
            s->pos = 0;
            if (n == 0) {
                break;
            }
        }
        uint64_t max = s->o->count ? s->o->count - s->st.records - recs : UINT64_MAX;
        if (max == 0) {
            break;
        }
        long r = build_one(s, max);
        if (r < 0) {
            return (int)r;
        }
        recs += (uint64_t)r;
    }
    if (s->batch.n == 0) {
        return 0;
    }
    if (s->pre.filling) {
        int rc = preload_keep(&s->pre, &s->batch, recs);
        if (rc < 0) {
            return rc;
        }
    } else {
        bucket_take(&s->bucket, recs);
        batch_send(&s->batch, &s->st);
    }
    s->st.records += recs;
    return 1;
}

static void summary(const sender_t *s)
{
    double t = elapsed_s(s);
    if (!s->o->quiet && isatty(STDERR_FILENO)) {
        fputc('\n', stderr);
    }
    if (s->o->quiet) {
        return;
    }
    printf("sent %" PRIu64 " records in %" PRIu64 " datagrams (%" PRIu64 " bytes) in %.3f s: "
           "%.0f records/s, %.0f datagrams/s; %" PRIu64 " send errors, %" PRIu64 " skipped\n",
           s->st.records, s->st.datagrams, s->st.bytes, t,
           t > 0 ? (double)s->st.records / t : 0.0, t > 0 ? (double)s->st.datagrams / t : 0.0,
           s->st.errors, s->st.skipped);
}

static int run(sender_t *s)
{
    int rc = 1;

    if (s->o->preload) {
        s->pre.filling = true;
        while (rc == 1 && !limit_reached(s)) {
            rc = send_batch(s);
        }
        s->pre.filling = false;
        if (rc < 0) {
            return rc;
        }
        /* what was encoded goes out now: counted as it is sent */
        s->st = (send_stats_t){.skipped = s->st.skipped};
    }
    s->start_ns = fm_time_mono_ns();
    bucket_init(&s->bucket, s->o->rate, 30u * s->o->batch);
    if (s->o->preload) {
        preload_send(s);
        rc = 0;
    }
    while (rc == 1 && !limit_reached(s)) {
        rc = send_batch(s);
        progress(s);
    }
    summary(s);
    return rc < 0 ? rc : 0;
}

static int sender_init(sender_t *s, const send_opts_t *o)
{
    s->o = o;
    s->src.o = o;
    s->batch.fd = -1;
    s->flows = calloc(SEND_FLOWS, sizeof(*s->flows));
    s->batch.buf = calloc(SEND_MAX_BATCH, SEND_BUF);
    if (!s->flows || !s->batch.buf) {
        return FM_ENOMEM;
    }
    if (o->model) {
        int rc = fm_generate_pairs(o->model, (size_t)o->count, (uint32_t)o->seed, o->size,
                                   &s->src.pairs);
        if (rc < 0) {
            return rc; /* the mixture's problem has been printed */
        }
    }
    if (o->synth || o->model) {
        if (!(s->src.rng = gsl_rng_alloc(gsl_rng_mt19937))) {
            return FM_ENOMEM;
        }
        gsl_rng_set(s->src.rng, (unsigned long)o->seed);
        s->src.t0 = fm_time_wall_ms();
    }
    if ((s->batch.fd = open_socket(o->dest)) < 0) {
        return FM_EIO;
    }
    if (o->dump) {
        int rc = fm_writer_open(o->dump, FM_FMT_CSV_FLOW, &s->dump);
        if (rc < 0) {
            fprintf(stderr, "flowmix send: cannot write %s: %s\n", o->dump, fm_strerror(rc));
            return rc;
        }
    }
    return 0;
}

static int sender_fini(sender_t *s)
{
    int rc = s->dump ? fm_writer_close(s->dump) : 0;

    if (rc < 0) {
        fprintf(stderr, "flowmix send: --dump: %s\n", fm_strerror(rc));
    }
    if (s->batch.fd >= 0) {
        close(s->batch.fd);
    }
    source_close(&s->src);
    fm_encoder_free(s->enc);
    free(s->pre.buf);
    free(s->pre.off);
    free(s->pre.len);
    free(s->pre.recs);
    free(s->flows);
    free(s->batch.buf);
    return rc;
}

int fm_cmd_send(int argc, char **argv)
{
    send_opts_t o = {.version = 10, .in_fmt = FM_FMT_AUTO, .batch = 32, .template_every = 20,
                     .mtu = 1400};
    sender_t s = {0};
    struct sigaction sa = {.sa_handler = on_signal};
    int rc = parse_args(argc, argv, &o);

    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    fm_progress_enable(false); /* send prints its own line (records, datagrams, rate) */
    /* No SA_RESTART: a signal must cut a pacing sleep short. */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    stop_requested = 0;
    rc = sender_init(&s, &o);
    if (rc == 0) {
        rc = run(&s);
    }
    int frc = sender_fini(&s);
    return rc < 0 || frc < 0 ? 1 : 0;
}
