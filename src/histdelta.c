/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram delta wire format: splitting a delta into parts that fit a size limit and the
 * binary codec (see histdelta.h for the shapes; the JSON codec is in
 * histdelta_json.c).  Splitting is planned first from exact (binary) or upper-bound (JSON) byte
 * costs, then each part is written; a written part is checked against the limit so a costing
 * mistake is an error, never an oversized message.  The decoders run on messages from the
 * network (Kafka), so they never assert on input: each check fails with FM_EFORMAT and a message
 * saying which field is wrong.  The checks both codecs share are in histdelta_check.c.
 */
#include "config.h"

#include "histdelta_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"

#define NHISTS FM_HISTDELTA_NHISTS
#define MAGIC_LEN 4
#define VARINT_MAX 10 /* LEB128 of a uint64_t */

/* ---- binary codec: LEB128 varints ---- */

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* The header without part/parts (reserved at their largest) and nhists (1 byte: <= 24). */
static size_t bin_header_cost(const fm_histdelta_meta_t *m)
{
    size_t idlen = strlen(m->collector);
    return MAGIC_LEN + 1 + varint_len(idlen) + idlen + varint_len(m->run) + varint_len(m->seq) +
           2 * 5 + varint_len(m->window_start_ms) +
           varint_len(m->window_end_ms - m->window_start_ms) + varint_len(m->bin_exp) + 1;
}

static size_t bin_bin_cost(const fm_hist_bin_t *b, uint64_t prev_lo, bool first)
{
    return varint_len(first ? b->lo : b->lo - prev_lo) + varint_len(b->flows) +
           varint_len(b->packets) + varint_len(b->octets);
}

static int bin_encode(const fm_histdelta_meta_t *m, const fm__hd_src_t *src,
                      const fm__hd_plan_t *plan, fm_histdelta_part_t *out)
{
    size_t cap = bin_header_cost(m) + plan->nseg * (1 + VARINT_MAX), idlen = strlen(m->collector);
    uint8_t *buf, *p;

    for (size_t i = 0; i < plan->nseg; i++) {
        const fm__hd_seg_t *g = &plan->seg[i];
        cap += (g->to - g->from) * 4 * VARINT_MAX;
    }
    if (!(buf = malloc(cap))) {
        return FM_ENOMEM;
    }
    memcpy(buf, FM_HISTDELTA_MAGIC, MAGIC_LEN);
    p = buf + MAGIC_LEN;
    *p++ = FM_HISTDELTA_BIN_VERSION;
    p = put_varint(p, idlen);
    memcpy(p, m->collector, idlen);
    p += idlen;
    p = put_varint(p, m->run);
    p = put_varint(p, m->seq);
    p = put_varint(p, m->part);
    p = put_varint(p, m->parts);
    p = put_varint(p, m->window_start_ms);
    p = put_varint(p, m->window_end_ms - m->window_start_ms);
    p = put_varint(p, m->bin_exp);
    p = put_varint(p, plan->nseg);
    for (size_t i = 0; i < plan->nseg; i++) {
        const fm__hd_seg_t *g = &plan->seg[i];
        const fm_hist_bin_t *b = src->bins[g->hist];
        *p++ = (uint8_t)g->hist;
        p = put_varint(p, g->to - g->from);
        for (size_t k = g->from; k < g->to; k++) {
            p = put_varint(p, k == g->from ? b[k].lo : b[k].lo - b[k - 1].lo);
            p = put_varint(p, b[k].flows);
            p = put_varint(p, b[k].packets);
            p = put_varint(p, b[k].octets);
        }
    }
    out->data = (char *)buf;
    out->len = (size_t)(p - buf);
    return 0;
}

typedef struct {
    const uint8_t *p, *end;
} rd_t;

static int get_varint(fm__hd_dec_t *x, rd_t *r, const char *what, uint64_t *v)
{
    uint64_t val = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p == r->end) {
            return fm__hd_fail(x, FM_EFORMAT, "truncated at %s", what);
        }
        uint8_t byte = *r->p++;
        if (shift == 63 && byte > 1) {
            return fm__hd_fail(x, FM_EFORMAT, "%s exceeds 64 bits", what);
        }
        val |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *v = val;
            return 0;
        }
    }
    return fm__hd_fail(x, FM_EFORMAT, "%s exceeds 64 bits", what);
}

static int bin_decode_header(fm__hd_dec_t *x, rd_t *r, fm_histdelta_meta_t *m, uint64_t *nh)
{
    uint64_t v[7], idlen;
    static const char *const names[] = {"run", "seq", "part", "parts", "window_start_ms",
                                        "window length", "bin_exp"};
    int rc;

    if (r->end - r->p < MAGIC_LEN + 1 || memcmp(r->p, FM_HISTDELTA_MAGIC, MAGIC_LEN)) {
        return fm__hd_fail(x, FM_EFORMAT, "not a flowmix histogram delta");
    }
    r->p += MAGIC_LEN;
    if (*r->p != FM_HISTDELTA_BIN_VERSION) {
        return fm__hd_fail(x, FM_EVERSION, "binary version %u, this flowmix reads version %d",
                           *r->p, FM_HISTDELTA_BIN_VERSION);
    }
    r->p++;
    if ((rc = get_varint(x, r, "collector", &idlen)) < 0) {
        return rc;
    }
    if (idlen == 0 || idlen > FM_HISTDELTA_ID_MAX || idlen > (uint64_t)(r->end - r->p)) {
        return fm__hd_fail(x, FM_EFORMAT, "collector must be 1-%d printable characters without "
                           "spaces", FM_HISTDELTA_ID_MAX);
    }
    memcpy(m->collector, r->p, idlen);
    m->collector[idlen] = '\0';
    r->p += idlen;
    if (fm_histdelta_check_id(m->collector) < 0 || strlen(m->collector) != idlen) {
        return fm__hd_fail(x, FM_EFORMAT, "collector must be 1-%d printable characters without "
                           "spaces", FM_HISTDELTA_ID_MAX);
    }
    for (int i = 0; i < 7; i++) {
        if ((rc = get_varint(x, r, names[i], &v[i])) < 0) {
            return rc;
        }
    }
    if (v[3] == 0 || v[3] > UINT32_MAX || v[2] >= v[3]) {
        return fm__hd_fail(x, FM_EFORMAT, "part %" PRIu64 " of %" PRIu64 ": need part < parts",
                           v[2], v[3]);
    }
    if (v[5] == 0 || v[4] > UINT64_MAX - v[5]) {
        return fm__hd_fail(x, FM_EFORMAT, "window_end_ms must be after window_start_ms");
    }
    if (v[6] > 63) {
        return fm__hd_fail(x, FM_EFORMAT, "bin_exp %" PRIu64 " is out of range 0-63", v[6]);
    }
    m->run = v[0];
    m->seq = v[1];
    m->part = (uint32_t)v[2];
    m->parts = (uint32_t)v[3];
    m->window_start_ms = v[4];
    m->window_end_ms = v[4] + v[5];
    m->bin_exp = (unsigned)v[6];
    if ((rc = get_varint(x, r, "histogram count", nh)) < 0) {
        return rc;
    }
    return *nh > NHISTS ? fm__hd_fail(x, FM_EFORMAT, "more than %d histograms", NHISTS) : 0;
}

static int bin_decode_hist(fm__hd_dec_t *x, rd_t *r, size_t hi, int *prev_hist, unsigned bin_exp,
                           fm_histdelta_bins_t *out)
{
    char where[32];
    uint64_t nbins, v[4];
    unsigned hist;
    int rc;

    snprintf(where, sizeof(where), "hists[%zu]", hi);
    if (r->p == r->end) {
        return fm__hd_fail(x, FM_EFORMAT, "truncated at %s", where);
    }
    hist = *r->p++;
    if (hist >= NHISTS || (int)hist <= *prev_hist) {
        return fm__hd_fail(x, FM_EFORMAT, "%s: histogram index %u unknown or not ascending",
                           where, hist);
    }
    *prev_hist = (int)hist;
    if ((rc = get_varint(x, r, where, &nbins)) < 0) {
        return rc;
    }
    /* every bin takes at least 4 bytes: refuse counts the message cannot hold before looping */
    if (nbins == 0 || nbins > (uint64_t)(r->end - r->p) / 4) {
        return fm__hd_fail(x, FM_EFORMAT, "%s: bin count %" PRIu64 " does not fit the message",
                           where, nbins);
    }
    fm__hd_hist_begin(x);
    for (uint64_t bi = 0; bi < nbins; bi++) {
        for (int k = 0; k < 4; k++) {
            if ((rc = get_varint(x, r, where, &v[k])) < 0) {
                return rc;
            }
        }
        if (bi > 0 && __builtin_add_overflow(v[0], x->prev_lo, &v[0])) {
            return fm__hd_fail(x, FM_EFORMAT, "%s.bins[%" PRIu64 "]: bin_lo exceeds 64 bits",
                               where, bi);
        }
        if (bi > 0 && v[0] == x->prev_lo) {
            return fm__hd_fail(x, FM_EFORMAT, "%s.bins[%" PRIu64 "]: bins must be in ascending "
                               "bin_lo, each once", where, bi);
        }
        if ((rc = fm__hd_add_bin(x, where, bin_exp, hist, v, out)) < 0) {
            return rc;
        }
    }
    return 0;
}

static int bin_decode(fm__hd_dec_t *x, const char *buf, size_t len, fm_histdelta_meta_t *m,
                      fm_histdelta_bins_t *out)
{
    rd_t r = {(const uint8_t *)buf, (const uint8_t *)buf + len};
    uint64_t nh;
    int prev = -1, rc;

    if ((rc = bin_decode_header(x, &r, m, &nh)) < 0) {
        return rc;
    }
    for (size_t i = 0; i < nh; i++) {
        if ((rc = bin_decode_hist(x, &r, i, &prev, m->bin_exp, out)) < 0) {
            return rc;
        }
    }
    if (r.p != r.end) {
        return fm__hd_fail(x, FM_EFORMAT, "%zu bytes after the last histogram",
                           (size_t)(r.end - r.p));
    }
    return 0;
}

/* ---- splitting ---- */

typedef struct {
    fm_histdelta_enc_t enc;
    size_t header, hist, limit;
} costs_t;

static size_t bin_cost(const costs_t *c, const fm_hist_bin_t *b, size_t k)
{
    return c->enc == FM_HISTDELTA_JSON ? fm__hd_json_bin_cost(&b[k], k == 0)
                                       : bin_bin_cost(&b[k], k ? b[k - 1].lo : 0, k == 0);
}

static void plan_add_seg(fm__hd_plan_t *p, unsigned hist, size_t from, size_t to)
{
    p->seg = fm_xreallocarray(p->seg, p->nseg + 1, sizeof(*p->seg));
    p->seg[p->nseg++] = (fm__hd_seg_t){hist, from, to};
}

/* Greedy: fill each part up to the limit, cutting inside a histogram where needed (the part
 * after a cut restarts that histogram, its first bin_lo absolute). */
static int plan_parts(const fm__hd_src_t *src, const costs_t *c, fm__hd_plan_t **plans,
                      size_t *nplans)
{
    fm__hd_plan_t *pl = fm_xcalloc(1, sizeof(*pl));
    size_t np = 1, used = c->header;

    for (unsigned h = 0; h < NHISTS; h++) {
        const fm_hist_bin_t *b = src->bins[h];
        size_t from = 0;
        while (from < src->n[h]) {
            size_t k = from, room = c->limit - used;
            /* the first bin of a segment is costed as absolute (restart after a cut) */
            size_t need = c->hist + (c->enc == FM_HISTDELTA_JSON
                                         ? fm__hd_json_bin_cost(&b[k], true)
                                         : bin_bin_cost(&b[k], 0, true));
            if (need > room) {
                if (used == c->header) { /* one bin does not fit an empty part */
                    *plans = pl;
                    *nplans = np;
                    return FM_EINVAL;
                }
                pl = fm_xreallocarray(pl, np + 1, sizeof(*pl));
                pl[np++] = (fm__hd_plan_t){NULL, 0};
                used = c->header;
                continue;
            }
            used += need;
            for (k++; k < src->n[h]; k++) {
                size_t bc = bin_cost(c, b, k);
                if (bc > c->limit - used) {
                    break;
                }
                used += bc;
            }
            plan_add_seg(&pl[np - 1], h, from, k);
            from = k;
        }
    }
    *plans = pl;
    *nplans = np;
    return 0;
}

static void plans_free(fm__hd_plan_t *pl, size_t n)
{
    for (size_t i = 0; pl && i < n; i++) {
        free(pl[i].seg);
    }
    free(pl);
}

static void src_free(fm__hd_src_t *src)
{
    for (int h = 0; h < NHISTS; h++) {
        free(src->bins[h]);
    }
}

static int src_take(const fm_histset_t *set, fm__hd_src_t *src)
{
    memset(src, 0, sizeof(*src));
    for (unsigned h = 0; h < NHISTS; h++) {
        fm_class_t c;
        fm_dir_t d;
        fm_metric_t m;
        fm_histdelta_hist_split(h, &c, &d, &m);
        long n = fm_hist_bins(fm_histset_cget(set, c, d, m), &src->bins[h]);
        if (n < 0) {
            src_free(src);
            return (int)n;
        }
        src->n[h] = (size_t)n;
    }
    return 0;
}

static int check_meta(const fm_histdelta_meta_t *meta, const fm_histset_t *set, size_t max_bytes)
{
    if (fm_histdelta_check_id(meta->collector) < 0 ||
        meta->window_end_ms <= meta->window_start_ms || meta->bin_exp > 63 ||
        fm_hist_bin_exp(fm_histset_cget(set, FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_LENGTH)) !=
            meta->bin_exp ||
        (max_bytes && max_bytes < FM_HISTDELTA_MIN_PART)) {
        return FM_EINVAL;
    }
    return 0;
}

static int write_parts(const fm_histdelta_meta_t *meta, const fm__hd_src_t *src,
                       fm_histdelta_enc_t enc, size_t limit, const fm__hd_plan_t *pl, size_t np,
                       fm_histdelta_part_t *parts)
{
    for (size_t i = 0; i < np; i++) {
        fm_histdelta_meta_t m = *meta;
        int rc;
        m.part = (uint32_t)i;
        m.parts = (uint32_t)np;
        rc = enc == FM_HISTDELTA_JSON ? fm__hd_json_encode(&m, src, &pl[i], &parts[i])
                                      : bin_encode(&m, src, &pl[i], &parts[i]);
        if (rc < 0) {
            return rc;
        }
        if (parts[i].len > limit) { /* a costing bug: refuse rather than send too much */
            return FM_ELIMIT;
        }
    }
    return 0;
}

int fm_histdelta_encode_parts(const fm_histdelta_meta_t *meta, const fm_histset_t *set,
                              fm_histdelta_enc_t enc, size_t max_bytes,
                              fm_histdelta_part_t **parts, size_t *nparts)
{
    fm__hd_src_t src;
    fm__hd_plan_t *pl = NULL;
    size_t np = 0;
    costs_t c = {enc, 0, 0, max_bytes ? max_bytes : SIZE_MAX / 2};
    int rc;

    *parts = NULL;
    *nparts = 0;
    if ((rc = check_meta(meta, set, max_bytes)) < 0 || (rc = src_take(set, &src)) < 0) {
        return rc;
    }
    if (enc == FM_HISTDELTA_JSON) {
        c.header = fm__hd_json_header_cost(meta);
        c.hist = fm__hd_json_hist_cost();
        rc = fm__hd_json_check(meta, &src);
    } else {
        c.header = bin_header_cost(meta);
        c.hist = 1 + 5; /* index, bin count (< 2^35) */
    }
    if (rc == 0 && c.header >= c.limit) {
        rc = FM_EINVAL;
    }
    if (rc == 0) {
        rc = plan_parts(&src, &c, &pl, &np);
    }
    if (rc == 0 && np > UINT32_MAX) {
        rc = FM_ERANGE;
    }
    if (rc == 0) {
        *parts = fm_xcalloc(np, sizeof(**parts));
        *nparts = np;
        if ((rc = write_parts(meta, &src, enc, c.limit, pl, np, *parts)) < 0) {
            fm_histdelta_parts_free(*parts, np);
            *parts = NULL;
            *nparts = 0;
        }
    }
    plans_free(pl, np);
    src_free(&src);
    return rc;
}

void fm_histdelta_parts_free(fm_histdelta_part_t *parts, size_t nparts)
{
    for (size_t i = 0; parts && i < nparts; i++) {
        free(parts[i].data);
    }
    free(parts);
}

int fm_histdelta_encode(const fm_histdelta_meta_t *meta, const fm_histset_t *set, char **out,
                        size_t *len)
{
    fm_histdelta_part_t *parts;
    size_t n;
    int rc = fm_histdelta_encode_parts(meta, set, FM_HISTDELTA_JSON, 0, &parts, &n);

    *out = NULL;
    *len = 0;
    if (rc == 0) {
        *out = parts[0].data; /* no limit: always one part */
        *len = parts[0].len;
        parts[0].data = NULL;
        fm_histdelta_parts_free(parts, n);
    }
    return rc;
}

/* ---- decoding ---- */

int fm_histdelta_decode_bins(const char *buf, size_t len, fm_histdelta_meta_t *meta,
                             fm_histdelta_bins_t *bins, char *err, size_t errlen)
{
    fm__hd_dec_t x = {.err = err, .errlen = errlen};
    int rc;

    memset(meta, 0, sizeof(*meta));
    bins->n = 0;
    if (errlen) {
        err[0] = '\0';
    }
    if (len > FM_HISTDELTA_MAX_BYTES) {
        return fm__hd_fail(&x, FM_ELIMIT, "%zu bytes, more than the limit of %u", len,
                           FM_HISTDELTA_MAX_BYTES);
    }
    if (len >= MAGIC_LEN && !memcmp(buf, FM_HISTDELTA_MAGIC, MAGIC_LEN)) {
        rc = bin_decode(&x, buf, len, meta, bins);
    } else {
        rc = fm__hd_json_decode(&x, buf, len, meta, bins);
    }
    if (rc < 0) {
        bins->n = 0;
    }
    return rc;
}

void fm_histdelta_bins_free(fm_histdelta_bins_t *bins)
{
    free(bins->v);
    memset(bins, 0, sizeof(*bins));
}

int fm_histdelta_decode(const char *buf, size_t len, fm_histdelta_meta_t *meta,
                        fm_histset_t **out, char *err, size_t errlen)
{
    fm_histdelta_bins_t bins = {0};
    int rc = fm_histdelta_decode_bins(buf, len, meta, &bins, err, errlen);

    *out = NULL;
    if (rc == 0 && fm_histset_new(meta->bin_exp, out) < 0) {
        rc = FM_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < bins.n; i++) {
        fm_class_t c;
        fm_dir_t d;
        fm_metric_t m;
        fm_histdelta_hist_split(bins.v[i].hist, &c, &d, &m);
        if (fm_hist_add_bin(fm_histset_get(*out, c, d, m), &bins.v[i].bin) < 0) {
            rc = FM_ENOMEM;
        }
    }
    if (rc < 0 && *out) {
        fm_histset_free(*out);
        *out = NULL;
    }
    fm_histdelta_bins_free(&bins);
    return rc;
}
