/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Daemon lifecycle and the flow path.  Start-up order follows STYLE §7: log, config, store,
 * cache/histograms/fits, ingest, control socket, then readiness.  Records from ingest go into
 * the cache; finished flows from the cache update the running histograms and the deltas that the
 * next store commit writes.  Slow work (commits, fits, exports) runs in the thread pool
 * (daemon_jobs.c).  Shutdown reverses start-up, flushes the cache, commits a last time and
 * requires uv_loop_close() to succeed.
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
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "daemon_int.h"
#include "plot.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/time.h"

#define TICK_MS 1000

static void notify(const char *state)
{
#ifdef HAVE_SYSTEMD
    sd_notify(0, state);
#else
    (void)state;
#endif
}

static void dump_records(const fm_flow_t *flows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const fm_flow_t *f = &flows[i];
        char sa[64], da[64];
        fm_flow_addr_str(f->src, sa, sizeof(sa));
        fm_flow_addr_str(f->dst, da, sizeof(da));
        printf("record exporter=%u domain=%u first=%" PRIu64 " last=%" PRIu64
               " proto=%u %s:%u > %s:%u packets=%" PRIu64 " octets=%" PRIu64
               " rev_packets=%" PRIu64 " rev_octets=%" PRIu64 " sampling=%u\n",
               f->exporter, f->domain, f->first_ms, f->last_ms, f->proto, sa, f->sport, da,
               f->dport, f->packets, f->octets, f->rev_packets, f->rev_octets, f->sampling);
    }
    fflush(stdout);
}

/* Decoded records → cache.  Runs once per datagram's batch. */
static void on_records(void *ctx, const fm_flow_t *flows, size_t n)
{
    fm_daemon_t *d = ctx;
    if (d->opts.dump) {
        dump_records(flows, n);
    }
    d->records_in += n;
    fm_cache_insert_batch(d->cache, flows, n);
}

/* Finished flows from the cache → histograms (total + window) and the commit deltas. */
static void on_finished(void *ctx, const fm_flow_t *flows, size_t n)
{
    fm_daemon_t *d = ctx;
    uint64_t now = fm_time_wall_ms(), start;

    fm_histwin_add_flows(d->hw, flows, n, now);
    fm_histwin_current(d->hw, &start);
    fm_histset_add_flows(fm__daemon_win_delta(d, start), flows, n);
    if (fm_plugins_want_hist(d->plugins)) {
        fm__daemon_pub_add(d, flows, n, start);
    }
    fm_plugins_consume(d->plugins, flows, n);
    d->flows_finished += n;
}

static void on_window_closed(void *ctx, uint64_t start_ms, uint64_t end_ms, fm_histset_t *closed)
{
    fm_daemon_t *d = ctx;
    for (fm__pending_win_t *w = d->pending_wins; w; w = w->next) {
        if (w->start_ms == start_ms) {
            w->closed = true;
            w->end_ms = end_ms;
        }
    }
    fm_log_info("hist, window %" PRIu64 "-%" PRIu64 " closed", start_ms, end_ms);
    fm_histset_free(closed); /* its bins are in the store; fits read the total and the DB */
}

static void on_new_exporter(void *ctx, const fm_ingest_exporter_t *e)
{
    fm_daemon_t *d = ctx;
    for (size_t i = 0; i < d->cfg->nexporters; i++) {
        const fm_config_exporter_t *x = &d->cfg->exporters[i];
        uint8_t a[16], b[16];
        if (fm_flow_addr_parse(x->address, a, NULL) == 0 &&
            fm_flow_addr_parse(e->address, b, NULL) == 0 && memcmp(a, b, 16) == 0) {
            fm_cache_set_timeouts(d->cache, e->id,
                                  x->active_ms ? x->active_ms : d->cfg->active_ms,
                                  x->inactive_ms ? x->inactive_ms : d->cfg->inactive_ms);
            fm_log_info("cache, exporter %s uses the timeouts of [exporter.%s]", e->address,
                        x->name);
        }
    }
}

/* Sample the counters behind the 1- and 15-minute rates of `status` (rate.h). */
static void update_rate(fm_daemon_t *d, uint64_t now)
{
    fm_ingest_stats_t is;
    fm_ingest_stats(d->ingest, &is);
    uint64_t v[FM__RATE_COUNT] = {d->records_in, is.datagrams, d->flows_finished,
                                  is.kernel_drops};
    if (!d->rates) {
        d->rates = fm_rate_new(FM__RATE_COUNT, FM__RATE_SPAN_MS, TICK_MS);
    }
    fm_rate_sample(d->rates, now, v);
    d->records_per_s = fm_rate_get(d->rates, FM__RATE_RECORDS, 60000);
}

static void on_tick(uv_timer_t *t)
{
    fm_daemon_t *d = t->data;
    uint64_t now = fm_time_wall_ms();
    char status[160];

    fm_cache_advance(d->cache, now);
    fm_histwin_tick(d->hw, now);
    fm_plugins_tick(d->plugins, now);
    update_rate(d, now);
    fm__daemon_metrics_publish(d);
    snprintf(status, sizeof(status), "STATUS=%.0f records/s, %" PRIu64 " flows finished",
             d->records_per_s, d->flows_finished);
    notify(status);
    if (d->watchdog) {
        notify("WATCHDOG=1");
    }
}

static void on_commit_timer(uv_timer_t *t)
{
    fm__daemon_publish(t->data, false);
    fm__daemon_commit(t->data);
}

static void on_fit_timer(uv_timer_t *t)
{
    fm__daemon_fit_all(t->data);
}

static void on_export_timer(uv_timer_t *t)
{
    fm_daemon_t *d = t->data;
    char err[256];
    int rc = fm__daemon_export(d, err, sizeof(err));
    if (rc == FM_EAGAIN) {
        fm_log_notice("export, scheduled snapshot skipped: %s", err);
    } else if (rc < 0) {
        fm_log_warn("export, scheduled export not started: %s", err);
    }
}

void fm__daemon_flush(fm_daemon_t *d)
{
    fm_cache_flush(d->cache);
    fm_plugins_flush(d->plugins); /* after the cache: its flows are queued first */
    fm__daemon_publish(d, true); /* their histogram deltas, then a flush once those are queued */
}

static void start_timers(fm_daemon_t *d)
{
    const fm_config_t *c = d->cfg;
    uv_timer_start(&d->t_tick, on_tick, TICK_MS, TICK_MS);
    uv_timer_start(&d->t_commit, on_commit_timer, c->commit_interval_ms, c->commit_interval_ms);
    uv_timer_stop(&d->t_fit);
    if (c->fit_interval_ms) {
        uv_timer_start(&d->t_fit, on_fit_timer, c->fit_interval_ms, c->fit_interval_ms);
    }
    uv_timer_stop(&d->t_export);
    if (c->export_interval_ms) {
        uv_timer_start(&d->t_export, on_export_timer, c->export_interval_ms,
                       c->export_interval_ms);
    }
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
static int resume_from_store(fm_daemon_t *d, char *err, size_t errlen)
{
    uint64_t start;
    fm_histset_t *cur = fm_histwin_current(d->hw, &start);
    int rc = fm_store_load_total(d->store, fm_histwin_total(d->hw));
    if (rc == 0) {
        rc = fm_store_load_window(d->store, start, cur);
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot load statistics from %s: %s", d->cfg->store_path,
                 fm_strerror(rc));
        return rc;
    }
    uint64_t flows = 0;
    fm_hist_totals(fm_histset_get(fm_histwin_total(d->hw), FM_CLASS_ALL, FM_DIR_UNIFLOW,
                                  FM_METRIC_LENGTH), &flows, NULL, NULL);
    if (flows) {
        fm_log_notice("store, resumed %" PRIu64 " flows from %s", flows, d->cfg->store_path);
    }
    return 0;
}

static int open_modules(fm_daemon_t *d, char *err, size_t errlen)
{
    fm_config_t *c = d->cfg;
    fm_cache_conf_t cc;
    fm_ingest_conf_t ic = {.udp = c->udp, .rcvbuf = c->rcvbuf,
                           .max_exporters = (uint32_t)c->max_exporters,
                           .new_exporter = on_new_exporter, .new_exporter_ctx = d};
    int rc;

    if ((rc = fm_fs_mkdirs(c->state_dir, 0750)) < 0) {
        snprintf(err, errlen, "cannot create state directory %s: %s", c->state_dir,
                 fm_strerror(rc));
        return rc;
    }
    if ((rc = fm_store_open(c->store_path, &d->store, err, errlen)) < 0) {
        return rc;
    }
    cache_conf_from(c, &cc);
    if ((rc = fm_cache_new(&cc, on_finished, d, &d->cache)) < 0) {
        snprintf(err, errlen, "cannot allocate a %" PRIu64 " MiB flow cache: %s",
                 c->cache_memory, fm_strerror(rc));
        return rc;
    }
    if ((rc = fm_histwin_new((unsigned)c->bin_exp, c->window_ms, on_window_closed, d,
                             &d->hw)) < 0) {
        snprintf(err, errlen, "cannot allocate histograms: %s", fm_strerror(rc));
        return rc;
    }
    fm_histwin_tick(d->hw, fm_time_wall_ms());
    if ((rc = resume_from_store(d, err, errlen)) < 0) {
        return rc;
    }
    fm__daemon_fits_init(d);
    /* Plugins before ingest: the first finished flow must find them loaded. */
    if ((rc = fm_plugins_new(c->plugins, c->nplugins, c->plugin_dir, &d->plugins, err,
                             errlen)) < 0) {
        return rc;
    }
    if (c->nplugins) {
        fm_log_notice("plugin, %zu output plugin(s) loaded", fm_plugins_count(d->plugins));
    }
    if ((rc = fm__daemon_kafka_in_open(d, err, errlen)) < 0 ||
        (rc = fm__daemon_capture_start(d, err, errlen)) < 0) {
        return rc;
    }
    fm_decode_conf_default(&ic.decode);
    ic.decode.template_timeout_ms = c->template_timeout_ms;
    ic.decode.max_templates = (uint32_t)c->max_templates;
    if ((rc = fm_ingest_new(&d->loop, &ic, on_records, d, &d->ingest, err, errlen)) < 0 ||
        (rc = fm_ingest_start(d->ingest, err, errlen)) < 0) {
        return rc;
    }
    if ((rc = fm__daemon_ctl_start(d, err, errlen)) < 0) {
        return rc;
    }
    return fm__daemon_metrics_start(d, err, errlen);
}

static bool same_str(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

/* Plugins are loaded once: compare their sections so a reload can say when a restart is due. */
static bool plugins_same(const fm_config_t *a, const fm_config_t *b)
{
    if (a->nplugins != b->nplugins || !same_str(a->plugin_dir, b->plugin_dir)) {
        return false;
    }
    for (size_t i = 0; i < a->nplugins; i++) {
        const fm_config_plugin_t *p = &a->plugins[i], *q = &b->plugins[i];
        if (!same_str(p->name, q->name) || !same_str(p->path, q->path) || p->nkeys != q->nkeys) {
            return false;
        }
        for (size_t k = 0; k < p->nkeys; k++) {
            if (!same_str(p->keys[k], q->keys[k]) || !same_str(p->values[k], q->values[k])) {
                return false;
            }
        }
    }
    return true;
}

static bool kafka_in_same(const fm_config_kafka_in_t *a, const fm_config_kafka_in_t *b)
{
    if (a->enabled != b->enabled || !same_str(a->brokers, b->brokers) ||
        !same_str(a->topic, b->topic) || !same_str(a->group, b->group) ||
        a->nprops != b->nprops) {
        return false;
    }
    for (size_t i = 0; i < a->nprops; i++) {
        if (!same_str(a->keys[i], b->keys[i]) || !same_str(a->values[i], b->values[i])) {
            return false;
        }
    }
    return true;
}

int fm__daemon_reload(fm_daemon_t *d, char *err, size_t errlen)
{
    fm_config_t *n, *o = d->cfg;
    fm_cache_conf_t cc;
    int rc = fm_config_load(d->opts.config_path, &n, err, errlen);

    if (rc < 0) {
        return rc; /* the caller logs it; the old configuration stays */
    }
    if (strcmp(n->udp, o->udp) || n->rcvbuf != o->rcvbuf || n->cache_memory != o->cache_memory ||
        strcmp(n->store_path, o->store_path) || strcmp(n->ctl_socket, o->ctl_socket) ||
        n->bin_exp != o->bin_exp || strcmp(n->cache_merge, o->cache_merge)) {
        fm_log_warn("config, reload: changes to [listen], [cache] memory and merge, "
                    "[hist] bin_exp, "
                    "[store] path or [control] socket take effect only after a restart");
    }
    if (!plugins_same(n, o)) {
        fm_log_warn("config, reload: [plugin.*] changes take effect only after a restart; "
                    "the loaded plugins keep running");
    }
    /* A collector's deltas must keep one id per run, and the consumer is created once. */
    if (strcmp(n->collector_id, o->collector_id) || !kafka_in_same(&n->kafka_in, &o->kafka_in)) {
        fm_log_warn("config, reload: changes to [daemon] collector_id and [input.kafka] take "
                    "effect only after a restart");
    }
    fm_config_kafka_in_t kin = n->kafka_in;
    n->kafka_in = o->kafka_in;
    o->kafka_in = kin;
    fm__daemon_capture_reload(n, o);
    free(n->collector_id);
    n->collector_id = fm_xstrdup(o->collector_id);
    fm_log_set_level(n->log_level);
    cache_conf_from(n, &cc);
    cc.memory_mib = o->cache_memory;
    fm_cache_set_conf(d->cache, &cc);
    fm_histwin_set_window(d->hw, n->window_ms);
    /* Keep what must not change without a restart, take everything else. */
    free(n->udp);
    n->udp = fm_xstrdup(o->udp);
    n->rcvbuf = o->rcvbuf;
    n->cache_memory = o->cache_memory;
    n->bin_exp = o->bin_exp;
    free(n->cache_merge);
    n->cache_merge = fm_xstrdup(o->cache_merge);
    free(n->store_path);
    n->store_path = fm_xstrdup(o->store_path);
    free(n->ctl_socket);
    n->ctl_socket = fm_xstrdup(o->ctl_socket);
    fm__daemon_fits_fini(d);
    d->cfg = n;
    fm_config_free(o);
    fm__daemon_fits_init(d);
    start_timers(d);
    fm_log_notice("config, reloaded %s: %zu fit jobs, fit interval %" PRIu64
                  " s, export interval %" PRIu64 " s", d->opts.config_path ? d->opts.config_path
                  : "(defaults)", d->cfg->nfits, d->cfg->fit_interval_ms / 1000,
                  d->cfg->export_interval_ms / 1000);
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void ingest_stopped(void *arg)
{
    (void)arg;
}

static void ctl_stopped(void *arg)
{
    (void)arg;
}

/* Runs once the last store job has returned: close every remaining handle. */
static void finish_shutdown(fm_daemon_t *d)
{
    uv_close((uv_handle_t *)&d->t_tick, on_closed);
    uv_close((uv_handle_t *)&d->t_commit, on_closed);
    uv_close((uv_handle_t *)&d->t_fit, on_closed);
    uv_close((uv_handle_t *)&d->t_export, on_closed);
    uv_close((uv_handle_t *)&d->sig_term, on_closed);
    uv_close((uv_handle_t *)&d->sig_int, on_closed);
    uv_close((uv_handle_t *)&d->sig_hup, on_closed);
}

static void begin_shutdown(fm_daemon_t *d, const char *why)
{
    if (d->stopping) {
        return;
    }
    d->stopping = true;
    notify("STOPPING=1");
    fm_log_notice("daemon, %s: shutting down", why);
    uv_timer_stop(&d->t_fit);
    uv_timer_stop(&d->t_export);
    uv_timer_stop(&d->t_tick);
    uv_timer_stop(&d->t_commit);
    if (d->ingest) {
        fm_ingest_stop(d->ingest, ingest_stopped, d);
    }
    if (d->ctl) {
        fm_ctl_stop(d->ctl, ctl_stopped, d);
    }
    fm__daemon_kafka_in_stop(d); /* no deltas applied after the final commit is taken */
    fm__daemon_capture_stop(d);  /* their open flows reach the cache before its flush */
    if (d->cache) {
        fm_cache_flush(d->cache);
    }
    fm__daemon_publish(d, false); /* its job ends before the loop: fm_plugins_free drains it */
    /* The final commit is synchronous from here: the loop ends once the store job is done. */
    fm__daemon_commit(d);
    finish_shutdown(d);
}

static void on_signal(uv_signal_t *s, int signum)
{
    fm_daemon_t *d = s->data;
    char err[512];

    if (signum == SIGHUP) {
        notify("RELOADING=1");
        if (fm__daemon_reload(d, err, sizeof(err)) < 0) {
            fm_log_err("config, reload failed, keeping the running configuration: %s", err);
        }
        notify("READY=1");
        return;
    }
    begin_shutdown(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void start_signals(fm_daemon_t *d)
{
    uv_signal_init(&d->loop, &d->sig_term);
    uv_signal_init(&d->loop, &d->sig_int);
    uv_signal_init(&d->loop, &d->sig_hup);
    d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
    uv_signal_start(&d->sig_term, on_signal, SIGTERM);
    uv_signal_start(&d->sig_int, on_signal, SIGINT);
    uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
    signal(SIGPIPE, SIG_IGN); /* a vanished ctl client must not kill us */
}

static void init_timers(fm_daemon_t *d)
{
    uv_timer_init(&d->loop, &d->t_tick);
    uv_timer_init(&d->loop, &d->t_commit);
    uv_timer_init(&d->loop, &d->t_fit);
    uv_timer_init(&d->loop, &d->t_export);
    d->t_tick.data = d->t_commit.data = d->t_fit.data = d->t_export.data = d;
}

static void free_modules(fm_daemon_t *d)
{
    fm__daemon_fits_fini(d);
    while (d->pending_wins) {
        fm__pending_win_t *w = d->pending_wins;
        d->pending_wins = w->next;
        fm_histset_free(w->delta);
        free(w);
    }
    fm__daemon_metrics_free(d);
    fm_ctl_free(d->ctl);
    fm_ingest_free(d->ingest);
    fm__daemon_pub_fini(d);
    /* The cache was flushed into the plugin queues at shutdown: drain and flush them now. */
    fm_plugins_free(d->plugins);
    fm__daemon_kafka_in_free(d); /* after the last commit job, which commits its offsets */
    fm_cache_free(d->cache);
    fm_histwin_free(d->hw);
    fm_rate_free(d->rates);
    fm_store_close(d->store);
    fm_config_free(d->cfg);
}

int fm_daemon_main(fm_config_t *cfg, const fm_daemon_opts_t *opts)
{
    fm_daemon_t *d = fm_xcalloc(1, sizeof(*d));
    char err[512], where[256];
    int rc, status;

    d->cfg = cfg;
    d->opts = *opts;
    d->start_ms = fm_time_wall_ms();
    fm_ratelimit_init(&d->rl_store, 3, 60000);
    apply_log_target(cfg, opts->foreground);
    gsl_set_error_handler_off(); /* GSL errors are statuses we check, never aborts */
    if (!opts->foreground && !getenv("NOTIFY_SOCKET") && daemon(1, 0) < 0) {
        fm_log_err("daemon, cannot detach: %s", strerror(errno));
        return 1;
    }
    uv_loop_init(&d->loop);
    init_timers(d);
    start_signals(d);
    rc = open_modules(d, err, sizeof(err));
    if (rc < 0) {
        fm_log_err("daemon, start-up failed: %s", err);
        d->exit_status = 1;
        begin_shutdown(d, "start-up failed");
    } else {
#ifdef HAVE_SYSTEMD
        uint64_t usec;
        d->watchdog = sd_watchdog_enabled(0, &usec) > 0;
#endif
        start_timers(d);
        fm_ingest_describe(d->ingest, where, sizeof(where));
        fm_log_notice("daemon, flowmixd %s ready: UDP %s, control %s, state %s",
                      PACKAGE_VERSION, where, cfg->ctl_socket, cfg->state_dir);
        notify("READY=1");
    }
    uv_run(&d->loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&d->loop);
    if (rc != 0) {
        fm_log_err("daemon, event loop still had open handles at exit (a bug)");
        d->exit_status = 1;
    }
    status = d->exit_status;
    if (status == 0) {
        fm_log_notice("daemon, clean shutdown");
    }
    free_modules(d);
    free(d);
    fm_plot_cleanup(); /* cairo/fontconfig caches of the export plots */
    return status;
}
