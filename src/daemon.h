/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon object: owns the loop and every module (ingest, cache, histograms, store, fits,
 * control socket) and wires the flow path datagram → decoder → cache → histograms.
 */
#pragma once

#include <stdbool.h>

#include "conf.h"

typedef struct fm_daemon fm_daemon_t;

typedef struct {
    bool foreground;
    bool dump;                 /* print decoded records on stdout */
    bool debug;                /* -d: log level debug, kept across reloads */
    const char *config_path;   /* re-read on SIGHUP / flowmixctl reload; NULL: defaults */
    /* The control commands, a layer above the daemon (daemon_ctl.h): started last, before
     * readiness, and freed after the loop; NULL: no control socket. */
    int (*control_start)(fm_daemon_t *d, char *err, size_t errlen);
    void (*control_stop)(fm_daemon_t *d, void (*done)(void *arg), void *arg);
    void (*control_free)(fm_daemon_t *d);
} fm_daemon_opts_t;

/**
 * Every start-up check that needs no lasting side effect (flowmixd --check-config): state,
 * store and control socket directories writable or creatable, every [listen] udp endpoint
 * valid and its port free now, every plugin loadable with a valid descriptor and loader keys.
 * @param[out] err  the first failure, naming the key or file.
 * @return 0 or a negative FM_E* / -errno.
 */
int fm_daemon_check(const fm_config_t *cfg, char *err, size_t errlen);

/**
 * Run the daemon until SIGTERM/SIGINT.  Without opts->foreground (and outside systemd) it
 * detaches, but the calling process exits only once start-up is over: 0 when ready, 1 with
 * the reason on stderr when opening sockets, database or plugins failed.
 * @param[in] cfg  validated configuration; ownership passes to the daemon.
 * @return process exit status (0 after a clean shutdown).
 */
int fm_daemon_main(fm_config_t *cfg, const fm_daemon_opts_t *opts);
