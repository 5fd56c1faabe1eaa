/* SPDX-License-Identifier: BSD-2-Clause */
/* File-system helpers. */
#include "config.h"
#include "util/fs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"

int fm_fs_mkdirs(const char *path, mode_t mode)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf)) {
        return FM_EINVAL;
    }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST) {
                return -errno;
            }
            *p = '/';
        }
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

int fm_fs_check_writable(const char *path)
{
    char buf[PATH_MAX];
    struct stat st;

    if (snprintf(buf, sizeof(buf), "%s", path && *path ? path : ".") >= (int)sizeof(buf)) {
        return -ENAMETOOLONG;
    }
    /* Walk up to the first component that exists: that one must be a writable directory. */
    while (stat(buf, &st) < 0) {
        char *slash;
        if (errno != ENOENT || !strcmp(buf, ".") || !strcmp(buf, "/")) {
            return -errno;
        }
        slash = strrchr(buf, '/');
        if (!slash) {
            snprintf(buf, sizeof(buf), ".");
        } else if (slash == buf) {
            buf[1] = '\0';
        } else {
            *slash = '\0';
        }
    }
    if (!S_ISDIR(st.st_mode)) {
        return -ENOTDIR;
    }
    return access(buf, W_OK | X_OK) == 0 ? 0 : -errno;
}
