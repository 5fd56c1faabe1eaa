/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The exporter (exporter.h): a timer and at most one snapshot job, and the creation order of
 * the snapshots: read from the store by the job, recorded through the daemon's committer.
 */
#include "config.h"
#include "exporter.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/testhook.h"
#include "util/time.h"

struct fm_exporter {
    uv_loop_t *loop;
    uv_timer_t timer;
    char *dir;
    uint64_t keep, interval_ms;
    bool plots;
    fm_exporter_snapshot_fn snapshot;
    void *ctx;
    fm_exporter_stats_t st;
    char *store_path;          /* where the creation order is read; NULL: none */
    fm_exporter_created_fn created;
    char **recent;             /* snapshots written by this run, oldest first (≤ keep) */
    size_t nrecent;
    bool stopping, timer_closed;
    void (*stop_done)(void *arg);
    void *stop_arg;
};

typedef struct {
    uv_work_t req;
    fm_exporter_t *ex;
    fm_export_req_t r;
    char *store_path;
    char **recent;             /* copy of the exporter's at queue time */
    size_t nrecent;
    fm_exporter_done_fn done;
    void *arg;
    char path[512];
    char err[256];
    int rc;
} job_t;

static void set_conf(fm_exporter_t *ex, const fm_exporter_conf_t *conf)
{
    free(ex->dir);
    ex->dir = fm_xstrdup(conf->dir ? conf->dir : "");
    ex->keep = conf->keep;
    ex->plots = conf->plots;
    ex->interval_ms = conf->interval_ms;
}

int fm_exporter_new(uv_loop_t *loop, const fm_exporter_conf_t *conf,
                    fm_exporter_snapshot_fn snapshot, void *ctx, fm_exporter_t **out)
{
    int rc;
    if (!loop || !conf || !snapshot || !out) {
        return FM_EINVAL;
    }
    fm_exporter_t *ex = fm_xcalloc(1, sizeof(*ex));
    if ((rc = uv_timer_init(loop, &ex->timer)) < 0) {
        free(ex);
        return rc;
    }
    ex->timer.data = ex;
    ex->loop = loop;
    ex->snapshot = snapshot;
    ex->ctx = ctx;
    set_conf(ex, conf);
    *out = ex;
    return 0;
}

static void maybe_stopped(fm_exporter_t *ex)
{
    if (ex->stopping && ex->timer_closed && !ex->st.running && ex->stop_done) {
        void (*done)(void *) = ex->stop_done;
        ex->stop_done = NULL;
        done(ex->stop_arg);
    }
}

static bool listed(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(names[i], name)) {
            return true;
        }
    }
    return false;
}

/* The order to prune by: the store's record (earlier runs), then what this run wrote, which
 * the committer may not have stored yet.  Without a readable record only this run's. */
static void read_order(job_t *j)
{
    fm_store_t *s = NULL;
    char **stored = NULL, err[256];
    size_t n = 0;
    if (j->store_path && fm_store_open_readonly(j->store_path, &s, err, sizeof(err)) == 0) {
        fm_store_export_order(s, j->r.dir, &stored, &n);
        fm_store_close(s);
    }
    j->r.order = fm_xreallocarray(NULL, n + j->nrecent + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        if (!listed(j->recent, j->nrecent, stored[i])) {
            j->r.order[j->r.norder++] = fm_xstrdup(stored[i]);
        }
    }
    for (size_t i = 0; i < j->nrecent; i++) {
        j->r.order[j->r.norder++] = j->recent[i]; /* handed over */
    }
    free(j->recent);
    j->recent = NULL;
    j->nrecent = 0;
    fm_store_names_free(stored, n);
}

static void export_work(uv_work_t *req)
{
    job_t *j = req->data;
    fm_testhook_delay("export");
    read_order(j);
    j->rc = fm_export_write(&j->r, j->path, sizeof(j->path), j->err, sizeof(j->err));
}

/* Remember a snapshot of this run as its newest (at most keep: older ones are pruned). */
static void add_recent(fm_exporter_t *ex, const char *name, uint64_t keep)
{
    size_t w = 0;
    for (size_t i = 0; i < ex->nrecent; i++) {
        if (strcmp(ex->recent[i], name) && ex->nrecent - i < keep) {
            ex->recent[w++] = ex->recent[i];
        } else {
            free(ex->recent[i]);
        }
    }
    ex->recent = fm_xreallocarray(ex->recent, w + 1, sizeof(char *));
    ex->recent[w++] = fm_xstrdup(name);
    ex->nrecent = w;
}

static void job_free(job_t *j)
{
    fm_export_req_fini(&j->r);
    for (size_t i = 0; i < j->nrecent; i++) {
        free(j->recent[i]);
    }
    free(j->recent);
    free(j->store_path);
    free(j);
}

static void export_after(uv_work_t *req, int status)
{
    job_t *j = req->data;
    fm_exporter_t *ex = j->ex;

    ex->st.running = false;
    if (status < 0 && j->rc == 0) {
        j->rc = status;
        snprintf(j->err, sizeof(j->err), "%s", uv_strerror(status));
    }
    if (j->rc == 0) {
        const char *slash = strrchr(j->path, '/'), *name = slash ? slash + 1 : j->path;
        uint64_t keep = j->r.keep ? j->r.keep : 1;
        ex->st.exports++;
        ex->st.last_ms = fm_time_wall_ms();
        snprintf(ex->st.last, sizeof(ex->st.last), "%s", j->path);
        fm_log_info("export, wrote %s", j->path);
        add_recent(ex, name, keep);
        if (ex->created) {
            ex->created(ex->ctx, j->r.dir, name, j->r.now_ms, keep);
        }
    } else {
        ex->st.failures++;
        fm_log_err("export, snapshot in %s failed: %s", j->r.dir, j->err);
    }
    if (j->done) {
        j->done(j->arg, j->rc, j->rc == 0 ? j->path : j->err);
    }
    job_free(j);
    maybe_stopped(ex);
}

int fm_exporter_run(fm_exporter_t *ex, fm_exporter_done_fn done, void *arg, char *err,
                    size_t errlen)
{
    job_t *j;
    int rc;

    if (ex->stopping) {
        snprintf(err, errlen, "shutting down");
        return FM_EINVAL;
    }
    if (ex->st.running) {
        snprintf(err, errlen, "an export is already running");
        return FM_EBUSY;
    }
    j = fm_xcalloc(1, sizeof(*j));
    j->ex = ex;
    j->req.data = j;
    j->done = done;
    j->arg = arg;
    if ((rc = ex->snapshot(ex->ctx, &j->r, err, errlen)) < 0) {
        fm_export_req_fini(&j->r);
        free(j);
        return rc;
    }
    j->r.dir = fm_xstrdup(ex->dir);
    j->r.keep = ex->keep;
    j->r.plots = ex->plots;
    j->r.now_ms = fm_time_wall_ms();
    j->store_path = ex->store_path ? fm_xstrdup(ex->store_path) : NULL;
    j->recent = fm_xreallocarray(NULL, ex->nrecent + 1, sizeof(char *));
    for (size_t i = 0; i < ex->nrecent; i++) {
        j->recent[j->nrecent++] = fm_xstrdup(ex->recent[i]);
    }
    if ((rc = uv_queue_work(ex->loop, &j->req, export_work, export_after)) < 0) {
        snprintf(err, errlen, "cannot queue the export: %s", uv_strerror(rc));
        job_free(j);
        return rc;
    }
    ex->st.running = true;
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    fm_exporter_t *ex = t->data;
    char err[256];
    int rc = fm_exporter_run(ex, NULL, NULL, err, sizeof(err));
    if (rc == FM_EAGAIN) {
        fm_log_notice("export, scheduled snapshot skipped: %s", err);
    } else if (rc < 0) {
        fm_log_warn("export, scheduled export not started: %s", err);
    }
}

int fm_exporter_start(fm_exporter_t *ex)
{
    if (ex->stopping) {
        return FM_EINVAL;
    }
    if (!ex->interval_ms) {
        return uv_timer_stop(&ex->timer);
    }
    return uv_timer_start(&ex->timer, on_timer, ex->interval_ms, ex->interval_ms);
}

int fm_exporter_reconfigure(fm_exporter_t *ex, const fm_exporter_conf_t *conf)
{
    set_conf(ex, conf);
    return ex->stopping ? 0 : fm_exporter_start(ex);
}

static void on_timer_closed(uv_handle_t *h)
{
    fm_exporter_t *ex = h->data;
    ex->timer_closed = true;
    maybe_stopped(ex);
}

void fm_exporter_stop(fm_exporter_t *ex, void (*done)(void *arg), void *arg)
{
    if (ex->stopping) {
        return;
    }
    ex->stopping = true;
    ex->stop_done = done;
    ex->stop_arg = arg;
    uv_close((uv_handle_t *)&ex->timer, on_timer_closed);
}

void fm_exporter_set_order(fm_exporter_t *ex, const char *store_path,
                           fm_exporter_created_fn created)
{
    free(ex->store_path);
    ex->store_path = store_path ? fm_xstrdup(store_path) : NULL;
    ex->created = created;
}

void fm_exporter_free(fm_exporter_t *ex)
{
    if (ex) {
        for (size_t i = 0; i < ex->nrecent; i++) {
            free(ex->recent[i]);
        }
        free(ex->recent);
        free(ex->store_path);
        free(ex->dir);
        free(ex);
    }
}

void fm_exporter_stats(const fm_exporter_t *ex, fm_exporter_stats_t *out)
{
    *out = ex->st;
}
