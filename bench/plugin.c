/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Benchmark of the plugin host: cost on the loop thread of fm_plugins_consume (convert + queue)
 * and end-to-end throughput into a plugin, with the example plugin (overflow = block, so every
 * flow is delivered) and with 1, 2 and 4 instances sharing each batch.
 *
 *   bench/plugin [PLUGIN.so] [FLOWS] [BATCH]
 *   (default: plugins/.libs/example.so of the build tree, 2000000 flows, batches of 64)
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plugin.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *so, size_t ninst, uint64_t total, size_t batch)
{
    fm_config_plugin_t cfg[4];
    char *keys[] = {"summary", "overflow", "queue"};
    char *values[] = {"/dev/null", "block", "256"};
    char names[4][16];
    fm_plugins_t *p;
    char err[512];

    for (size_t i = 0; i < ninst; i++) {
        snprintf(names[i], sizeof(names[i]), "bench%zu", i);
        cfg[i] = (fm_config_plugin_t){.name = names[i], .path = (char *)so, .nkeys = 3,
                                      .keys = keys, .values = values};
    }
    if (fm_plugins_new(cfg, ninst, ".", &p, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    fm_flow_t *flows = calloc(batch, sizeof(*flows));
    for (size_t i = 0; i < batch; i++) {
        flows[i].first_ms = 1433962800000ull + i;
        flows[i].last_ms = flows[i].first_ms + 10;
        flows[i].packets = 1 + i;
        flows[i].octets = 100 * (1 + i);
        flows[i].proto = 6;
        flows[i].af = 2;
    }
    double t0 = now_s(), produce = 0;
    for (uint64_t done = 0; done < total; done += batch) {
        double a = now_s();
        fm_plugins_consume(p, flows, batch);
        produce += now_s() - a;
    }
    fm_plugins_wait_idle(p, 600000);
    double t1 = now_s();
    fm_plugin_stats_t st;
    fm_plugins_stats(p, 0, &st);
    printf("instances %zu  batch %zu  flows %" PRIu64 ": %.1f Mflows/s end to end, "
           "producer %.1f ns/flow (incl. waits on full queues: %.3f s blocked)\n",
           ninst, batch, st.flows, (double)st.flows / (t1 - t0) / 1e6,
           produce / (double)st.flows * 1e9, (double)st.blocked_us / 1e6);
    fm_plugins_free(p);
    free(flows);
    return 0;
}

int main(int argc, char **argv)
{
    const char *so = argc > 1 ? argv[1] : "plugins/.libs/example.so";
    uint64_t total = argc > 2 ? strtoull(argv[2], NULL, 10) : 2000000;
    size_t batch = argc > 3 ? strtoull(argv[3], NULL, 10) : 64;
    if (!batch) {
        return 2;
    }
    for (size_t n = 1; n <= 4; n *= 2) {
        if (run(so, n, total, batch)) {
            return 1;
        }
    }
    return 0;
}
