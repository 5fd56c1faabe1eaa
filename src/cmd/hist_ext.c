/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flow-models hist's rate axis and additional columns (hist_ext.h).  Bins live in an open-
 * addressing table keyed by bin_lo (for rate the bits of the double, which order like the
 * value since rates are never negative) and are sorted once at the end.  As flow-models: rate
 * sums are doubles added in reading order, every value is printed as its truncation, and with
 * -b 0 a rate bin is [x, x + 1) keyed by the exact double, so two rows may print alike.
 */
#include "config.h"

#include "cmd/hist_ext.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "util/err.h"

typedef struct {
    uint64_t key;       /* bin_lo, or the bits of the double bin_lo for rate */
    double dlo, dhi;    /* rate bins */
    uint64_t lo, hi;    /* integer bins */
    uint64_t flows, packets, octets, duration, aggs;
    double rate;
    bool used;
} xbin_t;

struct fm_xhist {
    unsigned bexp;
    bool rate_x;
    int ncols;
    fm_xcol_t cols[FM_XHIST_MAX_COLS];
    xbin_t *bins;
    size_t cap, n;
};

static const char *const col_names[] = {"duration", "rate", "aggs"};

int fm_xcol_parse(const char *name)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, col_names[i]) == 0) {
            return i;
        }
    }
    return FM_EINVAL;
}

int fm_xhist_new(unsigned bin_exp, bool rate_x, const fm_xcol_t *cols, int ncols,
                 fm_xhist_t **out)
{
    fm_xhist_t *h = calloc(1, sizeof(*h));

    if (!h || ncols > FM_XHIST_MAX_COLS || !(h->bins = calloc(1024, sizeof(xbin_t)))) {
        free(h);
        return FM_ENOMEM;
    }
    h->cap = 1024;
    h->bexp = bin_exp;
    h->rate_x = rate_x;
    h->ncols = ncols;
    memcpy(h->cols, cols, (size_t)ncols * sizeof(*cols));
    *out = h;
    return 0;
}

void fm_xhist_free(fm_xhist_t *h)
{
    if (h) {
        free(h->bins);
        free(h);
    }
}

static size_t slot_of(uint64_t key, size_t cap)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

static xbin_t *lookup(xbin_t *bins, size_t cap, uint64_t key)
{
    size_t i = slot_of(key, cap);
    while (bins[i].used && bins[i].key != key) {
        i = (i + 1) & (cap - 1);
    }
    return &bins[i];
}

static int grow(fm_xhist_t *h)
{
    size_t cap = h->cap * 2;
    xbin_t *nb = calloc(cap, sizeof(*nb));

    if (!nb) {
        return FM_ENOMEM;
    }
    for (size_t i = 0; i < h->cap; i++) {
        if (h->bins[i].used) {
            *lookup(nb, cap, h->bins[i].key) = h->bins[i];
        }
    }
    free(h->bins);
    h->bins = nb;
    h->cap = cap;
    return 0;
}

/* flow-models bin_calc_log / bin_calc_one on a double x (rate). */
static void rate_bin(double x, unsigned b, double *lo, double *hi)
{
    if (b == 0) {
        *lo = x;
        *hi = x + 1.0;
        return;
    }
    int bits = 0; /* int(x).bit_length() */
    if (trunc(x) >= 1.0) {
        frexp(trunc(x), &bits);
    }
    double w = bits > (int)b ? ldexp(1.0, bits - (int)b) : 1.0;
    *lo = floor(x / w) * w;
    *hi = *lo + w;
}

int fm_xhist_add(fm_xhist_t *h, uint64_t x, uint64_t packets, uint64_t octets,
                 uint64_t duration_ms, uint64_t aggs)
{
    double rate = duration_ms ? (double)((long double)octets * 8000.0L / (long double)duration_ms)
                              : 0.0;
    double dlo = 0, dhi = 0;
    uint64_t lo = 0, hi = 0, key;

    if (h->rate_x) {
        rate_bin(rate, h->bexp, &dlo, &dhi);
        dlo += 0.0; /* -0.0 → 0.0, one key */
        memcpy(&key, &dlo, sizeof(key));
    } else {
        fm_hist_bin_of(x, h->bexp, &lo, &hi);
        key = lo;
    }
    if (2 * (h->n + 1) > h->cap && grow(h) < 0) {
        return FM_ENOMEM;
    }
    xbin_t *b = lookup(h->bins, h->cap, key);
    if (!b->used) {
        *b = (xbin_t){.key = key, .dlo = dlo, .dhi = dhi, .lo = lo, .hi = hi, .used = true};
        h->n++;
    }
    b->flows++;
    b->packets += packets;
    b->octets += octets;
    b->duration += duration_ms;
    b->rate += rate;
    b->aggs += aggs;
    return 0;
}

static int by_key(const void *a, const void *b)
{
    uint64_t x = ((const xbin_t *)a)->key, y = ((const xbin_t *)b)->key;
    return x < y ? -1 : x > y;
}

/* Python's str(int(v)) of a non-negative double. */
static void put_trunc(FILE *out, double v)
{
    fprintf(out, "%.0f", trunc(v));
}

int fm_xhist_write_csv(const fm_xhist_t *h, FILE *out)
{
    xbin_t *rows = malloc((h->n ? h->n : 1) * sizeof(*rows));
    size_t n = 0;

    if (!rows) {
        return FM_ENOMEM;
    }
    for (size_t i = 0; i < h->cap; i++) {
        if (h->bins[i].used) {
            rows[n++] = h->bins[i];
        }
    }
    qsort(rows, n, sizeof(*rows), by_key);
    fputs("bin_lo,bin_hi,flows_sum,packets_sum,octets_sum", out);
    for (int c = 0; c < h->ncols; c++) {
        fprintf(out, ",%s_sum", col_names[h->cols[c]]);
    }
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        const xbin_t *b = &rows[i];
        if (h->rate_x) {
            put_trunc(out, b->dlo);
            fputc(',', out);
            put_trunc(out, b->dhi);
        } else {
            fprintf(out, "%llu,%llu", (unsigned long long)b->lo, (unsigned long long)b->hi);
        }
        fprintf(out, ",%llu,%llu,%llu", (unsigned long long)b->flows,
                (unsigned long long)b->packets, (unsigned long long)b->octets);
        for (int c = 0; c < h->ncols; c++) {
            switch (h->cols[c]) {
            case FM_XCOL_DURATION: fprintf(out, ",%llu", (unsigned long long)b->duration); break;
            case FM_XCOL_RATE: fputc(',', out), put_trunc(out, b->rate); break;
            case FM_XCOL_AGGS: fprintf(out, ",%llu", (unsigned long long)b->aggs); break;
            }
        }
        fputc('\n', out);
    }
    free(rows);
    return ferror(out) ? FM_EIO : 0;
}
