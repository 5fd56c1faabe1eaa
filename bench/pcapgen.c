/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/pcapgen: a seeded synthetic capture for bench/meter.sh.  N Ethernet/IPv4 packets (TCP
 * and UDP, both directions) over F flows that come and go: at packet i the active flows are a
 * window of W consecutive flow numbers sliding from 0 to F, so the meter's cache holds about W
 * flows and every flow ends before the capture does.  Frames are cut at 64 bytes (headers only,
 * the wire length is kept in the record), packets 1-20 µs apart.
 * usage: pcapgen OUT.pcap PACKETS FLOWS [WINDOW] [SEED]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: pcapgen OUT.pcap PACKETS FLOWS [WINDOW] [SEED]\n");
        return 2;
    }
    uint64_t n = strtoull(argv[2], NULL, 10), flows = strtoull(argv[3], NULL, 10);
    uint64_t window = argc > 4 ? strtoull(argv[4], NULL, 10) : 20000;
    rng_state = argc > 5 ? strtoull(argv[5], NULL, 10) | 1 : 15;
    if (!n || !flows || !window) {
        fprintf(stderr, "pcapgen: PACKETS, FLOWS and WINDOW must be positive\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static char buf[1 << 20];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    uint32_t hdr[6] = {0xa1b2c3d4, 2 | 4u << 16, 0, 0, 65535, 1};
    fwrite(hdr, sizeof hdr, 1, f);
    uint64_t t_us = 1700000000ULL * 1000000;
    uint8_t fr[64];
    for (uint64_t i = 0; i < n; i++) {
        uint64_t lo = i * (flows > window ? flows - window : 0) / n;
        uint64_t flow = lo + rnd() % (flows < window ? flows : window);
        int tcp = flow % 4 != 0, rev = rnd() & 1;
        uint32_t a = 0x0A000000u | (uint32_t)(flow % 0xFFFFFF);
        uint32_t b = 0xC0A80000u | (uint32_t)((flow * 7919) & 0xFFFF);
        uint16_t pa = (uint16_t)(1024 + flow % 60000), pb = tcp ? 443 : 53;
        uint16_t wire = (uint16_t)(60 + rnd() % 1455);
        memset(fr, 0, sizeof fr);
        memcpy(fr, rev ? "\x02\0\0\0\0\x01\x02\0\0\0\0\x02" : "\x02\0\0\0\0\x02\x02\0\0\0\0\x01",
               12);
        put16(fr + 12, 0x0800);
        uint8_t *ip = fr + 14;
        ip[0] = 0x45;
        put16(ip + 2, (uint16_t)(wire - 14));
        ip[8] = 64;
        ip[9] = tcp ? 6 : 17;
        put32(ip + 12, rev ? b : a);
        put32(ip + 16, rev ? a : b);
        uint8_t *l4 = ip + 20;
        put16(l4, rev ? pb : pa);
        put16(l4 + 2, rev ? pa : pb);
        if (tcp) {
            l4[12] = 0x50;
            l4[13] = 0x18; /* PSH ACK */
        } else {
            put16(l4 + 4, (uint16_t)(wire - 34));
        }
        t_us += 1 + rnd() % 20;
        uint32_t rec[4] = {(uint32_t)(t_us / 1000000), (uint32_t)(t_us % 1000000), 64, wire};
        fwrite(rec, sizeof rec, 1, f);
        fwrite(fr, sizeof fr, 1, f);
    }
    if (fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
