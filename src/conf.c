/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Configuration: the key table, the inih handler that fills an fm_config_t, validation and the
 * derived defaults (paths under state_dir, the agh_2015 fit jobs).  Errors stop the parse and
 * name file:line; an unknown key is an error, never ignored.
 */
#include "config.h"
#include "conf.h"

#include <ctype.h>
#include <inttypes.h>
#include <ini.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hist.h"
#include "histdelta.h"
#include "ingest.h"
#include "log.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/time.h"

typedef enum { K_STR, K_UINT, K_DURATION, K_BYTES, K_BOOL, K_LOGLEVEL } key_type_t;

typedef struct {
    const char *section;
    const char *key;
    key_type_t type;
    size_t offset;
    const char *def;
    uint64_t max;      /* for numbers: largest accepted value (0 = no limit) */
    const char *help;
    bool reload;       /* RELOADS: a reload applies it; otherwise a change needs a restart */
} key_def_t;

#define RELOADS true

#define OFF(f) offsetof(fm_config_t, f)

/* The one table of global keys.  etc/flowmixd.conf is generated from it (--print-defaults). */
static const key_def_t keys[] = {
    {"daemon", "state_dir", K_STR, OFF(state_dir), "",  0,
     "Directory for the database, control socket and exports.  Empty: $STATE_DIRECTORY\n"
     "(set by systemd's StateDirectory=) or ./var when run by hand."},
    {"daemon", "log_level", K_LOGLEVEL, OFF(log_level), "notice", 0,
     "error, warning, notice, info or debug.", RELOADS},
    {"daemon", "log_target", K_STR, OFF(log_target), "auto", 0,
     "auto (journal under systemd, else stderr), stderr, syslog or journal."},
    {"daemon", "log_time", K_STR, OFF(log_time), "utc", 0,
     "Time stamps of stderr log lines: utc (2026-11-30T17:00:05.123Z) or local (with offset).",
     RELOADS},
    {"daemon", "plugin_dir", K_STR, OFF(plugin_dir), "", 0,
     "Where [plugin.NAME] shared objects are looked up.  Empty: LIBDIR/flowmix/plugins."},
    {"daemon", "collector_id", K_STR, OFF(collector_id), "", 0,
     "Names this daemon in the histogram deltas it publishes (kafka plugin, histograms = yes);\n"
     "aggregators tell collectors apart by it, so it must be unique.  Printable, no spaces.\n"
     "Empty: the host name."},
    {"daemon", "workers", K_UINT, OFF(workers), "0", 64,
     "Flow cache shards, each on a thread of its own; 0: one per online CPU.  Receiving and\n"
     "decoding stay on the main thread, which hands records to the shards by flow; 1 runs\n"
     "everything on the main thread.  [cache] memory is split evenly between the shards."},
    {"listen", "udp", K_STR, OFF(udp), "[::]:2055, [::]:4739", 0,
     "UDP sockets, comma-separated ADDR:PORT.  Any port accepts NetFlow v5, v9 and IPFIX\n"
     "(the version field selects the decoder).  [::] is dual-stack; on hosts without IPv6\n"
     "it falls back to 0.0.0.0."},
    {"listen", "rcvbuf", K_BYTES, OFF(rcvbuf), "16M", 1ull << 31,
     "Socket receive buffer (SO_RCVBUF).  Raise net.core.rmem_max if the kernel caps it."},
    {"listen", "template_timeout", K_DURATION, OFF(template_timeout_ms), "30m", 0,
     "Lifetime of an IPFIX/v9 template received over UDP without refresh."},
    {"listen", "max_exporters", K_UINT, OFF(max_exporters), "1024", 1u << 20,
     "Exporters (source address and port) tracked at once; the idlest is evicted beyond it."},
    {"listen", "max_templates", K_UINT, OFF(max_templates), "4096", 1u << 20,
     "Templates kept per exporter."},
    {"listen", "max_templates_total", K_UINT, OFF(max_templates_total), "16384", 1u << 24,
     "Templates kept for all exporters together (a new one beyond it is refused and counted\n"
     "as the per-exporter limit is)."},
    {"listen", "exporter_timeout", K_DURATION, OFF(exporter_timeout_ms), "30m", 0,
     "An exporter silent this long is forgotten with its templates and counters\n"
     "(exporters_expired); 0: kept until max_exporters makes room.  At least 1s."},
    {"control", "socket", K_STR, OFF(ctl_socket), "", 0,
     "Control socket.  Empty: $RUNTIME_DIRECTORY/control.sock or STATE_DIR/control.sock."},
    {"control", "idle_timeout", K_DURATION, OFF(ctl_idle_ms), "60", 0,
     "A control client that sends nothing this long is closed (one waiting for a reply is\n"
     "not idle).  At least 1s."},
    {"metrics", "listen", K_STR, OFF(metrics_listen), "", 0,
     "Serve Prometheus metrics on http://ADDR:PORT/metrics (e.g. 127.0.0.1:9470; [::1]:9470).\n"
     "Empty: off.  Anyone who can connect may read them: keep it on loopback or firewall it."},
    {"cache", "memory", K_UINT, OFF(cache_memory), "256", 1u << 20,
     "Flow cache memory limit in MiB, fixed at start."},
    {"cache", "max_sources", K_UINT, OFF(cache_max_sources), "4096", 65535,
     "Sources (exporter, observation domain, sampling interval) with their own clock, ~2.2 KiB\n"
     "each; a source is freed when its last flow has left, beyond the limit the one with the\n"
     "fewest flows is evicted (its flows written out early)."},
    {"cache", "active_timeout", K_DURATION, OFF(active_ms), "300", 0,
     "Exporters' active timeout: records this long may continue in a later record.", RELOADS},
    {"cache", "inactive_timeout", K_DURATION, OFF(inactive_ms), "15", 0,
     "Exporters' inactive timeout: the largest gap inside one flow.", RELOADS},
    {"cache", "export_delay", K_DURATION, OFF(export_delay_ms), "5", 0,
     "Extra wait beyond the inactive timeout for records still in flight.", RELOADS},
    {"cache", "biflow", K_BOOL, OFF(biflow), "yes", 0,
     "Pair the two directions of a conversation into one biflow.", RELOADS},
    {"cache", "merge", K_STR, OFF(cache_merge), "flow-models", 0,
     "Rules that join records split by the active timeout: flow-models (its merge tool: only\n"
     "records that lasted the active timeout continue) or ft-profiler (FlowTest's profiler:\n"
     "any record within the inactive timeout continues).  Restart to change."},
    {"hist", "bin_exp", K_UINT, OFF(bin_exp), "12", 63,
     "flow-models bin exponent: exact bins below 2^bin_exp, 2^(bin_exp-1) bins per octave above."},
    {"hist", "window", K_DURATION, OFF(window_ms), "1h", 0,
     "Length of the tumbling histogram windows, aligned to the wall clock.", RELOADS},
    {"fit", "interval", K_DURATION, OFF(fit_interval_ms), "15m", 0,
     "How often the [fit.NAME] jobs run (0 disables scheduled fits).", RELOADS},
    {"fit", "defaults", K_BOOL, OFF(fit_defaults), "yes", 0,
     "Without [fit.NAME] sections, run the agh_2015 jobs (all/tcp/udp x length/size x y).",
     RELOADS},
    {"store", "path", K_STR, OFF(store_path), "", 0,
     "SQLite database.  Empty: STATE_DIR/flowmix.db."},
    {"store", "commit_interval", K_DURATION, OFF(commit_interval_ms), "10s", 0,
     "Histogram deltas are committed this often; a crash loses at most this much.", RELOADS},
    {"store", "retention", K_DURATION, OFF(retention_ms), "30d", 0,
     "Closed windows older than this are pruned (0 keeps everything).", RELOADS},
    {"export", "dir", K_STR, OFF(export_dir), "", 0,
     "Where model snapshots are written.  Empty: STATE_DIR/export.", RELOADS},
    {"export", "interval", K_DURATION, OFF(export_interval_ms), "1h", 0,
     "How often a snapshot is written (0 disables scheduled exports).", RELOADS},
    {"export", "keep", K_UINT, OFF(export_keep), "24", 100000,
     "Snapshots kept; older ones are removed.", RELOADS},
    {"export", "plots", K_BOOL, OFF(export_plots), "yes", 0,
     "Draw SVG and PNG plots into each snapshot.", RELOADS},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

typedef struct {
    fm_config_t *cfg;
    char msg[256];     /* first error, without file:line */
    int failed;
} parse_ctx_t;

static int parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") ||
        !strcmp(v, "1")) {
        *out = true;
        return 0;
    }
    if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") ||
        !strcmp(v, "0")) {
        *out = false;
        return 0;
    }
    return FM_EINVAL;
}

static int parse_uint(const char *v, uint64_t max, uint64_t *out)
{
    char *end;
    if (!isdigit((unsigned char)*v)) {
        return FM_EINVAL;
    }
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || (max && x > max)) {
        return FM_EINVAL;
    }
    *out = x;
    return 0;
}

static int parse_bytes(const char *v, uint64_t max, uint64_t *out)
{
    char *end;
    if (!isdigit((unsigned char)*v)) {
        return FM_EINVAL;
    }
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    unsigned shift = 0;
    if (*end) {
        switch (toupper((unsigned char)*end)) {
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        default: return FM_EINVAL;
        }
        if (end[1] && strcasecmp(end + 1, "iB") && strcasecmp(end + 1, "B")) {
            return FM_EINVAL;
        }
    }
    if (errno || x > (UINT64_MAX >> shift)) {
        return FM_EINVAL;
    }
    x <<= shift;
    if (max && x > max) {
        return FM_EINVAL;
    }
    *out = x;
    return 0;
}

static int set_key(fm_config_t *cfg, const key_def_t *k, const char *v, char *msg, size_t len)
{
    char *base = (char *)cfg + k->offset;
    int rc = 0;

    switch (k->type) {
    case K_STR:
        free(*(char **)base);
        *(char **)base = fm_xstrdup(v);
        return 0;
    case K_UINT: rc = parse_uint(v, k->max, (uint64_t *)base); break;
    case K_BYTES: rc = parse_bytes(v, k->max, (uint64_t *)base); break;
    case K_DURATION: rc = fm_time_parse_duration(v, (uint64_t *)base); break;
    case K_BOOL: rc = parse_bool(v, (bool *)base); break;
    case K_LOGLEVEL:
        *(int *)base = fm_log_parse_level(v);
        rc = *(int *)base < 0 ? FM_EINVAL : 0;
        break;
    }
    if (rc < 0) {
        static const char *const what[] = {"text", "a non-negative integer",
                                           "a duration (e.g. 15, 15s, 5m, 1h, 30d)",
                                           "a size (e.g. 4194304, 4M)", "yes or no",
                                           "error, warning, notice, info or debug"};
        snprintf(msg, len, "[%s] %s = '%s': expected %s%s", k->section, k->key, v, what[k->type],
                 k->max && (k->type == K_UINT || k->type == K_BYTES) ? " within range" : "");
    }
    return rc;
}

static const key_def_t *find_key(const char *section, const char *key)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (!strcasecmp(keys[i].section, section) && !strcasecmp(keys[i].key, key)) {
            return &keys[i];
        }
    }
    return NULL;
}

static bool known_section(const char *section)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (!strcasecmp(keys[i].section, section)) {
            return true;
        }
    }
    return false;
}

/* Named sections ([fit.NAME], [exporter.NAME], [plugin.NAME]) are found or appended by name. */
#define FIND_OR_ADD(arr, n, nm)                                                                \
    ({                                                                                         \
        size_t i__;                                                                            \
        for (i__ = 0; i__ < (n); i__++) {                                                      \
            if (!strcmp((arr)[i__].name, (nm))) {                                              \
                break;                                                                         \
            }                                                                                  \
        }                                                                                      \
        if (i__ == (n)) {                                                                      \
            (arr) = fm_xreallocarray((arr), (n) + 1, sizeof(*(arr)));                          \
            memset(&(arr)[i__], 0, sizeof(*(arr)));                                            \
            (arr)[i__].name = fm_xstrdup(nm);                                                  \
            (n)++;                                                                             \
        }                                                                                      \
        &(arr)[i__];                                                                           \
    })

static void fit_job_defaults(fm_config_fit_t *f, const fm_config_t *cfg)
{
    f->cls = FM_CLASS_ALL;
    f->metric = FM_METRIC_LENGTH;
    f->direction = FM_DIR_UNIFLOW;
    f->y = 0;
    f->U = 0;
    f->L = 4;
    f->P = 0;
    f->max_iter = 400;
    f->tol = 0;
    (void)cfg;
}

static int parse_y(const char *v)
{
    static const char *const ys[] = {"flows", "packets", "octets"};
    for (int i = 0; i < 3; i++) {
        if (!strcasecmp(v, ys[i])) {
            return i;
        }
    }
    return FM_EINVAL;
}

static int set_fit_key(fm_config_t *cfg, const char *name, const char *key, const char *v,
                       char *msg, size_t len)
{
    bool fresh = true;
    for (size_t i = 0; i < cfg->nfits; i++) {
        fresh = fresh && strcmp(cfg->fits[i].name, name) != 0;
    }
    fm_config_fit_t *f = FIND_OR_ADD(cfg->fits, cfg->nfits, name);
    uint64_t u;
    int r = 0;

    if (fresh) {
        fit_job_defaults(f, cfg);
    }
    if (!strcasecmp(key, "class")) {
        r = f->cls = fm_class_parse(v);
    } else if (!strcasecmp(key, "metric")) {
        r = f->metric = fm_metric_parse(v);
    } else if (!strcasecmp(key, "direction")) {
        r = f->direction = fm_dir_parse(v);
    } else if (!strcasecmp(key, "y")) {
        r = f->y = parse_y(v);
    } else if (!strcasecmp(key, "tol")) {
        char *end;
        f->tol = strtod(v, &end);
        r = (*end || end == v || !(f->tol >= 0)) ? FM_EINVAL : 0;
    } else if (!strcasecmp(key, "U") || !strcasecmp(key, "L") || !strcasecmp(key, "P") ||
               !strcasecmp(key, "max_iter")) {
        r = parse_uint(v, 100000, &u) < 0 ? FM_EINVAL : 0;
        unsigned *dst = !strcasecmp(key, "U")   ? &f->U
                        : !strcasecmp(key, "L") ? &f->L
                        : !strcasecmp(key, "P") ? &f->P
                                                : &f->max_iter;
        *dst = (unsigned)u;
    } else {
        snprintf(msg, len, "unknown key '%s' in [fit.%s] (class, metric, direction, y, U, L, P, "
                           "max_iter, tol)", key, name);
        return FM_ECONFIG;
    }
    if (r < 0) {
        snprintf(msg, len, "[fit.%s] %s = '%s' is not valid", name, key, v);
        return FM_ECONFIG;
    }
    return 0;
}

static int set_exporter_key(fm_config_t *cfg, const char *name, const char *key, const char *v,
                            char *msg, size_t len)
{
    fm_config_exporter_t *e = FIND_OR_ADD(cfg->exporters, cfg->nexporters, name);
    int r = 0;

    if (!strcasecmp(key, "address")) {
        free(e->address);
        e->address = fm_xstrdup(v);
    } else if (!strcasecmp(key, "active_timeout")) {
        r = fm_time_parse_duration(v, &e->active_ms);
    } else if (!strcasecmp(key, "inactive_timeout")) {
        r = fm_time_parse_duration(v, &e->inactive_ms);
    } else {
        snprintf(msg, len, "unknown key '%s' in [exporter.%s] (address, active_timeout, "
                           "inactive_timeout)", key, name);
        return FM_ECONFIG;
    }
    if (r < 0) {
        snprintf(msg, len, "[exporter.%s] %s = '%s' is not a duration", name, key, v);
        return FM_ECONFIG;
    }
    return 0;
}

/* [input.capture] and [input.capture.NAME]: name is "capture" or "capture.NAME". */
static int set_capture_key(fm_config_t *cfg, const char *name, const char *key, const char *v,
                           char *msg, size_t len)
{
    bool fresh = true;
    for (size_t i = 0; i < cfg->ncaptures; i++) {
        fresh = fresh && strcmp(cfg->captures[i].name, name) != 0;
    }
    fm_config_capture_t *c = FIND_OR_ADD(cfg->captures, cfg->ncaptures, name);
    int r = 0;

    if (fresh) {
        c->idle_ms = 120000;
        c->active_ms = 1800000;
    }
    if (!strcasecmp(key, "interface") || !strcasecmp(key, "file") || !strcasecmp(key, "bpf")) {
        char **dst = !strcasecmp(key, "interface") ? &c->interface
                     : !strcasecmp(key, "file")    ? &c->file
                                                   : &c->bpf;
        free(*dst);
        *dst = fm_xstrdup(v);
    } else if (!strcasecmp(key, "idle_timeout")) {
        r = fm_time_parse_duration(v, &c->idle_ms);
    } else if (!strcasecmp(key, "active_timeout")) {
        r = fm_time_parse_duration(v, &c->active_ms);
    } else if (!strcasecmp(key, "accounting_mode")) {
        r = parse_uint(v, 3, &c->accounting_mode);
    } else if (!strcasecmp(key, "dissections")) {
        r = parse_uint(v, 255, &c->dissections);
    } else {
        snprintf(msg, len, "unknown key '%s' in [input.%s] (interface, file, bpf, idle_timeout, "
                           "active_timeout, accounting_mode, dissections)", key, name);
        return FM_ECONFIG;
    }
    if (r < 0) {
        snprintf(msg, len, "[input.%s] %s = '%s' is not valid", name, key, v);
        return FM_ECONFIG;
    }
    return 0;
}

static int validate_captures(const fm_config_t *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->ncaptures; i++) {
        const fm_config_capture_t *c = &cfg->captures[i];
        if (!c->interface == !c->file) {
            snprintf(err, errlen, "[input.%s] needs exactly one of interface and file", c->name);
            return FM_ECONFIG;
        }
    }
    return 0;
}

static int set_plugin_key(fm_config_t *cfg, const char *name, const char *key, const char *v)
{
    fm_config_plugin_t *p = FIND_OR_ADD(cfg->plugins, cfg->nplugins, name);

    if (!strcasecmp(key, "path")) {
        free(p->path);
        p->path = fm_xstrdup(v);
        return 0;
    }
    /* Other keys belong to the plugin, which validates them in its init. */
    p->keys = fm_xreallocarray(p->keys, p->nkeys + 1, sizeof(char *));
    p->values = fm_xreallocarray(p->values, p->nkeys + 1, sizeof(char *));
    p->keys[p->nkeys] = fm_xstrdup(key);
    p->values[p->nkeys] = fm_xstrdup(v);
    p->nkeys++;
    return 0;
}

static void add_prop(fm_config_kafka_in_t *k, const char *key, const char *v)
{
    k->keys = fm_xreallocarray(k->keys, k->nprops + 1, sizeof(char *));
    k->values = fm_xreallocarray(k->values, k->nprops + 1, sizeof(char *));
    k->keys[k->nprops] = fm_xstrdup(key);
    k->values[k->nprops] = fm_xstrdup(v);
    k->nprops++;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = fm_xstrdup(v);
}

/* [input.kafka]: librdkafka checks the rdkafka.* properties when the consumer is created. */
static int set_kafka_in_key(fm_config_t *cfg, const char *key, const char *v, char *err,
                            size_t errlen)
{
    fm_config_kafka_in_t *k = &cfg->kafka_in;
    k->enabled = true;
    if (!strcasecmp(key, "brokers")) {
        set_str(&k->brokers, v);
    } else if (!strcasecmp(key, "topic")) {
        set_str(&k->topic, v);
    } else if (!strcasecmp(key, "group")) {
        set_str(&k->group, v);
    } else if (!strncasecmp(key, "rdkafka.", 8) && key[8]) {
        add_prop(k, key + 8, v);
    } else {
        snprintf(err, errlen, "unknown key '%s' in [input.kafka] (brokers, topic, group, "
                 "rdkafka.*)", key);
        return FM_ECONFIG;
    }
    return 0;
}

static int on_ini_key(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx_t *ctx = user;
    fm_config_t *cfg = ctx->cfg;
    const char *dot = strchr(section, '.');
    int rc = 0;

    if (ctx->failed) {
        return 1; /* report only the first error; its line is what ini_parse returns */
    }
    if (!name) {
        return 1; /* section header alone (inih with INI_CALL_HANDLER_ON_NEW_SECTION) */
    }
    if (dot && dot[1]) {
        size_t plen = (size_t)(dot - section);
        if (plen == 3 && !strncasecmp(section, "fit", 3)) {
            rc = set_fit_key(cfg, dot + 1, name, value, ctx->msg, sizeof(ctx->msg));
        } else if (plen == 8 && !strncasecmp(section, "exporter", 8)) {
            rc = set_exporter_key(cfg, dot + 1, name, value, ctx->msg, sizeof(ctx->msg));
        } else if (plen == 6 && !strncasecmp(section, "plugin", 6)) {
            rc = set_plugin_key(cfg, dot + 1, name, value);
        } else if (plen == 5 && !strncasecmp(section, "input", 5) &&
                   !strcasecmp(dot + 1, "kafka")) {
            rc = set_kafka_in_key(cfg, name, value, ctx->msg, sizeof(ctx->msg));
        } else if (plen == 5 && !strncasecmp(section, "input", 5) &&
                   (!strcasecmp(dot + 1, "capture") || (!strncasecmp(dot + 1, "capture.", 8) &&
                                                        dot[9]))) {
            rc = set_capture_key(cfg, dot + 1, name, value, ctx->msg, sizeof(ctx->msg));
        } else {
            snprintf(ctx->msg, sizeof(ctx->msg), "unknown section [%s]", section);
            rc = FM_ECONFIG;
        }
    } else {
        const key_def_t *k = find_key(section, name);
        if (!k) {
            snprintf(ctx->msg, sizeof(ctx->msg), known_section(section)
                     ? "unknown key '%s' in [%s]" : "key '%s' in unknown section [%s]",
                     name, section);
            rc = FM_ECONFIG;
        } else {
            rc = set_key(cfg, k, value, ctx->msg, sizeof(ctx->msg));
        }
    }
    if (rc < 0) {
        ctx->failed = 1;
        return 0;
    }
    return 1;
}

static void apply_defaults(fm_config_t *cfg)
{
    for (size_t i = 0; i < NKEYS; i++) {
        char msg[8];
        int rc = set_key(cfg, &keys[i], keys[i].def, msg, sizeof(msg));
        (void)rc; /* the table's defaults are valid; test_config checks it */
    }
}

static char *join_path(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = fm_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, file);
    return p;
}

/* The agh_2015 Makefile's jobs (FLOW-MODELS-DETAIL §0): class/metric x y → -i, -U, -L. */
static const struct {
    int cls, metric;
    struct { unsigned i, U, L; } y[3];
} agh_jobs[] = {
    {FM_CLASS_ALL, FM_METRIC_LENGTH, {{400, 6, 4}, {400, 6, 4}, {400, 6, 4}}},
    {FM_CLASS_ALL, FM_METRIC_SIZE, {{400, 0, 8}, {400, 0, 5}, {400, 0, 5}}},
    {FM_CLASS_TCP, FM_METRIC_LENGTH, {{500, 6, 4}, {500, 6, 4}, {400, 2, 4}}},
    {FM_CLASS_TCP, FM_METRIC_SIZE, {{400, 0, 8}, {400, 0, 5}, {400, 0, 5}}},
    {FM_CLASS_UDP, FM_METRIC_LENGTH, {{400, 4, 9}, {400, 7, 5}, {400, 7, 5}}},
    {FM_CLASS_UDP, FM_METRIC_SIZE, {{200, 0, 9}, {200, 0, 9}, {200, 0, 9}}},
};

static void add_default_fits(fm_config_t *cfg)
{
    static const char *const ys[] = {"flows", "packets", "octets"};
    for (size_t j = 0; j < sizeof(agh_jobs) / sizeof(agh_jobs[0]); j++) {
        for (int y = 0; y < 3; y++) {
            char name[64];
            snprintf(name, sizeof(name), "%s-%s-%s", fm_class_name(agh_jobs[j].cls),
                     fm_metric_name(agh_jobs[j].metric), ys[y]);
            fm_config_fit_t *f = FIND_OR_ADD(cfg->fits, cfg->nfits, name);
            fit_job_defaults(f, cfg);
            f->cls = agh_jobs[j].cls;
            f->metric = agh_jobs[j].metric;
            f->y = y;
            f->max_iter = agh_jobs[j].y[y].i;
            f->U = agh_jobs[j].y[y].U;
            f->L = agh_jobs[j].y[y].L;
        }
    }
}

/* Fill the keys whose default depends on others or on the environment. */
static void derive(fm_config_t *cfg)
{
    const char *env;

    if (!*cfg->state_dir) {
        env = getenv("STATE_DIRECTORY"); /* systemd may pass several, ':'-separated */
        free(cfg->state_dir);
        cfg->state_dir = fm_xstrdup(env && *env ? env : "./var");
        char *colon = strchr(cfg->state_dir, ':');
        if (colon) {
            *colon = '\0';
        }
    }
    if (!*cfg->ctl_socket) {
        env = getenv("RUNTIME_DIRECTORY");
        free(cfg->ctl_socket);
        if (env && *env && !strchr(env, ':')) {
            cfg->ctl_socket = join_path(env, "control.sock");
        } else {
            cfg->ctl_socket = join_path(cfg->state_dir, "control.sock");
        }
    }
    if (!*cfg->store_path) {
        free(cfg->store_path);
        cfg->store_path = join_path(cfg->state_dir, "flowmix.db");
    }
    if (!*cfg->plugin_dir) {
        free(cfg->plugin_dir);
        cfg->plugin_dir = fm_xstrdup(PKGLIBDIR "/plugins");
    }
    if (!*cfg->collector_id) {
        char host[256] = "";
        if (gethostname(host, sizeof(host) - 1) < 0 || !host[0]) {
            snprintf(host, sizeof(host), "flowmixd");
        }
        set_str(&cfg->collector_id, host);
    }
    if (cfg->kafka_in.enabled) {
        if (!cfg->kafka_in.topic) {
            cfg->kafka_in.topic = fm_xstrdup("flowmix.hist");
        }
        if (!cfg->kafka_in.group) {
            cfg->kafka_in.group = fm_xstrdup("flowmix-aggregator");
        }
    }
    if (!*cfg->export_dir) {
        free(cfg->export_dir);
        cfg->export_dir = join_path(cfg->state_dir, "export");
    }
    if (cfg->nfits == 0 && cfg->fit_defaults) {
        add_default_fits(cfg);
    }
}

static int validate_kafka_in(const fm_config_t *cfg, char *err, size_t errlen)
{
    const fm_config_kafka_in_t *k = &cfg->kafka_in;
    bool bootstrap = k->brokers && *k->brokers;
    if (!k->enabled) {
        return 0;
    }
#ifndef HAVE_RDKAFKA
    snprintf(err, errlen, "[input.kafka]: this flowmixd was built without librdkafka; install "
             "the Debian package 'librdkafka-dev' and rebuild to consume from Kafka");
    return FM_ECONFIG;
#endif
    for (size_t i = 0; i < k->nprops; i++) {
        bootstrap = bootstrap || !strcmp(k->keys[i], "bootstrap.servers");
    }
    if (!bootstrap) {
        snprintf(err, errlen, "[input.kafka] needs brokers (the cluster's bootstrap servers)");
        return FM_ECONFIG;
    }
    if (!*k->topic || !*k->group) {
        snprintf(err, errlen, "[input.kafka] topic and group must not be empty");
        return FM_ECONFIG;
    }
    return 0;
}

/* Plugin names become file names under plugin_dir: one path component, no leading dot. */
static bool plugin_name_ok(const char *n)
{
    if (!*n || *n == '.') {
        return false;
    }
    for (; *n; n++) {
        if (!isalnum((unsigned char)*n) && !strchr("_-.", *n)) {
            return false;
        }
    }
    return true;
}

/* Issue 20: values that parse but would make the daemon useless or unbounded. */
static int validate_bounds(const fm_config_t *cfg, char *err, size_t errlen)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    uint64_t ram_mib = pages > 0 && psz > 0 ? ((uint64_t)pages * (uint64_t)psz) >> 20 : 0;
    if (cfg->max_templates < 1 || cfg->max_templates_total < 1 || cfg->max_exporters < 1 ||
        cfg->cache_max_sources < 1) {
        snprintf(err, errlen, "[listen] max_templates, max_templates_total, max_exporters and "
                 "[cache] max_sources must be at least 1 (0 would drop every datagram)");
        return FM_ECONFIG;
    }
    if (cfg->ctl_idle_ms < 1000) {
        snprintf(err, errlen, "[control] idle_timeout must be at least 1s");
        return FM_ECONFIG;
    }
    if (cfg->exporter_timeout_ms && cfg->exporter_timeout_ms < 1000) {
        snprintf(err, errlen, "[listen] exporter_timeout must be 0 or at least 1s");
        return FM_ECONFIG;
    }
    if (ram_mib && cfg->cache_memory >= ram_mib) {
        snprintf(err, errlen, "[cache] memory = %" PRIu64 " MiB is not below this machine's "
                 "%" PRIu64 " MiB of RAM", cfg->cache_memory, ram_mib);
        return FM_ECONFIG;
    }
    for (size_t i = 0; i < cfg->nexporters; i++) {
        const fm_config_exporter_t *e = &cfg->exporters[i];
        uint64_t a = e->active_ms ? e->active_ms : cfg->active_ms;
        uint64_t in = e->inactive_ms ? e->inactive_ms : cfg->inactive_ms;
        if (in > a) { /* the cache would refuse them: the exporter would get the defaults */
            snprintf(err, errlen, "[exporter.%s] inactive_timeout (%" PRIu64 " s) is above "
                     "active_timeout (%" PRIu64 " s)", e->name, in / 1000, a / 1000);
            return FM_ECONFIG;
        }
    }
    for (size_t i = 0; i < cfg->nplugins; i++) {
        const fm_config_plugin_t *p = &cfg->plugins[i];
        if (!plugin_name_ok(p->name)) {
            snprintf(err, errlen, "[plugin.%s]: a plugin name is letters, digits, '_', '-' and "
                     "'.', not starting with '.' (it names a file in plugin_dir)", p->name);
            return FM_ECONFIG;
        }
        if (p->path && !strchr(p->path, '/') && !plugin_name_ok(p->path)) {
            snprintf(err, errlen, "[plugin.%s] path = '%s': a file name in plugin_dir, or an "
                     "absolute path", p->name, p->path);
            return FM_ECONFIG;
        }
    }
    return 0;
}

static int validate_metrics(const fm_config_t *cfg, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    if (!*cfg->metrics_listen) {
        return 0;
    }
#ifndef HAVE_MHD
    snprintf(err, errlen, "[metrics] listen: this flowmixd was built without libmicrohttpd");
    return FM_ECONFIG;
#endif
    if (fm_ingest_parse_endpoint(cfg->metrics_listen, &ss) < 0) {
        snprintf(err, errlen, "[metrics] listen must be ADDR:PORT or [V6]:PORT, not '%s'",
                 cfg->metrics_listen);
        return FM_ECONFIG;
    }
    return 0;
}

static int validate(const fm_config_t *cfg, char *err, size_t errlen)
{
    int rc;
    if (fm_histdelta_check_id(cfg->collector_id) < 0) {
        snprintf(err, errlen, "[daemon] collector_id '%s' must be 1-%d printable characters "
                 "without spaces", cfg->collector_id, FM_HISTDELTA_ID_MAX);
        return FM_ECONFIG;
    }
    if ((rc = validate_kafka_in(cfg, err, errlen)) < 0 ||
        (rc = validate_captures(cfg, err, errlen)) < 0) {
        return rc;
    }
    if (strcmp(cfg->log_time, "utc") && strcmp(cfg->log_time, "local")) {
        snprintf(err, errlen, "[daemon] log_time must be utc or local, not '%s'", cfg->log_time);
        return FM_ECONFIG;
    }
    if ((rc = validate_metrics(cfg, err, errlen)) < 0) {
        return rc;
    }
    if (cfg->cache_memory < 1) {
        snprintf(err, errlen, "[cache] memory must be at least 1 MiB");
        return FM_ECONFIG;
    }
    if (cfg->inactive_ms == 0 || cfg->active_ms <= cfg->inactive_ms) {
        snprintf(err, errlen, "[cache] active_timeout must be larger than inactive_timeout > 0");
        return FM_ECONFIG;
    }
    if (strcmp(cfg->cache_merge, "flow-models") && strcmp(cfg->cache_merge, "ft-profiler")) {
        snprintf(err, errlen, "[cache] merge must be flow-models or ft-profiler, not '%s'",
                 cfg->cache_merge);
        return FM_ECONFIG;
    }
    if (cfg->window_ms < 1000) {
        snprintf(err, errlen, "[hist] window must be at least 1s");
        return FM_ECONFIG;
    }
    if (cfg->commit_interval_ms < 100) {
        snprintf(err, errlen, "[store] commit_interval must be at least 100ms");
        return FM_ECONFIG;
    }
    for (size_t i = 0; i < cfg->nexporters; i++) {
        const fm_config_exporter_t *e = &cfg->exporters[i];
        uint8_t addr[16];
        if (!e->address || fm_flow_addr_parse(e->address, addr, NULL) < 0) {
            snprintf(err, errlen, "[exporter.%s] needs address = an IPv4 or IPv6 address",
                     e->name);
            return FM_ECONFIG;
        }
    }
    for (size_t i = 0; i < cfg->nfits; i++) {
        const fm_config_fit_t *f = &cfg->fits[i];
        if (f->U + f->L + f->P == 0 || f->max_iter == 0) {
            snprintf(err, errlen, "[fit.%s] needs at least one component and max_iter > 0",
                     f->name);
            return FM_ECONFIG;
        }
    }
    return validate_bounds(cfg, err, errlen);
}

/* libinih reads lines into a fixed INI_MAX_LINE buffer (200 in Debian's build) and parses the
 * rest of a longer one as a line of its own: a misleading syntax error, or worse, a value cut
 * short.  @return the first physical line longer than that, 0 if none. */
#define LINE_MAX_CHARS (INI_MAX_LINE - 2)
static int long_line(FILE *f)
{
    int c, line = 1;
    size_t len = 0;
    while ((c = getc(f)) != EOF) {
        if (c == '\n') {
            line++;
            len = 0;
        } else if (++len > LINE_MAX_CHARS) {
            rewind(f);
            return line;
        }
    }
    rewind(f);
    return 0;
}

/* Trim a line in place: leading and trailing blanks, and an inline comment after ']'. */
static char *trim_header(char *line)
{
    char *e;
    while (*line == ' ' || *line == '\t') {
        line++;
    }
    e = line + strlen(line);
    while (e > line && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) {
        *--e = '\0';
    }
    return line;
}

/*
 * Section headers, checked before inih reads the file: inih takes "[daemon" for a key line of
 * the previous section and merges a repeated section silently, so both are reported here with
 * the line they are on.
 */
typedef struct {
    char (*names)[128];
    unsigned *lines;
    size_t n;
} sections_t;

static int check_sections(FILE *f, const char *path, sections_t *secs, char *err, size_t errlen)
{
    char line[1024], (*names)[128] = NULL;
    unsigned *lines = NULL, lineno = 0;
    size_t n = 0;
    int rc = 0;

    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *l = trim_header(line), *close;
        lineno++;
        if (*l != '[') {
            continue;
        }
        close = strchr(l, ']');
        if (!close || (close[1] && close[1] != ';' && close[1] != '#' && close[1] != ' ')) {
            snprintf(err, errlen, "%s:%u: malformed section header '%.100s' (expected [NAME])",
                     path, lineno, l);
            rc = FM_ECONFIG;
            break;
        }
        *close = '\0';
        for (size_t i = 0; i < n; i++) {
            if (!strcasecmp(names[i], l + 1)) {
                snprintf(err, errlen, "%s:%u: duplicate section [%.100s] (first at line %u)",
                         path, lineno, l + 1, lines[i]);
                rc = FM_ECONFIG;
            }
        }
        names = fm_xreallocarray(names, n + 1, sizeof(*names));
        lines = fm_xreallocarray(lines, n + 1, sizeof(*lines));
        snprintf(names[n], sizeof(names[n]), "%s", l + 1);
        lines[n++] = lineno;
    }
    secs->names = names;
    secs->lines = lines;
    secs->n = n;
    rewind(f);
    return rc;
}

/* Each [plugin.NAME] section's line, for messages about the plugin's own keys. */
static void plugin_lines(fm_config_t *cfg, const sections_t *secs)
{
    for (size_t i = 0; i < cfg->nplugins; i++) {
        fm_config_plugin_t *p = &cfg->plugins[i];
        for (size_t k = 0; k < secs->n; k++) {
            if (!strncasecmp(secs->names[k], "plugin.", 7) &&
                !strcasecmp(secs->names[k] + 7, p->name)) {
                p->line = secs->lines[k];
            }
        }
    }
}

int fm_config_load(const char *path, fm_config_t **out, char *err, size_t errlen)
{
    fm_config_t *cfg = fm_xcalloc(1, sizeof(*cfg));
    parse_ctx_t ctx = {.cfg = cfg};
    sections_t secs = {0};
    int rc = 0;

    apply_defaults(cfg);
    if (path) {
        cfg->file = fm_xstrdup(path);
        FILE *f = fopen(path, "r");
        if (!f) {
            rc = -errno;
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            goto fail;
        }
        int line = long_line(f);
        if (line > 0) {
            snprintf(ctx.msg, sizeof(ctx.msg), "line longer than %d characters (the limit of "
                     "the configuration parser)", LINE_MAX_CHARS);
            ctx.failed = 1;
        } else if ((rc = check_sections(f, path, &secs, err, errlen)) < 0) {
            fclose(f);
            goto fail;
        } else {
            line = ini_parse_file(f, on_ini_key, &ctx);
            plugin_lines(cfg, &secs);
        }
        fclose(f);
        if (line != 0) {
            snprintf(err, errlen, "%s:%d: %s", path, line,
                     ctx.failed ? ctx.msg : "syntax error (expected [section] or key = value)");
            rc = FM_ECONFIG;
            goto fail;
        }
    }
    derive(cfg);
    rc = validate(cfg, ctx.msg, sizeof(ctx.msg));
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path ? path : "defaults", ctx.msg);
        goto fail;
    }
    free(secs.names);
    free(secs.lines);
    *out = cfg;
    return 0;
fail:
    free(secs.names);
    free(secs.lines);
    fm_config_free(cfg);
    return rc;
}

void fm_config_free(fm_config_t *cfg)
{
    if (!cfg) {
        return;
    }
    for (size_t i = 0; i < NKEYS; i++) {
        if (keys[i].type == K_STR) {
            free(*(char **)((char *)cfg + keys[i].offset));
        }
    }
    for (size_t i = 0; i < cfg->nfits; i++) {
        free(cfg->fits[i].name);
    }
    for (size_t i = 0; i < cfg->nexporters; i++) {
        free(cfg->exporters[i].name);
        free(cfg->exporters[i].address);
    }
    for (size_t i = 0; i < cfg->nplugins; i++) {
        fm_config_plugin_t *p = &cfg->plugins[i];
        for (size_t k = 0; k < p->nkeys; k++) {
            free(p->keys[k]);
            free(p->values[k]);
        }
        free(p->keys);
        free(p->values);
        free(p->name);
        free(p->path);
    }
    for (size_t k = 0; k < cfg->kafka_in.nprops; k++) {
        free(cfg->kafka_in.keys[k]);
        free(cfg->kafka_in.values[k]);
    }
    free(cfg->kafka_in.keys);
    free(cfg->kafka_in.values);
    free(cfg->kafka_in.brokers);
    free(cfg->kafka_in.topic);
    free(cfg->kafka_in.group);
    for (size_t i = 0; i < cfg->ncaptures; i++) {
        free(cfg->captures[i].name);
        free(cfg->captures[i].interface);
        free(cfg->captures[i].file);
        free(cfg->captures[i].bpf);
    }
    free(cfg->captures);
    free(cfg->fits);
    free(cfg->exporters);
    free(cfg->plugins);
    free(cfg->file);
    free(cfg);
}

static void print_help(FILE *out, const char *help)
{
    fputs("# ", out);
    for (const char *p = help; *p; p++) {
        fputc(*p, out);
        if (*p == '\n') {
            fputs("# ", out);
        }
    }
    fputc('\n', out);
}

void fm_config_print_defaults(FILE *out)
{
    const char *section = "";

    fprintf(out, "# flowmixd.conf - configuration of the flowmix collector daemon.\n"
                 "# Generated by 'flowmixd --print-defaults'; every key is shown with its\n"
                 "# default value.  See flowmixd.conf(5).  Durations take s, m, h, d suffixes.\n");
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(section, keys[i].section)) {
            section = keys[i].section;
            fprintf(out, "\n[%s]\n", section);
        }
        print_help(out, keys[i].help);
        fprintf(out, "%s = %s\n", keys[i].key, keys[i].def);
    }
    fprintf(out, "\n# Fit jobs: one section per job.  Without any, [fit] defaults = yes runs the\n"
                 "# agh_2015 set (all/tcp/udp x length/size x flows/packets/octets).\n"
                 "#[fit.all-length-flows]\n#class = all\n#metric = length\n"
                 "#direction = uniflow\n#y = flows\n#U = 6\n#L = 4\n#P = 0\n#max_iter = 400\n"
                 "#tol = 0\n"
                 "\n# Per-exporter timeouts (the exporter's own active/inactive timeouts).\n"
                 "#[exporter.core1]\n#address = 192.0.2.1\n#active_timeout = 1800\n"
                 "#inactive_timeout = 15\n"
                 "\n# Output plugins: path (default PLUGIN_DIR/NAME.so) plus the plugin's keys.\n"
                 "#[plugin.csv]\n#dir = /var/lib/flowmix/csv\n"
                 "\n# Aggregator: add the histogram deltas that collectors publish to Kafka\n"
                 "# ([plugin.kafka] histograms = yes) to this daemon's histograms.\n"
                 "#[input.kafka]\n#brokers = kafka1:9092,kafka2:9092\n#topic = flowmix.hist\n"
                 "#group = flowmix-aggregator\n#rdkafka.security.protocol = ssl\n"
                 "\n# Packet capture: meter packets into flows as nfstream does (flowmix meter) and\n"
                 "# feed them to the cache like exported ones.  interface needs CAP_NET_RAW.\n"
                 "#[input.capture]\n#interface = eth0\n#file = /path/to/capture.pcap\n"
                 "#bpf = tcp or udp\n#idle_timeout = 120\n#active_timeout = 1800\n"
                 "#accounting_mode = 0\n#dissections = 0\n");
}

static bool same_str(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

/* Two key = value lists of n entries each, in the same order. */
static bool same_pairs(char **ka, char **va, char **kb, char **vb, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!same_str(ka[i], kb[i]) || !same_str(va[i], vb[i])) {
            return false;
        }
    }
    return true;
}

static bool key_same(const key_def_t *k, const fm_config_t *a, const fm_config_t *b)
{
    const char *pa = (const char *)a + k->offset, *pb = (const char *)b + k->offset;
    switch (k->type) {
    case K_STR: return same_str(*(char *const *)pa, *(char *const *)pb);
    case K_BOOL: return *(const bool *)pa == *(const bool *)pb;
    case K_LOGLEVEL: return *(const int *)pa == *(const int *)pb;
    default: return *(const uint64_t *)pa == *(const uint64_t *)pb;
    }
}

static bool plugins_same(const fm_config_t *a, const fm_config_t *b)
{
    if (a->nplugins != b->nplugins) {
        return false;
    }
    for (size_t i = 0; i < a->nplugins; i++) {
        const fm_config_plugin_t *p = &a->plugins[i], *q = &b->plugins[i];
        if (!same_str(p->name, q->name) || !same_str(p->path, q->path) || p->nkeys != q->nkeys ||
            !same_pairs(p->keys, p->values, q->keys, q->values, p->nkeys)) {
            return false;
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
    return same_pairs(a->keys, a->values, b->keys, b->values, a->nprops);
}

/* [exporter.NAME] sections apply to exporters first seen after the reload. */
static bool exporters_same(const fm_config_t *a, const fm_config_t *b)
{
    if (a->nexporters != b->nexporters) {
        return false;
    }
    for (size_t i = 0; i < a->nexporters; i++) {
        const fm_config_exporter_t *p = &a->exporters[i], *q = &b->exporters[i];
        if (!same_str(p->name, q->name) || !same_str(p->address, q->address) ||
            p->active_ms != q->active_ms || p->inactive_ms != q->inactive_ms) {
            return false;
        }
    }
    return true;
}

static void add_name(char **list, size_t *n, const char *name)
{
    size_t len = *list ? strlen(*list) : 0;
    *list = fm_xreallocarray(*list, len + strlen(name) + 3, 1);
    snprintf(*list + len, strlen(name) + 3, "%s%s", len ? ", " : "", name);
    (*n)++;
}

size_t fm_config_reload_diff(const fm_config_t *run, const fm_config_t *next, char **applied,
                             char **restart)
{
    size_t nr = 0, na = 0;
    char name[160];

    *applied = *restart = NULL;
    for (size_t i = 0; i < NKEYS; i++) {
        if (!key_same(&keys[i], run, next)) {
            snprintf(name, sizeof(name), "[%s] %s", keys[i].section, keys[i].key);
            add_name(keys[i].reload ? applied : restart, keys[i].reload ? &na : &nr, name);
        }
    }
    if (!plugins_same(run, next)) {
        add_name(restart, &nr, "[plugin.*]");
    }
    if (!kafka_in_same(&run->kafka_in, &next->kafka_in)) {
        add_name(restart, &nr, "[input.kafka]");
    }
    if (!exporters_same(run, next)) {
        add_name(restart, &nr, "[exporter.*] (for exporters already seen)");
    }
    return nr;
}

void fm_config_keep_running(fm_config_t *next, fm_config_t *run)
{
    for (size_t i = 0; i < NKEYS; i++) {
        char *pn = (char *)next + keys[i].offset, *pr = (char *)run + keys[i].offset;
        if (keys[i].reload) {
            continue;
        }
        switch (keys[i].type) {
        case K_STR:
            free(*(char **)pn);
            *(char **)pn = fm_xstrdup(*(char **)pr ? *(char **)pr : "");
            break;
        case K_BOOL: *(bool *)pn = *(bool *)pr; break;
        case K_LOGLEVEL: *(int *)pn = *(int *)pr; break;
        default: *(uint64_t *)pn = *(uint64_t *)pr; break;
        }
    }
    /* Loaded once: the running sections stay, and describe what runs. */
    fm_config_plugin_t *p = next->plugins;
    size_t np = next->nplugins;
    next->plugins = run->plugins;
    next->nplugins = run->nplugins;
    run->plugins = p;
    run->nplugins = np;
    fm_config_kafka_in_t k = next->kafka_in;
    next->kafka_in = run->kafka_in;
    run->kafka_in = k;
}

void fm_config_print(const fm_config_t *cfg, FILE *out)
{
    const char *section = "";
    for (size_t i = 0; i < NKEYS; i++) {
        const char *base = (const char *)cfg + keys[i].offset;
        if (strcmp(section, keys[i].section)) {
            section = keys[i].section;
            fprintf(out, "%s[%s]\n", i ? "\n" : "", section);
        }
        fprintf(out, "%s = ", keys[i].key);
        switch (keys[i].type) {
        case K_STR: fprintf(out, "%s\n", *(char *const *)base); break;
        case K_BOOL: fprintf(out, "%s\n", *(const bool *)base ? "yes" : "no"); break;
        case K_LOGLEVEL: fprintf(out, "%s\n", fm_log_level_name(*(const int *)base)); break;
        case K_DURATION: fprintf(out, "%.3fs\n", *(const uint64_t *)base / 1000.0); break;
        default: fprintf(out, "%llu\n", (unsigned long long)*(const uint64_t *)base); break;
        }
    }
    for (size_t i = 0; i < cfg->nfits; i++) {
        const fm_config_fit_t *f = &cfg->fits[i];
        static const char *const ys[] = {"flows", "packets", "octets"};
        fprintf(out, "\n[fit.%s]\nclass = %s\nmetric = %s\ndirection = %s\ny = %s\n"
                     "U = %u\nL = %u\nP = %u\nmax_iter = %u\ntol = %g\n",
                f->name, fm_class_name(f->cls), fm_metric_name(f->metric),
                fm_dir_name(f->direction), ys[f->y], f->U, f->L, f->P, f->max_iter, f->tol);
    }
    for (size_t i = 0; i < cfg->nexporters; i++) {
        const fm_config_exporter_t *e = &cfg->exporters[i];
        fprintf(out, "\n[exporter.%s]\naddress = %s\nactive_timeout = %.3fs\n"
                     "inactive_timeout = %.3fs\n", e->name, e->address,
                e->active_ms / 1000.0, e->inactive_ms / 1000.0);
    }
    for (size_t i = 0; i < cfg->ncaptures; i++) {
        const fm_config_capture_t *c = &cfg->captures[i];
        fprintf(out, "\n[input.%s]\n%s = %s\n", c->name, c->interface ? "interface" : "file",
                c->interface ? c->interface : c->file ? c->file : "");
        if (c->bpf) {
            fprintf(out, "bpf = %s\n", c->bpf);
        }
        fprintf(out, "idle_timeout = %.3fs\nactive_timeout = %.3fs\naccounting_mode = %llu\n"
                     "dissections = %llu\n", c->idle_ms / 1000.0, c->active_ms / 1000.0,
                (unsigned long long)c->accounting_mode, (unsigned long long)c->dissections);
    }
    if (cfg->kafka_in.enabled) {
        const fm_config_kafka_in_t *k = &cfg->kafka_in;
        fprintf(out, "\n[input.kafka]\nbrokers = %s\ntopic = %s\ngroup = %s\n",
                k->brokers ? k->brokers : "", k->topic, k->group);
        for (size_t i = 0; i < k->nprops; i++) {
            fprintf(out, "rdkafka.%s = %s\n", k->keys[i], k->values[i]);
        }
    }
}
