/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SQLite store (DESIGN §7): one database file in WAL mode with synchronous=NORMAL, the schema
 * versioned by PRAGMA user_version and brought forward by an ordered list of migrations at open.
 * It keeps the running-total and per-window histogram bins (sums, so every write is an UPSERT
 * that adds), the window list, fit results, daemon counters and exporters.
 *
 * One fm_store_t is one connection used by one thread at a time (the daemon runs commits in a
 * thread-pool job, one job at a time).  The store never logs: functions return a negative FM_E*
 * code and, where an err buffer is passed, the sqlite3_errmsg text; fm_store_errmsg() returns the
 * message of the last failure for the functions without one.  Statements are prepared at open,
 * reused and finalised at close.
 *
 * Schema (version 1; integer codes are fm_class_t, fm_dir_t and fm_metric_t):
 *   meta(key PRIMARY KEY, value)                       "bin_exp" recorded at the first commit
 *   windows(id PRIMARY KEY, start_ms UNIQUE, end_ms, closed, flows)
 *   hist_bins(window_id, class, direction, metric, bin_lo, bin_hi, flows, packets, octets,
 *             PRIMARY KEY(window_id, class, direction, metric, bin_lo))  window_id 0 = total
 *   fits(id PRIMARY KEY, window_id, job, created_ms, model, loglik, iterations, seconds)
 *   counters(name PRIMARY KEY, value, updated_ms)
 *   exporters(id PRIMARY KEY, address, port, first_seen_ms, last_seen_ms, datagrams, records,
 *             malformed, UNIQUE(address, port))
 *   kafka_marks(collector, run, window_start_ms, seq, part, PRIMARY KEY(collector, run,
 *             window_start_ms))  version 2: [input.kafka]'s high-water marks (issue 21)
 *   exports(seq PRIMARY KEY AUTOINCREMENT, dir, name, created_ms, UNIQUE(dir, name))
 *             version 3: export snapshots in creation order, newest highest (issue 20)
 *   hist_bins_named (view): hist_bins with window start (or 'total') and the class, direction
 *             and metric names of fm_class_name(), fm_dir_name() and fm_metric_name()
 * Unsigned 64-bit values are stored bit for bit in SQLite's signed integers; sums saturate at
 * INT64_MAX instead of turning into floating point.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "hist.h"

/** WAL bound: journal_size_limit (bytes) and TRUNCATE checkpoints every this many commits. */
#define FM_STORE_WAL_LIMIT 4194304
#define FM_STORE_CKPT_COMMITS 30

/** Schema version this build creates and migrates to (PRAGMA user_version). */
#define FM_STORE_SCHEMA_VERSION 3

typedef struct fm_store fm_store_t;

/** A named daemon counter; the stored value is replaced (not added) by each commit. */
typedef struct {
    const char *name; /* borrowed */
    uint64_t value;
} fm_store_counter_t;

/** One stored histogram window. */
typedef struct {
    uint64_t start_ms;
    uint64_t end_ms;
    bool closed;
    uint64_t flows; /* uniflow flows of class "all" committed to the window */
} fm_store_window_t;

/** A stored fit result; strings are malloc'd and freed by fm_store_fit_fini(). */
typedef struct {
    int64_t id;
    uint64_t window_start_ms; /* 0 = total */
    char *job;
    uint64_t created_ms;
    char *model_json;
    double loglik;
    unsigned iterations;
    double seconds;
} fm_store_fit_t;

/** Exporter row, keyed by (address, port); later saves replace the counters. */
typedef struct {
    const char *address; /* borrowed */
    uint16_t port;
    uint64_t first_seen_ms;
    uint64_t last_seen_ms;
    uint64_t datagrams;
    uint64_t records;
    uint64_t malformed;
} fm_store_exporter_t;

/**
 * Open (creating if needed) the database at path, set WAL, synchronous=NORMAL and a busy
 * timeout, apply pending migrations and prepare the statements.
 * @param[in]  path  database file.
 * @param[out] out   the store; close with fm_store_close().
 * @param[out] err   message on failure (may be NULL when errlen is 0).
 * @return 0; FM_EINVAL (bad arguments); FM_ESTORE (cannot open, not a flowmix database, schema
 *         newer than this build, corrupt file, migration failed) with a message in err.
 */
int fm_store_open(const char *path, fm_store_t **out, char *err, size_t errlen);

/**
 * Open an existing database read-only (a second connection beside the writer: in WAL mode its
 * reads see the last committed state and never wait for, or block, the writer).  Only the
 * query functions may be used on it.
 * @return as fm_store_open(); FM_ESTORE also when the file or its schema does not exist yet.
 */
int fm_store_open_readonly(const char *path, fm_store_t **out, char *err, size_t errlen);

/** Finalise the statements and close the connection.  NULL is a no-op. */
void fm_store_close(fm_store_t *s);

/**
 * Message of the last failed call on s ("" if none).  Valid until the next call on s.
 */
const char *fm_store_errmsg(const fm_store_t *s);

/**
 * How long a call waits for a lock held by another connection before failing with FM_ESTORE
 * (default 5000 ms).  @return 0 or FM_ESTORE.
 */
int fm_store_set_busy_timeout(fm_store_t *s, int ms);

/** [input.kafka] high-water mark: the highest (seq, part) of a (collector, run)'s delta parts
 *  for one window that the aggregator applied. */
typedef struct {
    char collector[256];
    uint64_t run;
    uint64_t window_start_ms;
    uint64_t seq;
    uint32_t part;
} fm_store_mark_t;

/**
 * Stage high-water marks for the next fm_store_commit, which writes them in its transaction
 * with the bins they account for (a mark only ever moves forward).  marks is borrowed until
 * that commit returns; the commit unstages them whether it succeeds or not.
 */
void fm_store_stage_marks(fm_store_t *s, const fm_store_mark_t *marks, size_t n);

/**
 * All stored high-water marks.
 * @param[out] out  malloc'd array, caller frees; NULL when n is 0.
 * @return 0 or FM_ESTORE.
 */
int fm_store_load_marks(fm_store_t *s, fm_store_mark_t **out, size_t *n);

/**
 * Add histogram deltas to the stored bins and replace the counters, all in one transaction:
 * either everything is written or nothing.  On failure the database is unchanged, so the
 * caller keeps (or merges back) the same deltas and retries later.
 * @param[in] total_delta  added to the running total; may be NULL.
 * @param[in] win_start_ms, win_end_ms  the window [start, end) win_delta belongs to; the window
 *            row is created if new (its end is updated if it changed).  Ignored when win_delta
 *            is NULL.
 * @param[in] win_delta    added to that window; may be NULL.
 * @param[in] counters     ncounters rows to store (names borrowed); may be NULL if 0.
 * @param[out] err         sqlite3_errmsg text on failure.
 * @return 0; FM_EINVAL (bad arguments, or the deltas' bin_exp differs from the one stored);
 *         FM_ENOMEM; FM_ESTORE (SQLITE_FULL, READONLY, BUSY, CORRUPT, ...) with err set.
 */
int fm_store_commit(fm_store_t *s, const fm_histset_t *total_delta, uint64_t win_start_ms,
                    uint64_t win_end_ms, const fm_histset_t *win_delta,
                    const fm_store_counter_t *counters, size_t ncounters, char *err,
                    size_t errlen);

/**
 * hist_bins rows that commits on this connection wrote (inserted or updated) since it was
 * opened, rolled-back ones included: a commit writes one row per changed bin of each delta,
 * never the unchanged bins of a window or the total (issue 20 item 8).
 */
uint64_t fm_store_bin_rows(const fm_store_t *s);

/**
 * Mark the window starting at start_ms closed (creating its row if it has no bins yet).
 * @return 0 or FM_ESTORE (message via fm_store_errmsg()).
 */
int fm_store_close_window(fm_store_t *s, uint64_t start_ms, uint64_t end_ms);

/**
 * Add the stored running total into `into` (normally a fresh set with the configured bin_exp).
 * @return 0 (also when nothing is stored); FM_EINVAL if the stored bin_exp differs from
 *         into's; FM_ESTORE.  Details via fm_store_errmsg().
 */
int fm_store_load_total(fm_store_t *s, fm_histset_t *into);

/**
 * Add the stored bins of the window starting at start_ms into `into`.
 * @return 0 (also when the window is not stored); FM_EINVAL; FM_ESTORE.
 */
int fm_store_load_window(fm_store_t *s, uint64_t start_ms, fm_histset_t *into);

/**
 * All stored windows, oldest first.
 * @param[out] out  malloc'd array, caller frees; NULL when n is 0.
 * @return 0, FM_ENOMEM or FM_ESTORE.
 */
int fm_store_list_windows(fm_store_t *s, fm_store_window_t **out, size_t *n);

/**
 * Stored bins of one histogram, sorted by lo.
 * @param[in]  window  -1 for the running total, otherwise a window start in ms.
 * @param[out] bins    malloc'd array, caller frees; NULL when n is 0.
 * @return 0; FM_EINVAL; FM_ENOENT (no window starts at `window`); FM_ENOMEM; FM_ESTORE.
 */
int fm_store_hist_bins(fm_store_t *s, int64_t window, fm_class_t cls, fm_dir_t dir,
                       fm_metric_t metric, fm_hist_bin_t **bins, size_t *n);

/**
 * Record a fit result.
 * @param[in] window_start_ms  0 for a fit on the total, otherwise a stored window's start.
 * @param[in] job, model_json  copied.
 * @return 0; FM_EINVAL; FM_ENOENT (window not stored); FM_ESTORE.
 */
int fm_store_save_fit(fm_store_t *s, uint64_t window_start_ms, const char *job,
                      uint64_t created_ms, const char *model_json, double loglik,
                      unsigned iterations, double seconds);

/**
 * The most recent fit of a job (highest created_ms, then newest row).
 * @param[out] out  filled on success; release with fm_store_fit_fini().
 * @return 0; FM_ENOENT (no fit of that job); FM_EINVAL; FM_ENOMEM; FM_ESTORE.
 */
int fm_store_latest_fit(fm_store_t *s, const char *job, fm_store_fit_t *out);

/** Free the strings of a fit filled by fm_store_latest_fit() and zero it.  NULL is a no-op. */
void fm_store_fit_fini(fm_store_fit_t *f);

/**
 * Read back a stored counter.
 * @return 0; FM_ENOENT (never stored); FM_EINVAL; FM_ESTORE.
 */
int fm_store_counter_get(fm_store_t *s, const char *name, uint64_t *value);

/** Insert or update one exporter row.  @return 0, FM_EINVAL or FM_ESTORE. */
int fm_store_save_exporter(fm_store_t *s, const fm_store_exporter_t *e);

/**
 * Retention: in one transaction delete the windows that ended at or before older_than_ms
 * (closed, or left open by a crash), with their bins and fits, and the fits on the total
 * created before older_than_ms except the latest of each job.
 * @return number of rows removed (windows + bins + fits), or FM_ESTORE.
 */
int fm_store_prune(fm_store_t *s, uint64_t older_than_ms);

/**
 * Record a snapshot written into dir as its newest (the next creation sequence; a name recorded
 * before moves up), and forget the records of dir beyond its newest keep (the export job
 * removed those snapshots).  One transaction.
 * @return 0, FM_EINVAL (NULL, keep 0) or FM_ESTORE.
 */
int fm_store_record_export(fm_store_t *s, const char *dir, const char *name,
                           uint64_t created_ms, uint64_t keep);
/**
 * The snapshot names recorded for dir, oldest first.
 * @param[out] out  malloc'd array of malloc'd names (fm_store_names_free), NULL when none.
 * @return 0, FM_EINVAL or FM_ESTORE (e.g. a database older than schema 3, read-only).
 */
int fm_store_export_order(fm_store_t *s, const char *dir, char ***out, size_t *n);
/** Free what fm_store_export_order() returned.  NULL does nothing. */
void fm_store_names_free(char **names, size_t n);

/** PRAGMA wal_checkpoint(PASSIVE).  @return 0 or FM_ESTORE. */
int fm_store_checkpoint(fm_store_t *s);

/**
 * PRAGMA integrity_check.
 * @param[out] err  the first problem reported, or the SQLite error.
 * @return 0 when the result is "ok", FM_ESTORE otherwise.
 */
int fm_store_integrity_check(fm_store_t *s, char *err, size_t errlen);
