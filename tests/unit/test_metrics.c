/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the Prometheus text (metrics_text.c): every numeric status member becomes a
 * metric with HELP and TYPE (named ones from the table, unknown ones untyped, rates and clocks
 * left to Prometheus), exporter and plugin labels are escaped, histograms are cumulative with
 * le = the largest value of each bin and +Inf = count, mixture parameters carry scipy's names.
 * The HTTP side is tested with a real Prometheus in tests/integration/092-prometheus.sh.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "metrics_text.h"

static char *render(const char *status, const char *exporters, const char *fits,
                    const fm_metrics_hist_t *h, size_t nh)
{
    json_t *s = status ? json_loads(status, 0, NULL) : NULL;
    json_t *e = exporters ? json_loads(exporters, 0, NULL) : NULL;
    json_t *f = fits ? json_loads(fits, 0, NULL) : NULL;
    size_t len = 0;
    char *text = fm_metrics_render(s, e, f, h, nh, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    json_decref(s);
    json_decref(e);
    json_decref(f);
    return text;
}

static void expect_in(const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        fail_msg("no '%s' in:\n%s", needle, text);
    }
}

static void test_status(void **state)
{
    char *t = render("{\"version\":\"1\",\"records\":42,\"records_per_s\":1.5,\"now_ms\":5,"
                     "\"rate_1m\":{\"records\":1.5},\"start_ms\":1500,"
                     "\"cache\":{\"entries\":3},\"store\":{\"ok\":true,\"path\":\"x\"},"
                     "\"new_thing\":{\"count\":7},"
                     "\"bounds\":{\"exporters\":{\"used\":2,\"limit\":1024},\"recycles\":5}}",
                     NULL, NULL, NULL, 0);
    expect_in(t, "# HELP flowmix_records_total Flow records decoded.\n"
                 "# TYPE flowmix_records_total counter\nflowmix_records_total 42\n");
    expect_in(t, "# TYPE flowmix_cache_entries gauge\nflowmix_cache_entries 3\n");
    expect_in(t, "flowmix_store_up 1\n");
    expect_in(t, "flowmix_start_time_seconds 1.5\n");
    expect_in(t, "# TYPE flowmix_new_thing_count untyped\nflowmix_new_thing_count 7\n");
    expect_in(t, "# TYPE flowmix_bound_used gauge\nflowmix_bound_used{bound=\"exporters\"} 2\n"
                 "flowmix_bound_used{bound=\"recycles\"} 5\n");
    expect_in(t, "# TYPE flowmix_bound_limit gauge\nflowmix_bound_limit{bound=\"exporters\"} 1024\n");
    assert_null(strstr(t, "flowmix_bounds_"));
    assert_null(strstr(t, "per_s"));
    assert_null(strstr(t, "rate_1m"));
    assert_null(strstr(t, "now"));
    free(t);
}

static void test_labels(void **state)
{
    char *t = render("{\"plugins\":[{\"name\":\"a\\\"b\\\\c\",\"flows\":9,\"blocked_us\":1500000,"
                     "\"plugin_counters\":{\"sent\":4}}]}",
                     "{\"exporters\":[{\"address\":\"2001:db8::1\",\"port\":2055,\"records\":5,"
                     "\"name\":null},{\"address\":\"192.0.2.1\",\"port\":9,\"records\":6,"
                     "\"name\":\"edge\\nx\"}]}",
                     NULL, NULL, 0);
    expect_in(t, "flowmix_plugin_flows_total{plugin=\"a\\\"b\\\\c\"} 9\n");
    expect_in(t, "flowmix_plugin_blocked_seconds_total{plugin=\"a\\\"b\\\\c\"} 1.5\n");
    expect_in(t, "flowmix_plugin_stat{plugin=\"a\\\"b\\\\c\",name=\"sent\"} 4\n");
    expect_in(t, "flowmix_exporter_records_total{exporter=\"[2001:db8::1]:2055\",name=\"\"} 5\n");
    expect_in(t, "flowmix_exporter_records_total{exporter=\"192.0.2.1:9\",name=\"edge\\nx\"} 6\n");
    /* No family header without samples. */
    assert_null(strstr(t, "flowmix_exporter_templates"));
    free(t);
}

static void test_hist(void **state)
{
    fm_hist_bin_t bins[] = {{1, 2, 10, 10, 400}, {2, 3, 5, 10, 900}, {100, 128, 1, 110, 9000}};
    fm_metrics_hist_t h[] = {{"tcp", FM_METRIC_LENGTH, bins, 3},
                             {"udp", FM_METRIC_LENGTH, NULL, 0},
                             {"tcp", FM_METRIC_SIZE, bins, 1}};
    char *t = render(NULL, NULL, NULL, h, 3);
    expect_in(t, "# TYPE flowmix_flow_length histogram\n"
                 "flowmix_flow_length_bucket{class=\"tcp\",le=\"1\"} 10\n"
                 "flowmix_flow_length_bucket{class=\"tcp\",le=\"2\"} 15\n"
                 "flowmix_flow_length_bucket{class=\"tcp\",le=\"127\"} 16\n"
                 "flowmix_flow_length_bucket{class=\"tcp\",le=\"+Inf\"} 16\n"
                 "flowmix_flow_length_sum{class=\"tcp\"} 130\n"
                 "flowmix_flow_length_count{class=\"tcp\"} 16\n"
                 "flowmix_flow_length_bucket{class=\"udp\",le=\"+Inf\"} 0\n");
    expect_in(t, "# TYPE flowmix_flow_size_bytes histogram\n"
                 "flowmix_flow_size_bytes_bucket{class=\"tcp\",le=\"1\"} 10\n"
                 "flowmix_flow_size_bytes_bucket{class=\"tcp\",le=\"+Inf\"} 10\n"
                 "flowmix_flow_size_bytes_sum{class=\"tcp\"} 400\n");
    free(t);
}

static void test_fits(void **state)
{
    char *t = render(NULL, NULL,
                     "{\"fits\":[{\"job\":\"j\",\"class\":\"all\",\"metric\":\"length\","
                     "\"direction\":\"uniflow\",\"y\":\"flows\",\"loglik\":-2.5,\"model\":{\"sum\":"
                     "9,\"mix\":[[0.25,\"uniform\",[0,1]],[0.75,\"genpareto\",[0.5,1,2]]]}},"
                     "{\"job\":\"k\",\"model\":null,\"loglik\":0}]}",
                     NULL, 0);
    const char *l = "{job=\"j\",class=\"all\",metric=\"length\",direction=\"uniflow\",y=\"flows\"";
    char want[512];
    snprintf(want, sizeof(want), "flowmix_mixture_loglik%s} -2.5\n", l);
    expect_in(t, want);
    snprintf(want, sizeof(want), "flowmix_mixture_weight%s,component=\"2\",family=\"genpareto\"} "
             "0.75\n", l);
    expect_in(t, want);
    snprintf(want, sizeof(want), "flowmix_mixture_parameter%s,component=\"2\",family=\"genpareto\","
             "parameter=\"c\"} 0.5\n", l);
    expect_in(t, want);
    snprintf(want, sizeof(want), "flowmix_mixture_parameter%s,component=\"1\",family=\"uniform\","
             "parameter=\"scale\"} 1\n", l);
    expect_in(t, want);
    assert_null(strstr(t, "job=\"k\"")); /* no result yet: no series */
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_hist),
        cmocka_unit_test(test_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
