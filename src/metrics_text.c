/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Prometheus text exposition of status, exporters, plugins, histograms and mixtures; see
 * metrics_text.h.  The table below maps every status member to a metric name, type and help;
 * a member missing from it still appears (untyped), so a counter added to `status` is never
 * silently absent from /metrics.
 */
#include "config.h"

#include "metrics_text.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mixture.h"

typedef enum { T_COUNTER, T_GAUGE, T_SKIP } mtype_t;

typedef struct {
    const char *path;  /* dotted path in the status reply */
    const char *name;  /* metric name */
    mtype_t type;
    double scale;      /* multiply the value (ms → s); 0 means 1 */
    const char *help;
} status_metric_t;

static const status_metric_t status_metrics[] = {
    {"version", NULL, T_SKIP, 0, NULL},
    {"uptime_s", "flowmix_uptime_seconds", T_GAUGE, 0, "Seconds since flowmixd started."},
    {"start_ms", "flowmix_start_time_seconds", T_GAUGE, 1e-3,
     "Start time of flowmixd, seconds since the epoch."},
    {"now_ms", NULL, T_SKIP, 0, NULL},
    {"records_per_s", NULL, T_SKIP, 0, NULL}, /* rates: Prometheus derives them */
    {"rate_1m", NULL, T_SKIP, 0, NULL},
    {"rate_15m", NULL, T_SKIP, 0, NULL},
    {"records", "flowmix_records_total", T_COUNTER, 0, "Flow records decoded."},
    {"datagrams", "flowmix_datagrams_total", T_COUNTER, 0, "Export datagrams received."},
    {"bytes", "flowmix_received_bytes_total", T_COUNTER, 0, "Bytes of export datagrams."},
    {"malformed", "flowmix_malformed_datagrams_total", T_COUNTER, 0,
     "Datagrams dropped as malformed."},
    {"recv_errors", "flowmix_receive_errors_total", T_COUNTER, 0, "Socket receive errors."},
    {"kernel_drops", "flowmix_kernel_drops_total", T_COUNTER, 0,
     "Datagrams the kernel dropped because the socket buffer was full."},
    {"exporters", "flowmix_exporters", T_GAUGE, 0, "Exporters tracked now."},
    {"exporters_evicted", "flowmix_exporters_evicted_total", T_COUNTER, 0,
     "Exporters forgotten to stay within max_exporters."},
    {"exporters_expired", "flowmix_exporters_expired_total", T_COUNTER, 0,
     "Exporters forgotten after exporter_timeout of silence."},
    {"flows_finished", "flowmix_flows_finished_total", T_COUNTER, 0,
     "Flows that left the cache into the histograms."},
    {"cache.entries", "flowmix_cache_entries", T_GAUGE, 0, "Flows in the cache."},
    {"cache.capacity", "flowmix_cache_capacity_entries", T_GAUGE, 0,
     "Flows the cache can hold."},
    {"cache.bytes", "flowmix_cache_memory_bytes", T_GAUGE, 0, "Memory of the flow cache."},
    {"cache.bytes_per_entry", "flowmix_cache_entry_bytes", T_GAUGE, 0,
     "Memory per cache entry."},
    {"cache.inserts", "flowmix_cache_inserts_total", T_COUNTER, 0,
     "Records that started a new cached flow."},
    {"cache.merges", "flowmix_cache_merges_total", T_COUNTER, 0,
     "Records merged into a cached flow."},
    {"cache.biflow_pairs", "flowmix_cache_biflow_pairs_total", T_COUNTER, 0,
     "Uniflows paired into biflows."},
    {"cache.merge_conflicts", "flowmix_cache_merge_conflicts_total", T_COUNTER, 0,
     "Records that matched a cached flow but could not be merged."},
    {"cache.expired", "flowmix_cache_expired_total", T_COUNTER, 0,
     "Flows that left the cache on a timeout."},
    {"cache.evicted", "flowmix_cache_evicted_total", T_COUNTER, 0,
     "Flows pushed out early because the cache was full."},
    {"cache.emitted", "flowmix_cache_emitted_total", T_COUNTER, 0,
     "Flows that left the cache."},
    {"cache.sources", "flowmix_cache_sources", T_GAUGE, 0,
     "Flow sources (exporter and observation domain) the cache tracks."},
    {"cache.max_sources", "flowmix_cache_max_sources", T_GAUGE, 0,
     "Most flow sources the cache tracks ([cache] max_sources)."},
    {"cache.sources_freed", "flowmix_cache_sources_freed_total", T_COUNTER, 0,
     "Flow sources forgotten after their last flow left."},
    {"cache.sources_evicted", "flowmix_cache_sources_evicted_total", T_COUNTER, 0,
     "Flow sources evicted to stay within max_sources."},
    {"cache.source_bytes", "flowmix_cache_source_bytes", T_GAUGE, 0,
     "Memory of the flow source table."},
    {"store.path", NULL, T_SKIP, 0, NULL},
    {"store.error", NULL, T_SKIP, 0, NULL},
    {"store.ok", "flowmix_store_up", T_GAUGE, 0, "1 while database commits succeed."},
    {"store.commits", "flowmix_store_commits_total", T_COUNTER, 0, "Database commits."},
    {"store.commit_failures", "flowmix_store_commit_failures_total", T_COUNTER, 0,
     "Failed database commits."},
    {"store.last_commit_ms", "flowmix_store_last_commit_time_seconds", T_GAUGE, 1e-3,
     "Time of the last commit, seconds since the epoch."},
    {"store.last_commit_seconds", "flowmix_store_last_commit_duration_seconds", T_GAUGE, 0,
     "Duration of the last commit."},
    {"total.flows", "flowmix_hist_flows_total", T_COUNTER, 0,
     "Flows in the total histograms (all classes)."},
    {"total.packets", "flowmix_hist_packets_total", T_COUNTER, 0,
     "Packets of the flows in the total histograms."},
    {"total.octets", "flowmix_hist_bytes_total", T_COUNTER, 0,
     "Bytes of the flows in the total histograms."},
    {"fits.jobs", "flowmix_fit_jobs", T_GAUGE, 0, "Configured fit jobs."},
    {"fits.running", "flowmix_fit_jobs_running", T_GAUGE, 0, "Fit jobs running now."},
    {"fits.interval_s", "flowmix_fit_interval_seconds", T_GAUGE, 0,
     "Interval of scheduled fits (0: on request only)."},
    {"ctl.clients", "flowmix_ctl_clients", T_GAUGE, 0, "Control clients connected."},
    {"ctl.requests", "flowmix_ctl_requests_total", T_COUNTER, 0, "Control requests."},
    {"ctl.errors", "flowmix_ctl_errors_total", T_COUNTER, 0, "Control requests answered with an error."},
    {"ctl.oversized", "flowmix_ctl_oversized_total", T_COUNTER, 0,
     "Control requests refused as too long."},
    {"ctl.slow_disconnects", "flowmix_ctl_slow_disconnects_total", T_COUNTER, 0,
     "Control clients disconnected for not reading their replies."},
    {"ctl.denied", "flowmix_ctl_denied_total", T_COUNTER, 0,
     "Mutating control requests denied to unprivileged peers."},
    {"ctl.refused", "flowmix_ctl_refused_total", T_COUNTER, 0,
     "Control connections refused over the client limit."},
    {"ctl.max_clients", "flowmix_ctl_max_clients", T_GAUGE, 0, "Control clients allowed at once."},
    {"ctl.displaced", "flowmix_ctl_displaced_total", T_COUNTER, 0,
     "Control clients displaced to let a new connection in."},
    {"ctl.idle_closed", "flowmix_ctl_idle_closed_total", T_COUNTER, 0,
     "Control clients closed for being idle."},
    {"ctl.idle_timeout_s", "flowmix_ctl_idle_timeout_seconds", T_GAUGE, 0,
     "Idle time after which a control client is closed."},
    {"export.dir", NULL, T_SKIP, 0, NULL},
    {"export.last", NULL, T_SKIP, 0, NULL},
    {"export.exports", "flowmix_exports_total", T_COUNTER, 0, "Export snapshots written."},
    {"export.failures", "flowmix_export_failures_total", T_COUNTER, 0, "Failed exports."},
    {"export.interval_s", "flowmix_export_interval_seconds", T_GAUGE, 0,
     "Interval of scheduled exports (0: on request only)."},
    {"export.last_ms", "flowmix_export_last_time_seconds", T_GAUGE, 1e-3,
     "Time of the last export, seconds since the epoch (0: none)."},
    {"plugins", NULL, T_SKIP, 0, NULL}, /* labelled series below */
    {"bounds", NULL, T_SKIP, 0, NULL},  /* labelled series below */
    {"hist_publish.collector_id", NULL, T_SKIP, 0, NULL},
    {"hist_publish.run", NULL, T_SKIP, 0, NULL},
    {"hist_publish.active", "flowmix_hist_publish_active", T_GAUGE, 0,
     "1 when a plugin takes histogram deltas."},
    {"hist_publish.seq", "flowmix_hist_publish_seq", T_GAUGE, 0,
     "Sequence number of the last histogram delta."},
    {"hist_publish.deltas", "flowmix_hist_publish_deltas_total", T_COUNTER, 0,
     "Histogram deltas published to plugins."},
    {"hist_publish.messages", "flowmix_hist_publish_messages_total", T_COUNTER, 0,
     "Messages the histogram deltas were split into."},
    {"hist_publish.bytes", "flowmix_hist_publish_bytes_total", T_COUNTER, 0,
     "Bytes of histogram deltas published."},
    {"hist_publish.last_bytes", "flowmix_hist_publish_last_bytes", T_GAUGE, 0,
     "Size of the last histogram delta."},
    {"hist_publish.failures", "flowmix_hist_publish_failures_total", T_COUNTER, 0,
     "Histogram deltas that could not be encoded."},
};

/* ---- output helpers ---------------------------------------------------------------------- */

static void family(FILE *o, const char *name, const char *type, const char *help)
{
    fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped. */
static void label_value(FILE *o, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\\' || *s == '"') {
            fputc('\\', o);
            fputc(*s, o);
        } else if (*s == '\n') {
            fputs("\\n", o);
        } else {
            fputc(*s, o);
        }
    }
}

static void number(FILE *o, double v)
{
    if (isnan(v)) {
        fputs("NaN", o);
    } else if (isinf(v)) {
        fputs(v > 0 ? "+Inf" : "-Inf", o);
    } else if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        fprintf(o, "%.0f", v);
    } else {
        fprintf(o, "%.17g", v);
    }
}

static double json_num(const json_t *v)
{
    if (json_is_boolean(v)) {
        return json_is_true(v) ? 1.0 : 0.0;
    }
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* ---- status ------------------------------------------------------------------------------ */

static const status_metric_t *status_lookup(const char *path)
{
    for (size_t i = 0; i < sizeof(status_metrics) / sizeof(status_metrics[0]); i++) {
        if (!strcmp(status_metrics[i].path, path)) {
            return &status_metrics[i];
        }
    }
    return NULL;
}

/* A member not in the table: flowmix_<path with . → _>, untyped. */
static void status_unknown(FILE *o, const char *path, const json_t *v)
{
    char name[160];
    size_t n = (size_t)snprintf(name, sizeof(name), "flowmix_%s", path);
    for (size_t i = 0; i < n && i < sizeof(name); i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            name[i] = '_';
        }
    }
    fprintf(o, "# HELP %s status member %s\n# TYPE %s untyped\n%s ", name, path, name, name);
    number(o, json_num(v));
    fputc('\n', o);
}

static void status_walk(FILE *o, const json_t *obj, const char *prefix)
{
    const char *k;
    json_t *v;
    char path[128];

    json_object_foreach((json_t *)obj, k, v) {
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k);
        const status_metric_t *m = status_lookup(path);
        if (m && m->type == T_SKIP) {
            continue;
        }
        if (json_is_object(v)) {
            status_walk(o, v, path);
        } else if (m && (json_is_number(v) || json_is_boolean(v))) {
            family(o, m->name, m->type == T_COUNTER ? "counter" : "gauge", m->help);
            fprintf(o, "%s ", m->name);
            number(o, json_num(v) * (m->scale ? m->scale : 1.0));
            fputc('\n', o);
        } else if (json_is_number(v) || json_is_boolean(v)) {
            status_unknown(o, path, v);
        }
    }
}

/* ---- labelled series --------------------------------------------------------------------- */

typedef struct {
    const char *member, *name, *type, *help;
    double scale;
} series_t;

/* One family per member over all rows; labels from label_fn. */
static void labelled(FILE *o, const json_t *rows, const series_t *s, size_t ns,
                     void (*label_fn)(FILE *o, const json_t *row))
{
    size_t i;
    const json_t *row;

    for (size_t k = 0; k < ns; k++) {
        bool head = false;
        json_array_foreach(rows, i, row) {
            const json_t *v = json_object_get(row, s[k].member);
            if (!json_is_number(v) && !json_is_boolean(v)) {
                continue;
            }
            if (!head) {
                family(o, s[k].name, s[k].type, s[k].help); /* no family without samples */
                head = true;
            }
            fprintf(o, "%s{", s[k].name);
            label_fn(o, row);
            fputs("} ", o);
            number(o, json_num(v) * (s[k].scale ? s[k].scale : 1.0));
            fputc('\n', o);
        }
    }
}

static void exporter_labels(FILE *o, const json_t *e)
{
    const char *addr = json_string_value(json_object_get(e, "address"));
    const char *name = json_string_value(json_object_get(e, "name"));
    fputs("exporter=\"", o);
    label_value(o, addr && strchr(addr, ':') ? "[" : "");
    label_value(o, addr);
    fprintf(o, "%s:%" JSON_INTEGER_FORMAT "\",name=\"", addr && strchr(addr, ':') ? "]" : "",
            json_integer_value(json_object_get(e, "port")));
    label_value(o, name ? name : "");
    fputc('"', o);
}

static void exporters_render(FILE *o, const json_t *exporters)
{
    static const series_t s[] = {
        {"records", "flowmix_exporter_records_total", "counter", "Flow records decoded.", 0},
        {"datagrams", "flowmix_exporter_datagrams_total", "counter", "Datagrams received.", 0},
        {"bytes", "flowmix_exporter_received_bytes_total", "counter", "Bytes received.", 0},
        {"malformed", "flowmix_exporter_malformed_total", "counter", "Malformed datagrams.", 0},
        {"unknown_template", "flowmix_exporter_unknown_template_total", "counter",
         "Records dropped for lack of a template.", 0},
        {"seq_gaps", "flowmix_exporter_sequence_gaps_total", "counter",
         "Gaps in the export sequence numbers.", 0},
        {"seq_lost", "flowmix_exporter_lost_records_total", "counter",
         "Records lost by the sequence numbers.", 0},
        {"options_records", "flowmix_exporter_options_records_total", "counter",
         "Options records received.", 0},
        {"templates", "flowmix_exporter_templates", "gauge", "Templates held.", 0},
        {"version", "flowmix_exporter_version", "gauge",
         "NetFlow/IPFIX version of the last datagram.", 0},
        {"last_seen_ms", "flowmix_exporter_last_seen_time_seconds", "gauge",
         "Time of the last datagram, seconds since the epoch.", 1e-3},
    };
    const json_t *rows = json_object_get(exporters, "exporters");
    if (json_is_array(rows)) {
        labelled(o, rows, s, sizeof(s) / sizeof(s[0]), exporter_labels);
    }
}

static void plugin_labels(FILE *o, const json_t *p)
{
    fputs("plugin=\"", o);
    label_value(o, json_string_value(json_object_get(p, "name")));
    fputc('"', o);
}

static void plugins_render(FILE *o, const json_t *status)
{
    static const series_t s[] = {
        {"batches", "flowmix_plugin_batches_total", "counter", "Batches of flows consumed.", 0},
        {"flows", "flowmix_plugin_flows_total", "counter", "Flows consumed.", 0},
        {"dropped", "flowmix_plugin_dropped_flows_total", "counter",
         "Flows dropped because the plugin's queue was full.", 0},
        {"dropped_batches", "flowmix_plugin_dropped_batches_total", "counter",
         "Batches dropped because the plugin's queue was full.", 0},
        {"errors", "flowmix_plugin_errors_total", "counter", "Errors the plugin returned.", 0},
        {"blocked_us", "flowmix_plugin_blocked_seconds_total", "counter",
         "Time the daemon waited for a full queue (overflow = block).", 1e-6},
        {"queue_depth", "flowmix_plugin_queue_depth", "gauge", "Batches queued now.", 0},
        {"queue_max", "flowmix_plugin_queue_max", "gauge", "Most batches ever queued.", 0},
        {"queue_limit", "flowmix_plugin_queue_limit", "gauge", "Queue limit in batches.", 0},
        {"hist_deltas", "flowmix_plugin_hist_deltas_total", "counter",
         "Histogram deltas consumed.", 0},
        {"hist_dropped", "flowmix_plugin_hist_dropped_total", "counter",
         "Histogram deltas dropped.", 0},
    };
    const json_t *rows = json_object_get(status, "plugins"), *p;
    size_t i;
    bool any = false;

    if (!json_is_array(rows) || json_array_size(rows) == 0) {
        return;
    }
    labelled(o, rows, s, sizeof(s) / sizeof(s[0]), plugin_labels);
    /* The plugin's own counters (fm_plugin_counter), by name. */
    json_array_foreach(rows, i, p) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(p, "plugin_counters"), k, v) {
            if (!any) {
                family(o, "flowmix_plugin_stat", "untyped",
                       "Counters a plugin defines itself, by name.");
                any = true;
            }
            fputs("flowmix_plugin_stat{", o);
            plugin_labels(o, p);
            fputs(",name=\"", o);
            label_value(o, k);
            fputs("\"} ", o);
            number(o, json_num(v));
            fputc('\n', o);
        }
    }
}

/* status.bounds: {"NAME": {"used": U, "limit": L} or a plain count} as labelled gauges. */
static void bounds_render(FILE *o, const json_t *status)
{
    const json_t *b = json_object_get(status, "bounds");
    const char *k;
    json_t *v;
    static const char *const what[] = {"used", "limit"};

    if (!json_is_object(b)) {
        return;
    }
    for (int w = 0; w < 2; w++) {
        bool head = false;
        json_object_foreach((json_t *)b, k, v) {
            const json_t *x = json_is_object(v) ? json_object_get(v, what[w])
                              : w == 0          ? v
                                                : NULL;
            if (!json_is_number(x)) {
                continue;
            }
            if (!head) {
                family(o, w ? "flowmix_bound_limit" : "flowmix_bound_used", "gauge",
                       w ? "Configured or built-in limit of each resource bound."
                         : "Use of each resource bound (see flowmixd.conf(5) RESOURCE BOUNDS).");
                head = true;
            }
            fprintf(o, "%s{bound=\"", w ? "flowmix_bound_limit" : "flowmix_bound_used");
            label_value(o, k);
            fputs("\"} ", o);
            number(o, json_num(x));
            fputc('\n', o);
        }
    }
}

/* ---- histograms and mixtures ------------------------------------------------------------- */

static void hist_render(FILE *o, const fm_metrics_hist_t *h, size_t nh)
{
    static const struct {
        int metric;
        const char *name, *help;
    } fams[] = {
        {FM_METRIC_LENGTH, "flowmix_flow_length",
         "Flow length in packets (total histogram; le = largest length in a bin)."},
        {FM_METRIC_SIZE, "flowmix_flow_size_bytes",
         "Flow size in bytes (total histogram; le = largest size in a bin)."},
    };
    for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
        bool head = false;
        for (size_t i = 0; i < nh; i++) {
            uint64_t cum = 0, sum = 0;
            if (h[i].metric != fams[f].metric) {
                continue;
            }
            if (!head) {
                family(o, fams[f].name, "histogram", fams[f].help);
                head = true;
            }
            for (size_t b = 0; b < h[i].n; b++) {
                const fm_hist_bin_t *bin = &h[i].bins[b];
                cum += bin->flows;
                sum += fams[f].metric == FM_METRIC_LENGTH ? bin->packets : bin->octets;
                fprintf(o, "%s_bucket{class=\"%s\",le=\"%" PRIu64 "\"} %" PRIu64 "\n",
                        fams[f].name, h[i].cls, bin->hi > bin->lo ? bin->hi - 1 : bin->lo, cum);
            }
            fprintf(o, "%s_bucket{class=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", fams[f].name,
                    h[i].cls, cum);
            fprintf(o, "%s_sum{class=\"%s\"} %" PRIu64 "\n", fams[f].name, h[i].cls, sum);
            fprintf(o, "%s_count{class=\"%s\"} %" PRIu64 "\n", fams[f].name, h[i].cls, cum);
        }
    }
}

static void job_labels(FILE *o, const json_t *fit)
{
    static const char *const keys[] = {"job", "class", "metric", "direction", "y"};
    for (size_t i = 0; i < 5; i++) {
        fprintf(o, "%s%s=\"", i ? "," : "", keys[i]);
        label_value(o, json_string_value(json_object_get(fit, keys[i])));
        fputc('"', o);
    }
}

static void fits_render(FILE *o, const json_t *fits)
{
    static const series_t s[] = {
        {"loglik", "flowmix_mixture_loglik", "gauge",
         "Mean log-likelihood of the latest mixture.", 0},
        {"iterations", "flowmix_mixture_iterations", "gauge", "EM iterations of the latest fit.",
         0},
        {"seconds", "flowmix_fit_duration_seconds", "gauge", "Duration of the latest fit.", 0},
        {"created_ms", "flowmix_fit_last_time_seconds", "gauge",
         "Time of the latest fit, seconds since the epoch.", 1e-3},
        {"runs", "flowmix_fit_runs_total", "counter", "Fits run for this job.", 0},
    };
    const json_t *rows = json_object_get(fits, "fits"), *fit;
    size_t i;

    if (!json_is_array(rows) || json_array_size(rows) == 0) {
        return;
    }
    json_t *done = json_array();
    json_array_foreach(rows, i, fit) {
        if (!json_is_null(json_object_get(fit, "model"))) {
            json_array_append(done, (json_t *)fit);
        }
    }
    if (json_array_size(done) == 0) {
        json_decref(done);
        return;
    }
    labelled(o, done, s, sizeof(s) / sizeof(s[0]), job_labels);
    family(o, "flowmix_mixture_weight", "gauge",
           "Weight of each component of the latest mixture (flow-models' layout).");
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            family(o, "flowmix_mixture_parameter", "gauge",
                   "Parameters of each component by scipy's name (s/c/a, loc, scale).");
        }
        json_array_foreach(done, i, fit) {
            const json_t *model = json_object_get(fit, "model");
            const json_t *mix = json_is_array(model) ? model : json_object_get(model, "mix");
            const json_t *c;
            size_t k;
            json_array_foreach(mix, k, c) {
                const char *fam = json_string_value(json_array_get(c, 1));
                int f = fam ? fm_mix_family_parse(fam) : -1;
                const json_t *params = json_array_get(c, 2), *p;
                size_t j;
                if (pass == 0) {
                    fputs("flowmix_mixture_weight{", o);
                    job_labels(o, fit);
                    fprintf(o, ",component=\"%zu\",family=\"%s\"} ", k + 1, f >= 0 ? fam : "?");
                    number(o, json_num(json_array_get(c, 0)));
                    fputc('\n', o);
                    continue;
                }
                json_array_foreach(params, j, p) {
                    const char *pn =
                        f >= 0 ? fm_mix_family_param_name((fm_family_t)f, (unsigned)j) : NULL;
                    fputs("flowmix_mixture_parameter{", o);
                    job_labels(o, fit);
                    fprintf(o, ",component=\"%zu\",family=\"%s\",parameter=\"%s\"} ", k + 1,
                            f >= 0 ? fam : "?", pn ? pn : "?");
                    number(o, json_num(p));
                    fputc('\n', o);
                }
            }
        }
    }
    json_decref(done);
}

static void capture_labels(FILE *o, const json_t *c)
{
    fputs("input=\"", o);
    label_value(o, json_string_value(json_object_get(c, "name")));
    fputc('"', o);
}

/* [input.capture] inputs (daemon_capture.c): one labelled series per counter. */
static void captures_render(FILE *o, const json_t *status)
{
    static const series_t s[] = {
        {"running", "flowmix_capture_running", "gauge",
         "1 while the capture input runs (0: its file ended or it failed).", 0},
        {"packets", "flowmix_capture_packets_total", "counter", "Frames captured.", 0},
        {"parsed", "flowmix_capture_parsed_packets_total", "counter", "Frames metered.", 0},
        {"ignored", "flowmix_capture_ignored_packets_total", "counter",
         "Frames that could not be metered (not IP, non-first fragment, truncated ...).", 0},
        {"flows", "flowmix_capture_flows_total", "counter", "Flows the meter finished.", 0},
        {"kernel_drops", "flowmix_capture_kernel_drops_total", "counter",
         "Packets the kernel dropped (pcap_stats).", 0},
        {"read_errors", "flowmix_capture_read_errors_total", "counter",
         "Capture records libpcap could not read.", 0},
        {"flows_dropped", "flowmix_capture_flows_dropped_total", "counter",
         "Flows dropped because the loop fell too far behind.", 0},
    };
    const json_t *rows = json_object_get(status, "capture");

    if (json_is_array(rows) && json_array_size(rows) > 0) {
        labelled(o, rows, s, sizeof(s) / sizeof(s[0]), capture_labels);
    }
}

char *fm_metrics_render(const json_t *status, const json_t *exporters, const json_t *fits,
                        const fm_metrics_hist_t *h, size_t nh, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *o = open_memstream(&buf, &n);

    if (!o) {
        return NULL;
    }
    if (status) {
        status_walk(o, status, "");
        plugins_render(o, status);
        bounds_render(o, status);
        captures_render(o, status);
    }
    if (exporters) {
        exporters_render(o, exporters);
    }
    hist_render(o, h, nh);
    if (fits) {
        fits_render(o, fits);
    }
    if (fclose(o) != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}
