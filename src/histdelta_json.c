/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram delta wire format, JSON codec ("flowmix.histdelta" documents, see histdelta.h).
 * Parsing uses jansson with JSON_REJECT_DUPLICATES (a key twice is ambiguous) and its bounded
 * nesting depth.  The byte costs below are upper bounds of what json_dumps writes, so the
 * splitter never plans a part that turns out too long.
 */
#include "config.h"

#include "histdelta_int.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/err.h"

#define NHISTS FM_HISTDELTA_NHISTS

/* ---- encoding ---- */

static size_t digits(uint64_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

size_t fm__hd_json_header_cost(const fm_histdelta_meta_t *meta)
{
    /* keys, punctuation and the fixed strings take < 200 bytes; numbers up to 20 digits each;
     * the id may need escaping ('"' and '\' are printable), so twice its length */
    return 200 + 8 * 20 + 2 * strlen(meta->collector);
}

size_t fm__hd_json_hist_cost(void)
{
    /* {"class":"other","direction":"uniflow","metric":"duration","bins":[]}, */
    return 80;
}

size_t fm__hd_json_bin_cost(const fm_hist_bin_t *b, bool first)
{
    (void)first;
    return digits(b->lo) + digits(b->flows) + digits(b->packets) + digits(b->octets) + 6;
}

static bool fits_json(uint64_t v)
{
    return v <= (uint64_t)INT64_MAX;
}

int fm__hd_json_check(const fm_histdelta_meta_t *meta, const fm__hd_src_t *src)
{
    if (!fits_json(meta->run) || !fits_json(meta->seq) || !fits_json(meta->window_end_ms)) {
        return FM_ERANGE;
    }
    for (int h = 0; h < NHISTS; h++) {
        for (size_t i = 0; i < src->n[h]; i++) {
            const fm_hist_bin_t *b = &src->bins[h][i];
            if (!fits_json(b->lo) || !fits_json(b->flows) || !fits_json(b->packets) ||
                !fits_json(b->octets)) {
                return FM_ERANGE;
            }
        }
    }
    return 0;
}

static json_t *seg_json(const fm__hd_src_t *src, const fm__hd_seg_t *g)
{
    json_t *arr = json_array();
    fm_class_t c;
    fm_dir_t d;
    fm_metric_t m;
    for (size_t k = g->from; arr && k < g->to; k++) {
        const fm_hist_bin_t *b = &src->bins[g->hist][k];
        if (json_array_append_new(arr, json_pack("[IIII]", (json_int_t)b->lo,
                                                 (json_int_t)b->flows, (json_int_t)b->packets,
                                                 (json_int_t)b->octets)) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    if (!arr) {
        return NULL;
    }
    fm_histdelta_hist_split(g->hist, &c, &d, &m);
    return json_pack("{ss ss ss so}", "class", fm_class_name(c), "direction", fm_dir_name(d),
                     "metric", fm_metric_name(m), "bins", arr);
}

int fm__hd_json_encode(const fm_histdelta_meta_t *meta, const fm__hd_src_t *src,
                       const fm__hd_plan_t *plan, fm_histdelta_part_t *out)
{
    json_t *doc, *hists = json_array();

    if (!hists) {
        return FM_ENOMEM;
    }
    for (size_t i = 0; i < plan->nseg; i++) {
        if (json_array_append_new(hists, seg_json(src, &plan->seg[i])) < 0) {
            json_decref(hists);
            return FM_ENOMEM;
        }
    }
    doc = json_pack("{ss si ss sI sI sI sI sI sI si so}", "format", FM_HISTDELTA_FORMAT,
                    "version", FM_HISTDELTA_VERSION, "collector", meta->collector, "run",
                    (json_int_t)meta->run, "seq", (json_int_t)meta->seq, "part",
                    (json_int_t)meta->part, "parts", (json_int_t)meta->parts,
                    "window_start_ms", (json_int_t)meta->window_start_ms, "window_end_ms",
                    (json_int_t)meta->window_end_ms, "bin_exp", (int)meta->bin_exp, "hists",
                    hists); /* "o" steals hists even on failure */
    if (!doc) {
        return FM_ENOMEM;
    }
    out->data = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!out->data) {
        return FM_ENOMEM;
    }
    out->len = strlen(out->data);
    return 0;
}

/* ---- decoding ---- */

/* A non-negative JSON integer (jansson already refuses integers beyond int64). */
static int get_u64(fm__hd_dec_t *x, const json_t *o, const char *key, uint64_t *v)
{
    const json_t *j = json_object_get(o, key);
    if (!j) {
        return fm__hd_fail(x, FM_EFORMAT, "missing \"%s\"", key);
    }
    if (!json_is_integer(j) || json_integer_value(j) < 0) {
        return fm__hd_fail(x, FM_EFORMAT, "\"%s\" must be a non-negative integer", key);
    }
    *v = (uint64_t)json_integer_value(j);
    return 0;
}

static int get_str(fm__hd_dec_t *x, const json_t *o, const char *key, const char **v)
{
    const json_t *j = json_object_get(o, key);
    if (!j || !json_is_string(j)) {
        return fm__hd_fail(x, FM_EFORMAT, "\"%s\" must be a string", key);
    }
    *v = json_string_value(j);
    return 0;
}

static int decode_version(fm__hd_dec_t *x, const json_t *doc, uint64_t *v)
{
    const char *s = NULL;
    int rc;

    if ((rc = get_str(x, doc, "format", &s)) < 0) {
        return rc;
    }
    if (strcmp(s, FM_HISTDELTA_FORMAT)) {
        return fm__hd_fail(x, FM_EFORMAT, "format is not " FM_HISTDELTA_FORMAT);
    }
    if ((rc = get_u64(x, doc, "version", v)) < 0) {
        return rc;
    }
    if (*v < 1 || *v > FM_HISTDELTA_VERSION) {
        return fm__hd_fail(x, FM_EVERSION, "version %" PRIu64 ", this flowmix reads versions "
                           "1 to %d", *v, FM_HISTDELTA_VERSION);
    }
    return 0;
}

/* part/parts: version 2 has them, a version 1 document is a whole delta (part 0 of 1). */
static int decode_part(fm__hd_dec_t *x, const json_t *doc, uint64_t version,
                       fm_histdelta_meta_t *m)
{
    uint64_t part = 0, parts = 1;
    int rc;
    if (version >= 2 && ((rc = get_u64(x, doc, "part", &part)) < 0 ||
                         (rc = get_u64(x, doc, "parts", &parts)) < 0)) {
        return rc;
    }
    if (parts == 0 || parts > UINT32_MAX || part >= parts) {
        return fm__hd_fail(x, FM_EFORMAT, "part %" PRIu64 " of %" PRIu64 ": need part < parts",
                           part, parts);
    }
    m->part = (uint32_t)part;
    m->parts = (uint32_t)parts;
    return 0;
}

static int decode_meta(fm__hd_dec_t *x, const json_t *doc, fm_histdelta_meta_t *m)
{
    const char *s = NULL;
    uint64_t version, b;
    int rc;

    if ((rc = decode_version(x, doc, &version)) < 0 ||
        (rc = get_str(x, doc, "collector", &s)) < 0) {
        return rc;
    }
    /* jansson refuses \u0000 unless asked (JSON_ALLOW_NUL); the length check keeps that so */
    if (fm_histdelta_check_id(s) < 0 ||
        strlen(s) != json_string_length(json_object_get(doc, "collector"))) {
        return fm__hd_fail(x, FM_EFORMAT, "collector must be 1-%d printable characters "
                           "without spaces", FM_HISTDELTA_ID_MAX);
    }
    memcpy(m->collector, s, strlen(s) + 1);
    if ((rc = get_u64(x, doc, "run", &m->run)) < 0 || (rc = get_u64(x, doc, "seq", &m->seq)) < 0 ||
        (rc = decode_part(x, doc, version, m)) < 0 ||
        (rc = get_u64(x, doc, "window_start_ms", &m->window_start_ms)) < 0 ||
        (rc = get_u64(x, doc, "window_end_ms", &m->window_end_ms)) < 0 ||
        (rc = get_u64(x, doc, "bin_exp", &b)) < 0) {
        return rc;
    }
    if (m->window_end_ms <= m->window_start_ms) {
        return fm__hd_fail(x, FM_EFORMAT, "window_end_ms must be after window_start_ms");
    }
    if (b > 63) {
        return fm__hd_fail(x, FM_EFORMAT, "bin_exp %" PRIu64 " is out of range 0-63", b);
    }
    m->bin_exp = (unsigned)b;
    return 0;
}

/* One [lo, flows, packets, octets] row. */
static int decode_bin(fm__hd_dec_t *x, const json_t *row, const char *where, unsigned bin_exp,
                      unsigned hist, fm_histdelta_bins_t *out)
{
    uint64_t v[4];

    if (!json_is_array(row) || json_array_size(row) != 4) {
        return fm__hd_fail(x, FM_EFORMAT, "%s.bins[%zu]: expected [bin_lo, flows, packets, "
                           "octets]", where, x->nbin);
    }
    for (size_t k = 0; k < 4; k++) {
        const json_t *j = json_array_get(row, k);
        if (!json_is_integer(j) || json_integer_value(j) < 0) {
            return fm__hd_fail(x, FM_EFORMAT, "%s.bins[%zu]: values must be non-negative "
                               "integers", where, x->nbin);
        }
        v[k] = (uint64_t)json_integer_value(j);
    }
    return fm__hd_add_bin(x, where, bin_exp, hist, v, out);
}

static int decode_hist(fm__hd_dec_t *x, const json_t *e, size_t hi, unsigned bin_exp,
                       bool seen[], fm_histdelta_bins_t *out)
{
    const char *cs = NULL, *ds = NULL, *ms = NULL;
    const json_t *bins;
    char where[32];
    int c, d, m, rc;

    snprintf(where, sizeof(where), "hists[%zu]", hi);
    if (!json_is_object(e) || json_object_size(e) != 4) {
        return fm__hd_fail(x, FM_EFORMAT, "%s: expected {class, direction, metric, bins}", where);
    }
    if ((rc = get_str(x, e, "class", &cs)) < 0 || (rc = get_str(x, e, "direction", &ds)) < 0 ||
        (rc = get_str(x, e, "metric", &ms)) < 0) {
        return fm__hd_fail(x, rc, "%s: class, direction and metric must be strings", where);
    }
    c = fm_class_parse(cs);
    d = fm_dir_parse(ds);
    m = fm_metric_parse(ms);
    if (c < 0 || c >= FM_CLASS_COUNT || d < 0 || m < 0) {
        return fm__hd_fail(x, FM_EFORMAT, "%s: unknown class, direction or metric", where);
    }
    unsigned hist = (unsigned)((c * FM_DIR_COUNT + d) * FM_METRIC_COUNT + m);
    if (seen[hist]) {
        return fm__hd_fail(x, FM_EFORMAT, "%s: %s/%s/%s appears twice", where, cs, ds, ms);
    }
    seen[hist] = true;
    bins = json_object_get(e, "bins");
    if (!json_is_array(bins)) {
        return fm__hd_fail(x, FM_EFORMAT, "%s: bins must be an array", where);
    }
    fm__hd_hist_begin(x);
    for (size_t bi = 0; bi < json_array_size(bins); bi++) {
        if ((rc = decode_bin(x, json_array_get(bins, bi), where, bin_exp, hist, out)) < 0) {
            return rc;
        }
    }
    return 0;
}

static int decode_doc(fm__hd_dec_t *x, const json_t *doc, fm_histdelta_meta_t *meta,
                      fm_histdelta_bins_t *out)
{
    const json_t *hists;
    bool seen[NHISTS] = {false};
    int rc;

    if (!json_is_object(doc)) {
        return fm__hd_fail(x, FM_EFORMAT, "not a JSON object");
    }
    if ((rc = decode_meta(x, doc, meta)) < 0) {
        return rc;
    }
    hists = json_object_get(doc, "hists");
    if (!json_is_array(hists)) {
        return fm__hd_fail(x, FM_EFORMAT, "\"hists\" must be an array");
    }
    if (json_array_size(hists) > NHISTS) {
        return fm__hd_fail(x, FM_EFORMAT, "more than %d histograms", NHISTS);
    }
    for (size_t i = 0; i < json_array_size(hists); i++) {
        if ((rc = decode_hist(x, json_array_get(hists, i), i, meta->bin_exp, seen, out)) < 0) {
            return rc;
        }
    }
    return 0;
}

int fm__hd_json_decode(fm__hd_dec_t *x, const char *buf, size_t len, fm_histdelta_meta_t *meta,
                       fm_histdelta_bins_t *bins)
{
    json_error_t jerr;
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc;

    if (!doc) {
        return fm__hd_fail(x, FM_EFORMAT, "not JSON: %s (at byte %d)", jerr.text, jerr.position);
    }
    rc = decode_doc(x, doc, meta, bins);
    json_decref(doc);
    return rc;
}
