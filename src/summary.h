/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Summary tables of a histogram, as in the agh_2015 README and flow-models `summary`
 * (FLOW-MODELS-DETAIL §9): totals, averages, and the CDF table (share of flows, packets and
 * octets in flows of length <= 1, 2, 4, ... packets or size <= 64, 128, ... bytes, linearly
 * interpolated like scipy interp1d).  Written as flow-models' TeX, as Markdown (README layout,
 * with TCP/UDP/Other shares when those classes are given) or as CSV.  Pure computation on a
 * bin array: reentrant, never logs.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hist.h"

/* 2^0 .. 2^24 (times 64 for size), as flow-models prints. */
#define FM_SUMMARY_POINTS 25

enum { FM_SUMMARY_LENGTH = 0, FM_SUMMARY_SIZE = 1 };

/** Summary of one histogram (plain data). */
typedef struct fm_summary {
    int xval;                        /* FM_SUMMARY_LENGTH or FM_SUMMARY_SIZE */
    uint64_t flows, packets, octets; /* column totals */
    double avg_length;               /* packets / flows */
    double avg_size;                 /* octets / flows */
    double avg_packet_size;          /* octets / packets */
    uint64_t point[FM_SUMMARY_POINTS];
    double pct[FM_SUMMARY_POINTS][3]; /* % of flows, packets, octets up to point (NaN outside) */
} fm_summary_t;

/**
 * Compute the summary of a histogram (rows ascending by bin_lo).
 * @param[in] xval  FM_SUMMARY_LENGTH, FM_SUMMARY_SIZE, or -1 to detect it from the first bin_lo
 *                  (1 → length, 64 → size).
 * @return 0; FM_EINVAL if n == 0, a total is 0 or x cannot be detected; FM_EOVERFLOW if a column
 *         total does not fit 64 bits.
 */
int fm_summary_compute(const fm_hist_bin_t *bins, size_t n, int xval, fm_summary_t *out);

/** flow-models summary's two TeX tables, byte-for-byte.  @return 0 or FM_EIO. */
int fm_summary_write_tex(const fm_summary_t *s, FILE *out);

/**
 * README-style Markdown: parameter table, protocol shares (when classes named "all", "tcp" and
 * "udp" are all present) and the CDF table with one column group per class.
 * @param[in] s, names  ncls summaries of the same xval and their class names.
 * @return 0, FM_EINVAL or FM_EIO.
 */
int fm_summary_write_md(const fm_summary_t *const *s, const char *const *names, size_t ncls,
                        FILE *out);

/** CSV: one row per (class, point): class,point,flows_pct,packets_pct,octets_pct, after a
 * totals block.  @return 0, FM_EINVAL or FM_EIO. */
int fm_summary_write_csv(const fm_summary_t *const *s, const char *const *names, size_t ncls,
                         FILE *out);
