/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the histograms: flow-models bin examples (FLOW-MODELS-DETAIL §4.2), binning and
 * accumulation against a naive reference for every bin exponent class (chunked octaves and the
 * hash map), merge, saturating overflow, csv_hist output and reading, re-binning the published
 * agh_2015 histograms (FM_SHARED), uniflow/biflow accounting of biflows, and tumbling windows
 * closing on wall-clock boundaries.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "flow.h"
#include "log.h"
#include "hist.h"
#include "util/err.h"

/* ---- an independent statement of the binning rule: widths by repeated doubling ---------- */

static void ref_bin(uint64_t x, unsigned b, uint64_t *lo, uint64_t *hi)
{
    unsigned len = 0;
    for (uint64_t v = x; v; v >>= 1) {
        len++;
    }
    uint64_t w = 1;
    if (b > 0) {
        for (unsigned i = b; i < len; i++) {
            w *= 2;
        }
    }
    *lo = x / w * w;
    *hi = *lo + w;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: reproducible and independent of libc's rand() */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/* A heavy-tailed value: a random bit length, then random bits below it. */
static uint64_t rnd_heavy(unsigned maxbits)
{
    unsigned len = (unsigned)(rnd() % (maxbits + 1));
    if (len == 0) {
        return 0;
    }
    uint64_t top = 1ull << (len - 1);
    return top | (rnd() & (top - 1));
}

static void check_bin(uint64_t x, unsigned b, uint64_t elo, uint64_t ehi)
{
    uint64_t lo, hi;
    fm_hist_bin_of(x, b, &lo, &hi);
    if (lo != elo || hi != ehi) {
        fail_msg("x=%llu b=%u: got [%llu,%llu) want [%llu,%llu)", (unsigned long long)x, b,
                 (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)elo,
                 (unsigned long long)ehi);
    }
}

static void test_bin_examples(void **state)
{
    (void)state;
    /* FLOW-MODELS-DETAIL §4.2, b = 2 */
    check_bin(1, 2, 1, 2);
    check_bin(2, 2, 2, 3);
    check_bin(3, 2, 3, 4);
    check_bin(4, 2, 4, 6);
    check_bin(5, 2, 4, 6);
    check_bin(6, 2, 6, 8);
    check_bin(7, 2, 6, 8);
    for (uint64_t x = 8; x <= 11; x++) {
        check_bin(x, 2, 8, 12);
    }
    for (uint64_t x = 12; x <= 15; x++) {
        check_bin(x, 2, 12, 16);
    }
    for (uint64_t x = 16; x <= 23; x++) {
        check_bin(x, 2, 16, 24);
    }
    for (uint64_t x = 24; x <= 31; x++) {
        check_bin(x, 2, 24, 32);
    }
    check_bin(32, 2, 32, 48);
    /* b = 12 */
    check_bin(4095, 12, 4095, 4096);
    check_bin(4096, 12, 4096, 4098);
    check_bin(4097, 12, 4096, 4098);
    check_bin(8191, 12, 8190, 8192);
    for (uint64_t x = 8192; x <= 8195; x++) {
        check_bin(x, 12, 8192, 8196);
    }
    check_bin(65535, 12, 65520, 65536);
    check_bin(65536, 12, 65536, 65568);
    check_bin(1000000, 12, 999936, 1000192);
    check_bin(0, 12, 0, 1);
    /* b = 0 is one bin per value, not bin_calc_log(x, 0) */
    check_bin(0, 0, 0, 1);
    check_bin(1000000, 0, 1000000, 1000001);
    check_bin(1ull << 40, 0, 1ull << 40, (1ull << 40) + 1);
    /* last bins of agh_2015 all/length.csv and all/size.csv (FLOW-MODELS-DETAIL §12.1) */
    check_bin(185860096, 12, 185860096, 185925632);
    check_bin(185925631, 12, 185860096, 185925632);
    check_bin(261456134144ull, 12, 261456134144ull, 261523243008ull);
}

static void test_bin_random(void **state)
{
    (void)state;
    for (unsigned b = 0; b <= 63; b++) {
        for (int i = 0; i < 2000; i++) {
            uint64_t x = rnd_heavy(62), lo, hi;
            ref_bin(x, b, &lo, &hi);
            check_bin(x, b, lo, hi);
        }
    }
}

/* ---- accumulation against a naive reference ---------------------------------------------- */

typedef struct {
    fm_hist_bin_t *b;
    size_t n, cap;
} naive_t;

static void naive_add(naive_t *nv, uint64_t x, unsigned bexp, uint64_t p, uint64_t o)
{
    uint64_t lo, hi;
    ref_bin(x, bexp, &lo, &hi);
    for (size_t i = 0; i < nv->n; i++) {
        if (nv->b[i].lo == lo) {
            nv->b[i].flows++;
            nv->b[i].packets += p;
            nv->b[i].octets += o;
            return;
        }
    }
    if (nv->n == nv->cap) {
        nv->cap = nv->cap ? nv->cap * 2 : 64;
        nv->b = realloc(nv->b, nv->cap * sizeof(*nv->b));
        assert_non_null(nv->b);
    }
    nv->b[nv->n++] = (fm_hist_bin_t){lo, hi, 1, p, o};
}

static int cmp_bin(const void *a, const void *b)
{
    uint64_t x = ((const fm_hist_bin_t *)a)->lo, y = ((const fm_hist_bin_t *)b)->lo;
    return x < y ? -1 : x > y;
}

static void assert_same_bins(const fm_hist_t *h, naive_t *nv)
{
    fm_hist_bin_t *bins;
    long n = fm_hist_bins(h, &bins);
    qsort(nv->b, nv->n, sizeof(*nv->b), cmp_bin);
    assert_int_equal(n, (long)nv->n);
    assert_int_equal(fm_hist_count(h), nv->n);
    for (long i = 0; i < n; i++) {
        assert_memory_equal(&bins[i], &nv->b[i], sizeof(bins[i]));
    }
    free(bins);
}

static void test_add_vs_naive(void **state)
{
    (void)state;
    /* 0: exact, chunked to 2^21 then the map; 1, 3, 12: chunked; 22, 40, 63: map above 2^21 */
    static const unsigned exps[] = {0, 1, 3, 12, 22, 40, 63};
    for (size_t e = 0; e < sizeof(exps) / sizeof(exps[0]); e++) {
        fm_hist_t *h;
        naive_t nv = {0};
        assert_int_equal(fm_hist_new(exps[e], &h), 0);
        for (int i = 0; i < 3000; i++) {
            /* repeat values often so bins collect several flows */
            uint64_t x = i % 3 == 0 && nv.n ? nv.b[rnd() % nv.n].lo : rnd_heavy(44);
            uint64_t p = rnd() % 1000, o = rnd() % 1000000;
            fm_hist_add(h, x, p, o);
            naive_add(&nv, x, exps[e], p, o);
        }
        assert_same_bins(h, &nv);
        uint64_t f, p, o, ef = 0, ep = 0, eo = 0;
        fm_hist_totals(h, &f, &p, &o);
        for (size_t i = 0; i < nv.n; i++) {
            ef += nv.b[i].flows;
            ep += nv.b[i].packets;
            eo += nv.b[i].octets;
        }
        assert_int_equal(f, 3000);
        assert_int_equal(p, ep);
        assert_int_equal(o, eo);
        assert_int_equal(ef, 3000);
        assert_int_equal(fm_hist_overflows(h), 0);
        free(nv.b);
        fm_hist_free(h);
    }
}

static void test_bin_exp_range(void **state)
{
    (void)state;
    fm_hist_t *h = NULL;
    assert_int_equal(fm_hist_new(64, &h), FM_EINVAL);
    assert_int_equal(fm_hist_new(63, &h), 0);
    assert_int_equal(fm_hist_bin_exp(h), 63);
    fm_hist_add(h, UINT64_MAX - 5, 1, 1);
    assert_int_equal(fm_hist_count(h), 1);
    fm_hist_free(h);
    fm_hist_free(NULL);
}

/* ---- merge, add_bin, overflow ------------------------------------------------------------ */

static void assert_hist_equal(fm_hist_t *x, fm_hist_t *y)
{
    fm_hist_bin_t *bx, *by;
    long nx = fm_hist_bins(x, &bx), ny = fm_hist_bins(y, &by);
    assert_true(nx > 100);
    assert_int_equal(nx, ny);
    assert_memory_equal(bx, by, (size_t)nx * sizeof(*bx));
    assert_int_equal(fm_hist_count(x), (size_t)nx);
    assert_int_equal(fm_hist_count(y), (size_t)ny);
    free(bx);
    free(by);
}

/* Merging equals adding every value to one histogram: with chunked octaves only (b = 12), with
 * the hash map of wide octaves (b = 0 above 2^21, b = 25 above 2^20), into an empty histogram
 * and into itself (every sum doubles). */
static void test_merge(void **state)
{
    (void)state;
    const unsigned exps[] = {12, 0, 25};
    for (size_t e = 0; e < sizeof(exps) / sizeof(exps[0]); e++) {
        fm_hist_t *a, *b, *all, *twice, *empty, *other;
        assert_int_equal(fm_hist_new(exps[e], &a), 0);
        assert_int_equal(fm_hist_new(exps[e], &b), 0);
        assert_int_equal(fm_hist_new(exps[e], &all), 0);
        assert_int_equal(fm_hist_new(exps[e], &twice), 0);
        assert_int_equal(fm_hist_new(exps[e], &empty), 0);
        assert_int_equal(fm_hist_new(exps[e] == 11 ? 12 : 11, &other), 0);
        for (int i = 0; i < 5000; i++) {
            uint64_t x = i % 50 == 0 ? 0 : rnd_heavy(40), p = rnd() % 100, o = rnd() % 100000;
            fm_hist_add(i % 2 ? a : b, x, p, o);
            fm_hist_add(all, x, p, o);
            fm_hist_add(twice, x, p, o);
            fm_hist_add(twice, x, p, o);
        }
        assert_int_equal(fm_hist_merge(a, b), 0);
        assert_hist_equal(a, all);
        assert_int_equal(fm_hist_merge(empty, all), 0);
        assert_hist_equal(empty, all);
        assert_int_equal(fm_hist_merge(all, all), 0);
        assert_hist_equal(all, twice);
        assert_int_equal(fm_hist_merge(a, other), FM_EINVAL);
        fm_hist_free(a);
        fm_hist_free(b);
        fm_hist_free(all);
        fm_hist_free(twice);
        fm_hist_free(empty);
        fm_hist_free(other);
    }
}

static void test_add_bin(void **state)
{
    (void)state;
    fm_hist_t *h;
    assert_int_equal(fm_hist_new(12, &h), 0);
    fm_hist_bin_t ok = {4096, 4098, 3, 12291, 5000000};
    fm_hist_bin_t not_start = {4097, 4099, 1, 1, 1};
    fm_hist_bin_t wrong_hi = {4096, 4097, 1, 1, 1};
    fm_hist_bin_t zero = {8, 9, 0, 0, 0};
    fm_hist_bin_t no_flows = {10, 11, 0, 7, 70};
    assert_int_equal(fm_hist_add_bin(h, &ok), 0);
    assert_int_equal(fm_hist_add_bin(h, &not_start), FM_EINVAL);
    assert_int_equal(fm_hist_add_bin(h, &wrong_hi), FM_EINVAL);
    assert_int_equal(fm_hist_add_bin(h, &zero), 0);
    assert_int_equal(fm_hist_add_bin(h, &no_flows), 0);
    assert_int_equal(fm_hist_add_bin(h, &no_flows), 0);
    assert_int_equal(fm_hist_count(h), 2);
    fm_hist_add(h, 4097, 4097, 100);
    assert_int_equal(fm_hist_count(h), 2);
    fm_hist_bin_t *bins;
    assert_int_equal(fm_hist_bins(h, &bins), 2);
    assert_int_equal(bins[0].lo, 10);
    assert_int_equal(bins[0].packets, 14);
    assert_int_equal(bins[1].flows, 4);
    assert_int_equal(bins[1].packets, 12291 + 4097);
    free(bins);
    fm_hist_clear(h);
    assert_int_equal(fm_hist_count(h), 0);
    assert_int_equal(fm_hist_bins(h, &bins), 0);
    assert_null(bins);
    fm_hist_free(h);
}

static void test_overflow(void **state)
{
    (void)state;
    fm_hist_t *h, *g;
    assert_int_equal(fm_hist_new(12, &h), 0);
    assert_int_equal(fm_hist_new(12, &g), 0);
    fm_hist_add(h, 5, UINT64_MAX - 10, 1);
    assert_int_equal(fm_hist_overflows(h), 0);
    fm_hist_add(h, 5, 10, 1); /* exactly UINT64_MAX: no overflow yet */
    assert_int_equal(fm_hist_overflows(h), 0);
    fm_hist_add(h, 5, 1, 1); /* one past: saturates */
    assert_int_equal(fm_hist_overflows(h), 1);
    fm_hist_add(h, 6, UINT64_MAX, UINT64_MAX);
    fm_hist_add(h, 6, 2, 3); /* both sums overflow */
    assert_int_equal(fm_hist_overflows(h), 3);
    fm_hist_bin_t *bins;
    assert_int_equal(fm_hist_bins(h, &bins), 2);
    assert_true(bins[0].packets == UINT64_MAX);
    assert_int_equal(bins[0].octets, 3);
    assert_int_equal(bins[0].flows, 3);
    assert_true(bins[1].packets == UINT64_MAX && bins[1].octets == UINT64_MAX);
    free(bins);
    uint64_t f, p, o;
    fm_hist_totals(h, &f, &p, &o);
    assert_int_equal(f, 5);
    assert_true(p == UINT64_MAX && o == UINT64_MAX); /* totals saturate as well */
    /* merging saturates too, and carries the source's count */
    fm_hist_add(g, 5, 100, 1);
    assert_int_equal(fm_hist_merge(g, h), 0);
    assert_int_equal(fm_hist_overflows(g), 3 + 1);
    assert_int_equal(fm_hist_bins(g, &bins), 2);
    assert_true(bins[0].packets == UINT64_MAX);
    free(bins);
    fm_hist_free(h);
    fm_hist_free(g);
}

/* ---- csv_hist ---------------------------------------------------------------------------- */

static char *write_to_string(const fm_hist_t *h)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fm_hist_write_csv(h, f), 0);
    fclose(f);
    return buf;
}

static void test_csv_write(void **state)
{
    (void)state;
    fm_hist_t *h;
    assert_int_equal(fm_hist_new(2, &h), 0);
    fm_hist_add(h, 33, 33, 2000);
    fm_hist_add(h, 1, 1, 64);
    fm_hist_add(h, 5, 5, 300);
    fm_hist_add(h, 4, 4, 250);
    fm_hist_add(h, 0, 0, 0);
    char *s = write_to_string(h);
    assert_string_equal(s, "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n"
                           "0,1,1,0,0\n"
                           "1,2,1,1,64\n"
                           "4,6,2,9,550\n"
                           "32,48,1,33,2000\n");
    free(s);
    fm_hist_clear(h);
    s = write_to_string(h);
    assert_string_equal(s, "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n");
    free(s);
    fm_hist_free(h);
}

static char *tmp_file(const char *text)
{
    char *path = strdup("/tmp/test_hist.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_csv_read(void **state)
{
    (void)state;
    fm_hist_bin_t *bins = NULL;
    size_t n = 0;
    char *p = tmp_file("bin_lo,bin_hi,flows_sum,packets_sum,octets_sum,duration_sum\n"
                       "1,2,10,10,640,0\n"
                       "4096,4098,2,8193,9000000,77\n");
    assert_int_equal(fm_hist_read_csv(p, &bins, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(bins[0].lo, 1);
    assert_int_equal(bins[0].octets, 640);
    assert_int_equal(bins[1].hi, 4098);
    assert_int_equal(bins[1].packets, 8193);
    assert_int_equal(bins[1].octets, 9000000);
    free(bins);
    unlink(p);
    free(p);

    /* columns found by name, in any order */
    p = tmp_file("flows_sum,bin_lo,octets_sum,bin_hi,packets_sum\n3,64,192,65,3\n");
    assert_int_equal(fm_hist_read_csv(p, &bins, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(bins[0].lo, 64);
    assert_int_equal(bins[0].hi, 65);
    assert_int_equal(bins[0].flows, 3);
    assert_int_equal(bins[0].octets, 192);
    free(bins);
    unlink(p);
    free(p);

    static const char *const bad[] = {
        "bin_lo,bin_hi,flows_sum\n1,2,3\n",                              /* missing column */
        "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n1,2,3,x,5\n",   /* not a number */
        "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n1,2,3,4\n",     /* short row */
        "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n1,2,-3,4,5\n",  /* negative */
        "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n5,5,3,4,5\n",   /* empty bin range */
        "",                                                              /* no header */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p = tmp_file(bad[i]);
        bins = NULL;
        assert_int_equal(fm_hist_read_csv(p, &bins, &n), FM_EFORMAT);
        assert_null(bins);
        unlink(p);
        free(p);
    }
    assert_int_equal(fm_hist_read_csv("/nonexistent/x.csv", &bins, &n), FM_ENOENT);
}

/* Every published agh_2015 bin is a bin of b = 12, and re-binning writes the file back. */
static void check_agh(const char *rel)
{
    const char *shared = getenv("FM_SHARED");
    char path[4096];
    snprintf(path, sizeof(path), "%s/data/agh_2015/histograms/all/%s", shared ? shared : "", rel);
    FILE *f = shared ? fopen(path, "r") : NULL;
    if (!f) {
        skip();
    }
    fm_hist_bin_t *bins;
    size_t n;
    assert_int_equal(fm_hist_read_csv(path, &bins, &n), 0);
    assert_true(n > 20000);
    fm_hist_t *h;
    assert_int_equal(fm_hist_new(12, &h), 0);
    for (size_t i = 0; i < n; i++) {
        check_bin(bins[i].lo, 12, bins[i].lo, bins[i].hi);
        check_bin(bins[i].hi - 1, 12, bins[i].lo, bins[i].hi);
        assert_int_equal(fm_hist_add_bin(h, &bins[i]), 0);
    }
    assert_int_equal(fm_hist_count(h), n);
    char *out = write_to_string(h);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *orig = malloc((size_t)len + 1);
    assert_int_equal(fread(orig, 1, (size_t)len, f), (size_t)len);
    orig[len] = '\0';
    assert_int_equal(strlen(out), (size_t)len);
    assert_true(strcmp(out, orig) == 0);
    free(orig);
    free(out);
    free(bins);
    fm_hist_free(h);
    fclose(f);
}

static void test_agh_length(void **state)
{
    (void)state;
    check_agh("length.csv");
}

static void test_agh_size(void **state)
{
    (void)state;
    check_agh("size.csv");
}

/* ---- histogram sets: uniflow and biflow accounting --------------------------------------- */

static void expect_one(fm_histset_t *s, fm_class_t c, fm_dir_t d, fm_metric_t m, size_t idx,
                       size_t count, uint64_t lo, uint64_t flows, uint64_t p, uint64_t o)
{
    fm_hist_bin_t *bins;
    long n = fm_histset_get(s, c, d, m) ? fm_hist_bins(fm_histset_get(s, c, d, m), &bins) : -1;
    if (n != (long)count) {
        fail_msg("%s/%s/%s: %ld bins, want %zu", fm_class_name(c), fm_dir_name(d),
                 fm_metric_name(m), n, count);
    }
    if (count == 0) {
        return;
    }
    if (bins[idx].lo != lo || bins[idx].flows != flows || bins[idx].packets != p ||
        bins[idx].octets != o) {
        fail_msg("%s/%s/%s bin %zu: [%llu] %llu %llu %llu", fm_class_name(c), fm_dir_name(d),
                 fm_metric_name(m), idx, (unsigned long long)bins[idx].lo,
                 (unsigned long long)bins[idx].flows, (unsigned long long)bins[idx].packets,
                 (unsigned long long)bins[idx].octets);
    }
    free(bins);
}

#define T0 1433962800000ull /* 2015-06-10 19:00 UTC */

/* Flows added in a batch whose values fall in the hash map (bin_exp 0 above 2^21): a map that
 * grows within the batch must not leave earlier ops writing to the freed map (ASan reported it
 * in test_histdelta; plain builds lost those flows).  Same totals as one fm_hist_add each. */
static void test_histset_batch_map_grow(void **state)
{
    (void)state;
    fm_histset_t *s;
    fm_hist_t *ref;
    assert_int_equal(fm_histset_new(0, &s), 0);
    assert_int_equal(fm_hist_new(0, &ref), 0);
    static fm_flow_t f[4096];
    memset(f, 0, sizeof(f));
    for (size_t i = 0; i < 4096; i++) {
        f[i].first_ms = T0;
        f[i].last_ms = T0;
        f[i].packets = 1;
        /* each its own bin, in the map but the first: map growth falls inside a batch */
        f[i].octets = i ? (1u << 22) + i * 977 : 100;
        f[i].proto = 17;
        fm_hist_add(ref, f[i].octets, f[i].packets, f[i].octets);
    }
    fm_histset_add_flows(s, f, 4096);
    const fm_hist_t *h = fm_histset_get(s, FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_SIZE);
    uint64_t a[3], b[3];
    fm_hist_totals(h, &a[0], &a[1], &a[2]);
    fm_hist_totals(ref, &b[0], &b[1], &b[2]);
    assert_memory_equal(a, b, sizeof(a));
    fm_hist_bin_t *bins;
    long n = fm_hist_bins(h, &bins);
    assert_int_equal(n, 4096);
    for (long i = 0; i < n; i++) { /* every bin holds its flow, none was written to freed memory */
        assert_int_equal(bins[i].flows, 1);
        assert_int_equal(bins[i].octets, bins[i].lo);
    }
    assert_int_equal(fm_hist_count(h), 4096);
    free(bins);
    fm_hist_free(ref);
    fm_histset_free(s);
}

/* Every bin of every histogram of two sets. */
static void assert_sets_equal(fm_histset_t *a, fm_histset_t *b)
{
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                fm_hist_bin_t *x = NULL, *y = NULL;
                long nx = fm_hist_bins(fm_histset_get(a, c, d, m), &x);
                long ny = fm_hist_bins(fm_histset_get(b, c, d, m), &y);
                assert_true(nx > 0);
                assert_int_equal(nx, ny);
                assert_memory_equal(x, y, (size_t)nx * sizeof(*x));
                free(x);
                free(y);
            }
        }
    }
}

/* A partial set (own class only) merged with fm_histset_merge_partial equals the flows added in
 * full: the "all" class is the sum of the three others, bin by bin. */
static void test_histset_partial(void **state)
{
    (void)state;
    enum { N = 5000 };
    fm_flow_t *f = calloc(N, sizeof(*f));
    fm_histset_t *full, *part, *merged, *empty;
    uint64_t x = 12345;
    for (size_t i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        f[i].proto = (uint8_t[]){6, 17, 1, 47}[(x >> 60) & 3];
        f[i].packets = 1 + (x >> 40) % 3000;
        f[i].octets = f[i].packets * (40 + (x >> 20) % 1460);
        f[i].first_ms = T0 + i;
        f[i].last_ms = f[i].first_ms + (x >> 8) % 100000;
        if (i % 3 == 0) { /* a biflow */
            f[i].rev_packets = 1 + (x >> 30) % 50;
            f[i].rev_octets = f[i].rev_packets * 60;
            f[i].rev_first_ms = f[i].first_ms + 5;
            f[i].rev_last_ms = f[i].rev_first_ms + (x >> 12) % 5000;
            f[i].flags = FM_FLOW_BIFLOW;
        }
    }
    assert_int_equal(fm_histset_new(12, &full), 0);
    assert_int_equal(fm_histset_new(12, &part), 0);
    assert_int_equal(fm_histset_new(12, &merged), 0);
    assert_int_equal(fm_histset_new(12, &empty), 0);
    fm_histset_add_flows(full, f, N);
    fm_histset_add_flows_partial(part, f, N);
    for (int d = 0; d < FM_DIR_COUNT; d++) {
        for (int m = 0; m < FM_METRIC_COUNT; m++) { /* half the updates: none in "all" */
            assert_int_equal(fm_hist_count(fm_histset_get(part, FM_CLASS_ALL, d, m)), 0);
        }
    }
    assert_int_equal(fm_histset_merge_partial(merged, part), 0);
    assert_sets_equal(merged, full);
    /* into a set that already holds flows, too */
    assert_int_equal(fm_histset_merge(empty, full), 0);
    assert_int_equal(fm_histset_merge_partial(empty, part), 0);
    assert_int_equal(fm_histset_merge(full, full), 0);
    assert_sets_equal(empty, full);
    fm_histset_free(full);
    fm_histset_free(part);
    fm_histset_free(merged);
    fm_histset_free(empty);
    free(f);
}

static void test_histset_biflow(void **state)
{
    (void)state;
    fm_histset_t *s;
    assert_int_equal(fm_histset_new(12, &s), 0);
    fm_flow_t f[3];
    memset(f, 0, sizeof(f));
    /* a TCP biflow: forward 10 packets over 2 s, reverse 4 packets over 2.4 s starting later */
    f[0] = (fm_flow_t){.first_ms = T0 + 1000, .last_ms = T0 + 3000, .packets = 10, .octets = 5000,
                       .rev_packets = 4, .rev_octets = 400, .rev_first_ms = T0 + 1100,
                       .rev_last_ms = T0 + 3500, .proto = 6, .flags = FM_FLOW_BIFLOW};
    /* a UDP biflow whose reverse is one packet: its own duration is 0 */
    f[1] = (fm_flow_t){.first_ms = T0, .last_ms = T0 + 50, .packets = 2, .octets = 200,
                       .rev_packets = 1, .rev_octets = 90, .rev_first_ms = T0 + 20,
                       .rev_last_ms = T0 + 20, .proto = 17, .flags = FM_FLOW_BIFLOW};
    /* an ICMP uniflow of one packet */
    f[2] = (fm_flow_t){.first_ms = T0 + 7, .last_ms = T0 + 7, .packets = 1, .octets = 84,
                       .proto = 1};
    fm_histset_add_flows(s, f, 3);

    fm_hist_t *h = fm_histset_get(s, FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_LENGTH);
    uint64_t flows, p, o;
    fm_hist_totals(h, &flows, &p, &o);
    assert_int_equal(flows, 5); /* 2 + 2 + 1 directions */
    assert_int_equal(p, 18);
    assert_int_equal(o, 5774);
    fm_hist_totals(fm_histset_get(s, FM_CLASS_ALL, FM_DIR_BIFLOW, FM_METRIC_SIZE), &flows, &p,
                   &o);
    assert_int_equal(flows, 3);
    assert_int_equal(p, 18);
    assert_int_equal(o, 5774);

    /* TCP: uniflow length bins 4 and 10, durations 2000 and 2400; biflow 14 pkts over 2.5 s */
    expect_one(s, FM_CLASS_TCP, FM_DIR_UNIFLOW, FM_METRIC_LENGTH, 0, 2, 4, 1, 4, 400);
    expect_one(s, FM_CLASS_TCP, FM_DIR_UNIFLOW, FM_METRIC_LENGTH, 1, 2, 10, 1, 10, 5000);
    expect_one(s, FM_CLASS_TCP, FM_DIR_UNIFLOW, FM_METRIC_SIZE, 0, 2, 400, 1, 4, 400);
    expect_one(s, FM_CLASS_TCP, FM_DIR_UNIFLOW, FM_METRIC_DURATION, 0, 2, 2000, 1, 10, 5000);
    expect_one(s, FM_CLASS_TCP, FM_DIR_UNIFLOW, FM_METRIC_DURATION, 1, 2, 2400, 1, 4, 400);
    expect_one(s, FM_CLASS_TCP, FM_DIR_BIFLOW, FM_METRIC_LENGTH, 0, 1, 14, 1, 14, 5400);
    expect_one(s, FM_CLASS_TCP, FM_DIR_BIFLOW, FM_METRIC_SIZE, 0, 1, 5400, 1, 14, 5400);
    expect_one(s, FM_CLASS_TCP, FM_DIR_BIFLOW, FM_METRIC_DURATION, 0, 1, 2500, 1, 14, 5400);
    /* UDP: the one-packet reverse has duration 0; the biflow spans 50 ms */
    expect_one(s, FM_CLASS_UDP, FM_DIR_UNIFLOW, FM_METRIC_DURATION, 0, 2, 0, 1, 1, 90);
    expect_one(s, FM_CLASS_UDP, FM_DIR_UNIFLOW, FM_METRIC_DURATION, 1, 2, 50, 1, 2, 200);
    expect_one(s, FM_CLASS_UDP, FM_DIR_BIFLOW, FM_METRIC_DURATION, 0, 1, 50, 1, 3, 290);
    /* other: one packet, one flow in both modes, duration 0 */
    expect_one(s, FM_CLASS_OTHER, FM_DIR_UNIFLOW, FM_METRIC_DURATION, 0, 1, 0, 1, 1, 84);
    expect_one(s, FM_CLASS_OTHER, FM_DIR_BIFLOW, FM_METRIC_LENGTH, 0, 1, 1, 1, 1, 84);
    /* all: durations 0 (x2: UDP reverse, ICMP), 50, 2000, 2400 */
    expect_one(s, FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_DURATION, 0, 4, 0, 2, 2, 174);

    /* clone is deep and equal; merge doubles; clear empties */
    fm_histset_t *c;
    assert_int_equal(fm_histset_clone(s, &c), 0);
    assert_int_equal(fm_histset_merge(c, s), 0);
    fm_hist_totals(fm_histset_get(c, FM_CLASS_TCP, FM_DIR_BIFLOW, FM_METRIC_DURATION), &flows,
                   &p, &o);
    assert_int_equal(flows, 2);
    assert_int_equal(o, 10800);
    assert_true(fm_histset_memory(s) > sizeof(void *) * FM_CLASS_COUNT);
    fm_histset_t *other;
    assert_int_equal(fm_histset_new(0, &other), 0);
    assert_int_equal(fm_histset_merge(other, s), FM_EINVAL);
    fm_histset_clear(c);
    fm_hist_totals(fm_histset_cget(c, FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_LENGTH), &flows,
                   NULL, NULL);
    assert_int_equal(flows, 0);
    assert_true(fm_histset_memory(c) < fm_histset_memory(s));
    fm_histset_free(other);
    fm_histset_free(c);
    fm_histset_free(s);
}

/* ---- windows ------------------------------------------------------------------------------ */

typedef struct {
    uint64_t start[8], end[8], flows[8];
    int n;
} closed_log_t;

static void on_closed(void *ctx, uint64_t start, uint64_t end, fm_histset_t *closed)
{
    closed_log_t *l = ctx;
    assert_true(l->n < 8);
    l->start[l->n] = start;
    l->end[l->n] = end;
    fm_hist_totals(fm_histset_get(closed, FM_CLASS_ALL, FM_DIR_BIFLOW, FM_METRIC_LENGTH),
                   &l->flows[l->n], NULL, NULL);
    l->n++;
    fm_histset_free(closed);
}

static void add_at(fm_histwin_t *w, uint64_t now)
{
    fm_flow_t f = {.first_ms = now - 10, .last_ms = now, .packets = 3, .octets = 300,
                   .proto = 6};
    fm_histwin_add_flows(w, &f, 1, now);
}

static void test_windows(void **state)
{
    (void)state;
    closed_log_t log = {0};
    fm_histwin_t *w;
    const uint64_t H = 3600000;
    assert_int_equal(fm_histwin_new(12, 0, on_closed, &log, &w), FM_EINVAL);
    assert_int_equal(fm_histwin_new(12, H, on_closed, &log, &w), 0);

    uint64_t t = T0 + 25 * 60000; /* 19:25 */
    add_at(w, t);
    add_at(w, T0 + H - 1);                      /* 19:59:59.999, same window */
    uint64_t start;
    fm_histwin_current(w, &start);
    assert_int_equal(start, T0);
    assert_int_equal(log.n, 0);
    fm_histwin_tick(w, T0 + H - 1);
    assert_int_equal(log.n, 0);
    fm_histwin_tick(w, T0 + H);                 /* 20:00 exactly: the window closes */
    assert_int_equal(log.n, 1);
    assert_int_equal(log.start[0], T0);
    assert_int_equal(log.end[0], T0 + H);
    assert_int_equal(log.flows[0], 2);
    add_at(w, T0 + H + 5);
    add_at(w, T0 + 3 * H + 7);                  /* two hours later: closes [20:00, 21:00) */
    assert_int_equal(log.n, 2);
    assert_int_equal(log.start[1], T0 + H);
    assert_int_equal(log.end[1], T0 + 2 * H);
    assert_int_equal(log.flows[1], 1);
    fm_histwin_current(w, &start);
    assert_int_equal(start, T0 + 3 * H);        /* the empty hour between is skipped */

    uint64_t flows;
    fm_hist_totals(fm_histset_get(fm_histwin_total(w), FM_CLASS_TCP, FM_DIR_UNIFLOW,
                                  FM_METRIC_LENGTH), &flows, NULL, NULL);
    assert_int_equal(flows, 4);                 /* the total never closes */

    /* a new length applies at the next boundary; a grid cell starting before the old end is
     * shortened so windows never overlap */
    fm_histwin_set_window(w, 2 * H);            /* T0 = 19:00 is an odd hour: grid is even */
    fm_histwin_tick(w, T0 + 3 * H + 10);
    assert_int_equal(log.n, 2);
    fm_histwin_tick(w, T0 + 4 * H);             /* closes [22:00, 23:00) */
    assert_int_equal(log.n, 3);
    assert_int_equal(log.end[2], T0 + 4 * H);
    fm_histwin_current(w, &start);
    assert_int_equal(start, T0 + 4 * H);        /* 23:00, although 22:00 is on the 2 h grid */
    fm_histwin_tick(w, T0 + 5 * H - 1);
    assert_int_equal(log.n, 3);
    fm_histwin_tick(w, T0 + 5 * H);             /* the short window ends on the grid, 00:00 */
    assert_int_equal(log.n, 4);
    assert_int_equal(log.start[3], T0 + 4 * H);
    assert_int_equal(log.end[3], T0 + 5 * H);
    fm_histwin_tick(w, T0 + 7 * H);
    assert_int_equal(log.n, 5);
    assert_int_equal(log.end[4] - log.start[4], 2 * H);

    /* restore: the window a store says is current */
    fm_histwin_set_current_start(w, T0 + 9 * H);
    fm_histwin_current(w, &start);
    assert_int_equal(start, T0 + 9 * H);
    fm_histwin_free(w);

    /* small clock values (tests, replays from the epoch) are not mistaken for "unset" */
    memset(&log, 0, sizeof(log));
    assert_int_equal(fm_histwin_new(12, 1000, on_closed, &log, &w), 0);
    add_at(w, 500);
    add_at(w, 1500);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.start[0], 0);
    assert_int_equal(log.end[0], 1000);
    assert_int_equal(log.flows[0], 1);
    fm_histwin_free(w);
}

static void test_names(void **state)
{
    (void)state;
    for (int m = 0; m < FM_METRIC_COUNT; m++) {
        assert_int_equal(fm_metric_parse(fm_metric_name((fm_metric_t)m)), m);
    }
    for (int d = 0; d < FM_DIR_COUNT; d++) {
        assert_int_equal(fm_dir_parse(fm_dir_name((fm_dir_t)d)), d);
    }
    assert_int_equal(fm_metric_parse("rate"), FM_EINVAL);
    assert_int_equal(fm_dir_parse("both"), FM_EINVAL);
    /* Unknown names are FM_EINVAL, not -1 (which is -EPERM among the FM_E codes). */
    assert_int_equal(fm_class_parse("icmp"), FM_EINVAL);
    assert_int_equal(fm_log_parse_level("loud"), FM_EINVAL);
    assert_int_equal(fm_log_parse_level("debug"), LOG_DEBUG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bin_examples),
        cmocka_unit_test(test_bin_random),
        cmocka_unit_test(test_add_vs_naive),
        cmocka_unit_test(test_bin_exp_range),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_add_bin),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_csv_write),
        cmocka_unit_test(test_csv_read),
        cmocka_unit_test(test_agh_length),
        cmocka_unit_test(test_agh_size),
        cmocka_unit_test(test_histset_biflow),
        cmocka_unit_test(test_histset_partial),
        cmocka_unit_test(test_histset_batch_map_grow),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
