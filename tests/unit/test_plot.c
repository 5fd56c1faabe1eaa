/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the chart renderer: files of each format are written and well-formed, points
 * land where the axis mapping puts them (read back from the PNG with cairo), lines break at
 * undrawable values, and NaN/inf/<=0 values, empty series, huge ranges and invalid UTF-8
 * labels neither crash nor fail.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairo.h>
#include <cmocka.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "export_int.h"
#include "plot.h"
#include "util/err.h"

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "%s/fm-test-plot.XXXXXX", "/tmp");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    char cmd[128];
    if (getenv("FM_KEEP") != NULL) {
        fprintf(stderr, "kept %s\n", dir);
        return 0;
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *path_in_dir(const char *name, const char *ext)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), "%s/%s%s", dir, name, ext);
    return buf;
}

/* Whole file into a NUL-terminated buffer; *len receives its size. */
static char *slurp(const char *file, size_t *len)
{
    FILE *f = fopen(file, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_true(n > 0);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void check_png(const char *file, uint32_t w, uint32_t h)
{
    size_t n;
    unsigned char *b = (unsigned char *)slurp(file, &n);
    assert_true(n > 33);
    assert_memory_equal(b, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(b + 12, "IHDR", 4);
    uint32_t pw = (uint32_t)b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19];
    uint32_t ph = (uint32_t)b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23];
    assert_int_equal(pw, w);
    assert_int_equal(ph, h);
    free(b);
}

static void check_svg(const char *file)
{
    size_t n;
    char *b = slurp(file, &n);
    assert_true(strncmp(b, "<?xml", 5) == 0);
    assert_non_null(strstr(b, "<svg"));
    while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == ' ')) {
        b[--n] = 0;
    }
    assert_true(n > 6 && strcmp(b + n - 6, "</svg>") == 0);
    free(b);
}

static void check_pdf(const char *file)
{
    size_t n;
    char *b = slurp(file, &n);
    assert_true(strncmp(b, "%PDF-", 5) == 0);
    assert_non_null(strstr(b + (n > 64 ? n - 64 : 0), "%%EOF"));
    free(b);
}

/* A log-log chart of a power law (points) and its model (line), written in all formats. */
static void test_formats(void **state)
{
    double x[64], y[64];
    for (int i = 0; i < 64; i++) {
        x[i] = pow(10, i / 8.0);
        y[i] = 0.5 * pow(x[i], -1.5);
    }
    fm_plot_t *p = fm_plot_new("pdf of flows", "flow length [packets]", "probability",
                               FM_PLOT_LOGX | FM_PLOT_LOGY);
    assert_non_null(p);
    assert_int_equal(fm_plot_add_series(p, "data", x, y, 64, FM_PLOT_POINTS), 64);
    assert_int_equal(fm_plot_add_series(p, "mixture", x, y, 64, FM_PLOT_LINE), 64);
    assert_int_equal(fm_plot_add_series(p, "component", x, y, 32, FM_PLOT_LINE | FM_PLOT_DASHED),
                     32);
    assert_int_equal(fm_plot_set_size(p, 640, 480), 0);
    const char *base = path_in_dir("formats", "");
    char b[256];
    snprintf(b, sizeof(b), "%s", base);
    assert_int_equal(fm_plot_write(p, b, FM_PLOT_SVG | FM_PLOT_PNG | FM_PLOT_PDF), 0);
    check_png(path_in_dir("formats", ".png"), 640, 480);
    check_svg(path_in_dir("formats", ".svg"));
    check_pdf(path_in_dir("formats", ".pdf"));
    if (access("/usr/bin/xmllint", X_OK) == 0) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "/usr/bin/xmllint --noout '%s'", path_in_dir("formats", ".svg"));
        assert_int_equal(system(cmd), 0);
    }
    fm_plot_free(p);
}

/* Is pixel px (opaque ARGB) the colour rgb drawn over white with at least 40 % coverage?
 * Antialiasing blends edges with the background, so compare against that blend. */
static bool is_colour(uint32_t px, uint32_t rgb)
{
    int c[3] = {(int)(px >> 16) & 0xff, (int)(px >> 8) & 0xff, (int)px & 0xff};
    int t[3] = {(int)(rgb >> 16) & 0xff, (int)(rgb >> 8) & 0xff, (int)rgb & 0xff};
    int k = 0;
    for (int i = 1; i < 3; i++) {
        k = t[i] < t[k] ? i : k; /* the channel that differs most from white */
    }
    double a = (255.0 - c[k]) / (255.0 - t[k]);
    if ((px >> 24) != 0xff || a < 0.4 || a > 1.02) {
        return false;
    }
    for (int i = 0; i < 3; i++) {
        if (fabs(c[i] - (a * t[i] + (1 - a) * 255)) > 8) {
            return false;
        }
    }
    return true;
}

/* Pixel columns (x) of the image holding colour rgb (0xRRGGBB), as a 0/1 map of width w. */
static unsigned char *colour_columns(const char *png, uint32_t rgb, int *w, int *count)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(png);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    cairo_surface_flush(s);
    *w = cairo_image_surface_get_width(s);
    int h = cairo_image_surface_get_height(s), stride = cairo_image_surface_get_stride(s);
    const unsigned char *d = cairo_image_surface_get_data(s);
    unsigned char *cols = calloc((size_t)*w, 1);
    assert_non_null(cols);
    *count = 0;
    for (int yy = 0; yy < h; yy++) {
        const uint32_t *row = (const uint32_t *)(d + (size_t)yy * stride);
        for (int xx = 0; xx < *w; xx++) {
            if (is_colour(row[xx], rgb)) {
                cols[xx] = 1;
                (*count)++;
            }
        }
    }
    cairo_surface_destroy(s);
    return cols;
}

#define BLUE 0x1f77b4   /* first series (tab10) */
#define ORANGE 0xff7f0e /* second series */

/* Centres of the runs of set columns, e.g. one per marker; @return how many (at most max). */
static int run_centres(const unsigned char *cols, int w, double *out, int max)
{
    int n = 0;
    for (int i = 0; i < w; i++) {
        if (cols[i] && (i == 0 || !cols[i - 1])) {
            int e = i;
            while (e + 1 < w && cols[e + 1]) {
                e++;
            }
            if (n < max) {
                out[n] = (i + e) / 2.0;
            }
            n++;
        }
    }
    return n;
}

/* Points land where a log10 x axis puts them: with the first and last marker as reference, the
 * centres of the others are predicted from log10(x) to within a pixel.  Orange is right of blue. */
static void test_mapping(void **state)
{
    fm_plot_t *p = fm_plot_new(NULL, NULL, NULL, FM_PLOT_LOGX);
    double xa[] = {10, 20, 50, 100}, xb[] = {1000, 3000, 9000}, y[] = {1, 2, 3, 4};
    assert_int_equal(fm_plot_add_series(p, NULL, xa, y, 4, FM_PLOT_POINTS), 4);
    assert_int_equal(fm_plot_add_series(p, NULL, xb, y, 3, FM_PLOT_POINTS), 3);
    assert_int_equal(fm_plot_set_xrange(p, 1, 1e4), 0);
    assert_int_equal(fm_plot_set_yrange(p, 0, 5), 0);
    assert_int_equal(fm_plot_write(p, path_in_dir("mapping", ""), FM_PLOT_PNG), 0);
    int w, nb, no;
    unsigned char *cb = colour_columns(path_in_dir("mapping", ".png"), BLUE, &w, &nb);
    unsigned char *co = colour_columns(path_in_dir("mapping", ".png"), ORANGE, &w, &no);
    assert_true(nb > 20 && no > 15);
    double c[8];
    assert_int_equal(run_centres(cb, w, c, 4), 4);
    assert_int_equal(run_centres(co, w, c + 4, 3), 3);
    double lx[7];
    for (int i = 0; i < 7; i++) {
        lx[i] = log10(i < 4 ? xa[i] : xb[i - 4]);
    }
    double scale = (c[6] - c[0]) / (lx[6] - lx[0]);
    assert_true(scale > 100); /* 4 decades across most of an 800 px wide chart */
    for (int i = 1; i < 6; i++) {
        assert_float_equal(c[i], c[0] + scale * (lx[i] - lx[0]), 1.0);
    }
    free(cb);
    free(co);
    fm_plot_free(p);
}

/* A NaN in a line series breaks it: between x=2 and x=8 (of 0..10) no blue column is drawn. */
static void test_line_break(void **state)
{
    fm_plot_t *p = fm_plot_new(NULL, NULL, NULL, 0);
    double x[] = {1, 2, NAN, 8, 9}, y[] = {5, 5, 5, 5, 5};
    assert_int_equal(fm_plot_add_series(p, NULL, x, y, 5, FM_PLOT_LINE), 4);
    assert_int_equal(fm_plot_set_xrange(p, 0, 10), 0);
    assert_int_equal(fm_plot_write(p, path_in_dir("break", ""), FM_PLOT_PNG), 0);
    int w, n;
    unsigned char *c = colour_columns(path_in_dir("break", ".png"), BLUE, &w, &n);
    assert_true(n > 0);
    /* The longest run of empty columns between the first and last blue column spans the gap:
     * 6 of the 10 data units, so more than a third of the image width minus margins. */
    int first = -1, last = -1, gap = 0, run = 0;
    for (int i = 0; i < w; i++) {
        if (c[i]) {
            first = first < 0 ? i : first;
            last = i;
        }
    }
    for (int i = first; i <= last; i++) {
        run = c[i] ? 0 : run + 1;
        gap = run > gap ? run : gap;
    }
    assert_true(gap > (last - first) / 2);
    free(c);

    /* Without the NaN the line is continuous. */
    fm_plot_t *q = fm_plot_new(NULL, NULL, NULL, 0);
    x[2] = 5;
    assert_int_equal(fm_plot_add_series(q, NULL, x, y, 5, FM_PLOT_LINE), 5);
    assert_int_equal(fm_plot_write(q, path_in_dir("nobreak", ""), FM_PLOT_PNG), 0);
    c = colour_columns(path_in_dir("nobreak", ".png"), BLUE, &w, &n);
    first = -1;
    for (int i = 0; i < w; i++) {
        if (c[i]) {
            first = first < 0 ? i : first;
            last = i;
        }
    }
    for (int i = first; i <= last; i++) {
        assert_true(c[i]);
    }
    free(c);
    fm_plot_free(q);
    fm_plot_free(p);
}

/* NaN, infinities, zero and negative values are skipped on log axes (counted independently). */
static void test_nonfinite(void **state)
{
    double x[] = {NAN, INFINITY, -INFINITY, 0, -1, 1, 10, 100, 1e3, DBL_MIN, 4.9e-324};
    double y[] = {1, 1, 1, 1, 1, 0.5, -2, NAN, 1e-300, 1, 1};
    size_t n = sizeof(x) / sizeof(x[0]);
    fm_plot_t *p = fm_plot_new("nonfinite", "x", "y", FM_PLOT_LOGX | FM_PLOT_LOGY);
    int expect = 0;
    for (size_t i = 0; i < n; i++) {
        expect += isfinite(x[i]) && x[i] > 0 && isfinite(y[i]) && y[i] > 0;
    }
    assert_int_equal(expect, 4);
    assert_int_equal(fm_plot_add_series(p, "a", x, y, n, FM_PLOT_POINTS | FM_PLOT_LINE), expect);
    assert_int_equal(fm_plot_add_hline(p, "h", 0.25), 0);
    assert_int_equal(fm_plot_add_hline(p, "bad", 0), FM_EINVAL);
    assert_int_equal(fm_plot_add_hline(p, "bad", NAN), FM_EINVAL);
    assert_int_equal(fm_plot_write(p, path_in_dir("nonfinite", ""), FM_PLOT_SVG | FM_PLOT_PNG), 0);
    check_svg(path_in_dir("nonfinite", ".svg"));
    fm_plot_free(p);

    /* The same data on linear axes keeps every finite point. */
    p = fm_plot_new(NULL, NULL, NULL, 0);
    expect = 0;
    for (size_t i = 0; i < n; i++) {
        expect += isfinite(x[i]) && isfinite(y[i]);
    }
    assert_int_equal(fm_plot_add_series(p, NULL, x, y, n, FM_PLOT_LINE), expect);
    assert_int_equal(fm_plot_write(p, path_in_dir("nonfinite-lin", ""), FM_PLOT_PNG), 0);
    fm_plot_free(p);
}

/* Charts with no series, empty series, all-undrawable series and a single point. */
static void test_empty(void **state)
{
    static const int flags[] = {0, FM_PLOT_LOGX, FM_PLOT_LOGY, FM_PLOT_LOGX | FM_PLOT_LOGY};
    double nan1 = NAN, one = 1;
    for (size_t i = 0; i < 4; i++) {
        fm_plot_t *p = fm_plot_new("empty", "x", "y", flags[i]);
        assert_int_equal(fm_plot_write(p, path_in_dir("none", ""), FM_PLOT_PNG | FM_PLOT_SVG), 0);
        assert_int_equal(fm_plot_add_series(p, "empty", NULL, NULL, 0, FM_PLOT_LINE), 0);
        assert_int_equal(fm_plot_add_series(p, "nan", &nan1, &nan1, 1, FM_PLOT_POINTS), 0);
        assert_int_equal(fm_plot_write(p, path_in_dir("empty", ""), FM_PLOT_PNG | FM_PLOT_SVG), 0);
        assert_int_equal(fm_plot_add_series(p, "one", &one, &one, 1, FM_PLOT_POINTS), 1);
        assert_int_equal(fm_plot_write(p, path_in_dir("one", ""), FM_PLOT_PNG), 0);
        check_png(path_in_dir("one", ".png"), FM_PLOT_DEFAULT_WIDTH, FM_PLOT_DEFAULT_HEIGHT);
        fm_plot_free(p);
    }
}

/* Ranges of hundreds of decades (log) and the whole double range (linear). */
static void test_huge_ranges(void **state)
{
    double x[] = {4.9e-324, 1e-300, 1, 1e300, DBL_MAX}, y[] = {DBL_MAX, 1e100, 1, 1e-100, 1e-320};
    fm_plot_t *p = fm_plot_new("huge", "x", "y", FM_PLOT_LOGX | FM_PLOT_LOGY);
    assert_int_equal(fm_plot_add_series(p, "a", x, y, 5, FM_PLOT_LINE | FM_PLOT_POINTS), 5);
    assert_int_equal(fm_plot_write(p, path_in_dir("huge-log", ""), FM_PLOT_PNG | FM_PLOT_SVG), 0);
    fm_plot_free(p);

    double lx[] = {-DBL_MAX, 0, DBL_MAX}, ly[] = {DBL_MAX, -DBL_MAX, 1e-300};
    p = fm_plot_new("huge", "x", "y", 0);
    assert_int_equal(fm_plot_add_series(p, "a", lx, ly, 3, FM_PLOT_LINE | FM_PLOT_POINTS), 3);
    assert_int_equal(fm_plot_write(p, path_in_dir("huge-lin", ""), FM_PLOT_PNG | FM_PLOT_SVG), 0);
    fm_plot_free(p);

    /* A narrow fixed range with points far outside it: segments are clipped, not overflowed. */
    p = fm_plot_new("narrow", "x", "y", 0);
    double nx[] = {-1e300, 1, 1e300}, ny[] = {1e300, 1, -1e300};
    assert_int_equal(fm_plot_add_series(p, "a", nx, ny, 3, FM_PLOT_LINE), 3);
    assert_int_equal(fm_plot_set_xrange(p, 1, 1 + 1e-12), 0);
    assert_int_equal(fm_plot_set_yrange(p, 0.5, 1.5), 0);
    assert_int_equal(fm_plot_write(p, path_in_dir("narrow", ""), FM_PLOT_PNG | FM_PLOT_PDF), 0);
    fm_plot_free(p);
}

/* Invalid UTF-8 in labels would put cairo into an error state; it is replaced instead. */
static void test_bad_utf8(void **state)
{
    fm_plot_t *p = fm_plot_new("bad \xff\xfe title", "x \xc3", "\xed\xa0\x80 y", 0);
    double v[] = {1, 2};
    assert_int_equal(fm_plot_add_series(p, "caf\xc3\xa9 \x80", v, v, 2, FM_PLOT_LINE), 2);
    assert_int_equal(fm_plot_write(p, path_in_dir("utf8", ""), FM_PLOT_SVG | FM_PLOT_PNG), 0);
    check_svg(path_in_dir("utf8", ".svg"));
    fm_plot_free(p);
}

static void test_invalid(void **state)
{
    double v[] = {1, 2};
    assert_null(fm_plot_new("t", NULL, NULL, 8));
    fm_plot_t *p = fm_plot_new(NULL, NULL, NULL, FM_PLOT_LOGY);
    assert_int_equal(fm_plot_add_series(p, NULL, v, v, 2, 0), FM_EINVAL);
    assert_int_equal(fm_plot_add_series(p, NULL, v, v, 2, FM_PLOT_DASHED), FM_EINVAL);
    assert_int_equal(fm_plot_add_series(p, NULL, v, v, 2, 64 | FM_PLOT_LINE), FM_EINVAL);
    assert_int_equal(fm_plot_add_series(p, NULL, NULL, v, 2, FM_PLOT_LINE), FM_EINVAL);
    assert_int_equal(fm_plot_add_series(NULL, NULL, v, v, 2, FM_PLOT_LINE), FM_EINVAL);
    assert_int_equal(fm_plot_set_xrange(p, 2, 1), FM_EINVAL);
    assert_int_equal(fm_plot_set_xrange(p, 1, 1), FM_EINVAL);
    assert_int_equal(fm_plot_set_xrange(p, -INFINITY, 1), FM_EINVAL);
    assert_int_equal(fm_plot_set_xrange(p, -1, 1), 0); /* linear x */
    assert_int_equal(fm_plot_set_yrange(p, 0, 1), FM_EINVAL); /* log y */
    assert_int_equal(fm_plot_set_yrange(p, NAN, 10), 0);
    assert_int_equal(fm_plot_set_size(p, 100, 600), FM_EINVAL);
    assert_int_equal(fm_plot_set_size(p, 600, 9000), FM_EINVAL);
    assert_int_equal(fm_plot_write(p, path_in_dir("x", ""), 0), FM_EINVAL);
    assert_int_equal(fm_plot_write(p, path_in_dir("x", ""), 16), FM_EINVAL);
    assert_int_equal(fm_plot_write(p, NULL, FM_PLOT_PNG), FM_EINVAL);
    /* Unwritable destinations report FM_EIO for every format. */
    assert_int_equal(fm_plot_write(p, "/nonexistent-dir/x", FM_PLOT_SVG), FM_EIO);
    assert_int_equal(fm_plot_write(p, "/nonexistent-dir/x", FM_PLOT_PNG), FM_EIO);
    assert_int_equal(fm_plot_write(p, "/nonexistent-dir/x", FM_PLOT_PDF), FM_EIO);
    fm_plot_free(p);
    fm_plot_free(NULL);
}

static void test_cli_helpers(void **state)
{
    char *pre = NULL, sub[128];
    assert_int_equal(fm_plot_parse_formats("png"), FM_PLOT_PNG);
    assert_int_equal(fm_plot_parse_formats("svg,pdf"), FM_PLOT_SVG | FM_PLOT_PDF);
    assert_int_equal(fm_plot_parse_formats("pdf,png,svg,png"),
                     FM_PLOT_SVG | FM_PLOT_PNG | FM_PLOT_PDF);
    assert_int_equal(fm_plot_parse_formats(""), FM_EINVAL);
    assert_int_equal(fm_plot_parse_formats("png,,svg"), FM_EINVAL);
    assert_int_equal(fm_plot_parse_formats("pngx"), FM_EINVAL);
    assert_int_equal(fm_plot_parse_formats("PNG"), FM_EINVAL);
    assert_int_equal(fm_plot_parse_formats(NULL), FM_EINVAL);

    /* An existing directory gets a slash; a path ending in one is created; else a prefix. */
    assert_int_equal(fm_plot_out_prefix(dir, &pre), 0);
    snprintf(sub, sizeof(sub), "%s/", dir);
    assert_string_equal(pre, sub);
    free(pre);
    snprintf(sub, sizeof(sub), "%s/a/b/", dir);
    assert_int_equal(fm_plot_out_prefix(sub, &pre), 0);
    assert_string_equal(pre, sub);
    assert_int_equal(access(sub, W_OK), 0);
    free(pre);
    snprintf(sub, sizeof(sub), "%s/len-", dir);
    assert_int_equal(fm_plot_out_prefix(sub, &pre), 0);
    assert_string_equal(pre, sub);
    assert_int_not_equal(access(sub, F_OK), 0);
    free(pre);
    assert_int_equal(fm_plot_out_prefix("", &pre), FM_EINVAL);
}

/* The duration chart says how many flows last 0 ms (one packet), which the log axis hides. */
static void test_duration_title(void **state)
{
    char t[256];
    fm_hist_bin_t bins[] = {{0, 1, 60, 60, 600}, {1, 2, 30, 60, 900}, {100, 128, 10, 90, 9000}};
    fm__export_plot_title(t, sizeof(t), FM_CLASS_TCP, FM_METRIC_DURATION, bins, 3);
    assert_string_equal(t, "tcp flows: duration (60 of 100 flows, 60.0%, last 0 ms: not on the "
                           "log axis)");
    fm__export_plot_title(t, sizeof(t), FM_CLASS_ALL, FM_METRIC_DURATION, bins + 1, 2);
    assert_string_equal(t, "all flows: duration");
    fm__export_plot_title(t, sizeof(t), FM_CLASS_UDP, FM_METRIC_LENGTH, bins, 3);
    assert_string_equal(t, "udp flows: length");
}

/* Axes in SI units (the profile's bits chart read 3e+07). */
static void test_si_unit(void **state)
{
    char l[32];
    assert_true(fm_plot_si_unit(3e7, "bit/s", l, sizeof(l)) == 1e6);
    assert_string_equal(l, "Mbit/s");
    assert_true(fm_plot_si_unit(999, "bit/s", l, sizeof(l)) == 1.0);
    assert_string_equal(l, "bit/s");
    assert_true(fm_plot_si_unit(2.5e9, "bit/s", l, sizeof(l)) == 1e9);
    assert_string_equal(l, "Gbit/s");
    assert_true(fm_plot_si_unit(1e20, "bit/s", l, sizeof(l)) == 1e12);
    assert_string_equal(l, "Tbit/s");
    assert_true(fm_plot_si_unit(0, "bit/s", l, sizeof(l)) == 1.0);
}

/* Peak resident growth while drawing (kB): VmHWM after resetting it (clear_refs 5, Linux). */
static long hwm_kb(void)
{
    char line[128];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "VmHWM:", 6)) {
            kb = strtol(line + 6, NULL, 10);
        }
    }
    if (f) {
        fclose(f);
    }
    return kb;
}

static bool reset_hwm(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    bool ok = f && fputs("5", f) >= 0;
    return f && fclose(f) == 0 && ok;
}

/* Markers of a 10^5-bin histogram are drawn without holding them all in one cairo path: that
 * path took ~10 MiB while the daemon exported every minute (bench/soak.sh, heaptrack).  The
 * peak resident growth of drawing them stays under 6 MiB (sanitizer builds: not measured). */
static void test_many_points_memory(void **state)
{
    enum { N = 100000 };
    (void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    skip(); /* the sanitizers' allocators make resident memory meaningless; before allocating,
             * since skip() leaves the function (LeakSanitizer would count what it held) */
#endif
    double *x = malloc(N * sizeof(double)), *y = malloc(N * sizeof(double));
    assert_non_null(x);
    assert_non_null(y);
    for (size_t i = 0; i < N; i++) {
        x[i] = 1 + (double)i;
        y[i] = 1.0 / (1 + (double)(i % 977));
    }
    fm_plot_t *p = fm_plot_new("many", "x", "y", FM_PLOT_LOGX | FM_PLOT_LOGY);
    assert_int_equal(fm_plot_add_series(p, "data", x, y, 4, FM_PLOT_POINTS), 4);
    /* a small plot first loads fonts and caches; what it freed goes back to the system */
    assert_int_equal(fm_plot_write(p, path_in_dir("many", ""), FM_PLOT_PNG), 0);
    fm_plot_free(p);
    p = fm_plot_new("many", "x", "y", FM_PLOT_LOGX | FM_PLOT_LOGY);
    assert_int_equal(fm_plot_add_series(p, "data", x, y, N, FM_PLOT_POINTS), N);
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    if (!reset_hwm()) {
        fm_plot_free(p);
        free(x);
        free(y);
        skip();
    }
    long before = hwm_kb();
    assert_int_equal(fm_plot_write(p, path_in_dir("many", ""), FM_PLOT_PNG), 0);
    long grew = hwm_kb() - before;
    fprintf(stderr, "drawing %d markers: peak RSS +%ld kB\n", N, grew);
    assert_true(grew < 6 * 1024);
    fm_plot_free(p);
    free(x);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),     cmocka_unit_test(test_mapping),
        cmocka_unit_test(test_line_break),  cmocka_unit_test(test_nonfinite),
        cmocka_unit_test(test_empty),       cmocka_unit_test(test_huge_ranges),
        cmocka_unit_test(test_bad_utf8),    cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_cli_helpers), cmocka_unit_test(test_duration_title),
        cmocka_unit_test(test_si_unit),
        cmocka_unit_test_setup_teardown(test_many_points_memory, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    fm_plot_cleanup();
    return rc;
}
