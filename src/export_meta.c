/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * meta.json of an export snapshot: what it covers (time range of the histograms, flows,
 * packets, octets) and what wrote it (collector id, flowmix version, digest of the effective
 * configuration), so a snapshot found later can be told apart from another without the daemon.
 * Times are ISO-8601 UTC beside epoch milliseconds.
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>

#include "export_int.h"
#include "util/err.h"
#include "util/time.h"

int fm__export_meta(const fm_export_req_t *req, const char *root, char *err, size_t errlen)
{
    char path[4096], from[FM_TIME_ISO_LEN], to[FM_TIME_ISO_LEN];
    uint64_t flows = 0, packets = 0, octets = 0;

    const fm_hist_t *all = fm_histset_get(req->hist, FM_CLASS_ALL, FM_DIR_UNIFLOW,
                                          FM_METRIC_LENGTH);
    fm_hist_totals(all, &flows, &packets, &octets);
    json_t *meta = json_pack(
        "{ss ss* ss* s{ss* sI ss sI} sI sI sI sI ss*}", "version", PACKAGE_VERSION,
        "collector_id", req->collector_id, "config_digest", req->config_digest, "time_range",
        "from", req->first_ms ? fm_time_format_iso(from, sizeof(from), req->first_ms) : NULL,
        "from_ms", (json_int_t)req->first_ms, "to",
        fm_time_format_iso(to, sizeof(to), req->now_ms), "to_ms", (json_int_t)req->now_ms,
        "flows", (json_int_t)flows, "packets", (json_int_t)packets, "octets",
        (json_int_t)octets, "bin_exp", (json_int_t)fm_hist_bin_exp(all), "direction",
        "uniflow");
    snprintf(path, sizeof(path), "%s/meta.json", root);
    if (!meta || json_dump_file(meta, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
        snprintf(err, errlen, "cannot write %s", path);
        json_decref(meta);
        return FM_EIO;
    }
    json_decref(meta);
    return 0;
}
