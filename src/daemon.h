/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon object: owns the loop and every module (ingest, cache, histograms, store, fits,
 * control socket) and wires the flow path datagram → decoder → cache → histograms.
 */
#pragma once

#include <stdbool.h>

#include "conf.h"

typedef struct {
    bool foreground;
    bool dump;                 /* print decoded records on stdout */
    const char *config_path;   /* re-read on SIGHUP / flowmixctl reload; NULL: defaults */
} fm_daemon_opts_t;

/**
 * Run the daemon until SIGTERM/SIGINT.
 * @param[in] cfg  validated configuration; ownership passes to the daemon.
 * @return process exit status (0 after a clean shutdown).
 */
int fm_daemon_main(fm_config_t *cfg, const fm_daemon_opts_t *opts);
