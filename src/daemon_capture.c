/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmixd's [input.capture] sections: one capture input (src/meter/input.h) per section, each
 * metering packets on its own thread; their finished flows enter the same cache as exported
 * records, under an exporter id of their own (FM__CAPTURE_EXPORTER + index) whose cache timeouts
 * are the section's, so flows the meter split by its active timeout are re-joined like an
 * exporter's.  Per-input counters for `flowmixctl status`.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"
#include "meter/input.h"
#include "util/err.h"

/* Exporter ids of capture inputs: far above the ingest's (which count up from 0). */
#define FM__CAPTURE_EXPORTER 0xFFFF0000u

static void on_capture_flows(void *ctx, const fm_flow_t *flows, size_t n)
{
    fm_daemon_t *d = ctx;

    if (!d->path.shards) {
        return;
    }
    fm_sink_put(fm_sink_fanout(&d->path.in), flows, n);
}

int fm__daemon_capture_start(fm_daemon_t *d, char *err, size_t errlen)
{
    const fm_config_t *c = d->cfg;

    if (!c->ncaptures) {
        return 0;
    }
    d->cap.inputs = calloc(c->ncaptures, sizeof *d->cap.inputs);
    if (!d->cap.inputs) {
        return FM_ENOMEM;
    }
    for (size_t i = 0; i < c->ncaptures; i++) {
        const fm_config_capture_t *s = &c->captures[i];
        fm_capture_input_conf_t ic = {.name = s->name, .interface = s->interface,
                                      .file = s->file, .bpf = s->bpf,
                                      .exporter = FM__CAPTURE_EXPORTER + (uint32_t)i};
        fm_meter_opts_default(&ic.meter);
        ic.meter.idle_ms = s->idle_ms;
        ic.meter.active_ms = s->active_ms;
        ic.meter.accounting_mode = (int)s->accounting_mode;
        ic.meter.dissections = (uint8_t)s->dissections;
        fm_shards_set_timeouts(d->path.shards, ic.exporter, s->active_ms, s->idle_ms);
        int rc = fm_capture_input_start(&d->loop, &ic, on_capture_flows, d, &d->cap.inputs[i],
                                        err, errlen);
        if (rc < 0) {
            return rc;
        }
        d->cap.n = i + 1;
        fm_log_notice("capture, [input.%s] metering %s %s", s->name,
                      s->interface ? "interface" : "file", s->interface ? s->interface : s->file);
    }
    return 0;
}

void fm__daemon_capture_stop(fm_daemon_t *d)
{
    for (size_t i = 0; i < d->cap.n; i++) {
        fm_capture_input_stop(d->cap.inputs[i]); /* its last flows go into the cache now */
    }
    free(d->cap.inputs);
    d->cap.inputs = NULL;
    d->cap.n = 0;
}

json_t *fm__daemon_capture_json(fm_daemon_t *d)
{
    json_t *a = json_array();

    for (size_t i = 0; i < d->cap.n; i++) {
        fm_capture_input_stats_t st;
        fm_capture_input_stats(d->cap.inputs[i], &st);
        json_t *ign = json_object();
        for (int k = 0; k < 5; k++) {
            json_object_set_new(ign, fm_meter_ignore_names[k],
                                json_integer((json_int_t)st.ignored_by[k]));
        }
        json_array_append_new(
            a, json_pack("{ss sb sI sI sI so sI sI sI sI ss}", "name",
                         fm_capture_input_name(d->cap.inputs[i]), "running", st.running,
                         "packets", (json_int_t)st.packets, "parsed", (json_int_t)st.parsed,
                         "ignored", (json_int_t)st.ignored, "ignored_by", ign, "flows",
                         (json_int_t)st.flows, "kernel_drops", (json_int_t)st.kernel_drops,
                         "read_errors", (json_int_t)st.read_errors, "flows_dropped",
                         (json_int_t)st.flows_dropped, "error", st.error));
    }
    return a;
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool captures_same(const fm_config_t *a, const fm_config_t *b)
{
    if (a->ncaptures != b->ncaptures) {
        return false;
    }
    for (size_t i = 0; i < a->ncaptures; i++) {
        const fm_config_capture_t *x = &a->captures[i], *y = &b->captures[i];
        if (!same_str(x->name, y->name) || !same_str(x->interface, y->interface) ||
            !same_str(x->file, y->file) || !same_str(x->bpf, y->bpf) ||
            x->idle_ms != y->idle_ms || x->active_ms != y->active_ms ||
            x->accounting_mode != y->accounting_mode || x->dissections != y->dissections) {
            return false;
        }
    }
    return true;
}

void fm__daemon_capture_reload(fm_config_t *n, fm_config_t *o)
{
    if (!captures_same(n, o)) {
        fm_log_warn("config, reload: changes to [input.capture] sections take effect only "
                    "after a restart");
    }
    fm_config_capture_t *c = n->captures;
    size_t nc = n->ncaptures;
    n->captures = o->captures;
    n->ncaptures = o->ncaptures;
    o->captures = c;
    o->ncaptures = nc;
}
