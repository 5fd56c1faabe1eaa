/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram delta wire format (issues 10 and 21): one window's histogram increments, split into
 * messages ("parts") that each fit a transport's size limit, so collectors can publish them (the
 * kafka plugin) and an aggregating flowmixd can add them up ([input.kafka], src/kafka_in.c).
 * Histograms are sums and every part carries whole bins with their window, so the parts of a
 * delta apply in any order, each on its own; applying every part once gives the histograms of
 * the union of the collectors' traffic.  A part is identified by (collector, run, seq, part).
 *
 * Two encodings, both documented in doc/guide.md §8:
 *  - binary (the default): "FMHD", version byte 2, then LEB128 varints: collector (length +
 *    bytes), run, seq, part, parts, window_start_ms, window length, bin_exp, the number of
 *    histograms, then per histogram its index ((class * 2 + direction) * 3 + metric, strictly
 *    ascending) and bin count, per bin bin_lo (the first absolute, then the gap to the previous
 *    bin_lo), flows, packets and octets.  About 5-6 bytes per non-empty bin (bench/kafka).
 *  - JSON ("flowmix.histdelta" version 2; version 1 documents, which lack part/parts, are still
 *    read as part 0 of 1):
 *    {"format": "flowmix.histdelta", "version": 2, "collector": "edge-1", "run": 1718000000000,
 *     "seq": 42, "part": 0, "parts": 3, "window_start_ms": ..., "window_end_ms": ...,
 *     "bin_exp": 12, "hists": [{"class": "tcp", "direction": "uniflow", "metric": "length",
 *                              "bins": [[bin_lo, flows, packets, octets], ...]}, ...]}
 * Only non-empty histograms and bins are written, bins in ascending bin_lo.  The decoders trust
 * nothing: every field is type- and range-checked, bin_lo must be a bin edge under bin_exp, bins
 * strictly ascending, sums free of 64-bit overflow, part < parts; unknown top-level JSON keys
 * are ignored (additions that old readers may skip), anything else wrong is FM_EFORMAT.
 * This module does no I/O and keeps no state.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hist.h"

#define FM_HISTDELTA_FORMAT "flowmix.histdelta"
/** JSON documents this build writes (and the newest it reads; version 1 is read too). */
#define FM_HISTDELTA_VERSION 2
/** Binary encoding: magic and version. */
#define FM_HISTDELTA_MAGIC "FMHD"
#define FM_HISTDELTA_BIN_VERSION 2
/** Longest collector id (bytes); printable ASCII without spaces. */
#define FM_HISTDELTA_ID_MAX 255
/** Largest message the decoder accepts: far above any transport's limit (Kafka's default is
 *  1 MB), small enough that a hostile message cannot exhaust memory. */
#define FM_HISTDELTA_MAX_BYTES (64u << 20)
/** Smallest part size the encoder can work with (a header with a 255-byte id and one bin). */
#define FM_HISTDELTA_MIN_PART 1024
/** Number of histograms in a set: index = (class * FM_DIR_COUNT + dir) * FM_METRIC_COUNT + m. */
#define FM_HISTDELTA_NHISTS (FM_CLASS_COUNT * FM_DIR_COUNT * FM_METRIC_COUNT)

typedef enum {
    FM_HISTDELTA_BINARY = 0,
    FM_HISTDELTA_JSON = 1,
} fm_histdelta_enc_t;

/** Everything in a part except the bins. */
typedef struct fm_histdelta_meta {
    char collector[FM_HISTDELTA_ID_MAX + 1]; /**< who published it (NUL-terminated) */
    uint64_t run;              /**< start of the publishing daemon (epoch ms): seq restarts */
    uint64_t seq;              /**< per run, starts at 1 and increases by one per delta */
    uint32_t part;             /**< which part of the delta, 0 .. parts - 1 (set by encoders) */
    uint32_t parts;            /**< how many parts the delta has */
    uint64_t window_start_ms;  /**< the window the bins belong to */
    uint64_t window_end_ms;
    unsigned bin_exp;          /**< binning of every histogram in the part */
} fm_histdelta_meta_t;

/** One encoded part (malloc'd bytes; JSON text is also NUL-terminated). */
typedef struct {
    char *data;
    size_t len;
} fm_histdelta_part_t;

/** One decoded bin and the histogram it belongs to (index as FM_HISTDELTA_NHISTS). */
typedef struct {
    fm_hist_bin_t bin;
    unsigned hist;
} fm_histdelta_bin_t;

/** Decoded bins of one part, grouped by histogram, bins ascending in each. */
typedef struct {
    fm_histdelta_bin_t *v; /* malloc'd; free with fm_histdelta_bins_free */
    size_t n;
    size_t cap;
} fm_histdelta_bins_t;

/** Class, direction and metric of a histogram index (fm_histdelta_bin_t.hist). */
void fm_histdelta_hist_split(unsigned hist, fm_class_t *cls, fm_dir_t *dir, fm_metric_t *metric);

/**
 * Check a collector id: 1..FM_HISTDELTA_ID_MAX bytes of printable ASCII other than space.
 * @return 0 or FM_EINVAL.
 */
int fm_histdelta_check_id(const char *id);

/**
 * Encode one delta as parts of at most max_bytes bytes each.  An empty set gives one part
 * without histograms (so every seq is seen).  The split depends only on the set and the limit.
 * @param[in]  meta      header; meta->bin_exp must equal the set's binning; part/parts ignored
 * @param[in]  set       the delta (borrowed; not modified)
 * @param[in]  max_bytes limit per part, >= FM_HISTDELTA_MIN_PART (0: no limit)
 * @param[out] parts     malloc'd array of *nparts parts; free with fm_histdelta_parts_free
 * @return 0, FM_EINVAL (bad collector id, window, bin_exp or max_bytes), FM_ERANGE (JSON: a
 *         value above INT64_MAX, which JSON readers such as jansson cannot hold) or FM_ENOMEM.
 */
int fm_histdelta_encode_parts(const fm_histdelta_meta_t *meta, const fm_histset_t *set,
                              fm_histdelta_enc_t enc, size_t max_bytes,
                              fm_histdelta_part_t **parts, size_t *nparts);
void fm_histdelta_parts_free(fm_histdelta_part_t *parts, size_t nparts);

/**
 * The whole delta as one JSON document (fm_histdelta_encode_parts, JSON, no limit).
 * @param[out] out  malloc'd NUL-terminated text; caller frees.  @param[out] len  its length.
 */
int fm_histdelta_encode(const fm_histdelta_meta_t *meta, const fm_histset_t *set, char **out,
                        size_t *len);

/**
 * Decode and validate one part of either encoding (told apart by its first bytes).
 * @param[out] meta  its header
 * @param[out] bins  its bins (reset first; reusable across calls); free with
 *                   fm_histdelta_bins_free.  Emptied on failure.
 * @param[out] err   on failure, what is wrong (e.g. "hists[3].bins[7]: bin_lo 4097 is not a
 *                   bin edge for bin_exp 12")
 * @return 0, FM_EFORMAT (malformed or invalid), FM_EVERSION (other format version),
 *         FM_EOVERFLOW (sums exceed 64 bits), FM_ELIMIT (larger than FM_HISTDELTA_MAX_BYTES)
 *         or FM_ENOMEM.
 */
int fm_histdelta_decode_bins(const char *buf, size_t len, fm_histdelta_meta_t *meta,
                             fm_histdelta_bins_t *bins, char *err, size_t errlen);
void fm_histdelta_bins_free(fm_histdelta_bins_t *bins);

/**
 * Decode one part into a new set (fm_histdelta_decode_bins, then added up).
 * @param[out] out  new set with meta->bin_exp binning; caller frees.  NULL on failure.
 */
int fm_histdelta_decode(const char *buf, size_t len, fm_histdelta_meta_t *meta,
                        fm_histset_t **out, char *err, size_t errlen);
