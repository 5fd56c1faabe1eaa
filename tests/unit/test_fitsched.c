/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fit scheduler's dispatch (fitsched.c) on a real libuv loop: requested fits queue, at most
 * `parallel` of them are on the thread pool at once, the largest (bins x components x
 * iterations) start first, a stop drops the queued ones and waits for those on the pool, and a
 * reload that removes a queued job forgets it.  Slow fits come from the FLOWMIX_TEST_DELAY hook.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_errno.h>
#include <uv.h>

#include "fitsched.h"
#include "hist.h"
#include "util/err.h"

#define NJOBS 4

typedef struct {
    fm_fitsched_t *fs;
    char order[NJOBS][16]; /* job names in the order their results arrived */
    int results, stopped;
    unsigned max_inflight;
} track_t;

static uv_loop_t loop;
static fm_histset_t *hs;

/* Job costs (bins x (L + P + 1) x iterations), listed smallest first:
 * small 8 x 2 x 10 = 160, mid 8 x 3 x 20 = 480, big 40 x 3 x 20 = 2400, huge 40 x 4 x 30 = 4800. */
static const fm_config_fit_t jobs[NJOBS] = {
    {.name = "small", .cls = FM_CLASS_ALL, .metric = FM_METRIC_LENGTH, .L = 1, .max_iter = 10},
    {.name = "mid", .cls = FM_CLASS_ALL, .metric = FM_METRIC_LENGTH, .L = 2, .max_iter = 20},
    {.name = "big", .cls = FM_CLASS_ALL, .metric = FM_METRIC_SIZE, .L = 2, .max_iter = 20},
    {.name = "huge", .cls = FM_CLASS_ALL, .metric = FM_METRIC_SIZE, .L = 3, .max_iter = 30},
};

static int setup(void **state)
{
    (void)state;
    unsetenv("FLOWMIX_TEST_DELAY");
    if (uv_loop_init(&loop) < 0 || fm_histset_new(0, &hs) < 0) {
        return -1;
    }
    fm_hist_t *len = fm_histset_get(hs, FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_LENGTH);
    fm_hist_t *size = fm_histset_get(hs, FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_SIZE);
    for (uint64_t x = 1; x <= 8; x++) { /* 8 bins, 40 bins */
        fm_hist_add(len, x, x, 100 * x);
    }
    for (uint64_t x = 100; x < 140; x++) {
        for (uint64_t k = 0; k < 1 + (x % 7); k++) {
            fm_hist_add(size, x, 1, x);
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unsetenv("FLOWMIX_TEST_DELAY");
    fm_histset_free(hs);
    return uv_loop_close(&loop) == 0 ? 0 : -1;
}

static void on_fit(void *ctx, const fm_fitsched_job_t *job)
{
    track_t *t = ctx;
    unsigned n = fm_fitsched_inflight(t->fs);
    assert_non_null(job->json);
    assert_true(t->results < NJOBS);
    snprintf(t->order[t->results++], sizeof(t->order[0]), "%s", job->job.name);
    t->max_inflight = n > t->max_inflight ? n : t->max_inflight;
}

static void on_stopped(void *arg)
{
    ((track_t *)arg)->stopped++;
}

static void run_all(track_t *t, unsigned parallel)
{
    char err[256];
    unsigned started = 0;

    assert_int_equal(fm_fitsched_new(&loop, jobs, NJOBS, 0, hs, on_fit, t, &t->fs), 0);
    fm_fitsched_set_parallel(t->fs, parallel);
    assert_int_equal(fm_fitsched_run(t->fs, NULL, &started, err, sizeof(err)), 0);
    assert_int_equal(started, NJOBS);
    assert_int_equal(fm_fitsched_running(t->fs), NJOBS);
    assert_int_equal(fm_fitsched_inflight(t->fs), parallel < NJOBS ? parallel : NJOBS);
    t->max_inflight = fm_fitsched_inflight(t->fs);
}

static void finish(track_t *t)
{
    fm_fitsched_stop(t->fs, on_stopped, t);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(t->stopped, 1);
    assert_int_equal(fm_fitsched_running(t->fs), 0);
    assert_int_equal(fm_fitsched_inflight(t->fs), 0);
    fm_fitsched_free(t->fs);
}

/* One at a time: the results arrive largest job first, not in configuration order. */
static void test_largest_first(void **state)
{
    track_t t = {0};
    static const char *const want[NJOBS] = {"huge", "big", "mid", "small"};
    (void)state;
    run_all(&t, 1);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(t.results, NJOBS);
    for (int i = 0; i < NJOBS; i++) {
        assert_string_equal(t.order[i], want[i]);
    }
    assert_int_equal(t.max_inflight, 1);
    for (int i = 0; i < NJOBS; i++) {
        const fm_fitsched_job_t *s = fm_fitsched_get(t.fs, (size_t)i);
        assert_false(s->running || s->queued);
        assert_int_equal(s->runs, 1);
        assert_non_null(s->mix);
    }
    finish(&t);
}

/* Two at a time on a pool of four threads: never more than two fits on it; all four finish. */
static void test_parallel_bound(void **state)
{
    track_t t = {0};
    (void)state;
    setenv("FLOWMIX_TEST_DELAY", "fit=30", 1);
    run_all(&t, 2);
    assert_true(fm_fitsched_get(t.fs, 3)->running && !fm_fitsched_get(t.fs, 3)->queued);
    assert_true(fm_fitsched_get(t.fs, 2)->running && !fm_fitsched_get(t.fs, 2)->queued);
    assert_true(fm_fitsched_get(t.fs, 0)->queued && fm_fitsched_get(t.fs, 1)->queued);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(t.results, NJOBS);
    assert_true(t.max_inflight <= 2);
    /* The two small ones ran after the two large ones. */
    assert_true(!strcmp(t.order[2], "mid") || !strcmp(t.order[2], "small"));
    assert_true(!strcmp(t.order[3], "mid") || !strcmp(t.order[3], "small"));
    finish(&t);
}

/* A stop with fits queued: they never start; the one on the pool still delivers. */
static void test_stop_drops_queued(void **state)
{
    track_t t = {0};
    (void)state;
    setenv("FLOWMIX_TEST_DELAY", "fit=50", 1);
    run_all(&t, 1);
    finish(&t);
    assert_int_equal(t.results, 1);
    assert_string_equal(t.order[0], "huge");
}

/* A reload that removes a queued job and keeps the others: the removed one never runs. */
static void test_reload_forgets_queued(void **state)
{
    track_t t = {0};
    (void)state;
    setenv("FLOWMIX_TEST_DELAY", "fit=30", 1);
    run_all(&t, 1);
    /* "huge" is on the pool; keep "small" and "huge", drop "mid" and "big" (queued). */
    fm_config_fit_t keep[2] = {jobs[0], jobs[3]};
    assert_int_equal(fm_fitsched_reconfigure(t.fs, keep, 2, 0), 0);
    assert_int_equal(fm_fitsched_running(t.fs), 2);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(t.results, 2);
    assert_string_equal(t.order[0], "huge");
    assert_string_equal(t.order[1], "small");
    finish(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_largest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parallel_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_drops_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_forgets_queued, setup, teardown),
    };
    gsl_set_error_handler_off();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
