/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's control commands (Knot's ctl/commands.c above its server): one handler per row
 * of the command table (ctl_proto.c), turning daemon state into replies.  They sit above the
 * daemon: they call it (daemon_int.h), it never calls them; flowmixd.c hands these entry
 * points to fm_daemon_main() through fm_daemon_opts_t.  [metrics] (daemon_metrics.h) starts
 * and stops with them.
 */
#pragma once

#include <stddef.h>

#include "daemon.h"

/**
 * Open the read-only store connection the queries use, create the control socket, register
 * every command and start listening.  Called by the daemon after its other modules.
 * @param[out] err  the reason on failure (socket path, store).
 * @return 0 or a negative FM_E* / libuv error.
 */
int fm_daemon_ctl_start(fm_daemon_t *d, char *err, size_t errlen);

/**
 * Stop the control socket (clients closed, deferred replies dropped) and the [metrics]
 * timer; done(arg) once their handles are closed (possibly before this returns).  Safe after
 * a failed or partial fm_daemon_ctl_start().
 */
void fm_daemon_ctl_stop(fm_daemon_t *d, void (*done)(void *arg), void *arg);

/** Release what fm_daemon_ctl_start() made, after the loop ended (queued reads done). */
void fm_daemon_ctl_free(fm_daemon_t *d);
