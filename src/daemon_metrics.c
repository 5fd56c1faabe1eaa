/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * [metrics] on the daemon (daemon_metrics.h): a one-second timer renders and publishes the
 * text; the HTTP thread only serves the last published copy.
 */
#include "config.h"
#include "daemon_metrics.h"

#include <stdlib.h>

#include "daemon_int.h"
#include "metrics.h"
#include "metrics_text.h"
#include "util/mem.h"

#define PUBLISH_MS 1000

struct fm__dmetrics {
    fm_daemon_t *d;
    fm_metrics_t *m;
    uv_timer_t timer;
    void (*done)(void *arg);
    void *done_arg;
};

static void publish(fm__dmetrics_t *dm)
{
    static const int metrics[] = {FM_METRIC_LENGTH, FM_METRIC_SIZE};
    fm_daemon_t *d = dm->d;
    fm_metrics_hist_t h[FM_CLASS_COUNT * 2];
    fm_hist_bin_t *bins[FM_CLASS_COUNT * 2] = {0};
    size_t nh = 0, len = 0;

    fm__daemon_sync(d);
    for (int m = 0; m < 2; m++) {
        for (int c = 0; c < FM_CLASS_COUNT; c++) {
            const fm_hist_t *hist =
                fm_histset_get(fm_histagg_total(d->hist), c, FM_DIR_UNIFLOW, metrics[m]);
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
        fm_metrics_publish(dm->m, text, len);
    }
    json_decref(status);
    json_decref(exporters);
    json_decref(fits);
    for (size_t i = 0; i < nh; i++) {
        free(bins[i]);
    }
}

static void on_timer(uv_timer_t *t)
{
    publish(t->data);
}

int fm__dmetrics_start(fm_daemon_t *d, fm__dmetrics_t **out, char *err, size_t errlen)
{
    const char *listen = d->cfg->metrics_listen;
    fm__dmetrics_t *dm;
    int rc;

    *out = NULL;
    if (!listen || !*listen) {
        return 0;
    }
    dm = fm_xcalloc(1, sizeof(*dm));
    dm->d = d;
    if ((rc = fm_metrics_new(listen, &dm->m, err, errlen)) < 0) {
        free(dm);
        return rc;
    }
    if ((rc = uv_timer_init(&d->loop, &dm->timer)) < 0) {
        snprintf(err, errlen, "[metrics] timer: %s", uv_strerror(rc));
        fm_metrics_free(dm->m);
        free(dm);
        return rc;
    }
    dm->timer.data = dm;
    *out = dm; /* from here on released through stop and free */
    if ((rc = uv_timer_start(&dm->timer, on_timer, PUBLISH_MS, PUBLISH_MS)) < 0) {
        snprintf(err, errlen, "[metrics] timer: %s", uv_strerror(rc));
        return rc;
    }
    fm_log_notice("metrics, Prometheus metrics on %s (port %u), path /metrics", listen,
                  (unsigned)fm_metrics_port(dm->m));
    publish(dm);
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    fm__dmetrics_t *dm = h->data;
    if (dm->done) {
        dm->done(dm->done_arg);
    }
}

void fm__dmetrics_stop(fm__dmetrics_t *m, void (*done)(void *arg), void *arg)
{
    if (!m) {
        if (done) {
            done(arg);
        }
        return;
    }
    m->done = done;
    m->done_arg = arg;
    uv_close((uv_handle_t *)&m->timer, on_closed);
}

void fm__dmetrics_free(fm__dmetrics_t *m)
{
    if (m) {
        fm_metrics_free(m->m);
        free(m);
    }
}
