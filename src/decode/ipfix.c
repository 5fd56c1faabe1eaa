/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPFIX (RFC 7011, RFC 5103 reverse elements).  libfixbuf 2.4 is the authority for templates:
 * every template record that passes the pre-scan below is handed to one fbSession per exporter
 * (connection-less collection mode, one fBuf, the message header setting the domain), and the
 * decode plan of the template is derived from the fbTemplate_t libfixbuf made of it (element
 * enterprise and number, length, repeated-element index).  Data records are then decoded
 * straight from the datagram by that compiled plan (plan.c), set by set in message order, so
 * that a template redefined inside a message applies from the next set on, with the options
 * flag and time fields of the template in force (issue 20 item 5).  libfixbuf's record
 * transcoding stays as the reference the plans are checked against (check.c, fuzz_decode_diff).
 *
 * Bounds on what libfixbuf holds (issue 20 item 1):
 *  - its session keeps every template it was given (we cannot remove one, see template.c), so
 *    templates that left our table are counted and, past max(256, live / 2), the whole session
 *    and fBuf are replaced by new ones (nothing cached in the old fBuf survives).  Nothing is
 *    given back to the new session: the live templates' plans are compiled already;
 *  - elements the information model does not know (other enterprises' and unassigned ones)
 *    would each be registered in the process-wide model for good; they reach libfixbuf as
 *    paddingOctets of the same length instead (we skip them anyway), so the model never grows
 *    and, read-only after set-up, is safe to share between threads.
 *
 * libfixbuf is not asked to judge hostile input.  The pre-scan walks the message first: every
 * set and template record is bounds-checked, template counts are limited (max_templates, field
 * count), zero-length records, reserved set ids and template ids < 256 are rejected, variable-
 * length fields are walked, data sets of unknown templates are dropped (and counted), template
 * withdrawals and the UDP template timeout are applied to our table (which stays the authority
 * on which templates are live: see unlink_at() in template.c).  Records before a malformed set
 * are still delivered.  The pre-scan also yields the record count that IPFIX sequence numbers
 * are defined on.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "decode/decode_int.h"
#include "decode/fixbuf.h"
#include "util/err.h"

#define IPFIX_HDR 16
#define IE_PADDING 210 /* paddingOctets: any length, mapped to nothing */
/* Session recycling: templates libfixbuf may hold beyond ours, at least this many... */
#define RECYCLE_MIN 256
/* ...or half our live templates. */
#define RECYCLE_FRACTION 2

void fm__ipfix_trim(fm_decoder_t *d)
{
    /* Safe at any time between datagrams: data is decoded by the plans in our table, and a
     * new session learns each template again when the exporter refreshes it (as after a
     * recycle).  Not while checking: the reference path reads through this session. */
    if (d->ipfix && !d->check) {
        fm__fix_free(d->ipfix);
        d->ipfix = NULL;
        d->fix_dead = 0;
    }
}

void fm__ipfix_free(fm_decoder_t *d)
{
    fm__fix_free(d->ipfix);
    d->ipfix = NULL;
}

/* Pre-scan state of one message. */
typedef struct {
    fm_decoder_t *d;
    fm__dom_t *dom;
    const uint8_t *hdr; /* the message header */
    uint64_t now;
    uint64_t export_ms;
    uint8_t *out;       /* the checked message (differential check only, else NULL) */
    size_t w;           /* bytes written to out */
    uint32_t records;   /* data + options records in the sets kept */
    bool unknown;       /* a set was dropped: the record count is incomplete */
} scan_t;

/* Parse (check only when t is NULL) one template record.  @return its length or an error. */
static int trec(const uint8_t *p, size_t left, uint16_t sid, fm__tmpl_t *t, uint16_t *tid_out,
                uint16_t *n_out)
{
    uint16_t tid = fm__be16(p), n = fm__be16(p + 2);
    *tid_out = tid;
    *n_out = n;
    if (n == 0) {
        return (tid >= 256 || tid == sid) ? 4 : FM_EFORMAT; /* withdrawal (RFC 7011 §8.1) */
    }
    if (tid < 256) {
        return FM_EFORMAT;
    }
    if (n > FM__DECODE_MAX_FIELDS) {
        return FM_ELIMIT;
    }
    size_t off = 4;
    uint16_t scope = 0;
    if (sid == 3) {
        if (left < 6) {
            return FM_ETRUNC;
        }
        scope = fm__be16(p + 4);
        if (scope == 0 || scope > n) {
            return FM_EFORMAT;
        }
        off = 6;
    }
    uint32_t min_len = 0;
    for (uint16_t i = 0; i < n; i++) {
        if (left - off < 4) {
            return FM_ETRUNC;
        }
        uint16_t id = fm__be16(p + off), flen = fm__be16(p + off + 2);
        uint32_t pen = 0;
        off += 4;
        if (id & 0x8000) {
            if (left - off < 4) {
                return FM_ETRUNC;
            }
            pen = fm__be32(p + off);
            id &= 0x7fff;
            off += 4;
        }
        min_len += flen == 65535 ? 1 : flen;
        if (t) {
            uint8_t slot = (id == 85 || id == 86 || i < scope) ? FM__F_SKIP : fm__field_slot(pen, id);
            t->fields[i] = (fm__field_t){.len = flen, .slot = slot};
            t->mask |= slot ? FM__M(slot) : 0;
            t->varlen |= flen == 65535;
        }
    }
    if (min_len == 0 || min_len > 65535) {
        return FM_EFORMAT; /* a zero-length record would never advance the data set */
    }
    if (t) {
        t->min_len = min_len;
        t->options = sid == 3;
    }
    return (int)off;
}

/* Copy a checked template record of rl bytes for libfixbuf: elements the information model
 * does not know become paddingOctets of the same length (see the top of this file).
 * @return the bytes written to out (at most rl). */
static size_t lib_trec(const uint8_t *p, size_t rl, uint16_t sid, uint8_t *out)
{
    size_t hdr = sid == 3 ? 6 : 4, w = hdr;
    memcpy(out, p, hdr);
    for (size_t off = hdr; off < rl;) {
        uint16_t id = fm__be16(p + off), flen = fm__be16(p + off + 2);
        uint32_t pen = 0;
        size_t fl = 4;
        if (id & 0x8000) {
            pen = fm__be32(p + off + 4);
            fl = 8;
        }
        if (fm__fix_known(id & 0x7fff, pen)) {
            memcpy(out + w, p + off, fl);
            w += fl;
        } else {
            out[w] = IE_PADDING >> 8;
            out[w + 1] = IE_PADDING & 0xff;
            out[w + 2] = (uint8_t)(flen >> 8);
            out[w + 3] = (uint8_t)flen;
            w += 4;
        }
        off += fl;
    }
    return w;
}

/* Is element (pen, id) one a record is read for?  Totals (85, 86) have no member in the
 * internal template (learn()). */
static bool reads(uint32_t pen, uint16_t id)
{
    return id != 85 && id != 86 && fm__field_slot(pen, id) != FM__F_SKIP;
}

/* Hand one checked template record (rl bytes at p, of set sid) to libfixbuf as a message of
 * its own, then compile t's plan from the fbTemplate_t libfixbuf made of it: the slot of every
 * element (scope fields too, as libfixbuf's transcoding fills them) and, like that
 * transcoding, only the first of repeated elements.  @return 0 or FM_EFORMAT. */
static int learn(scan_t *s, fm__tmpl_t *t, uint16_t sid, const uint8_t *p, size_t rl)
{
    struct fm__ipfix *x = s->d->ipfix;
    size_t mlen = IPFIX_HDR + 4 + rl;
    if (x->tcap < mlen) {
        uint8_t *n = realloc(x->tmsg, mlen);
        if (!n) {
            return FM_ENOMEM;
        }
        x->tmsg = n;
        x->tcap = mlen;
    }
    uint8_t *m = x->tmsg;
    memcpy(m, s->hdr, IPFIX_HDR);
    m[2] = (uint8_t)(mlen >> 8);
    m[3] = (uint8_t)mlen;
    m[IPFIX_HDR] = 0;
    m[IPFIX_HDR + 1] = (uint8_t)sid;
    m[IPFIX_HDR + 2] = (uint8_t)((4 + rl) >> 8);
    m[IPFIX_HDR + 3] = (uint8_t)(4 + rl);
    size_t wl = lib_trec(p, rl, sid, m + IPFIX_HDR + 4);
    mlen -= rl - wl;
    m[2] = (uint8_t)(mlen >> 8);
    m[3] = (uint8_t)mlen;
    m[IPFIX_HDR + 2] = (uint8_t)((4 + wl) >> 8);
    m[IPFIX_HDR + 3] = (uint8_t)(4 + wl);
    GError *err = NULL;
    uint16_t tid = 0;
    fBufSetBuffer(x->fbuf, m, mlen);
    if (fBufNextCollectionTemplate(x->fbuf, &tid, &err) ||
        !g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
        fm_log_rl(&s->d->rl, LOG_INFO, "decode, exporter %u odid %u, libfixbuf: %s",
                  s->d->exporter, s->dom->id, err ? err->message : "data in a template set");
        g_clear_error(&err);
        return FM_EFORMAT;
    }
    g_clear_error(&err);
    fbTemplate_t *ft = fbSessionGetTemplate(x->sess, FALSE, t->tid, &err);
    g_clear_error(&err);
    if (!ft || fbTemplateCountElements(ft) != t->nfields) {
        return FM_EFORMAT;
    }
    for (uint16_t i = 0; i < t->nfields; i++) {
        const fbInfoElement_t *ie = fbTemplateGetIndexedIE(ft, i);
        if (!ie || ie->len != t->fields[i].len) {
            return FM_EFORMAT;
        }
        /* later repeats are not read */
        bool skip = ie->midx != 0 || !reads(ie->ent, ie->num);
        t->fields[i].slot = skip ? FM__F_SKIP : fm__field_slot(ie->ent, ie->num);
        if (!skip && !fm__fix_len_fits(ie->len, ie->ref.canon->len)) {
            /* a 16-byte packet count is no count: the exporter is broken, and libfixbuf 3
             * refuses such templates too (test_overlong_element) */
            fm_log_rl(&s->d->rl, LOG_INFO, "decode, exporter %u odid %u, template %u: "
                      "element %u in %u bytes, longer than its type, refused",
                      s->d->exporter, s->dom->id, t->tid, ie->num, ie->len);
            return FM_EFORMAT;
        }
        if (t->fields[i].slot != FM__F_SKIP && ie->len == FB_IE_VARLEN) {
            /* libfixbuf 2.4 cannot transcode a variable-length encoding into a fixed member
             * and refuses the record; the plan follows, at template time */
            fm_log_rl(&s->d->rl, LOG_INFO, "decode, exporter %u odid %u, template %u: "
                      "element %u variable-length, refused", s->d->exporter, s->dom->id,
                      t->tid, ie->num);
            return FM_EFORMAT;
        }
    }
    fm__plan_compile(t, true);
    return 0;
}

/* Apply one checked template record; @return true if libfixbuf should see it. */
static int apply_trec(scan_t *s, const uint8_t *p, size_t left, uint16_t sid)
{
    uint16_t tid, n;
    if (n = fm__be16(p + 2), n == 0) {
        tid = fm__be16(p);
        /* Withdrawals are applied here, to our table and the session alike. */
        if (tid == sid) {
            fm__tmpl_remove_domain(s->d, 10, s->dom->id, sid == 3);
            s->d->stats.template_withdrawals++;
        } else if (fm__tmpl_remove(s->d, 10, s->dom->id, tid)) {
            s->d->stats.template_withdrawals++;
        }
        return 0;
    }
    fm__tmpl_t *t = fm__tmpl_alloc(n);
    if (!t) {
        return FM_ENOMEM;
    }
    int rl = trec(p, left, sid, t, &tid, &n);
    t->domain = s->dom->id;
    t->tid = tid;
    t->version = 10;
    t->refresh_ms = s->now;
    int rc = fm__tmpl_put(s->d, t);
    if (rc == 0 && (rc = learn(s, t, sid, p, (size_t)rl)) < 0) {
        fm__tmpl_remove(s->d, 10, s->dom->id, tid);
    }
    return rc < 0 ? rc : 1;
}

/* Write the header of the set being copied, or drop it if nothing was kept. */
static void close_set(scan_t *s, size_t hdr, uint16_t sid)
{
    if (s->w == hdr + 4) {
        s->w = hdr; /* nothing left for libfixbuf (withdrawals only) */
        return;
    }
    if (!s->out) {
        return;
    }
    s->out[hdr] = 0;
    s->out[hdr + 1] = (uint8_t)sid;
    s->out[hdr + 2] = (uint8_t)((s->w - hdr) >> 8);
    s->out[hdr + 3] = (uint8_t)(s->w - hdr);
}

static int template_set(scan_t *s, uint16_t sid, const uint8_t *body, size_t len)
{
    uint16_t tid, n;
    size_t end = 0;
    /* Check the whole set before applying any of it, so both template views stay equal. */
    while (len - end >= 4) {
        int rc = trec(body + end, len - end, sid, NULL, &tid, &n);
        if (rc < 0) {
            return rc;
        }
        end += (size_t)rc;
    }
    size_t hdr = s->w;
    int ret = 0;
    s->w += 4;
    for (size_t off = 0; off < end;) {
        int rl = trec(body + off, len - off, sid, NULL, &tid, &n);
        int keep = apply_trec(s, body + off, len - off, sid);
        if (keep < 0) {
            ret = keep; /* stop here; what was copied so far stays consistent */
            break;
        }
        if (keep) {
            if (s->out) {
                memcpy(s->out + s->w, body + off, (size_t)rl);
            }
            s->w += (size_t)rl;
        }
        off += (size_t)rl;
    }
    close_set(s, hdr, sid);
    return ret;
}

/* Count the records of a data set, walking variable-length fields (RFC 7011 §7). */
static int count_records(const fm__tmpl_t *t, const uint8_t *p, size_t len, uint32_t *count)
{
    if (!t->varlen) {
        *count = (uint32_t)(len / t->min_len);
        return 0;
    }
    size_t off = 0;
    uint32_t n = 0;
    while (len - off >= t->min_len) {
        for (uint16_t i = 0; i < t->nfields; i++) {
            size_t flen = t->fields[i].len;
            if (flen == 65535) {
                if (len - off < 1) {
                    return FM_ETRUNC;
                }
                flen = p[off++];
                if (flen == 255) {
                    if (len - off < 2) {
                        return FM_ETRUNC;
                    }
                    flen = fm__be16(p + off);
                    off += 2;
                }
            }
            if (flen > len - off) {
                return FM_ETRUNC;
            }
            off += flen;
        }
        n++;
    }
    *count = n;
    return 0;
}

static void options_record(fm_decoder_t *d, fm__dom_t *dom, const fm__raw_t *r, uint64_t mask)
{
    d->stats.options_records++;
    uint32_t samp = fm__decode_sampling(r, mask);
    if (samp) {
        dom->sampling = samp;
    }
    if ((mask & FM__M(FM__F_INIT_MS)) && r->init_ms) {
        dom->init_ms = r->init_ms;
    }
}

/* One decoded record, with the metadata of the template in force for its set. */
static void deliver(scan_t *s, const fm__tmpl_t *t, const fm__raw_t *r)
{
    if (__builtin_expect(s->d->check != NULL, 0)) {
        fm__check_ipfix_add(s->d, t, r);
    }
    if (t->options) {
        options_record(s->d, s->dom, r, t->mask);
        return;
    }
    fm__decode_finish(s->d, s->dom, r, t->mask, s->export_ms, 0, fm__decode_slot(s->d));
    fm__decode_commit(s->d);
}

static int data_set(scan_t *s, uint16_t sid, const uint8_t *set, size_t slen)
{
    const fm__tmpl_t *t = fm__tmpl_find(s->d, 10, s->dom->id, sid, s->now);
    if (!t) {
        s->d->stats.unknown_template++;
        s->unknown = true;
        fm_log_rl(&s->d->rl, LOG_DEBUG, "decode, exporter %u odid %u, template %u unknown, "
                  "set dropped", s->d->exporter, s->dom->id, sid);
        return 0;
    }
    uint32_t n = 0;
    const uint8_t *p = set + 4;
    size_t len = slen - 4;
    int rc = count_records(t, p, len, &n);
    if (rc < 0) {
        return rc;
    }
    s->records += n;
    /* A set with no whole record is padding; libfixbuf 2.4 may take it for a record of a
     * template's old definition and stop reading the message (test_padding_sets), so the
     * reference does not see it. */
    if (s->out && n > 0) {
        memcpy(s->out + s->w, set, slen);
        s->w += slen;
    }
    fm__raw_t r;
    if (!t->varlen) {
        for (uint32_t i = 0; i < n; i++, p += t->min_len) {
            fm__plan_decode(t, p, &r);
            deliver(s, t, &r);
        }
        return 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        size_t used = fm__plan_decode_var(t, p, len, &r); /* > 0: count_records walked it */
        p += used;
        len -= used;
        deliver(s, t, &r);
    }
    return 0;
}

static int prescan(scan_t *s, const uint8_t *buf, size_t len)
{
    if (s->out) {
        memcpy(s->out, buf, IPFIX_HDR);
    }
    s->w = IPFIX_HDR;
    for (size_t off = IPFIX_HDR; off < len;) {
        uint16_t sid, slen;
        int hrc = fm__set_header(buf, len, off, &sid, &slen);
        if (hrc < 0) {
            return hrc;
        }
        int rc;
        if (sid == 2 || sid == 3) {
            rc = template_set(s, sid, buf + off + 4, slen - 4u);
        } else if (sid >= 256) {
            rc = data_set(s, sid, buf + off, slen);
        } else {
            rc = FM_EFORMAT; /* set ids 0, 1 and 4..255 are not IPFIX sets */
        }
        if (rc < 0) {
            return rc;
        }
        off += slen;
    }
    return 0;
}

/* Bound libfixbuf's session (top of file): replace it when the templates it may hold beyond
 * ours pass the limit.  @return 0 or FM_ENOMEM (the old one is kept then). */
static int session_bound(fm_decoder_t *d)
{
    uint64_t limit = d->stats.templates / RECYCLE_FRACTION;
    if (d->fix_dead <= (limit > RECYCLE_MIN ? limit : RECYCLE_MIN)) {
        return 0;
    }
    struct fm__ipfix *n = fm__fix_new();
    if (!n) {
        return FM_ENOMEM;
    }
    fm__fix_free(d->ipfix);
    d->ipfix = n;
    d->fix_dead = 0;
    d->stats.session_recycles++;
    return 0;
}

int fm__decode_ipfix(fm_decoder_t *d, const uint8_t *buf, size_t len, uint64_t recv_ms)
{
    if (len < IPFIX_HDR) {
        return FM_ETRUNC;
    }
    size_t mlen = fm__be16(buf + 2);
    if (mlen < IPFIX_HDR) {
        return FM_EFORMAT;
    }
    if (mlen > len) {
        return FM_ETRUNC;
    }
    if (!d->ipfix && !(d->ipfix = fm__fix_new())) {
        return FM_ENOMEM;
    }
    if (session_bound(d) < 0) {
        return FM_ENOMEM;
    }
    struct fm__ipfix *x = d->ipfix;
    if (d->check && x->cap < mlen) {
        uint8_t *n = realloc(x->scratch, 65536);
        if (!n) {
            return FM_ENOMEM;
        }
        x->scratch = n;
        x->cap = 65536;
    }
    scan_t s = {.d = d, .hdr = buf, .now = recv_ms, .out = d->check ? x->scratch : NULL,
                .export_ms = (uint64_t)fm__be32(buf + 4) * 1000};
    d->export_ms = s.export_ms;
    int rc = fm__decode_domain(d, fm__be32(buf + 12), 10, &s.dom);
    if (rc < 0) {
        return rc;
    }
    rc = prescan(&s, buf, mlen);
    fm__decode_seq(d, s.dom, fm__be32(buf + 8), s.records);
    if (rc < 0 || s.unknown) {
        s.dom->seq_valid = false; /* this message's record count is not known */
    }
    if (__builtin_expect(d->check != NULL, 0)) {
        x->scratch[2] = (uint8_t)(s.w >> 8);
        x->scratch[3] = (uint8_t)s.w;
        fm__check_ipfix_message(d, x->scratch, s.w);
    }
    return rc;
}
