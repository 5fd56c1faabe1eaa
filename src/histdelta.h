/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram delta wire format (issue 10): one window's histogram increments as one JSON document,
 * so collectors can publish them (the kafka plugin) and an aggregating flowmixd can add them up
 * ([input.kafka], src/kafka_in.c).  Histograms are sums, so applying every delta once gives the
 * histograms of the union of the collectors' traffic.  doc/guide.md documents the format:
 *
 *   {"format": "flowmix.histdelta", "version": 1, "collector": "edge-1", "run": 1718000000000,
 *    "seq": 42, "window_start_ms": ..., "window_end_ms": ..., "bin_exp": 12,
 *    "hists": [{"class": "tcp", "direction": "uniflow", "metric": "length",
 *               "bins": [[bin_lo, flows, packets, octets], ...]}, ...]}
 *
 * Only non-empty histograms and non-empty bins are written, bins in ascending bin_lo.  The
 * decoder trusts nothing: every field is type- and range-checked, bin_lo must be a bin edge
 * under bin_exp, bins strictly ascending, sums free of 64-bit overflow; unknown top-level keys
 * are ignored (additions that old readers may skip), anything else wrong is FM_EFORMAT.
 * This module does no I/O and keeps no state.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hist.h"

#define FM_HISTDELTA_FORMAT "flowmix.histdelta"
#define FM_HISTDELTA_VERSION 1
/** Longest collector id (bytes); printable ASCII without spaces. */
#define FM_HISTDELTA_ID_MAX 255
/** Largest document the decoder accepts: far above any real delta (a full 24-histogram set at
 *  bin_exp 12 is a few MiB), small enough that a hostile message cannot exhaust memory. */
#define FM_HISTDELTA_MAX_BYTES (64u << 20)

/** Everything in a delta except the bins. */
typedef struct fm_histdelta_meta {
    char collector[FM_HISTDELTA_ID_MAX + 1]; /**< who published it (NUL-terminated) */
    uint64_t run;              /**< start of the publishing daemon (epoch ms): seq restarts */
    uint64_t seq;              /**< per run, starts at 1 and increases by one per delta */
    uint64_t window_start_ms;  /**< the window the bins belong to */
    uint64_t window_end_ms;
    unsigned bin_exp;          /**< binning of every histogram in the document */
} fm_histdelta_meta_t;

/**
 * Check a collector id: 1..FM_HISTDELTA_ID_MAX bytes of printable ASCII other than space.
 * @return 0 or FM_EINVAL.
 */
int fm_histdelta_check_id(const char *id);

/**
 * Encode one delta.
 * @param[in]  meta  header; meta->bin_exp must equal the set's binning
 * @param[in]  set   the delta (borrowed; not modified)
 * @param[out] out   malloc'd compact JSON text, NUL-terminated; caller frees
 * @param[out] len   its length without the NUL
 * @return 0, FM_EINVAL (bad collector id, window or bin_exp), FM_ERANGE (a value above
 *         INT64_MAX, which JSON readers such as jansson cannot hold) or FM_ENOMEM.
 */
int fm_histdelta_encode(const fm_histdelta_meta_t *meta, const fm_histset_t *set, char **out,
                        size_t *len);

/**
 * Decode and validate one delta.
 * @param[in]  buf, len  the document (need not be NUL-terminated); borrowed
 * @param[out] meta      its header
 * @param[out] out       new set with meta->bin_exp binning; caller frees with fm_histset_free.
 *                       NULL on failure.
 * @param[out] err       on failure, what is wrong (e.g. "hists[3].bins[7]: bin_lo 4097 is not a
 *                       bin edge for bin_exp 12")
 * @return 0, FM_EFORMAT (malformed or invalid), FM_EVERSION (other format version),
 *         FM_EOVERFLOW (sums exceed 64 bits), FM_ELIMIT (larger than FM_HISTDELTA_MAX_BYTES)
 *         or FM_ENOMEM.
 */
int fm_histdelta_decode(const char *buf, size_t len, fm_histdelta_meta_t *meta,
                        fm_histset_t **out, char *err, size_t errlen);
