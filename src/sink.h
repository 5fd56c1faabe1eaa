/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sinks: where a batch of flows goes next.  The daemon's data path is a chain of them built once
 * at start (ingest → decoder → cache → {histograms, plugins}); each stage holds the sink of the
 * next one as a value and knows nothing of who built the chain, so no stage calls back into the
 * daemon.  A fan-out hands one batch to several sinks in order and counts what went through.
 *
 * A sink runs on the thread of whoever puts into it; the array it is given is borrowed for the
 * call only.  Nothing here allocates.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

/** One stage of a chain: fn(ctx, flows, n). */
typedef struct fm_sink {
    fm_flow_batch_fn fn;
    void *ctx;
} fm_sink_t;

/** Put a batch into @p s (nothing when n is 0). */
static inline void fm_sink_put(fm_sink_t s, const fm_flow_t *flows, size_t n)
{
    if (n) {
        s.fn(s.ctx, flows, n);
    }
}

#define FM_SINK_FANOUT_MAX 4

/** A fan-out (caller-owned storage, zero-initialise it).  Fields: out/n private; flows
 *  read-only for its owner's thread: flows put through it so far. */
typedef struct fm_sink_fanout {
    fm_sink_t out[FM_SINK_FANOUT_MAX];
    size_t n;
    uint64_t flows;
} fm_sink_fanout_t;

/** Append @p s to the fan-out's outputs (at most FM_SINK_FANOUT_MAX; more is a bug: asserted). */
void fm_sink_fanout_add(fm_sink_fanout_t *f, fm_sink_t s);
/** The fan-out as a sink: counts the batch, then hands it to each output in the order added. */
fm_sink_t fm_sink_fanout(fm_sink_fanout_t *f);
