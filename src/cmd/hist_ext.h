/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flow-models histogram forms the daemon's histogram does not keep: `hist -x rate` (a
 * double x, bit/s) and the additional columns of `hist -c duration|rate|aggs`
 * (FLOW-MODELS-DETAIL §4.3).  Used by `flowmix hist` only when one of them is asked for; the
 * plain length/size/duration histograms stay on src/hist.c.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { FM_XCOL_DURATION, FM_XCOL_RATE, FM_XCOL_AGGS } fm_xcol_t;

#define FM_XHIST_MAX_COLS 8

typedef struct fm_xhist fm_xhist_t;

/** @return "duration", "rate", "aggs" → column, or FM_EINVAL. */
int fm_xcol_parse(const char *name);

/**
 * @param rate_x  bin by rate (bit/s, a double) instead of the integer x given to fm_xhist_add.
 * @param cols    the -c columns in command-line order (repeats allowed, as flow-models).
 * @return 0 or FM_ENOMEM.
 */
int fm_xhist_new(unsigned bin_exp, bool rate_x, const fm_xcol_t *cols, int ncols,
                 fm_xhist_t **out);
void fm_xhist_free(fm_xhist_t *h);

/**
 * Add one flow.  duration_ms as flow-models computes it (0 for one packet); the rate is
 * derived here (8000·octets/duration, 0 for duration 0).  @return 0 or FM_ENOMEM.
 */
int fm_xhist_add(fm_xhist_t *h, uint64_t x, uint64_t packets, uint64_t octets,
                 uint64_t duration_ms, uint64_t aggs);

/** Write csv_hist: the five base columns, then `<col>_sum` per column; rows by bin_lo. */
int fm_xhist_write_csv(const fm_xhist_t *h, FILE *out);
