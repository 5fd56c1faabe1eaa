/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Decode throughput per core: a memory buffer of realistic datagrams (built with the encoder:
 * v5 with 30 records, v9 and IPFIX at a 1400-byte MTU, templates every 20 datagrams, a mix of
 * IPv4 and 10 % IPv6, TCP/UDP) decoded repeatedly into a sink that only counts.
 * The rate is given per CPU second of the decoding thread (what one core does, whatever else
 * the machine runs) and per wall-clock second.
 * Usage: bench/decode [seconds per protocol, default 2]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/decode.h"
#include "encode.h"
#include "util/time.h"

#define NFLOWS 30000
#define T0 UINT64_C(1700000000000)

typedef struct {
    uint8_t *buf;
    size_t *off, *len, n;
} dgrams_t;

/* CPU time of this thread: on a shared machine the wall clock also counts other processes. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count_sink(void *ctx, const fm_flow_t *f, size_t n)
{
    uint64_t *sum = ctx;
    *sum += n + f[0].packets; /* touch the data so nothing is optimised away */
}

static void make_flows(fm_flow_t *f, size_t n)
{
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memset(&f[i], 0, sizeof(f[i]));
        f[i].af = i % 10 == 9 ? FM_AF_INET6 : FM_AF_INET;
        if (f[i].af == FM_AF_INET6) {
            memcpy(f[i].src, &x, 8);
            memcpy(f[i].dst + 8, &x, 8);
        } else {
            fm_flow_set_v4(f[i].src, (uint32_t)x);
            fm_flow_set_v4(f[i].dst, (uint32_t)(x >> 32));
        }
        f[i].proto = x % 3 ? 6 : 17;
        f[i].sport = (uint16_t)(x >> 16);
        f[i].dport = x % 2 ? 443 : 53;
        f[i].packets = 1 + x % 1000;
        f[i].octets = f[i].packets * (40 + x % 1400);
        f[i].first_ms = T0 + i * 3;
        f[i].last_ms = f[i].first_ms + x % 60000;
    }
}

static void build(int version, const fm_flow_t *flows, dgrams_t *g, uint64_t *nrec)
{
    fm_encode_conf_t c;
    fm_encode_conf_default(&c, version);
    fm_encoder_t *e;
    fm_encoder_new(&c, &e);
    g->buf = malloc((size_t)NFLOWS * 100 + 65536);
    g->off = malloc(NFLOWS * sizeof(size_t));
    g->len = malloc(NFLOWS * sizeof(size_t));
    g->n = 0;
    size_t w = 0, i = 0;
    *nrec = 0;
    while (i < NFLOWS) {
        int used = fm_encoder_datagram(e, flows + i, NFLOWS - i, T0 + 120000, g->buf + w, 1500,
                                       &g->len[g->n]);
        g->off[g->n] = w;
        w += g->len[g->n++];
        i += (size_t)used;
    }
    *nrec = version == 5 ? NFLOWS - NFLOWS / 10 : NFLOWS; /* v5 has no IPv6 */
    fm_encoder_free(e);
}

static void run(const char *name, int version, const fm_flow_t *flows, double seconds)
{
    dgrams_t g;
    uint64_t per_pass;
    build(version, flows, &g, &per_pass);
    fm_decoder_t *d;
    fm_decoder_new(NULL, 1, &d);
    uint64_t sum = 0, passes = 0, bytes = 0;
    uint64_t cpu0 = cpu_ns();
    uint64_t start = fm_time_mono_ns(), now = start;
    while (now - start < (uint64_t)(seconds * 1e9)) {
        for (size_t i = 0; i < g.n; i++) {
            fm_decoder_process(d, g.buf + g.off[i], g.len[i], T0 + 120000, count_sink, &sum);
            bytes += g.len[i];
        }
        passes++;
        now = fm_time_mono_ns();
    }
    double secs = (double)(now - start) / 1e9;
    double cpu = (double)(cpu_ns() - cpu0) / 1e9;
    const fm_decode_stats_t *s = fm_decoder_stats(d);
    printf("decode %s: %.0f records per CPU second, %.0f records/s wall (%.0f datagrams/s, "
           "%.1f MB/s, %llu records, %llu malformed)\n", name, (double)s->records / cpu,
           (double)s->records / secs,
           (double)s->datagrams / secs, (double)bytes / secs / 1e6,
           (unsigned long long)s->records, (unsigned long long)s->malformed);
    if (s->records != passes * per_pass) {
        printf("decode %s: record count mismatch (%llu, expected %llu)\n", name,
               (unsigned long long)s->records, (unsigned long long)(passes * per_pass));
    }
    fm_decoder_free(d);
    free(g.buf);
    free(g.off);
    free(g.len);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    fm_flow_t *flows = malloc(NFLOWS * sizeof(*flows));
    make_flows(flows, NFLOWS);
    run("v5", 5, flows, seconds);
    run("v9", 9, flows, seconds);
    run("ipfix", 10, flows, seconds);
    free(flows);
    return 0;
}
