/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmixctl's per-command layouts: status as titled sections, exporters / windows / fits as
 * sorted tables, a mixture with named parameters, hist as bins or flow-models csv_hist.  Numbers
 * carry units (k/M/G for counts, KiB/MiB/GiB for bytes, "/s" rates), times are ISO-8601 UTC with
 * ages measured against the reply's own now_ms (the daemon's clock), so a saved reply prints the
 * same later (the golden tests rely on that).  Members a layout does not know are printed as
 * key : value lines at the end, so a field the daemon adds still shows up.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_format.h"
#include "ctl_format_int.h"
#include "mixture.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/time.h"

#define CELL 64

/* ---- units ------------------------------------------------------------------------------- */

/* v scaled by steps of `base` with three significant digits: 999, 1.23k, 12.3k, 123k, 1.23M. */
static char *scaled(char *buf, size_t len, double v, double base, const char *const *units,
                    const char *sep)
{
    int u = 0;
    if (!isfinite(v)) {
        snprintf(buf, len, "-");
        return buf;
    }
    while (fabs(v) >= (u == 0 ? 10000.0 : 999.5) && units[u + 1]) {
        v /= base;
        u++;
    }
    if (u == 0) {
        snprintf(buf, len, "%.0f%s%s", v, *units[0] ? sep : "", units[0]);
    } else {
        snprintf(buf, len, fabs(v) < 9.995 ? "%.2f%s%s" : fabs(v) < 99.95 ? "%.1f%s%s" : "%.0f%s%s",
                 v, sep, units[u]);
    }
    return buf;
}

char *fm__ctl_count(char *buf, size_t len, double v)
{
    static const char *const si[] = {"", "k", "M", "G", "T", "P", NULL};
    return scaled(buf, len, v, 1000.0, si, "");
}

char *fm__ctl_bytes(char *buf, size_t len, double v)
{
    static const char *const iec[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", NULL};
    return scaled(buf, len, v, 1024.0, iec, " ");
}

/* A per-second rate: 0 prints as "0", small rates keep two decimals, large ones scale. */
char *fm__ctl_rate(char *buf, size_t len, double v)
{
    if (!isfinite(v) || v <= 0.0) {
        snprintf(buf, len, "0");
    } else if (v < 10.0) {
        snprintf(buf, len, "%.2f", v);
    } else if (v < 1000.0) {
        snprintf(buf, len, "%.1f", v);
    } else {
        fm__ctl_count(buf, len, v);
    }
    return buf;
}

char *fm__ctl_duration(char *buf, size_t len, uint64_t s)
{
    if (s < 60) {
        snprintf(buf, len, "%us", (unsigned)s);
    } else if (s < 3600) {
        snprintf(buf, len, "%um %02us", (unsigned)(s / 60), (unsigned)(s % 60));
    } else if (s < 86400) {
        snprintf(buf, len, "%uh %02um", (unsigned)(s / 3600), (unsigned)(s % 3600 / 60));
    } else {
        snprintf(buf, len, "%ud %02uh", (unsigned)(s / 86400), (unsigned)(s % 86400 / 3600));
    }
    return buf;
}

char *fm__ctl_age(char *buf, size_t len, uint64_t now_ms, uint64_t then_ms)
{
    char d[32];
    if (then_ms > now_ms) {
        snprintf(buf, len, "in %s", fm__ctl_duration(d, sizeof(d), (then_ms - now_ms) / 1000));
    } else {
        snprintf(buf, len, "%s ago", fm__ctl_duration(d, sizeof(d), (now_ms - then_ms) / 1000));
    }
    return buf;
}

/* ---- reading replies --------------------------------------------------------------------- */

/* Member by dotted path ("cache.entries"), or NULL. */
static const json_t *get(const json_t *o, const char *path)
{
    char key[64];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        o = json_object_get(o, key);
        path += n + (dot != NULL);
    }
    return o;
}

static double num(const json_t *o, const char *path)
{
    const json_t *v = get(o, path);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static uint64_t ms(const json_t *o, const char *path)
{
    const json_t *v = get(o, path);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static const char *str(const json_t *o, const char *path)
{
    const char *s = json_string_value(get(o, path));
    return s ? s : "-";
}

/* The reply's clock (now_ms), else ours: ages of a saved reply stay those it was saved with. */
static uint64_t now_of(const json_t *r)
{
    uint64_t now = ms(r, "now_ms");
    return now ? now : fm_time_wall_ms();
}

static char *fmt_count(char *buf, const json_t *o, const char *path)
{
    double v = num(o, path);
    return isnan(v) ? strcpy(buf, "-") : fm__ctl_count(buf, CELL, v);
}

static char *fmt_bytes(char *buf, const json_t *o, const char *path)
{
    double v = num(o, path);
    return isnan(v) ? strcpy(buf, "-") : fm__ctl_bytes(buf, CELL, v);
}

/* "2026-11-30T17:00:05Z (3m 05s ago)", or "never" for 0. */
static char *fmt_when(char *buf, size_t len, uint64_t now, uint64_t t)
{
    char iso[FM_TIME_ISO_LEN], age[40];
    if (!t) {
        snprintf(buf, len, "never");
    } else {
        snprintf(buf, len, "%s (%s)", fm_time_format_iso(iso, sizeof(iso), t),
                 fm__ctl_age(age, sizeof(age), now, t));
    }
    return buf;
}

/* ---- titled key : value sections ----------------------------------------------------------- */

typedef struct {
    char **label, **val; /* val NULL: a section title */
    size_t n, cap;
} lines_t;

static void line_add(lines_t *l, const char *label, const char *fmt, ...)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 32;
        l->label = fm_xreallocarray(l->label, l->cap, sizeof(*l->label));
        l->val = fm_xreallocarray(l->val, l->cap, sizeof(*l->val));
    }
    l->label[l->n] = fm_xstrdup(label);
    l->val[l->n] = NULL;
    if (fmt) {
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        l->val[l->n] = fm_xstrdup(buf);
    }
    l->n++;
}

static void title(lines_t *l, const char *t)
{
    line_add(l, t, NULL);
}

/* Titles flush left, "  label   value" below them with every value in one column. */
static void lines_print(FILE *out, lines_t *l)
{
    int w = 0;
    for (size_t i = 0; i < l->n; i++) {
        int n = (int)strlen(l->label[i]);
        w = l->val[i] && n > w ? n : w;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (l->val[i]) {
            fprintf(out, "  %-*s  %s\n", w, l->label[i], l->val[i]);
        } else {
            fprintf(out, "%s%s\n", i ? "\n" : "", l->label[i]);
        }
        free(l->label[i]);
        free(l->val[i]);
    }
    free(l->label);
    free(l->val);
    l->n = l->cap = 0;
}

/* Members of r not in `known` (NULL-terminated), as "other" key : value lines. */
static void print_unknown(FILE *out, const json_t *r, const char *const *known)
{
    json_t *rest = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)r, k, v) {
        bool seen = false;
        for (const char *const *p = known; *p && !seen; p++) {
            seen = !strcmp(*p, k);
        }
        if (!seen && !json_is_null(v)) {
            json_object_set(rest, k, v);
        }
    }
    if (json_object_size(rest)) {
        fprintf(out, "\nOther\n");
        fm_ctl_format_kv(out, rest);
    }
    json_decref(rest);
}

/* ---- status -------------------------------------------------------------------------------- */

static void status_rates(FILE *out, const json_t *r)
{
    static const char *head[] = {"rates", "1 min", "15 min"};
    static const char *const what[] = {"records", "datagrams", "flows", "drops"};
    fm__ctl_grid_t g = {.head = head};
    char buf[CELL], key[64];

    fm__ctl_grid_alloc(&g, 4, 3);
    g.right[1] = g.right[2] = true;
    for (size_t i = 0; i < 4; i++) {
        snprintf(buf, sizeof(buf), "%s/s", what[i]);
        g.cell[i * 3] = fm_xstrdup(buf);
        for (size_t c = 0; c < 2; c++) {
            snprintf(key, sizeof(key), "%s.%s", c ? "rate_15m" : "rate_1m", what[i]);
            double v = num(r, key);
            g.cell[i * 3 + 1 + c] = isnan(v) ? NULL : fm_xstrdup(fm__ctl_rate(buf, CELL, v));
        }
    }
    fm__ctl_grid_print(out, &g);
    fm__ctl_grid_free(&g);
}

static void status_ingest(lines_t *l, const json_t *r)
{
    char a[CELL], b[CELL], c[CELL];
    title(l, "Input");
    line_add(l, "exporters", "%s (%s evicted, %s expired)", fmt_count(a, r, "exporters"),
             fmt_count(b, r, "exporters_evicted"), fmt_count(c, r, "exporters_expired"));
    line_add(l, "datagrams", "%s, %s", fmt_count(a, r, "datagrams"), fmt_bytes(b, r, "bytes"));
    line_add(l, "records", "%s", fmt_count(a, r, "records"));
    line_add(l, "dropped", "%s malformed, %s receive errors, %s kernel drops",
             fmt_count(a, r, "malformed"), fmt_count(b, r, "recv_errors"),
             fmt_count(c, r, "kernel_drops"));
}

static void status_cache(lines_t *l, const json_t *r)
{
    char a[CELL], b[CELL], c[CELL], d[CELL], w[CELL];
    double entries = num(r, "cache.entries"), cap = num(r, "cache.capacity");
    title(l, "Flow cache");
    line_add(l, "entries", "%s of %s (%.1f%% full)", fmt_count(a, r, "cache.entries"),
             fmt_count(b, r, "cache.capacity"), cap > 0 ? 100.0 * entries / cap : 0.0);
    line_add(l, "memory", "%s (%s per entry)", fmt_bytes(a, r, "cache.bytes"),
             fmt_bytes(b, r, "cache.bytes_per_entry"));
    line_add(l, "records in", "%s new flows, %s merged", fmt_count(a, r, "cache.inserts"),
             fmt_count(b, r, "cache.merges"));
    line_add(l, "biflows", "%s pairs, %s merge conflicts", fmt_count(a, r, "cache.biflow_pairs"),
             fmt_count(b, r, "cache.merge_conflicts"));
    line_add(l, "flows out", "%s (%s expired, %s evicted when full)",
             fmt_count(a, r, "cache.emitted"), fmt_count(b, r, "cache.expired"),
             fmt_count(c, r, "cache.evicted"));
    line_add(l, "finished", "%s flows into the histograms", fmt_count(d, r, "flows_finished"));
    if (get(r, "cache.sources")) {
        line_add(l, "sources", "%s of %s (%s freed, %s evicted), %s",
                 fmt_count(a, r, "cache.sources"), fmt_count(b, r, "cache.max_sources"),
                 fmt_count(c, r, "cache.sources_freed"), fmt_count(d, r, "cache.sources_evicted"),
                 fmt_bytes(w, r, "cache.source_bytes"));
    }
}

static void status_store(lines_t *l, const json_t *r, uint64_t now)
{
    char a[CELL], b[CELL], w[96];
    const json_t *ok = get(r, "store.ok");
    title(l, "Histograms and store");
    line_add(l, "total", "%s flows, %s packets, %s", fmt_count(a, r, "total.flows"),
             fmt_count(b, r, "total.packets"), fmt_bytes(w, r, "total.octets"));
    line_add(l, "database", "%s", str(r, "store.path"));
    if (json_is_false(ok)) {
        line_add(l, "state", "FAILING: %s", str(r, "store.error"));
    } else {
        line_add(l, "state", "ok");
    }
    line_add(l, "commits", "%s (%s failed), last %s, took %.3f s",
             fmt_count(a, r, "store.commits"), fmt_count(b, r, "store.commit_failures"),
             fmt_when(w, sizeof(w), now, ms(r, "store.last_commit_ms")),
             isnan(num(r, "store.last_commit_seconds")) ? 0.0
                                                        : num(r, "store.last_commit_seconds"));
}

static void status_jobs(lines_t *l, const json_t *r, uint64_t now)
{
    char a[CELL], b[CELL], d[CELL], w[96];
    double fi = num(r, "fits.interval_s"), ei = num(r, "export.interval_s");
    title(l, "Fits and exports");
    line_add(l, "fit jobs", "%s (%s running), %s%s", fmt_count(a, r, "fits.jobs"),
             fmt_count(b, r, "fits.running"), fi > 0 ? "every " : "",
             fi > 0 ? fm__ctl_duration(d, sizeof(d), (uint64_t)fi) : "on request only");
    line_add(l, "export dir", "%s", str(r, "export.dir"));
    line_add(l, "exports", "%s (%s failed), %s%s", fmt_count(a, r, "export.exports"),
             fmt_count(b, r, "export.failures"), ei > 0 ? "every " : "",
             ei > 0 ? fm__ctl_duration(d, sizeof(d), (uint64_t)ei) : "on request only");
    line_add(l, "last export", "%s%s%s", fmt_when(w, sizeof(w), now, ms(r, "export.last_ms")),
             *str(r, "export.last") && strcmp(str(r, "export.last"), "-") ? ", " : "",
             strcmp(str(r, "export.last"), "-") ? str(r, "export.last") : "");
}

static void status_ctl(lines_t *l, const json_t *r)
{
    char a[CELL], b[CELL], c[CELL], d[CELL], e[CELL], f[CELL], g[CELL];
    title(l, "Control socket");
    line_add(l, "clients", "%s connected, %s requests, %s errors", fmt_count(a, r, "ctl.clients"),
             fmt_count(b, r, "ctl.requests"), fmt_count(c, r, "ctl.errors"));
    line_add(l, "refused", "%s oversized, %s slow, %s denied, %s over the client limit",
             fmt_count(d, r, "ctl.oversized"), fmt_count(e, r, "ctl.slow_disconnects"),
             fmt_count(f, r, "ctl.denied"), fmt_count(g, r, "ctl.refused"));
    if (get(r, "ctl.max_clients")) {
        line_add(l, "limits", "%s clients at most, idle ones closed after %ss (%s so far), "
                 "%s displaced", fmt_count(a, r, "ctl.max_clients"),
                 fmt_count(b, r, "ctl.idle_timeout_s"), fmt_count(c, r, "ctl.idle_closed"),
                 fmt_count(d, r, "ctl.displaced"));
    }
}

/* Histogram deltas for plugins (only when a plugin takes them) and the Kafka input. */
static void status_hist_io(lines_t *l, const json_t *r)
{
    char a[CELL], b[CELL], c[CELL];
    if (json_is_true(get(r, "hist_publish.active"))) {
        title(l, "Histogram deltas to plugins");
        line_add(l, "collector id", "%s", str(r, "hist_publish.collector_id"));
        line_add(l, "published", "%s deltas, %s (last %s), %s failed",
                 fmt_count(a, r, "hist_publish.deltas"), fmt_bytes(b, r, "hist_publish.bytes"),
                 fmt_bytes(c, r, "hist_publish.last_bytes"),
                 fmt_count(c, r, "hist_publish.failures"));
    }
}

static void status_plugins(FILE *out, const json_t *r)
{
    static const char *head[] = {"plugin", "file", "flows", "dropped", "errors", "queue",
                                 "hist deltas"};
    const json_t *arr = get(r, "plugins");
    fm__ctl_grid_t g = {.head = head};
    char buf[CELL], q[CELL];
    size_t i;
    const json_t *p;

    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        return;
    }
    fm__ctl_grid_alloc(&g, json_array_size(arr), 7);
    for (size_t c = 2; c < 7; c++) {
        g.right[c] = true;
    }
    json_array_foreach(arr, i, p) {
        char **row = &g.cell[i * 7];
        row[0] = fm_xstrdup(str(p, "name"));
        row[1] = fm_xstrdup(str(p, "file"));
        row[2] = fm_xstrdup(fmt_count(buf, p, "flows"));
        row[3] = fm_xstrdup(fmt_count(buf, p, "dropped"));
        row[4] = fm_xstrdup(fmt_count(buf, p, "errors"));
        snprintf(buf, sizeof(buf), "%s/%s", fmt_count(q, p, "queue_depth"),
                 str(p, "overflow"));
        row[5] = fm_xstrdup(buf);
        row[6] = fm_xstrdup(fmt_count(buf, p, "hist_deltas"));
    }
    fprintf(out, "\nPlugins\n");
    fm__ctl_grid_print(out, &g);
    fm__ctl_grid_free(&g);
}

/* status.bounds as a table: each limit, its use and how full it is. */
static void status_bounds(FILE *out, const json_t *r)
{
    static const char *head[] = {"bound", "used", "limit", "full"};
    const json_t *b = get(r, "bounds");
    fm__ctl_grid_t g = {.head = head};
    const char *k;
    json_t *v;
    size_t i = 0;
    char buf[CELL];

    if (!json_is_object(b) || json_object_size(b) == 0) {
        return;
    }
    fm__ctl_grid_alloc(&g, json_object_size(b), 4);
    g.right[1] = g.right[2] = g.right[3] = true;
    json_object_foreach((json_t *)b, k, v) {
        char **row = &g.cell[i++ * 4];
        const json_t *used = json_is_object(v) ? json_object_get(v, "used") : v;
        const json_t *limit = json_is_object(v) ? json_object_get(v, "limit") : NULL;
        bool bytes = strstr(k, "bytes") != NULL;
        row[0] = fm_xstrdup(k);
        if (json_is_number(used)) {
            double u = json_number_value(used);
            row[1] = fm_xstrdup(bytes ? fm__ctl_bytes(buf, CELL, u) : fm__ctl_count(buf, CELL, u));
        }
        if (json_is_number(limit)) {
            double lim = json_number_value(limit);
            row[2] = fm_xstrdup(bytes ? fm__ctl_bytes(buf, CELL, lim)
                                      : fm__ctl_count(buf, CELL, lim));
            if (lim > 0 && json_is_number(used)) {
                snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * json_number_value(used) / lim);
                row[3] = fm_xstrdup(buf);
            }
        }
    }
    fprintf(out, "\nLimits\n");
    fm__ctl_grid_print(out, &g);
    fm__ctl_grid_free(&g);
}

int fm__ctl_status(FILE *out, const json_t *r)
{
    static const char *const known[] = {
        "version", "uptime_s", "records", "records_per_s", "datagrams", "bytes", "malformed",
        "recv_errors", "kernel_drops", "exporters", "exporters_evicted", "exporters_expired",
        "flows_finished",
        "cache", "store", "total", "fits", "ctl", "export", "plugins", "now_ms", "start_ms",
        "rate_1m", "rate_15m", "hist_publish", "kafka_in", "kafka_collectors", "bounds",
        "capture", NULL};
    uint64_t now = now_of(r), start = ms(r, "start_ms");
    char up[32], iso[FM_TIME_ISO_LEN];
    lines_t l = {0};

    fprintf(out, "flowmixd %s, up %s", str(r, "version"),
            fm__ctl_duration(up, sizeof(up), (uint64_t)fmax(0, num(r, "uptime_s"))));
    if (start) {
        fprintf(out, " (since %s)", fm_time_format_iso(iso, sizeof(iso), start));
    }
    fprintf(out, "\n\n");
    status_rates(out, r);
    fputc('\n', out);
    status_ingest(&l, r);
    status_cache(&l, r);
    status_store(&l, r, now);
    status_jobs(&l, r, now);
    status_ctl(&l, r);
    status_hist_io(&l, r);
    lines_print(out, &l);
    status_plugins(out, r);
    status_bounds(out, r);
    if (json_is_array(get(r, "capture")) && json_array_size(get(r, "capture"))) {
        fprintf(out, "\nPacket capture\n");
        fm_ctl_format_table(out, get(r, "capture"));
    }
    if (json_is_object(get(r, "kafka_in"))) {
        fprintf(out, "\nKafka input\n");
        fm_ctl_format_kv(out, get(r, "kafka_in"));
    }
    if (json_is_array(get(r, "kafka_collectors"))) { /* per-collector lag (issue 21) */
        fprintf(out, "\nKafka collectors\n");
        fm_ctl_format_table(out, get(r, "kafka_collectors"));
    }
    print_unknown(out, r, known);
    return 0;
}

/* ---- exporters ----------------------------------------------------------------------------- */

static const char *const sort_keys[][2] = {
    /* option, member; numbers sort descending, names ascending */
    {"records", "records"},     {"datagrams", "datagrams"}, {"bytes", "bytes"},
    {"lost", "seq_lost"},       {"malformed", "malformed"}, {"name", "name"},
    {"address", "address"},     {"first_seen", "first_seen_ms"},
    {"last_seen", "last_seen_ms"},
};

static const char *sort_member(const char *key)
{
    for (size_t i = 0; i < sizeof(sort_keys) / sizeof(sort_keys[0]); i++) {
        if (!strcmp(sort_keys[i][0], key)) {
            return sort_keys[i][1];
        }
    }
    return NULL;
}

bool fm__ctl_exporters_sort_ok(const char *key)
{
    return sort_member(key) != NULL;
}

static const char *g_sort_member;

static int cmp_exporters(const void *pa, const void *pb)
{
    const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
    const json_t *va = json_object_get(a, g_sort_member), *vb = json_object_get(b, g_sort_member);
    int c = 0;

    if (json_is_number(va) || json_is_number(vb)) {
        double x = json_is_number(va) ? json_number_value(va) : -1;
        double y = json_is_number(vb) ? json_number_value(vb) : -1;
        c = x > y ? -1 : x < y; /* largest first */
    } else if (json_is_string(va) != json_is_string(vb)) {
        c = json_is_string(va) ? -1 : 1; /* named exporters before unnamed ones */
    } else if (json_is_string(va)) {
        c = strcmp(json_string_value(va), json_string_value(vb));
    }
    if (c == 0) {
        c = strcmp(str(a, "address"), str(b, "address"));
    }
    if (c == 0) {
        double x = num(a, "port"), y = num(b, "port");
        c = x < y ? -1 : x > y;
    }
    return c;
}

int fm__ctl_exporters(FILE *out, const json_t *r, const char *sort)
{
    static const char *head[] = {"name",     "exporter", "ver",        "records",
                                 "datagrams", "bytes",   "seq lost",   "malformed",
                                 "no template", "templates", "first seen", "last seen"};
    enum { NC = 12 };
    const json_t *arr = get(r, "exporters");
    size_t n = json_array_size(arr);
    uint64_t now = now_of(r);
    fm__ctl_grid_t g = {.head = head};
    char buf[96];

    if (n == 0) {
        fprintf(out, "no exporters seen yet\n");
        return 0;
    }
    const json_t **rows = fm_xcalloc(n, sizeof(*rows));
    for (size_t i = 0; i < n; i++) {
        rows[i] = json_array_get(arr, i);
    }
    g_sort_member = sort_member(sort ? sort : "records");
    qsort(rows, n, sizeof(*rows), cmp_exporters);
    fm__ctl_grid_alloc(&g, n, NC);
    for (size_t c = 2; c < 10; c++) {
        g.right[c] = true;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = rows[i];
        char **row = &g.cell[i * NC];
        const char *addr = str(e, "address");
        row[0] = json_is_string(get(e, "name")) ? fm_xstrdup(str(e, "name")) : NULL;
        snprintf(buf, sizeof(buf), strchr(addr, ':') ? "[%s]:%.0f" : "%s:%.0f", addr,
                 num(e, "port"));
        row[1] = fm_xstrdup(buf);
        row[2] = fm_xstrdup(fmt_count(buf, e, "version"));
        row[3] = fm_xstrdup(fmt_count(buf, e, "records"));
        row[4] = fm_xstrdup(fmt_count(buf, e, "datagrams"));
        row[5] = fm_xstrdup(fmt_bytes(buf, e, "bytes"));
        row[6] = fm_xstrdup(fmt_count(buf, e, "seq_lost"));
        row[7] = fm_xstrdup(fmt_count(buf, e, "malformed"));
        row[8] = fm_xstrdup(fmt_count(buf, e, "unknown_template"));
        row[9] = fm_xstrdup(fmt_count(buf, e, "templates"));
        if (ms(e, "first_seen_ms")) {
            row[10] = fm_xstrdup(fm_time_format_iso(buf, sizeof(buf), ms(e, "first_seen_ms")));
        }
        if (ms(e, "last_seen_ms")) {
            row[11] = fm_xstrdup(fm__ctl_age(buf, sizeof(buf), now, ms(e, "last_seen_ms")));
        }
    }
    fm__ctl_grid_print(out, &g);
    fm__ctl_grid_free(&g);
    free(rows);
    return 0;
}

/* ---- windows ------------------------------------------------------------------------------- */

int fm__ctl_windows(FILE *out, const json_t *r)
{
    static const char *head[] = {"start", "end", "length", "state", "flows"};
    const json_t *arr = get(r, "windows"), *w;
    fm__ctl_grid_t g = {.head = head};
    char buf[CELL];
    size_t i;

    fprintf(out, "%zu windows of %s, oldest first (hist --window takes a start, latest or -N)\n",
            json_array_size(arr),
            fm__ctl_duration(buf, sizeof(buf), (uint64_t)fmax(0, num(r, "window_s"))));
    if (json_array_size(arr) == 0) {
        return 0;
    }
    fputc('\n', out);
    fm__ctl_grid_alloc(&g, json_array_size(arr), 5);
    g.right[2] = g.right[4] = true;
    json_array_foreach(arr, i, w) {
        char **row = &g.cell[i * 5];
        uint64_t s = ms(w, "start_ms"), e = ms(w, "end_ms");
        row[0] = fm_xstrdup(fm_time_format_iso(buf, sizeof(buf), s));
        row[1] = fm_xstrdup(fm_time_format_iso(buf, sizeof(buf), e));
        row[2] = fm_xstrdup(fm__ctl_duration(buf, sizeof(buf), e > s ? (e - s) / 1000 : 0));
        row[3] = fm_xstrdup(json_is_true(get(w, "closed")) ? "closed" : "open");
        row[4] = fm_xstrdup(fmt_count(buf, w, "flows"));
    }
    fm__ctl_grid_print(out, &g);
    fm__ctl_grid_free(&g);
    return 0;
}

/* ---- fits and model ------------------------------------------------------------------------ */

/* "3 lognorm + 1 uniform" from a {"sum", "mix"} model. */
static char *components(char *buf, size_t len, const json_t *model)
{
    const json_t *mix = json_is_array(model) ? model : get(model, "mix");
    size_t counts[FM_FAM_COUNT] = {0}, i, n = 0;
    const json_t *c;

    buf[0] = '\0';
    json_array_foreach(mix, i, c) {
        int f = fm_mix_family_parse(json_string_value(json_array_get(c, 1)));
        counts[f >= 0 ? f : 0] += f >= 0;
    }
    for (int f = 0; f < FM_FAM_COUNT; f++) {
        if (counts[f]) {
            size_t k = strlen(buf);
            snprintf(buf + k, len - k, "%s%zu %s", n++ ? " + " : "", counts[f],
                     fm_mix_family_name((fm_family_t)f));
        }
    }
    if (!n) {
        snprintf(buf, len, "-");
    }
    return buf;
}

int fm__ctl_fits(FILE *out, const json_t *r)
{
    static const char *head[] = {"job", "data", "U", "L", "P", "result", "loglik", "iter",
                                 "took", "fitted", "state"};
    enum { NC = 11 };
    const json_t *arr = get(r, "fits"), *f;
    uint64_t now = now_of(r);
    fm__ctl_grid_t g = {.head = head};
    char buf[128];
    size_t i;

    if (json_array_size(arr) == 0) {
        fprintf(out, "no fit jobs configured\n");
        return 0;
    }
    fm__ctl_grid_alloc(&g, json_array_size(arr), NC);
    g.right[2] = g.right[3] = g.right[4] = g.right[6] = g.right[7] = g.right[8] = true;
    json_array_foreach(arr, i, f) {
        char **row = &g.cell[i * NC];
        bool done = json_is_object(get(f, "model")) || json_is_array(get(f, "model"));
        row[0] = fm_xstrdup(str(f, "job"));
        snprintf(buf, sizeof(buf), "%s %s %s %s", str(f, "class"), str(f, "metric"),
                 str(f, "direction"), str(f, "y"));
        row[1] = fm_xstrdup(buf);
        row[2] = fm_xstrdup(fmt_count(buf, f, "U"));
        row[3] = fm_xstrdup(fmt_count(buf, f, "L"));
        row[4] = fm_xstrdup(fmt_count(buf, f, "P"));
        row[5] = fm_xstrdup(components(buf, sizeof(buf), get(f, "model")));
        if (done) {
            snprintf(buf, sizeof(buf), "%.6g", num(f, "loglik"));
            row[6] = fm_xstrdup(buf);
            row[7] = fm_xstrdup(fmt_count(buf, f, "iterations"));
            snprintf(buf, sizeof(buf), "%.2f s", num(f, "seconds"));
            row[8] = fm_xstrdup(buf);
            row[9] = fm_xstrdup(fmt_when(buf, sizeof(buf), now, ms(f, "created_ms")));
        }
        row[10] = fm_xstrdup(json_is_true(get(f, "running")) ? "running"
                             : done                          ? "done"
                                                             : "waiting");
    }
    fm__ctl_grid_print(out, &g);
    fm__ctl_grid_free(&g);
    return 0;
}

/* "s=0.5 loc=0 scale=21.87", names from the family, "p1=..." for an unknown one. */
static char *named_params(const char *family, const json_t *params)
{
    int fam = family ? fm_mix_family_parse(family) : -1;
    char *s = fm_xcalloc(1, 1);
    size_t len = 1, i;
    const json_t *p;

    json_array_foreach(params, i, p) {
        char name[24], *v = fm__ctl_value_str(p);
        const char *nm = fam >= 0 ? fm_mix_family_param_name((fm_family_t)fam, (unsigned)i)
                                  : NULL;
        if (!nm) {
            snprintf(name, sizeof(name), "p%zu", i + 1);
            nm = name;
        }
        len += strlen(nm) + strlen(v) + 2;
        s = fm_xreallocarray(s, len, 1);
        strcat(strcat(strcat(strcat(s, i ? " " : ""), nm), "="), v);
        free(v);
    }
    return s;
}

static void print_mix(FILE *out, const json_t *mix)
{
    static const char *head[] = {"#", "weight", "share", "family", "parameters"};
    fm__ctl_grid_t g = {.head = head};
    double total = 0;
    char buf[CELL];
    size_t i;
    const json_t *c;

    json_array_foreach(mix, i, c) {
        total += json_number_value(json_array_get(c, 0));
    }
    fm__ctl_grid_alloc(&g, json_array_size(mix), 5);
    g.right[0] = g.right[1] = g.right[2] = true;
    json_array_foreach(mix, i, c) {
        char **row = &g.cell[i * 5];
        const json_t *w = json_array_get(c, 0);
        snprintf(buf, sizeof(buf), "%zu", i + 1);
        row[0] = fm_xstrdup(buf);
        row[1] = w ? fm__ctl_value_str(w) : NULL;
        if (json_is_number(w) && total > 0) {
            snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * json_number_value(w) / total);
            row[2] = fm_xstrdup(buf);
        }
        row[3] = json_is_string(json_array_get(c, 1)) ? fm__ctl_value_str(json_array_get(c, 1))
                                                       : NULL;
        row[4] = named_params(json_string_value(json_array_get(c, 1)), json_array_get(c, 2));
    }
    fm__ctl_grid_print(out, &g);
    fm__ctl_grid_free(&g);
}

int fm__ctl_model(FILE *out, const json_t *r)
{
    static const char *const known[] = {"job", "class", "metric", "direction", "y", "U", "L",
                                        "P", "created_ms", "loglik", "iterations", "seconds",
                                        "runs", "running", "model", "now_ms", NULL};
    const json_t *model = get(r, "model");
    const json_t *mix = json_is_array(model) ? model : get(model, "mix");
    char a[CELL], b[CELL], c[CELL], w[96];
    lines_t l = {0};

    title(&l, "Model");
    line_add(&l, "job", "%s", str(r, "job"));
    line_add(&l, "data", "class %s, metric %s, %s, y = %s, sum %s", str(r, "class"),
             str(r, "metric"), str(r, "direction"), str(r, "y"),
             fmt_count(a, r, "model.sum"));
    line_add(&l, "initial", "U %s, L %s, P %s (uniform, lognorm, genpareto)", fmt_count(a, r, "U"),
             fmt_count(b, r, "L"), fmt_count(c, r, "P"));
    line_add(&l, "fitted", "%s, run %s%s", fmt_when(w, sizeof(w), now_of(r), ms(r, "created_ms")),
             fmt_count(a, r, "runs"), json_is_true(get(r, "running")) ? ", refitting now" : "");
    line_add(&l, "result", "loglik %.6g, %s iterations, %.2f s", num(r, "loglik"),
             fmt_count(b, r, "iterations"), num(r, "seconds"));
    lines_print(out, &l);
    if (json_is_array(mix)) {
        fputc('\n', out);
        print_mix(out, mix);
    } else {
        fprintf(out, "\nno mixture yet\n");
    }
    print_unknown(out, r, known);
    return 0;
}

int fm__ctl_model_flow_models(FILE *out, const json_t *r)
{
    const json_t *model = get(r, "model");
    char err[256] = "";
    fm_mix_t *mix = NULL;
    char *text = model ? json_dumps(model, JSON_COMPACT) : NULL;
    int rc = text ? fm_mix_parse_json(text, &mix, err, sizeof(err)) : FM_EFORMAT;

    free(text);
    if (rc < 0 || !mix) {
        fprintf(stderr, "flowmixctl: model: the reply holds no mixture%s%s\n",
                rc < 0 && err[0] ? ": " : "", rc < 0 ? err : "");
        return rc < 0 ? rc : FM_EFORMAT;
    }
    rc = fm_mix_write_json(mix, out);
    fm_mix_free(mix);
    return rc < 0 ? rc : 0;
}

/* ---- hist ---------------------------------------------------------------------------------- */

int fm__ctl_hist(FILE *out, const json_t *r)
{
    static const char *head[] = {"lo", "hi", "flows", "flows %", "packets", "octets"};
    const json_t *bins = get(r, "bins"), *b;
    double flows = num(r, "flows");
    fm__ctl_grid_t g = {.head = head};
    char buf[CELL], p[CELL], o[CELL], iso[FM_TIME_ISO_LEN];
    size_t i;
    uint64_t ws = ms(r, "window_start_ms");

    fprintf(out, "class %s, metric %s, %s, window %s", str(r, "class"), str(r, "metric"),
            str(r, "direction"), str(r, "window"));
    if (ws && strcmp(str(r, "window"), "total")) {
        fprintf(out, " (start %s)", fm_time_format_iso(iso, sizeof(iso), ws));
    }
    fprintf(out, ", bin_exp %s\n\n", fmt_count(buf, r, "bin_exp"));
    fm__ctl_grid_alloc(&g, json_array_size(bins), 6);
    for (size_t c = 0; c < 6; c++) {
        g.right[c] = true;
    }
    json_array_foreach(bins, i, b) {
        char **row = &g.cell[i * 6];
        for (size_t c = 0; c < 3; c++) {
            row[c] = json_array_get(b, c) ? fm__ctl_value_str(json_array_get(b, c)) : NULL;
        }
        double f = json_number_value(json_array_get(b, 2));
        snprintf(buf, sizeof(buf), "%.2f", flows > 0 ? 100.0 * f / flows : 0.0);
        row[3] = fm_xstrdup(buf);
        row[4] = json_array_get(b, 3) ? fm__ctl_value_str(json_array_get(b, 3)) : NULL;
        row[5] = json_array_get(b, 4) ? fm__ctl_value_str(json_array_get(b, 4)) : NULL;
    }
    fm__ctl_grid_print(out, &g);
    fm__ctl_grid_free(&g);
    fprintf(out, "\ntotal: %s flows, %s packets, %s in %zu bins\n", fmt_count(buf, r, "flows"),
            fmt_count(p, r, "packets"), fmt_bytes(o, r, "octets"), json_array_size(bins));
    return 0;
}

/* flow-models csv_hist, the layout fm_hist_write_csv() writes and `flowmix fit` reads. */
int fm__ctl_hist_csv(FILE *out, const json_t *r)
{
    const json_t *b;
    size_t i;

    fputs("bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n", out);
    json_array_foreach(get(r, "bins"), i, b) {
        for (size_t c = 0; c < 5; c++) {
            const json_t *v = json_array_get(b, c);
            if (!json_is_integer(v) || json_integer_value(v) < 0) {
                fprintf(stderr, "flowmixctl: hist: bin %zu is not five counts\n", i + 1);
                return FM_EFORMAT;
            }
            fprintf(out, "%" JSON_INTEGER_FORMAT "%c", json_integer_value(v), c < 4 ? ',' : '\n');
        }
    }
    return 0;
}
