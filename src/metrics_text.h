/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Prometheus text exposition (format 0.0.4) of the daemon's state, rendered from the same
 * JSON objects the control socket's status, exporters and fits replies carry (one name per
 * counter: the metric names derive from the status members by a fixed table) plus the total
 * flow length and size histograms.  Pure: no I/O, no daemon state; the HTTP side is metrics.c.
 *
 * Naming (DESIGN §13): flowmix_<what>_<unit>, counters end in _total.  Histograms: bucket
 * le = the largest value of a bin (flows are integers, bins [lo, hi), so le = hi - 1), per
 * class label, cumulative; _sum is the packets (length) or octets (size) of all flows.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "hist.h"

/** One histogram to expose. */
typedef struct {
    const char *cls;             /* "all", "tcp", ... */
    int metric;                  /* FM_METRIC_LENGTH or FM_METRIC_SIZE */
    const fm_hist_bin_t *bins;   /* sorted by lo */
    size_t n;
} fm_metrics_hist_t;

/**
 * Render the exposition text.
 * @param[in] status     result of the `status` command (members not in the name table are
 *                       exposed as untyped flowmix_<path>, so none is left out).
 * @param[in] exporters  result of `exporters` (may be NULL).
 * @param[in] fits       result of `fits` (may be NULL).
 * @param[in] h, nh      histograms; several classes of one metric share one family.
 * @param[out] len       length of the text.
 * @return malloc'd NUL-terminated text (caller frees); NULL when out of memory.
 */
char *fm_metrics_render(const json_t *status, const json_t *exporters, const json_t *fits,
                        const fm_metrics_hist_t *h, size_t nh, size_t *len);
