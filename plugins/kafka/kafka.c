/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kafka output plugin: publishes finished flows and/or closed-window histogram deltas to Apache
 * Kafka topics with librdkafka, so collectors that outgrow one host can feed shared consumers
 * and an aggregating flowmixd ([input.kafka]) (DESIGN §2, issue 10).
 *
 *     [plugin.kafka]
 *     brokers = kafka1:9092,kafka2:9092   ; bootstrap servers (required)
 *     flows = yes                         ; publish finished flows (default yes)
 *     topic = flowmix.flows               ; their topic (default)
 *     key = exporter                      ; flows' message key: exporter (index, decimal) | none
 *     histograms = no                     ; publish histogram deltas (default no)
 *     hist_topic = flowmix.hist           ; their topic (default)
 *     hist_format = binary                ; binary (default, compact) | json
 *     flush_timeout = 10s                 ; how long shutdown waits for outstanding deliveries
 *     kafka.compression.type = lz4        ; any librdkafka property, prefixed with "kafka."
 *     kafka.security.protocol = sasl_ssl  ; e.g. for a secured cluster
 *
 * Message format: one flow per message, a compact JSON object (one line), keys
 *   first_ms last_ms af proto src dst sport dport packets octets rev_first_ms rev_last_ms
 *   rev_packets rev_octets tcp_flags rev_tcp_flags exporter domain inif outif sampling records
 *   flags
 * with times in epoch ms, af 2 or 10, src/dst as text and flags the FM_PLUGIN_FLOW_* bits.
 *
 * Histogram deltas (ABI 2 hist callback) are published as flowmixd hands them over, one part of
 * a "flowmix.histdelta" delta per message (doc/guide.md §8), keyed by the delta's collector id:
 * the default partitioner hashes the key, so one collector's deltas share a partition and stay
 * in order there.  hist_params (ABI 3) tells flowmixd the largest part to make: the producer's
 * effective message.max.bytes (librdkafka's default 1000000, or kafka.message.max.bytes) less a
 * margin for the key and the record and batch framing, so every part fits the producer and a
 * broker at its default limits.  With histograms = no the plugin declines deltas, and flowmixd
 * stops computing them.
 *
 * Defaults that differ from librdkafka's (each can be overridden with kafka.*):
 * compression.codec = lz4 (every broker since 0.10 takes it; zstd needs 2.1) and
 * enable.idempotence = true (no duplicates or reordering from producer retries, which an
 * aggregator's per-window high-water marks rely on).
 *
 * Delivery: librdkafka batches, retries (message.send.max.retries, retry.backoff.ms) and reports
 * each message once; delivery reports are served on this plugin's worker thread after every
 * batch and tick.  When librdkafka's local queue is full the plugin waits for it up to 5 s per
 * message (the flowmix queue in front absorbs that, or drops, per `overflow`), then counts the
 * message as failed.  Counters: produced, delivered, failed (flows), hist_produced,
 * hist_delivered, hist_failed (deltas), queue_full_waits, outstanding.
 * To use a real cluster, set brokers to its bootstrap servers; tests use librdkafka's mock
 * cluster (kafka.test.mock.num.brokers = 1 works too).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include <flowmix/plugin.h>

#include "../common/putil.h"

#define QUEUE_FULL_WAIT_MS 5000
/* Room left in message.max.bytes for the key (<= 255 bytes) and the record and batch framing
 * librdkafka counts against it: 1/32 of the limit plus 1 KiB (31 KiB at the 1 MB default). */
#define HIST_MARGIN(max) ((max) / 32 + 1024)
/* Smallest message.max.bytes histogram deltas work with (a part needs >= 1024 bytes). */
#define HIST_MIN_MESSAGE_MAX 4096

typedef struct kafka {
    rd_kafka_t *rk;
    rd_kafka_topic_t *topic;
    rd_kafka_topic_t *hist_topic; /* NULL unless histograms = yes */
    bool flows;
    bool key_exporter;
    bool have_brokers;       /* brokers, kafka.bootstrap.servers or a mock cluster */
    bool set_compression;    /* kafka.compression.codec/type given */
    bool set_idempotence;    /* kafka.enable.idempotence given */
    bool hist_json;          /* hist_format = json */
    uint64_t hist_max_bytes; /* largest part flowmixd may hand over */
    uint64_t flush_timeout_ms;
    uint64_t produced;
    uint64_t delivered;
    uint64_t failed;
    uint64_t queue_full_waits;
    uint64_t hist_produced;
    uint64_t hist_delivered;
    uint64_t hist_failed;
} kafka_t;

/* A delta's per-message opaque, so its delivery report is told apart from a flow's. */
static char hist_tag;

/* Served from rd_kafka_poll/flush, i.e. on the worker thread: no lock needed. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    kafka_t *k = opaque;
    bool hist = m->_private == &hist_tag;
    if (m->err) {
        (*(hist ? &k->hist_failed : &k->failed))++;
    } else {
        (*(hist ? &k->hist_delivered : &k->delivered))++;
    }
}

static int parse_bool(const char *key, const char *v, bool *out, char *err, size_t errlen)
{
    if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1")) {
        *out = true;
    } else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0")) {
        *out = false;
    } else {
        snprintf(err, errlen, "%s = %s: expected yes or no", key, v);
        return -EINVAL;
    }
    return 0;
}

static int set_key(kafka_t *k, rd_kafka_conf_t *conf, const char *key, const char *v,
                   const char **topic, const char **hist_topic, bool *hists, char *err,
                   size_t errlen)
{
    char kerr[256];
    if (!strcmp(key, "brokers")) {
        key = "kafka.bootstrap.servers";
    }
    if (!strcmp(key, "kafka.bootstrap.servers") || !strcmp(key, "kafka.test.mock.num.brokers")) {
        k->have_brokers = true;
    }
    if (!strcmp(key, "kafka.compression.codec") || !strcmp(key, "kafka.compression.type")) {
        k->set_compression = true;
    }
    if (!strcmp(key, "kafka.enable.idempotence")) {
        k->set_idempotence = true;
    }
    if (!strncmp(key, "kafka.", 6)) {
        if (rd_kafka_conf_set(conf, key + 6, v, kerr, sizeof(kerr)) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "%s = %s: %s", key, v, kerr);
            return -EINVAL;
        }
    } else if (!strcmp(key, "topic")) {
        *topic = v;
    } else if (!strcmp(key, "hist_topic")) {
        *hist_topic = v;
    } else if (!strcmp(key, "flows")) {
        return parse_bool(key, v, &k->flows, err, errlen);
    } else if (!strcmp(key, "histograms")) {
        return parse_bool(key, v, hists, err, errlen);
    } else if (!strcmp(key, "hist_format")) {
        if (strcmp(v, "binary") && strcmp(v, "json")) {
            snprintf(err, errlen, "hist_format = %s: expected binary or json", v);
            return -EINVAL;
        }
        k->hist_json = !strcmp(v, "json");
    } else if (!strcmp(key, "key")) {
        if (strcmp(v, "exporter") && strcmp(v, "none")) {
            snprintf(err, errlen, "key = %s: expected exporter or none", v);
            return -EINVAL;
        }
        k->key_exporter = !strcmp(v, "exporter");
    } else if (!strcmp(key, "flush_timeout")) {
        if (pu_parse_duration(v, &k->flush_timeout_ms) < 0) {
            snprintf(err, errlen, "flush_timeout = %s: expected a duration", v);
            return -EINVAL;
        }
    } else {
        snprintf(err, errlen, "unknown key '%s' (brokers, flows, topic, key, histograms, "
                 "hist_topic, hist_format, flush_timeout, kafka.*)", key);
        return -EINVAL;
    }
    return 0;
}

static void kf_fini(void *state);

/* Our defaults where the user set nothing (see the top of this file). */
static int set_defaults(kafka_t *k, rd_kafka_conf_t *conf, char *err, size_t errlen)
{
    char kerr[256];
    if ((!k->set_compression &&
         rd_kafka_conf_set(conf, "compression.codec", "lz4", kerr, sizeof(kerr)) !=
             RD_KAFKA_CONF_OK) ||
        (!k->set_idempotence &&
         rd_kafka_conf_set(conf, "enable.idempotence", "true", kerr, sizeof(kerr)) !=
             RD_KAFKA_CONF_OK)) {
        snprintf(err, errlen, "librdkafka refuses a default: %s", kerr);
        return -EINVAL;
    }
    return 0;
}

/* The largest part of a delta: the producer's effective message.max.bytes less the margin. */
static int hist_limit(kafka_t *k, const rd_kafka_conf_t *conf, char *err, size_t errlen)
{
    char v[32];
    size_t vlen = sizeof(v);
    unsigned long long max;
    if (rd_kafka_conf_get(conf, "message.max.bytes", v, &vlen) != RD_KAFKA_CONF_OK ||
        sscanf(v, "%llu", &max) != 1) {
        snprintf(err, errlen, "cannot read message.max.bytes from librdkafka");
        return -EINVAL;
    }
    if (max < HIST_MIN_MESSAGE_MAX) {
        snprintf(err, errlen, "kafka.message.max.bytes = %llu: histogram deltas need at least "
                 "%d", max, HIST_MIN_MESSAGE_MAX);
        return -EINVAL;
    }
    k->hist_max_bytes = max - HIST_MARGIN(max);
    return 0;
}

/* The keys into k and conf, defaults and checks included, without side effects (librdkafka
 * only records the settings in conf): shared by validate and init. */
static int kf_configure(kafka_t *k, rd_kafka_conf_t *conf, const char *const *keys,
                        const char *const *values, size_t n, const char **topic,
                        const char **hist_topic, bool *hists, char *err, size_t errlen)
{
    int rc = 0;
    k->flows = true;
    k->key_exporter = true;
    k->flush_timeout_ms = 10000;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = set_key(k, conf, keys[i], values[i], topic, hist_topic, hists, err, errlen);
    }
    if (rc == 0 && !k->have_brokers) {
        snprintf(err, errlen, "key 'brokers' (bootstrap servers) is required");
        rc = -EINVAL;
    }
    if (rc == 0 && !k->flows && !*hists) {
        snprintf(err, errlen, "flows = no and histograms = no: nothing to publish");
        rc = -EINVAL;
    }
    if (rc == 0) {
        rc = set_defaults(k, conf, err, errlen);
    }
    if (rc == 0 && *hists) {
        rc = hist_limit(k, conf, err, errlen);
    }
    return rc;
}

static int kf_validate(const char *const *keys, const char *const *values, size_t n, char *err,
                       size_t errlen)
{
    kafka_t k = {0};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *topic = NULL, *hist_topic = NULL;
    bool hists = false;
    int rc = kf_configure(&k, conf, keys, values, n, &topic, &hist_topic, &hists, err, errlen);
    rd_kafka_conf_destroy(conf);
    return rc;
}

static int kf_init(const char *const *keys, const char *const *values, size_t n, void **state,
                   char *err, size_t errlen)
{
    kafka_t *k = calloc(1, sizeof(*k));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *topic = "flowmix.flows", *hist_topic = "flowmix.hist";
    bool hists = false;
    char kerr[512];
    int rc = k ? kf_configure(k, conf, keys, values, n, &topic, &hist_topic, &hists, err, errlen)
               : -ENOMEM;

    if (rc < 0) {
        rd_kafka_conf_destroy(conf);
        free(k);
        return rc;
    }
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof(kerr)); /* takes conf */
    if (!k->rk) {
        snprintf(err, errlen, "cannot create the Kafka producer: %s", kerr);
        rd_kafka_conf_destroy(conf);
        free(k);
        return -EINVAL;
    }
    k->topic = k->flows ? rd_kafka_topic_new(k->rk, topic, NULL) : NULL;
    k->hist_topic = hists ? rd_kafka_topic_new(k->rk, hist_topic, NULL) : NULL;
    if ((k->flows && !k->topic) || (hists && !k->hist_topic)) {
        snprintf(err, errlen, "cannot create topic handle: %s",
                 rd_kafka_err2str(rd_kafka_last_error()));
        kf_fini(k);
        return -EINVAL;
    }
    *state = k;
    return 0;
}

static void addr_text(const uint8_t a[16], uint8_t af, char *buf, size_t len)
{
    if (af == FM_PLUGIN_AF_INET6) {
        inet_ntop(AF_INET6, a, buf, (socklen_t)len);
    } else {
        inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
    }
}

static char *flow_json(const fm_plugin_flow_t *f)
{
    char s[64], d[64];
    addr_text(f->src, f->af, s, sizeof(s));
    addr_text(f->dst, f->af, d, sizeof(d));
    json_t *o = json_pack(
        "{s:I, s:I, s:i, s:i, s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i,"
        " s:I, s:I, s:I, s:I, s:I, s:I, s:i}",
        "first_ms", (json_int_t)f->first_ms, "last_ms", (json_int_t)f->last_ms, "af", f->af,
        "proto", f->proto, "src", s, "dst", d, "sport", f->sport, "dport", f->dport,
        "packets", (json_int_t)f->packets, "octets", (json_int_t)f->octets,
        "rev_first_ms", (json_int_t)f->rev_first_ms, "rev_last_ms", (json_int_t)f->rev_last_ms,
        "rev_packets", (json_int_t)f->rev_packets, "rev_octets", (json_int_t)f->rev_octets,
        "tcp_flags", f->tcp_flags, "rev_tcp_flags", f->rev_tcp_flags,
        "exporter", (json_int_t)f->exporter, "domain", (json_int_t)f->domain,
        "inif", (json_int_t)f->inif, "outif", (json_int_t)f->outif,
        "sampling", (json_int_t)f->sampling, "records", (json_int_t)f->records,
        "flags", f->flags);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return text;
}

/* Hand one message to librdkafka, which owns (and frees) text on success. */
static int produce(kafka_t *k, const fm_plugin_flow_t *f, char *text)
{
    char key[16];
    int klen = snprintf(key, sizeof(key), "%u", (unsigned)f->exporter);
    for (int waited = 0;; waited += 100) {
        if (rd_kafka_produce(k->topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_FREE, text,
                             strlen(text), k->key_exporter ? key : NULL,
                             k->key_exporter ? (size_t)klen : 0, NULL) == 0) {
            k->produced++;
            return 0;
        }
        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL ||
            waited >= QUEUE_FULL_WAIT_MS) {
            break;
        }
        k->queue_full_waits++;
        rd_kafka_poll(k->rk, 100); /* serve delivery reports, which frees queue space */
    }
    free(text);
    k->failed++;
    return -EIO;
}

static int kf_consume(void *state, const fm_plugin_flow_t *flows, size_t n)
{
    kafka_t *k = state;
    int rc = 0;
    if (!k->flows) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char *text = flow_json(&flows[i]);
        if (!text) {
            k->failed++;
            rc = -ENOMEM;
            continue;
        }
        if (produce(k, &flows[i], text) < 0) {
            rc = -EIO;
        }
    }
    rd_kafka_poll(k->rk, 0);
    return rc;
}

/* The part's collector id, the message key: the binary header's first field ("FMHD", version,
 * varint length, bytes) or a JSON document's "collector" (copied into id). */
static bool collector_of(const char *data, size_t len, char id[256])
{
    const unsigned char *p = (const unsigned char *)data;
    if (len > 6 && !memcmp(p, "FMHD", 4)) {
        size_t n = p[5] & 0x7f, at = 6; /* LEB128: ids up to 255 bytes take 1 or 2 bytes */
        if (p[5] & 0x80) {
            n |= (size_t)(p[6] & 0x7f) << 7;
            at = 7;
        }
        if (n == 0 || n > 255 || at + n > len) {
            return false;
        }
        memcpy(id, p + at, n);
        id[n] = '\0';
        return true;
    }
    json_t *doc = json_loadb(data, len, 0, NULL);
    const char *s = json_string_value(json_object_get(doc, "collector"));
    bool ok = s && *s && strlen(s) < 256;
    if (ok) {
        strcpy(id, s);
    }
    json_decref(doc);
    return ok;
}

static int kf_hist(void *state, const char *data, size_t len, uint64_t window_start_ms)
{
    kafka_t *k = state;
    char id[256];
    int rc = -EIO;

    if (!k->hist_topic) {
        return FM_PLUGIN_HIST_DECLINE;
    }
    if (!collector_of(data, len, id)) {
        k->hist_failed++;
        return -EINVAL;
    }
    for (int waited = 0;; waited += 100) {
        /* F_COPY: the part is borrowed for this call only */
        if (rd_kafka_produce(k->hist_topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                             (void *)data, len, id, strlen(id), &hist_tag) == 0) {
            k->hist_produced++;
            rc = 0;
            break;
        }
        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL ||
            waited >= QUEUE_FULL_WAIT_MS) {
            k->hist_failed++;
            break;
        }
        k->queue_full_waits++;
        rd_kafka_poll(k->rk, 100);
    }
    rd_kafka_poll(k->rk, 0);
    return rc;
}

static int kf_hist_params(void *state, fm_plugin_hist_params_t *p)
{
    const kafka_t *k = state;
    p->max_bytes = k->hist_max_bytes;
    p->encoding = k->hist_json ? FM_PLUGIN_HIST_JSON : FM_PLUGIN_HIST_BINARY;
    return 0;
}

static int kf_tick(void *state, uint64_t now_ms)
{
    kafka_t *k = state;
    rd_kafka_poll(k->rk, 0);
    return 0;
}

static int kf_flush(void *state)
{
    kafka_t *k = state;
    return rd_kafka_flush(k->rk, (int)k->flush_timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0
                                                                                        : -EIO;
}

static size_t kf_counters(void *state, fm_plugin_counter_t *out, size_t max)
{
    const kafka_t *k = state;
    const fm_plugin_counter_t v[] = {{"produced", k->produced},
                                     {"delivered", k->delivered},
                                     {"failed", k->failed},
                                     {"hist_produced", k->hist_produced},
                                     {"hist_delivered", k->hist_delivered},
                                     {"hist_failed", k->hist_failed},
                                     {"queue_full_waits", k->queue_full_waits},
                                     {"outstanding", (uint64_t)rd_kafka_outq_len(k->rk)}};
    size_t nv = sizeof(v) / sizeof(v[0]), c = max < nv ? max : nv;
    memcpy(out, v, c * sizeof(v[0]));
    return c;
}

static void kf_fini(void *state)
{
    kafka_t *k = state;
    rd_kafka_flush(k->rk, (int)k->flush_timeout_ms);
    if (k->topic) {
        rd_kafka_topic_destroy(k->topic);
    }
    if (k->hist_topic) {
        rd_kafka_topic_destroy(k->hist_topic);
    }
    rd_kafka_destroy(k->rk);
    free(k);
}

FM_PLUGIN_EXPORT const fm_plugin_t FM_PLUGIN_DESCRIPTOR = {
    .abi_version = FM_PLUGIN_ABI_VERSION,
    .flow_size = sizeof(fm_plugin_flow_t),
    .name = "kafka",
    .version = "1.2",
    .description = "publishes finished flows and histogram deltas to Apache Kafka (librdkafka)",
    .init = kf_init,
    .consume = kf_consume,
    .flush = kf_flush,
    .tick = kf_tick,
    .counters = kf_counters,
    .fini = kf_fini,
    .hist = kf_hist,
    .hist_params = kf_hist_params,
    .validate = kf_validate,
};
