/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flow cache throughput on one core.
 *  (a) live:   N live flows (default 1 000 000), ROUNDS rounds in which every flow gets one more
 *              active-timeout piece, in a shuffled order: every insert is a lookup + merge.
 *  (b) churn:  new flows only (each record its own short flow) through a full 64 MiB cache:
 *              lookup miss + eviction of the entry closest to expiry + insert.
 *  (c) expire: advancing the clock over N cached flows.
 * Prints records per second and the bytes per cached flow.
 * Usage: bench/cache [N [ROUNDS]]
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "util/time.h"

#define BATCH 64 /* records per decoded datagram batch */

static uint64_t emitted;

static void sink(void *ctx, const fm_flow_t *flows, size_t n)
{
    (void)ctx;
    (void)flows;
    emitted += n;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void make_record(fm_flow_t *f, uint32_t i)
{
    memset(f, 0, sizeof(*f));
    fm_flow_set_v4(f->src, 0x0a000000u + i);
    fm_flow_set_v4(f->dst, 0xc0a80000u + (i % 251));
    f->af = FM_AF_INET;
    f->proto = (i & 1) ? 6 : 17;
    f->sport = (uint16_t)(1024 + i % 60000);
    f->dport = 443;
    f->packets = 10;
    f->octets = 1000;
    f->records = 1;
    f->sampling = 1;
    f->exporter = 1 + (i & 3);
}

static double rate(uint64_t n, uint64_t ns)
{
    return (double)n * 1e9 / (double)(ns ? ns : 1);
}

/* (a) live flows: pieces of 290 s with 1 s gaps, so every piece stays open and merges;
 * then (c) expire them all by advancing the clock past every deadline. */
static void run_live(fm_flow_t *recs, const uint32_t *order, uint32_t n, uint32_t rounds,
                     bool batch)
{
    const uint64_t t0 = 1433962800000ULL, wall = 1700000000000ULL;
    fm_cache_conf_t conf;
    fm_cache_stats_t st;
    fm_cache_t *c;
    uint64_t ns = 0, total = 0, ns0 = 0;

    fm_cache_conf_default(&conf);
    if (fm_cache_new(&conf, (fm_sink_t){sink, NULL}, &c) < 0) {
        fprintf(stderr, "cache: cannot allocate the cache\n");
        exit(1);
    }
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t i = 0; i < n; i++) {
            recs[i].first_ms = t0 + (uint64_t)r * 291000 + order[i] % 1000;
            recs[i].last_ms = recs[i].first_ms + 290000;
        }
        uint64_t start = fm_time_mono_ns();
        if (batch) {
            for (uint32_t i = 0; i < n; i += BATCH) {
                fm_cache_insert_batch(c, &recs[i], n - i < BATCH ? n - i : BATCH);
            }
        } else {
            for (uint32_t i = 0; i < n; i++) {
                fm_cache_insert(c, &recs[i]);
            }
        }
        ns += fm_time_mono_ns() - start;
        total += n;
        if (r == 0) {
            ns0 = ns; /* first round: new entries and first-touch page faults */
        }
    }
    fm_cache_stats(c, &st);
    if (rounds > 1) {
        printf("live:   steady state (rounds 2..%" PRIu32 ", every record a merge): %.2f M "
               "records/s\n", rounds, rate(total - n, ns - ns0) / 1e6);
    }
    printf("live:   %" PRIu32 " live flows, %" PRIu64 " records, %-21s %6.2f M records/s "
           "(%.1f ns/record), merges %" PRIu64 "\n",
           n, total, batch ? "fm_cache_insert_batch:" : "fm_cache_insert:", rate(total, ns) / 1e6,
           (double)ns / (double)total, st.merges);
    if (batch) {
        printf("memory: %" PRIu64 " entries in %" PRIu64 " bytes = %" PRIu64
               " bytes per cached flow (120-byte entry + bucket heads)\n",
               st.capacity, st.bytes, st.bytes_per_entry);
        fm_cache_advance(c, wall);
        uint64_t start = fm_time_mono_ns();
        for (uint32_t s = 0; s <= 700; s += 1) {
            fm_cache_advance(c, wall + (uint64_t)s * 1000);
        }
        ns = fm_time_mono_ns() - start;
        fm_cache_stats(c, &st);
        printf("expire: %" PRIu64 " flows expired by 701 one-second ticks in %.1f ms "
               "(%.2f M flows/s), %" PRIu64 " left\n",
               st.expired, (double)ns / 1e6, rate(st.expired, ns) / 1e6, st.entries);
    }
    fm_cache_free(c);
}

/* (b) churn: every record is a new short flow; the 64 MiB cache stays full. */
static void run_churn(fm_flow_t *recs, uint32_t n)
{
    const uint64_t t0 = 1433962800000ULL;
    fm_cache_conf_t conf;
    fm_cache_stats_t st;
    fm_cache_t *c;
    uint64_t ns = 0, total = 0;

    fm_cache_conf_default(&conf);
    conf.memory_mib = 64;
    if (fm_cache_new(&conf, (fm_sink_t){sink, NULL}, &c) < 0) {
        exit(1);
    }
    for (uint32_t r = 0; r < 3; r++) {
        for (uint32_t i = 0; i < n; i++) {
            recs[i].first_ms = recs[i].last_ms = t0 + (uint64_t)r * 1000 + i / 1000;
            recs[i].sport = (uint16_t)(r * 7 + i);
            recs[i].dport = (uint16_t)(r + 1);
        }
        uint64_t s0 = fm_time_mono_ns();
        for (uint32_t i = 0; i < n; i += BATCH) {
            fm_cache_insert_batch(c, &recs[i], n - i < BATCH ? n - i : BATCH);
        }
        ns += fm_time_mono_ns() - s0;
        total += n;
    }
    fm_cache_stats(c, &st);
    printf("churn:  %" PRIu64 " new flows through %" PRIu64 " entries: %.2f M records/s, "
           "evicted %" PRIu64 "\n",
           total, st.capacity, rate(total, ns) / 1e6, st.evicted);
    fm_cache_flush(c);
    fm_cache_free(c);
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
    uint32_t rounds = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 10;

    if (n == 0 || rounds == 0) {
        fprintf(stderr, "usage: cache [N [ROUNDS]]\n");
        return 2;
    }
    fm_flow_t *recs = malloc((size_t)n * sizeof(*recs));
    uint32_t *order = malloc((size_t)n * sizeof(*order));
    if (!recs || !order) {
        fprintf(stderr, "cache: out of memory\n");
        return 1;
    }
    /* Records arrive in a random flow order but are read sequentially, as from a decoder. */
    for (uint32_t i = 0; i < n; i++) {
        order[i] = i;
    }
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(xorshift() % (i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (uint32_t i = 0; i < n; i++) {
        make_record(&recs[i], order[i]);
    }
    run_live(recs, order, n, rounds, false);
    run_live(recs, order, n, rounds, true);
    run_churn(recs, n);
    free(recs);
    free(order);
    return 0;
}
