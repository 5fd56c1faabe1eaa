/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's histograms (histagg.h): producers' pending deltas merged per bin into the served
 * total and current window (an fm_histwin_t that no flow is added to directly), the publish
 * deltas and the store's deltas.
 */
#include "config.h"
#include "histagg.h"

#include <inttypes.h>
#include <stdlib.h>

#include "log.h"
#include "util/err.h"
#include "util/mem.h"

#define MAX_PRODUCERS 64

typedef struct {
    fm_histagg_take_fn take;
    void *ctx;
} producer_t;

struct fm_histagg {
    fm_histwin_t *served;      /* total + current window: committed + synced */
    fm_windelta_t *local;      /* the loop thread's producer */
    fm_windelta_t *store;      /* the committer's deltas */
    fm_windelta_t *pub;        /* publish deltas, NULL unless enabled */
    unsigned bin_exp;
    uint64_t window_ms;
    producer_t producers[MAX_PRODUCERS];
    size_t nproducers;
};

/* fm_histwin's close callback: the closed window's served set is done with (its bins are in the
 * store's delta, the total and, when published, the publish delta).  A window that had flows
 * is marked closed in the store even when all of them were committed already (an empty delta
 * that only closes it); one that had none stays out of the store. */
static void on_closed(void *ctx, uint64_t start_ms, uint64_t end_ms, fm_histset_t *closed)
{
    fm_histagg_t *a = ctx;
    if (!fm_histset_empty(closed)) {
        fm_windelta_get(a->store, start_ms);
    }
    fm_windelta_close(a->store, start_ms, end_ms);
    fm_log_info("hist, window %" PRIu64 "-%" PRIu64 " closed", start_ms, end_ms);
    fm_histset_free(closed);
}

static fm_windelta_win_t *take_local(void *ctx)
{
    return fm_windelta_take(ctx);
}

int fm_histagg_new(unsigned bin_exp, uint64_t window_ms, fm_histagg_t **out)
{
    fm_histagg_t *a;
    int rc;

    if (!out || !window_ms || bin_exp > 63) {
        return FM_EINVAL;
    }
    a = fm_xcalloc(1, sizeof(*a));
    a->bin_exp = bin_exp;
    a->window_ms = window_ms;
    if ((rc = fm_histwin_new(bin_exp, window_ms, on_closed, a, &a->served)) < 0 ||
        (rc = fm_windelta_new(bin_exp, window_ms, &a->local)) < 0 ||
        (rc = fm_windelta_new(bin_exp, window_ms, &a->store)) < 0) {
        fm_histagg_free(a);
        return rc;
    }
    fm_histagg_add_producer(a, take_local, a->local);
    *out = a;
    return 0;
}

void fm_histagg_free(fm_histagg_t *a)
{
    if (!a) {
        return;
    }
    fm_histwin_free(a->served);
    fm_windelta_free(a->local);
    fm_windelta_free(a->store);
    fm_windelta_free(a->pub);
    free(a);
}

fm_windelta_t *fm_histagg_local(fm_histagg_t *a)
{
    return a->local;
}

void fm_histagg_add_producer(fm_histagg_t *a, fm_histagg_take_fn take, void *ctx)
{
    if (a->nproducers == MAX_PRODUCERS) {
        abort(); /* a wiring bug, not a run-time condition */
    }
    a->producers[a->nproducers++] = (producer_t){take, ctx};
}

/* One window's delta: into the served sets, the publish delta, then moved into the store's. */
static void absorb_one(fm_histagg_t *a, fm_windelta_win_t *w)
{
    uint64_t cur_start;
    fm_histset_t *cur = fm_histwin_current(a->served, &cur_start);

    fm_histset_merge(fm_histwin_total(a->served), w->delta); /* same bin_exp: cannot fail */
    if (w->start_ms == cur_start) {
        fm_histset_merge(cur, w->delta);
    }
    if (a->pub) {
        fm_histset_merge(fm_windelta_get(a->pub, w->start_ms), w->delta);
    }
    /* A window that closed before its delta arrived (a producer that handed over late) is
     * still written as closed; it ended where a later window began at the latest. */
    bool late = w->start_ms < cur_start;
    uint64_t end = late && w->end_ms > cur_start ? cur_start : w->end_ms;
    w->next = NULL;
    w->closed = w->closed || late;
    w->end_ms = end;
    fm_windelta_give_back(a->store, w);
}

void fm_histagg_absorb(fm_histagg_t *a, fm_windelta_win_t *list)
{
    while (list) {
        fm_windelta_win_t *w = list;
        list = w->next;
        absorb_one(a, w);
    }
}

void fm_histagg_sync(fm_histagg_t *a)
{
    for (size_t i = 0; i < a->nproducers; i++) {
        fm_histagg_absorb(a, a->producers[i].take(a->producers[i].ctx));
    }
}

uint64_t fm_histagg_tick(fm_histagg_t *a, uint64_t now_ms)
{
    uint64_t start;
    if (fm_histwin_due(a->served, now_ms)) {
        fm_histagg_sync(a); /* the window that closes gets every flow that finished in it */
        fm_histwin_tick(a->served, now_ms);
    }
    fm_histwin_current(a->served, &start);
    return start;
}

void fm_histagg_set_window(fm_histagg_t *a, uint64_t window_ms)
{
    fm_histwin_set_window(a->served, window_ms);
    fm_windelta_set_window(a->local, window_ms);
    fm_windelta_set_window(a->store, window_ms);
    if (a->pub) {
        fm_windelta_set_window(a->pub, window_ms);
    }
    if (window_ms) {
        a->window_ms = window_ms;
    }
}

fm_histset_t *fm_histagg_total(fm_histagg_t *a)
{
    fm_histagg_sync(a);
    return fm_histwin_total(a->served);
}

fm_histset_t *fm_histagg_current(fm_histagg_t *a, uint64_t *start_ms)
{
    fm_histagg_sync(a);
    return fm_histwin_current(a->served, start_ms);
}

fm_windelta_t *fm_histagg_store(fm_histagg_t *a)
{
    return a->store;
}

void fm_histagg_enable_publish(fm_histagg_t *a)
{
    if (!a->pub && fm_windelta_new(a->bin_exp, a->window_ms, &a->pub) < 0) {
        abort(); /* checked at fm_histagg_new: only out of memory gets here (policy) */
    }
}

fm_windelta_t *fm_histagg_pub(fm_histagg_t *a)
{
    return a->pub;
}
