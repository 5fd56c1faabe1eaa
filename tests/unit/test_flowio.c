/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the flow file readers and writers: each text reader on good and malformed lines
 * (error, or skip for ftcsv as ft-profiler does), exact decimal times of ftcsv, the binary reader
 * on other type codes, legacy `_field` names, missing columns and mismatched lengths, writer
 * range checks, directory expansion order and format auto-detection.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "flowio.h"
#include "log.h"
#include "util/err.h"

static char tmpdir[64];

static const char *path_of(const char *name)
{
    static char p[256];
    snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
    return p;
}

static const char *put(const char *name, const char *text)
{
    const char *p = path_of(name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void put_bin(const char *dir, const char *name, const void *data, size_t len)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Read all flows of path; @return count, or the first negative code. */
static long read_all(const char *path, fm_format_t fmt, fm_flow_t *out, size_t max)
{
    fm_reader_t *r;
    long n = 0, k;
    int rc = fm_reader_open(path, fmt, &r);

    if (rc < 0) {
        return rc;
    }
    while ((k = fm_reader_read(r, out + n, max - (size_t)n)) > 0) {
        n += k;
    }
    fm_reader_close(r);
    return k < 0 ? k : n;
}

static void test_csv_flow(void **state)
{
    (void)state;
    fm_flow_t f[4];
    const char *p = put("a.csv", "2, 6, 1, 2, 0, 0, 0, 3232236378, 0, 0, 0, 167772161, 445, 80, "
                                 "1653637473, 475, 1653637474, 5, 7, 900, 3\n"
                                 "10,17,0,0,536939960,0,0,1,536939960,0,0,2,53,5353,10,0,10,999,1,"
                                 "64,1\r\n"
                                 "\n"
                                 " 2 ,\t1 , 0,0,0,0,0,1,0,0,0,2,0,0,0,0,0,0,1,64,0");
    assert_int_equal(read_all(p, FM_FMT_CSV_FLOW, f, 4), 3);
    assert_int_equal(f[0].af, FM_AF_INET);
    assert_true(fm_flow_is_v4mapped(f[0].src));
    assert_int_equal(fm_flow_get_v4(f[0].src), 3232236378u);
    assert_int_equal(fm_flow_get_v4(f[0].dst), 167772161u);
    assert_int_equal(f[0].first_ms, 1653637473475ull);
    assert_int_equal(f[0].last_ms, 1653637474005ull);
    assert_int_equal(f[0].inif, 1);
    assert_int_equal(f[0].outif, 2);
    assert_int_equal(f[0].sport, 445);
    assert_int_equal(f[0].packets, 7);
    assert_int_equal(f[0].octets, 900);
    assert_int_equal(f[0].records, 3);
    /* IPv6: 2001:db8::1 as four words, most significant first. */
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    assert_int_equal(f[1].af, FM_AF_INET6);
    assert_memory_equal(f[1].src, v6, 16);
    assert_int_equal(f[1].last_ms, 10999);
    assert_int_equal(f[2].proto, 1);
}

static void test_csv_flow_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "2, 6, 0\n",                                                                /* few */
        "2,6,0,0,0,0,0,1,0,0,0,2,0,0,0,0,0,0,1,64,0,9\n",                           /* many */
        "2,6,0,0,0,0,0,1,0,0,0,2,0,x,0,0,0,0,1,64,0\n",                             /* text */
        "2,6,0,0,0,0,0,1,0,0,0,2,0,-1,0,0,0,0,1,64,0\n",                            /* sign */
        "2,6,0,0,0,0,0,1,0,0,0,2,0,70000,0,0,0,0,1,64,0\n",                         /* dp */
        "2,6,0,0,0,0,0,1,0,0,0,2,0,0,0,1000,0,0,1,64,0\n",                          /* ms */
        "2,6,0,0,0,0,0,1,0,0,0,2,0,0,0,0,0,0,1,99999999999999999999999,0\n",        /* big */
        "2,6,0,0,0,0,0,1,0,0,0,2,0,0,0,0,0,0,1,64 3,0\n",                           /* junk */
        "2|6|0|0|0|0|0|1|0|0|0|2|0|0|0|0|0|0|1|64|0\n",                             /* sep */
    };
    fm_flow_t f[4];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256];
        /* A good line first: the error must come on line 2, after one record. */
        snprintf(text, sizeof(text), "2,6,0,0,0,0,0,1,0,0,0,2,0,0,0,0,0,0,1,64,0\n%s", bad[i]);
        const char *p = put("bad.csv", text);
        fm_reader_t *r;
        assert_int_equal(fm_reader_open(p, FM_FMT_CSV_FLOW, &r), 0);
        assert_int_equal(fm_reader_next(r, f), 1);
        int rc = fm_reader_next(r, f);
        if (rc >= 0) {
            fail_msg("line %zu accepted: %s", i, bad[i]);
        }
        fm_reader_close(r);
    }
}

static void test_pipe(void **state)
{
    (void)state;
    fm_flow_t f[2];
    const char *p = put("a.pipe",
                        "2|1795424201273|1795424201999|6|0|0|0|167772160|1024|0|0|0|3221225985|80|"
                        "0|0|1|2|18|0|3|100\n");
    assert_int_equal(read_all(p, FM_FMT_PIPE, f, 2), 1);
    assert_int_equal(f[0].first_ms, 1795424201273ull);
    assert_int_equal(f[0].last_ms, 1795424201999ull);
    assert_int_equal(fm_flow_get_v4(f[0].src), 167772160u);
    assert_int_equal(fm_flow_get_v4(f[0].dst), 3221225985u);
    assert_int_equal(f[0].sport, 1024);
    assert_int_equal(f[0].dport, 80);
    assert_int_equal(f[0].inif, 1);
    assert_int_equal(f[0].outif, 2);
    assert_int_equal(f[0].tcp_flags, 18);
    assert_int_equal(f[0].packets, 3);
    assert_int_equal(f[0].octets, 100);
    assert_int_equal(f[0].records, 0); /* pipe has no aggs */
    p = put("b.pipe", "2|1|2|6|0|0|0|1|1|0|0|0|2|80|0|0|1|2|18|0|3\n");
    assert_true(read_all(p, FM_FMT_PIPE, f, 2) < 0);
    p = put("c.pipe", "2|1|2|6|0|0|0|1|1|0|0|0|2|80|0|0|1|2|300|0|3|4\n");
    assert_true(read_all(p, FM_FMT_PIPE, f, 2) < 0);
}

static void test_ftcsv(void **state)
{
    (void)state;
    fm_flow_t f[8];
    const char *p = put("ft.csv", "# leading comment\n"
                                  "START_TIME,DURATION,PROTO,SRC_IP,DST_IP,SRC_PORT,DST_PORT,PACKETS,"
                                  "BYTES\n"
                                  "# Biflows\n"
                                  "1653637473.475,0.001,6,192.168.3.90,192.168.3.176,445,51572,2,316\n"
                                  "1438603883.553,10.5,17,2001:db8::1,2001:db8::2,53,5353,1,84\n"
                                  "bad,0,6,1.2.3.4,1.2.3.5,1,2,1,1\n"
                                  "1.1,0,6,1.2.3.4,999.2.3.5,1,2,1,1\n"
                                  "7,0.0009,1,10.0.0.1,10.0.0.2,0,0,1,64\n");
    assert_int_equal(read_all(p, FM_FMT_FTCSV, f, 8), 3); /* two bad rows skipped */
    /* Exact decimal: 1653637473.475 * 1000 is 1653637473474.9998 in binary floating point. */
    assert_int_equal(f[0].first_ms, 1653637473475ull);
    assert_int_equal(f[0].last_ms, 1653637473476ull);
    assert_int_equal(f[0].proto, 6);
    assert_int_equal(fm_flow_get_v4(f[0].src), 0xC0A8035Au);
    assert_int_equal(f[0].sport, 445);
    assert_int_equal(f[0].dport, 51572);
    assert_int_equal(f[0].packets, 2);
    assert_int_equal(f[0].octets, 316);
    assert_int_equal(f[0].records, 1);
    assert_int_equal(f[1].af, FM_AF_INET6);
    assert_int_equal(f[1].first_ms, 1438603883553ull);
    assert_int_equal(f[1].last_ms, 1438603883553ull + 10500);
    assert_int_equal(f[2].first_ms, 7000);
    assert_int_equal(f[2].last_ms, 7000); /* 0.9 ms truncates like ft-profiler's int() */
    /* Columns in another order and extra columns are fine; a missing column is not. */
    p = put("ft2.csv", "BYTES,X,PACKETS,DST_PORT,SRC_PORT,DST_IP,SRC_IP,PROTO,DURATION,START_TIME\n"
                       "64,z,1,2,1,1.2.3.5,1.2.3.4,17,0.5,2.25\n");
    assert_int_equal(read_all(p, FM_FMT_FTCSV, f, 8), 1);
    assert_int_equal(f[0].first_ms, 2250);
    assert_int_equal(f[0].last_ms, 2750);
    assert_int_equal(f[0].proto, 17);
    p = put("ft3.csv", "START_TIME,DURATION,PROTO,SRC_IP,DST_IP,SRC_PORT,DST_PORT,PACKETS\n1,0,6,"
                       "1.2.3.4,1.2.3.5,1,2,1\n");
    assert_true(read_all(p, FM_FMT_FTCSV, f, 8) < 0);
}

static void test_auto_and_dirs(void **state)
{
    (void)state;
    fm_flow_t f[8];
    char d[128];
    snprintf(d, sizeof(d), "%s/tree", tmpdir);
    mkdir(d, 0700);
    put("tree/b.csv", "2,6,0,0,0,0,0,2,0,0,0,2,0,0,0,0,0,0,1,64,0\n");
    put("tree/a.csv", "2,6,0,0,0,0,0,1,0,0,0,2,0,0,0,0,0,0,1,64,0\n");
    snprintf(d, sizeof(d), "%s/tree/a0", tmpdir);
    mkdir(d, 0700);
    put("tree/a0/z.pipe", "2|1000|2000|6|0|0|0|3|1|0|0|0|2|80|0|0|1|2|18|0|3|4\n");
    snprintf(d, sizeof(d), "%s/tree", tmpdir);
    /* Sorted full paths: tree/a.csv < tree/a0/z.pipe < tree/b.csv. */
    assert_int_equal(read_all(d, FM_FMT_AUTO, f, 8), 3);
    assert_int_equal(fm_flow_get_v4(f[0].src), 1);
    assert_int_equal(fm_flow_get_v4(f[1].src), 3);
    assert_int_equal(fm_flow_get_v4(f[2].src), 2);
    /* The same directory as csv_flow fails on the pipe file. */
    assert_true(read_all(d, FM_FMT_CSV_FLOW, f, 8) < 0);
    assert_true(read_all(path_of("nonexistent"), FM_FMT_CSV_FLOW, f, 8) < 0);
}

static void test_binary_read(void **state)
{
    (void)state;
    char d[128];
    fm_flow_t f[4];
    snprintf(d, sizeof(d), "%s/bin", tmpdir);
    mkdir(d, 0700);
    const uint8_t prot[3] = {6, 17, 1};
    const int16_t sp[3] = {80, 443, 0};
    const double packets[3] = {1, 2.0, 1e6};
    const int64_t first[3] = {1000, 2000, 3000};
    const uint32_t sa3[3] = {1, 2, 3};
    put_bin(d, "_prot.B", prot, sizeof(prot)); /* legacy spelling */
    put_bin(d, "sp.h", sp, sizeof(sp));
    put_bin(d, "packets.d", packets, sizeof(packets));
    put_bin(d, "first.q", first, sizeof(first));
    put_bin(d, "sa3.I", sa3, sizeof(sa3));
    put_bin(d, "README", "x", 1); /* not a column: ignored */
    assert_int_equal(read_all(d, FM_FMT_BINARY, f, 4), 3);
    assert_int_equal(f[1].proto, 17);
    assert_int_equal(f[1].sport, 443);
    assert_int_equal(f[2].packets, 1000000);
    assert_int_equal(f[2].first_ms, 3000000);
    assert_int_equal(f[2].af, 0); /* missing fields read as 0 */
    assert_int_equal(f[2].octets, 0);
    assert_int_equal(fm_flow_get_v4(f[2].src), 3);
    assert_int_equal(read_all(d, FM_FMT_AUTO, f, 4), 3);

    /* Negative values do not fit the flow record. */
    const int16_t neg[3] = {1, -1, 2};
    put_bin(d, "sp.h", neg, sizeof(neg));
    assert_int_equal(read_all(d, FM_FMT_BINARY, f, 4), FM_ERANGE);
    put_bin(d, "sp.h", sp, sizeof(sp));
    /* Lengths must agree. */
    put_bin(d, "dp.H", sp, 4);
    assert_true(read_all(d, FM_FMT_BINARY, f, 4) < 0);
    put_bin(d, "dp.H", sp, sizeof(sp));
    /* Two files for one field. */
    put_bin(d, "prot.H", sp, sizeof(sp));
    assert_true(read_all(d, FM_FMT_BINARY, f, 4) < 0);
}

/* The column reader gives the values the flow reader gives, for the fields asked for only, in
 * batches; it refuses what the flow reader refuses, in a column it reads; text input is not its. */
static void test_colreader(void **state)
{
    (void)state;
    char d[128];
    snprintf(d, sizeof(d), "%s/cols", tmpdir);
    mkdir(d, 0700);
    enum { N = 5 };
    const uint8_t prot[N] = {6, 17, 1, 6, 17};
    const uint64_t octets[N] = {40, 1500, UINT64_MAX, 0, 7};
    const double packets[N] = {1, 2.0, 1e6, 3, 4};
    const uint32_t first_ms[N] = {0, 999, 5, 6, 7};
    put_bin(d, "prot.B", prot, sizeof(prot));
    put_bin(d, "octets.Q", octets, sizeof(octets));
    put_bin(d, "packets.d", packets, sizeof(packets));
    put_bin(d, "first_ms.I", first_ms, sizeof(first_ms));

    uint32_t want = 1u << FM_FIELD_PACKETS | 1u << FM_FIELD_OCTETS | 1u << FM_FIELD_PROT |
                    1u << FM_FIELD_SP; /* sp has no file: reads 0 */
    uint64_t buf[4][2];
    uint64_t *scratch[FM_FIELD_COUNT] = {NULL};
    const uint64_t *c[FM_FIELD_COUNT] = {NULL};
    scratch[FM_FIELD_PACKETS] = buf[0];
    scratch[FM_FIELD_OCTETS] = buf[1];
    scratch[FM_FIELD_PROT] = buf[2];
    scratch[FM_FIELD_SP] = buf[3];
    fm_colreader_t *cr;
    assert_int_equal(fm_colreader_open(d, FM_FMT_AUTO, want, &cr), 1);
    size_t seen = 0;
    long n;
    while ((n = fm_colreader_read(cr, scratch, c, 2)) > 0) {
        assert_true(n <= 2);
        for (long i = 0; i < n; i++, seen++) {
            assert_int_equal(c[FM_FIELD_PACKETS][i], (uint64_t)packets[seen]);
            assert_true(c[FM_FIELD_OCTETS][i] == octets[seen]);
            assert_int_equal(c[FM_FIELD_PROT][i], prot[seen]);
            assert_int_equal(c[FM_FIELD_SP][i], 0);
        }
    }
    assert_int_equal(n, 0);
    assert_int_equal(seen, N);
    fm_colreader_close(cr);

    /* first_ms = 1000 is refused by the flow reader, and by the column reader when read. */
    const uint32_t bad_ms[N] = {0, 1, 1000, 3, 4};
    put_bin(d, "first_ms.I", bad_ms, sizeof(bad_ms));
    assert_int_equal(fm_colreader_open(d, FM_FMT_BINARY, want, &cr), 1);
    while ((n = fm_colreader_read(cr, scratch, c, 2)) > 0) {
    }
    assert_int_equal(n, 0); /* not read, not checked */
    fm_colreader_close(cr);
    uint64_t ms[2];
    scratch[FM_FIELD_FIRST_MS] = ms;
    assert_int_equal(fm_colreader_open(d, FM_FMT_BINARY, want | 1u << FM_FIELD_FIRST_MS, &cr), 1);
    assert_int_equal(fm_colreader_read(cr, scratch, c, 2), 2);
    assert_int_equal(fm_colreader_read(cr, scratch, c, 2), FM_ERANGE);
    fm_colreader_close(cr);
    fm_flow_t f[N];
    assert_int_equal(read_all(d, FM_FMT_BINARY, f, N), FM_ERANGE);

    /* A column of another length is an error even when it is not read. */
    put_bin(d, "dp.H", prot, 4);
    assert_true(fm_colreader_open(d, FM_FMT_BINARY, want, &cr) < 0);
    /* Text input is left to fm_reader_open. */
    assert_int_equal(fm_colreader_open(put("c.csv", "x\n"), FM_FMT_AUTO, want, &cr), 0);
    assert_int_equal(fm_colreader_open(d, FM_FMT_CSV_FLOW, want, &cr), 0);
}

static void test_binary_write(void **state)
{
    (void)state;
    char d[128];
    fm_flow_t in[2] = {0}, out[2];
    fm_writer_t *w;
    snprintf(d, sizeof(d), "%s/wbin", tmpdir);
    for (int i = 0; i < 2; i++) {
        in[i].af = FM_AF_INET;
        fm_flow_set_v4(in[i].src, 0x0A000001u + (uint32_t)i);
        fm_flow_set_v4(in[i].dst, 0x0A000009u);
        in[i].first_ms = 1653637473475ull;
        in[i].last_ms = 1653637474000ull;
        in[i].packets = 5;
        in[i].octets = UINT64_MAX;
        in[i].records = 1;
        in[i].proto = 6;
        in[i].inif = 65535;
    }
    assert_int_equal(fm_writer_open(d, FM_FMT_BINARY, &w), 0);
    assert_int_equal(fm_writer_write(w, in, 2), 0);
    assert_int_equal(fm_writer_close(w), 0);
    assert_int_equal(read_all(d, FM_FMT_BINARY, out, 2), 2);
    for (int i = 0; i < 2; i++) {
        uint64_t a[FM_FIELD_COUNT], b[FM_FIELD_COUNT];
        fm_flow_to_tuple(&in[i], a);
        fm_flow_to_tuple(&out[i], b);
        assert_memory_equal(a, b, sizeof(a));
    }
    /* inif 65536 does not fit the 'H' column: an error, never a wrapped value. */
    in[1].inif = 65536;
    assert_int_equal(fm_writer_open(d, FM_FMT_BINARY, &w), 0);
    assert_int_equal(fm_writer_write(w, in, 2), FM_ERANGE);
    assert_int_equal(fm_writer_close(w), FM_ERANGE);
    /* Writers refuse formats they cannot produce. */
    assert_int_equal(fm_writer_open(path_of("x"), FM_FMT_NFCAPD, &w), FM_EINVAL);
}

static void test_tuple(void **state)
{
    (void)state;
    uint64_t t[FM_FIELD_COUNT] = {0};
    fm_flow_t f;
    int bad = -1;
    assert_string_equal(fm_field_name(FM_FIELD_FIRST_MS), "first_ms");
    assert_int_equal(fm_field_parse("aggs"), FM_FIELD_AGGS);
    assert_int_equal(fm_field_parse("agg"), FM_EINVAL);
    assert_int_equal(fm_field_code(FM_FIELD_PACKETS), 'Q');
    t[FM_FIELD_AF] = 2;
    t[FM_FIELD_SA2] = 5; /* IPv4 with an upper word set: kept as raw 128 bits */
    t[FM_FIELD_SA3] = 7;
    assert_int_equal(fm_flow_from_tuple(t, &f, &bad), 0);
    assert_false(fm_flow_is_v4mapped(f.src));
    uint64_t u[FM_FIELD_COUNT];
    fm_flow_to_tuple(&f, u);
    assert_memory_equal(t, u, sizeof(t));
    t[FM_FIELD_PROT] = 256;
    assert_int_equal(fm_flow_from_tuple(t, &f, &bad), FM_ERANGE);
    assert_int_equal(bad, FM_FIELD_PROT);
    assert_int_equal(fm_format_parse("ftcsv"), FM_FMT_FTCSV);
    assert_int_equal(fm_format_parse("csv"), FM_EINVAL);
    assert_string_equal(fm_format_name(FM_FMT_PIPE), "pipe");
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/fm-test-flowio.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        return -1;
    }
    fm_log_set_level(LOG_CRIT); /* the malformed-input cases log errors on purpose */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Every format holds one direction per row: a biflow is written as forward then reverse (with
 * addresses, ports and interfaces swapped), and a direction without packets has no row. */
static void test_write_biflow(void **state)
{
    (void)state;
    fm_flow_t f = {0}, out[4];
    fm_writer_t *w;
    const char *p = path_of("biflow.csv");

    f.af = FM_AF_INET;
    fm_flow_set_v4(f.src, 0x0A000001u);
    fm_flow_set_v4(f.dst, 0x0A000002u);
    f.sport = 1234;
    f.dport = 80;
    f.inif = 3;
    f.outif = 4;
    f.proto = 6;
    f.first_ms = 1000500;
    f.last_ms = 1002000;
    f.packets = 5;
    f.octets = 500;
    f.rev_first_ms = 1000600;
    f.rev_last_ms = 1003000;
    f.rev_packets = 7;
    f.rev_octets = 9000;
    f.records = 3;
    f.flags = FM_FLOW_BIFLOW;
    fm_flow_t only_rev = f;
    only_rev.packets = only_rev.octets = 0;
    fm_flow_t both[2] = {f, only_rev};

    assert_int_equal(fm_writer_open(p, FM_FMT_CSV_FLOW, &w), 0);
    assert_int_equal(fm_writer_write(w, both, 2), 0);
    assert_int_equal(fm_writer_close(w), 0);
    assert_int_equal(read_all(p, FM_FMT_CSV_FLOW, out, 4), 3);
    assert_int_equal(out[0].packets, 5);
    assert_int_equal(out[0].sport, 1234);
    assert_int_equal(out[1].packets, 7);
    assert_int_equal(out[1].octets, 9000);
    assert_int_equal(out[1].sport, 80);
    assert_int_equal(out[1].dport, 1234);
    assert_int_equal(out[1].inif, 4);
    assert_int_equal(out[1].outif, 3);
    assert_int_equal(fm_flow_get_v4(out[1].src), 0x0A000002u);
    assert_int_equal(out[1].first_ms, 1000600);
    assert_int_equal(out[1].last_ms, 1003000);
    assert_int_equal(out[1].records, 3);
    assert_int_equal(out[2].packets, 7); /* the reverse-only biflow: one row */
    assert_int_equal(out[2].sport, 80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_flow),      cmocka_unit_test(test_csv_flow_malformed),
        cmocka_unit_test(test_pipe),          cmocka_unit_test(test_ftcsv),
        cmocka_unit_test(test_auto_and_dirs), cmocka_unit_test(test_binary_read),
        cmocka_unit_test(test_binary_write),  cmocka_unit_test(test_tuple),
        cmocka_unit_test(test_write_biflow),  cmocka_unit_test(test_colreader),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
