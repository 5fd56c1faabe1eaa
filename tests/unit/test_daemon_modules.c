/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's modules on a real libuv loop (libuv's own test style: count callbacks, end by
 * closing the loop, which must report no open handle): window deltas, the committer (commit on
 * request, stop with a commit in flight, a failing commit whose data is kept and retried, a
 * final commit that fails), the fit scheduler (stop waits for a fit in flight and its result
 * still arrives) and the exporter (stop waits for the snapshot).  Slow jobs come from the
 * FLOWMIX_TEST_DELAY hook; SQLite failures from sqlite3_step wrapped with -Wl,--wrap.
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
#include "exporter.h"
#include "fitsched.h"
#include "hist.h"
#include "store.h"
#include "util/err.h"
#include "windelta.h"

#define BIN_EXP 12
#define WINDOW_MS 3600000u
#define WIN0 1700000000000ull /* a window start */

/* ---- failure injection: every sqlite3_step fails while step_fail is set ---- */

int __real_sqlite3_step(sqlite3_stmt *st);
int __wrap_sqlite3_step(sqlite3_stmt *st);
static volatile int step_fail;

int __wrap_sqlite3_step(sqlite3_stmt *st)
{
    return step_fail ? SQLITE_FULL : __real_sqlite3_step(st);
}

/* ---- fixtures ---- */

static char dir[64], dbpath[128];
static uv_loop_t loop;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/fm-test-daemon.XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    snprintf(dbpath, sizeof(dbpath), "%s/flowmix.db", dir);
    step_fail = 0;
    unsetenv("FLOWMIX_TEST_DELAY");
    return uv_loop_init(&loop);
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    assert_int_equal(uv_loop_close(&loop), 0); /* every handle closed */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* n one-packet TCP flows of `packets` packets each. */
static void add_flows(fm_windelta_t *wd, uint64_t start, size_t n, uint64_t packets)
{
    fm_flow_t f[16];
    memset(f, 0, sizeof(f));
    for (size_t i = 0; i < 16; i++) {
        f[i].first_ms = start + 10;
        f[i].last_ms = start + 10 + i;
        f[i].packets = packets;
        f[i].octets = 100 * packets;
        f[i].proto = 6;
        f[i].af = FM_AF_INET;
        f[i].sampling = 1;
        f[i].records = 1;
    }
    while (n) {
        size_t k = n < 16 ? n : 16;
        fm_windelta_add(wd, f, k, start);
        n -= k;
    }
}

/* Flows of class all/uniflow/length in the stored total. */
static uint64_t stored_flows(void)
{
    fm_store_t *s;
    fm_histset_t *h;
    uint64_t flows = 0;
    char err[256];
    assert_int_equal(fm_store_open(dbpath, &s, err, sizeof(err)), 0);
    assert_int_equal(fm_histset_new(BIN_EXP, &h), 0);
    assert_int_equal(fm_store_load_total(s, h), 0);
    fm_hist_totals(fm_histset_get(h, FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_LENGTH), &flows,
                   NULL, NULL);
    fm_histset_free(h);
    fm_store_close(s);
    return flows;
}

static fm_committer_t *new_committer(fm_windelta_t *wd, uint64_t interval_ms)
{
    fm_store_t *s;
    fm_committer_t *c;
    fm_committer_conf_t conf = {.interval_ms = interval_ms};
    char err[256];
    assert_int_equal(fm_store_open(dbpath, &s, err, sizeof(err)), 0);
    assert_int_equal(fm_committer_new(&loop, s, wd, &conf, NULL, &c), 0);
    assert_int_equal(fm_committer_start(c), 0);
    return c;
}

typedef struct {
    int calls;
    int rc;
} done_t;

static void on_done(void *arg, int rc)
{
    done_t *d = arg;
    d->calls++;
    d->rc = rc;
}

/* ---- window deltas ---- */

static void test_windelta_take_give_back(void **state)
{
    fm_windelta_t *wd;
    (void)state;
    assert_int_equal(fm_windelta_new(BIN_EXP, WINDOW_MS, &wd), 0);
    assert_true(fm_windelta_empty(wd));
    assert_null(fm_windelta_take(wd));
    add_flows(wd, WIN0 + WINDOW_MS, 3, 1);
    add_flows(wd, WIN0, 5, 2);
    fm_windelta_close(wd, WIN0, WIN0 + WINDOW_MS);
    fm_windelta_get(wd, WIN0 + 2 * WINDOW_MS); /* empty and open: not taken */
    fm_windelta_win_t *l = fm_windelta_take(wd);
    assert_int_equal(fm_windelta_list_len(l), 2);
    assert_int_equal(l->start_ms, WIN0); /* oldest first */
    assert_true(l->closed);
    assert_true(fm_windelta_empty(wd));
    add_flows(wd, WIN0, 1, 2); /* arrives while the list is away */
    fm_windelta_give_back(wd, l);
    l = fm_windelta_take(wd);
    uint64_t flows = 0;
    fm_hist_totals(fm_histset_get(l->delta, FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_LENGTH),
                   &flows, NULL, NULL);
    assert_int_equal(flows, 6);
    assert_true(l->closed);
    fm_windelta_list_free(l);
    fm_windelta_free(wd);
}

/* ---- committer ---- */

static void test_commit_on_request(void **state)
{
    fm_windelta_t *wd;
    done_t req = {0}, stop = {0};
    (void)state;
    assert_int_equal(fm_windelta_new(BIN_EXP, WINDOW_MS, &wd), 0);
    fm_committer_t *c = new_committer(wd, 0);
    add_flows(wd, WIN0, 40, 1);
    assert_int_equal(fm_committer_commit(c, on_done, &req), 0);
    while (!req.calls) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    assert_int_equal(req.rc, 0);
    assert_int_equal(stored_flows(), 40);
    fm_committer_stop(c, on_done, &stop);
    assert_int_equal(stop.calls, 0); /* never from inside stop */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(stop.calls, 1);
    assert_int_equal(stop.rc, 0);
    assert_int_equal(fm_committer_commit(c, on_done, &req), FM_EBUSY);
    fm_committer_free(c);
    fm_windelta_free(wd);
}

/* The data-loss bug of issue 17: stop while a slow commit runs; what arrived after it was
 * taken must be in the final commit. */
static void test_stop_with_commit_in_flight(void **state)
{
    fm_windelta_t *wd;
    done_t req = {0}, stop = {0};
    fm_committer_stats_t st;
    (void)state;
    setenv("FLOWMIX_TEST_DELAY", "commit=300", 1);
    assert_int_equal(fm_windelta_new(BIN_EXP, WINDOW_MS, &wd), 0);
    fm_committer_t *c = new_committer(wd, 0);
    add_flows(wd, WIN0, 10, 1);
    assert_int_equal(fm_committer_commit(c, on_done, &req), 0);
    fm_committer_stats(c, &st);
    assert_true(st.busy);
    add_flows(wd, WIN0, 25, 3); /* the cache flushed at shutdown */
    fm_committer_stop(c, on_done, &stop);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(req.calls, 1);
    assert_int_equal(stop.calls, 1);
    assert_int_equal(stop.rc, 0);
    fm_committer_stats(c, &st);
    assert_int_equal(st.commits, 2);
    assert_true(fm_windelta_empty(wd));
    fm_committer_free(c);
    fm_windelta_free(wd);
    assert_int_equal(stored_flows(), 35);
}

/* A failing store: the request hears the error, the data stays pending, and the next commit
 * (the store healthy again) writes it once. */
static void test_failing_commit_keeps_data(void **state)
{
    fm_windelta_t *wd;
    done_t req = {0}, stop = {0};
    fm_committer_stats_t st;
    (void)state;
    assert_int_equal(fm_windelta_new(BIN_EXP, WINDOW_MS, &wd), 0);
    fm_committer_t *c = new_committer(wd, 0);
    add_flows(wd, WIN0, 7, 1);
    fm_committer_add_fit(c, "job", 0, 1, "{\"sum\": 1, \"mix\": []}", -1.0, 3, 0.1);
    step_fail = 1;
    assert_int_equal(fm_committer_commit(c, on_done, &req), 0);
    while (!req.calls) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    assert_true(req.rc < 0);
    fm_committer_stats(c, &st);
    assert_true(st.failing);
    assert_int_equal(st.failures, 1);
    assert_false(fm_windelta_empty(wd));
    step_fail = 0;
    fm_committer_stop(c, on_done, &stop);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(stop.rc, 0);
    fm_committer_stats(c, &st);
    assert_false(st.failing);
    fm_committer_free(c);
    fm_windelta_free(wd);
    assert_int_equal(stored_flows(), 7);
    fm_store_t *s;
    fm_store_fit_t f = {0};
    char err[256];
    assert_int_equal(fm_store_open(dbpath, &s, err, sizeof(err)), 0);
    assert_int_equal(fm_store_latest_fit(s, "job", &f), 0);
    assert_int_equal(f.iterations, 3);
    fm_store_fit_fini(&f);
    fm_store_close(s);
}

/* A store that refuses the final commit: the stop callback reports it (the daemon exits 1). */
static void test_final_commit_fails(void **state)
{
    fm_windelta_t *wd;
    done_t stop = {0};
    (void)state;
    assert_int_equal(fm_windelta_new(BIN_EXP, WINDOW_MS, &wd), 0);
    fm_committer_t *c = new_committer(wd, 10);
    add_flows(wd, WIN0, 4, 1);
    step_fail = 1;
    fm_committer_stop(c, on_done, &stop);
    uv_run(&loop, UV_RUN_DEFAULT);
    step_fail = 0;
    assert_int_equal(stop.calls, 1);
    assert_true(stop.rc < 0);
    assert_false(fm_windelta_empty(wd)); /* kept, not freed behind the caller's back */
    fm_committer_free(c);
    fm_windelta_free(wd);
}

/* The interval timer commits without being asked. */
static void test_periodic_commit(void **state)
{
    fm_windelta_t *wd;
    fm_committer_stats_t st = {0};
    done_t stop = {0};
    (void)state;
    assert_int_equal(fm_windelta_new(BIN_EXP, WINDOW_MS, &wd), 0);
    fm_committer_t *c = new_committer(wd, 20);
    add_flows(wd, WIN0, 3, 1);
    while (st.commits == 0) {
        uv_run(&loop, UV_RUN_ONCE);
        fm_committer_stats(c, &st);
    }
    assert_int_equal(stored_flows(), 3);
    fm_committer_stop(c, on_done, &stop);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(stop.calls, 1);
    fm_committer_free(c);
    fm_windelta_free(wd);
}

/* ---- fit scheduler ---- */

typedef struct {
    int results, stopped;
} fits_t;

static void on_fit(void *ctx, const fm_fitsched_job_t *job)
{
    fits_t *f = ctx;
    assert_non_null(job->json);
    f->results++;
}

static void on_fits_stopped(void *arg)
{
    ((fits_t *)arg)->stopped++;
}

static void test_fitsched_stop_waits(void **state)
{
    fm_histset_t *total;
    fm_windelta_t *wd;
    fm_fitsched_t *fs;
    fits_t f = {0};
    fm_config_fit_t job = {.name = "len", .cls = FM_CLASS_ALL, .metric = FM_METRIC_LENGTH,
                           .direction = FM_DIR_UNIFLOW, .L = 2, .max_iter = 20};
    char err[256];
    unsigned started = 0;
    (void)state;
    setenv("FLOWMIX_TEST_DELAY", "fit=200", 1);
    assert_int_equal(fm_windelta_new(BIN_EXP, WINDOW_MS, &wd), 0);
    for (uint64_t p = 1; p < 200; p = p * 3 + 1) {
        add_flows(wd, WIN0, 50, p);
    }
    total = fm_windelta_get(wd, WIN0);
    assert_int_equal(fm_fitsched_new(&loop, &job, 1, 0, total, on_fit, &f, &fs), 0);
    assert_int_equal(fm_fitsched_start(fs), 0);
    assert_int_equal(fm_fitsched_run(fs, "nope", &started, err, sizeof(err)), FM_ENOENT);
    assert_int_equal(fm_fitsched_run(fs, "len", &started, err, sizeof(err)), 0);
    assert_int_equal(started, 1);
    assert_int_equal(fm_fitsched_run(fs, "len", &started, err, sizeof(err)), FM_EBUSY);
    fm_fitsched_stop(fs, on_fits_stopped, &f);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(f.results, 1); /* the result arrived before the stop callback */
    assert_int_equal(f.stopped, 1);
    assert_non_null(fm_fitsched_find(fs, "len")->mix);
    /* A reload with the same job keeps the result (the warm start). */
    assert_int_equal(fm_fitsched_reconfigure(fs, &job, 1, 0), 0);
    assert_non_null(fm_fitsched_get(fs, 0)->mix);
    fm_fitsched_free(fs);
    fm_windelta_free(wd);
}

/* ---- exporter ---- */

static int snapshot(void *ctx, fm_export_req_t *req, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    return fm_histset_clone(ctx, &req->hist);
}

typedef struct {
    int done, stopped, rc;
} exp_t;

static void on_export(void *arg, int rc, const char *path)
{
    exp_t *e = arg;
    e->done++;
    e->rc = rc;
    assert_non_null(path);
}

static void on_export_stopped(void *arg)
{
    exp_t *e = arg;
    assert_int_equal(e->done, 1); /* the snapshot finished first */
    e->stopped++;
}

static void test_exporter_stop_waits(void **state)
{
    fm_histset_t *h;
    fm_exporter_t *ex;
    char edir[160], err[256], latest[200];
    exp_t e = {0};
    (void)state;
    setenv("FLOWMIX_TEST_DELAY", "export=200", 1);
    snprintf(edir, sizeof(edir), "%s/export", dir);
    fm_exporter_conf_t conf = {.dir = edir, .keep = 2, .plots = false};
    assert_int_equal(fm_histset_new(BIN_EXP, &h), 0);
    assert_int_equal(fm_exporter_new(&loop, &conf, snapshot, h, &ex), 0);
    assert_int_equal(fm_exporter_start(ex), 0);
    assert_int_equal(fm_exporter_run(ex, on_export, &e, err, sizeof(err)), 0);
    assert_int_equal(fm_exporter_run(ex, on_export, &e, err, sizeof(err)), FM_EBUSY);
    fm_exporter_stop(ex, on_export_stopped, &e);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(e.rc, 0);
    assert_int_equal(e.stopped, 1);
    snprintf(latest, sizeof(latest), "%s/latest/summary.md", edir);
    assert_int_equal(access(latest, R_OK), 0);
    fm_exporter_free(ex);
    fm_histset_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_windelta_take_give_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_on_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_with_commit_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_commit_keeps_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_final_commit_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_periodic_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fitsched_stop_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exporter_stop_waits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
