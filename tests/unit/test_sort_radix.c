/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fm_sort_radix (flowmix sort's core) against a plain comparison sort with the record index as
 * the last key: every column type, keys whose ranges need more than one 64-bit word, constant
 * keys, ties, --reverse, and the empty input.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd/sort_radix.h"

#define N 5000

static const fm_sort_key_t *g_keys;
static int g_nkeys;

static int cmp_idx(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    for (int k = 0; k < g_nkeys; k++) {
        uint64_t u = fm_sort_key_at(&g_keys[k], x), v = fm_sort_key_at(&g_keys[k], y);
        if (u != v) {
            return u < v ? -1 : 1;
        }
    }
    return x < y ? -1 : x > y;
}

static void check(const fm_sort_key_t *keys, int nkeys, size_t n, bool reverse)
{
    size_t *want = malloc((n ? n : 1) * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        want[i] = i;
    }
    g_keys = keys;
    g_nkeys = nkeys;
    qsort(want, n, sizeof(size_t), cmp_idx);
    uint32_t *got = fm_sort_radix(keys, nkeys, n, reverse);
    assert_non_null(got);
    for (size_t j = 0; j < n; j++) {
        assert_int_equal(got[j], want[reverse ? n - 1 - j : j]);
    }
    free(got);
    free(want);
}

static uint64_t rnd(void)
{
    static uint64_t s = 0x9e3779b97f4a7c15ull;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

static void test_types(void **state)
{
    (void)state;
    static uint8_t b[N];
    static int16_t h[N];
    static uint32_t i32[N];
    static int64_t q[N];
    static uint64_t Q[N], Q2[N];
    static double d[N];
    static float f[N];
    for (size_t i = 0; i < N; i++) {
        b[i] = (uint8_t)(rnd() % 4); /* many ties */
        h[i] = (int16_t)(rnd() % 200) - 100;
        i32[i] = (uint32_t)rnd();
        q[i] = (int64_t)rnd();
        Q[i] = rnd();
        Q2[i] = rnd() % 3 ? rnd() : 0;
        d[i] = (double)(int64_t)(rnd() % 1000 - 500) / 7.0;
        f[i] = (float)(rnd() % 100) - 50.5f;
    }
    const fm_sort_key_t single[][1] = {{{b, 'B'}}, {{h, 'h'}}, {{i32, 'I'}}, {{q, 'q'}},
                                       {{Q, 'Q'}}, {{d, 'd'}},  {{f, 'f'}}};
    for (size_t k = 0; k < sizeof(single) / sizeof(single[0]); k++) {
        check(single[k], 1, N, false);
        check(single[k], 1, N, true);
    }
    /* Ranges of 2 + 8 + 32 bits pack in one word; two full 64-bit keys need two groups. */
    const fm_sort_key_t packed[] = {{b, 'B'}, {h, 'h'}, {i32, 'I'}};
    check(packed, 3, N, false);
    check(packed, 3, N, true);
    const fm_sort_key_t wide[] = {{b, 'B'}, {Q2, 'Q'}, {Q, 'Q'}, {h, 'h'}};
    check(wide, 4, N, false);
    check(wide, 4, N, true);
}

static void test_edges(void **state)
{
    (void)state;
    static uint32_t same[N];
    static uint16_t ms[N];
    for (size_t i = 0; i < N; i++) {
        same[i] = 1433962800u; /* constant key: input order kept */
        ms[i] = (uint16_t)(999 - i % 1000);
    }
    const fm_sort_key_t k1[] = {{same, 'I'}};
    check(k1, 1, N, false);
    check(k1, 1, N, true);
    const fm_sort_key_t k2[] = {{same, 'I'}, {ms, 'H'}};
    check(k2, 2, N, false);
    check(k2, 2, 1, false);
    uint32_t *p = fm_sort_radix(k2, 2, 0, false); /* empty input: an empty permutation */
    assert_non_null(p);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
