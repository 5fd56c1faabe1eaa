/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's control commands: each handler turns daemon state into a JSON result for the
 * control socket (src/ctl.c does the transport, src/ctl_proto.c the table and wire format).
 * Handlers run on the loop thread and only read state, except the mutating ones the table marks.
 */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_ctl.h"
#include "daemon_int.h"
#include "daemon_metrics.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/time.h"

#define HANDLER(name) \
    static int name(void *ctx, const json_t *req, json_t **result, char *err, size_t errlen)

HANDLER(cmd_status)
{
    (void)req, (void)err, (void)errlen;
    *result = fm__daemon_status_json(ctx);
    return *result ? 0 : FM_ENOMEM;
}

HANDLER(cmd_exporters)
{
    (void)req, (void)err, (void)errlen;
    *result = fm__daemon_exporters_json(ctx);
    return 0;
}

static const char *str_arg(const json_t *req, const char *key, const char *def)
{
    const char *v = json_string_value(json_object_get(req, key));
    return v ? v : def;
}

/* Resolve class/metric/direction arguments, with a clear error for a bad one. */
static int hist_args(const json_t *req, int *cls, int *metric, int *dir, char *err, size_t len)
{
    const char *c = str_arg(req, "class", "all"), *m = str_arg(req, "metric", "length"),
               *r = str_arg(req, "direction", "uniflow");
    *cls = fm_class_parse(c);
    *metric = fm_metric_parse(m);
    *dir = fm_dir_parse(r);
    if (*cls < 0 || *metric < 0 || *dir < 0) {
        snprintf(err, len, "bad argument: class must be all|tcp|udp|other, metric "
                           "length|size|duration, direction uniflow|biflow");
        return FM_EINVAL;
    }
    return 0;
}

static json_t *bins_json(const fm_hist_bin_t *b, size_t n, uint64_t tot[3])
{
    json_t *arr = json_array();
    tot[0] = tot[1] = tot[2] = 0;
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, json_pack("[IIIII]", (json_int_t)b[i].lo, (json_int_t)b[i].hi,
                                             (json_int_t)b[i].flows, (json_int_t)b[i].packets,
                                             (json_int_t)b[i].octets));
        tot[0] += b[i].flows;
        tot[1] += b[i].packets;
        tot[2] += b[i].octets;
    }
    return arr;
}

/* ---- store reads: off the loop, on the read-only connection, one at a time -------------- */

/* Reads of the database (`windows`, `hist --window START`) run in the thread pool on the
 * read-only WAL connection, so they never wait for the committer nor block the loop; a FIFO
 * keeps one job per connection at a time.  Replies are deferred until the read is done. */
typedef struct read_job {
    uv_work_t req;
    fm__ctlcmd_t *q;
    fm_ctl_reply_t *reply;
    bool windows;              /* else hist bins of one window */
    int cls, metric, dir;
    char win[80];              /* the window as named in the request */
    long back;                 /* parse_window: N-th newest, or 0: by time t */
    uint64_t t, start;
    uint64_t window_s, bin_exp;
    fm_store_window_t *w;
    fm_hist_bin_t *bins;
    size_t n;
    int rc;
    char err[256];
    struct read_job *next;
} read_job_t;

struct fm__ctlcmd {
    fm_daemon_t *d;
    fm__dmetrics_t *metrics;   /* [metrics], NULL when off */
    unsigned stopping;         /* stop callbacks outstanding (ctl socket, metrics) */
    void (*stop_done)(void *arg);
    void *stop_arg;
    fm_store_t *reader;        /* owned */
    read_job_t *head, *tail;   /* queued; head runs when running is set */
    bool running;
};

/* Parse a window name on the loop: `latest` (back 1), `-N` (back N), an ISO-8601 time or a
 * start in epoch ms (back 0, *t).  @return 0 or FM_EINVAL with the message in err. */
static int parse_window(const char *win, long *back, uint64_t *t, char *err, size_t errlen)
{
    char *end;
    *back = 0;
    *t = 0;
    if (!strcmp(win, "latest")) {
        *back = 1;
    } else if (win[0] == '-') {
        errno = 0;
        *back = strtol(win + 1, &end, 10);
        if (*end || end == win + 1 || !isdigit((unsigned char)win[1]) || errno || *back < 1) {
            *back = -1;
        }
    } else if (fm_time_parse_iso(win, t) < 0) {
        /* digits only and below 2^63 (the store's total row is -1: never a window) */
        errno = 0;
        *t = strtoull(win, &end, 10);
        if (*end || end == win || !isdigit((unsigned char)*win) || errno ||
            *t > (uint64_t)INT64_MAX) {
            *back = -1;
        }
    }
    if (*back < 0) {
        snprintf(err, errlen, "window must be total, current, latest, -N (N-th newest), an "
                              "ISO-8601 time such as 2026-11-30T17:00Z or a start in ms; "
                              "got '%.64s'", win);
        return FM_EINVAL;
    }
    return 0;
}

/* In the job: the stored window a parsed name means (listed oldest first). */
static int resolve_window(read_job_t *j, const fm_store_window_t *w, size_t n)
{
    char iso[FM_TIME_ISO_LEN], a[FM_TIME_ISO_LEN], b[FM_TIME_ISO_LEN];
    if (j->back > 0 && (size_t)j->back <= n) {
        j->start = w[n - (size_t)j->back].start_ms;
        return 0;
    }
    for (size_t i = 0; j->back == 0 && i < n; i++) {
        if (w[i].start_ms == j->t) {
            j->start = j->t;
            return 0;
        }
    }
    for (size_t i = 0; j->back == 0 && i < n; i++) {
        if (w[i].start_ms <= j->t && j->t < w[i].end_ms) {
            j->start = w[i].start_ms;
            return 0;
        }
    }
    if (n == 0) {
        snprintf(j->err, sizeof(j->err),
                 "no windows stored yet (the first is written at the first commit)");
    } else if (j->back > 0) {
        snprintf(j->err, sizeof(j->err), "no window %s: only %zu stored", j->win, n);
    } else {
        snprintf(j->err, sizeof(j->err), "no window starting at %s; stored windows start from "
                 "%s to %s (see 'flowmixctl windows')", fm_time_format_iso(iso, sizeof(iso), j->t),
                 fm_time_format_iso(a, sizeof(a), w[0].start_ms),
                 fm_time_format_iso(b, sizeof(b), w[n - 1].start_ms));
    }
    return FM_ENOENT;
}

static void read_work(uv_work_t *req)
{
    read_job_t *j = req->data;
    fm_store_t *s = j->q->reader;
    char iso[FM_TIME_ISO_LEN];

    j->rc = fm_store_list_windows(s, &j->w, &j->n);
    if (j->rc < 0) {
        snprintf(j->err, sizeof(j->err), "cannot list windows: %s", fm_strerror(j->rc));
        return;
    }
    if (j->windows || (j->rc = resolve_window(j, j->w, j->n)) < 0) {
        return;
    }
    j->rc = fm_store_hist_bins(s, (int64_t)j->start, j->cls, j->dir, j->metric, &j->bins, &j->n);
    if (j->rc < 0) {
        snprintf(j->err, sizeof(j->err), "cannot read the window starting at %s: %s",
                 fm_time_format_iso(iso, sizeof(iso), j->start), fm_strerror(j->rc));
    }
}

static json_t *windows_result(read_job_t *j)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < j->n; i++) {
        json_array_append_new(arr, json_pack("{sI sI sb sI}", "start_ms",
                                             (json_int_t)j->w[i].start_ms, "end_ms",
                                             (json_int_t)j->w[i].end_ms, "closed", j->w[i].closed,
                                             "flows", (json_int_t)j->w[i].flows));
    }
    return json_pack("{so sI sI}", "windows", arr, "window_s", (json_int_t)j->window_s, "now_ms",
                     (json_int_t)fm_time_wall_ms());
}

static json_t *bins_json(const fm_hist_bin_t *b, size_t n, uint64_t tot[3]);

static json_t *hist_result(int cls, int metric, int dir, const char *win, uint64_t start,
                           uint64_t bin_exp, const fm_hist_bin_t *bins, size_t n)
{
    uint64_t tot[3];
    json_t *arr = bins_json(bins, n, tot);
    return json_pack("{ss ss ss ss sI sI so sI sI sI}", "class", fm_class_name(cls), "metric",
                     fm_metric_name(metric), "direction", fm_dir_name(dir), "window", win,
                     "window_start_ms", (json_int_t)start, "bin_exp", (json_int_t)bin_exp,
                     "bins", arr, "flows", (json_int_t)tot[0], "packets", (json_int_t)tot[1],
                     "octets", (json_int_t)tot[2]);
}

static void read_next(fm__ctlcmd_t *q);

static void read_after(uv_work_t *req, int status)
{
    read_job_t *j = req->data;
    fm__ctlcmd_t *q = j->q;

    if (status < 0 && j->rc == 0) {
        j->rc = status;
        snprintf(j->err, sizeof(j->err), "%s", uv_strerror(status));
    }
    if (j->rc < 0) {
        fm_ctl_reply_finish(j->reply, j->rc, NULL, j->err);
    } else if (j->windows) {
        fm_ctl_reply_finish(j->reply, 0, windows_result(j), NULL);
    } else {
        fm_ctl_reply_finish(j->reply, 0, hist_result(j->cls, j->metric, j->dir, j->win, j->start,
                                                     j->bin_exp, j->bins, j->n), NULL);
    }
    q->head = j->next;
    if (!q->head) {
        q->tail = NULL;
    }
    q->running = false;
    free(j->w);
    free(j->bins);
    free(j);
    read_next(q);
}

static void read_next(fm__ctlcmd_t *q)
{
    read_job_t *j = q->head;
    int rc;
    if (q->running || !j) {
        return;
    }
    q->running = true;
    if ((rc = uv_queue_work(&q->d->loop, &j->req, read_work, read_after)) < 0) {
        j->rc = rc;
        snprintf(j->err, sizeof(j->err), "cannot queue the read: %s", uv_strerror(rc));
        read_after(&j->req, 0);
    }
}

/* Queue a read for the request being handled; its reply is deferred until the read is done. */
static int queue_read(fm_daemon_t *d, read_job_t *j)
{
    fm__ctlcmd_t *q = d->cmds;
    j->q = q;
    j->req.data = j;
    j->window_s = d->cfg->window_ms / 1000;
    j->bin_exp = d->cfg->bin_exp;
    j->reply = fm_ctl_defer(d->ctl);
    if (q->tail) {
        q->tail->next = j;
    } else {
        q->head = j;
    }
    q->tail = j;
    read_next(q);
    return FM_CTL_DEFERRED;
}

HANDLER(cmd_windows)
{
    (void)req, (void)result, (void)err, (void)errlen;
    read_job_t *j = fm_xcalloc(1, sizeof(*j));
    j->windows = true;
    return queue_read(ctx, j);
}

/* window: "total" (default), "current", or a stored window (parse_window, resolve_window). */
HANDLER(cmd_hist)
{
    fm_daemon_t *d = ctx;
    int cls, metric, dir, rc;
    fm_hist_bin_t *bins = NULL;
    size_t n = 0;
    uint64_t start = 0;
    const char *win = str_arg(req, "window", "total");

    if ((rc = hist_args(req, &cls, &metric, &dir, err, errlen)) < 0) {
        return rc;
    }
    if (!strcmp(win, "total") || !strcmp(win, "current")) {
        fm__daemon_sync(d);
        fm_histset_t *s = !strcmp(win, "total") ? fm_histagg_total(d->hist)
                                                : fm_histagg_current(d->hist, &start);
        long nb = fm_hist_bins(fm_histset_get(s, cls, dir, metric), &bins);
        if (nb < 0) {
            return (int)nb;
        }
        n = (size_t)nb;
    } else {
        long back;
        uint64_t t;
        if ((rc = parse_window(win, &back, &t, err, errlen)) < 0) {
            return rc;
        }
        read_job_t *j = fm_xcalloc(1, sizeof(*j));
        j->cls = cls;
        j->metric = metric;
        j->dir = dir;
        j->back = back;
        j->t = t;
        snprintf(j->win, sizeof(j->win), "%s", win);
        return queue_read(d, j);
    }
    *result = hist_result(cls, metric, dir, win, start, d->cfg->bin_exp, bins, n);
    free(bins);
    return 0;
}

HANDLER(cmd_fits)
{
    (void)req, (void)err, (void)errlen;
    *result = fm__daemon_fits_json(ctx);
    return 0;
}

HANDLER(cmd_model)
{
    fm_daemon_t *d = ctx;
    const char *job = str_arg(req, "job", NULL);
    const fm_fitsched_job_t *fs;
    if (!job) {
        snprintf(err, errlen, "model needs a job name (see 'fits')");
        return FM_EINVAL;
    }
    if (!(fs = fm_fitsched_find(d->fits, job))) {
        snprintf(err, errlen, "no fit job named '%s'", job);
        return FM_ENOENT;
    }
    if (!fs->mix) {
        snprintf(err, errlen, "job %s has no result yet", job);
        return FM_EAGAIN;
    }
    *result = fm__daemon_fit_json(fs);
    json_object_set_new(*result, "now_ms", json_integer((json_int_t)fm_time_wall_ms()));
    return 0;
}

HANDLER(cmd_fit)
{
    fm_daemon_t *d = ctx;
    unsigned started = 0;
    fm__daemon_sync(d); /* the cache shards' flows, then the served total: */
    fm_histagg_sync(d->hist); /* the fits read it */
    int rc = fm_fitsched_run(d->fits, str_arg(req, "job", NULL), &started, err, errlen);
    if (rc < 0) {
        return rc;
    }
    *result = json_pack("{si}", "started", (int)started);
    return 0;
}

/* A deferred reply waiting for a commit or an export (their callbacks never run inside the
 * call that starts them, but fm_ctl_reply_finish copes either way). */
typedef struct {
    fm_daemon_t *d;
    fm_ctl_reply_t *reply;
    uint64_t flushed;
} waiting_t;

static void flush_committed(void *arg, int rc)
{
    waiting_t *w = arg;
    char err[384];
    if (rc < 0) {
        fm_committer_stats_t st;
        fm_committer_stats(w->d->committer, &st);
        snprintf(err, sizeof(err), "flushed %" PRIu64 " flows into the histograms, but the "
                 "commit failed (kept in memory, retried): %s", w->flushed, st.error);
        fm_ctl_reply_finish(w->reply, rc, NULL, err);
    } else {
        fm_ctl_reply_finish(w->reply, 0, json_pack("{sI sb}", "flushed",
                                                   (json_int_t)w->flushed, "committed", 1),
                            NULL);
    }
    free(w);
}

/* Expire the cache, then reply once a commit holding those flows has finished. */
HANDLER(cmd_flush)
{
    fm_daemon_t *d = ctx;
    fm_cache_stats_t before, after;
    waiting_t *w = fm_xcalloc(1, sizeof(*w));
    int rc;
    (void)req, (void)result;

    fm__daemon_sync(d);
    fm__daemon_cache_stats(d, &before, NULL);
    fm__daemon_flush(d);
    fm__daemon_cache_stats(d, &after, NULL);
    w->d = d;
    w->flushed = after.emitted - before.emitted;
    w->reply = fm_ctl_defer(d->ctl);
    if ((rc = fm_committer_commit(d->committer, flush_committed, w)) < 0) {
        snprintf(err, errlen, "shutting down: the final commit will hold the flushed flows");
        fm_ctl_reply_finish(w->reply, rc, NULL, err);
        free(w);
    }
    return FM_CTL_DEFERRED;
}

static void export_written(void *arg, int rc, const char *path_or_err)
{
    waiting_t *w = arg;
    fm_ctl_reply_finish(w->reply, rc,
                        rc < 0 ? NULL : json_pack("{ss ss}", "dir", w->d->cfg->export_dir,
                                                  "path", path_or_err),
                        path_or_err);
    free(w);
}

/* Reply once the snapshot exists (or failed). */
HANDLER(cmd_export)
{
    fm_daemon_t *d = ctx;
    waiting_t *w = fm_xcalloc(1, sizeof(*w));
    int rc;
    (void)req, (void)result;

    w->d = d;
    if ((rc = fm_exporter_run(d->exporter, export_written, w, err, errlen)) < 0) {
        free(w);
        return rc;
    }
    w->reply = fm_ctl_defer(d->ctl);
    return FM_CTL_DEFERRED;
}

HANDLER(cmd_reload)
{
    fm_daemon_t *d = ctx;
    char *restart = NULL;
    int rc = fm__daemon_reload(d, &restart, err, errlen);
    (void)req;
    if (rc < 0) {
        fm_log_err("config, reload failed, keeping the running configuration: %s", err);
        return rc;
    }
    /* Restart-only changes by name, so the operator knows what did not take effect. */
    json_t *names = json_array();
    for (char *p = restart, *save = NULL, *tok; p && (tok = strtok_r(p, ",", &save)); p = save) {
        json_array_append_new(names, json_string(tok + (*tok == ' ')));
    }
    free(restart);
    *result = json_pack("{sI so}", "fit_jobs", (json_int_t)fm_fitsched_count(d->fits),
                        "restart_needed", names);
    return 0;
}

int fm_daemon_ctl_start(fm_daemon_t *d, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        fm_ctl_handler_fn fn;
    } cmds[] = {
        {"status", cmd_status}, {"exporters", cmd_exporters}, {"windows", cmd_windows},
        {"hist", cmd_hist},     {"fits", cmd_fits},           {"model", cmd_model},
        {"fit", cmd_fit},       {"flush", cmd_flush},         {"reload", cmd_reload},
        {"export", cmd_export},
    };
    int rc;

    d->cmds = fm_xcalloc(1, sizeof(*d->cmds));
    d->cmds->d = d;
    if ((rc = fm_store_open_readonly(d->cfg->store_path, &d->cmds->reader, err, errlen)) < 0) {
        return rc;
    }
    rc = fm_ctl_new(&d->loop, d->cfg->ctl_socket, &d->ctl);
    if (rc < 0) {
        snprintf(err, errlen, "control socket %s: %s", d->cfg->ctl_socket, fm_strerror(rc));
        return rc;
    }
    fm_ctl_set_idle(d->ctl, d->cfg->ctl_idle_ms);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if ((rc = fm_ctl_register(d->ctl, cmds[i].name, cmds[i].fn, d)) < 0) {
            snprintf(err, errlen, "control command %s: %s", cmds[i].name, fm_strerror(rc));
            return rc;
        }
    }
    if ((rc = fm_ctl_start(d->ctl)) < 0) {
        snprintf(err, errlen, "control socket %s: %s", d->cfg->ctl_socket, fm_strerror(rc));
        return rc;
    }
    return fm__dmetrics_start(d, &d->cmds->metrics, err, errlen);
}

static void stopped_one(void *arg)
{
    fm__ctlcmd_t *q = arg;
    if (--q->stopping == 0 && q->stop_done) {
        q->stop_done(q->stop_arg);
    }
}

void fm_daemon_ctl_stop(fm_daemon_t *d, void (*done)(void *arg), void *arg)
{
    fm__ctlcmd_t *q = d->cmds;
    if (!q) {
        done(arg);
        return;
    }
    q->stop_done = done;
    q->stop_arg = arg;
    q->stopping = 3; /* the socket, the metrics timer and this call */
    if (d->ctl) {
        fm_ctl_stop(d->ctl, stopped_one, q);
    } else {
        stopped_one(q);
    }
    fm__dmetrics_stop(q->metrics, stopped_one, q);
    stopped_one(q);
}

void fm_daemon_ctl_free(fm_daemon_t *d)
{
    fm_ctl_free(d->ctl);
    d->ctl = NULL;
    if (d->cmds) {
        assert(!d->cmds->head); /* the loop ran every queued read to its end */
        fm__dmetrics_free(d->cmds->metrics);
        fm_store_close(d->cmds->reader);
        free(d->cmds);
        d->cmds = NULL;
    }
}
