/* SPDX-License-Identifier: BSD-2-Clause */
/* Private to hist*.c. */
#pragma once

#include "hist.h"

/** Bytes one histogram occupies. */
size_t fm__hist_memory(const fm_hist_t *h);

/* One pending histogram update of a batch (histset.c builds them, hist.c applies them). */
typedef struct fm__hist_op {
    fm_hist_t *h;
    uint64_t x, packets, octets;
} fm__hist_op_t;

/**
 * Apply n updates: first find (allocating on first use) every target bin and prefetch it,
 * then add.  The bins of one flow's twelve histograms are far apart, so adding them one by
 * one waits for one cache miss after another; this way the misses overlap.  The result equals
 * n fm_hist_add() calls in order.
 * @param[out] cells  scratch for n pointers.
 */
void fm__hist_add_batch(const fm__hist_op_t *ops, size_t n, void **cells);
