/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the flow-models csv_hist reader (fm_hist_read_csv), then the bins it
 * returns are added to a histogram and written back, as `flowmix fit` and `hist` would use
 * them.
 */
#include "config.h"

#include "fuzz_util.h"

#include "hist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    fuzz_quiet();
    if (!devnull) {
        devnull = fopen("/dev/null", "w");
    }
    char path[32];
    int fd = fuzz_memfile(data, size, path, sizeof(path));
    fm_hist_bin_t *bins = NULL;
    size_t n = 0;
    if (fm_hist_read_csv(path, &bins, &n) == 0) {
        fm_hist_t *h = NULL;
        if (fm_hist_new(0, &h) == 0) {
            for (size_t i = 0; i < n; i++) {
                (void)fm_hist_add_bin(h, &bins[i]);
            }
            (void)fm_hist_write_csv(h, devnull);
            fm_hist_free(h);
        }
        free(bins);
    }
    close(fd);
    return 0;
}
