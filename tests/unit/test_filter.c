/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the filter language: Python precedence (the values below are what Python's
 * eval() gives for the same expressions and record), chained comparisons, `~` on truth values
 * (numpy semantics), integer edge cases, syntax errors with their column, and record selection.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "filter.h"
#include "flowio.h"
#include "util/err.h"

/* prot 6, packets 3, octets 300, sp 1024, dp 80, sa3 10.0.0.1, first 1000 s 500 ms. */
static fm_flow_t sample(void)
{
    fm_flow_t f;
    memset(&f, 0, sizeof(f));
    f.af = FM_AF_INET;
    f.proto = 6;
    f.packets = 3;
    f.octets = 300;
    f.sport = 1024;
    f.dport = 80;
    fm_flow_set_v4(f.src, 0x0A000001u);
    fm_flow_set_v4(f.dst, 0xC0000201u);
    f.first_ms = 1000500;
    f.last_ms = 1002000;
    f.records = 1;
    return f;
}

static bool eval_expr(const char *expr)
{
    fm_filter_t *flt;
    char err[128];
    fm_flow_t f = sample();
    int rc = fm_filter_compile(expr, &flt, err, sizeof(err));
    if (rc != 0) {
        fail_msg("compile '%s': %s", expr, err);
    }
    bool m = fm_filter_match(flt, &f);
    fm_filter_free(flt);
    return m;
}

static void test_precedence(void **state)
{
    (void)state;
    static const struct {
        const char *expr;
        bool want; /* Python: bool(eval(expr)) with the sample's fields */
    } cases[] = {
        {"prot == 6", true},
        {"prot==17", false},
        {"(prot == 6) & (packets > 1)", true},
        {"prot == 6 & packets > 1", false}, /* prot == (6 & packets) > 1 → 6 == 2 → False */
        {"prot == 6 and packets > 1", true},
        {"prot == 17 or packets > 1 and octets < 100", false},
        {"(prot == 17 or packets > 1) and octets < 1000", true},
        {"not prot == 6", false},
        {"not prot == 17 and dp == 80", true},
        {"1 < packets < 3", false},
        {"1 < packets <= 3 < octets", true},
        {"packets + 1 * 2 == 5", true},
        {"(packets + 1) * 2 == 8", true},
        {"octets // 7 == 42 and octets % 7 == 6", true},
        {"-octets // 7 == -43 and -octets % 7 == 1", true}, /* floor semantics */
        {"~packets == -4", true},
        {"~(prot == 6)", false}, /* logical on a truth value */
        {"~(prot == 6) | (dp == 80)", true},
        {"~~(prot == 6)", true},
        {"sa3 >> 24 == 10", true},
        {"1 << 2 + 1 == 8", true},
        {"sp ^ 1024 == 0", true}, /* ^ binds tighter than == */
        {"(sp ^ 1024) == 0", true},
        {"0x10 == 16 and 0o20 == 16 and 0b10000 == 16 and 1_000 == 1000", true},
        {"first * 1000 + first_ms == 1000500", true},
        {"last - first == 2", true},
        {"True", true},
        {"False or aggs", true},
        {"octets and 0", false},
        {"packets or prot == 99", true},
        {"  ( ( prot ) ) \t== 6  ", true},
        {"octets > 18446744073709551615", false}, /* no 64-bit wrap */
        {"packets * 6148914691236517205 > 18446744073709551615", false},
        {"packets * 6148914691236517206 > 18446744073709551615", true},
        {"octets // 0 == 0", true},
        {"prot != 1", true},
        /* membership in a literal tuple, as flow-models' per-record (csv_flow) filter */
        {"dp in (80, 443)", true},
        {"dp in (443, 8080)", false},
        {"dp not in (80, 443)", false},
        {"dp in [80]", true},
        {"dp in ()", false},
        {"(prot == 6) & (dp in (8080, 79 + 1,))", true},
        {"not dp in (80,) or sp in {1024}", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (eval_expr(cases[i].expr) != cases[i].want) {
            fail_msg("'%s' should be %s", cases[i].expr, cases[i].want ? "true" : "false");
        }
    }
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *expr;
        int col;
    } cases[] = {
        {"prot = 6", 6}, {"prot ==", 8},  {"foo == 1", 1},    {"(prot == 6", 11},
        {"prot == 6)", 10}, {"packets / 2", 9}, {"", 1}, {"prot == 0x", 9}, {"prot == 09a", 9},
        {"prot == 6 and", 14}, {"protx == 1", 1}, {"prot == 1.5", 9}, {"prot == 6 &&", 12},
        {"dp in 80", 7}, {"dp in (80, 443) == 1", 19}, {"dp in (80 443)", 11},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fm_filter_t *f = NULL;
        char err[128], want[32];
        int rc = fm_filter_compile(cases[i].expr, &f, err, sizeof(err));
        if (rc != FM_EINVAL || f != NULL) {
            fail_msg("'%s' compiled (rc %d)", cases[i].expr, rc);
        }
        snprintf(want, sizeof(want), "column %d", cases[i].col);
        if (!strstr(err, want)) {
            fail_msg("'%s': message '%s' lacks '%s'", cases[i].expr, err, want);
        }
    }
    /* Deep nesting is refused, not a stack overflow. */
    char deep[4096];
    memset(deep, '(', 3000);
    strcpy(deep + 3000, "1");
    fm_filter_t *f = NULL;
    char err[128];
    assert_int_equal(fm_filter_compile(deep, &f, err, sizeof(err)), FM_EINVAL);
    assert_non_null(strstr(err, "nested"));
    fm_filter_free(NULL);
}

static void test_select(void **state)
{
    (void)state;
    fm_filter_t *flt;
    fm_flow_t f[10];
    int got[10];
    int n = 0;
    assert_int_equal(fm_filter_compile("sp % 2 == 0", &flt, NULL, 0), 0);
    for (int i = 0; i < 10; i++) {
        f[i] = sample();
        f[i].sport = (uint16_t)i;
    }
    /* skip_in 1 drops sp 0; count_in 7 reads sp 1..7; filter keeps 2,4,6; skip_out 1 drops 2;
     * count_out 1 keeps 4 and then stops at 6. */
    fm_select_t s = {.skip_in = 1, .count_in = 7, .has_count_in = true, .skip_out = 1,
                     .count_out = 1, .has_count_out = true, .filter = flt};
    for (int i = 0; i < 10; i++) {
        int r = fm_select_step(&s, &f[i]);
        if (r < 0) {
            break;
        }
        if (r > 0) {
            got[n++] = f[i].sport;
        }
    }
    assert_int_equal(n, 1);
    assert_int_equal(got[0], 4);
    fm_filter_free(flt);
}

/* The tuple form (column readers) decides as the flow form, reading only fm_filter_fields. */
static void test_tuple_fields(void **state)
{
    (void)state;
    static const char *const exprs[] = {"prot == 6 and packets > 1", "sp % 2 == 0",
                                        "~(dp == 80) | (octets // packets > 99)", "True"};
    static const uint32_t fields[] = {
        1u << FM_FIELD_PROT | 1u << FM_FIELD_PACKETS, 1u << FM_FIELD_SP,
        1u << FM_FIELD_DP | 1u << FM_FIELD_OCTETS | 1u << FM_FIELD_PACKETS, 0};
    fm_flow_t f = sample();
    uint64_t t[FM_FIELD_COUNT];
    for (size_t k = 0; k < sizeof(exprs) / sizeof(exprs[0]); k++) {
        fm_filter_t *flt;
        assert_int_equal(fm_filter_compile(exprs[k], &flt, NULL, 0), 0);
        assert_int_equal(fm_filter_fields(flt), fields[k]);
        for (int sp = 0; sp < 4; sp++) {
            f.sport = (uint16_t)sp;
            fm_flow_to_tuple(&f, t);
            for (int i = 0; i < FM_FIELD_COUNT; i++) {
                t[i] = fields[k] >> i & 1u ? t[i] : 0xdead; /* unread fields: garbage */
            }
            assert_int_equal(fm_filter_match_tuple(flt, t), fm_filter_match(flt, &f));
            fm_select_t a = {.filter = flt}, b = {.filter = flt};
            assert_int_equal(fm_select_step_tuple(&a, t), fm_select_step(&b, &f));
        }
        fm_filter_free(flt);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_tuple_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
