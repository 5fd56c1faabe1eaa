/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A packet-capture input for flowmixd ([input.capture]): a thread of its own reads a live
 * interface or a capture file through libpcap and meters it (nfstream semantics, meter.h); the
 * finished flows, as flowmix biflows stamped with the input's exporter id, reach the loop thread
 * in batches through a uv_async handle.  The loop never waits on the capture.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "flow.h"
#include "meter/meter.h"

typedef struct fm_capture_input fm_capture_input_t;

typedef struct {
    const char *name;       /* for logs and status, e.g. "capture" or "capture.lan" */
    const char *interface;  /* live interface, or NULL */
    const char *file;       /* capture file (read once, then the input is finished), or NULL */
    const char *bpf;        /* filter or NULL */
    fm_meter_opts_t meter;  /* timeouts, accounting mode, dissections */
    uint32_t exporter;      /* fm_flow_t.exporter of its flows */
} fm_capture_input_conf_t;

typedef struct {
    uint64_t packets, parsed, ignored, flows;
    uint64_t ignored_by[5];   /* fm_meter_ignore_names order */
    uint64_t kernel_drops;    /* live: pcap_stats */
    uint64_t read_errors;
    uint64_t flows_dropped;   /* the loop fell more than 1 M flows behind */
    bool running;             /* false once a file ended or the capture failed */
    char error[256];          /* why it stopped, "" when running or after a clean end */
} fm_capture_input_stats_t;

/**
 * Open the source (errors here are start-up errors) and start the capture thread.
 * @param[in] fn   called on the loop thread with each batch of finished flows.
 * @return 0, or FM_EIO / FM_EFORMAT / FM_EINVAL / FM_ENOMEM with err filled.
 */
int fm_capture_input_start(uv_loop_t *loop, const fm_capture_input_conf_t *conf,
                           fm_flow_batch_fn fn, void *ctx, fm_capture_input_t **out,
                           char *err, size_t errlen);
/**
 * Stop the thread (a live capture sees the request within 250 ms), meter the end of input (every open
 * flow is finished) and hand the remaining flows to fn before returning; the handle is closed
 * and the input freed on the loop afterwards.  NULL does nothing.
 */
void fm_capture_input_stop(fm_capture_input_t *in);
/** A consistent snapshot of the counters (any thread). */
void fm_capture_input_stats(fm_capture_input_t *in, fm_capture_input_stats_t *out);
const char *fm_capture_input_name(const fm_capture_input_t *in);
