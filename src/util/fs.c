/* SPDX-License-Identifier: BSD-2-Clause */
/* File-system helpers. */
#include "config.h"
#include "util/fs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

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
