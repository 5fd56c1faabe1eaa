/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Model export (DESIGN §9): a snapshot directory in the agh_2015 layout —
 * histograms/<class>/<metric>.csv, mixtures/<class>/<metric>/<y>.json + .mode, summary.md and
 * summary.csv, plots/<class>/<metric>/{pdf,cdf}.{svg,png} — written into a temporary directory
 * and rename()d into place, the last `keep` snapshots (in the creation order the request
 * carries) kept and a `latest` symlink updated.
 * fm_export_write() runs on a thread-pool thread on a self-contained request; it never logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"

/** One fitted model to export (uniflow fits; others are skipped). */
typedef struct {
    int cls;             /* fm_class_t */
    int metric;          /* fm_metric_t */
    int y;               /* 0 flows, 1 packets, 2 octets */
    unsigned U, L, P, max_iter;
    char *json;          /* flow-models mixture JSON; owned by the request */
} fm_export_fit_t;

typedef struct {
    char *dir;           /* export.dir; owned */
    uint64_t keep;       /* snapshots kept */
    bool plots;
    uint64_t now_ms;     /* names the snapshot (UTC time) */
    fm_histset_t *hist;  /* total histograms (uniflow used); owned */
    fm_export_fit_t *fits;
    size_t nfits;
    /* meta.json: what the snapshot covers and what wrote it (strings owned; may be NULL) */
    uint64_t first_ms;   /* start of the oldest window in the histograms (0: unknown) */
    char *collector_id;
    char *config_digest; /* "xxh3:<hex>" of the effective configuration */
    /* Snapshots of dir in creation order, oldest first (owned; may be NULL): pruning keeps the
     * newest keep of them; snapshots not listed count as older, in name order. */
    char **order;
    size_t norder;
} fm_export_req_t;

/**
 * Write a snapshot.
 * @param[in]  req   the request (not modified).
 * @param[out] path  the snapshot directory written.
 * @param[out] err   message on failure.
 * @return 0 or a negative FM_E* / -errno.  On failure no partial snapshot is left visible.
 */
int fm_export_write(const fm_export_req_t *req, char *path, size_t pathlen, char *err,
                    size_t errlen);
/** Free what a request owns (and the request's arrays, not the struct itself). */
void fm_export_req_fini(fm_export_req_t *req);
