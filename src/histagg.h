/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's histograms (issue 16 item 3): ONE histogram update per finished flow.
 *
 * A finished flow is added to exactly one structure: the pending delta of a producer (an
 * fm_windelta_t, one delta per window, the window given by fm_histagg_tick).  The loop thread
 * owns everything else and derives it from the producers' deltas bin by bin, never flow by
 * flow: fm_histagg_sync takes every producer's pending deltas and merges each into
 *   - the served histograms: the running total and the current window (what `hist`,
 *     `/metrics`, fits, exports and `status` read: committed + pending),
 *   - the publish deltas (fm_histagg_pub; only when enabled: Kafka histogram deltas),
 *   - the store's deltas (fm_histagg_store; the committer takes these; a delta of a window the
 *     store has none of yet is moved, not copied).
 * fm_histagg_total/fm_histagg_current sync first, so a reader sees exactly what adding every
 * flow to the total and the current window when it finished gave.  A failed commit gives its
 * deltas back to the store's deltas only (fm_windelta_give_back): the served histograms and
 * the publish deltas already hold them, so nothing is counted twice.
 *
 * Producers: the loop's own (fm_histagg_local, for a single-threaded data path) and any number
 * registered with fm_histagg_add_producer: each is a take function the loop calls at sync
 * (commit, publish, query, window close, every daemon tick) that hands over what that producer
 * collected as an fm_windelta_take() list; a producer that pushes instead calls
 * fm_histagg_absorb on the loop thread.  Producers add flows under the window start that
 * fm_histagg_tick returned; a delta of a window that has already closed when it is absorbed
 * still counts in the total and is written to the store as a closed window.
 *
 * Window assignment is that of fm_histwin_t (hist.h): wall-clock aligned tumbling windows, a
 * reload's new length from the next boundary on.  Loop thread only, except that a producer's
 * own fm_windelta_t belongs to whoever adds to it until it is taken.
 * Out of memory: aborts, as fm_windelta (a few KiB of control data).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hist.h"
#include "windelta.h"

typedef struct fm_histagg fm_histagg_t;

/** A producer's hand-over: detach and return its pending deltas (fm_windelta_take), NULL when
 *  none.  Called on the loop thread; ownership of the list passes to the caller. */
typedef fm_windelta_win_t *(*fm_histagg_take_fn)(void *ctx);

/**
 * @param[in]  bin_exp    histogram resolution.
 * @param[in]  window_ms  window length.
 * @param[out] out        release with fm_histagg_free().
 * @return 0, FM_EINVAL (bin_exp > 63, window_ms 0) or FM_ENOMEM.
 */
int fm_histagg_new(unsigned bin_exp, uint64_t window_ms, fm_histagg_t **out);
/** NULL does nothing. */
void fm_histagg_free(fm_histagg_t *a);

/** The loop thread's own producer: add finished flows here with fm_windelta_add(). */
fm_windelta_t *fm_histagg_local(fm_histagg_t *a);
/** Register a producer; every sync calls take(ctx).  At most 64 producers. */
void fm_histagg_add_producer(fm_histagg_t *a, fm_histagg_take_fn take, void *ctx);
/** Merge a producer's taken list (takes ownership). */
void fm_histagg_absorb(fm_histagg_t *a, fm_windelta_win_t *list);
/** Take and absorb every producer's pending deltas.  Cost: per bin of what they collected. */
void fm_histagg_sync(fm_histagg_t *a);

/**
 * Open the first window, or close the current one when now_ms is past its end (syncing first,
 * so the closed window is complete); logs the close.
 * @return the start of the window flows finishing at now_ms belong to.
 */
uint64_t fm_histagg_tick(fm_histagg_t *a, uint64_t now_ms);
/** Window length after a reload, from the next boundary on (fm_histwin_set_window). */
void fm_histagg_set_window(fm_histagg_t *a, uint64_t window_ms);

/** The served running total (synced first).  The pointer stays valid while a lives. */
fm_histset_t *fm_histagg_total(fm_histagg_t *a);
/** The served current window (synced first); valid until the next window closes. */
fm_histset_t *fm_histagg_current(fm_histagg_t *a, uint64_t *start_ms);

/** The store's deltas, one per window, closed windows marked (the committer's input). */
fm_windelta_t *fm_histagg_store(fm_histagg_t *a);
/** Keep publish deltas from now on (off by default). */
void fm_histagg_enable_publish(fm_histagg_t *a);
/** The publish deltas (take after fm_histagg_sync); NULL unless enabled. */
fm_windelta_t *fm_histagg_pub(fm_histagg_t *a);
