/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's side of [metrics]: start the HTTP endpoint (metrics.h) and, once per tick, render
 * the status, exporters, fits and total length/size histograms (metrics_text.h, from the same
 * JSON the control socket sends) and publish the text.  Loop thread only.
 */
#include "config.h"

#include <stdlib.h>

#include "daemon_int.h"
#include "metrics.h"
#include "metrics_text.h"

int fm__daemon_metrics_start(fm_daemon_t *d, char *err, size_t errlen)
{
    const char *listen = d->cfg->metrics_listen;
    if (!listen || !*listen) {
        return 0;
    }
    int rc = fm_metrics_new(listen, &d->metrics, err, errlen);
    if (rc < 0) {
        return rc;
    }
    fm_log_notice("metrics, Prometheus metrics on %s (port %u), path /metrics", listen,
                  (unsigned)fm_metrics_port(d->metrics));
    fm__daemon_metrics_publish(d);
    return 0;
}

void fm__daemon_metrics_publish(fm_daemon_t *d)
{
    static const int metrics[] = {FM_METRIC_LENGTH, FM_METRIC_SIZE};
    fm_metrics_hist_t h[FM_CLASS_COUNT * 2];
    fm_hist_bin_t *bins[FM_CLASS_COUNT * 2] = {0};
    size_t nh = 0, len = 0;

    if (!d->metrics) {
        return;
    }
    for (int m = 0; m < 2; m++) {
        for (int c = 0; c < FM_CLASS_COUNT; c++) {
            const fm_hist_t *hist =
                fm_histset_get(fm_histwin_total(d->hw), c, FM_DIR_UNIFLOW, metrics[m]);
            long n = fm_hist_bins(hist, &bins[nh]);
            if (n < 0) {
                continue;
            }
            h[nh] = (fm_metrics_hist_t){fm_class_name(c), metrics[m], bins[nh], (size_t)n};
            nh++;
        }
    }
    json_t *status = fm__daemon_status_json(d);
    json_t *exporters = fm__daemon_exporters_json(d);
    json_t *fits = fm__daemon_fits_json(d);
    char *text = fm_metrics_render(status, exporters, fits, h, nh, &len);
    if (text) {
        fm_metrics_publish(d->metrics, text, len);
    }
    json_decref(status);
    json_decref(exporters);
    json_decref(fits);
    for (size_t i = 0; i < nh; i++) {
        free(bins[i]);
    }
}

void fm__daemon_metrics_free(fm_daemon_t *d)
{
    fm_metrics_free(d->metrics);
    d->metrics = NULL;
}
