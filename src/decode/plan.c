/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Compiled decode plans.  A v9 or IPFIX template is turned once, when it arrives, into a short
 * list of steps — record offset, wire length, destination in fm__raw_t, store width — for the
 * fields that mean something to us; every data record is then decoded straight from the
 * datagram by running those steps, with no per-field lookup and no per-record call into
 * libfixbuf.  Unmapped fields (other enterprises, scope fields) cost nothing: they are not in
 * the plan.  The values are those fm__field_store() gives (unsigned big-endian, truncated to the
 * member's low-order bytes; addresses only at 16 bytes; samplingProbability as
 * float32 or float64), which for IPFIX is what libfixbuf's transcoding into fm__raw_t gives:
 * fuzz_decode_diff and test_decode_plan hold the two paths equal on every input.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "decode/decode_int.h"

/* Destination member and width of each slot (FM__F_SKIP has none). */
static const struct {
    uint8_t dst, kind;
} slot_dst[FM__F_COUNT] = {
#define D(slot, member, kind) [slot] = {offsetof(fm__raw_t, member), kind}
    D(FM__F_SRC4, src4, FM__OP_W4),           D(FM__F_DST4, dst4, FM__OP_W4),
    D(FM__F_SRC6, src6, FM__OP_ADDR),         D(FM__F_DST6, dst6, FM__OP_ADDR),
    D(FM__F_SPORT, sport, FM__OP_W2),         D(FM__F_DPORT, dport, FM__OP_W2),
    D(FM__F_PROTO, proto, FM__OP_W1),         D(FM__F_TCPFLAGS, tcp_flags, FM__OP_W2),
    D(FM__F_INIF, inif, FM__OP_W4),           D(FM__F_OUTIF, outif, FM__OP_W4),
    D(FM__F_OCTETS, octets, FM__OP_W8),       D(FM__F_PACKETS, packets, FM__OP_W8),
    D(FM__F_REV_OCTETS, rev_octets, FM__OP_W8), D(FM__F_REV_PACKETS, rev_packets, FM__OP_W8),
    D(FM__F_REV_TCPFLAGS, rev_tcp_flags, FM__OP_W2),
    D(FM__F_FIRST_UP, first_up, FM__OP_W4),   D(FM__F_LAST_UP, last_up, FM__OP_W4),
    D(FM__F_FIRST_S, first_s, FM__OP_W4),     D(FM__F_LAST_S, last_s, FM__OP_W4),
    D(FM__F_FIRST_MS, first_ms, FM__OP_W8),   D(FM__F_LAST_MS, last_ms, FM__OP_W8),
    D(FM__F_FIRST_US, first_us, FM__OP_W8),   D(FM__F_LAST_US, last_us, FM__OP_W8),
    D(FM__F_FIRST_NS, first_ns, FM__OP_W8),   D(FM__F_LAST_NS, last_ns, FM__OP_W8),
    D(FM__F_REV_FIRST_MS, rev_first_ms, FM__OP_W8), D(FM__F_REV_LAST_MS, rev_last_ms, FM__OP_W8),
    D(FM__F_INIT_MS, init_ms, FM__OP_W8),     D(FM__F_DUR_MS, dur_ms, FM__OP_W4),
    D(FM__F_DUR_US, dur_us, FM__OP_W4),       D(FM__F_FIRST_DUS, first_dus, FM__OP_W4),
    D(FM__F_LAST_DUS, last_dus, FM__OP_W4),       D(FM__F_SAMP_INT, samp_int, FM__OP_W4),
    D(FM__F_SAMP_RAND, samp_rand, FM__OP_W4), D(FM__F_SAMP_PKT_INT, samp_pkt_int, FM__OP_W4),
    D(FM__F_SAMP_PKT_SPACE, samp_pkt_space, FM__OP_W4),
    D(FM__F_SAMP_SIZE, samp_size, FM__OP_W4), D(FM__F_SAMP_POP, samp_pop, FM__OP_W4),
    D(FM__F_SAMP_PROB, samp_prob, FM__OP_PROB), D(FM__F_IPVER, ipver, FM__OP_W1),
#undef D
};

/* The step kind for a field of wire length len into slot's member. */
static uint8_t op_kind(uint8_t slot, uint16_t len, bool ipfix, bool varlen)
{
    uint8_t kind = slot_dst[slot].kind;
    /* the common case, wire length = member size, is one load and one store */
    static const uint8_t exact[] = {[FM__OP_W1] = FM__OP_BE1, [FM__OP_W2] = FM__OP_BE2,
                                    [FM__OP_W4] = FM__OP_BE4, [FM__OP_W8] = FM__OP_BE8};
    static const uint8_t size[] = {[FM__OP_W1] = 1, [FM__OP_W2] = 2, [FM__OP_W4] = 4,
                                   [FM__OP_W8] = 8};
    if (!varlen && kind <= FM__OP_W8 && len == size[kind]) {
        return exact[kind];
    }
    if (!ipfix) {
        return kind;
    }
    /* What libfixbuf 2.4 makes of lengths its registry calls illegal (it warns, then
     * transcodes): a 1-byte member takes the first byte, an address the first min(len, 16)
     * bytes, a float64 of neither 4 nor 8 bytes the integer bits of its low-order bytes;
     * wider integer members take the low-order bytes (as W2/W4/W8 do). */
    if (kind == FM__OP_W1) {
        return FM__OP_FIRST1;
    }
    if (kind == FM__OP_ADDR) {
        return FM__OP_ADDRN;
    }
    if (kind == FM__OP_PROB && len != 4 && len != 8) {
        return FM__OP_W8;
    }
    return kind;
}

/* Does the step store anything? (v9 reads addresses only at 16 bytes, probabilities only as
 * float32/float64.) */
static bool writes(const fm__op_t *op)
{
    return !(op->kind == FM__OP_ADDR && op->len != 16) &&
           !(op->kind == FM__OP_PROB && op->len != 4 && op->len != 8);
}

/* Fixed-length templates: reorder the steps as BE8, BE4, BE2, BE1 runs, then the rest, so that
 * fm__plan_decode() runs each run in a loop of its own instead of jumping on every step's kind
 * (that indirect jump was a third of a record's decode time).  Order stops mattering once
 * each member is written by one step: for v9, where a repeated field has always overwritten
 * the earlier ones, only the last writing step of each member is kept (IPFIX already keeps
 * only the first of each element). */
static void group_ops(fm__tmpl_t *t, bool ipfix)
{
    fm__op_t *ops = fm__tmpl_ops(t), tmp[FM__DECODE_MAX_FIELDS];
    size_t n = 0;
    for (uint16_t i = 0; i < t->nops; i++) {
        if (!ipfix && !writes(&ops[i])) {
            continue;
        }
        bool later = false;
        for (uint16_t j = (uint16_t)(i + 1); !ipfix && j < t->nops; j++) {
            later |= ops[j].dst == ops[i].dst && writes(&ops[j]);
        }
        if (!later) {
            tmp[n++] = ops[i];
        }
    }
    static const uint8_t order[4] = {FM__OP_BE8, FM__OP_BE4, FM__OP_BE2, FM__OP_BE1};
    size_t w = 0;
    for (int g = 0; g < 4; g++) {
        t->nfast[g] = 0;
        for (size_t i = 0; i < n; i++) {
            if (tmp[i].kind == order[g]) {
                ops[w++] = tmp[i];
                t->nfast[g]++;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (tmp[i].kind != FM__OP_BE8 && tmp[i].kind != FM__OP_BE4 &&
            tmp[i].kind != FM__OP_BE2 && tmp[i].kind != FM__OP_BE1) {
            ops[w++] = tmp[i];
        }
    }
    t->nops = (uint16_t)w;
}

void fm__plan_compile(fm__tmpl_t *t, bool ipfix)
{
    bool first_only = ipfix;
    fm__op_t *ops = fm__tmpl_ops(t);
    uint64_t seen = 0;
    uint32_t off = 0;
    t->nops = 0;
    for (uint16_t i = 0; i < t->nfields; i++) {
        const fm__field_t *f = &t->fields[i];
        uint8_t slot = f->slot;
        bool take = slot != FM__F_SKIP && !(first_only && (seen & FM__M(slot)));
        seen |= slot != FM__F_SKIP ? FM__M(slot) : 0;
        if (take) {
            uint8_t kind = op_kind(slot, f->len, ipfix, t->varlen);
            ops[t->nops++] = (fm__op_t){.off = (uint16_t)(t->varlen ? i : off), .len = f->len,
                                        .kind = kind, .dst = slot_dst[slot].dst};
        }
        off += f->len; /* < 65536 for fixed-length templates (min_len is checked) */
    }
    if (!t->varlen) {
        group_ops(t, ipfix);
    }
}

static inline uint64_t load_be(const uint8_t *p, uint16_t len)
{
    uint64_t v;
    uint32_t w;
    switch (len) {
    case 1: return p[0];
    case 2: return fm__be16(p);
    case 4: memcpy(&w, p, 4); return __builtin_bswap32(w);
    case 8: memcpy(&v, p, 8); return __builtin_bswap64(v);
    default:
        /* longer than 8 bytes: the low-order (last) ones, as libfixbuf truncates */
        if (len > 8) {
            p += len - 8;
            len = 8;
        }
        v = 0;
        for (uint16_t i = 0; i < len; i++) {
            v = v << 8 | p[i];
        }
        return v;
    }
}

static inline void run_op(const fm__op_t *op, const uint8_t *p, uint16_t len, fm__raw_t *r)
{
    uint8_t *dst = (uint8_t *)r + op->dst;
    uint64_t v;
    uint32_t w;
    uint16_t h;
    switch (op->kind) {
    case FM__OP_BE1: *dst = *p; return;
    case FM__OP_BE2: memcpy(&h, p, 2); h = __builtin_bswap16(h); memcpy(dst, &h, 2); return;
    case FM__OP_BE4: memcpy(&w, p, 4); w = __builtin_bswap32(w); memcpy(dst, &w, 4); return;
    case FM__OP_BE8: memcpy(&v, p, 8); v = __builtin_bswap64(v); memcpy(dst, &v, 8); return;
    case FM__OP_W1: *dst = (uint8_t)load_be(p, len); return;
    case FM__OP_W2: { uint16_t x = (uint16_t)load_be(p, len); memcpy(dst, &x, 2); return; }
    case FM__OP_W4: { uint32_t x = (uint32_t)load_be(p, len); memcpy(dst, &x, 4); return; }
    case FM__OP_W8: v = load_be(p, len); memcpy(dst, &v, 8); return;
    case FM__OP_ADDR:
        if (len == 16) {
            memcpy(dst, p, 16);
        }
        return;
    case FM__OP_FIRST1: *dst = len ? *p : 0; return;
    case FM__OP_ADDRN: memcpy(dst, p, len < 16 ? len : 16); return;
    case FM__OP_PROB:
        if (len == 8) {
            v = load_be(p, 8);
            memcpy(dst, &v, 8);
        } else if (len == 4) {
            uint32_t u = (uint32_t)load_be(p, 4);
            float fl;
            memcpy(&fl, &u, 4);
            double dbl = fl;
            memcpy(dst, &dbl, 8);
        }
        return;
    default: return;
    }
}

void fm__plan_decode(const fm__tmpl_t *t, const uint8_t *p, fm__raw_t *r)
{
    const fm__op_t *o = fm__tmpl_ops(t), *end = o + t->nops;
    uint8_t *rb = (uint8_t *)r;
    uint64_t v;
    uint32_t w;
    uint16_t h;
    fm__zero(r, sizeof(*r));
    for (unsigned n = t->nfast[0]; n; n--, o++) {
        memcpy(&v, p + o->off, 8);
        v = __builtin_bswap64(v);
        memcpy(rb + o->dst, &v, 8);
    }
    for (unsigned n = t->nfast[1]; n; n--, o++) {
        memcpy(&w, p + o->off, 4);
        w = __builtin_bswap32(w);
        memcpy(rb + o->dst, &w, 4);
    }
    for (unsigned n = t->nfast[2]; n; n--, o++) {
        memcpy(&h, p + o->off, 2);
        h = __builtin_bswap16(h);
        memcpy(rb + o->dst, &h, 2);
    }
    for (unsigned n = t->nfast[3]; n; n--, o++) {
        rb[o->dst] = p[o->off];
    }
    for (; o < end; o++) {
        run_op(o, p + o->off, o->len, r);
    }
}

size_t fm__plan_decode_var(const fm__tmpl_t *t, const uint8_t *p, size_t len, fm__raw_t *r)
{
    const fm__op_t *ops = fm__tmpl_ops(t);
    uint16_t next = 0;
    size_t off = 0;
    fm__zero(r, sizeof(*r));
    for (uint16_t i = 0; i < t->nfields; i++) {
        size_t flen = t->fields[i].len;
        if (flen == 65535) {
            if (len - off < 1) {
                return 0;
            }
            flen = p[off++];
            if (flen == 255) {
                if (len - off < 2) {
                    return 0;
                }
                flen = fm__be16(p + off);
                off += 2;
            }
        }
        if (flen > len - off) {
            return 0;
        }
        if (next < t->nops && ops[next].off == i) {
            run_op(&ops[next], p + off, (uint16_t)flen, r);
            next++;
        }
        off += flen;
    }
    return off;
}
