/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram stage of the data path (histsink.h).  Flows go to the current window of the wall
 * clock at the time they finish, as the cache hands them over.
 */
#include "config.h"

#include "histsink.h"

#include "util/time.h"

static void add_flows(void *ctx, const fm_flow_t *flows, size_t n)
{
    fm_histsink_t *hs = ctx;
    uint64_t start;

    fm_histwin_add_flows(hs->hw, flows, n, fm_time_wall_ms());
    fm_histwin_current(hs->hw, &start);
    fm_windelta_add(hs->pending, flows, n, start);
    if (hs->pub && fm_plugins_want_hist(hs->plugins)) {
        fm_windelta_add(hs->pub, flows, n, start);
    }
}

fm_sink_t fm_histsink_sink(fm_histsink_t *hs)
{
    return (fm_sink_t){add_flows, hs};
}

int fm_histsink_merge(fm_histsink_t *hs, const fm_histset_t *delta)
{
    uint64_t start;
    int rc;

    fm_histwin_tick(hs->hw, fm_time_wall_ms());
    fm_histset_t *cur = fm_histwin_current(hs->hw, &start);
    if ((rc = fm_histset_merge(fm_histwin_total(hs->hw), delta)) < 0 ||
        (rc = fm_histset_merge(cur, delta)) < 0 ||
        (rc = fm_histset_merge(fm_windelta_get(hs->pending, start), delta)) < 0) {
        return rc;
    }
    if (hs->pub && fm_plugins_want_hist(hs->plugins)) {
        rc = fm_histset_merge(fm_windelta_get(hs->pub, start), delta);
    }
    return rc;
}
