/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The histogram stage of the daemon's data path: finished flows (or a delta of them, built by a
 * cache shard on its own thread) go into ONE structure, the pending delta of the current window
 * (fm_histagg_local); the served total and window, the committer's and the publish deltas are
 * merged from it per bin (histagg.h).  It owns nothing: the daemon fills in the field.  Loop
 * thread only.
 *
 * Each cache shard (shard.h; one with workers = 1, on the loop thread) has a lane: the shard's
 * thread adds its finished flows to the lane's own delta, and the loop thread takes the deltas
 * over in fm_shards_sync() and merges them here (fm_histsink_lanes_merge) into the current
 * window's pending delta: histograms are sums, so the result is the same, but a flow counts in
 * the window current when it is merged (at most a tick after it finished) rather than when it
 * finished.  A lane's delta is partial (fm_histset_add_flows_partial): a flow updates the
 * histograms of its own class only, and the "all" class, their sum, is added per bin at the
 * merge, which halves the bin updates per flow.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "hist.h"
#include "histagg.h"
#include "shard.h"
#include "sink.h"

/** Fields are set by the owner (borrowed). */
typedef struct fm_histsink {
    fm_histagg_t *hist;           /* the daemon's histograms */
} fm_histsink_t;

/** One lane per cache shard (opaque). */
typedef struct fm_histsink_lanes fm_histsink_lanes_t;

/**
 * @param[in] hs    the stage the lanes merge into (borrowed, outlives the lanes).
 * @param[in] n     shards, one lane each.
 * @param[in] also  a sink every shard's finished flows also go to, after the histograms, on
 *                  the shard's thread (the plugins; must be safe from several threads), or
 *                  {NULL, NULL}.
 * @param[out] out  free with fm_histsink_lanes_free() after the shards are freed.
 * @return 0 or FM_ENOMEM.
 */
int fm_histsink_lanes_new(fm_histsink_t *hs, unsigned n, fm_sink_t also,
                          fm_histsink_lanes_t **out);
void fm_histsink_lanes_free(fm_histsink_lanes_t *l);
/** The shard ops (finished sinks and the sync hook) that feed these lanes. */
fm_shards_ops_t fm_histsink_lanes_ops(fm_histsink_lanes_t *l);
/** After fm_shards_sync()/fm_shards_flush(): merge the deltas taken over into the stage.
 *  Each delta's bins add to the pending delta of the current window (and from there, at the
 *  next histagg sync, to the total, the window, the committer's and the publish deltas).
 *  @return 0 or the first error of fm_histset_merge_partial (FM_EINVAL: other bin_exp). */
int fm_histsink_lanes_merge(fm_histsink_lanes_t *l);
