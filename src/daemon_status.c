/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the daemon shows of itself: the results of `status`, `exporters` and `fits` as JSON,
 * built from the modules' own stats.  Both the control commands (daemon_ctl.c) and the
 * Prometheus endpoint (daemon_metrics.c) render these, so they live below both.  Loop thread.
 */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon_int.h"
#include "util/err.h"
#include "util/time.h"

static json_t *cache_json(fm_daemon_t *d)
{
    fm_cache_stats_t cs;
    fm__daemon_cache_stats(d, &cs, NULL);
    json_t *j = json_pack("{sI sI sI sI sI sI sI sI sI sI sI}", "entries", (json_int_t)cs.entries,
                     "capacity", (json_int_t)cs.capacity, "bytes", (json_int_t)cs.bytes,
                     "bytes_per_entry", (json_int_t)cs.bytes_per_entry, "inserts",
                     (json_int_t)cs.inserts, "merges", (json_int_t)cs.merges, "biflow_pairs",
                     (json_int_t)cs.biflow_pairs, "merge_conflicts",
                     (json_int_t)cs.merge_conflicts, "expired", (json_int_t)cs.expired,
                     "evicted", (json_int_t)cs.evicted, "emitted", (json_int_t)cs.emitted);
    json_object_update_new(j, json_pack("{sI sI sI sI sI sI}", "sources", (json_int_t)cs.sources,
                                        "timeout_overrides", (json_int_t)cs.timeout_overrides,
                                        "max_sources", (json_int_t)cs.max_sources,
                                        "sources_freed", (json_int_t)cs.sources_freed,
                                        "sources_evicted", (json_int_t)cs.sources_evicted,
                                        "source_bytes", (json_int_t)cs.source_bytes));
    return j;
}

static json_t *store_json(fm_daemon_t *d)
{
    fm_committer_stats_t st;
    fm_committer_stats(d->committer, &st);
    return json_pack("{ss sb sb sI sI sI sf ss}", "path", d->cfg->store_path, "committing",
                     st.busy, "ok", !st.failing, "commits", (json_int_t)st.commits,
                     "commit_failures", (json_int_t)st.failures, "last_commit_ms",
                     (json_int_t)st.last_commit_ms, "last_commit_seconds", st.last_seconds,
                     "error", st.failing ? st.error : "");
}

static json_t *export_json(fm_daemon_t *d)
{
    fm_exporter_stats_t st;
    fm_exporter_stats(d->exporter, &st);
    return json_pack("{ss sb sI sI sI ss sI}", "dir", d->cfg->export_dir, "running", st.running,
                     "exports", (json_int_t)st.exports, "failures", (json_int_t)st.failures,
                     "interval_s", (json_int_t)(d->cfg->export_interval_ms / 1000), "last",
                     st.last, "last_ms", (json_int_t)st.last_ms);
}

/* Per-second rates over the last window_ms (exactly 0 once a counter has stopped moving). */
static json_t *rates_json(fm_daemon_t *d, uint64_t window_ms)
{
    static const char *const names[FM__RATE_COUNT] = {"records", "datagrams", "flows", "drops"};
    json_t *o = json_object();
    for (int i = 0; i < FM__RATE_COUNT; i++) {
        double r = d->n.rates ? fm_rate_get(d->n.rates, (size_t)i, window_ms) : 0.0;
        json_object_set_new(o, names[i], json_real(r));
    }
    return o;
}

typedef struct {
    uint64_t max, recycles, clamped;
} tmpl_use_t;

static void tmpl_use(void *ctx, const fm_ingest_exporter_t *e)
{
    tmpl_use_t *u = ctx;
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
    fm__daemon_cache_stats(d, &cs, NULL);
    fm_ctl_stats(d->ctl, &cst);
    fm_ingest_foreach(d->ingest, tmpl_use, &u);
    json_t *b = json_object();
    json_object_set_new(b, "exporters", bound(is->exporters, d->cfg->max_exporters));
    json_object_set_new(b, "templates_per_exporter", bound(u.max, d->cfg->max_templates));
    json_object_set_new(b, "templates_total", bound(is->templates, d->cfg->max_templates_total));
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
    uint64_t now = fm_time_wall_ms(), flows = 0, packets = 0, octets = 0, finished;

    fm__daemon_sync(d);
    fm__daemon_cache_stats(d, NULL, &finished);
    fm_ingest_stats(d->ingest, &is);
    fm_hist_totals(fm_histset_get(fm_histagg_total(d->hist), FM_CLASS_ALL, FM_DIR_UNIFLOW,
                                  FM_METRIC_LENGTH), &flows, &packets, &octets);
    result = json_pack(
        "{ss sI sI sf sI sI sI sI sI sI sI sI so so s{sI sI sI} s{sI sI sI}}", "version",
        PACKAGE_VERSION, "uptime_s", (json_int_t)((now - d->n.start_ms) / 1000), "records",
        (json_int_t)d->path.in.flows, "records_per_s", d->n.records_per_s, "datagrams",
        (json_int_t)is.datagrams, "bytes", (json_int_t)is.bytes, "malformed",
        (json_int_t)is.malformed, "recv_errors", (json_int_t)is.recv_errors, "kernel_drops",
        (json_int_t)is.kernel_drops, "exporters", (json_int_t)is.exporters, "exporters_evicted",
        (json_int_t)is.exporters_evicted, "flows_finished", (json_int_t)finished,
        "cache", cache_json(d), "store", store_json(d), "total", "flows", (json_int_t)flows,
        "packets", (json_int_t)packets, "octets", (json_int_t)octets, "fits", "jobs",
        (json_int_t)fm_fitsched_count(d->fits), "running",
        (json_int_t)fm_fitsched_running(d->fits), "interval_s",
        (json_int_t)(d->cfg->fit_interval_ms / 1000));
    json_object_set_new(result, "now_ms", json_integer((json_int_t)now));
    json_object_set_new(result, "start_ms", json_integer((json_int_t)d->n.start_ms));
    json_object_set_new(result, "rate_1m", rates_json(d, 60000));
    json_object_set_new(result, "rate_15m", rates_json(d, FM__RATE_SPAN_MS));
    fm_ctl_stats_t cst;
    fm_ctl_stats(d->ctl, &cst);
    json_object_set_new(result, "exporters_expired", json_integer((json_int_t)is.exporters_expired));
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
                                     (json_int_t)(d->cfg->ctl_idle_ms / 1000)));
    json_object_set_new(result, "export", export_json(d));
    json_object_set_new(result, "plugins", fm_plugins_stats_json(d->plugins));
    json_object_set_new(result, "hist_publish", fm__histx_pub_json(d));
    fm__histx_kafka_status(d, result);
    json_object_set_new(result, "capture", fm__daemon_capture_json(d));
    return result;
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

json_t *fm__daemon_fit_json(const fm_fitsched_job_t *fs)
{
    static const char *const ys[] = {"flows", "packets", "octets"};
    json_t *model = fs->json ? json_loads(fs->json, 0, NULL) : NULL;
    return json_pack("{ss ss ss ss ss sI sI sI sI sf sI sf sI sb so}", "job", fs->job.name,
                     "class",
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
    for (size_t i = 0; i < fm_fitsched_count(d->fits); i++) {
        json_array_append_new(arr, fm__daemon_fit_json(fm_fitsched_get(d->fits, i)));
    }
    return json_pack("{so sI}", "fits", arr, "now_ms", (json_int_t)fm_time_wall_ms());
}
