/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fit scheduler (fitsched.h).  A fit job carries copies of the bins and of the warm start;
 * its after-work callback finds its job again by name, so a reload that replaced the list in
 * between drops the result instead of writing into freed state.
 *
 * Requested fits wait in the job list (queued) and at most `parallel` of them are on libuv's
 * thread pool at once, the largest first.  Queuing all of them at once (18 by default, every
 * interval) would put the store's commits, the exports and the histogram publications, which
 * share that pool, behind every fit; running more fits than CPUs only makes them compete for
 * the same cores and caches; and the largest first keeps the last fits to finish short, so the
 * threads stop together.
 */
#include "config.h"
#include "fitsched.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/testhook.h"
#include "util/time.h"

struct fm_fitsched {
    uv_loop_t *loop;
    uv_timer_t timer;
    const fm_histset_t *total;
    fm_fitsched_result_fn result;
    void *ctx;
    uint64_t interval_ms;
    fm_fitsched_job_t *jobs;
    size_t njobs;
    unsigned inflight;  /* fits on the thread pool */
    unsigned parallel;  /* at most this many */
    bool stopping, timer_closed;
    void (*stop_done)(void *arg);
    void *stop_arg;
};

typedef struct {
    uv_work_t req;
    fm_fitsched_t *fs;
    fm_config_fit_t cfg;       /* name owned: the job may be gone when it returns */
    fm_hist_bin_t *bins;
    size_t n;
    fm_mix_t *init, *out;
    char *json;
    fm_fit_result_t res;
    int rc;
} fit_job_t;

static void set_jobs(fm_fitsched_t *fs, const fm_config_fit_t *jobs, size_t n)
{
    fs->jobs = fm_xcalloc(n ? n : 1, sizeof(*fs->jobs));
    fs->njobs = n;
    for (size_t i = 0; i < n; i++) {
        fs->jobs[i].job = jobs[i];
        fs->jobs[i].job.name = fm_xstrdup(jobs[i].name);
    }
}

static void free_jobs(fm_fitsched_job_t *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(jobs[i].job.name);
        fm_mix_free(jobs[i].mix);
        free(jobs[i].json);
    }
    free(jobs);
}

/* The CPUs this process may use, but no more than libuv's pool has threads (it reads
 * UV_THREADPOOL_SIZE once; 4 without it). */
static unsigned default_parallel(void)
{
    const char *env = getenv("UV_THREADPOOL_SIZE");
    unsigned cpus = uv_available_parallelism(), pool = 4;

    if (env && atoi(env) > 0) {
        pool = (unsigned)atoi(env);
    }
    cpus = cpus > 0 ? cpus : 1;
    return cpus < pool ? cpus : pool;
}

int fm_fitsched_new(uv_loop_t *loop, const fm_config_fit_t *jobs, size_t n, uint64_t interval_ms,
                    const fm_histset_t *total, fm_fitsched_result_fn result, void *ctx,
                    fm_fitsched_t **out)
{
    int rc;
    if (!loop || (n && !jobs) || !total || !out) {
        return FM_EINVAL;
    }
    fm_fitsched_t *fs = fm_xcalloc(1, sizeof(*fs));
    if ((rc = uv_timer_init(loop, &fs->timer)) < 0) {
        free(fs);
        return rc;
    }
    fs->timer.data = fs;
    fs->loop = loop;
    fs->total = total;
    fs->result = result;
    fs->ctx = ctx;
    fs->interval_ms = interval_ms;
    fs->parallel = default_parallel();
    set_jobs(fs, jobs, n);
    *out = fs;
    return 0;
}

static fm_fitsched_job_t *find(const fm_fitsched_t *fs, const char *name)
{
    for (size_t i = 0; i < fs->njobs; i++) {
        if (!strcmp(fs->jobs[i].job.name, name)) {
            return &fs->jobs[i];
        }
    }
    return NULL;
}

static bool same_job(const fm_config_fit_t *a, const fm_config_fit_t *b)
{
    return !strcmp(a->name, b->name) && a->cls == b->cls && a->metric == b->metric &&
           a->direction == b->direction && a->y == b->y && a->U == b->U && a->L == b->L &&
           a->P == b->P && a->max_iter == b->max_iter && a->tol == b->tol;
}

static void maybe_stopped(fm_fitsched_t *fs)
{
    if (fs->stopping && fs->timer_closed && !fs->inflight && fs->stop_done) {
        void (*done)(void *) = fs->stop_done;
        fs->stop_done = NULL;
        done(fs->stop_arg);
    }
}

/* ---- one fit ------------------------------------------------------------------------------ */

static void fit_work(uv_work_t *req)
{
    fit_job_t *j = req->data;
    fm_fit_opts_t o = {.y = j->cfg.y, .U = j->cfg.U, .L = j->cfg.L, .P = j->cfg.P,
                       .max_iter = j->cfg.max_iter, .tol = j->cfg.tol};

    fm_testhook_delay("fit");
    j->rc = fm_fit_run(j->bins, j->n, &o, j->init, &j->out, &j->res);
    if (j->rc == 0 && !(j->json = fm_mix_to_json(j->out))) {
        j->rc = FM_ENOMEM;
    }
}

static void apply_result(fm_fitsched_t *fs, fit_job_t *j, fm_fitsched_job_t *s, int status)
{
    s->running = false;
    s->runs++;
    if (status < 0 || j->rc < 0) {
        s->failures++;
        fm_log_warn("fit, job %s failed: %s", j->cfg.name,
                    status < 0 ? uv_strerror(status) : fm_strerror(j->rc));
        return;
    }
    fm_mix_free(s->mix);
    free(s->json);
    s->mix = j->out;
    s->json = j->json;
    s->res = j->res;
    s->created_ms = fm_time_wall_ms();
    j->out = NULL;
    j->json = NULL;
    fm_log_info("fit, job %s: log-likelihood %.6f after %u iterations, %.3f s", s->job.name,
                s->res.loglik, s->res.iterations, s->res.seconds);
    if (fs->result) {
        fs->result(fs->ctx, s);
    }
}

static void dispatch(fm_fitsched_t *fs);

static void fit_after(uv_work_t *req, int status)
{
    fit_job_t *j = req->data;
    fm_fitsched_t *fs = j->fs;
    fm_fitsched_job_t *s = find(fs, j->cfg.name);

    fs->inflight--;
    if (s && s->running && !s->queued && same_job(&s->job, &j->cfg)) {
        apply_result(fs, j, s, status);
    }
    fm_mix_free(j->init);
    fm_mix_free(j->out);
    free(j->json);
    free(j->bins);
    free(j->cfg.name);
    free(j);
    dispatch(fs);
    maybe_stopped(fs);
}

static const fm_hist_t *job_hist(const fm_fitsched_t *fs, const fm_config_fit_t *job)
{
    return fm_histset_cget(fs->total, job->cls, job->direction, job->metric);
}

/* A fit's work, to start the largest first: bins x non-uniform components x iterations (a
 * uniform touches only the few rows it covers). */
static double job_cost(const fm_fitsched_t *fs, const fm_fitsched_job_t *s)
{
    size_t k = s->job.L + s->job.P + 1;

    if (s->mix) {
        k = 1;
        for (size_t i = 0; i < fm_mix_count(s->mix); i++) {
            k += fm_mix_comp(s->mix, i)->fam != FM_FAM_UNIFORM;
        }
    }
    return (double)fm_hist_count(job_hist(fs, &s->job)) * (double)k * s->job.max_iter;
}

/* Put job s on the thread pool with a snapshot of its histogram. */
static int queue_fit(fm_fitsched_t *fs, fm_fitsched_job_t *s)
{
    const fm_config_fit_t *job = &s->job;
    fit_job_t *j = fm_xcalloc(1, sizeof(*j));
    long n = fm_hist_bins(job_hist(fs, job), &j->bins);
    int rc = n < 0 ? (int)n : n <= 1 ? FM_EAGAIN : 0;

    if (rc == 0) {
        j->n = (size_t)n;
        j->fs = fs;
        j->req.data = j;
        j->cfg = *job;
        j->cfg.name = fm_xstrdup(job->name);
        j->init = s->mix ? fm_mix_clone(s->mix) : NULL; /* warm start from the previous fit */
        rc = uv_queue_work(fs->loop, &j->req, fit_work, fit_after);
    }
    if (rc < 0) {
        fm_mix_free(j->init);
        free(j->cfg.name);
        free(j->bins);
        free(j);
        return rc;
    }
    fs->inflight++;
    return 0;
}

/* Start queued fits, the largest first, while fewer than `parallel` are on the pool. */
static void dispatch(fm_fitsched_t *fs)
{
    while (!fs->stopping && fs->inflight < fs->parallel) {
        fm_fitsched_job_t *best = NULL;
        double best_cost = -1;
        for (size_t i = 0; i < fs->njobs; i++) {
            double c = fs->jobs[i].queued ? job_cost(fs, &fs->jobs[i]) : -1;
            if (c > best_cost) {
                best = &fs->jobs[i];
                best_cost = c;
            }
        }
        if (!best) {
            return;
        }
        best->queued = false;
        int rc = queue_fit(fs, best);
        if (rc < 0) {
            best->running = false;
            best->runs++;
            best->failures++;
            fm_log_warn("fit, job %s could not start: %s", best->job.name,
                        rc == FM_EAGAIN ? "its histogram has too few bins" : fm_strerror(rc));
        }
    }
}

/* Queue job s (dispatch() starts it). */
static int start_fit(fm_fitsched_t *fs, fm_fitsched_job_t *s, char *err, size_t errlen)
{
    const fm_config_fit_t *job = &s->job;
    size_t n = fm_hist_count(job_hist(fs, job));

    if (s->running) {
        snprintf(err, errlen, "job %s is already running", job->name);
        return FM_EBUSY;
    }
    if (n <= 1) {
        snprintf(err, errlen, "job %s: histogram %s/%s has %zu bins, nothing to fit yet",
                 job->name, fm_class_name(job->cls), fm_metric_name(job->metric), n);
        return FM_EAGAIN;
    }
    s->running = true;
    s->queued = true;
    return 0;
}

int fm_fitsched_run(fm_fitsched_t *fs, const char *job, unsigned *started, char *err,
                    size_t errlen)
{
    unsigned k = 0;
    int rc = 0;
    char e[256];

    if (fs->stopping) {
        snprintf(err, errlen, "shutting down");
        return FM_EINVAL;
    }
    if (job) {
        fm_fitsched_job_t *s = find(fs, job);
        if (!s) {
            snprintf(err, errlen, "no fit job named '%s'", job);
            rc = FM_ENOENT;
        } else if ((rc = start_fit(fs, s, err, errlen)) == 0) {
            k = 1;
        }
    } else {
        for (size_t i = 0; i < fs->njobs; i++) {
            int r = fs->jobs[i].running ? FM_EBUSY : start_fit(fs, &fs->jobs[i], e, sizeof(e));
            if (r == 0) {
                k++;
            } else if (r != FM_EAGAIN && r != FM_EBUSY) {
                fm_log_info("fit, %s", e);
            }
        }
    }
    dispatch(fs); /* after every job is queued, so that the largest go first */
    if (started) {
        *started = k;
    }
    return rc;
}

static void on_timer(uv_timer_t *t)
{
    fm_fitsched_t *fs = t->data;
    char err[64];
    fm_fitsched_run(fs, NULL, NULL, err, sizeof(err));
}

int fm_fitsched_start(fm_fitsched_t *fs)
{
    if (fs->stopping) {
        return FM_EINVAL;
    }
    if (!fs->interval_ms) {
        return uv_timer_stop(&fs->timer);
    }
    return uv_timer_start(&fs->timer, on_timer, fs->interval_ms, fs->interval_ms);
}

int fm_fitsched_reconfigure(fm_fitsched_t *fs, const fm_config_fit_t *jobs, size_t n,
                            uint64_t interval_ms)
{
    fm_fitsched_job_t *old = fs->jobs;
    size_t nold = fs->njobs;

    set_jobs(fs, jobs, n);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < nold; k++) {
            if (old[k].job.name && same_job(&old[k].job, &fs->jobs[i].job)) {
                /* Same job: move its state over, keeping the new copy of the name. */
                char *name = fs->jobs[i].job.name;
                fs->jobs[i] = old[k];
                fs->jobs[i].job.name = name;
                free(old[k].job.name);
                memset(&old[k], 0, sizeof(old[k]));
            }
        }
    }
    free_jobs(old, nold);
    fs->interval_ms = interval_ms;
    return fs->stopping ? 0 : fm_fitsched_start(fs);
}

size_t fm_fitsched_restore(fm_fitsched_t *fs, fm_store_t *store)
{
    size_t k = 0;
    for (size_t i = 0; i < fs->njobs; i++) {
        fm_fitsched_job_t *s = &fs->jobs[i];
        fm_store_fit_t f = {0};
        fm_mix_t *mix = NULL;
        if (fm_store_latest_fit(store, s->job.name, &f) < 0) {
            continue;
        }
        if (fm_mix_parse_json(f.model_json, &mix, NULL, 0) == 0) {
            fm_mix_free(s->mix);
            free(s->json);
            s->mix = mix;
            s->json = f.model_json;
            f.model_json = NULL;
            s->res = (fm_fit_result_t){.loglik = f.loglik, .iterations = f.iterations,
                                       .seconds = f.seconds};
            s->created_ms = f.created_ms;
            k++;
        }
        fm_store_fit_fini(&f);
    }
    return k;
}

size_t fm_fitsched_count(const fm_fitsched_t *fs)
{
    return fs->njobs;
}

const fm_fitsched_job_t *fm_fitsched_get(const fm_fitsched_t *fs, size_t i)
{
    return i < fs->njobs ? &fs->jobs[i] : NULL;
}

const fm_fitsched_job_t *fm_fitsched_find(const fm_fitsched_t *fs, const char *name)
{
    return find(fs, name);
}

unsigned fm_fitsched_running(const fm_fitsched_t *fs)
{
    unsigned k = 0;
    for (size_t i = 0; i < fs->njobs; i++) {
        k += fs->jobs[i].running;
    }
    return k;
}

unsigned fm_fitsched_inflight(const fm_fitsched_t *fs)
{
    return fs->inflight;
}

void fm_fitsched_set_parallel(fm_fitsched_t *fs, unsigned n)
{
    fs->parallel = n > 0 ? n : 1;
    dispatch(fs);
}

static void on_timer_closed(uv_handle_t *h)
{
    fm_fitsched_t *fs = h->data;
    fs->timer_closed = true;
    maybe_stopped(fs);
}

void fm_fitsched_stop(fm_fitsched_t *fs, void (*done)(void *arg), void *arg)
{
    if (fs->stopping) {
        return;
    }
    fs->stopping = true;
    for (size_t i = 0; i < fs->njobs; i++) {
        if (fs->jobs[i].queued) { /* never started: nothing to wait for */
            fs->jobs[i].queued = fs->jobs[i].running = false;
        }
    }
    fs->stop_done = done;
    fs->stop_arg = arg;
    uv_close((uv_handle_t *)&fs->timer, on_timer_closed);
}

void fm_fitsched_free(fm_fitsched_t *fs)
{
    if (fs) {
        free_jobs(fs->jobs, fs->njobs);
        free(fs);
    }
}
