/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What v5, v9 and IPFIX share, below both the dispatcher (decode.c) and the protocol decoders:
 * per-domain state and sequence accounting, record batching towards the sink, sampling and the
 * timestamp rules of the record finisher (DESIGN §3).  Calls nothing above it: the sink is the
 * callback the dispatcher was given.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode_int.h"
#include "util/err.h"

#define NTP_UNIX_OFFSET UINT64_C(2208988800) /* seconds from 1900 to 1970 (RFC 7011 §6.1.9) */

int fm__decode_domain(fm_decoder_t *d, uint32_t id, uint8_t version, fm__dom_t **out)
{
    if (d->last_dom < d->ndoms && d->doms[d->last_dom].id == id &&
        d->doms[d->last_dom].version == version) {
        *out = &d->doms[d->last_dom];
        return 0;
    }
    for (uint32_t i = 0; i < d->ndoms; i++) {
        if (d->doms[i].id == id && d->doms[i].version == version) {
            d->last_dom = i;
            *out = &d->doms[i];
            return 0;
        }
    }
    if (d->ndoms >= d->conf.max_domains) {
        return FM_ELIMIT;
    }
    if (d->ndoms == d->capdoms) {
        uint32_t cap = d->capdoms ? d->capdoms * 2 : 4;
        fm__dom_t *n = realloc(d->doms, (size_t)cap * sizeof(*n));
        if (!n) {
            return FM_ENOMEM;
        }
        d->doms = n;
        d->capdoms = cap;
    }
    fm__dom_t *dom = &d->doms[d->ndoms];
    memset(dom, 0, sizeof(*dom));
    dom->id = id;
    dom->version = version;
    dom->sampling = 1;
    d->last_dom = d->ndoms++;
    d->stats.domains = d->ndoms;
    *out = dom;
    return 0;
}

void fm__decode_seq(fm_decoder_t *d, fm__dom_t *dom, uint32_t seq, uint32_t advance)
{
    if (dom->seq_valid && seq != dom->seq_next) {
        uint32_t diff = seq - dom->seq_next; /* modulo 2^32: wrap is not a gap */
        if (diff < UINT32_C(0x80000000)) {
            d->stats.seq_gaps++;
            d->stats.seq_lost += diff;
            fm_log_rl(&d->rl, LOG_DEBUG,
                      "decode, exporter %u domain %u, sequence gap: expected %u got %u",
                      d->exporter, dom->id, dom->seq_next, seq);
        }
        /* A backwards jump is reordering or an exporter restart: re-synchronise silently. */
    }
    dom->seq_next = seq + advance;
    dom->seq_valid = true;
}

void fm__decode_flush(fm_decoder_t *d)
{
    if (d->nbatch) {
        d->stats.records += d->nbatch;
        d->sink(d->ctx, d->batch, d->nbatch);
        d->nbatch = 0;
    }
}

/* Move a span ending after hi back to end at the export time, keeping its duration. */
static bool clamp_span(uint64_t export_ms, uint64_t hi, uint64_t *first, uint64_t *last)
{
    if (*last <= hi && *first <= hi) {
        return false;
    }
    uint64_t dur = *last >= *first ? *last - *first : 0;
    *last = export_ms;
    *first = dur <= export_ms ? export_ms - dur : 0;
    return true;
}

/* Keep a record's times at most FM__DECODE_FUTURE_MS after the export time. */
static void clamp_times(fm_decoder_t *d, fm_flow_t *f)
{
    uint64_t hi = d->export_ms + FM__DECODE_FUTURE_MS;
    bool clamped = clamp_span(d->export_ms, hi, &f->first_ms, &f->last_ms);
    clamped |= clamp_span(d->export_ms, hi, &f->rev_first_ms, &f->rev_last_ms);
    if (clamped) {
        d->stats.time_clamped++;
        fm_log_rl(&d->rl, LOG_INFO, "decode, exporter %u domain %u, record ends more than "
                  "%u s after its export time: clamped to it", d->exporter, f->domain,
                  FM__DECODE_FUTURE_MS / 1000);
    }
}

void fm__decode_commit(fm_decoder_t *d)
{
    clamp_times(d, &d->batch[d->nbatch]);
    if (++d->nbatch == FM__DECODE_BATCH) {
        fm__decode_flush(d);
    }
}

void fm__decode_emit(fm_decoder_t *d, const fm_flow_t *f)
{
    *fm__decode_slot(d) = *f;
    fm__decode_commit(d);
}

uint32_t fm__decode_sampling(const fm__raw_t *r, uint64_t mask)
{
    uint64_t v = 0;
    if ((mask & FM__M(FM__F_SAMP_INT)) && r->samp_int) {
        v = r->samp_int;
    } else if ((mask & FM__M(FM__F_SAMP_RAND)) && r->samp_rand) {
        v = r->samp_rand;
    } else if ((mask & FM__M(FM__F_SAMP_PKT_INT)) && r->samp_pkt_int) {
        /* RFC 5477: select `interval` packets, then skip `space`. */
        v = ((uint64_t)r->samp_pkt_int + r->samp_pkt_space) / r->samp_pkt_int;
    } else if ((mask & FM__M(FM__F_SAMP_SIZE)) && r->samp_size) {
        v = r->samp_pop / r->samp_size;
    } else if ((mask & FM__M(FM__F_SAMP_PROB)) && r->samp_prob > 0 && r->samp_prob <= 1) {
        v = (uint64_t)llround(1.0 / r->samp_prob);
    }
    if (v == 0) {
        return 0; /* no sampling information in this record */
    }
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static uint64_t ntp_to_ms(uint64_t ntp)
{
    uint64_t sec = ntp >> 32;
    uint64_t ms = ((ntp & 0xffffffffu) * 1000) >> 32;
    return sec >= NTP_UNIX_OFFSET ? (sec - NTP_UNIX_OFFSET) * 1000 + ms : 0;
}

/* IPFIX flowStart/EndSysUpTime without systemInitTimeMilliseconds: the absolute times are not
 * known, but the span is: the flow is taken to end at the export time (as a record without
 * times), and to start end - start earlier.  A start after the end (clock skew) gives 0. */
static uint64_t uptime_no_init(const fm__raw_t *r, uint64_t mask, int end, uint64_t export_ms)
{
    if (end || !(mask & FM__M(FM__F_LAST_UP))) {
        return export_ms;
    }
    uint32_t span = r->last_up - r->first_up;
    if (span >= UINT32_C(0x80000000)) {
        span = 0;
    }
    return export_ms >= span ? export_ms - span : 0;
}

/* One timestamp from whichever encoding the template carries (ms > µs > ns > s > delta µs >
 * uptime).  @return false if the template has none. */
static bool pick_time(const fm__dom_t *dom, const fm__raw_t *r, uint64_t mask, int end,
                      uint64_t export_ms, uint32_t sys_uptime, uint64_t *out)
{
    if (mask & FM__M(end ? FM__F_LAST_MS : FM__F_FIRST_MS)) {
        *out = end ? r->last_ms : r->first_ms;
    } else if (mask & FM__M(end ? FM__F_LAST_US : FM__F_FIRST_US)) {
        *out = ntp_to_ms(end ? r->last_us : r->first_us);
    } else if (mask & FM__M(end ? FM__F_LAST_NS : FM__F_FIRST_NS)) {
        *out = ntp_to_ms(end ? r->last_ns : r->first_ns);
    } else if (mask & FM__M(end ? FM__F_LAST_S : FM__F_FIRST_S)) {
        *out = (uint64_t)(end ? r->last_s : r->first_s) * 1000;
    } else if (mask & FM__M(end ? FM__F_LAST_DUS : FM__F_FIRST_DUS)) {
        /* flowStart/EndDeltaMicroseconds (IE 158/159): µs before the export time */
        uint64_t ago_us = end ? r->last_dus : r->first_dus, exp_us = export_ms * 1000;
        *out = exp_us >= ago_us ? (exp_us - ago_us) / 1000 : 0;
    } else if (mask & FM__M(end ? FM__F_LAST_UP : FM__F_FIRST_UP)) {
        uint32_t up = end ? r->last_up : r->first_up;
        if (dom->version == 10) {
            uint64_t init = (mask & FM__M(FM__F_INIT_MS)) ? r->init_ms : dom->init_ms;
            *out = init ? init + up : uptime_no_init(r, mask, end, export_ms);
        } else {
            *out = fm__uptime_ms(export_ms, sys_uptime, up);
        }
    } else {
        return false;
    }
    return true;
}

static void finish_times(const fm__dom_t *dom, const fm__raw_t *r, uint64_t mask,
                         uint64_t export_ms, uint32_t sys_uptime, fm_flow_t *f)
{
    uint64_t dur = 0;
    bool has_dur = true;
    if (mask & FM__M(FM__F_DUR_MS)) {
        dur = r->dur_ms;
    } else if (mask & FM__M(FM__F_DUR_US)) {
        dur = r->dur_us / 1000;
    } else {
        has_dur = false;
    }
    bool hf = pick_time(dom, r, mask, 0, export_ms, sys_uptime, &f->first_ms);
    bool hl = pick_time(dom, r, mask, 1, export_ms, sys_uptime, &f->last_ms);
    if (hf && !hl) {
        f->last_ms = f->first_ms + dur;
    } else if (!hf && hl) {
        f->first_ms = f->last_ms >= dur ? f->last_ms - dur : 0;
    } else if (!hf && !hl) {
        /* No times at all: the export time is the best guess of the end. */
        f->last_ms = export_ms;
        f->first_ms = export_ms >= dur ? export_ms - dur : 0;
    } else if (has_dur && f->first_ms == f->last_ms) {
        f->last_ms = f->first_ms + dur;
    }
    if (f->last_ms < f->first_ms) {
        f->last_ms = f->first_ms;
    }
}

void fm__decode_finish(const fm_decoder_t *d, const fm__dom_t *dom, const fm__raw_t *r,
                       uint64_t mask, uint64_t export_ms, uint32_t sys_uptime, fm_flow_t *f)
{
    fm__zero(f, sizeof(*f));
    f->exporter = d->exporter;
    f->domain = dom->id;
    f->records = 1;
    f->fwd_first = 1;
    if ((mask & (FM__M(FM__F_SRC6) | FM__M(FM__F_DST6))) &&
        !(mask & (FM__M(FM__F_SRC4) | FM__M(FM__F_DST4)))) {
        f->af = FM_AF_INET6;
        memcpy(f->src, r->src6, 16);
        memcpy(f->dst, r->dst6, 16);
    } else {
        f->af = FM_AF_INET;
        fm__set_v4(f->src, r->src4);
        fm__set_v4(f->dst, r->dst4);
    }
    f->sport = r->sport;
    f->dport = r->dport;
    f->proto = r->proto;
    f->tcp_flags = (uint8_t)r->tcp_flags;
    f->inif = r->inif;
    f->outif = r->outif;
    f->packets = r->packets;
    f->octets = r->octets;
    const uint64_t samp = FM__M(FM__F_SAMP_INT) | FM__M(FM__F_SAMP_RAND) |
                          FM__M(FM__F_SAMP_PKT_INT) | FM__M(FM__F_SAMP_SIZE) |
                          FM__M(FM__F_SAMP_PROB);
    uint32_t s = (mask & samp) ? fm__decode_sampling(r, mask) : 0;
    f->sampling = s ? s : (dom->sampling ? dom->sampling : 1);
    finish_times(dom, r, mask, export_ms, sys_uptime, f);
    if (mask & (FM__M(FM__F_REV_OCTETS) | FM__M(FM__F_REV_PACKETS))) {
        f->flags |= FM_FLOW_BIFLOW;
        f->rev_packets = r->rev_packets;
        f->rev_octets = r->rev_octets;
        f->rev_tcp_flags = (uint8_t)r->rev_tcp_flags;
        if (r->rev_packets) {
            bool sep = (mask & FM__M(FM__F_REV_FIRST_MS)) && (mask & FM__M(FM__F_REV_LAST_MS));
            f->rev_first_ms = sep ? r->rev_first_ms : f->first_ms;
            f->rev_last_ms = sep ? r->rev_last_ms : f->last_ms;
        }
    }
}
