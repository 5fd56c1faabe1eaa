/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram throughput on one core and the memory of a full histogram set.
 *  (a) fm_hist_add: N heavy-tailed values (flow lengths: Pareto, ~48 % one-packet flows as in
 *      agh_2015, up to ~1e8; sizes up to ~1e11 bytes) into one histogram, for b = 12 and b = 0.
 *  (b) fm_histset_add_flows: N flows (a third of them biflows, TCP/UDP/other mix) into a full
 *      set: 2 classes x (uniflow per direction + biflow) x 3 metrics per flow.
 *  (c) fm_histset_memory of that set after the run, for b = 12 and b = 0.
 * Values are generated before timing, so only the histogram code is measured.
 * Usage: bench/hist [N [REPEAT]]   (default N = 4 000 000 flows, REPEAT = 5 passes)
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "hist.h"
#include "util/mem.h"
#include "util/time.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double uniform01(void)
{
    return ((double)(xorshift() >> 11) + 0.5) / 9007199254740992.0;
}

/* Flow length: half the flows have one packet, the rest a Pareto tail (alpha 0.9). */
static uint64_t gen_length(void)
{
    if (uniform01() < 0.48) {
        return 1;
    }
    double x = 2.0 / pow(uniform01(), 1.0 / 0.9);
    return x > 2e8 ? 200000000u : (uint64_t)x;
}

static void gen_flow(fm_flow_t *f, uint64_t t0)
{
    static const uint8_t protos[8] = {6, 6, 6, 6, 17, 17, 17, 1};
    memset(f, 0, sizeof(*f));
    f->proto = protos[xorshift() & 7];
    f->packets = gen_length();
    f->octets = f->packets * (64 + xorshift() % 1437);
    f->first_ms = t0 + xorshift() % 3600000;
    f->last_ms = f->first_ms + (f->packets > 1 ? xorshift() % (300000 + f->packets) : 0);
    if (xorshift() % 3 == 0) {
        f->flags = FM_FLOW_BIFLOW;
        f->rev_packets = gen_length();
        f->rev_octets = f->rev_packets * (64 + xorshift() % 1437);
        f->rev_first_ms = f->first_ms + xorshift() % 100;
        f->rev_last_ms = f->rev_first_ms + (f->rev_packets > 1 ? xorshift() % 300000 : 0);
    }
}

static double bench_add(unsigned b, const uint64_t *x, const uint64_t *oct, size_t n, int reps,
                        size_t *bins)
{
    fm_hist_t *h;
    if (fm_hist_new(b, &h) < 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) { /* warm up: allocate every chunk once */
        fm_hist_add(h, x[i], x[i], oct[i]);
    }
    uint64_t t = fm_time_mono_ns();
    for (int r = 0; r < reps; r++) {
        for (size_t i = 0; i < n; i++) {
            fm_hist_add(h, x[i], x[i], oct[i]);
        }
    }
    t = fm_time_mono_ns() - t;
    *bins = fm_hist_count(h);
    fm_hist_free(h);
    return (double)n * reps / ((double)t / 1e9);
}

static void bench_set(unsigned b, const fm_flow_t *flows, size_t n, int reps)
{
    fm_histset_t *s;
    if (fm_histset_new(b, &s) < 0) {
        return;
    }
    uint64_t t = fm_time_mono_ns();
    for (int r = 0; r < reps; r++) {
        for (size_t i = 0; i < n; i += 64) { /* batches as the cache hands them over */
            fm_histset_add_flows(s, flows + i, n - i < 64 ? n - i : 64);
        }
    }
    t = fm_time_mono_ns() - t;
    size_t bins = 0;
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                bins += fm_hist_count(fm_histset_cget(s, (fm_class_t)c, (fm_dir_t)d,
                                                      (fm_metric_t)m));
            }
        }
    }
    printf("fm_histset_add_flows b=%-2u %8.2f M flows/s  (%d x %zu flows)\n", b,
           (double)n * reps / ((double)t / 1e9) / 1e6, reps, n);
    printf("fm_histset_memory    b=%-2u %8.2f MiB for %zu non-empty bins in 24 histograms\n", b,
           (double)fm_histset_memory(s) / 1048576.0, bins);
    fm_histset_free(s);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (n == 0 || reps <= 0) {
        fprintf(stderr, "usage: bench/hist [N [REPEAT]]\n");
        return 2;
    }
    uint64_t *len = fm_xcalloc(n, sizeof(*len)), *size = fm_xcalloc(n, sizeof(*size));
    fm_flow_t *flows = fm_xcalloc(n, sizeof(*flows));
    for (size_t i = 0; i < n; i++) {
        gen_flow(&flows[i], 1433962800000ull);
        len[i] = flows[i].packets;
        size[i] = flows[i].octets;
    }
    printf("one core, %zu generated flows (max length %" PRIu64 "), %d passes\n", n,
           (uint64_t)2e8, reps);
    for (unsigned b = 12;; b = 0) {
        size_t bins;
        double r = bench_add(b, len, size, n, reps, &bins);
        printf("fm_hist_add length   b=%-2u %8.2f M adds/s   (%zu bins)\n", b, r / 1e6, bins);
        r = bench_add(b, size, len, n, reps, &bins);
        printf("fm_hist_add size     b=%-2u %8.2f M adds/s   (%zu bins)\n", b, r / 1e6, bins);
        if (b == 0) {
            break;
        }
    }
    bench_set(12, flows, n, reps);
    bench_set(0, flows, n, 1);
    free(len);
    free(size);
    free(flows);
    return 0;
}
