/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fit scheduler: owns the configured fit jobs ([fit.NAME]), their latest results (used as
 * warm starts for the next run and shown by `fits`/`model`/exports) and the fit timer.  Each
 * run fits a snapshot of the total histogram in the thread pool; a finished fit is handed to
 * the result callback (the daemon queues it for the committer).  Results survive a reload for
 * jobs whose parameters did not change, and a restart through fm_fitsched_restore().  Requested
 * fits queue here and at most `parallel` run on the pool at once (default: the CPUs this process
 * may use, at most UV_THREADPOOL_SIZE), the largest (bins x components x iterations) first.
 * Loop thread only, except the fit itself, which runs on its own copies.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "fit.h"
#include "hist.h"
#include "mixture.h"
#include "store.h"

typedef struct fm_fitsched fm_fitsched_t;

/** One job's state (read-only for callers; valid until the next loop callback). */
typedef struct {
    fm_config_fit_t job;       /* the job (name owned by the scheduler) */
    fm_mix_t *mix;             /* latest mixture, NULL before the first fit */
    char *json;                /* its flow-models JSON */
    fm_fit_result_t res;
    uint64_t created_ms;
    bool running;              /* requested and its result not yet in (queued or on the pool) */
    bool queued;               /* waiting for a free slot (not yet on the pool) */
    uint64_t runs, failures;
} fm_fitsched_job_t;

/** A finished fit, for the store.  Strings are borrowed for the call. */
typedef void (*fm_fitsched_result_fn)(void *ctx, const fm_fitsched_job_t *job);

/**
 * @param[in] loop         borrowed; outlives the scheduler.
 * @param[in] jobs         copied (n may be 0).
 * @param[in] interval_ms  fit every job this often; 0: only on request.
 * @param[in] total        the histograms to fit (borrowed; must outlive the scheduler).
 * @param[in] result       called on the loop thread after each successful fit (may be NULL).
 * @param[out] out         release with fm_fitsched_free() after fm_fitsched_stop()'s callback.
 * @return 0, FM_EINVAL or a libuv error.
 */
int fm_fitsched_new(uv_loop_t *loop, const fm_config_fit_t *jobs, size_t n, uint64_t interval_ms,
                    const fm_histset_t *total, fm_fitsched_result_fn result, void *ctx,
                    fm_fitsched_t **out);

/** Start the fit timer.  @return 0, FM_EINVAL (stopped) or a libuv error. */
int fm_fitsched_start(fm_fitsched_t *fs);

/**
 * Replace the job list and interval.  A job with the same name and parameters keeps its
 * result and warm start; others start afresh.  A fit running for a removed or changed job
 * finishes but its result is dropped.
 * @return 0 or a libuv error (timer).
 */
int fm_fitsched_reconfigure(fm_fitsched_t *fs, const fm_config_fit_t *jobs, size_t n,
                            uint64_t interval_ms);

/**
 * Load each job's latest stored fit (fm_store_latest_fit) as its result and warm start.
 * @return number of jobs restored (a job without a stored fit, or with an unreadable one,
 *         stays empty).
 */
size_t fm_fitsched_restore(fm_fitsched_t *fs, fm_store_t *store);

/**
 * Start fits now: the named job, or every job not running when job is NULL.
 * @param[out] started  jobs started (may be NULL).
 * @param[out] err      why a named job did not start.
 * @return 0; FM_ENOENT (no such job), FM_EBUSY (it is running), FM_EAGAIN (its histogram has
 *         too few bins), FM_EINVAL (stopping), or a libuv error.  With job NULL: always 0.
 */
int fm_fitsched_run(fm_fitsched_t *fs, const char *job, unsigned *started, char *err,
                    size_t errlen);

/** Number of jobs and one job's state (i < count). */
size_t fm_fitsched_count(const fm_fitsched_t *fs);
const fm_fitsched_job_t *fm_fitsched_get(const fm_fitsched_t *fs, size_t i);
/** Job by name, or NULL. */
const fm_fitsched_job_t *fm_fitsched_find(const fm_fitsched_t *fs, const char *name);
/** Jobs whose fit was requested and has not finished (queued or on the pool). */
unsigned fm_fitsched_running(const fm_fitsched_t *fs);
/** Fits on the thread pool now (at most the parallel limit). */
unsigned fm_fitsched_inflight(const fm_fitsched_t *fs);
/** Run at most n (>= 1; 0 counts as 1) fits at once; starts queued ones if n grew. */
void fm_fitsched_set_parallel(fm_fitsched_t *fs, unsigned n);

/**
 * Stop the timer, drop the queued fits and wait for those on the pool (their results still
 * reach the result callback); then done(arg) runs, on a later loop iteration.  Call once.
 */
void fm_fitsched_stop(fm_fitsched_t *fs, void (*done)(void *arg), void *arg);

/** Free everything; only after stop's callback ran.  NULL does nothing. */
void fm_fitsched_free(fm_fitsched_t *fs);
