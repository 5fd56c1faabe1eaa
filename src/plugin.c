/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Output plugin host.  The loader follows STYLE §8: dlopen(RTLD_NOW | RTLD_LOCAL), one dlsym of
 * the descriptor, every check before the first call, fini only after a successful init.
 *
 * Queues: the loop thread converts a batch once into a reference-counted array of
 * fm_plugin_flow_t and offers it to each instance's ring of `queue` batch pointers.  The ring's
 * mutex is held only to push or pop a pointer (never across a callback), so with
 * `overflow = drop` the producer waits for nothing but that short critical section.  Ticks and
 * flushes are flags, not ring slots, so they never wait either: ticks coalesce to the latest
 * time, and a flush runs once the batches queued before it have been consumed.
 *
 * Histogram deltas (ABI 2, fm_plugin_t.hist) travel in the same rings as one-document batches,
 * offered only to instances that have the callback, so they keep their order with the flows
 * and obey the same bound and overflow policy.
 */
#include "config.h"

#include "plugin.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flowmix/plugin.h"
#include "log.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/time.h"

#define MAX_PLUGIN_COUNTERS 16

typedef struct batch {
    atomic_uint refs;
    size_t n;                  /* flows; 0 for a histogram delta */
    char *json;                /* a histogram delta (NUL-terminated), NULL for flows */
    size_t len;
    uint64_t window_start_ms;
    fm_plugin_flow_t flows[];
} batch_t;

typedef int (*hist_fn)(void *state, const char *json, size_t len, uint64_t window_start_ms);
typedef int (*validate_fn)(const char *const *keys, const char *const *values, size_t n,
                           char *err, size_t errlen);

typedef struct instance {
    char *name;                /* [plugin.NAME] */
    char *file;                /* resolved path of the shared object */
    void *dl;
    const fm_plugin_t *desc;
    hist_fn hist;              /* desc->hist of an ABI >= 2 plugin, else NULL */
    validate_fn validate;      /* desc->validate of an ABI >= 4 plugin, else NULL */
    fm_plugin_hist_params_t hist_params; /* from desc->hist_params (ABI >= 3), else zeros */
    atomic_bool hist_declined; /* hist answered FM_PLUGIN_HIST_DECLINE: offer no more */
    void *state;
    bool inited;
    bool started;
    pthread_t thread;

    size_t qlimit;
    bool block;
    uint64_t block_ms;         /* overflow = block waits at most this long, then drops */
    uint64_t stop_ms;          /* shutdown waits this long for the worker, then abandons it */
    bool exited;               /* worker_main returned (under mu) */
    bool abandoned;            /* still in a callback at shutdown: never freed or unloaded */

    pthread_mutex_t mu;
    pthread_cond_t cv_work;    /* worker: something to do */
    pthread_cond_t cv_done;    /* producers (space) and wait_idle (progress) */
    batch_t **ring;
    size_t head;               /* oldest */
    size_t count;
    bool busy;                 /* a callback is running */
    bool stopping;
    bool tick_pending;
    uint64_t tick_now;
    bool flush_pending;
    uint64_t flush_at;         /* flush once done_seq reaches this */
    uint64_t enq_seq;          /* batches accepted */
    uint64_t done_seq;         /* batches consumed */

    fm_plugin_stats_t st;      /* under mu (queue_depth is computed) */
    fm_plugin_counter_t pc[MAX_PLUGIN_COUNTERS];
    size_t npc;
} instance_t;

struct fm_plugins {
    instance_t *inst;
    size_t n;
    struct fm_plugins *next; /* in `graveyard` */
};

/* Plugin sets with an abandoned worker (stop_one): kept reachable, never freed. */
static fm_plugins_t *graveyard;
static pthread_mutex_t graveyard_mu = PTHREAD_MUTEX_INITIALIZER;

static void batch_unref(batch_t *b)
{
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        free(b->json);
        free(b);
    }
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Errors are logged when their count is a power of two: a failing output is visible at once
 * without flooding the log, and the exact count is in the stats. */
static void note_error(instance_t *in, const char *what, int rc)
{
    uint64_t e;
    pthread_mutex_lock(&in->mu);
    e = ++in->st.errors;
    pthread_mutex_unlock(&in->mu);
    if ((e & (e - 1)) == 0) {
        fm_log_warn("plugin %s: %s failed (%d), %" PRIu64 " error(s) so far", in->name, what,
                    rc, e);
    }
}

static void refresh_counters(instance_t *in)
{
    fm_plugin_counter_t pc[MAX_PLUGIN_COUNTERS];
    size_t n;
    if (!in->desc->counters) {
        return;
    }
    n = in->desc->counters(in->state, pc, MAX_PLUGIN_COUNTERS);
    if (n > MAX_PLUGIN_COUNTERS) {
        n = MAX_PLUGIN_COUNTERS;
    }
    pthread_mutex_lock(&in->mu);
    memcpy(in->pc, pc, n * sizeof(pc[0]));
    in->npc = n;
    pthread_mutex_unlock(&in->mu);
}

static void run_batch(instance_t *in, batch_t *b)
{
    int rc;
    if (b->json) {
        if ((rc = in->hist(in->state, b->json, b->len, b->window_start_ms)) < 0) {
            note_error(in, "hist", rc);
        } else if (rc == FM_PLUGIN_HIST_DECLINE) {
            atomic_store(&in->hist_declined, true);
        }
    } else if ((rc = in->desc->consume(in->state, b->flows, b->n)) < 0) {
        note_error(in, "consume", rc);
    }
    pthread_mutex_lock(&in->mu);
    if (b->json) {
        in->st.hist_deltas++;
    } else {
        in->st.batches++;
        in->st.flows += b->n;
    }
    in->done_seq++;
    pthread_mutex_unlock(&in->mu);
    batch_unref(b);
}

static void run_tick(instance_t *in, uint64_t now)
{
    if (in->desc->tick) {
        int rc = in->desc->tick(in->state, now);
        if (rc < 0) {
            note_error(in, "tick", rc);
        }
    }
    refresh_counters(in);
}

static void run_flush(instance_t *in)
{
    if (in->desc->flush) {
        int rc = in->desc->flush(in->state);
        if (rc < 0) {
            note_error(in, "flush", rc);
        }
    }
    refresh_counters(in);
}

/* Worker: batches in order; a pending flush once the batches queued before it are done; ticks
 * between batches.  On stop, drains the ring, flushes once and exits. */
static void *worker_main(void *arg)
{
    instance_t *in = arg;

    pthread_mutex_lock(&in->mu);
    for (;;) {
        while (!in->count && !in->tick_pending && !in->flush_pending && !in->stopping) {
            pthread_cond_wait(&in->cv_work, &in->mu);
        }
        in->busy = true;
        if (in->flush_pending && in->done_seq >= in->flush_at) {
            in->flush_pending = false;
            pthread_mutex_unlock(&in->mu);
            run_flush(in);
            pthread_mutex_lock(&in->mu);
        } else if (in->tick_pending) {
            uint64_t now = in->tick_now;
            in->tick_pending = false;
            pthread_mutex_unlock(&in->mu);
            run_tick(in, now);
            pthread_mutex_lock(&in->mu);
        } else if (in->count) {
            batch_t *b = in->ring[in->head];
            in->head = (in->head + 1) % in->qlimit;
            in->count--;
            pthread_cond_broadcast(&in->cv_done); /* a slot is free */
            pthread_mutex_unlock(&in->mu);
            run_batch(in, b);
            pthread_mutex_lock(&in->mu);
        } else if (in->stopping) {
            in->busy = false;
            break;
        }
        in->busy = false;
        pthread_cond_broadcast(&in->cv_done);
    }
    pthread_mutex_unlock(&in->mu);
    run_flush(in);
    pthread_mutex_lock(&in->mu);
    in->exited = true;
    pthread_cond_broadcast(&in->cv_done);
    pthread_mutex_unlock(&in->mu);
    return NULL;
}

/* cv_done runs on CLOCK_MONOTONIC: the absolute time ms from now. */
static struct timespec deadline_in(uint64_t ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += (time_t)(ms / 1000u);
    dl.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    return dl;
}

static void convert(const fm_flow_t *f, fm_plugin_flow_t *o)
{
    memset(o, 0, sizeof(*o));
    o->first_ms = f->first_ms;
    o->last_ms = f->last_ms;
    o->rev_first_ms = f->rev_first_ms;
    o->rev_last_ms = f->rev_last_ms;
    o->packets = f->packets;
    o->octets = f->octets;
    o->rev_packets = f->rev_packets;
    o->rev_octets = f->rev_octets;
    memcpy(o->src, f->src, 16);
    memcpy(o->dst, f->dst, 16);
    o->exporter = f->exporter;
    o->domain = f->domain;
    o->inif = f->inif;
    o->outif = f->outif;
    o->sampling = f->sampling;
    o->records = f->records;
    o->sport = f->sport;
    o->dport = f->dport;
    o->af = f->af;
    o->proto = f->proto;
    o->tcp_flags = f->tcp_flags;
    o->rev_tcp_flags = f->rev_tcp_flags;
    o->flags = f->flags;
    o->fwd_first = f->fwd_first;
}

/* Offer a batch to one instance.  Drop: never waits beyond the mutex.  Block: waits for space. */
static void enqueue(instance_t *in, batch_t *b)
{
    pthread_mutex_lock(&in->mu);
    if (in->count == in->qlimit && in->block) {
        /* Bounded: a plugin stuck in consume must not stall the loop (signals, the control
         * socket, commits) for good; past block_ms the batch is dropped and counted. */
        uint64_t t0 = mono_us();
        struct timespec dl = deadline_in(in->block_ms);
        while (in->count == in->qlimit && !in->stopping) {
            if (pthread_cond_timedwait(&in->cv_done, &in->mu, &dl) == ETIMEDOUT) {
                in->st.block_timeouts++;
                break;
            }
        }
        in->st.blocked_us += mono_us() - t0;
    }
    if (in->count == in->qlimit || in->stopping) {
        if (b->json) {
            in->st.hist_dropped++;
        } else {
            in->st.dropped += b->n;
            in->st.dropped_batches++;
        }
        pthread_mutex_unlock(&in->mu);
        return;
    }
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    in->ring[(in->head + in->count) % in->qlimit] = b;
    in->count++;
    in->enq_seq++;
    if (in->count > in->st.queue_max) {
        in->st.queue_max = in->count;
    }
    pthread_cond_signal(&in->cv_work);
    pthread_mutex_unlock(&in->mu);
}

void fm_plugins_consume(fm_plugins_t *p, const fm_flow_t *flows, size_t n)
{
    batch_t *b;
    if (!p || !p->n || !n) {
        return;
    }
    b = fm_xmalloc(sizeof(*b) + n * sizeof(b->flows[0]));
    atomic_init(&b->refs, 1); /* the producer's own reference, dropped below */
    b->n = n;
    b->json = NULL;
    b->len = 0;
    b->window_start_ms = 0;
    for (size_t i = 0; i < n; i++) {
        convert(&flows[i], &b->flows[i]);
    }
    for (size_t i = 0; i < p->n; i++) {
        enqueue(&p->inst[i], b);
    }
    batch_unref(b);
}

static void consume_fn(void *p, const fm_flow_t *flows, size_t n)
{
    fm_plugins_consume(p, flows, n);
}

fm_sink_t fm_plugins_sink(fm_plugins_t *p)
{
    return (fm_sink_t){consume_fn, p};
}

static bool takes_hist(instance_t *in)
{
    return in->hist && !atomic_load_explicit(&in->hist_declined, memory_order_relaxed);
}

bool fm_plugins_want_hist(const fm_plugins_t *p)
{
    for (size_t i = 0; p && i < p->n; i++) {
        if (takes_hist(&p->inst[i])) {
            return true;
        }
    }
    return false;
}

void fm_plugins_hist_params(const fm_plugins_t *p, uint64_t *max_bytes, bool *json)
{
    bool any = false;
    *max_bytes = 0;
    *json = true;
    for (size_t i = 0; p && i < p->n; i++) {
        const instance_t *in = &p->inst[i];
        if (!takes_hist((instance_t *)in)) {
            continue;
        }
        any = true;
        uint64_t m = in->hist_params.max_bytes;
        if (m && (!*max_bytes || m < *max_bytes)) {
            *max_bytes = m;
        }
        *json = *json && in->hist_params.encoding == FM_PLUGIN_HIST_JSON;
    }
    *json = *json && any;
}

void fm_plugins_hist(fm_plugins_t *p, const char *json, size_t len, uint64_t window_start_ms)
{
    batch_t *b;
    if (!fm_plugins_want_hist(p)) {
        return;
    }
    b = fm_xcalloc(1, sizeof(*b));
    atomic_init(&b->refs, 1);
    b->json = fm_xmalloc(len + 1);
    memcpy(b->json, json, len);
    b->json[len] = '\0';
    b->len = len;
    b->window_start_ms = window_start_ms;
    for (size_t i = 0; i < p->n; i++) {
        if (takes_hist(&p->inst[i])) {
            enqueue(&p->inst[i], b);
        }
    }
    batch_unref(b);
}

void fm_plugins_tick(fm_plugins_t *p, uint64_t now_ms)
{
    for (size_t i = 0; p && i < p->n; i++) {
        instance_t *in = &p->inst[i];
        pthread_mutex_lock(&in->mu);
        in->tick_pending = true;
        in->tick_now = now_ms;
        pthread_cond_signal(&in->cv_work);
        pthread_mutex_unlock(&in->mu);
    }
}

void fm_plugins_flush(fm_plugins_t *p)
{
    for (size_t i = 0; p && i < p->n; i++) {
        instance_t *in = &p->inst[i];
        pthread_mutex_lock(&in->mu);
        in->flush_pending = true;
        in->flush_at = in->enq_seq;
        pthread_cond_signal(&in->cv_work);
        pthread_mutex_unlock(&in->mu);
    }
}

int fm_plugins_wait_idle(fm_plugins_t *p, uint64_t timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl); /* cv_done runs on CLOCK_MONOTONIC */
    dl.tv_sec += (time_t)(timeout_ms / 1000u);
    dl.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    for (size_t i = 0; p && i < p->n; i++) {
        instance_t *in = &p->inst[i];
        pthread_mutex_lock(&in->mu);
        while (in->count || in->busy || in->tick_pending || in->flush_pending) {
            if (pthread_cond_timedwait(&in->cv_done, &in->mu, &dl) == ETIMEDOUT) {
                pthread_mutex_unlock(&in->mu);
                return FM_EAGAIN;
            }
        }
        pthread_mutex_unlock(&in->mu);
    }
    return 0;
}

size_t fm_plugins_count(const fm_plugins_t *p)
{
    return p ? p->n : 0;
}

int fm_plugins_stats(fm_plugins_t *p, size_t i, fm_plugin_stats_t *out)
{
    instance_t *in;
    if (!p || i >= p->n) {
        return FM_ERANGE;
    }
    in = &p->inst[i];
    pthread_mutex_lock(&in->mu);
    *out = in->st;
    out->queue_depth = in->count;
    pthread_mutex_unlock(&in->mu);
    return 0;
}

json_t *fm_plugins_stats_json(fm_plugins_t *p)
{
    json_t *arr = json_array();
    for (size_t i = 0; p && i < p->n; i++) {
        instance_t *in = &p->inst[i];
        fm_plugin_stats_t st;
        json_t *pc = json_object();
        fm_plugins_stats(p, i, &st);
        pthread_mutex_lock(&in->mu);
        for (size_t k = 0; k < in->npc; k++) {
            if (in->pc[k].name) {
                json_object_set_new(pc, in->pc[k].name, json_integer((json_int_t)in->pc[k].value));
            }
        }
        pthread_mutex_unlock(&in->mu);
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
            "name", in->name, "file", in->file, "plugin", in->desc->name,
            "version", in->desc->version ? in->desc->version : "",
            "queue_limit", (json_int_t)in->qlimit, "overflow", in->block ? "block" : "drop",
            "batches", (json_int_t)st.batches, "flows", (json_int_t)st.flows,
            "dropped", (json_int_t)st.dropped, "dropped_batches", (json_int_t)st.dropped_batches,
            "errors", (json_int_t)st.errors, "blocked_us", (json_int_t)st.blocked_us,
            "queue_depth", (json_int_t)st.queue_depth, "queue_max", (json_int_t)st.queue_max,
            "plugin_counters", pc);
        json_object_set_new(o, "hist", json_boolean(takes_hist(in)));
        json_object_set_new(o, "hist_deltas", json_integer((json_int_t)st.hist_deltas));
        json_object_set_new(o, "hist_dropped", json_integer((json_int_t)st.hist_dropped));
        json_object_set_new(o, "block_timeouts", json_integer((json_int_t)st.block_timeouts));
        json_object_set_new(o, "block_timeout_ms", json_integer((json_int_t)in->block_ms));
        json_object_set_new(o, "stop_timeout_ms", json_integer((json_int_t)in->stop_ms));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* ---- loading ---- */

/* Split the loader's keys (queue, overflow) from the plugin's. */
static int loader_keys(instance_t *in, const fm_config_plugin_t *c, const char **keys,
                       const char **values, size_t *nk, char *err, size_t errlen)
{
    in->qlimit = FM_PLUGIN_QUEUE_DEFAULT;
    in->block = false;
    in->block_ms = FM_PLUGIN_BLOCK_MS_DEFAULT;
    in->stop_ms = FM_PLUGIN_STOP_MS_DEFAULT;
    *nk = 0;
    for (size_t k = 0; k < c->nkeys; k++) {
        const char *v = c->values[k];
        if (!strcasecmp(c->keys[k], "queue")) {
            char *end;
            unsigned long long q = strtoull(v, &end, 10);
            if (end == v || *end || q < 1 || q > FM_PLUGIN_QUEUE_MAX || v[0] == '-') {
                snprintf(err, errlen, "plugin %s: queue = %s: expected 1..%d batches", c->name, v,
                         FM_PLUGIN_QUEUE_MAX);
                return FM_ECONFIG;
            }
            in->qlimit = (size_t)q;
        } else if (!strcasecmp(c->keys[k], "block_timeout") ||
                   !strcasecmp(c->keys[k], "stop_timeout")) {
            uint64_t ms;
            if (fm_time_parse_duration(v, &ms) < 0 || ms == 0) {
                snprintf(err, errlen, "plugin %s: %s = %s: expected a duration > 0 (e.g. 500ms, "
                         "5s)", c->name, c->keys[k], v);
                return FM_ECONFIG;
            }
            *(tolower((unsigned char)c->keys[k][0]) == 'b' ? &in->block_ms : &in->stop_ms) = ms;
        } else if (!strcasecmp(c->keys[k], "overflow")) {
            if (!strcasecmp(v, "drop")) {
                in->block = false;
            } else if (!strcasecmp(v, "block")) {
                in->block = true;
            } else {
                snprintf(err, errlen, "plugin %s: overflow = %s: expected drop or block", c->name,
                         v);
                return FM_ECONFIG;
            }
        } else {
            keys[*nk] = c->keys[k];
            values[*nk] = c->values[k];
            (*nk)++;
        }
    }
    return 0;
}

static char *resolve_path(const fm_config_plugin_t *c, const char *plugin_dir)
{
    const char *dir = plugin_dir && *plugin_dir ? plugin_dir : PKGLIBDIR "/plugins";
    char *path;
    size_t len;
    if (c->path && strchr(c->path, '/')) {
        return fm_xstrdup(c->path);
    }
    len = strlen(dir) + strlen(c->path ? c->path : c->name) + 5;
    path = fm_xmalloc(len);
    if (c->path) {
        snprintf(path, len, "%s/%s", dir, c->path);
    } else {
        snprintf(path, len, "%s/%s.so", dir, c->name);
    }
    return path;
}

/* Every check before the first call into the plugin. */
static int check_descriptor(instance_t *in, const fm_plugin_t *d, char *err, size_t errlen)
{
    const char *what = NULL;
    if (d->abi_version < FM_PLUGIN_ABI_VERSION_MIN || d->abi_version > FM_PLUGIN_ABI_VERSION) {
        snprintf(err, errlen, "plugin %s: %s: ABI version %" PRIu32 ", flowmixd loads %d to %d",
                 in->name, in->file, d->abi_version, FM_PLUGIN_ABI_VERSION_MIN,
                 FM_PLUGIN_ABI_VERSION);
        return FM_EPLUGIN;
    }
    if (d->flow_size != sizeof(fm_plugin_flow_t)) {
        what = "flow_size differs from this flowmixd's fm_plugin_flow_t";
    } else if (!d->name || !*d->name) {
        what = "descriptor has no name";
    } else if (!d->init || !d->consume || !d->fini) {
        what = "descriptor lacks a mandatory callback (init, consume, fini)";
    }
    if (what) {
        snprintf(err, errlen, "plugin %s: %s: %s", in->name, in->file, what);
        return FM_EPLUGIN;
    }
    /* An ABI 1 descriptor ends at fini: d->hist lies beyond the plugin's object, and reading it
     * would be undefined behaviour (garbage, or a fault at the end of a mapping).  Only fields
     * of the plugin's own ABI version are ever read. */
    in->hist = d->abi_version >= 2 ? d->hist : NULL;
    in->validate = d->abi_version >= 4 ? d->validate : NULL;
    return 0;
}

/* The plugin's own check of its keys (ABI 4 validate), when it has one.  where: what the
 * message starts with ("plugin NAME: FILE" or "CONF:LINE: [plugin.NAME] FILE").
 * @return 0 or code with "WHERE: the plugin's message" in err. */
static int validate_keys(const instance_t *in, const char *where, const char **keys,
                         const char **values, size_t nk, int code, char *err, size_t errlen)
{
    char perr[512] = "";
    if (!in->validate || in->validate(keys, values, nk, perr, sizeof(perr)) >= 0) {
        return 0;
    }
    perr[sizeof(perr) - 1] = '\0';
    snprintf(err, errlen, "%s: %s", where, perr[0] ? perr : "invalid keys (no message)");
    return code;
}

/* sshd's StrictModes, as warnings: a plugin runs as flowmixd, so whoever can replace the file
 * or its directory can run code as flowmixd. */
static void check_modes(const instance_t *in, const char *path, const struct stat *sb,
                        const char *what)
{
    uid_t me = geteuid();
    if (sb->st_uid != 0 && sb->st_uid != me) {
        fm_log_warn("plugin %s: %s %s is owned by uid %ld, not root or flowmixd's uid %ld: "
                    "that user can run code as flowmixd", in->name, what, path,
                    (long)sb->st_uid, (long)me);
    }
    if (sb->st_mode & (S_IWGRP | S_IWOTH)) {
        bool sticky_dir = S_ISDIR(sb->st_mode) && (sb->st_mode & S_ISVTX);
        fm_log_warn("plugin %s: %s %s is writable by %s (mode %04o)%s", in->name, what, path,
                    sb->st_mode & S_IWOTH ? "everyone" : "its group",
                    (unsigned)(sb->st_mode & 07777),
                    sticky_dir ? "" : ": anyone who can write it can run code as flowmixd");
    }
}

static void check_ownership(const instance_t *in, const struct stat *sb)
{
    check_modes(in, in->file, sb, "file");
    char *dir = fm_xstrdup(in->file);
    char *slash = strrchr(dir, '/');
    struct stat db;
    if (slash) {
        *(slash == dir ? slash + 1 : slash) = '\0';
        if (stat(dir, &db) == 0) {
            check_modes(in, dir, &db, "directory");
        }
    }
    free(dir);
}

/* How the instance wants deltas (ABI 3), asked once after init. */
static int ask_hist_params(instance_t *in, char *err, size_t errlen)
{
    const fm_plugin_t *d = in->desc;
    fm_plugin_hist_params_t *p = &in->hist_params;
    memset(p, 0, sizeof(*p));
    if (!in->hist || d->abi_version < 3 || !d->hist_params) {
        return 0;
    }
    if (d->hist_params(in->state, p) < 0 ||
        (p->max_bytes && p->max_bytes < 1024) || p->encoding > FM_PLUGIN_HIST_JSON) {
        snprintf(err, errlen, "plugin %s: %s: hist_params failed or out of range (max_bytes "
                 "%" PRIu64 ", encoding %" PRIu32 ")", in->name, in->file, p->max_bytes,
                 p->encoding);
        return FM_EPLUGIN;
    }
    return 0;
}

static int open_plugin(instance_t *in, char *err, size_t errlen)
{
    struct stat sb;
    const char *e;

    if (stat(in->file, &sb) < 0) {
        snprintf(err, errlen, "plugin %s: %s: %s", in->name, in->file, strerror(errno));
        return FM_EPLUGIN;
    }
    check_ownership(in, &sb);
    in->dl = dlopen(in->file, RTLD_NOW | RTLD_LOCAL);
    if (!in->dl) {
        e = dlerror();
        snprintf(err, errlen, "plugin %s: %s", in->name, e ? e : in->file);
        return FM_EPLUGIN;
    }
    dlerror();
    in->desc = dlsym(in->dl, FM_PLUGIN_DESCRIPTOR_SYMBOL);
    e = dlerror();
    if (e || !in->desc) {
        snprintf(err, errlen, "plugin %s: %s: no symbol " FM_PLUGIN_DESCRIPTOR_SYMBOL
                 " (not a flowmix plugin?)", in->name, in->file);
        return FM_EPLUGIN;
    }
    return check_descriptor(in, in->desc, err, errlen);
}

static int load_one(instance_t *in, const fm_config_plugin_t *c, const char *plugin_dir,
                    char *err, size_t errlen)
{
    const char **keys = fm_xcalloc(c->nkeys + 1, sizeof(char *));
    const char **values = fm_xcalloc(c->nkeys + 1, sizeof(char *));
    char perr[512] = "";
    size_t nk;
    int rc;

    in->name = fm_xstrdup(c->name);
    in->file = resolve_path(c, plugin_dir);
    char where[1024];
    if ((rc = loader_keys(in, c, keys, values, &nk, err, errlen)) < 0 ||
        (rc = open_plugin(in, err, errlen)) < 0) {
        goto out;
    }
    snprintf(where, sizeof(where), "plugin %s: %s", in->name, in->file);
    /* FM_EPLUGIN as for a failed init: the plugin refused its keys. */
    if ((rc = validate_keys(in, where, keys, values, nk, FM_EPLUGIN, err, errlen)) < 0) {
        goto out;
    }
    rc = in->desc->init(keys, values, nk, &in->state, perr, sizeof(perr));
    if (rc < 0) {
        perr[sizeof(perr) - 1] = '\0';
        snprintf(err, errlen, "plugin %s: %s: init failed: %s", in->name, in->file,
                 perr[0] ? perr : "(no message)");
        rc = FM_EPLUGIN;
        goto out;
    }
    in->inited = true;
    if ((rc = ask_hist_params(in, err, errlen)) < 0) {
        goto out;
    }
    in->ring = fm_xcalloc(in->qlimit, sizeof(batch_t *));
    fm_log_info("plugin %s: %s (%s %s), queue %zu, overflow %s", in->name, in->file,
                in->desc->name, in->desc->version ? in->desc->version : "", in->qlimit,
                in->block ? "block" : "drop");
out:
    free(keys);
    free(values);
    return rc;
}

static int start_worker(instance_t *in, char *err, size_t errlen)
{
    pthread_condattr_t ca;
    int rc;
    pthread_mutex_init(&in->mu, NULL);
    pthread_cond_init(&in->cv_work, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wait_idle's deadline */
    pthread_cond_init(&in->cv_done, &ca);
    pthread_condattr_destroy(&ca);
    rc = pthread_create(&in->thread, NULL, worker_main, in);
    if (rc) {
        snprintf(err, errlen, "plugin %s: cannot start its thread: %s", in->name, strerror(rc));
        return FM_EPLUGIN;
    }
    in->started = true;
    return 0;
}

static void stop_one(instance_t *in)
{
    if (in->started) {
        struct timespec dl = deadline_in(in->stop_ms);
        bool done = true;
        pthread_mutex_lock(&in->mu);
        in->stopping = true;
        pthread_cond_signal(&in->cv_work);
        pthread_cond_broadcast(&in->cv_done); /* releases blocked producers */
        while (!in->exited && done) {
            done = pthread_cond_timedwait(&in->cv_done, &in->mu, &dl) != ETIMEDOUT;
        }
        done = in->exited;
        pthread_mutex_unlock(&in->mu);
        if (!done) {
            /* Stuck in a callback (a flush that never returns...): shutdown must end.  The
             * thread keeps running in code we cannot unload, so the instance, its queue and
             * the shared object are left as they are; the process is about to exit. */
            fm_log_err("plugin %s: still in a callback %" PRIu64 " ms after shutdown began "
                       "(stop_timeout): abandoned without fini; what it buffered may be lost",
                       in->name, in->stop_ms);
            pthread_detach(in->thread);
            in->abandoned = true;
            return;
        }
        pthread_join(in->thread, NULL);
    }
    if (in->inited) {
        refresh_counters(in);
        in->desc->fini(in->state);
    }
    if (in->started) {
        pthread_mutex_destroy(&in->mu);
        pthread_cond_destroy(&in->cv_work);
        pthread_cond_destroy(&in->cv_done);
    }
    if (in->dl) {
        dlclose(in->dl);
    }
    free(in->ring);
    free(in->name);
    free(in->file);
}

int fm_plugins_new(const fm_config_plugin_t *cfgs, size_t n, const char *plugin_dir,
                   fm_plugins_t **out, char *err, size_t errlen)
{
    fm_plugins_t *p = fm_xcalloc(1, sizeof(*p));
    int rc = 0;

    if (errlen) {
        err[0] = '\0';
    }
    p->inst = fm_xcalloc(n ? n : 1, sizeof(instance_t));
    for (size_t i = 0; i < n; i++) {
        instance_t *in = &p->inst[i];
        p->n = i + 1; /* so a failure below cleans up this one too */
        if ((rc = load_one(in, &cfgs[i], plugin_dir, err, errlen)) < 0 ||
            (rc = start_worker(in, err, errlen)) < 0) {
            break;
        }
    }
    if (rc < 0) {
        fm_plugins_free(p);
        *out = NULL;
        return rc;
    }
    *out = p;
    return 0;
}

void fm_plugins_free(fm_plugins_t *p)
{
    if (!p) {
        return;
    }
    bool abandoned = false;
    for (size_t i = 0; i < p->n; i++) {
        stop_one(&p->inst[i]);
        abandoned |= p->inst[i].abandoned;
    }
    if (abandoned) { /* an abandoned worker still points into p->inst */
        pthread_mutex_lock(&graveyard_mu);
        p->next = graveyard;
        graveyard = p;
        pthread_mutex_unlock(&graveyard_mu);
        return;
    }
    free(p->inst);
    free(p);
}

int fm_plugins_check(const fm_config_plugin_t *cfgs, size_t n, const char *plugin_dir,
                     const char *conf_file, char *err, size_t errlen)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const fm_config_plugin_t *c = &cfgs[i];
        instance_t in = {0};
        const char **keys = fm_xcalloc(c->nkeys + 1, sizeof(char *));
        const char **values = fm_xcalloc(c->nkeys + 1, sizeof(char *));
        size_t nk;

        in.name = fm_xstrdup(c->name);
        in.file = resolve_path(c, plugin_dir);
        if ((rc = loader_keys(&in, c, keys, values, &nk, err, errlen)) == 0 &&
            (rc = open_plugin(&in, err, errlen)) == 0) {
            char where[1024];
            snprintf(where, sizeof(where), "%s:%u: [plugin.%s] %s", conf_file ? conf_file
                     : "(config)", c->line, c->name, in.file);
            rc = validate_keys(&in, where, keys, values, nk, FM_ECONFIG, err, errlen);
        }
        stop_one(&in); /* never initialised: only unloads */
        free(keys);
        free(values);
    }
    return rc;
}
