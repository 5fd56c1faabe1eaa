/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Capture input thread (see input.h).  The thread meters in slices of at most SLICE frames (a
 * live capture also ends a slice at each 1 s buffer timeout) and after each slice publishes the
 * flows finished so far and the counters under the mutex, then wakes the loop.  The pending
 * vector is bounded: beyond MAX_PENDING flows the newest are counted as dropped rather than
 * letting a stalled loop grow memory without limit.
 */
#include "config.h"

#include "meter/input.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "meter/capture.h"
#include "meter/output.h"
#include "util/err.h"

#define SLICE 4096
#define MAX_PENDING (1u << 20)

struct fm_capture_input {
    char name[64];
    char *file;             /* fm_capture borrows the path ... */
    char *interface;        /* ... and the interface name */
    uint32_t exporter;
    fm_capture_t *cap;
    fm_meter_t *meter;
    fm_flow_batch_fn fn;
    void *ctx;
    pthread_t thread;
    bool thread_started;
    volatile sig_atomic_t stop;
    uv_async_t async;

    /* thread side */
    fm_flow_t *local;
    size_t nlocal, caplocal;
    uint64_t dropped_local;

    /* shared, under mu */
    pthread_mutex_t mu;
    fm_flow_t *pending;
    size_t npending, cappending;
    fm_capture_input_stats_t st;
};

const char *fm_capture_input_name(const fm_capture_input_t *in)
{
    return in->name;
}

static void on_flow(void *ctx, const fm_meter_flow_t *mf)
{
    fm_capture_input_t *in = ctx;

    if (in->nlocal == in->caplocal) {
        size_t cap = in->caplocal ? in->caplocal * 2 : 1024;
        fm_flow_t *p = cap <= MAX_PENDING ? realloc(in->local, cap * sizeof *p) : NULL;
        if (!p) {
            in->dropped_local++;
            return;
        }
        in->local = p;
        in->caplocal = cap;
    }
    fm_flow_t *f = &in->local[in->nlocal++];
    fm_meter_to_flow(mf, f);
    f->exporter = in->exporter;
}

/* Move the thread's flows and counters to the shared side and wake the loop. */
static void publish(fm_capture_input_t *in, bool running, const char *error)
{
    const fm_meter_counters_t *k = fm_meter_counters(in->meter);
    fm_capture_stats_t cs;
    size_t moved = 0;

    fm_capture_stats(in->cap, &cs);
    pthread_mutex_lock(&in->mu);
    if (in->nlocal) {
        size_t room = MAX_PENDING - in->npending;
        size_t n = in->nlocal < room ? in->nlocal : room;
        if (in->npending + n > in->cappending) {
            size_t cap = in->cappending ? in->cappending : 1024;
            while (cap < in->npending + n) {
                cap *= 2;
            }
            fm_flow_t *p = realloc(in->pending, cap * sizeof *p);
            if (p) {
                in->pending = p;
                in->cappending = cap;
            } else {
                n = in->cappending - in->npending;
            }
        }
        memcpy(in->pending + in->npending, in->local, n * sizeof *in->local);
        in->npending += n;
        in->dropped_local += in->nlocal - n;
        in->nlocal = 0;
        moved = n;
    }
    in->st.packets = k->packets;
    in->st.parsed = k->parsed;
    in->st.ignored = k->ignored;
    memcpy(in->st.ignored_by, k->ignored_by, sizeof in->st.ignored_by);
    in->st.flows = k->flows;
    in->st.kernel_drops = cs.kernel_drops;
    in->st.read_errors = cs.read_errors;
    in->st.flows_dropped = in->dropped_local;
    in->st.running = running;
    if (error) {
        snprintf(in->st.error, sizeof in->st.error, "%s", error);
    }
    pthread_mutex_unlock(&in->mu);
    if (moved || !running) {
        (void)uv_async_send(&in->async); /* libuv on Unix: always 0 */
    }
}

static void *run(void *arg)
{
    fm_capture_input_t *in = arg;
    char err[512] = "";
    sigset_t all;

    /* signals belong to the loop thread */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    for (;;) {
        int rc = fm_capture_run(in->cap, in->meter, &in->stop, SLICE, err, sizeof err);
        if (rc != 0 || __atomic_load_n(&in->stop, __ATOMIC_RELAXED)) {
            fm_meter_flush(in->meter);
            if (rc < 0) {
                fm_log_err("capture, [input.%s]: %s; its open flows were finished", in->name,
                           err);
            } else if (rc == 1) {
                fm_log_notice("capture, [input.%s]: end of input", in->name);
            }
            publish(in, false, rc < 0 ? err : NULL);
            return NULL;
        }
        publish(in, true, NULL);
    }
}

static void drain(fm_capture_input_t *in)
{
    pthread_mutex_lock(&in->mu);
    fm_flow_t *flows = in->pending;
    size_t n = in->npending;
    in->pending = NULL;
    in->npending = in->cappending = 0;
    pthread_mutex_unlock(&in->mu);
    if (n) {
        in->fn(in->ctx, flows, n);
    }
    free(flows);
}

static void on_async(uv_async_t *a)
{
    drain(a->data);
}

int fm_capture_input_start(uv_loop_t *loop, const fm_capture_input_conf_t *conf,
                           fm_flow_batch_fn fn, void *ctx, fm_capture_input_t **out,
                           char *err, size_t errlen)
{
    fm_capture_opts_t co;
    int rc;

    if (!conf || !fn || (!conf->interface == !conf->file)) {
        snprintf(err, errlen, "[input.%s] needs exactly one of interface and file",
                 conf && conf->name ? conf->name : "capture");
        return FM_EINVAL;
    }
    fm_capture_input_t *in = calloc(1, sizeof *in);
    if (!in) {
        return FM_ENOMEM;
    }
    snprintf(in->name, sizeof in->name, "%s", conf->name ? conf->name : "capture");
    in->exporter = conf->exporter;
    in->fn = fn;
    in->ctx = ctx;
    fm_capture_opts_default(&co);
    co.bpf = conf->bpf;
    if (conf->interface) {
        in->interface = strdup(conf->interface);
        rc = in->interface ? fm_capture_new_live(in->interface, &co, &in->cap, err, errlen)
                           : FM_ENOMEM;
    } else {
        in->file = strdup(conf->file);
        rc = in->file ? fm_capture_new_files((const char *const *)&in->file, 1, &co, &in->cap)
                      : FM_ENOMEM;
        if (rc < 0) {
            snprintf(err, errlen, "[input.%s]: %s", in->name, fm_strerror(rc));
        }
    }
    if (rc < 0) {
        free(in->file);
    free(in->interface);
        free(in);
        return rc;
    }
    if ((rc = fm_meter_new(&conf->meter, on_flow, in, &in->meter)) < 0) {
        snprintf(err, errlen, "[input.%s]: %s", in->name, fm_strerror(rc));
        fm_capture_free(in->cap);
        free(in->file);
    free(in->interface);
        free(in);
        return rc;
    }
    pthread_mutex_init(&in->mu, NULL);
    in->st.running = true;
    if ((rc = uv_async_init(loop, &in->async, on_async)) < 0) { /* an eventfd: may hit EMFILE */
        snprintf(err, errlen, "[input.%s]: %s", in->name, uv_strerror(rc));
        pthread_mutex_destroy(&in->mu);
        fm_meter_free(in->meter);
        fm_capture_free(in->cap);
        free(in->file);
        free(in->interface);
        free(in);
        return rc;
    }
    in->async.data = in;
    if (pthread_create(&in->thread, NULL, run, in) != 0) {
        snprintf(err, errlen, "[input.%s]: cannot start its thread", in->name);
        fm_capture_input_stop(in);
        return FM_ENOMEM;
    }
    in->thread_started = true;
    *out = in;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    fm_capture_input_t *in = h->data;

    fm_meter_free(in->meter);
    fm_capture_free(in->cap);
    pthread_mutex_destroy(&in->mu);
    free(in->local);
    free(in->pending);
    free(in->file);
    free(in->interface);
    free(in);
}

void fm_capture_input_stop(fm_capture_input_t *in)
{
    if (!in) {
        return;
    }
    if (in->thread_started) {
        /* seen within the 250 ms poll of a live capture, at the next record of a file */
        __atomic_store_n(&in->stop, 1, __ATOMIC_RELAXED);
        pthread_join(in->thread, NULL);
        in->thread_started = false;
    }
    drain(in);
    uv_close((uv_handle_t *)&in->async, on_closed);
}

void fm_capture_input_stats(fm_capture_input_t *in, fm_capture_input_stats_t *out)
{
    pthread_mutex_lock(&in->mu);
    *out = in->st;
    pthread_mutex_unlock(&in->mu);
}
