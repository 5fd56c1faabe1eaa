/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the plugin host against real shared objects built for the purpose
 * (tests/plugins/): order and content of what a plugin receives, refusal of bad plugins with a
 * clear message, all-or-nothing loading, consume errors, and the two overflow policies with a
 * slow plugin; histogram deltas (ABI 2) in order with the flows, only to plugins with a hist
 * callback, and an ABI 1 plugin loaded beside them.  Plugins are found under $FM_PLUGIN_BUILD_DIR (set by `make check`).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "flowmix/plugin.h"
#include "log.h"
#include "plugin.h"
#include "util/err.h"

static char tmpdir[64];
static char file_a[128], file_b[128];

static const char *builddir(void)
{
    const char *d = getenv("FM_PLUGIN_BUILD_DIR");
    return d ? d : ".";
}

/* Path of a test plugin's shared object in the build tree. */
static const char *tp(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s/tests/plugins/.libs/%s.so", builddir(), name);
    return buf[k];
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A config entry; keys/values are string literals kept in static arrays by the caller. */
static fm_config_plugin_t pcfg(const char *name, const char *path, char **keys, char **values,
                               size_t n)
{
    fm_config_plugin_t c = {.name = (char *)name, .path = (char *)path, .nkeys = n,
                            .keys = keys, .values = values};
    return c;
}

/* Flow number i of a deterministic sequence: every field derives from i. */
static void make_flow(uint64_t i, fm_flow_t *f)
{
    memset(f, 0, sizeof(*f));
    f->first_ms = 1433962800000ull + i * 7;
    f->last_ms = f->first_ms + (i % 1000);
    f->packets = 1 + i % 13;
    f->octets = 40 * f->packets + i;
    f->rev_packets = i % 3;
    f->rev_octets = f->rev_packets * 100;
    f->rev_first_ms = f->rev_packets ? f->first_ms + 1 : 0;
    f->rev_last_ms = f->rev_packets ? f->last_ms + 1 : 0;
    fm_flow_set_v4(f->src, 0x0a000000u + (uint32_t)i);
    fm_flow_set_v4(f->dst, 0xc0a80001u);
    f->exporter = (uint32_t)(i % 5);
    f->domain = 7;
    f->inif = 1;
    f->outif = 2;
    f->sampling = 1;
    f->records = 1 + (uint32_t)(i % 4);
    f->sport = (uint16_t)(1024 + i);
    f->dport = 443;
    f->af = FM_AF_INET;
    f->proto = i % 2 ? 6 : 17;
    f->tcp_flags = 0x1b;
    f->flags = f->rev_packets ? FM_FLOW_BIFLOW : 0;
    f->fwd_first = 1;
}

/* Feed `batches` batches of 1..37 flows, numbered from 0; returns the number of flows. */
static uint64_t feed(fm_plugins_t *p, int batches, uint64_t *max_wait_us)
{
    fm_flow_t fl[37];
    uint64_t seq = 0;
    for (int b = 0; b < batches; b++) {
        size_t n = 1 + (size_t)(b * 11) % 37;
        for (size_t k = 0; k < n; k++) {
            make_flow(seq++, &fl[k]);
        }
        uint64_t t0 = now_us();
        fm_plugins_consume(p, fl, n);
        uint64_t dt = now_us() - t0;
        if (max_wait_us && dt > *max_wait_us) {
            *max_wait_us = dt;
        }
    }
    return seq;
}

static int setup(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/fm-test-plugin.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    snprintf(file_a, sizeof(file_a), "%s/a.bin", tmpdir);
    snprintf(file_b, sizeof(file_b), "%s/b.mark", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    unlink(file_a);
    unlink(file_b);
    rmdir(tmpdir);
    return 0;
}

static void test_good_in_order(void **state)
{
    char *k[] = {"out", "queue", "overflow"}, *v[] = {file_a, "4", "block"};
    fm_config_plugin_t c = pcfg("rec", tp("tp_record"), k, v, 3);
    fm_plugins_t *p;
    char err[512];
    fm_plugin_stats_t st;

    assert_int_equal(fm_plugins_new(&c, 1, "/nonexistent", &p, err, sizeof(err)), 0);
    assert_int_equal(fm_plugins_count(p), 1);
    uint64_t total = feed(p, 200, NULL);
    fm_plugins_flush(p);
    assert_int_equal(fm_plugins_wait_idle(p, 10000), 0);
    assert_int_equal(fm_plugins_stats(p, 0, &st), 0);
    assert_int_equal(st.flows, total);
    assert_int_equal(st.batches, 200);
    assert_int_equal(st.dropped + st.errors + st.queue_depth, 0);

    /* The flush ran after every queued batch: the whole file is there before shutdown. */
    struct stat sb;
    assert_int_equal(stat(file_a, &sb), 0);
    assert_int_equal((uint64_t)sb.st_size, total * sizeof(fm_plugin_flow_t));

    json_t *js = fm_plugins_stats_json(p);
    assert_int_equal(json_array_size(js), 1);
    json_t *o = json_array_get(js, 0);
    assert_string_equal(json_string_value(json_object_get(o, "plugin")), "record");
    assert_int_equal(json_integer_value(json_object_get(o, "flows")), (json_int_t)total);
    assert_int_equal(json_integer_value(json_object_get(o, "queue_limit")), 4);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(o, "plugin_counters"), "seen")),
        (json_int_t)total);
    json_decref(js);
    fm_plugins_free(p);

    /* Every flow, in order, each field copied. */
    FILE *f = fopen(file_a, "rb");
    assert_non_null(f);
    fm_plugin_flow_t got;
    uint64_t i = 0;
    while (fread(&got, sizeof(got), 1, f) == 1) {
        fm_flow_t want;
        make_flow(i, &want);
        assert_int_equal(got.first_ms, want.first_ms);
        assert_int_equal(got.last_ms, want.last_ms);
        assert_int_equal(got.rev_first_ms, want.rev_first_ms);
        assert_int_equal(got.rev_last_ms, want.rev_last_ms);
        assert_int_equal(got.packets, want.packets);
        assert_int_equal(got.octets, want.octets);
        assert_int_equal(got.rev_packets, want.rev_packets);
        assert_int_equal(got.rev_octets, want.rev_octets);
        assert_memory_equal(got.src, want.src, 16);
        assert_memory_equal(got.dst, want.dst, 16);
        assert_int_equal(got.exporter, want.exporter);
        assert_int_equal(got.domain, want.domain);
        assert_int_equal(got.inif, want.inif);
        assert_int_equal(got.outif, want.outif);
        assert_int_equal(got.sampling, want.sampling);
        assert_int_equal(got.records, want.records);
        assert_int_equal(got.sport, want.sport);
        assert_int_equal(got.dport, want.dport);
        assert_int_equal(got.af, want.af);
        assert_int_equal(got.proto, want.proto);
        assert_int_equal(got.tcp_flags, want.tcp_flags);
        assert_int_equal(got.flags, want.flags);
        assert_int_equal(got.fwd_first, want.fwd_first);
        i++;
    }
    fclose(f);
    assert_int_equal(i, total);
}

/* Load a single plugin that must be refused; check the code and that the message says why. */
static void refused(const char *path, char **k, char **v, size_t n, int code, const char *why)
{
    fm_config_plugin_t c = pcfg("bad", path, k, v, n);
    fm_plugins_t *p = (fm_plugins_t *)&c;
    char err[512];
    assert_int_equal(fm_plugins_new(&c, 1, tmpdir, &p, err, sizeof(err)), code);
    assert_null(p);
    if (!strstr(err, why) || !strstr(err, "plugin bad")) {
        fail_msg("message \"%s\" does not say \"%s\"", err, why);
    }
}

static void test_wrong_abi(void **state)
{
    char why[128];
    snprintf(why, sizeof(why), "ABI version %d, flowmixd loads 1 to %d",
             FM_PLUGIN_ABI_VERSION + 998, FM_PLUGIN_ABI_VERSION);
    refused(tp("tp_badabi"), NULL, NULL, 0, FM_EPLUGIN, why);
}

static void test_missing_file(void **state)
{
    refused("/nonexistent/dir/nothing.so", NULL, NULL, 0, FM_EPLUGIN, "No such file");
    /* Default path: plugin_dir/NAME.so */
    refused(NULL, NULL, NULL, 0, FM_EPLUGIN, "/bad.so: No such file");
}

static void test_missing_symbol(void **state)
{
    refused(tp("tp_nosym"), NULL, NULL, 0, FM_EPLUGIN, "no symbol fm_plugin_descriptor");
    refused(tp("tp_nofini"), NULL, NULL, 0, FM_EPLUGIN, "mandatory callback");
}

static void test_bad_loader_keys(void **state)
{
    char *k1[] = {"overflow"}, *v1[] = {"maybe"};
    char *k2[] = {"queue"}, *v2[] = {"0"};
    refused(tp("tp_record"), k1, v1, 1, FM_ECONFIG, "overflow = maybe");
    refused(tp("tp_record"), k2, v2, 1, FM_ECONFIG, "queue = 0");
}

/* A failed init unloads without fini; a failure of a later plugin finalises the earlier ones. */
static void test_init_failure(void **state)
{
    char *k[] = {"fini_mark", "fail_init"}, *v[] = {file_b, "yes"};
    refused(tp("tp_record"), k, v, 2, FM_EPLUGIN, "init failed: refusing to start as asked");
    assert_int_equal(access(file_b, F_OK), -1);

    char *k2[] = {"fini_mark"}, *v2[] = {file_b};
    char *k3[] = {"bogus"}, *v3[] = {"1"};
    fm_config_plugin_t c[2] = {pcfg("one", tp("tp_record"), k2, v2, 1),
                               pcfg("two", tp("tp_record"), k3, v3, 1)};
    fm_plugins_t *p;
    char err[512];
    assert_int_equal(fm_plugins_new(c, 2, tmpdir, &p, err, sizeof(err)), FM_EPLUGIN);
    assert_non_null(strstr(err, "plugin two"));
    assert_non_null(strstr(err, "unknown key 'bogus'"));
    assert_int_equal(access(file_b, F_OK), 0); /* "one" was initialised, so it was finalised */
}

static void test_consume_errors(void **state)
{
    char *k[] = {"fail"}, *v[] = {"1"};
    fm_config_plugin_t c = pcfg("err", tp("tp_record"), k, v, 1);
    fm_plugins_t *p;
    char err[512];
    fm_plugin_stats_t st;
    assert_int_equal(fm_plugins_new(&c, 1, tmpdir, &p, err, sizeof(err)), 0);
    uint64_t total = feed(p, 30, NULL);
    assert_int_equal(fm_plugins_wait_idle(p, 10000), 0);
    fm_plugins_stats(p, 0, &st);
    assert_int_equal(st.errors, 30);
    assert_int_equal(st.batches, 30);
    assert_int_equal(st.flows, total);
    assert_int_equal(st.dropped, 0);
    fm_plugins_free(p);
}

/* overflow = drop with a plugin far slower than the producer: batches are dropped and counted,
 * and the producer never waits for the plugin (a wait would last a whole 200 ms consume). */
static void test_slow_drop(void **state)
{
    char *k[] = {"delay_ms", "queue", "overflow"}, *v[] = {"200", "2", "drop"};
    fm_config_plugin_t c = pcfg("slow", tp("tp_record"), k, v, 3);
    fm_plugins_t *p;
    char err[512];
    fm_plugin_stats_t st;
    uint64_t max_wait = 0;
    assert_int_equal(fm_plugins_new(&c, 1, tmpdir, &p, err, sizeof(err)), 0);
    uint64_t total = feed(p, 60, &max_wait);
    assert_int_equal(fm_plugins_wait_idle(p, 10000), 0);
    fm_plugins_stats(p, 0, &st);
    fm_plugins_free(p);
    print_message("slow drop: longest fm_plugins_consume %llu us, %llu of %llu flows dropped\n",
                  (unsigned long long)max_wait, (unsigned long long)st.dropped,
                  (unsigned long long)total);
    assert_true(max_wait < 100000);
    assert_true(st.dropped_batches >= 60 - 3 - 2);
    assert_int_equal(st.flows + st.dropped, total);
    assert_int_equal(st.batches + st.dropped_batches, 60);
    assert_true(st.queue_max <= 2);
    assert_int_equal(st.blocked_us, 0);
}

/* overflow = block: the producer waits, nothing is lost. */
static void test_slow_block(void **state)
{
    char *k[] = {"delay_ms", "queue", "overflow", "out"}, *v[] = {"15", "2", "block", file_a};
    fm_config_plugin_t c = pcfg("slow", tp("tp_record"), k, v, 4);
    fm_plugins_t *p;
    char err[512];
    fm_plugin_stats_t st;
    assert_int_equal(fm_plugins_new(&c, 1, tmpdir, &p, err, sizeof(err)), 0);
    uint64_t total = feed(p, 12, NULL);
    assert_int_equal(fm_plugins_wait_idle(p, 10000), 0);
    fm_plugins_stats(p, 0, &st);
    fm_plugins_free(p);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.flows, total);
    assert_true(st.blocked_us > 0);
    struct stat sb;
    assert_int_equal(stat(file_a, &sb), 0);
    assert_int_equal((uint64_t)sb.st_size, total * sizeof(fm_plugin_flow_t));
}

/* Issue 20 item 13: a plugin stuck in consume with overflow = block holds the producer (the
 * daemon's loop) at most block_timeout per batch, the batch is then dropped and counted; at
 * shutdown a worker still stuck after stop_timeout is abandoned instead of joined. */
static void test_stuck_block(void **state)
{
    char *k[] = {"delay_ms", "queue", "overflow", "block_timeout", "stop_timeout"};
    char *v[] = {"20000", "1", "block", "200ms", "300ms"};
    fm_config_plugin_t c = pcfg("stuck", tp("tp_record"), k, v, 5);
    fm_plugins_t *p;
    char err[512];
    fm_plugin_stats_t st;
    uint64_t max_wait = 0;
    assert_int_equal(fm_plugins_new(&c, 1, tmpdir, &p, err, sizeof(err)), 0);
    uint64_t t0 = now_us();
    uint64_t total = feed(p, 5, &max_wait);
    fm_plugins_stats(p, 0, &st);
    uint64_t t1 = now_us();
    fm_plugins_free(p);
    uint64_t t2 = now_us();
    print_message("stuck consume: longest fm_plugins_consume %llu us, %llu block timeouts, "
                  "free %llu us\n", (unsigned long long)max_wait,
                  (unsigned long long)st.block_timeouts, (unsigned long long)(t2 - t1));
    assert_true(max_wait < 2000000);
    assert_true(t1 - t0 < 5000000);
    assert_true(st.block_timeouts >= 2);
    assert_true(st.dropped + st.flows <= total);
    assert_true(st.dropped > 0);
    assert_true(t2 - t1 < 3000000); /* abandoned, not joined (the consume sleeps 20 s) */
}

/* A flush that never returns cannot hang shutdown past stop_timeout. */
static void test_stuck_flush(void **state)
{
    char *k[] = {"flush_delay_ms", "stop_timeout"}, *v[] = {"20000", "300ms"};
    fm_config_plugin_t c = pcfg("hang", tp("tp_record"), k, v, 2);
    fm_plugins_t *p;
    char err[512];
    assert_int_equal(fm_plugins_new(&c, 1, tmpdir, &p, err, sizeof(err)), 0);
    feed(p, 3, NULL);
    fm_plugins_flush(p);
    uint64_t t1 = now_us();
    fm_plugins_free(p);
    uint64_t t2 = now_us();
    print_message("stuck flush: free %llu us\n", (unsigned long long)(t2 - t1));
    assert_true(t2 - t1 < 3000000);
}

/* Two instances of one shared object, one slow: the fast one is not held back. */
static void test_two_instances(void **state)
{
    char *k1[] = {"out"}, *v1[] = {file_a};
    char *k2[] = {"delay_ms", "queue"}, *v2[] = {"100", "1"};
    fm_config_plugin_t c[2] = {pcfg("fast", tp("tp_record"), k1, v1, 1),
                               pcfg("slow", tp("tp_record"), k2, v2, 2)};
    fm_plugins_t *p;
    char err[512];
    fm_plugin_stats_t a, b;
    assert_int_equal(fm_plugins_new(c, 2, tmpdir, &p, err, sizeof(err)), 0);
    uint64_t total = feed(p, 20, NULL);
    assert_int_equal(fm_plugins_wait_idle(p, 10000), 0);
    fm_plugins_stats(p, 0, &a);
    fm_plugins_stats(p, 1, &b);
    fm_plugins_free(p);
    assert_int_equal(a.flows, total);
    assert_int_equal(a.dropped, 0);
    assert_true(b.dropped > 0);
    assert_int_equal(b.flows + b.dropped, total);
}

/* The documented example plugin: totals over both directions, written by fini. */
static void test_example_plugin(void **state)
{
    char so[512];
    char *k[] = {"summary"}, *v[] = {file_b};
    snprintf(so, sizeof(so), "%s/plugins/.libs/example.so", builddir());
    fm_config_plugin_t c = pcfg("example", so, k, v, 1);
    fm_plugins_t *p;
    char err[512];
    uint64_t packets = 0, octets = 0, tcp = 0;

    refused(so, NULL, NULL, 0, FM_EPLUGIN, "'summary'");
    assert_int_equal(fm_plugins_new(&c, 1, tmpdir, &p, err, sizeof(err)), 0);
    uint64_t total = feed(p, 10, NULL);
    fm_plugins_free(p); /* drains first: nothing is lost at shutdown */
    for (uint64_t i = 0; i < total; i++) {
        fm_flow_t f;
        make_flow(i, &f);
        packets += f.packets + f.rev_packets;
        octets += f.octets + f.rev_octets;
        tcp += f.proto == 6;
    }
    char want[256], got[256] = "";
    snprintf(want, sizeof(want),
             "batches 10\nflows %llu\npackets %llu\noctets %llu\nproto 6 %llu\n",
             (unsigned long long)total, (unsigned long long)packets, (unsigned long long)octets,
             (unsigned long long)tcp);
    FILE *f = fopen(file_b, "r");
    assert_non_null(f);
    size_t n = fread(got, 1, strlen(want), f);
    fclose(f);
    got[n] = '\0';
    assert_string_equal(got, want);
}

/* --check-config's plugin check runs the plugin's validate (ABI 4): an unknown key is refused
 * with the configuration file, the section's line and the key; valid keys pass without init
 * (no summary file is written, though fini of an initialised example plugin writes one). */
static void test_check_validates_keys(void **state)
{
    char so[512], err[512];
    char *bad_k[] = {"summary", "sumary"}, *bad_v[] = {file_b, "x"};
    snprintf(so, sizeof(so), "%s/plugins/.libs/example.so", builddir());
    fm_config_plugin_t c = pcfg("example", so, bad_k, bad_v, 2);
    c.line = 7;
    assert_int_equal(fm_plugins_check(&c, 1, tmpdir, "x.conf", err, sizeof(err)), FM_ECONFIG);
    if (!strstr(err, "x.conf:7: [plugin.example]") || !strstr(err, "unknown key 'sumary'")) {
        fail_msg("message \"%s\" does not name x.conf:7, the section and the key", err);
    }
    c.nkeys = 1;
    assert_int_equal(fm_plugins_check(&c, 1, tmpdir, "x.conf", err, sizeof(err)), 0);
    assert_int_equal(access(file_b, F_OK), -1);
}

/* Histogram deltas reach the ABI 2 plugin in order with flow batches; the ABI 1 plugin gets
 * the flows only, and its descriptor is never read past fini. */
static void test_hist_deltas(void **state)
{
    char *k1[] = {"hist_out", "out"}, *v1[] = {file_b, file_a};
    fm_config_plugin_t c[2] = {pcfg("rec", tp("tp_record"), k1, v1, 2),
                               pcfg("old", tp("tp_abi1"), NULL, NULL, 0)};
    fm_plugins_t *p;
    char err[512], line[256];
    fm_plugin_stats_t a, b;

    assert_int_equal(fm_plugins_new(&c[1], 1, tmpdir, &p, err, sizeof(err)), 0);
    assert_false(fm_plugins_want_hist(p));
    fm_plugins_hist(p, "{}", 2, 1); /* nobody takes it: a no-op */
    fm_plugins_free(p);

    assert_int_equal(fm_plugins_new(c, 2, tmpdir, &p, err, sizeof(err)), 0);
    assert_true(fm_plugins_want_hist(p));
    uint64_t total = feed(p, 3, NULL);
    fm_plugins_hist(p, "{\"d\":1}xx", 7, 1000); /* only len bytes count */
    total += feed(p, 2, NULL);
    fm_plugins_hist(p, "{\"d\":2}", 7, 2000);
    fm_plugins_flush(p);
    assert_int_equal(fm_plugins_wait_idle(p, 10000), 0);
    fm_plugins_stats(p, 0, &a);
    fm_plugins_stats(p, 1, &b);
    json_t *js = fm_plugins_stats_json(p);
    assert_true(json_is_true(json_object_get(json_array_get(js, 0), "hist")));
    assert_true(json_is_false(json_object_get(json_array_get(js, 1), "hist")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(js, 0), "hist_deltas")), 2);
    json_decref(js);
    fm_plugins_free(p);
    assert_int_equal(a.hist_deltas, 2);
    assert_int_equal(a.errors, 0); /* tp_record checks the NUL terminator */
    assert_int_equal(a.flows, total);
    assert_int_equal(b.hist_deltas, 0);
    assert_int_equal(b.flows, total);
    assert_int_equal(b.errors, 0);
    FILE *f = fopen(file_b, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    assert_string_equal(line, "1000 {\"d\":1}\n");
    assert_non_null(fgets(line, sizeof(line), f));
    assert_string_equal(line, "2000 {\"d\":2}\n");
    assert_null(fgets(line, sizeof(line), f));
    fclose(f);
}

/* A full queue drops deltas like batches (overflow = drop), counted as hist_dropped. */
static void test_hist_dropped(void **state)
{
    char *k[] = {"delay_ms", "queue", "hist"}, *v[] = {"100", "1", "1"};
    fm_config_plugin_t c = pcfg("slow", tp("tp_record"), k, v, 3);
    fm_plugins_t *p;
    char err[512];
    fm_plugin_stats_t st;
    assert_int_equal(fm_plugins_new(&c, 1, tmpdir, &p, err, sizeof(err)), 0);
    for (int i = 0; i < 10; i++) {
        fm_plugins_hist(p, "{}", 2, (uint64_t)i);
    }
    assert_int_equal(fm_plugins_wait_idle(p, 10000), 0);
    fm_plugins_stats(p, 0, &st);
    fm_plugins_free(p);
    assert_int_equal(st.hist_deltas + st.hist_dropped, 10);
    assert_true(st.hist_dropped >= 7);
    assert_int_equal(st.dropped, 0);
}

/* An instance configured not to publish deltas declines the first; none follow. */
static void test_hist_declined(void **state)
{
    fm_config_plugin_t c = pcfg("no", tp("tp_record"), NULL, NULL, 0);
    fm_plugins_t *p;
    char err[512];
    fm_plugin_stats_t st;
    assert_int_equal(fm_plugins_new(&c, 1, tmpdir, &p, err, sizeof(err)), 0);
    assert_true(fm_plugins_want_hist(p));
    fm_plugins_hist(p, "{}", 2, 1);
    assert_int_equal(fm_plugins_wait_idle(p, 10000), 0);
    assert_false(fm_plugins_want_hist(p));
    fm_plugins_hist(p, "{}", 2, 2);
    assert_int_equal(fm_plugins_wait_idle(p, 10000), 0);
    fm_plugins_stats(p, 0, &st);
    fm_plugins_free(p);
    assert_int_equal(st.hist_deltas, 1);
    assert_int_equal(st.hist_dropped + st.errors, 0);
}

static void test_empty_set(void **state)
{
    fm_plugins_t *p;
    char err[64];
    fm_flow_t f;
    make_flow(0, &f);
    assert_int_equal(fm_plugins_new(NULL, 0, NULL, &p, err, sizeof(err)), 0);
    fm_plugins_consume(p, &f, 1);
    fm_plugins_tick(p, 1);
    fm_plugins_flush(p);
    json_t *js = fm_plugins_stats_json(p);
    assert_int_equal(json_array_size(js), 0);
    json_decref(js);
    fm_plugins_free(p);
    fm_plugins_consume(NULL, &f, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_abi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_symbol, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_loader_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consume_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_instances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_example_plugin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_validates_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hist_deltas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hist_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hist_declined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stuck_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stuck_flush, setup, teardown),
    };
    fm_log_set_level(LOG_ERR); /* the refusals are expected; keep the output readable */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
