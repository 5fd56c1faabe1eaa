/* SPDX-License-Identifier: BSD-2-Clause */
/* File-system helpers with no daemon state. */
#pragma once

#include <sys/types.h>

/**
 * Create a directory and its missing parents (mkdir -p).
 * @return 0 (also when it exists), FM_EINVAL for an empty or over-long path, or -errno.
 */
int fm_fs_mkdirs(const char *path, mode_t mode);
