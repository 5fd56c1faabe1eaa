/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Decoder unit tests on hostile input: a table of handcrafted malformed v5 / v9 / IPFIX
 * datagrams (each must be rejected with a negative code and counted, never crash), delivery of
 * the records before a malformed set, and a seeded mutation fuzz loop over valid datagrams and
 * the softflowd seeds (run it under ASan/UBSan; the seed is printed).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "decode_util.h"
#include "util/err.h"

#define NOW UINT64_C(1700000600000)

/* Valid datagrams from the encoder, mutated by the cases. */
static size_t valid(int version, t_buf_t *b, bool v6)
{
    fm_encode_conf_t c;
    fm_encode_conf_default(&c, version);
    c.sampling = version == 9 ? 10 : 0;
    fm_encoder_t *e;
    fm_encoder_new(&c, &e);
    fm_flow_t f[3] = {t_flow(1, v6, NOW - 9000), t_flow(2, v6, NOW - 9000),
                      t_flow(3, v6, NOW - 9000)};
    fm_encoder_datagram(e, f, 3, NOW, b->b, sizeof(b->b), &b->w);
    fm_encoder_free(e);
    return b->w;
}

/* IPFIX message: one template set (tid 256: src4, dst4, packets) and nothing else. */
static void ipfix_hdr_tmpl(t_buf_t *b)
{
    tb_ipfix(b, 1700000000, 0, 1);
    size_t s = tb_set(b, 2);
    tb16(b, 256);
    tb16(b, 3);
    tb16(b, 8); tb16(b, 4);
    tb16(b, 12); tb16(b, 4);
    tb16(b, 2); tb16(b, 4);
    tb_set_end(b, s);
}

/* Template record claiming n fields, of which the nf in f are written. */
static void ipfix_tmpl_fields(t_buf_t *b, uint16_t tid, uint16_t n, const uint16_t *f,
                              uint16_t nf)
{
    tb_ipfix(b, 1700000000, 0, 1);
    size_t s = tb_set(b, 2);
    tb16(b, tid);
    tb16(b, n);
    for (uint16_t i = 0; i < nf; i++) {
        tb16(b, f[2 * i]);
        tb16(b, f[2 * i + 1]);
    }
    tb_set_end(b, s);
    tb_ipfix_end(b);
}

/* Template 256 with a variable-length field, then a data set whose length byte overruns. */
static void ipfix_varlen(t_buf_t *b, bool three_byte)
{
    tb_ipfix(b, 1700000000, 0, 1);
    size_t s = tb_set(b, 2);
    tb16(b, 256);
    tb16(b, 2);
    tb16(b, 8); tb16(b, 4);
    tb16(b, 82); tb16(b, 65535);
    tb_set_end(b, s);
    s = tb_set(b, 256);
    tb32(b, 1);
    if (three_byte) {
        b->b[b->w++] = 255;
        tb16(b, 2000);
    } else {
        b->b[b->w++] = 200;
    }
    tb32(b, 0x41414141);
    tb_set_end(b, s);
    tb_ipfix_end(b);
}

typedef struct {
    const char *name;
    void (*build)(t_buf_t *b);
} mcase_t;

#define CASE(n, ...) static void n(t_buf_t *b) { __VA_ARGS__; }

/* v5 */
CASE(v5_one_byte, b->w = 1; b->b[0] = 0)
CASE(v5_short_header, valid(5, b, false); b->w = 23)
CASE(v5_count_zero, valid(5, b, false); tb_patch16(b, 2, 0))
CASE(v5_count_past_end, valid(5, b, false); tb_patch16(b, 2, 4))
CASE(v5_count_huge, valid(5, b, false); tb_patch16(b, 2, 65535))
CASE(v5_truncated_record, valid(5, b, false); b->w -= 1)
/* v9: header 20 bytes, first flowset (templates) at 20 */
CASE(v9_short_header, valid(9, b, false); b->w = 19)
CASE(v9_set_len_zero, valid(9, b, false); tb_patch16(b, 22, 0))
CASE(v9_set_len_three, valid(9, b, false); tb_patch16(b, 22, 3))
CASE(v9_set_past_end, valid(9, b, false); tb_patch16(b, 22, 4000))
CASE(v9_trailing_bytes, valid(9, b, false); b->b[b->w++] = 1; b->b[b->w++] = 2)
CASE(v9_template_id_low, valid(9, b, false); tb_patch16(b, 24, 100))
CASE(v9_template_zero_fields, valid(9, b, false); tb_patch16(b, 26, 0))
CASE(v9_template_huge_count, valid(9, b, false); tb_patch16(b, 26, 60000))
CASE(v9_template_count_past_set, valid(9, b, false); tb_patch16(b, 26, 300))
CASE(v9_template_zero_lengths, b->w = 0; tb16(b, 9); tb16(b, 1); tb32(b, 0); tb32(b, 0);
     tb32(b, 0); tb32(b, 0); size_t s = tb_set(b, 0); tb16(b, 300); tb16(b, 2); tb16(b, 8);
     tb16(b, 0); tb16(b, 12); tb16(b, 0); tb_set_end(b, s))
CASE(v9_options_scope_odd, b->w = 0; tb16(b, 9); tb16(b, 1); tb32(b, 0); tb32(b, 0);
     tb32(b, 0); tb32(b, 0); size_t s = tb_set(b, 1); tb16(b, 300); tb16(b, 3); tb16(b, 4);
     tb16(b, 34); tb16(b, 4); tb16(b, 0); tb_set_end(b, s))
CASE(v9_options_past_end, b->w = 0; tb16(b, 9); tb16(b, 1); tb32(b, 0); tb32(b, 0);
     tb32(b, 0); tb32(b, 0); size_t s = tb_set(b, 1); tb16(b, 300); tb16(b, 4); tb16(b, 400);
     tb16(b, 1); tb16(b, 4); tb_set_end(b, s))
CASE(v9_options_zero, b->w = 0; tb16(b, 9); tb16(b, 1); tb32(b, 0); tb32(b, 0);
     tb32(b, 0); tb32(b, 0); size_t s = tb_set(b, 1); tb16(b, 300); tb16(b, 0); tb16(b, 0);
     tb16(b, 0); tb_set_end(b, s))
/* IPFIX */
CASE(ipfix_short_header, ipfix_hdr_tmpl(b); b->w = 15)
CASE(ipfix_msg_len_small, ipfix_hdr_tmpl(b); tb_ipfix_end(b); tb_patch16(b, 2, 12))
CASE(ipfix_msg_len_past_end, ipfix_hdr_tmpl(b); tb_ipfix_end(b); tb_patch16(b, 2, 900))
CASE(ipfix_set_len_zero, ipfix_hdr_tmpl(b); tb_ipfix_end(b); tb_patch16(b, 18, 0))
CASE(ipfix_set_len_three, ipfix_hdr_tmpl(b); tb_ipfix_end(b); tb_patch16(b, 18, 3))
CASE(ipfix_set_past_end, ipfix_hdr_tmpl(b); tb_ipfix_end(b); tb_patch16(b, 18, 200))
CASE(ipfix_set_id_one, ipfix_hdr_tmpl(b); tb_patch16(b, 16, 1); tb_ipfix_end(b))
CASE(ipfix_set_id_reserved, ipfix_hdr_tmpl(b); tb_patch16(b, 16, 100); tb_ipfix_end(b))
CASE(ipfix_data_set_low_tid, ipfix_hdr_tmpl(b); size_t s = tb_set(b, 255); tb32(b, 1);
     tb32(b, 2); tb32(b, 3); tb_set_end(b, s); tb_ipfix_end(b))
CASE(ipfix_template_id_low, static const uint16_t f[] = {8, 4};
     ipfix_tmpl_fields(b, 100, 1, f, 1))
CASE(ipfix_withdraw_low_tid, ipfix_tmpl_fields(b, 5, 0, NULL, 0))
CASE(ipfix_template_huge_count, static const uint16_t f[] = {8, 4};
     ipfix_tmpl_fields(b, 300, 40000, f, 1))
CASE(ipfix_template_count_past_set, static const uint16_t f[] = {8, 4, 12, 4};
     ipfix_tmpl_fields(b, 300, 3, f, 2))
CASE(ipfix_template_zero_lengths, static const uint16_t f[] = {8, 0, 12, 0};
     ipfix_tmpl_fields(b, 300, 2, f, 2))
CASE(ipfix_enterprise_truncated, static const uint16_t f[] = {8, 4, 0x8001, 4};
     ipfix_tmpl_fields(b, 300, 2, f, 2))
CASE(ipfix_options_scope_zero, tb_ipfix(b, 1, 0, 1); size_t s = tb_set(b, 3); tb16(b, 300);
     tb16(b, 1); tb16(b, 0); tb16(b, 34); tb16(b, 4); tb_set_end(b, s); tb_ipfix_end(b))
CASE(ipfix_options_scope_too_big, tb_ipfix(b, 1, 0, 1); size_t s = tb_set(b, 3); tb16(b, 300);
     tb16(b, 1); tb16(b, 2); tb16(b, 34); tb16(b, 4); tb_set_end(b, s); tb_ipfix_end(b))
CASE(ipfix_options_truncated, tb_ipfix(b, 1, 0, 1); size_t s = tb_set(b, 3); tb16(b, 300);
     tb16(b, 1); tb_set_end(b, s); tb_ipfix_end(b))
CASE(ipfix_varlen_overrun, ipfix_varlen(b, false))
CASE(ipfix_varlen3_overrun, ipfix_varlen(b, true))
CASE(ipfix_trailing_bytes, ipfix_hdr_tmpl(b); tb16(b, 0); b->b[b->w++] = 0; tb_ipfix_end(b))
CASE(ipfix_all_zero, memset(b->b, 0, 64); b->b[1] = 10; b->b[3] = 64; b->w = 64)
CASE(bad_version_7, valid(9, b, false); tb_patch16(b, 0, 7))
CASE(bad_version_0, memset(b->b, 0, 40); b->w = 40)
CASE(empty_datagram, b->w = 0)

#define C(n) {#n, n}
static const mcase_t cases[] = {
    C(v5_one_byte), C(v5_short_header), C(v5_count_zero), C(v5_count_past_end),
    C(v5_count_huge), C(v5_truncated_record), C(v9_short_header), C(v9_set_len_zero),
    C(v9_set_len_three), C(v9_set_past_end), C(v9_trailing_bytes), C(v9_template_id_low),
    C(v9_template_zero_fields), C(v9_template_huge_count), C(v9_template_count_past_set),
    C(v9_template_zero_lengths), C(v9_options_scope_odd), C(v9_options_past_end),
    C(v9_options_zero), C(ipfix_short_header), C(ipfix_msg_len_small),
    C(ipfix_msg_len_past_end), C(ipfix_set_len_zero), C(ipfix_set_len_three),
    C(ipfix_set_past_end), C(ipfix_set_id_one), C(ipfix_set_id_reserved),
    C(ipfix_data_set_low_tid), C(ipfix_template_id_low), C(ipfix_withdraw_low_tid),
    C(ipfix_template_huge_count), C(ipfix_template_count_past_set),
    C(ipfix_template_zero_lengths), C(ipfix_enterprise_truncated),
    C(ipfix_options_scope_zero), C(ipfix_options_scope_too_big), C(ipfix_options_truncated),
    C(ipfix_varlen_overrun), C(ipfix_varlen3_overrun), C(ipfix_trailing_bytes),
    C(ipfix_all_zero), C(bad_version_7), C(bad_version_0), C(empty_datagram),
};

static void test_malformed_table(void **state)
{
    (void)state;
    size_t n = sizeof(cases) / sizeof(cases[0]);
    assert_true(n >= 30);
    for (size_t i = 0; i < n; i++) {
        fm_decoder_t *d;
        assert_int_equal(fm_decoder_new(NULL, 1, &d), 0);
        t_buf_t b;
        memset(&b, 0, sizeof(b));
        cases[i].build(&b);
        /* An exact-size heap copy, so ASan sees any read past the datagram. */
        uint8_t *copy = malloc(b.w ? b.w : 1);
        memcpy(copy, b.b, b.w);
        int rc = fm_decoder_process(d, copy, b.w, NOW, t_sink, NULL);
        const fm_decode_stats_t *s = fm_decoder_stats(d);
        if (rc >= 0 || s->malformed + s->bad_version != 1) {
            print_error("case %s: rc %d malformed %llu\n", cases[i].name, rc,
                        (unsigned long long)s->malformed);
            fail();
        }
        free(copy);
        fm_decoder_free(d);
    }
}

/* Records in sets before a malformed one are delivered; the rest is not. */
static void test_partial_delivery(void **state)
{
    (void)state;
    fm_decoder_t *d;
    fm_decoder_new(NULL, 1, &d);
    t_buf_t b;
    ipfix_hdr_tmpl(&b);
    size_t s = tb_set(&b, 256);
    for (uint32_t i = 0; i < 4; i++) {
        tb32(&b, i);
        tb32(&b, 100 + i);
        tb32(&b, 7);
    }
    tb_set_end(&b, s);
    s = tb_set(&b, 256);
    tb_set_end(&b, s);
    tb_patch16(&b, s + 2, 2); /* bad set length */
    tb32(&b, 0);
    tb_ipfix_end(&b);
    t_reset();
    assert_int_equal(fm_decoder_process(d, b.b, b.w, NOW, t_sink, NULL), FM_EFORMAT);
    assert_int_equal(t_nrec, 4);
    assert_int_equal(fm_decoder_stats(d)->malformed, 1);
    assert_int_equal(fm_decoder_stats(d)->records, 4);
    /* v9: same idea, a valid datagram followed by a flowset that runs past the end. */
    valid(9, &b, false);
    tb16(&b, 256);
    tb16(&b, 100);
    t_reset();
    assert_int_equal(fm_decoder_process(d, b.b, b.w, NOW, t_sink, NULL), FM_ETRUNC);
    assert_int_equal(t_nrec, 3);
    fm_decoder_free(d);
}

/* Regression (found by test_fuzz): an IPFIX template with a variable-length field must not be
 * used for a v9 flowset of the same id and domain number. */
static void test_version_isolation(void **state)
{
    (void)state;
    fm_decoder_t *d;
    fm_decoder_new(NULL, 1, &d);
    t_buf_t b;
    ipfix_varlen(&b, false);
    tb_patch16(&b, 12 + 2, 0); /* domain 0, like the v9 source id below */
    b.w -= 13;                 /* keep only the template set */
    tb_ipfix_end(&b);
    assert_int_equal(fm_decoder_process(d, b.b, b.w, NOW, t_sink, NULL), 0);
    b.w = 0;
    tb16(&b, 9); tb16(&b, 1); tb32(&b, 0); tb32(&b, 0); tb32(&b, 0); tb32(&b, 0);
    size_t s = tb_set(&b, 256);
    tb32(&b, 1); tb32(&b, 2);
    tb_set_end(&b, s);
    t_reset();
    assert_int_equal(fm_decoder_process(d, b.b, b.w, NOW, t_sink, NULL), 0);
    assert_int_equal(t_nrec, 0);
    assert_int_equal(fm_decoder_stats(d)->unknown_template, 1);
    fm_decoder_free(d);
}

static int read_seed(const char *name, t_buf_t *b)
{
    const char *dir = getenv("top_srcdir");
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/data/decode/%s", dir ? dir : "..", name);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return -1;
    }
    b->w = fread(b->b, 1, sizeof(b->b), fp);
    fclose(fp);
    return 0;
}

/* Mutation fuzzing: flip bytes, patch 16-bit fields with edge values, truncate.  Every
 * result is acceptable except a crash, a hang or a sanitizer report. */
static void test_fuzz(void **state)
{
    (void)state;
    unsigned seed = (unsigned)time(NULL);
    const char *env = getenv("FM_TEST_SEED");
    if (env) {
        seed = (unsigned)strtoul(env, NULL, 10);
    }
    print_message("fuzz seed %u (FM_TEST_SEED=%u to repeat)\n", seed, seed);
    srand(seed);
    t_buf_t base[8];
    size_t nbase = 0;
    valid(5, &base[nbase++], false);
    valid(9, &base[nbase++], true);
    valid(10, &base[nbase++], false);
    valid(10, &base[nbase++], true);
    const char *seeds[] = {"softflowd-http_get-v10-bi.bin", "softflowd-dns_tcp-v9-samp.bin",
                           "softflowd-ipv6-smtp-v10.bin", "softflowd-http_get-v10-us.bin"};
    for (size_t i = 0; i < 4; i++) {
        nbase += read_seed(seeds[i], &base[nbase]) == 0;
    }
    fm_decode_conf_t conf;
    fm_decode_conf_default(&conf);
    conf.max_templates = 64;
    fm_decoder_t *d;
    fm_decoder_new(&conf, 1, &d);
    static const uint16_t edges[] = {0, 1, 2, 3, 4, 255, 256, 0x7fff, 0x8000, 0xfffe, 0xffff};
    for (int it = 0; it < 30000; it++) {
        t_buf_t b = base[(size_t)rand() % nbase];
        int muts = 1 + rand() % 4;
        for (int m = 0; m < muts && b.w > 2; m++) {
            size_t at = (size_t)rand() % (b.w - 1);
            switch (rand() % 3) {
            case 0: b.b[at] ^= (uint8_t)(1u << (rand() % 8)); break;
            case 1: tb_patch16(&b, at, edges[(size_t)rand() % 11]); break;
            default: b.w = at + 2; break;
            }
        }
        if (rand() % 4 == 0 && b.w >= 4) {
            b.b[0] = 0;
            b.b[1] = 10; /* keep IPFIX version so mutations reach the deeper code */
        }
        uint8_t *copy = malloc(b.w);
        memcpy(copy, b.b, b.w);
        t_reset();
        fm_decoder_process(d, copy, b.w, NOW + (uint64_t)it * 100, t_sink, NULL);
        free(copy);
        if (it % 5000 == 4999) { /* occasionally start afresh */
            fm_decoder_free(d);
            fm_decoder_new(&conf, 1, &d);
        }
    }
    assert_true(fm_decoder_stats(d)->templates <= 64);
    fm_decoder_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_table),
        cmocka_unit_test(test_partial_delivery),
        cmocka_unit_test(test_version_isolation),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
