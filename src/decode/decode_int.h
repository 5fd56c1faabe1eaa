/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private header of decode/: the decoder object, per-domain state, the template table shared by
 * the v9 and IPFIX paths, the field slots both map information elements to, and the record
 * finisher that turns decoded fields into an fm_flow_t.  Nothing outside src/decode/ includes it
 * (unit tests may, to reach internals).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode.h"
#include "flow.h"
#include "log.h"
#include "util/err.h"

#define FM__DECODE_BATCH 64
/* Hard bound on fields per template: far above real exporters (~100), keeps hostile templates
 * from costing more than a few kB each. */
#define FM__DECODE_MAX_FIELDS 512
#define FM__PEN_REVERSE 29305u /* RFC 5103 reverse information element PEN */
/* A record cannot end after it was exported; beyond this slack (clock granularity, v9's whole
 * seconds) its times are clamped to the export time, so one bad record never moves a source
 * clock (the cache's) far.  Old times are left alone: replays of old captures (softflowd -r)
 * legitimately export records from long before the export time. */
#define FM__DECODE_FUTURE_MS 60000u

/* What a template field means to us.  Bit (1 << slot) of a template's mask says the field is
 * present, which is how the finisher picks among timestamp encodings. */
enum fm__slot {
    FM__F_SKIP = 0,
    FM__F_SRC4, FM__F_DST4, FM__F_SRC6, FM__F_DST6,
    FM__F_SPORT, FM__F_DPORT, FM__F_PROTO, FM__F_TCPFLAGS, FM__F_INIF, FM__F_OUTIF,
    FM__F_OCTETS, FM__F_PACKETS, FM__F_REV_OCTETS, FM__F_REV_PACKETS, FM__F_REV_TCPFLAGS,
    FM__F_FIRST_UP, FM__F_LAST_UP, FM__F_FIRST_S, FM__F_LAST_S, FM__F_FIRST_MS, FM__F_LAST_MS,
    FM__F_FIRST_US, FM__F_LAST_US, FM__F_FIRST_NS, FM__F_LAST_NS,
    FM__F_REV_FIRST_MS, FM__F_REV_LAST_MS,
    FM__F_INIT_MS, FM__F_DUR_MS, FM__F_DUR_US, FM__F_FIRST_DUS, FM__F_LAST_DUS,
    FM__F_SAMP_INT, FM__F_SAMP_RAND, FM__F_SAMP_PKT_INT, FM__F_SAMP_PKT_SPACE,
    FM__F_SAMP_SIZE, FM__F_SAMP_POP, FM__F_SAMP_PROB, FM__F_IPVER,
    FM__F_COUNT
};
#define FM__M(s) (UINT64_C(1) << (s))

/* Decoded field values of one record, before timestamps are resolved.  The layout doubles as
 * libfixbuf's internal template (ipfix.c): no holes, largest members first. */
typedef struct fm__raw {
    uint64_t octets, packets, rev_octets, rev_packets;
    uint64_t first_ms, last_ms, first_us, last_us, first_ns, last_ns, init_ms;
    uint64_t rev_first_ms, rev_last_ms;
    double samp_prob;
    uint8_t src6[16], dst6[16];
    uint32_t src4, dst4, inif, outif, first_s, last_s, first_up, last_up, dur_ms, dur_us;
    uint32_t first_dus, last_dus; /* flowStart/EndDeltaMicroseconds: µs before export time */
    uint32_t samp_int, samp_rand, samp_pkt_int, samp_pkt_space, samp_size, samp_pop;
    uint16_t sport, dport, tcp_flags, rev_tcp_flags;
    uint8_t proto, ipver;
    uint8_t pad[6];
} fm__raw_t;

/* One field of a template: wire length (65535 = IPFIX variable length) and meaning. */
typedef struct fm__field {
    uint16_t len;
    uint8_t slot;
} fm__field_t;

/* One step of a compiled decode plan (plan.c): load `len` big-endian bytes at record offset
 * `off` (fixed-length templates; the field index for variable-length ones) and store them as
 * `kind` at byte `dst` of fm__raw_t.  Only fields that mean something to us get a step. */
typedef struct fm__op {
    uint16_t off;
    uint16_t len;
    uint8_t kind;          /* FM__OP_* */
    uint8_t dst;           /* offsetof(fm__raw_t, member) */
} fm__op_t;
enum {
    FM__OP_W1, FM__OP_W2, FM__OP_W4, FM__OP_W8,  /* any wire length into a 1/2/4/8-byte member */
    FM__OP_ADDR, FM__OP_PROB,                    /* 16-byte address; float32/float64 */
    FM__OP_BE1, FM__OP_BE2, FM__OP_BE4, FM__OP_BE8, /* wire length == member size: one load */
    FM__OP_FIRST1, FM__OP_ADDRN  /* IPFIX as libfixbuf transcodes odd lengths: the first byte
                                    into a 1-byte member; min(len, 16) address bytes */
};

/* Zero a record-sized struct with straight-line 16-byte stores: a memset() of this size
 * compiles to `rep stos`, whose start-up cost was a third of a record's decode time. */
static inline void fm__zero(void *p, size_t size)
{
    typedef uint8_t v16 __attribute__((vector_size(16), aligned(1)));
    const v16 z = {0};
    uint8_t *b = p;
    size_t i = 0;
#pragma GCC unroll 16
    for (; i + 16 <= size; i += 16) {
        *(v16 *)(void *)(b + i) = z;
        __asm__("" : : "r"(b + i)); /* keeps gcc from turning the loop back into memset */
    }
    for (; i < size; i++) {
        b[i] = 0;
    }
}

typedef struct fm__tmpl {
    struct fm__tmpl *next; /* hash chain */
    uint32_t domain;
    uint16_t tid;
    uint8_t version;       /* 9 or 10 */
    uint8_t options;       /* options template */
    uint8_t varlen;        /* has variable-length fields (IPFIX) */
    uint16_t nfields;
    uint32_t min_len;      /* record length (minimum when varlen) */
    uint64_t mask;         /* FM__M(slot) of the fields present */
    uint64_t refresh_ms;   /* last (re)definition, for the UDP timeout */
    uint16_t nops;         /* compiled plan: fm__tmpl_ops(t)[0 .. nops) */
    uint16_t nfast[4];     /* fixed-length templates: the plan starts with this many BE8, then
                              BE4, BE2 and BE1 steps, run without a dispatch per step */
    fm__field_t fields[];  /* nfields, then room for nfields fm__op_t */
} fm__tmpl_t;

static inline fm__op_t *fm__tmpl_ops(const fm__tmpl_t *t)
{
    return (fm__op_t *)(void *)((uint8_t *)t + sizeof(*t) +
                                ((size_t)t->nfields * sizeof(fm__field_t) + 7) / 8 * 8);
}

/* Per observation domain / source id / engine state. */
typedef struct fm__dom {
    uint32_t id;
    uint8_t version;       /* sequence semantics differ per version */
    bool seq_valid;
    uint32_t seq_next;     /* expected next sequence number */
    uint32_t last_uptime;  /* v5/v9 sys_uptime, for restart detection */
    uint32_t sampling;     /* from options records; 1 = unsampled */
    uint64_t init_ms;      /* IPFIX systemInitTimeMilliseconds from options; 0 unknown */
} fm__dom_t;

struct fm__ipfix;

/* Differential check of the compiled plans (check.c), off unless a test or fuzz target turns
 * it on: every record is also decoded by the reference path — v9: the field-by-field
 * interpreter; IPFIX: libfixbuf's transcoding of the same message through a session of its
 * own — and the two fm__raw_t must be equal byte for byte. */
typedef struct fm__check {
    uint64_t records;       /* records compared */
    uint64_t mismatches;    /* records that differed, or a different record count */
    bool abort_on_mismatch; /* fuzz: abort() so that libFuzzer keeps the input */
    fm__raw_t *raws;        /* IPFIX: what the plans decoded from the current message */
    uint8_t *prob32;        /* per raw: samplingProbability came as float32 */
    size_t nraw, cap;
    struct fm__ipfix *ref;  /* IPFIX reference session */
} fm__check_t;

struct fm_decoder {
    fm_decode_conf_t conf;
    uint32_t exporter;
    fm_decode_stats_t stats;
    fm_ratelimit_t rl;
    fm__dom_t *doms;
    uint32_t ndoms, capdoms, last_dom;
    fm__tmpl_t **buckets;
    uint32_t nbuckets;
    uint64_t next_sweep_ms;
    fm_flow_batch_fn sink;
    void *ctx;
    size_t nbatch;
    fm_flow_t batch[FM__DECODE_BATCH];
    struct fm__ipfix *ipfix; /* libfixbuf state, created on the first IPFIX datagram */
    fm__check_t *check;      /* NULL unless fm__decode_check_enable() */
    uint64_t export_ms;      /* export time of the datagram being decoded (fm__decode_commit) */
    uint32_t fix_dead;       /* IPFIX templates removed or replaced here since libfixbuf's
                              * session was created: what that session may hold beyond ours */
};

/* record.c: shared by the dispatcher and the three protocol decoders */
int fm__decode_domain(fm_decoder_t *d, uint32_t id, uint8_t version, fm__dom_t **out);
void fm__decode_seq(fm_decoder_t *d, fm__dom_t *dom, uint32_t seq, uint32_t advance);
void fm__decode_emit(fm_decoder_t *d, const fm_flow_t *f);
/* Zero-copy emit: fill *fm__decode_slot(d), then fm__decode_commit(d). */
static inline fm_flow_t *fm__decode_slot(fm_decoder_t *d)
{
    return &d->batch[d->nbatch];
}
void fm__decode_commit(fm_decoder_t *d);
void fm__decode_flush(fm_decoder_t *d);
uint32_t fm__decode_sampling(const fm__raw_t *r, uint64_t mask);
void fm__decode_finish(const fm_decoder_t *d, const fm__dom_t *dom, const fm__raw_t *r,
                       uint64_t mask, uint64_t export_ms, uint32_t sys_uptime, fm_flow_t *f);

/* template.c */
int fm__tmpl_init(fm_decoder_t *d);
void fm__tmpl_fini(fm_decoder_t *d);
/* @return the live template or NULL; an expired one is removed (and counted) first. */
fm__tmpl_t *fm__tmpl_find(fm_decoder_t *d, uint8_t version, uint32_t domain, uint16_t tid,
                          uint64_t now_ms);
/* Keys are (version, domain, template id): v9 source ids and IPFIX domains never mix.
 * Take ownership of t, replacing any template with its key.  FM_ELIMIT frees t. */
int fm__tmpl_put(fm_decoder_t *d, fm__tmpl_t *t);
fm__tmpl_t *fm__tmpl_alloc(uint16_t nfields);
bool fm__tmpl_remove(fm_decoder_t *d, uint8_t version, uint32_t domain, uint16_t tid);
/* Remove every template of a domain (options == -1: all, 0: data, 1: options). */
void fm__tmpl_remove_domain(fm_decoder_t *d, uint8_t version, uint32_t domain, int options);
void fm__tmpl_sweep(fm_decoder_t *d, uint64_t now_ms);
/* Slot of a v9 field type or IPFIX element (pen 0 or the RFC 5103 reverse PEN). */
uint8_t fm__field_slot(uint32_t pen, uint16_t id);
/* Store an unsigned big-endian value of the field's wire length into raw. */
void fm__field_store(fm__raw_t *r, uint8_t slot, const uint8_t *p, uint16_t len);

/* plan.c: compile a template's fields (len, slot) into steps, then decode records with it.
 * ipfix: libfixbuf's conventions — only the first of repeated elements is read, and lengths
 * other than the member's are read as libfixbuf transcodes them; v9 keeps its own (the last
 * repeat wins, fm__field_store()'s reading of odd lengths). */
void fm__plan_compile(fm__tmpl_t *t, bool ipfix);
/* Decode one fixed-length record (t->min_len bytes at p) into r. */
void fm__plan_decode(const fm__tmpl_t *t, const uint8_t *p, fm__raw_t *r);
/* Decode one record of a variable-length template; @return bytes consumed, or 0 when the
 * record runs past len (RFC 7011 §7 length prefixes walked). */
size_t fm__plan_decode_var(const fm__tmpl_t *t, const uint8_t *p, size_t len, fm__raw_t *r);

/* check.c */
int fm__decode_check_enable(fm_decoder_t *d, bool abort_on_mismatch);
void fm__check_free(fm_decoder_t *d);
void fm__check_v9(fm_decoder_t *d, const fm__tmpl_t *t, const uint8_t *p, const fm__raw_t *r);
void fm__check_ipfix_add(fm_decoder_t *d, const fm__tmpl_t *t, const fm__raw_t *r);
/* Compare the raws collected for a message with the reference decoding of msg. */
void fm__check_ipfix_message(fm_decoder_t *d, uint8_t *msg, size_t len);

/* v5.c, v9.c, ipfix.c */
int fm__decode_v5(fm_decoder_t *d, const uint8_t *buf, size_t len);
int fm__decode_v9(fm_decoder_t *d, const uint8_t *buf, size_t len, uint64_t recv_ms);
int fm__decode_ipfix(fm_decoder_t *d, const uint8_t *buf, size_t len, uint64_t recv_ms);
void fm__ipfix_free(fm_decoder_t *d);
void fm__ipfix_trim(fm_decoder_t *d);
/* fixbuf.c (libfixbuf sessions, the reference transcoding) has a header of its own: fixbuf.h. */

static inline uint16_t fm__be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The set header at buf + off (v9 FlowSet and IPFIX Set share it: id, length including the
 * header).  @return 0 with *sid / *slen set, FM_ETRUNC (header or body past len) or FM_EFORMAT
 * (length below the header's own 4 bytes, which would never advance). */
static inline int fm__set_header(const uint8_t *buf, size_t len, size_t off, uint16_t *sid,
                                 uint16_t *slen)
{
    if (len - off < 4) {
        return FM_ETRUNC;
    }
    *sid = fm__be16(buf + off);
    *slen = fm__be16(buf + off + 2);
    if (*slen < 4) {
        return FM_EFORMAT;
    }
    return *slen > len - off ? FM_ETRUNC : 0;
}

/* fm_flow_set_v4, inline for the per-record path. */
static inline void fm__set_v4(uint8_t addr[16], uint32_t v4)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    uint32_t be = __builtin_bswap32(v4);
    memcpy(addr, prefix, 12);
    memcpy(addr + 12, &be, 4);
}

/* v5/v9: the epoch ms of a sysUptime stamp, from the header's uptime and export time, modulo
 * 2^32 in both directions: a stamp up to FM__DECODE_FUTURE_MS after the header's uptime
 * (exporter clock skew) lands that much after the export, not 49.7 days back; any other stamp
 * is an age, so an uptime that wrapped between the packet and the export still gives it. */
static inline uint64_t fm__uptime_ms(uint64_t export_ms, uint32_t sys_uptime, uint32_t stamp)
{
    uint32_t ahead = stamp - sys_uptime, age = sys_uptime - stamp;
    if (ahead <= FM__DECODE_FUTURE_MS) {
        return export_ms + ahead;
    }
    return export_ms >= age ? export_ms - age : 0;
}

static inline uint32_t fm__be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
