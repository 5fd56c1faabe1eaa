/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the cache shards: the SPSC ring (empty, full, wraparound, two threads in
 * order), the biflow-symmetric shard hash (both directions, every split, RFC 5103 records), and
 * the shards themselves: the same records give the same finished flows and cache counters with
 * 1, 2 and 3 workers, a sync hands every shard's accumulation over, and a flush drains them.
 * Randomised parts print their seed.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <cmocka.h>

#include "cache.h"
#include "flow.h"
#include "ring.h"
#include "shard.h"
#include "util/err.h"

#define S 1000ULL
#define T0 1433962800000ULL

/* ---- ring ----------------------------------------------------------------------------------- */

static void test_ring_init(void **state)
{
    (void)state;
    fm_ring_t r;
    assert_int_equal(fm_ring_init(&r, 3, 8), FM_EINVAL);
    assert_int_equal(fm_ring_init(&r, 1, 8), FM_EINVAL);
    assert_int_equal(fm_ring_init(&r, 4, 0), FM_EINVAL);
    assert_int_equal(fm_ring_init(&r, 4, 8), 0);
    assert_int_equal(r.slot_size, 64); /* rounded to a cache line */
    fm_ring_fini(&r);
}

static void test_ring_empty_full(void **state)
{
    (void)state;
    fm_ring_t r;
    assert_int_equal(fm_ring_init(&r, 4, sizeof(uint64_t)), 0);
    assert_null(fm_ring_read_slot(&r));
    assert_false(fm_ring_pending(&r));
    for (uint64_t i = 0; i < 4; i++) {
        uint64_t *p = fm_ring_write_slot(&r);
        assert_non_null(p);
        assert_ptr_equal(fm_ring_write_slot(&r), p); /* the same slot until published */
        *p = i;
        fm_ring_publish(&r);
        assert_true(fm_ring_pending(&r));
    }
    assert_true(fm_ring_full(&r));
    assert_null(fm_ring_write_slot(&r));
    uint64_t *p = fm_ring_read_slot(&r);
    assert_non_null(p);
    assert_int_equal(*p, 0);
    assert_ptr_equal(fm_ring_read_slot(&r), p); /* the same slot until released */
    assert_null(fm_ring_write_slot(&r));        /* still full: not released */
    fm_ring_release(&r);
    assert_false(fm_ring_full(&r));
    assert_non_null(fm_ring_write_slot(&r));
    for (uint64_t i = 1; i < 4; i++) {
        p = fm_ring_read_slot(&r);
        assert_non_null(p);
        assert_int_equal(*p, i);
        fm_ring_release(&r);
    }
    assert_null(fm_ring_read_slot(&r));
    assert_false(fm_ring_pending(&r));
    fm_ring_fini(&r);
}

/* Many times round a small ring, at every fill level from 1 to its size. */
static void test_ring_wraparound(void **state)
{
    (void)state;
    fm_ring_t r;
    uint64_t next_in = 0, next_out = 0;
    assert_int_equal(fm_ring_init(&r, 8, sizeof(uint64_t)), 0);
    for (int round = 0; round < 1000; round++) {
        int k = 1 + round % 8;
        for (int i = 0; i < k; i++) {
            uint64_t *p = fm_ring_write_slot(&r);
            assert_non_null(p);
            *p = next_in++;
            fm_ring_publish(&r);
        }
        if (k == 8) {
            assert_null(fm_ring_write_slot(&r));
        }
        for (int i = 0; i < k; i++) {
            uint64_t *p = fm_ring_read_slot(&r);
            assert_non_null(p);
            assert_int_equal(*p, next_out++);
            fm_ring_release(&r);
        }
        assert_null(fm_ring_read_slot(&r));
    }
    assert_true(next_out > 8 * 100);
    fm_ring_fini(&r);
}

#define THREAD_ITEMS 200000u

static void *consumer(void *arg)
{
    fm_ring_t *r = arg;
    uint64_t want = 0;
    while (want < THREAD_ITEMS) {
        uint64_t *p = fm_ring_read_slot(r);
        if (!p) {
            sched_yield();
            continue;
        }
        if (p[0] != want || p[1] != ~want) {
            return (void *)1; /* out of order or torn */
        }
        want++;
        fm_ring_release(r);
    }
    return NULL;
}

/* A producer and a consumer thread: every item arrives once, in order, whole. */
static void test_ring_threads(void **state)
{
    (void)state;
    fm_ring_t r;
    pthread_t t;
    void *res;
    assert_int_equal(fm_ring_init(&r, 16, 2 * sizeof(uint64_t)), 0);
    assert_int_equal(pthread_create(&t, NULL, consumer, &r), 0);
    for (uint64_t i = 0; i < THREAD_ITEMS; i++) {
        uint64_t *p;
        while (!(p = fm_ring_write_slot(&r))) {
            sched_yield();
        }
        p[0] = i;
        p[1] = ~i;
        fm_ring_publish(&r);
    }
    assert_int_equal(pthread_join(t, &res), 0);
    assert_null(res);
    fm_ring_fini(&r);
}

/* ---- shard hash ----------------------------------------------------------------------------- */

static fm_flow_t rec4(uint32_t sa, uint32_t da, uint16_t sp, uint16_t dp, uint8_t proto,
                      uint64_t first, uint64_t last, uint64_t packets)
{
    fm_flow_t f;
    memset(&f, 0, sizeof(f));
    fm_flow_set_v4(f.src, sa);
    fm_flow_set_v4(f.dst, da);
    f.af = FM_AF_INET;
    f.sport = sp;
    f.dport = dp;
    f.proto = proto;
    f.first_ms = first;
    f.last_ms = last;
    f.packets = packets;
    f.octets = packets * 100;
    f.sampling = 1;
    f.records = 1;
    f.fwd_first = 1;
    return f;
}

static fm_flow_t reversed(const fm_flow_t *f)
{
    fm_flow_t r = *f;
    memcpy(r.src, f->dst, 16);
    memcpy(r.dst, f->src, 16);
    r.sport = f->dport;
    r.dport = f->sport;
    r.inif = f->outif;
    r.outif = f->inif;
    return r;
}

static void test_hash_symmetry(void **state)
{
    (void)state;
    unsigned seed = (unsigned)time(NULL);
    printf("# seed %u\n", seed);
    srand(seed);
    for (int i = 0; i < 10000; i++) {
        uint64_t hseed = ((uint64_t)rand() << 32) ^ (uint64_t)rand();
        fm_flow_t f = rec4((uint32_t)rand(), (uint32_t)rand(), (uint16_t)rand(),
                           (uint16_t)rand(), (uint8_t)(rand() % 3 ? 6 : 17), T0,
                           T0 + (uint64_t)(rand() % 100000), 1 + (uint64_t)(rand() % 50));
        f.exporter = (uint32_t)(rand() % 4);
        f.domain = (uint32_t)(rand() % 3);
        f.inif = (uint32_t)rand();
        f.outif = (uint32_t)rand();
        if (i % 7 == 0) {
            memcpy(f.dst, f.src, 16); /* same address both ends: the ports decide */
        }
        uint64_t h = fm_shards_flow_hash(&f, hseed);
        /* the other direction */
        fm_flow_t r = reversed(&f);
        assert_int_equal(fm_shards_flow_hash(&r, hseed), h);
        /* a later split of the same flow: other times, counters, flags, interfaces */
        fm_flow_t s = f;
        s.first_ms += 300 * S;
        s.last_ms += 400 * S;
        s.packets = 7;
        s.octets = 999;
        s.tcp_flags = 0x12;
        s.inif = 1;
        s.records = 3;
        assert_int_equal(fm_shards_flow_hash(&s, hseed), h);
        /* an RFC 5103 biflow record of the conversation */
        fm_flow_t b = f;
        b.rev_packets = 3;
        b.rev_octets = 300;
        b.flags = FM_FLOW_BIFLOW;
        assert_int_equal(fm_shards_flow_hash(&b, hseed), h);
    }
    /* what tells flows apart changes the hash (with overwhelming probability) */
    fm_flow_t a = rec4(0x0a000001, 0x0a000002, 1000, 80, 6, T0, T0 + S, 1), b = a;
    uint64_t ha = fm_shards_flow_hash(&a, 42);
    b.dport = 81;
    assert_int_not_equal(fm_shards_flow_hash(&b, 42), ha);
    b = a;
    b.proto = 17;
    assert_int_not_equal(fm_shards_flow_hash(&b, 42), ha);
    b = a;
    b.exporter = 1;
    assert_int_not_equal(fm_shards_flow_hash(&b, 42), ha);
    b = a;
    b.domain = 9;
    assert_int_not_equal(fm_shards_flow_hash(&b, 42), ha);
    assert_int_not_equal(fm_shards_flow_hash(&a, 43), ha);
}

/* ---- shards --------------------------------------------------------------------------------- */

#define MAXW 3

typedef struct {
    fm_flow_t *f;              /* every finished flow, appended under the test's own rules */
    size_t n, cap;
    pthread_mutex_t mu;        /* shards append from their threads */
    uint64_t acc[MAXW];        /* per shard: flows since its last sync (its thread only) */
    uint64_t taken[MAXW];      /* per shard: handed over in syncs */
    unsigned calls_from[MAXW]; /* sink calls per shard */
} out_t;

typedef struct {
    out_t *o;
    unsigned i;
} lane_t;

static lane_t lanes[MAXW];

static void collect(void *ctx, const fm_flow_t *flows, size_t n)
{
    lane_t *l = ctx;
    out_t *o = l->o;
    l->o->acc[l->i] += n;
    pthread_mutex_lock(&o->mu);
    o->calls_from[l->i]++;
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2;
        o->f = realloc(o->f, o->cap * sizeof(*o->f));
    }
    memcpy(o->f + o->n, flows, n * sizeof(*flows));
    o->n += n;
    pthread_mutex_unlock(&o->mu);
}

static fm_sink_t finished(void *ctx, unsigned i)
{
    lanes[i] = (lane_t){ctx, i};
    return (fm_sink_t){collect, &lanes[i]};
}

static void sync_hook(void *ctx, unsigned i)
{
    out_t *o = ctx;
    o->taken[i] += o->acc[i];
    o->acc[i] = 0;
}

static int flow_cmp(const void *a, const void *b)
{
    const fm_flow_t *x = a, *y = b;
    int c = memcmp(x->src, y->src, 16);
    if (c) {
        return c;
    }
    if (x->first_ms != y->first_ms) {
        return x->first_ms < y->first_ms ? -1 : 1;
    }
    if (x->sport != y->sport) {
        return x->sport < y->sport ? -1 : 1;
    }
    return memcmp(x, y, sizeof(*x));
}

/* A deterministic mix: flows split by the active timeout, both directions, RFC 5103 records,
 * short flows, two exporters. */
static size_t make_records(fm_flow_t **out)
{
    size_t n = 0, cap = 60000;
    fm_flow_t *r = calloc(cap, sizeof(*r));
    for (uint32_t k = 0; k < 6000; k++) {
        uint32_t a = 0x0a000000 + k, b = 0xc0a80000 + (k * 7919) % 65536;
        uint16_t sp = (uint16_t)(1024 + k % 50000), dp = (uint16_t)(k % 3 ? 443 : 53);
        uint8_t proto = dp == 53 ? 17 : 6;
        uint64_t t = T0 + (uint64_t)k * 37;
        fm_flow_t f = rec4(a, b, sp, dp, proto, t, t + 300 * S, 10);
        f.exporter = k % 2;
        r[n++] = f;                                  /* cut by the active timeout ... */
        fm_flow_t g = rec4(a, b, sp, dp, proto, t + 300 * S + 500, t + 310 * S, 4);
        g.exporter = f.exporter;
        r[n++] = g;                                  /* ... continued */
        fm_flow_t rv = reversed(&f);
        rv.first_ms += 20;
        rv.last_ms = rv.first_ms + 2 * S;
        rv.packets = 3;
        r[n++] = rv;                                 /* the answer */
        if (k % 5 == 0) {
            fm_flow_t bi = rec4(b, a, (uint16_t)(k % 60000), 22, 6, t, t + 5 * S, 2);
            bi.exporter = f.exporter;
            bi.rev_packets = 2;
            bi.rev_octets = 120;
            bi.flags = FM_FLOW_BIFLOW;
            r[n++] = bi;                             /* an RFC 5103 record */
        }
    }
    *out = r;
    return n;
}

static void run_shards(unsigned workers, const fm_flow_t *recs, size_t n, out_t *o,
                       fm_cache_stats_t *st)
{
    fm_shards_conf_t sc = {.workers = workers};
    fm_shards_ops_t ops = {.finished = finished, .sync = sync_hook, .ctx = o};
    fm_shards_t *s = NULL;
    uint64_t fin;

    memset(o, 0, sizeof(*o));
    pthread_mutex_init(&o->mu, NULL);
    fm_cache_conf_default(&sc.cache);
    /* each shard's cache as big as the single cache: its ring (64 batches) takes 2 MiB of 10 */
    sc.cache.memory_mib = workers == 1 ? 8 : 10 * workers;
    assert_int_equal(fm_shards_new(&sc, &ops, &s), 0);
    assert_int_equal(fm_shards_workers(s), workers);
    assert_int_equal(fm_shards_set_timeouts(s, 1, 300 * S, 15 * S), 0);
    assert_int_equal(fm_shards_set_timeouts(s, 1, 10 * S, 15 * S), FM_EINVAL);
    fm_sink_t in = fm_shards_sink(s);
    /* in datagram-sized batches, as ingest hands them over */
    for (size_t i = 0; i < n; i += 30) {
        fm_sink_put(in, recs + i, n - i < 30 ? n - i : 30);
    }
    fm_shards_sync(s);
    fm_shards_stats(s, st, &fin);
    assert_int_equal(st->inserts, n); /* a sync sees every record sent before it */
    assert_int_equal(fin, o->n);
    fm_shards_flush(s);
    fm_shards_stats(s, st, &fin);
    assert_int_equal(st->entries, 0);
    assert_int_equal(fin, o->n);
    uint64_t taken = 0;
    for (unsigned i = 0; i < workers; i++) {
        taken += o->taken[i];
        assert_int_equal(o->acc[i], 0); /* all handed over in the flush */
        if (workers > 1) {
            assert_true(o->calls_from[i] > 0); /* every shard got work */
        }
    }
    assert_int_equal(taken, o->n);
    fm_shards_free(s);
    pthread_mutex_destroy(&o->mu);
    qsort(o->f, o->n, sizeof(*o->f), flow_cmp);
}

static void test_shards_same_result(void **state)
{
    (void)state;
    fm_flow_t *recs;
    size_t n = make_records(&recs);
    out_t one, many;
    fm_cache_stats_t s1, sn;

    run_shards(1, recs, n, &one, &s1);
    assert_true(s1.merges > 1000 && s1.biflow_pairs > 1000); /* the input exercises both */
    for (unsigned w = 2; w <= MAXW; w++) {
        run_shards(w, recs, n, &many, &sn);
        assert_int_equal(many.n, one.n);
        for (size_t i = 0; i < one.n; i++) {
            assert_memory_equal(&many.f[i], &one.f[i], sizeof(fm_flow_t));
        }
        assert_int_equal(sn.inserts, s1.inserts);
        assert_int_equal(sn.merges, s1.merges);
        assert_int_equal(sn.biflow_pairs, s1.biflow_pairs);
        assert_int_equal(sn.merge_conflicts, s1.merge_conflicts);
        assert_int_equal(sn.emitted, s1.emitted);
        assert_int_equal(sn.capacity, s1.capacity * w); /* sums over the shards */
        free(many.f);
    }
    free(one.f);
    free(recs);
}

/* A trickle, as the daemon's loop hands records over at a low rate: one datagram of records and
 * a push after each loop iteration.  A shard is woken for a run of messages, not for each one:
 * with a wake-up per push (the earlier behaviour) the two shards slept and were woken ~2 x PUSHES
 * times, two context switches each, which cost more CPU than the records at 200 k records/s. */
#define PUSHES 64

static void test_shards_trickle_wakeups(void **state)
{
    (void)state;
    fm_flow_t *recs;
    size_t n = make_records(&recs);
    out_t o;
    fm_shards_conf_t sc = {.workers = 2};
    fm_shards_ops_t ops = {.finished = finished, .sync = sync_hook, .ctx = &o};
    fm_shards_t *s = NULL;
    fm_cache_stats_t st;

    memset(&o, 0, sizeof(o));
    pthread_mutex_init(&o.mu, NULL);
    fm_cache_conf_default(&sc.cache);
    sc.cache.memory_mib = 16;
    assert_int_equal(fm_shards_new(&sc, &ops, &s), 0);
    fm_sink_t in = fm_shards_sink(s);
    assert_true(n >= PUSHES * 30);
    for (size_t i = 0; i < PUSHES; i++) {
        fm_sink_put(in, recs + i * 30, 30);
        fm_shards_push(s);
        usleep(300); /* long enough for a shard to go to sleep in between */
    }
    fm_shards_sync(s);
    fm_shards_stats(s, &st, NULL);
    assert_int_equal(st.inserts, PUSHES * 30); /* nothing held back from a reader */
    uint64_t sleeps = fm_shards_sleeps(s);
    print_message("trickle: %d pushes, shards slept %llu times\n", PUSHES,
                  (unsigned long long)sleeps);
    /* 64 partial messages per shard at most, a wake-up per 8 of them, plus the sync's */
    assert_true(sleeps <= 2 * (PUSHES / 8 + 2));
    fm_shards_flush(s);
    fm_shards_free(s);
    pthread_mutex_destroy(&o.mu);
    free(o.f);
    free(recs);
}

/* Each record goes to the shard of its hash; the two directions to the same one. */
static void test_shards_of(void **state)
{
    (void)state;
    fm_shards_conf_t sc = {.workers = 3};
    out_t o;
    fm_shards_ops_t ops = {.finished = finished, .ctx = &o};
    fm_shards_t *s = NULL;
    unsigned hits[3] = {0};

    memset(&o, 0, sizeof(o));
    fm_cache_conf_default(&sc.cache);
    sc.cache.memory_mib = 3;
    assert_int_equal(fm_shards_new(&sc, &ops, &s), 0);
    for (uint32_t k = 0; k < 3000; k++) {
        fm_flow_t f = rec4(k * 2654435761u, ~k, (uint16_t)k, 80, 6, T0, T0 + S, 1);
        fm_flow_t r = reversed(&f);
        unsigned i = fm_shards_of(s, &f);
        assert_true(i < 3);
        assert_int_equal(fm_shards_of(s, &r), i);
        hits[i]++;
    }
    for (unsigned i = 0; i < 3; i++) {
        assert_true(hits[i] > 800); /* spread about evenly */
    }
    fm_shards_free(s);

    sc.workers = 0;
    assert_int_equal(fm_shards_new(&sc, &ops, &s), FM_EINVAL);
    sc.workers = FM_SHARDS_MAX + 1;
    assert_int_equal(fm_shards_new(&sc, &ops, &s), FM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_init),
        cmocka_unit_test(test_ring_empty_full),
        cmocka_unit_test(test_ring_wraparound),
        cmocka_unit_test(test_ring_threads),
        cmocka_unit_test(test_hash_symmetry),
        cmocka_unit_test(test_shards_of),
        cmocka_unit_test(test_shards_same_result),
        cmocka_unit_test(test_shards_trickle_wakeups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
