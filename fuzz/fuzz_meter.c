/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: capture bytes (pcap or pcapng) through the meter's libpcap source, frame
 * decoder and flow cache, with the nfstream CSV projection of every emitted flow.  Byte 0 picks
 * the options (accounting mode, tunnels, statistics, splt, a short idle timeout, nDPI for 1 in 8)
 * so all per-packet paths are reached.
 */
#include "config.h"

#include "fuzz_util.h"

#include <signal.h>

#include "meter/capture.h"
#include "meter/meter.h"
#include "meter/output.h"

static void on_flow(void *ctx, const fm_meter_flow_t *f)
{
    fm_flow_t flow;
    char buf[64];

    (void)ctx;
    fm_meter_to_flow(f, &flow);
    fm_meter_fmt_double(buf, sizeof buf, f->mean_ps[0] + f->stddev_piat_ms[2]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size < 1) {
        return 0;
    }
    uint8_t sel = data[0];
    fm_meter_opts_t o;
    fm_meter_opts_default(&o);
    o.accounting_mode = sel & 3;
    o.decode_tunnels = !(sel & 4);
    o.statistics = sel & 8;
    o.splt = sel & 16 ? 3 : 0;
    o.dissections = (sel & 0xE0) == 0xE0 ? 4 : 0; /* nDPI set-up is slow: 1 input in 8 */
    o.idle_ms = sel & 64 ? 0 : 120000;

    char path[32];
    int fd = fuzz_memfile(data + 1, size - 1, path, sizeof(path));
    const char *paths[] = {path};
    fm_capture_opts_t co;
    fm_capture_opts_default(&co);
    fm_capture_t *c = NULL;
    fm_meter_t *m = NULL;
    char err[256];
    if (fm_capture_new_files(paths, 1, &co, &c) == 0 &&
        fm_meter_new(&o, on_flow, NULL, &m) == 0) {
        /* bounded: libFuzzer inputs are small, but a pcap header may claim many records */
        fm_capture_run(c, m, NULL, 100000, err, sizeof err);
        fm_meter_flush(m);
    }
    fm_meter_free(m);
    fm_capture_free(c);
    close(fd);
    return 0;
}
