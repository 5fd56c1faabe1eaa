/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper for the bundled plugins' content tests (tests/integration/210-plugin-files.py):
 * generates N pseudo-random finished flows (IPv4/IPv6, TCP/UDP/ICMP, uniflows and biflows),
 * writes them as text to DUMP so the test can compute the expected files independently, and
 * feeds them through the real plugin host to the plugin SO configured with KEY=VALUE arguments.
 *
 *   plugin_feed [-n N] [-s SEED] [-t TICK_MS] [-T TICK2_MS] SO DUMP [KEY=VALUE...]
 *
 * TICK_MS is sent before the first batch, TICK2_MS (if given) after half the flows, so a test
 * can force one rotation.  The loader runs with overflow = block: nothing may be dropped.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"
#include "util/err.h"

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void gen(fm_flow_t *f, uint64_t i)
{
    static const uint8_t protos[] = {6, 17, 1, 58, 6, 17, 6, 47};
    memset(f, 0, sizeof(*f));
    bool v6 = next() % 4 == 0;
    f->af = v6 ? FM_AF_INET6 : FM_AF_INET;
    f->proto = protos[next() % 8];
    for (int k = 0; k < 16; k++) {
        f->src[k] = (uint8_t)next();
        f->dst[k] = (uint8_t)next();
    }
    if (!v6) {
        fm_flow_set_v4(f->src, (uint32_t)next());
        fm_flow_set_v4(f->dst, (uint32_t)next());
    }
    f->first_ms = 1433962800000ull + i * 37 + next() % 5000 - (i == 3 ? 4000 : 0);
    f->last_ms = f->first_ms + next() % 300000;
    f->packets = 1 + next() % 100000;
    f->octets = f->packets * (40 + next() % 1460);
    if (next() % 2) {
        f->flags |= FM_FLOW_BIFLOW;
        f->rev_packets = next() % 3 ? 1 + next() % 1000 : 0;
        f->rev_octets = f->rev_packets * 64;
        if (f->rev_packets) {
            f->rev_first_ms = f->first_ms + next() % 2000 - 1000;
            f->rev_last_ms = f->rev_first_ms + next() % 400000;
        }
    }
    f->sport = (uint16_t)next();
    f->dport = (uint16_t)next();
    f->exporter = (uint32_t)(next() % 3);
    f->domain = (uint32_t)(next() % 100);
    f->inif = (uint32_t)(next() % 20 == 0 ? 70000 : next() % 64);
    f->outif = (uint32_t)(next() % 64);
    f->sampling = 1;
    f->records = 1 + (uint32_t)(next() % 5);
    f->tcp_flags = (uint8_t)next();
    f->rev_tcp_flags = (uint8_t)next();
    f->fwd_first = 1;
}

static void dump(FILE *out, const fm_flow_t *f)
{
    fprintf(out, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                 " %" PRIu64 " %" PRIu64 " ",
            f->first_ms, f->last_ms, f->rev_first_ms, f->rev_last_ms, f->packets, f->octets,
            f->rev_packets, f->rev_octets);
    for (int k = 0; k < 16; k++) {
        fprintf(out, "%02x", f->src[k]);
    }
    fputc(' ', out);
    for (int k = 0; k < 16; k++) {
        fprintf(out, "%02x", f->dst[k]);
    }
    fprintf(out, " %u %u %u %u %u %u %u %u %u %u %u %u %u %u\n", f->exporter, f->domain,
            f->inif, f->outif, f->sampling, f->records, f->sport, f->dport, f->af, f->proto,
            f->tcp_flags, f->rev_tcp_flags, f->flags, f->fwd_first);
}

int main(int argc, char **argv)
{
    uint64_t n = 1000, tick = 0, tick2 = 0;
    int c;
    rng = 0x9e3779b97f4a7c15ull;
    while ((c = getopt(argc, argv, "n:s:t:T:")) != -1) {
        switch (c) {
        case 'n': n = strtoull(optarg, NULL, 10); break;
        case 's': rng = strtoull(optarg, NULL, 10) | 1; break;
        case 't': tick = strtoull(optarg, NULL, 10); break;
        case 'T': tick2 = strtoull(optarg, NULL, 10); break;
        default: return 2;
        }
    }
    if (argc - optind < 2) {
        fprintf(stderr, "usage: plugin_feed [-n N] [-s SEED] [-t MS] [-T MS] SO DUMP [K=V...]\n");
        return 2;
    }
    size_t nk = (size_t)(argc - optind - 2) + 1;
    char **keys = calloc(nk, sizeof(char *)), **values = calloc(nk, sizeof(char *));
    keys[0] = "overflow";
    values[0] = "block";
    for (size_t i = 1; i < nk; i++) {
        char *kv = argv[optind + 1 + (int)i], *eq = strchr(kv, '=');
        if (!eq) {
            fprintf(stderr, "expected KEY=VALUE: %s\n", kv);
            return 2;
        }
        *eq = '\0';
        keys[i] = kv;
        values[i] = eq + 1;
    }
    fm_config_plugin_t cfg = {.name = "feed", .path = argv[optind], .nkeys = nk, .keys = keys,
                              .values = values};
    fm_plugins_t *p;
    char err[512];
    if (fm_plugins_new(&cfg, 1, ".", &p, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    FILE *out = fopen(argv[optind + 1], "w");
    if (!out) {
        perror(argv[optind + 1]);
        return 1;
    }
    if (tick) {
        fm_plugins_tick(p, tick);
    }
    fm_flow_t batch[100];
    for (uint64_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < 100 && i < n; k++, i++) {
            gen(&batch[k], i);
            dump(out, &batch[k]);
        }
        fm_plugins_consume(p, batch, k);
        if (tick2 && i == (n / 200) * 100) {
            fm_plugins_wait_idle(p, 60000); /* ticks are not ordered with batches */
            fm_plugins_tick(p, tick2);
        }
    }
    fclose(out);
    fm_plugin_stats_t st;
    fm_plugins_wait_idle(p, 60000);
    fm_plugins_stats(p, 0, &st);
    fm_plugins_free(p);
    free(keys);
    free(values);
    printf("flows %" PRIu64 " dropped %" PRIu64 " errors %" PRIu64 "\n", st.flows, st.dropped,
           st.errors);
    return st.dropped || st.errors || st.flows != n ? 1 : 0;
}
