/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram stage of the data path (histsink.h): lanes of partial deltas, merged into the
 * current window's pending delta at every sync.
 */
#include "config.h"

#include "histsink.h"

#include <stdlib.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/time.h"

/* A partial delta (fm_histset_add_flows_partial) as if its flows finished now: into the pending
 * delta of the current window, the "all" class added from the others. */
static int merge_partial(fm_histsink_t *hs, const fm_histset_t *delta)
{
    uint64_t start = fm_histagg_tick(hs->hist, fm_time_wall_ms());
    return fm_histset_merge_partial(fm_windelta_get(fm_histagg_local(hs->hist), start), delta);
}

/* ---- lanes of cache shards ---------------------------------------------------------------- */

typedef struct lane {
    fm_histset_t *delta;       /* the shard's thread adds to it */
    uint64_t flows;
    fm_histset_t *taken;       /* the loop's between a sync and the next */
    uint64_t taken_flows;
    fm_sink_fanout_t out;      /* the delta, then `also` */
} lane_t;

struct fm_histsink_lanes {
    fm_histsink_t *hs;
    unsigned n;
    lane_t *lane;
};

/* On the shard's thread: the flows' own classes only; the "all" class, their sum, is added once
 * per bin where the loop merges the delta (fm_histsink_lanes_merge), not once per flow here. */
static void lane_add(void *ctx, const fm_flow_t *flows, size_t n)
{
    lane_t *ln = ctx;
    fm_histset_add_flows_partial(ln->delta, flows, n);
    ln->flows += n;
}

int fm_histsink_lanes_new(fm_histsink_t *hs, unsigned n, fm_sink_t also,
                          fm_histsink_lanes_t **out)
{
    fm_histsink_lanes_t *l = fm_xcalloc(1, sizeof(*l));
    unsigned bin_exp = fm_hist_bin_exp(
        fm_histset_get(fm_histagg_total(hs->hist), FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_LENGTH));
    int rc = 0;

    l->hs = hs;
    l->n = n;
    l->lane = fm_xcalloc(n, sizeof(*l->lane));
    for (unsigned i = 0; i < n && rc == 0; i++) {
        lane_t *ln = &l->lane[i];
        if ((rc = fm_histset_new(bin_exp, &ln->delta)) < 0 ||
            (rc = fm_histset_new(bin_exp, &ln->taken)) < 0) {
            break;
        }
        fm_sink_fanout_add(&ln->out, (fm_sink_t){lane_add, ln});
        if (also.fn) {
            fm_sink_fanout_add(&ln->out, also);
        }
    }
    if (rc < 0) {
        fm_histsink_lanes_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void fm_histsink_lanes_free(fm_histsink_lanes_t *l)
{
    if (!l) {
        return;
    }
    for (unsigned i = 0; l->lane && i < l->n; i++) {
        fm_histset_free(l->lane[i].delta);
        fm_histset_free(l->lane[i].taken);
    }
    free(l->lane);
    free(l);
}

static fm_sink_t lanes_finished(void *ctx, unsigned i)
{
    fm_histsink_lanes_t *l = ctx;
    return fm_sink_fanout(&l->lane[i].out);
}

/* On shard i's thread while the loop waits: the delta becomes the loop's, the cleared one the
 * shard's. */
static void lanes_sync(void *ctx, unsigned i)
{
    fm_histsink_lanes_t *l = ctx;
    lane_t *ln = &l->lane[i];
    fm_histset_t *t = ln->taken;
    ln->taken = ln->delta;
    ln->taken_flows = ln->flows;
    ln->delta = t;
    ln->flows = 0;
}

fm_shards_ops_t fm_histsink_lanes_ops(fm_histsink_lanes_t *l)
{
    return (fm_shards_ops_t){.finished = lanes_finished, .sync = lanes_sync, .ctx = l};
}

int fm_histsink_lanes_merge(fm_histsink_lanes_t *l)
{
    int rc = 0;
    for (unsigned i = 0; i < l->n; i++) {
        lane_t *ln = &l->lane[i];
        if (!ln->taken_flows) {
            continue;
        }
        int r = merge_partial(l->hs, ln->taken);
        rc = rc < 0 ? rc : r;
        fm_histset_clear(ln->taken);
        ln->taken_flows = 0;
    }
    return rc;
}
