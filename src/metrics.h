/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Prometheus endpoint ([metrics] listen): an HTTP server (libmicrohttpd) on its own thread
 * that serves GET /metrics from the latest text the daemon's loop published.  The loop renders
 * (metrics_text.h) and publishes once per tick; the server never touches daemon state, and the
 * two share only a pointer to an immutable, reference-counted snapshot, swapped under a mutex
 * held for a few instructions on either side (the packet path never takes it).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct fm_metrics fm_metrics_t;

/**
 * Start serving on ADDR:PORT ("127.0.0.1:9470", "[::1]:9470"; port 0 picks a free one).
 * Until the first fm_metrics_publish(), /metrics answers 503.
 * @param[out] out  the server; stop and free it with fm_metrics_free().
 * @param[out] err  the reason on failure (bad address, cannot bind).
 * @return 0, FM_EINVAL (address), FM_ECONFIG (built without libmicrohttpd) or -errno.
 */
int fm_metrics_new(const char *listen, fm_metrics_t **out, char *err, size_t errlen);

/** Stop the server thread (in-flight responses finish) and free.  NULL does nothing. */
void fm_metrics_free(fm_metrics_t *m);

/**
 * Replace the served text.
 * @param[in] text  malloc'd text; ownership passes to the server (freed when no response
 *                  uses it any more).
 */
void fm_metrics_publish(fm_metrics_t *m, char *text, size_t len);

/** The bound port (useful after port 0). */
uint16_t fm_metrics_port(const fm_metrics_t *m);

/** Scrapes answered so far (for the daemon's own log and tests). */
uint64_t fm_metrics_scrapes(const fm_metrics_t *m);
