/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's side of [metrics]: the HTTP endpoint (metrics.h) and, every second, the status,
 * exporters, fits and total length/size histograms rendered (metrics_text.h, from the same
 * JSON the control socket sends) and published to it.  Like the control commands it sits above
 * the daemon: daemon_ctl.c starts and stops it with the control socket.  Loop thread only.
 */
#pragma once

#include <stddef.h>

#include "daemon.h"

typedef struct fm__dmetrics fm__dmetrics_t;

/**
 * Start the endpoint and its publishing timer when [metrics] listen is set.
 * @param[out] out  NULL when [metrics] is off; else stop and free it.
 * @return 0, or the endpoint's error with the reason in err.
 */
int fm__dmetrics_start(fm_daemon_t *d, fm__dmetrics_t **out, char *err, size_t errlen);
/** Stop the timer; done(arg) once its handle is closed (may run before this returns). */
void fm__dmetrics_stop(fm__dmetrics_t *m, void (*done)(void *arg), void *arg);
/** Free after stop's callback (or NULL). */
void fm__dmetrics_free(fm__dmetrics_t *m);
