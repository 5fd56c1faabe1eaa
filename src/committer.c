/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The committer (committer.h).  States: idle, a job in flight (busy), stopping (no timer, the
 * final commit still to run or running), stopped (final commit done and timer closed).  A
 * request that arrives while a job runs is held in `waiting` and served by the next job, which
 * starts as soon as the running one returns.  The job's work function is the only code that
 * runs off the loop thread, on its own copies and the store.
 */
#include "config.h"
#include "committer.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/testhook.h"
#include "util/time.h"

#define PRUNE_EVERY 360 /* commits between retention prunes (an hour at 10 s) */

typedef struct waiter {
    fm_committer_done_fn done;
    void *arg;
    struct waiter *next;
} waiter_t;

typedef struct pending_fit {
    char *job;                 /* NULL once written */
    uint64_t window_start_ms, created_ms;
    char *json;
    double loglik;
    unsigned iterations;
    double seconds;
    struct pending_fit *next;
} pending_fit_t;

/* An export snapshot to record (fm_store_record_export), in creation order. */
typedef struct pending_export {
    char *dir, *name;          /* name NULL once written */
    uint64_t created_ms, keep;
    struct pending_export *next;
} pending_export_t;

typedef struct job {
    uv_work_t req;
    fm_committer_t *c;
    fm_windelta_win_t *wins;
    pending_fit_t *fits;
    pending_export_t *exports;
    void *mark;
    fm_store_mark_t *marks;    /* store marks, each written with its window */
    size_t nmarks;
    fm_store_mark_t *win_marks; /* scratch: the marks of one window */
    fm_store_counter_t counters[FM_COMMITTER_MAX_COUNTERS];
    size_t ncounters;
    uint64_t prune_before_ms;
    waiter_t *waiters;
    bool final;
    int rc;
    char err[256];
    double seconds;
} job_t;

struct fm_committer {
    uv_loop_t *loop;
    fm_store_t *store;
    fm_windelta_t *wd;
    fm_committer_conf_t conf;
    fm_committer_hooks_t hooks;
    uv_timer_t timer;
    pending_fit_t *fits;       /* queued for the next job, newest first */
    pending_export_t *exports; /* queued for the next job, oldest first */
    waiter_t *waiting;         /* requests the next job serves */
    job_t *job;                /* in flight, or NULL */
    bool stopping, final_started, final_done, timer_closed;
    int final_rc;
    fm_committer_done_fn stop_done;
    void *stop_arg;
    fm_committer_stats_t st;
    fm_ratelimit_t rl;
};

static void start_job(fm_committer_t *c, bool final);

static bool is_busy(fm_committer_t *c)
{
    return c->hooks.busy && c->hooks.busy(c->hooks.ctx);
}

int fm_committer_new(uv_loop_t *loop, fm_store_t *store, fm_windelta_t *wd,
                     const fm_committer_conf_t *conf, const fm_committer_hooks_t *hooks,
                     fm_committer_t **out)
{
    int rc;
    if (!loop || !store || !wd || !conf || !out) {
        return FM_EINVAL;
    }
    fm_committer_t *c = fm_xcalloc(1, sizeof(*c));
    if ((rc = uv_timer_init(loop, &c->timer)) < 0) {
        free(c);
        return rc;
    }
    c->loop = loop;
    c->store = store;
    c->wd = wd;
    c->conf = *conf;
    if (hooks) {
        c->hooks = *hooks;
    }
    c->timer.data = c;
    fm_ratelimit_init(&c->rl, 3, 60000);
    *out = c;
    return 0;
}

/* ---- the job ------------------------------------------------------------------------------ */

static void write_fits(job_t *j, fm_store_t *s)
{
    for (pending_fit_t *f = j->fits; f && j->rc == 0; f = f->next) {
        if (!f->job) {
            continue;
        }
        j->rc = fm_store_save_fit(s, f->window_start_ms, f->job, f->created_ms, f->json,
                                  f->loglik, f->iterations, f->seconds);
        if (j->rc < 0) {
            snprintf(j->err, sizeof(j->err), "saving fit %s: %s", f->job, fm_store_errmsg(s));
        } else {
            free(f->job); /* written: not given back on a later failure */
            f->job = NULL;
        }
    }
}

static void write_exports(job_t *j, fm_store_t *s)
{
    for (pending_export_t *e = j->exports; e && j->rc == 0; e = e->next) {
        if (!e->name) {
            continue;
        }
        j->rc = fm_store_record_export(s, e->dir, e->name, e->created_ms, e->keep);
        if (j->rc < 0) {
            snprintf(j->err, sizeof(j->err), "recording export %s: %s", e->name,
                     fm_store_errmsg(s));
        } else {
            free(e->name);
            e->name = NULL;
        }
    }
}

/* The marks of one window go into that window's transaction. */
static void stage_marks(fm_store_t *s, job_t *j, uint64_t start_ms)
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
    job_t *j = req->data;
    fm_store_t *s = j->c->store;
    uint64_t t0 = fm_time_mono_ns();

    fm_testhook_delay("commit");
    j->rc = 0;
    /* One transaction per window, adding its delta to the window and to the running total:
     * every finished flow is in exactly one window delta, so the total needs no delta of its
     * own, and a window that fails after others were written is retried alone without
     * counting the total twice. */
    for (fm_windelta_win_t *w = j->wins; w && j->rc == 0; w = w->next) {
        stage_marks(s, j, w->start_ms);
        j->rc = fm_store_commit(s, w->delta, w->start_ms, w->end_ms, w->delta, j->counters,
                                j->ncounters, j->err, sizeof(j->err));
        if (j->rc == 0) {
            fm_histset_clear(w->delta);
            if (w->closed && (j->rc = fm_store_close_window(s, w->start_ms, w->end_ms)) < 0) {
                snprintf(j->err, sizeof(j->err), "closing window: %s", fm_store_errmsg(s));
            }
            w->closed = false;
        }
    }
    if (j->rc == 0 && !j->wins) { /* nothing finished since the last commit: counters only */
        j->rc = fm_store_commit(s, NULL, 0, 0, NULL, j->counters, j->ncounters, j->err,
                                sizeof(j->err));
    }
    write_fits(j, s);
    write_exports(j, s);
    if (j->rc == 0 && j->prune_before_ms) {
        int pr = fm_store_prune(s, j->prune_before_ms);
        j->rc = pr < 0 ? pr : 0;
        if (pr < 0) {
            snprintf(j->err, sizeof(j->err), "pruning old windows: %s", fm_store_errmsg(s));
        }
    }
    j->seconds = (double)(fm_time_mono_ns() - t0) / 1e9;
}

static void free_fits(pending_fit_t *f)
{
    while (f) {
        pending_fit_t *next = f->next;
        free(f->job);
        free(f->json);
        free(f);
        f = next;
    }
}

/* A failed job's unwritten fits go back in front of the queue, as they are older. */
static void give_back_fits(fm_committer_t *c, pending_fit_t *list)
{
    pending_fit_t **tail = &c->fits;
    while (*tail) {
        tail = &(*tail)->next;
    }
    while (list) {
        pending_fit_t *f = list;
        list = f->next;
        f->next = NULL;
        if (f->job) {
            *tail = f;
            tail = &f->next;
        } else {
            free_fits(f);
        }
    }
}

static void free_exports(pending_export_t *e)
{
    while (e) {
        pending_export_t *next = e->next;
        free(e->dir);
        free(e->name);
        free(e);
        e = next;
    }
}

/* A failed job's unrecorded exports go back in front of the queue: they are older. */
static void give_back_exports(fm_committer_t *c, pending_export_t *list)
{
    pending_export_t **pp = &list;
    while (*pp) {
        pending_export_t *e = *pp;
        if (e->name) {
            pp = &e->next;
        } else {
            *pp = e->next;
            e->next = NULL;
            free_exports(e);
        }
    }
    *pp = c->exports;
    c->exports = list;
}

static void record_result(fm_committer_t *c, job_t *j)
{
    if (j->rc == 0) {
        c->st.commits++;
        c->st.last_commit_ms = fm_time_wall_ms();
        c->st.last_seconds = j->seconds;
        if (c->st.failing) {
            fm_log_notice("store, commits succeed again");
        }
        c->st.failing = false;
        fm_windelta_list_free(j->wins);
        free_fits(j->fits);
        free_exports(j->exports);
        return;
    }
    c->st.failures++;
    c->st.failing = true;
    snprintf(c->st.error, sizeof(c->st.error), "%s", j->err[0] ? j->err : fm_strerror(j->rc));
    fm_windelta_give_back(c->wd, j->wins);
    give_back_fits(c, j->fits);
    give_back_exports(c, j->exports);
    if (j->final) {
        fm_log_err("store, final commit failed: statistics since the last successful commit "
                   "are not saved: %s", c->st.error);
    } else {
        fm_log_rl(&c->rl, LOG_ERR, "store, commit failed, keeping the data in memory and "
                  "retrying: %s", c->st.error);
    }
}

static void maybe_stopped(fm_committer_t *c)
{
    if (c->final_done && c->timer_closed && c->stop_done) {
        fm_committer_done_fn done = c->stop_done;
        c->stop_done = NULL;
        done(c->stop_arg, c->final_rc);
    }
}

static void finish_job(fm_committer_t *c, job_t *j)
{
    waiter_t *w = j->waiters;
    c->job = NULL;
    c->st.busy = false;
    if (j->rc == 0 && c->hooks.durable && j->nmarks) {
        c->hooks.durable(c->hooks.ctx, j->marks, j->nmarks);
    }
    if (c->hooks.confirm) {
        c->hooks.confirm(c->hooks.ctx, j->mark, j->rc == 0, j->final);
    }
    free(j->marks);
    free(j->win_marks);
    record_result(c, j);
    if (j->final) {
        c->final_done = true;
        c->final_rc = j->rc;
    }
    while (w) {
        waiter_t *next = w->next;
        if (w->done) {
            w->done(w->arg, j->rc);
        }
        free(w);
        w = next;
    }
    free(j);
    /* Requests made while the job ran, then the final commit once the last of them is done. */
    if (c->waiting && !c->final_started && (c->stopping || !is_busy(c))) {
        start_job(c, false);
    } else if (c->stopping && !c->final_started) {
        start_job(c, true);
    }
    maybe_stopped(c);
}

static void commit_after(uv_work_t *req, int status)
{
    job_t *j = req->data;
    if (status < 0 && j->rc == 0) {
        j->rc = status; /* cancelled: nothing was written */
        snprintf(j->err, sizeof(j->err), "%s", uv_strerror(status));
    }
    finish_job(j->c, j);
}

static void start_job(fm_committer_t *c, bool final)
{
    job_t *j = fm_xcalloc(1, sizeof(*j));
    int rc;

    j->c = c;
    j->req.data = j;
    j->final = final;
    if (final) {
        c->final_started = true;
    }
    if (c->hooks.sync) {
        c->hooks.sync(c->hooks.ctx);
    }
    /* Marks first: they may keep (empty) pending windows the job must take. */
    if (c->hooks.marks) {
        j->nmarks = c->hooks.marks(c->hooks.ctx, &j->marks);
        j->win_marks = j->nmarks ? fm_xcalloc(j->nmarks, sizeof(*j->win_marks)) : NULL;
    }
    /* Hand the deltas over; the loop starts new ones and keeps counting while the job writes. */
    j->wins = fm_windelta_take(c->wd);
    j->fits = c->fits;
    c->fits = NULL;
    j->exports = c->exports;
    c->exports = NULL;
    j->waiters = c->waiting;
    c->waiting = NULL;
    j->mark = c->hooks.mark ? c->hooks.mark(c->hooks.ctx) : NULL;
    if (c->hooks.counters) {
        j->ncounters = c->hooks.counters(c->hooks.ctx, j->counters, FM_COMMITTER_MAX_COUNTERS);
    }
    if (c->conf.retention_ms && c->st.commits % PRUNE_EVERY == 0) {
        j->prune_before_ms = fm_time_wall_ms() - c->conf.retention_ms;
    }
    c->job = j;
    c->st.busy = true;
    if ((rc = uv_queue_work(c->loop, &j->req, commit_work, commit_after)) < 0) {
        /* Never queued: fail it now, as a commit that wrote nothing (its data is kept). */
        j->rc = rc;
        snprintf(j->err, sizeof(j->err), "cannot queue the commit: %s", uv_strerror(rc));
        finish_job(c, j);
    }
}

/* ---- loop side ---------------------------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
    fm_committer_t *c = t->data;
    if (c->hooks.tick) {
        c->hooks.tick(c->hooks.ctx);
    }
    if (!c->job && !c->stopping && !is_busy(c)) {
        start_job(c, false);
    }
}

int fm_committer_start(fm_committer_t *c)
{
    if (c->stopping) {
        return FM_EINVAL;
    }
    if (!c->conf.interval_ms) {
        return uv_timer_stop(&c->timer);
    }
    return uv_timer_start(&c->timer, on_timer, c->conf.interval_ms, c->conf.interval_ms);
}

int fm_committer_reconfigure(fm_committer_t *c, const fm_committer_conf_t *conf)
{
    c->conf = *conf;
    return c->stopping ? 0 : fm_committer_start(c);
}

int fm_committer_commit(fm_committer_t *c, fm_committer_done_fn done, void *arg)
{
    if (c->stopping) {
        return FM_EBUSY;
    }
    waiter_t *w = fm_xcalloc(1, sizeof(*w)), **tail = &c->waiting;
    w->done = done;
    w->arg = arg;
    while (*tail) {
        tail = &(*tail)->next;
    }
    *tail = w;
    if (!c->job && !is_busy(c)) {
        start_job(c, false); /* else the next interval (or job) serves it */
    }
    return 0;
}

void fm_committer_add_fit(fm_committer_t *c, const char *job, uint64_t window_start_ms,
                          uint64_t created_ms, const char *json, double loglik,
                          unsigned iterations, double seconds)
{
    pending_fit_t *f = fm_xcalloc(1, sizeof(*f));
    f->job = fm_xstrdup(job);
    f->json = fm_xstrdup(json);
    f->window_start_ms = window_start_ms;
    f->created_ms = created_ms;
    f->loglik = loglik;
    f->iterations = iterations;
    f->seconds = seconds;
    f->next = c->fits;
    c->fits = f;
}

void fm_committer_add_export(fm_committer_t *c, const char *dir, const char *name,
                             uint64_t created_ms, uint64_t keep)
{
    pending_export_t *e = fm_xcalloc(1, sizeof(*e)), **tail = &c->exports;
    e->dir = fm_xstrdup(dir);
    e->name = fm_xstrdup(name);
    e->created_ms = created_ms;
    e->keep = keep ? keep : 1;
    while (*tail) {
        tail = &(*tail)->next;
    }
    *tail = e;
}

static void on_timer_closed(uv_handle_t *h)
{
    fm_committer_t *c = h->data;
    c->timer_closed = true;
    maybe_stopped(c);
}

void fm_committer_stop(fm_committer_t *c, fm_committer_done_fn done, void *arg)
{
    if (c->stopping) {
        return;
    }
    c->stopping = true;
    c->stop_done = done;
    c->stop_arg = arg;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
    if (!c->job) {
        start_job(c, true); /* else finish_job starts it after the job in flight */
    }
}

void fm_committer_free(fm_committer_t *c)
{
    if (!c) {
        return;
    }
    free_fits(c->fits);
    free_exports(c->exports);
    while (c->waiting) {
        waiter_t *w = c->waiting;
        c->waiting = w->next;
        free(w);
    }
    fm_store_close(c->store);
    free(c);
}

void fm_committer_stats(const fm_committer_t *c, fm_committer_stats_t *out)
{
    *out = c->st;
}
