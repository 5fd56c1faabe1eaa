/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of flowmixctl's readable layouts (ctl_format): values, key : value lines, tables,
 * the hist bins table and summary, mixtures, the generic fallback for unknown fields, and the
 * help text built from the command table.  Expected texts are written out by hand.
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

#include "ctl_format.h"
#include "ctl_proto.h"

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

static void print_cmd(FILE *out, const json_t *v)
{
    fm_ctl_format(out, cur_cmd, v);
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
    expect_output(print_cmd,
                  "{\"class\":\"tcp\",\"metric\":\"length\",\"bin_exp\":0,"
                  "\"bins\":[[1,1,10,10,400],[2,3,5,12,9000]],"
                  "\"flows\":15,\"packets\":22,\"octets\":9400}",
                  "lo  hi  flows  packets  octets\n"
                  " 1   1     10       10     400\n"
                  " 2   3      5       12    9000\n"
                  "total: 15 flows, 22 packets, 9400 octets, 2 bins "
                  "(class tcp, metric length, bin_exp 0)\n");
    expect_output(print_cmd, "{\"bins\":[]}",
                  "lo  hi  flows  packets  octets\n"
                  "total: - flows, - packets, - octets, 0 bins\n");
}

static void test_model(void **state)
{
    cur_cmd = fm_ctl_cmd_find("model");
    expect_output(print_cmd,
                  "{\"job\":\"j\",\"loglik\":-12345678.9,\"running\":false,\"model\":{\"sum\":100,"
                  "\"mix\":[[0.75,\"lognorm\",[0.5,0,100]],[0.25,\"uniform\",[0,1]]]}}",
                  "job       : j\n"
                  "loglik    : -12345678.9\n"
                  "running   : no\n"
                  "model.sum : 100\n"
                  "\n"
                  "component  weight  dist     params\n"
                  "        1    0.75  lognorm  0.5 0 100\n"
                  "        2    0.25  uniform  0 1\n");
    expect_output(print_cmd, "{\"job\":\"j\",\"model\":null}",
                  "job   : j\n"
                  "model : -\n");
}

static void test_generic(void **state)
{
    cur_cmd = fm_ctl_cmd_find("fits");
    expect_output(print_cmd, "{\"fits\":[{\"job\":\"a\",\"loglik\":1.5,\"model\":{\"sum\":1}}]}",
                  "fits:\n"
                  "job  loglik\n"
                  "a       1.5\n");
    cur_cmd = fm_ctl_cmd_find("windows");
    expect_output(print_cmd,
                  "{\"windows\":[{\"start_ms\":0,\"end_ms\":300000,\"closed\":true,\"flows\":7}],"
                  "\"window_s\":300}",
                  "window_s : 300\n"
                  "\n"
                  "windows:\n"
                  "start_ms  end_ms  closed  flows\n"
                  "       0  300000  yes         7\n");
    cur_cmd = fm_ctl_cmd_find("exporters");
    expect_output(print_cmd, "{\"exporters\":[]}", "exporters:\n(none)\n");
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
    assert_non_null(strstr(buf, "hist [--class C] [--metric M] [--direction D] [--window W]"));
    assert_non_null(strstr(buf, "model --job J "));
    free(buf);

    out = open_memstream(&buf, &len);
    fm_ctl_format_cmd_help(out, fm_ctl_cmd_find("model"));
    fclose(out);
    assert_string_equal(buf, "Usage: flowmixctl [OPTIONS] model --job J\n\n"
                             "latest mixture of one fit job.\n\n"
                             "  --job J  fit job name, as in [fit.NAME] (required)\n");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values), cmocka_unit_test(test_kv),
        cmocka_unit_test(test_table),  cmocka_unit_test(test_hist),
        cmocka_unit_test(test_model),  cmocka_unit_test(test_generic),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
