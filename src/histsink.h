/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The histogram stage of the daemon's data path: finished flows (or a delta of them, built by a
 * cache shard on its own thread) go into ONE structure, the pending delta of the current window
 * (fm_histagg_local); the served total and window, the committer's and the publish deltas are
 * merged from it per bin (histagg.h).  It owns nothing: the daemon fills in the field.  Loop
 * thread only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "hist.h"
#include "histagg.h"
#include "sink.h"

/** Fields are set by the owner (borrowed). */
typedef struct fm_histsink {
    fm_histagg_t *hist;           /* the daemon's histograms */
} fm_histsink_t;

/** The stage as a sink (ctx = @p hs): adds each finished flow at the current wall time. */
fm_sink_t fm_histsink_sink(fm_histsink_t *hs);

/**
 * Add a delta of finished flows (same bin_exp) as if its flows finished now: its bins add to
 * the pending delta of the current window (and from there, at the next sync, to the total, the
 * window, the committer's and the publish deltas).
 * @return 0 or the first error of fm_histset_merge (FM_EINVAL: other bin_exp).
 */
int fm_histsink_merge(fm_histsink_t *hs, const fm_histset_t *delta);
