/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Chart rendering on cairo.  The chart keeps copies of the caller's arrays; fm_plot_write()
 * derives the axis ranges, then draws background, grid, series (clipped to the plot area),
 * frame, ticks, labels and legend once per requested surface (SVG, PDF, or an ARGB image saved
 * as PNG).  Log axes work in log10 space throughout and are ticked at decades (every k-th decade
 * when there are many); linear axes get 1-2-5 ticks.  Segments are clipped in double precision
 * before they reach cairo, whose 24.8 fixed-point coordinates would overflow on far-away points.
 */
#include "config.h"

#include "plot.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

#define FONT_FAMILY "sans-serif"
#define FONT_TICK 12.0
#define FONT_LABEL 14.0
#define FONT_TITLE 16.0
#define FONT_LEGEND 12.0
#define MARKER_R 2.5
#define LINE_W 1.6
#define MAX_SIZE 8000
#define MIN_SIZE 200

struct series {
    char *label; /* NULL: not in the legend */
    double *x, *y;
    size_t n;
    int style;
    bool hline; /* horizontal reference line at y[0] */
};

struct fm_plot {
    char *title, *xlabel, *ylabel;
    int flags;
    int width, height;
    double xfix[2], yfix[2]; /* explicit bounds, NaN = automatic */
    struct series *s;
    size_t ns, cap;
};

/* One axis as drawn: bounds in transformed units (log10 for log axes) and device endpoints. */
struct axis {
    bool log;
    double lo, hi;
    double d0, d1; /* device coordinate of lo and hi */
};

/* The drawing context of one render: both axes and the plot rectangle in device units. */
struct frame {
    struct axis x, y;
    double left, right, top, bottom;
};

/* matplotlib's tab10 colour cycle, which readers of flow-models plots know. */
static const double palette[][3] = {
    {0x1f / 255.0, 0x77 / 255.0, 0xb4 / 255.0}, {0xff / 255.0, 0x7f / 255.0, 0x0e / 255.0},
    {0x2c / 255.0, 0xa0 / 255.0, 0x2c / 255.0}, {0xd6 / 255.0, 0x27 / 255.0, 0x28 / 255.0},
    {0x94 / 255.0, 0x67 / 255.0, 0xbd / 255.0}, {0x8c / 255.0, 0x56 / 255.0, 0x4b / 255.0},
    {0xe3 / 255.0, 0x77 / 255.0, 0xc2 / 255.0}, {0x7f / 255.0, 0x7f / 255.0, 0x7f / 255.0},
    {0xbc / 255.0, 0xbd / 255.0, 0x22 / 255.0}, {0x17 / 255.0, 0xbe / 255.0, 0xcf / 255.0},
};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

/* ---- strings ------------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s, or 0.  cairo refuses invalid UTF-8 by putting the
 * whole context into an error state, so labels are sanitised when they are copied. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n;
    uint32_t cp;
    if (s[0] < 0x80) {
        return 1;
    } else if ((s[0] & 0xe0) == 0xc0) {
        n = 2, cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3, cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4, cp = s[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

/* Copy a label, replacing each byte that does not start valid UTF-8 with '?'. */
static char *label_dup(const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    char *d = fm_xstrdup(s);
    unsigned char *u = (unsigned char *)d;
    while (*u) {
        size_t n = utf8_len(u);
        if (n == 0) {
            *u++ = '?';
        } else {
            u += n;
        }
    }
    return d;
}

/* ---- chart object ------------------------------------------------------------------------- */

fm_plot_t *fm_plot_new(const char *title, const char *xlabel, const char *ylabel, int flags)
{
    if (flags & ~(FM_PLOT_LOGX | FM_PLOT_LOGY)) {
        return NULL;
    }
    fm_plot_t *p = fm_xcalloc(1, sizeof(*p));
    p->title = label_dup(title);
    p->xlabel = label_dup(xlabel);
    p->ylabel = label_dup(ylabel);
    p->flags = flags;
    p->width = FM_PLOT_DEFAULT_WIDTH;
    p->height = FM_PLOT_DEFAULT_HEIGHT;
    p->xfix[0] = p->xfix[1] = p->yfix[0] = p->yfix[1] = NAN;
    return p;
}

void fm_plot_free(fm_plot_t *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->ns; i++) {
        free(p->s[i].label);
        free(p->s[i].x);
        free(p->s[i].y);
    }
    free(p->s);
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
    free(p);
}

/* Can v be drawn on an axis that is logarithmic if log is set? */
static bool drawable(bool log, double v)
{
    return isfinite(v) && (!log || v > 0);
}

static struct series *series_append(fm_plot_t *p)
{
    if (p->ns == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8;
        p->s = fm_xreallocarray(p->s, p->cap, sizeof(*p->s));
    }
    struct series *s = &p->s[p->ns++];
    memset(s, 0, sizeof(*s));
    return s;
}

/* Copy n doubles with a checked size: n comes from the caller's data, not from us. */
static double *copy_doubles(const double *v, size_t n)
{
    size_t bytes;
    if (n == 0 || fm_mul_overflow(n, sizeof(double), &bytes)) {
        return NULL;
    }
    double *d = malloc(bytes);
    if (d != NULL) {
        memcpy(d, v, bytes);
    }
    return d;
}

int fm_plot_add_series(fm_plot_t *p, const char *label, const double *x, const double *y,
                       size_t n, int style)
{
    int valid = FM_PLOT_POINTS | FM_PLOT_LINE | FM_PLOT_DASHED;
    if (p == NULL || (style & ~valid) || !(style & (FM_PLOT_POINTS | FM_PLOT_LINE)) ||
        (n > 0 && (x == NULL || y == NULL)) || n > INT_MAX) {
        return FM_EINVAL;
    }
    double *cx = NULL, *cy = NULL;
    if (n > 0) {
        cx = copy_doubles(x, n);
        cy = copy_doubles(y, n);
        if (cx == NULL || cy == NULL) {
            free(cx);
            free(cy);
            return FM_ENOMEM;
        }
    }
    struct series *s = series_append(p);
    s->label = label_dup(label);
    s->x = cx;
    s->y = cy;
    s->n = n;
    s->style = style;
    int kept = 0;
    for (size_t i = 0; i < n; i++) {
        kept += drawable(p->flags & FM_PLOT_LOGX, cx[i]) && drawable(p->flags & FM_PLOT_LOGY, cy[i]);
    }
    return kept;
}

int fm_plot_add_hline(fm_plot_t *p, const char *label, double y)
{
    if (p == NULL || !drawable(p->flags & FM_PLOT_LOGY, y)) {
        return FM_EINVAL;
    }
    struct series *s = series_append(p);
    s->label = label_dup(label);
    s->y = fm_xmalloc(sizeof(double));
    s->y[0] = y;
    s->n = 1;
    s->style = FM_PLOT_LINE;
    s->hline = true;
    return 0;
}

static int set_range(double fix[2], bool log, double lo, double hi)
{
    if ((!isnan(lo) && !drawable(log, lo)) || (!isnan(hi) && !drawable(log, hi)) ||
        (!isnan(lo) && !isnan(hi) && lo >= hi)) {
        return FM_EINVAL;
    }
    fix[0] = lo;
    fix[1] = hi;
    return 0;
}

int fm_plot_set_xrange(fm_plot_t *p, double lo, double hi)
{
    return p == NULL ? FM_EINVAL : set_range(p->xfix, p->flags & FM_PLOT_LOGX, lo, hi);
}

int fm_plot_set_yrange(fm_plot_t *p, double lo, double hi)
{
    return p == NULL ? FM_EINVAL : set_range(p->yfix, p->flags & FM_PLOT_LOGY, lo, hi);
}

int fm_plot_set_size(fm_plot_t *p, int width, int height)
{
    if (p == NULL || width < MIN_SIZE || width > MAX_SIZE || height < MIN_SIZE ||
        height > MAX_SIZE) {
        return FM_EINVAL;
    }
    p->width = width;
    p->height = height;
    return 0;
}

/* ---- axes --------------------------------------------------------------------------------- */

static double axis_tr(const struct axis *a, double v)
{
    return a->log ? log10(v) : v;
}

/* Device coordinate of a transformed value.  Halving first keeps hi - lo finite even for
 * linear axes spanning -DBL_MAX..DBL_MAX. */
static double axis_map_t(const struct axis *a, double t)
{
    double span = a->hi / 2 - a->lo / 2;
    double f = span > 0 ? (t / 2 - a->lo / 2) / span : 0.5;
    return a->d0 + f * (a->d1 - a->d0);
}

static double axis_map(const struct axis *a, double v)
{
    return axis_map_t(a, axis_tr(a, v));
}

/* Widen a degenerate or padded automatic range; bounds stay finite. */
static void range_pad(struct axis *a, bool auto_lo, bool auto_hi)
{
    if (a->lo == a->hi) {
        double d = a->log ? 0.5 : (a->lo == 0 ? 1 : fabs(a->lo) * 0.5);
        a->lo -= d;
        a->hi += d;
    } else if (a->log) {
        /* Whole decades at automatic ends, so the frame starts and ends on a labelled tick. */
        if (auto_lo) {
            a->lo = floor(a->lo);
        }
        if (auto_hi) {
            a->hi = ceil(a->hi);
        }
    } else {
        double half = a->hi / 2 - a->lo / 2;
        if (auto_lo) {
            a->lo = fmax(a->lo - 0.1 * half, -DBL_MAX);
        }
        if (auto_hi) {
            a->hi = fmin(a->hi + 0.1 * half, DBL_MAX);
        }
    }
}

/* Derive one axis' bounds from the drawable points (both coordinates drawable) and hlines. */
static void axis_fit(struct axis *a, const fm_plot_t *p, bool is_x)
{
    bool xlog = p->flags & FM_PLOT_LOGX, ylog = p->flags & FM_PLOT_LOGY;
    const double *fix = is_x ? p->xfix : p->yfix;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < p->ns; i++) {
        const struct series *s = &p->s[i];
        if (s->hline) {
            if (!is_x) {
                lo = fmin(lo, axis_tr(a, s->y[0]));
                hi = fmax(hi, axis_tr(a, s->y[0]));
            }
            continue;
        }
        for (size_t j = 0; j < s->n; j++) {
            if (drawable(xlog, s->x[j]) && drawable(ylog, s->y[j])) {
                double t = axis_tr(a, is_x ? s->x[j] : s->y[j]);
                lo = fmin(lo, t);
                hi = fmax(hi, t);
            }
        }
    }
    bool auto_lo = isnan(fix[0]), auto_hi = isnan(fix[1]);
    if (!auto_lo) {
        lo = axis_tr(a, fix[0]);
    }
    if (!auto_hi) {
        hi = axis_tr(a, fix[1]);
    }
    if (lo > hi) { /* no data on an automatic end, or data entirely beyond a fixed bound */
        if (auto_lo && auto_hi) {
            lo = 0, hi = 1;
        } else if (auto_lo) {
            lo = hi - 1;
        } else {
            hi = lo + 1;
        }
        auto_lo = auto_hi = false;
    }
    a->lo = lo;
    a->hi = hi;
    range_pad(a, auto_lo, auto_hi);
}

/* ---- text --------------------------------------------------------------------------------- */

/* Draw text with its anchor at (x, y); ha/va in 0..1 select left/centre/right, top/middle/bottom
 * of the ink box. */
static void text_at(cairo_t *cr, double x, double y, const char *s, double ha, double va)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - e.x_bearing - ha * e.width, y - e.y_bearing - va * e.height);
    cairo_show_text(cr, s);
}

/* A decade label "10" with a superscript exponent, anchored like text_at(). */
static void decade_label(cairo_t *cr, double x, double y, int exp10, double ha, double va)
{
    char e[16];
    snprintf(e, sizeof(e), "%d", exp10);
    cairo_text_extents_t base, sup;
    cairo_text_extents(cr, "10", &base);
    cairo_save(cr);
    cairo_set_font_size(cr, FONT_TICK * 0.75);
    cairo_text_extents(cr, e, &sup);
    cairo_restore(cr);
    double rise = base.height * 0.45;
    double w = base.x_advance + sup.x_advance;
    double h = base.height + rise;
    double x0 = x - ha * w, ybase = y - va * h + h; /* baseline of "10" */
    cairo_move_to(cr, x0, ybase);
    cairo_show_text(cr, "10");
    cairo_save(cr);
    cairo_set_font_size(cr, FONT_TICK * 0.75);
    cairo_move_to(cr, x0 + base.x_advance, ybase - rise - base.height * 0.35);
    cairo_show_text(cr, e);
    cairo_restore(cr);
}

/* ---- ticks -------------------------------------------------------------------------------- */

typedef void (*tick_fn)(cairo_t *cr, const struct frame *f, bool is_x, double t, bool major,
                        bool log, void *ud);

/* Call fn for each tick of axis a: decades (every step-th, so at most ~10 labels) with minor
 * ticks at 2..9 when decades are few; 1-2-5 steps on linear axes. */
static void ticks_each(cairo_t *cr, const struct frame *f, bool is_x, tick_fn fn, void *ud)
{
    const struct axis *a = is_x ? &f->x : &f->y;
    double eps = (a->hi / 2 - a->lo / 2) * 2e-9;
    if (a->log) {
        double ndec = a->hi - a->lo;
        double step = fmax(1, ceil(ndec / 10));
        for (double d = ceil(a->lo / step) * step; d <= a->hi + eps; d += step) {
            fn(cr, f, is_x, d, true, true, ud);
        }
        if (step == 1 && ndec <= 12) {
            for (double d = floor(a->lo); d < a->hi; d++) {
                for (int m = 2; m <= 9; m++) {
                    double t = d + log10(m);
                    if (t >= a->lo - eps && t <= a->hi + eps) {
                        fn(cr, f, is_x, t, false, true, ud);
                    }
                }
            }
        }
        return;
    }
    double raw = (a->hi / 2 - a->lo / 2) / 3; /* span / 6 without overflow */
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    double step = (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
    double first = ceil(a->lo / step);
    for (int i = 0; i < 50; i++) {
        double t = (first + i) * step;
        if (t > a->hi + eps || !isfinite(t)) {
            break;
        }
        fn(cr, f, is_x, fabs(t) < step * 1e-9 ? 0 : t, true, false, ud);
    }
}

static void tick_grid(cairo_t *cr, const struct frame *f, bool is_x, double t, bool major,
                      bool log, void *ud)
{
    if (!major) {
        return;
    }
    if (is_x) {
        double x = axis_map_t(&f->x, t);
        cairo_move_to(cr, x, f->top);
        cairo_line_to(cr, x, f->bottom);
    } else {
        double y = axis_map_t(&f->y, t);
        cairo_move_to(cr, f->left, y);
        cairo_line_to(cr, f->right, y);
    }
}

static void tick_mark(cairo_t *cr, const struct frame *f, bool is_x, double t, bool major,
                      bool log, void *ud)
{
    double len = major ? 6 : 3;
    char buf[32];
    if (is_x) {
        double x = axis_map_t(&f->x, t);
        cairo_move_to(cr, x, f->bottom);
        cairo_line_to(cr, x, f->bottom + len);
        cairo_stroke(cr);
        if (major && log) {
            decade_label(cr, x, f->bottom + 9, (int)lround(t), 0.5, 0);
        } else if (major) {
            snprintf(buf, sizeof(buf), "%g", t);
            text_at(cr, x, f->bottom + 9, buf, 0.5, 0);
        }
    } else {
        double y = axis_map_t(&f->y, t);
        cairo_move_to(cr, f->left - len, y);
        cairo_line_to(cr, f->left, y);
        cairo_stroke(cr);
        if (major && log) {
            decade_label(cr, f->left - 9, y, (int)lround(t), 1, 0.5);
        } else if (major) {
            snprintf(buf, sizeof(buf), "%g", t);
            text_at(cr, f->left - 9, y, buf, 1, 0.5);
        }
    }
}

/* Width of a tick label as tick_mark() draws it (font state as set by the caller). */
static double tick_label_width(cairo_t *cr, double t, bool log)
{
    char buf[32];
    cairo_text_extents_t e, sup;
    if (!log) {
        snprintf(buf, sizeof(buf), "%g", t);
        cairo_text_extents(cr, buf, &e);
        return e.width;
    }
    snprintf(buf, sizeof(buf), "%d", (int)lround(t));
    cairo_text_extents(cr, "10", &e);
    cairo_save(cr);
    cairo_set_font_size(cr, FONT_TICK * 0.75);
    cairo_text_extents(cr, buf, &sup);
    cairo_restore(cr);
    return e.x_advance + sup.x_advance;
}

static void tick_measure(cairo_t *cr, const struct frame *f, bool is_x, double t, bool major,
                         bool log, void *ud)
{
    double *w = ud;
    if (major) {
        *w = fmax(*w, tick_label_width(cr, t, log));
    }
}

/* ---- series ------------------------------------------------------------------------------- */

/* Device coordinates of a point, bounded so that far-away points stay finite for clipping. */
static void map_point(const struct frame *f, double x, double y, double *dx, double *dy)
{
    *dx = fmax(-1e9, fmin(1e9, axis_map(&f->x, x)));
    *dy = fmax(-1e9, fmin(1e9, axis_map(&f->y, y)));
}

/* Liang-Barsky: clip segment a-b to the plot rectangle grown by m.  @return false if nothing
 * is left. */
static bool clip_segment(const struct frame *f, double m, double a[2], double b[2])
{
    double dx = b[0] - a[0], dy = b[1] - a[1];
    double pp[4] = {-dx, dx, -dy, dy};
    double qq[4] = {a[0] - (f->left - m), (f->right + m) - a[0], a[1] - (f->top - m),
                    (f->bottom + m) - a[1]};
    double u0 = 0, u1 = 1;
    for (int i = 0; i < 4; i++) {
        if (pp[i] == 0) {
            if (qq[i] < 0) {
                return false;
            }
            continue;
        }
        double r = qq[i] / pp[i];
        if (pp[i] < 0) {
            u0 = fmax(u0, r);
        } else {
            u1 = fmin(u1, r);
        }
        if (u0 > u1) {
            return false;
        }
    }
    double a0 = a[0], a1 = a[1];
    a[0] = a0 + u0 * dx, a[1] = a1 + u0 * dy;
    b[0] = a0 + u1 * dx, b[1] = a1 + u1 * dy;
    return true;
}

/* A polyline through the drawable points, broken at undrawable ones, clipped segment-wise. */
static void draw_line(cairo_t *cr, const struct frame *f, const struct series *s)
{
    double prev[2] = {0, 0};
    bool have_prev = false, pen = false;
    for (size_t j = 0; j < s->n; j++) {
        if (!drawable(f->x.log, s->x[j]) || !drawable(f->y.log, s->y[j])) {
            have_prev = pen = false;
            continue;
        }
        double cur[2];
        map_point(f, s->x[j], s->y[j], &cur[0], &cur[1]);
        double a[2] = {prev[0], prev[1]}, b[2] = {cur[0], cur[1]};
        if (have_prev && clip_segment(f, 2 * LINE_W, a, b)) {
            if (!pen || a[0] != prev[0] || a[1] != prev[1]) {
                cairo_move_to(cr, a[0], a[1]);
            }
            cairo_line_to(cr, b[0], b[1]);
            pen = b[0] == cur[0] && b[1] == cur[1];
        } else {
            pen = false;
        }
        prev[0] = cur[0], prev[1] = cur[1];
        have_prev = true;
    }
    cairo_stroke(cr);
}

static bool in_frame(const struct frame *f, double m, double x, double y)
{
    return x >= f->left - m && x <= f->right + m && y >= f->top - m && y <= f->bottom + m;
}

/* Markers are filled a few hundred at a time: one path of every bin's circle (a histogram of
 * 10^5 bins) made cairo hold ~10 MiB of path and polygon while the daemon exported
 * (heaptrack, bench/soak.sh); opaque fills look the same either way. */
#define MARKERS_PER_FILL 256

static void draw_points(cairo_t *cr, const struct frame *f, const struct series *s)
{
    size_t k = 0;
    for (size_t j = 0; j < s->n; j++) {
        double x, y;
        if (!drawable(f->x.log, s->x[j]) || !drawable(f->y.log, s->y[j])) {
            continue;
        }
        map_point(f, s->x[j], s->y[j], &x, &y);
        if (in_frame(f, MARKER_R, x, y)) {
            cairo_new_sub_path(cr);
            cairo_arc(cr, x, y, MARKER_R, 0, 2 * M_PI);
            if (++k % MARKERS_PER_FILL == 0) {
                cairo_fill(cr);
            }
        }
    }
    cairo_fill(cr);
}

/* Colour, width and dash of series i. */
static void series_pen(cairo_t *cr, const struct series *s, size_t i)
{
    const double *c = palette[i % NPALETTE];
    static const double dash[] = {6, 4};
    cairo_set_source_rgb(cr, c[0], c[1], c[2]);
    cairo_set_line_width(cr, LINE_W);
    cairo_set_dash(cr, dash, (s->style & FM_PLOT_DASHED) ? 2 : 0, 0);
}

static void draw_series(cairo_t *cr, const struct frame *f, const fm_plot_t *p)
{
    cairo_save(cr);
    cairo_rectangle(cr, f->left, f->top, f->right - f->left, f->bottom - f->top);
    cairo_clip(cr);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (size_t i = 0; i < p->ns; i++) {
        const struct series *s = &p->s[i];
        series_pen(cr, s, i);
        if (s->hline) {
            double y = axis_map(&f->y, s->y[0]);
            if (y >= f->top && y <= f->bottom) {
                cairo_move_to(cr, f->left, y);
                cairo_line_to(cr, f->right, y);
                cairo_stroke(cr);
            }
            continue;
        }
        if (s->style & FM_PLOT_LINE) {
            draw_line(cr, f, s);
        }
        if (s->style & FM_PLOT_POINTS) {
            draw_points(cr, f, s);
        }
    }
    cairo_restore(cr);
}

/* ---- legend ------------------------------------------------------------------------------- */

#define LEG_PAD 8.0
#define LEG_ROW 18.0
#define LEG_SAMPLE 30.0

/* Points of the chart inside a candidate legend box: the legend goes where it hides least. */
static size_t legend_cover(const struct frame *f, const fm_plot_t *p, double bx, double by,
                           double bw, double bh)
{
    size_t c = 0;
    for (size_t i = 0; i < p->ns; i++) {
        const struct series *s = &p->s[i];
        for (size_t j = 0; !s->hline && j < s->n; j++) {
            double x, y;
            if (drawable(f->x.log, s->x[j]) && drawable(f->y.log, s->y[j])) {
                map_point(f, s->x[j], s->y[j], &x, &y);
                c += x >= bx && x <= bx + bw && y >= by && y <= by + bh;
            }
        }
    }
    return c;
}

static void legend_entry(cairo_t *cr, const struct series *s, size_t i, double x, double yc,
                         double baseline)
{
    series_pen(cr, s, i);
    if (s->style & FM_PLOT_LINE) {
        cairo_move_to(cr, x, yc);
        cairo_line_to(cr, x + LEG_SAMPLE, yc);
        cairo_stroke(cr);
    }
    if (s->style & FM_PLOT_POINTS) {
        cairo_arc(cr, x + LEG_SAMPLE / 2, yc, MARKER_R + 0.5, 0, 2 * M_PI);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, x + LEG_SAMPLE + 6, baseline);
    cairo_show_text(cr, s->label);
}

static void draw_legend(cairo_t *cr, const struct frame *f, const fm_plot_t *p)
{
    size_t rows = 0;
    double tw = 0;
    cairo_set_font_size(cr, FONT_LEGEND);
    for (size_t i = 0; i < p->ns; i++) {
        if (p->s[i].label != NULL) {
            cairo_text_extents_t e;
            cairo_text_extents(cr, p->s[i].label, &e);
            tw = fmax(tw, e.x_advance);
            rows++;
        }
    }
    if (rows == 0) {
        return;
    }
    double bw = 2 * LEG_PAD + LEG_SAMPLE + 6 + tw, bh = 2 * LEG_PAD + rows * LEG_ROW - 4;
    /* Candidate corners in order of preference: top right, top left, bottom right, bottom left. */
    double cx[4] = {f->right - 10 - bw, f->left + 10, f->right - 10 - bw, f->left + 10};
    double cy[4] = {f->top + 10, f->top + 10, f->bottom - 10 - bh, f->bottom - 10 - bh};
    size_t best = 0, best_cover = SIZE_MAX;
    for (size_t k = 0; k < 4 && best_cover > 0; k++) {
        size_t c = legend_cover(f, p, cx[k], cy[k], bw, bh);
        if (c < best_cover) {
            best = k, best_cover = c;
        }
    }
    cairo_rectangle(cr, cx[best], cy[best], bw, bh);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 0.8);
    cairo_stroke(cr);
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    double yc = cy[best] + LEG_PAD + (LEG_ROW - 4) / 2;
    for (size_t i = 0; i < p->ns; i++) {
        if (p->s[i].label != NULL) {
            legend_entry(cr, &p->s[i], i, cx[best] + LEG_PAD, yc, yc + (fe.ascent - fe.descent) / 2);
            yc += LEG_ROW;
        }
    }
    cairo_set_dash(cr, NULL, 0, 0);
}

/* ---- page --------------------------------------------------------------------------------- */

/* Axis ranges, then margins: the left one fits the widest y tick label and the y axis label. */
static void frame_layout(cairo_t *cr, const fm_plot_t *p, struct frame *f)
{
    memset(f, 0, sizeof(*f));
    f->x.log = p->flags & FM_PLOT_LOGX;
    f->y.log = p->flags & FM_PLOT_LOGY;
    axis_fit(&f->x, p, true);
    axis_fit(&f->y, p, false);
    double wmax = 0;
    cairo_set_font_size(cr, FONT_TICK);
    ticks_each(cr, f, false, tick_measure, &wmax);
    /* Room for the y tick labels and axis label, and for half of the first and last x tick
     * label, which are centred on the frame's corners. */
    f->left = fmax(14 + wmax + (p->ylabel ? FONT_LABEL + 14 : 4), 45);
    f->right = p->width - 30;
    f->top = p->title ? 20 + FONT_TITLE * 1.5 : 20;
    f->bottom = p->height - (p->xlabel ? 30 + FONT_LABEL * 2 : 30);
    f->x.d0 = f->left, f->x.d1 = f->right;
    f->y.d0 = f->bottom, f->y.d1 = f->top;
}

static void draw_labels(cairo_t *cr, const fm_plot_t *p, const struct frame *f)
{
    double xmid = (f->left + f->right) / 2, ymid = (f->top + f->bottom) / 2;
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (p->title) {
        cairo_save(cr);
        cairo_select_font_face(cr, FONT_FAMILY, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        cairo_set_font_size(cr, FONT_TITLE);
        text_at(cr, xmid, f->top / 2, p->title, 0.5, 0.5);
        cairo_restore(cr);
    }
    cairo_set_font_size(cr, FONT_LABEL);
    if (p->xlabel) {
        text_at(cr, xmid, p->height - 12, p->xlabel, 0.5, 1);
    }
    if (p->ylabel) {
        cairo_save(cr);
        cairo_translate(cr, 12, ymid);
        cairo_rotate(cr, -M_PI / 2);
        text_at(cr, 0, 0, p->ylabel, 0.5, 0);
        cairo_restore(cr);
    }
}

static void render(const fm_plot_t *p, cairo_t *cr)
{
    struct frame f;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, FONT_FAMILY, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    frame_layout(cr, p, &f);
    /* Grid under everything. */
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_set_line_width(cr, 0.8);
    ticks_each(cr, &f, true, tick_grid, NULL);
    ticks_each(cr, &f, false, tick_grid, NULL);
    cairo_stroke(cr);
    draw_series(cr, &f, p);
    /* Frame, ticks and their labels. */
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, f.left, f.top, f.right - f.left, f.bottom - f.top);
    cairo_stroke(cr);
    cairo_set_font_size(cr, FONT_TICK);
    ticks_each(cr, &f, true, tick_mark, NULL);
    ticks_each(cr, &f, false, tick_mark, NULL);
    draw_labels(cr, p, &f);
    draw_legend(cr, &f, p);
}

/* ---- output ------------------------------------------------------------------------------- */

static int cairo_err(cairo_status_t st)
{
    switch (st) {
    case CAIRO_STATUS_SUCCESS:
        return 0;
    case CAIRO_STATUS_NO_MEMORY:
        return FM_ENOMEM;
    default:
        return FM_EIO;
    }
}

static int write_one(const fm_plot_t *p, const char *path, int fmt)
{
    const char *ext = fmt == FM_PLOT_SVG ? ".svg" : fmt == FM_PLOT_PDF ? ".pdf" : ".png";
    size_t len = strlen(path) + 5;
    char *file = fm_xmalloc(len);
    snprintf(file, len, "%s%s", path, ext);
    cairo_surface_t *s;
    if (fmt == FM_PLOT_SVG) {
        s = cairo_svg_surface_create(file, p->width, p->height);
    } else if (fmt == FM_PLOT_PDF) {
        s = cairo_pdf_surface_create(file, p->width, p->height);
    } else {
        s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, p->width, p->height);
    }
    cairo_status_t st = cairo_surface_status(s);
    if (st == CAIRO_STATUS_SUCCESS) {
        cairo_t *cr = cairo_create(s);
        render(p, cr);
        st = cairo_status(cr);
        cairo_destroy(cr);
    }
    if (st == CAIRO_STATUS_SUCCESS && fmt == FM_PLOT_PNG) {
        st = cairo_surface_write_to_png(s, file);
    } else if (st == CAIRO_STATUS_SUCCESS) {
        /* Vector surfaces write their file when finished; errors surface only here. */
        cairo_surface_finish(s);
        st = cairo_surface_status(s);
    }
    cairo_surface_destroy(s);
    free(file);
    return cairo_err(st);
}

int fm_plot_write(const fm_plot_t *p, const char *path, int formats)
{
    int all = FM_PLOT_SVG | FM_PLOT_PNG | FM_PLOT_PDF;
    if (p == NULL || path == NULL || formats == 0 || (formats & ~all)) {
        return FM_EINVAL;
    }
    static const int order[] = {FM_PLOT_SVG, FM_PLOT_PNG, FM_PLOT_PDF};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (formats & order[i]) {
            int rc = write_one(p, path, order[i]);
            if (rc < 0) {
                return rc;
            }
        }
    }
    return 0;
}

int fm_plot_parse_formats(const char *list)
{
    static const struct {
        const char *name;
        int flag;
    } names[] = {{"svg", FM_PLOT_SVG}, {"png", FM_PLOT_PNG}, {"pdf", FM_PLOT_PDF}};
    int mask = 0;

    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        int flag = 0;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (len == strlen(names[i].name) && strncmp(p, names[i].name, len) == 0) {
                flag = names[i].flag;
            }
        }
        if (!flag) {
            return FM_EINVAL;
        }
        mask |= flag;
        p += len + (p[len] == ',');
    }
    return mask ? mask : FM_EINVAL;
}

int fm_plot_out_prefix(const char *out, char **prefix)
{
    size_t len = out ? strlen(out) : 0;
    struct stat st;

    if (len == 0) {
        return FM_EINVAL;
    }
    if (out[len - 1] == '/') {
        int rc = fm_fs_mkdirs(out, 0755);
        if (rc < 0) {
            return rc;
        }
        *prefix = fm_xstrdup(out);
        return 0;
    }
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
        *prefix = fm_xmalloc(len + 2);
        snprintf(*prefix, len + 2, "%s/", out);
        return 0;
    }
    *prefix = fm_xstrdup(out);
    return 0;
}

void fm_plot_cleanup(void)
{
    /* cairo's font map holds fontconfig patterns; drop them before fontconfig's own caches. */
    cairo_debug_reset_static_data();
    FcFini();
}

/* ---- several charts on one canvas (flow-models plot --single) ------------------------------ */

static int write_grid_one(const fm_plot_t *const *charts, size_t n, int cols, const char *path,
                          int fmt)
{
    const char *ext = fmt == FM_PLOT_SVG ? ".svg" : fmt == FM_PLOT_PDF ? ".pdf" : ".png";
    int rows = (int)((n + (size_t)cols - 1) / (size_t)cols);
    int cw = charts[0]->width, ch = charts[0]->height, w = cw * cols, h = ch * rows;
    size_t len = strlen(path) + 5;
    char *file = fm_xmalloc(len);
    cairo_surface_t *s;

    snprintf(file, len, "%s%s", path, ext);
    s = fmt == FM_PLOT_SVG   ? cairo_svg_surface_create(file, w, h)
        : fmt == FM_PLOT_PDF ? cairo_pdf_surface_create(file, w, h)
                             : cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    cairo_status_t st = cairo_surface_status(s);
    if (st == CAIRO_STATUS_SUCCESS) {
        cairo_t *cr = cairo_create(s);
        for (size_t i = 0; i < n; i++) {
            cairo_save(cr);
            cairo_translate(cr, (double)((int)i % cols * cw), (double)((int)i / cols * ch));
            cairo_rectangle(cr, 0, 0, cw, ch);
            cairo_clip(cr);
            render(charts[i], cr);
            cairo_restore(cr);
        }
        st = cairo_status(cr);
        cairo_destroy(cr);
    }
    if (st == CAIRO_STATUS_SUCCESS && fmt == FM_PLOT_PNG) {
        st = cairo_surface_write_to_png(s, file);
    } else if (st == CAIRO_STATUS_SUCCESS) {
        cairo_surface_finish(s);
        st = cairo_surface_status(s);
    }
    cairo_surface_destroy(s);
    free(file);
    return cairo_err(st);
}

int fm_plot_write_grid(const fm_plot_t *const *charts, size_t n, int cols, const char *path,
                       int formats)
{
    int all = FM_PLOT_SVG | FM_PLOT_PNG | FM_PLOT_PDF;
    if (!charts || n == 0 || cols < 1 || !path || formats == 0 || (formats & ~all)) {
        return FM_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!charts[i] || charts[i]->width != charts[0]->width ||
            charts[i]->height != charts[0]->height) {
            return FM_EINVAL;
        }
    }
    static const int order[] = {FM_PLOT_SVG, FM_PLOT_PNG, FM_PLOT_PDF};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (formats & order[i]) {
            int rc = write_grid_one(charts, n, cols, path, order[i]);
            if (rc < 0) {
                return rc;
            }
        }
    }
    return 0;
}

double fm_plot_si_unit(double max, const char *unit, char *label, size_t len)
{
    static const char *const prefix[] = {"", "k", "M", "G", "T"};
    double div = 1.0;
    int p = 0;
    while (p < 4 && isfinite(max) && max / div >= 1000.0) {
        div *= 1000.0;
        p++;
    }
    snprintf(label, len, "%s%s", prefix[p], unit);
    return div;
}
