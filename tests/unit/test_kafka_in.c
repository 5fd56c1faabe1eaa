/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * [input.kafka] consumer (src/kafka_in.c) against librdkafka's mock cluster on a real libuv
 * loop: new delta parts are applied once each, windows interleaving; repeats of (collector,
 * run, window, seq, part) at or below the window's high-water mark are dropped as duplicates, a
 * new run of a collector starts its seq over, garbage, another bin_exp and parts the daemon
 * refuses are counted as rejected; positions are committed from a mark; a second consumer
 * seeded with the first one's marks (a restart) applies nothing twice and a split delta once.
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
    int parts;       /* parts whose bins were added (counted at their first slice) */
    const void *last; /* meta of the last slice, to count parts */
    uint64_t last_seq;
    uint32_t last_part;
    char last_id[256];
} sink_t;

static int check(void *ctx, const fm_histdelta_meta_t *m, char *err, size_t errlen)
{
    if (m->window_end_ms - m->window_start_ms != HOUR) {
        snprintf(err, errlen, "window length");
        return FM_EINVAL;
    }
    return 0;
}

static void add(void *ctx, const fm_histdelta_meta_t *m, const fm_histdelta_bin_t *bins,
                size_t n)
{
    sink_t *s = ctx;
    if (m->seq != s->last_seq || m->part != s->last_part || strcmp(m->collector, s->last_id)) {
        s->parts++;
        s->last_seq = m->seq;
        s->last_part = m->part;
        snprintf(s->last_id, sizeof(s->last_id), "%s", m->collector);
    }
    for (size_t i = 0; i < n; i++) {
        fm_class_t c;
        fm_dir_t d;
        fm_metric_t me;
        fm_histdelta_hist_split(bins[i].hist, &c, &d, &me);
        assert_int_equal(fm_hist_add_bin(fm_histset_get(s->sum, c, d, me), &bins[i].bin), 0);
    }
}

static const fm_kafka_in_ops_t ops = {check, add};

static void produce(const char *data, size_t len)
{
    assert_int_equal(rd_kafka_producev(prod, RD_KAFKA_V_TOPIC("hist"),
                                       RD_KAFKA_V_VALUE((void *)data, len),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* Publish one delta of window `win` (hours): one bin at lo = seq with `flows` flows, so sums
 * show what was applied. */
static void publish(const char *id, uint64_t run, uint64_t seq, unsigned bin_exp, uint64_t win,
                    uint64_t window_ms, uint64_t flows)
{
    fm_histset_t *s;
    fm_hist_bin_t b;
    fm_histdelta_meta_t m = {.run = run, .seq = seq, .window_start_ms = win * HOUR,
                             .window_end_ms = win * HOUR + window_ms, .bin_exp = bin_exp};
    fm_histdelta_part_t *parts;
    size_t n;
    snprintf(m.collector, sizeof(m.collector), "%s", id);
    fm_hist_bin_of(seq, bin_exp, &b.lo, &b.hi);
    b.flows = flows;
    b.packets = flows;
    b.octets = 100 * flows;
    assert_int_equal(fm_histset_new(bin_exp, &s), 0);
    assert_int_equal(fm_hist_add_bin(fm_histset_get(s, FM_CLASS_UDP, FM_DIR_UNIFLOW,
                                                    FM_METRIC_LENGTH), &b), 0);
    assert_int_equal(fm_histdelta_encode_parts(&m, s, seq % 2 ? FM_HISTDELTA_BINARY
                                                              : FM_HISTDELTA_JSON, 0, &parts,
                                               &n), 0);
    produce(parts[0].data, parts[0].len);
    fm_histdelta_parts_free(parts, n);
    fm_histset_free(s);
}

/* A delta of 3000 bins split into 1 KiB parts; part 1 is published twice. */
static size_t publish_split(const char *id, uint64_t *flows)
{
    fm_histset_t *s;
    fm_histdelta_meta_t m = {.run = 5, .seq = 1, .window_start_ms = 10 * HOUR,
                             .window_end_ms = 11 * HOUR, .bin_exp = 0};
    fm_histdelta_part_t *parts;
    size_t n;
    snprintf(m.collector, sizeof(m.collector), "%s", id);
    assert_int_equal(fm_histset_new(0, &s), 0);
    *flows = 0;
    for (uint64_t i = 0; i < 3000; i++) {
        fm_hist_bin_t b = {.lo = 1000 + i * 7, .hi = 1001 + i * 7, .flows = 1 + i % 5,
                           .packets = 9, .octets = 900};
        assert_int_equal(fm_hist_add_bin(fm_histset_get(s, FM_CLASS_TCP, FM_DIR_BIFLOW,
                                                        FM_METRIC_SIZE), &b), 0);
        *flows += b.flows;
    }
    assert_int_equal(fm_histdelta_encode_parts(&m, s, FM_HISTDELTA_BINARY, 1024, &parts, &n), 0);
    assert_true(n >= 3);
    for (size_t i = 0; i < n; i++) {
        produce(parts[i].data, parts[i].len);
    }
    produce(parts[1].data, parts[1].len);
    fm_histdelta_parts_free(parts, n);
    fm_histset_free(s);
    return n;
}

typedef struct {
    fm_kafka_in_t *k;
    uv_timer_t t;
    json_int_t want;
    int ticks;
} watch_t;

static void on_watch(uv_timer_t *t)
{
    watch_t *w = t->data;
    json_t *js = fm_kafka_in_stats_json(w->k);
    json_int_t seen = json_integer_value(json_object_get(js, "messages"));
    json_decref(js);
    if ((seen >= w->want && !fm_kafka_in_busy(w->k)) || ++w->ticks > 300) {
        uv_stop(t->loop);
    }
}

/* Consume everything in the topic with a new group, seeded with marks; returns the stats. */
static json_t *consume(const char *group, unsigned bin_exp, sink_t *sink, json_int_t want,
                       const fm_store_mark_t *marks, size_t nmarks, fm_store_mark_t **dirty,
                       size_t *ndirty)
{
    char *keys[] = {"log_level"}, *values[] = {"0"};
    fm_config_kafka_in_t cfg = {.enabled = true,
                                .brokers = (char *)rd_kafka_mock_cluster_bootstraps(mock),
                                .topic = "hist", .group = (char *)group, .nprops = 1,
                                .keys = keys, .values = values};
    uv_loop_t loop;
    watch_t w = {.want = want};
    char err[512];

    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(fm_kafka_in_new(&loop, &cfg, bin_exp, &ops, sink, marks, nmarks, &w.k, err,
                                     sizeof(err)), 0);
    assert_int_equal(fm_kafka_in_start(w.k), 0);
    uv_timer_init(&loop, &w.t);
    w.t.data = &w;
    uv_timer_start(&w.t, on_watch, 50, 50);
    uv_run(&loop, UV_RUN_DEFAULT);

    json_t *js = fm_kafka_in_stats_json(w.k);
    char *dump = json_dumps(js, JSON_COMPACT);
    print_message("kafka_in: %s\n", dump);
    free(dump);
    *ndirty = fm_kafka_in_dirty(w.k, dirty);

    /* The positions of the messages handled are committed to the group. */
    void *mark = fm_kafka_in_mark(w.k);
    assert_non_null(mark);
    fm_kafka_in_commit(w.k, mark, true);
    json_t *js2 = fm_kafka_in_stats_json(w.k);
    assert_int_equal(json_integer_value(json_object_get(js2, "commits")), 1);
    assert_int_equal(json_integer_value(json_object_get(js2, "commit_failures")), 0);
    json_decref(js2);

    fm_kafka_in_stop(w.k, NULL, NULL);
    uv_close((uv_handle_t *)&w.t, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    fm_kafka_in_free(w.k);
    return js;
}

static void test_consume(void **state)
{
    sink_t sink = {0};
    fm_store_mark_t *dirty, *dirty2;
    size_t ndirty, ndirty2, nsplit;
    uint64_t split_flows;

    /* c1 run 1: windows 10 and 11 interleave; repeats of (seq, part) in a window are dropped;
     * run 2 of c1 and c2 start at 1 */
    publish("c1", 1, 1, 12, 10, HOUR, 1);
    publish("c1", 1, 2, 12, 11, HOUR, 10);
    publish("c1", 1, 3, 12, 10, HOUR, 100);
    publish("c1", 1, 1, 12, 10, HOUR, 1);
    publish("c1", 1, 2, 12, 11, HOUR, 10);
    publish("c1", 2, 1, 12, 10, HOUR, 1000);
    publish("c2", 1, 1, 12, 10, HOUR, 10000);
    produce("{\"garbage", 9);
    publish("c3", 1, 1, 10, 10, HOUR, 5);      /* another bin_exp */
    publish("c3", 1, 2, 12, 10, 2 * HOUR, 5);  /* refused by the daemon (window length) */
    publish("c3", 1, 3, 12, 10, HOUR, 100000); /* c3's gap at 1-2 does not block 3 */
    nsplit = publish_split("c4", &split_flows);
    assert_int_equal(rd_kafka_flush(prod, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);

    assert_int_equal(fm_histset_new(12, &sink.sum), 0);
    json_t *js = consume("agg", 12, &sink, 11 + (json_int_t)nsplit + 1, NULL, 0, &dirty, &ndirty);
    /* c4's parts have bin_exp 0: rejected here, applied by the bin_exp 0 consumer below */
    assert_int_equal(json_integer_value(json_object_get(js, "messages")), 12 + nsplit);
    assert_int_equal(json_integer_value(json_object_get(js, "applied")), 6);
    assert_int_equal(json_integer_value(json_object_get(js, "duplicates")), 2);
    assert_int_equal(json_integer_value(json_object_get(js, "rejected")), 3 + nsplit + 1);
    assert_int_equal(json_integer_value(json_object_get(js, "sources")), 4);
    json_decref(js);
    assert_int_equal(sink.parts, 6);
    uint64_t flows;
    fm_hist_totals(fm_histset_get(sink.sum, FM_CLASS_UDP, FM_DIR_UNIFLOW, FM_METRIC_LENGTH),
                   &flows, NULL, NULL);
    assert_int_equal(flows, 1 + 10 + 100 + 1000 + 10000 + 100000);
    /* marks: c1/1 at 10 h and 11 h, c1/2, c2/1 and c3/1 at 10 h */
    assert_int_equal(ndirty, 5);
    for (size_t i = 0; i < ndirty; i++) {
        if (!strcmp(dirty[i].collector, "c1") && dirty[i].run == 1) {
            assert_int_equal(dirty[i].seq, dirty[i].window_start_ms == 10 * HOUR ? 3 : 2);
        }
    }

    /* A restart (new group: everything is read again) seeded with those marks applies nothing
     * twice (c1-c3: 10 duplicates, whatever else is wrong with them); the split delta of c4
     * applies once, its repeated part 1 is a duplicate. */
    sink_t sink2 = {0};
    assert_int_equal(fm_histset_new(0, &sink2.sum), 0);
    js = consume("agg2", 0, &sink2, 11 + (json_int_t)nsplit + 1, dirty, ndirty, &dirty2,
                 &ndirty2);
    assert_int_equal(json_integer_value(json_object_get(js, "applied")), nsplit);
    assert_int_equal(json_integer_value(json_object_get(js, "duplicates")), 10 + 1);
    assert_int_equal(json_integer_value(json_object_get(js, "rejected")), 1);
    json_decref(js);
    fm_hist_totals(fm_histset_get(sink2.sum, FM_CLASS_TCP, FM_DIR_BIFLOW, FM_METRIC_SIZE),
                   &flows, NULL, NULL);
    assert_int_equal(flows, split_flows);
    assert_int_equal(ndirty2, 1); /* c4's window */
    assert_int_equal(dirty2[0].part, nsplit - 1);
    free(dirty);
    free(dirty2);
    fm_histset_free(sink.sum);
    fm_histset_free(sink2.sum);
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
    assert_int_equal(fm_kafka_in_new(&loop, &cfg, 12, &ops, NULL, NULL, 0, &k, err,
                                     sizeof(err)), FM_ECONFIG);
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
