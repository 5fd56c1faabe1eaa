/* SPDX-License-Identifier: BSD-2-Clause */
/* File-system helpers with no daemon state. */
#pragma once

#include <sys/types.h>

/**
 * Create a directory and its missing parents (mkdir -p).
 * @return 0 (also when it exists), FM_EINVAL for an empty or over-long path, or -errno.
 */
int fm_fs_mkdirs(const char *path, mode_t mode);

/**
 * Whether fm_fs_mkdirs(path) and creating files in path would succeed, without creating
 * anything: path is a writable directory, or its nearest existing ancestor is.
 * @return 0, -ENOTDIR (path or the ancestor is not a directory), -EACCES (not writable) or
 *         another negative errno from stat.
 */
int fm_fs_check_writable(const char *path);
