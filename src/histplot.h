/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram charts: the PDF (log–log) and CDF charts of one histogram with the fitted mixtures
 * drawn over them, as flow-models `plot` draws them.  The one implementation behind the daemon's
 * export snapshots (export_plot.c) and `flowmix plot` (cmd_plot.c).  It computes the curves and
 * hands plain arrays to src/plot.c; it knows nothing about export directories or command lines.
 *
 * The curves, at every bin's lower bound x = bin_lo:
 *   pdf chart  data: flows_sum / Σ flows_sum / (bin_hi − bin_lo) (flows per unit of x);
 *              mixture: fm_mix_pdf_discrete() of the flows mixture (x_min 64 for size, else 1).
 *   cdf chart  for each of flows, packets, octets: data Σ_{bins ≤ this} sum / Σ sum; mixture
 *              fm_mix_cdf() of the mixture fitted to that column.
 *
 * Reentrant and silent (never logs), so the export can run it on a thread-pool thread.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "hist.h"
#include "mixture.h"

/** Header line of the series CSV written by fm_histplot_write(). */
#define FM_HISTPLOT_CSV_HEADER "chart,y,source,x,value\n"

/** What one pair of charts is drawn from.  Every pointer is borrowed for the call. */
typedef struct {
    const fm_hist_bin_t *bins; /* n bins sorted by lo, hi > lo */
    size_t n;
    fm_metric_t metric;        /* axis label; size uses x_min 64 in the discrete pdf */
    const fm_mix_t *mix[3];    /* mixtures fitted to flows, packets, octets (FM_Y_*); NULL: none */
    const char *title;         /* chart title, or NULL */
} fm_histplot_t;

/**
 * Draw PREFIX "pdf" and PREFIX "cdf" in the given formats (e.g. prefix "dir/" gives dir/pdf.png
 * and dir/cdf.png).  The directory must exist.
 * @param[in] hp       histogram, metric, mixtures and title.
 * @param[in] prefix   path prefix of the two charts.
 * @param[in] formats  FM_PLOT_SVG | FM_PLOT_PNG | FM_PLOT_PDF, at least one.
 * @param[in] csv      if not NULL, every plotted series is also written to it as rows
 *                     "chart,y,source,x,value" (chart pdf|cdf, y flows|packets|octets, source
 *                     data|mixture, numbers with 17 significant digits; no header, see
 *                     FM_HISTPLOT_CSV_HEADER).
 * @return 0, FM_EINVAL (no bins, bad metric or formats, NULL prefix), FM_EIO (a chart or the
 *         CSV could not be written), FM_ENOMEM.
 */
int fm_histplot_write(const fm_histplot_t *hp, const char *prefix, int formats, FILE *csv);
