/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NetFlow v5: a 24-byte header and `count` fixed 48-byte records (Cisco's published layout).
 * The engine id is the domain; sampling comes from the header (2-bit mode, 14-bit interval);
 * times are SysUptime-relative and converted with unix_secs/unix_nsecs and sys_uptime, modulo
 * 2^32 so that an uptime wrap (49.7 days) between a packet and its export is harmless.
 * flow_sequence counts flows, so losses are counted in records.
 */
#include "config.h"

#include <string.h>

#include "decode/decode_int.h"
#include "util/err.h"

#define V5_HDR 24
#define V5_REC 48

static void v5_record(fm_decoder_t *d, const fm__dom_t *dom, const uint8_t *p,
                      uint64_t export_ms, uint32_t uptime, uint32_t sampling)
{
    fm_flow_t *f = fm__decode_slot(d); /* written in place: no copy per record */
    fm__zero(f, sizeof(*f));
    f->exporter = d->exporter;
    f->domain = dom->id;
    f->records = 1;
    f->fwd_first = 1;
    f->af = FM_AF_INET;
    fm__set_v4(f->src, fm__be32(p));
    fm__set_v4(f->dst, fm__be32(p + 4));
    f->inif = fm__be16(p + 12);
    f->outif = fm__be16(p + 14);
    f->packets = fm__be32(p + 16);
    f->octets = fm__be32(p + 20);
    f->first_ms = fm__uptime_ms(export_ms, uptime, fm__be32(p + 24));
    f->last_ms = fm__uptime_ms(export_ms, uptime, fm__be32(p + 28));
    if (f->last_ms < f->first_ms) {
        f->last_ms = f->first_ms;
    }
    f->sport = fm__be16(p + 32);
    f->dport = fm__be16(p + 34);
    f->tcp_flags = p[37];
    f->proto = p[38];
    f->sampling = sampling;
    fm__decode_commit(d);
}

int fm__decode_v5(fm_decoder_t *d, const uint8_t *buf, size_t len)
{
    if (len < V5_HDR) {
        return FM_ETRUNC;
    }
    uint16_t count = fm__be16(buf + 2);
    if (count == 0) {
        return FM_EFORMAT;
    }
    if ((size_t)count * V5_REC > len - V5_HDR) {
        return FM_ETRUNC;
    }
    uint32_t uptime = fm__be32(buf + 4);
    uint64_t export_ms = (uint64_t)fm__be32(buf + 8) * 1000 + fm__be32(buf + 12) / 1000000;
    uint32_t seq = fm__be32(buf + 16);
    uint8_t engine_id = buf[21];
    uint32_t sampling = fm__be16(buf + 22) & 0x3fff;
    fm__dom_t *dom;
    int rc = fm__decode_domain(d, engine_id, 5, &dom);
    if (rc < 0) {
        return rc;
    }
    fm__decode_seq(d, dom, seq, count);
    d->export_ms = export_ms;
    dom->last_uptime = uptime;
    dom->sampling = sampling ? sampling : 1;
    for (uint16_t i = 0; i < count; i++) {
        v5_record(d, dom, buf + V5_HDR + (size_t)i * V5_REC, export_ms, uptime, dom->sampling);
    }
    return 0;
}
