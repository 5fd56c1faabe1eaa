/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon: wiring plus the lifecycle state machine (daemon_int.h).  Start-up order follows
 * STYLE §7: log, config, store, cache/histograms, fits, plugins, ingest, control socket, then
 * readiness.  The data path is a chain of sinks built once (build_path): ingest → decoder →
 * cache → finished flows → {histogram stage (running histograms, the committer's window deltas,
 * the publish deltas), plugins}; no stage calls back into this file.  Background work belongs to the modules: the committer (the only SQLite
 * writer), the fit scheduler and the exporter.  Shutdown drains them through their stop
 * callbacks and ends with a final commit; uv_loop_close() must then succeed.
 */
#include "config.h"
#include "daemon.h"

#include <errno.h>
#include <gsl/gsl_errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "daemon_int.h"
#include "plot.h"
#include "util/err.h"
#include "util/detach.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/time.h"

#define TICK_MS 1000
#define TRIM_MS 10000

static void notify(const char *state)
{
#ifdef HAVE_SYSTEMD
    sd_notify(0, state);
#else
    (void)state;
#endif
}

static void on_new_exporter(void *ctx, const fm_ingest_exporter_t *e)
{
    fm_daemon_t *d = ctx;
    for (size_t i = 0; i < d->cfg->nexporters; i++) {
        const fm_config_exporter_t *x = &d->cfg->exporters[i];
        uint8_t a[16], b[16];
        if (fm_flow_addr_parse(x->address, a, NULL) == 0 &&
            fm_flow_addr_parse(e->address, b, NULL) == 0 && memcmp(a, b, 16) == 0) {
            fm_shards_set_timeouts(d->path.shards, e->id,
                                  x->active_ms ? x->active_ms : d->cfg->active_ms,
                                  x->inactive_ms ? x->inactive_ms : d->cfg->inactive_ms);
            fm_log_info("cache, exporter %s uses the timeouts of [exporter.%s]", e->address,
                        x->name);
        }
    }
}

/* Ingest forgot an exporter: its [exporter.NAME] timeouts go with it (fm_cache_clear_timeouts). */
static void on_gone_exporter(void *ctx, uint32_t id)
{
    fm_daemon_t *d = ctx;
    fm_shards_clear_timeouts(d->path.shards, id);
}

/* Sample the counters behind the 1- and 15-minute rates of `status` (rate.h). */
static void update_rate(fm_daemon_t *d, uint64_t now)
{
    fm__daemon_counts_t *c = &d->n;
    fm_ingest_stats_t is;
    uint64_t finished;
    fm_ingest_stats(d->ingest, &is);
    fm__daemon_cache_stats(d, NULL, &finished);
    uint64_t v[FM__RATE_COUNT] = {d->path.in.flows, is.datagrams, finished,
                                  is.kernel_drops};
    if (!c->rates) {
        c->rates = fm_rate_new(FM__RATE_COUNT, FM__RATE_SPAN_MS, TICK_MS);
    }
    fm_rate_sample(c->rates, now, v);
    c->records_per_s = fm_rate_get(c->rates, FM__RATE_RECORDS, 60000);
}

static void on_tick(uv_timer_t *t)
{
    fm_daemon_t *d = t->data;
    uint64_t now = fm_time_wall_ms(), finished;
    char status[160];

    /* Expire, then (with shards) wait for them and merge what they finished, so flows that
     * expired at this tick count now, as on the single-thread path. */
    fm_shards_advance(d->path.shards, now);
    fm__daemon_sync(d);
    fm_histagg_tick(d->hist, now);
    fm_histagg_sync(d->hist); /* what reads the served total without asking (fit timer) */
    fm_plugins_tick(d->plugins, now);
    update_rate(d, now);
    if (now >= d->n.next_trim_ms) { /* freed job memory back to the system (util/mem.h) */
        d->n.next_trim_ms = now + TRIM_MS;
        fm_mem_trim();
    }
    fm__daemon_cache_stats(d, NULL, &finished);
    snprintf(status, sizeof(status), "STATUS=%.0f records/s, %" PRIu64 " flows finished",
             d->n.records_per_s, finished);
    notify(status);
    if (d->n.watchdog) {
        notify("WATCHDOG=1");
    }
}

static void merge_lanes(fm_daemon_t *d)
{
    int rc = fm_histsink_lanes_merge(d->path.lanes);
    if (rc < 0) { /* cannot happen: every delta has the daemon's bin_exp */
        fm_log_err("hist, cannot merge a cache shard's delta: %s", fm_strerror(rc));
    }
}

void fm__daemon_sync(fm_daemon_t *d)
{
    if (d->path.shards) {
        fm_shards_sync(d->path.shards);
        merge_lanes(d);
    }
}

void fm__daemon_cache_stats(fm_daemon_t *d, fm_cache_stats_t *cs, uint64_t *finished)
{
    fm_shards_stats(d->path.shards, cs, finished);
}

static void flush_cache(fm_daemon_t *d)
{
    if (d->path.shards) {
        fm_shards_flush(d->path.shards);
        merge_lanes(d);
    }
}

void fm__daemon_flush(fm_daemon_t *d)
{
    flush_cache(d);
    fm_plugins_flush(d->plugins); /* after the cache: its flows are queued first */
    fm__histx_publish(d, true); /* their histogram deltas, then a flush once those are queued */
}

/* ---- committer, fit and export hooks ------------------------------------------------------ */

static void commit_tick(void *ctx)
{
    fm__daemon_sync(ctx); /* the shards' flows go into this commit */
    fm__histx_publish(ctx, false);
}

static size_t commit_counters(void *ctx, fm_store_counter_t *out, size_t max)
{
    fm_daemon_t *d = ctx;
    fm_cache_stats_t cs;
    fm_ingest_stats_t is = {0};
    uint64_t finished;

    fm__daemon_cache_stats(d, &cs, &finished);
    if (d->ingest) {
        fm_ingest_stats(d->ingest, &is);
    }
    const fm_store_counter_t c[] = {
        {"records", d->path.in.flows},      {"flows_finished", finished},
        {"datagrams", is.datagrams},        {"malformed", is.malformed},
        {"cache_evicted", cs.evicted},      {"merges", cs.merges},
        {"biflow_pairs", cs.biflow_pairs},  {"merge_conflicts", cs.merge_conflicts},
    };
    size_t n = sizeof(c) / sizeof(c[0]);
    n = n < max ? n : max;
    memcpy(out, c, n * sizeof(c[0]));
    return n;
}

static void *commit_mark(void *ctx)
{
    return fm__histx_mark(ctx);
}

static void commit_confirm(void *ctx, void *mark, bool ok, bool final)
{
    fm__histx_confirm(ctx, mark, ok, final);
}

static void commit_sync(void *ctx)
{
    fm_daemon_t *d = ctx;
    fm__daemon_sync(d); /* the cache shards' deltas first */
    fm_histagg_sync(d->hist);
}

static bool commit_busy(void *ctx)
{
    return fm__histx_kafka_busy(ctx);
}

static size_t commit_marks(void *ctx, fm_store_mark_t **out)
{
    return fm__histx_kafka_dirty(ctx, out);
}

static void commit_durable(void *ctx, const fm_store_mark_t *marks, size_t n)
{
    fm__histx_kafka_durable(ctx, marks, n);
}

static void on_fit_result(void *ctx, const fm_fitsched_job_t *job)
{
    fm_daemon_t *d = ctx;
    fm_committer_add_fit(d->committer, job->job.name, 0, job->created_ms, job->json,
                         job->res.loglik, job->res.iterations, job->res.seconds);
}

/* meta.json's facts known only here: oldest window, collector id, configuration digest.  The
 * oldest window comes from a read-only connection opened for it (an export is rare; the
 * writer belongs to the committer). */
static void export_meta(fm_daemon_t *d, fm_export_req_t *ex)
{
    fm_store_window_t *w = NULL;
    fm_store_t *reader = NULL;
    size_t n = 0;
    char *text = NULL, digest[32];
    size_t len = 0;

    if (fm_store_open_readonly(d->cfg->store_path, &reader, NULL, 0) == 0 &&
        fm_store_list_windows(reader, &w, &n) == 0 && n > 0) {
        ex->first_ms = w[0].start_ms; /* listed oldest first */
    }
    free(w);
    fm_store_close(reader);
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

/* The exporter's snapshot: copies of the total histograms and the uniflow fit results. */
static int export_snapshot(void *ctx, fm_export_req_t *req, char *err, size_t errlen)
{
    fm_daemon_t *d = ctx;
    size_t n = fm_fitsched_count(d->fits);
    uint64_t flows = 0;
    int rc;

    fm__daemon_sync(d);
    fm_hist_totals(fm_histset_get(fm_histagg_total(d->hist), FM_CLASS_ALL, FM_DIR_UNIFLOW,
                                  FM_METRIC_LENGTH), &flows, NULL, NULL);
    if (flows == 0) {
        /* A snapshot of nothing would only say nan: skip it, and say so. */
        snprintf(err, errlen, "no flows in the histograms yet: nothing to export");
        return FM_EAGAIN;
    }
    export_meta(d, req);

    if ((rc = fm_histset_clone(fm_histagg_total(d->hist), &req->hist)) < 0) {
        snprintf(err, errlen, "cannot copy histograms: %s", fm_strerror(rc));
        return rc;
    }
    req->fits = fm_xcalloc(n ? n : 1, sizeof(*req->fits));
    for (size_t i = 0; i < n; i++) {
        const fm_fitsched_job_t *fs = fm_fitsched_get(d->fits, i);
        if (!fs->json || fs->job.direction != FM_DIR_UNIFLOW) {
            continue;
        }
        fm_export_fit_t *f = &req->fits[req->nfits++];
        f->cls = fs->job.cls;
        f->metric = fs->job.metric;
        f->y = fs->job.y;
        f->U = fs->job.U;
        f->L = fs->job.L;
        f->P = fs->job.P;
        f->max_iter = fs->job.max_iter;
        f->json = fm_xstrdup(fs->json);
    }
    return 0;
}

/* A snapshot's creation order goes into the store through its writer, the committer. */
static void export_created(void *ctx, const char *dir, const char *name, uint64_t created_ms,
                           uint64_t keep)
{
    fm_daemon_t *d = ctx;
    fm_committer_add_export(d->committer, dir, name, created_ms, keep);
}

static void committer_conf_from(const fm_config_t *c, fm_committer_conf_t *cc)
{
    cc->interval_ms = c->commit_interval_ms;
    cc->retention_ms = c->retention_ms;
}

static void exporter_conf_from(const fm_config_t *c, fm_exporter_conf_t *ec)
{
    ec->dir = c->export_dir;
    ec->keep = c->export_keep;
    ec->plots = c->export_plots;
    ec->interval_ms = c->export_interval_ms;
}

static void apply_log_target(const fm_config_t *cfg, bool foreground)
{
    fm_log_target_t target = FM_LOG_TARGET_STDERR;
    const char *t = cfg->log_target;

    if (!strcmp(t, "syslog")) {
        target = FM_LOG_TARGET_SYSLOG;
    } else if (!strcmp(t, "journal")) {
        target = FM_LOG_TARGET_JOURNAL;
    } else if (!strcmp(t, "auto")) {
        /* systemd connects stderr to the journal and says so in $JOURNAL_STREAM. */
        if (getenv("JOURNAL_STREAM")) {
            target = FM_LOG_TARGET_JOURNAL;
        } else if (!foreground) {
            target = FM_LOG_TARGET_SYSLOG;
        }
    }
    fm_log_init("flowmixd", target);
    fm_log_set_level(cfg->log_level);
    fm_log_set_local_time(!strcmp(cfg->log_time, "local"));
}

static void cache_conf_from(const fm_config_t *c, fm_cache_conf_t *cc)
{
    fm_cache_conf_default(cc);
    cc->memory_mib = c->cache_memory;
    cc->max_sources = (uint32_t)c->cache_max_sources;
    cc->active_ms = c->active_ms;
    cc->inactive_ms = c->inactive_ms;
    cc->export_delay_ms = c->export_delay_ms;
    cc->biflow = c->biflow;
    cc->prefault = true; /* the memory is the daemon's for its whole life: fault it in now */
    cc->mode = strcmp(c->cache_merge, "ft-profiler") ? FM_CACHE_MODE_MERGE : FM_CACHE_MODE_PROFILE;
}

/* Reload the statistics a previous run committed, so a restart does not reset them. */
static int resume_from_store(fm_daemon_t *d, fm_store_t *store, char *err, size_t errlen)
{
    uint64_t start;
    fm_histset_t *cur = fm_histagg_current(d->hist, &start);
    int rc = fm_store_load_total(store, fm_histagg_total(d->hist));
    if (rc == 0) {
        rc = fm_store_load_window(store, start, cur);
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot load statistics from %s: %s", d->cfg->store_path,
                 fm_strerror(rc));
        return rc;
    }
    uint64_t flows = 0;
    fm_hist_totals(fm_histset_get(fm_histagg_total(d->hist), FM_CLASS_ALL, FM_DIR_UNIFLOW,
                                  FM_METRIC_LENGTH), &flows, NULL, NULL);
    if (flows) {
        fm_log_notice("store, resumed %" PRIu64 " flows from %s", flows, d->cfg->store_path);
    }
    return 0;
}

/* Store, histograms and the modules that write the store.  The writer goes to the committer;
 * ctl queries open their own read-only connection (daemon_ctl.c). */
static int open_store(fm_daemon_t *d, char *err, size_t errlen)
{
    const fm_config_t *c = d->cfg;
    fm_committer_hooks_t hooks = {.ctx = d, .tick = commit_tick, .counters = commit_counters,
                                  .mark = commit_mark, .confirm = commit_confirm,
                                  .busy = commit_busy, .marks = commit_marks,
                                  .sync = commit_sync,
                                  .durable = commit_durable};
    fm_committer_conf_t cc;
    fm_store_t *store;
    size_t restored;
    int rc;

    if ((rc = fm_fs_check_writable(c->state_dir)) < 0 ||
        (rc = fm_fs_mkdirs(c->state_dir, 0750)) < 0) {
        snprintf(err, errlen, "cannot create state directory %s: %s", c->state_dir,
                 fm_strerror(rc));
        return rc;
    }
    if ((rc = fm_store_open(c->store_path, &store, err, errlen)) < 0) {
        return rc;
    }
    if ((rc = fm_histagg_new((unsigned)c->bin_exp, c->window_ms, &d->hist)) < 0) {
        snprintf(err, errlen, "cannot allocate histograms: %s", fm_strerror(rc));
        fm_store_close(store);
        return rc;
    }
    fm_histagg_tick(d->hist, fm_time_wall_ms());
    if ((rc = resume_from_store(d, store, err, errlen)) < 0 ||
        (rc = fm_fitsched_new(&d->loop, c->fits, c->nfits, c->fit_interval_ms,
                              fm_histagg_total(d->hist), on_fit_result, d, &d->fits)) < 0) {
        fm_store_close(store);
        return rc;
    }
    restored = fm_fitsched_restore(d->fits, store);
    if (restored) {
        fm_log_notice("fit, %zu fit result(s) restored from %s", restored, c->store_path);
    }
    /* [input.kafka] reads its high-water marks from the store before the committer owns it. */
    if ((rc = fm__histx_new(d, store, err, errlen)) < 0) {
        fm_store_close(store);
        return rc;
    }
    committer_conf_from(c, &cc);
    if ((rc = fm_committer_new(&d->loop, store, fm_histagg_store(d->hist), &cc, &hooks, &d->committer)) < 0) {
        snprintf(err, errlen, "committer: %s", fm_strerror(rc));
        fm_store_close(store);
        return rc;
    }
    return 0;
}

/* One cache shard per online CPU for workers = 0, within FM_SHARDS_MAX. */
static unsigned workers_from(const fm_config_t *c)
{
    long n = c->workers ? (long)c->workers : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > FM_SHARDS_MAX ? FM_SHARDS_MAX : (unsigned)n;
}

/* The data path (daemon_int.h): records → [dump,] shards → {histogram stage, plugins}. */
static int build_path(fm_daemon_t *d, char *err, size_t errlen)
{
    fm__daemon_path_t *p = &d->path;
    fm_shards_conf_t sc = {.workers = workers_from(d->cfg)};
    int rc;

    p->hist = (fm_histsink_t){.hist = d->hist};
    if (fm_plugins_want_hist(d->plugins)) {
        fm_histagg_enable_publish(d->hist);
    }
    if ((rc = fm_histsink_lanes_new(&p->hist, sc.workers, fm_plugins_sink(d->plugins),
                                    &p->lanes)) < 0) {
        snprintf(err, errlen, "cannot allocate histograms: %s", fm_strerror(rc));
        return rc;
    }
    fm_shards_ops_t ops = fm_histsink_lanes_ops(p->lanes);
    cache_conf_from(d->cfg, &sc.cache);
    if ((rc = fm_shards_new(&sc, &ops, &p->shards)) < 0) {
        snprintf(err, errlen, "cannot allocate a %" PRIu64 " MiB flow cache in %u shard(s): %s",
                 d->cfg->cache_memory, sc.workers, fm_strerror(rc));
        return rc;
    }
    if ((rc = fm_shards_start(p->shards, &d->loop)) < 0) {
        snprintf(err, errlen, "cache shards: %s", uv_strerror(rc));
        return rc;
    }
    if (sc.workers > 1) {
        fm_log_info("cache, %u shards on threads of their own, %" PRIu64 " MiB each",
                    sc.workers, d->cfg->cache_memory / sc.workers ? d->cfg->cache_memory /
                    sc.workers : 1);
    }
    if (d->opts.dump) {
        fm_sink_fanout_add(&p->in, (fm_sink_t){fm_flow_print_batch, stdout});
    }
    fm_sink_fanout_add(&p->in, fm_shards_sink(p->shards));
    return 0;
}

static int open_modules(fm_daemon_t *d, char *err, size_t errlen)
{
    fm_config_t *c = d->cfg;
    fm_exporter_conf_t ec;
    fm_ingest_conf_t ic = {.udp = c->udp, .rcvbuf = c->rcvbuf,
                           .max_exporters = (uint32_t)c->max_exporters,
                           .exporter_timeout_ms = c->exporter_timeout_ms,
                           .new_exporter = on_new_exporter, .new_exporter_ctx = d,
                           .gone_exporter = on_gone_exporter, .gone_exporter_ctx = d};
    fm_sink_t sink;
    int rc;

    if ((rc = open_store(d, err, errlen)) < 0) {
        return rc;
    }
    exporter_conf_from(c, &ec);
    if ((rc = fm_exporter_new(&d->loop, &ec, export_snapshot, d, &d->exporter)) < 0) {
        snprintf(err, errlen, "exporter: %s", fm_strerror(rc));
        return rc;
    }
    fm_exporter_set_order(d->exporter, c->store_path, export_created);
    /* Plugins before ingest: the first finished flow must find them loaded. */
    if ((rc = fm_plugins_new(c->plugins, c->nplugins, c->plugin_dir, &d->plugins, err,
                             errlen)) < 0) {
        return rc;
    }
    if (c->nplugins) {
        fm_log_notice("plugin, %zu output plugin(s) loaded", fm_plugins_count(d->plugins));
    }
    if ((rc = build_path(d, err, errlen)) < 0) {
        return rc;
    }
    if ((rc = fm__daemon_capture_start(d, err, errlen)) < 0) {
        return rc;
    }
    fm_decode_conf_default(&ic.decode);
    ic.decode.template_timeout_ms = c->template_timeout_ms;
    ic.decode.max_templates = (uint32_t)c->max_templates;
    ic.decode.max_templates_total = (uint32_t)c->max_templates_total;
    sink = fm_sink_fanout(&d->path.in);
    if ((rc = fm_ingest_new(&d->loop, &ic, sink.fn, sink.ctx, &d->ingest, err, errlen)) < 0 ||
        (rc = fm_ingest_start(d->ingest, err, errlen)) < 0) {
        return rc;
    }
    return d->opts.control_start ? d->opts.control_start(d, err, errlen) : 0;
}

/* Timers of the modules and the daemon's tick. */
static int start_timers(fm_daemon_t *d)
{
    int rc;
    if ((rc = uv_timer_start(&d->tick, on_tick, TICK_MS, TICK_MS)) < 0 ||
        (rc = fm_committer_start(d->committer)) < 0 || (rc = fm_fitsched_start(d->fits)) < 0 ||
        (rc = fm_exporter_start(d->exporter)) < 0) {
        return rc;
    }
    return 0;
}

int fm__daemon_reload(fm_daemon_t *d, char **restart, char *err, size_t errlen)
{
    fm_config_t *n, *o = d->cfg;
    fm_cache_conf_t cc;
    fm_committer_conf_t kc;
    fm_exporter_conf_t ec;
    char *applied = NULL;
    int rc = fm_config_load(d->opts.config_path, &n, err, errlen);

    *restart = NULL;
    if (rc < 0) {
        return rc; /* the caller logs it; the old configuration stays */
    }
    if (d->opts.debug) {
        n->log_level = LOG_DEBUG; /* -d holds for the whole run */
    }
    /* The key table says what a reload applies; everything else is named and kept. */
    if (fm_config_reload_diff(o, n, &applied, restart)) {
        fm_log_warn("config, reload: changes to %s take effect only after a restart; the "
                    "running values stay", *restart);
    }
    fm_config_keep_running(n, o);
    fm__daemon_capture_reload(n, o);
    fm_log_set_level(n->log_level);
    fm_log_set_local_time(!strcmp(n->log_time, "local"));
    cache_conf_from(n, &cc);
    fm_shards_set_conf(d->path.shards, &cc);
    fm_histagg_set_window(d->hist, n->window_ms);
    d->cfg = n;
    fm_config_free(o);
    committer_conf_from(n, &kc);
    exporter_conf_from(n, &ec);
    if ((rc = fm_fitsched_reconfigure(d->fits, n->fits, n->nfits, n->fit_interval_ms)) < 0 ||
        (rc = fm_committer_reconfigure(d->committer, &kc)) < 0 ||
        (rc = fm_exporter_reconfigure(d->exporter, &ec)) < 0) {
        fm_log_err("config, reload: cannot restart a timer: %s", uv_strerror(rc));
    }
    fm_log_notice("config, reloaded %s: %zu fit jobs; applied: %s",
                  d->opts.config_path ? d->opts.config_path : "(defaults)", n->nfits,
                  applied ? applied : "no key changed");
    free(applied);
    return 0;
}

/* A directory the daemon creates files in: writable, or creatable. */
static int check_dir(const char *what, const char *path, char *err, size_t errlen)
{
    int rc = fm_fs_check_writable(path);
    if (rc < 0) {
        snprintf(err, errlen, "%s %s: not writable: %s", what, path, fm_strerror(rc));
    }
    return rc;
}

/* The directory part of a file path ("." when it has none). */
static void dir_of(const char *file, char *out, size_t len)
{
    const char *slash = strrchr(file, '/');
    if (!slash) {
        snprintf(out, len, ".");
    } else {
        snprintf(out, len, "%.*s", slash == file ? 1 : (int)(slash - file), file);
    }
}

int fm_daemon_check(const fm_config_t *cfg, char *err, size_t errlen)
{
    char dir[4096];
    int rc;

    dir_of(cfg->store_path, dir, sizeof(dir));
    if ((rc = check_dir("state directory", cfg->state_dir, err, errlen)) < 0 ||
        (rc = check_dir("[store] path directory", dir, err, errlen)) < 0) {
        return rc;
    }
    dir_of(cfg->ctl_socket, dir, sizeof(dir));
    if ((rc = check_dir("[control] socket directory", dir, err, errlen)) < 0 ||
        (rc = fm_ingest_check(cfg->udp, err, errlen)) < 0 ||
        (rc = fm_plugins_check(cfg->plugins, cfg->nplugins, cfg->plugin_dir, cfg->file, err,
                               errlen)) < 0) {
        return rc;
    }
#ifndef HAVE_RDKAFKA
    if (cfg->kafka_in.enabled) {
        snprintf(err, errlen, "[input.kafka]: this flowmixd was built without librdkafka");
        return FM_ECONFIG;
    }
#endif
    return 0;
}

/* ---- the state machine -------------------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

/* CLOSING, after the final commit: close the daemon's own handles; the loop then ends. */
static void on_committed(void *arg, int rc)
{
    fm_daemon_t *d = arg;
    if (rc < 0) {
        d->life.exit_status = 1; /* logged by the committer: statistics were lost */
    }
    for (size_t i = 0; i < 3; i++) {
        uv_close((uv_handle_t *)&d->sig[i], on_closed);
    }
}

static void enter_closing(fm_daemon_t *d)
{
    d->life.state = FM__DAEMON_CLOSING;
    if (d->committer) {
        fm_committer_stop(d->committer, on_committed, d);
    } else {
        on_committed(d, 0);
    }
}

/* One module of DRAINING has stopped; the last one moves on to CLOSING. */
static void drained_one(void *arg)
{
    fm_daemon_t *d = arg;
    if (--d->life.draining == 0) {
        enter_closing(d);
    }
}

static void begin_shutdown(fm_daemon_t *d, const char *why)
{
    if (d->life.state >= FM__DAEMON_DRAINING) {
        return;
    }
    d->life.state = FM__DAEMON_DRAINING;
    notify("STOPPING=1");
    fm_log_notice("daemon, %s: shutting down", why);
    d->life.draining = 1; /* held until every stop below is issued */
    uv_close((uv_handle_t *)&d->tick, on_closed);
    if (d->ingest) {
        d->life.draining++;
        fm_ingest_stop(d->ingest, drained_one, d);
    }
    if (d->opts.control_stop) {
        d->life.draining++;
        d->opts.control_stop(d, drained_one, d);
    }
    fm__histx_stop(d); /* no deltas applied after the final commit is taken */
    fm__daemon_capture_stop(d); /* their open flows reach the cache before its flush */
    if (d->path.shards) {
        /* every cached flow into the deltas the final commit takes */
        flush_cache(d);
        fm_shards_stop(d->path.shards);
    }
    fm__histx_publish(d, false); /* its job ends before the loop: fm_plugins_free drains it */
    if (d->fits) {
        d->life.draining++;
        fm_fitsched_stop(d->fits, drained_one, d); /* their results go into the final commit */
    }
    if (d->exporter) {
        d->life.draining++;
        fm_exporter_stop(d->exporter, drained_one, d);
    }
    drained_one(d);
}

static void on_signal(uv_signal_t *s, int signum)
{
    fm_daemon_t *d = s->data;
    char err[512];

    if (signum == SIGHUP) {
        if (d->life.state != FM__DAEMON_RUNNING) {
            return;
        }
        notify("RELOADING=1");
        char *restart = NULL;
        if (fm__daemon_reload(d, &restart, err, sizeof(err)) < 0) {
            fm_log_err("config, reload failed, keeping the running configuration: %s", err);
        }
        free(restart);
        notify("READY=1");
        return;
    }
    begin_shutdown(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static int start_signals(fm_daemon_t *d)
{
    static const int signums[3] = {SIGTERM, SIGINT, SIGHUP};
    int rc;
    for (size_t i = 0; i < 3; i++) {
        if ((rc = uv_signal_init(&d->loop, &d->sig[i])) < 0) {
            return rc;
        }
        d->sig[i].data = d;
        if ((rc = uv_signal_start(&d->sig[i], on_signal, signums[i])) < 0) {
            return rc;
        }
    }
    signal(SIGPIPE, SIG_IGN); /* a vanished ctl client must not kill us */
    return 0;
}

static void free_modules(fm_daemon_t *d)
{
    fm_ingest_free(d->ingest);
    /* The shards' threads end before the plugins they feed. */
    fm_shards_free(d->path.shards);
    fm_histsink_lanes_free(d->path.lanes);
    /* The cache was flushed into the plugin queues at shutdown: drain and flush them now. */
    fm_plugins_free(d->plugins);
    fm__histx_free(d); /* after the last commit job, which commits its offsets */
    fm_exporter_free(d->exporter);
    fm_fitsched_free(d->fits);
    fm_committer_free(d->committer);
    if (d->opts.control_free) {
        d->opts.control_free(d);
    }
    fm_histagg_free(d->hist);
    fm_rate_free(d->n.rates);
    fm_config_free(d->cfg);
}

int fm_daemon_main(fm_config_t *cfg, const fm_daemon_opts_t *opts)
{
    fm_daemon_t *d = fm_xcalloc(1, sizeof(*d));
    char err[512], where[256];
    int rc, status, detach_fd = -1;

    d->cfg = cfg;
    d->opts = *opts;
    d->n.start_ms = fm_time_wall_ms();
    apply_log_target(cfg, opts->foreground);
    gsl_set_error_handler_off(); /* GSL errors are statuses we check, never aborts */
    /* Detach first (a fork keeps no threads), but let the parent exit only with the result of
     * opening sockets, database and plugins.  Under systemd (NOTIFY_SOCKET) never: it tracks
     * the process it started and waits for READY=1. */
    if (!opts->foreground && !getenv("NOTIFY_SOCKET") &&
        (rc = fm_detach_begin(&detach_fd)) < 0) {
        fm_log_err("daemon, cannot detach: %s", fm_strerror(rc));
        fprintf(stderr, "flowmixd: cannot detach: %s\n", fm_strerror(rc));
        return 1;
    }
    if ((rc = uv_loop_init(&d->loop)) < 0) {
        snprintf(err, sizeof(err), "cannot create the event loop: %s", uv_strerror(rc));
        fm_log_err("daemon, %s", err);
        fm_detach_finish(detach_fd, rc, err);
        return 1;
    }
    if ((rc = uv_timer_init(&d->loop, &d->tick)) < 0 || (rc = start_signals(d)) < 0) {
        /* Before any module exists: nothing to drain, and the process is about to end. */
        snprintf(err, sizeof(err), "signals and timers: %s", uv_strerror(rc));
        fm_log_err("daemon, start-up failed: %s", err);
        fm_detach_finish(detach_fd, rc, err);
        return 1;
    }
    d->tick.data = d;
    rc = open_modules(d, err, sizeof(err));
    if (rc == 0 && (rc = start_timers(d)) < 0) {
        snprintf(err, sizeof(err), "cannot start timers: %s", uv_strerror(rc));
    }
    fm_detach_finish(detach_fd, rc, err);
    if (rc < 0) {
        fm_log_err("daemon, start-up failed: %s", err);
        d->life.exit_status = 1;
        begin_shutdown(d, "start-up failed");
    } else {
#ifdef HAVE_SYSTEMD
        uint64_t usec;
        d->n.watchdog = sd_watchdog_enabled(0, &usec) > 0;
#endif
        d->life.state = FM__DAEMON_RUNNING;
        fm_ingest_describe(d->ingest, where, sizeof(where));
        fm_log_notice("daemon, flowmixd %s ready: UDP %s, control %s, state %s",
                      PACKAGE_VERSION, where, cfg->ctl_socket, cfg->state_dir);
        notify("READY=1");
    }
    (void)uv_run(&d->loop, UV_RUN_DEFAULT); /* non-zero only if stopped early: see below */
    rc = uv_loop_close(&d->loop);
    if (rc != 0) {
        fm_log_err("daemon, event loop still had open handles at exit (a bug)");
        d->life.exit_status = 1;
    }
    status = d->life.exit_status;
    if (status == 0) {
        fm_log_notice("daemon, clean shutdown");
    }
    free_modules(d);
    free(d);
    fm_plot_cleanup(); /* cairo/fontconfig caches of the export plots */
    return status;
}
