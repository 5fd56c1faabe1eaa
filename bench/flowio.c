/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flow file throughput: writes N synthetic flows (default 2 M) in each writable format to a
 * temporary directory, reads them back, and prints flows per second for both directions, plus
 * the filter evaluation rate.  usage: bench/flowio [N]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter.h"
#include "flowio.h"
#include "util/time.h"

#define BATCH 4096

static void make_flows(fm_flow_t *f, size_t n)
{
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        memset(&f[i], 0, sizeof(f[i]));
        f[i].af = FM_AF_INET;
        f[i].proto = (uint8_t)((x & 1) ? 6 : 17);
        fm_flow_set_v4(f[i].src, (uint32_t)x);
        fm_flow_set_v4(f[i].dst, (uint32_t)(x >> 32));
        f[i].sport = (uint16_t)(x >> 16);
        f[i].dport = (uint16_t)(x >> 48);
        f[i].first_ms = 1433962800000ull + (x >> 30) % 3600000;
        f[i].last_ms = f[i].first_ms + (x >> 40) % 60000;
        f[i].packets = 1 + (x >> 20) % 1000;
        f[i].octets = 64 * f[i].packets + (x >> 8) % 1000;
        f[i].inif = (uint32_t)(x >> 56);
        f[i].records = 1;
    }
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
    fm_flow_t *flows = malloc(n * sizeof(*flows)), *buf = malloc(BATCH * sizeof(*buf));
    static const fm_format_t fmts[] = {FM_FMT_BINARY, FM_FMT_CSV_FLOW, FM_FMT_PIPE, FM_FMT_FTCSV};
    char dir[] = "/tmp/fm-bench-flowio.XXXXXX", path[128], cmd[160];

    if (!flows || !buf || !mkdtemp(dir)) {
        return 1;
    }
    make_flows(flows, n);
    printf("flowio: %zu flows\n", n);
    for (size_t k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++) {
        fm_writer_t *w;
        fm_reader_t *r;
        long got, total = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, fm_format_name(fmts[k]));
        uint64_t t0 = fm_time_mono_ns();
        if (fm_writer_open(path, fmts[k], &w) < 0 || fm_writer_write(w, flows, n) < 0 ||
            fm_writer_close(w) < 0) {
            return 1;
        }
        uint64_t t1 = fm_time_mono_ns();
        if (fm_reader_open(path, fmts[k], &r) < 0) {
            return 1;
        }
        while ((got = fm_reader_read(r, buf, BATCH)) > 0) {
            total += got;
        }
        fm_reader_close(r);
        uint64_t t2 = fm_time_mono_ns();
        printf("  %-9s write %6.2f M flows/s   read %6.2f M flows/s%s\n", fm_format_name(fmts[k]),
               n / ((t1 - t0) / 1e3), n / ((t2 - t1) / 1e3),
               total == (long)n ? "" : "   (COUNT MISMATCH)");
    }
    fm_filter_t *flt;
    if (fm_filter_compile("(prot == 6) & (packets > 1) & (sp < 1024 or dp < 1024)", &flt, NULL,
                          0) == 0) {
        size_t hits = 0;
        uint64_t t0 = fm_time_mono_ns();
        for (size_t i = 0; i < n; i++) {
            hits += fm_filter_match(flt, &flows[i]);
        }
        uint64_t t1 = fm_time_mono_ns();
        printf("  filter    %6.2f M flows/s (%zu matched)\n", n / ((t1 - t0) / 1e3), hits);
        fm_filter_free(flt);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    free(flows);
    free(buf);
    return system(cmd) == 0 ? 0 : 1;
}
