/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Window deltas (windelta.h): a list ordered by window start, each entry owning its histogram
 * set.  Nothing here knows who consumes the deltas.
 */
#include "config.h"
#include "windelta.h"

#include <stdlib.h>

#include "util/err.h"
#include "util/mem.h"

struct fm_windelta {
    unsigned bin_exp;
    uint64_t window_ms;
    fm_windelta_win_t *wins;   /* ascending start_ms */
};

int fm_windelta_new(unsigned bin_exp, uint64_t window_ms, fm_windelta_t **out)
{
    fm_histset_t *probe;
    if (!out || !window_ms || fm_histset_new(bin_exp, &probe) < 0) {
        return FM_EINVAL;
    }
    fm_histset_free(probe);
    fm_windelta_t *wd = fm_xcalloc(1, sizeof(*wd));
    wd->bin_exp = bin_exp;
    wd->window_ms = window_ms;
    *out = wd;
    return 0;
}

void fm_windelta_list_free(fm_windelta_win_t *list)
{
    while (list) {
        fm_windelta_win_t *w = list;
        list = w->next;
        fm_histset_free(w->delta);
        free(w);
    }
}

size_t fm_windelta_list_len(const fm_windelta_win_t *list)
{
    size_t n = 0;
    for (; list; list = list->next) {
        n++;
    }
    return n;
}

void fm_windelta_free(fm_windelta_t *wd)
{
    if (wd) {
        fm_windelta_list_free(wd->wins);
        free(wd);
    }
}

static fm_windelta_win_t *find_or_add(fm_windelta_t *wd, uint64_t start_ms)
{
    fm_windelta_win_t **pp = &wd->wins;
    while (*pp && (*pp)->start_ms < start_ms) {
        pp = &(*pp)->next;
    }
    if (*pp && (*pp)->start_ms == start_ms) {
        return *pp;
    }
    fm_windelta_win_t *w = fm_xcalloc(1, sizeof(*w));
    w->start_ms = start_ms;
    w->end_ms = start_ms + wd->window_ms;
    if (fm_histset_new(wd->bin_exp, &w->delta) < 0) {
        abort(); /* bin_exp was checked at creation: only out of memory gets here (policy) */
    }
    w->next = *pp;
    *pp = w;
    return w;
}

fm_histset_t *fm_windelta_get(fm_windelta_t *wd, uint64_t start_ms)
{
    return find_or_add(wd, start_ms)->delta;
}

void fm_windelta_add(fm_windelta_t *wd, const fm_flow_t *flows, size_t n, uint64_t start_ms)
{
    fm_histset_add_flows(find_or_add(wd, start_ms)->delta, flows, n);
}

void fm_windelta_close(fm_windelta_t *wd, uint64_t start_ms, uint64_t end_ms)
{
    for (fm_windelta_win_t *w = wd->wins; w; w = w->next) {
        if (w->start_ms == start_ms) {
            w->closed = true;
            w->end_ms = end_ms;
        }
    }
}

void fm_windelta_keep(fm_windelta_t *wd, uint64_t start_ms)
{
    find_or_add(wd, start_ms)->keep = true;
}

void fm_windelta_set_window(fm_windelta_t *wd, uint64_t window_ms)
{
    if (window_ms) {
        wd->window_ms = window_ms;
    }
}

bool fm_windelta_empty(const fm_windelta_t *wd)
{
    for (const fm_windelta_win_t *w = wd->wins; w; w = w->next) {
        if (w->closed || w->keep || !fm_histset_empty(w->delta)) {
            return false;
        }
    }
    return true;
}

fm_windelta_win_t *fm_windelta_take(fm_windelta_t *wd)
{
    fm_windelta_win_t *keep = NULL, **tail = &keep;
    while (wd->wins) {
        fm_windelta_win_t *w = wd->wins;
        wd->wins = w->next;
        w->next = NULL;
        if (!w->closed && !w->keep && fm_histset_empty(w->delta)) {
            fm_windelta_list_free(w);
        } else {
            *tail = w;
            tail = &w->next;
        }
    }
    return keep;
}

void fm_windelta_give_back(fm_windelta_t *wd, fm_windelta_win_t *list)
{
    while (list) {
        fm_windelta_win_t *w = list, **pp = &wd->wins;
        list = w->next;
        while (*pp && (*pp)->start_ms < w->start_ms) {
            pp = &(*pp)->next;
        }
        if (!*pp || (*pp)->start_ms != w->start_ms) {
            w->next = *pp; /* no delta of that window here: move it in, no copy */
            *pp = w;
            continue;
        }
        fm_windelta_win_t *cur = *pp;
        fm_histset_merge(cur->delta, w->delta); /* same bin_exp: cannot fail */
        cur->closed = cur->closed || w->closed;
        cur->keep = cur->keep || w->keep;
        cur->end_ms = w->end_ms;
        w->next = NULL;
        fm_windelta_list_free(w);
    }
}
