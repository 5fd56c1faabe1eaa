/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Store commit latency: a realistic delta (by default 12 histograms x 2000 bins, the uniflow
 * histograms of all four classes) committed to the running total and to a window, as the
 * daemon does every store.commit_interval.  The first commit inserts every row, later ones
 * update them.  Prints milliseconds per commit, rows per second and the CPU time of the
 * committing thread per row; no assertions.
 *
 * usage: bench/store [commits [bins [db-path]]]   (default 20, 2000, a temporary file)
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hist.h"
#include "store.h"
#include "util/err.h"
#include "util/time.h"

#define BIN_EXP 12 /* the configured default */

/* 12 histograms: every class x metric of the uniflow direction, nbins bins each. */
static fm_histset_t *make_delta(size_t nbins, unsigned seed, size_t *rows)
{
    fm_histset_t *set;
    if (fm_histset_new(BIN_EXP, &set) < 0) {
        return NULL;
    }
    *rows = 0;
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int m = 0; m < FM_METRIC_COUNT; m++) {
            fm_hist_t *h = fm_histset_get(set, c, FM_DIR_UNIFLOW, m);
            uint64_t x = 1;
            for (size_t i = 0; i < nbins; i++) {
                fm_hist_bin_t b;
                fm_hist_bin_of(x, BIN_EXP, &b.lo, &b.hi);
                seed = seed * 1103515245u + 12345u;
                b.flows = 1 + (seed >> 16) % 100;
                b.packets = b.flows * (1 + seed % 7);
                b.octets = b.packets * (40 + seed % 1400);
                fm_hist_add_bin(h, &b);
                x = b.hi; /* next bin: dense at the low end, logarithmic past 2^BIN_EXP */
            }
            *rows += fm_hist_count(h);
        }
    }
    return set;
}

static double ms_since(uint64_t t0)
{
    return (double)(fm_time_mono_ns() - t0) / 1e6;
}

/* CPU time of this thread (the commit runs on it): on a loaded machine wall time measures the
 * neighbours as much as the commit. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int run(fm_store_t *s, int commits, fm_histset_t *delta, size_t rows)
{
    fm_store_counter_t ctr[] = {{"records", 0}, {"datagrams", 0}};
    char err[256];
    double first = 0, rest = 0, worst = 0, cpu_first = 0, cpu_rest = 0;

    for (int i = 0; i < commits; i++) {
        ctr[0].value = (uint64_t)i * 1000;
        uint64_t t0 = fm_time_mono_ns();
        double c0 = cpu_ms();
        int rc = fm_store_commit(s, delta, 3600000, 7200000, delta, ctr, 2, err, sizeof(err));
        double ms = ms_since(t0), cpu = cpu_ms() - c0;
        if (rc < 0) {
            fprintf(stderr, "commit %d failed: %s\n", i, err);
            return 1;
        }
        if (i == 0) {
            first = ms;
            cpu_first = cpu;
        } else {
            rest += ms;
            cpu_rest += cpu;
            worst = ms > worst ? ms : worst;
        }
    }
    /* Each commit writes the delta twice: to the total and to the window. */
    printf("commit, first (insert) : %9.2f ms  %10.0f rows/s  (%zu rows)  cpu %.2f ms, %.3f us/row\n",
           first, 2.0 * (double)rows / (first / 1e3), 2 * rows, cpu_first,
           cpu_first * 1e3 / (2.0 * (double)rows));
    if (commits > 1) {
        double mean = rest / (commits - 1), cpu_mean = cpu_rest / (commits - 1);
        printf("commit, update (mean)  : %9.2f ms  %10.0f rows/s  (max %.2f ms over %d)  cpu %.2f ms,"
               " %.3f us/row\n", mean, 2.0 * (double)rows / (mean / 1e3), worst, commits - 1,
               cpu_mean, cpu_mean * 1e3 / (2.0 * (double)rows));
    }
    return 0;
}

static void load_and_maintain(fm_store_t *s, size_t rows)
{
    fm_histset_t *into;
    char err[256];
    uint64_t t0;

    if (fm_histset_new(BIN_EXP, &into) == 0) {
        t0 = fm_time_mono_ns();
        int rc = fm_store_load_total(s, into);
        double ms = ms_since(t0);
        printf("load_total             : %9.2f ms  %10.0f rows/s  %s\n", ms,
               (double)rows / (ms / 1e3), rc < 0 ? fm_store_errmsg(s) : "");
        fm_histset_free(into);
    }
    t0 = fm_time_mono_ns();
    fm_store_checkpoint(s);
    printf("wal_checkpoint         : %9.2f ms\n", ms_since(t0));
    t0 = fm_time_mono_ns();
    int rc = fm_store_integrity_check(s, err, sizeof(err));
    printf("integrity_check        : %9.2f ms  %s\n", ms_since(t0), rc < 0 ? err : "ok");
}

int main(int argc, char **argv)
{
    int commits = argc > 1 ? atoi(argv[1]) : 20;
    size_t nbins = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 2000;
    char dir[] = "/tmp/fm-bench-store.XXXXXX", path[256];
    fm_store_t *s;
    char err[256];
    size_t rows;
    int rc;

    if (commits < 1 || nbins < 1) {
        fprintf(stderr, "usage: %s [commits [bins [db-path]]]\n", argv[0]);
        return 2;
    }
    if (argc > 3) {
        snprintf(path, sizeof(path), "%s", argv[3]);
    } else if (mkdtemp(dir)) {
        snprintf(path, sizeof(path), "%s/flowmix.db", dir);
    } else {
        perror("mkdtemp");
        return 1;
    }
    fm_histset_t *delta = make_delta(nbins, 7, &rows);
    if (!delta || fm_store_open(path, &s, err, sizeof(err)) < 0) {
        fprintf(stderr, "cannot set up: %s\n", delta ? err : "out of memory");
        return 1;
    }
    printf("store bench: %s, delta of %zu bins (12 histograms, bin_exp %d), %d commits\n", path,
           rows, BIN_EXP, commits);
    rc = run(s, commits, delta, rows);
    if (rc == 0) {
        load_and_maintain(s, rows);
    }
    fm_store_close(s);
    fm_histset_free(delta);
    if (argc <= 3) {
        static const char *const sfx[] = {"", "-wal", "-shm"};
        for (size_t i = 0; i < 3; i++) {
            char p[300];
            snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
            unlink(p);
        }
        rmdir(dir);
    }
    return rc;
}
