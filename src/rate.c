/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sliding-window counter rates: a ring of (time, values) samples; see rate.h.
 */
#include "config.h"

#include "rate.h"

#include <stdlib.h>

#include "util/mem.h"

struct fm_rate {
    size_t nc;       /* counters per sample */
    size_t cap;      /* ring slots */
    size_t head;     /* next slot to write */
    size_t n;        /* samples held */
    uint64_t step_ms;
    uint64_t *t;     /* cap times */
    uint64_t *v;     /* cap * nc values */
};

fm_rate_t *fm_rate_new(size_t ncounters, uint64_t span_ms, uint64_t step_ms)
{
    fm_rate_t *r = fm_xcalloc(1, sizeof(*r));
    r->nc = ncounters ? ncounters : 1;
    r->step_ms = step_ms ? step_ms : 1;
    /* One slot more than the span so a full window has both of its ends. */
    r->cap = (size_t)(span_ms / r->step_ms) + 2;
    r->t = fm_xcalloc(r->cap, sizeof(*r->t));
    r->v = fm_xcalloc(r->cap * r->nc, sizeof(*r->v));
    return r;
}

void fm_rate_free(fm_rate_t *r)
{
    if (r) {
        free(r->t);
        free(r->v);
        free(r);
    }
}

void fm_rate_sample(fm_rate_t *r, uint64_t now_ms, const uint64_t *values)
{
    size_t last = (r->head + r->cap - 1) % r->cap;
    uint64_t *dst = &r->v[r->head * r->nc];

    for (size_t i = 0; i < r->nc; i++) {
        /* Keep the stored series monotonic so a reset reads as a pause, not a negative rate. */
        uint64_t prev = r->n ? r->v[last * r->nc + i] : values[i];
        dst[i] = values[i] >= prev ? values[i] : prev;
    }
    r->t[r->head] = now_ms;
    r->head = (r->head + 1) % r->cap;
    r->n += r->n < r->cap;
}

double fm_rate_get(const fm_rate_t *r, size_t counter, uint64_t window_ms)
{
    if (r->n < 2 || counter >= r->nc) {
        return 0.0;
    }
    size_t newest = (r->head + r->cap - 1) % r->cap;
    /* Walk back to the newest sample at least window_ms older than the newest one. */
    size_t back = 1, old = (newest + r->cap - 1) % r->cap;
    while (back + 1 < r->n && r->t[newest] - r->t[old] < window_ms) {
        back++;
        old = (old + r->cap - 1) % r->cap;
    }
    uint64_t dt = r->t[newest] > r->t[old] ? r->t[newest] - r->t[old] : 0;
    if (dt == 0) {
        return 0.0;
    }
    uint64_t dv = r->v[newest * r->nc + counter] - r->v[old * r->nc + counter];
    return (double)dv * 1000.0 / (double)dt;
}
