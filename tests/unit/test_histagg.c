/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's histograms (histagg.h): one pending delta per flow, everything else merged from
 * it per bin.  A seeded random script adds flows (through the loop's producer and a second
 * registered one, as cache shards will), moves the clock across window boundaries, commits
 * through the real committer into a real store (some commits failing: sqlite3_step wrapped with
 * -Wl,--wrap, their data given back) and takes publish deltas.  After every step the served
 * total and current window must equal the old semantics - an fm_histwin_t every flow was added
 * to as it finished (fm_histwin_add_flows) - and at the end the store and the published deltas
 * must hold exactly every flow, per window, with every closed window marked closed.
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
#include <sqlite3.h>
#include <uv.h>

#include "committer.h"
#include "hist.h"
#include "histagg.h"
#include "store.h"
#include "util/err.h"
#include "windelta.h"

#define BIN_EXP 8
#define WINDOW_MS 1000u
#define T0 1700000000500ull /* mid-window: the first window is short */
#define MAX_WINS 64

int __real_sqlite3_step(sqlite3_stmt *st);
int __wrap_sqlite3_step(sqlite3_stmt *st);
static volatile int step_fail;

int __wrap_sqlite3_step(sqlite3_stmt *st)
{
    return step_fail ? SQLITE_FULL : __real_sqlite3_step(st);
}

static char dir[64], dbpath[128];
static uv_loop_t loop;

/* The old semantics: every window the reference closed, kept for the final comparison. */
typedef struct {
    uint64_t start, end;
    fm_histset_t *set;
} ref_win_t;

static ref_win_t ref_wins[MAX_WINS];
static size_t nref_wins;

static void ref_closed(void *ctx, uint64_t start, uint64_t end, fm_histset_t *closed)
{
    (void)ctx;
    assert_true(nref_wins < MAX_WINS);
    ref_wins[nref_wins++] = (ref_win_t){start, end, closed};
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(uint64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % n;
}

static void random_flows(fm_flow_t *f, size_t n, uint64_t now)
{
    static const uint8_t protos[] = {6, 17, 1, 47};
    memset(f, 0, n * sizeof(*f));
    for (size_t i = 0; i < n; i++) {
        f[i].proto = protos[rnd(4)];
        f[i].af = FM_AF_INET;
        f[i].sampling = 1;
        f[i].records = 1;
        f[i].packets = 1 + rnd(rnd(2) ? 5 : 5000);
        f[i].octets = f[i].packets * (40 + rnd(1460));
        f[i].first_ms = now - rnd(60000);
        f[i].last_ms = f[i].first_ms + (f[i].packets > 1 ? rnd(30000) : 0);
        if (rnd(3) == 0) { /* a biflow */
            f[i].rev_packets = 1 + rnd(200);
            f[i].rev_octets = f[i].rev_packets * (40 + rnd(1460));
            f[i].rev_first_ms = f[i].first_ms + rnd(100);
            f[i].rev_last_ms = f[i].rev_first_ms + rnd(10000);
        }
    }
}

static void assert_hist_equal(const fm_hist_t *a, const fm_hist_t *b)
{
    fm_hist_bin_t *x, *y;
    long nx = fm_hist_bins(a, &x), ny = fm_hist_bins(b, &y);
    assert_int_equal(nx, ny);
    if (nx > 0) {
        assert_memory_equal(x, y, (size_t)nx * sizeof(*x));
    }
    free(x);
    free(y);
}

static void assert_set_equal(const fm_histset_t *a, const fm_histset_t *b)
{
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                assert_hist_equal(fm_histset_cget(a, c, d, m), fm_histset_cget(b, c, d, m));
            }
        }
    }
}

static uint64_t set_flows(const fm_histset_t *s)
{
    uint64_t flows = 0;
    fm_hist_totals(fm_histset_cget(s, FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_LENGTH), &flows,
                   NULL, NULL);
    return flows;
}

/* A second producer, as a cache shard would be: its own pending deltas, taken at sync. */
static fm_windelta_win_t *take_other(void *ctx)
{
    return fm_windelta_take(ctx);
}

static void sync_hook(void *ctx)
{
    fm_histagg_sync(ctx);
}

typedef struct {
    int calls, rc;
} done_t;

static void on_done(void *arg, int rc)
{
    done_t *d = arg;
    d->calls++;
    d->rc = rc;
}

/* Published deltas summed per window start. */
typedef struct {
    uint64_t start;
    fm_histset_t *set;
} pub_win_t;

static pub_win_t pubs[MAX_WINS];
static size_t npubs;

static void take_pub(fm_histagg_t *a)
{
    fm_histagg_sync(a);
    fm_windelta_win_t *l = fm_windelta_take(fm_histagg_pub(a));
    for (fm_windelta_win_t *w = l; w; w = w->next) {
        size_t i = 0;
        while (i < npubs && pubs[i].start != w->start_ms) {
            i++;
        }
        if (i == npubs) {
            assert_true(npubs < MAX_WINS);
            pubs[npubs].start = w->start_ms;
            assert_int_equal(fm_histset_new(BIN_EXP, &pubs[npubs++].set), 0);
        }
        assert_int_equal(fm_histset_merge(pubs[i].set, w->delta), 0);
    }
    fm_windelta_list_free(l);
}

static void test_served_equals_old_semantics(void **state)
{
    (void)state;
    fm_histagg_t *a;
    fm_histwin_t *ref;
    fm_windelta_t *other;
    fm_store_t *s;
    fm_committer_t *c;
    fm_committer_conf_t conf = {0}; /* commits only on request */
    fm_committer_hooks_t hooks = {0};
    fm_committer_stats_t st;
    fm_flow_t f[40];
    char err[256];
    uint64_t now = T0, start, ref_start;
    unsigned failed = 0, commits = 0, closes = 0;

    assert_int_equal(fm_histagg_new(BIN_EXP, WINDOW_MS, &a), 0);
    assert_int_equal(fm_histwin_new(BIN_EXP, WINDOW_MS, ref_closed, NULL, &ref), 0);
    assert_int_equal(fm_windelta_new(BIN_EXP, WINDOW_MS, &other), 0);
    fm_histagg_add_producer(a, take_other, other);
    fm_histagg_enable_publish(a);
    fm_histagg_tick(a, now);
    fm_histwin_tick(ref, now);
    assert_int_equal(fm_store_open(dbpath, &s, err, sizeof(err)), 0);
    hooks.ctx = a;
    hooks.sync = sync_hook;
    assert_int_equal(fm_committer_new(&loop, s, fm_histagg_store(a), &conf, &hooks, &c), 0);
    assert_int_equal(fm_committer_start(c), 0);

    for (int step = 0; step < 400; step++) {
        switch (rnd(8)) {
        case 0: /* time passes: a daemon tick */
            now += rnd(700);
            fm_histagg_tick(a, now);
            fm_histwin_tick(ref, now);
            break;
        case 1: { /* a commit, one in three failing: its deltas are given back */
            done_t d = {0};
            bool fail = rnd(3) == 0;
            step_fail = fail;
            assert_int_equal(fm_committer_commit(c, on_done, &d), 0);
            while (!d.calls) {
                uv_run(&loop, UV_RUN_ONCE);
            }
            step_fail = 0;
            if (fail) {
                assert_true(d.rc < 0);
                failed++;
            } else {
                assert_int_equal(d.rc, 0);
                commits++;
            }
            break;
        }
        case 2:
            take_pub(a);
            break;
        default: { /* flows finish now, from either producer */
            size_t n = 1 + rnd(40);
            random_flows(f, n, now);
            start = fm_histagg_tick(a, now);
            fm_windelta_add(rnd(2) ? fm_histagg_local(a) : other, f, n, start);
            fm_histwin_add_flows(ref, f, n, now);
            now += rnd(60);
            break;
        }
        }
        /* What ctl, /metrics, fits and exports read equals the old semantics at every step. */
        assert_set_equal(fm_histagg_total(a), fm_histwin_total(ref));
        fm_histset_t *cur = fm_histagg_current(a, &start);
        fm_histset_t *rcur = fm_histwin_current(ref, &ref_start);
        assert_int_equal(start, ref_start);
        assert_set_equal(cur, rcur);
    }
    closes = (unsigned)nref_wins;
    assert_true(failed >= 5 && commits >= 5 && closes >= 5); /* the script exercised each */

    /* Final commit (as at shutdown); then the store holds every flow, window by window. */
    done_t stop = {0};
    fm_committer_stop(c, on_done, &stop);
    while (!stop.calls) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    assert_int_equal(stop.rc, 0);
    fm_committer_stats(c, &st);
    assert_int_equal(st.failures, failed);
    fm_committer_free(c);
    take_pub(a);

    fm_histset_t *h;
    fm_store_window_t *wins = NULL;
    size_t nw = 0;
    assert_int_equal(fm_store_open(dbpath, &s, err, sizeof(err)), 0);
    assert_int_equal(fm_histset_new(BIN_EXP, &h), 0);
    assert_int_equal(fm_store_load_total(s, h), 0);
    assert_set_equal(h, fm_histwin_total(ref));
    fm_histset_t *rcur = fm_histwin_current(ref, &ref_start);
    assert_true(nref_wins < MAX_WINS);
    ref_wins[nref_wins++] = (ref_win_t){ref_start, ref_start + WINDOW_MS, rcur};
    assert_int_equal(fm_store_list_windows(s, &wins, &nw), 0);
    size_t k = 0;
    for (size_t i = 0; i < nref_wins; i++) {
        bool last = i + 1 == nref_wins;
        fm_histset_clear(h);
        assert_int_equal(fm_store_load_window(s, ref_wins[i].start, h), 0);
        assert_set_equal(h, ref_wins[i].set);
        size_t p = 0;
        while (p < npubs && pubs[p].start != ref_wins[i].start) {
            p++;
        }
        if (set_flows(ref_wins[i].set) == 0) {
            assert_true(p == npubs); /* an empty window is neither stored nor published */
            continue;
        }
        assert_true(p < npubs);
        assert_set_equal(pubs[p].set, ref_wins[i].set);
        assert_true(k < nw);
        assert_int_equal(wins[k].start_ms, ref_wins[i].start);
        assert_int_equal(wins[k].closed, !last);
        if (!last) {
            assert_int_equal(wins[k].end_ms, ref_wins[i].end);
        }
        k++;
    }
    assert_int_equal(k, nw);
    free(wins);
    fm_histset_free(h);
    fm_store_close(s);
    for (size_t i = 0; i + 1 < nref_wins; i++) {
        fm_histset_free(ref_wins[i].set);
    }
    for (size_t i = 0; i < npubs; i++) {
        fm_histset_free(pubs[i].set);
    }
    fm_windelta_free(other);
    fm_histwin_free(ref); /* frees the current window */
    fm_histagg_free(a);
}

/* A producer that hands over a window's delta after that window closed: the flows still count
 * in the total and the window is stored closed, ending where the next began. */
static void test_late_delta(void **state)
{
    (void)state;
    fm_histagg_t *a;
    fm_windelta_t *other;
    fm_flow_t f[4];
    uint64_t w0 = 1700000000000ull, start;

    assert_int_equal(fm_histagg_new(BIN_EXP, WINDOW_MS, &a), 0);
    assert_int_equal(fm_windelta_new(BIN_EXP, WINDOW_MS, &other), 0);
    start = fm_histagg_tick(a, w0 + 10);
    assert_int_equal(start, w0);
    random_flows(f, 4, w0 + 10);
    fm_windelta_add(other, f, 4, start); /* not registered: pushed late by absorb */
    assert_int_equal(fm_histagg_tick(a, w0 + WINDOW_MS + 5), w0 + WINDOW_MS);
    fm_histagg_absorb(a, fm_windelta_take(other));
    assert_int_equal(set_flows(fm_histagg_total(a)), 4 + (f[0].rev_packets > 0) +
                     (f[1].rev_packets > 0) + (f[2].rev_packets > 0) + (f[3].rev_packets > 0));
    assert_int_equal(set_flows(fm_histagg_current(a, &start)), 0);
    fm_windelta_win_t *l = fm_windelta_take(fm_histagg_store(a));
    assert_non_null(l);
    assert_int_equal(l->start_ms, w0);
    assert_true(l->closed);
    assert_int_equal(l->end_ms, w0 + WINDOW_MS);
    assert_null(l->next);
    assert_null(fm_histagg_pub(a)); /* publishing is off unless enabled */
    fm_windelta_list_free(l);
    fm_windelta_free(other);
    fm_histagg_free(a);
}

/* A commit writes one row per changed bin of the total and of the window, not the unchanged
 * bins the window and the total already hold (issue 20 item 8). */
static void test_commit_writes_changed_bins(void **state)
{
    (void)state;
    fm_histagg_t *a;
    fm_store_t *s;
    fm_committer_t *c;
    fm_committer_conf_t conf = {0};
    fm_committer_hooks_t hooks = {0};
    fm_flow_t f[40];
    char err[256];
    uint64_t now = T0, start;

    assert_int_equal(fm_histagg_new(BIN_EXP, 3600000, &a), 0);
    start = fm_histagg_tick(a, now);
    assert_int_equal(fm_store_open(dbpath, &s, err, sizeof(err)), 0);
    hooks.ctx = a;
    hooks.sync = sync_hook;
    assert_int_equal(fm_committer_new(&loop, s, fm_histagg_store(a), &conf, &hooks, &c), 0);
    for (int i = 0; i < 50; i++) { /* many bins */
        random_flows(f, 40, now);
        fm_windelta_add(fm_histagg_local(a), f, 40, start);
    }
    done_t d = {0};
    assert_int_equal(fm_committer_commit(c, on_done, &d), 0);
    while (!d.calls) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    assert_int_equal(d.rc, 0);
    uint64_t rows0 = fm_store_bin_rows(s), held = 0;
    fm_histset_t *cur = fm_histagg_current(a, NULL);
    for (int cl = 0; cl < FM_CLASS_COUNT; cl++) {
        for (int dr = 0; dr < FM_DIR_COUNT; dr++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                held += fm_hist_count(fm_histset_cget(cur, cl, dr, m));
            }
        }
    }
    assert_int_equal(rows0, 2 * held); /* first commit: every bin, in the total and the window */
    assert_true(held > 1000);

    /* One one-packet UDP flow of 100 octets, duration 0: all and udp, uniflow and biflow, three
     * metrics each = 12 changed bins, each written to the total and to the window. */
    memset(f, 0, sizeof(f[0]));
    f[0].proto = 17;
    f[0].af = FM_AF_INET;
    f[0].packets = 1;
    f[0].octets = 100;
    f[0].first_ms = f[0].last_ms = now;
    fm_windelta_add(fm_histagg_local(a), f, 1, start);
    d.calls = 0;
    assert_int_equal(fm_committer_commit(c, on_done, &d), 0);
    while (!d.calls) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    assert_int_equal(d.rc, 0);
    assert_int_equal(fm_store_bin_rows(s) - rows0, 2 * 12);

    done_t stop = {0};
    fm_committer_stop(c, on_done, &stop);
    while (!stop.calls) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    assert_int_equal(fm_store_bin_rows(s) - rows0, 2 * 12); /* nothing changed: no rows */
    fm_committer_free(c);
    fm_histagg_free(a);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/fm-test-histagg.XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    snprintf(dbpath, sizeof(dbpath), "%s/flowmix.db", dir);
    step_fail = 0;
    nref_wins = npubs = 0;
    return uv_loop_init(&loop);
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    assert_int_equal(uv_loop_close(&loop), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_served_equals_old_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_delta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_writes_changed_bins, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
