/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NetFlow v9 (RFC 3954) by hand: libfixbuf's v9 translator only runs inside its own collector
 * I/O path.  Templates and options templates are kept per source id in the shared table; data
 * flowsets of unknown templates are counted and skipped; options records set the source id's
 * sampling interval.  Every length is checked against the bytes left.  package_sequence counts
 * export datagrams (RFC 3954 §5.1), so losses are counted in datagrams.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "decode/decode_int.h"
#include "util/err.h"

#define V9_HDR 20

/* Parse `n` (type, length) pairs at p into t's fields.  @return record length or an error. */
static int v9_fields(fm__tmpl_t *t, uint16_t first, const uint8_t *p, uint16_t n, bool scope)
{
    uint32_t reclen = 0;
    for (uint16_t i = 0; i < n; i++) {
        uint16_t type = fm__be16(p + 4 * i), flen = fm__be16(p + 4 * i + 2);
        fm__field_t *f = &t->fields[first + i];
        f->len = flen;
        /* Scope fields (system, interface, ...) describe the options record, not a flow. */
        f->slot = scope ? FM__F_SKIP : fm__field_slot(0, type);
        if (f->slot != FM__F_SKIP) {
            t->mask |= FM__M(f->slot);
        }
        reclen += flen;
    }
    return (int)reclen;
}

static int v9_put(fm_decoder_t *d, fm__tmpl_t *t, uint32_t reclen, uint64_t now_ms)
{
    if (reclen == 0 || reclen > 65535) {
        free(t);
        return FM_EFORMAT; /* a zero-length record would never advance the data set */
    }
    t->min_len = reclen;
    t->refresh_ms = now_ms;
    fm__plan_compile(t, false); /* v9 has always let the last of repeated fields win */
    return fm__tmpl_put(d, t);
}

/* One template record; @return its length in bytes or an error. */
static int v9_template(fm_decoder_t *d, uint32_t domain, const uint8_t *p, size_t left,
                       uint64_t now_ms)
{
    uint16_t tid = fm__be16(p), n = fm__be16(p + 2);
    if (tid < 256 || n == 0) {
        return FM_EFORMAT;
    }
    if (n > FM__DECODE_MAX_FIELDS) {
        return FM_ELIMIT;
    }
    if (4 + (size_t)n * 4 > left) {
        return FM_ETRUNC;
    }
    fm__tmpl_t *t = fm__tmpl_alloc(n);
    if (!t) {
        return FM_ENOMEM;
    }
    t->domain = domain;
    t->tid = tid;
    t->version = 9;
    int rc = v9_put(d, t, (uint32_t)v9_fields(t, 0, p + 4, n, false), now_ms);
    return rc < 0 ? rc : 4 + n * 4;
}

static int v9_options_template(fm_decoder_t *d, uint32_t domain, const uint8_t *p,
                               size_t left, uint64_t now_ms)
{
    uint16_t tid = fm__be16(p), slen = fm__be16(p + 2), olen = fm__be16(p + 4);
    if (tid < 256 || slen % 4 || olen % 4 || slen + olen == 0) {
        return FM_EFORMAT;
    }
    uint32_t n = (uint32_t)(slen + olen) / 4;
    if (n > FM__DECODE_MAX_FIELDS) {
        return FM_ELIMIT;
    }
    if (6 + (size_t)slen + olen > left) {
        return FM_ETRUNC;
    }
    fm__tmpl_t *t = fm__tmpl_alloc((uint16_t)n);
    if (!t) {
        return FM_ENOMEM;
    }
    t->domain = domain;
    t->tid = tid;
    t->version = 9;
    t->options = 1;
    int reclen = v9_fields(t, 0, p + 6, slen / 4, true);
    reclen += v9_fields(t, slen / 4, p + 6 + slen, olen / 4, false);
    int rc = v9_put(d, t, (uint32_t)reclen, now_ms);
    return rc < 0 ? rc : 6 + slen + olen;
}

static int v9_template_set(fm_decoder_t *d, uint32_t domain, uint16_t sid, const uint8_t *p,
                           size_t len, uint64_t now_ms)
{
    size_t off = 0;
    size_t hdr = sid == 0 ? 4 : 6;
    while (len - off >= hdr) {
        int rc = sid == 0 ? v9_template(d, domain, p + off, len - off, now_ms)
                          : v9_options_template(d, domain, p + off, len - off, now_ms);
        if (rc < 0) {
            return rc;
        }
        off += (size_t)rc;
    }
    return 0; /* what is left is padding */
}

static void v9_record(fm_decoder_t *d, fm__dom_t *dom, const fm__tmpl_t *t, const uint8_t *p,
                      uint64_t export_ms, uint32_t uptime)
{
    fm__raw_t r;
    fm__plan_decode(t, p, &r);
    if (__builtin_expect(d->check != NULL, 0)) {
        fm__check_v9(d, t, p, &r);
    }
    if (t->options) {
        d->stats.options_records++;
        uint32_t s = fm__decode_sampling(&r, t->mask);
        if (s) {
            dom->sampling = s;
        }
        return;
    }
    fm__decode_finish(d, dom, &r, t->mask, export_ms, uptime, fm__decode_slot(d));
    fm__decode_commit(d);
}

static void v9_data_set(fm_decoder_t *d, fm__dom_t *dom, uint16_t sid, const uint8_t *p,
                        size_t len, uint64_t export_ms, uint32_t uptime, uint64_t now_ms)
{
    const fm__tmpl_t *t = fm__tmpl_find(d, 9, dom->id, sid, now_ms);
    if (!t) {
        d->stats.unknown_template++;
        fm_log_rl(&d->rl, LOG_DEBUG, "decode, exporter %u source id %u, template %u unknown, "
                  "flowset dropped", d->exporter, dom->id, sid);
        return;
    }
    for (size_t off = 0; len - off >= t->min_len; off += t->min_len) {
        v9_record(d, dom, t, p + off, export_ms, uptime);
    }
}

int fm__decode_v9(fm_decoder_t *d, const uint8_t *buf, size_t len, uint64_t recv_ms)
{
    if (len < V9_HDR) {
        return FM_ETRUNC;
    }
    uint32_t uptime = fm__be32(buf + 4);
    uint64_t export_ms = (uint64_t)fm__be32(buf + 8) * 1000;
    d->export_ms = export_ms;
    fm__dom_t *dom;
    int rc = fm__decode_domain(d, fm__be32(buf + 16), 9, &dom);
    if (rc < 0) {
        return rc;
    }
    fm__decode_seq(d, dom, fm__be32(buf + 12), 1);
    dom->last_uptime = uptime;
    size_t off = V9_HDR;
    while (off < len) {
        uint16_t sid, slen;
        int hrc = fm__set_header(buf, len, off, &sid, &slen);
        if (hrc < 0) {
            return hrc;
        }
        const uint8_t *body = buf + off + 4;
        if (sid <= 1) {
            rc = v9_template_set(d, dom->id, sid, body, slen - 4u, recv_ms);
            if (rc < 0) {
                return rc;
            }
        } else if (sid >= 256) {
            v9_data_set(d, dom, sid, body, slen - 4u, export_ms, uptime, recv_ms);
        } /* flowset ids 2..255 are reserved: skipped */
        off += slen;
    }
    return 0;
}
