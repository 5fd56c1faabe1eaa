/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the histogram delta wire format (src/histdelta.c): a full set of random flows
 * round-trips bin for bin with its header; an empty set encodes to no histograms; the encoder
 * refuses bad ids and values JSON cannot carry; the decoder refuses each kind of bad or hostile
 * document with the right code and a message, and survives every truncation and random byte
 * corruption of a valid document (seed printed).
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

#include "flow.h"
#include "hist.h"
#include "histdelta.h"
#include "util/err.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static fm_histset_t *random_set(unsigned bin_exp, size_t nflows)
{
    fm_histset_t *s;
    fm_flow_t f;
    assert_int_equal(fm_histset_new(bin_exp, &s), 0);
    for (size_t i = 0; i < nflows; i++) {
        memset(&f, 0, sizeof(f));
        f.first_ms = 1718000000000ull + rnd() % 100000;
        f.packets = 1 + (rnd() % 2 ? rnd() % 5 : rnd() % 100000);
        f.octets = f.packets * (40 + rnd() % 1460);
        f.last_ms = f.first_ms + (f.packets > 1 ? rnd() % 3600000 : 0);
        f.proto = (uint8_t[]){6, 17, 1}[rnd() % 3];
        if (rnd() % 4 == 0) {
            f.rev_packets = 1 + rnd() % 50;
            f.rev_octets = f.rev_packets * 100;
            f.rev_first_ms = f.first_ms + 1;
            f.rev_last_ms = f.last_ms;
            f.flags = FM_FLOW_BIFLOW;
        }
        fm_histset_add_flows(s, &f, 1);
    }
    return s;
}

static fm_histdelta_meta_t meta_of(unsigned bin_exp)
{
    fm_histdelta_meta_t m = {.run = 1718000000123ull, .seq = 42,
                             .window_start_ms = 1718000000000ull,
                             .window_end_ms = 1718003600000ull, .bin_exp = bin_exp};
    strcpy(m.collector, "edge-1.example");
    return m;
}

static void assert_sets_equal(const fm_histset_t *a, const fm_histset_t *b)
{
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                fm_hist_bin_t *x, *y;
                long nx = fm_hist_bins(fm_histset_cget(a, c, d, m), &x);
                long ny = fm_hist_bins(fm_histset_cget(b, c, d, m), &y);
                assert_int_equal(nx, ny);
                if (nx > 0) {
                    assert_memory_equal(x, y, (size_t)nx * sizeof(*x));
                }
                free(x);
                free(y);
            }
        }
    }
}

static void test_round_trip(void **state)
{
    static const unsigned exps[] = {0, 3, 12, 20};
    for (size_t e = 0; e < sizeof(exps) / sizeof(exps[0]); e++) {
        fm_histset_t *s = random_set(exps[e], 5000), *back;
        fm_histdelta_meta_t m = meta_of(exps[e]), got;
        char *text, err[256];
        size_t len;

        assert_int_equal(fm_histdelta_encode(&m, s, &text, &len), 0);
        assert_int_equal(strlen(text), len);
        assert_int_equal(fm_histdelta_decode(text, len, &got, &back, err, sizeof(err)), 0);
        assert_string_equal(got.collector, m.collector);
        assert_int_equal(got.run, m.run);
        assert_int_equal(got.seq, m.seq);
        assert_int_equal(got.window_start_ms, m.window_start_ms);
        assert_int_equal(got.window_end_ms, m.window_end_ms);
        assert_int_equal(got.bin_exp, exps[e]);
        assert_sets_equal(s, back);
        free(text);
        fm_histset_free(back);
        fm_histset_free(s);
    }
}

static void test_empty_set(void **state)
{
    fm_histset_t *s, *back;
    fm_histdelta_meta_t m = meta_of(12), got;
    char *text, err[256];
    size_t len;
    assert_int_equal(fm_histset_new(12, &s), 0);
    assert_int_equal(fm_histdelta_encode(&m, s, &text, &len), 0);
    assert_non_null(strstr(text, "\"hists\":[]"));
    assert_int_equal(fm_histdelta_decode(text, len, &got, &back, err, sizeof(err)), 0);
    assert_sets_equal(s, back);
    free(text);
    fm_histset_free(back);
    fm_histset_free(s);
}

static void test_encode_refuses(void **state)
{
    fm_histset_t *s;
    fm_histdelta_meta_t m = meta_of(12);
    fm_hist_bin_t huge = {.lo = 5, .hi = 6, .flows = UINT64_MAX, .packets = 5, .octets = 5};
    char *text;
    size_t len;
    assert_int_equal(fm_histset_new(12, &s), 0);
    strcpy(m.collector, "has space");
    assert_int_equal(fm_histdelta_encode(&m, s, &text, &len), FM_EINVAL);
    m.collector[0] = '\0';
    assert_int_equal(fm_histdelta_encode(&m, s, &text, &len), FM_EINVAL);
    m = meta_of(11); /* the set has bin_exp 12 */
    assert_int_equal(fm_histdelta_encode(&m, s, &text, &len), FM_EINVAL);
    m = meta_of(12);
    m.window_end_ms = m.window_start_ms;
    assert_int_equal(fm_histdelta_encode(&m, s, &text, &len), FM_EINVAL);
    m = meta_of(12);
    assert_int_equal(fm_hist_add_bin(fm_histset_get(s, FM_CLASS_UDP, FM_DIR_BIFLOW,
                                                    FM_METRIC_LENGTH), &huge), 0);
    assert_int_equal(fm_histdelta_encode(&m, s, &text, &len), FM_ERANGE);
    assert_null(text);
    fm_histset_free(s);
}

#define HDR "\"format\":\"flowmix.histdelta\",\"version\":1,\"collector\":\"c1\",\"run\":7," \
            "\"seq\":1,\"window_start_ms\":1000,\"window_end_ms\":2000,\"bin_exp\":12"
#define H1(bins) "{" HDR ",\"hists\":[{\"class\":\"all\",\"direction\":\"uniflow\"," \
                 "\"metric\":\"size\",\"bins\":" bins "}]}"

static const struct {
    const char *doc;
    int rc;
    const char *msg; /* a substring the error message must contain */
} bad[] = {
    {"", FM_EFORMAT, "not JSON"},
    {"[1,2]", FM_EFORMAT, "not a JSON object"},
    {"{\"format\":\"other\"}", FM_EFORMAT, "format"},
    {"{\"format\":\"flowmix.histdelta\",\"version\":3}", FM_EVERSION, "version 3"},
    {"{\"format\":\"flowmix.histdelta\",\"version\":\"1\"}", FM_EFORMAT, "version"},
    {"{\"format\":\"flowmix.histdelta\",\"version\":1,\"collector\":\"a b\"}", FM_EFORMAT,
     "collector"},
    {"{\"format\":\"flowmix.histdelta\",\"version\":1,\"collector\":\"a\\u0000b\"}", FM_EFORMAT,
     "not JSON"},
    {"{\"format\":\"flowmix.histdelta\",\"version\":1,\"collector\":\"\"}", FM_EFORMAT,
     "collector"},
    {"{\"format\":\"flowmix.histdelta\",\"version\":1,\"collector\":\"c\",\"run\":-1}",
     FM_EFORMAT, "run"},
    {"{\"format\":\"flowmix.histdelta\",\"version\":1,\"collector\":\"c\",\"run\":1.5}",
     FM_EFORMAT, "run"},
    {"{\"format\":\"flowmix.histdelta\",\"version\":1,\"collector\":\"c\",\"run\":1,"
     "\"seq\":18446744073709551616}", FM_EFORMAT, "not JSON"},
    {"{\"format\":\"flowmix.histdelta\",\"version\":1,\"collector\":\"c\",\"run\":1,\"seq\":1,"
     "\"window_start_ms\":5,\"window_end_ms\":5,\"bin_exp\":12,\"hists\":[]}", FM_EFORMAT,
     "window_end_ms"},
    {"{\"format\":\"flowmix.histdelta\",\"version\":1,\"collector\":\"c\",\"run\":1,\"seq\":1,"
     "\"window_start_ms\":5,\"window_end_ms\":6,\"bin_exp\":64,\"hists\":[]}", FM_EFORMAT,
     "bin_exp"},
    {"{" HDR "}", FM_EFORMAT, "hists"},
    {"{" HDR ",\"hists\":{}}", FM_EFORMAT, "hists"},
    {"{" HDR ",\"hists\":[],\"seq\":2}", FM_EFORMAT, "duplicate"},
    {H1("[[4097,1,1,4097]]"), FM_EFORMAT, "not a bin edge"},
    {H1("[[4096,1,1,4096],[4096,1,1,4096]]"), FM_EFORMAT, "ascending"},
    {H1("[[5000,1,1,5000],[4096,1,1,4096]]"), FM_EFORMAT, "ascending"},
    {H1("[[10,0,0,0]]"), FM_EFORMAT, "0 flows"},
    {H1("[[10,1,1]]"), FM_EFORMAT, "expected [bin_lo"},
    {H1("[[10,1,1,-10]]"), FM_EFORMAT, "non-negative"},
    {H1("[[10,1,1,\"10\"]]"), FM_EFORMAT, "non-negative"},
    {H1("[[10,1,1,1e3]]"), FM_EFORMAT, "non-negative"},
    {H1("[[10,9223372036854775807,1,1],[11,9223372036854775807,1,1],[12,2,1,1]]"), FM_EOVERFLOW,
     "64 bits"},
    {H1("7"), FM_EFORMAT, "bins must be an array"},
    {"{" HDR ",\"hists\":[{\"class\":\"icmp\",\"direction\":\"uniflow\",\"metric\":\"size\","
     "\"bins\":[]}]}", FM_EFORMAT, "unknown class"},
    {"{" HDR ",\"hists\":[{\"class\":\"all\",\"direction\":\"uniflow\",\"metric\":\"size\","
     "\"bins\":[],\"extra\":1}]}", FM_EFORMAT, "expected {class"},
    {"{" HDR ",\"hists\":[{\"class\":\"all\",\"direction\":\"uniflow\",\"metric\":\"size\","
     "\"bins\":[]},{\"class\":\"all\",\"direction\":\"uniflow\",\"metric\":\"size\","
     "\"bins\":[]}]}", FM_EFORMAT, "twice"},
    {"{" HDR ",\"hists\":[1]}", FM_EFORMAT, "hists[0]"},
};

static void test_rejects(void **state)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fm_histdelta_meta_t m;
        fm_histset_t *s = (fm_histset_t *)1;
        char err[256];
        int rc = fm_histdelta_decode(bad[i].doc, strlen(bad[i].doc), &m, &s, err, sizeof(err));
        if (rc != bad[i].rc || !strstr(err, bad[i].msg)) {
            fail_msg("case %zu: %s\n  rc %d (want %d), err '%s' (want '%s')", i, bad[i].doc, rc,
                     bad[i].rc, err, bad[i].msg);
        }
        assert_null(s);
    }
}

static void test_accepts_unknown_top_level_key(void **state)
{
    const char *doc = "{" HDR ",\"hists\":[],\"future\":{\"x\":1}}";
    fm_histdelta_meta_t m;
    fm_histset_t *s;
    char err[256];
    assert_int_equal(fm_histdelta_decode(doc, strlen(doc), &m, &s, err, sizeof(err)), 0);
    assert_string_equal(m.collector, "c1");
    fm_histset_free(s);
    /* a valid edge above the exact range: 4096 + 2 * 2 at bin_exp 12 is [4100, 4102) */
    doc = H1("[[0,3,0,0],[4100,1,1,4101]]");
    assert_int_equal(fm_histdelta_decode(doc, strlen(doc), &m, &s, err, sizeof(err)), 0);
    fm_histset_free(s);
}

static void test_limit(void **state)
{
    fm_histdelta_meta_t m;
    fm_histset_t *s;
    char err[256];
    /* the length is checked before a byte is read */
    assert_int_equal(fm_histdelta_decode("{}", (size_t)FM_HISTDELTA_MAX_BYTES + 1, &m, &s, err,
                                         sizeof(err)), FM_ELIMIT);
}

/* Every prefix and many random corruptions of a valid document: an error or a valid set,
 * never a crash (ASan builds check the memory side). */
static void test_truncated_and_corrupted(void **state)
{
    fm_histset_t *s = random_set(12, 25), *back; /* small: every prefix is parsed */
    fm_histdelta_meta_t m = meta_of(12), got;
    char *text, err[256];
    size_t len, ok = 0;
    uint64_t seed = (uint64_t)time(NULL);

    print_message("test_histdelta: corruption seed %llu\n", (unsigned long long)seed);
    assert_int_equal(fm_histdelta_encode(&m, s, &text, &len), 0);
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_not_equal(fm_histdelta_decode(text, cut, &got, &back, err, sizeof(err)), 0);
        assert_null(back);
    }
    rng_state = seed | 1;
    char *copy = malloc(len);
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, text, len);
        for (int k = 0; k < 1 + (int)(rnd() % 3); k++) {
            copy[rnd() % len] = (char)"0123456789[]{},:\"-.e x"[rnd() % 22];
        }
        if (fm_histdelta_decode(copy, len, &got, &back, err, sizeof(err)) == 0) {
            ok++;
            fm_histset_free(back);
        } else {
            assert_true(err[0] != '\0');
        }
    }
    print_message("test_histdelta: %zu of 3000 corruptions still decoded as valid deltas\n", ok);
    free(copy);
    free(text);
    fm_histset_free(s);
}

/* Split at several limits in both encodings: every part fits, carries (part, parts) and the
 * header; decoded and added up in reverse order the parts give the set back bin for bin. */
static void test_parts(void **state)
{
    static const size_t limits[] = {FM_HISTDELTA_MIN_PART, 4000, 65536, 0};
    fm_histset_t *s = random_set(12, 20000);
    for (int enc = 0; enc < 2; enc++) {
        for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
            fm_histdelta_meta_t m = meta_of(12), got;
            fm_histdelta_part_t *parts;
            fm_histset_t *sum, *back;
            size_t n;
            char err[256];
            assert_int_equal(fm_histdelta_encode_parts(&m, s, (fm_histdelta_enc_t)enc,
                                                       limits[l], &parts, &n), 0);
            assert_true(n >= 1);
            if (limits[l] == 0) {
                assert_int_equal(n, 1);
            }
            assert_int_equal(fm_histset_new(12, &sum), 0);
            for (size_t i = n; i-- > 0;) {
                if (limits[l]) {
                    assert_true(parts[i].len <= limits[l]);
                }
                assert_int_equal(fm_histdelta_decode(parts[i].data, parts[i].len, &got, &back,
                                                     err, sizeof(err)), 0);
                assert_int_equal(got.part, i);
                assert_int_equal(got.parts, n);
                assert_int_equal(got.seq, m.seq);
                assert_int_equal(got.run, m.run);
                assert_string_equal(got.collector, m.collector);
                assert_int_equal(got.window_end_ms, m.window_end_ms);
                assert_int_equal(fm_histset_merge(sum, back), 0);
                fm_histset_free(back);
            }
            assert_sets_equal(s, sum);
            print_message("test_histdelta: %s, limit %zu: %zu parts, first %zu bytes\n",
                          enc ? "json" : "binary", limits[l], n, parts[0].len);
            fm_histset_free(sum);
            fm_histdelta_parts_free(parts, n);
        }
    }
    fm_histset_free(s);
}

static void test_parts_refuse(void **state)
{
    fm_histset_t *s = random_set(12, 10);
    fm_histdelta_meta_t m = meta_of(12);
    fm_histdelta_part_t *parts;
    size_t n;
    assert_int_equal(fm_histdelta_encode_parts(&m, s, FM_HISTDELTA_BINARY,
                                               FM_HISTDELTA_MIN_PART - 1, &parts, &n), FM_EINVAL);
    assert_null(parts);
    fm_histset_free(s);
}

/* Binary: every prefix fails; random byte corruptions give an error or a valid part. */
static void test_binary_truncated_and_corrupted(void **state)
{
    fm_histset_t *s = random_set(12, 200), *back;
    fm_histdelta_meta_t m = meta_of(12), got;
    fm_histdelta_part_t *parts;
    size_t n, ok = 0;
    char err[256];
    uint64_t seed = (uint64_t)time(NULL);

    assert_int_equal(fm_histdelta_encode_parts(&m, s, FM_HISTDELTA_BINARY, 0, &parts, &n), 0);
    for (size_t cut = 0; cut < parts[0].len; cut++) {
        assert_int_not_equal(fm_histdelta_decode(parts[0].data, cut, &got, &back, err,
                                                 sizeof(err)), 0);
        assert_null(back);
        assert_true(err[0] != '\0');
    }
    print_message("test_histdelta: binary corruption seed %llu\n", (unsigned long long)seed);
    rng_state = seed | 1;
    char *copy = malloc(parts[0].len);
    for (int round = 0; round < 5000; round++) {
        memcpy(copy, parts[0].data, parts[0].len);
        for (int k = 0; k < 1 + (int)(rnd() % 3); k++) {
            copy[rnd() % parts[0].len] = (char)rnd();
        }
        if (fm_histdelta_decode(copy, parts[0].len, &got, &back, err, sizeof(err)) == 0) {
            ok++;
            fm_histset_free(back);
        } else {
            assert_true(err[0] != '\0');
        }
    }
    print_message("test_histdelta: %zu of 5000 binary corruptions still decoded\n", ok);
    free(copy);
    fm_histdelta_parts_free(parts, n);
    fm_histset_free(s);
}

static const struct {
    const char *bytes;
    size_t len;
    int rc;
    const char *msg;
} bad_bin[] = {
    {"FMHD\x03", 5, FM_EVERSION, "binary version 3"},
    {"FMHD\x02\x00", 6, FM_EFORMAT, "collector"},
    {"FMHD\x02\x02" "c1\x07\x01\x01\x01\x64\x0a\x0c\x00", 16, FM_EFORMAT, "part 1 of 1"},
    {"FMHD\x02\x02" "c1\x07\x01\x00\x01\x64\x00\x0c\x00", 16, FM_EFORMAT, "window_end_ms"},
    {"FMHD\x02\x02" "c1\x07\x01\x00\x01\x64\x0a\x40\x00", 16, FM_EFORMAT, "bin_exp"},
    {"FMHD\x02\x02" "c1\x07\x01\x00\x01\x64\x0a\x0c\x19", 16, FM_EFORMAT, "more than"},
    {"FMHD\x02\x02" "c1\x07\x01\x00\x01\x64\x0a\x0c\x01\x18\x01\x01\x01\x01\x01", 22,
     FM_EFORMAT, "index 24"},
    {"FMHD\x02\x02" "c1\x07\x01\x00\x01\x64\x0a\x0c\x01\x00\x05\x01\x01\x01\x01", 22,
     FM_EFORMAT, "does not fit"},
    {"FMHD\x02\x02" "c1\x07\x01\x00\x01\x64\x0a\x0c\x01\x00\x01\x01\x00\x01\x01", 22,
     FM_EFORMAT, "0 flows"},
    {"FMHD\x02\x02" "c1\x07\x01\x00\x01\x64\x0a\x0c\x01\x00\x01\x01\x01\x01\x01\x00", 23,
     FM_EFORMAT, "after the last"},
    {"FMHD\x02\x02" "c1\x07\x01\x00\x01\x64\x0a\x0c\x02\x00\x01\x01\x01\x01\x01"
     "\x00\x01\x01\x01\x01\x01", 28, FM_EFORMAT, "not ascending"},
};

static void test_binary_rejects(void **state)
{
    for (size_t i = 0; i < sizeof(bad_bin) / sizeof(bad_bin[0]); i++) {
        fm_histdelta_meta_t m;
        fm_histset_t *s = (fm_histset_t *)1;
        char err[256];
        int rc = fm_histdelta_decode(bad_bin[i].bytes, bad_bin[i].len, &m, &s, err, sizeof(err));
        if (rc != bad_bin[i].rc || !strstr(err, bad_bin[i].msg)) {
            fail_msg("binary case %zu: rc %d (want %d), err '%s' (want '%s')", i, rc,
                     bad_bin[i].rc, err, bad_bin[i].msg);
        }
        assert_null(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_set),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_accepts_unknown_top_level_key),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_truncated_and_corrupted),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_parts_refuse),
        cmocka_unit_test(test_binary_truncated_and_corrupted),
        cmocka_unit_test(test_binary_rejects),
    };
    rng_state = 0x9e3779b97f4a7c15ull;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
