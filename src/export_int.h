/* SPDX-License-Identifier: BSD-2-Clause */
/* Private to export*.c: the summary tables and plots of a snapshot, and file helpers. */
#pragma once

#include "export.h"

int fm__export_rmtree(const char *path);
/** summary.md and summary.csv in root. */
int fm__export_summary(const fm_export_req_t *req, const char *root, char *err, size_t errlen);
/** plots/<class>/<metric>/{pdf,cdf}.{svg,png} in root. */
int fm__export_plots(const fm_export_req_t *req, const char *root, char *err, size_t errlen);
/** meta.json in root: time range, flows, collector id, version, config digest. */
int fm__export_meta(const fm_export_req_t *req, const char *root, char *err, size_t errlen);
/** The chart title of (class, metric); for duration it says how many flows last 0 ms. */
void fm__export_plot_title(char *title, size_t len, int cls, int metric,
                           const fm_hist_bin_t *bins, size_t n);
