/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Window deltas: the histograms of flows finished since a consumer last took them, one delta
 * per histogram window.  The daemon keeps one of these per consumer: the committer's (written
 * to the store, given back when a commit fails) and the publisher's (encoded for plugins).  A
 * consumer takes the whole list at once (fm_windelta_take), works on it off the loop, and
 * either frees it or gives it back to be merged with what arrived meanwhile.
 *
 * Out-of-memory policy (as fm_x* allocations): a window delta is a few KiB of control data, so
 * failing to allocate one aborts.  Loop thread only; a taken list belongs to its taker.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "hist.h"

typedef struct fm_windelta fm_windelta_t;

/** One window's delta in a taken list (read-write for the list's owner). */
typedef struct fm_windelta_win {
    uint64_t start_ms, end_ms;
    fm_histset_t *delta;       /* owned by the list entry */
    bool closed;               /* the window ended: the store marks it closed */
    bool keep;                 /* taken even when empty (fm_windelta_keep) */
    struct fm_windelta_win *next;
} fm_windelta_win_t;

/**
 * @param[in]  bin_exp    histogram resolution of every delta.
 * @param[in]  window_ms  window length (gives a new window's end).
 * @param[out] out        release with fm_windelta_free().
 * @return 0 or FM_EINVAL (bin_exp out of range, window_ms 0).
 */
int fm_windelta_new(unsigned bin_exp, uint64_t window_ms, fm_windelta_t **out);
/** Free the module and its pending deltas.  NULL does nothing. */
void fm_windelta_free(fm_windelta_t *wd);

/** The delta of the window starting at start_ms, created empty if missing. */
fm_histset_t *fm_windelta_get(fm_windelta_t *wd, uint64_t start_ms);
/** Add finished flows to the delta of the window starting at start_ms. */
void fm_windelta_add(fm_windelta_t *wd, const fm_flow_t *flows, size_t n, uint64_t start_ms);
/** The window starting at start_ms ended at end_ms (a no-op when it has no delta). */
void fm_windelta_close(fm_windelta_t *wd, uint64_t start_ms, uint64_t end_ms);
/** Take the window starting at start_ms even if its delta stays empty (a commit must write
 *  something in that window's transaction, e.g. [input.kafka] high-water marks). */
void fm_windelta_keep(fm_windelta_t *wd, uint64_t start_ms);
/** Later windows are window_ms long. */
void fm_windelta_set_window(fm_windelta_t *wd, uint64_t window_ms);
/** True when no delta is pending (none, or only empty ones). */
bool fm_windelta_empty(const fm_windelta_t *wd);

/**
 * Detach every pending delta, oldest window first; empty deltas of open windows are dropped
 * unless kept (fm_windelta_keep).
 * @return the list (caller owns it: fm_windelta_list_free() or fm_windelta_give_back()), or
 *         NULL when nothing is pending.
 */
fm_windelta_win_t *fm_windelta_take(fm_windelta_t *wd);
/** Merge a taken list back (its counts add to what arrived since); takes ownership. */
void fm_windelta_give_back(fm_windelta_t *wd, fm_windelta_win_t *list);
/** Free a taken list.  NULL does nothing. */
void fm_windelta_list_free(fm_windelta_win_t *list);
/** Number of windows in a list. */
size_t fm_windelta_list_len(const fm_windelta_win_t *list);
