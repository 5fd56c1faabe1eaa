/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers of the decode unit tests: a sink that collects decoded records, deterministic flows,
 * and a tiny byte builder for handcrafted v9/IPFIX datagrams (sets and lengths patched after).
 */
#pragma once

#include <stdint.h>
#include <string.h>

#include "decode/decode.h"
#include "encode.h"
#include "flow.h"

#define T_MAXREC 4096

static fm_flow_t t_recs[T_MAXREC];
static size_t t_nrec;
static size_t t_batches;

static inline void t_sink(void *ctx, const fm_flow_t *f, size_t n)
{
    (void)ctx;
    t_batches++;
    for (size_t i = 0; i < n && t_nrec < T_MAXREC; i++) {
        t_recs[t_nrec++] = f[i];
    }
}

static inline void t_reset(void)
{
    t_nrec = 0;
    t_batches = 0;
}

/* Flow i: distinct addresses, ports and counters; times in ms around t0. */
static inline fm_flow_t t_flow(unsigned i, bool v6, uint64_t t0)
{
    fm_flow_t f;
    memset(&f, 0, sizeof(f));
    if (v6) {
        f.af = FM_AF_INET6;
        f.src[0] = 0x20;
        f.src[1] = 0x01;
        f.src[15] = (uint8_t)i;
        f.dst[0] = 0x20;
        f.dst[1] = 0x01;
        f.dst[14] = 1;
        f.dst[15] = (uint8_t)(i * 7);
    } else {
        f.af = FM_AF_INET;
        fm_flow_set_v4(f.src, 0x0a000000u + i);
        fm_flow_set_v4(f.dst, 0xc0a80000u + i * 3);
    }
    f.sport = (uint16_t)(1024 + i);
    f.dport = (uint16_t)(i % 3 ? 80 : 53);
    f.proto = i % 3 ? 6 : 17;
    f.tcp_flags = i % 3 ? 0x1b : 0;
    f.inif = 1 + i % 4;
    f.outif = 2;
    f.packets = 1 + i * 11;
    f.octets = 40 + i * 1337;
    f.first_ms = t0 + i * 250 + 17;
    f.last_ms = f.first_ms + i * 1013;
    return f;
}

typedef struct {
    uint8_t b[4096];
    size_t w;
} t_buf_t;

static inline void tb16(t_buf_t *b, uint32_t v)
{
    b->b[b->w++] = (uint8_t)(v >> 8);
    b->b[b->w++] = (uint8_t)v;
}

static inline void tb32(t_buf_t *b, uint32_t v)
{
    tb16(b, v >> 16);
    tb16(b, v & 0xffff);
}

static inline void tb64(t_buf_t *b, uint64_t v)
{
    tb32(b, (uint32_t)(v >> 32));
    tb32(b, (uint32_t)v);
}

static inline void tb_patch16(t_buf_t *b, size_t at, uint32_t v)
{
    b->b[at] = (uint8_t)(v >> 8);
    b->b[at + 1] = (uint8_t)v;
}

/* IPFIX message header; tb_ipfix_end() patches the length. */
static inline void tb_ipfix(t_buf_t *b, uint32_t export_s, uint32_t seq, uint32_t domain)
{
    b->w = 0;
    tb16(b, 10);
    tb16(b, 0);
    tb32(b, export_s);
    tb32(b, seq);
    tb32(b, domain);
}

static inline void tb_ipfix_end(t_buf_t *b)
{
    tb_patch16(b, 2, (uint32_t)b->w);
}

static inline size_t tb_set(t_buf_t *b, uint16_t id)
{
    size_t at = b->w;
    tb16(b, id);
    tb16(b, 0);
    return at;
}

static inline void tb_set_end(t_buf_t *b, size_t at)
{
    tb_patch16(b, at + 2, (uint32_t)(b->w - at));
}

/* An IPFIX template set of one record: tid, then n (element, length) pairs; an options
 * template set when scope > 0. */
static inline void tb_ipfix_template(t_buf_t *b, uint16_t tid, const uint16_t (*f)[2],
                                     uint16_t n, uint16_t scope)
{
    size_t at = tb_set(b, scope ? 3 : 2);
    tb16(b, tid);
    tb16(b, n);
    if (scope) {
        tb16(b, scope);
    }
    for (uint16_t i = 0; i < n; i++) {
        tb16(b, f[i][0]);
        tb16(b, f[i][1]);
    }
    tb_set_end(b, at);
}
