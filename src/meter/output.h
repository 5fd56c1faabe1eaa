/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writers of metered flows: nfstream's CSV (its column names and order, NFSTREAM.md §9, values
 * formatted as nfstream's to_csv writes them) and the projection onto flowmix's fm_flow_t so the
 * flowio writers (csv_flow, binary, pipe) and the daemon's cache take metered flows.
 */
#pragma once

#include <stdio.h>

#include "flow.h"
#include "meter/meter.h"

typedef struct fm_meter_csv fm_meter_csv_t;

/**
 * @param[in] path  "-" for stdout.
 * @param[in] o     decides the columns (tunnel_id, statistics, splt, nDPI); copied.
 * @return 0 or -errno (FM_EIO) when the file cannot be created.
 */
int fm_meter_csv_open(const char *path, const fm_meter_opts_t *o, fm_meter_csv_t **out);
/** Header before the first row, as nfstream (an input without flows gives an empty file). */
void fm_meter_csv_write(fm_meter_csv_t *w, const fm_meter_flow_t *f);
/** @return 0 or FM_EIO when a write failed. */
int fm_meter_csv_close(fm_meter_csv_t *w);

/**
 * A metered flow as a flowmix biflow: src→dst counters forward, dst→src in rev_*; IPv4
 * addresses IPv4-mapped; sampling 1, records 1, exporter/domain/interfaces 0.
 */
void fm_meter_to_flow(const fm_meter_flow_t *mf, fm_flow_t *out);

/** Python's repr() of a double (shortest round trip, ".0" on integral values). */
void fm_meter_fmt_double(char *buf, size_t len, double v);
