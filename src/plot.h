/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Plot: a small chart renderer on cairo for the export snapshots and `flowmix plot`.  One chart
 * has a title, axis labels, linear or logarithmic (decade-ticked) axes, a legend and any number
 * of series drawn as points and/or lines in distinct colours; it is written as SVG, PNG and/or
 * PDF.  The API takes plain arrays so it knows nothing about histograms or mixtures: computing
 * the CDF/PDF curves is the caller's business (export, cmd_plot).
 *
 * Values that cannot be drawn (NaN, infinities, and values <= 0 on a logarithmic axis) are
 * skipped; a line is broken where such a value occurs.  Axis ranges are taken from the data
 * unless set explicitly.  An object is not shared between threads, but separate objects may be
 * rendered concurrently (cairo surfaces are independent).
 */
#pragma once

#include <stddef.h>

typedef struct fm_plot fm_plot_t;

/** Axis flags for fm_plot_new(): logarithmic x and/or y axis (default linear). */
enum {
    FM_PLOT_LOGX = 1 << 0,
    FM_PLOT_LOGY = 1 << 1,
};

/** Series styles for fm_plot_add_series(); POINTS and LINE may be combined, DASHED modifies LINE. */
enum {
    FM_PLOT_POINTS = 1 << 0,
    FM_PLOT_LINE = 1 << 1,
    FM_PLOT_DASHED = 1 << 2,
};

/** Output formats for fm_plot_write(), combinable. */
enum {
    FM_PLOT_SVG = 1 << 0,
    FM_PLOT_PNG = 1 << 1,
    FM_PLOT_PDF = 1 << 2,
};

/** Default canvas size: points for SVG/PDF, pixels for PNG. */
#define FM_PLOT_DEFAULT_WIDTH 800
#define FM_PLOT_DEFAULT_HEIGHT 600

/**
 * Create an empty chart.
 * @param[in] title   chart title (UTF-8), or NULL for none; copied.
 * @param[in] xlabel  x axis label, or NULL; copied.
 * @param[in] ylabel  y axis label, or NULL; copied.
 * @param[in] flags   FM_PLOT_LOGX and/or FM_PLOT_LOGY, or 0.
 * @return new chart, freed with fm_plot_free(); NULL only if flags has unknown bits (memory
 *         exhaustion aborts, as for every small control structure).
 */
fm_plot_t *fm_plot_new(const char *title, const char *xlabel, const char *ylabel, int flags);

/** Free a chart and its copies of the series.  NULL does nothing. */
void fm_plot_free(fm_plot_t *p);

/**
 * Add a series.  Colours are assigned in order of addition (matplotlib's tab10 cycle).
 * @param[in,out] p    chart.
 * @param[in] label    legend entry (UTF-8), or NULL to leave the series out of the legend; copied.
 * @param[in] x, y     n coordinates each; copied, so the caller may free them afterwards.  May
 *                     be NULL when n is 0 (an empty series still takes a colour and a legend row).
 * @param[in] n        number of points.
 * @param[in] style    FM_PLOT_POINTS and/or FM_PLOT_LINE, optionally | FM_PLOT_DASHED.
 * @return number of points that can be drawn on this chart's axes (finite, > 0 on log axes),
 *         or FM_EINVAL (bad style, NULL array with n > 0), FM_ENOMEM (arrays too large).
 */
int fm_plot_add_series(fm_plot_t *p, const char *label, const double *x, const double *y,
                       size_t n, int style);

/**
 * Add a horizontal reference line across the whole plot area (e.g. the mean packet size).
 * @param[in,out] p   chart.
 * @param[in] label   legend entry or NULL; copied.
 * @param[in] y       height; included in the automatic y range.
 * @return 0, or FM_EINVAL if y cannot be drawn on the y axis (non-finite, or <= 0 on a log axis).
 */
int fm_plot_add_hline(fm_plot_t *p, const char *label, double y);

/**
 * Fix the x or y range instead of deriving it from the data; NaN for either bound keeps that
 * bound automatic.  Points outside the range are clipped.
 * @return 0, or FM_EINVAL if lo >= hi, a bound is infinite, or a bound is <= 0 on a log axis.
 */
int fm_plot_set_xrange(fm_plot_t *p, double lo, double hi);
/** As fm_plot_set_xrange() for the y axis. */
int fm_plot_set_yrange(fm_plot_t *p, double lo, double hi);

/**
 * Set the canvas size (default FM_PLOT_DEFAULT_WIDTH x FM_PLOT_DEFAULT_HEIGHT).
 * @return 0, or FM_EINVAL outside 200..8000 in either direction.
 */
int fm_plot_set_size(fm_plot_t *p, int width, int height);

/**
 * Render the chart to PATH.svg, PATH.png and/or PATH.pdf.  Existing files are replaced; the
 * directory must exist.
 * @param[in] p       chart.
 * @param[in] path    output path without extension.
 * @param[in] formats FM_PLOT_SVG | FM_PLOT_PNG | FM_PLOT_PDF, at least one.
 * @return 0, FM_EINVAL (no or unknown format, NULL path), FM_EIO (a file could not be written;
 *         formats before it may have been written), FM_ENOMEM (cairo ran out of memory).
 */
int fm_plot_write(const fm_plot_t *p, const char *path, int formats);

/**
 * Render several charts of the same size on one canvas, cols per row, left to right and top to
 * bottom (flow-models plot --single), to PATH.svg/.png/.pdf.
 * @return as fm_plot_write(); FM_EINVAL also for n == 0, cols < 1 or charts of different sizes.
 */
int fm_plot_write_grid(const fm_plot_t *const *charts, size_t n, int cols, const char *path,
                       int formats);

/**
 * Parse a comma-separated list of format names ("png", "svg", "pdf"), e.g. "png,svg".
 * @return a mask of FM_PLOT_SVG/PNG/PDF (at least one), or FM_EINVAL for an empty list or an
 *         unknown name.
 */
int fm_plot_parse_formats(const char *list);

/**
 * Turn a command's -o argument into a path prefix for fm_plot_write(): an existing directory,
 * or any argument ending in '/' (the directory is created), becomes "DIR/"; anything else is a
 * file name prefix used as it is ("out/length-" gives out/length-pdf.png).
 * @param[in]  out     the argument.
 * @param[out] prefix  malloc'd prefix, caller frees.
 * @return 0, FM_EINVAL (empty argument) or -errno from creating the directory.
 */
int fm_plot_out_prefix(const char *out, char **prefix);

/**
 * Release the font caches that cairo and fontconfig keep for the whole process, so that leak
 * checkers (ASan, valgrind) see a clean exit.  Call at most once, at exit, when no chart is being
 * written by any thread; afterwards fm_plot_write() must not be called again.
 */
void fm_plot_cleanup(void);

/**
 * An SI prefix for values up to max, so an axis reads 30 Mbit/s rather than 3e+07 bit/s.
 * @param[in]  max    largest value to show.
 * @param[in]  unit   the unit without prefix, e.g. "bit/s".
 * @param[out] label  "<prefix><unit>", e.g. "Mbit/s" (unit alone below 1000).
 * @return the divisor to apply to the values (1, 1e3, 1e6, 1e9 or 1e12).
 */
double fm_plot_si_unit(double max, const char *unit, char *label, size_t len);
