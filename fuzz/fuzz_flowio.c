/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the text flow file readers (csv_flow, pipe, ftcsv) through fm_reader_open
 * and fm_reader_read.  nfcapd (an external program) and binary (a directory of column files)
 * are left out.  Byte 0 chooses the format.
 */
#include "config.h"

#include "fuzz_util.h"

#include "flowio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const fm_format_t formats[] = {FM_FMT_CSV_FLOW, FM_FMT_PIPE, FM_FMT_FTCSV};
    fuzz_quiet();
    if (size < 1) {
        return 0;
    }
    fm_format_t fmt = formats[data[0] % 3];
    char path[32];
    int fd = fuzz_memfile(data + 1, size - 1, path, sizeof(path));
    fm_reader_t *r = NULL;
    if (fm_reader_open(path, fmt, &r) == 0) {
        fm_flow_t flows[16];
        long n;
        do {
            n = fm_reader_read(r, flows, 16);
            for (long i = 0; i < n; i++) {
                uint64_t t[FM_FIELD_COUNT];
                fm_flow_to_tuple(&flows[i], t);
            }
        } while (n > 0);
        fm_reader_close(r);
    }
    close(fd);
    return 0;
}
