/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of mixture models: Python repr() number formatting (FLOW-MODELS-DETAIL §6.7),
 * byte-identical re-serialisation of the published agh_2015 mixture files, JSON parsing of both
 * accepted shapes and of malformed input, component pdf/cdf against closed forms computed here
 * with libm only (not GSL), the discrete-aware pdf and the .mode line.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_errno.h>

#include "mixture.h"
#include "util/err.h"

static const char *srcdir(void)
{
    const char *s = getenv("top_srcdir");
    return s ? s : ".";
}

static void test_repr(void **state)
{
    /* Expected strings are Python 3 repr() of the same doubles. */
    static const struct {
        double v;
        const char *s;
    } cases[] = {
        {1.0, "1.0"},
        {7.805599279070412, "7.805599279070412"},
        {0.0005522188937705091, "0.0005522188937705091"},
        {8.71245062931499e-08, "8.71245062931499e-08"},
        {1e16, "1e+16"},
        {0.1, "0.1"},
        {1e-05, "1e-05"},
        {0.0001, "0.0001"},
        {123456789012345680.0, "1.2345678901234568e+17"},
        {9999999999999998.0, "9999999999999998.0"},
        {-2.5, "-2.5"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {100.0, "100.0"},
        {2.220446049250313e-16, "2.220446049250313e-16"},
        {0.3050265769901237, "0.3050265769901237"},
        {1084.4707584768782, "1084.4707584768782"},
        {1.5e300, "1.5e+300"},
        {NAN, "NaN"},
        {INFINITY, "Infinity"},
    };
    char buf[64];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(fm_mix_repr_double(cases[i].v, buf, sizeof(buf)), cases[i].s);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static void test_roundtrip_published(void **state)
{
    static const char *const files[] = {"length/flows", "length/packets", "length/octets",
                                        "size/flows",   "size/packets",   "size/octets"};
    (void)state;
    for (size_t i = 0; i < 6; i++) {
        char path[4096], err[256];
        fm_mix_t *m = NULL;
        snprintf(path, sizeof(path), "%s/tests/data/agh_2015/mixtures/all/%s.json", srcdir(),
                 files[i]);
        char *want = slurp(path);
        assert_int_equal(fm_mix_read_json(path, &m, err, sizeof(err)), 0);
        char *got = fm_mix_to_json(m);
        assert_string_equal(got, want);
        /* Parsing the text gives the same object as reading the file. */
        fm_mix_t *m2 = NULL;
        assert_int_equal(fm_mix_parse_json(want, &m2, err, sizeof(err)), 0);
        char *got2 = fm_mix_to_json_string(m2);
        assert_string_equal(got2, want);
        free(got);
        free(got2);
        free(want);
        fm_mix_free(m);
        fm_mix_free(m2);
    }
}

static void test_parse_shapes(void **state)
{
    fm_mix_t *m = NULL;
    char err[256];
    (void)state;
    /* A bare list (what flow-models --initial takes) has sum 0 and is written back as a list. */
    assert_int_equal(fm_mix_parse_json("[[0.5, \"uniform\", [0, 3]], [0.5, \"lognorm\", "
                                       "[2.0, 0, 10.0]]]",
                                       &m, err, sizeof(err)),
                     0);
    assert_int_equal(fm_mix_count(m), 2);
    assert_int_equal(fm_mix_sum(m), 0);
    char *s = fm_mix_to_json(m);
    assert_string_equal(s, "[\n  [0.5, \"uniform\", [0, 3]],\n  [0.5, \"lognorm\", [2.0, 0, "
                           "10.0]]\n]\n");
    free(s);
    fm_mix_free(m);
    /* gamma's shape as a one-element array, genpareto, weibull_min */
    assert_int_equal(fm_mix_parse_json("{\"sum\": 7, \"mix\": [[1.0, \"gamma\", [[2.5], 0, 3.0]],"
                                       "[0.0, \"genpareto\", [0.5, 6, 3.0]],"
                                       "[0.0, \"weibull_min\", [1.5, 0, 2.0]]]}",
                                       &m, err, sizeof(err)),
                     0);
    assert_int_equal(fm_mix_count(m), 3);
    assert_true(fm_mix_comp(m, 0)->p[0] == 2.5);
    assert_int_equal(fm_mix_comp(m, 1)->fam, FM_FAM_GENPARETO);
    fm_mix_free(m);

    static const char *const bad[] = {
        "", "{", "42", "{\"sum\": 1}", "{\"sum\": -1, \"mix\": []}",
        "[[0.5, \"cauchy\", [0, 1]]]", "[[0.5, \"uniform\", [0, 1, 2]]]",
        "[[0.5, \"lognorm\", [1, \"a\", 2]]]", "[[\"x\", \"uniform\", [0, 1]]]", "[[0.5]]",
        "{\"sum\": 2e45, \"mix\": []}", /* fuzz_mixture: sum beyond uint64_t */
        /* fuzz_mixture: a real sum past INT64_MAX was accepted, then written as an integer
         * that JSON readers (jansson's json_int_t) refuse: what we write must read back */
        "{\"sum\": 1.0011111111111111e19, \"mix\": []}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        m = NULL;
        assert_int_equal(fm_mix_parse_json(bad[i], &m, err, sizeof(err)), FM_EFORMAT);
        assert_null(m);
    }
    assert_true(fm_mix_read_json("/nonexistent/x.json", &m, err, sizeof(err)) < 0);
}

static fm_mix_comp_t comp3(fm_family_t fam, double a, double loc, double scale)
{
    return (fm_mix_comp_t){.w = 1, .fam = fam, .np = 3, .p = {a, loc, scale}};
}

static void test_families(void **state)
{
    (void)state;
    assert_int_equal(fm_mix_family_parse("cauchy"), FM_EINVAL);
    assert_int_equal(fm_mix_y_parse("bytes"), FM_EINVAL);
    /* lognorm: closed forms with libm's erfc. */
    fm_mix_comp_t ln = comp3(FM_FAM_LOGNORM, 0.7, 0, 20.0);
    for (double x = 0.5; x < 1000; x *= 1.7) {
        double z = log(x / 20.0) / 0.7;
        double pdf = exp(-z * z / 2) / (x * 0.7 * sqrt(2 * M_PI));
        assert_true(fabs(fm_mix_comp_pdf(&ln, x) - pdf) <= 1e-13 * pdf);
        assert_true(fabs(fm_mix_comp_cdf(&ln, x) - 0.5 * erfc(-z / sqrt(2))) < 1e-14);
    }
    assert_true(fm_mix_comp_pdf(&ln, 0) == 0 && fm_mix_comp_cdf(&ln, -1) == 0);
    /* uniform is closed at both ends, as in scipy. */
    fm_mix_comp_t u = {.w = 1, .fam = FM_FAM_UNIFORM, .np = 2, .p = {0, 4}};
    assert_true(fm_mix_comp_pdf(&u, 4) == 0.25 && fm_mix_comp_pdf(&u, 0) == 0.25);
    assert_true(fm_mix_comp_pdf(&u, 4.0000001) == 0 && fm_mix_comp_cdf(&u, 3) == 0.75);
    assert_true(fm_mix_comp_cdf(&u, 9) == 1 && fm_mix_comp_cdf(&u, -1) == 0);
    /* genpareto as a classic Pareto: P(X > x) = (x / beta)^-alpha. */
    fm_mix_comp_t gp = comp3(FM_FAM_GENPARETO, 0.5, 6, 3.0); /* alpha 2, beta 6 */
    for (double x = 6; x < 1e6; x *= 3) {
        assert_true(fabs(1 - fm_mix_comp_cdf(&gp, x) - pow(x / 6, -2)) < 1e-14);
        assert_true(fabs(fm_mix_comp_pdf(&gp, x) - 2 * 36 / pow(x, 3)) <= 1e-13 * 72 / pow(x, 3));
    }
    /* weibull_min closed form; gamma with a = 1 is exponential, a = 2 has cdf 1-(1+z)e^-z. */
    fm_mix_comp_t wb = comp3(FM_FAM_WEIBULL_MIN, 1.5, 0, 2.0);
    fm_mix_comp_t g1 = comp3(FM_FAM_GAMMA, 1.0, 0, 3.0), g2 = comp3(FM_FAM_GAMMA, 2.0, 0, 3.0);
    for (double x = 0.1; x < 50; x *= 1.9) {
        double z = x / 2.0;
        assert_true(fabs(fm_mix_comp_cdf(&wb, x) + expm1(-pow(z, 1.5))) < 1e-14);
        assert_true(fabs(fm_mix_comp_pdf(&wb, x) - 1.5 * sqrt(z) * exp(-pow(z, 1.5)) / 2.0) <
                    1e-14);
        assert_true(fabs(fm_mix_comp_cdf(&g1, x) + expm1(-x / 3)) < 1e-14);
        assert_true(fabs(fm_mix_comp_pdf(&g1, x) - exp(-x / 3) / 3) < 1e-14);
        assert_true(fabs(fm_mix_comp_cdf(&g2, x) - (1 - (1 + x / 3) * exp(-x / 3))) < 1e-14);
    }
    /* scale <= 0 is undefined, not a crash. */
    fm_mix_comp_t badc = comp3(FM_FAM_LOGNORM, 1, 0, 0);
    assert_true(isnan(fm_mix_comp_pdf(&badc, 1)) && isnan(fm_mix_comp_cdf(&badc, 1)));
}

static void test_mixture_eval(void **state)
{
    fm_mix_t *m = fm_mix_new(100);
    fm_mix_comp_t u = {.w = 1, .fam = FM_FAM_UNIFORM, .np = 2, .p = {0, 2}, .intmask = 3};
    fm_mix_comp_t ln = comp3(FM_FAM_LOGNORM, 1.0, 0, 100.0);
    (void)state;
    ln.w = 3;
    assert_int_equal(fm_mix_add(m, &u), 0);
    assert_int_equal(fm_mix_add(m, &ln), 0);
    fm_mix_comp_t wrong = u;
    wrong.np = 3;
    assert_int_equal(fm_mix_add(m, &wrong), FM_EINVAL);
    /* Normalised weights 1/4 and 3/4. */
    double x = 50;
    assert_true(fabs(fm_mix_cdf(m, x) - (0.25 + 0.75 * fm_mix_comp_cdf(&ln, x))) < 1e-15);
    assert_true(fabs(fm_mix_pdf(m, 1) - (0.25 * 0.5 + 0.75 * fm_mix_comp_pdf(&ln, 1))) < 1e-15);
    /* Discrete pdf: mass of (x-1, x] below 1024, (0, xmin] at xmin, density from 1024. */
    double d2 = fm_mix_pdf_discrete(m, 2, 1);
    assert_true(fabs(d2 - (fm_mix_cdf(m, 2) - fm_mix_cdf(m, 1))) < 1e-15);
    assert_true(fabs(fm_mix_pdf_discrete(m, 1, 1) - fm_mix_cdf(m, 1)) < 1e-15);
    assert_true(fm_mix_pdf_discrete(m, 2000, 1) == fm_mix_pdf(m, 2000));
    fm_mix_t *c = fm_mix_clone(m);
    assert_int_equal(fm_mix_remove(c, 0), 0);
    assert_int_equal(fm_mix_count(c), 1);
    assert_int_equal(fm_mix_count(m), 2);
    assert_int_equal(fm_mix_remove(c, 5), FM_EINVAL);
    /* loglik: first row uses the mass of (0, x0]. */
    fm_hist_bin_t bins[2] = {{1, 2, 10, 10, 640}, {5, 6, 30, 150, 9000}};
    double want = (10 * log(1 * 0.5 + 3 * fm_mix_comp_cdf(&ln, 1)) +
                   30 * log(3 * fm_mix_comp_pdf(&ln, 5))) / 40;
    assert_true(fabs(fm_mix_loglik(m, bins, 2, FM_Y_FLOWS) - want) < 1e-13);
    fm_mix_free(c);
    fm_mix_free(m);
    fm_mix_free(NULL);
}

static void test_mode_line(void **state)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    (void)state;
    assert_int_equal(fm_mix_write_mode(f, NULL, FM_Y_FLOWS, 400, 6, 0, 4, NULL, 0), 0);
    assert_int_equal(fm_mix_write_mode(f, "h\"x.csv", FM_Y_OCTETS, 100, 0, 0, 0, "i.json", 0.5),
                     0);
    fclose(f);
    assert_string_equal(s, "{\"y_value\": \"flows\", \"max_iter\": 400, \"initial\": {\"U\": 6, "
                           "\"L\": 4}, \"max_pareto_w\": null}\n"
                           "{\"in_file\": \"h\\\"x.csv\", \"y_value\": \"octets\", \"max_iter\": "
                           "100, \"initial\": \"i.json\", \"max_pareto_w\": 0.5}\n");
    free(s);
    /* The agh_2015 .mode files are exactly this line. */
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/data/agh_2015/mixtures/all/length/flows.mode",
             srcdir());
    char *pub = slurp(path);
    s = NULL;
    f = open_memstream(&s, &len);
    fm_mix_write_mode(f, NULL, FM_Y_FLOWS, 400, 6, 0, 4, NULL, 0);
    fclose(f);
    assert_string_equal(s, pub);
    free(s);
    free(pub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repr),          cmocka_unit_test(test_roundtrip_published),
        cmocka_unit_test(test_parse_shapes),  cmocka_unit_test(test_families),
        cmocka_unit_test(test_mixture_eval),  cmocka_unit_test(test_mode_line),
    };
    gsl_set_error_handler_off();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
