/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The in-memory sort core of `flowmix sort`: a stable LSD radix sort of key columns into a
 * permutation.  Keys are mapped to order-preserving unsigned images, rebased to their minimum,
 * and packed (least significant key lowest) into 64-bit words as far as their value ranges
 * allow, so `-k first first_ms` over a day of flows is one word of about 27 bits: three 11-bit
 * counting passes, and passes whose digit is the same for every record are skipped.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** One key column: its items and its Python array type code (b B h H i I l L q Q f d). */
typedef struct {
    const void *data;
    char code;
} fm_sort_key_t;

/** @return an unsigned image of item i whose order is the items' numeric order. */
uint64_t fm_sort_key_at(const fm_sort_key_t *k, size_t i);

/** @return the bytes fm_sort_radix holds on the heap at most for n records. */
uint64_t fm_sort_radix_bytes(size_t n);

/**
 * Stable sort of records 0..n-1 by keys[0] (most significant) … keys[nkeys-1].
 * @param reverse  the permutation reversed as a whole (flow-models' np.flip of the lexsort, so
 *                 ties come out in reverse original order).
 * @return the permutation (free() it): record perm[j] goes to position j; NULL when n does not
 *         fit 32 bits or memory is short.
 */
uint32_t *fm_sort_radix(const fm_sort_key_t *keys, int nkeys, size_t n, bool reverse);
