/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Template table shared by the v9 and IPFIX decoders, keyed by (observation domain, template
 * id), bounded by max_templates per exporter, with the UDP template lifetime applied lazily on
 * lookup and by a sweep at most once a minute.  Also maps v9 field types / IPFIX information
 * elements to the slots of fm__raw_t (RFC 3954 §8 and the IANA IPFIX registry agree on the
 * numbers used here).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "decode/decode_int.h"
#include "util/err.h"
#include "util/mem.h"

#define NBUCKETS 1024
#define SWEEP_MS 60000

static uint32_t bucket_of(const fm_decoder_t *d, uint32_t domain, uint16_t tid)
{
    uint32_t h = domain * 0x9e3779b1u ^ tid * 0x85ebca6bu;
    return (h ^ h >> 15) & (d->nbuckets - 1);
}

int fm__tmpl_init(fm_decoder_t *d)
{
    d->nbuckets = NBUCKETS;
    d->buckets = calloc(NBUCKETS, sizeof(*d->buckets));
    return d->buckets ? 0 : FM_ENOMEM;
}

void fm__tmpl_fini(fm_decoder_t *d)
{
    for (uint32_t i = 0; d->buckets && i < d->nbuckets; i++) {
        fm__tmpl_t *t = d->buckets[i];
        while (t) {
            fm__tmpl_t *next = t->next;
            free(t);
            t = next;
        }
    }
    free(d->buckets);
    d->buckets = NULL;
    if (d->conf.templates_total) {
        *d->conf.templates_total -= d->stats.templates;
    }
    d->stats.templates = 0;
}

fm__tmpl_t *fm__tmpl_alloc(uint16_t nfields)
{
    /* fields, padded to 8 bytes, then the compiled plan (fm__tmpl_ops): one allocation */
    size_t fields = ((size_t)nfields * sizeof(fm__field_t) + 7) / 8 * 8;
    fm__tmpl_t *t = calloc(1, sizeof(*t) + fields + (size_t)nfields * sizeof(fm__op_t));
    if (t) {
        t->nfields = nfields;
    }
    return t;
}

static bool expired(const fm_decoder_t *d, const fm__tmpl_t *t, uint64_t now_ms)
{
    return d->conf.template_timeout_ms && now_ms > t->refresh_ms &&
           now_ms - t->refresh_ms > d->conf.template_timeout_ms;
}

/* An IPFIX template leaving this table (or replaced) may stay in libfixbuf's session; ipfix.c
 * recycles the session when these pass a limit. */
static void gone(fm_decoder_t *d, const fm__tmpl_t *t)
{
    if (t->version == 10) {
        d->fix_dead++;
    }
}

/* Unlink *pp.  An IPFIX template stays in libfixbuf's session on purpose: removing it there
 * (fbSessionRemoveTemplate) left the fBuf's cached external template, looked up by id,
 * dangling, and the next set with that id crashed inside libfixbuf (fuzz_decode); libfixbuf
 * 2.4 has no call to drop that cache.  This table stays the authority (data is decoded by its
 * compiled plans).  What libfixbuf keeps beyond this table is counted (gone()) and bounded by
 * replacing its whole session (session_bound() in ipfix.c). */
static void unlink_at(fm_decoder_t *d, fm__tmpl_t **pp)
{
    fm__tmpl_t *t = *pp;
    *pp = t->next;
    gone(d, t);
    free(t);
    d->stats.templates--;
    if (d->conf.templates_total) {
        (*d->conf.templates_total)--;
    }
}

fm__tmpl_t *fm__tmpl_find(fm_decoder_t *d, uint8_t version, uint32_t domain, uint16_t tid,
                          uint64_t now_ms)
{
    fm__tmpl_t **pp = &d->buckets[bucket_of(d, domain, tid)];
    for (; *pp; pp = &(*pp)->next) {
        fm__tmpl_t *t = *pp;
        if (t->domain == domain && t->tid == tid && t->version == version) {
            if (expired(d, t, now_ms)) {
                unlink_at(d, pp);
                d->stats.template_timeouts++;
                return NULL;
            }
            return t;
        }
    }
    return NULL;
}

int fm__tmpl_put(fm_decoder_t *d, fm__tmpl_t *t)
{
    fm__tmpl_t **pp = &d->buckets[bucket_of(d, t->domain, t->tid)];
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->domain == t->domain && (*pp)->tid == t->tid && (*pp)->version == t->version) {
            t->next = (*pp)->next;
            gone(d, *pp);
            free(*pp);
            *pp = t;
            return 0;
        }
    }
    uint64_t *total = d->conf.templates_total;
    if (d->stats.templates >= d->conf.max_templates ||
        (total && d->conf.max_templates_total && *total >= d->conf.max_templates_total)) {
        free(t);
        return FM_ELIMIT;
    }
    t->next = NULL;
    *pp = t;
    d->stats.templates++;
    if (total) {
        (*total)++;
    }
    return 0;
}

bool fm__tmpl_remove(fm_decoder_t *d, uint8_t version, uint32_t domain, uint16_t tid)
{
    fm__tmpl_t **pp = &d->buckets[bucket_of(d, domain, tid)];
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->domain == domain && (*pp)->tid == tid && (*pp)->version == version) {
            unlink_at(d, pp);
            return true;
        }
    }
    return false;
}

void fm__tmpl_remove_domain(fm_decoder_t *d, uint8_t version, uint32_t domain, int options)
{
    for (uint32_t i = 0; i < d->nbuckets; i++) {
        fm__tmpl_t **pp = &d->buckets[i];
        while (*pp) {
            if ((*pp)->domain == domain && (*pp)->version == version &&
                (options < 0 || (*pp)->options == options)) {
                unlink_at(d, pp);
            } else {
                pp = &(*pp)->next;
            }
        }
    }
}

void fm__tmpl_sweep(fm_decoder_t *d, uint64_t now_ms)
{
    if (!d->conf.template_timeout_ms || now_ms < d->next_sweep_ms) {
        return;
    }
    d->next_sweep_ms = now_ms + SWEEP_MS;
    for (uint32_t i = 0; i < d->nbuckets; i++) {
        fm__tmpl_t **pp = &d->buckets[i];
        while (*pp) {
            if (expired(d, *pp, now_ms)) {
                unlink_at(d, pp);
                d->stats.template_timeouts++;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
}

static uint8_t slot_forward(uint16_t id)
{
    switch (id) {
    case 1: case 85: return FM__F_OCTETS;      /* octetDeltaCount, octetTotalCount */
    case 2: case 86: return FM__F_PACKETS;     /* packetDeltaCount, packetTotalCount */
    case 4: return FM__F_PROTO;
    case 6: return FM__F_TCPFLAGS;
    case 7: return FM__F_SPORT;
    case 8: return FM__F_SRC4;
    case 10: return FM__F_INIF;
    case 11: return FM__F_DPORT;
    case 12: return FM__F_DST4;
    case 14: return FM__F_OUTIF;
    case 21: return FM__F_LAST_UP;             /* flowEndSysUpTime / LAST_SWITCHED */
    case 22: return FM__F_FIRST_UP;
    case 27: return FM__F_SRC6;
    case 28: return FM__F_DST6;
    case 34: return FM__F_SAMP_INT;            /* samplingInterval */
    case 50: return FM__F_SAMP_RAND;           /* samplerRandomInterval */
    case 60: return FM__F_IPVER;
    case 150: return FM__F_FIRST_S;
    case 151: return FM__F_LAST_S;
    case 152: return FM__F_FIRST_MS;
    case 153: return FM__F_LAST_MS;
    case 154: return FM__F_FIRST_US;
    case 155: return FM__F_LAST_US;
    case 156: return FM__F_FIRST_NS;
    case 157: return FM__F_LAST_NS;
    case 158: return FM__F_FIRST_DUS;          /* flowStartDeltaMicroseconds */
    case 159: return FM__F_LAST_DUS;           /* flowEndDeltaMicroseconds */
    case 160: return FM__F_INIT_MS;            /* systemInitTimeMilliseconds */
    case 161: return FM__F_DUR_MS;
    case 162: return FM__F_DUR_US;
    case 305: return FM__F_SAMP_PKT_INT;
    case 306: return FM__F_SAMP_PKT_SPACE;
    case 309: return FM__F_SAMP_SIZE;
    case 310: return FM__F_SAMP_POP;
    case 311: return FM__F_SAMP_PROB;
    default: return FM__F_SKIP;
    }
}

uint8_t fm__field_slot(uint32_t pen, uint16_t id)
{
    if (pen == 0) {
        return slot_forward(id);
    }
    if (pen != FM__PEN_REVERSE) {
        return FM__F_SKIP; /* other enterprises' elements are skipped by length */
    }
    switch (id) {
    case 1: case 85: return FM__F_REV_OCTETS;
    case 2: case 86: return FM__F_REV_PACKETS;
    case 6: return FM__F_REV_TCPFLAGS;
    case 152: return FM__F_REV_FIRST_MS;
    case 153: return FM__F_REV_LAST_MS;
    default: return FM__F_SKIP;
    }
}

/* An unsigned big-endian value; of a field longer than 8 bytes the low-order (last) 8, as
 * libfixbuf truncates. */
static uint64_t be_uint(const uint8_t *p, uint16_t len)
{
    uint64_t v = 0;
    if (len > 8) {
        p += len - 8;
        len = 8;
    }
    for (uint16_t i = 0; i < len; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static void store_addr(uint8_t dst[16], const uint8_t *p, uint16_t len)
{
    if (len == 16) {
        memcpy(dst, p, 16);
    }
}

void fm__field_store(fm__raw_t *r, uint8_t slot, const uint8_t *p, uint16_t len)
{
    uint64_t v;
    switch (slot) {
    case FM__F_SRC6: store_addr(r->src6, p, len); return;
    case FM__F_DST6: store_addr(r->dst6, p, len); return;
    case FM__F_SAMP_PROB: {
        if (len == 8) {
            v = be_uint(p, 8);
            memcpy(&r->samp_prob, &v, 8);
        } else if (len == 4) {
            uint32_t u = (uint32_t)be_uint(p, 4);
            float fl;
            memcpy(&fl, &u, 4);
            r->samp_prob = fl;
        }
        return;
    }
    default: break;
    }
    v = be_uint(p, len);
    switch (slot) {
    case FM__F_SRC4: r->src4 = (uint32_t)v; break;
    case FM__F_DST4: r->dst4 = (uint32_t)v; break;
    case FM__F_SPORT: r->sport = (uint16_t)v; break;
    case FM__F_DPORT: r->dport = (uint16_t)v; break;
    case FM__F_PROTO: r->proto = (uint8_t)v; break;
    case FM__F_TCPFLAGS: r->tcp_flags = (uint16_t)v; break;
    case FM__F_INIF: r->inif = (uint32_t)v; break;
    case FM__F_OUTIF: r->outif = (uint32_t)v; break;
    case FM__F_OCTETS: r->octets = v; break;
    case FM__F_PACKETS: r->packets = v; break;
    case FM__F_REV_OCTETS: r->rev_octets = v; break;
    case FM__F_REV_PACKETS: r->rev_packets = v; break;
    case FM__F_REV_TCPFLAGS: r->rev_tcp_flags = (uint16_t)v; break;
    case FM__F_FIRST_UP: r->first_up = (uint32_t)v; break;
    case FM__F_LAST_UP: r->last_up = (uint32_t)v; break;
    case FM__F_FIRST_S: r->first_s = (uint32_t)v; break;
    case FM__F_LAST_S: r->last_s = (uint32_t)v; break;
    case FM__F_FIRST_MS: r->first_ms = v; break;
    case FM__F_LAST_MS: r->last_ms = v; break;
    case FM__F_FIRST_US: r->first_us = v; break;
    case FM__F_LAST_US: r->last_us = v; break;
    case FM__F_FIRST_NS: r->first_ns = v; break;
    case FM__F_LAST_NS: r->last_ns = v; break;
    case FM__F_REV_FIRST_MS: r->rev_first_ms = v; break;
    case FM__F_REV_LAST_MS: r->rev_last_ms = v; break;
    case FM__F_INIT_MS: r->init_ms = v; break;
    case FM__F_DUR_MS: r->dur_ms = (uint32_t)v; break;
    case FM__F_DUR_US: r->dur_us = (uint32_t)v; break;
    case FM__F_FIRST_DUS: r->first_dus = (uint32_t)v; break;
    case FM__F_LAST_DUS: r->last_dus = (uint32_t)v; break;
    case FM__F_SAMP_INT: r->samp_int = (uint32_t)v; break;
    case FM__F_SAMP_RAND: r->samp_rand = (uint32_t)v; break;
    case FM__F_SAMP_PKT_INT: r->samp_pkt_int = (uint32_t)v; break;
    case FM__F_SAMP_PKT_SPACE: r->samp_pkt_space = (uint32_t)v; break;
    case FM__F_SAMP_SIZE: r->samp_size = (uint32_t)v; break;
    case FM__F_SAMP_POP: r->samp_pop = (uint32_t)v; break;
    case FM__F_IPVER: r->ipver = (uint8_t)v; break;
    default: break;
    }
}
