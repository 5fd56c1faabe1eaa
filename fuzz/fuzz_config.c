/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the daemon's INI configuration (fm_config_load), then, for files that
 * load, fm_config_print so every parsed value is read back as the `flowmixd --print-config`
 * path would.
 */
#include "config.h"

#include "fuzz_util.h"

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    fuzz_quiet();
    if (!devnull) {
        devnull = fopen("/dev/null", "w");
    }
    char path[32];
    int fd = fuzz_memfile(data, size, path, sizeof(path));
    fm_config_t *cfg = NULL;
    char err[512];
    if (fm_config_load(path, &cfg, err, sizeof(err)) == 0) {
        fm_config_print(cfg, devnull);
        fm_config_free(cfg);
    }
    close(fd);
    return 0;
}
