/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SQLite store: connection set-up, schema migrations, prepared statements and the writes and
 * reads other modules use (see store.h for the schema and the contract).  Histogram deltas are
 * added to the stored bins with an UPSERT inside one BEGIN IMMEDIATE transaction, so a failed
 * commit leaves the file as it was and the caller can retry with the same delta.  This module
 * never logs; it keeps the last error text for the caller, who knows the context.
 */
#include "config.h"

#include "store.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_rows.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/time.h"

#define BUSY_TIMEOUT_MS 5000
#define APPLICATION_ID 0x464d4958 /* "FMIX": tells a flowmix database from any other */

/* Saturating a + b for two non-negative SQLite integers: plain '+' would turn into a REAL. */
#define SAT_ADD(col) \
    col " = CASE WHEN " col " > 9223372036854775807 - excluded." col \
    " THEN 9223372036854775807 ELSE " col " + excluded." col " END"

/*
 * Migrations: migrations[i] takes the schema from version i to i + 1.  Each is a NULL-terminated
 * list of statements run in one transaction together with the user_version bump.  Never edit a
 * released step; append a new version instead.
 */
static const char *const migration_1[] = {
    "PRAGMA application_id = 1179470168", /* APPLICATION_ID */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE windows (id INTEGER PRIMARY KEY, start_ms INTEGER NOT NULL UNIQUE,"
    " end_ms INTEGER NOT NULL, closed INTEGER NOT NULL DEFAULT 0,"
    " flows INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE hist_bins (window_id INTEGER NOT NULL, class INTEGER NOT NULL,"
    " direction INTEGER NOT NULL, metric INTEGER NOT NULL, bin_lo INTEGER NOT NULL,"
    " bin_hi INTEGER NOT NULL, flows INTEGER NOT NULL, packets INTEGER NOT NULL,"
    " octets INTEGER NOT NULL,"
    " PRIMARY KEY (window_id, class, direction, metric, bin_lo)) WITHOUT ROWID",
    "CREATE TABLE fits (id INTEGER PRIMARY KEY, window_id INTEGER NOT NULL, job TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, model TEXT NOT NULL, loglik REAL, iterations INTEGER,"
    " seconds REAL)",
    "CREATE INDEX fits_job ON fits (job, created_ms)",
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL)",
    "CREATE TABLE exporters (id INTEGER PRIMARY KEY, address TEXT NOT NULL,"
    " port INTEGER NOT NULL, first_seen_ms INTEGER, last_seen_ms INTEGER,"
    " datagrams INTEGER NOT NULL DEFAULT 0, records INTEGER NOT NULL DEFAULT 0,"
    " malformed INTEGER NOT NULL DEFAULT 0, UNIQUE (address, port))",
    /* For people querying with sqlite3(1): the same bins with the names flowmixctl uses. */
    "CREATE VIEW hist_bins_named AS SELECT"
    " CASE WHEN b.window_id = 0 THEN 'total' ELSE w.start_ms END AS window,"
    " CASE b.class WHEN 0 THEN 'all' WHEN 1 THEN 'tcp' WHEN 2 THEN 'udp' WHEN 3 THEN 'other' END"
    " AS class,"
    " CASE b.direction WHEN 0 THEN 'uniflow' WHEN 1 THEN 'biflow' END AS direction,"
    " CASE b.metric WHEN 0 THEN 'length' WHEN 1 THEN 'size' WHEN 2 THEN 'duration' END"
    " AS metric, b.bin_lo, b.bin_hi, b.flows, b.packets, b.octets"
    " FROM hist_bins b LEFT JOIN windows w ON w.id = b.window_id",
    NULL,
};

/* 2: [input.kafka] exactly once (issue 21): per (collector, run, window) the highest
 * (seq, part) of the delta parts applied, written in the transaction of the bins they added. */
static const char *const migration_2[] = {
    "CREATE TABLE kafka_marks (collector TEXT NOT NULL, run INTEGER NOT NULL,"
    " window_start_ms INTEGER NOT NULL, seq INTEGER NOT NULL, part INTEGER NOT NULL,"
    " PRIMARY KEY (collector, run, window_start_ms)) WITHOUT ROWID",
    NULL,
};

/* 3: export snapshots in creation order (issue 20 item 11): seq only grows (AUTOINCREMENT
 * never reuses one), so pruning by it does not depend on the clock that named the snapshots. */
static const char *const migration_3[] = {
    "CREATE TABLE exports (seq INTEGER PRIMARY KEY AUTOINCREMENT, dir TEXT NOT NULL,"
    " name TEXT NOT NULL, created_ms INTEGER NOT NULL, UNIQUE (dir, name))",
    NULL,
};

static const char *const *const migrations[] = {migration_1, migration_2, migration_3};
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_BIN_UPSERT,
    ST_WIN_UPSERT,
    ST_WIN_CLOSE,
    ST_WIN_ID,
    ST_WIN_LIST,
    ST_LOAD_BINS,
    ST_HIST_BINS,
    ST_COUNTER_SET,
    ST_COUNTER_GET,
    ST_META_GET,
    ST_META_SET,
    ST_FIT_INSERT,
    ST_FIT_LATEST,
    ST_EXPORTER_UPSERT,
    ST_PRUNE_BINS,
    ST_PRUNE_WIN_FITS,
    ST_PRUNE_WINDOWS,
    ST_PRUNE_FITS,
    ST_CHECKPOINT,
    ST_INTEGRITY,
    ST_MARK_UPSERT,
    ST_MARK_LIST,
    ST_COUNT
};

static const char *const sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    /* One statement per histogram: its bins come from fm_bins (store_rows.h), in key order.
     * "WHERE true" tells SQLite's parser that ON CONFLICT belongs to the INSERT. */
    [ST_BIN_UPSERT] =
        "INSERT INTO hist_bins (window_id, class, direction, metric, bin_lo, bin_hi, flows,"
        " packets, octets) SELECT ?1, ?2, ?3, ?4, lo, hi, flows, packets, octets"
        " FROM fm_bins(?5) WHERE true"
        " ON CONFLICT DO UPDATE SET bin_hi = excluded.bin_hi, " SAT_ADD("flows") ", "
        SAT_ADD("packets") ", " SAT_ADD("octets"),
    [ST_WIN_UPSERT] = "INSERT INTO windows (start_ms, end_ms, flows) VALUES (?1, ?2, ?3)"
                      " ON CONFLICT (start_ms) DO UPDATE SET end_ms = excluded.end_ms, "
                      SAT_ADD("flows") " RETURNING id",
    [ST_WIN_CLOSE] = "INSERT INTO windows (start_ms, end_ms, closed) VALUES (?1, ?2, 1)"
                     " ON CONFLICT (start_ms) DO UPDATE SET closed = 1, end_ms = excluded.end_ms",
    [ST_WIN_ID] = "SELECT id FROM windows WHERE start_ms = ?1",
    [ST_WIN_LIST] = "SELECT start_ms, end_ms, closed, flows FROM windows ORDER BY start_ms",
    [ST_LOAD_BINS] = "SELECT class, direction, metric, bin_lo, bin_hi, flows, packets, octets"
                     " FROM hist_bins WHERE window_id = ?1",
    [ST_HIST_BINS] = "SELECT bin_lo, bin_hi, flows, packets, octets FROM hist_bins"
                     " WHERE window_id = ?1 AND class = ?2 AND direction = ?3 AND metric = ?4",
    [ST_COUNTER_SET] = "INSERT INTO counters (name, value, updated_ms) VALUES (?1, ?2, ?3)"
                       " ON CONFLICT (name) DO UPDATE SET value = excluded.value,"
                       " updated_ms = excluded.updated_ms",
    [ST_COUNTER_GET] = "SELECT value FROM counters WHERE name = ?1",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_FIT_INSERT] = "INSERT INTO fits (window_id, job, created_ms, model, loglik, iterations,"
                      " seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_FIT_LATEST] = "SELECT f.id, coalesce(w.start_ms, 0), f.job, f.created_ms, f.model,"
                      " f.loglik, f.iterations, f.seconds FROM fits f"
                      " LEFT JOIN windows w ON w.id = f.window_id WHERE f.job = ?1"
                      " ORDER BY f.created_ms DESC, f.id DESC LIMIT 1",
    [ST_EXPORTER_UPSERT] =
        "INSERT INTO exporters (address, port, first_seen_ms, last_seen_ms, datagrams, records,"
        " malformed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (address, port) DO UPDATE"
        " SET first_seen_ms = min(first_seen_ms, excluded.first_seen_ms),"
        " last_seen_ms = max(last_seen_ms, excluded.last_seen_ms),"
        " datagrams = excluded.datagrams, records = excluded.records,"
        " malformed = excluded.malformed",
    [ST_PRUNE_BINS] = "DELETE FROM hist_bins WHERE window_id IN"
                      " (SELECT id FROM windows WHERE end_ms <= ?1)",
    [ST_PRUNE_WIN_FITS] = "DELETE FROM fits WHERE window_id IN"
                          " (SELECT id FROM windows WHERE end_ms <= ?1)",
    /* Not only closed ones: a window a crash left open is never written again either. */
    [ST_PRUNE_WINDOWS] = "DELETE FROM windows WHERE end_ms <= ?1",
    /* Fits on the total: keep the latest of each job however old, it is the current model. */
    [ST_PRUNE_FITS] = "DELETE FROM fits AS f WHERE f.window_id = 0 AND f.created_ms < ?1"
                      " AND EXISTS (SELECT 1 FROM fits g WHERE g.window_id = 0 AND g.job = f.job"
                      " AND (g.created_ms > f.created_ms OR"
                      " (g.created_ms = f.created_ms AND g.id > f.id)))",
    [ST_CHECKPOINT] = "PRAGMA wal_checkpoint(PASSIVE)",
    [ST_INTEGRITY] = "PRAGMA integrity_check",
    /* a mark only moves forward: a stale one can never undo a newer */
    [ST_MARK_UPSERT] = "INSERT INTO kafka_marks (collector, run, window_start_ms, seq, part)"
                       " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET seq = excluded.seq,"
                       " part = excluded.part WHERE (excluded.seq, excluded.part) > (seq, part)",
    [ST_MARK_LIST] = "SELECT collector, run, window_start_ms, seq, part FROM kafka_marks",
};

struct fm_store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    int bin_exp; /* bin exponent of the stored bins, -1 before the first commit */
    unsigned commits_since_ckpt;
    uint64_t bin_rows;         /* hist_bins rows written (fm_store_bin_rows) */
    char msg[512];
    const fm_store_mark_t *marks; /* staged for the next fm_store_commit (borrowed) */
    size_t nmarks;
};

/* Unsigned values travel bit for bit through SQLite's signed 64-bit integers. */
static inline sqlite3_int64 u2i(uint64_t v)
{
    return (sqlite3_int64)v;
}

static inline uint64_t i2u(sqlite3_int64 v)
{
    return (uint64_t)v;
}

/* Sums are clamped so the saturating UPSERT arithmetic only ever sees non-negative values. */
static inline sqlite3_int64 sum2i(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)v;
}

static void copy_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) {
        snprintf(err, errlen, "%s", msg);
    }
}

/* Record an SQLite failure as "<what>: <sqlite message>"; returns FM_ESTORE. */
static int db_fail(fm_store_t *s, int rc, const char *what)
{
    const char *m = sqlite3_extended_errcode(s->db) == rc ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    snprintf(s->msg, sizeof(s->msg), "%s: %s", what, m);
    return FM_ESTORE;
}

static int fail(fm_store_t *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(fm_store_t *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
    va_end(ap);
    return code;
}

/* Step a statement that returns no rows (or whose rows are ignored) and reset it. */
static int run(fm_store_t *s, int id, const char *what)
{
    sqlite3_stmt *st = s->st[id];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
        db_fail(s, rc, what);
        sqlite3_reset(st);
        return FM_ESTORE;
    }
    sqlite3_reset(st);
    return 0;
}

static int exec(fm_store_t *s, const char *q, const char *what)
{
    int rc = sqlite3_exec(s->db, q, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_fail(s, rc, what);
}

static int begin(fm_store_t *s)
{
    return run(s, ST_BEGIN, "begin transaction");
}

/* End a transaction: COMMIT if rc is 0, otherwise roll back whatever part was written. */
static int finish(fm_store_t *s, int rc)
{
    if (rc == 0) {
        rc = run(s, ST_COMMIT, "commit");
    }
    if (rc < 0 && !sqlite3_get_autocommit(s->db)) {
        /* SQLite may already have rolled back (SQLITE_FULL does); otherwise do it here. */
        char keep[sizeof(s->msg)];
        memcpy(keep, s->msg, sizeof(keep));
        run(s, ST_ROLLBACK, "rollback");
        memcpy(s->msg, keep, sizeof(keep));
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Opening and migrations */

static int pragma_int(fm_store_t *s, const char *q, sqlite3_int64 *v)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, q, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return db_fail(s, rc, q);
    }
    rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        db_fail(s, rc, q);
        sqlite3_finalize(st);
        return FM_ESTORE;
    }
    sqlite3_finalize(st);
    return 0;
}

static int set_wal(fm_store_t *s)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return db_fail(s, rc, "journal_mode");
    }
    /* Switching a new file to WAL needs an exclusive lock.  When another process is opening
     * the same new file, SQLite may answer SQLITE_BUSY at once instead of calling the busy
     * handler (it avoids a lock-upgrade deadlock), so wait here as the busy timeout would. */
    for (int waited = 0; (rc = sqlite3_step(st)) != SQLITE_ROW && (rc & 0xff) == SQLITE_BUSY &&
                         waited < BUSY_TIMEOUT_MS;
         waited += 10) {
        sqlite3_reset(st);
        sqlite3_sleep(10);
    }
    if (rc != SQLITE_ROW) {
        db_fail(s, rc, "setting journal_mode=WAL");
        sqlite3_finalize(st);
        return FM_ESTORE;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    /* An in-memory database (tests) reports "memory"; anything else means WAL is unavailable. */
    if (!mode || (strcmp(mode, "wal") && strcmp(mode, "memory"))) {
        fail(s, FM_ESTORE, "cannot switch to WAL mode (journal_mode is %s)",
             mode ? mode : "unknown");
        sqlite3_finalize(st);
        return FM_ESTORE;
    }
    sqlite3_finalize(st);
    return 0;
}

/* Refuse files that belong to something else rather than adding tables to them. */
static int check_identity(fm_store_t *s, sqlite3_int64 version)
{
    sqlite3_int64 appid, objects;
    int rc;
    if ((rc = pragma_int(s, "PRAGMA application_id", &appid)) < 0) {
        return rc;
    }
    if ((rc = pragma_int(s, "SELECT count(*) FROM sqlite_schema", &objects)) < 0) {
        return rc;
    }
    if ((appid != 0 && appid != APPLICATION_ID) || (appid == 0 && objects > 0)) {
        return fail(s, FM_ESTORE, "not a flowmix database (application_id %" PRId64
                    ", %" PRId64 " schema objects)", (int64_t)appid, (int64_t)objects);
    }
    if (version > (sqlite3_int64)NMIGRATIONS) {
        return fail(s, FM_ESTORE, "database schema version %" PRId64 " is newer than this "
                    "flowmix supports (%d)", (int64_t)version, FM_STORE_SCHEMA_VERSION);
    }
    return 0;
}

/*
 * Apply the next pending migration, if any, in its own transaction.  The version is read after
 * BEGIN IMMEDIATE holds the write lock, so two processes opening a new file at once do not both
 * run the same migration.
 */
static int migrate_once(fm_store_t *s, bool *done)
{
    sqlite3_int64 version;
    char what[64], bump[64];
    int rc = exec(s, "BEGIN IMMEDIATE", "migration begin");

    if (rc < 0) {
        return rc;
    }
    if ((rc = pragma_int(s, "PRAGMA user_version", &version)) == 0 &&
        (rc = check_identity(s, version)) == 0) {
        *done = version >= (sqlite3_int64)NMIGRATIONS;
        if (!*done) {
            snprintf(what, sizeof(what), "migration to schema version %d", (int)version + 1);
            for (const char *const *step = migrations[version]; *step && rc == 0; step++) {
                rc = exec(s, *step, what);
            }
            snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", (int)version + 1);
            if (rc == 0) {
                rc = exec(s, bump, what);
            }
        }
    }
    if (rc == 0) {
        rc = exec(s, "COMMIT", "migration commit");
    }
    if (rc < 0 && !sqlite3_get_autocommit(s->db)) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

static int migrate(fm_store_t *s)
{
    bool done = false;
    int rc = 0;
    while (rc == 0 && !done) {
        rc = migrate_once(s, &done);
    }
    return rc;
}

static int prepare_all(fm_store_t *s)
{
    for (int i = 0; i < ST_COUNT; i++) {
        int rc = sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                                    NULL);
        if (rc != SQLITE_OK) {
            char what[80];
            snprintf(what, sizeof(what), "preparing statement %d", i);
            return db_fail(s, rc, what);
        }
    }
    return 0;
}

static int load_bin_exp(fm_store_t *s)
{
    sqlite3_stmt *st = s->st[ST_META_GET];
    int rc;
    s->bin_exp = -1;
    sqlite3_bind_text(st, 1, "bin_exp", -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s->bin_exp = sqlite3_column_int(st, 0);
    } else if (rc != SQLITE_DONE) {
        db_fail(s, rc, "reading meta");
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : FM_ESTORE;
}

static int configure(fm_store_t *s, bool readonly)
{
    int rc;
    sqlite3_extended_result_codes(s->db, 1);
    if ((rc = fm_store_rows_register(s->db)) != SQLITE_OK) {
        return db_fail(s, rc, "registering fm_bins");
    }
    if (sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS) != SQLITE_OK) {
        return db_fail(s, sqlite3_errcode(s->db), "busy_timeout");
    }
    if (readonly) {
        /* The writer made the schema and WAL mode, which the file keeps. */
        return (rc = prepare_all(s)) < 0 ? rc : load_bin_exp(s);
    }
    if ((rc = set_wal(s)) < 0 ||
        (rc = exec(s, "PRAGMA synchronous = NORMAL", "synchronous=NORMAL")) < 0 ||
        (rc = exec(s, "PRAGMA journal_size_limit = 4194304", "journal_size_limit")) < 0 ||
        (rc = exec(s, "PRAGMA wal_autocheckpoint = 64", "wal_autocheckpoint")) < 0 ||
        (rc = migrate(s)) < 0 || (rc = prepare_all(s)) < 0 || (rc = load_bin_exp(s)) < 0) {
        return rc;
    }
    return 0;
}

static int open_store(const char *path, bool readonly, fm_store_t **out, char *err,
                      size_t errlen)
{
    if (!path || !out) {
        copy_err(err, errlen, "invalid arguments");
        return FM_EINVAL;
    }
    *out = NULL;
    fm_store_t *s = fm_xcalloc(1, sizeof(*s));
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        if (s->db) {
            db_fail(s, rc, path);
        } else {
            snprintf(s->msg, sizeof(s->msg), "%s: %s", path, sqlite3_errstr(rc));
        }
        rc = FM_ESTORE;
    } else if ((rc = configure(s, readonly)) < 0) {
        char m[sizeof(s->msg)];
        snprintf(m, sizeof(m), "%s", s->msg);
        snprintf(s->msg, sizeof(s->msg), "%s: %.400s", path, m);
    }
    if (rc < 0) {
        copy_err(err, errlen, s->msg);
        fm_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int fm_store_open(const char *path, fm_store_t **out, char *err, size_t errlen)
{
    return open_store(path, false, out, err, errlen);
}

int fm_store_open_readonly(const char *path, fm_store_t **out, char *err, size_t errlen)
{
    return open_store(path, true, out, err, errlen);
}

void fm_store_close(fm_store_t *s)
{
    if (!s) {
        return;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(s->st[i]);
    }
    sqlite3_close(s->db);
    free(s);
}

const char *fm_store_errmsg(const fm_store_t *s)
{
    return s ? s->msg : "";
}

int fm_store_set_busy_timeout(fm_store_t *s, int ms)
{
    if (!s) {
        return FM_EINVAL;
    }
    int rc = sqlite3_busy_timeout(s->db, ms);
    return rc == SQLITE_OK ? 0 : db_fail(s, rc, "busy_timeout");
}

/* ------------------------------------------------------------------------------------------ */
/* Commit */

static int set_bin_exp(const fm_histset_t *h, int *bin_exp)
{
    if (!h) {
        return 0;
    }
    int b = (int)fm_hist_bin_exp(fm_histset_cget(h, FM_CLASS_ALL, FM_DIR_UNIFLOW,
                                                 FM_METRIC_LENGTH));
    if (*bin_exp >= 0 && *bin_exp != b) {
        return FM_EINVAL;
    }
    *bin_exp = b;
    return 0;
}

/* Add one histogram's bins to window_id; the key columns stay bound across rows. */
static int write_hist(fm_store_t *s, int64_t window_id, int c, int d, int m, const fm_hist_t *h)
{
    sqlite3_stmt *st = s->st[ST_BIN_UPSERT];
    fm_hist_bin_t *bins = NULL;
    long n = fm_hist_bins(h, &bins);
    int rc = 0;

    if (n < 0) {
        return fail(s, (int)n, "listing histogram bins: %s", fm_strerror((int)n));
    }
    if (n > 0) {
        fm_store_rows_t rows = {bins, (size_t)n};
        sqlite3_bind_int64(st, 1, window_id);
        sqlite3_bind_int(st, 2, c);
        sqlite3_bind_int(st, 3, d);
        sqlite3_bind_int(st, 4, m);
        fm_store_rows_bind(st, 5, &rows);
        rc = run(s, ST_BIN_UPSERT, "writing histogram bins");
        s->bin_rows += rc == 0 ? (uint64_t)sqlite3_changes(s->db) : 0;
        sqlite3_bind_null(st, 5); /* the rows are about to be freed */
    }
    free(bins);
    return rc;
}

static int write_set(fm_store_t *s, int64_t window_id, const fm_histset_t *set)
{
    int rc = 0;
    for (int c = 0; c < FM_CLASS_COUNT && rc == 0; c++) {
        for (int d = 0; d < FM_DIR_COUNT && rc == 0; d++) {
            for (int m = 0; m < FM_METRIC_COUNT && rc == 0; m++) {
                rc = write_hist(s, window_id, c, d, m, fm_histset_cget(set, c, d, m));
            }
        }
    }
    return rc;
}

/* Create or extend the window row and return its id. */
static int upsert_window(fm_store_t *s, uint64_t start, uint64_t end, const fm_histset_t *delta,
                         int64_t *id)
{
    sqlite3_stmt *st = s->st[ST_WIN_UPSERT];
    uint64_t flows = 0;
    int rc;

    fm_hist_totals(fm_histset_cget(delta, FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_LENGTH), &flows,
                   NULL, NULL);
    sqlite3_bind_int64(st, 1, u2i(start));
    sqlite3_bind_int64(st, 2, u2i(end));
    sqlite3_bind_int64(st, 3, sum2i(flows));
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
    }
    if (rc != SQLITE_DONE) {
        db_fail(s, rc, "writing window");
        sqlite3_reset(st);
        return FM_ESTORE;
    }
    sqlite3_reset(st);
    return 0;
}

static int write_counters(fm_store_t *s, const fm_store_counter_t *c, size_t n)
{
    sqlite3_stmt *st = s->st[ST_COUNTER_SET];
    sqlite3_int64 now = u2i(fm_time_wall_ms());
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_bind_text(st, 1, c[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, u2i(c[i].value));
        sqlite3_bind_int64(st, 3, now);
        rc = run(s, ST_COUNTER_SET, "writing counters");
    }
    sqlite3_clear_bindings(st); /* the names are borrowed: do not keep pointers to them */
    return rc;
}

static int write_bin_exp(fm_store_t *s, int bin_exp)
{
    char v[16];
    snprintf(v, sizeof(v), "%d", bin_exp);
    sqlite3_bind_text(s->st[ST_META_SET], 1, "bin_exp", -1, SQLITE_STATIC);
    sqlite3_bind_text(s->st[ST_META_SET], 2, v, -1, SQLITE_TRANSIENT);
    return run(s, ST_META_SET, "writing meta");
}

static int check_commit_args(fm_store_t *s, const fm_histset_t *total, const fm_histset_t *win,
                             const fm_store_counter_t *counters, size_t ncounters, int *bin_exp)
{
    if (ncounters && !counters) {
        return fail(s, FM_EINVAL, "counters missing");
    }
    for (size_t i = 0; i < ncounters; i++) {
        if (!counters[i].name) {
            return fail(s, FM_EINVAL, "counter %zu has no name", i);
        }
    }
    *bin_exp = s->bin_exp;
    if (set_bin_exp(total, bin_exp) < 0 || set_bin_exp(win, bin_exp) < 0) {
        return fail(s, FM_EINVAL, "histogram bin_exp differs from the stored one (%d)",
                    s->bin_exp);
    }
    return 0;
}

/* The staged marks, inside the commit's transaction; unstaged either way. */
static int write_marks(fm_store_t *s)
{
    sqlite3_stmt *st = s->st[ST_MARK_UPSERT];
    int rc = 0;
    for (size_t i = 0; i < s->nmarks && rc == 0; i++) {
        const fm_store_mark_t *m = &s->marks[i];
        sqlite3_bind_text(st, 1, m->collector, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, u2i(m->run));
        sqlite3_bind_int64(st, 3, u2i(m->window_start_ms));
        sqlite3_bind_int64(st, 4, u2i(m->seq));
        sqlite3_bind_int64(st, 5, (sqlite3_int64)m->part);
        rc = run(s, ST_MARK_UPSERT, "writing kafka marks");
    }
    return rc;
}

void fm_store_stage_marks(fm_store_t *s, const fm_store_mark_t *marks, size_t n)
{
    s->marks = marks;
    s->nmarks = n;
}

int fm_store_load_marks(fm_store_t *s, fm_store_mark_t **out, size_t *n)
{
    sqlite3_stmt *st = s->st[ST_MARK_LIST];
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *c = sqlite3_column_text(st, 0);
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *out = fm_xreallocarray(*out, cap, sizeof(**out));
        }
        fm_store_mark_t *m = &(*out)[(*n)++];
        snprintf(m->collector, sizeof(m->collector), "%s", c ? (const char *)c : "");
        m->run = i2u(sqlite3_column_int64(st, 1));
        m->window_start_ms = i2u(sqlite3_column_int64(st, 2));
        m->seq = i2u(sqlite3_column_int64(st, 3));
        m->part = (uint32_t)sqlite3_column_int64(st, 4);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return db_fail(s, rc, "reading kafka marks");
    }
    return 0;
}

/* Export records: rare (one per snapshot), so prepared when used; a read-only connection to a
 * database older than schema 3 can still open (it just has no export order to read). */
static int step_once(fm_store_t *s, const char *q, const char *dir, const char *name,
                     int64_t num, const char *what)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, q, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return db_fail(s, rc, what);
    }
    sqlite3_bind_text(st, 1, dir, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, num);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(s, rc, what);
}

int fm_store_record_export(fm_store_t *s, const char *dir, const char *name,
                           uint64_t created_ms, uint64_t keep)
{
    int rc;
    if (!s || !dir || !name || keep == 0) {
        return FM_EINVAL;
    }
    if ((rc = begin(s)) < 0) {
        return rc;
    }
    /* A name written again (two exports in one second: the newer replaced the older) becomes
     * the newest; records beyond the newest keep are of snapshots the export job removed. */
    if ((rc = step_once(s, "DELETE FROM exports WHERE dir = ?1 AND name = ?2", dir,
                        name, 0, "recording an export")) == 0 &&
        (rc = step_once(s, "INSERT INTO exports (dir, name, created_ms) VALUES (?1, ?2, ?3)",
                        dir, name, u2i(created_ms), "recording an export")) == 0) {
        rc = step_once(s, "DELETE FROM exports WHERE dir = ?1 AND seq NOT IN"
                       " (SELECT seq FROM exports WHERE dir = ?1 ORDER BY seq DESC LIMIT ?3)",
                       dir, "", u2i(keep), "forgetting pruned exports");
    }
    return finish(s, rc);
}

int fm_store_export_order(fm_store_t *s, const char *dir, char ***out, size_t *n)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc;

    if (!s || !dir || !out || !n) {
        return FM_EINVAL;
    }
    *out = NULL;
    *n = 0;
    rc = sqlite3_prepare_v2(s->db, "SELECT name FROM exports WHERE dir = ?1 ORDER BY seq", -1,
                            &st, NULL);
    if (rc != SQLITE_OK) {
        return db_fail(s, rc, "reading the export order");
    }
    sqlite3_bind_text(st, 1, dir, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = fm_xreallocarray(*out, cap, sizeof(char *));
        }
        const unsigned char *t = sqlite3_column_text(st, 0);
        (*out)[(*n)++] = fm_xstrdup(t ? (const char *)t : "");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        fm_store_names_free(*out, *n);
        *out = NULL;
        *n = 0;
        return db_fail(s, rc, "reading the export order");
    }
    return 0;
}

void fm_store_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

/* The WAL stays bounded (issue 20 items 8, 9): SQLite checkpoints it every 64 pages (256 KiB,
 * wal_autocheckpoint, set at open), journal_size_limit truncates it to FM_STORE_WAL_LIMIT
 * whenever it restarts, and every FM_STORE_CKPT_COMMITS commits - and after a commit that failed
 * for want of disk space - a TRUNCATE checkpoint empties it.  With SQLite's default (1000
 * pages) a small filesystem filled up with WAL frames of committed transactions that could then
 * never be checkpointed, the database having no room left to grow: commits failed for good
 * (tests/integration/059-store-full.sh).  A failed checkpoint is harmless: the next one tries
 * again. */
_Static_assert(FM_STORE_WAL_LIMIT == 4194304, "the journal_size_limit pragma says 4194304");
static void wal_truncate(fm_store_t *s)
{
    s->commits_since_ckpt = 0;
    (void)sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

int fm_store_commit(fm_store_t *s, const fm_histset_t *total_delta, uint64_t win_start_ms,
                    uint64_t win_end_ms, const fm_histset_t *win_delta,
                    const fm_store_counter_t *counters, size_t ncounters, char *err,
                    size_t errlen)
{
    int bin_exp = -1, rc;
    int64_t win_id = 0;

    if (!s) {
        copy_err(err, errlen, "invalid arguments");
        return FM_EINVAL;
    }
    s->msg[0] = '\0';
    rc = check_commit_args(s, total_delta, win_delta, counters, ncounters, &bin_exp);
    if (rc == 0 && (rc = begin(s)) == 0) {
        if (total_delta) {
            rc = write_set(s, 0, total_delta);
        }
        if (rc == 0 && win_delta) {
            rc = upsert_window(s, win_start_ms, win_end_ms, win_delta, &win_id);
            if (rc == 0) {
                rc = write_set(s, win_id, win_delta);
            }
        }
        if (rc == 0) {
            rc = write_counters(s, counters, ncounters);
        }
        if (rc == 0) {
            rc = write_marks(s);
        }
        if (rc == 0 && bin_exp != s->bin_exp) {
            rc = write_bin_exp(s, bin_exp);
        }
        rc = finish(s, rc);
    }
    s->marks = NULL; /* staged for this commit only */
    s->nmarks = 0;
    if (rc < 0) {
        copy_err(err, errlen, s->msg);
        if ((sqlite3_errcode(s->db) & 0xff) == SQLITE_FULL) {
            wal_truncate(s);
        }
        return rc;
    }
    s->bin_exp = bin_exp; /* only once it is durable in meta */
    if (++s->commits_since_ckpt >= FM_STORE_CKPT_COMMITS) {
        wal_truncate(s);
    }
    return 0;
}

uint64_t fm_store_bin_rows(const fm_store_t *s)
{
    return s->bin_rows;
}

int fm_store_close_window(fm_store_t *s, uint64_t start_ms, uint64_t end_ms)
{
    if (!s) {
        return FM_EINVAL;
    }
    sqlite3_bind_int64(s->st[ST_WIN_CLOSE], 1, u2i(start_ms));
    sqlite3_bind_int64(s->st[ST_WIN_CLOSE], 2, u2i(end_ms));
    return run(s, ST_WIN_CLOSE, "closing window");
}

/* ------------------------------------------------------------------------------------------ */
/* Reads */

/* Window id of a window start: 1 found, 0 not stored, or FM_ESTORE. */
static int window_id(fm_store_t *s, uint64_t start_ms, int64_t *id)
{
    sqlite3_stmt *st = s->st[ST_WIN_ID];
    sqlite3_bind_int64(st, 1, u2i(start_ms));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
    } else if (rc != SQLITE_DONE) {
        db_fail(s, rc, "looking up window");
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : FM_ESTORE;
}

static void row_bin(sqlite3_stmt *st, int col, fm_hist_bin_t *b)
{
    b->lo = i2u(sqlite3_column_int64(st, col));
    b->hi = i2u(sqlite3_column_int64(st, col + 1));
    b->flows = i2u(sqlite3_column_int64(st, col + 2));
    b->packets = i2u(sqlite3_column_int64(st, col + 3));
    b->octets = i2u(sqlite3_column_int64(st, col + 4));
}

/* Add one stored row to its histogram; rows SQLite returns are still file input: check them. */
static int load_row(fm_store_t *s, sqlite3_stmt *st, fm_histset_t *into)
{
    int c = sqlite3_column_int(st, 0), d = sqlite3_column_int(st, 1),
        m = sqlite3_column_int(st, 2);
    fm_hist_bin_t b;

    if (c < 0 || c >= FM_CLASS_COUNT || d < 0 || d >= FM_DIR_COUNT || m < 0 ||
        m >= FM_METRIC_COUNT) {
        return fail(s, FM_ESTORE, "hist_bins row with class %d direction %d metric %d", c, d, m);
    }
    row_bin(st, 3, &b);
    if (fm_hist_add_bin(fm_histset_get(into, c, d, m), &b) < 0) {
        return fail(s, FM_ESTORE, "hist_bins row: %" PRIu64 " is not a bin start under bin_exp %d",
                    b.lo, s->bin_exp);
    }
    return 0;
}

static int load_set(fm_store_t *s, int64_t window_id, fm_histset_t *into)
{
    sqlite3_stmt *st = s->st[ST_LOAD_BINS];
    int rc, res = 0;

    if (s->bin_exp < 0) {
        return 0; /* nothing was ever committed */
    }
    int want = (int)fm_hist_bin_exp(fm_histset_cget(into, 0, 0, 0));
    if (want != s->bin_exp) {
        return fail(s, FM_EINVAL, "stored histograms use bin_exp %d, not %d", s->bin_exp, want);
    }
    sqlite3_bind_int64(st, 1, window_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && res == 0) {
        res = load_row(s, st, into);
    }
    if (res == 0 && rc != SQLITE_DONE) {
        res = db_fail(s, rc, "reading histogram bins");
    }
    sqlite3_reset(st);
    return res;
}

int fm_store_load_total(fm_store_t *s, fm_histset_t *into)
{
    if (!s || !into) {
        return FM_EINVAL;
    }
    return load_set(s, 0, into);
}

int fm_store_load_window(fm_store_t *s, uint64_t start_ms, fm_histset_t *into)
{
    int64_t id;
    if (!s || !into) {
        return FM_EINVAL;
    }
    int rc = window_id(s, start_ms, &id);
    return rc <= 0 ? rc : load_set(s, id, into);
}

int fm_store_list_windows(fm_store_t *s, fm_store_window_t **out, size_t *n)
{
    sqlite3_stmt *st;
    fm_store_window_t *w = NULL;
    size_t len = 0, cap = 0;
    int rc;

    if (!s || !out || !n) {
        return FM_EINVAL;
    }
    st = s->st[ST_WIN_LIST];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            w = fm_xreallocarray(w, cap, sizeof(*w));
        }
        w[len].start_ms = i2u(sqlite3_column_int64(st, 0));
        w[len].end_ms = i2u(sqlite3_column_int64(st, 1));
        w[len].closed = sqlite3_column_int(st, 2) != 0;
        w[len].flows = i2u(sqlite3_column_int64(st, 3));
        len++;
    }
    if (rc != SQLITE_DONE) {
        db_fail(s, rc, "listing windows");
        sqlite3_reset(st);
        free(w);
        return FM_ESTORE;
    }
    sqlite3_reset(st);
    *out = w;
    *n = len;
    return 0;
}

static int bin_cmp(const void *a, const void *b)
{
    uint64_t x = ((const fm_hist_bin_t *)a)->lo, y = ((const fm_hist_bin_t *)b)->lo;
    return (x > y) - (x < y);
}

int fm_store_hist_bins(fm_store_t *s, int64_t window, fm_class_t cls, fm_dir_t dir,
                       fm_metric_t metric, fm_hist_bin_t **bins, size_t *n)
{
    sqlite3_stmt *st;
    fm_hist_bin_t *b = NULL;
    size_t len = 0, cap = 0;
    int64_t id = 0;
    int rc;

    if (!s || !bins || !n || (unsigned)cls >= FM_CLASS_COUNT || (unsigned)dir >= FM_DIR_COUNT ||
        (unsigned)metric >= FM_METRIC_COUNT || window < -1) {
        return FM_EINVAL;
    }
    if (window >= 0 && (rc = window_id(s, (uint64_t)window, &id)) <= 0) {
        return rc < 0 ? rc : fail(s, FM_ENOENT, "no window starts at %" PRId64, window);
    }
    st = s->st[ST_HIST_BINS];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, (int)cls);
    sqlite3_bind_int(st, 3, (int)dir);
    sqlite3_bind_int(st, 4, (int)metric);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 64;
            b = fm_xreallocarray(b, cap, sizeof(*b));
        }
        row_bin(st, 0, &b[len++]);
    }
    if (rc != SQLITE_DONE) {
        db_fail(s, rc, "reading histogram bins");
        sqlite3_reset(st);
        free(b);
        return FM_ESTORE;
    }
    sqlite3_reset(st);
    /* SQLite orders signed values; bins at or above 2^63 would sort first. */
    if (len > 1) {
        qsort(b, len, sizeof(*b), bin_cmp);
    }
    *bins = b;
    *n = len;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Fits, counters, exporters */

int fm_store_save_fit(fm_store_t *s, uint64_t window_start_ms, const char *job,
                      uint64_t created_ms, const char *model_json, double loglik,
                      unsigned iterations, double seconds)
{
    sqlite3_stmt *st;
    int64_t id = 0;
    int rc;

    if (!s || !job || !model_json) {
        return FM_EINVAL;
    }
    if (window_start_ms && (rc = window_id(s, window_start_ms, &id)) <= 0) {
        return rc < 0 ? rc : fail(s, FM_ENOENT, "no window starts at %" PRIu64, window_start_ms);
    }
    st = s->st[ST_FIT_INSERT];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, job, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, u2i(created_ms));
    sqlite3_bind_text(st, 4, model_json, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, loglik);
    sqlite3_bind_int64(st, 6, iterations);
    sqlite3_bind_double(st, 7, seconds);
    rc = run(s, ST_FIT_INSERT, "saving fit");
    sqlite3_clear_bindings(st);
    return rc;
}

static char *col_strdup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? fm_xstrdup((const char *)t) : fm_xstrdup("");
}

int fm_store_latest_fit(fm_store_t *s, const char *job, fm_store_fit_t *out)
{
    sqlite3_stmt *st;
    int rc;

    if (!s || !job || !out) {
        return FM_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    st = s->st[ST_FIT_LATEST];
    sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        out->window_start_ms = i2u(sqlite3_column_int64(st, 1));
        out->job = col_strdup(st, 2);
        out->created_ms = i2u(sqlite3_column_int64(st, 3));
        out->model_json = col_strdup(st, 4);
        out->loglik = sqlite3_column_double(st, 5);
        out->iterations = (unsigned)sqlite3_column_int64(st, 6);
        out->seconds = sqlite3_column_double(st, 7);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = fail(s, FM_ENOENT, "no fit of job %s", job);
    } else {
        rc = db_fail(s, rc, "reading fit");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

void fm_store_fit_fini(fm_store_fit_t *f)
{
    if (f) {
        free(f->job);
        free(f->model_json);
        memset(f, 0, sizeof(*f));
    }
}

int fm_store_counter_get(fm_store_t *s, const char *name, uint64_t *value)
{
    if (!s || !name || !value) {
        return FM_EINVAL;
    }
    sqlite3_stmt *st = s->st[ST_COUNTER_GET];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *value = i2u(sqlite3_column_int64(st, 0));
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = fail(s, FM_ENOENT, "no counter %s", name);
    } else {
        rc = db_fail(s, rc, "reading counter");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int fm_store_save_exporter(fm_store_t *s, const fm_store_exporter_t *e)
{
    if (!s || !e || !e->address) {
        return FM_EINVAL;
    }
    sqlite3_stmt *st = s->st[ST_EXPORTER_UPSERT];
    sqlite3_bind_text(st, 1, e->address, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, e->port);
    sqlite3_bind_int64(st, 3, u2i(e->first_seen_ms));
    sqlite3_bind_int64(st, 4, u2i(e->last_seen_ms));
    sqlite3_bind_int64(st, 5, sum2i(e->datagrams));
    sqlite3_bind_int64(st, 6, sum2i(e->records));
    sqlite3_bind_int64(st, 7, sum2i(e->malformed));
    int rc = run(s, ST_EXPORTER_UPSERT, "saving exporter");
    sqlite3_clear_bindings(st);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Maintenance */

int fm_store_prune(fm_store_t *s, uint64_t older_than_ms)
{
    /* Bins and fits first: they find their windows through the rows deleted last. */
    static const int steps[] = {ST_PRUNE_BINS, ST_PRUNE_WIN_FITS, ST_PRUNE_WINDOWS,
                                ST_PRUNE_FITS};
    int64_t removed = 0;
    int rc;

    if (!s) {
        return FM_EINVAL;
    }
    if ((rc = begin(s)) < 0) {
        return rc;
    }
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && rc == 0; i++) {
        sqlite3_bind_int64(s->st[steps[i]], 1, u2i(older_than_ms));
        rc = run(s, steps[i], "pruning");
        removed += sqlite3_changes64(s->db);
    }
    rc = finish(s, rc);
    if (rc < 0) {
        return rc;
    }
    return removed > INT32_MAX ? INT32_MAX : (int)removed;
}

int fm_store_checkpoint(fm_store_t *s)
{
    if (!s) {
        return FM_EINVAL;
    }
    return run(s, ST_CHECKPOINT, "wal_checkpoint");
}

int fm_store_integrity_check(fm_store_t *s, char *err, size_t errlen)
{
    if (!s) {
        copy_err(err, errlen, "invalid arguments");
        return FM_EINVAL;
    }
    sqlite3_stmt *st = s->st[ST_INTEGRITY];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        rc = r && !strcmp(r, "ok") ? 0 : fail(s, FM_ESTORE, "integrity_check: %s", r ? r : "?");
    } else {
        rc = db_fail(s, rc, "integrity_check");
    }
    sqlite3_reset(st);
    if (rc < 0) {
        copy_err(err, errlen, s->msg);
    }
    return rc;
}
