/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of flowmixctl's readable layouts (ctl_format, ctl_tables): values, key : value
 * lines, tables, units (k/M/G, KiB/MiB, rates, durations, ages), ISO-8601 times, the hist bins
 * table and csv_hist, mixtures with named parameters, the generic fallback for unknown fields,
 * the help text built from the command table, and the sliding-window rates (rate.c) behind
 * status.  Expected texts are written out by hand; whole tables of real replies are the golden
 * files of tests/integration/090-ctl-tables.sh.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "ctl_format.h"
#include "ctl_format_int.h"
#include "ctl_proto.h"
#include "rate.h"
#include "util/err.h"
#include "util/time.h"

typedef void (*print_fn)(FILE *out, const json_t *v);

/* Run a printer on a JSON text and compare its whole output. */
static void expect_output(print_fn fn, const char *json, const char *want)
{
    char *buf = NULL;
    size_t len = 0;
    json_error_t jerr;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &jerr);
    if (!v) {
        fail_msg("bad test JSON %s: %s", json, jerr.text);
    }
    FILE *out = open_memstream(&buf, &len);
    fn(out, v);
    fclose(out);
    if (strcmp(buf, want)) {
        fail_msg("for %s\n--- got:\n%s--- want:\n%s---", json, buf, want);
    }
    free(buf);
    json_decref(v);
}

static const fm_ctl_cmd_t *cur_cmd;
static json_t *cur_opts;

static void print_cmd(FILE *out, const json_t *v)
{
    fm_ctl_format(out, cur_cmd, v, cur_opts);
}

static void value_case(const char *json, const char *want)
{
    char buf[64];
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    fm_ctl_format_value(buf, sizeof(buf), v);
    assert_string_equal(buf, want);
    json_decref(v);
}

static void test_values(void **state)
{
    value_case("42", "42");
    value_case("-9007199254740993", "-9007199254740993");
    value_case("1234.5678", "1234.57");
    value_case("0.5", "0.5");
    value_case("1.25e-05", "1.25e-05");
    value_case("-12345678.94", "-12345678.9");
    value_case("1e20", "1e+20");
    value_case("true", "yes");
    value_case("false", "no");
    value_case("null", "-");
    value_case("\"text\"", "text");
    value_case("[1, \"a\", {\"b\": 2}]", "[1,\"a\",{\"b\":2}]");
}

static void test_kv(void **state)
{
    expect_output(fm_ctl_format_kv,
                  "{\"version\":\"0.1.0\",\"uptime_s\":12,\"cache\":{\"entries\":3,"
                  "\"capacity\":100},\"new_field\":true,\"list\":[{\"a\":1}],\"pair\":[1,2]}",
                  "version        : 0.1.0\n"
                  "uptime_s       : 12\n"
                  "cache.entries  : 3\n"
                  "cache.capacity : 100\n"
                  "new_field      : yes\n"
                  "pair           : [1,2]\n");
    expect_output(fm_ctl_format_kv, "{}", "");
}

static void test_table(void **state)
{
    expect_output(fm_ctl_format_table,
                  "[{\"id\":1,\"address\":\"192.0.2.1\",\"port\":2055,\"nested\":{\"x\":1}},"
                  "{\"id\":22,\"address\":\"2001:db8::1\",\"port\":4739,\"extra\":\"x\"}]",
                  "id  address      port  extra\n"
                  " 1  192.0.2.1    2055  -\n"
                  "22  2001:db8::1  4739  x\n");
    expect_output(fm_ctl_format_table, "[]", "(none)\n");
}

static void test_hist(void **state)
{
    cur_cmd = fm_ctl_cmd_find("hist");
    const char *reply = "{\"class\":\"tcp\",\"metric\":\"length\",\"direction\":\"uniflow\","
                        "\"window\":\"total\",\"window_start_ms\":0,\"bin_exp\":0,"
                        "\"bins\":[[1,2,10,10,400],[2,4,5,12,9000]],"
                        "\"flows\":15,\"packets\":22,\"octets\":9400}";
    expect_output(print_cmd, reply,
                  "class tcp, metric length, uniflow, window total, bin_exp 0\n"
                  "\n"
                  "lo  hi  flows  flows %  packets  octets\n"
                  " 1   2     10    66.67       10     400\n"
                  " 2   4      5    33.33       12    9000\n"
                  "\n"
                  "total: 15 flows, 22 packets, 9400 B in 2 bins\n");
    cur_opts = json_pack("{sb}", "csv", 1);
    expect_output(print_cmd, reply,
                  "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n"
                  "1,2,10,10,400\n"
                  "2,4,5,12,9000\n");
    expect_output(print_cmd, "{\"bins\":[]}", "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n");
    json_decref(cur_opts);
    cur_opts = NULL;
}

static void test_model(void **state)
{
    cur_cmd = fm_ctl_cmd_find("model");
    const char *reply =
        "{\"job\":\"j\",\"class\":\"all\",\"metric\":\"length\",\"direction\":\"uniflow\","
        "\"y\":\"flows\",\"U\":1,\"L\":1,\"P\":1,\"created_ms\":1796058000000,"
        "\"now_ms\":1796058185000,\"loglik\":-12345678.9,\"iterations\":12,\"seconds\":0.5,"
        "\"runs\":2,\"running\":false,\"model\":{\"sum\":100,"
        "\"mix\":[[0.5,\"lognorm\",[0.5,0,100]],[0.25,\"uniform\",[0,1]],"
        "[0.25,\"genpareto\",[0.25,1,2.5]]]}}";
    expect_output(print_cmd, reply,
                  "Model\n"
                  "  job      j\n"
                  "  data     class all, metric length, uniflow, y = flows, sum 100\n"
                  "  initial  U 1, L 1, P 1 (uniform, lognorm, genpareto)\n"
                  "  fitted   2026-11-30T17:00:00Z (3m 05s ago), run 2\n"
                  "  result   loglik -1.23457e+07, 12 iterations, 0.50 s\n"
                  "\n"
                  "#  weight  share  family     parameters\n"
                  "1     0.5  50.0%  lognorm    s=0.5 loc=0 scale=100\n"
                  "2    0.25  25.0%  uniform    loc=0 scale=1\n"
                  "3    0.25  25.0%  genpareto  c=0.25 loc=1 scale=2.5\n");
    cur_opts = json_pack("{sb}", "flow-models", 1);
    expect_output(print_cmd, reply,
                  "{\n"
                  "  \"sum\": 100,\n"
                  "  \"mix\": [\n"
                  "    [0.5, \"lognorm\", [0.5, 0, 100]],\n"
                  "    [0.25, \"uniform\", [0, 1]],\n"
                  "    [0.25, \"genpareto\", [0.25, 1, 2.5]]\n"
                  "  ]\n"
                  "}\n");
    json_decref(cur_opts);
    cur_opts = NULL;
}

static void test_units(void **state)
{
    char b[64];
    assert_string_equal(fm__ctl_count(b, sizeof(b), 0), "0");
    assert_string_equal(fm__ctl_count(b, sizeof(b), 9999), "9999");
    assert_string_equal(fm__ctl_count(b, sizeof(b), 12345), "12.3k");
    assert_string_equal(fm__ctl_count(b, sizeof(b), 999499), "999k");
    assert_string_equal(fm__ctl_count(b, sizeof(b), 999500), "1.00M");
    assert_string_equal(fm__ctl_count(b, sizeof(b), 2.5e9), "2.50G");
    assert_string_equal(fm__ctl_bytes(b, sizeof(b), 452), "452 B");
    assert_string_equal(fm__ctl_bytes(b, sizeof(b), 367000), "358 KiB");
    assert_string_equal(fm__ctl_bytes(b, sizeof(b), 268435456), "256 MiB");
    assert_string_equal(fm__ctl_bytes(b, sizeof(b), 1.5 * 1073741824.0), "1.50 GiB");
    assert_string_equal(fm__ctl_rate(b, sizeof(b), 0), "0");
    assert_string_equal(fm__ctl_rate(b, sizeof(b), 1.2501e-10), "0.00");
    assert_string_equal(fm__ctl_rate(b, sizeof(b), 3.14159), "3.14");
    assert_string_equal(fm__ctl_rate(b, sizeof(b), 828.33), "828.3");
    assert_string_equal(fm__ctl_rate(b, sizeof(b), 123456), "123k");
    assert_string_equal(fm__ctl_duration(b, sizeof(b), 59), "59s");
    assert_string_equal(fm__ctl_duration(b, sizeof(b), 185), "3m 05s");
    assert_string_equal(fm__ctl_duration(b, sizeof(b), 7980), "2h 13m");
    assert_string_equal(fm__ctl_duration(b, sizeof(b), 90000), "1d 01h");
    assert_string_equal(fm__ctl_age(b, sizeof(b), 200000, 20000), "3m 00s ago");
    assert_string_equal(fm__ctl_age(b, sizeof(b), 20000, 25000), "in 5s");
}

static void test_iso_time(void **state)
{
    char b[FM_TIME_ISO_LEN];
    uint64_t ms;
    assert_string_equal(fm_time_format_iso(b, sizeof(b), 1796058000123), "2026-11-30T17:00:00Z");
    assert_string_equal(fm_time_format_iso(b, sizeof(b), 0), "1970-01-01T00:00:00Z");
    assert_int_equal(fm_time_parse_iso("2026-11-30T17:00Z", &ms), 0);
    assert_int_equal(ms, 1796058000000);
    assert_int_equal(fm_time_parse_iso("2026-11-30T17:00:00.5Z", &ms), 0);
    assert_int_equal(ms, 1796058000500);
    assert_int_equal(fm_time_parse_iso("2026-11-30 19:00:00+02:00", &ms), 0);
    assert_int_equal(ms, 1796058000000);
    assert_int_equal(fm_time_parse_iso("2026-11-30T12:30-0430", &ms), 0);
    assert_int_equal(ms, 1796058000000);
    assert_int_equal(fm_time_parse_iso("2026-11-30T17:00", &ms), 0); /* no offset: UTC */
    assert_int_equal(ms, 1796058000000);
    assert_int_equal(fm_time_parse_iso("2000-02-29T00:00Z", &ms), 0);
    assert_int_equal(ms, 951782400000);
    /* Log stamps: milliseconds and an explicit offset, UTC or local. */
    assert_string_equal(fm_time_format_iso_ms(b, sizeof(b), 1796058000123, false),
                        "2026-11-30T17:00:00.123Z");
    setenv("TZ", "America/St_Johns", 1); /* -03:30 in November */
    tzset();
    assert_string_equal(fm_time_format_iso_ms(b, sizeof(b), 1796058000123, true),
                        "2026-11-30T13:30:00.123-03:30");
    setenv("TZ", "Asia/Kolkata", 1);
    tzset();
    assert_string_equal(fm_time_format_iso_ms(b, sizeof(b), 1796058000123, true),
                        "2026-11-30T22:30:00.123+05:30");
    unsetenv("TZ");
    tzset();
    const char *bad[] = {"", "latest", "2026-11-30", "2026-13-01T00:00Z", "2026-11-31T00:00Z",
                         "2026-11-30T24:00Z", "2026-11-30T17:00Zx", "2026-11-30T17:00+2",
                         "1969-12-31T23:59Z", "1796058000000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (fm_time_parse_iso(bad[i], &ms) != FM_EINVAL) {
            fail_msg("'%s' parsed", bad[i]);
        }
    }
}

static void test_rates(void **state)
{
    fm_rate_t *r = fm_rate_new(2, 15 * 60000, 1000);
    uint64_t v[2] = {0, 0};
    assert_true(fm_rate_get(r, 0, 60000) == 0.0);
    /* 100 records/s and 1 drop/s for two minutes. */
    for (uint64_t t = 0; t <= 120; t++) {
        v[0] = 100 * t;
        v[1] = t;
        fm_rate_sample(r, 1000000 + t * 1000, v);
    }
    assert_true(fm_rate_get(r, 0, 60000) == 100.0);
    assert_true(fm_rate_get(r, 1, 60000) == 1.0);
    assert_true(fm_rate_get(r, 0, 15 * 60000) == 100.0); /* all 120 s so far */
    /* Idle for a minute: the 1-min rate is exactly 0, the 15-min one halves over 240 s. */
    for (uint64_t t = 121; t <= 240; t++) {
        fm_rate_sample(r, 1000000 + t * 1000, v);
    }
    assert_true(fm_rate_get(r, 0, 60000) == 0.0);
    assert_true(fm_rate_get(r, 0, 15 * 60000) == 50.0);
    /* A counter going backwards (a reset) reads as a pause, never negative; bad index is 0. */
    v[0] = 5;
    fm_rate_sample(r, 1000000 + 241000, v);
    assert_true(fm_rate_get(r, 0, 1000) == 0.0);
    assert_true(fm_rate_get(r, 7, 60000) == 0.0);
    /* The ring wraps: after 20 more minutes at 10/s the 15-min rate is 10. */
    for (uint64_t t = 242; t <= 1442; t++) {
        v[0] = 24000 + 10 * (t - 241);
        fm_rate_sample(r, 1000000 + t * 1000, v);
    }
    assert_true(fm_rate_get(r, 0, 15 * 60000) == 10.0);
    fm_rate_free(r);
    fm_rate_free(NULL);
}

static void test_generic(void **state)
{
    cur_cmd = fm_ctl_cmd_find("windows");
    expect_output(print_cmd,
                  "{\"windows\":[{\"start_ms\":1796058000000,\"end_ms\":1796058300000,"
                  "\"closed\":true,\"flows\":12345},{\"start_ms\":1796058300000,"
                  "\"end_ms\":1796058600000,\"closed\":false,\"flows\":7}],\"window_s\":300}",
                  "2 windows of 5m 00s, oldest first (hist --window takes a start, latest or "
                  "-N)\n"
                  "\n"
                  "start                 end                   length  state   flows\n"
                  "2026-11-30T17:00:00Z  2026-11-30T17:05:00Z  5m 00s  closed  12.3k\n"
                  "2026-11-30T17:05:00Z  2026-11-30T17:10:00Z  5m 00s  open        7\n");
    cur_cmd = fm_ctl_cmd_find("exporters");
    expect_output(print_cmd, "{\"exporters\":[]}", "no exporters seen yet\n");
    cur_cmd = fm_ctl_cmd_find("ping");
    expect_output(print_cmd, "{}", "ok\n");
    cur_cmd = fm_ctl_cmd_find("flush");
    expect_output(print_cmd, "{\"flushed\":12}", "flushed : 12\n");
    expect_output(print_cmd, "[1]", "[1]\n");
}

static void test_help(void **state)
{
    char *buf = NULL, line[256];
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    fm_ctl_format_help(out);
    fclose(out);
    /* Every row of the table appears, mutating ones marked with '*'. */
    for (size_t i = 0; i < fm_ctl_cmd_count(); i++) {
        const fm_ctl_cmd_t *c = fm_ctl_cmd_at(i);
        snprintf(line, sizeof(line), "\n  %s %s", c->mutating ? "*" : " ", c->name);
        if (!strstr(buf, line) || !strstr(buf, c->summary)) {
            fail_msg("help lacks '%s' or its summary:\n%s", line + 1, buf);
        }
    }
    assert_non_null(
        strstr(buf, "hist [--class C] [--metric M] [--direction D] [--window W] [--csv]"));
    assert_non_null(strstr(buf, "model --job J "));
    free(buf);

    out = open_memstream(&buf, &len);
    fm_ctl_format_cmd_help(out, fm_ctl_cmd_find("model"));
    fclose(out);
    assert_string_equal(buf, "Usage: flowmixctl [OPTIONS] model --job J [--flow-models]\n\n"
                             "latest mixture of one fit job.\n\n"
                             "  --job J        fit job name, as in [fit.NAME] (required)\n"
                             "  --flow-models  print the mixture JSON exactly as flow-models "
                             "writes it\n");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values), cmocka_unit_test(test_kv),
        cmocka_unit_test(test_table),  cmocka_unit_test(test_hist),
        cmocka_unit_test(test_model),  cmocka_unit_test(test_generic),
        cmocka_unit_test(test_help),   cmocka_unit_test(test_units),
        cmocka_unit_test(test_iso_time), cmocka_unit_test(test_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
