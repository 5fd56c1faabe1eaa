/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's control commands: each handler turns daemon state into a JSON result for the
 * control socket (src/ctl.c does the transport, src/ctl_proto.c the table and wire format).
 * Handlers run on the loop thread and only read state, except the mutating ones the table marks.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"
#include "util/err.h"
#include "util/time.h"

#define HANDLER(name) \
    static int name(void *ctx, const json_t *req, json_t **result, char *err, size_t errlen)

static json_t *cache_json(fm_daemon_t *d)
{
    fm_cache_stats_t cs;
    fm_cache_stats(d->cache, &cs);
    json_t *j = json_pack("{sI sI sI sI sI sI sI sI sI sI sI}", "entries", (json_int_t)cs.entries,
                     "capacity", (json_int_t)cs.capacity, "bytes", (json_int_t)cs.bytes,
                     "bytes_per_entry", (json_int_t)cs.bytes_per_entry, "inserts",
                     (json_int_t)cs.inserts, "merges", (json_int_t)cs.merges, "biflow_pairs",
                     (json_int_t)cs.biflow_pairs, "merge_conflicts",
                     (json_int_t)cs.merge_conflicts, "expired", (json_int_t)cs.expired,
                     "evicted", (json_int_t)cs.evicted, "emitted", (json_int_t)cs.emitted);
    json_object_update_new(j, json_pack("{sI sI sI sI sI}", "sources", (json_int_t)cs.sources,
                                        "max_sources", (json_int_t)cs.max_sources,
                                        "sources_freed", (json_int_t)cs.sources_freed,
                                        "sources_evicted", (json_int_t)cs.sources_evicted,
                                        "source_bytes", (json_int_t)cs.source_bytes));
    return j;
}

static json_t *store_json(fm_daemon_t *d)
{
    return json_pack("{ss sb sI sI sI sf ss}", "path", d->cfg->store_path, "ok",
                     !d->store_failing, "commits", (json_int_t)d->commits, "commit_failures",
                     (json_int_t)d->commit_failures, "last_commit_ms",
                     (json_int_t)d->last_commit_ms, "last_commit_seconds",
                     d->last_commit_seconds, "error", d->store_failing ? d->store_error : "");
}

/* Per-second rates over the last window_ms (exactly 0 once a counter has stopped moving). */
static json_t *rates_json(fm_daemon_t *d, uint64_t window_ms)
{
    static const char *const names[FM__RATE_COUNT] = {"records", "datagrams", "flows", "drops"};
    json_t *o = json_object();
    for (int i = 0; i < FM__RATE_COUNT; i++) {
        double r = d->rates ? fm_rate_get(d->rates, (size_t)i, window_ms) : 0.0;
        json_object_set_new(o, names[i], json_real(r));
    }
    return o;
}

typedef struct {
    uint64_t total, max, recycles, clamped;
} tmpl_use_t;

static void tmpl_use(void *ctx, const fm_ingest_exporter_t *e)
{
    tmpl_use_t *u = ctx;
    u->total += e->stats.templates;
    u->max = e->stats.templates > u->max ? e->stats.templates : u->max;
    u->recycles += e->stats.session_recycles;
    u->clamped += e->stats.time_clamped;
}

static json_t *bound(uint64_t used, uint64_t limit)
{
    return json_pack("{sI sI}", "used", (json_int_t)used, "limit", (json_int_t)limit);
}

/* Issue 20: every resource a hostile exporter or client could make the daemon hold, with its
 * limit (flowmixd.conf(5) documents them). */
static json_t *bounds_json(fm_daemon_t *d, const fm_ingest_stats_t *is)
{
    fm_cache_stats_t cs;
    fm_ctl_stats_t cst;
    tmpl_use_t u = {0};
    fm_cache_stats(d->cache, &cs);
    fm_ctl_stats(d->ctl, &cst);
    fm_ingest_foreach(d->ingest, tmpl_use, &u);
    json_t *b = json_object();
    json_object_set_new(b, "exporters", bound(is->exporters, d->cfg->max_exporters));
    json_object_set_new(b, "templates_per_exporter", bound(u.max, d->cfg->max_templates));
    json_object_set_new(b, "templates_total", json_integer((json_int_t)u.total));
    json_object_set_new(b, "libfixbuf_recycles", json_integer((json_int_t)u.recycles));
    json_object_set_new(b, "records_time_clamped", json_integer((json_int_t)u.clamped));
    json_object_set_new(b, "cache_sources", bound(cs.sources, cs.max_sources));
    json_object_set_new(b, "cache_entries", bound(cs.entries, cs.capacity));
    json_object_set_new(b, "ctl_clients", bound(cst.clients, cst.max_clients));
    char wal[4096];
    struct stat sb;
    snprintf(wal, sizeof(wal), "%s-wal", d->cfg->store_path);
    json_object_set_new(b, "wal_bytes", bound(stat(wal, &sb) == 0 ? (uint64_t)sb.st_size : 0,
                                              FM_STORE_WAL_LIMIT));
    return b;
}

json_t *fm__daemon_status_json(fm_daemon_t *d)
{
    json_t *result;
    fm_ingest_stats_t is;
    uint64_t now = fm_time_wall_ms(), flows = 0, packets = 0, octets = 0;

    fm_ingest_stats(d->ingest, &is);
    fm_hist_totals(fm_histset_get(fm_histwin_total(d->hw), FM_CLASS_ALL, FM_DIR_UNIFLOW,
                                  FM_METRIC_LENGTH), &flows, &packets, &octets);
    result = json_pack(
        "{ss sI sI sf sI sI sI sI sI sI sI sI so so s{sI sI sI} s{sI sI sI}}", "version",
        PACKAGE_VERSION, "uptime_s", (json_int_t)((now - d->start_ms) / 1000), "records",
        (json_int_t)d->records_in, "records_per_s", d->records_per_s, "datagrams",
        (json_int_t)is.datagrams, "bytes", (json_int_t)is.bytes, "malformed",
        (json_int_t)is.malformed, "recv_errors", (json_int_t)is.recv_errors, "kernel_drops",
        (json_int_t)is.kernel_drops, "exporters", (json_int_t)is.exporters, "exporters_evicted",
        (json_int_t)is.exporters_evicted, "flows_finished", (json_int_t)d->flows_finished,
        "cache", cache_json(d), "store", store_json(d), "total", "flows", (json_int_t)flows,
        "packets", (json_int_t)packets, "octets", (json_int_t)octets, "fits", "jobs",
        (json_int_t)d->nfits, "running", (json_int_t)d->fits_running, "interval_s",
        (json_int_t)(d->cfg->fit_interval_ms / 1000));
    json_object_set_new(result, "now_ms", json_integer((json_int_t)now));
    json_object_set_new(result, "start_ms", json_integer((json_int_t)d->start_ms));
    json_object_set_new(result, "rate_1m", rates_json(d, 60000));
    json_object_set_new(result, "rate_15m", rates_json(d, FM__RATE_SPAN_MS));
    fm_ctl_stats_t cst;
    fm_ctl_stats(d->ctl, &cst);
    json_object_set_new(result, "bounds", bounds_json(d, &is));
    json_object_set_new(result, "ctl",
                        json_pack("{sI sI sI sI sI sI sI}", "clients", (json_int_t)cst.clients,
                                  "requests", (json_int_t)cst.requests, "errors",
                                  (json_int_t)cst.errors, "oversized", (json_int_t)cst.oversized,
                                  "slow_disconnects", (json_int_t)cst.slow_disconnects, "denied",
                                  (json_int_t)cst.denied, "refused", (json_int_t)cst.refused));
    json_object_update_new(json_object_get(result, "ctl"),
                           json_pack("{sI sI sI sI}", "max_clients", (json_int_t)cst.max_clients,
                                     "displaced", (json_int_t)cst.displaced, "idle_closed",
                                     (json_int_t)cst.idle_closed, "idle_timeout_s",
                                     (json_int_t)(FM_CTL_DEFAULT_IDLE_MS / 1000)));
    json_object_set_new(result, "export",
                        json_pack("{ss sI sI sI ss sI}", "dir", d->cfg->export_dir, "exports",
                                  (json_int_t)d->exports, "failures",
                                  (json_int_t)d->export_failures, "interval_s",
                                  (json_int_t)(d->cfg->export_interval_ms / 1000), "last",
                                  d->last_export, "last_ms", (json_int_t)d->last_export_ms));
    json_object_set_new(result, "plugins", fm_plugins_stats_json(d->plugins));
    json_object_set_new(result, "hist_publish", fm__daemon_pub_json(d));
    fm__daemon_kafka_status(d, result);
    json_object_set_new(result, "capture", fm__daemon_capture_json(d));
    return result;
}

HANDLER(cmd_status)
{
    *result = fm__daemon_status_json(ctx);
    return *result ? 0 : FM_ENOMEM;
}

/* The [exporter.NAME] whose address is the exporter's, or NULL. */
static const char *exporter_name(const fm_config_t *cfg, const char *address)
{
    uint8_t a[16], b[16];
    if (fm_flow_addr_parse(address, b, NULL) < 0) {
        return NULL;
    }
    for (size_t i = 0; i < cfg->nexporters; i++) {
        if (fm_flow_addr_parse(cfg->exporters[i].address, a, NULL) == 0 && !memcmp(a, b, 16)) {
            return cfg->exporters[i].name;
        }
    }
    return NULL;
}

static void exporter_json(void *ctx, const fm_ingest_exporter_t *e)
{
    fm_daemon_t *d = ((void **)ctx)[0];
    json_t *arr = ((void **)ctx)[1];
    const fm_decode_stats_t *s = &e->stats;
    const char *name = exporter_name(d->cfg, e->address);
    json_t *o = json_pack(
        "{sI ss sI sI sI sI sI sI sI sI sI sI sI sI sI}", "id", (json_int_t)e->id, "address",
        e->address, "port", (json_int_t)e->port, "version", (json_int_t)s->last_version,
        "datagrams", (json_int_t)s->datagrams, "records", (json_int_t)s->records, "bytes",
        (json_int_t)s->bytes, "malformed", (json_int_t)s->malformed, "unknown_template",
        (json_int_t)s->unknown_template, "seq_gaps", (json_int_t)s->seq_gaps, "seq_lost",
        (json_int_t)s->seq_lost, "templates", (json_int_t)s->templates, "options_records",
        (json_int_t)s->options_records, "first_seen_ms", (json_int_t)e->first_seen_ms,
        "last_seen_ms", (json_int_t)e->last_seen_ms);
    json_object_set_new(o, "name", name ? json_string(name) : json_null());
    json_object_set_new(o, "libfixbuf_recycles", json_integer((json_int_t)s->session_recycles));
    json_object_set_new(o, "time_clamped", json_integer((json_int_t)s->time_clamped));
    json_array_append_new(arr, o);
}

json_t *fm__daemon_exporters_json(fm_daemon_t *d)
{
    json_t *arr = json_array();
    void *both[2] = {d, arr};
    fm_ingest_foreach(d->ingest, exporter_json, both);
    return json_pack("{so sI}", "exporters", arr, "now_ms", (json_int_t)fm_time_wall_ms());
}

HANDLER(cmd_exporters)
{
    *result = fm__daemon_exporters_json(ctx);
    return 0;
}

HANDLER(cmd_windows)
{
    fm_daemon_t *d = ctx;
    fm_store_window_t *w = NULL;
    size_t n = 0;
    int rc = fm_store_list_windows(d->store, &w, &n);
    if (rc < 0) {
        snprintf(err, errlen, "cannot list windows: %s", fm_strerror(rc));
        return rc;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, json_pack("{sI sI sb sI}", "start_ms",
                                             (json_int_t)w[i].start_ms, "end_ms",
                                             (json_int_t)w[i].end_ms, "closed", w[i].closed,
                                             "flows", (json_int_t)w[i].flows));
    }
    free(w);
    *result = json_pack("{so sI sI}", "windows", arr, "window_s",
                        (json_int_t)(d->cfg->window_ms / 1000), "now_ms",
                        (json_int_t)fm_time_wall_ms());
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

/*
 * A stored window named by `latest` (the newest), `-N` (N-th newest, -1 = latest), an ISO-8601
 * time (the window starting then, else the one containing it) or a start in epoch ms.
 */
static int resolve_window(fm_daemon_t *d, const char *win, uint64_t *start, char *err,
                          size_t errlen)
{
    fm_store_window_t *w = NULL;
    size_t n = 0;
    uint64_t t = 0;
    long back = 0;
    char *end, iso[FM_TIME_ISO_LEN], a[FM_TIME_ISO_LEN], b[FM_TIME_ISO_LEN];
    int rc;

    if (!strcmp(win, "latest")) {
        back = 1;
    } else if (win[0] == '-') {
        errno = 0;
        back = strtol(win + 1, &end, 10);
        if (*end || end == win + 1 || !isdigit((unsigned char)win[1]) || errno || back < 1) {
            back = -1;
        }
    } else if (fm_time_parse_iso(win, &t) < 0) {
        /* digits only and below 2^63 (the store's total row is -1: never a window) */
        errno = 0;
        t = strtoull(win, &end, 10);
        if (*end || end == win || !isdigit((unsigned char)*win) || errno ||
            t > (uint64_t)INT64_MAX) {
            back = -1;
        }
    }
    if (back < 0) {
        snprintf(err, errlen, "window must be total, current, latest, -N (N-th newest), an "
                              "ISO-8601 time such as 2026-11-30T17:00Z or a start in ms; "
                              "got '%.64s'", win);
        return FM_EINVAL;
    }
    if ((rc = fm_store_list_windows(d->store, &w, &n)) < 0) {
        snprintf(err, errlen, "cannot list windows: %s", fm_strerror(rc));
        return rc;
    }
    rc = FM_ENOENT;
    if (back > 0 && (size_t)back <= n) {
        *start = w[n - (size_t)back].start_ms; /* listed oldest first */
        rc = 0;
    }
    for (size_t i = 0; back == 0 && i < n && rc < 0; i++) {
        if (w[i].start_ms == t) {
            *start = t;
            rc = 0;
        }
    }
    for (size_t i = 0; back == 0 && i < n && rc < 0; i++) {
        if (w[i].start_ms <= t && t < w[i].end_ms) {
            *start = w[i].start_ms;
            rc = 0;
        }
    }
    if (rc < 0 && n == 0) {
        snprintf(err, errlen, "no windows stored yet (the first is written at the first commit)");
    } else if (rc < 0 && back > 0) {
        snprintf(err, errlen, "no window %s: only %zu stored", win, n);
    } else if (rc < 0) {
        snprintf(err, errlen, "no window starting at %s; stored windows start from %s to %s "
                              "(see 'flowmixctl windows')",
                 fm_time_format_iso(iso, sizeof(iso), t),
                 fm_time_format_iso(a, sizeof(a), w[0].start_ms),
                 fm_time_format_iso(b, sizeof(b), w[n - 1].start_ms));
    }
    free(w);
    return rc;
}

/* window: "total" (default), "current", or a stored window (see resolve_window). */
HANDLER(cmd_hist)
{
    fm_daemon_t *d = ctx;
    int cls, metric, dir, rc;
    fm_hist_bin_t *bins = NULL;
    size_t n = 0;
    uint64_t tot[3], start = 0;
    const char *win = str_arg(req, "window", "total");

    if ((rc = hist_args(req, &cls, &metric, &dir, err, errlen)) < 0) {
        return rc;
    }
    if (!strcmp(win, "total") || !strcmp(win, "current")) {
        fm_histset_t *s = !strcmp(win, "total") ? fm_histwin_total(d->hw)
                                                : fm_histwin_current(d->hw, &start);
        long nb = fm_hist_bins(fm_histset_get(s, cls, dir, metric), &bins);
        if (nb < 0) {
            return (int)nb;
        }
        n = (size_t)nb;
    } else {
        if ((rc = resolve_window(d, win, &start, err, errlen)) < 0) {
            return rc;
        }
        rc = fm_store_hist_bins(d->store, (int64_t)start, cls, dir, metric, &bins, &n);
        if (rc < 0) {
            char iso[FM_TIME_ISO_LEN];
            snprintf(err, errlen, "cannot read the window starting at %s: %s",
                     fm_time_format_iso(iso, sizeof(iso), start), fm_strerror(rc));
            return rc;
        }
    }
    json_t *arr = bins_json(bins, n, tot);
    free(bins);
    *result = json_pack("{ss ss ss ss sI sI so sI sI sI}", "class", fm_class_name(cls), "metric",
                        fm_metric_name(metric), "direction", fm_dir_name(dir), "window", win,
                        "window_start_ms", (json_int_t)start, "bin_exp",
                        (json_int_t)d->cfg->bin_exp, "bins", arr, "flows", (json_int_t)tot[0],
                        "packets", (json_int_t)tot[1], "octets", (json_int_t)tot[2]);
    return 0;
}

static json_t *fit_json(const fm__fitstate_t *fs)
{
    static const char *const ys[] = {"flows", "packets", "octets"};
    json_t *model = fs->json ? json_loads(fs->json, 0, NULL) : NULL;
    return json_pack("{ss ss ss ss ss sI sI sI sI sf sI sf sI sb so}", "job", fs->job.name, "class",
                     fm_class_name(fs->job.cls), "metric", fm_metric_name(fs->job.metric),
                     "direction", fm_dir_name(fs->job.direction), "y", ys[fs->job.y], "U",
                     (json_int_t)fs->job.U, "L", (json_int_t)fs->job.L, "P",
                     (json_int_t)fs->job.P, "created_ms",
                     (json_int_t)fs->created_ms, "loglik", fs->mix ? fs->res.loglik : 0.0,
                     "iterations", (json_int_t)fs->res.iterations, "seconds", fs->res.seconds,
                     "runs", (json_int_t)fs->runs, "running", fs->running, "model",
                     model ? model : json_null());
}

json_t *fm__daemon_fits_json(fm_daemon_t *d)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < d->nfits; i++) {
        json_array_append_new(arr, fit_json(&d->fits[i]));
    }
    return json_pack("{so sI}", "fits", arr, "now_ms", (json_int_t)fm_time_wall_ms());
}

HANDLER(cmd_fits)
{
    *result = fm__daemon_fits_json(ctx);
    return 0;
}

HANDLER(cmd_model)
{
    fm_daemon_t *d = ctx;
    const char *job = str_arg(req, "job", NULL);
    if (!job) {
        snprintf(err, errlen, "model needs a job name (see 'fits')");
        return FM_EINVAL;
    }
    for (size_t i = 0; i < d->nfits; i++) {
        if (!strcmp(d->fits[i].job.name, job)) {
            if (!d->fits[i].mix) {
                snprintf(err, errlen, "job %s has no result yet", job);
                return FM_EAGAIN;
            }
            *result = fit_json(&d->fits[i]);
            json_object_set_new(*result, "now_ms", json_integer((json_int_t)fm_time_wall_ms()));
            return 0;
        }
    }
    snprintf(err, errlen, "no fit job named '%s'", job);
    return FM_ENOENT;
}

HANDLER(cmd_fit)
{
    fm_daemon_t *d = ctx;
    const char *job = str_arg(req, "job", NULL);
    int started = 0, rc;

    if (job) {
        if ((rc = fm__daemon_fit_one(d, job, err, errlen)) < 0) {
            return rc;
        }
        started = 1;
    } else {
        unsigned before = d->fits_running;
        fm__daemon_fit_all(d);
        started = (int)(d->fits_running - before);
    }
    *result = json_pack("{si}", "started", started);
    return 0;
}

HANDLER(cmd_flush)
{
    fm_daemon_t *d = ctx;
    fm_cache_stats_t before, after;
    fm_cache_stats(d->cache, &before);
    fm__daemon_flush(d);
    fm_cache_stats(d->cache, &after);
    /* Flushed flows are in the histograms now; commit so the database agrees. */
    fm__daemon_commit(d);
    *result = json_pack("{sI}", "flushed", (json_int_t)(after.emitted - before.emitted));
    return 0;
}

HANDLER(cmd_reload)
{
    fm_daemon_t *d = ctx;
    int rc = fm__daemon_reload(d, err, errlen);
    if (rc < 0) {
        fm_log_err("config, reload failed, keeping the running configuration: %s", err);
        return rc;
    }
    *result = json_pack("{sI}", "fit_jobs", (json_int_t)d->nfits);
    return 0;
}

HANDLER(cmd_export)
{
    fm_daemon_t *d = ctx;
    int rc = fm__daemon_export(d, err, errlen);
    if (rc < 0) {
        return rc;
    }
    *result = json_pack("{ss}", "dir", d->cfg->export_dir);
    return 0;
}

int fm__daemon_ctl_start(fm_daemon_t *d, char *err, size_t errlen)
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
    int rc = fm_ctl_new(&d->loop, d->cfg->ctl_socket, &d->ctl);
    if (rc < 0) {
        snprintf(err, errlen, "control socket %s: %s", d->cfg->ctl_socket, fm_strerror(rc));
        return rc;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if ((rc = fm_ctl_register(d->ctl, cmds[i].name, cmds[i].fn, d)) < 0) {
            snprintf(err, errlen, "control command %s: %s", cmds[i].name, fm_strerror(rc));
            return rc;
        }
    }
    if ((rc = fm_ctl_start(d->ctl)) < 0) {
        snprintf(err, errlen, "control socket %s: %s", d->cfg->ctl_socket, fm_strerror(rc));
    }
    return rc;
}
