/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The checks both histogram delta codecs share (histdelta.c's binary one, histdelta_json.c's
 * JSON one): collector ids, the histogram index, the decoder's error sink and the per-bin
 * checks of a decoded histogram.  Below both codecs; calls neither.
 */
#include "config.h"

#include "histdelta_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

int fm_histdelta_check_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > FM_HISTDELTA_ID_MAX) {
        return FM_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (id[i] <= ' ' || id[i] > '~') {
            return FM_EINVAL;
        }
    }
    return 0;
}

void fm_histdelta_hist_split(unsigned hist, fm_class_t *cls, fm_dir_t *dir, fm_metric_t *metric)
{
    *metric = (fm_metric_t)(hist % FM_METRIC_COUNT);
    *dir = (fm_dir_t)(hist / FM_METRIC_COUNT % FM_DIR_COUNT);
    *cls = (fm_class_t)(hist / (FM_METRIC_COUNT * FM_DIR_COUNT));
}

int fm__hd_fail(fm__hd_dec_t *x, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err, x->errlen, fmt, ap);
    va_end(ap);
    return rc;
}

void fm__hd_hist_begin(fm__hd_dec_t *x)
{
    x->prev_lo = 0;
    x->nbin = 0;
    memset(x->tot, 0, sizeof(x->tot));
}

int fm__hd_add_bin(fm__hd_dec_t *x, const char *where, unsigned bin_exp, unsigned hist,
                   const uint64_t v[4], fm_histdelta_bins_t *out)
{
    fm_histdelta_bin_t e = {.hist = hist};
    size_t bi = x->nbin;

    fm_hist_bin_of(v[0], bin_exp, &e.bin.lo, &e.bin.hi);
    if (e.bin.lo != v[0]) {
        return fm__hd_fail(x, FM_EFORMAT, "%s.bins[%zu]: bin_lo %" PRIu64 " is not a bin edge "
                           "for bin_exp %u", where, bi, v[0], bin_exp);
    }
    if (bi > 0 && v[0] <= x->prev_lo) {
        return fm__hd_fail(x, FM_EFORMAT, "%s.bins[%zu]: bins must be in ascending bin_lo, "
                           "each once", where, bi);
    }
    if (v[1] == 0) {
        return fm__hd_fail(x, FM_EFORMAT, "%s.bins[%zu]: a bin with 0 flows", where, bi);
    }
    for (int k = 0; k < 3; k++) {
        if (__builtin_add_overflow(x->tot[k], v[k + 1], &x->tot[k])) {
            return fm__hd_fail(x, FM_EOVERFLOW, "%s: sums exceed 64 bits", where);
        }
    }
    x->prev_lo = v[0];
    x->nbin++;
    e.bin.flows = v[1];
    e.bin.packets = v[2];
    e.bin.octets = v[3];
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 1024;
        fm_histdelta_bin_t *nv = reallocarray(out->v, cap, sizeof(*nv));
        if (!nv) {
            return fm__hd_fail(x, FM_ENOMEM, "out of memory");
        }
        out->v = nv;
        out->cap = cap;
    }
    out->v[out->n++] = e;
    return 0;
}
