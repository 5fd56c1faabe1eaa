/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internals shared by the histogram delta codecs: histdelta.c (API, splitting, binary) and
 * histdelta_json.c (JSON), both above histdelta_check.c (shared checks).  Not for other
 * modules.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "histdelta.h"

/** The non-empty bins of every histogram of a set (sorted by lo), taken once per encode. */
typedef struct {
    fm_hist_bin_t *bins[FM_HISTDELTA_NHISTS];
    size_t n[FM_HISTDELTA_NHISTS];
} fm__hd_src_t;

/** Bins [from, to) of histogram hist. */
typedef struct {
    unsigned hist;
    size_t from, to;
} fm__hd_seg_t;

/** What one part holds: segments in ascending histogram order. */
typedef struct {
    fm__hd_seg_t *seg;
    size_t nseg;
} fm__hd_plan_t;

/** Decoder error sink and the per-histogram state a bin is checked against. */
typedef struct {
    char *err;
    size_t errlen;
    uint64_t prev_lo;
    uint64_t tot[3];
    size_t nbin; /* bins of the current histogram so far */
} fm__hd_dec_t;

/* histdelta_check.c */
__attribute__((format(printf, 3, 4))) int fm__hd_fail(fm__hd_dec_t *x, int rc,
                                                       const char *fmt, ...);

/** Start checking a new histogram's bins. */
void fm__hd_hist_begin(fm__hd_dec_t *x);

/**
 * Check one bin (bin edge, strictly ascending, flows > 0, no 64-bit overflow of the histogram's
 * sums) and append it to out.  where names it in messages ("hists[3]").
 */
int fm__hd_add_bin(fm__hd_dec_t *x, const char *where, unsigned bin_exp, unsigned hist,
                   const uint64_t v[4], fm_histdelta_bins_t *out);

/* JSON codec (histdelta_json.c) */
size_t fm__hd_json_header_cost(const fm_histdelta_meta_t *meta);
size_t fm__hd_json_hist_cost(void);
size_t fm__hd_json_bin_cost(const fm_hist_bin_t *b, bool first);
int fm__hd_json_check(const fm_histdelta_meta_t *meta, const fm__hd_src_t *src);
int fm__hd_json_encode(const fm_histdelta_meta_t *meta, const fm__hd_src_t *src,
                       const fm__hd_plan_t *plan, fm_histdelta_part_t *out);
int fm__hd_json_decode(fm__hd_dec_t *x, const char *buf, size_t len, fm_histdelta_meta_t *meta,
                       fm_histdelta_bins_t *bins);
