/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The histogram stage of the daemon's data path: finished flows (or a delta of them, built by a
 * cache shard on its own thread) go into the running histograms (total and current window,
 * hist.h), the committer's pending delta of the current window and, while a plugin takes
 * histogram deltas, the publish delta of that window (windelta.h).  It owns none of them: the
 * daemon creates them and fills in the fields.  Loop thread only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "hist.h"
#include "plugin.h"
#include "sink.h"
#include "windelta.h"

/** Fields are set by the owner (all borrowed); pub may be NULL (no publishing). */
typedef struct fm_histsink {
    fm_histwin_t *hw;             /* running total and current window */
    fm_windelta_t *pending;       /* the committer's deltas */
    fm_windelta_t *pub;           /* deltas to publish, used while plugins want them */
    const fm_plugins_t *plugins;
} fm_histsink_t;

/** The stage as a sink (ctx = @p hs): adds each finished flow at the current wall time. */
fm_sink_t fm_histsink_sink(fm_histsink_t *hs);

/**
 * Add a delta of finished flows (same bin_exp) as if its flows finished now: bins add to the
 * total, the current window, its pending delta and (when publishing) its publish delta.
 * @return 0 or the first error of fm_histset_merge (FM_EINVAL: other bin_exp).
 */
int fm_histsink_merge(fm_histsink_t *hs, const fm_histset_t *delta);
