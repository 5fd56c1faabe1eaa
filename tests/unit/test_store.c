/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the SQLite store: schema and migrations, commits that add, atomicity under
 * injected failures (sqlite3_step wrapped with -Wl,--wrap, a trigger that aborts mid-commit, a
 * lock held by another connection, a corrupt file), resume, windows, fits, prune and integrity.
 * Expected values come from plain arrays kept by the test, not from the histogram module.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "hist.h"
#include "store.h"
#include "util/err.h"

/* ---- failure injection: the Nth sqlite3_step call made by the store returns SQLITE_FULL ---- */

int __real_sqlite3_step(sqlite3_stmt *st);
int __wrap_sqlite3_step(sqlite3_stmt *st);

static int step_count, step_fail_at;

int __wrap_sqlite3_step(sqlite3_stmt *st)
{
    if (step_fail_at && ++step_count == step_fail_at) {
        return SQLITE_FULL;
    }
    return __real_sqlite3_step(st);
}

/* ---- fixtures ---- */

static char dir[64], dbpath[128];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/fm-test-store.XXXXXX");
    if (!mkdtemp(dir)) {
        return -1;
    }
    snprintf(dbpath, sizeof(dbpath), "%s/flowmix.db", dir);
    step_fail_at = 0;
    return 0;
}

static int teardown(void **state)
{
    char p[160];
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s%s", dbpath, sfx[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

static fm_store_t *open_ok(void)
{
    fm_store_t *s = NULL;
    char err[256] = "";
    int rc = fm_store_open(dbpath, &s, err, sizeof(err));
    if (rc != 0) {
        fail_msg("open: %s", err);
    }
    return s;
}

/* A second, independent connection for inspecting and interfering with the file. */
static sqlite3 *raw_open(void)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    return db;
}

static int64_t raw_int(sqlite3 *db, const char *q)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void raw_exec(sqlite3 *db, const char *q)
{
    char *e = NULL;
    if (sqlite3_exec(db, q, NULL, NULL, &e) != SQLITE_OK) {
        fail_msg("%s: %s", q, e);
    }
}

/* ---- expected contents: bin_exp 0, so a value x is its own bin [x, x+1) ---- */

#define NV 12
#define NH (FM_CLASS_COUNT * FM_DIR_COUNT * FM_METRIC_COUNT)

typedef struct {
    uint64_t v[NH][NV][3]; /* flows, packets, octets per bin lo */
} expect_t;

static int hidx(int c, int d, int m)
{
    return (c * FM_DIR_COUNT + d) * FM_METRIC_COUNT + m;
}

/* A delta with a pseudo-random sprinkling of bins; its sums are added to ex as well. */
static fm_histset_t *make_delta(unsigned seed, expect_t *ex, expect_t *ex2)
{
    fm_histset_t *set;
    assert_int_equal(fm_histset_new(0, &set), 0);
    for (int h = 0; h < NH; h++) {
        int c = h / (FM_DIR_COUNT * FM_METRIC_COUNT), d = (h / FM_METRIC_COUNT) % FM_DIR_COUNT,
            m = h % FM_METRIC_COUNT;
        for (uint64_t x = 0; x < NV; x++) {
            seed = seed * 1103515245u + 12345u;
            if ((seed >> 16) % 3 == 0) {
                continue;
            }
            fm_hist_bin_t b = {x, x + 1, 1 + (seed >> 20) % 5, 10 + (seed >> 8) % 100,
                               1000 + (seed >> 4) % 5000};
            assert_int_equal(fm_hist_add_bin(fm_histset_get(set, c, d, m), &b), 0);
            for (expect_t *e = ex; e; e = (e == ex ? ex2 : NULL)) {
                e->v[hidx(c, d, m)][x][0] += b.flows;
                e->v[hidx(c, d, m)][x][1] += b.packets;
                e->v[hidx(c, d, m)][x][2] += b.octets;
            }
        }
    }
    return set;
}

static uint64_t expect_flows(const expect_t *ex)
{
    uint64_t f = 0;
    for (int x = 0; x < NV; x++) {
        f += ex->v[hidx(FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_LENGTH)][x][0];
    }
    return f;
}

/* Compare every stored histogram of one window (-1 = total) with the expectation. */
static void check_stored(fm_store_t *s, int64_t window, const expect_t *ex)
{
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                fm_hist_bin_t *b = NULL;
                size_t n = 0, k = 0;
                assert_int_equal(fm_store_hist_bins(s, window, c, d, m, &b, &n), 0);
                const uint64_t(*e)[3] = ex->v[hidx(c, d, m)];
                for (uint64_t x = 0; x < NV; x++) {
                    if (!e[x][0]) {
                        continue;
                    }
                    assert_true(k < n);
                    assert_int_equal(b[k].lo, x);
                    assert_int_equal(b[k].hi, x + 1);
                    assert_int_equal(b[k].flows, e[x][0]);
                    assert_int_equal(b[k].packets, e[x][1]);
                    assert_int_equal(b[k].octets, e[x][2]);
                    k++;
                }
                assert_int_equal(k, n);
                free(b);
            }
        }
    }
}

/* ---- tests ---- */

static void test_schema(void **state)
{
    fm_store_t *s = open_ok();
    sqlite3 *db = raw_open();
    assert_int_equal(raw_int(db, "PRAGMA user_version"), FM_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(db, "PRAGMA application_id"), 0x464d4958);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                 "name IN ('meta', 'windows', 'hist_bins', 'fits', 'counters', "
                                 "'exporters')"), 6);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_journal_mode WHERE "
                                 "journal_mode = 'wal'"), 1);
    char err[256];
    assert_int_equal(fm_store_integrity_check(s, err, sizeof(err)), 0);
    assert_int_equal(fm_store_checkpoint(s), 0);
    sqlite3_close(db);
    fm_store_close(s);
}

static void test_reopen_idempotent(void **state)
{
    expect_t ex = {0};
    fm_store_t *s = open_ok();
    fm_histset_t *d = make_delta(1, &ex, NULL);
    assert_int_equal(fm_store_commit(s, d, 0, 0, NULL, NULL, 0, NULL, 0), 0);
    fm_store_t *s2 = open_ok(); /* a second open of a current schema migrates nothing */
    check_stored(s2, -1, &ex);
    fm_store_close(s2);
    fm_store_close(s);
    s = open_ok();
    check_stored(s, -1, &ex);
    fm_store_close(s);
    sqlite3 *db = raw_open();
    assert_int_equal(raw_int(db, "PRAGMA user_version"), FM_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'hist_bins'"),
                     1);
    sqlite3_close(db);
    fm_histset_free(d);
}

/* Processes opening a new file at the same moment: one migrates, the others find it done.
 * (Several rounds: switching to WAL could fail with "database is locked" in about one run of
 * four, as SQLite answers that lock upgrade with SQLITE_BUSY without calling the handler.) */
static void concurrent_open_round(void);
static void test_concurrent_open(void **state)
{
    (void)state;
    for (int round = 0; round < 8; round++) {
        char side[160];
        unlink(dbpath);
        snprintf(side, sizeof(side), "%s-wal", dbpath);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", dbpath);
        unlink(side);
        concurrent_open_round();
    }
}

static void concurrent_open_round(void)
{
    enum { NPROC = 4 };
    int gate[2];
    pid_t pid[NPROC];
    assert_int_equal(pipe(gate), 0);
    for (int i = 0; i < NPROC; i++) {
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0) {
            char c, err[256];
            fm_store_t *s;
            close(gate[1]);
            (void)!read(gate[0], &c, 1); /* returns at EOF, when the parent opens the gate */
            int rc = fm_store_open(dbpath, &s, err, sizeof(err));
            if (rc < 0) {
                fprintf(stderr, "child %d: %s\n", i, err);
                _exit(1);
            }
            fm_store_close(s);
            _exit(0);
        }
    }
    close(gate[0]);
    close(gate[1]);
    for (int i = 0; i < NPROC; i++) {
        int st;
        assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    sqlite3 *db = raw_open();
    assert_int_equal(raw_int(db, "PRAGMA user_version"), FM_STORE_SCHEMA_VERSION);
    sqlite3_close(db);
}

static void test_refuses_foreign_and_newer(void **state)
{
    fm_store_t *s = NULL;
    char err[256] = "";
    sqlite3 *db = raw_open();
    raw_exec(db, "CREATE TABLE t (x)");
    sqlite3_close(db);
    assert_int_equal(fm_store_open(dbpath, &s, err, sizeof(err)), FM_ESTORE);
    assert_null(s);
    assert_non_null(strstr(err, "not a flowmix database"));
    teardown(state);
    setup(state);

    fm_store_close(open_ok());
    db = raw_open();
    raw_exec(db, "PRAGMA user_version = 99");
    sqlite3_close(db);
    assert_int_equal(fm_store_open(dbpath, &s, err, sizeof(err)), FM_ESTORE);
    assert_non_null(strstr(err, "newer"));
    assert_null(s);
}

static void test_corrupt_file(void **state)
{
    FILE *f = fopen(dbpath, "w");
    assert_non_null(f);
    for (int i = 0; i < 512; i++) {
        fputs("this is not an SQLite database. ", f);
    }
    fclose(f);
    fm_store_t *s = NULL;
    char err[256] = "";
    assert_int_equal(fm_store_open(dbpath, &s, err, sizeof(err)), FM_ESTORE);
    assert_null(s);
    assert_non_null(strstr(err, dbpath));
    assert_non_null(strstr(err, "not a database"));
}

static void test_commit_adds(void **state)
{
    static expect_t tot, win; /* static: large */
    memset(&tot, 0, sizeof(tot));
    memset(&win, 0, sizeof(win));
    fm_store_t *s = open_ok();
    fm_histset_t *t1 = make_delta(11, &tot, NULL), *w1 = make_delta(12, &win, NULL);
    fm_histset_t *t2 = make_delta(13, &tot, NULL), *w2 = make_delta(14, &win, NULL);
    fm_store_counter_t c1[] = {{"records", 5}, {"datagrams", 2}};
    fm_store_counter_t c2[] = {{"records", 9}};
    char err[256];

    assert_int_equal(fm_store_commit(s, t1, 60000, 120000, w1, c1, 2, err, sizeof(err)), 0);
    assert_int_equal(fm_store_commit(s, t2, 60000, 120000, w2, c2, 1, err, sizeof(err)), 0);
    check_stored(s, -1, &tot);
    check_stored(s, 60000, &win);

    uint64_t v;
    assert_int_equal(fm_store_counter_get(s, "records", &v), 0);
    assert_int_equal(v, 9); /* counters are replaced, not added */
    assert_int_equal(fm_store_counter_get(s, "datagrams", &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(fm_store_counter_get(s, "nope", &v), FM_ENOENT);

    fm_store_window_t *w;
    size_t n;
    assert_int_equal(fm_store_list_windows(s, &w, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(w[0].start_ms, 60000);
    assert_int_equal(w[0].end_ms, 120000);
    assert_false(w[0].closed);
    assert_int_equal(w[0].flows, expect_flows(&win));
    free(w);
    assert_int_equal(fm_store_close_window(s, 60000, 120000), 0);
    assert_int_equal(fm_store_list_windows(s, &w, &n), 0);
    assert_true(w[0].closed);
    free(w);

    fm_hist_bin_t *b;
    assert_int_equal(fm_store_hist_bins(s, 1234, 0, 0, 0, &b, &n), FM_ENOENT);
    /* A delta in another binning is refused before anything is written. */
    fm_histset_t *other;
    assert_int_equal(fm_histset_new(4, &other), 0);
    assert_int_equal(fm_store_commit(s, other, 0, 0, NULL, NULL, 0, err, sizeof(err)),
                     FM_EINVAL);
    check_stored(s, -1, &tot);
    fm_histset_free(other);
    fm_histset_free(t1);
    fm_histset_free(w1);
    fm_histset_free(t2);
    fm_histset_free(w2);
    fm_store_close(s);
}

/* Every sqlite3_step of a commit fails in turn: the database never changes, then a retry works. */
static void test_commit_atomic_injected(void **state)
{
    static expect_t tot, win, tot_after, win_after;
    memset(&tot, 0, sizeof(tot));
    memset(&win, 0, sizeof(win));
    memset(&tot_after, 0, sizeof(tot_after));
    memset(&win_after, 0, sizeof(win_after));
    fm_store_t *s = open_ok();
    fm_histset_t *t1 = make_delta(21, &tot, &tot_after), *w1 = make_delta(22, &win, &win_after);
    fm_histset_t *t2 = make_delta(23, &tot_after, NULL), *w2 = make_delta(24, &win_after, NULL);
    fm_store_counter_t c1[] = {{"records", 1}}, c2[] = {{"records", 2}};
    char err[256];
    int k, failures = 0;

    assert_int_equal(fm_store_commit(s, t1, 0, 60000, w1, c1, 1, err, sizeof(err)), 0);
    for (k = 1;; k++) {
        step_count = 0;
        step_fail_at = k;
        err[0] = '\0';
        int rc = fm_store_commit(s, t2, 0, 60000, w2, c2, 1, err, sizeof(err));
        step_fail_at = 0;
        if (rc == 0) {
            break; /* k is past the last step: the commit went through */
        }
        if (++failures > 10000) {
            fail_msg("the commit never succeeds again after an injected failure: %s", err);
        }
        assert_int_equal(rc, FM_ESTORE);
        assert_true(err[0] != '\0');
        check_stored(s, -1, &tot);
        check_stored(s, 0, &win);
        uint64_t v;
        assert_int_equal(fm_store_counter_get(s, "records", &v), 0);
        assert_int_equal(v, 1);
    }
    print_message("commit failed cleanly at each of %d steps\n", failures);
    assert_true(failures > 2 * NH); /* every bin write, window, counter, begin, commit */
    check_stored(s, -1, &tot_after);
    check_stored(s, 0, &win_after);
    char ie[256];
    assert_int_equal(fm_store_integrity_check(s, ie, sizeof(ie)), 0);
    fm_histset_free(t1);
    fm_histset_free(w1);
    fm_histset_free(t2);
    fm_histset_free(w2);
    fm_store_close(s);
}

/* A real SQLite error after the bins are written (a trigger aborting the counter insert). */
static void test_commit_trigger_abort(void **state)
{
    static expect_t tot, tot_after;
    memset(&tot, 0, sizeof(tot));
    memset(&tot_after, 0, sizeof(tot_after));
    fm_store_t *s = open_ok();
    fm_histset_t *t1 = make_delta(31, &tot, &tot_after), *t2 = make_delta(32, &tot_after, NULL);
    fm_store_counter_t c[] = {{"records", 7}};
    char err[256];

    assert_int_equal(fm_store_commit(s, t1, 0, 0, NULL, NULL, 0, err, sizeof(err)), 0);
    sqlite3 *db = raw_open();
    raw_exec(db, "CREATE TRIGGER boom BEFORE INSERT ON counters "
                 "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    assert_int_equal(fm_store_commit(s, t2, 0, 0, NULL, c, 1, err, sizeof(err)), FM_ESTORE);
    assert_non_null(strstr(err, "injected failure"));
    assert_string_equal(fm_store_errmsg(s), err);
    check_stored(s, -1, &tot);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM counters"), 0);
    raw_exec(db, "DROP TRIGGER boom");
    assert_int_equal(fm_store_commit(s, t2, 0, 0, NULL, c, 1, err, sizeof(err)), 0);
    check_stored(s, -1, &tot_after);
    sqlite3_close(db);
    fm_histset_free(t1);
    fm_histset_free(t2);
    fm_store_close(s);
}

/* [input.kafka] high-water marks: written only with a commit that succeeds, never moved back,
 * read back after reopening. */
static void test_kafka_marks(void **state)
{
    fm_store_t *s = open_ok();
    fm_store_mark_t m[2] = {{"edge-1", 7, 60000, 3, 1}, {"edge-2", 9, 60000, 1, 0}}, *got;
    fm_store_counter_t c[] = {{"records", 7}};
    size_t n;
    char err[256];

    assert_int_equal(fm_store_load_marks(s, &got, &n), 0);
    assert_int_equal(n, 0);
    sqlite3 *db = raw_open();
    raw_exec(db, "CREATE TRIGGER boom BEFORE INSERT ON counters "
                 "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    fm_store_stage_marks(s, m, 2);
    assert_int_equal(fm_store_commit(s, NULL, 0, 0, NULL, c, 1, err, sizeof(err)), FM_ESTORE);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM kafka_marks"), 0);
    raw_exec(db, "DROP TRIGGER boom");
    /* the failed commit unstaged them: this one writes none */
    assert_int_equal(fm_store_commit(s, NULL, 0, 0, NULL, c, 1, err, sizeof(err)), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM kafka_marks"), 0);
    fm_store_stage_marks(s, m, 2);
    assert_int_equal(fm_store_commit(s, NULL, 0, 0, NULL, c, 1, err, sizeof(err)), 0);
    m[0].part = 0; /* older than (3, 1): ignored */
    m[1].seq = 2;  /* newer: taken */
    fm_store_stage_marks(s, m, 2);
    assert_int_equal(fm_store_commit(s, NULL, 0, 0, NULL, c, 1, err, sizeof(err)), 0);
    sqlite3_close(db);
    fm_store_close(s);
    s = open_ok();
    assert_int_equal(fm_store_load_marks(s, &got, &n), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        bool one = !strcmp(got[i].collector, "edge-1");
        assert_int_equal(got[i].run, one ? 7 : 9);
        assert_int_equal(got[i].window_start_ms, 60000);
        assert_int_equal(got[i].seq, one ? 3 : 2);
        assert_int_equal(got[i].part, one ? 1 : 0);
    }
    free(got);
    fm_store_close(s);
}

/* Another connection holds the write lock: the commit fails with BUSY, the retry succeeds. */
static void test_commit_busy(void **state)
{
    static expect_t tot;
    memset(&tot, 0, sizeof(tot));
    fm_store_t *s = open_ok();
    fm_histset_t *t = make_delta(41, &tot, NULL);
    char err[256];

    assert_int_equal(fm_store_set_busy_timeout(s, 20), 0);
    sqlite3 *db = raw_open();
    raw_exec(db, "BEGIN IMMEDIATE");
    assert_int_equal(fm_store_commit(s, t, 0, 0, NULL, NULL, 0, err, sizeof(err)), FM_ESTORE);
    assert_non_null(strstr(err, "locked"));
    raw_exec(db, "COMMIT");
    sqlite3_close(db);
    assert_int_equal(fm_store_commit(s, t, 0, 0, NULL, NULL, 0, err, sizeof(err)), 0);
    check_stored(s, -1, &tot);
    fm_histset_free(t);
    fm_store_close(s);
}

static void assert_sets_equal(const fm_histset_t *a, const fm_histset_t *b)
{
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                fm_hist_bin_t *x = NULL, *y = NULL;
                long nx = fm_hist_bins(fm_histset_cget(a, c, d, m), &x);
                long ny = fm_hist_bins(fm_histset_cget(b, c, d, m), &y);
                assert_int_equal(nx, ny);
                if (nx > 0) {
                    assert_memory_equal(x, y, (size_t)nx * sizeof(*x));
                }
                free(x);
                free(y);
            }
        }
    }
}

/* Log binning (bin_exp 3) with values over a wide range; what is loaded equals what went in. */
static void test_resume(void **state)
{
    const unsigned be = 3;
    fm_histset_t *tot, *win, *lt, *lw;
    unsigned seed = 4242;
    char err[256];

    assert_int_equal(fm_histset_new(be, &tot), 0);
    assert_int_equal(fm_histset_new(be, &win), 0);
    for (int i = 0; i < 5000; i++) {
        seed = seed * 1664525u + 1013904223u;
        uint64_t x = (uint64_t)1 << (seed >> 27); /* 1 .. 2^31 */
        x += seed % x;
        fm_hist_t *h = fm_histset_get(tot, seed % FM_CLASS_COUNT, (seed >> 3) % FM_DIR_COUNT,
                                      (seed >> 5) % FM_METRIC_COUNT);
        fm_hist_add(h, x, 1 + seed % 50, 40 + seed % 9000);
        if (i % 3 == 0) {
            fm_hist_add(fm_histset_get(win, 0, 0, seed % FM_METRIC_COUNT), x, 1, 100);
        }
    }
    fm_store_t *s = open_ok();
    assert_int_equal(fm_store_commit(s, tot, 600000, 900000, win, NULL, 0, err, sizeof(err)), 0);
    fm_store_close(s);

    s = open_ok();
    assert_int_equal(fm_histset_new(be, &lt), 0);
    assert_int_equal(fm_histset_new(be, &lw), 0);
    assert_int_equal(fm_store_load_total(s, lt), 0);
    assert_int_equal(fm_store_load_window(s, 600000, lw), 0);
    assert_sets_equal(tot, lt);
    assert_sets_equal(win, lw);
    fm_histset_clear(lw);
    assert_int_equal(fm_store_load_window(s, 900000, lw), 0); /* not stored: stays empty */
    uint64_t f = 1;
    fm_hist_totals(fm_histset_cget(lw, 0, 0, 0), &f, NULL, NULL);
    assert_int_equal(f, 0);
    fm_histset_t *wrong;
    assert_int_equal(fm_histset_new(be + 1, &wrong), 0);
    assert_int_equal(fm_store_load_total(s, wrong), FM_EINVAL);
    assert_non_null(strstr(fm_store_errmsg(s), "bin_exp"));
    fm_histset_free(wrong);
    fm_store_close(s);
    fm_histset_free(tot);
    fm_histset_free(win);
    fm_histset_free(lt);
    fm_histset_free(lw);
}

static void test_fits(void **state)
{
    fm_store_t *s = open_ok();
    fm_store_fit_t f;
    assert_int_equal(fm_store_latest_fit(s, "a", &f), FM_ENOENT);
    assert_int_equal(fm_store_save_fit(s, 0, "a", 100, "{\"v\":1}", -1.5, 10, 0.25), 0);
    assert_int_equal(fm_store_save_fit(s, 0, "a", 300, "{\"v\":3}", -1.25, 30, 0.5), 0);
    assert_int_equal(fm_store_save_fit(s, 0, "a", 200, "{\"v\":2}", -1.0, 20, 0.75), 0);
    assert_int_equal(fm_store_save_fit(s, 0, "b", 50, "{\"b\":1}", -9.0, 1, 0.1), 0);
    assert_int_equal(fm_store_save_fit(s, 777, "a", 900, "{}", 0, 0, 0), FM_ENOENT);
    assert_int_equal(fm_store_latest_fit(s, "a", &f), 0);
    assert_string_equal(f.job, "a");
    assert_string_equal(f.model_json, "{\"v\":3}");
    assert_int_equal(f.created_ms, 300);
    assert_int_equal(f.window_start_ms, 0);
    assert_int_equal(f.iterations, 30);
    assert_true(f.loglik == -1.25 && f.seconds == 0.5);
    fm_store_fit_fini(&f);
    assert_null(f.job);
    /* Same created_ms: the row saved last wins. */
    assert_int_equal(fm_store_save_fit(s, 0, "a", 300, "{\"v\":4}", -1, 1, 1), 0);
    assert_int_equal(fm_store_latest_fit(s, "a", &f), 0);
    assert_string_equal(f.model_json, "{\"v\":4}");
    fm_store_fit_fini(&f);
    /* A fit on a stored window reports its start. */
    assert_int_equal(fm_store_close_window(s, 60000, 120000), 0);
    assert_int_equal(fm_store_save_fit(s, 60000, "w", 5, "{\"w\":1}", -2, 2, 2), 0);
    assert_int_equal(fm_store_latest_fit(s, "w", &f), 0);
    assert_int_equal(f.window_start_ms, 60000);
    fm_store_fit_fini(&f);
    fm_store_close(s);
}

static int64_t count_bins(sqlite3 *db, int64_t start)
{
    char q[160];
    snprintf(q, sizeof(q), "SELECT count(*) FROM hist_bins JOIN windows w ON w.id = window_id "
                           "WHERE w.start_ms = %lld", (long long)start);
    return raw_int(db, q);
}

static void test_prune(void **state)
{
    static expect_t e1, e2, e3;
    memset(&e1, 0, sizeof(e1));
    memset(&e2, 0, sizeof(e2));
    memset(&e3, 0, sizeof(e3));
    fm_store_t *s = open_ok();
    fm_histset_t *d1 = make_delta(51, &e1, NULL), *d2 = make_delta(52, &e2, NULL),
                 *d3 = make_delta(53, &e3, NULL);
    char err[256];
    sqlite3 *db = raw_open();

    /* w0 [0,1000) closed, w1 [1000,2000) ended but never closed (a crash), w2 [2000,3000)
     * still open. */
    assert_int_equal(fm_store_commit(s, d1, 0, 1000, d1, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(fm_store_commit(s, NULL, 1000, 2000, d2, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(fm_store_commit(s, NULL, 2000, 3000, d3, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(fm_store_close_window(s, 0, 1000), 0);
    assert_int_equal(fm_store_save_fit(s, 1000, "win", 1500, "{}", 0, 0, 0), 0);
    assert_int_equal(fm_store_save_fit(s, 0, "a", 100, "{}", 0, 0, 0), 0);
    assert_int_equal(fm_store_save_fit(s, 0, "a", 200, "{}", 0, 0, 0), 0);
    assert_int_equal(fm_store_save_fit(s, 0, "a", 5000, "{}", 0, 0, 0), 0);
    assert_int_equal(fm_store_save_fit(s, 0, "b", 100, "{}", 0, 0, 0), 0);
    int64_t b0 = count_bins(db, 0), b1 = count_bins(db, 1000), b2 = count_bins(db, 2000);
    int64_t total_bins = raw_int(db, "SELECT count(*) FROM hist_bins WHERE window_id = 0");
    assert_true(b0 > 0 && b1 > 0 && b2 > 0);

    /* Cut-off 2500: w0 and w1 go with their bins and w1's fit; w2 ends later and stays; of the
     * total's fits, job a loses 100 and 200 (5000 is newer) and job b keeps its only one. */
    int removed = fm_store_prune(s, 2500);
    assert_int_equal(removed, 2 + b0 + b1 + 1 + 2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM windows"), 1);
    assert_int_equal(count_bins(db, 2000), b2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM hist_bins WHERE window_id = 0"),
                     total_bins);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM hist_bins"), total_bins + b2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM fits WHERE job = 'a'"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM fits WHERE job = 'b'"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM fits WHERE job = 'win'"), 0);
    check_stored(s, -1, &e1);
    check_stored(s, 2000, &e3);
    assert_int_equal(fm_store_prune(s, 2500), 0);
    sqlite3_close(db);
    fm_histset_free(d1);
    fm_histset_free(d2);
    fm_histset_free(d3);
    fm_store_close(s);
}

/* Sums saturate at INT64_MAX instead of becoming floating point or wrapping. */
static long wal_size(void)
{
    char p[160];
    struct stat sb;
    snprintf(p, sizeof(p), "%s-wal", dbpath);
    return stat(p, &sb) == 0 ? (long)sb.st_size : 0;
}

/* Issue 20 items 8, 9: the WAL is bounded - a TRUNCATE checkpoint empties it every
 * FM_STORE_CKPT_COMMITS commits (journal_size_limit is per connection: not visible here). */
static void test_wal_bound(void **state)
{
    char err[256];
    expect_t ex;
    memset(&ex, 0, sizeof(ex));
    fm_store_t *s = open_ok();
    long most = 0;
    for (unsigned i = 0; i < FM_STORE_CKPT_COMMITS; i++) {
        fm_histset_t *d = make_delta(i + 1, &ex, NULL);
        assert_int_equal(fm_store_commit(s, d, 60000 * i, 60000 * (i + 1), d, NULL, 0, err,
                                         sizeof(err)), 0);
        fm_histset_free(d);
        most = wal_size() > most ? wal_size() : most;
    }
    assert_true(most > 0);
    assert_int_equal(wal_size(), 0); /* emptied after the last of the 30 */
    check_stored(s, -1, &ex);
    fm_store_close(s);
}

static void test_saturation(void **state)
{
    fm_histset_t *set;
    char err[256];
    assert_int_equal(fm_histset_new(0, &set), 0);
    fm_hist_bin_t b = {7, 8, (uint64_t)INT64_MAX - 10, 5, 5};
    assert_int_equal(fm_hist_add_bin(fm_histset_get(set, 0, 0, 0), &b), 0);
    fm_store_t *s = open_ok();
    assert_int_equal(fm_store_commit(s, set, 0, 0, NULL, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(fm_store_commit(s, set, 0, 0, NULL, NULL, 0, err, sizeof(err)), 0);
    fm_hist_bin_t *out;
    size_t n;
    assert_int_equal(fm_store_hist_bins(s, -1, 0, 0, 0, &out, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].flows, (uint64_t)INT64_MAX);
    assert_int_equal(out[0].packets, 10);
    free(out);
    sqlite3 *db = raw_open();
    assert_int_equal(raw_int(db, "SELECT count(*) FROM hist_bins WHERE typeof(flows) <> "
                                 "'integer'"), 0);
    sqlite3_close(db);
    fm_store_close(s);
    fm_histset_free(set);
}

/* The convenience view uses the same names as the C code and flowmixctl. */
static void test_named_view(void **state)
{
    static expect_t ex;
    memset(&ex, 0, sizeof(ex));
    fm_histset_t *d = make_delta(61, &ex, NULL);
    fm_store_t *s = open_ok();
    char err[256], q[256];
    assert_int_equal(fm_store_commit(s, d, 5000, 6000, d, NULL, 0, err, sizeof(err)), 0);
    sqlite3 *db = raw_open();
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int r = 0; r < FM_DIR_COUNT; r++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                uint64_t flows = 0;
                for (int x = 0; x < NV; x++) {
                    flows += ex.v[hidx(c, r, m)][x][0];
                }
                snprintf(q, sizeof(q), "SELECT coalesce(sum(flows), 0) FROM hist_bins_named "
                         "WHERE window = '%s' AND class = '%s' AND direction = '%s' AND "
                         "metric = '%s'", "total", fm_class_name(c), fm_dir_name(r),
                         fm_metric_name(m));
                assert_int_equal(raw_int(db, q), flows);
                snprintf(q, sizeof(q), "SELECT coalesce(sum(flows), 0) FROM hist_bins_named "
                         "WHERE window = 5000 AND class = '%s' AND direction = '%s' AND "
                         "metric = '%s'", fm_class_name(c), fm_dir_name(r), fm_metric_name(m));
                assert_int_equal(raw_int(db, q), flows);
            }
        }
    }
    sqlite3_close(db);
    fm_store_close(s);
    fm_histset_free(d);
}

static void test_exporters(void **state)
{
    fm_store_t *s = open_ok();
    fm_store_exporter_t e = {"192.0.2.7", 2055, 1000, 2000, 10, 300, 1};
    assert_int_equal(fm_store_save_exporter(s, &e), 0);
    e.first_seen_ms = 1500;
    e.last_seen_ms = 9000;
    e.datagrams = 20;
    assert_int_equal(fm_store_save_exporter(s, &e), 0);
    sqlite3 *db = raw_open();
    assert_int_equal(raw_int(db, "SELECT count(*) FROM exporters"), 1);
    assert_int_equal(raw_int(db, "SELECT first_seen_ms FROM exporters"), 1000);
    assert_int_equal(raw_int(db, "SELECT last_seen_ms FROM exporters"), 9000);
    assert_int_equal(raw_int(db, "SELECT datagrams FROM exporters"), 20);
    sqlite3_close(db);
    fm_store_close(s);
}

/* Export snapshots in creation order (issue 20 item 11): names whose order disagrees with it
 * (a clock set to 2099, then fixed) come back oldest first; a name written again moves up;
 * records beyond keep are forgotten; another directory is separate. */
static void expect_order(fm_store_t *s, const char *dir, const char *const *want, size_t nwant)
{
    char **names;
    size_t n;
    assert_int_equal(fm_store_export_order(s, dir, &names, &n), 0);
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(names[i], want[i]);
    }
    fm_store_names_free(names, n);
}

static void test_export_order(void **state)
{
    fm_store_t *s = open_ok();
    const char *const first[] = {"20991231T235959Z", "20261130T120000Z", "20261130T120100Z"};
    const char *const later[] = {"20261130T120000Z", "20261130T120100Z", "20991231T235959Z"};
    const char *const kept[] = {"20991231T235959Z", "20261130T120200Z"};
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(fm_store_record_export(s, "/x", first[i], 1000 + i, 10), 0);
    }
    expect_order(s, "/x", first, 3);
    assert_int_equal(fm_store_record_export(s, "/x", "20991231T235959Z", 2000, 10), 0);
    expect_order(s, "/x", later, 3);
    assert_int_equal(fm_store_record_export(s, "/x", "20261130T120200Z", 3000, 2), 0);
    expect_order(s, "/x", kept, 2);
    expect_order(s, "/y", NULL, 0);
    assert_int_equal(fm_store_record_export(s, "/x", "a", 1, 0), FM_EINVAL);
    fm_store_close(s);
    /* and after reopening, read-only */
    assert_int_equal(fm_store_open_readonly(dbpath, &s, NULL, 0), 0);
    expect_order(s, "/x", kept, 2);
    fm_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_foreign_and_newer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_adds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_atomic_injected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_trigger_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kafka_marks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saturation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_named_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exporters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
