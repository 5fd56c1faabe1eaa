/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kafka plugin against librdkafka's mock cluster (rdkafka_mock.h): no broker needed.  The
 * plugin, loaded through the real host, publishes N flows; a consumer in the test reads the topic
 * back and checks every message against the flow it came from (count, order, each field), and the
 * plugin's delivery counters.  Histogram deltas (histograms = yes, flows = no) arrive on their
 * topic unchanged, keyed by collector id, one collector's all in one partition and in order;
 * with the default histograms = no the plugin declines them.  Also: a missing brokers key is
 * refused at init.
 * Exit 77 (skip) if the mock cluster cannot be created.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "histdelta.h"
#include "log.h"
#include "plugin.h"
#include "util/err.h"

#define N_FLOWS 500

static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mock;
static char so_path[512];

static void make_flow(uint64_t i, fm_flow_t *f)
{
    memset(f, 0, sizeof(*f));
    f->first_ms = 1433962800000ull + i * 11;
    f->last_ms = f->first_ms + i % 977;
    f->packets = 1 + i % 17;
    f->octets = 60 * f->packets + i;
    f->rev_packets = i % 2;
    f->rev_octets = f->rev_packets * 99;
    if (i % 3 == 0) {
        f->af = FM_AF_INET6;
        f->src[0] = 0x20;
        f->src[1] = 0x01;
        f->src[15] = (uint8_t)i;
        f->dst[15] = 1;
    } else {
        f->af = FM_AF_INET;
        fm_flow_set_v4(f->src, 0x0a000001u + (uint32_t)i);
        fm_flow_set_v4(f->dst, 0xc0000201u);
    }
    f->proto = i % 2 ? 6 : 17;
    f->sport = (uint16_t)(40000 + i);
    f->dport = 53;
    f->exporter = 0; /* one key: all messages on one partition, in order */
    f->records = 1 + (uint32_t)(i % 3);
    f->sampling = 1;
    f->flags = f->rev_packets ? FM_FLOW_BIFLOW : 0;
}

static int setup(void **state)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!mock_rk) {
        return -1;
    }
    mock = rd_kafka_mock_cluster_new(mock_rk, 1);
    if (!mock) {
        return -1;
    }
    rd_kafka_mock_topic_create(mock, "flows", 1, 1);
    rd_kafka_mock_topic_create(mock, "hist", 4, 1);
    snprintf(so_path, sizeof(so_path), "%s/plugins/.libs/kafka.so",
             getenv("FM_PLUGIN_BUILD_DIR") ? getenv("FM_PLUGIN_BUILD_DIR") : ".");
    return 0;
}

static int teardown(void **state)
{
    rd_kafka_mock_cluster_destroy(mock);
    rd_kafka_destroy(mock_rk);
    return 0;
}

static rd_kafka_t *consumer_of(const char *topic, int partitions)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers",
                                       rd_kafka_mock_cluster_bootstraps(mock), err, sizeof(err)),
                     RD_KAFKA_CONF_OK);
    rd_kafka_conf_set(conf, "group.id", "flowmix-test", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    assert_non_null(rk);
    rd_kafka_poll_set_consumer(rk);
    /* assign() rather than subscribe(): no group rebalance to wait for */
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
    for (int i = 0; i < partitions; i++) {
        rd_kafka_topic_partition_list_add(parts, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    assert_int_equal(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
    return rk;
}

static void check_message(const rd_kafka_message_t *m, uint64_t i)
{
    fm_flow_t f;
    json_error_t jerr;
    char want_src[64];
    make_flow(i, &f);
    fm_flow_addr_str(f.src, want_src, sizeof(want_src));
    json_t *o = json_loadb(m->payload, m->len, 0, &jerr);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "first_ms")), (json_int_t)f.first_ms);
    assert_int_equal(json_integer_value(json_object_get(o, "last_ms")), (json_int_t)f.last_ms);
    assert_int_equal(json_integer_value(json_object_get(o, "packets")), (json_int_t)f.packets);
    assert_int_equal(json_integer_value(json_object_get(o, "octets")), (json_int_t)f.octets);
    assert_int_equal(json_integer_value(json_object_get(o, "rev_packets")),
                     (json_int_t)f.rev_packets);
    assert_int_equal(json_integer_value(json_object_get(o, "af")), f.af);
    assert_int_equal(json_integer_value(json_object_get(o, "proto")), f.proto);
    assert_int_equal(json_integer_value(json_object_get(o, "sport")), f.sport);
    assert_int_equal(json_integer_value(json_object_get(o, "records")), (json_int_t)f.records);
    assert_int_equal(json_integer_value(json_object_get(o, "flags")), f.flags);
    assert_string_equal(json_string_value(json_object_get(o, "src")), want_src);
    assert_int_equal(m->key_len, 1);
    assert_memory_equal(m->key, "0", 1);
    json_decref(o);
}

static void test_publish_and_consume(void **state)
{
    char *k[] = {"brokers", "topic", "overflow"};
    char *v[] = {(char *)rd_kafka_mock_cluster_bootstraps(mock), "flows", "block"};
    fm_config_plugin_t c = {.name = "kafka", .path = so_path, .nkeys = 3, .keys = k,
                            .values = v};
    fm_plugins_t *p;
    char err[512];
    fm_flow_t batch[50];

    assert_int_equal(fm_plugins_new(&c, 1, NULL, &p, err, sizeof(err)), 0);
    for (uint64_t i = 0; i < N_FLOWS;) {
        size_t n = 0;
        for (; n < 50 && i < N_FLOWS; n++, i++) {
            make_flow(i, &batch[n]);
        }
        fm_plugins_consume(p, batch, n);
    }
    fm_plugins_flush(p);
    assert_int_equal(fm_plugins_wait_idle(p, 30000), 0);
    json_t *js = fm_plugins_stats_json(p);
    json_t *pc = json_object_get(json_array_get(js, 0), "plugin_counters");
    assert_int_equal(json_integer_value(json_object_get(pc, "produced")), N_FLOWS);
    assert_int_equal(json_integer_value(json_object_get(pc, "delivered")), N_FLOWS);
    assert_int_equal(json_integer_value(json_object_get(pc, "failed")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(js, 0), "errors")), 0);
    json_decref(js);
    fm_plugins_free(p);

    rd_kafka_t *rk = consumer_of("flows", 1);
    uint64_t got = 0;
    for (int idle = 0; got < N_FLOWS && idle < 100;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m) {
            idle++;
            continue;
        }
        if (!m->err) {
            check_message(m, got++);
        }
        rd_kafka_message_destroy(m);
    }
    /* Nothing beyond the N flows either. */
    rd_kafka_message_t *extra = rd_kafka_consumer_poll(rk, 300);
    if (extra) {
        assert_int_not_equal(extra->err, RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_message_destroy(extra);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    assert_int_equal(got, N_FLOWS);
}

/* A delta document of collector id with sequence number seq (one bin, so documents differ). */
static char *delta_doc(const char *id, uint64_t seq, size_t *len)
{
    fm_histset_t *s;
    fm_hist_bin_t b = {.lo = seq, .hi = seq + 1, .flows = 1, .packets = seq, .octets = 9};
    fm_histdelta_meta_t m = {.run = 5, .seq = seq, .window_start_ms = 3600000,
                             .window_end_ms = 7200000, .bin_exp = 12};
    char *text;
    snprintf(m.collector, sizeof(m.collector), "%s", id);
    assert_int_equal(fm_histset_new(12, &s), 0);
    assert_int_equal(fm_hist_add_bin(fm_histset_get(s, FM_CLASS_TCP, FM_DIR_UNIFLOW,
                                                    FM_METRIC_LENGTH), &b), 0);
    assert_int_equal(fm_histdelta_encode(&m, s, &text, len), 0);
    fm_histset_free(s);
    return text;
}

#define N_DELTAS 20

static void test_hist_deltas(void **state)
{
    char *k[] = {"brokers", "flows", "histograms", "hist_topic", "overflow"};
    char *v[] = {(char *)rd_kafka_mock_cluster_bootstraps(mock), "no", "yes", "hist", "block"};
    fm_config_plugin_t c = {.name = "kafka", .path = so_path, .nkeys = 5, .keys = k,
                            .values = v};
    fm_plugins_t *p;
    char err[512], *docs[N_DELTAS];
    size_t lens[N_DELTAS];
    fm_flow_t f;

    assert_int_equal(fm_plugins_new(&c, 1, NULL, &p, err, sizeof(err)), 0);
    assert_true(fm_plugins_want_hist(p));
    make_flow(1, &f);
    fm_plugins_consume(p, &f, 1); /* flows = no: not published */
    for (int i = 0; i < N_DELTAS; i++) {
        docs[i] = delta_doc(i % 2 ? "collector-b" : "collector-a", 1 + (uint64_t)i / 2,
                            &lens[i]);
        fm_plugins_hist(p, docs[i], lens[i], 3600000);
    }
    fm_plugins_flush(p);
    assert_int_equal(fm_plugins_wait_idle(p, 30000), 0);
    json_t *js = fm_plugins_stats_json(p);
    json_t *pc = json_object_get(json_array_get(js, 0), "plugin_counters");
    assert_int_equal(json_integer_value(json_object_get(pc, "hist_produced")), N_DELTAS);
    assert_int_equal(json_integer_value(json_object_get(pc, "hist_delivered")), N_DELTAS);
    assert_int_equal(json_integer_value(json_object_get(pc, "hist_failed")), 0);
    assert_int_equal(json_integer_value(json_object_get(pc, "produced")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(js, 0), "hist_deltas")),
                     N_DELTAS);
    json_decref(js);
    fm_plugins_free(p);

    /* Read all partitions: each message equals the document sent, its key is the collector,
     * and each collector's deltas come from one partition with seq 1, 2, 3, ... */
    rd_kafka_t *rk = consumer_of("hist", 4);
    int got = 0, part[2] = {-1, -1};
    uint64_t next_seq[2] = {1, 1};
    for (int idle = 0; got < N_DELTAS && idle < 100;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m) {
            idle++;
            continue;
        }
        if (!m->err) {
            int who = m->key_len == 11 && !memcmp(m->key, "collector-b", 11);
            assert_true(who || (m->key_len == 11 && !memcmp(m->key, "collector-a", 11)));
            int i = (int)(2 * (next_seq[who] - 1)) + who;
            assert_true(i < N_DELTAS);
            assert_int_equal(m->len, lens[i]);
            assert_memory_equal(m->payload, docs[i], lens[i]);
            if (part[who] < 0) {
                part[who] = m->partition;
            }
            assert_int_equal(m->partition, part[who]);
            next_seq[who]++;
            got++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    assert_int_equal(got, N_DELTAS);
    for (int i = 0; i < N_DELTAS; i++) {
        free(docs[i]);
    }
}

/* histograms defaults to no: the plugin declines deltas, so flowmixd stops making them. */
static void test_hist_declined_by_default(void **state)
{
    char *k[] = {"brokers", "topic"};
    char *v[] = {(char *)rd_kafka_mock_cluster_bootstraps(mock), "flows"};
    fm_config_plugin_t c = {.name = "kafka", .path = so_path, .nkeys = 2, .keys = k,
                            .values = v};
    fm_plugins_t *p;
    char err[512];
    size_t len;
    char *doc = delta_doc("x", 1, &len);
    assert_int_equal(fm_plugins_new(&c, 1, NULL, &p, err, sizeof(err)), 0);
    fm_plugins_hist(p, doc, len, 3600000);
    assert_int_equal(fm_plugins_wait_idle(p, 30000), 0);
    assert_false(fm_plugins_want_hist(p));
    fm_plugins_free(p);
    free(doc);
    /* and nothing at all to publish is a configuration error */
    char *k2[] = {"brokers", "flows"}, *v2[] = {"localhost:1", "no"};
    c.keys = k2;
    c.values = v2;
    assert_int_equal(fm_plugins_new(&c, 1, NULL, &p, err, sizeof(err)), FM_EPLUGIN);
    assert_non_null(strstr(err, "nothing to publish"));
}

static void test_needs_brokers(void **state)
{
    char *k[] = {"topic"}, *v[] = {"flows"};
    fm_config_plugin_t c = {.name = "kafka", .path = so_path, .nkeys = 1, .keys = k,
                            .values = v};
    fm_plugins_t *p;
    char err[512];
    assert_int_equal(fm_plugins_new(&c, 1, NULL, &p, err, sizeof(err)), FM_EPLUGIN);
    assert_non_null(strstr(err, "'brokers'"));
    char *k2[] = {"brokers", "kafka.no.such.property"}, *v2[] = {"localhost:1", "x"};
    c.keys = k2;
    c.values = v2;
    c.nkeys = 2;
    assert_int_equal(fm_plugins_new(&c, 1, NULL, &p, err, sizeof(err)), FM_EPLUGIN);
    assert_non_null(strstr(err, "kafka.no.such.property"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_and_consume),
        cmocka_unit_test(test_hist_deltas),
        cmocka_unit_test(test_hist_declined_by_default),
        cmocka_unit_test(test_needs_brokers),
    };
    fm_log_set_level(LOG_ERR);
    if (setup(NULL) < 0) {
        fprintf(stderr, "SKIP: cannot create librdkafka's mock cluster\n");
        return 77;
    }
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    teardown(NULL);
    return rc;
}
