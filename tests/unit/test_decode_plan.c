/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Compiled decode plans against the reference decoders (the differential check of check.c):
 * every record of every input decoded both by the plan and by libfixbuf's transcoding (IPFIX)
 * or the field-by-field interpreter (v9) must give the same fm__raw_t.  Inputs: the encoder's
 * datagrams in every time encoding, biflow and sampled; the softflowd captures; and seeded
 * random templates (mapped, reduced-size, repeated, reverse, enterprise and variable-length
 * elements, options templates) with random record bytes.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "decode/decode_int.h"
#include "decode_util.h"
#include "util/err.h"

#define T0 UINT64_C(1700000000000)
#define NOW (T0 + 600000)

static fm_decoder_t *dec;

static int setup(void **state)
{
    (void)state;
    t_reset();
    if (fm_decoder_new(NULL, 7, &dec) < 0) {
        return -1;
    }
    return fm__decode_check_enable(dec, false);
}

static int teardown(void **state)
{
    (void)state;
    fm_decoder_free(dec);
    dec = NULL;
    return 0;
}

static void encoded(int version, fm_encode_time_t tm, bool biflow, uint32_t sampling)
{
    fm_encode_conf_t c;
    fm_encode_conf_default(&c, version);
    c.time = tm;
    c.biflow = biflow;
    c.sampling = sampling;
    c.template_every = 3;
    fm_encoder_t *e;
    assert_int_equal(fm_encoder_new(&c, &e), 0);
    fm_flow_t flows[300];
    for (unsigned i = 0; i < 300; i++) {
        flows[i] = t_flow(i, i % 4 == 1, T0);
        if (biflow && i % 2) {
            flows[i].rev_packets = i;
            flows[i].rev_octets = i * 77;
            flows[i].flags |= FM_FLOW_BIFLOW;
        }
    }
    uint8_t buf[2048];
    size_t off = 0, len;
    while (off < 300) {
        int used = fm_encoder_datagram(e, flows + off, 300 - off, NOW, buf, sizeof(buf), &len);
        assert_true(used > 0);
        assert_int_equal(fm_decoder_process(dec, buf, len, NOW, t_sink, NULL), 0);
        off += (size_t)used;
    }
    fm_encoder_free(e);
}

static void test_encoder(void **state)
{
    (void)state;
    static const fm_encode_time_t times[] = {FM_ENCODE_TIME_MS, FM_ENCODE_TIME_S,
                                             FM_ENCODE_TIME_US, FM_ENCODE_TIME_NS,
                                             FM_ENCODE_TIME_UPTIME, FM_ENCODE_TIME_DURATION};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        encoded(10, times[i], i % 2, i == 4 ? 16 : 1);
    }
    encoded(9, FM_ENCODE_TIME_MS, false, 1);
    encoded(9, FM_ENCODE_TIME_MS, false, 8);
    assert_true(dec->check->records >= 8 * 300);
    assert_int_equal(dec->check->mismatches, 0);
    assert_int_equal(fm_decoder_stats(dec)->malformed, 0);
}

static void test_softflowd(void **state)
{
    (void)state;
    static const char *files[] = {
        "softflowd-dns_tcp-v10-samp.bin", "softflowd-dns_tcp-v9-samp.bin",
        "softflowd-http_get-v10-bi.bin",  "softflowd-http_get-v10-ns.bin",
        "softflowd-http_get-v10-us.bin",  "softflowd-http_get-v10.bin",
        "softflowd-http_get-v9.bin",      "softflowd-ipv6-smtp-v10.bin",
        "softflowd-ipv6-smtp-v9.bin"};
    const char *dir = getenv("top_srcdir");
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/tests/data/decode/%s", dir ? dir : "..", files[i]);
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            skip();
        }
        uint8_t buf[4096];
        size_t len = fread(buf, 1, sizeof(buf), fp);
        fclose(fp);
        assert_int_equal(fm_decoder_process(dec, buf, len, NOW, t_sink, NULL), 0);
    }
    assert_true(dec->check->records >= 12);
    assert_int_equal(dec->check->mismatches, 0);
}

static uint64_t rnd_state;
static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (uint32_t)rnd_state;
}

/* Elements with their natural lengths: all the mapped ones and a few others. */
static const struct {
    uint16_t id, len;
} pool[] = {
    {1, 8},   {2, 8},   {4, 1},   {6, 2},   {7, 2},   {8, 4},   {10, 4},  {11, 2},
    {12, 4},  {14, 4},  {21, 4},  {22, 4},  {27, 16}, {28, 16}, {34, 4},  {50, 4},
    {60, 1},  {85, 8},  {86, 8},  {150, 4}, {151, 4}, {152, 8}, {153, 8}, {154, 8},
    {155, 8}, {156, 8}, {157, 8}, {158, 4}, {159, 4}, {160, 8}, {161, 4}, {162, 4},
    {305, 4}, {306, 4}, {309, 4}, {310, 4}, {311, 8}, {5, 1},   {9, 1},   {13, 1},
    {82, 65535}, {94, 65535},
};
#define NPOOL (sizeof(pool) / sizeof(pool[0]))

/* Reduced-size encoding (RFC 7011 §6.2) for unsigned counters and identifiers. */
static uint16_t pick_len(uint16_t id, uint16_t natural)
{
    uint32_t r = rnd() % 8;
    if ((id == 1 || id == 2 || id == 85 || id == 86) && r < 3) {
        return (uint16_t)(1u << r); /* 1, 2 or 4 bytes */
    }
    if ((id == 10 || id == 14 || id == 34) && r < 2) {
        return (uint16_t)(1 + r); /* 1 or 2 bytes */
    }
    if (id == 311 && r < 2) {
        return 4; /* float32 */
    }
    if (r == 7 && rnd() % 3 == 0) {
        return 65535; /* variable length where a fixed one is meant */
    }
    return natural;
}

/* One random IPFIX message: a template (data or options), then 1-4 data records of it. */
static size_t random_ipfix(uint8_t *m, uint32_t seq)
{
    t_buf_t b;
    tb_ipfix(&b, (uint32_t)(NOW / 1000), seq, rnd() % 3);
    bool options = rnd() % 5 == 0;
    uint16_t tid = (uint16_t)(256 + rnd() % 3);
    size_t at = tb_set(&b, options ? 3 : 2);
    unsigned n = 1 + rnd() % 14;
    uint16_t lens[16];
    tb16(&b, tid);
    tb16(&b, n);
    if (options) {
        tb16(&b, 1 + rnd() % n);
    }
    for (unsigned i = 0; i < n; i++) {
        unsigned k = rnd() % NPOOL;
        uint16_t id = pool[k].id, len = pool[k].len;
        if (len != 65535) {
            len = pick_len(id, len);
        }
        uint32_t kind = rnd() % 10;
        if (kind == 0 && id < 200) {
            tb16(&b, 0x8000u | id); /* RFC 5103 reverse element */
            tb16(&b, len);
            tb32(&b, FM__PEN_REVERSE);
        } else if (kind == 1) {
            tb16(&b, 0x8000u | (uint16_t)(1 + rnd() % 4)); /* some other enterprise */
            tb16(&b, len);
            tb32(&b, 6871);
        } else {
            tb16(&b, id);
            tb16(&b, len);
        }
        lens[i] = len;
    }
    tb_set_end(&b, at);
    at = tb_set(&b, tid);
    unsigned nrec = 1 + rnd() % 4;
    for (unsigned r = 0; r < nrec; r++) {
        for (unsigned i = 0; i < n; i++) {
            size_t len = lens[i];
            if (len == 65535) {
                len = rnd() % 6;
                b.b[b.w++] = (uint8_t)len;
            }
            for (size_t j = 0; j < len; j++) {
                b.b[b.w++] = (uint8_t)rnd();
            }
        }
    }
    tb_set_end(&b, at);
    tb_ipfix_end(&b);
    memcpy(m, b.b, b.w);
    return b.w;
}

static void test_random_ipfix(void **state)
{
    (void)state;
    rnd_state = 0x9e3779b97f4a7c15ull;
    uint8_t m[4096];
    for (uint32_t i = 0; i < 3000; i++) {
        size_t len = random_ipfix(m, i);
        fm_decoder_process(dec, m, len, NOW, t_sink, NULL);
        t_reset();
    }
    print_message("compared %llu records, %llu malformed datagrams\n",
                  (unsigned long long)dec->check->records,
                  (unsigned long long)fm_decoder_stats(dec)->malformed);
    assert_true(dec->check->records >= 3000);
    assert_int_equal(dec->check->mismatches, 0);
}

/* Random v9: a template of v9 field types with arbitrary lengths, then records. */
static void test_random_v9(void **state)
{
    (void)state;
    rnd_state = 0x1234567887654321ull;
    for (uint32_t i = 0; i < 2000; i++) {
        t_buf_t b;
        b.w = 0;
        tb16(&b, 9);
        tb16(&b, 2);
        tb32(&b, 1000);
        tb32(&b, (uint32_t)(NOW / 1000));
        tb32(&b, i);
        tb32(&b, 0);
        size_t at = tb_set(&b, 0);
        unsigned n = 1 + rnd() % 12, reclen = 0;
        tb16(&b, 300);
        tb16(&b, n);
        for (unsigned k = 0; k < n; k++) {
            uint16_t len = (uint16_t)(rnd() % 3 ? pool[rnd() % (NPOOL - 2)].len : 1 + rnd() % 20);
            tb16(&b, pool[rnd() % (NPOOL - 2)].id);
            tb16(&b, len);
            reclen += len;
        }
        tb_set_end(&b, at);
        at = tb_set(&b, 300);
        for (unsigned r = 0; r < 1 + rnd() % 3 && b.w + reclen < 4000; r++) {
            for (unsigned j = 0; j < reclen; j++) {
                b.b[b.w++] = (uint8_t)rnd();
            }
        }
        tb_set_end(&b, at);
        fm_decoder_process(dec, b.b, b.w, NOW, t_sink, NULL);
        t_reset();
    }
    assert_true(dec->check->records >= 2000);
    assert_int_equal(dec->check->mismatches, 0);
}

/* An element we read longer than its type holds: octetDeltaCount, an unsigned64, in 1002
 * bytes.  RFC 7011 §6.2 allows an encoding shorter than the type, never a longer one; the
 * template is refused (as libfixbuf 3 does) and its data sets count as unknown.  The input is
 * the first one fuzz_decode_diff failed on (2026-12-01), reduced: an options template and
 * record, the template, then a set shorter than its records and a 2-byte set of the options
 * template.  The plans and libfixbuf must agree on it. */
static void test_overlong_element(void **state)
{
    (void)state;
    static const uint16_t fields[][2] = {
        {8, 4}, {12, 4}, {22, 4}, {21, 4}, {1, 1002}, {2, 4}, {10, 4}, {14, 4},
        {61, 1}, {136, 1}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {60, 1}, {5, 1},
    };
    static const uint16_t opt[][2] = {{143, 4}, {160, 8}}; /* meteringProcessId, init time */
    t_buf_t b;
    tb_ipfix(&b, (uint32_t)(NOW / 1000), 1, 0);
    tb_ipfix_template(&b, 256, opt, 2, 1);
    size_t at = tb_set(&b, 256);
    tb32(&b, 7);
    tb64(&b, NOW - 3600000);
    tb_set_end(&b, at);
    tb_ipfix_template(&b, 1024, fields, 16, 0);
    tb_ipfix_end(&b);
    fm_decoder_process(dec, b.b, b.w, NOW, t_sink, NULL);
    assert_int_equal(fm_decoder_stats(dec)->options_records, 1);
    assert_int_equal(fm_decoder_stats(dec)->templates, 1); /* 256 only */

    tb_ipfix(&b, (uint32_t)(NOW / 1000), 2, 0);
    at = tb_set(&b, 1024);
    for (unsigned i = 0; i < 508; i++) {
        b.b[b.w++] = (uint8_t)(i * 37);
    }
    tb_set_end(&b, at);
    at = tb_set(&b, 256);
    tb16(&b, 1); /* shorter than a record: padding */
    tb_set_end(&b, at);
    tb_ipfix_end(&b);
    fm_decoder_process(dec, b.b, b.w, NOW, t_sink, NULL);
    assert_int_equal(t_nrec, 0);
    assert_int_equal(fm_decoder_stats(dec)->unknown_template, 1);

    /* An element we skip in more bytes than its type (flowDirection, an unsigned8, in 4): the
     * template stands and both decoders read the same two records. */
    static const uint16_t skip_long[][2] = {{8, 4}, {12, 4}, {1, 8}, {61, 4}, {4, 1}};
    tb_ipfix(&b, (uint32_t)(NOW / 1000), 2, 0);
    tb_ipfix_template(&b, 1025, skip_long, 5, 0);
    at = tb_set(&b, 1025);
    for (uint32_t r = 0; r < 2; r++) {
        tb32(&b, 0x0a000001u + r);
        tb32(&b, 0x0a000002u);
        tb64(&b, 1000 + r);
        tb32(&b, 0x01020304u);
        b.b[b.w++] = 17;
    }
    tb_set_end(&b, at);
    tb_ipfix_end(&b);
    fm_decoder_process(dec, b.b, b.w, NOW, t_sink, NULL);
    assert_int_equal(t_nrec, 2);
    assert_int_equal(t_recs[1].octets, 1001);
    assert_int_equal(dec->check->mismatches, 0);
    assert_true(dec->check->records >= 2);
}

static void tb_bytes(t_buf_t *b, uint16_t sid, size_t len, uint8_t seed)
{
    size_t at = tb_set(b, sid);
    for (size_t i = 0; i < len; i++) {
        b->b[b->w++] = (uint8_t)(seed + i * 37);
    }
    tb_set_end(b, at);
}

/* Data sets too short for one record of their template are padding (RFC 7011 §3.3.1).  After
 * one such set, a redefinition of an options template and another, libfixbuf 2.4 took the
 * second for a record of the old definition, failed on it with "End of message" and read
 * nothing more of the message (found by fuzz_decode_diff, 2026-12-01).  The reference is
 * therefore not given sets that hold no record; both decoders must read the two flows. */
static void test_padding_sets(void **state)
{
    (void)state;
    static const uint16_t v4[][2] = {{8, 4}, {12, 4}, {152, 8}, {153, 8}, {1, 4}, {2, 4}, {4, 1}};
    static const uint16_t v6[][2] = {{27, 16}, {28, 16}, {152, 8}, {153, 8}, {1, 4}, {2, 4},
                                     {10, 4}, {14, 4}, {4, 1}, {5, 1}, {61, 1}, {136, 1},
                                     {60, 1}}; /* 69 bytes */
    static const uint16_t opt1[][2] = {{143, 4}, {160, 8}, {305, 4}, {306, 4}, {304, 2},
                                       {82, 16}};
    static const uint16_t opt2[][2] = {{143, 4}, {160, 8}, {305, 4}, {210, 516}, {82, 16}};
    t_buf_t b;
    tb_ipfix(&b, (uint32_t)(NOW / 1000), 1, 0);
    tb_ipfix_template(&b, 1024, v4, 7, 0);
    tb_ipfix_template(&b, 2049, v6, 13, 0);
    tb_ipfix_template(&b, 256, opt1, 6, 1);
    tb_ipfix_end(&b);
    fm_decoder_process(dec, b.b, b.w, NOW, t_sink, NULL);
    assert_int_equal(fm_decoder_stats(dec)->templates, 3);

    tb_ipfix(&b, (uint32_t)(NOW / 1000), 1, 0);
    tb_bytes(&b, 2049, 68, 1);     /* padding: shorter than a record */
    tb_ipfix_template(&b, 256, opt2, 5, 1);
    tb_bytes(&b, 256, 38, 2);      /* padding: a record is 548 bytes now */
    size_t at = tb_set(&b, 1024);
    for (uint32_t r = 0; r < 2; r++) {
        tb32(&b, 0x0a000001u + r);
        tb32(&b, 0x0a000002u);
        tb64(&b, NOW - 5000);
        tb64(&b, NOW - 1000);
        tb32(&b, 1000 + r);
        tb32(&b, 3);
        b.b[b.w++] = 6;
    }
    tb_set_end(&b, at);
    tb_ipfix_end(&b);
    fm_decoder_process(dec, b.b, b.w, NOW, t_sink, NULL);
    assert_int_equal(dec->check->mismatches, 0);
    assert_int_equal(t_nrec, 2);
    assert_int_equal(t_recs[1].octets, 1001);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_encoder), T(test_softflowd), T(test_random_ipfix), T(test_random_v9),
        T(test_overlong_element), T(test_padding_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
