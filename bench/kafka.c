/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Kafka scale-out costs (issue 21): for windows of N synthetic flows (default 10^4, 10^5,
 * 10^6) the non-empty bins of the window's delta, its size in the binary and the JSON encoding
 * (bytes per flow and per bin), the parts ("messages") it takes at the kafka plugin's default
 * limit (librdkafka's message.max.bytes 1000000 less the plugin's margin), the encode time, and
 * the aggregator's apply rate in bins/s: decode and validate every part, then add its bins to a
 * total, a current window and a pending store delta as flowmixd does.
 *
 * The flows are made like `flowmix send --synthetic` makes them (widely spread: Pareto(1.2)
 * packet counts, mean packet sizes 40-99 or 100-1500 bytes, log-normal durations around 1 s;
 * 60 % TCP, 35 % UDP, 5 % other), from a fixed seed.
 *
 *   bench/kafka [-b BIN_EXP] [N...]
 *   bench/kafka --publish BROKERS [-t TOPIC] [-c COLLECTOR] [-b BIN_EXP] [-w WINDOW_MS] N
 *       build one window's delta of N flows (window = now's) and produce its parts to Kafka
 *       as the kafka plugin does (keyed by collector, lz4, idempotent): the 10^6-flow case of
 *       tests/integration/222-kafka-apply-ping.sh without sending 10^6 flows over UDP.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "flow.h"
#include "hist.h"
#include "histdelta.h"
#include "util/time.h"

#define MARGIN(max) ((max) / 32 + 1024) /* as plugins/kafka/kafka.c */
#define DEFAULT_LIMIT (1000000 - MARGIN(1000000))

static uint64_t rng = 0x2545f4914f6cdd1dull;

static double unif(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

static void make_flow(fm_flow_t *f, uint64_t t0, uint64_t i)
{
    double u = unif();
    memset(f, 0, sizeof(*f));
    f->af = FM_AF_INET;
    f->proto = u < 0.6 ? 6 : u < 0.95 ? 17 : 1;
    double p = floor(pow(unif(), -1.0 / 1.2));
    f->packets = p > 1e6 ? 1000000 : (uint64_t)p;
    double mean = unif() < 0.5 ? 40 + floor(unif() * 60) : 100 + floor(unif() * 1401);
    f->octets = (uint64_t)(f->packets * mean) + (uint64_t)(unif() * (double)f->packets);
    uint64_t dur = 0;
    if (f->packets > 1) {
        double z = sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif());
        double d = exp(log(1000.0) + 2.0 * z);
        dur = d > 300000 ? 300000 : (uint64_t)d;
    }
    f->last_ms = t0 + i % 60000;
    f->first_ms = f->last_ms - dur;
    f->sampling = 1;
    f->records = 1;
    f->fwd_first = 1;
}

static fm_histset_t *make_delta(unsigned bin_exp, uint64_t n)
{
    fm_histset_t *s;
    fm_flow_t batch[1024];
    if (fm_histset_new(bin_exp, &s) < 0) {
        exit(1);
    }
    for (uint64_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < 1024 && i < n; k++, i++) {
            make_flow(&batch[k], 1718000000000ull, i);
        }
        fm_histset_add_flows(s, batch, k);
    }
    return s;
}

static size_t count_bins(const fm_histset_t *s)
{
    size_t n = 0;
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                n += fm_hist_count(fm_histset_cget(s, c, d, m));
            }
        }
    }
    return n;
}

static size_t total_len(const fm_histdelta_part_t *p, size_t n)
{
    size_t t = 0;
    for (size_t i = 0; i < n; i++) {
        t += p[i].len;
    }
    return t;
}

/* Decode every part and add its bins to three sets, as the aggregator does. */
static double apply_seconds(const fm_histdelta_part_t *p, size_t n, unsigned bin_exp,
                            size_t *bins)
{
    fm_histset_t *sets[3];
    fm_histdelta_bins_t b = {0};
    fm_histdelta_meta_t m;
    char err[256];
    for (int i = 0; i < 3; i++) {
        fm_histset_new(bin_exp, &sets[i]);
    }
    uint64_t t0 = fm_time_mono_ns();
    *bins = 0;
    for (size_t i = 0; i < n; i++) {
        if (fm_histdelta_decode_bins(p[i].data, p[i].len, &m, &b, err, sizeof(err)) < 0) {
            fprintf(stderr, "bench/kafka: decode: %s\n", err);
            exit(1);
        }
        for (size_t k = 0; k < b.n; k++) {
            fm_class_t c;
            fm_dir_t d;
            fm_metric_t me;
            fm_histdelta_hist_split(b.v[k].hist, &c, &d, &me);
            for (int j = 0; j < 3; j++) {
                fm_hist_add_bin(fm_histset_get(sets[j], c, d, me), &b.v[k].bin);
            }
        }
        *bins += b.n;
    }
    double s = (double)(fm_time_mono_ns() - t0) / 1e9;
    fm_histdelta_bins_free(&b);
    for (int i = 0; i < 3; i++) {
        fm_histset_free(sets[i]);
    }
    return s;
}

static void measure(unsigned bin_exp, uint64_t n)
{
    fm_histdelta_meta_t m = {.collector = "bench", .run = 1, .seq = 1,
                             .window_start_ms = 1718000000000ull,
                             .window_end_ms = 1718000060000ull, .bin_exp = bin_exp};
    fm_histdelta_part_t *bp, *jp;
    size_t nb, nj, applied;
    fm_histset_t *s = make_delta(bin_exp, n);
    size_t bins = count_bins(s);

    uint64_t t0 = fm_time_mono_ns();
    if (fm_histdelta_encode_parts(&m, s, FM_HISTDELTA_BINARY, DEFAULT_LIMIT, &bp, &nb) < 0 ||
        fm_histdelta_encode_parts(&m, s, FM_HISTDELTA_JSON, DEFAULT_LIMIT, &jp, &nj) < 0) {
        fprintf(stderr, "bench/kafka: encode failed\n");
        exit(1);
    }
    double enc = (double)(fm_time_mono_ns() - t0) / 1e9;
    size_t bl = total_len(bp, nb), jl = total_len(jp, nj);
    double app = apply_seconds(bp, nb, bin_exp, &applied);
    printf("%8" PRIu64 " flows %7zu bins | binary %9zu B %5.2f B/flow %5.2f B/bin %3zu msgs | "
           "json %9zu B %5.2f B/bin %3zu msgs | encode both %.3f s | apply %.0f bins/s "
           "(%.3f s)\n", n, bins, bl, (double)bl / (double)n, (double)bl / (double)bins, nb, jl,
           (double)jl / (double)bins, nj, enc, (double)applied / app, app);
    fm_histdelta_parts_free(bp, nb);
    fm_histdelta_parts_free(jp, nj);
    fm_histset_free(s);
}

static int publish(const char *brokers, const char *topic, const char *id, unsigned bin_exp,
                   uint64_t window_ms, uint64_t n)
{
    char err[512];
    fm_histdelta_meta_t m = {.run = fm_time_wall_ms(), .seq = 1, .bin_exp = bin_exp};
    fm_histdelta_part_t *parts;
    size_t np;
    snprintf(m.collector, sizeof(m.collector), "%s", id);
    m.window_start_ms = fm_time_wall_ms() / window_ms * window_ms;
    m.window_end_ms = m.window_start_ms + window_ms;
    fm_histset_t *s = make_delta(bin_exp, n);
    if (fm_histdelta_encode_parts(&m, s, FM_HISTDELTA_BINARY, DEFAULT_LIMIT, &parts, &np) < 0) {
        fprintf(stderr, "bench/kafka: encode failed\n");
        return 1;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err)) ||
        rd_kafka_conf_set(conf, "compression.codec", "lz4", err, sizeof(err)) ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err))) {
        fprintf(stderr, "bench/kafka: %s\n", err);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "bench/kafka: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < np; i++) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(id, strlen(id)),
            RD_KAFKA_V_VALUE(parts[i].data, parts[i].len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e) {
            fprintf(stderr, "bench/kafka: produce: %s\n", rd_kafka_err2str(e));
            return 1;
        }
    }
    int rc = rd_kafka_flush(rk, 30000) ? 1 : 0;
    printf("published %" PRIu64 " flows, %zu bins, %zu parts, %zu bytes, window %" PRIu64 "\n",
           n, count_bins(s), np, total_len(parts, np), m.window_start_ms);
    rd_kafka_destroy(rk);
    fm_histdelta_parts_free(parts, np);
    fm_histset_free(s);
    return rc;
}

int main(int argc, char **argv)
{
    const char *brokers = NULL, *topic = "flowmix.hist", *id = "bench";
    unsigned bin_exp = 12;
    uint64_t window_ms = 60000;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--publish") && i + 1 < argc) {
            brokers = argv[++i];
        } else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
            topic = argv[++i];
        } else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
            id = argv[++i];
        } else if (!strcmp(argv[i], "-b") && i + 1 < argc) {
            bin_exp = (unsigned)atoi(argv[++i]);
        } else if (!strcmp(argv[i], "-w") && i + 1 < argc) {
            window_ms = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: bench/kafka [-b BIN_EXP] [N...]\n"
                            "       bench/kafka --publish BROKERS [-t TOPIC] [-c COLLECTOR] "
                            "[-b BIN_EXP] [-w WINDOW_MS] N\n");
            return 2;
        }
    }
    if (brokers) {
        return i < argc && window_ms
                   ? publish(brokers, topic, id, bin_exp, window_ms, strtoull(argv[i], NULL, 10))
                   : 2;
    }
    if (i == argc) {
        static const uint64_t def[] = {10000, 100000, 1000000};
        for (size_t k = 0; k < 3; k++) {
            measure(bin_exp, def[k]);
        }
    }
    for (; i < argc; i++) {
        measure(bin_exp, strtoull(argv[i], NULL, 10));
    }
    return 0;
}
