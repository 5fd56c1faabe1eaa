/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Background work of the daemon, each run in the libuv thread pool on copies: store commits
 * (histogram deltas, window closes, fit results, counters), mixture fits and exports.  The loop
 * thread hands a job everything it needs and applies the result in the after-work callback;
 * jobs never log and never touch daemon state.  At most one store job runs at a time, so the
 * SQLite handle has one user.  A failed commit gives its deltas back to be retried: nothing
 * the daemon counted is lost while it keeps running.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "daemon_int.h"
#include "export.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/time.h"

#define PRUNE_EVERY 360 /* commits between retention prunes (an hour at 10 s) */

typedef struct {
    uv_work_t req;
    fm_daemon_t *d;
    fm__pending_win_t *wins;
    fm__pending_fit_t *fits;
    void *kafka_mark;          /* [input.kafka] positions to commit once this job succeeded */
    fm_store_mark_t *marks;    /* [input.kafka] high-water marks, each in its window's commit */
    size_t nmarks;
    fm_store_mark_t *win_marks; /* scratch: the marks of one window */
    fm_store_counter_t counters[8];
    size_t ncounters;
    uint64_t prune_before_ms;
    int rc;
    char err[256];
    double seconds;
} commit_job_t;

fm_histset_t *fm__daemon_win_delta(fm_daemon_t *d, uint64_t start_ms)
{
    fm__pending_win_t **pp = &d->pending_wins;
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->start_ms == start_ms) {
            return (*pp)->delta;
        }
    }
    fm__pending_win_t *w = fm_xcalloc(1, sizeof(*w));
    w->start_ms = start_ms;
    w->end_ms = start_ms + d->cfg->window_ms;
    if (fm_histset_new((unsigned)d->cfg->bin_exp, &w->delta) < 0) {
        abort(); /* a few KiB: out of memory here is fatal like any fm_x* allocation */
    }
    *pp = w;
    return w->delta;
}

/* The [input.kafka] marks of one window go into that window's transaction. */
static void stage_marks(fm_store_t *s, commit_job_t *j, uint64_t start_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < j->nmarks; i++) {
        if (j->marks[i].window_start_ms == start_ms) {
            j->win_marks[n++] = j->marks[i];
        }
    }
    fm_store_stage_marks(s, j->win_marks, n);
}

static void commit_work(uv_work_t *req)
{
    commit_job_t *j = req->data;
    fm_store_t *s = j->d->store;
    uint64_t t0 = fm_time_mono_ns();

    j->rc = 0;
    /* One transaction per window, adding its delta to the window and to the running total:
     * every finished flow is in exactly one window delta, so the total needs no delta of its
     * own (one histogram update less per flow on the receive path), and a window that fails
     * after others were written is retried alone without counting the total twice. */
    for (fm__pending_win_t *w = j->wins; w && j->rc == 0; w = w->next) {
        stage_marks(s, j, w->start_ms);
        j->rc = fm_store_commit(s, w->delta, w->start_ms, w->end_ms, w->delta, j->counters,
                                j->ncounters, j->err, sizeof(j->err));
        if (j->rc == 0) {
            fm_histset_clear(w->delta);
            if (w->closed && (j->rc = fm_store_close_window(s, w->start_ms, w->end_ms)) < 0) {
                snprintf(j->err, sizeof(j->err), "closing window: %s", fm_store_errmsg(s));
            }
        }
    }
    if (j->rc == 0 && !j->wins) { /* nothing finished since the last commit: counters only */
        j->rc = fm_store_commit(s, NULL, 0, 0, NULL, j->counters, j->ncounters, j->err,
                                sizeof(j->err));
    }
    for (fm__pending_fit_t *f = j->fits; f && j->rc == 0; f = f->next) {
        j->rc = fm_store_save_fit(s, f->window_start_ms, f->job, f->created_ms, f->json,
                                  f->loglik, f->iterations, f->seconds);
        if (j->rc < 0) {
            snprintf(j->err, sizeof(j->err), "saving fit %s: %s", f->job, fm_store_errmsg(s));
        } else {
            free(f->job); /* written: mark as done */
            f->job = NULL;
        }
    }
    if (j->rc == 0 && j->prune_before_ms) {
        int pr = fm_store_prune(s, j->prune_before_ms);
        j->rc = pr < 0 ? pr : 0;
        if (pr < 0) {
            snprintf(j->err, sizeof(j->err), "pruning old windows: %s", fm_store_errmsg(s));
        }
    }
    j->seconds = (double)(fm_time_mono_ns() - t0) / 1e9;
}

/* Give what a failed job did not write back to the daemon, merged with what arrived since. */
static void return_deltas(fm_daemon_t *d, commit_job_t *j)
{
    for (fm__pending_win_t *w = j->wins, *next; w; w = next) {
        next = w->next;
        fm_histset_t *cur = fm__daemon_win_delta(d, w->start_ms);
        fm_histset_merge(cur, w->delta);
        for (fm__pending_win_t *x = d->pending_wins; x; x = x->next) {
            if (x->start_ms == w->start_ms) {
                x->closed = x->closed || w->closed;
                x->end_ms = w->end_ms;
            }
        }
        fm_histset_free(w->delta);
        free(w);
    }
    fm__pending_fit_t **tail = &d->pending_fits;
    while (*tail) {
        tail = &(*tail)->next;
    }
    for (fm__pending_fit_t *f = j->fits, *next; f; f = next) {
        next = f->next;
        if (f->job) {
            f->next = NULL;
            *tail = f;
            tail = &f->next;
        } else {
            free(f->json);
            free(f);
        }
    }
}

static void free_job_lists(commit_job_t *j)
{
    for (fm__pending_win_t *w = j->wins, *next; w; w = next) {
        next = w->next;
        fm_histset_free(w->delta);
        free(w);
    }
    for (fm__pending_fit_t *f = j->fits, *next; f; f = next) {
        next = f->next;
        free(f->job);
        free(f->json);
        free(f);
    }
}

static void commit_after(uv_work_t *req, int status)
{
    commit_job_t *j = req->data;
    fm_daemon_t *d = j->d;

    d->store_busy = false;
    if (status == 0 && j->rc == 0) {
        d->commits++;
        d->last_commit_ms = fm_time_wall_ms();
        d->last_commit_seconds = j->seconds;
        if (d->store_failing) {
            fm_log_notice("store, commits to %s succeed again", d->cfg->store_path);
        }
        d->store_failing = false;
        fm__daemon_kafka_durable(d, j->marks, j->nmarks);
        fm__daemon_kafka_commit(d, j->kafka_mark, true);
        free_job_lists(j);
    } else {
        d->commit_failures++;
        d->store_failing = true;
        snprintf(d->store_error, sizeof(d->store_error), "%s",
                 j->err[0] ? j->err : fm_strerror(j->rc));
        fm_log_rl(&d->rl_store, LOG_ERR, "store, commit to %s failed, keeping the data in "
                  "memory and retrying: %s", d->cfg->store_path, d->store_error);
        return_deltas(d, j);
        fm__daemon_kafka_commit(d, j->kafka_mark, false); /* retried with the next mark */
        if (d->stopping) {
            fm_log_err("store, final commit failed: statistics since the last successful "
                       "commit (%" PRIu64 " ms ago) are not saved",
                       fm_time_wall_ms() - d->last_commit_ms);
        }
    }
    free(j->marks);
    free(j->win_marks);
    free(j);
}

static void fill_counters(fm_daemon_t *d, commit_job_t *j)
{
    fm_cache_stats_t cs;
    fm_ingest_stats_t is = {0};

    fm_cache_stats(d->cache, &cs);
    if (d->ingest) {
        fm_ingest_stats(d->ingest, &is);
    }
    const struct { const char *name; uint64_t v; } c[] = {
        {"records", d->records_in},         {"flows_finished", d->flows_finished},
        {"datagrams", is.datagrams},        {"malformed", is.malformed},
        {"cache_evicted", cs.evicted},      {"merges", cs.merges},
        {"biflow_pairs", cs.biflow_pairs},  {"merge_conflicts", cs.merge_conflicts},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        j->counters[i].name = c[i].name;
        j->counters[i].value = c[i].v;
    }
    j->ncounters = sizeof(c) / sizeof(c[0]);
}

void fm__daemon_commit(fm_daemon_t *d)
{
    commit_job_t *j;

    if (d->store_busy || !d->store || fm__daemon_kafka_busy(d)) {
        return; /* the running job (or part being added) is followed by the next timer tick */
    }
    j = fm_xcalloc(1, sizeof(*j));
    j->d = d;
    j->req.data = j;
    /* marks first: they may add (empty) pending windows the job must take */
    j->nmarks = fm__daemon_kafka_dirty(d, &j->marks);
    j->win_marks = j->nmarks ? fm_xcalloc(j->nmarks, sizeof(*j->win_marks)) : NULL;
    /* Hand the deltas over; the loop starts new ones and keeps counting while the job writes. */
    j->wins = d->pending_wins;
    d->pending_wins = NULL;
    j->fits = d->pending_fits;
    d->pending_fits = NULL;
    j->kafka_mark = fm__daemon_kafka_mark(d);
    fill_counters(d, j);
    if (d->cfg->retention_ms && d->commits % PRUNE_EVERY == 0) {
        j->prune_before_ms = fm_time_wall_ms() - d->cfg->retention_ms;
    }
    d->store_busy = true;
    uv_queue_work(&d->loop, &j->req, commit_work, commit_after);
}

/* ------------------------------------------------------------------------------------------ */
/* Fits */

typedef struct {
    uv_work_t req;
    fm_daemon_t *d;
    char *name;
    fm_hist_bin_t *bins;
    size_t n;
    fm_fit_opts_t opts;
    fm_mix_t *init;
    fm_mix_t *out;
    char *json;
    fm_fit_result_t res;
    int rc;
} fit_job_t;

void fm__daemon_fits_init(fm_daemon_t *d)
{
    d->nfits = d->cfg->nfits;
    d->fits = fm_xcalloc(d->nfits ? d->nfits : 1, sizeof(*d->fits));
    for (size_t i = 0; i < d->nfits; i++) {
        d->fits[i].job = d->cfg->fits[i];
        d->fits[i].job.name = fm_xstrdup(d->cfg->fits[i].name);
    }
}

void fm__daemon_fits_fini(fm_daemon_t *d)
{
    for (size_t i = 0; i < d->nfits; i++) {
        free(d->fits[i].job.name);
        fm_mix_free(d->fits[i].mix);
        free(d->fits[i].json);
    }
    free(d->fits);
    d->fits = NULL;
    d->nfits = 0;
}

static fm__fitstate_t *find_fit(fm_daemon_t *d, const char *name)
{
    for (size_t i = 0; i < d->nfits; i++) {
        if (!strcmp(d->fits[i].job.name, name)) {
            return &d->fits[i];
        }
    }
    return NULL;
}

static void fit_work(uv_work_t *req)
{
    fit_job_t *j = req->data;
    j->rc = fm_fit_run(j->bins, j->n, &j->opts, j->init, &j->out, &j->res);
    if (j->rc == 0) {
        j->json = fm_mix_to_json(j->out);
        if (!j->json) {
            j->rc = FM_ENOMEM;
        }
    }
}

static void fit_after(uv_work_t *req, int status)
{
    fit_job_t *j = req->data;
    fm_daemon_t *d = j->d;
    fm__fitstate_t *fs = find_fit(d, j->name);

    d->fits_running--;
    if (fs) {
        fs->running = false;
        fs->runs++;
    }
    if (status == 0 && j->rc == 0 && fs) {
        fm_mix_free(fs->mix);
        free(fs->json);
        fs->mix = j->out;
        fs->json = j->json;
        fs->res = j->res;
        fs->created_ms = fm_time_wall_ms();
        j->out = NULL;
        j->json = NULL;
        fm__pending_fit_t *p = fm_xcalloc(1, sizeof(*p));
        p->job = fm_xstrdup(j->name);
        p->created_ms = fs->created_ms;
        p->json = fm_xstrdup(fs->json);
        p->loglik = fs->res.loglik;
        p->iterations = fs->res.iterations;
        p->seconds = fs->res.seconds;
        p->next = d->pending_fits;
        d->pending_fits = p;
        fm_log_info("fit, job %s: log-likelihood %.6f after %u iterations, %.3f s", j->name,
                    j->res.loglik, j->res.iterations, j->res.seconds);
    } else if (fs) {
        fs->failures++;
        fm_log_warn("fit, job %s failed: %s", j->name,
                    status ? uv_strerror(status) : fm_strerror(j->rc));
    }
    fm_mix_free(j->init);
    fm_mix_free(j->out);
    free(j->json);
    free(j->bins);
    free(j->name);
    free(j);
}

static int start_fit(fm_daemon_t *d, fm__fitstate_t *fs, char *err, size_t errlen)
{
    const fm_config_fit_t *job = &fs->job;
    const fm_hist_t *h = fm_histset_cget(fm_histwin_total(d->hw), job->cls, job->direction,
                                         job->metric);
    fit_job_t *j;
    long n;

    if (fs->running) {
        snprintf(err, errlen, "job %s is already running", job->name);
        return FM_EBUSY;
    }
    j = fm_xcalloc(1, sizeof(*j));
    n = fm_hist_bins(h, &j->bins);
    if (n <= 1) {
        snprintf(err, errlen, "job %s: histogram %s/%s has %ld bins, nothing to fit yet",
                 job->name, fm_class_name(job->cls), fm_metric_name(job->metric), n < 0 ? 0 : n);
        free(j->bins);
        free(j);
        return FM_EAGAIN;
    }
    j->n = (size_t)n;
    j->d = d;
    j->req.data = j;
    j->name = fm_xstrdup(job->name);
    j->opts = (fm_fit_opts_t){.y = job->y, .U = job->U, .L = job->L, .P = job->P,
                              .max_iter = job->max_iter, .tol = job->tol};
    j->init = fs->mix ? fm_mix_clone(fs->mix) : NULL; /* warm start from the previous fit */
    fs->running = true;
    d->fits_running++;
    uv_queue_work(&d->loop, &j->req, fit_work, fit_after);
    return 0;
}

void fm__daemon_fit_all(fm_daemon_t *d)
{
    char err[256];
    for (size_t i = 0; i < d->nfits; i++) {
        int rc = start_fit(d, &d->fits[i], err, sizeof(err));
        if (rc < 0 && rc != FM_EAGAIN) {
            fm_log_info("fit, %s", err);
        }
    }
}

int fm__daemon_fit_one(fm_daemon_t *d, const char *job, char *err, size_t errlen)
{
    fm__fitstate_t *fs = find_fit(d, job);
    if (!fs) {
        snprintf(err, errlen, "no fit job named '%s'", job);
        return FM_ENOENT;
    }
    return start_fit(d, fs, err, errlen);
}

/* ------------------------------------------------------------------------------------------ */
/* Exports */

typedef struct {
    uv_work_t req;
    fm_daemon_t *d;
    fm_export_req_t ex;
    char path[512];
    char err[256];
    int rc;
} export_job_t;

static void export_work(uv_work_t *req)
{
    export_job_t *j = req->data;
    j->rc = fm_export_write(&j->ex, j->path, sizeof(j->path), j->err, sizeof(j->err));
}

static void export_after(uv_work_t *req, int status)
{
    export_job_t *j = req->data;
    fm_daemon_t *d = j->d;

    d->export_busy = false;
    if (status == 0 && j->rc == 0) {
        d->exports++;
        d->last_export_ms = fm_time_wall_ms();
        snprintf(d->last_export, sizeof(d->last_export), "%s", j->path);
        fm_log_info("export, wrote %s", j->path);
    } else {
        d->export_failures++;
        fm_log_err("export, snapshot in %s failed: %s", j->ex.dir,
                   status ? uv_strerror(status) : j->err);
    }
    fm_export_req_fini(&j->ex);
    free(j);
}

/* meta.json's facts known only here: oldest window, collector id, configuration digest. */
static void export_meta(fm_daemon_t *d, fm_export_req_t *ex)
{
    fm_store_window_t *w = NULL;
    size_t n = 0;
    char *text = NULL, digest[32];
    size_t len = 0;

    if (fm_store_list_windows(d->store, &w, &n) == 0 && n > 0) {
        ex->first_ms = w[0].start_ms; /* listed oldest first */
    }
    free(w);
    ex->collector_id = d->cfg->collector_id ? fm_xstrdup(d->cfg->collector_id) : NULL;
    FILE *f = open_memstream(&text, &len);
    if (f) {
        fm_config_print(d->cfg, f); /* the effective configuration, defaults included */
        fclose(f);
        snprintf(digest, sizeof(digest), "xxh3:%016llx",
                 (unsigned long long)XXH3_64bits(text, len));
        ex->config_digest = fm_xstrdup(digest);
    }
    free(text);
}

int fm__daemon_export(fm_daemon_t *d, char *err, size_t errlen)
{
    export_job_t *j;
    int rc;

    if (d->export_busy) {
        snprintf(err, errlen, "an export is already running");
        return FM_EBUSY;
    }
    uint64_t flows = 0, packets = 0, octets = 0;
    fm_hist_totals(fm_histset_get(fm_histwin_total(d->hw), FM_CLASS_ALL, FM_DIR_UNIFLOW,
                                  FM_METRIC_LENGTH), &flows, &packets, &octets);
    if (flows == 0) {
        /* A snapshot of nothing would only say nan: skip it, and say so. */
        snprintf(err, errlen, "no flows in the histograms yet: nothing to export");
        return FM_EAGAIN;
    }
    j = fm_xcalloc(1, sizeof(*j));
    j->d = d;
    j->req.data = j;
    j->ex.dir = fm_xstrdup(d->cfg->export_dir);
    j->ex.keep = d->cfg->export_keep;
    j->ex.plots = d->cfg->export_plots;
    j->ex.now_ms = fm_time_wall_ms();
    export_meta(d, &j->ex);
    if ((rc = fm_histset_clone(fm_histwin_total(d->hw), &j->ex.hist)) < 0) {
        snprintf(err, errlen, "cannot copy histograms: %s", fm_strerror(rc));
        free(j->ex.dir);
        free(j);
        return rc;
    }
    j->ex.fits = fm_xcalloc(d->nfits ? d->nfits : 1, sizeof(*j->ex.fits));
    for (size_t i = 0; i < d->nfits; i++) {
        const fm__fitstate_t *fs = &d->fits[i];
        if (!fs->json || fs->job.direction != FM_DIR_UNIFLOW) {
            continue;
        }
        fm_export_fit_t *f = &j->ex.fits[j->ex.nfits++];
        f->cls = fs->job.cls;
        f->metric = fs->job.metric;
        f->y = fs->job.y;
        f->U = fs->job.U;
        f->L = fs->job.L;
        f->P = fs->job.P;
        f->max_iter = fs->job.max_iter;
        f->json = fm_xstrdup(fs->json);
    }
    d->export_busy = true;
    uv_queue_work(&d->loop, &j->req, export_work, export_after);
    return 0;
}
