/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the flow cache: active-timeout merges (in order, reversed, overlapping), the
 * inactive-timeout boundary, biflow pairing, IPv6, per-exporter separation and timeouts, expiry
 * on the source clock, eviction without loss, the flow-models test vector, ft-profiler rules.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cache.h"
#include "flow.h"
#include "util/err.h"

#define S 1000ULL /* ms per second */
#define T0 1433962800000ULL

typedef struct sink {
    fm_flow_t *f;
    size_t n, cap;
    size_t calls;
} sink_t;

static void collect(void *ctx, const fm_flow_t *flows, size_t n)
{
    sink_t *k = ctx;
    k->calls++;
    if (k->n + n > k->cap) {
        k->cap = (k->n + n) * 2;
        k->f = realloc(k->f, k->cap * sizeof(*k->f));
        assert_non_null(k->f);
    }
    memcpy(k->f + k->n, flows, n * sizeof(*flows));
    k->n += n;
}

static fm_cache_t *make(sink_t *k, bool biflow, int mode, uint32_t max_entries)
{
    fm_cache_conf_t conf;
    fm_cache_t *c = NULL;
    fm_cache_conf_default(&conf);
    conf.biflow = biflow;
    conf.mode = mode;
    conf.max_entries = max_entries;
    memset(k, 0, sizeof(*k));
    assert_int_equal(fm_cache_new(&conf, (fm_sink_t){collect, k}, &c), 0);
    return c;
}

static fm_flow_t rec4(uint32_t sa, uint32_t da, uint16_t sp, uint16_t dp, uint64_t first,
                      uint64_t last, uint64_t packets)
{
    fm_flow_t f;
    memset(&f, 0, sizeof(f));
    fm_flow_set_v4(f.src, sa);
    fm_flow_set_v4(f.dst, da);
    f.af = FM_AF_INET;
    f.proto = 6;
    f.sport = sp;
    f.dport = dp;
    f.first_ms = first;
    f.last_ms = last;
    f.packets = packets;
    f.octets = packets * 100;
    f.records = 1;
    f.sampling = 1;
    f.exporter = 1;
    return f;
}

/* The five records of one flow cut by a 300 s active timeout; the last one is short. */
static void five_pieces(fm_flow_t p[5])
{
    for (int i = 0; i < 5; i++) {
        uint64_t start = T0 + (uint64_t)i * 300 * S;
        p[i] = rec4(0x0a000001, 0x0a000002, 1000, 80, start,
                    start + (i < 4 ? 299 * S + 500 : 40 * S), 10 + (uint64_t)i);
    }
}

static void check_one_flow(const sink_t *k, uint64_t packets, uint32_t records)
{
    assert_int_equal(k->n, 1);
    assert_int_equal(k->f[0].packets, packets);
    assert_int_equal(k->f[0].octets, packets * 100);
    assert_int_equal(k->f[0].records, records);
    assert_int_equal(k->f[0].first_ms, T0);
    assert_int_equal(k->f[0].last_ms, T0 + 1200 * S + 40 * S);
}

static void test_split_in_order(void **state)
{
    (void)state;
    for (int biflow = 0; biflow < 2; biflow++) {
        sink_t k;
        fm_cache_t *c = make(&k, biflow, FM_CACHE_MODE_MERGE, 0);
        fm_flow_t p[5];
        five_pieces(p);
        for (int i = 0; i < 5; i++) {
            fm_cache_insert(c, &p[i]);
        }
        fm_cache_advance(c, T0);
        /* Uniflow: the short last piece closes the flow at once.  Biflow: it waits for a
         * reverse direction until it expires or is flushed. */
        assert_int_equal(k.n, biflow ? 0 : 1);
        fm_cache_flush(c);
        check_one_flow(&k, 10 + 11 + 12 + 13 + 14, 5);
        assert_int_equal(k.f[0].flags & FM_FLOW_FLUSHED, biflow ? FM_FLOW_FLUSHED : 0);
        fm_cache_stats_t st;
        fm_cache_stats(c, &st);
        assert_int_equal(st.merges, 4);
        assert_int_equal(st.entries, 0);
        fm_cache_free(c);
        free(k.f);
    }
}

static void test_split_swapped(void **state)
{
    (void)state;
    static const int orders[][5] = {
        {0, 1, 2, 3, 4}, {1, 0, 2, 3, 4}, {2, 1, 0, 3, 4}, {0, 1, 2, 4, 3}, {0, 2, 1, 3, 4}};
    for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
        sink_t k;
        fm_cache_t *c = make(&k, false, FM_CACHE_MODE_MERGE, 0);
        fm_flow_t p[5];
        five_pieces(p);
        for (int i = 0; i < 5; i++) {
            fm_cache_insert(c, &p[orders[o][i]]);
        }
        fm_cache_flush(c);
        if (o < 3) {
            check_one_flow(&k, 60, 5);
        } else {
            /* A later piece arrives across a 300 s hole, so flow-models (and we) cannot join
             * them; the short last piece ahead of its predecessor ends the flow early. */
            uint64_t sum = 0;
            for (size_t i = 0; i < k.n; i++) {
                sum += k.f[i].packets;
            }
            assert_true(k.n > 1);
            assert_int_equal(sum, 60);
        }
        fm_cache_free(c);
        free(k.f);
    }
}

static void test_inactive_boundary(void **state)
{
    (void)state;
    for (uint64_t gap = 14999; gap <= 15000; gap++) {
        sink_t k;
        fm_cache_t *c = make(&k, false, FM_CACHE_MODE_MERGE, 0);
        fm_flow_t a = rec4(1, 2, 3, 4, T0, T0 + 299 * S, 50);
        fm_flow_t b = rec4(1, 2, 3, 4, T0 + 299 * S + gap, T0 + 299 * S + gap, 1);
        fm_cache_insert(c, &a);
        fm_cache_insert(c, &b);
        fm_cache_flush(c);
        if (gap < 15000) {
            assert_int_equal(k.n, 1);
            assert_int_equal(k.f[0].packets, 51);
            assert_int_equal(k.f[0].records, 2);
        } else {
            /* At the inactive timeout the 1-packet record starts a new flow. */
            assert_int_equal(k.n, 2);
            assert_int_equal(k.f[0].packets, 50);
            assert_int_equal(k.f[1].packets, 1);
            assert_int_equal(k.f[1].first_ms, T0 + 314 * S);
        }
        fm_cache_free(c);
        free(k.f);
    }
}

static void test_biflow_pair(void **state)
{
    (void)state;
    for (int rev_first = 0; rev_first < 2; rev_first++) {
        sink_t k;
        fm_cache_t *c = make(&k, true, FM_CACHE_MODE_MERGE, 0);
        fm_flow_t a = rec4(0xc0a80001, 0x08080808, 40000, 53, T0, T0 + 10, 1);
        fm_flow_t b = rec4(0x08080808, 0xc0a80001, 53, 40000, T0 + 30, T0 + 35, 2);
        a.tcp_flags = 0x02;
        b.tcp_flags = 0x12;
        fm_cache_insert(c, rev_first ? &b : &a);
        fm_cache_insert(c, rev_first ? &a : &b);
        fm_cache_advance(c, T0);
        /* Both directions are short, so the pair is finished at once. */
        assert_int_equal(k.n, 1);
        const fm_flow_t *f = &k.f[0];
        const fm_flow_t *fw = rev_first ? &b : &a, *rv = rev_first ? &a : &b;
        assert_true(f->flags & FM_FLOW_BIFLOW);
        assert_memory_equal(f->src, fw->src, 16);
        assert_int_equal(f->sport, fw->sport);
        assert_int_equal(f->packets, fw->packets);
        assert_int_equal(f->octets, fw->octets);
        assert_int_equal(f->rev_packets, rv->packets);
        assert_int_equal(f->rev_octets, rv->octets);
        assert_int_equal(f->first_ms, fw->first_ms);
        assert_int_equal(f->last_ms, fw->last_ms);
        assert_int_equal(f->rev_first_ms, rv->first_ms);
        assert_int_equal(f->rev_last_ms, rv->last_ms);
        assert_int_equal(f->tcp_flags, fw->tcp_flags);
        assert_int_equal(f->rev_tcp_flags, rv->tcp_flags);
        assert_int_equal(f->records, 2);
        assert_int_equal(f->fwd_first, 1);
        fm_cache_stats_t st;
        fm_cache_stats(c, &st);
        assert_int_equal(st.biflow_pairs, 1);
        fm_cache_free(c);
        free(k.f);
    }
}

static void test_biflow_far_apart(void **state)
{
    (void)state;
    sink_t k;
    fm_cache_t *c = make(&k, true, FM_CACHE_MODE_MERGE, 0);
    fm_flow_t a = rec4(1, 2, 10, 20, T0, T0 + 10, 1);
    fm_flow_t b = rec4(2, 1, 20, 10, T0 + 16 * S, T0 + 16 * S, 1);
    fm_cache_insert(c, &a);
    fm_cache_insert(c, &b);
    fm_cache_flush(c);
    assert_int_equal(k.n, 2);
    assert_false(k.f[0].flags & FM_FLOW_BIFLOW);
    assert_false(k.f[1].flags & FM_FLOW_BIFLOW);
    fm_cache_free(c);
    free(k.f);
}

/* Long biflow: both directions split by the active timeout, pieces interleaved. */
static void test_biflow_split(void **state)
{
    (void)state;
    sink_t k;
    fm_cache_t *c = make(&k, true, FM_CACHE_MODE_MERGE, 0);
    for (int i = 0; i < 3; i++) {
        uint64_t st = T0 + (uint64_t)i * 300 * S, dur = i < 2 ? 299 * S : 20 * S;
        fm_flow_t a = rec4(5, 6, 7, 8, st, st + dur, 100);
        fm_flow_t b = rec4(6, 5, 8, 7, st + 5, st + dur + 5, 50);
        fm_cache_insert(c, &a);
        fm_cache_insert(c, &b);
    }
    fm_cache_advance(c, T0);
    assert_int_equal(k.n, 1);
    assert_int_equal(k.f[0].packets, 300);
    assert_int_equal(k.f[0].rev_packets, 150);
    assert_int_equal(k.f[0].records, 6);
    assert_int_equal(k.f[0].last_ms, T0 + 620 * S);
    assert_int_equal(k.f[0].rev_last_ms, T0 + 620 * S + 5);
    fm_cache_free(c);
    free(k.f);
}

static void test_ipv6(void **state)
{
    (void)state;
    sink_t k;
    fm_cache_t *c = make(&k, true, FM_CACHE_MODE_MERGE, 0);
    fm_flow_t a = rec4(0, 0, 443, 50000, T0, T0 + 100, 3), b;
    uint8_t af;
    assert_int_equal(fm_flow_addr_parse("2001:db8::1", a.src, &af), 0);
    assert_int_equal(fm_flow_addr_parse("2001:db8::2", a.dst, &af), 0);
    a.af = FM_AF_INET6;
    b = a;
    memcpy(b.src, a.dst, 16);
    memcpy(b.dst, a.src, 16);
    b.sport = a.dport;
    b.dport = a.sport;
    b.packets = 4;
    b.octets = 400;
    /* A v4 flow whose mapped address and ports collide with nothing. */
    fm_flow_t v4 = rec4(1, 2, 443, 50000, T0, T0 + 100, 9);
    fm_cache_insert(c, &a);
    fm_cache_insert(c, &v4);
    fm_cache_insert(c, &b);
    fm_cache_flush(c);
    assert_int_equal(k.n, 2);
    const fm_flow_t *f = k.f[0].af == FM_AF_INET6 ? &k.f[0] : &k.f[1];
    assert_int_equal(f->af, FM_AF_INET6);
    assert_memory_equal(f->src, a.src, 16);
    assert_int_equal(f->packets, 3);
    assert_int_equal(f->rev_packets, 4);
    assert_true(f->flags & FM_FLOW_BIFLOW);
    fm_cache_free(c);
    free(k.f);
}

static void test_exporters(void **state)
{
    (void)state;
    sink_t k;
    fm_cache_t *c = make(&k, false, FM_CACHE_MODE_MERGE, 0);
    /* Exporter 2 cuts at 60 s and idles out at 5 s. */
    assert_int_equal(fm_cache_set_timeouts(c, 2, 60 * S, 5 * S), 0);
    assert_int_equal(fm_cache_set_timeouts(c, 3, 5 * S, 60 * S), FM_EINVAL);
    for (uint32_t e = 1; e <= 2; e++) {
        for (uint32_t dom = 0; dom < 2; dom++) {
            fm_flow_t a = rec4(1, 2, 3, 4, T0, T0 + 299 * S, 10);
            fm_flow_t b = rec4(1, 2, 3, 4, T0 + 309 * S, T0 + 310 * S, 1);
            a.exporter = b.exporter = e;
            a.domain = b.domain = dom;
            fm_cache_insert(c, &a);
            fm_cache_insert(c, &b);
        }
    }
    fm_cache_flush(c);
    /* Exporter 1 (15 s): merged, one flow per domain.  Exporter 2 (5 s): the 10 s gap splits. */
    size_t per[3] = {0};
    for (size_t i = 0; i < k.n; i++) {
        per[k.f[i].exporter]++;
        assert_true(k.f[i].packets == 11 ? k.f[i].exporter == 1 : k.f[i].exporter == 2);
    }
    assert_int_equal(per[1], 2);
    assert_int_equal(per[2], 4);
    fm_cache_free(c);
    free(k.f);
}

static void test_expiry_order(void **state)
{
    (void)state;
    sink_t k;
    fm_cache_t *c = make(&k, true, FM_CACHE_MODE_MERGE, 0);
    const uint64_t wall = 1700000000000ULL;
    /* Three short flows ending 10 s apart, inserted out of order; each expires at
     * last + 15 s + 5 s on the exporter's clock. */
    static const int ends[] = {20, 0, 10};
    for (int i = 0; i < 3; i++) {
        fm_flow_t f = rec4(1, 2, (uint16_t)(100 + ends[i]), 4, T0 + (uint64_t)ends[i] * S,
                           T0 + (uint64_t)ends[i] * S, 1);
        fm_cache_insert(c, &f);
    }
    fm_cache_advance(c, wall); /* clock = T0 + 20 s: the first deadline, not yet passed */
    assert_int_equal(k.n, 0);
    fm_cache_advance(c, wall + 5 * S);
    assert_int_equal(k.n, 1);
    assert_int_equal(k.f[0].sport, 100);
    fm_cache_advance(c, wall + 10 * S);
    assert_int_equal(k.n, 1);
    fm_cache_advance(c, wall + 10 * S + 1);
    assert_int_equal(k.n, 2);
    assert_int_equal(k.f[1].sport, 110);
    /* A record with a newer time moves the clock without wall time passing. */
    fm_flow_t late = rec4(9, 9, 9, 9, T0 + 41 * S, T0 + 41 * S, 1);
    fm_cache_insert(c, &late);
    fm_cache_advance(c, wall + 10 * S + 1);
    assert_int_equal(k.n, 3);
    assert_int_equal(k.f[2].sport, 120);
    assert_int_equal(k.f[2].flags, 0);
    fm_cache_stats_t st;
    fm_cache_stats(c, &st);
    assert_int_equal(st.expired, 3);
    assert_int_equal(st.entries, 1);
    fm_cache_free(c);
    free(k.f);
}

/* A long (possibly continued) record waits an active timeout longer than a short one. */
static void test_expiry_open(void **state)
{
    (void)state;
    sink_t k;
    fm_cache_t *c = make(&k, false, FM_CACHE_MODE_MERGE, 0);
    const uint64_t wall = 1700000000000ULL;
    fm_flow_t a = rec4(1, 2, 3, 4, T0, T0 + 299 * S, 10);
    fm_cache_insert(c, &a);
    fm_cache_advance(c, wall);
    fm_cache_advance(c, wall + 100 * S);
    assert_int_equal(k.n, 0);
    /* The continuation, exported at its end 290 s later, still joins. */
    fm_flow_t b = rec4(1, 2, 3, 4, T0 + 300 * S, T0 + 590 * S, 5);
    fm_cache_insert(c, &b);
    fm_cache_advance(c, wall + 100 * S);
    assert_int_equal(k.n, 0);
    /* b may itself be continued: due at 590 + 15 + 5 + 300 s on the clock. */
    fm_cache_advance(c, wall + 100 * S + 319 * S);
    assert_int_equal(k.n, 0);
    fm_cache_advance(c, wall + 100 * S + 321 * S);
    assert_int_equal(k.n, 1);
    assert_int_equal(k.f[0].packets, 15);
    assert_int_equal(k.f[0].records, 2);
    fm_cache_free(c);
    free(k.f);
}

static void sums(const sink_t *k, uint64_t *p, uint64_t *o, uint64_t *r)
{
    *p = *o = *r = 0;
    for (size_t i = 0; i < k->n; i++) {
        *p += k->f[i].packets + k->f[i].rev_packets;
        *o += k->f[i].octets + k->f[i].rev_octets;
        *r += k->f[i].records;
    }
}

static void test_eviction_no_loss(void **state)
{
    (void)state;
    unsigned seed = (unsigned)time(NULL);
    printf("# eviction seed %u\n", seed);
    srand(seed);
    for (int mode = 0; mode < 2; mode++) {
        for (int biflow = 0; biflow < 2; biflow++) {
            sink_t k;
            fm_cache_t *c = make(&k, biflow, mode, 64);
            uint64_t pin = 0, oin = 0, now = T0;
            for (int i = 0; i < 20000; i++) {
                uint32_t a = 1 + (uint32_t)(rand() % 300), b = 1 + (uint32_t)(rand() % 3);
                uint64_t dur = (uint64_t)(rand() % 4 == 0 ? 299000 : rand() % 20000);
                now += (uint64_t)(rand() % 50);
                fm_flow_t f = rand() % 2 ? rec4(a, b, 1, 2, now, now + dur, 1 + rand() % 9)
                                         : rec4(b, a, 2, 1, now, now + dur, 1 + rand() % 9);
                f.exporter = 1 + (uint32_t)(rand() % 3);
                pin += f.packets;
                oin += f.octets;
                fm_cache_insert(c, &f);
                if (i % 1000 == 0) {
                    fm_cache_advance(c, 1700000000000ULL + (uint64_t)i);
                }
            }
            fm_cache_stats_t st;
            fm_cache_stats(c, &st);
            assert_true(st.entries <= 64);
            fm_cache_flush(c);
            uint64_t p, o, r;
            sums(&k, &p, &o, &r);
            assert_int_equal(p, pin);
            assert_int_equal(o, oin);
            assert_int_equal(r, 20000);
            fm_cache_stats(c, &st);
            assert_true(st.evicted > 0);
            assert_int_equal(st.emitted, k.n);
            assert_int_equal(st.inserts, 20000);
            size_t ev = 0;
            for (size_t i = 0; i < k.n; i++) {
                ev += (k.f[i].flags & FM_FLOW_EVICTED) != 0;
            }
            assert_int_equal(ev, st.evicted);
            fm_cache_free(c);
            free(k.f);
        }
    }
}

/* FLOW-MODELS-DETAIL §2 test vector, with flowmix's documented differences: the overlapping
 * pair is kept as two flows and the reversed-order merge is not lost. */
static void test_flow_models_vector(void **state)
{
    (void)state;
    static const struct { uint16_t sp; uint64_t f, l, p; } in[] = {
        {10, 100000, 150000, 5},   {11, 1000000, 1299500, 10}, {11, 1305200, 1500000, 3},
        {12, 2000000, 2300000, 7}, {12, 2320000, 2700000, 8},  {13, 3000000, 3300000, 9},
        {13, 3200000, 3250000, 1}, {14, 5000000, 5299000, 4},  {14, 4600000, 4990000, 6},
        {15, 6000000, 6300900, 2}, {15, 6315800, 6400000, 2},  {16, 7000000, 7300900, 2},
        {16, 7315950, 7400000, 2},
    };
    static const struct { uint16_t sp; uint64_t f, l, p; uint32_t aggs; } want[] = {
        {10, 100000, 150000, 5, 1},  {11, 1000000, 1500000, 13, 2}, {12, 2000000, 2300000, 7, 1},
        {12, 2320000, 2700000, 8, 1}, {13, 3000000, 3300000, 9, 1}, {13, 3200000, 3250000, 1, 1},
        {14, 4600000, 5299000, 10, 2}, {15, 6000000, 6400000, 4, 2}, {16, 7000000, 7300900, 2, 1},
        {16, 7315950, 7400000, 2, 1},
    };
    sink_t k;
    fm_cache_t *c = make(&k, false, FM_CACHE_MODE_MERGE, 0);
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        fm_flow_t f = rec4(1, 2, in[i].sp, (uint16_t)(in[i].sp + 10), in[i].f, in[i].l, in[i].p);
        fm_cache_insert(c, &f);
    }
    fm_cache_flush(c);
    assert_int_equal(k.n, sizeof(want) / sizeof(want[0]));
    for (size_t w = 0; w < k.n; w++) {
        size_t hits = 0;
        for (size_t i = 0; i < k.n; i++) {
            const fm_flow_t *f = &k.f[i];
            hits += f->sport == want[w].sp && f->first_ms == want[w].f &&
                    f->last_ms == want[w].l && f->packets == want[w].p &&
                    f->octets == want[w].p * 100 && f->records == want[w].aggs;
        }
        assert_int_equal(hits, 1);
    }
    fm_cache_stats_t st;
    fm_cache_stats(c, &st);
    assert_int_equal(st.merge_conflicts, 1);
    assert_int_equal(st.merges, 3);
    fm_cache_free(c);
    free(k.f);
}

/* ft-profiler: duplicates absorbed as 1-packet records, the first reverse record pairs, a
 * second reverse 1-packet record joins too (FlowTest's "Flowmonexp collision" case). */
static void test_profile_rules(void **state)
{
    (void)state;
    sink_t k;
    fm_cache_t *c = make(&k, true, FM_CACHE_MODE_PROFILE, 0);
    assert_int_equal(fm_cache_set_timeouts(c, 1, 300 * S, 30 * S), 0);
    fm_flow_t a = rec4(1, 2, 37683, 53, T0, T0, 1), b = rec4(2, 1, 53, 37683, T0, T0, 1);
    b.octets = 80;
    fm_cache_insert(c, &a);
    fm_cache_insert(c, &a);
    fm_cache_insert(c, &b);
    b.octets = 64;
    fm_cache_insert(c, &b);
    /* A short flow far later replaces the cached one. */
    fm_flow_t d = rec4(1, 2, 37683, 53, T0 + 100 * S, T0 + 102 * S, 3);
    fm_cache_insert(c, &d);
    fm_cache_flush(c);
    assert_int_equal(k.n, 2);
    assert_int_equal(k.f[0].packets, 2);
    assert_int_equal(k.f[0].octets, 200);
    assert_int_equal(k.f[0].rev_packets, 2);
    assert_int_equal(k.f[0].rev_octets, 144);
    assert_int_equal(k.f[1].packets, 3);
    assert_int_equal(k.f[1].rev_packets, 0);
    fm_cache_free(c);
    free(k.f);
}

static void test_rfc5103_and_limits(void **state)
{
    (void)state;
    sink_t k;
    fm_cache_t *c = make(&k, true, FM_CACHE_MODE_MERGE, 0);
    fm_flow_t a = rec4(1, 2, 3, 4, T0, T0 + 5, 2);
    a.rev_packets = 3;
    a.rev_octets = 33;
    a.rev_first_ms = T0 + 1;
    a.rev_last_ms = T0 + 6;
    fm_cache_insert(c, &a);
    /* A record whose last precedes its first, and one with an absurd span: kept, not merged. */
    fm_flow_t bad = rec4(7, 8, 9, 10, T0 + 10, T0, 1), huge = rec4(7, 8, 9, 11, 0, T0, 1);
    fm_cache_insert(c, &bad);
    fm_cache_insert(c, &huge);
    fm_cache_flush(c);
    assert_int_equal(k.n, 3);
    uint64_t p, o, r;
    sums(&k, &p, &o, &r);
    assert_int_equal(p, 2 + 3 + 1 + 1);
    assert_int_equal(r, 3);
    for (size_t i = 0; i < k.n; i++) {
        if (k.f[i].sport == 3) {
            assert_int_equal(k.f[i].rev_packets, 3);
            assert_int_equal(k.f[i].rev_first_ms, T0 + 1);
        }
    }
    fm_cache_stats_t st;
    fm_cache_stats(c, &st);
    assert_true(st.bytes_per_entry <= 128);
    assert_true(st.bytes <= 256ULL << 20);
    printf("# %llu entries, %llu bytes per cached flow\n", (unsigned long long)st.capacity,
           (unsigned long long)st.bytes_per_entry);
    fm_cache_free(c);
    free(k.f);

    fm_cache_conf_t conf;
    fm_cache_conf_default(&conf);
    conf.inactive_ms = conf.active_ms + 1;
    assert_int_equal(fm_cache_new(&conf, (fm_sink_t){collect, &k}, &c), FM_EINVAL);
    fm_cache_conf_default(&conf);
    conf.memory_mib = 0;
    assert_int_equal(fm_cache_new(&conf, (fm_sink_t){collect, &k}, &c), FM_EINVAL);
    fm_cache_free(NULL);
}

/* Issue 20 item 2: 70000 records with distinct (domain, sampling) pairs.  The source table stays
 * within max_sources (evicting the smallest, nothing lost), an exporter arriving afterwards is
 * still merged, and sources are freed once their entries have left. */
/* A configured exporter address sending from ever new ports: one override per exporter id,
 * and each goes when ingest forgets its exporter (issue 20: nothing an exporter does may grow
 * the daemon without bound).  A cleared exporter is back on the default timeouts. */
static void test_clear_timeouts(void **state)
{
    (void)state;
    sink_t k;
    fm_cache_t *c = make(&k, false, FM_CACHE_MODE_MERGE, 0);
    fm_cache_stats_t st;
    for (uint32_t e = 1; e <= 5000; e++) {
        assert_int_equal(fm_cache_set_timeouts(c, e, 60 * S, 5 * S), 0);
        if (e > 3) {
            fm_cache_clear_timeouts(c, e - 3);
        }
    }
    fm_cache_stats(c, &st);
    assert_int_equal(st.timeout_overrides, 3);
    fm_cache_clear_timeouts(c, 424242); /* unknown: nothing happens */
    fm_cache_clear_timeouts(c, 4998);
    fm_cache_stats(c, &st);
    assert_int_equal(st.timeout_overrides, 2);
    /* 4998 idles out at the default 15 s again: a 10 s gap merges */
    fm_flow_t a = rec4(1, 2, 3, 4, T0, T0 + 299 * S, 10);
    fm_flow_t b = rec4(1, 2, 3, 4, T0 + 309 * S, T0 + 310 * S, 1);
    a.exporter = b.exporter = 4998;
    fm_cache_insert(c, &a);
    fm_cache_insert(c, &b);
    fm_cache_flush(c);
    assert_int_equal(k.n, 1);
    assert_int_equal(k.f[0].packets, 11);
    fm_cache_free(c);
    free(k.f);
}

static void test_source_flood(void **state)
{
    (void)state;
    sink_t k;
    fm_cache_t *c = make(&k, true, FM_CACHE_MODE_MERGE, 0);
    fm_cache_stats_t st;
    for (uint32_t i = 0; i < 70000; i++) {
        fm_flow_t f = rec4(0x0a000001, 0x0a000002, 1000, 80, T0, T0 + 400 * S, 10);
        f.domain = i % 256;
        f.sampling = 1 + i / 256;
        fm_cache_insert(c, &f);
        if (i % 10000 == 0) {
            fm_cache_advance(c, T0 + 400 * S);
        }
    }
    fm_cache_stats(c, &st);
    assert_true(st.sources <= st.max_sources);
    assert_int_equal(st.max_sources, 4096);
    assert_true(st.sources_evicted > 0);
    assert_true(st.source_bytes < 16u << 20);
    /* a real exporter restarting on a new port: its two halves merge */
    fm_flow_t a = rec4(0x0b000001, 0x0b000002, 2000, 443, T0, T0 + 300 * S, 5);
    fm_flow_t b = rec4(0x0b000001, 0x0b000002, 2000, 443, T0 + 301 * S, T0 + 320 * S, 5);
    a.exporter = b.exporter = 99;
    uint64_t merges = st.merges;
    fm_cache_insert(c, &a);
    fm_cache_insert(c, &b);
    fm_cache_stats(c, &st);
    assert_int_equal(st.merges, merges + 1);
    fm_cache_flush(c);
    fm_cache_advance(c, T0 + 500 * S);
    fm_cache_stats(c, &st);
    assert_int_equal(st.sources, 0); /* every entry left: every source freed */
    uint64_t packets = 0;
    for (size_t i = 0; i < k.n; i++) {
        packets += k.f[i].packets;
    }
    assert_int_equal(packets, 70000 * 10 + 10); /* nothing lost to evictions */
    fm_cache_free(c);
    free(k.f);
}

/* fm_cache_insert_batch hashes and looks up sources ahead of inserting (to prefetch) and hands
 * both to the insert: it must give exactly what fm_cache_insert on each record gives, also when
 * a record ahead adds a source that evicts the source of a record not yet inserted, the arena is
 * full, records are RFC 5103 biflows or lie (last before first), in every mode. */
static fm_flow_t random_rec(uint64_t *seed)
{
    uint64_t x = *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    uint32_t r = (uint32_t)(x >> 33);
    uint64_t first = T0 + (r % 4000) * 100;
    /* few addresses and ports: directions meet, flows merge, splits continue */
    fm_flow_t f = rec4(0x0a000000 + r % 5, 0x0a000000 + (r >> 3) % 5, (uint16_t)(1000 + (r >> 6) % 3),
                       (uint16_t)(80 + (r >> 8) % 2), first, first + (r >> 10) % (400 * S),
                       1 + (r >> 12) % 50);
    f.exporter = 1 + (r >> 14) % 3;
    f.domain = (r >> 16) % 3;
    f.inif = (r >> 18) % 2;
    f.outif = (r >> 19) % 2;
    if ((r >> 20) % 11 == 0) {
        f.last_ms = f.first_ms - 5; /* a lying exporter */
    }
    if ((r >> 24) % 7 == 0) {
        f.rev_packets = 1 + (r >> 27) % 9;
        f.rev_octets = f.rev_packets * 60;
        f.rev_first_ms = first + 3;
        f.rev_last_ms = first + 900;
    }
    return f;
}

static void test_batch_equals_single(void **state)
{
    (void)state;
    enum { N = 20000 };
    fm_flow_t *recs = malloc(N * sizeof(*recs));
    assert_non_null(recs);
    for (int mode = 0; mode < 2; mode++) {
        for (int biflow = 0; biflow < 2; biflow++) {
            uint64_t seed = 42 + (uint64_t)(mode * 2 + biflow);
            for (size_t i = 0; i < N; i++) {
                recs[i] = random_rec(&seed);
            }
            fm_cache_conf_t conf;
            fm_cache_conf_default(&conf);
            conf.biflow = biflow;
            conf.mode = mode ? FM_CACHE_MODE_PROFILE : FM_CACHE_MODE_MERGE;
            conf.max_entries = 40; /* full: evictions */
            conf.max_sources = 4;  /* 9 (exporter, domain) pairs: sources evicted mid-batch */
            sink_t one, bat;
            fm_cache_t *c1, *c2;
            memset(&one, 0, sizeof(one));
            memset(&bat, 0, sizeof(bat));
            assert_int_equal(fm_cache_new(&conf, (fm_sink_t){collect, &one}, &c1), 0);
            assert_int_equal(fm_cache_new(&conf, (fm_sink_t){collect, &bat}, &c2), 0);
            size_t i = 0, len = 1;
            while (i < N) {
                size_t n = len < N - i ? len : N - i;
                for (size_t j = i; j < i + n; j++) {
                    fm_cache_insert(c1, &recs[j]);
                }
                fm_cache_insert_batch(c2, &recs[i], n);
                i += n;
                len = len * 7 % 301 + 1; /* 1 to 301 records, also fewer than the look-ahead */
                fm_cache_advance(c1, recs[i - 1].first_ms + 20 * S);
                fm_cache_advance(c2, recs[i - 1].first_ms + 20 * S);
            }
            fm_cache_flush(c1);
            fm_cache_flush(c2);
            fm_cache_stats_t s1, s2;
            fm_cache_stats(c1, &s1);
            fm_cache_stats(c2, &s2);
            assert_memory_equal(&s1, &s2, sizeof(s1));
            assert_true(s1.evicted > 0 && s1.sources_evicted > 0 && s1.merges > 0);
            assert_int_equal(one.n, bat.n);
            assert_memory_equal(one.f, bat.f, one.n * sizeof(*one.f));
            fm_cache_free(c1);
            fm_cache_free(c2);
            free(one.f);
            free(bat.f);
        }
    }
    free(recs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_in_order),    cmocka_unit_test(test_split_swapped),
        cmocka_unit_test(test_inactive_boundary), cmocka_unit_test(test_biflow_pair),
        cmocka_unit_test(test_biflow_far_apart),  cmocka_unit_test(test_biflow_split),
        cmocka_unit_test(test_ipv6),              cmocka_unit_test(test_exporters),
        cmocka_unit_test(test_expiry_order),      cmocka_unit_test(test_expiry_open),
        cmocka_unit_test(test_eviction_no_loss),  cmocka_unit_test(test_flow_models_vector),
        cmocka_unit_test(test_profile_rules),     cmocka_unit_test(test_rfc5103_and_limits),
        cmocka_unit_test(test_source_flood),      cmocka_unit_test(test_clear_timeouts),
        cmocka_unit_test(test_batch_equals_single),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
