/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histograms in flow-models binning (DESIGN §5, FLOW-MODELS.md §4).
 *
 * fm_hist_t is one histogram of one metric: sparse bins keyed by bin_lo, each holding
 * flows/packets/octets sums (64-bit; overflow is detected and counted, never wrapped).
 * fm_histset_t is the full set the daemon keeps: class (all/tcp/udp/other) x direction mode
 * (uniflow/biflow) x metric (length/size/duration).  fm_histwin_t keeps the running total and
 * tumbling wall-clock-aligned windows.  Histograms of the same bin_exp merge by addition.
 *
 * This header is the contract other modules (store, fit, export, ctl, toolkit) code against.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "flow.h"

typedef enum {
    FM_METRIC_LENGTH = 0, /* packets */
    FM_METRIC_SIZE,       /* octets */
    FM_METRIC_DURATION,   /* ms, 0 for a one-packet flow */
    FM_METRIC_COUNT
} fm_metric_t;

typedef enum {
    FM_DIR_UNIFLOW = 0, /* each direction is one flow (flow-models definition) */
    FM_DIR_BIFLOW,      /* both directions together */
    FM_DIR_COUNT
} fm_dir_t;

/** One bin: [lo, hi) with its sums. */
typedef struct {
    uint64_t lo;
    uint64_t hi;
    uint64_t flows;
    uint64_t packets;
    uint64_t octets;
} fm_hist_bin_t;

typedef struct fm_hist fm_hist_t;
typedef struct fm_histset fm_histset_t;
typedef struct fm_histwin fm_histwin_t;

const char *fm_metric_name(fm_metric_t m);
int fm_metric_parse(const char *name); /* "length", "size", "duration" → metric, or FM_EINVAL */
const char *fm_dir_name(fm_dir_t d);
int fm_dir_parse(const char *name);    /* "uniflow", "biflow" → dir, or FM_EINVAL */

/**
 * Bin of a value under bin exponent b (b = 0: [x, x+1); b > 0: flow-models bin_calc_log).
 * @param[out] lo, hi  the bin bounds.
 */
void fm_hist_bin_of(uint64_t x, unsigned bin_exp, uint64_t *lo, uint64_t *hi);

/** Create an empty histogram.  @return 0, FM_EINVAL (bin_exp > 63) or FM_ENOMEM. */
int fm_hist_new(unsigned bin_exp, fm_hist_t **out);
void fm_hist_free(fm_hist_t *h);
unsigned fm_hist_bin_exp(const fm_hist_t *h);
/** Add one flow with value x.  O(1).  Overflowing sums saturate and are counted. */
void fm_hist_add(fm_hist_t *h, uint64_t x, uint64_t packets, uint64_t octets);
/** fm_hist_add of n flows given as columns (x[i], packets[i], octets[i]): the column readers'
 * loop, with the bin lookup inlined. */
void fm_hist_add_n(fm_hist_t *h, const uint64_t *x, const uint64_t *packets,
                   const uint64_t *octets, size_t n);
/** Add a whole bin (lo must be a bin start under h's binning).  @return 0 or FM_EINVAL. */
int fm_hist_add_bin(fm_hist_t *h, const fm_hist_bin_t *bin);
/** dst += src.  @return 0 or FM_EINVAL if the binnings differ. */
int fm_hist_merge(fm_hist_t *dst, const fm_hist_t *src);
void fm_hist_clear(fm_hist_t *h);
/** Number of non-empty bins. */
size_t fm_hist_count(const fm_hist_t *h);
/** Totals over all bins, saturating at UINT64_MAX (any out pointer may be NULL). */
void fm_hist_totals(const fm_hist_t *h, uint64_t *flows, uint64_t *packets, uint64_t *octets);
/** Number of sums that saturated. */
uint64_t fm_hist_overflows(const fm_hist_t *h);
/**
 * Non-empty bins sorted by lo.
 * @param[out] bins  array allocated with malloc; caller frees.  NULL when n is 0.
 * @return number of bins, or a negative FM_ENOMEM.
 */
long fm_hist_bins(const fm_hist_t *h, fm_hist_bin_t **bins);
/** Write flow-models' csv_hist (header + rows).  @return 0 or FM_EIO. */
int fm_hist_write_csv(const fm_hist_t *h, FILE *out);
/**
 * Read a csv_hist file ("-": standard input; extra columns ignored) into a bin array in file
 * order.
 * @param[out] bins  malloc'd array, caller frees.  @param[out] n  number of rows.
 * @return 0, FM_ENOENT/-errno, FM_EFORMAT (message via fm_log_err with file:line).
 */
int fm_hist_read_csv(const char *path, fm_hist_bin_t **bins, size_t *n);

/** Create a set of (class x direction x metric) histograms.  @return 0 or FM_ENOMEM. */
int fm_histset_new(unsigned bin_exp, fm_histset_t **out);
void fm_histset_free(fm_histset_t *s);
/** Add finished flows (uniflow: each direction with packets > 0 is one flow; biflow: one). */
void fm_histset_add_flows(fm_histset_t *s, const fm_flow_t *flows, size_t n);
/** Borrowed pointer, valid while s lives. */
fm_hist_t *fm_histset_get(fm_histset_t *s, fm_class_t cls, fm_dir_t dir, fm_metric_t metric);
const fm_hist_t *fm_histset_cget(const fm_histset_t *s, fm_class_t cls, fm_dir_t dir,
                                 fm_metric_t metric);
int fm_histset_merge(fm_histset_t *dst, const fm_histset_t *src);
/**
 * Add finished flows to the histograms of their own class only (TCP, UDP or OTHER), not to
 * FM_CLASS_ALL: half the bin updates per flow.  Every flow is in exactly one of those classes,
 * so the "all" histograms are their sum, which fm_histset_merge_partial() adds where the set
 * is merged.  Such a "partial" set is for a delta that is only ever merged that way.
 */
void fm_histset_add_flows_partial(fm_histset_t *s, const fm_flow_t *flows, size_t n);
/** Merge a partial set (fm_histset_add_flows_partial) into a full one: every class as
 *  fm_histset_merge() does, and the TCP, UDP and OTHER classes into FM_CLASS_ALL as well.
 *  @return 0 or FM_EINVAL (other bin_exp). */
int fm_histset_merge_partial(fm_histset_t *dst, const fm_histset_t *src);
/** Deep copy (for handing a snapshot to a thread-pool job).  @return 0 or FM_ENOMEM. */
int fm_histset_clone(const fm_histset_t *s, fm_histset_t **out);
void fm_histset_clear(fm_histset_t *s);
/** True when no histogram of the set has a bin. */
bool fm_histset_empty(const fm_histset_t *s);
/** Bytes of memory the set uses. */
size_t fm_histset_memory(const fm_histset_t *s);

/**
 * Called on the loop thread when a window closes.  Ownership of `closed` passes to the callee
 * (free it with fm_histset_free).
 */
typedef void (*fm_histwin_closed_fn)(void *ctx, uint64_t start_ms, uint64_t end_ms,
                                     fm_histset_t *closed);

/**
 * Running total plus the current tumbling window [start, start + window_ms), start aligned to
 * the wall clock (a multiple of window_ms since the epoch).
 */
int fm_histwin_new(unsigned bin_exp, uint64_t window_ms, fm_histwin_closed_fn closed, void *ctx,
                   fm_histwin_t **out);
void fm_histwin_free(fm_histwin_t *w);
/** Add flows to the total and the window containing now_ms (closing the old one first if due). */
void fm_histwin_add_flows(fm_histwin_t *w, const fm_flow_t *flows, size_t n, uint64_t now_ms);
/** Close the current window if now_ms is past its end. */
void fm_histwin_tick(fm_histwin_t *w, uint64_t now_ms);
/** True when fm_histwin_tick(w, now_ms) would open the first window or close the current one. */
bool fm_histwin_due(const fm_histwin_t *w, uint64_t now_ms);
fm_histset_t *fm_histwin_total(fm_histwin_t *w);
fm_histset_t *fm_histwin_current(fm_histwin_t *w, uint64_t *start_ms);
/** Restore (used when resuming from the store): the window start the current set belongs to. */
void fm_histwin_set_current_start(fm_histwin_t *w, uint64_t start_ms);
/**
 * Change the window length (reload); takes effect at the next window boundary.  If the new
 * grid's window containing that moment starts before the boundary, the first window starts at
 * the boundary instead and ends on the new grid, so windows never overlap or share a start.
 */
void fm_histwin_set_window(fm_histwin_t *w, uint64_t window_ms);
