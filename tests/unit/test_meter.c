/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the meter's nfstream semantics on hand-built frames (NFSTREAM.md): the expiry
 * order (per-packet idle expiry before the scan, the creation-order scan stopping at the first
 * flow that is not idle, ids in emission order), no FIN/RST termination, the time clamp,
 * decoder rules (non-first IPv4 fragments dropped, first ones kept; TCP shorter than 20 bytes
 * keeps protocol 6 with ports 0; ICMP ports 0; innermost VLAN id in the key; DLT_NULL read
 * big-endian), accounting mode wraps at 16 bits, and Python's float formatting.
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

#include "meter/meter.h"
#include "meter/output.h"

#define DLT_EN10MB 1
#define DLT_NULL 0
#define T0 1700000000000ULL

typedef struct {
    fm_meter_flow_t f[64];
    size_t n;
} sink_t;

static void collect(void *ctx, const fm_meter_flow_t *f)
{
    sink_t *s = ctx;
    assert_true(s->n < 64);
    s->f[s->n++] = *f;
}

/* Ethernet (optionally VLAN-tagged twice) + IPv4 + TCP/UDP/ICMP header; returns the length. */
static size_t frame(uint8_t *b, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sp,
                    uint16_t dp, uint16_t frag, uint16_t l4len, int vlans)
{
    size_t o = 12;
    memset(b, 0, 128);
    for (int v = 0; v < vlans; v++) {
        b[o] = 0x81, b[o + 1] = 0x00, b[o + 2] = 0, b[o + 3] = (uint8_t)(10 + v);
        o += 4;
    }
    b[o] = 0x08, b[o + 1] = 0x00;
    uint8_t *ip = b + o + 2;
    uint16_t tot = (uint16_t)(20 + l4len);
    ip[0] = 0x45, ip[2] = (uint8_t)(tot >> 8), ip[3] = (uint8_t)tot;
    ip[6] = (uint8_t)(frag >> 8), ip[7] = (uint8_t)frag, ip[8] = 64, ip[9] = proto;
    for (int i = 0; i < 4; i++) {
        ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    uint8_t *l4 = ip + 20;
    l4[0] = (uint8_t)(sp >> 8), l4[1] = (uint8_t)sp, l4[2] = (uint8_t)(dp >> 8), l4[3] = (uint8_t)dp;
    if (proto == 6) {
        l4[12] = 0x50;
        l4[13] = 0x01; /* FIN */
    }
    size_t n = (size_t)(ip - b) + tot;
    return n < 60 ? 60 : n;
}

static fm_meter_t *meter(sink_t *s, uint64_t idle_s)
{
    fm_meter_opts_t o;
    fm_meter_t *m;
    fm_meter_opts_default(&o);
    o.dissections = 0;
    o.idle_ms = idle_s * 1000;
    assert_int_equal(fm_meter_new(&o, collect, s, &m), 0);
    return m;
}

static void pkt(fm_meter_t *m, uint64_t t, uint8_t proto, uint32_t a, uint32_t b, uint16_t sp,
                uint16_t dp)
{
    uint8_t f[128];
    size_t n = frame(f, proto, a, b, sp, dp, 0, 20, 0);
    fm_meter_packet(m, DLT_EN10MB, t, f, (uint32_t)n, (uint32_t)n);
}

/* A (created first, still active) shields B (idle) from the scan; B goes when its own next
 * packet arrives (idle expiry on arrival, emitted before anything else), then A at the flush. */
static void test_scan_stops_at_first_active(void **state)
{
    (void)state;
    sink_t s = {.n = 0};
    fm_meter_t *m = meter(&s, 10);
    pkt(m, T0, 6, 1, 2, 1000, 80);            /* A */
    pkt(m, T0 + 1, 6, 3, 4, 1000, 80);        /* B */
    for (uint64_t t = 1; t <= 15; t++) {
        pkt(m, T0 + t * 1000, 6, 2, 1, 80, 1000); /* A keeps going, reverse direction */
    }
    fm_meter_sync(m);
    assert_int_equal(s.n, 0);                 /* B idle for 15 s but behind A */
    pkt(m, T0 + 16000, 6, 3, 4, 1000, 80);    /* B again: idle expiry on arrival */
    fm_meter_sync(m);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.f[0].id, 0);
    assert_int_equal(s.f[0].packets[FM_METER_BI], 1);
    assert_int_equal(s.f[0].expiration_id, 0);
    fm_meter_flush(m);
    assert_int_equal(s.n, 3);
    /* flush in creation order: A (16 packets, 15 reverse), then the new B */
    assert_int_equal(s.f[1].id, 1);
    assert_int_equal(s.f[1].packets[FM_METER_BI], 16);
    assert_int_equal(s.f[1].packets[FM_METER_D2S], 15);
    assert_int_equal(s.f[2].packets[FM_METER_BI], 1);
    fm_meter_free(m);
}

/* The scan runs on packet time: an idle head is emitted by a later packet of another flow. */
static void test_scan_expires_idle_head(void **state)
{
    (void)state;
    sink_t s = {.n = 0};
    fm_meter_t *m = meter(&s, 10);
    pkt(m, T0, 17, 1, 2, 53, 53);
    pkt(m, T0 + 10000, 17, 5, 6, 53, 53);     /* exactly idle_timeout later: >= expires */
    fm_meter_sync(m);
    assert_int_equal(s.n, 1);
    assert_memory_equal(s.f[0].src_ip, "\0\0\0\1", 4);
    fm_meter_free(m);
}

/* FIN does not end a flow; a packet from the past takes the running clock. */
static void test_no_fin_and_clamp(void **state)
{
    (void)state;
    sink_t s = {.n = 0};
    fm_meter_t *m = meter(&s, 120);
    pkt(m, T0 + 5000, 6, 1, 2, 1000, 80);
    pkt(m, T0, 6, 1, 2, 1000, 80);            /* earlier than the previous: clamped */
    pkt(m, T0 + 6000, 6, 2, 1, 80, 1000);
    fm_meter_flush(m);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.f[0].packets[FM_METER_BI], 3);
    assert_int_equal(s.f[0].first_ms[FM_METER_BI], T0 + 5000);
    assert_int_equal(s.f[0].duration_ms[FM_METER_S2D], 0);
    fm_meter_free(m);
}

static void test_decoder_rules(void **state)
{
    (void)state;
    sink_t s = {.n = 0};
    fm_meter_t *m = meter(&s, 120);
    uint8_t f[128];
    size_t n;

    n = frame(f, 17, 1, 2, 7, 8, 0x2000, 20, 0);         /* MF, offset 0: first fragment */
    fm_meter_packet(m, DLT_EN10MB, T0, f, (uint32_t)n, (uint32_t)n);
    n = frame(f, 17, 1, 2, 7, 8, 0x0010, 20, 0);         /* offset 16: dropped */
    fm_meter_packet(m, DLT_EN10MB, T0, f, (uint32_t)n, (uint32_t)n);
    n = frame(f, 6, 3, 4, 7, 8, 0, 12, 0);               /* 12-byte "TCP": ports 0, proto 6 */
    fm_meter_packet(m, DLT_EN10MB, T0, f, (uint32_t)n, (uint32_t)n);
    n = frame(f, 1, 5, 6, 0x0800, 0x1234, 0, 20, 0);     /* ICMP: ports 0 */
    fm_meter_packet(m, DLT_EN10MB, T0, f, (uint32_t)n, (uint32_t)n);
    n = frame(f, 17, 7, 8, 9, 9, 0, 20, 2);              /* two VLAN tags: innermost id 11 */
    fm_meter_packet(m, DLT_EN10MB, T0, f, (uint32_t)n, (uint32_t)n);
    fm_meter_flush(m);
    const fm_meter_counters_t *c = fm_meter_counters(m);
    assert_int_equal(c->ignored_by[3], 1); /* fragment */
    assert_int_equal(s.n, 4);
    assert_int_equal(s.f[0].src_port, 7);
    assert_int_equal(s.f[1].protocol, 6);
    assert_int_equal(s.f[1].src_port, 0);
    assert_int_equal(s.f[2].protocol, 1);
    assert_int_equal(s.f[2].src_port + s.f[2].dst_port, 0);
    assert_int_equal(s.f[3].vlan_id, 11);
    fm_meter_free(m);
}

/* DLT_NULL with a little-endian AF_INET (2) reads as 0x02000000, "IPv6", so IPv4 behind it is
 * not fragment-checked: a non-first fragment is metered. */
static void test_dlt_null_le(void **state)
{
    (void)state;
    sink_t s = {.n = 0};
    fm_meter_t *m = meter(&s, 120);
    uint8_t f[128], g[132];
    size_t n = frame(f, 17, 1, 2, 7, 8, 0x0010, 20, 0);
    memcpy(g, "\x02\0\0\0", 4);
    memcpy(g + 4, f + 14, n - 14);
    fm_meter_packet(m, DLT_NULL, T0, g, (uint32_t)(n - 10), (uint32_t)(n - 10));
    fm_meter_flush(m);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.f[0].ip_version, 4);
    fm_meter_free(m);
}

/* Accounting mode 0 keeps nfstream's uint16 packet size: 70000 bytes count as 4464. */
static void test_size_wraps(void **state)
{
    (void)state;
    sink_t s = {.n = 0};
    fm_meter_t *m = meter(&s, 120);
    uint8_t f[128];
    size_t n = frame(f, 17, 1, 2, 7, 8, 0, 20, 0);
    fm_meter_packet(m, DLT_EN10MB, T0, f, (uint32_t)n, 70000);
    fm_meter_flush(m);
    assert_int_equal(s.f[0].bytes[FM_METER_BI], 70000 - 65536);
    fm_meter_free(m);
}

static void test_python_floats(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {80.49999999999999, "80.49999999999999"}, {0.0, "0.0"}, {310.57142857142856, "310.57142857142856"},
        {1e-05, "1e-05"}, {0.0001, "0.0001"}, {1e16, "1e+16"}, {12345678.0, "12345678.0"},
        {1234567890123456.0, "1234567890123456.0"}, {0.5, "0.5"}, {-2.25, "-2.25"},
        {1.5e300, "1.5e+300"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fm_meter_fmt_double(buf, sizeof buf, cases[i].v);
        assert_string_equal(buf, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_stops_at_first_active),
        cmocka_unit_test(test_scan_expires_idle_head),
        cmocka_unit_test(test_no_fin_and_clamp),
        cmocka_unit_test(test_decoder_rules),
        cmocka_unit_test(test_dlt_null_le),
        cmocka_unit_test(test_size_wraps),
        cmocka_unit_test(test_python_floats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
