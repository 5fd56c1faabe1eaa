/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * [input.kafka] consumer (src/kafka_in.c) against librdkafka's mock cluster on a real libuv
 * loop: new deltas are applied once each, in any order; repeats of (collector, run, seq) are
 * dropped as duplicates, a new run of a collector starts its seq over, garbage, another bin_exp
 * and deltas the daemon refuses are counted as rejected; positions are committed from a mark.
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
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <uv.h>

#include "histdelta.h"
#include "kafka_in.h"
#include "log.h"
#include "util/err.h"

#define HOUR 3600000ull

static rd_kafka_t *prod;
static rd_kafka_mock_cluster_t *mock;

typedef struct {
    fm_histset_t *sum;
    int applied;
} sink_t;

static int apply(void *ctx, const fm_histdelta_meta_t *m, const fm_histset_t *delta, char *err,
                 size_t errlen)
{
    sink_t *s = ctx;
    if (m->window_end_ms - m->window_start_ms != HOUR) {
        snprintf(err, errlen, "window length");
        return FM_EINVAL;
    }
    assert_int_equal(fm_histset_merge(s->sum, delta), 0);
    s->applied++;
    return 0;
}

/* Publish one delta: one bin at lo = seq with `flows` flows, so sums show what was applied. */
static void publish(const char *id, uint64_t run, uint64_t seq, unsigned bin_exp,
                    uint64_t window_ms, uint64_t flows)
{
    fm_histset_t *s;
    fm_hist_bin_t b;
    fm_histdelta_meta_t m = {.run = run, .seq = seq, .window_start_ms = 10 * HOUR,
                             .window_end_ms = 10 * HOUR + window_ms, .bin_exp = bin_exp};
    char *text;
    size_t len;
    snprintf(m.collector, sizeof(m.collector), "%s", id);
    fm_hist_bin_of(seq, bin_exp, &b.lo, &b.hi);
    b.flows = flows;
    b.packets = flows;
    b.octets = 100 * flows;
    assert_int_equal(fm_histset_new(bin_exp, &s), 0);
    assert_int_equal(fm_hist_add_bin(fm_histset_get(s, FM_CLASS_UDP, FM_DIR_UNIFLOW,
                                                    FM_METRIC_LENGTH), &b), 0);
    assert_int_equal(fm_histdelta_encode(&m, s, &text, &len), 0);
    assert_int_equal(rd_kafka_producev(prod, RD_KAFKA_V_TOPIC("hist"),
                                       RD_KAFKA_V_VALUE(text, len),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    fm_histset_free(s);
}

typedef struct {
    fm_kafka_in_t *k;
    uv_timer_t t;
    int ticks;
} watch_t;

static void on_watch(uv_timer_t *t)
{
    watch_t *w = t->data;
    json_t *js = fm_kafka_in_stats_json(w->k);
    json_int_t seen = json_integer_value(json_object_get(js, "messages"));
    json_decref(js);
    if (seen >= 11 || ++w->ticks > 300) {
        uv_stop(t->loop);
    }
}

static void test_consume(void **state)
{
    char *keys[] = {"log_level"}, *values[] = {"0"};
    fm_config_kafka_in_t cfg = {.enabled = true,
                                .brokers = (char *)rd_kafka_mock_cluster_bootstraps(mock),
                                .topic = "hist", .group = "agg", .nprops = 1, .keys = keys,
                                .values = values};
    sink_t sink = {0};
    uv_loop_t loop;
    watch_t w = {0};
    char err[512];

    /* run 1 of c1: 1, 3, 2 (reordered), then 2 and 1 again; run 2 of c1 and c2 start at 1 */
    publish("c1", 1, 1, 12, HOUR, 1);
    publish("c1", 1, 3, 12, HOUR, 10);
    publish("c1", 1, 2, 12, HOUR, 100);
    publish("c1", 1, 2, 12, HOUR, 100);
    publish("c1", 1, 1, 12, HOUR, 1);
    publish("c1", 2, 1, 12, HOUR, 1000);
    publish("c2", 1, 1, 12, HOUR, 10000);
    assert_int_equal(rd_kafka_producev(prod, RD_KAFKA_V_TOPIC("hist"),
                                       RD_KAFKA_V_VALUE("{\"garbage", 9),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    publish("c3", 1, 1, 10, HOUR, 5);      /* another bin_exp */
    publish("c3", 1, 2, 12, 2 * HOUR, 5);  /* refused by the daemon (window length) */
    publish("c3", 1, 3, 12, HOUR, 100000); /* c3's gap at 1-2 does not block 3 */
    assert_int_equal(rd_kafka_flush(prod, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);

    assert_int_equal(fm_histset_new(12, &sink.sum), 0);
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(fm_kafka_in_new(&loop, &cfg, 12, apply, &sink, &w.k, err, sizeof(err)), 0);
    assert_int_equal(fm_kafka_in_start(w.k), 0);
    uv_timer_init(&loop, &w.t);
    w.t.data = &w;
    uv_timer_start(&w.t, on_watch, 50, 50);
    uv_run(&loop, UV_RUN_DEFAULT);

    json_t *js = fm_kafka_in_stats_json(w.k);
    char *dump = json_dumps(js, JSON_COMPACT);
    print_message("kafka_in: %s\n", dump);
    free(dump);
    assert_int_equal(json_integer_value(json_object_get(js, "messages")), 11);
    assert_int_equal(json_integer_value(json_object_get(js, "applied")), 6);
    assert_int_equal(json_integer_value(json_object_get(js, "duplicates")), 2);
    assert_int_equal(json_integer_value(json_object_get(js, "rejected")), 3);
    assert_int_equal(json_integer_value(json_object_get(js, "sources")), 4);
    json_decref(js);
    assert_int_equal(sink.applied, 6);
    uint64_t flows;
    fm_hist_totals(fm_histset_get(sink.sum, FM_CLASS_UDP, FM_DIR_UNIFLOW, FM_METRIC_LENGTH),
                   &flows, NULL, NULL);
    assert_int_equal(flows, 1 + 10 + 100 + 1000 + 10000 + 100000);

    /* The positions after 11 messages are committed to the group. */
    void *mark = fm_kafka_in_mark(w.k);
    assert_non_null(mark);
    fm_kafka_in_commit(w.k, mark, true);
    js = fm_kafka_in_stats_json(w.k);
    assert_int_equal(json_integer_value(json_object_get(js, "commits")), 1);
    assert_int_equal(json_integer_value(json_object_get(js, "commit_failures")), 0);
    json_decref(js);

    fm_kafka_in_stop(w.k, NULL, NULL);
    uv_close((uv_handle_t *)&w.t, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    fm_kafka_in_free(w.k);
    fm_histset_free(sink.sum);
}

static void test_bad_property(void **state)
{
    char *keys[] = {"no.such.property"}, *values[] = {"1"};
    fm_config_kafka_in_t cfg = {.enabled = true, .brokers = "localhost:1", .topic = "t",
                                .group = "g", .nprops = 1, .keys = keys, .values = values};
    uv_loop_t loop;
    fm_kafka_in_t *k;
    char err[512];
    uv_loop_init(&loop);
    assert_int_equal(fm_kafka_in_new(&loop, &cfg, 12, apply, NULL, &k, err, sizeof(err)),
                     FM_ECONFIG);
    assert_non_null(strstr(err, "no.such.property"));
    assert_null(k);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consume),
        cmocka_unit_test(test_bad_property),
    };
    char err[256];
    fm_log_set_level(LOG_ERR); /* rejections are logged as warnings */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
    rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof(err));
    prod = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!prod || !(mock = rd_kafka_handle_mock_cluster(prod))) {
        fprintf(stderr, "SKIP: cannot create librdkafka's mock cluster\n");
        return 77;
    }
    rd_kafka_mock_topic_create(mock, "hist", 1, 1);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rd_kafka_destroy(prod);
    return rc;
}
