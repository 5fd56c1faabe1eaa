/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NetFlow v5 / v9 / IPFIX datagram builders (see encode.h).  Templates are built once per
 * encoder as lists of (enterprise, element, length); one writer fills any of them from an
 * fm_flow_t, so v9 and IPFIX share the record code.  Wire formats: Cisco NetFlow v5 layout,
 * RFC 3954 (v9), RFC 7011 (IPFIX), RFC 5103 (reverse elements, PEN 29305).
 */
#include "config.h"
#include "encode.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define PEN_REV 29305u
#define MAX_FIELDS 24
#define NTP_OFFSET UINT64_C(2208988800)

typedef struct {
    uint32_t pen;
    uint16_t id;
    uint16_t len;
} efield_t;

typedef struct {
    efield_t f[MAX_FIELDS];
    unsigned n, scope;
    size_t reclen;
} etmpl_t;

struct fm_encoder {
    fm_encode_conf_t conf;
    uint32_t seq;
    uint64_t datagrams;
    bool force_templates;
    etmpl_t data[2]; /* IPv4, IPv6 */
    etmpl_t opts;
    bool with_opts;
};

typedef struct {
    uint8_t *b;
    size_t w;
} cur_t;

static void put(cur_t *c, uint64_t v, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        c->b[c->w + i] = (uint8_t)(v >> (8 * (len - 1 - i)));
    }
    c->w += len;
}

static void add(etmpl_t *t, uint32_t pen, uint16_t id, uint16_t len)
{
    t->f[t->n++] = (efield_t){pen, id, len};
    t->reclen += len;
}

static void build_data(fm_encoder_t *e, etmpl_t *t, bool v6)
{
    memset(t, 0, sizeof(*t));
    add(t, 0, v6 ? 27 : 8, v6 ? 16 : 4);
    add(t, 0, v6 ? 28 : 12, v6 ? 16 : 4);
    add(t, 0, 7, 2);
    add(t, 0, 11, 2);
    add(t, 0, 4, 1);
    add(t, 0, 6, 1);
    add(t, 0, 10, 4);
    add(t, 0, 14, 4);
    add(t, 0, 1, 8);
    add(t, 0, 2, 8);
    static const uint16_t ids[][3] = {{152, 153, 8}, {150, 151, 4}, {154, 155, 8},
                                      {156, 157, 8}, {22, 21, 4},   {152, 161, 0}};
    fm_encode_time_t tm = e->conf.version == 9 ? FM_ENCODE_TIME_UPTIME : e->conf.time;
    if (tm == FM_ENCODE_TIME_DURATION) {
        add(t, 0, 152, 8);
        add(t, 0, 161, 4);
    } else {
        add(t, 0, ids[tm][0], ids[tm][2]);
        add(t, 0, ids[tm][1], ids[tm][2]);
    }
    if (e->conf.version == 10 && e->conf.biflow) {
        add(t, PEN_REV, 1, 8);
        add(t, PEN_REV, 2, 8);
        add(t, PEN_REV, 6, 1);
        if (tm == FM_ENCODE_TIME_MS) {
            add(t, PEN_REV, 152, 8);
            add(t, PEN_REV, 153, 8);
        }
    }
}

static void build_options(fm_encoder_t *e)
{
    etmpl_t *t = &e->opts;
    memset(t, 0, sizeof(*t));
    if (e->conf.version == 9) {
        add(t, 0, 1, 4);   /* scope: system (RFC 3954 §6.1) */
        add(t, 0, 34, 4);  /* SAMPLING_INTERVAL */
        add(t, 0, 35, 1);  /* SAMPLING_ALGORITHM */
    } else {
        add(t, 0, 149, 4); /* scope: observationDomainId */
        add(t, 0, 160, 8); /* systemInitTimeMilliseconds */
        add(t, 0, 34, 4);  /* samplingInterval */
    }
    t->scope = 1;
    e->with_opts = e->conf.sampling > 1 ||
                   (e->conf.version == 10 && e->conf.time == FM_ENCODE_TIME_UPTIME);
}

void fm_encode_conf_default(fm_encode_conf_t *conf, int version)
{
    memset(conf, 0, sizeof(*conf));
    conf->version = version;
    conf->template_id = 256;
    conf->template_every = 20;
    conf->mtu = 1400;
}

int fm_encoder_new(const fm_encode_conf_t *conf, fm_encoder_t **out)
{
    if (!conf || !out || (conf->version != 5 && conf->version != 9 && conf->version != 10) ||
        conf->template_id < 256 || conf->template_id > 65533 || conf->mtu < 256 ||
        conf->mtu > 65535 || conf->time > FM_ENCODE_TIME_DURATION) {
        return FM_EINVAL;
    }
    fm_encoder_t *e = calloc(1, sizeof(*e));
    if (!e) {
        return FM_ENOMEM;
    }
    e->conf = *conf;
    e->force_templates = true;
    build_data(e, &e->data[0], false);
    build_data(e, &e->data[1], true);
    build_options(e);
    *out = e;
    return 0;
}

void fm_encoder_free(fm_encoder_t *e)
{
    free(e);
}

void fm_encoder_resend_templates(fm_encoder_t *e)
{
    e->force_templates = true;
}

void fm_encoder_set_sequence(fm_encoder_t *e, uint32_t seq)
{
    e->seq = seq;
}

uint32_t fm_encoder_sequence(const fm_encoder_t *e)
{
    return e->seq;
}

static uint64_t boot_ms(fm_encoder_t *e, uint64_t now_ms)
{
    if (!e->conf.boot_ms) {
        e->conf.boot_ms = now_ms > 3600000 ? now_ms - 3600000 : 1;
    }
    return e->conf.boot_ms;
}

static uint64_t ntp(uint64_t ms)
{
    return (ms / 1000 + NTP_OFFSET) << 32 | (((ms % 1000) << 32) + 999) / 1000;
}

static uint64_t field_value(fm_encoder_t *e, const efield_t *f, const fm_flow_t *fl)
{
    uint64_t boot = e->conf.boot_ms;
    if (f->pen == PEN_REV) {
        switch (f->id) {
        case 1: return fl->rev_octets;
        case 2: return fl->rev_packets;
        case 6: return fl->rev_tcp_flags;
        case 152: return fl->rev_first_ms;
        default: return fl->rev_last_ms;
        }
    }
    switch (f->id) {
    case 8: return fm_flow_get_v4(fl->src);
    case 12: return fm_flow_get_v4(fl->dst);
    case 7: return fl->sport;
    case 11: return fl->dport;
    case 4: return fl->proto;
    case 6: return fl->tcp_flags;
    case 10: return fl->inif;
    case 14: return fl->outif;
    case 1: return fl->octets;
    case 2: return fl->packets;
    case 152: return fl->first_ms;
    case 153: return fl->last_ms;
    case 150: return fl->first_ms / 1000;
    case 151: return fl->last_ms / 1000;
    case 154: case 156: return ntp(fl->first_ms);
    case 155: case 157: return ntp(fl->last_ms);
    case 22: return (uint32_t)(fl->first_ms - boot); /* modulo 2^32, as routers wrap */
    case 21: return (uint32_t)(fl->last_ms - boot);
    case 161: return fl->last_ms - fl->first_ms;
    default: return 0;
    }
}

static void put_record(fm_encoder_t *e, cur_t *c, const etmpl_t *t, const fm_flow_t *fl)
{
    for (unsigned i = 0; i < t->n; i++) {
        const efield_t *f = &t->f[i];
        if (f->len == 16) {
            memcpy(c->b + c->w, f->id == 27 ? fl->src : fl->dst, 16);
            c->w += 16;
        } else {
            uint64_t v = field_value(e, f, fl);
            if (f->len < 8 && v >> (8 * f->len)) {
                v = (UINT64_C(1) << (8 * f->len)) - 1; /* saturate, never wrap counters */
            }
            put(c, v, f->len);
        }
    }
}

/* Template record: v9 and IPFIX share the layout but for options (scope count vs lengths). */
static void put_template(fm_encoder_t *e, cur_t *c, uint16_t tid, const etmpl_t *t, bool opt)
{
    put(c, tid, 2);
    if (opt && e->conf.version == 9) {
        put(c, t->scope * 4, 2);
        put(c, (t->n - t->scope) * 4, 2);
    } else {
        put(c, t->n, 2);
        if (opt) {
            put(c, t->scope, 2);
        }
    }
    for (unsigned i = 0; i < t->n; i++) {
        put(c, t->f[i].id | (t->f[i].pen ? 0x8000 : 0), 2);
        put(c, t->f[i].len, 2);
        if (t->f[i].pen) {
            put(c, t->f[i].pen, 4);
        }
    }
}

static void set_len(cur_t *c, size_t start)
{
    c->b[start + 2] = (uint8_t)((c->w - start) >> 8);
    c->b[start + 3] = (uint8_t)(c->w - start);
}

/* Template sets plus the options record; @return options data records written. */
static uint32_t put_templates(fm_encoder_t *e, cur_t *c, uint64_t now_ms)
{
    bool v9 = e->conf.version == 9;
    size_t s = c->w;
    put(c, v9 ? 0 : 2, 2);
    put(c, 0, 2);
    put_template(e, c, e->conf.template_id, &e->data[0], false);
    put_template(e, c, e->conf.template_id + 1, &e->data[1], false);
    set_len(c, s);
    if (!e->with_opts) {
        return 0;
    }
    s = c->w;
    put(c, v9 ? 1 : 3, 2);
    put(c, 0, 2);
    put_template(e, c, e->conf.template_id + 2, &e->opts, true);
    while ((c->w - s) % 4) {
        put(c, 0, 1); /* v9 pads flowsets to 32 bits */
    }
    set_len(c, s);
    s = c->w;
    put(c, e->conf.template_id + 2, 2);
    put(c, 0, 2);
    uint32_t samp = e->conf.sampling > 1 ? e->conf.sampling : 1;
    if (v9) {
        put(c, 0, 4);
        put(c, samp, 4);
        put(c, 2, 1); /* random sampling */
    } else {
        put(c, e->conf.domain, 4);
        put(c, boot_ms(e, now_ms), 8);
        put(c, samp, 4);
    }
    set_len(c, s);
    return 1;
}

static bool skip_v5(const fm_flow_t *f)
{
    return f->af == FM_AF_INET6;
}

static int encode_v5(fm_encoder_t *e, const fm_flow_t *flows, size_t n, uint64_t now_ms,
                     uint8_t *buf, size_t cap, size_t *len)
{
    size_t max = (e->conf.mtu < cap ? e->conf.mtu : cap);
    if (max < 24 + 48) {
        return FM_ENOSPC;
    }
    max = (max - 24) / 48;
    max = max > 30 ? 30 : max;
    cur_t c = {buf, 24};
    uint64_t boot = boot_ms(e, now_ms);
    size_t used = 0, count = 0;
    for (; used < n && count < max; used++) {
        const fm_flow_t *f = &flows[used];
        if (skip_v5(f)) {
            continue;
        }
        put(&c, fm_flow_get_v4(f->src), 4);
        put(&c, fm_flow_get_v4(f->dst), 4);
        put(&c, 0, 4);
        put(&c, f->inif > 0xffff ? 0xffff : f->inif, 2);
        put(&c, f->outif > 0xffff ? 0xffff : f->outif, 2);
        put(&c, f->packets > UINT32_MAX ? UINT32_MAX : f->packets, 4);
        put(&c, f->octets > UINT32_MAX ? UINT32_MAX : f->octets, 4);
        put(&c, (uint32_t)(f->first_ms - boot), 4);
        put(&c, (uint32_t)(f->last_ms - boot), 4);
        put(&c, f->sport, 2);
        put(&c, f->dport, 2);
        put(&c, 0, 1);
        put(&c, f->tcp_flags, 1);
        put(&c, f->proto, 1);
        memset(c.b + c.w, 0, 9); /* tos, src/dst AS, masks, pad */
        c.w += 9;
        count++;
    }
    cur_t h = {buf, 0};
    put(&h, 5, 2);
    put(&h, count, 2);
    put(&h, (uint32_t)(now_ms - boot), 4);
    put(&h, now_ms / 1000, 4);
    put(&h, (now_ms % 1000) * 1000000, 4);
    put(&h, e->seq, 4);
    put(&h, 0, 1);
    put(&h, e->conf.domain & 0xff, 1);
    uint32_t s = e->conf.sampling > 1 ? e->conf.sampling : 0;
    put(&h, s ? (1u << 14 | (s & 0x3fff)) : 0, 2);
    e->seq += (uint32_t)count;
    *len = c.w;
    return (int)used;
}

/* Data sets, one per run of records of the same family. */
static size_t put_data(fm_encoder_t *e, cur_t *c, const fm_flow_t *flows, size_t n, size_t max,
                       uint32_t *records)
{
    size_t used = 0, s = 0;
    int cur_af = -1;
    for (; used < n; used++) {
        int v6 = flows[used].af == FM_AF_INET6;
        const etmpl_t *t = &e->data[v6];
        size_t need = t->reclen + (v6 != cur_af ? 4 : 0);
        if (c->w + need > max) {
            break;
        }
        if (v6 != cur_af) {
            if (cur_af >= 0) {
                set_len(c, s);
            }
            s = c->w;
            put(c, e->conf.template_id + (unsigned)v6, 2);
            put(c, 0, 2);
            cur_af = v6;
        }
        put_record(e, c, t, &flows[used]);
        (*records)++;
    }
    if (cur_af >= 0) {
        set_len(c, s);
    }
    return used;
}

int fm_encoder_datagram(fm_encoder_t *e, const fm_flow_t *flows, size_t n, uint64_t now_ms,
                        uint8_t *buf, size_t cap, size_t *len)
{
    if (e->conf.version == 5) {
        return encode_v5(e, flows, n, now_ms, buf, cap, len);
    }
    bool v9 = e->conf.version == 9;
    size_t hdr = v9 ? 20 : 16;
    size_t max = e->conf.mtu < cap ? e->conf.mtu : cap;
    if (max < hdr + 512) {
        return FM_ENOSPC;
    }
    uint64_t boot = boot_ms(e, now_ms);
    cur_t c = {buf, hdr};
    uint32_t records = 0;
    bool tmpl = e->force_templates ||
                (e->conf.template_every && e->datagrams % e->conf.template_every == 0);
    if (tmpl) {
        records += put_templates(e, &c, now_ms);
        e->force_templates = false;
    }
    size_t used = put_data(e, &c, flows, n, max, &records);
    cur_t h = {buf, 0};
    put(&h, e->conf.version, 2);
    if (v9) {
        put(&h, records + (tmpl ? 2u + e->with_opts : 0u), 2); /* record count incl. templates */
        put(&h, (uint32_t)(now_ms - boot), 4);
        put(&h, now_ms / 1000, 4);
        put(&h, e->seq++, 4);
    } else {
        put(&h, c.w, 2);
        put(&h, now_ms / 1000, 4);
        put(&h, e->seq, 4);
        e->seq += records;
    }
    put(&h, e->conf.domain, 4);
    e->datagrams++;
    *len = c.w;
    return (int)used;
}
