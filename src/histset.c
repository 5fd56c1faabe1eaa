/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's histogram sets: every (class, direction mode, metric) histogram that a finished
 * flow updates, and the running total plus tumbling wall-clock windows built from such sets.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "hist_int.h"
#include "util/err.h"

struct fm_histset {
    unsigned b;
    fm_hist_t *h[FM_CLASS_COUNT][FM_DIR_COUNT][FM_METRIC_COUNT];
};

struct fm_histwin {
    unsigned b;
    uint64_t window_ms;
    uint64_t next_window_ms;   /* a reload's new length, applied at the next boundary */
    uint64_t start_ms;         /* current window [start_ms, end_ms), valid once started */
    uint64_t end_ms;
    bool started;              /* false until the first tick or restore */
    fm_histset_t *total;
    fm_histset_t *current;
    fm_histwin_closed_fn closed;
    void *ctx;
};

int fm_histset_new(unsigned bin_exp, fm_histset_t **out)
{
    fm_histset_t *s = calloc(1, sizeof(*s));
    if (!s) {
        return FM_ENOMEM;
    }
    s->b = bin_exp;
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                int rc = fm_hist_new(bin_exp, &s->h[c][d][m]);
                if (rc < 0) {
                    fm_histset_free(s);
                    return rc;
                }
            }
        }
    }
    *out = s;
    return 0;
}

void fm_histset_free(fm_histset_t *s)
{
    if (!s) {
        return;
    }
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                fm_hist_free(s->h[c][d][m]);
            }
        }
    }
    free(s);
}

fm_hist_t *fm_histset_get(fm_histset_t *s, fm_class_t cls, fm_dir_t dir, fm_metric_t metric)
{
    return s->h[cls][dir][metric];
}

const fm_hist_t *fm_histset_cget(const fm_histset_t *s, fm_class_t cls, fm_dir_t dir,
                                 fm_metric_t metric)
{
    return s->h[cls][dir][metric];
}

/* Flows per batch of fm__hist_add_batch(): each gives up to 18 updates per set (forward,
 * reverse and biflow, in the "all" class and its own, three metrics), all prefetched before
 * the first add. */
#define BATCH_FLOWS 8
#define MAX_SETS 2
#define BATCH_OPS (BATCH_FLOWS * 18 * MAX_SETS)

/* One flow (one direction, or a whole biflow) into its own class and, unless @p partial, the
 * "all" class. */
static size_t add_one(fm__hist_op_t *op, fm_histset_t *s, fm_class_t cls, fm_dir_t dir,
                      uint64_t packets, uint64_t octets, uint64_t duration, bool partial)
{
    const fm_class_t classes[2] = {cls, FM_CLASS_ALL};
    size_t k = 0;
    for (int i = 0; i < (partial ? 1 : 2); i++) {
        fm_hist_t **h = s->h[classes[i]][dir];
        op[k++] = (fm__hist_op_t){h[FM_METRIC_LENGTH], packets, packets, octets};
        op[k++] = (fm__hist_op_t){h[FM_METRIC_SIZE], octets, packets, octets};
        op[k++] = (fm__hist_op_t){h[FM_METRIC_DURATION], duration, packets, octets};
    }
    return k;
}

/* The updates of one flow into one set; @return how many (at most 18). */
static size_t flow_ops(fm__hist_op_t *op, fm_histset_t *s, const fm_flow_t *f, bool partial)
{
    fm_class_t cls = fm_flow_class(f->proto);
    uint64_t first, last;
    size_t k = 0;

    /* uniflow: each direction that carried packets is a flow of its own (flow-models). */
    if (f->packets) {
        k += add_one(op + k, s, cls, FM_DIR_UNIFLOW, f->packets, f->octets,
                     fm_flow_duration_ms(f->first_ms, f->last_ms, f->packets), partial);
    }
    if (f->rev_packets) {
        k += add_one(op + k, s, cls, FM_DIR_UNIFLOW, f->rev_packets, f->rev_octets,
                     fm_flow_duration_ms(f->rev_first_ms, f->rev_last_ms, f->rev_packets),
                     partial);
    }
    /* biflow: both directions together. */
    uint64_t p = f->packets + f->rev_packets, o = f->octets + f->rev_octets;
    if (p) {
        fm_flow_span(f, &first, &last);
        k += add_one(op + k, s, cls, FM_DIR_BIFLOW, p, o, fm_flow_duration_ms(first, last, p),
                     partial);
    }
    return k;
}

/* Add flows to nsets (<= MAX_SETS) sets, in batches whose bins are prefetched together. */
static void add_flows_sets(fm_histset_t *const *sets, size_t nsets, const fm_flow_t *flows,
                           size_t n, bool partial)
{
    fm__hist_op_t ops[BATCH_OPS];
    void *cells[BATCH_OPS];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (size_t end = i + BATCH_FLOWS < n ? i + BATCH_FLOWS : n; i < end; i++) {
            for (size_t j = 0; j < nsets; j++) {
                k += flow_ops(ops + k, sets[j], &flows[i], partial);
            }
        }
        fm__hist_add_batch(ops, k, cells);
    }
}

void fm_histset_add_flows(fm_histset_t *s, const fm_flow_t *flows, size_t n)
{
    add_flows_sets(&s, 1, flows, n, false);
}

void fm_histset_add_flows_partial(fm_histset_t *s, const fm_flow_t *flows, size_t n)
{
    add_flows_sets(&s, 1, flows, n, true);
}

int fm_histset_merge_partial(fm_histset_t *dst, const fm_histset_t *src)
{
    int rc = fm_histset_merge(dst, src);
    for (int c = 0; c < FM_CLASS_COUNT && rc == 0; c++) {
        if (c == FM_CLASS_ALL) {
            continue;
        }
        for (int d = 0; d < FM_DIR_COUNT && rc == 0; d++) {
            for (int m = 0; m < FM_METRIC_COUNT && rc == 0; m++) {
                rc = fm_hist_merge(dst->h[FM_CLASS_ALL][d][m], src->h[c][d][m]);
            }
        }
    }
    return rc;
}

int fm_histset_merge(fm_histset_t *dst, const fm_histset_t *src)
{
    if (dst->b != src->b) {
        return FM_EINVAL;
    }
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                int rc = fm_hist_merge(dst->h[c][d][m], src->h[c][d][m]);
                if (rc < 0) {
                    return rc;
                }
            }
        }
    }
    return 0;
}

int fm_histset_clone(const fm_histset_t *s, fm_histset_t **out)
{
    fm_histset_t *c;
    int rc = fm_histset_new(s->b, &c);
    if (rc == 0 && (rc = fm_histset_merge(c, s)) < 0) {
        fm_histset_free(c);
    }
    if (rc == 0) {
        *out = c;
    }
    return rc;
}

void fm_histset_clear(fm_histset_t *s)
{
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                fm_hist_clear(s->h[c][d][m]);
            }
        }
    }
}

bool fm_histset_empty(const fm_histset_t *s)
{
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                if (fm_hist_count(s->h[c][d][m])) {
                    return false;
                }
            }
        }
    }
    return true;
}

size_t fm_histset_memory(const fm_histset_t *s)
{
    size_t bytes = sizeof(*s);
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                bytes += fm__hist_memory(s->h[c][d][m]);
            }
        }
    }
    return bytes;
}

/* ---- windows ---------------------------------------------------------------------------- */

int fm_histwin_new(unsigned bin_exp, uint64_t window_ms, fm_histwin_closed_fn closed, void *ctx,
                   fm_histwin_t **out)
{
    fm_histwin_t *w;
    int rc;

    if (window_ms == 0) {
        return FM_EINVAL;
    }
    if (!(w = calloc(1, sizeof(*w)))) {
        return FM_ENOMEM;
    }
    w->b = bin_exp;
    w->window_ms = w->next_window_ms = window_ms;
    w->closed = closed;
    w->ctx = ctx;
    if ((rc = fm_histset_new(bin_exp, &w->total)) < 0 ||
        (rc = fm_histset_new(bin_exp, &w->current)) < 0) {
        fm_histwin_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void fm_histwin_free(fm_histwin_t *w)
{
    if (!w) {
        return;
    }
    fm_histset_free(w->total);
    fm_histset_free(w->current);
    free(w);
}

/* Open the window containing now_ms on the wall-clock grid of window_ms.  After a change of
 * length the grid cell may begin before the previous window's end; the window then starts at
 * that end (short, but ending on the grid) so windows never overlap or share a start. */
static void open_window(fm_histwin_t *w, uint64_t now_ms, uint64_t not_before)
{
    uint64_t start = now_ms / w->window_ms * w->window_ms;
    w->start_ms = start < not_before ? not_before : start;
    w->end_ms = (w->start_ms / w->window_ms + 1) * w->window_ms;
    w->started = true;
}

void fm_histwin_tick(fm_histwin_t *w, uint64_t now_ms)
{
    if (!w->started) {
        open_window(w, now_ms, 0);
        return;
    }
    if (now_ms < w->end_ms) {
        return;
    }
    fm_histset_t *fresh;
    if (fm_histset_new(w->b, &fresh) < 0) {
        return; /* keep adding to the old window; the next tick tries again */
    }
    fm_histset_t *done = w->current;
    uint64_t start = w->start_ms, end = w->end_ms;
    w->current = fresh;
    w->window_ms = w->next_window_ms;
    open_window(w, now_ms, end);
    if (w->closed) {
        w->closed(w->ctx, start, end, done);
    } else {
        fm_histset_free(done);
    }
}

bool fm_histwin_due(const fm_histwin_t *w, uint64_t now_ms)
{
    return !w->started || now_ms >= w->end_ms;
}

void fm_histwin_add_flows(fm_histwin_t *w, const fm_flow_t *flows, size_t n, uint64_t now_ms)
{
    fm_histwin_tick(w, now_ms);
    fm_histset_t *sets[2] = {w->total, w->current};
    add_flows_sets(sets, 2, flows, n, false);
}

fm_histset_t *fm_histwin_total(fm_histwin_t *w)
{
    return w->total;
}

fm_histset_t *fm_histwin_current(fm_histwin_t *w, uint64_t *start_ms)
{
    if (start_ms) {
        *start_ms = w->start_ms;
    }
    return w->current;
}

void fm_histwin_set_current_start(fm_histwin_t *w, uint64_t start_ms)
{
    open_window(w, start_ms, start_ms);
}

void fm_histwin_set_window(fm_histwin_t *w, uint64_t window_ms)
{
    if (window_ms) {
        w->next_window_ms = window_ms;
    }
}
