/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The exporter: writes model snapshots (export.h) every export interval and on request, one
 * at a time, in the thread pool.  What a snapshot holds comes from the snapshot callback (the
 * daemon copies its histograms and fit results into the request); the exporter owns the timer,
 * the job and the counters.  Loop thread only, except fm_export_write() on the job's copy.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "export.h"

typedef struct fm_exporter fm_exporter_t;

/** Settings that a reload may change. */
typedef struct {
    const char *dir;           /* copied */
    uint64_t keep;
    bool plots;
    uint64_t interval_ms;      /* 0: only on request */
} fm_exporter_conf_t;

/**
 * Fill req->hist and req->fits (copies the request then owns; dir, keep, plots and now_ms are
 * set by the exporter).  @return 0 or a negative FM_E* with a message in err.
 */
typedef int (*fm_exporter_snapshot_fn)(void *ctx, fm_export_req_t *req, char *err,
                                       size_t errlen);

/** Completion of a requested export: rc 0 and the snapshot directory, or a negative FM_E*
 *  and the reason (both strings borrowed for the call). */
typedef void (*fm_exporter_done_fn)(void *arg, int rc, const char *path_or_err);

/** A snapshot was written: name (in dir) is the newest; snapshots beyond the newest keep were
 *  removed.  Called on the loop thread so the daemon can have it recorded (the committer
 *  owns the store's writer). */
typedef void (*fm_exporter_created_fn)(void *ctx, const char *dir, const char *name,
                                       uint64_t created_ms, uint64_t keep);

typedef struct {
    uint64_t exports, failures, last_ms;
    bool running;
    char last[512];            /* last snapshot written */
} fm_exporter_stats_t;

/** @return 0, FM_EINVAL or a libuv error.  Release with fm_exporter_free() after stop. */
int fm_exporter_new(uv_loop_t *loop, const fm_exporter_conf_t *conf,
                    fm_exporter_snapshot_fn snapshot, void *ctx, fm_exporter_t **out);
/** Start the interval timer.  @return 0, FM_EINVAL (stopped) or a libuv error. */
int fm_exporter_start(fm_exporter_t *ex);
/** Apply changed settings (the next snapshot uses them).  @return 0 or a libuv error. */
int fm_exporter_reconfigure(fm_exporter_t *ex, const fm_exporter_conf_t *conf);
/**
 * Write a snapshot now; done (may be NULL) runs once it is written or failed.
 * @return 0 (done will run), FM_EBUSY (an export is running), FM_EINVAL (stopping) or the
 *         snapshot callback's error (message in err; the daemon's returns FM_EAGAIN while the
 *         histograms are empty, which the timer logs as a skipped snapshot); on error done
 *         never runs.
 */
int fm_exporter_run(fm_exporter_t *ex, fm_exporter_done_fn done, void *arg, char *err,
                    size_t errlen);
/**
 * Keep the snapshots' creation order across restarts: each job reads the order recorded in
 * the store at store_path (a read-only connection of its own; copied, NULL: none) and puts
 * the snapshots of this run after it; created (ctx of fm_exporter_new; may be NULL) is told of
 * each new snapshot to record it.  Without this, only this run's snapshots are ordered.
 */
void fm_exporter_set_order(fm_exporter_t *ex, const char *store_path,
                           fm_exporter_created_fn created);
/** Stop the timer and wait for the export in flight; then done(arg) on a later iteration. */
void fm_exporter_stop(fm_exporter_t *ex, void (*done)(void *arg), void *arg);
/** Free; only after stop's callback ran.  NULL does nothing. */
void fm_exporter_free(fm_exporter_t *ex);
void fm_exporter_stats(const fm_exporter_t *ex, fm_exporter_stats_t *out);
