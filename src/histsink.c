/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram stage of the data path (histsink.h).  Flows go to the current window of the wall
 * clock at the time they finish, as the cache hands them over: one histogram update per flow.
 */
#include "config.h"

#include "histsink.h"

#include "util/time.h"

static void add_flows(void *ctx, const fm_flow_t *flows, size_t n)
{
    fm_histsink_t *hs = ctx;
    uint64_t start = fm_histagg_tick(hs->hist, fm_time_wall_ms());

    fm_windelta_add(fm_histagg_local(hs->hist), flows, n, start);
}

fm_sink_t fm_histsink_sink(fm_histsink_t *hs)
{
    return (fm_sink_t){add_flows, hs};
}

int fm_histsink_merge(fm_histsink_t *hs, const fm_histset_t *delta)
{
    uint64_t start = fm_histagg_tick(hs->hist, fm_time_wall_ms());
    return fm_histset_merge(fm_windelta_get(fm_histagg_local(hs->hist), start), delta);
}
