/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The data path on every core (issue 16 item 4): records from memory through decode → cache
 * shards → histograms, with [daemon] workers = 1 (everything on this thread, as flowmixd's
 * single-thread path) and workers = 2, 3, ... (this thread decodes and hands records to shard
 * threads over the SPSC rings; each shard merges and pairs in its cache and adds its finished
 * flows to a histogram delta of its own).  Input: IPFIX datagrams (1400-byte MTU, templates every
 * 20 datagrams) of NFLOWS distinct flows, 10 % IPv6, each a new flow; every pass decodes all
 * of them and flushes the shards at the end, as `flowmixctl flush` does, so each pass's flows
 * go through the cache and into the histograms.  The same work in every run, as in flowmixd
 * (histsink.h): one partial histogram set update per finished flow (its own class), whatever
 * the worker count, and the "all" class added per bin when the deltas are merged at the end.
 *
 * Prints records/s (wall clock: what the machine delivers) per worker count, the ratio to one
 * worker, and whether the merged histograms are bit-identical to one worker's; the CPU seconds
 * per million records of all threads and of each thread; and a bound for an idle 2-core
 * machine, from the busiest thread's CPU time and half the total (/proc/self/task), which is
 * what a shared machine's wall clock cannot show.  A round runs every worker count once, one
 * after the other; rounds repeat that, so a change in the machine's speed (this is a shared
 * virtual machine) hits all worker counts alike, and the summary gives the median ratio.  Run
 * it under flock /tmp/fm-bench.lock and read the load it prints.
 * Usage: bench/pipeline [passes, default 10] [max workers, default 2] [rounds, default 3]
 */
#include "config.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "decode/decode.h"
#include "encode.h"
#include "hist.h"
#include "shard.h"
#include "util/time.h"

#define NFLOWS 300000
#define T0 UINT64_C(1700000000000)
#define BIN_EXP 12

typedef struct {
    uint8_t *buf;
    size_t *off, *len, n;
} dgrams_t;

typedef struct {
    fm_histset_t *delta[FM_SHARDS_MAX];
} lanes_t;

static void make_flows(fm_flow_t *f, size_t n)
{
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memset(&f[i], 0, sizeof(f[i]));
        f[i].af = i % 10 == 9 ? FM_AF_INET6 : FM_AF_INET;
        if (f[i].af == FM_AF_INET6) {
            memcpy(f[i].src, &x, 8);
            memcpy(f[i].dst + 8, &i, sizeof(i));
        } else {
            fm_flow_set_v4(f[i].src, (uint32_t)x);
            fm_flow_set_v4(f[i].dst, (uint32_t)i); /* distinct keys */
        }
        f[i].proto = x % 3 ? 6 : 17;
        f[i].sport = (uint16_t)(x >> 16);
        f[i].dport = x % 2 ? 443 : 53;
        f[i].packets = 1 + x % 1000;
        f[i].octets = f[i].packets * (40 + x % 1400);
        f[i].first_ms = T0 + i / 10;
        f[i].last_ms = f[i].first_ms + x % 10000;
    }
}

static void build(const fm_flow_t *flows, dgrams_t *g)
{
    fm_encode_conf_t c;
    fm_encoder_t *e;
    size_t w = 0, i = 0;

    fm_encode_conf_default(&c, 10);
    fm_encoder_new(&c, &e);
    g->buf = malloc((size_t)NFLOWS * 100 + 65536);
    g->off = malloc(NFLOWS * sizeof(size_t));
    g->len = malloc(NFLOWS * sizeof(size_t));
    g->n = 0;
    while (i < NFLOWS) {
        int used = fm_encoder_datagram(e, flows + i, NFLOWS - i, T0 + 120000, g->buf + w, 1400,
                                       &g->len[g->n]);
        g->off[g->n] = w;
        w += g->len[g->n++];
        i += (size_t)used;
    }
    fm_encoder_free(e);
}

static void lane_add(void *ctx, const fm_flow_t *flows, size_t n)
{
    fm_histset_add_flows_partial(ctx, flows, n); /* as flowmixd's lanes (histsink.h) */
}

static fm_sink_t finished(void *ctx, unsigned i)
{
    lanes_t *l = ctx;
    return (fm_sink_t){lane_add, l->delta[i]};
}

static void to_shards(void *ctx, const fm_flow_t *flows, size_t n)
{
    fm_sink_put(*(fm_sink_t *)ctx, flows, n);
}

/* CPU seconds of the whole process (all threads) so far. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* CPU seconds (utime + stime) of every thread of this process, by /proc task order: [0] this
 * thread, then the others; @return the number of threads read (at most max). */
static size_t thread_cpu(double *out, size_t max)
{
    DIR *dir = opendir("/proc/self/task");
    struct dirent *e;
    size_t n = 1;
    long hz = sysconf(_SC_CLK_TCK);
    out[0] = 0;
    while (dir && (e = readdir(dir))) {
        char path[300], buf[1024];
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) {
            continue;
        }
        size_t len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[len] = 0;
        char *p = strrchr(buf, ')'); /* fields after the command name */
        unsigned long ut = 0, st = 0;
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                         &st) != 2) {
            continue;
        }
        double cpu = (double)(ut + st) / (double)hz;
        if (atoi(e->d_name) == (int)getpid()) {
            out[0] = cpu; /* the main thread's task id is the process id */
        } else if (n < max) {
            out[n++] = cpu;
        }
    }
    if (dir) {
        closedir(dir);
    }
    return n;
}

/* One run: passes over the datagrams; the merged histograms go to *out, the CPU seconds of all
 * threads to *cpu.  @return records/s. */
static double run(unsigned workers, const dgrams_t *g, unsigned passes, fm_histset_t **out,
                  uint64_t *records, double *cpu, double *busiest, char *threads, size_t tlen)
{
    double tc[FM_SHARDS_MAX + 1];
    fm_shards_conf_t sc = {.workers = workers};
    lanes_t l;
    fm_shards_t *s;
    fm_decoder_t *d;
    fm_cache_stats_t st;

    for (unsigned i = 0; i < workers; i++) {
        fm_histset_new(BIN_EXP, &l.delta[i]);
    }
    fm_shards_ops_t ops = {.finished = finished, .ctx = &l};
    fm_cache_conf_default(&sc.cache);
    sc.cache.memory_mib = 128;
    sc.cache.prefault = true; /* as flowmixd: page faults before, not during the run */
    if (fm_shards_new(&sc, &ops, &s) < 0 || fm_decoder_new(NULL, 1, &d) < 0) {
        fprintf(stderr, "pipeline: cannot create shards or decoder\n");
        exit(1);
    }
    fm_sink_t in = fm_shards_sink(s);
    thread_cpu(tc, 1);
    double main_cpu0 = tc[0];
    double c0 = cpu_s();
    uint64_t t0 = fm_time_mono_ns();
    for (unsigned p = 0; p < passes; p++) {
        for (size_t i = 0; i < g->n; i++) {
            fm_decoder_process(d, g->buf + g->off[i], g->len[i], T0 + 120000, to_shards, &in);
            if (i % 64 == 63) {
                fm_shards_push(s); /* as the daemon's loop does after each receive burst */
            }
        }
        fm_shards_flush(s);
    }
    double secs = (double)(fm_time_mono_ns() - t0) / 1e9;
    *cpu = cpu_s() - c0;
    /* The busiest thread (the shards' threads started with the run; this thread also built
     * nothing since c0): with it, what two cores of its own would give (see main). */
    size_t nt = thread_cpu(tc, FM_SHARDS_MAX + 1);
    *busiest = 0;
    size_t w = 0;
    for (size_t i = 0; i < nt; i++) {
        double t = i == 0 ? tc[0] - main_cpu0 : tc[i];
        *busiest = t > *busiest ? t : *busiest;
        int k = snprintf(threads + w, tlen - w, "%s%.2f", i ? " " : "", t);
        w += k > 0 && (size_t)k < tlen - w ? (size_t)k : 0;
    }
    fm_shards_stats(s, &st, NULL);
    *records = fm_decoder_stats(d)->records;
    if (st.inserts != *records || st.emitted != *records) {
        printf("pipeline: %u workers: %llu records decoded, %llu inserted, %llu flows out\n",
               workers, (unsigned long long)*records, (unsigned long long)st.inserts,
               (unsigned long long)st.emitted);
    }
    fm_shards_free(s);
    fm_decoder_free(d);
    fm_histset_new(BIN_EXP, out); /* as flowmixd merges its lanes: the "all" class added here */
    for (unsigned i = 0; i < workers; i++) {
        fm_histset_merge_partial(*out, l.delta[i]);
        fm_histset_free(l.delta[i]);
    }
    return (double)*records / secs;
}

/* Bit-identical: every bin of the 24 histograms. */
static bool same(fm_histset_t *a, fm_histset_t *b)
{
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int dir = 0; dir < FM_DIR_COUNT; dir++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                fm_hist_bin_t *x = NULL, *y = NULL;
                long nx = fm_hist_bins(fm_histset_get(a, c, dir, m), &x);
                long ny = fm_hist_bins(fm_histset_get(b, c, dir, m), &y);
                bool eq = nx == ny && nx >= 0 && !memcmp(x, y, (size_t)nx * sizeof(*x));
                free(x);
                free(y);
                if (!eq) {
                    return false;
                }
            }
        }
    }
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_ROUNDS 99

int main(int argc, char **argv)
{
    unsigned passes = argc > 1 ? (unsigned)atoi(argv[1]) : 10;
    unsigned maxw = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
    unsigned rounds = argc > 3 ? (unsigned)atoi(argv[3]) : 3;
    static double ratio[FM_SHARDS_MAX + 1][MAX_ROUNDS], bound[FM_SHARDS_MAX + 1][MAX_ROUNDS];
    fm_flow_t *flows = malloc(NFLOWS * sizeof(*flows));
    double load[3] = {0};
    bool identical = true;
    dgrams_t g;

    if (passes < 1 || maxw < 1 || maxw > FM_SHARDS_MAX || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench/pipeline [passes >= 1] [max workers 1..%d] [rounds 1..%d]\n",
                FM_SHARDS_MAX, MAX_ROUNDS);
        return 2;
    }
    make_flows(flows, NFLOWS);
    build(flows, &g);
    free(flows);
    for (unsigned r = 0; r < rounds; r++) {
        fm_histset_t *h1 = NULL;
        double r1 = 0, e1 = 1;
        for (unsigned w = 1; w <= maxw; w++) {
            double cpu, busiest;
            char threads[FM_SHARDS_MAX * 8 + 16];
            fm_histset_t *h;
            uint64_t n;
            double rate = run(w, &g, passes, &h, &n, &cpu, &busiest, threads, sizeof(threads));
            /* On two cores of its own a run takes at least its busiest thread's CPU time and
             * half its total CPU time: an upper bound of the rate on an idle 2-core machine,
             * where the wall clock on this shared one also counts other people's processes. */
            double est = (double)n / (busiest > cpu / 2 ? busiest : cpu / 2);
            if (getloadavg(load, 3) < 0) {
                load[0] = -1;
            }
            printf("round %u workers=%u: %.0f records/s (%llu records, %.3f CPU s per M, threads' "
                   "CPU s %s; load %.2f); 2-idle-core bound %.0f records/s", r + 1, w, rate,
                   (unsigned long long)n, cpu * 1e6 / (double)n, threads, load[0], est);
            if (w == 1) {
                r1 = rate;
                e1 = est;
                h1 = h;
                printf("\n");
                continue;
            }
            bool same_h = same(h, h1);
            identical = identical && same_h;
            ratio[w][r] = rate / r1;
            bound[w][r] = est / e1;
            printf(" (%.2fx); %.2fx workers=1 (wall clock), histograms %s\n", bound[w][r],
                   ratio[w][r], same_h ? "bit-identical" : "DIFFERENT");
            fflush(stdout);
            fm_histset_free(h);
        }
        fm_histset_free(h1);
    }
    for (unsigned w = 2; w <= maxw; w++) {
        printf("median of %u rounds: workers=%u %.2fx workers=1 (wall clock), 2-idle-core bound "
               "%.2fx; histograms %s\n", rounds, w, median(ratio[w], rounds),
               median(bound[w], rounds), identical ? "bit-identical in every round" : "DIFFERENT");
    }
    free(g.buf);
    free(g.off);
    free(g.len);
    return identical ? 0 : 1;
}
