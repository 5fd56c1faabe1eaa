/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Detaching from the terminal without lying about start-up.  fm_detach_begin() forks: the
 * parent waits on a pipe until the child has opened its sockets, database and plugins and calls
 * fm_detach_finish(); a start-up failure's message then goes to the parent's stderr and the
 * parent exits 1, success exits 0.  If the child dies before reporting, the parent exits 1 too.
 * Call it before any thread or event loop exists (a fork keeps only the calling thread).
 */
#pragma once

#include <stddef.h>

/**
 * Fork; returns only in the child (a new session leader), with the pipe's write end in *fd.
 * The parent never returns: it exits with the child's start-up status.
 * @return 0, or a negative errno (pipe, fork or setsid failed: nothing was forked or the child
 *         goes on attached; the caller reports it).
 */
int fm_detach_begin(int *fd);

/**
 * Report the start-up result to the waiting parent and close the pipe.  On success stdin,
 * stdout and stderr are redirected to /dev/null (the daemon logs elsewhere from now on).
 * @param[in] fd   from fm_detach_begin(); negative does nothing.
 * @param[in] rc   0 or the start-up error.
 * @param[in] msg  the reason shown on the parent's stderr when rc < 0.
 */
void fm_detach_finish(int fd, int rc, const char *msg);
