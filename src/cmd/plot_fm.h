/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flow-models plot's chart set for `flowmix plot` (FLOW-MODELS-DETAIL §10): cdf, pdf-flows,
 * pdf-packets, pdf-octets, avg-packets, avg-octets, avg-packet_size (or, with single, the CDF
 * and the three PDFs on one 2x2 canvas "single" plus the avg charts), data points with the
 * mixtures over them, optionally each weighted component (-P comp, -C comp).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "hist.h"
#include "mixture.h"

typedef struct {
    const fm_hist_bin_t *bins; /* n bins sorted by lo */
    size_t n;
    const char *xlabel;
    const fm_mix_t *mix[3];    /* fitted to flows, packets, octets; NULL: none */
    const char *title;
    int formats;               /* FM_PLOT_* */
    bool single;               /* --single */
    bool normalize;            /* divide PDF points by the distance to the next bin (default) */
    bool hist_line;            /* -P hist: the data also as a line */
    bool comp_pdf, comp_cdf;   /* -P comp, -C comp: each weighted component */
} fm_fmplot_t;

/** CSV header of the series written by fm_fmplot_write(). */
#define FM_FMPLOT_CSV_HEADER "chart,y,source,x,value\n"

/**
 * Write the charts as PREFIX<name>.<ext>.  Rows "chart,y,source,x,value" go to csv when not
 * NULL (chart pdf|cdf|avg; y flows|packets|octets|packet_size; source data|mixture|compK).
 * @return 0, FM_EINVAL, FM_EIO or FM_ENOMEM.
 */
int fm_fmplot_write(const fm_fmplot_t *p, const char *prefix, FILE *csv);
