/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/fit: flowmixd's 18 default fit jobs (the agh_2015 set of conf.c: all/tcp/udp x
 * length/size x flows/packets/octets, each with its -i/-U/-L) on the agh_2015 histograms.
 *
 * 1. Each job's EM fit in this process (fm_fit_run, as the daemon calls it): CPU and wall
 *    seconds (the fastest of REPEAT runs, default 3), the log-likelihood to 17 digits, and its
 *    relative difference from the same fit through fit.c's blocked E-step (the reference path,
 *    without the fused kernel of fit_kernel.c).  When FLOW_MODELS_DIR holds a flow-models
 *    checkout, flow-models' EM runs right after with the same options on the same file: its
 *    fit_mix() (what `flow_models.fit -i N -U u -L l -y Y` runs between reading the file and
 *    writing the result), timed inside Python in wall and CPU seconds, so neither the
 *    interpreter's start-up nor pandas' reading of the file counts (that only favours
 *    flow-models).  Ratios: its wall over flowmix's wall, its CPU over flowmix's CPU; on a
 *    loaded machine the CPU ratio is the steadier one (a wall figure of a 0.3 s fit depends
 *    on what else ran in those 0.3 s).
 * 2. Peak RSS of this process after all 18 fits.
 * 3. The 18 jobs started at once through the daemon's own fit scheduler (fitsched.c: a
 *    histogram set holding the bins, fm_fitsched_run for every job, libuv's thread pool), with
 *    UV_THREADPOOL_SIZE=1 and then 2, each in a child process (libuv reads it once): the wall
 *    time until all are done, the CPU time of the process meanwhile (user + system, all
 *    threads), its context switches, and the load average beside each figure.  The rounds
 *    alternate 1, 2, 1, 2, ... so that a change of the machine's load hits both alike.
 *
 * Only the all/ histograms are shipped (shared/data/agh_2015/histograms/all); a tcp or udp job
 * uses DIR/<class>/<metric>.csv when present, else the all/ histogram of its metric with its own
 * options (said in the table).
 *
 * usage: bench/fit [HISTOGRAM_DIR]   (default $FM_SHARED/data/agh_2015/histograms)
 * env:   FLOW_MODELS_DIR, PYTHON (default /usr/bin/python3), FM_FIT_JOBS=N (first N jobs),
 *        REPEAT=3, FM_FIT_THREADS_ONLY=1 (only part 3, to repeat it quickly at a quiet moment),
 *        FM_FIT_ROUNDS=N (part 3's rounds, default 2; 0 skips part 3)
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#include <uv.h>

#include "conf.h"
#include "fit.h"
#include "fit_kernel.h"
#include "fitsched.h"
#include "flow.h"
#include "hist.h"
#include "mixture.h"
#include "util/err.h"

typedef struct {
    const fm_config_fit_t *job;
    char path[4096];
    bool stand_in; /* the all/ histogram stands in for a tcp/udp one */
    bool shared;   /* bins belong to an earlier job */
    fm_hist_bin_t *bins;
    size_t n;
} bench_job_t;

static double ru_cpu_s(const struct rusage *ru)
{
    return ru->ru_utime.tv_sec + ru->ru_utime.tv_usec * 1e-6 + ru->ru_stime.tv_sec +
           ru->ru_stime.tv_usec * 1e-6;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru_cpu_s(&ru);
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static fm_fit_opts_t job_opts(const fm_config_fit_t *j)
{
    return (fm_fit_opts_t){.y = j->y, .U = j->U, .L = j->L, .P = j->P, .max_iter = j->max_iter,
                           .tol = j->tol};
}

/* Job j's histogram: read once per file (earlier[0..ne) may have it), as one daemon holds one
 * histogram per class and metric. */
static int load_job(const char *dir, const fm_config_fit_t *j, bench_job_t *b,
                    const bench_job_t *earlier, size_t ne)
{
    struct stat st;
    const char *metric = fm_metric_name((fm_metric_t)j->metric);

    b->job = j;
    snprintf(b->path, sizeof(b->path), "%.4000s/%s/%s.csv", dir,
             fm_class_name((fm_class_t)j->cls), metric);
    if (stat(b->path, &st) != 0) {
        b->stand_in = j->cls != FM_CLASS_ALL;
        snprintf(b->path, sizeof(b->path), "%.4000s/all/%s.csv", dir, metric);
    }
    for (size_t i = 0; i < ne; i++) {
        if (strcmp(earlier[i].path, b->path) == 0) {
            b->bins = earlier[i].bins;
            b->n = earlier[i].n;
            b->shared = true;
            return 0;
        }
    }
    int rc = fm_hist_read_csv(b->path, &b->bins, &b->n);
    if (rc < 0) {
        fprintf(stderr, "bench/fit: %s: %s\n", b->path, fm_strerror(rc));
    }
    return rc;
}

/* flow-models' EM on the job's histogram with the job's options: its fit_mix() timed inside
 * Python (wall and CPU seconds; pandas' reading of the file and the interpreter's start-up left
 * out, which only favours flow-models).  @return 0, or -1 if it did not run. */
static int flow_models_fit(const char *fmdir, const bench_job_t *b, double *wall, double *cpu)
{
    static const char *const ys[] = {"flows", "packets", "octets"};
    const char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
    char cmd[9000], init[128] = "", line[1024];
    int ok = -1;

    /* flow-models' main() passes only the non-zero -U/-L/-P */
    if (b->job->U) {
        snprintf(init + strlen(init), sizeof(init) - strlen(init), "'U': %u,", b->job->U);
    }
    if (b->job->L) {
        snprintf(init + strlen(init), sizeof(init) - strlen(init), "'L': %u,", b->job->L);
    }
    if (b->job->P) {
        snprintf(init + strlen(init), sizeof(init) - strlen(init), "'P': %u,", b->job->P);
    }
    snprintf(cmd, sizeof(cmd),
             "PYTHONPATH='%s' '%s' -c \"\n"
             "import time, pandas as pd\n"
             "from flow_models.fit import fit_mix, initial_mix\n"
             "d = pd.read_csv('%s', index_col=0, sep=',', low_memory=False,"
             " usecols=lambda n: not n.endswith('_ssq'))\n"
             "x = d.index.to_numpy(); w = d['%s_sum'].to_numpy()\n"
             "mix = initial_mix({%s}, x)\n"
             "c0 = time.process_time(); w0 = time.perf_counter()\n"
             "fit_mix(x, mix, w, max_iter=%u)\n"
             "print('fmtime', time.perf_counter() - w0, time.process_time() - c0)\n"
             "\" 2>&1",
             fmdir, py, b->path, ys[b->job->y], init, b->job->max_iter);
    FILE *p = popen(cmd, "r");
    if (!p) {
        return -1;
    }
    while (fgets(line, sizeof(line), p)) {
        if (sscanf(line, "fmtime %lf %lf", wall, cpu) == 2) {
            ok = 0;
        }
    }
    pclose(p);
    return ok;
}

/* Part 1: each job here and (optionally) in flow-models; the lowest wall and CPU ratios. */
static void sequential(bench_job_t *b, size_t nj, const char *fmdir, double *worst_rel,
                       double worst[2])
{
    int repeat = getenv("REPEAT") ? atoi(getenv("REPEAT")) : 3;
    repeat = repeat > 0 ? repeat : 1;

    printf("%-20s %-10s %-16s %6s %6s %21s %8s", "job", "histogram", "options", "cpu_s",
           "wall_s", "loglik", "vs_old");
    if (fmdir) {
        printf(" %7s %7s %7s %7s", "fm_wall", "fm_cpu", "r_wall", "r_cpu");
    }
    printf("  load (1 min)\n");
    for (size_t i = 0; i < nj; i++) {
        fm_fit_opts_t o = job_opts(b[i].job);
        fm_fit_result_t res;
        fm_mix_t *out = NULL;
        char opts[64], hist[32];
        double cpu = 0, wall = 0;
        int rc = 0;
        for (int rep = 0; rep < repeat && rc == 0; rep++) { /* the fastest of REPEAT runs */
            double c0 = cpu_s(), w0 = wall_s();
            rc = fm_fit_run(b[i].bins, b[i].n, &o, NULL, &out, &res);
            double c = cpu_s() - c0, w = wall_s() - w0;
            cpu = rep == 0 || c < cpu ? c : cpu;
            wall = rep == 0 || w < wall ? w : wall;
            fm_mix_free(out);
            out = NULL;
        }
        if (rc < 0) {
            printf("%-22s fit failed: %s\n", b[i].job->name, fm_strerror(rc));
            continue;
        }
        /* The same fit through the blocked E-step (the one before the fused kernel). */
        fm_fit_result_t old;
        fm__fitk_set_mode(FM__FITK_BLOCKED);
        rc = fm_fit_run(b[i].bins, b[i].n, &o, NULL, &out, &old);
        fm__fitk_set_mode(FM__FITK_AUTO);
        fm_mix_free(out);
        double rel = rc < 0 ? NAN : fabs(res.loglik - old.loglik) / fabs(old.loglik);
        *worst_rel = rel > *worst_rel || isnan(rel) ? rel : *worst_rel;
        snprintf(opts, sizeof(opts), "-i %u -U %u -L %u", o.max_iter, o.U, o.L);
        snprintf(hist, sizeof(hist), "%s%s", b[i].stand_in ? "all*/" : "",
                 fm_metric_name((fm_metric_t)b[i].job->metric));
        printf("%-20s %-10s %-16s %6.3f %6.3f %21.17g %8.1e", b[i].job->name, hist, opts, cpu,
               wall, res.loglik, rel);
        if (fmdir) {
            double fw = 0, fc = 0;
            int frc = flow_models_fit(fmdir, &b[i], &fw, &fc);
            double rw = frc == 0 ? fw / wall : 0, rcpu = frc == 0 ? fc / cpu : 0;
            worst[0] = i == 0 || rw < worst[0] ? rw : worst[0];
            worst[1] = i == 0 || rcpu < worst[1] ? rcpu : worst[1];
            printf(" %7.2f %7.2f %6.1fx %6.1fx", fw, fc, rw, rcpu);
        }
        double load = 0;
        getloadavg(&load, 1);
        printf("  load %.2f\n", load);
        fflush(stdout);
    }
}

/* Part 3, in a child with UV_THREADPOOL_SIZE set: the jobs through the daemon's scheduler. */
typedef struct {
    unsigned done, failed;
} pool_state_t;

static void pool_result(void *ctx, const fm_fitsched_job_t *job)
{
    (void)job;
    ((pool_state_t *)ctx)->done++;
}

static void pool_stopped(void *arg)
{
    (void)arg;
}

/* The histogram set a daemon would hold: each job's bins under its class, direction, metric. */
static fm_histset_t *pool_histset(const bench_job_t *b, size_t nj, unsigned bin_exp)
{
    fm_histset_t *set = NULL;

    if (fm_histset_new(bin_exp, &set) < 0) {
        return NULL;
    }
    for (size_t i = 0; i < nj; i++) {
        fm_hist_t *h = fm_histset_get(set, (fm_class_t)b[i].job->cls,
                                      (fm_dir_t)b[i].job->direction,
                                      (fm_metric_t)b[i].job->metric);
        if (fm_hist_count(h) > 0) {
            continue; /* an earlier job of the same histogram filled it */
        }
        for (size_t k = 0; k < b[i].n; k++) {
            if (fm_hist_add_bin(h, &b[i].bins[k]) < 0) {
                fprintf(stderr, "bench/fit: %s: bin %zu is not a bin of bin_exp %u\n",
                        b[i].path, k, bin_exp);
                fm_histset_free(set);
                return NULL;
            }
        }
    }
    return set;
}

static int pool_run(const fm_config_t *cfg, const bench_job_t *b, size_t nj)
{
    uv_loop_t loop;
    fm_fitsched_t *fs = NULL;
    pool_state_t st = {0};
    fm_histset_t *set = pool_histset(b, nj, (unsigned)cfg->bin_exp);
    struct rusage r0, r1;
    char err[256];
    unsigned started = 0;

    if (!set || uv_loop_init(&loop) < 0 ||
        fm_fitsched_new(&loop, cfg->fits, nj, 0, set, pool_result, &st, &fs) < 0) {
        return 1;
    }
    getrusage(RUSAGE_SELF, &r0);
    double w0 = wall_s();
    fm_fitsched_run(fs, NULL, &started, err, sizeof(err));
    while (st.done < started && fm_fitsched_running(fs) > 0) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    double w = wall_s() - w0;
    getrusage(RUSAGE_SELF, &r1);
    fm_fitsched_stop(fs, pool_stopped, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    fm_fitsched_free(fs);
    uv_loop_close(&loop);
    fm_histset_free(set);
    printf("pool %.6f %.6f %ld %ld %u %u\n", w, ru_cpu_s(&r1) - ru_cpu_s(&r0),
           r1.ru_nvcsw - r0.ru_nvcsw, r1.ru_nivcsw - r0.ru_nivcsw, st.done, started);
    return st.done == started ? 0 : 1;
}

typedef struct {
    double wall, cpu;
    long vcsw, ivcsw;
    unsigned done, started;
} pool_figures_t;

static bool pool_child(const char *self, const char *dir, int threads, pool_figures_t *f)
{
    char cmd[8300], line[256];
    bool ok = false;

    snprintf(cmd, sizeof(cmd), "UV_THREADPOOL_SIZE=%d '%s' --pool '%s'", threads, self, dir);
    FILE *p = popen(cmd, "r");
    while (p && fgets(line, sizeof(line), p)) {
        ok = ok || sscanf(line, "pool %lf %lf %ld %ld %u %u", &f->wall, &f->cpu, &f->vcsw,
                          &f->ivcsw, &f->done, &f->started) == 6;
    }
    if (p) {
        pclose(p);
    }
    return ok;
}

/* Part 3: rounds of 1 and 2 pool threads, alternating; each line with the load beside it. */
static void thread_comparison(const char *dir, size_t nj)
{
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
    int rounds = getenv("FM_FIT_ROUNDS") ? atoi(getenv("FM_FIT_ROUNDS")) : 2;
    double best[3] = {0, 0, 0}, cpu[3] = {0, 0, 0}, load[3];

    self[sl > 0 ? sl : 0] = '\0';
    if (rounds <= 0) {
        return;
    }
    printf("\n%zu jobs started at once through the daemon's fit scheduler (fitsched.c) on libuv's "
           "thread pool:\n", nj);
    printf("%-8s %-7s %8s %8s %8s %7s %7s  %s\n", "round", "threads", "wall_s", "cpu_s",
           "cpu/wall", "vcsw", "ivcsw", "load (1, 5, 15 min) at the end");
    for (int r = 0; r < rounds; r++) {
        for (int t = 1; t <= 2; t++) {
            pool_figures_t f = {0};
            if (!pool_child(self, dir, t, &f) || f.done != f.started) {
                printf("%-8d %-7d failed (%u of %u fits)\n", r + 1, t, f.done, f.started);
                continue;
            }
            getloadavg(load, 3);
            printf("%-8d %-7d %8.3f %8.3f %8.2f %7ld %7ld  %.2f %.2f %.2f\n", r + 1, t, f.wall,
                   f.cpu, f.cpu / f.wall, f.vcsw, f.ivcsw, load[0], load[1], load[2]);
            fflush(stdout);
            if (best[t] == 0 || f.wall < best[t]) {
                best[t] = f.wall;
                cpu[t] = f.cpu;
            }
        }
    }
    getloadavg(load, 3);
    printf("best of %d: 1 thread %.3f s wall (%.3f s CPU), 2 threads %.3f s wall (%.3f s CPU): "
           "%.2fx, load %.2f %.2f %.2f\n", rounds, best[1], cpu[1], best[2], cpu[2],
           best[2] > 0 ? best[1] / best[2] : 0, load[0], load[1], load[2]);
}

int main(int argc, char **argv)
{
    const char *shared = getenv("FM_SHARED"), *fmdir = getenv("FLOW_MODELS_DIR");
    bool pool = argc > 1 && strcmp(argv[1], "--pool") == 0;
    char dir[4096], err[256];
    fm_config_t *cfg = NULL;
    struct rusage ru;
    double load[3] = {0};

    gsl_set_error_handler_off();
    if (argc > 1 + pool) {
        snprintf(dir, sizeof(dir), "%s", argv[1 + pool]);
    } else {
        snprintf(dir, sizeof(dir), "%s/data/agh_2015/histograms", shared ? shared : "../shared");
    }
    if (fm_config_load(NULL, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench/fit: default configuration: %s\n", err);
        return 1;
    }
    size_t nj = cfg->nfits;
    if (getenv("FM_FIT_JOBS") && (size_t)atoi(getenv("FM_FIT_JOBS")) < nj) {
        nj = (size_t)atoi(getenv("FM_FIT_JOBS"));
    }
    bench_job_t *b = calloc(nj ? nj : 1, sizeof(*b));
    for (size_t i = 0; i < nj; i++) {
        if (load_job(dir, &cfg->fits[i], &b[i], b, i) < 0) {
            return 1;
        }
    }
    if (pool) {
        return pool_run(cfg, b, nj);
    }
    getloadavg(load, 3);
    printf("bench/fit: %zu default fit jobs on %s, %ld CPUs, load %.2f %.2f %.2f\n", nj, dir,
           sysconf(_SC_NPROCESSORS_ONLN), load[0], load[1], load[2]);
    if (fmdir) {
        printf("flow-models: %s (its fit_mix() timed inside Python, wall and CPU)\n", fmdir);
    }
    if (!getenv("FM_FIT_THREADS_ONLY") || strcmp(getenv("FM_FIT_THREADS_ONLY"), "1") != 0) {
        double worst_rel = 0, worst[2] = {0, 0};
        sequential(b, nj, fmdir, &worst_rel, worst);
        getrusage(RUSAGE_SELF, &ru);
        printf("\npeak RSS after %zu fits: %.1f MB (target <= 20 MB)\n", nj,
               ru.ru_maxrss / 1024.0);
        if (fmdir) {
            printf("lowest flow-models / flowmix ratio: %.1fx wall, %.1fx CPU (target >= 15x)\n",
                   worst[0], worst[1]);
        }
        printf("largest relative log-likelihood change against the blocked E-step: %.1e "
               "(target <= 1e-12)\n", worst_rel);
        printf("(all*/: the all/ histogram stands in for the job's class, which is not shipped;\n"
               " vs_old: |loglik - loglik of the blocked E-step| / |that|; fm_wall, fm_cpu: "
               "flow-models' fit_mix;\n r_wall, r_cpu: those over flowmix's wall_s, cpu_s)\n");
    }
    thread_comparison(dir, nj);
    for (size_t i = 0; i < nj; i++) {
        if (!b[i].shared) {
            free(b[i].bins);
        }
    }
    free(b);
    fm_config_free(cfg);
    return 0;
}
