/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The committer: the only writer of the SQLite store.  Every commit interval, on request
 * (`flowmixctl flush`) and once more when stopped, it takes the pending window deltas
 * (windelta.h), the queued fit results and export records and writes them with the daemon's
 * counters in one thread-pool job; at most one job runs at a time.  A failed commit gives everything back to
 * be retried with the next one, so nothing counted is lost while the daemon runs.
 *
 * Stopping (fm_committer_stop) waits for the job in flight and then runs a final commit of
 * everything pending at that moment; only then is the stop callback called.  This is what makes
 * a shutdown during a slow commit lose nothing.
 *
 * What it leaves to others: what goes into the deltas (the daemon's data path), the counters'
 * values and the Kafka positions to confirm (hooks), reads of the store (the ctl reader).
 * Everything here runs on the loop thread except the job's work function, which touches only
 * the store and the job's own copies.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "store.h"
#include "windelta.h"

typedef struct fm_committer fm_committer_t;

/** Settings that a reload may change (fm_committer_reconfigure). */
typedef struct {
    uint64_t interval_ms;      /* periodic commits; 0: only on request and at stop */
    uint64_t retention_ms;     /* prune windows older than this every 360 commits; 0: keep */
} fm_committer_conf_t;

/** Most counters one commit writes. */
#define FM_COMMITTER_MAX_COUNTERS 16

/** The daemon's side of a commit; every member may be NULL.  Called on the loop thread. */
typedef struct {
    void *ctx;
    /** Each interval, before the periodic commit starts (e.g. publish deltas to plugins). */
    void (*tick)(void *ctx);
    /** As a job starts: write up to max counters (names must stay valid); return how many. */
    size_t (*counters)(void *ctx, fm_store_counter_t *out, size_t max);
    /** As a job starts: positions to confirm once this commit succeeded (NULL: none). */
    void *(*mark)(void *ctx);
    /** After the job: ok tells whether the commit holding mark succeeded; final: at stop. */
    void (*confirm)(void *ctx, void *mark, bool ok, bool final);
    /** True while no commit may start (an [input.kafka] part half added): periodic and
     *  requested commits wait for a later interval; the final commit does not wait. */
    bool (*busy)(void *ctx);
    /** As a job starts, before the deltas are taken: store marks to write, each in the
     *  transaction of its window (the hook keeps those windows: fm_windelta_keep); *out is
     *  malloc'd and freed by the committer.  @return how many. */
    size_t (*marks)(void *ctx, fm_store_mark_t **out);
    /** After a successful job: its marks are stored. */
    void (*durable)(void *ctx, const fm_store_mark_t *marks, size_t n);
    /** As a job starts, first: bring the pending deltas up to date (fm_histagg_sync: the
     *  producers' deltas into the committer's). */
    void (*sync)(void *ctx);
} fm_committer_hooks_t;

/** Read-only view of the committer's state (for `status`). */
typedef struct {
    uint64_t commits;          /* successful commits */
    uint64_t failures;         /* failed commits (each retried) */
    uint64_t last_commit_ms;   /* wall clock of the last success, 0 before */
    double last_seconds;       /* duration of the last successful job */
    bool busy;                 /* a job is in the thread pool */
    bool failing;              /* the last commit failed */
    char error[256];           /* its reason */
} fm_committer_stats_t;

/** Completion of a requested commit or of the stop: rc 0 or the commit's negative FM_E*. */
typedef void (*fm_committer_done_fn)(void *arg, int rc);

/**
 * @param[in]  loop   loop the timer and jobs run on (borrowed, outlives the committer).
 * @param[in]  store  the writer connection; ownership passes to the committer (closed by
 *                    fm_committer_free), nobody else may use it afterwards.
 * @param[in]  wd     pending deltas (borrowed; must outlive the committer).
 * @param[in]  conf   copied.  @param[in] hooks  copied; NULL: none.
 * @param[out] out    release with fm_committer_free().
 * @return 0 or FM_EINVAL (NULL argument); on failure store is not taken.
 */
int fm_committer_new(uv_loop_t *loop, fm_store_t *store, fm_windelta_t *wd,
                     const fm_committer_conf_t *conf, const fm_committer_hooks_t *hooks,
                     fm_committer_t **out);

/** Start the interval timer.  @return 0, FM_EINVAL (stopped) or a libuv error. */
int fm_committer_start(fm_committer_t *c);

/** Apply a changed interval or retention (restarts the timer).  @return 0 or a libuv error. */
int fm_committer_reconfigure(fm_committer_t *c, const fm_committer_conf_t *conf);

/**
 * Commit everything pending now; done (may be NULL) runs once a commit that holds it finished
 * (after the job in flight, if any, and one more).
 * @return 0 (done will run) or FM_EBUSY (stopping: done never runs).
 */
int fm_committer_commit(fm_committer_t *c, fm_committer_done_fn done, void *arg);

/**
 * Queue a fit result for the next commit (strings copied).
 * @param[in] window_start_ms  0 for a fit on the total.
 */
void fm_committer_add_fit(fm_committer_t *c, const char *job, uint64_t window_start_ms,
                          uint64_t created_ms, const char *json, double loglik,
                          unsigned iterations, double seconds);

/**
 * Queue the record of an export snapshot for the next commit (fm_store_record_export): the
 * creation order later exports prune by, kept across restarts.  Records are written in the
 * order queued; a failed commit keeps them for the next.  Strings copied.
 */
void fm_committer_add_export(fm_committer_t *c, const char *dir, const char *name,
                             uint64_t created_ms, uint64_t keep);

/**
 * Stop the timer, let the job in flight finish, then commit everything pending (the final
 * commit) and call done with its result.  Requests made before still get their callbacks.
 * Call once; done runs on a later loop iteration, never from inside this call.
 */
void fm_committer_stop(fm_committer_t *c, fm_committer_done_fn done, void *arg);

/** Free the committer and close the store, only after stop's callback ran (the timer handle
 *  exists from fm_committer_new on).  NULL does nothing. */
void fm_committer_free(fm_committer_t *c);

/** Copy the state into *out. */
void fm_committer_stats(const fm_committer_t *c, fm_committer_stats_t *out);
