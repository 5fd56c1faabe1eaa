/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private helpers of the control server, exposed for tests/unit/test_ctl.c only.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/**
 * Whether the "Groups:" line of a /proc/PID/status text lists a group.
 * @param[in] status  the file's contents, NUL-terminated.
 * @return true if gid is among the supplementary groups.
 */
bool fm__ctl_groups_contain(const char *status, gid_t gid);
